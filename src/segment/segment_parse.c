/*
 * segment_parse.c
 *	  The recursive-descent parser of the segment language (DESIGN §7): turns
 *	  text into the SegNode tree of segment_ast.h, or a precise error.
 */
#include "segment/segment_lexer.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

typedef struct Parser
{
	SegLexer	lex;
	SegToken	tok;			/* the current token */
	SegToken	ahead;			/* the one after it, once peeked */
	bool		have_ahead;
	SegArena   *arena;
	SegError   *err;
	int			nodes;
	jmp_buf		fail;
} Parser;

typedef struct NodeList
{
	SegNode   **items;
	int			n;
	int			cap;
} NodeList;

static SegNode *parse_expr(Parser *p, int depth);
static SegNode *parse_factor(Parser *p, int depth);

/* Every error leaves through here: the arena owns all memory, so no cleanup. */
static void
fail(Parser *p)
{
	longjmp(p->fail, 1);
}

static void *
alloc(Parser *p, size_t size)
{
	void	   *m = p->arena->alloc(p->arena->ctx, size);

	if (m == NULL)
	{
		seg_set_error(p->err, SEG_ERR_NO_MEMORY, p->tok.start, NULL, "out of memory");
		fail(p);
	}
	return m;
}

static void
advance(Parser *p)
{
	if (p->have_ahead)
	{
		p->tok = p->ahead;
		p->have_ahead = false;
	}
	else if (!seg_lex(&p->lex, &p->tok))
		fail(p);
}

static const SegToken *
peek(Parser *p)
{
	if (!p->have_ahead)
	{
		if (!seg_lex(&p->lex, &p->ahead))
			fail(p);
		p->have_ahead = true;
	}
	return &p->ahead;
}

static bool
is_kw(const SegToken *t, SegKeyword kw)
{
	return t->kind == SEG_TOK_KEYWORD && t->keyword == kw;
}

/*
 * Append up to max bytes of s to buf as they are, cutting only at a UTF-8
 * character boundary so the message stays valid text.
 */
static void
clip(char *buf, size_t bufsize, const char *s, size_t len, size_t max)
{
	size_t		n = len;
	size_t		used = strlen(buf);

	if (n > max)
	{
		n = max;
		while (n > 0 && ((unsigned char) s[n] & 0xc0) == 0x80)
			n--;
	}
	snprintf(buf + used, bufsize - used, "%.*s%s", (int) n, s, n < len ? "..." : "");
}

/* How an error message names a token: "and", string 'x', end of input. */
static void
describe(Parser *p, const SegToken *t, char *buf, size_t bufsize)
{
	const char *src = p->lex.text + t->start;

	buf[0] = '\0';
	switch (t->kind)
	{
		case SEG_TOK_END:
			snprintf(buf, bufsize, "end of input");
			return;
		case SEG_TOK_STRING:
			snprintf(buf, bufsize, "string ");
			break;
		case SEG_TOK_NUMBER:
			snprintf(buf, bufsize, "number ");
			break;
		case SEG_TOK_QIDENT:
			snprintf(buf, bufsize, "identifier ");
			break;
		default:
			snprintf(buf, bufsize, "\"");
			break;
	}
	clip(buf, bufsize, src, t->len, 40);
	if (t->kind != SEG_TOK_STRING && t->kind != SEG_TOK_NUMBER &&
		t->kind != SEG_TOK_QIDENT)
		snprintf(buf + strlen(buf), bufsize - strlen(buf), "\"");
}

/* expected <what> [after "<after>"] but found <the current token> */
static void
expected(Parser *p, const char *what, const char *after, size_t after_len)
{
	char		found[80];
	char		prev[80] = "";

	describe(p, &p->tok, found, sizeof(found));
	if (after != NULL)
		clip(prev, sizeof(prev), after, after_len, 40);
	seg_set_error(p->err, SEG_ERR_SYNTAX, p->tok.start, NULL,
				  "expected %s%s%s%s but found %s", what,
				  after ? " after \"" : "", prev, after ? "\"" : "", found);
	fail(p);
}

