-- pgTAP contracts of stored segment membership (DESIGN §7): refresh_segment
-- (entries, exits, counts, the incremental dirty set, time-relative segments)
-- and refresh = 'immediate' on every write path, inside the transaction.
-- The incremental refresh compares against a committed refresh, so a small
-- fixture is committed first and removed at the end; the rest runs in one
-- transaction, where SET CONSTRAINTS ALL IMMEDIATE runs the pass that would
-- run at commit.
SET client_min_messages = warning;
SET timezone = 'UTC';
SELECT NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'cdp') AS created_cdp \gset
CREATE EXTENSION IF NOT EXISTS cdp;

-- ---------------------------------------------------------------- committed fixture
--   ann gold, bob gold, cat silver, dan no profile; m_gold refreshed once.
CREATE TABLE pg_temp.c (name text PRIMARY KEY, id bigint NOT NULL);
DO $fixture$
BEGIN
    PERFORM cdp.define_profile('m_customer', 'contact',
        '[{"slug": "tier", "type": "text"}, {"slug": "signup", "type": "datetime"}]');
    INSERT INTO pg_temp.c
    SELECT n, cdp.resolve(jsonb_build_object('email', n || '@membership.example'))
      FROM unnest(ARRAY['ann', 'bob', 'cat', 'dan']) n;
    PERFORM cdp.set_profile((SELECT id FROM pg_temp.c WHERE name = 'ann'), 'm_customer', '{"tier": "gold"}');
    PERFORM cdp.set_profile((SELECT id FROM pg_temp.c WHERE name = 'bob'), 'm_customer', '{"tier": "gold"}');
    PERFORM cdp.set_profile((SELECT id FROM pg_temp.c WHERE name = 'cat'), 'm_customer', '{"tier": "silver"}');
    PERFORM cdp.create_segment('m_gold', $$m_customer.tier = 'gold'$$);
END
$fixture$;
SELECT * FROM cdp.refresh_segment('m_gold');

BEGIN;
SELECT plan(90);

CREATE FUNCTION pg_temp.c(text) RETURNS bigint LANGUAGE sql STABLE
AS $$ SELECT id FROM pg_temp.c WHERE name = $1 $$;
CREATE FUNCTION pg_temp.names(ids bigint[]) RETURNS text[] LANGUAGE sql STABLE
AS $$ SELECT coalesce(array_agg(coalesce(c.name, i::text) ORDER BY coalesce(c.name, i::text)), '{}')
        FROM unnest(ids) i LEFT JOIN pg_temp.c c ON c.id = i $$;
-- The stored members, and the members by evaluation, by name.
CREATE FUNCTION pg_temp.stored(slug text) RETURNS text[] LANGUAGE sql STABLE
AS $$ SELECT pg_temp.names(ARRAY(SELECT m.contact_id FROM cdp.segment_members m WHERE m.segment = slug)) $$;
CREATE FUNCTION pg_temp.live(slug text, at timestamptz DEFAULT now()) RETURNS text[] LANGUAGE sql STABLE
AS $$ SELECT pg_temp.names(ARRAY(SELECT cdp.members(slug, at))) $$;
-- Entries and exits since a mark, as "segment name change".
CREATE FUNCTION pg_temp.seg_mark() RETURNS bigint LANGUAGE sql AS $$ SELECT coalesce(max(id), 0) FROM cdp.segment_changes $$;
CREATE FUNCTION pg_temp.feed_mark() RETURNS bigint LANGUAGE sql AS $$ SELECT coalesce(max(id), 0) FROM cdp.changes $$;
CREATE FUNCTION pg_temp.seg_since(m bigint) RETURNS text[] LANGUAGE sql STABLE
AS $$ SELECT coalesce(array_agg(x.segment || ' ' || coalesce(c.name, x.contact_id::text) || ' ' || x.change
                                ORDER BY x.segment, c.name, x.change), '{}')
        FROM cdp.segment_changes x LEFT JOIN pg_temp.c c ON c.id = x.contact_id WHERE x.id > m $$;
