-- pgTAP contracts of the one set of merge rules (DESIGN §5, merge_rules.c):
-- resolve and resolve_all call the same core, so one record gives the same
-- contacts, merges and conflicts through either; the one tie-break (equal
-- priorities in input order, whatever the kinds are called); limits that
-- count every limited kind of the contacts a record would merge; only the
-- links that break a limit are refused; and the identifier kinds changing in
-- the middle of a statement that resolves.
BEGIN;
SET LOCAL client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(24);

TRUNCATE cdp.contacts, cdp.identifiers, cdp.merges, cdp.identity_conflicts, cdp.merge_blocks CASCADE;
CREATE TEMP TABLE c (name text PRIMARY KEY, id bigint);
CREATE FUNCTION pg_temp.c(text) RETURNS bigint LANGUAGE sql STABLE
AS $$ SELECT id FROM c WHERE name = $1 $$;

-- A kind as strong as email whose name sorts after it, a kind that does not
-- link, one external_id per contact, and a blocked email.
INSERT INTO cdp.identifier_kinds (kind, title, normalizer, priority) VALUES ('zz_id', 'ZZ id', 'text', 3);
INSERT INTO cdp.identifier_kinds (kind, title, normalizer, priority, matchable)
VALUES ('device', 'Device', 'text', 7, false);
UPDATE cdp.identifier_kinds SET max_per_contact = 1 WHERE kind = 'external_id';
UPDATE cdp.identifier_kinds SET blocked_values = ARRAY['shared@example.com'] WHERE kind = 'email';

INSERT INTO c VALUES ('a', cdp.resolve('{"email": "a@example.com"}'));
INSERT INTO c VALUES ('b', cdp.resolve('{"zz_id": "zb"}'));
INSERT INTO c VALUES ('c', cdp.resolve('{"phone": "+33611111111", "external_id": "ext-c"}'));
INSERT INTO c VALUES ('d', cdp.resolve('{"email": "d@example.com"}'));
INSERT INTO c VALUES ('e', cdp.resolve('{"external_id": "ext-e", "email": "e@example.com"}'));
INSERT INTO c VALUES ('f', cdp.resolve('{"phone": "+33622222222"}'));
INSERT INTO c VALUES ('g', cdp.resolve('{"device": "dev-1"}'));
UPDATE cdp.contacts SET created_at = '2020-01-02' WHERE id = pg_temp.c('a');
UPDATE cdp.contacts SET created_at = '2020-01-01' WHERE id IN (pg_temp.c('b'), pg_temp.c('d'));
UPDATE cdp.contacts SET created_at = '2020-01-03' WHERE id NOT IN (pg_temp.c('a'), pg_temp.c('b'), pg_temp.c('d'));
INSERT INTO cdp.merge_blocks (contact_a, contact_b, reason)
VALUES (least(pg_temp.c('a'), pg_temp.c('b')), greatest(pg_temp.c('a'), pg_temp.c('b')), 'test');
TRUNCATE cdp.identity_conflicts;

-- What a call did, without ids: each live contact (by name, or "new" and
-- its least identifier) with its identifiers, the merges and the conflicts.
CREATE FUNCTION pg_temp.label(id bigint) RETURNS text LANGUAGE sql STABLE
AS $$
    SELECT CASE WHEN $1 IS NULL THEN 'none'
                ELSE coalesce((SELECT name FROM c WHERE c.id = $1),
                              'new ' || coalesce((SELECT min(kind || ':' || value) FROM cdp.identifiers i
                                                   WHERE i.contact_id = $1), 'empty')) END
$$;
CREATE FUNCTION pg_temp.snapshot() RETURNS text LANGUAGE sql STABLE
AS $$
    SELECT concat_ws(E'\n',
        (SELECT string_agg(l, '; ' ORDER BY l) FROM (
            SELECT pg_temp.label(k.id) || ' = ' || string_agg(i.kind || ':' || i.value, ',' ORDER BY i.kind, i.value) AS l
              FROM cdp.contacts k JOIN cdp.identifiers i ON i.contact_id = k.id
             WHERE k.merged_into IS NULL GROUP BY k.id) s),
        'merges: ' || (SELECT string_agg(l, '; ' ORDER BY l) FROM (
            SELECT pg_temp.label(survivor_id) || ' < ' || pg_temp.label(absorbed_id) || ' by ' || (evidence->>'kind') AS l
              FROM cdp.merges) s),
        'conflicts: ' || (SELECT string_agg(l, '; ' ORDER BY l) FROM (
            SELECT concat_ws(' ', rule, kind, value, pg_temp.label(contact_id), pg_temp.label(other_contact_id), source) AS l
              FROM cdp.identity_conflicts) s))
