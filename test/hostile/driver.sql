-- driver.sql: feeds the hostile corpus (hostile.corpus, see corpus.sql) through
-- every public function of schema cdp, one call per savepoint, and reports the SQLSTATEs.
--
-- hostile.run(f) calls f once per (argument, corpus value, template), once
-- per edge value of its non-text arguments, once with NULL in each argument,
-- once with every argument NULL and once with good values only (the
-- baseline).  The other arguments get good values (hostile.good), but for the
-- baseline only those without a default (named notation leaves the others out).  Every call
-- runs in a subtransaction that is always rolled back (a call that succeeds
-- raises HX000 at the end), so a data-defining function changes nothing.
-- Injected SQL that runs is caught inside the call: it fires a canary
-- (hostile.pwned() raises HX003, writing hostile.canary HX002, dropping a
-- table of cdp or hostile or creating anything in hostile HX001), so a
-- succeeding injection shows as an HX state instead of being rolled back
-- unseen.
SET client_min_messages = warning;

-- canaries ------------------------------------------------------------------
CREATE TABLE hostile.canary (x integer);
INSERT INTO hostile.canary VALUES (1);

CREATE FUNCTION hostile.canary_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'injected statement wrote hostile.canary' USING ERRCODE = 'HX002';
END $$;
CREATE TRIGGER canary_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON hostile.canary
    FOR EACH STATEMENT EXECUTE FUNCTION hostile.canary_guard();

CREATE FUNCTION hostile.pwned() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'injected SQL ran hostile.pwned()' USING ERRCODE = 'HX003';
END $$;

CREATE FUNCTION hostile.drop_guard() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
    o record;
BEGIN
    IF current_setting('hostile.armed', true) IS DISTINCT FROM 'on' THEN
        RETURN;
    END IF;
    FOR o IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
        IF (o.schema_name IN ('cdp', 'hostile') AND o.object_type IN ('table', 'view', 'function', 'sequence'))
           OR (o.object_type = 'schema' AND o.object_identity IN ('cdp', 'cdp_internal', 'cdp_data', 'hostile')) THEN
            RAISE EXCEPTION 'injected statement dropped % %', o.object_type, o.object_identity USING ERRCODE = 'HX001';
        END IF;
    END LOOP;
END $$;
CREATE EVENT TRIGGER hostile_drop_guard ON sql_drop EXECUTE FUNCTION hostile.drop_guard();

CREATE FUNCTION hostile.create_guard() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
    o record;
BEGIN
    IF current_setting('hostile.armed', true) IS DISTINCT FROM 'on' THEN
        RETURN;
    END IF;
    FOR o IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
        IF o.schema_name = 'hostile' THEN
            RAISE EXCEPTION 'injected statement ran % in schema hostile', o.command_tag USING ERRCODE = 'HX001';
        END IF;
    END LOOP;
END $$;
CREATE EVENT TRIGGER hostile_create_guard ON ddl_command_end EXECUTE FUNCTION hostile.create_guard();

-- the checksum of the data and of the catalog of cdp --------------------------
CREATE FUNCTION hostile.checksum() RETURNS TABLE (relation text, rows bigint, md5 text)
LANGUAGE plpgsql AS $$
DECLARE
    r regclass;
BEGIN
    FOR r IN SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname IN ('cdp', 'cdp_data', 'cdp_internal', 'cdp_views') AND c.relkind IN ('r', 'p', 'm')
             ORDER BY 1::text LOOP
        relation := r::text;
        EXECUTE format('SELECT count(*), md5(coalesce(string_agg(t::text, %L ORDER BY t::text), %L)) FROM %s t', '|', '', r)
            INTO rows, md5;
        RETURN NEXT;
    END LOOP;
    -- the catalog: relations, columns, functions, view definitions, triggers, roles, grants
    relation := 'catalog';
    SELECT count(*), md5(string_agg(x, '|' ORDER BY x)) INTO rows, md5 FROM (
        SELECT format('%s.%s %s', n.nspname, c.relname, c.relkind) AS x
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE 'cdp%'
        UNION ALL
        SELECT format('%s.%s %s %s', c.oid::regclass, a.attname, a.atttypid::regtype, a.attnotnull)
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname LIKE 'cdp%' AND a.attnum > 0 AND NOT a.attisdropped
        UNION ALL
        SELECT p.oid::regprocedure::text || md5(p.prosrc) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname LIKE 'cdp%'
        UNION ALL
        SELECT format('%s %s', t.tgrelid::regclass, t.tgname) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE 'cdp%'
        UNION ALL
        SELECT format('view %s %s', c.oid::regclass, pg_get_viewdef(c.oid)) FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE 'cdp%' AND c.relkind IN ('v', 'm')
        UNION ALL
        SELECT 'role ' || rolname FROM pg_roles
        UNION ALL
        SELECT 'acl ' || c.oid::regclass || coalesce(c.relacl::text, '') FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE 'cdp%') s;
    RETURN NEXT;
