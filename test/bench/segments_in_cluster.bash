#!/usr/bin/env bash
# segments_in_cluster.bash: the segments benchmark, run by segments.sh inside a
# throwaway cluster (PGHOST etc. set by pg_virtualenv).  Named .bash so that
# run.sh, which runs every test/bench/*.sh, does not run it on its own.
#
# Data: 1,000,000 contacts, two contact profiles, 20,000 organizations with a
# profile, tags, a taxonomy, invoices and 10,000,000 events, made
# deterministically in SQL (segments_data.sql), evaluated at a fixed time.
# Segments and the hand-written SQL: segments_baseline.sql.  Measured, in one
# backend without parallel workers or JIT:
#   (a) cdp.count(slug, at) against the fastest of the hand-written statements
#       for the same question (each checked to give the same count), median
#       of BENCH_RUNS interleaved runs after a warm-up; ratio = ours / baseline;
#   (b) cdp.estimate(slug, at): time, and estimate / true count;
#   (c) cdp.in_segment and cdp.explain_segment per call over BENCH_SAMPLE
#       contacts (a fixed hash-ordered sample), and over the members of mix
#       (for whom no condition short-cuts), median and 90th percentile,
#       checked against each other and against cdp.members.
# A count that differs, or a per-contact answer that disagrees, fails the run;
# a missed target is printed, not failed (timings depend on the machine).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
contacts=${BENCH_CONTACTS:-1000000}
events=${BENCH_EVENTS:-10000000}
orgs=${BENCH_ORGS:-20000}
runs=${BENCH_RUNS:-5}
sample=${BENCH_SAMPLE:-1000}
at='2026-06-01 00:00:00+00'
db=bench_segments

