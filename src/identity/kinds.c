/*
 * kinds.c
 *	  Reads cdp.identifier_kinds for one resolution and answers the questions
 *	  the merge rules ask of a kind: which normaliser, and is a value blocked.
 */
#include "identity/identity.h"

#include "catalog/pg_collation.h"
#include "utils/array.h"
#include "utils/builtins.h"

static cdp_query load_kinds_query = {
	"SELECT kind, normalizer, priority, max_per_contact, matchable,"
	"       blocked_values, blocked_patterns, slugs"
	"  FROM cdp.identifier_kinds ORDER BY priority, kind", 0
};

static char **
text_array_values(HeapTuple tuple, TupleDesc desc, int column, int *n)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, column, &isnull);
	Datum	   *elems;
	bool	   *nulls;
	char	  **out;
	int			count = 0;

	*n = 0;
	if (isnull)
		return NULL;
	deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, n);
	out = palloc(sizeof(char *) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
		if (!nulls[i])
			out[count++] = TextDatumGetCString(elems[i]);
	*n = count;
	return out;
}

cdp_kinds *
cdp_load_kinds(void)
{
	cdp_kinds  *kinds = palloc(sizeof(cdp_kinds));
	TupleDesc	desc;

	cdp_execute(&load_kinds_query, NULL, NULL, true, 0);
	desc = SPI_tuptable->tupdesc;
	kinds->nkinds = SPI_processed;
	kinds->kinds = palloc0(sizeof(cdp_kind) * Max(kinds->nkinds, 1));
	for (int i = 0; i < kinds->nkinds; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		cdp_kind   *k = &kinds->kinds[i];
		bool		isnull;
		Datum		d;
		char	   *normalizer;

		k->kind = SPI_getvalue(tuple, desc, 1);
		normalizer = SPI_getvalue(tuple, desc, 2);
		if (!cdp_normalizer_from_name(normalizer, &k->normalizer))
			elog(ERROR, "identifier kind \"%s\" has unknown normalizer \"%s\"",
				 k->kind, normalizer);
		k->priority = DatumGetInt32(SPI_getbinval(tuple, desc, 3, &isnull));
		d = SPI_getbinval(tuple, desc, 4, &isnull);
		k->max_per_contact = isnull ? 0 : DatumGetInt32(d);
		k->matchable = DatumGetBool(SPI_getbinval(tuple, desc, 5, &isnull));
		k->blocked_values = text_array_values(tuple, desc, 6, &k->nblocked_values);
		k->blocked_patterns = text_array_values(tuple, desc, 7, &k->nblocked_patterns);
		k->slugs = text_array_values(tuple, desc, 8, &k->nslugs);
	}
	return kinds;
}

const cdp_kind *
cdp_find_kind(const cdp_kinds *kinds, const char *kind)
{
	for (int i = 0; i < kinds->nkinds; i++)
		if (strcmp(kinds->kinds[i].kind, kind) == 0)
			return &kinds->kinds[i];
	return NULL;
}

/* Blocked values match exactly; blocked patterns with LIKE (C collation). */
bool
cdp_value_blocked(const cdp_kind *kind, const char *value)
{
	for (int i = 0; i < kind->nblocked_values; i++)
		if (strcmp(kind->blocked_values[i], value) == 0)
			return true;
	if (kind->nblocked_patterns > 0)
	{
		Datum		v = CStringGetTextDatum(value);

		for (int i = 0; i < kind->nblocked_patterns; i++)
		{
			Datum		p = CStringGetTextDatum(kind->blocked_patterns[i]);

			if (DatumGetBool(DirectFunctionCall2Coll(textlike, C_COLLATION_OID, v, p)))
				return true;
		}
	}
	return false;
}
