/*
 * ident_core.h
 *	  The small normalisers (uuid, oauth) beside email and phone; free of
 *	  PostgreSQL so they can be fuzzed alone.
 */
#ifndef CDP_IDENT_CORE_H
#define CDP_IDENT_CORE_H

#include <stdbool.h>
#include <stddef.h>

#define CDP_IDENT_DETAIL_MAX 200
#define CDP_IDENT_VALUE_MAX 2048	/* bytes, for any identifier value */

/* Canonical lower-case 8-4-4-4-12 form into out[37]; nil UUID refused. */
extern bool cdp_uuid_normalize(const char *input, size_t len, char *out, char *detail);

/*
 * "issuer|subject": issuer trimmed and lower-cased, subject kept exactly.
 * out needs len + 1 bytes; *outlen gets the result length.
 */
extern bool cdp_oauth_normalize(const char *input, size_t len, char *out,
								size_t *outlen, char *detail);

#endif
