#!/usr/bin/env node
// The target for bench/capture.sh: a quiet node process holding a heap whose
// snapshot is about SNAPSHOT_MB megabytes, that writes its own heap snapshot
// (v8.writeHeapSnapshot, the in-process anchor) when told to on stdin.
//
//   node --max-old-space-size=N bench/capture-target.js SNAPSHOT_MB
//
// Prints "ready OBJECTS HEAP_USED RSS" once the heap is built.  Then, for each
// line "write FILE" on stdin, writes FILE and prints "wrote FILE MS", MS
// being the time of the writeHeapSnapshot() call alone, measured in the
// process.  Between commands the process is idle (a timer keeps it alive),
// so `leakhunt snapshot PID` sees the same heap.
//
// The heap: request-like records of several classes (strings, arrays, a Map,
// a Date, a closure each) on top of node's own ~3 MB of snapshot.
'use strict';

const v8 = require('v8');
const readline = require('readline');

const want = Number(process.argv[2]);
if (!(want > 0)) {
	console.error('usage: node capture-target.js SNAPSHOT_MB');
	process.exit(2);
}

class Customer {
	constructor(id) {
		this.id = id;
		this.name = 'customer-' + id;
		this.email = `c${id}@example.com`;
	}
}

class Entry {
	constructor(n, customer) {
		this.n = n;
		this.customer = customer;
		this.path = `/orders/${n}?c=${customer.id}`;
		this.items = [n, n + 1, n * 3];
		this.meta = new Map([['ref', 'r' + n]]);
		this.at = new Date(1700000000000 + n * 1000);
		this.render = () => `${this.path} ${this.customer.name}`;
	}
}

// Records per MB of snapshot, measured on node 20: 20,000 records gave 27.3 MB.
const RECORDS_PER_MB = 820;

const customers = [];
for (let i = 0; i < 10000; i++)
	customers.push(new Customer(i));
globalThis.entries = [];
const records = Math.max(0, Math.round((want - 3) * RECORDS_PER_MB));
for (let n = 0; n < records; n++)
	entries.push(new Entry(n, customers[n % customers.length]));

const mu = process.memoryUsage();
console.log('ready', records, mu.heapUsed, mu.rss);

setInterval(() => {}, 60000);
readline.createInterface({ input: process.stdin }).on('line', (line) => {
	const m = /^write (.+)$/.exec(line);
	if (!m)
		return;
	const t0 = process.hrtime.bigint();
	v8.writeHeapSnapshot(m[1]);
	const ms = Number(process.hrtime.bigint() - t0) / 1e6;
	console.log('wrote', m[1], ms.toFixed(1));
});
