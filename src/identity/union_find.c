/*
 * union_find.c
 *	  Disjoint-set forest for bulk identity resolution: near-constant time
 *	  per operation, so components of millions of records cost little.
 */
#include "union_find.h"

void
cdp_uf_init(cdp_uf *uf, int32_t *parent, int32_t *size, int32_t n)
{
	uf->parent = parent;
	uf->size = size;
	uf->n = n;
	for (int32_t i = 0; i < n; i++)
	{
		parent[i] = i;
		size[i] = 1;
	}
}

int32_t
cdp_uf_find(cdp_uf *uf, int32_t x)
{
	while (uf->parent[x] != x)
	{
		uf->parent[x] = uf->parent[uf->parent[x]];	/* path halving */
		x = uf->parent[x];
	}
	return x;
}

int32_t
cdp_uf_link(cdp_uf *uf, int32_t root_a, int32_t root_b)
{
	if (root_a == root_b)
		return root_a;
	if (uf->size[root_a] < uf->size[root_b])
	{
		int32_t		t = root_a;

		root_a = root_b;
		root_b = t;
	}
	uf->parent[root_b] = root_a;
	uf->size[root_a] += uf->size[root_b];
	return root_a;
}
