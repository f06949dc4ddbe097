-- refresh.sql: refresh_segment of manual segments, writes that move contacts
-- in and out of them (tag, untag, track, set_profile, archive), a second
-- refresh (only the changed contacts) and a third that finds nothing new.
CREATE FUNCTION pg_temp.refresh_all(step text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    s text;
    i integer := 0;
BEGIN
    FOREACH s IN ARRAY ARRAY['buyers', 'doc_where', 'event_none', 'has_profile', 'org_under', 'tag'] LOOP
        SELECT * INTO r FROM cdp.refresh_segment(s);
        i := i + 1;
        INSERT INTO public.tap_returns VALUES (step, i, s || ' entered ' || r.entered || ' exited ' || r.exited);
    END LOOP;
END
$$;
SELECT pg_temp.refresh_all('refresh 1');
SELECT cdp.tag('contact', cdp.find_contact('email', 'a-p9@example.com'), 'VIP');
SELECT cdp.untag('contact', cdp.find_contact('email', 'a-p17@example.com'), 'VIP');
SELECT cdp.track('{"email": "a-p2@example.com"}', 'purchase', '{"amount": 5}', '2025-06-01T00:00:00Z', 'shop');
SELECT cdp.track('{"email": "a-p2@example.com"}', 'purchase', '{"amount": 6}', '2025-06-02T00:00:00Z', 'shop');
SELECT cdp.set_profile(cdp.find_contact('email', 'a-p11@example.com'), 'customer', '{"tier": "gold"}');
SELECT cdp.add_member(cdp.find_contact('email', 'a-p21@example.com'), 'acme-uk');
SELECT cdp.archive('contact', cdp.find_contact('email', 'a-p13@example.com'));
SELECT pg_temp.refresh_all('refresh 2');
SELECT pg_temp.refresh_all('refresh 3');
