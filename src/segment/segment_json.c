/*
 * segment_json.c
 *	  cdp.segment_to_jsonb and cdp.jsonb_to_segment: the CXF filter-tree form
 *	  of a segment (DESIGN §7), written from and read into a SegNode tree.
 *
 * The JSON is read strictly: every node is checked against its shape here,
 * with the same limits as the parser, so that an error names the JSON path of
 * the bad node (the parser could only give a position in text the user never
 * wrote).  Unknown members are refused, so that a misspelt optional member is
 * not silently ignored.
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "segment/segment_type.h"

PG_FUNCTION_INFO_V1(cdp_segment_to_jsonb);
PG_FUNCTION_INFO_V1(cdp_jsonb_to_segment);

/* The comparison operators, in JSON, indexed by SegOp. */
static const char *const compare_names[] = {
	[SEG_OP_NONE] = NULL,
	[SEG_OP_EQ] = "==",
	[SEG_OP_NE] = "!=",
	[SEG_OP_LT] = "<",
	[SEG_OP_LE] = "<=",
	[SEG_OP_GT] = ">",
	[SEG_OP_GE] = ">="
};

/* What the "value" of an attribute condition holds. */
typedef enum ValueShape
{
	VALUE_NONE,					/* no "value" */
	VALUE_ONE,					/* one literal */
	VALUE_STRING,				/* one string literal (LIKE) */
	VALUE_LIST,					/* an array of literals */
	VALUE_PAIR					/* [low, high] */
} ValueShape;

typedef struct AttributeOperator
{
	const char *name;
	SegNodeKind kind;
	SegOp		op;
	bool		negated;
	bool		flag;
	ValueShape	shape;
} AttributeOperator;

static const AttributeOperator attribute_operators[] = {
	{"==", SEG_COMPARE, SEG_OP_EQ, false, false, VALUE_ONE},
	{"!=", SEG_COMPARE, SEG_OP_NE, false, false, VALUE_ONE},
	{"<", SEG_COMPARE, SEG_OP_LT, false, false, VALUE_ONE},
	{"<=", SEG_COMPARE, SEG_OP_LE, false, false, VALUE_ONE},
	{">", SEG_COMPARE, SEG_OP_GT, false, false, VALUE_ONE},
	{">=", SEG_COMPARE, SEG_OP_GE, false, false, VALUE_ONE},
	{"in", SEG_IN, SEG_OP_NONE, false, false, VALUE_LIST},
	{"not_in", SEG_IN, SEG_OP_NONE, true, false, VALUE_LIST},
	{"between", SEG_BETWEEN, SEG_OP_NONE, false, false, VALUE_PAIR},
	{"not_between", SEG_BETWEEN, SEG_OP_NONE, true, false, VALUE_PAIR},
	{"is_null", SEG_IS_NULL, SEG_OP_NONE, false, false, VALUE_NONE},
	{"is_not_null", SEG_IS_NULL, SEG_OP_NONE, true, false, VALUE_NONE},
	{"like", SEG_LIKE, SEG_OP_NONE, false, false, VALUE_STRING},
	{"not_like", SEG_LIKE, SEG_OP_NONE, true, false, VALUE_STRING},
	{"ilike", SEG_LIKE, SEG_OP_NONE, false, true, VALUE_STRING},
	{"not_ilike", SEG_LIKE, SEG_OP_NONE, true, true, VALUE_STRING},
	{"contains", SEG_CONTAINS, SEG_OP_NONE, false, false, VALUE_ONE}
};

#define ATTRIBUTE_OPERATORS_DETAIL \
	"The operators of an attribute condition are ==, !=, <, <=, >, >=, in, not_in, between, not_between, is_null, is_not_null, like, not_like, ilike, not_ilike and contains."
#define COMPARE_OPERATORS_DETAIL \
	"The operators of a count are ==, !=, <, <=, > and >=."
#define NODE_TYPES_DETAIL \
	"The types of a node are group, not, attribute, tag, taxonomy, profile, identifier, organization, organization_under, document, event and segment."
#define LITERAL_DETAIL \
	"A value is a string, a number, true, false or {\"now\": null}, {\"now\": \"-30 days\"}, {\"now\": \"+1 hour\"}."

/* ----------------------------------------------------------------
 * Segment to JSON
 * ----------------------------------------------------------------
 */

static void
push_key(JsonbParseState **state, const char *key)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) key;
	v.val.string.len = strlen(key);
	pushJsonbValue(state, WJB_KEY, &v);
}

static void
push_string(JsonbParseState **state, JsonbIteratorToken token, const char *s)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) s;
	v.val.string.len = strlen(s);
	pushJsonbValue(state, token, &v);
}

static void
push_bool(JsonbParseState **state, JsonbIteratorToken token, bool b)
{
	JsonbValue	v;

	v.type = jbvBool;
	v.val.boolean = b;
	pushJsonbValue(state, token, &v);
}

static void
number_context(void *arg)
{
	errcontext("number %s of the segment", (const char *) arg);
}

