-- roles.sql
--   cdp.create_roles() (DESIGN §9): cdp_reader, cdp_writer and cdp_admin with the
--   privileges of each, and the grants of generated tables and views as they are made.

-- Every function of schema cdp and the role that may call it: reader, writer
-- or admin (each role is a member of the one before), public (pure functions
-- and the support functions of types and operators, which everybody keeps) or
-- owner (create_roles).  A name missing from the list is classified admin,
-- the narrowest, and reported by classified = false.
CREATE FUNCTION cdp_internal.function_roles()
RETURNS TABLE(function regprocedure, role text, classified boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    WITH names(name, role) AS (VALUES
        ('count', 'cdp_reader'), ('current_contact', 'cdp_reader'), ('estimate', 'cdp_reader'),
        ('explain_segment', 'cdp_reader'), ('find_contact', 'cdp_reader'), ('identity_graph', 'cdp_reader'),
        ('in_segment', 'cdp_reader'), ('members', 'cdp_reader'), ('organization_tree', 'cdp_reader'),
        ('segment_sql', 'cdp_reader'),
        ('add_member', 'cdp_writer'), ('archive', 'cdp_writer'), ('classify', 'cdp_writer'),
        ('consume', 'cdp_writer'), ('create_document', 'cdp_writer'), ('create_organization', 'cdp_writer'),
        ('ingest', 'cdp_writer'), ('move_organization', 'cdp_writer'), ('refresh_contact_type', 'cdp_writer'),
        ('refresh_segment', 'cdp_writer'), ('remove_member', 'cdp_writer'), ('remove_profile', 'cdp_writer'),
        ('resolve', 'cdp_writer'), ('resolve_all', 'cdp_writer'), ('restore', 'cdp_writer'),
        ('set_organization_profile', 'cdp_writer'), ('set_profile', 'cdp_writer'), ('tag', 'cdp_writer'),
        ('track', 'cdp_writer'), ('unclassify', 'cdp_writer'), ('untag', 'cdp_writer'),
        ('update_contact', 'cdp_writer'), ('update_document', 'cdp_writer'), ('begin_write', 'cdp_writer'),
        ('add_term', 'cdp_admin'), ('alter_document_template', 'cdp_admin'), ('alter_profile', 'cdp_admin'),
        ('alter_segment', 'cdp_admin'), ('cleanup_ghosts', 'cdp_admin'), ('create_segment', 'cdp_admin'),
        ('create_view', 'cdp_admin'), ('define_document_template', 'cdp_admin'), ('define_profile', 'cdp_admin'),
        ('define_taxonomy', 'cdp_admin'), ('drop_document_template', 'cdp_admin'), ('drop_profile', 'cdp_admin'),
        ('drop_segment', 'cdp_admin'), ('drop_view', 'cdp_admin'), ('forget_contact', 'cdp_admin'),
        ('merge_contacts', 'cdp_admin'), ('refresh_view', 'cdp_admin'), ('schedule_refresh', 'cdp_admin'),
        ('unschedule_refresh', 'cdp_admin'), ('set_trait_mapping', 'cdp_admin'), ('drop_trait_mapping', 'cdp_admin'),
        ('prune_ingested_messages', 'cdp_admin'), ('unmerge', 'cdp_admin'),
        ('create_roles', 'owner'), ('distribute', 'owner'),
        ('email', 'public'), ('email_address', 'public'), ('phone', 'public'), ('normalize_email', 'public'),
        ('normalize_phone', 'public'), ('normalize_identifier', 'public'), ('is_valid_identifier', 'public'),
        ('email_info', 'public'), ('phone_info', 'public'), ('segment_to_jsonb', 'public'),
        ('jsonb_to_segment', 'public'))
    SELECT p.oid::regprocedure,
           CASE WHEN n.role IS NOT NULL THEN n.role
                WHEN support.oid IS NOT NULL THEN 'public'
                ELSE 'cdp_admin' END,
           n.role IS NOT NULL OR support.oid IS NOT NULL
      FROM pg_proc p
      LEFT JOIN names n ON n.name = p.proname
      LEFT JOIN LATERAL (
          SELECT p.oid WHERE EXISTS (SELECT 1 FROM pg_type t
                                      WHERE p.oid IN (t.typinput, t.typoutput, t.typreceive, t.typsend))
                          OR EXISTS (SELECT 1 FROM pg_operator o WHERE o.oprcode = p.oid)
                          OR EXISTS (SELECT 1 FROM pg_amproc a WHERE a.amproc = p.oid)
                          OR EXISTS (SELECT 1 FROM pg_cast c WHERE c.castfunc = p.oid)) support ON true
     WHERE p.pronamespace = 'cdp'::regnamespace
     ORDER BY 1;
END;
COMMENT ON FUNCTION cdp_internal.function_roles() IS
    'The role that may call each function of schema cdp (classified = false: not listed, so admin only)';

-- Catalog tables: what an administrator defines.  cdp_writer reads them and
-- writes none (the definition functions need DML on them, and so does no
-- write path).  merge_blocks and suppressions are written by unmerge and
-- forget_contact, admin functions; the change log is append-only for writers.
CREATE FUNCTION cdp_internal.admin_tables() RETURNS SETOF regclass
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT c.oid::regclass FROM pg_class c
     WHERE c.relkind IN ('r', 'p')
       AND ((c.relnamespace = 'cdp'::regnamespace
             AND c.relname IN ('identifier_kinds', 'profiles', 'document_templates', 'attributes', 'taxonomies',
                               'terms', 'segments', 'views', 'merge_blocks', 'suppressions'))
            OR (c.relnamespace = 'cdp_internal'::regnamespace
                AND c.relname IN ('data_tables', 'segment_references', 'view_references', 'builtin_kind_settings',
                                  'secrets')));
END;
COMMENT ON FUNCTION cdp_internal.admin_tables() IS
    'The tables of cdp and cdp_internal that only cdp_admin writes (catalogs, merge blocks, suppressions, the salt)';

-- The roles are in use in this database once create_roles has granted
-- cdp_reader the schema cdp (roles are per cluster, grants per database).
CREATE FUNCTION cdp_internal.roles_enabled() RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = 'cdp_admin')
       AND EXISTS (SELECT 1 FROM pg_namespace n, aclexplode(n.nspacl) a JOIN pg_roles r ON r.oid = a.grantee
                    WHERE n.nspname = 'cdp' AND r.rolname = 'cdp_reader' AND a.privilege_type = 'USAGE');