-- The segment entries and exits in the change feed since a mark, as [name, action, diff].
CREATE FUNCTION pg_temp.feed_since(m bigint) RETURNS jsonb LANGUAGE sql STABLE
AS $$ SELECT coalesce(jsonb_agg(jsonb_build_array(coalesce(c.name, x.contact_id::text), x.action, x.diff)
                                ORDER BY c.name, x.action, x.diff::text), '[]')
        FROM cdp.changes x LEFT JOIN pg_temp.c c ON c.id = x.contact_id
       WHERE x.id > m AND x.action IN ('entered', 'exited') $$;
-- A snapshot in which every transaction so far, this one too, is visible:
-- "nothing changed since".
CREATE FUNCTION pg_temp.all_seen() RETURNS pg_snapshot LANGUAGE sql VOLATILE
AS $$ SELECT format('%s:%s:', pg_current_xact_id()::text::bigint + 1, pg_current_xact_id()::text::bigint + 1)::pg_snapshot $$;
CREATE FUNCTION pg_temp.count_is(slug text) RETURNS boolean LANGUAGE sql STABLE
AS $$ SELECT s.member_count IS NOT DISTINCT FROM (SELECT count(*) FROM cdp.segment_members m WHERE m.segment = slug)
        FROM cdp.segments s WHERE s.slug = count_is.slug $$;
-- The deferred pass, run now: what the commit would do.
\set pass 'SET CONSTRAINTS ALL IMMEDIATE; SET CONSTRAINTS ALL DEFERRED;'

-- ---------------------------------------------------------------- objects
SELECT has_table('cdp', 'segment_members', 'table cdp.segment_members');
SELECT has_table('cdp', 'segment_changes', 'table cdp.segment_changes');
SELECT has_function('cdp', 'refresh_segment', ARRAY['text'], 'function cdp.refresh_segment(text)');
SELECT is(count(*), 0::bigint, 'segment_members, segment_changes and its sequence are registered with pg_extension_config_dump')
  FROM unnest(ARRAY['cdp.segment_members', 'cdp.segment_changes', 'cdp.segment_changes_id_seq']::regclass[]) t
 WHERE NOT t::oid = ANY ((SELECT extconfig FROM pg_extension WHERE extname = 'cdp')::oid[]);

-- ---------------------------------------------------------------- refresh_segment: the committed refresh
SELECT is(pg_temp.stored('m_gold'), ARRAY['ann', 'bob'], 'the committed refresh stored the gold contacts');
SELECT is((SELECT array_agg(c.name || ' ' || x.change ORDER BY c.name) FROM cdp.segment_changes x JOIN pg_temp.c c ON c.id = x.contact_id
            WHERE x.segment = 'm_gold'),
          ARRAY['ann entered', 'bob entered'], 'each entry is a segment_changes row');
SELECT is((SELECT jsonb_agg(jsonb_build_array(c.name, x.action, x.object_type, x.object_id = x.contact_id, x.diff) ORDER BY c.name)
             FROM cdp.changes x JOIN pg_temp.c c ON c.id = x.contact_id
            WHERE x.action IN ('entered', 'exited') AND x.diff ? 'segments.m_gold'),
          '[["ann", "entered", "contact", true, {"segments.m_gold": [false, true]}],
            ["bob", "entered", "contact", true, {"segments.m_gold": [false, true]}]]',
          'and an entered change of the contact in cdp.changes, diff {"segments.<slug>": [false, true]}');
SELECT is((SELECT member_count FROM cdp.segments WHERE slug = 'm_gold'), 2::bigint, 'member_count is set');
SELECT ok((SELECT refreshed_at IS NOT NULL AND refreshed_at < now() FROM cdp.segments WHERE slug = 'm_gold'),
          'refreshed_at is the committed refresh''s time');

