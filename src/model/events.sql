-- events.sql
--   cdp.events, what contacts did, and cdp.track, which resolves the contact
--   from its identifiers and records an event.

CREATE TABLE cdp.events (
    id          bigserial PRIMARY KEY,
    contact_id  bigint NOT NULL REFERENCES cdp.contacts (id) ON DELETE CASCADE,
    name        text NOT NULL CONSTRAINT events_name_not_empty CHECK (name <> ''),
    occurred_at timestamptz NOT NULL DEFAULT now(),
    received_at timestamptz NOT NULL DEFAULT now(),
    properties  jsonb NOT NULL DEFAULT '{}'
                CONSTRAINT events_properties_object CHECK (jsonb_typeof(properties) = 'object'),
    source      text
);
-- Per contact (and name and time: EVENT 'purchase' COUNT >= 3 WITHIN 30 DAYS),
-- per name and time, and per time.
CREATE INDEX events_contact_name_time_idx ON cdp.events (contact_id, name, occurred_at);
CREATE INDEX events_name_time_idx ON cdp.events (name, occurred_at);
CREATE INDEX events_time_idx ON cdp.events (occurred_at);
COMMENT ON TABLE cdp.events IS
    'Events of contacts (what they did), recorded by cdp.track';
COMMENT ON COLUMN cdp.events.id IS 'Event id';
COMMENT ON COLUMN cdp.events.contact_id IS 'The contact that did it (a merge moves events to the survivor)';
COMMENT ON COLUMN cdp.events.name IS 'Event name (purchase, page_view, ...)';
COMMENT ON COLUMN cdp.events.occurred_at IS 'When it happened, as the caller said (default: when recorded)';
COMMENT ON COLUMN cdp.events.received_at IS 'When cdp recorded it';
COMMENT ON COLUMN cdp.events.properties IS 'Event details, a JSON object';
COMMENT ON COLUMN cdp.events.source IS 'Where the event came from, as the caller said';

SELECT pg_catalog.pg_extension_config_dump('cdp.events', '');
SELECT pg_catalog.pg_extension_config_dump('cdp.events_id_seq', '');

CREATE FUNCTION cdp.track(identifiers jsonb, event text, properties jsonb DEFAULT '{}',
                          occurred_at timestamptz DEFAULT now(), source text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    contact bigint;
    ev bigint;
BEGIN
    IF event IS NULL OR event = '' THEN
        RAISE EXCEPTION 'invalid event name: %', coalesce(quote_literal(event), 'NULL')
            USING ERRCODE = '22023', DETAIL = 'An event has a non-empty name.';
    END IF;
    IF properties IS NOT NULL AND jsonb_typeof(properties) <> 'object' THEN
        RAISE EXCEPTION 'invalid properties of event "%": %', event, properties
            USING ERRCODE = '22023', DETAIL = 'Properties are a JSON object.';
    END IF;
    contact := cdp.resolve(identifiers, source, on_invalid => 'skip');
    IF contact IS NULL THEN
        RETURN NULL;            -- every value was refused (and recorded as a conflict): no one to record it for
    END IF;
    -- resolve holds the contact it returns; the one contact lock says so
    -- here too, so the event lands on the live contact whatever resolve does
    contact := cdp_internal.lock_contact(contact);
    INSERT INTO cdp.events (contact_id, name, occurred_at, properties, source)
    VALUES (contact, event, coalesce(occurred_at, now()), coalesce(properties, '{}'), source)
    RETURNING id INTO ev;
    RETURN ev;
END
$$;
COMMENT ON FUNCTION cdp.track(jsonb, text, jsonb, timestamptz, text) IS
    'Resolves the contact from its identifiers (cdp.resolve) and records an event; returns the event id (NULL when no value links to anyone)';