END;
COMMENT ON FUNCTION cdp_internal.roles_enabled() IS
    'Whether cdp.create_roles has granted this database''s cdp objects to cdp_reader, cdp_writer and cdp_admin';

-- The grants of one generated table (cdp_data) or view (cdp_views), when the
-- roles are in use: read by cdp_reader; a table written by cdp_writer.  It is
-- then owned by cdp_admin, so that every administrator can alter or drop it,
-- when the creator may give it away (a superuser or a member of cdp_admin).
CREATE FUNCTION cdp_internal.grant_generated(rel regclass) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c pg_class;
BEGIN
    IF NOT cdp_internal.roles_enabled() THEN
        RETURN;
    END IF;
    SELECT * INTO STRICT c FROM pg_class t WHERE t.oid = rel;
    EXECUTE format('GRANT SELECT ON %s TO cdp_reader', rel);
    IF c.relkind IN ('r', 'p') THEN
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO cdp_writer', rel);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES ON %s TO cdp_admin', rel);
    END IF;
    IF c.relowner <> 'cdp_admin'::regrole
       AND (pg_has_role(current_user, 'cdp_admin', 'MEMBER')
            OR (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user)) THEN
        EXECUTE format('ALTER %s %s OWNER TO cdp_admin',
                       CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, rel);
    END IF;
END
$$;
COMMENT ON FUNCTION cdp_internal.grant_generated(regclass) IS
    'Grants a new cdp_data table or cdp_views view to the cdp roles (when in use) and gives it to cdp_admin';

CREATE FUNCTION cdp.create_roles() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me pg_roles;
    r record;
    missing text[];
