-- pgTAP contracts of segment semantics (DESIGN §7): every condition kind and
-- operator case by case, explain_segment, the catalog, segment_sql and plans.
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(277);
SET LOCAL client_min_messages = warning;
SET LOCAL timezone = 'UTC';

-- Contacts made by this file, by name; members are shown by these names.
CREATE TEMP TABLE c (name text PRIMARY KEY, id bigint NOT NULL);
CREATE FUNCTION pg_temp.c(text) RETURNS bigint LANGUAGE sql STABLE
AS $$ SELECT id FROM c WHERE name = $1 $$;
-- The evaluation time of every case unless a case says otherwise.
CREATE FUNCTION pg_temp.at() RETURNS timestamptz LANGUAGE sql IMMUTABLE
AS $$ SELECT timestamptz '2025-06-15 12:00:00+00' $$;

-- The fixture, from which every expected member list below was worked out by hand:
--   alice  customer gold/Paris/30/4.5/vip/1990-05-01, signup 10 days before, hobbies chess+golf; loyalty;
--          validated email; VIP, Tech/AI; sports/football; acme; contracts 500 pro and 10 basic;
--          3 purchases in 30 days, a signup event
--   bob    customer silver/paris/45/3.0/not vip/1980-01-15, signup 2024; email; Tech/Web; sports/tennis;
--          globex; contract 50 basic (and an archived 1000); 2 purchases in 30 days and one in 2024
--   carol  customer with age 22 only; phone; Churned; music; acme-eu; a purchase after the evaluation time
--   dave   no customer profile; loyalty with NULL points; email; acme, globex and the archived oldco
--   erin   customer platinum/Berlin/60/4.5/vip NULL; validated email; vendor; bigretail; a contract without values
--   frank  archived (gold, VIP, acme, purchases); gina merged into hank (bronze/35, VIP, sports moved to hank)
--   hank   logins 1 and 26 hours before the evaluation time; initech (no company profile)
DO $fixture$
BEGIN
    PERFORM cdp.define_profile('customer', 'contact', '[
        {"slug": "tier", "type": "text"},
        {"slug": "city", "type": "text"},
        {"slug": "age", "type": "integer"},
        {"slug": "score", "type": "number"},
        {"slug": "vip", "type": "boolean"},
        {"slug": "birthday", "type": "date"},
        {"slug": "signup", "type": "datetime"},
        {"slug": "wake", "type": "time"},
        {"slug": "contact_email", "type": "email"},
        {"slug": "mobile", "type": "phone"},
        {"slug": "hobbies", "type": "text", "array": true},
        {"slug": "meta", "type": "json"}]');
    PERFORM cdp.define_profile('loyalty', 'contact', '[{"slug": "points", "type": "integer"}]');
    PERFORM cdp.define_profile('company', 'organization', '[
        {"slug": "industry", "type": "text"},
        {"slug": "size", "type": "integer"}]');
    PERFORM cdp.define_document_template('contract', '[
        {"slug": "amount", "type": "number"},
        {"slug": "plan", "type": "text"}]');
    PERFORM cdp.define_taxonomy('interests', ARRAY['contact', 'organization']);
    PERFORM cdp.add_term('interests', 'sports/football');
    PERFORM cdp.add_term('interests', 'sports/tennis');
    PERFORM cdp.add_term('interests', 'music');

    -- Organizations: acme (retail, 100) > acme-eu (software, 10); globex
    -- (software, 500); bigretail (retail, 300); oldco (retail, 1000, archived);
    -- initech (no profile).
    PERFORM cdp.create_organization('acme', 'Acme');
    PERFORM cdp.create_organization('acme-eu', 'Acme Europe', 'acme');
    PERFORM cdp.create_organization('globex', 'Globex');
    PERFORM cdp.create_organization('bigretail', 'Big Retail');
    PERFORM cdp.create_organization('oldco', 'Old Co');
    PERFORM cdp.create_organization('initech', 'Initech');
    PERFORM cdp.set_organization_profile('acme', 'company', '{"industry": "retail", "size": 100}');
    PERFORM cdp.set_organization_profile('acme-eu', 'company', '{"industry": "software", "size": 10}');
    PERFORM cdp.set_organization_profile('globex', 'company', '{"industry": "software", "size": 500}');
    PERFORM cdp.set_organization_profile('bigretail', 'company', '{"industry": "retail", "size": 300}');
    PERFORM cdp.set_organization_profile('oldco', 'company', '{"industry": "retail", "size": 1000}');
    PERFORM cdp.tag('organization', (SELECT id FROM cdp.organizations WHERE slug = 'acme'), 'Partner');
    PERFORM cdp.tag('organization', (SELECT id FROM cdp.organizations WHERE slug = 'globex'), 'Partner/Gold');
    PERFORM cdp.classify('organization', (SELECT id FROM cdp.organizations WHERE slug = 'acme'), 'interests', 'sports');
    PERFORM cdp.archive('organization', (SELECT id FROM cdp.organizations WHERE slug = 'oldco'));

    -- Contacts.  hank is created before gina, so he survives their merge.
    INSERT INTO c VALUES
        ('alice', cdp.resolve('[{"kind": "email", "value": "alice@example.com", "validated": "otp"}]')),
        ('bob', cdp.resolve('{"email": "bob@example.org"}')),
        ('carol', cdp.resolve('{"phone": "+14155552672"}')),
        ('dave', cdp.resolve('{"email": "dave@example.net"}')),
        ('erin', cdp.resolve('[{"kind": "email", "value": "erin@example.com", "validated": true}]')),
        ('frank', cdp.resolve('[{"kind": "email", "value": "frank@example.com", "validated": true}]')),
        ('hank', cdp.resolve('{"email": "hank@example.com"}')),
        ('gina', cdp.resolve('{"email": "gina@example.com"}'));
    PERFORM cdp.update_contact(pg_temp.c('alice'), 'Alice', 'Archer');
    PERFORM cdp.update_contact(pg_temp.c('bob'), 'Bob');
    PERFORM cdp.update_contact(pg_temp.c('erin'), is_vendor => true);
    PERFORM cdp.update_contact(pg_temp.c('frank'), 'Frank');
    PERFORM cdp.update_contact(pg_temp.c('hank'), 'Hank', 'Hale');
    PERFORM cdp.update_contact(pg_temp.c('gina'), 'Gina', 'Tomb');

    PERFORM cdp.set_profile(pg_temp.c('alice'), 'customer', '{"tier": "gold", "city": "Paris", "age": 30, "score": 4.5,
        "vip": true, "birthday": "1990-05-01", "signup": "2025-06-10T10:00:00Z", "wake": "07:30:00",
        "contact_email": "alice@example.com", "mobile": "+14155552671", "hobbies": ["chess", "golf"], "meta": {"a": 1}}');
    PERFORM cdp.set_profile(pg_temp.c('bob'), 'customer', '{"tier": "silver", "city": "paris", "age": 45, "score": 3.0,
        "vip": false, "birthday": "1980-01-15", "signup": "2024-01-01T00:00:00Z", "wake": "06:00:00",
        "contact_email": "bob@example.org", "mobile": "+442071838750", "hobbies": ["tennis"]}');
    PERFORM cdp.set_profile(pg_temp.c('carol'), 'customer', '{"age": 22}');
    PERFORM cdp.set_profile(pg_temp.c('erin'), 'customer', '{"tier": "platinum", "city": "Berlin", "age": 60, "score": 4.5, "vip": null}');
    PERFORM cdp.set_profile(pg_temp.c('frank'), 'customer', '{"tier": "gold", "age": 30, "score": 4.5, "vip": true}');
    PERFORM cdp.set_profile(pg_temp.c('gina'), 'customer', '{"tier": "bronze", "age": 35}');
    PERFORM cdp.set_profile(pg_temp.c('alice'), 'loyalty', '{"points": 100}');
    PERFORM cdp.set_profile(pg_temp.c('dave'), 'loyalty', '{"points": null}');

    PERFORM cdp.tag('contact', pg_temp.c('alice'), 'VIP', 'Tech/AI');
    PERFORM cdp.tag('contact', pg_temp.c('bob'), 'Tech/Web');
    PERFORM cdp.tag('contact', pg_temp.c('carol'), 'Churned');
    PERFORM cdp.tag('contact', pg_temp.c('frank'), 'VIP');
    PERFORM cdp.tag('contact', pg_temp.c('gina'), 'VIP');
    PERFORM cdp.classify('contact', pg_temp.c('alice'), 'interests', 'sports/football');
    PERFORM cdp.classify('contact', pg_temp.c('bob'), 'interests', 'sports/tennis');
    PERFORM cdp.classify('contact', pg_temp.c('carol'), 'interests', 'music');
    PERFORM cdp.classify('contact', pg_temp.c('gina'), 'interests', 'sports');

    PERFORM cdp.add_member(pg_temp.c('alice'), 'acme');
    PERFORM cdp.add_member(pg_temp.c('bob'), 'globex');
    PERFORM cdp.add_member(pg_temp.c('carol'), 'acme-eu');
    PERFORM cdp.add_member(pg_temp.c('dave'), 'acme');
    PERFORM cdp.add_member(pg_temp.c('dave'), 'globex');
    PERFORM cdp.add_member(pg_temp.c('dave'), 'oldco');
    PERFORM cdp.add_member(pg_temp.c('erin'), 'bigretail');
    PERFORM cdp.add_member(pg_temp.c('frank'), 'acme');
    PERFORM cdp.add_member(pg_temp.c('hank'), 'initech');

    -- alice: two contracts (500 pro, 10 basic); bob: 50 basic and an archived
    -- 1000 basic; erin: one without values.
    PERFORM cdp.create_document('contract', pg_temp.c('alice'), '{"amount": 500, "plan": "pro"}');
    PERFORM cdp.create_document('contract', pg_temp.c('alice'), '{"amount": 10, "plan": "basic"}');
    PERFORM cdp.create_document('contract', pg_temp.c('bob'), '{"amount": 50, "plan": "basic"}');
    PERFORM cdp.archive('document', cdp.create_document('contract', pg_temp.c('bob'), '{"amount": 1000, "plan": "basic"}'));
    PERFORM cdp.create_document('contract', pg_temp.c('erin'), '{}');
    PERFORM cdp.create_document('contract', pg_temp.c('frank'), '{"amount": 900, "plan": "pro"}');

    -- Events, against the evaluation time 2025-06-15 12:00 UTC.
    PERFORM cdp.track('{"email": "alice@example.com"}', 'purchase', '{"amount": 20, "currency": "EUR"}', '2025-06-01 09:00+00');
    PERFORM cdp.track('{"email": "alice@example.com"}', 'purchase', '{"amount": 30}', '2025-06-05 09:00+00');
    PERFORM cdp.track('{"email": "alice@example.com"}', 'purchase', '{"amount": 120, "gift": true}', '2025-06-14 09:00+00');
    PERFORM cdp.track('{"email": "alice@example.com"}', 'signup', '{}', '2025-06-10 10:00+00');
    PERFORM cdp.track('{"email": "bob@example.org"}', 'purchase', '{"amount": 200}', '2025-06-02 09:00+00');
    PERFORM cdp.track('{"email": "bob@example.org"}', 'purchase', '{"amount": "big"}', '2025-06-12 09:00+00');
    PERFORM cdp.track('{"email": "bob@example.org"}', 'purchase', '{"amount": 5}', '2024-01-05 09:00+00');
    PERFORM cdp.track('{"phone": "+14155552672"}', 'purchase', '{"amount": 1}', '2025-06-20 09:00+00');
    PERFORM cdp.track('{"email": "hank@example.com"}', 'login', '{}', '2025-06-15 11:00+00');
    PERFORM cdp.track('{"email": "hank@example.com"}', 'login', '{}', '2025-06-14 10:00+00');
    PERFORM cdp.track('{"email": "frank@example.com"}', 'purchase', '{"amount": 500}', '2025-06-10 09:00+00');
    PERFORM cdp.track('{"email": "frank@example.com"}', 'purchase', '{"amount": 500}', '2025-06-11 09:00+00');
    PERFORM cdp.track('{"email": "frank@example.com"}', 'purchase', '{"amount": 500}', '2025-06-12 09:00+00');

    PERFORM cdp.archive('contact', pg_temp.c('frank'));
    PERFORM cdp.merge_contacts(pg_temp.c('hank'), ARRAY[pg_temp.c('gina')]);
