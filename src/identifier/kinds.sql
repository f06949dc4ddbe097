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
