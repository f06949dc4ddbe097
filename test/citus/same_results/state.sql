-- state.sql: everything test/t/citus.sh compares between the cluster and the
-- single node, one line per fact, "section|...", with contacts named by their
-- smallest identifier (kind:value) instead of their ids, which may differ.
-- cdp's tables are first copied into temporary tables, so that the queries
-- below are plain PostgreSQL on either side.
\set QUIET on
\set ON_ERROR_STOP off
SET client_min_messages = warning;
CREATE TEMP TABLE s_contacts AS SELECT * FROM cdp.contacts;
CREATE TEMP TABLE s_identifiers AS SELECT * FROM cdp.identifiers;
CREATE TEMP TABLE s_profile AS SELECT * FROM cdp_data.profile_customer;
CREATE TEMP TABLE s_company AS SELECT * FROM cdp_data.profile_company;
CREATE TEMP TABLE s_contact_tags AS SELECT * FROM cdp.contact_tags;
CREATE TEMP TABLE s_contact_terms AS SELECT * FROM cdp.contact_terms;
CREATE TEMP TABLE s_members AS SELECT * FROM cdp.organization_members;
CREATE TEMP TABLE s_documents AS SELECT * FROM cdp.documents;
CREATE TEMP TABLE s_invoice AS SELECT * FROM cdp_data.document_invoice;
CREATE TEMP TABLE s_events AS SELECT * FROM cdp.events;
CREATE TEMP TABLE s_merges AS SELECT * FROM cdp.merges;
CREATE TEMP TABLE s_blocks AS SELECT * FROM cdp.merge_blocks;
CREATE TEMP TABLE s_conflicts AS SELECT * FROM cdp.identity_conflicts;
CREATE TEMP TABLE s_segment_members AS SELECT * FROM cdp.segment_members;
CREATE TEMP TABLE s_segment_changes AS SELECT * FROM cdp.segment_changes;
CREATE TEMP TABLE s_changes AS SELECT * FROM cdp.changes;

-- a contact's name: its smallest identifier; a tombstone's: its survivor's
CREATE TEMP TABLE ck AS
SELECT contact_id, min(kind || ':' || value) AS k FROM s_identifiers GROUP BY contact_id;
INSERT INTO ck
SELECT c.id, 'tombstone>' || coalesce(s.k, '?') FROM s_contacts c LEFT JOIN ck s ON s.contact_id = c.merged_into
 WHERE c.merged_into IS NOT NULL;
CREATE TEMP VIEW ckv AS SELECT contact_id, k FROM ck;

\pset format unaligned
\pset tuples_only on
\pset fieldsep '|'
\pset null '∅'

-- catalog
SELECT 'catalog', 'profile', slug, object_type, title FROM cdp.profiles ORDER BY 3;
SELECT 'catalog', 'attribute', owner_type, owner_slug, slug, data_type, is_array, is_required, validations, position
  FROM cdp.attributes ORDER BY 3, 4, 5;
SELECT 'catalog', 'term', t.taxonomy, t.slug, t.title, p.slug FROM cdp.terms t LEFT JOIN cdp.terms p ON p.id = t.parent_id ORDER BY 3, 4;
SELECT 'catalog', 'tag', t.slug, t.path, p.slug FROM cdp.tags t LEFT JOIN cdp.tags p ON p.id = t.parent_id ORDER BY 3;
SELECT 'catalog', 'organization', o.slug, o.name, p.slug, o.archived_at IS NOT NULL FROM cdp.organizations o
  LEFT JOIN cdp.organizations p ON p.id = o.parent_id ORDER BY 3;
SELECT 'catalog', 'company', o.slug, c.industry, c.plan FROM s_company c JOIN cdp.organizations o ON o.id = c.organization_id ORDER BY 3;
SELECT 'catalog', 'template', slug, owner FROM cdp.document_templates ORDER BY 3;
SELECT 'catalog', 'trait_mapping', m.* FROM (SELECT trait, object_type, profile, attribute FROM cdp.trait_mappings) m ORDER BY 3, 4;

-- the identity partition of each namespace: the identifiers of each live contact
SELECT 'partition', left(k, 1) AS ns, string_agg(kind || ':' || value, ' ' ORDER BY kind, value)
  FROM (SELECT i.contact_id, i.kind, i.value,
               CASE WHEN i.kind = 'phone' THEN chr(ascii('a') + substr(i.value, 10, 1)::int) ELSE split_part(i.value, '-', 1) END AS k
          FROM s_identifiers i) s
 GROUP BY contact_id, ns ORDER BY 2, 3;
SELECT 'contact', '(no identifier)', c.type, c.given_name, c.family_name, c.is_vendor, c.archived_at IS NOT NULL
  FROM s_contacts c WHERE c.id NOT IN (SELECT contact_id FROM ck) ORDER BY 3, 4, 5;
