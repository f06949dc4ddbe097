/*
 * segment_compile.c
 *	  The segment compiler: a checked tree becomes one SQL statement over the
 *	  typed tables, every condition a never-NULL EXISTS, IN or column test on
 *	  contact_id, every name and literal quoted.
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "citus/citus.h"
#include "segment/segment_compile.h"
#include "segment/segment_type.h"

static void compile_organization(SegCompiler *cc, const SegNode *body,
								 const SegScope *scope, StringInfo out);
static void compile_node(SegCompiler *cc, const SegNode *node, const SegScope *scope,
						 bool negate, StringInfo out);

void
seg_compiler_init(SegCompiler *cc, const char *at, bool per_contact)
{
	memset(cc, 0, sizeof(*cc));
	cc->at = at;
	cc->per_contact = per_contact;
	cc->segments = NIL;
	seg_catalog_reset();
}

void
seg_check_time_offset(const char *interval, int sign)
{
	Datum		offset = DirectFunctionCall3(interval_in, CStringGetDatum(interval),
											 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	Datum		now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());

	(void) DirectFunctionCall2(sign > 0 ? timestamptz_pl_interval : timestamptz_mi_interval,
							   now, offset);
}

static const char *
new_alias(SegCompiler *cc, const char *prefix)
{
	return psprintf("%s%d", prefix, ++cc->next_alias);
}

/* Condition used where its subject is not: 42601, saying what fits there. */
static void
misplaced(const SegNode *node, const SegScope *scope)
{
	const char *text = cdp_segment_text(node);

	switch (scope->subject)
	{
		case SEG_SUBJECT_CONTACT:
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("condition \"%s\" can only be used inside a quantifier", text),
					 errdetail("properties.<key> belongs inside event '<name>' where ( … ) and "
							   "document.<field> inside document <template> ( … ).")));
			break;
		case SEG_SUBJECT_ORGANIZATION:
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("condition \"%s\" cannot be used inside organization ( … )", text),
					 errdetail("Inside organization ( … ) conditions are about one organization: "
							   "organization.<field>, <organization profile>.<attribute>, tag, "
							   "taxonomy and has profile.")));
			break;
		case SEG_SUBJECT_DOCUMENT:
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("condition \"%s\" cannot be used inside document %s ( … )", text,
							scope->template_slug),
					 errdetail("Inside document %s ( … ) conditions are about one document: "
							   "%s.<attribute>, document.<field>, tag and taxonomy.",
							   scope->template_slug, scope->template_slug)));
			break;
		case SEG_SUBJECT_EVENT:
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("condition \"%s\" cannot be used inside event where ( … )", text),
					 errdetail("Inside event '<name>' where ( … ) conditions are about one event: "
							   "properties.<key>.")));
			break;
	}
}

/* The tag and term tables of each subject, and their key column. */
static const char *
link_table(SegSubject subject, const char *what)
{
	return psprintf("cdp.%s_%s", seg_subject_name(subject), what);
}

const char *
seg_owner_join(const char *alias, const char *key_column, const SegScope *scope)
{
	if (scope->subject == SEG_SUBJECT_DOCUMENT && cdp_citus_mode())
		return psprintf("%s.%s = %s.id AND %s.contact_id = %s.contact_id",
						alias, key_column, scope->alias, alias, scope->alias);
	return psprintf("%s.%s = %s.id", alias, key_column, scope->alias);
}

static const char *
link_key(SegSubject subject)
{
	return psprintf("%s_id", seg_subject_name(subject));
}

static const char *
tag_or_term_ids(const SegNode *node, const SegScope *scope)
{
	if (node->kind == SEG_TAG)
		return seg_tag_ids(node->name, node->flag);
	return seg_term_ids(node->qualifier, node->name, node->flag, seg_subject_name(scope->subject));
}

