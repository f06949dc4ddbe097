/*
 * segment_pass.c
 *	  The immediate pass: at commit, evaluates the immediate segments that
 *	  the transaction's writes can have changed, for the contacts it touched,
 *	  and stores the difference.
 *
 * The change capture tells us, for every row it records, the table written
 * and the contact (or organization) it is about.  A segment can only change
 * for a contact if a table its compiled SQL reads changed for that contact,
 * so each segment's kept plan carries the tables it reads (the plan's
 * relation dependencies), and a pass evaluates only the segments that read a
 * touched table.  A write to cdp.contacts itself (a new, archived, merged or
 * renamed contact) or to cdp.organizations (the tree) concerns every segment.  Touching too many is never wrong:
 * an untouched contact evaluates to its stored membership.
 */
#include "cdp.h"
#include "citus/citus.h"
#include "segment/segment_membership.h"
#include "spi_plans.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(cdp_segment_catalog_changed);

/* Beyond this many touched contacts the pass reads them from the change log. */
#define TOUCHED_MAX 1000000

typedef struct IdList
{
	int64	   *ids;
	int			n;
	int			max;
} IdList;

/* What this transaction touched, in TopTransactionContext. */
static IdList touched_contacts;
static IdList touched_organizations;
static Oid *touched_relations;
static int	ntouched_relations;
static int	max_touched_relations;
static bool touched_overflow;
static bool touched_callback_registered = false;

static void
touched_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			/* the memory goes with TopTransactionContext */
			memset(&touched_contacts, 0, sizeof(touched_contacts));
			memset(&touched_organizations, 0, sizeof(touched_organizations));
			touched_relations = NULL;
			ntouched_relations = max_touched_relations = 0;
			touched_overflow = false;
			break;
		default:
			break;
	}
}

static void
append_id(IdList *list, int64 id)
{
	if (list->n > 0 && list->ids[list->n - 1] == id)
		return;					/* a row after a row of the same contact */
	if (list->n == list->max)
	{
		list->max = list->max == 0 ? 64 : list->max * 2;
		list->ids = list->ids == NULL
			? MemoryContextAlloc(TopTransactionContext, list->max * sizeof(int64))
			: repalloc(list->ids, list->max * sizeof(int64));
	}
	list->ids[list->n++] = id;
}

void
cdp_segment_pass_touch(Oid relid, bool organization, int64 id)
{
	if (!touched_callback_registered)
	{
		RegisterXactCallback(touched_xact_callback, NULL);
		touched_callback_registered = true;
	}
	for (int i = 0;; i++)
	{
		if (i == ntouched_relations)
		{
			if (ntouched_relations == max_touched_relations)
			{
				max_touched_relations = max_touched_relations == 0 ? 8 : max_touched_relations * 2;
				touched_relations = touched_relations == NULL
					? MemoryContextAlloc(TopTransactionContext, max_touched_relations * sizeof(Oid))
					: repalloc(touched_relations, max_touched_relations * sizeof(Oid));
			}
			touched_relations[ntouched_relations++] = relid;
			break;
		}
		if (touched_relations[i] == relid)
			break;
	}
	if (touched_overflow || id == 0)
		return;
	if (touched_contacts.n + touched_organizations.n >= TOUCHED_MAX)
	{
		touched_overflow = true;
		return;
	}
	append_id(organization ? &touched_organizations : &touched_contacts, id);
}

/*
 * The kept plans, one per immediate segment, made again when cdp.segments
 * or anything a compiled segment depends on changes: the catalogs'
 * statement trigger sends a relcache invalidation of cdp.segments
 * (segment_catalog_changed), which reaches every backend when the change
 * commits and this one at once.
 */
typedef struct PassSegment
{
	char	   *slug;
	SPIPlanPtr	plan;			/* SELECT c.id … WHERE c.id = ANY ($1), at $2 */
	Oid		   *relations;		/* the tables the plan reads */
	int			nrelations;
	int32		lock_key;		/* with members_lock_key, as lock_segment_membership */
} PassSegment;

static PassSegment *segments;
static int	nsegments;
static int32 members_lock_key;
static Oid	segments_relid = InvalidOid;
static Oid	contacts_relid = InvalidOid;
static Oid	organizations_relid = InvalidOid;
static uint64 invalidations = 0;
static uint64 built_at = PG_UINT64_MAX; /* never */
static bool relcache_callback_registered = false;

static void
pass_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == segments_relid)
		invalidations++;
}

static Oid
cdp_relid(const char *name)
{
	return get_relname_relid(name, get_namespace_oid("cdp", false));
}

