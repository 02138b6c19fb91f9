// What keeping rendered posts alive costs in heap: the corpus rendered once and every result
// kept (as a worker's batch or the import's batch of 500 keeps them for a while), heap used after
// a full collection, against before. FLATTEN=0 undoes the `flat` of Processing/markdown.ts on a
// copy of the html (rebuilt as a rope of its lines), to show what a rope-shaped html retains.
//   node --expose-gc --import tsx scripts/experiments/rendered-retention.ts
import { readFileSync } from "node:fs"
import { relative } from "node:path"
import { defaultProcessorConfig, processPostSync } from "../../src/Processing/processPost.js"
import { markdownFiles } from "../bench/lib/markdownFiles.js"

const corpus = process.env["INKWELL_CORPUS"] ?? "../shared/corpus/rust-blog"
const sources = markdownFiles(corpus).map((file) => ({ source: file, raw: readFileSync(file, "utf8"), relativePath: relative(corpus, file) }))
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error("run with --expose-gc")
/** The html as markdown-it and sanitize-html leave it without `flat`: a rope of small pieces. */
const asRope = (html: string): string => {
  let out = ""
  for (const piece of html.split(/(?=<)/)) out += piece
  return out
}
const rope = process.env["FLATTEN"] === "0"
for (let warm = 0; warm < 2; warm++) for (const source of sources) processPostSync(source, defaultProcessorConfig)
gc()
const before = process.memoryUsage().heapUsed
const kept: Array<unknown> = []
for (const source of sources) {
  const result = processPostSync(source, defaultProcessorConfig)
  kept.push(rope && result._tag === "Right" ? { ...result.right, html: asRope(result.right.html) } : result)
}
gc()
console.log(`${rope ? "html as a rope" : "html flat (as rendered)"}: ${((process.memoryUsage().heapUsed - before) / 1e6).toFixed(1)} MB kept for ${kept.length} posts`)
