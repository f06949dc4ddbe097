-- pgTAP contracts of the one contact lock (DESIGN §10): it follows tombstones
-- and locks the live contact, every write path goes through it (so a write
-- through a merged id lands on the survivor), merge and unmerge lock before
-- they read, cleanup_ghosts checks again after locking, and the organization
-- tree refuses cycles under its own lock.  The interleavings themselves are
-- shown by the isolation specs (test/isolation/specs).
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
CREATE EXTENSION IF NOT EXISTS pgrowlocks;
SELECT plan(74);
SET LOCAL client_min_messages = warning;

CREATE TEMP TABLE c (name text PRIMARY KEY, id bigint);
CREATE FUNCTION pg_temp.c(text) RETURNS bigint LANGUAGE sql STABLE
AS $$ SELECT id FROM c WHERE name = $1 $$;
-- A new version of the contacts row, which no one has locked yet.
CREATE FUNCTION pg_temp.unlock(bigint) RETURNS void LANGUAGE sql
AS $$ UPDATE cdp.contacts SET updated_at = updated_at WHERE id = $1 $$;
-- Whether this session holds a lock stronger than the foreign keys' KEY
-- SHARE on the contacts row (pgrowlocks reads the row's lockers).
CREATE FUNCTION pg_temp.locked(bigint) RETURNS boolean LANGUAGE sql VOLATILE
AS $$
    SELECT EXISTS (SELECT 1 FROM pgrowlocks('cdp.contacts') l JOIN cdp.contacts k ON k.ctid = l.locked_row
                    WHERE k.id = $1 AND pg_backend_pid() = ANY (l.pids)
                      AND l.modes && ARRAY['For No Key Update', 'For Update'])
$$;
-- The strongest of those locks.
CREATE FUNCTION pg_temp.lock_mode(bigint) RETURNS text LANGUAGE sql VOLATILE
AS $$
    SELECT CASE WHEN 'For Update' = ANY (l.modes) THEN 'For Update' ELSE 'For No Key Update' END
      FROM pgrowlocks('cdp.contacts') l JOIN cdp.contacts k ON k.ctid = l.locked_row
     WHERE k.id = $1 AND pg_backend_pid() = ANY (l.pids) AND l.modes && ARRAY['For No Key Update', 'For Update']
$$;

INSERT INTO c VALUES ('s', cdp.resolve('{"email": "lk.s@example.com"}'));
INSERT INTO c VALUES ('a', cdp.resolve('{"email": "lk.a@example.com"}'));
INSERT INTO c VALUES ('b', cdp.resolve('{"email": "lk.b@example.com"}'));
SELECT FROM cdp.merge_contacts(pg_temp.c('s'), ARRAY[pg_temp.c('a')]);
SELECT FROM cdp.merge_contacts(pg_temp.c('b'), ARRAY[pg_temp.c('s')]);
-- a -> b directly (merges re-point tombstones); a chain a2 -> a -> b by hand
WITH t AS (INSERT INTO cdp.contacts (merged_into) VALUES (pg_temp.c('a')) RETURNING id)
INSERT INTO c SELECT 'a2', id FROM t;

--
-- The primitive
--
SELECT has_function('cdp_internal', 'lock_contact', ARRAY['bigint', 'boolean'], 'cdp_internal.lock_contact(bigint, boolean) exists');
SELECT is((SELECT provolatile FROM pg_proc WHERE oid = 'cdp_internal.lock_contact(bigint, boolean)'::regprocedure),
    'v', 'lock_contact is VOLATILE');
SELECT is((SELECT proisstrict FROM pg_proc WHERE oid = 'cdp_internal.lock_contact(bigint, boolean)'::regprocedure),
    false, 'lock_contact is not STRICT: NULL is an error');
SELECT FROM pg_temp.unlock(pg_temp.c('b'));
SELECT is(pg_temp.locked(pg_temp.c('b')), false, 'setup: the live row is not locked');
SELECT is(cdp_internal.lock_contact(pg_temp.c('b')), pg_temp.c('b'), 'a live id is its own live contact');
SELECT is(pg_temp.lock_mode(pg_temp.c('b')), 'For No Key Update', 'and its row is locked FOR NO KEY UPDATE');
SELECT FROM pg_temp.unlock(pg_temp.c('b'));
SELECT is(cdp_internal.lock_contact(pg_temp.c('s')), pg_temp.c('b'), 'a tombstone leads to its survivor');
SELECT is(pg_temp.locked(pg_temp.c('b')), true, 'whose row is locked');
SELECT is(pg_temp.locked(pg_temp.c('s')), false, 'and not the tombstone''s');
SELECT is(cdp_internal.lock_contact(pg_temp.c('a2')), pg_temp.c('b'), 'a chain of tombstones leads to the live contact');
SELECT FROM pg_temp.unlock(pg_temp.c('b'));
SELECT is(cdp_internal.lock_contact(pg_temp.c('a'), true), pg_temp.c('b'), 'for_update: the same live contact');
SELECT is(pg_temp.lock_mode(pg_temp.c('b')), 'For Update', 'locked FOR UPDATE');
SELECT throws_ok('SELECT cdp_internal.lock_contact(-1)', '42704', 'contact -1 does not exist', 'an unknown id');
SELECT throws_ok('SELECT cdp_internal.lock_contact(NULL)', '22004', 'contact id must not be null', 'NULL');

--
-- Every write path through a merged id lands on the survivor, which it locks
--
SELECT FROM cdp.define_profile('lk_p', 'contact', '[{"slug": "nick", "type": "text"}, {"slug": "age", "type": "integer"}]');
SELECT FROM cdp.define_taxonomy('lk_tax', ARRAY['contact']);
SELECT FROM cdp.add_term('lk_tax', 'sports/chess');
SELECT FROM cdp.create_organization('lk-org', 'LK');
SELECT FROM cdp.define_document_template('lk_doc', '[{"slug": "body", "type": "text"}]');

SELECT FROM pg_temp.unlock(pg_temp.c('b'));
SELECT FROM cdp.set_profile(pg_temp.c('a'), 'lk_p', '{"nick": "ada"}');
SELECT results_eq($$SELECT contact_id, nick FROM cdp_data.profile_lk_p$$,
    $$VALUES (pg_temp.c('b'), 'ada'::text)$$, 'set_profile through a tombstone writes the survivor''s row');
SELECT is(pg_temp.locked(pg_temp.c('b')), true, 'set_profile locks the survivor');
SELECT is(pg_temp.locked(pg_temp.c('a')), false, 'and not the tombstone');
SELECT throws_ok($$SELECT cdp.set_profile(NULL, 'lk_p', '{}')$$, '22004', 'contact id must not be null',
    'set_profile: a NULL contact');
SELECT throws_ok($$SELECT cdp.set_profile(-1, 'lk_nope', '{}')$$, '42704', 'contact profile "lk_nope" does not exist',
    'set_profile: an unknown profile is reported before the contact');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'lk_p', '{"age": "x"}')$$, pg_temp.c('a')), '22P02',
    NULL, 'set_profile through a tombstone: value errors as usual');

