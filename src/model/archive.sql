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
    live bigint;
    -- a variable, not now() inside CASE, which Citus refuses
    stamp constant timestamptz := now();
    owner bigint;
BEGIN
    PERFORM cdp.begin_write();  -- a document's rows are written on Citus's workers (citus.c)
    CASE object_type
    WHEN 'contact' THEN
        -- a merged id archives (restores) its survivor
        live := cdp_internal.lock_contact(id, true);
        SELECT c.archived_at INTO was FROM cdp.contacts c WHERE c.id = live;
        found_it := FOUND;
        IF (was IS NULL) = archived THEN
            UPDATE cdp.contacts c SET archived_at = CASE WHEN archived THEN stamp END, updated_at = now()
             WHERE c.id = live;
        END IF;
    WHEN 'organization' THEN
        SELECT o.archived_at INTO was FROM cdp.organizations o WHERE o.id = set_archived.id FOR UPDATE;
        found_it := FOUND;
        IF found_it AND (was IS NULL) = archived THEN
            UPDATE cdp.organizations o SET archived_at = CASE WHEN archived THEN stamp END
             WHERE o.id = set_archived.id;
        END IF;
    WHEN 'document' THEN
        -- its contact first: on Citus a row is locked on its own shard only
        owner := cdp_internal.document_contact(set_archived.id);
        SELECT d.archived_at INTO was FROM cdp.documents d
         WHERE d.contact_id = owner AND d.id = set_archived.id FOR UPDATE;
        found_it := FOUND;
        IF found_it AND (was IS NULL) = archived THEN
            UPDATE cdp.documents d SET archived_at = CASE WHEN archived THEN stamp END, updated_at = now()
             WHERE d.contact_id = owner AND d.id = set_archived.id;
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
