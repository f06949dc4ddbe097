// read_view.js: a BI-style reader of cdp with node-postgres (npm "pg"), run by
// test/t/clients.sh; prints one "ok - …" or "not ok - …" line per check.
'use strict';
const pg = require('pg');

// node-postgres returns int8 and numeric as strings (they may not fit a JS
// number); a reader that wants numbers says so, as BI back ends do.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

const env = process.env;
let failed = 0;
function check(cond, what, diag) {
	if (cond) {
		console.log(`ok - node: ${what}`);
	} else {
		failed++;
		console.log(`not ok - node: ${what}`);
		if (diag !== undefined) console.log(`# ${JSON.stringify(diag)}`);
	}
}

async function main() {
	const reader = new pg.Client({ connectionString: env.CDP_READER_URL });
	await reader.connect();
	const who = await reader.query('SELECT current_user AS u, inet_server_addr() IS NOT NULL AS tcp');
	check(who.rows[0].u === env.CDP_LOGIN && who.rows[0].tcp, 'connected over TCP as the login role granted cdp_reader', who.rows[0]);

	const res = await reader.query(`SELECT * FROM cdp_views.${env.CDP_VIEW} ORDER BY id`);
	const alice = res.rows.find((r) => r.given_name === 'Alice');
	check(res.rows.length === 2 && alice !== undefined, 'the view lists the segment members', res.rows.length);
	check(typeof alice.id === 'number' && typeof alice['count(events.purchase)'] === 'number'
		&& alice['count(events.purchase)'] === 2, 'bigint columns (id, event count) are numbers', alice);
	check(typeof alice['customer.ltv'] === 'number' && alice['customer.ltv'] === 1234.5,
		'a number attribute (numeric) is a number', alice['customer.ltv']);
	const bd = alice['customer.birthday'];
	check(bd instanceof Date && bd.getFullYear() === 1990 && bd.getMonth() === 4 && bd.getDate() === 1,
		'a date attribute is a Date', bd);
	check(alice['customer.since'] instanceof Date && alice['customer.since'].toISOString() === '2024-03-01T12:00:00.000Z',
		'a datetime attribute is a Date at the right instant', alice['customer.since']);
	check(Array.isArray(alice.tags) && alice.tags.join(',') === 'Beta,VIP/Gold'
		&& Array.isArray(alice.interests) && alice.interests[0] === 'sports/football',
		'tags and taxonomy terms are arrays of paths', [alice.tags, alice.interests]);
	check(alice['customer.vip'] === true && alice.email === 'alice@example.com'
		&& alice['customer.work_email'] === 'Alice@work.example.com',
		'booleans are booleans, identifiers and cdp.email_address values are strings', alice);

	// The change feed: LISTEN here, commit a change on another connection.
	await reader.query('LISTEN cdp_changes');
	const got = new Promise((resolve) => {
		const timer = setTimeout(() => resolve(null), 10000);
		reader.on('notification', (n) => { clearTimeout(timer); resolve(n); });
	});
	const writer = new pg.Client({ connectionString: env.CDP_WRITER_URL });
	await writer.connect();
	await writer.query('BEGIN');
	if (env.CDP_FEED === 'real') {
		await writer.query("SELECT cdp.set_profile($1, 'customer', '{\"tier\": \"platinum\"}')", [Number(env.CDP_CONTACT)]);
	} else {
		await writer.query('NOTIFY cdp_changes');
	}
	await writer.query('COMMIT');
	const n = await got;
	check(n !== null && n.channel === 'cdp_changes',
		`receives NOTIFY cdp_changes of a change another connection commits (${env.CDP_FEED === 'real' ? 'cdp.set_profile' : 'a manual NOTIFY'})`, n);
	await writer.end();
	const after = await reader.query(`SELECT "customer.tier" FROM cdp_views.${env.CDP_VIEW} WHERE id = $1`, [Number(env.CDP_CONTACT)]);
	check(env.CDP_FEED !== 'real' || (after.rows.length === 1 && after.rows[0]['customer.tier'] === 'platinum'),
		'the view shows the committed change at once', after.rows);
	await reader.end();
}

main().catch((e) => {
	console.log(`not ok - node: the script ran to the end`);
	console.log(`# ${String(e && e.stack || e).split('\n').join('\n# ')}`);
	process.exitCode = 1;
}).then(() => { if (failed) process.exitCode = 1; });
