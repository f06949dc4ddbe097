-- pgTAP contracts of invalid values (DESIGN §5): resolve raises by default
-- and with on_invalid => 'skip' drops the value, records an invalid conflict
-- (raw value, reason) and resolves on the rest; resolve_all always skips and
-- records; a record with no valid (or unblocked) value makes no contact.
BEGIN;
SET LOCAL client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(33);

CREATE FUNCTION pg_temp.reset() RETURNS void LANGUAGE sql
AS $$ TRUNCATE cdp.contacts, cdp.identifiers, cdp.merges, cdp.identity_conflicts, cdp.merge_blocks CASCADE $$;
SELECT FROM pg_temp.reset();
CREATE FUNCTION pg_temp.counts() RETURNS TABLE (tbl text, n bigint) LANGUAGE sql STABLE
AS $$
    SELECT 'contacts', count(*) FROM cdp.contacts
    UNION ALL SELECT 'identifiers', count(*) FROM cdp.identifiers
    UNION ALL SELECT 'identity_conflicts', count(*) FROM cdp.identity_conflicts
$$;
-- The partition of identifiers into live contacts, independent of ids.
CREATE FUNCTION pg_temp.partition() RETURNS TABLE (key text, rep text) LANGUAGE sql STABLE
AS $$
    SELECT key, min(key) OVER (PARTITION BY contact_id)
      FROM (SELECT contact_id, (kind || ':' || value) COLLATE "C" AS key FROM cdp.identifiers) s
$$;

--
-- resolve: on_invalid
--
SELECT has_function('cdp', 'resolve', ARRAY['jsonb', 'text', 'text', 'text'],
    'resolve(identifiers, source, region, on_invalid) exists');
SELECT is((SELECT pg_get_function_arguments('cdp.resolve(jsonb, text, text, text)'::regprocedure)),
    'identifiers jsonb, source text DEFAULT NULL::text, region text DEFAULT NULL::text, on_invalid text DEFAULT ''error''::text',
    'on_invalid defaults to error');
SELECT throws_ok($$SELECT cdp.resolve('{"email": "ann@example.com", "phone": "0000000000"}', 'form', 'FR')$$,
    '22023', 'invalid phone number: "0000000000"', 'by default an invalid value fails the record (22023, naming it)');
SELECT throws_ok($$SELECT cdp.resolve('{"email": "ann@example.com", "phone": "0000000000"}', 'form', 'FR', 'error')$$,
    '22023', 'invalid phone number: "0000000000"', 'on_invalid => error is the default');
SELECT is_empty('SELECT 1 FROM cdp.identity_conflicts', 'a record that failed records nothing');

CREATE TEMP TABLE ann AS SELECT cdp.resolve('{"email": "ann@example.com", "phone": "0000000000"}', 'form', 'FR',
                                            on_invalid => 'skip') AS id;
SELECT isnt((SELECT id FROM ann), NULL, 'on_invalid => skip: the record resolves on its valid values');
SELECT results_eq($$SELECT kind, value FROM cdp.identifiers$$,
    $$VALUES ('email'::text, 'ann@example.com'::text)$$, 'only the valid value is stored');
SELECT results_eq(
    $$SELECT rule, kind, value, contact_id, other_contact_id, source, reason FROM cdp.identity_conflicts$$,
    $$VALUES ('invalid'::text, 'phone'::text, '0000000000'::text, NULL::bigint, (SELECT id FROM ann), 'form'::text,
              'invalid phone number: It is not a valid number in region FR (country code 33).'::text)$$,
    'the invalid value is an invalid conflict: raw value, the record''s contact, source and the normaliser''s reason');
SELECT is(cdp.resolve('[{"kind": "email", "value": "nope"}, {"kind": "email", "value": "ANN@example.com"}]',
                      on_invalid => 'skip'), (SELECT id FROM ann),
    'a record whose first value is invalid links on the next');
SELECT is((SELECT reason FROM cdp.identity_conflicts WHERE value = 'nope'),
    'invalid email address: The address has no "@".', 'its reason');

