-- pgTAP contracts of saved views (DESIGN §8): every field kind typed as its data,
-- plain and materialized views, regeneration when a segment changes, drop guards, errors.
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(41);
SET LOCAL client_min_messages = warning;
SET LOCAL timezone = 'UTC';

CREATE TEMP TABLE c (name text PRIMARY KEY, id bigint NOT NULL);
CREATE FUNCTION pg_temp.c(text) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT id FROM c WHERE name = $1 $$;

-- alice: gold customer with everything; bob: silver, two emails (work first, then main);
-- carol: bronze (not a member); dave: gold but archived; org acme primary for alice, oldco (archived) for bob.
DO $fixture$
BEGIN
    UPDATE cdp.identifier_kinds SET slugs = slugs || '{work}' WHERE kind = 'email';
    PERFORM cdp.define_profile('customer', 'contact', '[{"slug": "tier", "type": "text"}, {"slug": "ltv", "type": "number"},
        {"slug": "birthday", "type": "date"}, {"slug": "work_email", "type": "email"}, {"slug": "hobbies", "type": "text", "array": true}]');
    PERFORM cdp.define_profile('company', 'organization', '[{"slug": "industry", "type": "text"}, {"slug": "size", "type": "integer"}]');
    PERFORM cdp.define_taxonomy('interests', '{contact}');
    PERFORM cdp.define_taxonomy('sectors', '{organization}');
    PERFORM cdp.add_term('interests', 'sports/football');
    PERFORM cdp.add_term('interests', 'music');
    PERFORM cdp.define_document_template('invoice', '[{"slug": "amount", "type": "number"}]');
    PERFORM cdp.create_organization('acme', 'Acme');
    PERFORM cdp.create_organization('oldco', 'Old Co');
    PERFORM cdp.set_organization_profile('acme', 'company', '{"industry": "retail", "size": 50}');
    INSERT INTO c VALUES ('alice', cdp.resolve('{"email": "alice@example.com", "phone": "+16502530000"}'));
    INSERT INTO c VALUES ('bob', cdp.resolve('[{"kind": "email", "value": "bob@work.example.com", "slug": "work"}]'));
    PERFORM cdp.resolve('[{"kind": "email", "value": "bob@work.example.com"}, {"kind": "email", "value": "bob@example.com", "slug": "main"}]');
    INSERT INTO c VALUES ('carol', cdp.resolve('{"email": "carol@example.com"}'));
    INSERT INTO c VALUES ('dave', cdp.resolve('{"email": "dave@example.com"}'));
    PERFORM cdp.update_contact(pg_temp.c('alice'), 'Alice', 'Archer');
    PERFORM cdp.set_profile(pg_temp.c('alice'), 'customer', '{"tier": "gold", "ltv": 1234.5, "birthday": "1990-05-01",
        "work_email": "Alice@Work.example.com", "hobbies": ["chess", "golf"]}');
    PERFORM cdp.set_profile(pg_temp.c('bob'), 'customer', '{"tier": "silver"}');
    PERFORM cdp.set_profile(pg_temp.c('carol'), 'customer', '{"tier": "bronze"}');
    PERFORM cdp.set_profile(pg_temp.c('dave'), 'customer', '{"tier": "gold"}');
    PERFORM cdp.archive('contact', pg_temp.c('dave'));
    PERFORM cdp.tag('contact', pg_temp.c('alice'), 'VIP/Gold', 'Beta');
    PERFORM cdp.classify('contact', pg_temp.c('alice'), 'interests', 'sports/football');
    PERFORM cdp.classify('contact', pg_temp.c('alice'), 'interests', 'music');
    PERFORM cdp.add_member(pg_temp.c('alice'), 'acme', 'ceo', true);
    PERFORM cdp.add_member(pg_temp.c('bob'), 'oldco', NULL, true);
    PERFORM cdp.archive('organization', cdp_internal.organization_id('oldco'));
    PERFORM cdp.track('{"email": "alice@example.com"}', 'purchase');
    PERFORM cdp.track('{"email": "alice@example.com"}', 'purchase');
    PERFORM cdp.track('{"email": "bob@example.com"}', 'login');
    PERFORM cdp.create_document('invoice', pg_temp.c('alice'), '{"amount": 10}');
    PERFORM cdp.create_document('invoice', pg_temp.c('alice'), '{"amount": 20}');
    PERFORM cdp.archive('document', (SELECT max(id) FROM cdp.documents));
    PERFORM cdp.create_segment('gold', 'customer.tier = ''gold''');
    PERFORM cdp.create_segment('good', 'in segment ''gold'' or customer.tier = ''silver''');
