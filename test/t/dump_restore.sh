#!/usr/bin/env bash
# dump_restore.sh: pg_dump keeps cdp's user data.  A database with contacts,
# merges, a forgotten person, an administrator's kind and a profile is dumped
# and restored; the restored one has the same rows, still refuses the
# forgotten identifiers (the salt came along) and continues the sequences.
set -uo pipefail
prefix=cdp_dump_$$
work=$(mktemp -d)
trap 'rm -rf "$work"; dropdb --if-exists "${prefix}_src" >/dev/null 2>&1; dropdb --if-exists "${prefix}_dst" >/dev/null 2>&1' EXIT
n=0
failed=0
ok() {	# ok <status> <description>
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

echo "1..7"
createdb "${prefix}_src" && psql -X -q -v ON_ERROR_STOP=1 -d "${prefix}_src" >"$work/setup.log" 2>&1 <<'SQL'
CREATE EXTENSION cdp;
INSERT INTO cdp.identifier_kinds (kind, title, normalizer, priority) VALUES ('crm_id', 'CRM id', 'text', 7);
UPDATE cdp.identifier_kinds SET max_per_contact = 3, blocked_values = '{test@example.com}',
       blocked_patterns = '{%@mailinator.com}' WHERE kind = 'email';
UPDATE cdp.identifier_kinds SET priority = 9, title = 'Device' WHERE kind = 'uuid';
SELECT cdp.resolve('{"email": "a@example.com", "crm_id": "C1"}');
SELECT cdp.resolve('{"email": "b@example.com"}');
SELECT cdp.resolve('{"phone": "+16502530000", "crm_id": "C2"}');
SELECT cdp.resolve('{"email": "b@example.com", "phone": "+16502530000"}');
SELECT cdp.resolve('{"email": "c@example.com"}');
SELECT cdp.resolve('{"crm_id": "C3"}');
SELECT cdp.resolve('{"email": "c@example.com", "crm_id": "C3"}');
SELECT cdp.unmerge((SELECT max(id) FROM cdp.merges));
SELECT cdp.forget_contact(cdp.find_contact('crm_id', 'C1'));
SELECT cdp.define_profile('customer', 'contact', '[{"slug": "tier", "type": "text"}]');
SELECT cdp.set_profile(cdp.find_contact('email', 'b@example.com'), 'customer', '{"tier": "gold"}');
SQL
ok $? "a database with contacts, merges, an unmerge, a forgotten person, a kind and a profile"
grep ERROR "$work/setup.log" | sed 's/^/# /'

pg_dump -Fc -f "$work/cdp.dump" "${prefix}_src" 2>"$work/dump.log" &&
	createdb "${prefix}_dst" && pg_restore -d "${prefix}_dst" "$work/cdp.dump" 2>"$work/restore.log"
ok $? "pg_dump and pg_restore succeed"
grep -i error "$work/restore.log" | sed 's/^/# /'

rows="SELECT 'contacts', count(*), md5(string_agg(c::text, '|' ORDER BY id)) FROM cdp.contacts c
      UNION ALL SELECT 'identifiers', count(*), md5(string_agg(i::text, '|' ORDER BY id)) FROM cdp.identifiers i
      UNION ALL SELECT 'merges', count(*), md5(string_agg(m::text, '|' ORDER BY id)) FROM cdp.merges m
      UNION ALL SELECT 'merge_blocks', count(*), md5(string_agg(b::text, '|')) FROM cdp.merge_blocks b
      UNION ALL SELECT 'kinds', count(*), md5(string_agg(k::text, '|' ORDER BY kind)) FROM cdp.identifier_kinds k
      UNION ALL SELECT 'suppressions', count(*), md5(string_agg(s::text, '|' ORDER BY value_hash)) FROM cdp.suppressions s
      UNION ALL SELECT 'profile', count(*), md5(string_agg(p::text, '|')) FROM cdp_data.profile_customer p"
[ "$(q "${prefix}_src" "$rows")" = "$(q "${prefix}_dst" "$rows")" ]
ok $? "every user-data table has the same rows after the restore"

[ "$(q "${prefix}_dst" "SELECT string_agg(k::text, '|' ORDER BY kind) FROM cdp.identifier_kinds k WHERE kind IN ('email', 'uuid')")" = \
  "$(q "${prefix}_src" "SELECT string_agg(k::text, '|' ORDER BY kind) FROM cdp.identifier_kinds k WHERE kind IN ('email', 'uuid')")" ] &&
	[ "$(q "${prefix}_dst" "SELECT max_per_contact || ' ' || priority FROM cdp.identifier_kinds WHERE kind = 'email'") " = "3 3 " ]
ok $? "an administrator's changes to built-in kinds (a limit, blocked values, a priority) survive the restore"

q "${prefix}_dst" "SELECT cdp.resolve('{\"email\": \"a@example.com\"}')" 2>"$work/forgotten.log"
[ $? -ne 0 ] && grep -q "belongs to a forgotten person" "$work/forgotten.log"
ok $? "the restored database still refuses the forgotten person's identifiers"

[ "$(q "${prefix}_dst" "SELECT cdp.resolve('{\"email\": \"d@example.com\"}')")" = \
  "$(q "${prefix}_src" "SELECT cdp.resolve('{\"email\": \"d@example.com\"}')")" ]
ok $? "the sequences continue where they were"

[ "$(q "${prefix}_dst" "SELECT cdp.find_contact('phone', '+16502530000') = cdp.find_contact('crm_id', 'C2')")" = t ]
ok $? "resolution works on the restored data (merged contacts stay merged)"

[ "$failed" -eq 0 ]
