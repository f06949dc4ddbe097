-- pgTAP privilege matrix of DESIGN §9: every function of schema cdp for cdp_reader, cdp_writer, cdp_admin and
-- a role with none of them, and calls as each role (denials: 42501); test/roles.sql has the roles themselves.
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(73);
SET LOCAL client_min_messages = warning;

-- The classes, stated here and not read from cdp_internal.function_roles:
-- reader reads, writer writes data, admin defines and merges, unmerges and
-- forgets, owner is create_roles, public the pure functions (and, below,
-- the support functions of types, operators and casts).
CREATE TEMP TABLE expected (name text PRIMARY KEY, class text NOT NULL);
INSERT INTO expected
SELECT unnest(names), class FROM (VALUES
    ('reader', ARRAY['count', 'current_contact', 'estimate', 'explain_segment', 'find_contact', 'identity_graph',
                     'in_segment', 'members', 'organization_tree', 'segment_sql']),
    ('writer', ARRAY['resolve', 'resolve_all', 'track', 'ingest', 'set_profile', 'remove_profile', 'tag', 'untag',
                     'classify', 'unclassify', 'update_contact', 'refresh_contact_type', 'archive', 'restore',
                     'create_organization', 'move_organization', 'set_organization_profile', 'add_member',
                     'remove_member', 'create_document', 'update_document', 'consume', 'refresh_segment',
                     'begin_write']),
    ('admin', ARRAY['define_profile', 'alter_profile', 'drop_profile', 'define_document_template',
                    'alter_document_template', 'drop_document_template', 'define_taxonomy', 'add_term',
                    'create_segment', 'alter_segment', 'drop_segment', 'create_view', 'drop_view', 'refresh_view',
                    'schedule_refresh', 'unschedule_refresh', 'set_trait_mapping', 'drop_trait_mapping',
                    'prune_ingested_messages', 'cleanup_ghosts', 'merge_contacts', 'unmerge', 'forget_contact']),
    ('owner', ARRAY['create_roles', 'distribute']),
    ('public', ARRAY['email', 'email_address', 'phone', 'normalize_email', 'normalize_phone', 'normalize_identifier',
                     'is_valid_identifier', 'email_info', 'phone_info', 'segment_to_jsonb', 'jsonb_to_segment'])) v(class, names);
-- Every function of schema cdp with its expected class (NULL: unclassified).
CREATE TEMP VIEW classified AS
SELECT p.oid::regprocedure AS function,
       coalesce(e.class,
                CASE WHEN EXISTS (SELECT 1 FROM pg_type t WHERE p.oid IN (t.typinput, t.typoutput, t.typreceive, t.typsend))
                       OR EXISTS (SELECT 1 FROM pg_operator o WHERE o.oprcode = p.oid)
                       OR EXISTS (SELECT 1 FROM pg_amproc a WHERE a.amproc = p.oid)
                       OR EXISTS (SELECT 1 FROM pg_cast c WHERE c.castfunc = p.oid)
                     THEN 'public' END) AS class
  FROM pg_proc p LEFT JOIN pg_temp.expected e ON e.name = p.proname
 WHERE p.pronamespace = 'cdp'::regnamespace;
-- What each role may execute, by class.
CREATE TEMP TABLE may (role text, class text, allowed boolean);
INSERT INTO may
SELECT r, c, c = 'public' OR (r = 'cdp_reader' AND c = 'reader') OR (r = 'cdp_writer' AND c IN ('reader', 'writer'))
             OR (r = 'cdp_admin' AND c IN ('reader', 'writer', 'admin'))
  FROM unnest(ARRAY['cdp_reader', 'cdp_writer', 'cdp_admin', 'cdp_tap_nobody']) r,
       unnest(ARRAY['reader', 'writer', 'admin', 'owner', 'public']) c;

