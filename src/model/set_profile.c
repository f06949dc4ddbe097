/*
 * set_profile.c
 *	  cdp.set_profile, the hot path of profile writes: one lookup of the profile
 *	  and the contact, then the generated upsert (upsert_fmgr.c), without PL/pgSQL.
 *
 * Rare paths stay in SQL: a merged contact is followed by
 * cdp_internal.live_contact, and values that are not an object of known
 * attributes are handed to cdp_internal.write_values, which raises their error.
 */
#include "model/upsert.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(cdp_set_profile);

typedef struct SavedPlan
{
	const char *sql;
	int			nargs;
	Oid			argtypes[4];
	SPIPlanPtr	plan;
} SavedPlan;

/* The profile's data_tables row and the contact, in one row (always one). */
static SavedPlan lookup = {
	"SELECT d.key_column, d.attribute_slugs, d.upsert_sql, d.messages, c.id, c.merged_into"
	"  FROM (SELECT) AS one"
	"  LEFT JOIN cdp_internal.data_tables d ON d.owner_type = 'profile' AND d.slug = $1"
	"  LEFT JOIN cdp.contacts c ON c.id = $2",
	2, {TEXTOID, INT8OID}, NULL
};

static SavedPlan live_contact = {
	"SELECT cdp_internal.live_contact($1)", 1, {INT8OID}, NULL
};

static SavedPlan write_values = {
	"SELECT cdp_internal.write_values('profile', $1, $2, $3, $4)",
	4, {TEXTOID, INT8OID, JSONBOID, TEXTOID}, NULL
};

static void
execute(SavedPlan *saved, Datum *args, const char *nulls)
{
	int			rc;

	if (saved->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(saved->sql, saved->nargs, saved->argtypes);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 saved->sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		saved->plan = plan;
	}
	rc = SPI_execute_plan(saved->plan, args, nulls, false, 0);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed for \"%s\": %s",
			 saved->sql, SPI_result_code_string(rc));
}

/* Every key of values is an attribute slug (values is an object). */
static bool
known_attributes(Jsonb *values, const CdpUpsert *upsert)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken token;

	if (!JB_ROOT_IS_OBJECT(values))
		return false;
	it = JsonbIteratorInit(&values->root);
	while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		bool		found = false;

		if (token != WJB_KEY)
			continue;
		for (int i = 0; i < upsert->nslugs && !found; i++)
		{
			text	   *slug = DatumGetTextPP(upsert->slugs[i]);

			found = VARSIZE_ANY_EXHDR(slug) == v.val.string.len &&
				memcmp(VARDATA_ANY(slug), v.val.string.val, v.val.string.len) == 0;
		}
		if (!found)
			return false;
	}
	return true;
}

/*
 * cdp.set_profile(contact_id bigint, slug text, values jsonb, source text)
 * upserts a contact's profile values.
 */
Datum
cdp_set_profile(PG_FUNCTION_ARGS)
{
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;
	Datum		d;
	int64		key;
	CdpUpsert	upsert;
	Jsonb	   *values = PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2);
	text	   *source = PG_ARGISNULL(3) ? NULL : PG_GETARG_TEXT_PP(3);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	args[0] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	nulls[0] = PG_ARGISNULL(1) ? 'n' : ' ';
	args[1] = PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0);
	nulls[1] = PG_ARGISNULL(0) ? 'n' : ' ';
	execute(&lookup, args, nulls);
	if (SPI_processed != 1)
		elog(ERROR, "profile lookup returned " UINT64_FORMAT " rows", (uint64) SPI_processed);
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;

	d = SPI_getbinval(row, desc, 1, &isnull);
	if (isnull || strcmp(TextDatumGetCString(d), "contact_id") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("contact profile \"%s\" does not exist",
						PG_ARGISNULL(1) ? "<NULL>" : text_to_cstring(PG_GETARG_TEXT_PP(1)))));

	d = SPI_getbinval(row, desc, 5, &isnull);
	if (isnull)
	{
		if (PG_ARGISNULL(0))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("contact %s does not exist", "<NULL>")));
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("contact " INT64_FORMAT " does not exist", PG_GETARG_INT64(0))));
	}
	key = DatumGetInt64(d);
	d = SPI_getbinval(row, desc, 6, &isnull);
	if (!isnull)
	{
		args[0] = d;
		execute(&live_contact, args, " ");
		key = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}

	cdp_upsert_init(&upsert, SPI_getbinval(row, desc, 3, &isnull),
					SPI_getbinval(row, desc, 2, &isnull),
					SPI_getbinval(row, desc, 4, &isnull));
	if (values == NULL || !known_attributes(values, &upsert))
	{
		/* raises the error about the values */
		args[0] = PG_GETARG_DATUM(1);
		args[1] = Int64GetDatum(key);
		args[2] = values ? JsonbPGetDatum(values) : (Datum) 0;
		args[3] = PointerGetDatum(source);
		nulls[0] = nulls[1] = ' ';
		nulls[2] = values ? ' ' : 'n';
		nulls[3] = source ? ' ' : 'n';
		execute(&write_values, args, nulls);
	}
	else
		cdp_upsert_run(&upsert, key, values, source);

	SPI_finish();
	PG_RETURN_VOID();
}
