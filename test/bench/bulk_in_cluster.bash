#!/usr/bin/env bash
# bulk_in_cluster.bash: the bulk benchmark, run by bulk.sh inside a throwaway
# cluster (PGHOST etc. set by pg_virtualenv).  Named .bash so that run.sh,
# which runs every test/bench/*.sh, does not run it on its own.
#
# For each N (BENCH_SIZES, default 100000 300000 1000000), in a fresh database,
# over the same N deterministic records (bulk_data.sql, 2-3 identifiers each):
#   resolve_all   cdp.resolve_all end to end, all writes included; its phases
#                 timed from its NOTICE messages, each stamped on receipt
#                 with the client's clock ($EPOCHREALTIME): read (cursor +
#                 normalisation), components (existing-graph lookup +
#                 union-find: from "read ... rows:" to "components computed"),
#                 write (contacts, merges, identifiers);
#   pgRouting     pgr_connectedComponents over the record-identifier edges
#                 (components only, nothing written); the integer numbering
#                 of nodes and the edges table (bulk_graph.sql) are timed
#                 apart and not counted;
#   label prop.   plain-SQL iterative label propagation over the same edges
#                 (bulk_propagate.sql), capped at BENCH_LP_CAP seconds.
# Correctness: resolve_all's live contacts = pgRouting's components that hold
# a record = the label propagation's record components (when it finished).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sizes=${BENCH_SIZES:-100000 300000 1000000}
lp_cap=${BENCH_LP_CAP:-600}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export PGOPTIONS="-c jit=off -c max_parallel_workers_per_gather=0"
sql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
val() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
f() { awk "BEGIN { printf \"%.3f\", $1 }"; }

# stamp: prefix every line of stdin with the time it arrived
stamp() { while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done; }
# at <file> <pattern>: the stamp of the first line matching
at() { awk -v p="$2" 'index($0, p) { print $1; exit }' "$1"; }

declare -A T
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
	sql -d "$db" -c "CHECKPOINT"

	# resolve_all, its NOTICEs stamped on receipt
	sql -d "$db" 2>&1 >/dev/null <<'SQL' | stamp >"$work/notices.$n"
SET client_min_messages = notice;
DO $$ BEGIN RAISE NOTICE 'bench: start'; END $$;
SELECT count(*) FROM cdp.resolve_all('SELECT record_id, kind, value FROM bulk_input');
DO $$ BEGIN RAISE NOTICE 'bench: end'; END $$;
SQL
	sed 's/^/  /' "$work/notices.$n"
	t_start=$(at "$work/notices.$n" 'bench: start')
	t_read=$(at "$work/notices.$n" 'rows:')
	t_comp=$(at "$work/notices.$n" 'components computed')
	t_end=$(at "$work/notices.$n" 'bench: end')
	T[$n,ra]=$(f "$t_end - $t_start")
	T[$n,read]=$(f "$t_read - $t_start")
	T[$n,comp]=$(f "$t_comp - $t_read")
	T[$n,write]=$(f "$t_end - $t_comp")
	T[$n,contacts]=$(val "$db" "SELECT count(*) FROM cdp.contacts WHERE merged_into IS NULL")

	# pgRouting: numbering (timed apart), then the component call alone
	start=$EPOCHREALTIME
	sql -d "$db" -v n="$n" -f "$here/bulk_graph.sql" >/dev/null
	T[$n,number]=$(f "$EPOCHREALTIME - $start")
	sql -d "$db" -c "CHECKPOINT"
	start=$EPOCHREALTIME
	val "$db" "SELECT count(*) FROM pgr_connectedComponents('SELECT id, source, target, cost, reverse_cost FROM bulk_edges')" >/dev/null
	T[$n,pgr]=$(f "$EPOCHREALTIME - $start")
	T[$n,pgr_comps]=$(val "$db" "SELECT count(DISTINCT component) FILTER (WHERE node <= $n)
	                               FROM pgr_connectedComponents('SELECT id, source, target, cost, reverse_cost FROM bulk_edges')")

	# plain-SQL label propagation
	sql -d "$db" -c "CHECKPOINT"
	start=$EPOCHREALTIME
	sql -d "$db" -v cap="$lp_cap" -f "$here/bulk_propagate.sql" >/dev/null
	T[$n,lp]=$(f "$EPOCHREALTIME - $start")
	IFS='|' read -r rounds finished < <(val "$db" "SELECT rounds, finished FROM bulk_lp_result")
	T[$n,lp_rounds]=$rounds
	T[$n,lp_done]=$finished
	T[$n,lp_comps]=$(val "$db" "SELECT count(DISTINCT label) FROM bulk_labels WHERE node <= $n")
	echo "  resolve_all ${T[$n,ra]}s (read ${T[$n,read]}s, components ${T[$n,comp]}s, write ${T[$n,write]}s), ${T[$n,contacts]} contacts"
	echo "  pgRouting ${T[$n,pgr]}s (numbering ${T[$n,number]}s apart), ${T[$n,pgr_comps]} components with records"
	echo "  label propagation ${T[$n,lp]}s, ${rounds} rounds, finished: $finished, ${T[$n,lp_comps]} components with records"
	dropdb "$db"
done

echo
echo "== results (seconds; ratios against pgRouting measured in the same run)"
printf '%-9s %9s %9s %9s %9s %9s %11s %9s %11s %9s %9s %7s\n' N resolve_all read components write \
	pgRouting label_prop comp/pgr ra/pgr lp/ra us/record agree
status=0
for n in $sizes; do
	agree=yes
	if [ "${T[$n,contacts]}" != "${T[$n,pgr_comps]}" ]; then agree=NO; status=1; fi
	if [ "${T[$n,lp_done]}" = t ] && [ "${T[$n,lp_comps]}" != "${T[$n,contacts]}" ]; then agree=NO; status=1; fi
	lp="${T[$n,lp]}"
	lpr=$(f "${T[$n,lp]} / ${T[$n,ra]}")
	if [ "${T[$n,lp_done]}" != t ]; then lp=">$lp"; lpr=">$lpr"; fi
	printf '%-9s %9s %9s %9s %9s %9s %11s %9s %11s %9s %9s %7s\n' "$n" "${T[$n,ra]}" "${T[$n,read]}" \
		"${T[$n,comp]}" "${T[$n,write]}" "${T[$n,pgr]}" "$lp" \
		"$(f "${T[$n,comp]} / ${T[$n,pgr]}")" "$(f "${T[$n,ra]} / ${T[$n,pgr]}")" "$lpr" \
		"$(f "1e6 * ${T[$n,ra]} / $n")" "$agree"
done
echo "targets: comp/pgr <= 0.05, ra/pgr <= 0.75, lp/ra >= 20, us/record at the largest N within 1.5x of the smallest"
first=${sizes%% *}
last=${sizes##* }
echo "per-record growth ${last} vs ${first}: $(f "(${T[$last,ra]} / $last) / (${T[$first,ra]} / $first)")x"
[ "$status" -eq 0 ] || echo "MISMATCH: the component counts disagree"
exit $status
