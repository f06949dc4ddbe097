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
[ -s "$summary" ] && cat "$summary" || echo "0 passed, 1 failed"
rm -f "$summary"
exit $status
