-- pgTAP contracts of the identifier layer: the public functions and types
-- exist and say the truth about themselves, valid values normalise, and
-- every error path raises its SQLSTATE with its message.
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(104);

-- Objects
SELECT has_function('cdp', 'normalize_email', ARRAY['text'], 'normalize_email(text) exists');
SELECT has_function('cdp', 'normalize_phone', ARRAY['text', 'text'], 'normalize_phone(text, text) exists');
SELECT has_function('cdp', 'normalize_identifier', ARRAY['text', 'text', 'text'], 'normalize_identifier(text, text, text) exists');
SELECT has_function('cdp', 'is_valid_identifier', ARRAY['text', 'text', 'text'], 'is_valid_identifier(text, text, text) exists');
SELECT has_function('cdp', 'email_info', ARRAY['text'], 'email_info(text) exists');
SELECT has_function('cdp', 'phone_info', ARRAY['text', 'text'], 'phone_info(text, text) exists');
SELECT has_function('cdp', 'email', ARRAY['text'], 'email(text) exists');
SELECT has_function('cdp', 'phone', ARRAY['text'], 'phone(text) exists');
SELECT has_type('cdp', 'email', 'type cdp.email exists');
SELECT has_type('cdp', 'phone', 'type cdp.phone exists');
SELECT has_table('cdp', 'identifier_kinds', 'table cdp.identifier_kinds exists');
SELECT results_eq(
    $$SELECT kind FROM cdp.identifier_kinds ORDER BY priority$$,
    ARRAY['external_id', 'oauth', 'email', 'phone', 'uuid', 'anonymous'],
    'the built-in kinds, strongest first');

-- Volatility and strictness, from pg_proc
SELECT is((SELECT provolatile FROM pg_proc WHERE oid = 'cdp.normalize_email(text)'::regprocedure),
    'i', 'normalize_email is IMMUTABLE');
SELECT is((SELECT provolatile FROM pg_proc WHERE oid = 'cdp.normalize_phone(text, text)'::regprocedure),
    's', 'normalize_phone is STABLE (it reads cdp.default_region)');
SELECT is((SELECT provolatile FROM pg_proc WHERE oid = 'cdp.normalize_identifier(text, text, text)'::regprocedure),
    's', 'normalize_identifier is STABLE (it reads cdp.identifier_kinds)');
SELECT is((SELECT provolatile FROM pg_proc WHERE oid = 'cdp.is_valid_identifier(text, text, text)'::regprocedure),
    's', 'is_valid_identifier is STABLE');
SELECT is((SELECT provolatile FROM pg_proc WHERE oid = 'cdp.email_info(text)'::regprocedure),
    'i', 'email_info is IMMUTABLE');
SELECT is((SELECT provolatile FROM pg_proc WHERE oid = 'cdp.phone_info(text, text)'::regprocedure),
    's', 'phone_info is STABLE');
SELECT is((SELECT provolatile FROM pg_proc WHERE oid = 'cdp.email_in(cstring)'::regprocedure),
    'i', 'cdp.email input is IMMUTABLE');
SELECT is((SELECT provolatile FROM pg_proc WHERE oid = 'cdp.phone_in(cstring)'::regprocedure),
    's', 'cdp.phone input is STABLE (it reads cdp.default_region)');
SELECT is((SELECT proisstrict FROM pg_proc WHERE oid = 'cdp.normalize_email(text)'::regprocedure),
    true, 'normalize_email is STRICT');
SELECT is((SELECT proisstrict FROM pg_proc WHERE oid = 'cdp.normalize_phone(text, text)'::regprocedure),
    false, 'normalize_phone is not STRICT: a NULL region means the default');
SELECT is((SELECT array_agg(DISTINCT proparallel) FROM pg_proc
            WHERE pronamespace = 'cdp'::regnamespace
              AND proname IN ('normalize_email', 'normalize_phone', 'normalize_identifier',
                              'is_valid_identifier', 'email_info', 'phone_info')),
    ARRAY['s']::"char"[], 'the normalisation functions are PARALLEL SAFE');

