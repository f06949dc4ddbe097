/*
 * resolve.c
 *	  cdp.resolve(identifiers, source, region, on_invalid): find the contact
 *	  a record belongs to, creating, attaching or merging under the merge
 *	  rules of DESIGN §5 (merge_rules.c), inside the caller's transaction.
 */
#include "cdp.h"
#include "citus/citus.h"
#include "identity/identity.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(cdp_resolve);

static cdp_query suppressed_query = {
	"SELECT 1 FROM cdp.suppressions"
	" WHERE kind = $1 AND value_hash = cdp_internal.identifier_hash($1, $2)",
	2, {TEXTOID, TEXTOID}
};

/*
 * Up to LOOKUP_BATCH identifiers are looked up by one statement, a UNION ALL
 * of unique-index probes (one per identifier, so each is planned as a probe;
 * a join against arrays gets a generic plan that may scan the table).  The
 * statement for n identifiers is made on first use.
 */
#define LOOKUP_BATCH 6
static cdp_query lookup_queries[LOOKUP_BATCH + 1];

/*
 * On Citus one value at a time, in the index distributed by value: each
 * lookup is one shard's (a UNION ALL of lookups is planned across shards).
 */
static cdp_query citus_lookup_query = {
	"SELECT 0, identifier_id, contact_id FROM cdp.identifier_index WHERE value = $2 AND kind = $1",
	2, {TEXTOID, TEXTOID}, .citus_generic = true
};

static cdp_query *
lookup_query(int n)
{
	cdp_query  *query = &lookup_queries[n];

	if (cdp_citus_mode())
	{
		Assert(n == 1);
		return &citus_lookup_query;
	}

	Assert(n >= 1 && n <= LOOKUP_BATCH && 2 * n <= lengthof(query->argtypes));
	if (query->sql == NULL)
	{
		StringInfoData sql;
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		initStringInfo(&sql);
		for (int i = 0; i < n; i++)
		{
			appendStringInfo(&sql,
							 "%sSELECT %d, id, contact_id FROM cdp.identifiers"
							 " WHERE kind = $%d AND value = $%d",
							 i > 0 ? " UNION ALL " : "", i, 2 * i + 1, 2 * i + 2);
			query->argtypes[2 * i] = TEXTOID;
			query->argtypes[2 * i + 1] = TEXTOID;
		}
		query->nargs = 2 * n;
		query->cursor_options = CURSOR_OPT_GENERIC_PLAN;
		query->sql = sql.data;
		MemoryContextSwitchTo(old);
	}
	return query;
}

/* Returns whether the type can be other than ghost (a vendor, or named). */
static cdp_query touch_contact_query = {
	"UPDATE cdp.contacts SET last_seen_at = now() WHERE id = $1"
	" RETURNING is_vendor OR coalesce(given_name, '') <> '' OR coalesce(family_name, '') <> ''"
	"        OR type <> 'ghost'",
	1, {INT8OID}, CURSOR_OPT_GENERIC_PLAN, .citus_generic = true
};

/* The record's items that the normaliser accepted. */
typedef struct resolve_record
{
	cdp_item   *items;
	int			n;
	cdp_item  **valid;
	int			nvalid;
} resolve_record;

/* Items that may link the record to a contact. */
static bool
links(const cdp_item *item)
{
	return item->value != NULL && item->kind->matchable && !item->blocked;
}

/* Serialise resolutions that share an identifier value (identifier_locks.c). */
static void
lock_identifier_values(resolve_record *rec)
{
	const char **kinds = palloc(sizeof(char *) * Max(rec->nvalid, 1));
	const char **values = palloc(sizeof(char *) * Max(rec->nvalid, 1));

	for (int i = 0; i < rec->nvalid; i++)
	{
		kinds[i] = rec->valid[i]->kind->kind;
		values[i] = rec->valid[i]->value;
	}
	cdp_lock_identifier_values(kinds, values, rec->nvalid);
	if (IsolationUsesXactSnapshot())
		cdp_check_values_unchanged(cdp_text_array((char **) kinds, rec->nvalid),
								   cdp_text_array((char **) values, rec->nvalid));
}

/*
 * A forgotten person's identifiers are refused (42501).  Checked after the
 * identifier locks: a resolve that waited for forget_contact sees its
 * suppressions.
 */
