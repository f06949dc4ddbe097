-- pgTAP contracts of limits refused up front (issue 11): more attributes than
-- a table has columns for (54011, before any DDL), and segment time windows
-- that leave the timestamp range (22015, 22008, when the segment is compiled,
-- so a manual segment is refused when saved as an immediate one is).
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(23);
SET LOCAL client_min_messages = warning;
SET LOCAL timezone = 'UTC';

-- n text attributes a1 .. an (from first on) as a JSON array of definitions
CREATE FUNCTION pg_temp.attrs(n integer, first integer DEFAULT 1) RETURNS jsonb LANGUAGE sql IMMUTABLE
AS $$ SELECT coalesce(jsonb_agg(jsonb_build_object('slug', 'a' || g, 'type', 'text') ORDER BY g), '[]')
        FROM generate_series(first, first + n - 1) g $$;

-- ---------------------------------------------------------------- 1600 columns
-- A profile table has contact_id, updated_at and source; a template's has document_id.
SELECT throws_ok($$SELECT cdp.define_profile('wide', 'contact', pg_temp.attrs(1598))$$,
                 '54011', 'profile "wide" would have 1601 columns, more than the 1600 a table can hold',
                 'define_profile: 1598 attributes and 3 columns of its own are too many');
SELECT throws_ok($$SELECT cdp.define_profile('wide', 'contact', pg_temp.attrs(2000))$$,
                 '54011', 'profile "wide" would have 2003 columns, more than the 1600 a table can hold',
                 'define_profile: 2000 attributes');
SELECT throws_ok($$SELECT cdp.define_document_template('wide_doc', pg_temp.attrs(1600))$$,
                 '54011', 'document template "wide_doc" would have 1601 columns, more than the 1600 a table can hold',
                 'define_document_template: 1600 attributes and document_id are too many');
SELECT throws_ok($$SELECT cdp.define_profile('wide', 'organization', pg_temp.attrs(1598))$$,
                 '54011', 'profile "wide" would have 1601 columns, more than the 1600 a table can hold',
                 'define_profile of organizations: the same count');
SELECT is((SELECT count(*)::int FROM cdp.profiles WHERE slug = 'wide') + (SELECT count(*)::int FROM pg_class WHERE relname = 'profile_wide'),
          0, 'nothing is left of a refused profile');

-- The detail says where the count comes from.
CREATE FUNCTION pg_temp.detail_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    det text;
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS det = PG_EXCEPTION_DETAIL;
    RETURN det;
END
$$;
SELECT is(pg_temp.detail_of($$SELECT cdp.define_profile('wide', 'contact', pg_temp.attrs(1598))$$),
          'Each attribute is a column of cdp_data.profile_wide, which has 3 columns of its own.',
          'define_profile: the detail');

-- alter_profile counts the table's columns, dropped ones included: PostgreSQL
-- never gives a dropped column's number back.
SELECT cdp.define_profile('narrow', 'contact', pg_temp.attrs(2));
SELECT cdp.alter_profile('narrow', drop => ARRAY['a2']);
SELECT throws_ok($$SELECT cdp.alter_profile('narrow', pg_temp.attrs(1596, 3))$$,
                 '54011', 'profile "narrow" would have 1601 columns, more than the 1600 a table can hold',
                 'alter_profile: 5 columns (one dropped) and 1596 more are too many');
SELECT is(pg_temp.detail_of($$SELECT cdp.alter_profile('narrow', pg_temp.attrs(1596, 3))$$),
          'cdp_data.profile_narrow has 5 columns, dropped ones included (PostgreSQL never reuses them), and 1596 attributes would add one each.',
          'alter_profile: the detail');
SELECT throws_ok($$SELECT cdp.alter_profile('narrow', pg_temp.attrs(2000, 3), ARRAY['a1'])$$,
                 '54011', 'profile "narrow" would have 2005 columns, more than the 1600 a table can hold',
                 'alter_profile: 2000 attributes, dropping one changes nothing');
SELECT is((SELECT array_agg(slug ORDER BY position) FROM cdp.attributes WHERE owner_slug = 'narrow'), ARRAY['a1'],
          'a refused alter_profile changes nothing');
SELECT lives_ok($$SELECT cdp.alter_profile('narrow', pg_temp.attrs(3, 3))$$, 'a few more attributes are fine');
SELECT cdp.define_document_template('narrow_doc', pg_temp.attrs(1));
SELECT throws_ok($$SELECT cdp.alter_document_template('narrow_doc', pg_temp.attrs(1599, 2))$$,
                 '54011', 'document template "narrow_doc" would have 1601 columns, more than the 1600 a table can hold',
                 'alter_document_template: the same check');
-- Not an array: the usual message, not a count.
SELECT throws_ok($$SELECT cdp.alter_profile('narrow', '{"slug": "x"}')$$, '22023', NULL,
                 'a non-array is refused as before');

-- ---------------------------------------------------------------- time windows
SELECT cdp.define_profile('lim_customer', 'contact',
    '[{"slug": "signup", "type": "datetime"}, {"slug": "birthday", "type": "date"}]');
SELECT cdp.resolve('{"email": "a@limits.example"}');

SELECT throws_ok($$SELECT cdp.create_segment('lim_w1', 'event ''buy'' within 99999999999999 days')$$,
                 '22015', 'interval field value out of range: "99999999999999 days"',
                 'a manual segment with a WITHIN beyond an interval is refused when saved');
SELECT throws_ok($$SELECT cdp.create_segment('lim_w1', 'event ''buy'' within 99999999999999 days', refresh => 'immediate')$$,
                 '22015', 'interval field value out of range: "99999999999999 days"',
                 'as an immediate one is');
SELECT throws_ok($$SELECT cdp.create_segment('lim_w2', 'event ''buy'' within 2147483647 hours')$$,
                 '22008', 'timestamp out of range', 'a WITHIN that reaches before 4713 BC is refused when saved');
SELECT throws_ok($$SELECT cdp.create_segment('lim_w3', 'event ''buy'' where (properties.x = 1) count >= 2 within 200000000 days')$$,
                 '22008', 'timestamp out of range', 'a WITHIN of a counted event with a where');
SELECT throws_ok($$SELECT cdp.create_segment('lim_n1', 'lim_customer.signup > now() - interval ''178000000 years''')$$,
                 '22008', 'timestamp out of range', 'now() - a huge interval is refused when saved');
SELECT throws_ok($$SELECT cdp.create_segment('lim_n2', 'lim_customer.signup < now() + interval ''178000000 years''')$$,
                 '22008', 'timestamp out of range', 'now() + a huge interval');
SELECT throws_ok($$SELECT cdp.create_segment('lim_n3', 'lim_customer.birthday between now() - interval ''300000 years'' and now()')$$,
                 '22008', 'timestamp out of range', 'a date compared with now() - a huge interval');
SELECT cdp.create_segment('lim_ok', 'event ''buy'' within 36500 days or lim_customer.signup > now() - interval ''100 years''');
SELECT throws_ok($$SELECT cdp.alter_segment('lim_ok', 'event ''buy'' within 99999999999999 days')$$,
                 '22015', 'interval field value out of range: "99999999999999 days"', 'alter_segment refuses it too');
SELECT throws_ok($$SELECT cdp.count('lim_customer.signup > now() - interval ''178000000 years'''::cdp.segment)$$,
                 '22008', 'timestamp out of range', 'an unsaved definition fails as before (now when compiled)');
SELECT is(cdp.count('lim_ok'), 0::bigint, 'windows within the range still evaluate');

SELECT * FROM finish();
ROLLBACK;