static void
compile_tag_or_term(SegCompiler *cc, const SegNode *node, const SegScope *scope, StringInfo out)
{
	const char *what = node->kind == SEG_TAG ? "tags" : "terms";
	const char *column = node->kind == SEG_TAG ? "tag_id" : "term_id";
	const char *ids;
	const char *t;

	if (scope->subject == SEG_SUBJECT_EVENT)
		misplaced(node, scope);
	ids = tag_or_term_ids(node, scope);
	t = new_alias(cc, "t");
	appendStringInfo(out, "EXISTS (SELECT FROM %s %s WHERE %s AND %s.%s = ANY (%s::bigint[]))",
					 link_table(scope->subject, what), t, seg_owner_join(t, link_key(scope->subject), scope),
					 t, column, quote_literal_cstr(ids));
}

static void
compile_has_profile(SegCompiler *cc, const SegNode *node, const SegScope *scope, StringInfo out)
{
	SegAttribute a;
	const char *p;
	SegSubject	owner;

	seg_lookup_attribute("profile", node->name, NULL, &a);
	owner = strcmp(a.object_type, "contact") == 0 ? SEG_SUBJECT_CONTACT : SEG_SUBJECT_ORGANIZATION;
	if (owner != scope->subject)
	{
		if (scope->subject == SEG_SUBJECT_CONTACT && owner == SEG_SUBJECT_ORGANIZATION)
		{
			compile_organization(cc, node, scope, out);
			return;
		}
		misplaced(node, scope);
	}
	p = new_alias(cc, "p");
	appendStringInfo(out, "EXISTS (SELECT FROM %s %s WHERE %s.%s = %s.id)",
					 a.data_table, p, p, quote_identifier(a.key_column), scope->alias);
}

static void
compile_organization(SegCompiler *cc, const SegNode *body, const SegScope *scope, StringInfo out)
{
	SegScope	inner = {SEG_SUBJECT_ORGANIZATION, new_alias(cc, "o"), NULL};
	const char *m = new_alias(cc, "m");

	if (scope->subject != SEG_SUBJECT_CONTACT)
		elog(ERROR, "organization quantifier outside a contact");
	appendStringInfo(out,
					 "EXISTS (SELECT FROM cdp.organization_members %s JOIN cdp.organizations %s ON %s.id = %s.organization_id"
					 " WHERE %s.contact_id = %s.id AND %s.archived_at IS NULL AND ",
					 m, inner.alias, inner.alias, m, m, scope->alias, inner.alias);
	seg_compile_expr(cc, body, &inner, out);
	appendStringInfoChar(out, ')');
}

static void
compile_document(SegCompiler *cc, const SegNode *node, const SegNode *body,
				 const SegScope *scope, StringInfo out)
{
	SegAttribute a;
	SegScope	inner = {SEG_SUBJECT_DOCUMENT, new_alias(cc, "d"), node->name};

	seg_lookup_attribute("document_template", node->name, NULL, &a);
	appendStringInfo(out,
					 "EXISTS (SELECT FROM cdp.documents %s WHERE %s.contact_id = %s.id AND %s.template = %s"
					 " AND %s.archived_at IS NULL",
					 inner.alias, inner.alias, scope->alias, inner.alias,
					 quote_literal_cstr(node->name), inner.alias);
	if (body)
	{
		appendStringInfoString(out, " AND ");
		seg_compile_expr(cc, body, &inner, out);
	}
	appendStringInfoChar(out, ')');
}

/* EVENT without COUNT means COUNT >= 1 */
static const char *
count_op_sql(SegOp op)
{
	return op == SEG_OP_NONE ? ">=" : seg_op_sql(op);
}

static bool
count_satisfies(SegOp op, int64 count, int64 n)
{
	switch (op)
	{
		case SEG_OP_EQ:
			return count == n;
		case SEG_OP_NE:
			return count != n;
		case SEG_OP_LT:
			return count < n;
		case SEG_OP_LE:
			return count <= n;
		case SEG_OP_GT:
			return count > n;
		case SEG_OP_GE:
			return count >= n;
		case SEG_OP_NONE:
			return count >= 1;
	}
	return false;
}

