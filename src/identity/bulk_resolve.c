/*
 * bulk_resolve.c
 *	  cdp.resolve_all(query): the initial-load path.  Reads (record_id, kind,
 *	  value[, source, region]) through a cursor, computes connected components
 *	  with union-find over the input and the existing graph under the merge
 *	  rules of resolve, and writes contacts and identifiers in bulk.
 */
#include "cdp.h"
#include "identity/identity.h"
#include "identity/union_find.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(cdp_resolve_all);

#define FETCH_BATCH		10000	/* rows per cursor fetch */
#define WRITE_BATCH		20000	/* rows per bulk INSERT */
#define READ_NOTICE_EVERY 100000

/* A string key -> dense index map (records, identifier values, contacts). */
typedef struct strmap_entry
{
	const char *key;
	uint32		hash;
	int32		index;
	char		status;
} strmap_entry;

#define SH_PREFIX strmap
#define SH_ELEMENT_TYPE strmap_entry
#define SH_KEY_TYPE const char *
#define SH_KEY key
#define SH_HASH_KEY(tb, k) hash_bytes((const unsigned char *) (k), strlen(k))
#define SH_EQUAL(tb, a, b) (strcmp(a, b) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) a->hash
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* An identifier value of the input (or an existing one it matched). */
typedef struct ident_node
{
	const cdp_kind *kind;
	const char *value;
	const char *raw_value;
	const char *source;
	int64		existing_id;	/* cdp.identifiers.id, 0 if new */
	int32		contact;		/* index into contacts, -1 if new */
	bool		blocked;
} ident_node;

typedef struct record_node
{
	const char *record_id;
} record_node;

typedef struct contact_node
{
	int64		id;
	TimestampTz created_at;
	int32		evidence;		/* an input identifier it holds, -1 none */
} contact_node;

/* One row of the input: record r has identifier i. */
typedef struct edge
{
	int32		record;
	int32		ident;
	const char *source;			/* of this row, for conflicts */
} edge;

typedef struct bulk_state
{
	cdp_kinds  *kinds;
	strmap_hash *record_map;
	strmap_hash *ident_map;
	strmap_hash *raw_map;		/* kind, region and raw value -> normalised */
	char	  **normalized;
	int32		nnormalized;
	int32		normalized_cap;
	record_node *records;
	int32		nrecords;
	int32		records_cap;
	ident_node *idents;
	int32		nidents;
	int32		idents_cap;
	contact_node *contacts;
	int32		ncontacts;
	edge	   *edges;
	int64		nedges;
	int64		edges_cap;

	/* union-find over records, then identifiers, then contacts */
	cdp_uf		uf;
	int32	   *limit_counts;	/* per node x limited kind */
	int32	   *contact_counts; /* per existing contact x limited kind */
	int			nlimited;
	const cdp_kind **limited;
	int32	   *contact_next;	/* circular list of contact nodes per set */
	int32	   *set_contact;	/* a contact node of the set at a root, -1 none */

	/* merge blocks among the existing contacts, as contact index pairs */
	int32	   *block_pairs;
	int			nblocks;

	/* links refused by a rule, as (rule, edge) */
	const char **refused_rule;
	int64	   *refused_edge;
	int64		nrefused;
	int64		refused_cap;
} bulk_state;

#define RECORD_NODE(s, r)	(r)
#define IDENT_NODE(s, i)	((s)->nrecords + (i))
#define CONTACT_NODE(s, c)	((s)->nrecords + (s)->nidents + (c))

static int
column_of(TupleDesc desc, const char *name, bool required)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || strcmp(NameStr(att->attname), name) != 0)
			continue;
		if (att->atttypid != TEXTOID && att->atttypid != VARCHAROID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of the resolve_all query must be of type text, not %s",
							name, format_type_be(att->atttypid)),
					 errhint("Cast it in the query, for example %s::text.", name)));
		return i + 1;
	}
	if (required)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("the resolve_all query has no column \"%s\"", name),
				 errhint("The query returns record_id, kind and value, and optionally source and region, all text.")));
	return 0;
}

static char *
column_text(HeapTuple tuple, TupleDesc desc, int column)
{
	bool		isnull;
	Datum		d;

	if (column == 0)
		return NULL;
	d = SPI_getbinval(tuple, desc, column, &isnull);
	return isnull ? NULL : TextDatumGetCString(d);
}

static int32
add_record(bulk_state *s, char *record_id)
{
	bool		found;
	strmap_entry *e = strmap_insert(s->record_map, record_id, &found);

	if (!found)
	{
		if (s->nrecords == s->records_cap)
		{
			s->records_cap *= 2;
			s->records = repalloc_huge(s->records, sizeof(record_node) * s->records_cap);
		}
		s->records[s->nrecords].record_id = record_id;
		e->index = s->nrecords++;
	}
	return e->index;
}

