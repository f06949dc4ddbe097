-- pgTAP contracts of the model: profiles, organizations, documents,
-- taxonomies, tags, events, archive, and what merges do to all of them.
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(195);
SET LOCAL client_min_messages = warning;

-- ---------------------------------------------------------------- objects
SELECT has_table('cdp', t, 'table cdp.' || t) FROM unnest(ARRAY['profiles', 'document_templates', 'attributes',
    'organizations', 'organization_members', 'documents', 'taxonomies', 'terms', 'tags', 'contact_terms',
    'organization_terms', 'document_terms', 'contact_tags', 'organization_tags', 'document_tags', 'events']) t;
SELECT is(count(*), 0::bigint, 'every model table is registered with pg_extension_config_dump')
  FROM unnest(ARRAY['cdp.profiles', 'cdp.document_templates', 'cdp.attributes', 'cdp.organizations',
    'cdp.organizations_id_seq', 'cdp.organization_members', 'cdp.documents', 'cdp.documents_id_seq', 'cdp.taxonomies',
    'cdp.terms', 'cdp.terms_id_seq', 'cdp.tags', 'cdp.tags_id_seq', 'cdp.contact_terms', 'cdp.organization_terms',
    'cdp.document_terms', 'cdp.contact_tags', 'cdp.organization_tags', 'cdp.document_tags', 'cdp.events',
    'cdp.events_id_seq', 'cdp_internal.data_tables']::regclass[]) t
 WHERE NOT t::oid = ANY ((SELECT extconfig FROM pg_extension WHERE extname = 'cdp')::oid[]);
SELECT is(count(*), 0::bigint, 'every model function has a comment')
  FROM pg_proc p
 WHERE p.pronamespace = 'cdp'::regnamespace
   AND p.proname IN ('define_profile', 'alter_profile', 'drop_profile', 'set_profile', 'remove_profile',
        'create_organization', 'move_organization', 'set_organization_profile', 'add_member', 'remove_member',
        'organization_tree', 'define_document_template', 'alter_document_template', 'drop_document_template',
        'create_document', 'update_document', 'define_taxonomy', 'add_term', 'classify', 'unclassify', 'tag',
        'untag', 'track', 'archive', 'restore')
   AND obj_description(p.oid, 'pg_proc') IS NULL;
SELECT has_function('cdp', f, a, 'function cdp.' || f) FROM (VALUES
    ('define_profile', ARRAY['text', 'text', 'jsonb', 'text']), ('alter_profile', ARRAY['text', 'jsonb', 'text[]']),
    ('drop_profile', ARRAY['text']), ('set_profile', ARRAY['bigint', 'text', 'jsonb', 'text']),
    ('remove_profile', ARRAY['bigint', 'text']), ('create_organization', ARRAY['text', 'text', 'text']),
    ('set_organization_profile', ARRAY['text', 'text', 'jsonb']), ('add_member', ARRAY['bigint', 'text', 'text', 'boolean']),
    ('organization_tree', ARRAY['text']), ('define_document_template', ARRAY['text', 'jsonb', 'text', 'text']),
    ('create_document', ARRAY['text', 'bigint', 'jsonb', 'text', 'bigint']), ('define_taxonomy', ARRAY['text', 'text[]', 'text']),
    ('add_term', ARRAY['text', 'text', 'text']), ('classify', ARRAY['text', 'bigint', 'text', 'text']),
    ('tag', ARRAY['text', 'bigint', 'text[]']), ('untag', ARRAY['text', 'bigint', 'text[]']),
    ('track', ARRAY['jsonb', 'text', 'jsonb', 'timestamp with time zone', 'text']),
    ('archive', ARRAY['text', 'bigint']), ('restore', ARRAY['text', 'bigint'])) AS x(f, a);
SELECT has_index('cdp', 'events', 'events_contact_name_time_idx', 'events: per-contact, per-name, per-time index');
SELECT has_index('cdp', 'events', 'events_name_time_idx', 'events: per-name and time index');
SELECT has_index('cdp', 'events', 'events_time_idx', 'events: per-time index');

-- ---------------------------------------------------------------- define_profile
SELECT is(cdp.define_profile('tap_customer', 'contact', '[
    {"slug": "tier", "type": "text", "options": ["bronze", "silver", "gold"]},
    {"slug": "age", "type": "integer", "min": 0, "max": 150},
    {"slug": "score", "type": "number", "decimals": 1},
    {"slug": "nick", "type": "text", "min_length": 2, "max_length": 5, "pattern": "^[a-z]+$"},
    {"slug": "tags", "type": "text", "array": true},
    {"slug": "code", "type": "text", "required": true}]', 'TAP customer')::text,
    'cdp_data.profile_tap_customer', 'define_profile returns the generated table');
