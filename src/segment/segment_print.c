/*
 * segment_print.c
 *	  The canonical text of a segment tree: lower-case keywords, minimal
 *	  parentheses, names quoted only when they must be; it parses back equal.
 */
#include "segment/segment_lexer.h"

#include <stdio.h>
#include <string.h>

typedef struct Printer
{
	SegArena   *arena;
	char	   *buf;
	size_t		len;
	size_t		cap;
	bool		failed;
} Printer;

static void print_node(Printer *pr, const SegNode *node);

static void
put(Printer *pr, const char *s, size_t n)
{
	if (pr->failed)
		return;
	if (pr->len + n + 1 > pr->cap)
	{
		size_t		cap = pr->cap ? pr->cap : 64;
		char	   *buf;

		while (pr->len + n + 1 > cap)
			cap *= 2;
		buf = pr->arena->alloc(pr->arena->ctx, cap);
		if (buf == NULL)
		{
			pr->failed = true;
			return;
		}
		if (pr->len > 0)
			memcpy(buf, pr->buf, pr->len);
		pr->buf = buf;
		pr->cap = cap;
	}
	memcpy(pr->buf + pr->len, s, n);
	pr->len += n;
	pr->buf[pr->len] = '\0';
}

static void
puts_(Printer *pr, const char *s)
{
	put(pr, s, strlen(s));
}

/* s between quote characters, the quote character doubled inside */
static void
put_quoted(Printer *pr, const char *s, char quote)
{
	const char *run = s;

	put(pr, &quote, 1);
	for (const char *c = s; *c; c++)
	{
		if (*c == quote)
		{
			put(pr, run, c - run + 1);
			run = c;			/* the quote is written again */
		}
	}
	puts_(pr, run);
	put(pr, &quote, 1);
}

static void
put_string(Printer *pr, const char *s)
{
	put_quoted(pr, s ? s : "", '\'');
}

/*
 * A name is bare when it is lower case [a-z_][a-z0-9_]* and, where a keyword
 * would be read differently (anywhere but around the dot of a reference),
 * not a keyword.
 */
static void
put_name(Printer *pr, const char *s, bool keyword_ok)
{
	bool		bare;

	if (s == NULL)
		s = "";
	bare = (*s >= 'a' && *s <= 'z') || *s == '_';
	for (const char *c = s; bare && *c; c++)
		bare = (*c >= 'a' && *c <= 'z') || *c == '_' || (*c >= '0' && *c <= '9');
	if (bare && !keyword_ok && seg_keyword_lookup(s, strlen(s)) != SEG_KW_NONE)
		bare = false;
	if (bare)
		puts_(pr, s);
	else
		put_quoted(pr, s, '"');
}

static const char *
op_text(SegOp op)
{
	switch (op)
	{
		case SEG_OP_EQ:
			return "=";
		case SEG_OP_NE:
			return "!=";
		case SEG_OP_LT:
			return "<";
		case SEG_OP_LE:
			return "<=";
		case SEG_OP_GT:
			return ">";
		case SEG_OP_GE:
			return ">=";
		default:
			return "?";
	}
}

static void
print_literal(Printer *pr, const SegLiteral *lit)
{
	switch (lit->kind)
	{
		case SEG_LIT_STRING:
			put_string(pr, lit->text);
			break;
		case SEG_LIT_NUMBER:
			puts_(pr, lit->text ? lit->text : "");
			break;
		case SEG_LIT_BOOL:
			puts_(pr, lit->boolean ? "true" : "false");
			break;
		case SEG_LIT_NOW:
			puts_(pr, "now()");
			if (lit->now_sign != 0)
			{
				puts_(pr, lit->now_sign > 0 ? " + interval " : " - interval ");
				put_string(pr, lit->interval);
			}
			break;
	}
}

static void
print_ref(Printer *pr, const SegNode *node)
{
	put_name(pr, node->qualifier, true);
	puts_(pr, ".");
	put_name(pr, node->field, true);
}

/* A child of AND, OR or NOT, in parentheses where precedence needs them. */
static void
print_operand(Printer *pr, const SegNode *parent, const SegNode *child)
{
	bool		parens;

	if (child->kind == SEG_AND)
		parens = parent->kind != SEG_OR;
	else if (child->kind == SEG_OR)
		parens = true;
	else
		parens = false;
	if (parens)
		puts_(pr, "(");
	print_node(pr, child);
	if (parens)
		puts_(pr, ")");
}

static void
print_body(Printer *pr, const SegNode *node)
{
	puts_(pr, "(");
	if (node->nchildren > 0 && node->children[0] != NULL)
		print_node(pr, node->children[0]);
	puts_(pr, ")");
}

