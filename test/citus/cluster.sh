#!/usr/bin/env bash
# cluster.sh: a Citus cluster on this machine, a coordinator and two workers,
# three PostgreSQL 15 instances on free loopback ports, made, started and removed.
#
#   cluster.sh start [--cdp]   initdb, start, CREATE EXTENSION citus on every node,
#                              add the workers on the coordinator (and with --cdp,
#                              CREATE EXTENSION cdp on every node); nothing to do
#                              when the cluster is already up
#   cluster.sh cdp             CREATE EXTENSION cdp on every node, through the
#                              coordinator (cdp must be `make install`ed)
#   cluster.sh stop            stop every node and remove the directory
#   cluster.sh status          each node's state; the coordinator's worker list
#   cluster.sh env             shell exports for the coordinator (eval them)
#   cluster.sh psql [NODE] ... psql on NODE (coordinator, worker1, worker2;
#                              default coordinator), the rest passed to psql
#   cluster.sh run CMD ...     CMD with PGHOST/PGPORT/PGUSER/PGDATABASE set to the
#                              coordinator and CITUS_WORKER_PORTS to the workers
#
# Environment: CITUS_DIR (default /tmp/cdp-citus-$UID), CITUS_PORT (the first
# port tried, default 55432), CITUS_DB (default postgres; another name is created
# on every node), CITUS_PG_OPTS (extra postgresql.conf lines, separated by ';').
# PostgreSQL refuses to run as root: then the servers run as the postgres user.
set -euo pipefail

bindir=/usr/lib/postgresql/15/bin
dir=${CITUS_DIR:-/tmp/cdp-citus-$(id -u)}
db=${CITUS_DB:-postgres}
nodes=(coordinator worker1 worker2)
first_port=${CITUS_PORT:-55432}

if [ "$(id -u)" -eq 0 ]; then
	as_server() { runuser -u postgres -- "$@"; }
else
	as_server() { "$@"; }
fi

port_of() { cat "$dir/$1/cdp_port" 2>/dev/null; }

