/*
 * bulk_read.c
 *	  resolve_all's read phase: the input from the executor, each distinct raw
 *	  value normalised once (a refused one kept as invalid), the identifier
 *	  locks, and the existing graph with its contacts locked.
 */
#include "cdp.h"
#include "identity/bulk.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "portability/instr_time.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#define READ_NOTICE_EVERY 100000

/*
 * Strings of the input that are kept (record ids, spellings, values,
 * sources) are copied once into big blocks, without the per-chunk header
 * and power-of-two rounding of palloc: at 10M records that halves them.
 */
#define ARENA_BLOCK (1024 * 1024)

typedef struct string_arena
{
	MemoryContext memory;		/* of the blocks */
	char	   *next;			/* free space in the current block */
	size_t		left;
} string_arena;

static const char *
arena_copy(string_arena *arena, const char *str, size_t len)
{
	char	   *copy;

	if (len + 1 > arena->left)
	{
		size_t		size = Max(ARENA_BLOCK, len + 1);

		arena->next = MemoryContextAllocHuge(arena->memory, size);
		arena->left = size;
	}
	copy = arena->next;
	memcpy(copy, str, len);
	copy[len] = '\0';
	arena->next += len + 1;
	arena->left -= len + 1;
	return copy;
}

/*
 * A string key -> dense index map (records, values and spellings, sources).
 * The entries do not keep their hash: at 16 bytes rather than 24 they save
 * 400 MB of a 10M-record load, and a key is rarely compared twice.
 */
typedef struct strmap_entry
{
	const char *key;
	int32		index;
	char		status;
} strmap_entry;

#define SH_PREFIX strmap
#define SH_ELEMENT_TYPE strmap_entry
#define SH_KEY_TYPE const char *
#define SH_KEY key
#define SH_HASH_KEY(tb, k) hash_bytes((const unsigned char *) (k), strlen(k))
#define SH_EQUAL(tb, a, b) (strcmp(a, b) == 0)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/*
 * One map holds both the values and the spellings, keyed "kind US region US
 * text" (US = \x1f): a value with an empty region, a spelling with the
 * region it was read under.  A spelling without a region that is already
 * normalised is the very key of its value, so the common case costs one
 * entry and one string.  No spelling can stand for another value: every
 * normaliser returns a value unchanged, so a key naming a value can only
 * be a spelling of that value.
 */
typedef struct read_maps
{
	strmap_hash *records;
	strmap_hash *values;		/* values and spellings -> value */
	strmap_hash *sources;
	string_arena arena;
	StringInfoData key;			/* the key being looked up */
	instr_time	normalising;	/* time spent in the normalisers */
	int32		spellings;		/* distinct spellings normalised */
} read_maps;

static cdp_query any_identifier_query = {
	"SELECT EXISTS (SELECT 1 FROM cdp.identifiers)", 0
};

static cdp_query suppressed_query = {
	"SELECT u.kind, u.value FROM unnest($1::text[], $2::text[]) AS u(kind, value)"
	" WHERE EXISTS (SELECT 1 FROM cdp.suppressions x WHERE x.kind = u.kind"
	"   AND x.value_hash = cdp_internal.identifier_hash(u.kind, u.value))"
	" LIMIT 1",
	2, {TEXTARRAYOID, TEXTARRAYOID}
};

/*
 * One index probe per value: as a join, the planner hashes the whole of
 * cdp.identifiers for a batch of 20,000 values, which on a big graph costs
 * many times the probes ((kind, value) is unique: LIMIT 1 changes nothing
 * but the plan).
 */
static cdp_query lookup_query = {
	"SELECT u.n, i.id, i.contact_id"
	"  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(kind, value, n),"
	"       LATERAL (SELECT s.id, s.contact_id FROM cdp.identifiers s"
	"                 WHERE s.kind = u.kind AND s.value = u.value LIMIT 1) i",
	2, {TEXTARRAYOID, TEXTARRAYOID},
	/* Citus pushes a join with the array to the shards of the value index */
	.citus_sql = "SELECT u.n, x.identifier_id, x.contact_id"
	"  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(kind, value, n)"
	"  JOIN cdp.identifier_index x ON x.value = u.value AND x.kind = u.kind"
};

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

/*
 * A text column of the current row, NULL for SQL NULL: a pointer into the
 * row where it is stored plainly (short values), else a detoasted copy,
 * which *copied says to free.
 */
