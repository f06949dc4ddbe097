-- pgTAP contracts of issue 15 in the model: attribute names cannot break the
-- generated statements, values are read strictly, validations are consistent.
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(58);
SET LOCAL client_min_messages = warning;

-- ---------------------------------------------------------------- hostile attribute names
-- Every alias and keyword the generated statements use is an attribute name.
CREATE TEMP TABLE hostile AS
SELECT jsonb_agg(CASE WHEN n = 'order' THEN jsonb_build_object('slug', n, 'type', 'integer')
                      WHEN n = 'n' THEN jsonb_build_object('slug', n, 'type', 'integer', 'array', true)
                      WHEN n = 'e' THEN jsonb_build_object('slug', n, 'type', 'text', 'array', true)
                      WHEN n = 'p' THEN jsonb_build_object('slug', n, 'type', 'text', 'required', true)
                      ELSE jsonb_build_object('slug', n, 'type', 'text') END) AS defs
  FROM unnest(ARRAY['t', 's', 'p', 'd', 'a', 'o', 'ab', 'x', 'v', 'e', 'c', 'i', 'j', 'm', 'n', 'q', 't0', 'r',
                    'order', 'user', 'key', 'value', 'values', 'excluded', 'select', 'row', 'null']) n;
SELECT lives_ok($$SELECT cdp.define_profile('tap_hostile', 'contact', (SELECT defs FROM hostile))$$,
                'a contact profile whose attributes are named after aliases and keywords');
SELECT lives_ok($$SELECT cdp.define_profile('tap_hostile_org', 'organization', (SELECT defs FROM hostile))$$,
                'an organization profile with the same attributes');
SELECT lives_ok($$SELECT cdp.define_document_template('tap_hostile_doc', (SELECT defs FROM hostile))$$,
                'a document template with the same attributes');

SELECT cdp.resolve('{"email": "tap.hostile1@example.com"}') AS h1 \gset
SELECT cdp.resolve('{"email": "tap.hostile2@example.com"}') AS h2 \gset
SELECT lives_ok(format($$SELECT cdp.set_profile(%s, 'tap_hostile', '{"t": "one", "p": "p1", "order": 2, "e": ["a"], "n": [1, 2], "user": "u1"}')$$, :h1),
                'set_profile with hostile names');
SELECT lives_ok(format($$SELECT cdp.set_profile(%s, 'tap_hostile', '{"t": "two", "p": "p2", "s": "s2", "ab": "ab2", "key": "k2", "order": 5}')$$, :h2),
                'set_profile of the second contact');
SELECT lives_ok(format($$SELECT cdp.set_profile(%s, 'tap_hostile', '{"s": "s1b"}')$$, :h1),
                'a partial update keeps the required attribute');
SELECT is((SELECT row(t, p, s, "order", e, n, "user")::text FROM cdp_data.profile_tap_hostile WHERE contact_id = :h1),
          '(one,p1,s1b,2,{a},"{1,2}",u1)', 'the values land in their columns');
SELECT is(cdp.count($$tap_hostile.t = 'one' and tap_hostile.order > 1$$::cdp.segment), 1::bigint,
          'a segment over hostile names');

SELECT lives_ok(format($$SELECT cdp.merge_contacts(%s, ARRAY[%s]::bigint[])$$, :h1, :h2), 'merge_contacts with hostile names');
SELECT is((SELECT row(t, p, s, ab, key, "order")::text FROM cdp_data.profile_tap_hostile WHERE contact_id = :h1),
          '(one,p1,s1b,ab2,k2,2)', 'the merge fills the survivor''s empty attributes only');
SELECT lives_ok(format($$SELECT cdp.unmerge((SELECT id FROM cdp.merges WHERE absorbed_id = %s))$$, :h2),
                'unmerge with hostile names');
SELECT is((SELECT row(t, p, s, ab, key, "order")::text FROM cdp_data.profile_tap_hostile WHERE contact_id = :h2),
          '(two,p2,s2,ab2,k2,5)', 'unmerge restores the absorbed row');
SELECT is((SELECT row(t, p, s, ab, key, "order")::text FROM cdp_data.profile_tap_hostile WHERE contact_id = :h1),
          '(one,p1,s1b,,,2)', 'unmerge clears what the merge filled');

