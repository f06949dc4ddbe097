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
    'Derived, never set directly (resolve, merges and update_contact recompute it; cdp.refresh_contact_type after manual edits): vendor if is_vendor; else ghost without a given or family name; else contact with a validated identifier of an email or phone kind; else lead with any email or phone identifier; else ghost';
COMMENT ON COLUMN cdp.contacts.merged_into IS
    'NULL for a live contact; for a tombstone, the live survivor it was merged into (repointed when the survivor is merged in turn, so it is never a chain)';
COMMENT ON COLUMN cdp.contacts.id IS
    'Contact id; after a merge, a tombstone id still leads to the survivor through merged_into';
COMMENT ON COLUMN cdp.contacts.given_name IS 'Given name, or NULL';
COMMENT ON COLUMN cdp.contacts.family_name IS 'Family name, or NULL';
COMMENT ON COLUMN cdp.contacts.is_vendor IS
    'Set by an administrator: the contact is a vendor (its type is then vendor)';
COMMENT ON COLUMN cdp.contacts.created_at IS 'When the contact was created';
COMMENT ON COLUMN cdp.contacts.updated_at IS
    'When the contact row (names, type, merged_into, archived_at) last changed';
COMMENT ON COLUMN cdp.contacts.last_seen_at IS
    'When resolve or track last saw one of its identifiers; NULL if never';
COMMENT ON COLUMN cdp.contacts.archived_at IS 'When the contact was archived (cdp.archive); NULL if live';

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
COMMENT ON COLUMN cdp.identifiers.id IS 'Identifier id';
COMMENT ON COLUMN cdp.identifiers.contact_id IS
    'The contact holding the value (always a live contact: a merge moves identifiers to the survivor)';
COMMENT ON COLUMN cdp.identifiers.kind IS 'The identifier kind (cdp.identifier_kinds.kind)';
COMMENT ON COLUMN cdp.identifiers.value IS
    'The value normalised by the kind''s normalizer: what matching compares';
COMMENT ON COLUMN cdp.identifiers.raw_value IS 'The value as it first came, before normalisation';
COMMENT ON COLUMN cdp.identifiers.source IS
    'Where the value first came from (the source argument of resolve or track)';
COMMENT ON COLUMN cdp.identifiers.is_validated IS
    'Whether the value was confirmed (for example a verified email); a validated email or phone makes a named contact a contact rather than a lead';
COMMENT ON COLUMN cdp.identifiers.validation_method IS
    'How the value was confirmed, as the caller said; NULL if not validated';
COMMENT ON COLUMN cdp.identifiers.validated_at IS 'When the value was confirmed; NULL if not validated';
COMMENT ON COLUMN cdp.identifiers.outreach IS 'Whether the person agreed to be contacted at this value';
COMMENT ON COLUMN cdp.identifiers.first_seen_at IS 'When the value was first stored';
COMMENT ON COLUMN cdp.identifiers.last_seen_at IS 'When resolve or track last saw the value';

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
COMMENT ON COLUMN cdp.merges.id IS 'Merge id (the argument of cdp.unmerge)';
COMMENT ON COLUMN cdp.merges.survivor_id IS 'The contact that absorbed the other and lives on';
COMMENT ON COLUMN cdp.merges.absorbed_id IS
    'The contact absorbed: now a tombstone whose merged_into leads to the survivor';
COMMENT ON COLUMN cdp.merges.reason IS
    'Why: resolve (a shared identifier), or the reason given to cdp.merge_contacts (manual by default)';
COMMENT ON COLUMN cdp.merges.evidence IS
    'The identifier that linked the two contacts, as JSON {"kind": .., "value": ..} (the normalised value); NULL for cdp.merge_contacts';
COMMENT ON COLUMN cdp.merges.source IS
    'The source of the record whose resolve made the merge; NULL for cdp.merge_contacts';
COMMENT ON COLUMN cdp.merges.merged_at IS 'When the merge was made';
COMMENT ON COLUMN cdp.merges.undone_at IS 'When cdp.unmerge undid the merge; NULL while it stands';
COMMENT ON COLUMN cdp.merges.snapshot IS
    'What unmerge needs to restore the absorbed contact: {"identifiers": [{"id", "slug"}] it had, "contact": {"survivor": the survivor''s names before, "repointed": tombstones that led to the absorbed contact}, "model": its profiles, tags, terms, memberships, documents and events moved}';

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
COMMENT ON COLUMN cdp.identity_conflicts.id IS 'Conflict id';
COMMENT ON COLUMN cdp.identity_conflicts.at IS 'When the link was refused';
COMMENT ON COLUMN cdp.identity_conflicts.rule IS
    'The rule that refused the link: invalid (the normaliser refused the value), blocked (a blocked value or pattern of the kind), limit (max_per_contact of the kind), merge_block (a merge-blocked pair)';
COMMENT ON COLUMN cdp.identity_conflicts.kind IS 'The identifier kind of the value';
COMMENT ON COLUMN cdp.identity_conflicts.contact_id IS
    'The contact that holds the value after the resolve (the survivor if its holder was merged into the record''s contact); NULL when no contact holds it: always for invalid, and for blocked or limit when the value was stored nowhere. For merge_block, the live contact holding one end of the blocked pair (that end itself, or the contact it was merged into)';
COMMENT ON COLUMN cdp.identity_conflicts.other_contact_id IS
    'The contact the record resolved to, which the refused value was not linked to (for merge_block, the live contact holding the other end of the blocked pair; for limit, the contact that would have exceeded max_per_contact); NULL when the record made no contact because all its values were invalid or blocked';
COMMENT ON COLUMN cdp.identity_conflicts.source IS 'The source of the record that brought the value';

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
COMMENT ON COLUMN cdp.merge_blocks.contact_a IS 'The lower contact id of the pair';
COMMENT ON COLUMN cdp.merge_blocks.contact_b IS 'The higher contact id of the pair';
COMMENT ON COLUMN cdp.merge_blocks.reason IS
    'Why the pair must stay apart (unmerge records the merge it undid)';
COMMENT ON COLUMN cdp.merge_blocks.created_at IS 'When the block was made';

CREATE TABLE cdp.suppressions (
    kind        text NOT NULL,
    value_hash  bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, value_hash)
);
COMMENT ON TABLE cdp.suppressions IS
    'Salted hashes of the identifiers of forgotten people; resolving one of them is refused';
COMMENT ON COLUMN cdp.suppressions.kind IS 'The identifier kind of the forgotten value';
COMMENT ON COLUMN cdp.suppressions.value_hash IS
    'sha256 of the salt (cdp_internal.secrets) and the kind and normalised value';
COMMENT ON COLUMN cdp.suppressions.created_at IS 'When the value was suppressed (cdp.forget_contact)';

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