/* expected <what> after the keyword just read (its source text in kw) */
static void
expected_after(Parser *p, const char *what, const SegToken *kw)
{
	expected(p, what, p->lex.text + kw->start, kw->len);
}

static void
check_depth(Parser *p, int depth)
{
	if (depth + 1 > SEG_MAX_DEPTH)
	{
		seg_set_error(p->err, SEG_ERR_TOO_DEEP, p->tok.start,
					  "The limit is 64 levels.", "segment nests too deeply");
		fail(p);
	}
}

static SegNode *
new_node(Parser *p, SegNodeKind kind, size_t position)
{
	SegNode    *n;

	if (++p->nodes > SEG_MAX_NODES)
	{
		seg_set_error(p->err, SEG_ERR_TOO_LONG, position,
					  "The limit is 4096 nodes (conditions, and, or, not).",
					  "segment has too many nodes");
		fail(p);
	}
	n = alloc(p, sizeof(SegNode));
	n->kind = kind;
	n->position = (int) position;
	return n;
}

static void
list_add(Parser *p, NodeList *l, SegNode *n)
{
	if (l->n == l->cap)
	{
		int			cap = l->cap ? l->cap * 2 : 4;
		SegNode   **items = alloc(p, sizeof(SegNode *) * cap);

		if (l->n > 0)
			memcpy(items, l->items, sizeof(SegNode *) * l->n);
		l->items = items;
		l->cap = cap;
	}
	l->items[l->n++] = n;
}

/* AND and OR are n-ary: "(a and b) and c" is one AND of three. */
static void
list_add_flat(Parser *p, NodeList *l, SegNode *n, SegNodeKind kind)
{
	if (n->kind == kind)
	{
		for (int i = 0; i < n->nchildren; i++)
			list_add(p, l, n->children[i]);
	}
	else
		list_add(p, l, n);
}

static SegNode *
parse_bool_list(Parser *p, int depth, SegNodeKind kind)
{
	SegKeyword	kw = kind == SEG_OR ? SEG_KW_OR : SEG_KW_AND;
	SegNode    *first;
	SegNode    *node;
	NodeList	l = {0};

	first = kind == SEG_OR ? parse_bool_list(p, depth, SEG_AND) : parse_factor(p, depth);
	if (!is_kw(&p->tok, kw))
		return first;
	node = new_node(p, kind, first->position);
	list_add_flat(p, &l, first, kind);
	while (is_kw(&p->tok, kw))
	{
		advance(p);
		list_add_flat(p, &l,
					  kind == SEG_OR ? parse_bool_list(p, depth, SEG_AND)
					  : parse_factor(p, depth),
					  kind);
	}
	node->children = l.items;
	node->nchildren = l.n;
	return node;
}

static SegNode *
parse_expr(Parser *p, int depth)
{
	return parse_bool_list(p, depth, SEG_OR);
}

/* "(" expr ")" as the body of a quantifier, one nesting level deeper */
static SegNode *
parse_body(Parser *p, int depth, const SegToken *after)
{
	SegNode    *body;

	if (p->tok.kind != SEG_TOK_LPAREN)
		expected_after(p, "\"(\"", after);
	check_depth(p, depth);
	advance(p);
	body = parse_expr(p, depth + 1);
	if (p->tok.kind != SEG_TOK_RPAREN)
		expected(p, "\")\"", NULL, 0);
	advance(p);
	return body;
}

static const char *
expect_string(Parser *p, const SegToken *after)
{
	const char *s;

	if (p->tok.kind != SEG_TOK_STRING)
		expected_after(p, "a string", after);
	s = p->tok.value;
	advance(p);
	return s;
}

/* a profile, kind, template or taxonomy: a bare or quoted identifier */
static const char *
expect_name(Parser *p, const char *what, const SegToken *after)
{
	const char *s;

	if (p->tok.kind != SEG_TOK_IDENT && p->tok.kind != SEG_TOK_QIDENT)
		expected_after(p, what, after);
	s = p->tok.value;
	advance(p);
	return s;
}

