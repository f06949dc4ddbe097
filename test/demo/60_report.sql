-- 60_report.sql: the demo's report: identity resolution measured against
-- the generator's ground truth, the audiences, the view, one explanation,
-- the change feed, and the identity graph of the most-merged person.
\set ON_ERROR_STOP on
\pset footer off
SET client_min_messages = warning;

CREATE FUNCTION pg_temp.n(x numeric) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT to_char(x, 'FM999,999,999,990') $$;
CREATE FUNCTION pg_temp.pairs(x bigint) RETURNS numeric LANGUAGE sql IMMUTABLE
AS $$ SELECT x::numeric * (x - 1) / 2 $$;

\echo
\echo '== 1. Records in, contacts out'
SELECT r.source AS "source",
       pg_temp.n(count(*) FILTER (WHERE r.phase = 'load')) AS "records loaded (resolve_all)",
       pg_temp.n(count(*) FILTER (WHERE r.phase = 'day')) AS "records of the day",
       pg_temp.n(count(*) FILTER (WHERE r.contact IS NULL)) AS "no usable identifier",
       pg_temp.n(count(DISTINCT r.person)) AS "people"
  FROM demo.result r
 GROUP BY ROLLUP (r.source)
 ORDER BY r.source NULLS LAST;

SELECT pg_temp.n(count(*)) AS "identifier values loaded",
       pg_temp.n((SELECT count(*) FROM cdp.identifiers)) AS "distinct values kept",
       pg_temp.n((SELECT count(*) FROM cdp.contacts WHERE merged_into IS NULL)) AS "contacts",
       pg_temp.n((SELECT count(*) FROM cdp.merges)) AS "merges of existing contacts (the day)",
       round((SELECT count(*) FROM demo.result WHERE contact IS NOT NULL)::numeric
             / (SELECT count(*) FROM cdp.contacts WHERE merged_into IS NULL), 2) AS "records per contact"
  FROM demo.records;

\echo
\echo 'Conflicts by rule (values that never link: refused by the normaliser or blocked):'
SELECT c.rule AS "rule", pg_temp.n(count(*)) AS "conflicts",
       string_agg(DISTINCT c.kind, ', ') AS "kinds",
       (SELECT string_agg(format('%s (%s)', v.value, pg_temp.n(v.n)), ', ')
          FROM (SELECT x.value, count(*) AS n FROM cdp.identity_conflicts x WHERE x.rule = c.rule
                 GROUP BY x.value ORDER BY count(*) DESC, x.value LIMIT 4) v) AS "most frequent values"
  FROM cdp.identity_conflicts c
 GROUP BY c.rule ORDER BY c.rule;

-- Pairs of records joined (same contact) against the ground truth.  The
-- contacts that hold a planted shared value are where different people are
-- expected together.  The generator's components (records linked through
-- shared values) say which pairs any correct resolver must join.
CREATE TEMP TABLE planted_contact AS
SELECT p.*, cdp.find_contact(p.kind, p.value, p.region) AS contact
  FROM demo.planted p WHERE p.what NOT LIKE 'junk%';
CREATE TEMP TABLE contact_people AS
SELECT r.contact, count(DISTINCT r.person) AS people FROM demo.result r
 WHERE r.contact IN (SELECT contact FROM planted_contact) GROUP BY r.contact;
CREATE TEMP TABLE pairs AS
WITH r AS (SELECT * FROM demo.result WHERE contact IS NOT NULL),
     shared AS (SELECT * FROM r WHERE contact IN (SELECT contact FROM planted_contact))
SELECT (SELECT sum(pg_temp.pairs(n)) FROM (SELECT count(*) n FROM r GROUP BY contact) x) AS joined,
       (SELECT sum(pg_temp.pairs(n)) FROM (SELECT count(*) n FROM r GROUP BY contact, person) x) AS same_person,
       (SELECT sum(pg_temp.pairs(n)) FROM (SELECT count(*) n FROM shared GROUP BY contact) x)
       - (SELECT sum(pg_temp.pairs(n)) FROM (SELECT count(*) n FROM shared GROUP BY contact, person) x) AS planted,
       (SELECT sum(pg_temp.pairs(n)) FROM (SELECT count(*) n FROM demo.result GROUP BY person) x) AS truth,
       (SELECT sum(pg_temp.pairs(n)) FROM (SELECT count(*) n FROM demo.result WHERE component >= 0
                                             GROUP BY person, component) x) AS linkable,
       (SELECT sum(pg_temp.pairs(n)) FROM (SELECT count(*) n FROM r GROUP BY contact, person, component) x)
           AS linked;