/* The events an EVENT node counts: its name, time window and where. */
static void
append_event_filter(SegCompiler *cc, const SegNode *node, const SegNode *body,
					const char *e, StringInfo out)
{
	SegScope	inner = {SEG_SUBJECT_EVENT, e, NULL};

	appendStringInfo(out, "%s.name = %s AND %s.occurred_at <= %s", e,
					 quote_literal_cstr(node->name), e, cc->at);
	if (node->within_unit != SEG_WITHIN_NONE)
	{
		char	   *window = psprintf(INT64_FORMAT " %s", (int64) node->within,
									  node->within_unit == SEG_WITHIN_DAYS ? "days" : "hours");

		seg_check_time_offset(window, -1);
		appendStringInfo(out, " AND %s.occurred_at > %s - %s::interval",
						 e, cc->at, quote_literal_cstr(window));
	}
	if (body)
	{
		appendStringInfoString(out, " AND ");
		seg_compile_expr(cc, body, &inner, out);
	}
}

/*
 * EVENT: at least one event is an EXISTS.  Other counts, over a set of
 * contacts, are one grouped pass over the events (what a DBA writes); a
 * count that zero satisfies (count < 3) is the complement of the contacts
 * whose count fails.  For one contact or a list of candidates, a correlated
 * count.
 */
static void
compile_event(SegCompiler *cc, const SegNode *node, const SegNode *body, SegOp op,
			  const SegScope *scope, bool negate, StringInfo out)
{
	const char *e = new_alias(cc, "e");
	int64		n = op == SEG_OP_NONE ? 1 : node->count;
	bool		at_least_one = op == SEG_OP_NONE || (op == SEG_OP_GE && n == 1) ||
		(op == SEG_OP_GT && n == 0);

	if (at_least_one)
	{
		appendStringInfo(out, "%sEXISTS (SELECT FROM cdp.events %s WHERE %s.contact_id = %s.id AND ",
						 negate ? "NOT " : "", e, e, scope->alias);
		append_event_filter(cc, node, body, e, out);
		appendStringInfoChar(out, ')');
	}
	else if (cc->per_contact || cc->candidates)
	{
		/* a few contacts: one index probe each beats reading the window */
		appendStringInfo(out, "%s((SELECT count(*) FROM cdp.events %s WHERE %s.contact_id = %s.id AND ",
						 negate ? "NOT " : "", e, e, scope->alias);
		append_event_filter(cc, node, body, e, out);
		appendStringInfo(out, ") %s " INT64_FORMAT ")", count_op_sql(op), n);
	}
	else if (cdp_citus_mode())
	{
		/*
		 * Citus runs IN (subquery) under NOT or OR as a step of its own on
		 * the coordinator; EXISTS of the contact's group stays in the shard
		 */
		bool		zero_ok = count_satisfies(op, 0, n);

		appendStringInfo(out, "%sEXISTS (SELECT FROM cdp.events %s WHERE %s.contact_id = %s.id AND ",
						 zero_ok != negate ? "NOT " : "", e, e, scope->alias);
		append_event_filter(cc, node, body, e, out);
		appendStringInfo(out, " GROUP BY %s.contact_id HAVING %scount(*) %s " INT64_FORMAT ")",
						 e, zero_ok ? "NOT " : "", count_op_sql(op), n);
	}
	else
	{
		bool		zero_ok = count_satisfies(op, 0, n);

		appendStringInfo(out, "%s(%s.id IN (SELECT %s.contact_id FROM cdp.events %s WHERE ",
						 zero_ok != negate ? "NOT " : "", scope->alias, e, e);
		append_event_filter(cc, node, body, e, out);
		appendStringInfo(out, " GROUP BY %s.contact_id HAVING %scount(*) %s " INT64_FORMAT "))",
						 e, zero_ok ? "NOT " : "", count_op_sql(op), n);
	}
}

static void
require_contact(const SegNode *node, const SegScope *scope)
{
	if (scope->subject != SEG_SUBJECT_CONTACT)
		misplaced(node, scope);
}

SegNode *
seg_enter_segment(SegCompiler *cc, const char *slug)
{
	ListCell   *lc;

	foreach(lc, cc->segments)
	{
		if (strcmp((const char *) lfirst(lc), slug) == 0)
		{
			StringInfoData chain;

			initStringInfo(&chain);
			foreach(lc, cc->segments)
				appendStringInfo(&chain, "%s -> ", (const char *) lfirst(lc));
			appendStringInfoString(&chain, slug);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("segment \"%s\" refers to itself through in segment", slug),
					 errdetail("The chain is %s.", chain.data)));
		}
	}
	cc->segments = lappend(cc->segments, pstrdup(slug));
	return cdp_segment_tree(seg_saved_definition(slug));
}

