#!/usr/bin/env bash
# citus_in_cluster.bash: the Citus benchmark, run by citus.sh inside a throwaway
# single-node cluster (PGHOST etc. set by pg_virtualenv: "one node"); it starts
# its own Citus cluster, a coordinator and two workers (test/citus/cluster.sh:
# "cluster"), and stops it at the end.  Named .bash so that run.sh, which runs
# every test/bench/*.sh, does not run it on its own.
#
# The same data on both sides, made deterministically in SQL: the segments
# benchmark's contacts and events (segments_data.sql, its segments from
# segments_baseline.sql), the resolve benchmark's records (resolve_data.sql)
# and the bulk benchmark's records (bulk_data.sql, emails moved to
# @bulk.example.com so that they meet no resolve record).  On the cluster the
# data is loaded on the coordinator, then SELECT * FROM cdp.distribute(32)
# copies it into the shards (timed).  All on this machine's cores, so this
# measures overhead and balance, not speed-up.  Measured:
#   (1) cdp.count(slug, at) of the 8 segments, median of BENCH_RUNS runs after
#       a warm-up, the two sides taking turns run by run; ratio = cluster /
#       one node, target <= 2.0; the counts must be equal (else the run fails);
#   (2) cdp.resolve throughput, 2 pgbench clients taking the next of
#       BENCH_RESOLVE_RECORDS records, one per transaction; ratio; the two
#       sides must end in the same partition of identifiers into contacts;
#   (3) cdp.resolve_all of BENCH_RA_RECORDS records: time, ratio, partition;
#   (4) rows per shard of contacts, events, identifiers and identifier_index:
#       largest shard / mean, target <= 1.2;
#   (5) the figures for an estimate at more workers: each count split (EXPLAIN
#       ANALYZE) into the coordinator's total and its shard tasks' planning and
#       execution, the fixed cost of a query on all shards and on one, and the
#       CPU time each node spent per resolved record.
# A part whose calls fail is reported with the error and the run goes on (and
# ends failed); a missed target is printed, not failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
contacts=${BENCH_CONTACTS:-1000000}
events=${BENCH_EVENTS:-10000000}
orgs=${BENCH_ORGS:-$((contacts / 50 > 100 ? contacts / 50 : 100))}
runs=${BENCH_RUNS:-5}
resolve_records=${BENCH_RESOLVE_RECORDS:-20000}
ra_records=${BENCH_RA_RECORDS:-1000000}
shards=${BENCH_SHARDS:-32}
at='2026-06-01 00:00:00+00'
db=bench_citus
work=$(mktemp -d)

# The same planner settings on every node (the workers plan the shard
# queries): one backend per query, data in memory after the load.
settings="jit = off;max_parallel_workers_per_gather = 0;random_page_cost = 1.1;shared_buffers = 256MB"
export PGOPTIONS="-c jit=off -c max_parallel_workers_per_gather=0 -c random_page_cost=1.1 -c client_min_messages=warning"
export CITUS_DIR=${CITUS_DIR:-/tmp/cdp-citus-bench-$$}
export CITUS_PORT=${CITUS_PORT:-$((20000 + RANDOM % 20000))}
export CITUS_DB=$db
export CITUS_PG_OPTS="$settings${CITUS_PG_OPTS:+;$CITUS_PG_OPTS}"
citus=$root/test/citus/cluster.sh
if [ -e "$CITUS_DIR" ]; then
	echo "bench: $CITUS_DIR exists; stop that cluster or set CITUS_DIR to a new directory" >&2
	exit 2
fi
trap '"$citus" stop || true; rm -rf "$work"' EXIT

one() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
clu() { "$citus" psql -q -v ON_ERROR_STOP=1 "$@"; }
f() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
status=0