static SegOp
expect_op(Parser *p, const SegToken *after)
{
	SegOp		op;

	if (p->tok.kind != SEG_TOK_OP)
		expected_after(p, "an operator", after);
	op = p->tok.op;
	advance(p);
	return op;
}

/* COUNT and WITHIN take plain digits that fit int64 */
static int64_t
expect_integer(Parser *p, const SegToken *after, bool positive)
{
	const char *what = positive ? "a positive whole number" : "a whole number";
	int64_t		v = 0;

	if (p->tok.kind != SEG_TOK_NUMBER)
		expected_after(p, what, after);
	for (size_t i = 0; i < p->tok.value_len; i++)
	{
		char		c = p->tok.value[i];

		if (c < '0' || c > '9')
			expected_after(p, what, after);
		if (v > (INT64_MAX - (c - '0')) / 10)
		{
			seg_set_error(p->err, SEG_ERR_SYNTAX, p->tok.start, NULL,
						  "number after \"%.*s\" is out of range",
						  (int) after->len, p->lex.text + after->start);
			fail(p);
		}
		v = v * 10 + (c - '0');
	}
	if (positive && v == 0)
		expected_after(p, what, after);
	advance(p);
	return v;
}

/* literal := 'string' | number | true | false | now() [(+|-) interval 'text'] */
static void
parse_literal(Parser *p, SegLiteral *lit, const SegToken *after)
{
	memset(lit, 0, sizeof(*lit));
	switch (p->tok.kind)
	{
		case SEG_TOK_STRING:
			lit->kind = SEG_LIT_STRING;
			lit->text = p->tok.value;
			advance(p);
			return;
		case SEG_TOK_NUMBER:
			lit->kind = SEG_LIT_NUMBER;
			lit->text = p->tok.value;
			advance(p);
			return;
		case SEG_TOK_KEYWORD:
			if (p->tok.keyword == SEG_KW_TRUE || p->tok.keyword == SEG_KW_FALSE)
			{
				lit->kind = SEG_LIT_BOOL;
				lit->boolean = p->tok.keyword == SEG_KW_TRUE;
				advance(p);
				return;
			}
			if (p->tok.keyword == SEG_KW_NOW)
			{
				SegToken	kw = p->tok;

				lit->kind = SEG_LIT_NOW;
				advance(p);
				if (p->tok.kind != SEG_TOK_LPAREN)
					expected_after(p, "\"(\"", &kw);
				kw = p->tok;
				advance(p);
				if (p->tok.kind != SEG_TOK_RPAREN)
					expected_after(p, "\")\"", &kw);
				advance(p);
				if (p->tok.kind == SEG_TOK_PLUS || p->tok.kind == SEG_TOK_MINUS)
				{
					lit->now_sign = p->tok.kind == SEG_TOK_PLUS ? 1 : -1;
					kw = p->tok;
					advance(p);
					if (p->tok.kind != SEG_TOK_IDENT ||
						strcmp(p->tok.value, "interval") != 0)
					{
						/* "interval" is matched in any case, like a keyword */
						bool		ok = p->tok.kind == SEG_TOK_IDENT &&
							p->tok.value_len == 8;

						for (int i = 0; ok && i < 8; i++)
						{
							char		c = p->tok.value[i];

							if (c >= 'A' && c <= 'Z')
								c += 'a' - 'A';
							ok = c == "interval"[i];
						}
						if (!ok)
							expected_after(p, "\"interval\"", &kw);
					}
					kw = p->tok;
					advance(p);
					lit->interval = expect_string(p, &kw);
				}
				return;
			}
			break;
		default:
			break;
	}
	expected_after(p, "a literal", after);
}

