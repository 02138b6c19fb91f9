import { parentPort } from "node:worker_threads"
import { processPostSync, defaultProcessorConfig } from "../../src/Processing/processPost.js"
import { toWirePost } from "../../src/Processing/records.js"
parentPort!.on("message", (m: { id: number; items: Array<{ source: string; raw: string; relativePath: string }> }) => {
  const out = m.items.map((s) => { const r = processPostSync(s, defaultProcessorConfig); return r._tag === "Right" ? { p: toWirePost(r.right) } : { e: r.left.reason } })
  parentPort!.postMessage({ id: m.id, text: JSON.stringify(out) })
})
