-- 0.2.0-after.sql
--   The last part of the 0.1.0 -> 0.2.0 upgrade, once every function exists:
--   new triggers of the identifier, identity and model sources, and what
--   tables defined under 0.1.0 gain.

CREATE TRIGGER identifier_kinds_keep_builtin_settings AFTER UPDATE ON cdp.identifier_kinds
    FOR EACH ROW WHEN (pg_trigger_depth() < 1)
    EXECUTE FUNCTION cdp_internal.keep_builtin_kind_settings();
CREATE TRIGGER builtin_kind_settings_apply AFTER INSERT ON cdp_internal.builtin_kind_settings
    FOR EACH ROW WHEN (pg_trigger_depth() < 1)
    EXECUTE FUNCTION cdp_internal.apply_builtin_kind_settings();
CREATE TRIGGER identifier_kinds_normalize_blocked
    BEFORE INSERT OR UPDATE ON cdp.identifier_kinds
    FOR EACH ROW EXECUTE FUNCTION cdp_internal.normalize_blocked_values();

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

-- 0.2.0 reads values strictly (JSON booleans and numbers, ISO 8601 dates) and
-- aliases its generated statements with names no attribute can take: the
-- upsert statements stored under 0.1.0 are generated again.
SELECT cdp_internal.rebuild_data_table(d.owner_type, d.slug, d.data_table, d.key_column)
  FROM cdp_internal.data_tables d ORDER BY d.owner_type, d.slug;

-- 0.2.0 comments every column of the tables defined under 0.1.0 and
-- describes those tables as they are (copied from the sources that make them).
COMMENT ON TABLE cdp.identifier_kinds IS
    'Kinds of identifiers that identity resolution matches on; lower priority is stronger';
COMMENT ON COLUMN cdp.identifier_kinds.normalizer IS
    'email, phone, uuid, oauth, text or anonymous: how values of the kind are normalised';
COMMENT ON COLUMN cdp.identifier_kinds.slugs IS
    'Allowed slugs of identifiers of the kind on one contact; always contains main';
COMMENT ON COLUMN cdp.identifier_kinds.max_per_contact IS
    'Most distinct values of the kind one contact may hold; NULL means unlimited';
COMMENT ON COLUMN cdp.identifier_kinds.priority IS
    'Lower is stronger: the weakest identifiers are dropped first when a limit is hit';
COMMENT ON COLUMN cdp.identifier_kinds.matchable IS
    'Whether equal values of the kind link records to the same contact';
COMMENT ON COLUMN cdp.identifier_kinds.blocked_values IS
    'Normalised values that never link anything (for example a shared test address)';
COMMENT ON COLUMN cdp.identifier_kinds.blocked_patterns IS
    'LIKE patterns over normalised values that never link anything';
COMMENT ON COLUMN cdp.identifier_kinds.kind IS
    'Name of the kind (a slug), the key of identifiers of the kind';
COMMENT ON COLUMN cdp.identifier_kinds.title IS 'Human-readable name of the kind';
COMMENT ON TABLE cdp.contacts IS
    'Unified contacts; a merged contact stays as a tombstone whose merged_into leads to the survivor';
COMMENT ON COLUMN cdp.contacts.type IS
    'Derived, never set directly (resolve, merges and update_contact recompute it; cdp.refresh_contact_type after manual edits): vendor if is_vendor; else ghost without a given or family name; else contact with a validated identifier of an email or phone kind; else lead with any email or phone identifier; else ghost';
COMMENT ON COLUMN cdp.contacts.merged_into IS
    'NULL for a live contact; for a tombstone, the live survivor it was merged into (repointed when the survivor is merged in turn, so it is never a chain)';
COMMENT ON COLUMN cdp.contacts.id IS
    'Contact id; after a merge, a tombstone id still leads to the survivor through merged_into';
COMMENT ON COLUMN cdp.contacts.given_name IS 'Given name, or NULL';
COMMENT ON COLUMN cdp.contacts.family_name IS 'Family name, or NULL';
COMMENT ON COLUMN cdp.contacts.is_vendor IS
    'Set by an administrator: the contact is a vendor (its type is then vendor)';