# CPU time (ms) used so far by the servers of these data directories: each
# postmaster's own and its ended children's, plus its live children's.
cpu_ms() {
	local d pm pid ticks=0 t
	for d in "$@"; do
		pm=$(head -n 1 "$d/postmaster.pid")
		t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat")
		ticks=$((ticks + t))
		for pid in $(pgrep -P "$pm"); do
			t=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
			ticks=$((ticks + t))
		done
	done
	echo $((ticks * 1000 / $(getconf CLK_TCK)))
}
one_dir=$(psql -X -At -d postgres -c "SHOW data_directory")
coord_dir=$CITUS_DIR/coordinator/data
worker_dirs=("$CITUS_DIR/worker1/data" "$CITUS_DIR/worker2/data")

# partition <side> <file> [where]: each identifier (kind:value) with the
# smallest identifier of its contact, sorted: the partition of identifiers
# into contacts, whatever the contact ids
partition() {
	"$1" -At -c "SELECT k || ' ' || min(k) OVER (PARTITION BY contact_id)
	               FROM (SELECT contact_id, (kind || ':' || value) COLLATE \"C\" AS k
	                       FROM cdp.identifiers ${3:+WHERE $3}) s" | LC_ALL=C sort >"$2"
}
# same_partition <name> <where>: compare the two sides' partitions
same_partition() {
	partition one "$work/one.$1" "$2"
	partition clu "$work/clu.$1" "$2"
	local ids contacts_one
	ids=$(wc -l <"$work/one.$1")
	contacts_one=$(cut -d' ' -f2 "$work/one.$1" | sort -u | wc -l)
	if cmp -s "$work/one.$1" "$work/clu.$1"; then
		echo "  partition: the same on both sides ($ids identifiers in $contacts_one contacts)"
	else
		echo "  partition: DIFFERS (one node $ids identifiers in $contacts_one contacts, cluster $(wc -l <"$work/clu.$1")" \
			"identifiers in $(cut -d' ' -f2 "$work/clu.$1" | sort -u | wc -l) contacts); first differences:"
		diff "$work/one.$1" "$work/clu.$1" | head -n 10 | sed 's/^/    /'
		status=1
	fi
}

echo "bench: Citus cluster (coordinator and 2 workers) in $CITUS_DIR (load average $(load))"
"$citus" start --cdp
# shellcheck disable=SC2016 # expanded by the inner shell, with the coordinator's settings
read -r citus_host citus_port < <("$citus" run bash -c 'echo "$PGHOST $PGPORT"')
createdb "$db"
one -c "CREATE EXTENSION cdp"

# ---- the data, on both sides at once
echo "bench: loading on both sides: $contacts contacts, about $events events, $orgs organizations," \
	"$resolve_records resolve records, $ra_records resolve_all records"
load_data() {	# load_data <side>: everything before distribute
	local side=$1
	"$side" -v contacts="$contacts" -v events="$events" -v orgs="$orgs" -v at="$at" \
		-f "$here/segments_data.sql" >/dev/null
	"$side" -f "$here/segments_baseline.sql" >/dev/null
	"$side" -f "$here/citus_bench.sql" >/dev/null
	"$side" >/dev/null -f "$here/segments_saved.sql"
	"$side" -v records="$resolve_records" -f "$here/resolve_data.sql" >/dev/null
	"$side" -v n="$ra_records" -f "$here/bulk_data.sql" >/dev/null
	"$side" -c "UPDATE bulk_input SET value = replace(value, '@example.com', '@bulk.example.com') WHERE kind = 'email'" \
		-c "VACUUM ANALYZE bulk_input" >/dev/null
}
start=$EPOCHREALTIME
# Citus warns that the bench schema's functions stay on the coordinator
(PGOPTIONS="$PGOPTIONS -c client_min_messages=error" load_data clu; echo "$EPOCHREALTIME" >"$work/clu.loaded") &
clu_pid=$!
load_data one
one_secs=$(f "$EPOCHREALTIME - $start")
wait "$clu_pid" || { echo "bench: loading on the coordinator failed"; exit 1; }
clu_secs=$(f "$(cat "$work/clu.loaded") - $start")
one -c "VACUUM ANALYZE" >/dev/null
one -At -c "
	SELECT format('bench: loaded (one node %ss, coordinator %ss, side by side): %s contacts, %s events, %s customer profiles, '
	              '%s tag assignments, %s invoices; %s resolve records; %s resolve_all rows (%s)',
	              '$one_secs', '$clu_secs', (SELECT count(*) FROM cdp.contacts), (SELECT count(*) FROM cdp.events),
	              (SELECT count(*) FROM cdp_data.profile_customer), (SELECT count(*) FROM cdp.contact_tags),
	              (SELECT count(*) FROM cdp.documents), (SELECT count(*) FROM bench.records),
	              (SELECT count(*) FROM bulk_input), pg_size_pretty(pg_database_size(current_database())))"

