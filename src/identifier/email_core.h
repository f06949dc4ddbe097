/*
 * email_core.h
 *	  Email address parsing and normalisation, free of PostgreSQL so it can be
 *	  fuzzed alone.  Uses libidn2 (UTS #46) and libunistring (NFC, case).
 */
#ifndef CDP_EMAIL_CORE_H
#define CDP_EMAIL_CORE_H

#include <stdbool.h>
#include <stddef.h>

#define CDP_EMAIL_INPUT_MAX		1024	/* bytes after trimming */
#define CDP_EMAIL_LOCAL_MAX		64		/* RFC 5321 */
#define CDP_EMAIL_DOMAIN_MAX	253		/* RFC 1035, in A-label form */
#define CDP_EMAIL_LABEL_MAX		63
#define CDP_EMAIL_DETAIL_MAX	200

typedef enum cdp_email_provider
{
	CDP_PROVIDER_NONE = 0,
	CDP_PROVIDER_GMAIL,
	CDP_PROVIDER_OUTLOOK,
	CDP_PROVIDER_YAHOO,
	CDP_PROVIDER_ICLOUD,
	CDP_PROVIDER_YANDEX
} cdp_email_provider;

typedef struct cdp_email_parts
{
	/* NFC local part as written: what a mail server delivers to */
	char		given_local[CDP_EMAIL_LOCAL_MAX + 1];
	/* lower-cased NFC local part, before provider rules */
	char		local[CDP_EMAIL_LOCAL_MAX + 1];
	/* domain in lower-case A-label form, before provider rules */
	char		domain[CDP_EMAIL_DOMAIN_MAX + 1];
	/* the matching key: local and domain after provider rules */
	char		match_local[CDP_EMAIL_LOCAL_MAX + 1];
	char		match_domain[CDP_EMAIL_DOMAIN_MAX + 1];
	cdp_email_provider provider;
	bool		quoted_local;
	/* why the address was refused, one English sentence */
	char		detail[CDP_EMAIL_DETAIL_MAX];
} cdp_email_parts;

/*
 * Parse and normalise one address of len bytes (need not be NUL-terminated,
 * may contain any bytes).  Returns true and fills parts, or returns false
 * with parts->detail saying why.  Never allocates memory that outlives the
 * call.
 */
extern bool cdp_email_parse(const char *input, size_t len, cdp_email_parts *parts);

/* Writes "match_local@match_domain" into buf (size >= 320); returns length. */
extern size_t cdp_email_format_key(const cdp_email_parts *parts, char *buf);

/*
 * Writes the deliverable address "given_local@domain" into buf (size >= 320):
 * the local part as written, the domain in lower-case A-label form; returns
 * its length.
 */
extern size_t cdp_email_format_deliverable(const cdp_email_parts *parts, char *buf);

extern const char *cdp_email_provider_name(cdp_email_provider provider);
extern bool cdp_email_is_role_account(const char *local);

/* The domain in Unicode (U-label) form; malloc'd, caller frees; NULL on failure. */
extern char *cdp_email_unicode_domain(const char *a_label_domain);

#endif
