-- changes.sql
--   The change feed: cdp.changes (written by the capture trigger in changes.c
--   on every table of contacts, organizations and documents) and cdp.consume.

CREATE TABLE cdp.changes (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    txid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    actor       text NOT NULL DEFAULT current_user,
    object_type text NOT NULL
                CONSTRAINT changes_object_type_known CHECK (object_type IN ('contact', 'organization', 'document')),
    object_id   bigint NOT NULL,
    contact_id  bigint,
    action      text NOT NULL
                CONSTRAINT changes_action_known
                CHECK (action IN ('insert', 'update', 'delete', 'merge', 'unmerge', 'forget', 'entered', 'exited')),
    diff        jsonb NOT NULL DEFAULT '{}'
);
-- consume reads a range of transactions; the immediate segment pass reads its own
CREATE INDEX changes_txid_idx ON cdp.changes (txid);
CREATE INDEX changes_contact_idx ON cdp.changes (contact_id) WHERE contact_id IS NOT NULL;
-- forget_contact finds the values of its documents written after the document
-- was gone (a cascade), when their contact could no longer be read
CREATE INDEX changes_orphan_document_idx ON cdp.changes (object_id)
    WHERE object_type = 'document' AND contact_id IS NULL;
COMMENT ON TABLE cdp.changes IS
    'The change feed: every insert, update and delete of contacts, organizations, documents and what belongs to them, merges, unmerges, forgets and segment entries and exits, with field-level diffs, written in the transaction that made them; cdp.consume reads it';
COMMENT ON COLUMN cdp.changes.id IS
    'Change id, in the order the changes were written (not the order their transactions committed: cdp.consume gives that)';
COMMENT ON COLUMN cdp.changes.at IS 'When the change was made (the transaction''s start time)';
COMMENT ON COLUMN cdp.changes.txid IS 'The top-level transaction that made the change';
COMMENT ON COLUMN cdp.changes.actor IS 'The database role that made the change (current_user)';
COMMENT ON COLUMN cdp.changes.object_type IS 'What changed: contact, organization or document';
COMMENT ON COLUMN cdp.changes.object_id IS
    'The id of the contact, organization or document that changed (for a change of its identifiers, tags, profiles..., the owner''s id)';
COMMENT ON COLUMN cdp.changes.contact_id IS
    'The contact the change is about: object_id for a contact, the document''s contact for a contact''s document; NULL for organizations and their documents';
COMMENT ON COLUMN cdp.changes.action IS
    'insert, update or delete of the object (a change of what belongs to it is an update of it; an event is an insert), merge and unmerge (of the survivor), forget, entered and exited (a segment)';
COMMENT ON COLUMN cdp.changes.diff IS
    'The fields that changed, {"field": [old, new]} with JSON-typed values (null for absent); field names as the README''s change feed section describes; forget_contact replaces the values with null';

CREATE TABLE cdp.change_consumers (
    consumer        text PRIMARY KEY CONSTRAINT change_consumers_name_not_empty CHECK (consumer <> ''),
    done_snapshot   pg_snapshot NOT NULL DEFAULT '1:1:',
    batch_snapshot  pg_snapshot,
    batch_last_id   bigint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    consumed_at     timestamptz
);
COMMENT ON TABLE cdp.change_consumers IS
    'The cursor of each consumer of cdp.changes (cdp.consume): changes are handed out in batches of the transactions that committed between two snapshots';
COMMENT ON COLUMN cdp.change_consumers.consumer IS 'The consumer''s name, as given to cdp.consume';
COMMENT ON COLUMN cdp.change_consumers.done_snapshot IS
    'The consumer has had every change of the transactions visible in this snapshot (none at first)';
COMMENT ON COLUMN cdp.change_consumers.batch_snapshot IS
    'The batch in progress: the changes of transactions visible in this snapshot and not in done_snapshot; NULL between batches';
COMMENT ON COLUMN cdp.change_consumers.batch_last_id IS
    'The last change id handed out of the batch in progress (0 at its start)';