COMMENT ON COLUMN cdp.contacts.created_at IS 'When the contact was created';
COMMENT ON COLUMN cdp.contacts.updated_at IS
    'When the contact row (names, type, merged_into, archived_at) last changed';
COMMENT ON COLUMN cdp.contacts.last_seen_at IS
    'When resolve or track last saw one of its identifiers; NULL if never';
COMMENT ON COLUMN cdp.contacts.archived_at IS 'When the contact was archived (cdp.archive); NULL if live';
COMMENT ON TABLE cdp.identifiers IS
    'Normalised identifiers of contacts; each (kind, value) belongs to exactly one contact';
COMMENT ON COLUMN cdp.identifiers.slug IS
    'Role of the identifier among its kind on the contact (main, work, ...); NULL when cleared by a merge';
COMMENT ON COLUMN cdp.identifiers.id IS 'Identifier id';
COMMENT ON COLUMN cdp.identifiers.contact_id IS
    'The contact holding the value (always a live contact: a merge moves identifiers to the survivor)';
COMMENT ON COLUMN cdp.identifiers.kind IS 'The identifier kind (cdp.identifier_kinds.kind)';
COMMENT ON COLUMN cdp.identifiers.value IS
    'The value normalised by the kind''s normalizer: what matching compares';
COMMENT ON COLUMN cdp.identifiers.raw_value IS 'The value as it first came, before normalisation';
COMMENT ON COLUMN cdp.identifiers.source IS
    'Where the value first came from (the source argument of resolve or track)';
COMMENT ON COLUMN cdp.identifiers.is_validated IS
    'Whether the value was confirmed (for example a verified email); a validated email or phone makes a named contact a contact rather than a lead';
COMMENT ON COLUMN cdp.identifiers.validation_method IS
    'How the value was confirmed, as the caller said; NULL if not validated';
COMMENT ON COLUMN cdp.identifiers.validated_at IS 'When the value was confirmed; NULL if not validated';
COMMENT ON COLUMN cdp.identifiers.outreach IS 'Whether the person agreed to be contacted at this value';
COMMENT ON COLUMN cdp.identifiers.first_seen_at IS 'When the value was first stored';
COMMENT ON COLUMN cdp.identifiers.last_seen_at IS 'When resolve or track last saw the value';
COMMENT ON TABLE cdp.merges IS
    'Every merge, with the identifier that linked the contacts (evidence) and a snapshot to undo it';
COMMENT ON COLUMN cdp.merges.id IS 'Merge id (the argument of cdp.unmerge)';
COMMENT ON COLUMN cdp.merges.survivor_id IS 'The contact that absorbed the other and lives on';
COMMENT ON COLUMN cdp.merges.absorbed_id IS
    'The contact absorbed: now a tombstone whose merged_into leads to the survivor';
COMMENT ON COLUMN cdp.merges.reason IS
    'Why: resolve (a shared identifier), or the reason given to cdp.merge_contacts (manual by default)';
COMMENT ON COLUMN cdp.merges.evidence IS
    'The identifier that linked the two contacts, as JSON {"kind": .., "value": ..} (the normalised value); NULL for cdp.merge_contacts';
COMMENT ON COLUMN cdp.merges.source IS
    'The source of the record whose resolve made the merge; NULL for cdp.merge_contacts';
COMMENT ON COLUMN cdp.merges.merged_at IS 'When the merge was made';
COMMENT ON COLUMN cdp.merges.undone_at IS 'When cdp.unmerge undid the merge; NULL while it stands';
COMMENT ON COLUMN cdp.merges.snapshot IS
    'What unmerge needs to restore the absorbed contact: {"identifiers": [{"id", "slug"}] it had, "contact": {"survivor": the survivor''s names before, "repointed": tombstones that led to the absorbed contact}, "model": its profiles, tags, terms, memberships, documents and events moved}';
COMMENT ON TABLE cdp.identity_conflicts IS
    'Links that a merge rule refused: invalid and blocked values, max_per_contact limits, merge blocks';
