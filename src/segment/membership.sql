-- membership.sql
--   Stored segment membership (DESIGN §7): cdp.segment_members and
--   cdp.segment_changes, refresh_segment, the immediate pass that keeps
--   immediate segments exact inside the writing transaction, and scheduling.
--
-- Which contacts to evaluate comes from the change log: every write path's
-- changes land in cdp.changes with their txid, so "changed since the last
-- refresh" is "txid not visible in the snapshot the last refresh evaluated
-- with", and "touched by this transaction" is "txid = pg_current_xact_id()".

CREATE TABLE cdp.segment_members (
    segment     text NOT NULL REFERENCES cdp.segments (slug) ON DELETE CASCADE ON UPDATE CASCADE,
    contact_id  bigint NOT NULL REFERENCES cdp.contacts (id) ON DELETE CASCADE,
    since       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contact_id, segment)
);
CREATE INDEX segment_members_segment_idx ON cdp.segment_members (segment, contact_id);
COMMENT ON TABLE cdp.segment_members IS
    'Stored membership of saved segments: set by cdp.refresh_segment, and inside the writing transaction for immediate segments';
COMMENT ON COLUMN cdp.segment_members.segment IS 'The saved segment';
COMMENT ON COLUMN cdp.segment_members.contact_id IS 'A live contact that satisfied the segment when it was last evaluated';
COMMENT ON COLUMN cdp.segment_members.since IS 'The evaluation time at which the contact entered';

CREATE TABLE cdp.segment_changes (
    id          bigserial,
    segment     text NOT NULL,
    contact_id  bigint NOT NULL,
    change      text NOT NULL CONSTRAINT segment_changes_change_known CHECK (change IN ('entered', 'exited')),
    at          timestamptz NOT NULL DEFAULT now(),
    txid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (contact_id, id)
);
CREATE INDEX segment_changes_segment_idx ON cdp.segment_changes (segment, id);
COMMENT ON TABLE cdp.segment_changes IS
    'Every entry into and exit from stored segment membership, in the transaction that made it (kept after a segment is dropped)';
COMMENT ON COLUMN cdp.segment_changes.id IS 'Order of the changes';
COMMENT ON COLUMN cdp.segment_changes.segment IS 'The segment''s slug';
COMMENT ON COLUMN cdp.segment_changes.contact_id IS 'The contact that entered or exited';
COMMENT ON COLUMN cdp.segment_changes.change IS 'entered or exited';
COMMENT ON COLUMN cdp.segment_changes.at IS 'The evaluation time of the refresh or transaction that made the change';
COMMENT ON COLUMN cdp.segment_changes.txid IS 'The transaction that made the change';

-- Derived state, not dumped: a restored database refreshes each segment in
-- full once (transaction ids of another cluster mean nothing).
CREATE TABLE cdp_internal.segment_state (
    segment       text PRIMARY KEY REFERENCES cdp.segments (slug) ON DELETE CASCADE ON UPDATE CASCADE,
    snapshot      pg_snapshot,
    evaluated_at  timestamptz
);
COMMENT ON TABLE cdp_internal.segment_state IS
    'Where each segment''s stored membership stands: a segment without a row, or with a NULL snapshot, refreshes in full';
COMMENT ON COLUMN cdp_internal.segment_state.segment IS 'The saved segment';
COMMENT ON COLUMN cdp_internal.segment_state.snapshot IS
    'The snapshot the last refresh evaluated with: changes whose transaction it does not see are newer';
COMMENT ON COLUMN cdp_internal.segment_state.evaluated_at IS 'The evaluation time of the last refresh';

SELECT pg_catalog.pg_extension_config_dump('cdp.segment_members', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.segment_changes', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.segment_changes_id_seq', '');

-- The compiler for a refresh or pass over candidates (segment_eval.c).
CREATE FUNCTION cdp_internal.compile_segment_for(definition cdp.segment, at text, candidates text, self text)
RETURNS text
LANGUAGE c STABLE
SET jit = off
AS 'MODULE_PATHNAME', 'cdp_segment_compile_for';
COMMENT ON FUNCTION cdp_internal.compile_segment_for(cdp.segment, text, text, text) IS
    'Compiles a definition for only the contacts of a bigint[] (candidates is its SQL, e.g. $1)';