static void
refuse_suppressed(resolve_record *rec)
{
	if (!cdp_any_suppressions())
		return;
	for (int i = 0; i < rec->nvalid; i++)
	{
		cdp_item   *item = rec->valid[i];
		Datum		args[2] = {CStringGetTextDatum(item->kind->kind),
							   CStringGetTextDatum(item->value)};

		cdp_execute(&suppressed_query, args, NULL, false, 1);
		if (SPI_processed > 0)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("identifier %s \"%s\" belongs to a forgotten person",
							item->kind->kind, item->value),
					 errdetail("cdp.forget_contact() erased this person; their identifiers may not be collected again.")));
	}
}

/*
 * The owner lookup of cdp_lock_value_owners: fill existing_id and owner of
 * every valid item from cdp.identifiers, and return the owners of the items
 * that link.
 */
static int64 *
lookup_items(void *arg, int *nowners)
{
	resolve_record *rec = arg;
	int64	   *owners = palloc(sizeof(int64) * Max(rec->nvalid, 1));
	int			n = 0;

	int			most = cdp_citus_mode() ? 1 : LOOKUP_BATCH;

	for (int start = 0; start < rec->nvalid; start += most)
	{
		int			batch = Min(most, rec->nvalid - start);
		Datum		args[2 * LOOKUP_BATCH];

		for (int i = 0; i < batch; i++)
		{
			cdp_item   *item = rec->valid[start + i];

			item->existing_id = item->owner = 0;
			args[2 * i] = CStringGetTextDatum(item->kind->kind);
			args[2 * i + 1] = CStringGetTextDatum(item->value);
		}
		cdp_execute(lookup_query(batch), args, NULL, false, 0);
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	t = SPI_tuptable->vals[r];
			TupleDesc	d = SPI_tuptable->tupdesc;
			bool		isnull;
			cdp_item   *item = rec->valid[start + DatumGetInt32(SPI_getbinval(t, d, 1, &isnull))];

			item->existing_id = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
			item->owner = DatumGetInt64(SPI_getbinval(t, d, 3, &isnull));
		}
	}
	for (int i = 0; i < rec->nvalid; i++)
		if (links(rec->valid[i]) && rec->valid[i]->owner != 0)
			owners[n++] = rec->valid[i]->owner;
	*nowners = n;
	return owners;
}

/* Stronger first: lower priority number, then earlier in the input. */
static bool
stronger(const cdp_item *a, const cdp_item *b)
{
	if (a->kind->priority != b->kind->priority)
		return a->kind->priority < b->kind->priority;
	return a->position < b->position;
}

/* A contact of the record's graph. */
typedef struct matched
{
	int64		id;
	cdp_item   *evidence;		/* its strongest item that linked */
} matched;

static int
compare_evidence(const void *a, const void *b)
{
	const matched *x = a;
	const matched *y = b;

	if (stronger(x->evidence, y->evidence))
		return -1;
	return stronger(y->evidence, x->evidence) ? 1 : 0;
}

static void *
core_alloc(void *arg, size_t size)
{
	return palloc(size);
}

/*
 * The record as a graph for the merge-rule core: one record, its items as
 * values, the contacts holding them (locked), their limited-kind counts and
 * merge blocks; then the core's verdict.
 */
/* The contacts a record links, for the readers of merge_inputs.c. */
typedef struct linked_contacts
{
	const cdp_mr_contact *contacts;
	int			n;
} linked_contacts;

static int32
linked_index(void *arg, int64 id)
{
	const linked_contacts *m = arg;

	for (int c = 0; c < m->n; c++)
		if (m->contacts[c].id == id)
			return c;
	return -1;
}