SELECT FROM pg_temp.unlock(pg_temp.c('b'));
SELECT is(cdp.remove_profile(pg_temp.c('a2'), 'lk_p'), true, 'remove_profile through a chain of tombstones');
SELECT is_empty('SELECT 1 FROM cdp_data.profile_lk_p', 'removes the survivor''s row');
SELECT is(pg_temp.locked(pg_temp.c('b')), true, 'remove_profile locks the survivor');

SELECT FROM pg_temp.unlock(pg_temp.c('b'));
SELECT is(cdp.tag('contact', pg_temp.c('a'), 'LK/One', 'LK/Two'), 2, 'tag through a tombstone');
SELECT results_eq($$SELECT x.contact_id, t.path FROM cdp.contact_tags x JOIN cdp.tags t ON t.id = x.tag_id
                     WHERE t.path LIKE 'LK/%' ORDER BY t.path$$,
    $$VALUES (pg_temp.c('b'), 'LK/One'::text), (pg_temp.c('b'), 'LK/Two')$$, 'tags the survivor');
SELECT is(pg_temp.locked(pg_temp.c('b')), true, 'tag locks the survivor');
SELECT FROM pg_temp.unlock(pg_temp.c('b'));
SELECT is(cdp.untag('contact', pg_temp.c('s'), 'LK/One'), 1, 'untag through a tombstone');
SELECT is((SELECT count(*) FROM cdp.contact_tags WHERE contact_id = pg_temp.c('b')), 1::bigint, 'untags the survivor');
SELECT is(pg_temp.locked(pg_temp.c('b')), true, 'untag locks the survivor');

