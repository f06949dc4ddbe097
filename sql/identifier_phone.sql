-- Phone normalisation: E.164 via libphonenumber, regions, cdp.default_region,
-- phone_info and every refusal.

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
-- National input with a region and international input without one give
-- the same E.164 number, for numbers of many regions.
--
SELECT region, national, cdp.normalize_phone(national, region) AS from_national,
       cdp.normalize_phone(international) AS from_international,
       cdp.normalize_phone(national, region) = cdp.normalize_phone(international) AS same
  FROM (VALUES
    ('GB', '020 7946 0958', '+44 20 7946 0958'),
    ('US', '(202) 555-0123', '+1 202-555-0123'),
    ('CA', '(416) 555-0123', '+1 416 555 0123'),
    ('FR', '06 12 34 56 78', '+33 6 12 34 56 78'),
    ('DE', '030 123456', '+49 30 123456'),
    ('JP', '03-1234-5678', '+81 3-1234-5678'),
    ('IN', '098765 43210', '+91 98765 43210'),
    ('BR', '(11) 91234-5678', '+55 11 91234-5678'),
    ('AU', '0412 345 678', '+61 412 345 678'),
    ('ES', '612 34 56 78', '+34 612 34 56 78'),
    ('IT', '06 1234 5678', '+39 06 1234 5678'),
    ('NL', '06 12345678', '+31 6 12345678'),
    ('CH', '044 668 18 00', '+41 44 668 18 00'),
    ('MX', '55 1234 5678', '+52 55 1234 5678'),
    ('ZA', '082 123 4567', '+27 82 123 4567')
  ) AS t(region, national, international);

-- phone_info for the same numbers
SELECT i.*
  FROM (VALUES
    ('020 7946 0958', 'GB'), ('(202) 555-0123', 'US'), ('06 12 34 56 78', 'FR'),
    ('030 123456', 'DE'), ('03-1234-5678', 'JP'), ('098765 43210', 'IN'),
    ('(11) 91234-5678', 'BR'), ('0412 345 678', 'AU'), ('612 34 56 78', 'ES'),
    ('06 1234 5678', 'IT'), ('06 12345678', 'NL'), ('0800 123 4567', 'GB')
  ) AS t(value, region),
  LATERAL cdp.phone_info(value, region) AS i;

-- separators, the international prefix of the region, a trunk 0 in brackets,
-- a lower-case region, an explicit "+" overriding the region, non-ASCII digits
SELECT value, region, cdp.normalize_phone(value, region)
  FROM (VALUES
    ('+44 (0)20 7946 0958', NULL),
    ('  +44-20-7946-0958  ', NULL),
    ('+44.20.7946.0958', NULL),
    ('00 44 20 7946 0958', 'FR'),
    ('011 44 20 7946 0958', 'US'),
    ('020 7946 0958', 'gb'),
    ('+33 6 12 34 56 78', 'GB'),
    ('٠٢٠ ٧٩٤٦ ٠٩٥٨', 'GB'),
    ('０２０ ７９４６ ０９５８', 'GB')
  ) AS t(value, region);

-- a number that parses but is not valid: phone_info says so instead of raising
SELECT * FROM cdp.phone_info('+44 1234');
SELECT * FROM cdp.phone_info('123', 'GB');
SELECT cdp.phone_info(NULL, 'GB') IS NULL AS null_in_null_out;
SELECT cdp.normalize_phone(NULL, 'GB') IS NULL AS null_in_null_out;

--
-- cdp.default_region
--
SELECT cdp.normalize_phone('020 7946 0958');
SET cdp.default_region = 'GB';
SHOW cdp.default_region;
SELECT cdp.normalize_phone('020 7946 0958');
SELECT cdp.normalize_phone('+1 202 555 0123');          -- "+" ignores the default
SELECT cdp.normalize_phone('06 12 34 56 78', 'FR');     -- an explicit region wins
SELECT cdp.normalize_identifier('phone', '020 7946 0958');
SELECT cdp.is_valid_identifier('phone', '020 7946 0958');
SELECT e164, region_code FROM cdp.phone_info('020 7946 0958');
SELECT '020 7946 0958'::cdp.phone;
SET cdp.default_region = 'us';
SELECT '(202) 555-0123'::cdp.phone;
SELECT '020 7946 0958'::cdp.phone;
-- bad values are refused and the setting keeps its value
SET cdp.default_region = 'XX';
SET cdp.default_region = 'usa';
SET cdp.default_region = '1';
SHOW cdp.default_region;
-- the prefix is reserved
SET cdp.no_such_setting = 'x';
-- empty means unset again
SET cdp.default_region = '';
SELECT '(202) 555-0123'::cdp.phone;
RESET cdp.default_region;
SHOW cdp.default_region;

