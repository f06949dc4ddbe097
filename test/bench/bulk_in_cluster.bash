#!/usr/bin/env bash
# bulk_in_cluster.bash: the bulk benchmark, run by bulk.sh inside a throwaway
# cluster (PGHOST etc. set by pg_virtualenv).  Named .bash so that run.sh,
# which runs every test/bench/*.sh, does not run it on its own.
#
# For each N (BENCH_SIZES, default 100000 1000000 10000000), in a fresh
# database, over the same N deterministic records (bulk_data.sql, 2-3
# identifiers each):
#   resolve_all   cdp.resolve_all end to end, all writes included; its phases
#                 timed from its NOTICE and DEBUG messages, each stamped on
#                 receipt with the client's clock ($EPOCHREALTIME): read
#                 (cursor, normalisation, identifier locks, existing graph),
#                 of which normalise (the normalisers' own time, as
#                 resolve_all measures it), link (union-find under the merge
#                 rules) and write (contacts, identifiers, changes, conflicts);
#                 and the memory it held at the most;
#   floor         what PostgreSQL itself needs for the same work: a plain
#                 SELECT count(*) of the input query, plus COPY of exactly the
#                 rows resolve_all wrote (contacts, identifiers, conflicts,
#                 changes; dumped to files first) into the empty tables of a
#                 fresh cdp database (the same indexes, constraints and
#                 triggers), in one transaction;
#   pgRouting     pgr_connectedComponents over the record-identifier edges
#                 (components only, nothing written); the integer numbering
#                 of nodes and the edges table (bulk_graph.sql) are timed
#                 apart and not counted;
#   label prop.   plain-SQL iterative label propagation over the same edges
#                 (bulk_propagate.sql), for N <= BENCH_LP_MAX (default 1M),
#                 capped at BENCH_LP_CAP seconds.
# Daily batch (for N = BENCH_DAILY_ON, default 1000000, when in the sizes):
# 10,000 new records, a third of them with the email of an existing person,
# loaded by resolve_all on top of the N-record graph and on an empty graph,
# and through cdp.resolve, one call per record and transaction.
# Correctness: resolve_all's live contacts = pgRouting's components that hold
# a record = the label propagation's record components (when it ran).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sizes=${BENCH_SIZES:-100000 1000000 10000000}
lp_cap=${BENCH_LP_CAP:-600}
lp_max=${BENCH_LP_MAX:-1000000}
daily_on=${BENCH_DAILY_ON:-1000000}
work=$(mktemp -d)
chmod 777 "$work"	# the server writes and reads the row files
trap 'rm -rf "$work"' EXIT

export PGOPTIONS="-c jit=off -c max_parallel_workers_per_gather=0"
sql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
val() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
f() { awk "BEGIN { printf \"%.3f\", $1 }"; }
timed() { local start=$EPOCHREALTIME; "$@" >/dev/null; f "$EPOCHREALTIME - $start"; }

# stamp: prefix every line of stdin with the time it arrived
stamp() { while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done; }
# at <file> <pattern>: the stamp of the first line matching
at() { awk -v p="$2" 'index($0, p) { print $1; exit }' "$1"; }
# field <file> <pattern> <n>: the n-th word of the first line matching
field() { awk -v p="$2" -v n="$3" 'index($0, p) { print $n; exit }' "$1"; }

# resolve_all of <query> in <db>, its messages stamped into <file>
resolve_all() {	# resolve_all <db> <query> <file>
	sql -d "$1" 2>&1 >/dev/null <<SQL | stamp >"$3"
SET client_min_messages = debug1;
DO \$\$ BEGIN RAISE NOTICE 'bench: start'; END \$\$;
SELECT count(*) FROM cdp.resolve_all('$2');
DO \$\$ BEGIN RAISE NOTICE 'bench: end'; END \$\$;
SQL
}

