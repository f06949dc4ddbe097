#!/usr/bin/env bash
# cluster.sh: run a command inside a throwaway PostgreSQL 15 cluster made by
# pg_virtualenv, which exports PGHOST, PGPORT, PGUSER and PGDATABASE for it.
# -t keeps its configuration in a temporary directory, so that several
# clusters (parallel test runs, benchmarks) can exist at once.
# Extra postgresql.conf settings for the cluster are passed with -o.
set -euo pipefail
exec pg_virtualenv -t -v 15 \
	-o 'max_connections=50' \
	-o 'shared_buffers=256MB' \
	-o 'fsync=off' \
	-o 'synchronous_commit=off' \
	-o 'full_page_writes=off' \
	"$@"
