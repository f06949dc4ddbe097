-- merge.sql
--   How merges, unmerges and forgetting reach the model data (profiles, tags,
--   terms, memberships, documents, events).  Identity resolution calls these
--   three functions.
--
-- Snapshot (cdp.merges.snapshot -> 'model'), everything about the absorbed contact:
--   {"version": 1,
--    "profiles":  {"<slug>": {"row": {<absorbed row as JSON, without contact_id>},
--                             "created": true|false,     -- survivor had no row
--                             "filled": ["attr", ...]}},  -- survivor NULLs filled
--    "tags":      {"all": [[tag_id, since], ...], "moved": [tag_id, ...]},
--    "terms":     {"all": [[term_id, since], ...], "moved": [term_id, ...]},
--    "members":   {"all": [{organization_id, role, is_primary, since}, ...], "moved": [organization_id, ...]},
--    "documents": [document_id, ...],
--    "events":    [event_id, ...]}
-- "moved" lists what the survivor gained (it did not hold it before).

-- Move everything the absorbed contact owns to the survivor and return what
-- unmerge needs to put it back (stored in cdp.merges.snapshot -> 'model').
CREATE FUNCTION cdp_internal.model_merge(survivor bigint, absorbed bigint)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
    arow jsonb;
    srow jsonb;
    filled text[];
    profiles jsonb := '{}';
    tags jsonb;
    terms jsonb;
    members jsonb;
    documents jsonb;
    events jsonb;
    citus constant boolean := cdp_internal.citus_mode();
