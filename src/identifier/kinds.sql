-- kinds.sql
--   The catalog of identifier kinds and the built-in kinds, strongest first.

CREATE TABLE cdp.identifier_kinds (
    kind             text PRIMARY KEY
                     CONSTRAINT identifier_kinds_kind_slug CHECK (kind ~ '^[a-z][a-z0-9_]{0,62}$'),
    title            text NOT NULL,
    normalizer       text NOT NULL
                     CONSTRAINT identifier_kinds_normalizer_known
                     CHECK (normalizer IN ('email', 'phone', 'uuid', 'oauth', 'text', 'anonymous')),
    slugs            text[] NOT NULL DEFAULT ARRAY['main']
                     CONSTRAINT identifier_kinds_slugs_have_main CHECK ('main' = ANY (slugs)),
    max_per_contact  integer
                     CONSTRAINT identifier_kinds_max_positive CHECK (max_per_contact > 0),
    priority         integer NOT NULL,
    matchable        boolean NOT NULL DEFAULT true,
    blocked_values   text[] NOT NULL DEFAULT '{}',
    blocked_patterns text[] NOT NULL DEFAULT '{}'
);

COMMENT ON TABLE cdp.identifier_kinds IS
    'Kinds of identifiers that identity resolution matches on; lower priority is stronger';
COMMENT ON COLUMN cdp.identifier_kinds.normalizer IS
    'email, phone, uuid, oauth, text or anonymous: how values of the kind are normalised';
COMMENT ON COLUMN cdp.identifier_kinds.slugs IS
    'Allowed slugs of identifiers of the kind on one contact; always contains main';
COMMENT ON COLUMN cdp.identifier_kinds.max_per_contact IS
    'Most distinct values of the kind one contact may hold; NULL means unlimited';
COMMENT ON COLUMN cdp.identifier_kinds.priority IS
    'Lower is stronger: the weakest identifiers are dropped first when a limit is hit';
COMMENT ON COLUMN cdp.identifier_kinds.matchable IS
    'Whether equal values of the kind link records to the same contact';
COMMENT ON COLUMN cdp.identifier_kinds.blocked_values IS
    'Normalised values that never link anything (for example a shared test address)';
COMMENT ON COLUMN cdp.identifier_kinds.blocked_patterns IS
    'LIKE patterns over normalised values that never link anything';
COMMENT ON COLUMN cdp.identifier_kinds.kind IS
    'Name of the kind (a slug), the key of identifiers of the kind';
COMMENT ON COLUMN cdp.identifier_kinds.title IS 'Human-readable name of the kind';

INSERT INTO cdp.identifier_kinds (kind, title, normalizer, priority) VALUES
    ('external_id', 'External ID', 'text', 1),
    ('oauth', 'OAuth subject', 'oauth', 2),
    ('email', 'Email address', 'email', 3),
    ('phone', 'Phone number', 'phone', 4),
    ('uuid', 'UUID', 'uuid', 5),
    ('anonymous', 'Anonymous ID', 'anonymous', 6);

-- Kinds an administrator adds are user data and are dumped; the built-in
-- rows are recreated by CREATE EXTENSION.
SELECT pg_catalog.pg_extension_config_dump('cdp.identifier_kinds',
    $$WHERE kind NOT IN ('external_id', 'oauth', 'email', 'phone', 'uuid', 'anonymous')$$);

-- An administrator's changes to a built-in kind (a limit, blocked values, a
-- new priority) are user data too, but the rows come from CREATE EXTENSION,
-- so pg_dump leaves them out.  They are kept here as well (a trigger copies
-- every change of a built-in row), this table is dumped whole, and restoring
-- a row of it applies it to the built-in kind CREATE EXTENSION made.
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
COMMENT ON TABLE cdp_internal.builtin_kind_settings IS
    'The settings of built-in identifier kinds as an administrator changed them, for pg_dump';