static int32
add_ident(bulk_state *s, const cdp_kind *kind, char *value, char *raw, char *source)
{
	bool		found;
	char	   *key = psprintf("%s%c%s", kind->kind, '\x1f', value);
	strmap_entry *e = strmap_insert(s->ident_map, key, &found);

	if (!found)
	{
		ident_node *n;

		if (s->nidents == s->idents_cap)
		{
			s->idents_cap *= 2;
			s->idents = repalloc_huge(s->idents, sizeof(ident_node) * s->idents_cap);
		}
		n = &s->idents[s->nidents];
		n->kind = kind;
		n->value = value;
		n->raw_value = raw;
		n->source = source;
		n->existing_id = 0;
		n->contact = -1;
		n->blocked = cdp_value_blocked(kind, value);
		e->index = s->nidents++;
	}
	else
		pfree(key);
	return e->index;
}

/*
 * Normalise a raw value, once per distinct (kind, region, raw value): the
 * same spelling arriving from many records costs one libphonenumber call.
 */
static char *
normalize_once(bulk_state *s, const cdp_kind *kind, char *raw, char *region)
{
	bool		found;
	char	   *key = psprintf("%s%c%s%c%s", kind->kind, '\x1f', region ? region : "",
							   '\x1f', raw);
	strmap_entry *e = strmap_insert(s->raw_map, key, &found);

	if (found)
	{
		pfree(key);
		return s->normalized[e->index];
	}
	if (s->nnormalized == s->normalized_cap)
	{
		s->normalized_cap *= 2;
		s->normalized = repalloc_huge(s->normalized, sizeof(char *) * s->normalized_cap);
	}
	/* an error here leaves the entry half made, but aborts the whole call */
	s->normalized[s->nnormalized] =
		text_to_cstring(cdp_normalize(kind->normalizer, raw, strlen(raw), region,
									  ERRCODE_INVALID_PARAMETER_VALUE));
	e->index = s->nnormalized++;
	return s->normalized[e->index];
}

/* Read and normalise the whole input through a cursor. */
static void
read_input(bulk_state *s, const char *query)
{
	SPIPlanPtr	plan;
	Portal		portal;
	int			c_record,
				c_kind,
				c_value,
				c_source,
				c_region;
	int64		rows = 0;

	plan = SPI_prepare(query, 0, NULL);
	if (plan == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("could not prepare the resolve_all query: %s",
						SPI_result_code_string(SPI_result))));
	if (!SPI_is_cursor_plan(plan))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the resolve_all query must be a single SELECT returning rows")));
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	c_record = column_of(portal->tupDesc, "record_id", true);
	c_kind = column_of(portal->tupDesc, "kind", true);
	c_value = column_of(portal->tupDesc, "value", true);
	c_source = column_of(portal->tupDesc, "source", false);
	c_region = column_of(portal->tupDesc, "region", false);

	for (;;)
	{
		SPI_cursor_fetch(portal, true, FETCH_BATCH);
		if (SPI_processed == 0)
			break;
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	t = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			char	   *record_id = column_text(t, desc, c_record);
			char	   *kind_name = column_text(t, desc, c_kind);
			char	   *raw = column_text(t, desc, c_value);
			char	   *source = column_text(t, desc, c_source);
			char	   *region = column_text(t, desc, c_region);
			const cdp_kind *kind;
			char	   *normalized;
			int32		rec;

			CHECK_FOR_INTERRUPTS();
			if (record_id == NULL || kind_name == NULL || raw == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("row %lld of the resolve_all query has a null %s",
								(long long) rows + r + 1,
								record_id == NULL ? "record_id" : kind_name == NULL ? "kind" : "value")));
			kind = cdp_find_kind(s->kinds, kind_name);
			if (kind == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_OBJECT),
						 errmsg("unknown identifier kind: \"%s\"", kind_name),
						 errdetail("Row %lld of the resolve_all query, record \"%s\".",
								   (long long) rows + r + 1, record_id)));
			normalized = normalize_once(s, kind, raw, region);

			rec = add_record(s, record_id);
			if (s->nedges == s->edges_cap)
			{
				s->edges_cap *= 2;
				s->edges = repalloc_huge(s->edges, sizeof(edge) * s->edges_cap);
			}
			s->edges[s->nedges].record = rec;
			s->edges[s->nedges].ident = add_ident(s, kind, normalized, raw, source);
			s->edges[s->nedges].source = source;
			s->nedges++;
		}
		rows += SPI_processed;
		if (rows / READ_NOTICE_EVERY != (rows - SPI_processed) / READ_NOTICE_EVERY)
			ereport(NOTICE,
					(errmsg("resolve_all: read %lld rows, %d records, %d distinct identifiers",
							(long long) rows, s->nrecords, s->nidents)));
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	ereport(NOTICE,
			(errmsg("resolve_all: read %lld rows: %d records, %d distinct identifiers",
					(long long) rows, s->nrecords, s->nidents)));
}

