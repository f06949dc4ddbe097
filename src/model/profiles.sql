-- profiles.sql
--   Profiles of contacts and organizations: define, alter and drop them (each a
--   typed table cdp_data.profile_<slug>), and set or remove a contact's values.

-- Profiles and views that use a profile (segments and views, once they exist).
CREATE FUNCTION cdp_internal.profile_dependents(profile text) RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY SELECT * FROM cdp_internal.segments_using('profile', profile);
    RETURN QUERY SELECT * FROM cdp_internal.views_using('profile', profile);
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

-- The hot path of write_values_with in C (set_profile.c): one lookup of the
-- profile, the one contact lock, then the generated upsert with a kept plan.
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
