/*
 * segment_values.c
 *	  Value conditions of the segment compiler (comparisons, IN, BETWEEN, LIKE,
 *	  CONTAINS, IS NULL): what a reference names, which operators its type
 *	  takes, how each literal converts, and the SQL that never yields NULL.
 */
#include "postgres.h"

#include "parser/parse_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "segment/segment_compile.h"
#include "segment/segment_type.h"

/* Where a referenced value lives. */
typedef enum ValueWhere
{
	VALUE_COLUMN,				/* a column of the subject's own row */
	VALUE_ATTRIBUTE,			/* a column of a profile or document table keyed by the subject */
	VALUE_PROPERTY				/* a key of the event's properties */
} ValueWhere;

typedef struct SegValue
{
	ValueWhere	where;
	SegSubject	owner;
	const char *label;			/* customer.tier, for messages */
	const char *data_type;		/* an attribute data_type; "property" for events */
	bool		is_array;
	const char *column;			/* quoted column, or the property key as written */
	const char *table;			/* VALUE_ATTRIBUTE: quoted, schema-qualified */
	const char *key_column;		/* VALUE_ATTRIBUTE */
	const char *missing;		/* VALUE_ATTRIBUTE: the detail when there is no row */
} SegValue;

typedef struct BuiltinField
{
	SegSubject	owner;
	const char *name;
	const char *data_type;
} BuiltinField;

static const BuiltinField builtin_fields[] = {
	{SEG_SUBJECT_CONTACT, "id", "integer"},
	{SEG_SUBJECT_CONTACT, "given_name", "text"},
	{SEG_SUBJECT_CONTACT, "family_name", "text"},
	{SEG_SUBJECT_CONTACT, "type", "text"},
	{SEG_SUBJECT_CONTACT, "is_vendor", "boolean"},
	{SEG_SUBJECT_CONTACT, "created_at", "datetime"},
	{SEG_SUBJECT_CONTACT, "updated_at", "datetime"},
	{SEG_SUBJECT_CONTACT, "last_seen_at", "datetime"},
	{SEG_SUBJECT_ORGANIZATION, "id", "integer"},
	{SEG_SUBJECT_ORGANIZATION, "slug", "text"},
	{SEG_SUBJECT_ORGANIZATION, "name", "text"},
	{SEG_SUBJECT_ORGANIZATION, "created_at", "datetime"},
	{SEG_SUBJECT_ORGANIZATION, "updated_at", "datetime"},
	{SEG_SUBJECT_DOCUMENT, "id", "integer"},
	{SEG_SUBJECT_DOCUMENT, "title", "text"},
	{SEG_SUBJECT_DOCUMENT, "created_at", "datetime"},
	{SEG_SUBJECT_DOCUMENT, "updated_at", "datetime"},
};

const char *
seg_subject_name(SegSubject subject)
{
	switch (subject)
	{
		case SEG_SUBJECT_CONTACT:
			return "contact";
		case SEG_SUBJECT_ORGANIZATION:
			return "organization";
		case SEG_SUBJECT_DOCUMENT:
			return "document";
		case SEG_SUBJECT_EVENT:
			return "event";
	}
	return "?";
}

bool
seg_is_value_condition(const SegNode *node)
{
	switch (node->kind)
	{
		case SEG_COMPARE:
		case SEG_IN:
		case SEG_BETWEEN:
		case SEG_IS_NULL:
		case SEG_LIKE:
		case SEG_CONTAINS:
			return true;
		default:
			return false;
	}
}

static const char *
label_of(const SegNode *node)
{
	return psprintf("%s.%s", node->qualifier, node->field);
}

static void
resolve_builtin(const SegNode *node, SegSubject owner, SegValue *v)
{
	StringInfoData known;

	initStringInfo(&known);
	for (int i = 0; i < lengthof(builtin_fields); i++)
	{
		if (builtin_fields[i].owner != owner)
			continue;
		if (strcmp(builtin_fields[i].name, node->field) == 0)
		{
			v->where = VALUE_COLUMN;
			v->owner = owner;
			v->data_type = builtin_fields[i].data_type;
			v->column = quote_identifier(node->field);
			return;
		}
		appendStringInfo(&known, "%s%s", known.len ? ", " : "", builtin_fields[i].name);
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("%s field \"%s\" does not exist", seg_subject_name(owner), node->field),
			 errdetail("The %s fields are %s.", seg_subject_name(owner), known.data)));
}