declare -A T
tables="contacts identifiers identity_conflicts changes"
for n in $sizes; do
	db=bench_bulk_$n
	echo "== N = $n"
	createdb "$db"
	sql -d "$db" -c "CREATE EXTENSION cdp" -c "CREATE EXTENSION pgrouting CASCADE" >/dev/null
	sql -d "$db" -v n="$n" -f "$here/bulk_data.sql" >/dev/null
	val "$db" "SELECT format('input: %s records, %s rows, %s distinct values, %s%% of them in two or more records',
	                        count(DISTINCT record_id), count(*),
	                        (SELECT count(*) FROM (SELECT DISTINCT kind, value FROM bulk_input) d),
	                        (SELECT round(100.0 * count(*) FILTER (WHERE c > 1) / count(*), 1)
	                           FROM (SELECT count(*) c FROM bulk_input GROUP BY kind, value) g))
	             FROM bulk_input"

	# the floor's read: the input query alone
	sql -d "$db" -c "CHECKPOINT"
	T[$n,scan]=$(timed val "$db" "SELECT count(*) FROM (SELECT record_id, kind, value FROM bulk_input) q")

	# resolve_all, its messages stamped on receipt
	sql -d "$db" -c "CHECKPOINT"
	resolve_all "$db" "SELECT record_id, kind, value FROM bulk_input" "$work/notices.$n"
	grep -v 'linked .* record identifiers' "$work/notices.$n" | sed 's/^/  /'
	t_start=$(at "$work/notices.$n" 'bench: start')
	t_graph=$(at "$work/notices.$n" 'existing graph')
	t_comp=$(at "$work/notices.$n" 'components computed')
	t_end=$(at "$work/notices.$n" 'bench: end')
	T[$n,ra]=$(f "$t_end - $t_start")
	T[$n,read]=$(f "$t_graph - $t_start")
	T[$n,norm]=$(field "$work/notices.$n" 'took' 9)
	T[$n,comp]=$(f "$t_comp - $t_graph")
	T[$n,write]=$(f "$t_end - $t_comp")
	T[$n,mem]=$(field "$work/notices.$n" 'held at the most' 5)
	T[$n,rss]=$(field "$work/notices.$n" 'held at the most' 11)
	T[$n,contacts]=$(val "$db" "SELECT count(*) FROM cdp.contacts WHERE merged_into IS NULL")
	for t in $tables; do
		T[$n,rows_$t]=$(val "$db" "SELECT count(*) FROM cdp.$t")
		val "$db" "COPY cdp.$t TO '$work/rows_$t.copy'"
	done

	# daily batch on top of this graph: resolve_all (rolled back), then
	# the same records through resolve, each in its own transaction
	if [ "$n" = "$daily_on" ]; then
		sql -d "$db" -v n="$n" >/dev/null <<'SQL'
CREATE UNLOGGED TABLE bulk_daily AS
SELECT 'd' || i AS record_id, k.kind,
       CASE WHEN k.kind = 'email' AND i % 3 = 0 THEN e.value
            WHEN k.kind = 'email' THEN 'daily' || i || '@example.org'
            WHEN k.kind = 'phone' THEN '+337' || lpad(i::text, 8, '0')
            ELSE 'daily-cookie-' || i END AS value
  FROM generate_series(1, 10000) AS i
 CROSS JOIN (VALUES ('email'), ('phone'), ('anonymous')) AS k(kind)
  LEFT JOIN bulk_input e ON i % 3 = 0 AND e.kind = 'email' AND e.n = (i::bigint * 7919) % :n + 1
 WHERE k.kind = 'email' OR (k.kind = 'phone' AND i % 2 = 0) OR (k.kind = 'anonymous' AND i % 2 = 1);
