// compare-diff.mjs DEVTOOLS.json LEAKHUNT.json: compares every Comparison row
// (joined on the class key) field by field; prints the first mismatches and a
// count; exits 1 on any mismatch.
import { readFileSync } from 'node:fs'

const dt = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const lh = JSON.parse(readFileSync(process.argv[3], 'utf8'))
const byKey = (rows) => new Map(rows.map((r) => [r.key, r]))
const d = byKey(dt.classes)
const m = byKey(lh.classes)
const fields = ['new_count', 'deleted_count', 'count_delta', 'alloc_size', 'freed_size', 'size_delta']
const out = []
for (const [key, row] of d) {
  const mine = m.get(key)
  if (!mine) {
    out.push(`missing in leakhunt: ${JSON.stringify(key)} (devtools +${row.new_count} -${row.deleted_count})`)
    continue
  }
  if (mine.name !== row.name) out.push(`${JSON.stringify(key)} name: leakhunt ${JSON.stringify(mine.name)}, devtools ${JSON.stringify(row.name)}`)
  for (const f of fields) {
    if (mine[f] !== row[f]) out.push(`${JSON.stringify(key)} ${f}: leakhunt ${mine[f]}, devtools ${row[f]}`)
  }
}
for (const key of m.keys()) {
  if (!d.has(key)) out.push(`extra in leakhunt: ${JSON.stringify(key)}`)
}
for (const line of out.slice(0, 20)) console.log(line)
console.log(`${d.size} devtools rows, ${m.size} leakhunt rows, ${out.length} mismatches`)
process.exit(out.length ? 1 : 0)
