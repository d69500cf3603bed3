// Prints DevTools' Summary rows and Statistics for a .heapsnapshot, as JSON:
//   {"classes":[{"name","key","count","shallow_size","retained_size","distance"}...],
//    "statistics":{...}}
// The oracle for test/cli/devtools_equal.sh: heap-snapshot-toolkit is a Node
// build of Chrome DevTools' own heap_snapshot_worker (HeapSnapshot.ts).
import { createReadStream } from 'node:fs'
import { parse } from 'heap-snapshot-toolkit'

const file = process.argv[2]
if (!file) {
  console.error('usage: devtools-summary.mjs FILE.heapsnapshot')
  process.exit(2)
}
const snap = await parse(createReadStream(file, 'utf-8'))
const aggregates = snap.aggregatesWithFilter({})
const classes = []
for (const key of Object.keys(aggregates)) {
  const a = aggregates[key]
  classes.push({
    name: a.name,
    key,
    count: a.count,
    shallow_size: a.self,
    retained_size: a.maxRet,
    distance: a.distance
  })
}
classes.sort((x, y) => y.retained_size - x.retained_size || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
const st = snap.getStatistics()
const statistics = {
  total: st.total,
  code: st.v8heap.code,
  strings: st.v8heap.strings,
  js_arrays: st.v8heap.jsArrays,
  typed_arrays: st.native.typedArrays,
  system: st.v8heap.system
}
process.stdout.write(JSON.stringify({ classes, statistics }) + '\n')