static void
resolve_attribute(const char *owner_type, const SegNode *node, SegValue *v)
{
	SegAttribute a;

	seg_lookup_attribute(owner_type, node->qualifier, node->field, &a);
	v->where = VALUE_ATTRIBUTE;
	v->owner = strcmp(a.object_type, "contact") == 0 ? SEG_SUBJECT_CONTACT :
		strcmp(a.object_type, "organization") == 0 ? SEG_SUBJECT_ORGANIZATION :
		SEG_SUBJECT_DOCUMENT;
	v->data_type = a.data_type;
	v->is_array = a.is_array;
	v->column = quote_identifier(node->field);
	v->table = a.data_table;
	v->key_column = quote_identifier(a.key_column);
	v->missing = strcmp(owner_type, "profile") == 0 ?
		psprintf("no %s profile", node->qualifier) :
		psprintf("no %s values", node->qualifier);
}

/* What a reference names, at scope; raises 42704/42703 for unknown names. */
static void
resolve_value(const SegNode *node, const SegScope *scope, SegValue *v)
{
	const char *q = node->qualifier;

	memset(v, 0, sizeof(*v));
	v->label = label_of(node);
	if (strcmp(q, "contact") == 0)
		resolve_builtin(node, SEG_SUBJECT_CONTACT, v);
	else if (strcmp(q, "organization") == 0)
		resolve_builtin(node, SEG_SUBJECT_ORGANIZATION, v);
	else if (strcmp(q, "document") == 0)
		resolve_builtin(node, SEG_SUBJECT_DOCUMENT, v);
	else if (strcmp(q, "properties") == 0)
	{
		v->where = VALUE_PROPERTY;
		v->owner = SEG_SUBJECT_EVENT;
		v->data_type = "property";
		v->column = node->field;
	}
	else if (scope->subject == SEG_SUBJECT_DOCUMENT && strcmp(q, scope->template_slug) == 0)
		resolve_attribute("document_template", node, v);
	else
		resolve_attribute("profile", node, v);
}

SegSubject
seg_value_owner(const SegNode *node, const SegScope *scope)
{
	SegValue	v;

	resolve_value(node, scope, &v);
	return v.owner;
}

static const char *
sql_type_of(const char *data_type)
{
	static const char *const map[][2] = {
		{"text", "text"}, {"media", "text"}, {"integer", "bigint"}, {"number", "numeric"},
		{"boolean", "boolean"}, {"date", "date"}, {"datetime", "timestamptz"},
		{"time", "time"}, {"email", "cdp.email_address"}, {"phone", "cdp.phone"},
		{"json", "jsonb"}, {"location", "point"},
	};

	for (int i = 0; i < lengthof(map); i++)
		if (strcmp(map[i][0], data_type) == 0)
			return map[i][1];
	elog(ERROR, "unknown attribute data type \"%s\"", data_type);
}

static bool
is_text_like(const char *t)
{
	return strcmp(t, "text") == 0 || strcmp(t, "media") == 0 ||
		strcmp(t, "email") == 0 || strcmp(t, "phone") == 0;
}

static bool
is_ordered(const char *t)
{
	return is_text_like(t) || strcmp(t, "integer") == 0 || strcmp(t, "number") == 0 ||
		strcmp(t, "date") == 0 || strcmp(t, "datetime") == 0 || strcmp(t, "time") == 0;
}

const char *
seg_op_sql(SegOp op)
{
	switch (op)
	{
		case SEG_OP_EQ:
			return "=";
		case SEG_OP_NE:
			return "<>";
		case SEG_OP_LT:
			return "<";
		case SEG_OP_LE:
			return "<=";
		case SEG_OP_GT:
			return ">";
		case SEG_OP_GE:
			return ">=";
		case SEG_OP_NONE:
			break;
	}
	elog(ERROR, "segment comparison without an operator");
}

/* The operator as a person wrote it, for messages. */
static const char *
op_name(const SegNode *node)
{
	switch (node->kind)
	{
		case SEG_COMPARE:
			return node->op == SEG_OP_NE ? "!=" : seg_op_sql(node->op);
		case SEG_IN:
			return node->negated ? "not in" : "in";
		case SEG_BETWEEN:
			return node->negated ? "not between" : "between";
		case SEG_LIKE:
			return node->flag ? "ilike" : "like";
		case SEG_CONTAINS:
			return "contains";
		case SEG_IS_NULL:
			return node->negated ? "is not null" : "is null";
		default:
			return "?";
	}
}