# ---- distribute
start=$EPOCHREALTIME
if ! clu -At -F ' ' -c "SELECT count(*), citus_table_type FROM cdp.distribute($shards) GROUP BY 2 ORDER BY 2" \
	>"$work/distribute" 2>&1; then
	echo "bench: cdp.distribute($shards) FAILED, nothing to measure on the cluster:"
	sed 's/^/  /' "$work/distribute"
	exit 1
fi
dist_secs=$(f "$EPOCHREALTIME - $start")
clu <<<"SELECT format('VACUUM ANALYZE %s', logicalrelid) FROM pg_dist_partition \gexec" >/dev/null
clu -c "VACUUM ANALYZE" >/dev/null
echo "bench: cdp.distribute($shards) took ${dist_secs}s ($(paste -sd, "$work/distribute" | sed 's/,/, /g') tables)" \
	"(load average $(load))"

# ---- (1) cdp.count
echo
echo "(1) cdp.count(slug, at), one node against the cluster, median of $runs runs after a warm-up, sides taking turns (load average $(load)):"
for run in $(seq 0 "$runs"); do
	if [ $((run % 2)) -eq 0 ]; then order="one clu"; else order="clu one"; fi
	for side in $order; do
		"$side" -c "SELECT bench.count_round('$at', $run)" >/dev/null
	done
done
one -c "CREATE TABLE bench.cluster_timings (LIKE bench.count_timings)"
clu -c "COPY bench.count_timings TO STDOUT" | one -c "COPY bench.cluster_timings FROM STDIN"
one -At -c "
	CREATE TABLE bench.count_result AS
	SELECT o.ord, o.slug,
	       percentile_cont(0.5) WITHIN GROUP (ORDER BY o.ms) FILTER (WHERE o.run > 0) AS one_ms,
	       percentile_cont(0.5) WITHIN GROUP (ORDER BY c.ms) FILTER (WHERE c.run > 0) AS clu_ms,
	       CASE WHEN min(o.result) = max(o.result) AND count(o.result) = count(*) THEN min(o.result) END AS one_count,
	       CASE WHEN min(c.result) = max(c.result) AND count(c.result) = count(*) THEN min(c.result) END AS clu_count,
	       max(o.error) AS one_error, max(c.error) AS clu_error
	  FROM bench.count_timings o JOIN bench.cluster_timings c USING (run, ord, slug)
	 GROUP BY o.ord, o.slug"
one -At -c "
	SELECT line FROM (
	    SELECT 0 AS ord, '  | segment | members | one node ms | cluster ms | ratio | target |' AS line
	    UNION ALL SELECT 0, '  |---|--:|--:|--:|--:|---|'
	    UNION ALL
	    SELECT ord, format('  | %s | %s | %s | %s | %s | %s |', slug,
	                       CASE WHEN one_count = clu_count THEN one_count::text
	                            ELSE format('one node %s, cluster %s',
	                                        coalesce(one_count::text, CASE WHEN one_error IS NULL THEN 'varies' ELSE 'failed' END),
	                                        coalesce(clu_count::text, CASE WHEN clu_error IS NULL THEN 'varies' ELSE 'failed' END)) END,
	                       round(one_ms::numeric, 1), coalesce(round(clu_ms::numeric, 1)::text, 'failed'),
	                       round((clu_ms / one_ms)::numeric, 2),
	                       CASE WHEN clu_ms IS NULL THEN '≤ 2.0 FAILED'
	                            WHEN clu_ms / one_ms <= 2.0 THEN '≤ 2.0 target met' ELSE '≤ 2.0 MISSED' END)
	      FROM bench.count_result) t ORDER BY ord, line LIKE '  |-%'"
