/*
 * segment_membership.c
 *	  Stored segment membership: queues the immediate pass once per writing
 *	  transaction, runs it at commit, and says how time moves a segment.
 */
#include "cdp.h"
#include "segment/segment_membership.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "segment/segment_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(cdp_segment_pass_trigger);
PG_FUNCTION_INFO_V1(cdp_segment_time_windows);

/*
 * Whether this transaction has queued its pass, and in which subtransaction:
 * if that subtransaction rolls back, so does the queue row, and the next
 * change must queue again.
 */
static bool pass_queued = false;
static SubTransactionId pass_queued_in = InvalidSubTransactionId;
static bool callbacks_registered = false;

static void
membership_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			pass_queued = false;
			pass_queued_in = InvalidSubTransactionId;
			break;
		default:
			break;
	}
}

static void
membership_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
							SubTransactionId parentSubid, void *arg)
{
	if (!pass_queued)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB && mySubid == pass_queued_in)
	{
		pass_queued = false;
		pass_queued_in = InvalidSubTransactionId;
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB && mySubid == pass_queued_in)
		pass_queued_in = parentSubid;	/* the row now lives or dies with the parent */
}

void
cdp_segments_note_change(void)
{
	static SPIPlanPtr plan = NULL;
	int			rc;

	if (pass_queued)
		return;
	if (!callbacks_registered)
	{
		RegisterXactCallback(membership_xact_callback, NULL);
		RegisterSubXactCallback(membership_subxact_callback, NULL);
		callbacks_registered = true;
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (plan == NULL)
	{
		/* the row's deferred trigger runs the pass when the transaction commits */
		plan = SPI_prepare("INSERT INTO cdp_internal.segment_pass_queue (txid) "
						   "SELECT pg_catalog.pg_current_xact_id() "
						   "WHERE EXISTS (SELECT 1 FROM cdp.segments s WHERE s.refresh = 'immediate') "
						   "ON CONFLICT (txid) DO NOTHING",
						   0, NULL);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
	}
	rc = SPI_execute_plan(plan, NULL, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "queueing the segment pass failed: %s", SPI_result_code_string(rc));
	SPI_finish();

	/*
	 * With no immediate segment nothing was queued; a segment made immediate
	 * later in this transaction evaluates itself in full then.
	 */
	pass_queued = true;
	pass_queued_in = GetCurrentSubTransactionId();
}

/*
 * The deferred constraint trigger of cdp_internal.segment_pass_queue.  It
 * fires when the transaction commits (or at SET CONSTRAINTS … IMMEDIATE;
 * changes after that queue a second pass).
 */
Datum
cdp_segment_pass_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "cdp_segment_pass_trigger: not called by trigger manager");

	pass_queued = false;
	pass_queued_in = InvalidSubTransactionId;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT cdp_internal.run_immediate_pass()", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "the immediate segment pass failed");
	SPI_finish();
	return PointerGetDatum(trigdata->tg_trigtuple);
}

typedef struct WindowWalk
{
	Tuplestorestate *store;
	TupleDesc	desc;
} WindowWalk;

