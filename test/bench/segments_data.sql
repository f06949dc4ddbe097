-- segments_data.sql
--   The data of the segments benchmark, made deterministically (hash of the row
--   number, no random()) straight into cdp's tables with one INSERT ... SELECT
--   per table.  psql -v contacts=N -v events=M -v orgs=K -v at='timestamptz'.
--
-- Contacts 1..N: 1% archived (id % 100 = 7), 1% merged tombstones (id % 100 =
-- 13, merged into id - 1, which is live).  Tombstones and archived contacts
-- keep their rows everywhere, so a segment that forgot to exclude them counts
-- too many.  Everything happens before the evaluation time :at, which the
-- benchmark passes to cdp.count; nothing here reads the clock.
--   customer profile (60% of contacts): tier (bronze 50%, silver 30%, gold 15%,
--     platinum 5%), ltv (log-uniform 1..22026, 5% NULL), age (18..87, 10% NULL),
--     birthday, vip (3%), interests_count, signup;
--   newsletter profile (40%): frequency, topics text[], opted_in;
--   K organizations in three levels (K/10 roots, 3K/10 under them, the rest
--     under those; 1% archived), all with a company profile (retail 1.5% of
--     them); 95% of contacts are the primary member of one organization;
--   tags Technology/{AI,Cloud,Security} (about 0.5% of contacts in all),
--     Lifecycle/{Lead,Customer,Churned}, VIP (2%), Region/{EU,US,APAC};
--   taxonomy interests: sports/{football,tennis,running,cycling} (about 7%),
--     music/..., travel, cooking, tech/...;
--   invoices (template invoice: total, status paid 85% / open 10% / overdue
--     5%) for 30% of contacts, 1-3 each, 1% of them archived;
--   about M events over the 365 days before :at, skewed to recent days, per
--     contact an exponentially distributed number (mean M/N) of which 40% are
--     purchases for 3% of contacts (buyers) and 5% for the others; a purchase
--     has {"amount": n}, a page view {"path": "/p/n"}.
-- Loaded with session_replication_role = replica (no foreign-key triggers:
-- the rows are consistent by construction) and the secondary indexes of
-- cdp.events and the link tables dropped during the load and rebuilt after,
-- from their own definitions, which is how a DBA loads 10M rows.

\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET maintenance_work_mem = '1GB';
SET work_mem = '2GB';
SET max_parallel_maintenance_workers = 1;
CREATE SCHEMA bench;

-- a deterministic number in [0, 1) for (i, salt)
CREATE FUNCTION bench.u(i bigint, salt bigint) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT (hashint8extended(i, salt) & 4503599627370495)::double precision / 4503599627370496 $$;

CREATE TABLE bench.params AS SELECT :'at'::timestamptz AS at, :contacts::bigint AS contacts,
                                    :events::bigint AS events, :orgs::bigint AS orgs;

-- The catalog: profiles, template, taxonomy, the tag tree (cdp.tag creates
-- tags on first use; it tags organization 1, not a contact).
SELECT cdp.define_profile('customer', 'contact', '[
  {"slug": "tier", "type": "text", "options": ["bronze", "silver", "gold", "platinum"]},
  {"slug": "ltv", "type": "number", "decimals": 2, "min": 0},
  {"slug": "age", "type": "integer", "min": 0, "max": 150},
  {"slug": "birthday", "type": "date"},
  {"slug": "vip", "type": "boolean"},
  {"slug": "interests_count", "type": "integer"},
  {"slug": "signup", "type": "datetime"}]') \gset
SELECT cdp.define_profile('newsletter', 'contact', '[
  {"slug": "frequency", "type": "text", "options": ["daily", "weekly", "monthly"]},
  {"slug": "topics", "type": "text", "array": true},
  {"slug": "opted_in", "type": "boolean"}]') \gset
SELECT cdp.define_profile('company', 'organization', '[
  {"slug": "industry", "type": "text"},
  {"slug": "employees", "type": "integer", "min": 0},
  {"slug": "country", "type": "text"}]') \gset