static const char *
type_label(const SegValue *v)
{
	return v->is_array ? psprintf("%s array", v->data_type) : v->data_type;
}

static void
check_operator(const SegNode *node, const SegValue *v)
{
	const char *t = v->data_type;
	bool		ok;

	if (node->kind == SEG_IS_NULL)
		return;
	if (v->where == VALUE_PROPERTY)
		ok = true;
	else if (v->is_array)
		ok = node->kind == SEG_CONTAINS && strcmp(t, "json") != 0 && strcmp(t, "location") != 0;
	else if (node->kind == SEG_CONTAINS)
		ok = false;
	else if (node->kind == SEG_LIKE)
		ok = is_text_like(t);
	else if (strcmp(t, "boolean") == 0)
		ok = node->kind == SEG_IN || (node->kind == SEG_COMPARE &&
									  (node->op == SEG_OP_EQ || node->op == SEG_OP_NE));
	else
		ok = is_ordered(t);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("operator %s does not apply to %s of type %s",
						op_name(node), v->label, type_label(v)),
				 v->is_array ? errhint("Arrays take contains and is null.") : 0));
}

/*
 * LIKE raises 22025 for a pattern that ends in its escape character only when
 * it compares a row: a saved segment would fail at every evaluation, and an
 * immediate one at every write.  Such a pattern is refused when compiled.
 * Skipping the escaped byte is safe in UTF-8: continuation bytes are never a
 * backslash.
 */
static void
check_like_pattern(const SegNode *node, const char *pattern)
{
	for (const char *p = pattern; *p; p++)
	{
		if (*p != '\\')
			continue;
		if (p[1] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_ESCAPE_SEQUENCE),
					 errmsg("%s pattern must not end with the escape character", op_name(node)),
					 errdetail("A backslash escapes the character after it; a backslash itself is written \\\\.")));
		p++;
	}
}

static const char *
literal_kind_name(const SegLiteral *lit)
{
	switch (lit->kind)
	{
		case SEG_LIT_STRING:
			return "a string";
		case SEG_LIT_NUMBER:
			return "a number";
		case SEG_LIT_BOOL:
			return "true or false";
		case SEG_LIT_NOW:
			return "now()";
	}
	return "?";
}

static bool
digits(const char **s, int n)
{
	for (int i = 0; i < n; i++, (*s)++)
		if (!isdigit((unsigned char) **s))
			return false;
	return true;
}

/* hh:mm[:ss[.fraction]] */
static bool
iso_time(const char **s)
{
	if (!digits(s, 2) || *(*s)++ != ':' || !digits(s, 2))
		return false;
	if (**s == ':')
	{
		(*s)++;
		if (!digits(s, 2))
			return false;
		if (**s == '.')
		{
			(*s)++;
			if (!isdigit((unsigned char) **s))
				return false;
			while (isdigit((unsigned char) **s))
				(*s)++;
		}
	}
	return true;
}

/*
 * ISO 8601 only, so that a segment means the same under every DateStyle and
 * never holds a special value such as 'now' or 'yesterday'.
 */
static bool
iso_8601(const char *data_type, const char *s)
{
	if (strcmp(data_type, "time") == 0)
		return iso_time(&s) && *s == '\0';
	if (!digits(&s, 4) || *s++ != '-' || !digits(&s, 2) || *s++ != '-' || !digits(&s, 2))
		return false;
	if (strcmp(data_type, "date") == 0)
		return *s == '\0';
	if (*s == '\0')
		return true;
	if ((*s != 'T' && *s != ' ') || (s++, !iso_time(&s)))
		return false;
	if (*s == 'Z')
		s++;
	else if (*s == '+' || *s == '-')
	{
		s++;
		if (!digits(&s, 2))
			return false;
		if (*s == ':')
			s++;
		if (isdigit((unsigned char) *s) && !digits(&s, 2))
			return false;
	}
	return *s == '\0';
}

/* Does an ISO 8601 datetime (already checked) end in Z or an offset? */
static bool
has_utc_offset(const char *s)
{
	const char *time = strpbrk(s, "T ");

	return time != NULL && strpbrk(time, "Z+-") != NULL;
}