mismatch=$(one -At -c "
	SELECT string_agg(format('%s: one node %s, cluster %s', slug,
	                         coalesce(one_count::text, one_error, 'a different count in different runs'),
	                         coalesce(clu_count::text, clu_error, 'a different count in different runs')), E'\n    ' ORDER BY ord)
	  FROM bench.count_result WHERE one_count IS NULL OR clu_count IS DISTINCT FROM one_count")
if [ -n "$mismatch" ]; then
	echo "  COUNTS DIFFER OR FAILED:"
	printf '    %s\n' "$mismatch"
	status=1
fi

# ---- (5, counts) the shard tasks of each count, and a query's fixed cost
echo
echo "(5) figures for an estimate at more workers (load average $(load)):"
echo "  each count on the cluster (EXPLAIN ANALYZE with every task, the second of two runs; ms):"
for slug in $(one -At -c "SELECT slug FROM bench.segments WHERE timed ORDER BY ord"); do
	for _ in 1 2; do	# the second: plans cached, connections open
		clu -At -c "COPY (SELECT '$slug', * FROM bench.task_cost('$slug', '$at')) TO STDOUT" >"$work/task.$slug"
	done
	cat "$work/task.$slug" >>"$work/tasks.copy"
done
one -c "CREATE TABLE bench.task_costs (slug text, total_ms float8, tasks int, task_exec_sum_ms float8,
	                                    task_plan_sum_ms float8, task_max_ms float8, error text)" \
	-c "\\copy bench.task_costs FROM '$work/tasks.copy'"
one -At -c "
	SELECT line FROM (
	    SELECT 0 AS ord, '  | segment | one node ms | cluster ms | EXPLAIN total ms | tasks | Σ task execution ms | Σ task planning ms | mean task ms | largest task ms |' AS line
	    UNION ALL SELECT 0, '  |---|--:|--:|--:|--:|--:|--:|--:|--:|'
	    UNION ALL
	    SELECT r.ord, CASE WHEN t.error IS NOT NULL THEN format('  | %s | %s | failed: %s |', r.slug, round(r.one_ms::numeric, 1), t.error)
	                       ELSE format('  | %s | %s | %s | %s | %s | %s | %s | %s | %s |', r.slug, round(r.one_ms::numeric, 1),
	                                   round(r.clu_ms::numeric, 1), round(t.total_ms::numeric, 1), t.tasks,
	                                   round(t.task_exec_sum_ms::numeric, 1), round(t.task_plan_sum_ms::numeric, 1),
	                                   round(((t.task_exec_sum_ms + t.task_plan_sum_ms) / t.tasks)::numeric, 2),
	                                   round(t.task_max_ms::numeric, 1)) END
	      FROM bench.count_result r JOIN bench.task_costs t USING (slug)) x ORDER BY ord, line LIKE '  |-%'"
declare -A fixed
for side in one clu; do
	fixed[$side,all]=$("$side" -At -c "SELECT round(median_ms::numeric, 2) FROM bench.time_query(
	                                       'SELECT count(*) FROM cdp.contacts WHERE id < 0', $runs)")
	fixed[$side,router]=$("$side" -At -c "SELECT round(median_ms::numeric, 2) FROM bench.time_query(
	                                          'SELECT count(*) FROM cdp.contacts WHERE id = 1', $runs)")
