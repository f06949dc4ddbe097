/*
 * merge_rules.c
 *	  The merge rules over a graph of records, identifier values and contacts
 *	  (see merge_rules.h): links strongest first with union-find, refusals.
 */
#include "merge_rules.h"
#include "union_find.h"

#include <string.h>

typedef struct mr_state
{
	const cdp_mr_graph *g;
	const cdp_mr_env *env;
	cdp_uf		uf;
	int32_t		nlimited;
	int32_t    *limit;			/* per slot: max_per_contact */
	int32_t    *count;			/* per node x slot: limited values the set holds */

	/*
	 * Merge blocks: each blocked contact's partners (CSR), and per set a
	 * circular list of its contacts that have partners, with their number.
	 */
	int32_t    *adj_start;
	int32_t    *adj;
	int32_t    *bnext;			/* per contact */
	int32_t    *bhead;			/* per node (meaningful at roots), -1 none */
	int32_t    *nblocked;		/* per node (meaningful at roots) */
} mr_state;

#define RECORD_NODE(g, r)	(r)
#define VALUE_NODE(g, v)	((g)->nrecords + (v))
#define CONTACT_NODE(g, c)	((g)->nrecords + (g)->nvalues + (c))

static void *
mr_alloc(const mr_state *st, size_t size)
{
	return st->env->alloc(st->env->arg, size > 0 ? size : 1);
}

int32_t
cdp_mr_limited(const cdp_mr_kind *kinds, int32_t nkinds, int32_t *slot)
{
	int32_t		n = 0;

	for (int32_t k = 0; k < nkinds; k++)
		slot[k] = kinds[k].max_per_contact > 0 ? n++ : -1;
	return n;
}

const char *
cdp_mr_rule_name(cdp_mr_outcome outcome)
{
	switch (outcome)
	{
		case CDP_MR_INVALID:
			return "invalid";
		case CDP_MR_BLOCKED:
			return "blocked";
		case CDP_MR_LIMIT:
			return "limit";
		case CDP_MR_MERGE_BLOCK:
			return "merge_block";
		default:
			return NULL;
	}
}

/*
 * Would joining the sets at roots a and b give one of them more values of a
 * limited kind than allowed?  Only when both hold some: a set over a limit
 * set later may still take in what adds nothing to it.
 */
static bool
exceeds_limit(const mr_state *st, int32_t a, int32_t b)
{
	const int32_t *x = st->count + (size_t) a * st->nlimited;
	const int32_t *y = st->count + (size_t) b * st->nlimited;

	for (int32_t l = 0; l < st->nlimited; l++)
		if (x[l] > 0 && y[l] > 0 && (int64_t) x[l] + y[l] > st->limit[l])
			return true;
	return false;
}

/* Does the set at root a hold a contact merge-blocked against one of root b? */
static bool
blocked_sets(mr_state *st, int32_t a, int32_t b)
{
	int32_t		from;
	int32_t		to;
	int32_t		first;
	int32_t		c;

	if (st->bhead == NULL || st->nblocked[a] == 0 || st->nblocked[b] == 0)
		return false;
	/* walk the set with fewer blocked contacts */
	from = st->nblocked[a] <= st->nblocked[b] ? a : b;
	to = from == a ? b : a;
	first = c = st->bhead[from];
	do
	{
		for (int32_t p = st->adj_start[c]; p < st->adj_start[c + 1]; p++)
			if (cdp_uf_find(&st->uf, CONTACT_NODE(st->g, st->adj[p])) == to)
				return true;
		c = st->bnext[c];
	} while (c != first);
	return false;
}