END $$;

-- good argument values --------------------------------------------------------
-- (function or *, argument name or position $n, type or *, SQL expression).
-- The most specific row wins: function and argument, then argument and type,
-- then argument, then type.
CREATE TABLE hostile.good (fn text, arg text, typ text, expr text);
INSERT INTO hostile.good VALUES
    ('*', 'value', '*', $$'a@example.com'$$),
    ('normalize_phone', 'value', '*', $$'+16502530000'$$),
    ('phone_info', 'value', '*', $$'+16502530000'$$),
    ('*', 'region', '*', $$'US'$$),
    ('*', 'kind', '*', $$'email'$$),
    ('*', 'id', '*', $$hostile.id('a')$$),
    ('*', 'contact_id', '*', $$hostile.id('a')$$),
    ('*', 'contact', '*', $$hostile.id('a')$$),
    ('*', 'target', 'bigint', $$hostile.id('a')$$),
    ('*', 'others', '*', $$ARRAY[hostile.id('c')]$$),
    ('*', 'reason', '*', $$'manual'$$),
    ('*', 'merge_id', '*', $$hostile.id('merge')$$),
    ('*', 'identifiers', '*', $$'{"email": "a@example.com"}'$$),
    ('*', 'source', '*', $$'crm'$$),
    ('*', 'on_invalid', '*', $$'skip'$$),
    ('*', 'given_name', '*', $$'Ann'$$),
    ('*', 'family_name', '*', $$'Lee'$$),
    ('*', 'is_vendor', '*', $$false$$),
    ('*', 'inactive_for', '*', $$'1 day'$$),
    ('*', 'older_than', '*', $$'1 day'$$),
    ('*', 'every', '*', $$'1 hour'$$),
    ('*', 'query', '*', $$'SELECT ''r1'' AS record_id, ''email'' AS kind, ''a@example.com'' AS value'$$),
    ('*', 'title', '*', $$'A title'$$),
    ('*', 'description', '*', $$'A description'$$),
    ('*', 'name', '*', $$'New Co'$$),
    ('*', 'role', '*', $$'cto'$$),
    ('*', 'is_primary', '*', $$true$$),
    ('*', 'org_slug', '*', $$'acme'$$),
    ('*', 'profile_slug', '*', $$'company'$$),
    ('*', 'parent', '*', $$'acme'$$),
    ('move_organization', 'slug', '*', $$'acme-eu'$$),
    ('create_organization', 'slug', '*', $$'newco'$$),
    ('create_organization', 'parent', '*', $$'acme'$$),
    ('*', 'owner', '*', $$'contact'$$),
    ('*', 'object_type', '*', $$'contact'$$),
    ('*', 'object_types', '*', $$ARRAY['contact']$$),
    ('*', 'attributes', '*', $$'[{"slug": "x", "type": "text"}]'$$),
    ('*', 'add', '*', $$'[{"slug": "extra", "type": "text"}]'$$),
    ('alter_profile', 'drop', '*', $$ARRAY['topics']$$),
    ('alter_document_template', 'drop', '*', $$ARRAY['status']$$),
    ('alter_profile', 'slug', '*', $$'customer'$$),
    ('drop_profile', 'slug', '*', $$'scratch'$$),
    ('define_profile', 'slug', '*', $$'newprofile'$$),
    ('set_profile', 'slug', '*', $$'customer'$$),
    ('remove_profile', 'slug', '*', $$'customer'$$),
    ('define_document_template', 'slug', '*', $$'newdoc'$$),
    ('alter_document_template', 'slug', '*', $$'invoice'$$),
    ('drop_document_template', 'slug', '*', $$'note'$$),
    ('*', 'template', '*', $$'invoice'$$),
    ('*', 'values', '*', $$'{"tier": "gold"}'$$),
    ('create_document', 'values', '*', $$'{"total": 10, "status": "paid"}'$$),
    ('update_document', 'values', '*', $$'{"status": "open"}'$$),
    ('set_organization_profile', 'values', '*', $$'{"industry": "retail"}'$$),
    ('update_document', 'id', '*', $$hostile.id('document')$$),
    ('*', 'organization_id', '*', $$hostile.id('acme')$$),
    ('define_taxonomy', 'slug', '*', $$'newtax'$$),
    ('*', 'taxonomy', '*', $$'interests'$$),
    ('*', 'path', '*', $$'sports/football'$$),
    ('add_term', 'path', '*', $$'sports/tennis'$$),
    ('*', 'paths', '*', $$ARRAY['VIP']$$),
    ('*', 'event', '*', $$'purchase'$$),
    ('*', 'properties', '*', $$'{"amount": 5}'$$),
    ('*', 'occurred_at', '*', $$now()$$),
    ('*', 'at', '*', $$now()$$),
    ('*', 'segment', 'cdp.segment', $$'customer.tier = ''gold'''$$),
    ('*', 'definition', 'cdp.segment', $$'customer.tier = ''gold'''$$),
    ('*', 'segment', 'text', $$'gold'$$),
    ('*', 'definition', 'text', $$'tag ''VIP'''$$),
    ('*', 'tree', '*', $$'{"type": "tag", "path": "VIP", "under": false}'$$),
    ('create_segment', 'slug', '*', $$'newseg'$$),
    ('alter_segment', 'slug', '*', $$'gold'$$),
    ('drop_segment', 'slug', '*', $$'vip'$$),
    ('refresh_segment', 'slug', '*', $$'vip'$$),
    ('schedule_refresh', 'slug', '*', $$'vip'$$),
    ('unschedule_refresh', 'slug', '*', $$'vip'$$),
    ('*', 'refresh', '*', $$'manual'$$),
    ('*', 'consumer', '*', $$'c1'$$),
    ('*', 'max', '*', $$10$$),
    ('create_view', 'slug', '*', $$'newview'$$),
    ('refresh_view', 'slug', '*', $$'gold_customers'$$),
    ('drop_view', 'slug', '*', $$'gold_customers'$$),
    ('*', 'fields', '*', $$ARRAY['id', 'email', 'customer.tier']$$),
    ('*', 'materialized', '*', $$false$$),
    ('*', 'trait', '*', $$'plan'$$),
    ('set_trait_mapping', 'target', '*', $$'customer.tier'$$),
    ('*', 'message', '*', $$'{"type": "identify", "userId": "u1", "traits": {"email": "z@example.com"}}'$$),
    -- by type (type support functions and anything not named above)
    ('*', '*', 'cstring', $$'a@example.com'$$),
    ('*', '*', 'cdp.segment', $$'tag ''VIP'''$$),
    ('*', '*', 'cdp.email', $$'a@example.com'$$),
    ('*', '*', 'cdp.email_address', $$'a@example.com'$$),
    ('*', '*', 'cdp.phone', $$'+16502530000'$$),
    ('phone_in', '*', 'cstring', $$'+16502530000'$$),
    ('segment_in', '*', 'cstring', $$'tag ''VIP'''$$),
    ('*', '*', 'text', $$'a@example.com'$$),
    ('phone', '*', 'text', $$'+16502530000'$$),
    ('*', '*', 'bigint', $$0$$),
    ('*', '*', 'integer', $$0$$);