-- Valid values
SELECT is(cdp.normalize_email('  José@Bücher.example '), 'josé@xn--bcher-kva.example', 'email: trim, case, IDNA');
SELECT is(cdp.normalize_email('J.a.n.e+news@GoogleMail.com'), 'jane@gmail.com', 'email: gmail rules');
SELECT is(cdp.normalize_email('"a@b"@example.com'), '"a@b"@example.com', 'email: "@" inside quotes');
SELECT is(cdp.normalize_phone('020 7946 0958', 'GB'), '+442079460958', 'phone: national with region');
SELECT is(cdp.normalize_phone('+1 (202) 555-0123'), '+12025550123', 'phone: international');
SELECT is(cdp.normalize_identifier('uuid', '{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}'),
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'uuid: canonical form');
SELECT is(cdp.normalize_identifier('oauth', 'Google|AbC'), 'google|AbC', 'oauth: issuer lower-cased, subject kept');
SELECT is(cdp.normalize_identifier('external_id', E'  Cafe\u0301 '), E'Caf\u00e9', 'text: trim and NFC');
SELECT is(cdp.normalize_identifier('anonymous', ' anon-1 '), 'anon-1', 'anonymous: trim');
SELECT is(cdp.normalize_identifier('email', 'Jane@Example.COM'), 'jane@example.com', 'email kind');
SELECT is(cdp.normalize_identifier('phone', '06 12 34 56 78', 'FR'), '+33612345678', 'phone kind with region');
SELECT is(cdp.is_valid_identifier('email', 'jane@example.com'), true, 'is_valid_identifier: true for a valid value');
SELECT lives_ok($$SELECT 'José@Bücher.example'::cdp.email$$, 'cdp.email input accepts a valid address');
SELECT lives_ok($$SELECT '+44 20 7946 0958'::cdp.phone$$, 'cdp.phone input accepts a valid number');
SELECT is('A@Example.com'::text::cdp.email::text, 'a@example.com', 'text -> cdp.email -> text');
SELECT results_eq(
    $$SELECT local, domain, unicode_domain, provider, role_account, normalized
        FROM cdp.email_info('Info@GoogleMail.com')$$,
    $$VALUES ('info', 'googlemail.com', 'googlemail.com', 'gmail', true, 'info@gmail.com')$$,
    'email_info parts');
SELECT results_eq(
    $$SELECT e164, country_code, region_code, number_type, valid FROM cdp.phone_info('020 7946 0958', 'GB')$$,
    $$VALUES ('+442079460958', 44, 'GB', 'fixed_line', true)$$,
    'phone_info parts');
SELECT is((SELECT valid FROM cdp.phone_info('+44 1234')), false, 'phone_info: a parseable invalid number is valid = false');