static int32_t
join_sets(mr_state *st, int32_t a, int32_t b)
{
	int32_t		root = cdp_uf_link(&st->uf, a, b);
	int32_t		gone = root == a ? b : a;

	if (root == gone)
		return root;
	for (int32_t l = 0; l < st->nlimited; l++)
		st->count[(size_t) root * st->nlimited + l] += st->count[(size_t) gone * st->nlimited + l];
	if (st->bhead != NULL && st->bhead[gone] >= 0)
	{
		if (st->bhead[root] >= 0)
		{
			/* splice the two circular lists */
			int32_t		x = st->bhead[root];
			int32_t		y = st->bhead[gone];
			int32_t		t = st->bnext[x];

			st->bnext[x] = st->bnext[y];
			st->bnext[y] = t;
		}
		else
			st->bhead[root] = st->bhead[gone];
		st->nblocked[root] += st->nblocked[gone];
	}
	return root;
}

static void
init_blocks(mr_state *st)
{
	const cdp_mr_graph *g = st->g;
	int32_t		nnodes = g->nrecords + g->nvalues + g->ncontacts;
	int32_t    *fill;

	st->bhead = NULL;
	if (g->nblocks == 0 || g->ncontacts == 0)
		return;
	st->adj_start = mr_alloc(st, sizeof(int32_t) * ((size_t) g->ncontacts + 1));
	st->adj = mr_alloc(st, sizeof(int32_t) * 2 * (size_t) g->nblocks);
	fill = mr_alloc(st, sizeof(int32_t) * (size_t) g->ncontacts);
	memset(st->adj_start, 0, sizeof(int32_t) * ((size_t) g->ncontacts + 1));
	for (int32_t p = 0; p < g->nblocks; p++)
	{
		st->adj_start[g->blocks[2 * p] + 1]++;
		st->adj_start[g->blocks[2 * p + 1] + 1]++;
	}
	for (int32_t c = 0; c < g->ncontacts; c++)
	{
		st->adj_start[c + 1] += st->adj_start[c];
		fill[c] = st->adj_start[c];
	}
	for (int32_t p = 0; p < g->nblocks; p++)
	{
		int32_t		a = g->blocks[2 * p];
		int32_t		b = g->blocks[2 * p + 1];

		st->adj[fill[a]++] = b;
		st->adj[fill[b]++] = a;
	}

	st->bnext = mr_alloc(st, sizeof(int32_t) * (size_t) g->ncontacts);
	st->bhead = mr_alloc(st, sizeof(int32_t) * (size_t) nnodes);
	st->nblocked = mr_alloc(st, sizeof(int32_t) * (size_t) nnodes);
	for (int32_t i = 0; i < nnodes; i++)
	{
		st->bhead[i] = -1;
		st->nblocked[i] = 0;
	}
	for (int32_t c = 0; c < g->ncontacts; c++)
	{
		st->bnext[c] = c;
		if (st->adj_start[c + 1] > st->adj_start[c])
		{
			st->bhead[CONTACT_NODE(g, c)] = c;
			st->nblocked[CONTACT_NODE(g, c)] = 1;
		}
	}
}

static void
init_counts(mr_state *st)
{
	const cdp_mr_graph *g = st->g;
	int32_t		nnodes = g->nrecords + g->nvalues + g->ncontacts;
	int32_t    *slot = mr_alloc(st, sizeof(int32_t) * (size_t) g->nkinds);
	size_t		size;

	st->nlimited = cdp_mr_limited(g->kinds, g->nkinds, slot);
	if (st->nlimited == 0)
		return;
	st->limit = mr_alloc(st, sizeof(int32_t) * (size_t) st->nlimited);
	for (int32_t k = 0; k < g->nkinds; k++)
		if (slot[k] >= 0)
			st->limit[slot[k]] = g->kinds[k].max_per_contact;
	size = sizeof(int32_t) * (size_t) nnodes * st->nlimited;
	st->count = mr_alloc(st, size);
	memset(st->count, 0, size);
	/* a new value counts for itself; a stored one through its contact */
	for (int32_t v = 0; v < g->nvalues; v++)
	{
		const cdp_mr_value *value = &g->values[v];

		if (value->contact == CDP_MR_NEW && value->state == CDP_MR_VALID &&
			slot[value->kind] >= 0)
			st->count[(size_t) VALUE_NODE(g, v) * st->nlimited + slot[value->kind]] = 1;
	}
	if (g->counts != NULL)
		for (int32_t c = 0; c < g->ncontacts; c++)
			memcpy(st->count + (size_t) CONTACT_NODE(g, c) * st->nlimited,
				   g->counts + (size_t) c * st->nlimited, sizeof(int32_t) * st->nlimited);
}

