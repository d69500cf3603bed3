#!/usr/bin/env node
// A fake request server that leaks, for `make bench`.
//
//   node [--max-old-space-size=N] bench/leaky.js REQUESTS OUT_PREFIX [AT,AT,...]
//
// Serves REQUESTS fake requests and writes OUT_PREFIX-AT.heapsnapshot with
// v8.writeHeapSnapshot() after AT requests, for each AT (default: REQUESTS).
// One process writes every snapshot, so node ids match between them (diffs).
//
// What lives on the heap:
//   classes Product, LineItem, Order, User, Session, RequestContext;
//   a Map and a Date per order; a closure per request; garbage that a GC collects
//   (a parsed query object, a split path and the rendered text per request).
//   The RequestContext (with its headers and scratch array) is *not* garbage:
//   the render closure reads ctx.headers.host, so the closure's context keeps
//   the whole ctx alive, the classic "a closure retains more than it uses".
// What leaks (reachable from globalThis.__leakRoot):
//   - an 'tick' EventEmitter listener added per request and never removed;
//   - an unbounded `cache` Map: order id -> {order, render: () => ..., nums};
//   - `requestLog`, an array of one record per request;
//   - `pendingBuffers`, Buffers kept every 16th request;
//   - `user.sessions`, Sets that only grow.
//
// Size: about 2.8 KB of snapshot per request: 34,000 requests ~ 100 MB,
// 370,000 ~ 1 GB (needs --max-old-space-size=20000; V8 needs several times
// the heap in RSS while it writes the snapshot).
'use strict';

const v8 = require('v8');
const { EventEmitter } = require('events');

const argv = process.argv.slice(2);
if (argv.length < 2 || !/^\d+$/.test(argv[0])) {
	console.error('usage: node leaky.js REQUESTS OUT_PREFIX [AT,AT,...]');
	process.exit(2);
}
const REQUESTS = Number(argv[0]);
const PREFIX = argv[1];
const AT = (argv[2] ? argv[2].split(',').map(Number) : [REQUESTS]).sort((a, b) => a - b);
for (const at of AT) {
	if (!Number.isInteger(at) || at < 0 || at > REQUESTS) {
		console.error(`leaky.js: bad snapshot point ${at}`);
		process.exit(2);
	}
}

class Product {
	constructor(id, name, price) {
		this.id = id;
		this.name = name;
		this.price = price;
		this.tags = ['tag' + (id % 7), 'tag' + (id % 11)];
	}
}

class LineItem {
	constructor(product, qty) {
		this.product = product;
		this.qty = qty;
		this.price = product.price * qty + 0.5;	// a double: a heap number
	}
}

class Order {
	constructor(id, user, items) {
		this.id = id;
		this.user = user;
		this.items = items;
		this.createdAt = new Date(1700000000000 + id * 1000);
		this.meta = new Map([['channel', id % 3 ? 'web' : 'app'], ['ref', 'r' + id]]);
		this.total = items.reduce((s, it) => s + it.price, 0);
	}
}

class User {
	constructor(id) {
		this.id = id;
		this.name = 'user-' + id;
		this.email = `user${id}@example.com`;
		this.sessions = new Set();
	}
}

class Session {
	constructor(user, n) {
		this.user = user;
		this.token = `${user.id.toString(36)}-${n.toString(36)}-${(n * 2654435761 >>> 0).toString(16)}`;
		this.started = n;
	}
}

class RequestContext {
	constructor(n, user) {
		this.n = n;
		this.user = user;
		this.headers = { host: 'shop.example', 'x-req': 'req-' + n };
		this.scratch = new Array(8).fill(n);
	}
}

const products = [];
for (let i = 0; i < 500; i++)
	products.push(new Product(i, 'product-' + i, 1 + (i % 97) * 1.25));
const users = [];
for (let i = 0; i < 5000; i++)
	users.push(new User(i));

const emitter = new EventEmitter();
emitter.setMaxListeners(0);
const cache = new Map();
const requestLog = [];
const pendingBuffers = [];

globalThis.__leakRoot = { products, users, emitter, cache, requestLog, pendingBuffers };

function handle(n) {
	const user = users[(n * 7919) % users.length];
	const ctx = new RequestContext(n, user);	// kept alive by render's context, see above
	const query = Object.fromEntries(`user=${user.id}&n=${n}&page=${n % 10}`.split('&').map((kv) => kv.split('=')));
	if (query.page === undefined) throw new Error('bad query');	// query and its arrays: garbage
	const nitems = 1 + (n % 4);
	const items = [];
	for (let i = 0; i < nitems; i++)
		items.push(new LineItem(products[(n * 31 + i * 17) % products.length], 1 + (i % 3)));
	const order = new Order(n, user, items);
	if (n % 2 === 0)
		user.sessions.add(new Session(user, n));
	// a closure per request, kept by the cache entry
	const render = () => `order ${order.id} for ${user.name}: ${order.total.toFixed(2)} (${ctx.headers.host})`;
	cache.set(order.id, { order, render, nums: [n, n + 1, n * 3, order.total] });
	// the listener that is never removed
	emitter.on('tick', function onTick() { return order.id; });
	requestLog.push({ n, path: `/orders/${n}?user=${user.id}`, status: 200, t: n / 1000 + 0.25, ms: (n % 100) * 0.37 + 0.1 });
	if (n % 16 === 0)
		pendingBuffers.push(Buffer.alloc(256, n & 0xff));
	return render();
}

let done = 0;
const t0 = Date.now();
for (const at of AT) {
	for (; done < at; done++)
		handle(done);
	const file = `${PREFIX}-${at}.heapsnapshot`;
	const t1 = Date.now();
	v8.writeHeapSnapshot(file);
	const mu = process.memoryUsage();
	console.error(`leaky.js: ${at} requests: wrote ${file} in ${((Date.now() - t1) / 1000).toFixed(1)} s ` +
		`(heapUsed ${(mu.heapUsed / 1048576).toFixed(0)} MB, rss ${(mu.rss / 1048576).toFixed(0)} MB)`);
}
for (; done < REQUESTS; done++)
	handle(done);
console.error(`leaky.js: ${REQUESTS} requests in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
