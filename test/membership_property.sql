-- pgTAP property test of stored segment membership: a deterministic random
-- workload over 200 contacts through the public write functions, in rounds
-- that each commit (so that refresh_segment works from the change log of
-- other transactions, as it does in use); after every round the incremental
-- refresh of each manual segment, and the immediate segment as its
-- transactions left it, equal a full evaluation (cdp.members).  The file
-- removes what it committed at the end.
SET client_min_messages = warning;
SET timezone = 'UTC';
SELECT NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'cdp') AS created_cdp \gset
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(4 + 8 * 4);
SELECT setseed(0.3141);

CREATE FUNCTION pg_temp.pick(a anyarray) RETURNS anyelement LANGUAGE sql VOLATILE
AS $$ SELECT a[1 + floor(random() * cardinality(a))::integer] $$;
CREATE TABLE pg_temp.people (n integer PRIMARY KEY, id bigint NOT NULL);
-- One row per check: the round, what was checked, whether it held, and what differed.
CREATE TABLE pg_temp.checks (round integer, ord integer, what text, held boolean, detail text);

-- The manual segments: profile, tag, term, organization, event, IN SEGMENT,
-- a time window; and one immediate segment mixing them.  (Time moving a
-- window is shown exactly, with explicit times, in membership.sql.)
CREATE FUNCTION pg_temp.manual() RETURNS text[] LANGUAGE sql IMMUTABLE
AS $$ SELECT ARRAY['p_tier', 'p_mix', 'p_term', 'p_org', 'p_event', 'p_dep', 'p_recent'] $$;

DO $fixture$
DECLARE
    i integer;
    c bigint;
BEGIN
    PERFORM cdp.define_profile('p_customer', 'contact', '[{"slug": "tier", "type": "text"}, {"slug": "score", "type": "integer"}]');
    PERFORM cdp.define_profile('p_company', 'organization', '[{"slug": "industry", "type": "text"}]');
    PERFORM cdp.define_taxonomy('p_interests', ARRAY['contact']);
    PERFORM cdp.add_term('p_interests', 'a/b');
    PERFORM cdp.add_term('p_interests', 'c');
    PERFORM cdp.create_organization('p_o1', 'O1');
    PERFORM cdp.create_organization('p_o2', 'O2');
    PERFORM cdp.create_organization('p_o3', 'O3', 'p_o1');
    PERFORM cdp.create_organization('p_o4', 'O4');
    FOR i IN 1..200 LOOP
        c := cdp.resolve(jsonb_build_object('external_id', 'property-' || i));
        INSERT INTO pg_temp.people VALUES (i, c);
        IF random() < 0.6 THEN
            PERFORM cdp.set_profile(c, 'p_customer', jsonb_build_object('tier', pg_temp.pick(ARRAY['gold', 'silver', 'bronze']),
                                                                        'score', floor(random() * 100)::integer));
        END IF;
        IF random() < 0.3 THEN PERFORM cdp.tag('contact', c, pg_temp.pick(ARRAY['P1', 'P2', 'P1/P3'])); END IF;
        IF random() < 0.3 THEN PERFORM cdp.classify('contact', c, 'p_interests', pg_temp.pick(ARRAY['a', 'a/b', 'c'])); END IF;
        IF random() < 0.4 THEN PERFORM cdp.add_member(c, pg_temp.pick(ARRAY['p_o1', 'p_o2', 'p_o3', 'p_o4'])); END IF;
        IF random() < 0.4 THEN
            PERFORM cdp.track(jsonb_build_object('external_id', 'property-' || i), 'p_buy', '{}',
                              now() - random() * interval '6 days');
        END IF;
    END LOOP;
    PERFORM cdp.create_segment('p_tier', $$p_customer.tier = 'gold'$$);
    PERFORM cdp.create_segment('p_mix', $$p_customer.score > 50 and tag 'P1'$$);
    PERFORM cdp.create_segment('p_term', $$p_interests under 'a' or tag under 'P1'$$);
    PERFORM cdp.create_segment('p_org', $$organization under 'p_o1' or organization(p_company.industry = 'retail')$$);
    PERFORM cdp.create_segment('p_event', $$event 'p_buy' count >= 2$$);
    PERFORM cdp.create_segment('p_dep', $$in segment 'p_tier' and not in segment 'p_event'$$);
    PERFORM cdp.create_segment('p_recent', $$event 'p_buy' within 3 days$$);
    PERFORM cdp.create_segment('p_immediate',
        $$p_customer.tier = 'silver' or (tag 'P2' and organization under 'p_o1') or in segment 'p_event' or p_interests is 'c'$$,
        refresh => 'immediate');
    PERFORM cdp.refresh_segment(s) FROM unnest(pg_temp.manual()) s;
