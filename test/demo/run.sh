#!/usr/bin/env bash
# run.sh: the demo inside a running cluster (PGHOST, PGPORT, PGUSER and
# PGDATABASE set): generates the data, runs the steps, prints the report.
set -euo pipefail
demo=$(cd "$(dirname "$0")" && pwd)
out=${CDP_DEMO_OUT:?}
seed=${SEED:-42}
people=${PEOPLE:-100000}
now=${NOW:-$(date +%s)}
data=$out/data

steps=()
times=()
t_last=$(date +%s%N)
secs() {
	printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100))
}
step() {
	local t ms
	t=$(date +%s%N)
	ms=$(((t - t_last) / 1000000))
	steps+=("$1")
	times+=("$ms")
	t_last=$t
	printf '  %-62s %6s s\n' "$1" "$(secs "$ms")"
}
sql() {
	(cd "$data" && psql -X -q -v ON_ERROR_STOP=1 -v dot="$out/identity_graph.dot" "$@")
}

mkdir -p "$data"
echo "cdp demo: $people people, seed $seed, now $(date -u -d "@$now" '+%Y-%m-%d %H:%M UTC') (SEED, PEOPLE and NOW change them)"
gcc -O2 -o "$out/gen" "$demo/gen.c"
"$out/gen" "$seed" "$people" "$now" "$data"
step "generate the sources (test/demo/gen.c)"
sql -f "$demo/10_setup.sql"
step "create the extension, kinds, blocked values, model; copy"
sql -f "$demo/20_load.sql"
step "load the year's records with resolve_all"
sql -f "$demo/30_model.sql"
step "names, profiles, organizations, tags, tickets, events"
sql -f "$demo/40_segments.sql"
step "segments, view, crm_sync takes the load's changes"
sql -o /dev/null -f "$data/day.sql"
step "the day: $(grep -c '^SELECT' "$data/day.sql") resolve/track/ingest/set_profile transactions"
sql -f "$demo/50_after_day.sql"
step "refresh segments, crm_sync takes the day's changes"
sql -f "$demo/60_report.sql"
dot -Tpng -o "$out/identity_graph.png" "$out/identity_graph.dot"
step "report and identity graph"

echo
echo "Identity graph of the most-merged person: $out/identity_graph.dot and $out/identity_graph.png"
echo
echo "== 6. Time of each step"
total=0
for i in "${!steps[@]}"; do
	printf '  %-62s %6s s\n' "${steps[$i]}" "$(secs "${times[$i]}")"
	total=$((total + times[i]))
done
printf '  %-62s %6s s\n' "total in the cluster" "$(secs "$total")"