void
seg_leave_segment(SegCompiler *cc)
{
	cc->segments = list_delete_last(cc->segments);
}

/* One condition of a conjunction, with the negation pushed down to it. */
typedef struct Conjunct
{
	const SegNode *node;
	bool		negate;
} Conjunct;

/*
 * The conditions of a conjunction: nested ANDs, negated ORs, NOTs and the
 * definitions of saved segments are opened, so that conditions from all of
 * them can share one row.
 */
static void
collect_conjuncts(SegCompiler *cc, const SegNode *node, bool negate, List **conjuncts)
{
	check_stack_depth();
	if (node->kind == SEG_NOT)
		collect_conjuncts(cc, node->children[0], !negate, conjuncts);
	else if ((node->kind == SEG_AND) != negate && (node->kind == SEG_AND || node->kind == SEG_OR))
	{
		for (int i = 0; i < node->nchildren; i++)
			collect_conjuncts(cc, node->children[i], negate, conjuncts);
	}
	else if (node->kind == SEG_IN_SEGMENT)
	{
		collect_conjuncts(cc, seg_enter_segment(cc, node->name), negate, conjuncts);
		seg_leave_segment(cc);
	}
	else
	{
		Conjunct   *c = palloc(sizeof(Conjunct));

		c->node = node;
		c->negate = negate;
		*conjuncts = lappend(*conjuncts, c);
	}
}

/*
 * A condition on the one row of a profile or document table (see
 * seg_value_row), or has profile of the subject's own kind; rc->positive is
 * after negation.  A negated has profile is left alone: it shares no row.
 */
static bool
row_condition(SegCompiler *cc, const Conjunct *c, const SegScope *scope, const char *alias,
			  SegRowCondition *rc)
{
	if (c->node->kind == SEG_HAS_PROFILE)
	{
		SegAttribute a;

		if (c->negate)
			return false;
		seg_lookup_attribute("profile", c->node->name, NULL, &a);
		if (strcmp(a.object_type, seg_subject_name(scope->subject)) != 0)
			return false;
		rc->table = a.data_table;
		rc->key_column = quote_identifier(a.key_column);
		rc->positive = true;
		rc->predicate = NULL;
		rc->negation = NULL;
		return true;
	}
	if (!seg_value_row(cc, c->node, scope, alias, rc))
		return false;
	rc->positive = rc->positive != c->negate;
	return true;
}

/*
 * A conjunction.  Conditions on the one row a profile or document table has
 * for the subject are tested in one EXISTS when one of them needs the row
 * (customer.ltv > 100 and customer.tier = 'gold' is one probe of one row,
 * which can use both indexes): the row is unique, so "some row satisfies
 * each" is "the row satisfies all", and "no row satisfies p" is "the row
 * fails p".  Every other condition is compiled alone.
 */
static void
compile_conjunction(SegCompiler *cc, List *conjuncts, const SegScope *scope, StringInfo out)
{
	int			n = list_length(conjuncts);
	bool	   *done = palloc0(sizeof(bool) * Max(n, 1));
	bool		first = true;

	appendStringInfoChar(out, '(');
	for (int i = 0; i < n; i++)
	{
		Conjunct   *c = list_nth(conjuncts, i);
		SegRowCondition rc;
		int			members = 0;
		bool		needs_row = false;

		if (done[i])
			continue;
		if (!first)
			appendStringInfoString(out, " AND ");
		first = false;

		if (row_condition(cc, c, scope, NULL, &rc))
		{
			for (int j = i; j < n; j++)
			{
				SegRowCondition other;

				if (!done[j] && row_condition(cc, list_nth(conjuncts, j), scope, NULL, &other) &&
					strcmp(other.table, rc.table) == 0)
				{
					members++;
					needs_row |= other.positive;
				}
			}
		}
		if (members < 2 || !needs_row)
		{
			compile_node(cc, c->node, scope, c->negate, out);
			done[i] = true;
			continue;
		}

		{
			const char *a = new_alias(cc, "a");
			const char *table = rc.table;

			appendStringInfo(out, "EXISTS (SELECT FROM %s %s WHERE %s", table, a,
							 seg_owner_join(a, rc.key_column, scope));
			for (int j = i; j < n; j++)
			{
				SegRowCondition member;

				if (done[j] || !row_condition(cc, list_nth(conjuncts, j), scope, NULL, &member) ||
					strcmp(member.table, table) != 0)
					continue;
				row_condition(cc, list_nth(conjuncts, j), scope, a, &member);
				if (member.predicate != NULL)
					appendStringInfo(out, " AND %s", member.positive ? member.predicate : member.negation);
				done[j] = true;
			}
			appendStringInfoChar(out, ')');
		}
	}
	appendStringInfoChar(out, ')');
}