-- Runs statements as a role; returns the first value of the last (errors pass through).
CREATE FUNCTION pg_temp.as_role(r text, VARIADIC q text[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    res text;
    s text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', r);
    BEGIN
        FOREACH s IN ARRAY q LOOP
            IF s ~* '^\s*SELECT' THEN
                EXECUTE s INTO res;
            ELSE
                EXECUTE s;
            END IF;
        END LOOP;
    EXCEPTION WHEN OTHERS THEN
        RESET ROLE;
        RAISE;
    END;
    RESET ROLE;
    RETURN res;
END
$$;

-- ---------------------------------------------------------------- fixture
SELECT lives_ok($$SELECT cdp.create_roles()$$, 'create_roles (idempotent: the roles may exist in this cluster)');
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cdp_tap_nobody') THEN
        CREATE ROLE cdp_tap_nobody LOGIN;
    END IF;
    PERFORM cdp.define_profile('p_customer', 'contact', '[{"slug": "tier", "type": "text"}]');
    PERFORM cdp.define_document_template('p_invoice', '[{"slug": "total", "type": "number"}]');
    PERFORM cdp.define_taxonomy('p_topics', ARRAY['contact']);
    PERFORM cdp.add_term('p_topics', 'news');
    PERFORM cdp.create_segment('p_gold', $s$p_customer.tier = 'gold'$s$, refresh => 'immediate');
    PERFORM cdp.create_segment('p_gold_manual', $s$p_customer.tier = 'gold'$s$);
    PERFORM cdp.create_view('p_golds', 'p_gold', ARRAY['id', 'email', 'p_customer.tier']);
    PERFORM cdp.set_profile(cdp.resolve('{"email": "ann@privileges.example"}'), 'p_customer', '{"tier": "gold"}');
    PERFORM cdp.resolve('{"email": "bob@privileges.example"}');
END
$$;
SET CONSTRAINTS ALL IMMEDIATE;
SET CONSTRAINTS ALL DEFERRED;
SELECT cdp.find_contact('email', 'ann@privileges.example') AS ann, cdp.find_contact('email', 'bob@privileges.example') AS bob \gset

-- ---------------------------------------------------------------- the matrix
SELECT is((SELECT string_agg(function::text, ', ' ORDER BY function::text) FROM classified WHERE class IS NULL), NULL,
          'every function of schema cdp has an expected class in this test');
SELECT is((SELECT string_agg(name, ', ' ORDER BY name) FROM expected e
            WHERE NOT EXISTS (SELECT 1 FROM pg_proc p WHERE p.proname = e.name AND p.pronamespace = 'cdp'::regnamespace)),
          NULL, 'every function this test names exists');
SELECT is((SELECT string_agg(c.function::text || ': ' || c.class || ' here, ' || f.role || ' there', '; ' ORDER BY c.function::text)
             FROM classified c JOIN cdp_internal.function_roles() f USING (function)
            WHERE f.role <> CASE c.class WHEN 'owner' THEN 'owner' WHEN 'public' THEN 'public' ELSE 'cdp_' || c.class END),
          NULL, 'cdp_internal.function_roles agrees with this test''s classes');

-- One test per role and class: the functions whose EXECUTE differs from the class.
SELECT is((SELECT string_agg(c.function::text, ', ' ORDER BY c.function::text) FROM classified c
            WHERE c.class = m.class AND has_function_privilege(m.role, c.function, 'EXECUTE') <> m.allowed), NULL,
          format('%s %s every %s function', m.role, CASE WHEN m.allowed THEN 'may execute' ELSE 'may not execute' END, m.class))
  FROM may m ORDER BY m.role, m.class;

-- ---------------------------------------------------------------- cdp_reader
SELECT is(pg_temp.as_role('cdp_reader', $$SELECT concat_ws(',', (SELECT count(*) FROM cdp.contacts), (SELECT count(*) FROM cdp.identifiers),
          (SELECT count(*) FROM cdp.segments), (SELECT count(*) FROM cdp.segment_members), (SELECT count(*) > 0 FROM cdp.changes),
          (SELECT count(*) FROM cdp.profiles), (SELECT count(*) FROM cdp.terms))$$), '2,2,2,1,t,1,1',
          'a reader reads contacts, identifiers, segments, members, the change log and the catalogs');
SELECT is(pg_temp.as_role('cdp_reader', $$SELECT string_agg(concat_ws(' ', email, "p_customer.tier"), ',') FROM cdp_views.p_golds$$),
          'ann@privileges.example gold', 'a reader reads a view of cdp_views');
SELECT is(pg_temp.as_role('cdp_reader', format($$SELECT cdp.in_segment(%s, 'p_gold') AND cdp.estimate('p_gold') >= 0
          AND (SELECT count(*) FROM cdp.explain_segment('p_gold', %s)) = 1 AND cdp.identity_graph(%s) LIKE 'graph %%'$$, :ann, :ann, :ann)),
          'true', 'a reader calls in_segment, estimate, explain_segment, identity_graph');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_reader', 'INSERT INTO cdp.contacts DEFAULT VALUES')$$,
                 '42501', 'permission denied for table contacts', 'a reader cannot INSERT into contacts');
SELECT throws_ok(format($$SELECT pg_temp.as_role('cdp_reader', 'INSERT INTO cdp_data.profile_p_customer (contact_id) VALUES (%s)')$$, :bob),
                 '42501', 'permission denied for table profile_p_customer', 'a reader cannot INSERT into a profile table');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_reader', 'DELETE FROM cdp.changes')$$,
                 '42501', 'permission denied for table changes', 'a reader cannot DELETE from the change log');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_reader', 'INSERT INTO cdp.segment_members (segment, contact_id) VALUES (''p_gold'', 1)')$$,
                 '42501', 'permission denied for table segment_members', 'a reader cannot INSERT stored members');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_reader', 'SELECT cdp.track(''{"email": "ann@privileges.example"}'', ''x'')')$$,
                 '42501', 'permission denied for function track', 'a reader cannot track');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_reader', 'SELECT cdp.ingest(''{"type": "track", "userId": "u", "event": "x"}'')')$$,
                 '42501', 'permission denied for function ingest', 'a reader cannot ingest');
