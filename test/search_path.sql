-- pgTAP contracts of DESIGN §9 against a hostile search_path: functions and operators planted in public,
-- ahead of pg_catalog, are never called by cdp (resolve, segment compiler, generated views, triggers, the pass).
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(59);
SET LOCAL client_min_messages = warning;
SET LOCAL timezone = 'UTC';

-- ---------------------------------------------------------------- pinned search_path (catalog)
SELECT is((SELECT string_agg(p.oid::regprocedure::text, ', ' ORDER BY 1)
             FROM pg_proc p
            WHERE p.pronamespace IN ('cdp'::regnamespace, 'cdp_internal'::regnamespace) AND p.prosecdef
              AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search\_path=%')),
          NULL, 'every SECURITY DEFINER function of cdp and cdp_internal pins search_path');
-- A PL/pgSQL body, or an SQL body kept as a string, is parsed when it runs,
-- under the caller's search_path; the exceptions name nothing the path finds
-- (not_null, evaluation_time) or run only under a pinned caller (dot_quote:
-- identity_graph).
SELECT is((SELECT string_agg(p.oid::regprocedure::text, ', ' ORDER BY 1)
             FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
            WHERE p.pronamespace IN ('cdp'::regnamespace, 'cdp_internal'::regnamespace)
              AND (l.lanname = 'plpgsql' OR (l.lanname = 'sql' AND p.prosqlbody IS NULL))
              AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c = 'search_path=pg_catalog, pg_temp')
              AND p.oid NOT IN ('cdp_internal.not_null(anyelement, text)'::regprocedure,
                                'cdp_internal.evaluation_time(timestamptz)'::regprocedure,
                                'cdp_internal.dot_quote(text)'::regprocedure)),
          NULL, 'every PL/pgSQL function and string-bodied SQL function pins search_path = pg_catalog, pg_temp');
SELECT is((SELECT string_agg(p.oid::regprocedure::text, ', ' ORDER BY 1)
             FROM pg_proc p
            WHERE p.oid IN ('cdp.resolve(jsonb, text, text, text)'::regprocedure,
                            'cdp.merge_contacts(bigint, bigint[], text)'::regprocedure,
                            'cdp.unmerge(bigint)'::regprocedure,
                            'cdp.set_profile(bigint, text, jsonb, text)'::regprocedure)
              AND p.proconfig IS DISTINCT FROM '{"search_path=pg_catalog, pg_temp"}'),
          NULL, 'the C functions that run their own statements pin search_path');

-- ---------------------------------------------------------------- the fixture
CREATE TEMP TABLE ids (name text PRIMARY KEY, id bigint);
CREATE FUNCTION pg_temp.id(n text) RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT i.id FROM pg_temp.ids i WHERE i.name = n;
END;
-- resolve_all reads the caller's query, under the caller's search_path
CREATE TABLE public.sp_records (record_id text, kind text, value text);
INSERT INTO public.sp_records VALUES ('r1', 'email', 'Rec1@Example.com'), ('r1', 'phone', '+44 20 7946 0001'),
                                     ('r2', 'email', 'rec1@example.com'), ('r3', 'email', 'rec3@example.com');

