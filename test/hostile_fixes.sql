-- pgTAP: the defects the hostile input corpus (test/t/hostile.sh) found, each
-- with the case that showed it.  A LIKE pattern ending in its escape
-- character was accepted when a segment was saved and failed (22025) at every
-- evaluation, and under an immediate segment at every write.
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(12);
SET LOCAL client_min_messages = warning;
SELECT cdp.define_profile('customer', 'contact', '[{"slug": "tier", "type": "text"}]');
SELECT cdp.resolve('{"email": "a@example.com"}');
SELECT cdp.set_profile(cdp.find_contact('email', 'a@example.com'), 'customer', '{"tier": "a\\b"}');

SELECT throws_ok($$SELECT cdp.create_segment('bad', 'customer.tier like ''ab\''', refresh => 'immediate')$$,
    '22025', 'like pattern must not end with the escape character',
    'a LIKE pattern ending in a backslash is refused when the segment is saved');
SELECT throws_ok($$SELECT cdp.count('customer.tier ilike ''\'''::cdp.segment)$$,
    '22025', 'ilike pattern must not end with the escape character', 'ILIKE: the same');
SELECT throws_ok($$SELECT cdp.count('customer.tier not like ''x\\\'''::cdp.segment)$$,
    '22025', 'like pattern must not end with the escape character', 'an escaped backslash and a lone one: refused');
SELECT throws_ok($$SELECT cdp.segment_sql('event ''e'' where (properties.p like ''\'')'::cdp.segment)$$,
    '22025', 'like pattern must not end with the escape character', 'an event property pattern: refused');
SELECT throws_ok($$SELECT cdp.count('organization(organization.name like ''acme\'')'::cdp.segment)$$,
    '22025', 'like pattern must not end with the escape character', 'an organization field pattern: refused');
SELECT throws_ok($$SELECT cdp.count(cdp.jsonb_to_segment('{"type": "attribute", "slug": "customer.tier",
    "operator": "like", "value": "\\"}'))$$,
    '22025', 'like pattern must not end with the escape character', 'the JSON form: refused when evaluated');
SELECT is(cdp.count('customer.tier like ''a\\b'''::cdp.segment), 1::bigint, 'an escaped backslash matches a backslash');
SELECT is(cdp.count('customer.tier like ''a\%'''::cdp.segment), 0::bigint, 'an escaped % matches a % only');
SELECT is(cdp.count('customer.tier like ''%\\%'''::cdp.segment), 1::bigint, 'a pattern ending in an escaped backslash is accepted');
SELECT lives_ok($$SELECT cdp.create_segment('ok', 'customer.tier like ''a\\%''', refresh => 'immediate')$$,
    'a valid pattern with escapes is saved as an immediate segment');
SELECT lives_ok($$SELECT cdp.set_profile(cdp.find_contact('email', 'a@example.com'), 'customer', '{"tier": "b"}')$$,
    'writes under it go on');
SELECT is((SELECT count(*) FROM cdp.segments WHERE slug = 'bad'), 0::bigint, 'the refused segment was not saved');

SELECT * FROM finish();
ROLLBACK;