-- shaped templates: how a hostile text $1 is put into an argument --------------
-- (function or *, argument name or *, type or *, SQL expression of $1).
-- Template 0 of each argument is the plain value; each corpus value also
-- goes through one shaped template of its argument, chosen by its id.
CREATE TABLE hostile.shapes (ord serial, fn text, arg text, typ text, expr text);
INSERT INTO hostile.shapes (fn, arg, typ, expr) VALUES
    -- segment text, as a definition or a cdp.segment
    ('*', '*', 'cdp.segment', $$'customer.tier = ' || quote_literal($1)$$),
    ('*', '*', 'cdp.segment', $$'tag ' || quote_literal($1)$$),
    ('*', '*', 'cdp.segment', $$'tag under ' || quote_literal($1)$$),
    ('*', '*', 'cdp.segment', $$'customer.' || quote_ident($1) || ' = 1'$$),
    ('*', '*', 'cdp.segment', $$quote_ident($1) || '.tier = ''gold'''$$),
    ('*', '*', 'cdp.segment', $$'event ' || quote_literal($1) || ' where (properties.' || quote_ident($1) || ' = ' || quote_literal($1) || ')'$$),
    ('*', '*', 'cdp.segment', $$'in segment ' || quote_literal($1)$$),
    ('*', '*', 'cdp.segment', $$'interests under ' || quote_literal($1)$$),
    ('*', '*', 'cdp.segment', $$'organization under ' || quote_literal($1)$$),
    ('*', '*', 'cdp.segment', $$'has profile ' || quote_ident($1)$$),
    ('*', '*', 'cdp.segment', $$'document ' || quote_ident($1)$$),
    ('*', '*', 'cdp.segment', $$'customer.tier in (' || quote_literal($1) || ', ''x'')'$$),
    ('*', '*', 'cdp.segment', $$'customer.tier like ' || quote_literal($1)$$),
    ('*', '*', 'cdp.segment', $$'customer.signup > now() - interval ' || quote_literal($1)$$),
    ('*', '*', 'cdp.segment', $$'customer.ltv between ' || quote_literal($1) || ' and 10'$$),
    ('*', '*', 'cdp.segment', $$'organization(company.industry = ' || quote_literal($1) || ')'$$),
    ('*', '*', 'cdp.segment', $$'has validated ' || quote_ident($1)$$),
    ('*', '*', 'cdp.segment', $$'contact.given_name = ' || quote_literal($1) || ' or contact.' || quote_ident($1) || ' = 1'$$),
    ('*', 'definition', 'text', 'segment'),
    -- resolve_all's query: the value as a query, in a query, and after one
    ('*', 'query', '*', $$'SELECT ''r1'' AS record_id, ''email'' AS kind, ' || quote_literal($1) || '::text AS value'$$),
    ('*', 'query', '*', $$'SELECT ''r1'' AS record_id, ' || quote_literal($1) || '::text AS kind, ''a@example.com'' AS value'$$),
    ('*', 'query', '*', $$'SELECT ' || quote_literal($1) || '::text AS record_id, ''phone'' AS kind, ' || quote_literal($1) || '::text AS value, ' || quote_literal($1) || '::text AS source, ' || quote_literal($1) || '::text AS region'$$),
    ('*', 'query', '*', $$'SELECT ''r1'' AS record_id, ''email'' AS kind, ''x@example.com'' AS value; ' || $1$$),
    ('*', 'query', '*', $$'SELECT * FROM (' || $1 || ') q'$$),
    -- identifiers
    ('*', 'identifiers', '*', $$jsonb_build_object('email', $1)$$),
    ('*', 'identifiers', '*', $$jsonb_build_object('phone', $1)$$),
    ('*', 'identifiers', '*', $$jsonb_build_object('email', 'a@example.com', $1, 'x')$$),
    ('*', 'identifiers', '*', $$jsonb_build_object('email', jsonb_build_array($1, 'a@example.com'))$$),
    ('*', 'identifiers', '*', $$jsonb_build_object('external_id', $1, 'anonymous', $1, 'uuid', $1)$$),
    -- profile and document values
    ('*', 'values', '*', $$jsonb_build_object('tier', $1)$$),
    ('*', 'values', '*', $$jsonb_build_object('ltv', $1)$$),
    ('*', 'values', '*', $$jsonb_build_object('topics', jsonb_build_array($1))$$),
    ('*', 'values', '*', $$jsonb_build_object('signup', $1)$$),
    ('*', 'values', '*', $$jsonb_build_object('billing', $1, 'mobile', $1)$$),
    ('*', 'values', '*', $$jsonb_build_object('total', $1)$$),
    ('*', 'values', '*', $$jsonb_build_object('status', $1)$$),
    ('*', 'values', '*', $$jsonb_build_object('industry', $1)$$),
    ('*', 'values', '*', $$jsonb_build_object('where', $1, 'meta', jsonb_build_object($1, $1))$$),
    -- attribute definitions
    ('*', 'attributes', '*', 'attributes'),
    ('*', 'add', '*', 'attributes'),
    ('*', '*', 'attributes', $$jsonb_build_array(jsonb_build_object('slug', $1, 'type', 'text'))$$),
    ('*', '*', 'attributes', $$jsonb_build_array(jsonb_build_object('slug', 'x', 'type', $1))$$),
    ('*', '*', 'attributes', $$jsonb_build_array(jsonb_build_object('slug', 'x', 'type', 'text', 'pattern', $1))$$),
    ('*', '*', 'attributes', $$jsonb_build_array(jsonb_build_object('slug', 'x', 'type', 'text', 'options', jsonb_build_array($1)))$$),
    ('*', '*', 'attributes', $$jsonb_build_array(jsonb_build_object('slug', 'x', 'type', 'email', 'options', jsonb_build_array($1)))$$),
    ('*', '*', 'attributes', $$jsonb_build_array(jsonb_build_object('slug', 'x', 'type', 'integer', 'min', $1))$$),
    ('*', '*', 'attributes', $$jsonb_build_array(jsonb_build_object('slug', 'x', 'type', 'date', 'max', $1))$$),
    ('*', '*', 'attributes', $$jsonb_build_array(jsonb_build_object('slug', 'x', 'type', 'text', 'title', $1, $1, true))$$),
    -- event properties
    ('*', 'properties', '*', $$jsonb_build_object('amount', $1, 'nested', jsonb_build_object($1, jsonb_build_array($1)))$$),
    -- CXF trees
    ('*', 'tree', '*', $$jsonb_build_object('type', 'tag', 'path', $1, 'under', true)$$),
    ('*', 'tree', '*', $$jsonb_build_object('type', 'attribute', 'slug', $1, 'operator', '==', 'value', 'x')$$),
    ('*', 'tree', '*', $$jsonb_build_object('type', 'attribute', 'slug', 'customer.tier', 'operator', $1, 'value', $1)$$),
    ('*', 'tree', '*', $$jsonb_build_object('type', 'attribute', 'slug', 'customer.signup', 'operator', '>', 'value', jsonb_build_object('now', $1))$$),
    ('*', 'tree', '*', $$jsonb_build_object('type', 'event', 'name', $1, 'where', jsonb_build_object('type', 'attribute', 'slug', 'properties.' || $1, 'operator', '==', 'value', $1))$$),
    ('*', 'tree', '*', $$jsonb_build_object('type', $1)$$),
    ('*', 'tree', '*', $$jsonb_build_object('type', 'segment', 'slug', $1)$$),
    ('*', 'tree', '*', $$jsonb_build_object('type', 'identifier', 'kind', $1, 'validated', true)$$),
    ('*', 'tree', '*', $$jsonb_build_object('type', 'group', 'operator', $1, 'items', jsonb_build_array())$$),
    -- Segment-spec messages
    ('*', 'message', '*', $$jsonb_build_object('type', 'identify', 'userId', $1, 'traits', jsonb_build_object($1, $1, 'email', $1, 'name', $1))$$),
    ('*', 'message', '*', $$jsonb_build_object('type', 'track', 'anonymousId', 'a1', 'event', $1, 'properties', jsonb_build_object($1, $1))$$),
    ('*', 'message', '*', $$jsonb_build_object('type', $1, 'userId', 'u1')$$),
    ('*', 'message', '*', $$jsonb_build_object('type', 'group', 'userId', 'u1', 'groupId', $1, 'traits', jsonb_build_object('name', $1, 'plan', $1))$$),
    ('*', 'message', '*', $$jsonb_build_object('type', 'alias', 'userId', $1, 'previousId', $1)$$),
    ('*', 'message', '*', $$jsonb_build_object('type', 'identify', 'userId', 'u1', 'messageId', $1, 'timestamp', $1)$$),
    ('*', 'message', '*', $$jsonb_build_object('type', 'page', 'anonymousId', $1, 'name', $1, 'category', $1, 'context', jsonb_build_object('traits', jsonb_build_object('phone', $1)))$$),
    ('*', 'message', '*', $$jsonb_build_object('batch', jsonb_build_array(jsonb_build_object('type', 'identify', 'userId', 'u1'), jsonb_build_object('type', 'identify', 'userId', $1)))$$),
    -- arrays of text
    ('*', 'fields', '*', $$ARRAY['id', 'customer.' || $1]$$),
    ('*', 'fields', '*', $$ARRAY['id', 'count(events.' || $1 || ')']$$),
    ('*', 'fields', '*', $$ARRAY['id', 'count(documents.' || $1 || ')']$$),
    ('*', 'fields', '*', $$ARRAY['id', 'organization.' || $1]$$),
    ('*', 'fields', '*', $$ARRAY['id', 'organization.company.' || $1]$$),
    ('*', 'fields', '*', $$ARRAY['id', $1, $1]$$),
    ('*', '*', 'text[]', $$ARRAY['VIP', $1]$$),
    ('*', '*', 'text[]', $$ARRAY[$1, NULL]$$),
    -- trait mappings
    ('*', 'target', 'text', $$'customer.' || $1$$),
    ('*', 'target', 'text', $$$1 || '.tier'$$),
    ('*', 'target', 'text', $$'company.' || $1$$),
    -- organization slugs and paths
    ('*', 'path', '*', $$'sports/' || $1$$),
    ('*', 'path', '*', $$$1 || '/football'$$);

