-- Identifier kinds: the built-in catalog and cdp.normalize_identifier for
-- every normaliser (text, oauth, email, phone, uuid, anonymous).

SELECT kind, title, normalizer, slugs, max_per_contact, priority, matchable,
       blocked_values, blocked_patterns
  FROM cdp.identifier_kinds ORDER BY priority;

--
-- One value of every built-in kind.
--
SELECT kind, value, cdp.normalize_identifier(kind, value, region) AS normalized,
       cdp.is_valid_identifier(kind, value, region) AS valid
  FROM (VALUES
    ('external_id', '  CRM-0042  ', NULL),
    ('external_id', E'Cafe\u0301 42', NULL),
    ('oauth', ' https://Accounts.Google.com|10769150350006150715113082367 ', NULL),
    ('email', ' Jane.Doe+news@GoogleMail.com ', NULL),
    ('phone', '020 7946 0958', 'GB'),
    ('phone', '+33 6 12 34 56 78', NULL),
    ('uuid', '{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}', NULL),
    ('anonymous', ' anon-7f3e ', NULL)
  ) AS t(kind, value, region);

-- text and anonymous: trim and NFC, case kept
SELECT cdp.normalize_identifier('external_id', E'\u00a0 Abc-1 \t') AS trimmed,
       cdp.normalize_identifier('external_id', E'Cafe\u0301') = E'Caf\u00e9' AS nfc,
       cdp.normalize_identifier('anonymous', E'Ame\u0301lie') = E'Am\u00e9lie' AS nfc_anonymous,
       length(cdp.normalize_identifier('external_id', repeat('x', 2048))) AS longest;

-- uuid: canonical lower-case 8-4-4-4-12 from braces, bare digits, upper case
SELECT value, cdp.normalize_identifier('uuid', value)
  FROM (VALUES
    ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
    ('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'),
    ('{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'),
    ('a0eebc999c0b4ef8bb6d6bb9bd380a11'),
    ('  A0EEBC999C0B4EF8BB6D6BB9BD380A11  '),
    ('00000000-0000-0000-0000-000000000001')
  ) AS t(value);
-- and the same text as PostgreSQL's uuid type
SELECT cdp.normalize_identifier('uuid', '{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}')
       = '{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}'::uuid::text AS same_as_uuid_type;

-- oauth: issuer trimmed and lower-cased, subject kept exactly
SELECT value, cdp.normalize_identifier('oauth', value)
  FROM (VALUES
    ('Google|AbC-123'),
    ('  HTTPS://Login.Example.com/  |  Subject With Spaces'),
    ('apple|a|b|c')
  ) AS t(value);

--
-- Every refusal, with its message.
--
SELECT cdp.normalize_identifier('no_such_kind', 'x');
SELECT cdp.normalize_identifier('uuid', '00000000-0000-0000-0000-000000000000');
SELECT cdp.normalize_identifier('uuid', '{00000000000000000000000000000000}');
SELECT cdp.normalize_identifier('uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1');
SELECT cdp.normalize_identifier('uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g');
SELECT cdp.normalize_identifier('uuid', 'a0eebc999-c0b-4ef8-bb6d-6bb9bd380a11');
SELECT cdp.normalize_identifier('uuid', '');
SELECT cdp.normalize_identifier('oauth', 'google');
SELECT cdp.normalize_identifier('oauth', '|abc');
SELECT cdp.normalize_identifier('oauth', 'google|');
SELECT cdp.normalize_identifier('oauth', '   ');
SELECT cdp.normalize_identifier('oauth', repeat('x', 2049) || '|a');
SELECT cdp.normalize_identifier('external_id', '');
SELECT cdp.normalize_identifier('external_id', '   ');
SELECT cdp.normalize_identifier('external_id', repeat('x', 2049));
SELECT cdp.normalize_identifier('anonymous', E'\u00a0');
SELECT cdp.normalize_identifier('email', 'jane.example.com');
SELECT cdp.normalize_identifier('phone', '020 7946 0958');
SELECT cdp.normalize_identifier('phone', '020 7946 0958', 'XX');

-- control characters, as a table so they show as \xNN
CREATE FUNCTION pg_temp.outcome(query text,
    OUT state text, OUT message text, OUT detail text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    state := '00000';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL;
END
$$;
SELECT kind, o.*
  FROM (VALUES
    ('external_id', E'a\tb'),
    ('anonymous', E'anon\x01'),
    ('oauth', E'google|a\x01'),
    ('uuid', E'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1\x01')
  ) AS t(kind, value),
  LATERAL pg_temp.outcome(format('SELECT cdp.normalize_identifier(%L, %L)', kind, value)) AS o;

-- is_valid_identifier says false for each, also for an unknown kind
SELECT kind, value, cdp.is_valid_identifier(kind, value) AS valid
  FROM (VALUES
    ('no_such_kind', 'x'),
    ('uuid', '00000000-0000-0000-0000-000000000000'),
    ('uuid', 'not-a-uuid'),
    ('oauth', 'google'),
    ('oauth', 'google|'),
    ('external_id', ''),
    ('external_id', E'a\tb'),
    ('anonymous', '   '),
    ('email', 'jane.example.com'),
    ('phone', '020 7946 0958')
  ) AS t(kind, value);

-- NULL in, NULL out (false for is_valid_identifier)
SELECT cdp.normalize_identifier(NULL, 'x') IS NULL AS null_kind,
       cdp.normalize_identifier('email', NULL) IS NULL AS null_value,
       cdp.is_valid_identifier('email', NULL) AS valid_null_value,
       cdp.is_valid_identifier(NULL, 'x') AS valid_null_kind;

--
-- Kinds an administrator adds use their normaliser.
--
INSERT INTO cdp.identifier_kinds (kind, title, normalizer, priority)
VALUES ('work_email', 'Work email', 'email', 7),
       ('loyalty_card', 'Loyalty card', 'text', 8);
SELECT cdp.normalize_identifier('work_email', 'J.Doe+x@GMAIL.com'),
       cdp.normalize_identifier('loyalty_card', ' LC-0001 '),
       cdp.is_valid_identifier('work_email', 'not an address');
SELECT cdp.normalize_identifier('work_email', 'not an address');
-- the catalog's constraints
INSERT INTO cdp.identifier_kinds (kind, title, normalizer, priority)
VALUES ('Bad Kind', 'x', 'text', 9);
INSERT INTO cdp.identifier_kinds (kind, title, normalizer, priority)
VALUES ('fax', 'Fax', 'fax', 9);
INSERT INTO cdp.identifier_kinds (kind, title, normalizer, priority, slugs)
VALUES ('fax', 'Fax', 'phone', 9, ARRAY['home']);
INSERT INTO cdp.identifier_kinds (kind, title, normalizer, priority, max_per_contact)
VALUES ('fax', 'Fax', 'phone', 9, 0);
INSERT INTO cdp.identifier_kinds (kind, title, normalizer, priority)
VALUES ('email', 'Email again', 'email', 9);
DELETE FROM cdp.identifier_kinds WHERE kind IN ('work_email', 'loyalty_card');
SELECT cdp.normalize_identifier('work_email', 'jane@example.com');
