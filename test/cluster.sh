#!/usr/bin/env bash
# cluster.sh: run a command inside a throwaway PostgreSQL 15 cluster made by
# pg_virtualenv, which exports PGHOST, PGPORT, PGUSER and PGDATABASE for it.
# Extra postgresql.conf settings for the cluster are passed with -o.
set -euo pipefail
exec pg_virtualenv -v 15 \
	-o 'max_connections=50' \
	-o 'shared_buffers=256MB' \
	-o 'fsync=off' \
	-o 'synchronous_commit=off' \
	-o 'full_page_writes=off' \
	"$@"
