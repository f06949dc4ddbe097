#!/usr/bin/env bash
# run-in-cluster.sh: the body of `make test`, run by test/cluster.sh inside a
# throwaway cluster.  Each suite's results (a pg_regress test, an isolation
# spec, a TAP test) are counted; the last line is
# "N passed, N failed" and the exit status is non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
log=$(mktemp -d)

count() {	# count <passed> <failed>
	passed=$((passed + $1))
	failed=$((failed + $2))
}

# installcheck runs pg_regress and then the isolation tester in one recipe,
# which stops at the first failure: they are run one at a time so that a
# failing pg_regress test does not hide the isolation results.
echo "== pg_regress (sql/, expected/)"
make -s installcheck ISOLATION= >"$log/regress.out" 2>&1
regress_status=$?
cat "$log/regress.out"
ok=$(grep -cE '^(ok|test) .* ok|\.\.\. ok' "$log/regress.out")
bad=$(grep -cE 'FAILED|failed \(ignored\)' "$log/regress.out")
if [ "$regress_status" -ne 0 ]; then
	[ -f regression.diffs ] && cat regression.diffs
	[ "$bad" -eq 0 ] && bad=1
fi
count "$ok" "$bad"

echo "== isolation tester (test/isolation/specs, test/isolation/expected)"
make -s installcheck REGRESS= >"$log/isolation.out" 2>&1
isolation_status=$?
cat "$log/isolation.out"
ok=$(grep -cE '\.\.\. ok' "$log/isolation.out")
bad=$(grep -cE '\.\.\. FAILED' "$log/isolation.out")
if [ "$isolation_status" -ne 0 ]; then
	[ -f output_iso/regression.diffs ] && cat output_iso/regression.diffs
	[ "$bad" -eq 0 ] && bad=1
fi
count "$ok" "$bad"

echo "== pgTAP (test/*.sql)"
createdb cdp_tap
psql -X -q -d cdp_tap -c 'CREATE EXTENSION pgtap' >/dev/null
pg_prove -v -d cdp_tap test/*.sql >"$log/tap.out" 2>&1
tap_status=$?
cat "$log/tap.out"
ok=$(grep -cE '^\s*ok [0-9]+' "$log/tap.out")
bad=$(grep -cE '^\s*not ok [0-9]+' "$log/tap.out")
[ "$tap_status" -ne 0 ] && [ "$bad" -eq 0 ] && bad=1
count "$ok" "$bad"

# The pgTAP tests roll back, so cdp_tap is filled first by a seeded,
# single-client run of the soak's operations (the same every time), then
# test/invariants/invariants.sql and the change-feed checks run on it
# (make soak runs the same checks after 8 concurrent clients).
echo "== invariants (test/soak/soak.sh: 3000 seeded transactions on cdp_tap, then test/invariants/invariants.sql)"
PGDATABASE=cdp_tap CDP_SOAK_IN_CLUSTER=1 SOAK_CLIENTS=1 SOAK_TRANSACTIONS=3000 SOAK_SEED=20261130 \
	SOAK_POOL=200 SOAK_DUMP=none bash test/soak/soak.sh >"$log/invariants.out" 2>&1
invariants_status=$?
cat "$log/invariants.out"
ok=$(grep -cE '^\s*ok [0-9]+' "$log/invariants.out")
bad=$(grep -cE '^\s*not ok [0-9]+' "$log/invariants.out")
[ "$invariants_status" -ne 0 ] && [ "$bad" -eq 0 ] && bad=1
count "$ok" "$bad"

if compgen -G 'test/t/*.sh' >/dev/null; then
	echo "== TAP scripts (test/t/*.sh)"
	prove -v test/t/*.sh >"$log/scripts.out" 2>&1
	scripts_status=$?
	cat "$log/scripts.out"
	ok=$(grep -cE '^\s*ok [0-9]+' "$log/scripts.out")
	bad=$(grep -cE '^\s*not ok [0-9]+' "$log/scripts.out")
	[ "$scripts_status" -ne 0 ] && [ "$bad" -eq 0 ] && bad=1
	count "$ok" "$bad"
fi

rm -rf "$log"
echo "$passed passed, $failed failed"
[ -n "${CDP_TEST_SUMMARY:-}" ] && echo "$passed passed, $failed failed" >"$CDP_TEST_SUMMARY"
[ "$failed" -eq 0 ]
