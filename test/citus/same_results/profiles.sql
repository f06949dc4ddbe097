-- profiles.sql: set_profile on namespace a (full, partial and clearing writes).
DO $$
DECLARE
    c bigint;
BEGIN
    FOR n IN 0..149 LOOP
        c := cdp.find_contact('email', 'a-p' || n || '@example.com');
        PERFORM cdp.set_profile(c, 'customer', jsonb_strip_nulls(jsonb_build_object(
            'tier', (ARRAY['bronze', 'silver', 'gold'])[n % 3 + 1],
            'ltv', n * 10.5,
            'age', 20 + n % 50,
            'topics', CASE n % 4 WHEN 0 THEN '["ai", "golf"]'::jsonb WHEN 1 THEN '["music"]'::jsonb END,
            'birthday', CASE WHEN n % 5 = 3 THEN to_char(date '1990-01-01' + n, 'YYYY-MM-DD') END,
            'vip', n % 7 = 0,
            'billing', CASE WHEN n % 6 = 0 THEN 'A-P' || n || '@Example.COM' END)), 'tap');
        IF n % 10 = 4 THEN
            PERFORM cdp.set_profile(c, 'customer', '{"age": null, "vip": true}');
        END IF;
    END LOOP;
    INSERT INTO public.tap_returns
    SELECT 'remove_profile', 1, cdp.remove_profile(cdp.find_contact('email', 'a-p149@example.com'), 'customer')::text;
END
$$;
