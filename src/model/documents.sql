-- documents.sql
--   Document templates (typed tables cdp_data.document_<slug>) and documents,
--   which belong to a contact (and optionally an organization).

CREATE TABLE cdp.documents (
    id              bigserial PRIMARY KEY,
    template        text NOT NULL REFERENCES cdp.document_templates (slug),
    contact_id      bigint REFERENCES cdp.contacts (id) ON DELETE CASCADE,
    organization_id bigint REFERENCES cdp.organizations (id),
    parent_id       bigint REFERENCES cdp.documents (id) ON DELETE SET NULL,
    title           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    archived_at     timestamptz,
    CONSTRAINT documents_have_owner CHECK (contact_id IS NOT NULL OR organization_id IS NOT NULL)
);
CREATE INDEX documents_contact_idx ON cdp.documents (contact_id, template);
CREATE INDEX documents_organization_idx ON cdp.documents (organization_id) WHERE organization_id IS NOT NULL;
CREATE INDEX documents_template_idx ON cdp.documents (template);
CREATE INDEX documents_parent_idx ON cdp.documents (parent_id) WHERE parent_id IS NOT NULL;
COMMENT ON TABLE cdp.documents IS
    'Documents: structured records of a template, owned by a contact (and optionally an organization); values in cdp_data.document_<template>';
COMMENT ON COLUMN cdp.documents.id IS 'Document id, the key of its row in cdp_data.document_<template>';
COMMENT ON COLUMN cdp.documents.template IS 'The document template';
COMMENT ON COLUMN cdp.documents.contact_id IS
    'The contact that owns the document, or NULL for an organization''s document';
COMMENT ON COLUMN cdp.documents.organization_id IS 'The organization the document belongs to, or NULL';
COMMENT ON COLUMN cdp.documents.parent_id IS
    'The parent document (for example an order of a line item), or NULL';
COMMENT ON COLUMN cdp.documents.title IS 'Display title, or NULL';
COMMENT ON COLUMN cdp.documents.created_at IS 'When the document was created';
COMMENT ON COLUMN cdp.documents.updated_at IS 'When the document last changed';
COMMENT ON COLUMN cdp.documents.archived_at IS 'When the document was archived; NULL if live';

SELECT pg_catalog.pg_extension_config_dump('cdp.documents', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.documents_id_seq', '');

CREATE FUNCTION cdp.define_document_template(slug text, attributes jsonb, owner text DEFAULT 'contact',
                                             title text DEFAULT NULL)
RETURNS regclass
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tbl regclass;
BEGIN
    IF slug IS NULL OR slug !~ '^[a-z][a-z0-9_]{0,53}$' THEN
        RAISE EXCEPTION 'invalid document template slug: %', coalesce(quote_literal(slug), 'NULL')
            USING ERRCODE = '22023', DETAIL = 'Template slugs match ^[a-z][a-z0-9_]{0,53}$ (the table is cdp_data.document_<slug>).';
    END IF;
    IF owner IS NULL OR owner NOT IN ('contact', 'organization') THEN
        RAISE EXCEPTION 'invalid owner of document template "%": %', slug, coalesce(quote_literal(owner), 'NULL')
            USING ERRCODE = '22023', DETAIL = 'Documents belong to a contact or an organization.';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('cdp.document_template:' || slug));
    IF EXISTS (SELECT 1 FROM cdp.document_templates t WHERE t.slug = define_document_template.slug) THEN
        RAISE EXCEPTION 'document template "%" already exists', slug USING ERRCODE = '42710';
    END IF;
    tbl := cdp_internal.create_data_table('document_template', slug, 'document_' || slug, 'document_id',
                                          'cdp.documents', attributes);
    EXECUTE format('COMMENT ON TABLE %s IS %L', tbl, format('Documents of template "%s" (cdp)', coalesce(title, slug)));
    INSERT INTO cdp.document_templates (slug, title, owner, data_table)
    VALUES (slug, coalesce(title, initcap(replace(slug, '_', ' '))), owner, tbl);
    PERFORM cdp_internal.rebuild_data_table('document_template', slug, tbl, 'document_id');
    RETURN tbl;
END
$$;
COMMENT ON FUNCTION cdp.define_document_template(text, jsonb, text, text) IS
    'Defines a document template: a typed table cdp_data.document_<slug> with a column per attribute';