COMMENT ON COLUMN cdp.identity_conflicts.value IS
    'The normalised value; for rule invalid, the value as it came (the normaliser refused it)';
COMMENT ON COLUMN cdp.identity_conflicts.reason IS
    'For rule invalid: why the normaliser refused the value';
COMMENT ON COLUMN cdp.identity_conflicts.id IS 'Conflict id';
COMMENT ON COLUMN cdp.identity_conflicts.at IS 'When the link was refused';
COMMENT ON COLUMN cdp.identity_conflicts.rule IS
    'The rule that refused the link: invalid (the normaliser refused the value), blocked (a blocked value or pattern of the kind), limit (max_per_contact of the kind), merge_block (a merge-blocked pair)';
COMMENT ON COLUMN cdp.identity_conflicts.kind IS 'The identifier kind of the value';
COMMENT ON COLUMN cdp.identity_conflicts.contact_id IS
    'The contact that holds the value after the resolve (the survivor if its holder was merged into the record''s contact); NULL when no contact holds it: always for invalid, and for blocked or limit when the value was stored nowhere. For merge_block, one side of the blocked pair';
COMMENT ON COLUMN cdp.identity_conflicts.other_contact_id IS
    'The contact the record resolved to, which the refused value was not linked to (for merge_block, the other side of the blocked pair; for limit, the contact that would have exceeded max_per_contact); NULL when the record made no contact because all its values were invalid or blocked';
COMMENT ON COLUMN cdp.identity_conflicts.source IS 'The source of the record that brought the value';
COMMENT ON TABLE cdp.merge_blocks IS
    'Pairs of contacts that are never merged (contact_a < contact_b); unmerge adds one';
COMMENT ON COLUMN cdp.merge_blocks.contact_a IS 'The lower contact id of the pair';
COMMENT ON COLUMN cdp.merge_blocks.contact_b IS 'The higher contact id of the pair';
COMMENT ON COLUMN cdp.merge_blocks.reason IS
    'Why the pair must stay apart (unmerge records the merge it undid)';
COMMENT ON COLUMN cdp.merge_blocks.created_at IS 'When the block was made';
COMMENT ON TABLE cdp.suppressions IS
    'Salted hashes of the identifiers of forgotten people; resolving one of them is refused';
COMMENT ON COLUMN cdp.suppressions.kind IS 'The identifier kind of the forgotten value';
COMMENT ON COLUMN cdp.suppressions.value_hash IS
    'sha256 of the salt (cdp_internal.secrets) and the kind and normalised value';
COMMENT ON COLUMN cdp.suppressions.created_at IS 'When the value was suppressed (cdp.forget_contact)';
COMMENT ON TABLE cdp_internal.secrets IS
    'The salt of the hashes in cdp.suppressions, made on first use; one row';
COMMENT ON COLUMN cdp_internal.secrets.singleton IS 'Always true: the table holds at most one row';
COMMENT ON COLUMN cdp_internal.secrets.salt IS 'Random bytes prefixed to every hashed identifier';
COMMENT ON TABLE cdp.profiles IS
    'Profiles: named sets of typed attributes of contacts or organizations, each stored in its own cdp_data table';
COMMENT ON COLUMN cdp.profiles.data_table IS 'The generated table cdp_data.profile_<slug>';
COMMENT ON COLUMN cdp.profiles.slug IS 'Profile name, the argument of set_profile';
COMMENT ON COLUMN cdp.profiles.title IS 'Human-readable name';
COMMENT ON COLUMN cdp.profiles.object_type IS 'contact or organization: what the profile describes';
COMMENT ON COLUMN cdp.profiles.description IS 'Free text, or NULL';
COMMENT ON COLUMN cdp.profiles.created_at IS 'When the profile was defined';
COMMENT ON TABLE cdp.document_templates IS
    'Document templates: typed attributes of a family of documents, stored in cdp_data.document_<slug>';
COMMENT ON COLUMN cdp.document_templates.owner IS
    'contact: every document belongs to a contact; organization: every document belongs to an organization';
