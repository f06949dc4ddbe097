/*
 * segment_codec.c
 *	  The compact binary form of a segment tree (preorder, varints) and its
 *	  decoder, which trusts no byte: it accepts exactly the trees the parser makes.
 *
 * A node is: u8 kind, u8 flags (1 negated, 2 flag), u8 op, then by kind
 *	 AND, OR			varint n, n nodes
 *	 NOT, ORGANIZATION	node
 *	 COMPARE .. CONTAINS	str qualifier, str field, varint n, n literals
 *	 TERM				str taxonomy, str path
 *	 TAG, HAS_*, ORG_UNDER, IN_SEGMENT	str name
 *	 DOCUMENT			str template, u8 has body, [node]
 *	 EVENT				str name, u8 has where, [node], [varint count if op],
 *						u8 within unit, [varint within if unit]
 * A literal is u8 kind, then STRING/NUMBER str, BOOL u8, NOW u8 sign (0, 1 +,
 * 2 -) and str interval if signed.  A str is varint length and bytes.
 */
#include "segment/segment_lexer.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define FLAG_NEGATED	1
#define FLAG_FLAG		2

typedef struct Encoder
{
	SegArena   *arena;
	uint8_t    *buf;
	size_t		len;
	size_t		cap;
	bool		failed;
} Encoder;

static void
put(Encoder *e, const void *data, size_t n)
{
	if (e->failed)
		return;
	if (e->len + n > e->cap)
	{
		size_t		cap = e->cap ? e->cap : 64;
		uint8_t    *buf;

		while (e->len + n > cap)
			cap *= 2;
		buf = e->arena->alloc(e->arena->ctx, cap);
		if (buf == NULL)
		{
			e->failed = true;
			return;
		}
		if (e->len > 0)
			memcpy(buf, e->buf, e->len);
		e->buf = buf;
		e->cap = cap;
	}
	memcpy(e->buf + e->len, data, n);
	e->len += n;
}

static void
put_u8(Encoder *e, unsigned v)
{
	uint8_t		b = (uint8_t) v;

	put(e, &b, 1);
}

static void
put_varint(Encoder *e, uint64_t v)
{
	uint8_t		b[10];
	int			n = 0;

	do
	{
		b[n] = v & 0x7f;
		v >>= 7;
		if (v)
			b[n] |= 0x80;
		n++;
	} while (v);
	put(e, b, n);
}

static void
put_str(Encoder *e, const char *s)
{
	size_t		n = s ? strlen(s) : 0;

	put_varint(e, n);
	put(e, s, n);
}

static void
encode_literal(Encoder *e, const SegLiteral *lit)
{
	put_u8(e, lit->kind);
	switch (lit->kind)
	{
		case SEG_LIT_STRING:
		case SEG_LIT_NUMBER:
			put_str(e, lit->text);
			break;
		case SEG_LIT_BOOL:
			put_u8(e, lit->boolean ? 1 : 0);
			break;
		case SEG_LIT_NOW:
			put_u8(e, lit->now_sign > 0 ? 1 : lit->now_sign < 0 ? 2 : 0);
			if (lit->now_sign != 0)
				put_str(e, lit->interval);
			break;
	}
}

static void
encode_node(Encoder *e, const SegNode *node)
{
	put_u8(e, node->kind);
	put_u8(e, (node->negated ? FLAG_NEGATED : 0) | (node->flag ? FLAG_FLAG : 0));
	put_u8(e, node->op);
	switch (node->kind)
	{
		case SEG_AND:
		case SEG_OR:
			put_varint(e, node->nchildren);
			for (int i = 0; i < node->nchildren; i++)
				encode_node(e, node->children[i]);
			break;
		case SEG_NOT:
		case SEG_ORGANIZATION:
			encode_node(e, node->children[0]);
			break;
		case SEG_COMPARE:
		case SEG_IN:
		case SEG_BETWEEN:
		case SEG_IS_NULL:
		case SEG_LIKE:
		case SEG_CONTAINS:
			put_str(e, node->qualifier);
			put_str(e, node->field);
			put_varint(e, node->nlits);
			for (int i = 0; i < node->nlits; i++)
				encode_literal(e, &node->lits[i]);
			break;
		case SEG_TERM:
			put_str(e, node->qualifier);
			put_str(e, node->name);
			break;
		case SEG_TAG:
		case SEG_HAS_PROFILE:
		case SEG_HAS_KIND:
		case SEG_ORG_UNDER:
		case SEG_IN_SEGMENT:
			put_str(e, node->name);
			break;
		case SEG_DOCUMENT:
			put_str(e, node->name);
			put_u8(e, node->nchildren > 0);
			if (node->nchildren > 0)
				encode_node(e, node->children[0]);
			break;
		case SEG_EVENT:
			put_str(e, node->name);
			put_u8(e, node->nchildren > 0);
			if (node->nchildren > 0)
				encode_node(e, node->children[0]);
			if (node->op != SEG_OP_NONE)
				put_varint(e, (uint64_t) node->count);
			put_u8(e, node->within_unit);
			if (node->within_unit != SEG_WITHIN_NONE)
				put_varint(e, (uint64_t) node->within);
			break;
	}
}

