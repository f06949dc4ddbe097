-- identity.sql
--   Identity resolution: resolve, merge_contacts and unmerge (C in
--   resolve.c and merge.c) and the SQL around them: following tombstones,
--   the contact type, forgetting a person and cleaning up ghosts.

-- The salt of suppression hashes is made on first use, not at install, so
-- that a restored dump brings back the salt its hashes were made with.
CREATE TABLE cdp_internal.secrets (
    singleton  boolean PRIMARY KEY DEFAULT true CONSTRAINT secrets_singleton CHECK (singleton),
    salt       bytea NOT NULL
);
REVOKE ALL ON cdp_internal.secrets FROM PUBLIC;
COMMENT ON TABLE cdp_internal.secrets IS
    'The salt of the hashes in cdp.suppressions, made on first use; one row';
COMMENT ON COLUMN cdp_internal.secrets.singleton IS 'Always true: the table holds at most one row';
COMMENT ON COLUMN cdp_internal.secrets.salt IS 'Random bytes prefixed to every hashed identifier';
SELECT pg_catalog.pg_extension_config_dump('cdp_internal.secrets', '');

CREATE FUNCTION cdp_internal.identifier_hash(kind text, value text) RETURNS bytea
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT sha256(s.salt || convert_to(kind || chr(1) || value, 'UTF8'))
              FROM cdp_internal.secrets s);
END
$$;

CREATE FUNCTION cdp_internal.ensure_salt() RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO cdp_internal.secrets (salt)
    VALUES (sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text
                              || clock_timestamp()::text, 'UTF8')))
    ON CONFLICT (singleton) DO NOTHING
$$;

-- PL/pgSQL rather than SQL: resolve calls it once per record, and PL/pgSQL
-- keeps the statement's plan where a SQL function would parse it every call.
CREATE FUNCTION cdp_internal.refresh_contact_type(contact bigint) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE cdp.contacts c
       SET type = t.type, updated_at = now()
      FROM (SELECT CASE
                     WHEN c2.is_vendor THEN 'vendor'
                     WHEN coalesce(c2.given_name, '') = '' AND coalesce(c2.family_name, '') = '' THEN 'ghost'
                     WHEN EXISTS (SELECT 1 FROM cdp.identifiers i JOIN cdp.identifier_kinds k USING (kind)
                                   WHERE i.contact_id = c2.id AND i.is_validated
                                     AND k.normalizer IN ('email', 'phone')) THEN 'contact'
                     WHEN EXISTS (SELECT 1 FROM cdp.identifiers i JOIN cdp.identifier_kinds k USING (kind)
                                   WHERE i.contact_id = c2.id
                                     AND k.normalizer IN ('email', 'phone')) THEN 'lead'
                     ELSE 'ghost'
                   END AS type
              FROM cdp.contacts c2 WHERE c2.id = contact) t
     WHERE c.id = contact AND c.type IS DISTINCT FROM t.type;
END
$$;

-- For administrators who changed cdp.identifiers or cdp.contacts by hand.
CREATE FUNCTION cdp.refresh_contact_type(id bigint) RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    live bigint := cdp_internal.lock_contact(id, true);
BEGIN
    PERFORM cdp_internal.refresh_contact_type(live);
    RETURN (SELECT c.type FROM cdp.contacts c WHERE c.id = live);
END
$$;
COMMENT ON FUNCTION cdp.refresh_contact_type(bigint) IS
    'Recomputes a contact''s type (after changing its identifiers or names by hand); returns it';

-- resolve keeps the kinds and whether anyone was forgotten per backend;
-- these triggers tell every backend when that copy is stale.
CREATE FUNCTION cdp_internal.invalidate_cache() RETURNS trigger
AS 'MODULE_PATHNAME', 'cdp_invalidate_cache'
LANGUAGE C;
CREATE TRIGGER identifier_kinds_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cdp.identifier_kinds
    FOR EACH STATEMENT EXECUTE FUNCTION cdp_internal.invalidate_cache();
