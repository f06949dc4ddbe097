/*
 * copy_rows.h
 *	  Rows written through PostgreSQL's own COPY FROM, from COPY text built in
 *	  memory: the bulk writers' path to COPY's speed.
 */
#ifndef CDP_COPY_ROWS_H
#define CDP_COPY_ROWS_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

typedef struct cdp_copy
{
	Oid			relid;
	List	   *columns;		/* the COPY column list (String nodes) */
	StringInfoData buf;			/* COPY text of the rows not yet written */
	bool		row_open;		/* a field of the current row is written */
	int64		rows;			/* rows in buf */
	int64		written;		/* rows written by earlier flushes */

	/*
	 * On Citus (where CopyFrom would write the coordinator's own empty table)
	 * the rows go through a temporary table and INSERT ... SELECT; then this
	 * statement runs too, %s standing for the temporary table.
	 */
	const char *citus_also;
} cdp_copy;

extern void cdp_copy_begin(cdp_copy *copy, const char *schema, const char *table,
						   const char *const *columns, int ncolumns);
extern void cdp_copy_text(cdp_copy *copy, const char *value);
extern void cdp_copy_int8(cdp_copy *copy, int64 value);
extern void cdp_copy_end_row(cdp_copy *copy);
extern bool cdp_copy_full(cdp_copy *copy);
extern void cdp_copy_flush(cdp_copy *copy);
extern int64 cdp_copy_end(cdp_copy *copy);

#endif