-- The members of organizations and of the organizations below them: an
-- organization's change reaches them.
-- PL/pgSQL: Citus plans no parameterised statement of an SQL function, and
-- no recursive query joined with a distributed table.
CREATE FUNCTION cdp_internal.organization_tree_members(organizations bigint[]) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tree bigint[];
BEGIN
    WITH RECURSIVE t(id) AS (
        SELECT unnest(organizations)
        UNION
        SELECT o.id FROM cdp.organizations o JOIN t ON o.parent_id = t.id
    )
    SELECT coalesce(array_agg(t.id), '{}') INTO tree FROM t;
    RETURN QUERY SELECT DISTINCT m.contact_id FROM cdp.organization_members m WHERE m.organization_id = ANY (tree);
END
$$;
COMMENT ON FUNCTION cdp_internal.organization_tree_members(bigint[]) IS
    'The members of organizations and of every organization below them';

-- The contacts whose data changed in transactions that a snapshot does not
-- see (NULL: this transaction's), as the change log records them: changes
-- about a contact or its documents, and the members of an organization that
-- changed or of one below it (ORGANIZATION UNDER, organization profiles).
-- Segment entries and exits are not data changes (IN SEGMENT evaluates the
-- included definition, not stored membership): counting them would make
-- every refresh evaluate again the contacts the previous one moved.
-- A BEGIN ATOMIC body is parsed when created, so the caller's search_path
-- cannot change what it calls; without a SET clause the planner inlines it
-- into the immediate pass's query, where since is NULL.
CREATE FUNCTION cdp_internal.changed_contacts(since pg_snapshot) RETURNS SETOF bigint
LANGUAGE sql STABLE
BEGIN ATOMIC
    WITH changed AS (
        SELECT ch.object_type, ch.object_id, ch.contact_id
          FROM cdp.changes ch
         WHERE CASE WHEN since IS NULL THEN ch.txid = pg_current_xact_id()
                    ELSE ch.txid >= pg_snapshot_xmin(since) AND NOT pg_visible_in_snapshot(ch.txid, since) END
           AND ch.action NOT IN ('entered', 'exited')
    )
    SELECT c.contact_id FROM changed c WHERE c.contact_id IS NOT NULL
    UNION
    SELECT cdp_internal.organization_tree_members(ARRAY(SELECT c.object_id FROM changed c WHERE c.object_type = 'organization'));
END;
COMMENT ON FUNCTION cdp_internal.changed_contacts(pg_snapshot) IS
    'Contacts whose data changed in transactions a snapshot does not see (NULL: in this transaction), from cdp.changes';

-- Writes differences to stored membership: each (segment, contact, entered)
-- becomes a segment_members row inserted or deleted, a segment_changes row
-- and a cdp.changes entry or exit; member_count moves by the difference.
-- Shared by refresh_segment and the immediate pass (segment_pass.c).
-- PL/pgSQL keeps the statement's plan for the session: the pass calls it
-- at many commits.
CREATE FUNCTION cdp_internal.store_membership_changes(segments text[], contacts bigint[], is_entry boolean[],
                                                      at timestamptz, OUT entered bigint, OUT exited bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    WITH d AS (
        SELECT u.segment, u.contact_id, u.entry FROM unnest(segments, contacts, is_entry) AS u(segment, contact_id, entry)
    ), entering AS (
        INSERT INTO cdp.segment_members AS m (segment, contact_id, since)
        SELECT d.segment, d.contact_id, at FROM d WHERE d.entry
        ON CONFLICT DO NOTHING
        RETURNING m.segment, m.contact_id
    ), exiting AS (
        DELETE FROM cdp.segment_members m USING d
         WHERE NOT d.entry AND m.segment = d.segment AND m.contact_id = d.contact_id
        RETURNING m.segment, m.contact_id
    ), logged AS (
        INSERT INTO cdp.segment_changes AS c (segment, contact_id, change, at)
        SELECT e.segment, e.contact_id, 'entered', at FROM entering e
        UNION ALL
        SELECT x.segment, x.contact_id, 'exited', at FROM exiting x
        RETURNING c.segment, c.contact_id, c.change
    ), fed AS (
        INSERT INTO cdp.changes (object_type, object_id, contact_id, action, diff)
        SELECT 'contact', l.contact_id, l.contact_id, l.change,
               jsonb_build_object('segments.' || l.segment,
                                  CASE l.change WHEN 'entered' THEN '[false, true]'::jsonb ELSE '[true, false]'::jsonb END)
          FROM logged l
        RETURNING 1
    ), counted AS (
        UPDATE cdp.segments g SET member_count = coalesce(g.member_count, 0) + t.delta
          FROM (SELECT l.segment, sum(CASE l.change WHEN 'entered' THEN 1 ELSE -1 END) AS delta
                  FROM logged l GROUP BY l.segment) t
         WHERE g.slug = t.segment AND t.delta <> 0
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM entering), (SELECT count(*) FROM exiting) INTO entered, exited;
END
$$;
COMMENT ON FUNCTION cdp_internal.store_membership_changes(text[], bigint[], boolean[], timestamptz) IS
    'Inserts and deletes stored memberships, recording each entry and exit in segment_changes and cdp.changes';

-- The statement a refresh runs: evaluates the segment $3 at time $2 for the
-- contacts $1 (all contacts when every_contact), compares with its stored
-- membership and stores the difference.  Returns (entered, exited, the
-- snapshot the evaluation saw).
CREATE FUNCTION cdp_internal.membership_sql(slug text, every_contact boolean) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
RETURN format($q$
        WITH now_in AS (
            %s
        ), was_in AS (
            SELECT _m.contact_id FROM cdp.segment_members _m WHERE _m.segment = $3%s
        ), d AS (
            SELECT _n.id AS contact_id, true AS entered FROM now_in _n
             WHERE NOT EXISTS (SELECT 1 FROM was_in _w WHERE _w.contact_id = _n.id)
            UNION ALL
            SELECT _w.contact_id, false FROM was_in _w
             WHERE NOT EXISTS (SELECT 1 FROM now_in _n WHERE _n.id = _w.contact_id)
        ), a AS (
            SELECT array_agg($3 ORDER BY _d.contact_id) AS segments, array_agg(_d.contact_id ORDER BY _d.contact_id) AS contacts,
                   array_agg(_d.entered ORDER BY _d.contact_id) AS entered
              FROM d _d
        )
        SELECT _s.entered, _s.exited, pg_current_snapshot()
          FROM a, cdp_internal.store_membership_changes(a.segments, a.contacts, a.entered, $2) _s
        $q$,
        CASE WHEN every_contact
             THEN cdp_internal.compile_segment(cdp_internal.segment_definition(slug), '$2', false, slug)
             ELSE cdp_internal.compile_segment_for(cdp_internal.segment_definition(slug), '$2', '$1', slug) END,
        CASE WHEN every_contact THEN '' ELSE ' AND _m.contact_id = ANY ($1)' END);
COMMENT ON FUNCTION cdp_internal.membership_sql(text, boolean) IS
    'The statement that evaluates a saved segment for candidate contacts (or all) and stores the difference';


-- The snapshot a refresh stores, with the refreshing transaction counted as
-- in progress: a transaction sees its own changes, but its snapshot does not
-- list its own xid, which is visible in it once a later transaction has
-- completed; its changes after the refresh would then never be candidates.
CREATE FUNCTION cdp_internal.refresh_snapshot(snap pg_snapshot) RETURNS pg_snapshot
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN own IS NULL OR NOT pg_visible_in_snapshot(own, snap) THEN snap
                ELSE format('%s:%s:%s', pg_snapshot_xmin(snap), pg_snapshot_xmax(snap),
                            (SELECT string_agg(x::text, ',' ORDER BY x)
                               FROM (SELECT pg_snapshot_xip(snap) UNION SELECT own) s(x)))::pg_snapshot END
      FROM (SELECT pg_current_xact_id_if_assigned()) o(own)
$$;
COMMENT ON FUNCTION cdp_internal.refresh_snapshot(pg_snapshot) IS
    'A snapshot with the current transaction added as in progress, so that its later changes count as newer';

-- One refresh of one segment: the statement above, run once.
CREATE FUNCTION cdp_internal.apply_membership(slug text, candidates bigint[], at timestamptz,
                                              OUT entered bigint, OUT exited bigint, OUT snapshot pg_snapshot)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
    EXECUTE cdp_internal.membership_sql(slug, candidates IS NULL)
       INTO entered, exited, snapshot
      USING candidates, cdp_internal.evaluation_time(at), slug;
END
$$;
COMMENT ON FUNCTION cdp_internal.apply_membership(text, bigint[], timestamptz) IS
    'Evaluates a saved segment for candidate contacts (NULL: all) and writes the difference to its stored membership';

-- A segment and every saved segment that includes it through IN SEGMENT,
-- each after the segments it includes.
CREATE FUNCTION cdp_internal.segment_and_dependants(slug text) RETURNS TABLE(segment text, depth integer)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    WITH RECURSIVE up(segment, depth) AS (
        SELECT slug, 0
        UNION ALL
        SELECT r.segment, up.depth + 1
          FROM cdp_internal.segment_references r JOIN up ON r.kind = 'segment' AND r.name = up.segment
    )
    SELECT up.segment, max(up.depth) FROM up GROUP BY up.segment ORDER BY 2, 1;
END;
COMMENT ON FUNCTION cdp_internal.segment_and_dependants(text) IS
    'A segment and the saved segments that include it (IN SEGMENT), in evaluation order';

-- Refreshes from a known point: a refresh and an immediate pass of one
-- segment must not interleave (the pass takes this lock shared, so passes
-- of different transactions run side by side).
CREATE FUNCTION cdp_internal.lock_segment_membership(slug text, exclusive boolean) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF exclusive THEN
        PERFORM pg_advisory_xact_lock(hashtext('cdp.segment_members'), hashtext(slug));
    ELSE
        PERFORM pg_advisory_xact_lock_shared(hashtext('cdp.segment_members'), hashtext(slug));
    END IF;
END
$$;
COMMENT ON FUNCTION cdp_internal.lock_segment_membership(text, boolean) IS
    'Serialises refreshes of one segment against each other (exclusive) and against immediate passes (shared)';

-- Evaluates every contact again, records where membership now stands.
CREATE FUNCTION cdp_internal.refresh_in_full(slug text, at timestamptz,
                                             OUT entered bigint, OUT exited bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    snap pg_snapshot;
BEGIN
    SELECT a.entered, a.exited, a.snapshot INTO entered, exited, snap
      FROM cdp_internal.apply_membership(slug, NULL, at) a;
    INSERT INTO cdp_internal.segment_state AS s (segment, snapshot, evaluated_at)
    VALUES (slug, cdp_internal.refresh_snapshot(snap), at)
    ON CONFLICT ON CONSTRAINT segment_state_pkey DO UPDATE SET snapshot = EXCLUDED.snapshot, evaluated_at = EXCLUDED.evaluated_at;
    UPDATE cdp.segments s
       SET member_count = (SELECT count(*) FROM cdp.segment_members m WHERE m.segment = refresh_in_full.slug),
           refreshed_at = now()
     WHERE s.slug = refresh_in_full.slug;
END
$$;
COMMENT ON FUNCTION cdp_internal.refresh_in_full(text, timestamptz) IS
    'Evaluates a segment for every contact and stores the membership';

-- The contacts a refresh must evaluate again, or NULL when only a full
-- evaluation will do.  Changed contacts come from the change log.  Time moves
-- a segment where it has EVENT conditions (an event enters the past, or
-- leaves a WITHIN window): the contacts with such events between the two
-- evaluation times are candidates too.  A now() comparison of a value moves
-- every contact whose value lies in the moved range; that is a full
-- evaluation here.  IN SEGMENT brings in what the included segment has.
CREATE FUNCTION cdp_internal.refresh_candidates(slug text, since pg_snapshot, t0 timestamptz, t1 timestamptz)
RETURNS bigint[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    dep record;
    result bigint[];
    event_names text[] := '{}';
    event_withins interval[] := '{}';
    changed bigint[];
BEGIN
    IF since IS NULL OR t0 IS NULL OR t1 < t0 THEN
        RETURN NULL;
    END IF;
    FOR dep IN WITH RECURSIVE windows(kind, name, within, seen) AS (
                 SELECT x.kind, x.name, x.within, ARRAY[slug]
                   FROM cdp_internal.segment_time_windows(cdp_internal.segment_definition(slug)) x
                 UNION ALL
                 SELECT x.kind, x.name, x.within, w.seen || w.name
                   FROM windows w, cdp_internal.segment_time_windows(cdp_internal.segment_definition(w.name)) x
                  WHERE w.kind = 'segment' AND NOT w.name = ANY (w.seen)
             )
             SELECT DISTINCT kind, name, within FROM windows WHERE kind <> 'segment' LOOP
        IF dep.kind = 'now' THEN
            RETURN NULL;
        END IF;
        -- the events of included segments move this one too
        event_names := event_names || dep.name;
        event_withins := event_withins || dep.within;
    END LOOP;
    IF cdp_internal.citus_mode() THEN
        changed := cdp_internal.citus_changed_contacts(since);
    ELSE
        changed := ARRAY(SELECT cdp_internal.changed_contacts(since));
    END IF;
    SELECT array_agg(DISTINCT x.id) INTO result
      FROM (SELECT unnest(changed)
            UNION ALL
            SELECT e.contact_id
              FROM cdp.events e
              JOIN unnest(event_names, event_withins) ev(name, within) ON e.name = ev.name
             WHERE e.occurred_at BETWEEN t0 AND t1
                OR e.occurred_at BETWEEN t0 - ev.within AND t1 - ev.within) x(id);
    RETURN coalesce(result, '{}');
END
$$;

COMMENT ON FUNCTION cdp_internal.refresh_candidates(text, pg_snapshot, timestamptz, timestamptz) IS
    'The contacts a refresh must evaluate again (changed, or moved by time), or NULL for all';

CREATE FUNCTION cdp.refresh_segment(slug text) RETURNS TABLE(entered bigint, exited bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    at timestamptz := now();
    state cdp_internal.segment_state;
    candidates bigint[];
    snap pg_snapshot;
BEGIN
    PERFORM cdp_internal.segment_definition(slug);
    PERFORM cdp_internal.lock_segment_membership(slug, true);
    SELECT * INTO state FROM cdp_internal.segment_state s WHERE s.segment = refresh_segment.slug;
    IF cdp_internal.citus_mode() THEN
        -- the snapshot first, then what it shows committed reaches the
        -- workers, then the candidates: a later statement sees no less
        snap := cdp_internal.refresh_snapshot(pg_current_snapshot());
        PERFORM cdp_internal.wait_for_commits();
        candidates := cdp_internal.refresh_candidates(slug, state.snapshot, state.evaluated_at, at);
    ELSE
        -- the candidates and the snapshot that says what they cover, in one statement
        SELECT cdp_internal.refresh_candidates(slug, state.snapshot, state.evaluated_at, at),
               cdp_internal.refresh_snapshot(pg_current_snapshot())
          INTO candidates, snap;
    END IF;
    IF candidates IS NULL THEN
        SELECT f.entered, f.exited INTO entered, exited FROM cdp_internal.refresh_in_full(slug, at) f;
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT a.entered, a.exited INTO entered, exited FROM cdp_internal.apply_membership(slug, candidates, at) a;
    UPDATE cdp_internal.segment_state s SET snapshot = snap, evaluated_at = at WHERE s.segment = refresh_segment.slug;
    UPDATE cdp.segments s SET refreshed_at = now() WHERE s.slug = refresh_segment.slug;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION cdp.refresh_segment(text) IS
    'Brings a segment''s stored membership up to date: re-evaluates the contacts changed since the last refresh (and those time may have moved), or all; returns how many entered and exited';

CREATE FUNCTION cdp_internal.refresh_in_full_guarded(slug text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM cdp_internal.lock_segment_membership(slug, true);
    PERFORM cdp_internal.refresh_in_full(slug, now());
END
$$;
COMMENT ON FUNCTION cdp_internal.refresh_in_full_guarded(text) IS
    'Locks a segment''s membership against refreshes and passes, then evaluates it for every contact';

-- A deleted contact (forget_contact, cleanup_ghosts) leaves its segments as
-- an exit, so that member_count and the change feed follow; the foreign
-- key's cascade would drop the rows silently.
CREATE FUNCTION cdp_internal.leave_segments(contacts bigint[]) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    segs text[];
    ids bigint[];
BEGIN
    SELECT array_agg(m.segment), array_agg(m.contact_id) INTO segs, ids
      FROM cdp.segment_members m WHERE m.contact_id = ANY (contacts);
    IF cardinality(ids) > 0 THEN
        PERFORM cdp_internal.store_membership_changes(segs, ids, array_fill(false, ARRAY[cardinality(ids)]), now());
    END IF;
END
$$;
COMMENT ON FUNCTION cdp_internal.leave_segments(bigint[]) IS
    'Records the exits of contacts about to be deleted from every segment they are in';

CREATE FUNCTION cdp_internal.contact_leaves_segments() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- on Citus the coordinator's deleters do this (cdp_internal.leave_segments)
    IF cdp_internal.citus_on_worker() THEN
        RETURN OLD;
    END IF;
    PERFORM cdp_internal.leave_segments(ARRAY[OLD.id]);
    RETURN OLD;
END
$$;
COMMENT ON FUNCTION cdp_internal.contact_leaves_segments() IS
    'Before a contact is deleted: its stored memberships end as exits (segment_changes, cdp.changes, member_count)';

CREATE TRIGGER contact_leaves_segments BEFORE DELETE ON cdp.contacts
    FOR EACH ROW EXECUTE FUNCTION cdp_internal.contact_leaves_segments();

-- After a segment's definition or refresh mode changed: it and the segments
-- that include it start again from a full evaluation, at once for immediate
-- ones (so that they stay exact), at the next refresh for manual ones.
CREATE FUNCTION cdp_internal.segment_changed(slug text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record;
BEGIN
    FOR s IN SELECT d.segment, g.refresh
               FROM cdp_internal.segment_and_dependants(slug) d
               JOIN cdp.segments g ON g.slug = d.segment
              ORDER BY d.depth, d.segment LOOP
        DELETE FROM cdp_internal.segment_state st WHERE st.segment = s.segment;
        IF s.refresh = 'immediate' THEN
            PERFORM cdp_internal.refresh_in_full_guarded(s.segment);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION cdp_internal.segment_changed(text) IS
    'Re-evaluates an immediate segment (and the segments that include it) in full after its definition changed; manual ones refresh in full next time';

-- The C side (segment_membership.c, segment_pass.c).

CREATE FUNCTION cdp_internal.segment_time_windows(definition cdp.segment)
RETURNS TABLE(kind text, name text, within interval)
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cdp_segment_time_windows';
COMMENT ON FUNCTION cdp_internal.segment_time_windows(cdp.segment) IS
    'What makes a definition depend on its evaluation time: (event, name, within), (now, reference), (segment, slug)';

CREATE FUNCTION cdp_internal.segment_pass_trigger() RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'cdp_segment_pass_trigger';
COMMENT ON FUNCTION cdp_internal.segment_pass_trigger() IS
    'Deferred trigger of cdp.changes: runs the immediate pass once when the transaction commits';

CREATE FUNCTION cdp_internal.segment_pass_wanted(action text) RETURNS boolean
LANGUAGE c VOLATILE STRICT
AS 'MODULE_PATHNAME', 'cdp_segment_pass_wanted';
COMMENT ON FUNCTION cdp_internal.segment_pass_wanted(text) IS
    'True for the first data change of a transaction (again after the pass fired or its event was rolled back); false for segment entries and exits';

-- The first data change of a transaction queues this trigger; it fires at
-- commit (or at SET CONSTRAINTS … IMMEDIATE) and runs the pass.
CREATE CONSTRAINT TRIGGER changes_segment_pass AFTER INSERT ON cdp.changes
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (cdp_internal.segment_pass_wanted(NEW.action))
    EXECUTE FUNCTION cdp_internal.segment_pass_trigger();

CREATE FUNCTION cdp_internal.segment_catalog_changed() RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'cdp_segment_catalog_changed';
COMMENT ON FUNCTION cdp_internal.segment_catalog_changed() IS
    'Tells every backend that compiled segments may have changed (a relcache invalidation of cdp.segments)';

-- What compiled segment SQL depends on: definitions, and the names and ids
-- the compiler expands (attributes, tables, tag and term subtrees,
-- organization trees, kinds).  Not member_count or refreshed_at, which every
-- pass and refresh sets.
CREATE TRIGGER segments_compiled_changed AFTER INSERT OR UPDATE OF slug, definition, refresh OR DELETE OR TRUNCATE ON cdp.segments
    FOR EACH STATEMENT EXECUTE FUNCTION cdp_internal.segment_catalog_changed();
CREATE TRIGGER profiles_compiled_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cdp.profiles
    FOR EACH STATEMENT EXECUTE FUNCTION cdp_internal.segment_catalog_changed();
CREATE TRIGGER document_templates_compiled_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cdp.document_templates
    FOR EACH STATEMENT EXECUTE FUNCTION cdp_internal.segment_catalog_changed();
CREATE TRIGGER attributes_compiled_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cdp.attributes
    FOR EACH STATEMENT EXECUTE FUNCTION cdp_internal.segment_catalog_changed();
CREATE TRIGGER taxonomies_compiled_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cdp.taxonomies
    FOR EACH STATEMENT EXECUTE FUNCTION cdp_internal.segment_catalog_changed();
CREATE TRIGGER terms_compiled_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cdp.terms
    FOR EACH STATEMENT EXECUTE FUNCTION cdp_internal.segment_catalog_changed();
CREATE TRIGGER tags_compiled_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cdp.tags
    FOR EACH STATEMENT EXECUTE FUNCTION cdp_internal.segment_catalog_changed();
CREATE TRIGGER organizations_compiled_changed AFTER INSERT OR UPDATE OF slug, parent_id OR DELETE OR TRUNCATE ON cdp.organizations
    FOR EACH STATEMENT EXECUTE FUNCTION cdp_internal.segment_catalog_changed();
CREATE TRIGGER identifier_kinds_compiled_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cdp.identifier_kinds
    FOR EACH STATEMENT EXECUTE FUNCTION cdp_internal.segment_catalog_changed();

-- ---------------------------------------------------------------- scheduling

-- The pg_cron schedule of an interval: a cron expression for whole minutes,
-- hours or a day that divide their unit (pg_cron 1.4 schedules by the minute).
CREATE FUNCTION cdp_internal.cron_schedule(every interval) RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    seconds numeric := extract(epoch FROM every);
    s bigint := trunc(seconds);
BEGIN
    IF every IS NULL THEN
        RAISE EXCEPTION 'refresh interval must not be null' USING ERRCODE = '22004';
    END IF;
    IF seconds <> s THEN
        s := -1;
    ELSIF s % 60 = 0 AND s / 60 BETWEEN 1 AND 59 AND 60 % (s / 60) = 0 THEN
        RETURN format('*/%s * * * *', s / 60);
    ELSIF s % 3600 = 0 AND s / 3600 BETWEEN 1 AND 23 AND 24 % (s / 3600) = 0 THEN
        RETURN format('0 */%s * * *', s / 3600);
    ELSIF s = 86400 THEN
        RETURN '0 0 * * *';
    END IF;
    RAISE EXCEPTION 'cannot schedule a refresh every %', every USING ERRCODE = '22023',
        DETAIL = 'Intervals are minutes that divide an hour, hours that divide a day, or one day.',
        HINT = 'For other schedules call cron.schedule with cdp.refresh_segment yourself.';
END
$$;
COMMENT ON FUNCTION cdp_internal.cron_schedule(interval) IS 'The pg_cron schedule text of a refresh interval';

CREATE FUNCTION cdp_internal.require_pg_cron() RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database' USING ERRCODE = '55000',
            DETAIL = 'cdp schedules refreshes with the pg_cron extension.',
            HINT = 'Install postgresql-15-cron, add pg_cron to shared_preload_libraries, restart and CREATE EXTENSION pg_cron; or call cdp.refresh_segment from your own scheduler.';
    END IF;
END
$$;
COMMENT ON FUNCTION cdp_internal.require_pg_cron() IS 'Raises 55000 with instructions when pg_cron is not installed';

CREATE FUNCTION cdp.schedule_refresh(slug text, every interval) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job bigint;
    schedule text;
BEGIN
    PERFORM cdp_internal.segment_definition(slug);
    schedule := cdp_internal.cron_schedule(every);
    PERFORM cdp_internal.require_pg_cron();
    EXECUTE 'SELECT cron.schedule_in_database($1, $2, $3, current_database())'
       INTO job
      USING 'cdp refresh ' || slug, schedule,
            format('SELECT cdp.refresh_segment(%L)', slug);
    RETURN job;
END
$$;
COMMENT ON FUNCTION cdp.schedule_refresh(text, interval) IS
    'Has pg_cron run cdp.refresh_segment for a segment at an interval (job "cdp refresh <slug>", replaced if it exists); 55000 without pg_cron';

CREATE FUNCTION cdp.unschedule_refresh(slug text) RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    done boolean;
BEGIN
    PERFORM cdp_internal.require_pg_cron();
    IF NOT EXISTS (SELECT 1 FROM cron.job j WHERE j.jobname = 'cdp refresh ' || slug) THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT cron.unschedule($1)' INTO done USING 'cdp refresh ' || slug;
    RETURN done;
END
$$;
COMMENT ON FUNCTION cdp.unschedule_refresh(text) IS
    'Removes the pg_cron job of a segment''s scheduled refresh; false if there was none';
