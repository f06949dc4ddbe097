#!/usr/bin/env bash
# concurrency.sh: concurrent cdp.resolve ends in the partition a serial run
# and a plain-SQL connected-components oracle give (DESIGN §5, Concurrency).
#
# Run by `make test` (prove, inside the test cluster; PGHOST etc. set).
# About 2,000 deterministic records of 700 people over overlapping emails,
# phones (own and household) and external ids from three sources, with
# chains across people, so that resolving them needs many merges.  Two
# scenarios, each resolved serially in one database and by 4 parallel psql
# sessions (each record its own transaction) in another:
#   forward: serial in record order; parallel sessions take seeded random
#            partitions, each in a seeded random order;
#   reverse: serial in reverse order; parallel sessions take the records
#            round-robin, each in reverse order, so that the sessions work
#            on the same people at the same moment.
# The partition of identifiers into live contacts is compared as, for each
# identifier, the least identifier of its contact -- not contact ids.
set -uo pipefail

PEOPLE=${CDP_CONC_PEOPLE:-700}
SESSIONS=4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=cdp_conc_$$

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
psql_db() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$@"; }

# The least identifier of each identifier's contact, one line per identifier.
partition_of() {	# partition_of <db> <file>
	psql_db "$1" -o "$2" <<'SQL'
SELECT key || ' ' || min(key) OVER (PARTITION BY contact_id)
  FROM (SELECT i.contact_id, (i.kind || ':' || i.value) COLLATE "C" AS key
          FROM cdp.identifiers i) s
 ORDER BY key;
SQL
}

# The dangling state no partition would show: identifiers on tombstones,
# live contacts without identifiers, refused links (no rules are set).
dangling() {	# dangling <db>
	psql_db "$1" <<'SQL'
SELECT (SELECT count(*) FROM cdp.identifiers i JOIN cdp.contacts c ON c.id = i.contact_id
         WHERE c.merged_into IS NOT NULL)
     + (SELECT count(*) FROM cdp.contacts c WHERE c.merged_into IS NULL
           AND NOT EXISTS (SELECT 1 FROM cdp.identifiers i WHERE i.contact_id = c.id))
     + (SELECT count(*) FROM cdp.identity_conflicts);
SQL
}

# Records whose returned contact does not (now) hold all their identifiers.
misresolved() {	# misresolved <db>
	psql_db "$1" <<'SQL'
SELECT (SELECT count(*) FROM conc.records r
         WHERE NOT EXISTS (SELECT 1 FROM conc.results s WHERE s.record_id = r.id))
     + (SELECT count(*) FROM conc.results s
          JOIN conc.record_ids ri USING (record_id)
          LEFT JOIN cdp.identifiers i ON i.kind = ri.kind AND i.value = ri.value
         WHERE i.contact_id IS DISTINCT FROM cdp.current_contact(s.contact_id));
SQL
}

# A psql script resolving the given record ids, one transaction each.
script_for() {	# script_for <file of record ids> <script>
	sed 's/.*/INSERT INTO conc.results SELECT id, cdp.resolve(ids, source) FROM conc.records WHERE id = &;/' \
		"$1" >"$2"
}

# The lock-order scenario at the end makes a merge move identifiers under a
# waiting resolve, which then needs a contact with a lower id than one it
# holds; cdp.resolve must relock in order rather than deadlock.
echo "1..21"

# ---- the template database: cdp, the records and the oracle
createdb "${prefix}_tpl" >"$work/setup.log" 2>&1
psql_db "${prefix}_tpl" -v people="$PEOPLE" >>"$work/setup.log" 2>&1 <<'SQL'
CREATE EXTENSION cdp;
CREATE SCHEMA conc;
-- a deterministic number in [0, 1) for (i, salt)
CREATE FUNCTION conc.h(i bigint, salt text) RETURNS double precision
LANGUAGE sql IMMUTABLE AS
$$ SELECT ('x' || substr(md5(i || ':' || salt), 1, 8))::bit(32)::bigint / 4294967296.0 $$;

