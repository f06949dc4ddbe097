/*
 * changes_bulk.c
 *	  The change capture of bulk inserts: resolve_all writes hundreds of
 *	  thousands of contacts and identifiers at once, and records them through
 *	  COPY with the diffs the per-row trigger would write for the same rows.
 */
#include "cdp.h"
#include "activation/changes.h"
#include "citus/citus.h"
#include "segment/segment_membership.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

bool		cdp_capture_suppressed = false;

static const char *const change_columns[] = {
	"txid", "object_type", "object_id", "contact_id", "action", "diff"
};

void
cdp_bulk_changes_begin(cdp_bulk_changes *changes)
{
	Oid			cdp = get_namespace_oid("cdp", false);
	Datum		now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());

	cdp_copy_begin(&changes->copy, "cdp", "changes", change_columns, lengthof(change_columns));
	/* pg_current_xact_id() is volatile: as a column default it would make COPY insert row by row */
	changes->txid = DatumGetCString(DirectFunctionCall1(xid8out, DirectFunctionCall1(pg_current_xact_id, (Datum) 0)));
	changes->now_json = psprintf("\"%s\"", JsonEncodeDateTime(NULL, now, TIMESTAMPTZOID, NULL));
	changes->contacts = get_relname_relid("contacts", cdp);
	changes->identifiers = get_relname_relid("identifiers", cdp);
	initStringInfo(&changes->diff);
	initStringInfo(&changes->scratch);
}

/*
 * Starts the field "prefix key": [null, — its caller writes the value and
 * the "]".  The name is built in one scratch buffer: a 10M-record load
 * writes 250M fields.
 */
static void
diff_key(cdp_bulk_changes *changes, const char *prefix, const char *key)
{
	StringInfo	diff = &changes->diff;
	StringInfo	name = &changes->scratch;

	if (diff->len > 1)
		appendStringInfoString(diff, ", ");
	resetStringInfo(name);
	if (prefix != NULL)
		appendStringInfoString(name, prefix);
	appendStringInfoString(name, key);
	escape_json(diff, name->data);
	appendStringInfoString(diff, ": [null, ");
}

/* "prefix key": [null, value], value JSON already */
static void
diff_field(cdp_bulk_changes *changes, const char *prefix, const char *key, const char *json)
{
	diff_key(changes, prefix, key);
	appendStringInfoString(&changes->diff, json);
	appendStringInfoChar(&changes->diff, ']');
}

/* "prefix key": [null, "text"] or [null, null] */
static void
diff_text(cdp_bulk_changes *changes, const char *prefix, const char *key, const char *value)
{
	if (value == NULL)
	{
		diff_field(changes, prefix, key, "null");
		return;
	}
	diff_key(changes, prefix, key);
	escape_json(&changes->diff, value);
	appendStringInfoChar(&changes->diff, ']');
}

static void
write_change(cdp_bulk_changes *changes, int64 contact, const char *action, Oid relid)
{
	cdp_copy_text(&changes->copy, changes->txid);
	cdp_copy_text(&changes->copy, "contact");
	cdp_copy_int8(&changes->copy, contact);
	cdp_copy_int8(&changes->copy, contact);
	cdp_copy_text(&changes->copy, action);
	cdp_copy_text(&changes->copy, changes->diff.data);
	cdp_copy_end_row(&changes->copy);
	if (cdp_copy_full(&changes->copy))
		cdp_copy_flush(&changes->copy);
	cdp_segments_note_change(relid, false, contact);
}

/*
 * A contact resolve_all made: every column but its key and the bookkeeping
 * columns, as it inserts them (no names, a ghost until refreshed).
 */
void
cdp_bulk_changes_contact(cdp_bulk_changes *changes, int64 contact)
{
	StringInfo	diff = &changes->diff;

	resetStringInfo(diff);
	appendStringInfoChar(diff, '{');
	diff_text(changes, NULL, "type", "ghost");
	diff_field(changes, NULL, "is_vendor", "false");
	diff_field(changes, NULL, "created_at", changes->now_json);
	diff_text(changes, NULL, "given_name", NULL);
	diff_text(changes, NULL, "archived_at", NULL);
	diff_text(changes, NULL, "family_name", NULL);
	diff_text(changes, NULL, "merged_into", NULL);
	appendStringInfoChar(diff, '}');
	write_change(changes, contact, "insert", changes->contacts);
}

/*
 * An identifier resolve_all added: an update of its contact, each column as
 * identifiers.<kind>.<column>, the contact, kind and bookkeeping left out.
 */
void
cdp_bulk_changes_identifier(cdp_bulk_changes *changes, int64 id, int64 contact,
							const char *kind, const char *value,
							const char *raw_value, const char *slug,
							const char *source)
{
	StringInfo	diff = &changes->diff;
	char		prefix[NAMEDATALEN * 2];
	char		idtext[32];

	snprintf(prefix, sizeof(prefix), "identifiers.%s.", kind);
	snprintf(idtext, sizeof(idtext), INT64_FORMAT, id);
	resetStringInfo(diff);
	appendStringInfoChar(diff, '{');
	diff_field(changes, prefix, "id", idtext);
	diff_text(changes, prefix, "slug", slug);
	diff_text(changes, prefix, "value", value);
	diff_text(changes, prefix, "source", source);
	diff_field(changes, prefix, "outreach", "false");
	diff_text(changes, prefix, "raw_value", raw_value);
	diff_field(changes, prefix, "is_validated", "false");
	diff_text(changes, prefix, "validated_at", NULL);
	diff_text(changes, prefix, "validation_method", NULL);
	appendStringInfoChar(diff, '}');
	write_change(changes, contact, "update", changes->identifiers);
}

/* Writes what is left and tells the listeners, once, at commit. */
void
cdp_bulk_changes_end(cdp_bulk_changes *changes)
{
	if (cdp_copy_end(&changes->copy) > 0)
		Async_Notify("cdp_changes", "");
	pfree(changes->diff.data);
	pfree(changes->scratch.data);
}