END
$fixture$;

-- ---------------------------------------------------------------- helpers
-- Every definition a case evaluates, for the cross-check at the end.
CREATE TEMP TABLE cases (seg text, at timestamptz);
-- The members of a definition at a time as the sorted names of this file's
-- contacts, joined by ','; a member this file did not make shows as #id.
CREATE FUNCTION pg_temp.names(ids bigint[]) RETURNS text LANGUAGE sql STABLE
AS $$
    SELECT coalesce(string_agg(coalesce(c.name, '#' || i), ',' ORDER BY coalesce(c.name, '#' || i)), '')
      FROM unnest(ids) i LEFT JOIN c ON c.id = i
$$;
CREATE FUNCTION pg_temp.m(seg text, at timestamptz DEFAULT pg_temp.at()) RETURNS text LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO cases VALUES (seg, at);
    RETURN pg_temp.names(ARRAY(SELECT cdp.members(seg::cdp.segment, at)));
END
$$;
-- The contacts of this file for which in_segment is true.
CREATE FUNCTION pg_temp.mi(seg text, at timestamptz DEFAULT pg_temp.at()) RETURNS text LANGUAGE sql
AS $$ SELECT pg_temp.names(ARRAY(SELECT id FROM c WHERE cdp.in_segment(c.id, seg::cdp.segment, at))) $$;
-- The contacts of this file whose explain_segment root row says true.
CREATE FUNCTION pg_temp.mx(seg text, at timestamptz DEFAULT pg_temp.at()) RETURNS text LANGUAGE sql
AS $$
    SELECT pg_temp.names(ARRAY(SELECT id FROM c
        WHERE (SELECT e.result FROM cdp.explain_segment(seg::cdp.segment, c.id, at) e WHERE e.node = 1)))
$$;
-- One explain row of a contact.
CREATE FUNCTION pg_temp.x(seg text, who text, n integer, at timestamptz DEFAULT pg_temp.at())
RETURNS TABLE (node integer, depth integer, condition text, result boolean, detail text) LANGUAGE sql
AS $$ SELECT * FROM cdp.explain_segment(seg::cdp.segment, pg_temp.c(who), at) e WHERE e.node = n $$;
-- The canonical text of a definition.
CREATE FUNCTION pg_temp.canon(seg text) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT seg::cdp.segment::text $$;
-- The members as the compiled SQL returns them.
CREATE FUNCTION pg_temp.ms(seg text, at timestamptz DEFAULT pg_temp.at()) RETURNS text LANGUAGE plpgsql
AS $$
DECLARE
    ids bigint[];
BEGIN
    EXECUTE 'SELECT array_agg(id) FROM (' || cdp.segment_sql(seg::cdp.segment, at) || ') s(id)' INTO ids;
    RETURN pg_temp.names(coalesce(ids, '{}'));
END
$$;

-- Live contacts: alice, bob, carol, dave, erin, hank.  frank is archived,
-- gina was merged into hank (her profile, tag VIP and term sports moved).
SELECT is(pg_temp.m($$contact.created_at > '2000-01-01T00:00:00Z'$$), 'alice,bob,carol,dave,erin,hank',
    'members are the live contacts: archived and merged contacts are never members');

