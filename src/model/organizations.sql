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
COMMENT ON COLUMN cdp.organizations.id IS 'Organization id';
COMMENT ON COLUMN cdp.organizations.slug IS 'Organization name as the API takes it (unique)';
COMMENT ON COLUMN cdp.organizations.name IS 'Display name';
COMMENT ON COLUMN cdp.organizations.parent_id IS 'The parent organization; NULL at a root';
COMMENT ON COLUMN cdp.organizations.created_at IS 'When the organization was created';
COMMENT ON COLUMN cdp.organizations.updated_at IS 'When the organization last changed';
COMMENT ON COLUMN cdp.organizations.archived_at IS 'When the organization was archived; NULL if live';

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
COMMENT ON COLUMN cdp.organization_members.contact_id IS 'The member contact';
COMMENT ON COLUMN cdp.organization_members.organization_id IS 'The organization';
COMMENT ON COLUMN cdp.organization_members.role IS 'The member''s role (free text), or NULL';
COMMENT ON COLUMN cdp.organization_members.is_primary IS
    'Whether this is the contact''s primary organization (at most one per contact)';
COMMENT ON COLUMN cdp.organization_members.since IS 'When the contact became a member';

SELECT pg_catalog.pg_extension_config_dump('cdp.organizations', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.organizations_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.organization_members', '');

-- The lock that orders changes of the organization tree: two moves that
-- would each be fine alone but make a cycle together run one after the other.
CREATE FUNCTION cdp_internal.lock_organization_tree() RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_advisory_xact_lock(1128546354, 0)    -- 0x43445032, 'CDP2': cdp's tree lock
$$;
COMMENT ON FUNCTION cdp_internal.lock_organization_tree() IS
    'Takes the transaction lock that orders moves in the organization tree';

-- Refuse cycles in the tree; keep updated_at.  A move takes the tree lock
-- and walks up from the new parent locking each ancestor FOR SHARE: under
-- READ COMMITTED the walk sees every move committed before it, and under
-- REPEATABLE READ an ancestor moved since the snapshot raises 40001.
CREATE FUNCTION cdp_internal.organizations_check_tree() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    up bigint := NEW.parent_id;
    hops integer := 0;
BEGIN
    -- a new organization has no descendants: only a move can close a cycle
    -- (on Citus checked on the coordinator's copy of the reference table)
    IF TG_OP = 'UPDATE' AND NEW.parent_id IS NOT NULL AND NEW.parent_id IS DISTINCT FROM OLD.parent_id
       AND NOT cdp_internal.citus_on_worker() THEN
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
    -- a reference table: on Citus this runs on every node's copy, and the
    -- coordinator's does the work (cdp_internal.citus_on_worker)
    IF cdp_internal.citus_on_worker() THEN
        RETURN OLD;
    END IF;
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
        PERFORM cdp_internal.not_null(slug, 'organization slug');
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
    parent_id bigint;
BEGIN
    IF slug IS NULL OR slug !~ '^[a-z0-9][a-z0-9_-]{0,62}$' THEN
        RAISE EXCEPTION 'invalid organization slug: %', coalesce(quote_literal(slug), 'NULL')
            USING ERRCODE = '22023', DETAIL = 'Organization slugs match ^[a-z0-9][a-z0-9_-]{0,62}$.';
    END IF;
    IF EXISTS (SELECT 1 FROM cdp.organizations o WHERE o.slug = create_organization.slug) THEN
        RAISE EXCEPTION 'organization "%" already exists', slug USING ERRCODE = '42710';
    END IF;
    -- before the INSERT: Citus evaluates every function of its VALUES, even
    -- in a CASE branch not taken
    IF parent IS NOT NULL THEN
        parent_id := cdp_internal.organization_id(parent);
    END IF;
    INSERT INTO cdp.organizations (slug, name, parent_id)
    VALUES (slug, coalesce(name, slug), parent_id)
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
DECLARE
    org bigint := cdp_internal.organization_id(slug);
    new_parent bigint;
BEGIN
    IF parent IS NOT NULL THEN
        new_parent := cdp_internal.organization_id(parent);
    END IF;
    -- the tree lock before the row lock (the trigger takes it again, for
    -- moves made by plain UPDATEs): two moves wait here for each other
    -- instead of each holding its row while waiting for the tree
    PERFORM cdp_internal.lock_organization_tree();
    UPDATE cdp.organizations o SET parent_id = new_parent WHERE o.id = org;
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
        PERFORM cdp_internal.not_null(profile_slug, 'profile slug');
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

CREATE FUNCTION cdp.remove_member(contact_id bigint, org_slug text)
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
