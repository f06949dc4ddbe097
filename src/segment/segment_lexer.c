/*
 * segment_lexer.c
 *	  Cuts segment text into tokens: case-insensitive keywords, identifiers,
 *	  quoted names, string and number literals and operators (DESIGN §7).
 */
#include "segment/segment_lexer.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct
{
	const char *word;
	SegKeyword	keyword;
}			keywords[] =
{
	{"and", SEG_KW_AND},
	{"between", SEG_KW_BETWEEN},
	{"contains", SEG_KW_CONTAINS},
	{"count", SEG_KW_COUNT},
	{"day", SEG_KW_DAYS},
	{"days", SEG_KW_DAYS},
	{"document", SEG_KW_DOCUMENT},
	{"event", SEG_KW_EVENT},
	{"false", SEG_KW_FALSE},
	{"has", SEG_KW_HAS},
	{"hour", SEG_KW_HOURS},
	{"hours", SEG_KW_HOURS},
	{"ilike", SEG_KW_ILIKE},
	{"in", SEG_KW_IN},
	{"is", SEG_KW_IS},
	{"like", SEG_KW_LIKE},
	{"not", SEG_KW_NOT},
	{"now", SEG_KW_NOW},
	{"null", SEG_KW_NULL},
	{"or", SEG_KW_OR},
	{"organization", SEG_KW_ORGANIZATION},
	{"profile", SEG_KW_PROFILE},
	{"segment", SEG_KW_SEGMENT},
	{"tag", SEG_KW_TAG},
	{"true", SEG_KW_TRUE},
	{"under", SEG_KW_UNDER},
	{"validated", SEG_KW_VALIDATED},
	{"where", SEG_KW_WHERE},
	{"within", SEG_KW_WITHIN},
};

bool
seg_set_error(SegError *err, SegErrorCode code, size_t position,
			  const char *detail, const char *fmt,...)
{
	va_list		ap;

	err->code = code;
	err->position = position;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	snprintf(err->detail, sizeof(err->detail), "%s", detail ? detail : "");
	return false;
}

