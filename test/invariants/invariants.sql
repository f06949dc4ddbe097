-- invariants.sql
--   Read-only pgTAP checks of what must hold in any cdp database at rest:
--   run at the end of `make test` (database cdp_tap) and after `make soak`.
--
-- Each check recomputes in plain SQL what the extension maintains, so that
-- it does not trust the code it checks; each is_empty() lists the offending
-- rows when it fails.  Nothing is written: the file can run on a production
-- database (it reads every row, so it takes a while on a big one).

SET client_min_messages = warning;
SELECT plan(27);

-- ---------------------------------------------------------------- contacts

SELECT is_empty($$
    SELECT i.id, i.kind, i.value, i.contact_id
      FROM cdp.identifiers i JOIN cdp.contacts c ON c.id = i.contact_id
     WHERE c.merged_into IS NOT NULL
$$, 'no identifier belongs to a tombstone');

SELECT is_empty($$
    SELECT t.id, t.merged_into, s.merged_into AS survivor_merged_into
      FROM cdp.contacts t JOIN cdp.contacts s ON s.id = t.merged_into
     WHERE s.merged_into IS NOT NULL
$$, 'every tombstone leads straight to a live contact (merged_into is never a chain)');

SELECT is_empty($$
    WITH RECURSIVE walk(start, cur) AS (
        SELECT c.id, c.merged_into FROM cdp.contacts c WHERE c.merged_into IS NOT NULL
        UNION ALL
        SELECT w.start, c.merged_into FROM walk w JOIN cdp.contacts c ON c.id = w.cur
         WHERE c.merged_into IS NOT NULL
    ) CYCLE cur SET looped USING path
    SELECT DISTINCT w.start FROM walk w WHERE w.looped
$$, 'no merged_into chain has a cycle');

-- DESIGN §5: vendor if is_vendor; contact if named and holding a validated
-- email or phone; lead if named with an email or phone, none validated;
-- otherwise ghost.  Tombstones keep the type they had when absorbed.
SELECT is_empty($$
    SELECT c.id, c.type, x.expected
      FROM cdp.contacts c,
           LATERAL (SELECT CASE
                      WHEN c.is_vendor THEN 'vendor'
                      WHEN coalesce(c.given_name, '') = '' AND coalesce(c.family_name, '') = '' THEN 'ghost'
                      WHEN bool_or(i.is_validated) THEN 'contact'
                      WHEN count(i.id) > 0 THEN 'lead'
                      ELSE 'ghost' END
                      FROM cdp.identifiers i JOIN cdp.identifier_kinds k ON k.kind = i.kind
                     WHERE i.contact_id = c.id AND k.normalizer IN ('email', 'phone')) x(expected)
     WHERE c.merged_into IS NULL AND c.type IS DISTINCT FROM x.expected
$$, 'every live contact''s type follows its names, vendor flag and email/phone identifiers');

-- Merges move everything per-contact to the survivor.
SELECT is_empty(
    'SELECT x.what, x.contact_id FROM ('
    || concat_ws(' UNION ALL ',
         'SELECT ''contact_tags'' AS what, contact_id FROM cdp.contact_tags',
         'SELECT ''contact_terms'', contact_id FROM cdp.contact_terms',
         'SELECT ''organization_members'', contact_id FROM cdp.organization_members',
         'SELECT ''documents'', contact_id FROM cdp.documents',
         'SELECT ''events'', contact_id FROM cdp.events',
         (SELECT string_agg(format('SELECT %L, contact_id FROM %s', p.slug, p.data_table), ' UNION ALL '
                            ORDER BY p.slug)
            FROM cdp.profiles p WHERE p.object_type = 'contact'))
    || ') x JOIN cdp.contacts c ON c.id = x.contact_id WHERE c.merged_into IS NOT NULL',
    'no tag, term, organization membership, document, event or profile row belongs to a tombstone');

-- ------------------------------------------------------------- identifiers

SELECT is_empty($$
    SELECT i.kind, i.value, count(*) FROM cdp.identifiers i GROUP BY i.kind, i.value HAVING count(*) > 1
$$, 'each (kind, value) belongs to one identifier');

SELECT is_empty($$
    SELECT i.contact_id, i.kind, i.slug, count(*) FROM cdp.identifiers i
     WHERE i.slug IS NOT NULL GROUP BY i.contact_id, i.kind, i.slug HAVING count(*) > 1
$$, 'a slug is used once per (contact, kind)');

SELECT is_empty($$
    SELECT i.id, i.kind FROM cdp.identifiers i
     WHERE NOT EXISTS (SELECT 1 FROM cdp.identifier_kinds k WHERE k.kind = i.kind)
$$, 'every identifier has a known kind');

SELECT is_empty($$
    SELECT i.id, i.kind, i.value
      FROM cdp.identifiers i
     WHERE CASE WHEN cdp.is_valid_identifier(i.kind, i.value)
                THEN cdp.normalize_identifier(i.kind, i.value) IS DISTINCT FROM i.value
                ELSE true END
$$, 'every stored value is valid and normalised (normalising it again gives it back)');