SELECT col_type_is('cdp_data', 'profile_tap_customer', 'age', 'bigint', 'integer attributes are bigint');
SELECT col_type_is('cdp_data', 'profile_tap_customer', 'score', 'numeric', 'number attributes are numeric');
SELECT col_type_is('cdp_data', 'profile_tap_customer', 'tags', 'text[]', 'array attributes are arrays');
SELECT col_not_null('cdp_data', 'profile_tap_customer', 'code', 'required attributes are NOT NULL');
SELECT is((SELECT title FROM cdp.profiles WHERE slug = 'tap_customer'), 'TAP customer', 'the title is kept');
SELECT is((SELECT array_agg(slug ORDER BY position) FROM cdp.attributes WHERE owner_slug = 'tap_customer'),
          ARRAY['tier', 'age', 'score', 'nick', 'tags', 'code'], 'attributes are in the catalog in order');
SELECT is((SELECT count(*) FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
            WHERE e.extname = 'cdp' AND d.objid = 'cdp_data.profile_tap_customer'::regclass AND d.deptype = 'e'),
          0::bigint, 'the generated table is not an extension member');

SELECT throws_ok($$SELECT cdp.define_profile('Bad Slug', 'contact', '[]')$$, '22023',
    'invalid profile slug: ''Bad Slug''', 'a bad profile slug is refused');
SELECT throws_ok($$SELECT cdp.define_profile('tap_x', 'document', '[]')$$, '22023',
    'invalid object type of profile "tap_x": ''document''', 'profiles belong to contacts or organizations');
SELECT throws_ok($$SELECT cdp.define_profile('tap_customer', 'contact', '[]')$$, '42710',
    'profile "tap_customer" already exists', 'a profile is defined once');
SELECT throws_ok($$SELECT cdp.define_profile('tap_x', 'contact', '[{"slug": "a", "type": "money"}]')$$, '22023',
    'invalid type of attribute "a" of profile "tap_x": "money"', 'unknown data types are refused');
SELECT throws_ok($$SELECT cdp.define_profile('tap_x', 'contact', '[{"slug": "a", "type": "text", "colour": 1}]')$$, '22023',
    NULL, 'unknown keys in an attribute definition are refused');
SELECT throws_ok($$SELECT cdp.define_profile('tap_x', 'contact', '[{"slug": "a", "type": "text"}, {"slug": "a", "type": "text"}]')$$,
    '42701', 'attribute "a" of profile "tap_x" is defined twice', 'attribute slugs are unique');
SELECT throws_ok($$SELECT cdp.define_profile('tap_x', 'contact', '[{"slug": "xmin", "type": "text"}]')$$, '22023',
    'attribute slug "xmin" of profile "tap_x" is reserved', 'system and key column names are reserved');
SELECT throws_ok($$SELECT cdp.define_profile('tap_x', 'contact', '[{"slug": "a", "type": "boolean", "min": 1}]')$$, '22023',
    'validation "min" does not apply to attribute "a" of type boolean in profile "tap_x"', 'validations apply to some types only');
SELECT throws_ok($$SELECT cdp.define_profile('tap_x', 'contact', '[{"slug": "a", "type": "text", "pattern": "("}]')$$, '22023',
    NULL, 'an invalid pattern is refused at definition time');
SELECT throws_ok($$SELECT cdp.define_profile('tap_x', 'contact', '[{"slug": "a", "type": "integer", "options": ["x"]}]')$$, '22023',
    NULL, 'options must be values of the attribute type');
SELECT throws_ok($$SELECT cdp.define_profile('tap_x', 'contact', '{"slug": "a"}')$$, '22023',
    NULL, 'attributes are a JSON array');
SELECT hasnt_table('cdp_data', 'profile_tap_x', 'failed definitions leave no table');

-- ---------------------------------------------------------------- set_profile
INSERT INTO cdp.contacts (given_name) VALUES ('Ann') RETURNING id AS c1 \gset
INSERT INTO cdp.contacts (given_name) VALUES ('Bob') RETURNING id AS c2 \gset
INSERT INTO cdp.contacts (given_name) VALUES ('Cid') RETURNING id AS c3 \gset
SELECT lives_ok(format($$SELECT cdp.set_profile(%s, 'tap_customer', '{"tier": "gold", "age": 41, "code": "A1"}', 'crm')$$, :c1),
    'set_profile inserts a row');
