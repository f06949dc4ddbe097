/*
 * fuzz_segment.c
 *	  libFuzzer target for the segment core: parse, print, parse again, encode
 *	  and decode agree, and decoding any bytes never crashes.
 */
#include "segment/segment_ast.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A bump arena: every allocation of one input is freed at its end. */
typedef struct Block
{
	struct Block *next;
	size_t		used;
	size_t		size;
	char		data[];
} Block;

static Block *blocks;

static void *
bump_alloc(void *ctx, size_t size)
{
	Block	   *b = blocks;
	void	   *p;

	size = (size + 15) & ~(size_t) 15;
	if (b == NULL || b->size - b->used < size)
	{
		size_t		want = size > 65536 ? size : 65536;

		b = malloc(sizeof(Block) + want);
		if (b == NULL)
			return NULL;
		b->next = blocks;
		b->used = 0;
		b->size = want;
		blocks = b;
	}
	p = b->data + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

static void
bump_free(void)
{
	while (blocks)
	{
		Block	   *next = blocks->next;

		free(blocks);
		blocks = next;
	}
}

static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
lit_eq(const SegLiteral *a, const SegLiteral *b)
{
	return a->kind == b->kind && str_eq(a->text, b->text) &&
		a->boolean == b->boolean && a->now_sign == b->now_sign &&
		str_eq(a->interval, b->interval);
}

/* Trees are equal when everything but the positions is. */
static bool
tree_eq(const SegNode *a, const SegNode *b)
{
	if (a->kind != b->kind || a->negated != b->negated || a->flag != b->flag ||
		a->op != b->op || !str_eq(a->qualifier, b->qualifier) ||
		!str_eq(a->field, b->field) || !str_eq(a->name, b->name) ||
		a->nlits != b->nlits || a->nchildren != b->nchildren ||
		a->count != b->count || a->within != b->within ||
		a->within_unit != b->within_unit)
		return false;
	for (int i = 0; i < a->nlits; i++)
		if (!lit_eq(&a->lits[i], &b->lits[i]))
			return false;
	for (int i = 0; i < a->nchildren; i++)
		if (!tree_eq(a->children[i], b->children[i]))
			return false;
	return true;
}

/* print(parse(print(t))) == print(t), and the tree survives the codec. */
static void
check_round_trips(const SegNode *tree, SegArena *arena, const uint8_t *raw, size_t raw_len)
{
	SegError	err;
	char	   *text = seg_print(tree, arena);
	SegNode    *again;
	uint8_t    *bin;
	size_t		bin_len = 0;
	SegNode    *decoded;

	if (text == NULL)
		abort();
	again = seg_parse(text, strlen(text), arena, &err);
	if (again == NULL)
	{
		/* only a decoded tree may print longer than the text limit */
		if (raw != NULL && err.code == SEG_ERR_TOO_LONG && strlen(text) > SEG_MAX_TEXT)
			return;
		abort();
	}
	if (strcmp(text, seg_print(again, arena)) != 0 || !tree_eq(tree, again))
		abort();

	bin = seg_encode(tree, arena, &bin_len);
	if (bin == NULL)
		abort();
	if (raw != NULL && (bin_len != raw_len || memcmp(bin, raw, raw_len) != 0))
		abort();				/* one encoding per tree */
	decoded = seg_decode(bin, bin_len, arena, &err);
	if (decoded == NULL || !tree_eq(tree, decoded) ||
		strcmp(text, seg_print(decoded, arena)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	SegArena	arena = {bump_alloc, NULL};
	SegError	err;
	SegNode    *tree;

	tree = seg_parse((const char *) data, size, &arena, &err);
	if (tree != NULL)
		check_round_trips(tree, &arena, NULL, 0);
	else if (err.code == SEG_OK || err.position > size || err.message[0] == '\0')
		abort();

	tree = seg_decode(data, size, &arena, &err);
	if (tree != NULL)
		check_round_trips(tree, &arena, data, size);
	else if (err.code != SEG_ERR_CORRUPT || err.message[0] == '\0')
		abort();

	bump_free();
	return 0;
}
