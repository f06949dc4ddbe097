-- pgTAP contracts of cdp.create_roles (DESIGN §9): the three roles, what each may
-- call and touch, grants of generated tables and views, and a second call.
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(30);
SET LOCAL client_min_messages = warning;

-- Runs a statement as a role and returns its first value as text (errors pass through).
CREATE FUNCTION pg_temp.as_role(r text, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    res text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', r);
    BEGIN
        EXECUTE q INTO res;
    EXCEPTION WHEN OTHERS THEN
        RESET ROLE;
        RAISE;
    END;
    RESET ROLE;
    RETURN res;
END
$$;

SELECT cdp.define_profile('customer', 'contact', '[{"slug": "tier", "type": "text"}]');
SELECT cdp.create_segment('gold', 'customer.tier = ''gold''');
SELECT cdp.create_view('golds', 'gold', ARRAY['id', 'customer.tier']);
SELECT cdp.set_profile(cdp.resolve('{"email": "a@example.com"}'), 'customer', '{"tier": "gold"}');

SELECT lives_ok($$SELECT cdp.create_roles()$$, 'create_roles');
SELECT lives_ok($$SELECT cdp.create_roles()$$, 'a second call is fine');
SELECT results_eq($$SELECT rolname::text COLLATE "C", rolcanlogin, rolinherit FROM pg_roles WHERE rolname IN ('cdp_reader', 'cdp_writer', 'cdp_admin') ORDER BY 1$$,
                  $$VALUES ('cdp_admin' COLLATE "C", false, true), ('cdp_reader', false, true), ('cdp_writer', false, true)$$,
                  'three NOLOGIN roles');
SELECT ok(pg_has_role('cdp_writer', 'cdp_reader', 'MEMBER') AND pg_has_role('cdp_admin', 'cdp_writer', 'MEMBER')
          AND NOT pg_has_role('cdp_reader', 'cdp_writer', 'MEMBER'), 'admin is a writer, a writer is a reader');
SELECT is((SELECT string_agg(function::text, ', ') FROM cdp_internal.function_roles() WHERE NOT classified), NULL,
          'every function of schema cdp has a role');
SELECT is((SELECT count(*)::int FROM cdp_internal.function_roles() f
            WHERE f.role NOT IN ('public') AND has_function_privilege('public', f.function, 'EXECUTE')), 0,
          'PUBLIC keeps EXECUTE only on pure and type-support functions');

-- cdp_reader
SELECT is(pg_temp.as_role('cdp_reader', $$SELECT count(*) FROM cdp_views.golds$$), '1', 'a reader reads a view');
SELECT is(pg_temp.as_role('cdp_reader', $$SELECT cdp.count('gold')$$), '1', 'a reader counts a segment');
SELECT is(pg_temp.as_role('cdp_reader', $$SELECT cdp.find_contact('email', 'a@example.com') IS NOT NULL$$), 'true',
          'a reader finds a contact');
SELECT is(pg_temp.as_role('cdp_reader', $$SELECT tier FROM cdp_data.profile_customer$$), 'gold', 'a reader reads profile tables');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_reader', 'SELECT cdp.resolve(''{"email": "b@example.com"}'')')$$,
                 '42501', 'permission denied for function resolve', 'a reader cannot resolve');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_reader', 'UPDATE cdp.contacts SET given_name = ''x''')$$,
                 '42501', 'permission denied for table contacts', 'a reader cannot write a table');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_reader', 'SELECT salt FROM cdp_internal.secrets')$$,
                 '42501', 'permission denied for table secrets', 'a reader cannot read the salt');
SELECT is(pg_temp.as_role('cdp_reader', $$SELECT cdp.normalize_email(' A@Example.COM')$$), 'a@example.com',
          'pure functions stay open to everybody');

-- cdp_writer
SELECT isnt(pg_temp.as_role('cdp_writer', $$SELECT cdp.resolve('{"email": "b@example.com"}')$$), NULL, 'a writer resolves');
SELECT lives_ok($$SELECT pg_temp.as_role('cdp_writer', 'SELECT cdp.set_profile(cdp.find_contact(''email'', ''b@example.com''), ''customer'', ''{"tier": "gold"}'')')$$,
                'a writer sets a profile');
SELECT lives_ok($$SELECT pg_temp.as_role('cdp_writer', 'SELECT cdp.tag(''contact'', cdp.find_contact(''email'', ''b@example.com''), ''New/Tag'')')$$,
                'a writer tags (creating the tag)');
SELECT lives_ok($$SELECT pg_temp.as_role('cdp_writer', 'SELECT cdp.track(''{"email": "b@example.com"}'', ''login'')')$$,
                'a writer tracks an event');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_writer', 'SELECT cdp.define_profile(''p2'', ''contact'', ''[]'')')$$,
                 '42501', 'permission denied for function define_profile', 'a writer cannot define a profile');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_writer', 'SELECT cdp.forget_contact(1)')$$,
                 '42501', 'permission denied for function forget_contact', 'a writer cannot forget');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_writer', 'SELECT cdp.merge_contacts(1, ''{2}'')')$$,
                 '42501', 'permission denied for function merge_contacts', 'a writer cannot merge');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_writer', 'UPDATE cdp.segments SET title = ''x''')$$,
                 '42501', 'permission denied for table segments', 'a writer cannot write a catalog table');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_writer', 'CREATE TABLE cdp_data.x (i int)')$$,
                 '42501', 'permission denied for schema cdp_data', 'a writer cannot create tables in cdp_data');

-- cdp_admin
SELECT lives_ok($$SELECT pg_temp.as_role('cdp_admin', 'SELECT cdp.define_profile(''loyalty'', ''contact'', ''[{"slug": "points", "type": "integer"}]'')')$$,
                'an admin defines a profile');
SELECT is((SELECT relowner::regrole::text FROM pg_class WHERE oid = 'cdp_data.profile_loyalty'::regclass), 'cdp_admin',
          'a generated table belongs to cdp_admin');
SELECT ok(has_table_privilege('cdp_reader', 'cdp_data.profile_loyalty', 'SELECT')
          AND has_table_privilege('cdp_writer', 'cdp_data.profile_loyalty', 'INSERT, UPDATE, DELETE')
          AND NOT has_table_privilege('cdp_reader', 'cdp_data.profile_loyalty', 'INSERT'),
          'a new generated table is granted as it is created');
SELECT lives_ok($$SELECT pg_temp.as_role('cdp_admin', 'SELECT cdp.create_view(''loyal'', ''gold'', ARRAY[''id'', ''loyalty.points''])')$$,
                'an admin creates a view');
SELECT is(pg_temp.as_role('cdp_reader', $$SELECT count(*) FROM cdp_views.loyal$$), '2', 'a reader reads the new view');
SELECT lives_ok($$SELECT pg_temp.as_role('cdp_admin', 'SELECT cdp.alter_profile(''customer'', ''[{"slug": "x", "type": "text"}]'')')$$,
                'an admin alters a profile another role created (create_roles gave it to cdp_admin)');
SELECT lives_ok($$SELECT pg_temp.as_role('cdp_admin', 'SELECT cdp.forget_contact(cdp.find_contact(''email'', ''b@example.com''))')$$,
                'an admin forgets a contact');

SELECT * FROM finish();
ROLLBACK;
