-- pgTAP: what every public function does with a NULL argument (issue 14's
-- contract gap): 22004 naming the argument where NULL is a mistake, a clear
-- 22023 where the argument is checked like any bad value, NULL or the
-- documented default where NULL means "nothing" or "as before".
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(73);
SET LOCAL client_min_messages = warning;
SELECT cdp.define_profile('p', 'contact', '[{"slug":"a","type":"text"}]');
SELECT cdp.define_document_template('t', '[{"slug":"a","type":"text"}]');
SELECT cdp.create_organization('o', 'O');
SELECT cdp.define_taxonomy('x', ARRAY['contact']);
SELECT cdp.resolve('{"email":"a@b.com"}');
CREATE FUNCTION pg_temp.me() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT cdp.find_contact('email', 'a@b.com') $$;
CREATE TEMP TABLE doc AS SELECT cdp.create_document('t', pg_temp.me(), '{"a": "x"}') AS id;
CREATE FUNCTION pg_temp.doc() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT id FROM doc $$;

SELECT is((SELECT cdp.normalize_phone(NULL)), NULL, $q$NULL gives NULL: cdp.normalize_phone(NULL)$q$);
SELECT is((SELECT cdp.normalize_identifier(NULL, 'x')), NULL, $q$NULL gives NULL: cdp.normalize_identifier(NULL, 'x')$q$);
SELECT is((SELECT cdp.normalize_identifier('email', NULL)), NULL, $q$NULL gives NULL: cdp.normalize_identifier('email', NULL)$q$);
SELECT is(cdp.is_valid_identifier(NULL, 'x'), false, 'NULL kind: not a valid identifier (is_valid_identifier never raises)');
SELECT is(cdp.is_valid_identifier('email', NULL), false, 'NULL value: not a valid identifier');
SELECT is((SELECT cdp.phone_info(NULL)), NULL, $q$NULL gives NULL: cdp.phone_info(NULL)$q$);
SELECT is((SELECT cdp.find_contact(NULL, 'x')), NULL, $q$NULL gives NULL: cdp.find_contact(NULL, 'x')$q$);
SELECT is((SELECT cdp.find_contact('email', NULL)), NULL, $q$NULL gives NULL: cdp.find_contact('email', NULL)$q$);
SELECT throws_ok($q$SELECT cdp.resolve(NULL)$q$, '22004', $q$identifiers must not be null$q$,
    $q$NULL: cdp.resolve(NULL)$q$);
SELECT throws_ok($q$SELECT cdp.merge_contacts(NULL, ARRAY[pg_temp.me()])$q$, '22004', $q$target and others must not be null$q$,
    $q$NULL: cdp.merge_contacts(NULL, ARRAY[pg_temp.me()])$q$);
SELECT throws_ok($q$SELECT cdp.merge_contacts(pg_temp.me(), NULL)$q$, '22004', $q$target and others must not be null$q$,
    $q$NULL: cdp.merge_contacts(pg_temp.me(), NULL)$q$);
SELECT throws_ok($q$SELECT cdp.merge_contacts(pg_temp.me(), ARRAY[NULL::bigint])$q$, '22004', $q$others must not contain null$q$,
    $q$NULL: cdp.merge_contacts(pg_temp.me(), ARRAY[NULL::bigint])$q$);
SELECT throws_ok($q$SELECT cdp.unmerge(NULL)$q$, '22004', $q$merge id must not be null$q$,
    $q$NULL: cdp.unmerge(NULL)$q$);
SELECT is((SELECT cdp.current_contact(NULL)), NULL, $q$NULL gives NULL: cdp.current_contact(NULL)$q$);
SELECT throws_ok($q$SELECT cdp.update_contact(NULL)$q$, '22004', $q$contact id must not be null$q$,
    $q$NULL: cdp.update_contact(NULL)$q$);
SELECT throws_ok($q$SELECT cdp.forget_contact(NULL)$q$, '22004', $q$contact id must not be null$q$,
    $q$NULL: cdp.forget_contact(NULL)$q$);
SELECT throws_ok($q$SELECT cdp.cleanup_ghosts(NULL)$q$, '22004', $q$inactive_for must not be null$q$,
    $q$NULL: cdp.cleanup_ghosts(NULL)$q$);
