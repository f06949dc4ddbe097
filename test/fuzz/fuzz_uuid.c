/*
 * fuzz_uuid.c
 *	  libFuzzer target for the UUID normaliser: any byte string, and the
 *	  canonical form must be a fixed point.
 */
#include "identifier/ident_core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		out[37];
	char		again[37];
	char		detail[CDP_IDENT_DETAIL_MAX];

	detail[0] = '\0';
	if (!cdp_uuid_normalize((const char *) data, size, out, detail))
	{
		if (detail[0] == '\0')
			abort();
		return 0;
	}
	if (strlen(out) != 36)
		abort();
	for (int i = 0; i < 36; i++)
	{
		char		c = out[i];

		if (i == 8 || i == 13 || i == 18 || i == 23 ? c != '-' :
			!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			abort();
	}
	if (!cdp_uuid_normalize(out, 36, again, detail) || strcmp(out, again) != 0)
		abort();
	return 0;
}