--
-- Every refusal, with its message.
--
SELECT cdp.normalize_phone('', 'GB');
SELECT cdp.normalize_phone(E' \t\u00a0', 'GB');
SELECT cdp.normalize_phone('020 7946 0958');
SELECT cdp.normalize_phone('1-800-FLOWERS', 'US');
SELECT cdp.normalize_phone('020 7946 0958 ext. 12', 'GB');
SELECT cdp.normalize_phone('+44 20 7946 O958');         -- letter O
SELECT cdp.normalize_phone('1', 'GB');
SELECT cdp.normalize_phone('--', 'GB');
SELECT cdp.normalize_phone('+44 1');
SELECT cdp.normalize_phone('00 1', 'FR');              -- too short after the international prefix
SELECT cdp.normalize_phone('123', 'GB');
SELECT cdp.normalize_phone('+44 1234');
SELECT cdp.normalize_phone('+1 555 555 5555');
SELECT cdp.normalize_phone('+44 20 7946 0958 1234567890');
SELECT cdp.normalize_phone('+999 1234567');
SELECT cdp.normalize_phone('+');
SELECT cdp.normalize_phone(repeat('1', 101), 'GB');
SELECT cdp.normalize_phone('12345', 'XX');
SELECT cdp.normalize_phone('12345', 'usa');
SELECT cdp.normalize_phone('12345', '1');
SELECT cdp.normalize_phone('12345', '');
SELECT cdp.normalize_phone('+44 20 7946 0958', 'XX');   -- the region is checked first
SELECT * FROM cdp.phone_info('abc', 'GB');
SELECT * FROM cdp.phone_info('12345', 'XX');
SELECT * FROM cdp.phone_info('12345');
SELECT '1-800-FLOWERS'::cdp.phone;
SELECT '+44 1234'::cdp.phone;

-- control characters and garbage, as a table so they show as \xNN
SELECT label, o.*
  FROM (VALUES
    ('C0', E'020\x01 7946 0958'),
    ('C0 only', E'\x01\x02\x03\x04'),
    ('DEL', E'+44 20 7946 0958\x7F'),
    ('high Unicode', E'\U0010FFFD\U000E0001\u2603')
  ) AS t(label, value),
  LATERAL pg_temp.outcome(format('SELECT cdp.normalize_phone(%L, %L)', value, 'GB')) AS o;

-- the same inputs: 22023 as function argument, 22P02 as type input, and
-- is_valid_identifier says false without raising
SET cdp.default_region = 'GB';
SELECT label,
       (pg_temp.outcome(format('SELECT cdp.normalize_phone(%L, %L)', value, region))).state AS function,
       (pg_temp.outcome(format('SELECT cdp.normalize_identifier(%L, %L, %L)', 'phone', value, region))).state AS identifier,
       (pg_temp.outcome(format('SELECT %L::cdp.phone', value))).state AS type_input,
       cdp.is_valid_identifier('phone', value, region) AS valid
  FROM (VALUES
    ('empty', '', NULL),
    ('white space only', '   ', NULL),
    ('letters', '1-800-FLOWERS', NULL),
    ('too short', '1', NULL),
    ('not valid for GB', '123', NULL),
    ('too long', '+44 20 7946 0958 1234567890', NULL),
    ('unknown country code', '+999 1234567', NULL),
    ('control character', E'020\x01 7946 0958', NULL),
    ('high Unicode', E'\U0010FFFD\U000E0001', NULL),
    ('valid', '020 7946 0958', NULL),
    ('unknown region XX', '020 7946 0958', 'XX'),
    ('region usa', '020 7946 0958', 'usa'),
    ('region 1', '020 7946 0958', '1')
  ) AS t(label, value, region);
RESET cdp.default_region;
