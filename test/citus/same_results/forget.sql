-- forget.sql: forget two people of namespace a with model data; their
-- identifiers are then suppressed.
SELECT cdp.forget_contact(cdp.find_contact('email', 'a-p108@example.com'));
SELECT cdp.forget_contact(cdp.find_contact('email', 'a-p112@example.com'));
INSERT INTO public.tap_returns
SELECT 'forgotten find_contact', 1, coalesce(cdp.find_contact('email', 'a-p108@example.com')::text, 'null');
DO $$
BEGIN
    PERFORM cdp.resolve('{"phone": "+44 20 7946 0056"}', 'tap');
    INSERT INTO public.tap_returns VALUES ('resolve a forgotten phone', 1, 'resolved');
EXCEPTION WHEN OTHERS THEN
    INSERT INTO public.tap_returns VALUES ('resolve a forgotten phone', 1, SQLSTATE);
END
$$;
-- anonymous visitors not seen since the workload's start: every ghost
INSERT INTO public.tap_returns SELECT 'cleanup_ghosts', 1, cdp.cleanup_ghosts('0 seconds')::text;
