// A small leaky app: a growing cache Map, a request log, closures, Buffers.
const v8 = require('v8');
class Order { constructor(i) { this.id = i; this.items = [{sku: 'a' + i, qty: i}]; this.when = new Date(); } }
const cache = new Map();
const log = [];
for (let i = 0; i < 3000; i++) {
  cache.set('k' + i, { order: new Order(i), render: () => i, nums: [i, i + 1] });
  if (i % 3 === 0) log.push({ t: i, msg: 'req ' + i });
}
const wm = new WeakMap(); const keys = [];
for (let i = 0; i < 500; i++) { const k = { key: i }; keys.push(k); wm.set(k, { value: i, big: new Array(10).fill(i) }); }
function mk(n) { let x = { n }; return () => x; }
const closures = []; for (let i = 0; i < 300; i++) closures.push(mk(i));
const ws = new WeakSet(keys.slice(0, 10)); const wr = new WeakRef(keys[0]);
globalThis.keep = { cache, log, wm, closures, ws, wr, buf: Buffer.alloc(10000) };
v8.writeHeapSnapshot(process.argv[2]);
