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

/*
 * The merge blocks between the people of the live contacts $1, as pairs of
 * those live contacts: a block stands for the two people its ends are now,
 * so it also keeps apart what was merged into either end.  A contact is
 * one of a person when it is the live contact or one of its tombstones,
 * which lead straight to it (merged_into is never a chain).  Blocks whose
 * ends are one person already are left out: see cdp_read_merge_blocks.
 * Written so that a few contacts (resolve) are looked up through the
 * indexes on contacts and the blocks' primary key, and many (resolve_all)
 * by scanning the blocks.
 */
static cdp_query blocks_query = {
	"SELECT coalesce(a.merged_into, a.id), coalesce(b.merged_into, b.id)"
	"  FROM cdp.merge_blocks m"
	"  JOIN cdp.contacts a ON a.id = m.contact_a"
	"  JOIN cdp.contacts b ON b.id = m.contact_b"
	" WHERE (a.id = ANY($1) OR a.merged_into = ANY($1))"
	"   AND (b.id = ANY($1) OR b.merged_into = ANY($1))"
	"   AND coalesce(a.merged_into, a.id) <> coalesce(b.merged_into, b.id)",
	1, {INT8ARRAYOID},
	.citus_sql = "SELECT live_a, live_b FROM cdp_internal.citus_merge_blocks_among($1)"
};

static cdp_query kind_counts_query = {
	"SELECT contact_id, kind, count(*) FROM cdp.identifiers"
	" WHERE contact_id = ANY($1) AND kind = ANY($2) GROUP BY contact_id, kind",
	2, {INT8ARRAYOID, TEXTARRAYOID}
};

/*
 * The merge-block pairs among the n live contacts ids, as pairs of the
 * indexes index_of gives their ids; returns how many pairs *pairs holds.
 * Two contacts are blocked when a block joins anything merged into one
 * (or itself) to anything merged into the other, so a blocked pair cannot
 * become one person through a third contact that absorbs each in turn.
 *
 * A block both of whose ends are already one person (merged before blocks
 * held through third contacts, or a row inserted by hand for a pair already
 * merged) is left out: no refusal can part them now, refusing every later
 * merge of that person would only freeze it, and the merge-rule core has no
 * use for a contact blocked against itself.  The invariants suite reports
 * such blocks; unmerge is the way to part the pair.
 */
int
cdp_read_merge_blocks(const int64 *ids, int n, cdp_contact_index_fn index_of, void *arg,
					  int32 **pairs)
{
	Datum		args[1] = {cdp_int8_array(unconstify(int64 *, ids), n)};
	int			npairs;

	cdp_execute(&blocks_query, args, NULL, false, 0);
	*pairs = palloc(sizeof(int32) * 2 * Max(SPI_processed, 1));
	npairs = 0;
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		int32		a = index_of(arg, DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r],
																 SPI_tuptable->tupdesc, 1, &isnull)));
		int32		b = index_of(arg, DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r],
																 SPI_tuptable->tupdesc, 2, &isnull)));

		/* both are among ids unless one of ids was not live after all */
		if (a < 0 || b < 0)
			continue;
		(*pairs)[2 * npairs] = a;
		(*pairs)[2 * npairs + 1] = b;
		npairs++;
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
