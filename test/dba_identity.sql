-- pgTAP contracts of issue 15's identity points (DESIGN §5, §6): normalised
-- blocked values, lookups that never raise on a messy value, small fixes.
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(35);

--
-- Blocked values are normalised when written; refused if the normaliser refuses them
--
UPDATE cdp.identifier_kinds SET blocked_values = ARRAY['Test@Example.com ', 'test@example.com']
 WHERE kind = 'email';
SELECT is((SELECT blocked_values FROM cdp.identifier_kinds WHERE kind = 'email'), ARRAY['test@example.com'],
    'blocked values: an email is stored normalised, once');
SELECT is((SELECT blocked_values FROM cdp_internal.builtin_kind_settings WHERE kind = 'email'),
    ARRAY['test@example.com'], 'blocked values: the dumped settings of a built-in kind hold the normalised value');
SELECT is(cdp.resolve('{"email": "jo@example.com"}') = cdp.resolve('{"email": "jo@example.com", "phone": "+33 6 12 34 56 78"}'),
    true, 'blocked values: (a contact to test against)');
SELECT isnt(cdp.resolve('{"email": "TEST@example.com", "external_id": "b1"}'),
            cdp.resolve('{"email": "test@example.com", "external_id": "b2"}'),
    'blocked values: a value blocked as written with spaces and capitals links nothing');
SELECT is((SELECT count(*) FROM cdp.identity_conflicts WHERE rule = 'blocked' AND value = 'test@example.com'),
    2::bigint, 'blocked values: both uses are recorded as blocked conflicts');

UPDATE cdp.identifier_kinds SET blocked_values = ARRAY['+33 6 12 34 56 78'] WHERE kind = 'phone';
SELECT is((SELECT blocked_values FROM cdp.identifier_kinds WHERE kind = 'phone'), ARRAY['+33612345678'],
    'blocked values: a phone is stored in E.164');

INSERT INTO cdp.identifier_kinds (kind, title, normalizer, priority, blocked_values, blocked_patterns)
VALUES ('crm_mail', 'CRM mail', 'email', 10, ARRAY[' Info@Example.COM'], ARRAY['%@Example.COM']);
SELECT is((SELECT blocked_values FROM cdp.identifier_kinds WHERE kind = 'crm_mail'), ARRAY['info@example.com'],
    'blocked values: normalised when a kind is inserted');
SELECT is((SELECT blocked_patterns FROM cdp.identifier_kinds WHERE kind = 'crm_mail'), ARRAY['%@Example.COM'],
    'blocked values: patterns are left as written');

SELECT throws_ok($$UPDATE cdp.identifier_kinds SET blocked_values = ARRAY['0000000000'] WHERE kind = 'phone'$$,
    '22023', 'invalid blocked value ''0000000000'' of identifier kind "phone"',
    'blocked values: a value the phone normaliser refuses is refused');
SELECT throws_ok($$INSERT INTO cdp.identifier_kinds (kind, title, normalizer, priority, blocked_values)
                   VALUES ('crm_mail2', 'CRM mail', 'email', 11, ARRAY['n/a'])$$,
    '22023', 'invalid blocked value ''n/a'' of identifier kind "crm_mail2"',
    'blocked values: a value the email normaliser refuses is refused on insert');