CREATE TRIGGER suppressions_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cdp.suppressions
    FOR EACH STATEMENT EXECUTE FUNCTION cdp_internal.invalidate_cache();

CREATE FUNCTION cdp.resolve(identifiers jsonb, source text DEFAULT NULL, region text DEFAULT NULL,
                            on_invalid text DEFAULT 'error')
RETURNS bigint
AS 'MODULE_PATHNAME', 'cdp_resolve'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION cdp.resolve(jsonb, text, text, text) IS
    'Resolve a record''s identifiers to one contact: create, attach or merge under the merge rules; returns the contact id, or NULL when every value is invalid or blocked (on_invalid: error or skip)';

CREATE FUNCTION cdp.merge_contacts(target bigint, others bigint[], reason text DEFAULT 'manual')
RETURNS bigint
AS 'MODULE_PATHNAME', 'cdp_merge_contacts'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION cdp.merge_contacts(bigint, bigint[], text) IS
    'Merge other contacts into target, which survives; refused by merge blocks and identifier limits';

CREATE FUNCTION cdp.unmerge(merge_id bigint) RETURNS bigint
AS 'MODULE_PATHNAME', 'cdp_unmerge'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION cdp.unmerge(bigint) IS
    'Undo a merge: restore the absorbed contact with what came from it, mark the merge undone, block the pair';

-- PL/pgSQL, one contact per statement: Citus can run neither a recursive
-- query over a distributed table nor an SQL function's parameterised one.
CREATE FUNCTION cdp.current_contact(id bigint) RETURNS bigint
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    here bigint := id;
    next bigint;
BEGIN
    FOR depth IN 0..1000 LOOP
        SELECT c.merged_into INTO next FROM cdp.contacts c WHERE c.id = here;
        IF NOT FOUND THEN
            RETURN NULL;
        ELSIF next IS NULL THEN
            RETURN here;
        END IF;
        here := next;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION cdp.current_contact(bigint) IS
    'The live contact an id leads to, following merge tombstones; NULL for unknown ids';

-- A live contact and every tombstone leading to it: one person.
CREATE FUNCTION cdp_internal.contact_family(live bigint) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    family bigint[] := ARRAY[live];
    frontier bigint[] := ARRAY[live];
BEGIN
    WHILE cardinality(frontier) > 0 LOOP
        frontier := ARRAY(SELECT c.id FROM cdp.contacts c
                           WHERE c.merged_into = ANY (frontier) AND c.id <> ALL (family));
        family := family || frontier;
    END LOOP;
    RETURN QUERY SELECT unnest(family);
END
$$;

