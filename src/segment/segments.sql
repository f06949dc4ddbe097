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
    'Saved segments: named cdp.segment definitions over contacts, evaluated on demand by cdp.members and cdp.count, their membership stored in cdp.segment_members';
COMMENT ON COLUMN cdp.segments.refresh IS
    'manual (cdp.refresh_segment brings cdp.segment_members up to date) or immediate (every writing transaction updates them before it commits)';
COMMENT ON COLUMN cdp.segments.member_count IS
    'How many rows cdp.segment_members holds for the segment; NULL before the first refresh';
COMMENT ON COLUMN cdp.segments.slug IS 'Segment name';
COMMENT ON COLUMN cdp.segments.title IS 'Human-readable name';
COMMENT ON COLUMN cdp.segments.description IS 'Free text, or NULL';
COMMENT ON COLUMN cdp.segments.definition IS 'The condition over contacts, a cdp.segment';
COMMENT ON COLUMN cdp.segments.created_at IS 'When the segment was saved';
COMMENT ON COLUMN cdp.segments.updated_at IS 'When the segment last changed';
COMMENT ON COLUMN cdp.segments.refreshed_at IS
    'When cdp.refresh_segment (or the first evaluation of an immediate segment) last ran; NULL if never';

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
    SELECT string_agg(u, ', ') INTO users
      FROM (SELECT * FROM cdp_internal.segments_using(kind, name)
            UNION ALL SELECT * FROM cdp_internal.views_using(kind, name)) x(u);
    IF users IS NOT NULL THEN
        RAISE EXCEPTION 'cannot drop % because it is used', what
            USING ERRCODE = '2BP01', DETAIL = format('Used by %s.', users),
                  HINT = 'Drop or change those first.';
    END IF;
END
$$;
COMMENT ON FUNCTION cdp_internal.refuse_if_used(text, text, text) IS
    'Raises 2BP01 naming the saved segments and views that use a thing';

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
-- PL/pgSQL: Citus cannot plan the parameterised query of an SQL function
CREATE FUNCTION cdp_internal.segment_profile_type(slug text) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT p.object_type FROM cdp.profiles p WHERE p.slug = segment_profile_type.slug);
END
$$;
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
-- The compiler's catalog lookups and whatever runs compiled SQL do so with
-- jit = off: a definition is many small statements and expressions, and JIT
-- compiling a few hundred of them takes seconds (an immediate segment would
-- charge that to every write; segment_membership.c turns it off there).
CREATE FUNCTION cdp_internal.compile_segment(definition cdp.segment, at text,
                                             per_contact boolean DEFAULT false, self text DEFAULT '')
RETURNS text
LANGUAGE c STABLE
SET jit = off
AS 'MODULE_PATHNAME', 'cdp_segment_compile';
COMMENT ON FUNCTION cdp_internal.compile_segment(cdp.segment, text, boolean, text) IS
    'Checks a definition against the catalog and compiles it to SQL; per_contact adds c.id = $2';

CREATE FUNCTION cdp_internal.explain_segment(definition cdp.segment, contact bigint, at timestamptz, self text)
RETURNS TABLE(node integer, depth integer, condition text, result boolean, detail text)
LANGUAGE c STABLE
SET jit = off
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
SET jit = off
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
SET jit = off
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
SET jit = off
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
SET jit = off
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
SET jit = off
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
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
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
END
$$;
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
    PERFORM cdp_internal.segment_changed(slug);
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
    -- Views embed the compiled SQL of their segment and of what it includes.
    IF definition IS NOT NULL THEN
        PERFORM cdp_internal.regenerate_segment_views(slug);
    END IF;
    IF definition IS NOT NULL OR refresh IS NOT NULL THEN
        PERFORM cdp_internal.segment_changed(slug);
    END IF;
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
COMMENT ON FUNCTION cdp.drop_segment(text) IS 'Drops a saved segment; refused while another segment or a view uses it';