END
$fixture$;

-- Stored membership against cdp.members, for every segment, recorded in checks.
CREATE PROCEDURE pg_temp.check(round integer) LANGUAGE plpgsql AS $$
DECLARE
    s text;
    k integer := 0;
    stored bigint[];
    live bigint[];
    candidates bigint[];
BEGIN
    FOREACH s IN ARRAY pg_temp.manual() || 'p_immediate'::text LOOP
        IF s <> 'p_immediate' THEN
            SELECT cdp_internal.refresh_candidates(s, st.snapshot, st.evaluated_at, now()) INTO candidates
              FROM cdp_internal.segment_state st WHERE st.segment = s;
            PERFORM cdp.refresh_segment(s);
        END IF;
        stored := ARRAY(SELECT m.contact_id FROM cdp.segment_members m WHERE m.segment = s ORDER BY 1);
        live := ARRAY(SELECT m FROM cdp.members(s) m ORDER BY 1);
        k := k + 1;
        INSERT INTO pg_temp.checks VALUES (round, k, s, stored = live AND (SELECT g.member_count FROM cdp.segments g WHERE g.slug = s) = cardinality(stored),
            format('%s: stored %s, members %s, member_count %s', s, cardinality(stored), cardinality(live),
                   (SELECT g.member_count FROM cdp.segments g WHERE g.slug = s)));
        IF s = 'p_tier' THEN
            -- the incremental path was taken: candidates known, fewer than everyone
            INSERT INTO pg_temp.checks VALUES (round, 100, 'incremental', candidates IS NOT NULL AND cardinality(candidates) < 200,
                format('p_tier refreshed from %s candidates', coalesce(cardinality(candidates)::text, 'NULL (full)')));
        END IF;
    END LOOP;
END
$$;

-- One round: 25 random writes, each in its own transaction.
CREATE PROCEDURE pg_temp.round() LANGUAGE plpgsql AS $$
DECLARE
    i integer;
    pn integer;
    c bigint;
    other bigint;
    op integer;
BEGIN
    FOR i IN 1..25 LOOP
        pn := 1 + floor(random() * 200)::integer;
        c := (SELECT p.id FROM pg_temp.people p WHERE p.n = pn);
        op := floor(random() * 15)::integer;
        CONTINUE WHEN cdp.current_contact(c) IS NULL;	-- forgotten
        CASE op
            WHEN 0, 1 THEN PERFORM cdp.set_profile(c, 'p_customer', jsonb_build_object('tier', pg_temp.pick(ARRAY['gold', 'silver', 'bronze'])));
            WHEN 2 THEN PERFORM cdp.set_profile(c, 'p_customer', jsonb_build_object('score', floor(random() * 100)::integer));
            WHEN 3 THEN PERFORM cdp.remove_profile(c, 'p_customer');
            WHEN 4 THEN PERFORM cdp.tag('contact', c, pg_temp.pick(ARRAY['P1', 'P2', 'P1/P3']));
            WHEN 5 THEN PERFORM cdp.untag('contact', c, pg_temp.pick(ARRAY['P1', 'P2', 'P1/P3']));
            WHEN 6 THEN PERFORM cdp.classify('contact', c, 'p_interests', pg_temp.pick(ARRAY['a', 'a/b', 'c']));
            WHEN 7 THEN PERFORM cdp.add_member(c, pg_temp.pick(ARRAY['p_o1', 'p_o2', 'p_o3', 'p_o4']));
            WHEN 8 THEN PERFORM cdp.remove_member(c, pg_temp.pick(ARRAY['p_o1', 'p_o2', 'p_o3', 'p_o4']));
            WHEN 9 THEN PERFORM cdp.track(jsonb_build_object('external_id', 'property-' || pn), 'p_buy', '{}',
                                          now() - random() * interval '6 days');
            WHEN 10 THEN
                IF random() < 0.5 THEN
                    PERFORM cdp.set_organization_profile(pg_temp.pick(ARRAY['p_o2', 'p_o4']), 'p_company',
                                                         jsonb_build_object('industry', pg_temp.pick(ARRAY['retail', 'tech'])));
                ELSE
                    PERFORM cdp.move_organization(pg_temp.pick(ARRAY['p_o3', 'p_o4']), pg_temp.pick(ARRAY['p_o1', 'p_o2']));
                END IF;
            WHEN 11 THEN
                IF (SELECT archived_at IS NULL FROM cdp.contacts WHERE id = cdp.current_contact(c)) THEN
                    PERFORM cdp.archive('contact', cdp.current_contact(c));
                ELSE
                    PERFORM cdp.restore('contact', cdp.current_contact(c));
                END IF;
            WHEN 12 THEN
                pn := 1 + floor(random() * 200)::integer;
                other := (SELECT p.id FROM pg_temp.people p WHERE p.n = pn);
                IF random() < 0.3 AND cdp.current_contact(other) <> cdp.current_contact(c) THEN
                    PERFORM cdp.merge_contacts(c, ARRAY[other]);
                END IF;
            WHEN 13 THEN
                IF random() < 0.3 THEN
                    PERFORM cdp.forget_contact(c);
                END IF;
            ELSE
                PERFORM cdp.update_contact(cdp.current_contact(c), pg_temp.pick(ARRAY['Ann', 'Bob', NULL]));
        END CASE;
        COMMIT;
    END LOOP;