SELECT cdp.define_document_template('invoice', '[
  {"slug": "total", "type": "number", "decimals": 2},
  {"slug": "status", "type": "text", "options": ["paid", "open", "overdue"]}]') \gset
SELECT cdp.define_taxonomy('interests', ARRAY['contact']);
SELECT count(cdp.add_term('interests', p)) FROM unnest(ARRAY[
  'sports', 'sports/football', 'sports/tennis', 'sports/running', 'sports/cycling',
  'music', 'music/jazz', 'music/rock', 'music/classical', 'travel', 'cooking',
  'tech', 'tech/gadgets', 'tech/gaming']) p;

-- Probabilities of the tags and terms a contact gets (independently).
CREATE TABLE bench.tag_p (path text PRIMARY KEY, p float8 NOT NULL, salt int NOT NULL);
INSERT INTO bench.tag_p VALUES
  ('Technology', 0.0005, 101), ('Technology/AI', 0.002, 102), ('Technology/Cloud', 0.0015, 103),
  ('Technology/Security', 0.001, 104), ('Lifecycle/Lead', 0.3, 105), ('Lifecycle/Customer', 0.4, 106),
  ('Lifecycle/Churned', 0.1, 107), ('VIP', 0.02, 108), ('Region/EU', 0.3, 109), ('Region/US', 0.3, 110),
  ('Region/APAC', 0.2, 111);
CREATE TABLE bench.term_p (path text PRIMARY KEY, p float8 NOT NULL, salt int NOT NULL);
INSERT INTO bench.term_p VALUES
  ('sports', 0.005, 201), ('sports/football', 0.03, 202), ('sports/tennis', 0.01, 203),
  ('sports/running', 0.02, 204), ('sports/cycling', 0.01, 205), ('music/jazz', 0.05, 206),
  ('music/rock', 0.05, 207), ('music/classical', 0.03, 208), ('travel', 0.1, 209), ('cooking', 0.08, 210),
  ('tech/gadgets', 0.04, 211), ('tech/gaming', 0.04, 212);

-- Organizations, before the tag tree (cdp.tag needs organization 1).
SET session_replication_role = replica;
INSERT INTO cdp.organizations (id, slug, name, parent_id, created_at, updated_at, archived_at)
SELECT o, 'org-' || o, 'Organization ' || o,
       CASE WHEN o <= :orgs / 10 THEN NULL
            WHEN o <= :orgs * 4 / 10 THEN 1 + (hashint8extended(o, 1) & 1048575) % (:orgs / 10)
            ELSE :orgs / 10 + 1 + (hashint8extended(o, 1) & 1048575) % (:orgs * 3 / 10) END,
       p.at - interval '3 years', p.at - interval '3 years',
       CASE WHEN o % 100 = 37 THEN p.at - interval '30 days' END
  FROM generate_series(1, :orgs) o, bench.params p;
SELECT setval('cdp.organizations_id_seq', :orgs);
INSERT INTO cdp_data.profile_company (organization_id, updated_at, industry, employees, country)
SELECT o, p.at - interval '1 year',
       CASE WHEN v < 0.015 THEN 'retail' WHEN v < 0.215 THEN 'software' WHEN v < 0.315 THEN 'finance'
            WHEN v < 0.415 THEN 'health' WHEN v < 0.565 THEN 'manufacturing' WHEN v < 0.645 THEN 'education'
            WHEN v < 0.715 THEN 'media' WHEN v < 0.815 THEN 'logistics' WHEN v < 0.900 THEN 'energy'
            ELSE 'hospitality' END,
       (exp(bench.u(o, 3) * 10))::int,
       (ARRAY['FR', 'DE', 'US', 'GB', 'ES', 'IT', 'NL', 'JP'])[1 + (hashint8extended(o, 4) & 7)]
  FROM (SELECT o, bench.u(o, 2) AS v FROM generate_series(1, :orgs) o) s, bench.params p;
