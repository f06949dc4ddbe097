-- pgTAP contracts of bulk identity resolution (DESIGN §5, cdp.resolve_all):
-- existing contacts take part, the merge rules, result independence (row
-- order, halves, the serial cdp.resolve, a plain-SQL oracle) and bad input.
BEGIN;
SET LOCAL client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(69);

-- Start from an empty identity graph (rolled back at the end).
CREATE FUNCTION pg_temp.reset() RETURNS void LANGUAGE sql
AS $$ TRUNCATE cdp.contacts, cdp.identifiers, cdp.merges, cdp.identity_conflicts, cdp.merge_blocks CASCADE $$;
SELECT FROM pg_temp.reset();

-- Contacts made by this file, by name.
CREATE TEMP TABLE c (name text PRIMARY KEY, id bigint);
CREATE FUNCTION pg_temp.c(text) RETURNS bigint LANGUAGE sql STABLE
AS $$ SELECT id FROM c WHERE name = $1 $$;
-- Records of the last bulk call, and the contact each resolved to.
CREATE TEMP TABLE r (record_id text PRIMARY KEY, contact_id bigint);
CREATE FUNCTION pg_temp.bulk(query text) RETURNS bigint LANGUAGE plpgsql
AS $$
BEGIN
    TRUNCATE r;
    INSERT INTO r SELECT * FROM cdp.resolve_all(query);
    RETURN (SELECT count(*) FROM r);
END
$$;
CREATE FUNCTION pg_temp.r(text) RETURNS bigint LANGUAGE sql STABLE
AS $$ SELECT contact_id FROM r WHERE record_id = $1 $$;
CREATE FUNCTION pg_temp.counts() RETURNS TABLE (tbl text, n bigint) LANGUAGE sql STABLE
AS $$
    SELECT 'contacts', count(*) FROM cdp.contacts
    UNION ALL SELECT 'identifiers', count(*) FROM cdp.identifiers
    UNION ALL SELECT 'merges', count(*) FROM cdp.merges
    UNION ALL SELECT 'identity_conflicts', count(*) FROM cdp.identity_conflicts
$$;
-- The partition of identifiers into live contacts, independent of ids: each
-- identifier with the least identifier of its contact.
CREATE FUNCTION pg_temp.partition() RETURNS TABLE (key text, rep text) LANGUAGE sql STABLE
AS $$
    SELECT key, min(key) OVER (PARTITION BY contact_id)
      FROM (SELECT contact_id, (kind || ':' || value) COLLATE "C" AS key FROM cdp.identifiers) s
$$;

--
-- Objects
--
SELECT has_function('cdp', 'resolve_all', ARRAY['text'], 'resolve_all(text) exists');
SELECT has_function('cdp', 'identity_graph', ARRAY['bigint'], 'identity_graph(bigint) exists');
SELECT is((SELECT provolatile FROM pg_proc WHERE oid = 'cdp.resolve_all(text)'::regprocedure),
    'v', 'resolve_all is VOLATILE');

--
-- Existing identifiers and contacts take part
--
INSERT INTO c VALUES ('ann', cdp.resolve('{"email": "ann@example.com", "external_id": "crm-1"}', 'crm'));
INSERT INTO c VALUES ('bob', cdp.resolve('{"email": "bob@example.com"}', 'crm'));
INSERT INTO c VALUES ('cid', cdp.resolve('{"phone": "+33611111111"}', 'crm'));
-- bob is the oldest although ann has the lower id
UPDATE cdp.contacts SET created_at = '2020-01-02' WHERE id = pg_temp.c('ann');
UPDATE cdp.contacts SET created_at = '2020-01-01' WHERE id = pg_temp.c('bob');
UPDATE cdp.contacts SET created_at = '2020-01-03' WHERE id = pg_temp.c('cid');
CREATE TEMP TABLE load1 (record_id text, kind text, value text, source text, region text);
INSERT INTO load1 VALUES
    ('r1', 'email', 'ANN@example.com ', 'shop', NULL),
    ('r1', 'email', 'bob@example.com', 'shop', NULL),
    ('r2', 'phone', '06 11 11 11 11', 'shop', 'FR'),
    ('r2', 'email', 'ann@example.com', 'shop', NULL),
    ('r3', 'email', 'new@example.com', 'shop', NULL),
    ('r4', 'anonymous', 'cookie-4', 'web', NULL),
    ('r4', 'email', 'new@example.com', 'web', NULL),
    ('r5', 'external_id', 'crm-1', 'shop', NULL);
