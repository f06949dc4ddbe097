-- 0.2.0-after.sql
--   The last part of the 0.1.0 -> 0.2.0 upgrade, once every function exists:
--   new triggers of the identifier, identity and model sources, and what
--   tables defined under 0.1.0 gain.

CREATE TRIGGER identifier_kinds_keep_builtin_settings AFTER UPDATE ON cdp.identifier_kinds
    FOR EACH ROW WHEN (pg_trigger_depth() < 1)
    EXECUTE FUNCTION cdp_internal.keep_builtin_kind_settings();
CREATE TRIGGER builtin_kind_settings_apply AFTER INSERT ON cdp_internal.builtin_kind_settings
    FOR EACH ROW WHEN (pg_trigger_depth() < 1)
    EXECUTE FUNCTION cdp_internal.apply_builtin_kind_settings();
CREATE TRIGGER identifier_kinds_normalize_blocked
    BEFORE INSERT OR UPDATE ON cdp.identifier_kinds
    FOR EACH ROW EXECUTE FUNCTION cdp_internal.normalize_blocked_values();

-- 0.2.0 indexes each comparable attribute when a profile or document template
-- is defined; tables defined under 0.1.0 get the same indexes here.  A column
-- that already leads an index of the same method (one an administrator made
-- by hand) is left as it is rather than indexed twice.
DO $$
DECLARE
    d record;
    a cdp.attributes;
BEGIN
    FOR d IN SELECT 'profile' AS owner_type, p.slug, p.data_table FROM cdp.profiles p
             UNION ALL
             SELECT 'document_template', t.slug, t.data_table FROM cdp.document_templates t
             ORDER BY 1, 2 LOOP
        FOR a IN SELECT * FROM cdp.attributes x
                 WHERE x.owner_type = d.owner_type AND x.owner_slug = d.slug ORDER BY x.position LOOP
            IF NOT EXISTS (SELECT 1
                             FROM pg_catalog.pg_index i
                             JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
                             JOIN pg_catalog.pg_am m ON m.oid = c.relam
                             JOIN pg_catalog.pg_attribute att ON att.attrelid = i.indrelid AND att.attnum = i.indkey[0]
                            WHERE i.indrelid = d.data_table AND att.attname = a.slug
                              AND m.amname = CASE WHEN a.is_array THEN 'gin' ELSE 'btree' END) THEN
                PERFORM cdp_internal.create_attribute_index(d.data_table, a);
            END IF;
        END LOOP;
    END LOOP;
END
$$;

-- 0.2.0 reads values strictly (JSON booleans and numbers, ISO 8601 dates) and
-- aliases its generated statements with names no attribute can take: the
-- upsert statements stored under 0.1.0 are generated again.
SELECT cdp_internal.rebuild_data_table(d.owner_type, d.slug, d.data_table, d.key_column)
  FROM cdp_internal.data_tables d ORDER BY d.owner_type, d.slug;
