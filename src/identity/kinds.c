/*
 * kinds.c
 *	  Reads cdp.identifier_kinds, keeps it per backend until a change to the
 *	  table invalidates it, and answers the questions the merge rules ask of
 *	  a kind: which normaliser, and is a value blocked.
 */
#include "identity/identity.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "storage/proc.h"
#include "utils/tuplestore.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(cdp_invalidate_cache);

/*
 * The kinds as of the last read, and whether cdp.suppressions had rows.
 * A statement-level trigger on each table sends a relcache invalidation
 * (cdp_invalidate_cache), which reaches this backend at once and the others
 * at commit; the callback only marks the copy stale.
 */
static MemoryContext cache_context = NULL;
static cdp_kinds *cached_kinds = NULL;
static Oid	kinds_relid = InvalidOid;
static int	cached_suppressions = -1;	/* -1 unknown, else 0/1 */
static Oid	suppressions_relid = InvalidOid;
static bool callback_registered = false;

/*
 * A copy read under REPEATABLE READ or SERIALIZABLE reflects the
 * transaction's snapshot, which may predate a change whose invalidation was
 * already taken in: such a copy serves that transaction only.  These are
 * the local transaction ids they were read in, or Invalid when read with a
 * fresh snapshot (READ COMMITTED), which stays good until invalidated.
 */
static LocalTransactionId kinds_lxid = InvalidLocalTransactionId;
static LocalTransactionId suppressions_lxid = InvalidLocalTransactionId;

static LocalTransactionId
snapshot_scope(void)
{
	return IsolationUsesXactSnapshot() ? MyProc->lxid : InvalidLocalTransactionId;
}

/* Is a copy read in scope still good in this transaction? */
static bool
in_scope(LocalTransactionId scope)
{
	return scope == InvalidLocalTransactionId || scope == MyProc->lxid;
}

static void
relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == kinds_relid)
		cached_kinds = NULL;
	if (relid == InvalidOid || relid == suppressions_relid)
		cached_suppressions = -1;
}

/* Trigger: tell every backend that cached kinds or suppressions are stale. */
Datum
cdp_invalidate_cache(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "cdp_invalidate_cache must be called as a trigger");
	CacheInvalidateRelcache(trigdata->tg_relation);
	return PointerGetDatum(NULL);
}

static void
register_callback(void)
{
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(relcache_callback, (Datum) 0);
		callback_registered = true;
	}
}

static Oid
cdp_relid(const char *name)
{
	return get_relname_relid(name, get_namespace_oid("cdp", false));
}

bool
cdp_any_suppressions(void)
{
	register_callback();
	if (cached_suppressions < 0 || !in_scope(suppressions_lxid))
	{
		bool		isnull;

		suppressions_relid = cdp_relid("suppressions");
		if (SPI_execute("SELECT EXISTS (SELECT 1 FROM cdp.suppressions)", false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read cdp.suppressions");
		cached_suppressions =
			DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) ? 1 : 0;
		suppressions_lxid = snapshot_scope();
	}
	return cached_suppressions == 1;
}

static cdp_query load_kinds_query = {
	"SELECT kind, normalizer, priority, max_per_contact, matchable,"
	"       blocked_values, blocked_patterns, slugs"
	"  FROM cdp.identifier_kinds ORDER BY priority, kind", 0
};

static char **
text_array_values(HeapTuple tuple, TupleDesc desc, int column, int *n)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, column, &isnull);
	Datum	   *elems;
	bool	   *nulls;
	char	  **out;
	int			count = 0;

	*n = 0;
	if (isnull)
		return NULL;
	deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, n);
	out = palloc(sizeof(char *) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
		if (!nulls[i])
			out[count++] = TextDatumGetCString(elems[i]);
	*n = count;
	return out;
}

/*
 * The kinds, read again only after a change.  A statement keeps using the
 * kinds it loaded until it ends, even when a change invalidates them in its
 * middle: the invalidation can arrive with any lock taken (another session
 * committed a change, or the cache was reset wholesale), and the insert
 * trigger on cdp.identifiers then reloads the kinds while resolve or
 * resolve_all still points into the old copy.  So the old copy is not freed
 * here; it is handed to the transaction, which frees it when it ends (no
 * statement outlives its transaction).
 */