SELECT is(pg_temp.bulk('SELECT record_id, kind, value, source, region FROM load1'), 5::bigint,
    'resolve_all returns one row per record');
SELECT results_eq(
    $$SELECT record_id, contact_id FROM r ORDER BY record_id$$,
    $$SELECT * FROM (VALUES ('r1', pg_temp.c('bob')), ('r2', pg_temp.c('bob')), ('r3', pg_temp.r('r3')),
                            ('r4', pg_temp.r('r3')), ('r5', pg_temp.c('bob'))) v(record_id, contact_id)$$,
    'records linking existing contacts resolve to the earliest-created one');
SELECT ok(pg_temp.r('r3') NOT IN (pg_temp.c('ann'), pg_temp.c('bob'), pg_temp.c('cid')),
    'records linking nothing existing make a new contact');
SELECT results_eq(
    $$SELECT id, merged_into FROM cdp.contacts WHERE id IN (pg_temp.c('ann'), pg_temp.c('bob'), pg_temp.c('cid')) ORDER BY id$$,
    $$VALUES (pg_temp.c('ann'), pg_temp.c('bob')), (pg_temp.c('bob'), NULL::bigint), (pg_temp.c('cid'), pg_temp.c('bob'))$$,
    'the two younger existing contacts are tombstones merged into the earliest-created');
SELECT results_eq(
    $$SELECT survivor_id, absorbed_id, reason FROM cdp.merges ORDER BY absorbed_id$$,
    $$VALUES (pg_temp.c('bob'), pg_temp.c('ann'), 'resolve_all'::text), (pg_temp.c('bob'), pg_temp.c('cid'), 'resolve_all')$$,
    'each merge is recorded in cdp.merges');
SELECT is((SELECT count(*) FROM cdp.merges WHERE evidence ? 'kind' AND evidence ? 'value'), 2::bigint,
    'each merge names the identifier that linked it');
SELECT results_eq(
    $$SELECT kind, value, contact_id FROM cdp.identifiers ORDER BY kind, value$$,
    $$VALUES ('anonymous'::text, 'cookie-4'::text, pg_temp.r('r3')),
             ('email', 'ann@example.com', pg_temp.c('bob')),
             ('email', 'bob@example.com', pg_temp.c('bob')),
             ('email', 'new@example.com', pg_temp.r('r3')),
             ('external_id', 'crm-1', pg_temp.c('bob')),
             ('phone', '+33611111111', pg_temp.c('bob'))$$,
    'existing identifiers are reused, not duplicated; new ones are written once, on the right contact');
SELECT is((SELECT source FROM cdp.identifiers WHERE value = 'new@example.com'), 'shop',
    'a new identifier keeps the source of the row that brought it');
SELECT is((SELECT count(*) FROM cdp.identifiers WHERE contact_id = pg_temp.r('r3') AND slug = 'main'), 2::bigint,
    'the first identifier of a kind on a new contact is main');
SELECT is((SELECT count(*) FROM cdp.identifiers WHERE contact_id = pg_temp.c('bob') AND kind = 'email' AND slug = 'main'),
    1::bigint, 'the survivor keeps a single main email');
SELECT is(cdp.resolve('{"email": "new@example.com", "phone": "+33611111111"}'), pg_temp.c('bob'),
    'per-record resolve afterwards sees what the bulk load wrote (and merges on it)');
SELECT is(pg_temp.c('bob'), cdp.current_contact(pg_temp.r('r3')),
    'and the bulk-made contact is merged into the older one');