-- ---------------------------------------------------------------- incremental refresh
SELECT is((SELECT cdp_internal.refresh_candidates('m_gold', s.snapshot, s.evaluated_at, s.evaluated_at)
             FROM cdp_internal.segment_state s WHERE s.segment = 'm_gold'),
          '{}'::bigint[], 'after the committed refresh nothing is a candidate (its own entries are not data changes)');
SELECT pg_temp.seg_mark() AS sm, pg_temp.feed_mark() AS fm \gset
SELECT is((SELECT row(r.entered, r.exited)::text FROM cdp.refresh_segment('m_gold') r), '(0,0)',
          'refreshing again with no data change: (0, 0)');
SELECT is(pg_temp.seg_since(:sm), '{}', 'and no segment_changes row');
SELECT is(pg_temp.feed_since(:fm), '[]', 'and no entered or exited change');
SELECT is((SELECT refreshed_at FROM cdp.segments WHERE slug = 'm_gold'), now(), 'refreshed_at moves to the refresh''s time');
SELECT is((SELECT cdp_internal.refresh_candidates('m_gold', s.snapshot, s.evaluated_at, s.evaluated_at)
             FROM cdp_internal.segment_state s WHERE s.segment = 'm_gold'),
          '{}'::bigint[], 'nor after a refresh in this transaction');
SELECT cdp.set_profile(pg_temp.c('dan'), 'm_customer', '{"tier": "gold"}');
SELECT cdp.set_profile(pg_temp.c('bob'), 'm_customer', '{"tier": "silver"}');
SELECT is((SELECT pg_temp.names(cdp_internal.refresh_candidates('m_gold', s.snapshot, s.evaluated_at, s.evaluated_at))
             FROM cdp_internal.segment_state s WHERE s.segment = 'm_gold'),
          ARRAY['bob', 'dan'], 'the candidates of a segment without time conditions are exactly the changed contacts');
-- a stale stored row of an unchanged contact shows what was evaluated: an
-- incremental refresh leaves it, a full one corrects it
DELETE FROM cdp.segment_members WHERE segment = 'm_gold' AND contact_id = pg_temp.c('ann');
SELECT pg_temp.seg_mark() AS sm, pg_temp.feed_mark() AS fm \gset
SELECT is((SELECT row(r.entered, r.exited)::text FROM cdp.refresh_segment('m_gold') r), '(1,1)',
          'refresh after changes: dan entered, bob exited');
SELECT is(pg_temp.stored('m_gold'), ARRAY['dan'], 'only the changed contacts were evaluated (ann, unchanged, was not)');
SELECT is(pg_temp.seg_since(:sm), ARRAY['m_gold bob exited', 'm_gold dan entered'], 'the entry and the exit are recorded');
SELECT is(pg_temp.feed_since(:fm),
          '[["bob", "exited", {"segments.m_gold": [true, false]}], ["dan", "entered", {"segments.m_gold": [false, true]}]]',
          'an exit is {"segments.<slug>": [true, false]} in cdp.changes');
SELECT is((SELECT member_count FROM cdp.segments WHERE slug = 'm_gold'), 2::bigint,
          'member_count moves by the difference (+1 -1; the stale row was not counted again)');
UPDATE cdp_internal.segment_state SET snapshot = NULL WHERE segment = 'm_gold';
SELECT is((SELECT row(r.entered, r.exited)::text FROM cdp.refresh_segment('m_gold') r), '(1,0)',
          'without a known snapshot the refresh is full: ann, unchanged, is evaluated again');
SELECT is(pg_temp.stored('m_gold'), pg_temp.live('m_gold'), 'the stored membership equals cdp.members');
SELECT ok(pg_temp.count_is('m_gold'), 'member_count equals the stored rows after a full refresh');

