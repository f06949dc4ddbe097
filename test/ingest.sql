-- pgTAP contracts of cdp.ingest (Segment-spec messages) and the trait
-- mappings: every message type, batches, dedupe, timestamps, every error.
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(108);
SET LOCAL client_min_messages = warning;

-- ---------------------------------------------------------------- objects
SELECT has_table('cdp', 'trait_mappings', 'table cdp.trait_mappings');
SELECT has_table('cdp', 'ingested_messages', 'table cdp.ingested_messages');
SELECT is(count(*), 0::bigint, 'ingest tables are registered with pg_extension_config_dump')
  FROM unnest(ARRAY['cdp.trait_mappings', 'cdp.ingested_messages']::regclass[]) t
 WHERE NOT t::oid = ANY ((SELECT extconfig FROM pg_extension WHERE extname = 'cdp')::oid[]);
SELECT has_function('cdp', f, a, 'function cdp.' || f) FROM (VALUES
    ('ingest', ARRAY['jsonb']), ('set_trait_mapping', ARRAY['text', 'text']),
    ('drop_trait_mapping', ARRAY['text', 'text']), ('prune_ingested_messages', ARRAY['interval'])) AS x(f, a);
SELECT is(count(*), 0::bigint, 'every ingest function has a comment')
  FROM pg_proc p
 WHERE p.pronamespace = 'cdp'::regnamespace
   AND p.proname IN ('ingest', 'set_trait_mapping', 'drop_trait_mapping', 'prune_ingested_messages')
   AND obj_description(p.oid, 'pg_proc') IS NULL;

DO $$
BEGIN
    PERFORM cdp.define_profile('ing_customer', 'contact',
        '[{"slug": "tier", "type": "text"}, {"slug": "score", "type": "integer"}]');
    PERFORM cdp.define_profile('ing_company', 'organization',
        '[{"slug": "plan", "type": "text"}, {"slug": "employees", "type": "integer"}]');
END $$;

-- ---------------------------------------------------------------- trait mappings
SELECT is(cdp.set_trait_mapping('plan', 'ing_customer.tier'), 'contact', 'a contact profile target maps user traits');
SELECT is(cdp.set_trait_mapping('plan', 'ing_company.plan'), 'organization',
          'the same trait maps group traits to an organization profile');
SELECT is(cdp.set_trait_mapping('employees', 'ing_company.employees'), 'organization', 'employees mapped');
SELECT is(cdp.set_trait_mapping('level', 'ing_customer.score'), 'contact', 'level mapped');
SELECT is(cdp.set_trait_mapping('level', 'ing_customer.tier'), 'contact', 'setting a mapping again replaces it');
SELECT results_eq($$SELECT trait, object_type, profile, attribute FROM cdp.trait_mappings ORDER BY 1, 2$$,
    $$VALUES ('employees', 'organization', 'ing_company', 'employees'), ('level', 'contact', 'ing_customer', 'tier'),
             ('plan', 'contact', 'ing_customer', 'tier'), ('plan', 'organization', 'ing_company', 'plan')$$,
    'cdp.trait_mappings holds one mapping per trait and object type');
SELECT is(cdp.set_trait_mapping('level', 'ing_customer.score'), 'contact', 'level back to score');
SELECT throws_ok($$SELECT cdp.set_trait_mapping('x', 'nope.tier')$$, '42704',
    'profile "nope" does not exist', 'a mapping to an unknown profile is refused');
SELECT throws_ok($$SELECT cdp.set_trait_mapping('x', 'ing_customer.nope')$$, '42703',
    'attribute "nope" of profile "ing_customer" does not exist', 'a mapping to an unknown attribute is refused');
SELECT throws_ok($$SELECT cdp.set_trait_mapping('x', 'tier')$$, '22023',
    'invalid trait mapping target: ''tier''', 'a target without a profile is refused');