END
$fixture$;

SELECT is(cdp.create_view('people', 'good', ARRAY['id', 'type', 'given_name', 'family_name', 'email', 'phone',
              'customer.tier', 'customer.ltv', 'customer.birthday', 'customer.work_email', 'customer.hobbies',
              'organization.name', 'organization.company.industry', 'organization.company.size', 'tags', 'interests',
              'count(events.purchase)', 'count(documents.invoice)'])::text,
          'cdp_views.people', 'create_view returns cdp_views.<slug>');
SELECT results_eq(
    $$SELECT attname::text COLLATE "C", format_type(atttypid, atttypmod) COLLATE "C" FROM pg_attribute
       WHERE attrelid = 'cdp_views.people'::regclass AND attnum > 0 ORDER BY attnum$$,
    $$SELECT a COLLATE "C", b COLLATE "C" FROM (VALUES ('id', 'bigint'), ('type', 'text'), ('given_name', 'text'), ('family_name', 'text'), ('email', 'text'),
             ('phone', 'text'), ('customer.tier', 'text'), ('customer.ltv', 'numeric'), ('customer.birthday', 'date'),
             ('customer.work_email', 'cdp.email_address'), ('customer.hobbies', 'text[]'), ('organization.name', 'text'),
             ('organization.company.industry', 'text'), ('organization.company.size', 'bigint'), ('tags', 'text[]'),
             ('interests', 'text[]'), ('count(events.purchase)', 'bigint'), ('count(documents.invoice)', 'bigint')) v(a, b)$$,
    'a column per field, named as the field, typed as the underlying data');
SELECT results_eq($$SELECT id FROM cdp_views.people ORDER BY id$$,
                  $$SELECT pg_temp.c(n) FROM unnest(ARRAY['alice', 'bob']) n ORDER BY 1$$,
                  'one row per member: the archived gold contact and the bronze one are not in it');
SELECT results_eq(
    $$SELECT type, given_name, family_name, email, phone, "customer.tier", "customer.ltv", "customer.birthday",
             "customer.work_email"::text, "customer.hobbies" FROM cdp_views.people WHERE id = pg_temp.c('alice')$$,
    $$VALUES ('lead', 'Alice', 'Archer', 'alice@example.com', '+16502530000', 'gold', 1234.5::numeric, date '1990-05-01',
              'Alice@work.example.com', ARRAY['chess', 'golf'])$$,
    'contact fields, main identifiers and profile attributes');
SELECT results_eq(
    $$SELECT "organization.name", "organization.company.industry", "organization.company.size", tags, interests,
             "count(events.purchase)", "count(documents.invoice)" FROM cdp_views.people WHERE id = pg_temp.c('alice')$$,
    $$VALUES ('Acme', 'retail', 50::bigint, ARRAY['Beta', 'VIP/Gold'], ARRAY['music', 'sports/football'], 2::bigint, 1::bigint)$$,
    'the primary organization and its profile, tag and term paths, event and (live) document counts');
SELECT results_eq(
    $$SELECT email, "organization.name", tags, interests, "count(events.purchase)", "count(documents.invoice)"
        FROM cdp_views.people WHERE id = pg_temp.c('bob')$$,
    $$VALUES ('bob@example.com', NULL::text, '{}'::text[], '{}'::text[], 0::bigint, 0::bigint)$$,
    'the main identifier is the one with slug main; an archived primary organization is none; empty arrays and zero counts');
