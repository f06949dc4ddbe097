/*
 * fuzz_phone.c
 *	  libFuzzer target for the phone normaliser: the first byte picks a default
 *	  region (or none, or a malformed one) and whether details are formatted.
 */
#include "identifier/phone_core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const regions[] = {
	NULL, "GB", "US", "DE", "FR", "IN", "BR", "JP", "AU", "CH", "IT", "NL",
	"gb", "us", "ZZ", "XX", "001", "G", "", "G1", "éé",
};

#define NREGIONS (sizeof(regions) / sizeof(regions[0]))

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cdp_phone_number out;
	char		detail[CDP_PHONE_DETAIL_MAX];
	const char *region;
	bool		details;
	cdp_phone_status status;

	if (size < 1)
		return 0;
	region = regions[(data[0] >> 1) % NREGIONS];
	details = data[0] & 1;
	status = cdp_phone_parse((const char *) data + 1, size - 1, region, details,
							 &out, detail);
	if (status != CDP_PHONE_OK)
	{
		if (detail[0] == '\0')
			abort();
		return 0;
	}
	if (strnlen(out.e164, sizeof(out.e164)) == sizeof(out.e164) ||
		strnlen(out.region, sizeof(out.region)) == sizeof(out.region))
		abort();
	/* region and type are filled when details are asked for or it is invalid */
	if ((details || !out.valid) && out.number_type == NULL)
		abort();
	if (out.valid)
	{
		cdp_phone_number again;

		/* a valid E.164 number parses to itself with no region */
		if (out.e164[0] != '+')
			abort();
		if (cdp_phone_parse(out.e164, strlen(out.e164), NULL, false, &again,
							detail) != CDP_PHONE_OK ||
			strcmp(again.e164, out.e164) != 0)
			abort();
	}
	return 0;
}
