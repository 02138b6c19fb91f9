// What ran in each long stretch between two turns of the event loop: the stretches a bench wrote
// (`<dir>/stretches.json`: name, from, to in µs of process.hrtime) matched against the samples
// of the `.cpuprofile` in <dir> (V8's profile clock is the same monotonic clock). For each
// stretch, where its samples were: the innermost frame of our own code (under src/) and the
// function running (self), most samples first.
//   node scripts/bench/lib/stretch-profile.mjs <dir> [top functions per stretch] [filter-regexp]
import { readdirSync, readFileSync } from "node:fs"

const [dir, topArg = "8", filter] = process.argv.slice(2)
const stretches = JSON.parse(readFileSync(`${dir}/stretches.json`, "utf8"))
const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))
const profile = JSON.parse(readFileSync(`${dir}/${file}`, "utf8"))
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const times = []
let t = profile.startTime
for (const d of profile.timeDeltas) times.push((t += d))
const keyOf = (n) => `${n.callFrame.functionName || "(anon)"} ${n.callFrame.url.split("/").slice(-2).join("/")}:${n.callFrame.lineNumber + 1}`
const re = filter ? new RegExp(filter) : undefined
const ownCode = (id) => {
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur)
    if (n.callFrame.url.includes("/src/")) return `${n.callFrame.functionName || "(anon)"} ${n.callFrame.url.split("/src/")[1]}:${n.callFrame.lineNumber + 1}`
  }
  return "(no frame of src/)"
}

for (const s of stretches.sort((a, b) => b.to - b.from - (a.to - a.from)).slice(0, Number(process.env.STRETCHES ?? 30))) {
  const where = new Map()
  let n = 0
  for (let i = 0; i < times.length; i++) {
    if (times[i] < s.from || times[i] > s.to) continue
    n++
    const self = keyOf(byId.get(profile.samples[i]))
    const k = self.startsWith("(garbage collector)") ? "(garbage collector)" : `${ownCode(profile.samples[i])}  <-  ${self}`
    where.set(k, (where.get(k) ?? 0) + 1)
  }
  const top = [...where].filter(([k]) => !re || re.test(k)).sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))
  console.log(`${s.name}: ${((s.to - s.from) / 1000).toFixed(1)} ms, ${n} samples`)
  for (const [k, c] of top) console.log(`   ${((100 * c) / Math.max(1, n)).toFixed(0).padStart(4)}%  ${k}`)
}
