// Two snapshots of one process with objects both created and freed between
// them, so a Comparison has new and deleted instances in many classes; and a
// plain-object shape that is rare in the first snapshot and common in the
// second, so which snapshot's inferred interface names a diff applies shows.
// usage: node churn-two.js OLD.heapsnapshot NEW.heapsnapshot
'use strict'
const v8 = require('v8')

class Session { constructor (id) { this.id = id; this.user = 'u' + id; this.data = new Array(8).fill(id) } }
class Job { constructor (n) { this.n = n; this.tags = ['a' + n, 'b' + n]; this.done = null } }

const sessions = new Map()
const jobs = []
const shapes = []
for (let i = 0; i < 3000; i++) sessions.set(i, new Session(i))
for (let i = 0; i < 2000; i++) jobs.push(new Job(i))
shapes.push({ pq: 1, qp: 'one' }) // a single {pq, qp}: too rare for a name of its own
for (let i = 0; i < 500; i++) shapes.push({ left: 'l' + i, right: { deep: i } })
globalThis.keep = { sessions, jobs, shapes }

setImmediate(() => {
  v8.writeHeapSnapshot(process.argv[2])
  for (let i = 0; i < 3000; i += 2) sessions.delete(i) // half the sessions end
  for (let i = 3000; i < 4000; i++) sessions.set(i, new Session(i))
  jobs.splice(0, 1500) // most jobs finish
  for (let i = 0; i < 1000; i++) shapes.push({ pq: i, qp: 'x' + i }) // now common
  for (let i = 0; i < 250; i++) shapes.pop()
  setImmediate(() => { v8.writeHeapSnapshot(process.argv[3]) })
})