/*
 * Negation is pushed down to the conditions (De Morgan), so that a negated
 * condition is a NOT EXISTS at the top of a conjunction, which the planner
 * turns into an anti-join; NOT ( … OR … ) it would leave as subplans.
 */
static void
compile_node(SegCompiler *cc, const SegNode *node, const SegScope *scope, bool negate,
			 StringInfo out)
{
	check_stack_depth();
	CHECK_FOR_INTERRUPTS();

	/* not (x is null) is x is not null, when x is the subject's own value */
	if (negate && node->kind == SEG_IS_NULL && seg_value_owner(node, scope) == scope->subject)
	{
		SegNode		flipped = *node;

		flipped.negated = !node->negated;
		compile_node(cc, &flipped, scope, false, out);
		return;
	}
	if (negate && node->kind != SEG_AND && node->kind != SEG_OR && node->kind != SEG_NOT &&
		node->kind != SEG_EVENT && node->kind != SEG_IN_SEGMENT)
	{
		appendStringInfoString(out, "NOT (");
		compile_node(cc, node, scope, false, out);
		appendStringInfoChar(out, ')');
		return;
	}

	switch (node->kind)
	{
		case SEG_AND:
		case SEG_OR:
			if ((node->kind == SEG_AND) != negate)
			{
				List	   *conjuncts = NIL;

				collect_conjuncts(cc, node, negate, &conjuncts);
				compile_conjunction(cc, conjuncts, scope, out);
				break;
			}
			appendStringInfoChar(out, '(');
			for (int i = 0; i < node->nchildren; i++)
			{
				if (i > 0)
					appendStringInfoString(out, (node->kind == SEG_AND) != negate ? " AND " : " OR ");
				compile_node(cc, node->children[i], scope, negate, out);
			}
			appendStringInfoChar(out, ')');
			break;
		case SEG_NOT:
			compile_node(cc, node->children[0], scope, !negate, out);
			break;
		case SEG_COMPARE:
		case SEG_IN:
		case SEG_BETWEEN:
		case SEG_IS_NULL:
		case SEG_LIKE:
		case SEG_CONTAINS:
			{
				SegSubject	owner = seg_value_owner(node, scope);

				if (owner == scope->subject)
					seg_compile_value(cc, node, scope, out);
				else if (scope->subject == SEG_SUBJECT_CONTACT && owner == SEG_SUBJECT_ORGANIZATION)
					compile_organization(cc, node, scope, out);
				else
					misplaced(node, scope);
			}
			break;
		case SEG_TAG:
		case SEG_TERM:
			compile_tag_or_term(cc, node, scope, out);
			break;
		case SEG_HAS_PROFILE:
			compile_has_profile(cc, node, scope, out);
			break;
		case SEG_HAS_KIND:
			{
				const char *i = new_alias(cc, "i");

				require_contact(node, scope);
				seg_check_kind(node->name);
				appendStringInfo(out, "EXISTS (SELECT FROM cdp.identifiers %s WHERE %s.contact_id = %s.id"
								 " AND %s.kind = %s%s)",
								 i, i, scope->alias, i, quote_literal_cstr(node->name),
								 node->flag ? psprintf(" AND %s.is_validated", i) : "");
			}
			break;
		case SEG_ORGANIZATION:
			require_contact(node, scope);
			compile_organization(cc, node->children[0], scope, out);
			break;
		case SEG_ORG_UNDER:
			{
				const char *m = new_alias(cc, "m");

				require_contact(node, scope);
				appendStringInfo(out, "EXISTS (SELECT FROM cdp.organization_members %s WHERE %s.contact_id = %s.id"
								 " AND %s.organization_id = ANY (%s::bigint[]))",
								 m, m, scope->alias, m,
								 quote_literal_cstr(seg_organization_ids(node->name)));
			}
			break;
		case SEG_DOCUMENT:
			require_contact(node, scope);
			compile_document(cc, node, node->nchildren ? node->children[0] : NULL, scope, out);
			break;
		case SEG_EVENT:
			require_contact(node, scope);
			compile_event(cc, node, node->nchildren ? node->children[0] : NULL, node->op, scope, negate, out);
			break;
		case SEG_IN_SEGMENT:
			{
				SegNode    *tree;

				require_contact(node, scope);
				tree = seg_enter_segment(cc, node->name);
				compile_node(cc, tree, scope, negate, out);
				seg_leave_segment(cc);
			}
			break;
	}
}

