-- corpus.sql: builds hostile.corpus, the hostile input values of issue 11, from
-- values.txt (psql's standard input: psql -f corpus.sql <values.txt) and from
-- generators; deterministic.
--
-- Categories: the hand-written ones of values.txt (empty, injection, slug,
-- email, phone, number, json, segment, view) and the generated ones:
-- injection (every string breaker x every payload), unicode (format, combining,
-- 4-byte, homoglyph and space characters in seven contexts), overlong (up to
-- 1M characters), nesting (parentheses, not, JSON depth) and number (powers of
-- two at the integer edges).  Duplicates keep their first occurrence.
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS hostile;

CREATE TABLE hostile.lines (n serial, line text);
\copy hostile.lines (line) FROM pstdin WITH (FORMAT csv, DELIMITER E'\x1f', QUOTE E'\x1e')

CREATE TABLE hostile.staged (ord bigint, category text, v text);

-- values.txt: a JSON string per line, "## x" starts category x
INSERT INTO hostile.staged
SELECT l.n, h.line, l.line::jsonb #>> '{}'
  FROM (SELECT n, line, max(n) FILTER (WHERE line LIKE '## %') OVER (ORDER BY n) AS hdr
          FROM hostile.lines WHERE line IS NOT NULL) l
  JOIN (SELECT n, substr(line, 4) AS line FROM hostile.lines WHERE line LIKE '## %') h ON h.n = l.hdr
 WHERE l.line ~ '^"';

-- injection: a string breaker, then a payload; or a breaker and a tautology
INSERT INTO hostile.staged
SELECT 100000 + b.o * 100 + p.o, 'injection', b.s || '; ' || p.s || '; --'
  FROM unnest(ARRAY['''', '''''', '"', ''')', '''))', '")', '$$', '$$)', '$q$', '*/', ')', '\''', '%L', '1',
                    'x''', 'x")', ''']', '''}', ''')::text', '''::cdp.segment)'])
       WITH ORDINALITY b(s, o),
       unnest(ARRAY['DROP TABLE cdp.contacts', 'DROP SCHEMA cdp CASCADE', 'DELETE FROM hostile.canary',
                    'UPDATE hostile.canary SET x = 0', 'TRUNCATE hostile.canary', 'SELECT hostile.pwned()',
                    'CREATE TABLE hostile.owned ()', 'INSERT INTO hostile.canary VALUES (2)',
                    'ALTER TABLE cdp.contacts RENAME TO c2', 'DROP TABLE hostile.canary'])
       WITH ORDINALITY p(s, o);
