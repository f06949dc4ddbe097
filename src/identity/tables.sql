-- tables.sql
--   Contacts, their identifiers, and the record of merges, conflicts, blocks
--   and suppressions that identity resolution keeps.

CREATE TABLE cdp.contacts (
    id            bigserial PRIMARY KEY,
    given_name    text,
    family_name   text,
    is_vendor     boolean NOT NULL DEFAULT false,
    type          text NOT NULL DEFAULT 'ghost'
                  CONSTRAINT contacts_type_known CHECK (type IN ('vendor', 'contact', 'lead', 'ghost')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz,
    archived_at   timestamptz,
    merged_into   bigint REFERENCES cdp.contacts (id),
    CONSTRAINT contacts_not_merged_into_self CHECK (merged_into <> id)
);
CREATE INDEX contacts_merged_into_idx ON cdp.contacts (merged_into) WHERE merged_into IS NOT NULL;
-- No index on last_seen_at: every resolve moves it, and an index would make
-- those updates non-HOT; cleanup_ghosts, a maintenance job, scans instead.
COMMENT ON TABLE cdp.contacts IS
    'Unified contacts; a merged contact stays as a tombstone whose merged_into leads to the survivor';
COMMENT ON COLUMN cdp.contacts.type IS
    'vendor if is_vendor; contact if named with a validated email or phone; lead if named with an email or phone; else ghost';
COMMENT ON COLUMN cdp.contacts.merged_into IS 'The contact this one was merged into (a tombstone), or NULL';

CREATE TABLE cdp.identifiers (
    id                bigserial PRIMARY KEY,
    contact_id        bigint NOT NULL REFERENCES cdp.contacts (id),
    kind              text NOT NULL,    -- a cdp.identifier_kinds row; see kind_integrity.sql
    value             text NOT NULL,
    raw_value         text,
    slug              text,
    source            text,
    is_validated      boolean NOT NULL DEFAULT false,
    validation_method text,
    validated_at      timestamptz,
    outreach          boolean NOT NULL DEFAULT false,
    first_seen_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT identifiers_kind_value_key UNIQUE (kind, value),
    CONSTRAINT identifiers_contact_kind_slug_key UNIQUE (contact_id, kind, slug)
);
-- Lookups by contact use identifiers_contact_kind_slug_key (contact_id first).
COMMENT ON TABLE cdp.identifiers IS
    'Normalised identifiers of contacts; each (kind, value) belongs to exactly one contact';
COMMENT ON COLUMN cdp.identifiers.slug IS
    'Role of the identifier among its kind on the contact (main, work, ...); NULL when cleared by a merge';

CREATE TABLE cdp.merges (
    id           bigserial PRIMARY KEY,
    survivor_id  bigint NOT NULL REFERENCES cdp.contacts (id),
    absorbed_id  bigint NOT NULL REFERENCES cdp.contacts (id),
    reason       text NOT NULL,
    evidence     jsonb,
    source       text,
    merged_at    timestamptz NOT NULL DEFAULT now(),
    undone_at    timestamptz,
    snapshot     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX merges_survivor_idx ON cdp.merges (survivor_id);
CREATE INDEX merges_absorbed_idx ON cdp.merges (absorbed_id);
COMMENT ON TABLE cdp.merges IS
    'Every merge, with the identifier that linked the contacts (evidence) and a snapshot to undo it';

CREATE TABLE cdp.identity_conflicts (
    id                bigserial PRIMARY KEY,
    at                timestamptz NOT NULL DEFAULT now(),
    rule              text NOT NULL
                      CONSTRAINT identity_conflicts_rule_known
                      CHECK (rule IN ('invalid', 'blocked', 'limit', 'merge_block')),
    kind              text NOT NULL,
    value             text NOT NULL,
    contact_id        bigint,
    other_contact_id  bigint,
    source            text,
    reason            text
);
COMMENT ON TABLE cdp.identity_conflicts IS
    'Links that a merge rule refused: invalid and blocked values, max_per_contact limits, merge blocks';
COMMENT ON COLUMN cdp.identity_conflicts.value IS
    'The normalised value; for rule invalid, the value as it came (the normaliser refused it)';
COMMENT ON COLUMN cdp.identity_conflicts.reason IS
    'For rule invalid: why the normaliser refused the value';

CREATE TABLE cdp.merge_blocks (
    contact_a  bigint NOT NULL REFERENCES cdp.contacts (id),
    contact_b  bigint NOT NULL REFERENCES cdp.contacts (id),
    reason     text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contact_a, contact_b),
    CONSTRAINT merge_blocks_ordered CHECK (contact_a < contact_b)
);
COMMENT ON TABLE cdp.merge_blocks IS
    'Pairs of contacts that are never merged (contact_a < contact_b); unmerge adds one';

CREATE TABLE cdp.suppressions (
    kind        text NOT NULL,
    value_hash  bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, value_hash)
);
COMMENT ON TABLE cdp.suppressions IS
    'Salted hashes of the identifiers of forgotten people; resolving one of them is refused';

SELECT pg_catalog.pg_extension_config_dump('cdp.contacts', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.contacts_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.identifiers', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.identifiers_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.merges', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.merges_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.identity_conflicts', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.identity_conflicts_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.merge_blocks', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.suppressions', '');