CREATE FUNCTION cdp.alter_document_template(slug text, add jsonb DEFAULT NULL, drop text[] DEFAULT NULL)
RETURNS regclass
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t cdp.document_templates;
BEGIN
    SELECT * INTO t FROM cdp.document_templates x WHERE x.slug = alter_document_template.slug FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM cdp_internal.not_null(slug, 'document template slug');
        RAISE EXCEPTION 'document template "%" does not exist', slug USING ERRCODE = '42704';
    END IF;
    PERFORM cdp_internal.alter_data_table('document_template', slug, t.data_table, 'document_id', add, drop);
    RETURN t.data_table;
END
$$;
COMMENT ON FUNCTION cdp.alter_document_template(text, jsonb, text[]) IS
    'Adds attributes to (without rewriting the table) and drops attributes from a document template';

CREATE FUNCTION cdp.drop_document_template(slug text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t cdp.document_templates;
BEGIN
    SELECT * INTO t FROM cdp.document_templates x WHERE x.slug = drop_document_template.slug FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM cdp_internal.not_null(slug, 'document template slug');
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

CREATE FUNCTION cdp.create_document(template text, contact_id bigint, "values" jsonb, title text DEFAULT NULL,
                                    organization_id bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t cdp.document_templates;
    d cdp_internal.data_tables;
    c bigint;
    doc bigint;
BEGIN
    SELECT * INTO t FROM cdp.document_templates x WHERE x.slug = create_document.template;
    IF NOT FOUND THEN
        PERFORM cdp_internal.not_null(template, 'document template slug');
        RAISE EXCEPTION 'document template "%" does not exist', template USING ERRCODE = '42704';
    END IF;
    IF contact_id IS NOT NULL THEN
        c := cdp_internal.lock_contact(contact_id);
    ELSIF t.owner = 'contact' THEN
        RAISE EXCEPTION 'a document of template "%" needs a contact', template USING ERRCODE = '22023';
    END IF;
    IF organization_id IS NOT NULL THEN
        PERFORM 1 FROM cdp.organizations o WHERE o.id = create_document.organization_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'organization % does not exist', organization_id USING ERRCODE = '42704';
        END IF;
    ELSIF t.owner = 'organization' THEN
        RAISE EXCEPTION 'a document of template "%" needs an organization', template USING ERRCODE = '22023';
    END IF;
    -- on Citus an organization's documents are stored with contact 0
    IF c IS NULL AND cdp_internal.citus_mode() THEN
        c := 0;
    END IF;
    INSERT INTO cdp.documents (template, contact_id, organization_id, title)
    VALUES (t.slug, c, organization_id, title)
    RETURNING id INTO doc;
    SELECT * INTO d FROM cdp_internal.data_tables x WHERE x.owner_type = 'document_template' AND x.slug = t.slug;
    PERFORM cdp_internal.write_values_with(d, doc, coalesce("values", '{}'), NULL);
    RETURN doc;
END
$$;
COMMENT ON FUNCTION cdp.create_document(text, bigint, jsonb, text, bigint) IS
    'Creates a document of a template for a contact (and optionally an organization), validated against the template; returns its id';

CREATE FUNCTION cdp.update_document(id bigint, "values" jsonb, title text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tpl text;
    d cdp_internal.data_tables;
BEGIN
    PERFORM cdp.begin_write();  -- a document's rows are written on Citus's workers (citus.c)
    UPDATE cdp.documents x SET updated_at = now(), title = coalesce(update_document.title, x.title)
     WHERE x.id = update_document.id
    RETURNING x.template INTO tpl;
    IF NOT FOUND THEN
        PERFORM cdp_internal.not_null(id, 'document id');
        RAISE EXCEPTION 'document % does not exist', id USING ERRCODE = '42704';
    END IF;
    SELECT * INTO d FROM cdp_internal.data_tables x WHERE x.owner_type = 'document_template' AND x.slug = tpl;
    PERFORM cdp_internal.write_values_with(d, id, coalesce("values", '{}'), NULL);
END
$$;
COMMENT ON FUNCTION cdp.update_document(bigint, jsonb, text) IS
    'Updates a document''s values (a partial update keeps other attributes) and optionally its title';
