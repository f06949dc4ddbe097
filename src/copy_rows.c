/*
 * copy_rows.c
 *	  Rows written through PostgreSQL's own COPY FROM: the caller builds COPY
 *	  text in memory and CopyFrom inserts it as the COPY command would, in
 *	  multi-insert batches with index entries per batch, the constraints
 *	  checked and the triggers fired.
 */
#include "copy_rows.h"
#include "activation/changes.h"
#include "citus/citus.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/copy.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "nodes/makefuncs.h"
#include "nodes/value.h"
#include "parser/parse_relation.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"

/*
 * Past this many bytes of COPY text the rows should be written, so that a
 * load of millions of rows holds a bounded buffer.
 */
#define COPY_FULL_BYTES (32 * 1024 * 1024)

/* COPY's data source callback takes no argument: the buffer being read. */
static StringInfo copy_source = NULL;
static int	copy_source_read = 0;

static int
read_copy_source(void *outbuf, int minread, int maxread)
{
	int			n = Min(maxread, copy_source->len - copy_source_read);

	memcpy(outbuf, copy_source->data + copy_source_read, n);
	copy_source_read += n;
	return n;
}

void
cdp_copy_begin(cdp_copy *copy, const char *schema, const char *table,
			   const char *const *columns, int ncolumns)
{
	memset(copy, 0, sizeof(*copy));
	copy->relid = get_relname_relid(table, get_namespace_oid(schema, false));
	if (!OidIsValid(copy->relid))
		elog(ERROR, "relation %s.%s does not exist", schema, table);
	for (int i = 0; i < ncolumns; i++)
		copy->columns = lappend(copy->columns, makeString(pstrdup(columns[i])));
	initStringInfo(&copy->buf);
}

/* The next field of the row, NULL for SQL NULL, escaped for COPY text. */
void
cdp_copy_text(cdp_copy *copy, const char *value)
{
	StringInfo	buf = &copy->buf;

	if (copy->row_open)
		appendStringInfoChar(buf, '\t');
	copy->row_open = true;
	if (value == NULL)
	{
		appendBinaryStringInfo(buf, "\\N", 2);
		return;
	}
	for (const char *p = value; *p; p++)
	{
		switch (*p)
		{
			case '\\':
				appendBinaryStringInfo(buf, "\\\\", 2);
				break;
			case '\t':
				appendBinaryStringInfo(buf, "\\t", 2);
				break;
			case '\n':
				appendBinaryStringInfo(buf, "\\n", 2);
				break;
			case '\r':
				appendBinaryStringInfo(buf, "\\r", 2);
				break;
			default:
				appendStringInfoCharMacro(buf, *p);
		}
	}
}

void
cdp_copy_int8(cdp_copy *copy, int64 value)
{
	if (copy->row_open)
		appendStringInfoChar(&copy->buf, '\t');
	copy->row_open = true;
	appendStringInfo(&copy->buf, INT64_FORMAT, value);
}

void
cdp_copy_end_row(cdp_copy *copy)
{
	appendStringInfoChar(&copy->buf, '\n');
	copy->row_open = false;
	copy->rows++;
}

/* Whether the rows built so far should be written before more are added. */
bool
cdp_copy_full(cdp_copy *copy)
{
	return copy->buf.len >= COPY_FULL_BYTES;
}

/*
 * On Citus: CopyFrom into a temporary table of the columns, then INSERT ...
 * SELECT into the distributed table, which Citus sends to the shards.
 */
static char *
qualified_target(cdp_copy *copy)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(copy->relid)),
									  get_rel_name(copy->relid));
}

static char *
column_list(cdp_copy *copy)
{
	StringInfoData columns;
	ListCell   *lc;

	initStringInfo(&columns);
	foreach(lc, copy->columns)
		appendStringInfo(&columns, "%s%s", columns.len > 0 ? ", " : "", quote_identifier(strVal(lfirst(lc))));
	return columns.data;
}

static pg_noinline Oid
citus_staging(cdp_copy *copy)
{
	char	   *staging = psprintf("cdp_copy_%s", get_rel_name(copy->relid));
	Oid			relid = get_relname_relid(staging, LookupCreationNamespace("pg_temp"));

	if (!OidIsValid(relid))
	{
		SPI_connect();
		if (SPI_execute(psprintf("CREATE TEMPORARY TABLE %s ON COMMIT DROP AS SELECT %s FROM %s WITH NO DATA",
								 quote_identifier(staging), column_list(copy), qualified_target(copy)),
						false, 0) < 0)
			elog(ERROR, "could not create the staging table of %s", qualified_target(copy));
		SPI_finish();
		relid = get_relname_relid(staging, LookupCreationNamespace("pg_temp"));
	}
	return relid;
}

