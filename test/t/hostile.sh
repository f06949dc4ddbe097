#!/usr/bin/env bash
# hostile.sh: the hostile input corpus (issue 11).  A database holding data of
# every kind gets every corpus value (test/hostile) through every argument of
# every public function of schema cdp: only SQLSTATE errors, no XX/58 class,
# no injected SQL run, the server never restarts, and data and catalog keep
# their checksums.
#
# HOSTILE_ONLY=<regex> limits the run to the functions whose signature matches;
# HOSTILE_RESULTS=<file> keeps the results (function, argument, variant,
# SQLSTATE, calls, values, a sample value id and message, time) as CSV;
# HOSTILE_JOBS=<n> sets the number of workers (2); HOSTILE_SELFTEST=1 plants
# faulty functions (test/hostile/selftest.sql) to show that the checks fail.
set -uo pipefail
cd "$(dirname "$0")/../.."
db=cdp_hostile_$$
work=$(mktemp -d)
witness=
cleanup() {
	[ -n "$witness" ] && psql -X -q -d postgres -c "SELECT pg_terminate_backend($witness)" >/dev/null 2>&1
	rm -rf "$work"
	for d in "$db" "${db}"_{2..8}; do dropdb --if-exists --force "$d" >/dev/null 2>&1; done
}
trap cleanup EXIT
n=0
failed=0
ok() {	# ok <status> <description>
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }

echo "1..10"
createdb "$db" &&
	q "SET client_min_messages = warning; CREATE EXTENSION cdp" &&
	psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f test/hostile/corpus.sql -f test/hostile/driver.sql \
		<test/hostile/values.txt >"$work/setup.log" 2>&1 &&
	psql -X -q -v ON_ERROR_STOP=1 -d "$db" >>"$work/setup.log" 2>&1 <<'SQL'
SET client_min_messages = warning;
SELECT cdp.define_profile('customer', 'contact', '[
    {"slug": "tier", "type": "text", "options": ["bronze", "silver", "gold"]},
    {"slug": "ltv", "type": "number", "min": 0, "decimals": 2},
    {"slug": "topics", "type": "text", "array": true},
    {"slug": "signup", "type": "date"},
    {"slug": "billing", "type": "email"},
    {"slug": "mobile", "type": "phone"},
    {"slug": "meta", "type": "json"},
    {"slug": "where", "type": "location"}]', 'Customer');
SELECT cdp.define_profile('scratch', 'contact', '[{"slug": "note", "type": "text"}]');
SELECT cdp.define_profile('company', 'organization', '[{"slug": "industry", "type": "text"}, {"slug": "plan", "type": "text"}]');
SELECT cdp.define_document_template('invoice', '[{"slug": "total", "type": "number"}, {"slug": "status", "type": "text"}]');
SELECT cdp.define_document_template('note', '[{"slug": "body", "type": "text"}]');
SELECT cdp.create_organization('acme', 'Acme');
SELECT cdp.create_organization('acme-eu', 'Acme EU', 'acme');
SELECT cdp.set_organization_profile('acme', 'company', '{"industry": "retail"}');
SELECT cdp.define_taxonomy('interests', ARRAY['contact', 'organization', 'document']);
SELECT cdp.add_term('interests', 'sports/football');
SELECT cdp.resolve('{"email": "a@example.com", "phone": "+16502530000"}', 'crm');
SELECT cdp.resolve('{"email": "b@example.com", "external_id": "u-b"}');
SELECT cdp.resolve('{"email": "c@example.com"}');
SELECT cdp.resolve('{"email": "d@example.com"}');
SELECT cdp.resolve('{"email": "e@example.com"}');
SELECT cdp.resolve('{"email": "f@example.com"}');
SELECT cdp.resolve('{"email": "g@example.com"}');
INSERT INTO hostile.ids SELECT v, cdp.find_contact('email', v || '@example.com') FROM unnest('{a,b,c,d,e,f,g}'::text[]) v;
SELECT cdp.merge_contacts(hostile.id('b'), ARRAY[hostile.id('d')]);
INSERT INTO hostile.ids SELECT 'merge', max(id) FROM cdp.merges;
UPDATE hostile.ids SET name = 'tombstone' WHERE name = 'd';
SELECT cdp.merge_contacts(hostile.id('c'), ARRAY[hostile.id('g')]);
INSERT INTO hostile.ids SELECT 'undone', max(id) FROM cdp.merges;
SELECT cdp.unmerge(hostile.id('undone'));
SELECT cdp.forget_contact(hostile.id('e'));
UPDATE hostile.ids SET name = 'forgotten' WHERE name = 'e';
SELECT cdp.archive('contact', hostile.id('f'));
UPDATE hostile.ids SET name = 'archived' WHERE name = 'f';
INSERT INTO hostile.ids SELECT 'acme', id FROM cdp.organizations WHERE slug = 'acme';
SELECT cdp.update_contact(hostile.id('a'), 'Ann', 'Lee');
SELECT cdp.set_profile(hostile.id('a'), 'customer', '{"tier": "gold", "ltv": 100, "topics": ["ai"],
    "signup": "2026-01-01", "billing": "a@example.com", "mobile": "+16502530000", "meta": {"k": 1}}', 'crm');
