-- 50_after_day.sql: after the day's stream: the manual segments catch up
-- (refresh_segment applies only what changed), the CRM sync takes the day's
-- changes, and every record is matched to the contact it ended in.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

DO $$
DECLARE
    d demo.segment_defs;
    t0 timestamptz;
    r record;
BEGIN
    FOR d IN SELECT * FROM demo.segment_defs WHERE refresh = 'manual' ORDER BY n LOOP
        t0 := clock_timestamp();
        SELECT * INTO r FROM cdp.refresh_segment(d.slug);
        INSERT INTO demo.segment_runs
        SELECT d.slug, 'after the day', s.member_count, r.entered, r.exited,
               round(extract(epoch FROM clock_timestamp() - t0)::numeric * 1000, 1)
          FROM cdp.segments s WHERE s.slug = d.slug;
    END LOOP;
END
$$;

DO $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    INSERT INTO demo.consumed SELECT * FROM cdp.consume('crm_sync', 100000000);
    INSERT INTO demo.timings
    SELECT 'the day', round(extract(epoch FROM clock_timestamp() - t0)::numeric * 1000), count(*) FROM demo.consumed;
END
$$;

-- The load's records by resolve_all's answer, the day's by one of their
-- valid values; both followed to the surviving contact.
CREATE TABLE demo.result AS
SELECT t.*, cdp.current_contact(CASE WHEN t.phase = 'load' THEN l.contact_id
                                     ELSE cdp.find_contact(t.anchor_kind, t.anchor_value, t.anchor_region) END)
            AS contact
  FROM demo.truth t LEFT JOIN demo.loaded l USING (record_id);
ANALYZE demo.result;
