#!/usr/bin/env bash
# run.sh: `make test`.  Installs what is missing, builds and installs cdp,
# then runs every test (pg_regress, pgTAP, TAP scripts) inside one throwaway
# cluster and ends with the line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash test/deps.sh || exit 1
make -s || exit 1
make -s install >/dev/null || exit 1
# pg_virtualenv prints the server log after a failure; the summary is
# repeated afterwards so that it stays the last line.
summary=$(mktemp)
CDP_TEST_SUMMARY=$summary test/cluster.sh bash test/run-in-cluster.sh
status=$?
[ -s "$summary" ] || echo "0 passed, 1 failed" >"$summary"

# With CI set, every fuzz target also runs for 30 s (test/fuzz/run.sh first
# replays the inputs in test/fuzz/crashes/ against their target); each
# replay and each target counts as one test.
if [ -n "${CI:-}" ]; then
	echo "== fuzzing (CI is set): test/fuzz/run.sh 30"
	fuzz_log=$(mktemp)
	bash test/fuzz/run.sh 30 >"$fuzz_log" 2>&1
	fuzz_status=$?
	cat "$fuzz_log"
	fuzz_ok=$(grep -cE '^== fuzz_[a-z_]+: [0-9]+ earlier crash input\(s\) pass now|^  fuzz_[a-z_]+: ok,' "$fuzz_log")
	fuzz_bad=$(grep -cE '^  fuzz_[a-z_]+: (FAILED|BUILD FAILED|an input)' "$fuzz_log")
	rm -f "$fuzz_log"
	[ "$fuzz_status" -ne 0 ] && [ "$fuzz_bad" -eq 0 ] && fuzz_bad=1
	[ "$fuzz_status" -ne 0 ] && status=1
	read -r p f < <(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$summary")
	echo "$((${p:-0} + fuzz_ok)) passed, $((${f:-1} + fuzz_bad)) failed" >"$summary"
fi
cat "$summary"
rm -f "$summary"
exit $status
