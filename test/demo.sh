#!/usr/bin/env bash
# demo.sh: `make demo`, the main job.  Installs what is missing, builds and
# installs cdp, and runs test/demo/*.sql in order in a throwaway cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

bash test/deps.sh
make -s
make -s install >/dev/null
test/cluster.sh bash -c '
	set -e
	for f in test/demo/*.sql; do
		psql -X -q -v ON_ERROR_STOP=1 -f "$f"
	done'
