-- Identity resolution, a worked example: what resolve keeps of each
-- identifier, and the merge rules (earliest survivor, slugs, blocked values,
-- Segment's max_per_contact example, merge blocks).  Contacts are shown by
-- the name this file gives them, never by id; the data made here is removed
-- at the end and the sequences put back, so later files see no trace of it.
SELECT last_value AS contacts_last, is_called AS contacts_called FROM cdp.contacts_id_seq \gset
SELECT last_value AS identifiers_last, is_called AS identifiers_called FROM cdp.identifiers_id_seq \gset
SELECT last_value AS merges_last, is_called AS merges_called FROM cdp.merges_id_seq \gset
SELECT last_value AS conflicts_last, is_called AS conflicts_called FROM cdp.identity_conflicts_id_seq \gset
SELECT coalesce(max(id), 0) AS contacts_before FROM cdp.contacts \gset

-- who(id): the name of a contact of this file; as(name, id) names a new one
CREATE TEMP TABLE names (id bigint PRIMARY KEY, name text UNIQUE NOT NULL);
CREATE FUNCTION pg_temp.who(bigint) RETURNS text LANGUAGE sql STABLE
AS $$ SELECT coalesce((SELECT name FROM names WHERE id = $1), CASE WHEN $1 IS NOT NULL THEN '?' END) $$;
CREATE FUNCTION pg_temp.as_(name text, id bigint) RETURNS text LANGUAGE sql
AS $$
    INSERT INTO names VALUES (id, name) ON CONFLICT (id) DO NOTHING;
    SELECT pg_temp.who(id);
$$;
CREATE FUNCTION pg_temp.id(text) RETURNS bigint LANGUAGE sql STABLE
AS $$ SELECT id FROM names WHERE name = $1 $$;
CREATE VIEW ids AS
    SELECT pg_temp.who(contact_id) AS contact, kind, value, raw_value, slug, source,
           is_validated AS validated, validation_method AS method, outreach
      FROM cdp.identifiers WHERE contact_id > :contacts_before;
CREATE VIEW people AS
    SELECT pg_temp.who(id) AS contact, given_name, family_name, type, pg_temp.who(merged_into) AS merged_into
      FROM cdp.contacts WHERE id > :contacts_before;
CREATE VIEW conflicts AS
    SELECT rule, kind, value, pg_temp.who(contact_id) AS contact, pg_temp.who(other_contact_id) AS other, source
      FROM cdp.identity_conflicts WHERE coalesce(contact_id, other_contact_id) > :contacts_before;

--
-- A new record: one contact, each identifier normalised, its raw value,
-- slug, source, validation and outreach kept.
--
SELECT pg_temp.as_('jane', cdp.resolve(
    '[{"kind": "email", "value": " Jane.Doe@Example.COM ", "validated": "otp", "outreach": true},
      {"kind": "phone", "value": "06 12 34 56 78", "region": "FR"}]', 'crm')) AS contact;
SELECT * FROM ids ORDER BY kind, value;
-- validated_at defaults to the time of resolution, first and last seen too
SELECT value, validated_at = first_seen_at AS validated_when_seen,
       first_seen_at > now() - interval '1 hour' AS seen_just_now, last_seen_at = first_seen_at AS last_is_first
  FROM cdp.identifiers WHERE contact_id = pg_temp.id('jane') ORDER BY kind;

-- A second record sharing the phone attaches to jane.  The first email of a
-- kind took "main"; an allowed slug is kept; with "main" taken and no slug
-- given, the slug stays empty.
UPDATE cdp.identifier_kinds SET slugs = ARRAY['main', 'work'] WHERE kind = 'email';
SELECT pg_temp.who(cdp.resolve(
    '[{"kind": "phone", "value": "+33 6 12 34 56 78"},
      {"kind": "email", "value": "jane@work.example", "slug": "work", "validated": true,
       "validated_at": "2024-03-01 10:00:00+00"},
      {"kind": "email", "value": "Jane.Doe@GoogleMail.com"}]', 'web')) AS contact;
SELECT * FROM ids ORDER BY kind, value;
SELECT value, validated_at FROM cdp.identifiers WHERE value = 'jane@work.example';
-- a slug the kind does not allow
SELECT cdp.resolve('[{"kind": "email", "value": "jane.doe@example.com", "slug": "home"}]');

-- Seen again: last_seen_at moves, the first sighting and any validation stay.
UPDATE cdp.identifiers SET last_seen_at = '2000-01-01', first_seen_at = '2000-01-01'
 WHERE contact_id = pg_temp.id('jane');
SELECT pg_temp.who(cdp.resolve(
    '[{"kind": "email", "value": "jane.doe@example.com", "validated": false},
      {"kind": "phone", "value": "+33612345678", "validated": "manual"}]')) AS contact;
SELECT value, is_validated, validation_method, first_seen_at, last_seen_at > '2000-01-01' AS seen_again
  FROM cdp.identifiers WHERE contact_id = pg_temp.id('jane') ORDER BY kind, value;

--
-- Merging: the earliest-created contact survives, the others become
-- tombstones, identifiers move, a slug taken on the survivor is cleared.
--
SELECT pg_temp.as_('bea', cdp.resolve('{"phone": "+44 20 7946 0958", "email": "bea@example.com"}')) AS contact;
SELECT pg_temp.as_('amy', cdp.resolve('{"email": "amy@example.com"}', 'shop')) AS contact;
SELECT pg_temp.as_('cid', cdp.resolve('{"uuid": "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"}')) AS contact;
SELECT cdp.update_contact(pg_temp.id('amy'), 'Amy');
SELECT pg_temp.who(cdp.resolve(
    '{"email": "amy@example.com", "phone": "+442079460958", "uuid": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}',
    'import')) AS contact;
SELECT * FROM people WHERE contact IN ('amy', 'bea', 'cid') ORDER BY contact;
SELECT contact, kind, value, slug, source FROM ids WHERE contact IN ('amy', 'bea', 'cid') ORDER BY kind, value;
SELECT pg_temp.who(survivor_id) AS survivor, pg_temp.who(absorbed_id) AS absorbed, reason, evidence, source,
       snapshot -> 'identifiers' IS NOT NULL AS has_snapshot
  FROM cdp.merges WHERE absorbed_id > :contacts_before ORDER BY id;
-- the tombstones lead to the survivor
SELECT pg_temp.who(cdp.current_contact(pg_temp.id('amy'))) AS amy_is,
       pg_temp.who(cdp.find_contact('email', 'AMY@example.com')) AS amy_email_is;

--
-- Blocked values (exact, or a LIKE pattern) never link anything: records
-- sharing only a blocked value stay apart, the value is not stored, and
-- each refusal is a conflict with rule blocked.
--
UPDATE cdp.identifier_kinds SET blocked_values = ARRAY['test@example.com'],
       blocked_patterns = ARRAY['%@mailinator.com'] WHERE kind = 'email';
SELECT pg_temp.as_('q1', cdp.resolve('{"external_id": "q1", "email": " TEST@example.com "}', 'form')) AS contact;
SELECT pg_temp.as_('q2', cdp.resolve('{"external_id": "q2", "email": "test@example.com"}', 'form')) AS contact;
SELECT pg_temp.as_('q3', cdp.resolve('{"external_id": "q3", "email": "throwaway@mailinator.com"}')) AS contact;
SELECT pg_temp.as_('q4', cdp.resolve('{"external_id": "q4", "email": "Throwaway@Mailinator.com"}')) AS contact;
SELECT contact, kind, value FROM ids WHERE contact LIKE 'q_' ORDER BY contact, kind;
SELECT * FROM conflicts WHERE rule = 'blocked' ORDER BY other;
UPDATE cdp.identifier_kinds SET blocked_values = '{}', blocked_patterns = '{}' WHERE kind = 'email';

--
-- max_per_contact, Segment's worked example: a contact holds external_id
-- abc123 and jane@x.com; external_id is limited to one value.  A record
-- {abc456, jane@x.com} would give the contact two external ids, so its
-- weakest identifier (the email) is dropped: the record makes a new contact
-- holding abc456, the email stays where it was, and a limit conflict says so.
--
SELECT pg_temp.as_('segment', cdp.resolve('{"external_id": "abc123", "email": "jane@x.com"}')) AS contact;
UPDATE cdp.identifier_kinds SET max_per_contact = 1 WHERE kind = 'external_id';
SELECT pg_temp.as_('segment2', cdp.resolve('{"external_id": "abc456", "email": "jane@x.com"}', 'app')) AS contact;
SELECT contact, kind, value FROM ids WHERE contact IN ('segment', 'segment2') ORDER BY contact, kind;
SELECT * FROM conflicts WHERE rule = 'limit';
-- within the limit, records resolve as usual
SELECT pg_temp.who(cdp.resolve('{"external_id": "abc123", "email": "jane@x.com"}')) AS contact;
SELECT pg_temp.who(cdp.resolve('{"external_id": "abc456"}')) AS contact;
UPDATE cdp.identifier_kinds SET max_per_contact = NULL WHERE kind = 'external_id';

--
-- Merge blocks: a record linking two contacts that must not merge resolves
-- to the one matched by its strongest identifier (external_id beats email,
-- although mia is older); the email stays with mia and is a conflict.
--
SELECT pg_temp.as_('mia', cdp.resolve('{"email": "mia@example.com"}')) AS contact;
SELECT pg_temp.as_('max', cdp.resolve('{"external_id": "max-1"}')) AS contact;
INSERT INTO cdp.merge_blocks (contact_a, contact_b, reason)
VALUES (pg_temp.id('mia'), pg_temp.id('max'), 'different people');
SELECT pg_temp.who(cdp.resolve('{"email": "mia@example.com", "external_id": "max-1"}', 'crm')) AS contact;
SELECT * FROM people WHERE contact IN ('mia', 'max') ORDER BY contact;
SELECT * FROM conflicts WHERE rule = 'merge_block';

--
-- Contact types follow the contact: ghost, lead (named, email), contact
-- (named, validated email), vendor.
--
SELECT pg_temp.as_('una', cdp.resolve('{"email": "una@example.com"}')) AS contact;
SELECT type FROM cdp.contacts WHERE id = pg_temp.id('una');
SELECT cdp.update_contact(pg_temp.id('una'), 'Una');
SELECT type FROM cdp.contacts WHERE id = pg_temp.id('una');
SELECT cdp.resolve('[{"kind": "email", "value": "una@example.com", "validated": "double_opt_in"}]') IS NOT NULL AS resolved;
SELECT type FROM cdp.contacts WHERE id = pg_temp.id('una');
SELECT cdp.update_contact(pg_temp.id('una'), is_vendor => true);
SELECT given_name, type FROM cdp.contacts WHERE id = pg_temp.id('una');

--
-- Every error of resolve, with its message.
--
\set VERBOSITY default
SELECT cdp.resolve(NULL);
SELECT cdp.resolve('"jane@example.com"');
SELECT cdp.resolve('[]');
SELECT cdp.resolve('{}');
SELECT cdp.resolve('["jane@example.com"]');
SELECT cdp.resolve('{"fax": "+33612345678"}');
SELECT cdp.resolve('{"email": null}');
SELECT cdp.resolve('{"external_id": false}');
SELECT cdp.resolve('[{"kind": "email", "value": "a@example.com", "verified": true}]');
SELECT cdp.resolve('[{"value": "a@example.com"}]');
SELECT cdp.resolve('[{"kind": "email"}]');
SELECT cdp.resolve('[{"kind": "email", "value": "a@example.com", "validated": 1}]');
SELECT cdp.resolve('[{"kind": "email", "value": "a@example.com", "validated": ""}]');
SELECT cdp.resolve('[{"kind": "email", "value": "a@example.com", "validated": "otp", "validated_at": 5}]');
SELECT cdp.resolve('[{"kind": "email", "value": "a@example.com", "outreach": "yes"}]');
SELECT cdp.resolve('[{"kind": "email", "value": "a@example.com", "slug": 5}]');
SELECT cdp.resolve('[{"kind": "phone", "value": "+33612345678", "region": 33}]');
SELECT cdp.resolve('[{"kind": "email", "value": "new@example.com"}, {"kind": "email", "value": "not-an-email"}]');
SELECT cdp.resolve('{"phone": "0612345678"}');
SELECT cdp.resolve('{"phone": "0612345678"}', NULL, 'XX');
SELECT cdp.resolve('{"uuid": "00000000-0000-0000-0000-000000000000"}');
-- none of them left anything behind
SELECT cdp.find_contact('email', 'new@example.com') AS new_email_owner,
       count(*) AS contacts FROM cdp.contacts WHERE id > :contacts_before;

--
-- Clean up: this file's rows go, kinds and sequences are put back.
--
UPDATE cdp.identifier_kinds SET slugs = ARRAY['main'] WHERE kind = 'email';
DELETE FROM cdp.identity_conflicts WHERE coalesce(contact_id, other_contact_id) > :contacts_before;
DELETE FROM cdp.merges WHERE survivor_id > :contacts_before;
DELETE FROM cdp.merge_blocks WHERE contact_a > :contacts_before;
DELETE FROM cdp.identifiers WHERE contact_id > :contacts_before;
UPDATE cdp.contacts SET merged_into = NULL WHERE id > :contacts_before;
DELETE FROM cdp.contacts WHERE id > :contacts_before;
SELECT setval('cdp.contacts_id_seq', :contacts_last, :'contacts_called') IS NOT NULL AS reset,
       setval('cdp.identifiers_id_seq', :identifiers_last, :'identifiers_called') IS NOT NULL AS reset,
       setval('cdp.merges_id_seq', :merges_last, :'merges_called') IS NOT NULL AS reset,
       setval('cdp.identity_conflicts_id_seq', :conflicts_last, :'conflicts_called') IS NOT NULL AS reset;
