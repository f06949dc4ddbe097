/*
 * phone_core.c
 *	  Refuses what is plainly not a phone number (letters, control
 *	  characters, overlong text, a national number with no region) before
 *	  libphonenumber sees it.
 */
#include "phone_core.h"
#include "text_core.h"

#include <stdio.h>
#include <string.h>

static cdp_phone_status
fail(char *detail, cdp_phone_status status, const char *text)
{
	snprintf(detail, CDP_PHONE_DETAIL_MAX, "%s", text);
	return status;
}

bool
cdp_phone_region_code(const char *region, char *buf)
{
	for (int i = 0; i < 2; i++)
	{
		char		c = region[i];

		if (c >= 'a' && c <= 'z')
			c -= 'a' - 'A';
		if (c < 'A' || c > 'Z')
			return false;
		buf[i] = c;
	}
	buf[2] = '\0';
	return region[2] == '\0';
}

cdp_phone_status
cdp_phone_parse(const char *input, size_t len, const char *region, bool details,
				cdp_phone_number *out, char *detail)
{
	char		text[CDP_PHONE_INPUT_MAX + 1];
	char		code[3];
	const char *s = input;
	size_t		n = len;
	unsigned int format_char;

	detail[0] = '\0';
	if (region != NULL && !cdp_phone_region_code(region, code))
		return fail(detail, CDP_PHONE_BAD_REGION,
					"A region is a two-letter ISO 3166 code such as GB.");

	cdp_trim(&s, &n);
	if (n == 0)
		return fail(detail, CDP_PHONE_BAD_NUMBER, "The number is empty.");
	if (n > CDP_PHONE_INPUT_MAX)
		return fail(detail, CDP_PHONE_BAD_NUMBER, "The number is longer than 100 bytes.");
	if (!cdp_utf8_printable(s, n))
		return fail(detail, CDP_PHONE_BAD_NUMBER,
					"The number is not valid UTF-8 or contains control characters.");
	if ((format_char = cdp_utf8_format_char(s, n)) != 0)
	{
		snprintf(detail, CDP_PHONE_DETAIL_MAX, CDP_FORMAT_CHAR_DETAIL, format_char);
		return CDP_PHONE_BAD_NUMBER;
	}
	for (size_t i = 0; i < n; i++)
	{
		char		c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			return fail(detail, CDP_PHONE_BAD_NUMBER,
						"The number contains letters; only digits and separators are accepted.");
	}
	if (region == NULL && s[0] != '+')
		return fail(detail, CDP_PHONE_BAD_NUMBER,
					"A number without \"+\" needs a region: pass one or set cdp.default_region.");

	memcpy(text, s, n);
	text[n] = '\0';
	return cdp_phonelib_parse(text, region ? code : NULL, details, out, detail);
}
