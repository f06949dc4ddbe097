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
 * The first Unicode format character (general category Cf: bidi controls,
 * zero-width characters, the BOM, the soft hyphen) of well-formed UTF-8 s,
 * or 0.  They are invisible, so a value holding one looks like another.
 */
extern unsigned int cdp_utf8_format_char(const char *s, size_t len);

/* The detail of a value refused for one: "... formatting character U+202E." */
#define CDP_FORMAT_CHAR_DETAIL "The value contains an invisible formatting character (U+%04X)."
#define CDP_FORMAT_CHAR_DETAIL_MAX 80

/*
 * NFC of s into a malloc'd buffer (caller frees) with its length in *outlen.
 * Returns NULL when out of memory or s is not UTF-8.
 */
extern char *cdp_nfc(const char *s, size_t len, size_t *outlen);

/* Unicode lower-case mapping followed by NFC; malloc'd like cdp_nfc. */
extern char *cdp_lower_nfc(const char *s, size_t len, size_t *outlen);

#endif
