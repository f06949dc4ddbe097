/*
 * resolve.c
 *	  cdp.resolve(identifiers, source, region): find the contact a record
 *	  belongs to, creating, attaching or merging under the merge rules of
 *	  DESIGN §5, inside the caller's transaction.
 */
#include "cdp.h"
#include "identity/identity.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

PG_FUNCTION_INFO_V1(cdp_resolve);

/* A contact the record matched, with the strongest identifier that matched it. */
typedef struct matched_contact
{
	int64		id;
	TimestampTz created_at;
	cdp_item   *link;			/* strongest matching item */
	bool		accepted;
} matched_contact;

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

static cdp_query *
lookup_query(int n)
{
	cdp_query  *query = &lookup_queries[n];

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

/* One contact at a time, in the caller's (ascending) order: a primary-key probe. */
static cdp_query lock_contact_query = {
	"SELECT created_at FROM cdp.contacts WHERE id = $1 AND merged_into IS NULL FOR UPDATE",
	1, {INT8OID}, CURSOR_OPT_GENERIC_PLAN
};

static cdp_query blocks_query = {
	"SELECT contact_a, contact_b FROM cdp.merge_blocks"
	" WHERE contact_a = ANY($1) AND contact_b = ANY($1)",
	1, {INT8ARRAYOID}
};

static cdp_query kind_counts_query = {
	"SELECT contact_id, kind, count(*) FROM cdp.identifiers"
	" WHERE contact_id = ANY($1) AND kind = ANY($2) GROUP BY contact_id, kind",
	2, {INT8ARRAYOID, TEXTARRAYOID}
};



/* Returns whether the type can be other than ghost (a vendor, or named). */
static cdp_query touch_contact_query = {
	"UPDATE cdp.contacts SET last_seen_at = now() WHERE id = $1"
	" RETURNING is_vendor OR coalesce(given_name, '') <> '' OR coalesce(family_name, '') <> ''"
	"        OR type <> 'ghost'",
	1, {INT8OID}, CURSOR_OPT_GENERIC_PLAN
};

/* Serialise resolutions that share an identifier value (identifier_locks.c). */
static void
lock_identifier_values(cdp_item *items, int n)
{
	const char **kinds = palloc(sizeof(char *) * Max(n, 1));
	const char **values = palloc(sizeof(char *) * Max(n, 1));

	for (int i = 0; i < n; i++)
	{
		kinds[i] = items[i].kind->kind;
		values[i] = items[i].value;
	}
	cdp_lock_identifier_values(kinds, values, n);
}

/* A forgotten person's identifiers are refused (42501). */
static void
refuse_suppressed(cdp_item *items, int n)
{
	if (!cdp_any_suppressions())
		return;
	for (int i = 0; i < n; i++)
	{
		Datum		args[2] = {CStringGetTextDatum(items[i].kind->kind),
							   CStringGetTextDatum(items[i].value)};

		cdp_execute(&suppressed_query, args, NULL, false, 1);
		if (SPI_processed > 0)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("identifier %s \"%s\" belongs to a forgotten person",
							items[i].kind->kind, items[i].value),
					 errdetail("cdp.forget_contact() erased this person; their identifiers may not be collected again.")));
	}
}

/* Fill existing_id and owner of every item from cdp.identifiers. */
static void
lookup_items(cdp_item *items, int n)
{
	for (int start = 0; start < n; start += LOOKUP_BATCH)
	{
		int			batch = Min(LOOKUP_BATCH, n - start);
		Datum		args[2 * LOOKUP_BATCH];

		for (int i = 0; i < batch; i++)
		{
			items[start + i].existing_id = items[start + i].owner = 0;
			args[2 * i] = CStringGetTextDatum(items[start + i].kind->kind);
			args[2 * i + 1] = CStringGetTextDatum(items[start + i].value);
		}
		cdp_execute(lookup_query(batch), args, NULL, false, 0);
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	t = SPI_tuptable->vals[r];
			TupleDesc	d = SPI_tuptable->tupdesc;
			bool		isnull;
			cdp_item   *item = &items[start + DatumGetInt32(SPI_getbinval(t, d, 1, &isnull))];

			item->existing_id = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
			item->owner = DatumGetInt64(SPI_getbinval(t, d, 3, &isnull));
		}
	}
}

