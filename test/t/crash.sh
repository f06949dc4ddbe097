#!/usr/bin/env bash
# crash.sh: kill -9 of a backend and of the postmaster during resolve_all,
# during a storm of resolve calls and during refresh_segment, in a cluster of
# its own (the suite's cluster is never touched).  After each crash recovery
# nothing of an aborted transaction is visible, every acknowledged commit is,
# and the invariants hold (ours below, then test/invariants/invariants.sql
# with pg_prove, and amcheck on every index of cdp).
set -uo pipefail
cd "$(dirname "$0")/../.."
bindir=$(pg_config --bindir)
work=$(mktemp -d)
chmod 755 "$work"
as_owner=(env)
[ "$(id -u)" = 0 ] && as_owner=(runuser -u postgres --)
n=0
failed=0
injected=0
survived=0
clients=()
ok() {	# ok <status> <description>
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
postmaster() { head -n 1 "$work/data/postmaster.pid" 2>/dev/null; }
cleanup() {
	local pm
	for c in "${clients[@]}"; do kill "$c" 2>/dev/null; done
	pm=$(postmaster)
	[ -n "$pm" ] && "${as_owner[@]}" "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

echo "1..27"

# The cluster: initdb into a temporary directory, started by its owner on a
# socket in that directory (no TCP, so no port is shared with anyone).
[ "$(id -u)" = 0 ] && chown postgres "$work"
start() {
	local port
	for _ in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 30000))
		"${as_owner[@]}" "$bindir/pg_ctl" -D "$work/data" -l "$work/log" -w -t 60 \
			-o "-p $port -k $work -c listen_addresses= -c fsync=off -c max_connections=40 -c restart_after_crash=on" \
			start >/dev/null 2>&1 && { export PGPORT=$port; return 0; }
		grep -q 'could not \(bind\|create lock file\)' "$work/log" || return 1
	done
	return 1
}
export PGHOST=$work PGUSER=postgres PGDATABASE=crash
unset PGPASSWORD PGSERVICE
"${as_owner[@]}" "$bindir/initdb" -A trust -U postgres -D "$work/data" >"$work/initdb.log" 2>&1 && start &&
	createdb crash && psql -X -q -v ON_ERROR_STOP=1 >"$work/setup.log" 2>&1 <<'SQL'
CREATE EXTENSION cdp;
CREATE EXTENSION amcheck;
SELECT cdp.define_profile('customer', 'contact', '[{"slug": "ltv", "type": "number"}, {"slug": "tier", "type": "text"}]');
SELECT count(*) FROM cdp.resolve_all($$
    SELECT 'b' || g AS record_id, 'email' AS kind, 'base' || g || '@example.com' AS value FROM generate_series(1, 40000) g
    UNION ALL SELECT 'b' || g, 'external_id', 'X' || (g / 2) FROM generate_series(1, 40000) g$$);
INSERT INTO cdp_data.profile_customer (contact_id, ltv, tier)
     SELECT id, id % 5000, CASE WHEN id % 3 = 0 THEN 'gold' END FROM cdp.contacts WHERE merged_into IS NULL;
SELECT cdp.tag('contact', id, 'VIP') FROM cdp.contacts WHERE merged_into IS NULL AND id % 10 = 0;
SELECT cdp.create_segment('vip', $$tag 'VIP' and customer.ltv > 100$$, refresh => 'immediate');
SELECT cdp.create_segment('gold', $$customer.tier = 'gold' and has email$$);
SELECT cdp.create_segment('big', $$customer.ltv >= 1000$$);
SELECT * FROM cdp.refresh_segment('gold');
SQL
ok $? "a cluster of its own with 20,000 contacts, a profile and three segments (one immediate)"
grep -E 'ERROR|FATAL' "$work/initdb.log" "$work/setup.log" "$work/log" 2>/dev/null | sed 's/^/# /' | head

q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }

# What must hold at rest; prints the violated ones (nothing when all hold).
invariants="
SELECT 'identifier on a tombstone: ' || count(*) FROM cdp.identifiers i JOIN cdp.contacts c ON c.id = i.contact_id
 WHERE c.merged_into IS NOT NULL HAVING count(*) > 0