cdp_kinds *
cdp_load_kinds(void)
{
	cdp_kinds  *kinds;
	TupleDesc	desc;
	MemoryContext old;

	register_callback();
	if (cached_kinds != NULL && in_scope(kinds_lxid))
		return cached_kinds;
	if (cache_context != NULL)
		MemoryContextSetParent(cache_context, TopTransactionContext);
	cache_context = AllocSetContextCreate(TopMemoryContext, "cdp identifier kinds",
										  ALLOCSET_SMALL_SIZES);
	kinds_relid = cdp_relid("identifier_kinds");

	cdp_execute(&load_kinds_query, NULL, NULL, false, 0);
	old = MemoryContextSwitchTo(cache_context);
	kinds = palloc(sizeof(cdp_kinds));
	desc = SPI_tuptable->tupdesc;
	kinds->nkinds = SPI_processed;
	kinds->kinds = palloc0(sizeof(cdp_kind) * Max(kinds->nkinds, 1));
	for (int i = 0; i < kinds->nkinds; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		cdp_kind   *k = &kinds->kinds[i];
		bool		isnull;
		Datum		d;
		char	   *normalizer;

		k->kind = SPI_getvalue(tuple, desc, 1);
		normalizer = SPI_getvalue(tuple, desc, 2);
		if (!cdp_normalizer_from_name(normalizer, &k->normalizer))
			elog(ERROR, "identifier kind \"%s\" has unknown normalizer \"%s\"",
				 k->kind, normalizer);
		k->priority = DatumGetInt32(SPI_getbinval(tuple, desc, 3, &isnull));
		d = SPI_getbinval(tuple, desc, 4, &isnull);
		k->max_per_contact = isnull ? 0 : DatumGetInt32(d);
		k->matchable = DatumGetBool(SPI_getbinval(tuple, desc, 5, &isnull));
		k->blocked_values = text_array_values(tuple, desc, 6, &k->nblocked_values);
		k->blocked_patterns = text_array_values(tuple, desc, 7, &k->nblocked_patterns);
		k->slugs = text_array_values(tuple, desc, 8, &k->nslugs);
	}
	/* the same kinds as the merge-rule core sees them */
	kinds->rules = palloc(sizeof(cdp_mr_kind) * Max(kinds->nkinds, 1));
	kinds->limited_slot = palloc(sizeof(int32) * Max(kinds->nkinds, 1));
	for (int i = 0; i < kinds->nkinds; i++)
	{
		kinds->rules[i].priority = kinds->kinds[i].priority;
		kinds->rules[i].max_per_contact = kinds->kinds[i].max_per_contact;
		kinds->rules[i].matchable = kinds->kinds[i].matchable;
	}
	kinds->nlimited = cdp_mr_limited(kinds->rules, kinds->nkinds, kinds->limited_slot);
	MemoryContextSwitchTo(old);
	cached_kinds = kinds;
	kinds_lxid = snapshot_scope();
	return kinds;
}

const cdp_kind *
cdp_find_kind(const cdp_kinds *kinds, const char *kind)
{
	for (int i = 0; i < kinds->nkinds; i++)
		if (strcmp(kinds->kinds[i].kind, kind) == 0)
			return &kinds->kinds[i];
	return NULL;
}

/* Blocked values match exactly; blocked patterns with LIKE (C collation). */
bool
cdp_value_blocked(const cdp_kind *kind, const char *value)
{
	for (int i = 0; i < kind->nblocked_values; i++)
		if (strcmp(kind->blocked_values[i], value) == 0)
			return true;
	if (kind->nblocked_patterns > 0)
	{
		Datum		v = CStringGetTextDatum(value);

		for (int i = 0; i < kind->nblocked_patterns; i++)
		{
			Datum		p = CStringGetTextDatum(kind->blocked_patterns[i]);

			if (DatumGetBool(DirectFunctionCall2Coll(textlike, C_COLLATION_OID, v, p)))
				return true;
		}
	}
	return false;
}

PG_FUNCTION_INFO_V1(cdp_check_identifier_kinds);

/*
 * Statement trigger on cdp.identifiers: every inserted row's kind must be a
 * cdp.identifier_kinds row.  Reads the transition table against the cached
 * kinds, so a bulk insert costs one pass and no query.
 */
Datum
cdp_check_identifier_kinds(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Tuplestorestate *rows;
	TupleDesc	desc;
	TupleTableSlot *slot;
	int			kind_column;
	int			reader;
	cdp_kinds  *kinds;

	if (!CALLED_AS_TRIGGER(fcinfo) || trigdata->tg_newtable == NULL)
		elog(ERROR, "cdp_check_identifier_kinds must be an insert trigger with a transition table");
	rows = trigdata->tg_newtable;
	desc = RelationGetDescr(trigdata->tg_relation);
	kind_column = SPI_fnumber(desc, "kind");
	if (kind_column <= 0)
		elog(ERROR, "cdp.identifiers has no column \"kind\"");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	kinds = cdp_load_kinds();
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	/* a read pointer of our own, so other readers of the table are undisturbed */
	reader = tuplestore_alloc_read_pointer(rows, EXEC_FLAG_REWIND);
	tuplestore_select_read_pointer(rows, reader);
	tuplestore_rescan(rows);
	while (tuplestore_gettupleslot(rows, true, false, slot))
	{
		bool		isnull;
		Datum		kind = slot_getattr(slot, kind_column, &isnull);
		char	   *name;

		if (isnull)
			continue;			/* NOT NULL has refused it already */
		name = TextDatumGetCString(kind);
		if (cdp_find_kind(kinds, name) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("insert into cdp.identifiers violates its kind reference"),
					 errdetail("Identifier kind \"%s\" is not in cdp.identifier_kinds.", name)));
		pfree(name);
	}
	tuplestore_select_read_pointer(rows, 0);
	ExecDropSingleTupleTableSlot(slot);
	SPI_finish();
	return PointerGetDatum(NULL);
}