/*
 * A number from its literal text.  numeric_in reads every number the lexer
 * does, but one beyond numeric's range (1e200000) is no JSON number either:
 * its error then says which literal it was.
 */
static void
push_number(JsonbParseState **state, JsonbIteratorToken token, const char *text)
{
	ErrorContextCallback callback;
	JsonbValue	v;

	callback.callback = number_context;
	callback.arg = (void *) text;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	v.type = jbvNumeric;
	v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in,
														CStringGetDatum(text),
														ObjectIdGetDatum(InvalidOid),
														Int32GetDatum(-1)));
	error_context_stack = callback.previous;
	pushJsonbValue(state, token, &v);
}

static void
push_int(JsonbParseState **state, JsonbIteratorToken token, int64 n)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(n);
	pushJsonbValue(state, token, &v);
}

static void
push_string_member(JsonbParseState **state, const char *key, const char *s)
{
	push_key(state, key);
	push_string(state, WJB_VALUE, s);
}

static void
push_bool_member(JsonbParseState **state, const char *key, bool b)
{
	push_key(state, key);
	push_bool(state, WJB_VALUE, b);
}

static void
push_literal(JsonbParseState **state, JsonbIteratorToken token, const SegLiteral *lit)
{
	switch (lit->kind)
	{
		case SEG_LIT_STRING:
			push_string(state, token, lit->text);
			break;
		case SEG_LIT_NUMBER:
			push_number(state, token, lit->text);
			break;
		case SEG_LIT_BOOL:
			push_bool(state, token, lit->boolean);
			break;
		case SEG_LIT_NOW:
			{
				JsonbValue	null;

				pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
				push_key(state, "now");
				if (lit->now_sign == 0)
				{
					null.type = jbvNull;
					pushJsonbValue(state, WJB_VALUE, &null);
				}
				else
					push_string(state, WJB_VALUE,
								psprintf("%c%s", lit->now_sign > 0 ? '+' : '-',
										 lit->interval));
				pushJsonbValue(state, WJB_END_OBJECT, NULL);
				break;
			}
		default:
			elog(ERROR, "unexpected segment literal kind %d", (int) lit->kind);
	}
}

static const char *
attribute_operator_name(const SegNode *node)
{
	for (int i = 0; i < lengthof(attribute_operators); i++)
	{
		const AttributeOperator *o = &attribute_operators[i];

		if (o->kind == node->kind && o->op == node->op &&
			o->negated == node->negated && o->flag == node->flag)
			return o->name;
	}
	elog(ERROR, "unexpected segment condition: kind %d, operator %d",
		 (int) node->kind, (int) node->op);
	return NULL;				/* keep compiler quiet */
}

/*
 * "customer.tier": the qualifier, a dot and the field.  The slug is cut at its
 * first dot, so a qualifier that holds a dot (or starts with a double quote)
 * is written in double quotes, a quote inside doubled, as the text form
 * writes names.
 */
static char *
attribute_slug(const SegNode *node)
{
	StringInfoData s;

	initStringInfo(&s);
	if (strchr(node->qualifier, '.') == NULL && node->qualifier[0] != '"')
		appendStringInfoString(&s, node->qualifier);
	else
	{
		appendStringInfoChar(&s, '"');
		for (const char *c = node->qualifier; *c; c++)
		{
			if (*c == '"')
				appendStringInfoChar(&s, '"');
			appendStringInfoChar(&s, *c);
		}
		appendStringInfoChar(&s, '"');
	}
	appendStringInfo(&s, ".%s", node->field);
	return s.data;
}