UNION ALL
SELECT 'duplicate (kind, value): ' || count(*) FROM (SELECT kind, value FROM cdp.identifiers GROUP BY 1, 2 HAVING count(*) > 1) d
HAVING count(*) > 0
UNION ALL
SELECT 'immediate segment ' || s.slug || ' differs from cdp.members' FROM cdp.segments s
 WHERE s.refresh = 'immediate'
   AND (EXISTS (SELECT m.contact_id FROM cdp.segment_members m WHERE m.segment = s.slug EXCEPT SELECT * FROM cdp.members(s.slug))
        OR EXISTS (SELECT * FROM cdp.members(s.slug) EXCEPT SELECT m.contact_id FROM cdp.segment_members m WHERE m.segment = s.slug))
UNION ALL
SELECT 'member_count of ' || s.slug FROM cdp.segments s
 WHERE s.member_count IS DISTINCT FROM (SELECT count(*) FROM cdp.segment_members m WHERE m.segment = s.slug)
   AND (s.member_count IS NOT NULL OR EXISTS (SELECT FROM cdp.segment_members m WHERE m.segment = s.slug))
UNION ALL
SELECT 'index ' || i.relname || ' is corrupt'
  FROM (SELECT c.oid, c.relname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
         WHERE c.relkind = 'i' AND a.amname = 'btree'
           AND c.relnamespace IN ('cdp'::regnamespace, 'cdp_data'::regnamespace) OFFSET 0) i
 WHERE NOT (SELECT true FROM bt_index_check(i.oid, true))"

# The rows an aborted transaction would have left: counts and the last ids.
footprint="SELECT (SELECT count(*) || '/' || coalesce(max(id), 0) FROM cdp.contacts),
                  (SELECT count(*) || '/' || coalesce(max(id), 0) FROM cdp.identifiers),
                  (SELECT count(*) FROM cdp.merges), (SELECT count(*) FROM cdp.identity_conflicts),
                  (SELECT count(*) || '/' || coalesce(max(id), 0) FROM cdp.changes),
                  (SELECT count(*) FROM cdp.segment_members), (SELECT count(*) FROM cdp.segment_changes),
                  (SELECT string_agg(slug || '=' || coalesce(member_count, -1), ',' ORDER BY slug) FROM cdp.segments),
                  (SELECT count(*) FROM cdp_data.profile_customer)"

