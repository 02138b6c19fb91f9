/**
 * Reference for the render pool target: the corpus rendered by a plain worker_threads pool (no
 * Effect, batches of 32, two in flight per thread, results as one JSON string), against one
 * thread, interleaved 3 times. W=1 for one worker thread, Y=<MB> for its young generation.
 * `npx tsx scripts/experiments/plain-render-pool.ts` (notes/BENCHMARKS-session4-import.md).
 */
import * as esbuild from "esbuild"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { fileURLToPath } from "node:url"
import { Worker } from "node:worker_threads"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import { processPostSync, defaultProcessorConfig } from "../../src/Processing/processPost.js"
const REQUIRE_SHIM = "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);"
const outfile = join(mkdtempSync(join(tmpdir(), "inkwell-plain-")), "worker.mjs")
await esbuild.build({ entryPoints: [fileURLToPath(new URL("./plain-render-worker.ts", import.meta.url))], outfile, bundle: true, platform: "node", format: "esm", banner: { js: REQUIRE_SHIM }, logLevel: "silent" })
const corpus = process.env.CORPUS ?? "../shared/corpus/rust-blog"
const walk = (d: string): string[] => readdirSync(d).flatMap((n) => { const p = join(d, n); return statSync(p).isDirectory() ? walk(p) : /\.md$/.test(n) ? [p] : [] })
const sources = walk(corpus).map((f) => ({ source: f, raw: readFileSync(f, "utf8"), relativePath: relative(corpus, f) }))
const single = () => { const t = performance.now(); for (const s of sources) processPostSync(s, defaultProcessorConfig); return sources.length / ((performance.now() - t) / 1000) }
const workers = (process.env.W === "1" ? [0] : [0, 1]).map(() => new Worker(outfile, { resourceLimits: { maxYoungGenerationSizeMb: Number(process.env.Y ?? 16), maxOldGenerationSizeMb: 64 } }))
const pooled = () => new Promise<number>((resolve) => {
  const t = performance.now(); let next = 0, done = 0
  const send = (w: Worker) => { if (next >= sources.length) return; const items = sources.slice(next, next + 32); next += 32; w.postMessage({ id: 0, items }) }
  for (const w of workers) { w.removeAllListeners("message"); w.on("message", (m) => { const r = JSON.parse(m.text); done += r.length; if (done >= sources.length) resolve(sources.length / ((performance.now() - t) / 1000)); else send(w) }); send(w); send(w) }
})
single(); await pooled()
for (let i = 0; i < 3; i++) { const a = single(); const b = await pooled(); console.log(`single ${a.toFixed(0)} pool ${b.toFixed(0)} ratio ${(b / a).toFixed(2)}`) }
process.exit(0)