CREATE TEMP TABLE before_rerun AS SELECT * FROM pg_temp.counts();
SELECT is(pg_temp.bulk('SELECT record_id, kind, value, source, region FROM load1'), 5::bigint,
    'a second load of the same rows');
SELECT results_eq('SELECT * FROM pg_temp.counts()', 'SELECT * FROM before_rerun',
    'writes nothing new: no contact, identifier, merge or conflict');
SELECT is((SELECT count(DISTINCT contact_id) FROM r), 1::bigint,
    'and resolves every record to the one live contact');

--
-- Merge rules
--
SELECT FROM pg_temp.reset();
TRUNCATE c;
-- blocked values, exact and LIKE pattern
UPDATE cdp.identifier_kinds SET blocked_values = ARRAY['test@example.com'],
       blocked_patterns = ARRAY['%@blocked.example'] WHERE kind = 'email';
SELECT FROM pg_temp.bulk($$SELECT * FROM (VALUES
    ('b1', 'external_id', 'b1', 'form'), ('b1', 'email', ' TEST@example.com', 'form'),
    ('b2', 'external_id', 'b2', 'form'), ('b2', 'email', 'test@example.com', 'shop'),
    ('b3', 'external_id', 'b3', NULL), ('b3', 'email', 'anyone@blocked.example', NULL),
    ('b4', 'external_id', 'b4', NULL), ('b4', 'email', 'Anyone@BLOCKED.example', NULL))
    v(record_id, kind, value, source)$$);
SELECT is((SELECT count(DISTINCT contact_id) FROM r), 4::bigint,
    'blocked: records sharing only a blocked value (exact or pattern) stay apart');
SELECT is_empty($$SELECT 1 FROM cdp.identifiers WHERE kind = 'email'$$,
    'blocked: a blocked value is not stored');
SELECT results_eq(
    $$SELECT rule, kind, value, contact_id, other_contact_id, source FROM cdp.identity_conflicts ORDER BY other_contact_id$$,
    $$VALUES ('blocked'::text, 'email'::text, 'test@example.com'::text, NULL::bigint, pg_temp.r('b1'), 'form'::text),
             ('blocked', 'email', 'test@example.com', NULL, pg_temp.r('b2'), 'shop'),
             ('blocked', 'email', 'anyone@blocked.example', NULL, pg_temp.r('b3'), NULL),
             ('blocked', 'email', 'anyone@blocked.example', NULL, pg_temp.r('b4'), NULL)$$,
    'blocked: each refused link is a conflict with rule blocked, with the source of its own row');
UPDATE cdp.identifier_kinds SET blocked_values = '{}', blocked_patterns = '{}' WHERE kind = 'email';

-- max_per_contact: Segment's worked example against an existing contact
SELECT FROM pg_temp.reset();
INSERT INTO c VALUES ('seg', cdp.resolve('{"external_id": "abc123", "email": "jane@x.com"}'));
UPDATE cdp.identifier_kinds SET max_per_contact = 1 WHERE kind = 'external_id';
SELECT FROM pg_temp.bulk($$SELECT 's1' AS record_id, kind, value, 'app' AS source
                       FROM (VALUES ('external_id', 'abc456'), ('email', 'jane@x.com')) v(kind, value)$$);
SELECT isnt(pg_temp.r('s1'), pg_temp.c('seg'),
    'limit: {abc456, jane@x.com} does not join the contact holding abc123');
SELECT results_eq(
    $$SELECT contact_id, kind, value FROM cdp.identifiers ORDER BY value$$,
    $$VALUES (pg_temp.c('seg'), 'external_id'::text, 'abc123'::text), (pg_temp.r('s1'), 'external_id', 'abc456'),
             (pg_temp.c('seg'), 'email', 'jane@x.com')$$,
    'limit: the new contact holds abc456 only; the email stays where it was');
SELECT results_eq(
    $$SELECT rule, kind, value, contact_id, other_contact_id, source FROM cdp.identity_conflicts$$,
    $$VALUES ('limit'::text, 'email'::text, 'jane@x.com'::text, pg_temp.c('seg'), pg_temp.r('s1'), 'app'::text)$$,
    'limit: the refused link is a conflict with rule limit');