-- ---------------------------------------------------------------- text
SELECT is(pg_temp.m($$customer.tier = 'gold'$$), 'alice', 'text =');
SELECT is(pg_temp.m($$customer.tier != 'gold'$$), 'bob,erin,hank', 'text != is false on a NULL attribute and without a profile');
SELECT is(pg_temp.m($$customer.tier <> 'gold'$$), 'bob,erin,hank', 'text <>');
SELECT is(pg_temp.m($$customer.tier < 'gold'$$), 'hank', 'text <');
SELECT is(pg_temp.m($$customer.tier <= 'gold'$$), 'alice,hank', 'text <=');
SELECT is(pg_temp.m($$customer.tier > 'gold'$$), 'bob,erin', 'text >');
SELECT is(pg_temp.m($$customer.tier >= 'platinum'$$), 'bob,erin', 'text >=');
SELECT is(pg_temp.m($$customer.tier in ('gold', 'silver')$$), 'alice,bob', 'text IN');
SELECT is(pg_temp.m($$customer.tier not in ('gold', 'silver')$$), 'erin,hank', 'text NOT IN is false on missing values');
SELECT is(pg_temp.m($$customer.tier between 'c' and 'p'$$), 'alice', 'text BETWEEN');
SELECT is(pg_temp.m($$customer.tier not between 'c' and 'p'$$), 'bob,erin,hank', 'text NOT BETWEEN is false on missing values');
SELECT is(pg_temp.m($$customer.tier like 'g%'$$), 'alice', 'LIKE');
SELECT is(pg_temp.m($$customer.tier like '%l%'$$), 'alice,bob,erin', 'LIKE with a leading wildcard');
SELECT is(pg_temp.m($$customer.tier not like 'g%'$$), 'bob,erin,hank', 'NOT LIKE is false on missing values');
SELECT is(pg_temp.m($$customer.city like 'Paris'$$), 'alice', 'LIKE is case-sensitive');
SELECT is(pg_temp.m($$customer.city ilike 'PARIS'$$), 'alice,bob', 'ILIKE is not');
SELECT is(pg_temp.m($$customer.city not ilike 'par%'$$), 'erin', 'NOT ILIKE');
SELECT is(pg_temp.m($$customer.tier is null$$), 'carol,dave', 'IS NULL: a NULL attribute (carol) and no profile row (dave)');
SELECT is(pg_temp.m($$customer.tier is not null$$), 'alice,bob,erin,hank', 'IS NOT NULL');
SELECT is(pg_temp.m($$not (customer.tier = 'gold')$$), 'bob,carol,dave,erin,hank', 'NOT negates the whole condition, missing values included');
SELECT is(pg_temp.m($$not customer.tier != 'gold'$$), 'alice,carol,dave', 'NOT of != holds where != was false on a missing value');

-- ---------------------------------------------------------------- integer
SELECT is(pg_temp.m($$customer.age = 30$$), 'alice', 'integer =');
SELECT is(pg_temp.m($$customer.age != 30$$), 'bob,carol,erin,hank', 'integer != (dave has no profile)');
SELECT is(pg_temp.m($$customer.age < 35$$), 'alice,carol', 'integer <');
SELECT is(pg_temp.m($$customer.age <= 35$$), 'alice,carol,hank', 'integer <=');
SELECT is(pg_temp.m($$customer.age > 45$$), 'erin', 'integer >');
SELECT is(pg_temp.m($$customer.age >= 45$$), 'bob,erin', 'integer >=');
SELECT is(pg_temp.m($$customer.age in (22, 60)$$), 'carol,erin', 'integer IN');
SELECT is(pg_temp.m($$customer.age not in (22, 60)$$), 'alice,bob,hank', 'integer NOT IN');
SELECT is(pg_temp.m($$customer.age between 30 and 45$$), 'alice,bob,hank', 'integer BETWEEN is inclusive');
SELECT is(pg_temp.m($$customer.age not between 30 and 45$$), 'carol,erin', 'integer NOT BETWEEN');
SELECT is(pg_temp.m($$customer.age = '30'$$), 'alice', 'a string literal that converts to integer');
SELECT is(pg_temp.m($$customer.age is null$$), 'dave', 'integer IS NULL');
SELECT is(pg_temp.m($$not (customer.age != 30)$$), 'alice,dave', 'NOT (x != v) includes a contact without a profile');

-- ---------------------------------------------------------------- number
SELECT is(pg_temp.m($$customer.score = 4.5$$), 'alice,erin', 'number =');
SELECT is(pg_temp.m($$customer.score = 3$$), 'bob', 'number = with an integer literal (3 = 3.0)');
SELECT is(pg_temp.m($$customer.score != 4.5$$), 'bob', 'number !=');
SELECT is(pg_temp.m($$customer.score < 4.5$$), 'bob', 'number <');
SELECT is(pg_temp.m($$customer.score <= 3.0$$), 'bob', 'number <=');
SELECT is(pg_temp.m($$customer.score > 3$$), 'alice,erin', 'number >');
SELECT is(pg_temp.m($$customer.score >= 3$$), 'alice,bob,erin', 'number >=');
SELECT is(pg_temp.m($$customer.score > -1.5e1$$), 'alice,bob,erin', 'number > a negative exponent literal');
SELECT is(pg_temp.m($$customer.score in (3, 4.5)$$), 'alice,bob,erin', 'number IN');
SELECT is(pg_temp.m($$customer.score between 3.5 and 5$$), 'alice,erin', 'number BETWEEN');
SELECT is(pg_temp.m($$customer.score is null$$), 'carol,dave,hank', 'number IS NULL');

-- ---------------------------------------------------------------- boolean
SELECT is(pg_temp.m($$customer.vip = true$$), 'alice', 'boolean = true');
SELECT is(pg_temp.m($$customer.vip = false$$), 'bob', 'boolean = false');
SELECT is(pg_temp.m($$customer.vip != true$$), 'bob', 'boolean != is false on NULL');
SELECT is(pg_temp.m($$customer.vip <> false$$), 'alice', 'boolean <>');
SELECT is(pg_temp.m($$customer.vip in (true, false)$$), 'alice,bob', 'boolean IN');
SELECT is(pg_temp.m($$customer.vip is null$$), 'carol,dave,erin,hank', 'boolean IS NULL (erin set it to null)');
SELECT is(pg_temp.m($$not customer.vip = true$$), 'bob,carol,dave,erin,hank', 'NOT binds the whole comparison');

-- ---------------------------------------------------------------- date
SELECT is(pg_temp.m($$customer.birthday = '1990-05-01'$$), 'alice', 'date =');
SELECT is(pg_temp.m($$customer.birthday != '1990-05-01'$$), 'bob', 'date !=');
SELECT is(pg_temp.m($$customer.birthday < '1985-01-01'$$), 'bob', 'date <');
SELECT is(pg_temp.m($$customer.birthday <= '1980-01-15'$$), 'bob', 'date <= is inclusive');
SELECT is(pg_temp.m($$customer.birthday > '1980-01-15'$$), 'alice', 'date >');
SELECT is(pg_temp.m($$customer.birthday >= '1980-01-15'$$), 'alice,bob', 'date >=');
SELECT is(pg_temp.m($$customer.birthday between '1979-12-31' and '1980-12-31'$$), 'bob', 'date BETWEEN');
SELECT is(pg_temp.m($$customer.birthday in ('1990-05-01', '2000-01-01')$$), 'alice', 'date IN');
SELECT is(pg_temp.m($$customer.birthday < now() - interval '40 years'$$), 'bob', 'date < now() - interval (at 2025-06-15)');
SELECT is(pg_temp.m($$customer.birthday > now() - interval '40 years'$$), 'alice', 'date > now() - interval');
SELECT is(pg_temp.m($$customer.birthday > now() - interval '40 years'$$, '2030-06-15 12:00+00'), '',
    'now() is the evaluation time');