BEGIN
    IF survivor IS NULL OR absorbed IS NULL OR survivor = absorbed THEN
        RAISE EXCEPTION 'cannot merge contact % into %', absorbed, survivor USING ERRCODE = '22023';
    END IF;

    FOR p IN SELECT pr.slug, pr.data_table,
                    ARRAY(SELECT a.slug FROM cdp.attributes a
                           WHERE a.owner_type = 'profile' AND a.owner_slug = pr.slug ORDER BY a.position) AS attrs
               FROM cdp.profiles pr WHERE pr.object_type = 'contact' ORDER BY pr.slug LOOP
        -- Aliases start with "_", which no attribute slug can: a whole-row
        -- reference to "t" would read an attribute named t.
        EXECUTE format('SELECT to_jsonb(_t) - ''contact_id'' FROM %s _t WHERE _t.contact_id = $1 FOR UPDATE', p.data_table)
            INTO arow USING absorbed;
        CONTINUE WHEN arow IS NULL;
        EXECUTE format('SELECT to_jsonb(_t) FROM %s _t WHERE _t.contact_id = $1 FOR UPDATE', p.data_table)
            INTO srow USING survivor;
        IF srow IS NULL AND citus THEN
            -- a contact's rows live on its shard (README "Scaling out on Citus")
            EXECUTE format('INSERT INTO %s SELECT * FROM jsonb_populate_record(NULL::%s, $1)', p.data_table, p.data_table)
                USING arow || jsonb_build_object('contact_id', survivor);
            EXECUTE format('DELETE FROM %s WHERE contact_id = $1', p.data_table) USING absorbed;
        ELSIF srow IS NULL THEN
            EXECUTE format('UPDATE %s SET contact_id = $1 WHERE contact_id = $2', p.data_table) USING survivor, absorbed;
            profiles := profiles || jsonb_build_object(p.slug, jsonb_build_object('row', arow, 'created', true,
                            'filled', to_jsonb(ARRAY(SELECT a FROM unnest(p.attrs) a WHERE arow -> a <> 'null'))));
        ELSE
            filled := ARRAY(SELECT a FROM unnest(p.attrs) a WHERE srow -> a = 'null' AND arow -> a <> 'null');
            IF cardinality(filled) > 0 AND citus THEN
                -- the absorbed row is on another shard: its values come as JSON
                EXECUTE format('UPDATE %s _s SET updated_at = now(), %s FROM jsonb_populate_record(NULL::%s, $2) _ab WHERE _s.contact_id = $1',
                               p.data_table,
                               (SELECT string_agg(format('%I = _ab.%I', a, a), ', ') FROM unnest(filled) a),
                               p.data_table)
                    USING survivor, arow;
            ELSIF cardinality(filled) > 0 THEN
                EXECUTE format('UPDATE %s _s SET updated_at = now(), %s FROM %s _ab WHERE _s.contact_id = $1 AND _ab.contact_id = $2',
                               p.data_table,
                               (SELECT string_agg(format('%I = _ab.%I', a, a), ', ') FROM unnest(filled) a),
                               p.data_table)
                    USING survivor, absorbed;
            END IF;
            EXECUTE format('DELETE FROM %s WHERE contact_id = $1', p.data_table) USING absorbed;
            profiles := profiles || jsonb_build_object(p.slug, jsonb_build_object('row', arow, 'created', false,
                            'filled', to_jsonb(filled)));
        END IF;
    END LOOP;

    WITH a AS (DELETE FROM cdp.contact_tags x WHERE x.contact_id = absorbed RETURNING x.tag_id, x.since),
         i AS (INSERT INTO cdp.contact_tags (contact_id, tag_id, since)
               SELECT survivor, a.tag_id, a.since FROM a ON CONFLICT DO NOTHING RETURNING tag_id)
    SELECT jsonb_build_object('all', coalesce((SELECT jsonb_agg(jsonb_build_array(a.tag_id, a.since) ORDER BY a.tag_id) FROM a), '[]'),
                              'moved', coalesce((SELECT jsonb_agg(i.tag_id ORDER BY i.tag_id) FROM i), '[]'))
      INTO tags;

    WITH a AS (DELETE FROM cdp.contact_terms x WHERE x.contact_id = absorbed RETURNING x.term_id, x.since),
         i AS (INSERT INTO cdp.contact_terms (contact_id, term_id, since)
               SELECT survivor, a.term_id, a.since FROM a ON CONFLICT DO NOTHING RETURNING term_id)
    SELECT jsonb_build_object('all', coalesce((SELECT jsonb_agg(jsonb_build_array(a.term_id, a.since) ORDER BY a.term_id) FROM a), '[]'),
                              'moved', coalesce((SELECT jsonb_agg(i.term_id ORDER BY i.term_id) FROM i), '[]'))
      INTO terms;

    WITH a AS (DELETE FROM cdp.organization_members x WHERE x.contact_id = absorbed
               RETURNING x.organization_id, x.role, x.is_primary, x.since),
         sp AS (SELECT EXISTS (SELECT 1 FROM cdp.organization_members x WHERE x.contact_id = survivor AND x.is_primary) AS has),
         i AS (INSERT INTO cdp.organization_members (contact_id, organization_id, role, is_primary, since)
               SELECT survivor, a.organization_id, a.role, a.is_primary AND NOT sp.has, a.since FROM a, sp
               ON CONFLICT DO NOTHING RETURNING organization_id)
    SELECT jsonb_build_object('all', coalesce((SELECT jsonb_agg(to_jsonb(a) ORDER BY a.organization_id) FROM a), '[]'),
                              'moved', coalesce((SELECT jsonb_agg(i.organization_id ORDER BY i.organization_id) FROM i), '[]'))
      INTO members;

    IF citus THEN
        documents := to_jsonb(cdp_internal.citus_move_documents(absorbed, survivor));
    ELSE
        WITH m AS (UPDATE cdp.documents d SET contact_id = survivor WHERE d.contact_id = absorbed RETURNING d.id)
        SELECT coalesce(jsonb_agg(m.id ORDER BY m.id), '[]') INTO documents FROM m;
    END IF;

    IF citus THEN
        events := to_jsonb(cdp_internal.citus_move_events(absorbed, survivor));
    ELSE
        WITH m AS (UPDATE cdp.events e SET contact_id = survivor WHERE e.contact_id = absorbed RETURNING e.id)
        SELECT coalesce(jsonb_agg(m.id ORDER BY m.id), '[]') INTO events FROM m;
    END IF;

    RETURN jsonb_build_object('version', 1, 'profiles', profiles, 'tags', tags, 'terms', terms,
                              'members', members, 'documents', documents, 'events', events);
