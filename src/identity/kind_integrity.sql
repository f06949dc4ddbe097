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
    -- a reference table: on Citus this runs on every node's copy, and the
    -- coordinator's does the work (cdp_internal.citus_on_worker)
    IF cdp_internal.citus_on_worker() THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
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

-- Identifiers are matched on normalised values, so blocked values are kept
-- normalised too ('Test@Example.com ' as written could never match); a value
-- the kind's normaliser refuses can never occur and is refused here.
-- Patterns are LIKE patterns and stay as written.
CREATE FUNCTION cdp_internal.normalize_blocked_values() RETURNS trigger
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
CREATE TRIGGER identifier_kinds_normalize_blocked
    BEFORE INSERT OR UPDATE ON cdp.identifier_kinds
    FOR EACH ROW EXECUTE FUNCTION cdp_internal.normalize_blocked_values();