END
$$;

CALL pg_temp.check(0);
CALL pg_temp.round(); CALL pg_temp.check(1);
CALL pg_temp.round(); CALL pg_temp.check(2);
CALL pg_temp.round(); CALL pg_temp.check(3);
CALL pg_temp.round(); CALL pg_temp.check(4);
CALL pg_temp.round(); CALL pg_temp.check(5);
CALL pg_temp.round(); CALL pg_temp.check(6);
CALL pg_temp.round(); CALL pg_temp.check(7);
CALL pg_temp.round(); CALL pg_temp.check(8);

SELECT is((SELECT string_agg(detail, '; ') FROM pg_temp.checks WHERE round = 0 AND what <> 'incremental' AND NOT held), NULL,
          'after the first full refreshes every stored membership equals cdp.members');
SELECT cmp_ok((SELECT count(*) FROM cdp.contacts c WHERE c.id IN (SELECT id FROM pg_temp.people)), '<', 200::bigint,
              'the workload forgot some contacts');
SELECT cmp_ok((SELECT count(DISTINCT m.contact_id) FROM cdp.segment_members m), '>', 100::bigint,
              'the workload is not trivial: many contacts are members of something');
SELECT cmp_ok((SELECT count(*) FROM cdp.segment_changes), '>', 300::bigint, 'and the rounds moved many memberships');
SELECT ok(bool_and(held), format('round %s: the incremental refresh of every manual segment equals cdp.members and member_count%s',
                                 round, coalesce(': ' || string_agg(detail, '; ') FILTER (WHERE NOT held), '')))
  FROM pg_temp.checks WHERE round > 0 AND what LIKE 'p\_%' AND what NOT IN ('p_immediate', 'p_recent') GROUP BY round ORDER BY round;
SELECT ok(bool_and(held), format('round %s: the time-window segment equals cdp.members%s', round,
                                 coalesce(': ' || string_agg(detail, '; ') FILTER (WHERE NOT held), '')))
  FROM pg_temp.checks WHERE round > 0 AND what = 'p_recent' GROUP BY round ORDER BY round;
SELECT ok(bool_and(held), format('round %s: the immediate segment equals cdp.members after its transactions%s', round,
                                 coalesce(': ' || string_agg(detail, '; ') FILTER (WHERE NOT held), '')))
  FROM pg_temp.checks WHERE round > 0 AND what = 'p_immediate' GROUP BY round ORDER BY round;
SELECT ok(bool_and(held), format('round %s: %s', round, string_agg(detail, '; ')))
  FROM pg_temp.checks WHERE round > 0 AND what = 'incremental' GROUP BY round ORDER BY round;

SELECT * FROM finish();

-- what this file committed
\if :created_cdp
DROP EXTENSION cdp CASCADE;
\else
SELECT cdp.drop_segment(s) FROM unnest(ARRAY['p_dep', 'p_immediate', 'p_tier', 'p_mix', 'p_term', 'p_org', 'p_event', 'p_recent']) s;
\endif