END
$$;
COMMENT ON FUNCTION cdp_internal.model_merge(bigint, bigint) IS
    'Moves the absorbed contact''s profiles, tags, terms, memberships, documents and events to the survivor; returns the undo snapshot';

-- Put back what model_merge moved from absorbed to survivor.  If the survivor
-- has itself been merged since, its own survivor gives the things back.
CREATE FUNCTION cdp_internal.model_unmerge(survivor bigint, absorbed bigint, snapshot jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s bigint := survivor;
    nxt bigint;
    pslug text;
    entry jsonb;
    tbl regclass;
    attrs text[];
    filled text[];
    current_row jsonb;
BEGIN
    IF snapshot IS NULL OR snapshot = '{}' THEN
        RETURN;
    END IF;
    IF snapshot ->> 'version' IS DISTINCT FROM '1' THEN
        RAISE EXCEPTION 'unknown model snapshot version: %', coalesce(snapshot ->> 'version', 'none')
            USING ERRCODE = '22023';
    END IF;
    LOOP
        SELECT c.merged_into INTO nxt FROM cdp.contacts c WHERE c.id = s;
        EXIT WHEN nxt IS NULL OR nxt = absorbed;
        s := nxt;
    END LOOP;

    FOR pslug, entry IN SELECT e.key, e.value FROM jsonb_each(snapshot -> 'profiles') e ORDER BY e.key LOOP
        SELECT pr.data_table,
               ARRAY(SELECT a.slug FROM cdp.attributes a WHERE a.owner_type = 'profile' AND a.owner_slug = pr.slug)
          INTO tbl, attrs
          FROM cdp.profiles pr WHERE pr.slug = pslug AND pr.object_type = 'contact';
        CONTINUE WHEN tbl IS NULL;
        IF (entry ->> 'created')::boolean THEN
            EXECUTE format('DELETE FROM %s WHERE contact_id = $1', tbl) USING s;
        ELSE
            filled := ARRAY(SELECT f FROM jsonb_array_elements_text(entry -> 'filled') f WHERE f = ANY (attrs));
            IF cardinality(filled) > 0 THEN
                -- what the merge filled and nobody changed since goes back to
                -- NULL (compared here: Citus takes no to_jsonb inside a CASE)
                EXECUTE format('SELECT to_jsonb(_t) FROM %s _t WHERE _t.contact_id = $1', tbl) INTO current_row USING s;
                filled := ARRAY(SELECT f FROM unnest(filled) f WHERE current_row -> f = entry -> 'row' -> f);
            END IF;
            IF cardinality(filled) > 0 THEN
                EXECUTE format('UPDATE %s SET %s WHERE contact_id = $1', tbl,
                               (SELECT string_agg(format('%I = NULL', f), ', ') FROM unnest(filled) f))
                    USING s;
            END IF;
        END IF;
        EXECUTE format('INSERT INTO %s SELECT * FROM jsonb_populate_record(NULL::%s, $1) ON CONFLICT (contact_id) DO NOTHING',
                       tbl, tbl)
            USING (entry -> 'row') || jsonb_build_object('contact_id', absorbed);
    END LOOP;

    DELETE FROM cdp.contact_tags x
     WHERE x.contact_id = s AND x.tag_id IN (SELECT t::bigint FROM jsonb_array_elements_text(snapshot -> 'tags' -> 'moved') t);
    INSERT INTO cdp.contact_tags (contact_id, tag_id, since)
    SELECT absorbed, (e ->> 0)::bigint, (e ->> 1)::timestamptz FROM jsonb_array_elements(snapshot -> 'tags' -> 'all') e
     WHERE EXISTS (SELECT 1 FROM cdp.tags t WHERE t.id = (e ->> 0)::bigint)
    ON CONFLICT DO NOTHING;

    DELETE FROM cdp.contact_terms x
     WHERE x.contact_id = s AND x.term_id IN (SELECT t::bigint FROM jsonb_array_elements_text(snapshot -> 'terms' -> 'moved') t);
    INSERT INTO cdp.contact_terms (contact_id, term_id, since)
    SELECT absorbed, (e ->> 0)::bigint, (e ->> 1)::timestamptz FROM jsonb_array_elements(snapshot -> 'terms' -> 'all') e
     WHERE EXISTS (SELECT 1 FROM cdp.terms t WHERE t.id = (e ->> 0)::bigint)
    ON CONFLICT DO NOTHING;

    DELETE FROM cdp.organization_members x
     WHERE x.contact_id = s
       AND x.organization_id IN (SELECT t::bigint FROM jsonb_array_elements_text(snapshot -> 'members' -> 'moved') t);
    INSERT INTO cdp.organization_members (contact_id, organization_id, role, is_primary, since)
    SELECT absorbed, m.organization_id, m.role, m.is_primary, m.since
      FROM jsonb_populate_recordset(NULL::cdp.organization_members, snapshot -> 'members' -> 'all') m
     WHERE EXISTS (SELECT 1 FROM cdp.organizations o WHERE o.id = m.organization_id)
    ON CONFLICT DO NOTHING;

    IF cdp_internal.citus_mode() THEN
        PERFORM cdp_internal.citus_move_documents(s, absorbed,
                    ARRAY(SELECT t::bigint FROM jsonb_array_elements_text(snapshot -> 'documents') t));
    ELSE
        UPDATE cdp.documents d SET contact_id = absorbed
         WHERE d.contact_id = s AND d.id IN (SELECT t::bigint FROM jsonb_array_elements_text(snapshot -> 'documents') t);
    END IF;

    IF cdp_internal.citus_mode() THEN
        PERFORM cdp_internal.citus_move_events(s, absorbed,
                    ARRAY(SELECT t::bigint FROM jsonb_array_elements_text(snapshot -> 'events') t));
    ELSE
        UPDATE cdp.events e SET contact_id = absorbed
         WHERE e.contact_id = s AND e.id IN (SELECT t::bigint FROM jsonb_array_elements_text(snapshot -> 'events') t);
    END IF;
END
$$;
COMMENT ON FUNCTION cdp_internal.model_unmerge(bigint, bigint, jsonb) IS
    'Gives the absorbed contact back what model_merge moved from it, and clears the survivor''s attributes it filled';

-- Erase everything the model holds about a contact.
CREATE FUNCTION cdp_internal.model_forget(contact bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tbl regclass;
BEGIN
    FOR tbl IN SELECT pr.data_table FROM cdp.profiles pr WHERE pr.object_type = 'contact' ORDER BY pr.slug LOOP
        EXECUTE format('DELETE FROM %s WHERE contact_id = $1', tbl) USING contact;
    END LOOP;
    DELETE FROM cdp.documents d WHERE d.contact_id = contact;
    DELETE FROM cdp.organization_members m WHERE m.contact_id = contact;
    DELETE FROM cdp.contact_tags x WHERE x.contact_id = contact;
    DELETE FROM cdp.contact_terms x WHERE x.contact_id = contact;
    DELETE FROM cdp.events e WHERE e.contact_id = contact;
END
$$;
COMMENT ON FUNCTION cdp_internal.model_forget(bigint) IS
    'Erases the contact''s profiles, documents (and their values), memberships, tags, terms and events';