SELECT is_empty('SELECT 1 FROM cdp.merges', 'limit: nothing merged');

-- max_per_contact inside the input: kind priority first, then input order
SELECT FROM pg_temp.reset();
SELECT FROM pg_temp.bulk($$SELECT * FROM (VALUES
    ('w2', 'email', 'z@x.com'), ('w1', 'external_id', 'E1'),
    ('w1', 'email', 'z@x.com'), ('w2', 'external_id', 'E2')) v(record_id, kind, value)$$);
SELECT isnt(pg_temp.r('w1'), pg_temp.r('w2'), 'limit in the input: the two external ids stay apart');
SELECT is(cdp.find_contact('email', 'z@x.com'), pg_temp.r('w2'),
    'limit in the input: external ids link first, then emails in input order (w2''s row is first)');
SELECT results_eq(
    $$SELECT rule, value, contact_id, other_contact_id FROM cdp.identity_conflicts$$,
    $$VALUES ('limit'::text, 'z@x.com'::text, pg_temp.r('w2'), pg_temp.r('w1'))$$,
    'limit in the input: w1''s link to z@x.com is refused as a limit conflict');
SELECT FROM pg_temp.reset();
SELECT FROM pg_temp.bulk($$SELECT * FROM (VALUES
    ('w1', 'external_id', 'E1'), ('w1', 'email', 'z@x.com'),
    ('w2', 'email', 'z@x.com'), ('w2', 'external_id', 'E2')) v(record_id, kind, value)$$);
SELECT is(cdp.find_contact('email', 'z@x.com'), pg_temp.r('w1'),
    'limit in the input: with w1''s email row first, w1 keeps the email');
SELECT is((SELECT count(*) FROM cdp.identifiers WHERE contact_id = pg_temp.r('w2')), 1::bigint,
    'limit in the input: and w2''s contact holds E2 only');
UPDATE cdp.identifier_kinds SET max_per_contact = NULL WHERE kind = 'external_id';

-- merge_blocks: the strongest identifier decides
SELECT FROM pg_temp.reset();
TRUNCATE c;
INSERT INTO c VALUES ('mba', cdp.resolve('{"email": "mb.a@example.com"}'));
INSERT INTO c VALUES ('mbb', cdp.resolve('{"external_id": "mb-b"}'));
UPDATE cdp.contacts SET created_at = now() - interval '2 days' WHERE id = pg_temp.c('mba');
INSERT INTO cdp.merge_blocks (contact_a, contact_b, reason)
VALUES (least(pg_temp.c('mba'), pg_temp.c('mbb')), greatest(pg_temp.c('mba'), pg_temp.c('mbb')), 'test');
SELECT FROM pg_temp.bulk($$SELECT 'm1' AS record_id, kind, value, 'crm' AS source
                       FROM (VALUES ('email', 'mb.a@example.com'), ('external_id', 'mb-b')) v(kind, value)$$);
SELECT is(pg_temp.r('m1'), pg_temp.c('mbb'),
    'merge block: the record resolves to the contact of its strongest identifier');
SELECT is_empty('SELECT 1 FROM cdp.merges', 'merge block: no merge happened');
SELECT is(cdp.find_contact('email', 'mb.a@example.com'), pg_temp.c('mba'),
    'merge block: the identifier that would have linked stays where it is');
SELECT results_eq(
    $$SELECT rule, kind, value, contact_id, other_contact_id, source FROM cdp.identity_conflicts$$,
    $$VALUES ('merge_block'::text, 'email'::text, 'mb.a@example.com'::text, pg_temp.c('mba'), pg_temp.c('mbb'), 'crm'::text)$$,
    'merge block: recorded as a conflict with rule merge_block');
