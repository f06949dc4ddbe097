-- pgTAP contracts of the change feed: what cdp.changes records for every
-- write path, and cdp.consume (exactly once, in order, rollback, consumers).
-- consume hands out committed changes only, so this file commits (no outer
-- transaction) and drops what it made at the end.
SET client_min_messages = warning;
SELECT NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'cdp') AS created_cdp \gset
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(65);

-- The changes written since a mark, as [action, object_type, diff] in id order.
CREATE FUNCTION pg_temp.mark() RETURNS bigint LANGUAGE sql AS $$ SELECT coalesce(max(id), 0) FROM cdp.changes $$;
CREATE FUNCTION pg_temp.since(m bigint) RETURNS jsonb LANGUAGE sql AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_array(c.action, c.object_type, c.diff) ORDER BY c.id), '[]')
      FROM cdp.changes c WHERE c.id > m
$$;

-- ---------------------------------------------------------------- objects
SELECT has_table('cdp', 'changes', 'table cdp.changes');
SELECT has_table('cdp', 'change_consumers', 'table cdp.change_consumers');
SELECT is(count(*), 0::bigint, 'cdp.changes, its sequence and the consumers are registered with pg_extension_config_dump')
  FROM unnest(ARRAY['cdp.changes', 'cdp.changes_id_seq', 'cdp.change_consumers']::regclass[]) t
 WHERE NOT t::oid = ANY ((SELECT extconfig FROM pg_extension WHERE extname = 'cdp')::oid[]);
SELECT has_function('cdp', 'consume', ARRAY['text', 'integer'], 'function cdp.consume(text, integer)');

-- ---------------------------------------------------------------- contacts and identifiers
SELECT pg_temp.mark() AS m \gset
SELECT cdp.resolve('{"email": "ann@example.com"}') AS ann \gset
SELECT is((SELECT jsonb_agg(jsonb_build_array(c.action, c.object_type, c.object_id = :ann, c.contact_id = :ann) ORDER BY c.id)
             FROM cdp.changes c WHERE c.id > :m),
          '[["insert", "contact", true, true], ["update", "contact", true, true]]',
          'a new contact: an insert of the contact and an update of it (its identifier), both about it');
SELECT is((SELECT c.diff - 'created_at' FROM cdp.changes c WHERE c.id > :m ORDER BY c.id LIMIT 1),
          '{"type": [null, "ghost"], "is_vendor": [null, false], "given_name": [null, null], "family_name": [null, null],
            "archived_at": [null, null], "merged_into": [null, null]}',
          'an insert lists every field of the row but bookkeeping ones, old values null, typed (false is a boolean)');
SELECT is((SELECT c.diff -> 'identifiers.email.value' FROM cdp.changes c WHERE c.id > :m ORDER BY c.id OFFSET 1),
          '[null, "ann@example.com"]', 'an identifier is a field identifiers.<kind>.<column> of its contact');
SELECT is((SELECT c.diff ? 'identifiers.email.first_seen_at' OR c.diff ? 'identifiers.email.contact_id'
             FROM cdp.changes c WHERE c.id > :m ORDER BY c.id OFFSET 1),
          false, 'bookkeeping columns and the owner column are not fields');

SELECT pg_temp.mark() AS m \gset
SELECT cdp.update_contact(:ann, 'Ann', 'Lee');
SELECT is(pg_temp.since(:m),
          '[["update", "contact", {"given_name": [null, "Ann"], "family_name": [null, "Lee"]}],
            ["update", "contact", {"type": ["ghost", "lead"]}]]',
          'an update writes only the fields that changed (not updated_at)');

SELECT pg_temp.mark() AS m \gset
SELECT cdp.resolve('{"email": "ann@example.com"}');
SELECT cdp.update_contact(:ann, 'Ann');
SELECT is(pg_temp.since(:m), '[]', 'updates of bookkeeping columns only (last_seen_at, updated_at) write nothing');

SELECT is((SELECT actor FROM cdp.changes ORDER BY id DESC LIMIT 1), current_user::text, 'actor is the role that wrote');

