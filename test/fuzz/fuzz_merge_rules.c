/*
 * fuzz_merge_rules.c
 *	  libFuzzer target for the merge-rule core: a small graph decoded from the
 *	  bytes, and every rule the core promises checked against a naive oracle.
 *
 * Checked on every input: each link's outcome is the one a plain reading of
 * the rules gives (an independent, quadratic implementation: links sorted by
 * priority then input order, naive sets); the outcome is what the value's
 * state and kind allow; the partition equals the connected components of the links made
 * (an independent union-find); no merge-blocked pair ends in one set; no set
 * holds more values of a limited kind than allowed unless a single part
 * brought them all; a refused link is still refused by the final sets (so
 * the refusal was needed); a kind that does not link never joins two
 * records; survivors are the earliest created; components are numbered by
 * their first record; nothing depends on the memory handed out (a second
 * run over memory filled differently gives the same result); and without
 * limits, blocks or non-linking kinds the link order does not matter.
 */
#include "identity/merge_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KINDS		4
#define MAX_CONTACTS	10
#define MAX_VALUES		24
#define MAX_RECORDS		16
#define MAX_LINKS		64
#define MAX_BLOCKS		8
#define MAX_NODES		(MAX_RECORDS + MAX_VALUES + MAX_CONTACTS)

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz_merge_rules: %s:%d: check failed: %s\n", \
					__FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

typedef struct reader
{
	const uint8_t *p;
	size_t		n;
} reader;

static unsigned
next(reader *r, unsigned range)
{
	unsigned	b;

	if (range <= 1)
		return 0;
	if (r->n == 0)
		return 0;
	b = *r->p++;
	r->n--;
	return b % range;
}

/* An arena whose memory is filled with a chosen byte, freed at once. */
typedef struct arena
{
	void	   *blocks[256];
	int			n;
	int			fill;
} arena;

static void *
arena_alloc(void *arg, size_t size)
{
	arena	   *a = arg;
	void	   *p;

	CHECK(size > 0);
	CHECK(a->n < (int) (sizeof(a->blocks) / sizeof(a->blocks[0])));
	p = malloc(size);
	CHECK(p != NULL);
	memset(p, a->fill, size);
	a->blocks[a->n++] = p;
	return p;
}

static void
arena_free(arena *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->blocks[i]);
	a->n = 0;
}

static int64_t progress_calls;
static int64_t progress_next;

/* Asks to be called again one to three links later, and checks it is. */
static int64_t
progress(void *arg, int64_t done, int64_t total)
{
	(void) arg;
	CHECK(done == progress_next && done < total);
	progress_calls++;
	progress_next = done + 1 + (done * 7 + total) % 3;
	return progress_next;
}

/* The naive oracle: union-find without ranks or compression. */
static int
find(int *parent, int x)
{
	while (parent[x] != x)
		x = parent[x];
	return x;
}

static void
unite(int *parent, int a, int b)
{
	a = find(parent, a);
	b = find(parent, b);
	if (a != b)
		parent[a] = b;
}

typedef struct graph
{
	cdp_mr_kind kinds[MAX_KINDS];
	cdp_mr_contact contacts[MAX_CONTACTS];
	int32_t		counts[MAX_CONTACTS * MAX_KINDS];
	cdp_mr_value values[MAX_VALUES];
	int32_t		blocks[2 * MAX_BLOCKS];
	cdp_mr_link links[MAX_LINKS];
	int32_t		slot[MAX_KINDS];
	int32_t		nlimited;
	cdp_mr_graph g;
} graph;