/* Run the type's input function; a failure becomes 22P02 naming the reference. */
static void
check_converts(const SegValue *v, const char *sql_type, const char *text)
{
	Oid			type = typenameTypeId(NULL, typeStringToTypeName(sql_type));
	Oid			input;
	Oid			ioparam;
	MemoryContext mcxt = CurrentMemoryContext;

	getTypeInputInfo(type, &input, &ioparam);
	PG_TRY();
	{
		(void) OidInputFunctionCall(input, unconstify(char *, text), ioparam, -1);
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(mcxt);
		e = CopyErrorData();
		FlushErrorState();
		/* The transaction is aborted by this error, so nothing is left half-done. */
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid value for %s of type %s: \"%s\"", v->label, v->data_type, text),
				 errdetail("%s", e->message)));
	}
	PG_END_TRY();
}

static void
append_interval(SegCompiler *cc, const SegLiteral *lit, StringInfo out)
{
	if (lit->now_sign == 0)
	{
		appendStringInfo(out, "%s", cc->at);
		return;
	}
	{
		SegValue	v = {.label = "now()", .data_type = "interval"};

		check_converts(&v, "interval", lit->interval);
	}
	seg_check_time_offset(lit->interval, lit->now_sign);
	appendStringInfo(out, "(%s %c %s::interval)", cc->at, lit->now_sign > 0 ? '+' : '-',
					 quote_literal_cstr(lit->interval));
}

/* A typed SQL literal for one element of the value's type. */
static void
append_literal(SegCompiler *cc, const SegValue *v, const SegLiteral *lit, StringInfo out)
{
	const char *t = v->data_type;
	const char *sql_type = sql_type_of(t);
	bool		ok;

	if (lit->kind == SEG_LIT_NOW)
		ok = strcmp(t, "date") == 0 || strcmp(t, "datetime") == 0;
	else if (lit->kind == SEG_LIT_BOOL)
		ok = strcmp(t, "boolean") == 0;
	else if (lit->kind == SEG_LIT_NUMBER)
		ok = strcmp(t, "integer") == 0 || strcmp(t, "number") == 0;
	else
		ok = strcmp(t, "boolean") != 0;	/* 'yes' is no boolean: true and false are */
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("cannot compare %s of type %s with %s", v->label, t, literal_kind_name(lit))));

	switch (lit->kind)
	{
		case SEG_LIT_NOW:
			if (strcmp(t, "date") == 0)
			{
				/* the day in UTC, so that the session's TimeZone does not move it */
				appendStringInfoString(out, "((");
				append_interval(cc, lit, out);
				appendStringInfoString(out, ") AT TIME ZONE 'UTC')::date");
			}
			else
				append_interval(cc, lit, out);
			return;
		case SEG_LIT_BOOL:
			appendStringInfoString(out, lit->boolean ? "true" : "false");
			return;
		case SEG_LIT_STRING:
		case SEG_LIT_NUMBER:
			if ((strcmp(t, "date") == 0 || strcmp(t, "datetime") == 0 || strcmp(t, "time") == 0) &&
				!iso_8601(t, lit->text))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("invalid value for %s of type %s: \"%s\"", v->label, t, lit->text),
						 errdetail("A %s is written in ISO 8601 form, like %s.", t,
								   strcmp(t, "date") == 0 ? "'2026-05-31'" :
								   strcmp(t, "time") == 0 ? "'14:30' or '14:30:05'" :
								   "'2026-05-31T14:30:00Z'")));
			if (strcmp(t, "datetime") == 0 && !has_utc_offset(lit->text))
			{
				/* no offset: UTC, whatever the session's TimeZone */
				check_converts(v, "timestamp", lit->text);
				appendStringInfo(out, "(%s::timestamp AT TIME ZONE 'UTC')", quote_literal_cstr(lit->text));
				return;
			}
			check_converts(v, sql_type, lit->text);
			appendStringInfo(out, "%s::%s", quote_literal_cstr(lit->text), sql_type);
			return;
	}
}