RESET session_replication_role;
SELECT sum(cdp.tag('organization', 1, path)) FROM bench.tag_p;

-- The secondary indexes of the big tables, dropped now and rebuilt at the end.
CREATE TABLE bench.indexes AS
SELECT c.relname AS index, pg_get_indexdef(i.indexrelid) AS def
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid IN ('cdp.events'::regclass, 'cdp.contact_tags'::regclass, 'cdp.contact_terms'::regclass,
                      'cdp.organization_members'::regclass, 'cdp.documents'::regclass)
   AND NOT i.indisprimary
   AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid);
SELECT format('DROP INDEX cdp.%I', index) FROM bench.indexes \gexec

SET session_replication_role = replica;

INSERT INTO cdp.contacts (id, given_name, family_name, type, created_at, updated_at, last_seen_at,
                          archived_at, merged_into)
SELECT i, 'Given' || (i % 997), 'Family' || (i % 4999), 'lead',
       p.at - interval '1000 days' * bench.u(i, 5), p.at - interval '10 days' * bench.u(i, 6),
       p.at - interval '60 days' * bench.u(i, 7),
       CASE WHEN i % 100 = 7 THEN p.at - interval '20 days' END,
       CASE WHEN i % 100 = 13 THEN i - 1 END
  FROM generate_series(1, :contacts) i, bench.params p;
SELECT setval('cdp.contacts_id_seq', :contacts);

INSERT INTO cdp_data.profile_customer (contact_id, updated_at, tier, ltv, age, birthday, vip,
                                       interests_count, signup)
SELECT i, p.at - interval '5 days',
       CASE WHEN v < 0.5 THEN 'bronze' WHEN v < 0.8 THEN 'silver' WHEN v < 0.95 THEN 'gold' ELSE 'platinum' END,
       CASE WHEN bench.u(i, 13) >= 0.05 THEN round(exp(bench.u(i, 12) * 10)::numeric, 2) END,
       CASE WHEN bench.u(i, 15) >= 0.10 THEN 18 + floor(bench.u(i, 14) * 70)::int END,
       date '1950-01-01' + floor(bench.u(i, 16) * 20000)::int,
       bench.u(i, 17) < 0.03,
       floor(bench.u(i, 18) * 20)::int,
       p.at - interval '1500 days' * bench.u(i, 19)
  FROM (SELECT i, bench.u(i, 11) AS v FROM generate_series(1, :contacts) i WHERE bench.u(i, 10) < 0.6) s,
       bench.params p;

INSERT INTO cdp_data.profile_newsletter (contact_id, updated_at, frequency, topics, opted_in)
SELECT i, p.at - interval '7 days', (ARRAY['daily', 'weekly', 'monthly'])[1 + (hashint8extended(i, 21) & 3) % 3],
       ARRAY(SELECT t FROM unnest(ARRAY['news', 'deals', 'product', 'events']) WITH ORDINALITY AS x(t, n)
              WHERE (hashint8extended(i, 22) >> n::int) & 1 = 1 ORDER BY n),
       bench.u(i, 23) < 0.7
  FROM generate_series(1, :contacts) i, bench.params p
 WHERE bench.u(i, 20) < 0.4;

INSERT INTO cdp.organization_members (contact_id, organization_id, role, is_primary, since)
SELECT i, 1 + (hashint8extended(i, 31) & 1048575) % :orgs,
       (ARRAY['employee', 'manager', 'buyer', 'owner'])[1 + (hashint8extended(i, 32) & 3)], true,
       p.at - interval '400 days'
  FROM generate_series(1, :contacts) i, bench.params p
 WHERE bench.u(i, 30) < 0.95;

INSERT INTO cdp.contact_tags (contact_id, tag_id, since)
SELECT i, t.id, p.at - interval '30 days'
  FROM generate_series(1, :contacts) i CROSS JOIN bench.tag_p tp JOIN cdp.tags t ON t.path = tp.path
       CROSS JOIN bench.params p
 WHERE bench.u(i, tp.salt) < tp.p;

