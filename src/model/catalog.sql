-- catalog.sql
--   The catalog of profiles, document templates and their attributes, and the
--   generator that turns a list of typed attributes into a typed cdp_data table.

CREATE TABLE cdp.profiles (
    slug         text PRIMARY KEY
                 CONSTRAINT profiles_slug_format CHECK (slug ~ '^[a-z][a-z0-9_]{0,54}$'),
    title        text NOT NULL,
    object_type  text NOT NULL
                 CONSTRAINT profiles_object_type_known CHECK (object_type IN ('contact', 'organization')),
    description  text,
    data_table   regclass NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE cdp.profiles IS
    'Profiles: named sets of typed attributes of contacts or organizations, each stored in its own cdp_data table';
COMMENT ON COLUMN cdp.profiles.data_table IS 'The generated table cdp_data.profile_<slug>';
COMMENT ON COLUMN cdp.profiles.slug IS 'Profile name, the argument of set_profile';
COMMENT ON COLUMN cdp.profiles.title IS 'Human-readable name';
COMMENT ON COLUMN cdp.profiles.object_type IS 'contact or organization: what the profile describes';
COMMENT ON COLUMN cdp.profiles.description IS 'Free text, or NULL';
COMMENT ON COLUMN cdp.profiles.created_at IS 'When the profile was defined';

CREATE TABLE cdp.document_templates (
    slug         text PRIMARY KEY
                 CONSTRAINT document_templates_slug_format CHECK (slug ~ '^[a-z][a-z0-9_]{0,53}$'),
    title        text NOT NULL,
    description  text,
    owner        text NOT NULL DEFAULT 'contact'
                 CONSTRAINT document_templates_owner_known CHECK (owner IN ('contact', 'organization')),
    data_table   regclass NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE cdp.document_templates IS
    'Document templates: typed attributes of a family of documents, stored in cdp_data.document_<slug>';
COMMENT ON COLUMN cdp.document_templates.owner IS
    'contact: every document belongs to a contact; organization: every document belongs to an organization';
COMMENT ON COLUMN cdp.document_templates.slug IS 'Template name';
COMMENT ON COLUMN cdp.document_templates.title IS 'Human-readable name';
COMMENT ON COLUMN cdp.document_templates.description IS 'Free text, or NULL';
COMMENT ON COLUMN cdp.document_templates.data_table IS 'The generated table cdp_data.document_<slug>';
COMMENT ON COLUMN cdp.document_templates.created_at IS 'When the template was defined';

CREATE TABLE cdp.attributes (
    owner_type   text NOT NULL
                 CONSTRAINT attributes_owner_type_known CHECK (owner_type IN ('profile', 'document_template')),
    owner_slug   text NOT NULL,
    slug         text NOT NULL
                 CONSTRAINT attributes_slug_format CHECK (slug ~ '^[a-z][a-z0-9_]{0,62}$'),
    title        text NOT NULL,
    data_type    text NOT NULL
                 CONSTRAINT attributes_data_type_known CHECK (data_type IN ('text', 'integer', 'number',
                     'boolean', 'date', 'datetime', 'time', 'email', 'phone', 'location', 'media', 'json')),
    is_array     boolean NOT NULL DEFAULT false,
    is_required  boolean NOT NULL DEFAULT false,
    validations  jsonb NOT NULL DEFAULT '{}',
    position     integer NOT NULL,
    PRIMARY KEY (owner_type, owner_slug, slug)
);
COMMENT ON TABLE cdp.attributes IS
    'Typed attributes of profiles and document templates; each is a column of the generated table';
COMMENT ON COLUMN cdp.attributes.validations IS
    'min, max, min_length, max_length, pattern, options, decimals; each is a named CHECK constraint';
COMMENT ON COLUMN cdp.attributes.owner_type IS 'profile or document_template';
COMMENT ON COLUMN cdp.attributes.owner_slug IS 'The slug of the profile or document template';
COMMENT ON COLUMN cdp.attributes.slug IS
    'Attribute name: the column of the generated table and the JSON key of values';
COMMENT ON COLUMN cdp.attributes.title IS
    'Human-readable name (also the column comment of the generated table)';
COMMENT ON COLUMN cdp.attributes.data_type IS
    'text, integer, number, boolean, date, datetime, time, email, phone, location, media or json';
COMMENT ON COLUMN cdp.attributes.is_array IS 'Whether the attribute holds an array of values';
COMMENT ON COLUMN cdp.attributes.is_required IS 'Whether the column is NOT NULL';
COMMENT ON COLUMN cdp.attributes.position IS
    'Order of the attribute (and of its column) in its profile or template';

-- What set_profile needs in one lookup: the table, its key, the upsert
-- statement generated from the catalog and what its error messages say
-- (rebuilt by every definition change, which takes a new generation).
CREATE SEQUENCE cdp_internal.data_tables_generation_seq;
CREATE TABLE cdp_internal.data_tables (
    owner_type       text NOT NULL,
    slug             text NOT NULL,
    data_table       regclass NOT NULL,
    key_column       text NOT NULL,
    attribute_slugs  text[] NOT NULL,
    upsert_sql       text NOT NULL,
    messages         jsonb NOT NULL,
    generation       bigint NOT NULL DEFAULT nextval('cdp_internal.data_tables_generation_seq'),
    PRIMARY KEY (owner_type, slug)
);
COMMENT ON TABLE cdp_internal.data_tables IS
    'Generated statements for the typed tables of profiles and document templates';
COMMENT ON COLUMN cdp_internal.data_tables.messages IS
    '{"label": .., "constraints": {name: {"attribute", "validation", "detail"}}}: what errors of the upsert say';
COMMENT ON COLUMN cdp_internal.data_tables.generation IS
    'New at every rebuild: set_profile keeps the statement per backend until it changes';
COMMENT ON COLUMN cdp_internal.data_tables.owner_type IS 'profile or document_template';
COMMENT ON COLUMN cdp_internal.data_tables.slug IS 'The slug of the profile or document template';
COMMENT ON COLUMN cdp_internal.data_tables.data_table IS 'The generated cdp_data table';
COMMENT ON COLUMN cdp_internal.data_tables.key_column IS
    'The generated table''s key column (contact_id, organization_id or document_id)';
COMMENT ON COLUMN cdp_internal.data_tables.attribute_slugs IS 'The attributes, in position order';
COMMENT ON COLUMN cdp_internal.data_tables.upsert_sql IS
    'The generated statement that writes a JSON object of values into the table';

SELECT pg_catalog.pg_extension_config_dump('cdp.profiles', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.document_templates', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.attributes', '');
SELECT pg_catalog.pg_extension_config_dump('cdp_internal.data_tables', '');
SELECT pg_catalog.pg_extension_config_dump('cdp_internal.data_tables_generation_seq', '');

-- A NULL where a name or id is required is a mistake, not "nothing": 22004
-- naming what was missing (rather than 'organization "<NULL>" does not exist').
CREATE FUNCTION cdp_internal.not_null(value anyelement, what text) RETURNS anyelement
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must not be null', what USING ERRCODE = '22004';
    END IF;
    RETURN value;
END
$$;
COMMENT ON FUNCTION cdp_internal.not_null(anyelement, text) IS 'The value; 22004 naming what when it is NULL';

-- Helpers that CHECK constraints of array attributes call (one value per element).
CREATE FUNCTION cdp_internal.array_min_length(elems text[]) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT min(char_length(v)) FROM unnest(elems) v);
COMMENT ON FUNCTION cdp_internal.array_min_length(text[]) IS 'Shortest element length (for array CHECK constraints)';

CREATE FUNCTION cdp_internal.array_max_length(elems text[]) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT max(char_length(v)) FROM unnest(elems) v);
COMMENT ON FUNCTION cdp_internal.array_max_length(text[]) IS 'Longest element length (for array CHECK constraints)';