# q NODE [DB] SQL: one statement on a node, unaligned, stopping at an error.
q() {
	local node=$1 database=$db
	if [ $# -eq 3 ]; then database=$2; shift; fi
	psql -X -q -At -v ON_ERROR_STOP=1 -h "$dir/sock" -p "$(port_of "$node")" -U postgres -d "$database" -c "$2"
}

running() { [ -f "$dir/$1/data/postmaster.pid" ] && as_server "$bindir/pg_ctl" -D "$dir/$1/data" status >/dev/null 2>&1; }

# A port is taken when something accepts a connection on it or a server of
# this machine holds its lock file.
port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null &&
		[ ! -e "/tmp/.s.PGSQL.$1.lock" ] && [ ! -e "/var/run/postgresql/.s.PGSQL.$1.lock" ] &&
		! grep -qx "$1" "$dir"/*/cdp_port 2>/dev/null
}

next_free_port() {
	local p=$1
	while ! port_free "$p"; do
		p=$((p + 1))
		[ "$p" -lt 65000 ] || { echo "citus cluster: no free port from $first_port" >&2; return 1; }
	done
	echo "$p"
}

# start_node NODE: start it on a free port, trying the next one when another
# server takes the port between the check and the start.
start_node() {
	local node=$1 p
	p=$(port_of "$node" || true)
	[ -n "$p" ] || p=$first_port
	for _ in 1 2 3 4 5; do
		port_free "$p" || p=$(next_free_port "$p")
		echo "port = $p" | as_server tee "$dir/$node/data/cdp_port.conf" >/dev/null
		echo "$p" >"$dir/$node/cdp_port"
		if as_server "$bindir/pg_ctl" -D "$dir/$node/data" -l "$dir/$node/log" -w -t 60 start >/dev/null 2>&1; then
			return 0
		fi
		p=$((p + 1))
	done
	echo "citus cluster: $node did not start; the end of $dir/$node/log:" >&2
	tail -n 20 "$dir/$node/log" >&2
	return 1
}

init_node() {
	local node=$1
	mkdir -p "$dir/$node"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$dir/$node"
	as_server "$bindir/initdb" -D "$dir/$node/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
		>"$dir/$node/initdb.log" 2>&1 || {
		echo "citus cluster: initdb of $node failed:" >&2
		cat "$dir/$node/initdb.log" >&2
		return 1
	}
	{
		echo "listen_addresses = '127.0.0.1'"
		echo "unix_socket_directories = '$dir/sock'"
		echo "shared_preload_libraries = 'citus'"
		echo "max_connections = 100"
		echo "max_prepared_transactions = 200"
		echo "max_worker_processes = 16"
		echo "shared_buffers = 128MB"
		echo "fsync = off"
		echo "synchronous_commit = off"
		echo "full_page_writes = off"
		echo "wal_level = logical"
		echo "citus.shard_count = 32"
		echo "include_if_exists = 'cdp_port.conf'"
		if [ -n "${CITUS_PG_OPTS:-}" ]; then
			tr ';' '\n' <<<"$CITUS_PG_OPTS"
		fi
	} | as_server tee -a "$dir/$node/data/postgresql.conf" >/dev/null
}

cmd_start() {
	local with_cdp=0 node fresh=0
	[ "${1:-}" = "--cdp" ] && with_cdp=1
	bash "$(dirname "$0")/install.sh"
	if [ -d "$dir" ]; then
		local up=0
		for node in "${nodes[@]}"; do running "$node" && up=$((up + 1)); done
		if [ "$up" -ne ${#nodes[@]} ]; then
			# a leftover (a reboot, a killed run): start again from nothing
			cmd_stop
		fi
	fi
	if [ ! -d "$dir" ]; then
		fresh=1
		mkdir -p "$dir/sock"
		chmod 755 "$dir"
		[ "$(id -u)" -eq 0 ] && chown postgres: "$dir/sock"
		for node in "${nodes[@]}"; do init_node "$node"; done
		for node in "${nodes[@]}"; do start_node "$node"; done
		for node in "${nodes[@]}"; do
			if [ "$db" != postgres ]; then q "$node" postgres "CREATE DATABASE \"$db\""; fi
			q "$node" "CREATE EXTENSION IF NOT EXISTS citus"
		done
		q coordinator "SELECT citus_set_coordinator_host('127.0.0.1', $(port_of coordinator))" >/dev/null
		q coordinator "SELECT citus_add_node('127.0.0.1', $(port_of worker1))" >/dev/null
		q coordinator "SELECT citus_add_node('127.0.0.1', $(port_of worker2))" >/dev/null
	fi
	[ "$with_cdp" -eq 1 ] && cmd_cdp
	if [ "$fresh" -eq 1 ]; then
		echo "citus cluster: coordinator 127.0.0.1:$(port_of coordinator), workers :$(port_of worker1) :$(port_of worker2), in $dir"
	fi
}

# cdp on every node: workers refuse DDL ("operation is not allowed on this
# node"), and Citus propagates the coordinator's CREATE EXTENSION to them.
cmd_cdp() {
	local node v
	q coordinator "CREATE EXTENSION IF NOT EXISTS cdp"
	for node in "${nodes[@]}"; do
		v=$(q "$node" "SELECT extversion FROM pg_extension WHERE extname = 'cdp'")
		[ -n "$v" ] || { echo "citus cluster: cdp is not installed on $node" >&2; return 1; }
	done
}

cmd_stop() {
	local node
	[ -d "$dir" ] || return 0
	for node in "${nodes[@]}"; do
		if [ -f "$dir/$node/data/postmaster.pid" ]; then
			as_server "$bindir/pg_ctl" -D "$dir/$node/data" -m fast -w stop >/dev/null 2>&1 || true
		fi
	done
	rm -rf "$dir"
}

cmd_status() {
	local node state=0
	if [ ! -d "$dir" ]; then
		echo "citus cluster: none in $dir"
		return 3
	fi
	for node in "${nodes[@]}"; do
		if running "$node"; then
			echo "$node: running on 127.0.0.1:$(port_of "$node")"
		else
			echo "$node: stopped"
			state=3
		fi
	done
	if running coordinator; then
		q coordinator "SELECT 'worker: ' || node_name || ':' || node_port FROM citus_get_active_worker_nodes() ORDER BY 1"
	fi
	return $state
}

cmd_env() {
	echo "export PGHOST='$dir/sock' PGPORT=$(port_of coordinator) PGUSER=postgres PGDATABASE='$db'"
	echo "export CITUS_WORKER_PORTS='$(port_of worker1) $(port_of worker2)'"
}

case "${1:-}" in
start) shift; cmd_start "$@" ;;
cdp) cmd_cdp ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) cmd_env ;;
psql)
	shift
	node=coordinator
	case "${1:-}" in coordinator | worker1 | worker2) node=$1; shift ;; esac
	exec psql -X -h "$dir/sock" -p "$(port_of "$node")" -U postgres -d "$db" "$@"
	;;
run)
	shift
	eval "$(cmd_env)"
	exec "$@"
	;;
*)
	sed -n '4,17s/^# \{0,1\}//p' "$0" >&2
	exit 2
	;;
esac
