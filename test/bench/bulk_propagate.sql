-- bulk_propagate.sql: connected components by iterative label propagation in
-- plain SQL (what a warehouse without a graph engine does): every node starts
-- with its own number as label and takes the least label of its neighbours
-- until nothing changes.  Stops after :cap seconds; bulk_lp_result says how
-- many rounds ran and whether it finished.
CREATE UNLOGGED TABLE bulk_labels AS
SELECT node, node AS label FROM (SELECT source AS node FROM bulk_edges UNION SELECT target FROM bulk_edges) s;
ALTER TABLE bulk_labels ADD PRIMARY KEY (node);
VACUUM ANALYZE bulk_labels;
SELECT set_config('bench.lp_cap', :'cap', false);
CREATE UNLOGGED TABLE bulk_lp_result (rounds int, finished boolean, seconds float8);
DO $$
DECLARE
    t0 timestamptz := clock_timestamp();
    rounds int := 0;
    changed bigint;
BEGIN
    LOOP
        WITH m AS (
            SELECT e.source AS node, l.label FROM bulk_edges e JOIN bulk_labels l ON l.node = e.target
            UNION ALL
            SELECT e.target, l.label FROM bulk_edges e JOIN bulk_labels l ON l.node = e.source),
        best AS (SELECT node, min(label) AS label FROM m GROUP BY node)
        UPDATE bulk_labels t SET label = best.label FROM best
         WHERE t.node = best.node AND best.label < t.label;
        GET DIAGNOSTICS changed = ROW_COUNT;
        rounds := rounds + 1;
        IF changed = 0 OR clock_timestamp() - t0 > make_interval(secs => current_setting('bench.lp_cap')::float8) THEN
            INSERT INTO bulk_lp_result
            VALUES (rounds, changed = 0, extract(epoch FROM clock_timestamp() - t0));
            EXIT;
        END IF;
    END LOOP;
END
$$;
