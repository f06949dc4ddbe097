-- Bulk identity resolution with cdp.resolve_all, a worked example: a load
-- into a database that already has contacts, the merge rules, the progress
-- NOTICEs, every error, and identity_graph.  Contacts are shown by the names
-- this file gives them (a new one by its first record), never by id; the
-- data made here is removed at the end and the sequences put back.
SET client_min_messages = warning;
SELECT last_value AS contacts_last, is_called AS contacts_called FROM cdp.contacts_id_seq \gset
SELECT last_value AS identifiers_last, is_called AS identifiers_called FROM cdp.identifiers_id_seq \gset
SELECT last_value AS merges_last, is_called AS merges_called FROM cdp.merges_id_seq \gset
SELECT last_value AS conflicts_last, is_called AS conflicts_called FROM cdp.identity_conflicts_id_seq \gset
SELECT coalesce(max(id), 0) AS contacts_before FROM cdp.contacts \gset

CREATE TEMP TABLE names (id bigint PRIMARY KEY, name text UNIQUE NOT NULL);
CREATE FUNCTION pg_temp.who(bigint) RETURNS text LANGUAGE sql STABLE
AS $$ SELECT coalesce((SELECT name FROM names WHERE id = $1), CASE WHEN $1 IS NOT NULL THEN '?' END) $$;
-- bulk(query): resolve_all, each record with the name of its contact; a
-- contact without a name yet is named after its first record
CREATE FUNCTION pg_temp.bulk(query text) RETURNS TABLE (record_id text, contact text) LANGUAGE plpgsql
AS $$
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS last_bulk (record_id text, contact_id bigint);
    TRUNCATE last_bulk;
    INSERT INTO last_bulk SELECT * FROM cdp.resolve_all(query);
    INSERT INTO names SELECT DISTINCT ON (b.contact_id) b.contact_id, 'new ' || b.record_id
      FROM last_bulk b WHERE b.contact_id IS NOT NULL ORDER BY b.contact_id, b.record_id
    ON CONFLICT (id) DO NOTHING;
    RETURN QUERY SELECT b.record_id, pg_temp.who(b.contact_id) FROM last_bulk b ORDER BY 1;
END
$$;
CREATE VIEW ids AS
    SELECT pg_temp.who(contact_id) AS contact, kind, value, slug, source
      FROM cdp.identifiers WHERE contact_id > :contacts_before;
CREATE VIEW people AS
    SELECT pg_temp.who(id) AS contact, pg_temp.who(merged_into) AS merged_into
      FROM cdp.contacts WHERE id > :contacts_before;
CREATE VIEW merges AS
    SELECT pg_temp.who(survivor_id) AS survivor, pg_temp.who(absorbed_id) AS absorbed, reason, evidence
      FROM cdp.merges WHERE survivor_id > :contacts_before;
CREATE VIEW conflicts AS
    SELECT rule, kind, value, pg_temp.who(contact_id) AS contact, pg_temp.who(other_contact_id) AS record_contact, source
      FROM cdp.identity_conflicts WHERE coalesce(contact_id, other_contact_id) > :contacts_before;

--
-- A load into a database that has contacts: ann (crm-1, ann@) and bob (bob@,
-- the earliest created) are linked by record r1, so ann is merged into bob;
-- r3 and r4 share an address and make one new contact.
--
INSERT INTO names VALUES (cdp.resolve('{"email": "ann@example.com", "external_id": "crm-1"}', 'crm'), 'ann');
INSERT INTO names VALUES (cdp.resolve('{"email": "bob@example.com"}', 'crm'), 'bob');
UPDATE cdp.contacts SET created_at = now() - interval '1 day' WHERE id = (SELECT id FROM names WHERE name = 'bob');
SELECT * FROM pg_temp.bulk($$
    SELECT * FROM (VALUES
        ('r1', 'email', 'ANN@example.com ', 'shop', NULL),
        ('r1', 'email', 'bob@example.com', 'shop', NULL),
        ('r2', 'phone', '06 11 11 11 11', 'shop', 'FR'),
        ('r2', 'external_id', 'crm-1', 'shop', NULL),
        ('r3', 'email', 'new@example.com', 'web', NULL),
        ('r4', 'anonymous', 'cookie-4', 'web', NULL),
        ('r4', 'email', 'NEW@example.com', 'web', NULL)) v(record_id, kind, value, source, region)$$);