-- ---------------------------------------------------------------- datetime
SELECT is(pg_temp.m($$customer.signup = '2025-06-10T10:00:00Z'$$), 'alice', 'datetime =');
SELECT is(pg_temp.m($$customer.signup = '2025-06-10T12:00:00+02:00'$$), 'alice', 'datetime = the same instant in another offset');
SELECT is(pg_temp.m($$customer.signup != '2025-06-10T10:00:00Z'$$), 'bob', 'datetime !=');
SELECT is(pg_temp.m($$customer.signup > now() - interval '30 days'$$), 'alice', 'datetime > now() - interval');
SELECT is(pg_temp.m($$customer.signup >= now() - interval '30 days'$$, '2025-07-10 10:00+00'), 'alice', 'datetime >= now() - interval: the bound is included');
SELECT is(pg_temp.m($$customer.signup > now() - interval '30 days'$$, '2025-07-10 10:00+00'), '', 'and > excludes it');
SELECT is(pg_temp.m($$customer.signup < now() - interval '30 days'$$), 'bob', 'datetime < now() - interval');
SELECT is(pg_temp.m($$customer.signup <= now()$$), 'alice,bob', 'datetime <= now()');
SELECT is(pg_temp.m($$customer.signup > now() + interval '1 day'$$), '', 'datetime > now() + interval');
SELECT is(pg_temp.m($$customer.signup between '2023-12-31T23:00:00Z' and '2024-01-01T00:00:00Z'$$), 'bob', 'datetime BETWEEN is inclusive');
SELECT is(pg_temp.m($$customer.signup is null$$), 'carol,dave,erin,hank', 'datetime IS NULL');

-- ---------------------------------------------------------------- time
SELECT is(pg_temp.m($$customer.wake = '06:00:00'$$), 'bob', 'time =');
SELECT is(pg_temp.m($$customer.wake != '06:00'$$), 'alice', 'time !=');
SELECT is(pg_temp.m($$customer.wake < '07:00'$$), 'bob', 'time <');
SELECT is(pg_temp.m($$customer.wake <= '07:30'$$), 'alice,bob', 'time <=');
SELECT is(pg_temp.m($$customer.wake > '07:00'$$), 'alice', 'time >');
SELECT is(pg_temp.m($$customer.wake >= '07:30:00'$$), 'alice', 'time >=');
SELECT is(pg_temp.m($$customer.wake between '06:00' and '07:30'$$), 'alice,bob', 'time BETWEEN');

-- ---------------------------------------------------------------- email, phone
SELECT is(pg_temp.m($$customer.contact_email = 'alice@example.com'$$), 'alice', 'email =');
SELECT is(pg_temp.m($$customer.contact_email != 'alice@example.com'$$), 'bob', 'email !=');
SELECT is(pg_temp.m($$customer.contact_email < 'b@example.com'$$), 'alice', 'email <');
SELECT is(pg_temp.m($$customer.contact_email in ('alice@example.com', 'bob@example.org')$$), 'alice,bob', 'email IN');
SELECT is(pg_temp.m($$customer.contact_email like '%@example.org'$$), 'bob', 'email LIKE');
SELECT is(pg_temp.m($$customer.contact_email is null$$), 'carol,dave,erin,hank', 'email IS NULL');
SELECT is(pg_temp.m($$customer.mobile = '+14155552671'$$), 'alice', 'phone =');
SELECT is(pg_temp.m($$customer.mobile != '+14155552671'$$), 'bob', 'phone !=');
SELECT is(pg_temp.m($$customer.mobile like '+44%'$$), 'bob', 'phone LIKE');
SELECT is(pg_temp.m($$customer.mobile is not null$$), 'alice,bob', 'phone IS NOT NULL');

-- ---------------------------------------------------------------- arrays, json
SELECT is(pg_temp.m($$customer.hobbies contains 'golf'$$), 'alice', 'CONTAINS');
SELECT is(pg_temp.m($$customer.hobbies contains 'tennis'$$), 'bob', 'CONTAINS another element');
SELECT is(pg_temp.m($$customer.hobbies contains 'darts'$$), '', 'CONTAINS an element nobody has');
SELECT is(pg_temp.m($$customer.hobbies is null$$), 'carol,dave,erin,hank', 'array IS NULL');
SELECT is(pg_temp.m($$not customer.hobbies contains 'golf'$$), 'bob,carol,dave,erin,hank', 'NOT CONTAINS includes missing arrays');
SELECT is(pg_temp.m($$customer.meta is not null$$), 'alice', 'json IS NOT NULL');

-- ---------------------------------------------------------------- contact fields
SELECT is(pg_temp.m($$contact.given_name = 'Alice'$$), 'alice', 'contact.given_name');
SELECT is(pg_temp.m($$contact.given_name != 'Alice'$$), 'bob,hank', 'contact.given_name != is false on NULL names');
SELECT is(pg_temp.m($$contact.given_name is null$$), 'carol,dave,erin', 'contact.given_name IS NULL');
SELECT is(pg_temp.m($$contact.family_name = 'Tomb'$$), '', 'a merged contact''s own fields never make it a member');
SELECT is(pg_temp.m($$contact.is_vendor = true$$), 'erin', 'contact.is_vendor');
SELECT is(pg_temp.m($$contact.type = 'lead'$$), 'bob,hank', 'contact.type');
SELECT is(pg_temp.m(format('contact.id = %s', pg_temp.c('alice'))), 'alice', 'contact.id');
SELECT is(pg_temp.m(format('contact.id in (%s, %s, %s)', pg_temp.c('bob'), pg_temp.c('frank'), pg_temp.c('gina'))), 'bob',
    'contact.id IN of an archived and a merged contact');

-- ---------------------------------------------------------------- tags
SELECT is(pg_temp.m($$tag 'VIP'$$), 'alice,hank', 'tag (hank has gina''s tag; frank is archived)');
SELECT is(pg_temp.m($$tag 'vip'$$), 'alice,hank', 'tags are found case-insensitively');
SELECT is(pg_temp.m($$tag 'Tech'$$), '', 'tag matches that exact tag, not its descendants');
SELECT is(pg_temp.m($$tag under 'Tech'$$), 'alice,bob', 'tag under: the tag and its descendants');
SELECT is(pg_temp.m($$tag under 'Tech/AI'$$), 'alice', 'tag under a leaf');
SELECT is(pg_temp.m($$tag 'Tech/Web'$$), 'bob', 'tag by path');
SELECT is(pg_temp.m($$not tag 'Churned'$$), 'alice,bob,dave,erin,hank', 'NOT tag');

-- ---------------------------------------------------------------- taxonomies
SELECT is(pg_temp.m($$interests is 'sports'$$), 'hank', 'taxonomy IS: the term itself only');
SELECT is(pg_temp.m($$interests under 'sports'$$), 'alice,bob,hank', 'taxonomy UNDER: the term and descendants');
SELECT is(pg_temp.m($$interests is 'sports/football'$$), 'alice', 'taxonomy IS a path');
SELECT is(pg_temp.m($$interests under 'music'$$), 'carol', 'taxonomy UNDER a leaf');
SELECT is(pg_temp.m($$not interests under 'sports'$$), 'carol,dave,erin', 'NOT taxonomy UNDER');

-- ---------------------------------------------------------------- has profile, has kind
SELECT is(pg_temp.m($$has profile customer$$), 'alice,bob,carol,erin,hank', 'has profile');
SELECT is(pg_temp.m($$has profile loyalty$$), 'alice,dave', 'has profile: a row with only NULL values counts');
SELECT is(pg_temp.m($$not has profile customer$$), 'dave', 'NOT has profile');
SELECT is(pg_temp.m($$has profile company$$), 'alice,bob,carol,dave,erin', 'has profile of an organization profile');
SELECT is(pg_temp.m($$has email$$), 'alice,bob,dave,erin,hank', 'has email');
SELECT is(pg_temp.m($$has validated email$$), 'alice,erin', 'has validated email');
SELECT is(pg_temp.m($$has phone$$), 'carol', 'has phone');
SELECT is(pg_temp.m($$has validated phone$$), '', 'has validated phone');

