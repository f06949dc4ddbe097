-- 0.2.0-model.sql
--   The model half of the 0.1.0 -> 0.2.0 upgrade: the changed functions of
--   src/model/*.sql and the attribute indexes of tables defined under 0.1.0.
\echo Use "ALTER EXTENSION cdp UPDATE TO '0.2.0'" to load this file. \quit

-- The Makefile appends src/segment/*.sql (as in the install script) to this
-- file to make cdp--0.1.0--0.2.0.sql; test/t/upgrade.sh compares an updated
-- database with a fresh install, so a function changed here without its copy
-- in src/model fails that test.  These functions are PL/pgSQL: their calls of
-- the segment functions created further down resolve when they run.

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
        RAISE EXCEPTION 'profile "%" does not exist', slug USING ERRCODE = '42704';
    END IF;
    PERFORM cdp_internal.alter_data_table('profile', slug, p.data_table, p.object_type || '_id', add, drop);
    RETURN p.data_table;
END
$$;
COMMENT ON FUNCTION cdp.alter_profile(text, jsonb, text[]) IS
    'Adds attributes to (without rewriting the table) and drops attributes from a profile';

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

-- The identifier-value locks of resolve, for the SQL write paths that must
-- be ordered with it (forget_contact): values are the normalised ones.
CREATE FUNCTION cdp_internal.lock_identifier_values(kinds text[], vals text[]) RETURNS void
LANGUAGE c VOLATILE STRICT
AS 'MODULE_PATHNAME', 'cdp_lock_identifier_values_sql';
COMMENT ON FUNCTION cdp_internal.lock_identifier_values(text[], text[]) IS
    'Takes the transaction advisory locks resolve takes on these (kind, value) pairs, in resolve''s order';