/*
 * The links in the order they are made: a stable counting sort by the
 * priority of their value's kind, so equal priorities keep input order
 * (kinds of equal priority are not ordered among themselves).
 */
static int64_t *
link_order(mr_state *st)
{
	const cdp_mr_graph *g = st->g;
	int32_t    *rank = mr_alloc(st, sizeof(int32_t) * (size_t) g->nkinds);
	int32_t    *priorities = mr_alloc(st, sizeof(int32_t) * (size_t) g->nkinds);
	int32_t		npriorities = 0;
	int64_t    *start;
	int64_t    *order = mr_alloc(st, sizeof(int64_t) * (size_t) g->nlinks);

	/* distinct priorities, ascending (few kinds: insertion sort) */
	for (int32_t k = 0; k < g->nkinds; k++)
	{
		int32_t		p = g->kinds[k].priority;
		int32_t		i = npriorities;
		bool		seen = false;

		for (int32_t j = 0; j < npriorities; j++)
			seen |= (priorities[j] == p);
		if (seen)
			continue;
		while (i > 0 && priorities[i - 1] > p)
		{
			priorities[i] = priorities[i - 1];
			i--;
		}
		priorities[i] = p;
		npriorities++;
	}
	for (int32_t k = 0; k < g->nkinds; k++)
		for (int32_t j = 0; j < npriorities; j++)
			if (priorities[j] == g->kinds[k].priority)
				rank[k] = j;

	start = mr_alloc(st, sizeof(int64_t) * ((size_t) npriorities + 1));
	memset(start, 0, sizeof(int64_t) * ((size_t) npriorities + 1));
	for (int64_t e = 0; e < g->nlinks; e++)
		start[rank[g->values[g->links[e].value].kind] + 1]++;
	for (int32_t j = 0; j < npriorities; j++)
		start[j + 1] += start[j];
	for (int64_t e = 0; e < g->nlinks; e++)
		order[start[rank[g->values[g->links[e].value].kind]]++] = e;
	return order;
}