-- ---------------------------------------------------------------- organizations
SELECT is(pg_temp.m($$organization(company.industry = 'retail' and company.size > 200)$$), 'erin',
    'organization(...): one organization satisfies every inner condition (dave: acme is retail, globex is big; oldco is archived)');
SELECT is(pg_temp.m($$organization(company.industry = 'retail') and organization(company.size > 200)$$), 'dave,erin',
    'two organization(...) may be satisfied by different organizations');
SELECT is(pg_temp.m($$company.industry = 'retail' and company.size > 200$$), 'dave,erin',
    'the shorthand wraps each condition in its own organization(...)');
SELECT is(pg_temp.m($$company.industry = 'retail'$$), 'alice,dave,erin', 'company.industry shorthand');
SELECT is(pg_temp.m($$company.industry = 'software'$$), 'bob,carol,dave', 'company.industry shorthand, another value');
SELECT is(pg_temp.m($$not company.industry = 'retail'$$), 'bob,carol,hank', 'NOT of the shorthand');
SELECT is(pg_temp.m($$organization(company.industry = 'retail' or company.size > 400)$$), 'alice,bob,dave,erin', 'OR inside organization(...)');
SELECT is(pg_temp.m($$organization(not company.industry = 'retail')$$), 'bob,carol,dave,hank',
    'NOT inside organization(...): initech has no profile, so its industry = ''retail'' is false');
SELECT is(pg_temp.m($$organization(organization.name = 'Initech')$$), 'hank', 'organization.name');
SELECT is(pg_temp.m($$organization.slug = 'globex'$$), 'bob,dave', 'organization.slug outside a quantifier');
SELECT is(pg_temp.m($$organization(tag 'Partner')$$), 'alice,dave', 'organization tags');
SELECT is(pg_temp.m($$organization(tag under 'Partner')$$), 'alice,bob,dave', 'organization tag under');
SELECT is(pg_temp.m($$organization(interests under 'sports')$$), 'alice,dave', 'organization terms');
SELECT is(pg_temp.m($$organization(has profile company)$$), 'alice,bob,carol,dave,erin', 'organization(has profile)');
SELECT is(pg_temp.m($$organization(company.size is null)$$), 'hank', 'IS NULL inside organization(...)');
SELECT is(pg_temp.m($$organization under 'acme'$$), 'alice,carol,dave', 'organization under: the organization and its descendants');
SELECT is(pg_temp.m($$organization under 'acme-eu'$$), 'carol', 'organization under a leaf');
SELECT is(pg_temp.m($$organization under 'oldco'$$), '', 'organization under an archived organization');

-- ---------------------------------------------------------------- documents
SELECT is(pg_temp.m($$document contract$$), 'alice,bob,erin', 'document');
SELECT is(pg_temp.m($$document contract (contract.amount > 100)$$), 'alice', 'document (...): archived documents do not count');
SELECT is(pg_temp.m($$document contract (contract.amount >= 50 and contract.plan = 'basic')$$), 'bob', 'document with two conditions');
SELECT is(pg_temp.m($$document contract (contract.amount > 100 and contract.plan = 'basic')$$), '',
    'one document satisfies every inner condition (alice has 500 pro and 10 basic)');
SELECT is(pg_temp.m($$document contract (contract.plan = 'pro')$$), 'alice', 'document text attribute');
SELECT is(pg_temp.m($$document contract (contract.amount is null)$$), 'erin', 'IS NULL inside document (...)');
SELECT is(pg_temp.m($$not document contract$$), 'carol,dave,hank', 'NOT document');

-- ---------------------------------------------------------------- events
SELECT is(pg_temp.m($$event 'purchase'$$), 'alice,bob', 'event: carol''s purchase is after the evaluation time');
SELECT is(pg_temp.m($$event 'purchase'$$, '2025-06-21 00:00+00'), 'alice,bob,carol', 'event at a later time');
SELECT is(pg_temp.m($$event 'purchase'$$, '2025-01-01 00:00+00'), 'bob', 'event at an earlier time');
SELECT is(pg_temp.m($$event 'signup'$$), 'alice', 'event by name');
SELECT is(pg_temp.m($$event 'nosuchevent'$$), '', 'an event name nobody has');
SELECT is(pg_temp.m($$not event 'purchase'$$), 'carol,dave,erin,hank', 'NOT event');
SELECT is(pg_temp.m($$event 'purchase' count >= 3 within 30 days$$), 'alice', 'count >= within days');
SELECT is(pg_temp.m($$event 'purchase' count >= 3$$), 'alice,bob', 'count >= without within: all time up to the evaluation time');
SELECT is(pg_temp.m($$event 'purchase' count = 2 within 30 days$$), 'bob', 'count =');
SELECT is(pg_temp.m($$event 'purchase' count > 2 within 30 days$$), 'alice', 'count >');
SELECT is(pg_temp.m($$event 'purchase' count < 3 within 30 days$$), 'bob,carol,dave,erin,hank', 'count < is satisfied by zero events');
SELECT is(pg_temp.m($$event 'purchase' count <= 2$$), 'carol,dave,erin,hank', 'count <=');
SELECT is(pg_temp.m($$event 'purchase' count = 0$$), 'carol,dave,erin,hank', 'count = 0');
SELECT is(pg_temp.m($$event 'purchase' count != 3$$), 'carol,dave,erin,hank', 'count !=');
SELECT is(pg_temp.m($$event 'purchase' within 30 days$$, '2025-06-21 00:00+00'), 'alice,bob,carol', 'within at a later time');
SELECT is(pg_temp.m($$event 'login' within 2 hours$$), 'hank', 'within hours');
SELECT is(pg_temp.m($$event 'login' within 1 hours$$), '', 'within excludes an event exactly at the start of the window');
SELECT is(pg_temp.m($$event 'login' within 1 hours$$, '2025-06-15 11:00+00'), 'hank', 'an event exactly at the evaluation time counts');
SELECT is(pg_temp.m($$event 'login' count >= 2 within 24 hours$$), '', 'count within hours');
SELECT is(pg_temp.m($$event 'login' count >= 2 within 2 days$$), 'hank', 'count within days');
SELECT is(pg_temp.m($$event 'purchase' where (properties.amount > 100)$$), 'alice,bob', 'where: a number compares JSON numbers only');
SELECT is(pg_temp.m($$event 'purchase' where (properties.amount = 'big')$$), 'bob', 'where: a string compares the property as text');
SELECT is(pg_temp.m($$event 'purchase' where (properties.amount = '20')$$), 'alice', 'where: a string compares a JSON number as text');
SELECT is(pg_temp.m($$event 'purchase' where (properties.currency = 'EUR')$$), 'alice', 'where on a property some events lack');
SELECT is(pg_temp.m($$event 'purchase' where (properties.gift = true)$$), 'alice', 'where: a JSON boolean');
SELECT is(pg_temp.m($$event 'purchase' where (properties.currency is null)$$), 'alice,bob', 'where: IS NULL is an absent property');
SELECT is(pg_temp.m($$event 'purchase' where (properties.currency is not null)$$), 'alice', 'where: IS NOT NULL');
SELECT is(pg_temp.m($$event 'purchase' where (properties.amount > 10 and properties.amount < 25)$$), 'alice',
    'where: one event satisfies every inner condition');
