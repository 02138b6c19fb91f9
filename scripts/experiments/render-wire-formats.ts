// What a rendered corpus post costs to send back from a render thread, per post, in batches of
// 32: Schema-encoded (RenderRequest.BatchResult) and structured-cloned (v8 serialize on the
// thread, deserialize + Schema decode on the main thread: the ProcessBatch answer), against one
// JSON string per batch (toWirePost + JSON.stringify on the thread, JSON.parse + fromWirePost on
// the main thread: the ProcessLines answer), and the same wire objects structured-cloned with
// no Schema pass and no JSON (toWirePost on the thread, fromWirePost on the main thread). Run while nothing else runs.
//   npx tsx scripts/experiments/render-wire-formats.ts
import { Schema } from "effect"
import { serialize, deserialize } from "node:v8"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { processPostSync, defaultProcessorConfig } from "../../src/Processing/processPost.js"
import { BatchResult } from "../../src/Workers/RenderRequest.js"
import { toWirePost, fromWirePost } from "../../src/Processing/records.js"
const walk = (d: string): string[] => readdirSync(d).flatMap((n) => { const p = join(d, n); return statSync(p).isDirectory() ? walk(p) : /\.md$/.test(n) ? [p] : [] })
const files = walk("../shared/corpus/rust-blog")
const results = files.map((f) => processPostSync({ source: f, raw: readFileSync(f, "utf8") }, defaultProcessorConfig))
const Arr = Schema.Array(BatchResult)
const enc = Schema.encodeSync(Arr), dec = Schema.decodeUnknownSync(Arr)
const batches: any[][] = []; for (let i = 0; i < results.length; i += 32) batches.push(results.slice(i, i + 32))
for (let r = 0; r < 6; r++) {
  const n = results.length
  let t = performance.now(); const bufs = batches.map((b) => serialize(enc(b))); const wS = performance.now() - t
  t = performance.now(); for (const b of bufs) dec(deserialize(b)); const mS = performance.now() - t
  t = performance.now(); const texts = batches.map((b) => serialize(JSON.stringify(b.map((x: any) => x._tag === "Right" ? { p: toWirePost(x.right) } : { e: x.left })))); const wJ = performance.now() - t
  t = performance.now(); for (const s of texts) (JSON.parse(deserialize(s)) as any[]).map((o: any) => o.p ? fromWirePost(o.p) : o); const mJ = performance.now() - t
  // The wire objects structured-cloned as they are: no Schema pass and no JSON escaping on either side.
  t = performance.now(); const clones = batches.map((b) => serialize(b.map((x: any) => x._tag === "Right" ? { p: toWirePost(x.right) } : { e: x.left.reason }))); const wC = performance.now() - t
  t = performance.now(); for (const c of clones) (deserialize(c) as any[]).map((o: any) => o.p ? fromWirePost(o.p) : o); const mC = performance.now() - t
  console.log(`schema: worker ${(wS*1000/n).toFixed(1)} main ${(mS*1000/n).toFixed(1)} µs/post | json: worker ${(wJ*1000/n).toFixed(1)} main ${(mJ*1000/n).toFixed(1)} µs/post | wire clone: worker ${(wC*1000/n).toFixed(1)} main ${(mC*1000/n).toFixed(1)} µs/post`)
}