SELECT cdp.set_profile(hostile.id('b'), 'customer', '{"tier": "silver"}');
SELECT cdp.set_profile(hostile.id('b'), 'scratch', '{"note": "x"}');
SELECT cdp.add_member(hostile.id('a'), 'acme', 'cto', true);
INSERT INTO hostile.ids VALUES ('document',
    cdp.create_document('invoice', hostile.id('a'), '{"total": 100, "status": "paid"}', 'Invoice 1', hostile.id('acme')));
SELECT cdp.tag('contact', hostile.id('a'), 'VIP', 'Technology/AI');
SELECT cdp.tag('organization', hostile.id('acme'), 'Customer');
SELECT cdp.tag('document', hostile.id('document'), 'Paid');
SELECT cdp.classify('contact', hostile.id('a'), 'interests', 'sports/football');
SELECT cdp.track('{"email": "a@example.com"}', 'purchase', '{"amount": 60}');
SELECT cdp.set_trait_mapping('plan', 'customer.tier');
SELECT cdp.ingest('{"type": "identify", "userId": "u1", "messageId": "m1",
                    "traits": {"email": "u1@example.com", "plan": "gold"}}');
SELECT cdp.create_segment('gold', $$customer.tier = 'gold'$$, refresh => 'immediate');
SELECT cdp.create_segment('vip', $$tag 'VIP' and in segment 'gold'$$);
SELECT cdp.refresh_segment('vip');
SELECT cdp.create_view('gold_customers', 'gold', ARRAY['id', 'email', 'customer.tier', 'organization.name',
    'organization.company.industry', 'tags', 'interests', 'count(events.purchase)', 'count(documents.invoice)']);
SELECT cdp.create_view('vip_snapshot', 'vip', ARRAY['id', 'email'], materialized => true);
SELECT count(*) FROM cdp.consume('c1');
SELECT cdp.resolve('{"email": "h@example.com"}');
SQL
ok $? "a database with data of every kind"
grep -E 'ERROR|FATAL' "$work/setup.log" | sed 's/^/# /'

[ -n "${HOSTILE_SELFTEST:-}" ] && psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f test/hostile/selftest.sql

values=$(q "SELECT count(*) FROM hostile.corpus")
[ "${values:-0}" -ge 1000 ]
ok $? "the corpus holds at least 1,000 distinct hostile values"
q "SELECT category, count(*) FROM hostile.corpus GROUP BY 1 ORDER BY 1" | sed 's/^/# corpus: /'

# every public function but those taking internal (binary receive functions)
q "SELECT p.oid::regprocedure FROM pg_proc p
    WHERE p.pronamespace = 'cdp'::regnamespace AND NOT 'internal'::regtype = ANY (p.proargtypes)
      AND p.oid::regprocedure::text ~ '${HOSTILE_ONLY:-.}'
    ORDER BY 1::text" >"$work/functions"
functions=$(wc -l <"$work/functions")

# HOSTILE_JOBS workers (2 by default), each on its own copy of the database
# so that they never wait for each other's locks; worker k takes every
# HOSTILE_JOBS-th function from the k-th
jobs=${HOSTILE_JOBS:-2}
dbs=("$db")
for k in $(seq 2 "$jobs"); do
	createdb -T "$db" "${db}_$k" && dbs+=("${db}_$k")