-- ---------------------------------------------------------------- the hostile objects
-- Each records its call (the sequence survives a rolled-back subtransaction)
-- and then does what the built-in does, so that a whole run shows every call.
CREATE SEQUENCE public.hostile_seq;
CREATE TABLE public.hostile_calls (id bigint, what text, context text);
-- (SECURITY DEFINER: it records whichever role called it)
CREATE FUNCTION public.hostile_record(what text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ctx text;
BEGIN
    GET DIAGNOSTICS ctx = PG_CONTEXT;
    INSERT INTO public.hostile_calls VALUES (nextval('public.hostile_seq'), what, ctx);
END $$;
CREATE FUNCTION public.hostile_count() RETURNS bigint LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$ SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM public.hostile_seq $$;
CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.hostile_record('lower'); RETURN pg_catalog.lower($1); END $$;
CREATE FUNCTION public.upper(text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.hostile_record('upper'); RETURN pg_catalog.upper($1); END $$;
CREATE FUNCTION public.btrim(text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.hostile_record('btrim'); RETURN pg_catalog.btrim($1); END $$;
CREATE FUNCTION public.btrim(text, text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.hostile_record('btrim'); RETURN pg_catalog.btrim($1, $2); END $$;
CREATE FUNCTION public.length(text) RETURNS integer LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.hostile_record('length'); RETURN pg_catalog.length($1); END $$;
CREATE FUNCTION public.replace(text, text, text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.hostile_record('replace'); RETURN pg_catalog.replace($1, $2, $3); END $$;
CREATE FUNCTION public.regexp_replace(text, text, text, text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.hostile_record('regexp_replace'); RETURN pg_catalog.regexp_replace($1, $2, $3, $4); END $$;
CREATE FUNCTION public.string_to_array(text, text) RETURNS text[] LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.hostile_record('string_to_array'); RETURN pg_catalog.string_to_array($1, $2); END $$;
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.hostile_record('now'); RETURN pg_catalog.now(); END $$;
CREATE FUNCTION public.to_jsonb(anyelement) RETURNS jsonb LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.hostile_record('to_jsonb'); RETURN pg_catalog.to_jsonb($1); END $$;
CREATE FUNCTION public.jsonb_typeof(jsonb) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.hostile_record('jsonb_typeof'); RETURN pg_catalog.jsonb_typeof($1); END $$;
CREATE FUNCTION public.jsonb_array_elements(jsonb) RETURNS SETOF jsonb LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.hostile_record('jsonb_array_elements'); RETURN QUERY SELECT pg_catalog.jsonb_array_elements($1); END $$;
CREATE FUNCTION public.jsonb_object_keys(jsonb) RETURNS SETOF text LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.hostile_record('jsonb_object_keys'); RETURN QUERY SELECT pg_catalog.jsonb_object_keys($1); END $$;
CREATE FUNCTION public.jsonb_each(jsonb, OUT key text, OUT value jsonb) RETURNS SETOF record LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.hostile_record('jsonb_each'); RETURN QUERY SELECT * FROM pg_catalog.jsonb_each($1); END $$;
CREATE FUNCTION public.array_length(anyarray, integer) RETURNS integer LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.hostile_record('array_length'); RETURN pg_catalog.array_length($1, $2); END $$;
CREATE FUNCTION public.quote_ident(text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.hostile_record('quote_ident'); RETURN pg_catalog.quote_ident($1); END $$;
CREATE FUNCTION public.quote_literal(text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.hostile_record('quote_literal'); RETURN pg_catalog.quote_literal($1); END $$;
CREATE FUNCTION public.sha256(bytea) RETURNS bytea LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.hostile_record('sha256'); RETURN pg_catalog.sha256($1); END $$;
CREATE FUNCTION public.h_count(bigint) RETURNS bigint LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.hostile_record('count(*)'); RETURN $1 + 1; END $$;
CREATE AGGREGATE public.count(*) (SFUNC = public.h_count, STYPE = bigint, INITCOND = '0');
-- operators: op, left, right, the built-in function
DO $ops$
DECLARE
    o record;
BEGIN
    FOR o IN SELECT * FROM (VALUES
            ('=', 'text', 'text', 'texteq'), ('<>', 'text', 'text', 'textne'), ('<', 'text', 'text', 'text_lt'),
            ('>', 'text', 'text', 'text_gt'), ('||', 'text', 'text', 'textcat'), ('~~', 'text', 'text', 'textlike'),
            ('~~*', 'text', 'text', 'texticlike'), ('~', 'text', 'text', 'textregexeq'),
            ('=', 'bigint', 'bigint', 'int8eq'), ('<>', 'bigint', 'bigint', 'int8ne'), ('>', 'bigint', 'bigint', 'int8gt'),
            ('>=', 'bigint', 'bigint', 'int8ge'), ('=', 'integer', 'integer', 'int4eq'),
            ('>', 'numeric', 'numeric', 'numeric_gt'), ('>', 'timestamptz', 'timestamptz', 'timestamptz_gt'),
            ('-', 'timestamptz', 'interval', 'timestamptz_mi_interval'),
            ('->>', 'jsonb', 'text', 'jsonb_object_field_text'), ('->', 'jsonb', 'text', 'jsonb_object_field'),
            ('?', 'jsonb', 'text', 'jsonb_exists'), ('@>', 'jsonb', 'jsonb', 'jsonb_contains'),
            ('||', 'jsonb', 'jsonb', 'jsonb_concat'), ('=', 'jsonb', 'jsonb', 'jsonb_eq'),
            ('=', 'cdp.email', 'cdp.email', 'cdp.email_eq'),
            ('=', 'cdp.email_address', 'cdp.email_address', 'cdp.email_address_eq')) v(op, l, r, fn) LOOP
        EXECUTE format('CREATE FUNCTION public.%I(%s, %s) RETURNS %s LANGUAGE plpgsql AS $f$ BEGIN '
                       'PERFORM public.hostile_record(%L); RETURN %s($1, $2); END $f$',
                       'hostile_' || md5(o.op || o.l || o.r), o.l, o.r,
                       (SELECT prorettype::regtype FROM pg_proc WHERE oid = (o.fn || '(' || o.l || ',' || o.r || ')')::regprocedure),
                       o.l || ' ' || o.op, CASE WHEN o.fn LIKE 'cdp.%' THEN o.fn ELSE 'pg_catalog.' || o.fn END);
        EXECUTE format('CREATE OPERATOR public.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = public.%I)',
                       o.op, o.l, o.r, 'hostile_' || md5(o.op || o.l || o.r));
    END LOOP;
END
$ops$;

-- Runs statements under a search_path and says "ok", or the SQLSTATE and
-- message of an error, followed by the hostile objects that were called.
CREATE FUNCTION pg_temp.run(path text, VARIADIC stmts text[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    saved text := current_setting('search_path');
    before bigint := public.hostile_count();
    result text := 'ok';
    s text;
BEGIN
    BEGIN
        PERFORM set_config('search_path', path, true);
        FOREACH s IN ARRAY stmts LOOP
            EXECUTE s;
        END LOOP;
        PERFORM set_config('search_path', saved, true);
    EXCEPTION WHEN OTHERS THEN
        result := format('error %s «%s»', SQLSTATE, SQLERRM);
    END;
    IF public.hostile_count() > before THEN
        result := result || '; called ' || coalesce((SELECT string_agg(DISTINCT c.what COLLATE "C", ', ')
                                                        FROM public.hostile_calls c WHERE c.id > before), 'something');
    END IF;
    RETURN result;
END
$$;
-- public first, then pg_catalog: the planted objects win over the built-ins
CREATE FUNCTION pg_temp.hostile(VARIADIC stmts text[]) RETURNS text LANGUAGE sql
AS $$ SELECT pg_temp.run('public, cdp, pg_catalog', VARIADIC stmts) $$;

-- ---------------------------------------------------------------- the planted objects work
SELECT is(pg_temp.hostile($$SELECT lower('A') = 'a' AND now() IS NOT NULL$$), 'ok; called lower, now, text =',
          'control: under the hostile path a caller''s own query calls the planted objects');
SELECT is(pg_temp.run('public, cdp', $$SELECT lower('A') = 'a' AND now() IS NOT NULL$$), 'ok',
          'control: with pg_catalog implicitly first, it does not');
SELECT is(pg_temp.hostile($$SELECT jsonb_build_object('a', 1) ->> 'a' = '1' AND 5::bigint = 5::bigint AND (SELECT count(*) FROM (VALUES (1)) v) >= 0::bigint$$),
          'ok; called bigint =, bigint >=, count(*), jsonb ->>, text =',
          'control: the planted jsonb, bigint operators and count(*) are called too');

-- ---------------------------------------------------------------- definitions
SELECT is(pg_temp.hostile($$SELECT cdp.define_profile('sp_customer', 'contact', '[
            {"slug": "tier", "type": "text", "options": ["gold", "silver"]},
            {"slug": "nick", "type": "text", "min_length": 1, "max_length": 20, "pattern": "^[a-z]+$"},
            {"slug": "points", "type": "integer", "min": 0, "max": 1000}, {"slug": "ltv", "type": "number", "decimals": 2},
            {"slug": "billing", "type": "email", "max_length": 100}, {"slug": "phone", "type": "phone"},
            {"slug": "topics", "type": "text", "array": true, "max_length": 10}, {"slug": "meta", "type": "json"},
            {"slug": "signup", "type": "datetime"}, {"slug": "place", "type": "location"}, {"slug": "vip", "type": "boolean"}]')$$),
          'ok', 'define_profile (every validation as a CHECK constraint)');
SELECT is(pg_temp.hostile($$SELECT cdp.alter_profile('sp_customer', add => '[{"slug": "birthday", "type": "date", "min": "1900-01-01"}]')$$),
          'ok', 'alter_profile');
SELECT is(pg_temp.hostile($$SELECT cdp.define_profile('sp_company', 'organization', '[{"slug": "industry", "type": "text"}]')$$,
                          $$SELECT cdp.define_document_template('sp_invoice', '[{"slug": "total", "type": "number", "min": 0},
                              {"slug": "status", "type": "text", "options": ["open", "paid"]}]')$$),
          'ok', 'an organization profile and define_document_template');
SELECT is(pg_temp.hostile($$SELECT cdp.define_taxonomy('sp_interests', ARRAY['contact'])$$,
                          $$SELECT cdp.add_term('sp_interests', 'Sports/Football')$$,
                          $$SELECT cdp.create_organization('sp_acme', 'Acme')$$,
                          $$SELECT cdp.create_organization('sp_acme_uk', 'Acme UK', parent => 'sp_acme')$$,
                          $$SELECT cdp.set_organization_profile('sp_acme', 'sp_company', '{"industry": "retail"}')$$),
          'ok', 'define_taxonomy, add_term, create_organization, set_organization_profile');

-- ---------------------------------------------------------------- resolve
SELECT is(pg_temp.hostile($$INSERT INTO pg_temp.ids VALUES ('ann', cdp.resolve('{"email": " Ann@Example.COM", "phone": "+44 20 7946 0958"}', 'crm'))$$),
          'ok', 'resolve creates a contact');
SELECT is(pg_temp.hostile($$INSERT INTO pg_temp.ids VALUES ('ann again', cdp.resolve('{"email": "ann@example.com"}'))$$),
          'ok', 'resolve finds it');
SELECT is(pg_temp.id('ann again'), pg_temp.id('ann'), 'and it is the same contact');
SELECT is(pg_temp.hostile($$INSERT INTO pg_temp.ids VALUES ('bob', cdp.resolve('{"email": "bob@example.com"}'))$$,
                          $$INSERT INTO pg_temp.ids VALUES ('cat', cdp.resolve('{"email": "cat@example.com"}'))$$,
                          $$INSERT INTO pg_temp.ids VALUES ('cat+phone', cdp.resolve('{"email": "cat@example.com", "phone": "+44 20 7946 0001", "anonymous": "a-1"}'))$$),
          'ok', 'resolve attaches a new identifier');
SELECT matches(pg_temp.hostile($$SELECT cdp.resolve('{"email": "null"}', on_invalid => 'skip')$$,
                          $$SELECT cdp.resolve('{"email": "nobody"}')$$), '^error 22023 «[^»]*»$',
          'resolve refusing a value');
SELECT is(pg_temp.hostile($$SELECT cdp.find_contact('email', 'ANN@example.com')$$,
                          $$SELECT cdp.current_contact(1)$$,
                          $$SELECT cdp.identity_graph(cdp.find_contact('email', 'ann@example.com'))$$,
                          $$SELECT cdp.refresh_contact_type(cdp.find_contact('email', 'ann@example.com'))$$),
          'ok', 'find_contact, current_contact, identity_graph, refresh_contact_type');
SELECT is(pg_temp.run(current_setting('search_path'),
                      $$CREATE TEMP TABLE resolved AS SELECT * FROM cdp.resolve_all('SELECT record_id, kind, value FROM sp_records')$$),
          'ok', 'resolve_all reads its query under the caller''s search_path (sp_records is public.sp_records)');
SELECT is((SELECT count(DISTINCT contact_id)::int FROM resolved WHERE record_id IN ('r1', 'r2')), 1,
          'and resolves (r1 and r2 are one contact)');
-- resolve_all runs its own statements (bulk_read.c, bulk_write.c,
-- changes_bulk.c) under search_path pg_catalog, pg_temp once the caller's
-- query has been read.
SELECT is(pg_temp.hostile($$SELECT FROM cdp.resolve_all('SELECT concat(record_id, ''b'') AS record_id, kind, value FROM public.sp_records')$$),
          'ok', 'resolve_all calls nothing planted in the caller''s search_path');

-- ---------------------------------------------------------------- writes
SELECT is(pg_temp.hostile(format($$SELECT cdp.set_profile(%s, 'sp_customer', '{"tier": "gold", "nick": "ann", "points": 5,
            "ltv": 12.5, "billing": " Ann@Example.com", "phone": "+44 20 7946 0958", "topics": ["ai"], "meta": {"a": 1},
            "signup": "2024-01-01T00:00:00Z", "place": {"lat": 51.5, "lon": -0.1}, "vip": true, "birthday": "1990-01-01"}', 'crm')$$,
            pg_temp.id('ann')),
          format($$SELECT cdp.set_profile(%s, 'sp_customer', '{"tier": "silver", "nick": "bob"}')$$, pg_temp.id('bob'))),
          'ok', 'set_profile with every type');
SELECT matches(pg_temp.hostile(format($$SELECT cdp.set_profile(%s, 'sp_customer', '{"tier": "platinum"}')$$, pg_temp.id('bob'))),
          '^error 23514 «[^»]*»$', 'set_profile failing a validation');
SELECT matches(pg_temp.hostile(format($$SELECT cdp.set_profile(%s, 'sp_customer', '{"points": "many"}')$$, pg_temp.id('bob'))),
          '^error 22P02 «[^»]*»$', 'set_profile with a value of the wrong type');
SELECT is(pg_temp.hostile(format($$SELECT cdp.update_contact(%s, given_name => ' Ann ', family_name => 'Doe')$$, pg_temp.id('ann')),
                          format($$SELECT cdp.remove_profile(%s, 'sp_customer')$$, pg_temp.id('cat'))),
          'ok', 'update_contact, remove_profile');
SELECT is(pg_temp.hostile($$SELECT cdp.track('{"email": "ann@example.com"}', 'purchase', '{"amount": 70, "sku": "x"}')$$,
                          $$SELECT cdp.track('{"email": "dan@example.com"}', 'login')$$),
          'ok', 'track');
SELECT is(pg_temp.hostile($$SELECT cdp.set_trait_mapping('plan', 'sp_customer.tier')$$,
                          $$SELECT cdp.set_trait_mapping('sector', 'sp_company.industry')$$,
                          $$SELECT cdp.ingest('{"type": "identify", "userId": "u-1", "messageId": "m-1",
                              "traits": {"email": "eve@example.com", "firstName": "Eve", "plan": "gold"}}')$$,
                          $$SELECT cdp.ingest('{"type": "identify", "userId": "u-1", "messageId": "m-1"}')$$,
                          $$SELECT cdp.ingest('[{"type": "track", "userId": "u-1", "event": "Order Completed", "properties": {"total": 10}},
                              {"type": "page", "userId": "u-1", "name": "Home"}, {"type": "screen", "anonymousId": "a-2", "name": "Main"},
                              {"type": "alias", "userId": "u-2", "previousId": "u-1"}]')$$,
                          $$SELECT cdp.ingest('{"batch": [{"type": "group", "userId": "u-1", "groupId": "Acme.com",
                              "traits": {"name": "Acme Com", "sector": "tech"}}]}')$$),
          'ok', 'set_trait_mapping and ingest of every message type');
SELECT is(pg_temp.hostile(format($$SELECT cdp.tag('contact', %s, 'VIP/Gold', 'New')$$, pg_temp.id('ann')),
                          format($$SELECT cdp.untag('contact', %s, 'New')$$, pg_temp.id('ann')),
                          format($$SELECT cdp.classify('contact', %s, 'sp_interests', 'sports/football')$$, pg_temp.id('ann')),
                          format($$SELECT cdp.classify('contact', %s, 'sp_interests', 'sports')$$, pg_temp.id('bob')),
                          format($$SELECT cdp.unclassify('contact', %s, 'sp_interests', 'sports')$$, pg_temp.id('bob'))),
          'ok', 'tag, untag, classify, unclassify');
SELECT is(pg_temp.hostile(format($$SELECT cdp.add_member(%s, 'sp_acme', 'buyer', true)$$, pg_temp.id('ann')),
                          format($$SELECT cdp.add_member(%s, 'sp_acme_uk', 'clerk')$$, pg_temp.id('bob')),
                          format($$SELECT cdp.remove_member(%s, 'sp_acme_uk')$$, pg_temp.id('bob')),
                          $$SELECT cdp.create_organization('sp_other', 'Other')$$,
                          $$SELECT cdp.move_organization('sp_other', 'sp_acme')$$,
                          $$SELECT * FROM cdp.organization_tree('sp_acme')$$),
          'ok', 'add_member, remove_member, move_organization, organization_tree');
SELECT is(pg_temp.hostile(format($$INSERT INTO pg_temp.ids VALUES ('doc', cdp.create_document('sp_invoice', %s, '{"total": 120, "status": "open"}', 'INV-1'))$$,
                                 pg_temp.id('ann')),
                          $$SELECT cdp.update_document(pg_temp.id('doc'), '{"status": "paid"}')$$),
          'ok', 'create_document, update_document');

-- ---------------------------------------------------------------- segments (the compiler)
SELECT is(pg_temp.hostile($$SELECT cdp.create_segment('sp_gold', 'sp_customer.tier = ''gold'' and sp_customer.nick like ''a%''
                              and sp_customer.topics contains ''ai'' and not sp_customer.billing is null', refresh => 'immediate')$$),
          'ok', 'create_segment (immediate)');
SELECT is(pg_temp.hostile($$SELECT cdp.create_segment('sp_rich', $s$(tag 'VIP/Gold' or sp_interests under 'sports')
    and event 'purchase' where (properties.amount > 50 and properties.sku = 'x') count >= 1 within 30 days
    and organization(sp_company.industry = 'retail' and organization.name != 'x') and organization under 'sp_acme'
    and document sp_invoice (sp_invoice.status in ('paid', 'open') and sp_invoice.total between 100 and 200)
    and has email and has profile sp_customer and in segment 'sp_gold'
    and sp_customer.signup > now() - interval '3000 days' and contact.given_name in ('Ann', 'Bob')
    and sp_customer.points >= 1 and sp_customer.ltv > 1.5 and sp_customer.nick ilike 'A%'
    and sp_customer.billing = 'Ann@example.com' and sp_customer.birthday < '2000-01-01' and sp_customer.vip = true
    and sp_customer.meta is not null and not contact.family_name is null and contact.type != 'ghost'$s$)$$),
          'ok', 'create_segment using every kind of condition');
SELECT is(pg_temp.hostile($$SELECT cdp.create_segment('sp_events', $s$event 'login' count = 0 or event 'Order Completed' count < 3 within 2 hours$s$,
                                                      refresh => 'manual')$$),
          'ok', 'create_segment with event counts');
SELECT is(pg_temp.hostile($$SELECT cdp.count('sp_gold')$$, $$SELECT cdp.count('sp_rich')$$, $$SELECT cdp.estimate('sp_rich')$$,
                          $$SELECT * FROM cdp.members('sp_rich')$$, $$SELECT * FROM cdp.members('sp_events')$$,
                          format($$SELECT cdp.in_segment(%s, 'sp_rich')$$, pg_temp.id('ann')),
                          format($$SELECT * FROM cdp.explain_segment('sp_rich', %s)$$, pg_temp.id('ann')),
                          format($$SELECT * FROM cdp.explain_segment('sp_events', %s)$$, pg_temp.id('bob'))),
          'ok', 'count, estimate, members, in_segment, explain_segment');
SELECT is(pg_temp.hostile($$SELECT cdp.segment_sql($s$sp_customer.tier = 'gold' or tag under 'VIP'$s$)$$,
                          $$SELECT cdp.count($s$sp_customer.tier != 'gold' or sp_customer.nick not like 'x%'$s$::cdp.segment)$$,
                          $$SELECT cdp.jsonb_to_segment(cdp.segment_to_jsonb('sp_customer.tier in (''gold'')'))$$),
          'ok', 'segment_sql, a literal definition, the JSON form');
SELECT is(pg_temp.hostile($$SELECT * FROM cdp.refresh_segment('sp_rich')$$, $$SELECT * FROM cdp.refresh_segment('sp_rich')$$,
                          $$SELECT * FROM cdp.refresh_segment('sp_events')$$),
          'ok', 'refresh_segment, in full and incrementally');
SELECT is(pg_temp.hostile($$SELECT cdp.alter_segment('sp_gold', definition => $s$sp_customer.tier in ('gold', 'silver')$s$)$$,
                          $$SELECT cdp.alter_segment('sp_gold', title => 'Gold')$$),
          'ok', 'alter_segment');

-- ---------------------------------------------------------------- generated views
SELECT is(pg_temp.hostile($$SELECT cdp.create_view('sp_view', 'sp_rich', ARRAY['id', 'given_name', 'type', 'email', 'phone',
                              'sp_customer.tier', 'sp_customer.topics', 'sp_customer.meta', 'sp_customer.billing', 'sp_customer.place',
                              'family_name', 'tags', 'sp_interests', 'organization.name', 'organization.sp_company.industry',
                              'count(events.purchase)', 'count(documents.sp_invoice)'])$$,
                          $$SELECT cdp.create_view('sp_mview', 'sp_gold', ARRAY['id', 'sp_customer.tier'], materialized => true)$$),
          'ok', 'create_view, plain and materialized');
SELECT is(pg_temp.hostile($$SELECT * FROM cdp_views.sp_view$$, $$SELECT * FROM cdp_views.sp_mview$$,
                          $$SELECT cdp.refresh_view('sp_mview')$$),
          'ok', 'reading the views, refresh_view');
SELECT is((SELECT count(*)::int FROM cdp_views.sp_view), 1, 'the view has its member');

-- ---------------------------------------------------------------- triggers and the immediate pass
SELECT is(pg_temp.hostile(format($$INSERT INTO cdp_data.profile_sp_customer (contact_id, tier, nick, topics, points) VALUES (%s, 'gold', 'cat', '{ai}', 3)$$, pg_temp.id('cat')),
                          format($$UPDATE cdp_data.profile_sp_customer SET billing = 'cat@example.com' WHERE contact_id = %s$$, pg_temp.id('cat')),
                          format($$UPDATE cdp.contacts SET family_name = 'Cat' WHERE id = %s$$, pg_temp.id('cat')),
                          format($$INSERT INTO cdp.events (contact_id, name, properties) VALUES (%s, 'login', '{}')$$, pg_temp.id('cat')),
                          format($$UPDATE cdp.identifiers SET is_validated = true WHERE contact_id = %s$$, pg_temp.id('cat')),
                          'SET CONSTRAINTS ALL IMMEDIATE', 'SET CONSTRAINTS ALL DEFERRED'),
          'ok', 'direct writes to generated and cdp tables: constraints, change capture, the immediate pass');
-- The capture trigger's lookup queries (trigger arguments of
-- src/activation/changes.sql, "... WHERE d.id OPERATOR(pg_catalog.=) $1") run
-- under the writer's search_path: they name the operator with its schema.
SELECT is(r, 'ok', 'change capture of documents, tags, terms and members calls nothing planted')
  FROM pg_temp.hostile(format($$UPDATE cdp_data.document_sp_invoice SET total = 150 WHERE document_id = %s$$, pg_temp.id('doc')),
                       format($$INSERT INTO cdp.organization_members (contact_id, organization_id) SELECT %s, o.id FROM cdp.organizations o WHERE o.slug OPERATOR(pg_catalog.=) 'sp_other'$$, pg_temp.id('cat')),
                       format($$INSERT INTO cdp.contact_tags (contact_id, tag_id) SELECT %s, t.id FROM cdp.tags t WHERE t.path OPERATOR(pg_catalog.=) 'VIP/Gold'$$, pg_temp.id('cat')),
                       'SET CONSTRAINTS ALL IMMEDIATE', 'SET CONSTRAINTS ALL DEFERRED') r;
SELECT matches(pg_temp.hostile(format($$UPDATE cdp_data.profile_sp_customer SET nick = 'Not Valid' WHERE contact_id = %s$$, pg_temp.id('cat'))),
          '^error 23514 «[^»]*»$', 'a direct write failing a CHECK constraint made under the hostile path');
SELECT ok(pg_temp.id('cat') IN (SELECT contact_id FROM cdp.segment_members WHERE segment = 'sp_gold'),
          'the pass stored the immediate segment''s new member');

-- ---------------------------------------------------------------- triggers of cdp's own tables
-- (the statements here compare with OPERATOR(pg_catalog.=): only cdp's triggers are under test)
SELECT is(pg_temp.hostile($$UPDATE cdp.identifier_kinds SET slugs = slugs || '{work}'::text[] WHERE kind OPERATOR(pg_catalog.=) 'email'$$,
                          format($$INSERT INTO cdp.identifiers (contact_id, kind, value, raw_value, slug) VALUES (%s, 'email', 'cat@work.example', 'cat@work.example', 'work')$$, pg_temp.id('cat')),
                          $$INSERT INTO cdp.organizations (slug, name, parent_id) SELECT 'sp_leaf', 'Leaf', o.id FROM cdp.organizations o WHERE o.slug OPERATOR(pg_catalog.=) 'sp_acme'$$,
                          $$UPDATE cdp.organizations SET parent_id = NULL WHERE slug OPERATOR(pg_catalog.=) 'sp_leaf'$$,
                          $$DELETE FROM cdp.organizations WHERE slug OPERATOR(pg_catalog.=) 'sp_leaf'$$,
                          $$DELETE FROM cdp.tags WHERE slug OPERATOR(pg_catalog.=) 'new'$$,
                          $$UPDATE cdp.profiles SET title = 'Customers' WHERE slug OPERATOR(pg_catalog.=) 'sp_customer'$$,
                          $$DELETE FROM cdp.suppressions WHERE false$$,
                          'SET CONSTRAINTS ALL IMMEDIATE', 'SET CONSTRAINTS ALL DEFERRED'),
          'ok', 'direct writes to identifier_kinds, identifiers, organizations, tags, profiles, suppressions: their triggers');
SELECT matches(pg_temp.hostile($$DELETE FROM cdp.tags WHERE slug OPERATOR(pg_catalog.=) 'vip'$$), '^error 2BP01 «[^»]*»$',
               'a trigger refusing to delete a tag a segment uses');

-- ---------------------------------------------------------------- merge, unmerge, the feed, forget
SELECT is(pg_temp.hostile(format($$SELECT cdp.merge_contacts(%s, ARRAY[%s]::bigint[])$$, pg_temp.id('ann'), pg_temp.id('bob'))),
          'ok', 'merge_contacts');
SELECT is(pg_temp.hostile($$SELECT cdp.unmerge(max(id)) FROM cdp.merges$$), 'ok', 'unmerge');
SELECT matches(pg_temp.hostile(format($$SELECT cdp.merge_contacts(%s, ARRAY[%s]::bigint[])$$, pg_temp.id('ann'), pg_temp.id('bob'))),
          '^error 55000 «[^»]*»$', 'merge_contacts refused by the block unmerge left');
SELECT is(pg_temp.hostile($$SELECT FROM cdp.consume('sp_consumer', 10000)$$, $$SELECT FROM cdp.consume('sp_consumer', 10)$$),
          'ok', 'consume');
SELECT is(pg_temp.hostile(format($$SELECT cdp.archive('contact', %s)$$, pg_temp.id('bob')),
                          format($$SELECT cdp.restore('contact', %s)$$, pg_temp.id('bob')),
                          format($$SELECT cdp.archive('document', %s)$$, pg_temp.id('doc'))),
          'ok', 'archive, restore');
SELECT is(pg_temp.hostile(format($$SELECT cdp.forget_contact(%s)$$, pg_temp.id('bob')),
                          $$SELECT cdp.cleanup_ghosts('0 days')$$,
                          $$SELECT cdp.prune_ingested_messages('0 days')$$),
          'ok', 'forget_contact, cleanup_ghosts, prune_ingested_messages');
SELECT matches(pg_temp.hostile($$SELECT cdp.drop_view('sp_view')$$, $$SELECT cdp.drop_segment('sp_rich')$$,
                          $$SELECT cdp.drop_trait_mapping('plan')$$, $$SELECT cdp.drop_document_template('sp_invoice')$$),
          '^error 2BP01 «[^»]*»$', 'drop_view, drop_segment, drop_trait_mapping, a refused drop');
SELECT is(pg_temp.hostile($$SELECT cdp.drop_view('sp_view')$$, $$SELECT cdp.drop_segment('sp_rich')$$,
                          $$SELECT cdp.drop_trait_mapping('plan')$$),
          'ok', 'drop_view, drop_segment, drop_trait_mapping');
SELECT is(pg_temp.hostile($$SELECT cdp.alter_profile('sp_customer', drop => ARRAY['place'])$$,
                          $$SELECT cdp.define_profile('sp_scratch', 'contact', '[{"slug": "note", "type": "text", "required": true}]')$$,
                          $$SELECT cdp.drop_profile('sp_scratch')$$),
          'ok', 'alter_profile dropping an attribute, drop_profile');

-- ---------------------------------------------------------------- what the hostile path made, used under the usual one
-- A view, constraint or trigger built under the hostile path would keep the
-- planted objects it was bound to.
SELECT is(pg_temp.run(current_setting('search_path'),
                      $$SELECT * FROM cdp_views.sp_mview$$, $$SELECT cdp.count('sp_gold')$$, $$SELECT * FROM cdp.members('sp_events')$$,
                      $$SELECT cdp.set_profile(cdp.resolve('{"email": "fay@example.com"}'), 'sp_customer', '{"tier": "gold", "nick": "fay"}')$$,
                      $$INSERT INTO cdp_data.profile_sp_customer (contact_id, tier) SELECT cdp.resolve('{"email": "gus@example.com"}'), 'silver'$$,
                      'SET CONSTRAINTS ALL IMMEDIATE', 'SET CONSTRAINTS ALL DEFERRED', $$SELECT cdp.refresh_view('sp_mview')$$),
          'ok', 'objects made under the hostile path call nothing planted when used later');
SELECT is((SELECT array_agg(id ORDER BY id) FROM cdp_views.sp_mview), (SELECT array_agg(m ORDER BY m) FROM cdp.members('sp_gold') m),
          'the materialized view holds the members of its segment');

-- ---------------------------------------------------------------- the same, as cdp_writer and cdp_reader
SELECT lives_ok($$SELECT cdp.create_roles()$$, 'create_roles');
SELECT is(pg_temp.hostile('SET LOCAL ROLE cdp_writer',
                          $$SELECT cdp.set_profile(cdp.resolve('{"email": "hal@example.com"}'), 'sp_customer', '{"tier": "gold", "nick": "hal"}')$$,
                          $$SELECT cdp.track('{"email": "hal@example.com"}', 'purchase', '{"amount": 99}')$$,
                          $$SELECT cdp.ingest('{"type": "identify", "userId": "u-9", "traits": {"email": "ida@example.com"}}')$$,
                          $$SELECT * FROM cdp.refresh_segment('sp_events')$$,
                          'SET CONSTRAINTS ALL IMMEDIATE', 'SET CONSTRAINTS ALL DEFERRED', 'RESET ROLE'),
          'ok', 'a writer''s calls');
SELECT is(pg_temp.hostile('SET LOCAL ROLE cdp_reader',
                          $$SELECT * FROM cdp_views.sp_mview$$, $$SELECT cdp.count('sp_gold')$$,
                          $$SELECT * FROM cdp.explain_segment('sp_gold', cdp.find_contact('email', 'hal@example.com'))$$,
                          'RESET ROLE'),
          'ok', 'a reader''s calls');
SELECT is(current_user::text, session_user::text, 'the role is reset');
SELECT * FROM finish();
ROLLBACK;