-- each person's identifiers, normalised (what the oracle links on)
CREATE TABLE conc.person_ids (person int, kind text, value text);
INSERT INTO conc.person_ids
SELECT p, 'email', 'p' || p || '@mail' || p % 7 || '.example.org'
  FROM generate_series(1, :people) p
UNION ALL
SELECT p, 'email', 'p' || p || '.alt@work.example.net'
  FROM generate_series(1, :people) p WHERE conc.h(p, 'alt') < 0.35
UNION ALL	-- chains: some people also use the next person's address
SELECT p, 'email', 'p' || p + 1 || '@mail' || (p + 1) % 7 || '.example.org'
  FROM generate_series(1, :people - 1) p WHERE conc.h(p, 'chain') < 0.12
UNION ALL
SELECT p, 'phone', '+3361' || lpad(p::text, 7, '0')
  FROM generate_series(1, :people) p WHERE conc.h(p, 'phone') < 0.7
UNION ALL	-- a household phone shared within blocks of 4 people
SELECT p, 'phone', '+3362' || lpad((p / 4)::text, 7, '0')
  FROM generate_series(1, :people) p WHERE conc.h(p, 'home') < 0.3
UNION ALL	-- one long chain: people 1..60 hold legacy ids k and k+1
SELECT p, 'external_id', 'legacy-' || p + d
  FROM generate_series(1, 60) p, generate_series(0, 1) d
UNION ALL
SELECT p, 'external_id', s || '-' || p
  FROM generate_series(1, :people) p, unnest(ARRAY['crm', 'shop', 'app']) s;

-- 1 to 5 records per person, each from one source with some of the
-- person's identifiers (the source's own id when it has one)
CREATE TABLE conc.person_records AS
SELECT p AS person, j,
       (ARRAY['crm', 'shop', 'app'])[1 + floor(conc.h(p * 10 + j, 'source') * 3)::int] AS source
  FROM generate_series(1, :people) p,
       generate_series(1, 1 + floor(conc.h(p, 'records') * 5)::int) j;

CREATE TABLE conc.records (
    id int PRIMARY KEY, person int, j int, source text, ids jsonb);
INSERT INTO conc.records (id, person, j, source)
SELECT row_number() OVER (ORDER BY person + 6 * conc.h(person * 10 + j, 'order'), person, j),
       person, j, source
  FROM conc.person_records;

CREATE TABLE conc.record_ids (record_id int, kind text, value text, raw text);
INSERT INTO conc.record_ids (record_id, kind, value)
SELECT r.id, pi.kind, pi.value
  FROM conc.records r JOIN conc.person_ids pi ON pi.person = r.person
 WHERE CASE WHEN pi.kind = 'external_id' AND pi.value LIKE 'legacy-%'
            THEN true
            WHEN pi.kind = 'external_id'
            THEN pi.value LIKE r.source || '-%' AND conc.h(r.id, 'own') < 0.6
            ELSE conc.h(r.id, pi.value) < 0.45 END;
INSERT INTO conc.record_ids (record_id, kind, value)	-- never an empty record
SELECT r.id, 'email', 'p' || r.person || '@mail' || r.person % 7 || '.example.org'
  FROM conc.records r
 WHERE NOT EXISTS (SELECT 1 FROM conc.record_ids ri WHERE ri.record_id = r.id);
-- how sources write them: case, spaces, phone layout
UPDATE conc.record_ids SET raw = CASE
    WHEN kind = 'email' AND conc.h(record_id, 'raw' || value) < 0.3 THEN upper(value)
    WHEN kind = 'email' AND conc.h(record_id, 'raw' || value) < 0.5 THEN '  ' || value || ' '
    WHEN kind = 'phone' AND conc.h(record_id, 'raw' || value) < 0.5
    THEN regexp_replace(value, '^\+33(\d)(\d\d)(\d\d)(\d\d)(\d\d)$', '+33 \1 \2 \3 \4 \5')
    ELSE value END;
UPDATE conc.records r SET ids = (
    SELECT jsonb_agg(jsonb_build_object('kind', kind, 'value', raw)
                     ORDER BY conc.h(record_id, kind || value))
      FROM conc.record_ids ri WHERE ri.record_id = r.id);

CREATE TABLE conc.results (record_id int, contact_id bigint);