SELECT lives_ok(format($$SELECT cdp.set_profile(%s, 'tap_customer', '{"score": 2.5}')$$, :c1),
    'a partial update without the required attribute keeps it');
SELECT is((SELECT row(tier, age, score, code, source)::text FROM cdp_data.profile_tap_customer WHERE contact_id = :c1),
          '(gold,41,2.5,A1,crm)', 'a partial update keeps other attributes and the source');
SELECT lives_ok(format($$SELECT cdp.set_profile(%s, 'tap_customer', '{"age": null, "tags": ["a", "b"]}')$$, :c1),
    'JSON null clears a value');
SELECT is((SELECT row(age, tags)::text FROM cdp_data.profile_tap_customer WHERE contact_id = :c1),
          '(,"{a,b}")', 'the value is cleared and the array stored');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_customer', '{"colour": "red"}')$$, :c1), '42703',
    'unknown attribute "colour" of profile "tap_customer": "red"', 'unknown attributes are refused');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_customer', '{"age": "old"}')$$, :c1), '22P02',
    'invalid value for attribute "age" of profile "tap_customer": "old"', 'values of the wrong type are refused');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_customer', '{"tier": 3}')$$, :c1), '22P02',
    'invalid value for attribute "tier" of profile "tap_customer": 3', 'a number is not text');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_customer', '{"age": 4.5}')$$, :c1), '22P02',
    'invalid value for attribute "age" of profile "tap_customer": 4.5', 'integers have no fraction');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_customer', '{"tier": "platinum"}')$$, :c1), '23514',
    'value of attribute "tier" of profile "tap_customer" fails validation "options": "platinum"', 'options are enforced');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_customer', '{"age": 200}')$$, :c1), '23514',
    'value of attribute "age" of profile "tap_customer" fails validation "max": 200', 'max is enforced');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_customer', '{"score": 1.25}')$$, :c1), '23514',
    'value of attribute "score" of profile "tap_customer" fails validation "decimals": 1.25', 'decimals are enforced');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_customer', '{"nick": "x"}')$$, :c1), '23514',
    'value of attribute "nick" of profile "tap_customer" fails validation "min_length": "x"', 'min_length is enforced');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_customer', '{"nick": "ABC"}')$$, :c1), '23514',
    'value of attribute "nick" of profile "tap_customer" fails validation "pattern": "ABC"', 'pattern is enforced');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_customer', '{"tags": ["a", null]}')$$, :c1), '23514',
    'invalid value for attribute "tags" of profile "tap_customer": ["a", null]', 'array elements are not null');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_customer', '{"tier": "gold"}')$$, :c2), '23502',
    'attribute "code" of profile "tap_customer" is required', 'a new row needs its required attributes');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_customer', '{"code": null}')$$, :c1), '23502',
    'attribute "code" of profile "tap_customer" is required', 'a required attribute cannot be cleared');
SELECT throws_ok($$SELECT cdp.set_profile(-1, 'tap_customer', '{}')$$, '42704',
    'contact -1 does not exist', 'unknown contacts are refused');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_nope', '{}')$$, :c1), '42704',
    'contact profile "tap_nope" does not exist', 'unknown profiles are refused');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_customer', '[1]')$$, :c1), '22023',
    NULL, 'values are a JSON object');

-- a merged contact's id leads to the survivor
UPDATE cdp.contacts SET merged_into = :c1 WHERE id = :c3;
SELECT lives_ok(format($$SELECT cdp.set_profile(%s, 'tap_customer', '{"nick": "ann"}')$$, :c3), 'set_profile on a tombstone');
SELECT is((SELECT nick FROM cdp_data.profile_tap_customer WHERE contact_id = :c1), 'ann', 'writes to the survivor');
UPDATE cdp.contacts SET merged_into = NULL WHERE id = :c3;

-- ---------------------------------------------------------------- alter_profile
INSERT INTO cdp.contacts (id) SELECT -i FROM generate_series(1000, 1999) i;
INSERT INTO cdp_data.profile_tap_customer (contact_id, code) SELECT -i, 'x' FROM generate_series(1000, 1999) i;
SELECT pg_relation_filenode('cdp_data.profile_tap_customer') AS node \gset
SELECT lives_ok($$SELECT cdp.alter_profile('tap_customer', add => '[{"slug": "city", "type": "text", "max_length": 40}]')$$,
    'alter_profile adds an attribute');