-- ---------------------------------------------------------------- profiles
SELECT cdp.define_profile('customer', 'contact',
       '[{"slug": "tier", "type": "text"}, {"slug": "age", "type": "integer"}, {"slug": "vip", "type": "boolean"}]');
SELECT ok(EXISTS (SELECT FROM pg_trigger WHERE tgrelid = 'cdp_data.profile_customer'::regclass
                   AND tgname = 'cdp_capture_changes'), 'define_profile attaches the capture to the new table');
SELECT pg_temp.mark() AS m \gset
SELECT cdp.set_profile(:ann, 'customer', '{"tier": "gold", "age": 41}');
SELECT is(pg_temp.since(:m),
          '[["update", "contact", {"customer.age": [null, 41], "customer.tier": [null, "gold"],
                                   "customer.vip": [null, null], "customer.source": [null, null]}]]',
          'a new profile row: fields <profile>.<attribute> of the contact');
SELECT is((SELECT jsonb_typeof(diff -> 'customer.age' -> 1) FROM cdp.changes ORDER BY id DESC LIMIT 1), 'number',
          'an integer attribute is a JSON number');
SELECT pg_temp.mark() AS m \gset
SELECT cdp.set_profile(:ann, 'customer', '{"age": 42, "vip": true}');
SELECT is(pg_temp.since(:m), '[["update", "contact", {"customer.age": [41, 42], "customer.vip": [null, true]}]]',
          'a partial update: only the changed attributes');
SELECT pg_temp.mark() AS m \gset
SELECT cdp.set_profile(:ann, 'customer', '{"age": 42}');
SELECT is(pg_temp.since(:m), '[]', 'setting the same values writes nothing');
SELECT pg_temp.mark() AS m \gset
SELECT cdp.remove_profile(:ann, 'customer');
SELECT is(pg_temp.since(:m),
          '[["update", "contact", {"customer.age": [42, null], "customer.tier": ["gold", null],
                                   "customer.vip": [true, null], "customer.source": [null, null]}]]',
          'removing a profile: every attribute to null');
SELECT cdp.set_profile(:ann, 'customer', '{"tier": "silver"}');

-- ---------------------------------------------------------------- tags, terms, organizations
SELECT pg_temp.mark() AS m \gset
SELECT cdp.tag('contact', :ann, 'Technology/AI');
SELECT is(pg_temp.since(:m), '[["update", "contact", {"tags": [null, "Technology/AI"]}]]',
          'a tag: the field tags gains the tag''s path');
SELECT pg_temp.mark() AS m \gset
SELECT cdp.untag('contact', :ann, 'Technology/AI');
SELECT is(pg_temp.since(:m), '[["update", "contact", {"tags": ["Technology/AI", null]}]]', 'untag: the path goes');
SELECT cdp.define_taxonomy('interests', ARRAY['contact', 'organization']);
SELECT cdp.add_term('interests', 'sports/football');
SELECT pg_temp.mark() AS m \gset
SELECT cdp.classify('contact', :ann, 'interests', 'sports/football');
SELECT is(pg_temp.since(:m), '[["update", "contact", {"interests": [null, "sports/football"]}]]',
          'a term: the field <taxonomy> gains the term''s path');

SELECT pg_temp.mark() AS m \gset
SELECT cdp.create_organization('acme', 'Acme') AS acme \gset
SELECT is((SELECT jsonb_build_array(c.action, c.object_type, c.object_id = :acme, c.contact_id, c.diff -> 'slug')
             FROM cdp.changes c WHERE c.id > :m),
          '["insert", "organization", true, null, [null, "acme"]]', 'an organization: its own changes, no contact');
SELECT pg_temp.mark() AS m \gset
SELECT cdp.tag('organization', :acme, 'Retail');
SELECT is((SELECT jsonb_build_array(c.object_type, c.contact_id, c.diff) FROM cdp.changes c WHERE c.id > :m),
          '["organization", null, {"tags": [null, "Retail"]}]', 'an organization''s tag is a change of the organization');
