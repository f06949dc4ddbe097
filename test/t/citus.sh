#!/usr/bin/env bash
# citus.sh: cdp on a Citus cluster gives the single node's results (issue 12,
# "Same results" and "Pushdown").  It installs Citus when missing
# (test/citus/install.sh), starts a coordinator and two workers of its own
# (test/citus/cluster.sh start --cdp), distributes cdp in the cluster's
# database with cdp.distribute(8), and makes a second database on the same
# coordinator without Citus, where cdp is a single node.  The workload of
# test/citus/same_results/ then runs step by step in both databases:
# resolve, resolve_all, set_profile, tags, terms, organizations, documents,
# track, ingest, merge, unmerge, forget, segments of every condition kind
# (members, count, in_segment, explain_segment), refresh_segment, immediate
# membership, views and consume.  After each step both databases' state is
# dumped by same_results/state.sql (contacts named by their smallest
# identifier, not their ids) and what the step changed must be the same in
# both.  Then four sessions resolve a shuffled copy of the records at once
# through the coordinator and must end in the serial partition, and the
# EXPLAIN of each segment's compiled count must be one distributed plan
# (Citus Adaptive; no repartition, distributed subplan or intermediate result).
#
# Environment: CITUS_TAP_PORT (the first port tried, default 57432);
# CITUS_TAP_NO_DISTRIBUTE=1 skips cdp.distribute, so that both databases are
# single nodes: every check but distribution and pushdown must then pass
# (a check of the checks).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
unset PGOPTIONS PGSERVICE
export CITUS_DIR=/tmp/cdp-citus-tap-$$
export CITUS_PORT=${CITUS_TAP_PORT:-57432}
dir=test/citus/same_results
at='2025-07-01T00:00:00Z'	# the evaluation time of the segment checks
single=cdp_single
cluster=postgres
preloaded=cdp_preloaded
work=$(mktemp -d)
pids=()

# shellcheck disable=SC2317  # run by the trap
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	test/citus/cluster.sh stop >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

n=0
failed=0
ok() {	# ok <status> <description>
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
diag() { sed 's/^/# /'; }
finish() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
	exit
}

# The first lines of each error of a psql run: the message, its detail and
# where it happened, which is what a failing check reports.
errors_of() {
	grep -E -A3 '^(psql:[^ ]* )?ERROR:' "$1" | grep -E 'ERROR|DETAIL|CONTEXT|while executing|^--' | head -n "${2:-12}"
}

# psql on a database of the coordinator: q DB [psql arguments...]
q() {
	local db=$1
	shift
	psql -X -q -At -h "$CITUS_DIR/sock" -p "$port" -U postgres -d "$db" "$@"
}

# --- Citus, the cluster, the two databases ---------------------------------

bash test/citus/install.sh >"$work/install.log" 2>&1
status=$?
ok $status "test/citus/install.sh: Citus is installed for PostgreSQL 15"
if [ $status -ne 0 ]; then
	tail -n 20 "$work/install.log" | diag
	finish
fi

test/citus/cluster.sh start --cdp >"$work/cluster.log" 2>&1
status=$?
ok $status "cluster.sh start --cdp: a coordinator and two workers with cdp"
if [ $status -ne 0 ]; then
	tail -n 20 "$work/cluster.log" | diag
	finish
fi
port=$(cat "$CITUS_DIR/coordinator/cdp_port")
diag <"$work/cluster.log"

# The single node: a database of the coordinator without the citus extension.
q postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE $single" >/dev/null 2>"$work/single.err" &&
	q "$single" -v ON_ERROR_STOP=1 -c "CREATE EXTENSION cdp" 2>>"$work/single.err"
out=$(q "$single" -c "SELECT count(*) FROM pg_extension WHERE extname = 'citus'" \
	-c "SELECT cdp_internal.citus_mode()" -c "\\set VERBOSITY terse" -c "SELECT cdp.distribute(8)" 2>&1)
