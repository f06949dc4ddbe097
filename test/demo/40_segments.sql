-- 40_segments.sql: audiences over the loaded data: saved segments (one kept
-- exact by every writing transaction: refresh => 'immediate'), a view for
-- BI tools, and a downstream consumer of the change feed catching up.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

CREATE TABLE demo.segment_runs (segment text, run text, members bigint, entered bigint, exited bigint,
                                ms numeric);
CREATE TABLE demo.segment_defs (n int, slug text, title text, definition text, refresh text);
INSERT INTO demo.segment_defs VALUES
    (1, 'gold_customers', 'Gold customers', $$customer.tier = 'gold'$$, 'immediate'),
    (2, 'active_buyers', 'Bought 3 times in 90 days', $$event 'purchase' count >= 3 within 90 days$$, 'manual'),
    (3, 'uk_sports_fans', 'UK sports fans on the newsletter',
        $$interests under 'sports' and customer.country = 'GB' and tag 'Newsletter'$$, 'manual'),
    (4, 'northwind_people', 'People of the Northwind group', $$organization under 'northwind-group'$$, 'manual'),
    (5, 'lapsed_vips', 'VIPs without a purchase in 90 days',
        $$tag 'VIP' and not event 'purchase' within 90 days$$, 'manual'),
    (6, 'premium_gold', 'Gold customers on the premium plan',
        $$in segment 'gold_customers' and app.plan = 'premium'$$, 'manual');

-- Create each segment; fill the manual ones with their first refresh (an
-- immediate segment is filled when it is created).
DO $$
DECLARE
    d demo.segment_defs;
    t0 timestamptz;
    r record;
BEGIN
    FOR d IN SELECT * FROM demo.segment_defs ORDER BY n LOOP
        t0 := clock_timestamp();
        PERFORM cdp.create_segment(d.slug, d.definition, d.title, refresh => d.refresh);
        IF d.refresh = 'manual' THEN
            SELECT * INTO r FROM cdp.refresh_segment(d.slug);
        ELSE
            SELECT member_count AS entered, 0 AS exited INTO r FROM cdp.segments WHERE slug = d.slug;
        END IF;
        INSERT INTO demo.segment_runs
        SELECT d.slug, 'first', s.member_count, r.entered, r.exited,
               round(extract(epoch FROM clock_timestamp() - t0)::numeric * 1000, 1)
          FROM cdp.segments s WHERE s.slug = d.slug;
    END LOOP;
END
$$;

SELECT cdp.create_view('gold_customers', 'gold_customers',
       ARRAY['id', 'given_name', 'family_name', 'email', 'phone', 'customer.tier', 'customer.lifetime_value',
             'organization.name', 'tags', 'interests', 'count(events.purchase)', 'count(documents.ticket)']) \gset

-- The CRM sync subscribes to the feed: it first takes the initial load's
-- changes (it would export them once), then follows the day.
CREATE TABLE demo.consumed (LIKE cdp.changes);
CREATE TABLE demo.timings (step text, ms numeric, n bigint);
DO $$
DECLARE
    t0 timestamptz := clock_timestamp();
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM cdp.consume('crm_sync', 100000000);
    INSERT INTO demo.timings VALUES ('backlog', round(extract(epoch FROM clock_timestamp() - t0)::numeric * 1000), n);
END
$$;

-- The day's stream starts now.
CREATE TABLE demo.marks (step text, at timestamptz);
INSERT INTO demo.marks VALUES ('day', clock_timestamp());
