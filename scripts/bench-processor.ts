/**
 * Throughput of the pure processor over the Rust blog corpus, in posts per CPU-second.
 * Not a test: run with `npx tsx test/Processing/corpusBench.ts` from the repo root.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import { Either } from "effect"
import { processPostSync } from "../src/Processing/processPost.js"

const root = "../shared/corpus/rust-blog"
const files: Array<string> = []
const walk = (dir: string): void => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p)
    else if (name.endsWith(".md")) files.push(p)
  }
}
walk(root)
const sources = files.map((p) => ({ source: p, relativePath: relative(root, p), raw: readFileSync(p, "utf8") }))

const rounds = Number(process.argv[2] ?? 5)
let ok = 0
let failed = 0
// One warm-up round so the JIT and the regex caches are hot.
for (const s of sources) processPostSync(s)
const start = process.cpuUsage()
const wallStart = performance.now()
for (let r = 0; r < rounds; r++) {
  for (const s of sources) {
    if (Either.isRight(processPostSync(s))) ok++
    else failed++
  }
}
const cpu = process.cpuUsage(start)
const wall = (performance.now() - wallStart) / 1000
const seconds = (cpu.user + cpu.system) / 1e6
const posts = sources.length * rounds
console.log(`${sources.length} files x ${rounds} rounds: ${ok / rounds} ok, ${failed / rounds} rejected per round`)
console.log(`${(posts / seconds).toFixed(0)} posts/CPU-second (${seconds.toFixed(2)} CPU-s, ${wall.toFixed(2)} s wall, for ${posts} posts)`)