done
for d in "${dbs[@]}"; do
	psql -X -q -At -v ON_ERROR_STOP=1 -d "$d" -c "SELECT * FROM hostile.checksum()" >"$work/before.$d" 2>&1
done

# a connection that lives through the whole run: a crash of any backend makes
# the postmaster end every session, this one included
PGAPPNAME=hostile_witness_$$ psql -X -q -d "$db" -c "SELECT pg_sleep(3600)" >/dev/null 2>&1 &
for _ in $(seq 50); do
	witness=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'hostile_witness_$$'")
	[ -n "$witness" ] && break
	sleep 0.1
done

# JIT is off in the batches: a definition of many or'ed conditions costs
# seconds of JIT compilation on this tiny database (see the report)
batch() {	# batch <database> <function> [trace]: one psql session, rolled back
	psql -X -q -t --csv -v ON_ERROR_STOP=1 -d "$1" \
		-c "SET client_min_messages = $([ -n "${3:-}" ] && echo warning || echo error)" -c "SET statement_timeout = '300s'" -c "SET jit = off" -c "BEGIN" \
		-c "SELECT * FROM hostile.run('$2'::regprocedure, ${3:-false})" -c "ROLLBACK"
}
ready() {	# wait for the server to accept queries (after a crash, its recovery)
	for _ in $(seq 60); do pg_isready -q && q "SELECT 1" >/dev/null 2>&1 && return 0; sleep 1; done
	return 1
}
worker() {	# worker <k>: the functions of worker k, on database dbs[k - 1]
	local d=${dbs[$(($1 - 1))]} f i=0 start status
	while read -r f; do
		i=$((i + 1))
		[ $(((i - 1) % jobs + 1)) -eq "$1" ] || continue
		start=$(date +%s%N)
		batch "$d" "$f" >>"$work/results.$1" 2>"$work/batch.err.$1"
		status=$?
		echo "$(( ($(date +%s%N) - start) / 1000000 )) $f" >>"$work/times"
		if [ $status -ne 0 ]; then
			echo "$f" >>"$work/failures"
			echo "# batch $f failed: $(tr '\n' ' ' <"$work/batch.err.$1" | cut -c1-300)"
			# wait for the server, then find the call with the calls listed
			ready
			batch "$d" "$f" true >/dev/null 2>"$work/trace.$1"
			echo "# last call: $(grep 'hostile call' "$work/trace.$1" | tail -1 | cut -c1-400)"
			ready
		fi
	done <"$work/functions"
}
: >"$work/failures"
started=$(date +%s)
pids=()
for k in $(seq "${#dbs[@]}"); do
	worker "$k" &
	pids+=($!)
done
wait "${pids[@]}"
cat "$work"/results.* >"$work/results" 2>/dev/null
[ ! -s "$work/failures" ] && [ "${#dbs[@]}" -eq "$jobs" ]
ok $? "every function's batch ran to its end ($functions functions, $jobs workers, $(($(date +%s) - started)) s)"
echo "# slowest batches (ms): $(sort -rn "$work/times" | head -8 | tr '\n' ';')"
[ -n "${HOSTILE_RESULTS:-}" ] && cp "$work/times" "$HOSTILE_RESULTS.times"

[ -n "$witness" ] && [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE pid = $witness")" = 1 ]
ok $? "the server stayed up (a session opened before the run is still there)"
q "SELECT pg_terminate_backend($witness)" >/dev/null 2>&1
witness=

ready
q "CREATE TABLE hostile.results (func text, arg text, variant text, state text, calls bigint,
     values_reached bigint, sample_value integer, sample_message text, ms bigint)" &&
	psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "\\copy hostile.results FROM '$work/results' WITH (FORMAT csv)"
[ -n "${HOSTILE_RESULTS:-}" ] && cp "$work/results" "$HOSTILE_RESULTS"
bad=$(q "SELECT count(*) FROM hostile.results WHERE state ~ '^(XX|58)'")
[ "${bad:-1}" -eq 0 ]
ok $? "no internal error (SQLSTATE class XX or 58)"
q "SELECT format('%s %s (%s) %s x%s, value %s: %s', state, func, arg, variant, calls, sample_value, sample_message)
     FROM hostile.results WHERE state ~ '^(XX|58)' ORDER BY 1" | sed 's/^/# /'

