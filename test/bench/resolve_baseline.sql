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

CREATE TABLE bench.contacts (
    id            bigserial PRIMARY KEY,
    given_name    text,
    family_name   text,
    is_vendor     boolean NOT NULL DEFAULT false,
    type          text NOT NULL DEFAULT 'ghost'
                  CHECK (type IN ('vendor', 'contact', 'lead', 'ghost')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz,
    archived_at   timestamptz,
    merged_into   bigint REFERENCES bench.contacts (id),
    CHECK (merged_into <> id)
);
CREATE INDEX ON bench.contacts (merged_into) WHERE merged_into IS NOT NULL;
CREATE INDEX ON bench.contacts (last_seen_at) WHERE type = 'ghost';

CREATE TABLE bench.identifiers (
    id                bigserial PRIMARY KEY,
    contact_id        bigint NOT NULL REFERENCES bench.contacts (id),
    kind              text NOT NULL REFERENCES cdp.identifier_kinds (kind) ON UPDATE CASCADE,
    value             text NOT NULL,
    raw_value         text,
    slug              text,
    source            text,
    is_validated      boolean NOT NULL DEFAULT false,
    validation_method text,
    validated_at      timestamptz,
    outreach          boolean NOT NULL DEFAULT false,
    first_seen_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, value),
    UNIQUE (contact_id, kind, slug)
);
CREATE INDEX ON bench.identifiers (contact_id);

CREATE TABLE bench.merges (
    id           bigserial PRIMARY KEY,
    survivor_id  bigint NOT NULL REFERENCES bench.contacts (id),
    absorbed_id  bigint NOT NULL REFERENCES bench.contacts (id),
    reason       text NOT NULL,
    evidence     jsonb,
    source       text,
    merged_at    timestamptz NOT NULL DEFAULT now(),
    undone_at    timestamptz,
    snapshot     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX ON bench.merges (survivor_id);
CREATE INDEX ON bench.merges (absorbed_id);

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
