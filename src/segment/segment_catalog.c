/*
 * segment_catalog.c
 *	  The catalog lookups of the segment compiler, each one saved statement
 *	  calling a cdp_internal function of segments.sql that names what is unknown.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "segment/segment_compile.h"
#include "spi_plans.h"

static cdp_query attribute_query = {
	"SELECT object_type, data_table, key_column, data_type, is_array"
	"  FROM cdp_internal.segment_attribute($1, $2, $3)",
	3, {TEXTOID, TEXTOID, TEXTOID}
};
static cdp_query profile_type_query = {
	"SELECT cdp_internal.segment_profile_type($1)", 1, {TEXTOID}
};
static cdp_query tag_ids_query = {
	"SELECT cdp_internal.segment_tag_ids($1, $2)::text", 2, {TEXTOID, BOOLOID}
};
static cdp_query term_ids_query = {
	"SELECT cdp_internal.segment_term_ids($1, $2, $3, $4)::text", 4, {TEXTOID, TEXTOID, BOOLOID, TEXTOID}
};
static cdp_query organization_ids_query = {
	"SELECT cdp_internal.segment_organization_ids($1)::text", 1, {TEXTOID}
};
static cdp_query check_kind_query = {
	"SELECT cdp_internal.segment_check_kind($1)", 1, {TEXTOID}
};
static cdp_query definition_query = {
	"SELECT cdp_internal.segment_definition($1)", 1, {TEXTOID}
};

static Datum
text_arg(const char *s)
{
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/* The first column of the only row, as text (NULL when NULL). */
static char *
first_text(cdp_query *query, Datum *values, const char *nulls)
{
	cdp_execute(query, values, nulls, true, 1);
	if (SPI_processed != 1)
		elog(ERROR, "segment catalog lookup returned %lu rows", (unsigned long) SPI_processed);
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/*
 * Attributes already looked up by this compilation: one compilation asks for
 * the same attribute several times (its owner, its condition, its detail).
 * The list lives in the SPI context of the compilation, which
 * seg_compiler_init starts afresh.
 */
typedef struct CachedAttribute
{
	char	   *owner_type;
	char	   *owner_slug;
	char	   *attribute;		/* "" for the owner alone */
	SegAttribute result;
} CachedAttribute;

static List *attribute_cache = NIL;

void
seg_catalog_reset(void)
{
	attribute_cache = NIL;
}

static void lookup_attribute(const char *owner_type, const char *owner_slug,
							 const char *attribute, SegAttribute *result);

void
seg_lookup_attribute(const char *owner_type, const char *owner_slug,
					 const char *attribute, SegAttribute *result)
{
	const char *key = attribute ? attribute : "";
	CachedAttribute *c;
	ListCell   *lc;

	foreach(lc, attribute_cache)
	{
		c = lfirst(lc);
		if (strcmp(c->owner_type, owner_type) == 0 && strcmp(c->owner_slug, owner_slug) == 0 &&
			strcmp(c->attribute, key) == 0)
		{
			*result = c->result;
			return;
		}
	}
	c = palloc(sizeof(CachedAttribute));
	c->owner_type = pstrdup(owner_type);
	c->owner_slug = pstrdup(owner_slug);
	c->attribute = pstrdup(key);
	lookup_attribute(owner_type, owner_slug, attribute, &c->result);
	attribute_cache = lappend(attribute_cache, c);
	*result = c->result;
}

static void
lookup_attribute(const char *owner_type, const char *owner_slug,
				 const char *attribute, SegAttribute *result)
{
	Datum		values[3] = {text_arg(owner_type), text_arg(owner_slug), text_arg(attribute)};
	char		nulls[3] = {' ', ' ', attribute ? ' ' : 'n'};
	HeapTuple	row;
	TupleDesc	desc;
	char	   *is_array;

	cdp_execute(&attribute_query, values, nulls, true, 1);
	if (SPI_processed != 1)
		elog(ERROR, "segment attribute lookup returned %lu rows", (unsigned long) SPI_processed);
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	result->object_type = SPI_getvalue(row, desc, 1);
	result->data_table = SPI_getvalue(row, desc, 2);
	result->key_column = SPI_getvalue(row, desc, 3);
	result->data_type = SPI_getvalue(row, desc, 4);
	is_array = SPI_getvalue(row, desc, 5);
	result->is_array = is_array != NULL && is_array[0] == 't';
}

char *
seg_profile_type(const char *slug)
{
	Datum		values[1] = {text_arg(slug)};

	return first_text(&profile_type_query, values, NULL);
}

char *
seg_tag_ids(const char *path, bool under)
{
	Datum		values[2] = {text_arg(path), BoolGetDatum(under)};

	return first_text(&tag_ids_query, values, NULL);
}

char *
seg_term_ids(const char *taxonomy, const char *path, bool under, const char *object_type)
{
	Datum		values[4] = {text_arg(taxonomy), text_arg(path), BoolGetDatum(under),
	text_arg(object_type)};

	return first_text(&term_ids_query, values, NULL);
}

char *
seg_organization_ids(const char *slug)
{
	Datum		values[1] = {text_arg(slug)};

	return first_text(&organization_ids_query, values, NULL);
}

void
seg_check_kind(const char *kind)
{
	Datum		values[1] = {text_arg(kind)};

	cdp_execute(&check_kind_query, values, NULL, true, 1);
}

/* The definition datum, copied out of SPI's tuple table into the current context. */
Datum
seg_saved_definition(const char *slug)
{
	Datum		values[1] = {text_arg(slug)};
	bool		isnull;
	Datum		d;

	cdp_execute(&definition_query, values, NULL, true, 1);
	if (SPI_processed != 1)
		elog(ERROR, "segment definition lookup returned %lu rows", (unsigned long) SPI_processed);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		elog(ERROR, "segment \"%s\" has no definition", slug);
	return PointerGetDatum(PG_DETOAST_DATUM_COPY(d));
}
