-- citus_bench.sql
--   The timing functions of the Citus benchmark (citus_in_cluster.bash), loaded on
--   the single node and on the coordinator after segments_baseline.sql.
--
-- bench.count_round(at, run) runs cdp.count of every timed segment of
-- bench.segments once, in order, and records its time, count and error (a
-- segment that fails is recorded with its error, and the round goes on) in
-- bench.count_timings, a local table on either side.  The driver calls it on
-- the two sides in turn, run by run, so drift of the machine touches both.
-- bench.task_cost(slug, at) (the cluster only) splits a segment's count into
-- the coordinator's total and the per-shard tasks' planning and execution,
-- from EXPLAIN ANALYZE with citus.explain_all_tasks.

CREATE TABLE bench.count_timings (run int NOT NULL, ord int NOT NULL, slug text NOT NULL,
                                  ms float8, result bigint, error text);

CREATE FUNCTION bench.count_round(at timestamptz, run int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    s bench.segments;
    t0 timestamptz;
    ms float8;
    r bigint;
BEGIN
    FOR s IN SELECT * FROM bench.segments x WHERE x.timed ORDER BY x.ord LOOP
        BEGIN
            t0 := clock_timestamp();    -- after the block's savepoint, which is not timed
            EXECUTE format('SELECT cdp.count(%L, %L::timestamptz)', s.slug, at) INTO r;
            ms := bench.ms(t0);
            INSERT INTO bench.count_timings VALUES (run, s.ord, s.slug, ms, r, NULL);
        EXCEPTION WHEN OTHERS THEN
            INSERT INTO bench.count_timings VALUES (run, s.ord, s.slug, NULL, NULL, SQLERRM);
        END;
    END LOOP;
END
$$;

-- task_cost(slug, at), on the cluster: EXPLAIN ANALYZE of the count of a
-- segment's compiled SQL (cdp.segment_sql, as cdp.count runs it) with every
-- task shown.  One call per transaction (Citus refuses a second distributed
-- EXPLAIN ANALYZE after the local execution of the first); the driver calls
-- it twice and keeps the second.
CREATE FUNCTION bench.task_cost(seg text, at timestamptz,
                                OUT total_ms float8, OUT tasks int, OUT task_exec_sum_ms float8,
                                OUT task_plan_sum_ms float8, OUT task_max_ms float8, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    j jsonb;
BEGIN
    PERFORM set_config('citus.explain_all_tasks', 'on', true);
    -- the catalogs segment_sql reads would otherwise be read through the
    -- coordinator's own placements, after which Citus refuses the EXPLAIN
    PERFORM set_config('citus.enable_local_execution', 'off', true);
    EXECUTE format('EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM (%s) members',
                   cdp.segment_sql((SELECT s.definition FROM bench.segments s WHERE s.slug = seg)::cdp.segment, at))
       INTO j;
    total_ms := (j -> 0 ->> 'Planning Time')::float8 + (j -> 0 ->> 'Execution Time')::float8;
    SELECT count(*), sum(x.e), sum(x.p), max(x.e + x.p)
      INTO tasks, task_exec_sum_ms, task_plan_sum_ms, task_max_ms
      FROM (SELECT (t -> 'Remote Plan' -> 0 -> 0 ->> 'Execution Time')::float8 AS e,
                   (t -> 'Remote Plan' -> 0 -> 0 ->> 'Planning Time')::float8 AS p
              FROM jsonb_path_query(j, 'strict $.**."Tasks"[*]') t) x;
EXCEPTION WHEN OTHERS THEN
    error := SQLERRM;
END
$$;