COMMENT ON COLUMN cdp.document_templates.slug IS 'Template name';
COMMENT ON COLUMN cdp.document_templates.title IS 'Human-readable name';
COMMENT ON COLUMN cdp.document_templates.description IS 'Free text, or NULL';
COMMENT ON COLUMN cdp.document_templates.data_table IS 'The generated table cdp_data.document_<slug>';
COMMENT ON COLUMN cdp.document_templates.created_at IS 'When the template was defined';
COMMENT ON TABLE cdp.attributes IS
    'Typed attributes of profiles and document templates; each is a column of the generated table';
COMMENT ON COLUMN cdp.attributes.validations IS
    'min, max, min_length, max_length, pattern, options, decimals; each is a named CHECK constraint';
COMMENT ON COLUMN cdp.attributes.owner_type IS 'profile or document_template';
COMMENT ON COLUMN cdp.attributes.owner_slug IS 'The slug of the profile or document template';
COMMENT ON COLUMN cdp.attributes.slug IS
    'Attribute name: the column of the generated table and the JSON key of values';
COMMENT ON COLUMN cdp.attributes.title IS
    'Human-readable name (also the column comment of the generated table)';
COMMENT ON COLUMN cdp.attributes.data_type IS
    'text, integer, number, boolean, date, datetime, time, email, phone, location, media or json';
COMMENT ON COLUMN cdp.attributes.is_array IS 'Whether the attribute holds an array of values';
COMMENT ON COLUMN cdp.attributes.is_required IS 'Whether the column is NOT NULL';
COMMENT ON COLUMN cdp.attributes.position IS
    'Order of the attribute (and of its column) in its profile or template';
COMMENT ON TABLE cdp_internal.data_tables IS
    'Generated statements for the typed tables of profiles and document templates';
COMMENT ON COLUMN cdp_internal.data_tables.messages IS
    '{"label": .., "constraints": {name: {"attribute", "validation", "detail"}}}: what errors of the upsert say';
COMMENT ON COLUMN cdp_internal.data_tables.generation IS
    'New at every rebuild: set_profile keeps the statement per backend until it changes';
COMMENT ON COLUMN cdp_internal.data_tables.owner_type IS 'profile or document_template';
COMMENT ON COLUMN cdp_internal.data_tables.slug IS 'The slug of the profile or document template';
COMMENT ON COLUMN cdp_internal.data_tables.data_table IS 'The generated cdp_data table';
COMMENT ON COLUMN cdp_internal.data_tables.key_column IS
    'The generated table''s key column (contact_id, organization_id or document_id)';
COMMENT ON COLUMN cdp_internal.data_tables.attribute_slugs IS 'The attributes, in position order';
COMMENT ON COLUMN cdp_internal.data_tables.upsert_sql IS
    'The generated statement that writes a JSON object of values into the table';
COMMENT ON TABLE cdp.organizations IS
    'Organizations (companies, divisions, departments) in a tree; archived_at set means archived';
COMMENT ON COLUMN cdp.organizations.id IS 'Organization id';
COMMENT ON COLUMN cdp.organizations.slug IS 'Organization name as the API takes it (unique)';
COMMENT ON COLUMN cdp.organizations.name IS 'Display name';
COMMENT ON COLUMN cdp.organizations.parent_id IS 'The parent organization; NULL at a root';
COMMENT ON COLUMN cdp.organizations.created_at IS 'When the organization was created';
COMMENT ON COLUMN cdp.organizations.updated_at IS 'When the organization last changed';
COMMENT ON COLUMN cdp.organizations.archived_at IS 'When the organization was archived; NULL if live';
COMMENT ON TABLE cdp.organization_members IS
    'Contacts that belong to organizations, with their role; at most one primary organization per contact';
COMMENT ON COLUMN cdp.organization_members.contact_id IS 'The member contact';
COMMENT ON COLUMN cdp.organization_members.organization_id IS 'The organization';
COMMENT ON COLUMN cdp.organization_members.role IS 'The member''s role (free text), or NULL';
COMMENT ON COLUMN cdp.organization_members.is_primary IS
    'Whether this is the contact''s primary organization (at most one per contact)';
