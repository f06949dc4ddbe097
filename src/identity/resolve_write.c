/*
 * resolve_write.c
 *	  The writes of one resolve, each a single statement however many
 *	  identifiers the record has: a new contact with its identifiers, new
 *	  identifiers on an existing contact, identifiers seen again, and the
 *	  links the merge rules refused (shared with resolve_all).
 */
#include "citus/citus.h"
#include "identity/identity.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"

/*
 * The identifiers of unnest($3..$10) for contact $1 from source $2.  A slug
 * the contact already uses (checked only when $11, the contact existed) is
 * left empty.
 */
#define INSERT_IDENTIFIERS_SQL(contact) \
	"INSERT INTO cdp.identifiers (contact_id, kind, value, raw_value, slug, source," \
	"       is_validated, validation_method, validated_at, outreach)" \
	" SELECT " contact ", u.kind, u.value, u.raw_value," \
	"        CASE WHEN $11 AND EXISTS (SELECT 1 FROM cdp.identifiers s" \
	"                                   WHERE s.contact_id = " contact \
	"                                     AND s.kind = u.kind AND s.slug = u.slug)" \
	"             THEN NULL ELSE u.slug END," \
	"        $2, u.validated, CASE WHEN u.validated THEN u.method END," \
	"        CASE WHEN u.validated THEN coalesce(u.validated_at, now()) END," \
	"        coalesce(u.outreach, false)" \
	"   FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[]," \
	"               $8::text[], $9::timestamptz[], $10::boolean[])" \
	"        AS u(kind, value, raw_value, slug, validated, method, validated_at, outreach)"

#define IDENTIFIER_ARG_TYPES \
	TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, BOOLARRAYOID, \
	TEXTARRAYOID, TIMESTAMPTZARRAYOID, BOOLARRAYOID, BOOLOID

/* On Citus the index of values is written with them (distribute.sql). */
static cdp_query attach_query = {
	INSERT_IDENTIFIERS_SQL("$1"),
	11, {INT8OID, IDENTIFIER_ARG_TYPES}, CURSOR_OPT_GENERIC_PLAN,
	.citus_sql = "WITH ins AS (" INSERT_IDENTIFIERS_SQL("$1") " RETURNING value, kind, contact_id, id)"
	" INSERT INTO cdp.identifier_index (value, kind, contact_id, identifier_id) SELECT * FROM ins"
};

/* On Citus a new contact is its own statement: its identifiers are on its shard. */
static cdp_query citus_new_contact_query = {
	"INSERT INTO cdp.contacts (last_seen_at) VALUES (now()) RETURNING id", 0, {0}
};

/* $1 is unused: the contact is created by the same statement. */
static cdp_query new_contact_query = {
	"WITH contact AS (INSERT INTO cdp.contacts (last_seen_at) VALUES (now()) RETURNING id),"
	" identifiers AS (" INSERT_IDENTIFIERS_SQL("(SELECT id FROM contact)") " RETURNING 1)"
	"SELECT id FROM contact",
	11, {INT8OID, IDENTIFIER_ARG_TYPES}, CURSOR_OPT_GENERIC_PLAN
};

/*
 * Seen again: refresh last_seen_at; a validation is added, never taken away.
 * One statement per identifier: a probe of the primary key, where a
 * statement over an array of ids can keep a plan made on an empty table.
 */
static cdp_query touch_query = {
	"UPDATE cdp.identifiers SET last_seen_at = now(),"
	"       validation_method = CASE WHEN $2 AND NOT is_validated THEN $3 ELSE validation_method END,"
	"       validated_at = CASE WHEN $2 AND NOT is_validated THEN coalesce($4, now()) ELSE validated_at END,"
	"       is_validated = is_validated OR $2,"
	"       outreach = coalesce($5, outreach)"
	" WHERE id = $1",
	7, {INT8OID, BOOLOID, TEXTOID, TIMESTAMPTZOID, BOOLOID, INT8OID, TIMESTAMPTZOID}, CURSOR_OPT_GENERIC_PLAN,
	/* Citus refuses now() inside CASE: $7 is $4 or now() */
	.citus_sql = "UPDATE cdp.identifiers SET last_seen_at = now(),"
	"       validation_method = CASE WHEN $2 AND NOT is_validated THEN $3 ELSE validation_method END,"
	"       validated_at = CASE WHEN $2 AND NOT is_validated THEN $7 ELSE validated_at END,"
	"       is_validated = is_validated OR $2,"
	"       outreach = coalesce($5, outreach)"
	" WHERE contact_id = $6 AND id = $1",
	.citus_generic = true
};