/* The kinds and values of identifiers start.. of a batch, as two text[]. */
static void
ident_batch(bulk_state *s, int32 start, Datum *args)
{
	int			n = Min(WRITE_BATCH, s->nidents - start);
	char	  **kinds = palloc(sizeof(char *) * n);
	char	  **values = palloc(sizeof(char *) * n);

	for (int i = 0; i < n; i++)
	{
		kinds[i] = s->idents[start + i].kind->kind;
		values[i] = (char *) s->idents[start + i].value;
	}
	args[0] = cdp_text_array(kinds, n);
	args[1] = cdp_text_array(values, n);
}

/* A forgotten person's identifiers are refused here too (42501). */
static void
refuse_suppressed(bulk_state *s)
{
	if (!cdp_any_suppressions())
		return;
	for (int32 start = 0; start < s->nidents; start += WRITE_BATCH)
	{
		Datum		args[2];
		Oid			types[2] = {TEXTARRAYOID, TEXTARRAYOID};

		ident_batch(s, start, args);
		SPI_execute_with_args("SELECT u.kind, u.value FROM unnest($1, $2) AS u(kind, value)"
							  " WHERE EXISTS (SELECT 1 FROM cdp.suppressions x WHERE x.kind = u.kind"
							  "   AND x.value_hash = cdp_internal.identifier_hash(u.kind, u.value))"
							  " LIMIT 1", 2, types, args, NULL, true, 1);
		if (SPI_processed > 0)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("identifier %s \"%s\" belongs to a forgotten person",
							SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
							SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2)),
					 errdetail("cdp.forget_contact() erased this person; their identifiers may not be collected again.")));
	}
}

/*
 * The existing graph: identifiers of the input already stored, the contacts
 * holding them (locked), their limited-kind counts and merge blocks.
 */
static void
load_existing(bulk_state *s)
{
	strmap_hash *contact_map = strmap_create(CurrentMemoryContext, 1024, NULL);
	int64	   *ids;
	int			ncap = 1024;

	s->contacts = palloc(sizeof(contact_node) * ncap);
	s->ncontacts = 0;

	/* an initial load into an empty graph has nothing to look up */
	{
		bool		isnull;

		if (SPI_execute("SELECT EXISTS (SELECT 1 FROM cdp.identifiers)", true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read cdp.identifiers");
		if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
			return;
	}

	for (int32 start = 0; start < s->nidents; start += WRITE_BATCH)
	{
		Datum		args[2];
		Oid			types[2] = {TEXTARRAYOID, TEXTARRAYOID};

		CHECK_FOR_INTERRUPTS();
		ident_batch(s, start, args);
		SPI_execute_with_args("SELECT u.n, i.id, i.contact_id"
							  "  FROM unnest($1, $2) WITH ORDINALITY AS u(kind, value, n)"
							  "  JOIN cdp.identifiers i ON i.kind = u.kind AND i.value = u.value",
							  2, types, args, NULL, false, 0);
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	t = SPI_tuptable->vals[r];
			TupleDesc	d = SPI_tuptable->tupdesc;
			bool		isnull;
			ident_node *node = &s->idents[start + DatumGetInt64(SPI_getbinval(t, d, 1, &isnull)) - 1];
			int64		contact_id = DatumGetInt64(SPI_getbinval(t, d, 3, &isnull));
			char	   *key = psprintf(INT64_FORMAT, contact_id);
			bool		found;
			strmap_entry *e = strmap_insert(contact_map, key, &found);

			if (!found)
			{
				if (s->ncontacts == ncap)
				{
					ncap *= 2;
					s->contacts = repalloc_huge(s->contacts, sizeof(contact_node) * ncap);
				}
				s->contacts[s->ncontacts].id = contact_id;
				s->contacts[s->ncontacts].evidence = node - s->idents;
				e->index = s->ncontacts++;
			}
			node->existing_id = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
			node->contact = e->index;
		}
		SPI_freetuptable(SPI_tuptable);
	}
	if (s->ncontacts == 0)
		return;

	/* lock the contacts in id order, as resolve does, and learn their age */
	ids = palloc(sizeof(int64) * s->ncontacts);
	for (int c = 0; c < s->ncontacts; c++)
		ids[c] = s->contacts[c].id;
	{
		Datum		args[1] = {cdp_int8_array(ids, s->ncontacts)};
		Oid			types[1] = {INT8ARRAYOID};

		SPI_execute_with_args("SELECT id, created_at FROM cdp.contacts WHERE id = ANY($1)"
							  " ORDER BY id FOR UPDATE", 1, types, args, NULL, false, 0);
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			bool		isnull;
			HeapTuple	t = SPI_tuptable->vals[r];
			char	   *key = psprintf(INT64_FORMAT,
									   DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull)));
			strmap_entry *e = strmap_lookup(contact_map, key);

			s->contacts[e->index].created_at =
				DatumGetTimestampTz(SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &isnull));
		}

		SPI_execute_with_args("SELECT contact_a, contact_b FROM cdp.merge_blocks"
							  " WHERE contact_a = ANY($1) AND contact_b = ANY($1)",
							  1, types, args, NULL, true, 0);
		s->nblocks = SPI_processed;
		s->block_pairs = palloc(sizeof(int32) * 2 * Max(s->nblocks, 1));
		for (int b = 0; b < s->nblocks; b++)
			for (int side = 0; side < 2; side++)
			{
				bool		isnull;
				char	   *key = psprintf(INT64_FORMAT,
										   DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[b],
																	   SPI_tuptable->tupdesc,
																	   side + 1, &isnull)));

				s->block_pairs[2 * b + side] = strmap_lookup(contact_map, key)->index;
			}
	}

	/* limited-kind counts of the existing contacts, whole contacts counted */
	if (s->nlimited > 0)
	{
		char	  **names = palloc(sizeof(char *) * s->nlimited);
		Datum		args[2];
		Oid			types[2] = {INT8ARRAYOID, TEXTARRAYOID};

		for (int l = 0; l < s->nlimited; l++)
			names[l] = s->limited[l]->kind;
		args[0] = cdp_int8_array(ids, s->ncontacts);
		args[1] = cdp_text_array(names, s->nlimited);
		SPI_execute_with_args("SELECT contact_id, kind, count(*) FROM cdp.identifiers"
							  " WHERE contact_id = ANY($1) AND kind = ANY($2) GROUP BY 1, 2",
							  2, types, args, NULL, true, 0);
		s->contact_counts = palloc0(sizeof(int32) * s->nlimited * s->ncontacts);
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			bool		isnull;
			HeapTuple	t = SPI_tuptable->vals[r];
			char	   *key = psprintf(INT64_FORMAT,
									   DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull)));
			char	   *kind = SPI_getvalue(t, SPI_tuptable->tupdesc, 2);
			int32		c = strmap_lookup(contact_map, key)->index;

			for (int l = 0; l < s->nlimited; l++)
				if (strcmp(s->limited[l]->kind, kind) == 0)
					s->contact_counts[c * s->nlimited + l] =
						DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 3, &isnull));
		}
	}
}