SELECT throws_ok($q$SELECT count(*) FROM cdp.resolve_all(NULL)$q$, '22004', $q$query must not be null$q$,
    $q$NULL: count(*) FROM cdp.resolve_all(NULL)$q$);
SELECT throws_ok($q$SELECT cdp.identity_graph(NULL)$q$, '22004', $q$contact must not be null$q$,
    $q$NULL: cdp.identity_graph(NULL)$q$);
SELECT throws_ok($q$SELECT cdp.set_organization_profile(NULL, 'p', '{}')$q$, '42704', $q$organization profile "p" does not exist$q$,
    $q$NULL: cdp.set_organization_profile(NULL, 'p', '{}')$q$);
SELECT throws_ok($q$SELECT cdp.set_organization_profile('o', NULL, '{}')$q$, '22004', $q$profile slug must not be null$q$,
    $q$NULL: cdp.set_organization_profile('o', NULL, '{}')$q$);
SELECT throws_ok($q$SELECT cdp.set_organization_profile('o', 'p', NULL)$q$, '42704', $q$organization profile "p" does not exist$q$,
    $q$NULL: cdp.set_organization_profile('o', 'p', NULL)$q$);
SELECT throws_ok($q$SELECT cdp.create_organization(NULL, 'x')$q$, '22023', $q$invalid organization slug: NULL$q$,
    $q$NULL: cdp.create_organization(NULL, 'x')$q$);
SELECT lives_ok($q$SELECT cdp.create_organization('z', NULL)$q$, $q$NULL means the default or nothing: cdp.create_organization('z', NULL)$q$);
SELECT throws_ok($q$SELECT cdp.move_organization(NULL, 'o')$q$, '22004', $q$organization slug must not be null$q$,
    $q$NULL: cdp.move_organization(NULL, 'o')$q$);
SELECT lives_ok($q$SELECT cdp.move_organization('o', NULL)$q$, $q$NULL means the default or nothing: cdp.move_organization('o', NULL)$q$);
SELECT throws_ok($q$SELECT cdp.add_member(NULL, 'o')$q$, '22004', $q$contact id must not be null$q$,
    $q$NULL: cdp.add_member(NULL, 'o')$q$);
SELECT throws_ok($q$SELECT cdp.add_member(pg_temp.me(), NULL)$q$, '22004', $q$organization slug must not be null$q$,
    $q$NULL: cdp.add_member(pg_temp.me(), NULL)$q$);
SELECT lives_ok($q$SELECT cdp.add_member(pg_temp.me(), 'o', NULL, NULL)$q$, $q$NULL means the default or nothing: cdp.add_member(pg_temp.me(), 'o', NULL, NULL)$q$);
SELECT throws_ok($q$SELECT cdp.remove_member(NULL, 'o')$q$, '22004', $q$contact id must not be null$q$,
    $q$NULL: cdp.remove_member(NULL, 'o')$q$);
SELECT throws_ok($q$SELECT cdp.remove_member(pg_temp.me(), NULL)$q$, '22004', $q$organization slug must not be null$q$,
    $q$NULL: cdp.remove_member(pg_temp.me(), NULL)$q$);
SELECT throws_ok($q$SELECT count(*) FROM cdp.organization_tree(NULL)$q$, '22004', $q$organization slug must not be null$q$,
    $q$NULL: count(*) FROM cdp.organization_tree(NULL)$q$);
SELECT throws_ok($q$SELECT cdp.define_document_template(NULL, '[]')$q$, '22023', $q$invalid document template slug: NULL$q$,
    $q$NULL: cdp.define_document_template(NULL, '[]')$q$);
SELECT lives_ok($q$SELECT cdp.define_document_template('t2', NULL)$q$, $q$NULL means the default or nothing: cdp.define_document_template('t2', NULL)$q$);
SELECT throws_ok($q$SELECT cdp.define_document_template('t3', '[]', NULL)$q$, '22023', $q$invalid owner of document template "t3": NULL$q$,
    $q$NULL: cdp.define_document_template('t3', '[]', NULL)$q$);
SELECT throws_ok($q$SELECT cdp.alter_document_template(NULL)$q$, '22004', $q$document template slug must not be null$q$,
    $q$NULL: cdp.alter_document_template(NULL)$q$);
