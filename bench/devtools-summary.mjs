// Chrome DevTools' own heap snapshot loader computing the Summary view: the anchor
// that `make bench` times `leakhunt summary` against.
//
//   node bench/devtools-summary.mjs FILE.heapsnapshot [--rows N]
//
// heap-snapshot-toolkit 1.1.3 is a Node build of DevTools' heap_snapshot_worker:
// parse() runs HeapSnapshotLoader and JSHeapSnapshot.initialize() (dominators,
// retained sizes, distances, class names), aggregatesWithFilter({}) gives the
// Summary rows. Prints the class count, the total (Statistics) and the top N
// classes by retained size (default 20) as tab-separated text on stdout, and
// the phase timings on stderr. bench/compare.mjs checks leakhunt against it.
import { createReadStream } from 'node:fs';
import { parse } from 'heap-snapshot-toolkit';

const args = process.argv.slice(2);
let rows = 20;
const files = [];
for (let i = 0; i < args.length; i++) {
	if (args[i] === '--rows') rows = Number(args[++i]);
	else files.push(args[i]);
}
if (files.length !== 1) {
	console.error('usage: node devtools-summary.mjs FILE.heapsnapshot [--rows N]');
	process.exit(2);
}

const t0 = performance.now();
const snap = await parse(createReadStream(files[0], 'utf-8'));
const t1 = performance.now();
const aggregates = await snap.aggregatesWithFilter({});
const t2 = performance.now();

const list = Object.entries(aggregates).map(([key, a]) => ({ key, ...a }));
list.sort((a, b) => b.maxRet - a.maxRet);
const total = snap.getStatistics ? snap.getStatistics().total : undefined;
console.log(`classes\t${list.length}`);
console.log(`nodes\t${snap.nodeCount}`);
if (total !== undefined) console.log(`total\t${total}`);
console.log('key\tname\tcount\tself\tmaxRet\tdistance');
for (const a of list.slice(0, rows))
	console.log(`${a.key}\t${a.name}\t${a.count}\t${a.self}\t${a.maxRet}\t${a.distance}`);
console.error(`devtools-summary: parse+init ${((t1 - t0) / 1000).toFixed(2)} s, ` +
	`summary ${((t2 - t1) / 1000).toFixed(2)} s, rss ${(process.memoryUsage().rss / 1048576).toFixed(0)} MB`);
