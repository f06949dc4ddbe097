/*
 * merge_inputs.c
 *	  What the merge-rule core needs to know of existing contacts, read the
 *	  same way for resolve and resolve_all: the merge blocks among them and
 *	  how many values of each limited kind each holds.
 */
#include "cdp.h"
#include "identity/identity.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

static cdp_query blocks_query = {
	"SELECT contact_a, contact_b FROM cdp.merge_blocks"
	" WHERE contact_a = ANY($1) AND contact_b = ANY($1)",
	1, {INT8ARRAYOID}
};

static cdp_query kind_counts_query = {
	"SELECT contact_id, kind, count(*) FROM cdp.identifiers"
	" WHERE contact_id = ANY($1) AND kind = ANY($2) GROUP BY contact_id, kind",
	2, {INT8ARRAYOID, TEXTARRAYOID}
};

/*
 * The merge-block pairs among the n contacts ids, as pairs of the indexes
 * index_of gives their ids; returns how many pairs *pairs holds.
 */
int
cdp_read_merge_blocks(const int64 *ids, int n, cdp_contact_index_fn index_of, void *arg,
					  int32 **pairs)
{
	Datum		args[1] = {cdp_int8_array(unconstify(int64 *, ids), n)};
	int			npairs;

	cdp_execute(&blocks_query, args, NULL, false, 0);
	npairs = (int) SPI_processed;
	*pairs = palloc(sizeof(int32) * 2 * Max(npairs, 1));
	for (int p = 0; p < npairs; p++)
		for (int side = 0; side < 2; side++)
		{
			bool		isnull;

			(*pairs)[2 * p + side] =
				index_of(arg, DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[p], SPI_tuptable->tupdesc,
														  side + 1, &isnull)));
		}
	SPI_freetuptable(SPI_tuptable);
	return npairs;
}

/*
 * counts[c * kinds->nlimited + slot] = how many values of the limited kind
 * in that slot contact c holds, for the kinds named in names; counts is
 * zeroed by the caller.
 */
void
cdp_read_limited_counts(const cdp_kinds *kinds, const int64 *ids, int n, char **names, int nnames,
						cdp_contact_index_fn index_of, void *arg, int32 *counts)
{
	Datum		args[2];

	if (nnames == 0 || n == 0)
		return;
	args[0] = cdp_int8_array(unconstify(int64 *, ids), n);
	args[1] = cdp_text_array(names, nnames);
	cdp_execute(&kind_counts_query, args, NULL, false, 0);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	t = SPI_tuptable->vals[r];
		bool		isnull;
		int32		c = index_of(arg, DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull)));
		const cdp_kind *kind = cdp_find_kind(kinds, SPI_getvalue(t, SPI_tuptable->tupdesc, 2));
		int64		count = DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 3, &isnull));

		if (c >= 0 && kind != NULL && kinds->limited_slot[kind - kinds->kinds] >= 0)
			counts[c * kinds->nlimited + kinds->limited_slot[kind - kinds->kinds]] =
				(int32) Min(count, PG_INT32_MAX);
	}
	SPI_freetuptable(SPI_tuptable);
}
