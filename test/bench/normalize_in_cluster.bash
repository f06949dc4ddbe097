#!/usr/bin/env bash
# normalize_in_cluster.bash: the normalisation benchmark, run by normalize.sh
# inside a throwaway cluster (PGHOST etc. set by pg_virtualenv).
#
# Data: 1,100,000 messy emails and phones made deterministically in SQL
# (normalize_data.sql); the timed tables bench.emails and bench.phones hold
# the first 1,000,000 rows cdp accepts, so no row aborts a timed query (the
# refused rows are counted and, for phones, shown to libphonenumber-js too).
# Every timing is the best of 3 warm runs, in one backend, without parallel
# workers or JIT, and with no output sent to the client:
#   (a) count(cdp.normalize_email(x)) vs count(lower(btrim(x)))
#   (b) count(cdp.normalize_email(x)) vs the PL/pgSQL + regexp rules a user
#       would otherwise write (normalize_baseline.sql)
#   (c) count(cdp.normalize_phone(x, region)) vs libphonenumber-js in Node
#       (parsePhoneNumber(x, region).number when isValid(), the loop only),
#       and the agreement of the two where both call the number valid.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/out
rows=${BENCH_ROWS:-1000000}	# smaller only to try the script out
raw_rows=$((rows * 11 / 10))
mkdir -p "$out"

export PGOPTIONS="-c jit=off -c max_parallel_workers_per_gather=0 -c client_min_messages=warning"
sql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
val() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }

t0=$SECONDS
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
sql -c "CREATE EXTENSION cdp"
echo "bench: generating $raw_rows messy emails and phones"
sql -v raw_rows=$raw_rows -f "$here/normalize_data.sql" >/dev/null
sql -f "$here/normalize_baseline.sql" >/dev/null
sql <<SQL
CREATE TABLE bench.emails AS
	SELECT id, x FROM bench.raw_emails
	WHERE cdp.is_valid_identifier('email', x) ORDER BY id LIMIT $rows;
CREATE TABLE bench.phones AS
	SELECT id, x, region FROM bench.raw_phones
	WHERE cdp.is_valid_identifier('phone', x, region) ORDER BY id LIMIT $rows;
-- the raw rows cdp refuses, up to the last timed row
CREATE TABLE bench.refused_phones AS
	SELECT id, x, region FROM bench.raw_phones r
	WHERE id <= (SELECT max(id) FROM bench.phones)
	  AND NOT EXISTS (SELECT FROM bench.phones p WHERE p.id = r.id);
VACUUM ANALYZE bench.emails, bench.phones;
SQL
n_emails=$(val "SELECT count(*) FROM bench.emails")
n_phones=$(val "SELECT count(*) FROM bench.phones")
last_email=$(val "SELECT max(id) FROM bench.emails")
last_phone=$(val "SELECT max(id) FROM bench.phones")
if [ "$n_emails" -ne $rows ] || [ "$n_phones" -ne $rows ]; then
	echo "bench: only $n_emails valid emails and $n_phones valid phones" >&2
	exit 1
fi
echo "bench: data ready in $((SECONDS - t0))s"

# best <query>: the best of 3 timings in ms (after reading the table once)
best() {
	psql -X -q -At -v ON_ERROR_STOP=1 -c "SET client_min_messages = notice; SELECT round(bench.best_ms(\$q\$$1\$q\$, 3)::numeric, 1)"
}
val "SELECT count(*) FROM bench.emails" >/dev/null
val "SELECT count(*) FROM bench.phones" >/dev/null