SELECT * FROM people ORDER BY contact;
SELECT * FROM ids ORDER BY contact, kind, value;
SELECT * FROM merges;
-- the same load again changes nothing
SELECT count(*) AS identifiers FROM cdp.identifiers \gset before_
SELECT * FROM pg_temp.bulk($$SELECT * FROM (VALUES ('r1', 'email', 'ann@example.com'), ('r2', 'external_id', 'crm-1'),
    ('r3', 'email', 'new@example.com')) v(record_id, kind, value)$$);
SELECT count(*) - :before_identifiers AS new_identifiers FROM cdp.identifiers;

--
-- Merge rules
--
-- blocked values (exact and pattern) never link and are not stored
UPDATE cdp.identifier_kinds SET blocked_values = ARRAY['test@example.com'],
       blocked_patterns = ARRAY['%@blocked.example'] WHERE kind = 'email';
SELECT * FROM pg_temp.bulk($$SELECT * FROM (VALUES
    ('b1', 'external_id', 'b1', 'form'), ('b1', 'email', 'Test@Example.com', 'form'),
    ('b2', 'external_id', 'b2', 'form'), ('b2', 'email', 'test@example.com', 'form'),
    ('b3', 'external_id', 'b3', 'form'), ('b3', 'email', 'x@blocked.example', 'form')) v(record_id, kind, value, source)$$);
SELECT * FROM ids WHERE contact LIKE 'new b%' ORDER BY contact, kind;
SELECT * FROM conflicts WHERE rule = 'blocked' ORDER BY record_contact;
UPDATE cdp.identifier_kinds SET blocked_values = '{}', blocked_patterns = '{}' WHERE kind = 'email';

-- max_per_contact, Segment's example: jane holds abc123 and jane@x.com; with
-- one external_id per contact, {abc456, jane@x.com} makes a new contact
-- holding abc456 only
INSERT INTO names VALUES (cdp.resolve('{"external_id": "abc123", "email": "jane@x.com"}'), 'jane');
UPDATE cdp.identifier_kinds SET max_per_contact = 1 WHERE kind = 'external_id';
SELECT * FROM pg_temp.bulk($$SELECT 's1' AS record_id, kind, value, 'app' AS source
    FROM (VALUES ('external_id', 'abc456'), ('email', 'jane@x.com')) v(kind, value)$$);
SELECT * FROM ids WHERE contact IN ('jane', 'new s1') ORDER BY contact, kind;
-- inside one load: external ids link first, then emails in input order
SELECT * FROM pg_temp.bulk($$SELECT * FROM (VALUES
    ('w2', 'email', 'z@x.com'), ('w1', 'external_id', 'E1'),
    ('w1', 'email', 'z@x.com'), ('w2', 'external_id', 'E2')) v(record_id, kind, value)$$);
SELECT * FROM ids WHERE contact LIKE 'new w%' ORDER BY contact, kind;
SELECT * FROM conflicts WHERE rule = 'limit' ORDER BY value;
UPDATE cdp.identifier_kinds SET max_per_contact = NULL WHERE kind = 'external_id';

-- merge blocks: the pair stays apart, the strongest identifier decides
INSERT INTO names VALUES (cdp.resolve('{"email": "mb.a@example.com"}'), 'mba');
INSERT INTO names VALUES (cdp.resolve('{"external_id": "mb-b"}'), 'mbb');
INSERT INTO cdp.merge_blocks (contact_a, contact_b, reason)
SELECT min(id), max(id), 'test' FROM names WHERE name IN ('mba', 'mbb');
SELECT * FROM pg_temp.bulk($$SELECT 'm1' AS record_id, kind, value, 'crm' AS source
    FROM (VALUES ('email', 'mb.a@example.com'), ('external_id', 'mb-b')) v(kind, value)$$);
SELECT * FROM conflicts WHERE rule = 'merge_block';
SELECT * FROM people WHERE contact IN ('mba', 'mbb') ORDER BY contact;

--
-- Invalid values never fail a load: each is skipped and recorded as an
-- invalid conflict with the value as it came and the reason; a record with
-- no valid value resolves to no contact (NULL).
--
SET client_min_messages = notice;
CREATE TEMP TABLE invalid_load AS SELECT * FROM cdp.resolve_all($$SELECT * FROM (VALUES
    ('v1', 'email', 'val@example.com', NULL), ('v1', 'phone', '0000000000', 'FR'),
    ('v2', 'email', 'a@@example.com', NULL), ('v2', 'phone', '06 11 11 11 11', 'ZZ'),
    ('v3', 'phone', '0000000000', 'FR'), ('v3', 'email', 'VAL@example.com', NULL))
    v(record_id, kind, value, region)$$);
