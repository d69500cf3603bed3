// Does leakhunt compute the same Summary as DevTools' loader?  Used by run.sh so
// that the timings compare the same work.
//
//   node bench/compare.mjs DEVTOOLS_OUT LEAKHUNT_JSON
//
// DEVTOOLS_OUT is what bench/devtools-summary.mjs printed; LEAKHUNT_JSON is
// `leakhunt summary --json --all FILE`.  Prints one line: the class count, the
// total and how many of DevTools' top rows (by retained size) leakhunt has with
// the same count, shallow size, retained size and distance; exit 1 if any differ.
import { readFileSync } from 'node:fs';

const [dtFile, lhFile] = process.argv.slice(2);
if (!lhFile) {
	console.error('usage: node compare.mjs DEVTOOLS_OUT LEAKHUNT_JSON');
	process.exit(2);
}
const dt = { rows: [] };
for (const line of readFileSync(dtFile, 'utf8').split('\n')) {
	const f = line.split('\t');
	if (f[0] === 'classes') dt.classes = Number(f[1]);
	else if (f[0] === 'total') dt.total = Number(f[1]);
	else if (f.length === 6 && f[0] !== 'key')
		dt.rows.push({ key: f[0], name: f[1], count: +f[2], self: +f[3], maxRet: +f[4], distance: +f[5] });
}
const lh = JSON.parse(readFileSync(lhFile, 'utf8'));
const byKey = new Map(lh.classes.map((c) => [c.key, c]));
const bad = [];
let same = 0;
for (const r of dt.rows) {
	const c = byKey.get(r.key);
	if (c && c.count === r.count && c.shallow_size === r.self &&
	    Math.round(c.retained_size) === Math.round(r.maxRet) && c.distance === r.distance) {
		same++;
		continue;
	}
	bad.push(c ? `${r.name}: DevTools ${r.count}/${r.self}/${r.maxRet}/${r.distance}, ` +
		`leakhunt ${c.count}/${c.shallow_size}/${c.retained_size}/${c.distance}` : `${r.name}: missing`);
}
const classesOk = lh.class_count === dt.classes;
const totalOk = dt.total === undefined || lh.total_size === dt.total;
console.log(`classes ${lh.class_count} (DevTools ${dt.classes}), total ${lh.total_size} (DevTools ${dt.total}), ` +
	`top ${dt.rows.length} rows identical: ${same}/${dt.rows.length}` + (bad.length ? `; differ: ${bad.slice(0, 3).join('; ')}` : ''));
process.exit(classesOk && totalOk && !bad.length ? 0 : 1);
