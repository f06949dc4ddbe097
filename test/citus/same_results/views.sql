-- views.sql: a plain and a materialized view for BI tools, refreshed.
SELECT cdp.create_view('tap_gold', 'cmp_eq',
       ARRAY['id', 'given_name', 'email', 'phone', 'customer.tier', 'customer.ltv', 'organization.name',
             'organization.company.industry', 'tags', 'interests', 'count(events.purchase)',
             'count(documents.invoice)']);
SELECT cdp.create_view('tap_vip_snapshot', 'imm_vip', ARRAY['id', 'email', 'customer.ltv'], materialized => true);
SELECT cdp.tag('contact', cdp.find_contact('email', 'a-p47@example.com'), 'VIP');
SELECT cdp.refresh_view('tap_vip_snapshot');
SELECT cdp.refresh_view('tap_gold');