-- A lookup never raises on a messy value (no stored identifier can hold a
-- value the normaliser refuses); an unknown kind is the caller's mistake.
CREATE FUNCTION cdp.find_contact(kind text, value text, region text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kind_normalizer text;
    normalized text;
    found bigint;
BEGIN
    IF kind IS NULL OR value IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT k.normalizer INTO kind_normalizer
      FROM cdp.identifier_kinds k WHERE k.kind = find_contact.kind;
    IF kind_normalizer IS NULL THEN
        RAISE EXCEPTION 'unknown identifier kind: "%"', kind
            USING ERRCODE = 'undefined_object',
                  HINT = 'Identifier kinds are the rows of cdp.identifier_kinds.';
    END IF;
    IF NOT cdp_internal.is_valid_value(kind_normalizer, value, region) THEN
        RETURN NULL;
    END IF;
    normalized := cdp_internal.normalize_value(kind_normalizer, find_contact.value, find_contact.region);
    IF cdp_internal.citus_mode() THEN
        -- one shard: the value index (README "Scaling out on Citus")
        SELECT x.contact_id INTO found FROM cdp.identifier_index x
         WHERE x.value = normalized AND x.kind = find_contact.kind;
    ELSE
        SELECT i.contact_id INTO found FROM cdp.identifiers i
         WHERE i.kind = find_contact.kind AND i.value = normalized;
    END IF;
    RETURN cdp.current_contact(found);
END
$$;
COMMENT ON FUNCTION cdp.find_contact(text, text, text) IS
    'The contact holding an identifier (normalised first); NULL when unknown or when the normaliser refuses the value; 42704 for an unknown kind';

-- The identifier-value locks of resolve, for the SQL write paths that must
-- be ordered with it (forget_contact): values are the normalised ones.
CREATE FUNCTION cdp_internal.lock_identifier_values(kinds text[], vals text[]) RETURNS void
LANGUAGE c VOLATILE STRICT
AS 'MODULE_PATHNAME', 'cdp_lock_identifier_values_sql';
COMMENT ON FUNCTION cdp_internal.lock_identifier_values(text[], text[]) IS
    'Takes the transaction advisory locks resolve takes on these (kind, value) pairs, in resolve''s order';

-- The one contact lock (contacts.c) for the SQL write paths: follows
-- tombstones, locks the live contact (FOR NO KEY UPDATE, or FOR UPDATE when
-- the contacts row itself changes or goes), checks again after the lock.
CREATE FUNCTION cdp_internal.lock_contact(id bigint, for_update boolean DEFAULT false) RETURNS bigint
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'cdp_lock_contact_sql';
COMMENT ON FUNCTION cdp_internal.lock_contact(bigint, boolean) IS
    'Locks the live contact an id leads to (following merges) and returns it; 42704 if unknown, 22004 for NULL';

CREATE FUNCTION cdp.update_contact(id bigint, given_name text DEFAULT NULL,
                                   family_name text DEFAULT NULL, is_vendor boolean DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    live bigint := cdp_internal.lock_contact(id, true);
BEGIN
    UPDATE cdp.contacts c
       SET given_name = CASE WHEN update_contact.given_name IS NULL THEN c.given_name
                             ELSE nullif(btrim(update_contact.given_name, E' \t\r\n\f'), '') END,
           family_name = CASE WHEN update_contact.family_name IS NULL THEN c.family_name
                              ELSE nullif(btrim(update_contact.family_name, E' \t\r\n\f'), '') END,
           is_vendor = coalesce(update_contact.is_vendor, c.is_vendor),
           updated_at = now()
     WHERE c.id = live;
    PERFORM cdp_internal.refresh_contact_type(live);
END
$$;
COMMENT ON FUNCTION cdp.update_contact(bigint, text, text, boolean) IS
    'Set a contact''s own fields (NULL leaves a field as it is, names are trimmed and a blank name clears it; a merged id leads to the survivor); the type follows';

-- Locks in resolve's order, identifier values first and then contacts, so
-- that a resolve of one of the person's values waits for the erasure and
-- then meets the suppression (and never a half-erased person).
CREATE FUNCTION cdp.forget_contact(id bigint) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    live bigint;
    person bigint[];
    member bigint;
    kinds text[];
    vals text[];
BEGIN
    IF id IS NULL THEN
        RAISE EXCEPTION 'contact id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    live := cdp.current_contact(id);
    IF live IS NULL THEN
        RAISE EXCEPTION 'contact % does not exist', id USING ERRCODE = 'undefined_object';
    END IF;
    -- the values the person holds now; more may come before the contact lock
    person := ARRAY(SELECT cdp_internal.contact_family(live));
    PERFORM cdp_internal.lock_identifier_values(coalesce(array_agg(i.kind), '{}'), coalesce(array_agg(i.value), '{}'))
       FROM cdp.identifiers i
      WHERE i.contact_id = ANY (person);
    -- the live contact, then its tombstones: nobody changes a tombstone
    -- without holding the live contact, so this order cannot deadlock
    live := cdp_internal.lock_contact(id, true);
    person := ARRAY(SELECT f FROM cdp_internal.contact_family(live) f ORDER BY f);
    PERFORM 1 FROM cdp.contacts c WHERE c.id = ANY (person) AND c.id <> live ORDER BY c.id FOR UPDATE;
    -- values attached before we held the contact (already held ones are free)
    PERFORM cdp_internal.lock_identifier_values(coalesce(array_agg(i.kind), '{}'), coalesce(array_agg(i.value), '{}'))
       FROM cdp.identifiers i WHERE i.contact_id = ANY (person);

    PERFORM cdp_internal.ensure_salt();
    -- hashed here, not inside a query over the identifiers: on Citus that
    -- query runs on the workers, where the hash cannot read the salt
    SELECT coalesce(array_agg(i.kind), '{}'), coalesce(array_agg(i.value), '{}') INTO kinds, vals
      FROM cdp.identifiers i WHERE i.contact_id = ANY (person);
    INSERT INTO cdp.suppressions (kind, value_hash)
    SELECT v.kind, cdp_internal.identifier_hash(v.kind, v.value)
      FROM unnest(kinds, vals) AS v(kind, value)
    ON CONFLICT DO NOTHING;

    DELETE FROM cdp.identity_conflicts ic
     WHERE ic.contact_id = ANY (person) OR ic.other_contact_id = ANY (person)
        OR (ic.kind, ic.value) IN (SELECT * FROM unnest(kinds, vals));
    PERFORM cdp_internal.unindex_identifiers(person);
    DELETE FROM cdp.identifiers i WHERE i.contact_id = ANY (person);
    FOREACH member IN ARRAY person LOOP
        PERFORM cdp_internal.model_forget(member);
    END LOOP;
    DELETE FROM cdp.merges m WHERE m.survivor_id = ANY (person) OR m.absorbed_id = ANY (person);
    DELETE FROM cdp.merge_blocks b WHERE b.contact_a = ANY (person) OR b.contact_b = ANY (person);
    UPDATE cdp.contacts c SET merged_into = NULL WHERE c.id = ANY (person);
    IF cdp_internal.citus_mode() THEN
        -- on Citus the trigger that does this on one node runs on the shards
        PERFORM cdp_internal.leave_segments(person);
    END IF;
    DELETE FROM cdp.contacts c WHERE c.id = ANY (person);
    -- last: the deletions above wrote the values they removed to the change feed
    PERFORM cdp_internal.forget_changes(person, live);
END
$$;
COMMENT ON FUNCTION cdp.forget_contact(bigint) IS
    'Erase a person everywhere; only salted hashes of their identifiers remain, so resolving them again is refused';

-- The contacts cleanup_ghosts may delete: live anonymous visitors (no name,
-- not a vendor, no identifier but anonymous and uuid ones) not seen since
-- the cutoff, in no merge, merge block or tombstone chain.  Among candidates
-- (NULL: all).
CREATE FUNCTION cdp_internal.deletable_ghosts(cutoff timestamptz, candidates bigint[] DEFAULT NULL)
RETURNS SETOF bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- on Citus a contact's tombstones are on other shards: read them first
    targets bigint[] := CASE WHEN cdp_internal.citus_mode()
                             THEN ARRAY(SELECT DISTINCT t.merged_into FROM cdp.contacts t WHERE t.merged_into IS NOT NULL)
                        END;
BEGIN
    RETURN QUERY
    SELECT c.id
      FROM cdp.contacts c
     WHERE (candidates IS NULL OR c.id = ANY (candidates))
       AND c.type = 'ghost' AND c.merged_into IS NULL AND NOT c.is_vendor
       AND coalesce(c.given_name, '') = '' AND coalesce(c.family_name, '') = ''
       AND coalesce(c.last_seen_at, c.created_at) < cutoff
       AND NOT EXISTS (SELECT 1 FROM cdp.identifiers i JOIN cdp.identifier_kinds k USING (kind)
                        WHERE i.contact_id = c.id AND k.normalizer <> 'anonymous')
       AND CASE WHEN targets IS NULL THEN NOT EXISTS (SELECT 1 FROM cdp.contacts t WHERE t.merged_into = c.id)
                ELSE NOT c.id = ANY (targets) END
       AND NOT EXISTS (SELECT 1 FROM cdp.merges m WHERE c.id IN (m.survivor_id, m.absorbed_id))
       AND NOT EXISTS (SELECT 1 FROM cdp.merge_blocks b WHERE c.id IN (b.contact_a, b.contact_b))
     ORDER BY c.id;
END
$$;

-- A ghost that a concurrent write (a resolve touching it, a set_profile, a
-- merge) holds is skipped, and the candidates locked are checked again with
-- what committed since the scan: a ghost seen again, named or merged in the
-- meantime stays.
CREATE FUNCTION cdp.cleanup_ghosts(inactive_for interval) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cutoff timestamptz;
    candidates bigint[];
    ghosts bigint[];
    ghost bigint;
BEGIN
    PERFORM cdp_internal.not_null(inactive_for, 'inactive_for');
    PERFORM cdp.begin_write();  -- the deletes are captured on Citus's workers (citus.c)
    IF inactive_for < interval '0' THEN
        RAISE EXCEPTION 'inactive_for must be a non-negative interval'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    cutoff := now() - inactive_for;
    candidates := ARRAY(SELECT cdp_internal.deletable_ghosts(cutoff));
    IF cardinality(candidates) = 0 THEN
        RETURN 0;
    END IF;
    IF cdp_internal.citus_mode() THEN
        -- Citus locks the rows of one shard per statement: one by one, in order
        ghosts := '{}';
        FOREACH ghost IN ARRAY ARRAY(SELECT x FROM unnest(candidates) x ORDER BY x) LOOP
            SELECT c.id INTO ghost FROM cdp.contacts c WHERE c.id = ghost FOR UPDATE SKIP LOCKED;
            IF FOUND THEN
                ghosts := ghosts || ghost;
            END IF;
        END LOOP;
        candidates := ghosts;
    ELSE
        candidates := ARRAY(SELECT c.id FROM cdp.contacts c WHERE c.id = ANY (candidates)
                             ORDER BY c.id FOR UPDATE SKIP LOCKED);
    END IF;
    ghosts := ARRAY(SELECT cdp_internal.deletable_ghosts(cutoff, candidates));
    IF cardinality(ghosts) = 0 THEN
        RETURN 0;
    END IF;
    DELETE FROM cdp.identity_conflicts ic
     WHERE ic.contact_id = ANY (ghosts) OR ic.other_contact_id = ANY (ghosts);
    PERFORM cdp_internal.unindex_identifiers(ghosts);
    DELETE FROM cdp.identifiers i WHERE i.contact_id = ANY (ghosts);
    FOREACH ghost IN ARRAY ghosts LOOP
        PERFORM cdp_internal.model_forget(ghost);
    END LOOP;
    IF cdp_internal.citus_mode() THEN
        PERFORM cdp_internal.leave_segments(ghosts);
    END IF;
    DELETE FROM cdp.contacts c WHERE c.id = ANY (ghosts);
    RETURN cardinality(ghosts);
END
$$;
COMMENT ON FUNCTION cdp.cleanup_ghosts(interval) IS
    'Delete anonymous visitors (no name, not a vendor, only anonymous and uuid identifiers) not seen for inactive_for; returns how many';

CREATE FUNCTION cdp.resolve_all(query text)
RETURNS TABLE (record_id text, contact_id bigint)
AS 'MODULE_PATHNAME', 'cdp_resolve_all'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION cdp.resolve_all(text) IS
    'Bulk resolution: query returns (record_id, kind, value[, source, region]); union-find in C under the merge rules of resolve';
