#!/usr/bin/env bash
# activation.sh: the activation benchmark (stored membership, immediate
# segments, the change log, ingest).  Builds and installs cdp, then runs
# activation_in_cluster.bash in a throwaway cluster; see that file for what is
# measured.  BENCH_CONTACTS=N for a smaller run while trying the script out.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."

make -s
make -s install >/dev/null
# pg_virtualenv takes the first free port from 5432, which races with other
# clusters starting at the same moment; a random port rarely collides.
export PGPORT=${PGPORT:-$((20000 + RANDOM % 20000))}
test/cluster.sh bash "$here/activation_in_cluster.bash"
