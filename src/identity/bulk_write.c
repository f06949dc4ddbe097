/*
 * bulk_write.c
 *	  resolve_all's write phase: merges into each component's survivor, new
 *	  contacts and identifiers through COPY with their changes, identifiers
 *	  and contacts seen again, and the links the merge rules refused.
 */
#include "identity/bulk.h"
#include "activation/changes.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

/* Existing contacts' main identifiers: a new one of that kind is not main. */
static cdp_query existing_mains_query = {
	"SELECT contact_id, kind FROM cdp.identifiers WHERE contact_id = ANY ($1) AND slug = 'main'",
	1, {INT8ARRAYOID}
};

/*
 * Runs a write whose rows the change capture would record one trigger call
 * at a time: they change only bookkeeping columns, which the capture skips
 * anyway.
 */
static void
execute_uncaptured(cdp_query *query, Datum *args)
{
	cdp_capture_suppressed = true;
	PG_TRY();
	{
		cdp_execute(query, args, NULL, false, 0);
	}
	PG_FINALLY();
	{
		cdp_capture_suppressed = false;
	}
	PG_END_TRY();
}

/* Writes the rows built so far, which the caller records in cdp.changes. */
static void
flush_uncaptured(cdp_copy *copy)
{
	cdp_capture_suppressed = true;
	PG_TRY();
	{
		cdp_copy_flush(copy);
	}
	PG_FINALLY();
	{
		cdp_capture_suppressed = false;
	}
	PG_END_TRY();
}

/* A new row's key, from the sequence its column default draws from. */
static Oid
id_sequence(const char *name)
{
	return get_relname_relid(name, get_namespace_oid("cdp", false));
}

static cdp_query touch_identifiers_query = {
	"UPDATE cdp.identifiers SET last_seen_at = now() WHERE id = ANY($1)",
	1, {INT8ARRAYOID}
};

static cdp_query touch_contacts_query = {
	"UPDATE cdp.contacts SET last_seen_at = now() WHERE id = ANY($1)",
	1, {INT8ARRAYOID}
};

static cdp_query refresh_types_query = {
	"SELECT cdp_internal.refresh_contact_type(id) FROM unnest($1::bigint[]) AS id",
	1, {INT8ARRAYOID}
};

/*
 * The contact of each component: its survivor, into which the other
 * existing contacts it joined are merged, or a new one (written through
 * COPY, ids drawn in component order, so that they follow the input).
 */
static void
assign_contacts(bulk_state *s, cdp_bulk_changes *changes)
{
	cdp_mr_result *res = &s->result;
	int32		ncomp = res->ncomponents;
	int32		nnew = 0;

	s->component_contact = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(ncomp, 1));
	s->component_existing = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(bool) * Max(ncomp, 1));
	for (int32 k = 0; k < ncomp; k++)
	{
		s->component_existing[k] = res->survivor[k] >= 0;
		if (s->component_existing[k])
			s->component_contact[k] = s->contacts[res->survivor[k]].id;
		else
			nnew++;
	}

	/* existing contacts a component joined are merged into its survivor */
	for (int32 c = 0; c < s->ncontacts; c++)
	{
		int32		k = res->contact_component[c];
		bulk_value *ev;

		if (k < 0 || c == res->survivor[k])
			continue;
		CHECK_FOR_INTERRUPTS();
		ev = &s->values[s->evidence[c]];
		cdp_merge_into(s->component_contact[k], s->contacts[c].id, "resolve_all",
					   cdp_identifier_evidence(ev->kind->kind, ev->value), NULL);
	}

	if (nnew > 0)
	{
		static const char *const columns[] = {"id", "last_seen_at"};
		Oid			sequence = id_sequence("contacts_id_seq");
		char	   *now = DatumGetCString(DirectFunctionCall1(timestamptz_out,
															  TimestampTzGetDatum(GetCurrentTransactionStartTimestamp())));
		cdp_copy	contacts;

		cdp_copy_begin(&contacts, "cdp", "contacts", columns, lengthof(columns));
		for (int32 k = 0; k < ncomp; k++)
		{
			if (s->component_existing[k])
				continue;
			s->component_contact[k] = nextval_internal(sequence, true);
			cdp_copy_int8(&contacts, s->component_contact[k]);
			cdp_copy_text(&contacts, now);
			cdp_copy_end_row(&contacts);
			if (cdp_copy_full(&contacts))
				flush_uncaptured(&contacts);
			cdp_bulk_changes_contact(changes, s->component_contact[k]);
		}
		flush_uncaptured(&contacts);
		cdp_copy_end(&contacts);
	}
}

