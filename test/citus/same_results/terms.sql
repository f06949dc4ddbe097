-- terms.sql: classify and unclassify contacts of namespace a.
DO $$
DECLARE
    c bigint;
    removed integer := 0;
BEGIN
    FOR n IN 0..149 LOOP
        c := cdp.find_contact('email', 'a-p' || n || '@example.com');
        IF n % 3 = 0 THEN PERFORM cdp.classify('contact', c, 'interests', 'sports/football'); END IF;
        IF n % 5 = 1 THEN PERFORM cdp.classify('contact', c, 'interests', 'Music'); END IF;
        IF n % 8 = 2 THEN PERFORM cdp.classify('contact', c, 'interests', 'sports/tennis'); END IF;
    END LOOP;
    FOR n IN 1..149 BY 25 LOOP
        IF cdp.unclassify('contact', cdp.find_contact('email', 'a-p' || n || '@example.com'), 'interests', 'music') THEN
            removed := removed + 1;
        END IF;
    END LOOP;
    INSERT INTO public.tap_returns VALUES ('unclassify', 1, removed);
END
$$;
