-- catalog.sql: the catalog of test/t/citus.sh (run after cdp.distribute on
-- the cluster): a contact and an organization profile, two taxonomies, an
-- organization tree, a document template and a trait mapping.
SELECT cdp.define_profile('customer', 'contact', '[
  {"slug": "tier", "type": "text", "options": ["bronze", "silver", "gold"]},
  {"slug": "ltv", "type": "number", "min": 0, "decimals": 2},
  {"slug": "age", "type": "integer", "min": 0, "max": 150},
  {"slug": "topics", "type": "text", "array": true},
  {"slug": "birthday", "type": "date"},
  {"slug": "vip", "type": "boolean"},
  {"slug": "billing", "type": "email"}]', 'Customer');
SELECT cdp.define_profile('company', 'organization', '[
  {"slug": "industry", "type": "text"}, {"slug": "plan", "type": "text"}]');
SELECT cdp.define_taxonomy('interests', ARRAY['contact'], 'Interests');
SELECT cdp.add_term('interests', 'Sports/Football');
SELECT cdp.add_term('interests', 'sports/tennis');
SELECT cdp.add_term('interests', 'music');
SELECT cdp.define_taxonomy('sectors', ARRAY['organization'], 'Sectors');
SELECT cdp.add_term('sectors', 'retail');
SELECT cdp.create_organization('acme', 'Acme Retail');
SELECT cdp.create_organization('acme-uk', 'Acme UK', parent => 'acme');
SELECT cdp.create_organization('acme-london', 'Acme London', parent => 'acme-uk');
SELECT cdp.create_organization('beta', 'Beta Labs');
SELECT cdp.set_organization_profile('acme', 'company', '{"industry": "retail", "plan": "gold"}');
SELECT cdp.set_organization_profile('beta', 'company', '{"industry": "tech"}');
SELECT cdp.classify('organization', (SELECT id FROM cdp.organizations WHERE slug = 'acme'), 'sectors', 'retail');
SELECT cdp.tag('organization', (SELECT id FROM cdp.organizations WHERE slug = 'beta'), 'Partner');
SELECT cdp.define_document_template('invoice', '[
  {"slug": "total", "type": "number", "min": 0},
  {"slug": "status", "type": "text", "options": ["open", "paid"]}]');
SELECT cdp.set_trait_mapping('plan', 'customer.tier');
SELECT cdp.set_trait_mapping('plan', 'company.plan');
