-- unmerge.sql: undo the first operator merge; the pair is then blocked, so a
-- second merge_contacts is refused and a record linking them is a conflict.
DO $$
DECLARE
    m bigint;
BEGIN
    SELECT id INTO m FROM cdp.merges WHERE reason = 'tap merge 1';
    PERFORM cdp.unmerge(m);
END
$$;
DO $$
BEGIN
    PERFORM cdp.merge_contacts(cdp.find_contact('email', 'a-p101@example.com'),
                               ARRAY[cdp.find_contact('email', 'a-p103@example.com')], 'tap merge again');
    INSERT INTO public.tap_returns VALUES ('merge a blocked pair', 1, 'merged');
EXCEPTION WHEN OTHERS THEN
    INSERT INTO public.tap_returns VALUES ('merge a blocked pair', 1, SQLSTATE);
END
$$;
SELECT cdp.resolve('{"email": "a-p103@example.com", "external_id": "a-x101"}', 'tap');
SELECT cdp.resolve('{"external_id": "a-x101", "email": "a-p101@example.com"}', 'tap');
INSERT INTO public.tap_returns
SELECT 'unmerged apart', 1,
       (cdp.find_contact('email', 'a-p103@example.com') <> cdp.find_contact('email', 'a-p101@example.com'))::text;
