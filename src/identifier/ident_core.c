/*
 * ident_core.c
 *	  UUID and OAuth identifier normalisation: canonical text forms so the
 *	  same identity always has the same value.
 */
#include "ident_core.h"
#include "text_core.h"

#include <stdio.h>
#include <string.h>

static bool
fail(char *detail, const char *text)
{
	snprintf(detail, CDP_IDENT_DETAIL_MAX, "%s", text);
	return false;
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
cdp_uuid_normalize(const char *input, size_t len, char *out, char *detail)
{
	static const char hex[] = "0123456789abcdef";
	const char *s = input;
	size_t		n = len;
	int			digits = 0;
	bool		nil = true;
	bool		hyphens;

	cdp_trim(&s, &n);
	if (n >= 2 && s[0] == '{' && s[n - 1] == '}')
	{
		s++;
		n -= 2;
	}
	/* 32 hex digits, either bare or hyphenated exactly as 8-4-4-4-12 */
	if (n == 36)
		hyphens = true;
	else if (n == 32)
		hyphens = false;
	else
		return fail(detail, "A UUID has 32 hexadecimal digits, optionally as 8-4-4-4-12.");

	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (hyphens && (i == 8 || i == 13 || i == 18 || i == 23))
		{
			if (c != '-')
				return fail(detail, "A UUID has 32 hexadecimal digits, optionally as 8-4-4-4-12.");
			out[i] = '-';
			continue;
		}
		if (hex_value(c) < 0)
			return fail(detail, "A UUID has 32 hexadecimal digits, optionally as 8-4-4-4-12.");
		if (c != '0')
			nil = false;
		out[digits + (digits >= 8) + (digits >= 12) + (digits >= 16) + (digits >= 20)] =
			hex[hex_value(c)];
		digits++;
	}
	if (nil)
		return fail(detail, "The nil UUID identifies nobody.");
	out[8] = out[13] = out[18] = out[23] = '-';
	out[36] = '\0';
	return true;
}

bool
cdp_oauth_normalize(const char *input, size_t len, char *out, size_t *outlen,
					char *detail)
{
	const char *s = input;
	size_t		n = len;
	unsigned int format_char;
	const char *bar;
	const char *issuer;
	size_t		issuer_len;
	const char *subject;
	size_t		subject_len;

	cdp_trim(&s, &n);
	if (n > CDP_IDENT_VALUE_MAX)
		return fail(detail, "The value is longer than 2048 bytes.");
	if (!cdp_utf8_printable(s, n))
		return fail(detail, "The value is not valid UTF-8 or contains control characters.");
	if ((format_char = cdp_utf8_format_char(s, n)) != 0)
	{
		snprintf(detail, CDP_IDENT_DETAIL_MAX, CDP_FORMAT_CHAR_DETAIL, format_char);
		return false;
	}
	bar = memchr(s, '|', n);
	if (bar == NULL)
		return fail(detail, "An OAuth identifier is written issuer|subject.");

	issuer = s;
	issuer_len = bar - s;
	cdp_trim(&issuer, &issuer_len);
	subject = bar + 1;
	subject_len = n - (bar - s) - 1;
	if (issuer_len == 0 || subject_len == 0)
		return fail(detail, "Both the issuer and the subject of an OAuth identifier must be non-empty.");

	for (size_t i = 0; i < issuer_len; i++)
	{
		unsigned char c = (unsigned char) issuer[i];

		out[i] = (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
	}
	out[issuer_len] = '|';
	memcpy(out + issuer_len + 1, subject, subject_len);
	*outlen = issuer_len + 1 + subject_len;
	out[*outlen] = '\0';
	return true;
}
