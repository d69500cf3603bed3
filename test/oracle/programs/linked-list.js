// A 250,000-long singly linked list, as a queue or a chain of callbacks
// leaks: the dominator tree is as deep as the list, and every link also
// points at the shared hidden class, whose dominator is the list's head.
const v8 = require('v8');
class Link { constructor(next) { this.next = next; this.tag = 'link'; } }
let head = null;
for (let i = 0; i < 250000; i++) head = new Link(head);
class Tail { constructor() { this.payload = new Array(100).fill(1); } }
let last = head;
while (last.next) last = last.next;
last.tail = new Tail();
globalThis.__keep = { head };
last = null;
v8.writeHeapSnapshot(process.argv[2]);