/* Items that may link the record to a contact. */
static bool
links(const cdp_item *item)
{
	return item->kind->matchable && !item->blocked && item->refused_by == NULL;
}

/* Stronger first: lower priority number, then earlier in the input. */
static bool
stronger(const cdp_item *a, const cdp_item *b)
{
	if (a->kind->priority != b->kind->priority)
		return a->kind->priority < b->kind->priority;
	return a->position < b->position;
}

/* Contacts locked so far by one pass of lock_rounds. */
typedef struct locked_set
{
	int64	   *ids;
	TimestampTz *created_at;
	int			count;
	int			capacity;
	int64	   *wanted;			/* when out of order: every id the pass needed */
	int			nwanted;
} locked_set;

static bool
is_locked(const locked_set *locked, int64 id)
{
	for (int i = 0; i < locked->count; i++)
		if (locked->ids[i] == id)
			return true;
	return false;
}

/* Row-lock the live contacts among ids (ascending) and remember them. */
static void
lock_contacts(locked_set *locked, int64 *ids, int n)
{
	for (int k = 0; k < n; k++)
	{
		Datum		args[1] = {Int64GetDatum(ids[k])};
		bool		isnull;

		cdp_execute(&lock_contact_query, args, NULL, false, 1);
		if (SPI_processed == 0)
			continue;			/* merged meanwhile: its identifiers moved on */
		if (locked->count == locked->capacity)
		{
			locked->capacity = Max(8, 2 * locked->capacity);
			locked->ids = repalloc(locked->ids, sizeof(int64) * locked->capacity);
			locked->created_at = repalloc(locked->created_at, sizeof(TimestampTz) * locked->capacity);
		}
		locked->ids[locked->count] = ids[k];
		locked->created_at[locked->count] =
			DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		locked->count++;
	}
}

/*
 * Owners of the record's linking identifiers that are not locked yet, in
 * ascending order; looks the identifiers up again first.
 */
static int64 *
unlocked_owners(cdp_item *items, int n, const locked_set *locked, int *count)
{
	int64	   *ids = palloc(sizeof(int64) * Max(n, 1));
	int			nids = 0;

	lookup_items(items, n);
	for (int i = 0; i < n; i++)
	{
		bool		seen = false;

		if (!links(&items[i]) || items[i].owner == 0 || is_locked(locked, items[i].owner))
			continue;
		for (int k = 0; k < nids; k++)
			if (ids[k] == items[i].owner)
				seen = true;
		if (!seen)
			ids[nids++] = items[i].owner;
	}
	qsort(ids, nids, sizeof(int64), cdp_compare_int64);
	*count = nids;
	return ids;
}

/*
 * One pass of locking: the preset ids first, then round after round the
 * owners a fresh lookup finds (a concurrent merge may have moved an
 * identifier meanwhile).  Returns false, with every id it needed in
 * locked->wanted, when a round needs a contact with a lower id than one
 * already held: waiting for it could deadlock.
 */
static bool
lock_rounds(cdp_item *items, int n, int64 *preset, int npreset, locked_set *locked)
{
	if (npreset > 0)
		lock_contacts(locked, preset, npreset);
	for (int round = 0;; round++)
	{
		int			nids;
		int64	   *ids = unlocked_owners(items, n, locked, &nids);
		int64		highest = PG_INT64_MIN;

		if (nids == 0)
			return true;
		if (round > 100)
			elog(ERROR, "identifiers kept moving while resolving");
		for (int i = 0; i < locked->count; i++)
			highest = Max(highest, locked->ids[i]);
		if (locked->count > 0 && ids[0] < highest)
		{
			locked->wanted = palloc(sizeof(int64) * (locked->count + nids));
			memcpy(locked->wanted, locked->ids, sizeof(int64) * locked->count);
			memcpy(locked->wanted + locked->count, ids, sizeof(int64) * nids);
			locked->nwanted = locked->count + nids;
			qsort(locked->wanted, locked->nwanted, sizeof(int64), cdp_compare_int64);
			return false;
		}
		lock_contacts(locked, ids, nids);
	}
}

