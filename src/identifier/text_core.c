/*
 * text_core.c
 *	  UTF-8 trimming, validation and normalisation for identifier values,
 *	  built on libunistring so no Unicode table is written by hand.
 */
#include "text_core.h"

#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

/* Length of a trimmable sequence at s (0 if none). */
static size_t
space_prefix(const unsigned char *s, size_t len)
{
	if (len >= 1 && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r')))
		return 1;
	if (len >= 2 && s[0] == 0xC2 && s[1] == 0xA0)	/* U+00A0 NBSP */
		return 2;
	if (len >= 3 && s[0] == 0xE2 && s[1] == 0x80 && s[2] == 0x8B)	/* U+200B */
		return 3;
	if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)	/* U+FEFF */
		return 3;
	return 0;
}

static size_t
space_suffix(const unsigned char *s, size_t len)
{
	if (len >= 1 && (s[len - 1] == ' ' || (s[len - 1] >= '\t' && s[len - 1] <= '\r')))
		return 1;
	if (len >= 2 && s[len - 2] == 0xC2 && s[len - 1] == 0xA0)
		return 2;
	if (len >= 3 && s[len - 3] == 0xE2 && s[len - 2] == 0x80 && s[len - 1] == 0x8B)
		return 3;
	if (len >= 3 && s[len - 3] == 0xEF && s[len - 2] == 0xBB && s[len - 1] == 0xBF)
		return 3;
	return 0;
}

void
cdp_trim(const char **s, size_t *len)
{
	const unsigned char *p = (const unsigned char *) *s;
	size_t		n = *len;
	size_t		k;

	while ((k = space_prefix(p, n)) > 0)
	{
		p += k;
		n -= k;
	}
	while ((k = space_suffix(p, n)) > 0)
		n -= k;
	*s = (const char *) p;
	*len = n;
}

bool
cdp_is_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char) s[i] & 0x80)
			return false;
	return true;
}

bool
cdp_utf8_printable(const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *) s;
	const uint8_t *end = p + len;

	if (u8_check(p, len) != NULL)
		return false;
	while (p < end)
	{
		ucs4_t		uc;
		int			n = u8_mbtouc_unsafe(&uc, p, end - p);

		if (uc < 0x20 || (uc >= 0x7F && uc <= 0x9F))
			return false;
		p += n;
	}
	return true;
}

unsigned int
cdp_utf8_format_char(const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *) s;
	const uint8_t *end = p + len;

	while (p < end)
	{
		ucs4_t		uc;
		int			n = u8_mbtouc(&uc, p, end - p);

		if (n <= 0)
			return 0;
		if (uc >= 0x80 && uc_is_general_category(uc, UC_CATEGORY_Cf))
			return uc;
		p += n;
	}
	return 0;
}

char *
cdp_nfc(const char *s, size_t len, size_t *outlen)
{
	if (u8_check((const uint8_t *) s, len) != NULL)
		return NULL;
	return (char *) u8_normalize(UNINORM_NFC, (const uint8_t *) s, len, NULL, outlen);
}

char *
cdp_lower_nfc(const char *s, size_t len, size_t *outlen)
{
	if (u8_check((const uint8_t *) s, len) != NULL)
		return NULL;
	return (char *) u8_tolower((const uint8_t *) s, len, NULL, UNINORM_NFC,
							   NULL, outlen);
}
