/*
 * upsert_fmgr.c
 *	  Runs the upsert statement generated for a profile or document template
 *	  with a plan prepared once per backend and statement text (set_profile is hot).
 *
 * The statement text is generated from the catalog by SQL (catalog.sql); a
 * definition change generates a different text, so a plan is never reused for
 * another definition, and the plan cache replans a kept plan after DDL on its
 * table.  Plans are found by a 64-bit hash of the text and the text is compared too.
 */
#include "cdp.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(cdp_exec_upsert);

#define UPSERT_CACHE_MAX 1024

typedef struct UpsertPlan
{
	uint64		key;			/* hash of the statement text */
	char	   *sql;			/* the text, in TopMemoryContext */
	SPIPlanPtr	plan;
} UpsertPlan;

static HTAB *upsert_plans = NULL;

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

	plan = SPI_prepare_cursor(sql, 3, argtypes, CURSOR_OPT_GENERIC_PLAN);
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
 * cdp_internal.exec_upsert(sql text, key bigint, values jsonb, source text)
 * runs a generated upsert with $1 = key, $2 = values, $3 = source.
 */
Datum
cdp_exec_upsert(PG_FUNCTION_ARGS)
{
	text	   *sqltext;
	char	   *sql;
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	SPIPlanPtr	plan;
	int			rc;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("statement, key and values must not be null")));
	sqltext = PG_GETARG_TEXT_PP(0);
	sql = text_to_cstring(sqltext);
	args[0] = PG_GETARG_DATUM(1);
	args[1] = PG_GETARG_DATUM(2);
	if (PG_ARGISNULL(3))
	{
		args[2] = (Datum) 0;
		nulls[2] = 'n';
	}
	else
		args[2] = PG_GETARG_DATUM(3);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = plan_for(sql, strlen(sql));
	rc = SPI_execute_plan(plan, args, nulls, false, 0);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed for generated upsert: %s",
			 SPI_result_code_string(rc));
	SPI_finish();
	PG_RETURN_VOID();
}
