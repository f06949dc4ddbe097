-- resolve_data.sql
--   The records of the resolve benchmark, made deterministically (md5, no
--   random()): :records records from three sources (crm, shop, app) about
--   people of whom about 30% appear in two or more sources, over
--   overlapping emails, phones and external ids.  psql -v records=N.
--
-- Each person appears in one source (70%), two (25%) or three (5%).  A crm
-- record holds the crm id, mostly the email, often the phone, sometimes a
-- work email; a shop record the shop id, mostly the email (written in
-- another case or with a gmail dot), rarely the phone, sometimes the crm
-- id the shop was given; an app record the app id, mostly the phone,
-- rarely the email -- so a crm record often links a shop and an app
-- contact made before it, which merges them.
-- 5% of people give the phone of the next person (a household), which
-- chains people together.  Records arrive in an order shuffled by hash.

CREATE SCHEMA IF NOT EXISTS bench;

-- a deterministic number in [0, 1) for (i, salt)
CREATE FUNCTION bench.h(i bigint, salt text) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ('x' || substr(md5(i || ':' || salt), 1, 8))::bit(32)::bigint / 4294967296.0 $$;

CREATE TABLE bench.people AS
SELECT p,
       CASE WHEN bench.h(p, 'sources') < 0.70 THEN 1
            WHEN bench.h(p, 'sources') < 0.95 THEN 2 ELSE 3 END AS nsources,
       floor(bench.h(p, 'first') * 3)::int AS first_source,
       CASE WHEN bench.h(p, 'domain') < 0.3 THEN 'gmail.com'
            WHEN bench.h(p, 'domain') < 0.6 THEN 'example.com'
            WHEN bench.h(p, 'domain') < 0.8 THEN 'example.org'
            ELSE 'mail.example.net' END AS domain,
       '+3361' || lpad(CASE WHEN bench.h(p, 'household') < 0.05 THEN p + 1 ELSE p END::text,
                       7, '0') AS phone
  FROM generate_series(1, ceil(:records / 1.35)::int + 1000) p;

-- one record per (person, source), in hash order; the first :records kept
CREATE TABLE bench.records (
    id       int PRIMARY KEY,
    person   int NOT NULL,
    source   text NOT NULL,
    ids      jsonb NOT NULL
);
INSERT INTO bench.records (id, person, source, ids)
SELECT row_number() OVER (ORDER BY bench.h(p * 4 + s, 'order'), p, s), p,
       (ARRAY['crm', 'shop', 'app'])[s + 1],
       (SELECT jsonb_agg(jsonb_build_object('kind', kind, 'value', value))
          FROM (VALUES
            (1, 'external_id', (ARRAY['crm-', 'shop-', 'app-'])[s + 1] || p),
            (2, 'email', CASE
                WHEN s = 0 AND bench.h(p, 'crm email') < 0.9
                THEN 'user' || p || '@' || domain
                WHEN s = 1 AND bench.h(p, 'shop email') < 0.95
                THEN CASE WHEN bench.h(p, 'shop case') < 0.3 THEN upper('User' || p || '@' || domain)
                          WHEN domain = 'gmail.com' THEN 'use.r' || p || '@' || domain
                          ELSE 'user' || p || '@' || domain END
                WHEN s = 2 AND bench.h(p, 'app email') < 0.3
                THEN ' user' || p || '@' || domain || ' ' END),
            (3, 'phone', CASE
                WHEN s = 0 AND bench.h(p, 'crm phone') < 0.8
                THEN regexp_replace(phone, '^\+33(\d)(\d\d)(\d\d)(\d\d)(\d\d)$', '+33 \1 \2 \3 \4 \5')
                WHEN s = 1 AND bench.h(p, 'shop phone') < 0.15 THEN phone
                WHEN s = 2 AND bench.h(p, 'app phone') < 0.7 THEN phone END),
            (4, 'email', CASE WHEN s = 0 AND bench.h(p, 'work') < 0.2
                              THEN 'user' || p || '.work@corp' || p % 500 || '.example.com' END),
            (5, 'external_id', CASE WHEN s = 1 AND bench.h(p, 'shop crm') < 0.1
                                    THEN 'crm-' || p END)
          ) AS v(n, kind, value)
         WHERE value IS NOT NULL)
  FROM bench.people,
       LATERAL (SELECT (first_source + k) % 3 AS s
                  FROM generate_series(0, nsources - 1) k) src
 ORDER BY 1
 LIMIT :records;

-- the feed the pgbench clients take their next record from
CREATE SEQUENCE bench.feed;

ANALYZE bench.records;