static void
refuse(bulk_state *s, const char *rule, int64 e)
{
	if (s->nrefused == s->refused_cap)
	{
		s->refused_cap *= 2;
		s->refused_rule = repalloc_huge(s->refused_rule, sizeof(char *) * s->refused_cap);
		s->refused_edge = repalloc_huge(s->refused_edge, sizeof(int64) * s->refused_cap);
	}
	s->refused_rule[s->nrefused] = rule;
	s->refused_edge[s->nrefused] = e;
	s->nrefused++;
}

/* Would joining the sets at roots a and b exceed a max_per_contact? */
static bool
exceeds_limit(bulk_state *s, int32 a, int32 b)
{
	for (int l = 0; l < s->nlimited; l++)
	{
		int32		x = s->limit_counts[a * s->nlimited + l];
		int32		y = s->limit_counts[b * s->nlimited + l];

		/* a set may already exceed a limit set later; joining must not add */
		if (x > 0 && y > 0 && x + y > s->limited[l]->max_per_contact)
			return true;
	}
	return false;
}

/* Does the set at root a hold a contact blocked against one in root b? */
static bool
blocked_sets(bulk_state *s, int32 a, int32 b)
{
	int32		first;
	int32		c;

	if (s->nblocks == 0 || s->set_contact[a] < 0 || s->set_contact[b] < 0)
		return false;
	first = c = s->set_contact[a];
	do
	{
		for (int p = 0; p < s->nblocks; p++)
		{
			int32		other = -1;

			if (s->block_pairs[2 * p] == c)
				other = s->block_pairs[2 * p + 1];
			else if (s->block_pairs[2 * p + 1] == c)
				other = s->block_pairs[2 * p];
			if (other >= 0 && cdp_uf_find(&s->uf, CONTACT_NODE(s, other)) == b)
				return true;
		}
		c = s->contact_next[c];
	} while (c != first);
	return false;
}

static int32
join_sets(bulk_state *s, int32 a, int32 b)
{
	int32		root = cdp_uf_link(&s->uf, a, b);
	int32		gone = root == a ? b : a;

	for (int l = 0; l < s->nlimited; l++)
		s->limit_counts[root * s->nlimited + l] += s->limit_counts[gone * s->nlimited + l];
	if (s->set_contact[gone] >= 0)
	{
		if (s->set_contact[root] >= 0)
		{
			/* splice the two circular lists of contacts */
			int32		x = s->set_contact[root];
			int32		y = s->set_contact[gone];
			int32		t = s->contact_next[x];

			s->contact_next[x] = s->contact_next[y];
			s->contact_next[y] = t;
		}
		else
			s->set_contact[root] = s->set_contact[gone];
	}
	return root;
}

