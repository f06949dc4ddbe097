/*
 * set_profile.c
 *	  cdp.set_profile, the hot path of profile writes: one lookup of the profile
 *	  and the contact, then the generated upsert (upsert_fmgr.c), without PL/pgSQL.
 *
 * The lookup reads the profile's generation (a new one from a sequence at
 * every rebuild of its data_tables row) and table, not its statement: the
 * statement, the attribute slugs and the messages are kept per backend and
 * profile, and read again when the generation or the table differ.
 *
 * The contact goes through the one contact lock (cdp_lock_contact): a merged
 * id leads to the survivor, and a merge that absorbs the contact while we
 * write either moves our row or makes us wait and write to the survivor.
 * Values that are not an object of known attributes are handed to
 * cdp_internal.write_values, which raises their error.
 */
#include "model/upsert.h"
#include "identity/identity.h"
#include "spi_plans.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(cdp_set_profile);

/* The profile's generation and table (no row: no profile). */
static cdp_query lookup = {
	"SELECT d.generation, d.data_table::oid, d.key_column = 'contact_id'"
	"  FROM cdp_internal.data_tables d"
	" WHERE d.owner_type = 'profile' AND d.slug = $1",
	1, {TEXTOID}
};

static cdp_query statement = {
	"SELECT d.generation, d.data_table::oid, d.upsert_sql, d.attribute_slugs, d.messages"
	"  FROM cdp_internal.data_tables d WHERE d.owner_type = 'profile' AND d.slug = $1",
	1, {TEXTOID}
};

static cdp_query write_values = {
	"SELECT cdp_internal.write_values('profile', $1, $2, $3, $4)",
	4, {TEXTOID, INT8OID, JSONBOID, TEXTOID}
};

/* A profile's statement as last read by this backend. */
typedef struct ProfileUpsert
{
	char		slug[NAMEDATALEN];	/* hash key; profile slugs are shorter */
	int64		generation;
	Oid			data_table;
	MemoryContext cxt;			/* holds upsert */
	CdpUpsert	upsert;
} ProfileUpsert;

static HTAB *profile_upserts = NULL;

/*
 * The upsert of profile slug at this generation and table: the kept one, or
 * read again (the rare path).
 */
static const CdpUpsert *
profile_upsert(const char *slug, int64 generation, Oid data_table)
{
	ProfileUpsert *entry;
	Datum		arg;
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;
	MemoryContext cxt;
	MemoryContext old;
	CdpUpsert	upsert;

	if (profile_upserts == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = sizeof(ProfileUpsert);
		profile_upserts = hash_create("cdp profile upserts", 16, &ctl, HASH_ELEM | HASH_STRINGS);
	}
	entry = hash_search(profile_upserts, slug, HASH_FIND, NULL);
	if (entry != NULL && entry->generation == generation && entry->data_table == data_table)
		return &entry->upsert;

	arg = CStringGetTextDatum(slug);
	cdp_execute(&statement, &arg, " ", false, 0);
	/* a drop_profile that committed since the lookup: it came first */
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("contact profile \"%s\" does not exist", slug)));
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	cxt = AllocSetContextCreate(CacheMemoryContext, "cdp profile upsert", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	cdp_upsert_init(&upsert, SPI_getbinval(row, desc, 3, &isnull),
					SPI_getbinval(row, desc, 4, &isnull),
					SPI_getbinval(row, desc, 5, &isnull));
	MemoryContextSwitchTo(old);

	if (entry == NULL)
		entry = hash_search(profile_upserts, slug, HASH_ENTER, NULL);
	else
		MemoryContextDelete(entry->cxt);
	/* the generation read with the statement: it may be newer than the lookup's */
	entry->generation = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
	entry->data_table = DatumGetObjectId(SPI_getbinval(row, desc, 2, &isnull));
	entry->cxt = cxt;
	entry->upsert = upsert;
	return &entry->upsert;
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
	int64		generation;
	Oid			data_table;
	int64		key;
	char	   *slug;
	const CdpUpsert *upsert;
	Jsonb	   *values = PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2);
	text	   *source = PG_ARGISNULL(3) ? NULL : PG_GETARG_TEXT_PP(3);

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("profile slug must not be null")));
	if (values == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("values must not be null"),
				 errhint("Pass '{}' to change nothing, or a JSON null for an attribute to clear it.")));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	args[0] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	nulls[0] = PG_ARGISNULL(1) ? 'n' : ' ';
	cdp_execute(&lookup, args, nulls, false, 0);
	slug = PG_ARGISNULL(1) ? "<NULL>" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (SPI_processed != 1 ||
		!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("contact profile \"%s\" does not exist", slug)));
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	generation = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
	data_table = DatumGetObjectId(SPI_getbinval(row, desc, 2, &isnull));

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("contact id must not be null")));
	key = cdp_lock_contact(PG_GETARG_INT64(0), CDP_LOCK_CHILD_ROWS);

	upsert = profile_upsert(slug, generation, data_table);
	if (values == NULL || !known_attributes(values, upsert))
	{
		/* raises the error about the values */
		args[0] = PG_GETARG_DATUM(1);
		args[1] = Int64GetDatum(key);
		args[2] = values ? JsonbPGetDatum(values) : (Datum) 0;
		args[3] = PointerGetDatum(source);
		nulls[0] = nulls[1] = ' ';
		nulls[2] = values ? ' ' : 'n';
		nulls[3] = source ? ' ' : 'n';
		cdp_execute(&write_values, args, nulls, false, 0);
	}
	else
		cdp_upsert_run(upsert, key, values, source);

	SPI_finish();
	PG_RETURN_VOID();
}