static void
print_node(Printer *pr, const SegNode *node)
{
	switch (node->kind)
	{
		case SEG_AND:
		case SEG_OR:
			for (int i = 0; i < node->nchildren; i++)
			{
				if (i > 0)
					puts_(pr, node->kind == SEG_AND ? " and " : " or ");
				print_operand(pr, node, node->children[i]);
			}
			break;
		case SEG_NOT:
			puts_(pr, "not ");
			if (node->nchildren > 0)
				print_operand(pr, node, node->children[0]);
			break;
		case SEG_COMPARE:
			print_ref(pr, node);
			puts_(pr, " ");
			puts_(pr, op_text(node->op));
			puts_(pr, " ");
			if (node->nlits > 0)
				print_literal(pr, &node->lits[0]);
			break;
		case SEG_IN:
			print_ref(pr, node);
			puts_(pr, node->negated ? " not in (" : " in (");
			for (int i = 0; i < node->nlits; i++)
			{
				if (i > 0)
					puts_(pr, ", ");
				print_literal(pr, &node->lits[i]);
			}
			puts_(pr, ")");
			break;
		case SEG_BETWEEN:
			print_ref(pr, node);
			puts_(pr, node->negated ? " not between " : " between ");
			if (node->nlits > 0)
				print_literal(pr, &node->lits[0]);
			puts_(pr, " and ");
			if (node->nlits > 1)
				print_literal(pr, &node->lits[1]);
			break;
		case SEG_IS_NULL:
			print_ref(pr, node);
			puts_(pr, node->negated ? " is not null" : " is null");
			break;
		case SEG_LIKE:
			print_ref(pr, node);
			puts_(pr, node->negated ? " not " : " ");
			puts_(pr, node->flag ? "ilike " : "like ");
			if (node->nlits > 0)
				print_literal(pr, &node->lits[0]);
			break;
		case SEG_CONTAINS:
			print_ref(pr, node);
			puts_(pr, " contains ");
			if (node->nlits > 0)
				print_literal(pr, &node->lits[0]);
			break;
		case SEG_TAG:
			puts_(pr, node->flag ? "tag under " : "tag ");
			put_string(pr, node->name);
			break;
		case SEG_TERM:
			put_name(pr, node->qualifier, false);
			puts_(pr, node->flag ? " under " : " is ");
			put_string(pr, node->name);
			break;
		case SEG_HAS_PROFILE:
			puts_(pr, "has profile ");
			put_name(pr, node->name, false);
			break;
		case SEG_HAS_KIND:
			puts_(pr, node->flag ? "has validated " : "has ");
			put_name(pr, node->name, false);
			break;
		case SEG_ORGANIZATION:
			puts_(pr, "organization");
			print_body(pr, node);
			break;
		case SEG_ORG_UNDER:
			puts_(pr, "organization under ");
			put_string(pr, node->name);
			break;
		case SEG_DOCUMENT:
			puts_(pr, "document ");
			put_name(pr, node->name, false);
			if (node->nchildren > 0)
			{
				puts_(pr, " ");
				print_body(pr, node);
			}
			break;
		case SEG_EVENT:
			puts_(pr, "event ");
			put_string(pr, node->name);
			if (node->nchildren > 0)
			{
				puts_(pr, " where ");
				print_body(pr, node);
			}
			if (node->op != SEG_OP_NONE)
			{
				char		num[32];

				snprintf(num, sizeof(num), " %lld", (long long) node->count);
				puts_(pr, " count ");
				puts_(pr, op_text(node->op));
				puts_(pr, num);
			}
			if (node->within_unit != SEG_WITHIN_NONE)
			{
				char		num[32];

				snprintf(num, sizeof(num), " %lld", (long long) node->within);
				puts_(pr, " within");
				puts_(pr, num);
				if (node->within == 1)
					puts_(pr, node->within_unit == SEG_WITHIN_DAYS ? " day" : " hour");
				else
					puts_(pr, node->within_unit == SEG_WITHIN_DAYS ? " days" : " hours");
			}
			break;
		case SEG_IN_SEGMENT:
			puts_(pr, "in segment ");
			put_string(pr, node->name);
			break;
	}
}

char *
seg_print(const SegNode *node, SegArena *arena)
{
	Printer		pr;

	memset(&pr, 0, sizeof(pr));
	pr.arena = arena;
	put(&pr, "", 0);
	if (node != NULL)
		print_node(&pr, node);
	return pr.failed ? NULL : pr.buf;
}