SELECT pg_temp.mark() AS m \gset
SELECT cdp.add_member(:ann, 'acme', 'cto', true);
SELECT is((SELECT c.diff - 'organizations.acme.since' FROM cdp.changes c WHERE c.id > :m),
          '{"organizations.acme.role": [null, "cto"], "organizations.acme.is_primary": [null, true]}',
          'a membership: fields organizations.<org>.<column> of the contact');

-- ---------------------------------------------------------------- documents and events
SELECT cdp.define_document_template('invoice', '[{"slug": "amount", "type": "number"}]');
SELECT pg_temp.mark() AS m \gset
SELECT cdp.create_document('invoice', :ann, '{"amount": 12.5}', 'First') AS doc \gset
SELECT is((SELECT jsonb_agg(jsonb_build_array(c.action, c.object_type, c.object_id = :doc, c.contact_id = :ann) ORDER BY c.id)
             FROM cdp.changes c WHERE c.id > :m),
          '[["insert", "document", true, true], ["update", "document", true, true]]',
          'a document: an insert of it, then its values as an update, both about its contact');
SELECT is((SELECT c.diff -> 'title' FROM cdp.changes c WHERE c.id > :m ORDER BY c.id LIMIT 1), '[null, "First"]',
          'the document''s own fields');
SELECT is((SELECT c.diff FROM cdp.changes c WHERE c.id > :m ORDER BY c.id OFFSET 1), '{"invoice.amount": [null, 12.5]}',
          'the document''s values are fields <template>.<attribute>');
SELECT pg_temp.mark() AS m \gset
SELECT cdp.tag('document', :doc, 'Paid');
SELECT is((SELECT jsonb_build_array(c.object_type, c.object_id = :doc, c.contact_id = :ann, c.diff) FROM cdp.changes c WHERE c.id > :m),
          '["document", true, true, {"tags": [null, "Paid"]}]', 'a document''s tag is a change of the document, about its contact');

SELECT pg_temp.mark() AS m \gset
SELECT cdp.track('{"email": "ann@example.com"}', 'purchase', '{"amount": 3}');
SELECT is((SELECT jsonb_build_array(c.action, c.object_type, c.contact_id = :ann, c.diff -> 'events.purchase.properties')
             FROM cdp.changes c WHERE c.id > :m),
          '["insert", "contact", true, [null, {"amount": 3}]]', 'an event: an insert about the contact, events.<name>.<column>');

-- ---------------------------------------------------------------- archive, merge, unmerge
SELECT pg_temp.mark() AS m \gset
SELECT cdp.archive('document', :doc);
SELECT is((SELECT jsonb_build_array(c.action, c.object_type, jsonb_path_query_array(c.diff, '$.keyvalue().key'),
                                    c.diff -> 'archived_at' -> 0)
             FROM cdp.changes c WHERE c.id > :m),
          '["update", "document", ["archived_at"], null]', 'archiving is an update of archived_at');
SELECT cdp.restore('document', :doc);

SELECT cdp.resolve('{"email": "bob@example.com"}') AS bob \gset
SELECT pg_temp.mark() AS m \gset
SELECT cdp.merge_contacts(:ann, ARRAY[:bob]::bigint[]);
SELECT is((SELECT jsonb_agg(jsonb_build_array(c.action, c.object_id = :ann, c.diff) ORDER BY c.id)
             FROM cdp.changes c WHERE c.id > :m AND c.action = 'merge'),
          jsonb_build_array(jsonb_build_array('merge', true, jsonb_build_object('merged', jsonb_build_array(null, :bob)))),
          'a merge: one merge change of the survivor, {"merged": [null, absorbed]}');
SELECT is((SELECT jsonb_agg(jsonb_build_array(c.object_id = :ann, c.diff -> 'identifiers.email.value') ORDER BY c.id)
             FROM cdp.changes c WHERE c.id > :m AND c.diff ? 'identifiers.email.value'),
          '[[false, ["bob@example.com", null]], [true, [null, "bob@example.com"]]]',
          'an identifier moved by the merge leaves the absorbed contact and comes to the survivor');
