/*
 * fuzz_oauth.c
 *	  libFuzzer target for the OAuth identifier normaliser: any byte string,
 *	  written into a buffer of exactly len + 1 bytes as the header allows.
 */
#include "identifier/ident_core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *out = malloc(size + 1);
	char		detail[CDP_IDENT_DETAIL_MAX];
	size_t		outlen = 0;

	if (out == NULL)
		return 0;
	detail[0] = '\0';
	if (cdp_oauth_normalize((const char *) data, size, out, &outlen, detail))
	{
		char	   *again = malloc(outlen + 1);
		size_t		againlen = 0;

		if (outlen > size || strlen(out) != outlen || memchr(out, '|', outlen) == NULL)
			abort();
		/* the normal form is a fixed point */
		if (again == NULL)
			abort();
		if (!cdp_oauth_normalize(out, outlen, again, &againlen, detail) ||
			againlen != outlen || memcmp(out, again, outlen) != 0)
			abort();
		free(again);
	}
	else if (detail[0] == '\0')
		abort();
	free(out);
	return 0;
}