SELECT FROM pg_temp.unlock(pg_temp.c('b'));
SELECT FROM cdp.classify('contact', pg_temp.c('a'), 'lk_tax', 'sports/chess');
SELECT results_eq($$SELECT contact_id FROM cdp.contact_terms$$, $$VALUES (pg_temp.c('b'))$$,
    'classify through a tombstone classifies the survivor');
SELECT is(pg_temp.locked(pg_temp.c('b')), true, 'classify locks the survivor');
SELECT is(cdp.unclassify('contact', pg_temp.c('a'), 'lk_tax', 'sports/chess'), true, 'unclassify through a tombstone');
SELECT is_empty('SELECT 1 FROM cdp.contact_terms', 'unclassifies the survivor');

SELECT FROM pg_temp.unlock(pg_temp.c('b'));
SELECT FROM cdp.add_member(pg_temp.c('a'), 'lk-org', 'member', true);
SELECT results_eq($$SELECT contact_id, role, is_primary FROM cdp.organization_members$$,
    $$VALUES (pg_temp.c('b'), 'member'::text, true)$$, 'add_member through a tombstone adds the survivor');
SELECT is(pg_temp.locked(pg_temp.c('b')), true, 'add_member locks the survivor');
SELECT is(cdp.remove_member(pg_temp.c('s'), 'lk-org'), true, 'remove_member through a tombstone');
SELECT is_empty('SELECT 1 FROM cdp.organization_members', 'removes the survivor');
SELECT throws_ok($$SELECT cdp.add_member(-1, 'lk-org')$$, '42704', 'contact -1 does not exist', 'add_member: unknown contact');

SELECT FROM pg_temp.unlock(pg_temp.c('b'));
SELECT cdp.create_document('lk_doc', pg_temp.c('a'), '{"body": "hi"}') AS doc \gset
SELECT is((SELECT contact_id FROM cdp.documents WHERE id = :doc), pg_temp.c('b'),
    'create_document through a tombstone gives the document to the survivor');
SELECT is(pg_temp.locked(pg_temp.c('b')), true, 'create_document locks the survivor');

SELECT FROM pg_temp.unlock(pg_temp.c('b'));
SELECT cdp.track('{"email": "lk.a@example.com"}', 'lk_event') AS ev \gset
SELECT is((SELECT contact_id FROM cdp.events WHERE id = :ev), pg_temp.c('b'),
    'track with the absorbed contact''s email records the event on the survivor');
SELECT is(pg_temp.locked(pg_temp.c('b')), true, 'track holds the survivor');

SELECT FROM pg_temp.unlock(pg_temp.c('b'));
SELECT FROM cdp.update_contact(pg_temp.c('a2'), 'Ada');
SELECT results_eq($$SELECT id FROM cdp.contacts WHERE given_name = 'Ada'$$, $$VALUES (pg_temp.c('b'))$$,
    'update_contact through a chain of tombstones names the live contact');
SELECT throws_ok('SELECT cdp.update_contact(-1, ''X'')', '42704', 'contact -1 does not exist', 'update_contact: unknown');

SELECT is(cdp.archive('contact', pg_temp.c('a')), true, 'archive through a tombstone');
SELECT results_eq($$SELECT id FROM cdp.contacts WHERE archived_at IS NOT NULL$$, $$VALUES (pg_temp.c('b'))$$,
    'archives the survivor (only)');
SELECT is(cdp.restore('contact', pg_temp.c('s')), true, 'restore through a tombstone');
SELECT is_empty($$SELECT 1 FROM cdp.contacts WHERE archived_at IS NOT NULL$$, 'restores the survivor');
SELECT throws_ok($$SELECT cdp.archive('contact', NULL)$$, '22004', 'contact id must not be null', 'archive: NULL contact');