SELECT is((SELECT c.diff FROM cdp.changes c WHERE c.id > :m AND c.object_id = :bob AND c.diff ? 'merged_into'),
          jsonb_build_object('merged_into', jsonb_build_array(null, :ann)), 'the absorbed contact becomes a tombstone');
SELECT pg_temp.mark() AS m \gset
SELECT cdp.unmerge((SELECT id FROM cdp.merges WHERE absorbed_id = :bob));
SELECT is((SELECT jsonb_agg(jsonb_build_array(c.action, c.object_id = :ann, c.diff) ORDER BY c.id)
             FROM cdp.changes c WHERE c.id > :m AND c.action IN ('merge', 'unmerge')),
          jsonb_build_array(jsonb_build_array('unmerge', true, jsonb_build_object('merged', jsonb_build_array(:bob, null)))),
          'an unmerge: one unmerge change of the survivor');
SELECT is((SELECT count(*) FROM cdp.changes c WHERE c.id > :m AND c.object_id = :bob AND c.diff -> 'identifiers.email.value' = '[null, "bob@example.com"]'),
          1::bigint, 'the unmerge gives the identifier back');
DELETE FROM cdp.merge_blocks;   -- unmerge blocked the pair: merge them again, for forget
SELECT cdp.merge_contacts(:ann, ARRAY[:bob]::bigint[]);

-- ---------------------------------------------------------------- forget
SELECT pg_temp.mark() AS m \gset
SELECT cdp.forget_contact(:ann);
SELECT is((SELECT jsonb_build_array(c.action, c.object_id = :ann, c.contact_id = :ann, c.diff)
             FROM cdp.changes c ORDER BY c.id DESC LIMIT 1),
          '["forget", true, true, {}]', 'forget records one forget change, last');
SELECT ok(EXISTS (SELECT FROM cdp.changes c WHERE c.id > :m AND c.action = 'delete' AND c.object_id = :ann
                   AND c.object_type = 'contact'), 'the contact''s deletion is a delete');
SELECT is((SELECT count(*) FROM cdp.changes c
            WHERE c.diff::text ~ '(ann|bob)@example\.com' OR c.diff::text ~ '"(Ann|Lee|silver|First)"'
               OR c.diff::text ~ '[^0-9:]12\.5[^0-9]'),
          0::bigint, 'no identifier, name, profile or document value of the person remains anywhere in the feed');
SELECT is((SELECT count(*) FROM cdp.changes c
            WHERE (c.contact_id IN (:ann, :bob) OR (c.object_type = 'document' AND c.object_id = :doc))
              AND EXISTS (SELECT FROM jsonb_each(c.diff) e WHERE e.value <> '[null, null]')),
          0::bigint, 'every change of the person and their document keeps its fields, with null values');
SELECT is((SELECT c.diff FROM cdp.changes c WHERE c.contact_id = :ann AND c.diff ? 'given_name' AND c.action = 'update' ORDER BY c.id LIMIT 1),
          '{"given_name": [null, null], "family_name": [null, null]}', 'the keys stay: what changed, not to what');
SELECT ok(EXISTS (SELECT FROM cdp.changes c WHERE c.object_type = 'organization' AND c.object_id = :acme
                   AND c.diff -> 'slug' = '[null, "acme"]'), 'changes of others are untouched');

-- ---------------------------------------------------------------- consume: arguments
SELECT throws_ok($$SELECT * FROM cdp.consume(NULL)$$, '22004', 'consumer must not be null', 'consume: NULL consumer');
SELECT throws_ok($$SELECT * FROM cdp.consume('')$$, '22023', 'consumer must not be empty', 'consume: empty consumer');
SELECT throws_ok($$SELECT * FROM cdp.consume('a', 0)$$, '22023', 'max must be at least 1: 0', 'consume: max < 1');
SELECT throws_ok($$SELECT * FROM cdp.consume('a', NULL)$$, '22004', 'max must not be null', 'consume: NULL max');

-- ---------------------------------------------------------------- consume
SELECT is(ARRAY(SELECT id FROM cdp.consume('a', 1000000)), ARRAY(SELECT id FROM cdp.changes ORDER BY id),
          'a new consumer gets every change, in order');
