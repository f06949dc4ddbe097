-- The cdp.email and cdp.phone types: text and binary I/O round trips, casts,
-- byte-wise equality and ordering, hashing, btree and hash indexes.
SET search_path = public, cdp;

--
-- Text I/O: input normalises, output is the stored key, and the output read
-- back is the same value.
--
SELECT 'José@Bücher.example'::cdp.email AS email,
       'J.Doe+x@GoogleMail.com'::cdp.email AS gmail,
       '+44 (0)20 7946 0958'::cdp.phone AS phone;
SELECT v::cdp.email::text::cdp.email = v::cdp.email AS email_round_trip,
       v::cdp.email::text = cdp.normalize_email(v) AS same_as_function
  FROM (VALUES ('José@Bücher.example'), ('"a@b"@example.com'), ('J.Doe+x@gmail.com')) AS t(v);
SELECT v::cdp.phone::text::cdp.phone = v::cdp.phone AS phone_round_trip,
       v::cdp.phone::text = cdp.normalize_phone(v) AS same_as_function
  FROM (VALUES ('+44 20 7946 0958'), ('+1 (202) 555-0123'), ('+81 3-1234-5678')) AS t(v);
SELECT pg_typeof('a@example.com'::cdp.email), pg_typeof('+442079460958'::cdp.phone);

-- casts: implicit to text, by assignment from text, explicit function
SELECT cdp.email('A@Example.COM'), cdp.phone('+442079460958');
SELECT 'A@Example.COM'::text::cdp.email, '+44 20 7946 0958'::text::cdp.phone;
SELECT length('A@Example.COM'::cdp.email), upper('a@example.com'::cdp.email);
SELECT castcontext, castmethod, castsource::regtype, casttarget::regtype
  FROM pg_cast
 WHERE castsource IN ('cdp.email'::regtype, 'cdp.phone'::regtype)
    OR casttarget IN ('cdp.email'::regtype, 'cdp.phone'::regtype)
 ORDER BY castsource::regtype::text, casttarget::regtype::text;
CREATE TEMP TABLE assigned (e cdp.email, p cdp.phone);
INSERT INTO assigned SELECT 'Jane@Example.COM'::text, '+44 20 7946 0958'::text;
SELECT * FROM assigned;
-- bad input through every road: literal, text cast, function, assignment
SELECT 'jane.example.com'::cdp.email;
SELECT 'jane.example.com'::text::cdp.email;
SELECT cdp.email('jane.example.com');
INSERT INTO assigned (e) SELECT 'jane.example.com'::text;
SELECT '+44 1234'::cdp.phone;
SELECT '+44 1234'::text::cdp.phone;
INSERT INTO assigned (p) VALUES ('call me');

--
-- Binary I/O: COPY ... (FORMAT binary) out and back in.  The send format is
-- the key's bytes; receive validates and normalises like text input.
--
CREATE TEMP TABLE people (id int, email cdp.email, phone cdp.phone);
INSERT INTO people VALUES
    (1, 'José@Bücher.example', '+44 20 7946 0958'),
    (2, 'J.Doe+x@GoogleMail.com', '+1 202 555 0123'),
    (3, '"a@b"@example.com', '+81 3-1234-5678');
CREATE TEMP TABLE people_copy (LIKE people);
SELECT current_setting('data_directory') || '/cdp_identifier_types.bin' AS copy_file \gset
COPY people TO :'copy_file' (FORMAT binary);
COPY people_copy FROM :'copy_file' (FORMAT binary);
SELECT * FROM people_copy ORDER BY id;
SELECT count(*) AS same_rows
  FROM people p JOIN people_copy c USING (id)
 WHERE p.email = c.email AND p.phone = c.phone;
-- send writes the key's bytes
SELECT encode(cdp.email_send('a@example.com'), 'escape') AS email_send,
       encode(cdp.phone_send('+442079460958'), 'escape') AS phone_send;