/*
 * Lock the contacts the record's identifiers belong to, always in ascending
 * id order, and return them.  The locking runs in a subtransaction: when
 * identifiers moved under a concurrent merge and a lower id is needed, the
 * subtransaction is rolled back, releasing its row locks, and the whole set
 * is locked again in order.  A record that matches nothing takes no lock.
 */
static matched_contact *
lock_matched_contacts(cdp_item *items, int n, int *nmatched)
{
	locked_set	locked;
	matched_contact *matched;
	int64	   *preset;
	int			npreset;
	int			count = 0;
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	memset(&locked, 0, sizeof(locked));
	preset = unlocked_owners(items, n, &locked, &npreset);
	if (npreset == 0)
	{
		*nmatched = 0;
		return NULL;
	}

	for (int attempt = 0;; attempt++)
	{
		bool		in_order = false;

		memset(&locked, 0, sizeof(locked));
		locked.ids = palloc(sizeof(int64) * 8);
		locked.created_at = palloc(sizeof(TimestampTz) * 8);
		locked.capacity = 8;

		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(cxt);
		PG_TRY();
		{
			in_order = lock_rounds(items, n, preset, npreset, &locked);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(cxt);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
			ReThrowError(edata);
		}
		PG_END_TRY();

		if (in_order)
		{
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
			break;
		}
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (attempt > 100)
			elog(ERROR, "contacts kept merging while resolving");
		preset = locked.wanted;
		npreset = locked.nwanted;
	}

	matched = palloc(sizeof(matched_contact) * Max(locked.count, 1));
	for (int m = 0; m < locked.count; m++)
	{
		matched[count].id = locked.ids[m];
		matched[count].created_at = locked.created_at[m];
		matched[count].link = NULL;
		matched[count].accepted = true;
		for (int i = 0; i < n; i++)
			if (links(&items[i]) && items[i].owner == locked.ids[m] &&
				(matched[count].link == NULL || stronger(&items[i], matched[count].link)))
				matched[count].link = &items[i];
		/* a contact whose identifiers moved on during the rounds is left out */
		if (matched[count].link != NULL)
			count++;
	}
	*nmatched = count;
	return matched;
}

/* Order matched contacts by their strongest link, ties by creation. */
static int
compare_matched(const void *a, const void *b)
{
	const matched_contact *x = a;
	const matched_contact *y = b;

	if (x->link != y->link)
	{
		if (stronger(x->link, y->link))
			return -1;
		if (stronger(y->link, x->link))
			return 1;
	}
	if (x->created_at != y->created_at)
		return x->created_at < y->created_at ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* Refuse the link of every item leading to contact id. */
static void
refuse_links_to(cdp_item *items, int n, int64 id, const char *rule)
{
	for (int i = 0; i < n; i++)
		if (links(&items[i]) && items[i].owner == id)
			items[i].refused_by = rule;
}

/*
 * Merge blocks: walking the contacts strongest link first, a contact blocked
 * against one already accepted is left out; its linking identifiers stay
 * where they are and become merge_block conflicts.
 */
static void
apply_merge_blocks(cdp_item *items, int n, matched_contact *matched, int nmatched)
{
	int64	   *ids;
	int64	   *pairs;
	int			npairs;
	Datum		args[1];

	if (nmatched < 2)
		return;
	ids = palloc(sizeof(int64) * nmatched);
	for (int m = 0; m < nmatched; m++)
		ids[m] = matched[m].id;
	args[0] = cdp_int8_array(ids, nmatched);
	cdp_execute(&blocks_query, args, NULL, false, 0);
	npairs = SPI_processed;
	if (npairs == 0)
		return;
	pairs = palloc(sizeof(int64) * 2 * npairs);
	for (int p = 0; p < npairs; p++)
	{
		bool		isnull;

		pairs[2 * p] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[p], SPI_tuptable->tupdesc, 1, &isnull));
		pairs[2 * p + 1] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[p], SPI_tuptable->tupdesc, 2, &isnull));
	}
	for (int m = 1; m < nmatched; m++)
	{
		for (int a = 0; a < m && matched[m].accepted; a++)
		{
			if (!matched[a].accepted)
				continue;
			for (int p = 0; p < npairs; p++)
			{
				int64		lo = Min(matched[a].id, matched[m].id);
				int64		hi = Max(matched[a].id, matched[m].id);

				if (pairs[2 * p] == lo && pairs[2 * p + 1] == hi)
				{
					matched[m].accepted = false;
					break;
				}
			}
		}
		if (!matched[m].accepted)
			refuse_links_to(items, n, matched[m].id, "merge_block");
	}
}