SQL
		val "$db" "COPY bulk_daily TO '$work/daily.copy'"
		sql -d "$db" -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
		T[daily,matching]=$(val "$db" "SELECT count(DISTINCT d.record_id) FROM bulk_daily d JOIN cdp.identifiers i USING (kind, value)")
		start=$EPOCHREALTIME
		val "$db" "BEGIN; SELECT count(*) FROM cdp.resolve_all('SELECT record_id, kind, value FROM bulk_daily'); ROLLBACK" >/dev/null
		T[daily,graph]=$(f "$EPOCHREALTIME - $start")
		val "$db" "SELECT format('SELECT cdp.resolve(%L);', jsonb_object_agg(kind, value))
		             FROM bulk_daily GROUP BY record_id ORDER BY record_id" >"$work/daily_resolve.sql"
		T[daily,loop]=$(timed sql -d "$db" -f "$work/daily_resolve.sql")
	fi

	# pgRouting: numbering (timed apart), then the component call alone
	T[$n,number]=$(timed sql -d "$db" -v n="$n" -f "$here/bulk_graph.sql")
	sql -d "$db" -c "CHECKPOINT"
	T[$n,pgr]=$(timed val "$db" "SELECT count(*) FROM pgr_connectedComponents('SELECT id, source, target, cost, reverse_cost FROM bulk_edges')")
	T[$n,pgr_comps]=$(val "$db" "SELECT count(DISTINCT component) FILTER (WHERE node <= $n)
	                               FROM pgr_connectedComponents('SELECT id, source, target, cost, reverse_cost FROM bulk_edges')")

	# plain-SQL label propagation
	T[$n,lp_done]=skipped
	if [ "$n" -le "$lp_max" ]; then
		sql -d "$db" -c "CHECKPOINT"
		T[$n,lp]=$(timed sql -d "$db" -v cap="$lp_cap" -f "$here/bulk_propagate.sql")
		IFS='|' read -r rounds finished < <(val "$db" "SELECT rounds, finished FROM bulk_lp_result")
		T[$n,lp_done]=$finished
		T[$n,lp_comps]=$(val "$db" "SELECT count(DISTINCT label) FROM bulk_labels WHERE node <= $n")
		echo "  label propagation ${T[$n,lp]}s, ${rounds} rounds, finished: $finished, ${T[$n,lp_comps]} components with records"
	fi
	dropdb "$db"

	# the floor's write: COPY of the same rows into an empty cdp database
	createdb "${db}_floor"
	sql -d "${db}_floor" -c "CREATE EXTENSION cdp" >/dev/null
	sql -d "${db}_floor" -c "CHECKPOINT"
	copy="BEGIN;"
	for t in $tables; do copy="$copy COPY cdp.$t FROM '$work/rows_$t.copy';"; done
	T[$n,copy]=$(timed val "${db}_floor" "$copy COMMIT;")
	T[$n,floor]=$(f "${T[$n,scan]} + ${T[$n,copy]}")
	dropdb "${db}_floor"
	rm -f "$work"/rows_*.copy

	echo "  resolve_all ${T[$n,ra]}s (read ${T[$n,read]}s of which normalising ${T[$n,norm]}s, link ${T[$n,comp]}s, write ${T[$n,write]}s), ${T[$n,contacts]} contacts"
	echo "  rows written: contacts ${T[$n,rows_contacts]}, identifiers ${T[$n,rows_identifiers]}, conflicts ${T[$n,rows_identity_conflicts]}, changes ${T[$n,rows_changes]}"
	echo "  floor ${T[$n,floor]}s (SELECT count(*) ${T[$n,scan]}s + COPY of those rows ${T[$n,copy]}s)"
	echo "  memory: resolve_all held ${T[$n,mem]} MB at the most ($(f "${T[$n,mem]} * 1048576 / $n") bytes per record), backend peak resident ${T[$n,rss]} MB"
	echo "  pgRouting ${T[$n,pgr]}s (numbering ${T[$n,number]}s apart), ${T[$n,pgr_comps]} components with records"
done

if [ -n "${T[daily,graph]:-}" ]; then
	createdb bench_bulk_daily
	sql -d bench_bulk_daily -c "CREATE EXTENSION cdp" \
		-c "CREATE UNLOGGED TABLE bulk_daily (record_id text, kind text, value text)" \
		-c "COPY bulk_daily FROM '$work/daily.copy'" -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
	start=$EPOCHREALTIME
	val bench_bulk_daily "BEGIN; SELECT count(*) FROM cdp.resolve_all('SELECT record_id, kind, value FROM bulk_daily'); ROLLBACK" >/dev/null
	T[daily,empty]=$(f "$EPOCHREALTIME - $start")
	dropdb bench_bulk_daily
	echo
	echo "== daily batch: 10,000 records (${T[daily,matching]} with an existing person's email)"
	echo "  resolve_all on the ${daily_on}-record graph ${T[daily,graph]}s, on an empty graph ${T[daily,empty]}s:" \
		"ratio $(f "${T[daily,graph]} / ${T[daily,empty]}") (target <= 2.0)"
	echo "  cdp.resolve in a loop on that graph, a transaction per record: ${T[daily,loop]}s" \
		"($(f "${T[daily,loop]} / ${T[daily,graph]}") x resolve_all)"
fi

echo
echo "== results (seconds; ratios against the floor and pgRouting measured in the same run)"
printf '%-9s %9s %7s %7s %7s %7s %8s %8s %9s %8s %10s %9s %8s %7s\n' N resolve_all read normal link write \
	floor ra/floor pgRouting ra/pgr label_prop us/record mem_MB agree
status=0
for n in $sizes; do
	agree=yes
	if [ "${T[$n,contacts]}" != "${T[$n,pgr_comps]}" ]; then agree=NO; status=1; fi
	if [ "${T[$n,lp_done]}" = t ] && [ "${T[$n,lp_comps]}" != "${T[$n,contacts]}" ]; then agree=NO; status=1; fi
	case ${T[$n,lp_done]} in
		t) lp=${T[$n,lp]} ;;
		skipped) lp=- ;;
		*) lp=">${T[$n,lp]}" ;;
	esac
	printf '%-9s %9s %7s %7s %7s %7s %8s %8s %9s %8s %10s %9s %8s %7s\n' "$n" "${T[$n,ra]}" "${T[$n,read]}" \
		"${T[$n,norm]}" "${T[$n,comp]}" "${T[$n,write]}" "${T[$n,floor]}" "$(f "${T[$n,ra]} / ${T[$n,floor]}")" \
		"${T[$n,pgr]}" "$(f "${T[$n,ra]} / ${T[$n,pgr]}")" "$lp" \
		"$(f "1e6 * ${T[$n,ra]} / $n")" "${T[$n,mem]}" "$agree"
done
echo "targets: at 1M ra/floor <= 1.5 and ra/pgr <= 1.0; at 10M us/record within 1.3x of 1M's and memory <= 3072 MB"
first=${sizes%% *}
last=${sizes##* }
echo "per-record growth ${last} vs ${first}: $(f "(${T[$last,ra]} / $last) / (${T[$first,ra]} / $first)")x"
[ "$status" -eq 0 ] || echo "MISMATCH: the component counts disagree"
exit $status
