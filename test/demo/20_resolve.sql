-- The demo's second step: records from four sources resolved to unified
-- contacts, one merge explained and undone.
\pset footer off

CREATE TEMP TABLE demo_records (n int, source text, identifiers jsonb);
INSERT INTO demo_records VALUES
    (1, 'crm',  '{"external_id": "CRM-001", "email": "Jane.Doe@gmail.com"}'),
    (2, 'shop', '[{"kind": "email", "value": "janedoe+orders@googlemail.com", "validated": "double_opt_in"},
                  {"kind": "phone", "value": "07911 123456", "region": "GB"}]'),
    (3, 'pos',  '{"phone": "+44 7911 123456"}'),
    (4, 'app',  '[{"kind": "anonymous", "value": "cookie-7f3a"},
                  {"kind": "phone", "value": "+447911123456", "validated": "otp"}]'),
    (5, 'crm',  '{"external_id": "CRM-002", "email": "bob@Example.org"}'),
    (6, 'app',  '{"anonymous": "cookie-99b1"}'),
    (7, 'shop', '{"email": "bob+shop@example.org", "phone": "(650) 253-0000"}'),
    (8, 'app',  '{"anonymous": "cookie-99b1", "email": "bob@example.org"}');

\echo
\echo 'Each record resolves to a contact (records 6 and 8 link a cookie to Bob):'
SELECT n AS "record", source AS "source", cdp.resolve(identifiers, source, 'US') AS "contact"
  FROM demo_records ORDER BY n;

DO $$
BEGIN
    PERFORM cdp.update_contact(cdp.find_contact('email', 'jane.doe@gmail.com'), 'Jane', 'Doe');
    PERFORM cdp.update_contact(cdp.find_contact('email', 'bob@example.org'), 'Bob', NULL);
END
$$;

\echo
\echo 'Unified contacts with their identifiers:'
SELECT c.id AS "contact", c.type AS "type", concat_ws(' ', c.given_name, c.family_name) AS "name",
       string_agg(i.kind || '=' || i.value || coalesce(' (' || i.slug || ')', '')
                  || CASE WHEN i.is_validated THEN ' ✓' ELSE '' END, ', ' ORDER BY i.kind, i.value) AS "identifiers",
       string_agg(DISTINCT i.source, ', ') AS "sources"
  FROM cdp.contacts c JOIN cdp.identifiers i ON i.contact_id = c.id
 WHERE c.merged_into IS NULL
 GROUP BY c.id ORDER BY c.id;

\echo
\echo 'Merges, with the identifier that linked them:'
SELECT id AS "merge", survivor_id AS "survivor", absorbed_id AS "absorbed", source AS "source",
       evidence->>'kind' || '=' || (evidence->>'value') AS "evidence"
  FROM cdp.merges ORDER BY id;

\echo
\echo 'Undo the cookie merge: the cookie goes back to its own contact and the pair is blocked:'
SELECT cdp.unmerge(m.id) AS "restored contact"
  FROM cdp.merges m WHERE m.evidence->>'kind' = 'anonymous' OR m.absorbed_id IN
       (SELECT contact_id FROM cdp.identifiers WHERE kind = 'anonymous' AND value = 'cookie-99b1');
SELECT kind AS "kind", value AS "value", contact_id AS "contact" FROM cdp.identifiers
 WHERE kind = 'anonymous' ORDER BY value;
