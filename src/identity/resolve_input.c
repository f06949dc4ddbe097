/*
 * resolve_input.c
 *	  Turns the identifiers argument of resolve() -- an object {"email": ...}
 *	  or an array of {"kind", "value", "slug", "validated", ...} -- into
 *	  normalised items, refusing malformed shapes with clear errors.
 */
#include "cdp.h"
#include "identity/identity.h"

#include "utils/builtins.h"
#include "utils/numeric.h"

static const char *
jsonb_type_name(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "string";
		case jbvNumeric:
			return "number";
		case jbvBool:
			return "boolean";
		case jbvBinary:
			return JsonContainerIsArray(v->val.binary.data) ? "array" : "object";
		default:
			return "value";
	}
}

static char *
jsonb_string(const JsonbValue *v)
{
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* A value is a string, or a number written as text (phone numbers, ids). */
static char *
identifier_value(const JsonbValue *v, const char *kind)
{
	if (v->type == jbvString)
		return jsonb_string(v);
	if (v->type == jbvNumeric)
		return DatumGetCString(DirectFunctionCall1(numeric_out,
												   NumericGetDatum(v->val.numeric)));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("identifier value of kind \"%s\" must be a string, not %s",
					kind, jsonb_type_name(v)),
			 v->type == jbvNull ?
			 errhint("Leave absent identifiers out, for example with jsonb_strip_nulls().") : 0));
	return NULL;
}

static const cdp_kind *
known_kind(const cdp_kinds *kinds, const char *kind)
{
	const cdp_kind *k = cdp_find_kind(kinds, kind);

	if (k == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("unknown identifier kind: \"%s\"", kind),
				 errhint("Identifier kinds are the rows of cdp.identifier_kinds.")));
	return k;
}

static JsonbValue *
object_field(JsonbContainer *obj, const char *key)
{
	return getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);
}

/* Fill an item from one {"kind", "value", ...} object of the array form. */
static void
parse_item_object(JsonbContainer *obj, const cdp_kinds *kinds, cdp_item *item)
{
	static const char *const allowed[] = {
		"kind", "value", "slug", "validated", "validated_at", "outreach", "region"
	};
	JsonbIterator *it = JsonbIteratorInit(obj);
	JsonbValue	v;
	JsonbIteratorToken tok;
	JsonbValue *f;
	char	   *kind;

	/* refuse keys we do not know: a typo must not silently drop data */
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		bool		ok = false;

		if (tok != WJB_KEY)
			continue;
		for (int i = 0; i < lengthof(allowed); i++)
			if (strlen(allowed[i]) == v.val.string.len &&
				strncmp(allowed[i], v.val.string.val, v.val.string.len) == 0)
				ok = true;
		if (!ok)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown key \"%s\" in identifier object", jsonb_string(&v)),
					 errhint("Keys are kind, value, slug, validated, validated_at, outreach and region.")));
	}

	f = object_field(obj, "kind");
	if (f == NULL || f->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("identifier object needs a string \"kind\"")));
	kind = jsonb_string(f);
	item->kind = known_kind(kinds, kind);

	f = object_field(obj, "value");
	if (f == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("identifier object of kind \"%s\" has no \"value\"", kind)));
	item->raw_value = identifier_value(f, kind);

	if ((f = object_field(obj, "slug")) != NULL && f->type != jbvNull)
	{
		if (f->type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"slug\" of identifier kind \"%s\" must be a string", kind)));
		item->slug = jsonb_string(f);
	}
	if ((f = object_field(obj, "validated")) != NULL)
	{
		if (f->type == jbvString)
		{
			if (f->val.string.len == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("\"validated\" must not be an empty string"),
						 errhint("Give the validation method, for example \"otp\", or true.")));
			item->validated = true;
			item->validation_method = jsonb_string(f);
		}
		else if (f->type == jbvBool)
			item->validated = f->val.boolean;
		else if (f->type != jbvNull)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"validated\" must be a validation method or a boolean, not %s",
							jsonb_type_name(f)),
					 errhint("Methods are for example \"otp\", \"magic_link\", \"oauth\", \"manual\" and \"double_opt_in\".")));
	}
	if ((f = object_field(obj, "validated_at")) != NULL && f->type != jbvNull)
	{
		if (f->type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"validated_at\" must be a timestamp string")));
		item->has_validated_at = true;
		item->validated_at = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
																	 CStringGetDatum(jsonb_string(f)),
																	 ObjectIdGetDatum(InvalidOid),
																	 Int32GetDatum(-1)));
	}
	if ((f = object_field(obj, "outreach")) != NULL && f->type != jbvNull)
	{
		if (f->type != jbvBool)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"outreach\" must be a boolean")));
		item->outreach = f->val.boolean ? 1 : 0;
	}
	if ((f = object_field(obj, "region")) != NULL && f->type != jbvNull)
	{
		if (f->type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"region\" must be a string")));
		item->region = jsonb_string(f);
	}
}