SELECT is(pg_temp.m($$event 'purchase' where (properties.amount > 100) count >= 2$$), '', 'where with count');
SELECT is(pg_temp.m($$event 'purchase' where (properties.amount >= 20) count >= 3 within 30 days$$), 'alice', 'where, count and within');
SELECT is(pg_temp.m($$event 'purchase' where (properties.amount in (5, 200))$$), 'bob', 'where: IN');
SELECT is(pg_temp.m($$event 'purchase' where (properties.amount between 25 and 150)$$), 'alice', 'where: BETWEEN');
SELECT is(pg_temp.m($$event 'purchase' where (properties.amount like 'b%')$$), 'bob', 'where: LIKE');
SELECT is(pg_temp.m($$event 'purchase' where (properties.amount != 20)$$), 'alice,bob', 'where: != skips events without the number');
SELECT is(pg_temp.m($$event 'purchase' where (properties.nothing != 1)$$), '', 'where: != on an absent property is false');

-- ---------------------------------------------------------------- precedence, keywords, example
SELECT is(pg_temp.m($$customer.tier is not null and customer.age between 30 and 45 or customer.tier like 'p%'$$),
    'alice,bob,erin,hank', 'AND binds tighter than OR');
SELECT is(pg_temp.m($$customer.tier is not null and (customer.age between 30 and 44 or customer.tier like 'p%')$$),
    'alice,erin,hank', 'parentheses');
SELECT is(pg_temp.m($$not not tag 'VIP'$$), 'alice,hank', 'NOT NOT');
SELECT is(pg_temp.m($$TAG UNDER 'Tech' AnD NoT customer.tier In ('silver')$$), 'alice', 'keywords are case-insensitive');
SELECT is(pg_temp.m($$EVENT 'purchase' COUNT >= 3 WITHIN 30 DAYS$$), 'alice', 'EVENT COUNT WITHIN DAYS in capitals');
SELECT is(pg_temp.m($$Has Validated email Or ORGANIZATION UNDER 'acme-eu'$$), 'alice,carol,erin', 'HAS VALIDATED, ORGANIZATION UNDER in mixed case');

SELECT is(pg_temp.m($$customer.tier = 'gold' and interests under 'sports' and organization(company.industry = 'retail')
    and not tag 'Churned' and event 'purchase' count >= 3 within 30 days$$), 'alice', 'the example of DESIGN §7');

-- ---------------------------------------------------------------- saved segments, in segment
SELECT lives_ok($$SELECT cdp.create_segment('tap_gold', $s$customer.tier = 'gold'$s$, 'Gold customers')$$, 'create_segment');
SELECT is((SELECT definition::text FROM cdp.segments WHERE slug = 'tap_gold'), pg_temp.canon($$customer.tier = 'gold'$$),
    'the definition is stored in canonical form');
SELECT is((SELECT row(title, refresh, description IS NULL, created_at IS NOT NULL, updated_at IS NOT NULL)::text
             FROM cdp.segments WHERE slug = 'tap_gold'), '("Gold customers",manual,t,t,t)',
    'title, the default refresh, created_at and updated_at');
SELECT lives_ok($$SELECT cdp.create_segment('tap_recent', $s$event 'purchase' within 30 days$s$,
    description => 'Bought in the last 30 days')$$, 'create_segment with a description');
SELECT is((SELECT description FROM cdp.segments WHERE slug = 'tap_recent'), 'Bought in the last 30 days', 'the description is kept');
SELECT lives_ok($$SELECT cdp.create_segment('tap_nested', $s$in segment 'tap_gold' or in segment 'tap_recent'$s$)$$,
    'a segment made of segments');
SELECT is(pg_temp.m($$in segment 'tap_gold'$$), 'alice', 'in segment');
SELECT is(pg_temp.m($$not in segment 'tap_gold'$$), 'bob,carol,dave,erin,hank', 'NOT in segment');
SELECT is(pg_temp.m($$in segment 'tap_recent'$$), 'alice,bob', 'in segment is evaluated at the same time');
SELECT is(pg_temp.m($$in segment 'tap_recent'$$, '2025-06-21 00:00+00'), 'alice,bob,carol', 'in segment at a later time');
SELECT is(pg_temp.m($$in segment 'tap_nested' and not in segment 'tap_gold'$$), 'bob', 'in segment through two levels');
SELECT is(pg_temp.names(ARRAY(SELECT cdp.members('tap_recent'::text, '2025-06-21 00:00+00'))), 'alice,bob,carol', 'members of a slug, at a time');
SELECT is(pg_temp.names(ARRAY(SELECT cdp.members('tap_gold'::text))), 'alice', 'members of a slug, now');
SELECT is(cdp.count('tap_nested'::text, pg_temp.at()), 2::bigint, 'count of a slug');
SELECT is(cdp.count('tap_nested', pg_temp.at()), 2::bigint, 'an untyped literal is a slug');
SELECT is(cdp.count($$tag 'VIP'$$::cdp.segment, pg_temp.at()), 2::bigint, 'count of a definition');
SELECT is(cdp.count($$tag 'VIP'$$::cdp.segment), 2::bigint, 'count of a definition, now');
SELECT is(cdp.count($$customer.age > 200$$::cdp.segment), 0::bigint, 'count of an empty segment');

SELECT lives_ok($$SELECT cdp.alter_segment('tap_gold', $s$customer.tier in ('gold', 'platinum')$s$)$$, 'alter_segment');
SELECT is((SELECT row(definition::text = pg_temp.canon($s$customer.tier in ('gold', 'platinum')$s$), title, updated_at >= created_at)::text
             FROM cdp.segments WHERE slug = 'tap_gold'), '(t,"Gold customers",t)', 'alter_segment changes the definition and keeps the title');
SELECT is(pg_temp.m($$in segment 'tap_gold'$$), 'alice,erin', 'in segment follows the new definition');
SELECT is(pg_temp.names(ARRAY(SELECT cdp.members('tap_nested'::text, pg_temp.at()))), 'alice,bob,erin', 'and so do segments that use it');
SELECT lives_ok($$SELECT cdp.alter_segment('tap_gold', title => 'Gold and platinum')$$, 'alter_segment of the title alone');
SELECT is((SELECT row(definition::text = pg_temp.canon($s$customer.tier in ('gold', 'platinum')$s$), title)::text
             FROM cdp.segments WHERE slug = 'tap_gold'), '(t,"Gold and platinum")', 'keeps the definition');
SELECT lives_ok($$SELECT cdp.create_segment('tap_tmp', $s$tag 'VIP'$s$)$$, 'create a segment to drop');
SELECT lives_ok($$SELECT cdp.drop_segment('tap_tmp')$$, 'drop_segment');
SELECT is((SELECT count(*) FROM cdp.segments WHERE slug = 'tap_tmp'), 0::bigint, 'drop_segment removes the row');
SELECT throws_ok($$SELECT cdp.count('tap_tmp'::text)$$, '42704', 'segment "tap_tmp" does not exist', 'a dropped segment is gone');

-- ---------------------------------------------------------------- in_segment, archived and merged
SELECT is(cdp.in_segment(pg_temp.c('alice'), $$tag 'VIP'$$::cdp.segment, pg_temp.at()), true, 'in_segment true');
SELECT is(cdp.in_segment(pg_temp.c('bob'), $$tag 'VIP'$$::cdp.segment, pg_temp.at()), false, 'in_segment false');
SELECT is(cdp.in_segment(pg_temp.c('alice'), $$tag 'VIP'$$::cdp.segment), true, 'in_segment, now');
SELECT is(cdp.in_segment(pg_temp.c('alice'), 'tap_gold'::text), true, 'in_segment of a slug');
SELECT is(cdp.in_segment(pg_temp.c('carol'), 'tap_recent'::text, '2025-06-21 00:00+00'), true, 'in_segment of a slug, at a time');
SELECT is(cdp.in_segment(pg_temp.c('carol'), 'tap_recent'::text, pg_temp.at()), false, 'in_segment of a slug, at another time');
SELECT is(cdp.in_segment(pg_temp.c('frank'), $$tag 'VIP'$$::cdp.segment, pg_temp.at()), false, 'an archived contact is never in a segment');
SELECT is(cdp.in_segment(pg_temp.c('frank'), $$not tag 'Churned'$$::cdp.segment, pg_temp.at()), false, 'not even a negated one');
SELECT is(cdp.in_segment(pg_temp.c('gina'), $$contact.family_name = 'Tomb'$$::cdp.segment, pg_temp.at()), false,
    'a merged contact is never in a segment');