SELECT is(ARRAY(SELECT id FROM cdp.consume('a')), '{}'::bigint[], 'and then nothing: each change once');
SELECT cdp.resolve('{"email": "cyd@example.com"}') AS cyd \gset
SELECT is(ARRAY(SELECT contact_id FROM cdp.consume('a')), ARRAY[:cyd, :cyd]::bigint[], 'then the new changes only');

SELECT is(ARRAY(SELECT id FROM cdp.consume('b', 3)), ARRAY(SELECT id FROM cdp.changes ORDER BY id LIMIT 3),
          'max is honoured: the first 3 changes');
SELECT is(ARRAY(SELECT id FROM cdp.consume('b', 3)), ARRAY(SELECT id FROM cdp.changes ORDER BY id OFFSET 3 LIMIT 3),
          'the next call continues the batch: the next 3');
SELECT is((SELECT batch_last_id FROM cdp.change_consumers WHERE consumer = 'b'), (SELECT id FROM cdp.changes ORDER BY id OFFSET 5 LIMIT 1),
          'the consumer''s cursor is the last id it was given');
SELECT is(ARRAY(SELECT id FROM cdp.consume('a')), '{}'::bigint[], 'consumer b does not move consumer a');

BEGIN;
SELECT string_agg(id::text, ',') AS first FROM cdp.consume('b', 4) \gset
ROLLBACK;
SELECT is((SELECT string_agg(id::text, ',') FROM cdp.consume('b', 4)), :'first', 'a rolled-back consume gets the same changes again');
SELECT is(:'first', (SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT id FROM cdp.changes ORDER BY id OFFSET 6 LIMIT 4) s),
          'which are the next 4');
SELECT is((SELECT count(*) FROM cdp.consume('b', 1000000)) + 10, (SELECT count(*) FROM cdp.changes),
          'b gets the rest, each change once');

BEGIN;
SELECT cdp.update_contact(:cyd, 'Cyd');
SELECT count(*) AS own FROM cdp.consume('a') \gset
COMMIT;
SELECT is(:own::bigint, 0::bigint, 'the caller''s own uncommitted changes are not handed out');
SELECT is((SELECT jsonb_agg(diff) FROM cdp.consume('a')), '[{"given_name": [null, "Cyd"]}, {"type": ["ghost", "lead"]}]',
          'but after its commit, in the next batch');

-- ---------------------------------------------------------------- bulk loads
-- resolve_all records its new contacts and identifiers through COPY
-- (changes_bulk.c), not through the trigger: the changes must read the same
-- as those of resolve, field for field, but for ids, times and values.
CREATE FUNCTION pg_temp.shape(c bigint) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_agg(jsonb_build_array(ch.action,
               (SELECT jsonb_object_agg(e.key, CASE WHEN e.key ~ '(^created_at|\.id|\.value|\.raw_value)$'
                                                    THEN jsonb_build_array(e.value -> 0, jsonb_typeof(e.value -> 1))
                                                    ELSE e.value END)
                  FROM jsonb_each(ch.diff) e)) ORDER BY ch.id)
      FROM cdp.changes ch WHERE ch.contact_id = c $$;
SELECT cdp.resolve('{"email": "shape.one@example.com", "phone": "+16502530077"}', 'crm') AS shape1 \gset
SELECT contact_id AS shape2 FROM cdp.resolve_all($$SELECT 'b1' AS record_id, k AS kind, v AS value, 'crm' AS source
                                                   FROM (VALUES ('email', 'shape.two@example.com'), ('phone', '+16502530078')) x(k, v)$$) \gset
SELECT is(pg_temp.shape(:shape2), pg_temp.shape(:shape1),
          'resolve_all records a new contact and its identifiers with the same actions, fields and values as resolve');
SELECT is((SELECT count(*) FROM cdp.changes WHERE contact_id = :shape2 AND diff::text LIKE '%shape.two@example.com%'), 1::bigint,
          'and the identifier''s value');

