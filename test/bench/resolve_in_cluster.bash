#!/usr/bin/env bash
# resolve_in_cluster.bash: the resolve benchmark, run by resolve.sh inside a
# throwaway cluster (PGHOST etc. set by pg_virtualenv).  Named .bash so that
# run.sh, which runs every test/bench/*.sh, does not run it on its own.
#
# Data: 200,000 records from crm, shop and app made deterministically in SQL
# (resolve_data.sql).  Measured:
#   (a) sequential, one backend (a procedure that COMMITs after each record,
#       then after every 100; no client round trip is timed): cdp.resolve
#       against the PL/pgSQL lookup-attach-merge of resolve_baseline.sql;
#       ratio = ours / baseline;
#   (b) throughput of cdp.resolve with 1, 2 and 4 pgbench clients taking the
#       next record from a shared sequence, one record per transaction, each
#       run in a fresh database;
#   (c) every run ends in the same partition of identifiers into contacts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
records=${BENCH_RECORDS:-200000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export PGOPTIONS="-c jit=off -c max_parallel_workers_per_gather=0 -c client_min_messages=warning"
sql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
val() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
elapsed() { awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $1 }"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
rate() { awk "BEGIN { printf \"%.0f\", $1 / $2 }"; }
partition() {	# partition <db> <function> <file>
	val "$1" "SELECT key || ' ' || label FROM bench.$2() ORDER BY key" >"$3"
}

echo "bench: generating $records records"
createdb bench_tpl
sql -d bench_tpl -c "CREATE EXTENSION cdp"
sql -d bench_tpl -v records="$records" -f "$here/resolve_data.sql" >/dev/null
sql -d bench_tpl -f "$here/resolve_baseline.sql" >/dev/null
val bench_tpl "
	SELECT format('bench: %s records (crm %s, shop %s, app %s) about %s people, %s%% of them in two or more sources',
	              count(*), count(*) FILTER (WHERE source = 'crm'), count(*) FILTER (WHERE source = 'shop'),
	              count(*) FILTER (WHERE source = 'app'), count(DISTINCT person),
	              round(100.0 * (SELECT count(*) FROM (SELECT person FROM bench.records GROUP BY person
	                                                    HAVING count(*) > 1) m)
	                    / count(DISTINCT person), 1))
	  FROM bench.records"

# ---- (a) sequential, one backend: a COMMIT after every record, then after
# every 100 records (which leaves less of the commit in the figure)
declare -A secs
status=0
for per_commit in 1 100; do
	createdb -T bench_tpl bench_seq
	for impl in cdp baseline; do
		sql -d bench_seq -c "CHECKPOINT"
		start=$EPOCHREALTIME
		sql -d bench_seq -c "CALL bench.run_$impl(1, $records, $per_commit)"
		secs[$impl]=$(elapsed "$start")
	done
	merges_cdp=$(val bench_seq "SELECT count(*) FROM cdp.merges")
	merges_baseline=$(val bench_seq "SELECT count(*) FROM bench.merges")
	echo
	echo "sequential, one backend, $records records, a COMMIT every $per_commit record(s) (load average now $(load)):"
	printf '  %-22s %7ss %7s records/s  %6s merges\n' \
		"cdp.resolve (C)" "${secs[cdp]}" "$(rate "$records" "${secs[cdp]}")" "$merges_cdp" \
		"baseline (PL/pgSQL)" "${secs[baseline]}" "$(rate "$records" "${secs[baseline]}")" "$merges_baseline"
	awk "BEGIN { printf \"  ratio = ours / baseline = %.2f (target <= 0.5)\n\", ${secs[cdp]} / ${secs[baseline]} }"

	partition bench_seq partition_cdp "$work/cdp.$per_commit"
	partition bench_seq partition_baseline "$work/baseline.$per_commit"
	contacts=$(val bench_seq "SELECT count(*) FROM cdp.contacts WHERE merged_into IS NULL")
	if cmp -s "$work/cdp.$per_commit" "$work/baseline.$per_commit"; then
		echo "  partition: cdp and baseline agree ($(wc -l <"$work/cdp.$per_commit") identifiers in $contacts live contacts)"
	else
		echo "  partition: cdp and baseline DIFFER:"
		diff "$work/cdp.$per_commit" "$work/baseline.$per_commit" | head -20 | sed 's/^/    /'
		status=1
	fi
	dropdb bench_seq
done
cp "$work/cdp.1" "$work/cdp"

# ---- (b) throughput with concurrent pgbench clients
echo
echo "throughput of cdp.resolve, pgbench clients taking the next record, one per transaction ($records records, $(nproc) cores):"
echo "  (load average before: $(load); other work on the machine lowers the scaling)"
declare -A tps
for clients in 1 2 4; do
	db=bench_c$clients
	createdb -T bench_tpl "$db"
	sql -d "$db" -c "CHECKPOINT"
	pgbench -n -M prepared -c "$clients" -j "$clients" -t $((records / clients)) \
		-f "$here/resolve_pgbench.sql" "$db" >"$work/pgbench.$clients" 2>&1 || {
		cat "$work/pgbench.$clients"
		status=1
	}
	tps[$clients]=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$work/pgbench.$clients")
	failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$work/pgbench.$clients")
	partition "$db" partition_cdp "$work/c$clients"
	if cmp -s "$work/cdp" "$work/c$clients"; then same="same partition as sequential"; else
		same="partition DIFFERS from sequential"
		status=1
	fi
	printf '  %d client%-2s %8.0f records/s  (x%.2f of 1 client)  failed transactions: %s  %s\n' \
		"$clients" "$([ "$clients" -gt 1 ] && echo s)" "${tps[$clients]:-0}" \
		"$(awk "BEGIN { print ${tps[$clients]:-0} / ${tps[1]:-1} }")" "${failed:-?}" "$same"
	dropdb "$db"
done
awk "BEGIN { printf \"  2 clients / 1 client = %.2f (target >= 1.6)\n\", ${tps[2]:-0} / ${tps[1]:-1} }"
dropdb bench_tpl
exit $status