uint8_t *
seg_encode(const SegNode *node, SegArena *arena, size_t *len)
{
	Encoder		e;

	memset(&e, 0, sizeof(e));
	e.arena = arena;
	encode_node(&e, node);
	if (e.failed)
		return NULL;
	*len = e.len;
	return e.buf;
}

/* ---------------------------------------------------------------- decode */

typedef struct Decoder
{
	const uint8_t *data;
	size_t		len;
	size_t		pos;
	SegArena   *arena;
	SegError   *err;
	int			nodes;
	jmp_buf		fail;
} Decoder;

static void corrupt(Decoder *d, const char *fmt,...) __attribute__((format(printf, 2, 3), noreturn));

static void
corrupt(Decoder *d, const char *fmt,...)
{
	va_list		ap;

	d->err->code = SEG_ERR_CORRUPT;
	d->err->position = d->pos;
	va_start(ap, fmt);
	vsnprintf(d->err->message, sizeof(d->err->message), fmt, ap);
	va_end(ap);
	d->err->detail[0] = '\0';
	longjmp(d->fail, 1);
}

static void *
dalloc(Decoder *d, size_t size)
{
	void	   *m = d->arena->alloc(d->arena->ctx, size);

	if (m == NULL)
	{
		seg_set_error(d->err, SEG_ERR_NO_MEMORY, d->pos, NULL, "out of memory");
		longjmp(d->fail, 1);
	}
	return m;
}

static unsigned
get_u8(Decoder *d)
{
	if (d->pos >= d->len)
		corrupt(d, "binary segment ends early at byte %zu", d->pos);
	return d->data[d->pos++];
}

static uint64_t
get_varint(Decoder *d)
{
	uint64_t	v = 0;

	for (int shift = 0;; shift += 7)
	{
		unsigned	b = get_u8(d);

		if (shift == 63 && b > 1)
			corrupt(d, "varint out of range at byte %zu", d->pos - 1);
		v |= (uint64_t) (b & 0x7f) << shift;
		if (!(b & 0x80))
		{
			/* one encoding per value: no trailing zero groups */
			if (b == 0 && shift > 0)
				corrupt(d, "overlong varint at byte %zu", d->pos - 1);
			return v;
		}
	}
}

static const char *
get_str(Decoder *d, size_t max, const char *what)
{
	uint64_t	n = get_varint(d);
	char	   *s;

	if (n > d->len - d->pos)
		corrupt(d, "%s length %llu runs past the end", what, (unsigned long long) n);
	if (n > max)
		corrupt(d, "%s is %llu bytes, the limit is %zu", what, (unsigned long long) n, max);
	if (memchr(d->data + d->pos, '\0', n) != NULL)
		corrupt(d, "%s contains a NUL byte", what);
	s = dalloc(d, n + 1);
	memcpy(s, d->data + d->pos, n);
	s[n] = '\0';
	d->pos += n;
	return s;
}

static const char *
get_name(Decoder *d, const char *what)
{
	const char *s = get_str(d, SEG_MAX_NAME, what);

	if (*s == '\0')
		corrupt(d, "%s is empty", what);
	return s;
}