CREATE FUNCTION cdp_internal.array_all_match(elems text[], pattern text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT coalesce(bool_and(v ~ pattern), true) FROM unnest(elems) v);
COMMENT ON FUNCTION cdp_internal.array_all_match(text[], text) IS 'Every element matches the pattern (for array CHECK constraints)';

CREATE FUNCTION cdp_internal.array_within_decimals(elems numeric[], decimals integer) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT coalesce(bool_and(round(v, decimals) = v), true) FROM unnest(elems) v);
COMMENT ON FUNCTION cdp_internal.array_within_decimals(numeric[], integer) IS
    'Every element has at most that many decimals (for array CHECK constraints)';

-- A location is a point (x = longitude, y = latitude).  Accepted JSON: a
-- GeoJSON Point, {"lat": .., "lon"|"lng": ..}, [lon, lat], or "(lon,lat)".
CREATE FUNCTION cdp_internal.to_location(value jsonb) RETURNS point
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    lon float8;
    lat float8;
BEGIN
    IF value IS NULL OR jsonb_typeof(value) = 'null' THEN
        RETURN NULL;
    ELSIF jsonb_typeof(value) = 'string' THEN
        RETURN (value #>> '{}')::point;
    ELSIF jsonb_typeof(value) = 'array' AND jsonb_array_length(value) = 2 THEN
        lon := (value ->> 0)::float8;
        lat := (value ->> 1)::float8;
    ELSIF jsonb_typeof(value) = 'object' AND value ->> 'type' = 'Point'
          AND jsonb_typeof(value -> 'coordinates') = 'array' THEN
        lon := (value -> 'coordinates' ->> 0)::float8;
        lat := (value -> 'coordinates' ->> 1)::float8;
    ELSIF jsonb_typeof(value) = 'object' AND value ? 'lat' THEN
        lat := (value ->> 'lat')::float8;
        lon := coalesce(value ->> 'lon', value ->> 'lng')::float8;
    ELSE
        RAISE EXCEPTION 'invalid location: %', value
            USING ERRCODE = '22P02',
                  DETAIL = 'A location is a GeoJSON Point, {"lat": .., "lon": ..}, [lon, lat] or "(lon,lat)".';
    END IF;
    IF lon IS NULL OR lat IS NULL OR lon NOT BETWEEN -180 AND 180 OR lat NOT BETWEEN -90 AND 90 THEN
        RAISE EXCEPTION 'invalid location: %', value
            USING ERRCODE = '22P02',
                  DETAIL = 'Longitude must lie in [-180, 180] and latitude in [-90, 90].';
    END IF;
    RETURN point(lon, lat);
END
$$;
COMMENT ON FUNCTION cdp_internal.to_location(jsonb) IS 'A JSON location as a point (longitude, latitude)';

CREATE FUNCTION cdp_internal.to_location_array(value jsonb) RETURNS point[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN jsonb_typeof(value) = 'array'
            THEN ARRAY(SELECT cdp_internal.to_location(e) FROM jsonb_array_elements(value) WITH ORDINALITY AS a(e, n) ORDER BY n)
            WHEN jsonb_typeof(value) = 'null' THEN NULL END;
COMMENT ON FUNCTION cdp_internal.to_location_array(jsonb) IS 'A JSON array of locations as point[]';

-- Raised from generated statements when a JSON value has the wrong JSON type.
CREATE FUNCTION cdp_internal.wrong_json_type(owner text, attribute text, value jsonb, expected text,
                                             type_of anyelement)
RETURNS anyelement
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'invalid value for attribute "%" of %: %', attribute, owner, value
        USING ERRCODE = '22P02', DETAIL = format('The attribute expects %s.', expected);
END
$$;
COMMENT ON FUNCTION cdp_internal.wrong_json_type(text, text, jsonb, text, anyelement) IS
    'Raises 22P02 naming the attribute whose JSON value has the wrong JSON type';

-- Values are read strictly and the same in every session: dates, datetimes
-- and times are ISO 8601 strings (the forms PostgreSQL reads the same under
-- every DateStyle), never special values such as now or yesterday.  Returns
-- the text to cast; raises 22007 with the expected form (exec_upsert adds the
-- attribute and the value).
CREATE FUNCTION cdp_internal.iso_text(value text, data_type text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    form text := CASE data_type
        WHEN 'date' THEN '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
        WHEN 'datetime' THEN '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$'
        WHEN 'time' THEN '^[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?$' END;
BEGIN
    IF value ~ form THEN
        RETURN value;
    END IF;
    RAISE EXCEPTION '%', CASE data_type
            WHEN 'date' THEN 'a date is an ISO 8601 string like "1990-12-31"'
            WHEN 'datetime' THEN 'a datetime is an ISO 8601 string like "1990-12-31T23:59:00Z" or "1990-12-31 23:59:00+02:00"'
            ELSE 'a time is an ISO 8601 string like "23:59" or "23:59:30"' END
        USING ERRCODE = '22007';
END
$$;
COMMENT ON FUNCTION cdp_internal.iso_text(text, text) IS
    'The text of an ISO 8601 date, datetime or time; 22007 naming the expected form otherwise';

-- One element of an array attribute, read by the rules of a single value:
-- the text to cast to the element type (NULL for JSON null, which the
-- elements CHECK refuses); 22P02 naming the element and the expected form.
CREATE FUNCTION cdp_internal.array_element_text(elem jsonb, n bigint, data_type text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    expected text := CASE WHEN data_type IN ('integer', 'number') THEN 'number'
                          WHEN data_type = 'boolean' THEN 'boolean' ELSE 'string' END;
BEGIN
    IF elem IS NULL OR jsonb_typeof(elem) = 'null' THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(elem) <> expected THEN
        RAISE EXCEPTION 'element % (%) is not a JSON %', n, elem,
                        CASE expected WHEN 'boolean' THEN 'true or false' ELSE expected END
            USING ERRCODE = '22P02';
    END IF;
    IF data_type IN ('date', 'datetime', 'time') THEN
        BEGIN
            RETURN cdp_internal.iso_text(elem #>> '{}', data_type);
        EXCEPTION WHEN invalid_datetime_format THEN
            RAISE EXCEPTION 'element % (%): %', n, elem, SQLERRM USING ERRCODE = '22007';
        END;
    END IF;
    RETURN elem #>> '{}';
END
$$;
COMMENT ON FUNCTION cdp_internal.array_element_text(jsonb, bigint, text) IS
    'The text of one array element of the right JSON type and form; 22P02 naming the element otherwise';

-- Run a generated upsert ($1 key, $2 values, $3 source) with a plan kept per
-- backend and statement text (EXECUTE would parse and plan it on every call);
-- its conversion and constraint errors name the owner, the attribute and the
-- value (from attribute_slugs and messages, without a subtransaction).
CREATE FUNCTION cdp_internal.exec_upsert(sql text, key bigint, "values" jsonb, source text,
                                         attribute_slugs text[], messages jsonb)
RETURNS void
AS 'MODULE_PATHNAME', 'cdp_exec_upsert'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION cdp_internal.exec_upsert(text, bigint, jsonb, text, text[], jsonb) IS
    'Runs a generated upsert statement with a cached plan and explains its errors';

-- The generated upsert converts the value of attribute k (its position in
-- attribute_slugs) as converted(CASE WHEN converting(k) THEN .. END), so
-- that exec_upsert knows which attribute a conversion error belongs to.
CREATE FUNCTION cdp_internal.converting(attribute integer) RETURNS boolean
AS 'MODULE_PATHNAME', 'cdp_converting'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION cdp_internal.converting(integer) IS
    'Marks the attribute whose value the running upsert converts (true)';

CREATE FUNCTION cdp_internal.converted(value anyelement) RETURNS anyelement
AS 'MODULE_PATHNAME', 'cdp_converted'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION cdp_internal.converted(anyelement) IS
    'Clears the mark of converting and returns the converted value';

-- The PostgreSQL type of a data_type.
CREATE FUNCTION cdp_internal.attribute_sql_type(data_type text, is_array boolean) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (CASE data_type
            WHEN 'text' THEN 'text' WHEN 'integer' THEN 'bigint' WHEN 'number' THEN 'numeric'
            WHEN 'boolean' THEN 'boolean' WHEN 'date' THEN 'date' WHEN 'datetime' THEN 'timestamptz'
            WHEN 'time' THEN 'time' WHEN 'email' THEN 'cdp.email_address' WHEN 'phone' THEN 'cdp.phone'
            WHEN 'location' THEN 'point' WHEN 'media' THEN 'text' WHEN 'json' THEN 'jsonb' END)
       || CASE WHEN is_array THEN '[]' ELSE '' END;
COMMENT ON FUNCTION cdp_internal.attribute_sql_type(text, boolean) IS
    'The column type of an attribute data_type (integer is bigint, number numeric, datetime timestamptz, location point)';

-- The name of the CHECK constraint of one validation (at most 63 bytes).
CREATE FUNCTION cdp_internal.constraint_name(attribute text, validation text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN length(attribute) + length(validation) < 63 THEN attribute || '_' || validation
            ELSE left(attribute, 55 - length(validation)) || '_' || left(md5(attribute), 6) || '_' || validation END;
COMMENT ON FUNCTION cdp_internal.constraint_name(text, text) IS 'Name of the CHECK constraint of an attribute validation';

-- Parse and check one attribute definition; returns it as a cdp.attributes row
-- (owner columns and position left NULL).
CREATE FUNCTION cdp_internal.parse_attribute(owner text, def jsonb) RETURNS cdp.attributes
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a cdp.attributes;
    key text;
    v jsonb;
    base text;
    ok_types text[];
    reserved CONSTANT text[] := ARRAY['contact_id', 'organization_id', 'document_id', 'updated_at', 'source',
                                      'tableoid', 'xmin', 'xmax', 'cmin', 'cmax', 'ctid', 'oid'];
    dummy text;
    limit_ bigint;
    contradicts boolean;
BEGIN
    IF jsonb_typeof(def) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'invalid attribute definition of %: %', owner, def
            USING ERRCODE = '22023', DETAIL = 'An attribute definition is a JSON object.';
    END IF;
    FOR key IN SELECT jsonb_object_keys(def) LOOP
        IF key NOT IN ('slug', 'type', 'title', 'required', 'array', 'description',
                       'min', 'max', 'min_length', 'max_length', 'pattern', 'options', 'decimals') THEN
            RAISE EXCEPTION 'unknown key "%" in attribute definition of %: %', key, owner, def
                USING ERRCODE = '22023',
                      HINT = 'Keys are slug, type, title, required, array and the validations min, max, min_length, max_length, pattern, options, decimals.';
        END IF;
    END LOOP;
    IF jsonb_typeof(def -> 'slug') IS DISTINCT FROM 'string' OR def ->> 'slug' !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid attribute slug in % : %', owner, coalesce(def -> 'slug', 'null')
            USING ERRCODE = '22023', DETAIL = 'Slugs match ^[a-z][a-z0-9_]{0,62}$.';
    END IF;
    a.slug := def ->> 'slug';
    IF a.slug = ANY (reserved) THEN
        RAISE EXCEPTION 'attribute slug "%" of % is reserved', a.slug, owner
            USING ERRCODE = '22023', DETAIL = format('Reserved names: %s.', array_to_string(reserved, ', '));
    END IF;
    a.data_type := def ->> 'type';
    IF a.data_type IS NULL OR a.data_type NOT IN ('text', 'integer', 'number', 'boolean', 'date', 'datetime',
                                                  'time', 'email', 'phone', 'location', 'media', 'json') THEN
        RAISE EXCEPTION 'invalid type of attribute "%" of %: %', a.slug, owner, coalesce(def -> 'type', 'null')
            USING ERRCODE = '22023',
                  DETAIL = 'Types are text, integer, number, boolean, date, datetime, time, email, phone, location, media, json.';
    END IF;
    FOR key IN SELECT unnest(ARRAY['required', 'array']) LOOP
        IF def ? key AND jsonb_typeof(def -> key) <> 'boolean' THEN
            RAISE EXCEPTION 'invalid "%" of attribute "%" of %: %', key, a.slug, owner, def -> key
                USING ERRCODE = '22023', DETAIL = 'It must be true or false.';
        END IF;
    END LOOP;
    a.title := coalesce(def ->> 'title', initcap(replace(a.slug, '_', ' ')));
    a.is_array := coalesce((def ->> 'array')::boolean, false);
    a.is_required := coalesce((def ->> 'required')::boolean, false);
    a.validations := '{}';
    base := cdp_internal.attribute_sql_type(a.data_type, false);

    FOR key, v IN SELECT e.key, e.value FROM jsonb_each(def) e
                  WHERE e.key IN ('min', 'max', 'min_length', 'max_length', 'pattern', 'options', 'decimals')
                  ORDER BY e.key LOOP
        ok_types := CASE key
            WHEN 'min' THEN ARRAY['integer', 'number', 'date', 'datetime', 'time']
            WHEN 'max' THEN ARRAY['integer', 'number', 'date', 'datetime', 'time']
            WHEN 'min_length' THEN ARRAY['text', 'email', 'phone', 'media']
            WHEN 'max_length' THEN ARRAY['text', 'email', 'phone', 'media']
            WHEN 'pattern' THEN ARRAY['text', 'email', 'phone', 'media']
            WHEN 'options' THEN ARRAY['text', 'integer', 'number', 'date', 'email', 'phone']
            WHEN 'decimals' THEN ARRAY['number'] END;
        IF NOT a.data_type = ANY (ok_types) THEN
            RAISE EXCEPTION 'validation "%" does not apply to attribute "%" of type % in %', key, a.slug, a.data_type, owner
                USING ERRCODE = '22023', DETAIL = format('"%s" applies to %s.', key, array_to_string(ok_types, ', '));
        END IF;
        IF jsonb_typeof(v) = 'null' THEN
            CONTINUE;
        END IF;
        BEGIN
            IF key IN ('min_length', 'max_length', 'decimals') THEN
                limit_ := CASE key WHEN 'decimals' THEN 1000 ELSE 1000000000 END;
                IF jsonb_typeof(v) <> 'number' OR (v #>> '{}')::numeric <> trunc((v #>> '{}')::numeric)
                   OR (v #>> '{}')::numeric NOT BETWEEN 0 AND limit_ THEN
                    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('not an integer between 0 and %s', limit_);
                END IF;
            ELSIF key = 'pattern' THEN
                IF jsonb_typeof(v) <> 'string' THEN
                    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'not a string';
                END IF;
                PERFORM '' ~ (v #>> '{}');
            ELSIF key = 'options' THEN
                IF jsonb_typeof(v) <> 'array' OR jsonb_array_length(v) = 0 THEN
                    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'not a non-empty array';
                END IF;
                IF jsonb_path_exists(v, '$[*] ? (@ == null)') THEN
                    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'an option is null';
                END IF;
                -- options are values of the attribute, read by the same rules
                EXECUTE format('SELECT array_agg(cdp_internal.array_element_text(e, n, %L)::%s) FROM jsonb_array_elements($1) WITH ORDINALITY AS x(e, n)',
                               a.data_type, base) USING v;
            ELSE
                -- a bound is a value of the attribute, read by the same rules
                IF jsonb_typeof(v) <> (CASE WHEN a.data_type IN ('integer', 'number') THEN 'number' ELSE 'string' END) THEN
                    RAISE EXCEPTION USING ERRCODE = '22023',
                        MESSAGE = (CASE WHEN a.data_type IN ('integer', 'number') THEN 'not a JSON number'
                                        ELSE format('not an ISO 8601 %s string', a.data_type) END);
                END IF;
                IF a.data_type IN ('date', 'datetime', 'time') THEN
                    PERFORM cdp_internal.iso_text(v #>> '{}', a.data_type);
                END IF;
                EXECUTE format('SELECT %L::%s', v #>> '{}', base) INTO dummy;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE EXCEPTION 'invalid validation "%" of attribute "%" of %: %', key, a.slug, owner, v
                USING ERRCODE = '22023', DETAIL = initcap(left(SQLERRM, 1)) || substr(SQLERRM, 2) || '.';
        END;
        a.validations := a.validations || jsonb_build_object(key, v);
    END LOOP;
    -- no value could pass both bounds
    FOR key, dummy IN SELECT * FROM (VALUES ('min', 'max'), ('min_length', 'max_length')) AS b(lo, hi) LOOP
        CONTINUE WHEN NOT (a.validations ? key AND a.validations ? dummy);
        EXECUTE format('SELECT %L::%s > %L::%s', a.validations ->> key,
                       CASE WHEN key = 'min' THEN base ELSE 'bigint' END, a.validations ->> dummy,
                       CASE WHEN key = 'min' THEN base ELSE 'bigint' END)
            INTO contradicts;
        IF contradicts THEN
            RAISE EXCEPTION 'contradictory validations of attribute "%" of %: % % is greater than % %', a.slug, owner,
                            key, a.validations -> key, dummy, a.validations -> dummy
                USING ERRCODE = '22023', DETAIL = 'No value could satisfy both.';
        END IF;
    END LOOP;
    RETURN a;
END
$$;
COMMENT ON FUNCTION cdp_internal.parse_attribute(text, jsonb) IS 'Checks one attribute definition (JSON) and returns it as a catalog row';

-- The CHECK expression of one validation of an attribute, or with key
-- 'elements' the check every array attribute has.  email and phone columns are
-- measured and matched as text.
CREATE FUNCTION cdp_internal.validation_check_sql(a cdp.attributes, key text, v jsonb) RETURNS text
LANGUAGE sql STABLE
RETURN (
    WITH t(col, astext, base) AS (
        SELECT format('%I', a.slug),
               CASE WHEN a.data_type IN ('email', 'phone')
                    THEN format('%I', a.slug) || CASE WHEN a.is_array THEN '::text[]' ELSE '::text' END
                    ELSE format('%I', a.slug) END,
               cdp_internal.attribute_sql_type(a.data_type, false)
    )
    SELECT CASE key
        WHEN 'elements' THEN format('CASE WHEN array_ndims(%s) > 1 THEN false ELSE array_position(%s, NULL) IS NULL END', col, col)
        WHEN 'min' THEN CASE WHEN a.is_array THEN format('%L::%s <= ALL (%s)', v #>> '{}', base, col)
                             ELSE format('%s >= %L::%s', col, v #>> '{}', base) END
        WHEN 'max' THEN CASE WHEN a.is_array THEN format('%L::%s >= ALL (%s)', v #>> '{}', base, col)
                             ELSE format('%s <= %L::%s', col, v #>> '{}', base) END
        WHEN 'min_length' THEN CASE WHEN a.is_array THEN format('cdp_internal.array_min_length(%s) >= %s', astext, (v #>> '{}')::integer)
                                    ELSE format('char_length(%s) >= %s', astext, (v #>> '{}')::integer) END
        WHEN 'max_length' THEN CASE WHEN a.is_array THEN format('cdp_internal.array_max_length(%s) <= %s', astext, (v #>> '{}')::integer)
                                    ELSE format('char_length(%s) <= %s', astext, (v #>> '{}')::integer) END
        WHEN 'pattern' THEN CASE WHEN a.is_array THEN format('cdp_internal.array_all_match(%s, %L)', astext, v #>> '{}')
                                 ELSE format('%s ~ %L', astext, v #>> '{}') END
        WHEN 'decimals' THEN CASE WHEN a.is_array THEN format('cdp_internal.array_within_decimals(%s, %s)', col, (v #>> '{}')::integer)
                                  ELSE format('round(%s, %s) = %s', col, (v #>> '{}')::integer, col) END
        WHEN 'options' THEN format(CASE WHEN a.is_array THEN '%s <@ ARRAY[%s]' ELSE '%s = ANY (ARRAY[%s])' END, col,
                                   (SELECT string_agg(format('%L::%s', o, base), ', ' ORDER BY n)
                                      FROM jsonb_array_elements_text(v) WITH ORDINALITY AS x(o, n)))
        END
    FROM t);
COMMENT ON FUNCTION cdp_internal.validation_check_sql(cdp.attributes, text, jsonb) IS
    'CHECK expression of one validation of an attribute';

-- The column definition of an attribute, with its NOT NULL and named CHECK
-- constraints; used by CREATE TABLE and ALTER TABLE ADD COLUMN alike.
CREATE FUNCTION cdp_internal.attribute_column_ddl(a cdp.attributes) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    col text := format('%I', a.slug);
    ddl text;
    key text;
    v jsonb;
BEGIN
    ddl := format('%I %s', a.slug, cdp_internal.attribute_sql_type(a.data_type, a.is_array));
    IF a.is_required THEN
        ddl := ddl || ' NOT NULL';
    END IF;
    IF a.is_array THEN
        ddl := ddl || format(' CONSTRAINT %I CHECK (%s)', cdp_internal.constraint_name(a.slug, 'elements'),
                             cdp_internal.validation_check_sql(a, 'elements', NULL));
    END IF;
    FOR key, v IN SELECT e.key, e.value FROM jsonb_each(a.validations) e ORDER BY e.key LOOP
        ddl := ddl || format(' CONSTRAINT %I CHECK (%s)', cdp_internal.constraint_name(a.slug, key),
                             cdp_internal.validation_check_sql(a, key, v));
    END LOOP;
    RETURN ddl;
END
$$;
COMMENT ON FUNCTION cdp_internal.attribute_column_ddl(cdp.attributes) IS
    'Column definition of an attribute with its NOT NULL and named CHECK constraints';

-- The expression that turns the JSON value of an attribute into its column
-- value inside the generated statement (src is the values object): the JSON
-- text cast to the column type, as jsonb_to_record would, after refusing JSON
-- values of the wrong JSON type.  Per-column casts are cheaper than a
-- jsonb_to_record function scan.
CREATE FUNCTION cdp_internal.attribute_value_sql(a cdp.attributes, owner_label text, src text) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN (
    WITH t(allowed, expected, conv) AS (
        SELECT CASE
                 WHEN a.data_type = 'json' AND NOT a.is_array THEN NULL
                 WHEN a.is_array THEN ARRAY['array']
                 WHEN a.data_type = 'location' THEN ARRAY['object', 'array', 'string']
                 WHEN a.data_type IN ('integer', 'number') THEN ARRAY['number']
                 WHEN a.data_type = 'boolean' THEN ARRAY['boolean']
                 ELSE ARRAY['string'] END,
               CASE
                 WHEN a.is_array THEN 'a JSON array'
                 WHEN a.data_type = 'location' THEN 'a location'
                 WHEN a.data_type IN ('integer', 'number') THEN 'a JSON number'
                 WHEN a.data_type = 'boolean' THEN 'true or false'
                 WHEN a.data_type IN ('date', 'datetime', 'time') THEN format('an ISO 8601 %s string', a.data_type)
                 ELSE 'a JSON string' END,
               CASE
                 WHEN a.data_type = 'location' AND a.is_array THEN format('cdp_internal.to_location_array(%s -> %L)', src, a.slug)
                 WHEN a.data_type = 'location' THEN format('cdp_internal.to_location(%s -> %L)', src, a.slug)
                 WHEN a.data_type = 'json' AND a.is_array THEN
                     format('CASE WHEN jsonb_typeof(%s -> %L) = ''array'' THEN ARRAY(SELECT _e FROM jsonb_array_elements(%s -> %L) WITH ORDINALITY AS _j(_e, _n) ORDER BY _n) END',
                            src, a.slug, src, a.slug)
                 WHEN a.data_type = 'json' THEN format('(%s -> %L)', src, a.slug)
                 WHEN a.is_array THEN
                     format('CASE WHEN jsonb_typeof(%s -> %L) = ''array'' THEN ARRAY(SELECT cdp_internal.array_element_text(_e, _n, %L)::%s FROM jsonb_array_elements(%s -> %L) WITH ORDINALITY AS _j(_e, _n) ORDER BY _n) END',
                            src, a.slug, a.data_type, cdp_internal.attribute_sql_type(a.data_type, false), src, a.slug)
                 WHEN a.data_type IN ('date', 'datetime', 'time') THEN
                     format('cdp_internal.iso_text(%s ->> %L, %L)::%s', src, a.slug, a.data_type,
                            cdp_internal.attribute_sql_type(a.data_type, false))
                 ELSE format('(%s ->> %L)::%s', src, a.slug, cdp_internal.attribute_sql_type(a.data_type, false)) END
    )
    SELECT CASE WHEN allowed IS NULL THEN conv
                ELSE format('CASE WHEN jsonb_typeof(%s -> %L) NOT IN (%s) THEN cdp_internal.wrong_json_type(%L, %L, %s -> %L, %L, NULL::%s) ELSE %s END',
                            src, a.slug,
                            (SELECT string_agg(format('%L', j), ', ') FROM unnest(allowed || ARRAY['null']) j),
                            owner_label, a.slug, src, a.slug, expected,
                            cdp_internal.attribute_sql_type(a.data_type, a.is_array), conv)
           END
    FROM t);
COMMENT ON FUNCTION cdp_internal.attribute_value_sql(cdp.attributes, text, text) IS
    'SQL expression converting an attribute''s JSON value to its column value';

-- A human label of an owner: profile "customer", document template "contract".
CREATE FUNCTION cdp_internal.owner_label(owner_type text, slug text) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN format('%s "%s"', replace(owner_type, '_', ' '), slug);
COMMENT ON FUNCTION cdp_internal.owner_label(text, text) IS 'profile "x" or document template "x", for messages';

-- Rebuild the generated upsert statement of a profile or template from the
-- catalog.  Parameters of the statement: $1 key, $2 values (jsonb), $3 source.
-- Absent keys keep their stored value; required attributes absent from a
-- partial update are read back so that the NOT NULL check of the proposed row
-- passes.  Also stored: what the statement's errors say (the owner label and,
-- per CHECK constraint, its attribute, validation and detail).
CREATE FUNCTION cdp_internal.rebuild_data_table(owner_type text, slug text, data_table regclass, key_column text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    label text := cdp_internal.owner_label(owner_type, slug);
    meta boolean := owner_type = 'profile';
    cols text := '';
    vals text := '';
    sets text := '';
    a cdp.attributes;
    slugs text[] := '{}';
    checks jsonb := '{}';
    key text;
    v jsonb;
    expr text;
    stmt text;
    with_contact constant boolean := key_column = 'document_id'
        AND EXISTS (SELECT 1 FROM pg_attribute x
                     WHERE x.attrelid = data_table AND x.attname = 'contact_id' AND NOT x.attisdropped);
BEGIN
    FOR a IN SELECT * FROM cdp.attributes t
             WHERE t.owner_type = rebuild_data_table.owner_type AND t.owner_slug = rebuild_data_table.slug
             ORDER BY t.position LOOP
        slugs := slugs || a.slug;
        expr := cdp_internal.attribute_value_sql(a, label, '$2');
        IF a.is_required THEN
            expr := format('CASE WHEN $2 ? %L THEN %s ELSE (SELECT _t0.%I FROM %s _t0 WHERE _t0.%I = $1) END',
                           a.slug, expr, a.slug, data_table, key_column);
        END IF;
        expr := format('cdp_internal.converted(CASE WHEN cdp_internal.converting(%s) THEN %s END)',
                       cardinality(slugs), expr);
        IF a.is_array THEN
            checks := checks || jsonb_build_object(cdp_internal.constraint_name(a.slug, 'elements'),
                jsonb_build_object('attribute', a.slug, 'detail', 'An array attribute holds a flat array without nulls.'));
        END IF;
        FOR key, v IN SELECT e.key, e.value FROM jsonb_each(a.validations) e LOOP
            checks := checks || jsonb_build_object(cdp_internal.constraint_name(a.slug, key),
                jsonb_build_object('attribute', a.slug, 'validation', key,
                                   'detail', format('The validation is %s: %s%s.', key, v,
                                                    CASE WHEN a.is_array THEN ' (for every element)' ELSE '' END)));
        END LOOP;
        cols := cols || format(', %I', a.slug);
        vals := vals || ', ' || expr;
        sets := sets || format(', %I = CASE WHEN $2 ? %L THEN EXCLUDED.%I ELSE _t.%I END', a.slug, a.slug, a.slug, a.slug);
    END LOOP;
    -- on Citus a document's row carries its contact, and its key with it
    stmt := format('INSERT INTO %s AS _t (%I%s%s%s) SELECT $1%s%s%s ON CONFLICT (%s) DO ',
                   data_table, key_column, CASE WHEN meta THEN ', updated_at, source' ELSE '' END,
                   CASE WHEN with_contact THEN ', contact_id' ELSE '' END, cols,
                   CASE WHEN meta THEN ', now(), $3' ELSE '' END,
                   CASE WHEN with_contact THEN ', cdp_internal.document_contact($1)' ELSE '' END, vals,
                   CASE WHEN with_contact THEN 'contact_id, document_id' ELSE quote_ident(key_column) END);
    IF meta THEN
        stmt := stmt || 'UPDATE SET updated_at = EXCLUDED.updated_at, source = coalesce(EXCLUDED.source, _t.source)' || sets;
    ELSIF sets <> '' THEN
        stmt := stmt || 'UPDATE SET ' || substr(sets, 3);
    ELSE
        stmt := stmt || 'NOTHING';
    END IF;
    -- Citus may send the statement to a worker with its parameters
    -- unbound, where a parameter only used as an operand has no type
    IF EXISTS (SELECT 1 FROM pg_extension x WHERE x.extname = 'citus') THEN
        stmt := replace(replace(replace(stmt, '$1', '$1::bigint'), '$2', '$2::jsonb'), '$3', '$3::text');
    END IF;
    INSERT INTO cdp_internal.data_tables AS d (owner_type, slug, data_table, key_column, attribute_slugs, upsert_sql,
                                               messages)
    VALUES (rebuild_data_table.owner_type, rebuild_data_table.slug, rebuild_data_table.data_table,
            rebuild_data_table.key_column, slugs, stmt, jsonb_build_object('label', label, 'constraints', checks))
    ON CONFLICT ON CONSTRAINT data_tables_pkey DO UPDATE
        SET data_table = EXCLUDED.data_table, key_column = EXCLUDED.key_column,
            attribute_slugs = EXCLUDED.attribute_slugs, upsert_sql = EXCLUDED.upsert_sql,
            messages = EXCLUDED.messages, generation = EXCLUDED.generation;
END
$$;
COMMENT ON FUNCTION cdp_internal.rebuild_data_table(text, text, regclass, text) IS
    'Regenerates the upsert statement of a profile or document template from the catalog';

-- Parse a JSON array of attribute definitions, refusing duplicates.
CREATE FUNCTION cdp_internal.parse_attributes(owner_type text, owner_slug text, defs jsonb, first_position integer,
                                              existing text[] DEFAULT '{}')
RETURNS SETOF cdp.attributes
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    label text := cdp_internal.owner_label(owner_type, owner_slug);
    a cdp.attributes;
    seen text[] := existing;
    pos integer := first_position;
    def jsonb;
BEGIN
    IF defs IS NULL THEN
        RETURN;
    END IF;
    IF jsonb_typeof(defs) <> 'array' THEN
        RAISE EXCEPTION 'invalid attributes of %: %', label, defs
            USING ERRCODE = '22023', DETAIL = 'Attributes are a JSON array of attribute definitions.';
    END IF;
    FOR def IN SELECT e FROM jsonb_array_elements(defs) e LOOP
        a := cdp_internal.parse_attribute(label, def);
        IF a.slug = ANY (seen) THEN
            RAISE EXCEPTION 'attribute "%" of % is defined twice', a.slug, label USING ERRCODE = '42701';
        END IF;
        seen := seen || a.slug;
        a.owner_type := owner_type;
        a.owner_slug := owner_slug;
        a.position := pos;
        pos := pos + 1;
        RETURN NEXT a;
    END LOOP;
END
$$;
COMMENT ON FUNCTION cdp_internal.parse_attributes(text, text, jsonb, integer, text[]) IS
    'Checks a JSON array of attribute definitions and returns catalog rows';

-- Create the typed table of a profile or document template and its catalog rows.
-- Segments compare attributes (customer.ltv between 100 and 200, customer.topics
-- contains 'x'): a btree index per comparable scalar column and a GIN index per
-- array, so that a selective segment is an index scan.  Booleans, JSON,
-- locations and media are not indexed (too few values or never compared).
CREATE FUNCTION cdp_internal.create_attribute_index(data_table regclass, a cdp.attributes) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF a.data_type IN ('boolean', 'json', 'location', 'media') THEN
        RETURN;
    END IF;
    EXECUTE format('CREATE INDEX ON %s USING %s (%I)', data_table, CASE WHEN a.is_array THEN 'gin' ELSE 'btree' END, a.slug);
END
$$;
COMMENT ON FUNCTION cdp_internal.create_attribute_index(regclass, cdp.attributes) IS
    'Indexes an attribute column for segment conditions (btree, or GIN for arrays)';

CREATE FUNCTION cdp_internal.create_data_table(owner_type text, slug text, table_name text, key_column text,
                                               key_ref text, attributes jsonb)
RETURNS regclass
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a cdp.attributes;
    coldefs text := '';
    tbl regclass;
    fixed integer := CASE WHEN owner_type = 'profile' THEN 3 ELSE 1 END;  -- key (, updated_at, source)
    citus constant boolean := cdp_internal.citus_mode();
BEGIN
    -- Refused before any work: a table holds at most 1600 columns.
    IF jsonb_typeof(attributes) = 'array' AND fixed + jsonb_array_length(attributes) > 1600 THEN
        RAISE EXCEPTION '% would have % columns, more than the 1600 a table can hold',
                        cdp_internal.owner_label(owner_type, slug), fixed + jsonb_array_length(attributes)
            USING ERRCODE = '54011',
                  DETAIL = format('Each attribute is a column of cdp_data.%s, which has %s columns of its own.',
                                  table_name, fixed);
    END IF;
    CREATE TEMP TABLE IF NOT EXISTS cdp_parsed_attributes (LIKE cdp.attributes) ON COMMIT DROP;
    DELETE FROM cdp_parsed_attributes;
    INSERT INTO cdp_parsed_attributes SELECT * FROM cdp_internal.parse_attributes(owner_type, slug, coalesce(attributes, '[]'), 1);
    FOR a IN SELECT * FROM cdp_parsed_attributes ORDER BY position LOOP
        coldefs := coldefs || E',\n    ' || cdp_internal.attribute_column_ddl(a);
    END LOOP;
    -- on Citus a document's key is (contact_id, id): the table gets its
    -- reference when it is distributed (cdp_internal.citus_distribute_data_table)
    EXECUTE format(E'CREATE TABLE cdp_data.%I (\n    %I bigint PRIMARY KEY%s%s%s\n)',
                   table_name, key_column,
                   CASE WHEN citus AND key_column = 'document_id' THEN ''
                        ELSE format(' REFERENCES %s (id) ON DELETE CASCADE', key_ref) END,
                   CASE WHEN owner_type = 'profile'
                        THEN E',\n    updated_at timestamptz NOT NULL DEFAULT now(),\n    source text' ELSE '' END,
                   coldefs);
    tbl := format('cdp_data.%I', table_name)::regclass;
    PERFORM cdp_internal.grant_generated(tbl);  -- roles.sql
    PERFORM cdp_internal.capture_data_table(tbl, slug, key_column);  -- changes.sql
    IF citus THEN
        -- before a catalog row names it: Citus replays those rows on every node
        PERFORM cdp_internal.citus_distribute_data_table(tbl, key_column);  -- distribute.sql
    END IF;
    INSERT INTO cdp.attributes SELECT * FROM cdp_parsed_attributes;
    FOR a IN SELECT * FROM cdp_parsed_attributes LOOP
        EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', tbl, a.slug, a.title);
        PERFORM cdp_internal.create_attribute_index(tbl, a);
    END LOOP;
    DROP TABLE cdp_parsed_attributes;
    RETURN tbl;
END
$$;
COMMENT ON FUNCTION cdp_internal.create_data_table(text, text, text, text, text, jsonb) IS
    'Creates the typed cdp_data table of a profile or document template';

-- Add and drop attributes of a profile or template (ALTER TABLE without rewrite).
CREATE FUNCTION cdp_internal.alter_data_table(owner_type text, slug text, data_table regclass,
                                              key_column text, add jsonb, drop text[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    label text := cdp_internal.owner_label(owner_type, slug);
    a cdp.attributes;
    d text;
    existing text[];
    next_pos integer;
    has_rows boolean;
    ncolumns integer;
BEGIN
    -- Lock the table first: definitions of one profile change one at a time.
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', data_table);
    -- Refused before any DDL: a table holds at most 1600 columns, and a
    -- dropped column keeps its place among them (relnatts counts it).
    SELECT c.relnatts INTO ncolumns FROM pg_class c WHERE c.oid = data_table;
    IF jsonb_typeof(add) = 'array' AND ncolumns + jsonb_array_length(add) > 1600 THEN
        RAISE EXCEPTION '% would have % columns, more than the 1600 a table can hold',
                        label, ncolumns + jsonb_array_length(add)
            USING ERRCODE = '54011',
                  DETAIL = format('%s has %s columns, dropped ones included (PostgreSQL never reuses them), and %s attributes would add one each.',
                                  data_table, ncolumns, jsonb_array_length(add));
    END IF;
    FOREACH d IN ARRAY coalesce(drop, '{}') LOOP
        DELETE FROM cdp.attributes t
         WHERE t.owner_type = alter_data_table.owner_type AND t.owner_slug = alter_data_table.slug AND t.slug = d;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'attribute "%" of % does not exist', d, label USING ERRCODE = '42703';
        END IF;
        PERFORM cdp_internal.refuse_if_used(format('attribute "%s" of %s', d, label),
                                            CASE owner_type WHEN 'profile' THEN 'attribute' ELSE 'template_attribute' END,
                                            slug || '.' || d);
        EXECUTE format('ALTER TABLE %s DROP COLUMN %I', data_table, d);
    END LOOP;
    SELECT coalesce(array_agg(t.slug), '{}'), coalesce(max(t.position), 0) + 1 INTO existing, next_pos
      FROM cdp.attributes t WHERE t.owner_type = alter_data_table.owner_type AND t.owner_slug = alter_data_table.slug;
    FOR a IN SELECT * FROM cdp_internal.parse_attributes(owner_type, slug, add, next_pos, existing) LOOP
        IF a.is_required THEN
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', data_table) INTO has_rows;
            IF has_rows THEN
                RAISE EXCEPTION 'cannot add required attribute "%" to % that has rows', a.slug, label
                    USING ERRCODE = '55000', HINT = 'Add it as optional, fill it, then make it required by hand.';
            END IF;
        END IF;
        EXECUTE format('ALTER TABLE %s ADD COLUMN %s', data_table, cdp_internal.attribute_column_ddl(a));
        EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', data_table, a.slug, a.title);
        PERFORM cdp_internal.create_attribute_index(data_table, a);
        INSERT INTO cdp.attributes SELECT a.*;
    END LOOP;
    PERFORM cdp_internal.rebuild_data_table(owner_type, slug, data_table, key_column);
END
$$;
COMMENT ON FUNCTION cdp_internal.alter_data_table(text, text, regclass, text, jsonb, text[]) IS
    'Adds and drops attributes of a profile or document template';

-- Write values into a typed table through its generated statement, turning
-- conversion and constraint errors into messages that name the owner, the
-- attribute and the value.
CREATE FUNCTION cdp_internal.write_values(owner_type text, slug text, key bigint, "values" jsonb, source text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d cdp_internal.data_tables;
    unknown jsonb;
BEGIN
    SELECT * INTO d FROM cdp_internal.data_tables t
     WHERE t.owner_type = write_values.owner_type AND t.slug = write_values.slug;
    IF NOT FOUND THEN
        PERFORM cdp_internal.not_null(slug, 'slug');
        RAISE EXCEPTION '% does not exist', cdp_internal.owner_label(owner_type, slug) USING ERRCODE = '42704';
    END IF;
    PERFORM cdp_internal.write_values_with(d, key, "values", source);
END
$$;
COMMENT ON FUNCTION cdp_internal.write_values(text, text, bigint, jsonb, text) IS
    'Upserts JSON values into the typed table of a profile or document template';

CREATE FUNCTION cdp_internal.write_values_with(d cdp_internal.data_tables, key bigint, "values" jsonb, source text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    unknown jsonb;
BEGIN
    IF jsonb_typeof("values") IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'invalid values for %: %', cdp_internal.owner_label(d.owner_type, d.slug), coalesce("values"::text, 'NULL')
            USING ERRCODE = '22023', DETAIL = 'Values are a JSON object of attribute slugs and values.';
    END IF;
    unknown := "values" - d.attribute_slugs;
    IF unknown <> '{}' THEN
        RAISE EXCEPTION 'unknown attribute "%" of %: %', (SELECT min(k) FROM jsonb_object_keys(unknown) k),
                        cdp_internal.owner_label(d.owner_type, d.slug), unknown -> (SELECT min(k) FROM jsonb_object_keys(unknown) k)
            USING ERRCODE = '42703',
                  DETAIL = format('Attributes of %s: %s.', cdp_internal.owner_label(d.owner_type, d.slug),
                                  coalesce(nullif(array_to_string(d.attribute_slugs, ', '), ''), 'none'));
    END IF;
    PERFORM cdp_internal.exec_upsert(d.upsert_sql, key, "values", source, d.attribute_slugs, d.messages);
END
$$;
COMMENT ON FUNCTION cdp_internal.write_values_with(cdp_internal.data_tables, bigint, jsonb, text) IS
    'Checks the values and runs the generated upsert of a typed table';