static int
priority_rank(bulk_state *s, const cdp_kind *kind)
{
	return kind - s->kinds->kinds;	/* kinds are loaded by priority */
}

/*
 * Union-find: the existing graph first (identifiers with their contacts),
 * then the input's record-identifier links, strongest kind first and in
 * input order within a kind, each refused when a rule forbids it.
 */
static void
compute_components(bulk_state *s)
{
	int32		n = s->nrecords + s->nidents + s->ncontacts;
	int32	   *parent = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * n);
	int32	   *size = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * n);
	int64	   *order;
	int64	   *bucket_start;
	int			nk = s->kinds->nkinds;
	int64		next_notice;

	cdp_uf_init(&s->uf, parent, size, n);

	s->set_contact = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * n);
	for (int32 i = 0; i < n; i++)
		s->set_contact[i] = -1;
	s->contact_next = palloc(sizeof(int32) * Max(s->ncontacts, 1));
	for (int32 c = 0; c < s->ncontacts; c++)
	{
		s->contact_next[c] = c;
		s->set_contact[CONTACT_NODE(s, c)] = c;
	}

	if (s->nlimited > 0)
	{
		s->limit_counts = MemoryContextAllocHuge(CurrentMemoryContext,
												 sizeof(int32) * s->nlimited * n);
		memset(s->limit_counts, 0, sizeof(int32) * s->nlimited * n);
		for (int32 i = 0; i < s->nidents; i++)
			for (int l = 0; l < s->nlimited; l++)
				if (s->idents[i].kind == s->limited[l] && s->idents[i].contact < 0 &&
					!s->idents[i].blocked)
					s->limit_counts[IDENT_NODE(s, i) * s->nlimited + l] = 1;
		for (int32 c = 0; c < s->ncontacts; c++)
			for (int l = 0; l < s->nlimited; l++)
				s->limit_counts[CONTACT_NODE(s, c) * s->nlimited + l] =
					s->contact_counts[c * s->nlimited + l];
	}

	for (int32 i = 0; i < s->nidents; i++)
		if (s->idents[i].contact >= 0)
			join_sets(s, cdp_uf_find(&s->uf, IDENT_NODE(s, i)),
					  cdp_uf_find(&s->uf, CONTACT_NODE(s, s->idents[i].contact)));

	/* a stable counting sort of the links by kind priority */
	bucket_start = palloc0(sizeof(int64) * (nk + 1));
	for (int64 e = 0; e < s->nedges; e++)
		bucket_start[priority_rank(s, s->idents[s->edges[e].ident].kind) + 1]++;
	for (int k = 0; k < nk; k++)
		bucket_start[k + 1] += bucket_start[k];
	order = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(s->nedges, 1));
	for (int64 e = 0; e < s->nedges; e++)
		order[bucket_start[priority_rank(s, s->idents[s->edges[e].ident].kind)]++] = e;

	next_notice = s->nedges / 10;
	for (int64 o = 0; o < s->nedges; o++)
	{
		int64		e = order[o];
		ident_node *ident = &s->idents[s->edges[e].ident];
		int32		a;
		int32		b;

		if ((o & 0xFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (o > 0 && o == next_notice)
		{
			ereport(NOTICE,
					(errmsg("resolve_all: linked %lld of %lld record identifiers (%d%%)",
							(long long) o, (long long) s->nedges,
							(int) (100 * o / s->nedges))));
			next_notice += s->nedges / 10;
		}
		if (ident->blocked)
		{
			refuse(s, "blocked", e);
			continue;
		}
		if (!ident->kind->matchable)
			continue;
		a = cdp_uf_find(&s->uf, RECORD_NODE(s, s->edges[e].record));
		b = cdp_uf_find(&s->uf, IDENT_NODE(s, s->edges[e].ident));
		if (a == b)
			continue;
		if (blocked_sets(s, a, b))
			refuse(s, "merge_block", e);
		else if (s->nlimited > 0 && exceeds_limit(s, a, b))
			refuse(s, "limit", e);
		else
			join_sets(s, a, b);
	}
}

/* The outcome: a contact per component that holds records. */
typedef struct components
{
	int32	   *of_root;		/* node -> component, -1 none */
	int32		n;
	int64	   *contact_id;		/* per component */
	bool	   *existing;		/* survivor was an existing contact */
} components;

static components *
assign_contacts(bulk_state *s)
{
	components *comps = palloc(sizeof(components));
	int32		n = s->nrecords + s->nidents + s->ncontacts;
	int32		nnew = 0;
	int32	   *survivor;

	comps->of_root = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * n);
	for (int32 i = 0; i < n; i++)
		comps->of_root[i] = -1;
	comps->n = 0;
	comps->contact_id = MemoryContextAllocHuge(CurrentMemoryContext,
											   sizeof(int64) * Max(s->nrecords, 1));
	comps->existing = MemoryContextAllocHuge(CurrentMemoryContext,
											 sizeof(bool) * Max(s->nrecords, 1));
	survivor = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(s->nrecords, 1));

	/* components numbered by their first record, so new ids follow the input */
	for (int32 r = 0; r < s->nrecords; r++)
	{
		int32		root = cdp_uf_find(&s->uf, RECORD_NODE(s, r));
		int32		comp = comps->of_root[root];

		if (comp >= 0)
			continue;
		comp = comps->of_root[root] = comps->n++;
		survivor[comp] = -1;
		if (s->set_contact[root] >= 0)
		{
			int32		first = s->set_contact[root];
			int32		c = first;

			do
			{
				if (survivor[comp] < 0 ||
					s->contacts[c].created_at < s->contacts[survivor[comp]].created_at ||
					(s->contacts[c].created_at == s->contacts[survivor[comp]].created_at &&
					 s->contacts[c].id < s->contacts[survivor[comp]].id))
					survivor[comp] = c;
				c = s->contact_next[c];
			} while (c != first);
		}
		comps->existing[comp] = survivor[comp] >= 0;
		if (survivor[comp] >= 0)
			comps->contact_id[comp] = s->contacts[survivor[comp]].id;
		else
			nnew++;
	}

	/* existing contacts a component joined are merged into its survivor */
	for (int32 c = 0; c < s->ncontacts; c++)
	{
		int32		comp = comps->of_root[cdp_uf_find(&s->uf, CONTACT_NODE(s, c))];
		ident_node *ev;

		if (comp < 0 || s->contacts[c].id == comps->contact_id[comp])
			continue;
		CHECK_FOR_INTERRUPTS();
		ev = &s->idents[s->contacts[c].evidence];
		cdp_merge_into(comps->contact_id[comp], s->contacts[c].id, "resolve_all",
					   cdp_identifier_evidence(ev->kind->kind, ev->value), NULL);
	}

	/* new contacts in one statement; ids handed out in component order */
	if (nnew > 0)
	{
		Datum		args[1] = {Int32GetDatum(nnew)};
		Oid			types[1] = {INT4OID};
		int64	   *ids = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * nnew);
		int32		k = 0;

		SPI_execute_with_args("INSERT INTO cdp.contacts (last_seen_at)"
							  " SELECT now() FROM generate_series(1, $1) RETURNING id",
							  1, types, args, NULL, false, 0);
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			bool		isnull;

			ids[r] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
		}
		SPI_freetuptable(SPI_tuptable);
		qsort(ids, nnew, sizeof(int64), cdp_compare_int64);
		for (int32 comp = 0; comp < comps->n; comp++)
			if (!comps->existing[comp])
				comps->contact_id[comp] = ids[k++];
	}
	return comps;
}