-- a third contact joins the blocked ones' component through new records only
INSERT INTO c VALUES ('mbc', cdp.resolve('{"phone": "+33622222222"}'));
SELECT FROM pg_temp.bulk($$SELECT * FROM (VALUES
    ('m2', 'phone', '+33622222222'), ('m2', 'anonymous', 'ck-m'),
    ('m3', 'anonymous', 'ck-m'), ('m3', 'external_id', 'mb-b'),
    ('m4', 'anonymous', 'ck-m'), ('m4', 'email', 'mb.a@example.com')) v(record_id, kind, value)$$);
SELECT results_eq(
    $$SELECT id, merged_into IS NULL FROM cdp.contacts ORDER BY id$$,
    $$VALUES (pg_temp.c('mba'), true), (pg_temp.c('mbb'), true), (pg_temp.c('mbc'), false)$$,
    'merge block: a blocked pair is never merged, even through a chain of new records');
-- a block holds through a third contact: bt absorbed ba, which is blocked
-- against bs; a block within one person (bp and bq) stops nothing
SELECT FROM pg_temp.reset();
TRUNCATE c;
INSERT INTO c SELECT n, cdp.resolve(jsonb_build_object('email', n || '@example.com'))
  FROM unnest(ARRAY['ba', 'bs', 'bt', 'bw', 'bp', 'bq', 'bz']) n;
SELECT FROM cdp.merge_contacts(pg_temp.c('ba'), ARRAY[pg_temp.c('bs')]);
SELECT FROM cdp.unmerge((SELECT id FROM cdp.merges WHERE absorbed_id = pg_temp.c('bs')));
SELECT FROM cdp.merge_contacts(pg_temp.c('bt'), ARRAY[pg_temp.c('ba')]);
SELECT FROM cdp.merge_contacts(pg_temp.c('bp'), ARRAY[pg_temp.c('bq')]);
INSERT INTO cdp.merge_blocks (contact_a, contact_b, reason)
VALUES (least(pg_temp.c('bp'), pg_temp.c('bq')), greatest(pg_temp.c('bp'), pg_temp.c('bq')), 'too late');
DELETE FROM cdp.identity_conflicts;
SELECT FROM pg_temp.bulk($$SELECT * FROM (VALUES
    ('t1', 'email', 'bt@example.com', 'crm'), ('t1', 'email', 'bs@example.com', 'crm'),
    ('t2', 'email', 'bt@example.com', 'crm'), ('t2', 'email', 'bw@example.com', 'crm'),
    ('t3', 'email', 'bq@example.com', 'crm'), ('t3', 'email', 'bz@example.com', 'crm'))
    v(record_id, kind, value, source)$$);
SELECT results_eq(
    $$SELECT rule, kind, value, contact_id, other_contact_id, source FROM cdp.identity_conflicts$$,
    $$VALUES ('merge_block'::text, 'email'::text, 'bs@example.com'::text, pg_temp.c('bs'), pg_temp.c('bt'), 'crm'::text)$$,
    'third contact: resolve_all refuses the link to the other end of a block the contact holds (merge_block)');
SELECT results_eq(
    $$SELECT n, cdp.current_contact(pg_temp.c(n)) FROM unnest(ARRAY['bs', 'bt', 'bw', 'bz']) n ORDER BY n$$,
    $$VALUES ('bs'::text, pg_temp.c('bs')), ('bt', pg_temp.c('bt')), ('bw', pg_temp.c('bt')), ('bz', pg_temp.c('bp'))$$,
    'third contact: bs stays apart, while unrelated contacts and one holding a block within itself are merged');
SELECT results_eq(
    $$SELECT record_id, contact_id FROM r ORDER BY record_id$$,
    $$VALUES ('t1'::text, pg_temp.c('bt')), ('t2', pg_temp.c('bt')), ('t3', pg_temp.c('bp'))$$,
    'third contact: each record resolves to its person');