static void
decode_literal(Decoder *d, SegLiteral *lit, bool string_only)
{
	unsigned	kind = get_u8(d);

	lit->kind = kind;
	if (string_only && kind != SEG_LIT_STRING)
		corrupt(d, "like pattern is not a string");
	switch (kind)
	{
		case SEG_LIT_STRING:
			lit->text = get_str(d, SEG_MAX_TEXT, "string literal");
			break;
		case SEG_LIT_NUMBER:
			lit->text = get_str(d, SEG_MAX_NUMBER, "number literal");
			if (!seg_valid_number(lit->text, strlen(lit->text)))
				corrupt(d, "invalid number literal");
			break;
		case SEG_LIT_BOOL:
			{
				unsigned	b = get_u8(d);

				if (b > 1)
					corrupt(d, "invalid boolean %u", b);
				lit->boolean = b == 1;
			}
			break;
		case SEG_LIT_NOW:
			{
				unsigned	sign = get_u8(d);

				if (sign > 2)
					corrupt(d, "invalid now() sign %u", sign);
				lit->now_sign = sign == 0 ? 0 : sign == 1 ? 1 : -1;
				if (sign != 0)
					lit->interval = get_str(d, SEG_MAX_TEXT, "interval");
			}
			break;
		default:
			corrupt(d, "unknown literal kind %u", kind);
	}
}

static int64_t
get_int64(Decoder *d, const char *what)
{
	uint64_t	v = get_varint(d);

	if (v > (uint64_t) INT64_MAX)
		corrupt(d, "%s out of range", what);
	return (int64_t) v;
}

static SegNode *decode_node(Decoder *d, SegNodeKind parent, int depth);

/*
 * A quantifier's or NOT's single child, one level deeper: the parser counts
 * NOT, parentheses and quantifier bodies, so the decoder counts them exactly
 * as the printed text will nest.
 */
static void
decode_child(Decoder *d, SegNode *node, int depth)
{
	if (depth + 1 > SEG_MAX_DEPTH)
		corrupt(d, "binary segment nests deeper than %d levels", SEG_MAX_DEPTH);
	node->children = dalloc(d, sizeof(SegNode *));
	node->children[0] = decode_node(d, node->kind, depth + 1);
	node->nchildren = 1;
}

