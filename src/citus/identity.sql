-- identity.sql (citus)
--   The statements of merge and unmerge (src/identity/merge.c, contacts.c)
--   as Citus runs them: a contact's rows live on its shard, so a row that
--   changes contact is deleted on one shard and inserted on the other, the
--   value index follows it, and no statement joins two contacts' rows.
--   merge.c calls these instead of its one-node statements when
--   cdp_internal.citus_mode() (cdp_query.citus_sql); same results.

-- move_identifiers_query: the absorbed contact's identifiers go to the
-- survivor, a slug the survivor already uses cleared; returns their ids and
-- the slugs they had.
CREATE FUNCTION cdp_internal.citus_move_identifiers(survivor bigint, absorbed bigint)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    moved jsonb;
    taken_kinds text[];
    taken_slugs text[];
    r record;
BEGIN
    WITH gone AS (DELETE FROM cdp.identifiers i WHERE i.contact_id = absorbed RETURNING i.*)
    SELECT coalesce(jsonb_agg(to_jsonb(gone) ORDER BY gone.id), '[]') INTO moved FROM gone;
    SELECT coalesce(array_agg(s.kind), '{}'), coalesce(array_agg(s.slug), '{}') INTO taken_kinds, taken_slugs
      FROM cdp.identifiers s WHERE s.contact_id = survivor AND s.slug IS NOT NULL;
    INSERT INTO cdp.identifiers (id, contact_id, kind, value, raw_value, slug, source, is_validated,
                                 validation_method, validated_at, outreach, first_seen_at, last_seen_at)
    SELECT g.id, survivor, g.kind, g.value, g.raw_value,
           CASE WHEN EXISTS (SELECT 1 FROM unnest(taken_kinds, taken_slugs) t(kind, slug)
                              WHERE t.kind = g.kind AND t.slug = g.slug) THEN NULL ELSE g.slug END,
           g.source, g.is_validated, g.validation_method, g.validated_at, g.outreach, g.first_seen_at, g.last_seen_at
      FROM jsonb_populate_recordset(NULL::cdp.identifiers, moved) g;
    FOR r IN SELECT e ->> 'kind' AS kind, e ->> 'value' AS value FROM jsonb_array_elements(moved) e LOOP
        UPDATE cdp.identifier_index x SET contact_id = survivor WHERE x.value = r.value AND x.kind = r.kind;
    END LOOP;
    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_object('id', e -> 'id', 'slug', e -> 'slug')
                                      ORDER BY (e ->> 'id')::bigint), '[]')
              FROM jsonb_array_elements(moved) e);
END
$$;
COMMENT ON FUNCTION cdp_internal.citus_move_identifiers(bigint, bigint) IS
    'On Citus: the identifier move of a merge (merge.c move_identifiers_query), as a delete on the absorbed contact''s shard and an insert on the survivor''s';

-- absorb_contact_query: names filled, tombstones re-pointed, absorbed made one.
CREATE FUNCTION cdp_internal.citus_absorb_contact(survivor bigint, absorbed bigint)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    before jsonb;
    a record;
    repointed jsonb;
    tombstones bigint[];
    t bigint;
    n bigint;
BEGIN
    SELECT to_jsonb(b) INTO before
      FROM (SELECT c.given_name, c.family_name, c.last_seen_at FROM cdp.contacts c WHERE c.id = survivor) b;
    SELECT c.given_name, c.family_name, c.last_seen_at INTO a FROM cdp.contacts c WHERE c.id = absorbed;
    UPDATE cdp.contacts s SET given_name = coalesce(s.given_name, a.given_name),
                              family_name = coalesce(s.family_name, a.family_name),
                              last_seen_at = greatest(s.last_seen_at, a.last_seen_at), updated_at = now()
     WHERE s.id = survivor;
    -- The tombstones are read first, then re-pointed one by one: an UPDATE
    -- over every shard was seen to take part in distributed deadlocks with
    -- concurrent resolves.  Nothing else changes them meanwhile: that needs
    -- the absorbed contact's lock, which the caller holds.
    tombstones := ARRAY(SELECT c.id FROM cdp.contacts c WHERE c.merged_into = absorbed ORDER BY c.id);
    FOREACH t IN ARRAY tombstones LOOP
        UPDATE cdp.contacts c SET merged_into = survivor WHERE c.id = t AND c.merged_into = absorbed;
    END LOOP;
    repointed := to_jsonb(tombstones);
    UPDATE cdp.contacts c SET merged_into = survivor, updated_at = now() WHERE c.id = absorbed;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN jsonb_build_object('survivor', before, 'repointed', repointed, 'absorbed', n);