static const char *
column_text(TupleTableSlot *slot, int column, int *len, bool *copied)
{
	bool		isnull;
	Datum		d;
	struct varlena *stored;
	text	   *t;

	*copied = false;
	if (column == 0)
		return NULL;
	d = slot_getattr(slot, column, &isnull);
	if (isnull)
		return NULL;
	stored = (struct varlena *) DatumGetPointer(d);
	t = pg_detoast_datum_packed(stored);
	*copied = t != stored;
	*len = VARSIZE_ANY_EXHDR(t);
	return VARDATA_ANY(t);
}

/* grows an array by half, so that the slack stays under a third */
static int64
grown(int64 cap)
{
	return cap + cap / 2 + 16;
}

/* The key kind US region US text of maps->key. */
static void
set_key(read_maps *maps, const cdp_kind *kind, const char *region, const char *text, int len)
{
	resetStringInfo(&maps->key);
	appendStringInfoString(&maps->key, kind->kind);
	appendStringInfoChar(&maps->key, '\x1f');
	if (region != NULL)
		appendStringInfoString(&maps->key, region);
	appendStringInfoChar(&maps->key, '\x1f');
	appendBinaryStringInfo(&maps->key, text, len);
}

/* The entry of maps->key, its key copied into the arena when new. */
static strmap_entry *
insert_key(read_maps *maps, strmap_hash *map, bool *found)
{
	strmap_entry *e = strmap_insert(map, maps->key.data, found);

	if (!*found)
		e->key = arena_copy(&maps->arena, maps->key.data, maps->key.len);
	return e;
}

/* the text part of a key kind US region US text */
static const char *
key_text(const char *key)
{
	return strchr(strchr(key, '\x1f') + 1, '\x1f') + 1;
}

static int32
add_record(bulk_state *s, read_maps *maps, const char *record_id, int len)
{
	bool		found;
	strmap_entry *e;

	resetStringInfo(&maps->key);
	appendBinaryStringInfo(&maps->key, record_id, len);
	e = insert_key(maps, maps->records, &found);
	if (!found)
	{
		if (s->nrecords == s->records_cap)
		{
			s->records_cap = grown(s->records_cap);
			s->records = repalloc_huge(s->records, sizeof(char *) * s->records_cap);
		}
		s->records[s->nrecords] = e->key;
		e->index = s->nrecords++;
	}
	return e->index;
}

/* The number of a source, 0 for none, each distinct one kept once. */
static int32
add_source(bulk_state *s, read_maps *maps, const char *source, int len)
{
	bool		found;
	strmap_entry *e;

	if (source == NULL)
		return 0;
	resetStringInfo(&maps->key);
	appendBinaryStringInfo(&maps->key, source, len);
	e = insert_key(maps, maps->sources, &found);
	if (!found)
	{
		if (s->nsources == s->sources_cap)
		{
			s->sources_cap = grown(s->sources_cap);
			s->sources = repalloc_huge(s->sources, sizeof(char *) * s->sources_cap);
		}
		s->sources[s->nsources] = e->key;
		e->index = s->nsources++;
	}
	return e->index;
}

static int32
new_value(bulk_state *s, const cdp_kind *kind, const char *value, const char *raw, int32 source)
{
	bulk_value *v;

	if (s->nvalues == s->values_cap)
	{
		s->values_cap = grown(s->values_cap);
		s->values = repalloc_huge(s->values, sizeof(bulk_value) * s->values_cap);
	}
	v = &s->values[s->nvalues];
	memset(v, 0, sizeof(bulk_value));
	v->kind = kind;
	v->value = value;
	v->raw_value = raw;
	v->source = source;
	return s->nvalues++;
}

static void
add_invalid_reason(bulk_state *s, int32 value, const char *reason)
{
	if (s->ninvalid == s->invalid_cap)
	{
		s->invalid_cap = grown(s->invalid_cap);
		s->invalid = repalloc_huge(s->invalid, sizeof(bulk_invalid) * s->invalid_cap);
	}
	s->invalid[s->ninvalid].value = value;
	s->invalid[s->ninvalid].reason = reason;
	s->ninvalid++;
}

