#!/usr/bin/env bash
# activation_in_cluster.bash: the activation benchmark, run by activation.sh
# inside a throwaway cluster (PGHOST etc. set by pg_virtualenv).  Named .bash
# so that run.sh, which runs every test/bench/*.sh, does not run it on its own.
#
# Data: the segments benchmark's (segments_data.sql: 1,000,000 contacts,
# profiles, organizations, tags, terms, invoices, ~10M events) generated with
# the run's start as its evaluation time, since refresh_segment evaluates at
# now(); the segments of segments_baseline.sql; activation_data.sql adds the
# change, the targets and the messages.  Measured, in one run:
#   (1) refresh_segment of the 8 segments (saved manual): the first, full
#       refresh; then after set_profile / tag / track of 1% of the contacts
#       (three transactions), the incremental one; ratio = incremental / full,
#       target <= 0.10; then a second round (another 1%, another incremental
#       refresh).  Stored membership must equal a fresh evaluation at the
#       refresh's time after every refresh, or the run fails;
#   (2) set_profile, one call per transaction (pgbench -n -M prepared, one
#       client, BENCH_SECONDS per run, median of BENCH_RUNS), with 10
#       immediate segments against none; target <= 2.0;
#   (3) the same with the profile table's capture trigger enabled against
#       disabled (the change log's cost); reported;
#   (4) cdp.ingest of 1,000 identify/track messages against the same work
#       through resolve + set_profile + track, fresh people for each side,
#       median of BENCH_BATCHES batches after a warm-up; target <= 1.2.
# A missed target is printed, not failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
contacts=${BENCH_CONTACTS:-1000000}
events=${BENCH_EVENTS:-$((contacts * 10))}
orgs=${BENCH_ORGS:-$(( contacts / 50 > 100 ? contacts / 50 : 100 ))}
seconds=${BENCH_SECONDS:-10}
runs=${BENCH_RUNS:-3}
batches=${BENCH_BATCHES:-5}
at=$(date -u '+%Y-%m-%d %H:%M:00+00')
db=bench_activation
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export PGOPTIONS="-c jit=off -c max_parallel_workers_per_gather=0 -c random_page_cost=1.1 -c client_min_messages=warning"
sql() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
val() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
elapsed() { awk "BEGIN { printf \"%.0f\", $EPOCHREALTIME - $1 }"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
status=0

echo "bench: generating $contacts contacts, about $events events, $orgs organizations, evaluated at $at (load average $(load))"
createdb "$db"
sql -c "CREATE EXTENSION cdp"
start=$EPOCHREALTIME
sql -v contacts="$contacts" -v events="$events" -v orgs="$orgs" -v at="$at" -f "$here/segments_data.sql" >/dev/null
sql -f "$here/segments_baseline.sql" >/dev/null
sql -v batches="$batches" -f "$here/activation_data.sql" >/dev/null
load_secs=$(elapsed "$start")
sql >/dev/null -f "$here/segments_saved.sql"
val "SELECT format('bench: loaded in %ss: %s contacts, %s customer profiles, %s events (%s)', $load_secs,
                   (SELECT count(*) FROM cdp.contacts), (SELECT count(*) FROM cdp_data.profile_customer),
                   (SELECT count(*) FROM cdp.events), pg_size_pretty(pg_database_size(current_database())))"

