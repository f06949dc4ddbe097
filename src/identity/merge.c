/*
 * merge.c
 *	  Absorbs one contact into another (identifiers, names, tombstones and the
 *	  model data move; a cdp.merges row keeps the snapshot that undoes it),
 *	  merge_contacts for administrators, and unmerge.
 */
#include "cdp.h"
#include "citus/citus.h"
#include "identity/identity.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

PG_FUNCTION_INFO_V1(cdp_merge_contacts);
PG_FUNCTION_INFO_V1(cdp_unmerge);

/*
 * Move the absorbed contact's identifiers; a slug the survivor already uses
 * is cleared.  Returns [{"id": .., "slug": ..}] with the slugs they had.
 */
static cdp_query move_identifiers_query = {
	"WITH old AS (SELECT id, slug FROM cdp.identifiers WHERE contact_id = $2),"
	" moved AS ("
	"  UPDATE cdp.identifiers i SET contact_id = $1,"
	"         slug = CASE WHEN EXISTS (SELECT 1 FROM cdp.identifiers s"
	"                                   WHERE s.contact_id = $1 AND s.kind = i.kind"
	"                                     AND s.slug = i.slug)"
	"                     THEN NULL ELSE i.slug END"
	"    FROM old WHERE i.id = old.id RETURNING i.id)"
	"SELECT coalesce(jsonb_agg(jsonb_build_object('id', old.id, 'slug', old.slug)"
	"                          ORDER BY old.id), '[]')"
	"  FROM old JOIN moved USING (id)",
	2, {INT8OID, INT8OID},
	.citus_sql = "SELECT cdp_internal.citus_move_identifiers($1, $2)"
};

/*
 * Fill the survivor's missing names from the absorbed contact, re-point the
 * tombstones that led to the absorbed contact, and make it a tombstone.
 * Returns what the survivor had and which tombstones were re-pointed.
 */
static cdp_query absorb_contact_query = {
	"WITH before AS (SELECT given_name, family_name, last_seen_at FROM cdp.contacts WHERE id = $1),"
	" survivor AS ("
	"  UPDATE cdp.contacts s SET given_name = coalesce(s.given_name, a.given_name),"
	"         family_name = coalesce(s.family_name, a.family_name),"
	"         last_seen_at = greatest(s.last_seen_at, a.last_seen_at), updated_at = now()"
	"    FROM cdp.contacts a WHERE s.id = $1 AND a.id = $2 RETURNING s.id),"
	" repointed AS ("
	"  UPDATE cdp.contacts SET merged_into = $1 WHERE merged_into = $2 RETURNING id),"
	" absorbed AS ("
	"  UPDATE cdp.contacts SET merged_into = $1, updated_at = now() WHERE id = $2 RETURNING id)"
	"SELECT jsonb_build_object("
	"   'survivor', (SELECT to_jsonb(before) FROM before),"
	"   'repointed', (SELECT coalesce(jsonb_agg(id ORDER BY id), '[]') FROM repointed),"
	"   'absorbed', (SELECT count(*) FROM absorbed))",
	2, {INT8OID, INT8OID},
	.citus_sql = "SELECT cdp_internal.citus_absorb_contact($1, $2)"
};

static cdp_query model_merge_query = {
	"SELECT cdp_internal.model_merge($1, $2)", 2, {INT8OID, INT8OID}
};

static cdp_query insert_merge_query = {
	"INSERT INTO cdp.merges (survivor_id, absorbed_id, reason, evidence, source, snapshot)"
	" VALUES ($1, $2, $3, $4, $5,"
	"         jsonb_build_object('identifiers', $6, 'contact', $7, 'model', coalesce($8, '{}')))"
	" RETURNING id",
	8, {INT8OID, INT8OID, TEXTOID, JSONBOID, TEXTOID, JSONBOID, JSONBOID, JSONBOID}
};

static Datum
first_datum(void)
{
	bool		isnull;
	Datum		d;

	if (SPI_processed == 0)
		elog(ERROR, "statement returned no row");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return (Datum) 0;
	return SPI_datumTransfer(d, false, -1);
}