/* Why an invalid value was refused (values are numbered as they come). */
const char *
cdp_bulk_invalid_reason(const bulk_state *s, int32 value)
{
	int32		lo = 0;
	int32		hi = s->ninvalid - 1;

	while (lo <= hi)
	{
		int32		mid = lo + (hi - lo) / 2;

		if (s->invalid[mid].value == value)
			return s->invalid[mid].reason;
		if (s->invalid[mid].value < value)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/*
 * The value of one row.  Each distinct spelling (kind, region, raw value) is
 * normalised once, so the same value arriving from many records costs one
 * normaliser call; spellings normalising alike share their value.  A
 * spelling the normaliser refuses is a value of its own, marked invalid.
 */
static int32
value_of_row(bulk_state *s, read_maps *maps, const cdp_kind *kind, const char *raw, int raw_len,
			 const char *region, int32 source)
{
	bool		found;
	strmap_entry *spelling;
	strmap_entry *e;
	const char *spelling_key;
	int32		index;
	cdp_norm_error err;
	text	   *normalized;
	instr_time	start;
	instr_time	end;

	set_key(maps, kind, region, raw, raw_len);
	spelling = insert_key(maps, maps->values, &found);
	if (found)
		return spelling->index;

	/* an error here leaves the entry half made, but aborts the whole call */
	INSTR_TIME_SET_CURRENT(start);
	normalized = cdp_try_normalize(kind->normalizer, raw, raw_len, region, &err);
	INSTR_TIME_SET_CURRENT(end);
	INSTR_TIME_ACCUM_DIFF(maps->normalising, end, start);
	maps->spellings++;

	if (normalized == NULL)
	{
		const char *as_read = key_text(spelling->key);

		spelling->index = new_value(s, kind, as_read, as_read, source);
		s->values[spelling->index].invalid = true;
		add_invalid_reason(s, spelling->index, cdp_invalid_reason(&err, region));
		s->invalid_values++;
		return spelling->index;
	}

	/* a spelling read without a region and already normalised is the value */
	if (region == NULL && VARSIZE_ANY_EXHDR(normalized) == raw_len &&
		memcmp(VARDATA_ANY(normalized), raw, raw_len) == 0)
	{
		const char *value = key_text(spelling->key);

		pfree(normalized);
		spelling->index = new_value(s, kind, value, value, source);
		s->values[spelling->index].blocked = cdp_value_blocked(kind, value);
		return spelling->index;
	}

	/* another spelling: the value's entry, then the spelling's (moved by the insert) */
	spelling_key = spelling->key;
	set_key(maps, kind, NULL, VARDATA_ANY(normalized), VARSIZE_ANY_EXHDR(normalized));
	pfree(normalized);
	e = insert_key(maps, maps->values, &found);
	if (!found)
	{
		e->index = new_value(s, kind, key_text(e->key), key_text(spelling_key), source);
		s->values[e->index].blocked = cdp_value_blocked(kind, key_text(e->key));
	}
	index = e->index;
	strmap_lookup(maps->values, spelling_key)->index = index;
	return index;
}

/*
 * The input's rows go straight from the executor to the reader, one slot
 * at a time: no tuple is copied or kept.
 */
typedef struct input_reader
{
	DestReceiver pub;
	bulk_state *s;
	read_maps  *maps;
	MemoryContext memory;		/* where what is kept lives */
	int			c_record,
				c_kind,
				c_value,
				c_source,
				c_region;
	int64		rows;
} input_reader;

static void
reader_startup(DestReceiver *self, int operation, TupleDesc desc)
{
	input_reader *r = (input_reader *) self;

	r->c_record = column_of(desc, "record_id", true);
	r->c_kind = column_of(desc, "kind", true);
	r->c_value = column_of(desc, "value", true);
	r->c_source = column_of(desc, "source", false);
	r->c_region = column_of(desc, "region", false);
}

static void
free_copy(const char *value, bool copied)
{
	if (copied)
		pfree(unconstify(char *, value) - VARHDRSZ);
}

static bool
reader_receive(TupleTableSlot *slot, DestReceiver *self)
{
	input_reader *r = (input_reader *) self;
	bulk_state *s = r->s;
	MemoryContext old = MemoryContextSwitchTo(r->memory);
	int			record_len = 0,
				kind_len = 0,
				raw_len = 0,
				source_len = 0,
				region_len = 0;
	bool		record_copied,
				kind_copied,
				raw_copied,
				source_copied,
				region_copied;
	const char *record_id = column_text(slot, r->c_record, &record_len, &record_copied);
	const char *kind_text = column_text(slot, r->c_kind, &kind_len, &kind_copied);
	const char *raw = column_text(slot, r->c_value, &raw_len, &raw_copied);
	const char *source = column_text(slot, r->c_source, &source_len, &source_copied);
	const char *region_text = column_text(slot, r->c_region, &region_len, &region_copied);
	char		kind_name[NAMEDATALEN];
	char	   *region = region_text ? pnstrdup(region_text, region_len) : NULL;
	const cdp_kind *kind = NULL;
	int32		value;
	int32		source_index;

	CHECK_FOR_INTERRUPTS();
	r->rows++;
	if (record_id == NULL || kind_text == NULL || raw == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("row %lld of the resolve_all query has a null %s", (long long) r->rows,
						record_id == NULL ? "record_id" : kind_text == NULL ? "kind" : "value")));
	if (kind_len < NAMEDATALEN)
	{
		memcpy(kind_name, kind_text, kind_len);
		kind_name[kind_len] = '\0';
		kind = cdp_find_kind(s->kinds, kind_name);
	}
	if (kind == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("unknown identifier kind: \"%s\"", pnstrdup(kind_text, kind_len)),
				 errdetail("Row %lld of the resolve_all query, record \"%s\".",
						   (long long) r->rows, pnstrdup(record_id, record_len))));
	source_index = add_source(s, r->maps, source, source_len);
	value = value_of_row(s, r->maps, kind, raw, raw_len, region, source_index);
	if (s->values[value].invalid)
		s->invalid_rows++;

	if (s->nlinks == s->links_cap)
	{
		s->links_cap = grown(s->links_cap);
		s->links = repalloc_huge(s->links, sizeof(cdp_mr_link) * s->links_cap);
		s->link_source = repalloc_huge(s->link_source, sizeof(int32) * s->links_cap);
	}
	s->links[s->nlinks].record = add_record(s, r->maps, record_id, record_len);
	s->links[s->nlinks].value = value;
	s->link_source[s->nlinks] = source_index;
	s->nlinks++;

	if (region != NULL)
		pfree(region);
	free_copy(record_id, record_copied);
	free_copy(kind_text, kind_copied);
	free_copy(raw, raw_copied);
	free_copy(source, source_copied);
	free_copy(region_text, region_copied);
	if (r->rows % READ_NOTICE_EVERY == 0)
		ereport(NOTICE,
				(errmsg("resolve_all: read %lld rows, %d records, %d distinct identifiers",
						(long long) r->rows, s->nrecords, s->nvalues - s->invalid_values)));
	MemoryContextSwitchTo(old);
	return true;
}

