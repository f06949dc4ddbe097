-- The demo's first step: messy identifiers as they arrive from a CRM, a
-- shop, a point of sale and an app, and what cdp makes of them.
\pset footer off
CREATE EXTENSION cdp;
SET cdp.default_region = 'GB';

\echo
\echo 'Messy emails, normalised to their matching key:'
SELECT input AS "input", cdp.normalize_email(input) AS "normalized",
       (cdp.email_info(input)).provider AS "provider"
  FROM (VALUES ('  Jane.Doe+newsletter@GoogleMail.com '),
               ('JANE.DOE@gmail.com'),
               ('José@Bücher.example'),
               ('bob+shop@Outlook.com'),
               ('alice-promo@yahoo.co.uk'),
               ('ivan@ya.ru'),
               ('"Odd Person"@Example.org')) AS t(input);

\echo
\echo 'Messy phone numbers, normalised to E.164 (default region GB):'
SELECT input AS "input", region AS "region",
       cdp.normalize_phone(input, region) AS "e164",
       (cdp.phone_info(input, region)).number_type AS "type"
  FROM (VALUES ('020 7946 0958', NULL),
               ('+44 (0)20-7946-0958', NULL),
               ('07911 123456', NULL),
               ('(650) 253-0000', 'US'),
               ('06 12 34 56 78', 'FR'),
               ('030 1234567', 'DE'),
               ('+81 3-1234-5678', NULL)) AS t(input, region);

\echo
\echo 'And what is refused, with the reason (is_valid_identifier never raises):'
SELECT kind AS "kind", input AS "input", cdp.is_valid_identifier(kind, input, 'GB') AS "valid"
  FROM (VALUES ('email', 'jane@@example.com'),
               ('email', 'no-at-sign.example.com'),
               ('phone', '0800-FLOWERS'),
               ('phone', '12'),
               ('uuid', '00000000-0000-0000-0000-000000000000')) AS t(kind, input);
