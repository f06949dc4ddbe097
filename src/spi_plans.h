/*
 * spi_plans.h
 *	  Statements run through SPI with a plan prepared once per backend, and
 *	  the array parameters they take; shared by identity and model code.
 */
#ifndef CDP_SPI_PLANS_H
#define CDP_SPI_PLANS_H

#include "postgres.h"

#include "executor/spi.h"

typedef struct cdp_query
{
	const char *sql;
	int			nargs;
	Oid			argtypes[12];
	/*
	 * CURSOR_OPT_GENERIC_PLAN for statements whose plan is an index probe on
	 * a unique key whatever the values: planning them per call costs more
	 * than running them.  Others (arrays of ids) keep the plan cache's choice.
	 */
	int			cursor_options;
	SPIPlanPtr	plan;

	/*
	 * The statement on a distributed cdp (cdp.distribute), when it must be
	 * another there.  There a statement is planned per call (Citus plans a
	 * statement over many shards with its parameters' values) unless
	 * citus_generic says that it reads or writes one shard, found by its
	 * distribution column, which Citus routes when a generic plan runs.
	 */
	const char *citus_sql;
	bool		citus_generic;	/* on Citus too: a probe of one shard */
	bool		planned_for_citus;
} cdp_query;

extern int	cdp_execute(cdp_query *query, Datum *values, const char *nulls,
						bool read_only, long count);
extern int64 cdp_execute_int8(cdp_query *query, Datum *values, const char *nulls);
extern Datum cdp_text_array(char **values, int n);
extern Datum cdp_int8_array(int64 *values, int n);
extern int	cdp_compare_int64(const void *a, const void *b);

#endif
