#!/usr/bin/env bash
# cron.sh: cdp.schedule_refresh with pg_cron, in a second throwaway cluster
# that preloads pg_cron (the suite's own cluster does not), and its clear
# refusal without pg_cron.  pg_cron 1.4 fires by the minute, so the test
# waits for one run (at most about 70 seconds).
set -uo pipefail
cd "$(dirname "$0")/../.."
n=0
failed=0
ok() {	# ok <status> <description>
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
echo "1..6"

# Without pg_cron (the suite's cluster): a clear error.
db=cdp_cron_$$
createdb "$db"
err=$(psql -X -q -At -d "$db" -c "CREATE EXTENSION cdp" -c "SELECT cdp.create_segment('all_contacts', 'contact.id > 0')" \
	-c "\\set VERBOSITY verbose" -c "SELECT cdp.schedule_refresh('all_contacts', '5 minutes')" 2>&1 >/dev/null)
echo "$err" | grep -q 'ERROR:  55000: pg_cron is not installed in this database' &&
	echo "$err" | grep -q 'HINT:  Install postgresql-15-cron'
ok $? "without pg_cron, schedule_refresh raises 55000 and says how to install it"
echo "$err" | sed 's/^/# /'
err=$(psql -X -q -At -d "$db" -c "SELECT cdp.schedule_refresh('all_contacts', '90 seconds')" 2>&1)
echo "$err" | grep -q 'ERROR:  cannot schedule a refresh every 00:01:30'
ok $? "an interval pg_cron cannot express is refused"
echo "$err" | sed 's/^/# /'
dropdb "$db"

# With pg_cron: a cluster of its own, whose settings pg_cron needs at start.
# Clusters started at the same moment can collide on a port: try again.
out=$(mktemp)
script=$(mktemp)
cat >"$script" <<'CLUSTER'
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d postgres -c "$1"; }
q "CREATE EXTENSION pg_cron" && q "CREATE EXTENSION cdp" || exit 1
q "SELECT cdp.resolve('{\"email\": \"cron@example.com\"}')" >/dev/null
q "SELECT cdp.create_segment('all_contacts', 'contact.id > 0')" >/dev/null
job=$(q "SELECT cdp.schedule_refresh('all_contacts', '1 minute')")
again=$(q "SELECT cdp.schedule_refresh('all_contacts', '2 hours')")
echo "JOB $([ "$job" = "$again" ] && echo same || echo different)"
echo "SCHEDULE $(q "SELECT schedule || ' | ' || command FROM cron.job WHERE jobname = 'cdp refresh all_contacts'")"
q "SELECT cdp.schedule_refresh('all_contacts', '1 minute')" >/dev/null
for _ in $(seq 1 80); do
	[ "$(q "SELECT refreshed_at IS NOT NULL FROM cdp.segments WHERE slug = 'all_contacts'")" = t ] && break
	sleep 1
done
echo "RAN $(q "SELECT member_count FROM cdp.segments WHERE slug = 'all_contacts'") $(q "SELECT status FROM cron.job_run_details ORDER BY runid DESC LIMIT 1")"
echo "UNSCHEDULED $(q "SELECT cdp.unschedule_refresh('all_contacts')") $(q "SELECT cdp.unschedule_refresh('all_contacts')") $(q "SELECT count(*) FROM cron.job")"
CLUSTER
for _ in 1 2 3; do
	env -u PGPORT -u PGHOST -u PGUSER -u PGPASSWORD -u PGDATABASE \
		pg_virtualenv -t -v 15 -o shared_preload_libraries=pg_cron -o cron.use_background_workers=on \
		-o max_worker_processes=16 -o cron.database_name=postgres bash "$script" >"$out" 2>&1
	grep -q 'Port conflict' "$out" || break
	sleep $((RANDOM % 5 + 1))
done
rm -f "$script"
grep -qx 'JOB same' "$out"
ok $? "scheduling a segment again replaces its job"
grep -qx "SCHEDULE 0 \*/2 \* \* \* | SELECT cdp.refresh_segment('all_contacts')" "$out"
ok $? "an interval becomes a cron schedule that runs cdp.refresh_segment"
grep -qx 'RAN 1 succeeded' "$out"
ok $? "pg_cron runs the refresh: the segment's member_count is set"
grep -qx 'UNSCHEDULED t f 0' "$out"
ok $? "unschedule_refresh removes the job, and says false when there is none"

grep -v '^ok\|^not ok' "$out" | sed 's/^/# /' | head -40
rm -f "$out"
[ "$failed" -eq 0 ]