CREATE TEMP TABLE before_null AS SELECT * FROM pg_temp.counts();
SELECT is(cdp.resolve('{"phone": "12", "uuid": "00000000-0000-0000-0000-000000000000"}', 'web', 'FR', 'skip'), NULL,
    'a record with no valid value resolves to NULL');
SELECT results_eq(
    $$SELECT rule, kind, value, contact_id, other_contact_id, source FROM cdp.identity_conflicts
       WHERE source = 'web' ORDER BY kind$$,
    $$VALUES ('invalid'::text, 'phone'::text, '12'::text, NULL::bigint, NULL::bigint, 'web'::text),
             ('invalid', 'uuid', '00000000-0000-0000-0000-000000000000', NULL, NULL, 'web')$$,
    'and records each value, with no contact');
SELECT is((SELECT count(*) FROM cdp.contacts), (SELECT n FROM before_null WHERE tbl = 'contacts'),
    'and makes no contact');
SELECT is(cdp.resolve('[{"kind": "phone", "value": "0612345678", "region": "ZZ"}]', on_invalid => 'skip'), NULL,
    'an unknown region is an invalid value too');
SELECT is((SELECT reason FROM cdp.identity_conflicts WHERE value = '0612345678'),
    'invalid region code "ZZ": libphonenumber has no numbering plan for that region.', 'with its reason');

UPDATE cdp.identifier_kinds SET blocked_values = ARRAY['shared@example.com'] WHERE kind = 'email';
SELECT is(cdp.resolve('{"email": "shared@example.com", "phone": "1"}', 'web', 'FR', 'skip'), NULL,
    'a record whose values are all blocked or invalid makes no contact');
SELECT is(cdp.resolve('{"email": "shared@example.com"}'), NULL,
    'nor does one whose only value is blocked (the conflict is recorded)');
SELECT is((SELECT count(*) FROM cdp.identity_conflicts WHERE rule = 'blocked'), 2::bigint,
    'each blocked value is a blocked conflict');
UPDATE cdp.identifier_kinds SET blocked_values = '{}' WHERE kind = 'email';

SELECT throws_ok($$SELECT cdp.resolve('{"email": "b@example.com"}', NULL, NULL, 'ignore')$$,
    '22023', 'unknown on_invalid "ignore"', 'any other on_invalid is refused');
SELECT throws_ok($$SELECT cdp.resolve('{"email": "b@example.com"}', NULL, NULL, NULL)$$,
    '22004', 'on_invalid must not be null', 'a NULL on_invalid is refused');
SELECT throws_ok($$SELECT cdp.resolve('{"email": "b@example.com", "fax": "1"}', on_invalid => 'skip')$$,
    '42704', 'unknown identifier kind: "fax"', 'skip drops invalid values, not unknown kinds');

--
-- resolve_all: always skips and records
--
SELECT FROM pg_temp.reset();
CREATE TEMP TABLE r AS SELECT * FROM cdp.resolve_all($$SELECT * FROM (VALUES
    ('a', 'email', 'a@example.com', 'shop'), ('a', 'phone', '+33 6 00', 'shop'),
    ('b', 'email', 'not an email', 'web'), ('b', 'uuid', 'xyz', 'web'),
    ('c', 'email', 'A@example.com', 'crm')) v(record_id, kind, value, source)$$);
SELECT results_eq($$SELECT record_id, contact_id IS NULL FROM r ORDER BY 1$$,
    $$VALUES ('a'::text, false), ('b', true), ('c', false)$$,
    'resolve_all: a record without a valid value maps to NULL, the others resolve');
SELECT is((SELECT count(DISTINCT contact_id) FROM r WHERE record_id IN ('a', 'c')), 1::bigint,
    'resolve_all: and link on their valid values');
