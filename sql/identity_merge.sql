-- Merging by hand, undoing merges, forgetting a person and cleaning up
-- ghosts, a worked example.  Contacts and merges are shown by the names this
-- file gives them, never by id (also inside error messages); the data made
-- here is removed at the end and the sequences put back.
SELECT last_value AS contacts_last, is_called AS contacts_called FROM cdp.contacts_id_seq \gset
SELECT last_value AS identifiers_last, is_called AS identifiers_called FROM cdp.identifiers_id_seq \gset
SELECT last_value AS merges_last, is_called AS merges_called FROM cdp.merges_id_seq \gset
SELECT last_value AS conflicts_last, is_called AS conflicts_called FROM cdp.identity_conflicts_id_seq \gset
SELECT coalesce(max(id), 0) AS contacts_before FROM cdp.contacts \gset
SELECT coalesce(max(id), 0) AS merges_before FROM cdp.merges \gset
CREATE TEMP TABLE suppressions_before AS SELECT * FROM cdp.suppressions;
CREATE TEMP TABLE had_salt AS SELECT EXISTS (SELECT 1 FROM cdp_internal.secrets) AS had;

CREATE TEMP TABLE names (id bigint PRIMARY KEY, name text UNIQUE NOT NULL);
CREATE TEMP TABLE merge_names (id bigint PRIMARY KEY, name text UNIQUE NOT NULL);
CREATE FUNCTION pg_temp.who(bigint) RETURNS text LANGUAGE sql STABLE
AS $$ SELECT coalesce((SELECT name FROM names WHERE id = $1), CASE WHEN $1 IS NOT NULL THEN '?' END) $$;
CREATE FUNCTION pg_temp.as_(name text, id bigint) RETURNS text LANGUAGE sql
AS $$
    INSERT INTO names VALUES (id, name) ON CONFLICT (id) DO NOTHING;
    SELECT pg_temp.who(id);
$$;
CREATE FUNCTION pg_temp.id(text) RETURNS bigint LANGUAGE sql STABLE
AS $$ SELECT id FROM names WHERE name = $1 $$;
CREATE FUNCTION pg_temp.merge(survivor text, absorbed text) RETURNS bigint LANGUAGE sql STABLE
AS $$ SELECT max(id) FROM cdp.merges WHERE survivor_id = pg_temp.id(survivor) AND absorbed_id = pg_temp.id(absorbed) $$;
-- try(statement): "ok", or the SQLSTATE and message with ids replaced by names
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text LANGUAGE plpgsql
AS $$
DECLARE
    msg text;
    state text;
    r record;
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
    FOR r IN SELECT id, name FROM merge_names LOOP
        msg := regexp_replace(msg, '\mmerge ' || r.id || '\M', 'merge ' || r.name, 'g');
    END LOOP;
    FOR r IN SELECT id, name FROM names LOOP
        msg := regexp_replace(msg, '((contacts?|into|and) )' || r.id || '\M', '\1' || r.name, 'g');
    END LOOP;
    RETURN state || ': ' || msg;
END
$$;
CREATE VIEW ids AS
    SELECT pg_temp.who(contact_id) AS contact, kind, value, slug
      FROM cdp.identifiers WHERE contact_id > :contacts_before;
CREATE VIEW people AS
    SELECT pg_temp.who(id) AS contact, given_name, family_name, type, pg_temp.who(merged_into) AS merged_into
      FROM cdp.contacts WHERE id > :contacts_before;
-- the tables of schemas cdp and cdp_internal with a row whose text matches
CREATE FUNCTION pg_temp.traces(patterns text[]) RETURNS SETOF text LANGUAGE plpgsql
AS $$
DECLARE
    r record;
    hit boolean;
BEGIN
    FOR r IN SELECT n.nspname, k.relname
               FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace
              WHERE n.nspname IN ('cdp', 'cdp_internal') AND k.relkind IN ('r', 'p')
              ORDER BY 1, 2
    LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I t WHERE t::text ILIKE ANY ($1))',
                       r.nspname, r.relname)
           INTO hit USING patterns;
        IF hit THEN
            RETURN NEXT r.nspname || '.' || r.relname;
        END IF;
    END LOOP;
END
$$;

--
-- merge_contacts keeps its target even when another contact is older; a
-- contact named twice is merged once; each absorbed contact is one merge.
--
SELECT pg_temp.as_('olga', cdp.resolve('{"email": "olga@example.com", "phone": "+33611223344"}')) AS contact;
SELECT pg_temp.as_('oleg', cdp.resolve('{"email": "oleg@example.com"}')) AS contact;
SELECT pg_temp.as_('nina', cdp.resolve('{"email": "nina@example.com"}')) AS contact;
SELECT cdp.update_contact(pg_temp.id('olga'), 'Olga', 'Orlova');
SELECT pg_temp.who(cdp.merge_contacts(pg_temp.id('nina'),
       ARRAY[pg_temp.id('olga'), pg_temp.id('oleg'), pg_temp.id('olga')], 'crm cleanup')) AS survivor;