SELECT throws_ok(format($$SELECT pg_temp.as_role('cdp_reader', 'SELECT cdp.set_profile(%s, ''p_customer'', ''{"tier": "x"}'')')$$, :ann),
                 '42501', 'permission denied for function set_profile', 'a reader cannot set a profile');
SELECT throws_ok(format($$SELECT pg_temp.as_role('cdp_reader', 'SELECT cdp.tag(''contact'', %s, ''T'')')$$, :ann),
                 '42501', 'permission denied for function tag', 'a reader cannot tag');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_reader', 'SELECT * FROM cdp.refresh_segment(''p_gold_manual'')')$$,
                 '42501', 'permission denied for function refresh_segment', 'a reader cannot refresh a segment');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_reader', 'SELECT * FROM cdp.consume(''c'')')$$,
                 '42501', 'permission denied for function consume', 'a reader cannot consume (it moves a cursor)');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_reader', 'SELECT cdp.create_segment(''x'', ''has email'')')$$,
                 '42501', 'permission denied for function create_segment', 'a reader cannot create a segment');
-- No function but one trigger function (below) is SECURITY DEFINER, so an
-- internal function runs with the caller's table privileges.
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_reader', 'SELECT cdp_internal.store_membership_changes(''{p_gold}'', ''{1}'', ''{true}'', now())')$$,
                 '42501', 'permission denied for table segment_members', 'an internal writing function is bound by the reader''s table privileges');

-- ---------------------------------------------------------------- cdp_writer
SELECT lives_ok(format($$SELECT pg_temp.as_role('cdp_writer', 'SELECT cdp.set_profile(%s, ''p_customer'', ''{"tier": "gold"}'')',
                                                'SET CONSTRAINTS ALL IMMEDIATE', 'SET CONSTRAINTS ALL DEFERRED')$$, :bob),
                'a writer''s write runs the immediate pass (it keeps the segment''s member count)');