SELECT is(cdp.in_segment(pg_temp.c('gina'), $$not tag 'Churned'$$::cdp.segment, pg_temp.at()), false, 'not even a negated one');
SELECT is(cdp.in_segment(-1, $$not tag 'Churned'$$::cdp.segment, pg_temp.at()), false, 'an unknown contact is in no segment');

-- ---------------------------------------------------------------- explain_segment
SELECT results_eq(
    format($$SELECT node, depth, result FROM cdp.explain_segment(%L::cdp.segment, %s, %L) ORDER BY node$$,
           $s$customer.tier = 'gold' and event 'purchase' count >= 3 within 30 days$s$, pg_temp.c('bob'), pg_temp.at()),
    $$VALUES (1, 0, false), (2, 1, false), (3, 1, false)$$, 'explain: a row per node in preorder with depth and result');
SELECT is((SELECT condition FROM pg_temp.x($$customer.tier = 'gold' and event 'purchase' count >= 3 within 30 days$$, 'bob', 1)),
    pg_temp.canon($$customer.tier = 'gold' and event 'purchase' count >= 3 within 30 days$$), 'explain: the root is the whole expression');
SELECT is((SELECT condition FROM pg_temp.x($$customer.tier = 'gold' and event 'purchase' count >= 3 within 30 days$$, 'bob', 2)),
    pg_temp.canon($$customer.tier = 'gold'$$), 'explain: a node''s canonical text');
SELECT is((SELECT condition FROM pg_temp.x($$customer.tier = 'gold' and event 'purchase' count >= 3 within 30 days$$, 'bob', 3)),
    pg_temp.canon($$event 'purchase' count >= 3 within 30 days$$), 'explain: an event node''s canonical text');
SELECT matches((SELECT detail FROM pg_temp.x($$customer.tier = 'gold'$$, 'bob', 1)), 'silver',
    'explain: the detail shows the observed value');
SELECT matches((SELECT detail FROM pg_temp.x($$customer.tier = 'gold' and event 'purchase' count >= 3 within 30 days$$, 'bob', 3)),
    '2 purchase events in 30 days, needed >= 3', 'explain: the detail of an event count');
SELECT matches((SELECT detail FROM pg_temp.x($$event 'purchase' count >= 3 within 30 days$$, 'alice', 1)),
    '3 purchase events in 30 days', 'explain: the detail of a satisfied event count');
SELECT matches((SELECT detail FROM pg_temp.x($$customer.tier = 'gold'$$, 'dave', 1)), 'no customer profile',
    'explain: the detail of a missing profile');
SELECT matches((SELECT detail FROM pg_temp.x($$customer.tier = 'gold'$$, 'carol', 1)), '(?i)null|no value|not set|empty|missing',
    'explain: the detail of a NULL attribute');
SELECT matches((SELECT detail FROM pg_temp.x($$customer.age > 40$$, 'bob', 1)), '45', 'explain: an integer value');
SELECT matches((SELECT detail FROM pg_temp.x($$organization(company.industry = 'retail' and company.size > 50)$$, 'dave', 1)),
    '1 of 2 organizations.*acme', 'explain: organization(...) says how many organizations match and which');
SELECT matches((SELECT detail FROM pg_temp.x($$document contract (contract.amount > 100)$$, 'bob', 1)), '0 of 1 .*50',
    'explain: document (...) counts live documents and shows their values');
SELECT matches((SELECT detail FROM pg_temp.x($$has validated email$$, 'bob', 1)), '0 validated', 'explain: has validated email');
SELECT matches((SELECT detail FROM pg_temp.x($$not tag 'Churned'$$, 'carol', 2)), 'Churned', 'explain: a tag node');
SELECT is((SELECT result FROM pg_temp.x($$tag 'VIP'$$, 'frank', 1)), false, 'explain: an archived contact is not a member');
SELECT matches((SELECT detail FROM pg_temp.x($$tag 'VIP'$$, 'frank', 1)), '^contact is archived', 'explain: and the detail says so');
SELECT is((SELECT row(result, detail)::text FROM pg_temp.x($$not tag 'Churned'$$, 'gina', 1)),
    format('(f,"contact was merged into %s")', pg_temp.c('hank')), 'explain: a merged contact');
SELECT is((SELECT row(e.result, e.detail)::text FROM cdp.explain_segment($$not tag 'Churned'$$::cdp.segment, -1, pg_temp.at()) e
            WHERE e.node = 1), '(f,"no such contact")', 'explain: an unknown contact');
SELECT results_eq(
    format($$SELECT node, depth, result FROM cdp.explain_segment(%L::cdp.segment, %s, %L) ORDER BY node$$,
           $s$(tag 'VIP' or customer.age > 40) and not has profile loyalty$s$, pg_temp.c('bob'), pg_temp.at()),
    $$VALUES (1, 0, true), (2, 1, true), (3, 2, false), (4, 2, true), (5, 1, true), (6, 2, false)$$,
    'explain: nested OR and NOT');
SELECT results_eq(
    format($$SELECT node, depth, result FROM cdp.explain_segment('tap_nested'::text, %s, %L) ORDER BY node LIMIT 1$$,
           pg_temp.c('erin'), pg_temp.at()),
    $$VALUES (1, 0, true)$$, 'explain of a slug');
SELECT is((SELECT result FROM cdp.explain_segment($$tag 'VIP'$$::cdp.segment, pg_temp.c('alice')) WHERE node = 1), true,
    'explain, now');

-- ---------------------------------------------------------------- estimate
CREATE TEMP TABLE scans AS
    SELECT sum(seq_scan + coalesce(idx_scan, 0)) AS n FROM pg_stat_xact_user_tables
     WHERE relid IN ('cdp.contacts'::regclass, 'cdp_data.profile_customer'::regclass);
SELECT cmp_ok(cdp.estimate($$customer.tier = 'gold'$$::cdp.segment, pg_temp.at()), '>=', 0::bigint, 'estimate of a definition');
SELECT cmp_ok(cdp.estimate('tap_gold'::text), '>=', 0::bigint, 'estimate of a slug');
SELECT is((SELECT sum(seq_scan + coalesce(idx_scan, 0)) FROM pg_stat_xact_user_tables
            WHERE relid IN ('cdp.contacts'::regclass, 'cdp_data.profile_customer'::regclass)), (SELECT n FROM scans),
    'estimate scans neither contacts nor the profile table');

-- ---------------------------------------------------------------- segment_sql
SELECT matches(cdp.segment_sql($$tag 'VIP'$$::cdp.segment), '^SELECT c\.id FROM cdp\.contacts c WHERE ',
    'segment_sql is SELECT c.id FROM cdp.contacts c WHERE ...');
SELECT is(pg_temp.ms($$tag 'VIP' or customer.age < 25$$), 'alice,carol,hank', 'segment_sql gives the members');
SELECT is(pg_temp.ms($$event 'purchase' count < 3 within 30 days$$), 'bob,carol,dave,erin,hank', 'segment_sql of an event count at a time');
SELECT is(pg_temp.ms($$organization(company.industry = 'retail' and company.size > 200)$$), 'erin', 'segment_sql of organization(...)');
SELECT is(pg_temp.ms($$not (customer.tier = 'gold')$$), 'bob,carol,dave,erin,hank', 'segment_sql of NOT');
SELECT is(pg_temp.ms($$in segment 'tap_nested'$$), 'alice,bob,erin', 'segment_sql of in segment');
SELECT is(pg_temp.ms($$tag 'VIP'$$, NULL), 'alice,hank', 'segment_sql without a time runs as it is');
SELECT is(pg_temp.ms($$event 'purchase' within 36500 days$$, NULL), 'alice,bob,carol', 'segment_sql without a time evaluates at now()');
SELECT matches(cdp.segment_sql($$customer.tier = 'a''b' or event 'x''y'$$::cdp.segment), '''a''''b''.*''x''''y''',
    'segment_sql quotes literals');