INSERT INTO cdp.contact_terms (contact_id, term_id, since)
SELECT i, t.id, p.at - interval '30 days'
  FROM generate_series(1, :contacts) i CROSS JOIN bench.term_p tp
       JOIN cdp.terms t ON t.taxonomy = 'interests' AND t.path = tp.path CROSS JOIN bench.params p
 WHERE bench.u(i, tp.salt) < tp.p;

INSERT INTO cdp.documents (id, template, contact_id, title, created_at, updated_at, archived_at)
SELECT n, 'invoice', i, 'Invoice ' || i || '-' || j, t, t, CASE WHEN n % 100 = 37 THEN at - interval '10 days' END
  FROM (SELECT row_number() OVER (ORDER BY i, j) AS n, i, j, p.at,
               p.at - interval '300 days' * bench.u(i * 4 + j, 41) AS t
          FROM generate_series(1, :contacts) i
               CROSS JOIN LATERAL generate_series(1, 1 + floor(bench.u(i, 42) * 3)::int) j
               CROSS JOIN bench.params p
         WHERE bench.u(i, 40) < 0.3) d;
SELECT setval('cdp.documents_id_seq', (SELECT max(id) FROM cdp.documents));
INSERT INTO cdp_data.document_invoice (document_id, total, status)
SELECT d.id, round((bench.u(d.id, 43) * 1000)::numeric, 2),
       CASE WHEN v < 0.85 THEN 'paid' WHEN v < 0.95 THEN 'open' ELSE 'overdue' END
  FROM (SELECT id, bench.u(id, 44) AS v FROM cdp.documents) d;

-- Events: per contact k ~ Exp(mean), each event's name by the contact's
-- purchase share, its time at - 365 days * u^2 (recent days weigh more),
-- never exactly at a boundary of a whole number of days; stored in time
-- order, as a stream of events arrives.
INSERT INTO cdp.events (contact_id, name, occurred_at, received_at, properties, source)
SELECT i, e.name, e.t, e.t,
       CASE e.name WHEN 'purchase' THEN jsonb_build_object('amount', round((bench.u(k, 54) * 500)::numeric, 2))
                   WHEN 'page_view' THEN jsonb_build_object('path', '/p/' || (hashint8extended(k, 55) & 255))
                   ELSE '{}' END,
       'bench'
  FROM generate_series(1, :contacts) i
       CROSS JOIN LATERAL generate_series(1, floor(-ln(1 - bench.u(i, 50)) * :events / :contacts + 0.5)::int) j
       CROSS JOIN LATERAL (SELECT i::bigint * 4096 + j AS k,
                                  CASE WHEN bench.u(i, 51) < 0.03 THEN 0.4 ELSE 0.05 END AS pp) s
       CROSS JOIN LATERAL (
           SELECT CASE WHEN v < s.pp THEN 'purchase' WHEN v < s.pp + 0.55 THEN 'page_view'
                       WHEN v < s.pp + 0.75 THEN 'email_open' WHEN v < s.pp + 0.90 THEN 'add_to_cart'
                       WHEN v < s.pp + 0.94 THEN 'signup' ELSE 'login' END AS name,
                  (SELECT at FROM bench.params) - interval '1.5 seconds'
                      - interval '365 days' * bench.u(s.k, 53) ^ 2 AS t
             FROM (SELECT bench.u(s.k, 52) AS v) w) e
 ORDER BY e.t, i;

RESET session_replication_role;

SELECT def FROM bench.indexes \gexec

VACUUM ANALYZE cdp.contacts, cdp.organizations, cdp.organization_members, cdp.contact_tags,
               cdp.contact_terms, cdp.tags, cdp.terms, cdp.documents, cdp.events,
               cdp_data.profile_customer, cdp_data.profile_newsletter, cdp_data.profile_company,
               cdp_data.document_invoice;