/* The predicate on x (an expression of the value's type); NULL when x is. */
static void
append_predicate(SegCompiler *cc, const SegNode *node, const SegValue *v,
				 const char *x, StringInfo out)
{
	switch (node->kind)
	{
		case SEG_COMPARE:
			appendStringInfo(out, "%s %s ", x, seg_op_sql(node->op));
			append_literal(cc, v, &node->lits[0], out);
			break;
		case SEG_IN:
			appendStringInfo(out, "%s %sIN (", x, node->negated ? "NOT " : "");
			for (int i = 0; i < node->nlits; i++)
			{
				if (i > 0)
					appendStringInfoString(out, ", ");
				append_literal(cc, v, &node->lits[i], out);
			}
			appendStringInfoChar(out, ')');
			break;
		case SEG_BETWEEN:
			appendStringInfo(out, "%s %sBETWEEN ", x, node->negated ? "NOT " : "");
			append_literal(cc, v, &node->lits[0], out);
			appendStringInfoString(out, " AND ");
			append_literal(cc, v, &node->lits[1], out);
			break;
		case SEG_LIKE:
			if (node->lits[0].kind != SEG_LIT_STRING)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_FUNCTION),
						 errmsg("%s takes a string pattern", op_name(node))));
			check_like_pattern(node, node->lits[0].text);
			appendStringInfo(out, "%s::text %s%s %s", x, node->negated ? "NOT " : "",
							 node->flag ? "ILIKE" : "LIKE", quote_literal_cstr(node->lits[0].text));
			break;
		case SEG_CONTAINS:
			appendStringInfo(out, "%s @> ARRAY[", x);
			append_literal(cc, v, &node->lits[0], out);
			appendStringInfo(out, "]::%s[]", sql_type_of(v->data_type));
			break;
		default:
			elog(ERROR, "not a value condition: %d", node->kind);
	}
}

/*
 * Event properties are compared with the literal's type: only JSON numbers
 * compare with a number, only JSON booleans with true or false.
 */
static void
compile_property(SegCompiler *cc, const SegNode *node, const SegScope *scope,
				 const SegValue *v, StringInfo out)
{
	const char *json = psprintf("(%s.properties -> %s)", scope->alias, quote_literal_cstr(v->column));
	SegLiteralKind kind;
	SegValue	typed = *v;
	const char *x;
	const char *guard;

	if (node->kind == SEG_IS_NULL)
	{
		appendStringInfo(out, "(coalesce(jsonb_typeof%s, 'null') %s 'null')", json,
						 node->negated ? "<>" : "=");
		return;
	}
	kind = node->lits[0].kind;
	for (int i = 0; i < node->nlits; i++)
	{
		if (node->lits[i].kind == SEG_LIT_NOW)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("cannot compare %s with now()", v->label),
					 errdetail("Event properties compare with strings, numbers, true and false.")));
		if (node->lits[i].kind != kind)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("the literals compared with %s must be of one type", v->label)));
	}
	if (node->kind == SEG_CONTAINS)
	{
		typed.data_type = kind == SEG_LIT_NUMBER ? "number" : kind == SEG_LIT_BOOL ? "boolean" : "text";
		appendStringInfo(out, "coalesce(%s @> jsonb_build_array(", json);
		append_literal(cc, &typed, &node->lits[0], out);
		appendStringInfoString(out, "), false)");
		return;
	}
	if (kind == SEG_LIT_NUMBER && node->kind != SEG_LIKE)
	{
		typed.data_type = "number";
		x = psprintf("(%s.properties ->> %s)::numeric", scope->alias, quote_literal_cstr(v->column));
		guard = "number";
	}
	else if (kind == SEG_LIT_BOOL)
	{
		typed.data_type = "boolean";
		x = psprintf("(%s.properties ->> %s)::boolean", scope->alias, quote_literal_cstr(v->column));
		guard = "boolean";
	}
	else
	{
		typed.data_type = "text";
		x = psprintf("(%s.properties ->> %s)", scope->alias, quote_literal_cstr(v->column));
		guard = NULL;
	}
	if (guard)
		appendStringInfo(out, "(CASE WHEN jsonb_typeof%s = '%s' THEN ", json, guard);
	else
		appendStringInfoString(out, "coalesce(");
	append_predicate(cc, node, &typed, x, out);
	appendStringInfoString(out, guard ? " ELSE false END)" : ", false)");
}