void
seg_compile_expr(SegCompiler *cc, const SegNode *node, const SegScope *scope, StringInfo out)
{
	compile_node(cc, node, scope, false, out);
}

char *
seg_compile_query(SegCompiler *cc, const SegNode *tree)
{
	SegScope	scope = {SEG_SUBJECT_CONTACT, "c", NULL};
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT c.id FROM cdp.contacts c WHERE ");
	if (cc->per_contact)
		appendStringInfoString(&sql, "c.id = $2 AND ");
	if (cc->candidates)
		appendStringInfo(&sql, "c.id = ANY (%s) AND ", cc->candidates);
	appendStringInfoString(&sql, "c.archived_at IS NULL AND c.merged_into IS NULL AND ");
	seg_compile_expr(cc, tree, &scope, &sql);
	return sql.data;
}

void
seg_compile_quantified(SegCompiler *cc, const SegNode *quantifier, const SegNode *body,
					   const SegScope *scope, StringInfo out)
{
	switch (quantifier->kind)
	{
		case SEG_DOCUMENT:
			compile_document(cc, quantifier, body, scope, out);
			break;
		case SEG_EVENT:
			/* a node inside where: does some event of the window satisfy it */
			compile_event(cc, quantifier, body, SEG_OP_NONE, scope, false, out);
			break;
		default:
			compile_organization(cc, body, scope, out);
			break;
	}
}

/*
 * Which organizations, documents or events satisfy body; for a single
 * condition also what each one holds ("acme: company.industry is 'retail'").
 */
