/*
 * union_find.h
 *	  Disjoint sets over dense integer nodes, union by size with path
 *	  halving; free of PostgreSQL so it can be tested and fuzzed alone.
 */
#ifndef CDP_UNION_FIND_H
#define CDP_UNION_FIND_H

#include <stdint.h>

typedef struct cdp_uf
{
	int32_t    *parent;
	int32_t    *size;
	int32_t		n;
} cdp_uf;

/* The caller provides both arrays of n elements. */
extern void cdp_uf_init(cdp_uf *uf, int32_t *parent, int32_t *size, int32_t n);
extern int32_t cdp_uf_find(cdp_uf *uf, int32_t x);

/* Join the sets of two roots; returns the root of the union. */
extern int32_t cdp_uf_link(cdp_uf *uf, int32_t root_a, int32_t root_b);

#endif
