/*
 * bulk_resolve.c
 *	  cdp.resolve_all(query): the initial-load path, a driver over its three
 *	  phases: read (bulk_read.c), link under the merge rules of resolve
 *	  (bulk_link.c) and write (bulk_write.c), in a memory context of its own.
 */
#include "cdp.h"
#include "identity/bulk.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(cdp_resolve_all);

/* resolve_all(query text) -> TABLE(record_id text, contact_id bigint) */
Datum
cdp_resolve_all(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *query;
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext work;
	MemoryContext old;
	bulk_state	s;
	int32		unresolved = 0;

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

	work = AllocSetContextCreate(caller, "cdp resolve_all", ALLOCSET_DEFAULT_SIZES);
	SPI_connect();
	old = MemoryContextSwitchTo(work);

	memset(&s, 0, sizeof(s));
	s.kinds = cdp_load_kinds();

	/* read: the input, then under the identifier locks the existing graph */
	cdp_bulk_read(&s, query);
	cdp_bulk_lock_values(&s);
	cdp_bulk_check_unchanged(&s);
	cdp_bulk_refuse_suppressed(&s);
	cdp_bulk_read_existing(&s);

	/* link */
	cdp_bulk_link(&s);
	ereport(s.progress_level,
			(errmsg("resolve_all: components computed; writing contacts and identifiers")));

	/* write */
	cdp_bulk_write(&s);

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

	MemoryContextSwitchTo(old);
	SPI_finish();
	MemoryContextDelete(work);

	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = tupdesc;
	return (Datum) 0;
}
