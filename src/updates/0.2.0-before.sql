-- 0.2.0-before.sql
--   The first part of the 0.1.0 -> 0.2.0 upgrade: what the function sources
--   cannot say (dropped functions, changed tables, new tables).  The Makefile
--   appends every function and comment of the identifier, identity and model
--   sources (replace_functions.awk: CREATE OR REPLACE), the segment sources and
--   0.2.0-after.sql; test/t/upgrade.sh compares an updated database with a
--   fresh install, so anything missing here fails that test.
\echo Use "ALTER EXTENSION cdp UPDATE TO '0.2.0'" to load this file. \quit

-- Contacts are locked through cdp_internal.lock_contact now.
DROP FUNCTION cdp_internal.live_contact(bigint);

-- resolve takes on_invalid: the three-argument form goes, the new one is
-- created with the other functions.
DROP FUNCTION cdp.resolve(jsonb, text, text);

-- Values the normaliser refuses are recorded as conflicts with their reason.
ALTER TABLE cdp.identity_conflicts ADD COLUMN reason text;
ALTER TABLE cdp.identity_conflicts DROP CONSTRAINT identity_conflicts_rule_known;
ALTER TABLE cdp.identity_conflicts ADD CONSTRAINT identity_conflicts_rule_known
    CHECK (rule IN ('invalid', 'blocked', 'limit', 'merge_block'));

-- Administrators' settings of the built-in kinds, kept for pg_dump (the
-- triggers that keep and apply them are created in 0.2.0-after.sql).
CREATE TABLE cdp_internal.builtin_kind_settings (
    kind             text PRIMARY KEY,
    title            text NOT NULL,
    slugs            text[] NOT NULL,
    max_per_contact  integer,
    priority         integer NOT NULL,
    matchable        boolean NOT NULL,
    blocked_values   text[] NOT NULL,
    blocked_patterns text[] NOT NULL
);
SELECT pg_catalog.pg_extension_config_dump('cdp_internal.builtin_kind_settings', '');
-- An administrator may already have changed a built-in kind under 0.1.0.
INSERT INTO cdp_internal.builtin_kind_settings
SELECT k.kind, k.title, k.slugs, k.max_per_contact, k.priority, k.matchable, k.blocked_values, k.blocked_patterns
  FROM cdp.identifier_kinds k
 WHERE k.kind IN ('external_id', 'oauth', 'email', 'phone', 'uuid', 'anonymous')
   AND NOT EXISTS (
       SELECT 1
         FROM (VALUES ('external_id', 'External ID', 1), ('oauth', 'OAuth subject', 2),
                      ('email', 'Email address', 3), ('phone', 'Phone number', 4),
                      ('uuid', 'UUID', 5), ('anonymous', 'Anonymous ID', 6)) AS d(kind, title, priority)
        WHERE (k.kind, k.title, k.slugs, k.max_per_contact, k.priority, k.matchable, k.blocked_values, k.blocked_patterns)
              IS NOT DISTINCT FROM
              (d.kind, d.title, ARRAY['main'], NULL::integer, d.priority, true, '{}'::text[], '{}'::text[]));
