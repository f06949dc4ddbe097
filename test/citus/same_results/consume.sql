-- consume.sql: the change feed through cdp.consume: every change so far (by
-- kind), nothing the second time, then exactly a new write; a second
-- consumer in batches.
INSERT INTO public.tap_returns
SELECT 'consume all', row_number() OVER (ORDER BY object_type, action), object_type || ' ' || action || ' ' || n
  FROM (SELECT object_type, action, count(*) AS n FROM cdp.consume('tap', 1000000) GROUP BY 1, 2) c;
INSERT INTO public.tap_returns SELECT 'consume again', 1, count(*) FROM cdp.consume('tap');
SELECT cdp.set_profile(cdp.find_contact('email', 'a-p11@example.com'), 'customer', '{"tier": "silver"}');
INSERT INTO public.tap_returns
SELECT 'consume new', row_number() OVER (ORDER BY action, diff::text), object_type || ' ' || action || ' ' || diff::text
  FROM cdp.consume('tap');
INSERT INTO public.tap_returns SELECT 'consume batch', 1, count(*) FROM cdp.consume('tap_batches', 10);
INSERT INTO public.tap_returns SELECT 'consume batch', 2, count(*) FROM cdp.consume('tap_batches', 10);