SELECT lives_ok(format($$SELECT cdp.archive('contact', %s)$$, :h1), 'archive with hostile names');
SELECT lives_ok(format($$SELECT cdp.restore('contact', %s)$$, :h1), 'restore with hostile names');

SELECT cdp.create_organization('tap-hostile', 'Hostile Inc') AS ho \gset
SELECT lives_ok($$SELECT cdp.set_organization_profile('tap-hostile', 'tap_hostile_org', '{"t": "ot", "p": "op", "order": 3}')$$,
                'set_organization_profile with hostile names');
SELECT is((SELECT row(t, p, "order")::text FROM cdp_data.profile_tap_hostile_org WHERE organization_id = :ho),
          '(ot,op,3)', 'the organization values land');

SELECT cdp.create_document('tap_hostile_doc', :h1, '{"t": "dt", "p": "dp", "values": "vv", "e": ["x", "y"]}') AS hd \gset
SELECT lives_ok(format($$SELECT cdp.update_document(%s, '{"order": 7}')$$, :hd), 'update_document with hostile names');
SELECT is((SELECT row(t, p, "values", e, "order")::text FROM cdp_data.document_tap_hostile_doc WHERE document_id = :hd),
          '(dt,dp,vv,"{x,y}",7)', 'create_document and update_document with hostile names');
SELECT lives_ok(format($$SELECT cdp.archive('document', %s)$$, :hd), 'archive a document with hostile names');

SELECT lives_ok(format($$SELECT cdp.forget_contact(%s)$$, :h2), 'forget_contact with hostile names');
SELECT is((SELECT count(*) FROM cdp_data.profile_tap_hostile WHERE contact_id = :h2), 0::bigint, 'forget erases the profile row');

-- ---------------------------------------------------------------- strict values
CREATE FUNCTION pg_temp.detail_of(sql text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE d text;
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN d;
END
$f$;
SELECT cdp.define_profile('tap_strict', 'contact', '[{"slug": "vip", "type": "boolean"}, {"slug": "age", "type": "integer"},
    {"slug": "score", "type": "number"}, {"slug": "birthday", "type": "date"}, {"slug": "seen", "type": "datetime"},
    {"slug": "wake", "type": "time"}, {"slug": "days", "type": "date", "array": true},
    {"slug": "nums", "type": "integer", "array": true}, {"slug": "flags", "type": "boolean", "array": true}]') IS NOT NULL AS defined \gset
SELECT cdp.resolve('{"email": "tap.strict@example.com"}') AS sc \gset
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_strict', '{"vip": "yes"}')$$, :sc), '22P02',
                 'invalid value for attribute "vip" of profile "tap_strict": "yes"', 'a boolean is not the string "yes"');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_strict', '{"age": "41"}')$$, :sc), '22P02',
                 'invalid value for attribute "age" of profile "tap_strict": "41"', 'an integer is not a string');
SELECT is(pg_temp.detail_of(format($$SELECT cdp.set_profile(%s, 'tap_strict', '{"score": "4.5"}')$$, :sc)),
          'The attribute expects a JSON number.', 'a number is not a string, and the error says what is expected');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_strict', '{"age": 4.5}')$$, :sc), '22P02',
                 'invalid value for attribute "age" of profile "tap_strict": 4.5', 'an integer has no fraction');
SET LOCAL DateStyle = 'ISO, DMY';
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_strict', '{"birthday": "31/12/1990"}')$$, :sc), '22P02',
                 'invalid value for attribute "birthday" of profile "tap_strict": "31/12/1990"', 'DMY: 31/12/1990 is not a date');
SELECT is(pg_temp.detail_of(format($$SELECT cdp.set_profile(%s, 'tap_strict', '{"birthday": "yesterday"}')$$, :sc)),
          'A date is an ISO 8601 string like "1990-12-31".', 'yesterday is not a date; the error gives the form');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_strict', '{"seen": "now"}')$$, :sc), '22P02',
                 'invalid value for attribute "seen" of profile "tap_strict": "now"', 'now is not a datetime');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_strict', '{"wake": "allballs"}')$$, :sc), '22P02',
                 'invalid value for attribute "wake" of profile "tap_strict": "allballs"', 'allballs is not a time');
