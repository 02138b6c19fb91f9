/**
 * The longest single synchronous section of each stage of reading a 19 MB feed, timed alone: a
 * stage in steps (a generator) is driven by hand, each `next()` timed (the caller yields to the
 * event loop between two, so the longest is what another request waits for, `yieldWhenBusy`'s
 * 10 ms aside); a stage that is one call is timed whole. Each stage `--reps` times (default 5):
 * min / median / max of its longest section, as the machine's other work stretches any one.
 *
 *   node --import tsx scripts/bench/feed-sections.ts [checkout] [--reps n]
 *
 * `checkout`: the tree whose `src` is measured (default this one); the stages it lacks are left out.
 */
import { Headers } from "@effect/platform"
import { Effect, Either, Stream } from "effect"
import { fileURLToPath } from "node:url"
import { fill, ghostPost, jsonItem, rssItem } from "./lib/bigFeeds.js"

const args = process.argv.slice(2)
const repsAt = args.indexOf("--reps")
const reps = repsAt === -1 ? 5 : Number(args.splice(repsAt, 2)[1])
const root = args[0] ?? fileURLToPath(new URL("../..", import.meta.url))
const body = (await import(`${root}/src/Sources/body.ts`)) as typeof import("../../src/Sources/body.js")
const readJsonModule = (await import(`${root}/src/Sources/readJson.ts`)) as typeof import("../../src/Sources/readJson.js")
const jsonFeed = (await import(`${root}/src/Sources/JsonFeed.ts`)) as typeof import("../../src/Sources/JsonFeed.js")
const xmlFeed = (await import(`${root}/src/Sources/XmlFeed.ts`)) as typeof import("../../src/Sources/XmlFeed.js")
const feedSource = (await import(`${root}/src/Sources/FeedSource.ts`)) as typeof import("../../src/Sources/FeedSource.js")
const ghost = (await import(`${root}/src/Sources/GhostExport.ts`)) as typeof import("../../src/Sources/GhostExport.js")

const jsonText = `{"version":"https://jsonfeed.org/version/1.1","title":"Big","items":[${
  fill(jsonItem, ",")
}]}`
const smallJsonText = `{"version":"https://jsonfeed.org/version/1.1","title":"Big","items":[${fill((i) => `{"id":${i},"content_text":"t${i}"}`, ",")}]}`
const rssText = `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Big</title>\n${
  fill(rssItem)
}</channel></rss>`
const ghostText = `{"db":[{"meta":{"exported_on":1700000000000,"version":"5.70.0"},"data":{"posts":[${
  fill(ghostPost, ",")
}],"users":[{"id":"u1","name":"A"}]}}]}`
const URL_ = "https://big.example/feed"
const resource = (text: string, type: string) => ({
  url: URL_,
  finalUrl: URL_,
  headers: Headers.fromInput({ "content-type": type }),
  bytes: new TextEncoder().encode(text),
  contentType: type
})

/** The longest `next()` of `steps`, its value, and how many steps. */
const longestStep = <A>(steps: Generator<void, A>): { longest: number; value: A; count: number } => {
  let longest = 0
  for (let count = 1;; count++) {
    const t = performance.now()
    const step = steps.next()
    longest = Math.max(longest, performance.now() - t)
    if (step.done === true) return { longest, value: step.value, count }
  }
}
const timed = <A>(f: () => A): { longest: number; value: A; count: number } => {
  const t = performance.now()
  const value = f()
  return { longest: performance.now() - t, value, count: 1 }
}

const stage = (name: string, run: () => { longest: number; count: number }) => {
  const longest: Array<number> = []
  let count = 0
  run() // warm-up
  for (let r = 0; r < reps; r++) {
    const result = run()
    longest.push(result.longest)
    count = result.count
  }
  longest.sort((a, b) => a - b)
  const f = (n: number) => n.toFixed(1).padStart(6)
  console.log(`${name.padEnd(58)} longest section ${f(longest[0]!)} / ${f(longest[Math.floor(reps / 2)]!)} / ${f(longest[reps - 1]!)} ms (${count} steps)`)
}

const decoded = (text: string, type: string) => longestStep(body.markedBodyTextInSteps(resource(text, type), { json: type.includes("json") }))
const inPieces = (body as { markedBodyPiecesInSteps?: typeof import("../../src/Sources/body.js").markedBodyPiecesInSteps }).markedBodyPiecesInSteps

console.log(`${root}, ${reps} reps: min / median / max`)
for (const [name, text, type] of [["JSON Feed", jsonText, "application/feed+json"], ["JSON Feed, small items", smallJsonText, "application/feed+json"], [
  "RSS",
  rssText,
  "application/rss+xml"
], ["Ghost export", ghostText, "application/json"]] as const) {
  const r = resource(text, type)
  console.log(`${name}: ${(r.bytes.length / 1e6).toFixed(1)} MB`)
  stage("  detectInSteps, whole (decode, parse, check)", () => longestStep(feedSource.detectInSteps(r)))
  stage("  markedBodyTextInSteps (decode, join)", () => decoded(text, type))
  if (inPieces !== undefined) stage("  markedBodyPiecesInSteps (decode)", () => longestStep(inPieces(r, { json: type.includes("json") })))
  if (type.includes("json")) {
    stage("  readJson", () => longestStep(readJsonModule.readJson(text, URL_)))
    const json = JSON.parse(text) as unknown
    if (jsonFeed.isJsonFeed(json)) {
      stage("  parseJsonFeed", () => timed(() => jsonFeed.parseJsonFeed(json, URL_)))
      const feed = Either.getOrThrow(jsonFeed.parseJsonFeed(json, URL_))
      stage("  items mapped, 16 at a time (ITEMS_AT_ONCE)", () => chunks(feed.items))
    }
  } else {
    stage("  readXmlFeed", () => longestStep(xmlFeed.readXmlFeed(text, URL_)))
    const feed = Either.getOrThrow(xmlFeed.parseXmlFeed(text, URL_))
    stage("  items mapped, 16 at a time (ITEMS_AT_ONCE)", () => chunks(feed.items))
  }
  if (name === "Ghost export") {
    // As FeedSource gives it: 32 KB slices, between two of which, or two posts, others may run.
    stage("  ghostExport, longest between two slices or posts", () => {
      let longest = 0
      let count = 0
      let last = performance.now()
      const mark = () =>
        Effect.sync(() => {
          const now = performance.now()
          longest = Math.max(longest, now - last)
          count++
          last = now
        })
      Effect.runSync(Stream.runForEach(ghost.ghostExport(Stream.fromIterable(sliced(r.bytes)).pipe(Stream.rechunk(1), Stream.tap(mark)), { name: URL_ }), mark))
      return { longest, count }
    })
  }
}

/** The longest stretch mapping 16 items. */
function chunks(items: Iterable<unknown>) {
  let longest = 0
  let count = 0
  const iterator = items[Symbol.iterator]()
  for (let done = false; !done;) {
    const t = performance.now()
    for (let i = 0; i < 16; i++) {
      if (iterator.next().done === true) {
        done = true
        break
      }
    }
    longest = Math.max(longest, performance.now() - t)
    count++
  }
  return { longest, count }
}

function sliced(bytes: Uint8Array) {
  const out: Array<Uint8Array> = []
  for (let i = 0; i < bytes.length; i += 32 * 1024) out.push(bytes.subarray(i, i + 32 * 1024))
  return out
}