COMMENT ON COLUMN cdp.change_consumers.created_at IS 'When the consumer first consumed';
COMMENT ON COLUMN cdp.change_consumers.consumed_at IS 'When the consumer last consumed';

SELECT pg_catalog.pg_extension_config_dump('cdp.changes', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.changes_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.change_consumers', '');

CREATE FUNCTION cdp_internal.capture_change() RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'cdp_capture_change';
COMMENT ON FUNCTION cdp_internal.capture_change() IS
    'The change capture trigger (AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW): writes field-level diffs to cdp.changes; its arguments say what the table''s rows are about (cdp_internal.capture_changes)';

-- The trigger's arguments (changes.c): object type, object id column, how
-- the contact is found, field prefix, label, value, action.  A lookup query
-- in an argument runs under the writer's search_path (a trigger has no SET
-- clause): it names its tables and operators with their schema
-- (OPERATOR(pg_catalog.=)), so that nothing planted in the path is called.
CREATE FUNCTION cdp_internal.capture_changes(tbl regclass, object_type text, id_column text, contact text,
                                             prefix text, label text, value text, action text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = tbl AND t.tgname = 'cdp_capture_changes') THEN
        EXECUTE format('DROP TRIGGER cdp_capture_changes ON %s', tbl);
    END IF;
    EXECUTE format('CREATE TRIGGER cdp_capture_changes AFTER INSERT OR UPDATE OR DELETE ON %s'
                   ' FOR EACH ROW EXECUTE FUNCTION cdp_internal.capture_change(%L, %L, %L, %L, %L, %L, %L)',
                   tbl, object_type, id_column, contact, prefix, label, value, action);
END
$$;
COMMENT ON FUNCTION cdp_internal.capture_changes(regclass, text, text, text, text, text, text, text) IS
    'Attaches the change capture trigger to a table with its arguments (see changes.c)';

-- The generated table of a profile or document template: its fields are
-- <slug>.<attribute> of its contact, organization or document.
CREATE FUNCTION cdp_internal.capture_data_table(tbl regclass, slug text, key_column text)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT cdp_internal.capture_changes(tbl, t.object_type, key_column, t.contact, slug, '', '', 'update')
      FROM (VALUES ('contact_id', 'contact', 'self'),
                   ('organization_id', 'organization', 'none'),
                   ('document_id', 'document', 'document_id SELECT d.contact_id FROM cdp.documents d WHERE d.id OPERATOR(pg_catalog.=) $1'))
           t(key_column, object_type, contact)
     WHERE t.key_column = capture_data_table.key_column
$$;
COMMENT ON FUNCTION cdp_internal.capture_data_table(regclass, text, text) IS
    'Attaches the change capture trigger to the cdp_data table of a profile or document template';

