-- pgTAP contracts of every error path of segments (DESIGN §7): unknown names,
-- operators and literals, misplaced conditions, cycles, drops in use, injection.
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(145);
SET LOCAL client_min_messages = warning;
SET LOCAL timezone = 'UTC';

-- Contacts made by this file, by name.
CREATE TEMP TABLE c (name text PRIMARY KEY, id bigint NOT NULL);
CREATE FUNCTION pg_temp.c(text) RETURNS bigint LANGUAGE sql STABLE
AS $$ SELECT id FROM c WHERE name = $1 $$;
-- 'SQLSTATE: message / detail' of the error a statement raises, or 'no error'.
CREATE FUNCTION pg_temp.error_of(sql text) RETURNS text LANGUAGE plpgsql
AS $$
DECLARE
    st text;
    msg text;
    det text;
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN st || ': ' || msg || coalesce(' / ' || nullif(det, ''), '');
END
$$;
-- The count of a definition, or the SQLSTATE of its error.
CREATE FUNCTION pg_temp.try_count(seg text) RETURNS text LANGUAGE plpgsql
AS $$
BEGIN
    RETURN cdp.count(seg::cdp.segment)::text;
EXCEPTION WHEN OTHERS THEN
    RETURN 'error ' || SQLSTATE;
END
$$;
-- The statement that counts a definition.
CREATE FUNCTION pg_temp.q(seg text) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT format('SELECT cdp.count(%L::cdp.segment)', seg) $$;

DO $fixture$
BEGIN
    PERFORM cdp.define_profile('customer', 'contact', '[
        {"slug": "tier", "type": "text"},
        {"slug": "age", "type": "integer"},
        {"slug": "vip", "type": "boolean"},
        {"slug": "birthday", "type": "date"},
        {"slug": "signup", "type": "datetime"},
        {"slug": "wake", "type": "time"},
        {"slug": "hobbies", "type": "text", "array": true},
        {"slug": "meta", "type": "json"}]');
    PERFORM cdp.define_profile('loyalty', 'contact', '[{"slug": "points", "type": "integer"}]');
    PERFORM cdp.define_profile('cust', 'contact', '[{"slug": "x", "type": "text"}]');
    PERFORM cdp.define_profile('company', 'organization', '[{"slug": "industry", "type": "text"}, {"slug": "size", "type": "integer"}]');
    PERFORM cdp.define_document_template('contract', '[{"slug": "amount", "type": "number"}]');
    PERFORM cdp.define_taxonomy('interests', ARRAY['contact']);
    PERFORM cdp.add_term('interests', 'sports/football');
    PERFORM cdp.add_term('interests', 'music');
    PERFORM cdp.define_taxonomy('sectors', ARRAY['organization']);
    PERFORM cdp.add_term('sectors', 'retail');
    PERFORM cdp.create_organization('acme', 'Acme');
    INSERT INTO c VALUES
        ('ann', cdp.resolve('{"email": "ann@example.com"}')),
        ('ben', cdp.resolve('{"email": "ben@example.com"}')),
        ('cat', cdp.resolve('{"email": "cat@example.com"}')),
        ('dan', cdp.resolve('{"email": "dan@example.com"}'));
    PERFORM cdp.set_profile(pg_temp.c('ann'), 'customer', '{"tier": "gold", "age": 30}');
    PERFORM cdp.set_profile(pg_temp.c('ben'), 'customer', $j${"tier": "'); drop table cdp.contacts; --"}$j$);
    PERFORM cdp.set_profile(pg_temp.c('cat'), 'customer', $j${"tier": "C:\\temp\\"}$j$);
    PERFORM cdp.set_profile(pg_temp.c('dan'), 'customer', $j${"tier": "x' or '1'='1"}$j$);
    PERFORM cdp.tag('contact', pg_temp.c('ann'), 'VIP', 'O''Brien', 'Back\slash');
    PERFORM cdp.classify('contact', pg_temp.c('ann'), 'interests', 'sports/football');
    PERFORM cdp.add_member(pg_temp.c('ann'), 'acme');
    PERFORM cdp.track('{"email": "ann@example.com"}', 'it''s "quoted"', '{"note": "a''b"}', '2025-06-01 00:00+00');