static pg_noinline void
citus_insert_staged(cdp_copy *copy, Oid staging)
{
	char	   *target = qualified_target(copy);
	char	   *temp = quote_qualified_identifier("pg_temp", get_rel_name(staging));
	char	   *columns = column_list(copy);

	/* the workers' shards capture the rows with this transaction's id */
	cdp_citus_note_write(0);
	/* a bulk writer records its rows' changes itself (changes_bulk.c) */
	if (cdp_capture_suppressed)
		cdp_citus_set_recorded(true);
	SPI_connect();
	if (SPI_execute(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s", target, columns, columns, temp),
					false, 0) < 0 ||
		(copy->citus_also != NULL && SPI_execute(psprintf(copy->citus_also, temp), false, 0) < 0) ||
		SPI_execute(psprintf("TRUNCATE %s", temp), false, 0) < 0)
		elog(ERROR, "could not write the staged rows of %s", target);
	SPI_finish();
	if (cdp_capture_suppressed)
		cdp_citus_set_recorded(false);
}

/*
 * Writes the rows built so far as one COPY statement, with the privilege
 * check COPY makes (INSERT on the columns).  The text is in the server's
 * encoding, whatever the client's.
 */
void
cdp_copy_flush(cdp_copy *copy)
{
	Oid			target;
	Relation	rel;
	ParseState *pstate;
	ParseNamespaceItem *nsitem;
	RangeTblEntry *rte;
	CopyFromState cstate;
	List	   *options;
	ListCell   *lc;

	if (copy->rows == 0)
		return;
	Assert(copy_source == NULL);

	target = cdp_citus_mode() ? citus_staging(copy) : copy->relid;
	rel = table_open(target, RowExclusiveLock);
	pstate = make_parsestate(NULL);
	nsitem = addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock, NULL, false, false);
	rte = nsitem->p_rte;
	rte->requiredPerms = ACL_INSERT;
	foreach(lc, copy->columns)
	{
		const char *column = strVal(lfirst(lc));
		AttrNumber	attnum = attnameAttNum(rel, column, false);

		if (attnum == InvalidAttrNumber)
			elog(ERROR, "column \"%s\" of %s does not exist", column,
				 RelationGetRelationName(rel));
		rte->insertedCols = bms_add_member(rte->insertedCols,
										   attnum - FirstLowInvalidHeapAttributeNumber);
	}
	if (target == copy->relid)
		ExecCheckRTPerms(pstate->p_rtable, true);
	/* COPY FROM cannot apply row-level security policies: it refuses, and so do we */
	if (check_enable_rls(copy->relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot write %s in bulk while row-level security is enabled on it",
						RelationGetRelationName(rel)),
				 errhint("Write it one row at a time (cdp.resolve), or disable its policies for the load.")));

	options = list_make1(makeDefElem("encoding",
									 (Node *) makeString(pstrdup(GetDatabaseEncodingName())), -1));
	copy_source = &copy->buf;
	copy_source_read = 0;
	PG_TRY();
	{
		cstate = BeginCopyFrom(pstate, rel, NULL, NULL, false, read_copy_source,
							   copy->columns, options);
		CopyFrom(cstate);
		EndCopyFrom(cstate);
	}
	PG_FINALLY();
	{
		copy_source = NULL;
	}
	PG_END_TRY();

	free_parsestate(pstate);
	table_close(rel, NoLock);
	/* the INSERT checks the target's privileges */
	if (target != copy->relid)
		citus_insert_staged(copy, target);
	/* what follows in this transaction sees the rows */
	CommandCounterIncrement();

	copy->written += copy->rows;
	copy->rows = 0;
	resetStringInfo(&copy->buf);
}

/* Writes what is left; the number of rows written in all. */
int64
cdp_copy_end(cdp_copy *copy)
{
	cdp_copy_flush(copy);
	pfree(copy->buf.data);
	list_free_deep(copy->columns);
	return copy->written;
}
