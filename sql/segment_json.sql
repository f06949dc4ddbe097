-- The JSON form of cdp.segment (the CXF filter tree): round trips for every
-- node kind, the trees only JSON can write, and every refusal with its path.

-- outcome(tree): '00000' and the segment's text, or the error raised
CREATE FUNCTION pg_temp.outcome(tree text,
    OUT state text, OUT message text, OUT detail text)
LANGUAGE plpgsql AS $$
BEGIN
    message := cdp.jsonb_to_segment(tree::jsonb)::text;
    state := '00000';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL;
END
$$;

-- text_state(text): the SQLSTATE of reading segment text, '00000' if it parses
CREATE FUNCTION pg_temp.text_state(segment text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM segment::cdp.segment;
    RETURN '00000';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE;
END
$$;

--
-- Every node kind, written in canonical text: segment -> jsonb -> segment
-- gives the same text back, and jsonb -> segment -> jsonb the same tree.
--
CREATE TEMP TABLE round_trip (n serial, segment text);
INSERT INTO round_trip (segment) VALUES
    ('customer.tier = ''gold'''),
    ('customer.tier != ''gold'''),
    ('customer.age < 18'),
    ('customer.age <= 18'),
    ('customer.balance > -12.5'),
    ('customer.balance >= 0.001'),
    ('customer.newsletter = true'),
    ('customer.newsletter != false'),
    ('customer.last_order < now()'),
    ('customer.last_order >= now() - interval ''30 days'''),
    ('customer.renewal <= now() + interval ''1 hour'''),
    ('customer.tier in (''gold'', ''silver'')'),
    ('customer.rating not in (1, 2, 3)'),
    ('customer.flag in (true, 4.5, ''x'', now())'),
    ('customer.age between 18 and 65'),
    ('customer.birthday not between ''1990-01-01'' and now() - interval ''18 years'''),
    ('customer.nickname is null'),
    ('customer.nickname is not null'),
    ('customer.nickname like ''A%'''),
    ('customer.nickname not like ''%x'''),
    ('customer.nickname ilike ''a%'''),
    ('customer.nickname not ilike ''%X_'''),
    ('customer.interests contains ''music'''),
    ('customer.scores contains 7'),
    ('contact.given_name = ''O''''Brien'''),
    ('tag ''VIP'''),
    ('tag under ''Technology'''),
    ('tag under ''Café/Crème ☕'''),
    ('interests is ''music'''),
    ('interests under ''sports'''),
    ('has profile customer'),
    ('has email'),
    ('has validated phone'),
    ('organization(organization.name = ''Acme'')'),
    ('organization(company.industry = ''retail'' and company.size > 100)'),
    ('organization under ''acme'''),
    ('document invoice'),
    ('document invoice (invoice.total >= 100 or invoice.status = ''open'')'),
    ('event ''purchase'''),
    ('event ''purchase'' count >= 3'),
    ('event ''login'' within 12 hours'),
    ('event ''purchase'' where (properties.amount > 50) count = 0 within 30 days'),
    ('event ''visit'' count != 1 within 1 day'),
    ('in segment ''vip'''),
    ('tag ''a'' and tag ''b'' and tag ''c'''),
    ('tag ''a'' or tag ''b'' and tag ''c'''),
    ('(tag ''a'' or tag ''b'') and tag ''c'''),
    ('not tag ''a'''),
    ('not not tag ''a'''),
    ('not (tag ''a'' and tag ''b'')'),
    ('not (tag ''a'' or tag ''b'') or tag ''c'''),
    ('has profile "Customer Profile" and has "profile"'),
    ('"my.profile".tier = 1 and properties."utm.source" = ''mail'''),
    ('"say ""hi""".x is null'),
    ('"Interests" under ''x'' and document "Order" (organization.count > 1)'),
    ('customer.tier = ''gold'' and interests under ''sports'' and organization(company.industry = ''retail'') and not tag ''Churned'' and event ''purchase'' count >= 3 within 30 days');

SELECT n, segment, cdp.segment_to_jsonb(segment::cdp.segment) AS json
  FROM round_trip ORDER BY n;

-- the text comes back as written; both directions are stable
SELECT n, segment
  FROM round_trip
 WHERE cdp.jsonb_to_segment(cdp.segment_to_jsonb(segment::cdp.segment))::text IS DISTINCT FROM segment
    OR cdp.segment_to_jsonb(cdp.jsonb_to_segment(cdp.segment_to_jsonb(segment::cdp.segment)))
       IS DISTINCT FROM cdp.segment_to_jsonb(segment::cdp.segment);
SELECT count(*) AS round_trips FROM round_trip;

--
-- Trees that only JSON writes: each reads as the canonical segment.
--
SELECT tree, o.state, o.message AS segment
  FROM (VALUES
    -- a group of one item is that item, at any place
    ('{"type": "group", "operator": "or", "items": [{"type": "tag", "path": "a"}]}'),
    ('{"type": "not", "item": {"type": "group", "operator": "and", "items": [{"type": "group", "operator": "or", "items": [{"type": "tag", "path": "a"}, {"type": "tag", "path": "b"}]}]}}'),
    -- a group inside a group of its own operator is spliced in
    ('{"type": "group", "operator": "and", "items": [{"type": "tag", "path": "a"}, {"type": "group", "operator": "and", "items": [{"type": "tag", "path": "b"}, {"type": "tag", "path": "c"}]}]}'),
    ('{"type": "group", "operator": "or", "items": [{"type": "group", "operator": "or", "items": [{"type": "tag", "path": "a"}, {"type": "tag", "path": "b"}]}, {"type": "group", "operator": "and", "items": [{"type": "tag", "path": "c"}, {"type": "tag", "path": "d"}]}]}'),
    -- "under" and "validated" default to false
    ('{"type": "tag", "path": "VIP"}'),
    ('{"type": "taxonomy", "taxonomy": "interests", "path": "music"}'),
    ('{"type": "identifier", "kind": "email"}'),
    ('{"type": "identifier", "kind": "email", "validated": true}'),
    -- numbers are written as numeric_out writes them; 3.0 is a whole number
    ('{"type": "attribute", "slug": "customer.x", "operator": "in", "value": [1e3, 0.10, -0, 2.50e1, -1.5E-3]}'),
    ('{"type": "event", "name": "purchase", "count": {"operator": "<", "value": 3.0}, "within": {"value": 7.00, "unit": "hours"}}'),
    -- a number whose plain form is too long for the lexer keeps its digits in e-notation
    ('{"type": "attribute", "slug": "customer.x", "operator": "in", "value": [1e-200, -1.2500e-150, 123456789e200, 1e100, 0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000]}'),
    -- the field is everything after the first dot; names are quoted as needed
    ('{"type": "attribute", "slug": "properties.utm.source", "operator": "is_null"}'),
    ('{"type": "attribute", "slug": "\"a.\"\"b\"\"\".c", "operator": "is_not_null"}'),
    ('{"type": "attribute", "slug": "ORGANIZATION.Name", "operator": "==", "value": "x"}'),
    ('{"type": "profile", "slug": "and"}'),
    -- strings are taken as they are, empty ones too (the catalog checks them)
    ('{"type": "segment", "slug": "it''s; drop table cdp.contacts; --"}'),
    ('{"type": "tag", "path": ""}'),
    ('{"type": "attribute", "slug": "customer.at", "operator": ">", "value": {"now": "+ 2 days"}}'),
    ('{"type": "document", "template": "invoice", "item": {"type": "group", "operator": "and", "items": [{"type": "attribute", "slug": "invoice.total", "operator": "between", "value": [1, 2]}, {"type": "not", "item": {"type": "attribute", "slug": "invoice.paid", "operator": "==", "value": true}}]}}')
  ) AS t(tree), pg_temp.outcome(tree) AS o;

--
-- Refusals: the path of the bad node, what is wrong, and what is allowed.
--
\x on
SELECT tree, o.*
  FROM (VALUES
    -- not a node
    ('"tag"'),
    ('null'),
    ('[{"type": "tag", "path": "a"}]'),
    ('{}'),
    ('{"path": "a"}'),
    ('{"type": 1}'),
    ('{"type": "Tag", "path": "a"}'),
    ('{"type": "tag", "path": "a", "unde": true}'),
    -- group
    ('{"type": "group", "items": [{"type": "tag", "path": "a"}, {"type": "tag", "path": "b"}]}'),
    ('{"type": "group", "operator": "xor", "items": [{"type": "tag", "path": "a"}, {"type": "tag", "path": "b"}]}'),
    ('{"type": "group", "operator": ["and"], "items": []}'),
    ('{"type": "group", "operator": "and"}'),
    ('{"type": "group", "operator": "and", "items": {"type": "tag", "path": "a"}}'),
    ('{"type": "group", "operator": "and", "items": []}'),
    ('{"type": "group", "operator": "or", "items": [{"type": "tag", "path": "a"}, "tag ''b''"]}'),
    ('{"type": "group", "operator": "or", "items": [{"type": "tag", "path": "a"}, {"type": "group", "operator": "and", "items": [{"type": "tag", "path": "b"}, {"type": "attribute", "slug": "customer.tier", "operator": "=~", "value": "x"}]}]}'),
    -- not
    ('{"type": "not"}'),
    ('{"type": "not", "item": true}'),
    ('{"type": "not", "items": [{"type": "tag", "path": "a"}]}'),
    -- attribute: slug
    ('{"type": "attribute", "operator": "is_null"}'),
    ('{"type": "attribute", "slug": ["customer", "tier"], "operator": "is_null"}'),
    ('{"type": "attribute", "slug": "tier", "operator": "is_null"}'),
    ('{"type": "attribute", "slug": ".tier", "operator": "is_null"}'),
    ('{"type": "attribute", "slug": "customer.", "operator": "is_null"}'),
    ('{"type": "attribute", "slug": "\"customer.tier", "operator": "is_null"}'),
    ('{"type": "attribute", "slug": "\"customer\"tier", "operator": "is_null"}'),
    ('{"type": "attribute", "slug": "customer.a123456789b123456789c123456789d123456789e123456789f123456789ghij", "operator": "is_null"}'),
    -- attribute: operator
    ('{"type": "attribute", "slug": "customer.tier", "value": "gold"}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": 1, "value": "gold"}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "=", "value": "gold"}'),
    -- attribute: value
    ('{"type": "attribute", "slug": "customer.tier", "operator": "=="}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "is_null", "value": null}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "==", "value": null}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "==", "value": ["gold"]}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "!=", "value": {"then": null}}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "<", "value": {}}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "<", "value": {"now": null, "sign": "-"}}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "<", "value": {"now": 30}}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "<", "value": {"now": "30 days"}}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "<", "value": 1.1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890e300}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "in", "value": "gold"}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "not_in", "value": []}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "in", "value": ["gold", null]}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "in", "value": ["gold", {"now": "-"}, {"now": "1 day"}]}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "between", "value": 1}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "not_between", "value": [1]}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "between", "value": [1, 2, 3]}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "between", "value": [1, [2]]}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "like", "value": 1}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "not_ilike", "value": {"now": null}}'),
    ('{"type": "attribute", "slug": "customer.tier", "operator": "contains", "value": false, "values": [true]}'),
    -- tag and taxonomy
    ('{"type": "tag"}'),
    ('{"type": "tag", "path": 7}'),
    ('{"type": "tag", "path": "a", "under": "yes"}'),
    ('{"type": "taxonomy", "path": "music"}'),
    ('{"type": "taxonomy", "taxonomy": "", "path": "music"}'),
    ('{"type": "taxonomy", "taxonomy": "interests", "path": null}'),
    ('{"type": "taxonomy", "taxonomy": "interests", "path": "music", "under": 1}'),
    -- profile, identifier, organization, document, segment
    ('{"type": "profile"}'),
    ('{"type": "profile", "slug": 1}'),
    ('{"type": "profile", "slug": "customer", "validated": true}'),
    ('{"type": "identifier", "kind": {"slug": "email"}}'),
    ('{"type": "identifier", "kind": "email", "validated": "true"}'),
    ('{"type": "organization"}'),
    ('{"type": "organization", "item": [{"type": "tag", "path": "a"}]}'),
    ('{"type": "organization_under"}'),
    ('{"type": "organization_under", "slug": false}'),
    ('{"type": "organization_under", "slug": "acme", "under": true}'),
    ('{"type": "document", "item": {"type": "tag", "path": "a"}}'),
    ('{"type": "document", "template": 3}'),
    ('{"type": "document", "template": "invoice", "item": "invoice.total > 1"}'),
    ('{"type": "document", "template": "invoice", "where": {"type": "tag", "path": "a"}}'),
    ('{"type": "segment"}'),
    ('{"type": "segment", "slug": null}'),
    -- event
    ('{"type": "event"}'),
    ('{"type": "event", "name": 1}'),
    ('{"type": "event", "name": "purchase", "where": {"type": "attribute"}}'),
    ('{"type": "event", "name": "purchase", "count": 3}'),
    ('{"type": "event", "name": "purchase", "count": {"value": 3}}'),
    ('{"type": "event", "name": "purchase", "count": {"operator": "=>", "value": 3}}'),
    ('{"type": "event", "name": "purchase", "count": {"operator": ">=", "value": 3, "unit": "days"}}'),
    ('{"type": "event", "name": "purchase", "count": {"operator": ">="}}'),
    ('{"type": "event", "name": "purchase", "count": {"operator": ">=", "value": "3"}}'),
    ('{"type": "event", "name": "purchase", "count": {"operator": ">=", "value": -1}}'),
    ('{"type": "event", "name": "purchase", "count": {"operator": ">=", "value": 1.5}}'),
    ('{"type": "event", "name": "purchase", "count": {"operator": ">=", "value": 9223372036854775808}}'),
    ('{"type": "event", "name": "purchase", "within": "30 days"}'),
    ('{"type": "event", "name": "purchase", "within": {"value": 30}}'),
    ('{"type": "event", "name": "purchase", "within": {"unit": "days"}}'),
    ('{"type": "event", "name": "purchase", "within": {"value": 0, "unit": "days"}}'),
    ('{"type": "event", "name": "purchase", "within": {"value": 2.5, "unit": "days"}}'),
    ('{"type": "event", "name": "purchase", "within": {"value": 30, "unit": "weeks"}}'),
    ('{"type": "event", "name": "purchase", "within": {"value": 30, "unit": ["days"]}}'),
    ('{"type": "event", "name": "purchase", "within": {"value": true, "unit": "days"}}'),
    -- the path reaches into quantifiers and lists
    ('{"type": "group", "operator": "and", "items": [{"type": "tag", "path": "a"}, {"type": "event", "name": "e", "where": {"type": "group", "operator": "or", "items": [{"type": "tag", "path": "b"}, {"type": "organization", "item": {"type": "attribute", "slug": "organization.name", "operator": "in", "value": ["x", "y", ["z"]]}}]}}]}')
  ) AS t(tree), pg_temp.outcome(tree) AS o;
\x off

--
-- Limits, as the parser has them: nodes, list length, text length, nesting.
--
SELECT o.state, o.message LIKE 'tag ''t1'' or tag ''t2'' or % or tag ''t4095''' AS all_there
  FROM pg_temp.outcome('{"type": "group", "operator": "or", "items": ['
       || (SELECT string_agg(format('{"type": "tag", "path": "t%s"}', i), ', ')
             FROM generate_series(1, 4095) i) || ']}') AS o;
SELECT o.*
  FROM pg_temp.outcome('{"type": "group", "operator": "or", "items": ['
       || (SELECT string_agg(format('{"type": "tag", "path": "t%s"}', i), ', ')
             FROM generate_series(1, 4096) i) || ']}') AS o;
-- spliced groups are not nodes of the tree: 4095 tags and one or
SELECT o.state, length(o.message) AS text_length
  FROM pg_temp.outcome('{"type": "group", "operator": "or", "items": ['
       || (SELECT string_agg(format('{"type": "group", "operator": "or", "items": [{"type": "tag", "path": "t%s"}, {"type": "tag", "path": "u%s"}]}', i, i), ', ')
             FROM generate_series(1, 2047) i) || ', {"type": "tag", "path": "last"}]}') AS o;
SELECT o.state, length(o.message) AS text_length
  FROM pg_temp.outcome('{"type": "attribute", "slug": "customer.x", "operator": "in", "value": ['
       || (SELECT string_agg(i::text, ', ') FROM generate_series(1, 1000) i) || ']}') AS o;
SELECT o.*
  FROM pg_temp.outcome('{"type": "attribute", "slug": "customer.x", "operator": "in", "value": ['
       || (SELECT string_agg(i::text, ', ') FROM generate_series(1, 1001) i) || ']}') AS o;
SELECT o.*
  FROM pg_temp.outcome(format('{"type": "tag", "path": "%s"}', repeat('x', 65536))) AS o;
SELECT o.state, length(o.message) AS text_length
  FROM pg_temp.outcome(format('{"type": "tag", "path": "%s"}', repeat('x', 65530))) AS o;

-- Nesting: JSON is refused exactly where the text it prints would be.  A
-- group under a not is in parentheses (one level more), a group of the
-- same operator is spliced in and an and under an or needs none.
SELECT shape, n, pg_temp.text_state(segment) AS text_state,
       o.state AS json_state,
       CASE WHEN o.state = '00000' THEN o.message = segment END AS same_text,
       length(substring(o.message FROM 'at (\$[^:]*):')) -
       length(replace(substring(o.message FROM 'at (\$[^:]*):'), '.', '')) AS path_levels,
       substring(o.message FROM ': (.*)$') AS problem
  FROM (VALUES
    ('not', 'not ', '{"type": "not", "item": ', '', 'tag ''a''', '{"type": "tag", "path": "a"}'),
    ('not, and', 'not ', '{"type": "not", "item": ', '', '(tag ''a'' and tag ''b'')',
     '{"type": "group", "operator": "and", "items": [{"type": "tag", "path": "a"}, {"type": "tag", "path": "b"}]}'),
    ('organization', 'organization(', '{"type": "organization", "item": ', ')', 'tag ''a''', '{"type": "tag", "path": "a"}'),
    ('event where', 'event ''e'' where (', '{"type": "event", "name": "e", "where": ', ')', 'tag ''a''', '{"type": "tag", "path": "a"}')
  ) AS s(shape, text_open, json_open, text_close, text_leaf, json_leaf),
  generate_series(63, 65) AS n,
  LATERAL (SELECT repeat(text_open, n) || text_leaf || repeat(text_close, n) AS segment) AS t,
  LATERAL pg_temp.outcome(repeat(json_open, n) || json_leaf || repeat('}', n)) AS o
 ORDER BY shape, n;

-- and/or alternating: only each or under an and opens parentheses
SELECT n, pg_temp.text_state(segment) AS text_state, o.state AS json_state,
       CASE WHEN o.state = '00000' THEN o.message = segment END AS same_text
  FROM generate_series(63, 66) AS n,
  LATERAL (SELECT repeat('tag ''a'' and (tag ''b'' or ', n) || 'tag ''c''' || repeat(')', n) AS segment) AS t,
  LATERAL pg_temp.outcome(
      repeat('{"type": "group", "operator": "and", "items": [{"type": "tag", "path": "a"}, {"type": "group", "operator": "or", "items": [{"type": "tag", "path": "b"}, ', n)
      || '{"type": "tag", "path": "c"}' || repeat(']}]}', n)) AS o
 ORDER BY n;

-- A number the text takes but numeric cannot hold is no JSON number either.
CREATE FUNCTION pg_temp.to_jsonb(segment text,
    OUT state text, OUT message text, OUT context text)
LANGUAGE plpgsql AS $$
BEGIN
    message := cdp.segment_to_jsonb(segment::cdp.segment)::text;
    state := '00000';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            context = PG_EXCEPTION_CONTEXT;
    context := split_part(context, E'\n', 1);
END
$$;
SELECT segment, o.*
  FROM (VALUES ('customer.x = 1e200000'), ('customer.x = -1e-20000')) AS t(segment),
       pg_temp.to_jsonb(segment) AS o;

-- 10,000 levels are refused at the 65th, without a deeper recursion
SELECT o.state, left(o.message, 40) AS message, o.detail
  FROM pg_temp.outcome(repeat('{"type": "not", "item": ', 10000) || '{"type": "tag", "path": "a"}'
                       || repeat('}', 10000)) AS o;
