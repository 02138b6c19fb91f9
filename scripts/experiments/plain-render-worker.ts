import { parentPort } from "node:worker_threads"
import { processPostSync, defaultProcessorConfig } from "../../src/Processing/processPost.js"
import { toWirePost } from "../../src/Processing/records.js"

type Source = { source: string; raw: string; relativePath: string }
let own: Array<Source> = []
const decoder = new TextDecoder()
type Claim = { claim: SharedArrayBuffer; counter: SharedArrayBuffer; offsets: Array<number>; meta: Array<{ source: string; relativePath: string }> }
parentPort!.on("message", (m: { id: number; items: Array<Source> } | { keep: Array<Source> } | { loop: true } | Claim) => {
  // `claim`: the posts sit in shared memory; each thread takes the next one off a shared counter
  // until none is left (no message per batch, no last batch waiting on one thread).
  if ("claim" in m) {
    const bytes = new Uint8Array(m.claim)
    const counter = new Int32Array(m.counter)
    const out: Array<unknown> = []
    for (let i = Atomics.add(counter, 0, 1); i < m.meta.length; i = Atomics.add(counter, 0, 1)) {
      const raw = decoder.decode(bytes.subarray(m.offsets[i], m.offsets[i + 1]))
      const r = processPostSync({ ...m.meta[i]!, raw }, defaultProcessorConfig)
      out.push(r._tag === "Right" ? { i, p: toWirePost(r.right) } : { i, e: r.left.reason })
    }
    parentPort!.postMessage({ claimed: JSON.stringify(out) })
    return
  }
  // `keep` + `loop`: the thread renders its own copy of the corpus with no message per batch.
  if ("keep" in m) { own = m.keep; return }
  if ("loop" in m) {
    // KEEP=post: each result encoded as soon as it is rendered (only strings survive);
    // KEEP=batch: a batch of 32 results kept, then encoded at once (as a pool batch is).
    const keep = process.env["KEEP"]
    let texts: Array<string> = []
    let batch: Array<unknown> = []
    for (const s of own) {
      const r = processPostSync(s, defaultProcessorConfig)
      if (keep === "post") texts.push(JSON.stringify(r._tag === "Right" ? toWirePost(r.right) : r.left.reason))
      else if (keep === "batch") {
        batch.push(r._tag === "Right" ? toWirePost(r.right) : r.left.reason)
        if (batch.length === 32) { texts.push(JSON.stringify(batch)); batch = [] }
      }
      if (texts.length >= 32) texts = []
    }
    parentPort!.postMessage({ looped: own.length })
    return
  }
  // POOL=idx: the thread renders posts of its own copy (sent once, `keep`): a batch is two numbers.
  if ("from" in m) {
    const { from, to } = m as unknown as { from: number; to: number }
    const out: Array<string> = []
    for (let i = from; i < to; i++) {
      const r = processPostSync(own[i]!, defaultProcessorConfig)
      out.push(JSON.stringify(r._tag === "Right" ? { p: toWirePost(r.right) } : { e: r.left.reason }))
    }
    parentPort!.postMessage({ id: m.id, count: out.length, text: process.env["IDX_TEXT"] === "1" ? out.join("\n") : undefined })
    return
  }
  // POOL=buf: the batch's sources arrive as one transferred buffer of UTF-8, each decoded only
  // when its turn comes; each result is encoded at once into bytes; the bytes go back transferred.
  // The thread holds the post it renders and the bytes of the rest, never 32 posts as objects.
  if ("buf" in m) {
    const { buf, offsets, meta } = m as unknown as { buf: ArrayBuffer; offsets: Array<number>; meta: Array<{ source: string; relativePath: string }> }
    const bytes = new Uint8Array(buf)
    const parts: Array<Buffer> = []
    const ends: Array<number> = []
    let total = 0
    for (let i = 0; i < meta.length; i++) {
      const raw = decoder.decode(bytes.subarray(offsets[i], offsets[i + 1]))
      const r = processPostSync({ ...meta[i]!, raw }, defaultProcessorConfig)
      const part = Buffer.from(JSON.stringify(r._tag === "Right" ? { p: toWirePost(r.right) } : { e: r.left.reason }))
      parts.push(part)
      total += part.length
      ends.push(total)
    }
    const out = Buffer.concat(parts, total)
    const ab = out.buffer.slice(out.byteOffset, out.byteOffset + out.length)
    parentPort!.postMessage({ id: m.id, out: ab, ends }, [ab])
    return
  }
  // POOL=post: each result encoded as soon as it is rendered; otherwise the batch's results are
  // kept as objects and encoded together.
  if (process.env["POOL"] === "post") {
    const out = m.items.map((s) => { const r = processPostSync(s, defaultProcessorConfig); return JSON.stringify(r._tag === "Right" ? { p: toWirePost(r.right) } : { e: r.left.reason }) })
    parentPort!.postMessage({ id: m.id, text: `[${out.join(",")}]` })
    return
  }
  const out = m.items.map((s) => { const r = processPostSync(s, defaultProcessorConfig); return r._tag === "Right" ? { p: toWirePost(r.right) } : { e: r.left.reason } })
  parentPort!.postMessage({ id: m.id, text: JSON.stringify(out) })
})