static void
reader_shutdown(DestReceiver *self)
{
}

static void
reader_destroy(DestReceiver *self)
{
}

/* Read and normalise the whole input. */
void
cdp_bulk_read(bulk_state *s, const char *query)
{
	SPIPlanPtr	plan;
	read_maps	maps;
	input_reader reader;
	SPIExecuteOptions options;
	int			status;

	memset(&maps, 0, sizeof(maps));
	maps.records = strmap_create(CurrentMemoryContext, 1024, NULL);
	maps.values = strmap_create(CurrentMemoryContext, 1024, NULL);
	maps.sources = strmap_create(CurrentMemoryContext, 16, NULL);
	maps.arena.memory = CurrentMemoryContext;
	initStringInfo(&maps.key);
	INSTR_TIME_SET_ZERO(maps.normalising);
	s->records_cap = s->values_cap = 1024;
	s->records = palloc(sizeof(char *) * s->records_cap);
	s->values = palloc(sizeof(bulk_value) * s->values_cap);
	s->invalid_cap = 16;
	s->invalid = palloc(sizeof(bulk_invalid) * s->invalid_cap);
	s->sources_cap = 16;
	s->sources = palloc(sizeof(char *) * s->sources_cap);
	s->sources[s->nsources++] = NULL;
	s->links_cap = 1024;
	s->links = palloc(sizeof(cdp_mr_link) * s->links_cap);
	s->link_source = palloc(sizeof(int32) * s->links_cap);

	/* the caller's query: its text varies, so it is prepared here */
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

	memset(&reader, 0, sizeof(reader));
	reader.pub.receiveSlot = reader_receive;
	reader.pub.rStartup = reader_startup;
	reader.pub.rShutdown = reader_shutdown;
	reader.pub.rDestroy = reader_destroy;
	reader.pub.mydest = DestNone;
	reader.s = s;
	reader.maps = &maps;
	reader.memory = CurrentMemoryContext;
	memset(&options, 0, sizeof(options));
	options.read_only = true;
	options.dest = &reader.pub;
	status = SPI_execute_plan_extended(plan, &options);
	if (status < 0)
		elog(ERROR, "resolve_all query failed: %s", SPI_result_code_string(status));

	s->progress_level = reader.rows >= BULK_PROGRESS_ROWS ? NOTICE : DEBUG1;
	ereport(s->progress_level,
			(errmsg("resolve_all: read %lld rows: %d records, %d distinct identifiers",
					(long long) reader.rows, s->nrecords, s->nvalues - s->invalid_values)));
	ereport(DEBUG1,
			(errmsg("resolve_all: normalising %d distinct spellings took %.3f s",
					maps.spellings, INSTR_TIME_GET_DOUBLE(maps.normalising))));
	if (s->invalid_rows > 0)
		ereport(NOTICE,
				(errmsg("resolve_all: skipped %lld invalid values (%d distinct), recorded as invalid conflicts",
						(long long) s->invalid_rows, s->invalid_values)));
	s->read_memory = MemoryContextMemAllocated(reader.memory, true);
	strmap_destroy(maps.sources);
	strmap_destroy(maps.values);
	strmap_destroy(maps.records);
	pfree(maps.key.data);
}

