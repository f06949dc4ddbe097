#!/usr/bin/env bash
# clients.sh: real clients read cdp as BI tools do.  A login role granted
# cdp_reader connects over TCP with Node.js (npm pg) and Python (psycopg2 +
# pandas.read_sql), reads a view with typed values and hears NOTIFY cdp_changes.
set -uo pipefail
cd "$(dirname "$0")/../clients"
db=cdp_clients_$$
login=cdp_client_$$
password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
work=$(mktemp -d)
trap 'rm -rf "$work"; dropdb --if-exists "$db" >/dev/null 2>&1; psql -X -q -d postgres -c "DROP ROLE IF EXISTS $login" >/dev/null 2>&1' EXIT

echo "1..20"
{
	n=0
	ok() {	# ok <status> <description>
		if [ "$1" -eq 0 ]; then echo "ok - $2"; else echo "not ok - $2"; fi
	}

	# npm install on first run (the registry is reachable from the test machines)
	if [ ! -d node_modules/pg ]; then
		npm install --no-audit --no-fund --silent >"$work/npm.log" 2>&1
	fi
	[ -d node_modules/pg ]
	ok $? "setup: npm package pg is installed in test/clients"
	sed 's/^/# /' "$work/npm.log" 2>/dev/null

	createdb "$db" && psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v login="$login" -v password="$password" \
		>"$work/setup.log" 2>&1 <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION cdp;
SELECT cdp.create_roles();
CREATE ROLE :"login" LOGIN PASSWORD :'password' IN ROLE cdp_reader;
SELECT cdp.define_profile('customer', 'contact', '[{"slug": "tier", "type": "text"}, {"slug": "ltv", "type": "number"},
    {"slug": "birthday", "type": "date"}, {"slug": "since", "type": "datetime"}, {"slug": "vip", "type": "boolean"},
    {"slug": "work_email", "type": "email"}]');
SELECT cdp.define_taxonomy('interests', '{contact}');
SELECT cdp.add_term('interests', 'sports/football');
SELECT cdp.resolve('{"email": "alice@example.com"}') AS alice \gset
SELECT cdp.update_contact(:alice, 'Alice', 'Archer');
SELECT cdp.set_profile(:alice, 'customer', '{"tier": "gold", "ltv": 1234.5, "birthday": "1990-05-01",
    "since": "2024-03-01T12:00:00Z", "vip": true, "work_email": "Alice@work.example.com"}');
SELECT cdp.tag('contact', :alice, 'VIP/Gold', 'Beta');
SELECT cdp.classify('contact', :alice, 'interests', 'sports/football');
SELECT cdp.track('{"email": "alice@example.com"}', 'purchase');
SELECT cdp.track('{"email": "alice@example.com"}', 'purchase');
SELECT cdp.resolve('{"email": "bob@example.com"}') AS bob \gset
SELECT cdp.update_contact(:bob, 'Bob', 'Baker');
SELECT cdp.set_profile(:bob, 'customer', '{"tier": "silver"}');
SELECT cdp.resolve('{"email": "carol@example.com"}') AS carol \gset
SELECT cdp.set_profile(:carol, 'customer', '{"tier": "bronze"}');
SELECT cdp.create_segment('customers', 'customer.tier in (''gold'', ''silver'', ''platinum'')');
SELECT cdp.create_view('customers', 'customers', ARRAY['id', 'given_name', 'email', 'customer.tier', 'customer.ltv',
    'customer.birthday', 'customer.since', 'customer.vip', 'customer.work_email', 'tags', 'interests',
    'count(events.purchase)']);
SQL
	ok $? "setup: a database with cdp, the roles, a login granted cdp_reader and a view"
	grep ERROR "$work/setup.log" | sed 's/^/# /'

	q() { psql -X -q -At -d "$db" -c "$1"; }
	contact=$(q "SELECT cdp.find_contact('email', 'bob@example.com')")
	# The change feed sends NOTIFY cdp_changes once it exists; before, a manual NOTIFY stands in.
	feed=manual
	[ "$(q "SELECT to_regclass('cdp.changes') IS NOT NULL")" = t ] && feed=real
	export CDP_READER_URL="postgresql://$login:$password@127.0.0.1:${PGPORT:-5432}/$db?options=-c%20TimeZone%3DUTC"
	export CDP_WRITER_URL="postgresql://${PGUSER:-postgres}${PGPASSWORD:+:$PGPASSWORD}@127.0.0.1:${PGPORT:-5432}/$db"
	export CDP_LOGIN=$login CDP_VIEW=customers CDP_CONTACT=$contact CDP_FEED=$feed

	node read_view.js 2>&1 | sed '/^\(not \)\?ok /!s/^/# /'
	# Debian's python3 (python3-psycopg2, python3-pandas), whatever python3 is first on PATH
	/usr/bin/python3 read_view.py 2>&1 | sed '/^\(not \)\?ok /!s/^/# /'
} | awk '/^(not )?ok - / { n++; sub(/ - /, " " n " - ") } { print }'