-- Every table of contacts, organizations and documents.  Tags are values
-- (their path) of the field tags; terms values of the field <taxonomy>.
SELECT cdp_internal.capture_changes(t.tbl, t.object_type, t.id_column, t.contact, t.prefix, t.label, t.value, t.action)
  FROM (VALUES
    ('cdp.contacts'::regclass, 'contact', 'id', 'self', '', '', '', 'row'),
    ('cdp.organizations', 'organization', 'id', 'none', '', '', '', 'row'),
    ('cdp.documents', 'document', 'id', 'contact_id', '', '', '', 'row'),
    ('cdp.identifiers', 'contact', 'contact_id', 'self', 'identifiers', 'kind', '', 'update'),
    ('cdp.merges', 'contact', 'survivor_id', 'self', 'merged', 'undone_at', 'absorbed_id', 'merge'),
    ('cdp.organization_members', 'contact', 'contact_id', 'self', 'organizations',
     'organization_id SELECT o.slug FROM cdp.organizations o WHERE o.id OPERATOR(pg_catalog.=) $1', '', 'update'),
    ('cdp.events', 'contact', 'contact_id', 'self', 'events', 'name', '', 'row'),
    ('cdp.contact_tags', 'contact', 'contact_id', 'self', 'tags', '',
     'tag_id SELECT t.path FROM cdp.tags t WHERE t.id OPERATOR(pg_catalog.=) $1', 'update'),
    ('cdp.organization_tags', 'organization', 'organization_id', 'none', 'tags', '',
     'tag_id SELECT t.path FROM cdp.tags t WHERE t.id OPERATOR(pg_catalog.=) $1', 'update'),
    ('cdp.document_tags', 'document', 'document_id',
     'document_id SELECT d.contact_id FROM cdp.documents d WHERE d.id OPERATOR(pg_catalog.=) $1', 'tags', '',
     'tag_id SELECT t.path FROM cdp.tags t WHERE t.id OPERATOR(pg_catalog.=) $1', 'update'),
    ('cdp.contact_terms', 'contact', 'contact_id', 'self', '',
     'term_id SELECT t.taxonomy FROM cdp.terms t WHERE t.id OPERATOR(pg_catalog.=) $1',
     'term_id SELECT t.path FROM cdp.terms t WHERE t.id OPERATOR(pg_catalog.=) $1', 'update'),
    ('cdp.organization_terms', 'organization', 'organization_id', 'none', '',
     'term_id SELECT t.taxonomy FROM cdp.terms t WHERE t.id OPERATOR(pg_catalog.=) $1',
     'term_id SELECT t.path FROM cdp.terms t WHERE t.id OPERATOR(pg_catalog.=) $1', 'update'),
    ('cdp.document_terms', 'document', 'document_id',
     'document_id SELECT d.contact_id FROM cdp.documents d WHERE d.id OPERATOR(pg_catalog.=) $1', '',
     'term_id SELECT t.taxonomy FROM cdp.terms t WHERE t.id OPERATOR(pg_catalog.=) $1',
     'term_id SELECT t.path FROM cdp.terms t WHERE t.id OPERATOR(pg_catalog.=) $1', 'update'))
  t(tbl, object_type, id_column, contact, prefix, label, value, action);

-- On an upgrade, the generated tables that exist already (none on a fresh install).
DO $$
BEGIN
    PERFORM cdp_internal.capture_data_table(d.data_table, d.slug, d.key_column)
       FROM cdp_internal.data_tables d;
END
$$;

-- The upper snapshot of a new batch.  Our own transaction is not in the xip
-- of our snapshot: it is added, so that changes we may have written are
-- treated as in progress (handed out in a later batch, after we commit).
CREATE FUNCTION cdp_internal.batch_snapshot() RETURNS pg_snapshot
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    snap pg_snapshot := pg_current_snapshot();
    own xid8 := pg_current_xact_id_if_assigned();
BEGIN
    IF own IS NULL OR NOT pg_visible_in_snapshot(own, snap) THEN
        RETURN snap;
    END IF;
    RETURN format('%s:%s:%s', pg_snapshot_xmin(snap), pg_snapshot_xmax(snap),
                  (SELECT string_agg(x::text, ',' ORDER BY x)
                     FROM (SELECT pg_snapshot_xip(snap) UNION SELECT own) s(x)))::pg_snapshot;
END
$$;
COMMENT ON FUNCTION cdp_internal.batch_snapshot() IS
    'The current snapshot, with the caller''s own transaction counted as in progress';

CREATE FUNCTION cdp.consume(consumer text, max integer DEFAULT 1000)
RETURNS SETOF cdp.changes
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cur cdp.change_consumers;
    change cdp.changes;
    remaining integer := max;
    got integer;
    fresh boolean;