\echo
\echo '== 2. Are the merges right?  Pairs of records put in one contact, against the ground truth'
SELECT pg_temp.n(joined) AS "pairs joined",
       pg_temp.n(same_person) AS "same person",
       pg_temp.n(planted) AS "different people, by a planted shared value",
       pg_temp.n(joined - same_person - planted) AS "different people, otherwise",
       round(same_person / joined, 4) AS "precision",
       round(same_person / (joined - planted), 4) AS "precision apart from planted shared values"
  FROM pairs;
SELECT pg_temp.n(truth) AS "pairs of one person's records",
       pg_temp.n(same_person) AS "joined",
       round(same_person / truth, 4) AS "recall",
       pg_temp.n(linkable) AS "pairs that share a value",
       round(linked / linkable, 4) AS "recall of those"
  FROM pairs;
\echo 'Recall is below 1 because some records cannot be joined: they share no identifier with the'
\echo 'person''s other records (listed below), or carry only junk. Every pair that shares a value,'
\echo 'directly or through other records, is joined ("recall of those").'
SELECT coalesce(note, 'joined with all of the person''s records') AS "records", pg_temp.n(count(*)) AS "count",
       pg_temp.n(count(DISTINCT person)) AS "people"
  FROM demo.result GROUP BY note ORDER BY count(*) DESC;

\echo
\echo 'Planted shared values, the expected exceptions: a family sharing one email, or colleagues whose'
\echo 'CRM records carry the office switchboard, look like one person to any resolver that trusts the'
\echo 'value, so cdp joins them.  Once such a value is known, add it to blocked_values: it then links'
\echo 'nothing, like the junk below.'
SELECT p.what AS "planted", p.value AS "value", p.people AS "people", p.records AS "records",
       c.people AS "people in its contact"
  FROM planted_contact p LEFT JOIN contact_people c USING (contact) WHERE p.what LIKE 'shared office%'
UNION ALL
SELECT format('shared family emails (%s)', count(*)), min(p.value) || ', ...', sum(p.people), sum(p.records),
       sum(c.people)
  FROM planted_contact p LEFT JOIN contact_people c USING (contact) WHERE p.what = 'shared family email';
\echo
\echo 'Planted junk (blocked_values for the valid ones; cdp refuses the others): never links anyone.'
SELECT p.what AS "planted junk", p.kind AS "kind", p.value AS "value", p.region AS "region",
       pg_temp.n(p.records) AS "records",
       (SELECT count(*) FROM cdp.identifiers i
         WHERE i.kind = p.kind AND i.value = cdp.normalize_identifier(p.kind, p.value, p.region)
           AND cdp.is_valid_identifier(p.kind, p.value, p.region)) AS "stored as an identifier"
  FROM demo.planted p WHERE p.what LIKE 'junk%' ORDER BY p.kind, p.records DESC;

\echo
\echo '== 3. Segments (gold_customers is immediate: every writing transaction keeps it exact)'
SELECT d.slug AS "segment", d.refresh AS "refresh", d.definition AS "definition",
       f.members AS "members after load", f.ms AS "first fill ms",
       (SELECT count(*) FILTER (WHERE c.change = 'entered') || ' / ' || count(*) FILTER (WHERE c.change = 'exited')
          FROM cdp.segment_changes c
         WHERE c.segment = d.slug AND c.at >= (SELECT at FROM demo.marks WHERE step = 'day')) AS "the day: in / out",
       a.ms AS "refresh after day ms", s.member_count AS "members now"
  FROM demo.segment_defs d
  JOIN demo.segment_runs f ON f.segment = d.slug AND f.run = 'first'
  LEFT JOIN demo.segment_runs a ON a.segment = d.slug AND a.run = 'after the day'
  JOIN cdp.segments s ON s.slug = d.slug
 ORDER BY d.n;