void
seg_compile_quantified_detail(SegCompiler *cc, const SegNode *quantifier, const SegNode *body,
							  const SegScope *scope, StringInfo out)
{
	SegSubject	subject = quantifier->kind == SEG_DOCUMENT ? SEG_SUBJECT_DOCUMENT :
		quantifier->kind == SEG_EVENT ? SEG_SUBJECT_EVENT : SEG_SUBJECT_ORGANIZATION;
	const char *alias = new_alias(cc, subject == SEG_SUBJECT_DOCUMENT ? "d" :
								  subject == SEG_SUBJECT_EVENT ? "e" : "o");
	SegScope	inner = {subject, alias, quantifier->kind == SEG_DOCUMENT ? quantifier->name : NULL};
	bool		leaf = seg_is_value_condition(body) || body->kind == SEG_HAS_PROFILE;
	const char *what;
	const char *name;
	StringInfoData from;

	initStringInfo(&from);
	if (subject == SEG_SUBJECT_ORGANIZATION)
	{
		const char *m = new_alias(cc, "m");

		what = "organizations";
		name = psprintf("%s.slug", alias);
		appendStringInfo(&from,
						 "cdp.organization_members %s JOIN cdp.organizations %s ON %s.id = %s.organization_id"
						 " WHERE %s.contact_id = %s.id AND %s.archived_at IS NULL",
						 m, alias, alias, m, m, scope->alias, alias);
	}
	else if (subject == SEG_SUBJECT_DOCUMENT)
	{
		what = psprintf("%s documents", quantifier->name);
		name = psprintf("'document ' || %s.id", alias);
		appendStringInfo(&from,
						 "cdp.documents %s WHERE %s.contact_id = %s.id AND %s.template = %s AND %s.archived_at IS NULL",
						 alias, alias, scope->alias, alias, quote_literal_cstr(quantifier->name), alias);
	}
	else
	{
		SegNode		window = *quantifier;

		what = psprintf("%s events", quantifier->name);
		name = psprintf("'event ' || %s.id", alias);
		leaf = false;
		appendStringInfo(&from, "cdp.events %s WHERE %s.contact_id = %s.id AND ", alias, alias, scope->alias);
		window.nchildren = 0;
		append_event_filter(cc, &window, NULL, alias, &from);
	}

	appendStringInfo(out, "(SELECT CASE WHEN count(*) = 0 THEN %s ELSE "
					 "format('%%s of %%s %%s match', count(*) FILTER (WHERE q.ok), count(*), %s)",
					 quote_literal_cstr(psprintf("no %s", what)), quote_literal_cstr(what));
	if (leaf)
		appendStringInfoString(out, " || '; ' || string_agg(q.name || ': ' || q.detail, '; ' ORDER BY q.name)");
	else
		appendStringInfoString(out, " || coalesce(': ' || string_agg(q.name, ', ' ORDER BY q.name) FILTER (WHERE q.ok), '')");
	appendStringInfo(out, " END FROM (SELECT %s AS name, ", name);
	seg_compile_expr(cc, body, &inner, out);
	appendStringInfoString(out, " AS ok, ");
	if (leaf)
		seg_compile_detail(cc, body, &inner, out);
	else
		appendStringInfoString(out, "NULL::text");
	appendStringInfo(out, " AS detail FROM %s) q)", from.data);
}

static void
compile_event_detail(SegCompiler *cc, const SegNode *node, const SegScope *scope, StringInfo out)
{
	const char *e = new_alias(cc, "e");
	StringInfoData words;

	initStringInfo(&words);
	appendStringInfo(&words, " %s event", node->name);
	appendStringInfo(out, "(SELECT format('%%s%%s%%s%%s, needed %s " INT64_FORMAT "', count(*), %s,"
					 " CASE WHEN count(*) = 1 THEN '' ELSE 's' END, %s)"
					 " FROM cdp.events %s WHERE %s.contact_id = %s.id AND ",
					 node->op == SEG_OP_NONE ? ">=" : node->op == SEG_OP_NE ? "!=" : count_op_sql(node->op),
					 node->op == SEG_OP_NONE ? (int64) 1 : (int64) node->count,
					 quote_literal_cstr(words.data),
					 quote_literal_cstr(psprintf("%s%s",
												 node->nchildren ? " matching where" : "",
												 node->within_unit == SEG_WITHIN_NONE ? "" :
												 psprintf(" in " INT64_FORMAT " %s", (int64) node->within,
														  node->within_unit == SEG_WITHIN_DAYS ?
														  (node->within == 1 ? "day" : "days") :
														  (node->within == 1 ? "hour" : "hours")))),
					 e, e, scope->alias);
	append_event_filter(cc, node, node->nchildren ? node->children[0] : NULL, e, out);
	appendStringInfoChar(out, ')');
}

/* A CASE over the condition's own result, for conditions whose result says it all. */
static void
compile_yes_no(SegCompiler *cc, const SegNode *node, const SegScope *scope,
			   const char *yes, const char *no, StringInfo out)
{
	appendStringInfoString(out, "(CASE WHEN ");
	seg_compile_expr(cc, node, scope, out);
	appendStringInfo(out, " THEN %s ELSE %s END)", quote_literal_cstr(yes), quote_literal_cstr(no));
}

