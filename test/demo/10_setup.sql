-- 10_setup.sql: the demo's first step: cdp, the configuration a shop would
-- make before its first load, and the generated files in staging tables.
-- psql runs in the directory of the generated files (see run.sh).
\set ON_ERROR_STOP on
\pset footer off
SET client_min_messages = warning;

CREATE EXTENSION cdp;

-- A kind of our own: the point of sale's loyalty cards (weaker than email
-- and phone, stronger than an anonymous device).
INSERT INTO cdp.identifier_kinds (kind, title, normalizer, priority)
VALUES ('loyalty_card', 'Loyalty card', 'text', 5);

-- Junk that must never link two people: placeholder addresses and the
-- stores' own phone numbers, typed at the till when a customer gives none.
-- (Values such as 'n/a' or 0000000000 need no block: cdp refuses them.)
CREATE SCHEMA demo;
CREATE TABLE demo.planted (what text, kind text, value text, region text, people int, records int);
\copy demo.planted FROM 'planted.tsv'
UPDATE cdp.identifier_kinds k
   SET blocked_values = (SELECT array_agg(cdp.normalize_identifier(p.kind, p.value, p.region) ORDER BY p.value)
                           FROM demo.planted p WHERE p.what LIKE 'junk (blocked%' AND p.kind = k.kind)
 WHERE k.kind IN ('email', 'phone');

-- The model: what the business knows about its customers.
SELECT cdp.define_profile('customer', 'contact', '[
    {"slug": "tier", "type": "text", "options": ["bronze", "silver", "gold"]},
    {"slug": "lifetime_value", "type": "number", "min": 0, "decimals": 2},
    {"slug": "orders", "type": "integer", "min": 0},
    {"slug": "last_purchase", "type": "date"},
    {"slug": "birthday", "type": "date"},
    {"slug": "country", "type": "text", "options": ["US", "GB", "FR", "DE", "ES"]},
    {"slug": "opt_in", "type": "boolean"}]', 'Customer') \gset
SELECT cdp.define_profile('app', 'contact', '[
    {"slug": "plan", "type": "text", "options": ["free", "plus", "premium"]},
    {"slug": "signed_up_at", "type": "datetime"}]', 'App user') \gset
SELECT cdp.define_profile('company', 'organization', '[
    {"slug": "industry", "type": "text"},
    {"slug": "country", "type": "text"},
    {"slug": "employees", "type": "integer", "min": 1}]', 'Company') \gset
SELECT cdp.define_document_template('ticket', '[
    {"slug": "subject", "type": "text"},
    {"slug": "status", "type": "text", "options": ["open", "pending", "closed"]},
    {"slug": "priority", "type": "text", "options": ["low", "normal", "high"]},
    {"slug": "opened_at", "type": "datetime"}]') \gset
SELECT cdp.define_taxonomy('interests', ARRAY['contact'], 'Interests') \gset
-- the app's collector sends the plan as a trait
SELECT cdp.set_trait_mapping('plan', 'app.plan') \gset

-- The generated sources.
CREATE TABLE demo.records (record_id text, source text, kind text, value text, region text);
CREATE TABLE demo.truth (record_id text PRIMARY KEY, person int, component int, source text, phase text,
                         anchor_kind text, anchor_value text, anchor_region text, note text);
CREATE TABLE demo.crm (record_id text, given text, family text, country text, tier text, birthday date,
                       opt_in boolean, org text, role text);
CREATE TABLE demo.purchases (record_id text, source text, occurred_at timestamptz, amount numeric,
                             currency text, store text, given text, family text);
CREATE TABLE demo.app (record_id text, given text, family text, signed_up_at timestamptz, plan text,
                       interests text[]);
CREATE TABLE demo.events (record_id text, name text, occurred_at timestamptz, properties jsonb);
CREATE TABLE demo.tickets (record_id text, opened_at timestamptz, subject text, status text, priority text);
CREATE TABLE demo.orgs (slug text, name text, parent text, industry text, country text, employees int);
\copy demo.records FROM 'records.tsv'
\copy demo.truth FROM 'truth.tsv'
\copy demo.crm FROM 'crm.tsv'
\copy demo.purchases FROM 'purchases.tsv'
\copy demo.app FROM 'app.tsv'
\copy demo.events FROM 'events.tsv'
\copy demo.tickets FROM 'tickets.tsv'
\copy demo.orgs FROM 'orgs.tsv'
ANALYZE demo.records;
