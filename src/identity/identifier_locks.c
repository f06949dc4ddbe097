/*
 * identifier_locks.c
 *	  The lock every write path takes on identifier values before it reads or
 *	  writes them (resolve, resolve_all, forget_contact): bucketed advisory
 *	  locks, always taken in ascending order.
 */
#include "cdp.h"
#include "identity/identity.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

PG_FUNCTION_INFO_V1(cdp_lock_identifier_values_sql);

/* First key of the two-key advisory locks cdp takes on identifier values. */
#define CDP_IDENTIFIER_LOCK_CLASS 0x43445031	/* "CDP1" */

/*
 * Identifier values are locked by bucket, not one by one: a transaction that
 * resolves a million records then holds at most this many locks instead of
 * exhausting the lock table.  Unrelated records share a bucket rarely, and
 * then only wait for each other's commit.
 */
#define CDP_IDENTIFIER_LOCK_BUCKETS 1024

static int
compare_uint32(const void *a, const void *b)
{
	uint32		x = *(const uint32 *) a;
	uint32		y = *(const uint32 *) b;

	return (x > y) - (x < y);
}

static uint32
bucket_of(const char *kind, const char *value)
{
	uint32		h = hash_bytes((const unsigned char *) kind, strlen(kind));

	return hash_combine(h, hash_bytes((const unsigned char *) value, strlen(value)))
		% CDP_IDENTIFIER_LOCK_BUCKETS;
}

/*
 * Lock the buckets of n (kind, normalised value) pairs for the rest of the
 * transaction, in ascending bucket order, so that two writers never wait for
 * each other in a cycle.
 */
void
cdp_lock_identifier_values(const char *const *kinds, const char *const *values, int n)
{
	uint32	   *keys = palloc(sizeof(uint32) * Max(n, 1));

	for (int i = 0; i < n; i++)
		keys[i] = bucket_of(kinds[i], values[i]);
	qsort(keys, n, sizeof(uint32), compare_uint32);
	for (int i = 0; i < n; i++)
	{
		if (i > 0 && keys[i] == keys[i - 1])
			continue;
		DirectFunctionCall2(pg_advisory_xact_lock_int4,
							Int32GetDatum(CDP_IDENTIFIER_LOCK_CLASS),
							Int32GetDatum((int32) keys[i]));
	}
	pfree(keys);
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