SELECT is((SELECT reloptions FROM pg_class WHERE oid = 'cdp_views.people'::regclass), ARRAY['security_invoker=true'],
          'a plain view is security_invoker');
SELECT results_eq($$SELECT segment, fields[1:3], materialized, title FROM cdp.views WHERE slug = 'people'$$,
                  $$VALUES ('good', ARRAY['id', 'type', 'given_name'], false, 'People')$$, 'the catalog row');
SELECT ok(cdp.segment_sql((SELECT definition FROM cdp.segments WHERE slug = 'good')) <> ''
          AND strpos(pg_get_viewdef('cdp_views.people'::regclass), 'profile_customer') > 0
          AND strpos(pg_get_viewdef('cdp_views.people'::regclass), 'archived_at IS NULL') > 0,
          'the view embeds the compiled segment SQL');

-- Live: a plain view is exact whenever it is read.
SELECT cdp.set_profile(pg_temp.c('carol'), 'customer', '{"tier": "silver"}');
SELECT ok(pg_temp.c('carol') IN (SELECT id FROM cdp_views.people), 'a plain view follows the data at once');

-- Materialized.
SELECT is(cdp.create_view('gold_snapshot', 'gold', ARRAY['id', 'customer.tier'], true)::text, 'cdp_views.gold_snapshot',
          'create_view materialized');
SELECT is((SELECT relkind::text FROM pg_class WHERE oid = 'cdp_views.gold_snapshot'::regclass), 'm', 'it is a materialized view');
SELECT results_eq($$SELECT id FROM cdp_views.gold_snapshot$$, $$VALUES (pg_temp.c('alice'))$$, 'filled when created');
SELECT cdp.set_profile(pg_temp.c('bob'), 'customer', '{"tier": "gold"}');
SELECT results_eq($$SELECT id FROM cdp_views.gold_snapshot$$, $$VALUES (pg_temp.c('alice'))$$, 'a snapshot until refreshed');
SELECT is(cdp.refresh_view('gold_snapshot'), 'cdp_views.gold_snapshot'::regclass, 'refresh_view');
SELECT results_eq($$SELECT id FROM cdp_views.gold_snapshot ORDER BY 1$$, $$SELECT pg_temp.c(n) FROM unnest(ARRAY['alice', 'bob']) n ORDER BY 1$$,
                  'refresh_view fills it again');
SELECT isnt((SELECT refreshed_at FROM cdp.views WHERE slug = 'gold_snapshot'), NULL, 'refreshed_at is set');
SELECT cdp.set_profile(pg_temp.c('bob'), 'customer', '{"tier": "silver"}');

-- Altering a segment regenerates the views of it and of segments that include it.
SELECT cdp.set_profile(pg_temp.c('carol'), 'customer', '{"tier": "bronze"}');
SELECT lives_ok($$SELECT cdp.alter_segment('gold', 'customer.tier in (''gold'', ''bronze'')')$$, 'alter_segment with views');
SELECT ok(pg_temp.c('carol') IN (SELECT id FROM cdp_views.people),
          'a view over a segment that includes the altered one (IN SEGMENT) follows the new definition');
SELECT results_eq($$SELECT id FROM cdp_views.gold_snapshot ORDER BY 1$$,
                  $$SELECT pg_temp.c(n) FROM unnest(ARRAY['alice', 'carol']) n ORDER BY 1$$,
                  'a materialized view of the altered segment is regenerated and filled');
SELECT is((SELECT count(*)::int FROM pg_attribute WHERE attrelid = 'cdp_views.people'::regclass AND attnum > 0), 18,
          'the regenerated view keeps its columns');

-- refresh_view of a plain view regenerates it: new tags under a TAG UNDER path count.
SELECT cdp.create_segment('vip', 'tag under ''VIP''');
SELECT cdp.create_view('vips', 'vip', ARRAY['id']);
SELECT cdp.tag('contact', pg_temp.c('bob'), 'VIP/Silver');
SELECT is(cdp.refresh_view('vips'), 'cdp_views.vips'::regclass, 'refresh_view of a plain view');
SELECT results_eq($$SELECT id FROM cdp_views.vips ORDER BY 1$$, $$SELECT pg_temp.c(n) FROM unnest(ARRAY['alice', 'bob']) n ORDER BY 1$$,
                  'a regenerated plain view sees a tag created under the segment''s TAG UNDER path');

