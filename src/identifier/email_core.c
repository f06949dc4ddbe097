/*
 * email_core.c
 *	  Parse an email address, normalise it (trim, NFC, lower case, UTS #46
 *	  A-label domain) and derive the matching key with the provider rules that
 *	  validator.js normalizeEmail applies by default.
 */
#include "email_core.h"
#include "text_core.h"

#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct provider_domain
{
	const char *domain;
	cdp_email_provider provider;
} provider_domain;

/* Sorted by domain for bsearch; the lists are validator.js's defaults. */
static const provider_domain provider_domains[] = {
	{"gmail.com", CDP_PROVIDER_GMAIL},
	{"googlemail.com", CDP_PROVIDER_GMAIL},
	{"hotmail.at", CDP_PROVIDER_OUTLOOK},
	{"hotmail.be", CDP_PROVIDER_OUTLOOK},
	{"hotmail.ca", CDP_PROVIDER_OUTLOOK},
	{"hotmail.cl", CDP_PROVIDER_OUTLOOK},
	{"hotmail.co.il", CDP_PROVIDER_OUTLOOK},
	{"hotmail.co.nz", CDP_PROVIDER_OUTLOOK},
	{"hotmail.co.th", CDP_PROVIDER_OUTLOOK},
	{"hotmail.co.uk", CDP_PROVIDER_OUTLOOK},
	{"hotmail.com", CDP_PROVIDER_OUTLOOK},
	{"hotmail.com.ar", CDP_PROVIDER_OUTLOOK},
	{"hotmail.com.au", CDP_PROVIDER_OUTLOOK},
	{"hotmail.com.br", CDP_PROVIDER_OUTLOOK},
	{"hotmail.com.gr", CDP_PROVIDER_OUTLOOK},
	{"hotmail.com.mx", CDP_PROVIDER_OUTLOOK},
	{"hotmail.com.pe", CDP_PROVIDER_OUTLOOK},
	{"hotmail.com.tr", CDP_PROVIDER_OUTLOOK},
	{"hotmail.com.vn", CDP_PROVIDER_OUTLOOK},
	{"hotmail.cz", CDP_PROVIDER_OUTLOOK},
	{"hotmail.de", CDP_PROVIDER_OUTLOOK},
	{"hotmail.dk", CDP_PROVIDER_OUTLOOK},
	{"hotmail.es", CDP_PROVIDER_OUTLOOK},
	{"hotmail.fr", CDP_PROVIDER_OUTLOOK},
	{"hotmail.hu", CDP_PROVIDER_OUTLOOK},
	{"hotmail.id", CDP_PROVIDER_OUTLOOK},
	{"hotmail.ie", CDP_PROVIDER_OUTLOOK},
	{"hotmail.in", CDP_PROVIDER_OUTLOOK},
	{"hotmail.it", CDP_PROVIDER_OUTLOOK},
	{"hotmail.jp", CDP_PROVIDER_OUTLOOK},
	{"hotmail.kr", CDP_PROVIDER_OUTLOOK},
	{"hotmail.lv", CDP_PROVIDER_OUTLOOK},
	{"hotmail.my", CDP_PROVIDER_OUTLOOK},
	{"hotmail.ph", CDP_PROVIDER_OUTLOOK},
	{"hotmail.pt", CDP_PROVIDER_OUTLOOK},
	{"hotmail.sa", CDP_PROVIDER_OUTLOOK},
	{"hotmail.sg", CDP_PROVIDER_OUTLOOK},
	{"hotmail.sk", CDP_PROVIDER_OUTLOOK},
	{"icloud.com", CDP_PROVIDER_ICLOUD},
	{"live.be", CDP_PROVIDER_OUTLOOK},
	{"live.co.uk", CDP_PROVIDER_OUTLOOK},
	{"live.com", CDP_PROVIDER_OUTLOOK},
	{"live.com.ar", CDP_PROVIDER_OUTLOOK},
	{"live.com.mx", CDP_PROVIDER_OUTLOOK},
	{"live.de", CDP_PROVIDER_OUTLOOK},
	{"live.es", CDP_PROVIDER_OUTLOOK},
	{"live.eu", CDP_PROVIDER_OUTLOOK},
	{"live.fr", CDP_PROVIDER_OUTLOOK},
	{"live.it", CDP_PROVIDER_OUTLOOK},
	{"live.nl", CDP_PROVIDER_OUTLOOK},
	{"me.com", CDP_PROVIDER_ICLOUD},
	{"msn.com", CDP_PROVIDER_OUTLOOK},
	{"outlook.at", CDP_PROVIDER_OUTLOOK},
	{"outlook.be", CDP_PROVIDER_OUTLOOK},
	{"outlook.cl", CDP_PROVIDER_OUTLOOK},
	{"outlook.co.il", CDP_PROVIDER_OUTLOOK},
	{"outlook.co.nz", CDP_PROVIDER_OUTLOOK},
	{"outlook.co.th", CDP_PROVIDER_OUTLOOK},
	{"outlook.com", CDP_PROVIDER_OUTLOOK},
	{"outlook.com.ar", CDP_PROVIDER_OUTLOOK},
	{"outlook.com.au", CDP_PROVIDER_OUTLOOK},
	{"outlook.com.br", CDP_PROVIDER_OUTLOOK},
	{"outlook.com.gr", CDP_PROVIDER_OUTLOOK},
	{"outlook.com.pe", CDP_PROVIDER_OUTLOOK},
	{"outlook.com.tr", CDP_PROVIDER_OUTLOOK},
	{"outlook.com.vn", CDP_PROVIDER_OUTLOOK},
	{"outlook.cz", CDP_PROVIDER_OUTLOOK},
	{"outlook.de", CDP_PROVIDER_OUTLOOK},
	{"outlook.dk", CDP_PROVIDER_OUTLOOK},
	{"outlook.es", CDP_PROVIDER_OUTLOOK},
	{"outlook.fr", CDP_PROVIDER_OUTLOOK},
	{"outlook.hu", CDP_PROVIDER_OUTLOOK},
	{"outlook.id", CDP_PROVIDER_OUTLOOK},
	{"outlook.ie", CDP_PROVIDER_OUTLOOK},
	{"outlook.in", CDP_PROVIDER_OUTLOOK},
	{"outlook.it", CDP_PROVIDER_OUTLOOK},
	{"outlook.jp", CDP_PROVIDER_OUTLOOK},
	{"outlook.kr", CDP_PROVIDER_OUTLOOK},
	{"outlook.lv", CDP_PROVIDER_OUTLOOK},
	{"outlook.my", CDP_PROVIDER_OUTLOOK},
	{"outlook.ph", CDP_PROVIDER_OUTLOOK},
	{"outlook.pt", CDP_PROVIDER_OUTLOOK},
	{"outlook.sa", CDP_PROVIDER_OUTLOOK},
	{"outlook.sg", CDP_PROVIDER_OUTLOOK},
	{"outlook.sk", CDP_PROVIDER_OUTLOOK},
	{"passport.com", CDP_PROVIDER_OUTLOOK},
	{"rocketmail.com", CDP_PROVIDER_YAHOO},
	{"ya.ru", CDP_PROVIDER_YANDEX},
	{"yahoo.ca", CDP_PROVIDER_YAHOO},
	{"yahoo.co.uk", CDP_PROVIDER_YAHOO},
	{"yahoo.com", CDP_PROVIDER_YAHOO},
	{"yahoo.de", CDP_PROVIDER_YAHOO},
	{"yahoo.fr", CDP_PROVIDER_YAHOO},
	{"yahoo.in", CDP_PROVIDER_YAHOO},
	{"yahoo.it", CDP_PROVIDER_YAHOO},
	{"yandex.by", CDP_PROVIDER_YANDEX},
	{"yandex.com", CDP_PROVIDER_YANDEX},
	{"yandex.kz", CDP_PROVIDER_YANDEX},
	{"yandex.ru", CDP_PROVIDER_YANDEX},
	{"yandex.ua", CDP_PROVIDER_YANDEX},
	{"ymail.com", CDP_PROVIDER_YAHOO},
};