/* Caller holds row locks on both contacts; both are live. */
int64
cdp_merge_into(int64 survivor, int64 absorbed, const char *reason,
			   Jsonb *evidence, const char *source)
{
	Datum		pair[2] = {Int64GetDatum(survivor), Int64GetDatum(absorbed)};
	Datum		identifiers;
	Datum		contact;
	Datum		model;
	Datum		args[8];
	char		nulls[9] = "        ";
	int64		merge_id;

	cdp_citus_note_write(survivor);
	cdp_citus_note_write(absorbed);
	cdp_execute(&move_identifiers_query, pair, NULL, false, 1);
	identifiers = first_datum();
	cdp_execute(&absorb_contact_query, pair, NULL, false, 1);
	contact = first_datum();
	cdp_execute(&model_merge_query, pair, NULL, false, 1);
	model = first_datum();
	if (model == (Datum) 0)
		nulls[7] = 'n';

	args[0] = Int64GetDatum(survivor);
	args[1] = Int64GetDatum(absorbed);
	args[2] = CStringGetTextDatum(reason);
	args[3] = evidence ? JsonbPGetDatum(evidence) : (Datum) 0;
	args[4] = source ? CStringGetTextDatum(source) : (Datum) 0;
	args[5] = identifiers;
	args[6] = contact;
	args[7] = model;
	if (evidence == NULL)
		nulls[3] = 'n';
	if (source == NULL)
		nulls[4] = 'n';
	merge_id = cdp_execute_int8(&insert_merge_query, args, nulls);
	cdp_refresh_contact_type(survivor);
	return merge_id;
}

/* A kind whose limit the merge of $1 and $2 would exceed, with the counts. */
static cdp_query merge_limit_query = {
	"SELECT i.kind, k.max_per_contact, count(*)"
	"  FROM cdp.identifiers i JOIN cdp.identifier_kinds k USING (kind)"
	" WHERE i.contact_id IN ($1, $2) AND k.max_per_contact IS NOT NULL"
	" GROUP BY i.kind, k.max_per_contact"
	" HAVING count(*) > k.max_per_contact"
	"    AND count(*) > greatest(count(*) FILTER (WHERE i.contact_id = $1),"
	"                            count(*) FILTER (WHERE i.contact_id = $2))"
	" ORDER BY i.kind LIMIT 1",
	2, {INT8OID, INT8OID}
};

/*
 * The detail of a refused merge of the live contacts target and other: the
 * blocked pair, each end with the contact it was merged into when it is not
 * that contact itself, so the row to delete can be found.
 */
static char *
blocked_pair_detail(int64 target, int64 end_target, int64 other, int64 end_other)
{
	StringInfoData buf;

	if (end_target == target && end_other == other)
		return pstrdup(_("The pair is in cdp.merge_blocks."));
	initStringInfo(&buf);
	if (end_target == target)
		appendStringInfo(&buf, _("Contact %lld and "), (long long) end_target);
	else
		appendStringInfo(&buf, _("Contact %lld, merged into %lld, and "),
						 (long long) end_target, (long long) target);
	if (end_other == other)
		appendStringInfo(&buf, _("contact %lld are in cdp.merge_blocks."),
						 (long long) end_other);
	else
		appendStringInfo(&buf, _("contact %lld, merged into %lld, are in cdp.merge_blocks."),
						 (long long) end_other, (long long) other);
	return buf.data;
}

/*
 * merge_contacts(target, others[], reason) -> the live target: an
 * administrator's merge.  Every argument stands for its live contact (a
 * merged id leads to its survivor); those are locked together, in id order,
 * and the target's survives whatever the creation order.  Arguments that are
 * already one contact need nothing.  Merge blocks and identifier limits
 * refuse the whole call.
 */
