-- ingest.sql
--   Segment-spec ingestion: cdp.ingest turns identify, track, page, screen,
--   group and alias messages into resolve, names, profiles, memberships and
--   events; the administrator's trait mappings say which traits go where.

CREATE TABLE cdp.trait_mappings (
    trait       text NOT NULL CONSTRAINT trait_mappings_trait_not_empty CHECK (trait <> ''),
    object_type text NOT NULL
                CONSTRAINT trait_mappings_object_type_known CHECK (object_type IN ('contact', 'organization')),
    owner_type  text NOT NULL DEFAULT 'profile'
                CONSTRAINT trait_mappings_owner_is_profile CHECK (owner_type = 'profile'),
    profile     text NOT NULL,
    attribute   text NOT NULL,
    set_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (trait, object_type),
    -- dropping the attribute or its profile drops the mapping with it, so
    -- that ingest never meets a target that is gone
    CONSTRAINT trait_mappings_attribute_fkey FOREIGN KEY (owner_type, profile, attribute)
        REFERENCES cdp.attributes (owner_type, owner_slug, slug) ON DELETE CASCADE
);
CREATE INDEX trait_mappings_attribute_idx ON cdp.trait_mappings (profile, attribute);
COMMENT ON TABLE cdp.trait_mappings IS
    'Which Segment traits cdp.ingest writes to which profile attribute (set_trait_mapping); unmapped traits are ignored';
COMMENT ON COLUMN cdp.trait_mappings.trait IS 'The trait''s key in a message (top-level keys only, case-sensitive)';
COMMENT ON COLUMN cdp.trait_mappings.object_type IS
    'contact: read from user traits (identify traits, context.traits); organization: from group traits';
COMMENT ON COLUMN cdp.trait_mappings.owner_type IS 'Always profile (the key of the attribute in cdp.attributes)';
COMMENT ON COLUMN cdp.trait_mappings.profile IS 'The target profile (its object type is object_type)';
COMMENT ON COLUMN cdp.trait_mappings.attribute IS 'The target attribute of the profile';
COMMENT ON COLUMN cdp.trait_mappings.set_at IS 'When the mapping was last set';
SELECT pg_catalog.pg_extension_config_dump('cdp.trait_mappings', '');