SELECT is((SELECT member_count FROM cdp.segments WHERE slug = 'p_gold'), 2::bigint, 'and the pass counted the new member');
SELECT is(pg_temp.as_role('cdp_writer', $$SELECT entered FROM cdp.refresh_segment('p_gold_manual')$$), '2', 'a writer refreshes a segment');
SELECT is(pg_temp.as_role('cdp_writer', $$SELECT cdp.ingest('[{"type": "identify", "userId": "u-1", "traits": {"email": "cat@privileges.example"}},
          {"type": "track", "userId": "u-1", "event": "Signed Up"}, {"type": "group", "userId": "u-1", "groupId": "p-acme"}]')$$), '3',
          'a writer ingests (identify, track, group)');
SELECT isnt(pg_temp.as_role('cdp_writer', $$SELECT cdp.track('{"email": "cat@privileges.example"}', 'login')$$), NULL, 'a writer tracks');
SELECT lives_ok(format($$SELECT pg_temp.as_role('cdp_writer', 'SELECT cdp.classify(''contact'', %s, ''p_topics'', ''news'')',
                       'SELECT cdp.untag(''contact'', %s, ''Nothing'')', 'SELECT cdp.update_contact(%s, given_name => ''Ann'')',
                       'SELECT cdp.create_document(''p_invoice'', %s, ''{"total": 3}'')', 'SELECT cdp.add_member(%s, ''p-acme'')',
                       'SELECT cdp.archive(''contact'', %s)', 'SELECT cdp.restore(''contact'', %s)')$$,
                       :ann, :ann, :ann, :ann, :ann, :bob, :bob),
                'a writer classifies, untags, updates, creates documents, adds members, archives and restores');
SELECT is(pg_temp.as_role('cdp_writer', $$SELECT count(*) FROM cdp.consume('p_consumer', 100000)$$,
                          $$SELECT count(*) FROM cdp.change_consumers WHERE consumer = 'p_consumer'$$), '1',
          'a writer consumes the change feed (which moves its cursor)');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_writer', 'UPDATE cdp.changes SET action = ''x''')$$,
                 '42501', 'permission denied for table changes', 'a writer cannot rewrite the change log');
SELECT throws_ok(format($$SELECT pg_temp.as_role('cdp_writer', 'INSERT INTO cdp.merge_blocks (contact_a, contact_b, reason) VALUES (%s, %s, ''x'')')$$, :ann, :bob),
                 '42501', 'permission denied for table merge_blocks', 'a writer cannot block a merge');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_writer', 'UPDATE cdp.segments SET definition = ''has email''')$$,
                 '42501', 'permission denied for table segments', 'a writer cannot redefine a segment (only its count and refresh time)');
SELECT throws_ok(format($$SELECT pg_temp.as_role('cdp_writer', 'SELECT cdp.unmerge(%s)')$$, :ann),
                 '42501', 'permission denied for function unmerge', 'a writer cannot unmerge');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_writer', 'SELECT cdp.create_segment(''x'', ''has email'')')$$,
                 '42501', 'permission denied for function create_segment', 'a writer cannot create a segment');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_writer', 'SELECT cdp.alter_segment(''p_gold'', title => ''x'')')$$,
                 '42501', 'permission denied for function alter_segment', 'a writer cannot alter a segment');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_writer', 'SELECT cdp.create_view(''x'', ''p_gold'', ''{id}'')')$$,
                 '42501', 'permission denied for function create_view', 'a writer cannot create a view');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_writer', 'SELECT cdp.define_taxonomy(''x'', ''{contact}'')')$$,
                 '42501', 'permission denied for function define_taxonomy', 'a writer cannot define a taxonomy');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_writer', 'SELECT cdp.add_term(''p_topics'', ''sports'')')$$,
                 '42501', 'permission denied for function add_term', 'a writer cannot add a term');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_writer', 'SELECT cdp.define_document_template(''x'', ''[]'')')$$,
                 '42501', 'permission denied for function define_document_template', 'a writer cannot define a template');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_writer', 'SELECT cdp.set_trait_mapping(''plan'', ''p_customer.tier'')')$$,
                 '42501', 'permission denied for function set_trait_mapping', 'a writer cannot map traits');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_writer', 'SELECT cdp.cleanup_ghosts(''1 day'')')$$,
                 '42501', 'permission denied for function cleanup_ghosts', 'a writer cannot delete ghosts');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_writer', 'SELECT cdp.create_roles()')$$,
                 '42501', 'permission denied for function create_roles', 'a writer cannot run create_roles');