COMMENT ON COLUMN cdp.organization_members.since IS 'When the contact became a member';
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
COMMENT ON TABLE cdp.taxonomies IS 'Taxonomies: hierarchical vocabularies, each allowed for some object types';
COMMENT ON COLUMN cdp.taxonomies.slug IS 'Taxonomy name';
COMMENT ON COLUMN cdp.taxonomies.title IS 'Human-readable name';
COMMENT ON COLUMN cdp.taxonomies.object_types IS
    'Where its terms may be assigned: contact, organization and/or document';
COMMENT ON TABLE cdp.terms IS 'Terms of taxonomies; path is the slugs from the root joined by / (sports/football)';
COMMENT ON COLUMN cdp.terms.id IS 'Term id';
COMMENT ON COLUMN cdp.terms.taxonomy IS 'The taxonomy of the term';
COMMENT ON COLUMN cdp.terms.slug IS 'The term''s own slug (the last part of path)';
COMMENT ON COLUMN cdp.terms.title IS 'Human-readable name';
COMMENT ON COLUMN cdp.terms.parent_id IS 'The parent term; NULL at the root of its taxonomy';
COMMENT ON COLUMN cdp.terms.path IS
    'The slugs from the root joined by / (sports/football), unique in the taxonomy';
COMMENT ON TABLE cdp.tags IS
    'Global hierarchical tags; path is the titles joined by / (Technology/AI); slug is cdp_internal.tag_slug(path), unique';
COMMENT ON COLUMN cdp.tags.id IS 'Tag id';
COMMENT ON COLUMN cdp.tags.slug IS 'cdp_internal.tag_slug(path): how the API names the tag (unique)';
COMMENT ON COLUMN cdp.tags.title IS 'The tag''s own title (the last part of path; no /)';
COMMENT ON COLUMN cdp.tags.parent_id IS 'The parent tag; NULL at a root';
COMMENT ON COLUMN cdp.tags.path IS 'The titles from the root joined by / (Technology/AI)';
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
COMMENT ON TABLE cdp.events IS
    'Events of contacts (what they did), recorded by cdp.track';
COMMENT ON COLUMN cdp.events.id IS 'Event id';
COMMENT ON COLUMN cdp.events.contact_id IS 'The contact that did it (a merge moves events to the survivor)';
COMMENT ON COLUMN cdp.events.name IS 'Event name (purchase, page_view, ...)';
COMMENT ON COLUMN cdp.events.occurred_at IS 'When it happened, as the caller said (default: when recorded)';
COMMENT ON COLUMN cdp.events.received_at IS 'When cdp recorded it';
COMMENT ON COLUMN cdp.events.properties IS 'Event details, a JSON object';
COMMENT ON COLUMN cdp.events.source IS 'Where the event came from, as the caller said';
COMMENT ON COLUMN cdp_internal.builtin_kind_settings.kind IS
    'A built-in kind (external_id, oauth, email, phone, uuid, anonymous)';
COMMENT ON COLUMN cdp_internal.builtin_kind_settings.title IS 'The kind''s title as the administrator set it';
COMMENT ON COLUMN cdp_internal.builtin_kind_settings.slugs IS
    'The kind''s allowed slugs as the administrator set them';
COMMENT ON COLUMN cdp_internal.builtin_kind_settings.max_per_contact IS
    'The kind''s max_per_contact as the administrator set it';
COMMENT ON COLUMN cdp_internal.builtin_kind_settings.priority IS
    'The kind''s priority as the administrator set it';
COMMENT ON COLUMN cdp_internal.builtin_kind_settings.matchable IS
    'The kind''s matchable as the administrator set it';
COMMENT ON COLUMN cdp_internal.builtin_kind_settings.blocked_values IS
    'The kind''s blocked_values as the administrator set them';
COMMENT ON COLUMN cdp_internal.builtin_kind_settings.blocked_patterns IS
    'The kind''s blocked_patterns as the administrator set them';