--
-- merge_contacts merges live contacts; ids of one person need nothing
--
INSERT INTO c VALUES ('x', cdp.resolve('{"email": "lk.x@example.com"}'));
INSERT INTO c VALUES ('y', cdp.resolve('{"email": "lk.y@example.com"}'));
CREATE TEMP TABLE merges_before AS SELECT count(*) AS n FROM cdp.merges;
SELECT is(cdp.merge_contacts(pg_temp.c('a'), ARRAY[pg_temp.c('s'), pg_temp.c('b')]), pg_temp.c('b'),
    'merge_contacts of ids of one person returns the live contact');
SELECT is((SELECT count(*) FROM cdp.merges) - (SELECT n FROM merges_before), 0::bigint, 'and merges nothing');
SELECT is(cdp.merge_contacts(pg_temp.c('a'), ARRAY[pg_temp.c('x'), pg_temp.c('s')]), pg_temp.c('b'),
    'merge_contacts into a tombstone merges into its live contact');
SELECT results_eq($$SELECT survivor_id, absorbed_id FROM cdp.merges ORDER BY id DESC LIMIT 1$$,
    $$VALUES (pg_temp.c('b'), pg_temp.c('x'))$$, 'one merge: x into the live contact');
SELECT is(cdp.merge_contacts(pg_temp.c('y'), ARRAY[pg_temp.c('a'), pg_temp.c('x'), pg_temp.c('b')]), pg_temp.c('y'),
    'merge_contacts from tombstones absorbs their live contact, once');
SELECT results_eq($$SELECT survivor_id, absorbed_id FROM cdp.merges ORDER BY id DESC LIMIT 1$$,
    $$VALUES (pg_temp.c('y'), pg_temp.c('b'))$$, 'one merge: the live contact into the target');
SELECT is((SELECT count(*) FROM cdp.merges) - (SELECT n FROM merges_before), 2::bigint, 'two merges in all');
SELECT results_eq($$SELECT DISTINCT cdp.current_contact(id) FROM c$$, $$VALUES (pg_temp.c('y'))$$,
    'every contact of this file is now one person');

--
-- unmerge locks the person before it reads the merge
--
SELECT cdp.unmerge((SELECT id FROM cdp.merges WHERE absorbed_id = pg_temp.c('x'))) AS restored \gset
SELECT is(:restored::bigint, pg_temp.c('x'), 'unmerge of a merge whose survivor was merged on');
SELECT is(cdp.current_contact(pg_temp.c('x')), pg_temp.c('x'), 'x is live again');
SELECT throws_ok(format('SELECT cdp.unmerge(%s)', (SELECT id FROM cdp.merges WHERE absorbed_id = pg_temp.c('x'))),
    '55000', format('merge %s is already undone', (SELECT id FROM cdp.merges WHERE absorbed_id = pg_temp.c('x'))),
    'a second unmerge of the same merge: already undone');
UPDATE cdp.contacts SET merged_into = pg_temp.c('x') WHERE id = pg_temp.c('s');
SELECT throws_ok(format('SELECT cdp.unmerge(%s)', (SELECT id FROM cdp.merges WHERE absorbed_id = pg_temp.c('s'))),
    '55000', format('contact %s absorbed by merge %s no longer leads to contact %s', pg_temp.c('s'),
                    (SELECT id FROM cdp.merges WHERE absorbed_id = pg_temp.c('s')), pg_temp.c('y')),
    'unmerge refuses an absorbed contact moved by hand');
UPDATE cdp.contacts SET merged_into = pg_temp.c('b') WHERE id = pg_temp.c('s');
SELECT throws_ok('SELECT cdp.unmerge(-1)', '42704', 'merge -1 does not exist', 'unmerge: unknown merge');

--
-- cleanup_ghosts checks the candidates again once it holds them
--
INSERT INTO c VALUES ('g1', cdp.resolve('{"anonymous": "lk-g1"}'));
INSERT INTO c VALUES ('g2', cdp.resolve('{"anonymous": "lk-g2"}'));
INSERT INTO c VALUES ('g3', cdp.resolve('{"anonymous": "lk-g3"}'));
INSERT INTO c VALUES ('g4', cdp.resolve('{"external_id": "lk-g4"}'));
INSERT INTO c VALUES ('g5', cdp.resolve('{"email": "lk.g5@example.com"}'));
UPDATE cdp.contacts SET last_seen_at = now() - interval '40 days', created_at = now() - interval '60 days'
 WHERE id IN (SELECT id FROM c WHERE name LIKE 'g_');
