#!/usr/bin/env bash
# demo.sh: `make demo`, the main job.  Installs what is missing, builds and
# installs cdp, and runs test/demo/run.sh in a throwaway cluster; with KEEP=1
# in a cluster that stays up (see keep_cluster) and prints how to connect.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
bash test/deps.sh
make -s
make -s install >/dev/null
echo "make demo: installed what was missing, built and installed cdp in $(($(date +%s) - started)) s"
export CDP_DEMO_OUT=${CDP_DEMO_OUT:-$PWD/demo-output}
mkdir -p "$CDP_DEMO_OUT"
# bulk loads: fewer checkpoints; the cluster is a demo, so no fsync
settings=(max_connections=50 shared_buffers=256MB fsync=off synchronous_commit=off full_page_writes=off
	max_wal_size=4GB checkpoint_timeout=30min)

# KEEP=1: a cluster named cdp_demo on port 54329 that outlives the demo.
# As root it is a Debian cluster (pg_createcluster; stop and remove it with
# pg_dropcluster --stop 15 cdp_demo), otherwise a data directory under
# demo-output (pg_ctl -D demo-output/pgdata stop).  A second KEEP run
# replaces it.
keep_port=54329
keep_cluster() {
	if [ "$(id -u)" -eq 0 ]; then
		pg_dropcluster --stop 15 cdp_demo 2>/dev/null || true
		opts=()
		for s in "${settings[@]}"; do opts+=(-o "$s"); done
		pg_createcluster -q 15 cdp_demo -p "$keep_port" "${opts[@]}" >/dev/null
		printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' \
			>/etc/postgresql/15/cdp_demo/pg_hba.conf
		pg_ctlcluster 15 cdp_demo start
		host=/var/run/postgresql
		stop="pg_dropcluster --stop 15 cdp_demo"
	else
		bin=$(pg_config --bindir)
		data=$CDP_DEMO_OUT/pgdata
		[ -d "$data" ] && { "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$data"; }
		"$bin/initdb" -D "$data" -U postgres -A trust >/dev/null
		for s in "${settings[@]}"; do echo "$s" >>"$data/postgresql.conf"; done
		printf "port = %s\nunix_socket_directories = '%s'\n" "$keep_port" "$CDP_DEMO_OUT" >>"$data/postgresql.conf"
		"$bin/pg_ctl" -D "$data" -l "$CDP_DEMO_OUT/postgresql.log" -w start >/dev/null
		host=$CDP_DEMO_OUT
		stop="$bin/pg_ctl -D $data stop"
	fi
	psql -X -q -h "$host" -p "$keep_port" -U postgres -d postgres -c 'CREATE DATABASE cdp_demo'
	PGHOST=$host PGPORT=$keep_port PGUSER=postgres PGDATABASE=cdp_demo bash test/demo/run.sh
	echo
	echo "The cluster keeps running. Connect:  psql -h $host -p $keep_port -U postgres -d cdp_demo"
	echo "Stop and remove it:                  $stop"
}

if [ -n "${KEEP:-}" ] && [ "${KEEP}" != 0 ]; then
	keep_cluster
else
	opts=()
	for s in "${settings[@]}"; do opts+=(-o "$s"); done
	# pg_virtualenv's own settings come from cluster.sh; later -o win
	test/cluster.sh "${opts[@]}" bash test/demo/run.sh
fi
echo "make demo: $(($(date +%s) - started)) s in all"