static void
init_item(cdp_item *item, int position)
{
	memset(item, 0, sizeof(cdp_item));
	item->outreach = -1;
	item->position = position;
}

/*
 * Why the normaliser refused a value, for the identity_conflicts row of an
 * invalid value: the reason cdp_normalize would have raised.
 */
char *
cdp_invalid_reason(const cdp_norm_error *err, const char *region)
{
	const char *detail = err->detail[0] != '\0' ? err->detail : NULL;

	if (err->bad_region)
	{
		const char *r = cdp_region_or_default(region);

		return psprintf("invalid region code \"%s\"%s%s", r ? r : "",
						detail ? ": " : "", detail ? detail : "");
	}
	return psprintf("invalid %s%s%s", err->what, detail ? ": " : "", detail ? detail : "");
}

/*
 * Parse and normalise.  Items with the same kind and normalised value are
 * folded into the first one (keeping the strongest validation).  With
 * skip_invalid, a value the normaliser refuses is kept with value NULL and
 * the reason in invalid; otherwise it raises 22023.
 */
cdp_item *
cdp_parse_identifiers(Jsonb *input, const cdp_kinds *kinds,
					  const char *default_region, bool skip_invalid, int *nitems)
{
	JsonbContainer *root = &input->root;
	int			capacity = Max(JsonContainerSize(root), 1);
	cdp_item   *items = palloc(sizeof(cdp_item) * capacity);
	int			n = 0;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	if (JsonContainerIsScalar(root) ||
		(!JsonContainerIsObject(root) && !JsonContainerIsArray(root)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("identifiers must be a JSON object or array"),
				 errhint("Write {\"email\": \"jane@example.com\"} or [{\"kind\": \"email\", \"value\": \"jane@example.com\"}].")));

	it = JsonbIteratorInit(root);
	if (JsonContainerIsObject(root))
	{
		char	   *kind = NULL;

		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			if (tok == WJB_KEY)
				kind = jsonb_string(&v);
			else if (tok == WJB_VALUE)
			{
				if (n >= capacity)
					items = repalloc(items, sizeof(cdp_item) * (capacity *= 2));
				init_item(&items[n], n);
				items[n].kind = known_kind(kinds, kind);
				items[n].raw_value = identifier_value(&v, kind);
				n++;
			}
		}
	}
	else
	{
		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			if (tok != WJB_ELEM)
				continue;
			if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("each element of the identifiers array must be an object, not %s",
								jsonb_type_name(&v))));
			init_item(&items[n], n);
			parse_item_object(v.val.binary.data, kinds, &items[n]);
			n++;
		}
	}
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no identifiers given"),
				 errhint("A record needs at least one identifier to resolve.")));

	for (int i = 0; i < n; i++)
	{
		cdp_item   *item = &items[i];
		text	   *value;

		if (item->slug != NULL)
		{
			bool		allowed = false;

			for (int s = 0; s < item->kind->nslugs; s++)
				if (strcmp(item->kind->slugs[s], item->slug) == 0)
					allowed = true;
			if (!allowed)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("slug \"%s\" is not allowed for identifier kind \"%s\"",
								item->slug, item->kind->kind),
						 errhint("Allowed slugs are listed in cdp.identifier_kinds.slugs.")));
		}
		if (skip_invalid)
		{
			cdp_norm_error err;
			const char *region = item->region ? item->region : default_region;

			value = cdp_try_normalize(item->kind->normalizer, item->raw_value,
									  strlen(item->raw_value), region, &err);
			if (value == NULL)
			{
				item->invalid = cdp_invalid_reason(&err, region);
				continue;
			}
		}
		else
			value = cdp_normalize(item->kind->normalizer, item->raw_value,
								  strlen(item->raw_value),
								  item->region ? item->region : default_region,
								  ERRCODE_INVALID_PARAMETER_VALUE);
		item->value = text_to_cstring(value);
	}

	/* fold duplicates into their first occurrence */
	{
		int			kept = 0;

		for (int i = 0; i < n; i++)
		{
			int			j;

			for (j = 0; j < kept; j++)
				if (items[i].value != NULL && items[j].value != NULL &&
					items[j].kind == items[i].kind &&
					strcmp(items[j].value, items[i].value) == 0)
					break;
			if (j < kept)
			{
				if (items[i].validated && !items[j].validated)
				{
					items[j].validated = true;
					items[j].validation_method = items[i].validation_method;
					items[j].has_validated_at = items[i].has_validated_at;
					items[j].validated_at = items[i].validated_at;
				}
				continue;
			}
			if (kept != i)
				items[kept] = items[i];
			kept++;
		}
		n = kept;
	}
	*nitems = n;
	return items;
}
