/*
 * normalize.c
 *	  Runs the pure normalisers on server-encoded text and turns their
 *	  outcome into a text datum or an error report.
 */
#include "cdp.h"
#include "identifier/normalize.h"

#include "identifier/email_core.h"
#include "identifier/ident_core.h"
#include "identifier/phone_core.h"
#include "identifier/text_core.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

static const struct
{
	const char *name;
	cdp_normalizer norm;
	const char *what;
}			normalizers[] = {
	{"email", CDP_NORM_EMAIL, "email address"},
	{"phone", CDP_NORM_PHONE, "phone number"},
	{"uuid", CDP_NORM_UUID, "uuid identifier"},
	{"oauth", CDP_NORM_OAUTH, "oauth identifier"},
	{"text", CDP_NORM_TEXT, "identifier"},
	{"anonymous", CDP_NORM_ANONYMOUS, "anonymous identifier"},
};

bool
cdp_normalizer_from_name(const char *name, cdp_normalizer *out)
{
	for (int i = 0; i < lengthof(normalizers); i++)
	{
		if (strcmp(name, normalizers[i].name) == 0)
		{
			*out = normalizers[i].norm;
			return true;
		}
	}
	return false;
}

const char *
cdp_normalizer_what(cdp_normalizer norm)
{
	if (norm == CDP_NORM_EMAIL_ADDRESS)
		return "email address";
	for (int i = 0; i < lengthof(normalizers); i++)
		if (normalizers[i].norm == norm)
			return normalizers[i].what;
	return "identifier";
}

/*
 * UTF-8 result bytes back to a server-encoded text.  s need not be
 * NUL-terminated: when no conversion is needed pg_any_to_server hands s
 * back unchanged, so only a converted copy may be measured with strlen.
 */
static text *
utf8_to_text(const char *s, size_t len)
{
	char	   *server = pg_any_to_server(s, (int) len, PG_UTF8);

	if (server == s)
		return cstring_to_text_with_len(s, (int) len);
	return cstring_to_text(server);
}

/* The matching key, or with deliverable the address to send to. */
static text *
normalize_email_utf8(const char *s, int len, bool deliverable,
					 cdp_norm_error *err)
{
	cdp_email_parts parts;
	char		out[CDP_EMAIL_LOCAL_MAX + CDP_EMAIL_DOMAIN_MAX + 2];
	size_t		n;

	if (!cdp_email_parse(s, len, &parts))
	{
		strlcpy(err->detail, parts.detail, sizeof(err->detail));
		return NULL;
	}
	if (deliverable)
		n = cdp_email_format_deliverable(&parts, out);
	else
		n = cdp_email_format_key(&parts, out);
	return utf8_to_text(out, n);
}

static text *
normalize_phone_utf8(const char *s, int len, const char *region,
					 cdp_norm_error *err)
{
	cdp_phone_number number;
	cdp_phone_status status;

	status = cdp_phone_parse(s, len, region, false, &number, err->detail);
	if (status == CDP_PHONE_OK && !number.valid)
	{
		if (strcmp(number.region, "ZZ") == 0)
			snprintf(err->detail, sizeof(err->detail),
					 "It is not a valid number for any region of country code %d.",
					 number.country_code);
		else
			snprintf(err->detail, sizeof(err->detail),
					 "It is not a valid number in region %s (country code %d).",
					 number.region, number.country_code);
		return NULL;
	}
	if (status != CDP_PHONE_OK)
	{
		err->bad_region = (status == CDP_PHONE_BAD_REGION);
		return NULL;
	}
	return cstring_to_text(number.e164);
}

static text *
normalize_text_utf8(const char *s, int len, cdp_norm_error *err)
{
	size_t		n = len;
	unsigned int format_char;
	char	   *nfc;
	text	   *result;

	cdp_trim(&s, &n);
	if (n == 0)
	{
		strlcpy(err->detail, "The value is empty.", sizeof(err->detail));
		return NULL;
	}
	if (n > CDP_IDENT_VALUE_MAX)
	{
		strlcpy(err->detail, "The value is longer than 2048 bytes.", sizeof(err->detail));
		return NULL;
	}
	if (!cdp_utf8_printable(s, n))
	{
		strlcpy(err->detail, "The value contains control characters.", sizeof(err->detail));
		return NULL;
	}
	if ((format_char = cdp_utf8_format_char(s, n)) != 0)
	{
		snprintf(err->detail, sizeof(err->detail), CDP_FORMAT_CHAR_DETAIL, format_char);
		return NULL;
	}
	if (cdp_is_ascii(s, n))
		return cstring_to_text_with_len(s, n);
	nfc = cdp_nfc(s, n, &n);
	if (nfc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	result = utf8_to_text(nfc, n);
	free(nfc);
	return result;
}

text *
cdp_try_normalize(cdp_normalizer norm, const char *value, int len,
				  const char *region, cdp_norm_error *err)
{
	const char *s = pg_server_to_any(value, len, PG_UTF8);
	char		out[CDP_IDENT_VALUE_MAX + 1];
	size_t		outlen;

	if (s != value)
		len = strlen(s);
	err->what = cdp_normalizer_what(norm);
	err->bad_region = false;
	err->detail[0] = '\0';

	switch (norm)
	{
		case CDP_NORM_EMAIL:
			return normalize_email_utf8(s, len, false, err);
		case CDP_NORM_EMAIL_ADDRESS:
			return normalize_email_utf8(s, len, true, err);
		case CDP_NORM_PHONE:
			return normalize_phone_utf8(s, len, cdp_region_or_default(region), err);
		case CDP_NORM_UUID:
			if (!cdp_uuid_normalize(s, len, out, err->detail))
				return NULL;
			return cstring_to_text(out);
		case CDP_NORM_OAUTH:
			if (!cdp_oauth_normalize(s, len, out, &outlen, err->detail))
				return NULL;
			return utf8_to_text(out, outlen);
		case CDP_NORM_TEXT:
		case CDP_NORM_ANONYMOUS:
			return normalize_text_utf8(s, len, err);
	}
	elog(ERROR, "unknown normalizer %d", (int) norm);
	return NULL;
}

text *
cdp_normalize(cdp_normalizer norm, const char *value, int len,
			  const char *region, int sqlstate)
{
	cdp_norm_error err;
	text	   *result = cdp_try_normalize(norm, value, len, region, &err);

	if (result == NULL)
	{
		if (err.bad_region)
		{
			const char *r = cdp_region_or_default(region);

			cdp_report_invalid(ERRCODE_INVALID_PARAMETER_VALUE, "region code",
							   r, strlen(r), err.detail);
		}
		cdp_report_invalid(sqlstate, err.what, value, len, err.detail);
	}
	return result;
}
