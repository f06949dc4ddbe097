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

CREATE OR REPLACE FUNCTION cdp_internal.keep_builtin_kind_settings() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
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

CREATE OR REPLACE FUNCTION cdp_internal.apply_builtin_kind_settings() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
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

CREATE OR REPLACE FUNCTION cdp.normalize_email(value text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_normalize_email'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION cdp.normalize_email(text) IS
    'Matching key of an email address: trimmed, NFC, lower case, IDNA A-label domain, provider rules applied';

CREATE OR REPLACE FUNCTION cdp.normalize_phone(value text, region text DEFAULT NULL) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_normalize_phone'
    LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION cdp.normalize_phone(text, text) IS
    'E.164 form of a valid phone number (libphonenumber); region is the ISO 3166 default region';

CREATE OR REPLACE FUNCTION cdp_internal.normalize_value(normalizer text, value text, region text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_normalize_value'
    LANGUAGE C STABLE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION cdp_internal.is_valid_value(normalizer text, value text, region text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'cdp_is_valid_value'
    LANGUAGE C STABLE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION cdp.normalize_identifier(kind text, value text, region text DEFAULT NULL)
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

CREATE OR REPLACE FUNCTION cdp.is_valid_identifier(kind text, value text, region text DEFAULT NULL)
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

CREATE OR REPLACE FUNCTION cdp.email_info(value text,
    OUT local text, OUT domain text, OUT unicode_domain text,
    OUT provider text, OUT role_account boolean, OUT normalized text)
    AS 'MODULE_PATHNAME', 'cdp_email_info'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION cdp.email_info(text) IS
    'Parts of an email address: lower-cased local part, A-label and Unicode domain, provider, role account, matching key';

CREATE OR REPLACE FUNCTION cdp.phone_info(value text, region text DEFAULT NULL,
    OUT e164 text, OUT country_code integer, OUT region_code text,
    OUT number_type text, OUT national_format text, OUT international_format text, OUT valid boolean)
    AS 'MODULE_PATHNAME', 'cdp_phone_info'
    LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION cdp.phone_info(text, text) IS
    'Parts of a phone number from libphonenumber: E.164, country code, region, number type, formats, validity';

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
    'The contact that holds the value after the resolve (the survivor if its holder was merged into the record''s contact); NULL when no contact holds it: always for invalid, and for blocked or limit when the value was stored nowhere. For merge_block, one side of the blocked pair';

COMMENT ON COLUMN cdp.identity_conflicts.other_contact_id IS
    'The contact the record resolved to, which the refused value was not linked to (for merge_block, the other side of the blocked pair; for limit, the contact that would have exceeded max_per_contact); NULL when the record made no contact because all its values were invalid or blocked';

COMMENT ON COLUMN cdp.identity_conflicts.source IS 'The source of the record that brought the value';

COMMENT ON TABLE cdp.merge_blocks IS
    'Pairs of contacts that are never merged (contact_a < contact_b); unmerge adds one';

COMMENT ON COLUMN cdp.merge_blocks.contact_a IS 'The lower contact id of the pair';

COMMENT ON COLUMN cdp.merge_blocks.contact_b IS 'The higher contact id of the pair';

COMMENT ON COLUMN cdp.merge_blocks.reason IS
    'Why the pair must stay apart (unmerge records the merge it undid)';

COMMENT ON COLUMN cdp.merge_blocks.created_at IS 'When the block was made';

COMMENT ON TABLE cdp.suppressions IS
    'Salted hashes of the identifiers of forgotten people; resolving one of them is refused';

COMMENT ON COLUMN cdp.suppressions.kind IS 'The identifier kind of the forgotten value';

COMMENT ON COLUMN cdp.suppressions.value_hash IS
    'sha256 of the salt (cdp_internal.secrets) and the kind and normalised value';

COMMENT ON COLUMN cdp.suppressions.created_at IS 'When the value was suppressed (cdp.forget_contact)';

CREATE OR REPLACE FUNCTION cdp_internal.check_identifier_kinds() RETURNS trigger
AS 'MODULE_PATHNAME', 'cdp_check_identifier_kinds'
LANGUAGE C;

CREATE OR REPLACE FUNCTION cdp_internal.check_identifier_kind() RETURNS trigger
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

CREATE OR REPLACE FUNCTION cdp_internal.protect_identifier_kind() RETURNS trigger
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

CREATE OR REPLACE FUNCTION cdp_internal.refuse_kinds_truncate() RETURNS trigger
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

CREATE OR REPLACE FUNCTION cdp_internal.normalize_blocked_values() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v text;
    norm text;
    result text[] := '{}';
    reason text;
BEGIN
    FOREACH v IN ARRAY NEW.blocked_values LOOP
        IF v IS NULL THEN
            RAISE EXCEPTION 'blocked values of identifier kind "%" must not contain null', NEW.kind
                USING ERRCODE = 'null_value_not_allowed';
        END IF;
        BEGIN
            norm := cdp_internal.normalize_value(NEW.normalizer, v, NULL);
        EXCEPTION WHEN invalid_parameter_value THEN
            GET STACKED DIAGNOSTICS reason = MESSAGE_TEXT;
            RAISE EXCEPTION 'invalid blocked value % of identifier kind "%"', quote_literal(v), NEW.kind
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('The kind''s %s normaliser refuses it: %s.', NEW.normalizer, reason),
                      HINT = 'Blocked values are values of the kind; use blocked_patterns for LIKE patterns.';
        END;
        IF NOT norm = ANY (result) THEN
            result := result || norm;
        END IF;
    END LOOP;
    NEW.blocked_values := result;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION cdp_internal.normalize_blocked_values() IS
    'Normalises an identifier kind''s blocked values with its normaliser; 22023 for a value it refuses';

COMMENT ON TABLE cdp_internal.secrets IS
    'The salt of the hashes in cdp.suppressions, made on first use; one row';

COMMENT ON COLUMN cdp_internal.secrets.singleton IS 'Always true: the table holds at most one row';

COMMENT ON COLUMN cdp_internal.secrets.salt IS 'Random bytes prefixed to every hashed identifier';

CREATE OR REPLACE FUNCTION cdp_internal.identifier_hash(kind text, value text) RETURNS bytea
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT sha256(s.salt || convert_to(kind || chr(1) || value, 'UTF8'))
              FROM cdp_internal.secrets s);
END
$$;

CREATE OR REPLACE FUNCTION cdp_internal.ensure_salt() RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO cdp_internal.secrets (salt)
    VALUES (sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text
                              || clock_timestamp()::text, 'UTF8')))
    ON CONFLICT (singleton) DO NOTHING
$$;

CREATE OR REPLACE FUNCTION cdp_internal.refresh_contact_type(contact bigint) RETURNS void
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

CREATE OR REPLACE FUNCTION cdp.refresh_contact_type(id bigint) RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    live bigint := cdp_internal.lock_contact(id, true);
BEGIN
    PERFORM cdp_internal.refresh_contact_type(live);
    RETURN (SELECT c.type FROM cdp.contacts c WHERE c.id = live);
END
$$;

COMMENT ON FUNCTION cdp.refresh_contact_type(bigint) IS
    'Recomputes a contact''s type (after changing its identifiers or names by hand); returns it';

CREATE OR REPLACE FUNCTION cdp_internal.invalidate_cache() RETURNS trigger
AS 'MODULE_PATHNAME', 'cdp_invalidate_cache'
LANGUAGE C;

CREATE OR REPLACE FUNCTION cdp.resolve(identifiers jsonb, source text DEFAULT NULL, region text DEFAULT NULL,
                            on_invalid text DEFAULT 'error')
RETURNS bigint
AS 'MODULE_PATHNAME', 'cdp_resolve'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION cdp.resolve(jsonb, text, text, text) IS
    'Resolve a record''s identifiers to one contact: create, attach or merge under the merge rules; returns the contact id, or NULL when every value is invalid or blocked (on_invalid: error or skip)';

CREATE OR REPLACE FUNCTION cdp.merge_contacts(target bigint, others bigint[], reason text DEFAULT 'manual')
RETURNS bigint
AS 'MODULE_PATHNAME', 'cdp_merge_contacts'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION cdp.merge_contacts(bigint, bigint[], text) IS
    'Merge other contacts into target, which survives; refused by merge blocks and identifier limits';

CREATE OR REPLACE FUNCTION cdp.unmerge(merge_id bigint) RETURNS bigint
AS 'MODULE_PATHNAME', 'cdp_unmerge'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION cdp.unmerge(bigint) IS
    'Undo a merge: restore the absorbed contact with what came from it, mark the merge undone, block the pair';

CREATE OR REPLACE FUNCTION cdp.current_contact(id bigint) RETURNS bigint
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

CREATE OR REPLACE FUNCTION cdp_internal.contact_family(live bigint) RETURNS SETOF bigint
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE family(id) AS (
        SELECT live
        UNION
        SELECT c.id FROM cdp.contacts c JOIN family f ON c.merged_into = f.id)
    SELECT id FROM family
$$;