-- ---------------------------------------------------------------- time-relative segments
SELECT cdp.track(jsonb_build_object('email', 'ann@membership.example'), 'm_login', '{}', '2025-06-10 12:00+00');
SELECT cdp.track(jsonb_build_object('email', 'bob@membership.example'), 'm_login', '{}', '2025-06-14 12:00+00');
SELECT cdp.track(jsonb_build_object('email', 'cat@membership.example'), 'm_login', '{}', '2025-06-20 12:00+00');
SELECT cdp.track(jsonb_build_object('email', 'dan@membership.example'), 'm_login', '{}', '2025-01-01 12:00+00');
SELECT cdp.create_segment('m_recent', $$event 'm_login' within 7 days$$);
SELECT cdp.create_segment('m_recent_dep', $$in segment 'm_recent'$$);
SELECT cdp.create_segment('m_new', $$m_customer.signup > now() - interval '30 days'$$);
SELECT cdp.create_segment('m_new_dep', $$in segment 'm_new' or contact.given_name = 'Zed'$$);
SELECT is((SELECT row(a.entered, a.exited)::text FROM cdp_internal.apply_membership('m_recent', NULL, '2025-06-15 12:00+00') a),
          '(2,0)', 'a full evaluation at 2025-06-15: logins of the last 7 days');
SELECT is(pg_temp.stored('m_recent'), ARRAY['ann', 'bob'], 'ann (5 days ago) and bob (1 day ago); cat''s is in the future');
SELECT is(pg_temp.names(cdp_internal.refresh_candidates('m_recent', pg_temp.all_seen(), '2025-06-15 12:00+00', '2025-06-22 12:00+00')),
          ARRAY['ann', 'bob', 'cat'],
          'with no data change, the candidates a week later are the contacts whose events left (ann, bob) or entered (cat) the window, not dan''s old one');
SELECT is(pg_temp.names(cdp_internal.refresh_candidates('m_recent_dep', pg_temp.all_seen(), '2025-06-15 12:00+00', '2025-06-22 12:00+00')),
          ARRAY['ann', 'bob', 'cat'], 'and so are those of a segment that includes it (IN SEGMENT)');
SELECT is((SELECT row(a.entered, a.exited)::text
             FROM cdp_internal.apply_membership('m_recent',
                      cdp_internal.refresh_candidates('m_recent', pg_temp.all_seen(), '2025-06-15 12:00+00', '2025-06-22 12:00+00'),
                      '2025-06-22 12:00+00') a),
          '(1,2)', 'time passing alone changes the membership: cat entered, ann and bob exited');
SELECT is(pg_temp.stored('m_recent'), pg_temp.live('m_recent', '2025-06-22 12:00+00'),
          'the incremental result equals a full evaluation at the later time');
SELECT is(cdp_internal.refresh_candidates('m_new', pg_temp.all_seen(), '2025-06-15 12:00+00', '2025-06-22 12:00+00'), NULL,
          'a now() comparison: NULL candidates, a full evaluation');
SELECT is(cdp_internal.refresh_candidates('m_new_dep', pg_temp.all_seen(), '2025-06-15 12:00+00', '2025-06-22 12:00+00'), NULL,
          'also through IN SEGMENT');
SELECT is(cdp_internal.refresh_candidates('m_gold', NULL, '2025-06-15 12:00+00', '2025-06-22 12:00+00'), NULL,
          'a segment never refreshed: a full evaluation');
SELECT is(cdp_internal.refresh_candidates('m_recent', pg_temp.all_seen(), '2025-06-22 12:00+00', '2025-06-15 12:00+00'), NULL,
          'time going backwards: a full evaluation');
SELECT cdp.set_profile(pg_temp.c('cat'), 'm_customer', jsonb_build_object('signup', now() - interval '1 day'));
SELECT is((SELECT row(r.entered, r.exited)::text FROM cdp.refresh_segment('m_new') r), '(1,0)', 'refresh_segment of a now() segment');
SELECT is(pg_temp.stored('m_new'), ARRAY['cat'], 'stores its members');

