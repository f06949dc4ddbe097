#!/usr/bin/env bash
# bulk.sh: the bulk identity resolution benchmark.  Builds and installs cdp,
# then runs bulk_in_cluster.bash in a throwaway cluster; see there for what
# is measured.  BENCH_SIZES="100000 300000" for other sizes, BENCH_LP_CAP
# (seconds, default 600) caps the plain-SQL label propagation.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."

make -s
make -s install >/dev/null
test/cluster.sh bash "$here/bulk_in_cluster.bash"
