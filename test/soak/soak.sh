#!/usr/bin/env bash
# soak.sh: `make soak`.  8 pgbench clients mix every write path of cdp on a
# shared pool of people for SOAK_SECONDS (default 300) in a throwaway
# cluster; then the invariants suite and the change-feed checks run, and the
# throughput of each operation is reported.  The last line is PASS or FAIL.
#   SOAK_SECONDS=60 SOAK_CLIENTS=8 SOAK_POOL=400 bash test/soak/soak.sh
# `make test` runs it in its cluster (CDP_SOAK_IN_CLUSTER=1, PGDATABASE) as
# one client doing SOAK_TRANSACTIONS transactions from SOAK_SEED: the same
# operations in the same order every time.  SOAK_DUMP is where a failed run
# dumps its database (none: no dump).
# What the operations do and which refusals are documented (and counted,
# not failed): test/soak/setup.sql.  Retryable contention (40001, 40P01) is
# retried by pgbench (--max-tries); any other error aborts a client: FAIL.
set -uo pipefail
cd "$(dirname "$0")/../.."

seconds=${SOAK_SECONDS:-300}
clients=${SOAK_CLIENTS:-8}
pool=${SOAK_POOL:-400}
transactions=${SOAK_TRANSACTIONS:-}
seed=${SOAK_SEED:-time}
length=(-T "$seconds")
span="${seconds}s"
if [ -n "$transactions" ]; then
	length=(-t "$transactions")
	span="$transactions transactions"
fi

# operation and weight (percent of transactions pgbench picks)
ops=(resolve:20 ingest:10 track:14 set_profile:15 tag:12 merge_contacts:8 unmerge:3
	forget_contact:1 refresh_segment:3 consume:14)

if [ -z "${CDP_SOAK_IN_CLUSTER:-}" ]; then
	make -s || exit 1
	make -s install >/dev/null || exit 1
	# pg_virtualenv prints the server log after a failure: the verdict is
	# printed again afterwards so that it stays the last line.
	verdict=$(mktemp)
	CDP_SOAK_IN_CLUSTER=1 CDP_SOAK_VERDICT=$verdict test/cluster.sh \
		-o 'max_connections=60' -o 'deadlock_timeout=100ms' -o 'log_lock_waits=off' \
		bash test/soak/soak.sh
	status=$?
	if [ -s "$verdict" ]; then cat "$verdict"; else echo "soak: FAIL (the cluster did not run)"; status=1; fi
	rm -f "$verdict"
	exit $status
fi

out=$(mktemp -d)
failures=()
fail() { failures+=("$1"); }
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

echo "== soak: setup (pool of $pool people, $clients clients, $span)"
if ! psql -X -q -v ON_ERROR_STOP=1 -v pool="$pool" -f test/soak/setup.sql >"$out/setup.out" 2>&1; then
	cat "$out/setup.out"
	echo "soak: FAIL (setup)"
	[ -n "${CDP_SOAK_VERDICT:-}" ] && echo "soak: FAIL (setup)" >"$CDP_SOAK_VERDICT"
	exit 1
fi
changes_before=$(q -c 'SELECT count(*) FROM cdp.changes')
deadlocks_before=$(q -c 'SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()')

args=()
for op in "${ops[@]}"; do
	args+=(-f "test/soak/scripts/${op%%:*}.pgbench@${op##*:}")
done
echo "== soak: pgbench, $span (random seed $seed)"
pgbench -n -c "$clients" -j "$clients" "${length[@]}" --random-seed="$seed" --max-tries=100 -D pool="$pool" \
	--failures-detailed "${args[@]}" >"$out/pgbench.out" 2>&1
pgbench_status=$?
# the per-client progress lines are noise; errors and the summary are not
grep -vE '^(pgbench \(|starting vacuum|transaction type: multiple scripts)' "$out/pgbench.out" \
	| grep -vE '^\s*$' >"$out/pgbench.log"
[ "$pgbench_status" -eq 0 ] || fail "pgbench exited with status $pgbench_status"
if grep -qE 'aborted|ERROR:|FATAL:' "$out/pgbench.out"; then
	fail "a client met an error that is neither retryable nor a documented refusal"
	grep -E 'aborted|ERROR:|FATAL:' "$out/pgbench.out" | sort | uniq -c | sort -rn | head -20
fi
failed_tx=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out/pgbench.out" | head -1)
[ "${failed_tx:-x}" = 0 ] || fail "pgbench counted ${failed_tx:-?} failed transactions (retries exhausted or errors)"

