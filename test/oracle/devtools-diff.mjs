// devtools-diff.mjs OLD NEW: DevTools' Comparison of two snapshots, as JSON
//   {"classes":[{"name","key","new_count","deleted_count","count_delta",
//                "alloc_size","freed_size","size_delta"},...]}
// It runs what the Memory tab's Comparison view runs (HeapSnapshotDataGrids.ts):
// the base's aggregates under the *new* snapshot's interface definitions,
// then calculateSnapshotDiff on the new one.  (heap-snapshot-toolkit's own
// diff() helper passes the base's definitions instead; the UI is the
// reference users see, so this follows the UI.)
import { createReadStream } from 'node:fs'
import { parse } from 'heap-snapshot-toolkit'

const [oldFile, newFile] = process.argv.slice(2)
if (!oldFile || !newFile) {
  console.error('usage: devtools-diff.mjs OLD.heapsnapshot NEW.heapsnapshot')
  process.exit(2)
}
const base = await parse(createReadStream(oldFile, 'utf-8'))
const target = await parse(createReadStream(newFile, 'utf-8'))
const baseAggregates = base.aggregatesForDiff(target.interfaceDefinitions())
const diff = target.calculateSnapshotDiff(String(base.uid), baseAggregates)
const classes = []
for (const key of Object.keys(diff)) {
  const d = diff[key]
  classes.push({
    name: d.name,
    key,
    new_count: d.addedCount,
    deleted_count: d.removedCount,
    count_delta: d.countDelta,
    alloc_size: d.addedSize,
    freed_size: d.removedSize,
    size_delta: d.sizeDelta
  })
}
process.stdout.write(JSON.stringify({ classes }) + '\n')