static SegNode *
decode_node(Decoder *d, SegNodeKind parent, int depth)
{
	size_t		start = d->pos;
	unsigned	kind = get_u8(d);
	unsigned	flags = get_u8(d);
	unsigned	op = get_u8(d);
	unsigned	allowed_flags = 0;
	SegNode    *node;

	if (kind < SEG_AND || kind > SEG_IN_SEGMENT)
	{
		d->pos = start;
		corrupt(d, "unknown node kind %u at byte %zu", kind, start);
	}
	if (++d->nodes > SEG_MAX_NODES)
		corrupt(d, "binary segment has more than %d nodes", SEG_MAX_NODES);
	if (op > SEG_OP_GE)
		corrupt(d, "unknown operator %u at byte %zu", op, start + 2);

	/* an AND or OR in parentheses, as the printer will write it */
	if ((kind == SEG_AND || kind == SEG_OR) &&
		(parent == SEG_NOT || (parent == SEG_AND && kind == SEG_OR)))
	{
		if (depth + 1 > SEG_MAX_DEPTH)
			corrupt(d, "binary segment nests deeper than %d levels", SEG_MAX_DEPTH);
		depth++;
	}

	node = dalloc(d, sizeof(SegNode));
	node->kind = kind;
	node->negated = (flags & FLAG_NEGATED) != 0;
	node->flag = (flags & FLAG_FLAG) != 0;
	node->op = op;
	node->position = -1;

	switch (kind)
	{
		case SEG_IN:
		case SEG_BETWEEN:
		case SEG_IS_NULL:
			allowed_flags = FLAG_NEGATED;
			break;
		case SEG_LIKE:
			allowed_flags = FLAG_NEGATED | FLAG_FLAG;
			break;
		case SEG_TAG:
		case SEG_TERM:
		case SEG_HAS_KIND:
			allowed_flags = FLAG_FLAG;
			break;
		default:
			break;
	}
	if (flags & ~allowed_flags)
		corrupt(d, "invalid flags %u for node kind %u at byte %zu", flags, kind, start);
	if ((kind == SEG_COMPARE) != (op != SEG_OP_NONE) && kind != SEG_EVENT)
		corrupt(d, "invalid operator %u for node kind %u at byte %zu", op, kind, start);

	switch (kind)
	{
		case SEG_AND:
		case SEG_OR:
			{
				uint64_t	n = get_varint(d);

				if (n < 2)
					corrupt(d, "%s node with %llu children", kind == SEG_AND ? "and" : "or",
							(unsigned long long) n);
				/* every node takes at least 3 bytes */
				if (n > (d->len - d->pos) / 3)
					corrupt(d, "child count %llu runs past the end", (unsigned long long) n);
				node->children = dalloc(d, sizeof(SegNode *) * n);
				node->nchildren = (int) n;
				for (uint64_t i = 0; i < n; i++)
				{
					node->children[i] = decode_node(d, kind, depth);
					if (node->children[i]->kind == kind)
						corrupt(d, "%s directly inside %s", kind == SEG_AND ? "and" : "or",
								kind == SEG_AND ? "and" : "or");
				}
			}
			break;
		case SEG_NOT:
		case SEG_ORGANIZATION:
			decode_child(d, node, depth);
			break;
		case SEG_COMPARE:
		case SEG_IN:
		case SEG_BETWEEN:
		case SEG_IS_NULL:
		case SEG_LIKE:
		case SEG_CONTAINS:
			{
				uint64_t	n;
				uint64_t	min;
				uint64_t	max;

				node->qualifier = get_name(d, "qualifier");
				node->field = get_name(d, "field");
				n = get_varint(d);
				min = max = kind == SEG_BETWEEN ? 2 : kind == SEG_IS_NULL ? 0 : 1;
				if (kind == SEG_IN)
					max = SEG_MAX_LIST;
				if (n < min || n > max)
					corrupt(d, "%llu literals for node kind %u", (unsigned long long) n, kind);
				if (n > d->len - d->pos)
					corrupt(d, "literal count %llu runs past the end", (unsigned long long) n);
				if (n > 0)
					node->lits = dalloc(d, sizeof(SegLiteral) * n);
				node->nlits = (int) n;
				for (uint64_t i = 0; i < n; i++)
					decode_literal(d, &node->lits[i], kind == SEG_LIKE);
			}
			break;
		case SEG_TERM:
			node->qualifier = get_name(d, "taxonomy");
			node->name = get_str(d, SEG_MAX_TEXT, "term");
			break;
		case SEG_HAS_PROFILE:
		case SEG_HAS_KIND:
			node->name = get_name(d, "name");
			break;
		case SEG_TAG:
		case SEG_ORG_UNDER:
		case SEG_IN_SEGMENT:
			node->name = get_str(d, SEG_MAX_TEXT, "name");
			break;
		case SEG_DOCUMENT:
		case SEG_EVENT:
			{
				unsigned	body;

				node->name = kind == SEG_DOCUMENT ? get_name(d, "template")
					: get_str(d, SEG_MAX_TEXT, "event name");
				body = get_u8(d);
				if (body > 1)
					corrupt(d, "invalid body flag %u", body);
				if (body)
					decode_child(d, node, depth);
				if (kind == SEG_DOCUMENT)
					break;
				if (op != SEG_OP_NONE)
					node->count = get_int64(d, "event count");
				node->within_unit = get_u8(d);
				if (node->within_unit > SEG_WITHIN_HOURS)
					corrupt(d, "invalid within unit %u", node->within_unit);
				if (node->within_unit != SEG_WITHIN_NONE)
				{
					node->within = get_int64(d, "within");
					if (node->within == 0)
						corrupt(d, "within is zero");
				}
			}
			break;
	}
	return node;
}

SegNode *
seg_decode(const uint8_t *data, size_t len, SegArena *arena, SegError *err)
{
	Decoder		d;
	SegNode    *volatile root = NULL;

	memset(err, 0, sizeof(*err));
	memset(&d, 0, sizeof(d));
	d.data = data;
	d.len = len;
	d.arena = arena;
	d.err = err;
	if (setjmp(d.fail) != 0)
		return NULL;
	root = decode_node(&d, 0, 0);
	if (d.pos != d.len)
		corrupt(&d, "%zu trailing bytes after the segment", d.len - d.pos);
	return root;
}