SELECT throws_ok($$SELECT cdp.set_trait_mapping('', 'ing_customer.tier')$$, '22023',
    'invalid trait: ''''', 'an empty trait is refused');
SELECT throws_ok($$SELECT cdp.set_trait_mapping(NULL, 'ing_customer.tier')$$, '22004',
    'trait must not be null', 'a NULL trait is refused');
SELECT throws_ok($$SELECT cdp.set_trait_mapping('x', NULL)$$, '22004',
    'target must not be null', 'a NULL target is refused');

-- ---------------------------------------------------------------- identify
SELECT is(cdp.ingest('{"type": "identify", "userId": "ing-u1", "anonymousId": "ing-a1", "messageId": "ing-m1",
    "traits": {"email": "ann@ingest.example", "firstName": "Ann", "lastName": "Lee", "plan": "gold", "level": 7,
               "favouriteColour": "blue"}}'), 1::bigint, 'identify: one message stored');
SELECT results_eq($$SELECT kind, value, source FROM cdp.identifiers
                    WHERE contact_id = cdp.find_contact('external_id', 'ing-u1') ORDER BY kind$$,
    $$VALUES ('anonymous', 'ing-a1', 'ingest'), ('email', 'ann@ingest.example', 'ingest'),
             ('external_id', 'ing-u1', 'ingest')$$,
    'identify: userId is external_id, anonymousId is anonymous, traits.email an email');
SELECT results_eq($$SELECT given_name, family_name FROM cdp.contacts WHERE id = cdp.find_contact('external_id', 'ing-u1')$$,
    $$VALUES ('Ann', 'Lee')$$, 'identify: firstName and lastName are the contact''s names');
SELECT results_eq($$SELECT tier, score, source FROM cdp_data.profile_ing_customer
                    WHERE contact_id = cdp.find_contact('external_id', 'ing-u1')$$,
    $$VALUES ('gold', 7::bigint, 'ingest')$$, 'identify: mapped traits are written to the profile, unmapped ones ignored');
SELECT is(cdp.ingest('{"type": "identify", "userId": "ing-u2", "traits": {"first_name": "Cy", "last_name": "Dee"}}'),
    1::bigint, 'identify with first_name and last_name');
SELECT results_eq($$SELECT given_name, family_name FROM cdp.contacts WHERE id = cdp.find_contact('external_id', 'ing-u2')$$,
    $$VALUES ('Cy', 'Dee')$$, 'first_name and last_name are names too');
SELECT is(cdp.ingest('{"type": "identify", "userId": "ing-u3", "traits": {"name": "  Bob  van Dam "}}'),
    1::bigint, 'identify with a full name');
SELECT results_eq($$SELECT given_name, family_name FROM cdp.contacts WHERE id = cdp.find_contact('external_id', 'ing-u3')$$,
    $$VALUES ('Bob', 'van Dam')$$, 'name: the first word is the given name, the rest the family name');
SELECT is(cdp.ingest('{"type": "identify", "anonymousId": "ing-a3",
    "context": {"traits": {"email": "ctx@ingest.example", "plan": "silver"}}, "traits": {"plan": "bronze"}}'),
    1::bigint, 'identify with context.traits and traits');
SELECT results_eq($$SELECT tier FROM cdp_data.profile_ing_customer WHERE contact_id = cdp.find_contact('anonymous', 'ing-a3')$$,
    $$VALUES ('bronze')$$, 'the traits of an identify win over context.traits');
SELECT is(cdp.find_contact('email', 'ctx@ingest.example'), cdp.find_contact('anonymous', 'ing-a3'),
    'context.traits.email is an identifier of the person');

-- ---------------------------------------------------------------- invalid identifiers
SELECT is(cdp.ingest('{"type": "identify", "userId": "ing-u4", "traits": {"email": "not an email"}}'), 1::bigint,
    'a bad email does not stop the message');
SELECT results_eq($$SELECT rule, kind, value FROM cdp.identity_conflicts WHERE value = 'not an email'$$,
    $$VALUES ('invalid', 'email', 'not an email')$$, 'the bad email is recorded as an invalid conflict');
SELECT ok(cdp.find_contact('external_id', 'ing-u4') IS NOT NULL, 'the person is resolved on the other identifiers');
SELECT is(cdp.ingest('[{"type": "track", "anonymousId": "   ", "event": "x"}]'), 0::bigint,
    'a message none of whose identifiers is valid is not stored');
SELECT is((SELECT count(*) FROM cdp.identity_conflicts WHERE rule = 'invalid' AND kind = 'anonymous'), 1::bigint,
    'and its identifier is recorded as a conflict');

-- ---------------------------------------------------------------- track, page, screen, timestamps
SELECT is(cdp.ingest('{"type": "track", "anonymousId": "ing-a1", "event": "Order Completed",
    "properties": {"total": 30}, "timestamp": "2024-05-01T14:00:00+02:00",
    "context": {"traits": {"email": "ann@ingest.example"}}}'), 1::bigint, 'track stored');
SELECT results_eq($$SELECT contact_id, occurred_at, properties, source FROM cdp.events WHERE name = 'Order Completed'$$,
    $$VALUES (cdp.find_contact('external_id', 'ing-u1'), '2024-05-01 12:00:00+00'::timestamptz, '{"total": 30}'::jsonb, 'ingest')$$,
    'track: an event named by "event", with its properties and timestamp');
SELECT is(cdp.ingest('{"type": "track", "userId": "ing-u1", "event": "Local", "timestamp": "2024-05-01T12:00:00.5"}'),
    1::bigint, 'track with a timestamp without offset');
SELECT is((SELECT occurred_at FROM cdp.events WHERE name = 'Local'), '2024-05-01 12:00:00.5+00'::timestamptz,
    'a timestamp without offset is UTC');
SELECT is(cdp.ingest('{"type": "track", "userId": "ing-u1", "event": "Skewed", "originalTimestamp": "2024-05-01T12:00:00Z",
    "sentAt": "2024-05-01T12:00:10Z", "receivedAt": "2024-05-01T12:00:05Z"}'), 1::bigint, 'track with originalTimestamp');
SELECT is((SELECT occurred_at FROM cdp.events WHERE name = 'Skewed'), '2024-05-01 11:59:55+00'::timestamptz,
    'originalTimestamp is corrected by receivedAt - sentAt');
SELECT is(cdp.ingest('{"type": "track", "userId": "ing-u1", "event": "Received", "receivedAt": "2024-05-02T00:00:00Z"}'),
    1::bigint, 'track with receivedAt only');
SELECT is((SELECT occurred_at FROM cdp.events WHERE name = 'Received'), '2024-05-02 00:00:00+00'::timestamptz,
    'receivedAt when there is no timestamp');
SELECT is(cdp.ingest('{"type": "track", "userId": "ing-u1", "event": "Untimed"}'), 1::bigint, 'track without any time');
SELECT is((SELECT occurred_at FROM cdp.events WHERE name = 'Untimed'), now(), 'no time: now');
SELECT is(cdp.ingest('{"type": "page", "userId": "ing-u1", "name": "Pricing", "category": "Docs",
    "properties": {"url": "/pricing", "name": "Pricing page"}}'), 1::bigint, 'page stored');
SELECT results_eq($$SELECT properties FROM cdp.events WHERE name = 'page'$$,
    $$VALUES ('{"url": "/pricing", "name": "Pricing page", "category": "Docs"}'::jsonb)$$,
    'page: an event named page; name and category join the properties, which win');
SELECT is(cdp.ingest('{"type": "screen", "userId": "ing-u1", "name": "Home"}'), 1::bigint, 'screen stored');
SELECT results_eq($$SELECT properties FROM cdp.events WHERE name = 'screen'$$, $$VALUES ('{"name": "Home"}'::jsonb)$$,
    'screen: an event named screen');
SELECT is(cdp.ingest('{"type": "track", "userId": "ing-u1", "event": "Traited", "context": {"traits": {"level": 9}}}'),
    1::bigint, 'track with mapped context.traits');
SELECT is((SELECT score FROM cdp_data.profile_ing_customer WHERE contact_id = cdp.find_contact('external_id', 'ing-u1')),
    9::bigint, 'context.traits of a track reach the profile');

-- ---------------------------------------------------------------- group
SELECT is(cdp.ingest('{"type": "group", "userId": "ing-u1", "groupId": "Acme.com",
    "traits": {"name": "Acme", "plan": "pro", "employees": 50}}'), 1::bigint, 'group stored');
SELECT results_eq($$SELECT slug, name FROM cdp.organizations WHERE slug = 'acme-com'$$, $$VALUES ('acme-com', 'Acme')$$,
    'group: the organization is created, its slug made from groupId, its name from traits.name');
SELECT results_eq($$SELECT m.is_primary FROM cdp.organization_members m JOIN cdp.organizations o ON o.id = m.organization_id
                     WHERE o.slug = 'acme-com' AND m.contact_id = cdp.find_contact('external_id', 'ing-u1')$$,
    $$VALUES (true)$$, 'group: the contact is a member, primary as its first organization');
SELECT results_eq($$SELECT p.plan, p.employees FROM cdp_data.profile_ing_company p
                     JOIN cdp.organizations o ON o.id = p.organization_id WHERE o.slug = 'acme-com'$$,
    $$VALUES ('pro', 50::bigint)$$, 'group: mapped group traits reach the organization profile');
SELECT is((SELECT tier FROM cdp_data.profile_ing_customer WHERE contact_id = cdp.find_contact('external_id', 'ing-u1')),
    'gold', 'group traits are not user traits');
SELECT is(cdp.ingest('[{"type": "group", "userId": "ing-u1", "groupId": "beta"},
                       {"type": "group", "userId": "ing-u1", "groupId": "acme.com", "traits": {"name": "Acme Inc"}}]'),
    2::bigint, 'group again');
SELECT results_eq($$SELECT o.slug, o.name, m.is_primary FROM cdp.organization_members m
                      JOIN cdp.organizations o ON o.id = m.organization_id
                     WHERE m.contact_id = cdp.find_contact('external_id', 'ing-u1') ORDER BY o.slug$$,
    $$VALUES ('acme-com', 'Acme Inc', true), ('beta', 'beta', false)$$,
    'a second organization is not primary; a new traits.name renames; a group without name is named by groupId');

-- ---------------------------------------------------------------- alias
DO $$ BEGIN PERFORM cdp.ingest('{"type": "track", "anonymousId": "ing-a9", "event": "Visited"}'); END $$;
SELECT is(cdp.ingest('{"type": "alias", "previousId": "ing-a9", "userId": "ing-u1"}'), 1::bigint, 'alias stored');
SELECT is(cdp.find_contact('anonymous', 'ing-a9'), cdp.find_contact('external_id', 'ing-u1'),
    'alias: an unknown previousId is an anonymousId of the same person');
SELECT is(cdp.ingest('{"type": "alias", "previousId": "ing-u2", "userId": "ing-u1"}'), 1::bigint, 'alias of a userId');
SELECT is(cdp.find_contact('external_id', 'ing-u2'), cdp.find_contact('external_id', 'ing-u1'),
    'alias: a known userId as previousId merges the two people');

-- ---------------------------------------------------------------- batches and messageId
SELECT is(cdp.ingest('[{"type": "track", "userId": "ing-b1", "event": "B", "messageId": "ing-mb"},
                       {"type": "track", "userId": "ing-b1", "event": "B", "messageId": "ing-mb"},
                       {"type": "track", "userId": "ing-b1", "event": "B"}]'), 2::bigint,
    'a batch: a messageId repeated in the batch is stored once');
SELECT is((SELECT count(*) FROM cdp.events WHERE name = 'B'), 2::bigint, 'two events stored');
SELECT is(cdp.ingest('{"type": "track", "userId": "ing-b1", "event": "B", "messageId": "ing-mb"}'), 0::bigint,
    'a repeated delivery returns 0');
SELECT is((SELECT count(*) FROM cdp.events WHERE name = 'B'), 2::bigint, 'and stores nothing');
SELECT is(cdp.ingest('{"type": "identify", "userId": "ing-u1", "messageId": "ing-m1", "traits": {"plan": "lead"}}'),
    0::bigint, 'a repeated identify does nothing');
SELECT is((SELECT tier FROM cdp_data.profile_ing_customer WHERE contact_id = cdp.find_contact('external_id', 'ing-u1')),
    'gold', 'its traits are not written');
SELECT is(cdp.ingest('{"batch": [{"type": "track", "userId": "ing-b1", "event": "E"}], "sentAt": "2024-05-01T00:00:00Z"}'),
    1::bigint, 'Segment''s batch envelope {"batch": [...]}');
SELECT is(cdp.ingest('[]'), 0::bigint, 'an empty batch stores nothing');
SELECT results_eq($$SELECT message_id FROM cdp.ingested_messages WHERE message_id LIKE 'ing-%' ORDER BY 1$$,
    $$VALUES ('ing-m1'), ('ing-mb')$$, 'cdp.ingested_messages holds the messageIds');
UPDATE cdp.ingested_messages SET ingested_at = now() - interval '2 days' WHERE message_id = 'ing-m1';
SELECT is(cdp.prune_ingested_messages(interval '1 day'), 1::bigint, 'prune_ingested_messages forgets old messageIds');
SELECT throws_ok($$SELECT cdp.prune_ingested_messages(interval '-1 day')$$, '22023',
    'older_than must be a non-negative interval', 'prune: a negative interval is refused');

-- ---------------------------------------------------------------- dropping mappings
SELECT is(cdp.drop_trait_mapping('plan', 'contact'), true, 'drop_trait_mapping of contact traits');
SELECT is(cdp.drop_trait_mapping('plan', 'contact'), false, 'dropping it again: false');
DO $$ BEGIN PERFORM cdp.ingest('{"type": "identify", "userId": "ing-u1", "traits": {"plan": "platinum"}}'); END $$;
SELECT is((SELECT tier FROM cdp_data.profile_ing_customer WHERE contact_id = cdp.find_contact('external_id', 'ing-u1')),
    'gold', 'an unmapped trait is ignored');
SELECT is((SELECT count(*) FROM cdp.trait_mappings WHERE trait = 'plan'), 1::bigint,
    'the organization mapping of the trait stays');
SELECT throws_ok($$SELECT cdp.drop_trait_mapping('plan', 'person')$$, '22023',
    'invalid object type of trait mapping: ''person''', 'drop_trait_mapping: an unknown object type is refused');
