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