END
$fixture$;
CREATE TEMP TABLE before AS SELECT count(*) AS n FROM cdp.contacts;

-- ---------------------------------------------------------------- unknown names
SELECT throws_ok(pg_temp.q($$nope.tier = 'x'$$), '42704', 'profile "nope" does not exist', 'unknown profile');
SELECT throws_ok($$SELECT cdp.create_segment('e_profile', $s$nope.tier = 'x'$s$)$$, '42704', 'profile "nope" does not exist',
    'unknown profile when a segment is saved');
SELECT is((SELECT count(*) FROM cdp.segments WHERE slug = 'e_profile'), 0::bigint, 'and nothing is saved');
SELECT throws_ok(pg_temp.q($$customer.nope = 1$$), '42703', 'attribute "nope" of profile "customer" does not exist', 'unknown attribute');
SELECT throws_ok(format($$SELECT cdp.in_segment(%s, 'customer.nope = 1'::cdp.segment)$$, pg_temp.c('ann')), '42703',
    'attribute "nope" of profile "customer" does not exist', 'unknown attribute in in_segment');
SELECT throws_ok(format($$SELECT * FROM cdp.explain_segment('customer.nope = 1'::cdp.segment, %s)$$, pg_temp.c('ann')), '42703',
    'attribute "nope" of profile "customer" does not exist', 'unknown attribute in explain_segment');
SELECT throws_ok($$SELECT * FROM cdp.members('customer.nope = 1'::cdp.segment)$$, '42703',
    'attribute "nope" of profile "customer" does not exist', 'unknown attribute in members');
SELECT throws_ok($$SELECT cdp.estimate('customer.nope = 1'::cdp.segment)$$, '42703',
    'attribute "nope" of profile "customer" does not exist', 'unknown attribute in estimate');
SELECT throws_ok($$SELECT cdp.segment_sql('customer.nope = 1'::cdp.segment)$$, '42703',
    'attribute "nope" of profile "customer" does not exist', 'unknown attribute in segment_sql');
SELECT throws_ok(pg_temp.q($$contact.nope = 1$$), '42703', 'contact field "nope" does not exist', 'unknown contact field');
SELECT throws_ok(pg_temp.q($$organization.nope = 1$$), '42703', 'organization field "nope" does not exist', 'unknown organization field');
SELECT throws_ok(pg_temp.q($$organization(company.nope = 1)$$), '42703', 'attribute "nope" of profile "company" does not exist',
    'unknown organization profile attribute');
SELECT throws_ok(pg_temp.q($$has nope$$), '42704', 'identifier kind "nope" does not exist', 'unknown kind');
SELECT throws_ok(pg_temp.q($$has validated nope$$), '42704', 'identifier kind "nope" does not exist', 'unknown validated kind');
SELECT throws_ok(pg_temp.q($$has profile nope$$), '42704', 'profile "nope" does not exist', 'unknown profile in has profile');
SELECT throws_ok(pg_temp.q($$nope is 'a'$$), '42704', 'taxonomy "nope" does not exist', 'unknown taxonomy');
SELECT throws_ok(pg_temp.q($$interests is 'nope'$$), '42704', 'term "nope" of taxonomy "interests" does not exist', 'unknown term');
SELECT throws_ok(pg_temp.q($$interests under 'sports/nope'$$), '42704', 'term "sports/nope" of taxonomy "interests" does not exist',
    'unknown term under');
SELECT throws_ok(pg_temp.q($$sectors is 'retail'$$), '22023', 'taxonomy "sectors" does not classify contacts',
    'a taxonomy not allowed for contacts');
SELECT lives_ok(pg_temp.q($$organization(sectors is 'retail')$$), 'but allowed for organizations');
SELECT throws_ok(pg_temp.q($$tag 'NoSuchTag'$$), '42704', 'tag "NoSuchTag" does not exist', 'unknown tag');
SELECT throws_ok(pg_temp.q($$tag under 'VIP/Nope'$$), '42704', 'tag "VIP/Nope" does not exist', 'unknown tag under');
SELECT throws_ok(pg_temp.q($$organization(tag 'NoSuchTag')$$), '42704', 'tag "NoSuchTag" does not exist', 'unknown organization tag');
SELECT throws_ok(pg_temp.q($$document nope$$), '42704', 'document template "nope" does not exist', 'unknown template');
SELECT throws_ok(pg_temp.q($$document contract (contract.nope > 1)$$), '42703',
    'attribute "nope" of document template "contract" does not exist', 'unknown template attribute');