END
$$;
COMMENT ON FUNCTION cdp_internal.citus_absorb_contact(bigint, bigint) IS
    'On Citus: merge.c absorb_contact_query, one contact''s row per statement';

-- restore_query of unmerge ($1 survivor, $2 absorbed, $3 live, $4 snapshot).
CREATE FUNCTION cdp_internal.citus_restore(survivor bigint, absorbed bigint, live bigint, snapshot jsonb)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    back jsonb;
    starts bigint[];
    tomb bigint;
    total bigint := 0;
    n bigint;
    a record;
    b record;
    r record;
BEGIN
    WITH gone AS (DELETE FROM cdp.identifiers i
                   WHERE i.contact_id = live
                     AND i.id = ANY (ARRAY(SELECT (e ->> 'id')::bigint
                                             FROM jsonb_array_elements(snapshot -> 'identifiers') e))
                  RETURNING i.*)
    SELECT coalesce(jsonb_agg(to_jsonb(gone) ORDER BY gone.id), '[]') INTO back FROM gone;
    INSERT INTO cdp.identifiers (id, contact_id, kind, value, raw_value, slug, source, is_validated,
                                 validation_method, validated_at, outreach, first_seen_at, last_seen_at)
    SELECT g.id, absorbed, g.kind, g.value, g.raw_value, s.slug, g.source, g.is_validated,
           g.validation_method, g.validated_at, g.outreach, g.first_seen_at, g.last_seen_at
      FROM jsonb_populate_recordset(NULL::cdp.identifiers, back) g
      JOIN jsonb_to_recordset(snapshot -> 'identifiers') AS s(id bigint, slug text) ON s.id = g.id;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;
    FOR r IN SELECT e ->> 'kind' AS kind, e ->> 'value' AS value FROM jsonb_array_elements(back) e LOOP
        UPDATE cdp.identifier_index x SET contact_id = absorbed WHERE x.value = r.value AND x.kind = r.kind;
    END LOOP;

    UPDATE cdp.contacts c SET merged_into = NULL, updated_at = now() WHERE c.id = absorbed;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;

    -- the re-pointed tombstones whose chain of standing merges still leads to absorbed
    WITH RECURSIVE chain(start, node) AS (
        SELECT t.id, t.id
          FROM (SELECT jsonb_array_elements_text(snapshot -> 'contact' -> 'repointed')::bigint AS id) t
        UNION
        SELECT chain.start, m.survivor_id
          FROM chain JOIN cdp.merges m ON m.absorbed_id = chain.node AND m.undone_at IS NULL
         WHERE chain.node <> absorbed)
    SELECT coalesce(array_agg(DISTINCT chain.start), '{}') INTO starts FROM chain WHERE chain.node = absorbed;
    FOREACH tomb IN ARRAY ARRAY(SELECT x FROM unnest(starts) x ORDER BY x) LOOP
        UPDATE cdp.contacts t SET merged_into = absorbed
         WHERE t.id = tomb AND t.id <> absorbed AND t.merged_into = live;
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;
    END LOOP;

    SELECT c.given_name, c.family_name INTO a FROM cdp.contacts c WHERE c.id = absorbed;
    IF NOT FOUND THEN
        RETURN total;
    END IF;
    SELECT * INTO b FROM jsonb_to_record(snapshot -> 'contact' -> 'survivor') AS x(given_name text, family_name text);
    UPDATE cdp.contacts s SET
           given_name = CASE WHEN b.given_name IS NULL AND s.given_name IS NOT DISTINCT FROM a.given_name
                             THEN NULL ELSE s.given_name END,
           family_name = CASE WHEN b.family_name IS NULL AND s.family_name IS NOT DISTINCT FROM a.family_name
                              THEN NULL ELSE s.family_name END,
           updated_at = now()
     WHERE s.id = survivor;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN total + n;
END
$$;
COMMENT ON FUNCTION cdp_internal.citus_restore(bigint, bigint, bigint, jsonb) IS
    'On Citus: merge.c restore_query (unmerge), one contact''s rows per statement';