DO $$ BEGIN PERFORM cdp.alter_profile('ing_company', drop => ARRAY['employees']); END $$;
SELECT is((SELECT count(*) FROM cdp.trait_mappings WHERE trait = 'employees'), 0::bigint,
    'dropping an attribute drops the mappings to it');

-- ---------------------------------------------------------------- errors
SELECT throws_ok($$SELECT cdp.ingest(NULL)$$, '22004', 'message must not be null', 'NULL message');
SELECT throws_ok($$SELECT cdp.ingest('"hello"')$$, '22P02',
    'invalid message: a message must be a JSON object, not string', 'a message that is not an object');
SELECT throws_ok($$SELECT cdp.ingest('[{"type": "identify", "userId": "x"}, 1]')$$, '22P02',
    'invalid message 2: a message must be a JSON object, not number', 'in a batch: its position');
SELECT throws_ok($$SELECT cdp.ingest('{"batch": {}}')$$, '22P02',
    'invalid batch: "batch" must be an array, not object', 'a batch envelope without an array');
SELECT throws_ok($$SELECT cdp.ingest('{"type": "bogus", "userId": "x"}')$$, '22023',
    'invalid message: unknown message type "bogus"', 'unknown message type');
SELECT throws_ok($$SELECT cdp.ingest('[{"type": "identify", "userId": "x"}, {"type": "bogus", "userId": "x"}]')$$, '22023',
    'invalid message 2: unknown message type "bogus"', 'unknown message type in a batch');
