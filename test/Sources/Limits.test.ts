/**
 * Where a source stops being read, the summary says so: a JSON Feed's pages past the limit, a
 * source past its deadline (FEED_SOURCE_DEADLINE, all its fetches together, on the TestClock).
 */
import type { ServerResponse } from "node:http"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { type Duration, Effect, Either, Fiber, Layer, Queue, Stream, TestClock } from "effect"
import { FeedClient } from "../../src/Clients/FeedClient.js"
import type { FeedClientInput } from "../../src/Clients/FeedClientOptions.js"
import type { FeedError } from "../../src/Clients/FeedErrors.js"
import { PostProcessor } from "../../src/Processing/PostProcessor.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { fromUrl } from "../../src/Sources/FeedSource.js"
import { importFromUrls } from "../../src/Sources/ImportFromUrl.js"
import type { SourceItem } from "../../src/Sources/SourceItem.js"
import { awaitSleeping, testServer } from "../Clients/server.js"
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

/**
 * Another Inkwell's /posts that pages on up to cursor 1000 (then ends), listing `listed(n)` on
 * page n (page 0 without a cursor), and a post at /posts/<slug> for any slug.
 */
const pagingInkwell = (listed: (page: number) => ReadonlyArray<string>) => (path: string): Route | undefined => {
  const json = (body: unknown): Route => ({ type: "application/json", body: JSON.stringify(body) })
  const page = /^\/posts(?:\?limit=\d+(?:&cursor=(\d+))?)?$/.exec(path)
  if (page !== null) {
    const n = Number(page[1] ?? 0)
    return json({ items: listed(n).map((slug) => ({ slug })), next: n < 1000 ? String(n + 1) : null })
  }
  const slug = /^\/posts\/([\w-]+)$/.exec(path)?.[1]
  return slug === undefined ? undefined : json({ slug, title: `Post ${slug}`, body: "x" })
}

/** The listing's pages fetched, the first fetch of the URL given (to tell what it is) left out. */
const listings = (seen: ReadonlyArray<string>) => seen.filter((path) => path.startsWith("/posts?"))

describe("another Inkwell's listing without end", () => {
  it.effect("pages that list no new post, 3 in a row, fail the source naming the page; the posts listed before are read, each once (was: empty pages with ever-new cursors fetched for ever)", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      // Page 1 lists again what page 0 did: a post listed twice is fetched once.
      const served = servedBy(pagingInkwell((n) => (n === 0 ? ["a", "b"] : n === 1 ? ["b", "a"] : n === 2 ? ["c"] : [])), seen)
      const results = [...yield* fromUrl("https://ink.example/posts").pipe(Stream.either, Stream.runCollect, Effect.provide(served))]
      assert.deepStrictEqual(titlesOf(results), ["Post a", "Post b", "Post c"])
      assert.deepStrictEqual(listings(seen), ["/posts?limit=50", "/posts?limit=50&cursor=1", "/posts?limit=50&cursor=2", "/posts?limit=50&cursor=3", "/posts?limit=50&cursor=4", "/posts?limit=50&cursor=5"])
      assert.deepStrictEqual(seen.filter((path) => path.startsWith("/posts/")), ["/posts/a", "/posts/b", "/posts/c"])
      const last = results[results.length - 1]!
      assert.deepStrictEqual(Either.isLeft(last) ? [last.left._tag, last.left.message] : last, [
        "DecodeError",
        "https://ink.example/posts?limit=50&cursor=5: cannot read as an Inkwell /posts page at next: 3 pages in a row listed no new post, yet each gave a \"next\" cursor (a listing without end?): stopped after the first 3 post(s)"
      ])
    }))

  it.effect("past the posts a source is read for (maxPosts), it fails naming the page; the posts up to it are read, and an import's summary says both", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const served = servedBy(pagingInkwell((n) => [`p${n}-1`, `p${n}-2`, `p${n}-3`]), seen)
      const summary = yield* importFromUrls(["https://ink.example/posts"], { source: { maxPosts: 7, pageSize: 3 } }).pipe(
        Effect.provide(Layer.mergeAll(served, PostProcessor.layer({ wordsPerMinute: 230, excerptLength: 280 }), MemoryPostRepository.layer))
      )
      assert.deepStrictEqual([summary.imported, summary.failed], [7, 1])
      assert.deepStrictEqual(summary.failures, [{
        source: "https://ink.example/posts",
        reason: "https://ink.example/posts?limit=3&cursor=2: cannot read as an Inkwell /posts page at next: more than 7 posts listed, the most a source is read for: stopped after the first 7 post(s)"
      }])
      assert.deepStrictEqual(listings(seen), ["/posts?limit=3", "/posts?limit=3&cursor=1", "/posts?limit=3&cursor=2"])
    }))
})

/**
 * A JSON Feed of `pages` pages served on the TestClock: page 1 at once, every later one held
 * until `page` answers it (after the test has moved the clock).
 */
