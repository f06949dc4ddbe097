/*
 * segment_compile.h
 *	  The segment compiler: checks a tree's names against the catalog and
 *	  turns it into SQL over the typed tables, for sets of contacts and for one.
 */
#ifndef CDP_SEGMENT_COMPILE_H
#define CDP_SEGMENT_COMPILE_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

#include "segment/segment_ast.h"

/* Whose row a condition is about. */
typedef enum SegSubject
{
	SEG_SUBJECT_CONTACT,
	SEG_SUBJECT_ORGANIZATION,
	SEG_SUBJECT_DOCUMENT,
	SEG_SUBJECT_EVENT
} SegSubject;

typedef struct SegScope
{
	SegSubject	subject;
	const char *alias;			/* the subject's row: c, o1, d2, e3 */
	const char *template_slug;	/* DOCUMENT: the template of the document */
} SegScope;

typedef struct SegCompiler
{
	const char *at;				/* SQL of the evaluation time: $1, now() or a literal */
	bool		per_contact;	/* one contact: event counts as correlated subqueries */
	const char *candidates;		/* SQL of a bigint[] of the only contacts asked about, or NULL */
	int			next_alias;
	List	   *segments;		/* the IN SEGMENT chain being compiled (cycle check) */
} SegCompiler;

/*
 * The caller connects SPI first (the compiler reads the catalog) and copies
 * the results it keeps out of the SPI context before SPI_finish.
 */
extern void seg_compiler_init(SegCompiler *cc, const char *at, bool per_contact);

/* A never-NULL boolean SQL expression for node about scope's subject. */
extern void seg_compile_expr(SegCompiler *cc, const SegNode *node,
							 const SegScope *scope, StringInfo out);

/*
 * SELECT c.id FROM cdp.contacts c WHERE <live> AND (<tree>); with
 * per_contact, c.id = $2 is added; with candidates, c.id = ANY (candidates).
 */
extern char *seg_compile_query(SegCompiler *cc, const SegNode *tree);

/* The quantifier (ORGANIZATION, DOCUMENT, EVENT WHERE) with body in place of its own. */
extern void seg_compile_quantified(SegCompiler *cc, const SegNode *quantifier,
								   const SegNode *body, const SegScope *scope,
								   StringInfo out);

/* A text SQL expression saying what a person can act on about a condition. */
extern void seg_compile_detail(SegCompiler *cc, const SegNode *node,
							   const SegScope *scope, StringInfo out);

/* Quantifier detail: which organizations, documents or events satisfy body. */
extern void seg_compile_quantified_detail(SegCompiler *cc, const SegNode *quantifier,
										  const SegNode *body, const SegScope *scope,
										  StringInfo out);

/* Follow an IN SEGMENT node: the saved definition (pushes the cycle check). */
extern SegNode *seg_enter_segment(SegCompiler *cc, const char *slug);
extern void seg_leave_segment(SegCompiler *cc);

/*
 * Raises the error evaluation would raise (22015, 22008) when interval, the
 * text of an interval, does not convert or moves the current time out of the
 * timestamp range (sign +1: forward, -1: back).  A saved segment is refused
 * when it is saved, not at every evaluation after.
 */
extern void seg_check_time_offset(const char *interval, int sign);

/* Is node a value condition (COMPARE .. CONTAINS)? */
extern bool seg_is_value_condition(const SegNode *node);

/*
 * Value conditions (segment_values.c).  seg_value_owner says whose row a
 * reference is about at scope (a contact-scope organization reference is
 * about the organization: the compiler wraps it in ORGANIZATION ( ... )).
 */
extern SegSubject seg_value_owner(const SegNode *node, const SegScope *scope);
extern void seg_compile_value(SegCompiler *cc, const SegNode *node,
							  const SegScope *scope, StringInfo out);
extern void seg_compile_value_detail(SegCompiler *cc, const SegNode *node,
									 const SegScope *scope, StringInfo out);
extern const char *seg_subject_name(SegSubject subject);

/*
 * "alias.key = scope.id": a row of a table keyed by the scope's object.  On
 * Citus a document's rows also carry its contact, joined too, so that the
 * join stays inside a shard (distribute.sql).
 */
extern const char *seg_owner_join(const char *alias, const char *key_column, const SegScope *scope);

typedef struct SegRowCondition
{
	const char *table;			/* quoted, schema-qualified */
	const char *key_column;		/* quoted; the table's primary key */
	bool		positive;		/* some row satisfies predicate (else: none does) */
	char	   *predicate;		/* on the row alias */
	char	   *negation;		/* the row fails predicate (absent values included) */
} SegRowCondition;

/* alias NULL: only tell whether node is such a condition, and on which table. */
extern bool seg_value_row(SegCompiler *cc, const SegNode *node, const SegScope *scope,
						  const char *alias, SegRowCondition *rc);
extern const char *seg_op_sql(SegOp op);

/* Catalog lookups (segment_catalog.c); each raises the error naming the unknown thing. */
typedef struct SegAttribute
{
	char	   *object_type;	/* contact, organization or document */
	char	   *data_table;		/* quoted, schema-qualified */
	char	   *key_column;
	char	   *data_type;		/* NULL when no attribute was asked for */
	bool		is_array;
} SegAttribute;

extern void seg_catalog_reset(void);
extern void seg_lookup_attribute(const char *owner_type, const char *owner_slug,
								 const char *attribute, SegAttribute *result);
extern char *seg_profile_type(const char *slug);
extern char *seg_tag_ids(const char *path, bool under);
extern char *seg_term_ids(const char *taxonomy, const char *path, bool under,
						  const char *object_type);
extern char *seg_organization_ids(const char *slug);
extern void seg_check_kind(const char *kind);
extern Datum seg_saved_definition(const char *slug);

#endif