/* The contacts of the components an existing contact survives in. */
static int64 *
existing_survivors(bulk_state *s, int *n)
{
	int32		ncomp = s->result.ncomponents;
	int64	   *ids = palloc(sizeof(int64) * Max(ncomp, 1));

	*n = 0;
	for (int32 k = 0; k < ncomp; k++)
		if (s->component_existing[k])
			ids[(*n)++] = s->component_contact[k];
	return ids;
}

/*
 * Marks the kinds of which an existing survivor holds a main identifier
 * already (its own or one merged into it): a new one of them is not main.
 */
static void
mark_existing_mains(bulk_state *s, bool *has_main)
{
	int			n;
	int64	   *ids = existing_survivors(s, &n);
	for (int start = 0; start < n; start += BULK_BATCH)
	{
		Datum		args[1] = {cdp_int8_array(ids + start, Min(BULK_BATCH, n - start))};

		cdp_execute(&existing_mains_query, args, NULL, false, 0);
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	row = SPI_tuptable->vals[r];
			bool		isnull;
			int64		contact = DatumGetInt64(SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull));
			const cdp_kind *kind = cdp_find_kind(s->kinds, SPI_getvalue(row, SPI_tuptable->tupdesc, 2));
			int32		c = cdp_bulk_contact_index(s, contact);
			int32		k = c >= 0 ? s->result.contact_component[c] : -1;

			if (kind != NULL && k >= 0)
				has_main[k * s->kinds->nkinds + (kind - s->kinds->kinds)] = true;
		}
		SPI_freetuptable(SPI_tuptable);
	}
	pfree(ids);
}

/*
 * The new identifiers through COPY, the first of a kind on a contact as
 * "main" unless the contact has one already; the stored ones the input
 * linked again are refreshed.
 */
static void
write_identifiers(bulk_state *s, cdp_bulk_changes *changes)
{
	static const char *const columns[] = {
		"id", "contact_id", "kind", "value", "raw_value", "slug", "source"
	};
	cdp_mr_result *res = &s->result;
	int32		ncomp = res->ncomponents;
	int			nkinds = s->kinds->nkinds;
	bool	   *has_main = MemoryContextAllocHuge(CurrentMemoryContext,
												  sizeof(bool) * Max(ncomp, 1) * nkinds);
	bool	   *seen = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(bool) * Max(s->nvalues, 1));
	int64	   *touched = s->existing_id == NULL ? NULL :
		MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(s->nvalues, 1));
	int32		ntouched = 0;
	Oid			sequence = id_sequence("identifiers_id_seq");
	cdp_copy	identifiers;

	memset(has_main, 0, sizeof(bool) * Max(ncomp, 1) * nkinds);
	mark_existing_mains(s, has_main);

	/* a stored value is seen again when a link to it was made */
	memset(seen, 0, sizeof(bool) * Max(s->nvalues, 1));
	for (int64 e = 0; e < s->nlinks; e++)
		if (res->outcome[e] == CDP_MR_LINKED)
			seen[s->links[e].value] = true;

	cdp_copy_begin(&identifiers, "cdp", "identifiers", columns, lengthof(columns));
	identifiers.citus_also = "INSERT INTO cdp.identifier_index (value, kind, contact_id, identifier_id)"
		" SELECT value, kind, contact_id, id FROM %s";
	for (int32 v = 0; v < s->nvalues; v++)
	{
		bulk_value *value = &s->values[v];
		int32		k = res->value_component[v];
		bool	   *main;
		int64		id;
		int64		contact;
		const char *slug;

		if (k < 0 || !seen[v])
			continue;			/* its links were all refused or made nothing */
		if (BULK_EXISTING_ID(s, v) != 0)
		{
			if (value->kind->matchable)
				touched[ntouched++] = BULK_EXISTING_ID(s, v);
			continue;
		}
		main = &has_main[k * nkinds + (value->kind - s->kinds->kinds)];
		slug = *main ? NULL : "main";
		*main = true;
		id = nextval_internal(sequence, true);
		contact = s->component_contact[k];

		cdp_copy_int8(&identifiers, id);
		cdp_copy_int8(&identifiers, contact);
		cdp_copy_text(&identifiers, value->kind->kind);
		cdp_copy_text(&identifiers, value->value);
		cdp_copy_text(&identifiers, value->raw_value);
		cdp_copy_text(&identifiers, slug);
		cdp_copy_text(&identifiers, s->sources[value->source]);
		cdp_copy_end_row(&identifiers);
		if (cdp_copy_full(&identifiers))
		{
			CHECK_FOR_INTERRUPTS();
			flush_uncaptured(&identifiers);
		}
		cdp_bulk_changes_identifier(changes, id, contact, value->kind->kind, value->value,
									value->raw_value, slug, s->sources[value->source]);
	}
	flush_uncaptured(&identifiers);
	ereport(s->progress_level,
			(errmsg("resolve_all: wrote %lld new identifiers", (long long) cdp_copy_end(&identifiers))));

	for (int32 start = 0; start < ntouched; start += BULK_BATCH)
	{
		Datum		args[1] = {cdp_int8_array(touched + start, Min(BULK_BATCH, ntouched - start))};

		execute_uncaptured(&touch_identifiers_query, args);
	}
}

