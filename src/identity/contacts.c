/*
 * contacts.c
 *	  Small operations on contacts shared by every write path: the one contact
 *	  lock (follow tombstones, lock the live row, re-check), keeping the type
 *	  column true, and recording refused links.
 */
#include "cdp.h"
#include "citus/citus.h"
#include "identity/identity.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(cdp_lock_contact_sql);

/*
 * How many times the lock follows a contact that was merged away while it
 * waited before it gives up: each round needs a concurrent merge to commit,
 * so only a storm of merges on one person gets here.
 */
#define CDP_LOCK_ROUNDS 100

/*
 * The fast path: the id is a live contact; lock it.  A row merged by a
 * transaction we waited for fails the re-checked qual and is not returned.
 */
static cdp_query lock_live_query[2] = {
	{"SELECT 1 FROM cdp.contacts WHERE id = $1 AND merged_into IS NULL FOR NO KEY UPDATE",
	 1, {INT8OID}, CURSOR_OPT_GENERIC_PLAN, .citus_generic = true},
	{"SELECT 1 FROM cdp.contacts WHERE id = $1 AND merged_into IS NULL FOR UPDATE",
	 1, {INT8OID}, CURSOR_OPT_GENERIC_PLAN, .citus_generic = true}
};

/* Live contacts among $1, locked in ascending id order (LockRows runs above the sort). */
static cdp_query lock_live_set_query[2] = {
	{"SELECT id FROM cdp.contacts WHERE id = ANY($1) AND merged_into IS NULL"
	 " ORDER BY id FOR NO KEY UPDATE", 1, {INT8ARRAYOID}},
	{"SELECT id FROM cdp.contacts WHERE id = ANY($1) AND merged_into IS NULL"
	 " ORDER BY id FOR UPDATE", 1, {INT8ARRAYOID}}
};

/* (id, live contact) for every id of $1 that leads to a live contact. */
static cdp_query follow_query = {
	"WITH RECURSIVE chain(start, id, merged_into, depth) AS ("
	"   SELECT c.id, c.id, c.merged_into, 0 FROM cdp.contacts c WHERE c.id = ANY($1)"
	"   UNION ALL"
	"   SELECT chain.start, c.id, c.merged_into, chain.depth + 1"
	"     FROM cdp.contacts c JOIN chain ON c.id = chain.merged_into"
	"    WHERE chain.depth < 1000)"
	"SELECT start, id FROM chain WHERE merged_into IS NULL",
	1, {INT8ARRAYOID},
	/* tombstones lead straight to their live contact; Citus has no recursive CTEs on shards */
	.citus_sql = "SELECT c.id, coalesce(c.merged_into, c.id) FROM cdp.contacts c WHERE c.id = ANY($1)"
};

static cdp_query type_query = {
	"SELECT cdp_internal.refresh_contact_type($1)", 1, {INT8OID}
};

/*
 * A merge block between the people of the live contacts $1 and $2: one end
 * is $1 or merged into it, the other $2 or merged into it (tombstones lead
 * straight to their live contact).  Returns the end on $1's side first; the
 * pair ($1, $2) itself, if blocked, comes first, so an error names it.
 */
static cdp_query blocked_query = {
	"SELECT CASE WHEN coalesce(a.merged_into, a.id) = $1 THEN a.id ELSE b.id END,"
	"       CASE WHEN coalesce(a.merged_into, a.id) = $1 THEN b.id ELSE a.id END"
	"  FROM cdp.merge_blocks m"
	"  JOIN cdp.contacts a ON a.id = m.contact_a"
	"  JOIN cdp.contacts b ON b.id = m.contact_b"
	" WHERE (a.id IN ($1, $2) OR a.merged_into IN ($1, $2))"
	"   AND (b.id IN ($1, $2) OR b.merged_into IN ($1, $2))"
	"   AND coalesce(a.merged_into, a.id) <> coalesce(b.merged_into, b.id)"
	" ORDER BY (a.merged_into IS NOT NULL)::int + (b.merged_into IS NOT NULL)::int,"
	"          m.contact_a, m.contact_b",
	2, {INT8OID, INT8OID},
	.citus_sql = "SELECT end_a, end_b FROM cdp_internal.citus_merge_blocked($1, $2)"
};

/*
 * Fill live[i] with the live contact ids[i] leads to now (this statement's
 * snapshot); raise 42704 naming the first id that leads nowhere.
 */
static void
follow_tombstones(const int64 *ids, int n, int64 *live)
{
	Datum		args[1];

	args[0] = cdp_int8_array((int64 *) ids, n);
	cdp_execute(&follow_query, args, NULL, false, 0);
	for (int i = 0; i < n; i++)
		live[i] = 0;
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		int64		start = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
		int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull));

		for (int i = 0; i < n; i++)
			if (ids[i] == start)
				live[i] = id;
	}
	for (int i = 0; i < n; i++)
		if (live[i] == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("contact %lld does not exist", (long long) ids[i])));
}

/*
 * The one contact lock, for a set of ids: follow each id's tombstones to its
 * live contact, lock those live rows in ascending id order, and check again,
 * with what committed while we waited, that every id still leads to a row we
 * hold; if not (a merge or unmerge committed meanwhile), go round again.
 * live[i] receives the live contact of ids[i].  The caller is connected to
 * SPI.
 *
 * Once its live row is locked, a person cannot change shape: merging it,
 * unmerging from it and forgetting it all need that lock first.  So the
 * check after locking is final, and a write that follows it lands where
 * some serial order would put it.
 *
 * Under READ COMMITTED a merge we waited for is seen by the next statement;
 * under REPEATABLE READ and SERIALIZABLE, locking a row changed since the
 * snapshot raises PostgreSQL's own 40001, which is the right answer there.
 */
