/*
 * upsert_fmgr.c
 *	  Runs the upsert statement generated for a profile or document template
 *	  with a plan prepared once per backend and statement text (set_profile is
 *	  hot), and turns its conversion and constraint errors into messages that
 *	  name the owner, the attribute and the value.
 *
 * The statement text is generated from the catalog by SQL (catalog.sql); a
 * definition change generates a different text, so a plan is never reused for
 * another definition, and the plan cache replans a kept plan after DDL on its
 * table.  Plans are found by a 64-bit hash of the text and the text is compared too.
 *
 * Errors are explained without a subtransaction: the statement runs inside
 * PG_TRY, and PG_CATCH only reads memory (the values, the attribute slugs and
 * the "messages" object that rebuild_data_table stores next to the statement)
 * before raising the error again; the transaction aborts as usual.  Which
 * attribute a conversion error belongs to is told by the generated statement
 * itself: it wraps the conversion of attribute k in
 * converted(CASE WHEN converting(k) THEN ... END), which set and clear
 * converting_attribute around it.
 */
#include "citus/citus.h"
#include "model/upsert.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(cdp_exec_upsert);
PG_FUNCTION_INFO_V1(cdp_converting);
PG_FUNCTION_INFO_V1(cdp_converted);

#define UPSERT_CACHE_MAX 1024

typedef struct UpsertPlan
{
	uint64		key;			/* hash of the statement text */
	char	   *sql;			/* the text, in TopMemoryContext */
	SPIPlanPtr	plan;
} UpsertPlan;

static HTAB *upsert_plans = NULL;

/* The 1-based attribute whose value the running upsert converts; 0: none. */
static int	converting_attribute = 0;

static void explain_error(ErrorData *e, const CdpUpsert *upsert, Jsonb *values,
						  int attribute) pg_attribute_noreturn();

static void
reset_cache(void)
{
	HASH_SEQ_STATUS status;
	UpsertPlan *entry;

	hash_seq_init(&status, upsert_plans);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		SPI_freeplan(entry->plan);
		pfree(entry->sql);
		hash_search(upsert_plans, &entry->key, HASH_REMOVE, NULL);
	}
}

static SPIPlanPtr
plan_for(const char *sql, size_t len)
{
	static Oid	argtypes[3] = {INT8OID, JSONBOID, TEXTOID};
	uint64		key;
	UpsertPlan *entry;
	bool		found;
	SPIPlanPtr	plan;

	if (upsert_plans == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(key);
		ctl.entrysize = sizeof(UpsertPlan);
		upsert_plans = hash_create("cdp upsert plans", 64, &ctl, HASH_ELEM | HASH_BLOBS);
	}
	key = DatumGetUInt64(hash_any_extended((const unsigned char *) sql, (int) len, 0));
	entry = hash_search(upsert_plans, &key, HASH_FIND, NULL);
	if (entry != NULL && strcmp(entry->sql, sql) == 0)
		return entry->plan;

	/* Citus plans a statement over its tables with the parameters' values */
	plan = SPI_prepare_cursor(sql, 3, argtypes,
							  cdp_citus_mode() ? CURSOR_OPT_CUSTOM_PLAN : CURSOR_OPT_GENERIC_PLAN);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for generated upsert: %s",
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");

	if (entry == NULL && hash_get_num_entries(upsert_plans) >= UPSERT_CACHE_MAX)
		reset_cache();
	entry = hash_search(upsert_plans, &key, HASH_ENTER, &found);
	if (found)
	{
		/* a hash collision: the newer statement takes the slot */
		SPI_freeplan(entry->plan);
		pfree(entry->sql);
	}
	entry->sql = MemoryContextStrdup(TopMemoryContext, sql);
	entry->plan = plan;
	return plan;
}

/*
 * cdp_internal.converting(attribute integer): the generated upsert is about to
 * convert the value of that attribute (1-based position in attribute_slugs).
 */
Datum
cdp_converting(PG_FUNCTION_ARGS)
{
	converting_attribute = PG_GETARG_INT32(0);
	PG_RETURN_BOOL(true);
}

/* cdp_internal.converted(value anyelement): the conversion ended; the value. */
Datum
cdp_converted(PG_FUNCTION_ARGS)
{
	converting_attribute = 0;
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}

/* The member key of a JSON object, or NULL. */
static JsonbValue *
member(JsonbContainer *object, const char *key)
{
	JsonbValue	k;

	if (object == NULL || !JsonContainerIsObject(object))
		return NULL;
	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	return findJsonbValueFromContainer(object, JB_FOBJECT, &k);
}

