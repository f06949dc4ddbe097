-- merge.sql: operators' merges of contacts of namespace a that carry model
-- data (profiles, tags, terms, memberships, documents, events), one of them
-- a chain (a survivor that is absorbed in turn).
SELECT cdp.merge_contacts(cdp.find_contact('email', 'a-p101@example.com'),
                          ARRAY[cdp.find_contact('email', 'a-p103@example.com')], 'tap merge 1');
SELECT cdp.merge_contacts(cdp.find_contact('email', 'a-p102@example.com'),
                          ARRAY[cdp.find_contact('email', 'a-p104@example.com'),
                                cdp.find_contact('email', 'a-p106@example.com')], 'tap merge 2');
SELECT cdp.merge_contacts(cdp.find_contact('email', 'a-p101@example.com'),
                          ARRAY[cdp.find_contact('email', 'a-p102@example.com')], 'tap merge 3');
-- a record that links two contacts: resolve merges them
SELECT cdp.resolve('{"email": "a-p107@example.com", "phone": "+44 20 7946 0061"}', 'tap');
INSERT INTO public.tap_returns
SELECT 'merged find_contact', 1,
       (cdp.find_contact('email', 'a-p104@example.com') = cdp.find_contact('email', 'a-p101@example.com'))::text;
