/*
 * identifier_locks.c
 *	  The lock every write path takes on identifier values before it reads or
 *	  writes them (resolve, resolve_all, forget_contact): bucketed advisory
 *	  locks, always taken in ascending order; and the row locks on the
 *	  contacts holding those values, in ascending id order until none moved.
 */
#include "cdp.h"
#include "citus/citus.h"
#include "identity/identity.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "port/pg_bitutils.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

PG_FUNCTION_INFO_V1(cdp_lock_identifier_values_sql);

/* First key of the two-key advisory locks cdp takes on identifier values. */
#define CDP_IDENTIFIER_LOCK_CLASS 0x43445031	/* "CDP1" */

/*
 * Identifier values are locked by bucket (CDP_IDENTIFIER_LOCK_BUCKETS of
 * them), not one by one: a transaction that resolves a million records then
 * holds at most that many locks instead of exhausting the lock table.
 * Unrelated records share a bucket rarely, and then only wait for each
 * other's commit.
 */
static uint32
bucket_of(const char *kind, const char *value)
{
	uint32		h = hash_bytes((const unsigned char *) kind, strlen(kind));

	return hash_combine(h, hash_bytes((const unsigned char *) value, strlen(value)))
		% CDP_IDENTIFIER_LOCK_BUCKETS;
}

void
cdp_value_locks_add(cdp_value_locks *locks, const char *kind, const char *value)
{
	uint32		b = bucket_of(kind, value);

	locks->wanted[b / 64] |= UINT64CONST(1) << (b % 64);
}

/*
 * Lock the buckets gathered for the rest of the transaction, in ascending
 * bucket order, so that two writers never wait for each other in a cycle.
 */
void
cdp_value_locks_take(const cdp_value_locks *locks)
{
	for (int w = 0; w < lengthof(locks->wanted); w++)
		for (uint64 bits = locks->wanted[w]; bits != 0; bits &= bits - 1)
			DirectFunctionCall2(pg_advisory_xact_lock_int4,
								Int32GetDatum(CDP_IDENTIFIER_LOCK_CLASS),
								Int32GetDatum(w * 64 + pg_rightmost_one_pos64(bits)));
}

/* Lock the buckets of n (kind, normalised value) pairs, as above. */
void
cdp_lock_identifier_values(const char *const *kinds, const char *const *values, int n)
{
	cdp_value_locks locks;

	memset(&locks, 0, sizeof(locks));
	for (int i = 0; i < n; i++)
		cdp_value_locks_add(&locks, kinds[i], values[i]);
	cdp_value_locks_take(&locks);
}

/* The stored identifiers among some values, in id order. */
static cdp_query value_ids_query = {
	"SELECT i.id FROM unnest($1::text[], $2::text[]) AS u(kind, value)"
	"  JOIN cdp.identifiers i ON i.kind = u.kind AND i.value = u.value ORDER BY i.id",
	2, {TEXTARRAYOID, TEXTARRAYOID}
};

static int64 *
value_ids(uint64 *n)
{
	int64	   *ids = palloc(sizeof(int64) * Max(SPI_processed, 1));
	bool		isnull;

	*n = SPI_processed;
	for (uint64 r = 0; r < SPI_processed; r++)
		ids[r] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return ids;
}

/*
 * Under REPEATABLE READ or SERIALIZABLE, the identifier locks can make us
 * wait for a writer of the same values whose work our snapshot will never
 * see: resolving on would insert a value that now exists (23505) or miss one
 * that is gone.  So, once the locks are held, the values (kinds[i] and
 * values[i] of two text[]) must be stored alike in our snapshot and in the
 * latest one; if not, the transaction must be retried (40001), as
 * PostgreSQL itself answers a row changed since the snapshot.  Under READ
 * COMMITTED every statement sees the latest state: nothing to check.
 */