/*
 * The identifier-value locks of every valid value of the input, as resolve
 * takes them, before anything is looked up: a concurrent resolve of one of
 * them waits for this load, then finds what it wrote.
 */
void
cdp_bulk_lock_values(bulk_state *s)
{
	cdp_value_locks locks;

	memset(&locks, 0, sizeof(locks));
	for (int32 v = 0; v < s->nvalues; v++)
		if (!s->values[v].invalid)
			cdp_value_locks_add(&locks, s->values[v].kind->kind, s->values[v].value);
	cdp_value_locks_take(&locks);
}

/*
 * The kinds and values of the valid values from *next on, at most a batch,
 * as two text[]; index[] receives their value numbers.  Returns how many.
 */
static int
value_batch(bulk_state *s, int32 *next, Datum *args, int32 *index)
{
	char	  **kinds = palloc(sizeof(char *) * BULK_BATCH);
	char	  **values = palloc(sizeof(char *) * BULK_BATCH);
	int			n = 0;

	for (; *next < s->nvalues && n < BULK_BATCH; (*next)++)
	{
		bulk_value *v = &s->values[*next];

		if (v->invalid)
			continue;
		kinds[n] = v->kind->kind;
		values[n] = (char *) v->value;
		index[n] = *next;
		n++;
	}
	args[0] = cdp_text_array(kinds, n);
	args[1] = cdp_text_array(values, n);
	pfree(kinds);
	pfree(values);
	return n;
}

/* Under REPEATABLE READ, what the locks waited for must be in our snapshot. */
void
cdp_bulk_check_unchanged(bulk_state *s)
{
	int32	   *index;

	if (!IsolationUsesXactSnapshot())
		return;
	index = palloc(sizeof(int32) * BULK_BATCH);
	for (int32 next = 0; next < s->nvalues;)
	{
		Datum		args[2];

		if (value_batch(s, &next, args, index) == 0)
			break;
		cdp_check_values_unchanged(args[0], args[1]);
	}
}

/*
 * A forgotten person's identifiers are refused here too (42501); checked
 * under the identifier locks, as resolve does.
 */
void
cdp_bulk_refuse_suppressed(bulk_state *s)
{
	int32	   *index = palloc(sizeof(int32) * BULK_BATCH);

	if (!cdp_any_suppressions())
		return;
	for (int32 next = 0; next < s->nvalues;)
	{
		Datum		args[2];

		if (value_batch(s, &next, args, index) == 0)
			break;
		cdp_execute(&suppressed_query, args, NULL, true, 1);
		if (SPI_processed > 0)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("identifier %s \"%s\" belongs to a forgotten person",
							SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
							SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2)),
					 errdetail("cdp.forget_contact() erased this person; their identifiers may not be collected again.")));
	}
}

/* Values that may link records to a contact. */
static bool
links(const bulk_value *v)
{
	return !v->invalid && !v->blocked && v->kind->matchable;
}

/*
 * The owner lookup of cdp_lock_value_owners: which values are stored, on
 * which contact; returns the owners of the values that link.
 */