/* Touch the existing survivors and keep their type true. */
static void
touch_existing_contacts(bulk_state *s)
{
	int			n;
	int64	   *ids = existing_survivors(s, &n);
	for (int start = 0; start < n; start += BULK_BATCH)
	{
		Datum		args[1] = {cdp_int8_array(ids + start, Min(BULK_BATCH, n - start))};

		execute_uncaptured(&touch_contacts_query, args);
		cdp_execute(&refresh_types_query, args, NULL, false, 0);
	}
}

/*
 * The refused links as conflicts, in batches: the value (as it came when
 * invalid), the contact holding it now, the record's contact (none for a
 * record without a valid value) and the source of the row.
 */
static void
write_conflicts(bulk_state *s)
{
	cdp_mr_result *res = &s->result;
	char	  **rule = palloc(sizeof(char *) * BULK_BATCH);
	char	  **kind = palloc(sizeof(char *) * BULK_BATCH);
	char	  **value = palloc(sizeof(char *) * BULK_BATCH);
	int64	   *holder = palloc(sizeof(int64) * BULK_BATCH);
	int64	   *other = palloc(sizeof(int64) * BULK_BATCH);
	char	  **source = palloc(sizeof(char *) * BULK_BATCH);
	char	  **reason = palloc(sizeof(char *) * BULK_BATCH);
	int			n = 0;

	if (res->nrefused == 0)
		return;
	for (int64 e = 0; e <= s->nlinks; e++)
	{
		if (e < s->nlinks && CDP_MR_REFUSED(res->outcome[e]))
		{
			bulk_value *v = &s->values[s->links[e].value];
			int32		vk = res->value_component[s->links[e].value];
			int32		rk = res->record_component[s->links[e].record];

			rule[n] = (char *) cdp_mr_rule_name(res->outcome[e]);
			kind[n] = v->kind->kind;
			value[n] = (char *) v->value;
			holder[n] = vk >= 0 ? s->component_contact[vk] : BULK_OWNER(s, s->links[e].value);
			other[n] = rk >= 0 ? s->component_contact[rk] : 0;
			source[n] = (char *) s->sources[s->link_source[e]];
			reason[n] = (char *) (v->invalid ? cdp_bulk_invalid_reason(s, s->links[e].value) : NULL);
			n++;
		}
		if (n > 0 && (n == BULK_BATCH || e == s->nlinks))
		{
			CHECK_FOR_INTERRUPTS();
			cdp_record_conflicts(n, rule, kind, value, holder, other, source, reason);
			n = 0;
		}
	}
}

void
cdp_bulk_write(bulk_state *s)
{
	cdp_bulk_changes changes;

	cdp_bulk_changes_begin(&changes);
	assign_contacts(s, &changes);
	write_identifiers(s, &changes);
	cdp_bulk_changes_end(&changes);
	touch_existing_contacts(s);
	write_conflicts(s);
}
