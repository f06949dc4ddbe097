/*
 * segment_membership.c
 *	  Stored segment membership: notes that a writing transaction needs the
 *	  immediate pass, fires it at commit, and says how time moves a segment.
 */
#include "cdp.h"
#include "citus/citus.h"
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
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(cdp_segment_pass_trigger);
PG_FUNCTION_INFO_V1(cdp_segment_time_windows);

/*
 * Whether a change since the last pass waits for one, and whether a firing
 * of the deferred trigger (changes_segment_pass on cdp.changes) is queued
 * for it.  The trigger's WHEN clause (segment_pass_wanted) queues one event
 * per transaction, not one per change row: a bulk load writes hundreds of
 * thousands.  An event queued in a subtransaction that rolls back is gone
 * with it, so the next change must queue another.
 */
static bool pass_pending = false;
static bool event_queued = false;
static SubTransactionId event_queued_in = InvalidSubTransactionId;
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
			pass_pending = false;
			event_queued = false;
			event_queued_in = InvalidSubTransactionId;
			break;
		default:
			break;
	}
}

static void
membership_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
							SubTransactionId parentSubid, void *arg)
{
	if (!event_queued || mySubid != event_queued_in)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		event_queued = false;
		event_queued_in = InvalidSubTransactionId;
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		event_queued_in = parentSubid;	/* the event now lives or dies with the parent */
}

static void
register_callbacks(void)
{
	if (!callbacks_registered)
	{
		RegisterXactCallback(membership_xact_callback, NULL);
		RegisterSubXactCallback(membership_subxact_callback, NULL);
		callbacks_registered = true;
	}
}

/*
 * On the coordinator of a distributed cdp, cdp.changes is written on the
 * workers, where its deferred trigger must not run the pass: a local table's
 * deferred trigger runs it here instead (citus_commit_work, distribute.sql).
 */
static void
queue_on_coordinator(void)
{
	event_queued = true;
	event_queued_in = GetCurrentSubTransactionId();
	SPI_connect();
	if (SPI_execute("INSERT INTO cdp_internal.citus_commit_work DEFAULT VALUES", false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not queue the commit-time work of a distributed cdp");
	SPI_finish();
}

void
cdp_segments_note_change(Oid relid, bool organization, int64 id)
{
	if (cdp_citus_on_worker())
		return;
	register_callbacks();
	cdp_segment_pass_touch(relid, organization, id);
	pass_pending = true;
	if (!event_queued && cdp_citus_mode())
		queue_on_coordinator();
}

PG_FUNCTION_INFO_V1(cdp_segment_pass_wanted);

/*
 * cdp_internal.segment_pass_wanted(action): the WHEN clause of the deferred
 * trigger, evaluated as each change row is written: true once, until the
 * queued event fires or is rolled back; never for the entries and exits the
 * pass writes itself.
 */
Datum
cdp_segment_pass_wanted(PG_FUNCTION_ARGS)
{
	char	   *action = text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (strcmp(action, "entered") == 0 || strcmp(action, "exited") == 0)
		PG_RETURN_BOOL(false);
	/* on Citus the coordinator queues the pass (queue_on_coordinator) */
	if (cdp_citus_mode())
		PG_RETURN_BOOL(false);
	register_callbacks();
	if (event_queued)
		PG_RETURN_BOOL(false);
	event_queued = true;
	event_queued_in = GetCurrentSubTransactionId();
	PG_RETURN_BOOL(true);
}

/*
 * The deferred constraint trigger on cdp.changes.  It fires when the
 * transaction commits (or at SET CONSTRAINTS … IMMEDIATE: changes after that
 * queue another firing).
 */
Datum
cdp_segment_pass_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "cdp_segment_pass_trigger: not called by trigger manager");
	/* the coordinator's queue row has done its job */
	if (RelationGetRelid(trigdata->tg_relation) ==
		get_relname_relid("citus_commit_work", get_namespace_oid("cdp_internal", false)))
	{
		Datum		ctid = PointerGetDatum(&trigdata->tg_trigtuple->t_self);
		Oid			type = TIDOID;

		SPI_connect();
		SPI_execute_with_args("DELETE FROM cdp_internal.citus_commit_work WHERE ctid = $1",
							  1, &type, &ctid, NULL, false, 0);
		SPI_finish();
	}
	event_queued = false;
	event_queued_in = InvalidSubTransactionId;
	if (pass_pending)
	{
		int			level = cdp_pin_search_path();

		cdp_disable_jit();
		pass_pending = false;
		cdp_segment_run_pass();
		cdp_restore_search_path(level);
	}
	return PointerGetDatum(NULL);
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
