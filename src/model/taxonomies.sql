-- taxonomies.sql
--   Taxonomies (hierarchical terms, restricted to object types) and tags (global,
--   hierarchical, created on first use), and their assignments to contacts,
--   organizations and documents.

CREATE TABLE cdp.taxonomies (
    slug         text PRIMARY KEY
                 CONSTRAINT taxonomies_slug_format CHECK (slug ~ '^[a-z][a-z0-9_]{0,62}$'),
    title        text NOT NULL,
    object_types text[] NOT NULL
                 CONSTRAINT taxonomies_object_types_known
                 CHECK (cardinality(object_types) > 0 AND object_types <@ ARRAY['contact', 'organization', 'document'])
);
COMMENT ON TABLE cdp.taxonomies IS 'Taxonomies: hierarchical vocabularies, each allowed for some object types';
COMMENT ON COLUMN cdp.taxonomies.slug IS 'Taxonomy name';
COMMENT ON COLUMN cdp.taxonomies.title IS 'Human-readable name';
COMMENT ON COLUMN cdp.taxonomies.object_types IS
    'Where its terms may be assigned: contact, organization and/or document';

CREATE TABLE cdp.terms (
    id        bigserial PRIMARY KEY,
    taxonomy  text NOT NULL REFERENCES cdp.taxonomies (slug) ON DELETE CASCADE,
    slug      text NOT NULL,
    title     text NOT NULL,
    parent_id bigint REFERENCES cdp.terms (id) ON DELETE CASCADE,
    path      text NOT NULL,
    CONSTRAINT terms_path_key UNIQUE (taxonomy, path)
);
CREATE INDEX terms_parent_idx ON cdp.terms (parent_id);
COMMENT ON TABLE cdp.terms IS 'Terms of taxonomies; path is the slugs from the root joined by / (sports/football)';
COMMENT ON COLUMN cdp.terms.id IS 'Term id';
COMMENT ON COLUMN cdp.terms.taxonomy IS 'The taxonomy of the term';
COMMENT ON COLUMN cdp.terms.slug IS 'The term''s own slug (the last part of path)';
COMMENT ON COLUMN cdp.terms.title IS 'Human-readable name';
COMMENT ON COLUMN cdp.terms.parent_id IS 'The parent term; NULL at the root of its taxonomy';
COMMENT ON COLUMN cdp.terms.path IS
    'The slugs from the root joined by / (sports/football), unique in the taxonomy';

CREATE TABLE cdp.tags (
    id        bigserial PRIMARY KEY,
    slug      text NOT NULL UNIQUE,
    title     text NOT NULL CONSTRAINT tags_title_no_slash CHECK (strpos(title, '/') = 0),
    parent_id bigint REFERENCES cdp.tags (id) ON DELETE CASCADE,
    path      text NOT NULL
);
CREATE INDEX tags_parent_idx ON cdp.tags (parent_id);
COMMENT ON TABLE cdp.tags IS
    'Global hierarchical tags; path is the titles joined by / (Technology/AI); slug is cdp_internal.tag_slug(path), unique';
COMMENT ON COLUMN cdp.tags.id IS 'Tag id';
COMMENT ON COLUMN cdp.tags.slug IS 'cdp_internal.tag_slug(path): how the API names the tag (unique)';
COMMENT ON COLUMN cdp.tags.title IS 'The tag''s own title (the last part of path; no /)';
COMMENT ON COLUMN cdp.tags.parent_id IS 'The parent tag; NULL at a root';
COMMENT ON COLUMN cdp.tags.path IS 'The titles from the root joined by / (Technology/AI)';