SELECT is(pg_temp.names(ARRAY(SELECT cdp.members($$tag under 'Tech'$$::cdp.segment))), 'alice,bob', 'members, now');

-- ---------------------------------------------------------------- in_segment, explain and members agree
SELECT is((SELECT count(*) FROM (SELECT DISTINCT seg, at FROM cases) k
            WHERE pg_temp.mi(k.seg, k.at) IS DISTINCT FROM pg_temp.names(ARRAY(SELECT cdp.members(k.seg::cdp.segment, k.at)))),
    0::bigint, 'in_segment agrees with members on every case above');
SELECT is((SELECT count(*) FROM (SELECT DISTINCT seg, at FROM cases) k
            WHERE pg_temp.mx(k.seg, k.at) IS DISTINCT FROM pg_temp.names(ARRAY(SELECT cdp.members(k.seg::cdp.segment, k.at)))),
    0::bigint, 'the root row of explain_segment agrees with members on every case above');
SELECT is((SELECT count(*) FROM (SELECT DISTINCT seg, at FROM cases) k
            WHERE cdp.count(k.seg::cdp.segment, k.at) <> (SELECT count(*) FROM cdp.members(k.seg::cdp.segment, k.at))),
    0::bigint, 'count is the number of members on every case above');
SELECT diag(format('mismatch: %s at %s: members %s, in_segment %s, explain %s', k.seg, k.at,
                   pg_temp.names(ARRAY(SELECT cdp.members(k.seg::cdp.segment, k.at))), pg_temp.mi(k.seg, k.at), pg_temp.mx(k.seg, k.at)))
  FROM (SELECT DISTINCT seg, at FROM cases) k
 WHERE pg_temp.mi(k.seg, k.at) IS DISTINCT FROM pg_temp.names(ARRAY(SELECT cdp.members(k.seg::cdp.segment, k.at)))
    OR pg_temp.mx(k.seg, k.at) IS DISTINCT FROM pg_temp.names(ARRAY(SELECT cdp.members(k.seg::cdp.segment, k.at)));

-- ---------------------------------------------------------------- plans
-- 20,000 more contacts, each with a customer profile; a rare tag, organization
-- and event on five of them; many common events.  The compiled SQL of a
-- selective segment must reach contacts by index, not by a sequential scan.
INSERT INTO cdp.contacts (given_name) SELECT 'bulk' FROM generate_series(1, 20000);
INSERT INTO cdp_data.profile_customer (contact_id, tier, age)
    SELECT id, (ARRAY['gold', 'silver', 'bronze'])[1 + id % 3], id % 90 FROM cdp.contacts WHERE given_name = 'bulk';
DO $$
DECLARE
    r record;
BEGIN
    PERFORM cdp.create_organization('rareorg', 'Rare Org');
    FOR r IN SELECT id FROM cdp.contacts WHERE given_name = 'bulk' ORDER BY id LIMIT 5 LOOP
        PERFORM cdp.tag('contact', r.id, 'Rare');
        PERFORM cdp.add_member(r.id, 'rareorg');
    END LOOP;
    FOR r IN SELECT id FROM cdp.contacts WHERE given_name = 'bulk' ORDER BY id LIMIT 500 LOOP
        PERFORM cdp.tag('contact', r.id, 'Common');
        PERFORM cdp.add_member(r.id, 'bigretail');
    END LOOP;
END
$$;
INSERT INTO cdp.events (contact_id, name, occurred_at)
    SELECT id, 'page_view', timestamptz '2025-06-01 00:00+00' + (id % 1000) * interval '1 hour'
      FROM cdp.contacts, generate_series(1, 3) WHERE given_name = 'bulk';
INSERT INTO cdp.events (contact_id, name, occurred_at)
    SELECT id, 'rare_event', timestamptz '2025-06-14 00:00+00' FROM cdp.contacts WHERE given_name = 'bulk' ORDER BY id LIMIT 5;
ANALYZE cdp.contacts;
ANALYZE cdp_data.profile_customer;
ANALYZE cdp.contact_tags;
ANALYZE cdp.tags;
ANALYZE cdp.organizations;
ANALYZE cdp.organization_members;
ANALYZE cdp.events;

-- The scan nodes of the plan of a definition's compiled SQL, as "Node Type
-- on relation" lines.
CREATE FUNCTION pg_temp.scans(seg text) RETURNS text[] LANGUAGE plpgsql
AS $$
DECLARE
    p jsonb;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || cdp.segment_sql(seg::cdp.segment, pg_temp.at()) INTO p;
    RETURN ARRAY(SELECT (n ->> 'Node Type') || coalesce(' on ' || (n ->> 'Relation Name'), '')
                   FROM jsonb_path_query(p, 'strict $.**') n
                  WHERE jsonb_typeof(n) = 'object' AND n ? 'Node Type' AND n ->> 'Node Type' ~ 'Scan');
END
$$;
SELECT ok(NOT 'Seq Scan on contacts' = ANY (s) AND EXISTS (SELECT 1 FROM unnest(s) x WHERE x ~ '^(Index|Index Only|Bitmap Heap) Scan'),
          format('plan of %s: index or bitmap scans, no Seq Scan on contacts (%s)', seg, array_to_string(s, ', ')))
  FROM (SELECT seg, pg_temp.scans(seg) s
          FROM unnest(ARRAY[$$tag 'Rare'$$, $$organization under 'rareorg'$$, $$event 'rare_event' within 30 days$$,
                            $$customer.tier = 'platinum'$$]) seg) x;
SELECT is(pg_temp.names(ARRAY(SELECT cdp.members($$tag 'Rare' and organization under 'rareorg' and event 'rare_event' within 30 days$$::cdp.segment,
                                                 pg_temp.at()))),
          (SELECT pg_temp.names(array_agg(id)) FROM (SELECT id FROM cdp.contacts WHERE given_name = 'bulk' ORDER BY id LIMIT 5) b),
          'the selective segments find their five contacts');

-- Datetimes without an offset are UTC and now() on a date is the UTC day, so a
-- segment means the same in every session TimeZone.
CREATE TEMP TABLE tz_results (zone text PRIMARY KEY, signup text, birthday text);
DO $tz$
DECLARE
    zone text;
BEGIN
    FOREACH zone IN ARRAY ARRAY['UTC', 'Asia/Tokyo', 'America/Los_Angeles'] LOOP
        PERFORM set_config('timezone', zone, true);
        INSERT INTO tz_results VALUES (zone,
            pg_temp.m($$customer.signup = '2025-06-10T10:00:00'$$),
            pg_temp.m($$customer.birthday < now() - interval '35 years'$$, '2025-05-01 20:00+00'));
    END LOOP;
    PERFORM set_config('timezone', 'UTC', true);
END
$tz$;
SELECT is((SELECT signup FROM tz_results WHERE zone = 'UTC'), 'alice', 'a datetime without offset is UTC');
SELECT is((SELECT count(DISTINCT (signup, birthday)) FROM tz_results), 1::bigint,
    'the same members under UTC, Asia/Tokyo and America/Los_Angeles');
SELECT ok((SELECT birthday NOT LIKE '%alice%' FROM tz_results WHERE zone = 'Asia/Tokyo'),
    'now() on a date is the UTC day (1990-05-01 is not before it in Tokyo either)');

SELECT * FROM finish();
ROLLBACK;