/* Push the object of node; returns the value made by its closing push. */
static JsonbValue *
push_node(JsonbParseState **state, const SegNode *node)
{
	check_stack_depth();

	pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
	switch (node->kind)
	{
		case SEG_AND:
		case SEG_OR:
			push_string_member(state, "type", "group");
			push_string_member(state, "operator", node->kind == SEG_AND ? "and" : "or");
			push_key(state, "items");
			pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
			for (int i = 0; i < node->nchildren; i++)
				push_node(state, node->children[i]);
			pushJsonbValue(state, WJB_END_ARRAY, NULL);
			break;
		case SEG_NOT:
			push_string_member(state, "type", "not");
			push_key(state, "item");
			push_node(state, node->children[0]);
			break;
		case SEG_COMPARE:
		case SEG_IN:
		case SEG_BETWEEN:
		case SEG_IS_NULL:
		case SEG_LIKE:
		case SEG_CONTAINS:
			push_string_member(state, "type", "attribute");
			push_string_member(state, "slug", attribute_slug(node));
			push_string_member(state, "operator", attribute_operator_name(node));
			if (node->kind == SEG_IN || node->kind == SEG_BETWEEN)
			{
				push_key(state, "value");
				pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
				for (int i = 0; i < node->nlits; i++)
					push_literal(state, WJB_ELEM, &node->lits[i]);
				pushJsonbValue(state, WJB_END_ARRAY, NULL);
			}
			else if (node->kind != SEG_IS_NULL)
			{
				push_key(state, "value");
				push_literal(state, WJB_VALUE, &node->lits[0]);
			}
			break;
		case SEG_TAG:
			push_string_member(state, "type", "tag");
			push_string_member(state, "path", node->name);
			push_bool_member(state, "under", node->flag);
			break;
		case SEG_TERM:
			push_string_member(state, "type", "taxonomy");
			push_string_member(state, "taxonomy", node->qualifier);
			push_string_member(state, "path", node->name);
			push_bool_member(state, "under", node->flag);
			break;
		case SEG_HAS_PROFILE:
			push_string_member(state, "type", "profile");
			push_string_member(state, "slug", node->name);
			break;
		case SEG_HAS_KIND:
			push_string_member(state, "type", "identifier");
			push_string_member(state, "kind", node->name);
			push_bool_member(state, "validated", node->flag);
			break;
		case SEG_ORGANIZATION:
			push_string_member(state, "type", "organization");
			push_key(state, "item");
			push_node(state, node->children[0]);
			break;
		case SEG_ORG_UNDER:
			push_string_member(state, "type", "organization_under");
			push_string_member(state, "slug", node->name);
			break;
		case SEG_DOCUMENT:
			push_string_member(state, "type", "document");
			push_string_member(state, "template", node->name);
			if (node->nchildren > 0)
			{
				push_key(state, "item");
				push_node(state, node->children[0]);
			}
			break;
		case SEG_EVENT:
			push_string_member(state, "type", "event");
			push_string_member(state, "name", node->name);
			if (node->nchildren > 0)
			{
				push_key(state, "where");
				push_node(state, node->children[0]);
			}
			if (node->op != SEG_OP_NONE)
			{
				push_key(state, "count");
				pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
				push_string_member(state, "operator", compare_names[node->op]);
				push_key(state, "value");
				push_int(state, WJB_VALUE, node->count);
				pushJsonbValue(state, WJB_END_OBJECT, NULL);
			}
			if (node->within_unit != SEG_WITHIN_NONE)
			{
				push_key(state, "within");
				pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
				push_key(state, "value");
				push_int(state, WJB_VALUE, node->within);
				push_string_member(state, "unit",
								   node->within_unit == SEG_WITHIN_DAYS ? "days" : "hours");
				pushJsonbValue(state, WJB_END_OBJECT, NULL);
			}
			break;
		case SEG_IN_SEGMENT:
			push_string_member(state, "type", "segment");
			push_string_member(state, "slug", node->name);
			break;
		default:
			elog(ERROR, "unexpected segment node kind %d", (int) node->kind);
	}
	return pushJsonbValue(state, WJB_END_OBJECT, NULL);
}

Datum
cdp_segment_to_jsonb(PG_FUNCTION_ARGS)
{
	SegNode    *tree = cdp_segment_tree(PG_GETARG_DATUM(0));
	JsonbParseState *state = NULL;

	PG_RETURN_JSONB_P(JsonbValueToJsonb(push_node(&state, tree)));
}


/* ----------------------------------------------------------------
 * JSON to segment
 * ----------------------------------------------------------------
 */

typedef struct JsonMember
{
	char	   *key;			/* NUL-terminated copy */
	JsonbValue	value;
} JsonMember;

/* An object being read: a node, or the now, count or within of one. */
typedef struct JsonObject
{
	const char *path;
	const char *what;			/* "a tag condition", for messages */
	const char *const *allowed; /* its members, NULL-terminated */
	const char *detail;			/* what its members are, for messages */
	JsonMember *members;
	int			nmembers;
} JsonObject;

typedef struct Reader
{
	int			nodes;			/* nodes in the tree so far */
} Reader;

static void json_error(int sqlstate, const char *path, const char *detail,
					   const char *fmt,...) pg_attribute_printf(4, 5) pg_attribute_noreturn();

static void
json_error(int sqlstate, const char *path, const char *detail, const char *fmt,...)
{
	StringInfoData problem;

	initStringInfo(&problem);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&problem, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&problem, needed);
	}
	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("invalid segment JSON at %s: %s", path, problem.data),
			 detail ? errdetail("%s", detail) : 0));
}

#define bad_json(path, detail, ...) \
	json_error(ERRCODE_INVALID_TEXT_REPRESENTATION, path, detail, __VA_ARGS__)

/* A user's string in a message, clipped so that a huge value stays readable. */
static const char *
shown(const char *s)
{
	int			len = strlen(s);

	if (len <= 40)
		return s;
	return psprintf("%s...", pnstrdup(s, pg_mbcliplen(s, len, 40)));
}

static const char *
json_type_name(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "a string";
		case jbvNumeric:
			return "a number";
		case jbvBool:
			return "a boolean";
		case jbvBinary:
			return JsonContainerIsObject(v->val.binary.data) ? "an object" : "an array";
		default:
			return "an unknown JSON value";
	}
}

static bool
is_object(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

static bool
is_array(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data);
}