/* The operator part of a condition on qualifier.field. */
static SegNode *
parse_ref_condition(Parser *p, size_t start)
{
	SegNode    *node;
	SegToken	q = p->tok;
	SegToken	kw;
	const char *qualifier;
	const char *field;
	const char *ref = p->lex.text + start;
	size_t		ref_len;
	bool		negated = false;

	/* keywords are case-insensitive, so ORGANIZATION.name is organization.name */
	if (q.kind == SEG_TOK_KEYWORD)
	{
		char	   *lower = alloc(p, q.value_len + 1);

		for (size_t i = 0; i < q.value_len; i++)
		{
			char		c = q.value[i];

			lower[i] = (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
		}
		qualifier = lower;
	}
	else
		qualifier = q.value;
	advance(p);					/* the qualifier */
	kw = p->tok;
	advance(p);					/* the dot */
	if (p->tok.kind != SEG_TOK_IDENT && p->tok.kind != SEG_TOK_QIDENT &&
		p->tok.kind != SEG_TOK_KEYWORD)
		expected(p, "a field name", ref, kw.start + kw.len - start);
	field = p->tok.value;
	ref_len = p->tok.start + p->tok.len - start;
	advance(p);

	node = new_node(p, SEG_COMPARE, start);
	node->qualifier = qualifier;
	node->field = field;

	if (p->tok.kind == SEG_TOK_OP)
	{
		node->op = p->tok.op;
		kw = p->tok;
		advance(p);
		node->lits = alloc(p, sizeof(SegLiteral));
		node->nlits = 1;
		parse_literal(p, &node->lits[0], &kw);
		return node;
	}
	if (is_kw(&p->tok, SEG_KW_NOT))
	{
		negated = true;
		kw = p->tok;
		advance(p);
		if (!is_kw(&p->tok, SEG_KW_IN) && !is_kw(&p->tok, SEG_KW_BETWEEN) &&
			!is_kw(&p->tok, SEG_KW_LIKE) && !is_kw(&p->tok, SEG_KW_ILIKE))
			expected_after(p, "\"in\", \"between\", \"like\" or \"ilike\"", &kw);
	}
	node->negated = negated;
	kw = p->tok;
	if (p->tok.kind == SEG_TOK_KEYWORD)
	{
		switch (p->tok.keyword)
		{
			case SEG_KW_IN:
				{
					int			cap = 4;
					SegLiteral *lits = alloc(p, sizeof(SegLiteral) * cap);
					int			n = 0;

					node->kind = SEG_IN;
					advance(p);
					if (p->tok.kind != SEG_TOK_LPAREN)
						expected_after(p, "\"(\"", &kw);
					do
					{
						kw = p->tok;	/* "(" or "," */
						advance(p);
						if (n == SEG_MAX_LIST)
						{
							seg_set_error(p->err, SEG_ERR_TOO_LONG, p->tok.start,
										  "The limit is 1000 values.",
										  "in list has too many values");
							fail(p);
						}
						if (n == cap)
						{
							SegLiteral *more = alloc(p, sizeof(SegLiteral) * cap * 2);

							memcpy(more, lits, sizeof(SegLiteral) * n);
							lits = more;
							cap *= 2;
						}
						parse_literal(p, &lits[n++], &kw);
					} while (p->tok.kind == SEG_TOK_COMMA);
					if (p->tok.kind != SEG_TOK_RPAREN)
						expected(p, "\",\" or \")\"", NULL, 0);
					advance(p);
					node->lits = lits;
					node->nlits = n;
					return node;
				}
			case SEG_KW_BETWEEN:
				node->kind = SEG_BETWEEN;
				advance(p);
				node->lits = alloc(p, sizeof(SegLiteral) * 2);
				node->nlits = 2;
				parse_literal(p, &node->lits[0], &kw);
				if (!is_kw(&p->tok, SEG_KW_AND))
					expected(p, "\"and\"", NULL, 0);
				kw = p->tok;
				advance(p);
				parse_literal(p, &node->lits[1], &kw);
				return node;
			case SEG_KW_IS:
				node->kind = SEG_IS_NULL;
				advance(p);
				if (is_kw(&p->tok, SEG_KW_NOT))
				{
					node->negated = true;
					kw = p->tok;
					advance(p);
				}
				if (!is_kw(&p->tok, SEG_KW_NULL))
					expected_after(p, "\"null\"", &kw);
				advance(p);
				return node;
			case SEG_KW_LIKE:
			case SEG_KW_ILIKE:
				node->kind = SEG_LIKE;
				node->flag = p->tok.keyword == SEG_KW_ILIKE;
				advance(p);
				node->lits = alloc(p, sizeof(SegLiteral));
				node->nlits = 1;
				node->lits[0].kind = SEG_LIT_STRING;
				node->lits[0].text = expect_string(p, &kw);
				return node;
			case SEG_KW_CONTAINS:
				node->kind = SEG_CONTAINS;
				advance(p);
				node->lits = alloc(p, sizeof(SegLiteral));
				node->nlits = 1;
				parse_literal(p, &node->lits[0], &kw);
				return node;
			default:
				break;
		}
	}
	expected(p, "an operator", ref, ref_len);
	return NULL;				/* not reached */
}

static SegNode *
parse_condition(Parser *p, int depth)
{
	SegToken	kw = p->tok;
	size_t		start = p->tok.start;
	SegNode    *node;

	if ((p->tok.kind == SEG_TOK_IDENT || p->tok.kind == SEG_TOK_QIDENT ||
		 p->tok.kind == SEG_TOK_KEYWORD) && peek(p)->kind == SEG_TOK_DOT)
		return parse_ref_condition(p, start);

	if (p->tok.kind == SEG_TOK_IDENT || p->tok.kind == SEG_TOK_QIDENT)
	{
		const SegToken *next = peek(p);

		if (!is_kw(next, SEG_KW_IS) && !is_kw(next, SEG_KW_UNDER))
		{
			advance(p);
			expected_after(p, "\".\", \"is\" or \"under\"", &kw);
		}
		node = new_node(p, SEG_TERM, start);
		node->qualifier = p->tok.value;
		advance(p);
		node->flag = is_kw(&p->tok, SEG_KW_UNDER);
		kw = p->tok;
		advance(p);
		node->name = expect_string(p, &kw);
		return node;
	}

	if (p->tok.kind != SEG_TOK_KEYWORD)
		expected(p, "a condition", NULL, 0);

	switch (p->tok.keyword)
	{
		case SEG_KW_TAG:
			node = new_node(p, SEG_TAG, start);
			advance(p);
			if (is_kw(&p->tok, SEG_KW_UNDER))
			{
				node->flag = true;
				kw = p->tok;
				advance(p);
			}
			node->name = expect_string(p, &kw);
			return node;

		case SEG_KW_HAS:
			advance(p);
			if (is_kw(&p->tok, SEG_KW_PROFILE))
			{
				node = new_node(p, SEG_HAS_PROFILE, start);
				kw = p->tok;
				advance(p);
				node->name = expect_name(p, "a profile name", &kw);
				return node;
			}
			node = new_node(p, SEG_HAS_KIND, start);
			if (is_kw(&p->tok, SEG_KW_VALIDATED))
			{
				node->flag = true;
				kw = p->tok;
				advance(p);
				node->name = expect_name(p, "an identifier kind", &kw);
			}
			else
				node->name = expect_name(p, "\"profile\", \"validated\" or an identifier kind", &kw);
			return node;

		case SEG_KW_ORGANIZATION:
			advance(p);
			if (is_kw(&p->tok, SEG_KW_UNDER))
			{
				node = new_node(p, SEG_ORG_UNDER, start);
				kw = p->tok;
				advance(p);
				node->name = expect_string(p, &kw);
				return node;
			}
			if (p->tok.kind != SEG_TOK_LPAREN)
				expected_after(p, "\"(\", \".\" or \"under\"", &kw);
			node = new_node(p, SEG_ORGANIZATION, start);
			node->children = alloc(p, sizeof(SegNode *));
			node->children[0] = parse_body(p, depth, &kw);
			node->nchildren = 1;
			return node;

		case SEG_KW_DOCUMENT:
			node = new_node(p, SEG_DOCUMENT, start);
			advance(p);
			node->name = expect_name(p, "a template name", &kw);
			if (p->tok.kind == SEG_TOK_LPAREN)
			{
				node->children = alloc(p, sizeof(SegNode *));
				node->children[0] = parse_body(p, depth, &kw);
				node->nchildren = 1;
			}
			return node;

		case SEG_KW_EVENT:
			node = new_node(p, SEG_EVENT, start);
			advance(p);
			node->name = expect_string(p, &kw);
			if (is_kw(&p->tok, SEG_KW_WHERE))
			{
				kw = p->tok;
				advance(p);
				node->children = alloc(p, sizeof(SegNode *));
				node->children[0] = parse_body(p, depth, &kw);
				node->nchildren = 1;
			}
			if (is_kw(&p->tok, SEG_KW_COUNT))
			{
				kw = p->tok;
				advance(p);
				node->op = expect_op(p, &kw);
				node->count = expect_integer(p, &kw, false);
			}
			if (is_kw(&p->tok, SEG_KW_WITHIN))
			{
				kw = p->tok;
				advance(p);
				node->within = expect_integer(p, &kw, true);
				if (is_kw(&p->tok, SEG_KW_DAYS))
					node->within_unit = SEG_WITHIN_DAYS;
				else if (is_kw(&p->tok, SEG_KW_HOURS))
					node->within_unit = SEG_WITHIN_HOURS;
				else
					expected(p, "\"days\" or \"hours\"", NULL, 0);
				advance(p);
			}
			return node;

		case SEG_KW_IN:
			advance(p);
			if (!is_kw(&p->tok, SEG_KW_SEGMENT))
				expected_after(p, "\"segment\"", &kw);
			kw = p->tok;
			advance(p);
			node = new_node(p, SEG_IN_SEGMENT, start);
			node->name = expect_string(p, &kw);
			return node;

		default:
			break;
	}
	expected(p, "a condition", NULL, 0);
	return NULL;				/* not reached */
}

/* factor := NOT factor | '(' expr ')' | condition; depth is checked first */
static SegNode *
parse_factor(Parser *p, int depth)
{
	if (is_kw(&p->tok, SEG_KW_NOT) && peek(p)->kind != SEG_TOK_DOT)
	{
		SegNode    *node;

		check_depth(p, depth);
		node = new_node(p, SEG_NOT, p->tok.start);
		advance(p);
		node->children = alloc(p, sizeof(SegNode *));
		node->children[0] = parse_factor(p, depth + 1);
		node->nchildren = 1;
		return node;
	}
	if (p->tok.kind == SEG_TOK_LPAREN)
	{
		SegNode    *node;

		check_depth(p, depth);
		advance(p);
		node = parse_expr(p, depth + 1);
		if (p->tok.kind != SEG_TOK_RPAREN)
			expected(p, "\")\"", NULL, 0);
		advance(p);
		return node;
	}
	return parse_condition(p, depth);
}

SegNode *
seg_parse(const char *text, size_t len, SegArena *arena, SegError *err)
{
	Parser		p;
	SegNode    *volatile root = NULL;

	memset(err, 0, sizeof(*err));
	if (len > SEG_MAX_TEXT)
	{
		seg_set_error(err, SEG_ERR_TOO_LONG, 0, "The limit is 65536 bytes.",
					  "segment is too long");
		return NULL;
	}
	memset(&p, 0, sizeof(p));
	p.arena = arena;
	p.err = err;
	seg_lexer_init(&p.lex, text, len, arena, err);
	if (setjmp(p.fail) != 0)
		return NULL;
	advance(&p);
	if (p.tok.kind == SEG_TOK_END)
	{
		seg_set_error(err, SEG_ERR_SYNTAX, p.tok.start, NULL, "empty segment");
		return NULL;
	}
	root = parse_expr(&p, 0);
	if (p.tok.kind != SEG_TOK_END)
		expected(&p, "\"and\", \"or\" or end of input", NULL, 0);
	return root;
}