SELECT throws_ok($$SELECT cdp.ingest('{"userId": "x"}')$$, '22004', 'invalid message: no "type"', 'no type');
SELECT throws_ok($$SELECT cdp.ingest('{"type": 3, "userId": "x"}')$$, '22P02',
    'invalid message: "type" must be a string, not number', 'type not a string');
SELECT throws_ok($$SELECT cdp.ingest('{"type": "track", "event": "x", "context": {"traits": {"email": "a@b.example"}}}')$$,
    '22004', 'invalid message: neither "userId" nor "anonymousId"', 'no userId nor anonymousId');
SELECT throws_ok($$SELECT cdp.ingest('{"type": "identify", "userId": {"id": 1}}')$$, '22P02',
    'invalid message: "userId" must be a string, not object', 'userId not a string');
SELECT throws_ok($$SELECT cdp.ingest('{"type": "track", "userId": "x"}')$$, '22004',
    'invalid message: a track message needs an "event"', 'track without event');
SELECT throws_ok($$SELECT cdp.ingest('{"type": "track", "userId": "x", "event": ["a"]}')$$, '22P02',
    'invalid message: "event" must be a string, not array', 'event not a string');
SELECT throws_ok($$SELECT cdp.ingest('{"type": "group", "userId": "x", "traits": {"name": "A"}}')$$, '22004',
    'invalid message: a group message needs a "groupId"', 'group without groupId');