CREATE OR REPLACE FUNCTION cdp.find_contact(kind text, value text, region text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kind_normalizer text;
    found bigint;
BEGIN
    IF kind IS NULL OR value IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT k.normalizer INTO kind_normalizer
      FROM cdp.identifier_kinds k WHERE k.kind = find_contact.kind;
    IF kind_normalizer IS NULL THEN
        RAISE EXCEPTION 'unknown identifier kind: "%"', kind
            USING ERRCODE = 'undefined_object',
                  HINT = 'Identifier kinds are the rows of cdp.identifier_kinds.';
    END IF;
    IF NOT cdp_internal.is_valid_value(kind_normalizer, value, region) THEN
        RETURN NULL;
    END IF;
    SELECT cdp.current_contact(i.contact_id) INTO found
      FROM cdp.identifiers i
     WHERE i.kind = find_contact.kind
       AND i.value = cdp_internal.normalize_value(kind_normalizer, find_contact.value, find_contact.region);
    RETURN found;
END
$$;

COMMENT ON FUNCTION cdp.find_contact(text, text, text) IS
    'The contact holding an identifier (normalised first); NULL when unknown or when the normaliser refuses the value; 42704 for an unknown kind';

CREATE OR REPLACE FUNCTION cdp_internal.lock_identifier_values(kinds text[], vals text[]) RETURNS void
LANGUAGE c VOLATILE STRICT
AS 'MODULE_PATHNAME', 'cdp_lock_identifier_values_sql';

COMMENT ON FUNCTION cdp_internal.lock_identifier_values(text[], text[]) IS
    'Takes the transaction advisory locks resolve takes on these (kind, value) pairs, in resolve''s order';

CREATE OR REPLACE FUNCTION cdp_internal.lock_contact(id bigint, for_update boolean DEFAULT false) RETURNS bigint
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'cdp_lock_contact_sql';

COMMENT ON FUNCTION cdp_internal.lock_contact(bigint, boolean) IS
    'Locks the live contact an id leads to (following merges) and returns it; 42704 if unknown, 22004 for NULL';

CREATE OR REPLACE FUNCTION cdp.update_contact(id bigint, given_name text DEFAULT NULL,
                                   family_name text DEFAULT NULL, is_vendor boolean DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    live bigint := cdp_internal.lock_contact(id, true);
BEGIN
    UPDATE cdp.contacts c
       SET given_name = CASE WHEN update_contact.given_name IS NULL THEN c.given_name
                             ELSE nullif(btrim(update_contact.given_name, E' \t\r\n\f'), '') END,
           family_name = CASE WHEN update_contact.family_name IS NULL THEN c.family_name
                              ELSE nullif(btrim(update_contact.family_name, E' \t\r\n\f'), '') END,
           is_vendor = coalesce(update_contact.is_vendor, c.is_vendor),
           updated_at = now()
     WHERE c.id = live;
    PERFORM cdp_internal.refresh_contact_type(live);
END
$$;

COMMENT ON FUNCTION cdp.update_contact(bigint, text, text, boolean) IS
    'Set a contact''s own fields (NULL leaves a field as it is, names are trimmed and a blank name clears it; a merged id leads to the survivor); the type follows';

CREATE OR REPLACE FUNCTION cdp.forget_contact(id bigint) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    live bigint;
    person bigint[];
    member bigint;
BEGIN
    IF id IS NULL THEN
        RAISE EXCEPTION 'contact id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    live := cdp.current_contact(id);
    IF live IS NULL THEN
        RAISE EXCEPTION 'contact % does not exist', id USING ERRCODE = 'undefined_object';
    END IF;
    -- the values the person holds now; more may come before the contact lock
    PERFORM cdp_internal.lock_identifier_values(coalesce(array_agg(i.kind), '{}'), coalesce(array_agg(i.value), '{}'))
       FROM cdp.identifiers i
      WHERE i.contact_id IN (SELECT cdp_internal.contact_family(live));
    -- the live contact, then its tombstones: nobody changes a tombstone
    -- without holding the live contact, so this order cannot deadlock
    live := cdp_internal.lock_contact(id, true);
    person := ARRAY(SELECT f FROM cdp_internal.contact_family(live) f ORDER BY f);
    PERFORM 1 FROM cdp.contacts c WHERE c.id = ANY (person) AND c.id <> live ORDER BY c.id FOR UPDATE;
    -- values attached before we held the contact (already held ones are free)
    PERFORM cdp_internal.lock_identifier_values(coalesce(array_agg(i.kind), '{}'), coalesce(array_agg(i.value), '{}'))
       FROM cdp.identifiers i WHERE i.contact_id = ANY (person);

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

CREATE OR REPLACE FUNCTION cdp_internal.deletable_ghosts(cutoff timestamptz, candidates bigint[] DEFAULT NULL)
RETURNS SETOF bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.id
      FROM cdp.contacts c
     WHERE (candidates IS NULL OR c.id = ANY (candidates))
       AND c.type = 'ghost' AND c.merged_into IS NULL AND NOT c.is_vendor
       AND coalesce(c.given_name, '') = '' AND coalesce(c.family_name, '') = ''
       AND coalesce(c.last_seen_at, c.created_at) < cutoff
       AND NOT EXISTS (SELECT 1 FROM cdp.identifiers i JOIN cdp.identifier_kinds k USING (kind)
                        WHERE i.contact_id = c.id AND k.normalizer <> 'anonymous')
       AND NOT EXISTS (SELECT 1 FROM cdp.contacts t WHERE t.merged_into = c.id)
       AND NOT EXISTS (SELECT 1 FROM cdp.merges m WHERE c.id IN (m.survivor_id, m.absorbed_id))
       AND NOT EXISTS (SELECT 1 FROM cdp.merge_blocks b WHERE c.id IN (b.contact_a, b.contact_b))
     ORDER BY c.id
$$;

CREATE OR REPLACE FUNCTION cdp.cleanup_ghosts(inactive_for interval) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cutoff timestamptz;
    candidates bigint[];
    ghosts bigint[];
    ghost bigint;
BEGIN
    PERFORM cdp_internal.not_null(inactive_for, 'inactive_for');
    IF inactive_for < interval '0' THEN
        RAISE EXCEPTION 'inactive_for must be a non-negative interval'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    cutoff := now() - inactive_for;
    candidates := ARRAY(SELECT cdp_internal.deletable_ghosts(cutoff));
    IF cardinality(candidates) = 0 THEN
        RETURN 0;
    END IF;
    candidates := ARRAY(SELECT c.id FROM cdp.contacts c WHERE c.id = ANY (candidates)
                         ORDER BY c.id FOR UPDATE SKIP LOCKED);
    ghosts := ARRAY(SELECT cdp_internal.deletable_ghosts(cutoff, candidates));
    IF cardinality(ghosts) = 0 THEN
        RETURN 0;
    END IF;
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
    'Delete anonymous visitors (no name, not a vendor, only anonymous and uuid identifiers) not seen for inactive_for; returns how many';

CREATE OR REPLACE FUNCTION cdp.resolve_all(query text)
RETURNS TABLE (record_id text, contact_id bigint)
AS 'MODULE_PATHNAME', 'cdp_resolve_all'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION cdp.resolve_all(text) IS
    'Bulk resolution: query returns (record_id, kind, value[, source, region]); union-find in C under the merge rules of resolve';

CREATE OR REPLACE FUNCTION cdp_internal.dot_quote(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT '"' || replace(replace(replace(value, '\', '\\'), '"', '\"'), E'\n', '\n') || '"'
$$;

CREATE OR REPLACE FUNCTION cdp.identity_graph(contact bigint) RETURNS text
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

COMMENT ON TABLE cdp.profiles IS
    'Profiles: named sets of typed attributes of contacts or organizations, each stored in its own cdp_data table';

COMMENT ON COLUMN cdp.profiles.data_table IS 'The generated table cdp_data.profile_<slug>';

COMMENT ON COLUMN cdp.profiles.slug IS 'Profile name, the argument of set_profile';

COMMENT ON COLUMN cdp.profiles.title IS 'Human-readable name';

COMMENT ON COLUMN cdp.profiles.object_type IS 'contact or organization: what the profile describes';

COMMENT ON COLUMN cdp.profiles.description IS 'Free text, or NULL';

COMMENT ON COLUMN cdp.profiles.created_at IS 'When the profile was defined';

COMMENT ON TABLE cdp.document_templates IS
    'Document templates: typed attributes of a family of documents, stored in cdp_data.document_<slug>';

COMMENT ON COLUMN cdp.document_templates.owner IS
    'contact: every document belongs to a contact; organization: every document belongs to an organization';

COMMENT ON COLUMN cdp.document_templates.slug IS 'Template name';

COMMENT ON COLUMN cdp.document_templates.title IS 'Human-readable name';

COMMENT ON COLUMN cdp.document_templates.description IS 'Free text, or NULL';

COMMENT ON COLUMN cdp.document_templates.data_table IS 'The generated table cdp_data.document_<slug>';

COMMENT ON COLUMN cdp.document_templates.created_at IS 'When the template was defined';

COMMENT ON TABLE cdp.attributes IS
    'Typed attributes of profiles and document templates; each is a column of the generated table';

COMMENT ON COLUMN cdp.attributes.validations IS
    'min, max, min_length, max_length, pattern, options, decimals; each is a named CHECK constraint';

COMMENT ON COLUMN cdp.attributes.owner_type IS 'profile or document_template';

COMMENT ON COLUMN cdp.attributes.owner_slug IS 'The slug of the profile or document template';

COMMENT ON COLUMN cdp.attributes.slug IS
    'Attribute name: the column of the generated table and the JSON key of values';

COMMENT ON COLUMN cdp.attributes.title IS
    'Human-readable name (also the column comment of the generated table)';

COMMENT ON COLUMN cdp.attributes.data_type IS
    'text, integer, number, boolean, date, datetime, time, email, phone, location, media or json';

COMMENT ON COLUMN cdp.attributes.is_array IS 'Whether the attribute holds an array of values';

COMMENT ON COLUMN cdp.attributes.is_required IS 'Whether the column is NOT NULL';

COMMENT ON COLUMN cdp.attributes.position IS
    'Order of the attribute (and of its column) in its profile or template';

COMMENT ON TABLE cdp_internal.data_tables IS
    'Generated statements for the typed tables of profiles and document templates';

COMMENT ON COLUMN cdp_internal.data_tables.messages IS
    '{"label": .., "constraints": {name: {"attribute", "validation", "detail"}}}: what errors of the upsert say';

COMMENT ON COLUMN cdp_internal.data_tables.generation IS
    'New at every rebuild: set_profile keeps the statement per backend until it changes';

COMMENT ON COLUMN cdp_internal.data_tables.owner_type IS 'profile or document_template';

COMMENT ON COLUMN cdp_internal.data_tables.slug IS 'The slug of the profile or document template';

COMMENT ON COLUMN cdp_internal.data_tables.data_table IS 'The generated cdp_data table';

COMMENT ON COLUMN cdp_internal.data_tables.key_column IS
    'The generated table''s key column (contact_id, organization_id or document_id)';

COMMENT ON COLUMN cdp_internal.data_tables.attribute_slugs IS 'The attributes, in position order';

COMMENT ON COLUMN cdp_internal.data_tables.upsert_sql IS
    'The generated statement that writes a JSON object of values into the table';

CREATE OR REPLACE FUNCTION cdp_internal.not_null(value anyelement, what text) RETURNS anyelement
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must not be null', what USING ERRCODE = '22004';
    END IF;
    RETURN value;
END
$$;

COMMENT ON FUNCTION cdp_internal.not_null(anyelement, text) IS 'The value; 22004 naming what when it is NULL';

CREATE OR REPLACE FUNCTION cdp_internal.array_min_length(elems text[]) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT min(char_length(v)) FROM unnest(elems) v);

COMMENT ON FUNCTION cdp_internal.array_min_length(text[]) IS 'Shortest element length (for array CHECK constraints)';

CREATE OR REPLACE FUNCTION cdp_internal.array_max_length(elems text[]) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT max(char_length(v)) FROM unnest(elems) v);

COMMENT ON FUNCTION cdp_internal.array_max_length(text[]) IS 'Longest element length (for array CHECK constraints)';

CREATE OR REPLACE FUNCTION cdp_internal.array_all_match(elems text[], pattern text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT coalesce(bool_and(v ~ pattern), true) FROM unnest(elems) v);

COMMENT ON FUNCTION cdp_internal.array_all_match(text[], text) IS 'Every element matches the pattern (for array CHECK constraints)';

CREATE OR REPLACE FUNCTION cdp_internal.array_within_decimals(elems numeric[], decimals integer) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT coalesce(bool_and(round(v, decimals) = v), true) FROM unnest(elems) v);

COMMENT ON FUNCTION cdp_internal.array_within_decimals(numeric[], integer) IS
    'Every element has at most that many decimals (for array CHECK constraints)';

CREATE OR REPLACE FUNCTION cdp_internal.to_location(value jsonb) RETURNS point
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

CREATE OR REPLACE FUNCTION cdp_internal.to_location_array(value jsonb) RETURNS point[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN jsonb_typeof(value) = 'array'
            THEN ARRAY(SELECT cdp_internal.to_location(e) FROM jsonb_array_elements(value) WITH ORDINALITY AS a(e, n) ORDER BY n)
            WHEN jsonb_typeof(value) = 'null' THEN NULL END;

COMMENT ON FUNCTION cdp_internal.to_location_array(jsonb) IS 'A JSON array of locations as point[]';

CREATE OR REPLACE FUNCTION cdp_internal.wrong_json_type(owner text, attribute text, value jsonb, expected text,
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

CREATE OR REPLACE FUNCTION cdp_internal.iso_text(value text, data_type text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    form text := CASE data_type
        WHEN 'date' THEN '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
        WHEN 'datetime' THEN '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$'
        WHEN 'time' THEN '^[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?$' END;
BEGIN
    IF value ~ form THEN
        RETURN value;
    END IF;
    RAISE EXCEPTION '%', CASE data_type
            WHEN 'date' THEN 'a date is an ISO 8601 string like "1990-12-31"'
            WHEN 'datetime' THEN 'a datetime is an ISO 8601 string like "1990-12-31T23:59:00Z" or "1990-12-31 23:59:00+02:00"'
            ELSE 'a time is an ISO 8601 string like "23:59" or "23:59:30"' END
        USING ERRCODE = '22007';
END
$$;

COMMENT ON FUNCTION cdp_internal.iso_text(text, text) IS
    'The text of an ISO 8601 date, datetime or time; 22007 naming the expected form otherwise';

CREATE OR REPLACE FUNCTION cdp_internal.array_element_text(elem jsonb, n bigint, data_type text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    expected text := CASE WHEN data_type IN ('integer', 'number') THEN 'number'
                          WHEN data_type = 'boolean' THEN 'boolean' ELSE 'string' END;
BEGIN
    IF elem IS NULL OR jsonb_typeof(elem) = 'null' THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(elem) <> expected THEN
        RAISE EXCEPTION 'element % (%) is not a JSON %', n, elem,
                        CASE expected WHEN 'boolean' THEN 'true or false' ELSE expected END
            USING ERRCODE = '22P02';
    END IF;
    IF data_type IN ('date', 'datetime', 'time') THEN
        BEGIN
            RETURN cdp_internal.iso_text(elem #>> '{}', data_type);
        EXCEPTION WHEN invalid_datetime_format THEN
            RAISE EXCEPTION 'element % (%): %', n, elem, SQLERRM USING ERRCODE = '22007';
        END;
    END IF;
    RETURN elem #>> '{}';
END
$$;

COMMENT ON FUNCTION cdp_internal.array_element_text(jsonb, bigint, text) IS
    'The text of one array element of the right JSON type and form; 22P02 naming the element otherwise';

CREATE OR REPLACE FUNCTION cdp_internal.exec_upsert(sql text, key bigint, "values" jsonb, source text,
                                         attribute_slugs text[], messages jsonb)
RETURNS void
AS 'MODULE_PATHNAME', 'cdp_exec_upsert'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION cdp_internal.exec_upsert(text, bigint, jsonb, text, text[], jsonb) IS
    'Runs a generated upsert statement with a cached plan and explains its errors';

CREATE OR REPLACE FUNCTION cdp_internal.converting(attribute integer) RETURNS boolean
AS 'MODULE_PATHNAME', 'cdp_converting'
LANGUAGE C VOLATILE STRICT;

COMMENT ON FUNCTION cdp_internal.converting(integer) IS
    'Marks the attribute whose value the running upsert converts (true)';

CREATE OR REPLACE FUNCTION cdp_internal.converted(value anyelement) RETURNS anyelement
AS 'MODULE_PATHNAME', 'cdp_converted'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION cdp_internal.converted(anyelement) IS
    'Clears the mark of converting and returns the converted value';

CREATE OR REPLACE FUNCTION cdp_internal.attribute_sql_type(data_type text, is_array boolean) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (CASE data_type
            WHEN 'text' THEN 'text' WHEN 'integer' THEN 'bigint' WHEN 'number' THEN 'numeric'
            WHEN 'boolean' THEN 'boolean' WHEN 'date' THEN 'date' WHEN 'datetime' THEN 'timestamptz'
            WHEN 'time' THEN 'time' WHEN 'email' THEN 'cdp.email' WHEN 'phone' THEN 'cdp.phone'
            WHEN 'location' THEN 'point' WHEN 'media' THEN 'text' WHEN 'json' THEN 'jsonb' END)
       || CASE WHEN is_array THEN '[]' ELSE '' END;

COMMENT ON FUNCTION cdp_internal.attribute_sql_type(text, boolean) IS
    'The column type of an attribute data_type (integer is bigint, number numeric, datetime timestamptz, location point)';

CREATE OR REPLACE FUNCTION cdp_internal.constraint_name(attribute text, validation text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN length(attribute) + length(validation) < 63 THEN attribute || '_' || validation
            ELSE left(attribute, 55 - length(validation)) || '_' || left(md5(attribute), 6) || '_' || validation END;

COMMENT ON FUNCTION cdp_internal.constraint_name(text, text) IS 'Name of the CHECK constraint of an attribute validation';

CREATE OR REPLACE FUNCTION cdp_internal.parse_attribute(owner text, def jsonb) RETURNS cdp.attributes
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
    contradicts boolean;
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
                IF jsonb_path_exists(v, '$[*] ? (@ == null)') THEN
                    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'an option is null';
                END IF;
                -- options are values of the attribute, read by the same rules
                EXECUTE format('SELECT array_agg(cdp_internal.array_element_text(e, n, %L)::%s) FROM jsonb_array_elements($1) WITH ORDINALITY AS x(e, n)',
                               a.data_type, base) USING v;
            ELSE
                -- a bound is a value of the attribute, read by the same rules
                IF jsonb_typeof(v) <> (CASE WHEN a.data_type IN ('integer', 'number') THEN 'number' ELSE 'string' END) THEN
                    RAISE EXCEPTION USING ERRCODE = '22023',
                        MESSAGE = (CASE WHEN a.data_type IN ('integer', 'number') THEN 'not a JSON number'
                                        ELSE format('not an ISO 8601 %s string', a.data_type) END);
                END IF;
                IF a.data_type IN ('date', 'datetime', 'time') THEN
                    PERFORM cdp_internal.iso_text(v #>> '{}', a.data_type);
                END IF;
                EXECUTE format('SELECT %L::%s', v #>> '{}', base) INTO dummy;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE EXCEPTION 'invalid validation "%" of attribute "%" of %: %', key, a.slug, owner, v
                USING ERRCODE = '22023', DETAIL = initcap(left(SQLERRM, 1)) || substr(SQLERRM, 2) || '.';
        END;
        a.validations := a.validations || jsonb_build_object(key, v);
    END LOOP;
    -- no value could pass both bounds
    FOR key, dummy IN SELECT * FROM (VALUES ('min', 'max'), ('min_length', 'max_length')) AS b(lo, hi) LOOP
        CONTINUE WHEN NOT (a.validations ? key AND a.validations ? dummy);
        EXECUTE format('SELECT %L::%s > %L::%s', a.validations ->> key,
                       CASE WHEN key = 'min' THEN base ELSE 'bigint' END, a.validations ->> dummy,
                       CASE WHEN key = 'min' THEN base ELSE 'bigint' END)
            INTO contradicts;
        IF contradicts THEN
            RAISE EXCEPTION 'contradictory validations of attribute "%" of %: % % is greater than % %', a.slug, owner,
                            key, a.validations -> key, dummy, a.validations -> dummy
                USING ERRCODE = '22023', DETAIL = 'No value could satisfy both.';
        END IF;
    END LOOP;
    RETURN a;
END
$$;

COMMENT ON FUNCTION cdp_internal.parse_attribute(text, jsonb) IS 'Checks one attribute definition (JSON) and returns it as a catalog row';

CREATE OR REPLACE FUNCTION cdp_internal.attribute_column_ddl(a cdp.attributes) RETURNS text
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

CREATE OR REPLACE FUNCTION cdp_internal.attribute_value_sql(a cdp.attributes, owner_label text, src text) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN (
    WITH t(allowed, expected, conv) AS (
        SELECT CASE
                 WHEN a.data_type = 'json' AND NOT a.is_array THEN NULL
                 WHEN a.is_array THEN ARRAY['array']
                 WHEN a.data_type = 'location' THEN ARRAY['object', 'array', 'string']
                 WHEN a.data_type IN ('integer', 'number') THEN ARRAY['number']
                 WHEN a.data_type = 'boolean' THEN ARRAY['boolean']
                 ELSE ARRAY['string'] END,
               CASE
                 WHEN a.is_array THEN 'a JSON array'
                 WHEN a.data_type = 'location' THEN 'a location'
                 WHEN a.data_type IN ('integer', 'number') THEN 'a JSON number'
                 WHEN a.data_type = 'boolean' THEN 'true or false'
                 WHEN a.data_type IN ('date', 'datetime', 'time') THEN format('an ISO 8601 %s string', a.data_type)
                 ELSE 'a JSON string' END,
               CASE
                 WHEN a.data_type = 'location' AND a.is_array THEN format('cdp_internal.to_location_array(%s -> %L)', src, a.slug)
                 WHEN a.data_type = 'location' THEN format('cdp_internal.to_location(%s -> %L)', src, a.slug)
                 WHEN a.data_type = 'json' AND a.is_array THEN
                     format('CASE WHEN jsonb_typeof(%s -> %L) = ''array'' THEN ARRAY(SELECT _e FROM jsonb_array_elements(%s -> %L) WITH ORDINALITY AS _j(_e, _n) ORDER BY _n) END',
                            src, a.slug, src, a.slug)
                 WHEN a.data_type = 'json' THEN format('(%s -> %L)', src, a.slug)
                 WHEN a.is_array THEN
                     format('CASE WHEN jsonb_typeof(%s -> %L) = ''array'' THEN ARRAY(SELECT cdp_internal.array_element_text(_e, _n, %L)::%s FROM jsonb_array_elements(%s -> %L) WITH ORDINALITY AS _j(_e, _n) ORDER BY _n) END',
                            src, a.slug, a.data_type, cdp_internal.attribute_sql_type(a.data_type, false), src, a.slug)
                 WHEN a.data_type IN ('date', 'datetime', 'time') THEN
                     format('cdp_internal.iso_text(%s ->> %L, %L)::%s', src, a.slug, a.data_type,
                            cdp_internal.attribute_sql_type(a.data_type, false))
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

CREATE OR REPLACE FUNCTION cdp_internal.owner_label(owner_type text, slug text) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN format('%s "%s"', replace(owner_type, '_', ' '), slug);

COMMENT ON FUNCTION cdp_internal.owner_label(text, text) IS 'profile "x" or document template "x", for messages';

CREATE OR REPLACE FUNCTION cdp_internal.rebuild_data_table(owner_type text, slug text, data_table regclass, key_column text)
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
            expr := format('CASE WHEN $2 ? %L THEN %s ELSE (SELECT _t0.%I FROM %s _t0 WHERE _t0.%I = $1) END',
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
        sets := sets || format(', %I = CASE WHEN $2 ? %L THEN EXCLUDED.%I ELSE _t.%I END', a.slug, a.slug, a.slug, a.slug);
    END LOOP;
    stmt := format('INSERT INTO %s AS _t (%I%s%s) SELECT $1%s%s ON CONFLICT (%I) DO ',
                   data_table, key_column, CASE WHEN meta THEN ', updated_at, source' ELSE '' END, cols,
                   CASE WHEN meta THEN ', now(), $3' ELSE '' END, vals, key_column);
    IF meta THEN
        stmt := stmt || 'UPDATE SET updated_at = EXCLUDED.updated_at, source = coalesce(EXCLUDED.source, _t.source)' || sets;
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

CREATE OR REPLACE FUNCTION cdp_internal.parse_attributes(owner_type text, owner_slug text, defs jsonb, first_position integer,
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

CREATE OR REPLACE FUNCTION cdp_internal.create_attribute_index(data_table regclass, a cdp.attributes) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF a.data_type IN ('boolean', 'json', 'location', 'media') THEN
        RETURN;
    END IF;
    EXECUTE format('CREATE INDEX ON %s USING %s (%I)', data_table, CASE WHEN a.is_array THEN 'gin' ELSE 'btree' END, a.slug);
END
$$;

COMMENT ON FUNCTION cdp_internal.create_attribute_index(regclass, cdp.attributes) IS
    'Indexes an attribute column for segment conditions (btree, or GIN for arrays)';

CREATE OR REPLACE FUNCTION cdp_internal.create_data_table(owner_type text, slug text, table_name text, key_column text,
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
        PERFORM cdp_internal.create_attribute_index(tbl, a);
    END LOOP;
    DROP TABLE cdp_parsed_attributes;
    RETURN tbl;
END
$$;

COMMENT ON FUNCTION cdp_internal.create_data_table(text, text, text, text, text, jsonb) IS
    'Creates the typed cdp_data table of a profile or document template';

CREATE OR REPLACE FUNCTION cdp_internal.alter_data_table(owner_type text, slug text, data_table regclass,
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
        PERFORM cdp_internal.refuse_if_used(format('attribute "%s" of %s', d, label),
                                            CASE owner_type WHEN 'profile' THEN 'attribute' ELSE 'template_attribute' END,
                                            slug || '.' || d);
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
        PERFORM cdp_internal.create_attribute_index(data_table, a);
        INSERT INTO cdp.attributes SELECT a.*;
    END LOOP;
    PERFORM cdp_internal.rebuild_data_table(owner_type, slug, data_table, key_column);
END
$$;

COMMENT ON FUNCTION cdp_internal.alter_data_table(text, text, regclass, text, jsonb, text[]) IS
    'Adds and drops attributes of a profile or document template';

CREATE OR REPLACE FUNCTION cdp_internal.write_values(owner_type text, slug text, key bigint, "values" jsonb, source text)
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
        PERFORM cdp_internal.not_null(slug, 'slug');
        RAISE EXCEPTION '% does not exist', cdp_internal.owner_label(owner_type, slug) USING ERRCODE = '42704';
    END IF;
    PERFORM cdp_internal.write_values_with(d, key, "values", source);
END
$$;

COMMENT ON FUNCTION cdp_internal.write_values(text, text, bigint, jsonb, text) IS
    'Upserts JSON values into the typed table of a profile or document template';

CREATE OR REPLACE FUNCTION cdp_internal.write_values_with(d cdp_internal.data_tables, key bigint, "values" jsonb, source text)
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
            USING ERRCODE = '42703',
                  DETAIL = format('Attributes of %s: %s.', cdp_internal.owner_label(d.owner_type, d.slug),
                                  coalesce(nullif(array_to_string(d.attribute_slugs, ', '), ''), 'none'));
    END IF;
    PERFORM cdp_internal.exec_upsert(d.upsert_sql, key, "values", source, d.attribute_slugs, d.messages);
END
$$;

COMMENT ON FUNCTION cdp_internal.write_values_with(cdp_internal.data_tables, bigint, jsonb, text) IS
    'Checks the values and runs the generated upsert of a typed table';

COMMENT ON TABLE cdp.organizations IS
    'Organizations (companies, divisions, departments) in a tree; archived_at set means archived';

COMMENT ON COLUMN cdp.organizations.id IS 'Organization id';

COMMENT ON COLUMN cdp.organizations.slug IS 'Organization name as the API takes it (unique)';

COMMENT ON COLUMN cdp.organizations.name IS 'Display name';

COMMENT ON COLUMN cdp.organizations.parent_id IS 'The parent organization; NULL at a root';

COMMENT ON COLUMN cdp.organizations.created_at IS 'When the organization was created';

COMMENT ON COLUMN cdp.organizations.updated_at IS 'When the organization last changed';

COMMENT ON COLUMN cdp.organizations.archived_at IS 'When the organization was archived; NULL if live';

COMMENT ON TABLE cdp.organization_members IS
    'Contacts that belong to organizations, with their role; at most one primary organization per contact';

COMMENT ON COLUMN cdp.organization_members.contact_id IS 'The member contact';

COMMENT ON COLUMN cdp.organization_members.organization_id IS 'The organization';

COMMENT ON COLUMN cdp.organization_members.role IS 'The member''s role (free text), or NULL';

COMMENT ON COLUMN cdp.organization_members.is_primary IS
    'Whether this is the contact''s primary organization (at most one per contact)';

COMMENT ON COLUMN cdp.organization_members.since IS 'When the contact became a member';

CREATE OR REPLACE FUNCTION cdp_internal.lock_organization_tree() RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_advisory_xact_lock(1128546354, 0)    -- 0x43445032, 'CDP2': cdp's tree lock
$$;

COMMENT ON FUNCTION cdp_internal.lock_organization_tree() IS
    'Takes the transaction lock that orders moves in the organization tree';

CREATE OR REPLACE FUNCTION cdp_internal.organizations_check_tree() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    up bigint := NEW.parent_id;
    hops integer := 0;
BEGIN
    -- a new organization has no descendants: only a move can close a cycle
    IF TG_OP = 'UPDATE' AND NEW.parent_id IS NOT NULL AND NEW.parent_id IS DISTINCT FROM OLD.parent_id THEN
        PERFORM cdp_internal.lock_organization_tree();
        WHILE up IS NOT NULL LOOP
            IF up = NEW.id THEN
                RAISE EXCEPTION 'organization "%" cannot be placed under %: that would make a cycle', NEW.slug,
                                (SELECT format('"%s"', o.slug) FROM cdp.organizations o WHERE o.id = NEW.parent_id)
                    USING ERRCODE = '22023', DETAIL = 'The new parent is the organization itself or one of its descendants.';
            END IF;
            SELECT o.parent_id INTO up FROM cdp.organizations o WHERE o.id = up FOR SHARE;
            hops := hops + 1;
            IF hops > 100000 THEN
                RAISE EXCEPTION 'organization tree above "%" does not end', NEW.slug USING ERRCODE = 'XX000';
            END IF;
        END LOOP;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION cdp_internal.organizations_check_tree() IS 'Trigger: refuses cycles in the organization tree';

CREATE OR REPLACE FUNCTION cdp_internal.organizations_before_delete() RETURNS trigger
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

CREATE OR REPLACE FUNCTION cdp_internal.organization_id(slug text) RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    oid_ bigint;
BEGIN
    SELECT o.id INTO oid_ FROM cdp.organizations o WHERE o.slug = organization_id.slug;
    IF NOT FOUND THEN
        PERFORM cdp_internal.not_null(slug, 'organization slug');
        RAISE EXCEPTION 'organization "%" does not exist', slug USING ERRCODE = '42704';
    END IF;
    RETURN oid_;
END
$$;

COMMENT ON FUNCTION cdp_internal.organization_id(text) IS 'The id of an organization slug; 42704 if unknown';

CREATE OR REPLACE FUNCTION cdp.create_organization(slug text, name text, parent text DEFAULT NULL)
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

CREATE OR REPLACE FUNCTION cdp.move_organization(slug text, parent text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    org bigint := cdp_internal.organization_id(slug);
    new_parent bigint := CASE WHEN parent IS NOT NULL THEN cdp_internal.organization_id(parent) END;
BEGIN
    -- the tree lock before the row lock (the trigger takes it again, for
    -- moves made by plain UPDATEs): two moves wait here for each other
    -- instead of each holding its row while waiting for the tree
    PERFORM cdp_internal.lock_organization_tree();
    UPDATE cdp.organizations o SET parent_id = new_parent WHERE o.id = org;
END
$$;

COMMENT ON FUNCTION cdp.move_organization(text, text) IS
    'Moves an organization under another (NULL: to the top); cycles are refused';

CREATE OR REPLACE FUNCTION cdp.set_organization_profile(org_slug text, profile_slug text, "values" jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d cdp_internal.data_tables;
BEGIN
    SELECT * INTO d FROM cdp_internal.data_tables t WHERE t.owner_type = 'profile' AND t.slug = profile_slug;
    IF NOT FOUND OR d.key_column <> 'organization_id' THEN
        PERFORM cdp_internal.not_null(profile_slug, 'profile slug');
        RAISE EXCEPTION 'organization profile "%" does not exist', profile_slug USING ERRCODE = '42704';
    END IF;
    PERFORM cdp_internal.write_values_with(d, cdp_internal.organization_id(org_slug), "values", NULL);
END
$$;

COMMENT ON FUNCTION cdp.set_organization_profile(text, text, jsonb) IS
    'Upserts an organization''s profile values (a partial update keeps other attributes)';

CREATE OR REPLACE FUNCTION cdp.add_member(contact_id bigint, org_slug text, role text DEFAULT NULL, is_primary boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    o bigint := cdp_internal.organization_id(org_slug);
    c bigint := cdp_internal.lock_contact(contact_id);
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

CREATE OR REPLACE FUNCTION cdp.remove_member(contact_id bigint, org_slug text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    o bigint := cdp_internal.organization_id(org_slug);
    c bigint := cdp_internal.lock_contact(contact_id);
    n bigint;
BEGIN
    DELETE FROM cdp.organization_members m WHERE m.contact_id = c AND m.organization_id = o;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n > 0;
END
$$;

COMMENT ON FUNCTION cdp.remove_member(bigint, text) IS 'Removes a contact from an organization; true if it was a member';

CREATE OR REPLACE FUNCTION cdp.organization_tree(org_slug text)
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

COMMENT ON TABLE cdp.documents IS
    'Documents: structured records of a template, owned by a contact (and optionally an organization); values in cdp_data.document_<template>';

COMMENT ON COLUMN cdp.documents.id IS 'Document id, the key of its row in cdp_data.document_<template>';

COMMENT ON COLUMN cdp.documents.template IS 'The document template';

COMMENT ON COLUMN cdp.documents.contact_id IS
    'The contact that owns the document, or NULL for an organization''s document';

COMMENT ON COLUMN cdp.documents.organization_id IS 'The organization the document belongs to, or NULL';

COMMENT ON COLUMN cdp.documents.parent_id IS
    'The parent document (for example an order of a line item), or NULL';

COMMENT ON COLUMN cdp.documents.title IS 'Display title, or NULL';

COMMENT ON COLUMN cdp.documents.created_at IS 'When the document was created';

COMMENT ON COLUMN cdp.documents.updated_at IS 'When the document last changed';

COMMENT ON COLUMN cdp.documents.archived_at IS 'When the document was archived; NULL if live';

CREATE OR REPLACE FUNCTION cdp.define_document_template(slug text, attributes jsonb, owner text DEFAULT 'contact',
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

CREATE OR REPLACE FUNCTION cdp.alter_document_template(slug text, add jsonb DEFAULT NULL, drop text[] DEFAULT NULL)
RETURNS regclass
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t cdp.document_templates;
BEGIN
    SELECT * INTO t FROM cdp.document_templates x WHERE x.slug = alter_document_template.slug FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM cdp_internal.not_null(slug, 'document template slug');
        RAISE EXCEPTION 'document template "%" does not exist', slug USING ERRCODE = '42704';
    END IF;
    PERFORM cdp_internal.alter_data_table('document_template', slug, t.data_table, 'document_id', add, drop);
    RETURN t.data_table;
END
$$;

COMMENT ON FUNCTION cdp.alter_document_template(text, jsonb, text[]) IS
    'Adds attributes to (without rewriting the table) and drops attributes from a document template';

CREATE OR REPLACE FUNCTION cdp.drop_document_template(slug text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t cdp.document_templates;
BEGIN
    SELECT * INTO t FROM cdp.document_templates x WHERE x.slug = drop_document_template.slug FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM cdp_internal.not_null(slug, 'document template slug');
        RAISE EXCEPTION 'document template "%" does not exist', slug USING ERRCODE = '42704';
    END IF;
    PERFORM cdp_internal.refuse_if_used(format('document template "%s"', slug), 'template', slug);
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

CREATE OR REPLACE FUNCTION cdp.create_document(template text, contact_id bigint, "values" jsonb, title text DEFAULT NULL,
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
        PERFORM cdp_internal.not_null(template, 'document template slug');
        RAISE EXCEPTION 'document template "%" does not exist', template USING ERRCODE = '42704';
    END IF;
    IF contact_id IS NOT NULL THEN
        c := cdp_internal.lock_contact(contact_id);
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

CREATE OR REPLACE FUNCTION cdp.update_document(id bigint, "values" jsonb, title text DEFAULT NULL)
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
        PERFORM cdp_internal.not_null(id, 'document id');
        RAISE EXCEPTION 'document % does not exist', id USING ERRCODE = '42704';
    END IF;
    SELECT * INTO d FROM cdp_internal.data_tables x WHERE x.owner_type = 'document_template' AND x.slug = tpl;
    PERFORM cdp_internal.write_values_with(d, id, coalesce("values", '{}'), NULL);
END
$$;

COMMENT ON FUNCTION cdp.update_document(bigint, jsonb, text) IS
    'Updates a document''s values (a partial update keeps other attributes) and optionally its title';

CREATE OR REPLACE FUNCTION cdp_internal.profile_dependents(profile text) RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pat text := '(^|[^a-z0-9_])' || profile || '\.[a-z]';
BEGIN
    RETURN QUERY SELECT * FROM cdp_internal.segments_using('profile', profile);
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

CREATE OR REPLACE FUNCTION cdp.define_profile(slug text, object_type text, attributes jsonb, title text DEFAULT NULL)
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

CREATE OR REPLACE FUNCTION cdp.alter_profile(slug text, add jsonb DEFAULT NULL, drop text[] DEFAULT NULL)
RETURNS regclass
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p cdp.profiles;
BEGIN
    SELECT * INTO p FROM cdp.profiles t WHERE t.slug = alter_profile.slug FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM cdp_internal.not_null(slug, 'profile slug');
        RAISE EXCEPTION 'profile "%" does not exist', slug USING ERRCODE = '42704';
    END IF;
    PERFORM cdp_internal.alter_data_table('profile', slug, p.data_table, p.object_type || '_id', add, drop);
    RETURN p.data_table;
END
$$;

COMMENT ON FUNCTION cdp.alter_profile(text, jsonb, text[]) IS
    'Adds attributes to (without rewriting the table) and drops attributes from a profile';

CREATE OR REPLACE FUNCTION cdp.drop_profile(slug text)
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
        PERFORM cdp_internal.not_null(slug, 'profile slug');
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

CREATE OR REPLACE FUNCTION cdp.set_profile(contact_id bigint, slug text, "values" jsonb, source text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'cdp_set_profile'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION cdp.set_profile(bigint, text, jsonb, text) IS
    'Upserts a contact''s profile values (a partial update keeps other attributes; JSON null clears one)';

CREATE OR REPLACE FUNCTION cdp.remove_profile(contact_id bigint, slug text)
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
        PERFORM cdp_internal.not_null(slug, 'profile slug');
        RAISE EXCEPTION 'contact profile "%" does not exist', slug USING ERRCODE = '42704';
    END IF;
    EXECUTE format('DELETE FROM %s WHERE contact_id = $1', p.data_table) USING cdp_internal.lock_contact(contact_id);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n > 0;
END
$$;

COMMENT ON FUNCTION cdp.remove_profile(bigint, text) IS
    'Removes a contact''s profile row; true if there was one';

COMMENT ON TABLE cdp.taxonomies IS 'Taxonomies: hierarchical vocabularies, each allowed for some object types';

COMMENT ON COLUMN cdp.taxonomies.slug IS 'Taxonomy name';

COMMENT ON COLUMN cdp.taxonomies.title IS 'Human-readable name';

COMMENT ON COLUMN cdp.taxonomies.object_types IS
    'Where its terms may be assigned: contact, organization and/or document';

COMMENT ON TABLE cdp.terms IS 'Terms of taxonomies; path is the slugs from the root joined by / (sports/football)';

COMMENT ON COLUMN cdp.terms.id IS 'Term id';

COMMENT ON COLUMN cdp.terms.taxonomy IS 'The taxonomy of the term';

COMMENT ON COLUMN cdp.terms.slug IS 'The term''s own slug (the last part of path)';

COMMENT ON COLUMN cdp.terms.title IS 'Human-readable name';

COMMENT ON COLUMN cdp.terms.parent_id IS 'The parent term; NULL at the root of its taxonomy';

COMMENT ON COLUMN cdp.terms.path IS
    'The slugs from the root joined by / (sports/football), unique in the taxonomy';

COMMENT ON TABLE cdp.tags IS
    'Global hierarchical tags; path is the titles joined by / (Technology/AI); slug is cdp_internal.tag_slug(path), unique';

COMMENT ON COLUMN cdp.tags.id IS 'Tag id';

COMMENT ON COLUMN cdp.tags.slug IS 'cdp_internal.tag_slug(path): how the API names the tag (unique)';

COMMENT ON COLUMN cdp.tags.title IS 'The tag''s own title (the last part of path; no /)';

COMMENT ON COLUMN cdp.tags.parent_id IS 'The parent tag; NULL at a root';

COMMENT ON COLUMN cdp.tags.path IS 'The titles from the root joined by / (Technology/AI)';

COMMENT ON TABLE cdp.contact_terms IS 'Taxonomy terms assigned to contacts';

COMMENT ON COLUMN cdp.contact_terms.contact_id IS 'The contact';

COMMENT ON COLUMN cdp.contact_terms.term_id IS 'The term assigned';

COMMENT ON COLUMN cdp.contact_terms.since IS 'When the term was assigned';

COMMENT ON TABLE cdp.organization_terms IS 'Taxonomy terms assigned to organizations';

COMMENT ON COLUMN cdp.organization_terms.organization_id IS 'The organization';

COMMENT ON COLUMN cdp.organization_terms.term_id IS 'The term assigned';

COMMENT ON COLUMN cdp.organization_terms.since IS 'When the term was assigned';

COMMENT ON TABLE cdp.document_terms IS 'Taxonomy terms assigned to documents';

COMMENT ON COLUMN cdp.document_terms.document_id IS 'The document';

COMMENT ON COLUMN cdp.document_terms.term_id IS 'The term assigned';

COMMENT ON COLUMN cdp.document_terms.since IS 'When the term was assigned';

COMMENT ON TABLE cdp.contact_tags IS 'Tags of contacts';

COMMENT ON COLUMN cdp.contact_tags.contact_id IS 'The contact';

COMMENT ON COLUMN cdp.contact_tags.tag_id IS 'The tag assigned';

COMMENT ON COLUMN cdp.contact_tags.since IS 'When the tag was assigned';

COMMENT ON TABLE cdp.organization_tags IS 'Tags of organizations';

COMMENT ON COLUMN cdp.organization_tags.organization_id IS 'The organization';

COMMENT ON COLUMN cdp.organization_tags.tag_id IS 'The tag assigned';

COMMENT ON COLUMN cdp.organization_tags.since IS 'When the tag was assigned';

COMMENT ON TABLE cdp.document_tags IS 'Tags of documents';

COMMENT ON COLUMN cdp.document_tags.document_id IS 'The document';

COMMENT ON COLUMN cdp.document_tags.tag_id IS 'The tag assigned';

COMMENT ON COLUMN cdp.document_tags.since IS 'When the tag was assigned';

CREATE OR REPLACE FUNCTION cdp_internal.path_parts(path text, what text) RETURNS text[]
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

CREATE OR REPLACE FUNCTION cdp_internal.tag_slug(path text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT string_agg(coalesce(nullif(btrim(regexp_replace(lower(btrim(p)), '[^[:alnum:]]+', '-', 'g'), '-'), ''), '-'),
                          '/' ORDER BY n)
          FROM unnest(string_to_array(path, '/')) WITH ORDINALITY AS x(p, n));

COMMENT ON FUNCTION cdp_internal.tag_slug(text) IS
    'Slug of a tag path (Technology/AI -> technology/ai); tags are found by slug, so VIP and vip are one tag';

CREATE OR REPLACE FUNCTION cdp.define_taxonomy(slug text, object_types text[], title text DEFAULT NULL)
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

CREATE OR REPLACE FUNCTION cdp_internal.term_slug(part text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN part ~ '^[a-z0-9][a-z0-9_-]*$' THEN part
            ELSE btrim(regexp_replace(lower(part), '[^a-z0-9_-]+', '-', 'g'), '-') END;

COMMENT ON FUNCTION cdp_internal.term_slug(text) IS
    'Slug of one part of a term path (Sports -> sports); a part that is already a slug is kept';

CREATE OR REPLACE FUNCTION cdp.add_term(taxonomy text, path text, title text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parts text[] := cdp_internal.path_parts(path, 'term');
    parent bigint;
    term bigint;
    slug text;
    sofar text;
    i integer;
BEGIN
    PERFORM 1 FROM cdp.taxonomies t WHERE t.slug = add_term.taxonomy;
    IF NOT FOUND THEN
        PERFORM cdp_internal.not_null(taxonomy, 'taxonomy slug');
        RAISE EXCEPTION 'taxonomy "%" does not exist', taxonomy USING ERRCODE = '42704';
    END IF;
    FOR i IN 1 .. cardinality(parts) LOOP
        slug := cdp_internal.term_slug(parts[i]);
        IF slug !~ '^[a-z0-9][a-z0-9_-]*$' THEN
            RAISE EXCEPTION 'invalid term slug "%" in path %', slug, quote_literal(path)
                USING ERRCODE = '22023',
                      DETAIL = format('The slug is made from %s; term slugs match ^[a-z0-9][a-z0-9_-]*$.',
                                      quote_literal(parts[i]));
        END IF;
        sofar := CASE WHEN i = 1 THEN slug ELSE sofar || '/' || slug END;
        -- a part written as a title (Football) is the title; a slug gets one made from it
        INSERT INTO cdp.terms AS t (taxonomy, slug, title, parent_id, path)
        VALUES (taxonomy, slug,
                CASE WHEN i = cardinality(parts) AND add_term.title IS NOT NULL THEN add_term.title
                     WHEN parts[i] <> slug THEN parts[i]
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
    'Adds a term by path (sports/football or Sports/Football: slugs derived, titles kept), creating missing ancestors; returns its id';

CREATE OR REPLACE FUNCTION cdp_internal.term_id(taxonomy text, path text) RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    term bigint;
BEGIN
    SELECT t.id INTO term FROM cdp.terms t
     WHERE t.taxonomy = term_id.taxonomy
       AND t.path = array_to_string(ARRAY(SELECT cdp_internal.term_slug(u.part)
                                            FROM unnest(cdp_internal.path_parts(term_id.path, 'term'))
                                                 WITH ORDINALITY AS u(part, n)
                                           ORDER BY u.n), '/');
    IF NOT FOUND THEN
        RAISE EXCEPTION 'term "%" of taxonomy "%" does not exist', path, taxonomy
            USING ERRCODE = '42704', HINT = 'Add it with cdp.add_term.';
    END IF;
    RETURN term;
END
$$;

COMMENT ON FUNCTION cdp_internal.term_id(text, text) IS
    'The id of a term by taxonomy and path (slugs derived as add_term derives them: Sports/Football finds sports/football); 42704 if unknown';

CREATE OR REPLACE FUNCTION cdp_internal.object_id(object_type text, id bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    CASE object_type
    WHEN 'contact' THEN
        RETURN cdp_internal.lock_contact(id);
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
    'Checks that a contact, organization or document exists; a contact is locked through cdp_internal.lock_contact, which follows merges to the survivor';

CREATE OR REPLACE FUNCTION cdp.classify(object_type text, id bigint, taxonomy text, path text)
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
        PERFORM cdp_internal.not_null(taxonomy, 'taxonomy slug');
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

CREATE OR REPLACE FUNCTION cdp.unclassify(object_type text, id bigint, taxonomy text, path text)
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

CREATE OR REPLACE FUNCTION cdp_internal.ensure_tag(path text) RETURNS bigint
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

CREATE OR REPLACE FUNCTION cdp.tag(object_type text, id bigint, VARIADIC paths text[])
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    obj bigint := cdp_internal.object_id(object_type, id);
    tags bigint[];
    n integer;
BEGIN
    -- new tags are created in slug order, so two calls creating the same tags wait, not deadlock
    tags := ARRAY(SELECT cdp_internal.ensure_tag(p) FROM unnest(paths) p ORDER BY cdp_internal.tag_slug(p));
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

CREATE OR REPLACE FUNCTION cdp.untag(object_type text, id bigint, VARIADIC paths text[])
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

COMMENT ON TABLE cdp.events IS
    'Events of contacts (what they did), recorded by cdp.track';

COMMENT ON COLUMN cdp.events.id IS 'Event id';

COMMENT ON COLUMN cdp.events.contact_id IS 'The contact that did it (a merge moves events to the survivor)';

COMMENT ON COLUMN cdp.events.name IS 'Event name (purchase, page_view, ...)';

COMMENT ON COLUMN cdp.events.occurred_at IS 'When it happened, as the caller said (default: when recorded)';

COMMENT ON COLUMN cdp.events.received_at IS 'When cdp recorded it';

COMMENT ON COLUMN cdp.events.properties IS 'Event details, a JSON object';

COMMENT ON COLUMN cdp.events.source IS 'Where the event came from, as the caller said';

CREATE OR REPLACE FUNCTION cdp.track(identifiers jsonb, event text, properties jsonb DEFAULT '{}',
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
    contact := cdp.resolve(identifiers, source, on_invalid => 'skip');
    IF contact IS NULL THEN
        RETURN NULL;            -- every value was refused (and recorded as a conflict): no one to record it for
    END IF;
    -- resolve holds the contact it returns; the one contact lock says so
    -- here too, so the event lands on the live contact whatever resolve does
    contact := cdp_internal.lock_contact(contact);
    INSERT INTO cdp.events (contact_id, name, occurred_at, properties, source)
    VALUES (contact, event, coalesce(occurred_at, now()), coalesce(properties, '{}'), source)
    RETURNING id INTO ev;
    RETURN ev;
END
$$;

COMMENT ON FUNCTION cdp.track(jsonb, text, jsonb, timestamptz, text) IS
    'Resolves the contact from its identifiers (cdp.resolve) and records an event; returns the event id (NULL when no value links to anyone)';

CREATE OR REPLACE FUNCTION cdp_internal.set_archived(object_type text, id bigint, archived boolean)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    was timestamptz;
    found_it boolean;
    live bigint;
BEGIN
    CASE object_type
    WHEN 'contact' THEN
        -- a merged id archives (restores) its survivor
        live := cdp_internal.lock_contact(id, true);
        SELECT c.archived_at INTO was FROM cdp.contacts c WHERE c.id = live;
        found_it := FOUND;
        IF (was IS NULL) = archived THEN
            UPDATE cdp.contacts c SET archived_at = CASE WHEN archived THEN now() END, updated_at = now()
             WHERE c.id = live;
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

CREATE OR REPLACE FUNCTION cdp.archive(object_type text, id bigint)
RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
RETURN cdp_internal.set_archived(object_type, id, true);

COMMENT ON FUNCTION cdp.archive(text, bigint) IS
    'Archives a contact, organization or document (sets archived_at; it leaves segments and views); true if it was active';

CREATE OR REPLACE FUNCTION cdp.restore(object_type text, id bigint)
RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
RETURN cdp_internal.set_archived(object_type, id, false);

COMMENT ON FUNCTION cdp.restore(text, bigint) IS
    'Restores an archived contact, organization or document (clears archived_at); true if it was archived';

CREATE OR REPLACE FUNCTION cdp_internal.model_merge(survivor bigint, absorbed bigint)
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
        -- Aliases start with "_", which no attribute slug can: a whole-row
        -- reference to "t" would read an attribute named t.
        EXECUTE format('SELECT to_jsonb(_t) - ''contact_id'' FROM %s _t WHERE _t.contact_id = $1 FOR UPDATE', p.data_table)
            INTO arow USING absorbed;
        CONTINUE WHEN arow IS NULL;
        EXECUTE format('SELECT to_jsonb(_t) FROM %s _t WHERE _t.contact_id = $1 FOR UPDATE', p.data_table)
            INTO srow USING survivor;
        IF srow IS NULL THEN
            EXECUTE format('UPDATE %s SET contact_id = $1 WHERE contact_id = $2', p.data_table) USING survivor, absorbed;
            profiles := profiles || jsonb_build_object(p.slug, jsonb_build_object('row', arow, 'created', true,
                            'filled', to_jsonb(ARRAY(SELECT a FROM unnest(p.attrs) a WHERE arow -> a <> 'null'))));
        ELSE
            filled := ARRAY(SELECT a FROM unnest(p.attrs) a WHERE srow -> a = 'null' AND arow -> a <> 'null');
            IF cardinality(filled) > 0 THEN
                EXECUTE format('UPDATE %s _s SET updated_at = now(), %s FROM %s _ab WHERE _s.contact_id = $1 AND _ab.contact_id = $2',
                               p.data_table,
                               (SELECT string_agg(format('%I = _ab.%I', a, a), ', ') FROM unnest(filled) a),
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

CREATE OR REPLACE FUNCTION cdp_internal.model_unmerge(survivor bigint, absorbed bigint, snapshot jsonb)
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

CREATE OR REPLACE FUNCTION cdp_internal.model_forget(contact bigint)
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

-- segment_type.sql
--   The cdp.segment type: a parsed, syntax-checked segment definition (DESIGN §7),
--   stored as a compact binary tree and printed in canonical form.

CREATE TYPE cdp.segment;

CREATE FUNCTION cdp.segment_in(cstring) RETURNS cdp.segment
    AS 'MODULE_PATHNAME', 'cdp_segment_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cdp.segment_out(cdp.segment) RETURNS cstring
    AS 'MODULE_PATHNAME', 'cdp_segment_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cdp.segment_recv(internal) RETURNS cdp.segment
    AS 'MODULE_PATHNAME', 'cdp_segment_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cdp.segment_send(cdp.segment) RETURNS bytea
    AS 'MODULE_PATHNAME', 'cdp_segment_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE cdp.segment (
    INPUT = cdp.segment_in,
    OUTPUT = cdp.segment_out,
    RECEIVE = cdp.segment_recv,
    SEND = cdp.segment_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended,
    CATEGORY = 'U'
);

COMMENT ON TYPE cdp.segment IS
    'A segment definition: a boolean expression over contacts, syntax-checked on input and printed in canonical form';
COMMENT ON FUNCTION cdp.segment_in(cstring) IS
    'Parse segment text (42601 syntax error with the character position, 54000/54001 limits)';
COMMENT ON FUNCTION cdp.segment_out(cdp.segment) IS
    'The canonical text of a segment';
COMMENT ON FUNCTION cdp.segment_recv(internal) IS
    'Read and check the binary form of a segment (22P03 if invalid)';
COMMENT ON FUNCTION cdp.segment_send(cdp.segment) IS
    'The binary form of a segment: a version byte and the encoded tree';
-- segment_json.sql
--   The JSON form of cdp.segment, the CXF filter tree (C in segment_json.c).

CREATE FUNCTION cdp.segment_to_jsonb(segment cdp.segment) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'cdp_segment_to_jsonb'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cdp.segment_to_jsonb(cdp.segment) IS
    'The segment as a CXF filter tree: {"type":"group","operator":"and","items":[...]}, {"type":"attribute","slug":"customer.tier","operator":"==","value":"gold"}, ...';

CREATE FUNCTION cdp.jsonb_to_segment(tree jsonb) RETURNS cdp.segment
    AS 'MODULE_PATHNAME', 'cdp_jsonb_to_segment'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cdp.jsonb_to_segment(jsonb) IS
    'The segment of a CXF filter tree; a bad tree is refused with the JSON path of the bad node';
-- segments.sql
--   Saved segments, the catalog lookups the segment compiler makes, and the
--   functions that evaluate and explain a segment (DESIGN §7).

CREATE TABLE cdp.segments (
    slug          text PRIMARY KEY
                  CONSTRAINT segments_slug_format CHECK (slug ~ '^[a-z][a-z0-9_]{0,62}$'),
    title         text NOT NULL,
    description   text,
    definition    cdp.segment NOT NULL,
    refresh       text NOT NULL DEFAULT 'manual'
                  CONSTRAINT segments_refresh_known CHECK (refresh IN ('manual', 'immediate')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    refreshed_at  timestamptz,
    member_count  bigint
);
COMMENT ON TABLE cdp.segments IS
    'Saved segments: named cdp.segment definitions over contacts, evaluated on demand by cdp.members and cdp.count';
COMMENT ON COLUMN cdp.segments.refresh IS
    'manual or immediate: how members are to be kept once stored membership exists; segments are evaluated on demand today';
COMMENT ON COLUMN cdp.segments.member_count IS
    'How many contacts were members when refreshed_at was set; NULL before that';
COMMENT ON COLUMN cdp.segments.slug IS 'Segment name';
COMMENT ON COLUMN cdp.segments.title IS 'Human-readable name';
COMMENT ON COLUMN cdp.segments.description IS 'Free text, or NULL';
COMMENT ON COLUMN cdp.segments.definition IS 'The condition over contacts, a cdp.segment';
COMMENT ON COLUMN cdp.segments.created_at IS 'When the segment was saved';
COMMENT ON COLUMN cdp.segments.updated_at IS 'When the segment last changed';
COMMENT ON COLUMN cdp.segments.refreshed_at IS
    'When member_count was last set; NULL if never';

-- What each saved segment refers to, kept with the definition so that
-- dropping a profile, attribute, template, taxonomy, term or segment in use
-- can be refused by an indexed lookup.
CREATE TABLE cdp_internal.segment_references (
    segment  text NOT NULL REFERENCES cdp.segments (slug) ON DELETE CASCADE ON UPDATE CASCADE,
    kind     text NOT NULL,
    name     text NOT NULL,
    PRIMARY KEY (kind, name, segment)
);
CREATE INDEX segment_references_segment_idx ON cdp_internal.segment_references (segment);
COMMENT ON TABLE cdp_internal.segment_references IS
    'The profiles, attributes, templates, taxonomies, terms, tags, kinds, organizations and segments each saved segment uses';
COMMENT ON COLUMN cdp_internal.segment_references.segment IS 'The saved segment that uses the object';
COMMENT ON COLUMN cdp_internal.segment_references.kind IS
    'What kind of object: profile, attribute, template, taxonomy, term, tag, kind, organization or segment';
COMMENT ON COLUMN cdp_internal.segment_references.name IS 'The object''s name';

SELECT pg_catalog.pg_extension_config_dump('cdp.segments', '');
SELECT pg_catalog.pg_extension_config_dump('cdp_internal.segment_references', '');

CREATE FUNCTION cdp_internal.segment_references(definition cdp.segment)
RETURNS TABLE(kind text, name text)
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cdp_segment_references';
COMMENT ON FUNCTION cdp_internal.segment_references(cdp.segment) IS
    'What a definition names: (profile, customer), (attribute, customer.tier), (template, invoice), (taxonomy, interests), (term, interests/sports), (tag, technology/ai), (kind, email), (organization, acme), (segment, vip)';

-- Saved segments that use a thing, as 'segment "slug"' texts.
CREATE FUNCTION cdp_internal.segments_using(kind text, name text) RETURNS SETOF text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT format('segment "%s"', r.segment) FROM cdp_internal.segment_references r
     WHERE r.kind = segments_using.kind AND r.name = segments_using.name
     ORDER BY r.segment;
END;
COMMENT ON FUNCTION cdp_internal.segments_using(text, text) IS
    'Saved segments whose definitions use a profile, attribute, template, taxonomy, term, tag or segment';

-- Refuses to remove a thing while saved segments use it.
CREATE FUNCTION cdp_internal.refuse_if_used(what text, kind text, name text) RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    users text;
BEGIN
    SELECT string_agg(u, ', ') INTO users FROM cdp_internal.segments_using(kind, name) u;
    IF users IS NOT NULL THEN
        RAISE EXCEPTION 'cannot drop % because it is used', what
            USING ERRCODE = '2BP01', DETAIL = format('Used by %s.', users),
                  HINT = 'Drop or change those first.';
    END IF;
END
$$;
COMMENT ON FUNCTION cdp_internal.refuse_if_used(text, text, text) IS
    'Raises 2BP01 naming the saved segments that use a thing';

-- Terms, taxonomies and tags are removed with plain DELETE (or a cascade),
-- so a trigger guards them.
CREATE FUNCTION cdp_internal.refuse_delete_if_used() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    CASE TG_TABLE_NAME
        WHEN 'terms' THEN
            PERFORM cdp_internal.refuse_if_used(format('term "%s" of taxonomy "%s"', OLD.path, OLD.taxonomy),
                                                'term', OLD.taxonomy || ':' || OLD.path);
        WHEN 'taxonomies' THEN
            PERFORM cdp_internal.refuse_if_used(format('taxonomy "%s"', OLD.slug), 'taxonomy', OLD.slug);
        WHEN 'tags' THEN
            PERFORM cdp_internal.refuse_if_used(format('tag "%s"', OLD.path), 'tag', OLD.slug);
    END CASE;
    RETURN OLD;
END
$$;
COMMENT ON FUNCTION cdp_internal.refuse_delete_if_used() IS
    'Refuses to delete a term, taxonomy or tag that a saved segment uses';
CREATE TRIGGER terms_used_by_segments BEFORE DELETE ON cdp.terms
    FOR EACH ROW EXECUTE FUNCTION cdp_internal.refuse_delete_if_used();
CREATE TRIGGER taxonomies_used_by_segments BEFORE DELETE ON cdp.taxonomies
    FOR EACH ROW EXECUTE FUNCTION cdp_internal.refuse_delete_if_used();
CREATE TRIGGER tags_used_by_segments BEFORE DELETE ON cdp.tags
    FOR EACH ROW EXECUTE FUNCTION cdp_internal.refuse_delete_if_used();

-- In a segment, contact.<field>, organization.<field>, document.<field> and
-- properties.<key> name built-in values, so no profile or template may be
-- called that.
CREATE FUNCTION cdp_internal.refuse_reserved_slug() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.slug IN ('contact', 'organization', 'document', 'properties') THEN
        RAISE EXCEPTION '% slug "%" is reserved', CASE TG_TABLE_NAME WHEN 'profiles' THEN 'profile' ELSE 'document template' END,
                        NEW.slug
            USING ERRCODE = '22023',
                  DETAIL = 'Segments read contact.<field>, organization.<field>, document.<field> and properties.<key> as built-in values.';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION cdp_internal.refuse_reserved_slug() IS
    'Refuses profile and template slugs that segments use for built-in values';
CREATE TRIGGER profiles_reserved_slug BEFORE INSERT OR UPDATE OF slug ON cdp.profiles
    FOR EACH ROW EXECUTE FUNCTION cdp_internal.refuse_reserved_slug();
CREATE TRIGGER document_templates_reserved_slug BEFORE INSERT OR UPDATE OF slug ON cdp.document_templates
    FOR EACH ROW EXECUTE FUNCTION cdp_internal.refuse_reserved_slug();

-- Catalog lookups of the compiler (segment_catalog.c).  Each raises the
-- error that names the unknown thing.

-- A profile's or document template's table, and one attribute's type
-- (data_type NULL when attribute is NULL).
CREATE FUNCTION cdp_internal.segment_attribute(owner_type text, owner_slug text, attribute text)
RETURNS TABLE(object_type text, data_table text, key_column text, data_type text, is_array boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    what text := CASE owner_type WHEN 'profile' THEN 'profile' ELSE 'document template' END;
BEGIN
    IF owner_type = 'profile' THEN
        SELECT p.object_type, format('%I.%I', n.nspname, c.relname),
               CASE p.object_type WHEN 'contact' THEN 'contact_id' ELSE 'organization_id' END
          INTO object_type, data_table, key_column
          FROM cdp.profiles p JOIN pg_class c ON c.oid = p.data_table JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE p.slug = owner_slug;
    ELSE
        SELECT 'document', format('%I.%I', n.nspname, c.relname), 'document_id'
          INTO object_type, data_table, key_column
          FROM cdp.document_templates t JOIN pg_class c ON c.oid = t.data_table JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE t.slug = owner_slug;
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% "%" does not exist', what, owner_slug USING ERRCODE = '42704';
    END IF;
    IF attribute IS NOT NULL THEN
        SELECT a.data_type, a.is_array INTO data_type, is_array
          FROM cdp.attributes a
         WHERE a.owner_type = segment_attribute.owner_type AND a.owner_slug = segment_attribute.owner_slug
           AND a.slug = attribute;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'attribute "%" of % "%" does not exist', attribute, what, owner_slug
                USING ERRCODE = '42703';
        END IF;
    END IF;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION cdp_internal.segment_attribute(text, text, text) IS
    'The table and attribute type a segment reference compiles against; 42704/42703 when unknown';

-- Is name a profile (then the shorthand and quantifier rules apply) or not.
CREATE FUNCTION cdp_internal.segment_profile_type(slug text) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT p.object_type FROM cdp.profiles p WHERE p.slug = segment_profile_type.slug);
COMMENT ON FUNCTION cdp_internal.segment_profile_type(text) IS
    'contact or organization for a profile slug, NULL for anything else';

CREATE FUNCTION cdp_internal.segment_tag_ids(path text, under boolean) RETURNS bigint[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids bigint[];
BEGIN
    WITH RECURSIVE tree(id) AS (
        SELECT t.id FROM cdp.tags t WHERE t.slug = cdp_internal.tag_slug(segment_tag_ids.path)
        UNION
        SELECT t.id FROM cdp.tags t JOIN tree ON t.parent_id = tree.id WHERE segment_tag_ids.under)
    SELECT array_agg(id ORDER BY id) INTO ids FROM tree;
    IF ids IS NULL THEN
        RAISE EXCEPTION 'tag "%" does not exist', path USING ERRCODE = '42704';
    END IF;
    RETURN ids;
END
$$;
COMMENT ON FUNCTION cdp_internal.segment_tag_ids(text, boolean) IS
    'The ids of a tag (found by path, as cdp.tag finds it) and, under, its descendants; 42704 when unknown';

CREATE FUNCTION cdp_internal.segment_term_ids(taxonomy text, path text, under boolean, object_type text)
RETURNS bigint[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    allowed text[];
    ids bigint[];
BEGIN
    SELECT t.object_types INTO allowed FROM cdp.taxonomies t WHERE t.slug = taxonomy;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'taxonomy "%" does not exist', taxonomy USING ERRCODE = '42704';
    END IF;
    IF NOT object_type = ANY (allowed) THEN
        RAISE EXCEPTION 'taxonomy "%" does not classify %s', taxonomy, object_type
            USING ERRCODE = '22023', DETAIL = format('It classifies %s.', array_to_string(allowed, ', '));
    END IF;
    WITH RECURSIVE tree(id) AS (
        SELECT cdp_internal.term_id(segment_term_ids.taxonomy, segment_term_ids.path)
        UNION
        SELECT t.id FROM cdp.terms t JOIN tree ON t.parent_id = tree.id WHERE segment_term_ids.under)
    SELECT array_agg(id ORDER BY id) INTO ids FROM tree;
    RETURN ids;
END
$$;
COMMENT ON FUNCTION cdp_internal.segment_term_ids(text, text, boolean, text) IS
    'The ids of a term and, under, its descendants; 42704 when the taxonomy or term is unknown';

CREATE FUNCTION cdp_internal.segment_organization_ids(slug text) RETURNS bigint[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids bigint[];
BEGIN
    PERFORM 1 FROM cdp.organizations o WHERE o.slug = segment_organization_ids.slug;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'organization "%" does not exist', slug USING ERRCODE = '42704';
    END IF;
    WITH RECURSIVE tree(id, archived) AS (
        SELECT o.id, o.archived_at IS NOT NULL FROM cdp.organizations o WHERE o.slug = segment_organization_ids.slug
        UNION
        SELECT o.id, o.archived_at IS NOT NULL FROM cdp.organizations o JOIN tree ON o.parent_id = tree.id)
    SELECT array_agg(id ORDER BY id) FILTER (WHERE NOT archived) INTO ids FROM tree;
    RETURN coalesce(ids, '{}');
END
$$;
COMMENT ON FUNCTION cdp_internal.segment_organization_ids(text) IS
    'The live organization and its live descendants (ids); 42704 when unknown';

CREATE FUNCTION cdp_internal.segment_check_kind(kind text) RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM 1 FROM cdp.identifier_kinds k WHERE k.kind = segment_check_kind.kind;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'identifier kind "%" does not exist', kind USING ERRCODE = '42704';
    END IF;
END
$$;
COMMENT ON FUNCTION cdp_internal.segment_check_kind(text) IS '42704 unless the identifier kind exists';

CREATE FUNCTION cdp_internal.segment_definition(slug text) RETURNS cdp.segment
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d cdp.segment;
BEGIN
    IF slug IS NULL THEN
        RAISE EXCEPTION 'segment slug must not be null' USING ERRCODE = '22004';
    END IF;
    SELECT s.definition INTO d FROM cdp.segments s WHERE s.slug = segment_definition.slug;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'segment "%" does not exist', slug USING ERRCODE = '42704';
    END IF;
    RETURN d;
END
$$;
COMMENT ON FUNCTION cdp_internal.segment_definition(text) IS 'A saved segment''s definition; 42704 when unknown';

-- The compiler (segment_eval.c, segment_explain.c).  at is the SQL of the
-- evaluation time; self is the slug a definition is saved under, or ''.
CREATE FUNCTION cdp_internal.compile_segment(definition cdp.segment, at text,
                                             per_contact boolean DEFAULT false, self text DEFAULT '')
RETURNS text
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'cdp_segment_compile';
COMMENT ON FUNCTION cdp_internal.compile_segment(cdp.segment, text, boolean, text) IS
    'Checks a definition against the catalog and compiles it to SQL; per_contact adds c.id = $2';

CREATE FUNCTION cdp_internal.explain_segment(definition cdp.segment, contact bigint, at timestamptz, self text)
RETURNS TABLE(node integer, depth integer, condition text, result boolean, detail text)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'cdp_explain_segment';
COMMENT ON FUNCTION cdp_internal.explain_segment(cdp.segment, bigint, timestamptz, text) IS
    'The node-by-node evaluation behind cdp.explain_segment';

-- An evaluation time as an ISO 8601 literal, read the same under every DateStyle.
CREATE FUNCTION cdp_internal.timestamptz_literal(at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN quote_literal(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')) || '::timestamptz';
COMMENT ON FUNCTION cdp_internal.timestamptz_literal(timestamptz) IS
    'A timestamptz as a literal independent of DateStyle and TimeZone';

-- A NULL evaluation time is a mistake (every event and now() condition
-- would silently be false), not a request for nothing.
CREATE FUNCTION cdp_internal.evaluation_time(at timestamptz) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF at IS NULL THEN
        RAISE EXCEPTION 'evaluation time must not be null' USING ERRCODE = '22004',
            HINT = 'Leave the argument out to evaluate at now().';
    END IF;
    RETURN at;
END
$$;
COMMENT ON FUNCTION cdp_internal.evaluation_time(timestamptz) IS 'The evaluation time; 22004 when NULL';

CREATE FUNCTION cdp.segment_sql(definition cdp.segment, at timestamptz DEFAULT NULL)
RETURNS text
LANGUAGE sql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
RETURN cdp_internal.compile_segment(definition,
                                    coalesce(cdp_internal.timestamptz_literal(at), 'now()'));
COMMENT ON FUNCTION cdp.segment_sql(cdp.segment, timestamptz) IS
    'The SQL a definition compiles to (SELECT c.id FROM cdp.contacts c WHERE …); without at it evaluates at now()';

CREATE FUNCTION cdp.members(segment cdp.segment, at timestamptz DEFAULT now())
RETURNS SETOF bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY EXECUTE cdp_internal.compile_segment(segment, '$1') USING cdp_internal.evaluation_time(at);
END
$$;
COMMENT ON FUNCTION cdp.members(cdp.segment, timestamptz) IS 'The live contacts that satisfy a definition at a time';

CREATE FUNCTION cdp.members(segment text, at timestamptz DEFAULT now())
RETURNS SETOF bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY EXECUTE cdp_internal.compile_segment(cdp_internal.segment_definition(segment), '$1', false, segment)
        USING cdp_internal.evaluation_time(at);
END
$$;
COMMENT ON FUNCTION cdp.members(text, timestamptz) IS 'The live contacts that satisfy a saved segment at a time';

CREATE FUNCTION cdp_internal.count_compiled(sql text, at timestamptz) RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE 'SELECT count(*) FROM (' || sql || ') members' USING cdp_internal.evaluation_time(at) INTO n;
    RETURN n;
END
$$;
COMMENT ON FUNCTION cdp_internal.count_compiled(text, timestamptz) IS 'Counts the rows of compiled segment SQL';

CREATE FUNCTION cdp.count(segment cdp.segment, at timestamptz DEFAULT now()) RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
RETURN cdp_internal.count_compiled(cdp_internal.compile_segment(segment, '$1'), at);
COMMENT ON FUNCTION cdp.count(cdp.segment, timestamptz) IS 'How many live contacts satisfy a definition at a time';

CREATE FUNCTION cdp.count(segment text, at timestamptz DEFAULT now()) RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
RETURN cdp_internal.count_compiled(
    cdp_internal.compile_segment(cdp_internal.segment_definition(segment), '$1', false, segment), at);
COMMENT ON FUNCTION cdp.count(text, timestamptz) IS 'How many live contacts satisfy a saved segment at a time';

-- The planner's row estimate of the compiled SQL: no scan.
-- VOLATILE only because PostgreSQL refuses EXPLAIN inside a non-volatile function.
CREATE FUNCTION cdp_internal.estimate_compiled(sql text, at timestamptz) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || sql USING cdp_internal.evaluation_time(at) INTO plan;
    RETURN round((plan -> 0 -> 'Plan' ->> 'Plan Rows')::numeric);
END
$$;
COMMENT ON FUNCTION cdp_internal.estimate_compiled(text, timestamptz) IS 'The planner''s row estimate of compiled segment SQL';

CREATE FUNCTION cdp.estimate(segment cdp.segment, at timestamptz DEFAULT now()) RETURNS bigint
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
RETURN cdp_internal.estimate_compiled(cdp_internal.compile_segment(segment, '$1'), at);
COMMENT ON FUNCTION cdp.estimate(cdp.segment, timestamptz) IS
    'The planner''s estimate of how many contacts satisfy a definition (no scan)';

CREATE FUNCTION cdp.estimate(segment text, at timestamptz DEFAULT now()) RETURNS bigint
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
RETURN cdp_internal.estimate_compiled(
    cdp_internal.compile_segment(cdp_internal.segment_definition(segment), '$1', false, segment), at);
COMMENT ON FUNCTION cdp.estimate(text, timestamptz) IS
    'The planner''s estimate of how many contacts are in a saved segment (no scan)';

CREATE FUNCTION cdp_internal.in_compiled(sql text, contact bigint, at timestamptz) RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    member boolean;
BEGIN
    IF contact IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE 'SELECT EXISTS (' || sql || ')' USING cdp_internal.evaluation_time(at), contact INTO member;
    RETURN member;
END
$$;
COMMENT ON FUNCTION cdp_internal.in_compiled(text, bigint, timestamptz) IS
    'Runs per-contact compiled segment SQL (NULL for a NULL contact, as a comparison would be)';

CREATE FUNCTION cdp.in_segment(contact bigint, segment cdp.segment, at timestamptz DEFAULT now()) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
RETURN cdp_internal.in_compiled(cdp_internal.compile_segment(segment, '$1', true), contact, at);
COMMENT ON FUNCTION cdp.in_segment(bigint, cdp.segment, timestamptz) IS
    'Whether a contact satisfies a definition at a time (archived and merged contacts never do)';

CREATE FUNCTION cdp.in_segment(contact bigint, segment text, at timestamptz DEFAULT now()) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
RETURN cdp_internal.in_compiled(
    cdp_internal.compile_segment(cdp_internal.segment_definition(segment), '$1', true, segment), contact, at);
COMMENT ON FUNCTION cdp.in_segment(bigint, text, timestamptz) IS
    'Whether a contact is in a saved segment at a time (archived and merged contacts never are)';

CREATE FUNCTION cdp.explain_segment(segment cdp.segment, contact bigint, at timestamptz DEFAULT now())
RETURNS TABLE(node integer, depth integer, condition text, result boolean, detail text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT * FROM cdp_internal.explain_segment(segment, contact, at, '') ORDER BY 1;
END;
COMMENT ON FUNCTION cdp.explain_segment(cdp.segment, bigint, timestamptz) IS
    'Why a contact is or is not in a definition: every node with its depth, canonical text, result and detail';

CREATE FUNCTION cdp.explain_segment(segment text, contact bigint, at timestamptz DEFAULT now())
RETURNS TABLE(node integer, depth integer, condition text, result boolean, detail text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT * FROM cdp_internal.explain_segment(cdp_internal.segment_definition(segment), contact, at, segment) ORDER BY 1;
END;
COMMENT ON FUNCTION cdp.explain_segment(text, bigint, timestamptz) IS
    'Why a contact is or is not in a saved segment: every node with its depth, canonical text, result and detail';

-- Saving segments.

-- The reference rows of a definition, in the form the drop guards compare.
CREATE FUNCTION cdp_internal.save_segment_references(slug text, definition cdp.segment) RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    DELETE FROM cdp_internal.segment_references r WHERE r.segment = save_segment_references.slug;
    INSERT INTO cdp_internal.segment_references (segment, kind, name)
    SELECT DISTINCT save_segment_references.slug, r.kind,
           CASE r.kind
               WHEN 'tag' THEN cdp_internal.tag_slug(r.name)
               WHEN 'term' THEN split_part(r.name, ':', 1) || ':' ||
                   array_to_string(ARRAY(SELECT cdp_internal.term_slug(u.part)
                                           FROM unnest(cdp_internal.path_parts(substr(r.name, strpos(r.name, ':') + 1), 'term'))
                                                WITH ORDINALITY AS u(part, n)
                                          ORDER BY u.n), '/')
               ELSE r.name END
      FROM cdp_internal.segment_references(definition) r;
END;
COMMENT ON FUNCTION cdp_internal.save_segment_references(text, cdp.segment) IS
    'Records what a saved segment uses, for the drop guards';

CREATE FUNCTION cdp.create_segment(slug text, definition text, title text DEFAULT NULL,
                                   refresh text DEFAULT 'manual', description text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d cdp.segment;
BEGIN
    IF slug IS NULL OR slug !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid segment slug: %', coalesce(quote_literal(slug), 'NULL')
            USING ERRCODE = '22023', DETAIL = 'Slugs match ^[a-z][a-z0-9_]{0,62}$.';
    END IF;
    IF refresh IS NULL OR refresh NOT IN ('manual', 'immediate') THEN
        RAISE EXCEPTION 'invalid refresh mode: %', coalesce(quote_literal(refresh), 'NULL')
            USING ERRCODE = '22023', DETAIL = 'A segment refreshes manual or immediate.';
    END IF;
    IF definition IS NULL THEN
        RAISE EXCEPTION 'a segment needs a definition' USING ERRCODE = '22023';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('cdp.segment:' || slug));
    IF EXISTS (SELECT 1 FROM cdp.segments s WHERE s.slug = create_segment.slug) THEN
        RAISE EXCEPTION 'segment "%" already exists', slug USING ERRCODE = '42710',
            HINT = 'Change it with cdp.alter_segment.';
    END IF;
    d := definition::cdp.segment;
    PERFORM cdp_internal.compile_segment(d, 'now()', false, slug);
    INSERT INTO cdp.segments AS s (slug, title, description, definition, refresh)
    VALUES (slug, coalesce(title, initcap(replace(slug, '_', ' '))), description, d, refresh);
    PERFORM cdp_internal.save_segment_references(slug, d);
    RETURN slug;
END
$$;
COMMENT ON FUNCTION cdp.create_segment(text, text, text, text, text) IS
    'Saves a segment after checking its definition against the catalog (in segment cycles refused); returns the slug';

CREATE FUNCTION cdp.alter_segment(slug text, definition text DEFAULT NULL, title text DEFAULT NULL,
                                  refresh text DEFAULT NULL, description text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d cdp.segment;
BEGIN
    PERFORM 1 FROM cdp.segments s WHERE s.slug = alter_segment.slug FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'segment "%" does not exist', slug USING ERRCODE = '42704';
    END IF;
    IF refresh IS NOT NULL AND refresh NOT IN ('manual', 'immediate') THEN
        RAISE EXCEPTION 'invalid refresh mode: %', quote_literal(refresh)
            USING ERRCODE = '22023', DETAIL = 'A segment refreshes manual or immediate.';
    END IF;
    IF definition IS NOT NULL THEN
        d := definition::cdp.segment;
        PERFORM cdp_internal.compile_segment(d, 'now()', false, slug);
        PERFORM cdp_internal.save_segment_references(slug, d);
    END IF;
    UPDATE cdp.segments s
       SET definition = coalesce(d, s.definition),
           title = coalesce(alter_segment.title, s.title),
           refresh = coalesce(alter_segment.refresh, s.refresh),
           description = coalesce(alter_segment.description, s.description),
           updated_at = now()
     WHERE s.slug = alter_segment.slug;
END
$$;
COMMENT ON FUNCTION cdp.alter_segment(text, text, text, text, text) IS
    'Changes a segment''s definition (checked again, cycles refused), title, refresh mode or description';

CREATE FUNCTION cdp.drop_segment(slug text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM 1 FROM cdp.segments s WHERE s.slug = drop_segment.slug FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'segment "%" does not exist', slug USING ERRCODE = '42704';
    END IF;
    PERFORM cdp_internal.refuse_if_used(format('segment "%s"', slug), 'segment', slug);
    DELETE FROM cdp.segments s WHERE s.slug = drop_segment.slug;
END
$$;
COMMENT ON FUNCTION cdp.drop_segment(text) IS 'Drops a saved segment; refused while another segment uses it';
-- 0.2.0-after.sql
--   The last part of the 0.1.0 -> 0.2.0 upgrade, once every function exists:
--   new triggers of the identifier, identity and model sources, and what
--   tables defined under 0.1.0 gain.

CREATE TRIGGER identifier_kinds_keep_builtin_settings AFTER UPDATE ON cdp.identifier_kinds
    FOR EACH ROW WHEN (pg_trigger_depth() < 1)
    EXECUTE FUNCTION cdp_internal.keep_builtin_kind_settings();
CREATE TRIGGER builtin_kind_settings_apply AFTER INSERT ON cdp_internal.builtin_kind_settings
    FOR EACH ROW WHEN (pg_trigger_depth() < 1)
    EXECUTE FUNCTION cdp_internal.apply_builtin_kind_settings();
CREATE TRIGGER identifier_kinds_normalize_blocked
    BEFORE INSERT OR UPDATE ON cdp.identifier_kinds
    FOR EACH ROW EXECUTE FUNCTION cdp_internal.normalize_blocked_values();

-- 0.2.0 indexes each comparable attribute when a profile or document template
-- is defined; tables defined under 0.1.0 get the same indexes here.  A column
-- that already leads an index of the same method (one an administrator made
-- by hand) is left as it is rather than indexed twice.
DO $$
DECLARE
    d record;
    a cdp.attributes;
BEGIN
    FOR d IN SELECT 'profile' AS owner_type, p.slug, p.data_table FROM cdp.profiles p
             UNION ALL
             SELECT 'document_template', t.slug, t.data_table FROM cdp.document_templates t
             ORDER BY 1, 2 LOOP
        FOR a IN SELECT * FROM cdp.attributes x
                 WHERE x.owner_type = d.owner_type AND x.owner_slug = d.slug ORDER BY x.position LOOP
            IF NOT EXISTS (SELECT 1
                             FROM pg_catalog.pg_index i
                             JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
                             JOIN pg_catalog.pg_am m ON m.oid = c.relam
                             JOIN pg_catalog.pg_attribute att ON att.attrelid = i.indrelid AND att.attnum = i.indkey[0]
                            WHERE i.indrelid = d.data_table AND att.attname = a.slug
                              AND m.amname = CASE WHEN a.is_array THEN 'gin' ELSE 'btree' END) THEN
                PERFORM cdp_internal.create_attribute_index(d.data_table, a);
            END IF;
        END LOOP;
    END LOOP;
END
$$;

-- 0.2.0 reads values strictly (JSON booleans and numbers, ISO 8601 dates) and
-- aliases its generated statements with names no attribute can take: the
-- upsert statements stored under 0.1.0 are generated again.
SELECT cdp_internal.rebuild_data_table(d.owner_type, d.slug, d.data_table, d.key_column)
  FROM cdp_internal.data_tables d ORDER BY d.owner_type, d.slug;