static void
decode(reader *r, graph *x)
{
	cdp_mr_graph *g = &x->g;

	memset(x, 0, sizeof(*x));
	g->nkinds = 1 + next(r, MAX_KINDS);
	for (int k = 0; k < g->nkinds; k++)
	{
		x->kinds[k].priority = next(r, 4);
		x->kinds[k].max_per_contact = next(r, 4);	/* 0: unlimited */
		x->kinds[k].matchable = next(r, 4) != 0;
	}
	x->nlimited = cdp_mr_limited(x->kinds, g->nkinds, x->slot);

	g->ncontacts = next(r, MAX_CONTACTS + 1);
	for (int c = 0; c < g->ncontacts; c++)
	{
		/* distinct ids in no particular order; creation times that tie */
		x->contacts[c].id = 1000 - 3 * c + next(r, 3);
		x->contacts[c].created_at = next(r, 4);
		for (int l = 0; l < x->nlimited; l++)
			x->counts[c * x->nlimited + l] = next(r, 5);
	}

	g->nvalues = next(r, MAX_VALUES + 1);
	for (int v = 0; v < g->nvalues; v++)
	{
		unsigned	holder = next(r, g->ncontacts + 2);
		unsigned	state = next(r, 8);

		x->values[v].kind = next(r, g->nkinds);
		x->values[v].contact = holder < (unsigned) g->ncontacts ? (int32_t) holder :
			holder == (unsigned) g->ncontacts ? CDP_MR_NEW : CDP_MR_ELSEWHERE;
		x->values[v].state = state == 0 ? CDP_MR_STATE_BLOCKED :
			state == 1 ? CDP_MR_STATE_INVALID : CDP_MR_VALID;
	}

	g->nblocks = g->ncontacts >= 2 ? next(r, MAX_BLOCKS + 1) : 0;
	for (int p = 0; p < g->nblocks; p++)
	{
		int			a = next(r, g->ncontacts);

		x->blocks[2 * p] = a;
		x->blocks[2 * p + 1] = (a + 1 + next(r, g->ncontacts - 1)) % g->ncontacts;
	}

	g->nrecords = 1 + next(r, MAX_RECORDS);
	g->nlinks = g->nvalues > 0 ? next(r, MAX_LINKS + 1) : 0;
	for (int e = 0; e < g->nlinks; e++)
	{
		x->links[e].record = next(r, g->nrecords);
		x->links[e].value = next(r, g->nvalues);
	}

	g->kinds = x->kinds;
	g->contacts = x->contacts;
	g->counts = x->nlimited > 0 ? x->counts : NULL;
	g->values = x->values;
	g->blocks = x->blocks;
	g->links = x->links;
}

#define RNODE(g, r) (r)
#define VNODE(g, v) ((g)->nrecords + (v))
#define CNODE(g, c) ((g)->nrecords + (g)->nvalues + (c))

/* The component the core gives a node. */
static int
component_of(const cdp_mr_graph *g, const cdp_mr_result *res, int node)
{
	if (node < g->nrecords)
		return res->record_component[node];
	if (node < g->nrecords + g->nvalues)
		return res->value_component[node - g->nrecords];
	return res->contact_component[node - g->nrecords - g->nvalues];
}

/* Oracle sets of the links made and the stored values' contacts. */
static void
oracle_sets(const cdp_mr_graph *g, const cdp_mr_result *res, int *parent, bool matchable_only)
{
	int			nnodes = g->nrecords + g->nvalues + g->ncontacts;

	for (int i = 0; i < nnodes; i++)
		parent[i] = i;
	for (int v = 0; v < g->nvalues; v++)
		if (g->values[v].contact >= 0)
			unite(parent, VNODE(g, v), CNODE(g, g->values[v].contact));
	for (int e = 0; e < g->nlinks; e++)
		if (res->outcome[e] == CDP_MR_LINKED &&
			(!matchable_only || g->kinds[g->values[g->links[e].value].kind].matchable))
			unite(parent, RNODE(g, g->links[e].record), VNODE(g, g->links[e].value));
}

/* Per oracle set and limited slot: the total, and how many nodes brought some. */
static void
set_counts(const graph *x, const int *parent, int root, int l, int64_t *total, int *parts)
{
	const cdp_mr_graph *g = &x->g;

	*total = 0;
	*parts = 0;
	for (int v = 0; v < g->nvalues; v++)
		if (find((int *) parent, VNODE(g, v)) == root &&
			g->values[v].contact == CDP_MR_NEW && g->values[v].state == CDP_MR_VALID &&
			x->slot[g->values[v].kind] == l)
		{
			(*total)++;
			(*parts)++;
		}
	for (int c = 0; c < g->ncontacts; c++)
		if (find((int *) parent, CNODE(g, c)) == root && x->counts[c * x->nlimited + l] > 0)
		{
			*total += x->counts[c * x->nlimited + l];
			(*parts)++;
		}
}