static const char *
member_path(const JsonObject *o, const char *key)
{
	return psprintf("%s.%s", o->path, key);
}

/* "The members of a tag condition are type, path and under." */
static const char *
members_detail(const JsonObject *o)
{
	StringInfoData s;
	int			n = 0;

	while (o->allowed[n])
		n++;
	initStringInfo(&s);
	appendStringInfo(&s, "The members of %s are ", o->what);
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoString(&s, i == n - 1 ? " and " : ", ");
		appendStringInfoString(&s, o->allowed[i]);
	}
	appendStringInfoChar(&s, '.');
	return s.data;
}

/* The members of the object v at path; detail explains the object if v is none. */
static void
open_object(JsonObject *o, const JsonbValue *v, const char *path, const char *detail)
{
	JsonbIterator *it;
	JsonbIteratorToken token;
	JsonbValue	jv;
	int			n = 0;

	if (!is_object(v))
		bad_json(path, detail, "expected an object, not %s", json_type_name(v));

	memset(o, 0, sizeof(*o));
	o->path = path;
	o->nmembers = JsonContainerSize(v->val.binary.data);
	o->members = palloc0(sizeof(JsonMember) * Max(o->nmembers, 1));

	it = JsonbIteratorInit(v->val.binary.data);
	while ((token = JsonbIteratorNext(&it, &jv, true)) != WJB_DONE)
	{
		if (token == WJB_KEY)
			o->members[n].key = pnstrdup(jv.val.string.val, jv.val.string.len);
		else if (token == WJB_VALUE)
			o->members[n++].value = jv;
	}
	Assert(n == o->nmembers);
}

/*
 * Refuse members of o not in allowed: a misspelt optional member is an error.
 * detail says what the members are; NULL lists them.
 */
static void
check_members(JsonObject *o, const char *what, const char *const *allowed,
			  const char *detail)
{
	o->what = what;
	o->allowed = allowed;
	o->detail = detail ? detail : members_detail(o);
	for (int i = 0; i < o->nmembers; i++)
	{
		bool		known = false;

		for (int k = 0; allowed[k] && !known; k++)
			known = strcmp(o->members[i].key, allowed[k]) == 0;
		if (!known)
			bad_json(o->path, o->detail, "unknown member \"%s\" of %s",
					 shown(o->members[i].key), what);
	}
}

/* The member key of o, or NULL. */
static JsonbValue *
find_member(JsonObject *o, const char *key)
{
	for (int i = 0; i < o->nmembers; i++)
		if (strcmp(o->members[i].key, key) == 0)
			return &o->members[i].value;
	return NULL;
}

static JsonbValue *
need_member(JsonObject *o, const char *key)
{
	JsonbValue *v = find_member(o, key);

	if (v == NULL)
		bad_json(o->path, o->detail, "missing member \"%s\" of %s", key, o->what);
	return v;
}