SELECT throws_ok($q$SELECT cdp.drop_document_template(NULL)$q$, '22004', $q$document template slug must not be null$q$,
    $q$NULL: cdp.drop_document_template(NULL)$q$);
SELECT throws_ok($q$SELECT cdp.create_document(NULL, 1, '{}')$q$, '22004', $q$document template slug must not be null$q$,
    $q$NULL: cdp.create_document(NULL, 1, '{}')$q$);
SELECT throws_ok($q$SELECT cdp.create_document('t', NULL, '{}')$q$, '22023', $q$a document of template "t" needs a contact$q$,
    $q$NULL: cdp.create_document('t', NULL, '{}')$q$);
SELECT lives_ok($q$SELECT cdp.create_document('t', pg_temp.me(), NULL)$q$, $q$NULL means the default or nothing: cdp.create_document('t', pg_temp.me(), NULL)$q$);
SELECT throws_ok($q$SELECT cdp.update_document(NULL, '{}')$q$, '22004', $q$document id must not be null$q$,
    $q$NULL: cdp.update_document(NULL, '{}')$q$);
SELECT lives_ok($q$SELECT cdp.update_document(pg_temp.doc(), NULL)$q$, $q$NULL means the default or nothing: cdp.update_document(pg_temp.doc(), NULL)$q$);
SELECT throws_ok($q$SELECT cdp.define_profile(NULL, 'contact', '[]')$q$, '22023', $q$invalid profile slug: NULL$q$,
    $q$NULL: cdp.define_profile(NULL, 'contact', '[]')$q$);
SELECT throws_ok($q$SELECT cdp.define_profile('q', NULL, '[]')$q$, '22023', $q$invalid object type of profile "q": NULL$q$,
    $q$NULL: cdp.define_profile('q', NULL, '[]')$q$);
SELECT lives_ok($q$SELECT cdp.define_profile('q2', 'contact', NULL)$q$, $q$NULL means the default or nothing: cdp.define_profile('q2', 'contact', NULL)$q$);
SELECT throws_ok($q$SELECT cdp.alter_profile(NULL)$q$, '22004', $q$profile slug must not be null$q$,
    $q$NULL: cdp.alter_profile(NULL)$q$);
SELECT throws_ok($q$SELECT cdp.drop_profile(NULL)$q$, '22004', $q$profile slug must not be null$q$,
    $q$NULL: cdp.drop_profile(NULL)$q$);
SELECT throws_ok($q$SELECT cdp.set_profile(NULL, 'p', '{}')$q$, '22004', $q$contact id must not be null$q$,
    $q$NULL: cdp.set_profile(NULL, 'p', '{}')$q$);
SELECT throws_ok($q$SELECT cdp.set_profile(pg_temp.me(), NULL, '{}')$q$, '22004', $q$profile slug must not be null$q$,
    $q$NULL: cdp.set_profile(pg_temp.me(), NULL, '{}')$q$);
SELECT throws_ok($q$SELECT cdp.set_profile(pg_temp.me(), 'p', NULL)$q$, '22004', $q$values must not be null$q$,
    $q$NULL: cdp.set_profile(pg_temp.me(), 'p', NULL)$q$);
SELECT throws_ok($q$SELECT cdp.remove_profile(NULL, 'p')$q$, '22004', $q$contact id must not be null$q$,
    $q$NULL: cdp.remove_profile(NULL, 'p')$q$);
SELECT throws_ok($q$SELECT cdp.remove_profile(pg_temp.me(), NULL)$q$, '22004', $q$profile slug must not be null$q$,
    $q$NULL: cdp.remove_profile(pg_temp.me(), NULL)$q$);
SELECT throws_ok($q$SELECT cdp.define_taxonomy(NULL, ARRAY['contact'])$q$, '22023', $q$invalid taxonomy slug: NULL$q$,
    $q$NULL: cdp.define_taxonomy(NULL, ARRAY['contact'])$q$);
SELECT throws_ok($q$SELECT cdp.define_taxonomy('y', NULL)$q$, '22023', $q$invalid object types of taxonomy "y": NULL$q$,
    $q$NULL: cdp.define_taxonomy('y', NULL)$q$);
SELECT throws_ok($q$SELECT cdp.add_term(NULL, 'a')$q$, '22004', $q$taxonomy slug must not be null$q$,
    $q$NULL: cdp.add_term(NULL, 'a')$q$);
