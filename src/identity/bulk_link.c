/*
 * bulk_link.c
 *	  resolve_all's link phase: the input and the existing graph handed to
 *	  the merge-rule core (merge_rules.c), which resolve calls too.
 */
#include "identity/bulk.h"

#include "miscadmin.h"
#include "utils/memutils.h"

/* Interrupts are checked this often, in links. */
#define LINK_CHECK_EVERY 4096

typedef struct link_progress
{
	int64		next_notice;
	int			level;
} link_progress;

static void *
core_alloc(void *arg, size_t size)
{
	return MemoryContextAllocHuge(CurrentMemoryContext, size);
}

/* Cancellable, and a progress message at every tenth of the links. */
static int64_t
core_progress(void *arg, int64_t done, int64_t total)
{
	link_progress *p = arg;

	CHECK_FOR_INTERRUPTS();
	if (done > 0 && done == p->next_notice)
	{
		ereport(p->level,
				(errmsg("resolve_all: linked %lld of %lld record identifiers (%d%%)",
						(long long) done, (long long) total, (int) (100 * done / total))));
		p->next_notice += total / 10;
	}
	if (p->next_notice <= done)
		p->next_notice = total;	/* fewer than ten links: no notices */
	return Min(p->next_notice, done + LINK_CHECK_EVERY);
}

void
cdp_bulk_link(bulk_state *s)
{
	cdp_mr_graph *g = &s->graph;
	cdp_mr_value *values = MemoryContextAllocHuge(CurrentMemoryContext,
												  sizeof(cdp_mr_value) * Max(s->nvalues, 1));
	link_progress progress = {s->nlinks / 10, s->progress_level};
	cdp_mr_env	env = {core_alloc, core_progress, &progress};

	/* each value's holder among the contacts of the existing graph */
	for (int32 v = 0; v < s->nvalues; v++)
	{
		bulk_value *bv = &s->values[v];
		int64		owner = BULK_OWNER(s, v);

		values[v].kind = bv->kind - s->kinds->kinds;
		values[v].state = bv->invalid ? CDP_MR_STATE_INVALID :
			bv->blocked ? CDP_MR_STATE_BLOCKED : CDP_MR_VALID;
		values[v].contact = BULK_EXISTING_ID(s, v) == 0 ? CDP_MR_NEW : CDP_MR_ELSEWHERE;
		if (owner != 0 && values[v].state == CDP_MR_VALID && bv->kind->matchable)
		{
			int32		c = cdp_bulk_contact_index(s, owner);

			if (c < 0)
				elog(ERROR, "contact " INT64_FORMAT " of the existing graph was not read", owner);
			values[v].contact = c;
		}
	}

	memset(g, 0, sizeof(*g));
	g->nkinds = s->kinds->nkinds;
	g->kinds = s->kinds->rules;
	g->nrecords = s->nrecords;
	g->nvalues = s->nvalues;
	g->values = values;
	g->ncontacts = s->ncontacts;
	g->contacts = s->contacts;
	g->counts = s->counts;
	g->nblocks = s->nblocks;
	g->blocks = s->blocks;
	g->nlinks = s->nlinks;
	g->links = s->links;
	if ((int64) s->nrecords + s->nvalues + s->ncontacts > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("resolve_all input is too large"),
				 errdetail("Records, distinct values and existing contacts add up to more than %d.",
						   PG_INT32_MAX),
				 errhint("Resolve it in parts.")));
	cdp_mr_resolve(g, &env, &s->result);
}
