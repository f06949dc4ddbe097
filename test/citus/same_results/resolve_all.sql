-- resolve_all.sql: namespace b in one resolve_all call.
INSERT INTO public.tap_returns
SELECT 'resolve_all', 1, count(*) || ' records, ' || count(DISTINCT contact_id) || ' contacts'
  FROM cdp.resolve_all($$SELECT record_id::text AS record_id, kind, value, 'tap' AS source, NULL::text AS region
                           FROM public.tap_records WHERE ns = 'b'$$);