-- ---------------------------------------------------------------- cdp_admin
SELECT lives_ok($$SELECT pg_temp.as_role('cdp_admin', 'SELECT cdp.create_segment(''p_any'', ''has email'')',
                  'SELECT cdp.alter_segment(''p_any'', title => ''Anybody'')', 'SELECT cdp.set_trait_mapping(''plan'', ''p_customer.tier'')',
                  'SELECT cdp.define_taxonomy(''p_more'', ''{contact}'')', 'SELECT cdp.add_term(''p_topics'', ''sports'')')$$,
                'an admin creates and alters segments, maps traits, defines taxonomies and terms');
SELECT isnt(pg_temp.as_role('cdp_admin', format($$SELECT cdp.merge_contacts(%s, ARRAY[%s]::bigint[])$$, :ann, :bob)), NULL, 'an admin merges');
SELECT is(pg_temp.as_role('cdp_admin', $$SELECT cdp.unmerge(max(id)) FROM cdp.merges$$), :'bob', 'an admin unmerges');
SELECT lives_ok(format($$SELECT pg_temp.as_role('cdp_admin', 'SELECT cdp.forget_contact(%s)')$$, :bob), 'an admin forgets');
SELECT lives_ok($$SELECT pg_temp.as_role('cdp_admin', 'SELECT cdp.drop_segment(''p_any'')', 'SELECT cdp.drop_trait_mapping(''plan'')')$$,
                'an admin drops a segment and a trait mapping');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_admin', 'SELECT cdp.create_roles()')$$,
                 '42501', 'permission denied for function create_roles', 'an admin cannot run create_roles (the extension''s owner does)');

-- ---------------------------------------------------------------- a role with none of them (PUBLIC)
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_tap_nobody', 'SELECT cdp.normalize_email(''A@Example.com'')')$$,
                 '42501', 'permission denied for schema cdp', 'PUBLIC has no USAGE on schema cdp (pure functions included)');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_tap_nobody', 'SELECT count(*) FROM cdp_views.p_golds')$$,
                 '42501', 'permission denied for schema cdp_views', 'PUBLIC cannot read a view');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_tap_nobody', 'SELECT count(*) FROM cdp_data.profile_p_customer')$$,
                 '42501', 'permission denied for schema cdp_data', 'PUBLIC cannot read a profile table');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_tap_nobody', 'SELECT cdp_internal.roles_enabled()')$$,
                 '42501', 'permission denied for schema cdp_internal', 'PUBLIC cannot reach cdp_internal');
SELECT is((SELECT string_agg(n.nspname || ' ' || a.privilege_type, ', ') FROM pg_namespace n, aclexplode(n.nspacl) a
            WHERE n.nspname IN ('cdp', 'cdp_data', 'cdp_views', 'cdp_internal') AND a.grantee = 0), NULL,
          'no schema of cdp grants anything to PUBLIC');
SELECT is((SELECT string_agg(c.oid::regclass::text, ', ') FROM pg_class c, aclexplode(c.relacl) a
            WHERE c.relnamespace IN ('cdp'::regnamespace, 'cdp_data'::regnamespace, 'cdp_views'::regnamespace, 'cdp_internal'::regnamespace)
              AND a.grantee = 0), NULL,
          'no table, view or sequence of cdp grants anything to PUBLIC');
-- The one exception: after a restore from another cluster, the first
-- change written (usually by cdp_writer, for whom the change log is
-- append-only) must first renumber the restored transaction ids of
-- cdp.changes (changes.sql).  It is a trigger function without arguments,
-- which nobody can call directly.
SELECT is((SELECT string_agg(p.oid::regprocedure::text, ', ') FROM pg_proc p
            WHERE p.pronamespace IN ('cdp'::regnamespace, 'cdp_internal'::regnamespace) AND p.prosecdef),
          'cdp_internal.check_txid_origin()',
          'no function but the restore check of the change feed is SECURITY DEFINER: every call runs with its caller''s privileges');
SELECT throws_ok($$SELECT pg_temp.as_role('cdp_writer', 'SELECT cdp_internal.check_txid_origin()')$$,
                 '0A000', 'trigger functions can only be called as triggers', 'and nobody can call it directly');

SELECT * FROM finish();
ROLLBACK;