echo "== soak: draining the consumer"
for _ in $(seq 1 1000); do
	n=$(q -c "WITH c AS (INSERT INTO soak.consumed (id) SELECT id FROM cdp.consume('soak', 10000) RETURNING 1)
	          SELECT count(*) FROM c")
	[ "$n" = 0 ] && break
done

echo "== soak: invariants (test/invariants/invariants.sql) and the change feed (test/soak/checks.sql)"
pg_prove -v test/invariants/invariants.sql test/soak/checks.sql >"$out/tap.out" 2>&1
tap_status=$?
tap_ok=$(grep -cE '^\s*ok [0-9]+' "$out/tap.out")
tap_bad=$(grep -cE '^\s*not ok [0-9]+' "$out/tap.out")
cat "$out/tap.out"
if [ "$tap_status" -ne 0 ] || [ "$tap_bad" -ne 0 ]; then
	fail "$tap_bad of $((tap_ok + tap_bad)) invariant and change-feed checks failed"
fi

echo
echo "== soak: throughput per operation ($clients clients, $span, pool of $pool people)"
# pgbench prints, per script: "SQL script N: <file>", "- weight: ..",
# "- T transactions (P% of total, tps = X)", "- number of failed transactions: ..",
# "- number of transactions retried: ..", "- latency average = .."
awk '
	/^SQL script [0-9]+:/ { if (name != "") print line(); n = split($4, parts, "/"); name = parts[n]; sub(/\.pgbench.*/, "", name); tx = tps = fail = retried = lat = "0" }
	/^ - [0-9]+ transactions/ { tx = $2; t = $0; sub(/.*tps = /, "", t); sub(/\).*/, "", t); tps = t }
	/^ - number of failed transactions:/ { fail = $6 }
	/^ - number of transactions retried:/ { retried = $6 }
	/^ - latency average =/ { lat = $5 }
	function line() { return sprintf("  %-16s %8s tx %9.1f tx/s  %5s retried  %3s failed  %8s ms avg", name, tx, tps, retried, fail, lat) }
	END { if (name != "") print line() }
' "$out/pgbench.out"
grep -E '^(number of transactions actually processed|number of failed|number of transactions retried|total number of retries|tps = )' "$out/pgbench.out" | sed 's/^/  /'
echo "  deadlocks detected by the server (retried): $(( $(q -c 'SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()') - deadlocks_before ))"
echo "== soak: documented refusals (caught and counted, see test/soak/setup.sql)"
q -F ' ' -c "SELECT format('  %-16s %s %s', op, sqlstate, count(*)) FROM soak.refusals GROUP BY op, sqlstate ORDER BY op, sqlstate"
q -c "SELECT '  e.g. ' || string_agg(DISTINCT sqlstate || ': ' || regexp_replace(message, '[0-9]+', 'N', 'g'), E'\n  e.g. ')
        FROM soak.refusals"
echo "== soak: what the run left"
q -c "SELECT format('  %s live contacts, %s tombstones, %s identifiers, %s merges (%s undone), %s suppressed values, %s events',
                    count(*) FILTER (WHERE merged_into IS NULL), count(*) FILTER (WHERE merged_into IS NOT NULL),
                    (SELECT count(*) FROM cdp.identifiers), (SELECT count(*) FROM cdp.merges),
                    (SELECT count(*) FROM cdp.merges WHERE undone_at IS NOT NULL),
                    (SELECT count(*) FROM cdp.suppressions), (SELECT count(*) FROM cdp.events))
        FROM cdp.contacts"
q -c "SELECT format('  %s changes written during the soak (%s in all), %s handed to the consumer',
                    count(*) - $changes_before, count(*), (SELECT count(*) FROM soak.consumed)) FROM cdp.changes"
# a merge-blocked pair must never end in one person, through third contacts either
read -r blocks joined < <(q -F ' ' -c "SELECT count(*), count(*) FILTER (WHERE coalesce(a.merged_into, a.id) = coalesce(c.merged_into, c.id))
        FROM cdp.merge_blocks b JOIN cdp.contacts a ON a.id = b.contact_a JOIN cdp.contacts c ON c.id = b.contact_b")
echo "  ${blocks:-?} merge-blocked pairs, ${joined:-?} of them one person (must be 0, see invariants.sql)"
[ "${joined:-x}" = 0 ] || fail "${joined:-?} merge-blocked pairs ended in one person"
q -c "SELECT format('  segment %s (%s): %s members', slug, refresh, member_count) FROM cdp.segments ORDER BY slug"
echo "  invariant and change-feed checks: $tap_ok passed, $tap_bad failed"

if [ ${#failures[@]} -gt 0 ] && [ "${SOAK_DUMP:-}" != none ]; then
	# for a post-mortem: pg_restore -C -d postgres <file> in a cluster with cdp installed
	dump=${SOAK_DUMP:-$(mktemp /tmp/cdp-soak-XXXXXX.dump)}
	pg_dump -Fc -f "$dump" 2>/dev/null && echo "== soak: the database is dumped in $dump"
fi
rm -rf "$out"
echo
if [ ${#failures[@]} -eq 0 ]; then
	verdict="soak: PASS ($span, $clients clients, $tap_ok checks)"
	status=0
else
	printf 'soak: %s\n' "${failures[@]}"
	verdict="soak: FAIL (${failures[*]})"
	status=1
fi
echo "$verdict"
[ -n "${CDP_SOAK_VERDICT:-}" ] && echo "$verdict" >"$CDP_SOAK_VERDICT"
exit $status