-- a binary file written from text columns: receive normalises it, and
-- refuses an invalid value with 22P02
COPY (SELECT 4, 'Jane.Doe+promo@GMAIL.com'::text, '+44 (0)20 7946 0958'::text)
  TO :'copy_file' (FORMAT binary);
COPY people_copy FROM :'copy_file' (FORMAT binary);
SELECT * FROM people_copy WHERE id = 4;
COPY (SELECT 5, 'jane.example.com'::text, '+442079460958'::text)
  TO :'copy_file' (FORMAT binary);
COPY people_copy FROM :'copy_file' (FORMAT binary);
COPY (SELECT 6, 'jane@example.com'::text, '020 7946 0958'::text)
  TO :'copy_file' (FORMAT binary);
COPY people_copy FROM :'copy_file' (FORMAT binary);
SET cdp.default_region = 'GB';
COPY people_copy FROM :'copy_file' (FORMAT binary);
RESET cdp.default_region;
SELECT * FROM people_copy WHERE id = 6;
-- text COPY round trip too
COPY people TO :'copy_file';
TRUNCATE people_copy;
COPY people_copy FROM :'copy_file';
SELECT * FROM people_copy ORDER BY id;

--
-- Equality and ordering are byte-wise on the key, whatever the collation.
--
SELECT 'Jane.Doe@gmail.com'::cdp.email = 'janedoe+x@googlemail.com'::cdp.email AS eq,
       'a@example.com'::cdp.email <> 'b@example.com'::cdp.email AS ne,
       'a@example.com'::cdp.email < 'b@example.com'::cdp.email AS lt,
       'b@example.com'::cdp.email <= 'b@example.com'::cdp.email AS le,
       'é@example.com'::cdp.email > 'z@example.com'::cdp.email AS gt_bytes,
       'b@example.com'::cdp.email >= 'a@example.com'::cdp.email AS ge,
       '+442079460958'::cdp.phone = '+44 20 7946 0958'::cdp.phone AS phone_eq;
SELECT sign(cdp.email_cmp('a@example.com', 'b@example.com')) AS lt,
       sign(cdp.email_cmp('b@example.com', 'b@example.com')) AS eq,
       sign(cdp.email_cmp('ab@example.com', 'a@example.com')) AS gt,
       sign(cdp.email_cmp('a@example.co', 'a@example.com')) AS prefix_lt,
       sign(cdp.phone_cmp('+12025550123', '+442079460958')) AS phone_lt;
SELECT e FROM (VALUES ('b@example.com'::cdp.email), ('é@example.com'), ('A@example.com'),
                      ('a@example.co'), ('Z@example.com')) AS t(e)
 ORDER BY e;
-- hashing agrees with equality, for both hash functions
SELECT cdp.email_hash('Jane.Doe@gmail.com') = cdp.email_hash('janedoe+x@googlemail.com') AS hash_eq,
       cdp.email_hash_extended('Jane.Doe@gmail.com', 42)
         = cdp.email_hash_extended('janedoe+x@googlemail.com', 42) AS hash_extended_eq,
       cdp.email_hash_extended('a@example.com', 0) = cdp.email_hash_extended('a@example.com', 1) AS same_for_other_seed,
       cdp.phone_hash('+44 20 7946 0958') = cdp.phone_hash('+442079460958') AS phone_hash_eq;
SELECT opc.opcname, am.amname, opc.opcdefault
  FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
 WHERE opc.opcintype IN ('cdp.email'::regtype, 'cdp.phone'::regtype)
 ORDER BY 1, 2;

--
-- A hash join on cdp.email columns.
--
CREATE TEMP TABLE crm (email cdp.email, name text);
CREATE TEMP TABLE shop (email cdp.email, orders int);
INSERT INTO crm VALUES ('Jane.Doe@gmail.com', 'Jane'), ('JOSÉ@BÜCHER.EXAMPLE', 'José'),
                       ('bob+news@outlook.com', 'Bob'), ('carol@example.com', 'Carol');