static void
emit_window(WindowWalk *w, const char *kind, const char *name, const SegNode *event)
{
	Datum		values[3];
	bool		nulls[3] = {false, false, true};

	values[0] = CStringGetTextDatum(kind);
	values[1] = CStringGetTextDatum(name);
	if (event != NULL && event->within_unit != SEG_WITHIN_NONE)
	{
		char	   *interval = psprintf(INT64_FORMAT " %s", event->within,
										event->within_unit == SEG_WITHIN_DAYS ? "days" : "hours");

		values[2] = DirectFunctionCall3(interval_in, CStringGetDatum(interval),
										ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
		nulls[2] = false;
	}
	tuplestore_putvalues(w->store, w->desc, values, nulls);
}

static void
walk_windows(WindowWalk *w, const SegNode *node)
{
	for (int i = 0; i < node->nlits; i++)
		if (node->lits[i].kind == SEG_LIT_NOW)
			emit_window(w, "now", psprintf("%s.%s", node->qualifier, node->field), NULL);
	if (node->kind == SEG_EVENT)
		emit_window(w, "event", node->name, node);
	else if (node->kind == SEG_IN_SEGMENT)
		emit_window(w, "segment", node->name, NULL);
	for (int i = 0; i < node->nchildren; i++)
		walk_windows(w, node->children[i]);
}

/*
 * cdp_internal.segment_time_windows(definition) → (kind, name, within):
 * what makes the definition depend on its evaluation time.  ('event', name,
 * within) for each EVENT, whose count moves when an event enters the past
 * or leaves the window; ('now', reference, NULL) for each now() literal;
 * ('segment', slug, NULL) for each IN SEGMENT, whose definition may.
 */
Datum
cdp_segment_time_windows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SegNode    *tree = cdp_segment_tree(PG_GETARG_DATUM(0));
	WindowWalk	w;

	InitMaterializedSRF(fcinfo, 0);
	w.store = rsinfo->setResult;
	w.desc = rsinfo->setDesc;
	walk_windows(&w, tree);
	return (Datum) 0;
}

/*
 * The immediate pass's statement, kept for the backend's life and made
 * again when cdp.segments or anything a compiled segment depends on
 * changes: the catalogs' statement trigger sends a relcache invalidation
 * of cdp.segments (segment_catalog_changed), which reaches every backend
 * when the change commits and this one at once.
 */
static SPIPlanPtr pass_plan = NULL;
static Datum pass_slugs = (Datum) 0;	/* text[] in TopMemoryContext */
static List *pass_slug_list = NIL;
static uint64 invalidations = 0;
static uint64 pass_built_at = PG_UINT64_MAX;	/* never */
static Oid	segments_relid = InvalidOid;
static bool relcache_callback_registered = false;

static void
membership_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == segments_relid)
		invalidations++;
}

static Oid
lookup_segments_relid(void)
{
	Oid			nsp = get_namespace_oid("cdp", false);

	return get_relname_relid("segments", nsp);
}

PG_FUNCTION_INFO_V1(cdp_segment_catalog_changed);

Datum
cdp_segment_catalog_changed(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "cdp_segment_catalog_changed: not called by trigger manager");
	CacheInvalidateRelcacheByRelid(lookup_segments_relid());
	return PointerGetDatum(NULL);
}

