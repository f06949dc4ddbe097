-- views.sql
--   Saved views (DESIGN §8): cdp_views.<slug>, one typed row per member of a saved
--   segment, generated from a list of fields and regenerated when the segment changes.

CREATE TABLE cdp.views (
    slug          text PRIMARY KEY
                  CONSTRAINT views_slug_format CHECK (slug ~ '^[a-z][a-z0-9_]{0,62}$'),
    title         text NOT NULL,
    segment       text NOT NULL REFERENCES cdp.segments (slug),
    fields        text[] NOT NULL CONSTRAINT views_fields_not_empty CHECK (cardinality(fields) > 0),
    materialized  boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    refreshed_at  timestamptz
);
COMMENT ON TABLE cdp.views IS
    'Saved views: cdp_views.<slug> lists the members of a saved segment with a typed column per field';
COMMENT ON COLUMN cdp.views.slug IS 'View name: the view is cdp_views.<slug>';
COMMENT ON COLUMN cdp.views.title IS 'Human-readable name (also the comment of the view)';
COMMENT ON COLUMN cdp.views.segment IS 'The saved segment whose members are the rows';
COMMENT ON COLUMN cdp.views.fields IS
    'The fields, in column order; each is also its column''s name (id, type, email, customer.tier, tags, count(events.purchase), …)';
COMMENT ON COLUMN cdp.views.materialized IS
    'Whether cdp_views.<slug> is a materialized view (a snapshot as of refreshed_at) rather than a view read live';
COMMENT ON COLUMN cdp.views.created_at IS 'When the view was created';
COMMENT ON COLUMN cdp.views.updated_at IS 'When the view was last regenerated (its segment changed, or refresh_view)';
COMMENT ON COLUMN cdp.views.refreshed_at IS
    'When a materialized view was last filled; NULL for a plain view';

-- What each view's fields use, in the vocabulary of segment_references, so
-- that cdp_internal.refuse_if_used names views as it names segments.
CREATE TABLE cdp_internal.view_references (
    view  text NOT NULL REFERENCES cdp.views (slug) ON DELETE CASCADE,
    kind  text NOT NULL,
    name  text NOT NULL,
    PRIMARY KEY (kind, name, view)
);
CREATE INDEX view_references_view_idx ON cdp_internal.view_references (view);
COMMENT ON TABLE cdp_internal.view_references IS
    'The segments, profiles, attributes, templates, taxonomies and kinds each saved view uses';
COMMENT ON COLUMN cdp_internal.view_references.view IS 'The saved view that uses the object';
COMMENT ON COLUMN cdp_internal.view_references.kind IS
    'What kind of object: segment, profile, attribute, template, taxonomy or kind';
COMMENT ON COLUMN cdp_internal.view_references.name IS 'The object''s name (attribute: profile.attribute)';

SELECT pg_catalog.pg_extension_config_dump('cdp.views', '');
SELECT pg_catalog.pg_extension_config_dump('cdp_internal.view_references', '');

CREATE FUNCTION cdp_internal.views_using(kind text, name text) RETURNS SETOF text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT format('view "%s"', r.view) FROM cdp_internal.view_references r
     WHERE r.kind = views_using.kind AND r.name = views_using.name
     ORDER BY r.view;
END;
COMMENT ON FUNCTION cdp_internal.views_using(text, text) IS
    'Saved views that use a segment, profile, attribute, template, taxonomy or kind';