SELECT lives_ok(format($$SELECT cdp.set_profile(%s, 'tap_strict', '{"vip": true, "age": 41, "score": 4.5, "birthday": "1990-01-02",
                "seen": "1990-12-31T23:59:00Z", "wake": "06:30", "days": ["1990-01-02"], "nums": [1, 2], "flags": [true, false]}')$$, :sc),
                'DMY: ISO values are accepted');
SET LOCAL DateStyle = 'SQL, MDY';
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_strict', '{"birthday": "12/31/1990"}')$$, :sc), '22P02',
                 'invalid value for attribute "birthday" of profile "tap_strict": "12/31/1990"', 'MDY: 12/31/1990 is not a date');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_strict', '{"days": ["1990-01-03", "today"]}')$$, :sc), '22P02',
                 'invalid value for attribute "days" of profile "tap_strict": ["1990-01-03", "today"]', 'array elements: no special dates');
SELECT is(pg_temp.detail_of(format($$SELECT cdp.set_profile(%s, 'tap_strict', '{"nums": [1, "2"]}')$$, :sc)),
          'Element 2 ("2") is not a JSON number.', 'array elements: numbers are JSON numbers');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_strict', '{"flags": [true, "no"]}')$$, :sc), '22P02',
                 'invalid value for attribute "flags" of profile "tap_strict": [true, "no"]', 'array elements: booleans are true or false');
SELECT lives_ok(format($$SELECT cdp.set_profile(%s, 'tap_strict', '{"days": ["1990-01-02", "1990-12-31"], "seen": "1990-12-31 23:59:00+00:00"}')$$, :sc),
                'MDY: ISO values are accepted');
RESET DateStyle;
SELECT is((SELECT row(vip, age, score, birthday, seen = '1990-12-31 23:59:00+00', wake, days, nums, flags)::text
             FROM cdp_data.profile_tap_strict WHERE contact_id = :sc),
          '(t,41,4.5,1990-01-02,t,06:30:00,"{1990-01-02,1990-12-31}","{1,2}","{t,f}")',
          'the values read under DMY and MDY are the same');

-- ---------------------------------------------------------------- deliverable email and phone values
SELECT cdp.define_profile('tap_reach', 'contact', '[{"slug": "email", "type": "email"}, {"slug": "cc", "type": "email", "array": true},
    {"slug": "mobile", "type": "phone"}, {"slug": "desk", "type": "email", "options": ["Sales@Corp.EXAMPLE"]}]') IS NOT NULL AS defined \gset