Datum
cdp_segment_catalog_changed(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "cdp_segment_catalog_changed: not called by trigger manager");
	CacheInvalidateRelcacheByRelid(cdp_relid("segments"));
	return PointerGetDatum(NULL);
}

static int32
hash_key(const char *s)
{
	return DatumGetInt32(DirectFunctionCall1Coll(hashtext, DEFAULT_COLLATION_OID,
												 CStringGetTextDatum(s)));
}

/*
 * The pass's fixed statements.  Generic plans: a custom plan per call would
 * plan again every time (the candidates are an array parameter whose value
 * does not change the best plan: index probes per candidate).
 */
static cdp_query immediate_segments = {
	"SELECT s.slug, cdp_internal.compile_segment_for(s.definition, '$2', '$1', s.slug) "
	"FROM cdp.segments s WHERE s.refresh = 'immediate' ORDER BY s.slug COLLATE \"C\"",
	0, {0}, CURSOR_OPT_GENERIC_PLAN
};

static cdp_query logged_contacts = {
	"SELECT array_agg(c) FROM cdp_internal.changed_contacts(NULL) c",
	0, {0}, CURSOR_OPT_GENERIC_PLAN,
	.citus_sql = "SELECT cdp_internal.citus_changed_contacts(NULL)"
};

static cdp_query organization_members = {
	"SELECT array_agg(c) FROM cdp_internal.organization_tree_members($1) c",
	1, {INT8ARRAYOID}, CURSOR_OPT_GENERIC_PLAN
};

static cdp_query lock_contacts = {
	"SELECT c.id FROM cdp.contacts c WHERE c.id = ANY ($1) ORDER BY c.id FOR NO KEY UPDATE OF c",
	1, {INT8ARRAYOID}, CURSOR_OPT_GENERIC_PLAN,
	.citus_sql = "SELECT cdp_internal.citus_lock_contacts($1)"
};

/* by segment and contact, segments in "C" order like the pass's list */
static cdp_query stored_membership = {
	"SELECT m.segment, m.contact_id FROM cdp.segment_members m "
	"WHERE m.contact_id = ANY ($1) AND m.segment = ANY ($2) "
	"ORDER BY m.segment COLLATE \"C\", m.contact_id",
	2, {INT8ARRAYOID, TEXTARRAYOID}, CURSOR_OPT_GENERIC_PLAN
};

static cdp_query store_changes = {
	"SELECT * FROM cdp_internal.store_membership_changes($1, $2, $3, $4)",
	4, {TEXTARRAYOID, INT8ARRAYOID, BOOLARRAYOID, TIMESTAMPTZOID}, CURSOR_OPT_GENERIC_PLAN
};

/* A segment's own plan, kept for the backend's life (freed on rebuild). */
static SPIPlanPtr
keep_plan(const char *sql, int nargs, Oid *argtypes)
{
	/* Citus plans a query over shards with its parameters' values */
	SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, argtypes,
										  cdp_citus_mode() ? CURSOR_OPT_CUSTOM_PLAN : CURSOR_OPT_GENERIC_PLAN);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	return plan;
}

static void
forget_segments(void)
{
	for (int i = 0; i < nsegments; i++)
	{
		SPI_freeplan(segments[i].plan);
		pfree(segments[i].slug);
		if (segments[i].relations)
			pfree(segments[i].relations);
	}
	if (segments)
		pfree(segments);
	segments = NULL;
	nsegments = 0;
}