-- The oracle: connected components of the record-identifier graph by label
-- propagation, each identifier labelled with the least key of its component.
CREATE TABLE conc.oracle AS
SELECT DISTINCT kind, value, (kind || ':' || value) COLLATE "C" AS key,
       (kind || ':' || value) COLLATE "C" AS label
  FROM conc.record_ids;
CREATE UNIQUE INDEX ON conc.oracle (kind, value);
DO $$
BEGIN
    LOOP
        WITH per_record AS (
            SELECT ri.record_id, min(o.label) AS label
              FROM conc.record_ids ri JOIN conc.oracle o USING (kind, value)
             GROUP BY ri.record_id),
        per_identifier AS (
            SELECT ri.kind, ri.value, min(pr.label) AS label
              FROM conc.record_ids ri JOIN per_record pr USING (record_id)
             GROUP BY ri.kind, ri.value)
        UPDATE conc.oracle o SET label = pi.label
          FROM per_identifier pi
         WHERE o.kind = pi.kind AND o.value = pi.value AND pi.label < o.label;
        EXIT WHEN NOT FOUND;
    END LOOP;
END
$$;
SQL
ok $? "template database: cdp, $PEOPLE people's records and the oracle"
[ "$failed" -gt 0 ] && diag <"$work/setup.log"

psql_db "${prefix}_tpl" -o "$work/oracle" \
	-c "SELECT key || ' ' || label FROM conc.oracle ORDER BY key"
