/*
 * fuzz_text.c
 *	  libFuzzer target for the UTF-8 helpers: trimming, validation, NFC and
 *	  lower-case NFC over any byte string.
 */
#include "identifier/text_core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *) data;
	size_t		n = size;
	bool		printable;
	char	   *nfc;
	char	   *lower;
	size_t		nfc_len = 0;
	size_t		lower_len = 0;

	cdp_trim(&s, &n);
	if (s < (const char *) data || s + n > (const char *) data + size)
		abort();
	(void) cdp_is_ascii(s, n);
	printable = cdp_utf8_printable(s, n);

	nfc = cdp_nfc(s, n, &nfc_len);
	lower = cdp_lower_nfc(s, n, &lower_len);
	if (printable && n > 0 && (nfc == NULL || lower == NULL))
		abort();
	if (nfc != NULL && nfc_len > 0)
	{
		size_t		again_len = 0;
		char	   *again = cdp_nfc(nfc, nfc_len, &again_len);

		/* NFC is idempotent */
		if (again == NULL || again_len != nfc_len || memcmp(again, nfc, nfc_len) != 0)
			abort();
		free(again);
	}
	free(nfc);
	free(lower);
	return 0;
}
