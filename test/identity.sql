-- pgTAP contracts of identity resolution (DESIGN §5): identifier metadata,
-- the merge rules, merge_contacts, unmerge, forget_contact and bad input.
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(198);

-- Contacts made by this file, by name.
CREATE TEMP TABLE c (name text PRIMARY KEY, id bigint);
CREATE FUNCTION pg_temp.c(text) RETURNS bigint LANGUAGE sql STABLE
AS $$ SELECT id FROM c WHERE name = $1 $$;
-- Row counts of every table identity resolution writes, to show that a
-- failed call leaves nothing behind.
CREATE FUNCTION pg_temp.counts() RETURNS TABLE (tbl text, n bigint) LANGUAGE sql STABLE
AS $$
    SELECT 'contacts', count(*) FROM cdp.contacts
    UNION ALL SELECT 'identifiers', count(*) FROM cdp.identifiers
    UNION ALL SELECT 'merges', count(*) FROM cdp.merges
    UNION ALL SELECT 'identity_conflicts', count(*) FROM cdp.identity_conflicts
    UNION ALL SELECT 'merge_blocks', count(*) FROM cdp.merge_blocks
    UNION ALL SELECT 'suppressions', count(*) FROM cdp.suppressions
$$;
-- SQLSTATE, message and detail of the error a statement raises (throws_ok
-- checks no detail).
CREATE FUNCTION pg_temp.error_of(stmt text) RETURNS text LANGUAGE plpgsql
AS $$
DECLARE
    st text;
    msg text;
    det text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN st || ': ' || msg || ' / ' || det;
END
$$;
-- The tables of schemas cdp and cdp_internal holding a row whose text form
-- matches one of the LIKE patterns.
CREATE FUNCTION pg_temp.traces(patterns text[]) RETURNS SETOF text LANGUAGE plpgsql
AS $$
DECLARE
    r record;
    hit boolean;
BEGIN
    FOR r IN SELECT n.nspname, k.relname
               FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace
              WHERE n.nspname IN ('cdp', 'cdp_internal') AND k.relkind IN ('r', 'p')
              ORDER BY 1, 2
    LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I t WHERE t::text ILIKE ANY ($1))',
                       r.nspname, r.relname)
           INTO hit USING patterns;
        IF hit THEN
            RETURN NEXT r.nspname || '.' || r.relname;
        END IF;
    END LOOP;
END
$$;

--
-- Objects
--
SELECT has_function('cdp', 'resolve', ARRAY['jsonb', 'text', 'text', 'text'], 'resolve(jsonb, text, text, text) exists');
SELECT has_function('cdp', 'merge_contacts', ARRAY['bigint', 'bigint[]', 'text'], 'merge_contacts(bigint, bigint[], text) exists');
SELECT has_function('cdp', 'unmerge', ARRAY['bigint'], 'unmerge(bigint) exists');
SELECT has_function('cdp', 'find_contact', ARRAY['text', 'text', 'text'], 'find_contact(text, text, text) exists');
SELECT has_function('cdp', 'current_contact', ARRAY['bigint'], 'current_contact(bigint) exists');
SELECT has_function('cdp', 'update_contact', ARRAY['bigint', 'text', 'text', 'boolean'], 'update_contact(bigint, text, text, boolean) exists');
SELECT has_function('cdp', 'forget_contact', ARRAY['bigint'], 'forget_contact(bigint) exists');
SELECT has_function('cdp', 'cleanup_ghosts', ARRAY['interval'], 'cleanup_ghosts(interval) exists');
SELECT has_table('cdp', t, format('table cdp.%s exists', t))
  FROM unnest(ARRAY['contacts', 'identifiers', 'merges', 'identity_conflicts', 'merge_blocks', 'suppressions']) AS t;
SELECT is((SELECT provolatile FROM pg_proc WHERE oid = 'cdp.resolve(jsonb, text, text, text)'::regprocedure),
    'v', 'resolve is VOLATILE');
SELECT is((SELECT provolatile FROM pg_proc WHERE oid = 'cdp.current_contact(bigint)'::regprocedure),
    's', 'current_contact is STABLE');
SELECT is((SELECT provolatile FROM pg_proc WHERE oid = 'cdp.find_contact(text, text, text)'::regprocedure),
    's', 'find_contact is STABLE');