SELECT * FROM people ORDER BY contact;
SELECT * FROM ids ORDER BY contact, kind, value;
SELECT pg_temp.who(survivor_id) AS survivor, pg_temp.who(absorbed_id) AS absorbed, reason, evidence
  FROM cdp.merges WHERE id > :merges_before ORDER BY id;

-- what merge_contacts refuses
SELECT pg_temp.as_('paul', cdp.resolve('{"external_id": "P-1", "email": "paul@example.com"}')) AS contact;
SELECT pg_temp.as_('pia', cdp.resolve('{"external_id": "P-2"}')) AS contact;
SELECT pg_temp.try(format('SELECT cdp.merge_contacts(%s, ARRAY[%s])', pg_temp.id('paul'), pg_temp.id('paul'))) AS into_itself;
-- (not refused: ids of one person, tombstones or survivor, stand for the live contact; nothing to merge)
SELECT pg_temp.who(cdp.merge_contacts(pg_temp.id('olga'), ARRAY[pg_temp.id('oleg'), pg_temp.id('nina')])) AS already_one,
       (SELECT count(*) FROM cdp.merges WHERE id > :merges_before) AS merges;
SELECT pg_temp.try(format('SELECT cdp.merge_contacts(%s, ARRAY[0])', pg_temp.id('paul'))) AS unknown;
UPDATE cdp.identifier_kinds SET max_per_contact = 1 WHERE kind = 'external_id';
SELECT pg_temp.try(format('SELECT cdp.merge_contacts(%s, ARRAY[%s])', pg_temp.id('paul'), pg_temp.id('pia'))) AS over_limit;
UPDATE cdp.identifier_kinds SET max_per_contact = NULL WHERE kind = 'external_id';
INSERT INTO cdp.merge_blocks (contact_a, contact_b, reason) VALUES (pg_temp.id('paul'), pg_temp.id('pia'), 'twins');
SELECT pg_temp.try(format('SELECT cdp.merge_contacts(%s, ARRAY[%s])', pg_temp.id('pia'), pg_temp.id('paul'))) AS blocked;
SELECT pg_temp.try('SELECT cdp.merge_contacts(NULL, ARRAY[1::bigint])') AS null_target,
       pg_temp.try(format('SELECT cdp.merge_contacts(%s, NULL)', pg_temp.id('paul'))) AS null_others,
       pg_temp.try(format('SELECT cdp.merge_contacts(%s, ARRAY[NULL::bigint])', pg_temp.id('paul'))) AS null_other;
SELECT * FROM people WHERE contact IN ('paul', 'pia') ORDER BY contact;