static char *
string_value(const JsonbValue *v, const char *path, const char *detail)
{
	if (v->type != jbvString)
		bad_json(path, detail, "expected a string, not %s", json_type_name(v));
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* A required string member (any text: a tag path, an event name, a slug). */
static char *
string_member(JsonObject *o, const char *key)
{
	return string_value(need_member(o, key), member_path(o, key), NULL);
}

/* An optional boolean member, false when absent. */
static bool
bool_member(JsonObject *o, const char *key)
{
	JsonbValue *v = find_member(o, key);

	if (v == NULL)
		return false;
	if (v->type != jbvBool)
		bad_json(member_path(o, key), NULL, "expected a boolean, not %s", json_type_name(v));
	return v->val.boolean;
}

/* A required integer member, min or more (at most int64's largest). */
static int64
integer_member(JsonObject *o, const char *key, int64 min, const char *detail)
{
	JsonbValue *v = need_member(o, key);
	const char *path = member_path(o, key);
	char	   *text;
	const char *p;
	int64		n = 0;
	bool		overflow = false;

	if (v->type != jbvNumeric)
		bad_json(path, detail, "expected an integer, not %s", json_type_name(v));
	text = DatumGetCString(DirectFunctionCall1(numeric_out,
											   NumericGetDatum(v->val.numeric)));

	/* numeric_out writes -?digits[.digits]; 3.0 is the integer 3 */
	p = text;
	if (*p == '-')
		p++;
	for (; *p >= '0' && *p <= '9'; p++)
	{
		if (n > (PG_INT64_MAX - (*p - '0')) / 10)
			overflow = true;
		else
			n = n * 10 + (*p - '0');
	}
	if (*p == '.')
	{
		for (p++; *p == '0'; p++)
			;
		if (*p != '\0')
			bad_json(path, detail, "expected an integer, not %s", text);
	}
	if (text[0] == '-')
		n = -n;
	if (overflow || n < min)
		bad_json(path, detail, "%s is out of range", text);
	return n;
}

/*
 * A profile, kind, template or taxonomy, or either side of an attribute
 * reference: any text of 1 to SEG_MAX_NAME bytes, as the printer double-quotes
 * a name that is not a plain lower-case identifier.
 */
static void
check_name(const char *name, const char *path, const char *what)
{
	if (name[0] == '\0')
		bad_json(path, "A name has 1 to 63 bytes.", "empty %s", what);
	if (strlen(name) > SEG_MAX_NAME)
		json_error(ERRCODE_PROGRAM_LIMIT_EXCEEDED, path, "The limit is 63 bytes.",
				   "name is too long");
}

static char *
name_member(JsonObject *o, const char *key, const char *what)
{
	char	   *name = string_member(o, key);

	check_name(name, member_path(o, key), what);
	return name;
}

/* One more level of nesting at depth: parentheses, NOT or a quantifier body. */
static void
check_depth(int depth, const char *path)
{
	if (depth + 1 > SEG_MAX_DEPTH)
		json_error(ERRCODE_STATEMENT_TOO_COMPLEX, path, "The limit is 64 levels.",
				   "segment nests too deeply");
}

static SegNode *
new_node(Reader *r, SegNodeKind kind, const char *path)
{
	SegNode    *node;

	if (++r->nodes > SEG_MAX_NODES)
		json_error(ERRCODE_PROGRAM_LIMIT_EXCEEDED, path,
				   "The limit is 4096 nodes (conditions, and, or, not).",
				   "segment has too many nodes");
	node = palloc0(sizeof(SegNode));
	node->kind = kind;
	node->position = -1;
	return node;
}

static SegOp
compare_operator(const char *name, const char *path)
{
	for (int op = SEG_OP_EQ; op <= SEG_OP_GE; op++)
		if (strcmp(name, compare_names[op]) == 0)
			return (SegOp) op;
	bad_json(path, COMPARE_OPERATORS_DETAIL, "unknown operator \"%s\"", shown(name));
}

/* {"now": null}, {"now": "-30 days"}: now() [+|- interval 'text'] */
static void
read_now(SegLiteral *lit, const JsonbValue *v, const char *path)
{
	static const char *const allowed[] = {"now", NULL};
	JsonObject	o;
	JsonbValue *now;
	char	   *text;

	open_object(&o, v, path, LITERAL_DETAIL);
	check_members(&o, "a now value", allowed, LITERAL_DETAIL);
	now = need_member(&o, "now");
	lit->kind = SEG_LIT_NOW;
	if (now->type == jbvNull)
		return;
	text = string_value(now, member_path(&o, "now"), LITERAL_DETAIL);
	if (text[0] != '+' && text[0] != '-')
		bad_json(member_path(&o, "now"),
				 "An interval from now() is a sign, + or -, then an interval, as in \"-30 days\".",
				 "interval \"%s\" has no sign", shown(text));
	lit->now_sign = text[0] == '+' ? 1 : -1;
	lit->interval = text + 1;
}

/*
 * The text of a number literal: numeric_out's plain -?digits[.digits], or,
 * when that is longer than the lexer takes (1e-200 written out), the same
 * digits in scientific notation, which the lexer reads too.
 */
static char *
number_text(Numeric n, const char *path)
{
	char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out,
														   NumericGetDatum(n)));

	if (strlen(text) > SEG_MAX_NUMBER)
	{
		int			digits = 0;
		int			zeros = 0;	/* trailing zeros of the significant digits */

		for (const char *c = text; *c; c++)
		{
			if (*c < '0' || *c > '9' || (digits == 0 && *c == '0'))
				continue;
			digits++;
			zeros = *c == '0' ? zeros + 1 : 0;
		}
		text = digits == 0 ? "0" : numeric_out_sci(n, digits - zeros - 1);
	}
	if (strlen(text) > SEG_MAX_NUMBER)
		json_error(ERRCODE_PROGRAM_LIMIT_EXCEEDED, path,
				   "The limit is 100 characters.", "number is too long");
	return text;
}

/* One literal: a string, number, boolean or now object. */
static void
read_literal(SegLiteral *lit, const JsonbValue *v, const char *path)
{
	switch (v->type)
	{
		case jbvString:
			lit->kind = SEG_LIT_STRING;
			lit->text = pnstrdup(v->val.string.val, v->val.string.len);
			break;
		case jbvNumeric:
			lit->kind = SEG_LIT_NUMBER;
			lit->text = number_text(v->val.numeric, path);
			break;
		case jbvBool:
			lit->kind = SEG_LIT_BOOL;
			lit->boolean = v->val.boolean;
			break;
		default:
			if (!is_object(v))
				bad_json(path, LITERAL_DETAIL, "expected a value, not %s", json_type_name(v));
			read_now(lit, v, path);
			break;
	}
}

/*
 * "customer.tier" into qualifier and field, cut at the first dot; a qualifier
 * in double quotes may hold dots (see attribute_slug).
 */