SELECT results_eq(
    $$SELECT rule, kind, value, other_contact_id, source, reason IS NOT NULL FROM cdp.identity_conflicts ORDER BY value$$,
    $$VALUES ('invalid'::text, 'phone'::text, '+33 6 00'::text, (SELECT contact_id FROM r WHERE record_id = 'a'), 'shop'::text, true),
             ('invalid', 'email', 'not an email', NULL, 'web', true),
             ('invalid', 'uuid', 'xyz', NULL, 'web', true)$$,
    'resolve_all: every invalid row is an invalid conflict with its raw value, source and reason');

--
-- A bulk load where 5% of the values are junk: nothing fails, every junk
-- row is recorded, and the valid values make the same partition as a load
-- without the junk, and as the serial resolve with on_invalid => skip.
--
SELECT FROM pg_temp.reset();
CREATE TEMP TABLE gen AS
SELECT 'g' || lpad(i::text, 4, '0') AS record_id, k.kind,
       CASE WHEN hashtext(i || k.kind) % 20 = 0 THEN k.junk ELSE k.value END AS value,
       hashtext(i || k.kind) % 20 = 0 AS junk
  FROM generate_series(1, 2000) i,
       LATERAL (VALUES
           ('email', 'p' || i / 3 || '@example.com', 'p' || i || '@@example.com'),
           ('phone', '+3361' || lpad(((i / 4) * 7 % 500)::text, 7, '0'), '0000000000'),
           ('external_id', 'x' || i / 5, ' ')) k(kind, value, junk);
SELECT ok((SELECT count(*) FILTER (WHERE junk) * 100 / count(*) BETWEEN 4 AND 6 FROM gen),
    'the input has about 5% junk values');
TRUNCATE r;
SELECT lives_ok($$INSERT INTO r SELECT * FROM cdp.resolve_all('SELECT record_id, kind, value FROM gen')$$,
    'resolve_all of an input with 5% junk does not fail');
SELECT is((SELECT count(*) FROM cdp.identity_conflicts WHERE rule = 'invalid'),
          (SELECT count(*) FROM gen WHERE junk), 'every junk row is an invalid conflict');
SELECT is((SELECT count(*) FROM r WHERE contact_id IS NULL),
          (SELECT count(*) FROM (SELECT record_id FROM gen GROUP BY 1 HAVING bool_and(junk)) s),
    'exactly the records with nothing but junk resolve to NULL');
CREATE TEMP TABLE part_junk AS SELECT * FROM pg_temp.partition();
SELECT FROM pg_temp.reset();
SELECT FROM cdp.resolve_all('SELECT record_id, kind, value FROM gen WHERE NOT junk');
SELECT set_eq('SELECT * FROM pg_temp.partition()', 'SELECT * FROM part_junk',
    'the partition of the valid values is that of the load without the junk');
SELECT FROM pg_temp.reset();
SELECT cdp.resolve(jsonb_agg(jsonb_build_object('kind', kind, 'value', value)), on_invalid => 'skip') IS NULL
  FROM gen GROUP BY record_id ORDER BY record_id \g /dev/null
SELECT set_eq('SELECT * FROM pg_temp.partition()', 'SELECT * FROM part_junk',
    'and that of the serial resolve with on_invalid => skip');

-- track is an event stream: an invalid value never loses the event.
SELECT FROM pg_temp.reset();
SELECT isnt(cdp.track('{"email": "stream@example.com", "phone": "0000000000"}', 'purchase', '{"amount": 3}'), NULL,
    'track with an invalid phone records the event');
SELECT is((SELECT count(*) FROM cdp.events e JOIN cdp.identifiers i ON i.contact_id = e.contact_id
            WHERE i.kind = 'email' AND i.value = 'stream@example.com' AND e.name = 'purchase'), 1::bigint,
    'on the contact of the valid email');
SELECT is((SELECT count(*) FROM cdp.identity_conflicts WHERE rule = 'invalid' AND kind = 'phone' AND value = '0000000000'),
    1::bigint, 'and the invalid phone is recorded as an invalid conflict');

SELECT * FROM finish();
ROLLBACK;