--
-- Result independence (no limits, blocks or merge blocks): about 3,000
-- records in groups sharing emails, phones linking far-apart groups, and
-- cookies chaining neighbouring groups; raw values need normalising.
--
SELECT FROM pg_temp.reset();
CREATE TEMP TABLE gen AS
SELECT 'g' || lpad(i::text, 4, '0') AS record_id, kind, value, region
  FROM generate_series(1, 3000) i,
       LATERAL (VALUES
           ('email', CASE WHEN i % 2 = 0 THEN 'p' || i / 3 || '@example.com'
                          ELSE ' P' || i / 3 || '@Example.COM' END, NULL, true),
           ('phone', CASE WHEN i % 8 = 0 THEN '+3361' || lpad(((i / 4) * 7 % 700)::text, 7, '0')
                          ELSE '061' || lpad(((i / 4) * 7 % 700)::text, 7, '0') END, 'FR', i % 4 = 0),
           ('anonymous', 'ck' || (i + 5) / 10, NULL, i % 5 = 0 AND i % 3 = 0),
           ('external_id', 'x' || i, NULL, i % 11 = 0)) k(kind, value, region, present)
 WHERE present;
-- the oracle: connected components of records and normalised identifiers
-- by plain-SQL label propagation
CREATE TEMP TABLE oracle_edges AS
SELECT record_id, kind || ':' || cdp.normalize_identifier(kind, value, region) AS key FROM gen;
CREATE TEMP TABLE oracle_labels AS
SELECT DISTINCT node, node AS label
  FROM (SELECT record_id AS node FROM oracle_edges UNION SELECT key FROM oracle_edges) n;
DO $$
DECLARE
    changed bigint;
BEGIN
    LOOP
        WITH m AS (
            SELECT e.record_id AS node, l.label FROM oracle_edges e JOIN oracle_labels l ON l.node = e.key
            UNION ALL
            SELECT e.key, l.label FROM oracle_edges e JOIN oracle_labels l ON l.node = e.record_id),
        best AS (SELECT node, min(label COLLATE "C") AS label FROM m GROUP BY node)
        UPDATE oracle_labels t SET label = best.label FROM best
         WHERE t.node = best.node AND best.label < t.label COLLATE "C";
        GET DIAGNOSTICS changed = ROW_COUNT;
        EXIT WHEN changed = 0;
    END LOOP;
END
$$;
CREATE TEMP TABLE oracle_partition AS
SELECT node COLLATE "C" AS key, min(node COLLATE "C") FILTER (WHERE node LIKE '%:%') OVER (PARTITION BY label) AS rep
  FROM oracle_labels;
SELECT cmp_ok((SELECT count(DISTINCT label) FROM oracle_labels), '>', 300::bigint,
    'the generated input forms many components');
SELECT cmp_ok((SELECT max(n) FROM (SELECT count(*) n FROM oracle_labels GROUP BY label) s), '>', 30::bigint,
    'some of them large (chains across groups)');

-- the record partition: each record with the least record of its live contact
CREATE TEMP TABLE record_parts (run text, record_id text, rep text);
CREATE FUNCTION pg_temp.keep_records(run text) RETURNS void LANGUAGE sql
AS $$
    INSERT INTO record_parts
    SELECT run, record_id, min(record_id) OVER (PARTITION BY cdp.current_contact(contact_id)) FROM r;
$$;

SELECT is(pg_temp.bulk($$SELECT * FROM gen ORDER BY md5(record_id || kind || value || 'salt one')$$), 3000::bigint,
    'independence: resolve_all in one row order');
CREATE TEMP TABLE part_a AS SELECT * FROM pg_temp.partition();
SELECT FROM pg_temp.keep_records('a');
SELECT set_eq('SELECT * FROM part_a', 'SELECT key, rep FROM oracle_partition WHERE key LIKE ''%:%''',
    'independence: the partition of identifiers is the connected components of the input (plain-SQL oracle)');
SELECT is((SELECT count(*) FROM cdp.contacts WHERE merged_into IS NULL),
          (SELECT count(DISTINCT label) FROM oracle_labels),
    'independence: one live contact per component, no merges needed on an empty graph');

SELECT FROM pg_temp.reset();
SELECT FROM pg_temp.bulk($$SELECT * FROM gen ORDER BY md5(record_id || kind || value || 'salt two')$$);
SELECT set_eq('SELECT * FROM pg_temp.partition()', 'SELECT * FROM part_a',
    'independence: another row order gives the same partition of identifiers');