SELECT is(pg_relation_filenode('cdp_data.profile_tap_customer'), :node::oid, 'adding an attribute does not rewrite the table');
SELECT has_column('cdp_data', 'profile_tap_customer', 'city', 'the column is added');
SELECT lives_ok(format($$SELECT cdp.set_profile(%s, 'tap_customer', '{"city": "Paris"}')$$, :c1), 'the new attribute can be set');
SELECT throws_ok($$SELECT cdp.alter_profile('tap_customer', add => '[{"slug": "must", "type": "text", "required": true}]')$$,
    '55000', 'cannot add required attribute "must" to profile "tap_customer" that has rows', 'required attributes need an empty table');
SELECT throws_ok($$SELECT cdp.alter_profile('tap_customer', add => '[{"slug": "city", "type": "text"}]')$$,
    '42701', 'attribute "city" of profile "tap_customer" is defined twice', 'an existing attribute cannot be added again');
SELECT lives_ok($$SELECT cdp.alter_profile('tap_customer', drop => ARRAY['nick'])$$, 'alter_profile drops an attribute');
SELECT hasnt_column('cdp_data', 'profile_tap_customer', 'nick', 'the column is dropped');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_customer', '{"nick": "x"}')$$, :c1), '42703',
    NULL, 'a dropped attribute is unknown');
SELECT throws_ok($$SELECT cdp.alter_profile('tap_customer', drop => ARRAY['nope'])$$, '42703',
    'attribute "nope" of profile "tap_customer" does not exist', 'dropping an unknown attribute is refused');
SELECT throws_ok($$SELECT cdp.alter_profile('tap_nope')$$, '42704', 'profile "tap_nope" does not exist', 'alter of an unknown profile');
DELETE FROM cdp.contacts WHERE id < 0;

-- ---------------------------------------------------------------- remove / drop
SELECT is(cdp.remove_profile(:c1, 'tap_customer'), true, 'remove_profile removes the row');
SELECT is(cdp.remove_profile(:c1, 'tap_customer'), false, 'remove_profile says false when there is none');
SELECT cdp.define_profile('tap_drop', 'contact', '[{"slug": "a", "type": "text"}]');
CREATE VIEW tap_drop_view AS SELECT * FROM cdp_data.profile_tap_drop;
SELECT throws_ok($$SELECT cdp.drop_profile('tap_drop')$$, '2BP01', NULL, 'a profile a view uses is not dropped');
DROP VIEW tap_drop_view;
SELECT lives_ok($$SELECT cdp.drop_profile('tap_drop')$$, 'drop_profile');
SELECT hasnt_table('cdp_data', 'profile_tap_drop', 'drop_profile drops the table');
SELECT is((SELECT count(*) FROM cdp.attributes WHERE owner_slug = 'tap_drop'), 0::bigint, 'and the catalog rows');
SELECT throws_ok($$SELECT cdp.drop_profile('tap_drop')$$, '42704', 'profile "tap_drop" does not exist', 'drop of an unknown profile');

-- ---------------------------------------------------------------- organizations
SELECT cdp.create_organization('tap-acme', 'Acme') AS o1 \gset
SELECT cdp.create_organization('tap-acme-eu', 'Acme EU', 'tap-acme') AS o2 \gset
SELECT cdp.create_organization('tap-acme-fr', 'Acme FR', 'tap-acme-eu') AS o3 \gset
SELECT results_eq($$SELECT * FROM cdp.organization_tree('tap-acme')$$, ARRAY[:o1, :o2, :o3]::bigint[],
    'organization_tree returns the organization and its descendants');
SELECT results_eq($$SELECT * FROM cdp.organization_tree('tap-acme-fr')$$, ARRAY[:o3]::bigint[], 'a leaf is its own tree');
SELECT throws_ok($$SELECT cdp.move_organization('tap-acme', 'tap-acme-fr')$$, '22023',
    'organization "tap-acme" cannot be placed under "tap-acme-fr": that would make a cycle', 'cycles are refused');
SELECT throws_ok($$SELECT cdp.create_organization('tap-acme', 'Again')$$, '42710', 'organization "tap-acme" already exists',
    'organization slugs are unique');
SELECT throws_ok($$SELECT cdp.create_organization('Tap Acme', 'Bad')$$, '22023', NULL, 'bad organization slugs are refused');
SELECT throws_ok($$SELECT cdp.create_organization('tap-x', 'X', 'tap-nope')$$, '42704', 'organization "tap-nope" does not exist',
    'unknown parents are refused');
SELECT lives_ok(format($$SELECT cdp.add_member(%s, 'tap-acme', 'ceo', true)$$, :c1), 'add_member');
SELECT lives_ok(format($$SELECT cdp.add_member(%s, 'tap-acme-eu', 'advisor', true)$$, :c1), 'a second primary membership');
SELECT results_eq(format($$SELECT organization_id, role, is_primary FROM cdp.organization_members WHERE contact_id = %s ORDER BY 1$$, :c1),
    format($$VALUES (%s::bigint, 'ceo'::text, false), (%s, 'advisor', true)$$, :o1, :o2),
    'one primary organization per contact, with roles');
