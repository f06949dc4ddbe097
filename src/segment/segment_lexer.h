/*
 * segment_lexer.h
 *	  The tokens of the segment language and the hand-written lexer that cuts
 *	  segment text into them, free of PostgreSQL like the rest of the core.
 */
#ifndef CDP_SEGMENT_LEXER_H
#define CDP_SEGMENT_LEXER_H

#include "segment/segment_ast.h"

typedef enum SegTokenKind
{
	SEG_TOK_END = 0,			/* end of input */
	SEG_TOK_IDENT,				/* bare identifier that is not a keyword */
	SEG_TOK_QIDENT,				/* "double quoted" identifier */
	SEG_TOK_KEYWORD,
	SEG_TOK_STRING,				/* 'single quoted' literal */
	SEG_TOK_NUMBER,
	SEG_TOK_OP,					/* = != <> < <= > >= */
	SEG_TOK_LPAREN,
	SEG_TOK_RPAREN,
	SEG_TOK_COMMA,
	SEG_TOK_DOT,
	SEG_TOK_PLUS,
	SEG_TOK_MINUS
} SegTokenKind;

typedef enum SegKeyword
{
	SEG_KW_NONE = 0,
	SEG_KW_AND,
	SEG_KW_OR,
	SEG_KW_NOT,
	SEG_KW_IN,
	SEG_KW_BETWEEN,
	SEG_KW_IS,
	SEG_KW_NULL,
	SEG_KW_LIKE,
	SEG_KW_ILIKE,
	SEG_KW_CONTAINS,
	SEG_KW_TAG,
	SEG_KW_UNDER,
	SEG_KW_HAS,
	SEG_KW_PROFILE,
	SEG_KW_VALIDATED,
	SEG_KW_ORGANIZATION,
	SEG_KW_DOCUMENT,
	SEG_KW_EVENT,
	SEG_KW_WHERE,
	SEG_KW_COUNT,
	SEG_KW_WITHIN,
	SEG_KW_DAYS,				/* also DAY */
	SEG_KW_HOURS,				/* also HOUR */
	SEG_KW_SEGMENT,
	SEG_KW_TRUE,
	SEG_KW_FALSE,
	SEG_KW_NOW
} SegKeyword;

typedef struct SegToken
{
	SegTokenKind kind;
	SegKeyword	keyword;		/* KEYWORD */
	SegOp		op;				/* OP */
	size_t		start;			/* byte offset in the text */
	size_t		len;			/* bytes of source text */

	/*
	 * IDENT, KEYWORD, NUMBER: the text as written; QIDENT, STRING: the
	 * contents with the quotes undone.  NUL-terminated, in the arena.
	 */
	char	   *value;
	size_t		value_len;
} SegToken;

typedef struct SegLexer
{
	const char *text;
	size_t		len;
	size_t		pos;
	SegArena   *arena;
	SegError   *err;
} SegLexer;

extern void seg_lexer_init(SegLexer *lex, const char *text, size_t len,
						   SegArena *arena, SegError *err);

/* The next token; false with lex->err filled on a lexical error. */
extern bool seg_lex(SegLexer *lex, SegToken *tok);

/* The keyword spelled by len bytes of s (any case), or SEG_KW_NONE. */
extern SegKeyword seg_keyword_lookup(const char *s, size_t len);

/* Whether s (len bytes) is a number literal the lexer would accept whole. */
extern bool seg_valid_number(const char *s, size_t len);

/* Fill err and return false: the lexer's and parser's common error exit. */
extern bool seg_set_error(SegError *err, SegErrorCode code, size_t position,
						  const char *detail, const char *fmt,...)
			__attribute__((format(printf, 5, 6)));

#endif