/* One-row, one-column query of a kept plan; false when the value is NULL. */
static bool
run_scalar(SPIPlanPtr plan, Datum *args, Datum *result)
{
	bool		isnull;

	if (SPI_execute_plan(plan, args, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "the immediate segment pass could not read its input");
	*result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return !isnull;
}

static SPIPlanPtr
keep_plan(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	return plan;
}

static void
rebuild_pass(void)
{
	static SPIPlanPtr slugs_plan = NULL;
	static SPIPlanPtr sql_plan = NULL;
	Datum		slugs;
	Datum		sql;
	Oid			argtypes[3] = {INT8ARRAYOID, TIMESTAMPTZOID, TEXTARRAYOID};
	uint64		started_at = invalidations;
	MemoryContext old;

	if (!relcache_callback_registered)
	{
		CacheRegisterRelcacheCallback(membership_relcache_callback, (Datum) 0);
		relcache_callback_registered = true;
	}
	segments_relid = lookup_segments_relid();

	if (pass_plan != NULL)
		SPI_freeplan(pass_plan);
	pass_plan = NULL;
	if (pass_slugs != (Datum) 0)
		pfree(DatumGetPointer(pass_slugs));
	pass_slugs = (Datum) 0;
	list_free_deep(pass_slug_list);
	pass_slug_list = NIL;

	if (slugs_plan == NULL)
		slugs_plan = keep_plan("SELECT array_agg(s.slug ORDER BY s.slug) FROM cdp.segments s "
							   "WHERE s.refresh = 'immediate'", 0, NULL);
	if (!run_scalar(slugs_plan, NULL, &slugs))
	{
		pass_built_at = started_at; /* no immediate segment */
		return;
	}

	if (sql_plan == NULL)
	{
		Oid			t = TEXTARRAYOID;

		sql_plan = keep_plan("SELECT cdp_internal.membership_sql($1, false)", 1, &t);
	}
	if (!run_scalar(sql_plan, &slugs, &sql))
		elog(ERROR, "no membership statement for the immediate segments");

	old = MemoryContextSwitchTo(TopMemoryContext);
	pass_slugs = PointerGetDatum(DatumGetArrayTypePCopy(slugs));
	{
		Datum	   *elems;
		int			n;

		deconstruct_array(DatumGetArrayTypeP(pass_slugs), TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, NULL, &n);
		for (int i = 0; i < n; i++)
			pass_slug_list = lappend(pass_slug_list, TextDatumGetCString(elems[i]));
	}
	MemoryContextSwitchTo(old);
	pass_plan = keep_plan(TextDatumGetCString(sql), 3, argtypes);
	/* an invalidation that arrived while building makes the next pass build again */
	pass_built_at = started_at;
}

PG_FUNCTION_INFO_V1(cdp_run_immediate_pass);

/*
 * cdp_internal.run_immediate_pass(): evaluates every immediate segment for
 * the contacts this transaction changed, after locking them, so that a
 * concurrent writer's pass (an organization change reaches its members)
 * cannot interleave with this one on the same contact.
 */
Datum
cdp_run_immediate_pass(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr dequeue_plan = NULL;
	static SPIPlanPtr touched_plan = NULL;
	static SPIPlanPtr lock_plan = NULL;
	Datum		touched;
	Datum		args[3];
	ListCell   *lc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (dequeue_plan == NULL)
		dequeue_plan = keep_plan("DELETE FROM cdp_internal.segment_pass_queue "
								 "WHERE txid = pg_catalog.pg_current_xact_id()", 0, NULL);
	SPI_execute_plan(dequeue_plan, NULL, NULL, false, 0);

	if (pass_built_at != invalidations)
		rebuild_pass();
	if (pass_plan == NULL)
	{
		SPI_finish();
		PG_RETURN_VOID();
	}

	if (touched_plan == NULL)
		touched_plan = keep_plan("SELECT array_agg(c ORDER BY c) FROM cdp_internal.changed_contacts(NULL) c",
								 0, NULL);
	if (!run_scalar(touched_plan, NULL, &touched))
	{
		SPI_finish();
		PG_RETURN_VOID();
	}
	if (lock_plan == NULL)
	{
		Oid			t = INT8ARRAYOID;

		lock_plan = keep_plan("SELECT c.id FROM cdp.contacts c WHERE c.id = ANY ($1) "
							  "ORDER BY c.id FOR NO KEY UPDATE OF c", 1, &t);
	}
	if (SPI_execute_plan(lock_plan, &touched, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not lock the contacts of the immediate segment pass");

	foreach(lc, pass_slug_list)
		DirectFunctionCall2(pg_advisory_xact_lock_shared_int4,
							Int32GetDatum(DatumGetInt32(DirectFunctionCall1Coll(hashtext, DEFAULT_COLLATION_OID, CStringGetTextDatum("cdp.segment_members")))),
							Int32GetDatum(DatumGetInt32(DirectFunctionCall1Coll(hashtext, DEFAULT_COLLATION_OID, CStringGetTextDatum(lfirst(lc))))));

	args[0] = touched;
	args[1] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	args[2] = pass_slugs;
	if (SPI_execute_plan(pass_plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "the immediate segment pass failed");
	SPI_finish();
	PG_RETURN_VOID();
}
