/*
 * changes_bulk.c
 *	  The change capture of bulk inserts: resolve_all writes hundreds of
 *	  thousands of contacts and identifiers at once, and one set-based
 *	  statement records them as the per-row trigger would (same diffs).
 */
#include "cdp.h"
#include "activation/changes.h"
#include "segment/segment_membership.h"
#include "spi_plans.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "utils/lsyscache.h"

bool		cdp_capture_suppressed = false;

/*
 * The trigger's diff of an inserted row: every column but the object's key,
 * the label and the bookkeeping columns, as [null, value] (to_jsonb values).
 */
static cdp_query capture_contacts = {
	"INSERT INTO cdp.changes (object_type, object_id, contact_id, action, diff)"
	" SELECT 'contact', c.id, c.id, 'insert',"
	"        (SELECT jsonb_object_agg(e.key, jsonb_build_array(NULL, e.value))"
	"           FROM jsonb_each(to_jsonb(c) - ARRAY['id', 'updated_at', 'last_seen_at', 'first_seen_at']) e)"
	"   FROM cdp.contacts c WHERE c.id = ANY ($1) ORDER BY c.id"
	" RETURNING contact_id",
	1, {INT8ARRAYOID}
};

static cdp_query capture_identifiers = {
	"INSERT INTO cdp.changes (object_type, object_id, contact_id, action, diff)"
	" SELECT 'contact', i.contact_id, i.contact_id, 'update',"
	"        (SELECT jsonb_object_agg('identifiers.' || i.kind || '.' || e.key, jsonb_build_array(NULL, e.value))"
	"           FROM jsonb_each(to_jsonb(i) - ARRAY['contact_id', 'kind', 'updated_at', 'last_seen_at', 'first_seen_at']) e)"
	"   FROM cdp.identifiers i WHERE i.id = ANY ($1) ORDER BY i.id"
	" RETURNING contact_id",
	1, {INT8ARRAYOID}
};

void
cdp_capture_inserted(const char *table, Datum ids)
{
	bool		contacts = strcmp(table, "contacts") == 0;
	Oid			relid = get_relname_relid(table, get_namespace_oid("cdp", false));

	cdp_execute(contacts ? &capture_contacts : &capture_identifiers, &ids, NULL, false, 0);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		Datum		contact = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull);

		cdp_segments_note_change(relid, false, isnull ? 0 : DatumGetInt64(contact));
	}
	if (SPI_processed > 0)
		Async_Notify("cdp_changes", "");
	SPI_freetuptable(SPI_tuptable);
}
