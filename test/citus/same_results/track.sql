-- track.sql: purchases and page views of namespace a at fixed times in May 2025.
DO $$
BEGIN
    FOR n IN 0..149 LOOP
        IF n % 3 = 1 THEN
            FOR k IN 0..n % 4 LOOP
                PERFORM cdp.track(jsonb_build_object('email', 'a-p' || n || '@example.com'), 'purchase',
                                  jsonb_build_object('amount', n + k * 10),
                                  timestamptz '2025-05-01 00:00:00+00' + make_interval(days => k * 9, hours => n), 'shop');
            END LOOP;
        END IF;
        IF n % 7 = 2 THEN
            PERFORM cdp.track(jsonb_build_object('email', 'a-p' || n || '@example.com'), 'page_view',
                              jsonb_build_object('path', '/pricing/' || n),
                              timestamptz '2025-06-20 00:00:00+00' + make_interval(hours => n), 'web');
        END IF;
    END LOOP;
END
$$;
