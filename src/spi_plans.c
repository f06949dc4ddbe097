/*
 * spi_plans.c
 *	  Statements run through SPI with plans prepared once per backend and
 *	  kept; the plan cache replans them after DDL.
 */
#include "spi_plans.h"
#include "citus/citus.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"

int
cdp_execute(cdp_query *query, Datum *values, const char *nulls,
			bool read_only, long count)
{
	int			rc;
	bool		citus = cdp_citus_mode();
	const char *sql = (citus && query->citus_sql != NULL) ? query->citus_sql : query->sql;

	/* cdp.distribute ran since the plan was made */
	if (query->plan != NULL && query->planned_for_citus != citus)
	{
		SPI_freeplan(query->plan);
		query->plan = NULL;
	}
	if (query->plan == NULL)
	{
		int			options = query->cursor_options;
		SPIPlanPtr	plan;

		if (citus)
			options = (options & ~(CURSOR_OPT_GENERIC_PLAN | CURSOR_OPT_CUSTOM_PLAN)) |
				(query->citus_generic ? CURSOR_OPT_GENERIC_PLAN : CURSOR_OPT_CUSTOM_PLAN);
		plan = SPI_prepare_cursor(sql, query->nargs, query->argtypes, options);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		query->plan = plan;
		query->planned_for_citus = citus;
	}
	rc = SPI_execute_plan(query->plan, values, nulls, read_only, count);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed for \"%s\": %s",
			 sql, SPI_result_code_string(rc));
	return rc;
}

/* First column of the first row as int8; 0 when there is no row or it is NULL. */
int64
cdp_execute_int8(cdp_query *query, Datum *values, const char *nulls)
{
	bool		isnull;
	Datum		d;

	cdp_execute(query, values, nulls, false, 1);
	if (SPI_processed == 0)
		return 0;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetInt64(d);
}

Datum
cdp_text_array(char **values, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(n, 1));
	int			dims[1] = {n};
	int			lbs[1] = {1};

	for (int i = 0; i < n; i++)
	{
		nulls[i] = (values[i] == NULL);
		elems[i] = nulls[i] ? (Datum) 0 : CStringGetTextDatum(values[i]);
	}
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs,
											  TEXTOID, -1, false, TYPALIGN_INT));
}

Datum
cdp_int8_array(int64 *values, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		elems[i] = Int64GetDatum(values[i]);
	return PointerGetDatum(construct_array(elems, n, INT8OID, 8, true, TYPALIGN_DOUBLE));
}

/* qsort comparator for int64, ascending. */
int
cdp_compare_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}
