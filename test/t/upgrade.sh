#!/usr/bin/env bash
# upgrade.sh: ALTER EXTENSION cdp UPDATE from 0.1.0 through 0.2.0 keeps every
# row, makes segments work on the old data and leaves the same schema as a
# fresh install.  Database A is made by the frozen 0.1.0 install script
# (test/upgrade/README), filled through the 0.1.0 API, updated to 0.2.0, given
# a segment, and updated to the current version; database B is a fresh CREATE
# EXTENSION cdp with the same definitions.  Their schemas are compared through pg_dump --binary-upgrade,
# the one pg_dump mode that prints extension members (a plain -n cdp dump
# prints CREATE EXTENSION only), so a function or table that the upgrade
# script makes differently from the install script fails the test.
set -uo pipefail
cd "$(dirname "$0")/../.."
prefix=cdp_upgrade_$$
work=$(mktemp -d)
frozen=$(pg_config --sharedir)/extension/cdp--0.1.0.sql
cleanup() {
	rm -f "$frozen"
	rm -rf "$work"
	dropdb --if-exists "${prefix}_a" >/dev/null 2>&1
	dropdb --if-exists "${prefix}_b" >/dev/null 2>&1
}
trap cleanup EXIT
n=0
failed=0
ok() {	# ok <status> <description>
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
A=${prefix}_a
B=${prefix}_b

# The definitions both databases get (A under 0.1.0, B fresh).
definitions="
SELECT cdp.define_profile('customer', 'contact', '[{\"slug\": \"tier\", \"type\": \"text\"},
    {\"slug\": \"ltv\", \"type\": \"number\"}, {\"slug\": \"vip\", \"type\": \"boolean\"},
    {\"slug\": \"billing\", \"type\": \"email\", \"options\": [\"Billing@Ann.example\", \"cy@example.com\"]},
    {\"slug\": \"cc\", \"type\": \"email\", \"array\": true, \"pattern\": \"@\"}]');
SELECT cdp.alter_profile('customer', '[{\"slug\": \"topics\", \"type\": \"text\", \"array\": true}]');
SELECT cdp.define_document_template('invoice', '[{\"slug\": \"total\", \"type\": \"number\"}]');
"

# Every row of every table and sequence registered with
# pg_extension_config_dump and of every cdp_data table, one line per relation
# (the generated statements of data_tables are made again by the update).
fingerprint="
SELECT r::text || ' ' || regexp_replace(query_to_xml(format(CASE WHEN c.relkind = 'S'
                                  THEN 'SELECT last_value, is_called FROM %s'
                                  WHEN r = 'cdp_internal.data_tables'::regclass
                                  THEN 'SELECT count(*), md5(string_agg(row(t.owner_type, t.slug, t.data_table, t.key_column, t.attribute_slugs)::text, ''|'' ORDER BY t.slug)) FROM %s t'
                                  ELSE 'SELECT count(*), md5(string_agg(t::text, ''|'' ORDER BY t::text)) FROM %s t' END, r),
                                  false, false, '')::text, '</?table[^>]*>|\s+', ' ', 'g')
  FROM pg_class c, LATERAL (SELECT c.oid::regclass) x(r)
 WHERE c.oid IN (SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'cdp')
    AND c.oid <> 'cdp_internal.data_tables_generation_seq'::regclass
    OR (c.relnamespace = 'cdp_data'::regnamespace AND c.relkind = 'r')
 ORDER BY 1"

echo "1..17"

cp test/upgrade/cdp--0.1.0.sql "$frozen" &&
	createdb "$A" && psql -X -q -v ON_ERROR_STOP=1 -d "$A" >"$work/setup.log" 2>&1 <<SQL
CREATE EXTENSION cdp VERSION '0.1.0';
SELECT cdp.resolve('{"email": "ann@example.com", "phone": "+16502530000"}');
SELECT cdp.resolve('{"email": "bob@example.com"}');
SELECT cdp.resolve('{"email": "cy@example.com"}');
SELECT cdp.resolve('{"email": "bob@example.com", "phone": "+16502530000"}');
$definitions
SELECT cdp.set_profile(cdp.find_contact('email', 'ann@example.com'), 'customer',
                       '{"tier": "gold", "ltv": 250.5, "vip": true, "topics": ["golf", "tennis"],
                         "billing": "Billing@Ann.example", "cc": ["X.Y@Example.COM"]}');
SELECT cdp.set_profile(cdp.find_contact('email', 'cy@example.com'), 'customer', '{"tier": "silver", "ltv": 40}');
SELECT cdp.tag('contact', cdp.find_contact('email', 'cy@example.com'), 'VIP');
SELECT cdp.track('{"email": "ann@example.com"}', 'purchase', '{"amount": 30}');
SELECT cdp.track('{"email": "cy@example.com"}', 'purchase', '{"amount": 5}');
SELECT cdp.track('{"email": "cy@example.com"}', 'purchase', '{"amount": 7}');
SELECT cdp.create_document('invoice', cdp.find_contact('email', 'ann@example.com'), '{"total": 99}');
-- Blocked values as an administrator wrote them under 0.1.0.
UPDATE cdp.identifier_kinds SET blocked_values = '{"Test@Example.com ", "not-an-email"}' WHERE kind = 'email';
-- A profile whose column an administrator indexed by hand under 0.1.0.
SELECT cdp.define_profile('legacy', 'contact', '[{"slug": "code", "type": "text"}]');
CREATE INDEX legacy_code_by_hand ON cdp_data.profile_legacy (code);
SQL
ok $? "0.1.0 installs from its frozen script and takes contacts, a profile, a tag, events and a document"
grep ERROR "$work/setup.log" | sed 's/^/# /'
# Only CREATE EXTENSION needs the 0.1.0 install script.
rm -f "$frozen"

q "$A" "$fingerprint" >"$work/before" 2>&1
q "$A" "ALTER EXTENSION cdp UPDATE TO '0.2.0'" 2>"$work/update.log" &&
	q "$A" "SELECT cdp.create_segment('billed', 'customer.billing is not null')" >/dev/null 2>>"$work/update.log"
ok $? "ALTER EXTENSION cdp UPDATE TO '0.2.0' succeeds, and 0.2.0 saves a segment"
q "$A" "ALTER EXTENSION cdp UPDATE" 2>>"$work/update.log"
ok $? "ALTER EXTENSION cdp UPDATE from 0.2.0 to the current version succeeds"
sed 's/^/# /' "$work/update.log"

version=$(sed -n "s/^default_version = '\(.*\)'$/\1/p" cdp.control)
[ "$(q "$A" "SELECT extversion FROM pg_extension WHERE extname = 'cdp'")" = "$version" ]
ok $? "the extension is at version $version"

# Only email values and blocked values change: see the next tests.
q "$A" "$fingerprint" >"$work/after" 2>&1
missing=$(grep -vxFf "$work/after" "$work/before")
[ -s "$work/before" ] && [ "$(echo "$missing" | cut -d ' ' -f 1 | tr '\n' ' ')" = "cdp.identifier_kinds cdp_data.profile_customer " ]
ok $? "every row of every config table, sequence and cdp_data table is unchanged by the update, but for email and blocked values"
echo "$missing" | grep -v -e '^cdp_data.profile_customer ' -e '^cdp.identifier_kinds ' | sed 's/^/# changed: /'

[ "$(q "$A" "SELECT blocked_values::text FROM cdp.identifier_kinds WHERE kind = 'email';
             SELECT cdp.resolve('{\"email\": \"TEST@example.com\"}') IS NULL")" = "{test@example.com}
t" ] && grep -q "WARNING:  blocked value 'not-an-email' of identifier kind \"email\" is dropped" "$work/update.log"
ok $? "blocked values written under 0.1.0 are normalised (and block), one the normaliser refuses is dropped with a WARNING"

[ "$(q "$A" "SELECT billing || ' ' || cc::text || ' ' || pg_typeof(billing) FROM cdp_data.profile_customer
              WHERE contact_id = cdp.find_contact('email', 'ann@example.com')")" = \
  "Billing@ann.example {x.y@example.com} cdp.email_address" ]
ok $? "email attributes become cdp.email_address; a value with options is the option as written, others keep their key"

[ "$(q "$A" "SELECT cdp.find_contact('email', 'ann@example.com') = cdp.find_contact('email', 'bob@example.com'),
                    (SELECT count(*) FROM cdp.contacts WHERE merged_into IS NULL),
                    (SELECT tier || ' ' || ltv || ' ' || topics::text FROM cdp_data.profile_customer
                      WHERE contact_id = cdp.find_contact('email', 'ann@example.com')),
                    (SELECT count(*) FROM cdp.events WHERE name = 'purchase'),
                    (SELECT string_agg(t.path, ',') FROM cdp.tags t)")" = \
  "t|2|gold 250.5 {golf,tennis}|3|VIP" ]
ok $? "the merged contact, its profile values, the events and the tag read as before"

[ "$(q "$A" "SELECT tablename || ': ' || string_agg(regexp_replace(indexdef, '^.* USING ', ''), ', ' ORDER BY indexdef)
              FROM pg_indexes WHERE schemaname = 'cdp_data' AND indexname NOT LIKE '%_pkey'
               AND tablename IN ('profile_customer', 'document_invoice')
             GROUP BY tablename ORDER BY tablename" | tr '\n' ';')" = \
  "document_invoice: btree (total);profile_customer: btree (billing), gin (cc), btree (ltv), btree (tier), gin (topics);" ]
ok $? "profile and template tables of 0.1.0 get an index per comparable attribute (none for a boolean)"

[ "$(q "$A" "SELECT string_agg(indexname, ',') FROM pg_indexes
              WHERE tablename = 'profile_legacy' AND indexname NOT LIKE '%_pkey'")" = legacy_code_by_hand ]
ok $? "a column already indexed by hand is not indexed twice"

[ "$(q "$A" "SELECT cdp.create_segment('gold', 'customer.tier = ''gold'''); SELECT cdp.count('gold')" |
	tail -n 1)" = 1 ]
ok $? "a saved segment over a profile defined under 0.1.0 counts its member"

[ "$(q "$A" "SELECT cdp.count('has profile customer'::cdp.segment),
                    cdp.count('customer.ltv > 30 and event ''purchase'' count >= 2'::cdp.segment),
                    cdp.count('tag ''VIP'' or customer.topics contains ''golf'''::cdp.segment),
                    cdp.count('document invoice (invoice.total > 50)'::cdp.segment),
                    cdp.count('not has profile customer'::cdp.segment)")" = "2|1|2|1|0" ]
ok $? "segments over 0.1.0 profiles, events, tags and documents count the right contacts"

q "$A" "SELECT cdp.alter_profile('customer', drop => '{tier}')" >/dev/null 2>"$work/drop.log"
[ $? -ne 0 ] && grep -q 'cannot drop attribute "tier" of profile "customer" because it is used' "$work/drop.log"
ok $? "the updated alter_profile refuses to drop an attribute that a saved segment uses"
grep -m 1 ERROR "$work/drop.log" | sed 's/^/# /'

# B gets the same definitions; A loses what B does not have.
createdb "$B" && psql -X -q -v ON_ERROR_STOP=1 -d "$B" >"$work/fresh.log" 2>&1 <<SQL &&
CREATE EXTENSION cdp;
$definitions
SQL
	q "$A" "SELECT cdp.drop_segment('gold'); SELECT cdp.drop_segment('billed'); SELECT cdp.drop_profile('legacy')" >/dev/null
ok $? "a fresh install takes the same definitions"
grep ERROR "$work/fresh.log" | sed 's/^/# /'

# OIDs, xids, sequence positions and the dump's random \restrict key differ
# between any two databases; everything else is compared, in blocks sorted by
# their "-- Name:" headers so that an order pg_dump breaks ties by OID does
# not count.
schema() {
	pg_dump --schema-only --binary-upgrade -d "$1" 2>"$work/dump_$1.log" |
		grep -v -e '^\\restrict ' -e '^\\unrestrict ' -e 'binary_upgrade_set_next_' \
			-e '^SELECT pg_catalog.setval(' |
		sed -E -e "s/(binary_upgrade_create_empty_extension\('cdp', 'cdp', false, '[^']*', )'\{[0-9,]*\}'/\1'{OIDS}'/" \
			-e "s/relfrozenxid = '[0-9]+', relminmxid = '[0-9]+'/relfrozenxid = XID, relminmxid = XID/" \
			-e "s/WHERE oid = '[0-9]+'/WHERE oid = OID/" |
		awk '/^-- Name: /{ if (b != "") print b; b = "" } { b = b $0 "\037" } END { print b }' |
		sort | tr '\037' '\n'
}
schema "$A" >"$work/schema_a" && schema "$B" >"$work/schema_b" &&
	grep -q 'CREATE FUNCTION cdp.create_segment' "$work/schema_a" &&
	diff -u "$work/schema_b" "$work/schema_a" >"$work/schema.diff"
ok $? "the updated database has the schema of a fresh install (pg_dump --binary-upgrade, cdp, cdp_internal, cdp_data)"
head -n 60 "$work/schema.diff" | sed 's/^/# /'

extconfig="SELECT string_agg(c::regclass::text || coalesce(' ' || nullif(w, ''), ''), E'\n' ORDER BY c::regclass::text)
             FROM pg_extension, unnest(extconfig, extcondition) AS u(c, w) WHERE extname = 'cdp'"
[ "$(q "$A" "$extconfig")" = "$(q "$B" "$extconfig")" ] && q "$A" "$extconfig" | grep -qx 'cdp.segments'
ok $? "the same tables and sequences are registered with pg_extension_config_dump"
diff <(q "$B" "$extconfig") <(q "$A" "$extconfig") | sed 's/^/# /'

[ "$(q "$A" "SELECT cdp.set_profile(cdp.find_contact('email', 'cy@example.com'), 'customer', '{\"tier\": \"gold\"}');
             SELECT cdp.count('customer.tier = ''gold'''::cdp.segment)" | tail -n 1)" = 2 ]
ok $? "writes after the update go through the new functions and show in segments"

[ "$failed" -eq 0 ]