/* ASCII only: keywords must not depend on the locale. */
static inline char
ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static inline bool
is_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static inline bool
is_ident_char(unsigned char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static inline bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

SegKeyword
seg_keyword_lookup(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
	{
		const char *w = keywords[i].word;
		size_t		j;

		if (strlen(w) != len)
			continue;
		for (j = 0; j < len; j++)
			if (ascii_lower(s[j]) != w[j])
				break;
		if (j == len)
			return keywords[i].keyword;
	}
	return SEG_KW_NONE;
}

/* The end of the number that starts at s[pos], or pos if there is none. */
static size_t
scan_number(const char *s, size_t len, size_t pos)
{
	size_t		p = pos;

	if (p < len && s[p] == '-')
		p++;
	if (p >= len || !is_digit(s[p]))
		return pos;
	while (p < len && is_digit(s[p]))
		p++;
	if (p + 1 < len && s[p] == '.' && is_digit(s[p + 1]))
	{
		p++;
		while (p < len && is_digit(s[p]))
			p++;
	}
	if (p < len && (s[p] == 'e' || s[p] == 'E'))
	{
		size_t		q = p + 1;

		if (q < len && (s[q] == '+' || s[q] == '-'))
			q++;
		if (q < len && is_digit(s[q]))
		{
			while (q < len && is_digit(s[q]))
				q++;
			p = q;
		}
	}
	return p;
}

bool
seg_valid_number(const char *s, size_t len)
{
	return len > 0 && len <= SEG_MAX_NUMBER && scan_number(s, len, 0) == len;
}

void
seg_lexer_init(SegLexer *lex, const char *text, size_t len,
			   SegArena *arena, SegError *err)
{
	lex->text = text;
	lex->len = len;
	lex->pos = 0;
	lex->arena = arena;
	lex->err = err;
}

static char *
copy_text(SegLexer *lex, const char *s, size_t len)
{
	char	   *c = lex->arena->alloc(lex->arena->ctx, len + 1);

	if (c == NULL)
		return NULL;
	memcpy(c, s, len);
	c[len] = '\0';
	return c;
}

/*
 * Name a byte that cannot start a token: the whole UTF-8 character when the
 * bytes form one, else the byte in hex, so the message is always printable.
 */
static bool
bad_character(SegLexer *lex, size_t pos, const char *where)
{
	const unsigned char *s = (const unsigned char *) lex->text + pos;
	size_t		left = lex->len - pos;
	size_t		n = 0;

	if (s[0] >= 0x21 && s[0] < 0x7f)
		n = 1;
	else if (s[0] >= 0xc2 && s[0] <= 0xf4)
	{
		size_t		need = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
		size_t		i;

		for (i = 1; i < need && i < left; i++)
			if ((s[i] & 0xc0) != 0x80)
				break;
		if (i == need)
			n = need;
	}
	if (n > 0)
		return seg_set_error(lex->err, SEG_ERR_SYNTAX, pos, NULL,
							 "unexpected character \"%.*s\"%s", (int) n,
							 (const char *) s, where);
	return seg_set_error(lex->err, SEG_ERR_SYNTAX, pos, NULL,
						 "unexpected byte 0x%02x%s", s[0], where);
}

/*
 * A quoted string or identifier: the quote character doubled stands for
 * itself, nothing else is special.  NUL is refused because the value is a
 * C string.
 */
static bool
lex_quoted(SegLexer *lex, SegToken *tok, char quote)
{
	const char *s = lex->text;
	size_t		start = lex->pos;
	size_t		p = start + 1;
	size_t		n = 0;
	char	   *out;

	/* first pass: find the end and the unescaped length */
	for (;;)
	{
		if (p >= lex->len)
			return seg_set_error(lex->err, SEG_ERR_SYNTAX, start, NULL,
								 quote == '\'' ? "unterminated string literal"
								 : "unterminated quoted identifier");
		if (s[p] == '\0')
			return bad_character(lex, p, quote == '\'' ? " in a string literal"
								 : " in a quoted identifier");
		if (s[p] == quote)
		{
			if (p + 1 < lex->len && s[p + 1] == quote)
				p++;
			else
				break;
		}
		p++;
		n++;
	}
	out = lex->arena->alloc(lex->arena->ctx, n + 1);
	if (out == NULL)
		return seg_set_error(lex->err, SEG_ERR_NO_MEMORY, start, NULL, "out of memory");
	n = 0;
	for (size_t i = start + 1; i < p; i++)
	{
		out[n++] = s[i];
		if (s[i] == quote)
			i++;
	}
	out[n] = '\0';
	tok->value = out;
	tok->value_len = n;
	tok->start = start;
	tok->len = p + 1 - start;
	lex->pos = p + 1;
	if (quote == '"')
	{
		tok->kind = SEG_TOK_QIDENT;
		if (n == 0)
			return seg_set_error(lex->err, SEG_ERR_SYNTAX, start, NULL,
								 "zero-length quoted identifier");
		if (n > SEG_MAX_NAME)
			return seg_set_error(lex->err, SEG_ERR_TOO_LONG, start,
								 "The limit is 63 bytes.", "name is too long");
	}
	else
		tok->kind = SEG_TOK_STRING;
	return true;
}

bool
seg_lex(SegLexer *lex, SegToken *tok)
{
	const char *s = lex->text;
	size_t		p = lex->pos;
	unsigned char c;

	memset(tok, 0, sizeof(*tok));
	while (p < lex->len && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' ||
							s[p] == '\r' || s[p] == '\f' || s[p] == '\v'))
		p++;
	lex->pos = p;
	tok->start = p;
	if (p >= lex->len)
	{
		tok->kind = SEG_TOK_END;
		return true;
	}
	c = (unsigned char) s[p];

	if (is_ident_start(c))
	{
		size_t		e = p;

		while (e < lex->len && is_ident_char((unsigned char) s[e]))
			e++;
		tok->len = e - p;
		if (tok->len > SEG_MAX_NAME)
			return seg_set_error(lex->err, SEG_ERR_TOO_LONG, p,
								 "The limit is 63 bytes.", "name is too long");
		tok->keyword = seg_keyword_lookup(s + p, tok->len);
		tok->kind = tok->keyword != SEG_KW_NONE ? SEG_TOK_KEYWORD : SEG_TOK_IDENT;
		tok->value = copy_text(lex, s + p, tok->len);
		if (tok->value == NULL)
			return seg_set_error(lex->err, SEG_ERR_NO_MEMORY, p, NULL, "out of memory");
		tok->value_len = tok->len;
		lex->pos = e;
		return true;
	}
	if (c == '\'' || c == '"')
		return lex_quoted(lex, tok, (char) c);
	if (is_digit(c) || (c == '-' && p + 1 < lex->len && is_digit(s[p + 1])))
	{
		size_t		e = scan_number(s, lex->len, p);

		tok->kind = SEG_TOK_NUMBER;
		tok->len = e - p;
		if (tok->len > SEG_MAX_NUMBER)
			return seg_set_error(lex->err, SEG_ERR_TOO_LONG, p,
								 "The limit is 100 characters.",
								 "number is too long");
		tok->value = copy_text(lex, s + p, tok->len);
		if (tok->value == NULL)
			return seg_set_error(lex->err, SEG_ERR_NO_MEMORY, p, NULL, "out of memory");
		tok->value_len = tok->len;
		lex->pos = e;
		return true;
	}

	tok->len = 1;
	switch (c)
	{
		case '(':
			tok->kind = SEG_TOK_LPAREN;
			break;
		case ')':
			tok->kind = SEG_TOK_RPAREN;
			break;
		case ',':
			tok->kind = SEG_TOK_COMMA;
			break;
		case '.':
			tok->kind = SEG_TOK_DOT;
			break;
		case '+':
			tok->kind = SEG_TOK_PLUS;
			break;
		case '-':
			tok->kind = SEG_TOK_MINUS;
			break;
		case '=':
			tok->kind = SEG_TOK_OP;
			tok->op = SEG_OP_EQ;
			break;
		case '!':
			if (p + 1 < lex->len && s[p + 1] == '=')
			{
				tok->kind = SEG_TOK_OP;
				tok->op = SEG_OP_NE;
				tok->len = 2;
				break;
			}
			return bad_character(lex, p, "");
		case '<':
			tok->kind = SEG_TOK_OP;
			tok->op = SEG_OP_LT;
			if (p + 1 < lex->len && s[p + 1] == '=')
			{
				tok->op = SEG_OP_LE;
				tok->len = 2;
			}
			else if (p + 1 < lex->len && s[p + 1] == '>')
			{
				tok->op = SEG_OP_NE;
				tok->len = 2;
			}
			break;
		case '>':
			tok->kind = SEG_TOK_OP;
			tok->op = SEG_OP_GT;
			if (p + 1 < lex->len && s[p + 1] == '=')
			{
				tok->op = SEG_OP_GE;
				tok->len = 2;
			}
			break;
		default:
			return bad_character(lex, p, "");
	}
	lex->pos = p + tok->len;
	return true;
}