-- ---------------------------------------------------------------- errors
SELECT throws_ok($$SELECT cdp.refresh_segment('m_nope')$$, '42704', 'segment "m_nope" does not exist', 'refresh_segment of an unknown slug');
SELECT throws_ok($$SELECT cdp.refresh_segment(NULL)$$, '22004', 'segment slug must not be null', 'refresh_segment of NULL');

-- ---------------------------------------------------------------- immediate: filling
SELECT cdp.create_segment('i_gold', $$m_customer.tier = 'gold'$$, refresh => 'immediate');
SELECT is(pg_temp.stored('i_gold'), ARRAY['ann', 'dan'], 'creating an immediate segment fills it at once');
SELECT ok(pg_temp.count_is('i_gold'), 'with its member_count');
SELECT cdp.create_segment('m_switch', $$m_customer.tier = 'silver'$$);
SELECT is(pg_temp.stored('m_switch'), '{}', 'a manual segment is empty until refreshed');
SELECT cdp.alter_segment('m_switch', refresh => 'immediate');
SELECT is(pg_temp.stored('m_switch'), ARRAY['bob', 'cat'], 'switched to immediate, it fills at once');

-- ---------------------------------------------------------------- immediate: write paths
SELECT cdp.define_profile('m_company', 'organization', '[{"slug": "industry", "type": "text"}]');
SELECT cdp.define_taxonomy('m_interests', ARRAY['contact']);
SELECT cdp.add_term('m_interests', 'sports/football');
SELECT cdp.define_document_template('m_contract', '[{"slug": "amount", "type": "integer"}]');
SELECT cdp.create_organization('m_acme', 'Acme');
SELECT cdp.create_organization('m_beta', 'Beta');
SELECT cdp.create_organization('m_beta_eu', 'Beta EU', 'm_beta');
SELECT cdp.create_organization('m_globex', 'Globex');
INSERT INTO pg_temp.c
SELECT n, cdp.resolve(jsonb_build_object('external_id', 'membership-' || n))
  FROM unnest(ARRAY['gus', 'hal', 'ivy', 'jon', 'kim', 'lou', 'max', 'ned', 'oli']) n;
SELECT cdp.create_segment('i_email', 'has email', refresh => 'immediate');
SELECT cdp.create_segment('i_name', $$contact.given_name = 'Hal'$$, refresh => 'immediate');
SELECT cdp.tag('contact', pg_temp.c('ann'), 'M VIP'), cdp.untag('contact', pg_temp.c('ann'), 'M VIP');
SELECT cdp.create_segment('i_vip', $$tag 'M VIP'$$, refresh => 'immediate');
SELECT cdp.create_segment('i_sport', $$m_interests under 'sports'$$, refresh => 'immediate');
SELECT cdp.create_segment('i_acme', $$organization under 'm_acme'$$, refresh => 'immediate');
SELECT cdp.create_segment('i_beta', $$organization under 'm_beta'$$, refresh => 'immediate');
SELECT cdp.create_segment('i_retail', $$organization(m_company.industry = 'retail')$$, refresh => 'immediate');
SELECT cdp.create_segment('i_contract', 'document m_contract', refresh => 'immediate');
SELECT cdp.create_segment('i_buyer', $$event 'm_purchase' count >= 2$$, refresh => 'immediate');
SELECT cdp.create_segment('i_gold_vip', $$in segment 'i_gold' and in segment 'i_vip'$$, refresh => 'immediate');
SELECT cdp.create_segment('i_not_gold', $$not in segment 'i_gold'$$, refresh => 'immediate');
SELECT is(pg_temp.stored('i_email'), ARRAY['ann', 'bob', 'cat', 'dan'], 'i_email starts with the contacts that have an email');
:pass

SELECT cdp.resolve(jsonb_build_object('external_id', 'membership-gus', 'email', 'gus@membership.example'));
SELECT ok(NOT 'gus' = ANY (pg_temp.stored('i_email')), 'before the pass gus is not stored (the pass is deferred)');
:pass
SELECT ok('gus' = ANY (pg_temp.stored('i_email')), 'identifiers: resolve adding an email enters has email');

