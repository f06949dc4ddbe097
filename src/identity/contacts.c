/*
 * contacts.c
 *	  Small operations on contacts shared by resolve, merge and unmerge:
 *	  following tombstones, locking in a canonical order, keeping the type
 *	  column true, and recording refused links.
 */
#include "identity/identity.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"

static cdp_query current_contact_query = {
	"SELECT cdp.current_contact($1)", 1, {INT8OID}
};

static cdp_query lock_query = {
	"SELECT id FROM cdp.contacts WHERE id = ANY($1) ORDER BY id FOR UPDATE",
	1, {INT8ARRAYOID}
};

static cdp_query type_query = {
	"SELECT cdp_internal.refresh_contact_type($1)", 1, {INT8OID}
};

static cdp_query conflict_query = {
	"INSERT INTO cdp.identity_conflicts (rule, kind, value, contact_id, other_contact_id, source)"
	" VALUES ($1, $2, $3, $4, $5, $6)",
	6, {TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID, TEXTOID}
};

static cdp_query blocked_query = {
	"SELECT 1 FROM cdp.merge_blocks WHERE contact_a = least($1, $2) AND contact_b = greatest($1, $2)",
	2, {INT8OID, INT8OID}
};

/* The live contact a (possibly merged) contact id leads to; 0 if unknown. */
int64
cdp_current_contact(int64 id)
{
	Datum		args[1] = {Int64GetDatum(id)};

	return cdp_execute_int8(&current_contact_query, args, NULL);
}

/* Row-lock contacts in ascending id order, the canonical order every caller uses. */
void
cdp_lock_contacts(int64 *ids, int n)
{
	Datum		args[1];

	if (n == 0)
		return;
	args[0] = cdp_int8_array(ids, n);
	cdp_execute(&lock_query, args, NULL, false, 0);
}

void
cdp_refresh_contact_type(int64 id)
{
	Datum		args[1] = {Int64GetDatum(id)};

	cdp_execute(&type_query, args, NULL, false, 0);
}

void
cdp_record_conflict(const char *rule, const char *kind, const char *value,
					int64 contact_id, int64 other_contact_id, const char *source)
{
	Datum		args[6];
	char		nulls[7] = "      ";

	args[0] = CStringGetTextDatum(rule);
	args[1] = CStringGetTextDatum(kind);
	args[2] = CStringGetTextDatum(value);
	args[3] = Int64GetDatum(contact_id);
	args[4] = Int64GetDatum(other_contact_id);
	args[5] = source ? CStringGetTextDatum(source) : (Datum) 0;
	if (contact_id == 0)
		nulls[3] = 'n';
	if (other_contact_id == 0)
		nulls[4] = 'n';
	if (source == NULL)
		nulls[5] = 'n';
	cdp_execute(&conflict_query, args, nulls, false, 0);
}

bool
cdp_merge_blocked(int64 a, int64 b)
{
	Datum		args[2] = {Int64GetDatum(a), Int64GetDatum(b)};

	cdp_execute(&blocked_query, args, NULL, true, 1);
	return SPI_processed > 0;
}

/* {"kind": ..., "value": ...}: the identifier that linked two contacts. */
Jsonb *
cdp_identifier_evidence(const char *kind, const char *value)
{
	JsonbParseState *state = NULL;
	JsonbValue	k;
	JsonbValue	v;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	k.type = jbvString;
	k.val.string.val = "kind";
	k.val.string.len = 4;
	pushJsonbValue(&state, WJB_KEY, &k);
	v.type = jbvString;
	v.val.string.val = (char *) kind;
	v.val.string.len = strlen(kind);
	pushJsonbValue(&state, WJB_VALUE, &v);
	k.val.string.val = "value";
	k.val.string.len = 5;
	pushJsonbValue(&state, WJB_KEY, &k);
	v.val.string.val = (char *) value;
	v.val.string.len = strlen(value);
	pushJsonbValue(&state, WJB_VALUE, &v);
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
}