INSERT INTO shop VALUES ('janedoe+shop@googlemail.com', 3), ('josé@xn--bcher-kva.example', 1),
                        ('Bob@Outlook.com', 7), ('dave@example.com', 2);
ANALYZE crm;
ANALYZE shop;
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF)
SELECT c.name, s.orders FROM crm c JOIN shop s ON c.email = s.email;
SELECT c.name, c.email, s.orders FROM crm c JOIN shop s ON c.email = s.email ORDER BY c.name;
-- hashed grouping and DISTINCT
SET enable_sort = off;
EXPLAIN (COSTS OFF)
SELECT email, count(*) FROM (SELECT email FROM crm UNION ALL SELECT email FROM shop) u GROUP BY email;
SELECT email, count(*) FROM (SELECT email FROM crm UNION ALL SELECT email FROM shop) u
 GROUP BY email ORDER BY email;
RESET enable_sort;
-- and a merge join gives the same rows
SET enable_hashjoin = off;
SET enable_mergejoin = on;
EXPLAIN (COSTS OFF)
SELECT c.name, s.orders FROM crm c JOIN shop s ON c.email = s.email;
SELECT c.name, s.orders FROM crm c JOIN shop s ON c.email = s.email ORDER BY c.name;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_nestloop;

--
-- Indexes: a unique index refuses two spellings of one address, and btree
-- and hash indexes are used for lookups.
--
CREATE TEMP TABLE subscribers (id serial, email cdp.email NOT NULL, phone cdp.phone);
CREATE UNIQUE INDEX subscribers_email ON subscribers (email);
INSERT INTO subscribers (email) VALUES ('Jane.Doe@gmail.com');
INSERT INTO subscribers (email) VALUES ('janedoe+promo@googlemail.com');
INSERT INTO subscribers (email) VALUES ('JOSÉ@BÜCHER.EXAMPLE');
INSERT INTO subscribers (email) VALUES ('josé@xn--bcher-kva.example');
INSERT INTO subscribers (email) VALUES ('jane@example.com')
    ON CONFLICT (email) DO NOTHING;
INSERT INTO subscribers (email) VALUES ('Jane@Example.com')
    ON CONFLICT (email) DO NOTHING;
SELECT email FROM subscribers ORDER BY id;
INSERT INTO subscribers (email, phone)
SELECT 'user' || i || '@example.com', '+4420794' || lpad(i::text, 5, '0')
  FROM generate_series(1, 2000) AS i;
CREATE INDEX subscribers_phone ON subscribers USING hash (phone);
ANALYZE subscribers;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT id FROM subscribers WHERE email = 'USER42@Example.com';
SELECT email FROM subscribers WHERE email = 'USER42@Example.com';
EXPLAIN (COSTS OFF)
SELECT email FROM subscribers WHERE email BETWEEN 'user100@example.com' AND 'user101@example.com'
 ORDER BY email;
SELECT email FROM subscribers WHERE email BETWEEN 'user100@example.com' AND 'user101@example.com'
 ORDER BY email;
EXPLAIN (COSTS OFF)
SELECT id FROM subscribers WHERE phone = '+44 20 7940 0042';
SELECT email, phone FROM subscribers WHERE phone = '+44 20 7940 0042';
SELECT count(*) AS by_index FROM subscribers WHERE email >= 'user5@example.com';
RESET enable_seqscan;
RESET enable_bitmapscan;
SET enable_indexscan = off;
SET enable_indexonlyscan = off;
SET enable_bitmapscan = off;
SELECT count(*) AS by_seqscan FROM subscribers WHERE email >= 'user5@example.com';
SELECT count(*) AS by_seqscan FROM subscribers WHERE phone = '+44 20 7940 0042';
RESET enable_indexscan;
RESET enable_indexonlyscan;
RESET enable_bitmapscan;
