/*
 * segment_ast.h
 *	  The parsed form of a cdp.segment, free of PostgreSQL: the node tree that
 *	  the parser builds, the printer and the binary codec read, and the
 *	  server-side checker, compiler and explain walk.
 */
#ifndef CDP_SEGMENT_AST_H
#define CDP_SEGMENT_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits: longer text is 54000, deeper nesting 54001 (DESIGN §7). */
#define SEG_MAX_TEXT		65536	/* bytes of segment text */
#define SEG_MAX_DEPTH		64		/* nested parentheses, NOT and quantifiers */
#define SEG_MAX_NODES		4096	/* nodes in one tree */
#define SEG_MAX_LIST		1000	/* literals in one IN list */
#define SEG_MAX_NUMBER		100		/* characters of one number literal */
#define SEG_MAX_NAME		63		/* bytes of one identifier */
#define SEG_MESSAGE_MAX		200

typedef enum SegNodeKind
{
	SEG_AND = 1,				/* children: 2 or more */
	SEG_OR,						/* children: 2 or more */
	SEG_NOT,					/* children: 1 */
	SEG_COMPARE,				/* ref op lits[0] */
	SEG_IN,						/* ref [NOT] IN (lits...) */
	SEG_BETWEEN,				/* ref [NOT] BETWEEN lits[0] AND lits[1] */
	SEG_IS_NULL,				/* ref IS [NOT] NULL */
	SEG_LIKE,					/* ref [NOT] LIKE|ILIKE lits[0] (a string) */
	SEG_CONTAINS,				/* ref CONTAINS lits[0] */
	SEG_TAG,					/* TAG [UNDER] name */
	SEG_TERM,					/* ref.qualifier = taxonomy; IS|UNDER name */
	SEG_HAS_PROFILE,			/* HAS PROFILE name */
	SEG_HAS_KIND,				/* HAS [VALIDATED] name */
	SEG_ORGANIZATION,			/* ORGANIZATION ( children[0] ) */
	SEG_ORG_UNDER,				/* ORGANIZATION UNDER name */
	SEG_DOCUMENT,				/* DOCUMENT name [ ( children[0] ) ] */
	SEG_EVENT,					/* EVENT name [WHERE ( children[0] )] [COUNT] [WITHIN] */
	SEG_IN_SEGMENT				/* IN SEGMENT name */
} SegNodeKind;

typedef enum SegOp
{
	SEG_OP_NONE = 0,
	SEG_OP_EQ,					/* = */
	SEG_OP_NE,					/* != and <> (printed !=) */
	SEG_OP_LT,
	SEG_OP_LE,
	SEG_OP_GT,
	SEG_OP_GE
} SegOp;

typedef enum SegLiteralKind
{
	SEG_LIT_STRING = 1,			/* text: the contents, quotes undone */
	SEG_LIT_NUMBER,				/* text: as written, e.g. "-12.5e3" */
	SEG_LIT_BOOL,				/* boolean */
	SEG_LIT_NOW					/* now() [sign interval] */
} SegLiteralKind;

typedef struct SegLiteral
{
	SegLiteralKind kind;
	const char *text;			/* STRING and NUMBER; NUL-terminated */
	bool		boolean;		/* BOOL */
	int			now_sign;		/* NOW: 0 plain now(), +1 or -1 with interval */
	const char *interval;		/* NOW with now_sign != 0: the interval text */
} SegLiteral;

typedef enum SegWithinUnit
{
	SEG_WITHIN_NONE = 0,
	SEG_WITHIN_DAYS,
	SEG_WITHIN_HOURS
} SegWithinUnit;

typedef struct SegNode SegNode;

struct SegNode
{
	SegNodeKind kind;
	bool		negated;		/* NOT IN, NOT BETWEEN, IS NOT NULL, NOT LIKE */
	bool		flag;			/* LIKE: ILIKE; TAG, TERM: UNDER; HAS_KIND: VALIDATED */
	SegOp		op;				/* COMPARE: the operator; EVENT: COUNT op (NONE without COUNT) */

	/*
	 * Comparisons (COMPARE .. CONTAINS): qualifier.name, e.g. customer.tier,
	 * contact.given_name, organization.name, properties.amount.  TERM: the
	 * taxonomy is ref.qualifier (ref.name is NULL).
	 */
	const char *qualifier;
	const char *field;

	/*
	 * TAG and TERM: the path; HAS_PROFILE: profile; HAS_KIND: kind;
	 * ORG_UNDER: organization slug; DOCUMENT: template; EVENT: event name;
	 * IN_SEGMENT: segment slug.
	 */
	const char *name;

	SegLiteral *lits;
	int			nlits;

	SegNode   **children;
	int			nchildren;

	int64_t		count;			/* EVENT with op != NONE */
	int64_t		within;			/* EVENT with within_unit != NONE; > 0 */
	SegWithinUnit within_unit;

	/* byte offset of the node in the text it was parsed from; -1 if decoded */
	int			position;
};

/*
 * Memory: the core allocates every node and string through the arena the
 * caller supplies (palloc in the server, a bump allocator in the fuzzer) and
 * frees nothing itself.  alloc returns zeroed memory or NULL.
 */
typedef struct SegArena
{
	void	   *(*alloc) (void *ctx, size_t size);
	void	   *ctx;
} SegArena;

typedef enum SegErrorCode
{
	SEG_OK = 0,
	SEG_ERR_SYNTAX,				/* 42601 */
	SEG_ERR_TOO_LONG,			/* 54000: text, list, number, name or node count */
	SEG_ERR_TOO_DEEP,			/* 54001 */
	SEG_ERR_CORRUPT,			/* 22P03 (binary input) */
	SEG_ERR_NO_MEMORY			/* the arena returned NULL */
} SegErrorCode;

typedef struct SegError
{
	SegErrorCode code;
	size_t		position;		/* byte offset of the error in the input */
	char		message[SEG_MESSAGE_MAX];	/* lower case, no period */
	char		detail[SEG_MESSAGE_MAX];	/* a sentence for errdetail, or "" */
} SegError;

/* Parse len bytes of segment text; NULL with *err filled on failure. */
extern SegNode *seg_parse(const char *text, size_t len, SegArena *arena, SegError *err);

/*
 * The canonical text of a tree or any subtree (NUL-terminated, in the
 * arena); parsing it gives an equal tree, and printing that the same text.
 */
extern char *seg_print(const SegNode *node, SegArena *arena);

/* The compact binary form, and back (decode checks every byte it reads). */
extern uint8_t *seg_encode(const SegNode *node, SegArena *arena, size_t *len);
extern SegNode *seg_decode(const uint8_t *data, size_t len, SegArena *arena, SegError *err);

#endif