SELECT throws_ok($$DELETE FROM cdp.organizations WHERE slug = 'tap-acme'$$, '55000',
    'cannot delete organization "tap-acme": it has 1 member', 'an organization with members cannot be deleted');
SELECT is(cdp.archive('organization', :o1), true, 'but it can be archived');
SELECT isnt((SELECT archived_at FROM cdp.organizations WHERE id = :o1), NULL, 'archived_at is set');
SELECT is(cdp.archive('organization', :o1), false, 'archiving twice changes nothing');
SELECT is(cdp.restore('organization', :o1), true, 'and restored');
SELECT is(cdp.remove_member(:c1, 'tap-acme-eu'), true, 'remove_member');
DELETE FROM cdp.organizations WHERE slug = 'tap-acme-eu';
SELECT is((SELECT parent_id FROM cdp.organizations WHERE id = :o3), :o1::bigint, 'children of a deleted organization move up');
SELECT cdp.define_profile('tap_company', 'organization', '[{"slug": "industry", "type": "text", "options": ["retail", "tech"]}]');
SELECT lives_ok($$SELECT cdp.set_organization_profile('tap-acme', 'tap_company', '{"industry": "retail"}')$$,
    'set_organization_profile');
SELECT is((SELECT industry FROM cdp_data.profile_tap_company WHERE organization_id = :o1), 'retail', 'the value is stored');
SELECT throws_ok($$SELECT cdp.set_organization_profile('tap-acme', 'tap_company', '{"industry": "mining"}')$$, '23514',
    'value of attribute "industry" of profile "tap_company" fails validation "options": "mining"', 'and validated');
SELECT throws_ok($$SELECT cdp.set_organization_profile('tap-nope', 'tap_company', '{}')$$, '42704',
    'organization "tap-nope" does not exist', 'unknown organizations are refused');
SELECT throws_ok($$SELECT cdp.set_organization_profile('tap-acme', 'tap_customer', '{}')$$, '42704',
    'organization profile "tap_customer" does not exist', 'a contact profile is not an organization profile');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_company', '{}')$$, :c1), '42704',
    'contact profile "tap_company" does not exist', 'an organization profile is not a contact profile');

