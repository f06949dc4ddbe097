-- distribute.sql
--   cdp on a Citus cluster: cdp.distribute turns cdp's tables into Citus
--   tables, and the pieces the coordinator and the workers use afterwards
--   (citus.c).  README "Scaling out on Citus" says what differs from one node.

CREATE FUNCTION cdp_internal.citus_mode() RETURNS boolean
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'cdp_citus_mode_sql';
COMMENT ON FUNCTION cdp_internal.citus_mode() IS
    'Whether cdp is distributed on Citus (cdp.distribute has run): the paths that work another way there ask this';

CREATE FUNCTION cdp_internal.citus_on_worker() RETURNS boolean
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'cdp_citus_on_worker_sql';
COMMENT ON FUNCTION cdp_internal.citus_on_worker() IS
    'Whether this is a Citus worker of a distributed cdp: triggers whose work the coordinator does return early there';

CREATE FUNCTION cdp_internal.origin_txid() RETURNS xid8
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'cdp_citus_origin_txid';
COMMENT ON FUNCTION cdp_internal.origin_txid() IS
    'cdp.changes.txid on Citus: the coordinator''s transaction, on the coordinator and (sent by cdp''s functions) on the workers';

CREATE FUNCTION cdp_internal.wait_for_commits() RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'cdp_citus_wait_for_commits';
COMMENT ON FUNCTION cdp_internal.wait_for_commits() IS
    'On the Citus coordinator: waits until every transaction committed here has committed on the workers too (consume and refresh call it after taking their snapshot)';

CREATE FUNCTION cdp_internal.citus_moving(on_ boolean) RETURNS void
LANGUAGE c VOLATILE STRICT
AS 'MODULE_PATHNAME', 'cdp_citus_set_moving';
COMMENT ON FUNCTION cdp_internal.citus_moving(boolean) IS
    'On Citus: tells the workers'' change capture that the rows written next are moved by a merge (citus.c)';

CREATE FUNCTION cdp.begin_write() RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'cdp_citus_begin_write';
COMMENT ON FUNCTION cdp.begin_write() IS
    'On Citus: prepares the transaction for direct INSERT, UPDATE or DELETE of cdp''s distributed tables, which cdp''s own functions do themselves; does nothing on one node';

