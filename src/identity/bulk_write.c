/*
 * bulk_write.c
 *	  resolve_all's write phase, in bulk statements: merges into each
 *	  component's survivor, new contacts, new identifiers, identifiers and
 *	  contacts seen again, and the links the merge rules refused.
 */
#include "identity/bulk.h"
#include "activation/changes.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

static cdp_query new_contacts_query = {
	"INSERT INTO cdp.contacts (last_seen_at)"
	" SELECT now() FROM generate_series(1, $1) RETURNING id",
	1, {INT4OID}
};

/* Only a contact that existed before may hold the slug already. */
static cdp_query insert_identifiers_query = {
	"INSERT INTO cdp.identifiers (contact_id, kind, value, raw_value, slug, source)"
	" SELECT u.contact_id, u.kind, u.value, u.raw_value,"
	"        CASE WHEN u.slug IS NOT NULL AND u.existing AND EXISTS ("
	"                SELECT 1 FROM cdp.identifiers s WHERE s.contact_id = u.contact_id"
	"                   AND s.kind = u.kind AND s.slug = u.slug)"
	"             THEN NULL ELSE u.slug END,"
	"        u.source"
	"   FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"
	"               $7::boolean[])"
	"        AS u(contact_id, kind, value, raw_value, slug, source, existing)"
	" RETURNING id",
	7, {INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	BOOLARRAYOID}
};

/*
 * Runs a write whose rows the change capture would record one trigger call
 * at a time: the caller records them in one statement (changes_bulk.c), or
 * they change only bookkeeping columns, which the capture skips anyway.
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
 * existing contacts it joined are merged, or a new one (made in one
 * statement, ids handed out in component order, so they follow the input).
 */
static void
assign_contacts(bulk_state *s)
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
		Datum		args[1] = {Int32GetDatum(nnew)};
		int64	   *ids = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * nnew);
		int32		i = 0;

		execute_uncaptured(&new_contacts_query, args);
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			bool		isnull;

			ids[r] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
		}
		SPI_freetuptable(SPI_tuptable);
		qsort(ids, nnew, sizeof(int64), cdp_compare_int64);
		cdp_capture_inserted("contacts", cdp_int8_array(ids, nnew));
		for (int32 k = 0; k < ncomp; k++)
			if (!s->component_existing[k])
				s->component_contact[k] = ids[i++];
	}
}

/*
 * The new identifiers in bulk, the first of a kind on a contact as "main"
 * unless the contact already has one; the stored ones the input linked
 * again are refreshed.
 */
static void
write_identifiers(bulk_state *s)
{
	cdp_mr_result *res = &s->result;
	int32		ncomp = res->ncomponents;
	int			nkinds = s->kinds->nkinds;
	bool	   *has_main = MemoryContextAllocHuge(CurrentMemoryContext,
												  sizeof(bool) * Max(ncomp, 1) * nkinds);
	bool	   *seen = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(bool) * Max(s->nvalues, 1));
	int64	   *touched = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(s->nvalues, 1));
	int32		ntouched = 0;
	int64	   *c_contact = palloc(sizeof(int64) * BULK_BATCH);
	char	  **c_kind = palloc(sizeof(char *) * BULK_BATCH);
	char	  **c_value = palloc(sizeof(char *) * BULK_BATCH);
	char	  **c_raw = palloc(sizeof(char *) * BULK_BATCH);
	char	  **c_slug = palloc(sizeof(char *) * BULK_BATCH);
	char	  **c_source = palloc(sizeof(char *) * BULK_BATCH);
	Datum	   *c_existing = palloc(sizeof(Datum) * BULK_BATCH);
	int64	   *c_inserted = palloc(sizeof(int64) * BULK_BATCH);
	int			nbatch = 0;
	int64		written = 0;

	memset(has_main, 0, sizeof(bool) * Max(ncomp, 1) * nkinds);

	/* a stored value is seen again when a link to it was made */
	memset(seen, 0, sizeof(bool) * Max(s->nvalues, 1));
	for (int64 e = 0; e < s->nlinks; e++)
		if (res->outcome[e] == CDP_MR_LINKED)
			seen[s->links[e].value] = true;

	for (int32 v = 0; v <= s->nvalues; v++)
	{
		if (v < s->nvalues)
		{
			bulk_value *value = &s->values[v];
			int32		k = res->value_component[v];
			bool	   *main;

			if (k < 0 || !seen[v])
				continue;		/* its links were all refused or made nothing */
			if (value->existing_id != 0)
			{
				if (value->kind->matchable)
					touched[ntouched++] = value->existing_id;
				continue;
			}
			main = &has_main[k * nkinds + (value->kind - s->kinds->kinds)];
			c_contact[nbatch] = s->component_contact[k];
			c_kind[nbatch] = value->kind->kind;
			c_value[nbatch] = (char *) value->value;
			c_raw[nbatch] = (char *) value->raw_value;
			c_slug[nbatch] = *main ? NULL : "main";
			c_source[nbatch] = (char *) value->source;
			c_existing[nbatch] = BoolGetDatum(s->component_existing[k]);
			*main = true;
			nbatch++;
		}
		if (nbatch > 0 && (nbatch == BULK_BATCH || v == s->nvalues))
		{
			Datum		args[7];

			CHECK_FOR_INTERRUPTS();
			args[0] = cdp_int8_array(c_contact, nbatch);
			args[1] = cdp_text_array(c_kind, nbatch);
			args[2] = cdp_text_array(c_value, nbatch);
			args[3] = cdp_text_array(c_raw, nbatch);
			args[4] = cdp_text_array(c_slug, nbatch);
			args[5] = cdp_text_array(c_source, nbatch);
			args[6] = PointerGetDatum(construct_array(c_existing, nbatch, BOOLOID, 1, true,
													  TYPALIGN_CHAR));
			execute_uncaptured(&insert_identifiers_query, args);
			for (uint64 r = 0; r < SPI_processed; r++)
			{
				bool		isnull;

				c_inserted[r] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
			}
			cdp_capture_inserted("identifiers", cdp_int8_array(c_inserted, (int) SPI_processed));
			written += nbatch;
			nbatch = 0;
		}
	}
	ereport(s->progress_level,
			(errmsg("resolve_all: wrote %lld new identifiers", (long long) written)));

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
	int32		ncomp = s->result.ncomponents;
	int64	   *ids = palloc(sizeof(int64) * Max(ncomp, 1));
	int			n = 0;

	for (int32 k = 0; k < ncomp; k++)
		if (s->component_existing[k])
			ids[n++] = s->component_contact[k];
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
			holder[n] = vk >= 0 ? s->component_contact[vk] : v->owner;
			other[n] = rk >= 0 ? s->component_contact[rk] : 0;
			source[n] = (char *) s->link_source[e];
			reason[n] = (char *) v->invalid;
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
	assign_contacts(s);
	write_identifiers(s);
	touch_existing_contacts(s);
	write_conflicts(s);
}
