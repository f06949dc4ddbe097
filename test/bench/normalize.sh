#!/usr/bin/env bash
# normalize.sh: the identifier normalisation benchmark.  Builds and installs
# cdp, installs the Node baseline, then runs normalize_in_cluster.bash in a
# throwaway cluster.  See normalize_in_cluster.bash for what is measured.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."

make -s
make -s install >/dev/null

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "bench: installing nodejs and npm"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends nodejs npm
fi
if [ ! -d "$here/node_modules/libphonenumber-js" ]; then
	echo "bench: installing libphonenumber-js into test/bench/node_modules"
	(cd "$here" && npm install --no-audit --no-fund --loglevel=error)
fi

mkdir -p "$here/out"
test/cluster.sh bash "$here/normalize_in_cluster.bash"