done
echo "  a query with no work on every shard (count of contacts with id < 0): one node ${fixed[one,all]} ms," \
	"cluster ${fixed[clu,all]} ms ($shards tasks); on one shard (id = 1): one node ${fixed[one,router]} ms," \
	"cluster ${fixed[clu,router]} ms"

# ---- (2) resolve throughput
echo
echo "(2) cdp.resolve throughput, 2 pgbench clients taking the next of $resolve_records records, one per transaction (load average $(load)):"
declare -A tps cpu
resolve_ok=1
for side in one clu; do
	if [ "$side" = one ]; then
		conn=(-d "$db")
		one -c "CHECKPOINT"
		dirs=("$one_dir")
	else
		conn=(-h "$citus_host" -p "$citus_port" -U postgres -d "$db")
		clu -c "CHECKPOINT" -c "SELECT run_command_on_workers('CHECKPOINT')" >/dev/null
		dirs=("$coord_dir" "${worker_dirs[@]}")
	fi
	c0=$(cpu_ms "${dirs[@]}")
	if [ "$side" = clu ]; then w0=$(cpu_ms "${worker_dirs[@]}"); fi
	if pgbench -n -M prepared -c 2 -j 2 -t $((resolve_records / 2)) -f "$here/resolve_pgbench.sql" "${conn[@]}" \
		>"$work/pgbench.$side" 2>&1; then
		pgbench_ok=1
	else
		pgbench_ok=0
	fi
	cpu[$side]=$(($(cpu_ms "${dirs[@]}") - c0))
	if [ "$side" = clu ]; then cpu[workers]=$(($(cpu_ms "${worker_dirs[@]}") - w0)); fi
	tps[$side]=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$work/pgbench.$side")
	failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$work/pgbench.$side")
	if [ "$pgbench_ok" -eq 0 ] || [ -z "${tps[$side]}" ] || [ "${failed:-0}" != 0 ]; then
		echo "  $side: resolve FAILED:"
		grep -E 'ERROR|DETAIL|HINT|CONTEXT|aborted|failed' "$work/pgbench.$side" | sort | uniq -c | sort -rn | head -n 8 | sed 's/^/    /'
		resolve_ok=0
		status=1
	fi
done
if [ "$resolve_ok" -eq 0 ]; then
	for side in one clu; do
		if [ -n "${tps[$side]}" ]; then echo "  $side: ${tps[$side]} records/s until it stopped"; fi
	done
else
	echo "  one node $(f "${tps[one]}" 0) records/s, cluster $(f "${tps[clu]}" 0) records/s:" \
		"ratio = cluster / one node = $(f "${tps[clu]} / ${tps[one]}" 2) (report)"
	echo "  CPU per record: one node $(f "${cpu[one]} / $resolve_records" 3) ms; cluster $(f "${cpu[clu]} / $resolve_records" 3) ms," \
		"of which coordinator $(f "(${cpu[clu]} - ${cpu[workers]}) / $resolve_records" 3) ms and the 2 workers $(f "${cpu[workers]} / $resolve_records" 3) ms"
	echo "  (pgbench clients' own CPU not counted; latency per record: one node" \
		"$(f "2000 / ${tps[one]}" 2) ms, cluster $(f "2000 / ${tps[clu]}" 2) ms)"
fi
if [ "$resolve_ok" -eq 1 ]; then same_partition resolve ""; fi

