-- The demo's third step: what cdp knows about the unified contacts --
-- a typed profile, an organization, interests, tags and events.
\pset footer off

DO $$
DECLARE
    jane bigint := cdp.find_contact('email', 'jane.doe@gmail.com');
    bob bigint := cdp.find_contact('email', 'bob@example.org');
BEGIN
    PERFORM cdp.define_profile('customer', 'contact', '[
        {"slug": "tier", "type": "text", "options": ["bronze", "silver", "gold"]},
        {"slug": "lifetime_value", "type": "number", "min": 0, "decimals": 2},
        {"slug": "birthday", "type": "date"}]', 'Customer');
    PERFORM cdp.set_profile(jane, 'customer', '{"tier": "gold", "lifetime_value": 1234.5}', 'shop');
    PERFORM cdp.set_profile(bob, 'customer', '{"tier": "silver"}', 'crm');
    PERFORM cdp.set_profile(jane, 'customer', '{"birthday": "1985-04-12"}', 'app');

    PERFORM cdp.create_organization('acme', 'Acme Retail');
    PERFORM cdp.add_member(jane, 'acme', 'buyer', true);

    PERFORM cdp.define_taxonomy('interests', ARRAY['contact']);
    PERFORM cdp.add_term('interests', 'sports/football');
    PERFORM cdp.classify('contact', jane, 'interests', 'sports/football');
    PERFORM cdp.tag('contact', jane, 'VIP', 'Technology/AI');
    PERFORM cdp.tag('contact', bob, 'Newsletter');

    PERFORM cdp.track('{"email": "janedoe@gmail.com"}', 'purchase', '{"amount": 120}', source => 'shop');
    PERFORM cdp.track('{"phone": "+447911123456"}', 'purchase', '{"amount": 80}', source => 'pos');
    PERFORM cdp.track('{"anonymous": "cookie-99b1"}', 'page_view', '{"path": "/pricing"}', source => 'app');
END
$$;

\echo
\echo 'The typed profile table that BI tools read (cdp_data.profile_customer):'
SELECT c.given_name AS "name", p.tier AS "tier", p.lifetime_value AS "lifetime value",
       p.birthday AS "birthday"
  FROM cdp_data.profile_customer p JOIN cdp.contacts c ON c.id = p.contact_id
 ORDER BY c.id;

\echo
\echo 'Events recorded against the resolved contacts (the POS purchase came by phone):'
SELECT coalesce(c.given_name, 'contact ' || c.id) AS "contact", e.name AS "event",
       e.properties AS "properties", e.source AS "source"
  FROM cdp.events e JOIN cdp.contacts c ON c.id = e.contact_id
 ORDER BY e.id;

\echo
\echo 'Tags, interests and organizations:'
SELECT coalesce(c.given_name, 'contact ' || c.id) AS "contact",
       (SELECT string_agg(t.path, ', ' ORDER BY t.path) FROM cdp.contact_tags ct
          JOIN cdp.tags t ON t.id = ct.tag_id WHERE ct.contact_id = c.id) AS "tags",
       (SELECT string_agg(tm.path, ', ' ORDER BY tm.path) FROM cdp.contact_terms ctm
          JOIN cdp.terms tm ON tm.id = ctm.term_id WHERE ctm.contact_id = c.id) AS "interests",
       (SELECT string_agg(o.name || coalesce(' (' || m.role || ')', ''), ', ') FROM cdp.organization_members m
          JOIN cdp.organizations o ON o.id = m.organization_id WHERE m.contact_id = c.id) AS "organizations"
  FROM cdp.contacts c
 WHERE c.merged_into IS NULL AND c.given_name IS NOT NULL
 ORDER BY c.id;
