/*
 * bulk.h
 *	  What resolve_all carries through its phases: read (bulk_read.c), link
 *	  (bulk_link.c, the merge-rule core) and write (bulk_write.c).
 */
#ifndef CDP_BULK_H
#define CDP_BULK_H

#include "identity/identity.h"

#define BULK_BATCH	20000		/* rows per bulk statement */

/*
 * A distinct identifier value of the input (one per invalid spelling), kept
 * small: a 10M-record load holds about 19M of them.  Its strings live in
 * the read phase's string arena; what only some values have (an invalid
 * reason, a stored identifier) is kept beside them.
 */
typedef struct bulk_value
{
	const cdp_kind *kind;
	const char *value;			/* normalised; as it came when invalid */
	const char *raw_value;		/* the first spelling read (often value) */
	int32		source;			/* of the first row that brought it: sources[] */
	bool		blocked;
	bool		invalid;		/* the normaliser refused it: see invalid_reason */
} bulk_value;

/* Why the normaliser refused an invalid value, in value order. */
typedef struct bulk_invalid
{
	int32		value;
	const char *reason;
} bulk_invalid;

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
	bulk_invalid *invalid;		/* the reasons of the invalid values */
	int32		ninvalid;
	int32		invalid_cap;
	const char **sources;		/* distinct sources, [0] = none */
	int32		nsources;
	int32		sources_cap;
	cdp_mr_link *links;			/* one per input row, in input order */
	int32	   *link_source;	/* the source of each row: sources[] */
	int64		nlinks;
	int64		links_cap;
	int64		invalid_rows;
	int32		invalid_values;
	int			progress_level; /* NOTICE for a big input, DEBUG1 otherwise */
	Size		read_memory;	/* held at the end of reading, the maps included */

	/* read: the existing graph, contacts ascending by id and locked */
	int64	   *existing_id;	/* per value, cdp.identifiers.id, 0 if new; */
	int64	   *owner;			/* and the contact holding it (both NULL */
								/* when nothing was stored before) */
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

/* The stored identifier of a value and its contact, 0 when new. */
#define BULK_EXISTING_ID(s, v)	((s)->existing_id != NULL ? (s)->existing_id[v] : 0)
#define BULK_OWNER(s, v)		((s)->owner != NULL ? (s)->owner[v] : 0)

/*
 * Inputs of at least this many rows report their progress at NOTICE level;
 * smaller ones finish too fast for progress to tell anybody anything.
 */
#define BULK_PROGRESS_ROWS 10000

/* bulk_read.c */
extern void cdp_bulk_read(bulk_state *s, const char *query);
extern const char *cdp_bulk_invalid_reason(const bulk_state *s, int32 value);
extern int32 cdp_bulk_contact_index(const bulk_state *s, int64 id);
extern void cdp_bulk_lock_values(bulk_state *s);
extern void cdp_bulk_check_unchanged(bulk_state *s);
extern void cdp_bulk_refuse_suppressed(bulk_state *s);
extern void cdp_bulk_read_existing(bulk_state *s);

/* bulk_link.c */
extern void cdp_bulk_link(bulk_state *s);

/* bulk_write.c */
extern void cdp_bulk_write(bulk_state *s);

#endif
