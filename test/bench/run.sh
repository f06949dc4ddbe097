#!/usr/bin/env bash
# run.sh: `make bench`.  Runs every benchmark in test/bench (each
# test/bench/<name>.sh; their helpers are *.bash, *.sql and *.js), one after
# the other, and fails if any fails.  BENCH=name runs just that one.
# Benchmarks print their own ratios against a baseline measured in the same
# run; they are not part of `make test`.
set -uo pipefail
cd "$(dirname "$0")"

status=0
if [ -n "${BENCH:-}" ]; then
	benches=("$BENCH.sh")
else
	benches=(*.sh)
fi
for b in "${benches[@]}"; do
	[ "$b" = run.sh ] && continue
	echo "==== bench ${b%.sh}"
	bash "$b" || { echo "==== bench ${b%.sh} FAILED"; status=1; }
done
exit $status