pwned=$(q "SELECT count(*) FROM hostile.results WHERE state ~ '^HX'")
[ "${pwned:-1}" -eq 0 ]
ok $? "no injected SQL ran (no canary fired)"
q "SELECT format('%s %s (%s) %s x%s, value %s: %s', state, func, arg, variant, calls, sample_value, sample_message)
     FROM hostile.results WHERE state ~ '^HX' ORDER BY 1" | sed 's/^/# /'

: >"$work/checksum.diff"
for d in "${dbs[@]}"; do
	psql -X -q -At -v ON_ERROR_STOP=1 -d "$d" -c "SELECT * FROM hostile.checksum()" >"$work/after.$d" 2>&1
	diff "$work/before.$d" "$work/after.$d" >>"$work/checksum.diff"
done
[ ! -s "$work/checksum.diff" ]
ok $? "every table of cdp, cdp_data, cdp_internal and cdp_views and the catalog keep their checksums"
sed 's/^/# /' "$work/checksum.diff"

# every function with a text, JSON or segment argument got every corpus value
short=$(q "SELECT count(*) FROM hostile.results WHERE arg = '*' AND values_reached > 0 AND values_reached < $values")
calls=$(q "SELECT sum(calls) FROM hostile.results WHERE arg = '*'")
fed=$(q "SELECT count(*) FROM hostile.results WHERE arg = '*' AND values_reached = $values")
[ "${fed:-0}" -gt 0 ] && [ "${short:-1}" -eq 0 ] && [ "${calls:-0}" -ge $((values * fed)) ]
ok $? "every function with a text-like argument received every corpus value ($fed functions, $calls calls)"

echo "# values tried: $values; functions: $functions ($fed with a text, JSON or segment argument); calls: $calls"
echo "# calls by state: $(q "SELECT string_agg(state || ' ' || n, ', ' ORDER BY n DESC)
    FROM (SELECT state, sum(calls) n FROM hostile.results WHERE arg <> '*' GROUP BY 1) s")"
echo "# distinct SQLSTATEs: $(q "SELECT count(DISTINCT state) FROM hostile.results WHERE arg <> '*'")"
q "SELECT format('baseline %s: %s %s', func, state, coalesce(sample_message, ''))
     FROM hostile.results WHERE variant = 'baseline' AND state <> '00000' ORDER BY 1" | sed 's/^/# /'

# identifiers never carry invisible or direction-changing characters: no
# value holding a Unicode format character (Cf) normalises, for any built-in
# kind, to a value that still holds one (at the ends they are trimmed like
# white space, inside they are refused)
cf='[\u00AD\u0600-\u0605\u061C\u06DD\u070F\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF\uFFF9-\uFFFB\U000E0001\U000E0020-\U000E007F]'
q "SELECT k.kind, c.id, left(c.v, 60) FROM hostile.corpus c, cdp.identifier_kinds k
    WHERE c.v ~ E'$cf' AND cdp.is_valid_identifier(k.kind, c.v)
      AND cdp.normalize_identifier(k.kind, c.v) ~ E'$cf' ORDER BY 1, 2" >"$work/cf" 2>&1
with_cf=$(q "SELECT count(*) FROM hostile.corpus WHERE v ~ E'$cf'")
[ ! -s "$work/cf" ] && [ "${with_cf:-0}" -gt 100 ]
ok $? "no built-in kind keeps a format character of the $with_cf values holding one"
head -20 "$work/cf" | sed 's/^/# kept: /'

# the extension still works afterwards
[ "$(q "SELECT cdp.find_contact('email', 'a@example.com') = hostile.id('a') AND cdp.in_segment(hostile.id('a'), 'gold')")" = t ] &&
	q "BEGIN; SELECT cdp.resolve('{\"email\": \"after@example.com\"}'); SELECT count(*) FROM cdp.members('vip'); ROLLBACK" >/dev/null
ok $? "cdp still resolves and evaluates segments after the run"

[ "$failed" -eq 0 ]
