/**
 * How long a large fetched feed body holds the thread at once: the longest stretch between two
 * turns of the event loop (a `setImmediate` chain, which runs once a turn) while a ~19 MB body is
 * decoded and read as the server reads one (`detectInSteps` with turns), and while `readJson`
 * refuses a broken document. Another request waits about that long.
 *
 *   node --import tsx scripts/bench-feed-decode.ts [checkout]
 *
 * `checkout`: the tree whose `src` is measured (default this one), to compare two builds with
 * the same bodies: both APIs used here are in either.
 */
import { Headers } from "@effect/platform"
import { Effect, Either } from "effect"
import { fileURLToPath } from "node:url"
import { fill } from "./bench/lib/bigFeeds.js"

const root = process.argv[2] ?? fileURLToPath(new URL("..", import.meta.url))
const { detectInSteps } = (await import(`${root}/src/Sources/FeedSource.ts`)) as typeof import("../src/Sources/FeedSource.js")
const { readJson } = (await import(`${root}/src/Sources/readJson.ts`)) as typeof import("../src/Sources/readJson.js")
const { runStepsWithTurns } = (await import(`${root}/src/Domain/yieldToEventLoop.ts`)) as typeof import("../src/Domain/yieldToEventLoop.js")

const item = (i: number) =>
  `<item><guid>g-${i}</guid><title>Item ${i} café</title><description>&lt;p&gt;Text of item ${i}, ${"words ".repeat(20)}&lt;/p&gt;</description></item>\n`
const rss = `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Big</title>\n${fill(item)}</channel></rss>`
const json = `{"version":"https://jsonfeed.org/version/1.1","title":"Big","items":[${
  fill((i) => JSON.stringify({ id: `j-${i}`, title: `Item ${i} café`, content_html: `<p>Text of item ${i}, ${"words ".repeat(20)}</p>` }), ",")
}]}`
const prose = `Hello, ${fill((i) => `line ${i} of plain text, café\n`)}`
const utf8 = (text: string) => new TextEncoder().encode(text)
/** `text` as UTF-8, a Windows-1252 curly apostrophe (0x92) in place of each "'": no UTF-8. */
const withBadBytes = (text: string) => {
  const bytes = utf8(text)
  for (let at = bytes.indexOf(0x27); at !== -1; at = bytes.indexOf(0x27, at + 1)) bytes[at] = 0x92
  return bytes
}

const resource = (bytes: Uint8Array, type: string) => ({
  url: "https://big.example/feed",
  finalUrl: "https://big.example/feed",
  headers: Headers.fromInput({ "content-type": type }),
  bytes,
  contentType: type.replace(/;.*/, "")
})

const detect = (bytes: Uint8Array, type: string) => () =>
  Effect.runPromise(runStepsWithTurns(detectInSteps(resource(bytes, type)))).then((read) =>
    Either.isLeft(read) ? `refused: ${read.left.message.slice(0, 90)}` : `read: ${read.right._tag}`
  )

const broken = (text: string) => () =>
  Effect.runPromise(runStepsWithTurns(readJson(text, "https://big.example/feed"))).then((read) =>
    Either.isLeft(read) ? `refused: ${read.left.message.slice(0, 90)}` : "read"
  )

/** The longest stretch between two turns while `run` runs, after one run to warm up. */
const measure = async (name: string, run: () => Promise<string>) => {
  await run()
  let last = performance.now()
  let longest = 0
  let turns = 0
  let handle: NodeJS.Immediate | undefined
  const tick = () => {
    const now = performance.now()
    longest = Math.max(longest, now - last)
    last = now
    turns++
    handle = setImmediate(tick)
  }
  handle = setImmediate(tick)
  const start = performance.now()
  const said = await run()
  const total = performance.now() - start
  clearImmediate(handle)
  longest = Math.max(longest, performance.now() - last)
  console.log(`${name.padEnd(46)} ${total.toFixed(0).padStart(6)} ms in all, longest stretch ${longest.toFixed(1).padStart(6)} ms, ${String(turns).padStart(4)} turns  ${said}`)
}

const smallObjects = `{"version":"https://jsonfeed.org/version/1.1","items":[${fill((i) => `{"a":${i % 10}}`, ",")}]x`
const manyKeys = `{${fill((i) => `"k${i}":1`, ",")}x`

console.log(`${root}: bodies of ${(rss.length / 1e6).toFixed(1)} MB (RSS), ${(json.length / 1e6).toFixed(1)} MB (JSON)`)
await measure("decode only: UTF-8 text, no feed", detect(utf8(prose), "text/plain"))
await measure("decode only: windows-1252 text, no feed", detect(Buffer.from(prose, "latin1"), "text/plain; charset=windows-1252"))
await measure("decode only: UTF-8, many bad bytes, no feed", detect(withBadBytes(prose.replaceAll("line", "l'ne")), "text/plain"))
await measure("RSS, UTF-8", detect(utf8(rss), "application/rss+xml"))
await measure("RSS, UTF-8, one bad byte", detect(withBadBytes(rss.replace("Item 1000 ", "Item 1000'")), "application/rss+xml"))
await measure("RSS, windows-1252", detect(Buffer.from(rss.replace("utf-8", "windows-1252"), "latin1"), "application/rss+xml"))
await measure("JSON Feed", detect(utf8(json), "application/feed+json"))
await measure("JSON Feed, a bad token at the end", detect(utf8(`${json.slice(0, -2)}x]}`), "application/feed+json"))
await measure("JSON Feed, cut off", detect(utf8(json.slice(0, -1000)), "application/feed+json"))
await measure("readJson: small objects, broken at the end", broken(smallObjects))
await measure("readJson: one object of many keys, broken", broken(manyKeys))