/* A JSON value as jsonb_out prints it; "<NULL>" (as RAISE prints NULL) if absent. */
static char *
json_text(JsonbValue *value)
{
	Jsonb	   *jb;

	if (value == NULL)
		return "<NULL>";
	jb = JsonbValueToJsonb(value);
	return JsonbToCString(NULL, &jb->root, VARSIZE(jb));
}

/* A string member of a JSON object, or NULL. */
static char *
string_member(JsonbContainer *object, const char *key)
{
	JsonbValue *v = member(object, key);

	if (v == NULL || v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* An object member of a JSON object, or NULL. */
static JsonbContainer *
object_member(JsonbContainer *object, const char *key)
{
	JsonbValue *v = member(object, key);

	if (v == NULL || v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		return NULL;
	return v->val.binary.data;
}

static bool
is_attribute(const CdpUpsert *upsert, const char *name)
{
	size_t		len = strlen(name);

	for (int i = 0; i < upsert->nslugs; i++)
	{
		text	   *slug = DatumGetTextPP(upsert->slugs[i]);

		if (VARSIZE_ANY_EXHDR(slug) == len && memcmp(VARDATA_ANY(slug), name, len) == 0)
			return true;
	}
	return false;
}

/* The table fields of the original error, kept on the explained one. */
static int
error_fields(ErrorData *e)
{
	if (e->schema_name)
		err_generic_string(PG_DIAG_SCHEMA_NAME, e->schema_name);
	if (e->table_name)
		err_generic_string(PG_DIAG_TABLE_NAME, e->table_name);
	if (e->column_name)
		err_generic_string(PG_DIAG_COLUMN_NAME, e->column_name);
	if (e->constraint_name)
		err_generic_string(PG_DIAG_CONSTRAINT_NAME, e->constraint_name);
	return 0;
}

/*
 * Raise the error e of a failed upsert again, naming the owner, the attribute
 * and the value when the error is one of a required attribute, of a named
 * CHECK constraint, or of the conversion of an attribute's value; otherwise
 * unchanged.  The error state is flushed; only memory is read here.
 */
static void
explain_error(ErrorData *e, const CdpUpsert *upsert, Jsonb *values,
			  int attribute)
{
	char	   *label = string_member(&upsert->messages->root, "label");

	if (label == NULL || e->message == NULL)
		ReThrowError(e);

	if (e->sqlerrcode == ERRCODE_NOT_NULL_VIOLATION && e->column_name != NULL &&
		is_attribute(upsert, e->column_name))
	{
		JsonbValue *given = member(&values->root, e->column_name);

		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("attribute \"%s\" of %s is required", e->column_name, label),
				 errdetail("Value given: %s.", given ? json_text(given) : "none"),
				 error_fields(e)));
	}

	if (e->sqlerrcode == ERRCODE_CHECK_VIOLATION && e->constraint_name != NULL)
	{
		JsonbContainer *constraints = object_member(&upsert->messages->root, "constraints");
		JsonbContainer *check = object_member(constraints, e->constraint_name);
		char	   *slug = string_member(check, "attribute");
		char	   *validation = string_member(check, "validation");
		char	   *detail = string_member(check, "detail");

		if (slug != NULL && detail != NULL && validation != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("value of attribute \"%s\" of %s fails validation \"%s\": %s",
							slug, label, validation, json_text(member(&values->root, slug))),
					 errdetail_internal("%s", detail),
					 error_fields(e)));
		if (slug != NULL && detail != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("invalid value for attribute \"%s\" of %s: %s",
							slug, label, json_text(member(&values->root, slug))),
					 errdetail_internal("%s", detail),
					 error_fields(e)));
	}

	if ((ERRCODE_TO_CATEGORY(e->sqlerrcode) == ERRCODE_DATA_EXCEPTION ||
		 e->sqlerrcode == ERRCODE_DATATYPE_MISMATCH) &&
		attribute >= 1 && attribute <= upsert->nslugs)
	{
		char	   *slug = TextDatumGetCString(upsert->slugs[attribute - 1]);
		JsonbValue *value = member(&values->root, slug);

		if (value == NULL)
			ReThrowError(e);
		/* wrong_json_type has named the attribute already */
		if (e->sqlerrcode == ERRCODE_INVALID_TEXT_REPRESENTATION &&
			strncmp(e->message, "invalid value for attribute ", 28) == 0)
			ereport(ERROR,
					(errcode(e->sqlerrcode),
					 errmsg_internal("%s", e->message),
					 e->detail ? errdetail_internal("%s", e->detail) : 0));
		ereport(ERROR,
				(errcode(ERRCODE_TO_CATEGORY(e->sqlerrcode) == ERRCODE_DATA_EXCEPTION ?
						 ERRCODE_INVALID_TEXT_REPRESENTATION : e->sqlerrcode),
				 errmsg("invalid value for attribute \"%s\" of %s: %s",
						slug, label, json_text(value)),
				 errdetail_internal("%c%s.", pg_toupper((unsigned char) e->message[0]),
									e->message[0] ? e->message + 1 : "")));
	}
	ReThrowError(e);
}

