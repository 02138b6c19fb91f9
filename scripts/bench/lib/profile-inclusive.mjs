// Inclusive time by function in a .cpuprofile (a function counted once per sample however deep
// it recurs):   node profile-inclusive.mjs <file.cpuprofile> [top] [filter-regexp]
import { readFileSync } from "node:fs"
const [file, topArg = "60", filter] = process.argv.slice(2)
const profile = JSON.parse(readFileSync(file, "utf8"))
const parent = new Map()
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const counts = new Map()
for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1)
const total = profile.samples.length
const incl = new Map()
const keyOf = (n) => `${n.callFrame.functionName || "(anon)"} ${n.callFrame.url.split("/").slice(-2).join("/")}:${n.callFrame.lineNumber + 1}`
for (const [id, c] of counts) {
  const seen = new Set()
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = keyOf(byId.get(cur))
    if (seen.has(k)) continue
    seen.add(k)
    incl.set(k, (incl.get(k) ?? 0) + c)
  }
}
const re = filter ? new RegExp(filter) : undefined
console.log([...incl].filter(([k]) => !re || re.test(k)).sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))
  .map(([k, c]) => `${((100 * c) / total).toFixed(1).padStart(5)}%  ${k}`).join("\n"))