CREATE FUNCTION pg_temp.error_detail(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
BEGIN
    EXECUTE q;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN d;
END
$$;
SELECT matches(pg_temp.error_detail($$UPDATE cdp.identifier_kinds SET blocked_values = ARRAY['0000000000'] WHERE kind = 'phone'$$),
    '^The kind''s phone normaliser refuses it: invalid phone number',
    'blocked values: the detail gives the normaliser''s reason');
SELECT throws_ok($$UPDATE cdp.identifier_kinds SET blocked_values = ARRAY[NULL] WHERE kind = 'email'$$,
    '22004', 'blocked values of identifier kind "email" must not contain null',
    'blocked values: null is refused');
SELECT is((SELECT blocked_values FROM cdp.identifier_kinds WHERE kind = 'phone'), ARRAY['+33612345678'],
    'blocked values: a refused change leaves the kind as it was');

--
-- find_contact never raises on a messy value
--
SELECT is(cdp.find_contact('email', 'n/a'), NULL, 'find_contact: NULL for a value the email normaliser refuses');
SELECT is(cdp.find_contact('phone', '0000000000'), NULL, 'find_contact: NULL for an invalid phone number');
SELECT is(cdp.find_contact('phone', '06 12 34 56 78', 'ZZ'), NULL, 'find_contact: NULL for an unknown region');
SELECT is(cdp.find_contact('email', 'nobody@example.com'), NULL, 'find_contact: NULL for an unknown value');
SELECT is(cdp.find_contact('email', ' JO@Example.com'), cdp.resolve('{"email": "jo@example.com"}'),
    'find_contact: a known value is found, normalised first');
SELECT throws_ok($$SELECT cdp.find_contact('nope', 'x')$$, '42704', 'unknown identifier kind: "nope"',
    'find_contact: an unknown kind is still an error');

--
-- merge_contacts with no others
--
SELECT throws_ok(format('SELECT cdp.merge_contacts(%s, ''{}'')', cdp.resolve('{"email": "jo@example.com"}')),
    '22023', format('nothing to merge into contact %s', cdp.resolve('{"email": "jo@example.com"}')),
    'merge_contacts: an empty others array is nothing to merge');

--
-- update_contact trims names and stores blank ones as NULL
--
SELECT FROM cdp.update_contact(cdp.resolve('{"email": "jo@example.com"}'), E'  Jo \t', ' Smith ');
SELECT is((SELECT row(given_name, family_name)::text FROM cdp.contacts WHERE id = cdp.resolve('{"email": "jo@example.com"}')),
    '(Jo,Smith)', 'update_contact: names are trimmed');
SELECT FROM cdp.update_contact(cdp.resolve('{"email": "jo@example.com"}'), '   ');
SELECT is((SELECT row(given_name, family_name)::text FROM cdp.contacts WHERE id = cdp.resolve('{"email": "jo@example.com"}')),
    '(,Smith)', 'update_contact: a blank name is stored as NULL');
SELECT FROM cdp.update_contact(cdp.resolve('{"email": "jo@example.com"}'), NULL, '');
SELECT is((SELECT row(given_name, family_name)::text FROM cdp.contacts WHERE id = cdp.resolve('{"email": "jo@example.com"}')),
    '(,)', 'update_contact: an empty name is stored as NULL');
SELECT FROM cdp.update_contact(cdp.resolve('{"email": "jo@example.com"}'), 'Jo');
SELECT is((SELECT row(given_name, family_name)::text FROM cdp.contacts WHERE id = cdp.resolve('{"email": "jo@example.com"}')),
    '(Jo,)', 'update_contact: NULL still leaves a name as it is');

--
-- add_term derives slugs and keeps titles, as tag does
--
SELECT FROM cdp.define_taxonomy('dba_interests', ARRAY['contact']);
SELECT cdp.add_term('dba_interests', 'Sports/Football') AS football \gset
SELECT is((SELECT row(slug, title, path)::text FROM cdp.terms WHERE id = :football),
    '(football,Football,sports/football)', 'add_term: a title-cased path gets slugs and keeps its titles');
SELECT is((SELECT title FROM cdp.terms WHERE taxonomy = 'dba_interests' AND path = 'sports'), 'Sports',
    'add_term: ancestors too');
SELECT is(cdp.add_term('dba_interests', 'sports/football'), :football::bigint,
    'add_term: the slug path finds the same term');
SELECT cdp.add_term('dba_interests', 'Rock & Roll') AS rock \gset
SELECT is((SELECT row(slug, title)::text FROM cdp.terms WHERE id = :rock),
    '(rock-roll,"Rock & Roll")', 'add_term: runs of other characters become -');
SELECT cdp.add_term('dba_interests', 'team_sports') AS team \gset
SELECT is((SELECT row(slug, title)::text FROM cdp.terms WHERE id = :team),
    '(team_sports,"Team Sports")', 'add_term: a part that is already a slug is kept, titled as before');
SELECT throws_ok($$SELECT cdp.add_term('dba_interests', 'Sports/!!!')$$, '22023',
    'invalid term slug "" in path ''Sports/!!!''', 'add_term: a part with no slug is refused');
SELECT lives_ok($$SELECT cdp.classify('contact', cdp.resolve('{"email": "jo@example.com"}'), 'dba_interests', 'sports/football')$$,
    'add_term: a derived term is classified by its slug path');
SELECT lives_ok($$SELECT cdp.classify('contact', cdp.resolve('{"email": "jo@example.com"}'), 'dba_interests', 'Sports/Football')$$,
    'classify finds a term by the path as written, as add_term derives it');
SELECT is(cdp.count($$dba_interests is 'Sports/Football'$$::cdp.segment), 1::bigint,
    'and so does a segment');

-- A public function for what the README asks of an administrator who edits by hand.
SELECT cdp.resolve('[{"kind": "email", "value": "typed@example.com", "validated": "otp"}]') AS typed \gset
SELECT FROM cdp.update_contact(:typed, 'Ty');
SELECT is((SELECT type FROM cdp.contacts WHERE id = :typed), 'contact', 'a named contact with a validated email');
UPDATE cdp.identifiers SET is_validated = false WHERE contact_id = :typed;
SELECT is(cdp.refresh_contact_type(:typed), 'lead', 'refresh_contact_type recomputes the type after a change by hand');

SELECT * FROM finish();
ROLLBACK;
