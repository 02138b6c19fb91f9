/**
 * The hook into the import pipeline, end to end: a real server on 127.0.0.1 serves a feed, the
 * pipeline processes and stores it (in-memory repository), failures land in the summary.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, Layer } from "effect"
import { FeedClient } from "../../src/Clients/FeedClient.js"
import { PostProcessor } from "../../src/Processing/PostProcessor.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { importFromUrls } from "../../src/Sources/ImportFromUrl.js"
import { testServer } from "../Clients/server.js"
import { rssAtFeedXml } from "./harness.js"

const services = Layer.mergeAll(
  FeedClient.layer({ retries: 0 }).pipe(Layer.provide(NodeHttpClient.layer)),
  PostProcessor.layer({ wordsPerMinute: 230, excerptLength: 280 }),
  MemoryPostRepository.layer
)

describe("importFromUrls", () => {
  it.scoped("imports a feed, reports an unreachable source, and is idempotent", () =>
    Effect.gen(function*() {
      const server = yield* testServer(rssAtFeedXml)
      const urls = [`${server.url}/feed.xml`, `${server.url}/gone.xml`]
      const first = yield* importFromUrls(urls)
      assert.strictEqual(first.status, "completed")
      assert.strictEqual(first.imported, 4)
      assert.strictEqual(first.failed, 1)
      assert.strictEqual(first.failures[0]!.source, `${server.url}/gone.xml`)
      assert.include(first.failures[0]!.reason, "HTTP 404")
      assert.isFalse(first.failures[0]!.reason.startsWith(server.url), "the URL is the failure's source, not said twice")

      const stored = yield* Effect.flatMap(PostRepository, (r) => r.getBySlug("cafe-creme-bold-news"))
      assert.strictEqual(stored.source, `${server.url}/feed.xml#post-1`)
      assert.notInclude(stored.html, "<script")

      const again = yield* importFromUrls(urls.slice(0, 1))
      assert.strictEqual(again.unchanged, 4)
      assert.strictEqual(again.imported, 0)
    }).pipe(Effect.provide(services)))

  it.scoped("an item with an unreadable date is a failure naming it, the field and the value; the rest is imported", () =>
    Effect.gen(function*() {
      const rss = `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><guid>bad</guid><title>Bad date</title><pubDate>not a date</pubDate><description>x</description></item>
<item><guid>good</guid><title>Good date</title><pubDate>Tue, 02 Jan 2024 10:00:00</pubDate><description>y</description></item>
</channel></rss>`
      const server = yield* testServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/rss+xml" })
        res.end(rss)
      })
      const summary = yield* importFromUrls([`${server.url}/feed.xml`])
      assert.strictEqual(summary.imported, 1)
      assert.strictEqual(summary.failed, 1)
      assert.strictEqual(summary.failures[0]!.source, `${server.url}/feed.xml#bad`)
      assert.include(summary.failures[0]!.reason, "<pubDate> \"not a date\" is not a date")
      const good = yield* Effect.flatMap(PostRepository, (r) => r.getBySlug("good-date"))
      assert.strictEqual(good.publishedAt === null ? null : DateTime.formatIso(good.publishedAt), "2024-01-02T10:00:00.000Z")
    }).pipe(Effect.provide(services)))

  it.scoped("two items without a title whose text starts alike are two posts, not a duplicate slug", () =>
    Effect.gen(function*() {
      const rss = `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><link>https://m.example/notes/1</link><description>Photo of the day</description></item>
<item><link>https://m.example/notes/2</link><description>Photo of the day</description></item>
</channel></rss>`
      const server = yield* testServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/rss+xml" })
        res.end(rss)
      })
      const summary = yield* importFromUrls([`${server.url}/feed.xml`])
      assert.deepStrictEqual(summary.failures, [])
      assert.strictEqual(summary.imported, 2)
      const posts = yield* Effect.forEach(["notes-1", "notes-2"], (slug) => Effect.flatMap(PostRepository, (r) => r.getBySlug(slug)))
      assert.deepStrictEqual(posts.map((p) => p.title), ["Photo of the day", "Photo of the day"])
    }).pipe(Effect.provide(services)))
})