static bool
sets_blocked(const cdp_mr_graph *g, const int *parent, int a, int b)
{
	for (int p = 0; p < g->nblocks; p++)
	{
		int			x = find((int *) parent, CNODE(g, g->blocks[2 * p]));
		int			y = find((int *) parent, CNODE(g, g->blocks[2 * p + 1]));

		if ((x == a && y == b) || (x == b && y == a))
			return true;
	}
	return false;
}

static int32_t
limit_of(const graph *x, int l)
{
	for (int k = 0; k < x->g.nkinds; k++)
		if (x->slot[k] == l)
			return x->g.kinds[k].max_per_contact;
	return 0;
}

/*
 * The rules written the plain way, as DESIGN §5 states them: the links in
 * order of priority then input (an insertion sort), each checked against
 * the naive sets.  The core must give every link the same outcome.
 */
static void
reference(const graph *x, uint8_t *outcome)
{
	const cdp_mr_graph *g = &x->g;
	int			parent[MAX_NODES];
	int			order[MAX_LINKS];
	bool		attached[MAX_VALUES];

	for (int i = 0; i < g->nrecords + g->nvalues + g->ncontacts; i++)
		parent[i] = i;
	for (int v = 0; v < g->nvalues; v++)
	{
		attached[v] = false;
		if (g->values[v].contact >= 0)
			unite(parent, VNODE(g, v), CNODE(g, g->values[v].contact));
	}
	for (int e = 0; e < g->nlinks; e++)
	{
		int			i = e;
		int32_t		p = g->kinds[g->values[g->links[e].value].kind].priority;

		while (i > 0 && g->kinds[g->values[g->links[order[i - 1]].value].kind].priority > p)
		{
			order[i] = order[i - 1];
			i--;
		}
		order[i] = e;
	}
	for (int o = 0; o < g->nlinks; o++)
	{
		int			e = order[o];
		const cdp_mr_value *v = &g->values[g->links[e].value];
		int			a = find(parent, RNODE(g, g->links[e].record));
		int			b = find(parent, VNODE(g, g->links[e].value));
		bool		over = false;

		for (int l = 0; l < x->nlimited; l++)
		{
			int64_t		ta, tb;
			int			pa, pb;

			set_counts(x, parent, a, l, &ta, &pa);
			set_counts(x, parent, b, l, &tb, &pb);
			if (ta > 0 && tb > 0 && ta + tb > limit_of(x, l))
				over = true;
		}
		if (v->state == CDP_MR_STATE_INVALID)
			outcome[e] = CDP_MR_INVALID;
		else if (v->state == CDP_MR_STATE_BLOCKED)
			outcome[e] = CDP_MR_BLOCKED;
		else if (a == b)
			outcome[e] = CDP_MR_LINKED;
		else if (!g->kinds[v->kind].matchable && (v->contact != CDP_MR_NEW || attached[g->links[e].value]))
			outcome[e] = CDP_MR_UNLINKED;
		else if (sets_blocked(g, parent, a, b))
			outcome[e] = CDP_MR_MERGE_BLOCK;
		else if (over)
			outcome[e] = CDP_MR_LIMIT;
		else
		{
			unite(parent, a, b);
			attached[g->links[e].value] = true;
			outcome[e] = CDP_MR_LINKED;
		}
	}
}

