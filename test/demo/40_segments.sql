-- The demo's fourth step: segments -- an audience defined in the segment
-- language, its members, and why one contact is in it and another is not.
\pset footer off

SELECT cdp.create_segment('engaged_buyers',
    $$customer.tier in ('gold', 'silver') and not tag 'Newsletter'
      and (event 'purchase' within 30 days or interests under 'sports')$$,
    'Engaged buyers') \gset

\echo
\echo 'A saved segment, printed in its canonical form:'
SELECT slug AS "segment", definition AS "definition" FROM cdp.segments ORDER BY slug;

\echo
\echo 'Its members (archived and merged contacts are never members):'
SELECT c.id AS "contact", coalesce(c.given_name || ' ' || c.family_name, 'contact ' || c.id) AS "name"
  FROM cdp.members('engaged_buyers') m JOIN cdp.contacts c ON c.id = m
 ORDER BY c.id;

\echo
\echo 'Why Jane is a member, node by node:'
SELECT repeat('  ', depth) || condition AS "condition", result AS "holds", detail AS "why"
  FROM cdp.explain_segment('engaged_buyers', cdp.find_contact('email', 'jane.doe@gmail.com'))
 ORDER BY node;

\echo
\echo 'Why Bob is not:'
SELECT repeat('  ', depth) || condition AS "condition", result AS "holds", detail AS "why"
  FROM cdp.explain_segment('engaged_buyers', cdp.find_contact('email', 'bob@example.org'))
 ORDER BY node;

\echo
\echo 'The one SQL statement the segment compiles to (what cdp.members runs):'
SELECT cdp.segment_sql(definition) AS "compiled SQL" FROM cdp.segments WHERE slug = 'engaged_buyers';