echo "bench: (a) timing cdp.normalize_email and lower(btrim())"
a_ours=$(best "SELECT count(cdp.normalize_email(x)) FROM bench.emails")
a_base=$(best "SELECT count(lower(btrim(x))) FROM bench.emails")
echo "bench: (b) timing the PL/pgSQL baseline"
b_base=$(best "SELECT count(bench.plpgsql_normalize_email(x)) FROM bench.emails")
# How closely the PL/pgSQL baseline follows the same rules (it has no IDNA).
b_agree=$(val "SELECT round(100.0 * count(*) FILTER (WHERE b = c) / count(*), 2) || '% of ' || count(*)
	FROM (SELECT cdp.normalize_email(x) c, bench.plpgsql_normalize_email(x) b FROM bench.emails) s
	WHERE c ~ '^[\\x01-\\x7f]*$' AND c !~ 'xn--'")
b_null=$(val "SELECT count(*) FROM bench.emails WHERE bench.plpgsql_normalize_email(x) IS NULL")

echo "bench: (c) timing cdp.normalize_phone"
c_ours=$(best "SELECT count(cdp.normalize_phone(x, region)) FROM bench.phones")
psql -X -q -v ON_ERROR_STOP=1 -c "\\copy (SELECT id, x, region FROM bench.phones ORDER BY id) TO '$out/phones.tsv'"
psql -X -q -v ON_ERROR_STOP=1 -c "\\copy (SELECT id, x, region FROM bench.refused_phones ORDER BY id) TO '$out/refused_phones.tsv'"
echo "bench: (c) timing libphonenumber-js (max metadata)"
c_max=$(node "$here/normalize_phones.js" "$out/phones.tsv" "$out/node_phones.tsv" max 3)
echo "bench: (c) timing libphonenumber-js (min metadata)"
c_min=$(node "$here/normalize_phones.js" "$out/phones.tsv" "$out/node_phones_min.tsv" min 3 2>/dev/null)
node "$here/normalize_phones.js" "$out/refused_phones.tsv" "$out/node_refused.tsv" max 1 >/dev/null 2>&1
ms_of() { echo "$1" | sed 's/.*"best_ms":\([0-9.]*\).*/\1/' | xargs printf '%.1f'; }
c_node=$(ms_of "$c_max")
c_node_min=$(ms_of "$c_min")

sql <<SQL
CREATE TABLE bench.node_phones (id int PRIMARY KEY, e164 text);
CREATE TABLE bench.node_refused (id int PRIMARY KEY, e164 text);
\\copy bench.node_phones FROM '$out/node_phones.tsv'
\\copy bench.node_refused FROM '$out/node_refused.tsv'
CREATE TABLE bench.our_phones AS SELECT id, cdp.normalize_phone(x, region) e164 FROM bench.phones;
SQL
c_both=$(val "SELECT count(*) FROM bench.our_phones o JOIN bench.node_phones n USING (id) WHERE n.e164 IS NOT NULL")
c_same=$(val "SELECT count(*) FROM bench.our_phones o JOIN bench.node_phones n USING (id) WHERE n.e164 = o.e164")
c_node_invalid=$(val "SELECT count(*) FROM bench.node_phones WHERE e164 IS NULL")
c_refused=$(val "SELECT count(*) FROM bench.node_refused")
c_refused_node_valid=$(val "SELECT count(*) FROM bench.node_refused WHERE e164 IS NOT NULL")
val "SELECT p.x, p.region, o.e164 AS cdp, n.e164 AS libphonenumber_js
	FROM bench.phones p JOIN bench.our_phones o USING (id) JOIN bench.node_phones n USING (id)
	WHERE n.e164 IS DISTINCT FROM o.e164 ORDER BY id LIMIT 10" >"$out/phone_disagreements.txt"
val "SELECT r.x, r.region, n.e164 FROM bench.refused_phones r JOIN bench.node_refused n USING (id)
	WHERE n.e164 IS NOT NULL ORDER BY id LIMIT 10" >"$out/phone_refused_by_cdp_only.txt"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f%%", 100 * a / b }'; }
verdict() { awk -v r="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == "<=") ? r <= t : r >= t; print ok ? "met" : "MISSED" }'; }

a_ratio=$(ratio "$a_ours" "$a_base")
b_ratio=$(ratio "$a_ours" "$b_base")
c_ratio=$(ratio "$c_ours" "$c_node")
c_ratio_min=$(ratio "$c_ours" "$c_node_min")
c_agree=$(awk -v s="$c_same" -v b="$c_both" 'BEGIN { printf "%.3f", 100 * s / b }')

echo
echo "normalisation benchmark: $rows rows each (emails: first $rows of $last_email raw rows that cdp accepts;"
echo "phones: first $rows of $last_phone), best of 3 warm runs, one backend, no parallel workers, no JIT"
echo
printf '%-58s %12s %12s %9s %9s  %s\n' "measure" "ours ms" "baseline ms" "ratio" "target" "result"
printf '%-58s %12s %12s %9s %9s  %s\n' "(a) normalize_email vs count(lower(btrim(x)))" \
	"$a_ours" "$a_base" "$a_ratio" "<= 2.5" "$(verdict "$a_ratio" 2.5 '<=')"
printf '%-58s %12s %12s %9s %9s  %s\n' "(b) normalize_email vs PL/pgSQL + regexp rules" \
	"$a_ours" "$b_base" "$b_ratio" "<= 0.1" "$(verdict "$b_ratio" 0.1 '<=')"
printf '%-58s %12s %12s %9s %9s  %s\n' "(c) normalize_phone vs libphonenumber-js/max in Node" \
	"$c_ours" "$c_node" "$c_ratio" "<= 0.5" "$(verdict "$c_ratio" 0.5 '<=')"
printf '%-58s %12s %12s %9s %9s  %s\n' "    (for reference: vs libphonenumber-js/min)" \
	"$c_ours" "$c_node_min" "$c_ratio_min" "" ""
printf '%-58s %12s %12s %9s %9s  %s\n' "(c) agreement where both call the number valid" \
	"" "" "$c_agree%" ">= 99%" "$(verdict "$c_agree" 99 '>=')"
echo
echo "details:"
echo "  (b) the PL/pgSQL baseline gives the same key as cdp for $b_agree ASCII, non-IDN rows;"
echo "      it refuses (NULL) $b_null of the $rows rows cdp accepts"
echo "  (c) both valid: $c_both; identical E.164: $c_same; libphonenumber-js calls $c_node_invalid of cdp's valid rows invalid"
echo "      of $c_refused raw rows cdp refuses, libphonenumber-js calls $c_refused_node_valid valid"
echo "      libphonenumber-js runs: max $c_max; min $c_min"
echo "      examples: test/bench/out/phone_disagreements.txt, test/bench/out/phone_refused_by_cdp_only.txt"
echo "  load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs);"
echo "  the timings are only as good as the machine is quiet"
echo "  total time $((SECONDS - t0))s"