# The data is in memory after the load, as on a server sized for it: random
# page reads cost about what sequential ones do.
export PGOPTIONS="-c jit=off -c max_parallel_workers_per_gather=0 -c random_page_cost=1.1 -c client_min_messages=warning"
sql() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
val() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
elapsed() { awk "BEGIN { printf \"%.0f\", $EPOCHREALTIME - $1 }"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
status=0

echo "bench: generating $contacts contacts, about $events events, $orgs organizations (load average $(load))"
createdb "$db"
sql -c "CREATE EXTENSION cdp"
start=$EPOCHREALTIME
sql -v contacts="$contacts" -v events="$events" -v orgs="$orgs" -v at="$at" -f "$here/segments_data.sql" >/dev/null
load_secs=$(elapsed "$start")
sql -f "$here/segments_baseline.sql" >/dev/null
sql >/dev/null -f "$here/segments_saved.sql"
val "
	SELECT format('bench: loaded in %ss: %s contacts (%s live), %s customer and %s newsletter profiles, '
	              '%s organizations, %s memberships, %s tag and %s term assignments, %s invoices, %s events (%s)',
	              $load_secs, (SELECT count(*) FROM cdp.contacts),
	              (SELECT count(*) FROM cdp.contacts WHERE archived_at IS NULL AND merged_into IS NULL),
	              (SELECT count(*) FROM cdp_data.profile_customer), (SELECT count(*) FROM cdp_data.profile_newsletter),
	              (SELECT count(*) FROM cdp.organizations), (SELECT count(*) FROM cdp.organization_members),
	              (SELECT count(*) FROM cdp.contact_tags), (SELECT count(*) FROM cdp.contact_terms),
	              (SELECT count(*) FROM cdp.documents), (SELECT count(*) FROM cdp.events),
	              pg_size_pretty(pg_database_size(current_database())))"

# ---- (a) cdp.count against the hand-written SQL
echo
echo "(a) cdp.count(slug, at) against the fastest hand-written SQL, median of $runs interleaved runs (load average $(load)):"
sql -c "CREATE TABLE bench.result AS SELECT * FROM bench.compare('$at', $runs)"
mismatch=$(val "
	SELECT string_agg(format('%s, %s: %s, cdp.count: %s', x.slug, x.who,
	                         coalesce(x.result::text, 'a different count in different runs'), c.result), E'\n')
	  FROM bench.result x JOIN bench.result c ON c.slug = x.slug AND c.who = 'cdp'
	 WHERE x.result IS DISTINCT FROM c.result OR c.result IS NULL")
if [ -n "$mismatch" ]; then
	echo "  COUNTS DIFFER:"
	echo "$mismatch" | sed 's/^/    /'
	status=1
fi
val "
	WITH o AS (SELECT ord, slug, result, median_ms FROM bench.result WHERE who = 'cdp'),
	     h AS (SELECT DISTINCT ON (slug) slug, who, median_ms FROM bench.result WHERE who <> 'cdp'
	            ORDER BY slug, median_ms),
	     v AS (SELECT slug, string_agg(format('%s %s', who, round(median_ms::numeric, 1)), ', ' ORDER BY who) AS all_
	             FROM bench.result WHERE who <> 'cdp' GROUP BY slug)
	SELECT line FROM (
	    SELECT 0 AS ord, '  | segment | kind | members | cdp.count ms | hand SQL ms | ratio | target |' AS line
	    UNION ALL SELECT 0, '  |---|---|--:|--:|--:|--:|---|'
	    UNION ALL
	    SELECT o.ord, format('  | %s | %s | %s | %s | %s (%s) | %s | ≤ 1.2 %s |', o.slug, s.kind, o.result,
	                         round(o.median_ms::numeric, 1), round(h.median_ms::numeric, 1), h.who,
	                         round((o.median_ms / h.median_ms)::numeric, 2),
	                         CASE WHEN o.median_ms / h.median_ms <= 1.2 THEN 'ok' ELSE 'MISSED' END)
	      FROM o JOIN h USING (slug) JOIN bench.segments s USING (slug)
	    UNION ALL SELECT 100, '  hand-written variants (median ms):'
	    UNION ALL SELECT 100 + s.ord, format('    %s: %s', v.slug, v.all_) FROM v JOIN bench.segments s USING (slug)
	) t ORDER BY ord, line LIKE '  |-%'"

# ---- (b) cdp.estimate
echo
echo "(b) cdp.estimate(slug, at), median of $runs runs; selective = at most 2% of live contacts (load average $(load)):"
val "
	WITH e AS (SELECT s.ord, s.slug, r.result AS members, t.median_ms, t.result AS estimate,
	                  r.result <= 0.02 * (SELECT count(*) FROM cdp.contacts WHERE archived_at IS NULL AND merged_into IS NULL)
	                      AS selective
	             FROM bench.segments s JOIN bench.result r ON r.slug = s.slug AND r.who = 'cdp',
	                  bench.time_query(format('SELECT cdp.estimate(%L, %L::timestamptz)', s.slug, '$at'), $runs) t)
	SELECT line FROM (
	    SELECT 0 AS ord, '  | segment | members | estimate | estimate / members | ms | target |' AS line
	    UNION ALL SELECT 0, '  |---|--:|--:|--:|--:|---|'
	    UNION ALL
	    SELECT ord, format('  | %s | %s | %s | %s | %s | %s |', slug, members, estimate,
	                       round((estimate::numeric / greatest(members, 1)), 2), round(median_ms::numeric, 2),
	                       CASE WHEN NOT selective THEN '≤ 10 ms ' || CASE WHEN median_ms <= 10 THEN 'ok' ELSE 'MISSED' END
	                            WHEN median_ms <= 10 AND estimate BETWEEN members / 3.0 AND members * 3.0
	                            THEN 'selective: ≤ 10 ms, within 3x ok'
	                            ELSE 'selective: ≤ 10 ms, within 3x MISSED' END)
	      FROM e) t ORDER BY ord, line LIKE '  |-%'"

# ---- (c) in_segment and explain_segment per contact
echo
echo "(c) cdp.in_segment and cdp.explain_segment per call over $sample sample contacts, ms (load average $(load)):"
sql -c "CREATE TABLE bench.per_contact AS
	SELECT s.ord, s.slug, p.* FROM bench.segments s, bench.time_per_contact(s.slug, bench.sample($sample), '$at') p
	 WHERE s.timed
	UNION ALL    -- the members of mix, for whom every condition is evaluated
	SELECT 9, 'mix, its members', p.*
	  FROM bench.time_per_contact('mix', (SELECT array_agg(m ORDER BY hashint8extended(m, 99))
	                                        FROM (SELECT m FROM cdp.members('mix', '$at') m
	                                               ORDER BY hashint8extended(m, 99) LIMIT $sample) x), '$at') p"
val "
	SELECT line FROM (
	    SELECT 0 AS ord, '  | segment | in sample | in_segment median | p90 | explain_segment median | p90 | target |' AS line
	    UNION ALL SELECT 0, '  |---|--:|--:|--:|--:|--:|---|'
	    UNION ALL
	    SELECT ord, format('  | %s | %s | %s | %s | %s | %s | %s |', slug, in_true,
	                       round(in_median::numeric, 3), round(in_p90::numeric, 3),
	                       round(explain_median::numeric, 3), round(explain_p90::numeric, 3),
	                       CASE WHEN slug <> 'mix' THEN ''
	                            ELSE format('≤ 1 ms %s, ≤ 5 ms %s',
	                                        CASE WHEN in_median <= 1 THEN 'ok' ELSE 'MISSED' END,
	                                        CASE WHEN explain_median <= 5 THEN 'ok' ELSE 'MISSED' END) END)
	      FROM bench.per_contact) t ORDER BY ord, line LIKE '  |-%'"
disagree=$(val "SELECT string_agg(format('%s: explain''s root disagrees with in_segment for %s, in_segment with members for %s',
	                                         slug, explain_disagree, members_disagree), E'\n')
	                  FROM bench.per_contact WHERE explain_disagree + members_disagree > 0")
if [ -n "$disagree" ]; then
	echo "  PER-CONTACT ANSWERS DISAGREE:"
	echo "$disagree" | sed 's/^/    /'
	status=1
fi
echo
echo "bench: done (load average $(load))"
dropdb "$db"
exit $status