Datum
cdp_merge_contacts(PG_FUNCTION_ARGS)
{
	int64		target;
	ArrayType  *others_array;
	Datum	   *others;
	bool	   *nulls;
	int			nothers;
	int64	   *ids;
	int64	   *live;
	char	   *reason;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("target and others must not be null")));
	target = PG_GETARG_INT64(0);
	others_array = PG_GETARG_ARRAYTYPE_P(1);
	reason = PG_ARGISNULL(2) ? "manual" : text_to_cstring(PG_GETARG_TEXT_PP(2));
	deconstruct_array(others_array, INT8OID, 8, true, TYPALIGN_DOUBLE,
					  &others, &nulls, &nothers);
	if (nothers == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nothing to merge into contact %lld", (long long) target),
				 errdetail("The array of other contacts is empty."),
				 errhint("Name the contacts to merge into the target in others.")));

	ids = palloc(sizeof(int64) * (nothers + 1));
	live = palloc(sizeof(int64) * (nothers + 1));
	ids[0] = target;
	for (int i = 0; i < nothers; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("others must not contain null")));
		if (DatumGetInt64(others[i]) == target)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot merge contact %lld into itself", (long long) target)));
		ids[i + 1] = DatumGetInt64(others[i]);
	}

	SPI_connect();
	cdp_lock_live_contacts(ids, nothers + 1, CDP_LOCK_CONTACT_ROW, live);
	target = live[0];
	for (int i = 1; i <= nothers; i++)
	{
		int64		other = live[i];
		Datum		pair[2] = {Int64GetDatum(target), Int64GetDatum(other)};
		int64		end_target;
		int64		end_other;
		bool		done = (other == target);

		/* a contact named twice (or by two of its ids) is merged once */
		for (int j = 1; j < i && !done; j++)
			done = (live[j] == other);
		if (done)
			continue;
		if (cdp_merge_blocked(target, other, &end_target, &end_other))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("contacts %lld and %lld must not be merged",
							(long long) target, (long long) other),
					 errdetail("%s", blocked_pair_detail(target, end_target, other, end_other)),
					 errhint("Delete the row from cdp.merge_blocks to allow the merge.")));
		cdp_execute(&merge_limit_query, pair, NULL, false, 1);
		if (SPI_processed > 0)
		{
			HeapTuple	t = SPI_tuptable->vals[0];
			TupleDesc	d = SPI_tuptable->tupdesc;

			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("merging contact %lld into %lld would exceed the limit of identifier kind \"%s\"",
							(long long) other, (long long) target, SPI_getvalue(t, d, 1)),
					 errdetail("The merged contact would hold %s values; max_per_contact is %s.",
							   SPI_getvalue(t, d, 3), SPI_getvalue(t, d, 2))));
		}
		cdp_merge_into(target, other, reason, NULL, NULL);
	}
	SPI_finish();
	PG_RETURN_INT64(target);
}

/* Which contacts a merge joined; they never change, so read without a lock. */
static cdp_query merge_pair_query = {
	"SELECT survivor_id, absorbed_id FROM cdp.merges WHERE id = $1",
	1, {INT8OID}
};

/* Read once the contacts are locked: a concurrent unmerge has committed by then. */
static cdp_query merge_row_query = {
	"SELECT undone_at IS NOT NULL, snapshot FROM cdp.merges WHERE id = $1 FOR UPDATE",
	1, {INT8OID}
};

/*
 * Put back the identifiers that came from the absorbed contact (with their
 * slugs), the survivor's names as they were, and the re-pointed tombstones
 * that are still the absorbed contact's: one unmerged since may have been
 * merged into the person again by a later merge, which stands and owns it
 * now.  A tombstone is the absorbed contact's while its chain of standing
 * merges leads to it.  (The identifier lists are kept true by
 * prune_snapshots_query, so what of them is still on the live contact came
 * from the absorbed one.)
 */