void
cdp_upsert_init(CdpUpsert *upsert, Datum sql, Datum slugs, Datum messages)
{
	bool	   *nulls;

	upsert->sql = TextDatumGetCString(sql);
	deconstruct_array(DatumGetArrayTypePCopy(slugs), TEXTOID, -1, false, TYPALIGN_INT,
					  &upsert->slugs, &nulls, &upsert->nslugs);
	for (int i = 0; i < upsert->nslugs; i++)
		if (nulls[i])
			elog(ERROR, "attribute_slugs of a data table holds a null");
	upsert->messages = DatumGetJsonbPCopy(messages);
}

/*
 * On Citus the values go into the statement as a literal: Citus sends the
 * ON CONFLICT clause to the shard with its parameters unbound (only the
 * SELECT is evaluated on the coordinator), and the clause reads $2.
 */
static int
execute_on_citus(const char *sql, Datum *args, const char *nulls)
{
	static Oid	argtypes[3] = {INT8OID, JSONBOID, TEXTOID};
	char	   *json = JsonbToCString(NULL, &DatumGetJsonbP(args[1])->root, VARSIZE(DatumGetJsonbP(args[1])));
	char	   *literal = psprintf("%s::jsonb", quote_literal_cstr(json));
	StringInfoData text;
	const char *p = sql;
	const char *hit;

	/* rebuild_data_table writes every use of $2 as $2::jsonb on Citus */
	initStringInfo(&text);
	while ((hit = strstr(p, "$2::jsonb")) != NULL)
	{
		appendBinaryStringInfo(&text, p, hit - p);
		appendStringInfoString(&text, literal);
		p = hit + strlen("$2::jsonb");
	}
	appendStringInfoString(&text, p);
	return SPI_execute_with_args(text.data, 3, argtypes, args, nulls, false, 0);
}

/* Run the statement with its kept plan (out of line: PG_TRY is around it). */
static pg_noinline void
execute(const char *sql, Datum *args, const char *nulls)
{
	int			rc = cdp_citus_mode() ? execute_on_citus(sql, args, nulls)
		: SPI_execute_plan(plan_for(sql, strlen(sql)), args, nulls, false, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed for generated upsert: %s",
			 SPI_result_code_string(rc));
}

void
cdp_upsert_run(const CdpUpsert *upsert, int64 key, Jsonb *values, text *source)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			outer_attribute = converting_attribute;
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};

	args[0] = Int64GetDatum(key);
	args[1] = JsonbPGetDatum(values);
	args[2] = PointerGetDatum(source);
	if (source == NULL)
		nulls[2] = 'n';

	converting_attribute = 0;
	PG_TRY();
	{
		execute(upsert->sql, args, nulls);
	}
	PG_CATCH();
	{
		int			attribute = converting_attribute;
		ErrorData  *e;

		converting_attribute = outer_attribute;
		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		FlushErrorState();
		explain_error(e, upsert, values, attribute);
	}
	PG_END_TRY();
	converting_attribute = outer_attribute;
}

/*
 * cdp_internal.exec_upsert(sql text, key bigint, values jsonb, source text,
 * attribute_slugs text[], messages jsonb) runs a generated upsert with $1 = key,
 * $2 = values, $3 = source and explains its errors.
 */
Datum
cdp_exec_upsert(PG_FUNCTION_ARGS)
{
	CdpUpsert	upsert;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) ||
		PG_ARGISNULL(4) || PG_ARGISNULL(5))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("statement, key, values, attribute slugs and messages must not be null")));
	cdp_upsert_init(&upsert, PG_GETARG_DATUM(0), PG_GETARG_DATUM(4), PG_GETARG_DATUM(5));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	cdp_upsert_run(&upsert, PG_GETARG_INT64(1), PG_GETARG_JSONB_P(2),
				   PG_ARGISNULL(3) ? NULL : PG_GETARG_TEXT_PP(3));
	SPI_finish();
	PG_RETURN_VOID();
}