/* The component a new identifier goes to: its set's, or for a kind that
 * does not link, the component of the first record that brought it. */
static int32
component_of_ident(bulk_state *s, components *comps, int32 i, int32 *first_record)
{
	if (!s->idents[i].kind->matchable)
		return first_record[i] < 0 ? -1 :
			comps->of_root[cdp_uf_find(&s->uf, RECORD_NODE(s, first_record[i]))];
	return comps->of_root[cdp_uf_find(&s->uf, IDENT_NODE(s, i))];
}

/*
 * Write the new identifiers in bulk, the first of a kind on a contact as
 * "main" unless the contact already has one; refresh the ones seen again.
 */
static void
write_identifiers(bulk_state *s, components *comps)
{
	int32	   *first_record = MemoryContextAllocHuge(CurrentMemoryContext,
													  sizeof(int32) * Max(s->nidents, 1));
	bool	   *has_main = MemoryContextAllocHuge(CurrentMemoryContext,
												  sizeof(bool) * Max(comps->n, 1) * s->kinds->nkinds);
	int64	   *touched = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(s->nidents, 1));
	int32		ntouched = 0;
	int64	   *c_contact = palloc(sizeof(int64) * WRITE_BATCH);
	char	  **c_kind = palloc(sizeof(char *) * WRITE_BATCH);
	char	  **c_value = palloc(sizeof(char *) * WRITE_BATCH);
	char	  **c_raw = palloc(sizeof(char *) * WRITE_BATCH);
	char	  **c_slug = palloc(sizeof(char *) * WRITE_BATCH);
	char	  **c_source = palloc(sizeof(char *) * WRITE_BATCH);
	Datum	   *c_existing = palloc(sizeof(Datum) * WRITE_BATCH);
	int			nbatch = 0;
	int64		written = 0;
	Oid			types[7] = {INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	TEXTARRAYOID, TEXTARRAYOID, BOOLARRAYOID};

	memset(has_main, 0, sizeof(bool) * Max(comps->n, 1) * s->kinds->nkinds);
	for (int32 i = 0; i < s->nidents; i++)
		first_record[i] = -1;
	for (int64 e = 0; e < s->nedges; e++)
		if (first_record[s->edges[e].ident] < 0)
			first_record[s->edges[e].ident] = s->edges[e].record;

	for (int32 i = 0; i <= s->nidents; i++)
	{
		if (i < s->nidents)
		{
			ident_node *node = &s->idents[i];
			int32		comp;
			bool	   *main;

			if (node->blocked)
				continue;
			comp = component_of_ident(s, comps, i, first_record);
			if (node->existing_id != 0)
			{
				if (comp >= 0)
					touched[ntouched++] = node->existing_id;
				continue;
			}
			if (comp < 0)
				continue;		/* its only links were refused */
			main = &has_main[comp * s->kinds->nkinds + priority_rank(s, node->kind)];
			c_contact[nbatch] = comps->contact_id[comp];
			c_kind[nbatch] = node->kind->kind;
			c_value[nbatch] = (char *) node->value;
			c_raw[nbatch] = (char *) node->raw_value;
			c_slug[nbatch] = *main ? NULL : "main";
			c_source[nbatch] = (char *) node->source;
			c_existing[nbatch] = BoolGetDatum(comps->existing[comp]);
			*main = true;
			nbatch++;
		}
		if (nbatch > 0 && (nbatch == WRITE_BATCH || i == s->nidents))
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
			/* only a contact that existed before may hold the slug already */
			SPI_execute_with_args(
				"INSERT INTO cdp.identifiers (contact_id, kind, value, raw_value, slug, source)"
				" SELECT u.contact_id, u.kind, u.value, u.raw_value,"
				"        CASE WHEN u.slug IS NOT NULL AND u.existing AND EXISTS ("
				"                SELECT 1 FROM cdp.identifiers s WHERE s.contact_id = u.contact_id"
				"                   AND s.kind = u.kind AND s.slug = u.slug)"
				"             THEN NULL ELSE u.slug END,"
				"        u.source"
				"   FROM unnest($1, $2, $3, $4, $5, $6, $7)"
				"        AS u(contact_id, kind, value, raw_value, slug, source, existing)",
				7, types, args, NULL, false, 0);
			written += nbatch;
			nbatch = 0;
		}
	}
	ereport(NOTICE,
			(errmsg("resolve_all: wrote %lld new identifiers", (long long) written)));

	for (int32 start = 0; start < ntouched; start += WRITE_BATCH)
	{
		Datum		args[1] = {cdp_int8_array(touched + start, Min(WRITE_BATCH, ntouched - start))};
		Oid			t[1] = {INT8ARRAYOID};

		SPI_execute_with_args("UPDATE cdp.identifiers SET last_seen_at = now() WHERE id = ANY($1)",
							  1, t, args, NULL, false, 0);
	}
}

