-- cdp.sql
--   The schemas of the extension; the schema cdp itself comes from cdp.control.
\echo Use "CREATE EXTENSION cdp" to load this file. \quit

CREATE SCHEMA cdp_data;
CREATE SCHEMA cdp_views;
CREATE SCHEMA cdp_internal;

COMMENT ON SCHEMA cdp IS 'cdp public API: catalog and core tables, types and functions';
COMMENT ON SCHEMA cdp_data IS 'cdp typed tables generated from profile and document-template definitions';
COMMENT ON SCHEMA cdp_views IS 'cdp views generated from saved views, for BI tools and activation';
COMMENT ON SCHEMA cdp_internal IS 'cdp private helpers; not an API';
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
-- identifier.sql
--   Identifier normalisation functions (C in identifier_fmgr.c).

CREATE FUNCTION cdp.normalize_email(value text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_normalize_email'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cdp.normalize_email(text) IS
    'Matching key of an email address: trimmed, NFC, lower case, IDNA A-label domain, provider rules applied';

-- Not STRICT: region may be NULL, then cdp.default_region applies; STABLE
-- because of that setting.
CREATE FUNCTION cdp.normalize_phone(value text, region text DEFAULT NULL) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_normalize_phone'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION cdp.normalize_phone(text, text) IS
    'E.164 form of a valid phone number (libphonenumber); region is the ISO 3166 default region';

CREATE FUNCTION cdp_internal.normalize_value(normalizer text, value text, region text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_normalize_value'
    LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION cdp_internal.is_valid_value(normalizer text, value text, region text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'cdp_is_valid_value'
    LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION cdp.normalize_identifier(kind text, value text, region text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kind_normalizer text;
BEGIN
    IF kind IS NULL OR value IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT k.normalizer INTO kind_normalizer
      FROM cdp.identifier_kinds k WHERE k.kind = normalize_identifier.kind;
    IF kind_normalizer IS NULL THEN
        RAISE EXCEPTION 'unknown identifier kind: "%"', kind
            USING ERRCODE = 'undefined_object',
                  HINT = 'Identifier kinds are the rows of cdp.identifier_kinds.';
    END IF;
    RETURN cdp_internal.normalize_value(kind_normalizer, value, region);
END
$$;
COMMENT ON FUNCTION cdp.normalize_identifier(text, text, text) IS
    'Normalise a value with the normaliser of its identifier kind';

CREATE FUNCTION cdp.is_valid_identifier(kind text, value text, region text DEFAULT NULL)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(
        (SELECT cdp_internal.is_valid_value(k.normalizer, value, region)
           FROM cdp.identifier_kinds k WHERE k.kind = is_valid_identifier.kind),
        false)
$$;
COMMENT ON FUNCTION cdp.is_valid_identifier(text, text, text) IS
    'Whether the value normalises for its kind; false instead of an error, also for unknown kinds';

CREATE FUNCTION cdp.email_info(value text,
    OUT local text, OUT domain text, OUT unicode_domain text,
    OUT provider text, OUT role_account boolean, OUT normalized text)
    AS 'MODULE_PATHNAME', 'cdp_email_info'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cdp.email_info(text) IS
    'Parts of an email address: lower-cased local part, A-label and Unicode domain, provider, role account, matching key';

CREATE FUNCTION cdp.phone_info(value text, region text DEFAULT NULL,
    OUT e164 text, OUT country_code integer, OUT region_code text,
    OUT number_type text, OUT national_format text, OUT international_format text, OUT valid boolean)
    AS 'MODULE_PATHNAME', 'cdp_phone_info'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION cdp.phone_info(text, text) IS
    'Parts of a phone number from libphonenumber: E.164, country code, region, number type, formats, validity';
-- email_type.sql (generated from normtext_type.sql.in by the Makefile)
--   The cdp.email type: text whose input normalises and validates, compared
--   byte-wise, with btree and hash operator classes and a cast to text.

CREATE TYPE cdp.email;

CREATE FUNCTION cdp.email_in(cstring) RETURNS cdp.email
    AS 'MODULE_PATHNAME', 'cdp_email_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cdp.email_out(cdp.email) RETURNS cstring
    AS 'MODULE_PATHNAME', 'cdp_normtext_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cdp.email_recv(internal) RETURNS cdp.email
    AS 'MODULE_PATHNAME', 'cdp_email_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cdp.email_send(cdp.email) RETURNS bytea
    AS 'MODULE_PATHNAME', 'cdp_normtext_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE cdp.email (
    INPUT = cdp.email_in,
    OUTPUT = cdp.email_out,
    RECEIVE = cdp.email_recv,
    SEND = cdp.email_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended,
    CATEGORY = 'S'
);
COMMENT ON TYPE cdp.email IS 'An email address, stored as its normalised matching key';

CREATE FUNCTION cdp.email(text) RETURNS cdp.email
    AS 'MODULE_PATHNAME', 'cdp_email_from_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cdp.email(text) IS 'Normalise and validate text as cdp.email';

CREATE CAST (cdp.email AS text) WITHOUT FUNCTION AS IMPLICIT;
CREATE CAST (text AS cdp.email) WITH FUNCTION cdp.email(text) AS ASSIGNMENT;

CREATE FUNCTION cdp.email_cmp(cdp.email, cdp.email) RETURNS integer
    AS 'MODULE_PATHNAME', 'cdp_normtext_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cdp.email_eq(cdp.email, cdp.email) RETURNS boolean
    AS 'MODULE_PATHNAME', 'cdp_normtext_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION cdp.email_ne(cdp.email, cdp.email) RETURNS boolean
    AS 'MODULE_PATHNAME', 'cdp_normtext_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION cdp.email_lt(cdp.email, cdp.email) RETURNS boolean
    AS 'MODULE_PATHNAME', 'cdp_normtext_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION cdp.email_le(cdp.email, cdp.email) RETURNS boolean
    AS 'MODULE_PATHNAME', 'cdp_normtext_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION cdp.email_gt(cdp.email, cdp.email) RETURNS boolean
    AS 'MODULE_PATHNAME', 'cdp_normtext_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION cdp.email_ge(cdp.email, cdp.email) RETURNS boolean
    AS 'MODULE_PATHNAME', 'cdp_normtext_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION cdp.email_hash(cdp.email) RETURNS integer
    AS 'MODULE_PATHNAME', 'cdp_normtext_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cdp.email_hash_extended(cdp.email, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'cdp_normtext_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR cdp.= (
    LEFTARG = cdp.email, RIGHTARG = cdp.email, FUNCTION = cdp.email_eq,
    COMMUTATOR = OPERATOR(cdp.=), NEGATOR = OPERATOR(cdp.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR cdp.<> (
    LEFTARG = cdp.email, RIGHTARG = cdp.email, FUNCTION = cdp.email_ne,
    COMMUTATOR = OPERATOR(cdp.<>), NEGATOR = OPERATOR(cdp.=),
    RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR cdp.< (
    LEFTARG = cdp.email, RIGHTARG = cdp.email, FUNCTION = cdp.email_lt,
    COMMUTATOR = OPERATOR(cdp.>), NEGATOR = OPERATOR(cdp.>=),
    RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR cdp.<= (
    LEFTARG = cdp.email, RIGHTARG = cdp.email, FUNCTION = cdp.email_le,
    COMMUTATOR = OPERATOR(cdp.>=), NEGATOR = OPERATOR(cdp.>),
    RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR cdp.> (
    LEFTARG = cdp.email, RIGHTARG = cdp.email, FUNCTION = cdp.email_gt,
    COMMUTATOR = OPERATOR(cdp.<), NEGATOR = OPERATOR(cdp.<=),
    RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR cdp.>= (
    LEFTARG = cdp.email, RIGHTARG = cdp.email, FUNCTION = cdp.email_ge,
    COMMUTATOR = OPERATOR(cdp.<=), NEGATOR = OPERATOR(cdp.<),
    RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS cdp.email_ops DEFAULT FOR TYPE cdp.email USING btree AS
    OPERATOR 1 cdp.<,
    OPERATOR 2 cdp.<=,
    OPERATOR 3 cdp.=,
    OPERATOR 4 cdp.>=,
    OPERATOR 5 cdp.>,
    FUNCTION 1 cdp.email_cmp(cdp.email, cdp.email);

CREATE OPERATOR CLASS cdp.email_hash_ops DEFAULT FOR TYPE cdp.email USING hash AS
    OPERATOR 1 cdp.=,
    FUNCTION 1 cdp.email_hash(cdp.email),
    FUNCTION 2 cdp.email_hash_extended(cdp.email, bigint);

COMMENT ON FUNCTION cdp.email_in(cstring) IS 'Input of cdp.email: normalises and validates';
COMMENT ON FUNCTION cdp.email_out(cdp.email) IS 'Output of cdp.email: the normalised text';
COMMENT ON FUNCTION cdp.email_recv(internal) IS 'Binary input of cdp.email: normalises and validates like text input';
COMMENT ON FUNCTION cdp.email_send(cdp.email) IS 'Binary output of cdp.email';
COMMENT ON FUNCTION cdp.email_cmp(cdp.email, cdp.email) IS 'Byte-wise comparison of cdp.email (btree support)';
COMMENT ON FUNCTION cdp.email_eq(cdp.email, cdp.email) IS 'Implementation of = for cdp.email';
COMMENT ON FUNCTION cdp.email_ne(cdp.email, cdp.email) IS 'Implementation of <> for cdp.email';
COMMENT ON FUNCTION cdp.email_lt(cdp.email, cdp.email) IS 'Implementation of < for cdp.email';
COMMENT ON FUNCTION cdp.email_le(cdp.email, cdp.email) IS 'Implementation of <= for cdp.email';
COMMENT ON FUNCTION cdp.email_gt(cdp.email, cdp.email) IS 'Implementation of > for cdp.email';
COMMENT ON FUNCTION cdp.email_ge(cdp.email, cdp.email) IS 'Implementation of >= for cdp.email';
COMMENT ON FUNCTION cdp.email_hash(cdp.email) IS 'Hash of cdp.email (hash index and hash join support)';
COMMENT ON FUNCTION cdp.email_hash_extended(cdp.email, bigint) IS 'Seeded 64-bit hash of cdp.email (hash support)';
-- phone_type.sql (generated from normtext_type.sql.in by the Makefile)
--   The cdp.phone type: text whose input normalises and validates, compared
--   byte-wise, with btree and hash operator classes and a cast to text.

CREATE TYPE cdp.phone;

CREATE FUNCTION cdp.phone_in(cstring) RETURNS cdp.phone
    AS 'MODULE_PATHNAME', 'cdp_phone_in' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cdp.phone_out(cdp.phone) RETURNS cstring
    AS 'MODULE_PATHNAME', 'cdp_normtext_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cdp.phone_recv(internal) RETURNS cdp.phone
    AS 'MODULE_PATHNAME', 'cdp_phone_recv' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cdp.phone_send(cdp.phone) RETURNS bytea
    AS 'MODULE_PATHNAME', 'cdp_normtext_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE cdp.phone (
    INPUT = cdp.phone_in,
    OUTPUT = cdp.phone_out,
    RECEIVE = cdp.phone_recv,
    SEND = cdp.phone_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended,
    CATEGORY = 'S'
);
COMMENT ON TYPE cdp.phone IS 'A valid phone number in E.164 form; input without + uses cdp.default_region';

CREATE FUNCTION cdp.phone(text) RETURNS cdp.phone
    AS 'MODULE_PATHNAME', 'cdp_phone_from_text' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cdp.phone(text) IS 'Normalise and validate text as cdp.phone';

CREATE CAST (cdp.phone AS text) WITHOUT FUNCTION AS IMPLICIT;
CREATE CAST (text AS cdp.phone) WITH FUNCTION cdp.phone(text) AS ASSIGNMENT;

CREATE FUNCTION cdp.phone_cmp(cdp.phone, cdp.phone) RETURNS integer
    AS 'MODULE_PATHNAME', 'cdp_normtext_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cdp.phone_eq(cdp.phone, cdp.phone) RETURNS boolean
    AS 'MODULE_PATHNAME', 'cdp_normtext_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION cdp.phone_ne(cdp.phone, cdp.phone) RETURNS boolean
    AS 'MODULE_PATHNAME', 'cdp_normtext_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION cdp.phone_lt(cdp.phone, cdp.phone) RETURNS boolean
    AS 'MODULE_PATHNAME', 'cdp_normtext_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION cdp.phone_le(cdp.phone, cdp.phone) RETURNS boolean
    AS 'MODULE_PATHNAME', 'cdp_normtext_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION cdp.phone_gt(cdp.phone, cdp.phone) RETURNS boolean
    AS 'MODULE_PATHNAME', 'cdp_normtext_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION cdp.phone_ge(cdp.phone, cdp.phone) RETURNS boolean
    AS 'MODULE_PATHNAME', 'cdp_normtext_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION cdp.phone_hash(cdp.phone) RETURNS integer
    AS 'MODULE_PATHNAME', 'cdp_normtext_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cdp.phone_hash_extended(cdp.phone, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'cdp_normtext_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR cdp.= (
    LEFTARG = cdp.phone, RIGHTARG = cdp.phone, FUNCTION = cdp.phone_eq,
    COMMUTATOR = OPERATOR(cdp.=), NEGATOR = OPERATOR(cdp.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR cdp.<> (
    LEFTARG = cdp.phone, RIGHTARG = cdp.phone, FUNCTION = cdp.phone_ne,
    COMMUTATOR = OPERATOR(cdp.<>), NEGATOR = OPERATOR(cdp.=),
    RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR cdp.< (
    LEFTARG = cdp.phone, RIGHTARG = cdp.phone, FUNCTION = cdp.phone_lt,
    COMMUTATOR = OPERATOR(cdp.>), NEGATOR = OPERATOR(cdp.>=),
    RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR cdp.<= (
    LEFTARG = cdp.phone, RIGHTARG = cdp.phone, FUNCTION = cdp.phone_le,
    COMMUTATOR = OPERATOR(cdp.>=), NEGATOR = OPERATOR(cdp.>),
    RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR cdp.> (
    LEFTARG = cdp.phone, RIGHTARG = cdp.phone, FUNCTION = cdp.phone_gt,
    COMMUTATOR = OPERATOR(cdp.<), NEGATOR = OPERATOR(cdp.<=),
    RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR cdp.>= (
    LEFTARG = cdp.phone, RIGHTARG = cdp.phone, FUNCTION = cdp.phone_ge,
    COMMUTATOR = OPERATOR(cdp.<=), NEGATOR = OPERATOR(cdp.<),
    RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS cdp.phone_ops DEFAULT FOR TYPE cdp.phone USING btree AS
    OPERATOR 1 cdp.<,
    OPERATOR 2 cdp.<=,
    OPERATOR 3 cdp.=,
    OPERATOR 4 cdp.>=,
    OPERATOR 5 cdp.>,
    FUNCTION 1 cdp.phone_cmp(cdp.phone, cdp.phone);

CREATE OPERATOR CLASS cdp.phone_hash_ops DEFAULT FOR TYPE cdp.phone USING hash AS
    OPERATOR 1 cdp.=,
    FUNCTION 1 cdp.phone_hash(cdp.phone),
    FUNCTION 2 cdp.phone_hash_extended(cdp.phone, bigint);

COMMENT ON FUNCTION cdp.phone_in(cstring) IS 'Input of cdp.phone: normalises and validates';
COMMENT ON FUNCTION cdp.phone_out(cdp.phone) IS 'Output of cdp.phone: the normalised text';
COMMENT ON FUNCTION cdp.phone_recv(internal) IS 'Binary input of cdp.phone: normalises and validates like text input';
COMMENT ON FUNCTION cdp.phone_send(cdp.phone) IS 'Binary output of cdp.phone';
COMMENT ON FUNCTION cdp.phone_cmp(cdp.phone, cdp.phone) IS 'Byte-wise comparison of cdp.phone (btree support)';
COMMENT ON FUNCTION cdp.phone_eq(cdp.phone, cdp.phone) IS 'Implementation of = for cdp.phone';
COMMENT ON FUNCTION cdp.phone_ne(cdp.phone, cdp.phone) IS 'Implementation of <> for cdp.phone';
COMMENT ON FUNCTION cdp.phone_lt(cdp.phone, cdp.phone) IS 'Implementation of < for cdp.phone';
COMMENT ON FUNCTION cdp.phone_le(cdp.phone, cdp.phone) IS 'Implementation of <= for cdp.phone';
COMMENT ON FUNCTION cdp.phone_gt(cdp.phone, cdp.phone) IS 'Implementation of > for cdp.phone';
COMMENT ON FUNCTION cdp.phone_ge(cdp.phone, cdp.phone) IS 'Implementation of >= for cdp.phone';
COMMENT ON FUNCTION cdp.phone_hash(cdp.phone) IS 'Hash of cdp.phone (hash index and hash join support)';
COMMENT ON FUNCTION cdp.phone_hash_extended(cdp.phone, bigint) IS 'Seeded 64-bit hash of cdp.phone (hash support)';
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
                      CONSTRAINT identity_conflicts_rule_known CHECK (rule IN ('blocked', 'limit', 'merge_block')),
    kind              text NOT NULL,
    value             text NOT NULL,
    contact_id        bigint,
    other_contact_id  bigint,
    source            text
);
COMMENT ON TABLE cdp.identity_conflicts IS
    'Links that a merge rule refused: blocked values, max_per_contact limits, merge blocks';

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
-- kind_integrity.sql
--   cdp.identifiers.kind must name a cdp.identifier_kinds row.  A foreign key
--   would check that once per inserted row, which is a fifth of a bulk load;
--   these triggers check each statement once and keep ON UPDATE CASCADE's
--   and RESTRICT's behaviour on the kinds side.

CREATE FUNCTION cdp_internal.check_identifier_kinds() RETURNS trigger
AS 'MODULE_PATHNAME', 'cdp_check_identifier_kinds'
LANGUAGE C;
CREATE TRIGGER identifiers_check_kinds
    AFTER INSERT ON cdp.identifiers REFERENCING NEW TABLE AS new_identifiers
    FOR EACH STATEMENT EXECUTE FUNCTION cdp_internal.check_identifier_kinds();

-- A row's kind may change only to a known kind (UPDATE OF fires only when
-- the statement sets kind, so identity resolution's updates pay nothing).
CREATE FUNCTION cdp_internal.check_identifier_kind() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM cdp.identifier_kinds k WHERE k.kind = NEW.kind) THEN
        RAISE EXCEPTION 'update of cdp.identifiers violates its kind reference'
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Identifier kind "%s" is not in cdp.identifier_kinds.', NEW.kind);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER identifiers_check_kind
    BEFORE UPDATE OF kind ON cdp.identifiers
    FOR EACH ROW EXECUTE FUNCTION cdp_internal.check_identifier_kind();

-- Kinds in use cannot be deleted; renaming a kind renames its identifiers.
CREATE FUNCTION cdp_internal.protect_identifier_kind() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.kind IS DISTINCT FROM OLD.kind THEN
            UPDATE cdp.identifiers SET kind = NEW.kind WHERE kind = OLD.kind;
        END IF;
        RETURN NEW;
    END IF;
    -- no concurrent insert of this kind may slip past the check
    LOCK TABLE cdp.identifiers IN SHARE MODE;
    IF EXISTS (SELECT 1 FROM cdp.identifiers i WHERE i.kind = OLD.kind) THEN
        RAISE EXCEPTION 'identifier kind "%" is still used by cdp.identifiers', OLD.kind
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'Delete or re-kind those identifiers first.';
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER identifier_kinds_protect
    AFTER UPDATE OF kind OR DELETE ON cdp.identifier_kinds
    FOR EACH ROW EXECUTE FUNCTION cdp_internal.protect_identifier_kind();

CREATE FUNCTION cdp_internal.refuse_kinds_truncate() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM cdp.identifiers) THEN
        RAISE EXCEPTION 'cannot truncate cdp.identifier_kinds while cdp.identifiers has rows'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER identifier_kinds_refuse_truncate
    BEFORE TRUNCATE ON cdp.identifier_kinds
    FOR EACH STATEMENT EXECUTE FUNCTION cdp_internal.refuse_kinds_truncate();
-- identity.sql
--   Identity resolution: resolve, merge_contacts and unmerge (C in
--   resolve.c and merge.c) and the SQL around them: following tombstones,
--   the contact type, forgetting a person and cleaning up ghosts.

-- The salt of suppression hashes is made on first use, not at install, so
-- that a restored dump brings back the salt its hashes were made with.
CREATE TABLE cdp_internal.secrets (
    singleton  boolean PRIMARY KEY DEFAULT true CONSTRAINT secrets_singleton CHECK (singleton),
    salt       bytea NOT NULL
);
REVOKE ALL ON cdp_internal.secrets FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('cdp_internal.secrets', '');

CREATE FUNCTION cdp_internal.identifier_hash(kind text, value text) RETURNS bytea
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT sha256(s.salt || convert_to(kind || chr(1) || value, 'UTF8'))
              FROM cdp_internal.secrets s);
END
$$;

CREATE FUNCTION cdp_internal.ensure_salt() RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO cdp_internal.secrets (salt)
    VALUES (sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text
                              || clock_timestamp()::text, 'UTF8')))
    ON CONFLICT (singleton) DO NOTHING
$$;

-- PL/pgSQL rather than SQL: resolve calls it once per record, and PL/pgSQL
-- keeps the statement's plan where a SQL function would parse it every call.
CREATE FUNCTION cdp_internal.refresh_contact_type(contact bigint) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE cdp.contacts c
       SET type = t.type, updated_at = now()
      FROM (SELECT CASE
                     WHEN c2.is_vendor THEN 'vendor'
                     WHEN coalesce(c2.given_name, '') = '' AND coalesce(c2.family_name, '') = '' THEN 'ghost'
                     WHEN EXISTS (SELECT 1 FROM cdp.identifiers i JOIN cdp.identifier_kinds k USING (kind)
                                   WHERE i.contact_id = c2.id AND i.is_validated
                                     AND k.normalizer IN ('email', 'phone')) THEN 'contact'
                     WHEN EXISTS (SELECT 1 FROM cdp.identifiers i JOIN cdp.identifier_kinds k USING (kind)
                                   WHERE i.contact_id = c2.id
                                     AND k.normalizer IN ('email', 'phone')) THEN 'lead'
                     ELSE 'ghost'
                   END AS type
              FROM cdp.contacts c2 WHERE c2.id = contact) t
     WHERE c.id = contact AND c.type IS DISTINCT FROM t.type;
END
$$;

-- resolve keeps the kinds and whether anyone was forgotten per backend;
-- these triggers tell every backend when that copy is stale.
CREATE FUNCTION cdp_internal.invalidate_cache() RETURNS trigger
AS 'MODULE_PATHNAME', 'cdp_invalidate_cache'
LANGUAGE C;
CREATE TRIGGER identifier_kinds_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cdp.identifier_kinds
    FOR EACH STATEMENT EXECUTE FUNCTION cdp_internal.invalidate_cache();
CREATE TRIGGER suppressions_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cdp.suppressions
    FOR EACH STATEMENT EXECUTE FUNCTION cdp_internal.invalidate_cache();

CREATE FUNCTION cdp.resolve(identifiers jsonb, source text DEFAULT NULL, region text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'cdp_resolve'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION cdp.resolve(jsonb, text, text) IS
    'Resolve a record''s identifiers to one contact: create, attach or merge under the merge rules; returns the contact id';

CREATE FUNCTION cdp.merge_contacts(target bigint, others bigint[], reason text DEFAULT 'manual')
RETURNS bigint
AS 'MODULE_PATHNAME', 'cdp_merge_contacts'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION cdp.merge_contacts(bigint, bigint[], text) IS
    'Merge other contacts into target, which survives; refused by merge blocks and identifier limits';

CREATE FUNCTION cdp.unmerge(merge_id bigint) RETURNS bigint
AS 'MODULE_PATHNAME', 'cdp_unmerge'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION cdp.unmerge(bigint) IS
    'Undo a merge: restore the absorbed contact with what came from it, mark the merge undone, block the pair';

CREATE FUNCTION cdp.current_contact(id bigint) RETURNS bigint
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE chain(id, merged_into, depth) AS (
        SELECT c.id, c.merged_into, 0 FROM cdp.contacts c WHERE c.id = current_contact.id
        UNION ALL
        SELECT c.id, c.merged_into, chain.depth + 1
          FROM cdp.contacts c JOIN chain ON c.id = chain.merged_into
         WHERE chain.depth < 1000)
    SELECT chain.id FROM chain WHERE chain.merged_into IS NULL
$$;
COMMENT ON FUNCTION cdp.current_contact(bigint) IS
    'The live contact an id leads to, following merge tombstones; NULL for unknown ids';

-- A live contact and every tombstone leading to it: one person.
CREATE FUNCTION cdp_internal.contact_family(live bigint) RETURNS SETOF bigint
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE family(id) AS (
        SELECT live
        UNION
        SELECT c.id FROM cdp.contacts c JOIN family f ON c.merged_into = f.id)
    SELECT id FROM family
$$;

CREATE FUNCTION cdp.find_contact(kind text, value text, region text DEFAULT NULL) RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT cdp.current_contact(i.contact_id)
      FROM cdp.identifiers i
     WHERE i.kind = find_contact.kind
       AND i.value = cdp.normalize_identifier(find_contact.kind, find_contact.value, find_contact.region)
$$;
COMMENT ON FUNCTION cdp.find_contact(text, text, text) IS
    'The contact holding an identifier (normalised first); NULL when unknown';

CREATE FUNCTION cdp.update_contact(id bigint, given_name text DEFAULT NULL,
                                   family_name text DEFAULT NULL, is_vendor boolean DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    merged bigint;
BEGIN
    IF id IS NULL THEN
        RAISE EXCEPTION 'contact id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT c.merged_into INTO merged FROM cdp.contacts c WHERE c.id = update_contact.id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'contact % does not exist', id USING ERRCODE = 'undefined_object';
    END IF;
    IF merged IS NOT NULL THEN
        RAISE EXCEPTION 'contact % is merged into contact %', id, merged
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Use cdp.current_contact(%s) to find the live contact.', id);
    END IF;
    UPDATE cdp.contacts c
       SET given_name = coalesce(update_contact.given_name, c.given_name),
           family_name = coalesce(update_contact.family_name, c.family_name),
           is_vendor = coalesce(update_contact.is_vendor, c.is_vendor),
           updated_at = now()
     WHERE c.id = update_contact.id;
    PERFORM cdp_internal.refresh_contact_type(id);
END
$$;
COMMENT ON FUNCTION cdp.update_contact(bigint, text, text, boolean) IS
    'Set a contact''s own fields (NULL leaves a field as it is); the type follows';

CREATE FUNCTION cdp.forget_contact(id bigint) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    live bigint := cdp.current_contact(id);
    person bigint[];
    member bigint;
BEGIN
    IF id IS NULL THEN
        RAISE EXCEPTION 'contact id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF live IS NULL THEN
        RAISE EXCEPTION 'contact % does not exist', id USING ERRCODE = 'undefined_object';
    END IF;
    person := ARRAY(SELECT cdp_internal.contact_family(live));
    PERFORM 1 FROM cdp.contacts c WHERE c.id = ANY (person) ORDER BY c.id FOR UPDATE;

    PERFORM cdp_internal.ensure_salt();
    INSERT INTO cdp.suppressions (kind, value_hash)
    SELECT i.kind, cdp_internal.identifier_hash(i.kind, i.value)
      FROM cdp.identifiers i WHERE i.contact_id = ANY (person)
    ON CONFLICT DO NOTHING;

    DELETE FROM cdp.identity_conflicts ic
     WHERE ic.contact_id = ANY (person) OR ic.other_contact_id = ANY (person)
        OR (ic.kind, ic.value) IN (SELECT i.kind, i.value FROM cdp.identifiers i
                                    WHERE i.contact_id = ANY (person));
    DELETE FROM cdp.identifiers i WHERE i.contact_id = ANY (person);
    FOREACH member IN ARRAY person LOOP
        PERFORM cdp_internal.model_forget(member);
    END LOOP;
    DELETE FROM cdp.merges m WHERE m.survivor_id = ANY (person) OR m.absorbed_id = ANY (person);
    DELETE FROM cdp.merge_blocks b WHERE b.contact_a = ANY (person) OR b.contact_b = ANY (person);
    UPDATE cdp.contacts c SET merged_into = NULL WHERE c.id = ANY (person);
    DELETE FROM cdp.contacts c WHERE c.id = ANY (person);
END
$$;
COMMENT ON FUNCTION cdp.forget_contact(bigint) IS
    'Erase a person everywhere; only salted hashes of their identifiers remain, so resolving them again is refused';

CREATE FUNCTION cdp.cleanup_ghosts(inactive_for interval) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ghosts bigint[];
    ghost bigint;
BEGIN
    IF inactive_for IS NULL OR inactive_for < interval '0' THEN
        RAISE EXCEPTION 'inactive_for must be a non-negative interval'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT array_agg(c.id ORDER BY c.id) INTO ghosts
      FROM cdp.contacts c
     WHERE c.type = 'ghost' AND c.merged_into IS NULL
       AND coalesce(c.last_seen_at, c.created_at) < now() - inactive_for
       AND NOT EXISTS (SELECT 1 FROM cdp.contacts t WHERE t.merged_into = c.id)
       AND NOT EXISTS (SELECT 1 FROM cdp.merges m WHERE c.id IN (m.survivor_id, m.absorbed_id))
       AND NOT EXISTS (SELECT 1 FROM cdp.merge_blocks b WHERE c.id IN (b.contact_a, b.contact_b));
    IF ghosts IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM 1 FROM cdp.contacts c WHERE c.id = ANY (ghosts) ORDER BY c.id FOR UPDATE;
    DELETE FROM cdp.identity_conflicts ic
     WHERE ic.contact_id = ANY (ghosts) OR ic.other_contact_id = ANY (ghosts);
    DELETE FROM cdp.identifiers i WHERE i.contact_id = ANY (ghosts);
    FOREACH ghost IN ARRAY ghosts LOOP
        PERFORM cdp_internal.model_forget(ghost);
    END LOOP;
    DELETE FROM cdp.contacts c WHERE c.id = ANY (ghosts);
    RETURN cardinality(ghosts);
END
$$;
COMMENT ON FUNCTION cdp.cleanup_ghosts(interval) IS
    'Delete ghost contacts (no name, not a vendor) not seen for inactive_for, with their identifiers; returns how many';

CREATE FUNCTION cdp.resolve_all(query text)
RETURNS TABLE (record_id text, contact_id bigint)
AS 'MODULE_PATHNAME', 'cdp_resolve_all'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION cdp.resolve_all(text) IS
    'Bulk resolution: query returns (record_id, kind, value[, source, region]); union-find in C under the merge rules of resolve';
-- graph.sql
--   cdp.identity_graph(contact): a contact's identity graph in Graphviz DOT,
--   for an administrator to look at (dot -Tsvg).

CREATE FUNCTION cdp_internal.dot_quote(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT '"' || replace(replace(replace(value, '\', '\\'), '"', '\"'), E'\n', '\n') || '"'
$$;

CREATE FUNCTION cdp.identity_graph(contact bigint) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    live bigint := cdp.current_contact(contact);
    palette text[] := ARRAY['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
                            '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
    dot text;
BEGIN
    IF contact IS NULL THEN
        RAISE EXCEPTION 'contact must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF live IS NULL THEN
        RAISE EXCEPTION 'contact % does not exist', contact USING ERRCODE = 'undefined_object';
    END IF;

    WITH family(id) AS (SELECT cdp_internal.contact_family(live)),
    kinds AS (
        SELECT k.kind, palette[1 + (row_number() OVER (ORDER BY k.priority, k.kind) - 1)::int % 10] AS color
          FROM cdp.identifier_kinds k),
    contact_nodes AS (
        SELECT format('  c%s [shape=box, style="rounded,filled", fillcolor=%s, label=%s];',
                      c.id, CASE WHEN c.id = live THEN '"#ffffff"' ELSE '"#eeeeee"' END,
                      cdp_internal.dot_quote(format('contact %s%s%s', c.id,
                          CASE WHEN c.id = live THEN ' (' || c.type || ')' ELSE ' (merged)' END,
                          coalesce(E'\n' || nullif(concat_ws(' ', c.given_name, c.family_name), ''), ''))))
               AS line, 0 AS part, c.id AS sort_id
          FROM cdp.contacts c WHERE c.id IN (SELECT id FROM family)),
    identifier_nodes AS (
        SELECT format('  i%s [shape=ellipse, style=filled, fillcolor=%s, fontcolor="#ffffff", label=%s];',
                      i.id, cdp_internal.dot_quote(k.color),
                      cdp_internal.dot_quote(i.kind || coalesce(' (' || i.slug || ')', '') || E'\n' || i.value
                                             || CASE WHEN i.is_validated THEN E'\nvalidated'
                                                     || coalesce(': ' || i.validation_method, '') ELSE '' END))
               AS line, 1 AS part, i.id AS sort_id
          FROM cdp.identifiers i JOIN kinds k USING (kind)
         WHERE i.contact_id IN (SELECT id FROM family)),
    identifier_edges AS (
        SELECT format('  c%s -- i%s [label=%s];', i.contact_id, i.id,
                      cdp_internal.dot_quote(coalesce(i.source, 'unknown source')))
               AS line, 2 AS part, i.id AS sort_id
          FROM cdp.identifiers i WHERE i.contact_id IN (SELECT id FROM family)),
    merge_edges AS (
        SELECT format('  c%s -- c%s [style=%s, color="#555555", label=%s];',
                      m.survivor_id, m.absorbed_id,
                      CASE WHEN m.undone_at IS NULL THEN 'bold' ELSE 'dashed' END,
                      cdp_internal.dot_quote(format('merge %s: %s%s%s', m.id, m.reason,
                          coalesce(E'\nvia ' || (m.evidence->>'kind') || ' ' || (m.evidence->>'value'), ''),
                          CASE WHEN m.undone_at IS NULL THEN '' ELSE E'\nundone' END)))
               AS line, 3 AS part, m.id AS sort_id
          FROM cdp.merges m
         WHERE m.survivor_id IN (SELECT id FROM family) OR m.absorbed_id IN (SELECT id FROM family)),
    restored_nodes AS (
        SELECT format('  c%s [shape=box, style="rounded,dashed", label=%s];', x.id,
                      cdp_internal.dot_quote(format('contact %s (unmerged)', x.id)))
               AS line, 0 AS part, x.id AS sort_id
          FROM (SELECT m.absorbed_id AS id FROM cdp.merges m
                 WHERE m.survivor_id IN (SELECT id FROM family) AND m.undone_at IS NOT NULL
                UNION
                SELECT m.survivor_id FROM cdp.merges m
                 WHERE m.absorbed_id IN (SELECT id FROM family) AND m.undone_at IS NOT NULL) x
         WHERE x.id NOT IN (SELECT id FROM family))
    SELECT format(E'graph %s {\n  graph [rankdir=LR, label=%s];\n  node [fontname="Helvetica"];\n'
                  || E'  edge [fontname="Helvetica", fontsize=10];\n%s\n}\n',
                  cdp_internal.dot_quote('contact_' || live),
                  cdp_internal.dot_quote(format('identity graph of contact %s', live)),
                  string_agg(line, E'\n' ORDER BY part, sort_id))
      INTO dot
      FROM (SELECT * FROM contact_nodes UNION ALL SELECT * FROM restored_nodes
            UNION ALL SELECT * FROM identifier_nodes UNION ALL SELECT * FROM identifier_edges
            UNION ALL SELECT * FROM merge_edges) lines;
    RETURN dot;
END
$$;
COMMENT ON FUNCTION cdp.identity_graph(bigint) IS
    'The contact''s identity graph in Graphviz DOT: identifiers coloured by kind, sources on edges, merges shown';
-- catalog.sql
--   The catalog of profiles, document templates and their attributes, and the
--   generator that turns a list of typed attributes into a typed cdp_data table.

CREATE TABLE cdp.profiles (
    slug         text PRIMARY KEY
                 CONSTRAINT profiles_slug_format CHECK (slug ~ '^[a-z][a-z0-9_]{0,54}$'),
    title        text NOT NULL,
    object_type  text NOT NULL
                 CONSTRAINT profiles_object_type_known CHECK (object_type IN ('contact', 'organization')),
    description  text,
    data_table   regclass NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE cdp.profiles IS
    'Profiles: named sets of typed attributes of contacts or organizations, each stored in its own cdp_data table';
COMMENT ON COLUMN cdp.profiles.data_table IS 'The generated table cdp_data.profile_<slug>';

CREATE TABLE cdp.document_templates (
    slug         text PRIMARY KEY
                 CONSTRAINT document_templates_slug_format CHECK (slug ~ '^[a-z][a-z0-9_]{0,53}$'),
    title        text NOT NULL,
    description  text,
    owner        text NOT NULL DEFAULT 'contact'
                 CONSTRAINT document_templates_owner_known CHECK (owner IN ('contact', 'organization')),
    data_table   regclass NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE cdp.document_templates IS
    'Document templates: typed attributes of a family of documents, stored in cdp_data.document_<slug>';
COMMENT ON COLUMN cdp.document_templates.owner IS
    'contact: every document belongs to a contact; organization: every document belongs to an organization';

CREATE TABLE cdp.attributes (
    owner_type   text NOT NULL
                 CONSTRAINT attributes_owner_type_known CHECK (owner_type IN ('profile', 'document_template')),
    owner_slug   text NOT NULL,
    slug         text NOT NULL
                 CONSTRAINT attributes_slug_format CHECK (slug ~ '^[a-z][a-z0-9_]{0,62}$'),
    title        text NOT NULL,
    data_type    text NOT NULL
                 CONSTRAINT attributes_data_type_known CHECK (data_type IN ('text', 'integer', 'number',
                     'boolean', 'date', 'datetime', 'time', 'email', 'phone', 'location', 'media', 'json')),
    is_array     boolean NOT NULL DEFAULT false,
    is_required  boolean NOT NULL DEFAULT false,
    validations  jsonb NOT NULL DEFAULT '{}',
    position     integer NOT NULL,
    PRIMARY KEY (owner_type, owner_slug, slug)
);
COMMENT ON TABLE cdp.attributes IS
    'Typed attributes of profiles and document templates; each is a column of the generated table';
COMMENT ON COLUMN cdp.attributes.validations IS
    'min, max, min_length, max_length, pattern, options, decimals; each is a named CHECK constraint';

-- What set_profile needs in one lookup: the table, its key, the upsert
-- statement generated from the catalog and what its error messages say
-- (rebuilt by every definition change, which takes a new generation).
CREATE SEQUENCE cdp_internal.data_tables_generation_seq;
CREATE TABLE cdp_internal.data_tables (
    owner_type       text NOT NULL,
    slug             text NOT NULL,
    data_table       regclass NOT NULL,
    key_column       text NOT NULL,
    attribute_slugs  text[] NOT NULL,
    upsert_sql       text NOT NULL,
    messages         jsonb NOT NULL,
    generation       bigint NOT NULL DEFAULT nextval('cdp_internal.data_tables_generation_seq'),
    PRIMARY KEY (owner_type, slug)
);
COMMENT ON TABLE cdp_internal.data_tables IS
    'Generated statements for the typed tables of profiles and document templates';
COMMENT ON COLUMN cdp_internal.data_tables.messages IS
    '{"label": .., "constraints": {name: {"attribute", "validation", "detail"}}}: what errors of the upsert say';
COMMENT ON COLUMN cdp_internal.data_tables.generation IS
    'New at every rebuild: set_profile keeps the statement per backend until it changes';

SELECT pg_catalog.pg_extension_config_dump('cdp.profiles', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.document_templates', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.attributes', '');
SELECT pg_catalog.pg_extension_config_dump('cdp_internal.data_tables', '');
SELECT pg_catalog.pg_extension_config_dump('cdp_internal.data_tables_generation_seq', '');

-- Helpers that CHECK constraints of array attributes call (one value per element).
CREATE FUNCTION cdp_internal.array_min_length(elems text[]) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT min(char_length(v)) FROM unnest(elems) v);
COMMENT ON FUNCTION cdp_internal.array_min_length(text[]) IS 'Shortest element length (for array CHECK constraints)';

CREATE FUNCTION cdp_internal.array_max_length(elems text[]) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT max(char_length(v)) FROM unnest(elems) v);
COMMENT ON FUNCTION cdp_internal.array_max_length(text[]) IS 'Longest element length (for array CHECK constraints)';

CREATE FUNCTION cdp_internal.array_all_match(elems text[], pattern text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT coalesce(bool_and(v ~ pattern), true) FROM unnest(elems) v);
COMMENT ON FUNCTION cdp_internal.array_all_match(text[], text) IS 'Every element matches the pattern (for array CHECK constraints)';

CREATE FUNCTION cdp_internal.array_within_decimals(elems numeric[], decimals integer) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT coalesce(bool_and(round(v, decimals) = v), true) FROM unnest(elems) v);
COMMENT ON FUNCTION cdp_internal.array_within_decimals(numeric[], integer) IS
    'Every element has at most that many decimals (for array CHECK constraints)';

-- A location is a point (x = longitude, y = latitude).  Accepted JSON: a
-- GeoJSON Point, {"lat": .., "lon"|"lng": ..}, [lon, lat], or "(lon,lat)".
CREATE FUNCTION cdp_internal.to_location(value jsonb) RETURNS point
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    lon float8;
    lat float8;
BEGIN
    IF value IS NULL OR jsonb_typeof(value) = 'null' THEN
        RETURN NULL;
    ELSIF jsonb_typeof(value) = 'string' THEN
        RETURN (value #>> '{}')::point;
    ELSIF jsonb_typeof(value) = 'array' AND jsonb_array_length(value) = 2 THEN
        lon := (value ->> 0)::float8;
        lat := (value ->> 1)::float8;
    ELSIF jsonb_typeof(value) = 'object' AND value ->> 'type' = 'Point'
          AND jsonb_typeof(value -> 'coordinates') = 'array' THEN
        lon := (value -> 'coordinates' ->> 0)::float8;
        lat := (value -> 'coordinates' ->> 1)::float8;
    ELSIF jsonb_typeof(value) = 'object' AND value ? 'lat' THEN
        lat := (value ->> 'lat')::float8;
        lon := coalesce(value ->> 'lon', value ->> 'lng')::float8;
    ELSE
        RAISE EXCEPTION 'invalid location: %', value
            USING ERRCODE = '22P02',
                  DETAIL = 'A location is a GeoJSON Point, {"lat": .., "lon": ..}, [lon, lat] or "(lon,lat)".';
    END IF;
    IF lon IS NULL OR lat IS NULL OR lon NOT BETWEEN -180 AND 180 OR lat NOT BETWEEN -90 AND 90 THEN
        RAISE EXCEPTION 'invalid location: %', value
            USING ERRCODE = '22P02',
                  DETAIL = 'Longitude must lie in [-180, 180] and latitude in [-90, 90].';
    END IF;
    RETURN point(lon, lat);
END
$$;
COMMENT ON FUNCTION cdp_internal.to_location(jsonb) IS 'A JSON location as a point (longitude, latitude)';

CREATE FUNCTION cdp_internal.to_location_array(value jsonb) RETURNS point[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN jsonb_typeof(value) = 'array'
            THEN ARRAY(SELECT cdp_internal.to_location(e) FROM jsonb_array_elements(value) WITH ORDINALITY AS a(e, n) ORDER BY n)
            WHEN jsonb_typeof(value) = 'null' THEN NULL END;
COMMENT ON FUNCTION cdp_internal.to_location_array(jsonb) IS 'A JSON array of locations as point[]';

-- Raised from generated statements when a JSON value has the wrong JSON type.
CREATE FUNCTION cdp_internal.wrong_json_type(owner text, attribute text, value jsonb, expected text,
                                             type_of anyelement)
RETURNS anyelement
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'invalid value for attribute "%" of %: %', attribute, owner, value
        USING ERRCODE = '22P02', DETAIL = format('The attribute expects %s.', expected);
END
$$;
COMMENT ON FUNCTION cdp_internal.wrong_json_type(text, text, jsonb, text, anyelement) IS
    'Raises 22P02 naming the attribute whose JSON value has the wrong JSON type';

-- Run a generated upsert ($1 key, $2 values, $3 source) with a plan kept per
-- backend and statement text (EXECUTE would parse and plan it on every call);
-- its conversion and constraint errors name the owner, the attribute and the
-- value (from attribute_slugs and messages, without a subtransaction).
CREATE FUNCTION cdp_internal.exec_upsert(sql text, key bigint, "values" jsonb, source text,
                                         attribute_slugs text[], messages jsonb)
RETURNS void
AS 'MODULE_PATHNAME', 'cdp_exec_upsert'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION cdp_internal.exec_upsert(text, bigint, jsonb, text, text[], jsonb) IS
    'Runs a generated upsert statement with a cached plan and explains its errors';

-- The generated upsert converts the value of attribute k (its position in
-- attribute_slugs) as converted(CASE WHEN converting(k) THEN .. END), so
-- that exec_upsert knows which attribute a conversion error belongs to.
CREATE FUNCTION cdp_internal.converting(attribute integer) RETURNS boolean
AS 'MODULE_PATHNAME', 'cdp_converting'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION cdp_internal.converting(integer) IS
    'Marks the attribute whose value the running upsert converts (true)';

CREATE FUNCTION cdp_internal.converted(value anyelement) RETURNS anyelement
AS 'MODULE_PATHNAME', 'cdp_converted'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION cdp_internal.converted(anyelement) IS
    'Clears the mark of converting and returns the converted value';

-- The PostgreSQL type of a data_type.
CREATE FUNCTION cdp_internal.attribute_sql_type(data_type text, is_array boolean) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (CASE data_type
            WHEN 'text' THEN 'text' WHEN 'integer' THEN 'bigint' WHEN 'number' THEN 'numeric'
            WHEN 'boolean' THEN 'boolean' WHEN 'date' THEN 'date' WHEN 'datetime' THEN 'timestamptz'
            WHEN 'time' THEN 'time' WHEN 'email' THEN 'cdp.email' WHEN 'phone' THEN 'cdp.phone'
            WHEN 'location' THEN 'point' WHEN 'media' THEN 'text' WHEN 'json' THEN 'jsonb' END)
       || CASE WHEN is_array THEN '[]' ELSE '' END;
COMMENT ON FUNCTION cdp_internal.attribute_sql_type(text, boolean) IS
    'The column type of an attribute data_type (integer is bigint, number numeric, datetime timestamptz, location point)';

-- The name of the CHECK constraint of one validation (at most 63 bytes).
CREATE FUNCTION cdp_internal.constraint_name(attribute text, validation text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN length(attribute) + length(validation) < 63 THEN attribute || '_' || validation
            ELSE left(attribute, 55 - length(validation)) || '_' || left(md5(attribute), 6) || '_' || validation END;
COMMENT ON FUNCTION cdp_internal.constraint_name(text, text) IS 'Name of the CHECK constraint of an attribute validation';

-- Parse and check one attribute definition; returns it as a cdp.attributes row
-- (owner columns and position left NULL).
CREATE FUNCTION cdp_internal.parse_attribute(owner text, def jsonb) RETURNS cdp.attributes
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a cdp.attributes;
    key text;
    v jsonb;
    base text;
    ok_types text[];
    reserved CONSTANT text[] := ARRAY['contact_id', 'organization_id', 'document_id', 'updated_at', 'source',
                                      'tableoid', 'xmin', 'xmax', 'cmin', 'cmax', 'ctid', 'oid'];
    dummy text;
    limit_ bigint;
BEGIN
    IF jsonb_typeof(def) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'invalid attribute definition of %: %', owner, def
            USING ERRCODE = '22023', DETAIL = 'An attribute definition is a JSON object.';
    END IF;
    FOR key IN SELECT jsonb_object_keys(def) LOOP
        IF key NOT IN ('slug', 'type', 'title', 'required', 'array', 'description',
                       'min', 'max', 'min_length', 'max_length', 'pattern', 'options', 'decimals') THEN
            RAISE EXCEPTION 'unknown key "%" in attribute definition of %: %', key, owner, def
                USING ERRCODE = '22023',
                      HINT = 'Keys are slug, type, title, required, array and the validations min, max, min_length, max_length, pattern, options, decimals.';
        END IF;
    END LOOP;
    IF jsonb_typeof(def -> 'slug') IS DISTINCT FROM 'string' OR def ->> 'slug' !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid attribute slug in % : %', owner, coalesce(def -> 'slug', 'null')
            USING ERRCODE = '22023', DETAIL = 'Slugs match ^[a-z][a-z0-9_]{0,62}$.';
    END IF;
    a.slug := def ->> 'slug';
    IF a.slug = ANY (reserved) THEN
        RAISE EXCEPTION 'attribute slug "%" of % is reserved', a.slug, owner
            USING ERRCODE = '22023', DETAIL = format('Reserved names: %s.', array_to_string(reserved, ', '));
    END IF;
    a.data_type := def ->> 'type';
    IF a.data_type IS NULL OR a.data_type NOT IN ('text', 'integer', 'number', 'boolean', 'date', 'datetime',
                                                  'time', 'email', 'phone', 'location', 'media', 'json') THEN
        RAISE EXCEPTION 'invalid type of attribute "%" of %: %', a.slug, owner, coalesce(def -> 'type', 'null')
            USING ERRCODE = '22023',
                  DETAIL = 'Types are text, integer, number, boolean, date, datetime, time, email, phone, location, media, json.';
    END IF;
    FOR key IN SELECT unnest(ARRAY['required', 'array']) LOOP
        IF def ? key AND jsonb_typeof(def -> key) <> 'boolean' THEN
            RAISE EXCEPTION 'invalid "%" of attribute "%" of %: %', key, a.slug, owner, def -> key
                USING ERRCODE = '22023', DETAIL = 'It must be true or false.';
        END IF;
    END LOOP;
    a.title := coalesce(def ->> 'title', initcap(replace(a.slug, '_', ' ')));
    a.is_array := coalesce((def ->> 'array')::boolean, false);
    a.is_required := coalesce((def ->> 'required')::boolean, false);
    a.validations := '{}';
    base := cdp_internal.attribute_sql_type(a.data_type, false);

    FOR key, v IN SELECT e.key, e.value FROM jsonb_each(def) e
                  WHERE e.key IN ('min', 'max', 'min_length', 'max_length', 'pattern', 'options', 'decimals')
                  ORDER BY e.key LOOP
        ok_types := CASE key
            WHEN 'min' THEN ARRAY['integer', 'number', 'date', 'datetime', 'time']
            WHEN 'max' THEN ARRAY['integer', 'number', 'date', 'datetime', 'time']
            WHEN 'min_length' THEN ARRAY['text', 'email', 'phone', 'media']
            WHEN 'max_length' THEN ARRAY['text', 'email', 'phone', 'media']
            WHEN 'pattern' THEN ARRAY['text', 'email', 'phone', 'media']
            WHEN 'options' THEN ARRAY['text', 'integer', 'number', 'date', 'email', 'phone']
            WHEN 'decimals' THEN ARRAY['number'] END;
        IF NOT a.data_type = ANY (ok_types) THEN
            RAISE EXCEPTION 'validation "%" does not apply to attribute "%" of type % in %', key, a.slug, a.data_type, owner
                USING ERRCODE = '22023', DETAIL = format('"%s" applies to %s.', key, array_to_string(ok_types, ', '));
        END IF;
        IF jsonb_typeof(v) = 'null' THEN
            CONTINUE;
        END IF;
        BEGIN
            IF key IN ('min_length', 'max_length', 'decimals') THEN
                limit_ := CASE key WHEN 'decimals' THEN 1000 ELSE 1000000000 END;
                IF jsonb_typeof(v) <> 'number' OR (v #>> '{}')::numeric <> trunc((v #>> '{}')::numeric)
                   OR (v #>> '{}')::numeric NOT BETWEEN 0 AND limit_ THEN
                    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('not an integer between 0 and %s', limit_);
                END IF;
            ELSIF key = 'pattern' THEN
                IF jsonb_typeof(v) <> 'string' THEN
                    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'not a string';
                END IF;
                PERFORM '' ~ (v #>> '{}');
            ELSIF key = 'options' THEN
                IF jsonb_typeof(v) <> 'array' OR jsonb_array_length(v) = 0 THEN
                    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'not a non-empty array';
                END IF;
                EXECUTE format('SELECT array_agg(e::%s) FROM jsonb_array_elements_text($1) e', base) USING v;
            ELSE
                IF jsonb_typeof(v) NOT IN ('string', 'number') THEN
                    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'not a string or number';
                END IF;
                EXECUTE format('SELECT %L::%s', v #>> '{}', base) INTO dummy;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE EXCEPTION 'invalid validation "%" of attribute "%" of %: %', key, a.slug, owner, v
                USING ERRCODE = '22023', DETAIL = initcap(left(SQLERRM, 1)) || substr(SQLERRM, 2) || '.';
        END;
        a.validations := a.validations || jsonb_build_object(key, v);
    END LOOP;
    RETURN a;
END
$$;
COMMENT ON FUNCTION cdp_internal.parse_attribute(text, jsonb) IS 'Checks one attribute definition (JSON) and returns it as a catalog row';

-- The column definition of an attribute, with its NOT NULL and named CHECK
-- constraints; used by CREATE TABLE and ALTER TABLE ADD COLUMN alike.
CREATE FUNCTION cdp_internal.attribute_column_ddl(a cdp.attributes) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    base text := cdp_internal.attribute_sql_type(a.data_type, false);
    col text := format('%I', a.slug);
    astext text;
    ddl text;
    key text;
    v jsonb;
    lit text;
    expr text;
BEGIN
    ddl := format('%I %s', a.slug, cdp_internal.attribute_sql_type(a.data_type, a.is_array));
    IF a.is_required THEN
        ddl := ddl || ' NOT NULL';
    END IF;
    astext := CASE WHEN a.data_type IN ('email', 'phone') THEN col || CASE WHEN a.is_array THEN '::text[]' ELSE '::text' END
                   ELSE col END;
    IF a.is_array THEN
        ddl := ddl || format(' CONSTRAINT %I CHECK (CASE WHEN array_ndims(%s) > 1 THEN false ELSE array_position(%s, NULL) IS NULL END)',
                             cdp_internal.constraint_name(a.slug, 'elements'), col, col);
    END IF;
    FOR key, v IN SELECT e.key, e.value FROM jsonb_each(a.validations) e ORDER BY e.key LOOP
        lit := format('%L::%s', v #>> '{}', base);
        expr := CASE key
            WHEN 'min' THEN CASE WHEN a.is_array THEN format('%s <= ALL (%s)', lit, col) ELSE format('%s >= %s', col, lit) END
            WHEN 'max' THEN CASE WHEN a.is_array THEN format('%s >= ALL (%s)', lit, col) ELSE format('%s <= %s', col, lit) END
            WHEN 'min_length' THEN CASE WHEN a.is_array THEN format('cdp_internal.array_min_length(%s) >= %s', astext, (v #>> '{}')::integer)
                                        ELSE format('char_length(%s) >= %s', astext, (v #>> '{}')::integer) END
            WHEN 'max_length' THEN CASE WHEN a.is_array THEN format('cdp_internal.array_max_length(%s) <= %s', astext, (v #>> '{}')::integer)
                                        ELSE format('char_length(%s) <= %s', astext, (v #>> '{}')::integer) END
            WHEN 'pattern' THEN CASE WHEN a.is_array THEN format('cdp_internal.array_all_match(%s, %L)', astext, v #>> '{}')
                                     ELSE format('%s ~ %L', astext, v #>> '{}') END
            WHEN 'decimals' THEN CASE WHEN a.is_array THEN format('cdp_internal.array_within_decimals(%s, %s)', col, (v #>> '{}')::integer)
                                      ELSE format('round(%s, %s) = %s', col, (v #>> '{}')::integer, col) END
            WHEN 'options' THEN format(CASE WHEN a.is_array THEN '%s <@ ARRAY[%s]' ELSE '%s = ANY (ARRAY[%s])' END, col,
                                       (SELECT string_agg(format('%L::%s', o, base), ', ' ORDER BY n)
                                          FROM jsonb_array_elements_text(v) WITH ORDINALITY AS x(o, n)))
            END;
        ddl := ddl || format(' CONSTRAINT %I CHECK (%s)', cdp_internal.constraint_name(a.slug, key), expr);
    END LOOP;
    RETURN ddl;
END
$$;
COMMENT ON FUNCTION cdp_internal.attribute_column_ddl(cdp.attributes) IS
    'Column definition of an attribute with its NOT NULL and named CHECK constraints';

-- The expression that turns the JSON value of an attribute into its column
-- value inside the generated statement (src is the values object): the JSON
-- text cast to the column type, as jsonb_to_record would, after refusing JSON
-- values of the wrong JSON type.  Per-column casts are cheaper than a
-- jsonb_to_record function scan.
CREATE FUNCTION cdp_internal.attribute_value_sql(a cdp.attributes, owner_label text, src text) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN (
    WITH t(allowed, expected, conv) AS (
        SELECT CASE
                 WHEN a.data_type = 'json' AND NOT a.is_array THEN NULL
                 WHEN a.is_array THEN ARRAY['array']
                 WHEN a.data_type = 'location' THEN ARRAY['object', 'array', 'string']
                 WHEN a.data_type IN ('integer', 'number') THEN ARRAY['number', 'string']
                 WHEN a.data_type = 'boolean' THEN ARRAY['boolean', 'string']
                 ELSE ARRAY['string'] END,
               CASE
                 WHEN a.is_array THEN 'a JSON array'
                 WHEN a.data_type = 'location' THEN 'a location'
                 WHEN a.data_type IN ('integer', 'number') THEN 'a JSON number'
                 WHEN a.data_type = 'boolean' THEN 'true or false'
                 ELSE 'a JSON string' END,
               CASE
                 WHEN a.data_type = 'location' AND a.is_array THEN format('cdp_internal.to_location_array(%s -> %L)', src, a.slug)
                 WHEN a.data_type = 'location' THEN format('cdp_internal.to_location(%s -> %L)', src, a.slug)
                 WHEN a.data_type = 'json' AND a.is_array THEN
                     format('CASE WHEN jsonb_typeof(%s -> %L) = ''array'' THEN ARRAY(SELECT e FROM jsonb_array_elements(%s -> %L) WITH ORDINALITY AS j(e, n) ORDER BY n) END',
                            src, a.slug, src, a.slug)
                 WHEN a.data_type = 'json' THEN format('(%s -> %L)', src, a.slug)
                 WHEN a.is_array THEN
                     format('CASE WHEN jsonb_typeof(%s -> %L) = ''array'' THEN ARRAY(SELECT e::%s FROM jsonb_array_elements_text(%s -> %L) WITH ORDINALITY AS j(e, n) ORDER BY n) END',
                            src, a.slug, cdp_internal.attribute_sql_type(a.data_type, false), src, a.slug)
                 ELSE format('(%s ->> %L)::%s', src, a.slug, cdp_internal.attribute_sql_type(a.data_type, false)) END
    )
    SELECT CASE WHEN allowed IS NULL THEN conv
                ELSE format('CASE WHEN jsonb_typeof(%s -> %L) NOT IN (%s) THEN cdp_internal.wrong_json_type(%L, %L, %s -> %L, %L, NULL::%s) ELSE %s END',
                            src, a.slug,
                            (SELECT string_agg(format('%L', j), ', ') FROM unnest(allowed || ARRAY['null']) j),
                            owner_label, a.slug, src, a.slug, expected,
                            cdp_internal.attribute_sql_type(a.data_type, a.is_array), conv)
           END
    FROM t);
COMMENT ON FUNCTION cdp_internal.attribute_value_sql(cdp.attributes, text, text) IS
    'SQL expression converting an attribute''s JSON value to its column value';

-- A human label of an owner: profile "customer", document template "contract".
CREATE FUNCTION cdp_internal.owner_label(owner_type text, slug text) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN format('%s "%s"', replace(owner_type, '_', ' '), slug);
COMMENT ON FUNCTION cdp_internal.owner_label(text, text) IS 'profile "x" or document template "x", for messages';

-- Rebuild the generated upsert statement of a profile or template from the
-- catalog.  Parameters of the statement: $1 key, $2 values (jsonb), $3 source.
-- Absent keys keep their stored value; required attributes absent from a
-- partial update are read back so that the NOT NULL check of the proposed row
-- passes.  Also stored: what the statement's errors say (the owner label and,
-- per CHECK constraint, its attribute, validation and detail).
CREATE FUNCTION cdp_internal.rebuild_data_table(owner_type text, slug text, data_table regclass, key_column text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    label text := cdp_internal.owner_label(owner_type, slug);
    meta boolean := owner_type = 'profile';
    cols text := '';
    vals text := '';
    sets text := '';
    a cdp.attributes;
    slugs text[] := '{}';
    checks jsonb := '{}';
    key text;
    v jsonb;
    expr text;
    stmt text;
BEGIN
    FOR a IN SELECT * FROM cdp.attributes t
             WHERE t.owner_type = rebuild_data_table.owner_type AND t.owner_slug = rebuild_data_table.slug
             ORDER BY t.position LOOP
        slugs := slugs || a.slug;
        expr := cdp_internal.attribute_value_sql(a, label, '$2');
        IF a.is_required THEN
            expr := format('CASE WHEN $2 ? %L THEN %s ELSE (SELECT t0.%I FROM %s t0 WHERE t0.%I = $1) END',
                           a.slug, expr, a.slug, data_table, key_column);
        END IF;
        expr := format('cdp_internal.converted(CASE WHEN cdp_internal.converting(%s) THEN %s END)',
                       cardinality(slugs), expr);
        IF a.is_array THEN
            checks := checks || jsonb_build_object(cdp_internal.constraint_name(a.slug, 'elements'),
                jsonb_build_object('attribute', a.slug, 'detail', 'An array attribute holds a flat array without nulls.'));
        END IF;
        FOR key, v IN SELECT e.key, e.value FROM jsonb_each(a.validations) e LOOP
            checks := checks || jsonb_build_object(cdp_internal.constraint_name(a.slug, key),
                jsonb_build_object('attribute', a.slug, 'validation', key,
                                   'detail', format('The validation is %s: %s%s.', key, v,
                                                    CASE WHEN a.is_array THEN ' (for every element)' ELSE '' END)));
        END LOOP;
        cols := cols || format(', %I', a.slug);
        vals := vals || ', ' || expr;
        sets := sets || format(', %I = CASE WHEN $2 ? %L THEN EXCLUDED.%I ELSE t.%I END', a.slug, a.slug, a.slug, a.slug);
    END LOOP;
    stmt := format('INSERT INTO %s AS t (%I%s%s) SELECT $1%s%s ON CONFLICT (%I) DO ',
                   data_table, key_column, CASE WHEN meta THEN ', updated_at, source' ELSE '' END, cols,
                   CASE WHEN meta THEN ', now(), $3' ELSE '' END, vals, key_column);
    IF meta THEN
        stmt := stmt || 'UPDATE SET updated_at = EXCLUDED.updated_at, source = coalesce(EXCLUDED.source, t.source)' || sets;
    ELSIF sets <> '' THEN
        stmt := stmt || 'UPDATE SET ' || substr(sets, 3);
    ELSE
        stmt := stmt || 'NOTHING';
    END IF;
    INSERT INTO cdp_internal.data_tables AS d (owner_type, slug, data_table, key_column, attribute_slugs, upsert_sql,
                                               messages)
    VALUES (rebuild_data_table.owner_type, rebuild_data_table.slug, rebuild_data_table.data_table,
            rebuild_data_table.key_column, slugs, stmt, jsonb_build_object('label', label, 'constraints', checks))
    ON CONFLICT ON CONSTRAINT data_tables_pkey DO UPDATE
        SET data_table = EXCLUDED.data_table, key_column = EXCLUDED.key_column,
            attribute_slugs = EXCLUDED.attribute_slugs, upsert_sql = EXCLUDED.upsert_sql,
            messages = EXCLUDED.messages, generation = EXCLUDED.generation;
END
$$;
COMMENT ON FUNCTION cdp_internal.rebuild_data_table(text, text, regclass, text) IS
    'Regenerates the upsert statement of a profile or document template from the catalog';

-- Parse a JSON array of attribute definitions, refusing duplicates.
CREATE FUNCTION cdp_internal.parse_attributes(owner_type text, owner_slug text, defs jsonb, first_position integer,
                                              existing text[] DEFAULT '{}')
RETURNS SETOF cdp.attributes
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    label text := cdp_internal.owner_label(owner_type, owner_slug);
    a cdp.attributes;
    seen text[] := existing;
    pos integer := first_position;
    def jsonb;
BEGIN
    IF defs IS NULL THEN
        RETURN;
    END IF;
    IF jsonb_typeof(defs) <> 'array' THEN
        RAISE EXCEPTION 'invalid attributes of %: %', label, defs
            USING ERRCODE = '22023', DETAIL = 'Attributes are a JSON array of attribute definitions.';
    END IF;
    FOR def IN SELECT e FROM jsonb_array_elements(defs) e LOOP
        a := cdp_internal.parse_attribute(label, def);
        IF a.slug = ANY (seen) THEN
            RAISE EXCEPTION 'attribute "%" of % is defined twice', a.slug, label USING ERRCODE = '42701';
        END IF;
        seen := seen || a.slug;
        a.owner_type := owner_type;
        a.owner_slug := owner_slug;
        a.position := pos;
        pos := pos + 1;
        RETURN NEXT a;
    END LOOP;
END
$$;
COMMENT ON FUNCTION cdp_internal.parse_attributes(text, text, jsonb, integer, text[]) IS
    'Checks a JSON array of attribute definitions and returns catalog rows';

-- Create the typed table of a profile or document template and its catalog rows.
CREATE FUNCTION cdp_internal.create_data_table(owner_type text, slug text, table_name text, key_column text,
                                               key_ref text, attributes jsonb)
RETURNS regclass
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a cdp.attributes;
    coldefs text := '';
    tbl regclass;
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS cdp_parsed_attributes (LIKE cdp.attributes) ON COMMIT DROP;
    DELETE FROM cdp_parsed_attributes;
    INSERT INTO cdp_parsed_attributes SELECT * FROM cdp_internal.parse_attributes(owner_type, slug, coalesce(attributes, '[]'), 1);
    FOR a IN SELECT * FROM cdp_parsed_attributes ORDER BY position LOOP
        coldefs := coldefs || E',\n    ' || cdp_internal.attribute_column_ddl(a);
    END LOOP;
    EXECUTE format(E'CREATE TABLE cdp_data.%I (\n    %I bigint PRIMARY KEY REFERENCES %s (id) ON DELETE CASCADE%s%s\n)',
                   table_name, key_column, key_ref,
                   CASE WHEN owner_type = 'profile'
                        THEN E',\n    updated_at timestamptz NOT NULL DEFAULT now(),\n    source text' ELSE '' END,
                   coldefs);
    tbl := format('cdp_data.%I', table_name)::regclass;
    INSERT INTO cdp.attributes SELECT * FROM cdp_parsed_attributes;
    FOR a IN SELECT * FROM cdp_parsed_attributes LOOP
        EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', tbl, a.slug, a.title);
    END LOOP;
    DROP TABLE cdp_parsed_attributes;
    RETURN tbl;
END
$$;
COMMENT ON FUNCTION cdp_internal.create_data_table(text, text, text, text, text, jsonb) IS
    'Creates the typed cdp_data table of a profile or document template';

-- Add and drop attributes of a profile or template (ALTER TABLE without rewrite).
CREATE FUNCTION cdp_internal.alter_data_table(owner_type text, slug text, data_table regclass,
                                              key_column text, add jsonb, drop text[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    label text := cdp_internal.owner_label(owner_type, slug);
    a cdp.attributes;
    d text;
    existing text[];
    next_pos integer;
    has_rows boolean;
BEGIN
    -- Lock the table first: definitions of one profile change one at a time.
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', data_table);
    FOREACH d IN ARRAY coalesce(drop, '{}') LOOP
        DELETE FROM cdp.attributes t
         WHERE t.owner_type = alter_data_table.owner_type AND t.owner_slug = alter_data_table.slug AND t.slug = d;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'attribute "%" of % does not exist', d, label USING ERRCODE = '42703';
        END IF;
        EXECUTE format('ALTER TABLE %s DROP COLUMN %I', data_table, d);
    END LOOP;
    SELECT coalesce(array_agg(t.slug), '{}'), coalesce(max(t.position), 0) + 1 INTO existing, next_pos
      FROM cdp.attributes t WHERE t.owner_type = alter_data_table.owner_type AND t.owner_slug = alter_data_table.slug;
    FOR a IN SELECT * FROM cdp_internal.parse_attributes(owner_type, slug, add, next_pos, existing) LOOP
        IF a.is_required THEN
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', data_table) INTO has_rows;
            IF has_rows THEN
                RAISE EXCEPTION 'cannot add required attribute "%" to % that has rows', a.slug, label
                    USING ERRCODE = '55000', HINT = 'Add it as optional, fill it, then make it required by hand.';
            END IF;
        END IF;
        EXECUTE format('ALTER TABLE %s ADD COLUMN %s', data_table, cdp_internal.attribute_column_ddl(a));
        EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', data_table, a.slug, a.title);
        INSERT INTO cdp.attributes SELECT a.*;
    END LOOP;
    PERFORM cdp_internal.rebuild_data_table(owner_type, slug, data_table, key_column);
END
$$;
COMMENT ON FUNCTION cdp_internal.alter_data_table(text, text, regclass, text, jsonb, text[]) IS
    'Adds and drops attributes of a profile or document template';

-- Write values into a typed table through its generated statement, turning
-- conversion and constraint errors into messages that name the owner, the
-- attribute and the value.
CREATE FUNCTION cdp_internal.write_values(owner_type text, slug text, key bigint, "values" jsonb, source text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d cdp_internal.data_tables;
    unknown jsonb;
BEGIN
    SELECT * INTO d FROM cdp_internal.data_tables t
     WHERE t.owner_type = write_values.owner_type AND t.slug = write_values.slug;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% does not exist', cdp_internal.owner_label(owner_type, slug) USING ERRCODE = '42704';
    END IF;
    PERFORM cdp_internal.write_values_with(d, key, "values", source);
END
$$;
COMMENT ON FUNCTION cdp_internal.write_values(text, text, bigint, jsonb, text) IS
    'Upserts JSON values into the typed table of a profile or document template';

CREATE FUNCTION cdp_internal.write_values_with(d cdp_internal.data_tables, key bigint, "values" jsonb, source text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    unknown jsonb;
BEGIN
    IF jsonb_typeof("values") IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'invalid values for %: %', cdp_internal.owner_label(d.owner_type, d.slug), coalesce("values"::text, 'NULL')
            USING ERRCODE = '22023', DETAIL = 'Values are a JSON object of attribute slugs and values.';
    END IF;
    unknown := "values" - d.attribute_slugs;
    IF unknown <> '{}' THEN
        RAISE EXCEPTION 'unknown attribute "%" of %: %', (SELECT min(k) FROM jsonb_object_keys(unknown) k),
                        cdp_internal.owner_label(d.owner_type, d.slug), unknown -> (SELECT min(k) FROM jsonb_object_keys(unknown) k)
            USING ERRCODE = '22023',
                  DETAIL = format('Attributes of %s: %s.', cdp_internal.owner_label(d.owner_type, d.slug),
                                  coalesce(nullif(array_to_string(d.attribute_slugs, ', '), ''), 'none'));
    END IF;
    PERFORM cdp_internal.exec_upsert(d.upsert_sql, key, "values", source, d.attribute_slugs, d.messages);
END
$$;
COMMENT ON FUNCTION cdp_internal.write_values_with(cdp_internal.data_tables, bigint, jsonb, text) IS
    'Checks the values and runs the generated upsert of a typed table';
-- organizations.sql
--   Organizations: a tree (cycles refused), their members, their profiles and
--   the descendants of an organization.

CREATE TABLE cdp.organizations (
    id          bigserial PRIMARY KEY,
    slug        text NOT NULL UNIQUE
                CONSTRAINT organizations_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name        text NOT NULL,
    parent_id   bigint REFERENCES cdp.organizations (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    archived_at timestamptz,
    CONSTRAINT organizations_not_own_parent CHECK (parent_id <> id)
);
CREATE INDEX organizations_parent_idx ON cdp.organizations (parent_id);
COMMENT ON TABLE cdp.organizations IS
    'Organizations (companies, divisions, departments) in a tree; archived_at set means archived';

CREATE TABLE cdp.organization_members (
    contact_id      bigint NOT NULL REFERENCES cdp.contacts (id) ON DELETE CASCADE,
    organization_id bigint NOT NULL REFERENCES cdp.organizations (id),
    role            text,
    is_primary      boolean NOT NULL DEFAULT false,
    since           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contact_id, organization_id)
);
CREATE INDEX organization_members_organization_idx ON cdp.organization_members (organization_id);
CREATE UNIQUE INDEX organization_members_one_primary ON cdp.organization_members (contact_id) WHERE is_primary;
COMMENT ON TABLE cdp.organization_members IS
    'Contacts that belong to organizations, with their role; at most one primary organization per contact';

SELECT pg_catalog.pg_extension_config_dump('cdp.organizations', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.organizations_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.organization_members', '');

-- Refuse cycles in the tree; keep updated_at.
CREATE FUNCTION cdp_internal.organizations_check_tree() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.parent_id IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.parent_id IS DISTINCT FROM OLD.parent_id) THEN
        IF EXISTS (WITH RECURSIVE up(id, parent_id) AS (
                       SELECT o.id, o.parent_id FROM cdp.organizations o WHERE o.id = NEW.parent_id
                       UNION
                       SELECT o.id, o.parent_id FROM cdp.organizations o JOIN up ON o.id = up.parent_id)
                   SELECT 1 FROM up WHERE up.id = NEW.id) THEN
            RAISE EXCEPTION 'organization "%" cannot be placed under %: that would make a cycle', NEW.slug,
                            (SELECT format('"%s"', o.slug) FROM cdp.organizations o WHERE o.id = NEW.parent_id)
                USING ERRCODE = '22023', DETAIL = 'The new parent is the organization itself or one of its descendants.';
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION cdp_internal.organizations_check_tree() IS 'Trigger: refuses cycles in the organization tree';
CREATE TRIGGER organizations_check_tree BEFORE INSERT OR UPDATE ON cdp.organizations
    FOR EACH ROW EXECUTE FUNCTION cdp_internal.organizations_check_tree();

-- An organization with members cannot be deleted (archive it instead); the
-- children of a deleted organization move up to its parent.
CREATE FUNCTION cdp_internal.organizations_before_delete() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM cdp.organization_members m WHERE m.organization_id = OLD.id;
    IF n > 0 THEN
        RAISE EXCEPTION 'cannot delete organization "%": it has % member%', OLD.slug, n, CASE WHEN n = 1 THEN '' ELSE 's' END
            USING ERRCODE = '55000', HINT = format('Archive it with cdp.archive(''organization'', %s) or remove its members first.', OLD.id);
    END IF;
    UPDATE cdp.organizations o SET parent_id = OLD.parent_id WHERE o.parent_id = OLD.id;
    RETURN OLD;
END
$$;
COMMENT ON FUNCTION cdp_internal.organizations_before_delete() IS
    'Trigger: refuses deleting an organization with members; promotes its children';
CREATE TRIGGER organizations_before_delete BEFORE DELETE ON cdp.organizations
    FOR EACH ROW EXECUTE FUNCTION cdp_internal.organizations_before_delete();

-- The id of an organization by slug; 42704 if unknown.
CREATE FUNCTION cdp_internal.organization_id(slug text) RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    oid_ bigint;
BEGIN
    SELECT o.id INTO oid_ FROM cdp.organizations o WHERE o.slug = organization_id.slug;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'organization "%" does not exist', slug USING ERRCODE = '42704';
    END IF;
    RETURN oid_;
END
$$;
COMMENT ON FUNCTION cdp_internal.organization_id(text) IS 'The id of an organization slug; 42704 if unknown';

CREATE FUNCTION cdp.create_organization(slug text, name text, parent text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_id bigint;
BEGIN
    IF slug IS NULL OR slug !~ '^[a-z0-9][a-z0-9_-]{0,62}$' THEN
        RAISE EXCEPTION 'invalid organization slug: %', coalesce(quote_literal(slug), 'NULL')
            USING ERRCODE = '22023', DETAIL = 'Organization slugs match ^[a-z0-9][a-z0-9_-]{0,62}$.';
    END IF;
    IF EXISTS (SELECT 1 FROM cdp.organizations o WHERE o.slug = create_organization.slug) THEN
        RAISE EXCEPTION 'organization "%" already exists', slug USING ERRCODE = '42710';
    END IF;
    INSERT INTO cdp.organizations (slug, name, parent_id)
    VALUES (slug, coalesce(name, slug),
            CASE WHEN parent IS NOT NULL THEN cdp_internal.organization_id(parent) END)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION cdp.create_organization(text, text, text) IS
    'Creates an organization, optionally under a parent organization; returns its id';

CREATE FUNCTION cdp.move_organization(slug text, parent text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE cdp.organizations o
       SET parent_id = CASE WHEN move_organization.parent IS NOT NULL
                            THEN cdp_internal.organization_id(move_organization.parent) END
     WHERE o.id = cdp_internal.organization_id(move_organization.slug);
END
$$;
COMMENT ON FUNCTION cdp.move_organization(text, text) IS
    'Moves an organization under another (NULL: to the top); cycles are refused';

CREATE FUNCTION cdp.set_organization_profile(org_slug text, profile_slug text, "values" jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d cdp_internal.data_tables;
BEGIN
    SELECT * INTO d FROM cdp_internal.data_tables t WHERE t.owner_type = 'profile' AND t.slug = profile_slug;
    IF NOT FOUND OR d.key_column <> 'organization_id' THEN
        RAISE EXCEPTION 'organization profile "%" does not exist', profile_slug USING ERRCODE = '42704';
    END IF;
    PERFORM cdp_internal.write_values_with(d, cdp_internal.organization_id(org_slug), "values", NULL);
END
$$;
COMMENT ON FUNCTION cdp.set_organization_profile(text, text, jsonb) IS
    'Upserts an organization''s profile values (a partial update keeps other attributes)';

CREATE FUNCTION cdp.add_member(contact_id bigint, org_slug text, role text DEFAULT NULL, is_primary boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c bigint := cdp_internal.live_contact(contact_id);
    o bigint := cdp_internal.organization_id(org_slug);
BEGIN
    IF is_primary THEN
        UPDATE cdp.organization_members m SET is_primary = false
         WHERE m.contact_id = c AND m.is_primary AND m.organization_id <> o;
    END IF;
    INSERT INTO cdp.organization_members AS m (contact_id, organization_id, role, is_primary)
    VALUES (c, o, role, coalesce(is_primary, false))
    ON CONFLICT ON CONSTRAINT organization_members_pkey DO UPDATE
        SET role = coalesce(EXCLUDED.role, m.role), is_primary = EXCLUDED.is_primary;
END
$$;
COMMENT ON FUNCTION cdp.add_member(bigint, text, text, boolean) IS
    'Makes a contact a member of an organization (or updates role and primary flag); one primary organization per contact';

CREATE FUNCTION cdp.remove_member(contact_id bigint, org_slug text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    DELETE FROM cdp.organization_members m
     WHERE m.contact_id = cdp_internal.live_contact(remove_member.contact_id)
       AND m.organization_id = cdp_internal.organization_id(org_slug);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n > 0;
END
$$;
COMMENT ON FUNCTION cdp.remove_member(bigint, text) IS 'Removes a contact from an organization; true if it was a member';

CREATE FUNCTION cdp.organization_tree(org_slug text)
RETURNS SETOF bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    WITH RECURSIVE tree(id) AS (
        SELECT cdp_internal.organization_id(org_slug)
        UNION
        SELECT o.id FROM cdp.organizations o JOIN tree t ON o.parent_id = t.id)
    SELECT id FROM tree ORDER BY id;
END;
COMMENT ON FUNCTION cdp.organization_tree(text) IS 'The organization and all its descendants (ids)';
-- documents.sql
--   Document templates (typed tables cdp_data.document_<slug>) and documents,
--   which belong to a contact (and optionally an organization).

CREATE TABLE cdp.documents (
    id              bigserial PRIMARY KEY,
    template        text NOT NULL REFERENCES cdp.document_templates (slug),
    contact_id      bigint REFERENCES cdp.contacts (id) ON DELETE CASCADE,
    organization_id bigint REFERENCES cdp.organizations (id),
    parent_id       bigint REFERENCES cdp.documents (id) ON DELETE SET NULL,
    title           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    archived_at     timestamptz,
    CONSTRAINT documents_have_owner CHECK (contact_id IS NOT NULL OR organization_id IS NOT NULL)
);
CREATE INDEX documents_contact_idx ON cdp.documents (contact_id, template);
CREATE INDEX documents_organization_idx ON cdp.documents (organization_id) WHERE organization_id IS NOT NULL;
CREATE INDEX documents_template_idx ON cdp.documents (template);
CREATE INDEX documents_parent_idx ON cdp.documents (parent_id) WHERE parent_id IS NOT NULL;
COMMENT ON TABLE cdp.documents IS
    'Documents: structured records of a template, owned by a contact (and optionally an organization); values in cdp_data.document_<template>';

SELECT pg_catalog.pg_extension_config_dump('cdp.documents', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.documents_id_seq', '');

CREATE FUNCTION cdp.define_document_template(slug text, attributes jsonb, owner text DEFAULT 'contact',
                                             title text DEFAULT NULL)
RETURNS regclass
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tbl regclass;
BEGIN
    IF slug IS NULL OR slug !~ '^[a-z][a-z0-9_]{0,53}$' THEN
        RAISE EXCEPTION 'invalid document template slug: %', coalesce(quote_literal(slug), 'NULL')
            USING ERRCODE = '22023', DETAIL = 'Template slugs match ^[a-z][a-z0-9_]{0,53}$ (the table is cdp_data.document_<slug>).';
    END IF;
    IF owner IS NULL OR owner NOT IN ('contact', 'organization') THEN
        RAISE EXCEPTION 'invalid owner of document template "%": %', slug, coalesce(quote_literal(owner), 'NULL')
            USING ERRCODE = '22023', DETAIL = 'Documents belong to a contact or an organization.';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('cdp.document_template:' || slug));
    IF EXISTS (SELECT 1 FROM cdp.document_templates t WHERE t.slug = define_document_template.slug) THEN
        RAISE EXCEPTION 'document template "%" already exists', slug USING ERRCODE = '42710';
    END IF;
    tbl := cdp_internal.create_data_table('document_template', slug, 'document_' || slug, 'document_id',
                                          'cdp.documents', attributes);
    EXECUTE format('COMMENT ON TABLE %s IS %L', tbl, format('Documents of template "%s" (cdp)', coalesce(title, slug)));
    INSERT INTO cdp.document_templates (slug, title, owner, data_table)
    VALUES (slug, coalesce(title, initcap(replace(slug, '_', ' '))), owner, tbl);
    PERFORM cdp_internal.rebuild_data_table('document_template', slug, tbl, 'document_id');
    RETURN tbl;
END
$$;
COMMENT ON FUNCTION cdp.define_document_template(text, jsonb, text, text) IS
    'Defines a document template: a typed table cdp_data.document_<slug> with a column per attribute';

CREATE FUNCTION cdp.alter_document_template(slug text, add jsonb DEFAULT NULL, drop text[] DEFAULT NULL)
RETURNS regclass
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t cdp.document_templates;
BEGIN
    SELECT * INTO t FROM cdp.document_templates x WHERE x.slug = alter_document_template.slug FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'document template "%" does not exist', slug USING ERRCODE = '42704';
    END IF;
    PERFORM cdp_internal.alter_data_table('document_template', slug, t.data_table, 'document_id', add, drop);
    RETURN t.data_table;
END
$$;
COMMENT ON FUNCTION cdp.alter_document_template(text, jsonb, text[]) IS
    'Adds attributes to (without rewriting the table) and drops attributes from a document template';

CREATE FUNCTION cdp.drop_document_template(slug text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t cdp.document_templates;
BEGIN
    SELECT * INTO t FROM cdp.document_templates x WHERE x.slug = drop_document_template.slug FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'document template "%" does not exist', slug USING ERRCODE = '42704';
    END IF;
    IF EXISTS (SELECT 1 FROM cdp.documents d WHERE d.template = t.slug) THEN
        RAISE EXCEPTION 'cannot drop document template "%": documents use it', slug
            USING ERRCODE = '2BP01', HINT = 'Delete its documents first.';
    END IF;
    EXECUTE format('DROP TABLE %s', t.data_table);
    DELETE FROM cdp.attributes a WHERE a.owner_type = 'document_template' AND a.owner_slug = t.slug;
    DELETE FROM cdp_internal.data_tables d WHERE d.owner_type = 'document_template' AND d.slug = t.slug;
    DELETE FROM cdp.document_templates x WHERE x.slug = t.slug;
END
$$;
COMMENT ON FUNCTION cdp.drop_document_template(text) IS 'Drops a document template that no document uses';

CREATE FUNCTION cdp.create_document(template text, contact_id bigint, "values" jsonb, title text DEFAULT NULL,
                                    organization_id bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t cdp.document_templates;
    d cdp_internal.data_tables;
    c bigint;
    doc bigint;
BEGIN
    SELECT * INTO t FROM cdp.document_templates x WHERE x.slug = create_document.template;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'document template "%" does not exist', template USING ERRCODE = '42704';
    END IF;
    IF contact_id IS NOT NULL THEN
        c := cdp_internal.live_contact(contact_id);
    ELSIF t.owner = 'contact' THEN
        RAISE EXCEPTION 'a document of template "%" needs a contact', template USING ERRCODE = '22023';
    END IF;
    IF organization_id IS NOT NULL THEN
        PERFORM 1 FROM cdp.organizations o WHERE o.id = create_document.organization_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'organization % does not exist', organization_id USING ERRCODE = '42704';
        END IF;
    ELSIF t.owner = 'organization' THEN
        RAISE EXCEPTION 'a document of template "%" needs an organization', template USING ERRCODE = '22023';
    END IF;
    INSERT INTO cdp.documents (template, contact_id, organization_id, title)
    VALUES (t.slug, c, organization_id, title)
    RETURNING id INTO doc;
    SELECT * INTO d FROM cdp_internal.data_tables x WHERE x.owner_type = 'document_template' AND x.slug = t.slug;
    PERFORM cdp_internal.write_values_with(d, doc, coalesce("values", '{}'), NULL);
    RETURN doc;
END
$$;
COMMENT ON FUNCTION cdp.create_document(text, bigint, jsonb, text, bigint) IS
    'Creates a document of a template for a contact (and optionally an organization), validated against the template; returns its id';

CREATE FUNCTION cdp.update_document(id bigint, "values" jsonb, title text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tpl text;
    d cdp_internal.data_tables;
BEGIN
    UPDATE cdp.documents x SET updated_at = now(), title = coalesce(update_document.title, x.title)
     WHERE x.id = update_document.id
    RETURNING x.template INTO tpl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'document % does not exist', id USING ERRCODE = '42704';
    END IF;
    SELECT * INTO d FROM cdp_internal.data_tables x WHERE x.owner_type = 'document_template' AND x.slug = tpl;
    PERFORM cdp_internal.write_values_with(d, id, coalesce("values", '{}'), NULL);
END
$$;
COMMENT ON FUNCTION cdp.update_document(bigint, jsonb, text) IS
    'Updates a document''s values (a partial update keeps other attributes) and optionally its title';
-- profiles.sql
--   Profiles of contacts and organizations: define, alter and drop them (each a
--   typed table cdp_data.profile_<slug>), and set or remove a contact's values.

-- A contact id that follows tombstones to the surviving contact; 42704 if unknown.
CREATE FUNCTION cdp_internal.live_contact(contact bigint) RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cur bigint := contact;
    nxt bigint;
    hops integer := 0;
BEGIN
    LOOP
        SELECT c.merged_into INTO nxt FROM cdp.contacts c WHERE c.id = cur;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'contact % does not exist', contact USING ERRCODE = '42704';
        END IF;
        EXIT WHEN nxt IS NULL;
        cur := nxt;
        hops := hops + 1;
        IF hops > 1000 THEN
            RAISE EXCEPTION 'merged_into chain of contact % does not end', contact USING ERRCODE = 'XX000';
        END IF;
    END LOOP;
    RETURN cur;
END
$$;
COMMENT ON FUNCTION cdp_internal.live_contact(bigint) IS
    'The contact itself, or the survivor it was merged into; 42704 if the id is unknown';

-- Profiles and views that use a profile (segments and views, once they exist).
CREATE FUNCTION cdp_internal.profile_dependents(profile text) RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pat text := '(^|[^a-z0-9_])' || profile || '\.[a-z]';
BEGIN
    IF to_regclass('cdp.segments') IS NOT NULL THEN
        RETURN QUERY EXECUTE
            'SELECT format(''segment "%s"'', s.slug) FROM cdp.segments s WHERE s.definition::text ~* $1 ORDER BY s.slug'
            USING pat || '|has\s+profile\s+' || profile || '([^a-z0-9_]|$)';
    END IF;
    IF to_regclass('cdp.views') IS NOT NULL THEN
        RETURN QUERY EXECUTE
            'SELECT format(''view "%s"'', v.slug) FROM cdp.views v
              WHERE EXISTS (SELECT 1 FROM unnest(v.fields) f WHERE f ~ $1) ORDER BY v.slug'
            USING pat;
    END IF;
END
$$;
COMMENT ON FUNCTION cdp_internal.profile_dependents(text) IS
    'Saved segments and views whose definitions use the profile';

CREATE FUNCTION cdp.define_profile(slug text, object_type text, attributes jsonb, title text DEFAULT NULL)
RETURNS regclass
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tbl regclass;
    key_column text;
BEGIN
    IF slug IS NULL OR slug !~ '^[a-z][a-z0-9_]{0,54}$' THEN
        RAISE EXCEPTION 'invalid profile slug: %', coalesce(quote_literal(slug), 'NULL')
            USING ERRCODE = '22023', DETAIL = 'Profile slugs match ^[a-z][a-z0-9_]{0,54}$ (the table is cdp_data.profile_<slug>).';
    END IF;
    IF object_type IS NULL OR object_type NOT IN ('contact', 'organization') THEN
        RAISE EXCEPTION 'invalid object type of profile "%": %', slug, coalesce(quote_literal(object_type), 'NULL')
            USING ERRCODE = '22023', DETAIL = 'Profiles belong to contact or organization.';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('cdp.profile:' || slug));
    IF EXISTS (SELECT 1 FROM cdp.profiles p WHERE p.slug = define_profile.slug) THEN
        RAISE EXCEPTION 'profile "%" already exists', slug USING ERRCODE = '42710';
    END IF;
    key_column := object_type || '_id';
    tbl := cdp_internal.create_data_table('profile', slug, 'profile_' || slug, key_column,
                                          CASE object_type WHEN 'contact' THEN 'cdp.contacts' ELSE 'cdp.organizations' END,
                                          attributes);
    EXECUTE format('COMMENT ON TABLE %s IS %L', tbl,
                   format('Profile "%s" of %ss (cdp)', coalesce(title, slug), object_type));
    INSERT INTO cdp.profiles (slug, title, object_type, data_table)
    VALUES (slug, coalesce(title, initcap(replace(slug, '_', ' '))), object_type, tbl);
    PERFORM cdp_internal.rebuild_data_table('profile', slug, tbl, key_column);
    RETURN tbl;
END
$$;
COMMENT ON FUNCTION cdp.define_profile(text, text, jsonb, text) IS
    'Defines a profile of contacts or organizations: a typed table cdp_data.profile_<slug> with a column per attribute';

CREATE FUNCTION cdp.alter_profile(slug text, add jsonb DEFAULT NULL, drop text[] DEFAULT NULL)
RETURNS regclass
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p cdp.profiles;
    d text;
    users text;
BEGIN
    SELECT * INTO p FROM cdp.profiles t WHERE t.slug = alter_profile.slug FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'profile "%" does not exist', slug USING ERRCODE = '42704';
    END IF;
    FOREACH d IN ARRAY coalesce(drop, '{}') LOOP
        SELECT string_agg(u, ', ') INTO users FROM cdp_internal.profile_dependents(slug) u;
        IF users IS NOT NULL THEN
            RAISE EXCEPTION 'cannot drop attributes of profile "%" while it is used', slug
                USING ERRCODE = '2BP01', DETAIL = format('Used by %s.', users);
        END IF;
    END LOOP;
    PERFORM cdp_internal.alter_data_table('profile', slug, p.data_table, p.object_type || '_id', add, drop);
    RETURN p.data_table;
END
$$;
COMMENT ON FUNCTION cdp.alter_profile(text, jsonb, text[]) IS
    'Adds attributes to (without rewriting the table) and drops attributes from a profile';

CREATE FUNCTION cdp.drop_profile(slug text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p cdp.profiles;
    users text;
BEGIN
    SELECT * INTO p FROM cdp.profiles t WHERE t.slug = drop_profile.slug FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'profile "%" does not exist', slug USING ERRCODE = '42704';
    END IF;
    SELECT string_agg(u, ', ') INTO users FROM cdp_internal.profile_dependents(slug) u;
    IF users IS NOT NULL THEN
        RAISE EXCEPTION 'cannot drop profile "%" because it is used', slug
            USING ERRCODE = '2BP01', DETAIL = format('Used by %s.', users),
                  HINT = 'Drop or change those first.';
    END IF;
    EXECUTE format('DROP TABLE %s', p.data_table);
    DELETE FROM cdp.attributes t WHERE t.owner_type = 'profile' AND t.owner_slug = p.slug;
    DELETE FROM cdp_internal.data_tables t WHERE t.owner_type = 'profile' AND t.slug = p.slug;
    DELETE FROM cdp.profiles t WHERE t.slug = p.slug;
END
$$;
COMMENT ON FUNCTION cdp.drop_profile(text) IS
    'Drops a profile, its table and its values; refused while a segment or view uses it';

-- The hot path of write_values_with in C (set_profile.c): one lookup of the
-- profile and the contact, then the generated upsert with a kept plan.
CREATE FUNCTION cdp.set_profile(contact_id bigint, slug text, "values" jsonb, source text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'cdp_set_profile'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION cdp.set_profile(bigint, text, jsonb, text) IS
    'Upserts a contact''s profile values (a partial update keeps other attributes; JSON null clears one)';

CREATE FUNCTION cdp.remove_profile(contact_id bigint, slug text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p cdp.profiles;
    n bigint;
BEGIN
    SELECT * INTO p FROM cdp.profiles t WHERE t.slug = remove_profile.slug AND t.object_type = 'contact';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'contact profile "%" does not exist', slug USING ERRCODE = '42704';
    END IF;
    EXECUTE format('DELETE FROM %s WHERE contact_id = $1', p.data_table) USING cdp_internal.live_contact(contact_id);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n > 0;
END
$$;
COMMENT ON FUNCTION cdp.remove_profile(bigint, text) IS
    'Removes a contact''s profile row; true if there was one';
-- taxonomies.sql
--   Taxonomies (hierarchical terms, restricted to object types) and tags (global,
--   hierarchical, created on first use), and their assignments to contacts,
--   organizations and documents.

CREATE TABLE cdp.taxonomies (
    slug         text PRIMARY KEY
                 CONSTRAINT taxonomies_slug_format CHECK (slug ~ '^[a-z][a-z0-9_]{0,62}$'),
    title        text NOT NULL,
    object_types text[] NOT NULL
                 CONSTRAINT taxonomies_object_types_known
                 CHECK (cardinality(object_types) > 0 AND object_types <@ ARRAY['contact', 'organization', 'document'])
);
COMMENT ON TABLE cdp.taxonomies IS 'Taxonomies: hierarchical vocabularies, each allowed for some object types';

CREATE TABLE cdp.terms (
    id        bigserial PRIMARY KEY,
    taxonomy  text NOT NULL REFERENCES cdp.taxonomies (slug) ON DELETE CASCADE,
    slug      text NOT NULL,
    title     text NOT NULL,
    parent_id bigint REFERENCES cdp.terms (id) ON DELETE CASCADE,
    path      text NOT NULL,
    CONSTRAINT terms_path_key UNIQUE (taxonomy, path)
);
CREATE INDEX terms_parent_idx ON cdp.terms (parent_id);
COMMENT ON TABLE cdp.terms IS 'Terms of taxonomies; path is the slugs from the root joined by / (sports/football)';

CREATE TABLE cdp.tags (
    id        bigserial PRIMARY KEY,
    slug      text NOT NULL UNIQUE,
    title     text NOT NULL CONSTRAINT tags_title_no_slash CHECK (strpos(title, '/') = 0),
    parent_id bigint REFERENCES cdp.tags (id) ON DELETE CASCADE,
    path      text NOT NULL
);
CREATE INDEX tags_parent_idx ON cdp.tags (parent_id);
COMMENT ON TABLE cdp.tags IS
    'Global hierarchical tags; path is the titles joined by / (Technology/AI); slug is cdp_internal.tag_slug(path), unique';

CREATE TABLE cdp.contact_terms (
    contact_id bigint NOT NULL REFERENCES cdp.contacts (id) ON DELETE CASCADE,
    term_id    bigint NOT NULL REFERENCES cdp.terms (id) ON DELETE CASCADE,
    since      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contact_id, term_id)
);
CREATE INDEX contact_terms_term_idx ON cdp.contact_terms (term_id);
CREATE TABLE cdp.organization_terms (
    organization_id bigint NOT NULL REFERENCES cdp.organizations (id) ON DELETE CASCADE,
    term_id         bigint NOT NULL REFERENCES cdp.terms (id) ON DELETE CASCADE,
    since           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, term_id)
);
CREATE INDEX organization_terms_term_idx ON cdp.organization_terms (term_id);
CREATE TABLE cdp.document_terms (
    document_id bigint NOT NULL REFERENCES cdp.documents (id) ON DELETE CASCADE,
    term_id     bigint NOT NULL REFERENCES cdp.terms (id) ON DELETE CASCADE,
    since       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, term_id)
);
CREATE INDEX document_terms_term_idx ON cdp.document_terms (term_id);
CREATE TABLE cdp.contact_tags (
    contact_id bigint NOT NULL REFERENCES cdp.contacts (id) ON DELETE CASCADE,
    tag_id     bigint NOT NULL REFERENCES cdp.tags (id) ON DELETE CASCADE,
    since      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contact_id, tag_id)
);
CREATE INDEX contact_tags_tag_idx ON cdp.contact_tags (tag_id);
CREATE TABLE cdp.organization_tags (
    organization_id bigint NOT NULL REFERENCES cdp.organizations (id) ON DELETE CASCADE,
    tag_id          bigint NOT NULL REFERENCES cdp.tags (id) ON DELETE CASCADE,
    since           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, tag_id)
);
CREATE INDEX organization_tags_tag_idx ON cdp.organization_tags (tag_id);
CREATE TABLE cdp.document_tags (
    document_id bigint NOT NULL REFERENCES cdp.documents (id) ON DELETE CASCADE,
    tag_id      bigint NOT NULL REFERENCES cdp.tags (id) ON DELETE CASCADE,
    since       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, tag_id)
);
CREATE INDEX document_tags_tag_idx ON cdp.document_tags (tag_id);
COMMENT ON TABLE cdp.contact_terms IS 'Taxonomy terms assigned to contacts';
COMMENT ON TABLE cdp.organization_terms IS 'Taxonomy terms assigned to organizations';
COMMENT ON TABLE cdp.document_terms IS 'Taxonomy terms assigned to documents';
COMMENT ON TABLE cdp.contact_tags IS 'Tags of contacts';
COMMENT ON TABLE cdp.organization_tags IS 'Tags of organizations';
COMMENT ON TABLE cdp.document_tags IS 'Tags of documents';

SELECT pg_catalog.pg_extension_config_dump('cdp.taxonomies', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.terms', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.terms_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.tags', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.tags_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.contact_terms', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.organization_terms', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.document_terms', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.contact_tags', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.organization_tags', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.document_tags', '');

-- The parts of a path (a/b/c), trimmed; 22023 on an empty part.
CREATE FUNCTION cdp_internal.path_parts(path text, what text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parts text[];
BEGIN
    parts := ARRAY(SELECT btrim(p) FROM unnest(string_to_array(path, '/')) p);
    IF path IS NULL OR cardinality(parts) = 0 OR '' = ANY (parts) THEN
        RAISE EXCEPTION 'invalid % path: %', what, coalesce(quote_literal(path), 'NULL')
            USING ERRCODE = '22023', DETAIL = 'A path is one or more non-empty names separated by /.';
    END IF;
    RETURN parts;
END
$$;
COMMENT ON FUNCTION cdp_internal.path_parts(text, text) IS 'Splits a / path into trimmed, non-empty parts';

-- The slug of a tag path: lower case, runs of other characters as -, parts joined by /.
CREATE FUNCTION cdp_internal.tag_slug(path text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT string_agg(coalesce(nullif(btrim(regexp_replace(lower(btrim(p)), '[^[:alnum:]]+', '-', 'g'), '-'), ''), '-'),
                          '/' ORDER BY n)
          FROM unnest(string_to_array(path, '/')) WITH ORDINALITY AS x(p, n));
COMMENT ON FUNCTION cdp_internal.tag_slug(text) IS
    'Slug of a tag path (Technology/AI -> technology/ai); tags are found by slug, so VIP and vip are one tag';

CREATE FUNCTION cdp.define_taxonomy(slug text, object_types text[], title text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF slug IS NULL OR slug !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid taxonomy slug: %', coalesce(quote_literal(slug), 'NULL')
            USING ERRCODE = '22023', DETAIL = 'Taxonomy slugs match ^[a-z][a-z0-9_]{0,62}$.';
    END IF;
    IF object_types IS NULL OR cardinality(object_types) = 0
       OR NOT object_types <@ ARRAY['contact', 'organization', 'document'] THEN
        RAISE EXCEPTION 'invalid object types of taxonomy "%": %', slug, coalesce(object_types::text, 'NULL')
            USING ERRCODE = '22023', DETAIL = 'Object types are contact, organization and document.';
    END IF;
    INSERT INTO cdp.taxonomies AS t (slug, title, object_types)
    VALUES (slug, coalesce(title, initcap(replace(slug, '_', ' '))),
            ARRAY(SELECT DISTINCT o FROM unnest(object_types) o ORDER BY o))
    ON CONFLICT ON CONSTRAINT taxonomies_pkey DO UPDATE
        SET title = coalesce(define_taxonomy.title, t.title), object_types = EXCLUDED.object_types;
END
$$;
COMMENT ON FUNCTION cdp.define_taxonomy(text, text[], text) IS
    'Defines a taxonomy (or changes its object types and title); only those object types may be classified with it';

CREATE FUNCTION cdp.add_term(taxonomy text, path text, title text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parts text[] := cdp_internal.path_parts(path, 'term');
    parent bigint;
    term bigint;
    sofar text;
    i integer;
BEGIN
    PERFORM 1 FROM cdp.taxonomies t WHERE t.slug = add_term.taxonomy;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'taxonomy "%" does not exist', taxonomy USING ERRCODE = '42704';
    END IF;
    FOR i IN 1 .. cardinality(parts) LOOP
        IF parts[i] !~ '^[a-z0-9][a-z0-9_-]*$' THEN
            RAISE EXCEPTION 'invalid term slug "%" in path %', parts[i], quote_literal(path)
                USING ERRCODE = '22023', DETAIL = 'Term slugs match ^[a-z0-9][a-z0-9_-]*$.';
        END IF;
        sofar := CASE WHEN i = 1 THEN parts[i] ELSE sofar || '/' || parts[i] END;
        INSERT INTO cdp.terms AS t (taxonomy, slug, title, parent_id, path)
        VALUES (taxonomy, parts[i],
                CASE WHEN i = cardinality(parts) AND add_term.title IS NOT NULL THEN add_term.title
                     ELSE initcap(replace(replace(parts[i], '_', ' '), '-', ' ')) END,
                parent, sofar)
        ON CONFLICT ON CONSTRAINT terms_path_key DO UPDATE
            SET title = CASE WHEN i = cardinality(parts) AND add_term.title IS NOT NULL THEN add_term.title ELSE t.title END
        RETURNING t.id INTO term;
        parent := term;
    END LOOP;
    RETURN term;
END
$$;
COMMENT ON FUNCTION cdp.add_term(text, text, text) IS
    'Adds a term by path (sports/football), creating missing ancestors; returns its id';

-- The id of a term; 42704 if unknown.
CREATE FUNCTION cdp_internal.term_id(taxonomy text, path text) RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    term bigint;
BEGIN
    SELECT t.id INTO term FROM cdp.terms t
     WHERE t.taxonomy = term_id.taxonomy AND t.path = array_to_string(cdp_internal.path_parts(term_id.path, 'term'), '/');
    IF NOT FOUND THEN
        RAISE EXCEPTION 'term "%" of taxonomy "%" does not exist', path, taxonomy
            USING ERRCODE = '42704', HINT = 'Add it with cdp.add_term.';
    END IF;
    RETURN term;
END
$$;
COMMENT ON FUNCTION cdp_internal.term_id(text, text) IS 'The id of a term by taxonomy and path; 42704 if unknown';

-- Check an object reference and return the id to store (a contact's survivor).
CREATE FUNCTION cdp_internal.object_id(object_type text, id bigint) RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    CASE object_type
    WHEN 'contact' THEN
        RETURN cdp_internal.live_contact(id);
    WHEN 'organization' THEN
        PERFORM 1 FROM cdp.organizations o WHERE o.id = object_id.id;
    WHEN 'document' THEN
        PERFORM 1 FROM cdp.documents d WHERE d.id = object_id.id;
    ELSE
        RAISE EXCEPTION 'invalid object type: %', coalesce(quote_literal(object_type), 'NULL')
            USING ERRCODE = '22023', DETAIL = 'Object types are contact, organization and document.';
    END CASE;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% % does not exist', object_type, id USING ERRCODE = '42704';
    END IF;
    RETURN id;
END
$$;
COMMENT ON FUNCTION cdp_internal.object_id(text, bigint) IS
    'Checks that a contact, organization or document exists; follows merged contacts to the survivor';

CREATE FUNCTION cdp.classify(object_type text, id bigint, taxonomy text, path text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    allowed text[];
    obj bigint := cdp_internal.object_id(object_type, id);
    term bigint;
BEGIN
    SELECT t.object_types INTO allowed FROM cdp.taxonomies t WHERE t.slug = classify.taxonomy;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'taxonomy "%" does not exist', taxonomy USING ERRCODE = '42704';
    END IF;
    IF NOT object_type = ANY (allowed) THEN
        RAISE EXCEPTION 'taxonomy "%" is not allowed for %s', taxonomy, object_type
            USING ERRCODE = '22023', DETAIL = format('It classifies %s.', array_to_string(allowed, ', '));
    END IF;
    term := cdp_internal.term_id(taxonomy, path);
    CASE object_type
    WHEN 'contact' THEN
        INSERT INTO cdp.contact_terms (contact_id, term_id) VALUES (obj, term) ON CONFLICT DO NOTHING;
    WHEN 'organization' THEN
        INSERT INTO cdp.organization_terms (organization_id, term_id) VALUES (obj, term) ON CONFLICT DO NOTHING;
    ELSE
        INSERT INTO cdp.document_terms (document_id, term_id) VALUES (obj, term) ON CONFLICT DO NOTHING;
    END CASE;
END
$$;
COMMENT ON FUNCTION cdp.classify(text, bigint, text, text) IS
    'Assigns a taxonomy term to a contact, organization or document; refused if the taxonomy is not allowed for it';

CREATE FUNCTION cdp.unclassify(object_type text, id bigint, taxonomy text, path text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    obj bigint := cdp_internal.object_id(object_type, id);
    term bigint := cdp_internal.term_id(taxonomy, path);
    n bigint;
BEGIN
    CASE object_type
    WHEN 'contact' THEN
        DELETE FROM cdp.contact_terms x WHERE x.contact_id = obj AND x.term_id = term;
    WHEN 'organization' THEN
        DELETE FROM cdp.organization_terms x WHERE x.organization_id = obj AND x.term_id = term;
    ELSE
        DELETE FROM cdp.document_terms x WHERE x.document_id = obj AND x.term_id = term;
    END CASE;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n > 0;
END
$$;
COMMENT ON FUNCTION cdp.unclassify(text, bigint, text, text) IS
    'Removes a taxonomy term from a contact, organization or document; true if it was assigned';

-- Find or create a tag by path (and its ancestors); returns its id.
CREATE FUNCTION cdp_internal.ensure_tag(path text) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parts text[] := cdp_internal.path_parts(path, 'tag');
    parent bigint;
    tag bigint;
    sofar text;
    i integer;
BEGIN
    SELECT t.id INTO tag FROM cdp.tags t WHERE t.slug = cdp_internal.tag_slug(array_to_string(parts, '/'));
    IF FOUND THEN
        RETURN tag;
    END IF;
    FOR i IN 1 .. cardinality(parts) LOOP
        sofar := CASE WHEN i = 1 THEN parts[i] ELSE sofar || '/' || parts[i] END;
        INSERT INTO cdp.tags AS t (slug, title, parent_id, path)
        VALUES (cdp_internal.tag_slug(sofar), parts[i], parent, sofar)
        ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug
        RETURNING t.id INTO tag;
        parent := tag;
    END LOOP;
    RETURN tag;
END
$$;
COMMENT ON FUNCTION cdp_internal.ensure_tag(text) IS 'Finds a tag by path (by slug), creating it and its ancestors on first use';

CREATE FUNCTION cdp.tag(object_type text, id bigint, VARIADIC paths text[])
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    obj bigint := cdp_internal.object_id(object_type, id);
    tags bigint[];
    n integer;
BEGIN
    tags := ARRAY(SELECT cdp_internal.ensure_tag(p) FROM unnest(paths) p);
    CASE object_type
    WHEN 'contact' THEN
        INSERT INTO cdp.contact_tags (contact_id, tag_id) SELECT DISTINCT obj, t FROM unnest(tags) t ON CONFLICT DO NOTHING;
    WHEN 'organization' THEN
        INSERT INTO cdp.organization_tags (organization_id, tag_id) SELECT DISTINCT obj, t FROM unnest(tags) t ON CONFLICT DO NOTHING;
    ELSE
        INSERT INTO cdp.document_tags (document_id, tag_id) SELECT DISTINCT obj, t FROM unnest(tags) t ON CONFLICT DO NOTHING;
    END CASE;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION cdp.tag(text, bigint, text[]) IS
    'Tags a contact, organization or document with tag paths (Technology/AI), creating tags on first use; returns how many were new';

CREATE FUNCTION cdp.untag(object_type text, id bigint, VARIADIC paths text[])
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    obj bigint := cdp_internal.object_id(object_type, id);
    tags bigint[];
    n integer;
BEGIN
    tags := ARRAY(SELECT t.id FROM cdp.tags t
                   WHERE t.slug IN (SELECT cdp_internal.tag_slug(array_to_string(cdp_internal.path_parts(p, 'tag'), '/'))
                                      FROM unnest(paths) p));
    CASE object_type
    WHEN 'contact' THEN
        DELETE FROM cdp.contact_tags x WHERE x.contact_id = obj AND x.tag_id = ANY (tags);
    WHEN 'organization' THEN
        DELETE FROM cdp.organization_tags x WHERE x.organization_id = obj AND x.tag_id = ANY (tags);
    ELSE
        DELETE FROM cdp.document_tags x WHERE x.document_id = obj AND x.tag_id = ANY (tags);
    END CASE;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION cdp.untag(text, bigint, text[]) IS
    'Removes tags (by path) from a contact, organization or document; returns how many were removed';
-- events.sql
--   cdp.events, what contacts did, and cdp.track, which resolves the contact
--   from its identifiers and records an event.

CREATE TABLE cdp.events (
    id          bigserial PRIMARY KEY,
    contact_id  bigint NOT NULL REFERENCES cdp.contacts (id) ON DELETE CASCADE,
    name        text NOT NULL CONSTRAINT events_name_not_empty CHECK (name <> ''),
    occurred_at timestamptz NOT NULL DEFAULT now(),
    received_at timestamptz NOT NULL DEFAULT now(),
    properties  jsonb NOT NULL DEFAULT '{}'
                CONSTRAINT events_properties_object CHECK (jsonb_typeof(properties) = 'object'),
    source      text
);
-- Per contact (and name and time: EVENT 'purchase' COUNT >= 3 WITHIN 30 DAYS),
-- per name and time, and per time.
CREATE INDEX events_contact_name_time_idx ON cdp.events (contact_id, name, occurred_at);
CREATE INDEX events_name_time_idx ON cdp.events (name, occurred_at);
CREATE INDEX events_time_idx ON cdp.events (occurred_at);
COMMENT ON TABLE cdp.events IS 'Events of contacts (what they did), recorded by cdp.track and cdp.ingest';

SELECT pg_catalog.pg_extension_config_dump('cdp.events', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.events_id_seq', '');

CREATE FUNCTION cdp.track(identifiers jsonb, event text, properties jsonb DEFAULT '{}',
                          occurred_at timestamptz DEFAULT now(), source text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    contact bigint;
    ev bigint;
BEGIN
    IF event IS NULL OR event = '' THEN
        RAISE EXCEPTION 'invalid event name: %', coalesce(quote_literal(event), 'NULL')
            USING ERRCODE = '22023', DETAIL = 'An event has a non-empty name.';
    END IF;
    IF properties IS NOT NULL AND jsonb_typeof(properties) <> 'object' THEN
        RAISE EXCEPTION 'invalid properties of event "%": %', event, properties
            USING ERRCODE = '22023', DETAIL = 'Properties are a JSON object.';
    END IF;
    contact := cdp.resolve(identifiers, source);
    INSERT INTO cdp.events (contact_id, name, occurred_at, properties, source)
    VALUES (contact, event, coalesce(occurred_at, now()), coalesce(properties, '{}'), source)
    RETURNING id INTO ev;
    RETURN ev;
END
$$;
COMMENT ON FUNCTION cdp.track(jsonb, text, jsonb, timestamptz, text) IS
    'Resolves the contact from its identifiers (cdp.resolve) and records an event; returns the event id';
-- archive.sql
--   cdp.archive and cdp.restore for contacts, organizations and documents:
--   archiving sets archived_at, restoring clears it.

CREATE FUNCTION cdp_internal.set_archived(object_type text, id bigint, archived boolean)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    was timestamptz;
    found_it boolean;
BEGIN
    CASE object_type
    WHEN 'contact' THEN
        SELECT c.archived_at INTO was FROM cdp.contacts c WHERE c.id = set_archived.id FOR UPDATE;
        found_it := FOUND;
        IF found_it AND (was IS NULL) = archived THEN
            UPDATE cdp.contacts c SET archived_at = CASE WHEN archived THEN now() END, updated_at = now()
             WHERE c.id = set_archived.id;
        END IF;
    WHEN 'organization' THEN
        SELECT o.archived_at INTO was FROM cdp.organizations o WHERE o.id = set_archived.id FOR UPDATE;
        found_it := FOUND;
        IF found_it AND (was IS NULL) = archived THEN
            UPDATE cdp.organizations o SET archived_at = CASE WHEN archived THEN now() END
             WHERE o.id = set_archived.id;
        END IF;
    WHEN 'document' THEN
        SELECT d.archived_at INTO was FROM cdp.documents d WHERE d.id = set_archived.id FOR UPDATE;
        found_it := FOUND;
        IF found_it AND (was IS NULL) = archived THEN
            UPDATE cdp.documents d SET archived_at = CASE WHEN archived THEN now() END, updated_at = now()
             WHERE d.id = set_archived.id;
        END IF;
    ELSE
        RAISE EXCEPTION 'invalid object type: %', coalesce(quote_literal(object_type), 'NULL')
            USING ERRCODE = '22023', DETAIL = 'Object types are contact, organization and document.';
    END CASE;
    IF NOT found_it THEN
        RAISE EXCEPTION '% % does not exist', object_type, id USING ERRCODE = '42704';
    END IF;
    RETURN (was IS NULL) = archived;
END
$$;
COMMENT ON FUNCTION cdp_internal.set_archived(text, bigint, boolean) IS
    'Sets or clears archived_at of a contact, organization or document; true if it changed';

CREATE FUNCTION cdp.archive(object_type text, id bigint)
RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
RETURN cdp_internal.set_archived(object_type, id, true);
COMMENT ON FUNCTION cdp.archive(text, bigint) IS
    'Archives a contact, organization or document (sets archived_at; it leaves segments and views); true if it was active';

CREATE FUNCTION cdp.restore(object_type text, id bigint)
RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
RETURN cdp_internal.set_archived(object_type, id, false);
COMMENT ON FUNCTION cdp.restore(text, bigint) IS
    'Restores an archived contact, organization or document (clears archived_at); true if it was archived';
-- merge.sql
--   How merges, unmerges and forgetting reach the model data (profiles, tags,
--   terms, memberships, documents, events).  Identity resolution calls these
--   three functions.
--
-- Snapshot (cdp.merges.snapshot -> 'model'), everything about the absorbed contact:
--   {"version": 1,
--    "profiles":  {"<slug>": {"row": {<absorbed row as JSON, without contact_id>},
--                             "created": true|false,     -- survivor had no row
--                             "filled": ["attr", ...]}},  -- survivor NULLs filled
--    "tags":      {"all": [[tag_id, since], ...], "moved": [tag_id, ...]},
--    "terms":     {"all": [[term_id, since], ...], "moved": [term_id, ...]},
--    "members":   {"all": [{organization_id, role, is_primary, since}, ...], "moved": [organization_id, ...]},
--    "documents": [document_id, ...],
--    "events":    [event_id, ...]}
-- "moved" lists what the survivor gained (it did not hold it before).

-- Move everything the absorbed contact owns to the survivor and return what
-- unmerge needs to put it back (stored in cdp.merges.snapshot -> 'model').
CREATE FUNCTION cdp_internal.model_merge(survivor bigint, absorbed bigint)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
    arow jsonb;
    srow jsonb;
    filled text[];
    profiles jsonb := '{}';
    tags jsonb;
    terms jsonb;
    members jsonb;
    documents jsonb;
    events jsonb;
BEGIN
    IF survivor IS NULL OR absorbed IS NULL OR survivor = absorbed THEN
        RAISE EXCEPTION 'cannot merge contact % into %', absorbed, survivor USING ERRCODE = '22023';
    END IF;

    FOR p IN SELECT pr.slug, pr.data_table,
                    ARRAY(SELECT a.slug FROM cdp.attributes a
                           WHERE a.owner_type = 'profile' AND a.owner_slug = pr.slug ORDER BY a.position) AS attrs
               FROM cdp.profiles pr WHERE pr.object_type = 'contact' ORDER BY pr.slug LOOP
        EXECUTE format('SELECT to_jsonb(t) - ''contact_id'' FROM %s t WHERE t.contact_id = $1 FOR UPDATE', p.data_table)
            INTO arow USING absorbed;
        CONTINUE WHEN arow IS NULL;
        EXECUTE format('SELECT to_jsonb(t) FROM %s t WHERE t.contact_id = $1 FOR UPDATE', p.data_table)
            INTO srow USING survivor;
        IF srow IS NULL THEN
            EXECUTE format('UPDATE %s SET contact_id = $1 WHERE contact_id = $2', p.data_table) USING survivor, absorbed;
            profiles := profiles || jsonb_build_object(p.slug, jsonb_build_object('row', arow, 'created', true,
                            'filled', to_jsonb(ARRAY(SELECT a FROM unnest(p.attrs) a WHERE arow -> a <> 'null'))));
        ELSE
            filled := ARRAY(SELECT a FROM unnest(p.attrs) a WHERE srow -> a = 'null' AND arow -> a <> 'null');
            IF cardinality(filled) > 0 THEN
                EXECUTE format('UPDATE %s s SET updated_at = now(), %s FROM %s ab WHERE s.contact_id = $1 AND ab.contact_id = $2',
                               p.data_table,
                               (SELECT string_agg(format('%I = ab.%I', a, a), ', ') FROM unnest(filled) a),
                               p.data_table)
                    USING survivor, absorbed;
            END IF;
            EXECUTE format('DELETE FROM %s WHERE contact_id = $1', p.data_table) USING absorbed;
            profiles := profiles || jsonb_build_object(p.slug, jsonb_build_object('row', arow, 'created', false,
                            'filled', to_jsonb(filled)));
        END IF;
    END LOOP;

    WITH a AS (DELETE FROM cdp.contact_tags x WHERE x.contact_id = absorbed RETURNING x.tag_id, x.since),
         i AS (INSERT INTO cdp.contact_tags (contact_id, tag_id, since)
               SELECT survivor, a.tag_id, a.since FROM a ON CONFLICT DO NOTHING RETURNING tag_id)
    SELECT jsonb_build_object('all', coalesce((SELECT jsonb_agg(jsonb_build_array(a.tag_id, a.since) ORDER BY a.tag_id) FROM a), '[]'),
                              'moved', coalesce((SELECT jsonb_agg(i.tag_id ORDER BY i.tag_id) FROM i), '[]'))
      INTO tags;

    WITH a AS (DELETE FROM cdp.contact_terms x WHERE x.contact_id = absorbed RETURNING x.term_id, x.since),
         i AS (INSERT INTO cdp.contact_terms (contact_id, term_id, since)
               SELECT survivor, a.term_id, a.since FROM a ON CONFLICT DO NOTHING RETURNING term_id)
    SELECT jsonb_build_object('all', coalesce((SELECT jsonb_agg(jsonb_build_array(a.term_id, a.since) ORDER BY a.term_id) FROM a), '[]'),
                              'moved', coalesce((SELECT jsonb_agg(i.term_id ORDER BY i.term_id) FROM i), '[]'))
      INTO terms;

    WITH a AS (DELETE FROM cdp.organization_members x WHERE x.contact_id = absorbed
               RETURNING x.organization_id, x.role, x.is_primary, x.since),
         sp AS (SELECT EXISTS (SELECT 1 FROM cdp.organization_members x WHERE x.contact_id = survivor AND x.is_primary) AS has),
         i AS (INSERT INTO cdp.organization_members (contact_id, organization_id, role, is_primary, since)
               SELECT survivor, a.organization_id, a.role, a.is_primary AND NOT sp.has, a.since FROM a, sp
               ON CONFLICT DO NOTHING RETURNING organization_id)
    SELECT jsonb_build_object('all', coalesce((SELECT jsonb_agg(to_jsonb(a) ORDER BY a.organization_id) FROM a), '[]'),
                              'moved', coalesce((SELECT jsonb_agg(i.organization_id ORDER BY i.organization_id) FROM i), '[]'))
      INTO members;

    WITH m AS (UPDATE cdp.documents d SET contact_id = survivor WHERE d.contact_id = absorbed RETURNING d.id)
    SELECT coalesce(jsonb_agg(m.id ORDER BY m.id), '[]') INTO documents FROM m;

    WITH m AS (UPDATE cdp.events e SET contact_id = survivor WHERE e.contact_id = absorbed RETURNING e.id)
    SELECT coalesce(jsonb_agg(m.id ORDER BY m.id), '[]') INTO events FROM m;

    RETURN jsonb_build_object('version', 1, 'profiles', profiles, 'tags', tags, 'terms', terms,
                              'members', members, 'documents', documents, 'events', events);
END
$$;
COMMENT ON FUNCTION cdp_internal.model_merge(bigint, bigint) IS
    'Moves the absorbed contact''s profiles, tags, terms, memberships, documents and events to the survivor; returns the undo snapshot';

-- Put back what model_merge moved from absorbed to survivor.  If the survivor
-- has itself been merged since, its own survivor gives the things back.
CREATE FUNCTION cdp_internal.model_unmerge(survivor bigint, absorbed bigint, snapshot jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s bigint := survivor;
    nxt bigint;
    pslug text;
    entry jsonb;
    tbl regclass;
    attrs text[];
    filled text[];
BEGIN
    IF snapshot IS NULL OR snapshot = '{}' THEN
        RETURN;
    END IF;
    IF snapshot ->> 'version' IS DISTINCT FROM '1' THEN
        RAISE EXCEPTION 'unknown model snapshot version: %', coalesce(snapshot ->> 'version', 'none')
            USING ERRCODE = '22023';
    END IF;
    LOOP
        SELECT c.merged_into INTO nxt FROM cdp.contacts c WHERE c.id = s;
        EXIT WHEN nxt IS NULL OR nxt = absorbed;
        s := nxt;
    END LOOP;

    FOR pslug, entry IN SELECT e.key, e.value FROM jsonb_each(snapshot -> 'profiles') e ORDER BY e.key LOOP
        SELECT pr.data_table,
               ARRAY(SELECT a.slug FROM cdp.attributes a WHERE a.owner_type = 'profile' AND a.owner_slug = pr.slug)
          INTO tbl, attrs
          FROM cdp.profiles pr WHERE pr.slug = pslug AND pr.object_type = 'contact';
        CONTINUE WHEN tbl IS NULL;
        IF (entry ->> 'created')::boolean THEN
            EXECUTE format('DELETE FROM %s WHERE contact_id = $1', tbl) USING s;
        ELSE
            filled := ARRAY(SELECT f FROM jsonb_array_elements_text(entry -> 'filled') f WHERE f = ANY (attrs));
            IF cardinality(filled) > 0 THEN
                EXECUTE format('UPDATE %s SET %s WHERE contact_id = $1', tbl,
                               (SELECT string_agg(format('%I = CASE WHEN to_jsonb(%I) = $2 -> %L THEN NULL ELSE %I END', f, f, f, f), ', ')
                                  FROM unnest(filled) f))
                    USING s, entry -> 'row';
            END IF;
        END IF;
        EXECUTE format('INSERT INTO %s SELECT * FROM jsonb_populate_record(NULL::%s, $1) ON CONFLICT (contact_id) DO NOTHING',
                       tbl, tbl)
            USING (entry -> 'row') || jsonb_build_object('contact_id', absorbed);
    END LOOP;

    DELETE FROM cdp.contact_tags x
     WHERE x.contact_id = s AND x.tag_id IN (SELECT t::bigint FROM jsonb_array_elements_text(snapshot -> 'tags' -> 'moved') t);
    INSERT INTO cdp.contact_tags (contact_id, tag_id, since)
    SELECT absorbed, (e ->> 0)::bigint, (e ->> 1)::timestamptz FROM jsonb_array_elements(snapshot -> 'tags' -> 'all') e
     WHERE EXISTS (SELECT 1 FROM cdp.tags t WHERE t.id = (e ->> 0)::bigint)
    ON CONFLICT DO NOTHING;

    DELETE FROM cdp.contact_terms x
     WHERE x.contact_id = s AND x.term_id IN (SELECT t::bigint FROM jsonb_array_elements_text(snapshot -> 'terms' -> 'moved') t);
    INSERT INTO cdp.contact_terms (contact_id, term_id, since)
    SELECT absorbed, (e ->> 0)::bigint, (e ->> 1)::timestamptz FROM jsonb_array_elements(snapshot -> 'terms' -> 'all') e
     WHERE EXISTS (SELECT 1 FROM cdp.terms t WHERE t.id = (e ->> 0)::bigint)
    ON CONFLICT DO NOTHING;

    DELETE FROM cdp.organization_members x
     WHERE x.contact_id = s
       AND x.organization_id IN (SELECT t::bigint FROM jsonb_array_elements_text(snapshot -> 'members' -> 'moved') t);
    INSERT INTO cdp.organization_members (contact_id, organization_id, role, is_primary, since)
    SELECT absorbed, m.organization_id, m.role, m.is_primary, m.since
      FROM jsonb_populate_recordset(NULL::cdp.organization_members, snapshot -> 'members' -> 'all') m
     WHERE EXISTS (SELECT 1 FROM cdp.organizations o WHERE o.id = m.organization_id)
    ON CONFLICT DO NOTHING;

    UPDATE cdp.documents d SET contact_id = absorbed
     WHERE d.contact_id = s AND d.id IN (SELECT t::bigint FROM jsonb_array_elements_text(snapshot -> 'documents') t);

    UPDATE cdp.events e SET contact_id = absorbed
     WHERE e.contact_id = s AND e.id IN (SELECT t::bigint FROM jsonb_array_elements_text(snapshot -> 'events') t);
END
$$;
COMMENT ON FUNCTION cdp_internal.model_unmerge(bigint, bigint, jsonb) IS
    'Gives the absorbed contact back what model_merge moved from it, and clears the survivor''s attributes it filled';

-- Erase everything the model holds about a contact.
CREATE FUNCTION cdp_internal.model_forget(contact bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tbl regclass;
BEGIN
    FOR tbl IN SELECT pr.data_table FROM cdp.profiles pr WHERE pr.object_type = 'contact' ORDER BY pr.slug LOOP
        EXECUTE format('DELETE FROM %s WHERE contact_id = $1', tbl) USING contact;
    END LOOP;
    DELETE FROM cdp.documents d WHERE d.contact_id = contact;
    DELETE FROM cdp.organization_members m WHERE m.contact_id = contact;
    DELETE FROM cdp.contact_tags x WHERE x.contact_id = contact;
    DELETE FROM cdp.contact_terms x WHERE x.contact_id = contact;
    DELETE FROM cdp.events e WHERE e.contact_id = contact;
END
$$;
COMMENT ON FUNCTION cdp_internal.model_forget(bigint) IS
    'Erases the contact''s profiles, documents (and their values), memberships, tags, terms and events';