static void
read_slug(SegNode *node, JsonObject *o)
{
	static const char *const detail =
		"An attribute is named qualifier.field, as in customer.tier or properties.amount; a qualifier that holds a dot is written in double quotes.";
	char	   *slug = string_member(o, "slug");
	const char *path = member_path(o, "slug");
	char	   *qualifier;
	char	   *dot;

	if (slug[0] == '"')
	{
		char	   *out = qualifier = palloc(strlen(slug));
		char	   *c = slug + 1;

		for (;; c++)
		{
			if (*c == '\0')
				bad_json(path, detail, "unterminated quoted qualifier");
			if (*c == '"')
			{
				if (c[1] != '"')
					break;
				c++;
			}
			*out++ = *c;
		}
		*out = '\0';
		dot = c + 1;
		if (*dot != '.')
			bad_json(path, detail, "invalid attribute reference \"%s\"", shown(slug));
	}
	else
	{
		dot = strchr(slug, '.');
		if (dot == NULL)
			bad_json(path, detail, "invalid attribute reference \"%s\"", shown(slug));
		qualifier = pnstrdup(slug, dot - slug);
	}
	check_name(qualifier, path, "qualifier");
	check_name(dot + 1, path, "field");
	node->qualifier = qualifier;
	node->field = dot + 1;
}

static SegNode *read_node(Reader *r, const JsonbValue *v, const char *path,
						  int depth, SegNodeKind context);

/* The member key of o as a quantifier's body, in parentheses one level deeper. */
static SegNode **
read_body(Reader *r, JsonObject *o, const char *key, int depth)
{
	SegNode   **children = palloc(sizeof(SegNode *));

	check_depth(depth, o->path);
	children[0] = read_node(r, need_member(o, key), member_path(o, key), depth + 1, 0);
	return children;
}

/*
 * A group, read as the parser reads its printed text: and/or lists are flat
 * (an item of the group's own operator is spliced in), and parentheses, one
 * level deeper, surround an or inside an and and any group under a not.
 */
static SegNode *
read_group(Reader *r, JsonObject *o, int depth, SegNodeKind context)
{
	char	   *op = string_member(o, "operator");
	JsonbValue *items = need_member(o, "items");
	const char *items_path = member_path(o, "items");
	SegNodeKind kind;
	SegNode    *node;
	int			n;
	int			cap;

	if (strcmp(op, "and") == 0)
		kind = SEG_AND;
	else if (strcmp(op, "or") == 0)
		kind = SEG_OR;
	else
		bad_json(member_path(o, "operator"), "The operator of a group is \"and\" or \"or\".",
				 "unknown operator \"%s\"", shown(op));

	if (!is_array(items))
		bad_json(items_path, NULL, "expected an array, not %s", json_type_name(items));
	n = JsonContainerSize(items->val.binary.data);
	if (n == 0)
		bad_json(items_path, "A group has one or more items.", "empty group");

	/* one item stands for itself, like a condition in parentheses */
	if (n == 1)
		return read_node(r, getIthJsonbValueFromContainer(items->val.binary.data, 0),
						 psprintf("%s[0]", items_path), depth, context);

	if (context == SEG_NOT || (context == SEG_AND && kind == SEG_OR))
	{
		check_depth(depth, o->path);
		depth++;
	}
	node = new_node(r, kind, o->path);
	cap = Min(n, SEG_MAX_NODES) + 1;
	node->children = palloc(sizeof(SegNode *) * cap);
	for (int i = 0; i < n; i++)
	{
		SegNode    *item;
		int			add;

		CHECK_FOR_INTERRUPTS();
		item = read_node(r, getIthJsonbValueFromContainer(items->val.binary.data, i),
						 psprintf("%s[%d]", items_path, i), depth, kind);
		add = item->kind == kind ? item->nchildren : 1;
		if (node->nchildren + add > cap)
		{
			cap = Max(cap * 2, node->nchildren + add);
			node->children = repalloc(node->children, sizeof(SegNode *) * cap);
		}
		if (item->kind == kind)
		{
			memcpy(node->children + node->nchildren, item->children,
				   sizeof(SegNode *) * item->nchildren);
			node->nchildren += item->nchildren;
			r->nodes--;			/* the spliced group is no node of the tree */
		}
		else
			node->children[node->nchildren++] = item;
	}
	return node;
}

