-- Email normalisation: trimming, NFC, case, IDNA and provider rules.
SELECT cdp.normalize_email('  José@Bücher.example ');
SELECT cdp.normalize_email('J.a.n.e+news@GoogleMail.com');
SELECT cdp.normalize_email('a@b@c.com');

-- Runs a statement and returns its outcome as a row, so that error cases can
-- be listed in one table with their SQLSTATE (psql shows control characters
-- in table cells as \xNN escapes).
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

--
-- Trimming (ASCII white space, NBSP, zero-width space, BOM), case, NFC.
--
SELECT cdp.normalize_email(E'\u00a0\u200b\tJane@Example.COM\ufeff\r\n');
SELECT cdp.normalize_email('ÄBC.Ünïcödé@example.com');
-- decomposed input (e + U+0301) and precomposed input give the same key
SELECT cdp.normalize_email(E'Jose\u0301@example.com') = cdp.normalize_email(E'Jos\u00e9@example.com') AS nfc_equal,
       cdp.normalize_email(E'JOSE\u0301@example.com') = E'jos\u00e9@example.com' AS nfc_lower;
-- the longest local part (64 octets), label (63) and domain (253) are accepted
SELECT length(cdp.normalize_email(repeat('a', 64) || '@example.com')) AS local_64;
SELECT length(cdp.normalize_email('a@' || repeat('b', 63) || '.com')) AS label_63;
SELECT length(split_part(cdp.normalize_email('a@' || repeat(repeat('b', 63) || '.', 3) || repeat('c', 61)), '@', 2)) AS domain_253;

--
-- Quoted local parts keep their quotes (lower-cased) and an "@" inside them.
--
SELECT cdp.normalize_email('"a@b"@example.com');
SELECT cdp.normalize_email('"A b"@Example.com');
SELECT cdp.normalize_email('"a\"b"@example.com');
-- provider rules are about dot-atom mailboxes: none applies inside quotes
SELECT cdp.normalize_email('"J.Doe+x"@gmail.com');

--
-- Provider rules (validator.js normalizeEmail defaults).
--
SELECT input, cdp.normalize_email(input) AS normalized
  FROM (VALUES
    -- gmail: dots and +tag dropped, googlemail.com becomes gmail.com
    ('J.a.n.e.Doe@gmail.com'),
    ('jane.doe+news+more@gmail.com'),
    ('Jane.Doe+x@GOOGLEMAIL.COM'),
    ('jane.doe@googlemail.com'),
    -- Outlook family: +tag dropped, dots kept
    ('jane.doe+news@outlook.com'),
    ('Jane.Doe+a+b@Hotmail.co.uk'),
    ('jane.doe+x@live.com'),
    ('jane+x@msn.com'),
    ('jane+x@hotmail.de'),
    ('jane+x@passport.com'),
    -- iCloud: +tag dropped, dots kept
    ('jane.doe+shop@icloud.com'),
    ('jane.doe+shop@me.com'),
    -- Yahoo family: the last -tag dropped, dots and +tags kept
    ('jane-doe-news@yahoo.com'),
    ('jane-news@ymail.com'),
    ('jane.doe-x@rocketmail.com'),
    ('jane+x@yahoo.co.uk'),
    -- Yandex: every domain becomes yandex.ru, the local part is kept
    ('jane.doe+x@yandex.com'),
    ('jane@yandex.ua'),
    ('jane@ya.ru'),
    ('jane@yandex.kz'),
    ('jane@yandex.by'),
    -- other domains keep dots, +tags and -tags
    ('jane.doe+news@example.com'),
    ('jane.doe-news@example.com'),
    ('jane.doe+news@mail.gmail.com'),
    ('jane.doe+news@gmail.co.uk'),
    ('jane.doe+news@fastmail.com')
  ) AS t(input);

-- addresses that differ only by a provider rule share one key
SELECT count(DISTINCT cdp.normalize_email(a)) AS keys
  FROM unnest(ARRAY['janedoe@gmail.com', 'Jane.Doe@gmail.com', 'j.a.n.e.d.o.e+x@googlemail.com',
                    'JANEDOE+promo@GMAIL.com']) AS a;

-- nothing may be left of the local part
SELECT cdp.normalize_email('+news@gmail.com');
SELECT cdp.normalize_email('+news@outlook.com');
SELECT cdp.normalize_email('-news@yahoo.com');

