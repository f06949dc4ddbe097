/*
 * identity.h
 *	  Shared declarations of identity resolution: the identifier kinds as the
 *	  resolver sees them, parsed input records, saved SPI plans and merging.
 */
#ifndef CDP_IDENTITY_H
#define CDP_IDENTITY_H

#include "postgres.h"

#include "executor/spi.h"
#include "spi_plans.h"
#include "identifier/normalize.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

/* One row of cdp.identifier_kinds. */
typedef struct cdp_kind
{
	char	   *kind;
	cdp_normalizer normalizer;
	int			priority;
	int			max_per_contact;	/* 0 = unlimited */
	bool		matchable;
	int			nblocked_values;
	char	  **blocked_values;
	int			nblocked_patterns;
	char	  **blocked_patterns;
	int			nslugs;
	char	  **slugs;
} cdp_kind;

typedef struct cdp_kinds
{
	int			nkinds;
	cdp_kind   *kinds;
} cdp_kinds;

/* One identifier of an incoming record. */
typedef struct cdp_item
{
	const cdp_kind *kind;
	char	   *raw_value;
	char	   *value;			/* normalised */
	char	   *slug;			/* NULL: main if free, else none */
	bool		validated;
	char	   *validation_method;	/* NULL when not given */
	bool		has_validated_at;
	TimestampTz validated_at;
	int			outreach;		/* -1 not given, else 0/1 */
	char	   *region;
	int			position;		/* order in the input */

	/* filled by resolution */
	int64		existing_id;	/* cdp.identifiers.id, 0 if new */
	int64		owner;			/* contact holding it now, 0 if none */
	bool		blocked;
	const char *refused_by;		/* "limit" or "merge_block" when a rule refused its link */
} cdp_item;

/* identifier_locks.c: the advisory locks on (kind, normalised value) */
extern void cdp_lock_identifier_values(const char *const *kinds, const char *const *values, int n);

/* kinds.c */
extern cdp_kinds *cdp_load_kinds(void);
extern bool cdp_any_suppressions(void);
extern const cdp_kind *cdp_find_kind(const cdp_kinds *kinds, const char *kind);
extern bool cdp_value_blocked(const cdp_kind *kind, const char *value);

/* resolve_input.c: parse resolve()'s jsonb into normalised items */
extern cdp_item *cdp_parse_identifiers(Jsonb *input, const cdp_kinds *kinds,
									   const char *default_region, int *nitems);

/* contacts.c */
extern int64 cdp_current_contact(int64 id);
extern void cdp_lock_contacts(int64 *ids, int n);
extern void cdp_refresh_contact_type(int64 id);
extern void cdp_record_conflict(const char *rule, const char *kind, const char *value,
								int64 contact_id, int64 other_contact_id,
								const char *source);
extern bool cdp_merge_blocked(int64 a, int64 b);
extern Jsonb *cdp_identifier_evidence(const char *kind, const char *value);

/* resolve_write.c: the bulk writes of one resolve */
extern int64 cdp_attach_identifiers(cdp_item *items, int n, int64 contact,
									const char *source);
extern void cdp_touch_identifiers(cdp_item *items, int n);

/* merge.c: absorb one contact into another; returns the cdp.merges id */
extern int64 cdp_merge_into(int64 survivor, int64 absorbed, const char *reason,
							Jsonb *evidence, const char *source);

#endif