/*
 * max_per_contact (Segment's rule): while the contacts the record links,
 * merged, plus its new identifiers would hold more values of a limited kind
 * than allowed, drop the record's weakest remaining identifier among those
 * that link a contact or add a value of that kind.
 */
static void
apply_limits(cdp_item *items, int n, matched_contact *matched, int nmatched)
{
	char	  **limited = palloc(sizeof(char *) * n);
	int			nlimited = 0;
	int64	   *ids = palloc(sizeof(int64) * Max(nmatched, 1));
	int			nids = 0;
	int64	   *count_contact;
	char	  **count_kind;
	int64	   *count_n;
	int			ncounts = 0;
	Datum		args[2];

	for (int i = 0; i < n; i++)
	{
		bool		seen = false;

		if (items[i].kind->max_per_contact == 0)
			continue;
		for (int l = 0; l < nlimited; l++)
			if (strcmp(limited[l], items[i].kind->kind) == 0)
				seen = true;
		if (!seen)
			limited[nlimited++] = items[i].kind->kind;
	}
	if (nlimited == 0)
		return;

	for (int m = 0; m < nmatched; m++)
		if (matched[m].accepted)
			ids[nids++] = matched[m].id;
	args[0] = cdp_int8_array(ids, nids);
	args[1] = cdp_text_array(limited, nlimited);
	cdp_execute(&kind_counts_query, args, NULL, false, 0);
	count_contact = palloc(sizeof(int64) * Max(SPI_processed, 1));
	count_kind = palloc(sizeof(char *) * Max(SPI_processed, 1));
	count_n = palloc(sizeof(int64) * Max(SPI_processed, 1));
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		HeapTuple	t = SPI_tuptable->vals[r];

		count_contact[ncounts] = DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull));
		count_kind[ncounts] = SPI_getvalue(t, SPI_tuptable->tupdesc, 2);
		count_n[ncounts] = DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 3, &isnull));
		ncounts++;
	}

	for (;;)
	{
		bool		violated = false;
		const char *violated_kind = NULL;
		cdp_item   *weakest = NULL;

		for (int l = 0; l < nlimited && !violated; l++)
		{
			int64		total = 0;
			int64		largest = 0;
			int			limit = 0;

			/* contacts still linked after earlier drops */
			for (int c = 0; c < ncounts; c++)
			{
				bool		linked = false;

				if (strcmp(count_kind[c], limited[l]) != 0)
					continue;
				for (int i = 0; i < n; i++)
					if (links(&items[i]) && items[i].owner == count_contact[c])
						linked = true;
				if (!linked)
					continue;
				total += count_n[c];
				largest = Max(largest, count_n[c]);
			}
			for (int i = 0; i < n; i++)
			{
				if (strcmp(items[i].kind->kind, limited[l]) != 0)
					continue;
				limit = items[i].kind->max_per_contact;
				if (!items[i].refused_by && !items[i].blocked && items[i].owner == 0)
					total++;
			}
			violated = total > limit && total > largest;
			if (violated)
				violated_kind = limited[l];
		}
		if (!violated)
			break;

		/*
		 * Only an identifier that links a contact or adds a value of the
		 * offending kind can make the record fit; a new identifier of
		 * another kind is never dropped for it.
		 */
		for (int i = 0; i < n; i++)
		{
			bool		helps = (links(&items[i]) && items[i].owner != 0) ||
				(items[i].owner == 0 && strcmp(items[i].kind->kind, violated_kind) == 0);

			if (helps && !items[i].refused_by && !items[i].blocked &&
				(weakest == NULL || stronger(weakest, &items[i])))
				weakest = &items[i];
		}
		if (weakest == NULL)
			break;
		weakest->refused_by = "limit";
	}
}