-- The ids of a snapshot's list (of ids, or of objects with an "id" when key
-- is given), and the list with only the elements whose id is in kept.
CREATE FUNCTION cdp_internal.citus_list_ids(list jsonb, key text DEFAULT NULL) RETURNS bigint[]
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY(SELECT (CASE WHEN key IS NULL THEN e #>> '{}' ELSE e ->> key END)::bigint
                   FROM jsonb_array_elements(coalesce(list, '[]')) e)
$$;
COMMENT ON FUNCTION cdp_internal.citus_list_ids(jsonb, text) IS
    'On Citus: the ids of a merge snapshot''s list, for citus_prune_snapshots';

CREATE FUNCTION cdp_internal.citus_kept(list jsonb, kept bigint[], key text DEFAULT NULL) RETURNS jsonb
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(jsonb_agg(e.v ORDER BY e.n), '[]')
      FROM jsonb_array_elements(coalesce(list, '[]')) WITH ORDINALITY e(v, n)
     WHERE (CASE WHEN key IS NULL THEN e.v #>> '{}' ELSE e.v ->> key END)::bigint = ANY (kept)
$$;
COMMENT ON FUNCTION cdp_internal.citus_kept(jsonb, bigint[], text) IS
    'On Citus: a merge snapshot''s list with only the elements whose id is kept, in order';

-- prune_snapshots_query ($1 the unmerge's survivor, $2 the live contact).
CREATE FUNCTION cdp_internal.citus_prune_snapshots(survivor bigint, live bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m record;
    kept bigint[];
    snap jsonb;
    model jsonb;
BEGIN
    FOR m IN WITH RECURSIVE up(node) AS (
                 SELECT survivor
                 UNION
                 SELECT g.survivor_id FROM up JOIN cdp.merges g ON g.absorbed_id = up.node AND g.undone_at IS NULL)
             SELECT g.id, g.snapshot FROM cdp.merges g
              WHERE g.absorbed_id IN (SELECT node FROM up) AND g.undone_at IS NULL LOOP
        snap := m.snapshot;
        kept := ARRAY(SELECT i.id FROM cdp.identifiers i
                       WHERE i.contact_id = live AND i.id = ANY (cdp_internal.citus_list_ids(snap -> 'identifiers', 'id')));
        snap := snap || jsonb_build_object('identifiers', cdp_internal.citus_kept(snap -> 'identifiers', kept, 'id'));
        IF snap -> 'contact' ? 'repointed' THEN
            kept := ARRAY(SELECT c.id FROM cdp.contacts c
                           WHERE c.id = ANY (cdp_internal.citus_list_ids(snap -> 'contact' -> 'repointed'))
                             AND c.merged_into = live);
            snap := snap || jsonb_build_object('contact', (snap -> 'contact')
                        || jsonb_build_object('repointed', cdp_internal.citus_kept(snap -> 'contact' -> 'repointed', kept)));
        END IF;
        IF snap -> 'model' ? 'events' AND snap -> 'model' ? 'documents' THEN
            model := snap -> 'model';
            kept := ARRAY(SELECT x.id FROM cdp.events x
                           WHERE x.contact_id = live AND x.id = ANY (cdp_internal.citus_list_ids(model -> 'events')));
            model := model || jsonb_build_object('events', cdp_internal.citus_kept(model -> 'events', kept));
            kept := ARRAY(SELECT x.id FROM cdp.documents x
                           WHERE x.contact_id = live AND x.id = ANY (cdp_internal.citus_list_ids(model -> 'documents')));
            snap := snap || jsonb_build_object('model',
                        model || jsonb_build_object('documents', cdp_internal.citus_kept(model -> 'documents', kept)));
        END IF;
        UPDATE cdp.merges g SET snapshot = snap WHERE g.id = m.id;
    END LOOP;
END
$$;
COMMENT ON FUNCTION cdp_internal.citus_prune_snapshots(bigint, bigint) IS
    'On Citus: merge.c prune_snapshots_query, reading each contact''s rows on its shard';

-- contacts.c blocked_query: a merge block between the people of live
-- contacts a and b (each person read on its own: a contact and the
-- tombstones that lead straight to it).
CREATE FUNCTION cdp_internal.citus_merge_blocked(a bigint, b bigint)
RETURNS TABLE (end_a bigint, end_b bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    person_a bigint[] := ARRAY(SELECT c.id FROM cdp.contacts c WHERE c.id = a OR c.merged_into = a);
    person_b bigint[] := ARRAY(SELECT c.id FROM cdp.contacts c WHERE c.id = b OR c.merged_into = b);
BEGIN
    RETURN QUERY
    SELECT CASE WHEN m.contact_a = ANY (person_a) THEN m.contact_a ELSE m.contact_b END,
           CASE WHEN m.contact_a = ANY (person_a) THEN m.contact_b ELSE m.contact_a END
      FROM cdp.merge_blocks m
     WHERE (m.contact_a = ANY (person_a) AND m.contact_b = ANY (person_b))
        OR (m.contact_a = ANY (person_b) AND m.contact_b = ANY (person_a))
     ORDER BY (m.contact_a NOT IN (a, b))::int + (m.contact_b NOT IN (a, b))::int, m.contact_a, m.contact_b;
END
$$;
COMMENT ON FUNCTION cdp_internal.citus_merge_blocked(bigint, bigint) IS
    'On Citus: contacts.c blocked_query, each person read on its own';

-- On Citus, the value index forgets the identifiers of contacts about to be
-- deleted (forget_contact, cleanup_ghosts); nothing on one node.
CREATE FUNCTION cdp_internal.unindex_identifiers(contacts bigint[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v record;
BEGIN
    IF NOT cdp_internal.citus_mode() THEN
        RETURN;
    END IF;
    FOR v IN SELECT i.kind, i.value FROM cdp.identifiers i WHERE i.contact_id = ANY (contacts) LOOP
        DELETE FROM cdp.identifier_index x WHERE x.value = v.value AND x.kind = v.kind;
    END LOOP;
END
$$;
COMMENT ON FUNCTION cdp_internal.unindex_identifiers(bigint[]) IS
    'On Citus: removes the contacts'' identifiers from cdp.identifier_index before they are deleted';

-- merge_inputs.c blocks_query: the merge blocks among the people of the live
-- contacts ids, as pairs of live contacts (the people read first, then the
-- blocks, which are a reference table).
CREATE FUNCTION cdp_internal.citus_merge_blocks_among(ids bigint[])
RETURNS TABLE (live_a bigint, live_b bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    members bigint[];
    lives bigint[];
BEGIN
    SELECT coalesce(array_agg(c.id), '{}'), coalesce(array_agg(coalesce(c.merged_into, c.id)), '{}')
      INTO members, lives
      FROM cdp.contacts c WHERE c.id = ANY (ids) OR c.merged_into = ANY (ids);
    RETURN QUERY
    SELECT a.live, b.live
      FROM cdp.merge_blocks m
      JOIN unnest(members, lives) AS a(id, live) ON a.id = m.contact_a
      JOIN unnest(members, lives) AS b(id, live) ON b.id = m.contact_b
     WHERE a.live <> b.live;
END
$$;
COMMENT ON FUNCTION cdp_internal.citus_merge_blocks_among(bigint[]) IS
    'On Citus: merge_inputs.c blocks_query, the people read before the blocks';

-- segment_pass.c lock_contacts: Citus locks the rows of one shard per
-- statement, so one contact at a time, in id order.
CREATE FUNCTION cdp_internal.citus_lock_contacts(ids bigint[])
RETURNS SETOF bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    one bigint;
BEGIN
    FOR one IN SELECT DISTINCT x FROM unnest(ids) x ORDER BY x LOOP
        RETURN QUERY SELECT c.id FROM cdp.contacts c WHERE c.id = one FOR NO KEY UPDATE;
    END LOOP;
END
$$;
COMMENT ON FUNCTION cdp_internal.citus_lock_contacts(bigint[]) IS
    'On Citus: locks contacts one by one in id order (segment_pass.c lock_contacts)';

-- changed_contacts on Citus (since NULL: this transaction, whose changes
-- carry the coordinator's transaction id, which origin_txid() gives on
-- every node): each table read on its own, contacts then organizations.
CREATE FUNCTION cdp_internal.citus_changed_contacts(since pg_snapshot)
RETURNS bigint[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me xid8 := cdp_internal.origin_txid();
    lowest xid8 := pg_snapshot_xmin(since);
    contacts bigint[];
    orgs bigint[];
BEGIN
    IF since IS NULL THEN
        contacts := ARRAY(SELECT DISTINCT ch.contact_id FROM cdp.changes ch
                           WHERE ch.txid = me AND ch.contact_id <> 0 AND ch.action NOT IN ('entered', 'exited'));
        orgs := ARRAY(SELECT DISTINCT ch.object_id FROM cdp.changes ch
                       WHERE ch.txid = me AND ch.object_type = 'organization' AND ch.action NOT IN ('entered', 'exited'));
    ELSE
        contacts := ARRAY(SELECT DISTINCT ch.contact_id FROM cdp.changes ch
                           WHERE ch.txid >= lowest AND NOT pg_visible_in_snapshot(ch.txid, since)
                             AND ch.contact_id <> 0 AND ch.action NOT IN ('entered', 'exited'));
        orgs := ARRAY(SELECT DISTINCT ch.object_id FROM cdp.changes ch
                       WHERE ch.txid >= lowest AND NOT pg_visible_in_snapshot(ch.txid, since)
                         AND ch.object_type = 'organization' AND ch.action NOT IN ('entered', 'exited'));
    END IF;
    RETURN ARRAY(SELECT DISTINCT x FROM unnest(contacts || ARRAY(SELECT cdp_internal.organization_tree_members(orgs))) x);
END
$$;
COMMENT ON FUNCTION cdp_internal.citus_changed_contacts(pg_snapshot) IS
    'On Citus: cdp_internal.changed_contacts, each table read on its own (segment_pass.c, refresh_candidates)';

-- model_merge and model_unmerge on Citus: documents (all of a contact's, or
-- those of ids) move to another contact with their tags, terms and values,
-- inserted on its shard and deleted from the old one (the delete cascades).
CREATE FUNCTION cdp_internal.citus_move_documents(from_contact bigint, to_contact bigint, ids bigint[] DEFAULT NULL)
RETURNS bigint[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    docs bigint[];
    tbl regclass;
    moved jsonb;
    owner jsonb := jsonb_build_object('contact_id', to_contact);
BEGIN
    docs := ARRAY(SELECT d.id FROM cdp.documents d
                   WHERE d.contact_id = from_contact AND (ids IS NULL OR d.id = ANY (ids)) ORDER BY d.id);
    IF cardinality(docs) = 0 THEN
        RETURN docs;
    END IF;
    PERFORM cdp_internal.citus_moving(true);
    SELECT jsonb_agg(to_jsonb(d)) INTO moved FROM cdp.documents d WHERE d.contact_id = from_contact AND d.id = ANY (docs);
    INSERT INTO cdp.documents
    SELECT r.* FROM jsonb_array_elements(moved) e, LATERAL jsonb_populate_record(NULL::cdp.documents, e || owner) r;
    FOR tbl IN SELECT 'cdp.document_tags'::regclass UNION ALL SELECT 'cdp.document_terms'::regclass
               UNION ALL SELECT dt.data_table FROM cdp_internal.data_tables dt WHERE dt.key_column = 'document_id' LOOP
        EXECUTE format('SELECT jsonb_agg(to_jsonb(_x)) FROM %s _x WHERE _x.contact_id = $1 AND _x.document_id = ANY ($2)', tbl)
           INTO moved USING from_contact, docs;
        CONTINUE WHEN moved IS NULL;
        EXECUTE format('INSERT INTO %s SELECT _r.* FROM jsonb_array_elements($1) _e,'
                       ' LATERAL jsonb_populate_record(NULL::%s, _e || $2) _r', tbl, tbl)
           USING moved, owner;
    END LOOP;
    DELETE FROM cdp.documents d WHERE d.contact_id = from_contact AND d.id = ANY (docs);
    PERFORM cdp_internal.citus_moving(false);
    -- what the one-node UPDATE of documents.contact_id records
    INSERT INTO cdp.changes (txid, object_type, object_id, contact_id, action, diff)
    SELECT cdp_internal.origin_txid(), 'document', x, to_contact, 'update', jsonb_build_object('contact_id', jsonb_build_array(from_contact, to_contact))
      FROM unnest(docs) x;
    RETURN docs;
END
$$;
COMMENT ON FUNCTION cdp_internal.citus_move_documents(bigint, bigint, bigint[]) IS
    'On Citus: moves documents (with what is keyed by them) to another contact''s shard; returns their ids';

-- model_merge and model_unmerge on Citus: events (all of a contact's, or
-- those of ids) move to another contact, deleted on one shard and inserted
-- on the other, recorded as the one-node UPDATE's move (citus_moving);
-- returns their ids.
CREATE FUNCTION cdp_internal.citus_move_events(from_contact bigint, to_contact bigint, ids bigint[] DEFAULT NULL)
RETURNS bigint[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    moved jsonb;
BEGIN
    PERFORM cdp_internal.citus_moving(true);
    WITH m AS (DELETE FROM cdp.events e
                WHERE e.contact_id = from_contact AND (ids IS NULL OR e.id = ANY (ids))
               RETURNING e.*)
    SELECT coalesce(jsonb_agg(to_jsonb(m) ORDER BY m.id), '[]') INTO moved FROM m;
    INSERT INTO cdp.events
    SELECT r.* FROM jsonb_array_elements(moved) e,
           LATERAL jsonb_populate_record(NULL::cdp.events, e || jsonb_build_object('contact_id', to_contact)) r;
    PERFORM cdp_internal.citus_moving(false);
    RETURN ARRAY(SELECT (e ->> 'id')::bigint FROM jsonb_array_elements(moved) e);
END
$$;
COMMENT ON FUNCTION cdp_internal.citus_move_events(bigint, bigint, bigint[]) IS
    'On Citus: moves events to another contact''s shard; returns their ids';