COMMENT ON COLUMN cdp_internal.builtin_kind_settings.kind IS
    'A built-in kind (external_id, oauth, email, phone, uuid, anonymous)';
COMMENT ON COLUMN cdp_internal.builtin_kind_settings.title IS 'The kind''s title as the administrator set it';
COMMENT ON COLUMN cdp_internal.builtin_kind_settings.slugs IS
    'The kind''s allowed slugs as the administrator set them';
COMMENT ON COLUMN cdp_internal.builtin_kind_settings.max_per_contact IS
    'The kind''s max_per_contact as the administrator set it';
COMMENT ON COLUMN cdp_internal.builtin_kind_settings.priority IS
    'The kind''s priority as the administrator set it';
COMMENT ON COLUMN cdp_internal.builtin_kind_settings.matchable IS
    'The kind''s matchable as the administrator set it';
COMMENT ON COLUMN cdp_internal.builtin_kind_settings.blocked_values IS
    'The kind''s blocked_values as the administrator set them';
COMMENT ON COLUMN cdp_internal.builtin_kind_settings.blocked_patterns IS
    'The kind''s blocked_patterns as the administrator set them';
SELECT pg_catalog.pg_extension_config_dump('cdp_internal.builtin_kind_settings', '');

CREATE FUNCTION cdp_internal.keep_builtin_kind_settings() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- a reference table: on Citus this runs on every node's copy, and the
    -- coordinator's does the work (cdp_internal.citus_on_worker)
    IF cdp_internal.citus_on_worker() THEN
        RETURN NULL;
    END IF;
    IF NEW.kind IN ('external_id', 'oauth', 'email', 'phone', 'uuid', 'anonymous') THEN
        INSERT INTO cdp_internal.builtin_kind_settings AS s
        VALUES (NEW.kind, NEW.title, NEW.slugs, NEW.max_per_contact, NEW.priority, NEW.matchable,
                NEW.blocked_values, NEW.blocked_patterns)
        ON CONFLICT (kind) DO UPDATE
           SET title = EXCLUDED.title, slugs = EXCLUDED.slugs, max_per_contact = EXCLUDED.max_per_contact,
               priority = EXCLUDED.priority, matchable = EXCLUDED.matchable,
               blocked_values = EXCLUDED.blocked_values, blocked_patterns = EXCLUDED.blocked_patterns;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION cdp_internal.keep_builtin_kind_settings() IS
    'Copies a changed built-in identifier kind into cdp_internal.builtin_kind_settings';
CREATE TRIGGER identifier_kinds_keep_builtin_settings AFTER UPDATE ON cdp.identifier_kinds
    FOR EACH ROW WHEN (pg_trigger_depth() < 1)
    EXECUTE FUNCTION cdp_internal.keep_builtin_kind_settings();

-- A restored row (pg_restore COPYs it after CREATE EXTENSION made the
-- built-in kinds) puts the administrator's settings back.
CREATE FUNCTION cdp_internal.apply_builtin_kind_settings() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- a reference table: on Citus this runs on every node's copy, and the
    -- coordinator's does the work (cdp_internal.citus_on_worker)
    IF cdp_internal.citus_on_worker() THEN
        RETURN NULL;
    END IF;
    UPDATE cdp.identifier_kinds k
       SET title = NEW.title, slugs = NEW.slugs, max_per_contact = NEW.max_per_contact,
           priority = NEW.priority, matchable = NEW.matchable,
           blocked_values = NEW.blocked_values, blocked_patterns = NEW.blocked_patterns
     WHERE k.kind = NEW.kind;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION cdp_internal.apply_builtin_kind_settings() IS
    'Applies restored settings of a built-in identifier kind';
CREATE TRIGGER builtin_kind_settings_apply AFTER INSERT ON cdp_internal.builtin_kind_settings
    FOR EACH ROW WHEN (pg_trigger_depth() < 1)
    EXECUTE FUNCTION cdp_internal.apply_builtin_kind_settings();
