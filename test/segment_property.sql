-- pgTAP property test of segments: ~300 random definitions over random data
-- agree in members, count, in_segment and the root row of explain_segment.
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(15);
SET LOCAL client_min_messages = warning;
SET LOCAL timezone = 'UTC';
SELECT setseed(0.4242);

-- The evaluation time; events fall on both sides of it.
CREATE FUNCTION pg_temp.at() RETURNS timestamptz LANGUAGE sql IMMUTABLE
AS $$ SELECT timestamptz '2025-06-15 12:00:00+00' $$;
-- A random element of an array, and a random integer in [lo, hi].
CREATE FUNCTION pg_temp.pick(a anyarray) RETURNS anyelement LANGUAGE sql VOLATILE
AS $$ SELECT a[1 + floor(random() * cardinality(a))::integer] $$;
CREATE FUNCTION pg_temp.rint(lo integer, hi integer) RETURNS integer LANGUAGE sql VOLATILE
AS $$ SELECT lo + floor(random() * (hi - lo + 1))::integer $$;
-- A segment string literal.
CREATE FUNCTION pg_temp.s(v text) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT '''' || replace(v, '''', '''''') || '''' $$;
-- A value or NULL, NULL with probability p.
CREATE FUNCTION pg_temp.maybe(v jsonb, p float8 DEFAULT 0.25) RETURNS jsonb LANGUAGE sql VOLATILE
AS $$ SELECT CASE WHEN random() < p THEN 'null'::jsonb ELSE v END $$;

-- ---------------------------------------------------------------- random data
CREATE TEMP TABLE pool (text_values text[], tags text[], terms text[], orgs text[]);
INSERT INTO pool VALUES (ARRAY['alpha', 'beta', 'gamma', 'Delta', 'alpha beta', 'o''neil', ''],
                         ARRAY['T1', 'T1/T2', 'T1/T2/T4', 'T3'], ARRAY['a', 'a/b', 'a/c', 'd'],
                         ARRAY['o1', 'o2', 'o3', 'o4', 'o5', 'o6']);
CREATE FUNCTION pg_temp.pool() RETURNS pool LANGUAGE sql STABLE AS $$ SELECT * FROM pool $$;

DO $data$
DECLARE
    p pool := pg_temp.pool();
    c bigint;
    ids bigint[] := '{}';
    ident jsonb;
    d bigint;
    i integer;
    k integer;
