/*
 * merge_rules.h
 *	  The merge rules of identity resolution (DESIGN §5), written once for
 *	  resolve and resolve_all; free of PostgreSQL so it can be fuzzed alone.
 *
 * The caller describes a graph: records, the identifier values they carry,
 * the existing contacts holding some of those values, each limited kind's
 * count on those contacts and the merge-blocked pairs among them, and the
 * links record -> value in input order.  cdp_mr_resolve makes the links
 * strongest first (lower kind priority; equal priorities in input order, the
 * one tie-break) with union-find, refusing a link that a rule forbids:
 *   invalid      the kind's normaliser refused the value;
 *   blocked      a blocked value (exact or pattern) of its kind;
 *   merge_block  it would put a merge-blocked pair of contacts in one set;
 *   limit        both sides hold values of a limited kind and together they
 *                would hold more than max_per_contact (so a stronger link
 *                made earlier wins, and the weakest are refused: Segment's
 *                rule; a contact already over a limit set later keeps its
 *                values but gains none).
 * A value of a kind that does not link (matchable = false) joins the first
 * record that brings it while it is stored nowhere, and links nothing else.
 * The result: per link its outcome; the components that hold a record,
 * numbered by their first record; each component's survivor, its
 * earliest-created contact (ties: the lower id), or none (a new contact).
 * A record all of whose links are invalid or blocked is in no component.
 */
#ifndef CDP_MERGE_RULES_H
#define CDP_MERGE_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What became of one link. */
typedef enum cdp_mr_outcome
{
	CDP_MR_LINKED = 0,			/* made, or its two ends were one already */
	CDP_MR_UNLINKED,			/* a value of a kind that does not link, held
								 * already: nothing to do, nothing refused */
	CDP_MR_INVALID,				/* refused: the normaliser refused the value */
	CDP_MR_BLOCKED,				/* refused: a blocked value */
	CDP_MR_LIMIT,				/* refused: max_per_contact */
	CDP_MR_MERGE_BLOCK			/* refused: a merge-blocked pair */
} cdp_mr_outcome;

#define CDP_MR_REFUSED(outcome) ((outcome) >= CDP_MR_INVALID)

/* A value's state, decided by the caller (normaliser, blocked lists). */
typedef enum cdp_mr_state
{
	CDP_MR_VALID = 0,
	CDP_MR_STATE_BLOCKED,
	CDP_MR_STATE_INVALID
} cdp_mr_state;

/* cdp_mr_value.contact when no contact of the graph holds the value */
#define CDP_MR_NEW			(-1)	/* stored nowhere yet */
#define CDP_MR_ELSEWHERE	(-2)	/* stored on a contact outside the graph */

typedef struct cdp_mr_kind
{
	int32_t		priority;		/* lower is stronger */
	int32_t		max_per_contact;	/* 0: unlimited */
	bool		matchable;		/* equal values link records */
} cdp_mr_kind;

typedef struct cdp_mr_value
{
	int32_t		kind;			/* index into kinds */
	int32_t		contact;		/* index into contacts, or CDP_MR_NEW/ELSEWHERE */
	uint8_t		state;			/* cdp_mr_state */
} cdp_mr_value;

typedef struct cdp_mr_contact
{
	int64_t		id;
	int64_t		created_at;		/* any clock; only the order matters */
} cdp_mr_contact;

typedef struct cdp_mr_link
{
	int32_t		record;
	int32_t		value;
} cdp_mr_link;

typedef struct cdp_mr_graph
{
	int32_t		nkinds;
	const cdp_mr_kind *kinds;
	int32_t		nrecords;
	int32_t		nvalues;
	const cdp_mr_value *values;
	int32_t		ncontacts;
	const cdp_mr_contact *contacts;
	/* counts[c * nlimited + slot]: values of each limited kind contact c holds */
	const int32_t *counts;
	int32_t		nblocks;
	const int32_t *blocks;		/* nblocks pairs of contact indices */
	int64_t		nlinks;
	const cdp_mr_link *links;	/* in input order */
} cdp_mr_graph;

typedef struct cdp_mr_result
{
	uint8_t    *outcome;		/* per link, a cdp_mr_outcome */
	int64_t		nrefused;
	int32_t		ncomponents;	/* components holding a record */
	int32_t    *record_component;	/* -1: all its links invalid or blocked */
	int32_t    *value_component;	/* -1: in no component */
	int32_t    *contact_component;	/* -1: in no component */
	int32_t    *survivor;		/* per component: a contact index, -1 none */
} cdp_mr_result;

/*
 * Memory comes from alloc (never NULL; the caller frees it all at once).
 * progress, if set, is called before the first link is made and then when
 * done links are made, where done is what its previous call returned (more
 * than the done it was given): a place to check for interrupts and report.
 */
typedef struct cdp_mr_env
{
	void	   *(*alloc) (void *arg, size_t size);
	int64_t		(*progress) (void *arg, int64_t done, int64_t total);
	void	   *arg;
} cdp_mr_env;

/*
 * The limited kinds, in kind order: slot[k] is kind k's column in counts,
 * or -1 when it is unlimited.  Returns how many are limited.
 */
extern int32_t cdp_mr_limited(const cdp_mr_kind *kinds, int32_t nkinds, int32_t *slot);

extern void cdp_mr_resolve(const cdp_mr_graph *g, const cdp_mr_env *env,
						   cdp_mr_result *out);

/* The identity_conflicts rule of a refused outcome. */
extern const char *cdp_mr_rule_name(cdp_mr_outcome outcome);

#endif