-- normalize_email errors: 22023 with the value in the message
-- Invisible formatting characters (Unicode Cf: bidi controls, zero-width
-- characters, the BOM inside a value, the soft hyphen) make a value look like
-- another: every normaliser refuses them, naming the code point.
CREATE FUNCTION pg_temp.format_detail(q text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE d text;
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN invalid_parameter_value THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN d;
END
$f$;
SELECT throws_ok($$SELECT cdp.normalize_email(E'\u202e@evil.com')$$, '22023',
    E'invalid email address: "\u202e@evil.com"', 'a right-to-left override in an email is refused');
SELECT is(pg_temp.format_detail($$SELECT cdp.normalize_email(E'jo\u200bhn@example.com')$$),
    'The value contains an invisible formatting character (U+200B).', 'a zero-width space inside an email is named');
SELECT is(pg_temp.format_detail($$SELECT cdp.normalize_email(E'john@exa\ufeffmple.com')$$),
    'The value contains an invisible formatting character (U+FEFF).', 'a BOM inside a value is refused');
SELECT is(cdp.normalize_email(E'\ufeffjohn@example.com'), 'john@example.com', 'a leading BOM is trimmed, as before');
SELECT is(pg_temp.format_detail($$SELECT cdp.normalize_identifier('external_id', E'ab\u2066c')$$),
    'The value contains an invisible formatting character (U+2066).', 'text identifiers refuse bidi isolates');
SELECT is(pg_temp.format_detail($$SELECT cdp.normalize_phone(E'+1650\u200e2530000')$$),
    'The value contains an invisible formatting character (U+200E).', 'phones refuse a left-to-right mark');
SELECT is(pg_temp.format_detail($$SELECT cdp.normalize_identifier('oauth', E'https://accounts.google.com|12\u00ad3')$$),
    'The value contains an invisible formatting character (U+00AD).', 'oauth subjects refuse a soft hyphen');
SELECT is(cdp.normalize_email('jöhn@bücher.de'), 'jöhn@xn--bcher-kva.de', 'visible non-ASCII letters stay accepted');

SELECT throws_ok($$SELECT cdp.normalize_email('a@b@c.com')$$, '22023',
    'invalid email address: "a@b@c.com"', 'two @ outside quotes is refused');
SELECT is(cdp.is_valid_identifier('email', 'a@b@c.com'), false, 'is_valid_identifier says false');
SELECT throws_ok($$SELECT cdp.normalize_email('')$$, '22023',
    'invalid email address: ""', 'empty address');
SELECT throws_ok($$SELECT cdp.normalize_email('   ')$$, '22023',
    'invalid email address: "   "', 'white space only');
SELECT throws_ok($$SELECT cdp.normalize_email('jane.example.com')$$, '22023',
    'invalid email address: "jane.example.com"', 'no @');
SELECT throws_ok($$SELECT cdp.normalize_email('"jane@example.com')$$, '22023',
    'invalid email address: ""jane@example.com"', 'unclosed quote');
SELECT throws_ok($$SELECT cdp.normalize_email('ja..ne@example.com')$$, '22023',
    'invalid email address: "ja..ne@example.com"', 'doubled dot');
SELECT throws_ok($$SELECT cdp.normalize_email('ja ne@example.com')$$, '22023',
    'invalid email address: "ja ne@example.com"', 'space outside quotes');
SELECT throws_ok(format('SELECT cdp.normalize_email(%L)', repeat('a', 65) || '@example.com'), '22023',
    format('invalid email address: "%s@example.com"', repeat('a', 65)), 'local part of 65 octets');
SELECT throws_ok(format('SELECT cdp.normalize_email(%L)', 'a@' || repeat('b', 64) || '.com'), '22023',
    format('invalid email address: "a@%s.com"', repeat('b', 64)), 'label of 64 octets');
SELECT throws_ok(format('SELECT cdp.normalize_email(%L)', 'a@' || repeat(repeat('b', 63) || '.', 3) || repeat('c', 62)),
    '22023', NULL, 'domain of 254 octets');
SELECT throws_ok(format('SELECT cdp.normalize_email(%L)', repeat('a', 1025)), '22023',
    format('invalid email address: "%s..."', repeat('a', 200)), 'overlong input, clipped in the message');
SELECT throws_ok($$SELECT cdp.normalize_email('a@xn--zz.example')$$, '22023',
    'invalid email address: "a@xn--zz.example"', 'invalid punycode');
SELECT throws_ok($$SELECT cdp.normalize_email('a@ex_ample.com')$$, '22023',
    'invalid email address: "a@ex_ample.com"', 'underscore in the domain');
SELECT throws_ok($$SELECT cdp.normalize_email(E'ja\x01ne@example.com')$$, '22023',
    E'invalid email address: "ja\x01ne@example.com"', 'control character');
SELECT throws_ok($$SELECT cdp.normalize_email('jane@example')$$, '22023',
    'invalid email address: "jane@example"', 'single-label domain');
SELECT throws_ok($$SELECT cdp.normalize_email('jane@[192.0.2.1]')$$, '22023',
    'invalid email address: "jane@[192.0.2.1]"', 'domain literal');
SELECT throws_ok($$SELECT cdp.normalize_email('+news@gmail.com')$$, '22023',
    'invalid email address: "+news@gmail.com"', 'nothing left after the provider rules');

-- normalize_phone errors
SELECT throws_ok($$SELECT cdp.normalize_phone('', 'GB')$$, '22023',
    'invalid phone number: ""', 'empty number');
SELECT throws_ok($$SELECT cdp.normalize_phone('1-800-FLOWERS', 'US')$$, '22023',
    'invalid phone number: "1-800-FLOWERS"', 'letters');
SELECT throws_ok($$SELECT cdp.normalize_phone('1', 'GB')$$, '22023',
    'invalid phone number: "1"', 'too short');
SELECT throws_ok($$SELECT cdp.normalize_phone('+44 20 7946 0958 1234567890')$$, '22023',
    'invalid phone number: "+44 20 7946 0958 1234567890"', 'too long');
SELECT throws_ok($$SELECT cdp.normalize_phone('+44 1234')$$, '22023',
    'invalid phone number: "+44 1234"', 'not valid for its region');
SELECT throws_ok($$SELECT cdp.normalize_phone('+999 1234567')$$, '22023',
    'invalid phone number: "+999 1234567"', 'unknown country code');
SELECT throws_ok($$SELECT cdp.normalize_phone('020 7946 0958')$$, '22023',
    'invalid phone number: "020 7946 0958"', 'national number without a region');
SELECT throws_ok($$SELECT cdp.normalize_phone(repeat('1', 101), 'GB')$$, '22023',
    format('invalid phone number: "%s"', repeat('1', 101)), 'longer than 100 bytes');
SELECT throws_ok($$SELECT cdp.normalize_phone('12345', 'XX')$$, '22023',
    'invalid region code: "XX"', 'region unknown to libphonenumber');
SELECT throws_ok($$SELECT cdp.normalize_phone('12345', 'usa')$$, '22023',
    'invalid region code: "usa"', 'three-letter region');
SELECT throws_ok($$SELECT cdp.normalize_phone('12345', '1')$$, '22023',
    'invalid region code: "1"', 'numeric region');
SELECT is(cdp.is_valid_identifier('phone', '12345', 'XX'), false, 'is_valid_identifier: false for a bad region');

-- normalize_identifier errors
SELECT throws_ok($$SELECT cdp.normalize_identifier('no_such_kind', 'x')$$, '42704',
    'unknown identifier kind: "no_such_kind"', 'unknown kind');
SELECT is(cdp.is_valid_identifier('no_such_kind', 'x'), false, 'is_valid_identifier: false for an unknown kind');
SELECT throws_ok($$SELECT cdp.normalize_identifier('uuid', '00000000-0000-0000-0000-000000000000')$$, '22023',
    'invalid uuid identifier: "00000000-0000-0000-0000-000000000000"', 'nil uuid');
SELECT throws_ok($$SELECT cdp.normalize_identifier('uuid', 'not-a-uuid')$$, '22023',
    'invalid uuid identifier: "not-a-uuid"', 'malformed uuid');
SELECT throws_ok($$SELECT cdp.normalize_identifier('oauth', 'google')$$, '22023',
    'invalid oauth identifier: "google"', 'oauth without |');
SELECT throws_ok($$SELECT cdp.normalize_identifier('oauth', 'google|')$$, '22023',
    'invalid oauth identifier: "google|"', 'oauth with an empty subject');
SELECT throws_ok($$SELECT cdp.normalize_identifier('external_id', '  ')$$, '22023',
    'invalid identifier: "  "', 'empty text identifier');
SELECT throws_ok($$SELECT cdp.normalize_identifier('anonymous', E'a\x01')$$, '22023',
    E'invalid anonymous identifier: "a\x01"', 'control character in an anonymous id');
SELECT throws_ok($$SELECT cdp.normalize_identifier('email', 'nope')$$, '22023',
    'invalid email address: "nope"', 'email kind refuses a bad address');
SELECT throws_ok($$SELECT cdp.normalize_identifier('phone', '123', 'GB')$$, '22023',
    'invalid phone number: "123"', 'phone kind refuses a bad number');

-- email_info and phone_info errors
SELECT throws_ok($$SELECT * FROM cdp.email_info('jane@')$$, '22023',
    'invalid email address: "jane@"', 'email_info refuses a bad address');
SELECT throws_ok($$SELECT * FROM cdp.phone_info('abc', 'GB')$$, '22023',
    'invalid phone number: "abc"', 'phone_info refuses letters');
SELECT throws_ok($$SELECT * FROM cdp.phone_info('12345', 'XX')$$, '22023',
    'invalid region code: "XX"', 'phone_info refuses an unknown region');

-- Type input and casts: 22P02
SELECT throws_ok($$SELECT 'a@b@c.com'::cdp.email$$, '22P02',
    'invalid email address: "a@b@c.com"', 'cdp.email input');
SELECT throws_ok($$SELECT 'a@b@c.com'::text::cdp.email$$, '22P02',
    'invalid email address: "a@b@c.com"', 'cast text -> cdp.email');
SELECT throws_ok($$SELECT cdp.email('')$$, '22P02',
    'invalid email address: ""', 'cdp.email(text)');
SELECT throws_ok($$SELECT 'call me'::cdp.phone$$, '22P02',
    'invalid phone number: "call me"', 'cdp.phone input');
SELECT throws_ok($$SELECT '+44 1234'::text::cdp.phone$$, '22P02',
    'invalid phone number: "+44 1234"', 'cast text -> cdp.phone');
SELECT throws_ok($$SELECT '020 7946 0958'::cdp.phone$$, '22P02',
    'invalid phone number: "020 7946 0958"', 'cdp.phone input without a default region');

-- cdp.default_region
SELECT throws_ok($$SET LOCAL cdp.default_region = 'XX'$$, '22023',
    'invalid value for parameter "cdp.default_region": "XX"', 'default_region refuses XX');
SELECT throws_ok($$SET LOCAL cdp.default_region = 'usa'$$, '22023',
    'invalid value for parameter "cdp.default_region": "usa"', 'default_region refuses usa');
SELECT lives_ok($$SET LOCAL cdp.default_region = 'GB'$$, 'default_region accepts GB');
SELECT is('020 7946 0958'::cdp.phone::text, '+442079460958', 'cdp.phone input uses the default region');
SELECT is(cdp.normalize_phone('020 7946 0958'), '+442079460958', 'normalize_phone uses the default region');

-- Uniqueness on the normalised value
CREATE TEMP TABLE tap_subscribers (email cdp.email UNIQUE);
INSERT INTO tap_subscribers VALUES ('Jane.Doe@gmail.com');
SELECT throws_ok($$INSERT INTO tap_subscribers VALUES ('janedoe+x@googlemail.com')$$, '23505',
    NULL, 'a unique cdp.email column refuses another spelling of the same address');

SELECT * FROM finish();
ROLLBACK;
