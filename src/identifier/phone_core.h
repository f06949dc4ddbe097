/*
 * phone_core.h
 *	  Checks a raw phone string and hands it to the libphonenumber shim; free
 *	  of PostgreSQL so it can be fuzzed alone.
 */
#ifndef CDP_PHONE_CORE_H
#define CDP_PHONE_CORE_H

#include "phone_shim.h"

#define CDP_PHONE_INPUT_MAX 100

/*
 * Parse len bytes of input with an optional ISO 3166 alpha-2 default region
 * (any case, NULL for none).  On failure returns the status and leaves one
 * English sentence in detail (CDP_PHONE_DETAIL_MAX bytes).  Numbers that
 * parse but are not valid come back as CDP_PHONE_OK with out->valid false.
 */
extern cdp_phone_status cdp_phone_parse(const char *input, size_t len,
										const char *region, bool details,
										cdp_phone_number *out, char *detail);

/* Upper-case a region code into buf[3]; false if it is not two letters. */
extern bool cdp_phone_region_code(const char *region, char *buf);

#endif