-- 42703 for a field a view cannot show, naming it and saying why.
CREATE FUNCTION cdp_internal.unknown_view_field(field text, reason text, hint text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'unknown view field "%"', field
        USING ERRCODE = '42703', DETAIL = reason,
              HINT = coalesce(hint, 'Fields are id, type, given_name, family_name, <kind>, <profile>.<attribute>, '
                                    'organization.name, organization.<profile>.<attribute>, tags, <taxonomy>, '
                                    'count(events.<name>) and count(documents.<template>).');
END
$$;
COMMENT ON FUNCTION cdp_internal.unknown_view_field(text, text, text) IS 'Raises 42703 naming a view field';

-- A profile attribute of a view field: the generated table and 42703 when the
-- profile is missing, of the other object type, or lacks the attribute.
CREATE FUNCTION cdp_internal.view_attribute_table(field text, profile text, attribute text, object_type text)
RETURNS regclass
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p cdp.profiles;
BEGIN
    SELECT * INTO p FROM cdp.profiles t WHERE t.slug = profile;
    IF NOT FOUND THEN
        PERFORM cdp_internal.unknown_view_field(field, format('There is no profile "%s".', profile));
    END IF;
    IF p.object_type <> object_type THEN
        PERFORM cdp_internal.unknown_view_field(field, format('Profile "%s" is a profile of %ss.', profile, p.object_type),
            CASE p.object_type WHEN 'organization'
                 THEN format('The primary organization''s value is organization.%s.%s.', profile, attribute)
                 ELSE format('Contact profiles are read as %s.%s.', profile, attribute) END);
    END IF;
    PERFORM 1 FROM cdp.attributes a WHERE a.owner_type = 'profile' AND a.owner_slug = profile AND a.slug = attribute;
    IF NOT FOUND THEN
        PERFORM cdp_internal.unknown_view_field(field, format('Profile "%s" has no attribute "%s".', profile, attribute));
    END IF;
    RETURN p.data_table;
END
$$;
COMMENT ON FUNCTION cdp_internal.view_attribute_table(text, text, text, text) IS
    'The table of a profile attribute a view field names; 42703 when there is none';

-- The SELECT of a view: the members of the saved segment (its compiled SQL,
-- so that the view is exact whenever it is read) and a column per field.
-- Per-contact tables are joined on contact_id only (DESIGN §10).  refs are
-- what the fields use, as (kind, name) pairs for view_references.
CREATE FUNCTION cdp_internal.view_query(segment text, fields text[], OUT query text, OUT ref_kinds text[],
                                        OUT ref_names text[])
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f text;
    m text[];
    cols text[] := '{}';
    joins text := '';
    aliases jsonb := '{}';      -- data table -> alias, so that a profile is joined once
    alias text;
    tbl regclass;
    is_kind boolean;
    is_taxonomy boolean;
    classifies_contacts boolean;
    seen text[] := '{}';
    primary_org boolean := false;
BEGIN
    ref_kinds := ARRAY['segment'];
    ref_names := ARRAY[segment];
    IF fields IS NULL OR cardinality(fields) = 0 THEN
        RAISE EXCEPTION 'a view needs at least one field' USING ERRCODE = '22023';
    END IF;
    FOREACH f IN ARRAY fields LOOP
        IF f IS NULL OR f = '' THEN
            RAISE EXCEPTION 'view fields must not be null or empty' USING ERRCODE = '22023';
        END IF;
        IF octet_length(f) > 63 THEN
            RAISE EXCEPTION 'view field "%" is too long', f USING ERRCODE = '42622',
                DETAIL = 'A field is also its column''s name, at most 63 bytes.';
        END IF;
        IF f = ANY (seen) THEN
            RAISE EXCEPTION 'view field "%" is listed twice', f USING ERRCODE = '42701';
        END IF;
        seen := seen || f;
        IF f IN ('id', 'type', 'given_name', 'family_name') THEN
            cols := array_append(cols, format('c.%I', f));
        ELSIF f = 'tags' THEN
            cols := array_append(cols, 'coalesce((SELECT array_agg(t.path ORDER BY t.path) FROM cdp.contact_tags ct'
                            ' JOIN cdp.tags t ON t.id = ct.tag_id WHERE ct.contact_id = c.id), ''{}''::text[])');
        ELSIF f ~ '^count\(events\..+\)$' THEN
            cols := array_append(cols, format('(SELECT count(*) FROM cdp.events e WHERE e.contact_id = c.id AND e.name = %L)',
                                   substring(f FROM '^count\(events\.(.+)\)$')));
        ELSIF f ~ '^count\(documents\..+\)$' THEN
            m := ARRAY[substring(f FROM '^count\(documents\.(.+)\)$')];
            PERFORM 1 FROM cdp.document_templates t WHERE t.slug = m[1];
            IF NOT FOUND THEN
                PERFORM cdp_internal.unknown_view_field(f, format('There is no document template "%s".', m[1]));
            END IF;
            cols := array_append(cols, format('(SELECT count(*) FROM cdp.documents d WHERE d.contact_id = c.id'
                                   ' AND d.template = %L AND d.archived_at IS NULL)', m[1]));
            ref_kinds := ref_kinds || 'template'::text;
            ref_names := ref_names || m[1];
        ELSIF f = 'organization.name' THEN
            primary_org := true;
            cols := array_append(cols, 'po.name');
        ELSIF f ~ '^organization\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$' THEN
            m := regexp_match(f, '^organization\.([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)$');
            tbl := cdp_internal.view_attribute_table(f, m[1], m[2], 'organization');
            primary_org := true;
            alias := aliases ->> tbl::text;
            IF alias IS NULL THEN
                alias := 'p' || (cardinality(ARRAY(SELECT jsonb_object_keys(aliases))) + 1);
                aliases := aliases || jsonb_build_object(tbl::text, alias);
                joins := joins || format(E'\n  LEFT JOIN %s %I ON %I.organization_id = po.id', tbl, alias, alias);
            END IF;
            cols := array_append(cols, format('%I.%I', alias, m[2]));
            ref_kinds := ref_kinds || ARRAY['profile', 'attribute'];
            ref_names := ref_names || ARRAY[m[1], m[1] || '.' || m[2]];
        ELSIF f ~ '^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$' THEN
            m := regexp_match(f, '^([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)$');
            tbl := cdp_internal.view_attribute_table(f, m[1], m[2], 'contact');
            alias := aliases ->> tbl::text;
            IF alias IS NULL THEN
                alias := 'p' || (cardinality(ARRAY(SELECT jsonb_object_keys(aliases))) + 1);
                aliases := aliases || jsonb_build_object(tbl::text, alias);
                joins := joins || format(E'\n  LEFT JOIN %s %I ON %I.contact_id = c.id', tbl, alias, alias);
            END IF;
            cols := array_append(cols, format('%I.%I', alias, m[2]));
            ref_kinds := ref_kinds || ARRAY['profile', 'attribute'];
            ref_names := ref_names || ARRAY[m[1], m[1] || '.' || m[2]];
        ELSE
            is_kind := EXISTS (SELECT 1 FROM cdp.identifier_kinds k WHERE k.kind = f);
            SELECT true, 'contact' = ANY (t.object_types) INTO is_taxonomy, classifies_contacts
              FROM cdp.taxonomies t WHERE t.slug = f;
            IF is_kind AND is_taxonomy THEN
                RAISE EXCEPTION 'view field "%" is ambiguous', f USING ERRCODE = '42702',
                    DETAIL = format('"%s" is both an identifier kind and a taxonomy.', f);
            ELSIF is_kind THEN
                -- The main identifier: slug main, else the oldest of the kind.
                cols := array_append(cols, format('(SELECT i.value FROM cdp.identifiers i WHERE i.contact_id = c.id AND i.kind = %L'
                                       ' ORDER BY i.slug IS DISTINCT FROM ''main'', i.id LIMIT 1)', f));
                ref_kinds := ref_kinds || 'kind'::text;
                ref_names := ref_names || f;
            ELSIF is_taxonomy THEN
                IF NOT classifies_contacts THEN
                    PERFORM cdp_internal.unknown_view_field(f, format('Taxonomy "%s" does not classify contacts.', f));
                END IF;
                cols := array_append(cols, format('coalesce((SELECT array_agg(t.path ORDER BY t.path) FROM cdp.contact_terms ct'
                                       ' JOIN cdp.terms t ON t.id = ct.term_id WHERE ct.contact_id = c.id'
                                       ' AND t.taxonomy = %L), ''{}''::text[])', f));
                ref_kinds := ref_kinds || 'taxonomy'::text;
                ref_names := ref_names || f;
            ELSE
                PERFORM cdp_internal.unknown_view_field(f,
                    'It is no contact field, identifier kind, taxonomy, profile attribute or count.');
            END IF;
        END IF;
        cols[cardinality(cols)] := cols[cardinality(cols)] || format(' AS %I', f);
    END LOOP;
    IF primary_org THEN
        -- The primary organization (at most one per contact), unless archived.
        joins := E'\n  LEFT JOIN LATERAL (SELECT o.id, o.name FROM cdp.organization_members om'
                 ' JOIN cdp.organizations o ON o.id = om.organization_id'
                 ' WHERE om.contact_id = c.id AND om.is_primary AND o.archived_at IS NULL) po ON true' || joins;
    END IF;
    query := format(E'SELECT %s\n  FROM cdp.contacts c%s\n WHERE c.id IN (%s)',
                    array_to_string(cols, E',\n       '), joins,
                    cdp.segment_sql(cdp_internal.segment_definition(segment)));
END
$$;
COMMENT ON FUNCTION cdp_internal.view_query(text, text[]) IS
    'The SELECT of a saved view and what its fields use; 42703 naming an unknown field';

-- (Re)creates cdp_views.<slug> from the catalog.  A plain view is replaced in
-- place (same columns, so grants and dependent objects stay); a materialized
-- view cannot be, so it is dropped, created again with its data and granted.
-- Filling a materialized view evaluates the segment: with jit = off, as every
-- evaluation (create_view and refresh_view set it too), since JIT compiling a
-- wide definition costs seconds where running it costs milliseconds.
CREATE FUNCTION cdp_internal.generate_view(slug text, replace boolean) RETURNS regclass
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    v cdp.views;
    q record;
    rel regclass;
BEGIN
    SELECT * INTO STRICT v FROM cdp.views t WHERE t.slug = generate_view.slug;
    SELECT * INTO q FROM cdp_internal.view_query(v.segment, v.fields);
    IF v.materialized THEN
        IF replace THEN
            EXECUTE format('DROP MATERIALIZED VIEW cdp_views.%I', v.slug);
        END IF;
        EXECUTE format(E'CREATE MATERIALIZED VIEW cdp_views.%I AS\n%s', v.slug, q.query);
        UPDATE cdp.views t SET refreshed_at = now() WHERE t.slug = v.slug;
    ELSE
        EXECUTE format(E'CREATE %s VIEW cdp_views.%I WITH (security_invoker = true) AS\n%s',
                       CASE WHEN replace THEN 'OR REPLACE' ELSE '' END, v.slug, q.query);
    END IF;
    rel := format('cdp_views.%I', v.slug)::regclass;
    EXECUTE format('COMMENT ON %s cdp_views.%I IS %L', CASE WHEN v.materialized THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END,
                   v.slug, format('%s: members of segment "%s" (cdp view "%s")', v.title, v.segment, v.slug));
    DELETE FROM cdp_internal.view_references r WHERE r.view = v.slug;
    INSERT INTO cdp_internal.view_references (view, kind, name)
    SELECT DISTINCT v.slug, k, n FROM unnest(q.ref_kinds, q.ref_names) AS u(k, n);
    IF NOT replace OR v.materialized THEN
        PERFORM cdp_internal.grant_generated(rel);
    END IF;
    RETURN rel;
END
$$;
COMMENT ON FUNCTION cdp_internal.generate_view(text, boolean) IS
    'Creates or regenerates cdp_views.<slug> from cdp.views';

CREATE FUNCTION cdp.create_view(slug text, segment text, fields text[], materialized boolean DEFAULT false,
                                title text DEFAULT NULL)
RETURNS regclass
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
    IF slug IS NULL OR slug !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid view slug: %', coalesce(quote_literal(slug), 'NULL')
            USING ERRCODE = '22023', DETAIL = 'View slugs match ^[a-z][a-z0-9_]{0,62}$ (the view is cdp_views.<slug>).';
    END IF;
    IF materialized IS NULL THEN
        RAISE EXCEPTION 'materialized must not be null' USING ERRCODE = '22004';
    END IF;
    PERFORM cdp_internal.segment_definition(segment);
    PERFORM pg_advisory_xact_lock(hashtext('cdp.view:' || slug));
    IF EXISTS (SELECT 1 FROM cdp.views v WHERE v.slug = create_view.slug) THEN
        RAISE EXCEPTION 'view "%" already exists', slug USING ERRCODE = '42710',
            HINT = 'Drop it with cdp.drop_view first.';
    END IF;
    -- Checked before the row exists, so that an unknown field is the error.
    PERFORM cdp_internal.view_query(segment, fields);
    INSERT INTO cdp.views (slug, title, segment, fields, materialized)
    VALUES (slug, coalesce(title, initcap(replace(slug, '_', ' '))), segment, fields, materialized);
    RETURN cdp_internal.generate_view(slug, false);
END
$$;
COMMENT ON FUNCTION cdp.create_view(text, text, text[], boolean, text) IS
    'Creates cdp_views.<slug>: a row per member of a saved segment, a typed column per field (materialized: a snapshot)';

CREATE FUNCTION cdp.refresh_view(slug text) RETURNS regclass
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    v cdp.views;
BEGIN
    SELECT * INTO v FROM cdp.views t WHERE t.slug = refresh_view.slug FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM cdp_internal.not_null(slug, 'view slug');
        RAISE EXCEPTION 'view "%" does not exist', slug USING ERRCODE = '42704';
    END IF;
    IF v.materialized THEN
        EXECUTE format('REFRESH MATERIALIZED VIEW cdp_views.%I', v.slug);
        UPDATE cdp.views t SET refreshed_at = now() WHERE t.slug = v.slug;
        RETURN format('cdp_views.%I', v.slug)::regclass;
    END IF;
    -- A plain view is always current; regenerating it takes in catalog
    -- changes that compiled SQL holds as ids (new tags or terms under a TAG
    -- UNDER or UNDER condition, organizations moved under ORGANIZATION UNDER).
    UPDATE cdp.views t SET updated_at = now() WHERE t.slug = v.slug;
    RETURN cdp_internal.generate_view(v.slug, true);
END
$$;
COMMENT ON FUNCTION cdp.refresh_view(text) IS
    'Materialized: fills the snapshot again; plain: regenerates the view from the current catalog (tags, terms, organization tree)';

CREATE FUNCTION cdp.drop_view(slug text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v cdp.views;
BEGIN
    SELECT * INTO v FROM cdp.views t WHERE t.slug = drop_view.slug FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM cdp_internal.not_null(slug, 'view slug');
        RAISE EXCEPTION 'view "%" does not exist', slug USING ERRCODE = '42704';
    END IF;
    EXECUTE format('DROP %s cdp_views.%I', CASE WHEN v.materialized THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END, v.slug);
    DELETE FROM cdp.views t WHERE t.slug = v.slug;
END
$$;
COMMENT ON FUNCTION cdp.drop_view(text) IS 'Drops a saved view and cdp_views.<slug>';

-- alter_segment calls this: the views of the segment and of every segment
-- that includes it (IN SEGMENT, at any depth) embed its compiled SQL.
CREATE FUNCTION cdp_internal.regenerate_segment_views(segment text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s text;
BEGIN
    FOR s IN
        WITH RECURSIVE users(slug) AS (
            SELECT regenerate_segment_views.segment
            UNION
            SELECT r.segment FROM cdp_internal.segment_references r JOIN users u ON r.kind = 'segment' AND r.name = u.slug)
        SELECT v.slug FROM cdp.views v JOIN users u ON v.segment = u.slug ORDER BY v.slug FOR UPDATE OF v
    LOOP
        UPDATE cdp.views t SET updated_at = now() WHERE t.slug = s;
        PERFORM cdp_internal.generate_view(s, true);
    END LOOP;
END
$$;
COMMENT ON FUNCTION cdp_internal.regenerate_segment_views(text) IS
    'Regenerates the views that embed a segment''s compiled SQL, directly or through IN SEGMENT';