SELECT cdp.update_contact(pg_temp.c('hal'), 'Hal');
:pass
SELECT is(pg_temp.stored('i_name'), ARRAY['hal'], 'names: update_contact enters contact.given_name');

SELECT cdp.set_profile(pg_temp.c('ivy'), 'm_customer', '{"tier": "gold"}');
:pass
SELECT ok('ivy' = ANY (pg_temp.stored('i_gold')), 'profiles: set_profile enters');
SELECT ok(NOT 'ivy' = ANY (pg_temp.stored('i_not_gold')), 'and its NOT IN SEGMENT dependant exits in the same pass');
SELECT cdp.remove_profile(pg_temp.c('ivy'), 'm_customer');
:pass
SELECT ok(NOT 'ivy' = ANY (pg_temp.stored('i_gold')), 'profiles: remove_profile exits');
SELECT ok('ivy' = ANY (pg_temp.stored('i_not_gold')), 'and the dependant follows');

SELECT cdp.tag('contact', pg_temp.c('jon'), 'M VIP');
:pass
SELECT is(pg_temp.stored('i_vip'), ARRAY['jon'], 'tags: tag enters');
SELECT cdp.untag('contact', pg_temp.c('jon'), 'M VIP');
:pass
SELECT is(pg_temp.stored('i_vip'), '{}', 'tags: untag exits');

SELECT cdp.classify('contact', pg_temp.c('kim'), 'm_interests', 'sports/football');
:pass
SELECT is(pg_temp.stored('i_sport'), ARRAY['kim'], 'terms: classify enters');

SELECT cdp.add_member(pg_temp.c('lou'), 'm_acme');
:pass
SELECT is(pg_temp.stored('i_acme'), ARRAY['lou'], 'organizations: add_member enters');
SELECT cdp.remove_member(pg_temp.c('lou'), 'm_acme');
:pass
SELECT is(pg_temp.stored('i_acme'), '{}', 'organizations: remove_member exits');

SELECT cdp.create_document('m_contract', pg_temp.c('max'), '{"amount": 5}');
:pass
SELECT is(pg_temp.stored('i_contract'), ARRAY['max'], 'documents: create_document enters');

SELECT cdp.track(jsonb_build_object('external_id', 'membership-ned'), 'm_purchase');
:pass
SELECT is(pg_temp.stored('i_buyer'), '{}', 'events: one purchase is not count >= 2');
SELECT cdp.track(jsonb_build_object('external_id', 'membership-ned'), 'm_purchase');
:pass
SELECT is(pg_temp.stored('i_buyer'), ARRAY['ned'], 'events: the second track enters');

-- IN SEGMENT dependants in the same pass
SELECT cdp.tag('contact', pg_temp.c('oli'), 'M VIP');
SELECT cdp.set_profile(pg_temp.c('oli'), 'm_customer', '{"tier": "gold"}');
:pass
SELECT is(pg_temp.stored('i_gold_vip'), ARRAY['oli'], 'IN SEGMENT: the including segment follows in the same pass');

-- organizations reach their members
SELECT cdp.add_member(pg_temp.c('gus'), 'm_globex');
SELECT cdp.add_member(pg_temp.c('hal'), 'm_globex');
SELECT cdp.add_member(pg_temp.c('kim'), 'm_acme');
:pass
SELECT is(pg_temp.stored('i_retail'), '{}', 'no organization is retail yet');
SELECT cdp.set_organization_profile('m_globex', 'm_company', '{"industry": "retail"}');
:pass
SELECT is(pg_temp.stored('i_retail'), ARRAY['gus', 'hal'], 'set_organization_profile reaches the organization''s members');
SELECT cdp.add_member(pg_temp.c('jon'), 'm_beta_eu');
:pass
SELECT is(pg_temp.stored('i_beta'), ARRAY['jon'], 'organization under: a member of a child organization');
SELECT cdp.move_organization('m_beta', 'm_acme');
:pass
SELECT is(pg_temp.stored('i_acme'), ARRAY['jon', 'kim'], 'move_organization reaches the members of the moved subtree');