SELECT 'contact', k.k, c.type, c.given_name, c.family_name, c.is_vendor, c.archived_at IS NOT NULL
  FROM s_contacts c JOIN ck k ON k.contact_id = c.id ORDER BY 2;
SELECT 'identifier', k.k, i.kind, i.value, i.slug, i.is_validated, i.validation_method, i.source
  FROM s_identifiers i JOIN ck k ON k.contact_id = i.contact_id ORDER BY 2, 3, 4;
SELECT 'conflict', rule, kind, value, ka.k, kb.k, source, reason FROM s_conflicts f
  LEFT JOIN ck ka ON ka.contact_id = f.contact_id LEFT JOIN ck kb ON kb.contact_id = f.other_contact_id ORDER BY 2, 3, 4, 5;

-- model data
SELECT 'profile', k.k, p.tier, p.ltv, p.age, p.topics, p.birthday, p.vip, p.billing, p.source
  FROM s_profile p JOIN ck k ON k.contact_id = p.contact_id ORDER BY 2;
SELECT 'tags', k.k, string_agg(t.slug, ' ' ORDER BY t.slug)
  FROM s_contact_tags a JOIN cdp.tags t ON t.id = a.tag_id JOIN ck k ON k.contact_id = a.contact_id GROUP BY 2 ORDER BY 2;
SELECT 'terms', k.k, string_agg(t.taxonomy || ':' || t.path, ' ' ORDER BY t.taxonomy, t.path)
  FROM s_contact_terms a JOIN cdp.terms t ON t.id = a.term_id JOIN ck k ON k.contact_id = a.contact_id GROUP BY 2 ORDER BY 2;
SELECT 'organizations', k.k, o.slug, m.role, m.is_primary
  FROM s_members m JOIN cdp.organizations o ON o.id = m.organization_id JOIN ck k ON k.contact_id = m.contact_id ORDER BY 2, 3;
SELECT 'documents', k.k, d.template, d.title, d.archived_at IS NOT NULL, i.total, i.status
  FROM s_documents d LEFT JOIN s_invoice i ON i.document_id = d.id LEFT JOIN ck k ON k.contact_id = d.contact_id ORDER BY 2, 4;
SELECT 'events', k.k, e.name, e.occurred_at AT TIME ZONE 'UTC', e.properties, e.source
  FROM s_events e JOIN ck k ON k.contact_id = e.contact_id ORDER BY 2, 3, 4, 5::text;
SELECT 'ingest', 'messages', count(*) FROM cdp.ingested_messages;

-- merges, blocks, suppressions
SELECT 'merges', m.reason, m.source, ks.k, ka.k, m.evidence, m.undone_at IS NOT NULL
  FROM s_merges m LEFT JOIN ck ks ON ks.contact_id = m.survivor_id LEFT JOIN ck ka ON ka.contact_id = m.absorbed_id
 ORDER BY 2, 4, 5, 6::text;
SELECT 'blocks', least(ka.k, kb.k), greatest(ka.k, kb.k), b.reason IS NOT NULL
  FROM s_blocks b LEFT JOIN ck ka ON ka.contact_id = b.contact_a LEFT JOIN ck kb ON kb.contact_id = b.contact_b ORDER BY 2, 3;
SELECT 'suppressions', kind, count(*) FROM cdp.suppressions GROUP BY kind ORDER BY 2;

-- segments and their stored membership
SELECT 'segments', slug, refresh, definition::text, member_count, refreshed_at IS NOT NULL FROM cdp.segments ORDER BY 2;
SELECT 'segment_members', m.segment, string_agg(coalesce(k.k, '?'), ' ' ORDER BY k.k)
  FROM s_segment_members m LEFT JOIN ck k ON k.contact_id = m.contact_id GROUP BY 2 ORDER BY 2;
SELECT 'segment_changes', c.segment, c.change, string_agg(coalesce(k.k, '?'), ' ' ORDER BY k.k)
  FROM s_segment_changes c LEFT JOIN ck k ON k.contact_id = c.contact_id GROUP BY 2, 3 ORDER BY 2, 3;
SELECT 'views', slug, segment, materialized, refreshed_at IS NOT NULL FROM cdp.views ORDER BY 2;

-- the change feed: one line per change, its kind and fields (no ids, no
-- values), so that what a step adds is the same whatever came before
SELECT 'change', object_type, action,
       (SELECT string_agg(f, ' ' ORDER BY f) FROM jsonb_object_keys(diff) f)
  FROM s_changes ORDER BY 2, 3, 4;

-- what the workload's calls returned (counts, errors; no ids)
SELECT 'returns', step, n, value FROM public.tap_returns ORDER BY 2, 3;
