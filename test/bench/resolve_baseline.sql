-- resolve_baseline.sql
--   The baseline of the resolve benchmark: the lookup-attach-merge logic of
--   cdp.resolve written in PL/pgSQL, as a user would without cdp, over its
--   own copies of cdp.contacts, cdp.identifiers and cdp.merges (same
--   columns, constraints and indexes), normalising with the same cdp
--   functions, so that only the resolution logic differs.
--
-- What it does, like cdp.resolve: advisory locks on the record's (kind,
-- value) in a sorted order, lookup, row locks on the matched contacts in id
-- order (looking up again until nothing moved), a new contact / attach /
-- merge into the earliest-created contact with tombstones and a merges row
-- holding the evidence and the moved identifiers' slugs, the first
-- identifier of a kind on a contact as slug 'main', last_seen_at refreshed.
-- What it leaves out (so it does less than cdp.resolve): merge blocks,
-- limits, blocked values, suppressions, the contact type, model hooks.

-- The tables copy cdp's columns, defaults, checks and indexes (LIKE), so
-- they follow cdp's schema; ids come from their own sequences, and the
-- references are plain foreign keys.
CREATE TABLE bench.contacts (LIKE cdp.contacts INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE SEQUENCE bench.contacts_id_seq OWNED BY bench.contacts.id;
ALTER TABLE bench.contacts ALTER id SET DEFAULT nextval('bench.contacts_id_seq'),
    ADD FOREIGN KEY (merged_into) REFERENCES bench.contacts (id);

CREATE TABLE bench.identifiers (LIKE cdp.identifiers INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE SEQUENCE bench.identifiers_id_seq OWNED BY bench.identifiers.id;
ALTER TABLE bench.identifiers ALTER id SET DEFAULT nextval('bench.identifiers_id_seq'),
    ADD FOREIGN KEY (contact_id) REFERENCES bench.contacts (id),
    ADD FOREIGN KEY (kind) REFERENCES cdp.identifier_kinds (kind) ON UPDATE CASCADE;

CREATE TABLE bench.merges (LIKE cdp.merges INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE SEQUENCE bench.merges_id_seq OWNED BY bench.merges.id;
ALTER TABLE bench.merges ALTER id SET DEFAULT nextval('bench.merges_id_seq'),
    ADD FOREIGN KEY (survivor_id) REFERENCES bench.contacts (id),
    ADD FOREIGN KEY (absorbed_id) REFERENCES bench.contacts (id);

CREATE FUNCTION bench.resolve(identifiers jsonb, src text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    kinds    text[];
    vals     text[];
    raws     text[];
    found_id bigint[];       -- the identifier's id when known
    owners   bigint[];
    locked   bigint[] := '{}';
    ident    bigint;
    owner    bigint;
    survivor bigint;
    other    bigint;
    moved    jsonb;
    evidence jsonb;
    n        int;
BEGIN
    SELECT array_agg(k ORDER BY i), array_agg(v ORDER BY i), array_agg(raw ORDER BY i)
      INTO kinds, vals, raws
      FROM (SELECT i, e ->> 'kind' AS k, e ->> 'value' AS raw,
                   CASE e ->> 'kind'
                       WHEN 'email' THEN cdp.normalize_email(e ->> 'value')
                       WHEN 'phone' THEN cdp.normalize_phone(e ->> 'value')
                       ELSE normalize(btrim(e ->> 'value'), NFC) END AS v
              FROM jsonb_array_elements(identifiers) WITH ORDINALITY AS t(e, i)) s;
    n := cardinality(kinds);

    -- records sharing a value wait for each other; sorted, so never in a cycle
    PERFORM pg_advisory_xact_lock(h)
       FROM (SELECT DISTINCT hashtextextended(k || chr(1) || v, 0) AS h
               FROM unnest(kinds, vals) AS u(k, v) ORDER BY h) s;

    -- lock the owners; look up again until no identifier moved meanwhile
    LOOP
        owners := '{}';
        found_id := array_fill(NULL::bigint, ARRAY[n]);
        FOR j IN 1 .. n LOOP
            SELECT i.id, i.contact_id INTO ident, owner
              FROM bench.identifiers i WHERE i.kind = kinds[j] AND i.value = vals[j];
            IF FOUND THEN
                found_id[j] := ident;
                IF NOT owner = ANY (owners) THEN
                    owners := owners || owner;
                END IF;
            END IF;
        END LOOP;
        EXIT WHEN owners <@ locked;
        PERFORM 1 FROM bench.contacts WHERE id = ANY (owners) ORDER BY id FOR UPDATE;
        locked := locked || owners;
    END LOOP;

    IF cardinality(owners) = 0 THEN
        INSERT INTO bench.contacts (last_seen_at) VALUES (now()) RETURNING id INTO survivor;
    ELSE
        SELECT c.id INTO survivor FROM bench.contacts c
         WHERE c.id = ANY (owners) ORDER BY c.created_at, c.id LIMIT 1;
        FOR other IN SELECT o FROM unnest(owners) o WHERE o <> survivor ORDER BY o LOOP
            -- the evidence: the record's first identifier the absorbed contact held
            evidence := NULL;
            FOR j IN 1 .. n LOOP
                IF found_id[j] IS NOT NULL AND EXISTS (SELECT 1 FROM bench.identifiers i
                                                        WHERE i.id = found_id[j] AND i.contact_id = other) THEN
                    evidence := jsonb_build_object('kind', kinds[j], 'value', vals[j]);
                    EXIT;
                END IF;
            END LOOP;
            WITH old AS (SELECT id, slug FROM bench.identifiers WHERE contact_id = other),
            upd AS (
                UPDATE bench.identifiers i SET contact_id = survivor,
                       slug = CASE WHEN EXISTS (SELECT 1 FROM bench.identifiers s
                                                 WHERE s.contact_id = survivor AND s.kind = i.kind
                                                   AND s.slug = i.slug)
                                   THEN NULL ELSE i.slug END
                  FROM old WHERE i.id = old.id RETURNING i.id)
            SELECT coalesce(jsonb_agg(jsonb_build_object('id', old.id, 'slug', old.slug)
                                      ORDER BY old.id), '[]')
              INTO moved FROM old JOIN upd USING (id);
            UPDATE bench.contacts SET merged_into = survivor WHERE merged_into = other;
            UPDATE bench.contacts SET merged_into = survivor, updated_at = now() WHERE id = other;
            INSERT INTO bench.merges (survivor_id, absorbed_id, reason, evidence, source, snapshot)
            VALUES (survivor, other, 'resolve', evidence, src, jsonb_build_object('identifiers', moved));
        END LOOP;
    END IF;

    -- seen again: refresh; new: attach, the first of its kind as 'main'
    FOR j IN 1 .. n LOOP
        IF found_id[j] IS NOT NULL THEN
            UPDATE bench.identifiers SET last_seen_at = now() WHERE id = found_id[j];
        ELSE
            INSERT INTO bench.identifiers (contact_id, kind, value, raw_value, slug, source)
            SELECT survivor, kinds[j], vals[j], raws[j],
                   CASE WHEN EXISTS (SELECT 1 FROM bench.identifiers s
                                      WHERE s.contact_id = survivor AND s.kind = kinds[j]
                                        AND s.slug = 'main')
                        THEN NULL ELSE 'main' END,
                   src;
        END IF;
    END LOOP;
    UPDATE bench.contacts SET last_seen_at = now() WHERE id = survivor;
    RETURN survivor;
END
$$;

-- in record order, in one backend, committing every per_commit records
CREATE PROCEDURE bench.run_baseline(first int, last int, per_commit int) LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT id, ids, source FROM bench.records WHERE id BETWEEN first AND last ORDER BY id LOOP
        PERFORM bench.resolve(r.ids, r.source);
        IF r.id % per_commit = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
END
$$;

CREATE PROCEDURE bench.run_cdp(first int, last int, per_commit int) LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT id, ids, source FROM bench.records WHERE id BETWEEN first AND last ORDER BY id LOOP
        PERFORM cdp.resolve(r.ids, r.source);
        IF r.id % per_commit = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
END
$$;

-- the partition of identifiers into live contacts, as each identifier's
-- least co-owned identifier: comparable between runs whatever the ids
CREATE FUNCTION bench.partition_cdp() RETURNS TABLE (key text, label text)
LANGUAGE sql STABLE AS $$
    SELECT k, min(k) OVER (PARTITION BY contact_id)
      FROM (SELECT contact_id, (kind || ':' || value) COLLATE "C" AS k FROM cdp.identifiers) s
$$;
CREATE FUNCTION bench.partition_baseline() RETURNS TABLE (key text, label text)
LANGUAGE sql STABLE AS $$
    SELECT k, min(k) OVER (PARTITION BY contact_id)
      FROM (SELECT contact_id, (kind || ':' || value) COLLATE "C" AS k FROM bench.identifiers) s
$$;