-- ---------------------------------------------------------------- COPY
-- Only a COPY FROM into a captured table itself (pg_restore's load) is left
-- out; a COPY whose query writes through cdp, or whose target's trigger does,
-- is captured.
COPY (SELECT cdp.resolve('{"email": "copy.query@example.com"}')) TO '/dev/null';
SELECT is((SELECT count(*) FROM cdp.changes WHERE contact_id = cdp.find_contact('email', 'copy.query@example.com')), 2::bigint,
          'a resolve inside COPY (query) TO records its contact and identifier');
CREATE TEMP TABLE staging (email text);
CREATE FUNCTION pg_temp.staged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM cdp.resolve(jsonb_build_object('email', NEW.email));
    RETURN NULL;
END $$;
CREATE TRIGGER staged AFTER INSERT ON staging FOR EACH ROW EXECUTE FUNCTION pg_temp.staged();
COPY staging FROM STDIN;
copy.staged@example.com
\.
SELECT is((SELECT count(*) FROM cdp.changes WHERE contact_id = cdp.find_contact('email', 'copy.staged@example.com')), 2::bigint,
          'a resolve by a trigger of a table loaded with COPY FROM records its contact and identifier');
SELECT cdp.resolve('{"email": "copy.source@example.com"}') AS copy_source \gset
CREATE TEMP TABLE copied AS SELECT * FROM cdp.identifiers WHERE contact_id = :copy_source;
DELETE FROM cdp.changes WHERE contact_id = :copy_source;
UPDATE copied SET id = nextval('cdp.identifiers_id_seq'), value = 'copy.restored@example.com', slug = NULL;
COPY copied TO '/tmp/cdp_changes_copy_test.copy';
COPY cdp.identifiers FROM '/tmp/cdp_changes_copy_test.copy';
SELECT is((SELECT count(*) FROM cdp.changes WHERE contact_id = :copy_source), 0::bigint,
          'a COPY FROM into cdp.identifiers itself (a restore) is not captured');

-- ---------------------------------------------------------------- upgrade and generated tables
SELECT is(count(*), 0::bigint, 'every table of contacts, organizations and documents and every generated table captures its changes')
  FROM unnest(ARRAY['cdp.contacts', 'cdp.organizations', 'cdp.documents', 'cdp.identifiers', 'cdp.merges',
                    'cdp.organization_members', 'cdp.events', 'cdp.contact_tags', 'cdp.organization_tags',
                    'cdp.document_tags', 'cdp.contact_terms', 'cdp.organization_terms', 'cdp.document_terms']::regclass[]
                || ARRAY(SELECT data_table FROM cdp_internal.data_tables)) t
 WHERE NOT EXISTS (SELECT FROM pg_trigger g WHERE g.tgrelid = t AND g.tgname = 'cdp_capture_changes');
SELECT is((SELECT count(*) FROM cdp_internal.data_tables), 2::bigint, 'both generated tables were checked');
SELECT throws_ok($$CREATE TEMP TABLE bad_capture (id bigint);
                  CREATE TRIGGER t AFTER INSERT ON bad_capture FOR EACH ROW EXECUTE FUNCTION cdp_internal.capture_change('contact', 'nope', 'self', '', '', '', 'row');
                  INSERT INTO bad_capture VALUES (1)$$,
                 '42703', 'change capture of "bad_capture" names an unknown column: "nope"', 'a misconfigured trigger names the column');
SELECT throws_ok($$CREATE TEMP TABLE bad_capture2 (id bigint);
                  CREATE TRIGGER t AFTER INSERT ON bad_capture2 FOR EACH ROW EXECUTE FUNCTION cdp_internal.capture_change('contact');
                  INSERT INTO bad_capture2 VALUES (1)$$,
                 '22023', 'change capture of "bad_capture2" takes 7 trigger arguments, not 1', 'and the argument count');

SELECT * FROM finish();

-- what this file committed
\if :created_cdp
DROP EXTENSION cdp CASCADE;
\else
TRUNCATE cdp.changes, cdp.change_consumers RESTART IDENTITY;
\endif