const heldFeed = (pages: number) =>
  Effect.gen(function*() {
    const held: Array<ServerResponse> = []
    const reply = (res: ServerResponse, n: number) => {
      res.writeHead(200, { "content-type": "application/feed+json" })
      res.end(JSON.stringify({
        version: "https://jsonfeed.org/version/1.1",
        ...(n < pages ? { next_url: `/feed.json?page=${n + 1}` } : {}),
        items: [{ id: `p${n}`, title: `Post ${n}`, content_text: "x" }]
      }))
    }
    const server = yield* testServer((req, res) => {
      if (req.url === "/feed.json") reply(res, 1)
      else held.push(res)
    })
    yield* Effect.addFinalizer(() => Effect.sync(() => held.forEach((res) => res.destroy())))
    /** Waits for page `n` to be asked for, moves the clock by `after`, and answers it (unless `answer` is false). */
    const page = (n: number, after: Duration.DurationInput, answer = true) =>
      Effect.gen(function*() {
        yield* Queue.take(server.requests)
        yield* awaitSleeping
        yield* TestClock.adjust(after)
        if (answer) reply(held.shift()!, n)
      })
    const url = `${server.url}/feed.json`
    /**
     * Reads the feed to its end in a fiber, through a real HTTP client with no retries under
     * `deadlines`, once page 1 has been asked for: what it read, failures as Lefts.
     */
    const read = (deadlines: Pick<FeedClientInput, "deadline" | "sourceDeadline">) =>
      Effect.gen(function*() {
        const fiber = yield* fromUrl(url).pipe(
          Stream.either,
          Stream.runCollect,
          Effect.provide(FeedClient.layer({ retries: 0, timeout: "1 minute", ...deadlines }).pipe(Layer.provide(NodeHttpClient.layer))),
          Effect.fork
        )
        yield* Queue.take(server.requests)
        return fiber
      })
    return { url, page, read }
  })

const titlesOf = (results: ReadonlyArray<Either.Either<SourceItem, FeedError>>) =>
  results.flatMap((r) => (Either.isRight(r) && r.right._tag === "Entry" ? [r.right.input.title] : []))

describe("a source's deadline", () => {
  it.scoped("FEED_SOURCE_DEADLINE bounds all its pages together: past it the source fails naming it and the deadline, and what came before is kept (was: each page had the whole deadline, 30 slow pages ran 13 s on 2)", () =>
    Effect.gen(function*() {
      const feed = yield* heldFeed(10)
      const read = yield* feed.read({ sourceDeadline: "10 seconds" })
      // Pages 2 and 3 take 4 s each: 8 of the source's 10 s. Page 4 has 2 s left.
      yield* feed.page(2, "4 seconds")
      yield* feed.page(3, "4 seconds")
      yield* feed.page(4, "2 seconds", false)
      const results = [...yield* Fiber.join(read)]
      assert.deepStrictEqual(titlesOf(results), ["Post 1", "Post 2", "Post 3"])
      const last = results[results.length - 1]!
      assert.isTrue(Either.isLeft(last))
      if (Either.isLeft(last)) {
        assert.strictEqual(last.left._tag, "SourceDeadline")
        assert.strictEqual(
          last.left.message,
          `${feed.url}: not fetched within its deadline of 10 s (FEED_SOURCE_DEADLINE, all its pages and posts together): 3 document(s) fetched, stopped at ${feed.url}?page=4`
        )
      }
    }))

  it.scoped("by default a source is read whole however long its pages take together; FEED_DEADLINE bounds each (was: FEED_DEADLINE bounded the source, and another Inkwell of more posts than it fetched in 2 minutes could never be imported whole)", () =>
    Effect.gen(function*() {
      const feed = yield* heldFeed(5)
      const read = yield* feed.read({ deadline: "10 seconds" })
      // Four pages of 4 s: 16 s in all, each within its 10.
      for (const n of [2, 3, 4, 5]) yield* feed.page(n, "4 seconds")
      const results = [...yield* Fiber.join(read)]
      assert.deepStrictEqual(titlesOf(results), ["Post 1", "Post 2", "Post 3", "Post 4", "Post 5"])
      assert.isTrue(results.every(Either.isRight))
    }))

  it.scoped("a page past FEED_DEADLINE fails as a fetch out of time, within a longer FEED_SOURCE_DEADLINE", () =>
    Effect.gen(function*() {
      const feed = yield* heldFeed(3)
      const read = yield* feed.read({ deadline: "10 seconds", sourceDeadline: "1 minute" })
      yield* feed.page(2, "10 seconds", false)
      const results = [...yield* Fiber.join(read)]
      assert.deepStrictEqual(titlesOf(results), ["Post 1"])
      const last = results[results.length - 1]!
      assert.deepStrictEqual(Either.isLeft(last) ? [last.left._tag, last.left.message] : last, [
        "RequestTimeout",
        `${feed.url}?page=2: gave up after 10000 ms in total (1 attempt(s))`
      ])
    }))
})