# ---- (3) resolve_all
echo
echo "(3) cdp.resolve_all of $ra_records records (load average $(load)):"
declare -A ra ra_rows
ra_ok=1
for side in one clu; do
	if [ "$side" = one ]; then
		one -c "CHECKPOINT"
		dirs=("$one_dir")
	else
		clu -c "CHECKPOINT" -c "SELECT run_command_on_workers('CHECKPOINT')" >/dev/null
		dirs=("$coord_dir" "${worker_dirs[@]}")
	fi
	c0=$(cpu_ms "${dirs[@]}")
	if [ "$side" = clu ]; then w0=$(cpu_ms "${worker_dirs[@]}"); fi
	start=$EPOCHREALTIME
	if ra_rows[$side]=$("$side" -At -c "SELECT count(*) FROM cdp.resolve_all('SELECT record_id, kind, value FROM bulk_input')" \
		2>"$work/ra.$side"); then
		ra[$side]=$(f "$EPOCHREALTIME - $start" 2)
	else
		echo "  $side: resolve_all FAILED:"
		sed 's/^/    /' "$work/ra.$side" | head -n 8
		ra_ok=0
		status=1
	fi
	cpu[ra_$side]=$(($(cpu_ms "${dirs[@]}") - c0))
	if [ "$side" = clu ]; then cpu[ra_workers]=$(($(cpu_ms "${worker_dirs[@]}") - w0)); fi
done
if [ "$ra_ok" -eq 1 ]; then
	echo "  one node ${ra[one]}s, cluster ${ra[clu]}s: ratio = cluster / one node = $(f "${ra[clu]} / ${ra[one]}" 2) (report);" \
		"rows returned: one node ${ra_rows[one]}, cluster ${ra_rows[clu]}"
	echo "  CPU: one node $(f "${cpu[ra_one]} / 1000")s; cluster $(f "${cpu[ra_clu]} / 1000")s, of which coordinator" \
		"$(f "(${cpu[ra_clu]} - ${cpu[ra_workers]}) / 1000")s and the 2 workers $(f "${cpu[ra_workers]} / 1000")s"
	if [ "${ra_rows[one]}" != "${ra_rows[clu]}" ]; then
		echo "  resolve_all returned a different number of rows on the two sides"
		status=1
	fi
	same_partition resolve_all "kind = 'anonymous' OR (kind = 'email' AND value LIKE '%@bulk.example.com')
	                            OR (kind = 'phone' AND value LIKE '+3360%')"
fi

# ---- (4) rows per shard
echo
echo "(4) rows per shard on the cluster ($shards shards per table; target: largest shard ≤ 1.2 × the mean):"
clu -At -c "
	WITH t(ord, tbl) AS (VALUES (1, 'cdp.contacts'::regclass), (2, 'cdp.events'::regclass),
	                            (3, 'cdp.identifiers'::regclass), (4, 'cdp.identifier_index'::regclass)),
	     r AS (SELECT t.ord, t.tbl, s.shardid, s.result::bigint AS n, p.nodeport
	             FROM t, run_command_on_shards(t.tbl, 'SELECT count(*) FROM %s') s
	             JOIN pg_dist_shard_placement p ON p.shardid = s.shardid),
	     w AS (SELECT tbl, string_agg(format('%s on :%s', n, nodeport), ', ' ORDER BY nodeport) AS per_worker
	             FROM (SELECT tbl, nodeport, sum(n) AS n FROM r GROUP BY tbl, nodeport) x GROUP BY tbl)
	SELECT line FROM (
	    SELECT 0 AS ord, '  | table | rows | shards | smallest | mean | largest | largest / mean | target | rows per worker |' AS line
	    UNION ALL SELECT 0, '  |---|--:|--:|--:|--:|--:|--:|---|---|'
	    UNION ALL
	    SELECT min(r.ord), format('  | %s | %s | %s | %s | %s | %s | %s | %s | %s |', r.tbl, sum(r.n), count(*), min(r.n),
	                              round(avg(r.n), 1), max(r.n), round(max(r.n) / nullif(avg(r.n), 0), 3),
	                              CASE WHEN sum(r.n) = 0 THEN 'empty'
	                                   WHEN max(r.n) <= 1.2 * avg(r.n) THEN '≤ 1.2 target met' ELSE '≤ 1.2 MISSED' END,
	                              min(w.per_worker))
	      FROM r JOIN w USING (tbl) GROUP BY r.tbl) x ORDER BY ord, line LIKE '  |-%'"

echo
echo "bench: done (load average $(load))"
exit $status