# Waits until the cluster accepts connections again (crash recovery done).
wait_ready() {
	for _ in $(seq 1 300); do
		psql -X -q -At -d crash -c 'SELECT 1' >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
# Waits until a backend of this database runs a statement like $1; prints its pid.
backend_of() {
	local pid
	for _ in $(seq 1 200); do
		pid=$(q "SELECT pid FROM pg_stat_activity WHERE datname = 'crash' AND state = 'active'
		           AND query LIKE '$1' AND pid <> pg_backend_pid() LIMIT 1" 2>/dev/null)
		[ -n "$pid" ] && { echo "$pid"; return 0; }
		sleep 0.05
	done
	return 1
}
# kill -9 of one backend: the postmaster ends every backend and recovers.
kill_backend() {	# kill_backend <pid>
	kill -0 "$1" 2>/dev/null || return 1
	kill -9 "$1" && injected=$((injected + 1))
}
# kill -9 of the postmaster; its children end when they notice (those that
# do not within 3 seconds are killed by pid), then pg_ctl starts it again.
kill_postmaster() {
	local pm children
	pm=$(postmaster)
	children=$(ps -o pid= --ppid "$pm")
	kill -9 "$pm" || return 1
	injected=$((injected + 1))
	for _ in $(seq 1 30); do
		alive=0
		for c in $children; do kill -0 "$c" 2>/dev/null && alive=1; done
		[ "$alive" = 0 ] && break
		sleep 0.1
	done
	for c in $children; do kill -9 "$c" 2>/dev/null; done
	sleep 0.2
	start
}
# After a crash: recovered, and the invariants hold.
recovered() {	# recovered <description>
	local bad
	wait_ready
	ok $? "$1: the cluster recovers"
	bad=$(q "$invariants" 2>&1)
	[ -z "$bad" ]
	ok $? "$1: the invariants hold (no identifier on a tombstone, (kind, value) unique, immediate segments exact, member counts, btree indexes)"
	[ -n "$bad" ] && echo "$bad" | sed 's/^/# /'
	[ -z "$bad" ] && survived=$((survived + 1))
}

# -- 1. resolve_all: 200,000 records linking into the existing graph --------
resolve_all="SELECT count(*) FROM cdp.resolve_all(\$\$
    SELECT 'r' || g AS record_id, 'email' AS kind, 'crash' || g || '@example.com' AS value FROM generate_series(1, 200000) g
    UNION ALL SELECT 'r' || g, 'external_id', 'X' || (g / 3) FROM generate_series(1, 200000) g\$\$)"
bulk_crash() {	# bulk_crash <backend|postmaster>
	local before pid
	before=$(q "$footprint")
	[ -n "$before" ] || before=unreadable
	psql -X -q -At -c "$resolve_all" >"$work/bulk.out" 2>&1 &
	clients=($!)
	pid=$(backend_of '%resolve_all%')
	# mid-way: it has linked and is writing (or 2 seconds in)
	for _ in $(seq 1 100); do grep -q 'writing\|wrote' "$work/bulk.out" && break; sleep 0.1; done
	sleep 1
	if [ "$1" = backend ]; then kill_backend "$pid"; else kill_postmaster; fi
	local status=$?
	wait "${clients[@]}" 2>/dev/null
	clients=()
	[ $status -eq 0 ] && ! grep -q 'resolved to\|^200000$' "$work/bulk.out"
	ok $? "resolve_all of 200,000 records: kill -9 of the $1 while it writes (pid ${pid:-none})"
	grep 'NOTICE' "$work/bulk.out" | tail -n 1 | sed 's/^/# last: /'
	recovered "resolve_all, $1 killed"
	[ "$(q "$footprint")" = "$before" ] && [ "$(q "SELECT count(*) FROM cdp.identifiers WHERE value LIKE 'crash%'")" = 0 ]
	ok $? "resolve_all, $1 killed: no contact, identifier, merge, change or membership of the aborted run is visible"
}
bulk_crash backend
bulk_crash postmaster

# -- 2. a storm of resolve calls from 6 clients ------------------------------
# Each client writes one statement at a time in autocommit; psql prints a row
# only after the commit succeeded, so every printed line is acknowledged.
storm_crash() {	# storm_crash <backend|postmaster> <round>
	local pid c
	clients=()
	for c in 1 2 3 4 5 6; do
		for i in $(seq 1 3000); do
			k=$((RANDOM % 400))
			echo "SELECT 'ack|$2-$c-$i@example.com|' || cdp.resolve('{\"email\": \"$2-$c-$i@example.com\", \"external_id\": \"Y$2-$k\"}');"
			[ $((i % 5)) = 0 ] && echo "SELECT 'tag|$2-$c-$i@example.com|' || cdp.tag('contact', cdp.find_contact('email', '$2-$c-$i@example.com'), 'VIP');"
			[ $((i % 7)) = 0 ] && echo "SELECT 'ltv|$2-$c-$i@example.com|' || cdp.set_profile(cdp.find_contact('email', '$2-$c-$i@example.com'), 'customer', '{\"ltv\": $((RANDOM % 300))}') IS NULL;"
		done >"$work/storm-$c.sql"
		psql -X -q -At -v ON_ERROR_STOP=1 -f "$work/storm-$c.sql" >"$work/storm-$c.out" 2>"$work/storm-$c.err" &
		clients+=($!)
	done
	sleep 2
	pid=$(backend_of '%cdp.%')
	if [ "$1" = backend ]; then kill_backend "$pid"; else kill_postmaster; fi
	local status=$?
	wait "${clients[@]}" 2>/dev/null
	clients=()
	local acked
	acked=$(cat "$work"/storm-*.out | grep -c '^ack|')
	[ $status -eq 0 ] && [ "$acked" -gt 0 ] && [ "$(grep -c 'ack|' "$work"/storm-*.sql | awk -F: '{s += $2} END {print s}')" -gt "$acked" ]
	ok $? "a storm of resolve, tag and set_profile from 6 clients: kill -9 of the $1 after $acked acknowledged resolves"
	recovered "resolve storm, $1 killed"
	# every acknowledged write is there
	cat "$work"/storm-*.out | grep -E '^(ack|tag)\|' | cut -d '|' -f 1,2 | sort -u >"$work/acked"
	psql -X -q -At -v ON_ERROR_STOP=1 >"$work/missing" 2>&1 <<SQL
CREATE TEMP TABLE acked (what text, email text);
\copy acked FROM '$work/acked' WITH (DELIMITER '|')
SELECT a.what || ' ' || a.email FROM acked a
 WHERE cdp.find_contact('email', a.email) IS NULL
    OR a.what = 'tag' AND NOT EXISTS (SELECT FROM cdp.contact_tags t JOIN cdp.tags g ON g.id = t.tag_id
                                       WHERE t.contact_id = cdp.find_contact('email', a.email) AND g.path = 'VIP');
SQL
	[ ! -s "$work/missing" ] && [ -s "$work/acked" ]
	ok $? "resolve storm, $1 killed: each of the $(wc -l <"$work/acked") acknowledged resolves and tags is there"
	head -n 5 "$work/missing" | sed 's/^/# missing: /'
}
storm_crash backend s1
storm_crash postmaster s2

# -- 3. refresh_segment evaluating every contact -----------------------------
refresh_crash() {	# refresh_crash <backend|postmaster>
	local before pid
	before=$(q "$footprint; SELECT md5(string_agg(m::text, ',' ORDER BY m::text)) FROM cdp.segment_members m;
	            SELECT string_agg(s::text, ',' ORDER BY segment) FROM cdp_internal.segment_state s" | paste -sd ' ')
	[ -n "$before" ] || before=unreadable
	# the definition changes and the segment refreshes in one transaction
	psql -X -q -At -c "SELECT cdp.alter_segment('big', 'customer.ltv >= $((RANDOM % 500 + 1000))');
	                   SELECT * FROM cdp.refresh_segment('big')" >"$work/refresh.out" 2>&1 &
	clients=($!)
	pid=$(backend_of '%refresh_segment%')
	sleep 0.3
	if [ "$1" = backend ]; then kill_backend "$pid"; else kill_postmaster; fi
	local status=$?
	wait "${clients[@]}" 2>/dev/null
	clients=()
	[ $status -eq 0 ] && ! grep -q '|' "$work/refresh.out"
	ok $? "refresh_segment of a segment over every contact: kill -9 of the $1 while it runs (pid ${pid:-none})"
	recovered "refresh_segment, $1 killed"
	[ "$(q "$footprint; SELECT md5(string_agg(m::text, ',' ORDER BY m::text)) FROM cdp.segment_members m;
	        SELECT string_agg(s::text, ',' ORDER BY segment) FROM cdp_internal.segment_state s" | paste -sd ' ')" = "$before" ]
	ok $? "refresh_segment, $1 killed: no membership, entry, exit, change or refresh state of the aborted refresh is visible"
}
q "SELECT * FROM cdp.refresh_segment('big')" >/dev/null
refresh_crash backend
refresh_crash postmaster
q "SELECT cdp.tag('contact', id, 'VIP') FROM cdp.contacts WHERE id IN (SELECT contact_id FROM cdp_data.profile_customer
                                                                       WHERE ltv >= 1000 ORDER BY contact_id LIMIT 50)" >/dev/null
[ "$(q "SELECT 'refreshed' FROM cdp.refresh_segment('big') UNION ALL SELECT 'refreshed' FROM cdp.refresh_segment('gold')" | sort -u)" = refreshed ] &&
	[ -z "$(q "SELECT s.slug FROM cdp.segments s WHERE s.slug IN ('big', 'gold') AND (
	             EXISTS (SELECT m.contact_id FROM cdp.segment_members m WHERE m.segment = s.slug EXCEPT SELECT * FROM cdp.members(s.slug))
	          OR EXISTS (SELECT * FROM cdp.members(s.slug) EXCEPT SELECT m.contact_id FROM cdp.segment_members m WHERE m.segment = s.slug))")" ]
ok $? "after the crashes refresh_segment works, and the stored membership of the manual segments equals cdp.members"

echo "# faults injected: $injected (kill -9 of a backend or the postmaster), survived with every invariant: $survived"
echo "# crash recoveries in the server log: $(grep -c 'database system was not properly shut down; automatic recovery in progress' "$work/log")"

# -- the shared invariant suite, if there is one ------------------------------
if [ -f test/invariants/invariants.sql ] && command -v pg_prove >/dev/null; then
	q "CREATE EXTENSION IF NOT EXISTS pgtap" >/dev/null 2>&1
	pg_prove -d crash test/invariants/invariants.sql >"$work/prove.out" 2>&1
	ok $? "test/invariants/invariants.sql passes on the crashed and recovered database"
	grep -E '^(not ok|#)|Result' "$work/prove.out" | head -20 | sed 's/^/# /'
else
	echo "ok $((n += 1)) # SKIP test/invariants/invariants.sql or pg_prove is missing"
fi

[ "$failed" -eq 0 ]