read -r records components largest < <(psql_db "${prefix}_tpl" -F ' ' -c "
	SELECT (SELECT count(*) FROM conc.records), count(*), max(n)
	  FROM (SELECT label, count(*) AS n FROM conc.oracle GROUP BY label) c")
echo "# $records records, $(wc -l <"$work/oracle") identifiers, $components components, the largest of $largest identifiers"
[ "${records:-0}" -ge 1500 ] && [ "${largest:-0}" -ge 100 ] && [ "${components:-0}" -ge 200 ]
ok $? "the records link into many components and one large one"

# ---- record orders
psql_db "${prefix}_tpl" -o "$work/forward.ids" -c "SELECT id FROM conc.records ORDER BY id"
psql_db "${prefix}_tpl" -o "$work/reverse.ids" -c "SELECT id FROM conc.records ORDER BY id DESC"
for s in $(seq 0 $((SESSIONS - 1))); do
	psql_db "${prefix}_tpl" -o "$work/forward.$s.ids" -c "
		SELECT id FROM conc.records
		 WHERE floor(conc.h(id, 'session') * $SESSIONS) = $s
		 ORDER BY conc.h(id, 'shuffle $s')"
	psql_db "${prefix}_tpl" -o "$work/reverse.$s.ids" -c "
		SELECT id FROM conc.records WHERE id % $SESSIONS = $s ORDER BY id DESC"
done

for scenario in forward reverse; do
	serial=${prefix}_${scenario}_serial
	parallel=${prefix}_${scenario}_parallel
	createdb -T "${prefix}_tpl" "$serial"
	createdb -T "${prefix}_tpl" "$parallel"

	# serial: one session
	script_for "$work/$scenario.ids" "$work/$scenario.sql"
	start=$EPOCHREALTIME
	psql_db "$serial" -f "$work/$scenario.sql" >"$work/$scenario.serial.log" 2>&1
	status=$?
	secs=$(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $start }")
	! grep -q 'ERROR' "$work/$scenario.serial.log" && [ $status -eq 0 ]
	ok $? "$scenario, serial: every resolve succeeds"
	[ $status -ne 0 ] && head -20 "$work/$scenario.serial.log" | diag

	merges=$(psql_db "$serial" -c "SELECT count(*) FROM cdp.merges")
	echo "# $scenario, serial: $merges merges, ${secs}s"
	partition_of "$serial" "$work/$scenario.serial.partition"
	diff "$work/oracle" "$work/$scenario.serial.partition" >"$work/diff" &&
		[ "${merges:-0}" -ge 100 ]
	ok $? "$scenario, serial: the partition is the oracle's, reached through merges"
	head -20 "$work/diff" | diag

	# parallel: SESSIONS sessions at once
	pids=()
	start=$EPOCHREALTIME
	for s in $(seq 0 $((SESSIONS - 1))); do
		script_for "$work/$scenario.$s.ids" "$work/$scenario.$s.sql"
		psql_db "$parallel" -f "$work/$scenario.$s.sql" >"$work/$scenario.$s.log" 2>&1 &
		pids+=($!)
	done
	status=0
	for pid in "${pids[@]}"; do
		wait "$pid" || status=1
	done
	secs=$(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $start }")
	! cat "$work/$scenario".[0-9].log | grep -q 'ERROR' && [ $status -eq 0 ]
	ok $? "$scenario, $SESSIONS parallel sessions: every resolve succeeds"
	cat "$work/$scenario".[0-9].log | grep -A3 'ERROR' | head -20 | diag

	merges=$(psql_db "$parallel" -c "SELECT count(*) FROM cdp.merges")
	echo "# $scenario, parallel: $merges merges, ${secs}s"
	partition_of "$parallel" "$work/$scenario.parallel.partition"
	diff "$work/$scenario.serial.partition" "$work/$scenario.parallel.partition" >"$work/diff"
	ok $? "$scenario, parallel: the partition is the serial run's"
	head -20 "$work/diff" | diag
	diff -q "$work/oracle" "$work/$scenario.parallel.partition" >/dev/null
	ok $? "$scenario, parallel: the partition is the oracle's"

	for run in serial parallel; do
		db=${prefix}_${scenario}_$run
		count=$(dangling "$db")
		[ "$count" = 0 ]
		ok $? "$scenario, $run: identifiers only on live contacts, no empty contacts, no conflicts"
		count=$(misresolved "$db")
		[ "$count" = 0 ]
		ok $? "$scenario, $run: each record's contact holds its identifiers"
	done

	dropdb "$serial"
	dropdb "$parallel"
done
dropdb "${prefix}_tpl"

# ---- a deadlock scenario, step by step: A finds contacts 2 and 3, waits for
# row 2 (B is merging it into 1), then for row 3 (E holds it); D locks row 1
# and queues for row 3 behind A; when A has row 3 it finds e2 now on contact
# 1 and asks for row 1, which D holds.
{
	db=${prefix}_lock_order
	createdb "$db"
	psql_db "$db" >/dev/null <<'SQL'
CREATE EXTENSION cdp;
SELECT cdp.resolve('[{"kind": "email", "value": "e1@x.org"}, {"kind": "phone", "value": "+33610000001"}]');
SELECT cdp.resolve('[{"kind": "email", "value": "e2@x.org"}, {"kind": "external_id", "value": "x2"}]');
SELECT cdp.resolve('[{"kind": "email", "value": "e3@x.org"}, {"kind": "external_id", "value": "x3"},
                     {"kind": "external_id", "value": "y3"}]');
SQL
	held() {	# held <name> <identifiers> <seconds to hold the locks>
		psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "BEGIN" -c "SELECT cdp.resolve('$2')" \
			-c "SELECT pg_sleep($3)" -c "COMMIT" >"$work/lock_order.$1.log" 2>&1
	}
	held E '[{"kind": "external_id", "value": "y3"}]' 4 &
	e=$!; sleep 0.1
	held B '[{"kind": "email", "value": "e1@x.org"}, {"kind": "external_id", "value": "x2"}]' 2 &
	b=$!; sleep 0.4
	held A '[{"kind": "email", "value": "e2@x.org"}, {"kind": "email", "value": "e3@x.org"}]' 0 &
	a=$!; sleep 2
	held D '[{"kind": "phone", "value": "+33610000001"}, {"kind": "external_id", "value": "x3"}]' 0 &
	d=$!
	status=0
	for pid in $e $b $a $d; do wait $pid || status=1; done
	[ $status -eq 0 ] && [ "$(psql_db "$db" -c "SELECT count(DISTINCT contact_id) FROM cdp.identifiers")" = 1 ]
	ok $? "merges and lookups racing: every resolve succeeds, one contact"
	cat "$work"/lock_order.*.log | grep -A2 ERROR | diag
	dropdb "$db"
}

[ "$failed" -eq 0 ]