SELECT is_empty($$
    SELECT i.id, i.kind FROM cdp.identifiers i
      JOIN cdp.suppressions s ON s.kind = i.kind AND s.value_hash = cdp_internal.identifier_hash(i.kind, i.value)
$$, 'no value of a forgotten person is stored again');

SELECT is_empty($$
    SELECT i.id, i.validation_method, i.validated_at FROM cdp.identifiers i
     WHERE NOT i.is_validated AND (i.validation_method IS NOT NULL OR i.validated_at IS NOT NULL)
$$, 'an identifier that is not validated has no validation method or time');

-- ------------------------------------------------------------------ merges

SELECT is_empty($$
    SELECT m.id FROM cdp.merges m WHERE m.survivor_id = m.absorbed_id
$$, 'no merge absorbs a contact into itself');

SELECT is_empty($$
    SELECT m.id, m.reason, m.evidence FROM cdp.merges m
     WHERE m.reason IN ('resolve', 'resolve_all') AND m.evidence IS NULL
$$, 'every merge made by resolve or resolve_all has its evidence');

SELECT is_empty($$
    SELECT m.id, m.evidence FROM cdp.merges m
     WHERE m.evidence IS NOT NULL
       AND NOT (jsonb_typeof(m.evidence) = 'object'
                AND (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(m.evidence) k) = ARRAY['kind', 'value']
                AND jsonb_typeof(m.evidence -> 'kind') = 'string'
                AND jsonb_typeof(m.evidence -> 'value') = 'string'
                AND CASE WHEN EXISTS (SELECT 1 FROM cdp.identifier_kinds k WHERE k.kind = m.evidence ->> 'kind')
                          AND cdp.is_valid_identifier(m.evidence ->> 'kind', m.evidence ->> 'value')
                         THEN cdp.normalize_identifier(m.evidence ->> 'kind', m.evidence ->> 'value')
                              = m.evidence ->> 'value'
                         ELSE false END)
$$, 'every merge evidence is {"kind", "value"} with a known kind and a normalised value');

SELECT is_empty($$
    SELECT m.id, m.survivor_id, m.absorbed_id, a.merged_into
      FROM cdp.merges m
      JOIN cdp.contacts a ON a.id = m.absorbed_id
      JOIN cdp.contacts s ON s.id = m.survivor_id
     WHERE m.undone_at IS NULL
       AND (a.merged_into IS NULL OR a.merged_into IS DISTINCT FROM coalesce(s.merged_into, s.id))
$$, 'the absorbed contact of every standing merge is a tombstone leading to the survivor''s live contact');

SELECT is_empty($$
    SELECT m.id FROM cdp.merges m
     WHERE m.undone_at IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM cdp.merge_blocks b
                        WHERE b.contact_a = least(m.survivor_id, m.absorbed_id)
                          AND b.contact_b = greatest(m.survivor_id, m.absorbed_id))
$$, 'every undone merge left its pair in cdp.merge_blocks');

-- A blocked pair is never one person: neither merged with each other nor
-- both into a third contact.  Each end is followed to its live contact here
-- (not trusting that tombstones lead straight to it, checked above).
SELECT is_empty($$
    WITH RECURSIVE ends(id) AS (
        SELECT contact_a FROM cdp.merge_blocks UNION SELECT contact_b FROM cdp.merge_blocks
    ), up(id, cur, depth) AS (
        SELECT e.id, e.id, 0 FROM ends e
        UNION ALL
        SELECT u.id, c.merged_into, u.depth + 1 FROM up u JOIN cdp.contacts c ON c.id = u.cur
         WHERE c.merged_into IS NOT NULL AND u.depth < 1000
    ), live AS (
        SELECT u.id, u.cur AS person FROM up u JOIN cdp.contacts c ON c.id = u.cur
         WHERE c.merged_into IS NULL
    )
    SELECT b.contact_a, b.contact_b, a.person
      FROM cdp.merge_blocks b
      JOIN live a ON a.id = b.contact_a
      JOIN live z ON z.id = b.contact_b
     WHERE a.person = z.person
$$, 'no merge-blocked pair is one person, directly or through a third contact');

-- ---------------------------------------------------------------- segments