void
cdp_check_values_unchanged(Datum kinds, Datum values)
{
	Datum		args[2] = {kinds, values};
	int64	   *mine;
	int64	   *latest;
	uint64		nmine;
	uint64		nlatest;

	if (!IsolationUsesXactSnapshot())
		return;
	cdp_execute(&value_ids_query, args, NULL, true, 0);
	mine = value_ids(&nmine);
	if (SPI_execute_snapshot(value_ids_query.plan, args, NULL, GetLatestSnapshot(),
							 InvalidSnapshot, true, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the identifiers with the latest snapshot");
	latest = value_ids(&nlatest);
	if (nmine != nlatest || (nmine > 0 && memcmp(mine, latest, sizeof(int64) * nmine) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent change of identifiers"),
				 errdetail("Another transaction stored or removed identifier values this one resolves after its snapshot was taken."),
				 errhint("Retry the transaction.")));
}

/*
 * How often the owners of identifier values are looked up again, and the
 * whole set relocked, before giving up: each needs a concurrent merge or
 * unmerge to commit, so only a storm of them on one person gets there.
 */
#define CDP_OWNER_ROUNDS 100

/* One contact at a time (few of them): a primary-key probe. */
static cdp_query lock_owner_query = {
	"SELECT id, created_at FROM cdp.contacts WHERE id = $1 AND merged_into IS NULL FOR UPDATE",
	1, {INT8OID}, CURSOR_OPT_GENERIC_PLAN
};

/* Many at once, in ascending id order (LockRows runs above the sort). */
static cdp_query lock_owners_query = {
	"SELECT id, created_at FROM cdp.contacts WHERE id = ANY($1) AND merged_into IS NULL"
	" ORDER BY id FOR UPDATE",
	1, {INT8ARRAYOID}
};

#define LOCK_ONE_BY_ONE 8

static void
remember_locked(cdp_locked_contacts *locked, int *capacity)
{
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		HeapTuple	t = SPI_tuptable->vals[r];

		if (locked->n == *capacity)
		{
			*capacity *= 2;
			locked->ids = repalloc_huge(locked->ids, sizeof(int64) * *capacity);
			locked->created_at = repalloc_huge(locked->created_at, sizeof(TimestampTz) * *capacity);
		}
		locked->ids[locked->n] = DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull));
		locked->created_at[locked->n] =
			DatumGetTimestampTz(SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &isnull));
		locked->n++;
	}
}

/*
 * Row-lock the live contacts among ids (ascending, all above those held);
 * one merged or deleted meanwhile is skipped: its values moved on, and the
 * next lookup finds where.
 */
static void
lock_more(cdp_locked_contacts *locked, int *capacity, int64 *ids, int n)
{
	if (n <= LOCK_ONE_BY_ONE)
		for (int k = 0; k < n; k++)
		{
			Datum		args[1] = {Int64GetDatum(ids[k])};

			cdp_execute(&lock_owner_query, args, NULL, false, 1);
			remember_locked(locked, capacity);
		}
	else
	{
		Datum		args[1] = {cdp_int8_array(ids, n)};

		cdp_execute(&lock_owners_query, args, NULL, false, 0);
		remember_locked(locked, capacity);
	}
}

static bool
is_locked(const cdp_locked_contacts *locked, int64 id)
{
	return bsearch(&id, locked->ids, locked->n, sizeof(int64), cdp_compare_int64) != NULL;
}

/* The owners the lookup finds that are not locked yet, distinct and ascending. */
static int64 *
unlocked_owners(cdp_owner_lookup lookup, void *arg, const cdp_locked_contacts *locked, int *count)
{
	int			n;
	int64	   *ids = lookup(arg, &n);
	int			k = 0;

	qsort(ids, n, sizeof(int64), cdp_compare_int64);
	for (int i = 0; i < n; i++)
		if ((k == 0 || ids[k - 1] != ids[i]) && !is_locked(locked, ids[i]))
			ids[k++] = ids[i];
	*count = k;
	return ids;
}

/*
 * One pass: the preset ids first, then round after round the owners a fresh
 * lookup finds.  The locked ids stay ascending: when a round needs an id
 * below one already held, waiting for it could deadlock, so the pass stops
 * and returns false with every id it needed in *wanted.
 */
static bool
lock_rounds(cdp_owner_lookup lookup, void *arg, int64 *preset, int npreset,
			cdp_locked_contacts *locked, int *capacity, int64 **wanted, int *nwanted)
{
	if (npreset > 0)
		lock_more(locked, capacity, preset, npreset);
	for (int round = 0;; round++)
	{
		int			nids;
		int64	   *ids = unlocked_owners(lookup, arg, locked, &nids);

		if (nids == 0)
			return true;
		if (round >= CDP_OWNER_ROUNDS)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("identifiers kept moving while resolving"),
					 errdetail("Concurrent merges moved the identifiers being resolved %d times.",
							   CDP_OWNER_ROUNDS),
					 errhint("Retry the transaction.")));
		if (locked->n > 0 && ids[0] < locked->ids[locked->n - 1])
		{
			*nwanted = locked->n + nids;
			*wanted = palloc(sizeof(int64) * *nwanted);
			memcpy(*wanted, locked->ids, sizeof(int64) * locked->n);
			memcpy(*wanted + locked->n, ids, sizeof(int64) * nids);
			qsort(*wanted, *nwanted, sizeof(int64), cdp_compare_int64);
			return false;
		}
		lock_more(locked, capacity, ids, nids);
	}
}

