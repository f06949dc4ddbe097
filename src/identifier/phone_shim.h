/*
 * phone_shim.h
 *	  The extern "C" boundary around Google libphonenumber.  No C++ exception
 *	  and no PostgreSQL error crosses it: every call returns a status.
 */
#ifndef CDP_PHONE_SHIM_H
#define CDP_PHONE_SHIM_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C"
{
#endif

#define CDP_PHONE_DETAIL_MAX 200

typedef struct cdp_phone_number
{
	char		e164[32];
	int			country_code;
	bool		valid;
	/* filled only when details are asked for or the number is not valid */
	char		region[4];		/* ISO 3166 alpha-2, "ZZ" when unknown */
	const char *number_type;	/* "mobile", "fixed_line", ... (static) */
	/* filled only when details are asked for */
	char		national[64];
	char		international[64];
} cdp_phone_number;

typedef enum cdp_phone_status
{
	CDP_PHONE_OK = 0,
	CDP_PHONE_BAD_REGION,		/* the region code is not one libphonenumber knows */
	CDP_PHONE_BAD_NUMBER,		/* the text is not a phone number */
	CDP_PHONE_LIBRARY_ERROR		/* libphonenumber failed (out of memory, ...) */
} cdp_phone_status;

/* region: upper-case alpha-2 or NULL; text: NUL-terminated UTF-8. */
extern cdp_phone_status cdp_phonelib_parse(const char *text, const char *region,
										   bool details, cdp_phone_number *out,
										   char *detail);

extern bool cdp_phonelib_region_known(const char *region);

#ifdef __cplusplus
}
#endif

#endif