static void
build_segments(void)
{
	Oid			argtypes[2] = {INT8ARRAYOID, TIMESTAMPTZOID};
	uint64		started_at = invalidations;

	if (!relcache_callback_registered)
	{
		CacheRegisterRelcacheCallback(pass_relcache_callback, (Datum) 0);
		relcache_callback_registered = true;
	}
	members_lock_key = hash_key("cdp.segment_members");
	segments_relid = cdp_relid("segments");
	contacts_relid = cdp_relid("contacts");
	organizations_relid = cdp_relid("organizations");
	forget_segments();

	if (cdp_execute(&immediate_segments, NULL, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the immediate segments");
	if (SPI_processed > 0)
	{
		SPITupleTable *tuptable = SPI_tuptable;
		int			n = (int) SPI_processed;

		segments = MemoryContextAllocZero(TopMemoryContext, n * sizeof(PassSegment));
		for (int i = 0; i < n; i++)
		{
			PassSegment *seg = &segments[i];
			char	   *sql = SPI_getvalue(tuptable->vals[i], tuptable->tupdesc, 2);
			List	   *sources;
			ListCell   *lc;
			int			k = 0;

			seg->slug = MemoryContextStrdup(TopMemoryContext,
											SPI_getvalue(tuptable->vals[i], tuptable->tupdesc, 1));
			seg->lock_key = hash_key(seg->slug);
			seg->plan = keep_plan(sql, 2, argtypes);
			nsegments = i + 1;	/* freed by forget_segments from here on */

			sources = SPI_plan_get_plan_sources(seg->plan);
			foreach(lc, sources)
				k += list_length(((CachedPlanSource *) lfirst(lc))->relationOids);
			seg->relations = MemoryContextAlloc(TopMemoryContext, Max(k, 1) * sizeof(Oid));
			foreach(lc, sources)
			{
				ListCell   *r;

				foreach(r, ((CachedPlanSource *) lfirst(lc))->relationOids)
					seg->relations[seg->nrelations++] = lfirst_oid(r);
			}
		}
	}
	/* an invalidation that arrived while building makes the next pass build again */
	built_at = started_at;
}

/* Whether a write to the touched tables can change the segment. */
static bool
segment_concerned(const PassSegment *seg)
{
	if (touched_overflow)
		return true;
	for (int t = 0; t < ntouched_relations; t++)
	{
		/*
		 * The contacts row (new, archived, merged, renamed) is read by every
		 * segment; an organization's place in the tree is compiled into
		 * id lists (ORGANIZATION UNDER) rather than read.
		 */
		if (touched_relations[t] == contacts_relid || touched_relations[t] == organizations_relid)
			return true;
		for (int r = 0; r < seg->nrelations; r++)
			if (seg->relations[r] == touched_relations[t])
				return true;
	}
	return false;
}

/* Sorts and removes duplicates; returns the new length. */
static int
sort_unique(int64 *ids, int n)
{
	int			k = 0;

	if (n == 0)
		return 0;
	qsort(ids, n, sizeof(int64), cdp_compare_int64);
	for (int i = 1; i < n; i++)
		if (ids[i] != ids[k])
			ids[++k] = ids[i];
	return k + 1;
}

/* The bigint[] result of a one-row, one-column statement; NULL when null. */
static ArrayType *
array_result(cdp_query *query, Datum *args)
{
	bool		isnull;
	Datum		d;

	if (cdp_execute(query, args, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "the immediate segment pass could not read its input");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? NULL : DatumGetArrayTypeP(d);
}

/*
 * The contacts to evaluate, sorted: those touched, and the members of the
 * touched organizations and of the organizations below them; or, past
 * TOUCHED_MAX, those the change log has for this transaction.  *others is
 * the bigint[] of those the transaction's write paths did not lock
 * themselves (members and the change log's), or 0.
 */
static int
pass_contacts(int64 **out, Datum *others)
{
	int64	   *ids;
	int			n = 0;
	ArrayType  *extra = NULL;
	int			nextra = 0;

	if (touched_overflow)
		extra = array_result(&logged_contacts, NULL);
	else if (touched_organizations.n > 0)
	{
		Datum		orgs = cdp_int8_array(touched_organizations.ids, touched_organizations.n);

		extra = array_result(&organization_members, &orgs);
	}
	if (extra != NULL)
		nextra = ArrayGetNItems(ARR_NDIM(extra), ARR_DIMS(extra));
	*others = nextra > 0 ? PointerGetDatum(extra) : (Datum) 0;

	ids = palloc((touched_contacts.n + nextra + 1) * sizeof(int64));
	if (!touched_overflow)
	{
		memcpy(ids, touched_contacts.ids, touched_contacts.n * sizeof(int64));
		n = touched_contacts.n;
	}
	if (nextra > 0)
	{
		Datum	   *elems;
		int			count;

		deconstruct_array(extra, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, NULL, &count);
		for (int i = 0; i < count; i++)
			ids[n++] = DatumGetInt64(elems[i]);
	}
	*out = ids;
	return sort_unique(ids, n);
}

/* The sorted ids a segment's plan returns for the candidates at a time. */
static int
evaluate(PassSegment *seg, Datum candidates, Datum at, int64 **out)
{
	Datum		args[2] = {candidates, at};
	int64	   *ids;
	int			n;

	/* not read_only: a fresh snapshot, taken after the contact locks */
	if (SPI_execute_plan(seg->plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "evaluating segment \"%s\" failed", seg->slug);
	n = (int) SPI_processed;
	ids = palloc((n + 1) * sizeof(int64));
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		ids[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
	}
	*out = ids;
	return sort_unique(ids, n);
}

typedef struct Differences
{
	Datum	   *segments;
	Datum	   *contacts;
	Datum	   *entered;
	int			n;
	int			max;
} Differences;

static void
add_difference(Differences *d, const char *slug, int64 contact, bool entered)
{
	if (d->n == d->max)
	{
		d->max = d->max == 0 ? 16 : d->max * 2;
		d->segments = d->segments ? repalloc(d->segments, d->max * sizeof(Datum)) : palloc(d->max * sizeof(Datum));
		d->contacts = d->contacts ? repalloc(d->contacts, d->max * sizeof(Datum)) : palloc(d->max * sizeof(Datum));
		d->entered = d->entered ? repalloc(d->entered, d->max * sizeof(Datum)) : palloc(d->max * sizeof(Datum));
	}
	d->segments[d->n] = CStringGetTextDatum(slug);
	d->contacts[d->n] = Int64GetDatum(contact);
	d->entered[d->n] = BoolGetDatum(entered);
	d->n++;
}

/*
 * The immediate pass: evaluates the concerned immediate segments for the
 * contacts this transaction touched, all of them locked (so that a
 * concurrent writer's pass on the same contact, e.g. through an organization
 * change, runs before or after this one, not across it), and stores the
 * difference with cdp_internal.store_membership_changes.  The caller pins
 * search_path: the statements are prepared under it.
 */
void
cdp_segment_run_pass(void)
{
	int64	   *contacts;
	int			ncontacts;
	Datum		others;
	Datum		candidates;
	Datum		at = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	bool	   *concerned;
	Datum	   *slugs;
	int			nconcerned = 0;
	Differences diff = {0};
	int			row = 0;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (built_at != invalidations)
		build_segments();

	concerned = palloc0((nsegments + 1) * sizeof(bool));
	slugs = palloc((nsegments + 1) * sizeof(Datum));
	for (int i = 0; i < nsegments; i++)
		if ((concerned[i] = segment_concerned(&segments[i])))
			slugs[nconcerned++] = CStringGetTextDatum(segments[i].slug);
	if (nconcerned == 0)
	{
		SPI_finish();
		return;
	}
	ncontacts = pass_contacts(&contacts, &others);
	if (ncontacts == 0)
	{
		SPI_finish();
		return;
	}
	candidates = cdp_int8_array(contacts, ncontacts);

	/*
	 * Every write path locked the contacts it touched (DESIGN §10); the
	 * members an organization change reaches are locked here, so that this
	 * pass and a concurrent writer's run one after the other on them.
	 */
	if (others != (Datum) 0 &&
		cdp_execute(&lock_contacts, &others, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not lock the contacts of the immediate segment pass");
	for (int i = 0; i < nsegments; i++)
		if (concerned[i])
			DirectFunctionCall2(pg_advisory_xact_lock_shared_int4,
								Int32GetDatum(members_lock_key),
								Int32GetDatum(segments[i].lock_key));

	/* the stored membership of the candidates, by segment and contact */
	{
		Datum		args[2] = {candidates,
			PointerGetDatum(construct_array(slugs, nconcerned, TEXTOID, -1, false, TYPALIGN_INT))};

		if (cdp_execute(&stored_membership, args, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read stored segment membership");
	}

	{
		SPITupleTable *stored = SPI_tuptable;
		uint64		nstored = SPI_processed;

		/* segments are in slug order, "C" collation, as the stored rows */
		for (int i = 0; i < nsegments; i++)
		{
			int64	   *now;
			int			nnow;
			int			k = 0;

			if (!concerned[i])
				continue;
			nnow = evaluate(&segments[i], candidates, at, &now);
			while (row < nstored || k < nnow)
			{
				bool		isnull;
				bool		here = row < nstored &&
					strcmp(TextDatumGetCString(SPI_getbinval(stored->vals[row], stored->tupdesc, 1, &isnull)),
						   segments[i].slug) == 0;
				int64		was = here ? DatumGetInt64(SPI_getbinval(stored->vals[row], stored->tupdesc, 2, &isnull)) : 0;

				if (!here && k == nnow)
					break;
				if (!here || (k < nnow && now[k] < was))
					add_difference(&diff, segments[i].slug, now[k++], true);
				else if (k == nnow || was < now[k])
				{
					add_difference(&diff, segments[i].slug, was, false);
					row++;
				}
				else
				{
					k++;
					row++;
				}
			}
		}
	}

	if (diff.n > 0)
	{
		Datum		args[4];

		args[0] = PointerGetDatum(construct_array(diff.segments, diff.n, TEXTOID, -1, false, TYPALIGN_INT));
		args[1] = PointerGetDatum(construct_array(diff.contacts, diff.n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		args[2] = PointerGetDatum(construct_array(diff.entered, diff.n, BOOLOID, 1, true, TYPALIGN_CHAR));
		args[3] = at;
		if (cdp_execute(&store_changes, args, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not store segment membership");
	}
	SPI_finish();
}
