#!/usr/bin/env bash
# model.sh: the model benchmark (profiles, events, typed queries), each printed
# as a ratio against a plain-SQL baseline measured in the same run:
#   1. set_profile for N contacts (one call per transaction, pgbench -M prepared)
#      vs a plain INSERT ... ON CONFLICT into the same generated table; and the
#      same as one statement over N rows (per-row calls vs one set-based INSERT);
#   2. track for N events vs a plain INSERT into cdp.events with a known contact id;
#   3. a filter on a typed attribute with an index over M profile rows vs the same
#      filter on a jsonb column with an expression index.
# Sizes: BENCH_CONTACTS (200000), BENCH_EVENTS (200000), BENCH_ROWS (1000000).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" != "--in-cluster" ]; then
	cd "$here/../.."
	make -s
	make -s install >/dev/null
	exec test/cluster.sh bash "$here/model.sh" --in-cluster
fi

N=${BENCH_CONTACTS:-200000}
E=${BENCH_EVENTS:-200000}
M=${BENCH_ROWS:-1000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# seconds <db> <pgbench script> <transactions>: wall time of a pgbench run
seconds() {
	local start end
	start=$(date +%s.%N)
	pgbench -n -M prepared -c 1 -t "$3" -f "$2" "$1" >"$work/pgbench.out" 2>&1 || { cat "$work/pgbench.out"; exit 1; }
	end=$(date +%s.%N)
	echo "$end - $start" | bc -l
}
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }

echo "== 1. set_profile vs INSERT ... ON CONFLICT ($N contacts)"
createdb bench_profile
psql -d bench_profile >/dev/null <<SQL
CREATE EXTENSION cdp;
SELECT FROM cdp.define_profile('bench', 'contact', '[
  {"slug": "tier", "type": "text", "options": ["bronze", "silver", "gold"]},
  {"slug": "age", "type": "integer", "min": 0, "max": 150},
  {"slug": "score", "type": "number", "decimals": 2},
  {"slug": "vip", "type": "boolean"},
  {"slug": "since", "type": "date"}]');
INSERT INTO cdp.contacts (id) SELECT generate_series(1, $N);
CREATE SEQUENCE bench_ids;
SQL
cat >"$work/set_profile.sql" <<'SQL'
\set age random(0, 99)
SELECT cdp.set_profile(nextval('bench_ids'), 'bench', jsonb_build_object('tier', 'gold', 'age', :age::int, 'score', 12.5, 'vip', true, 'since', '2020-01-01'));
SQL
cat >"$work/upsert.sql" <<'SQL'
\set age random(0, 99)
INSERT INTO cdp_data.profile_bench AS t (contact_id, updated_at, tier, age, score, vip, since)
VALUES (nextval('bench_ids'), now(), 'gold', :age::int, 12.5, true, '2020-01-01')
ON CONFLICT (contact_id) DO UPDATE SET updated_at = EXCLUDED.updated_at, tier = EXCLUDED.tier, age = EXCLUDED.age,
    score = EXCLUDED.score, vip = EXCLUDED.vip, since = EXCLUDED.since;
SQL
reset_profile() {
	psql -d bench_profile -c "TRUNCATE cdp_data.profile_bench" -c "SELECT setval('bench_ids', 1, false)" \
		-c "VACUUM ANALYZE cdp_data.profile_bench" >/dev/null
}
reset_profile
t_base=$(seconds bench_profile "$work/upsert.sql" "$N")
reset_profile
t_api=$(seconds bench_profile "$work/set_profile.sql" "$N")
echo "per call: INSERT ... ON CONFLICT ${t_base}s, set_profile ${t_api}s, ratio $(ratio "$t_api" "$t_base") (target <= 2.0)"
PROFILE_CALL_RATIO=$(ratio "$t_api" "$t_base")

bulk() {	# bulk <sql>: seconds of one statement
	psql -d bench_profile -At -c "TRUNCATE cdp_data.profile_bench" -c "VACUUM ANALYZE cdp_data.profile_bench" >/dev/null
	psql -d bench_profile -At <<SQL
DO \$\$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
    $1;
    RAISE NOTICE '%', extract(epoch FROM clock_timestamp() - t0);
END
\$\$;
SQL
}
b_base=$(bulk "INSERT INTO cdp_data.profile_bench AS t (contact_id, updated_at, tier, age, score, vip, since)
    SELECT i, now(), 'gold', i % 100, 12.5, true, '2020-01-01' FROM generate_series(1, $N) i
    ON CONFLICT (contact_id) DO UPDATE SET tier = EXCLUDED.tier, age = EXCLUDED.age" 2>&1 | sed -n 's/.*NOTICE: *//p')
b_api=$(bulk "PERFORM cdp.set_profile(i, 'bench', jsonb_build_object('tier', 'gold', 'age', i % 100, 'score', 12.5,
    'vip', true, 'since', '2020-01-01')) FROM generate_series(1, $N) i" 2>&1 | sed -n 's/.*NOTICE: *//p')