# check <phase>: stored membership against a fresh evaluation, every segment
check() {
	local bad
	bad=$(val "SELECT string_agg(format('%s: %s contacts differ', slug, d), ', ')
	             FROM (SELECT slug, bench.membership_differs(slug) AS d FROM bench.segments) x WHERE d > 0")
	if [ -n "$bad" ]; then
		echo "  STORED MEMBERSHIP DIFFERS FROM A FRESH EVALUATION after the $1 refresh: $bad"
		status=1
	fi
}

# ---- (1) full refresh, 1% change, incremental refresh; and again
echo
echo "(1) refresh_segment of the segments, full, then after a change of 1% of the contacts, twice (load average $(load)):"
sql -c "CHECKPOINT"
sql -c "CALL bench.refresh_all('full')"
check full
sql -c "CREATE TABLE bench.candidates (round int, slug text, n bigint)"
for round in 1 2; do
	sql -c "CALL bench.change_one_percent($round)"
	# what each incremental refresh will have to evaluate (not timed)
	sql -c "INSERT INTO bench.candidates
		SELECT $round, s.slug, cardinality(cdp_internal.refresh_candidates(s.slug, st.snapshot, st.evaluated_at, now()))
		  FROM bench.segments s JOIN cdp_internal.segment_state st ON st.segment = s.slug"
	sql -c "CHECKPOINT"
	sql -c "CALL bench.refresh_all('incremental $round')"
	check "incremental $round"
done
val "
	SELECT '  changed, each round: ' || string_agg(format('%s contacts by %s', contacts, what), ', ' ORDER BY what)
	       || ' (one transaction each, ' || round(sum(ms)::numeric) || ' ms in all)'
	  FROM bench.change_times WHERE round = 1"
echo "  candidates: the contacts the refresh evaluates again (changed, or with events that time moved across a window)"
val "
	SELECT line FROM (
	    SELECT -1 AS ord, '  | segment | members | full ms | round 1: candidates | entered, exited | incremental ms | / full | round 2: candidates | entered, exited | incremental ms | / full |' AS line
	    UNION ALL SELECT -1, '  |---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|'
	    UNION ALL
	    SELECT s.ord, format('  | %s%s | %s | %s | %s | %s, %s | %s | %s | %s | %s, %s | %s | %s |',
	                         s.slug, CASE WHEN NOT s.timed THEN ' (inner, not in the total)' END,
	                         g.member_count, round(f.ms::numeric, 1),
	                         c1.n, i1.entered, i1.exited, round(i1.ms::numeric, 1), round((i1.ms / f.ms)::numeric, 3),
	                         c2.n, i2.entered, i2.exited, round(i2.ms::numeric, 1), round((i2.ms / f.ms)::numeric, 3))
	      FROM bench.segments s JOIN cdp.segments g ON g.slug = s.slug
	      JOIN bench.refreshes f ON f.slug = s.slug AND f.phase = 'full'
	      JOIN bench.refreshes i1 ON i1.slug = s.slug AND i1.phase = 'incremental 1'
	      JOIN bench.refreshes i2 ON i2.slug = s.slug AND i2.phase = 'incremental 2'
	      LEFT JOIN bench.candidates c1 ON c1.slug = s.slug AND c1.round = 1
	      LEFT JOIN bench.candidates c2 ON c2.slug = s.slug AND c2.round = 2
	) t ORDER BY ord, line LIKE '  |-%'"
read -r full_ms incr_ms incr2_ms < <(val "
	SELECT round(sum(ms) FILTER (WHERE phase = 'full')::numeric, 1),
	       round(sum(ms) FILTER (WHERE phase = 'incremental 1')::numeric, 1),
	       round(sum(ms) FILTER (WHERE phase = 'incremental 2')::numeric, 1)
	  FROM bench.refreshes r JOIN bench.segments s USING (slug) WHERE s.timed" | tr '|' ' ')
echo "  the 8 segments: full ${full_ms} ms, incremental ${incr_ms} ms (round 1), ${incr2_ms} ms (round 2)"

# ---- (2) and (3) set_profile per transaction
targets=$(val "SELECT count(*) FROM bench.sp_targets")
cat >"$work/set_profile.sql" <<SQL
SELECT cdp.set_profile(t.contact_id, 'customer', jsonb_build_object('tier', t.tier, 'ltv', t.ltv + s.k / $targets, 'vip', t.vip))
  FROM (SELECT nextval('bench.sp_seq') - 1 AS k) s JOIN bench.sp_targets t ON t.n = 1 + s.k % $targets;
SQL
sql -c "CREATE TABLE bench.sp_times (label text, run int, tps float8)"
# pgb <label> <run>: one pgbench run of $seconds seconds, its tps recorded
pgb() {
	pgbench -n -M prepared -c 1 -T "$seconds" -f "$work/set_profile.sql" "$db" >"$work/pgbench.out" 2>&1 || {
		cat "$work/pgbench.out"
		exit 1
	}
	local tps
	tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$work/pgbench.out")
	sql -c "INSERT INTO bench.sp_times VALUES ('$1', $2, $tps)"
}
echo
echo "(2, 3) set_profile of customer values, one call per transaction, pgbench, $seconds s per run, median of $runs (load average $(load)):"
for r in $(seq "$runs"); do
	pgb none "$r"
	sql -c "ALTER TABLE cdp_data.profile_customer DISABLE TRIGGER cdp_capture_changes"
	pgb no_capture "$r"
	sql -c "ALTER TABLE cdp_data.profile_customer ENABLE TRIGGER cdp_capture_changes"
done
start=$EPOCHREALTIME
sql >/dev/null <<'SQL'
DO $$
DECLARE s record;
BEGIN
    FOR s IN SELECT * FROM bench.immediate ORDER BY ord LOOP    -- imm_big_spenders (0) first
        PERFORM cdp.create_segment(s.slug, s.definition, refresh => 'immediate');
    END LOOP;
END
$$;
SQL
imm_secs=$(elapsed "$start")
sql -c "CHECKPOINT"
for r in $(seq "$runs"); do
	pgb immediate "$r"
done
# the pass must have kept them exact (those whose membership time alone does
# not move: without event conditions)
bad=$(val "SELECT string_agg(format('%s: %s contacts differ', slug, d), ', ')
             FROM (SELECT slug, bench.membership_differs(slug, now()) AS d FROM bench.immediate
                    WHERE definition NOT LIKE '%event %') x WHERE d > 0")
if [ -n "$bad" ]; then
	echo "  IMMEDIATE SEGMENTS ARE NOT EXACT after the set_profile runs: $bad"
	status=1
fi
passed=$(val "SELECT count(*) FROM cdp.segment_changes WHERE segment LIKE 'imm\_%' AND txid <> (
                  SELECT max(txid) FROM cdp.segment_changes WHERE segment = 'imm_seniors')")
sql -c "SELECT cdp.drop_segment(slug) FROM bench.immediate ORDER BY ord DESC" >/dev/null
pgb none $((runs + 1))
val "
	WITH m AS (SELECT label, percentile_cont(0.5) WITHIN GROUP (ORDER BY tps) AS tps, string_agg(round(tps)::text, ', ' ORDER BY run) AS all_
	             FROM bench.sp_times GROUP BY label)
	SELECT format('  %-45s %8s calls/s, %6s ms per call (runs: %s)', CASE label
	                  WHEN 'none' THEN 'no immediate segment (capture on)'
	                  WHEN 'no_capture' THEN 'no immediate segment, capture trigger disabled'
	                  ELSE '10 immediate segments' END,
	              round(tps), round((1000 / tps)::numeric, 3), all_)
	  FROM m ORDER BY label DESC"
echo "  (creating the 10 immediate segments, a full evaluation each: ${imm_secs}s; entries and exits made by their passes: $passed)"

# ---- (4) ingest
echo
echo "(4) 1,000 messages (500 people: identify with email and a mapped trait, then track), each batch one transaction,"
echo "    median of $batches batches after a warm-up (load average $(load)):"
sql -c "CALL bench.time_ingest($batches)"
short=$(val "SELECT string_agg(format('%s batch %s stored %s', side, batch, stored), ', ')
               FROM bench.ingest_times WHERE stored <> 1000")
if [ -n "$short" ]; then
	echo "  NOT EVERY MESSAGE WAS STORED: $short"
	status=1
fi
val "
	SELECT format('  %-55s %7s ms (batches: %s)', CASE side
	                  WHEN 'ing' THEN 'cdp.ingest, messages with a messageId'
	                  WHEN 'inx' THEN 'cdp.ingest, messages without messageId'
	                  ELSE 'resolve + set_profile (identify), track (track)' END,
	              round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
	              string_agg(round(ms)::text, ', ' ORDER BY batch))
	  FROM bench.ingest_times WHERE batch > 0 GROUP BY side ORDER BY side DESC"

# ---- the table
echo
echo "summary (ratio = ours / baseline):"
val "
	WITH sp AS (SELECT label, percentile_cont(0.5) WITHIN GROUP (ORDER BY tps) AS tps FROM bench.sp_times GROUP BY label),
	     ing AS (SELECT side, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms
	               FROM bench.ingest_times WHERE batch > 0 GROUP BY side),
	     rows(ord, measure, ours, baseline, ratio, target) AS (
	    SELECT 1, 'refresh_segment of the 8 segments: incremental after 1% of contacts changed vs the full refresh',
	           format('%s ms', $incr_ms), format('%s ms', $full_ms), $incr_ms / $full_ms, 0.10
	    UNION ALL
	    SELECT 2, 'the same, a second round (another 1% changed after the first incremental refresh)',
	           format('%s ms', $incr2_ms), format('%s ms', $full_ms), $incr2_ms / $full_ms, 0.10
	    UNION ALL
	    SELECT 3, 'set_profile per transaction: 10 immediate segments vs none',
	           format('%s ms', round((1000 / i.tps)::numeric, 3)), format('%s ms', round((1000 / n.tps)::numeric, 3)), n.tps / i.tps, 2.0
	      FROM sp i, sp n WHERE i.label = 'immediate' AND n.label = 'none'
	    UNION ALL
	    SELECT 4, 'set_profile per transaction: change capture on vs its trigger disabled',
	           format('%s ms', round((1000 / n.tps)::numeric, 3)), format('%s ms', round((1000 / x.tps)::numeric, 3)),
	           x.tps / n.tps, NULL
	      FROM sp n, sp x WHERE n.label = 'none' AND x.label = 'no_capture'
	    UNION ALL
	    SELECT 5, 'ingest of 1,000 messages (with messageId) vs resolve + set_profile + track',
	           format('%s ms', round(g.ms::numeric, 1)), format('%s ms', round(a.ms::numeric, 1)), g.ms / a.ms, 1.2
	      FROM ing g, ing a WHERE g.side = 'ing' AND a.side = 'api'
	    UNION ALL
	    SELECT 6, 'the same, messages without messageId',
	           format('%s ms', round(g.ms::numeric, 1)), format('%s ms', round(a.ms::numeric, 1)), g.ms / a.ms, 1.2
	      FROM ing g, ing a WHERE g.side = 'inx' AND a.side = 'api')
	SELECT line FROM (
	    SELECT 0 AS ord, '  | measure | ours | baseline | ratio | target |' AS line
	    UNION ALL SELECT 0, '  |---|--:|--:|--:|---|'
	    UNION ALL
	    SELECT ord, format('  | %s | %s | %s | %s | %s |', measure, ours, baseline, round(ratio::numeric, 3),
	                       CASE WHEN target IS NULL THEN 'reported'
	                            WHEN ratio <= target THEN format('≤ %s ok', target)
	                            ELSE format('≤ %s MISSED', target) END)
	      FROM rows) t ORDER BY ord, line LIKE '  |-%'"
echo
echo "bench: done (load average $(load))"
dropdb "$db"
exit $status