SELECT throws_ok(pg_temp.q($$organization under 'nope'$$), '42704', 'organization "nope" does not exist', 'unknown organization');
SELECT throws_ok(pg_temp.q($$in segment 'nope'$$), '42704', 'segment "nope" does not exist', 'unknown segment in in segment');
SELECT throws_ok($$SELECT cdp.count('nope'::text)$$, '42704', 'segment "nope" does not exist', 'count of an unknown slug');
SELECT throws_ok($$SELECT * FROM cdp.members('nope'::text)$$, '42704', 'segment "nope" does not exist', 'members of an unknown slug');
SELECT throws_ok($$SELECT cdp.estimate('nope'::text)$$, '42704', 'segment "nope" does not exist', 'estimate of an unknown slug');
SELECT throws_ok(format($$SELECT cdp.in_segment(%s, 'nope'::text)$$, pg_temp.c('ann')), '42704', 'segment "nope" does not exist',
    'in_segment of an unknown slug');
SELECT throws_ok(format($$SELECT * FROM cdp.explain_segment('nope'::text, %s)$$, pg_temp.c('ann')), '42704',
    'segment "nope" does not exist', 'explain_segment of an unknown slug');
SELECT throws_ok($$SELECT cdp.alter_segment('nope', 'tag ''VIP''')$$, '42704', 'segment "nope" does not exist', 'alter_segment of an unknown slug');
SELECT throws_ok($$SELECT cdp.drop_segment('nope')$$, '42704', 'segment "nope" does not exist', 'drop_segment of an unknown slug');
SELECT lives_ok($$SELECT cdp.create_segment('dup', 'tag ''VIP''')$$, 'a segment');
SELECT throws_ok($$SELECT cdp.create_segment('dup', 'tag ''VIP''')$$, '42710', 'segment "dup" already exists', 'a slug is saved once');
SELECT throws_ok($$SELECT cdp.create_segment('dup2', 'tag ''VIP''', refresh => 'sometimes')$$, '22023', 'invalid refresh mode: ''sometimes''',
    'an unknown refresh mode');
SELECT throws_ok($$SELECT cdp.alter_segment('dup', refresh => 'sometimes')$$, '22023', 'invalid refresh mode: ''sometimes''',
    'an unknown refresh mode in alter_segment');
SELECT throws_ok($$SELECT cdp.alter_segment('dup', 'customer.nope = 1')$$, '42703', 'attribute "nope" of profile "customer" does not exist',
    'alter_segment checks the new definition');
SELECT is((SELECT definition::text FROM cdp.segments WHERE slug = 'dup'), ($$tag 'VIP'$$::cdp.segment)::text, 'and keeps the old one');

-- ---------------------------------------------------------------- operators (42883)
SELECT throws_ok(pg_temp.q($$customer.age like '1%'$$), '42883', 'operator like does not apply to customer.age of type integer', 'LIKE on integer');
SELECT throws_ok(pg_temp.q($$customer.age ilike '1%'$$), '42883', 'operator ilike does not apply to customer.age of type integer', 'ILIKE on integer');
SELECT throws_ok(pg_temp.q($$customer.birthday like '19%'$$), '42883', 'operator like does not apply to customer.birthday of type date', 'LIKE on date');
SELECT throws_ok(pg_temp.q($$customer.vip < true$$), '42883', 'operator < does not apply to customer.vip of type boolean', '< on boolean');
SELECT throws_ok(pg_temp.q($$customer.vip between false and true$$), '42883', 'operator between does not apply to customer.vip of type boolean',
    'BETWEEN on boolean');