[ "$out" = "0
f
ERROR:  cdp.distribute needs Citus, which is not installed in this database" ]
ok $? "a database of the coordinator without citus is a single node: citus_mode() is false, distribute() refuses"
echo "$out" | diag

if [ -n "${CITUS_TAP_NO_DISTRIBUTE:-}" ]; then
	echo "# CITUS_TAP_NO_DISTRIBUTE: cdp is not distributed; both databases are single nodes"
	ok 0 "# SKIP cdp.distribute(8) (CITUS_TAP_NO_DISTRIBUTE)"
else
	q "$cluster" -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM cdp.distribute(8)" >"$work/distribute.out" 2>&1
	status=$?
	out=$(q "$cluster" -c "SELECT cdp_internal.citus_mode()" \
		-c "SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'cdp.contacts'::regclass" \
		-c "SELECT count(DISTINCT colocationid) FROM pg_dist_partition WHERE logicalrelid::text IN
		        ('cdp.contacts', 'cdp.contact_tags', 'cdp.contact_terms', 'cdp.events', 'cdp.identifiers',
		         'cdp.organization_members', 'cdp.segment_members', 'cdp.changes')" 2>&1)
	[ $status -eq 0 ] && [ "$out" = "t
8
1" ]
	ok $? "cdp.distribute(8): contacts in 8 shards, the per-contact tables co-located with it"
	{ cat "$work/distribute.out"; echo "$out"; } | diag
fi

# A third database of the cluster holds the whole workload up to the saved
# segments, loaded while cdp is still a single node there, and is then
# distributed: the segment checks run on it too, separating the read path
# (members, count, in_segment, explain_segment, the plans) from the write
# paths of a distributed cdp.
preloaded_steps=(records catalog resolve resolve_all profiles tags terms organizations documents track ingest
	merge unmerge forget segments)
(
	for node in coordinator worker1 worker2; do
		p=$(cat "$CITUS_DIR/$node/cdp_port")
		psql -X -q -h "$CITUS_DIR/sock" -p "$p" -U postgres -d postgres -v ON_ERROR_STOP=1 \
			-c "CREATE DATABASE $preloaded" &&
			psql -X -q -h "$CITUS_DIR/sock" -p "$p" -U postgres -d "$preloaded" -v ON_ERROR_STOP=1 \
				-c "CREATE EXTENSION citus" || exit 1
	done
	q "$preloaded" -v ON_ERROR_STOP=1 -c "SELECT citus_set_coordinator_host('127.0.0.1', $port)" \
		-c "SELECT citus_add_node('127.0.0.1', $(cat "$CITUS_DIR/worker1/cdp_port"))" \
		-c "SELECT citus_add_node('127.0.0.1', $(cat "$CITUS_DIR/worker2/cdp_port"))" \
		-c "CREATE EXTENSION cdp" || exit 1
	for f in "${preloaded_steps[@]}"; do
		q "$preloaded" -v ON_ERROR_STOP=1 -f "$dir/$f.sql" || exit 1
	done
) >/dev/null 2>"$work/preloaded.err"
status=$?
ok $status "a second database of the cluster, not yet distributed, holds the workload up to the saved segments"
[ $status -ne 0 ] && errors_of "$work/preloaded.err" | diag
if [ -n "${CITUS_TAP_NO_DISTRIBUTE:-}" ]; then
	ok 0 "# SKIP cdp.distribute(8) of a database with data (CITUS_TAP_NO_DISTRIBUTE)"
else
	# the refusals: a shard count out of range, then (below) a second run
	out=$(q "$preloaded" -c "\\set VERBOSITY sqlstate" -c "SELECT cdp.distribute(0)" 2>&1;
	      q "$preloaded" -c "\\set VERBOSITY terse" -c "SELECT cdp.distribute(0)" 2>&1)
	[ "$out" = "ERROR:  22023
ERROR:  shard_count must be between 1 and 64000, not 0" ]
	ok $? "distribute(0) is refused (22023) and leaves the database undistributed"
	echo "$out" | diag
	q "$preloaded" -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM cdp.distribute(8)" >"$work/preloaded.out" 2>&1
	ok $? "cdp.distribute(8) of a database that holds data"
	errors_of "$work/preloaded.out" | diag
fi
if [ -z "${CITUS_TAP_NO_DISTRIBUTE:-}" ]; then
	out=$(q "$preloaded" -c "\\set VERBOSITY sqlstate" -c "SELECT cdp.distribute()" 2>&1;
	      q "$preloaded" -c "\\set VERBOSITY terse" -c "SELECT cdp.distribute()" 2>&1)
	[ "$out" = "ERROR:  55000
ERROR:  cdp is already distributed" ]
	ok $? "a second distribute() is refused (55000)"
	echo "$out" | diag
	# a direct write of a distributed table without cdp.begin_write(): its
	# change could not be placed in the feed, so it is refused and nothing is kept
	out=$(q "$preloaded" -c "\\set VERBOSITY sqlstate" \
		-c "UPDATE cdp.contacts SET given_name = 'Direct' WHERE id = (SELECT min(id) FROM cdp.contacts)" 2>&1;
	      q "$preloaded" -c "UPDATE cdp.contacts SET given_name = 'Direct' WHERE id = (SELECT min(id) FROM cdp.contacts)" 2>&1 |
		grep '^ERROR')
	kept=$(q "$preloaded" -c "SELECT count(*) FROM cdp.contacts WHERE given_name = 'Direct'")
	[ "$out" = "ERROR:  0A000
ERROR:  cannot record a change of a distributed cdp table written outside cdp's functions" ] && [ "$kept" = 0 ]
	ok $? "a direct UPDATE of cdp.contacts without begin_write() is refused (0A000) and changes nothing"
	echo "$out" | diag
	# (rolled back: the preloaded data stays the single node's)
	out=$(q "$preloaded" -v ON_ERROR_STOP=1 -c "BEGIN" -c "SELECT cdp.begin_write()" \
		-c "UPDATE cdp.contacts SET given_name = 'Direct' WHERE id = (SELECT min(id) FROM cdp.contacts)" \
		-c "SELECT 'recorded=' || count(*) FROM cdp.changes WHERE diff -> 'given_name' ->> 1 = 'Direct'" \
		-c "ROLLBACK" 2>&1 | grep -E '^recorded=|ERROR')
	[ "$out" = recorded=1 ]
	ok $? "after begin_write() the same UPDATE is made and recorded in the change feed"
	echo "$out" | diag
fi
# without distribution its segment checks would compare a single node with itself
preloaded_distributed=$(q "$preloaded" -c "SELECT cdp_internal.citus_mode()" 2>/dev/null)
[ -n "${CITUS_TAP_NO_DISTRIBUTE:-}" ] && preloaded_distributed=t

# --- the workload, step by step ----------------------------------------------

# The deterministic input and a table of returned values, in both databases.
for db in "$single" "$cluster"; do
	q "$db" -v ON_ERROR_STOP=1 -f "$dir/records.sql" >/dev/null 2>>"$work/records.err"
done
! [ -s "$work/records.err" ]
ok $? "the records of test/citus/same_results/records.sql are loaded in both databases"
diag <"$work/records.err"

state() {	# state DB FILE: the dump of same_results/state.sql, sorted
	q "$1" -f "$dir/state.sql" 2>"$2.err" | LC_ALL=C sort >"$2"
}
touch "$work/single.state" "$work/cluster.state"

# step NAME DESCRIPTION: run same_results/NAME.sql in both databases, going
# on after an error; it must fail nowhere, and what it changed in each one's
# state must be the same (and not nothing).
step() {
	local name=$1 description=$2 side status=0
	for side in single cluster; do
		local db=$single
		[ $side = cluster ] && db=$cluster
		# every statement runs, so that one failing call does not hide the next
		q "$db" -v ON_ERROR_STOP=0 -f "$dir/$name.sql" >/dev/null 2>"$work/$side.$name.err"
		mv "$work/$side.state" "$work/$side.before"
		state "$db" "$work/$side.state"
		LC_ALL=C comm -3 "$work/$side.before" "$work/$side.state" |
			sed 's/^\t/+ /; t; s/^/- /' >"$work/$side.$name.delta"
	done
	if grep -q ERROR "$work/single.$name.err" || ! [ -s "$work/single.$name.delta" ]; then
		status=1
	elif grep -q ERROR "$work/cluster.$name.err" || ! cmp -s "$work/single.$name.delta" "$work/cluster.$name.delta"; then
		status=1
	fi
	ok $status "$name: $description"
	if [ $status -ne 0 ]; then
		if grep -q ERROR "$work/cluster.$name.err"; then
			echo "cluster: $name.sql failed:"
			errors_of "$work/cluster.$name.err" 16
		fi
		if grep -q ERROR "$work/single.$name.err"; then
			echo "single node: $name.sql failed (a bug of the test):"
			errors_of "$work/single.$name.err"
		fi
		[ -s "$work/single.$name.delta" ] || echo "single node: the step changed nothing (a bug of the test)"
		echo "changes: $(wc -l <"$work/single.$name.delta") on the single node, $(wc -l <"$work/cluster.$name.delta") on the cluster; the first that differ (< single, > cluster):"
		diff "$work/single.$name.delta" "$work/cluster.$name.delta" | grep '^[<>]' | cut -c1-220 | head -n 8
		grep -h 'ERROR' "$work/cluster.state.err" | sort | uniq -c | head -n 3
	fi 2>&1 | diag
}

# partition NS FILE: the partition of namespace NS of a state dump, with the
# namespace taken out of the values, so that namespaces compare.
partition() {
	grep "^partition|$1|" "$2" | cut -d'|' -f3 |
		sed -E 's/:[abc]-/:/g; s/:\+44207946[012]/:+44207946/g' | LC_ALL=C sort
}
same_partition() {	# same_partition DESCRIPTION FILE_EXPECTED FILE_GOT
	local status=0
	[ -s "$2" ] && cmp -s "$2" "$3" || status=1
	ok $status "$1"
	if [ $status -ne 0 ]; then
		echo "expected $(wc -l <"$2") contacts, got $(wc -l <"$3"); the first that differ (< expected, > got):"
		diff "$2" "$3" | grep '^[<>]' | cut -c1-200 | head -n 6
	fi | diag
}

step catalog "define_profile, taxonomies, terms, organizations, a document template and trait mappings after distribute()"
step resolve "a serial resolve of 300 records (namespace a) makes the same contacts, identifiers, merges and conflicts"
partition a "$work/single.state" >"$work/serial.partition"
partition a "$work/cluster.state" >"$work/cluster_serial.partition"
same_partition "resolve: the cluster's identity partition equals the single node's" \
	"$work/serial.partition" "$work/cluster_serial.partition"
step resolve_all "resolve_all of the same records (namespace b) makes the same contacts and identifiers"
partition b "$work/single.state" >"$work/single_bulk.partition"
partition b "$work/cluster.state" >"$work/cluster_bulk.partition"
same_partition "resolve_all: the cluster's partition equals the single node's" \
	"$work/single_bulk.partition" "$work/cluster_bulk.partition"
same_partition "resolve_all on the cluster gives the serial resolve's partition" \
	"$work/serial.partition" "$work/cluster_bulk.partition"
step profiles "set_profile (full, partial, clearing) and remove_profile"
step tags "tag and untag"
step terms "classify and unclassify"
step organizations "add_member, remove_member, create_organization, move_organization, set_organization_profile"
step documents "create_document, update_document, archive a document"
step track "purchases and page views at fixed times"
step ingest "Segment-spec messages: identify, track, a repeated delivery, page, group, alias"
step merge "merge_contacts (with a chain) and a merging resolve move the model data to the survivor"
step unmerge "unmerge gives the data back and blocks the pair; a second merge is refused"
step forget "forget_contact erases two people; their identifiers are suppressed (42501)"
step segments "create_segment of 43 segments, 3 immediate"

# --- segments: the evaluation functions ----------------------------------------

# One query per segment, run in both databases: count (saved and as a
# definition), members, in_segment over a sample of contacts and
# explain_segment for a few, contacts named by their smallest identifier.
evaluate() {	# evaluate DB SLUG DEFINITION
	q "$1" -v ON_ERROR_STOP=1 -v slug="$2" -v def="$3" -v at="$at" <<'SQL'
SET client_min_messages = warning;
CREATE TEMP TABLE ck AS SELECT contact_id, min(kind || ':' || value) AS k FROM cdp.identifiers GROUP BY contact_id;
CREATE TEMP TABLE sample AS SELECT contact_id, k FROM ck WHERE left(md5(k), 1) IN ('0', '1', '2', '3');
CREATE TEMP TABLE m AS SELECT * FROM cdp.members(:'slug'::text, :'at') m(contact_id);
SELECT 'count', cdp.count(:'slug'::text, :'at'), cdp.count(:'def'::cdp.segment, :'at');
SELECT 'members', count(*), string_agg(coalesce(ck.k, '?'), ' ' ORDER BY ck.k) FROM m LEFT JOIN ck USING (contact_id);
SELECT 'in_segment', string_agg(k || '=' || cdp.in_segment(contact_id, :'slug'::text, :'at'), ' ' ORDER BY k) FROM sample;
SELECT 'explain', e.k, x.node, x.depth, x.condition, x.result, x.detail
  FROM (SELECT * FROM (SELECT * FROM sample ORDER BY md5(k) LIMIT 3) s
        UNION SELECT * FROM (SELECT ck.* FROM m JOIN ck USING (contact_id) ORDER BY md5(k) LIMIT 3) t) e,
       LATERAL cdp.explain_segment(:'slug'::text, e.contact_id, :'at') x
 ORDER BY e.k, x.node;
SQL
}

# eval_check DB LABEL: the evaluation of segment $slug on DB against the single node's
eval_check() {
	local status=0
	# explain names the events and documents it counted by id, which may differ
	evaluate "$1" "$slug" "$def" 2>"$work/cluster.eval.err" | sed -E 's/(event|document) [0-9]+/\1 #/g' >"$work/cluster.eval"
	{ grep -q ERROR "$work/single.eval.err" || ! grep -q '^members' "$work/single.eval" ||
		! cmp -s "$work/single.eval" "$work/cluster.eval"; } && status=1
	[ "$1" = "$preloaded" ] && [ "$preloaded_distributed" != t ] && status=1
	ok $status "segment $slug ($def)$2: members, count, in_segment and explain_segment as on the single node"
	if [ $status -ne 0 ]; then
		[ "$1" = "$preloaded" ] && [ "$preloaded_distributed" != t ] && echo "$preloaded is not distributed (see above)"
		errors_of "$work/cluster.eval.err" 6
		grep -q ERROR "$work/single.eval.err" && { echo "single node (a bug of the test):"; errors_of "$work/single.eval.err" 6; }
		diff "$work/single.eval" "$work/cluster.eval" | grep '^[<>]' | cut -c1-200 | head -n 4
	fi | diag
}

mapfile -t segments < <(q "$single" -F $'\t' -c "SELECT slug, definition::text FROM cdp.segments ORDER BY slug")
for row in "${segments[@]}"; do
	slug=${row%%$'\t'*}
	def=${row#*$'\t'}
	evaluate "$single" "$slug" "$def" 2>"$work/single.eval.err" | sed -E 's/(event|document) [0-9]+/\1 #/g' >"$work/single.eval"
	eval_check "$cluster" ""
	eval_check "$preloaded" ", on data loaded before distribute"
done

step refresh "refresh_segment: a full refresh, writes, an incremental refresh, one that finds nothing"
step immediate "immediate segments follow writes at commit (tag, set_profile, resolve, document, archive, member); a rollback moves nobody"
step views "create_view (plain and materialized), refresh_view"
views_sql='SELECT given_name, email, phone, "customer.tier", "customer.ltv", "organization.name",
                  "organization.company.industry", tags, interests, "count(events.purchase)", "count(documents.invoice)"
             FROM cdp_views.tap_gold ORDER BY email, phone;
           SELECT email, "customer.ltv" FROM cdp_views.tap_vip_snapshot ORDER BY email'
q "$single" -v ON_ERROR_STOP=1 -c "$views_sql" >"$work/single.views" 2>&1
q "$cluster" -v ON_ERROR_STOP=1 -c "$views_sql" >"$work/cluster.views" 2>&1
[ -s "$work/single.views" ] && cmp -s "$work/single.views" "$work/cluster.views"
ok $? "views: cdp_views.tap_gold and tap_vip_snapshot read the single node's rows"
diff "$work/single.views" "$work/cluster.views" | grep '^[<>]' | cut -c1-200 | head -n 6 | diag
step consume "the change feed: every change once by kind, nothing twice, a new write's diff, batches"

# --- the whole state, before the concurrent run adds namespace c -------------------

[ -s "$work/single.state" ] && cmp -s "$work/single.state" "$work/cluster.state"
ok $? "after the workload the cluster's state equals the single node's ($(wc -l <"$work/single.state") facts of state.sql)"
if ! cmp -s "$work/single.state" "$work/cluster.state"; then
	diff "$work/single.state" "$work/cluster.state" | grep -c '^[<>]' | sed 's/$/ facts differ/' | diag
fi


# --- concurrent resolve through the coordinator ----------------------------------

q "$cluster" -c "SELECT format('SELECT cdp.resolve(%L, %L);', identifiers, 'tap')
                   FROM public.tap_resolve_input WHERE ns = 'c' ORDER BY md5(record_id::text)" >"$work/concurrent.sql"
# One session: each record in its own transaction, retried as a client
# retries contention (40P01, 40001: Citus's distributed deadlock detector can
# choose a resolve as the victim where one node's locks would simply wait).
session() {	# session <file of statements> <error file>
	local stmt tries out
	while IFS= read -r stmt; do
		for tries in 1 2 3 4 5; do
			if out=$(q "$cluster" -c "\\set VERBOSITY sqlstate" -c "$stmt" 2>&1 >/dev/null); then
				break
			fi
			case $out in
			*40P01* | *40001*) echo "retried: $out" >>"$2" ;;
			*) echo "ERROR: $out" >>"$2"; break ;;
			esac
		done
	done <"$1"
}
for k in 0 1 2 3; do
	awk -v k=$k 'NR % 4 == k' "$work/concurrent.sql" >"$work/concurrent$k.sql"
	: >"$work/concurrent$k.err"
	session "$work/concurrent$k.sql" "$work/concurrent$k.err" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
pids=()
cat "$work"/concurrent?.err >"$work/concurrent.err"
! grep -q ERROR "$work/concurrent.err" && [ "$(wc -l <"$work/concurrent.sql")" -eq 300 ]
ok $? "4 sessions resolve the 300 records (namespace c, shuffled) through the coordinator without an error (contention retried)"
{
	echo "$(grep -c '^ERROR' "$work/concurrent.err") errors, $(grep -c '^retried' "$work/concurrent.err") retries"
	grep -E '^(ERROR|retried)' "$work/concurrent.err" | sort | uniq -c | sort -rn | head -n 3
} | diag
state "$cluster" "$work/cluster.state"
partition c "$work/cluster.state" >"$work/concurrent.partition"
same_partition "concurrent resolve ends in the serial partition" "$work/serial.partition" "$work/concurrent.partition"

# --- pushdown: each segment's count is one distributed plan ----------------------

# The compiled SQL of cdp.count, prepared with the evaluation time as $1 as
# cdp.count runs it; its plan must be Citus's adaptive executor over the
# shards with every join inside each task: no repartition (MapMergeJob), no
# subplan whose result the coordinator collects (intermediate results).
for row in "${segments[@]}"; do
	slug=${row%%$'\t'*}
	def=${row#*$'\t'}
	q "$preloaded" -v ON_ERROR_STOP=1 -v def="$def" -v at="$at" >"$work/explain" 2>&1 <<'SQL'
SELECT cdp_internal.compile_segment(:'def'::cdp.segment, '$1') AS compiled \gset
PREPARE segment_count(timestamptz) AS SELECT count(*) FROM (:compiled) members;
EXPLAIN EXECUTE segment_count(:'at');
SQL
	status=$?
	[ $status -eq 0 ] && grep -q 'Custom Scan (Citus Adaptive)' "$work/explain" &&
		! grep -qiE 'repartition|MapMergeJob|intermediate result|distributed subplan' "$work/explain"
	ok $? "pushdown: EXPLAIN of segment $slug's count is one distributed plan"
	if [ $status -ne 0 ]; then
		errors_of "$work/explain" 4
	elif ! grep -q 'Custom Scan (Citus Adaptive)' "$work/explain"; then
		echo "no Custom Scan (Citus Adaptive):"
		head -n 4 "$work/explain"
	else
		grep -iE 'repartition|MapMergeJob|intermediate result|distributed subplan' "$work/explain" | head -n 4
	fi | diag
done

finish