-- Drop guards name the view.
SELECT throws_ok($$SELECT cdp.drop_segment('vip')$$, '2BP01', 'cannot drop segment "vip" because it is used',
                 'drop_segment is refused while a view uses it');
SELECT throws_ok($$SELECT cdp.alter_profile('customer', drop => '{ltv}')$$, '2BP01',
                 'cannot drop attribute "ltv" of profile "customer" because it is used',
                 'dropping an attribute a view shows is refused');
SELECT throws_ok($$SELECT cdp.drop_profile('company')$$, '2BP01', 'cannot drop profile "company" because it is used',
                 'dropping an organization profile a view shows is refused');
SELECT throws_ok($$DELETE FROM cdp.taxonomies WHERE slug = 'interests'$$, '2BP01',
                 'cannot drop taxonomy "interests" because it is used', 'deleting a taxonomy a view shows is refused');
SELECT throws_ok($$SELECT cdp.drop_document_template('invoice')$$, '2BP01',
                 'cannot drop document template "invoice" because it is used', 'dropping a template a view counts is refused');
SELECT is((SELECT string_agg(u, ', ') FROM cdp_internal.views_using('segment', 'good') u), 'view "people"',
          'views_using names the view');

-- Errors.
SELECT throws_ok($$SELECT cdp.create_view('x', 'gold', ARRAY['id', 'nope'])$$, '42703', 'unknown view field "nope"',
                 'an unknown field is 42703 naming it');
SELECT throws_ok($$SELECT cdp.create_view('x', 'gold', ARRAY['customer.nope'])$$, '42703', 'unknown view field "customer.nope"',
                 'an unknown attribute is 42703 naming the field');
SELECT throws_ok($$SELECT cdp.create_view('x', 'gold', ARRAY['company.industry'])$$, '42703', 'unknown view field "company.industry"',
                 'an organization profile without organization. is 42703');
SELECT throws_ok($$SELECT cdp.create_view('x', 'gold', ARRAY['sectors'])$$, '42703', 'unknown view field "sectors"',
                 'a taxonomy that does not classify contacts is 42703');
SELECT throws_ok($$SELECT cdp.create_view('x', 'gold', ARRAY['count(documents.nope)'])$$, '42703',
                 'unknown view field "count(documents.nope)"', 'an unknown template is 42703');
SELECT throws_ok($$SELECT cdp.create_view('x', 'gold', ARRAY['id', 'id'])$$, '42701', 'view field "id" is listed twice',
                 'a field twice is 42701');
SELECT throws_ok($$SELECT cdp.create_view('x', 'nope', ARRAY['id'])$$, '42704', 'segment "nope" does not exist',
                 'an unknown segment is 42704');
SELECT throws_ok($$SELECT cdp.create_view('Bad-Slug', 'gold', ARRAY['id'])$$, '22023', 'invalid view slug: ''Bad-Slug''',
                 'a bad slug is 22023');
SELECT throws_ok($$SELECT cdp.create_view('people', 'gold', ARRAY['id'])$$, '42710', 'view "people" already exists',
                 'an existing slug is 42710');
SELECT throws_ok($$SELECT cdp.create_view('x', 'gold', '{}')$$, '22023', 'a view needs at least one field',
                 'no fields is 22023');
SELECT cdp.drop_view('vips');
SELECT ok(to_regclass('cdp_views.vips') IS NULL AND NOT EXISTS (SELECT 1 FROM cdp.views WHERE slug = 'vips')
          AND NOT EXISTS (SELECT 1 FROM cdp_internal.view_references WHERE view = 'vips'),
          'drop_view drops the view, its row and its references');
SELECT throws_ok($$SELECT cdp.drop_view('nope')$$, '42704', 'view "nope" does not exist', 'drop_view of an unknown view is 42704');

SELECT * FROM finish();
ROLLBACK;