SELECT cdp.resolve('{"email": "tap.reach@example.com"}') AS rc \gset
SELECT lives_ok(format($$SELECT cdp.set_profile(%s, 'tap_reach', '{"email": " Jane.Doe+bills@Gmail.COM ", "cc": ["Ann.B@BÜCHER.de"],
                "mobile": "+44 20 7946 0958", "desk": "Sales@corp.example"}')$$, :rc), 'email and phone attributes take values as people write them');
SELECT is((SELECT email::text FROM cdp_data.profile_tap_reach WHERE contact_id = :rc), 'Jane.Doe+bills@gmail.com',
          'an email attribute keeps the address to send to: trimmed, domain lower-case, local part as written (not the key janedoe@gmail.com)');
SELECT is((SELECT cc::text FROM cdp_data.profile_tap_reach WHERE contact_id = :rc), '{Ann.B@xn--bcher-kva.de}',
          'an array of addresses: each element deliverable, the domain in IDNA form');
SELECT is((SELECT mobile::text FROM cdp_data.profile_tap_reach WHERE contact_id = :rc), '+442079460958', 'a phone attribute is stored in E.164');
SELECT is((SELECT pg_typeof(email)::text FROM cdp_data.profile_tap_reach WHERE contact_id = :rc), 'cdp.email_address',
          'the column type is cdp.email_address');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_reach', '{"desk": "sales@corp.example"}')$$, :rc), '23514', NULL,
                 'options of an email attribute compare deliverable addresses: the local part keeps its case');
SELECT throws_ok(format($$SELECT cdp.set_profile(%s, 'tap_reach', '{"email": "jane@@example.com"}')$$, :rc), '22P02',
                 'invalid value for attribute "email" of profile "tap_reach": "jane@@example.com"', 'an invalid address is refused, naming the attribute');
SELECT is(cdp.count($$tap_reach.email = 'Jane.Doe+bills@GMAIL.com'$$::cdp.segment), 1::bigint,
          'a segment literal is read as a deliverable address too');
SELECT is(cdp.count($$tap_reach.email ilike 'jane.doe+%'$$::cdp.segment), 1::bigint, 'ilike reads the address as written');
SELECT is(cdp.email_address(' Jane.Doe+bills@Gmail.COM')::text, 'Jane.Doe+bills@gmail.com', 'cdp.email_address(text) gives the same form');

-- ---------------------------------------------------------------- contradictory validations
SELECT throws_ok($$SELECT cdp.define_profile('tap_bad', 'contact', '[{"slug": "n", "type": "integer", "min": 10, "max": 1}]')$$,
                 '22023', 'contradictory validations of attribute "n" of profile "tap_bad": min 10 is greater than max 1',
                 'min > max is refused');
SELECT throws_ok($$SELECT cdp.define_profile('tap_bad', 'contact', '[{"slug": "d", "type": "date", "min": "2000-01-01", "max": "1999-12-31"}]')$$,
                 '22023', 'contradictory validations of attribute "d" of profile "tap_bad": min "2000-01-01" is greater than max "1999-12-31"',
                 'min > max is refused for dates');
SELECT throws_ok($$SELECT cdp.define_profile('tap_bad', 'contact', '[{"slug": "s", "type": "text", "min_length": 5, "max_length": 2}]')$$,
                 '22023', 'contradictory validations of attribute "s" of profile "tap_bad": min_length 5 is greater than max_length 2',
                 'min_length > max_length is refused');
SELECT throws_ok($$SELECT cdp.define_profile('tap_bad', 'contact', '[{"slug": "s", "type": "text", "pattern": "(["}]')$$,
                 '22023', 'invalid validation "pattern" of attribute "s" of profile "tap_bad": "(["',
                 'an invalid pattern is refused');
SELECT throws_ok($$SELECT cdp.define_profile('tap_bad', 'contact', '[{"slug": "s", "type": "text", "options": [1, 2]}]')$$,
                 '22023', 'invalid validation "options" of attribute "s" of profile "tap_bad": [1, 2]',
                 'numbers as options of a text attribute are refused');
SELECT throws_ok($$SELECT cdp.define_profile('tap_bad', 'contact', '[{"slug": "n", "type": "integer", "options": ["1", "2"]}]')$$,
                 '22023', 'invalid validation "options" of attribute "n" of profile "tap_bad": ["1", "2"]',
                 'strings as options of an integer attribute are refused');
SELECT throws_ok($$SELECT cdp.define_profile('tap_bad', 'contact', '[{"slug": "s", "type": "text", "options": "gold"}]')$$,
                 '22023', 'invalid validation "options" of attribute "s" of profile "tap_bad": "gold"',
                 'options that are not an array are refused');
SELECT throws_ok($$SELECT cdp.define_profile('tap_bad', 'contact', '[{"slug": "s", "type": "text", "options": ["a", null]}]')$$,
                 '22023', 'invalid validation "options" of attribute "s" of profile "tap_bad": ["a", null]',
                 'a null option is refused');
SET LOCAL DateStyle = 'SQL, DMY';
SELECT throws_ok($$SELECT cdp.define_profile('tap_bad', 'contact', '[{"slug": "d", "type": "date", "min": "31/12/1990"}]')$$,
                 '22023', 'invalid validation "min" of attribute "d" of profile "tap_bad": "31/12/1990"',
                 'a bound is read like a value: ISO 8601 only');
SELECT throws_ok($$SELECT cdp.define_profile('tap_bad', 'contact', '[{"slug": "n", "type": "number", "max": "10"}]')$$,
                 '22023', 'invalid validation "max" of attribute "n" of profile "tap_bad": "10"',
                 'a number bound is a JSON number');
RESET DateStyle;
SELECT lives_ok($$SELECT cdp.define_profile('tap_good', 'contact', '[{"slug": "n", "type": "integer", "min": 1, "max": 1, "options": [1]},
                  {"slug": "s", "type": "text", "min_length": 2, "max_length": 2, "options": ["ab"]},
                  {"slug": "d", "type": "date", "min": "1990-01-01", "max": "2000-01-01", "options": ["1995-05-05"]}]')$$,
                'consistent validations are accepted');

SELECT * FROM finish();
ROLLBACK;