BEGIN
    SELECT * INTO me FROM pg_roles t WHERE t.rolname = current_user;
    SELECT array_agg(x ORDER BY x) INTO missing FROM unnest(ARRAY['cdp_reader', 'cdp_writer', 'cdp_admin']) x
     WHERE NOT EXISTS (SELECT 1 FROM pg_roles t WHERE t.rolname = x);
    IF missing IS NOT NULL AND NOT (me.rolsuper OR me.rolcreaterole) THEN
        RAISE EXCEPTION 'permission denied to create roles %', array_to_string(missing, ', ')
            USING ERRCODE = '42501', DETAIL = 'cdp.create_roles needs CREATEROLE to create the roles that do not exist.';
    END IF;
    IF NOT pg_has_role(current_user, (SELECT e.extowner FROM pg_extension e WHERE e.extname = 'cdp'), 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of extension cdp to grant its objects' USING ERRCODE = '42501',
            DETAIL = 'Granting needs the owner of the objects; anyone else''s grants would silently do nothing.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles t WHERE t.rolname = 'cdp_reader') THEN
        CREATE ROLE cdp_reader NOLOGIN INHERIT;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles t WHERE t.rolname = 'cdp_writer') THEN
        CREATE ROLE cdp_writer NOLOGIN INHERIT;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles t WHERE t.rolname = 'cdp_admin') THEN
        CREATE ROLE cdp_admin NOLOGIN INHERIT;
    END IF;
    COMMENT ON ROLE cdp_reader IS 'cdp: reads contacts, profiles, segments and the views of cdp_views';
    COMMENT ON ROLE cdp_writer IS 'cdp: cdp_reader, and writes contacts, identifiers, profiles, tags, events, documents';
    COMMENT ON ROLE cdp_admin IS 'cdp: cdp_writer, and defines kinds, profiles, templates, taxonomies, segments, views; merges, unmerges, forgets';
    IF NOT pg_has_role('cdp_writer', 'cdp_reader', 'MEMBER') THEN
        GRANT cdp_reader TO cdp_writer;
    END IF;
    IF NOT pg_has_role('cdp_admin', 'cdp_writer', 'MEMBER') THEN
        GRANT cdp_writer TO cdp_admin;
    END IF;

    -- Schemas.  cdp_internal: its functions run the public ones (no table of
    -- it is readable without a grant below).
    GRANT USAGE ON SCHEMA cdp, cdp_data, cdp_views, cdp_internal TO cdp_reader;
    GRANT CREATE ON SCHEMA cdp_data, cdp_views TO cdp_admin;

    -- Tables: every one readable by cdp_reader but the salt; writable by
    -- cdp_writer but the catalogs (admin_tables); the change log append-only.
    FOR r IN SELECT c.oid::regclass AS rel, c.relkind, c.relnamespace::regnamespace::text AS nsp,
                    c.oid IN (SELECT cdp_internal.admin_tables()) AS admin_only,
                    c.oid = 'cdp_internal.secrets'::regclass AS secret,
                    c.relname = 'changes' AND c.relnamespace = 'cdp'::regnamespace AS log
               FROM pg_class c
              WHERE c.relnamespace IN ('cdp'::regnamespace, 'cdp_data'::regnamespace, 'cdp_views'::regnamespace,
                                       'cdp_internal'::regnamespace)
                AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
              ORDER BY 1 LOOP
        EXECUTE format('REVOKE ALL ON %s FROM cdp_reader, cdp_writer, cdp_admin', r.rel);
        IF r.relkind = 'S' THEN
            EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO cdp_writer', r.rel);
            EXECUTE format('GRANT UPDATE ON SEQUENCE %s TO cdp_admin', r.rel);
            CONTINUE;
        END IF;
        IF r.nsp IN ('cdp_data', 'cdp_views') THEN
            PERFORM cdp_internal.grant_generated(r.rel);
            CONTINUE;
        END IF;
        IF r.secret THEN
            -- resolve checks suppressions with salted hashes
            GRANT SELECT ON cdp_internal.secrets TO cdp_writer;
        ELSE
            EXECUTE format('GRANT SELECT ON %s TO cdp_reader', r.rel);
        END IF;
        IF r.relkind IN ('r', 'p') THEN
            IF r.log THEN
                EXECUTE format('GRANT INSERT ON %s TO cdp_writer', r.rel);
            ELSIF NOT r.admin_only THEN
                EXECUTE format('GRANT INSERT, UPDATE, DELETE ON %s TO cdp_writer', r.rel);
            END IF;
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES ON %s TO cdp_admin', r.rel);
        END IF;
    END LOOP;
    -- a writer's refresh_segment, and the immediate pass at a writer's
    -- commit, keep a segment's member count and refresh time
    GRANT UPDATE (member_count, refreshed_at) ON cdp.segments TO cdp_writer;

    -- Functions: PostgreSQL grants EXECUTE to PUBLIC; each function of cdp
    -- that reads or writes data is given to its role instead.
    FOR r IN SELECT * FROM cdp_internal.function_roles() f WHERE f.role <> 'public' LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC, cdp_reader, cdp_writer, cdp_admin', r.function);
        IF r.role <> 'owner' THEN
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', r.function, r.role);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION cdp.create_roles() IS
    'Creates (if missing) cdp_reader, cdp_writer and cdp_admin and grants them this database''s cdp objects; run again after an upgrade';