static SegNode *
read_attribute(Reader *r, JsonObject *o)
{
	char	   *opname = string_member(o, "operator");
	const char *value_path = member_path(o, "value");
	const AttributeOperator *op = NULL;
	JsonbValue *value;
	SegNode    *node;
	int			n;

	for (int i = 0; i < lengthof(attribute_operators) && op == NULL; i++)
		if (strcmp(opname, attribute_operators[i].name) == 0)
			op = &attribute_operators[i];
	if (op == NULL)
		bad_json(member_path(o, "operator"), ATTRIBUTE_OPERATORS_DETAIL,
				 "unknown operator \"%s\"", shown(opname));

	node = new_node(r, op->kind, o->path);
	node->op = op->op;
	node->negated = op->negated;
	node->flag = op->flag;
	read_slug(node, o);

	value = find_member(o, "value");
	if (op->shape == VALUE_NONE)
	{
		if (value != NULL)
			bad_json(value_path, "Operators is_null and is_not_null take no value.",
					 "operator \"%s\" takes no value", op->name);
		return node;
	}
	if (value == NULL)
		bad_json(o->path, o->detail, "missing member \"value\" of %s", o->what);

	switch (op->shape)
	{
		case VALUE_STRING:
			node->lits = palloc0(sizeof(SegLiteral));
			node->nlits = 1;
			node->lits[0].kind = SEG_LIT_STRING;
			node->lits[0].text = string_value(value, value_path,
											  "The pattern of like, not_like, ilike and not_ilike is a string.");
			break;
		case VALUE_ONE:
			node->lits = palloc0(sizeof(SegLiteral));
			node->nlits = 1;
			read_literal(&node->lits[0], value, value_path);
			break;
		case VALUE_LIST:
		case VALUE_PAIR:
			if (!is_array(value))
				bad_json(value_path,
						 op->shape == VALUE_PAIR ?
						 "The value of between and not_between is an array [low, high]." :
						 "The value of in and not_in is an array of one or more values.",
						 "expected an array, not %s", json_type_name(value));
			n = JsonContainerSize(value->val.binary.data);
			if (op->shape == VALUE_PAIR && n != 2)
				bad_json(value_path, "The value of between and not_between is an array [low, high].",
						 "expected 2 values, not %d", n);
			if (n == 0)
				bad_json(value_path, "The value of in and not_in is an array of one or more values.",
						 "empty list");
			if (n > SEG_MAX_LIST)
				json_error(ERRCODE_PROGRAM_LIMIT_EXCEEDED, value_path,
						   "The limit is 1000 values.", "in list has too many values");
			node->lits = palloc0(sizeof(SegLiteral) * n);
			node->nlits = n;
			for (int i = 0; i < n; i++)
				read_literal(&node->lits[i],
							 getIthJsonbValueFromContainer(value->val.binary.data, i),
							 psprintf("%s[%d]", value_path, i));
			break;
		case VALUE_NONE:
			break;
	}
	return node;
}

/* "count": {"operator": ">=", "value": 3} */
static void
read_count(SegNode *node, JsonObject *event)
{
	static const char *const allowed[] = {"operator", "value", NULL};
	JsonObject	o;

	open_object(&o, find_member(event, "count"), member_path(event, "count"),
				"A count is an object such as {\"operator\": \">=\", \"value\": 3}.");
	check_members(&o, "a count", allowed, NULL);
	node->op = compare_operator(string_member(&o, "operator"),
								member_path(&o, "operator"));
	node->count = integer_member(&o, "value", 0, "A count is a whole number, 0 or more.");
}

/* "within": {"value": 30, "unit": "days"} */
static void
read_within(SegNode *node, JsonObject *event)
{
	static const char *const allowed[] = {"value", "unit", NULL};
	JsonObject	o;
	char	   *unit;

	open_object(&o, find_member(event, "within"), member_path(event, "within"),
				"A within is an object such as {\"value\": 30, \"unit\": \"days\"}.");
	check_members(&o, "a within", allowed, NULL);
	node->within = integer_member(&o, "value", 1, "A within is a whole number, 1 or more.");
	unit = string_member(&o, "unit");
	if (strcmp(unit, "days") == 0)
		node->within_unit = SEG_WITHIN_DAYS;
	else if (strcmp(unit, "hours") == 0)
		node->within_unit = SEG_WITHIN_HOURS;
	else
		bad_json(member_path(&o, "unit"), "The unit of a within is \"days\" or \"hours\".",
				 "unknown unit \"%s\"", shown(unit));
}

/* The members of each node type, "type" first. */
static const char *const group_members[] = {"type", "operator", "items", NULL};
static const char *const not_members[] = {"type", "item", NULL};
static const char *const attribute_members[] = {"type", "slug", "operator", "value", NULL};
static const char *const tag_members[] = {"type", "path", "under", NULL};
static const char *const taxonomy_members[] = {"type", "taxonomy", "path", "under", NULL};
static const char *const profile_members[] = {"type", "slug", NULL};
static const char *const identifier_members[] = {"type", "kind", "validated", NULL};
static const char *const organization_members[] = {"type", "item", NULL};
static const char *const org_under_members[] = {"type", "slug", NULL};
static const char *const document_members[] = {"type", "template", "item", NULL};
static const char *const event_members[] = {"type", "name", "where", "count", "within", NULL};
static const char *const segment_members[] = {"type", "slug", NULL};

/*
 * The node of v at path.  depth is the nesting the parser would be at when
 * it reads this node in the printed text, and context the kind of the parent
 * (AND, OR or NOT; 0 for the root and a quantifier's body), which decides
 * whether a group is printed in parentheses.
 */