/* Local parts that name a function rather than a person; sorted. */
static const char *const role_accounts[] = {
	"abuse", "admin", "administrator", "billing", "contact", "enquiries",
	"hello", "help", "hostmaster", "info", "jobs", "mail", "marketing",
	"no-reply", "noc", "noreply", "office", "postmaster", "privacy", "root",
	"sales", "security", "support", "team", "webmaster",
};

#define lengthof(a) (sizeof(a) / sizeof((a)[0]))

static bool
fail(cdp_email_parts *parts, const char *detail)
{
	snprintf(parts->detail, sizeof(parts->detail), "%s", detail);
	return false;
}

static int
compare_provider(const void *key, const void *elem)
{
	return strcmp((const char *) key, ((const provider_domain *) elem)->domain);
}

static int
compare_string(const void *key, const void *elem)
{
	return strcmp((const char *) key, *(const char *const *) elem);
}

static bool
is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;			/* UTF-8, validated before (RFC 6531) */
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool
is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/*
 * Check label lengths and count in a lower-case ASCII domain.  Sets *plain to
 * false when a label is outside letters-digits-hyphen or has hyphens where
 * IDNA has rules about them ("xn--", leading or trailing hyphen): those
 * domains are left to libidn2 to accept or refuse.
 */
static bool
check_labels(const char *d, cdp_email_parts *parts, bool *plain)
{
	const char *label = d;
	int			nlabels = 0;
	bool		tld_numeric = true;

	*plain = true;
	for (;;)
	{
		const char *end = strchr(label, '.');
		size_t		n = end ? (size_t) (end - label) : strlen(label);

		if (n == 0)
			return fail(parts, "The domain has an empty label.");
		if (n > CDP_EMAIL_LABEL_MAX)
			return fail(parts, "A domain label is longer than 63 octets.");
		if (label[0] == '-' || label[n - 1] == '-' ||
			(n >= 4 && label[2] == '-' && label[3] == '-'))
			*plain = false;
		tld_numeric = true;
		for (size_t i = 0; i < n; i++)
		{
			if (!is_ldh((unsigned char) label[i]))
				*plain = false;
			if (label[i] < '0' || label[i] > '9')
				tld_numeric = false;
		}
		nlabels++;
		if (!end)
			break;
		label = end + 1;
	}
	if (nlabels < 2)
		return fail(parts, "The domain needs at least two labels, such as example.com.");
	if (tld_numeric)
		return fail(parts, "The top-level domain is numeric; IP addresses are not accepted.");
	return true;
}

