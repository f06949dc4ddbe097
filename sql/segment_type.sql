-- The cdp.segment type: canonical output of every grammar production, text
-- and binary round trips, and every syntax, limit and binary-input error.
SET search_path = public, cdp;

-- The SQLSTATE, message and detail of an error, or the canonical text.
CREATE FUNCTION pg_temp.seg(definition text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text;
    msg text;
    det text;
BEGIN
    RETURN definition::cdp.segment::text;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN 'ERROR ' || st || ': ' || msg || CASE WHEN det <> '' THEN ' DETAIL: ' || det ELSE '' END;
END $$;

CREATE TEMP TABLE cases (n serial, definition text);
INSERT INTO cases (definition) VALUES
-- the example of DESIGN §7
('customer.tier = ''gold'' and interests under ''sports'' and organization(company.industry = ''retail'') and not tag ''Churned'' and event ''purchase'' count >= 3 within 30 days'),
-- every comparison operator; <> is printed !=
('customer.tier = ''gold'''),
('customer.tier != ''gold'''),
('customer.tier <> ''gold'''),
('customer.age < 30'),
('customer.age <= 30'),
('customer.age > -2.5'),
('customer.age >= 1e3'),
('customer.score = -12.5E+3'),
('customer.vip = true'),
('customer.vip = FALSE'),
('customer.born < now()'),
('customer.born < now() - interval ''30 days'''),
('customer.renews > NOW ( ) + INTERVAL ''1 year'''),
('customer.tier=''gold''and customer.age>=18'),
-- IN, BETWEEN, NULL, LIKE, ILIKE, CONTAINS, each with and without NOT
('customer.tier in (''gold'', ''silver'', 3, true, now())'),
('customer.tier not in (''bronze'')'),
('customer.age between 18 and 65'),
('customer.age not between 18 and 65'),
('customer.born between now() - interval ''1 year'' and now()'),
('customer.tier is null'),
('customer.tier is not null'),
('contact.family_name like ''Sm%'''),
('contact.family_name not like ''Sm%'''),
('contact.family_name ilike ''sm%'''),
('contact.family_name not ilike ''sm%'''),
('customer.hobbies contains ''chess'''),
('customer.lucky_numbers contains 7'),
-- tags and taxonomies
('tag ''VIP'''),
('tag under ''Technology'''),
('interests is ''music'''),
('interests under ''sports'''),
('"Interests" under ''sports'''),
('"tag" is ''x'''),
-- profiles and identifier kinds
('has profile customer'),
('has profile "Customer Profile"'),
('has email'),
('has validated email'),
('has "validated"'),
-- organizations and documents
('organization(company.industry = ''retail'' and company.size > 100)'),
('organization (organization.name = ''Acme'')'),
('organization.name = ''Acme'''),
('company.industry = ''retail'''),
('organization under ''acme'''),
('document invoice'),
('document invoice (invoice.total > 100 and invoice.status = ''paid'')'),
('document.total > 1'),
('contact.given_name = ''Ann'''),
-- events with every option
('event ''purchase'''),
('event ''purchase'' where (properties.amount > 5)'),
('event ''purchase'' count >= 3'),
('event ''purchase'' count = 0'),
('event ''purchase'' within 30 days'),
('event ''purchase'' within 1 day'),
('event ''login'' within 12 hours'),
('event ''login'' within 1 HOUR'),
('event ''purchase'' where (properties.amount > 5 and properties."Shop Name" = ''x'') count < 10 within 7 days'),
('event ''purchase'' where (properties.count > 1)'),
-- segments
('in segment ''vip'''),
('not in segment ''vip'''),
-- keywords in any case, names kept as written
('CUSTOMER.Tier = ''gold'' AND Tag ''x'' oR NoT HAS VALIDATED email'),
('ORGANIZATION.name = ''Acme'' and Document.total > 1'),
-- precedence: NOT binds tighter than AND, AND tighter than OR
('tag ''a'' or tag ''b'' and tag ''c'''),
('(tag ''a'' or tag ''b'') and tag ''c'''),
('tag ''a'' and (tag ''b'' or tag ''c'') and tag ''d'''),
('not tag ''a'' and tag ''b'''),
('not (tag ''a'' and tag ''b'')'),
('not (tag ''a'' or tag ''b'')'),
('not not tag ''a'''),
('((tag ''a''))'),
('(tag ''a'' and tag ''b'') and (tag ''c'' and tag ''d'')'),
('tag ''a'' or (tag ''b'' or tag ''c'')'),
('organization(company.a = 1 or company.b = 2) and not organization(company.c = 3)'),
-- quotes, backslashes and injection attempts inside literals and names
('tag ''it''''s'''),
('tag ''C:\temp\'''),
('in segment ''a"b'''),
('"we""ird".x = 1'),
('tag '''''');  drop table cdp.contacts; --'''),
('customer.tier = '''''');  drop table cdp.contacts; --'''),
('tag ''ünïcödé'' and customer.name = ''日本'''),
-- 64 levels of nesting are allowed
(repeat('(', 64) || 'tag ''x''' || repeat(')', 64)),
(repeat('not ', 64) || 'tag ''x''');

SELECT n, pg_temp.seg(definition) FROM cases ORDER BY n;

-- The canonical text reads back to itself.
SELECT count(*) AS stable
  FROM cases
 WHERE definition::cdp.segment::text::cdp.segment::text = definition::cdp.segment::text;
SELECT count(*) AS cases FROM cases;

-- The binary form: a version byte, then the preorder encoding.
SELECT cdp.segment_send('tag ''x''') AS tag,
       cdp.segment_send('customer.tier != ''a'' or not has validated email') AS tree;

-- Binary COPY out and back in: receive checks and keeps every value.
CREATE TEMP TABLE segs (n int, s cdp.segment);
INSERT INTO segs SELECT n, definition::cdp.segment FROM cases;
CREATE TEMP TABLE segs_back (n int, s cdp.segment);
DO $$
DECLARE
    f text := '/tmp/cdp_segment_type_' || pg_backend_pid() || '.bin';
BEGIN
    EXECUTE format('COPY segs TO %L WITH (FORMAT binary)', f);
    EXECUTE format('COPY segs_back FROM %L WITH (FORMAT binary)', f);
END $$;
SELECT count(*) AS copied,
       count(*) FILTER (WHERE a.s::text = b.s::text
                          AND cdp.segment_send(a.s) = cdp.segment_send(b.s)) AS equal
  FROM segs a JOIN segs_back b USING (n);

-- Bad binary input: each value below is sent as a cdp.segment through a
-- binary COPY (a bytea field carries its bytes unchanged).
CREATE TEMP TABLE recv_in (b bytea);
CREATE TEMP TABLE recv_out (s cdp.segment);
CREATE FUNCTION pg_temp.recv(bytes bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    f text := '/tmp/cdp_segment_recv_' || pg_backend_pid() || '.bin';
    result text;
    st text;
    msg text;
    det text;
BEGIN
    TRUNCATE recv_in, recv_out;
    INSERT INTO recv_in VALUES (bytes);
    EXECUTE format('COPY recv_in TO %L WITH (FORMAT binary)', f);
    EXECUTE format('COPY recv_out FROM %L WITH (FORMAT binary)', f);
    SELECT s::text INTO result FROM recv_out;
    RETURN result;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN 'ERROR ' || st || ': ' || msg || CASE WHEN det <> '' THEN ' DETAIL: ' || det ELSE '' END;
END $$;

SELECT what, pg_temp.recv(bytes)
  FROM (VALUES
    ('valid: tag x', '\x010a00000178'::bytea),
    ('valid: and of two tags', '\x01010000020a000001780a02000179'),
    ('empty', '\x'),
    ('unknown version', '\x020a00000178'),
    ('unknown node kind', '\x01ff0000'),
    ('unknown operator', '\x010a0009'),
    ('flag on a node without one', '\x01030100' || '\x0a00000178'::bytea),
    ('string runs past the end', '\x010a00000578'),
    ('ends early', '\x010a0000'),
    ('trailing bytes', '\x010a0000017800'),
    ('and with one child', '\x0101000001' || '\x0a00000178'::bytea),
    ('or directly inside or', '\x0102000002' || '\x020000020a000001610a00000162'::bytea || '\x0a00000163'::bytea),
    ('NUL in a string', '\x010a00000100'),
    ('overlong varint', '\x010a0000810078'),
    ('not valid UTF-8', '\x010a000001ff'),
    ('like with a number', '\x010800000161016201020131'),
    ('empty name', '\x010c000000'),
    ('event within zero', '\x011100000178000100'),
    ('nesting too deep', ('\x01' || repeat('030000', 65) || '0a00000178')::bytea),
    ('64 levels of not', ('\x01' || repeat('030000', 64) || '0a00000178')::bytea)
  ) AS t(what, bytes);

-- A stored value that does not decode (made here by a binary-coercible cast
-- from bytea, which nothing in cdp offers) is reported as corrupt.
CREATE CAST (bytea AS cdp.segment) WITHOUT FUNCTION;
CREATE FUNCTION pg_temp.stored(bytes bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text;
    msg text;
    det text;
BEGIN
    RETURN bytes::cdp.segment::text;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN 'ERROR ' || st || ': ' || msg || CASE WHEN det <> '' THEN ' DETAIL: ' || det ELSE '' END;
END $$;
SELECT pg_temp.stored('\x010a00000178') AS valid,
       pg_temp.stored('\x020a00000178') AS version,
       pg_temp.stored('\x010a000009') AS truncated;
DROP CAST (bytea AS cdp.segment);

-- Syntax errors name the character (not byte) position, what was expected
-- and what was found; limits raise 54000 and 54001.
TRUNCATE cases;
INSERT INTO cases (definition) VALUES
-- empty input
(''),
('   '),
-- unbalanced parentheses
('(tag ''x'''),
('tag ''x'')'),
('((customer.age > 1)'),
('organization(company.a = 1'),
('()'),
-- unknown keywords and misplaced words
('frobnicate ''x'''),
('tags ''VIP'''),
('customer.tier foo ''x'''),
('tier = ''gold'''),
('and tag ''x'''),
('tag ''x'' tag ''y'''),
('customer.tier = gold'),
-- unexpected end of input
('customer.tier ='),
('customer.'),
('tag'),
('tag under'),
('not'),
('has'),
('has profile'),
('has validated'),
('organization'),
('document'),
('event'),
('event ''x'' count >='),
('event ''x'' within 3'),
('in'),
('in segment'),
('customer.age between 1'),
('customer.age between 1 and'),
('customer.tier is not'),
('customer.tier in (''a'','),
('customer.tier = now('),
('customer.tier = now() -'),
('customer.tier = now() - interval'),
-- each production's own mistakes
('customer.tier not = 1'),
('customer.tier in ()'),
('customer.tier in ''a'''),
('customer.tier like 5'),
('customer.tier = now() - 5'),
('customer.tier = now() + ''1 day'''),
('organization ''acme'''),
('document ''invoice'''),
('event purchase'),
('event ''x'' where properties.a = 1'),
('event ''x'' count 3'),
('event ''x'' count >= 1.5'),
('event ''x'' count >= -1'),
('event ''x'' count >= 99999999999999999999'),
('event ''x'' within 0 days'),
('event ''x'' within 3 weeks'),
('event ''x'' within 3 days count >= 1'),
('has profile where'),
('in segment vip'),
('tag ''unterminated'),
('"unterminated.x = 1'),
('"".x = 1'),
('customer.tier = 1 § 2'),
('customer.tier = 1 !'),
('customer.tier == 1'),
('customer.tier = 1.'),
-- the position counts characters: ü and 日本 are one each
('tag ''ü'' and tag ''日本'' and tag'),
-- injection attempts outside a literal are syntax errors
('tag ''x''); drop table cdp.contacts; --'),
('customer.tier = ''x'' or 1=1; drop table cdp.contacts; --'),
('''); drop table cdp.contacts; --'),
-- limits
(repeat('(', 65) || 'tag ''x''' || repeat(')', 65)),
(repeat('(', 10000) || 'tag ''x''' || repeat(')', 10000)),
(repeat('not ', 10000) || 'tag ''x'''),
('event ''x'' where (' || repeat('organization(', 70) || 'company.a = 1' || repeat(')', 71)),
('tag ''' || repeat('x', 70000) || ''''),
('customer.tier in (' || (SELECT string_agg(i::text, ', ') FROM generate_series(1, 1001) i) || ')'),
('customer.age = ' || repeat('9', 101)),
(repeat('a', 64) || '.b = 1'),
('customer.' || repeat('b', 64) || ' = 1'),
('"' || repeat('q', 64) || '".b = 1'),
((SELECT string_agg('tag ''x''', ' or ') FROM generate_series(1, 4097)));

SELECT n, left(pg_temp.seg(definition), 200) AS result FROM cases ORDER BY n;

-- Just inside the limits.
SELECT length(('customer.tier in (' || (SELECT string_agg(i::text, ', ') FROM generate_series(1, 1000) i) || ')')::cdp.segment::text) AS in_1000,
       ('customer.age = ' || repeat('9', 100))::cdp.segment IS NOT NULL AS number_100,
       (repeat('a', 63) || '.b = 1')::cdp.segment IS NOT NULL AS name_63,
       length(('tag ''' || repeat('x', 65530) || '''')::cdp.segment::text) AS text_65536,
       length((SELECT string_agg('tag ''x''', ' or ') FROM generate_series(1, 4095))::cdp.segment::text) AS nodes_4096;

-- A plain SQL error outside the function shows the position in context.
SELECT 'customer.tier = 1 and'::cdp.segment;