echo "one statement over $N rows: INSERT ... SELECT ... ON CONFLICT ${b_base}s, SELECT set_profile(...) per row ${b_api}s, ratio $(ratio "$b_api" "$b_base")"

echo "== 2. track vs INSERT INTO cdp.events ($E events over 10000 contacts)"
createdb bench_events
psql -d bench_events >/dev/null <<'SQL'
CREATE EXTENSION cdp;
SELECT count(cdp.resolve(jsonb_build_object('email', format('user%s@example.com', i)))) FROM generate_series(1, 10000) i;
SQL
cat >"$work/track.sql" <<'SQL'
\set u random(1, 10000)
SELECT cdp.track(jsonb_build_object('email', 'user' || :u || '@example.com'), 'page_view', '{"path": "/pricing"}', now(), 'bench');
SQL
cat >"$work/event_insert.sql" <<'SQL'
\set u random(1, 10000)
INSERT INTO cdp.events (contact_id, name, occurred_at, properties, source) VALUES (:u, 'page_view', now(), '{"path": "/pricing"}', 'bench');
SQL
t_ins=$(seconds bench_events "$work/event_insert.sql" "$E")
psql -d bench_events -c "TRUNCATE cdp.events" -c "VACUUM ANALYZE cdp.events"
t_track=$(seconds bench_events "$work/track.sql" "$E")
echo "INSERT INTO cdp.events ${t_ins}s, track ${t_track}s, ratio $(ratio "$t_track" "$t_ins")"

echo "== 3. typed attribute with an index vs jsonb with an expression index ($M rows)"
createdb bench_query
psql -d bench_query >/dev/null <<SQL
CREATE EXTENSION cdp;
SELECT FROM cdp.define_profile('shop', 'contact', '[
  {"slug": "tier", "type": "text", "options": ["bronze", "silver", "gold"]},
  {"slug": "age", "type": "integer"},
  {"slug": "spent", "type": "number"},
  {"slug": "city", "type": "text"}]');
INSERT INTO cdp.contacts (id) SELECT generate_series(1, $M);
INSERT INTO cdp_data.profile_shop (contact_id, tier, age, spent, city)
SELECT i, (ARRAY['bronze', 'silver', 'gold'])[1 + i % 3], 18 + (hashint4(i) & 1023) % 80,
       ((hashint4(i + 7) & 65535) / 100.0), 'city ' || (i % 500)
  FROM generate_series(1, $M) i;
CREATE TABLE bench_jsonb (contact_id bigint PRIMARY KEY, data jsonb NOT NULL);
INSERT INTO bench_jsonb SELECT contact_id, jsonb_build_object('tier', tier, 'age', age, 'spent', spent, 'city', city)
  FROM cdp_data.profile_shop;
CREATE INDEX ON cdp_data.profile_shop (age);
CREATE INDEX ON bench_jsonb (((data ->> 'age')::bigint));
VACUUM ANALYZE cdp_data.profile_shop;
VACUUM ANALYZE bench_jsonb;
CREATE FUNCTION bench_time(q text, n int) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; best float8 := 'infinity'; r bigint;
BEGIN
    FOR i IN 1 .. n LOOP
        t0 := clock_timestamp();
        EXECUTE q INTO r;
        best := least(best, extract(epoch FROM clock_timestamp() - t0));
    END LOOP;
    RETURN best;
END \$\$;
SQL
typed_q="SELECT sum(spent)::bigint FROM cdp_data.profile_shop WHERE age BETWEEN 40 AND 41"
jsonb_q="SELECT sum((data ->> 'spent')::numeric)::bigint FROM bench_jsonb WHERE (data ->> 'age')::bigint BETWEEN 40 AND 41"
echo "typed plan:"; psql -d bench_query -At -c "EXPLAIN $typed_q" | sed 's/^/    /'
echo "jsonb plan:"; psql -d bench_query -At -c "EXPLAIN $jsonb_q" | sed 's/^/    /'
q_typed=$(psql -d bench_query -At -c "SELECT bench_time(\$q\$$typed_q\$q\$, 20)")
q_jsonb=$(psql -d bench_query -At -c "SELECT bench_time(\$q\$$jsonb_q\$q\$, 20)")
sizes=$(psql -d bench_query -At -c "SELECT pg_size_pretty(pg_table_size('cdp_data.profile_shop')) || ' typed, ' || pg_size_pretty(pg_table_size('bench_jsonb')) || ' jsonb'")
echo "table sizes: $sizes"
echo "best of 20: typed ${q_typed}s, jsonb ${q_jsonb}s, ratio jsonb/typed $(ratio "$q_jsonb" "$q_typed")"

echo "== summary"
echo "set_profile / INSERT ON CONFLICT (per call): $PROFILE_CALL_RATIO (target <= 2.0)"
echo "set_profile / INSERT ON CONFLICT (one statement): $(ratio "$b_api" "$b_base")"
echo "track / INSERT INTO cdp.events: $(ratio "$t_track" "$t_ins")"
echo "jsonb expression index / typed index query time: $(ratio "$q_jsonb" "$q_typed")"
