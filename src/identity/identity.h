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
#include "identity/merge_rules.h"
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
	cdp_mr_kind *rules;			/* per kind, as the merge-rule core sees it */
	int32	   *limited_slot;	/* per kind, see cdp_mr_limited */
	int			nlimited;
} cdp_kinds;

/* One identifier of an incoming record. */
typedef struct cdp_item
{
	const cdp_kind *kind;
	char	   *raw_value;
	char	   *value;			/* normalised; NULL when invalid */
	char	   *invalid;		/* why the normaliser refused it, else NULL */
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
	const char *refused_by;		/* the conflict rule when its link was refused */
	bool		attach;			/* new, stored on the record's contact */
	bool		touch;			/* stored already, seen again on the record's contact */
} cdp_item;

/* identifier_locks.c: the advisory locks on (kind, normalised value) */
extern void cdp_lock_identifier_values(const char *const *kinds, const char *const *values, int n);

/* The same, gathered value by value (a bulk load): add them all, then take. */
#define CDP_IDENTIFIER_LOCK_BUCKETS 1024
typedef struct cdp_value_locks
{
	uint64		wanted[CDP_IDENTIFIER_LOCK_BUCKETS / 64];
} cdp_value_locks;
extern void cdp_value_locks_add(cdp_value_locks *locks, const char *kind, const char *value);
extern void cdp_value_locks_take(const cdp_value_locks *locks);
extern void cdp_check_values_unchanged(Datum kinds, Datum values);

/*
 * identifier_locks.c: lock the live contacts holding some identifier values,
 * FOR UPDATE in ascending id order, looking again until nothing moved.
 * lookup reads the values again and returns the ids of the contacts holding
 * those that link (any order, repeats allowed); after the last call, every
 * id it returned is in locked.
 */
typedef int64 *(*cdp_owner_lookup) (void *arg, int *n);
typedef struct cdp_locked_contacts
{
	int			n;
	int64	   *ids;			/* ascending */
	TimestampTz *created_at;
} cdp_locked_contacts;
extern void cdp_lock_value_owners(cdp_owner_lookup lookup, void *arg,
								  cdp_locked_contacts *locked);
extern TimestampTz cdp_locked_created_at(const cdp_locked_contacts *locked, int64 id);

/* kinds.c */
extern cdp_kinds *cdp_load_kinds(void);
extern bool cdp_any_suppressions(void);
extern const cdp_kind *cdp_find_kind(const cdp_kinds *kinds, const char *kind);

/* merge_inputs.c: what the merge-rule core needs to know of existing contacts */
typedef int32 (*cdp_contact_index_fn) (void *arg, int64 id);
extern int	cdp_read_merge_blocks(const int64 *ids, int n, cdp_contact_index_fn index_of, void *arg,
								  int32 **pairs);
extern void cdp_read_limited_counts(const cdp_kinds *kinds, const int64 *ids, int n,
									char **names, int nnames, cdp_contact_index_fn index_of,
									void *arg, int32 *counts);
extern bool cdp_value_blocked(const cdp_kind *kind, const char *value);

/* resolve_input.c: parse resolve()'s jsonb into normalised items */
extern cdp_item *cdp_parse_identifiers(Jsonb *input, const cdp_kinds *kinds,
									   const char *default_region, bool skip_invalid,
									   int *nitems);
extern char *cdp_invalid_reason(const cdp_norm_error *err, const char *region);

/*
 * contacts.c: the one contact lock.  CDP_LOCK_CHILD_ROWS (FOR NO KEY UPDATE)
 * for writes that add or change a contact's child rows (profiles, tags,
 * events ...); CDP_LOCK_CONTACT_ROW (FOR UPDATE) where the contacts row
 * itself changes or goes (merge, unmerge, update_contact, forget).
 */
typedef enum cdp_contact_lock
{
	CDP_LOCK_CHILD_ROWS = 0,
	CDP_LOCK_CONTACT_ROW = 1
} cdp_contact_lock;

extern int64 cdp_lock_contact(int64 id, cdp_contact_lock mode);
extern void cdp_lock_live_contacts(const int64 *ids, int n, cdp_contact_lock mode,
								   int64 *live);
extern void cdp_refresh_contact_type(int64 id);
extern bool cdp_merge_blocked(int64 a, int64 b, int64 *end_a, int64 *end_b);
extern Jsonb *cdp_identifier_evidence(const char *kind, const char *value);

/* resolve_write.c: the bulk writes of one resolve */
extern int64 cdp_attach_identifiers(cdp_item *items, int n, int64 contact,
									const char *source);
extern void cdp_touch_identifiers(cdp_item *items, int n);
extern void cdp_record_conflicts(int n, char **rule, char **kind, char **value,
								 const int64 *contact_id, const int64 *other_contact_id,
								 char **source, char **reason);

/* merge.c: absorb one contact into another; returns the cdp.merges id */
extern int64 cdp_merge_into(int64 survivor, int64 absorbed, const char *reason,
							Jsonb *evidence, const char *source);

#endif