-- typed edge values for arguments that are not text ---------------------------
CREATE TABLE hostile.edges (typ text, expr text);
INSERT INTO hostile.edges VALUES
    ('bigint', '0'), ('bigint', '-1'), ('bigint', '1'), ('bigint', '9223372036854775807'),
    ('bigint', '(-9223372036854775807 - 1)'), ('bigint', '2147483647'), ('bigint', '2147483648'),
    ('bigint', '-2147483648'), ('bigint', $$hostile.id('a')$$), ('bigint', $$hostile.id('b')$$),
    ('bigint', $$hostile.id('c')$$), ('bigint', $$hostile.id('tombstone')$$), ('bigint', $$hostile.id('forgotten')$$),
    ('bigint', $$hostile.id('acme')$$), ('bigint', $$hostile.id('document')$$), ('bigint', $$hostile.id('merge')$$),
    ('bigint', $$hostile.id('undone')$$), ('bigint', $$hostile.id('archived')$$),
    ('integer', '0'), ('integer', '-1'), ('integer', '1'), ('integer', '2147483647'), ('integer', '(-2147483647 - 1)'),
    ('boolean', 'true'), ('boolean', 'false'),
    ('timestamp with time zone', $$'infinity'$$), ('timestamp with time zone', $$'-infinity'$$),
    ('timestamp with time zone', $$'4713-01-01 00:00:00+00 BC'$$), ('timestamp with time zone', $$'294276-12-31 23:59:59+00'$$),
    ('timestamp with time zone', $$'epoch'$$), ('timestamp with time zone', $$'2000-02-29 12:00:00+14'$$),
    ('interval', $$'0'$$), ('interval', $$'-1 day'$$), ('interval', $$'1 microsecond'$$),
    ('interval', $$'178000000 years'$$), ('interval', $$'-178000000 years'$$),
    ('interval', $$'2147483647 days 2147483647 months'$$), ('interval', $$'-2147483648 days -2147483648 months -9223372036854775807 microseconds'$$),
    ('bigint[]', $$ARRAY[]::bigint[]$$), ('bigint[]', $$ARRAY[0]$$), ('bigint[]', $$ARRAY[-1, 9223372036854775807]$$),
    ('bigint[]', $$ARRAY[hostile.id('a')]$$), ('bigint[]', $$ARRAY[hostile.id('c'), hostile.id('c')]$$),
    ('bigint[]', $$ARRAY[hostile.id('tombstone')]$$), ('bigint[]', $$ARRAY[hostile.id('b'), NULL]$$),
    ('bigint[]', $$ARRAY[[hostile.id('b')], [hostile.id('c')]]$$), ('bigint[]', $$'[5:5]={1}'::bigint[]$$),
    ('bigint[]', $$(SELECT array_agg(g) FROM generate_series(1, 100000) g)$$),
    ('text[]', $$ARRAY[]::text[]$$), ('text[]', $$ARRAY[NULL]::text[]$$), ('text[]', $$ARRAY[['a', 'b'], ['c', 'd']]$$),
    ('text[]', $$'[0:0]={x}'::text[]$$), ('text[]', $$(SELECT array_agg(g::text) FROM generate_series(1, 10000) g)$$),
    ('jsonb', $$'null'::jsonb$$), ('jsonb', $$'{}'::jsonb$$), ('jsonb', $$'[]'::jsonb$$),
    ('jsonb', $$(SELECT jsonb_object_agg('k' || g, g) FROM generate_series(1, 10000) g)$$),
    ('jsonb', $$(SELECT jsonb_agg(jsonb_build_object('type', 'identify', 'userId', 'u' || g)) FROM generate_series(1, 200) g)$$);