/*
 * Lock the live contacts holding the values lookup reads, FOR UPDATE and
 * always in ascending id order, so that two writers never wait for each
 * other in a cycle.  A concurrent merge or unmerge may move a value while we
 * wait; the lookup after each round finds it.  The locking runs in a
 * subtransaction: when a moved value needs a contact with a lower id than
 * one held, the subtransaction is rolled back, releasing its row locks, and
 * the whole set is locked again in order.  Values held by no contact take
 * no lock.
 */
void
cdp_lock_value_owners(cdp_owner_lookup lookup, void *arg, cdp_locked_contacts *locked)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	cdp_locked_contacts empty = {0, NULL, NULL};
	int64	   *preset;
	int			npreset;

	/*
	 * On Citus, before the subtransaction: Citus forgets a SET LOCAL sent
	 * inside one when it ends (citus.c)
	 */
	cdp_citus_note_write(0);
	preset = unlocked_owners(lookup, arg, &empty, &npreset);
	*locked = empty;
	if (npreset == 0)
		return;

	for (int attempt = 0;; attempt++)
	{
		bool		in_order = false;
		int			capacity = Max(npreset, 8);
		int64	   *wanted = NULL;
		int			nwanted = 0;

		locked->n = 0;
		locked->ids = palloc(sizeof(int64) * capacity);
		locked->created_at = palloc(sizeof(TimestampTz) * capacity);

		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(cxt);
		PG_TRY();
		{
			in_order = lock_rounds(lookup, arg, preset, npreset, locked, &capacity,
								   &wanted, &nwanted);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(cxt);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
			ReThrowError(edata);
		}
		PG_END_TRY();

		if (in_order)
		{
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
			return;
		}
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (attempt >= CDP_OWNER_ROUNDS)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("contacts kept merging while resolving"),
					 errdetail("Concurrent merges changed the contacts being resolved %d times.",
							   CDP_OWNER_ROUNDS),
					 errhint("Retry the transaction.")));
		preset = wanted;
		npreset = nwanted;
	}
}

/* The creation time of a contact cdp_lock_value_owners locked. */
TimestampTz
cdp_locked_created_at(const cdp_locked_contacts *locked, int64 id)
{
	int64	   *at = bsearch(&id, locked->ids, locked->n, sizeof(int64), cdp_compare_int64);

	if (at == NULL)
		elog(ERROR, "contact " INT64_FORMAT " was not locked", id);
	return locked->created_at[at - locked->ids];
}

/* cdp_internal.lock_identifier_values(kinds text[], vals text[]) */
Datum
cdp_lock_identifier_values_sql(PG_FUNCTION_ARGS)
{
	ArrayType  *kinds_array = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *values_array = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *kinds;
	Datum	   *values;
	bool	   *kind_nulls;
	bool	   *value_nulls;
	int			nkinds;
	int			nvalues;
	const char **k;
	const char **v;

	deconstruct_array(kinds_array, TEXTOID, -1, false, TYPALIGN_INT, &kinds, &kind_nulls, &nkinds);
	deconstruct_array(values_array, TEXTOID, -1, false, TYPALIGN_INT, &values, &value_nulls, &nvalues);
	if (nkinds != nvalues)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("kinds and values must have the same length")));
	k = palloc(sizeof(char *) * Max(nkinds, 1));
	v = palloc(sizeof(char *) * Max(nkinds, 1));
	for (int i = 0; i < nkinds; i++)
	{
		if (kind_nulls[i] || value_nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("identifier kinds and values must not be null")));
		k[i] = TextDatumGetCString(kinds[i]);
		v[i] = TextDatumGetCString(values[i]);
	}
	cdp_lock_identifier_values(k, v, nkinds);
	PG_RETURN_VOID();
}
