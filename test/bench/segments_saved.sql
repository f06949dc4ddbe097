-- segments_saved.sql: saves the segments benchmark's segments (bench.segments,
-- from segments_baseline.sql) with cdp.create_segment; the segments, activation
-- and citus benchmarks load it after their data.
DO $$
DECLARE s bench.segments;
BEGIN
    FOR s IN SELECT * FROM bench.segments ORDER BY ord LOOP    -- big_spenders (0) first
        PERFORM cdp.create_segment(s.slug, s.definition);
    END LOOP;
END
$$;