-- ids of the setup data, by name (filled by the setup)
CREATE TABLE hostile.ids (name text PRIMARY KEY, id bigint);
CREATE FUNCTION hostile.id(name text) RETURNS bigint LANGUAGE sql STABLE AS
    $$ SELECT id FROM hostile.ids WHERE ids.name = id.name $$;

-- one expression for an argument: the best row of a table of rules -----------
CREATE FUNCTION hostile.pick_good(fn text, arg text, typ text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT expr FROM hostile.good g
     WHERE (g.fn = pick_good.fn OR g.fn = '*') AND (g.arg = pick_good.arg OR g.arg = '*')
       AND (g.typ = pick_good.typ OR g.typ = '*')
     ORDER BY (g.fn <> '*') DESC, (g.arg <> '*') DESC, (g.typ <> '*') DESC LIMIT 1
$$;

CREATE FUNCTION hostile.pick_shapes(fn text, arg text, typ text) RETURNS text[] LANGUAGE plpgsql STABLE AS $$
DECLARE
    best text[];
BEGIN
    -- the most specific set: function+argument, argument, type
    SELECT array_agg(expr ORDER BY ord) INTO best FROM (
        SELECT s.expr, s.ord,
               dense_rank() OVER (ORDER BY (s.fn <> '*') DESC, (s.arg <> '*') DESC, (s.typ <> '*') DESC) AS rnk
          FROM hostile.shapes s
         WHERE (s.fn = pick_shapes.fn OR s.fn = '*') AND (s.arg = pick_shapes.arg OR s.arg = '*')
           AND (s.typ = pick_shapes.typ OR s.typ = '*')) x WHERE rnk = 1;
    -- a one-word set refers to the shapes of that "type" (segment, attributes)
    IF array_length(best, 1) = 1 AND best[1] ~ '^[a-z]+$' THEN
        RETURN hostile.pick_shapes('*', '*', CASE best[1] WHEN 'segment' THEN 'cdp.segment' ELSE best[1] END);
    END IF;
    RETURN best;
END $$;

-- the driver --------------------------------------------------------------------
CREATE FUNCTION hostile.run(f regprocedure, trace boolean DEFAULT false)
RETURNS TABLE (func text, arg text, variant text, state text, calls bigint, values_reached bigint,
               sample_value integer, sample_message text, ms bigint)
LANGUAGE plpgsql AS $run$
DECLARE
    p pg_proc;
    nargs int;
    names text[];
    types text[];
    goods text[];
    shapes text[];
    i int;
    j int;
    k int;
    v record;
    e record;
    call_sql text;
    head text;
    tail text;
    res text;
    st text;
    msg text;
    argexpr text;
    n_shapes int;
    t0 timestamptz;
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS hostile_calls (
        arg text, variant text, value_id integer, state text, message text, ms float8);
    TRUNCATE hostile_calls;
    -- the event triggers watch the calls only
    PERFORM set_config('hostile.armed', 'on', true);
    SELECT * INTO p FROM pg_proc WHERE oid = f;
    nargs := p.pronargs;
    FOR i IN 1 .. nargs LOOP
        types[i] := format_type(p.proargtypes[i - 1], NULL);
        names[i] := CASE WHEN p.proargnames IS NULL THEN NULL ELSE
            (SELECT n FROM unnest(p.proargnames, coalesce(p.proargmodes, array_fill('i'::"char", ARRAY[nargs])))
                          WITH ORDINALITY u(n, m, o)
              WHERE m IN ('i', 'b', 'v') ORDER BY o OFFSET i - 1 LIMIT 1) END;
        argexpr := hostile.pick_good(p.proname, coalesce(names[i], '$' || i), types[i]);
        IF argexpr IS NULL THEN
            RAISE EXCEPTION 'no good value for % argument % (%)', f, i, types[i];
        END IF;
        -- a good value is computed once (ids, arrays) and inlined as a literal
        EXECUTE format('SELECT (%s)::%s::text', argexpr, types[i]) INTO res;
        goods[i] := CASE WHEN res IS NULL THEN 'NULL' ELSE quote_literal(res) END || '::' || types[i];
    END LOOP;
    head := CASE WHEN p.proretset OR p.prorettype = 'void'::regtype OR format_type(p.prorettype, NULL) = 'record'
                 THEN format('SELECT md5(string_agg(r::text, %L)) FROM %I.%I(', ',', p.pronamespace::regnamespace, p.proname)
                 ELSE format('SELECT md5((%I.%I(', p.pronamespace::regnamespace, p.proname) END;
    IF head LIKE '%FROM%' THEN
        tail := ') r';
    ELSE
        tail := '))::text)';
    END IF;

    -- the calls: (argument position or 0 for all, variant, expression of $1, values)
    FOR i IN 0 .. nargs LOOP
        FOR e IN
            -- i = 0: the baseline and every argument NULL
            SELECT 'baseline' AS variant, NULL::text AS expr, false AS corpus WHERE i = 0
            UNION ALL SELECT 'all null', NULL, false WHERE i = 0 AND nargs > 0
            UNION ALL SELECT 'null', 'NULL::' || types[i], false WHERE i > 0
            UNION ALL SELECT 'edge ' || ed.expr, ed.expr, false FROM hostile.edges ed WHERE i > 0 AND ed.typ = types[i]
            UNION ALL SELECT 'plain', CASE types[i]
                        WHEN 'jsonb' THEN 'to_jsonb($1)'
                        WHEN 'text[]' THEN 'ARRAY[$1]'
                        ELSE '$1::' || types[i] END, true
                       WHERE i > 0 AND types[i] IN ('text', 'cstring', 'jsonb', 'text[]', 'cdp.segment',
                                                    'cdp.email', 'cdp.email_address', 'cdp.phone')
            UNION ALL SELECT 'json', '$1::jsonb', true WHERE i > 0 AND types[i] = 'jsonb'
            UNION ALL SELECT 'shape', NULL, true WHERE i > 0 AND hostile.pick_shapes(p.proname, names[i], types[i]) IS NOT NULL
        LOOP
            IF e.variant = 'shape' THEN
                shapes := hostile.pick_shapes(p.proname, names[i], types[i]);
                n_shapes := array_length(shapes, 1);
            END IF;
            FOR v IN SELECT c.id, c.v, c.jsonb_ok FROM hostile.corpus c WHERE e.corpus
                     UNION ALL SELECT NULL::integer, NULL::text, NULL::boolean WHERE NOT e.corpus
                     ORDER BY 1 LOOP
                IF e.variant = 'json' AND NOT v.jsonb_ok THEN
                    CONTINUE;
                END IF;
                -- build the call
                call_sql := head;
                k := 0;
                FOR j IN 1 .. nargs LOOP
                    IF e.variant = 'all null' THEN
                        argexpr := 'NULL::' || types[j];
                    ELSIF j = i AND e.variant = 'shape' THEN
                        argexpr := '(' || shapes[1 + v.id % n_shapes] || ')::' || types[j];
                    ELSIF j = i THEN
                        argexpr := '(' || e.expr || ')::' || types[j];
                    ELSIF i > 0 AND p.proargnames IS NOT NULL AND j > nargs - p.pronargdefaults THEN
                        CONTINUE;  -- the other defaulted arguments keep their defaults
                    ELSE
                        argexpr := goods[j];
                    END IF;
                    IF k > 0 THEN call_sql := call_sql || ', '; END IF;
                    IF p.provariadic <> 0 AND j = nargs THEN call_sql := call_sql || 'VARIADIC '; END IF;
                    IF names[j] IS NOT NULL THEN
                        call_sql := call_sql || quote_ident(names[j]) || ' => ';
                    END IF;
                    call_sql := call_sql || argexpr;
                    k := k + 1;
                END LOOP;
                call_sql := call_sql || tail;
                IF trace THEN
                    RAISE WARNING 'hostile call: % [value %: %]', call_sql, v.id, left(v.v, 100);
                END IF;
                t0 := clock_timestamp();
                BEGIN
                    EXECUTE call_sql INTO res USING v.v;
                    IF to_regclass('hostile.canary') IS NULL THEN
                        RAISE EXCEPTION 'hostile.canary is gone' USING ERRCODE = 'HX004';
                    END IF;
                    RAISE EXCEPTION 'ok' USING ERRCODE = 'HX000';
                EXCEPTION WHEN OTHERS THEN
                    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
                END;
                INSERT INTO hostile_calls VALUES (coalesce(names[i], CASE WHEN i > 0 THEN '$' || i END, '-'),
                    CASE WHEN e.variant LIKE 'edge %' THEN 'edge' ELSE e.variant END, v.id,
                    CASE st WHEN 'HX000' THEN '00000' ELSE st END,
                    CASE st WHEN 'HX000' THEN NULL ELSE left(regexp_replace(msg, '\s+', ' ', 'g'), 160) END,
                    extract(epoch FROM clock_timestamp() - t0) * 1000);
            END LOOP;
        END LOOP;
    END LOOP;

    PERFORM set_config('hostile.armed', 'off', true);
    RETURN QUERY
        SELECT f::text, c.arg, c.variant, c.state, count(*), count(DISTINCT c.value_id), min(c.value_id),
               min(c.message), round(sum(c.ms))::bigint
          FROM hostile_calls c GROUP BY c.arg, c.variant, c.state
        UNION ALL
        SELECT f::text, '*', '*', '*', count(*), count(DISTINCT c.value_id), NULL, NULL, round(sum(c.ms))::bigint
          FROM hostile_calls c;
END $run$;