static cdp_query conflicts_query = {
	"INSERT INTO cdp.identity_conflicts"
	"       (rule, kind, value, contact_id, other_contact_id, source, reason)"
	" SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[],"
	"                      $6::text[], $7::text[])",
	7, {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID, INT8ARRAYOID,
	TEXTARRAYOID, TEXTARRAYOID}
};

static Datum
array_of(Datum *elems, bool *nulls, int n, Oid type, int16 len, bool byval, char align)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};

	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs,
											  type, len, byval, align));
}


/*
 * Store the record's new identifiers on contact (0: a new contact, whose id
 * is returned).  Within the record the first identifier of a kind takes
 * "main" (or its own slug); a later one asking for a taken slug gets none.
 */
int64
cdp_attach_identifiers(cdp_item *items, int n, int64 contact, const char *source)
{
	Datum	   *kind = palloc(sizeof(Datum) * n);
	Datum	   *value = palloc(sizeof(Datum) * n);
	Datum	   *raw = palloc(sizeof(Datum) * n);
	Datum	   *slug = palloc(sizeof(Datum) * n);
	bool	   *slug_null = palloc0(sizeof(bool) * n);
	Datum	   *validated = palloc(sizeof(Datum) * n);
	Datum	   *method = palloc(sizeof(Datum) * n);
	bool	   *method_null = palloc0(sizeof(bool) * n);
	Datum	   *validated_at = palloc(sizeof(Datum) * n);
	bool	   *validated_at_null = palloc0(sizeof(bool) * n);
	Datum	   *outreach = palloc(sizeof(Datum) * n);
	bool	   *outreach_null = palloc0(sizeof(bool) * n);
	const char **claimed = palloc(sizeof(char *) * n);
	int			m = 0;
	Datum		args[11];
	char		nulls[12] = "           ";

	for (int i = 0; i < n; i++)
	{
		cdp_item   *item = &items[i];
		const char *wanted = item->slug ? item->slug : "main";
		bool		taken = false;

		if (!item->attach)
			continue;
		for (int j = 0; j < m; j++)
			if (claimed[j] != NULL && strcmp(claimed[j], wanted) == 0 &&
				strcmp(TextDatumGetCString(kind[j]), item->kind->kind) == 0)
				taken = true;
		kind[m] = CStringGetTextDatum(item->kind->kind);
		value[m] = CStringGetTextDatum(item->value);
		raw[m] = CStringGetTextDatum(item->raw_value);
		claimed[m] = taken ? NULL : wanted;
		slug_null[m] = taken;
		slug[m] = taken ? (Datum) 0 : CStringGetTextDatum(wanted);
		validated[m] = BoolGetDatum(item->validated);
		method_null[m] = item->validation_method == NULL;
		method[m] = method_null[m] ? (Datum) 0 : CStringGetTextDatum(item->validation_method);
		validated_at_null[m] = !item->has_validated_at;
		validated_at[m] = TimestampTzGetDatum(item->validated_at);
		outreach_null[m] = item->outreach < 0;
		outreach[m] = BoolGetDatum(item->outreach == 1);
		m++;
	}
	if (m == 0 && contact != 0)
		return contact;
	/* on Citus, the coordinator's immediate pass learns of the contact here */
	if (contact != 0)
		cdp_citus_note_write(contact);

	args[0] = Int64GetDatum(contact);
	args[1] = source ? CStringGetTextDatum(source) : (Datum) 0;
	args[2] = array_of(kind, NULL, m, TEXTOID, -1, false, TYPALIGN_INT);
	args[3] = array_of(value, NULL, m, TEXTOID, -1, false, TYPALIGN_INT);
	args[4] = array_of(raw, NULL, m, TEXTOID, -1, false, TYPALIGN_INT);
	args[5] = array_of(slug, slug_null, m, TEXTOID, -1, false, TYPALIGN_INT);
	args[6] = array_of(validated, NULL, m, BOOLOID, 1, true, TYPALIGN_CHAR);
	args[7] = array_of(method, method_null, m, TEXTOID, -1, false, TYPALIGN_INT);
	args[8] = array_of(validated_at, validated_at_null, m, TIMESTAMPTZOID, 8,
					   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	args[9] = array_of(outreach, outreach_null, m, BOOLOID, 1, true, TYPALIGN_CHAR);
	args[10] = BoolGetDatum(contact != 0);
	if (source == NULL)
		nulls[1] = 'n';
	if (contact == 0 && cdp_citus_mode())
	{
		cdp_citus_note_write(0);
		contact = cdp_execute_int8(&citus_new_contact_query, NULL, NULL);
		args[0] = Int64GetDatum(contact);
		args[10] = BoolGetDatum(false);
		cdp_citus_note_write(contact);
	}
	else if (contact == 0)
	{
		nulls[0] = 'n';
		return cdp_execute_int8(&new_contact_query, args, nulls);
	}
	cdp_execute(&attach_query, args, nulls, false, 0);
	return contact;
}

/* Refresh the identifiers of the record that the contact already holds. */
void
cdp_touch_identifiers(cdp_item *items, int n)
{
	for (int i = 0; i < n; i++)
	{
		cdp_item   *item = &items[i];
		Datum		args[7];
		char		nulls[8] = "       ";

		/* identifiers of merged contacts are on the survivor now */
		if (!item->touch)
			continue;
		args[0] = Int64GetDatum(item->existing_id);
		args[1] = BoolGetDatum(item->validated);
		args[2] = item->validation_method ? CStringGetTextDatum(item->validation_method) : (Datum) 0;
		args[3] = TimestampTzGetDatum(item->validated_at);
		args[4] = BoolGetDatum(item->outreach == 1);
		args[5] = Int64GetDatum(item->owner);
		args[6] = TimestampTzGetDatum(item->has_validated_at ? item->validated_at
									  : GetCurrentTransactionStartTimestamp());
		if (!item->validation_method)
			nulls[2] = 'n';
		if (!item->has_validated_at)
			nulls[3] = 'n';
		if (item->outreach < 0)
			nulls[4] = 'n';
		cdp_execute(&touch_query, args, nulls, false, 0);
	}
}

/* A bigint[] of ids where 0 stands for NULL. */
static Datum
id_array(const int64 *ids, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(n, 1));

	for (int i = 0; i < n; i++)
	{
		nulls[i] = ids[i] == 0;
		elems[i] = Int64GetDatum(ids[i]);
	}
	return array_of(elems, nulls, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/*
 * Record n refused links in cdp.identity_conflicts with one statement; a
 * contact id of 0 and a NULL string are stored as NULL.  Shared by resolve
 * (a record's conflicts) and resolve_all (in batches).
 */
void
cdp_record_conflicts(int n, char **rule, char **kind, char **value,
					 const int64 *contact_id, const int64 *other_contact_id,
					 char **source, char **reason)
{
	Datum		args[7];

	if (n <= 0)
		return;
	args[0] = cdp_text_array(rule, n);
	args[1] = cdp_text_array(kind, n);
	args[2] = cdp_text_array(value, n);
	args[3] = id_array(contact_id, n);
	args[4] = id_array(other_contact_id, n);
	args[5] = cdp_text_array(source, n);
	args[6] = cdp_text_array(reason, n);
	cdp_execute(&conflicts_query, args, NULL, false, 0);
}
