/**
 * Reference for the render pool target: the corpus rendered by a plain worker_threads pool (no
 * Effect, batches of 32, two in flight per thread, results as one JSON string), against one
 * thread, interleaved 3 times. W=1 for one worker thread, Y=<MB> for its young generation, H=<MB> its old generation (256),
 * R=<n> for n copies of the corpus per measurement (a longer run: less of it is the last batch).
 * Also "threads alone": each thread renders its own copy of the corpus in a loop, no message per
 * batch, no main thread in the way: what the cores give when nothing is passed between threads.
 * What the threads keep alive between posts: KEEP=post (threads alone encode each result as it
 * is rendered), KEEP=batch (they hold 32 results as objects, then encode them, as a pool batch
 * does); POOL=post (the pool's threads encode each result as it is rendered); POOL=buf (each
 * batch's sources go as one transferred buffer, decoded one post at a time, results written as
 * bytes at once and transferred back; DECODE=1 has the main thread decode every result).
 * HYBRID=1 with W=1: one thread and the main thread both render batches (only the thread's share crosses a message).
 * `npx tsx scripts/experiments/plain-render-pool.ts` (notes/BENCHMARKS-session4-import.md; BENCHMARKS.md session 9).
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
const corpus = process.env["CORPUS"] ?? "../shared/corpus/rust-blog"
const walk = (d: string): string[] => readdirSync(d).flatMap((n) => { const p = join(d, n); return statSync(p).isDirectory() ? walk(p) : /\.md$/.test(n) ? [p] : [] })
const corpusSources = walk(corpus).map((f) => ({ source: f, raw: readFileSync(f, "utf8"), relativePath: relative(corpus, f) }))
const sources = Array.from({ length: Number(process.env["R"] ?? 1) }, () => corpusSources).flat()
const single = () => { const t = performance.now(); for (const s of sources) processPostSync(s, defaultProcessorConfig); return sources.length / ((performance.now() - t) / 1000) }
const workers = (process.env["W"] === "1" ? [0] : [0, 1]).map(() => new Worker(outfile, { resourceLimits: { ...(process.env["Y"] === undefined ? {} : { maxYoungGenerationSizeMb: Number(process.env["Y"]) }), maxOldGenerationSizeMb: Number(process.env["H"] ?? 256) } }))
const pooled = () => new Promise<number>((resolve) => {
  const t = performance.now(); let next = 0, done = 0
  const encoder = new TextEncoder(), decoder = new TextDecoder()
  const send = (w: Worker) => {
    if (next >= sources.length) return
    const size = Number(process.env["B"] ?? 32); const items = sources.slice(next, next + size); next += size
    if (process.env["POOL"] === "idx") return w.postMessage({ id: 0, from: next - size, to: next - size + items.length })
    if (process.env["POOL"] !== "buf") return w.postMessage({ id: 0, items })
    // One buffer of the batch's sources, transferred (no per-post strings cloned into the thread).
    const encoded = items.map((s) => encoder.encode(s.raw))
    const offsets = [0]
    for (const e of encoded) offsets.push(offsets.at(-1)! + e.length)
    const bytes = new Uint8Array(offsets.at(-1)!)
    encoded.forEach((e, i) => bytes.set(e, offsets[i]))
    w.postMessage({ id: 0, buf: bytes.buffer, offsets, meta: items.map((s) => ({ source: s.source, relativePath: s.relativePath })) }, [bytes.buffer])
  }
  const received = (m: { count?: number; text?: string; out?: ArrayBuffer; ends?: Array<number> }) => {
    if (m.count !== undefined) return m.count
    if (m.text !== undefined) return JSON.parse(m.text).length
    // DECODE=1: the main thread decodes every result (as a caller taking each post would); else lazily: not at all here.
    if (process.env["DECODE"] === "1") { const b = new Uint8Array(m.out!); let from = 0; for (const end of m.ends!) { JSON.parse(decoder.decode(b.subarray(from, end))); from = end } }
    return m.ends!.length
  }
  for (const w of workers) { w.removeAllListeners("message"); w.on("message", (m) => { done += received(m); if (done >= sources.length) resolve(sources.length / ((performance.now() - t) / 1000)); else send(w) }); send(w); send(w) }
  // HYBRID=1 (with W=1): the main thread renders batches too, one per turn of its event loop,
  // so that both cores render and only the thread's share of the posts crosses a message.
  if (process.env["HYBRID"] === "1") {
    const size = Number(process.env["B"] ?? 32)
    const own = () => {
      if (next >= sources.length) return
      const items = sources.slice(next, next + size); next += size
      for (const s of items) processPostSync(s, defaultProcessorConfig)
      done += items.length
      if (done >= sources.length) resolve(sources.length / ((performance.now() - t) / 1000))
      else setImmediate(own)
    }
    setImmediate(own)
  }
})
for (const w of workers) w.postMessage({ keep: sources })
const alone = () => new Promise<number>((resolve) => {
  const t = performance.now(); let finished = 0
  for (const w of workers) { w.removeAllListeners("message"); w.on("message", () => { if (++finished === workers.length) resolve((workers.length * sources.length) / ((performance.now() - t) / 1000)) }); w.postMessage({ loop: true }) }
})
const claimed = () => new Promise<number>((resolve) => {
  const t = performance.now()
  const encoded = sources.map((s) => Buffer.from(s.raw, "utf8"))
  const offsets = [0]
  for (const e of encoded) offsets.push(offsets.at(-1)! + e.length)
  const claim = new SharedArrayBuffer(offsets.at(-1)!)
  const bytes = new Uint8Array(claim)
  encoded.forEach((e, i) => bytes.set(e, offsets[i]))
  const counter = new SharedArrayBuffer(4)
  const meta = sources.map((s) => ({ source: s.source, relativePath: s.relativePath }))
  let finished = 0, done = 0
  for (const w of workers) {
    w.removeAllListeners("message")
    w.on("message", (m) => { done += JSON.parse(m.claimed).length; if (++finished === workers.length && done === sources.length) resolve(sources.length / ((performance.now() - t) / 1000)) })
    w.postMessage({ claim, counter, offsets, meta })
  }
})
single(); await pooled(); await alone(); await claimed()
for (let i = 0; i < Number(process.env["N"] ?? 3); i++) {
  const a = single(); const b = await pooled(); const c = await alone(); const d = await claimed()
  console.log(`single ${a.toFixed(0)} pool ${b.toFixed(0)} (${(b / a).toFixed(2)}) threads alone ${c.toFixed(0)} (${(c / a).toFixed(2)}) shared counter ${d.toFixed(0)} (${(d / a).toFixed(2)})`)
}
process.exit(0)