SELECT FROM pg_temp.keep_records('b');

SELECT FROM pg_temp.reset();
SELECT FROM pg_temp.bulk($$SELECT * FROM gen WHERE hashtext(record_id) % 2 = 0 ORDER BY record_id DESC$$);
CREATE TEMP TABLE first_half AS SELECT * FROM r;
SELECT FROM pg_temp.bulk($$SELECT * FROM gen WHERE hashtext(record_id) % 2 <> 0 ORDER BY record_id$$);
INSERT INTO r SELECT * FROM first_half;
SELECT set_eq('SELECT * FROM pg_temp.partition()', 'SELECT * FROM part_a',
    'independence: two halves in two calls give the same partition as one call');
SELECT cmp_ok((SELECT count(*) FROM cdp.merges), '>', 0::bigint,
    'independence: (the second half merged contacts of the first)');
SELECT FROM pg_temp.keep_records('halves');

SELECT FROM pg_temp.reset();
TRUNCATE r;
INSERT INTO r
SELECT record_id, cdp.resolve(jsonb_agg(jsonb_strip_nulls(jsonb_build_object('kind', kind, 'value', value, 'region', region))))
  FROM gen GROUP BY record_id ORDER BY record_id;
SELECT set_eq('SELECT * FROM pg_temp.partition()', 'SELECT * FROM part_a',
    'independence: the serial cdp.resolve, record by record, gives the same partition');
SELECT FROM pg_temp.keep_records('serial');
SELECT is((SELECT count(DISTINCT run) FROM record_parts), 4::bigint, 'four runs of records kept');
SELECT is_empty(
    $$SELECT record_id, rep FROM record_parts WHERE run <> 'a'
      EXCEPT SELECT record_id, rep FROM record_parts WHERE run = 'a'$$,
    'independence: every run groups the records alike (row orders, halves, serial)');

--
-- Bad input: clear errors, nothing written (a value the normaliser refuses
-- is not bad input: it is skipped and recorded, see test/invalid.sql)
--
CREATE TEMP TABLE before_bad AS SELECT * FROM pg_temp.counts();
SELECT throws_ok($$SELECT * FROM cdp.resolve_all('SELEC record_id')$$, '42601', NULL,
    'bad input: a query with a syntax error');
SELECT throws_ok($$SELECT * FROM cdp.resolve_all('SELECT record_id, kind, value FROM no_such_table')$$, '42P01', NULL,
    'bad input: a query over a missing table');
SELECT throws_ok($$SELECT * FROM cdp.resolve_all($q$SELECT 'r' AS record_id, 'a@example.com' AS value$q$)$$,
    '42703', 'the resolve_all query has no column "kind"', 'bad input: a missing column');
SELECT throws_ok($$SELECT * FROM cdp.resolve_all($q$SELECT 'r' AS record_id, 'external_id' AS kind, 42 AS value$q$)$$,
    '42804', 'column "value" of the resolve_all query must be of type text, not integer',
    'bad input: a column of the wrong type');
SELECT throws_ok($$SELECT * FROM cdp.resolve_all($q$SELECT * FROM (VALUES ('r1', 'email', 'a@example.com'),
    ('r2', NULL, 'b@example.com')) v(record_id, kind, value)$q$)$$,
    '22004', 'row 2 of the resolve_all query has a null kind', 'bad input: a null kind');
SELECT throws_ok($$SELECT * FROM cdp.resolve_all($q$SELECT NULL::text AS record_id, 'email' AS kind, 'a@example.com' AS value$q$)$$,
    '22004', 'row 1 of the resolve_all query has a null record_id', 'bad input: a null record_id');
SELECT throws_ok($$SELECT * FROM cdp.resolve_all($q$SELECT 'r1' AS record_id, 'email' AS kind, NULL::text AS value$q$)$$,
    '22004', 'row 1 of the resolve_all query has a null value', 'bad input: a null value');