CREATE TABLE cdp.ingested_messages (
    message_id  text PRIMARY KEY,
    ingested_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE cdp.ingested_messages IS
    'The messageIds cdp.ingest has stored, so that a repeated delivery is stored once';
COMMENT ON COLUMN cdp.ingested_messages.message_id IS 'The messageId of a message, as sent';
COMMENT ON COLUMN cdp.ingested_messages.ingested_at IS 'When the message was stored';
SELECT pg_catalog.pg_extension_config_dump('cdp.ingested_messages', '');

CREATE FUNCTION cdp.set_trait_mapping(trait text, target text) RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    profile_slug text;
    attribute_slug text;
    scope text;
BEGIN
    PERFORM cdp_internal.not_null(trait, 'trait');
    PERFORM cdp_internal.not_null(target, 'target');
    IF trait = '' THEN
        RAISE EXCEPTION 'invalid trait: ''''' USING ERRCODE = '22023', DETAIL = 'A trait is a non-empty key of traits.';
    END IF;
    IF target !~ '^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$' THEN
        RAISE EXCEPTION 'invalid trait mapping target: %', quote_literal(target)
            USING ERRCODE = '22023', DETAIL = 'A target is <profile>.<attribute>, such as customer.tier.';
    END IF;
    profile_slug := split_part(target, '.', 1);
    attribute_slug := split_part(target, '.', 2);
    SELECT p.object_type INTO scope FROM cdp.profiles p WHERE p.slug = profile_slug;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'profile "%" does not exist', profile_slug USING ERRCODE = '42704';
    END IF;
    -- KEY SHARE on the attribute: a concurrent drop waits for this mapping
    -- (and then takes it away with the attribute) instead of leaving it dangling
    PERFORM 1 FROM cdp.attributes a
      WHERE a.owner_type = 'profile' AND a.owner_slug = profile_slug AND a.slug = attribute_slug
        FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'attribute "%" of profile "%" does not exist', attribute_slug, profile_slug
            USING ERRCODE = '42703';
    END IF;
    -- set_at from EXCLUDED: Citus allows no volatile function in DO UPDATE SET
    INSERT INTO cdp.trait_mappings AS m (trait, object_type, profile, attribute, set_at)
    VALUES (trait, scope, profile_slug, attribute_slug, now())
    ON CONFLICT ON CONSTRAINT trait_mappings_pkey DO UPDATE
        SET profile = EXCLUDED.profile, attribute = EXCLUDED.attribute, set_at = EXCLUDED.set_at;
    RETURN scope;
END
$$;
COMMENT ON FUNCTION cdp.set_trait_mapping(text, text) IS
    'Maps a trait to <profile>.<attribute> for cdp.ingest (a contact profile: user traits; an organization profile: group traits); returns contact or organization';

CREATE FUNCTION cdp.drop_trait_mapping(trait text, object_type text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    PERFORM cdp_internal.not_null(trait, 'trait');
    IF object_type NOT IN ('contact', 'organization') THEN
        RAISE EXCEPTION 'invalid object type of trait mapping: %', quote_literal(object_type)
            USING ERRCODE = '22023', DETAIL = 'Trait mappings are of contact or organization traits (NULL: both).';
    END IF;
    DELETE FROM cdp.trait_mappings m
     WHERE m.trait = drop_trait_mapping.trait
       AND (drop_trait_mapping.object_type IS NULL OR m.object_type = drop_trait_mapping.object_type);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n > 0;
END
$$;
COMMENT ON FUNCTION cdp.drop_trait_mapping(text, text) IS
    'Removes a trait''s mapping (of contact or organization traits; NULL: both); true if there was one';

CREATE FUNCTION cdp.prune_ingested_messages(older_than interval) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    PERFORM cdp_internal.not_null(older_than, 'older_than');
    IF older_than < interval '0' THEN
        RAISE EXCEPTION 'older_than must be a non-negative interval' USING ERRCODE = '22023';
    END IF;
    DELETE FROM cdp.ingested_messages m WHERE m.ingested_at < now() - older_than;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION cdp.prune_ingested_messages(interval) IS
    'Forgets the messageIds stored more than older_than ago (a later delivery of one is stored again); returns how many';

-- Errors of ingest name the message ("message", or "message 3" in a batch)
-- and the field.  Called only when something is wrong: the checks in
-- ingest's loop are plain expressions, cheap for a well-formed message.
CREATE FUNCTION cdp_internal.ingest_fail(code text, is_batch boolean, pos integer, problem text,
                                         detail text DEFAULT NULL, hint text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    msg text := format('invalid message%s: %s', CASE WHEN is_batch THEN ' ' || pos END, problem);
BEGIN
    IF detail IS NULL AND hint IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = code, MESSAGE = msg;
    ELSIF hint IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = code, MESSAGE = msg, DETAIL = detail;
    ELSIF detail IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = code, MESSAGE = msg, HINT = hint;
    END IF;
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = msg, DETAIL = detail, HINT = hint;
END
$$;
COMMENT ON FUNCTION cdp_internal.ingest_fail(text, boolean, integer, text, text, text) IS
    'Raises ingest''s error about a message (SQLSTATE code), naming its position in a batch';

-- A field of the wrong JSON type.
CREATE FUNCTION cdp_internal.ingest_type_fail(is_batch boolean, pos integer, field text, v jsonb, expected text)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT cdp_internal.ingest_fail('22P02', is_batch, pos,
                                    format('"%s" must be %s, not %s', field, expected, jsonb_typeof(v)))
$$;
COMMENT ON FUNCTION cdp_internal.ingest_type_fail(boolean, integer, text, jsonb, text) IS
    'Raises ingest''s 22P02 about a field of the wrong JSON type';

-- A timestamp field the quick pattern of ingest did not take: ISO 8601
-- without an offset is UTC (a message's meaning must not depend on the
-- session's TimeZone); anything else is refused naming the field.  The cast
-- can still refuse a date the pattern lets through (February 30): ingest's
-- handler names the field then.
CREATE FUNCTION cdp_internal.ingest_time(v jsonb, field text, is_batch boolean, pos integer)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s text := v #>> '{}';
BEGIN
    IF jsonb_typeof(v) = 'null' THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(v) <> 'string'
       OR s !~ '^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(:\d\d(\.\d+)?)?([Zz]|[+-]\d\d(:?\d\d)?)?$' THEN
        PERFORM cdp_internal.ingest_fail('22P02', is_batch, pos,
            format('"%s" is not an ISO 8601 date and time: %s', field, v),
            'Write it as 2024-05-01T12:30:00Z or 2024-05-01T14:30:00+02:00.');
    END IF;
    IF s !~ '([Zz]|[+-]\d\d(:?\d\d)?)$' THEN
        s := s || 'Z';
    END IF;
    RETURN s::timestamptz;
END
$$;
COMMENT ON FUNCTION cdp_internal.ingest_time(jsonb, text, boolean, integer) IS
    'A message''s ISO 8601 timestamp field (UTC without an offset); NULL for JSON null, 22P02 naming the field';

CREATE FUNCTION cdp.ingest(message jsonb) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    iso_zoned CONSTANT text := '^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(:\d\d(\.\d+)?)?([Zz]|[+-]\d\d(:?\d\d)?)$';
    types CONSTANT text[] := ARRAY['identify', 'track', 'page', 'screen', 'group', 'alias'];
    messages jsonb;
    is_batch boolean;
    n integer;
    pos integer := 0;
    stored bigint := 0;
    ours boolean := false;      -- the error in flight is ingest's own, already naming the message
    time_field text;            -- the timestamp field being read, for the cast's own errors
    contact_traits text[];      -- the mapped traits, read once per call
    org_traits text[];
    m jsonb;
    v jsonb;
    s text;
    mtype text;
    ctx jsonb;
    traits jsonb;
    user_traits jsonb;
    props jsonb;
    user_id text;
    anonymous_id text;
    message_id text;
    event_name text;
    group_id text;
    previous_id text;
    org_slug text;
    org_name text;
    org bigint;
    is_primary boolean;
    ids jsonb;
    contact bigint;
    occurred timestamptz;
    t_sent timestamptz;
    t_received timestamptz;
    given text;
    family text;
    full_name text;
    old_given text;
    old_family text;
    prof text;
    vals jsonb;
    e_state text;
    e_message text;
    e_detail text;
    e_hint text;
BEGIN
    IF message IS NULL THEN
        RAISE EXCEPTION 'message must not be null' USING ERRCODE = '22004';
    END IF;
    -- a batch: an array, or Segment's batch envelope {"batch": [...]}
    IF jsonb_typeof(message) = 'object' AND message ? 'batch' AND NOT message ? 'type' THEN
        messages := message -> 'batch';
        IF jsonb_typeof(messages) <> 'array' THEN
            RAISE EXCEPTION 'invalid batch: "batch" must be an array, not %', jsonb_typeof(messages)
                USING ERRCODE = '22P02';
        END IF;
        is_batch := true;
    ELSIF jsonb_typeof(message) = 'array' THEN
        messages := message;
        is_batch := true;
    ELSE
        messages := jsonb_build_array(message);
        is_batch := false;
    END IF;
    n := jsonb_array_length(messages);
    SELECT coalesce(array_agg(t.trait) FILTER (WHERE t.object_type = 'contact'), '{}'),
           coalesce(array_agg(t.trait) FILTER (WHERE t.object_type = 'organization'), '{}')
      INTO contact_traits, org_traits
      FROM cdp.trait_mappings t;

    -- One block (one subtransaction) around the whole batch, not one per
    -- message: its handler only adds which message failed to the error.
    BEGIN
        WHILE pos < n LOOP
            m := messages -> pos;
            pos := pos + 1;

            -- read and check every field before writing anything
            ours := true;
            IF jsonb_typeof(m) <> 'object' THEN
                PERFORM cdp_internal.ingest_fail('22P02', is_batch, pos,
                    format('a message must be a JSON object, not %s', jsonb_typeof(m)));
            END IF;
            v := m -> 'type';
            IF jsonb_typeof(v) <> 'string' THEN
                PERFORM cdp_internal.ingest_type_fail(is_batch, pos, 'type', v, 'a string');
            END IF;
            mtype := v #>> '{}';
            IF mtype IS NULL THEN
                PERFORM cdp_internal.ingest_fail('22004', is_batch, pos, 'no "type"',
                    hint => 'Types are identify, track, page, screen, group and alias.');
            ELSIF NOT mtype = ANY (types) THEN
                PERFORM cdp_internal.ingest_fail('22023', is_batch, pos, format('unknown message type "%s"', mtype),
                    hint => 'Types are identify, track, page, screen, group and alias.');
            END IF;
            IF jsonb_typeof(m -> 'userId') IN ('object', 'array', 'boolean') THEN
                PERFORM cdp_internal.ingest_type_fail(is_batch, pos, 'userId', m -> 'userId', 'a string');
            ELSIF jsonb_typeof(m -> 'anonymousId') IN ('object', 'array', 'boolean') THEN
                PERFORM cdp_internal.ingest_type_fail(is_batch, pos, 'anonymousId', m -> 'anonymousId', 'a string');
            ELSIF jsonb_typeof(m -> 'messageId') IN ('object', 'array', 'boolean') THEN
                PERFORM cdp_internal.ingest_type_fail(is_batch, pos, 'messageId', m -> 'messageId', 'a string');
            END IF;
            user_id := nullif(m ->> 'userId', '');
            anonymous_id := nullif(m ->> 'anonymousId', '');
            message_id := nullif(m ->> 'messageId', '');
            IF user_id IS NULL AND anonymous_id IS NULL THEN
                PERFORM cdp_internal.ingest_fail('22004', is_batch, pos, 'neither "userId" nor "anonymousId"',
                    'Every message names its person by userId, anonymousId or both.');
            END IF;
            ctx := m -> 'context';
            user_traits := ctx -> 'traits';
            traits := m -> 'traits';
            IF jsonb_typeof(ctx) NOT IN ('object', 'null') THEN
                PERFORM cdp_internal.ingest_type_fail(is_batch, pos, 'context', ctx, 'a JSON object');
            ELSIF jsonb_typeof(user_traits) NOT IN ('object', 'null') THEN
                PERFORM cdp_internal.ingest_type_fail(is_batch, pos, 'context.traits', user_traits, 'a JSON object');
            ELSIF jsonb_typeof(traits) NOT IN ('object', 'null') THEN
                PERFORM cdp_internal.ingest_type_fail(is_batch, pos, 'traits', traits, 'a JSON object');
            END IF;
            IF jsonb_typeof(user_traits) = 'null' THEN
                user_traits := NULL;
            END IF;
            IF jsonb_typeof(traits) = 'null' THEN
                traits := NULL;
            END IF;
            IF mtype = 'identify' AND traits IS NOT NULL THEN
                -- traits of an identify are the user's; they win over context.traits
                user_traits := coalesce(user_traits || traits, traits);
            END IF;
            props := NULL;
            event_name := NULL;
            IF mtype IN ('track', 'page', 'screen') THEN
                props := m -> 'properties';
                IF jsonb_typeof(props) NOT IN ('object', 'null') THEN
                    PERFORM cdp_internal.ingest_type_fail(is_batch, pos, 'properties', props, 'a JSON object');
                ELSIF jsonb_typeof(props) = 'null' THEN
                    props := NULL;
                END IF;
                IF mtype = 'track' THEN
                    IF jsonb_typeof(m -> 'event') IN ('object', 'array', 'boolean') THEN
                        PERFORM cdp_internal.ingest_type_fail(is_batch, pos, 'event', m -> 'event', 'a string');
                    END IF;
                    event_name := nullif(m ->> 'event', '');
                    IF event_name IS NULL THEN
                        PERFORM cdp_internal.ingest_fail('22004', is_batch, pos, 'a track message needs an "event"');
                    END IF;
                ELSE
                    -- page and screen are events named page and screen; their
                    -- name and category join the properties (which win)
                    event_name := mtype;
                    IF m ? 'name' OR m ? 'category' THEN
                        props := jsonb_strip_nulls(jsonb_build_object('name', m -> 'name', 'category', m -> 'category'))
                                 || coalesce(props, '{}');
                    END IF;
                END IF;
            ELSIF mtype = 'group' THEN
                IF jsonb_typeof(m -> 'groupId') IN ('object', 'array', 'boolean') THEN
                    PERFORM cdp_internal.ingest_type_fail(is_batch, pos, 'groupId', m -> 'groupId', 'a string');
                END IF;
                group_id := nullif(m ->> 'groupId', '');
                IF group_id IS NULL THEN
                    PERFORM cdp_internal.ingest_fail('22004', is_batch, pos, 'a group message needs a "groupId"');
                END IF;
                org_slug := regexp_replace(lower(group_id), '[^a-z0-9_-]', '-', 'g');
                IF org_slug !~ '^[a-z0-9][a-z0-9_-]{0,62}$' THEN
                    PERFORM cdp_internal.ingest_fail('22023', is_batch, pos,
                        format('"groupId" %s does not make an organization slug', quote_literal(group_id)),
                        'The groupId in lower case, with every character other than a-z, 0-9, _ and - made -, must match ^[a-z0-9][a-z0-9_-]{0,62}$.');
                END IF;
                IF jsonb_typeof(traits -> 'name') IN ('object', 'array', 'boolean') THEN
                    PERFORM cdp_internal.ingest_type_fail(is_batch, pos, 'traits.name', traits -> 'name', 'a string');
                END IF;
                org_name := nullif(traits ->> 'name', '');
            ELSIF mtype = 'alias' THEN
                IF jsonb_typeof(m -> 'previousId') IN ('object', 'array', 'boolean') THEN
                    PERFORM cdp_internal.ingest_type_fail(is_batch, pos, 'previousId', m -> 'previousId', 'a string');
                END IF;
                previous_id := nullif(m ->> 'previousId', '');
                IF previous_id IS NULL THEN
                    PERFORM cdp_internal.ingest_fail('22004', is_batch, pos, 'an alias message needs a "previousId"');
                END IF;
            END IF;

            -- names, email and phone among the user's traits
            given := NULL;
            family := NULL;
            ids := NULL;
            IF user_traits IS NOT NULL THEN
                IF user_traits ?| ARRAY['firstName', 'first_name', 'lastName', 'last_name', 'name'] THEN
                    FOREACH s IN ARRAY ARRAY['firstName', 'first_name', 'lastName', 'last_name', 'name'] LOOP
                        IF jsonb_typeof(user_traits -> s) IN ('object', 'array', 'boolean') THEN
                            PERFORM cdp_internal.ingest_type_fail(is_batch, pos, 'traits.' || s, user_traits -> s, 'a string');
                        END IF;
                    END LOOP;
                    given := coalesce(user_traits ->> 'firstName', user_traits ->> 'first_name');
                    family := coalesce(user_traits ->> 'lastName', user_traits ->> 'last_name');
                    IF given IS NULL AND family IS NULL THEN
                        -- a full name: its first word is the given name
                        full_name := btrim(user_traits ->> 'name', E' \t\r\n\f');
                        given := nullif(substring(full_name from '^\S+'), '');
                        family := nullif(btrim(substring(full_name from '^\S+(.*)$'), E' \t\r\n\f'), '');
                    END IF;
                END IF;
                IF user_traits ?| ARRAY['email', 'phone'] THEN
                    IF jsonb_typeof(user_traits -> 'email') IN ('object', 'array', 'boolean') THEN
                        PERFORM cdp_internal.ingest_type_fail(is_batch, pos, 'traits.email', user_traits -> 'email', 'a string');
                    ELSIF jsonb_typeof(user_traits -> 'phone') IN ('object', 'array', 'boolean') THEN
                        PERFORM cdp_internal.ingest_type_fail(is_batch, pos, 'traits.phone', user_traits -> 'phone', 'a string');
                    END IF;
                    ids := jsonb_strip_nulls(jsonb_build_object('email', nullif(user_traits ->> 'email', ''),
                                                                'phone', nullif(user_traits ->> 'phone', '')));
                END IF;
            END IF;

            -- when it happened: timestamp, else originalTimestamp corrected by
            -- the device's clock skew (receivedAt - sentAt), else receivedAt;
            -- the handler names time_field when the cast refuses a date
            ours := false;
            time_field := 'timestamp';
            v := m -> 'timestamp';
            s := CASE WHEN jsonb_typeof(v) = 'string' THEN v #>> '{}' END;
            IF s ~ iso_zoned THEN
                occurred := s::timestamptz;         -- the common case, kept quick
            ELSIF v IS NOT NULL THEN
                occurred := cdp_internal.ingest_time(v, 'timestamp', is_batch, pos);
            ELSE
                occurred := NULL;
            END IF;
            IF occurred IS NULL THEN
                time_field := 'receivedAt';
                t_received := cdp_internal.ingest_time(m -> 'receivedAt', 'receivedAt', is_batch, pos);
                time_field := 'originalTimestamp';
                occurred := cdp_internal.ingest_time(m -> 'originalTimestamp', 'originalTimestamp', is_batch, pos);
                IF occurred IS NOT NULL THEN
                    time_field := 'sentAt';
                    t_sent := cdp_internal.ingest_time(m -> 'sentAt', 'sentAt', is_batch, pos);
                    occurred := occurred + coalesce(t_received - t_sent, interval '0');
                ELSE
                    occurred := t_received;
                END IF;
            END IF;
            time_field := NULL;

            -- a repeated messageId: stored once (a concurrent delivery of the
            -- same id waits here for the first one's transaction)
            IF message_id IS NOT NULL THEN
                INSERT INTO cdp.ingested_messages (message_id) VALUES (message_id) ON CONFLICT DO NOTHING;
                CONTINUE WHEN NOT FOUND;
            END IF;

            IF mtype = 'alias' THEN
                -- previousId is a userId the person had, when one is known, and
                -- otherwise an anonymousId (an array: two external_ids may meet)
                ids := jsonb_build_array(
                           jsonb_build_object('kind', CASE WHEN cdp.find_contact('external_id', previous_id) IS NOT NULL
                                                           THEN 'external_id' ELSE 'anonymous' END,
                                              'value', previous_id))
                       || (SELECT coalesce(jsonb_agg(jsonb_build_object('kind', e.key, 'value', e.value)), '[]')
                             FROM jsonb_each(coalesce(ids, '{}')
                                             || jsonb_strip_nulls(jsonb_build_object('external_id', user_id,
                                                                                     'anonymous', anonymous_id))) e);
            ELSIF ids IS NULL THEN
                ids := jsonb_strip_nulls(jsonb_build_object('external_id', user_id, 'anonymous', anonymous_id));
            ELSE
                ids := ids || jsonb_strip_nulls(jsonb_build_object('external_id', user_id, 'anonymous', anonymous_id));
            END IF;
            -- resolve returns the live contact and holds it (the one contact
            -- lock) until the end of the transaction
            contact := cdp.resolve(ids, 'ingest', on_invalid => 'skip');
            CONTINUE WHEN contact IS NULL;      -- every value refused, and recorded as a conflict
            stored := stored + 1;

            IF given IS NOT NULL OR family IS NOT NULL THEN
                SELECT c.given_name, c.family_name INTO old_given, old_family FROM cdp.contacts c WHERE c.id = contact;
                IF (given IS NOT NULL AND nullif(btrim(given, E' \t\r\n\f'), '') IS DISTINCT FROM old_given)
                   OR (family IS NOT NULL AND nullif(btrim(family, E' \t\r\n\f'), '') IS DISTINCT FROM old_family) THEN
                    PERFORM cdp.update_contact(contact, given, family);
                END IF;
            END IF;
            IF user_traits ?| contact_traits THEN
                FOR prof, vals IN
                    SELECT t.profile, jsonb_object_agg(t.attribute, e.value ORDER BY t.trait)
                      FROM jsonb_each(user_traits) e
                      JOIN cdp.trait_mappings t ON t.trait = e.key AND t.object_type = 'contact'
                     GROUP BY t.profile ORDER BY t.profile
                LOOP
                    PERFORM cdp.set_profile(contact, prof, vals, 'ingest');
                END LOOP;
            END IF;

            IF event_name IS NOT NULL THEN
                INSERT INTO cdp.events (contact_id, name, occurred_at, properties, source)
                VALUES (contact, event_name, coalesce(occurred, now()), coalesce(props, '{}'), 'ingest');
            ELSIF mtype = 'group' THEN
                INSERT INTO cdp.organizations AS o (slug, name)
                VALUES (org_slug, coalesce(org_name, group_id))
                ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name
                 WHERE org_name IS NOT NULL AND o.name IS DISTINCT FROM EXCLUDED.name
                RETURNING o.id INTO org;
                IF org IS NULL THEN
                    SELECT o.id INTO org FROM cdp.organizations o WHERE o.slug = org_slug;
                END IF;
                -- the first organization of a contact becomes its primary one;
                -- a later group call never takes that away
                is_primary := NOT EXISTS (SELECT 1 FROM cdp.organization_members om
                                           WHERE om.contact_id = contact AND om.is_primary
                                             AND om.organization_id <> org);
                PERFORM cdp.add_member(contact, org_slug, NULL, is_primary);
                IF traits ?| org_traits THEN
                    FOR prof, vals IN
                        SELECT t.profile, jsonb_object_agg(t.attribute, e.value ORDER BY t.trait)
                          FROM jsonb_each(traits) e
                          JOIN cdp.trait_mappings t ON t.trait = e.key AND t.object_type = 'organization'
                         GROUP BY t.profile ORDER BY t.profile
                    LOOP
                        PERFORM cdp.set_organization_profile(org_slug, prof, vals);
                    END LOOP;
                END IF;
            END IF;
        END LOOP;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_message = MESSAGE_TEXT,
                                e_detail = PG_EXCEPTION_DETAIL, e_hint = PG_EXCEPTION_HINT;
        IF ours OR (time_field IS NULL AND NOT is_batch) OR (time_field IS NOT NULL AND e_state = '22P02') THEN
            RAISE;
        END IF;
        IF time_field IS NOT NULL THEN
            -- a date the pattern let through but the calendar refuses
            e_state := '22P02';
            e_detail := e_message;
            e_message := format('invalid message%s: "%s" is not an ISO 8601 date and time: %s',
                                CASE WHEN is_batch THEN ' ' || pos END, time_field, m -> time_field);
        ELSE
            e_message := format('message %s: %s', pos, e_message);
        END IF;
        -- (an empty DETAIL or HINT would still be printed: leave them out)
        IF e_detail = '' AND e_hint = '' THEN
            RAISE EXCEPTION USING ERRCODE = e_state, MESSAGE = e_message;
        ELSIF e_hint = '' THEN
            RAISE EXCEPTION USING ERRCODE = e_state, MESSAGE = e_message, DETAIL = e_detail;
        ELSIF e_detail = '' THEN
            RAISE EXCEPTION USING ERRCODE = e_state, MESSAGE = e_message, HINT = e_hint;
        END IF;
        RAISE EXCEPTION USING ERRCODE = e_state, MESSAGE = e_message, DETAIL = e_detail, HINT = e_hint;
    END;
    RETURN stored;
END
$$;
COMMENT ON FUNCTION cdp.ingest(jsonb) IS
    'Stores Segment-spec messages (identify, track, page, screen, group, alias; one object, an array or {"batch": [...]}); returns how many were stored (repeated messageIds and messages whose every identifier was refused are not counted)';
