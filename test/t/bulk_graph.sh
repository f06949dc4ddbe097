#!/usr/bin/env bash
# bulk_graph.sh: what needs a shell around cdp.resolve_all and
# cdp.identity_graph: progress NOTICEs as a client sees them, cancellation
# (statement_timeout, and pg_cancel_backend during the write phase) leaving
# nothing behind, and identity_graph's DOT read by Graphviz's dot.
#
# Run by `make test` (prove, inside the test cluster; PGHOST etc. set).
set -uo pipefail

RECORDS=${CDP_BULK_RECORDS:-100000}
work=$(mktemp -d)
db=cdp_bulk_$$
cleanup() { dropdb --if-exists "$db" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
export PGOPTIONS="-c client_min_messages=warning"

n=0
failed=0
ok() {	# ok <status> <description>
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
diag() { sed 's/^/# /'; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
counts() { q -c "SELECT (SELECT count(*) FROM cdp.contacts) || ' ' || (SELECT count(*) FROM cdp.identifiers)
                       || ' ' || (SELECT count(*) FROM cdp.merges) || ' ' || (SELECT count(*) FROM cdp.identity_conflicts)"; }

echo "1..16"
createdb "$db" || exit 1
q -c "CREATE EXTENSION cdp" || exit 1

# An input of $RECORDS records with 2 identifiers each, half of the emails
# shared with the record before, and a few existing contacts it touches.
q >/dev/null <<SQL
CREATE TABLE big AS
SELECT 'r' || i AS record_id, kind, value
  FROM generate_series(1, $RECORDS) i,
       LATERAL (VALUES ('email', 'u' || (i / 2) || '@example.com'), ('anonymous', 'ck-' || i)) k(kind, value);
SELECT count(cdp.resolve(jsonb_build_object('email', 'u' || i || '@example.com'))) FROM generate_series(1, 500, 7) i;
SQL
[ $? -eq 0 ] || exit 1

# --- progress NOTICEs
q -c "SET client_min_messages = notice" \
  -c "SELECT count(*) FROM cdp.resolve_all('SELECT * FROM big WHERE record_id < ''r2''')" \
  >/dev/null 2>"$work/notices"
grep -q 'resolve_all: read ' "$work/notices"
ok $? "resolve_all reports reading with a NOTICE"
grep -o 'linked [0-9]* of [0-9]* record identifiers ([0-9]*%)' "$work/notices" >"$work/linked"
[ "$(wc -l <"$work/linked")" -ge 9 ]
ok $? "resolve_all reports the linking phase at least nine times ($(wc -l <"$work/linked") NOTICEs)"
# the largest step between reports, from 0 to 100%, in linked identifiers
gap=$(awk '{ total = $4; if ($2 - last > max) max = $2 - last; last = $2 }
           END { if (total - last > max) max = total - last; printf "%.1f", 100 * max / total }' "$work/linked")
awk -v g="$gap" 'BEGIN { exit !(g <= 10.0) }'
ok $? "linking progress is reported at least every 10% (largest step ${gap}%)"
grep -q 'components computed' "$work/notices" && grep -q 'resolve_all: wrote ' "$work/notices" \
	&& grep -q 'records resolved to' "$work/notices"
ok $? "resolve_all reports the write phase and the outcome"
# the load above was committed; start the cancellation tests from it
q -c "DELETE FROM cdp.identity_conflicts" -c "VACUUM ANALYZE"

# --- cancellation: statement_timeout
before=$(counts)
out=$(psql -X -q -At -d "$db" -v VERBOSITY=verbose -c "SET statement_timeout = '300ms'" \
	-c "SELECT count(*) FROM cdp.resolve_all('SELECT * FROM big')" 2>&1)
echo "$out" | grep -q '57014'
ok $? "statement_timeout cancels resolve_all with SQLSTATE 57014"
echo "$out" | grep -E '^(ERROR|CONTEXT)' | diag
[ "$(counts)" = "$before" ]
ok $? "a timed-out resolve_all writes nothing (contacts, identifiers, merges, conflicts: $before)"

# --- cancellation: pg_cancel_backend once the write phase has begun
before=$(counts)
mkfifo "$work/fifo"
( psql -X -q -At -d "$db" -v VERBOSITY=verbose \
	-c "SET client_min_messages = notice" \
	-c "SELECT pg_backend_pid()" \
	-c "SELECT count(*) FROM cdp.resolve_all('SELECT * FROM big')" >"$work/cancel.out" 2>"$work/fifo" ) &
bg=$!
cancelled=1
while IFS= read -r line; do
	echo "$line" >>"$work/cancel.err"
	case "$line" in
	*"components computed"*)
		pid=$(head -1 "$work/cancel.out")
		q -c "SELECT pg_cancel_backend($pid)" >/dev/null
		cancelled=$?
		;;
	esac
done <"$work/fifo"
wait "$bg"
[ "$cancelled" -eq 0 ] && grep -q '57014' "$work/cancel.err"
ok $? "pg_cancel_backend during the write phase cancels resolve_all with 57014"
grep -E '^(ERROR|CONTEXT)' "$work/cancel.err" | diag
[ "$(counts)" = "$before" ]
ok $? "a cancelled resolve_all writes nothing ($before)"

# --- identity_graph as DOT
q >/dev/null <<'SQL'
CREATE TABLE g (name text PRIMARY KEY, id bigint);
INSERT INTO g VALUES ('old', cdp.resolve('[{"kind": "email", "value": "graph.old@example.com", "validated": "otp"},
                                           {"kind": "phone", "value": "+33633333333"}]', 'crm'));
INSERT INTO g VALUES ('young', cdp.resolve('{"external_id": "graph-7", "email": "graph.young@example.com"}', 'shop'));
INSERT INTO g VALUES ('undone', cdp.resolve('{"uuid": "8d3c4e2a-1b5f-4c6d-9e7f-0a1b2c3d4e5f"}', 'app'));
UPDATE cdp.contacts SET created_at = created_at - interval '1 day', given_name = 'Quote"d \ Name'
 WHERE id = (SELECT id FROM g WHERE name = 'old');
-- a bulk record links the two: a merge
SELECT count(*) FROM cdp.resolve_all($$SELECT * FROM (VALUES
    ('x', 'email', 'graph.old@example.com', 'import'), ('x', 'external_id', 'graph-7', 'import'),
    ('x', 'anonymous', 'cookie "x"', 'web')) v(record_id, kind, value, source)$$);
-- a merge by hand, undone
SELECT cdp.merge_contacts((SELECT id FROM g WHERE name = 'old'), ARRAY[(SELECT id FROM g WHERE name = 'undone')]);
SELECT cdp.unmerge((SELECT m.id FROM cdp.merges m WHERE m.absorbed_id = (SELECT id FROM g WHERE name = 'undone')));
SQL
[ $? -eq 0 ] || echo "# the graph's contacts could not be made"
old=$(q -c "SELECT id FROM g WHERE name = 'old'")
young=$(q -c "SELECT id FROM g WHERE name = 'young'")
q -c "SELECT cdp.identity_graph($old)" >"$work/graph.dot"
dot -Tsvg "$work/graph.dot" >"$work/graph.svg" 2>"$work/dot.err"
ok $? "identity_graph is DOT that dot -Tsvg reads"
diag <"$work/dot.err"
grep -q '<svg' "$work/graph.svg"
ok $? "dot renders it as SVG"
q -c "SELECT cdp.identity_graph($young)" | cmp -s - "$work/graph.dot"
ok $? "the graph of a merged contact is its survivor's"

# identifier nodes: "i<id> [... fillcolor="<colour>" ... label="<kind>[ (slug)]\n<value>..."]"
sed -n 's/^ *i[0-9]* \[.*fillcolor="\([^"]*\)".*label="\([a-z_]*\).*/\2 \1/p' "$work/graph.dot" | sort -u >"$work/colours"
[ "$(cut -d' ' -f1 "$work/colours" | sort -u | wc -l)" -eq 4 ]
ok $? "every identifier is a node labelled with its kind (4 kinds: $(cut -d' ' -f1 "$work/colours" | sort -u | tr '\n' ' '))"
[ "$(wc -l <"$work/colours")" -eq 4 ] && [ "$(cut -d' ' -f2 "$work/colours" | sort -u | wc -l)" -eq 4 ]
ok $? "nodes are coloured by kind: one colour per kind, distinct kinds distinct colours"
diag <"$work/colours"
missing=0
for s in crm shop web; do
	grep -Eq "^ *c[0-9]+ -- i[0-9]+ \[label=\"$s\"\]" "$work/graph.dot" || { echo "source $s" | diag; missing=1; }
done
ok $missing "the sources are on the contact-identifier edges"
grep -Eq "^ *c[0-9]+ -- c[0-9]+ \[style=bold.*label=\"merge [0-9]+: resolve_all" "$work/graph.dot"
ok $? "the bulk merge is an edge labelled merge"
grep -Eq "^ *c[0-9]+ -- c[0-9]+ \[style=dashed.*label=\"merge [0-9]+: manual.*undone" "$work/graph.dot"
ok $? "the undone merge is a dashed edge"
[ $failed -eq 0 ] || diag <"$work/graph.dot"

exit $((failed > 0))