SET client_min_messages = warning;
INSERT INTO names SELECT DISTINCT ON (contact_id) contact_id, 'new ' || record_id
  FROM invalid_load WHERE contact_id IS NOT NULL ORDER BY contact_id, record_id;
SELECT record_id, pg_temp.who(contact_id) AS contact FROM invalid_load ORDER BY 1;
SELECT rule, kind, value, pg_temp.who(other_contact_id) AS record_contact, reason
  FROM cdp.identity_conflicts WHERE rule = 'invalid' ORDER BY id;

--
-- Progress: for an input of 10,000 rows or more, a NOTICE per phase and per
-- tenth of the linking; a smaller input prints no NOTICE (the one above did
-- only because values were skipped and a record resolved to none)
--
SET client_min_messages = notice;
SELECT count(*) AS records, count(DISTINCT contact_id) AS contacts
  FROM cdp.resolve_all($$SELECT 'p' || i / 2 AS record_id, 'anonymous' AS kind, 'progress-' || i / 4 AS value
                           FROM generate_series(0, 99) i$$);
SELECT count(*) AS records, count(DISTINCT contact_id) AS contacts
  FROM cdp.resolve_all($$SELECT 'q' || i / 2 AS record_id, 'anonymous' AS kind, 'progress-q-' || i / 4 AS value
                           FROM generate_series(0, 9999) i$$);
SET client_min_messages = warning;

--
-- Bad input: every error, and nothing written
--
SELECT count(*) AS contacts FROM cdp.contacts \gset before_
SELECT * FROM cdp.resolve_all('SELEC record_id');
SELECT * FROM cdp.resolve_all('SELECT record_id, kind, value FROM no_such_table');
SELECT * FROM cdp.resolve_all($$SELECT 'r' AS record_id, 'a@example.com' AS value$$);
SELECT * FROM cdp.resolve_all($$SELECT 'r' AS record_id, 'external_id' AS kind, 42 AS value$$);
SELECT * FROM cdp.resolve_all($$SELECT 'r' AS record_id, 'external_id'::name AS kind, 'x' AS value$$);
SELECT * FROM cdp.resolve_all($$SELECT * FROM (VALUES ('r1', 'email', 'a@example.com'), ('r2', NULL, 'b@example.com')) v(record_id, kind, value)$$);
SELECT * FROM cdp.resolve_all($$SELECT NULL::text AS record_id, 'email' AS kind, 'a@example.com' AS value$$);
SELECT * FROM cdp.resolve_all($$SELECT 'r1' AS record_id, 'email' AS kind, NULL::text AS value$$);
SELECT * FROM cdp.resolve_all($$SELECT * FROM (VALUES ('r1', 'email', 'a@example.com'), ('r2', 'fax', '123')) v(record_id, kind, value)$$);
SELECT * FROM cdp.resolve_all('DELETE FROM cdp.identifiers');
SELECT * FROM cdp.resolve_all(NULL);
SELECT count(*) - :before_contacts AS new_contacts FROM cdp.contacts;

--
-- identity_graph: bob after the load (ids shown as #)
--
SELECT regexp_replace(regexp_replace(cdp.identity_graph(id), '\m(c|i)\d+\M', '\1#', 'g'),
                      '(contact[ _]|merge )\d+', '\1#', 'g') AS dot
  FROM names WHERE name = 'bob' \gset
\echo :dot
SELECT cdp.identity_graph(-1);
SELECT cdp.identity_graph(NULL);

--
-- Clean up: this file's rows go, kinds and sequences are put back.
--
DELETE FROM cdp.identity_conflicts WHERE coalesce(contact_id, other_contact_id) > :contacts_before
    OR (rule = 'invalid' AND value IN ('0000000000', 'a@@example.com', '06 11 11 11 11'));
DELETE FROM cdp.merges WHERE survivor_id > :contacts_before;
DELETE FROM cdp.merge_blocks WHERE contact_a > :contacts_before;
DELETE FROM cdp.identifiers WHERE contact_id > :contacts_before;
UPDATE cdp.contacts SET merged_into = NULL WHERE id > :contacts_before;
DELETE FROM cdp.contacts WHERE id > :contacts_before;
SELECT setval('cdp.contacts_id_seq', :contacts_last, :'contacts_called') IS NOT NULL AS reset,
       setval('cdp.identifiers_id_seq', :identifiers_last, :'identifiers_called') IS NOT NULL AS reset,
       setval('cdp.merges_id_seq', :merges_last, :'merges_called') IS NOT NULL AS reset,
       setval('cdp.identity_conflicts_id_seq', :conflicts_last, :'conflicts_called') IS NOT NULL AS reset;