CREATE TABLE cdp.contact_terms (
    contact_id bigint NOT NULL REFERENCES cdp.contacts (id) ON DELETE CASCADE,
    term_id    bigint NOT NULL REFERENCES cdp.terms (id) ON DELETE CASCADE,
    since      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contact_id, term_id)
);
CREATE INDEX contact_terms_term_idx ON cdp.contact_terms (term_id);
CREATE TABLE cdp.organization_terms (
    organization_id bigint NOT NULL REFERENCES cdp.organizations (id) ON DELETE CASCADE,
    term_id         bigint NOT NULL REFERENCES cdp.terms (id) ON DELETE CASCADE,
    since           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, term_id)
);
CREATE INDEX organization_terms_term_idx ON cdp.organization_terms (term_id);
CREATE TABLE cdp.document_terms (
    document_id bigint NOT NULL REFERENCES cdp.documents (id) ON DELETE CASCADE,
    term_id     bigint NOT NULL REFERENCES cdp.terms (id) ON DELETE CASCADE,
    since       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, term_id)
);
CREATE INDEX document_terms_term_idx ON cdp.document_terms (term_id);
CREATE TABLE cdp.contact_tags (
    contact_id bigint NOT NULL REFERENCES cdp.contacts (id) ON DELETE CASCADE,
    tag_id     bigint NOT NULL REFERENCES cdp.tags (id) ON DELETE CASCADE,
    since      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contact_id, tag_id)
);
CREATE INDEX contact_tags_tag_idx ON cdp.contact_tags (tag_id);
CREATE TABLE cdp.organization_tags (
    organization_id bigint NOT NULL REFERENCES cdp.organizations (id) ON DELETE CASCADE,
    tag_id          bigint NOT NULL REFERENCES cdp.tags (id) ON DELETE CASCADE,
    since           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, tag_id)
);
CREATE INDEX organization_tags_tag_idx ON cdp.organization_tags (tag_id);
CREATE TABLE cdp.document_tags (
    document_id bigint NOT NULL REFERENCES cdp.documents (id) ON DELETE CASCADE,
    tag_id      bigint NOT NULL REFERENCES cdp.tags (id) ON DELETE CASCADE,
    since       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, tag_id)
);
CREATE INDEX document_tags_tag_idx ON cdp.document_tags (tag_id);
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

SELECT pg_catalog.pg_extension_config_dump('cdp.taxonomies', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.terms', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.terms_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.tags', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.tags_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.contact_terms', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.organization_terms', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.document_terms', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.contact_tags', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.organization_tags', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.document_tags', '');

-- The parts of a path (a/b/c), trimmed; 22023 on an empty part.
CREATE FUNCTION cdp_internal.path_parts(path text, what text) RETURNS text[]
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

-- The slug of a tag path: lower case, runs of other characters as -, parts joined by /.
CREATE FUNCTION cdp_internal.tag_slug(path text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT string_agg(coalesce(nullif(btrim(regexp_replace(lower(btrim(p)), '[^[:alnum:]]+', '-', 'g'), '-'), ''), '-'),
                          '/' ORDER BY n)
          FROM unnest(string_to_array(path, '/')) WITH ORDINALITY AS x(p, n));
COMMENT ON FUNCTION cdp_internal.tag_slug(text) IS
    'Slug of a tag path (Technology/AI -> technology/ai); tags are found by slug, so VIP and vip are one tag';

