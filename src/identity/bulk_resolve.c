/*
 * bulk_resolve.c
 *	  cdp.resolve_all(query): the initial-load path, a driver over its three
 *	  phases: read (bulk_read.c), link under the merge rules of resolve
 *	  (bulk_link.c) and write (bulk_write.c), its state in SPI's procedure
 *	  context.
 */
#include "cdp.h"
#include "identity/bulk.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(cdp_resolve_all);

/*
 * The backend's peak resident memory in kB (VmHWM of /proc/self/status), 0
 * where there is no such file.  It counts the pages of shared buffers the
 * backend touched as well as its own.
 */
static long
peak_resident_kb(void)
{
	FILE	   *status = AllocateFile("/proc/self/status", "r");
	char		line[256];
	long		kb = 0;

	if (status == NULL)
		return 0;
	while (fgets(line, sizeof(line), status) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	FreeFile(status);
	return kb;
}

/* The most resolve_all's own memory held so far, in bytes. */
static void
note_memory(MemoryContext procedure, Size *peak)
{
	Size		held = MemoryContextMemAllocated(procedure, true);

	*peak = Max(*peak, held);
}

/* resolve_all(query text) -> TABLE(record_id text, contact_id bigint) */
Datum
cdp_resolve_all(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *query;
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	MemoryContext procedure;
	MemoryContext old;
	bulk_state	s;
	int32		unresolved = 0;
	Size		peak = 0;
	int			level;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("resolve_all must be called in a context that accepts a set")));
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("query must not be null")));
	query = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "resolve_all must return a composite type");

	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	tupdesc = CreateTupleDescCopy(tupdesc);
	store = tuplestore_begin_heap(true, false, work_mem);
	MemoryContextSwitchTo(old);

	/*
	 * Its state lives in the procedure context of SPI, where every SPI call
	 * returns, and goes with SPI_finish.
	 */
	SPI_connect();
	procedure = CurrentMemoryContext;

	memset(&s, 0, sizeof(s));
	s.kinds = cdp_load_kinds();

	/*
	 * read: the input, under the caller's search_path, which its query was
	 * written for; then, under the identifier locks, the existing graph,
	 * with cdp's own statements under pg_catalog alone
	 */
	cdp_bulk_read(&s, query);
	peak = s.read_memory;
	level = cdp_pin_search_path();
	cdp_bulk_lock_values(&s);
	cdp_bulk_check_unchanged(&s);
	cdp_bulk_refuse_suppressed(&s);
	cdp_bulk_read_existing(&s);
	note_memory(procedure, &peak);
	ereport(DEBUG1,
			(errmsg("resolve_all: read the existing graph: %d contacts hold values of the input", s.ncontacts)));

	/* link */
	cdp_bulk_link(&s);
	note_memory(procedure, &peak);
	ereport(s.progress_level,
			(errmsg("resolve_all: components computed; writing contacts and identifiers")));

	/* write */
	cdp_bulk_write(&s);
	note_memory(procedure, &peak);
	cdp_restore_search_path(level);
	ereport(DEBUG1,
			(errmsg("resolve_all: memory: %.1f MB held at the most, %ld MB peak resident",
					peak / 1048576.0, peak_resident_kb() / 1024)));

	for (int32 r = 0; r < s.nrecords; r++)
	{
		int32		k = s.result.record_component[r];
		Datum		values[2];
		bool		nulls[2] = {false, k < 0};

		values[0] = CStringGetTextDatum(s.records[r]);
		values[1] = k < 0 ? (Datum) 0 : Int64GetDatum(s.component_contact[k]);
		unresolved += k < 0;
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
	if (unresolved > 0)
		ereport(NOTICE,
				(errmsg("resolve_all: %d records resolved to %d contacts; %d records whose every value was invalid or blocked resolved to none",
						s.nrecords - unresolved, s.result.ncomponents, unresolved)));
	else
		ereport(s.progress_level,
				(errmsg("resolve_all: %d records resolved to %d contacts",
						s.nrecords, s.result.ncomponents)));

	SPI_finish();

	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = tupdesc;
	return (Datum) 0;
}
