#!/usr/bin/env bash
# citus.sh: the Citus benchmark.  Builds and installs cdp (and Citus, when it
# is missing), then runs citus_in_cluster.bash in a throwaway single-node
# cluster; that script starts its own Citus cluster (a coordinator and two
# workers) beside it and compares the two.  See citus_in_cluster.bash for what
# is measured.  BENCH_CONTACTS=N BENCH_EVENTS=M BENCH_RA_RECORDS=K for a
# smaller run; CITUS_DIR and CITUS_PORT place the Citus cluster.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."

make -s
make -s install >/dev/null
# pg_virtualenv takes the first free port from 5432, which races with other
# clusters starting at the same moment; a random port rarely collides.
export PGPORT=${PGPORT:-$((20000 + RANDOM % 20000))}
test/cluster.sh bash "$here/citus_in_cluster.bash"
