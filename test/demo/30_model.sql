-- 30_model.sql: what the sources say about the people, written to the
-- contacts the load made: names, profiles, organizations, tags, interests,
-- support tickets and a year of events.  Profiles, tags, interests and
-- events are written with set-based INSERT ... SELECT, as a bulk load would
-- (captured by the change feed like every write); the rest, and the day's
-- stream, go through cdp's functions.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

CREATE INDEX ON demo.loaded (record_id);
CREATE TABLE demo.crm_contact AS
SELECT DISTINCT ON (l.contact_id) l.contact_id, c.*
  FROM demo.crm c JOIN demo.loaded l USING (record_id)
 WHERE l.contact_id IS NOT NULL
 ORDER BY l.contact_id, c.record_id;
CREATE UNIQUE INDEX ON demo.crm_contact (contact_id);

-- Names: the CRM's, else the app's, else the latest order's (the sources'
-- spellings differ: typos, capitals), through update_contact, which keeps
-- the contact's type (named, with an email or phone: a lead).
SELECT count(*) AS named FROM (
    SELECT cdp.update_contact(n.contact_id, n.given, n.family)
      FROM (SELECT DISTINCT ON (l.contact_id) l.contact_id, s.given, s.family
              FROM demo.loaded l
              JOIN (SELECT record_id, given, family, 1 AS pref, NULL::timestamptz AS at FROM demo.crm
                    UNION ALL SELECT record_id, given, family, 2, signed_up_at FROM demo.app
                    UNION ALL SELECT record_id, given, family, 3, occurred_at FROM demo.purchases) s USING (record_id)
             WHERE l.contact_id IS NOT NULL
             ORDER BY l.contact_id, s.pref, s.at DESC, s.record_id) n) x \gset

-- Profiles: the CRM's fields and what the orders add up to.
INSERT INTO cdp_data.profile_customer (contact_id, tier, birthday, country, opt_in, lifetime_value, orders,
                                       last_purchase)
SELECT k.contact_id, c.tier, c.birthday, c.country, c.opt_in, p.ltv, p.n, p.last
  FROM (SELECT contact_id FROM demo.crm_contact
        UNION SELECT l.contact_id FROM demo.purchases p JOIN demo.loaded l USING (record_id)
         WHERE l.contact_id IS NOT NULL) k
  LEFT JOIN demo.crm_contact c USING (contact_id)
  LEFT JOIN (SELECT l.contact_id, round(sum(p.amount), 2) AS ltv, count(*) AS n,
                    max(p.occurred_at)::date AS last
               FROM demo.purchases p JOIN demo.loaded l USING (record_id)
              GROUP BY l.contact_id) p USING (contact_id);
INSERT INTO cdp_data.profile_app (contact_id, plan, signed_up_at)
SELECT DISTINCT ON (l.contact_id) l.contact_id, a.plan, a.signed_up_at
  FROM demo.app a JOIN demo.loaded l USING (record_id) WHERE l.contact_id IS NOT NULL
 ORDER BY l.contact_id, a.signed_up_at;

-- Organizations: groups, their companies and regional offices, through the
-- functions (a parent before its children, as orgs.tsv lists them).
SELECT count(*) AS organizations FROM (
    SELECT cdp.create_organization(o.slug, o.name, o.parent),
           cdp.set_organization_profile(o.slug, 'company',
               jsonb_build_object('industry', o.industry, 'country', o.country, 'employees', o.employees))
      FROM demo.orgs o) x \gset
SELECT count(*) AS members FROM (
    SELECT cdp.add_member(c.contact_id, c.org, c.role, true) FROM demo.crm_contact c WHERE c.org IS NOT NULL) x \gset

-- Tags and interests: the first use of each through cdp.tag / cdp.classify
-- (which create them), the rest in bulk.
CREATE TEMP TABLE tagging AS
SELECT c.contact_id, 'Newsletter' AS tag FROM demo.crm_contact c WHERE c.opt_in
UNION ALL SELECT c.contact_id, 'B2B' FROM demo.crm_contact c WHERE c.org IS NOT NULL
UNION ALL SELECT DISTINCT i.contact_id, 'Loyalty/Card holder' FROM cdp.identifiers i WHERE i.kind = 'loyalty_card'
UNION ALL SELECT p.contact_id, 'VIP' FROM cdp_data.profile_customer p
 WHERE p.lifetime_value >= (SELECT percentile_disc(0.98) WITHIN GROUP (ORDER BY lifetime_value)
                              FROM cdp_data.profile_customer);
SELECT count(*) AS tags FROM (
    SELECT cdp.tag('contact', min(contact_id), tag) FROM tagging GROUP BY tag) x \gset
INSERT INTO cdp.contact_tags (contact_id, tag_id)
SELECT t.contact_id, g.id FROM tagging t JOIN cdp.tags g ON g.path = t.tag
ON CONFLICT DO NOTHING;

CREATE TEMP TABLE interests AS
SELECT DISTINCT l.contact_id, i.path
  FROM demo.app a JOIN demo.loaded l USING (record_id), unnest(a.interests) i(path)
 WHERE l.contact_id IS NOT NULL;
SELECT count(*) AS terms FROM (
    SELECT cdp.add_term('interests', path), cdp.classify('contact', min(contact_id), 'interests', path)
      FROM interests GROUP BY path ORDER BY path) x \gset
INSERT INTO cdp.contact_terms (contact_id, term_id)
SELECT i.contact_id, t.id FROM interests i JOIN cdp.terms t ON t.taxonomy = 'interests' AND t.path = i.path
ON CONFLICT DO NOTHING;

-- Support tickets, as documents of the CRM's contacts.
SELECT count(*) AS tickets FROM (
    SELECT cdp.create_document('ticket', l.contact_id,
               jsonb_build_object('subject', t.subject, 'status', t.status, 'priority', t.priority,
                                  'opened_at', t.opened_at), t.subject)
      FROM demo.tickets t JOIN demo.loaded l USING (record_id) WHERE l.contact_id IS NOT NULL) x \gset

-- A year of events: purchases online and at the till, the app's page views.
INSERT INTO cdp.events (contact_id, name, occurred_at, properties, source)
SELECT l.contact_id, 'purchase', p.occurred_at,
       jsonb_build_object('amount', p.amount, 'currency', p.currency,
                          'channel', CASE WHEN p.source = 'shop' THEN 'web' ELSE 'store' END, 'store', p.store),
       p.source
  FROM demo.purchases p JOIN demo.loaded l USING (record_id)
 WHERE l.contact_id IS NOT NULL;
INSERT INTO cdp.events (contact_id, name, occurred_at, properties, source)
SELECT l.contact_id, e.name, e.occurred_at, e.properties, 'app'
  FROM demo.events e JOIN demo.loaded l USING (record_id)
 WHERE l.contact_id IS NOT NULL;
ANALYZE;