SELECT FROM cdp.update_contact(pg_temp.c('g4'), 'Gina');
SELECT results_eq(
    $$SELECT cdp_internal.deletable_ghosts(now() - interval '30 days') INTERSECT SELECT id FROM c ORDER BY 1$$,
    $$SELECT id FROM c WHERE name IN ('g1', 'g2', 'g3') ORDER BY id$$,
    'candidates: anonymous visitors only (not a named ghost, not an unnamed contact with an email)');
-- what a concurrent resolve or update_contact commits between the scan and the lock
SELECT FROM cdp.resolve('{"anonymous": "lk-g2"}');
SELECT FROM cdp.update_contact(pg_temp.c('g3'), 'Gus');
SELECT results_eq(
    format($$SELECT cdp_internal.deletable_ghosts(now() - interval '30 days', ARRAY[%s, %s, %s])$$,
           pg_temp.c('g1'), pg_temp.c('g2'), pg_temp.c('g3')),
    format('VALUES (%s::bigint)', pg_temp.c('g1')),
    'the check after locking drops a ghost seen again and a ghost named since the scan');
SELECT is(cdp.cleanup_ghosts('30 days'), 1::bigint, 'cleanup_ghosts deletes the one still-deletable ghost');
SELECT results_eq($$SELECT name FROM c WHERE name LIKE 'g_' AND NOT EXISTS (SELECT 1 FROM cdp.contacts k WHERE k.id = c.id)$$,
    ARRAY['g1'], 'only g1 is gone');

--
-- The organization tree: cycles refused, moves ordered by the tree lock
--
SELECT FROM cdp.create_organization('lk-top', 'Top');
SELECT FROM cdp.create_organization('lk-mid', 'Mid', 'lk-top');
SELECT FROM cdp.create_organization('lk-low', 'Low', 'lk-mid');
SELECT FROM cdp.create_organization('lk-side', 'Side');
SELECT is((SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 1128546354 AND objid = 0
            AND pid = pg_backend_pid()), 0::bigint, 'creating organizations takes no tree lock');
SELECT throws_ok($$SELECT cdp.move_organization('lk-top', 'lk-low')$$, '22023',
    'organization "lk-top" cannot be placed under "lk-low": that would make a cycle', 'a move under a descendant is refused');
SELECT throws_ok($$SELECT cdp.move_organization('lk-mid', 'lk-mid')$$, '22023',
    'organization "lk-mid" cannot be placed under "lk-mid": that would make a cycle', 'a move under itself is refused');
SELECT throws_ok($$UPDATE cdp.organizations SET parent_id = (SELECT id FROM cdp.organizations WHERE slug = 'lk-low')
                    WHERE slug = 'lk-mid'$$, '22023',
    'organization "lk-mid" cannot be placed under "lk-low": that would make a cycle', 'a plain UPDATE making a cycle is refused');
SELECT FROM cdp.move_organization('lk-side', 'lk-low');
SELECT is((SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 1128546354 AND objid = 0
            AND pid = pg_backend_pid()), 1::bigint, 'a move holds the tree lock until the transaction ends');
SELECT results_eq($$SELECT o.slug FROM cdp.organizations o WHERE o.id IN (SELECT cdp.organization_tree('lk-top')) ORDER BY o.slug$$,
    ARRAY['lk-low', 'lk-mid', 'lk-side', 'lk-top'], 'a move under a leaf is fine');
SELECT throws_ok($$SELECT cdp.move_organization('lk-top', 'lk-side')$$, '22023',
    'organization "lk-top" cannot be placed under "lk-side": that would make a cycle', 'and then the other way round is a cycle');
SELECT lives_ok($$SELECT cdp.move_organization('lk-side', NULL)$$, 'a move to the top');

SELECT * FROM finish();
ROLLBACK;