BEGIN
    IF consumer IS NULL THEN
        RAISE EXCEPTION 'consumer must not be null' USING ERRCODE = 'null_value_not_allowed';
    ELSIF consumer = '' THEN
        RAISE EXCEPTION 'consumer must not be empty' USING ERRCODE = 'invalid_parameter_value',
              DETAIL = 'A consumer is named by a non-empty text.';
    ELSIF max IS NULL THEN
        RAISE EXCEPTION 'max must not be null' USING ERRCODE = 'null_value_not_allowed';
    ELSIF max < 1 THEN
        RAISE EXCEPTION 'max must be at least 1: %', max USING ERRCODE = 'invalid_parameter_value',
              DETAIL = 'max is how many changes one call hands out at most.';
    END IF;
    INSERT INTO cdp.change_consumers (consumer) VALUES (consume.consumer) ON CONFLICT DO NOTHING;
    -- a second session consuming as the same consumer waits here, then
    -- continues where this one left off
    SELECT * INTO cur FROM cdp.change_consumers c WHERE c.consumer = consume.consumer FOR UPDATE;
    LOOP
        fresh := cur.batch_snapshot IS NULL;
        IF fresh THEN
            cur.batch_snapshot := cdp_internal.batch_snapshot();
            cur.batch_last_id := 0;
            -- on Citus, what the snapshot shows committed is on the workers too
            IF cdp_internal.citus_mode() THEN
                PERFORM cdp_internal.wait_for_commits();
            END IF;
        END IF;
        got := 0;
        -- a transaction below done's xmin is visible in it: the range bounds the scan
        FOR change IN
            SELECT * FROM cdp.changes ch
             WHERE ch.txid >= pg_snapshot_xmin(cur.done_snapshot)
               AND ch.txid < pg_snapshot_xmax(cur.batch_snapshot)
               AND ch.id > cur.batch_last_id
               AND NOT pg_visible_in_snapshot(ch.txid, cur.done_snapshot)
               AND pg_visible_in_snapshot(ch.txid, cur.batch_snapshot)
             ORDER BY ch.id
             LIMIT remaining
        LOOP
            -- on Citus a change about no contact is stored with contact 0
            change.contact_id := nullif(change.contact_id, 0);
            RETURN NEXT change;
            got := got + 1;
            cur.batch_last_id := change.id;
        END LOOP;
        EXIT WHEN got = remaining;
        -- the batch is done; after an older one, a new one may fill the call
        cur.done_snapshot := cur.batch_snapshot;
        cur.batch_snapshot := NULL;
        cur.batch_last_id := 0;
        remaining := remaining - got;
        EXIT WHEN fresh;
    END LOOP;
    UPDATE cdp.change_consumers c
       SET done_snapshot = cur.done_snapshot, batch_snapshot = cur.batch_snapshot,
           batch_last_id = cur.batch_last_id, consumed_at = now()
     WHERE c.consumer = consume.consumer;
END
$$;
COMMENT ON FUNCTION cdp.consume(text, integer) IS
    'Hands the consumer the next changes (at most max), each change once, in commit order (batches of transactions that committed between two snapshots, by id within a batch); the cursor advances in the caller''s transaction, so a rollback hands the same changes again';

-- forget_contact: no value of the person stays in the feed.  The person's
-- changes (and their documents', also those written after the document was
-- gone) keep their fields with null values; one forget change is recorded.
CREATE FUNCTION cdp_internal.forget_changes(person bigint[], live bigint) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    documents bigint[];
BEGIN
    documents := ARRAY(SELECT DISTINCT c.object_id FROM cdp.changes c
                        WHERE c.contact_id = ANY (person) AND c.object_type = 'document');
    UPDATE cdp.changes c
       SET diff = (SELECT coalesce(jsonb_object_agg(k, '[null, null]'::jsonb), '{}')
                     FROM jsonb_object_keys(c.diff) k)
     WHERE (c.contact_id = ANY (person)
            OR (c.object_type = 'document' AND c.contact_id IS NULL AND c.object_id = ANY (documents)))
       AND c.diff <> '{}';
    INSERT INTO cdp.changes (object_type, object_id, contact_id, action) VALUES ('contact', live, live, 'forget');
END
$$;
COMMENT ON FUNCTION cdp_internal.forget_changes(bigint[], bigint) IS
    'Replaces the values in the changes of a forgotten person (and their documents) with null and records the forget';

-- The change feed after a restore into another cluster.  cdp.changes.txid,
-- cdp.segment_changes.txid and the consumers' snapshots are transaction ids
-- of the cluster that wrote them.  In a cluster whose counter is behind (a
-- new server, another major version), new changes would get lower ids than
-- the restored cursors: consume would hand out nothing new, and a new
-- consumer none of the restored changes, until the counter caught up.  So
-- the first write of a change or consume in a database restored from another
-- cluster (pg_control_system's system_identifier differs from the recorded
-- one) renumbers the restored ids below every id this cluster hands out,
-- keeping the order of each against every xid the consumers' snapshots name:
-- each consumer has exactly what it had not consumed, and new changes come
-- after.  A restore into the same cluster shares the counter, and one into a
-- cluster that is ahead (pg_upgrade) needs no renumbering: the new cluster
-- is only recorded.