/*
 * UTS #46 lookup processing of d (NUL-terminated) into parts->domain.
 *
 * IDN2_USE_STD3_ASCII_RULES is not used: libidn2 (2.3.x) then silently drops
 * characters such as "_", " " or "/" ("ex_ample.com" became "example.com"),
 * which would make different addresses share one matching key.  The STD3
 * rule is checked on the result instead: punycode copies every ASCII
 * character of a label verbatim, so an A-label domain made only of letters,
 * digits, hyphens and dots has no other ASCII character in its U-labels.
 */
static bool
idna_domain(const char *d, cdp_email_parts *parts)
{
	uint8_t    *out = NULL;
	int			rc;
	size_t		n;

	rc = idn2_lookup_u8((const uint8_t *) d, &out, IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK)
	{
		snprintf(parts->detail, sizeof(parts->detail),
				 "The domain is not a valid internationalised domain name: %s.",
				 idn2_strerror(rc));
		free(out);
		return false;
	}
	n = strlen((const char *) out);
	for (size_t i = 0; i < n; i++)
	{
		if (!is_ldh(out[i]) && out[i] != '.')
		{
			free(out);
			return fail(parts, "The domain contains a character other than letters, digits, hyphens and dots.");
		}
	}
	if (n > CDP_EMAIL_DOMAIN_MAX)
	{
		free(out);
		return fail(parts, "The domain is longer than 253 octets.");
	}
	memcpy(parts->domain, out, n + 1);
	free(out);
	return true;
}