-- ---------------------------------------------------------------- documents
SELECT is(cdp.define_document_template('tap_contract', '[{"slug": "amount", "type": "number", "required": true, "min": 0},
    {"slug": "signed_on", "type": "date"}]')::text, 'cdp_data.document_tap_contract', 'define_document_template');
SELECT cdp.create_document('tap_contract', :c1, '{"amount": 100, "signed_on": "2024-05-01"}', 'Lease', :o1) AS d1 \gset
SELECT is((SELECT row(d.template, d.contact_id = :c1, d.organization_id = :o1, d.title, t.amount, t.signed_on)::text
             FROM cdp.documents d JOIN cdp_data.document_tap_contract t ON t.document_id = d.id WHERE d.id = :d1),
          '(tap_contract,t,t,Lease,100,2024-05-01)', 'create_document stores the document and its values');
SELECT throws_ok(format($$SELECT cdp.create_document('tap_contract', %s, '{}')$$, :c1), '23502',
    'attribute "amount" of document template "tap_contract" is required', 'documents are validated against their template');
SELECT throws_ok(format($$SELECT cdp.create_document('tap_contract', %s, '{"amount": -1}')$$, :c1), '23514',
    'value of attribute "amount" of document template "tap_contract" fails validation "min": -1', 'validations hold');
SELECT throws_ok(format($$SELECT cdp.create_document('tap_nope', %s, '{}')$$, :c1), '42704',
    'document template "tap_nope" does not exist', 'unknown templates are refused');
SELECT throws_ok($$SELECT cdp.create_document('tap_contract', NULL, '{"amount": 1}')$$, '22023',
    'a document of template "tap_contract" needs a contact', 'contact documents need a contact');
SELECT lives_ok(format($$SELECT cdp.update_document(%s, '{"amount": 150}')$$, :d1), 'update_document');
SELECT is((SELECT amount FROM cdp_data.document_tap_contract WHERE document_id = :d1), 150::numeric, 'the value changes');
SELECT throws_ok($$SELECT cdp.drop_document_template('tap_contract')$$, '2BP01', NULL, 'a template with documents is kept');
SELECT is(cdp.archive('document', :d1), true, 'documents can be archived');
SELECT is(cdp.restore('document', :d1), true, 'and restored');

-- ---------------------------------------------------------------- taxonomies and tags
SELECT lives_ok($$SELECT cdp.define_taxonomy('tap_interests', ARRAY['contact', 'document'])$$, 'define_taxonomy');
SELECT throws_ok($$SELECT cdp.define_taxonomy('tap_bad', ARRAY['order'])$$, '22023', NULL, 'unknown object types are refused');
SELECT cdp.add_term('tap_interests', 'sports/football') AS football \gset
SELECT is((SELECT p.path FROM cdp.terms t JOIN cdp.terms p ON p.id = t.parent_id WHERE t.id = :football), 'sports',
    'add_term creates missing ancestors');
SELECT is(cdp.add_term('tap_interests', 'sports/football'), :football::bigint, 'add_term is idempotent');
SELECT lives_ok(format($$SELECT cdp.classify('contact', %s, 'tap_interests', 'sports/football')$$, :c1), 'classify a contact');
SELECT lives_ok(format($$SELECT cdp.classify('document', %s, 'tap_interests', 'sports')$$, :d1), 'classify a document');
SELECT throws_ok(format($$SELECT cdp.classify('organization', %s, 'tap_interests', 'sports')$$, :o1), '22023',
    'taxonomy "tap_interests" is not allowed for organizations', 'a taxonomy is restricted to its object types');
SELECT throws_ok(format($$SELECT cdp.classify('contact', %s, 'tap_interests', 'music')$$, :c1), '42704',
    'term "music" of taxonomy "tap_interests" does not exist', 'unknown terms are refused');
SELECT throws_ok(format($$SELECT cdp.classify('contact', %s, 'tap_nope', 'music')$$, :c1), '42704',
    'taxonomy "tap_nope" does not exist', 'unknown taxonomies are refused');
SELECT is(cdp.unclassify('document', :d1, 'tap_interests', 'sports'), true, 'unclassify');
SELECT is(cdp.tag('contact', :c1, 'TapVIP', 'TapTech/AI'), 2, 'tag creates tags on first use');
SELECT is((SELECT path FROM cdp.tags t WHERE t.id = (SELECT parent_id FROM cdp.tags WHERE slug = 'taptech/ai')), 'TapTech',
    'hierarchical tags: the parent exists');
SELECT is(cdp.tag('contact', :c1, 'tapvip'), 0, 'tags are found by slug (case-insensitive)');
SELECT is(cdp.tag('organization', :o1, 'TapVIP'), 1, 'organizations are tagged');
SELECT is(cdp.tag('document', :d1, 'TapVIP'), 1, 'documents are tagged');
SELECT is(cdp.untag('organization', :o1, 'TapVIP'), 1, 'untag');
SELECT throws_ok(format($$SELECT cdp.tag('contact', %s, 'a//b')$$, :c1), '22023', 'invalid tag path: ''a//b''', 'empty path parts are refused');
SELECT throws_ok($$SELECT cdp.tag('order', 1, 'x')$$, '22023', 'invalid object type: ''order''', 'unknown object types are refused');
SELECT throws_ok($$SELECT cdp.tag('organization', -5, 'x')$$, '42704', 'organization -5 does not exist', 'unknown objects are refused');

-- ---------------------------------------------------------------- archive
SELECT is(cdp.archive('contact', :c2), true, 'archive a contact');
SELECT isnt((SELECT archived_at FROM cdp.contacts WHERE id = :c2), NULL, 'archived_at is set');
SELECT is(cdp.restore('contact', :c2), true, 'restore a contact');
SELECT throws_ok($$SELECT cdp.archive('order', 1)$$, '22023', 'invalid object type: ''order''', 'archive: unknown object type');
SELECT throws_ok($$SELECT cdp.archive('contact', -7)$$, '42704', 'contact -7 does not exist', 'archive: unknown id');

-- ---------------------------------------------------------------- events and track
SELECT cdp.track('{"email": "tap.track@example.com"}', 'tap_signup', '{"plan": "pro"}', '2024-01-02 03:04:05+00', 'web') AS ev \gset
SELECT is((SELECT row(e.contact_id = cdp.find_contact('email', 'tap.track@example.com'), e.name, e.occurred_at, e.properties, e.source)::text
             FROM cdp.events e WHERE e.id = :ev),
          '(t,tap_signup,"2024-01-02 03:04:05+00","{""plan"": ""pro""}",web)', 'track resolves the contact and records the event');
SELECT is(cdp.track('{"email": "tap.track@example.com"}', 'tap_login') > :ev, true, 'a second event of the same contact');
SELECT is((SELECT count(DISTINCT contact_id) FROM cdp.events WHERE name LIKE 'tap_%'), 1::bigint, 'both on one contact');
SELECT throws_ok($$SELECT cdp.track('{"email": "tap.track@example.com"}', '')$$, '22023', 'invalid event name: ''''',
    'events have a name');
SELECT throws_ok($$SELECT cdp.track('{"email": "tap.track@example.com"}', 'x', '[1]')$$, '22023',
    'invalid properties of event "x": [1]', 'properties are an object');

-- ---------------------------------------------------------------- merge, unmerge, forget
INSERT INTO cdp.contacts (given_name) VALUES ('Survivor') RETURNING id AS s \gset
INSERT INTO cdp.contacts (given_name) VALUES ('Absorbed') RETURNING id AS a \gset
SELECT cdp.define_profile('tap_merge', 'contact', '[{"slug": "x", "type": "text"}, {"slug": "y", "type": "integer"},
    {"slug": "z", "type": "text"}]');
SELECT cdp.define_profile('tap_only_a', 'contact', '[{"slug": "w", "type": "text"}]');
SELECT cdp.set_profile(:s, 'tap_merge', '{"x": "survivor"}');
SELECT cdp.set_profile(:a, 'tap_merge', '{"x": "absorbed", "y": 7}');
SELECT cdp.set_profile(:a, 'tap_only_a', '{"w": "mine"}');
SELECT cdp.tag('contact', :s, 'TapShared');
SELECT cdp.tag('contact', :a, 'TapShared', 'TapOwn');
SELECT cdp.classify('contact', :a, 'tap_interests', 'sports');
SELECT cdp.add_member(:s, 'tap-acme', 'owner', true);
SELECT cdp.add_member(:a, 'tap-acme', 'guest', true);
SELECT cdp.add_member(:a, 'tap-acme-fr', 'staff', true);
SELECT cdp.create_document('tap_contract', :a, '{"amount": 5}') AS da \gset
INSERT INTO cdp.events (contact_id, name) VALUES (:a, 'tap_a_event') RETURNING id AS ea \gset

SELECT cdp_internal.model_merge(:s, :a) AS snap \gset
SELECT is((SELECT row(x, y, z)::text FROM cdp_data.profile_tap_merge WHERE contact_id = :s), '(survivor,7,)',
    'merge fills the survivor''s NULL attributes; its own values win');
SELECT is((SELECT count(*) FROM cdp_data.profile_tap_merge WHERE contact_id = :a), 0::bigint, 'the absorbed row is gone');
SELECT is((SELECT w FROM cdp_data.profile_tap_only_a WHERE contact_id = :s), 'mine', 'a profile only the absorbed had moves');
SELECT is((SELECT array_agg(t.path ORDER BY t.path) FROM cdp.contact_tags ct JOIN cdp.tags t ON t.id = ct.tag_id WHERE ct.contact_id = :s),
    ARRAY['TapOwn', 'TapShared'], 'tags move');
SELECT is((SELECT count(*) FROM cdp.contact_terms WHERE contact_id = :s), 1::bigint, 'terms move');
SELECT results_eq(format($$SELECT organization_id, role, is_primary FROM cdp.organization_members WHERE contact_id = %s ORDER BY 1$$, :s),
    format($$VALUES (%s::bigint, 'owner'::text, true), (%s, 'staff', false)$$, :o1, :o3),
    'memberships move; the survivor''s role and primary organization win');
SELECT is((SELECT contact_id FROM cdp.documents WHERE id = :da), :s::bigint, 'documents move');
SELECT is((SELECT contact_id FROM cdp.events WHERE id = :ea), :s::bigint, 'events move');
SELECT is(:'snap'::jsonb -> 'profiles' -> 'tap_merge' -> 'filled', '["y"]', 'the snapshot records the filled attributes');

SELECT cdp.set_profile(:s, 'tap_merge', '{"z": "later"}');
SELECT lives_ok(format($$SELECT cdp_internal.model_unmerge(%s, %s, %L)$$, :s, :a, :'snap'), 'model_unmerge');
SELECT is((SELECT row(x, y, z)::text FROM cdp_data.profile_tap_merge WHERE contact_id = :s), '(survivor,,later)',
    'unmerge clears what was filled and keeps later changes');
SELECT is((SELECT row(x, y, z)::text FROM cdp_data.profile_tap_merge WHERE contact_id = :a), '(absorbed,7,)',
    'the absorbed row is back');
SELECT is((SELECT count(*) FROM cdp_data.profile_tap_only_a WHERE contact_id = :s), 0::bigint, 'a moved profile leaves the survivor');
SELECT is((SELECT w FROM cdp_data.profile_tap_only_a WHERE contact_id = :a), 'mine', 'and returns');
SELECT is((SELECT array_agg(t.path ORDER BY t.path) FROM cdp.contact_tags ct JOIN cdp.tags t ON t.id = ct.tag_id WHERE ct.contact_id = :s),
    ARRAY['TapShared'], 'the survivor keeps only its own tags');
SELECT is((SELECT array_agg(t.path ORDER BY t.path) FROM cdp.contact_tags ct JOIN cdp.tags t ON t.id = ct.tag_id WHERE ct.contact_id = :a),
    ARRAY['TapOwn', 'TapShared'], 'the absorbed contact has its tags back');
SELECT is((SELECT count(*) FROM cdp.contact_terms WHERE contact_id = :a), 1::bigint, 'and its terms');
SELECT results_eq(format($$SELECT organization_id, role, is_primary FROM cdp.organization_members WHERE contact_id = %s ORDER BY 1$$, :a),
    format($$VALUES (%s::bigint, 'guest'::text, false), (%s, 'staff', true)$$, :o1, :o3),
    'and its memberships as they were');
SELECT is((SELECT count(*) FROM cdp.organization_members WHERE contact_id = :s), 1::bigint, 'the survivor keeps its own membership');
SELECT is((SELECT contact_id FROM cdp.documents WHERE id = :da), :a::bigint, 'documents go back');
SELECT is((SELECT contact_id FROM cdp.events WHERE id = :ea), :a::bigint, 'events go back');

SELECT lives_ok(format($$SELECT cdp_internal.model_forget(%s)$$, :a), 'model_forget');
SELECT is((SELECT count(*) FROM cdp_data.profile_tap_merge WHERE contact_id = :a)
        + (SELECT count(*) FROM cdp_data.profile_tap_only_a WHERE contact_id = :a)
        + (SELECT count(*) FROM cdp.contact_tags WHERE contact_id = :a)
        + (SELECT count(*) FROM cdp.contact_terms WHERE contact_id = :a)
        + (SELECT count(*) FROM cdp.organization_members WHERE contact_id = :a)
        + (SELECT count(*) FROM cdp.documents WHERE contact_id = :a)
        + (SELECT count(*) FROM cdp_data.document_tap_contract WHERE document_id = :da)
        + (SELECT count(*) FROM cdp.events WHERE contact_id = :a), 0::bigint, 'forget erases everything the model holds');

-- through identity resolution: merge_contacts and unmerge call the model hooks
SELECT cdp.resolve('{"email": "tap.m1@example.com"}') AS m1 \gset
SELECT cdp.resolve('{"email": "tap.m2@example.com"}') AS m2 \gset
SELECT cdp.set_profile(:m1, 'tap_merge', '{"x": "one"}');
SELECT cdp.set_profile(:m2, 'tap_merge', '{"x": "two", "y": 2}');
SELECT cdp.track('{"email": "tap.m2@example.com"}', 'tap_m2_event') AS em2 \gset
SELECT is(cdp.merge_contacts(:m1, ARRAY[:m2]::bigint[]), :m1::bigint, 'merge_contacts');
SELECT is((SELECT row(x, y)::text FROM cdp_data.profile_tap_merge WHERE contact_id = :m1), '(one,2)', 'merge_contacts fills the profile');
SELECT is((SELECT contact_id FROM cdp.events WHERE id = :em2), :m1::bigint, 'merge_contacts moves events');
SELECT ok((SELECT snapshot ? 'model' FROM cdp.merges WHERE absorbed_id = :m2), 'the merge keeps the model snapshot');
SELECT lives_ok(format($$SELECT cdp.unmerge((SELECT id FROM cdp.merges WHERE absorbed_id = %s))$$, :m2), 'unmerge');
SELECT is((SELECT row(x, y)::text FROM cdp_data.profile_tap_merge WHERE contact_id = :m2), '(two,2)', 'unmerge restores the profile');
SELECT is((SELECT row(x, y)::text FROM cdp_data.profile_tap_merge WHERE contact_id = :m1), '(one,)', 'and the survivor''s');
SELECT is((SELECT contact_id FROM cdp.events WHERE id = :em2), :m2::bigint, 'unmerge returns events');
SELECT lives_ok(format($$SELECT cdp.forget_contact(%s)$$, :m2), 'forget_contact');
SELECT is((SELECT count(*) FROM cdp.events WHERE id = :em2), 0::bigint, 'forget_contact erases events');

SELECT * FROM finish();
ROLLBACK;