static SegNode *
read_node(Reader *r, const JsonbValue *v, const char *path, int depth,
		  SegNodeKind context)
{
	JsonObject	o;
	JsonbValue *typev;
	char	   *type;
	SegNode    *node;

	check_stack_depth();

	/* the type first, then the members that type allows */
	open_object(&o, v, path, "A node of a segment is an object with a member \"type\".");
	typev = find_member(&o, "type");
	if (typev == NULL)
		bad_json(path, NODE_TYPES_DETAIL, "missing member \"type\"");
	type = string_value(typev, member_path(&o, "type"), NODE_TYPES_DETAIL);

	if (strcmp(type, "group") == 0)
	{
		check_members(&o, "a group", group_members, NULL);
		return read_group(r, &o, depth, context);
	}
	else if (strcmp(type, "not") == 0)
	{
		check_members(&o, "a not", not_members, NULL);
		check_depth(depth, path);
		node = new_node(r, SEG_NOT, path);
		node->children = palloc(sizeof(SegNode *));
		node->children[0] = read_node(r, need_member(&o, "item"), member_path(&o, "item"),
									  depth + 1, SEG_NOT);
		node->nchildren = 1;
	}
	else if (strcmp(type, "attribute") == 0)
	{
		check_members(&o, "an attribute condition", attribute_members, NULL);
		node = read_attribute(r, &o);
	}
	else if (strcmp(type, "tag") == 0)
	{
		check_members(&o, "a tag condition", tag_members, NULL);
		node = new_node(r, SEG_TAG, path);
		node->name = string_member(&o, "path");
		node->flag = bool_member(&o, "under");
	}
	else if (strcmp(type, "taxonomy") == 0)
	{
		check_members(&o, "a taxonomy condition", taxonomy_members, NULL);
		node = new_node(r, SEG_TERM, path);
		node->qualifier = name_member(&o, "taxonomy", "taxonomy");
		node->name = string_member(&o, "path");
		node->flag = bool_member(&o, "under");
	}
	else if (strcmp(type, "profile") == 0)
	{
		check_members(&o, "a profile condition", profile_members, NULL);
		node = new_node(r, SEG_HAS_PROFILE, path);
		node->name = name_member(&o, "slug", "profile");
	}
	else if (strcmp(type, "identifier") == 0)
	{
		check_members(&o, "an identifier condition", identifier_members, NULL);
		node = new_node(r, SEG_HAS_KIND, path);
		node->name = name_member(&o, "kind", "kind");
		node->flag = bool_member(&o, "validated");
	}
	else if (strcmp(type, "organization") == 0)
	{
		check_members(&o, "an organization condition", organization_members, NULL);
		node = new_node(r, SEG_ORGANIZATION, path);
		node->children = read_body(r, &o, "item", depth);
		node->nchildren = 1;
	}
	else if (strcmp(type, "organization_under") == 0)
	{
		check_members(&o, "an organization_under condition", org_under_members, NULL);
		node = new_node(r, SEG_ORG_UNDER, path);
		node->name = string_member(&o, "slug");
	}
	else if (strcmp(type, "document") == 0)
	{
		check_members(&o, "a document condition", document_members, NULL);
		node = new_node(r, SEG_DOCUMENT, path);
		node->name = name_member(&o, "template", "template");
		if (find_member(&o, "item"))
		{
			node->children = read_body(r, &o, "item", depth);
			node->nchildren = 1;
		}
	}
	else if (strcmp(type, "event") == 0)
	{
		check_members(&o, "an event condition", event_members, NULL);
		node = new_node(r, SEG_EVENT, path);
		node->name = string_member(&o, "name");
		if (find_member(&o, "where"))
		{
			node->children = read_body(r, &o, "where", depth);
			node->nchildren = 1;
		}
		if (find_member(&o, "count"))
			read_count(node, &o);
		if (find_member(&o, "within"))
			read_within(node, &o);
	}
	else if (strcmp(type, "segment") == 0)
	{
		check_members(&o, "a segment condition", segment_members, NULL);
		node = new_node(r, SEG_IN_SEGMENT, path);
		node->name = string_member(&o, "slug");
	}
	else
		bad_json(member_path(&o, "type"), NODE_TYPES_DETAIL, "unknown type \"%s\"", shown(type));

	return node;
}

Datum
cdp_jsonb_to_segment(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	JsonbValue	root;
	Reader		r = {0};
	SegNode    *tree;
	size_t		len;

	if (JB_ROOT_IS_SCALAR(jb))
		JsonbExtractScalar(&jb->root, &root);
	else
	{
		root.type = jbvBinary;
		root.val.binary.data = &jb->root;
		root.val.binary.len = VARSIZE(jb) - VARHDRSZ;
	}
	tree = read_node(&r, &root, "$", 0, 0);

	/* the text form must read back, so it too keeps the parser's limit */
	len = strlen(cdp_segment_text(tree));
	if (len > SEG_MAX_TEXT)
		json_error(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "$",
				   "The limit is 65536 bytes.",
				   "segment is too long: its text would be %zu bytes", len);
	PG_RETURN_DATUM(cdp_segment_datum(tree));
}
