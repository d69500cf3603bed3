// A small Node service with a leak, for leakhunt's demo.
//
// It serves fake requests in a loop.  Each request builds an Order with its
// LineItems, renders it, and (the bug) stores it in a cache Map that is never
// pruned, together with a closure.  It also keeps a listener per request on a
// shared EventEmitter that is never removed.  Everything else it allocates is
// garbage that the GC collects.
//
// usage: node leaky-server.js OUT_DIR [REQUESTS_PER_ROUND]
//   Writes OUT_DIR/before.heapsnapshot after a first round of requests and
//   OUT_DIR/after.heapsnapshot after a second one (v8.writeHeapSnapshot).
// usage: node leaky-server.js --serve [REQUESTS_PER_SECOND]
//   Serves requests until killed, like a real service: snapshot it from the
//   outside with `leakhunt snapshot PID`.
'use strict';
const v8 = require('v8');
const path = require('path');
const { EventEmitter } = require('events');

class LineItem {
  constructor(sku, qty, price) {
    this.sku = sku;
    this.qty = qty;
    this.price = price;
  }
}

class Order {
  constructor(id, user) {
    this.id = id;
    this.user = user;
    this.items = [];
    this.createdAt = new Date();
  }
  total() {
    return this.items.reduce((s, it) => s + it.qty * it.price, 0);
  }
}

const ticks = new EventEmitter();
ticks.setMaxListeners(0);
const cache = new Map(); // the leak: never pruned
globalThis.app = { cache, ticks }; // the app's singletons, reachable from the global object

function handleRequest(i) {
  const order = new Order(i, 'user' + (i % 97));
  for (let k = 0; k < 3; k++)
    order.items.push(new LineItem('sku-' + ((i * 7 + k) % 1000), 1 + k, 9.99 + k));
  const html = '<p>order ' + order.id + ': ' + order.total().toFixed(2) + '</p>';
  const scratch = new Array(20).fill(i); // garbage
  cache.set('order:' + i, { order, render: () => html, size: scratch.length });
  ticks.on('tick', () => order.id); // the second leak: a listener per request
  return html.length;
}

if (process.argv[2] === '--serve') {
  const perSecond = Number(process.argv[3] || 2000);
  let next = 0;
  setInterval(() => {
    for (let k = 0; k < perSecond / 10; k++) handleRequest(next++);
  }, 100);
  console.log(`serving ${perSecond} requests a second as pid ${process.pid}`);
  return;
}

const outDir = process.argv[2] || '.';
const perRound = Number(process.argv[3] || 5000);
let served = 0;
// Snapshots are taken from timers, once the main script has returned, as in a
// running service (while the script runs, its own stack frame holds everything).
setImmediate(() => {
  for (let i = 0; i < perRound; i++) served += handleRequest(i);
  setImmediate(() => {
    const before = v8.writeHeapSnapshot(path.join(outDir, 'before.heapsnapshot'));
    for (let i = perRound; i < 2 * perRound; i++) served += handleRequest(i);
    setImmediate(() => {
      const after = v8.writeHeapSnapshot(path.join(outDir, 'after.heapsnapshot'));
      console.log(`served ${2 * perRound} requests (${served} bytes); wrote ${before} and ${after}`);
    });
  });
});