CREATE TABLE cdp_internal.txid_origin (
    singleton          boolean PRIMARY KEY DEFAULT true CONSTRAINT txid_origin_singleton CHECK (singleton),
    system_identifier  bigint NOT NULL
);
COMMENT ON TABLE cdp_internal.txid_origin IS
    'The cluster whose transaction ids cdp.changes, cdp.segment_changes and the consumers'' snapshots hold; one row, written at the first change or consume';
COMMENT ON COLUMN cdp_internal.txid_origin.singleton IS 'Always true: the table holds at most one row';
COMMENT ON COLUMN cdp_internal.txid_origin.system_identifier IS 'pg_control_system().system_identifier of that cluster';
SELECT pg_catalog.pg_extension_config_dump('cdp_internal.txid_origin', '');

-- A restored id t becomes its slot among the consumers' snapshot bounds
-- (sorted, distinct): 3 below the first, 4 the first, 5 between the first and
-- the second, ...  t < b, t = b and t > b keep their truth for every bound b,
-- so pg_visible_in_snapshot gives the same answer for every snapshot of them.
CREATE FUNCTION cdp_internal.rebased_txid(t xid8, bounds xid8[]) RETURNS xid8
LANGUAGE sql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
    -- width_bucket: how many bounds are <= t (a binary search)
    SELECT (3 + 2 * w - coalesce(bounds[w] = t, false)::integer)::text::xid8
      FROM (SELECT width_bucket(t, bounds)) s(w)
$$;
COMMENT ON FUNCTION cdp_internal.rebased_txid(xid8, xid8[]) IS
    'A restored transaction id renumbered to its place among the sorted consumers'' snapshot bounds (3, 4, 5, ...)';

CREATE FUNCTION cdp_internal.rebased_snapshot(s pg_snapshot, bounds xid8[]) RETURNS pg_snapshot
LANGUAGE sql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT format('%s:%s:%s', cdp_internal.rebased_txid(pg_snapshot_xmin(s), bounds),
                  cdp_internal.rebased_txid(pg_snapshot_xmax(s), bounds),
                  (SELECT string_agg(cdp_internal.rebased_txid(x, bounds)::text, ',' ORDER BY x)
                     FROM pg_snapshot_xip(s) x))::pg_snapshot
$$;
COMMENT ON FUNCTION cdp_internal.rebased_snapshot(pg_snapshot, xid8[]) IS
    'A restored consumer snapshot with its transaction ids renumbered as cdp_internal.rebased_txid does';

-- SECURITY DEFINER: the first writer after a restore is usually cdp_writer,
-- for whom the change log is append-only (no UPDATE of cdp.changes); the
-- renumbering must still happen before its change is written.  A trigger
-- function cannot be called directly, so this runs only as the triggers below.
-- Rows that pg_restore loads (a top-level COPY, or INSERT for pg_dump
-- --inserts, into the table itself) are restored history: checking then
-- would renumber a half-loaded feed.  A bulk writer's COPY runs inside the
-- caller's statement (resolve_all in a SELECT), so it is checked.
CREATE FUNCTION cdp_internal.check_txid_origin() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    here bigint;
    there bigint;
    bounds xid8[];
    oldest xid8;
    newest xid8;
