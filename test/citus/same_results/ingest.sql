-- ingest.sql: Segment-spec messages about namespace a: identify (names, a
-- mapped trait), track, a repeated delivery, page, group and alias.
INSERT INTO public.tap_returns
SELECT 'ingest identify', 1, cdp.ingest(jsonb_build_object('batch', jsonb_agg(jsonb_build_object(
           'type', 'identify', 'userId', 'a-u' || n, 'messageId', 'a-m' || n,
           'timestamp', '2025-06-01T10:00:00Z',
           'traits', jsonb_build_object('email', 'a-p' || n || '@example.com', 'firstName', 'Given' || n,
                                        'lastName', 'Family' || n, 'plan', 'gold')) ORDER BY n)))
  FROM generate_series(0, 149, 15) n;
INSERT INTO public.tap_returns
SELECT 'ingest track', 1, cdp.ingest(jsonb_agg(jsonb_build_object(
           'type', 'track', 'userId', 'a-u' || n, 'event', 'Order Completed', 'messageId', 'a-t' || n,
           'timestamp', '2025-06-02T10:00:00Z', 'properties', jsonb_build_object('total', n)) ORDER BY n))
  FROM generate_series(0, 149, 15) n;
INSERT INTO public.tap_returns VALUES ('ingest again', 1, cdp.ingest(
    '{"type": "track", "userId": "a-u15", "event": "Order Completed", "messageId": "a-t15"}'));
INSERT INTO public.tap_returns VALUES ('ingest page', 1, cdp.ingest(
    '{"type": "page", "anonymousId": "a-w1", "name": "Pricing", "timestamp": "2025-06-03T10:00:00Z"}'));
INSERT INTO public.tap_returns VALUES ('ingest group', 1, cdp.ingest(
    '{"type": "group", "userId": "a-u30", "groupId": "Initech.com", "traits": {"name": "Initech", "plan": "enterprise"}}'));
INSERT INTO public.tap_returns VALUES ('ingest alias', 1, cdp.ingest(
    '{"type": "alias", "previousId": "a-w1", "userId": "a-u45", "timestamp": "2025-06-04T10:00:00Z"}'));