$$;
-- resolve or resolve_all of one record (an array of {kind, value} in input
-- order), rolled back; returns the snapshot and the contact it resolved to.
CREATE FUNCTION pg_temp.outcome(how text, rec jsonb) RETURNS text LANGUAGE plpgsql
AS $$
DECLARE
    contact bigint;
    result text;
BEGIN
    BEGIN
        IF how = 'resolve' THEN
            contact := cdp.resolve(rec, 'src', NULL, 'skip');
        ELSE
            SELECT r.contact_id INTO contact FROM cdp.resolve_all(format(
                $q$SELECT 'r' AS record_id, e->>'kind' AS kind, e->>'value' AS value, 'src' AS source
                     FROM jsonb_array_elements(%L::jsonb) WITH ORDINALITY AS x(e, n) ORDER BY n$q$, rec)) r;
        END IF;
        result := 'record: ' || pg_temp.label(contact) || E'\n' || pg_temp.snapshot();
        RAISE EXCEPTION 'roll back';
    EXCEPTION WHEN raise_exception THEN
        RETURN result;
    END;
END
$$;

--
-- One record, resolve and resolve_all alike
--
CREATE TEMP TABLE scenarios (n int PRIMARY KEY, rec jsonb, what text);
INSERT INTO scenarios VALUES
 (1, '[{"kind": "email", "value": "a@example.com"}, {"kind": "anonymous", "value": "ck-1"}]', 'attach to one contact'),
 (2, '[{"kind": "zz_id", "value": "zb"}, {"kind": "email", "value": "a@example.com"}]', 'a merge-blocked pair, equal priorities, zz_id first'),
 (3, '[{"kind": "email", "value": "a@example.com"}, {"kind": "zz_id", "value": "zb"}]', 'the same, email first'),
 (4, '[{"kind": "email", "value": "d@example.com"}, {"kind": "zz_id", "value": "zb"}]', 'a merge of two contacts created at the same time'),
 (5, '[{"kind": "external_id", "value": "ext-new"}, {"kind": "email", "value": "e@example.com"}]', 'Segment''s limit example'),
 (6, '[{"kind": "external_id", "value": "ext-e"}, {"kind": "email", "value": "new@example.com"}, {"kind": "phone", "value": "+33622222222"}]', 'a weaker link that adds no external id is made'),
 (7, '[{"kind": "email", "value": "e@example.com"}, {"kind": "phone", "value": "+33611111111"}]', 'merging two contacts would break the limit of a kind the record does not carry'),
 (8, '[{"kind": "email", "value": "a@example.com"}, {"kind": "email", "value": "bad@@example.com"}]', 'an invalid value'),
 (9, '[{"kind": "email", "value": "shared@example.com"}, {"kind": "phone", "value": "1"}]', 'nothing valid and unblocked'),
 (10, '[{"kind": "email", "value": "a@example.com"}, {"kind": "email", "value": "d@example.com"}, {"kind": "zz_id", "value": "zb"}]', 'a merge, then a merge block against one merged'),
 (11, '[{"kind": "device", "value": "dev-1"}, {"kind": "email", "value": "g2@example.com"}]', 'a value of a kind that does not link, held elsewhere');
SELECT is(pg_temp.outcome('resolve_all', rec), pg_temp.outcome('resolve', rec),
          format('scenario %s, %s: resolve and resolve_all agree', n, what))
  FROM scenarios ORDER BY n;

--
-- What they agree on
--
SELECT matches(pg_temp.outcome('resolve', rec), E'^record: b\n.*conflicts: merge_block email a@example.com a b src$',
    'equal priorities: the first in the input wins (zz_id), although email sorts first and a is older')
  FROM scenarios WHERE n = 2;
SELECT matches(pg_temp.outcome('resolve', rec), E'^record: a\n.*conflicts: merge_block zz_id zb b a src$',
    'equal priorities: with email first, a wins')
  FROM scenarios WHERE n = 3;
