-- pgTAP contracts: segments are evaluated with jit = off (issue 11).  JIT
-- compiling a definition of a few hundred conditions took seconds (38 s for
-- 500 "organization under"), which an immediate segment charged to every write.
--
-- How it is observed, without timing: a row-level security policy on a profile
-- table calls a probe that records current_setting('jit') in a custom setting.
-- The policy applies to cdp_writer (not to a superuser), so every statement
-- that reads the profile table as cdp_writer records the jit setting it runs
-- under; a compiled segment reads the table while it is evaluated.  The
-- session runs with jit = on throughout, and a plain read records "on".
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(21);
SET LOCAL client_min_messages = warning;
SET LOCAL jit = on;

SELECT cdp.create_roles();
CREATE TEMP TABLE c (name text PRIMARY KEY, id bigint NOT NULL);
CREATE FUNCTION pg_temp.c(text) RETURNS bigint LANGUAGE sql STABLE
AS $$ SELECT id FROM c WHERE name = $1 $$;

SELECT cdp.define_profile('jit_customer', 'contact', '[{"slug": "tier", "type": "text"}]');
INSERT INTO c SELECT n, cdp.resolve(jsonb_build_object('email', n || '@jit.example')) FROM unnest(ARRAY['ann', 'bob']) n;
SELECT cdp.set_profile(pg_temp.c('ann'), 'jit_customer', '{"tier": "gold"}');
SELECT cdp.set_profile(pg_temp.c('bob'), 'jit_customer', '{"tier": "silver"}');
SELECT cdp.create_segment('jit_gold', $$jit_customer.tier = 'gold'$$);
SELECT cdp.create_segment('jit_gold_now', $$jit_customer.tier = 'gold'$$, refresh => 'immediate');
-- 300 conditions, the shape that made JIT expensive
SELECT cdp.create_segment('jit_wide',
    (SELECT string_agg(format('jit_customer.tier = %L', 't' || g), ' or ') FROM generate_series(1, 299) g)
    || $$ or jit_customer.tier = 'gold'$$);

-- The probe and the policy that calls it on every read of the profile table.
CREATE SCHEMA segment_jit_probe;
GRANT USAGE ON SCHEMA segment_jit_probe TO PUBLIC;
CREATE FUNCTION segment_jit_probe.seen() RETURNS boolean LANGUAGE sql VOLATILE
AS $$ SELECT set_config('segment_jit.seen', current_setting('jit'), false) IS NOT NULL $$;
ALTER TABLE cdp_data.profile_jit_customer ENABLE ROW LEVEL SECURITY;
CREATE POLICY probe ON cdp_data.profile_jit_customer FOR SELECT USING (segment_jit_probe.seen());
CREATE POLICY writes ON cdp_data.profile_jit_customer FOR INSERT WITH CHECK (true);
CREATE POLICY updates ON cdp_data.profile_jit_customer FOR UPDATE USING (true) WITH CHECK (true);
CREATE POLICY deletes ON cdp_data.profile_jit_customer FOR DELETE USING (true);