static void
apply_rules(resolve_record *rec, const cdp_kinds *kinds, const cdp_locked_contacts *locked,
			cdp_mr_graph *g, cdp_mr_result *res)
{
	cdp_mr_value *values = palloc(sizeof(cdp_mr_value) * rec->n);
	cdp_mr_link *mrlinks = palloc(sizeof(cdp_mr_link) * rec->n);
	cdp_mr_contact *contacts = palloc(sizeof(cdp_mr_contact) * Max(rec->n, 1));
	int			ncontacts = 0;
	linked_contacts linked;
	cdp_mr_env	env = {core_alloc, NULL, NULL};

	memset(g, 0, sizeof(*g));
	for (int i = 0; i < rec->n; i++)
	{
		cdp_item   *item = &rec->items[i];
		cdp_mr_value *v = &values[i];

		v->kind = item->kind - kinds->kinds;
		v->state = item->value == NULL ? CDP_MR_STATE_INVALID :
			item->blocked ? CDP_MR_STATE_BLOCKED : CDP_MR_VALID;
		v->contact = item->existing_id == 0 ? CDP_MR_NEW : CDP_MR_ELSEWHERE;
		if (links(item) && item->owner != 0)
		{
			int			c;

			for (c = 0; c < ncontacts; c++)
				if (contacts[c].id == item->owner)
					break;
			if (c == ncontacts)
			{
				contacts[c].id = item->owner;
				contacts[c].created_at = cdp_locked_created_at(locked, item->owner);
				ncontacts++;
			}
			v->contact = c;
		}
		mrlinks[i].record = 0;
		mrlinks[i].value = i;
	}

	linked.contacts = contacts;
	linked.n = ncontacts;

	/* merge blocks among the contacts */
	if (ncontacts >= 2)
	{
		int64	   *ids = palloc(sizeof(int64) * ncontacts);
		int32	   *blocks;

		for (int c = 0; c < ncontacts; c++)
			ids[c] = contacts[c].id;
		g->nblocks = cdp_read_merge_blocks(ids, ncontacts, linked_index, &linked, &blocks);
		g->blocks = blocks;
	}

	/*
	 * What the contacts hold of the limited kinds: of every limited kind
	 * when the record links two or more (merging them must fit too), else
	 * of those the record brings (a kind it does not bring cannot stop it
	 * attaching to one contact).
	 */
	if (kinds->nlimited > 0 && ncontacts > 0)
	{
		char	  **names = palloc(sizeof(char *) * kinds->nlimited);
		int			nnames = 0;
		int64	   *ids = palloc(sizeof(int64) * ncontacts);
		int32	   *counts = palloc0(sizeof(int32) * ncontacts * kinds->nlimited);

		for (int k = 0; k < kinds->nkinds; k++)
		{
			bool		used = ncontacts >= 2;

			if (kinds->limited_slot[k] < 0)
				continue;
			for (int i = 0; i < rec->n; i++)
				used |= (values[i].kind == k);
			if (used)
				names[nnames++] = kinds->kinds[k].kind;
		}
		for (int c = 0; c < ncontacts; c++)
			ids[c] = contacts[c].id;
		cdp_read_limited_counts(kinds, ids, ncontacts, names, nnames, linked_index, &linked, counts);
		g->counts = counts;
	}

	g->nkinds = kinds->nkinds;
	g->kinds = kinds->rules;
	g->nrecords = 1;
	g->nvalues = rec->n;
	g->values = values;
	g->ncontacts = ncontacts;
	g->contacts = contacts;
	g->nlinks = rec->n;
	g->links = mrlinks;
	cdp_mr_resolve(g, &env, res);
}

/*
 * The refused links as identity_conflicts rows, in one statement: the value
 * (raw when invalid), the contact holding it now, and the record's contact.
 */
static void
record_conflicts(resolve_record *rec, const cdp_mr_graph *g, const cdp_mr_result *res,
				 int64 contact, const char *source)
{
	char	  **rule = palloc(sizeof(char *) * rec->n);
	char	  **kind = palloc(sizeof(char *) * rec->n);
	char	  **value = palloc(sizeof(char *) * rec->n);
	int64	   *holder = palloc(sizeof(int64) * rec->n);
	int64	   *other = palloc(sizeof(int64) * rec->n);
	char	  **sources = palloc(sizeof(char *) * rec->n);
	char	  **reason = palloc(sizeof(char *) * rec->n);
	int			m = 0;

	for (int i = 0; i < rec->n; i++)
	{
		cdp_item   *item = &rec->items[i];

		if (item->refused_by == NULL)
			continue;
		rule[m] = (char *) item->refused_by;
		kind[m] = item->kind->kind;
		value[m] = item->value != NULL ? item->value : item->raw_value;
		holder[m] = item->owner;
		for (int c = 0; c < g->ncontacts; c++)
			if (g->contacts[c].id == item->owner && res->contact_component[c] >= 0 &&
				res->contact_component[c] == res->record_component[0])
				holder[m] = contact;	/* merged into the record's contact */
		other[m] = contact;
		sources[m] = (char *) source;
		reason[m] = item->invalid;
		m++;
	}
	if (m > 0)
		cdp_record_conflicts(m, rule, kind, value, holder, other, sources, reason);
}

/*
 * Resolve the record's items; returns the contact, or 0 when every value
 * was invalid or blocked (no contact is made).
 */