void
cdp_mr_resolve(const cdp_mr_graph *g, const cdp_mr_env *env, cdp_mr_result *out)
{
	mr_state	st;
	int32_t		nnodes = g->nrecords + g->nvalues + g->ncontacts;
	int32_t    *parent;
	int32_t    *size;
	int64_t    *order;
	bool	   *attached;		/* per value: a non-linking value taken */
	bool	   *substance;		/* per record: a link neither invalid nor blocked */
	int32_t    *of_root;
	int64_t		next_progress;

	memset(&st, 0, sizeof(st));
	st.g = g;
	st.env = env;
	parent = mr_alloc(&st, sizeof(int32_t) * (size_t) nnodes);
	size = mr_alloc(&st, sizeof(int32_t) * (size_t) nnodes);
	cdp_uf_init(&st.uf, parent, size, nnodes);
	init_counts(&st);
	init_blocks(&st);

	/* the existing graph first: stored values with their contacts */
	for (int32_t v = 0; v < g->nvalues; v++)
		if (g->values[v].contact >= 0)
			join_sets(&st, cdp_uf_find(&st.uf, VALUE_NODE(g, v)),
					  cdp_uf_find(&st.uf, CONTACT_NODE(g, g->values[v].contact)));

	out->outcome = mr_alloc(&st, sizeof(uint8_t) * (size_t) g->nlinks);
	out->nrefused = 0;
	attached = mr_alloc(&st, sizeof(bool) * (size_t) g->nvalues);
	memset(attached, 0, sizeof(bool) * (size_t) g->nvalues);
	substance = mr_alloc(&st, sizeof(bool) * (size_t) g->nrecords);
	memset(substance, 0, sizeof(bool) * (size_t) g->nrecords);

	order = link_order(&st);
	next_progress = env->progress != NULL ? 0 : INT64_MAX;
	for (int64_t o = 0; o < g->nlinks; o++)
	{
		int64_t		e = order[o];
		const cdp_mr_link *link = &g->links[e];
		const cdp_mr_value *value = &g->values[link->value];
		const cdp_mr_kind *kind = &g->kinds[value->kind];
		cdp_mr_outcome outcome = CDP_MR_LINKED;
		int32_t		a;
		int32_t		b;

		if (o == next_progress)
			next_progress = env->progress(env->arg, o, g->nlinks);

		if (value->state == CDP_MR_STATE_INVALID)
			outcome = CDP_MR_INVALID;
		else if (value->state == CDP_MR_STATE_BLOCKED)
			outcome = CDP_MR_BLOCKED;
		else
		{
			substance[link->record] = true;
			a = cdp_uf_find(&st.uf, RECORD_NODE(g, link->record));
			b = cdp_uf_find(&st.uf, VALUE_NODE(g, link->value));
			if (a == b)
				outcome = CDP_MR_LINKED;
			else if (!kind->matchable && (value->contact != CDP_MR_NEW || attached[link->value]))
				outcome = CDP_MR_UNLINKED;
			else if (blocked_sets(&st, a, b))
				outcome = CDP_MR_MERGE_BLOCK;
			else if (st.nlimited > 0 && exceeds_limit(&st, a, b))
				outcome = CDP_MR_LIMIT;
			else
			{
				join_sets(&st, a, b);
				if (!kind->matchable)
					attached[link->value] = true;
			}
		}
		out->outcome[e] = (uint8_t) outcome;
		if (CDP_MR_REFUSED(outcome))
			out->nrefused++;
	}

	/* components that hold a record, numbered by their first record */
	of_root = mr_alloc(&st, sizeof(int32_t) * (size_t) nnodes);
	for (int32_t i = 0; i < nnodes; i++)
		of_root[i] = -1;
	out->ncomponents = 0;
	out->record_component = mr_alloc(&st, sizeof(int32_t) * (size_t) g->nrecords);
	for (int32_t r = 0; r < g->nrecords; r++)
	{
		int32_t		root;

		out->record_component[r] = -1;
		if (!substance[r])
			continue;
		root = cdp_uf_find(&st.uf, RECORD_NODE(g, r));
		if (of_root[root] < 0)
			of_root[root] = out->ncomponents++;
		out->record_component[r] = of_root[root];
	}
	out->value_component = mr_alloc(&st, sizeof(int32_t) * (size_t) g->nvalues);
	for (int32_t v = 0; v < g->nvalues; v++)
		out->value_component[v] = of_root[cdp_uf_find(&st.uf, VALUE_NODE(g, v))];
	out->contact_component = mr_alloc(&st, sizeof(int32_t) * (size_t) g->ncontacts);
	out->survivor = mr_alloc(&st, sizeof(int32_t) * (size_t) out->ncomponents);
	for (int32_t k = 0; k < out->ncomponents; k++)
		out->survivor[k] = -1;
	for (int32_t c = 0; c < g->ncontacts; c++)
	{
		int32_t		k = of_root[cdp_uf_find(&st.uf, CONTACT_NODE(g, c))];
		int32_t		s;

		out->contact_component[c] = k;
		if (k < 0)
			continue;
		/* the survivor: the earliest created, ties by the lower id */
		s = out->survivor[k];
		if (s < 0 ||
			g->contacts[c].created_at < g->contacts[s].created_at ||
			(g->contacts[c].created_at == g->contacts[s].created_at &&
			 g->contacts[c].id < g->contacts[s].id))
			out->survivor[k] = c;
	}
}