static int64
resolve_items(cdp_item *items, int n, const char *source)
{
	matched_contact *matched;
	int			nmatched;
	int64		contact = 0;
	bool		existing = true;
	Datum		args[1];

	for (int i = 0; i < n; i++)
		items[i].blocked = cdp_value_blocked(items[i].kind, items[i].value);

	matched = lock_matched_contacts(items, n, &nmatched);
	if (nmatched > 1)
		qsort(matched, nmatched, sizeof(matched_contact), compare_matched);
	apply_merge_blocks(items, n, matched, nmatched);
	apply_limits(items, n, matched, nmatched);

	/* the survivor is the earliest-created contact still linked */
	{
		int			best = -1;

		for (int m = 0; m < nmatched; m++)
		{
			matched[m].accepted = false;
			for (int i = 0; i < n; i++)
				if (links(&items[i]) && items[i].owner == matched[m].id)
					matched[m].accepted = true;
			if (matched[m].accepted &&
				(best < 0 || matched[m].created_at < matched[best].created_at ||
				 (matched[m].created_at == matched[best].created_at &&
				  matched[m].id < matched[best].id)))
				best = m;
		}
		if (best >= 0)
			contact = matched[best].id;
	}

	if (contact == 0)
	{
		/* a new contact, created with its identifiers in one statement */
		contact = cdp_attach_identifiers(items, n, 0, source);
		existing = false;
	}
	else
	{
		for (int m = 0; m < nmatched; m++)
			if (matched[m].accepted && matched[m].id != contact)
				cdp_merge_into(contact, matched[m].id, "resolve",
							   cdp_identifier_evidence(matched[m].link->kind->kind,
													   matched[m].link->value), source);
		cdp_attach_identifiers(items, n, contact, source);
		cdp_touch_identifiers(items, n);
	}

	for (int i = 0; i < n; i++)
	{
		cdp_item   *item = &items[i];

		if (item->blocked)
			cdp_record_conflict("blocked", item->kind->kind, item->value,
								item->owner, contact, source);
		else if (item->refused_by != NULL)
			cdp_record_conflict(item->refused_by, item->kind->kind, item->value,
								item->owner, contact, source);
	}

	if (existing)
	{
		args[0] = Int64GetDatum(contact);
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

/* resolve(identifiers jsonb, source text, region text) -> contact id */
Datum
cdp_resolve(PG_FUNCTION_ARGS)
{
	Jsonb	   *input;
	char	   *source;
	char	   *region;
	cdp_kinds  *kinds;
	cdp_item   *items;
	int			nitems;
	int64		contact;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("identifiers must not be null")));
	input = PG_GETARG_JSONB_P(0);
	source = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	region = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));

	SPI_connect();
	kinds = cdp_load_kinds();
	items = cdp_parse_identifiers(input, kinds, region, &nitems);
	refuse_suppressed(items, nitems);
	lock_identifier_values(items, nitems);
	contact = resolve_items(items, nitems, source);
	SPI_finish();
	PG_RETURN_INT64(contact);
}