SELECT throws_ok($$SELECT cdp.ingest('{"type": "group", "userId": "x", "groupId": "--"}')$$, '22023',
    'invalid message: "groupId" ''--'' does not make an organization slug', 'a groupId that makes no slug');
SELECT throws_ok($$SELECT cdp.ingest('{"type": "alias", "userId": "x"}')$$, '22004',
    'invalid message: an alias message needs a "previousId"', 'alias without previousId');
SELECT throws_ok($$SELECT cdp.ingest('{"type": "identify", "userId": "x", "traits": ["a"]}')$$, '22P02',
    'invalid message: "traits" must be a JSON object, not array', 'traits not an object');
SELECT throws_ok($$SELECT cdp.ingest('{"type": "track", "userId": "x", "event": "e", "context": {"traits": "a"}}')$$, '22P02',
    'invalid message: "context.traits" must be a JSON object, not string', 'context.traits not an object');
SELECT throws_ok($$SELECT cdp.ingest('{"type": "track", "userId": "x", "event": "e", "context": 1}')$$, '22P02',
    'invalid message: "context" must be a JSON object, not number', 'context not an object');
SELECT throws_ok($$SELECT cdp.ingest('{"type": "track", "userId": "x", "event": "e", "properties": [1]}')$$, '22P02',
    'invalid message: "properties" must be a JSON object, not array', 'properties not an object');