CREATE FUNCTION cdp.define_taxonomy(slug text, object_types text[], title text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    types text[];
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
    -- the array first: Citus takes no subquery inside an INSERT
    types := ARRAY(SELECT DISTINCT o FROM unnest(object_types) o ORDER BY o);
    INSERT INTO cdp.taxonomies AS t (slug, title, object_types)
    VALUES (slug, coalesce(title, initcap(replace(slug, '_', ' '))), types)
    ON CONFLICT ON CONSTRAINT taxonomies_pkey DO UPDATE
        SET title = coalesce(define_taxonomy.title, t.title), object_types = EXCLUDED.object_types;
END
$$;
COMMENT ON FUNCTION cdp.define_taxonomy(text, text[], text) IS
    'Defines a taxonomy (or changes its object types and title); only those object types may be classified with it';

-- The slug of one part of a term path: a part that is already a slug is kept
-- (sports, team_sports); otherwise lower case with runs of other characters
-- as -, as tags are (Sports -> sports, Rock & Roll -> rock-roll).
CREATE FUNCTION cdp_internal.term_slug(part text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN part ~ '^[a-z0-9][a-z0-9_-]*$' THEN part
            ELSE btrim(regexp_replace(lower(part), '[^a-z0-9_-]+', '-', 'g'), '-') END;
COMMENT ON FUNCTION cdp_internal.term_slug(text) IS
    'Slug of one part of a term path (Sports -> sports); a part that is already a slug is kept';

CREATE FUNCTION cdp.add_term(taxonomy text, path text, title text DEFAULT NULL)
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

-- The id of a term; 42704 if unknown.
CREATE FUNCTION cdp_internal.term_id(taxonomy text, path text) RETURNS bigint
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

-- Check an object reference and return the id to store: a contact goes
-- through the one contact lock (its survivor, locked, is returned).
CREATE FUNCTION cdp_internal.object_id(object_type text, id bigint) RETURNS bigint
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

CREATE FUNCTION cdp.classify(object_type text, id bigint, taxonomy text, path text)
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
        IF cdp_internal.citus_mode() THEN
            INSERT INTO cdp.document_terms (contact_id, document_id, term_id)
            VALUES (cdp_internal.document_contact(obj), obj, term) ON CONFLICT DO NOTHING;
        ELSE
            INSERT INTO cdp.document_terms (document_id, term_id) VALUES (obj, term) ON CONFLICT DO NOTHING;
        END IF;
    END CASE;
END
$$;
COMMENT ON FUNCTION cdp.classify(text, bigint, text, text) IS
    'Assigns a taxonomy term to a contact, organization or document; refused if the taxonomy is not allowed for it';

CREATE FUNCTION cdp.unclassify(object_type text, id bigint, taxonomy text, path text)
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

-- Find or create a tag by path (and its ancestors); returns its id.
CREATE FUNCTION cdp_internal.ensure_tag(path text) RETURNS bigint
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

CREATE FUNCTION cdp.tag(object_type text, id bigint, VARIADIC paths text[])
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
    -- counted from RETURNING: Citus's row count of an INSERT ... SELECT
    -- includes the rows ON CONFLICT skipped
    CASE object_type
    WHEN 'contact' THEN
        WITH i AS (INSERT INTO cdp.contact_tags (contact_id, tag_id) SELECT DISTINCT obj, t FROM unnest(tags) t
                   ON CONFLICT DO NOTHING RETURNING 1)
        SELECT count(*) INTO n FROM i;
    WHEN 'organization' THEN
        WITH i AS (INSERT INTO cdp.organization_tags (organization_id, tag_id) SELECT DISTINCT obj, t FROM unnest(tags) t
                   ON CONFLICT DO NOTHING RETURNING 1)
        SELECT count(*) INTO n FROM i;
    ELSE
        IF cdp_internal.citus_mode() THEN
            -- on Citus a document's rows carry its contact (distribute.sql)
            WITH i AS (INSERT INTO cdp.document_tags (contact_id, document_id, tag_id)
                       SELECT DISTINCT cdp_internal.document_contact(obj), obj, t FROM unnest(tags) t
                       ON CONFLICT DO NOTHING RETURNING 1)
            SELECT count(*) INTO n FROM i;
        ELSE
            WITH i AS (INSERT INTO cdp.document_tags (document_id, tag_id) SELECT DISTINCT obj, t FROM unnest(tags) t
                       ON CONFLICT DO NOTHING RETURNING 1)
            SELECT count(*) INTO n FROM i;
        END IF;
    END CASE;
    RETURN n;
END
$$;
COMMENT ON FUNCTION cdp.tag(text, bigint, text[]) IS
    'Tags a contact, organization or document with tag paths (Technology/AI), creating tags on first use; returns how many were new';

CREATE FUNCTION cdp.untag(object_type text, id bigint, VARIADIC paths text[])
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
