-- setup.sql
--   The soak's model (a profile, organizations, a taxonomy, tags, three
--   immediate segments and two refreshed ones) and schema soak: the pool of
--   identifier values and one function per operation the pgbench scripts call.
--
-- People are numbered 1..pool, in groups of four (1-4, 5-8, ...): a person's
-- values are email, phone, anonymous id and external id built from the
-- number, and operations that link two people pick them in one group, so
-- that writers meet on the same contacts without making one giant contact.
-- People whose number is a multiple of 25 may be forgotten; resolving their
-- values afterwards is refused (42501), as documented.
--
-- Each operation catches the refusals the README documents for the races
-- the soak provokes and counts them in soak.refusals: 42501 (a forgotten
-- value), 42704 (a contact or merge forgotten meanwhile) and 55000 (a
-- merge-blocked pair, a merge already undone).  40001 and 40P01 are not
-- caught: pgbench retries them (--max-tries).  Any other error aborts the
-- pgbench client, and the soak fails.

\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cdp;
CREATE EXTENSION IF NOT EXISTS pgtap;

SELECT cdp.define_profile('customer', 'contact', '[
  {"slug": "ltv", "type": "number", "min": 0, "decimals": 2},
  {"slug": "plan", "type": "text", "options": ["free", "pro", "enterprise"]}]', 'Customer');
SELECT cdp.define_profile('company', 'organization', '[{"slug": "industry", "type": "text"}]');
SELECT cdp.create_organization('acme', 'Acme');
SELECT cdp.create_organization('acme-uk', 'Acme UK', parent => 'acme');
SELECT cdp.create_organization('globex', 'Globex');
SELECT cdp.set_organization_profile('acme', 'company', '{"industry": "retail"}');
SELECT cdp.define_taxonomy('interests', ARRAY['contact'], 'Interests');
SELECT cdp.add_term('interests', 'sports/football');
SELECT cdp.add_term('interests', 'sports/tennis');
SELECT cdp.add_term('interests', 'music');

