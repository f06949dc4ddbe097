/*
 * normalize.h
 *	  PostgreSQL-side dispatch over the identifier normalisers, shared by the
 *	  SQL functions, the cdp.email/cdp.phone types and identity resolution.
 */
#ifndef CDP_NORMALIZE_H
#define CDP_NORMALIZE_H

#include "postgres.h"

typedef enum cdp_normalizer
{
	CDP_NORM_EMAIL,
	CDP_NORM_PHONE,
	CDP_NORM_UUID,
	CDP_NORM_OAUTH,
	CDP_NORM_TEXT,
	CDP_NORM_ANONYMOUS,
	/* not a kind's normaliser: the deliverable address of email attributes */
	CDP_NORM_EMAIL_ADDRESS
} cdp_normalizer;

typedef struct cdp_norm_error
{
	const char *what;			/* "email address", "phone number", ... */
	bool		bad_region;		/* the region, not the value, was refused */
	char		detail[256];
} cdp_norm_error;

extern bool cdp_normalizer_from_name(const char *name, cdp_normalizer *out);
extern const char *cdp_normalizer_what(cdp_normalizer norm);

/*
 * Normalise value[0..len) (server encoding).  region may be NULL (then
 * cdp.default_region applies to phones).  Returns a palloc'd text, or NULL
 * with *err filled; never raises for bad input.
 */
extern text *cdp_try_normalize(cdp_normalizer norm, const char *value, int len,
							   const char *region, cdp_norm_error *err);

/* As cdp_try_normalize, but raises sqlstate (22P02 or 22023) on bad input. */
extern text *cdp_normalize(cdp_normalizer norm, const char *value, int len,
						   const char *region, int sqlstate);

#endif