--
-- Internationalised domains (UTS #46, non-transitional).
--
SELECT cdp.normalize_email('José@Bücher.example');
SELECT cdp.normalize_email('JOSÉ@BÜCHER.EXAMPLE');             -- upper-case Unicode
SELECT cdp.normalize_email('jose@xn--bcher-kva.example');      -- A-label input
SELECT cdp.normalize_email('jose@XN--BCHER-KVA.EXAMPLE');      -- upper-case A-label
SELECT cdp.normalize_email('a@faß.de');                         -- non-transitional: ß kept
SELECT cdp.normalize_email('a@fass.de');
SELECT cdp.normalize_email('a@例え.テスト');
SELECT cdp.normalize_email('a@ＥＸＡＭＰＬＥ.com');             -- full-width letters map
SELECT cdp.normalize_email('a@bücher。example');                -- ideographic full stop
-- invalid IDNA
SELECT cdp.normalize_email('a@xn--zz.example');                -- invalid punycode
SELECT cdp.normalize_email('a@xn--a.example');                 -- punycode of a disallowed label
SELECT cdp.normalize_email('a@-bücher.example');               -- leading hyphen
SELECT cdp.normalize_email('a@ab--cd.example');                -- hyphens in positions 3 and 4
SELECT cdp.normalize_email('a@a⁄b.example');                   -- disallowed code point
SELECT cdp.normalize_email('a@' || repeat('ü', 60) || '.example');  -- A-label over 63
-- characters outside letters, digits and hyphens are refused, not dropped
SELECT cdp.normalize_email('a@ex_ample.com');
SELECT cdp.normalize_email('a@ex ample.com');
SELECT cdp.normalize_email('a@a＿b.com');
SELECT cdp.normalize_email('a@b_ü.com');

--
-- Every refusal, with its message.
--
SELECT cdp.normalize_email('');
SELECT cdp.normalize_email('   ');
SELECT cdp.normalize_email(E'\u00a0\u200b\ufeff');
SELECT cdp.normalize_email('jane.example.com');
SELECT cdp.normalize_email('a@b@example.com');
SELECT cdp.normalize_email('"a@b"@c@example.com');
SELECT cdp.normalize_email('"jane@example.com');
SELECT cdp.normalize_email('"jane"example.com');
SELECT cdp.normalize_email('@example.com');
SELECT cdp.normalize_email('jane@');
SELECT cdp.normalize_email('.jane@example.com');
SELECT cdp.normalize_email('jane.@example.com');
SELECT cdp.normalize_email('ja..ne@example.com');
SELECT cdp.normalize_email('ja ne@example.com');
SELECT cdp.normalize_email('ja(ne)@example.com');
SELECT cdp.normalize_email(repeat('a', 65) || '@example.com');
SELECT cdp.normalize_email(repeat('é', 33) || '@example.com');  -- 66 octets
SELECT cdp.normalize_email('a@' || repeat('b', 64) || '.com');
SELECT cdp.normalize_email('a@' || repeat(repeat('b', 63) || '.', 3) || repeat('c', 62));
SELECT cdp.normalize_email(repeat('a', 1025));
-- 1024 bytes that NFC makes longer (U+0958 is 3 bytes, its NFC 6): refused, no overflow
SELECT cdp.is_valid_identifier('email', 'a@' || repeat(U&'\0958', 338) || '.example') AS nfc_grows;
SELECT octet_length('a@' || repeat(U&'\0958', 338) || '.example') AS input_octets;
SELECT cdp.normalize_email('jane@example');
SELECT cdp.normalize_email('jane@example..com');
SELECT cdp.normalize_email('jane@.example.com');
SELECT cdp.normalize_email('jane@192.0.2.1');
SELECT cdp.normalize_email('jane@[192.0.2.1]');
SELECT cdp.normalize_email(E'\U0010FFFD\U000E0001\u2603\U0001F600');  -- high Unicode, no "@"

-- Control characters and garbage, as a table so they show as \xNN.
SELECT label, o.*
  FROM (VALUES
    ('C0 in local part', E'ja\x01ne@example.com'),
    ('C0 only', E'\x01\x02\x03\x04\x05\x06\x07\x08'),
    ('DEL in domain', E'jane@exa\x7Fmple.com'),
    ('C0 in quotes', E'"a\x01b"@example.com'),
    ('C1 in local part', E'j\u0085ne@example.com'),
    ('C0 with Unicode', E'jos\u00e9\x02@example.com'),
    ('garbage', E'\x1B[31m\x7F\x0E\x0F\x10\x1F')
  ) AS t(label, value),
  LATERAL pg_temp.outcome(format('SELECT cdp.normalize_email(%L)', value)) AS o;

-- The same inputs as type input raise 22P02, as function argument 22023,
-- and is_valid_identifier says false without raising.
SELECT label,
       (pg_temp.outcome(format('SELECT cdp.normalize_email(%L)', value))).state AS function,
       (pg_temp.outcome(format('SELECT %L::cdp.email', value))).state AS type_input,
       (pg_temp.outcome(format('SELECT %L::text::cdp.email', value))).state AS text_cast,
       cdp.is_valid_identifier('email', value) AS valid
  FROM (VALUES
    ('empty', ''),
    ('white space only', E' \t\u00a0'),
    ('no @', 'jane.example.com'),
    ('two @ outside quotes', 'a@b@example.com'),
    ('quote not followed by @', '"jane"example.com'),
    ('local part of 65 octets', repeat('a', 65) || '@example.com'),
    ('label of 64 octets', 'a@' || repeat('b', 64) || '.com'),
    ('domain of 254 octets', 'a@' || repeat(repeat('b', 63) || '.', 3) || repeat('c', 62)),
    ('invalid punycode', 'a@xn--zz.example'),
    ('underscore in domain', 'a@ex_ample.com'),
    ('control character', E'ja\x01ne@example.com'),
    ('high Unicode garbage', E'\U0010FFFD\U000E0001'),
    ('nothing left after +tag', '+x@gmail.com'),
    ('domain literal', 'jane@[192.0.2.1]'),
    ('single-label domain', 'jane@example'),
    ('valid: @ inside quotes', '"a@b"@example.com'),
    ('valid: IDNA', 'José@Bücher.example')
  ) AS t(label, value);

--
-- email_info
--
SELECT * FROM cdp.email_info('  Info@Bücher.example ');
SELECT * FROM cdp.email_info('J.Doe+news@GoogleMail.com');
SELECT * FROM cdp.email_info('jane+x@hotmail.co.uk');
SELECT * FROM cdp.email_info('jane-x@yahoo.com');
SELECT * FROM cdp.email_info('jane+x@me.com');
SELECT * FROM cdp.email_info('jane@ya.ru');
SELECT * FROM cdp.email_info('"No-Reply"@example.com');
SELECT * FROM cdp.email_info('postmaster@例え.テスト');
SELECT local, role_account FROM cdp.email_info('NoReply@example.com');
SELECT cdp.email_info(NULL) IS NULL AS strict;
SELECT * FROM cdp.email_info('jane@');
SELECT * FROM cdp.email_info('a@xn--zz.example');
