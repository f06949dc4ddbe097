-- The demo's fifth step: activation -- an immediate segment kept exact by
-- the writing transaction, a typed view for BI tools, Segment-spec ingest,
-- and the change feed a downstream tool consumes.
\pset footer off

-- A downstream tool starts reading the feed from here on.
SELECT count(*) AS skipped FROM cdp.consume('crm_sync', 100000) \gset

SELECT cdp.create_segment('gold_customers', $$customer.tier = 'gold'$$, 'Gold customers',
                          refresh => 'immediate') \gset
SELECT cdp.create_view('gold_customers', 'gold_customers',
       ARRAY['id', 'given_name', 'email', 'customer.tier', 'customer.lifetime_value',
             'organization.name', 'tags', 'interests', 'count(events.purchase)']) \gset

\echo
\echo 'An immediate segment is filled when it is created:'
SELECT slug AS "segment", refresh AS "refresh", member_count AS "members" FROM cdp.segments
 WHERE slug = 'gold_customers';

-- Bob becomes gold: his membership changes in the same transaction.
SELECT cdp.set_profile(cdp.find_contact('email', 'bob@example.org'), 'customer', '{"tier": "gold"}', 'crm') \gset

\echo
\echo 'The view a BI tool reads (cdp_views.gold_customers), typed columns, exact when read:'
SELECT * FROM cdp_views.gold_customers ORDER BY id;

\echo
\echo 'Entries and exits, recorded by the transaction that caused them:'
SELECT s.segment AS "segment", coalesce(c.given_name, 'contact ' || c.id) AS "contact", s.change AS "change"
  FROM cdp.segment_changes s JOIN cdp.contacts c ON c.id = s.contact_id
 ORDER BY s.id;

\echo
\echo 'An event collector pushes Segment-spec messages (a repeated messageId is stored once):'
SELECT cdp.ingest('[
  {"type": "identify", "userId": "u-7", "messageId": "m-1", "timestamp": "2026-11-01T09:00:00Z",
   "traits": {"email": "Chris@Example.com", "firstName": "Chris", "lastName": "Lee"}},
  {"type": "track", "userId": "u-7", "messageId": "m-2", "event": "purchase",
   "properties": {"amount": 42}, "timestamp": "2026-11-01T09:05:00Z"},
  {"type": "track", "userId": "u-7", "messageId": "m-2", "event": "purchase",
   "properties": {"amount": 42}, "timestamp": "2026-11-01T09:05:00Z"}]') AS "messages stored";

\echo
\echo 'What the downstream tool consumes: every change since it last read, once, in commit order:'
SELECT c.id AS "change", c.object_type AS "object", c.object_id AS "id", c.action AS "action",
       left(c.diff::text, 90) AS "diff"
  FROM cdp.consume('crm_sync', 40) c
 ORDER BY c.id;