static bool
normalize_domain(const char *d, size_t n, cdp_email_parts *parts)
{
	char		buf[CDP_EMAIL_INPUT_MAX + 1];
	bool		plain;

	if (n == 0)
		return fail(parts, "The domain after \"@\" is empty.");
	if (n > CDP_EMAIL_INPUT_MAX)
		return fail(parts, "The address is longer than 1024 bytes.");
	if (d[0] == '[')
		return fail(parts, "Domain literals such as [192.0.2.1] are not accepted.");

	if (cdp_is_ascii(d, n))
	{
		if (n > CDP_EMAIL_DOMAIN_MAX)
			return fail(parts, "The domain is longer than 253 octets.");
		for (size_t i = 0; i < n; i++)
		{
			unsigned char c = (unsigned char) d[i];

			buf[i] = (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
		}
		buf[n] = '\0';
		if (!check_labels(buf, parts, &plain))
			return false;
		if (plain)
		{
			memcpy(parts->domain, buf, n + 1);
			return true;
		}
		if (!idna_domain(buf, parts))
			return false;
	}
	else
	{
		memcpy(buf, d, n);
		buf[n] = '\0';
		if (!idna_domain(buf, parts))
			return false;
	}
	return check_labels(parts->domain, parts, &plain);
}

/* Validate the local part s[0..n) and store it lower-cased in parts->local. */
static bool
normalize_local(const char *s, size_t n, cdp_email_parts *parts)
{
	if (n == 0)
		return fail(parts, "The local part before \"@\" is empty.");
	if (!parts->quoted_local)
	{
		for (size_t i = 0; i < n; i++)
		{
			unsigned char c = (unsigned char) s[i];

			if (c == '.')
			{
				if (i == 0 || i == n - 1 || s[i - 1] == '.')
					return fail(parts, "The local part has a leading, trailing or doubled dot.");
			}
			else if (!is_atext(c))
				return fail(parts, "The local part contains a character that is only allowed inside quotes.");
		}
	}
	if (n > CDP_EMAIL_LOCAL_MAX)
		return fail(parts, "The local part is longer than 64 octets.");
	memcpy(parts->given_local, s, n);
	parts->given_local[n] = '\0';

	if (cdp_is_ascii(s, n))
	{
		for (size_t i = 0; i < n; i++)
		{
			unsigned char c = (unsigned char) s[i];

			parts->local[i] = (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
		}
		parts->local[n] = '\0';
	}
	else
	{
		size_t		lower_len;
		char	   *lower = cdp_lower_nfc(s, n, &lower_len);

		if (lower == NULL)
			return fail(parts, "The local part could not be lower-cased.");
		if (lower_len > CDP_EMAIL_LOCAL_MAX)
		{
			free(lower);
			return fail(parts, "The local part is longer than 64 octets.");
		}
		memcpy(parts->local, lower, lower_len);
		parts->local[lower_len] = '\0';
		free(lower);
	}
	return true;
}

/* Apply the provider's matching rules to the normalised parts. */
static bool
apply_provider_rules(cdp_email_parts *parts)
{
	const provider_domain *p;
	char	   *local = parts->match_local;
	char	   *cut;

	strcpy(parts->match_local, parts->local);
	strcpy(parts->match_domain, parts->domain);
	p = bsearch(parts->domain, provider_domains, lengthof(provider_domains),
				sizeof(provider_domain), compare_provider);
	parts->provider = p ? p->provider : CDP_PROVIDER_NONE;
	if (parts->quoted_local)
		return true;			/* the rules are about dot-atom mailboxes */

	switch (parts->provider)
	{
		case CDP_PROVIDER_GMAIL:
			{
				char	   *w = local;

				if ((cut = strchr(local, '+')) != NULL)
					*cut = '\0';
				for (char *r = local; *r; r++)
					if (*r != '.')
						*w++ = *r;
				*w = '\0';
				strcpy(parts->match_domain, "gmail.com");
				break;
			}
		case CDP_PROVIDER_OUTLOOK:
		case CDP_PROVIDER_ICLOUD:
			if ((cut = strchr(local, '+')) != NULL)
				*cut = '\0';
			break;
		case CDP_PROVIDER_YAHOO:
			if ((cut = strrchr(local, '-')) != NULL)
				*cut = '\0';
			break;
		case CDP_PROVIDER_YANDEX:
			strcpy(parts->match_domain, "yandex.ru");
			break;
		case CDP_PROVIDER_NONE:
			break;
	}
	if (local[0] == '\0')
		return fail(parts, "Nothing is left of the local part after the provider's rules.");
	return true;
}

static bool
parse_nfc(const char *s, size_t n, cdp_email_parts *parts)
{
	size_t		at;

	if (s[0] == '"')
	{
		size_t		i = 1;

		parts->quoted_local = true;
		while (i < n && s[i] != '"')
		{
			unsigned char c = (unsigned char) s[i];

			if (c == '\\')
				i++;
			else if (c < 0x20 || c == 0x7F)
				return fail(parts, "The address contains control characters.");
			i++;
		}
		if (i >= n)
			return fail(parts, "The quoted local part has no closing quote.");
		at = i + 1;
		if (at >= n || s[at] != '@')
			return fail(parts, "A quoted local part must be followed by \"@\".");
	}
	else
	{
		const char *p = memchr(s, '@', n);

		if (p == NULL)
			return fail(parts, "The address has no \"@\".");
		at = p - s;
	}
	if (memchr(s + at + 1, '@', n - at - 1) != NULL)
		return fail(parts, "The address has more than one \"@\" outside quotes.");

	if (!normalize_local(s, at, parts))
		return false;
	if (!normalize_domain(s + at + 1, n - at - 1, parts))
		return false;
	return apply_provider_rules(parts);
}

bool
cdp_email_parse(const char *input, size_t len, cdp_email_parts *parts)
{
	const char *s = input;
	size_t		n = len;
	char	   *nfc = NULL;
	bool		ok;

	parts->given_local[0] = parts->local[0] = parts->domain[0] = '\0';
	parts->match_local[0] = parts->match_domain[0] = '\0';
	parts->provider = CDP_PROVIDER_NONE;
	parts->quoted_local = false;
	parts->detail[0] = '\0';

	cdp_trim(&s, &n);
	if (n == 0)
		return fail(parts, "The address is empty.");
	if (n > CDP_EMAIL_INPUT_MAX)
		return fail(parts, "The address is longer than 1024 bytes.");
	if (cdp_is_ascii(s, n))
	{
		for (size_t i = 0; i < n; i++)
			if ((unsigned char) s[i] < 0x20 || s[i] == 0x7F)
				return fail(parts, "The address contains control characters.");
	}
	else
	{
		unsigned int format_char;

		if (!cdp_utf8_printable(s, n))
			return fail(parts, "The address is not valid UTF-8 or contains control characters.");
		if ((format_char = cdp_utf8_format_char(s, n)) != 0)
		{
			char		detail[CDP_FORMAT_CHAR_DETAIL_MAX];

			snprintf(detail, sizeof(detail), CDP_FORMAT_CHAR_DETAIL, format_char);
			return fail(parts, detail);
		}
		nfc = cdp_nfc(s, n, &n);
		if (nfc == NULL)
			return fail(parts, "The address could not be normalised to NFC.");
		/* NFC can lengthen text (U+0958 is 3 bytes, its NFC 6): check again */
		if (n > CDP_EMAIL_INPUT_MAX)
		{
			free(nfc);
			return fail(parts, "The address is longer than 1024 bytes.");
		}
		s = nfc;
	}
	ok = parse_nfc(s, n, parts);
	free(nfc);
	return ok;
}

size_t
cdp_email_format_key(const cdp_email_parts *parts, char *buf)
{
	size_t		l = strlen(parts->match_local);
	size_t		d = strlen(parts->match_domain);

	memcpy(buf, parts->match_local, l);
	buf[l] = '@';
	memcpy(buf + l + 1, parts->match_domain, d + 1);
	return l + 1 + d;
}

size_t
cdp_email_format_deliverable(const cdp_email_parts *parts, char *buf)
{
	size_t		l = strlen(parts->given_local);
	size_t		d = strlen(parts->domain);

	memcpy(buf, parts->given_local, l);
	buf[l] = '@';
	memcpy(buf + l + 1, parts->domain, d + 1);
	return l + 1 + d;
}

const char *
cdp_email_provider_name(cdp_email_provider provider)
{
	switch (provider)
	{
		case CDP_PROVIDER_GMAIL:
			return "gmail";
		case CDP_PROVIDER_OUTLOOK:
			return "outlook";
		case CDP_PROVIDER_YAHOO:
			return "yahoo";
		case CDP_PROVIDER_ICLOUD:
			return "icloud";
		case CDP_PROVIDER_YANDEX:
			return "yandex";
		case CDP_PROVIDER_NONE:
			break;
	}
	return NULL;
}

bool
cdp_email_is_role_account(const char *local)
{
	return bsearch(local, role_accounts, lengthof(role_accounts),
				   sizeof(role_accounts[0]), compare_string) != NULL;
}

char *
cdp_email_unicode_domain(const char *a_label_domain)
{
	char	   *out = NULL;

	if (idn2_to_unicode_8z8z(a_label_domain, &out, 0) != IDN2_OK)
	{
		free(out);
		return NULL;
	}
	return out;
}