--
-- Merge, then unmerge: the data is as if the merge never happened.  sam and
-- ann both have a main email; ann has a tombstone (tom) of her own.
--
SELECT pg_temp.as_('sam', cdp.resolve('{"email": "sam@example.com", "phone": "+33622334455"}', 'crm')) AS contact;
SELECT pg_temp.as_('ann', cdp.resolve(
    '[{"kind": "email", "value": "ann@example.com", "validated": "otp"},
      {"kind": "uuid", "value": "6f1c1e6c-3b1e-4b8e-9d0c-5a1f6e2b7c44"}]', 'web')) AS contact;
SELECT pg_temp.as_('tom', cdp.resolve('{"anonymous": "anon-tom"}')) AS contact;
SELECT cdp.update_contact(pg_temp.id('sam'), 'Sam');
SELECT cdp.update_contact(pg_temp.id('ann'), NULL, 'Ames');
SELECT pg_temp.who(cdp.merge_contacts(pg_temp.id('ann'), ARRAY[pg_temp.id('tom')])) AS survivor;
CREATE TEMP TABLE identifiers_before AS
    SELECT id, contact_id, kind, value, raw_value, slug, source, is_validated, validation_method,
           validated_at, outreach, first_seen_at
      FROM cdp.identifiers;
CREATE TEMP TABLE contacts_before AS
    SELECT id, given_name, family_name, is_vendor, type, created_at, archived_at, merged_into
      FROM cdp.contacts;
SELECT pg_temp.who(cdp.resolve('{"email": "sam@example.com", "uuid": "6f1c1e6c-3b1e-4b8e-9d0c-5a1f6e2b7c44"}')) AS contact;
INSERT INTO merge_names VALUES (pg_temp.merge('sam', 'ann'), 'sam+ann');
SELECT * FROM people WHERE contact IN ('sam', 'ann', 'tom') ORDER BY contact;
SELECT * FROM ids WHERE contact IN ('sam', 'ann', 'tom') ORDER BY contact, kind, value;
SELECT pg_temp.who(cdp.unmerge(pg_temp.merge('sam', 'ann'))) AS restored;
SELECT * FROM people WHERE contact IN ('sam', 'ann', 'tom') ORDER BY contact;
SELECT * FROM ids WHERE contact IN ('sam', 'ann', 'tom') ORDER BY contact, kind, value;
-- differences from before the merge, both ways (none)
(SELECT 'now' AS side, * FROM (SELECT id, contact_id, kind, value, raw_value, slug, source, is_validated,
                                      validation_method, validated_at, outreach, first_seen_at
                                 FROM cdp.identifiers EXCEPT SELECT * FROM identifiers_before) d)
UNION ALL
(SELECT 'before', * FROM (SELECT * FROM identifiers_before EXCEPT
                          SELECT id, contact_id, kind, value, raw_value, slug, source, is_validated,
                                 validation_method, validated_at, outreach, first_seen_at
                            FROM cdp.identifiers) d);
(SELECT 'now' AS side, * FROM (SELECT id, given_name, family_name, is_vendor, type, created_at, archived_at, merged_into
                                 FROM cdp.contacts EXCEPT SELECT * FROM contacts_before) d)
UNION ALL
(SELECT 'before', * FROM (SELECT * FROM contacts_before EXCEPT
                          SELECT id, given_name, family_name, is_vendor, type, created_at, archived_at, merged_into
                            FROM cdp.contacts) d);
SELECT undone_at IS NOT NULL AS undone FROM cdp.merges WHERE id = pg_temp.merge('sam', 'ann');
SELECT pg_temp.who(contact_a) AS a, pg_temp.who(contact_b) AS b, reason ~ '^unmerge of merge' AS from_unmerge
  FROM cdp.merge_blocks WHERE contact_a IN (pg_temp.id('sam'), pg_temp.id('ann'));
-- the pair is blocked now: the same record resolves to sam and leaves ann be
SELECT pg_temp.who(cdp.resolve('{"email": "sam@example.com", "uuid": "6f1c1e6c-3b1e-4b8e-9d0c-5a1f6e2b7c44"}')) AS contact;
SELECT rule, kind, pg_temp.who(contact_id) AS contact, pg_temp.who(other_contact_id) AS other
  FROM cdp.identity_conflicts WHERE contact_id = pg_temp.id('ann');
SELECT pg_temp.try(format('SELECT cdp.unmerge(%s)', pg_temp.merge('sam', 'ann'))) AS twice,
       pg_temp.try('SELECT cdp.unmerge(0)') AS unknown,
       pg_temp.try('SELECT cdp.unmerge(NULL)') AS null_id;

--
-- A chain of merges: current_contact follows it; unmerging both, in either
-- order, gives three live contacts again.
--
SELECT pg_temp.as_('k1', cdp.resolve('{"email": "k1@example.com"}')) AS contact;
SELECT pg_temp.as_('k2', cdp.resolve('{"email": "k2@example.com"}')) AS contact;
SELECT pg_temp.as_('k3', cdp.resolve('{"email": "k3@example.com"}')) AS contact;
SELECT pg_temp.who(cdp.merge_contacts(pg_temp.id('k2'), ARRAY[pg_temp.id('k1')])) AS survivor;
SELECT pg_temp.who(cdp.merge_contacts(pg_temp.id('k3'), ARRAY[pg_temp.id('k2')])) AS survivor;
SELECT name, pg_temp.who(cdp.current_contact(id)) AS current FROM names WHERE name LIKE 'k_' ORDER BY name;
SELECT pg_temp.who(cdp.unmerge(pg_temp.merge('k2', 'k1'))) AS restored;
SELECT pg_temp.who(cdp.unmerge(pg_temp.merge('k3', 'k2'))) AS restored;
SELECT * FROM people WHERE contact LIKE 'k_' ORDER BY contact;
SELECT * FROM ids WHERE contact LIKE 'k_' ORDER BY contact;
SELECT cdp.current_contact(0) AS unknown, cdp.current_contact(NULL) AS null_id;

--
-- forget_contact: the person (a live contact and its tombstone) leaves no
-- plain-text trace in any table of cdp or cdp_internal; only salted hashes
-- remain, and resolving those identifiers again is refused.
--
SELECT pg_temp.as_('fiona', cdp.resolve('{"email": "Fiona.F@example.com", "phone": "+33 6 99 88 77 66"}', 'shop')) AS contact;
SELECT cdp.update_contact(pg_temp.id('fiona'), 'Fiona', 'Forgettable');
SELECT pg_temp.as_('fi', cdp.resolve('{"external_id": "fio-ext-1"}')) AS contact;
SELECT pg_temp.who(cdp.resolve('{"external_id": "fio-ext-1", "email": "fiona.f@example.com"}', 'shop')) AS contact;
SELECT pg_temp.as_('felix', cdp.resolve('{"external_id": "felix-1"}')) AS contact;
INSERT INTO cdp.merge_blocks (contact_a, contact_b) VALUES (pg_temp.id('fiona'), pg_temp.id('felix'));
SELECT pg_temp.who(cdp.resolve('{"external_id": "felix-1", "phone": "+33699887766"}')) AS contact;
SELECT * FROM pg_temp.traces(ARRAY['%fiona%', '%99887766%', '%99 88 77 66%', '%Forgettable%', '%fio-ext-1%']) AS before_forget;
SELECT cdp.forget_contact(pg_temp.id('fi'));
SELECT * FROM pg_temp.traces(ARRAY['%fiona%', '%99887766%', '%99 88 77 66%', '%Forgettable%', '%fio-ext-1%']) AS after_forget;
SELECT * FROM people WHERE contact IN ('fiona', 'fi', 'felix') ORDER BY contact;
SELECT * FROM ids WHERE contact IN ('fiona', 'fi', 'felix') ORDER BY contact;
SELECT kind, count(*) FROM cdp.suppressions
 WHERE (kind, value_hash) NOT IN (SELECT kind, value_hash FROM suppressions_before) GROUP BY kind ORDER BY kind;
SELECT pg_temp.try($$SELECT cdp.resolve('{"email": "FIONA.F@example.com"}')$$) AS same_email,
       pg_temp.try($$SELECT cdp.resolve('{"email": "new@example.com", "phone": "06 99 88 77 66"}', NULL, 'FR')$$) AS phone_in_a_new_record;
SELECT pg_temp.try($$SELECT cdp.resolve('{"external_id": "fio-ext-1"}')$$) AS tombstone_identifier;
SELECT pg_temp.try('SELECT cdp.forget_contact(0)') AS unknown, pg_temp.try('SELECT cdp.forget_contact(NULL)') AS null_id;

--
-- cleanup_ghosts deletes ghosts not seen for the interval, with their
-- identifiers; named contacts and recent ghosts stay.
--
SELECT pg_temp.as_('old ghost', cdp.resolve('{"anonymous": "anon-old"}')) AS contact;
SELECT pg_temp.as_('new ghost', cdp.resolve('{"anonymous": "anon-new"}')) AS contact;
SELECT pg_temp.as_('old lead', cdp.resolve('{"email": "old.lead@example.com"}')) AS contact;
SELECT cdp.update_contact(pg_temp.id('old lead'), 'Otto');
UPDATE cdp.contacts SET last_seen_at = now() - interval '40 days', created_at = now() - interval '60 days'
 WHERE id IN (pg_temp.id('old ghost'), pg_temp.id('old lead'));
SELECT cdp.cleanup_ghosts('30 days') AS removed;
SELECT * FROM people WHERE contact LIKE 'old%' OR contact LIKE 'new%' ORDER BY contact;
SELECT * FROM ids WHERE value IN ('anon-old', 'anon-new', 'old.lead@example.com') ORDER BY value;
SELECT cdp.cleanup_ghosts('30 days') AS removed_again;
SELECT pg_temp.try($$SELECT cdp.cleanup_ghosts('-1 day')$$) AS negative,
       pg_temp.try('SELECT cdp.cleanup_ghosts(NULL)') AS null_interval;

--
-- Clean up: this file's rows go, kinds and sequences are put back.
--
DELETE FROM cdp.identity_conflicts WHERE coalesce(contact_id, other_contact_id) > :contacts_before;
DELETE FROM cdp.merges WHERE survivor_id > :contacts_before;
DELETE FROM cdp.merge_blocks WHERE contact_a > :contacts_before;
DELETE FROM cdp.identifiers WHERE contact_id > :contacts_before;
UPDATE cdp.contacts SET merged_into = NULL WHERE id > :contacts_before;
DELETE FROM cdp.contacts WHERE id > :contacts_before;
DELETE FROM cdp.suppressions WHERE (kind, value_hash) NOT IN (SELECT kind, value_hash FROM suppressions_before);
DELETE FROM cdp_internal.secrets WHERE NOT (SELECT had FROM had_salt);
SELECT setval('cdp.contacts_id_seq', :contacts_last, :'contacts_called') IS NOT NULL AS reset,
       setval('cdp.identifiers_id_seq', :identifiers_last, :'identifiers_called') IS NOT NULL AS reset,
       setval('cdp.merges_id_seq', :merges_last, :'merges_called') IS NOT NULL AS reset,
       setval('cdp.identity_conflicts_id_seq', :conflicts_last, :'conflicts_called') IS NOT NULL AS reset;
