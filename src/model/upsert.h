/*
 * upsert.h
 *	  The generated upsert of a profile or document template, run with a kept
 *	  plan and errors that name the owner, the attribute and the value.
 */
#ifndef CDP_MODEL_UPSERT_H
#define CDP_MODEL_UPSERT_H

#include "cdp.h"

#include "utils/jsonb.h"

/*
 * What running an upsert needs from its row of cdp_internal.data_tables, all
 * detoasted before the statement runs: its errors are explained from memory.
 */
typedef struct CdpUpsert
{
	const char *sql;			/* upsert_sql: $1 key, $2 values, $3 source */
	Datum	   *slugs;			/* attribute_slugs (text), in position order */
	int			nslugs;
	Jsonb	   *messages;		/* messages: label and CHECK constraints */
} CdpUpsert;

/* Fill a CdpUpsert from the columns of a data_tables row, copied into
 * CurrentMemoryContext (detoasted). */
extern void cdp_upsert_init(CdpUpsert *upsert, Datum sql, Datum slugs,
							Datum messages);

/*
 * Run the upsert ($1 key, $2 values, $3 source or NULL).  The caller is
 * connected to SPI.  Conversion and constraint errors are raised again in
 * words of the catalog, without a subtransaction.
 */
extern void cdp_upsert_run(const CdpUpsert *upsert, int64 key, Jsonb *values,
						   text *source);

#endif