-- Immediate segments are exact at every commit.  Those whose result moves
-- with time alone (EVENT, WITHIN, now(), also through IN SEGMENT) are left
-- out: nothing re-evaluates them when no write happens.
SELECT is_empty($$
    WITH RECURSIVE uses(top, slug) AS (
        SELECT g.slug, g.slug FROM cdp.segments g WHERE g.refresh = 'immediate'
        UNION
        SELECT u.top, w.name FROM uses u
          JOIN cdp.segments g ON g.slug = u.slug,
               LATERAL cdp_internal.segment_time_windows(g.definition) w
         WHERE w.kind = 'segment'
    ), timeless AS (
        SELECT u.top FROM uses u JOIN cdp.segments g ON g.slug = u.slug
         GROUP BY u.top
        HAVING NOT bool_or(EXISTS (SELECT 1 FROM cdp_internal.segment_time_windows(g.definition) w
                                    WHERE w.kind <> 'segment'))
    ), fresh AS (
        SELECT t.top AS segment, m.id AS contact_id FROM timeless t, LATERAL cdp.members(t.top) m(id)
    ), stored AS (
        SELECT sm.segment, sm.contact_id FROM cdp.segment_members sm JOIN timeless t ON t.top = sm.segment
    )
    (SELECT 'missing' AS stored, * FROM fresh EXCEPT ALL SELECT 'missing', * FROM stored)
    UNION ALL
    (SELECT 'extra', * FROM stored EXCEPT ALL SELECT 'extra', * FROM fresh)
$$, 'every immediate segment''s stored membership equals a fresh evaluation');

SELECT is_empty($$
    SELECT g.slug, g.member_count, count(m.contact_id)
      FROM cdp.segments g LEFT JOIN cdp.segment_members m ON m.segment = g.slug
     GROUP BY g.slug, g.member_count
    HAVING coalesce(g.member_count, 0) <> count(m.contact_id)
$$, 'every segment''s member_count is the size of its stored membership');

SELECT is_empty($$
    SELECT m.segment, m.contact_id, last.change
      FROM cdp.segment_members m
      LEFT JOIN LATERAL (SELECT sc.change FROM cdp.segment_changes sc
                          WHERE sc.contact_id = m.contact_id AND sc.segment = m.segment
                          ORDER BY sc.id DESC LIMIT 1) last ON true
     WHERE last.change IS DISTINCT FROM 'entered'
$$, 'every stored member''s last segment change is its entry');

-- ------------------------------------------------------------- change feed

SELECT is_empty($$
    SELECT c.consumer, c.done_snapshot, c.batch_snapshot, c.batch_last_id
      FROM cdp.change_consumers c
     WHERE pg_snapshot_xmax(c.done_snapshot) > pg_snapshot_xmax(pg_current_snapshot())
        OR pg_snapshot_xmax(c.batch_snapshot) > pg_snapshot_xmax(pg_current_snapshot())
        OR pg_snapshot_xmax(c.batch_snapshot) < pg_snapshot_xmax(c.done_snapshot)
        OR c.batch_last_id > (SELECT coalesce(max(ch.id), 0) FROM cdp.changes ch)
        OR (c.batch_snapshot IS NULL AND c.batch_last_id <> 0)
$$, 'no consumer cursor is ahead of the change log');

SELECT is_empty($$
    SELECT ch.id, ch.object_id, ch.contact_id FROM cdp.changes ch
     WHERE ch.object_type = 'contact' AND ch.contact_id IS DISTINCT FROM ch.object_id
$$, 'every change of a contact names that contact in contact_id');

SELECT is_empty($$
    SELECT ch.id, ch.txid FROM cdp.changes ch
     WHERE ch.txid >= pg_snapshot_xmax(pg_current_snapshot())
$$, 'no change carries a transaction id from the future');

-- ----------------------------------------------------- model and taxonomies

SELECT is_empty($$
    WITH RECURSIVE up(start, cur) AS (
        SELECT o.id, o.parent_id FROM cdp.organizations o WHERE o.parent_id IS NOT NULL
        UNION ALL
        SELECT u.start, o.parent_id FROM up u JOIN cdp.organizations o ON o.id = u.cur
         WHERE o.parent_id IS NOT NULL
    ) CYCLE cur SET looped USING path
    SELECT DISTINCT u.start FROM up u WHERE u.looped
$$, 'the organization tree has no cycle');

SELECT is_empty($$
    SELECT t.id, t.path, p.path AS parent_path, t.title FROM cdp.tags t LEFT JOIN cdp.tags p ON p.id = t.parent_id
     WHERE t.path IS DISTINCT FROM CASE WHEN t.parent_id IS NULL THEN t.title ELSE p.path || '/' || t.title END
$$, 'every tag''s path is its parent''s path and its title');

SELECT is_empty($$
    SELECT t.id, t.path, p.path AS parent_path, t.slug FROM cdp.terms t LEFT JOIN cdp.terms p ON p.id = t.parent_id
     WHERE t.path IS DISTINCT FROM CASE WHEN t.parent_id IS NULL THEN t.slug ELSE p.path || '/' || t.slug END
        OR (p.id IS NOT NULL AND p.taxonomy <> t.taxonomy)
$$, 'every term''s path is its parent''s path and its slug, in one taxonomy');

SELECT is_empty($$
    SELECT d.id, d.template FROM cdp.documents d JOIN cdp.document_templates t ON t.slug = d.template
     WHERE t.owner = 'contact' AND d.contact_id IS NULL
$$, 'every document of a contact template belongs to a contact');

SELECT * FROM finish();
