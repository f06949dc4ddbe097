-- 0.3.0-after.sql
--   The last part of the 0.2.0 -> 0.3.0 upgrade, once every function exists:
--   what tables defined under 0.2.0 gain.

-- An email attribute stores the address to send to (cdp.email_address) where
-- 0.2.0 stored the matching key (cdp.email).  What was written is gone, so
-- stored keys are kept as they are (they pass cdp.email_address unchanged),
-- except where the attribute has options: there the value is one of the
-- options, which is found again by its key.  The options and elements
-- constraints hold typed constants, so they are made again for the new type;
-- the other validations read the column as text.
DO $$
DECLARE
    r record;
    a cdp.attributes;
    tab regclass;
    con text;
    typed text[];
    pick text;
    path text := current_setting('search_path');
BEGIN
    -- as when the constraints were made: operators of pg_catalog only
    PERFORM set_config('search_path', 'pg_catalog, pg_temp', true);
    FOR r IN SELECT x AS a, coalesce(p.data_table, t.data_table) AS tab
                    FROM cdp.attributes x
                    LEFT JOIN cdp.profiles p ON x.owner_type = 'profile' AND p.slug = x.owner_slug
                    LEFT JOIN cdp.document_templates t ON x.owner_type = 'document_template' AND t.slug = x.owner_slug
                   WHERE x.data_type = 'email'
                   ORDER BY x.owner_type, x.owner_slug, x.position LOOP
        a := r.a;
        tab := r.tab;
        typed := CASE WHEN a.is_array THEN ARRAY['elements'] ELSE '{}' END
                 || CASE WHEN a.validations ? 'options' THEN ARRAY['options'] ELSE '{}' END;
        FOREACH con IN ARRAY typed LOOP
            EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', tab, cdp_internal.constraint_name(a.slug, con));
        END LOOP;
        EXECUTE format('ALTER TABLE %s ALTER COLUMN %I TYPE %s USING %I::%s', tab, a.slug,
                       cdp_internal.attribute_sql_type('email', a.is_array), a.slug,
                       CASE WHEN a.is_array THEN 'text[]' ELSE 'text' END);
        IF a.validations ? 'options' THEN
            -- the option whose matching key is the stored key _k
            pick := format('coalesce((SELECT _o FROM jsonb_array_elements_text(%L::jsonb) _o
                                       WHERE cdp.email(_o) OPERATOR(cdp.=) cdp.email(_k) LIMIT 1), _k)::cdp.email_address',
                           a.validations -> 'options');
            EXECUTE CASE WHEN a.is_array
                         THEN format('UPDATE %s SET %I = ARRAY(SELECT %s FROM unnest(%I::text[]) WITH ORDINALITY _e(_k, _n) ORDER BY _n)
                                       WHERE %I IS NOT NULL', tab, a.slug, pick, a.slug, a.slug)
                         ELSE format('UPDATE %s SET %I = (SELECT %s FROM (SELECT %I::text) _e(_k)) WHERE %I IS NOT NULL',
                                     tab, a.slug, pick, a.slug, a.slug) END;
        END IF;
        FOREACH con IN ARRAY typed LOOP
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (%s)', tab, cdp_internal.constraint_name(a.slug, con),
                           cdp_internal.validation_check_sql(a, con, a.validations -> con));
        END LOOP;
    END LOOP;
    PERFORM set_config('search_path', path, true);
END
$$;

-- The stored upsert statements convert email values to the new type.
SELECT cdp_internal.rebuild_data_table(d.owner_type, d.slug, d.data_table, d.key_column)
  FROM cdp_internal.data_tables d ORDER BY d.owner_type, d.slug;

-- Blocked values written under 0.1.0 were kept as written, so that
-- 'Test@Example.com ' never matched; 0.2.0 normalises them when written but
-- left the old ones.  Each is normalised now.  One that its kind's normaliser
-- refuses can never equal a stored identifier, so it goes, with a WARNING.
DO $$
DECLARE
    k record;
    v text;
    norm text;
    kept text[];
BEGIN
    FOR k IN SELECT kind, normalizer, blocked_values FROM cdp.identifier_kinds ORDER BY kind LOOP
        kept := '{}';
        FOREACH v IN ARRAY k.blocked_values LOOP
            BEGIN
                norm := cdp_internal.normalize_value(k.normalizer, v, NULL);
                IF NOT norm = ANY (kept) THEN
                    kept := kept || norm;
                END IF;
            EXCEPTION WHEN invalid_parameter_value THEN
                RAISE WARNING 'blocked value % of identifier kind "%" is dropped: the % normaliser refuses it',
                              quote_literal(v), k.kind, k.normalizer;
            END;
        END LOOP;
        IF kept IS DISTINCT FROM k.blocked_values THEN
            UPDATE cdp.identifier_kinds SET blocked_values = kept WHERE kind = k.kind;
        END IF;
    END LOOP;
END
$$;