static int64
resolve_items(resolve_record *rec, const cdp_kinds *kinds, const char *source)
{
	cdp_locked_contacts locked;
	cdp_mr_graph g;
	cdp_mr_result res;
	int			k;
	int64		contact = 0;
	bool		existing = false;

	for (int i = 0; i < rec->nvalid; i++)
		rec->valid[i]->blocked = cdp_value_blocked(rec->valid[i]->kind, rec->valid[i]->value);
	cdp_lock_value_owners(lookup_items, rec, &locked);
	apply_rules(rec, kinds, &locked, &g, &res);

	k = res.record_component[0];
	if (k >= 0 && res.survivor[k] >= 0)
	{
		contact = g.contacts[res.survivor[k]].id;
		existing = true;
	}
	for (int i = 0; i < rec->n; i++)
	{
		cdp_item   *item = &rec->items[i];
		cdp_mr_outcome outcome = res.outcome[i];

		item->refused_by = cdp_mr_rule_name(outcome);
		item->attach = outcome == CDP_MR_LINKED && item->existing_id == 0 && k >= 0 &&
			res.value_component[i] == k;
		item->touch = outcome == CDP_MR_LINKED && item->existing_id != 0 &&
			item->kind->matchable && k >= 0 && res.value_component[i] == k;
	}

	if (k >= 0 && !existing)
	{
		/* a new contact, created with its identifiers in one statement */
		contact = cdp_attach_identifiers(rec->items, rec->n, 0, source);
	}
	else if (k >= 0)
	{
		matched    *absorbed = palloc(sizeof(matched) * Max(g.ncontacts, 1));
		int			nabsorbed = 0;

		/* the others of the component are merged in, strongest link first */
		for (int c = 0; c < g.ncontacts; c++)
		{
			if (res.contact_component[c] != k || c == res.survivor[k])
				continue;
			absorbed[nabsorbed].id = g.contacts[c].id;
			absorbed[nabsorbed].evidence = NULL;
			for (int i = 0; i < rec->n; i++)
				if (g.values[i].contact == c && res.outcome[i] == CDP_MR_LINKED &&
					(absorbed[nabsorbed].evidence == NULL ||
					 stronger(&rec->items[i], absorbed[nabsorbed].evidence)))
					absorbed[nabsorbed].evidence = &rec->items[i];
			nabsorbed++;
		}
		qsort(absorbed, nabsorbed, sizeof(matched), compare_evidence);
		for (int m = 0; m < nabsorbed; m++)
			cdp_merge_into(contact, absorbed[m].id, "resolve",
						   cdp_identifier_evidence(absorbed[m].evidence->kind->kind,
												   absorbed[m].evidence->value), source);
		cdp_attach_identifiers(rec->items, rec->n, contact, source);
		cdp_touch_identifiers(rec->items, rec->n);
	}

	record_conflicts(rec, &g, &res, contact, source);

	if (existing)
	{
		Datum		args[1] = {Int64GetDatum(contact)};

		/* a validation added to a held value changes the contact too */
		cdp_citus_note_write(contact);
		cdp_execute(&touch_contact_query, args, NULL, false, 1);
		if (SPI_processed > 0)
		{
			bool		isnull;

			if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
				cdp_refresh_contact_type(contact);
		}
	}
	return contact;
}

/*
 * on_invalid: 'error' (the default) raises on a value the normaliser
 * refuses; 'skip' drops it and records it as an invalid conflict.
 */
static bool
skip_invalid_argument(FunctionCallInfo fcinfo)
{
	char	   *on_invalid;

	if (PG_NARGS() < 4)
		return false;
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("on_invalid must not be null"),
				 errhint("Use 'error' or 'skip'.")));
	on_invalid = text_to_cstring(PG_GETARG_TEXT_PP(3));
	if (strcmp(on_invalid, "skip") == 0)
		return true;
	if (strcmp(on_invalid, "error") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown on_invalid \"%s\"", on_invalid),
				 errhint("Use 'error' or 'skip'.")));
	return false;
}

/* resolve(identifiers jsonb, source text, region text, on_invalid text) -> contact id */
Datum
cdp_resolve(PG_FUNCTION_ARGS)
{
	Jsonb	   *input;
	char	   *source;
	char	   *region;
	bool		skip_invalid;
	cdp_kinds  *kinds;
	resolve_record rec;
	int64		contact;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("identifiers must not be null")));
	input = PG_GETARG_JSONB_P(0);
	source = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	region = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	skip_invalid = skip_invalid_argument(fcinfo);

	SPI_connect();
	kinds = cdp_load_kinds();
	rec.items = cdp_parse_identifiers(input, kinds, region, skip_invalid, &rec.n);
	rec.valid = palloc(sizeof(cdp_item *) * rec.n);
	rec.nvalid = 0;
	for (int i = 0; i < rec.n; i++)
		if (rec.items[i].value != NULL)
			rec.valid[rec.nvalid++] = &rec.items[i];
	lock_identifier_values(&rec);
	refuse_suppressed(&rec);
	contact = resolve_items(&rec, kinds, source);
	SPI_finish();
	if (contact == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(contact);
}
