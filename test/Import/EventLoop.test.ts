/**
 * Long imports give Node's event loop its turns: a server answers other requests while one
 * renders, stores or reads a feed (it answered none until the import was done: /health took
 * 7.7 s during an 8.4 s import of a 3,000-item feed). Rendering here is made slow on purpose (a
 * few milliseconds of busy work a post, as a long post takes); the turns are counted by a
 * `setImmediate` chain, which runs once a turn, never by sleeping.
 */
import { FileSystem } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import { PostInput } from "../../src/Domain/Post.js"
import { importNdjson } from "../../src/Import/HttpImport.js"
import * as ImportPipeline from "../../src/Import/ImportPipeline.js"
import type { ImportItem } from "../../src/Import/ImportSource.js"
import { yieldWhenBusy } from "../../src/Domain/yieldToEventLoop.js"
import { makePostProcessor, PostProcessor } from "../../src/Processing/PostProcessor.js"
import { defaultProcessorConfig } from "../../src/Processing/processPost.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { fromUrl } from "../../src/Sources/FeedSource.js"
import { collect, servedBy } from "../Sources/harness.js"

/** Synchronous work for `ms` milliseconds, as rendering a long post is. */
const busy = (ms: number) => {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // Busy on purpose.
  }
}

/** The in-process processor, taking `ms` of synchronous work per post (and per NDJSON line). */
const slowProcessor = (ms: number) => {
  const real = makePostProcessor(defaultProcessorConfig)
  return Layer.succeed(PostProcessor, {
    process: (source) => Effect.suspend(() => (busy(ms), real.process(source))),
    fromInput: (input, source) => Effect.suspend(() => (busy(ms), real.fromInput(input, source))),
    fromLines: (name, lines, deadline) => Effect.suspend(() => (lines.forEach(() => busy(ms)), real.fromLines!(name, lines, deadline)))
  })
}

/** How many turns the event loop had while `effect` ran. */
const turnsDuring = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<readonly [A, number], E, R> =>
  Effect.suspend(() => {
    let turns = 0
    let handle: NodeJS.Immediate | undefined
    const tick = () => {
      turns++
      handle = setImmediate(tick)
    }
    handle = setImmediate(tick)
    return effect.pipe(
      Effect.map((a) => [a, turns] as const),
      Effect.ensuring(Effect.sync(() => clearImmediate(handle)))
    )
  })

const POSTS = 120
const MS_A_POST = 3

const records: ReadonlyArray<ImportItem> = Array.from({ length: POSTS }, (_, i) => ({
  _tag: "Record",
  identity: `feed#${i}`,
  source: `feed#${i}`,
  input: new PostInput({ title: `Post ${i}`, body: `Body of post ${i}.` }),
  bytes: 20
}))

const lines = Array.from({ length: POSTS }, (_, i) => `${JSON.stringify({ title: `Line ${i}`, body: `Body of line ${i}.` })}\n`).join("")

describe("an import gives the event loop its turns", () => {
  const services = Layer.mergeAll(slowProcessor(MS_A_POST), MemoryPostRepository.layer, FileSystem.layerNoop({}))

  it.live("records rendered in-process (a feed's items): a turn every few posts, not one at the end", () =>
    Effect.gen(function*() {
      const [summary, turns] = yield* turnsDuring(ImportPipeline.run(Stream.fromIterable(records), { concurrency: 8, batchSize: 50 }))
      assert.strictEqual(summary.imported, POSTS)
      // ~360 ms of rendering: a turn every BUSY_MILLIS (10 ms) of it is ~36; without them, one or two.
      assert.isAtLeast(turns, POSTS / 10, `${turns} turns while ${POSTS} posts took ${MS_A_POST} ms each`)
    }).pipe(Effect.provide(services)))

  it.live("NDJSON lines rendered in bulk in-process (POST /posts/import): a turn every few runs of lines", () =>
    Effect.gen(function*() {
      const [summary, turns] = yield* turnsDuring(importNdjson(Stream.make(new TextEncoder().encode(lines)), { concurrency: 8, recordBatch: 4 }))
      assert.strictEqual(summary.imported, POSTS)
      assert.isAtLeast(turns, POSTS / 10, `${turns} turns while ${POSTS} lines took ${MS_A_POST} ms each`)
    }).pipe(Effect.provide(services)))

  it.live("fibers working in pieces take their turns in turn: none is left waiting while another works every turn", () =>
    Effect.gen(function*() {
      // Four fibers, 3 ms a piece, for 300 ms: the fiber resumed first once did 186 pieces of
      // 189 (the others found the turn's time spent by it, every turn).
      const pieces = [0, 0, 0, 0]
      const until = performance.now() + 300
      yield* Effect.forEach(
        pieces.keys(),
        (i) =>
          Effect.gen(function*() {
            while (performance.now() < until) {
              yield* yieldWhenBusy
              busy(3)
              pieces[i]!++
            }
          }),
        { concurrency: "unbounded", discard: true }
      )
      assert.isAtLeast(Math.min(...pieces), Math.max(...pieces) / 3, `pieces per fiber: ${pieces.join(", ")}`)
    }))
})

describe("reading a large feed gives the event loop its turns", () => {
  const items = 20_000
  const rss = `<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>\n${
    Array.from({ length: items }, (_, i) =>
      `<item><guid>g-${i}</guid><title>Item ${i}</title><description>&lt;p&gt;Text of item ${i}, ${"words ".repeat(20)}&lt;/p&gt;</description></item>\n`).join("")
  }</channel></rss>`
  const json = JSON.stringify({
    version: "https://jsonfeed.org/version/1.1",
    items: Array.from({ length: items }, (_, i) => ({ id: `j-${i}`, title: `Item ${i}`, content_html: `<p>Text of item ${i}, ${"words ".repeat(20)}</p>` }))
  })
  const ghost = JSON.stringify({
    db: [{
      meta: { version: "5.70.0" },
      data: {
        posts: Array.from({ length: items }, (_, i) => ({
          id: `g${i}`,
          title: `Item ${i}`,
          slug: `item-${i}`,
          html: `<p>Text of item ${i}, ${"words ".repeat(20)}</p>`,
          type: "post",
          status: "published",
          published_at: "2024-01-01T00:00:00.000Z"
        }))
      }
    }]
  })
  const layer = servedBy({
    "/feed.xml": { body: rss, type: "application/rss+xml" },
    "/feed.json": { body: json, type: "application/feed+json" },
    "/ghost.json": { body: ghost, type: "application/json" }
  })

  for (const [path, size] of [["/feed.xml", rss.length], ["/feed.json", json.length], ["/ghost.json", ghost.length]] as const) {
    it.live(`${path} (${(size / 1e6).toFixed(1)} MB, ${items} items): parsed a slice at a time and its items read as they are asked for`, () =>
      Effect.gen(function*() {
        const [read, turns] = yield* turnsDuring(collect(fromUrl(`https://big.example${path}`)))
        assert.strictEqual(read.entries.length, items)
        // Parsed whole and mapped at once, the document was one synchronous call: no turn at all.
        assert.isAtLeast(turns, 20, `${turns} turns while reading ${path}`)
      }).pipe(Effect.provide(layer)))
  }
})