static void
check(const graph *x, const cdp_mr_result *res)
{
	const cdp_mr_graph *g = &x->g;
	int			nnodes = g->nrecords + g->nvalues + g->ncontacts;
	int			parent[MAX_NODES];
	int			matchable_parent[MAX_NODES];
	int			root_component[MAX_NODES];
	int64_t		nrefused = 0;
	int			next_component = 0;

	oracle_sets(g, res, parent, false);

	/* the plain reading of the rules gives every link the same outcome */
	{
		uint8_t		expected[MAX_LINKS];

		reference(x, expected);
		for (int e = 0; e < g->nlinks; e++)
			CHECK(res->outcome[e] == expected[e]);
	}

	/* outcomes */
	for (int e = 0; e < g->nlinks; e++)
	{
		const cdp_mr_value *v = &g->values[g->links[e].value];
		int			o = res->outcome[e];

		CHECK(o >= CDP_MR_LINKED && o <= CDP_MR_MERGE_BLOCK);
		CHECK((o == CDP_MR_INVALID) == (v->state == CDP_MR_STATE_INVALID));
		CHECK((o == CDP_MR_BLOCKED) == (v->state == CDP_MR_STATE_BLOCKED));
		if (o == CDP_MR_UNLINKED)
		{
			bool		taken = v->contact != CDP_MR_NEW;

			CHECK(!g->kinds[v->kind].matchable);
			for (int f = 0; f < g->nlinks; f++)
				if (g->links[f].value == g->links[e].value && res->outcome[f] == CDP_MR_LINKED)
					taken = true;
			CHECK(taken);
		}
		if (o == CDP_MR_LIMIT || o == CDP_MR_MERGE_BLOCK)
		{
			int			a = find(parent, RNODE(g, g->links[e].record));
			int			b = find(parent, VNODE(g, g->links[e].value));
			bool		still = false;

			/* refused for good: the final sets still may not be joined */
			CHECK(a != b);
			if (o == CDP_MR_MERGE_BLOCK)
				still = sets_blocked(g, parent, a, b);
			else
				for (int l = 0; l < x->nlimited; l++)
				{
					int64_t		ta, tb;
					int			pa, pb;
					int32_t		limit = 0;

					for (int k = 0; k < g->nkinds; k++)
						if (x->slot[k] == l)
							limit = g->kinds[k].max_per_contact;
					set_counts(x, parent, a, l, &ta, &pa);
					set_counts(x, parent, b, l, &tb, &pb);
					if (ta > 0 && tb > 0 && ta + tb > limit)
						still = true;
				}
			CHECK(still);
		}
		if (CDP_MR_REFUSED(o))
			nrefused++;
	}
	CHECK(nrefused == res->nrefused);

	/* the partition is the oracle's, components numbered by first record */
	for (int i = 0; i < nnodes; i++)
		root_component[i] = -2;
	for (int r = 0; r < g->nrecords; r++)
	{
		bool		substance = false;
		int			k = res->record_component[r];

		for (int e = 0; e < g->nlinks; e++)
			if (g->links[e].record == r && res->outcome[e] != CDP_MR_INVALID &&
				res->outcome[e] != CDP_MR_BLOCKED)
				substance = true;
		CHECK(substance == (k >= 0));
		if (k < 0)
			continue;
		CHECK(k <= next_component);
		if (k == next_component)
			next_component++;
	}
	CHECK(next_component == res->ncomponents);
	for (int i = 0; i < nnodes; i++)
	{
		int			root = find(parent, i);
		int			k = component_of(g, res, i);

		CHECK(k >= -1 && k < res->ncomponents);
		if (root_component[root] == -2)
			root_component[root] = k;
		CHECK(root_component[root] == k);
	}
	for (int i = 0; i < nnodes; i++)
		for (int j = 0; j < nnodes; j++)
		{
			int			k = component_of(g, res, i);

			if (k >= 0 && k == component_of(g, res, j))
				CHECK(find(parent, i) == find(parent, j));
		}
	/* a set without a record with substance is in no component */
	for (int i = 0; i < nnodes; i++)
	{
		bool		has_record = false;

		for (int r = 0; r < g->nrecords; r++)
			if (res->record_component[r] >= 0 && find(parent, r) == find(parent, i))
				has_record = true;
		CHECK(has_record == (component_of(g, res, i) >= 0));
	}

	/* merge blocks */
	for (int p = 0; p < g->nblocks; p++)
		CHECK(find(parent, CNODE(g, g->blocks[2 * p])) != find(parent, CNODE(g, g->blocks[2 * p + 1])));

	/* limits: within the limit, or all brought by one part */
	for (int i = 0; i < nnodes; i++)
	{
		if (find(parent, i) != i)
			continue;
		for (int l = 0; l < x->nlimited; l++)
		{
			int64_t		total;
			int			parts;
			int32_t		limit = 0;

			for (int k = 0; k < g->nkinds; k++)
				if (x->slot[k] == l)
					limit = g->kinds[k].max_per_contact;
			set_counts(x, parent, i, l, &total, &parts);
			CHECK(total <= limit || parts <= 1);
		}
	}

	/* a kind that does not link joins no two records */
	oracle_sets(g, res, matchable_parent, true);
	for (int r = 0; r < g->nrecords; r++)
		for (int s = 0; s < g->nrecords; s++)
			CHECK((find(parent, r) == find(parent, s)) ==
				  (find(matchable_parent, r) == find(matchable_parent, s)));

	/* survivors */
	for (int k = 0; k < res->ncomponents; k++)
	{
		int			best = -1;

		for (int c = 0; c < g->ncontacts; c++)
			if (res->contact_component[c] == k &&
				(best < 0 || g->contacts[c].created_at < g->contacts[best].created_at ||
				 (g->contacts[c].created_at == g->contacts[best].created_at &&
				  g->contacts[c].id < g->contacts[best].id)))
				best = c;
		CHECK(res->survivor[k] == best);
	}
}