\echo
\echo 'The view cdp_views.gold_customers (what a BI tool reads), its five biggest spenders:'
SELECT id, given_name, family_name, email, phone, "customer.tier", "customer.lifetime_value",
       "organization.name", tags, interests, "count(events.purchase)", "count(documents.ticket)"
  FROM cdp_views.gold_customers ORDER BY "customer.lifetime_value" DESC NULLS LAST, id LIMIT 5;

SELECT m AS out_contact
  FROM cdp.members($$interests under 'sports' and customer.country = 'GB'$$::cdp.segment) m
 WHERE NOT cdp.in_segment(m, 'uk_sports_fans')
 ORDER BY m LIMIT 1 \gset
\echo
\echo 'Why contact' :out_contact 'is not in uk_sports_fans (explain_segment):'
SELECT repeat('  ', depth) || condition AS "condition", result AS "holds", detail AS "why"
  FROM cdp.explain_segment('uk_sports_fans', :out_contact)
 ORDER BY node;

\echo
\echo '== 4. The change feed: what the consumer crm_sync received'
SELECT step AS "batch", pg_temp.n(n) AS "changes", ms AS "consume ms" FROM demo.timings ORDER BY step;
SELECT action AS "action (the day)", object_type AS "object", pg_temp.n(count(*)) AS "changes",
       pg_temp.n(count(DISTINCT object_id)) AS "objects"
  FROM demo.consumed GROUP BY action, object_type ORDER BY count(*) DESC;
\echo 'A few of them:'
SELECT id AS "change", object_type AS "object", object_id AS "id", action AS "action", left(diff::text, 100) AS "diff"
  FROM (SELECT DISTINCT ON (action, (SELECT min(k) FROM jsonb_object_keys(diff) k) LIKE 'events.%') *
          FROM demo.consumed ORDER BY action, (SELECT min(k) FROM jsonb_object_keys(diff) k) LIKE 'events.%', id) x
 ORDER BY id LIMIT 8;

-- The most-merged person: the contact (of one person only) with the most
-- merges of existing contacts, then the most records.
SELECT r.contact AS graph_contact, count(*) AS graph_records, coalesce(min(m.n), 0) AS graph_merges
  FROM demo.result r
  LEFT JOIN (SELECT cdp.current_contact(survivor_id) AS contact, count(*) AS n FROM cdp.merges
              WHERE undone_at IS NULL GROUP BY 1) m USING (contact)
 WHERE r.contact IS NOT NULL
 GROUP BY r.contact HAVING count(DISTINCT r.person) = 1
 ORDER BY coalesce(min(m.n), 0) DESC, count(*) DESC, r.contact LIMIT 1 \gset
\echo
\echo '== 5. The most-merged person: contact' :graph_contact 'holds' :graph_records 'records,' :graph_merges 'merges'
SELECT m.id AS "merge", m.survivor_id AS "survivor", m.absorbed_id AS "absorbed", m.source AS "source",
       (m.evidence->>'kind') || ' ' || (m.evidence->>'value') AS "evidence", m.reason AS "reason"
  FROM cdp.merges m WHERE cdp.current_contact(m.survivor_id) = :graph_contact ORDER BY m.id;
\echo 'Their identifiers in the loaded records, as the sources wrote them, and the value cdp matched on:'
SELECT string_agg(DISTINCT x.source, ', ') AS "sources", x.kind AS "kind", x.value AS "as written",
       cdp.normalize_identifier(x.kind, x.value, x.region) AS "matched as", count(*) AS "records"
  FROM demo.records x
 WHERE x.record_id IN (SELECT r.record_id FROM demo.result r WHERE r.contact = :graph_contact)
   AND cdp.is_valid_identifier(x.kind, x.value, x.region)
 GROUP BY x.kind, x.value, x.region ORDER BY x.kind, x.value LIMIT 20;

\pset tuples_only on
\pset format unaligned
\o :dot
SELECT cdp.identity_graph(:graph_contact);
\o
