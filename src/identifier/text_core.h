/*
 * text_core.h
 *	  UTF-8 helpers shared by the identifier normalisers: trimming, validation
 *	  and Unicode NFC.  Free of PostgreSQL so the normalisers can be fuzzed alone.
 */
#ifndef CDP_TEXT_CORE_H
#define CDP_TEXT_CORE_H

#include <stdbool.h>
#include <stddef.h>

/* Trim ASCII white space, NBSP, zero-width space and BOM at both ends. */
extern void cdp_trim(const char **s, size_t *len);

extern bool cdp_is_ascii(const char *s, size_t len);

/* True when s is well-formed UTF-8 without control characters (C0, DEL, C1). */
extern bool cdp_utf8_printable(const char *s, size_t len);

/*
 * NFC of s into a malloc'd buffer (caller frees) with its length in *outlen.
 * Returns NULL when out of memory or s is not UTF-8.
 */
extern char *cdp_nfc(const char *s, size_t len, size_t *outlen);

/* Unicode lower-case mapping followed by NFC; malloc'd like cdp_nfc. */
extern char *cdp_lower_nfc(const char *s, size_t len, size_t *outlen);

#endif