static void
same_result(const cdp_mr_graph *g, const cdp_mr_result *a, const cdp_mr_result *b)
{
	CHECK(a->ncomponents == b->ncomponents && a->nrefused == b->nrefused);
	CHECK(g->nlinks == 0 || memcmp(a->outcome, b->outcome, g->nlinks) == 0);
	CHECK(memcmp(a->record_component, b->record_component, sizeof(int32_t) * g->nrecords) == 0);
	CHECK(g->nvalues == 0 || memcmp(a->value_component, b->value_component, sizeof(int32_t) * g->nvalues) == 0);
	CHECK(g->ncontacts == 0 || memcmp(a->contact_component, b->contact_component, sizeof(int32_t) * g->ncontacts) == 0);
	CHECK(a->ncomponents == 0 || memcmp(a->survivor, b->survivor, sizeof(int32_t) * a->ncomponents) == 0);
}

/* Without limits, blocks or non-linking kinds, the order of links does not matter. */
static void
check_order_free(graph *x, const cdp_mr_result *res)
{
	cdp_mr_graph *g = &x->g;
	cdp_mr_link reversed[MAX_LINKS];
	const cdp_mr_link *links = g->links;
	arena		a = {.n = 0, .fill = 0x5a};
	cdp_mr_env	env = {arena_alloc, NULL, &a};
	cdp_mr_result other;
	int			map[MAX_RECORDS + 1];

	if (x->nlimited > 0 || g->nblocks > 0)
		return;
	for (int k = 0; k < g->nkinds; k++)
		if (!g->kinds[k].matchable)
			return;
	for (int e = 0; e < g->nlinks; e++)
		reversed[e] = links[g->nlinks - 1 - e];
	g->links = reversed;
	cdp_mr_resolve(g, &env, &other);
	g->links = links;

	/* the same partition of records and values, whatever the numbering */
	CHECK(other.ncomponents == res->ncomponents);
	for (int k = 0; k <= MAX_RECORDS; k++)
		map[k] = -1;
	for (int r = 0; r < g->nrecords; r++)
	{
		int			k = res->record_component[r];
		int			o = other.record_component[r];

		CHECK((k < 0) == (o < 0));
		if (k < 0)
			continue;
		if (map[k] < 0)
			map[k] = o;
		CHECK(map[k] == o);
	}
	for (int v = 0; v < g->nvalues; v++)
	{
		int			k = res->value_component[v];

		CHECK((k < 0) == (other.value_component[v] < 0));
		if (k >= 0)
			CHECK(map[k] == other.value_component[v]);
	}
	for (int k = 0; k < res->ncomponents; k++)
		CHECK(res->survivor[k] < 0 ? other.survivor[map[k]] < 0 :
			  other.survivor[map[k]] == res->survivor[k]);
	arena_free(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	reader		r = {data, size};
	static graph x;
	arena		a1 = {.n = 0, .fill = 0x00};
	arena		a2 = {.n = 0, .fill = 0xff};
	cdp_mr_env	env1 = {arena_alloc, progress, &a1};
	cdp_mr_env	env2 = {arena_alloc, NULL, &a2};
	cdp_mr_result res1;
	cdp_mr_result res2;

	decode(&r, &x);
	progress_calls = 0;
	progress_next = 0;
	cdp_mr_resolve(&x.g, &env1, &res1);
	CHECK((progress_calls > 0) == (x.g.nlinks > 0));
	CHECK(progress_next >= x.g.nlinks);
	check(&x, &res1);
	cdp_mr_resolve(&x.g, &env2, &res2);
	same_result(&x.g, &res1, &res2);
	check_order_free(&x, &res1);
	arena_free(&a1);
	arena_free(&a2);
	return 0;
}