SELECT throws_ok(pg_temp.q($$customer.meta = 'x'$$), '42883', 'operator = does not apply to customer.meta of type json', '= on json');
SELECT throws_ok(pg_temp.q($$customer.hobbies = 'x'$$), '42883', 'operator = does not apply to customer.hobbies of type text array', '= on an array');
SELECT throws_ok(pg_temp.q($$customer.tier contains 'x'$$), '42883', 'operator contains does not apply to customer.tier of type text',
    'CONTAINS on a scalar');
SELECT throws_ok(pg_temp.q($$customer.vip = 'maybe'$$), '42883', 'cannot compare customer.vip of type boolean with a string',
    'a string for a boolean');
SELECT throws_ok(pg_temp.q($$customer.vip = 'yes'$$), '42883', 'cannot compare customer.vip of type boolean with a string',
    'a boolean is true or false, never a string that boolin reads');
SELECT throws_ok(pg_temp.q($$customer.age = true$$), '42883', 'cannot compare customer.age of type integer with true or false', 'a boolean for an integer');
SELECT throws_ok(pg_temp.q($$customer.tier = now()$$), '42883', 'cannot compare customer.tier of type text with now()', 'now() for text');
SELECT throws_ok(pg_temp.q($$event 'x' where (properties.a = now())$$), '42883', 'cannot compare properties.a with now()', 'now() for a property');

-- ---------------------------------------------------------------- literals (22P02)
SELECT throws_ok(pg_temp.q($$customer.age = 'abc'$$), '22P02', 'invalid value for customer.age of type integer: "abc"', 'a string that is no integer');
SELECT throws_ok(pg_temp.q($$customer.age = 1.5$$), '22P02', 'invalid value for customer.age of type integer: "1.5"', 'a fraction for an integer');
SELECT throws_ok(pg_temp.q($$customer.age = 99999999999999999999$$), '22P02',
    'invalid value for customer.age of type integer: "99999999999999999999"', 'an integer out of range');
SELECT throws_ok(pg_temp.q($$customer.age in (1, 'x')$$), '22P02', 'invalid value for customer.age of type integer: "x"', 'a bad literal in IN');
SELECT throws_ok(pg_temp.q($$customer.age between 1 and 'x'$$), '22P02', 'invalid value for customer.age of type integer: "x"', 'a bad literal in BETWEEN');
SELECT throws_ok(pg_temp.q($$customer.birthday = 'notadate'$$), '22P02', 'invalid value for customer.birthday of type date: "notadate"', 'a bad date');
SELECT throws_ok(pg_temp.q($$customer.birthday = '2025-02-30'$$), '22P02', 'invalid value for customer.birthday of type date: "2025-02-30"', 'an impossible date');
SELECT throws_ok(pg_temp.q($$customer.signup > 'yesterday'$$), '22P02', 'invalid value for customer.signup of type datetime: "yesterday"',
    'special datetime values are refused');
SELECT throws_ok(pg_temp.q($$customer.wake = '25:99'$$), '22P02', 'invalid value for customer.wake of type time: "25:99"', 'a bad time');
SELECT throws_ok(pg_temp.q($$customer.hobbies contains 5$$), '42883', 'cannot compare customer.hobbies of type text with a number',
    'a number for a text array element');
SELECT is(pg_temp.error_of(pg_temp.q($$customer.signup > now() - interval 'banana'$$)) ~ '^22P02: .*banana', true, 'a bad interval');

-- ---------------------------------------------------------------- misplaced conditions (42601)
SELECT matches(pg_temp.error_of(pg_temp.q(x)), '^42601: condition .* cannot be used inside organization', 'organization(...) refuses ' || x)
  FROM unnest(ARRAY[$$organization(event 'x')$$, $$organization(has email)$$, $$organization(in segment 'x')$$,
                    $$organization(document contract)$$, $$organization(contact.given_name = 'x')$$,
                    $$organization(customer.tier = 'x')$$, $$organization(company.size > 1 and customer.age > 1)$$,
                    $$organization(has profile customer)$$, $$organization(organization under 'acme')$$]) x;
SELECT matches(pg_temp.error_of(pg_temp.q($$properties.x = 1$$)), '^42601: condition .* can only be used inside a quantifier',
    'properties outside event where');
SELECT matches(pg_temp.error_of(pg_temp.q($$document contract (event 'x')$$)), '^42601: condition .* cannot be used inside document contract',
    'an event inside document (...)');