SELECT throws_ok($$SELECT cdp.ingest('{"type": "track", "userId": "x", "event": "e", "timestamp": "yesterday"}')$$, '22P02',
    'invalid message: "timestamp" is not an ISO 8601 date and time: "yesterday"', 'timestamp not ISO 8601');
SELECT throws_ok($$SELECT cdp.ingest('{"type": "track", "userId": "x", "event": "e", "timestamp": 1714567890}')$$, '22P02',
    'invalid message: "timestamp" is not an ISO 8601 date and time: 1714567890', 'timestamp a number');
SELECT throws_ok($$SELECT cdp.ingest('[{"type": "track", "userId": "x", "event": "e", "sentAt": "2024-02-30T00:00:00Z",
                                       "originalTimestamp": "2024-02-01T00:00:00Z"}]')$$, '22P02',
    'invalid message 1: "sentAt" is not an ISO 8601 date and time: "2024-02-30T00:00:00Z"',
    'a date the calendar refuses, named by its field');
SELECT throws_ok($$SELECT cdp.ingest('{"type": "identify", "userId": "x", "traits": {"email": {"a": 1}}}')$$, '22P02',
    'invalid message: "traits.email" must be a string, not object', 'traits.email not a string');
SELECT throws_ok($$SELECT cdp.ingest('{"type": "identify", "userId": "x", "traits": {"firstName": true}}')$$, '22P02',
    'invalid message: "traits.firstName" must be a string, not boolean', 'traits.firstName not a string');
SELECT throws_ok($$SELECT cdp.ingest('[{"type": "track", "userId": "ing-x", "event": "Never", "messageId": "ing-never"},
                                       {"type": "identify", "userId": "ing-x", "traits": {"level": "abc"}}]')$$, '22P02',
    'message 2: invalid value for attribute "score" of profile "ing_customer": "abc"',
    'an error of a write names the message in a batch');
SELECT is((SELECT count(*) FROM cdp.events WHERE name = 'Never') + (SELECT count(*) FROM cdp.ingested_messages
    WHERE message_id = 'ing-never'), 0::bigint, 'a failed batch stores nothing, not even its messageIds');

SELECT is(cdp.drop_trait_mapping('level'), true, 'drop_trait_mapping without object type');

SELECT * FROM finish();
ROLLBACK;