SELECT throws_ok($$SELECT * FROM cdp.resolve_all($q$SELECT * FROM (VALUES ('r1', 'email', 'a@example.com'),
    ('r2', 'fax', '123')) v(record_id, kind, value)$q$)$$,
    '42704', 'unknown identifier kind: "fax"', 'bad input: an unknown kind');
SELECT throws_ok($$SELECT * FROM cdp.resolve_all('DELETE FROM cdp.identifiers')$$, '22023', NULL,
    'bad input: a statement that is not a query');
SELECT throws_ok($$SELECT * FROM cdp.resolve_all(NULL)$$, '22004', 'query must not be null',
    'bad input: a null query');
SELECT results_eq('SELECT * FROM pg_temp.counts()', 'SELECT * FROM before_bad',
    'bad input: no failed call wrote a contact, identifier, merge or conflict');

--
-- The write goes through COPY text (copy_rows.c): values with COPY's
-- delimiters and escapes, and a client encoding unlike the server's, arrive
-- as they were read.
--
SET LOCAL client_encoding = 'LATIN1';
SELECT is((SELECT count(*) FROM cdp.resolve_all($q$SELECT 'esc' AS record_id, 'external_id' AS kind,
                                                        E'back\\slash \\N ' || chr(233) AS value,
                                                        E'line\nbreak\tand tab' AS source$q$)), 1::bigint,
    'copy text: a value with backslashes, \N and a non-ASCII letter under a LATIN1 client is loaded');
RESET client_encoding;
SELECT is((SELECT value FROM cdp.identifiers WHERE kind = 'external_id' AND value LIKE 'back%'),
          E'back\\slash \\N ' || chr(233), 'copy text: the value is stored as it was read');
SELECT is((SELECT source FROM cdp.identifiers WHERE kind = 'external_id' AND value LIKE 'back%'),
          E'line\nbreak\tand tab', 'copy text: the source with a line break and a tab too');
SELECT is((SELECT ch.diff -> 'identifiers.external_id.value' ->> 1 FROM cdp.changes ch
            WHERE ch.diff ? 'identifiers.external_id.value' AND ch.diff::text LIKE '%back%' ORDER BY ch.id DESC LIMIT 1),
          E'back\\slash \\N ' || chr(233), 'copy text: and its change records the same value');

--
-- COPY cannot apply row-level security policies, so resolve_all refuses to
-- write a table where they apply to the caller, as COPY FROM does.
--
SELECT FROM cdp.create_roles();
CREATE ROLE cdp_bulk_rls_writer IN ROLE cdp_writer;
ALTER TABLE cdp.identifiers ENABLE ROW LEVEL SECURITY;
CREATE POLICY bulk_rls ON cdp.identifiers USING (true) WITH CHECK (kind <> 'email');
SET LOCAL ROLE cdp_bulk_rls_writer;
SELECT throws_ok($q$SELECT count(*) FROM cdp.resolve_all('SELECT ''rls'' AS record_id, ''email'' AS kind, ''rls@example.com'' AS value')$q$,
    '0A000', 'cannot write identifiers in bulk while row-level security is enabled on it',
    'row-level security: resolve_all refuses to bypass a policy on cdp.identifiers');
RESET ROLE;
SELECT is((SELECT count(*) FROM cdp.identifiers WHERE value = 'rls@example.com'), 0::bigint,
    'row-level security: and writes nothing');
DROP POLICY bulk_rls ON cdp.identifiers;
ALTER TABLE cdp.identifiers DISABLE ROW LEVEL SECURITY;

--
-- identity_graph: errors (the DOT itself is checked with dot in test/t/bulk_graph.sh)
--
SELECT throws_ok('SELECT cdp.identity_graph(-1)', '42704', 'contact -1 does not exist',
    'identity_graph of an unknown contact');
SELECT throws_ok('SELECT cdp.identity_graph(NULL)', '22004', 'contact must not be null',
    'identity_graph of NULL');
SELECT matches(cdp.identity_graph((SELECT min(contact_id) FROM cdp.identifiers)), '^graph "contact_\d+" \{',
    'identity_graph returns a DOT graph');

SELECT * FROM finish();
ROLLBACK;