-- merge, unmerge, archive, restore, forget
SELECT cdp.set_profile(pg_temp.c('lou'), 'm_customer', '{"tier": "gold"}');
:pass
SELECT ok('lou' = ANY (pg_temp.stored('i_gold')), 'lou is gold');
SELECT pg_temp.seg_mark() AS sm \gset
SELECT cdp.merge_contacts(pg_temp.c('max'), ARRAY[pg_temp.c('lou')]);
:pass
SELECT ok(NOT 'lou' = ANY (pg_temp.stored('i_gold')), 'merge: the absorbed contact exits');
SELECT ok(NOT 'lou' = ANY (pg_temp.stored('i_email')) AND NOT 'lou' = ANY (pg_temp.stored('i_not_gold')),
          'it is a member of no segment');
SELECT is(pg_temp.stored('i_gold'), pg_temp.live('i_gold'), 'merge: the survivor is evaluated with what it gained');
SELECT ok('m_gold lou exited' <> ALL (pg_temp.seg_since(:sm)) AND 'i_gold lou exited' = ANY (pg_temp.seg_since(:sm)),
          'the exit is recorded for the immediate segment only');
SELECT cdp.unmerge((SELECT id FROM cdp.merges WHERE absorbed_id = pg_temp.c('lou') AND undone_at IS NULL));
:pass
SELECT is(pg_temp.stored('i_gold'), pg_temp.live('i_gold'), 'unmerge: i_gold equals cdp.members');
SELECT is(pg_temp.stored('i_not_gold'), pg_temp.live('i_not_gold'), 'unmerge: the absorbed contact is back where it belongs');
SELECT ok('lou' = ANY (pg_temp.stored('i_gold')) OR 'lou' = ANY (pg_temp.stored('i_not_gold')),
          'unmerge: the restored contact is a member again');

SELECT cdp.archive('contact', pg_temp.c('ann'));
:pass
SELECT ok(NOT 'ann' = ANY (pg_temp.stored('i_gold')), 'archive: the contact exits');
SELECT cdp.restore('contact', pg_temp.c('ann'));
:pass
SELECT ok('ann' = ANY (pg_temp.stored('i_gold')), 'restore: it enters again');

SELECT pg_temp.seg_mark() AS sm, pg_temp.feed_mark() AS fm \gset
SELECT cdp.forget_contact(pg_temp.c('dan'));
:pass
SELECT ok(NOT 'dan' = ANY (pg_temp.stored('i_gold')), 'forget: the contact is a member of nothing');
SELECT ok(pg_temp.count_is('i_gold') AND pg_temp.count_is('m_gold') AND pg_temp.count_is('i_email'),
          'forget: member_count follows (of immediate and manual segments)');
SELECT is(pg_temp.seg_since(:sm), ARRAY['i_email dan exited', 'i_gold dan exited', 'm_gold dan exited'],
          'forget: the exits are recorded, of immediate and manual segments');
SELECT is((SELECT count(*) FROM cdp.segment_members WHERE contact_id = pg_temp.c('dan')), 0::bigint, 'no stored row is left');

-- ---------------------------------------------------------------- immediate: alter_segment
SELECT cdp.alter_segment('i_gold', $$m_customer.tier = 'silver'$$);
SELECT is(pg_temp.stored('i_gold'), ARRAY['bob', 'cat'], 'alter_segment of an immediate segment re-evaluates it');
SELECT is(pg_temp.stored('i_not_gold'), pg_temp.live('i_not_gold'), 'and the segments that include it');
SELECT is(pg_temp.stored('i_gold_vip'), '{}', 'every one of them');
SELECT ok(pg_temp.count_is('i_gold') AND pg_temp.count_is('i_not_gold'), 'with their counts');
SELECT cdp.alter_segment('i_gold', $$m_customer.tier = 'gold'$$);