/* Touch the existing survivors and keep their type true. */
static void
touch_existing_contacts(components *comps)
{
	int64	   *ids = palloc(sizeof(int64) * Max(comps->n, 1));
	int			n = 0;

	for (int32 c = 0; c < comps->n; c++)
		if (comps->existing[c])
			ids[n++] = comps->contact_id[c];
	for (int start = 0; start < n; start += WRITE_BATCH)
	{
		Datum		args[1] = {cdp_int8_array(ids + start, Min(WRITE_BATCH, n - start))};
		Oid			t[1] = {INT8ARRAYOID};

		SPI_execute_with_args("UPDATE cdp.contacts SET last_seen_at = now() WHERE id = ANY($1)",
							  1, t, args, NULL, false, 0);
		SPI_execute_with_args("SELECT cdp_internal.refresh_contact_type(id) FROM unnest($1) AS id",
							  1, t, args, NULL, false, 0);
	}
}

/* Conflicts of the refused links, in bulk. */
static void
write_conflicts(bulk_state *s, components *comps)
{
	for (int64 start = 0; start < s->nrefused; start += WRITE_BATCH)
	{
		int			n = Min(WRITE_BATCH, s->nrefused - start);
		char	  **rule = palloc(sizeof(char *) * n);
		char	  **kind = palloc(sizeof(char *) * n);
		char	  **value = palloc(sizeof(char *) * n);
		char	  **source = palloc(sizeof(char *) * n);
		Datum	   *holder = palloc(sizeof(Datum) * n);
		bool	   *holder_null = palloc(sizeof(bool) * n);
		int64	   *other = palloc(sizeof(int64) * n);
		Datum		args[6];
		Oid			types[6] = {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID,
		INT8ARRAYOID, TEXTARRAYOID};
		int			dims[1] = {n};
		int			lbs[1] = {1};

		for (int k = 0; k < n; k++)
		{
			edge	   *e = &s->edges[s->refused_edge[start + k]];
			ident_node *node = &s->idents[e->ident];
			int32		holder_comp = comps->of_root[cdp_uf_find(&s->uf, IDENT_NODE(s, e->ident))];

			rule[k] = (char *) s->refused_rule[start + k];
			kind[k] = node->kind->kind;
			value[k] = (char *) node->value;
			source[k] = (char *) e->source;
			other[k] = comps->contact_id[comps->of_root[cdp_uf_find(&s->uf, RECORD_NODE(s, e->record))]];
			holder_null[k] = node->blocked || holder_comp < 0;
			holder[k] = holder_null[k] ? (Datum) 0 : Int64GetDatum(comps->contact_id[holder_comp]);
			if (holder_null[k] && node->contact >= 0)
			{
				holder_null[k] = false;
				holder[k] = Int64GetDatum(s->contacts[node->contact].id);
			}
		}
		args[0] = cdp_text_array(rule, n);
		args[1] = cdp_text_array(kind, n);
		args[2] = cdp_text_array(value, n);
		args[3] = PointerGetDatum(construct_md_array(holder, holder_null, 1, dims, lbs,
													 INT8OID, 8, true, TYPALIGN_DOUBLE));
		args[4] = cdp_int8_array(other, n);
		args[5] = cdp_text_array(source, n);
		SPI_execute_with_args(
			"INSERT INTO cdp.identity_conflicts (rule, kind, value, contact_id, other_contact_id, source)"
			" SELECT * FROM unnest($1, $2, $3, $4, $5, $6)",
			6, types, args, NULL, false, 0);
	}
}