CREATE SCHEMA soak;
CREATE TABLE soak.settings (pool integer NOT NULL);
INSERT INTO soak.settings VALUES (:pool);
-- what the consumer got, one row per change handed out (no key: a change
-- handed out twice shows as two rows)
CREATE TABLE soak.consumed (id bigint NOT NULL, got_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE soak.refusals (op text NOT NULL, sqlstate text NOT NULL, message text NOT NULL);

CREATE FUNCTION soak.email(p integer) RETURNS text LANGUAGE sql IMMUTABLE
RETURN format('person%s@soak.example', p);
CREATE FUNCTION soak.phone(p integer) RETURNS text LANGUAGE sql IMMUTABLE
RETURN '+447911' || lpad(p::text, 6, '0');
CREATE FUNCTION soak.anon(p integer) RETURNS text LANGUAGE sql IMMUTABLE
RETURN 'anon-' || p;
CREATE FUNCTION soak.ext(p integer) RETURNS text LANGUAGE sql IMMUTABLE
RETURN 'user-' || p;
-- another member of p's group of four
CREATE FUNCTION soak.mate(p integer, r integer) RETURNS integer LANGUAGE sql IMMUTABLE
RETURN p - (p - 1) % 4 + r % 4;

CREATE FUNCTION soak.refused(op text, state text, message text) RETURNS void LANGUAGE sql
BEGIN ATOMIC
    INSERT INTO soak.refusals VALUES (op, state, message);
END;

-- the contact of person p now, or NULL (forgotten, or never seen)
CREATE FUNCTION soak.contact(p integer) RETURNS bigint LANGUAGE sql STABLE
RETURN coalesce(cdp.find_contact('email', soak.email(p)), cdp.find_contact('anonymous', soak.anon(p)));

-- resolve: p's email (validated one time in four), sometimes with the phone,
-- anonymous id or external id of a group mate, which links the two
CREATE FUNCTION soak.op_resolve(p integer, r integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    q integer := soak.mate(p, r);
    ids jsonb := jsonb_build_array(jsonb_build_object('kind', 'email', 'value', soak.email(p),
                                                      'validated', CASE WHEN r % 4 = 0 THEN to_jsonb('otp'::text) ELSE 'false' END));
BEGIN
    IF r & 4 <> 0 THEN
        ids := ids || jsonb_build_object('kind', 'phone', 'value', soak.phone(q));
    END IF;
    IF r & 8 <> 0 THEN
        ids := ids || jsonb_build_object('kind', 'anonymous', 'value', soak.anon(q));
    END IF;
    IF r & 16 <> 0 THEN
        ids := ids || jsonb_build_object('kind', 'external_id', 'value', soak.ext(p));
    END IF;
    PERFORM cdp.resolve(ids, 'soak');
EXCEPTION WHEN insufficient_privilege THEN
    PERFORM soak.refused('resolve', SQLSTATE, SQLERRM);
END
$$;

-- ingest: identify (names, traits), track or alias messages; messageIds
-- repeat now and then
CREATE FUNCTION soak.op_ingest(p integer, r integer, m integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    q integer := soak.mate(p, r);
    msg jsonb;
BEGIN
    msg := CASE r % 3
        WHEN 0 THEN jsonb_build_object('type', 'identify', 'userId', soak.ext(p), 'anonymousId', soak.anon(q),
                                       'traits', jsonb_build_object('email', soak.email(p),
                                                                    'firstName', 'Given' || p, 'lastName', 'Family' || p))
        WHEN 1 THEN jsonb_build_object('type', 'track', 'anonymousId', soak.anon(p), 'event', 'purchase',
                                       'properties', jsonb_build_object('amount', r))
        ELSE jsonb_build_object('type', 'alias', 'userId', soak.ext(p), 'previousId', soak.anon(q)) END;
    IF m > 0 THEN
        msg := msg || jsonb_build_object('messageId', 'soak-' || m);
    END IF;
    PERFORM cdp.ingest(msg);
EXCEPTION WHEN insufficient_privilege THEN
    PERFORM soak.refused('ingest', SQLSTATE, SQLERRM);
END
$$;

CREATE FUNCTION soak.op_track(p integer, r integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM cdp.track(CASE WHEN r % 2 = 0 THEN jsonb_build_object('email', soak.email(p))
                           ELSE jsonb_build_object('anonymous', soak.anon(p)) END,
                      CASE WHEN r % 3 = 0 THEN 'purchase' ELSE 'page_view' END,
                      jsonb_build_object('amount', r), source => 'soak');
EXCEPTION WHEN insufficient_privilege THEN
    PERFORM soak.refused('track', SQLSTATE, SQLERRM);
END
$$;

-- set_profile, update_contact and organization membership through an id
-- read earlier in the transaction (it may be a tombstone by the time the
-- write runs: the write follows it)
CREATE FUNCTION soak.op_set_profile(p integer, r integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    id bigint := soak.contact(p);
BEGIN
    IF id IS NULL THEN
        RETURN;
    END IF;
    CASE r % 5
        WHEN 0 THEN PERFORM cdp.update_contact(id, given_name => CASE WHEN r % 2 = 0 THEN 'Given' || p ELSE '' END,
                                               family_name => 'Family' || p);
        WHEN 1 THEN PERFORM cdp.add_member(id, CASE WHEN r % 2 = 0 THEN 'acme-uk' ELSE 'globex' END);
        WHEN 2 THEN PERFORM cdp.remove_member(id, CASE WHEN r % 2 = 0 THEN 'acme-uk' ELSE 'globex' END);
        ELSE PERFORM cdp.set_profile(id, 'customer',
                                     jsonb_build_object('ltv', r * 37 % 1000,
                                                        'plan', (ARRAY['free', 'pro', 'enterprise'])[r % 3 + 1]),
                                     'soak');
    END CASE;
EXCEPTION WHEN undefined_object THEN
    PERFORM soak.refused('set_profile', SQLSTATE, SQLERRM);
END
$$;

CREATE FUNCTION soak.op_tag(p integer, r integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    id bigint := soak.contact(p);
BEGIN
    IF id IS NULL THEN
        RETURN;
    END IF;
    CASE r % 6
        WHEN 0 THEN PERFORM cdp.tag('contact', id, 'VIP');
        WHEN 1 THEN PERFORM cdp.untag('contact', id, 'VIP');
        WHEN 2 THEN PERFORM cdp.tag('contact', id, 'Newsletter');
        WHEN 3 THEN PERFORM cdp.untag('contact', id, 'Newsletter');
        WHEN 4 THEN PERFORM cdp.classify('contact', id, 'interests', 'sports/football');
        ELSE PERFORM cdp.unclassify('contact', id, 'interests', 'sports/football');
    END CASE;
EXCEPTION WHEN undefined_object THEN
    PERFORM soak.refused('tag', SQLSTATE, SQLERRM);
END
$$;

CREATE FUNCTION soak.op_merge(p integer, r integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    a bigint := soak.contact(p);
    b bigint := soak.contact(soak.mate(p, r));
BEGIN
    IF a IS NULL OR b IS NULL OR a = b THEN
        RETURN;
    END IF;
    PERFORM cdp.merge_contacts(a, ARRAY[b], 'soak');
EXCEPTION WHEN undefined_object OR object_not_in_prerequisite_state THEN
    PERFORM soak.refused('merge_contacts', SQLSTATE, SQLERRM);
END
$$;

-- unmerge a standing merge picked at random
CREATE FUNCTION soak.op_unmerge(r double precision) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    m bigint;
BEGIN
    SELECT x.id INTO m FROM cdp.merges x
     WHERE x.undone_at IS NULL AND x.id >= (SELECT (max(y.id) * r)::bigint FROM cdp.merges y)
     ORDER BY x.id LIMIT 1;
    IF m IS NULL THEN
        RETURN;
    END IF;
    PERFORM cdp.unmerge(m);
EXCEPTION WHEN undefined_object OR object_not_in_prerequisite_state THEN
    PERFORM soak.refused('unmerge', SQLSTATE, SQLERRM);
END
$$;

CREATE FUNCTION soak.op_forget(p integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    id bigint;
BEGIN
    p := p - p % 25 + 25;       -- only the forgettable people
    IF p > (SELECT s.pool FROM soak.settings s) THEN
        RETURN;
    END IF;
    id := soak.contact(p);
    IF id IS NULL THEN
        RETURN;
    END IF;
    PERFORM cdp.forget_contact(id);
EXCEPTION WHEN undefined_object THEN
    PERFORM soak.refused('forget_contact', SQLSTATE, SQLERRM);
END
$$;

CREATE FUNCTION soak.op_refresh(r integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM cdp.refresh_segment(CASE WHEN r % 2 = 0 THEN 'buyers' ELSE 'reachable' END);
END
$$;

CREATE FUNCTION soak.op_consume(n integer) RETURNS void LANGUAGE sql
BEGIN ATOMIC
    INSERT INTO soak.consumed (id) SELECT c.id FROM cdp.consume('soak', n) c;
END;

-- Everybody once, so that the model operations find contacts; then the
-- tags the segments name.
SELECT count(soak.op_resolve(p, 0)) FROM generate_series(1, :pool) p;
SELECT cdp.tag('contact', soak.contact(1), 'VIP', 'Newsletter');

SELECT cdp.create_segment('vip', $$tag 'VIP' and customer.ltv > 500$$, refresh => 'immediate');
SELECT cdp.create_segment('acme_leads', $$organization under 'acme' and (contact.type = 'lead' or has validated email)$$,
                          refresh => 'immediate');
SELECT cdp.create_segment('fans', $$interests under 'sports' or in segment 'vip'$$, refresh => 'immediate');
SELECT cdp.create_segment('buyers', $$event 'purchase' within 1 days$$);
SELECT cdp.create_segment('reachable', $$has email and not tag 'Newsletter' and customer.plan in ('pro', 'enterprise')$$);
SELECT cdp.refresh_segment('buyers');
SELECT cdp.refresh_segment('reachable');