BEGIN
    IF pg_trigger_depth() = 1
       AND current_query() ~* ('^(\s|--[^\n]*\n)*(copy|insert\s+into)\s+' || TG_TABLE_SCHEMA || '\.' || TG_TABLE_NAME || '\M') THEN
        RETURN NULL;
    END IF;
    here := (SELECT c.system_identifier FROM pg_control_system() c);
    SELECT o.system_identifier INTO there FROM cdp_internal.txid_origin o;
    IF there IS DISTINCT FROM here THEN
        -- concurrent first writers wait for the renumbering, then find it done
        SELECT o.system_identifier INTO there FROM cdp_internal.txid_origin o FOR UPDATE;
    END IF;
    IF there = here THEN
        NULL;
    ELSIF there IS NULL THEN
        -- nothing written yet: nothing to renumber
        INSERT INTO cdp_internal.txid_origin (system_identifier) VALUES (here) ON CONFLICT DO NOTHING;
    ELSE
        SELECT coalesce(array_agg(DISTINCT b.x ORDER BY b.x), '{}') INTO bounds
          FROM cdp.change_consumers c,
               LATERAL (VALUES (c.done_snapshot), (c.batch_snapshot)) v(s),
               LATERAL (SELECT pg_snapshot_xmin(v.s) UNION SELECT pg_snapshot_xmax(v.s)
                        UNION SELECT pg_snapshot_xip(v.s)) b(x)
         WHERE v.s IS NOT NULL;
        oldest := pg_snapshot_xmin(pg_current_snapshot());
        newest := greatest((SELECT max(ch.txid) FROM cdp.changes ch), (SELECT max(sc.txid) FROM cdp.segment_changes sc),
                           bounds[cardinality(bounds)]);
        -- every restored id below every id this cluster hands out: the order is kept as it is
        IF newest >= oldest THEN
            IF 4 + 2 * cardinality(bounds) > oldest::text::bigint THEN
                RAISE EXCEPTION 'the change feed restored from another cluster needs % transaction ids below this cluster''s oldest running one, %',
                                4 + 2 * cardinality(bounds), oldest
                      USING ERRCODE = 'object_not_in_prerequisite_state',
                            DETAIL = 'Its transaction ids are renumbered below this cluster''s before the first change is written or consumed.',
                            HINT = 'Run as many transactions (SELECT pg_current_xact_id()), then write or consume again.';
            END IF;
            RAISE LOG 'cdp: renumbering the transaction ids of a change feed restored from cluster % (% consumer snapshot bounds)',
                      there, cardinality(bounds);
            -- rows of this very statement (refresh's segment_changes) are new
            UPDATE cdp.changes ch SET txid = cdp_internal.rebased_txid(ch.txid, bounds)
             WHERE ch.txid <> pg_current_xact_id() OR ch.xmin <> pg_current_xact_id()::xid;
            UPDATE cdp.segment_changes sc SET txid = cdp_internal.rebased_txid(sc.txid, bounds)
             WHERE sc.txid <> pg_current_xact_id() OR sc.xmin <> pg_current_xact_id()::xid;
            UPDATE cdp.change_consumers c
               SET done_snapshot = cdp_internal.rebased_snapshot(c.done_snapshot, bounds),
                   batch_snapshot = cdp_internal.rebased_snapshot(c.batch_snapshot, bounds);
        END IF;
        UPDATE cdp_internal.txid_origin o SET system_identifier = here;
    END IF;
    PERFORM set_config('cdp_internal.txid_origin', 'checked', false);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION cdp_internal.check_txid_origin() IS
    'Before the first change or consume of a session: records the cluster of the change feed''s transaction ids; in a database restored from another cluster, renumbers the restored ids first';

-- Once per session (a rolled-back check is made again).  The WHEN clause is
-- evaluated for every INSERT statement, one per captured row: it is kept to a
-- setting lookup and a null test (about a microsecond; comparing the setting
-- with a value cost twice that).  A session that checked before a
-- pg_restore --clean into its own database is not checked again.
CREATE TRIGGER txid_origin BEFORE INSERT ON cdp.changes FOR EACH STATEMENT
    WHEN (current_setting('cdp_internal.txid_origin', true) IS NULL)
    EXECUTE FUNCTION cdp_internal.check_txid_origin();
CREATE TRIGGER txid_origin BEFORE INSERT ON cdp.change_consumers FOR EACH STATEMENT
    WHEN (current_setting('cdp_internal.txid_origin', true) IS NULL)
    EXECUTE FUNCTION cdp_internal.check_txid_origin();