static void
init_state(bulk_state *s)
{
	memset(s, 0, sizeof(bulk_state));
	s->kinds = cdp_load_kinds();
	s->limited = palloc(sizeof(cdp_kind *) * Max(s->kinds->nkinds, 1));
	for (int k = 0; k < s->kinds->nkinds; k++)
		if (s->kinds->kinds[k].max_per_contact > 0)
			s->limited[s->nlimited++] = &s->kinds->kinds[k];
	s->record_map = strmap_create(CurrentMemoryContext, 1024, NULL);
	s->ident_map = strmap_create(CurrentMemoryContext, 1024, NULL);
	s->raw_map = strmap_create(CurrentMemoryContext, 1024, NULL);
	s->normalized_cap = 1024;
	s->normalized = palloc(sizeof(char *) * s->normalized_cap);
	s->records_cap = s->idents_cap = 1024;
	s->records = palloc(sizeof(record_node) * s->records_cap);
	s->idents = palloc(sizeof(ident_node) * s->idents_cap);
	s->edges_cap = s->refused_cap = 1024;
	s->edges = palloc(sizeof(edge) * s->edges_cap);
	s->refused_rule = palloc(sizeof(char *) * s->refused_cap);
	s->refused_edge = palloc(sizeof(int64) * s->refused_cap);
}

/* resolve_all(query text) -> TABLE(record_id text, contact_id bigint) */
Datum
cdp_resolve_all(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *query;
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext work;
	MemoryContext old;
	bulk_state	s;
	components *comps;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("resolve_all must be called in a context that accepts a set")));
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("query must not be null")));
	query = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "resolve_all must return a composite type");

	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	tupdesc = CreateTupleDescCopy(tupdesc);
	store = tuplestore_begin_heap(true, false, work_mem);
	MemoryContextSwitchTo(old);

	work = AllocSetContextCreate(caller, "cdp resolve_all", ALLOCSET_DEFAULT_SIZES);
	SPI_connect();
	old = MemoryContextSwitchTo(work);

	/* concurrent resolve calls wait; readers do not */
	SPI_execute("LOCK TABLE cdp.identifiers IN SHARE ROW EXCLUSIVE MODE", false, 0);

	init_state(&s);
	read_input(&s, query);
	refuse_suppressed(&s);
	load_existing(&s);
	compute_components(&s);
	ereport(NOTICE,
			(errmsg("resolve_all: components computed; writing contacts and identifiers")));
	comps = assign_contacts(&s);
	write_identifiers(&s, comps);
	touch_existing_contacts(comps);
	write_conflicts(&s, comps);

	for (int32 r = 0; r < s.nrecords; r++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = CStringGetTextDatum(s.records[r].record_id);
		values[1] = Int64GetDatum(comps->contact_id[comps->of_root[cdp_uf_find(&s.uf, RECORD_NODE(&s, r))]]);
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
	ereport(NOTICE,
			(errmsg("resolve_all: %d records resolved to %d contacts", s.nrecords, comps->n)));

	MemoryContextSwitchTo(old);
	SPI_finish();
	MemoryContextDelete(work);

	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = tupdesc;
	return (Datum) 0;
}