SELECT matches(pg_temp.outcome('resolve', rec), E'^record: b\n.*merges: b < d by email(\n|$)',
    'created at the same time: the lower id survives')
  FROM scenarios WHERE n = 4;
SELECT matches(pg_temp.outcome('resolve', rec),
    E'^record: e\n.*e = email:e@example.com,email:new@example.com,external_id:ext-e,phone:\\+33622222222;.*merges: e < f by phone(\n|$)',
    'a limit refuses only what breaks it: the phone link, which adds no external id, merges f')
  FROM scenarios WHERE n = 6;
SELECT matches(pg_temp.outcome('resolve', rec),
    E'^record: e\n.*conflicts: limit phone \\+33611111111 c e src$',
    'merging e and c would give two external ids: the weaker link (phone) is refused, as merge_contacts would refuse')
  FROM scenarios WHERE n = 7;
SELECT matches(pg_temp.outcome('resolve', rec), E'^record: none\n',
    'a record with nothing valid and unblocked resolves to none')
  FROM scenarios WHERE n = 9;
SELECT matches(pg_temp.outcome('resolve', rec),
    E'^record: new email:g2@example.com\n.*g = device:dev-1',
    'a value of a kind that does not link stays where it is; the record makes its own contact')
  FROM scenarios WHERE n = 11;

--
-- Many records at once: in one load, links are made strongest first across
-- records and, at equal priority, in input order (not by kind name).
--
SAVEPOINT load;
CREATE TEMP TABLE r AS SELECT * FROM cdp.resolve_all($$SELECT * FROM (VALUES
    ('r1', 'zz_id', 'zb'), ('r1', 'email', 'a@example.com'),
    ('r2', 'email', 'd@example.com'), ('r2', 'zz_id', 'zb')) v(record_id, kind, value)$$);
SELECT results_eq($$SELECT record_id, contact_id FROM r ORDER BY 1$$,
    $$VALUES ('r1'::text, pg_temp.c('b')), ('r2', pg_temp.c('b'))$$,
    'in one load r1''s zz_id row comes first: r1 and r2 resolve to b (d merged in)');
ROLLBACK TO SAVEPOINT load;

--
-- The identifier kinds change in the middle of a statement that resolves:
-- the statement keeps the kinds it started with.  (The change is made by an
-- SQL function, whose invalidation is processed by resolve's own first
-- statement; the insert trigger on cdp.identifiers then reloads the kinds.)
--
CREATE FUNCTION pg_temp.reorder(p int) RETURNS int LANGUAGE sql
AS $$ UPDATE cdp.identifier_kinds SET priority = p WHERE kind = 'phone' RETURNING 1 $$;
SELECT cdp.resolve('{"email": "warm@example.com"}') IS NOT NULL AS warm \g /dev/null
SELECT isnt(cdp.resolve('{"email": "shared@example.com", "external_id": "kc-1"}'), NULL,
    'resolve: the kinds reordered in the same statement')
  FROM (SELECT pg_temp.reorder(0)) x;
SELECT results_eq($$SELECT rule, kind, value FROM cdp.identity_conflicts WHERE value = 'shared@example.com'$$,
    $$VALUES ('blocked'::text, 'email'::text, 'shared@example.com'::text)$$,
    'resolve: the conflict recorded after the reload names the kind the value had');
SELECT cdp.resolve('{"email": "warm2@example.com"}') IS NOT NULL AS warm \g /dev/null
SELECT is(count(*), 2::bigint, 'resolve_all: the kinds reordered in the same statement')
  FROM (SELECT pg_temp.reorder(4) AS x) k,
       LATERAL cdp.resolve_all(CASE WHEN k.x = 1 THEN $q$SELECT * FROM (VALUES
           ('k1', 'external_id', 'kc-2'), ('k1', 'email', 'shared@example.com'),
           ('k2', 'phone', '+33633333333')) v(record_id, kind, value)$q$ END) r;
SELECT results_eq($$SELECT kind, count(*) FROM cdp.identity_conflicts WHERE value = 'shared@example.com' GROUP BY 1$$,
    $$VALUES ('email'::text, 2::bigint)$$,
    'resolve_all: its conflicts too');
SELECT results_eq($$SELECT kind FROM cdp.identifiers WHERE value IN ('kc-2', '+33633333333') ORDER BY 1$$,
    ARRAY['external_id', 'phone'], 'resolve_all: and its identifiers');

SELECT * FROM finish();
ROLLBACK;
