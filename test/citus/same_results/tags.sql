-- tags.sql: tag and untag contacts of namespace a.
DO $$
DECLARE
    c bigint;
    total integer := 0;
BEGIN
    FOR n IN 0..149 LOOP
        c := cdp.find_contact('email', 'a-p' || n || '@example.com');
        IF n % 10 = 7 THEN total := total + cdp.tag('contact', c, 'VIP'); END IF;
        IF n % 4 = 1 THEN total := total + cdp.tag('contact', c, 'Technology/AI'); END IF;
        IF n % 9 = 0 THEN total := total + cdp.tag('contact', c, 'Churned', 'Technology/Cloud'); END IF;
    END LOOP;
    INSERT INTO public.tap_returns VALUES ('tag', 1, total);
    total := 0;
    FOR n IN 0..149 BY 20 LOOP
        total := total + cdp.untag('contact', cdp.find_contact('email', 'a-p' || n || '@example.com'), 'Churned');
    END LOOP;
    INSERT INTO public.tap_returns VALUES ('untag', 1, total);
END
$$;
