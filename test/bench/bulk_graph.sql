-- bulk_graph.sql: the record-identifier graph of bulk_input with integer
-- nodes, for pgRouting and the label propagation: records are nodes 1..n
-- (their number), identifiers n+1.. in (kind, value) order.
CREATE UNLOGGED TABLE bulk_nodes AS
SELECT (:n + row_number() OVER (ORDER BY kind, value))::bigint AS node, kind, value
  FROM (SELECT DISTINCT kind, value FROM bulk_input) d;
CREATE UNIQUE INDEX ON bulk_nodes (kind, value);
CREATE UNLOGGED TABLE bulk_edges AS
SELECT row_number() OVER ()::bigint AS id, b.n::bigint AS source, d.node AS target,
       1::float8 AS cost, 1::float8 AS reverse_cost
  FROM bulk_input b JOIN bulk_nodes d USING (kind, value);
ALTER TABLE bulk_edges ADD PRIMARY KEY (id);
VACUUM ANALYZE bulk_nodes, bulk_edges;
