#!/usr/bin/env node
// A heap snapshot whose strings section is longer than V8's longest string
// (0x1fffffe8 = 536,870,888 characters), for `make bench` with BENCH_XL=1.
//
//   node --max-old-space-size=8000 bench/strbig.js [COUNT] OUT.heapsnapshot
//
// Keeps COUNT (default 600,000) distinct 1000-character strings alive, so the
// snapshot's "strings" array alone is about 600 M characters. Loaders that collect
// the strings section into one JS string (DevTools, memlab) fail on it with
// "RangeError: Invalid string length"; the file itself is only ~650 MB.
'use strict';

const v8 = require('v8');

const argv = process.argv.slice(2);
const out = argv.pop();
const count = argv.length ? Number(argv[0]) : 600000;
if (!out || !Number.isInteger(count) || count <= 0) {
	console.error('usage: node strbig.js [COUNT] OUT.heapsnapshot');
	process.exit(2);
}

const LEN = 1000;	// V8 cuts snapshot strings at 1024 characters
const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const block = alphabet.repeat(Math.ceil(2 * LEN / alphabet.length));
const keep = new Array(count);
for (let i = 0; i < count; i++) {
	// a unique prefix, then a window of the block: distinct, flat (not a cons or
	// sliced string, whose text the snapshot does not hold)
	const head = i.toString(36).padStart(8, '0') + ':';
	const off = (i * 7) % alphabet.length;
	const s = head + block.slice(off, off + LEN - head.length);
	keep[i] = Buffer.from(s, 'latin1').toString('latin1');	// a flat sequential string
}
globalThis.__strbig = keep;

const t0 = Date.now();
v8.writeHeapSnapshot(out);
const chars = count * LEN;
console.error(`strbig.js: ${count} strings of ${LEN} chars (${chars} chars, limit 536870888) ` +
	`-> ${out} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