BEGIN
    PERFORM cdp.define_profile('pp', 'contact', '[
        {"slug": "w", "type": "text"}, {"slug": "n", "type": "integer"}, {"slug": "x", "type": "number"},
        {"slug": "b", "type": "boolean"}, {"slug": "d", "type": "date"}, {"slug": "dt", "type": "datetime"},
        {"slug": "tm", "type": "time"}, {"slug": "arr", "type": "text", "array": true}]');
    PERFORM cdp.define_profile('pq', 'contact', '[{"slug": "k", "type": "text"}]');
    PERFORM cdp.define_profile('op', 'organization', '[{"slug": "ind", "type": "text"}, {"slug": "sz", "type": "integer"}]');
    PERFORM cdp.define_document_template('dt', '[{"slug": "amt", "type": "number"}, {"slug": "kind", "type": "text"}]');
    PERFORM cdp.define_taxonomy('tx', ARRAY['contact', 'organization']);
    FOREACH ident IN ARRAY ARRAY['"a/b"', '"a/c"', '"d"']::jsonb[] LOOP
        PERFORM cdp.add_term('tx', ident #>> '{}');
    END LOOP;
    -- o1 > o2 > o3, o4, o5 (archived), o6 (no profile)
    PERFORM cdp.create_organization('o1', 'One');
    PERFORM cdp.create_organization('o2', 'Two', 'o1');
    PERFORM cdp.create_organization('o3', 'Three', 'o2');
    PERFORM cdp.create_organization('o4', 'Four');
    PERFORM cdp.create_organization('o5', 'Five');
    PERFORM cdp.create_organization('o6', 'Six');
    FOR i IN 1..5 LOOP
        PERFORM cdp.set_organization_profile('o' || i, 'op',
            jsonb_build_object('ind', pg_temp.maybe(to_jsonb(pg_temp.pick(ARRAY['retail', 'software', 'food']))),
                               'sz', pg_temp.maybe(to_jsonb(pg_temp.rint(1, 500)))));
        IF random() < 0.6 THEN
            PERFORM cdp.tag('organization', (SELECT id FROM cdp.organizations WHERE slug = 'o' || i), pg_temp.pick(p.tags));
        END IF;
        IF random() < 0.6 THEN
            PERFORM cdp.classify('organization', (SELECT id FROM cdp.organizations WHERE slug = 'o' || i), 'tx', pg_temp.pick(p.terms));
        END IF;
    END LOOP;
    PERFORM cdp.archive('organization', (SELECT id FROM cdp.organizations WHERE slug = 'o5'));

    FOR i IN 1..60 LOOP
        ident := jsonb_build_array(jsonb_build_object('kind', 'external_id', 'value', 'prop-' || i));
        IF random() < 0.6 THEN
            ident := ident || jsonb_build_object('kind', 'email', 'value', 'prop' || i || '@example.com',
                                                 'validated', random() < 0.4);
        END IF;
        IF random() < 0.25 THEN
            ident := ident || jsonb_build_object('kind', 'phone', 'value', '+1415555' || (2600 + i), 'validated', random() < 0.3);
        END IF;
        c := cdp.resolve(ident);
        ids := ids || c;
        IF random() < 0.5 THEN
            PERFORM cdp.update_contact(c, pg_temp.pick(ARRAY['Ann', 'Bob', 'ann']), is_vendor => random() < 0.2);
        END IF;
        IF random() < 0.75 THEN
            PERFORM cdp.set_profile(c, 'pp', jsonb_build_object(
                'w', pg_temp.maybe(to_jsonb(pg_temp.pick(p.text_values))),
                'n', pg_temp.maybe(to_jsonb(pg_temp.rint(0, 9))),
                'x', pg_temp.maybe(to_jsonb(round(pg_temp.rint(0, 20) / 2.0, 1))),
                'b', pg_temp.maybe(to_jsonb(random() < 0.5)),
                'd', pg_temp.maybe(to_jsonb((date '2025-06-01' + pg_temp.rint(-30, 30))::text)),
                'dt', pg_temp.maybe(to_jsonb(to_char(pg_temp.at() + pg_temp.rint(-900, 100) * interval '1 hour',
                                                     'YYYY-MM-DD"T"HH24:MI:SS"Z"'))),
                'tm', pg_temp.maybe(to_jsonb(to_char(time '06:00' + pg_temp.rint(0, 8) * interval '30 minutes', 'HH24:MI'))),
                'arr', pg_temp.maybe(to_jsonb(ARRAY(SELECT DISTINCT pg_temp.pick(p.text_values) FROM generate_series(1, pg_temp.rint(0, 3)))))));
        END IF;
        IF random() < 0.3 THEN
            PERFORM cdp.set_profile(c, 'pq', jsonb_build_object('k', pg_temp.maybe(to_jsonb(pg_temp.pick(p.text_values)))));
        END IF;
        FOR k IN 1..pg_temp.rint(0, 2) LOOP
            PERFORM cdp.tag('contact', c, pg_temp.pick(p.tags));
        END LOOP;
        FOR k IN 1..pg_temp.rint(0, 2) LOOP
            PERFORM cdp.classify('contact', c, 'tx', pg_temp.pick(p.terms));
        END LOOP;
        FOR k IN 1..pg_temp.rint(0, 2) LOOP
            PERFORM cdp.add_member(c, pg_temp.pick(p.orgs));
        END LOOP;
        FOR k IN 1..pg_temp.rint(0, 2) LOOP
            d := cdp.create_document('dt', c, jsonb_build_object('amt', pg_temp.maybe(to_jsonb(pg_temp.rint(0, 100))),
                                                                 'kind', pg_temp.maybe(to_jsonb(pg_temp.pick(ARRAY['x', 'y'])))));
            IF random() < 0.2 THEN
                PERFORM cdp.archive('document', d);
            END IF;
        END LOOP;
        FOR k IN 1..pg_temp.rint(0, 6) LOOP
            INSERT INTO cdp.events (contact_id, name, occurred_at, properties)
            VALUES (c, pg_temp.pick(ARRAY['ev1', 'ev2', 'ev3']), pg_temp.at() + pg_temp.rint(-24 * 60, 24 * 3) * interval '1 hour',
                    jsonb_strip_nulls(jsonb_build_object(
                        'v', pg_temp.pick(ARRAY[NULL, 'null', '1', '5', '12', '"5"', '"high"', 'true']::jsonb[]),
                        'f', pg_temp.pick(ARRAY[NULL, 'true', 'false']::jsonb[]))));
        END LOOP;
    END LOOP;
    -- Six merges (the survivor takes what it lacks) and six archived contacts.
    FOR i IN 1..6 LOOP
        PERFORM cdp.merge_contacts(ids[i], ARRAY[ids[60 - i]]);
        PERFORM cdp.archive('contact', ids[10 + i]);
    END LOOP;
END
$data$;
ANALYZE;

-- ---------------------------------------------------------------- random definitions
-- A comparison of ref (of type typ) with random literals and operators.
CREATE FUNCTION pg_temp.compare(ref text, typ text) RETURNS text LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    p pool := pg_temp.pool();
    ops text[] := ARRAY['=', '!=', '<>', '<', '<=', '>', '>='];
    r float8 := random();
    lit text[];
    i integer;
BEGIN
    IF r < 0.1 THEN
        RETURN ref || pg_temp.pick(ARRAY[' is null', ' is not null']);
    END IF;
    FOR i IN 1..3 LOOP
        lit[i] := CASE typ
            WHEN 'text' THEN pg_temp.s(pg_temp.pick(p.text_values))
            WHEN 'integer' THEN pg_temp.rint(-1, 10)::text
            WHEN 'number' THEN round(pg_temp.rint(-2, 21) / 2.0, 1)::text
            WHEN 'boolean' THEN pg_temp.pick(ARRAY['true', 'false'])
            WHEN 'date' THEN CASE WHEN random() < 0.3 THEN 'now() - interval ' || pg_temp.s(pg_temp.rint(0, 45) || ' days')
                                  ELSE pg_temp.s((date '2025-06-01' + pg_temp.rint(-31, 31))::text) END
            WHEN 'datetime' THEN CASE WHEN random() < 0.4 THEN 'now() ' || pg_temp.pick(ARRAY['-', '+']) || ' interval '
                                                              || pg_temp.s(pg_temp.rint(0, 900) || ' hours')
                                      ELSE pg_temp.s(to_char(pg_temp.at() + pg_temp.rint(-900, 100) * interval '1 hour',
                                                             'YYYY-MM-DD"T"HH24:MI:SS"Z"')) END
            WHEN 'time' THEN pg_temp.s(to_char(time '06:00' + pg_temp.rint(0, 8) * interval '30 minutes', 'HH24:MI'))
            WHEN 'property' THEN pg_temp.pick(ARRAY['1', '5', '12', pg_temp.s('5'), pg_temp.s('high'), 'true', 'false'])
        END;
    END LOOP;
    IF typ = 'property' THEN
        -- one literal type per condition
        lit[2] := lit[1];
        lit[3] := lit[1];
    END IF;
    IF typ = 'boolean' THEN
        RETURN CASE WHEN r < 0.7 THEN ref || ' ' || pg_temp.pick(ARRAY['=', '!=', '<>']) || ' ' || lit[1]
                    ELSE ref || pg_temp.pick(ARRAY[' in (', ' not in (']) || lit[1] || ', ' || lit[2] || ')' END;
    END IF;
    IF typ IN ('text', 'property') AND r < 0.3 AND lit[1] ~ '^''' THEN
        RETURN ref || ' ' || pg_temp.pick(ARRAY['like', 'ilike', 'not like', 'not ilike']) || ' '
               || pg_temp.s(pg_temp.pick(ARRAY['a%', '%ta', '_eta', 'ALPHA%', '%', '%o''n%', 'high', '5']));
    END IF;
    RETURN CASE WHEN r < 0.6 THEN ref || ' ' || pg_temp.pick(ops) || ' ' || lit[1]
                WHEN r < 0.8 THEN ref || pg_temp.pick(ARRAY[' in (', ' not in (']) || lit[1] || ', ' || lit[2] || ', ' || lit[3] || ')'
                ELSE ref || pg_temp.pick(ARRAY[' between ', ' not between ']) || lit[1] || ' and ' || lit[2] END;
END
$$;

-- A random boolean combination of leaves from leaf(scope) up to depth levels.
CREATE FUNCTION pg_temp.tree(family text, scope text, depth integer) RETURNS text LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    r float8 := random();
    n integer;
    parts text[] := '{}';
BEGIN
    IF depth <= 0 OR r < 0.45 THEN
        RETURN pg_temp.leaf(family, scope, depth);
    ELSIF r < 0.6 THEN
        RETURN 'not ' || CASE WHEN random() < 0.5 THEN '(' || pg_temp.tree(family, scope, depth - 1) || ')'
                              ELSE pg_temp.leaf(family, scope, depth - 1) END;
    END IF;
    n := CASE WHEN random() < 0.8 THEN 2 ELSE 3 END;
    FOR i IN 1..n LOOP
        parts := parts || ('(' || pg_temp.tree(family, scope, depth - 1) || ')');
    END LOOP;
    RETURN array_to_string(parts, CASE WHEN r < 0.8 THEN ' and ' ELSE ' or ' END);
END
$$;

-- One condition about scope (contact, organization, document, event); at the
-- contact scope, of the family most of the time and of any family otherwise.
CREATE FUNCTION pg_temp.leaf(family text, scope text, depth integer) RETURNS text LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    p pool := pg_temp.pool();
    f text := family;
    e text;
BEGIN
    IF scope = 'organization' THEN
        RETURN CASE pg_temp.rint(1, 6)
            WHEN 1 THEN pg_temp.compare('op.ind', 'text')
            WHEN 2 THEN pg_temp.compare('op.sz', 'integer')
            WHEN 3 THEN pg_temp.compare(pg_temp.pick(ARRAY['organization.slug', 'organization.name']), 'text')
            WHEN 4 THEN pg_temp.pick(ARRAY['tag ', 'tag under ']) || pg_temp.s(pg_temp.pick(p.tags))
            WHEN 5 THEN 'tx ' || pg_temp.pick(ARRAY['is ', 'under ']) || pg_temp.s(pg_temp.pick(p.terms))
            ELSE 'has profile op' END;
    ELSIF scope = 'document' THEN
        RETURN CASE WHEN random() < 0.5 THEN pg_temp.compare('dt.amt', 'number') ELSE pg_temp.compare('dt.kind', 'text') END;
    ELSIF scope = 'event' THEN
        RETURN CASE WHEN random() < 0.7 THEN pg_temp.compare('properties.v', 'property')
                    ELSE pg_temp.compare('properties.f', 'boolean') END;
    END IF;
    IF random() < 0.3 THEN
        f := pg_temp.pick(ARRAY['value', 'tag', 'taxonomy', 'has', 'organization', 'document', 'event', 'segment']);
    END IF;
    CASE f
    WHEN 'value' THEN
        RETURN CASE pg_temp.rint(1, 11)
            WHEN 1 THEN pg_temp.compare('pp.w', 'text')
            WHEN 2 THEN pg_temp.compare('pp.n', 'integer')
            WHEN 3 THEN pg_temp.compare('pp.x', 'number')
            WHEN 4 THEN pg_temp.compare('pp.b', 'boolean')
            WHEN 5 THEN pg_temp.compare('pp.d', 'date')
            WHEN 6 THEN pg_temp.compare('pp.dt', 'datetime')
            WHEN 7 THEN pg_temp.compare('pp.tm', 'time')
            WHEN 8 THEN CASE WHEN random() < 0.8 THEN 'pp.arr contains ' || pg_temp.s(pg_temp.pick(p.text_values))
                             ELSE 'pp.arr ' || pg_temp.pick(ARRAY['is null', 'is not null']) END
            WHEN 9 THEN pg_temp.compare('pq.k', 'text')
            WHEN 10 THEN pg_temp.compare('contact.given_name', 'text')
            ELSE pg_temp.compare('contact.is_vendor', 'boolean') END;
    WHEN 'tag' THEN
        RETURN pg_temp.pick(ARRAY['tag ', 'tag under ']) || pg_temp.s(pg_temp.pick(p.tags));
    WHEN 'taxonomy' THEN
        RETURN 'tx ' || pg_temp.pick(ARRAY['is ', 'under ']) || pg_temp.s(pg_temp.pick(p.terms));
    WHEN 'has' THEN
        RETURN pg_temp.pick(ARRAY['has profile pp', 'has profile pq', 'has profile op', 'has email', 'has validated email',
                                  'has phone', 'has validated phone', 'has external_id']);
    WHEN 'organization' THEN
        RETURN CASE pg_temp.rint(1, 4)
            WHEN 1 THEN 'organization under ' || pg_temp.s(pg_temp.pick(p.orgs))
            WHEN 2 THEN CASE WHEN random() < 0.5 THEN pg_temp.compare('op.ind', 'text') ELSE pg_temp.compare('op.sz', 'integer') END
            ELSE 'organization (' || pg_temp.tree(family, 'organization', least(depth, 1)) || ')' END;
    WHEN 'document' THEN
        RETURN 'document dt' || CASE WHEN random() < 0.7 THEN ' (' || pg_temp.tree(family, 'document', least(depth, 1)) || ')' ELSE '' END;
    WHEN 'event' THEN
        e := 'event ' || pg_temp.s(pg_temp.pick(ARRAY['ev1', 'ev2', 'ev3', 'ev9']));
        IF random() < 0.5 THEN
            e := e || ' where (' || pg_temp.tree(family, 'event', least(depth, 1)) || ')';
        END IF;
        IF random() < 0.6 THEN
            e := e || ' count ' || pg_temp.pick(ARRAY['=', '!=', '<', '<=', '>', '>=']) || ' ' || pg_temp.rint(0, 3);
        END IF;
        IF random() < 0.6 THEN
            e := e || ' within ' || pg_temp.rint(1, 40) || pg_temp.pick(ARRAY[' days', ' hours']);
        END IF;
        RETURN e;
    ELSE
        RETURN 'in segment ' || pg_temp.s(pg_temp.pick(ARRAY['ps1', 'ps2']));
    END CASE;
END
$$;

-- ---------------------------------------------------------------- the check
CREATE TEMP TABLE defs (id serial PRIMARY KEY, family text, seg text);
-- check: agree (members, in_segment, explain), count, live, error, not, canon, sql
CREATE TEMP TABLE fails (family text, seg text, contact bigint, "check" text, what text);
DO $gen$
DECLARE
    s text;
BEGIN
    LOOP
        s := pg_temp.tree('value', 'contact', 2);
        EXIT WHEN s !~ 'in segment';
    END LOOP;
    PERFORM cdp.create_segment('ps1', s);
    LOOP
        s := pg_temp.tree('tag', 'contact', 2);
        EXIT WHEN s !~ 'in segment ''ps2''';
    END LOOP;
    PERFORM cdp.create_segment('ps2', 'in segment ''ps1'' or (' || s || ')');
    FOR f IN 1..8 LOOP
        FOR i IN 1..38 LOOP
            INSERT INTO defs (family, seg)
            VALUES ((ARRAY['value', 'tag', 'taxonomy', 'has', 'organization', 'document', 'event', 'segment'])[f],
                    pg_temp.tree((ARRAY['value', 'tag', 'taxonomy', 'has', 'organization', 'document', 'event', 'segment'])[f],
                                 'contact', 4));
        END LOOP;
    END LOOP;
END
$gen$;

CREATE TEMP TABLE sizes (id integer, members integer);
DO $check$
DECLARE
    d record;
    seg cdp.segment;
    mem bigint[];
    other bigint[];
    n bigint;
    live bigint := (SELECT count(*) FROM cdp.contacts WHERE archived_at IS NULL AND merged_into IS NULL);
BEGIN
    FOR d IN SELECT * FROM defs ORDER BY id LOOP
        BEGIN
            seg := d.seg::cdp.segment;
            mem := ARRAY(SELECT m FROM cdp.members(seg, pg_temp.at()) m ORDER BY m);
            INSERT INTO sizes VALUES (d.id, cardinality(mem));
            n := cdp.count(seg, pg_temp.at());
            IF n <> cardinality(mem) THEN
                INSERT INTO fails VALUES (d.family, d.seg, NULL, 'count', format('count %s, members %s', n, cardinality(mem)));
            END IF;
            INSERT INTO fails
                SELECT d.family, d.seg, x.id, 'agree', format('members %s, in_segment %s, explain %s', x.m, x.i, x.e)
                  FROM (SELECT c.id, c.id = ANY (mem) AS m, cdp.in_segment(c.id, seg, pg_temp.at()) AS i,
                               (SELECT e.result FROM cdp.explain_segment(seg, c.id, pg_temp.at()) e WHERE e.node = 1) AS e
                          FROM cdp.contacts c) x
                 WHERE x.m IS DISTINCT FROM x.i OR x.m IS DISTINCT FROM x.e;
            INSERT INTO fails
                SELECT d.family, d.seg, c.id, 'live', 'an archived or merged contact is a member'
                  FROM cdp.contacts c WHERE c.id = ANY (mem) AND (c.archived_at IS NOT NULL OR c.merged_into IS NOT NULL);
            n := cdp.count(('not (' || d.seg || ')')::cdp.segment, pg_temp.at());
            IF n + cardinality(mem) <> live THEN
                INSERT INTO fails VALUES (d.family, d.seg, NULL, 'not',
                                          format('%s members, %s of its negation, %s live contacts', cardinality(mem), n, live));
            END IF;
            other := ARRAY(SELECT m FROM cdp.members(seg::text::cdp.segment, pg_temp.at()) m ORDER BY m);
            IF other IS DISTINCT FROM mem THEN
                INSERT INTO fails VALUES (d.family, d.seg, NULL, 'canon', format('canonical text %s gives %s', seg::text, other));
            END IF;
            IF cdp.jsonb_to_segment(cdp.segment_to_jsonb(seg))::text IS DISTINCT FROM seg::text THEN
                INSERT INTO fails VALUES (d.family, d.seg, NULL, 'canon', format('JSON round trip gives %s',
                                          cdp.jsonb_to_segment(cdp.segment_to_jsonb(seg))::text));
            END IF;
            EXECUTE 'SELECT array_agg(id ORDER BY id) FROM (' || cdp.segment_sql(seg, pg_temp.at()) || ') s(id)' INTO other;
            IF coalesce(other, '{}') IS DISTINCT FROM mem THEN
                INSERT INTO fails VALUES (d.family, d.seg, NULL, 'sql', format('segment_sql gives %s, members %s', other, mem));
            END IF;
        EXCEPTION WHEN OTHERS THEN
            INSERT INTO fails VALUES (d.family, d.seg, NULL, 'error', SQLSTATE || ': ' || SQLERRM);
        END;
    END LOOP;
END
$check$;

SELECT is((SELECT count(*) FROM fails WHERE family = f AND "check" IN ('agree', 'count', 'live', 'error')), 0::bigint,
          format('%s: members, count, in_segment and explain_segment agree on %s random definitions', f,
                 (SELECT count(*) FROM defs WHERE family = f)))
  FROM unnest(ARRAY['value', 'tag', 'taxonomy', 'has', 'organization', 'document', 'event', 'segment']) f;
SELECT is((SELECT count(*) FROM fails WHERE "check" IN ('agree', 'count', 'live', 'error')), 0::bigint,
          'all definitions: members, count, in_segment and explain_segment agree');
SELECT is((SELECT count(*) FROM fails WHERE "check" = 'not'), 0::bigint, 'a definition and its negation split the live contacts');
SELECT is((SELECT count(*) FROM fails WHERE "check" = 'canon'), 0::bigint, 'the canonical text and the JSON form evaluate the same');
SELECT is((SELECT count(*) FROM fails WHERE "check" = 'sql'), 0::bigint, 'the SQL of segment_sql gives the members');
SELECT is((SELECT count(*) FROM defs), 304::bigint, '304 random definitions');
SELECT is(ARRAY(SELECT k FROM unnest(ARRAY['contains', ' like ', ' ilike ', ' not like ', ' between ', ' not between ', ' in (', ' not in (',
                                            ' is null', ' is not null', '!=', '<>', '<=', '>=', 'now() - interval', 'now() + interval',
                                            'tag ''', 'tag under', 'tx is', 'tx under', 'has profile', 'has validated', 'has phone',
                                            'organization (', 'organization under', 'op.ind', 'organization.slug', 'document dt (',
                                            'document dt', 'event ''', 'where (', ' count ', ' within ', ' hours', ' days',
                                            'in segment', 'not ', ' and ', ' or ', 'contact.given_name', 'contact.is_vendor',
                                            'pp.d ', 'pp.dt ', 'pp.tm ', 'pp.b ', 'pp.x ', 'pp.n ', 'pq.k ', 'properties.v', 'properties.f',
                                            '(((', 'organization ((']) k
                  WHERE NOT EXISTS (SELECT 1 FROM defs WHERE strpos(seg, k) > 0)), '{}'::text[],
          'the definitions use every operator and condition kind');
SELECT cmp_ok((SELECT count(*) FROM sizes s WHERE s.members > 0
                  AND s.members < (SELECT count(*) FROM cdp.contacts WHERE archived_at IS NULL AND merged_into IS NULL)),
              '>=', 150::bigint, 'at least half of the definitions have some but not all contacts as members');
SELECT diag(format('%s [%s] %s: contact %s: %s', family, "check", seg, contact, what))
  FROM (SELECT * FROM fails ORDER BY family, "check", contact LIMIT 12) f;

SELECT * FROM finish();
ROLLBACK;