void
seg_compile_value(SegCompiler *cc, const SegNode *node, const SegScope *scope, StringInfo out)
{
	SegValue	v;

	resolve_value(node, scope, &v);
	if (v.owner != scope->subject)
		elog(ERROR, "segment value about a %s compiled at a %s", seg_subject_name(v.owner),
			 seg_subject_name(scope->subject));
	check_operator(node, &v);

	if (v.where == VALUE_PROPERTY)
		compile_property(cc, node, scope, &v, out);
	else if (v.where == VALUE_COLUMN)
	{
		const char *x = psprintf("%s.%s", scope->alias, v.column);

		if (node->kind == SEG_IS_NULL)
			appendStringInfo(out, "(%s IS %sNULL)", x, node->negated ? "NOT " : "");
		else
		{
			appendStringInfo(out, "(%s IS NOT NULL AND ", x);
			append_predicate(cc, node, &v, x, out);
			appendStringInfoChar(out, ')');
		}
	}
	else
	{
		const char *a = psprintf("a%d", ++cc->next_alias);
		const char *x = psprintf("%s.%s", a, v.column);
		bool		absent = node->kind == SEG_IS_NULL && !node->negated;

		appendStringInfo(out, "%sEXISTS (SELECT FROM %s %s WHERE %s AND ",
						 absent ? "NOT " : "", v.table, a, seg_owner_join(a, v.key_column, scope));
		if (node->kind == SEG_IS_NULL)
			appendStringInfo(out, "%s IS NOT NULL", x);
		else
			append_predicate(cc, node, &v, x, out);
		appendStringInfoChar(out, ')');
	}
}

/* The observed value, as a text SQL expression. */
void
seg_compile_value_detail(SegCompiler *cc, const SegNode *node, const SegScope *scope,
						 StringInfo out)
{
	SegValue	v;
	const char *is = quote_literal_cstr(psprintf("%s is ", label_of(node)));
	const char *unset = quote_literal_cstr(psprintf("%s is not set", label_of(node)));

	resolve_value(node, scope, &v);
	if (v.where == VALUE_PROPERTY)
	{
		const char *key = quote_literal_cstr(v.column);

		appendStringInfo(out, "(CASE WHEN %s.properties ? %s THEN %s || (%s.properties -> %s)::text ELSE %s END)",
						 scope->alias, key, is, scope->alias, key, unset);
	}
	else if (v.where == VALUE_COLUMN)
	{
		const char *x = psprintf("%s.%s", scope->alias, v.column);

		appendStringInfo(out, "(CASE WHEN %s IS NULL THEN %s ELSE %s || quote_literal(%s::text) END)",
						 x, unset, is, x);
	}
	else
	{
		const char *a = psprintf("a%d", ++cc->next_alias);
		const char *x = psprintf("%s.%s", a, v.column);

		appendStringInfo(out,
						 "coalesce((SELECT CASE WHEN %s IS NULL THEN %s ELSE %s || quote_literal(%s::text) END"
						 " FROM %s %s WHERE %s), %s)",
						 x, unset, is, x, v.table, a, seg_owner_join(a, v.key_column, scope),
						 quote_literal_cstr(v.missing));
	}
}

/*
 * A condition on the one row that a profile or document table holds for the
 * subject (the key is the table's primary key): its table, and what the row
 * must satisfy, so that the compiler can test several such conditions on
 * one row in one EXISTS.  False for every other condition.
 */
bool
seg_value_row(SegCompiler *cc, const SegNode *node, const SegScope *scope,
			  const char *alias, SegRowCondition *rc)
{
	SegValue	v;
	const char *x;
	StringInfoData pred;

	if (!seg_is_value_condition(node))
		return false;
	resolve_value(node, scope, &v);
	if (v.where != VALUE_ATTRIBUTE || v.owner != scope->subject)
		return false;
	check_operator(node, &v);
	rc->table = v.table;
	rc->key_column = v.key_column;
	/* is not null: some row has it; is null: no row has it */
	rc->positive = node->kind != SEG_IS_NULL || node->negated;
	if (alias == NULL)
		return true;

	x = psprintf("%s.%s", alias, v.column);
	if (node->kind == SEG_IS_NULL)
	{
		rc->predicate = psprintf("%s IS NOT NULL", x);
		rc->negation = psprintf("%s IS NULL", x);
		return true;
	}
	initStringInfo(&pred);
	append_predicate(cc, node, &v, x, &pred);
	rc->predicate = pred.data;
	/* the row's value fails the test: absent, or present and not passing */
	rc->negation = psprintf("(%s IS NULL OR NOT (%s))", x, pred.data);
	return true;
}