-- The coordinator's commit-time work on Citus (citus.c): a local table whose
-- deferred trigger runs the immediate segment pass when the transaction
-- commits; each row is deleted by the trigger it fired.
CREATE TABLE cdp_internal.citus_commit_work (
    queued_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE cdp_internal.citus_commit_work IS
    'On Citus, the coordinator''s queue of commit-time work: one row per writing transaction, removed when it runs (empty between transactions)';
COMMENT ON COLUMN cdp_internal.citus_commit_work.queued_at IS 'When the transaction first wrote';
SELECT pg_catalog.pg_extension_config_dump('cdp_internal.citus_commit_work', '');
CREATE CONSTRAINT TRIGGER citus_commit_work AFTER INSERT ON cdp_internal.citus_commit_work
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION cdp_internal.segment_pass_trigger();

-- On Citus identifiers live with their contact, so (kind, value) can no
-- longer be unique in cdp.identifiers itself: this table, distributed by
-- value, holds that uniqueness and is what resolve looks values up in.
CREATE TABLE cdp.identifier_index (
    value         text NOT NULL,
    kind          text NOT NULL,
    contact_id    bigint NOT NULL,
    identifier_id bigint NOT NULL,
    PRIMARY KEY (value, kind)
);
COMMENT ON TABLE cdp.identifier_index IS
    'On Citus: which contact holds each (kind, value), distributed by value so that a lookup is one shard; empty on one node, where cdp.identifiers'' own unique key does this';
COMMENT ON COLUMN cdp.identifier_index.value IS 'The normalised value (cdp.identifiers.value)';
COMMENT ON COLUMN cdp.identifier_index.kind IS 'The identifier kind';
COMMENT ON COLUMN cdp.identifier_index.contact_id IS 'The contact that holds it';
COMMENT ON COLUMN cdp.identifier_index.identifier_id IS 'Its cdp.identifiers row';
SELECT pg_catalog.pg_extension_config_dump('cdp.identifier_index', '');

-- The tables of each kind on Citus.  Catalogs and what is written rarely and
-- read by every node are reference tables; whatever is about one contact is
-- distributed by the contact id, co-located with cdp.contacts, so that a
-- segment's joins run inside each shard.
CREATE FUNCTION cdp_internal.citus_reference_tables() RETURNS regclass[]
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY['cdp.identifier_kinds', 'cdp_internal.builtin_kind_settings', 'cdp_internal.secrets',
                 'cdp.suppressions', 'cdp.profiles', 'cdp.attributes', 'cdp_internal.data_tables',
                 'cdp.trait_mappings', 'cdp.document_templates', 'cdp.taxonomies', 'cdp.terms', 'cdp.tags',
                 'cdp.organizations', 'cdp.organization_tags', 'cdp.organization_terms',
                 'cdp.segments', 'cdp_internal.segment_references', 'cdp_internal.segment_state',
                 'cdp.views', 'cdp_internal.view_references', 'cdp.change_consumers',
                 'cdp_internal.txid_origin', 'cdp.merges', 'cdp.merge_blocks', 'cdp.identity_conflicts']::regclass[]
$$;
COMMENT ON FUNCTION cdp_internal.citus_reference_tables() IS
    'The tables cdp.distribute makes Citus reference tables (besides the organization profiles'' tables)';

CREATE FUNCTION cdp_internal.citus_contact_tables() RETURNS regclass[]
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY['cdp.identifiers', 'cdp.contact_tags', 'cdp.contact_terms', 'cdp.organization_members',
                 'cdp.events', 'cdp.segment_members', 'cdp.segment_changes', 'cdp.changes']::regclass[]
$$;
COMMENT ON FUNCTION cdp_internal.citus_contact_tables() IS
    'The tables cdp.distribute distributes by contact_id, co-located with cdp.contacts (besides the contact profiles'' tables)';

-- A table created after cdp.distribute (define_profile,
-- define_document_template) becomes a Citus table of its kind before its
-- catalog row names it: a reference table's row is replayed on every node.
CREATE FUNCTION cdp_internal.citus_distribute_data_table(tbl regclass, key_column text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
    PERFORM set_config('citus.enable_local_reference_table_foreign_keys', 'off', true);
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    PERFORM set_config('client_min_messages', 'warning', true);
    IF key_column = 'contact_id' THEN
        PERFORM create_distributed_table(tbl, 'contact_id', colocate_with => 'cdp.contacts');
    ELSIF key_column = 'document_id' THEN
        PERFORM cdp_internal.citus_colocate_document_table(tbl, '{}');
        PERFORM create_distributed_table(tbl, 'contact_id', colocate_with => 'cdp.contacts');
    ELSE
        PERFORM create_reference_table(tbl);
    END IF;
END
$$;
COMMENT ON FUNCTION cdp_internal.citus_distribute_data_table(regclass, text) IS
    'On Citus: distributes a generated cdp_data table by its key (contacts'' and documents'' with their owner, organizations'' as a reference table)';

-- Documents live with their contact on Citus (an organization's with
-- contact 0): the tables keyed by document_id get the document's contact_id
-- too, in their keys and in the key they reference, so that they are
-- distributed and joined on it.  Their change capture then reads the
-- contact from the row, on the shard, instead of looking the document up.
CREATE FUNCTION cdp_internal.document_contact(document bigint) RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT d.contact_id FROM cdp.documents d WHERE d.id = document);
END
$$;
COMMENT ON FUNCTION cdp_internal.document_contact(bigint) IS
    'On Citus: the contact a document''s rows are stored with (its upsert statement writes it)';

CREATE FUNCTION cdp_internal.citus_colocate_document_table(tbl regclass, extra_key text[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k record;
    args text[];
BEGIN
    EXECUTE format('ALTER TABLE %s ADD COLUMN contact_id bigint', tbl);
    EXECUTE format('UPDATE %s _x SET contact_id = _d.contact_id FROM cdp.documents _d WHERE _d.id = _x.document_id', tbl);
    EXECUTE format('ALTER TABLE %s ALTER contact_id SET NOT NULL', tbl);
    FOR k IN SELECT c.conname FROM pg_constraint c WHERE c.conrelid = tbl AND c.contype IN ('p', 'f')
                AND c.confrelid IN (0, 'cdp.documents'::regclass) LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', tbl, k.conname);
    END LOOP;
    EXECUTE format('ALTER TABLE %s ADD PRIMARY KEY (%s)', tbl,
                   array_to_string(ARRAY['contact_id', 'document_id'] || extra_key, ', '));
    EXECUTE format('ALTER TABLE %s ADD FOREIGN KEY (contact_id, document_id) REFERENCES cdp.documents (contact_id, id)'
                   ' ON DELETE CASCADE', tbl);
    SELECT string_to_array(encode(t.tgargs, 'escape'), '\000') INTO args
      FROM pg_trigger t WHERE t.tgrelid = tbl AND t.tgname = 'cdp_capture_changes';
    IF args IS NOT NULL THEN
        PERFORM cdp_internal.capture_changes(tbl, args[1], args[2], 'contact_id', args[4], args[5], args[6], args[7]);
    END IF;
END
$$;
COMMENT ON FUNCTION cdp_internal.citus_colocate_document_table(regclass, text[]) IS
    'On Citus: gives a table keyed by document_id the document''s contact_id, in its keys, for co-location with the documents';

CREATE FUNCTION cdp_internal.citus_colocate_documents()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d record;
BEGIN
    UPDATE cdp.documents x SET contact_id = 0 WHERE x.contact_id IS NULL;
    ALTER TABLE cdp.document_tags DROP CONSTRAINT document_tags_document_id_fkey;
    ALTER TABLE cdp.document_terms DROP CONSTRAINT document_terms_document_id_fkey;
    FOR d IN SELECT dt.data_table FROM cdp_internal.data_tables dt WHERE dt.key_column = 'document_id' LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', d.data_table,
                       (SELECT c.conname FROM pg_constraint c
                         WHERE c.conrelid = d.data_table AND c.confrelid = 'cdp.documents'::regclass));
    END LOOP;
    ALTER TABLE cdp.documents DROP CONSTRAINT documents_contact_id_fkey, DROP CONSTRAINT documents_parent_id_fkey,
                              DROP CONSTRAINT documents_pkey, ALTER contact_id SET NOT NULL,
                              ADD PRIMARY KEY (contact_id, id);
    PERFORM cdp_internal.citus_colocate_document_table('cdp.document_tags', ARRAY['tag_id']);
    PERFORM cdp_internal.citus_colocate_document_table('cdp.document_terms', ARRAY['term_id']);
    -- The workers' copies of the extension's own tables were made by CREATE
    -- EXTENSION, and Citus distributes a table into them: they need the new
    -- column too.  (Separate transactions on the workers: IF NOT EXISTS lets
    -- a distribute that failed after this run again.)
    PERFORM run_command_on_workers(
        'ALTER TABLE cdp.document_tags ADD COLUMN IF NOT EXISTS contact_id bigint;'
        ' ALTER TABLE cdp.document_terms ADD COLUMN IF NOT EXISTS contact_id bigint;'
        ' ALTER TABLE cdp.documents DROP CONSTRAINT IF EXISTS documents_contact_key;'
        ' ALTER TABLE cdp.documents ADD CONSTRAINT documents_contact_key UNIQUE (contact_id, id)');
    FOR d IN SELECT dt.data_table FROM cdp_internal.data_tables dt WHERE dt.key_column = 'document_id' LOOP
        PERFORM cdp_internal.citus_colocate_document_table(d.data_table, '{}');
    END LOOP;
END
$$;
COMMENT ON FUNCTION cdp_internal.citus_colocate_documents() IS
    'On Citus: prepares documents and the tables keyed by document_id to be distributed by contact_id';

CREATE FUNCTION cdp.distribute(shard_count integer DEFAULT 32)
RETURNS TABLE (table_name regclass, citus_table_type text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t regclass;
    d record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RAISE EXCEPTION 'cdp.distribute needs Citus, which is not installed in this database'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Add citus to shared_preload_libraries, CREATE EXTENSION citus before cdp, and add the workers (README "Scaling out on Citus").';
    END IF;
    IF cdp_internal.citus_mode() THEN
        RAISE EXCEPTION 'cdp is already distributed'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'cdp.distribute runs once; Citus''s undistribute_table does not give cdp back its one-node schema.';
    END IF;
    IF shard_count IS NULL OR shard_count < 1 OR shard_count > 64000 THEN
        RAISE EXCEPTION 'shard_count must be between 1 and 64000, not %', coalesce(shard_count::text, 'null')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_dist_node WHERE groupid <> 0 AND noderole = 'primary' AND isactive) THEN
        RAISE EXCEPTION 'cdp.distribute needs at least one Citus worker'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Add the workers with citus_add_node first.';
    END IF;

    -- Triggers run on the shards (citus.c keeps them to co-located writes);
    -- catalogs become reference tables while tables that point at them are
    -- still local; one transaction mixes reference-table and shard DDL.
    PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
    PERFORM set_config('citus.enable_local_reference_table_foreign_keys', 'off', true);
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    PERFORM set_config('client_min_messages', 'warning', true);
    -- copying the rows into the shards is not a change (changes.c)
    PERFORM set_config('cdp_internal.distributing', 'on', true);

    -- What Citus cannot keep: foreign keys between contacts of different
    -- shards (the merge code keeps them), unique keys without the
    -- distribution column, and a NULL contact on a change.
    ALTER TABLE cdp.contacts DROP CONSTRAINT contacts_merged_into_fkey;
    ALTER TABLE cdp.merges DROP CONSTRAINT merges_survivor_id_fkey, DROP CONSTRAINT merges_absorbed_id_fkey;
    ALTER TABLE cdp.merge_blocks DROP CONSTRAINT merge_blocks_contact_a_fkey, DROP CONSTRAINT merge_blocks_contact_b_fkey;
    INSERT INTO cdp.identifier_index (value, kind, contact_id, identifier_id)
    SELECT i.value, i.kind, i.contact_id, i.id FROM cdp.identifiers i;
    ALTER TABLE cdp.identifiers DROP CONSTRAINT identifiers_kind_value_key,
                                DROP CONSTRAINT identifiers_pkey, ADD PRIMARY KEY (contact_id, id);
    CREATE INDEX identifiers_kind_value_idx ON cdp.identifiers (kind, value);
    ALTER TABLE cdp.events DROP CONSTRAINT events_pkey, ADD PRIMARY KEY (contact_id, id);
    UPDATE cdp.changes SET contact_id = 0 WHERE contact_id IS NULL;
    ALTER TABLE cdp.changes ALTER contact_id SET NOT NULL,
                            DROP CONSTRAINT changes_pkey, ADD PRIMARY KEY (contact_id, id);
    PERFORM cdp_internal.citus_colocate_documents();
    -- a feed restored from another cluster is Citus's backup story, not cdp's
    DROP TRIGGER txid_origin ON cdp.changes;
    DROP TRIGGER txid_origin ON cdp.change_consumers;

    FOREACH t IN ARRAY cdp_internal.citus_reference_tables() LOOP
        PERFORM create_reference_table(t);
    END LOOP;
    FOR d IN SELECT dt.data_table FROM cdp_internal.data_tables dt WHERE dt.key_column = 'organization_id' LOOP
        PERFORM create_reference_table(d.data_table);
    END LOOP;

    PERFORM create_distributed_table('cdp.contacts', 'id', shard_count => shard_count);
    FOREACH t IN ARRAY cdp_internal.citus_contact_tables() LOOP
        PERFORM create_distributed_table(t, 'contact_id', colocate_with => 'cdp.contacts');
    END LOOP;
    FOR d IN SELECT dt.data_table FROM cdp_internal.data_tables dt WHERE dt.key_column = 'contact_id' LOOP
        PERFORM create_distributed_table(d.data_table, 'contact_id', colocate_with => 'cdp.contacts');
    END LOOP;
    PERFORM create_distributed_table('cdp.identifier_index', 'value', shard_count => shard_count, colocate_with => 'none');
    PERFORM create_distributed_table('cdp.ingested_messages', 'message_id', colocate_with => 'cdp.identifier_index');
    PERFORM create_distributed_table('cdp.documents', 'contact_id', colocate_with => 'cdp.contacts');
    PERFORM create_distributed_table('cdp.document_tags', 'contact_id', colocate_with => 'cdp.contacts');
    PERFORM create_distributed_table('cdp.document_terms', 'contact_id', colocate_with => 'cdp.contacts');
    FOR d IN SELECT dt.data_table FROM cdp_internal.data_tables dt WHERE dt.key_column = 'document_id' LOOP
        PERFORM create_distributed_table(d.data_table, 'contact_id', colocate_with => 'cdp.contacts');
    END LOOP;

    -- the generated upserts, for Citus (catalog.sql rebuild_data_table)
    PERFORM cdp_internal.rebuild_data_table(dt.owner_type, dt.slug, dt.data_table, dt.key_column)
       FROM cdp_internal.data_tables dt;

    -- the rows copied into the shards leave the coordinator's own tables
    FOR t IN SELECT p.logicalrelid FROM pg_dist_partition p
              WHERE p.partmethod = 'h' AND p.logicalrelid::oid IN (SELECT c.oid FROM pg_class c
                                            JOIN pg_namespace n ON n.oid = c.relnamespace
                                            WHERE n.nspname IN ('cdp', 'cdp_internal', 'cdp_data')) LOOP
        PERFORM truncate_local_data_after_distributing_table(t);
    END LOOP;

    -- A row inserted on a worker (a change captured there, an INSERT ...
    -- SELECT Citus pushes down) takes its id from the worker's own copy of
    -- the sequence: start each node's ids in a range of its own.
    PERFORM run_command_on_workers(format(
        $c$SELECT pg_catalog.setval(s, (SELECT groupid::bigint << 48 FROM pg_catalog.pg_dist_local_group), false)
             FROM unnest(%L::regclass[]) s$c$,
        ARRAY(SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind = 'S' AND n.nspname IN ('cdp', 'cdp_internal'))));

    -- cdp's transactions write reference tables that distributed tables
    -- point to (organizations, segments) after reading many shards, which
    -- Citus allows over one connection per worker only
    EXECUTE format('ALTER DATABASE %I SET citus.multi_shard_modify_mode = sequential', current_database());

    RETURN QUERY
    SELECT p.logicalrelid::regclass, CASE p.partmethod WHEN 'h' THEN 'distributed' ELSE 'reference' END
      FROM pg_dist_partition p
      JOIN pg_class c ON c.oid = p.logicalrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('cdp', 'cdp_internal', 'cdp_data')
     ORDER BY 2, p.logicalrelid::regclass::text;
END
$$;
COMMENT ON FUNCTION cdp.distribute(integer) IS
    'On a Citus coordinator: makes cdp''s catalogs reference tables and distributes contacts and everything about a contact by contact id (shard_count shards); once, not undone';