-- ---------------------------------------------------------------- immediate: rollback
:pass
SELECT pg_temp.seg_mark() AS sm, pg_temp.feed_mark() AS fm \gset
SAVEPOINT before_write;
SELECT cdp.set_profile(pg_temp.c('bob'), 'm_customer', '{"tier": "gold"}');
:pass
SELECT ok('bob' = ANY (pg_temp.stored('i_gold')), 'inside the savepoint bob entered');
ROLLBACK TO SAVEPOINT before_write;
SELECT ok(NOT 'bob' = ANY (pg_temp.stored('i_gold')), 'rolled back: no stored membership');
SELECT is(pg_temp.seg_since(:sm), '{}', 'rolled back: no segment_changes row');
SELECT is(pg_temp.feed_since(:fm), '[]', 'rolled back: no entered or exited change');
SAVEPOINT queued;
SELECT cdp.set_profile(pg_temp.c('bob'), 'm_customer', '{"tier": "gold"}');
ROLLBACK TO SAVEPOINT queued;
SELECT cdp.set_profile(pg_temp.c('cat'), 'm_customer', '{"tier": "gold"}');
:pass
SELECT ok('cat' = ANY (pg_temp.stored('i_gold')) AND NOT 'bob' = ANY (pg_temp.stored('i_gold')),
          'a write after a rolled-back savepoint that had queued the pass queues it again');

-- ---------------------------------------------------------------- a caller's search_path
-- The pass runs at commit under the writer's session: its statements must
-- not pick up an operator planted earlier in that search_path.
CREATE SCHEMA m_hostile;
CREATE FUNCTION m_hostile.evil_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS
$f$ BEGIN RAISE EXCEPTION 'hostile operator called'; END $f$;
CREATE OPERATOR m_hostile.= (LEFTARG = text, RIGHTARG = text, FUNCTION = m_hostile.evil_eq);
SELECT cdp.create_segment('i_hostile', $$m_customer.tier = 'silver'$$, refresh => 'immediate') IS NOT NULL AS made \gset
-- (pgTAP's own queries would call it, so the hostile path is set only here)
CREATE FUNCTION pg_temp.hostile_write() RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    path text := current_setting('search_path');
    ann bigint := pg_temp.c('ann');
BEGIN
    PERFORM set_config('search_path', 'm_hostile, pg_catalog, public', true);
    PERFORM cdp.set_profile(ann, 'm_customer', '{"tier": "silver"}');
    SET CONSTRAINTS ALL IMMEDIATE;
    SET CONSTRAINTS ALL DEFERRED;
    PERFORM set_config('search_path', path, true);
    RETURN 'done';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLERRM;
END
$f$;
SELECT is(pg_temp.hostile_write(), 'done', 'the pass does not call an operator planted in the writer''s search_path');
SELECT ok('ann' = ANY (pg_temp.stored('i_hostile')), 'and it stored the membership');

-- ---------------------------------------------------------------- everything
SELECT is(count(*), 0::bigint, 'every immediate segment''s stored membership equals cdp.members and its count')
  FROM cdp.segments s
 WHERE s.refresh = 'immediate'
   AND (pg_temp.stored(s.slug) IS DISTINCT FROM pg_temp.live(s.slug) OR NOT pg_temp.count_is(s.slug));
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgname = 'changes_segment_pass' AND tgdeferrable AND tginitdeferred), 1::bigint, 'the pass is a deferred trigger on cdp.changes');

SELECT * FROM finish();
ROLLBACK;

-- what this file committed
\if :created_cdp
DROP EXTENSION cdp CASCADE;
\else
SELECT cdp.drop_segment('m_gold');
SELECT cdp.forget_contact(id) FROM pg_temp.c;
SELECT cdp.drop_profile('m_customer');
\endif
