/*
 * bulk.h
 *	  What resolve_all carries through its phases: read (bulk_read.c), link
 *	  (bulk_link.c, the merge-rule core) and write (bulk_write.c).
 */
#ifndef CDP_BULK_H
#define CDP_BULK_H

#include "identity/identity.h"

#define BULK_BATCH	20000		/* rows per bulk statement */

/* A distinct identifier value of the input (one per invalid spelling). */
typedef struct bulk_value
{
	const cdp_kind *kind;
	const char *value;			/* normalised; as it came when invalid */
	const char *raw_value;
	const char *source;			/* of the first row that brought it */
	const char *invalid;		/* why the normaliser refused it, else NULL */
	int64		existing_id;	/* cdp.identifiers.id, 0 if new */
	int64		owner;			/* contact holding it, 0 if none */
	bool		blocked;
} bulk_value;

typedef struct bulk_state
{
	cdp_kinds  *kinds;

	/* read: the input */
	const char **records;		/* record_id per record */
	int32		nrecords;
	int32		records_cap;
	bulk_value *values;
	int32		nvalues;
	int32		values_cap;
	cdp_mr_link *links;			/* one per input row, in input order */
	const char **link_source;	/* the source of each row */
	int64		nlinks;
	int64		links_cap;
	int64		invalid_rows;
	int32		invalid_values;
	int			progress_level; /* NOTICE for a big input, DEBUG1 otherwise */

	/* read: the existing graph, contacts ascending by id and locked */
	cdp_mr_contact *contacts;
	int32	   *evidence;		/* per contact, a value of the input it holds */
	int32		ncontacts;
	int32	   *counts;			/* ncontacts x kinds->nlimited, or NULL */
	int32	   *blocks;
	int32		nblocks;

	/* link: the merge rules' verdict */
	cdp_mr_graph graph;
	cdp_mr_result result;

	/* write: the contact of each component */
	int64	   *component_contact;
	bool	   *component_existing;
} bulk_state;

/*
 * Inputs of at least this many rows report their progress at NOTICE level;
 * smaller ones finish too fast for progress to tell anybody anything.
 */
#define BULK_PROGRESS_ROWS 10000

/* bulk_read.c */
extern void cdp_bulk_read(bulk_state *s, const char *query);
extern void cdp_bulk_lock_values(bulk_state *s);
extern void cdp_bulk_check_unchanged(bulk_state *s);
extern void cdp_bulk_refuse_suppressed(bulk_state *s);
extern void cdp_bulk_read_existing(bulk_state *s);

/* bulk_link.c */
extern void cdp_bulk_link(bulk_state *s);

/* bulk_write.c */
extern void cdp_bulk_write(bulk_state *s);

#endif