static cdp_query restore_query = {
	"WITH RECURSIVE ids AS ("
	"  UPDATE cdp.identifiers i SET contact_id = $2, slug = s.slug"
	"    FROM jsonb_to_recordset($4 -> 'identifiers') AS s(id bigint, slug text)"
	"   WHERE i.id = s.id AND i.contact_id = $3 RETURNING i.id),"
	" absorbed AS ("
	"  UPDATE cdp.contacts SET merged_into = NULL, updated_at = now() WHERE id = $2 RETURNING id),"
	" chain(start, node) AS ("
	"  SELECT r.id, r.id"
	"    FROM (SELECT jsonb_array_elements_text($4 -> 'contact' -> 'repointed')::bigint AS id) r"
	"  UNION"
	"  SELECT chain.start, m.survivor_id"
	"    FROM chain JOIN cdp.merges m ON m.absorbed_id = chain.node AND m.undone_at IS NULL"
	"   WHERE chain.node <> $2),"
	" tombstones AS ("
	"  UPDATE cdp.contacts t SET merged_into = $2"
	"   WHERE t.id IN (SELECT chain.start FROM chain WHERE chain.node = $2)"
	"     AND t.id <> $2 AND t.merged_into = $3 RETURNING t.id),"
	" survivor AS ("
	"  UPDATE cdp.contacts s SET"
	"         given_name = CASE WHEN b.given_name IS NULL AND s.given_name IS NOT DISTINCT FROM a.given_name"
	"                           THEN NULL ELSE s.given_name END,"
	"         family_name = CASE WHEN b.family_name IS NULL AND s.family_name IS NOT DISTINCT FROM a.family_name"
	"                            THEN NULL ELSE s.family_name END,"
	"         updated_at = now()"
	"    FROM cdp.contacts a,"
	"         jsonb_to_record($4 -> 'contact' -> 'survivor') AS b(given_name text, family_name text)"
	"   WHERE s.id = $1 AND a.id = $2 RETURNING s.id)"
	"SELECT (SELECT count(*) FROM ids) + (SELECT count(*) FROM absorbed)"
	"     + (SELECT count(*) FROM tombstones) + (SELECT count(*) FROM survivor)",
	4, {INT8OID, INT8OID, INT8OID, JSONBOID},
	.citus_sql = "SELECT cdp_internal.citus_restore($1, $2, $3, $4)"
};

static cdp_query model_unmerge_query = {
	"SELECT cdp_internal.model_unmerge($1, $2, $3 -> 'model')",
	3, {INT8OID, INT8OID, JSONBOID}
};

static cdp_query finish_unmerge_query = {
	"WITH done AS (UPDATE cdp.merges SET undone_at = now() WHERE id = $1 RETURNING id)"
	"INSERT INTO cdp.merge_blocks (contact_a, contact_b, reason)"
	" VALUES (least($2, $3), greatest($2, $3), 'unmerge of merge ' || $1)"
	" ON CONFLICT (contact_a, contact_b) DO NOTHING",
	3, {INT8OID, INT8OID, INT8OID}
};

/*
 * After an unmerge, the standing merges above its survivor ($1: the merges
 * that absorbed it, and the one that absorbed that survivor, up to the live
 * contact $2) list in their snapshots what has just left the person.  Keep
 * in those lists only what is still the live contact's: otherwise, once
 * what left is merged into the person again by another merge, undoing one
 * of them would take it away from that merge, which stands and owns it.
 */
static cdp_query prune_snapshots_query = {
	"WITH RECURSIVE up(node) AS ("
	"  SELECT $1::bigint"
	"  UNION"
	"  SELECT m.survivor_id FROM up JOIN cdp.merges m"
	"      ON m.absorbed_id = up.node AND m.undone_at IS NULL)"
	"UPDATE cdp.merges m SET snapshot = m.snapshot"
	" || jsonb_build_object('identifiers',"
	"     (SELECT coalesce(jsonb_agg(e.v ORDER BY e.n), '[]')"
	"        FROM jsonb_array_elements(m.snapshot -> 'identifiers') WITH ORDINALITY e(v, n)"
	"       WHERE EXISTS (SELECT 1 FROM cdp.identifiers i"
	"                      WHERE i.id = (e.v ->> 'id')::bigint AND i.contact_id = $2)))"
	" || CASE WHEN m.snapshot -> 'contact' ? 'repointed' THEN jsonb_build_object('contact',"
	"     (m.snapshot -> 'contact') || jsonb_build_object('repointed',"
	"      (SELECT coalesce(jsonb_agg(e.v ORDER BY e.n), '[]')"
	"         FROM jsonb_array_elements(m.snapshot -> 'contact' -> 'repointed') WITH ORDINALITY e(v, n)"
	"        WHERE EXISTS (SELECT 1 FROM cdp.contacts c"
	"                       WHERE c.id = (e.v #>> '{}')::bigint AND c.merged_into = $2))))"
	"   ELSE '{}' END"
	" || CASE WHEN m.snapshot -> 'model' ? 'events' AND m.snapshot -> 'model' ? 'documents'"
	"   THEN jsonb_build_object('model', (m.snapshot -> 'model') || jsonb_build_object("
	"     'events', (SELECT coalesce(jsonb_agg(e.v ORDER BY e.n), '[]')"
	"                  FROM jsonb_array_elements(m.snapshot -> 'model' -> 'events') WITH ORDINALITY e(v, n)"
	"                 WHERE EXISTS (SELECT 1 FROM cdp.events x"
	"                                WHERE x.id = (e.v #>> '{}')::bigint AND x.contact_id = $2)),"
	"     'documents', (SELECT coalesce(jsonb_agg(e.v ORDER BY e.n), '[]')"
	"                     FROM jsonb_array_elements(m.snapshot -> 'model' -> 'documents') WITH ORDINALITY e(v, n)"
	"                    WHERE EXISTS (SELECT 1 FROM cdp.documents x"
	"                                   WHERE x.id = (e.v #>> '{}')::bigint AND x.contact_id = $2))))"
	"   ELSE '{}' END"
	" WHERE m.absorbed_id IN (SELECT node FROM up) AND m.undone_at IS NULL",
	2, {INT8OID, INT8OID},
	.citus_sql = "SELECT cdp_internal.citus_prune_snapshots($1, $2)"
};