void
cdp_lock_live_contacts(const int64 *ids, int n, cdp_contact_lock mode, int64 *live)
{
	int64	   *sorted;
	int64	   *again;
	int			round;

	if (n <= 0)
		return;
	sorted = palloc(sizeof(int64) * n);
	again = palloc(sizeof(int64) * n);

	for (round = 0; round < CDP_LOCK_ROUNDS; round++)
	{
		Datum		args[1];
		int			nsorted = 0;
		bool		followed = false;
		bool		same = true;

		follow_tombstones(ids, n, live);
		for (int i = 0; i < n; i++)
		{
			followed |= (live[i] != ids[i]);
			sorted[nsorted++] = live[i];
		}
		qsort(sorted, nsorted, sizeof(int64), cdp_compare_int64);
		{
			int			k = 0;

			for (int i = 0; i < nsorted; i++)
				if (k == 0 || sorted[k - 1] != sorted[i])
					sorted[k++] = sorted[i];
			nsorted = k;
		}

		if (cdp_citus_mode())
		{
			/* Citus locks rows of one shard per statement: one by one, in order */
			uint64		locked = 0;

			for (int i = 0; i < nsorted; i++)
			{
				args[0] = Int64GetDatum(sorted[i]);
				cdp_execute(&lock_live_query[mode], args, NULL, false, 1);
				locked += SPI_processed;
			}
			if (locked != (uint64) nsorted)
				continue;
		}
		else
		{
			args[0] = cdp_int8_array(sorted, nsorted);
			cdp_execute(&lock_live_set_query[mode], args, NULL, false, 0);
			if (SPI_processed != (uint64) nsorted)
				continue;		/* one was merged or deleted while we waited */
		}
		if (!followed)
			break;				/* every id is a live row we now hold */

		/* a tombstone: does it still lead to the row we hold? */
		follow_tombstones(ids, n, again);
		for (int i = 0; i < n; i++)
			same &= (again[i] == live[i]);
		if (same)
			break;
	}
	if (round < CDP_LOCK_ROUNDS)
	{
		for (int i = 0; i < n; i++)
			cdp_citus_note_write(live[i]);
		return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("could not lock contact %lld: it kept being merged", (long long) ids[0]),
			 errdetail("The contact was merged or unmerged %d times while waiting for its lock.",
					   CDP_LOCK_ROUNDS),
			 errhint("Retry the transaction.")));
}

/*
 * The one contact lock: the live contact id leads to, locked in mode (see
 * cdp_lock_live_contacts); 42704 if id is unknown or its contact is gone.
 */
int64
cdp_lock_contact(int64 id, cdp_contact_lock mode)
{
	Datum		args[1] = {Int64GetDatum(id)};
	int64		live;

	cdp_execute(&lock_live_query[mode], args, NULL, false, 1);
	if (SPI_processed == 1)
		live = id;
	else
		cdp_lock_live_contacts(&id, 1, mode, &live);
	cdp_citus_note_write(live);
	return live;
}

/* cdp_internal.lock_contact(id bigint, for_update boolean DEFAULT false) -> live id */
Datum
cdp_lock_contact_sql(PG_FUNCTION_ARGS)
{
	cdp_contact_lock mode;
	int64		live;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("contact id must not be null")));
	mode = (!PG_ARGISNULL(1) && PG_GETARG_BOOL(1)) ? CDP_LOCK_CONTACT_ROW : CDP_LOCK_CHILD_ROWS;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	live = cdp_lock_contact(PG_GETARG_INT64(0), mode);
	SPI_finish();
	PG_RETURN_INT64(live);
}

void
cdp_refresh_contact_type(int64 id)
{
	Datum		args[1] = {Int64GetDatum(id)};

	cdp_execute(&type_query, args, NULL, false, 0);
}

/*
 * Whether merging the live contacts a and b would put a pair of
 * cdp.merge_blocks in one person: the pair itself, or anything merged into
 * one against anything merged into the other.  If so, *end_a and *end_b
 * receive the blocked pair (end_a is a or merged into it; the pair (a, b)
 * itself if it is blocked), for the error to name.  The caller holds both
 * locks, so neither person can gain or lose a contact meanwhile.  Read with
 * a new snapshot (not read-only, which would reuse the caller's): a block
 * that an unmerge we waited for has just committed must be seen, and so
 * must the contacts a merge we waited for has just moved.
 */
bool
cdp_merge_blocked(int64 a, int64 b, int64 *end_a, int64 *end_b)
{
	Datum		args[2] = {Int64GetDatum(a), Int64GetDatum(b)};
	bool		isnull;

	cdp_execute(&blocked_query, args, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	*end_a = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	*end_b = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	return true;
}

/* {"kind": ..., "value": ...}: the identifier that linked two contacts. */
Jsonb *
cdp_identifier_evidence(const char *kind, const char *value)
{
	JsonbParseState *state = NULL;
	JsonbValue	k;
	JsonbValue	v;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	k.type = jbvString;
	k.val.string.val = "kind";
	k.val.string.len = 4;
	pushJsonbValue(&state, WJB_KEY, &k);
	v.type = jbvString;
	v.val.string.val = (char *) kind;
	v.val.string.len = strlen(kind);
	pushJsonbValue(&state, WJB_VALUE, &v);
	k.val.string.val = "value";
	k.val.string.len = 5;
	pushJsonbValue(&state, WJB_KEY, &k);
	v.val.string.val = (char *) value;
	v.val.string.len = strlen(value);
	pushJsonbValue(&state, WJB_VALUE, &v);
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
}
