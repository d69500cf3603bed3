// WeakMaps (ephemerons), WeakRefs, closures sharing contexts, classes with
// and without locations, and a reference cycle that only weak edges reach.
const v8 = require('v8');
class Node2 { constructor(v, next) { this.v = v; this.next = next; } }
class Registry { constructor() { this.byKey = new WeakMap(); this.list = []; } }
const reg = new Registry();
let head = null;
for (let i = 0; i < 2000; i++) {
	head = new Node2(i, head);
	if (i % 2) reg.byKey.set(head, { meta: i, payload: 'p'.repeat(i % 50) });
	if (i % 5 === 0) reg.list.push(head);
}
function counter() { let c = 0; const inc = () => ++c; const get = () => c; return { inc, get }; }
const counters = Array.from({ length: 400 }, counter);
const refs = Array.from({ length: 100 }, (_, i) => new WeakRef({ dead: i }));
const ring = { a: {} }; ring.a.b = { c: ring };
const weakOnly = new WeakMap(); weakOnly.set(reg, ring);
const sym = Symbol('s');
globalThis.__keep = { reg, head, counters, refs, weakOnly, [sym]: new Set([1, 2, 3]), big: 2n ** 100n, re: /ab+c/g, f64: new Float64Array(100) };
v8.writeHeapSnapshot(process.argv[2]);