/*
 * unmerge(merge_id) -> the restored contact.  What came from the absorbed
 * contact goes back to it, even when the survivor has since been merged on
 * (it is taken from the survivor's live contact); the pair is then blocked.
 *
 * The person is locked before the merge row and its snapshot are read, so a
 * merge or unmerge that commits while we wait is seen whole: a concurrent
 * unmerge of the same merge makes this one "already undone", and a merge of
 * the survivor into another contact makes that one the live contact.
 */
Datum
cdp_unmerge(PG_FUNCTION_ARGS)
{
	int64		merge_id;
	int64		survivor;
	int64		absorbed;
	int64		live;
	int64		pair[2];
	int64		lives[2];
	bool		isnull;
	Datum		snapshot;
	Datum		args[4];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("merge id must not be null")));
	merge_id = PG_GETARG_INT64(0);

	SPI_connect();
	args[0] = Int64GetDatum(merge_id);
	cdp_execute(&merge_pair_query, args, NULL, false, 1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("merge %lld does not exist", (long long) merge_id)));
	survivor = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	absorbed = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));

	pair[0] = survivor;
	pair[1] = absorbed;
	cdp_lock_live_contacts(pair, 2, CDP_LOCK_CONTACT_ROW, lives);
	live = lives[0];

	args[0] = Int64GetDatum(merge_id);
	cdp_execute(&merge_row_query, args, NULL, false, 1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("merge %lld does not exist", (long long) merge_id)));
	if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("merge %lld is already undone", (long long) merge_id)));
	snapshot = SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull),
								 false, -1);
	if (lives[1] != live)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("contact %lld absorbed by merge %lld no longer leads to contact %lld",
						(long long) absorbed, (long long) merge_id, (long long) live),
				 errdetail("Its merged_into was changed outside merge_contacts and unmerge.")));

	args[0] = Int64GetDatum(survivor);
	args[1] = Int64GetDatum(absorbed);
	args[2] = Int64GetDatum(live);
	args[3] = snapshot;
	cdp_execute(&restore_query, args, NULL, false, 1);

	args[0] = Int64GetDatum(live);
	args[1] = Int64GetDatum(absorbed);
	args[2] = snapshot;
	cdp_execute(&model_unmerge_query, args, NULL, false, 1);

	args[0] = Int64GetDatum(merge_id);
	args[1] = Int64GetDatum(survivor);
	args[2] = Int64GetDatum(absorbed);
	cdp_execute(&finish_unmerge_query, args, NULL, false, 0);

	args[0] = Int64GetDatum(survivor);
	args[1] = Int64GetDatum(live);
	cdp_execute(&prune_snapshots_query, args, NULL, false, 0);

	cdp_refresh_contact_type(live);
	cdp_refresh_contact_type(absorbed);
	SPI_finish();
	PG_RETURN_INT64(absorbed);
}