static int64 *
lookup_values(void *arg, int *nowners)
{
	bulk_state *s = arg;
	int32	   *index = palloc(sizeof(int32) * BULK_BATCH);
	int64	   *owners;
	int			n = 0;

	if (s->existing_id == NULL)
	{
		s->existing_id = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(s->nvalues, 1));
		s->owner = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(s->nvalues, 1));
	}
	memset(s->existing_id, 0, sizeof(int64) * s->nvalues);
	memset(s->owner, 0, sizeof(int64) * s->nvalues);
	for (int32 next = 0; next < s->nvalues;)
	{
		Datum		args[2];

		CHECK_FOR_INTERRUPTS();
		if (value_batch(s, &next, args, index) == 0)
			break;
		cdp_execute(&lookup_query, args, NULL, false, 0);
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	t = SPI_tuptable->vals[r];
			TupleDesc	d = SPI_tuptable->tupdesc;
			bool		isnull;
			int32		v = index[DatumGetInt64(SPI_getbinval(t, d, 1, &isnull)) - 1];

			s->existing_id[v] = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
			s->owner[v] = DatumGetInt64(SPI_getbinval(t, d, 3, &isnull));
			if (links(&s->values[v]))
				n++;
		}
		SPI_freetuptable(SPI_tuptable);
	}
	owners = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(n, 1));
	n = 0;
	for (int32 v = 0; v < s->nvalues; v++)
		if (s->owner[v] != 0 && links(&s->values[v]))
			owners[n++] = s->owner[v];
	*nowners = n;
	return owners;
}

/* The index of a contact of the existing graph in s->contacts, or -1. */
int32
cdp_bulk_contact_index(const bulk_state *s, int64 id)
{
	int32		lo = 0;
	int32		hi = s->ncontacts - 1;

	while (lo <= hi)
	{
		int32		mid = lo + (hi - lo) / 2;

		if (s->contacts[mid].id == id)
			return mid;
		if (s->contacts[mid].id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* cdp_bulk_contact_index for the readers of merge_inputs.c */
static int32
contact_index_of(void *arg, int64 id)
{
	return cdp_bulk_contact_index((bulk_state *) arg, id);
}

/*
 * The existing graph: which input values are stored already, the contacts
 * holding those that link (locked FOR UPDATE in ascending id order, looked
 * up again until nothing moved, as resolve does), their limited-kind counts
 * and merge blocks.
 */
void
cdp_bulk_read_existing(bulk_state *s)
{
	cdp_locked_contacts locked;
	int64	   *ids;
	int32		n = 0;
	bool		isnull;

	s->ncontacts = 0;
	s->contacts = palloc(sizeof(cdp_mr_contact));
	s->evidence = palloc(sizeof(int32));

	/*
	 * An initial load into an empty graph has nothing to look up; under the
	 * identifier locks, no value of the input can appear meanwhile.
	 */
	cdp_execute(&any_identifier_query, NULL, NULL, false, 1);
	if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		return;

	cdp_lock_value_owners(lookup_values, s, &locked);

	/* the contacts: the owners of linking values, ascending */
	ids = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(s->nvalues, 1));
	for (int32 v = 0; v < s->nvalues; v++)
		if (s->owner[v] != 0 && links(&s->values[v]))
			ids[n++] = s->owner[v];
	qsort(ids, n, sizeof(int64), cdp_compare_int64);
	s->contacts = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(cdp_mr_contact) * Max(n, 1));
	s->evidence = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(n, 1));
	for (int32 i = 0; i < n; i++)
		if (i == 0 || ids[i] != ids[i - 1])
		{
			s->contacts[s->ncontacts].id = ids[i];
			s->contacts[s->ncontacts].created_at = cdp_locked_created_at(&locked, ids[i]);
			s->evidence[s->ncontacts] = -1;
			ids[s->ncontacts++] = ids[i];
		}
	for (int32 v = 0; v < s->nvalues; v++)
		if (s->owner[v] != 0 && links(&s->values[v]))
		{
			int32		c = cdp_bulk_contact_index(s, s->owner[v]);

			if (s->evidence[c] < 0)
				s->evidence[c] = v;
		}
	if (s->ncontacts == 0)
		return;

	/* merge blocks among them */
	s->nblocks = cdp_read_merge_blocks(ids, s->ncontacts, contact_index_of, s, &s->blocks);

	/* what they hold of the limited kinds, whole contacts counted */
	if (s->kinds->nlimited > 0)
	{
		char	  **names = palloc(sizeof(char *) * s->kinds->nlimited);
		int			nnames = 0;
		size_t		size = sizeof(int32) * s->kinds->nlimited * (size_t) s->ncontacts;

		for (int k = 0; k < s->kinds->nkinds; k++)
			if (s->kinds->limited_slot[k] >= 0)
				names[nnames++] = s->kinds->kinds[k].kind;
		s->counts = MemoryContextAllocHuge(CurrentMemoryContext, size);
		memset(s->counts, 0, size);
		cdp_read_limited_counts(s->kinds, ids, s->ncontacts, names, nnames, contact_index_of, s, s->counts);
	}
}