SELECT throws_ok($q$SELECT cdp.add_term('x', NULL)$q$, '22023', $q$invalid term path: NULL$q$,
    $q$NULL: cdp.add_term('x', NULL)$q$);
SELECT throws_ok($q$SELECT cdp.classify(NULL, 1, 'x', 'a')$q$, '22023', $q$invalid object type: NULL$q$,
    $q$NULL: cdp.classify(NULL, 1, 'x', 'a')$q$);
SELECT throws_ok($q$SELECT cdp.classify('contact', NULL, 'x', 'a')$q$, '22004', $q$contact id must not be null$q$,
    $q$NULL: cdp.classify('contact', NULL, 'x', 'a')$q$);
SELECT throws_ok($q$SELECT cdp.classify('contact', pg_temp.me(), NULL, 'a')$q$, '22004', $q$taxonomy slug must not be null$q$,
    $q$NULL: cdp.classify('contact', pg_temp.me(), NULL, 'a')$q$);
SELECT throws_ok($q$SELECT cdp.classify('contact', pg_temp.me(), 'x', NULL)$q$, '22023', $q$invalid term path: NULL$q$,
    $q$NULL: cdp.classify('contact', pg_temp.me(), 'x', NULL)$q$);
SELECT throws_ok($q$SELECT cdp.unclassify('contact', NULL, 'x', 'a')$q$, '22004', $q$contact id must not be null$q$,
    $q$NULL: cdp.unclassify('contact', NULL, 'x', 'a')$q$);
SELECT throws_ok($q$SELECT cdp.tag(NULL, 1, 'a')$q$, '22023', $q$invalid object type: NULL$q$,
    $q$NULL: cdp.tag(NULL, 1, 'a')$q$);
SELECT throws_ok($q$SELECT cdp.tag('contact', NULL, 'a')$q$, '22004', $q$contact id must not be null$q$,
    $q$NULL: cdp.tag('contact', NULL, 'a')$q$);
SELECT throws_ok($q$SELECT cdp.tag('contact', cdp.find_contact('email', 'a@b.com'), NULL)$q$, '22023', $q$invalid tag path: NULL$q$,
    $q$NULL: cdp.tag('contact', cdp.find_contact('email', 'a@b.com'), NULL)$q$);
SELECT is(cdp.tag('contact', cdp.find_contact('email', 'a@b.com'), VARIADIC NULL::text[]), 0, 'no paths: nothing tagged');
SELECT throws_ok($q$SELECT cdp.untag('contact', NULL, 'a')$q$, '22004', $q$contact id must not be null$q$,
    $q$NULL: cdp.untag('contact', NULL, 'a')$q$);
SELECT throws_ok($q$SELECT cdp.track(NULL, 'e')$q$, '22004', $q$identifiers must not be null$q$,
    $q$NULL: cdp.track(NULL, 'e')$q$);
SELECT throws_ok($q$SELECT cdp.track('{"email":"a@b.com"}', NULL)$q$, '22023', $q$invalid event name: NULL$q$,
    $q$NULL: cdp.track('{"email":"a@b.com"}', NULL)$q$);
SELECT lives_ok($q$SELECT cdp.track('{"email":"a@b.com"}', 'e', NULL)$q$, $q$NULL means the default or nothing: cdp.track('{"email":"a@b.com"}', 'e', NULL)$q$);
SELECT lives_ok($q$SELECT cdp.track('{"email":"a@b.com"}', 'e', '{}', NULL)$q$, $q$NULL means the default or nothing: cdp.track('{"email":"a@b.com"}', 'e', '{}', NULL)$q$);
SELECT throws_ok($q$SELECT cdp.archive(NULL, 1)$q$, '22023', $q$invalid object type: NULL$q$,
    $q$NULL: cdp.archive(NULL, 1)$q$);
SELECT throws_ok($q$SELECT cdp.archive('contact', NULL)$q$, '22004', $q$contact id must not be null$q$,
    $q$NULL: cdp.archive('contact', NULL)$q$);
SELECT throws_ok($q$SELECT cdp.restore('contact', NULL)$q$, '22004', $q$contact id must not be null$q$,
    $q$NULL: cdp.restore('contact', NULL)$q$);

SELECT * FROM finish();
ROLLBACK;
