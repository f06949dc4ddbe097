-- graph.sql
--   cdp.identity_graph(contact): a contact's identity graph in Graphviz DOT,
--   for an administrator to look at (dot -Tsvg).

CREATE FUNCTION cdp_internal.dot_quote(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT '"' || replace(replace(replace(value, '\', '\\'), '"', '\"'), E'\n', '\n') || '"'
$$;

CREATE FUNCTION cdp.identity_graph(contact bigint) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    live bigint := cdp.current_contact(contact);
    palette text[] := ARRAY['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
                            '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
    dot text;
BEGIN
    IF contact IS NULL THEN
        RAISE EXCEPTION 'contact must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF live IS NULL THEN
        RAISE EXCEPTION 'contact % does not exist', contact USING ERRCODE = 'undefined_object';
    END IF;

    WITH family(id) AS (SELECT cdp_internal.contact_family(live)),
    kinds AS (
        SELECT k.kind, palette[1 + (row_number() OVER (ORDER BY k.priority, k.kind) - 1)::int % 10] AS color
          FROM cdp.identifier_kinds k),
    contact_nodes AS (
        SELECT format('  c%s [shape=box, style="rounded,filled", fillcolor=%s, label=%s];',
                      c.id, CASE WHEN c.id = live THEN '"#ffffff"' ELSE '"#eeeeee"' END,
                      cdp_internal.dot_quote(format('contact %s%s%s', c.id,
                          CASE WHEN c.id = live THEN ' (' || c.type || ')' ELSE ' (merged)' END,
                          coalesce(E'\n' || nullif(concat_ws(' ', c.given_name, c.family_name), ''), ''))))
               AS line, 0 AS part, c.id AS sort_id
          FROM cdp.contacts c WHERE c.id IN (SELECT id FROM family)),
    identifier_nodes AS (
        SELECT format('  i%s [shape=ellipse, style=filled, fillcolor=%s, fontcolor="#ffffff", label=%s];',
                      i.id, cdp_internal.dot_quote(k.color),
                      cdp_internal.dot_quote(i.kind || coalesce(' (' || i.slug || ')', '') || E'\n' || i.value
                                             || CASE WHEN i.is_validated THEN E'\nvalidated'
                                                     || coalesce(': ' || i.validation_method, '') ELSE '' END))
               AS line, 1 AS part, i.id AS sort_id
          FROM cdp.identifiers i JOIN kinds k USING (kind)
         WHERE i.contact_id IN (SELECT id FROM family)),
    identifier_edges AS (
        SELECT format('  c%s -- i%s [label=%s];', i.contact_id, i.id,
                      cdp_internal.dot_quote(coalesce(i.source, 'unknown source')))
               AS line, 2 AS part, i.id AS sort_id
          FROM cdp.identifiers i WHERE i.contact_id IN (SELECT id FROM family)),
    merge_edges AS (
        SELECT format('  c%s -- c%s [style=%s, color="#555555", label=%s];',
                      m.survivor_id, m.absorbed_id,
                      CASE WHEN m.undone_at IS NULL THEN 'bold' ELSE 'dashed' END,
                      cdp_internal.dot_quote(format('merge %s: %s%s%s', m.id, m.reason,
                          coalesce(E'\nvia ' || (m.evidence->>'kind') || ' ' || (m.evidence->>'value'), ''),
                          CASE WHEN m.undone_at IS NULL THEN '' ELSE E'\nundone' END)))
               AS line, 3 AS part, m.id AS sort_id
          FROM cdp.merges m
         WHERE m.survivor_id IN (SELECT id FROM family) OR m.absorbed_id IN (SELECT id FROM family)),
    restored_nodes AS (
        SELECT format('  c%s [shape=box, style="rounded,dashed", label=%s];', x.id,
                      cdp_internal.dot_quote(format('contact %s (unmerged)', x.id)))
               AS line, 0 AS part, x.id AS sort_id
          FROM (SELECT m.absorbed_id AS id FROM cdp.merges m
                 WHERE m.survivor_id IN (SELECT id FROM family) AND m.undone_at IS NOT NULL
                UNION
                SELECT m.survivor_id FROM cdp.merges m
                 WHERE m.absorbed_id IN (SELECT id FROM family) AND m.undone_at IS NOT NULL) x
         WHERE x.id NOT IN (SELECT id FROM family))
    SELECT format(E'graph %s {\n  graph [rankdir=LR, label=%s];\n  node [fontname="Helvetica"];\n'
                  || E'  edge [fontname="Helvetica", fontsize=10];\n%s\n}\n',
                  cdp_internal.dot_quote('contact_' || live),
                  cdp_internal.dot_quote(format('identity graph of contact %s', live)),
                  string_agg(line, E'\n' ORDER BY part, sort_id))
      INTO dot
      FROM (SELECT * FROM contact_nodes UNION ALL SELECT * FROM restored_nodes
            UNION ALL SELECT * FROM identifier_nodes UNION ALL SELECT * FROM identifier_edges
            UNION ALL SELECT * FROM merge_edges) lines;
    RETURN dot;
END
$$;
COMMENT ON FUNCTION cdp.identity_graph(bigint) IS
    'The contact''s identity graph in Graphviz DOT: identifiers coloured by kind, sources on edges, merges shown';
