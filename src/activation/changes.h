/*
 * changes.h
 *	  The change capture's interface to bulk writers, which record what they
 *	  insert through COPY instead of one trigger call per row.
 */
#ifndef CDP_CHANGES_H
#define CDP_CHANGES_H

#include "postgres.h"

#include "copy_rows.h"

/* While true, the capture trigger records nothing (the caller does). */
extern bool cdp_capture_suppressed;

/*
 * The changes of a bulk insert, written to cdp.changes through COPY with the
 * diffs the capture trigger would write for the same rows.
 */
typedef struct cdp_bulk_changes
{
	cdp_copy	copy;
	char	   *txid;			/* this transaction's, as text */
	char	   *now_json;		/* now() as to_jsonb writes it, quoted */
	Oid			contacts;		/* cdp.contacts, cdp.identifiers */
	Oid			identifiers;
	StringInfoData diff;		/* the diff being built */
	StringInfoData scratch;		/* a field's name */
} cdp_bulk_changes;

extern void cdp_bulk_changes_begin(cdp_bulk_changes *changes);
extern void cdp_bulk_changes_contact(cdp_bulk_changes *changes, int64 contact);
extern void cdp_bulk_changes_identifier(cdp_bulk_changes *changes, int64 id, int64 contact,
										const char *kind, const char *value,
										const char *raw_value, const char *slug,
										const char *source);
extern void cdp_bulk_changes_end(cdp_bulk_changes *changes);

#endif
