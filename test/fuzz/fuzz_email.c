/*
 * fuzz_email.c
 *	  libFuzzer target for the email normaliser: parse any byte string, and on
 *	  success format the matching key and the deliverable address and map the
 *	  domain back to Unicode.
 */
#include "identifier/email_core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cdp_email_parts parts;
	char		key[CDP_EMAIL_LOCAL_MAX + 1 + CDP_EMAIL_DOMAIN_MAX + 1];
	char	   *unicode;
	size_t		n;

	if (!cdp_email_parse((const char *) data, size, &parts))
	{
		/* a refusal always says why */
		if (parts.detail[0] == '\0')
			abort();
		return 0;
	}
	n = cdp_email_format_key(&parts, key);
	if (n != strlen(key) || memchr(key, '@', n) == NULL)
		abort();
	if (strlen(parts.local) > CDP_EMAIL_LOCAL_MAX ||
		strlen(parts.domain) > CDP_EMAIL_DOMAIN_MAX)
		abort();

	/*
	 * The normalised address (before provider rules, which need not be
	 * idempotent: yahoo drops only the last -tag) must normalise to itself.
	 */
	{
		cdp_email_parts again;
		char		addr[sizeof(key)];
		size_t		l = strlen(parts.local);
		size_t		d = strlen(parts.domain);

		memcpy(addr, parts.local, l);
		addr[l] = '@';
		memcpy(addr + l + 1, parts.domain, d + 1);
		if (!cdp_email_parse(addr, l + 1 + d, &again) ||
			strcmp(again.local, parts.local) != 0 ||
			strcmp(again.domain, parts.domain) != 0)
			abort();
	}

	/*
	 * The deliverable address is a fixed point and reaches the same mailbox:
	 * it parses to itself and to the same matching key.
	 */
	{
		cdp_email_parts again;
		char		deliverable[sizeof(key)];
		char		again_out[sizeof(key)];

		n = cdp_email_format_deliverable(&parts, deliverable);
		if (!cdp_email_parse(deliverable, n, &again) ||
			cdp_email_format_deliverable(&again, again_out) != n ||
			strcmp(again_out, deliverable) != 0)
			abort();
		cdp_email_format_key(&again, again_out);
		if (strcmp(again_out, key) != 0)
			abort();
	}

	unicode = cdp_email_unicode_domain(parts.domain);
	free(unicode);
	return 0;
}