-- Runs setup, then q, as cdp_writer; returns the jit setting the probe saw
-- while q ran ('not read' when q did not read the profile table).
CREATE FUNCTION pg_temp.jit_seen(setup text, q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL ROLE cdp_writer;
    BEGIN
        IF setup IS NOT NULL THEN
            EXECUTE setup;
        END IF;
        PERFORM set_config('segment_jit.seen', 'not read', false);
        EXECUTE q;
    EXCEPTION WHEN OTHERS THEN
        RESET ROLE;
        RAISE;
    END;
    RESET ROLE;
    RETURN current_setting('segment_jit.seen');
END
$$;
CREATE FUNCTION pg_temp.jit_seen(q text) RETURNS text LANGUAGE sql AS $$ SELECT pg_temp.jit_seen(NULL, q) $$;

-- ---------------------------------------------------------------- the probe works
SELECT is(pg_temp.jit_seen($$SELECT count(*) FROM cdp_data.profile_jit_customer$$), 'on',
          'a plain read of the profile table runs with the session''s jit = on');
SELECT is(pg_temp.jit_seen($$SELECT 1$$), 'not read', 'a statement that does not read the table records nothing');

-- ---------------------------------------------------------------- every evaluation runs with jit = off
SELECT is(pg_temp.jit_seen($$SELECT cdp.count('jit_gold')$$), 'off', 'count of a saved segment: jit off');
SELECT is(pg_temp.jit_seen($$SELECT cdp.count($s$jit_customer.tier = 'gold'$s$::cdp.segment)$$), 'off',
          'count of a definition: jit off');
SELECT is(pg_temp.jit_seen($$SELECT count(*) FROM cdp.members('jit_gold')$$), 'off', 'members of a saved segment: jit off');
SELECT is(pg_temp.jit_seen($$SELECT count(*) FROM cdp.members($s$jit_customer.tier = 'gold'$s$::cdp.segment)$$), 'off',
          'members of a definition: jit off');
SELECT is(pg_temp.jit_seen(format('SELECT cdp.in_segment(%s, %L)', pg_temp.c('ann'), 'jit_gold')), 'off',
          'in_segment of a saved segment: jit off');
SELECT is(pg_temp.jit_seen(format('SELECT cdp.in_segment(%s, %L::cdp.segment)', pg_temp.c('ann'),
                                  $s$jit_customer.tier = 'gold'$s$)), 'off', 'in_segment of a definition: jit off');
SELECT is(pg_temp.jit_seen(format('SELECT count(*) FROM cdp.explain_segment(%L, %s)', 'jit_gold', pg_temp.c('ann'))), 'off',
          'explain_segment: jit off');
SELECT is(pg_temp.jit_seen($$SELECT * FROM cdp.refresh_segment('jit_gold')$$), 'off', 'refresh_segment (in full): jit off');
SELECT is((SELECT array_agg(contact_id) FROM cdp.segment_members WHERE segment = 'jit_gold'), ARRAY[pg_temp.c('ann')],
          'and it refreshed');

-- The immediate pass: the write records "on" (cdp_writer's own statements), the
-- pass that SET CONSTRAINTS ALL IMMEDIATE runs evaluates with jit = off.
SELECT is(pg_temp.jit_seen(format('SELECT cdp.set_profile(%s, %L, %L)', pg_temp.c('bob'), 'jit_customer', '{"tier": "gold"}'),
                           'SET CONSTRAINTS ALL IMMEDIATE'), 'off', 'the immediate pass: jit off');
SELECT is((SELECT array_agg(contact_id ORDER BY contact_id) FROM cdp.segment_members WHERE segment = 'jit_gold_now'),
          (SELECT array_agg(id ORDER BY id) FROM c), 'and the pass ran (bob entered)');
SET CONSTRAINTS ALL DEFERRED;

-- A wide segment with the JIT thresholds at zero, as a cost-based JIT would
-- see it: still evaluated without JIT, and the session keeps its settings.
SET jit_above_cost = 0;
SELECT is(pg_temp.jit_seen($$SELECT cdp.count('jit_wide')$$), 'off', '300 conditions with jit_above_cost = 0: jit off');
SELECT is(pg_temp.jit_seen($$SELECT cdp.in_segment(cdp.find_contact('email', 'ann@jit.example'), 'jit_wide')$$), 'off',
          '300 conditions, in_segment: jit off');
RESET jit_above_cost;
SELECT is(current_setting('jit'), 'on', 'the session''s jit setting is unchanged after evaluation');

-- A materialized view: create_view and refresh_view fill it by evaluating the
-- segment.  Filling one runs in its own GUC nest level, undone at its end, so
-- the probe logs to a table instead.  A refresh reads as the view's owner,
-- cdp_admin, which also owns the profile table: FORCE makes the policy apply
-- to it.  (As plain statements: pgTAP's own tables are not cdp_admin's to
-- write.)
CREATE TABLE segment_jit_probe.seen_log (jit text);
GRANT SELECT, INSERT, DELETE ON segment_jit_probe.seen_log TO PUBLIC;
CREATE OR REPLACE FUNCTION segment_jit_probe.seen() RETURNS boolean LANGUAGE sql VOLATILE
AS $$ INSERT INTO segment_jit_probe.seen_log VALUES (current_setting('jit')) RETURNING true $$;
CREATE FUNCTION pg_temp.logged() RETURNS text LANGUAGE sql
AS $$ SELECT coalesce(string_agg(DISTINCT jit, ','), 'not read') FROM segment_jit_probe.seen_log $$;
ALTER TABLE cdp_data.profile_jit_customer FORCE ROW LEVEL SECURITY;
SET LOCAL ROLE cdp_admin;
SELECT cdp.create_view('jit_gold_snap', 'jit_wide', ARRAY['id', 'jit_customer.tier'], true);
RESET ROLE;
SELECT is(pg_temp.logged(), 'off', 'create_view of a materialized view: jit off');
DELETE FROM segment_jit_probe.seen_log;
SET LOCAL ROLE cdp_admin;
REFRESH MATERIALIZED VIEW cdp_views.jit_gold_snap;
RESET ROLE;
SELECT is(pg_temp.logged(), 'on',
          'the control: a REFRESH MATERIALIZED VIEW of it by hand reads the table with the session''s jit = on');
DELETE FROM segment_jit_probe.seen_log;
SET LOCAL ROLE cdp_admin;
SELECT cdp.refresh_view('jit_gold_snap');
RESET ROLE;
SELECT is(pg_temp.logged(), 'off', 'refresh_view of a materialized view: jit off');
SELECT is((SELECT array_agg(id ORDER BY id) FROM cdp_views.jit_gold_snap), (SELECT array_agg(id ORDER BY id) FROM c),
          'and it refreshed (ann and bob are gold)');

-- ---------------------------------------------------------------- where the setting is
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text)
             FROM pg_proc p
            WHERE p.pronamespace IN ('cdp'::regnamespace, 'cdp_internal'::regnamespace)
              AND 'jit=off' = ANY (p.proconfig)),
          ARRAY['cdp.create_view(text,text,text[],boolean,text)',
                'cdp.members(cdp.segment,timestamp with time zone)',
                'cdp.members(text,timestamp with time zone)',
                'cdp.refresh_view(text)',
                'cdp_internal.apply_membership(text,bigint[],timestamp with time zone)',
                'cdp_internal.compile_segment(cdp.segment,text,boolean,text)',
                'cdp_internal.compile_segment_for(cdp.segment,text,text,text)',
                'cdp_internal.count_compiled(text,timestamp with time zone)',
                'cdp_internal.estimate_compiled(text,timestamp with time zone)',
                'cdp_internal.explain_segment(cdp.segment,bigint,timestamp with time zone,text)',
                'cdp_internal.generate_view(text,boolean)',
                'cdp_internal.in_compiled(text,bigint,timestamp with time zone)'],
          'the compiler, every function that runs compiled SQL and those filling a materialized view set jit = off');

SELECT * FROM finish();
ROLLBACK;