SELECT matches(pg_temp.error_of(pg_temp.q($$event 'x' where (customer.tier = 'a')$$)), '^42601: condition .* cannot be used inside event where',
    'a profile attribute inside event where');
SELECT throws_ok(pg_temp.q(''), '42601', NULL, 'empty input');
SELECT throws_ok(pg_temp.q($$(tag 'VIP'$$), '42601', NULL, 'unbalanced parentheses');
SELECT throws_ok(pg_temp.q($$frobnicate 'x'$$), '42601', NULL, 'an unknown keyword');

-- ---------------------------------------------------------------- cycles (42P17) and drop_segment (2BP01)
SELECT lives_ok($$SELECT cdp.create_segment('s_a', $s$tag 'VIP'$s$)$$, 'segment s_a');
SELECT lives_ok($$SELECT cdp.create_segment('s_b', $s$in segment 's_a'$s$)$$, 'segment s_b uses s_a');
SELECT lives_ok($$SELECT cdp.create_segment('s_d', $s$in segment 's_b' and customer.age > 1$s$)$$, 'segment s_d uses s_b');
SELECT throws_ok($$SELECT cdp.alter_segment('s_a', $s$in segment 's_a'$s$)$$, '42P17', 'segment "s_a" refers to itself through in segment',
    'alter_segment refuses a definition that uses itself');
SELECT throws_ok($$SELECT cdp.alter_segment('s_a', $s$in segment 's_b'$s$)$$, '42P17', 'segment "s_a" refers to itself through in segment',
    'alter_segment refuses a cycle of two');
SELECT throws_ok($$SELECT cdp.alter_segment('s_a', $s$tag 'VIP' or in segment 's_d'$s$)$$, '42P17',
    'segment "s_a" refers to itself through in segment', 'alter_segment refuses a cycle of three');
SELECT is((SELECT definition::text FROM cdp.segments WHERE slug = 's_a'), ($$tag 'VIP'$$::cdp.segment)::text,
    'a refused alter_segment leaves the definition');
SELECT throws_ok($$SELECT cdp.create_segment('s_self', $s$in segment 's_self'$s$)$$, '42P17',
    'segment "s_self" refers to itself through in segment', 'create_segment refuses a definition that uses itself');
SELECT is((SELECT count(*) FROM cdp.segments WHERE slug = 's_self'), 0::bigint, 'and saves nothing');
SELECT matches(pg_temp.error_of($$SELECT cdp.drop_segment('s_a')$$), '^2BP01: .*"s_a".* / .*segment "s_b"',
    'drop_segment is refused while another segment uses it, naming that segment');
SELECT is((SELECT count(*) FROM cdp.segments WHERE slug = 's_a'), 1::bigint, 'the segment is still there');
SELECT lives_ok($$SELECT cdp.drop_segment('s_d')$$, 'a segment nobody uses can be dropped');
SELECT lives_ok($$SELECT cdp.drop_segment('s_b')$$, 'and then the one it used');
SELECT lives_ok($$SELECT cdp.drop_segment('s_a')$$, 'and then the last');

-- ---------------------------------------------------------------- drops refused while a saved segment uses the thing
SELECT lives_ok($$SELECT cdp.create_segment('dep_attr', $s$customer.tier = 'cust.x'$s$)$$, 'a segment using customer.tier');
SELECT lives_ok($$SELECT cdp.create_segment('dep_has', $s$has profile loyalty$s$)$$, 'a segment using has profile loyalty');
SELECT lives_ok($$SELECT cdp.create_segment('dep_doc', $s$document contract (contract.amount > 1)$s$)$$, 'a segment using a template');
SELECT lives_ok($$SELECT cdp.create_segment('dep_term', $s$interests is 'sports/football'$s$)$$, 'a segment using a term');
SELECT lives_ok($$SELECT cdp.create_segment('dep_org', $s$organization(sectors under 'retail')$s$)$$, 'a segment using an organization taxonomy');
SELECT matches(pg_temp.error_of($$SELECT cdp.drop_profile('customer')$$), '^2BP01: .*"customer".* / .*segment "dep_attr"',
    'drop_profile is refused naming the segment');
SELECT matches(pg_temp.error_of($$SELECT cdp.alter_profile('customer', drop => ARRAY['tier'])$$), '^2BP01: .* / .*segment "dep_attr"',
    'dropping a used attribute is refused naming the segment');
SELECT matches(pg_temp.error_of($$SELECT cdp.drop_profile('loyalty')$$), '^2BP01: .*"loyalty".* / .*segment "dep_has"',
    'drop_profile of a profile used by has profile');
SELECT matches(pg_temp.error_of($$SELECT cdp.drop_document_template('contract')$$), '^2BP01: .*"contract".* / .*segment "dep_doc"',
    'drop_document_template is refused naming the segment');
SELECT matches(pg_temp.error_of($$SELECT cdp.alter_document_template('contract', drop => ARRAY['amount'])$$), '^2BP01: .* / .*segment "dep_doc"',
    'dropping a used template attribute is refused naming the segment');
SELECT matches(pg_temp.error_of($$DELETE FROM cdp.terms WHERE taxonomy = 'interests' AND path = 'sports/football'$$),
    '^2BP01: .*"sports/football".* / .*segment "dep_term"', 'deleting a used term is refused naming the segment');
SELECT matches(pg_temp.error_of($$DELETE FROM cdp.terms WHERE taxonomy = 'interests' AND path = 'sports'$$),
    '^2BP01: .* / .*segment "dep_term"', 'so is deleting its parent, which would cascade to it');
SELECT matches(pg_temp.error_of($$DELETE FROM cdp.taxonomies WHERE slug = 'interests'$$),
    '^2BP01: .*"interests".* / .*segment "dep_term"', 'deleting a used taxonomy is refused naming the segment');
SELECT matches(pg_temp.error_of($$DELETE FROM cdp.taxonomies WHERE slug = 'sectors'$$),
    '^2BP01: .*"sectors".* / .*segment "dep_org"', 'so is deleting a taxonomy used inside organization(...)');
SELECT lives_ok($$SELECT cdp.drop_profile('cust')$$, 'a profile whose name only appears inside a string literal can be dropped');
SELECT lives_ok($$SELECT cdp.alter_profile('customer', drop => ARRAY['wake'])$$, 'an attribute no segment uses can be dropped');
SELECT lives_ok($$DELETE FROM cdp.terms WHERE taxonomy = 'interests' AND path = 'music'$$, 'an unused term can be deleted');
SELECT lives_ok($$SELECT cdp.drop_segment('dep_attr')$$, 'drop the segment using customer');
SELECT lives_ok($$SELECT cdp.drop_segment('dep_has')$$, 'drop the segment using loyalty');
SELECT lives_ok($$SELECT cdp.drop_profile('loyalty')$$, 'then the profile can be dropped');

-- ---------------------------------------------------------------- injection, quotes and backslashes
SELECT is(pg_temp.try_count($$customer.tier = '''); drop table cdp.contacts; --'$$), '1',
    'a literal with a quote, a semicolon and a comment matches the value it spells');
SELECT is(pg_temp.try_count($$customer.tier = 'x'' or ''1''=''1'$$), '1', 'a literal that would widen a badly quoted query');
SELECT is(pg_temp.try_count($$customer.tier in ('gold', '''); drop table cdp.contacts; --')$$), '2', 'the same inside IN');
SELECT is(pg_temp.try_count($$customer.tier like '%''); drop%'$$), '1', 'and inside LIKE');
SELECT ok(pg_temp.try_count($$customer.tier = 'C:\temp\'$$) IN ('1', 'error 42601'),
    'backslashes in a literal match literally or are a clean syntax error');
SELECT is(pg_temp.try_count($$tag 'O''Brien'$$), '1', 'a tag with a quote');
SELECT ok(pg_temp.try_count($$tag 'Back\slash'$$) IN ('1', 'error 42601'), 'a tag with a backslash');
SELECT throws_ok(pg_temp.q($$tag 'x''); drop table cdp.contacts; --'$$), '42704', 'tag "x''); drop table cdp.contacts; --" does not exist',
    'an unknown tag with a quote is named as given');
SELECT is(pg_temp.try_count($$event 'it''s "quoted"'$$), '1', 'an event name with quotes');
SELECT is(pg_temp.try_count($$event 'x''; drop table cdp.contacts; --'$$), '0', 'an event name with an injection');
SELECT is(pg_temp.try_count($$event 'it''s "quoted"' where (properties.note = 'a''b')$$), '1', 'a property value with a quote');
SELECT throws_ok($$SELECT cdp.count('x''; drop table cdp.contacts; --'::text)$$, '42704',
    'segment "x''; drop table cdp.contacts; --" does not exist', 'a slug with an injection');
SELECT throws_ok($$SELECT cdp.create_segment('bad''slug', 'tag ''VIP''')$$, '22023', $m$invalid segment slug: 'bad''slug'$m$,
    'a slug with a quote is refused');
SELECT throws_ok($$SELECT cdp.create_segment('bad\slug', 'tag ''VIP''')$$, '22023', $m$invalid segment slug: E'bad\\slug'$m$,
    'a slug with a backslash is refused');
SELECT throws_ok($$SELECT cdp.create_segment('ok_slug', $s$'); drop table cdp.contacts; --$s$)$$, '42601', NULL,
    'a definition that is an injection is a syntax error');
SELECT throws_ok(pg_temp.q($$customer.tier"; drop table cdp.contacts; -- = 'x'$$), '42601', NULL, 'an injection in a name');
SELECT throws_ok(pg_temp.q($$organization under 'a''b'$$), '42704', 'organization "a''b" does not exist', 'an organization slug with a quote');
SELECT throws_ok(pg_temp.q($$in segment 'a''b'$$), '42704', 'segment "a''b" does not exist', 'a segment slug with a quote');
SELECT throws_ok(pg_temp.q($$customer.signup > now() - interval '1 day''); drop table cdp.contacts; --'$$), '22P02', NULL,
    'an injection in an interval');
SELECT is(pg_temp.try_count($$customer.hobbies contains '''); drop table cdp.contacts; --'$$), '0', 'CONTAINS with an injection');
SELECT has_table('cdp', 'contacts', 'cdp.contacts still exists');
SELECT is((SELECT count(*) FROM cdp.contacts), (SELECT n FROM before), 'with all its rows');

-- NULL arguments: a NULL definition, slug, time or explained contact is a mistake.
SELECT throws_ok($$SELECT cdp.count(NULL::cdp.segment)$$, '22004', 'segment definition must not be null', 'count of a NULL definition');
SELECT throws_ok($$SELECT cdp.members(NULL::text)$$, '22004', 'segment slug must not be null', 'members of a NULL slug');
SELECT throws_ok($$SELECT cdp.count('customer.age > 1'::cdp.segment, NULL)$$, '22004', 'evaluation time must not be null',
    'count at a NULL time');
SELECT throws_ok($$SELECT cdp.in_segment(1, 'customer.age > 1'::cdp.segment, NULL)$$, '22004', 'evaluation time must not be null',
    'in_segment at a NULL time');
SELECT throws_ok($$SELECT * FROM cdp.explain_segment('customer.age > 1'::cdp.segment, NULL)$$, '22004', 'contact must not be null',
    'explain of a NULL contact');
SELECT throws_ok($$SELECT cdp.segment_sql(NULL)$$, '22004', 'segment definition must not be null', 'segment_sql of NULL');
SELECT is(cdp.in_segment(NULL, 'customer.age > 1'::cdp.segment), NULL, 'in_segment of a NULL contact is NULL, as a comparison is');

-- Profile and template slugs that segments read as built-in qualifiers are reserved.
SELECT throws_ok($$SELECT cdp.define_profile('contact', 'contact', '[{"slug": "x", "type": "text"}]')$$, '22023',
    'profile slug "contact" is reserved', 'a profile named contact');
SELECT throws_ok($$SELECT cdp.define_profile('properties', 'organization', '[]')$$, '22023',
    'profile slug "properties" is reserved', 'a profile named properties');
SELECT throws_ok($$SELECT cdp.define_document_template('document', '[]')$$, '22023',
    'document template slug "document" is reserved', 'a template named document');

SELECT * FROM finish();
ROLLBACK;