--
-- Identifier metadata
--
UPDATE cdp.identifier_kinds SET slugs = ARRAY['main', 'work'] WHERE kind = 'email';
INSERT INTO c VALUES ('jane', cdp.resolve(
    '[{"kind": "email", "value": " Jane.Doe@Example.COM ", "validated": "otp", "outreach": true},
      {"kind": "phone", "value": "06 12 34 56 78", "region": "FR"}]', 'crm'));
SELECT isnt(pg_temp.c('jane'), NULL, 'resolve of a new record returns a contact id');
SELECT results_eq(
    $$SELECT contact_id, kind, value, raw_value, slug, source, is_validated, validation_method,
             validated_at = now(), outreach, first_seen_at = now(), last_seen_at = now()
        FROM cdp.identifiers WHERE contact_id = pg_temp.c('jane') ORDER BY kind$$,
    $$VALUES (pg_temp.c('jane'), 'email'::text, 'jane.doe@example.com'::text, ' Jane.Doe@Example.COM '::text,
              'main'::text, 'crm'::text, true, 'otp'::text, true, true, true, true),
             (pg_temp.c('jane'), 'phone', '+33612345678', '06 12 34 56 78',
              'main', 'crm', false, NULL, NULL, false, true, true)$$,
    'identifiers keep kind, normalised and raw value, main slug, source, validation (otp, now), outreach, first/last seen');
SELECT results_eq(
    $$SELECT type, given_name, merged_into, last_seen_at = now() FROM cdp.contacts WHERE id = pg_temp.c('jane')$$,
    $$VALUES ('ghost'::text, NULL::text, NULL::bigint, true)$$,
    'the new contact is an unnamed ghost, live, seen now');

SELECT is(cdp.resolve(
    '[{"kind": "phone", "value": "+33 6 12 34 56 78"},
      {"kind": "email", "value": "jane@work.example", "slug": "work", "validated": true,
       "validated_at": "2024-03-01 10:00:00+00"},
      {"kind": "email", "value": "jane.doe@gmail.com"}]', 'web'),
    pg_temp.c('jane'), 'a record sharing the phone attaches to the same contact');
SELECT results_eq(
    $$SELECT value, slug, source, is_validated, validation_method, validated_at, outreach
        FROM cdp.identifiers WHERE contact_id = pg_temp.c('jane') AND kind = 'email' ORDER BY id$$,
    $$VALUES ('jane.doe@example.com'::text, 'main'::text, 'crm'::text, true, 'otp'::text, now(), true),
             ('jane@work.example', 'work', 'web', true, NULL, '2024-03-01 10:00:00+00'::timestamptz, false),
             ('janedoe@gmail.com', NULL, 'web', false, NULL, NULL, false)$$,
    'an allowed explicit slug is kept; validated true keeps validated_at; main taken leaves the slug empty');
SELECT is_empty(
    $$SELECT contact_id, kind, slug FROM cdp.identifiers WHERE slug IS NOT NULL
       GROUP BY 1, 2, 3 HAVING count(*) > 1$$,
    'a slug is unique per contact and kind');
SELECT throws_ok(
    $$SELECT cdp.resolve('[{"kind": "email", "value": "jane.doe@example.com", "slug": "home"}]')$$,
    '22023', 'slug "home" is not allowed for identifier kind "email"',
    'a slug the kind does not allow is refused');
SELECT throws_ok(
    $$SELECT cdp.resolve('[{"kind": "phone", "value": "+33612345678", "slug": "work"}]')$$,
    '22023', 'slug "work" is not allowed for identifier kind "phone"',
    'slugs are per kind');

-- seen again: last_seen_at moves, first_seen_at and the validation stay
UPDATE cdp.identifiers SET first_seen_at = '2000-01-01', last_seen_at = '2000-01-01',
       validated_at = CASE WHEN is_validated THEN '2001-01-01'::timestamptz END
 WHERE contact_id = pg_temp.c('jane');
UPDATE cdp.contacts SET last_seen_at = '2000-01-01' WHERE id = pg_temp.c('jane');
SELECT is(cdp.resolve(
    '[{"kind": "email", "value": "JANE.DOE@example.com", "validated": false},
      {"kind": "email", "value": "jane@work.example", "validated": "magic_link"},
      {"kind": "phone", "value": "+33612345678", "validated": "manual", "validated_at": "2024-05-05 12:00:00+00"}]'),
    pg_temp.c('jane'), 're-resolving known identifiers returns their contact');
SELECT results_eq(
    $$SELECT value, first_seen_at, last_seen_at = now(), is_validated, validation_method, validated_at
        FROM cdp.identifiers WHERE contact_id = pg_temp.c('jane') AND value <> 'janedoe@gmail.com' ORDER BY id$$,
    $$VALUES ('jane.doe@example.com'::text, '2000-01-01'::timestamptz, true, true, 'otp'::text, '2001-01-01'::timestamptz),
             ('+33612345678', '2000-01-01', true, true, 'manual', '2024-05-05 12:00:00+00'),
             ('jane@work.example', '2000-01-01', true, true, NULL, '2001-01-01')$$,
    'seen again: last_seen_at updated, first_seen_at kept, validation never downgraded or replaced, added when new');
SELECT is((SELECT last_seen_at FROM cdp.contacts WHERE id = pg_temp.c('jane')), now(),
    'the contact''s last_seen_at is updated too');
SELECT is((SELECT raw_value FROM cdp.identifiers WHERE value = 'jane.doe@example.com'), ' Jane.Doe@Example.COM ',
    'the raw value of the first sighting is kept');
INSERT INTO c VALUES ('num', cdp.resolve('{"external_id": 12345}'));
SELECT is(cdp.find_contact('external_id', '12345'), pg_temp.c('num'),
    'a number is accepted as a value and written as text');

--
-- Merge rules
--
-- earliest-created survivor: "amy" is created first by id, but "bea" is older
INSERT INTO c VALUES ('amy', cdp.resolve('{"email": "amy@example.com"}'));
INSERT INTO c VALUES ('bea', cdp.resolve('{"phone": "+44 20 7946 0958", "email": "bea@example.com"}'));
INSERT INTO c VALUES ('cid', cdp.resolve('{"uuid": "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"}'));
UPDATE cdp.contacts SET created_at = now() - interval '1 day' WHERE id = pg_temp.c('bea');
UPDATE cdp.contacts SET given_name = 'Amy' WHERE id = pg_temp.c('amy');
SELECT is(cdp.resolve('{"email": "amy@example.com", "phone": "+442079460958",
                        "uuid": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}', 'import'),
    pg_temp.c('bea'), 'a record linking three contacts resolves to the earliest-created one');
SELECT results_eq(
    $$SELECT id, merged_into FROM cdp.contacts WHERE id IN (pg_temp.c('amy'), pg_temp.c('bea'), pg_temp.c('cid')) ORDER BY id$$,
    $$VALUES (pg_temp.c('amy'), pg_temp.c('bea')), (pg_temp.c('bea'), NULL), (pg_temp.c('cid'), pg_temp.c('bea'))$$,
    'the others are tombstones merged into the survivor');
SELECT results_eq(
    $$SELECT kind, value, slug FROM cdp.identifiers WHERE contact_id = pg_temp.c('bea') ORDER BY kind, value$$,
    $$VALUES ('email'::text, 'amy@example.com'::text, NULL::text), ('email', 'bea@example.com', 'main'),
             ('phone', '+442079460958', 'main'), ('uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'main')$$,
    'every identifier moved to the survivor; the absorbed main email lost its slug');
SELECT is_empty(
    $$SELECT 1 FROM cdp.identifiers WHERE contact_id IN (pg_temp.c('amy'), pg_temp.c('cid'))$$,
    'tombstones hold no identifiers');
SELECT is((SELECT given_name FROM cdp.contacts WHERE id = pg_temp.c('bea')), 'Amy',
    'a name the survivor lacks is filled from the absorbed contact');
SELECT results_eq(
    $$SELECT absorbed_id, reason, evidence, source, snapshot ? 'identifiers' AND snapshot ? 'contact', undone_at
        FROM cdp.merges WHERE survivor_id = pg_temp.c('bea') ORDER BY absorbed_id$$,
    $$VALUES (pg_temp.c('amy'), 'resolve'::text, '{"kind": "email", "value": "amy@example.com"}'::jsonb, 'import'::text, true, NULL::timestamptz),
             (pg_temp.c('cid'), 'resolve', '{"kind": "uuid", "value": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}', 'import', true, NULL)$$,
    'every merge writes a cdp.merges row with the linking identifier as evidence and a snapshot');
SELECT is((SELECT type FROM cdp.contacts WHERE id = pg_temp.c('bea')), 'lead',
    'the survivor''s type follows what it holds now (named, email)');

-- blocked values and patterns never link
UPDATE cdp.identifier_kinds SET blocked_values = ARRAY['test@example.com'],
       blocked_patterns = ARRAY['%@blocked.example'] WHERE kind = 'email';
INSERT INTO c VALUES ('q1', cdp.resolve('{"external_id": "q1", "email": " TEST@example.com "}', 'form'));
INSERT INTO c VALUES ('q2', cdp.resolve('{"external_id": "q2", "email": "test@example.com"}', 'form'));
INSERT INTO c VALUES ('q3', cdp.resolve('{"external_id": "q3", "email": "anyone@blocked.example"}'));
INSERT INTO c VALUES ('q4', cdp.resolve('{"external_id": "q4", "email": "Anyone@BLOCKED.example"}'));
SELECT is((SELECT count(DISTINCT id) FROM c WHERE name IN ('q1', 'q2', 'q3', 'q4')), 4::bigint,
    'records sharing only a blocked value (exact or pattern) stay separate contacts');
SELECT is_empty(
    $$SELECT 1 FROM cdp.identifiers WHERE value IN ('test@example.com', 'anyone@blocked.example')$$,
    'a blocked value is not stored as an identifier');
SELECT results_eq(
    $$SELECT rule, kind, value, contact_id, other_contact_id, source FROM cdp.identity_conflicts
       WHERE other_contact_id IN (pg_temp.c('q1'), pg_temp.c('q2'), pg_temp.c('q3'), pg_temp.c('q4')) ORDER BY id$$,
    $$VALUES ('blocked'::text, 'email'::text, 'test@example.com'::text, NULL::bigint, pg_temp.c('q1'), 'form'::text),
             ('blocked', 'email', 'test@example.com', NULL, pg_temp.c('q2'), 'form'),
             ('blocked', 'email', 'anyone@blocked.example', NULL, pg_temp.c('q3'), NULL),
             ('blocked', 'email', 'anyone@blocked.example', NULL, pg_temp.c('q4'), NULL)$$,
    'each blocked value is recorded as a conflict with rule blocked');
UPDATE cdp.identifier_kinds SET blocked_values = '{}', blocked_patterns = '{}' WHERE kind = 'email';

-- max_per_contact: Segment's worked example
INSERT INTO c VALUES ('seg', cdp.resolve('{"external_id": "abc123", "email": "jane@x.com"}'));
UPDATE cdp.identifier_kinds SET max_per_contact = 1 WHERE kind = 'external_id';
INSERT INTO c VALUES ('seg2', cdp.resolve('{"external_id": "abc456", "email": "jane@x.com"}', 'app'));
SELECT isnt(pg_temp.c('seg2'), pg_temp.c('seg'),
    'limit: {abc456, jane@x.com} does not join the contact holding abc123');
SELECT results_eq(
    $$SELECT contact_id, kind, value FROM cdp.identifiers
       WHERE value IN ('abc123', 'abc456', 'jane@x.com') ORDER BY value$$,
    $$VALUES (pg_temp.c('seg'), 'external_id'::text, 'abc123'::text), (pg_temp.c('seg2'), 'external_id', 'abc456'),
             (pg_temp.c('seg'), 'email', 'jane@x.com')$$,
    'limit: the email is demoted and stays where it was; the new contact holds abc456 only');
SELECT results_eq(
    $$SELECT rule, kind, value, contact_id, other_contact_id, source FROM cdp.identity_conflicts
       WHERE value = 'jane@x.com'$$,
    $$VALUES ('limit'::text, 'email'::text, 'jane@x.com'::text, pg_temp.c('seg'), pg_temp.c('seg2'), 'app'::text)$$,
    'limit: the demoted email is recorded as a conflict with rule limit');
SELECT is(cdp.resolve('{"external_id": "abc123", "email": "jane@x.com"}'), pg_temp.c('seg'),
    'limit: a record within the limit still resolves normally');
SELECT is(cdp.resolve('[{"kind": "external_id", "value": "abc123"}, {"kind": "external_id", "value": "abc789"}]'),
    pg_temp.c('seg'), 'limit: a second value of a limited kind is dropped, the record keeps its contact');
SELECT results_eq(
    $$SELECT rule, value, contact_id, other_contact_id FROM cdp.identity_conflicts WHERE value = 'abc789'$$,
    $$VALUES ('limit'::text, 'abc789'::text, NULL::bigint, pg_temp.c('seg'))$$,
    'limit: the dropped new value is a conflict and is not stored');
SELECT is(cdp.find_contact('external_id', 'abc789'), NULL, 'limit: the dropped value belongs to nobody');
INSERT INTO c VALUES ('seg3', cdp.resolve(
    '{"external_id": "abc999", "email": "jane@x.com", "anonymous": "cookie-seg3"}'));
SELECT is(cdp.find_contact('anonymous', 'cookie-seg3'), pg_temp.c('seg3'),
    'limit: a new identifier of another kind, which cannot help, is kept on the new contact');
SELECT is((SELECT count(*) FROM cdp.identity_conflicts WHERE value = 'cookie-seg3'), 0::bigint,
    'limit: and it is not recorded as a conflict');
UPDATE cdp.identifier_kinds SET max_per_contact = NULL WHERE kind = 'external_id';

-- merge_blocks: the strongest identifier decides
INSERT INTO c VALUES ('mba', cdp.resolve('{"email": "mb.a@example.com"}'));
INSERT INTO c VALUES ('mbb', cdp.resolve('{"external_id": "mb-b"}'));
UPDATE cdp.contacts SET created_at = now() - interval '2 days' WHERE id = pg_temp.c('mba');
INSERT INTO cdp.merge_blocks (contact_a, contact_b, reason)
VALUES (least(pg_temp.c('mba'), pg_temp.c('mbb')), greatest(pg_temp.c('mba'), pg_temp.c('mbb')), 'test');
SELECT is(cdp.resolve('{"email": "mb.a@example.com", "external_id": "mb-b"}', 'crm'), pg_temp.c('mbb'),
    'merge block: the record resolves to the contact of its strongest identifier, not the earliest');
SELECT results_eq(
    $$SELECT id, merged_into FROM cdp.contacts WHERE id IN (pg_temp.c('mba'), pg_temp.c('mbb')) ORDER BY id$$,
    $$VALUES (pg_temp.c('mba'), NULL::bigint), (pg_temp.c('mbb'), NULL)$$,
    'merge block: both contacts stay live');
SELECT is(cdp.find_contact('email', 'mb.a@example.com'), pg_temp.c('mba'),
    'merge block: the identifier that would have linked stays where it is');
SELECT results_eq(
    $$SELECT rule, kind, value, contact_id, other_contact_id, source FROM cdp.identity_conflicts
       WHERE value = 'mb.a@example.com'$$,
    $$VALUES ('merge_block'::text, 'email'::text, 'mb.a@example.com'::text, pg_temp.c('mba'), pg_temp.c('mbb'), 'crm'::text)$$,
    'merge block: recorded as a conflict with rule merge_block');
SELECT is_empty(
    $$SELECT 1 FROM cdp.merges WHERE pg_temp.c('mba') IN (survivor_id, absorbed_id)$$,
    'merge block: no merge happened');

--
-- merge_contacts
--
INSERT INTO c VALUES ('old', cdp.resolve('{"email": "old@example.com"}'));
INSERT INTO c VALUES ('new', cdp.resolve('{"email": "new@example.com"}'));
INSERT INTO c VALUES ('new2', cdp.resolve('{"phone": "+33611223344"}'));
UPDATE cdp.contacts SET created_at = now() - interval '1 year' WHERE id = pg_temp.c('old');
SELECT is(cdp.merge_contacts(pg_temp.c('new'), ARRAY[pg_temp.c('old'), pg_temp.c('new2'), pg_temp.c('old')], 'crm cleanup'),
    pg_temp.c('new'), 'merge_contacts returns the target');
SELECT results_eq(
    $$SELECT id, merged_into FROM cdp.contacts WHERE id IN (pg_temp.c('old'), pg_temp.c('new'), pg_temp.c('new2')) ORDER BY id$$,
    $$VALUES (pg_temp.c('old'), pg_temp.c('new')), (pg_temp.c('new'), NULL::bigint), (pg_temp.c('new2'), pg_temp.c('new'))$$,
    'the target survives although another contact is older; a contact named twice is merged once');
SELECT results_eq(
    $$SELECT value, slug FROM cdp.identifiers WHERE contact_id = pg_temp.c('new') ORDER BY value$$,
    $$VALUES ('+33611223344'::text, 'main'::text), ('new@example.com', 'main'), ('old@example.com', NULL)$$,
    'merge_contacts moves identifiers and clears slugs already taken');
SELECT results_eq(
    $$SELECT absorbed_id, reason FROM cdp.merges WHERE survivor_id = pg_temp.c('new') ORDER BY id$$,
    $$VALUES (pg_temp.c('old'), 'crm cleanup'::text), (pg_temp.c('new2'), 'crm cleanup')$$,
    'merge_contacts records one merge per absorbed contact with its reason');
INSERT INTO c VALUES ('x1', cdp.resolve('{"email": "x1@example.com"}'));
INSERT INTO c VALUES ('x2', cdp.resolve('{"email": "x2@example.com"}'));
SELECT FROM cdp.merge_contacts(pg_temp.c('x1'), ARRAY[pg_temp.c('x2')]);
SELECT is((SELECT reason FROM cdp.merges WHERE absorbed_id = pg_temp.c('x2')), 'manual',
    'the default reason is manual');
SELECT throws_ok(format('SELECT cdp.merge_contacts(%s, ''{}'')', pg_temp.c('x1')),
    '22023', format('nothing to merge into contact %s', pg_temp.c('x1')), 'merging nothing is refused');
SELECT throws_ok(format('SELECT cdp.merge_contacts(%s, ARRAY[%s])', pg_temp.c('x1'), pg_temp.c('x1')),
    '22023', format('cannot merge contact %s into itself', pg_temp.c('x1')), 'merge into itself is refused');
SELECT is(cdp.merge_contacts(pg_temp.c('x2'), ARRAY[pg_temp.c('x1')]), pg_temp.c('x1'),
    'merging a tombstone with its survivor has nothing to do and returns the live contact');
SELECT is((SELECT count(*) FROM cdp.merges WHERE survivor_id = pg_temp.c('x1') OR absorbed_id = pg_temp.c('x1')), 1::bigint,
    'and records no merge');
SELECT throws_ok(format('SELECT cdp.merge_contacts(%s, ARRAY[-7])', pg_temp.c('jane')),
    '42704', 'contact -7 does not exist', 'merge from an unknown contact is refused');
SELECT throws_ok(format('SELECT cdp.merge_contacts(-7, ARRAY[%s])', pg_temp.c('jane')),
    '42704', 'contact -7 does not exist', 'merge into an unknown contact is refused');
SELECT throws_ok(format('SELECT cdp.merge_contacts(%s, ARRAY[%s])', pg_temp.c('mbb'), pg_temp.c('mba')),
    '55000', format('contacts %s and %s must not be merged', pg_temp.c('mbb'), pg_temp.c('mba')),
    'merging a blocked pair is refused');
SELECT is(pg_temp.error_of(format('SELECT cdp.merge_contacts(%s, ARRAY[%s])', pg_temp.c('mbb'), pg_temp.c('mba'))),
    format('55000: contacts %s and %s must not be merged / The pair is in cdp.merge_blocks.', pg_temp.c('mbb'), pg_temp.c('mba')),
    'merging a blocked pair: the detail says the pair is in cdp.merge_blocks');
UPDATE cdp.identifier_kinds SET max_per_contact = 1 WHERE kind = 'external_id';
SELECT throws_ok(format('SELECT cdp.merge_contacts(%s, ARRAY[%s])', pg_temp.c('q1'), pg_temp.c('q2')),
    '54000', format('merging contact %s into %s would exceed the limit of identifier kind "external_id"',
                    pg_temp.c('q2'), pg_temp.c('q1')),
    'a merge exceeding max_per_contact is refused');
UPDATE cdp.identifier_kinds SET max_per_contact = NULL WHERE kind = 'external_id';
SELECT throws_ok('SELECT cdp.merge_contacts(NULL, ARRAY[1::bigint])', '22004',
    'target and others must not be null', 'merge_contacts: NULL target');
SELECT throws_ok(format('SELECT cdp.merge_contacts(%s, NULL)', pg_temp.c('jane')), '22004',
    'target and others must not be null', 'merge_contacts: NULL others');
SELECT throws_ok(format('SELECT cdp.merge_contacts(%s, ARRAY[NULL::bigint])', pg_temp.c('jane')), '22004',
    'others must not contain null', 'merge_contacts: NULL in others');
SELECT is((SELECT merged_into FROM cdp.contacts WHERE id = pg_temp.c('q2')), NULL,
    'a refused merge_contacts leaves the contacts as they were');

--
-- unmerge: merge then unmerge leaves the data as if never merged
--
INSERT INTO c VALUES ('sam', cdp.resolve(
    '[{"kind": "email", "value": "sam@example.com"}, {"kind": "phone", "value": "+33622334455"}]', 'crm'));
INSERT INTO c VALUES ('ann', cdp.resolve(
    '[{"kind": "email", "value": "ann@example.com", "validated": "otp"},
      {"kind": "email", "value": "ann@work.example", "slug": "work"},
      {"kind": "uuid", "value": "6f1c1e6c-3b1e-4b8e-9d0c-5a1f6e2b7c44"}]', 'web'));
INSERT INTO c VALUES ('tom', cdp.resolve('{"anonymous": "anon-tom"}'));
SELECT FROM cdp.update_contact(pg_temp.c('sam'), 'Sam');
SELECT FROM cdp.update_contact(pg_temp.c('ann'), NULL, 'Ames');
SELECT FROM cdp.merge_contacts(pg_temp.c('ann'), ARRAY[pg_temp.c('tom')]);
CREATE TEMP TABLE before_identifiers AS
    SELECT id, contact_id, kind, value, raw_value, slug, source, is_validated, validation_method,
           validated_at, outreach, first_seen_at
      FROM cdp.identifiers;
CREATE TEMP TABLE before_contacts AS
    SELECT id, given_name, family_name, is_vendor, type, created_at, archived_at, merged_into
      FROM cdp.contacts;
SELECT is(cdp.resolve('{"email": "sam@example.com", "uuid": "6f1c1e6c-3b1e-4b8e-9d0c-5a1f6e2b7c44"}'),
    pg_temp.c('sam'), 'a record links sam and ann; sam is the survivor');
SELECT results_eq(
    $$SELECT id, given_name, family_name, merged_into FROM cdp.contacts
       WHERE id IN (pg_temp.c('sam'), pg_temp.c('ann'), pg_temp.c('tom')) ORDER BY id$$,
    $$VALUES (pg_temp.c('sam'), 'Sam'::text, 'Ames'::text, NULL::bigint),
             (pg_temp.c('ann'), NULL, 'Ames', pg_temp.c('sam')),
             (pg_temp.c('tom'), NULL, NULL, pg_temp.c('sam'))$$,
    'after the merge: ann and her tombstone tom lead to sam, sam got the family name');
SELECT is((SELECT slug FROM cdp.identifiers WHERE value = 'ann@example.com'), NULL,
    'after the merge: ann''s main email lost its slug on sam');
SELECT is((SELECT type FROM cdp.contacts WHERE id = pg_temp.c('sam')), 'contact',
    'after the merge: sam holds a validated email, so is a contact');
SELECT is(cdp.unmerge((SELECT id FROM cdp.merges WHERE absorbed_id = pg_temp.c('ann') AND survivor_id = pg_temp.c('sam'))),
    pg_temp.c('ann'), 'unmerge returns the restored contact');
SELECT results_eq(
    $$SELECT id, contact_id, kind, value, raw_value, slug, source, is_validated, validation_method,
             validated_at, outreach, first_seen_at
        FROM cdp.identifiers ORDER BY id$$,
    $$SELECT * FROM before_identifiers ORDER BY id$$,
    'merge then unmerge: cdp.identifiers is exactly as before the merge');
SELECT results_eq(
    $$SELECT id, given_name, family_name, is_vendor, type, created_at, archived_at, merged_into
        FROM cdp.contacts ORDER BY id$$,
    $$SELECT * FROM before_contacts ORDER BY id$$,
    'merge then unmerge: cdp.contacts is exactly as before the merge');
SELECT ok((SELECT undone_at = now() FROM cdp.merges WHERE absorbed_id = pg_temp.c('ann') AND survivor_id = pg_temp.c('sam')),
    'unmerge records undone_at');
SELECT ok(EXISTS (SELECT 1 FROM cdp.merge_blocks
                   WHERE contact_a = least(pg_temp.c('sam'), pg_temp.c('ann'))
                     AND contact_b = greatest(pg_temp.c('sam'), pg_temp.c('ann'))),
    'unmerge blocks the pair');
SELECT is(cdp.resolve('{"email": "sam@example.com", "uuid": "6f1c1e6c-3b1e-4b8e-9d0c-5a1f6e2b7c44"}'),
    pg_temp.c('sam'), 'the same record no longer merges them');
SELECT is((SELECT merged_into FROM cdp.contacts WHERE id = pg_temp.c('ann')), NULL,
    'ann stays live after the blocked record');
SELECT throws_ok(format('SELECT cdp.unmerge(%s)',
        (SELECT id FROM cdp.merges WHERE absorbed_id = pg_temp.c('ann') AND survivor_id = pg_temp.c('sam'))),
    '55000', format('merge %s is already undone',
        (SELECT id FROM cdp.merges WHERE absorbed_id = pg_temp.c('ann') AND survivor_id = pg_temp.c('sam'))),
    'unmerging twice is refused');
SELECT throws_ok('SELECT cdp.unmerge(-1)', '42704', 'merge -1 does not exist', 'unmerge of an unknown merge');
SELECT throws_ok('SELECT cdp.unmerge(NULL)', '22004', 'merge id must not be null', 'unmerge of NULL');

-- unmerge after the survivor was merged on: what came from the absorbed
-- contact is taken from the live contact
INSERT INTO c VALUES ('u1', cdp.resolve('{"email": "u1@example.com"}'));
INSERT INTO c VALUES ('u2', cdp.resolve('{"email": "u2@example.com"}'));
INSERT INTO c VALUES ('u3', cdp.resolve('{"email": "u3@example.com"}'));
SELECT FROM cdp.merge_contacts(pg_temp.c('u2'), ARRAY[pg_temp.c('u3')]);
SELECT FROM cdp.merge_contacts(pg_temp.c('u1'), ARRAY[pg_temp.c('u2')]);
SELECT is(cdp.unmerge((SELECT id FROM cdp.merges WHERE absorbed_id = pg_temp.c('u3'))), pg_temp.c('u3'),
    'unmerge of an earlier merge in a chain');
SELECT results_eq(
    $$SELECT value, contact_id FROM cdp.identifiers WHERE value LIKE 'u_@example.com' ORDER BY value$$,
    $$VALUES ('u1@example.com'::text, pg_temp.c('u1')), ('u2@example.com', pg_temp.c('u1')),
             ('u3@example.com', pg_temp.c('u3'))$$,
    'the absorbed contact''s identifiers come back from the live contact');
SELECT is(cdp.current_contact(pg_temp.c('u3')), pg_temp.c('u3'), 'the restored contact is live');
SELECT is(cdp.unmerge((SELECT id FROM cdp.merges WHERE absorbed_id = pg_temp.c('u2'))), pg_temp.c('u2'),
    'then unmerge of the later merge');
SELECT results_eq(
    $$SELECT k.id, k.merged_into, i.value FROM cdp.contacts k LEFT JOIN cdp.identifiers i ON i.contact_id = k.id
       WHERE k.id IN (pg_temp.c('u1'), pg_temp.c('u2'), pg_temp.c('u3')) ORDER BY k.id$$,
    $$VALUES (pg_temp.c('u1'), NULL::bigint, 'u1@example.com'::text), (pg_temp.c('u2'), NULL, 'u2@example.com'),
             (pg_temp.c('u3'), NULL, 'u3@example.com')$$,
    'both unmerges undone in either order: three live contacts, each with its own identifier');

-- unmerge of a merge whose snapshot lists a contact that was unmerged since
-- and merged into the person again by a later, standing merge (found by the
-- soak): the later merge owns it, and it stays with the person
INSERT INTO c VALUES ('rs', cdp.resolve('{"email": "rs@example.com"}'));
INSERT INTO c VALUES ('rx', cdp.resolve('{"email": "rx@example.com"}'));
INSERT INTO c VALUES ('rt', cdp.resolve('{"email": "rt@example.com"}'));
INSERT INTO c VALUES ('rz', cdp.resolve('{"email": "rz@example.com"}'));
INSERT INTO cdp.events (contact_id, name, properties) VALUES (pg_temp.c('rt'), 'rt_event', '{}');
SELECT FROM cdp.merge_contacts(pg_temp.c('rt'), ARRAY[pg_temp.c('rz')]);   -- rz -> rt
SELECT FROM cdp.merge_contacts(pg_temp.c('rx'), ARRAY[pg_temp.c('rt')]);   -- M1: rt -> rx
SELECT FROM cdp.merge_contacts(pg_temp.c('rs'), ARRAY[pg_temp.c('rx')]);   -- M2: rx -> rs, rt and rz re-pointed
SELECT FROM cdp.unmerge((SELECT id FROM cdp.merges WHERE absorbed_id = pg_temp.c('rt')));  -- rt live, (rx, rt) blocked
-- rs holds rx, blocked against rt: an administrator lifts the block first
DELETE FROM cdp.merge_blocks WHERE contact_a = least(pg_temp.c('rx'), pg_temp.c('rt'))
                               AND contact_b = greatest(pg_temp.c('rx'), pg_temp.c('rt'));
SELECT FROM cdp.merge_contacts(pg_temp.c('rs'), ARRAY[pg_temp.c('rt')]);   -- M3: rt -> rs
SELECT FROM cdp.unmerge((SELECT id FROM cdp.merges WHERE absorbed_id = pg_temp.c('rx')));  -- undo M2
SELECT results_eq(
    $$SELECT id, merged_into FROM cdp.contacts
       WHERE id IN (pg_temp.c('rs'), pg_temp.c('rx'), pg_temp.c('rt'), pg_temp.c('rz')) ORDER BY id$$,
    $$VALUES (pg_temp.c('rs'), NULL::bigint), (pg_temp.c('rx'), NULL), (pg_temp.c('rt'), pg_temp.c('rs')),
             (pg_temp.c('rz'), pg_temp.c('rs'))$$,
    'unmerge leaves a contact that a later standing merge absorbed, and its own tombstone, with that merge''s survivor');
SELECT results_eq(
    $$SELECT i.value, i.contact_id FROM cdp.identifiers i WHERE i.value LIKE 'r_@example.com'
      UNION ALL SELECT e.name, e.contact_id FROM cdp.events e WHERE e.name = 'rt_event' ORDER BY 1$$,
    $$VALUES ('rs@example.com'::text, pg_temp.c('rs')), ('rt@example.com', pg_temp.c('rs')),
             ('rt_event', pg_temp.c('rs')), ('rx@example.com', pg_temp.c('rx')), ('rz@example.com', pg_temp.c('rs'))$$,
    'and their identifiers and events stay with the person: only the absorbed contact''s own go back');
SELECT isnt(cdp.current_contact(pg_temp.c('rt')), cdp.current_contact(pg_temp.c('rx')),
    'the pair blocked by the first unmerge is not one person');
SELECT is(cdp.unmerge((SELECT id FROM cdp.merges WHERE absorbed_id = pg_temp.c('rt') AND undone_at IS NULL)),
    pg_temp.c('rt'), 'the later merge can still be undone');
SELECT results_eq(
    $$SELECT k.id, k.merged_into, i.value, (SELECT count(*) FROM cdp.events e WHERE e.contact_id = k.id AND e.name = 'rt_event')
        FROM cdp.contacts k JOIN cdp.identifiers i ON i.contact_id = k.id
       WHERE k.id IN (pg_temp.c('rs'), pg_temp.c('rx'), pg_temp.c('rt'), pg_temp.c('rz')) ORDER BY i.value$$,
    $$VALUES (pg_temp.c('rs'), NULL::bigint, 'rs@example.com'::text, 0::bigint),
             (pg_temp.c('rt'), NULL, 'rt@example.com', 1), (pg_temp.c('rx'), NULL, 'rx@example.com', 0),
             (pg_temp.c('rt'), NULL, 'rz@example.com', 1)$$,
    'and gives its contact back its identifiers, event and tombstone');
SELECT is(cdp.current_contact(pg_temp.c('rz')), pg_temp.c('rt'), 'the tombstone of rt leads to rt again');

-- the same when the contact unmerged since absorbs the person's live contact
INSERT INTO c VALUES ('vs', cdp.resolve('{"email": "vs@example.com"}'));
INSERT INTO c VALUES ('vx', cdp.resolve('{"email": "vx@example.com"}'));
INSERT INTO c VALUES ('vt', cdp.resolve('{"email": "vt@example.com"}'));
SELECT FROM cdp.merge_contacts(pg_temp.c('vx'), ARRAY[pg_temp.c('vt')]);   -- M1: vt -> vx
SELECT FROM cdp.merge_contacts(pg_temp.c('vs'), ARRAY[pg_temp.c('vx')]);   -- M2: vx -> vs
SELECT FROM cdp.unmerge((SELECT id FROM cdp.merges WHERE absorbed_id = pg_temp.c('vt')));
DELETE FROM cdp.merge_blocks WHERE contact_a = least(pg_temp.c('vx'), pg_temp.c('vt'))
                               AND contact_b = greatest(pg_temp.c('vx'), pg_temp.c('vt'));  -- vs holds vx
SELECT FROM cdp.merge_contacts(pg_temp.c('vt'), ARRAY[pg_temp.c('vs')]);   -- vs -> vt: vt is the live contact
SELECT FROM cdp.unmerge((SELECT id FROM cdp.merges WHERE absorbed_id = pg_temp.c('vx')));  -- undo M2
SELECT results_eq(
    $$SELECT i.value, i.contact_id, k.merged_into FROM cdp.identifiers i JOIN cdp.contacts k ON k.id = i.contact_id
       WHERE i.value LIKE 'v_@example.com' ORDER BY 1$$,
    $$VALUES ('vs@example.com'::text, pg_temp.c('vt'), NULL::bigint), ('vt@example.com', pg_temp.c('vt'), NULL),
             ('vx@example.com', pg_temp.c('vx'), NULL)$$,
    'unmerge takes nothing from a live contact that came back and absorbed the survivor');

-- invariant 15 of test/invariants: every standing merge's absorbed contact
-- leads to its survivor's live contact
SELECT is_empty($$
    SELECT m.id FROM cdp.merges m
      JOIN cdp.contacts a ON a.id = m.absorbed_id
      JOIN cdp.contacts s ON s.id = m.survivor_id
     WHERE m.undone_at IS NULL
       AND (a.merged_into IS NULL OR a.merged_into IS DISTINCT FROM coalesce(s.merged_into, s.id))
$$, 'after these unmerges, every standing merge''s absorbed contact leads to its survivor''s live contact');

-- merge blocks hold through a third contact: a block keeps apart the two
-- people its ends are now, whatever was merged into either since
INSERT INTO c VALUES ('ba', cdp.resolve('{"email": "ba@example.com"}'));
INSERT INTO c VALUES ('bs', cdp.resolve('{"email": "bs@example.com"}'));
INSERT INTO c VALUES ('bt', cdp.resolve('{"email": "bt@example.com"}'));
INSERT INTO c VALUES ('bu', cdp.resolve('{"email": "bu@example.com"}'));
INSERT INTO c VALUES ('bw', cdp.resolve('{"email": "bw@example.com"}'));
INSERT INTO c VALUES ('by', cdp.resolve('{"email": "by@example.com"}'));
SELECT FROM cdp.merge_contacts(pg_temp.c('ba'), ARRAY[pg_temp.c('bs')]);
SELECT FROM cdp.unmerge((SELECT id FROM cdp.merges WHERE absorbed_id = pg_temp.c('bs')));  -- (ba, bs) blocked
SELECT is(cdp.merge_contacts(pg_temp.c('ba'), ARRAY[pg_temp.c('by')]), pg_temp.c('ba'),
    'third contact: the survivor of an undone merge can still absorb another contact');
SELECT is(cdp.merge_contacts(pg_temp.c('bt'), ARRAY[pg_temp.c('ba')]), pg_temp.c('bt'),
    'third contact: and be absorbed by one');
SELECT results_eq(
    $$SELECT contact_a, contact_b FROM cdp.merge_blocks
       WHERE pg_temp.c('ba') IN (contact_a, contact_b) OR pg_temp.c('bs') IN (contact_a, contact_b)$$,
    $$VALUES (least(pg_temp.c('ba'), pg_temp.c('bs')), greatest(pg_temp.c('ba'), pg_temp.c('bs')))$$,
    'third contact: those merges leave the block as unmerge wrote it');
SELECT throws_ok(format('SELECT cdp.merge_contacts(%s, ARRAY[%s])', pg_temp.c('bt'), pg_temp.c('bs')),
    '55000', format('contacts %s and %s must not be merged', pg_temp.c('bt'), pg_temp.c('bs')),
    'third contact: merge_contacts refuses to merge into the contact holding one end of a block the other end');
SELECT is(pg_temp.error_of(format('SELECT cdp.merge_contacts(%s, ARRAY[%s])', pg_temp.c('bt'), pg_temp.c('bs'))),
    format('55000: contacts %s and %s must not be merged / Contact %s, merged into %s, and contact %s are in cdp.merge_blocks.',
           pg_temp.c('bt'), pg_temp.c('bs'), pg_temp.c('ba'), pg_temp.c('bt'), pg_temp.c('bs')),
    'third contact: the detail names the blocked pair and the contact its tombstone end was merged into');
SELECT throws_ok(format('SELECT cdp.merge_contacts(%s, ARRAY[%s])', pg_temp.c('bs'), pg_temp.c('ba')),
    '55000', format('contacts %s and %s must not be merged', pg_temp.c('bs'), pg_temp.c('bt')),
    'third contact: and the other way round, named by the tombstone of the blocked end');
SELECT is(cdp.merge_contacts(pg_temp.c('bu'), ARRAY[pg_temp.c('bs')]), pg_temp.c('bu'),
    'third contact: the other end can be absorbed by a contact of its own');
SELECT throws_ok(format('SELECT cdp.merge_contacts(%s, ARRAY[%s])', pg_temp.c('bu'), pg_temp.c('bt')),
    '55000', format('contacts %s and %s must not be merged', pg_temp.c('bu'), pg_temp.c('bt')),
    'third contact: two contacts each holding one end of a block as a tombstone are not merged');
SELECT is(pg_temp.error_of(format('SELECT cdp.merge_contacts(%s, ARRAY[%s])', pg_temp.c('bu'), pg_temp.c('bt'))),
    format('55000: contacts %s and %s must not be merged / Contact %s, merged into %s, and contact %s, merged into %s, are in cdp.merge_blocks.',
           pg_temp.c('bu'), pg_temp.c('bt'), pg_temp.c('bs'), pg_temp.c('bu'), pg_temp.c('ba'), pg_temp.c('bt')),
    'third contact: the detail names both ends of the blocked pair and the contacts they were merged into');
SELECT throws_ok(format('SELECT cdp.merge_contacts(%s, ARRAY[%s, %s])', pg_temp.c('bw'), pg_temp.c('bt'), pg_temp.c('bu')),
    '55000', format('contacts %s and %s must not be merged', pg_temp.c('bw'), pg_temp.c('bu')),
    'third contact: nor through a target that absorbs both in one call');
SELECT results_eq(
    $$SELECT id, cdp.current_contact(id) FROM cdp.contacts
       WHERE id IN (pg_temp.c('ba'), pg_temp.c('bs'), pg_temp.c('bt'), pg_temp.c('bu'), pg_temp.c('bw')) ORDER BY id$$,
    $$VALUES (pg_temp.c('ba'), pg_temp.c('bt')), (pg_temp.c('bs'), pg_temp.c('bu')), (pg_temp.c('bt'), pg_temp.c('bt')),
             (pg_temp.c('bu'), pg_temp.c('bu')), (pg_temp.c('bw'), pg_temp.c('bw'))$$,
    'third contact: the refused calls changed nothing (the whole call is refused)');
SELECT is(cdp.resolve('[{"kind": "email", "value": "bt@example.com"}, {"kind": "email", "value": "bs@example.com"}]', 'crm'),
    pg_temp.c('bt'), 'third contact: a record linking the two people resolves to the earlier-created one');
SELECT results_eq(
    $$SELECT rule, kind, value, contact_id, other_contact_id, source FROM cdp.identity_conflicts
       WHERE value = 'bs@example.com'$$,
    $$VALUES ('merge_block'::text, 'email'::text, 'bs@example.com'::text, pg_temp.c('bu'), pg_temp.c('bt'), 'crm'::text)$$,
    'third contact: resolve refuses the link and records a merge_block conflict');
SELECT results_eq(
    $$SELECT id, merged_into FROM cdp.contacts WHERE id IN (pg_temp.c('bt'), pg_temp.c('bu')) ORDER BY id$$,
    $$VALUES (pg_temp.c('bt'), NULL::bigint), (pg_temp.c('bu'), NULL)$$,
    'third contact: both people stay live after the resolve');
SELECT is(cdp.resolve('[{"kind": "email", "value": "bw@example.com"}, {"kind": "email", "value": "by@example.com"}]'),
    pg_temp.c('bt'), 'third contact: resolve still merges a person holding a block with an unrelated one');
SELECT is(cdp.current_contact(pg_temp.c('bw')), pg_temp.c('bt'), 'third contact: which becomes a tombstone');
-- a block whose ends are one person already (here written by hand) cannot
-- part them; it does not stop that person from merging with others
INSERT INTO c VALUES ('bp', cdp.resolve('{"email": "bp@example.com"}'));
INSERT INTO c VALUES ('bq', cdp.resolve('{"email": "bq@example.com"}'));
INSERT INTO c VALUES ('br', cdp.resolve('{"email": "br@example.com"}'));
INSERT INTO c VALUES ('bz', cdp.resolve('{"email": "bz@example.com"}'));
SELECT FROM cdp.merge_contacts(pg_temp.c('bp'), ARRAY[pg_temp.c('bq')]);
INSERT INTO cdp.merge_blocks (contact_a, contact_b, reason)
VALUES (least(pg_temp.c('bp'), pg_temp.c('bq')), greatest(pg_temp.c('bp'), pg_temp.c('bq')), 'too late');
SELECT is(cdp.merge_contacts(pg_temp.c('bp'), ARRAY[pg_temp.c('br')]), pg_temp.c('bp'),
    'a block within one person: merge_contacts still merges that person with another');
SELECT is(cdp.resolve('[{"kind": "email", "value": "bq@example.com"}, {"kind": "email", "value": "bz@example.com"}]'),
    pg_temp.c('bp'), 'a block within one person: so does resolve');
SELECT is(cdp.current_contact(pg_temp.c('bz')), pg_temp.c('bp'), 'a block within one person: the other is absorbed');

--
-- find_contact, current_contact, update_contact, cleanup_ghosts
--
SELECT is(cdp.find_contact('email', '  JANE.DOE@example.com '), pg_temp.c('jane'), 'find_contact normalises first');
SELECT is(cdp.find_contact('phone', '06 12 34 56 78', 'FR'), pg_temp.c('jane'), 'find_contact takes a region');
SELECT is(cdp.find_contact('email', 'nobody@example.com'), NULL, 'find_contact: NULL when unknown');
SELECT is(cdp.find_contact('email', 'amy@example.com'), pg_temp.c('bea'), 'find_contact leads to the survivor');
SELECT throws_ok($$SELECT cdp.find_contact('fax', '1')$$, '42704', 'unknown identifier kind: "fax"',
    'find_contact: unknown kind');
SELECT is(cdp.find_contact('email', 'not-an-email'), NULL, 'find_contact: NULL for an invalid value');

INSERT INTO c VALUES ('k1', cdp.resolve('{"anonymous": "k1"}'));
INSERT INTO c VALUES ('k2', cdp.resolve('{"anonymous": "k2"}'));
INSERT INTO c VALUES ('k3', cdp.resolve('{"anonymous": "k3"}'));
SELECT FROM cdp.merge_contacts(pg_temp.c('k2'), ARRAY[pg_temp.c('k1')]);
SELECT FROM cdp.merge_contacts(pg_temp.c('k3'), ARRAY[pg_temp.c('k2')]);
SELECT results_eq(
    $$SELECT cdp.current_contact(id) FROM c WHERE name IN ('k1', 'k2', 'k3') ORDER BY id$$,
    $$VALUES (pg_temp.c('k3')), (pg_temp.c('k3')), (pg_temp.c('k3'))$$,
    'current_contact follows a chain of two merges');
UPDATE cdp.contacts SET merged_into = pg_temp.c('k2') WHERE id = pg_temp.c('k1');
SELECT is(cdp.current_contact(pg_temp.c('k1')), pg_temp.c('k3'), 'current_contact follows tombstone to tombstone');
SELECT is(cdp.current_contact(-1), NULL, 'current_contact: NULL for an unknown id');
SELECT is(cdp.current_contact(NULL), NULL, 'current_contact: NULL for NULL');

INSERT INTO c VALUES ('una', cdp.resolve('{"email": "una@example.com"}'));
SELECT is((SELECT type FROM cdp.contacts WHERE id = pg_temp.c('una')), 'ghost', 'unnamed with an email: ghost');
SELECT FROM cdp.update_contact(pg_temp.c('una'), 'Una');
SELECT results_eq($$SELECT given_name, family_name, type FROM cdp.contacts WHERE id = pg_temp.c('una')$$,
    $$VALUES ('Una'::text, NULL::text, 'lead'::text)$$, 'named with an unvalidated email: lead');
SELECT FROM cdp.resolve('[{"kind": "email", "value": "una@example.com", "validated": "double_opt_in"}]');
SELECT is((SELECT type FROM cdp.contacts WHERE id = pg_temp.c('una')), 'contact', 'named with a validated email: contact');
SELECT FROM cdp.update_contact(pg_temp.c('una'), is_vendor => true);
SELECT results_eq($$SELECT given_name, is_vendor, type FROM cdp.contacts WHERE id = pg_temp.c('una')$$,
    $$VALUES ('Una'::text, true, 'vendor'::text)$$, 'is_vendor: vendor; NULL arguments leave fields as they are');
SELECT FROM cdp.update_contact(pg_temp.c('una'), NULL, 'Ulm', false);
SELECT results_eq($$SELECT given_name, family_name, type FROM cdp.contacts WHERE id = pg_temp.c('una')$$,
    $$VALUES ('Una'::text, 'Ulm'::text, 'contact'::text)$$, 'no longer a vendor: back to contact');
INSERT INTO c VALUES ('ned', cdp.resolve('{"external_id": "ned-1"}'));
SELECT FROM cdp.update_contact(pg_temp.c('ned'), 'Ned');
SELECT is((SELECT type FROM cdp.contacts WHERE id = pg_temp.c('ned')), 'ghost', 'named without email or phone: ghost');
SELECT FROM cdp.resolve('{"external_id": "ned-1", "phone": "+33644556677"}');
SELECT is((SELECT type FROM cdp.contacts WHERE id = pg_temp.c('ned')), 'lead', 'named with an unvalidated phone: lead');
SELECT throws_ok('SELECT cdp.update_contact(-1, ''X'')', '42704', 'contact -1 does not exist', 'update_contact: unknown');
SELECT FROM cdp.update_contact(pg_temp.c('k1'), 'Kay');
SELECT results_eq($$SELECT id, given_name FROM cdp.contacts WHERE given_name = 'Kay'$$,
    $$VALUES (pg_temp.c('k3'), 'Kay'::text)$$, 'update_contact through a chain of tombstones updates the live contact');
SELECT throws_ok('SELECT cdp.update_contact(NULL, ''X'')', '22004', 'contact id must not be null', 'update_contact: NULL');

INSERT INTO c VALUES ('oldghost', cdp.resolve('{"anonymous": "anon-old"}'));
INSERT INTO c VALUES ('olddevice', cdp.resolve('{"anonymous": "anon-dev", "uuid": "1b4e28ba-2fa1-11d2-883f-0016d3cca427"}'));
INSERT INTO c VALUES ('newghost', cdp.resolve('{"anonymous": "anon-new"}'));
INSERT INTO c VALUES ('oldlead', cdp.resolve('{"email": "old.lead@example.com"}'));
SELECT FROM cdp.update_contact(pg_temp.c('oldlead'), 'Olga');
UPDATE cdp.contacts SET last_seen_at = now() - interval '40 days', created_at = now() - interval '60 days'
 WHERE id IN (pg_temp.c('oldghost'), pg_temp.c('olddevice'), pg_temp.c('oldlead'));
SELECT is(cdp.cleanup_ghosts('30 days'), 1::bigint, 'cleanup_ghosts removes the one ghost not seen for 30 days');
SELECT results_eq(
    $$SELECT name FROM c WHERE name IN ('oldghost', 'olddevice', 'newghost', 'oldlead')
         AND EXISTS (SELECT 1 FROM cdp.contacts WHERE contacts.id = c.id) ORDER BY name$$,
    ARRAY['newghost', 'olddevice', 'oldlead'],
    'recent ghosts, named contacts and contacts with an identifier other than anonymous are kept');
SELECT is_empty($$SELECT 1 FROM cdp.identifiers WHERE value = 'anon-old'$$,
    'the removed ghost''s identifiers are gone');
SELECT is(cdp.cleanup_ghosts('30 days'), 0::bigint, 'cleanup_ghosts again removes nothing');
SELECT throws_ok($$SELECT cdp.cleanup_ghosts('-1 day')$$, '22023', 'inactive_for must be a non-negative interval',
    'cleanup_ghosts: a negative interval is refused');
SELECT throws_ok($$SELECT cdp.cleanup_ghosts(NULL)$$, '22004', 'inactive_for must not be null',
    'cleanup_ghosts: NULL is refused');

--
-- forget_contact
--
INSERT INTO c VALUES ('fio', cdp.resolve('{"email": "Forget.Me@example.com", "phone": "+33 6 99 88 77 66"}', 'shop'));
SELECT FROM cdp.update_contact(pg_temp.c('fio'), 'Fiona', 'Forgettable');
INSERT INTO c VALUES ('fio2', cdp.resolve('{"external_id": "fio-ext-1"}'));
SELECT FROM cdp.resolve('{"external_id": "fio-ext-1", "email": "forget.me@example.com"}', 'shop');
UPDATE cdp.identifier_kinds SET blocked_values = ARRAY['shared@example.com'] WHERE kind = 'email';
SELECT FROM cdp.resolve('{"email": "shared@example.com", "phone": "+33699887766"}');
UPDATE cdp.identifier_kinds SET blocked_values = '{}' WHERE kind = 'email';
INSERT INTO c VALUES ('fio3', cdp.resolve('{"external_id": "fio3-ext"}'));
SELECT FROM cdp.resolve('{"external_id": "fio3-ext", "phone": "+33699887766"}');
SELECT FROM cdp.unmerge((SELECT id FROM cdp.merges WHERE absorbed_id = pg_temp.c('fio3')));
SELECT is(cdp.resolve('{"external_id": "fio3-ext", "phone": "+33699887766"}'), pg_temp.c('fio3'),
    'setup: a merge_block conflict on the person''s phone');
SELECT set_eq(
    $$SELECT * FROM pg_temp.traces(ARRAY['%forget.me%', '%99887766%', '%99 88 77 66%', '%Fiona%', '%Forgettable%', '%fio-ext-1%'])$$,
    ARRAY['cdp.changes', 'cdp.contacts', 'cdp.identifiers', 'cdp.identity_conflicts', 'cdp.merges'],
    'before forget_contact the person is found in the change log, contacts, identifiers, conflicts and merges');
CREATE TEMP TABLE others_before AS
    SELECT i.id, i.contact_id, i.kind, i.value, i.slug, k.given_name, k.family_name, k.type, k.merged_into
      FROM cdp.identifiers i JOIN cdp.contacts k ON k.id = i.contact_id
     WHERE cdp.current_contact(i.contact_id) <> pg_temp.c('fio');
SELECT is((SELECT count(*) FROM others_before WHERE contact_id = pg_temp.c('fio3')), 1::bigint,
    'fio3 (unmerged from the person) holds its own external_id');
SELECT FROM cdp.forget_contact(pg_temp.c('fio2'));
SELECT is_empty(
    $$SELECT * FROM pg_temp.traces(ARRAY['%forget.me%', '%99887766%', '%99 88 77 66%', '%Fiona%', '%Forgettable%', '%fio-ext-1%'])$$,
    'after forget_contact (called with a tombstone id) no table of cdp or cdp_internal holds the person in plain text');
SELECT is_empty($$SELECT 1 FROM cdp.contacts WHERE id IN (pg_temp.c('fio'), pg_temp.c('fio2'))$$,
    'the person''s contact and tombstone are gone');
SELECT results_eq(
    $$SELECT i.id, i.contact_id, i.kind, i.value, i.slug, k.given_name, k.family_name, k.type, k.merged_into
        FROM cdp.identifiers i JOIN cdp.contacts k ON k.id = i.contact_id ORDER BY i.id$$,
    $$SELECT * FROM others_before ORDER BY id$$,
    'other contacts and their identifiers are untouched');
SELECT is((SELECT count(*) FROM cdp.suppressions), 3::bigint, 'three suppression hashes are kept');
SELECT throws_ok($$SELECT cdp.resolve('{"email": "FORGET.ME@example.com"}')$$, '42501',
    'identifier email "forget.me@example.com" belongs to a forgotten person',
    'resolving a forgotten email is refused');
SELECT throws_ok($$SELECT cdp.resolve('{"email": "someone.new@example.com", "phone": "06 99 88 77 66"}', NULL, 'FR')$$,
    '42501', 'identifier phone "+33699887766" belongs to a forgotten person',
    'a record carrying a forgotten phone, written otherwise, is refused');
SELECT throws_ok($$SELECT cdp.resolve('{"external_id": "fio-ext-1"}')$$, '42501',
    'identifier external_id "fio-ext-1" belongs to a forgotten person',
    'the identifiers of merged tombstones are suppressed too');
SELECT is(cdp.find_contact('email', 'someone.new@example.com'), NULL, 'the refused record created nothing');
SELECT throws_ok('SELECT cdp.forget_contact(-1)', '42704', 'contact -1 does not exist', 'forget_contact: unknown');
SELECT throws_ok('SELECT cdp.forget_contact(NULL)', '22004', 'contact id must not be null', 'forget_contact: NULL');

--
-- Bad input: a clear error, and no partial state
--
CREATE TEMP TABLE counts_before AS SELECT * FROM pg_temp.counts();
SELECT throws_ok($$SELECT cdp.resolve('{"fax": "+33612345678"}')$$, '42704',
    'unknown identifier kind: "fax"', 'unknown kind (object form)');
SELECT throws_ok($$SELECT cdp.resolve('[{"kind": "Email", "value": "a@example.com"}]')$$, '42704',
    'unknown identifier kind: "Email"', 'unknown kind (array form; kinds are case-sensitive)');
SELECT throws_ok($$SELECT cdp.resolve('"jane@example.com"')$$, '22023',
    'identifiers must be a JSON object or array', 'a JSON string');
SELECT throws_ok($$SELECT cdp.resolve('42')$$, '22023',
    'identifiers must be a JSON object or array', 'a JSON number');
SELECT throws_ok($$SELECT cdp.resolve('null')$$, '22023',
    'identifiers must be a JSON object or array', 'JSON null');
SELECT throws_ok($$SELECT cdp.resolve('["jane@example.com"]')$$, '22023',
    'each element of the identifiers array must be an object, not string', 'an array of strings');
SELECT throws_ok($$SELECT cdp.resolve('[{"kind": "email", "value": "a@example.com"}, [1]]')$$, '22023',
    'each element of the identifiers array must be an object, not array', 'an array holding an array');
SELECT throws_ok($$SELECT cdp.resolve('[null]')$$, '22023',
    'each element of the identifiers array must be an object, not null', 'an array holding null');
SELECT throws_ok($$SELECT cdp.resolve('[{"kind": "email", "value": "a@example.com", "verified": true}]')$$, '22023',
    'unknown key "verified" in identifier object', 'an unknown key');
SELECT throws_ok($$SELECT cdp.resolve('[{"value": "a@example.com"}]')$$, '22023',
    'identifier object needs a string "kind"', 'a missing kind');
SELECT throws_ok($$SELECT cdp.resolve('[{"kind": 3, "value": "a@example.com"}]')$$, '22023',
    'identifier object needs a string "kind"', 'a kind that is not a string');
SELECT throws_ok($$SELECT cdp.resolve('[{"kind": "email"}]')$$, '22023',
    'identifier object of kind "email" has no "value"', 'a missing value');
SELECT throws_ok($$SELECT cdp.resolve('[{"kind": "email", "value": {"a": 1}}]')$$, '22023',
    'identifier value of kind "email" must be a string, not object', 'a value that is an object');
SELECT throws_ok($$SELECT cdp.resolve('{"external_id": true}')$$, '22023',
    'identifier value of kind "external_id" must be a string, not boolean', 'a value that is a boolean');
SELECT throws_ok($$SELECT cdp.resolve('[{"kind": "email", "value": "a@example.com", "validated": 1}]')$$, '22023',
    '"validated" must be a validation method or a boolean, not number', 'validated of a wrong type');
SELECT throws_ok($$SELECT cdp.resolve('[{"kind": "email", "value": "a@example.com", "validated": ""}]')$$, '22023',
    '"validated" must not be an empty string', 'validated as an empty string');
SELECT throws_ok($$SELECT cdp.resolve('[{"kind": "email", "value": "a@example.com", "outreach": "yes"}]')$$, '22023',
    '"outreach" must be a boolean', 'outreach of a wrong type');
SELECT throws_ok($$SELECT cdp.resolve('[{"kind": "email", "value": "a@example.com", "slug": 5}]')$$, '22023',
    '"slug" of identifier kind "email" must be a string', 'slug of a wrong type');
SELECT throws_ok($$SELECT cdp.resolve('[{"kind": "email", "value": "a@example.com", "validated": "otp", "validated_at": 5}]')$$,
    '22023', '"validated_at" must be a timestamp string', 'validated_at of a wrong type');
SELECT throws_ok($$SELECT cdp.resolve('[{"kind": "email", "value": "a@example.com", "validated": "otp", "validated_at": "soon"}]')$$,
    '22007', 'invalid input syntax for type timestamp with time zone: "soon"', 'validated_at that is not a timestamp');
SELECT throws_ok($$SELECT cdp.resolve('[{"kind": "phone", "value": "+33612345678", "region": 33}]')$$, '22023',
    '"region" must be a string', 'region of a wrong type');
SELECT throws_ok($$SELECT cdp.resolve('{"email": "not-an-email"}')$$, '22023',
    'invalid email address: "not-an-email"', 'an email that fails normalisation');
SELECT throws_ok($$SELECT cdp.resolve('{"phone": "0612345678"}')$$, '22023',
    'invalid phone number: "0612345678"', 'a national phone number without a region');
SELECT throws_ok($$SELECT cdp.resolve('{"phone": "0612345678"}', NULL, 'XX')$$, '22023',
    'invalid region code: "XX"', 'an unknown region');
SELECT throws_ok($$SELECT cdp.resolve('{"uuid": "00000000-0000-0000-0000-000000000000"}')$$, '22023',
    'invalid uuid identifier: "00000000-0000-0000-0000-000000000000"', 'the nil uuid');
SELECT throws_ok($$SELECT cdp.resolve(NULL)$$, '22004', 'identifiers must not be null', 'NULL identifiers');
SELECT throws_ok($$SELECT cdp.resolve('{"email": null}')$$, '22023',
    'identifier value of kind "email" must be a string, not null', 'a JSON null value (object form)');
SELECT throws_ok($$SELECT cdp.resolve('[{"kind": "email", "value": null}]')$$, '22023',
    'identifier value of kind "email" must be a string, not null', 'a JSON null value (array form)');
SELECT throws_ok($$SELECT cdp.resolve('{}')$$, '22023', 'no identifiers given', 'an empty object');
SELECT throws_ok($$SELECT cdp.resolve('[]')$$, '22023', 'no identifiers given', 'an empty array');
-- records that would attach or merge before their bad part
SELECT throws_ok($$SELECT cdp.resolve('[{"kind": "email", "value": "brand.new@example.com"}, {"kind": "email", "value": "broken"}]')$$,
    '22023', 'invalid email address: "broken"', 'a record whose second identifier is invalid');
SELECT throws_ok($$SELECT cdp.resolve('{"email": "sam@example.com", "uuid": "6f1c1e6c-3b1e-4b8e-9d0c-5a1f6e2b7c44", "phone": "12"}')$$,
    '22023', 'invalid phone number: "12"', 'a record that would link two contacts, with an invalid phone');
SELECT throws_ok($$SELECT cdp.resolve('{"email": "jane.doe@example.com", "external_id": "new-ext", "fax": "1"}')$$,
    '42704', 'unknown identifier kind: "fax"', 'a record that would attach, with an unknown kind');
SELECT results_eq('SELECT * FROM pg_temp.counts()', 'SELECT * FROM counts_before',
    'no failed call left a contact, identifier, merge, conflict, block or suppression behind');
SELECT is(cdp.find_contact('email', 'brand.new@example.com'), NULL, 'the valid part of a failed record was not kept');


-- the kind of an identifier must be a cdp.identifier_kinds row (statement triggers)
SELECT throws_ok($$INSERT INTO cdp.identifiers (contact_id, kind, value)
                   VALUES ((SELECT min(id) FROM cdp.contacts), 'nope', 'x')$$,
    '23503', 'insert into cdp.identifiers violates its kind reference',
    'kinds: an identifier of an unknown kind is refused');
SELECT throws_ok($$UPDATE cdp.identifiers SET kind = 'nope' WHERE id = (SELECT min(id) FROM cdp.identifiers)$$,
    '23503', 'update of cdp.identifiers violates its kind reference',
    'kinds: changing an identifier to an unknown kind is refused');
SELECT throws_ok($$DELETE FROM cdp.identifier_kinds WHERE kind = 'email'$$,
    '23503', 'identifier kind "email" is still used by cdp.identifiers',
    'kinds: a kind in use cannot be deleted');
SELECT throws_ok($$TRUNCATE cdp.identifier_kinds CASCADE$$,
    '23503', 'cannot truncate cdp.identifier_kinds while cdp.identifiers has rows',
    'kinds: the kinds cannot be truncated under identifiers');
UPDATE cdp.identifier_kinds SET kind = 'mail' WHERE kind = 'email';
SELECT is((SELECT count(*) FROM cdp.identifiers WHERE kind = 'email'), 0::bigint,
    'kinds: renaming a kind renames its identifiers (none left under the old name)');
SELECT cmp_ok((SELECT count(*) FROM cdp.identifiers WHERE kind = 'mail'), '>', 0::bigint,
    'kinds: and they are found under the new name');
UPDATE cdp.identifier_kinds SET kind = 'email' WHERE kind = 'mail';

SELECT * FROM finish();
ROLLBACK;
