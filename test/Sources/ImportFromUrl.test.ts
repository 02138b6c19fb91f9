/**
 * The hook into the import pipeline, end to end: a real server on 127.0.0.1 serves a feed, the
 * pipeline processes and stores it (in-memory repository), failures land in the summary.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
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
})
