/**
 * Where a source stops being read, the summary says so: a JSON Feed's pages past the limit.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { PostProcessor } from "../../src/Processing/PostProcessor.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { fromUrl } from "../../src/Sources/FeedSource.js"
import { importFromUrls } from "../../src/Sources/ImportFromUrl.js"
import { collect, type Route, servedBy } from "./harness.js"

/** A JSON Feed of `pages` pages of one item each, page n at `/feed.json?page=n`. */
const pagedFeed = (pages: number): Record<string, Route> =>
  Object.fromEntries(Array.from({ length: pages }, (_, i) => {
    const n = i + 1
    return [n === 1 ? "/feed.json" : `/feed.json?page=${n}`, {
      type: "application/feed+json",
      body: JSON.stringify({
        version: "https://jsonfeed.org/version/1.1",
        ...(n < pages ? { next_url: `/feed.json?page=${n + 1}` } : {}),
        items: [{ id: `p${n}`, title: `Post ${n}`, content_text: "x" }]
      })
    }]
  }))

describe("JSON Feed pages past the limit", () => {
  it.effect("are one failure naming the first page left (was: 50 imported, 0 failed, the rest dropped without a word)", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const { entries, rejected } = yield* collect(fromUrl("https://paged.example/feed.json")).pipe(Effect.provide(servedBy(pagedFeed(60), seen)))
      assert.strictEqual(entries.length, 50)
      assert.deepStrictEqual(rejected.map(({ reason, skipped, source }) => ({ source, reason, skipped })), [{
        source: "https://paged.example/feed.json?page=51",
        reason: "not read, nor any page after it: a JSON Feed is read for its first 50 pages at most",
        skipped: false
      }])
      assert.strictEqual(seen.length, 50, "the page left is not fetched")
    }))

  it.effect("a feed of exactly the limit has nothing left; an import's summary names the page left", () =>
    Effect.gen(function*() {
      const whole = yield* collect(fromUrl("https://paged.example/feed.json", { maxPages: 3 })).pipe(Effect.provide(servedBy(pagedFeed(3))))
      assert.deepStrictEqual([whole.entries.length, whole.rejected.length], [3, 0])
      const summary = yield* importFromUrls(["https://paged.example/feed.json"], { source: { maxPages: 3 } }).pipe(
        Effect.provide(Layer.mergeAll(servedBy(pagedFeed(5)), PostProcessor.layer({ wordsPerMinute: 230, excerptLength: 280 }), MemoryPostRepository.layer))
      )
      assert.deepStrictEqual([summary.imported, summary.failed], [3, 1])
      assert.deepStrictEqual(summary.failures, [{
        source: "https://paged.example/feed.json?page=4",
        reason: "not read, nor any page after it: a JSON Feed is read for its first 3 pages at most"
      }])
    }))
})
