#!/usr/bin/env bash
# segments.sh: the segments benchmark.  Builds and installs cdp, then runs
# segments_in_cluster.bash in a throwaway cluster.  See segments_in_cluster.bash
# for what is measured.  BENCH_CONTACTS=N BENCH_EVENTS=M for a smaller run
# while trying the script out.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."

make -s
make -s install >/dev/null
# pg_virtualenv takes the first free port from 5432, which races with other
# clusters starting at the same moment; a random port rarely collides.
export PGPORT=${PGPORT:-$((20000 + RANDOM % 20000))}
test/cluster.sh bash "$here/segments_in_cluster.bash"