void
seg_compile_detail(SegCompiler *cc, const SegNode *node, const SegScope *scope, StringInfo out)
{
	switch (node->kind)
	{
		case SEG_COMPARE:
		case SEG_IN:
		case SEG_BETWEEN:
		case SEG_IS_NULL:
		case SEG_LIKE:
		case SEG_CONTAINS:
			if (seg_value_owner(node, scope) == scope->subject)
				seg_compile_value_detail(cc, node, scope, out);
			else
				seg_compile_quantified_detail(cc, node, node, scope, out);
			break;
		case SEG_TAG:
		case SEG_TERM:
			{
				bool		tag = node->kind == SEG_TAG;
				const char *t = new_alias(cc, "t");
				const char *g = new_alias(cc, "g");
				const char *none = tag ?
					psprintf("no tag %s%s", node->flag ? "under " : "", node->name) :
					psprintf("%s %s %s", node->flag ? "nothing under" : "not classified as",
							 node->qualifier, node->name);

				appendStringInfo(out, "(SELECT coalesce(%s || string_agg(%s.path, ', ' ORDER BY %s.path), %s)"
								 " FROM %s %s JOIN cdp.%s %s ON %s.id = %s.%s"
								 " WHERE %s AND %s.%s = ANY (%s::bigint[]))",
								 quote_literal_cstr(tag ? "tagged " : psprintf("classified %s ", node->qualifier)),
								 g, g, quote_literal_cstr(none),
								 link_table(scope->subject, tag ? "tags" : "terms"), t,
								 tag ? "tags" : "terms", g, g, t, tag ? "tag_id" : "term_id",
								 seg_owner_join(t, link_key(scope->subject), scope), t, tag ? "tag_id" : "term_id",
								 quote_literal_cstr(tag_or_term_ids(node, scope)));
			}
			break;
		case SEG_HAS_PROFILE:
			if (scope->subject == SEG_SUBJECT_CONTACT &&
				strcmp(seg_profile_type(node->name) ? seg_profile_type(node->name) : "", "organization") == 0)
				seg_compile_quantified_detail(cc, node, node, scope, out);
			else
				compile_yes_no(cc, node, scope, psprintf("has a %s profile", node->name),
							   psprintf("no %s profile", node->name), out);
			break;
		case SEG_HAS_KIND:
			{
				const char *i = new_alias(cc, "i");

				seg_check_kind(node->name);
				appendStringInfo(out, "(SELECT CASE WHEN count(*) = 0 THEN %s"
								 " ELSE format('%%s %%s, %%s validated', count(*), %s, count(*) FILTER (WHERE %s.is_validated)) END"
								 " FROM cdp.identifiers %s WHERE %s.contact_id = %s.id AND %s.kind = %s)",
								 quote_literal_cstr(psprintf("no %s identifier", node->name)),
								 quote_literal_cstr(psprintf("%s identifier(s)", node->name)), i,
								 i, i, scope->alias, i, quote_literal_cstr(node->name));
			}
			break;
		case SEG_ORG_UNDER:
			{
				const char *m = new_alias(cc, "m");
				const char *o = new_alias(cc, "o");

				appendStringInfo(out, "(SELECT coalesce('member of ' || string_agg(%s.slug, ', ' ORDER BY %s.slug), %s)"
								 " FROM cdp.organization_members %s JOIN cdp.organizations %s ON %s.id = %s.organization_id"
								 " WHERE %s.contact_id = %s.id AND %s.organization_id = ANY (%s::bigint[]))",
								 o, o, quote_literal_cstr(psprintf("not a member of %s or its descendants", node->name)),
								 m, o, o, m, m, scope->alias, m,
								 quote_literal_cstr(seg_organization_ids(node->name)));
			}
			break;
		case SEG_ORGANIZATION:
		case SEG_DOCUMENT:
			if (node->nchildren == 0)
				compile_yes_no(cc, node, scope, psprintf("has a %s document", node->name),
							   psprintf("no %s document", node->name), out);
			else
				seg_compile_quantified_detail(cc, node, node->children[0], scope, out);
			break;
		case SEG_EVENT:
			compile_event_detail(cc, node, scope, out);
			break;
		case SEG_IN_SEGMENT:
			compile_yes_no(cc, node, scope, psprintf("in segment %s", node->name),
						   psprintf("not in segment %s", node->name), out);
			break;
		case SEG_AND:
		case SEG_OR:
		case SEG_NOT:
			appendStringInfoString(out, "NULL::text");
			break;
	}
}
