-- organizations.sql: memberships of contacts of namespace a, a move in the tree.
DO $$
DECLARE
    c bigint;
    removed integer := 0;
BEGIN
    FOR n IN 0..149 LOOP
        c := cdp.find_contact('email', 'a-p' || n || '@example.com');
        IF n % 4 = 0 THEN PERFORM cdp.add_member(c, 'acme-london', 'clerk', is_primary => true); END IF;
        IF n % 6 = 1 THEN PERFORM cdp.add_member(c, 'beta', 'engineer'); END IF;
        IF n % 10 = 3 THEN PERFORM cdp.add_member(c, 'acme', 'buyer', is_primary => true); END IF;
    END LOOP;
    FOR n IN 0..149 BY 16 LOOP
        IF cdp.remove_member(cdp.find_contact('email', 'a-p' || n || '@example.com'), 'acme-london') THEN
            removed := removed + 1;
        END IF;
    END LOOP;
    INSERT INTO public.tap_returns VALUES ('remove_member', 1, removed);
END
$$;
SELECT cdp.create_organization('gamma', 'Gamma', parent => 'beta');
SELECT cdp.move_organization('acme-london', 'acme');
SELECT cdp.set_organization_profile('gamma', 'company', '{"industry": "retail"}');