INSERT INTO hostile.staged
SELECT 103000 + b.o, 'injection', b.s || ' OR hostile.pwned() IS NULL OR ' || b.s
  FROM unnest(ARRAY['''', '"', ')', ''')', '$$', '1']) WITH ORDINALITY b(s, o);

-- unicode: a character alone and in the contexts of an email, a slug, a tag
-- path, a segment literal and a phone number
INSERT INTO hostile.staged
SELECT 200000 + c.o * 10 + x.o, 'unicode', replace(x.s, '#', c.s)
  FROM unnest(ARRAY[
        chr(x'202A'::int), chr(x'202B'::int), chr(x'202C'::int), chr(x'202D'::int), chr(x'202E'::int),
        chr(x'2066'::int), chr(x'2067'::int), chr(x'2068'::int), chr(x'2069'::int), chr(x'200E'::int),
        chr(x'200F'::int), chr(x'061C'::int), chr(x'200B'::int), chr(x'200C'::int), chr(x'200D'::int),
        chr(x'2060'::int), chr(x'FEFF'::int), chr(x'00AD'::int), chr(x'180E'::int), chr(x'034F'::int),
        chr(x'0301'::int), chr(x'0308'::int), chr(x'20DD'::int), chr(x'FE0F'::int), chr(x'E0001'::int),
        chr(x'E0041'::int), chr(x'1F600'::int), chr(x'1F469'::int) || chr(x'200D'::int) || chr(x'1F4BB'::int),
        chr(x'1D400'::int), chr(x'10FFFF'::int), chr(x'10FFFD'::int), chr(x'E000'::int), chr(x'FFFD'::int),
        chr(x'FFFE'::int), chr(x'FFFF'::int), chr(x'FDD0'::int), chr(x'2028'::int), chr(x'00A0'::int),
        chr(x'3000'::int), chr(x'1680'::int), chr(x'0430'::int), chr(x'03BF'::int), chr(x'FF41'::int),
        chr(x'0131'::int), chr(x'0130'::int), chr(x'212A'::int), chr(x'1E9E'::int), chr(x'FB01'::int),
        chr(x'0085'::int), chr(x'001B'::int)]) WITH ORDINALITY c(s, o),
       unnest(ARRAY['#', 'a#@example.com', 'a@exam#ple.com', '#a@example.com', 'a@example.com#',
                    'gold#', 'Tech#nology/AI', '+1650#2530000']) WITH ORDINALITY x(s, o);
-- normalisation forms: precomposed and decomposed, compatibility characters
INSERT INTO hostile.staged
SELECT 290000 + o, 'unicode', s FROM unnest(ARRAY[
        'caf' || chr(x'E9'::int) || '@example.com', 'cafe' || chr(x'0301'::int) || '@example.com',
        'a@caf' || chr(x'E9'::int) || '.com', 'a@cafe' || chr(x'0301'::int) || '.com',
        chr(x'D55C'::int), chr(x'1112'::int) || chr(x'1161'::int) || chr(x'11AB'::int),
        chr(x'212B'::int), chr(x'00C5'::int), 'A' || chr(x'030A'::int),
        'e' || repeat(chr(x'0301'::int), 1000), 'a@' || repeat(chr(x'0301'::int), 100) || '.com',
        'Caf' || chr(x'E9'::int) || '/Cr' || chr(x'E8'::int) || 'me', 'Cafe' || chr(x'0301'::int) || '/Cre' || chr(x'0300'::int) || 'me',
        chr(x'0410'::int) || 'cme', 'p' || chr(x'0430'::int) || 'ypal@example.com', 'a@p' || chr(x'0430'::int) || 'ypal.com',
        'a@xn--80ak6aa92e.com', 'a@' || chr(x'FF0E'::int) || 'com', 'a' || chr(x'FF20'::int) || 'example.com',
        'a@example' || chr(x'3002'::int) || 'com', 'a@example' || chr(x'FF61'::int) || 'com',
        repeat(chr(x'202E'::int), 100), chr(x'202E'::int) || 'gold' || chr(x'202C'::int),
        'tag ''VIP' || chr(x'202E'::int) || '''', 'customer.' || chr(x'200B'::int) || 'tier = ''gold''',
        '"' || chr(x'202E'::int) || '".tier = ''x''', chr(x'1F600'::int) || '@' || chr(x'1F600'::int) || '.com',
        'a@' || repeat(chr(x'1F600'::int), 63) || '.com', chr(x'10FFFF'::int) || '@example.com'])
       WITH ORDINALITY u(s, o);

-- overlong strings
INSERT INTO hostile.staged
SELECT 300000 + o, 'overlong', s FROM unnest(ARRAY[
        repeat('a', 63), repeat('a', 64), repeat('a', 65), repeat('a', 254), repeat('a', 255), repeat('a', 256),
        repeat('a', 1024), repeat('a', 8191), repeat('a', 8192), repeat('a', 10000), repeat('a', 65535),
        repeat('a', 65536), repeat('a', 65537), repeat('a', 100000), repeat('a', 1000000),
        repeat(chr(x'E9'::int), 100000), repeat(chr(x'1F600'::int), 262144), repeat('''', 10000), repeat('"', 10000),
        repeat('\', 10000), repeat('%', 10000), repeat('$', 10000), repeat(' ', 100000),
        repeat('a', 64) || '@example.com', repeat('a', 65) || '@example.com', 'a@' || repeat('b', 63) || '.com',
        'a@' || repeat('b', 64) || '.com', 'a@' || repeat('b.', 127) || 'com', 'a@' || repeat('b.', 5000) || 'com',
        repeat('a', 10000) || '@example.com', repeat('a', 1000000) || '@example.com',
        '+1' || repeat('6', 10000), '+' || repeat('1', 16), repeat('a/', 100) || 'a', repeat('a/', 1000) || 'a',
        repeat('/', 10000), repeat('A', 55), repeat('a', 56), repeat('a', 54), repeat(chr(x'E9'::int), 32),
        'tag ''' || repeat('x', 65536) || '''', 'tag ''' || repeat('x', 70000) || '''',
        'customer.' || repeat('t', 63) || ' = 1', 'customer.' || repeat('t', 64) || ' = 1',
        'customer.ltv = ' || repeat('9', 100), 'customer.ltv = ' || repeat('9', 101),
        'customer.ltv = 0.' || repeat('0', 98) || '1',
        'customer.tier in (' || (SELECT string_agg(quote_literal(g::text), ', ') FROM generate_series(1, 1000) g) || ')',
        'customer.tier in (' || (SELECT string_agg(quote_literal(g::text), ', ') FROM generate_series(1, 1001) g) || ')',
        (SELECT string_agg('tag ''x' || g || '''', ' and ') FROM generate_series(1, 4096) g),
        (SELECT string_agg('tag ''x' || g || '''', ' and ') FROM generate_series(1, 5000) g),
        (SELECT string_agg('event ''e' || g || ''' count >= 1 within 1 days', ' or ') FROM generate_series(1, 300) g),
        (SELECT string_agg('in segment ''gold''', ' and ') FROM generate_series(1, 500) g),
        (SELECT string_agg('organization under ''acme''', ' or ') FROM generate_series(1, 500) g)])
       WITH ORDINALITY u(s, o);

-- nesting: parentheses, not, organization( ), JSON depth
INSERT INTO hostile.staged
SELECT 400000 + o, 'nesting', s FROM unnest(ARRAY[
        repeat('(', 63) || 'tag ''x''' || repeat(')', 63), repeat('(', 64) || 'tag ''x''' || repeat(')', 64),
        repeat('(', 65) || 'tag ''x''' || repeat(')', 65), repeat('(', 10000) || 'tag ''x''' || repeat(')', 10000),
        repeat('(', 100000), repeat(')', 100000), repeat('not ', 64) || 'tag ''x''', repeat('not ', 65) || 'tag ''x''',
        repeat('not ', 100000) || 'tag ''x''',
        repeat('organization(', 10) || 'organization.name = ''x''' || repeat(')', 10),
        repeat('document invoice (', 10) || 'invoice.total > 1' || repeat(')', 10),
        repeat('[', 100) || repeat(']', 100), repeat('[', 10000) || repeat(']', 10000), repeat('[', 10000),
        repeat('{"a":', 10000) || '1' || repeat('}', 10000), repeat('{"a":', 100) || '1' || repeat('}', 100),
        repeat('{"type":"not","item":', 63) || '{"type":"tag","path":"VIP"}' || repeat('}', 63),
        repeat('{"type":"not","item":', 65) || '{"type":"tag","path":"VIP"}' || repeat('}', 65),
        repeat('{"type":"not","item":', 5000) || '{"type":"tag","path":"VIP"}' || repeat('}', 5000),
        '{"type":"group","operator":"or","items":[' ||
            (SELECT string_agg('{"type":"tag","path":"t' || g || '"}', ',') FROM generate_series(1, 5000) g) || ']}',
        '{"batch":[' || (SELECT string_agg('{"type":"identify","userId":"n' || g || '"}', ',') FROM generate_series(1, 100) g) || ']}',
        '{"email":[' || (SELECT string_agg('"e' || g || '@example.com"', ',') FROM generate_series(1, 100) g) || ']}',
        '{' || (SELECT string_agg('"k' || g || '":' || g, ',') FROM generate_series(1, 5000) g) || '}',
        '[' || (SELECT string_agg('{"slug":"a' || g || '","type":"text"}', ',') FROM generate_series(1, 100) g) || ']'])
       WITH ORDINALITY u(s, o);

-- numbers at the edges of integer types, in decimal
INSERT INTO hostile.staged
SELECT 500000 + row_number() OVER (ORDER BY k, d, sgn), 'number', (sgn * (trunc(2::numeric ^ k) + d))::text
  FROM unnest(ARRAY[7, 8, 15, 16, 31, 32, 53, 63, 64, 127]) k, unnest(ARRAY[-1, 0, 1]) d, unnest(ARRAY[1, -1]) sgn;

CREATE TABLE hostile.corpus (id integer PRIMARY KEY, category text NOT NULL, v text NOT NULL, jsonb_ok boolean);
INSERT INTO hostile.corpus (id, category, v)
SELECT row_number() OVER (ORDER BY ord), category, v
  FROM (SELECT DISTINCT ON (md5(v)) ord, category, v FROM hostile.staged WHERE v IS NOT NULL ORDER BY md5(v), ord) d;

-- whether a value is also valid JSON (it is then fed to jsonb arguments as it is)
CREATE FUNCTION hostile.is_jsonb(v text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM v::jsonb;
    RETURN true;
EXCEPTION WHEN OTHERS THEN
    RETURN false;
END $$;
UPDATE hostile.corpus SET jsonb_ok = hostile.is_jsonb(v);
DROP TABLE hostile.lines, hostile.staged;
ANALYZE hostile.corpus;
