// normalize_phones.js: the baseline of benchmark (c).  Reads "id<TAB>number
// <TAB>region" lines, normalises each number with libphonenumber-js
// (parsePhoneNumber(x, region).number, kept only when isValid()), times the
// normalisation loop alone (best of RUNS, after one warm-up pass) and writes
// "id<TAB>e164" (\N when not valid) for comparison in SQL.
//   node normalize_phones.js IN OUT [max|min] [RUNS]
'use strict';
const fs = require('fs');

const [input, output, metadata = 'max', runsArg = '3'] = process.argv.slice(2);
const { parsePhoneNumber } = require(metadata === 'min' ? 'libphonenumber-js/min' : 'libphonenumber-js/max');
const runs = parseInt(runsArg, 10);

const lines = fs.readFileSync(input, 'utf8').split('\n');
const ids = [];
const numbers = [];
const regions = [];
for (const line of lines) {
	if (line === '') continue;
	const [id, x, region] = line.split('\t');
	ids.push(id);
	numbers.push(x);
	regions.push(region);
}
const n = numbers.length;
const out = new Array(n);

function normalizeAll() {
	let valid = 0;
	for (let i = 0; i < n; i++) {
		let e164 = null;
		try {
			const p = parsePhoneNumber(numbers[i], regions[i]);
			if (p.isValid()) {
				e164 = p.number;
				valid++;
			}
		} catch (e) {
			// not a number libphonenumber-js can parse
		}
		out[i] = e164;
	}
	return valid;
}

normalizeAll();				// warm-up: JIT and metadata caches
let best = Infinity;
let valid = 0;
for (let r = 0; r < runs; r++) {
	const t0 = process.hrtime.bigint();
	valid = normalizeAll();
	const ms = Number(process.hrtime.bigint() - t0) / 1e6;
	console.error(`  ${ms.toFixed(1)} ms`);
	best = Math.min(best, ms);
}

const buf = [];
for (let i = 0; i < n; i++) buf.push(ids[i] + '\t' + (out[i] === null ? '\\N' : out[i]));
fs.writeFileSync(output, buf.join('\n') + '\n');
console.log(JSON.stringify({ rows: n, valid, best_ms: best }));
