/**
 * A post whose title (so slug) changed, re-imported, seen over HTTP as the app composes it: the
 * SQLite repository announcing its writes (PostChanges), the response cache following them, the
 * reader site. The old URL must stop answering the post (it is a 301 to the new one) whether the
 * import came over HTTP or from elsewhere (`inkwell import` next to the server), not only once the
 * cache's TTL ran out; the 301 is never kept, so a later move or a post taking the slug again is
 * seen at once; an old slug an import restores (`movedFrom`) redirects at once, and costs the
 * cache no more than it must.
 */
import { HttpClientRequest } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schedule } from "effect"
import { ImportFeedsLive, postsWith } from "../../src/App.js"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import * as SqlLive from "../../src/Database/SqlLive.js"
import { PostChanges } from "../../src/Database/PostChanges.js"
import { ApiKeys } from "../../src/Http/ApiKeys.js"
import { requestMiddleware } from "../../src/Http/Middleware.js"
import { ResponseCache } from "../../src/Http/ResponseCache.js"
import * as Server from "../../src/Http/Server.js"
import * as AnnouncingPostRepository from "../../src/Posts/AnnouncingPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import * as SiteRoutes from "../../src/Site/Routes.js"
import { SiteConfig } from "../../src/Site/SiteConfig.js"
import { makeNewPost } from "../fixtures/posts.js"
import { get, json, KEY, newPost, postJson, putJson, send } from "../Http/harness.js"
import { sqliteStack } from "../Import/harness.js"
import { fetchPage } from "../Site/harness.js"

/** PostChanges as the app builds it on SQLite (an in-process PubSub). */
const changes = PostChanges.layer("sqlite::memory:").pipe(
  Layer.provide(DatabasePool.layer({ maxConnections: 1, acquireTimeout: "5 seconds" })),
  Layer.provide(SqlLive.layer("sqlite::memory:", { maxConnections: 1 })),
  Layer.orDie
)

const repository = AnnouncingPostRepository.layer.pipe(Layer.provide(sqliteStack("sqlite::memory:")), Layer.orDie)

const server = Server.serve(requestMiddleware({ requestTimeout: "30 seconds", maxBodySize: 1024 * 1024, retryAfterSeconds: 1 })).pipe(
  Layer.provide(SiteRoutes.layer),
  Layer.provide(SiteConfig.layer({ title: "Test Blog", description: "Words", url: "https://blog.example.com", maxAgeSeconds: 60 })),
  // Over the server's Posts, and told of PostChanges (provided below).
  Layer.provideMerge(ResponseCache.layer({ maxEntries: 100, maxBytes: 1024 * 1024, ttl: "1 hour" })),
  Layer.provide(postsWith(repository)),
  Layer.provideMerge(repository),
  Layer.provide(ApiKeys.layer([KEY])),
  Layer.provide(ImportFeedsLive),
  Layer.provideMerge(NodeHttpServer.layerTest),
  Layer.provideMerge(changes)
)

const importNdjson = (lines: ReadonlyArray<Record<string, unknown>>) =>
  Effect.flatMap(
    send(
      HttpClientRequest.post("/posts/import").pipe(
        HttpClientRequest.bodyText(lines.map((l) => `${JSON.stringify(l)}\n`).join(""), "application/x-ndjson"),
        HttpClientRequest.setHeaders({ "x-api-key": KEY })
      )
    ),
    json
  )

/** Until `done` holds: the cache hears of changes on its own fiber (bounded, no sleep). */
const until = (done: () => boolean, what: string) =>
  Effect.yieldNow().pipe(
    Effect.zipRight(Effect.suspend(() => done() ? Effect.void : Effect.fail(what))),
    Effect.retry(Schedule.recurs(1000))
  )

/** Whether the response cache holds an answer for `url` (a GET without credentials). */
const cached = (url: string) => Effect.map(ResponseCache, (cache) => cache.lookup("GET", url, false, undefined) !== undefined)

/** Reads the site page at `path` twice, so it is kept, and checks it is. */
const pageCached = (path: string) =>
  Effect.gen(function*() {
    assert.strictEqual((yield* fetchPage(path)).status, 200, path)
    yield* fetchPage(path)
    assert.isTrue(yield* cached(path), `${path} cached`)
  })

/** `url` answers 301 to `location`, read twice, and is not kept by the cache (only 200s are). */
const assertMovedUncached = (url: string, location: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 2; i++) {
      const moved = yield* get(url)
      assert.deepStrictEqual([moved.status, moved.headers["location"]], [301, location], url)
    }
    assert.isUndefined((yield* ResponseCache).lookup("GET", url, false, undefined), `${url} not cached`)
  })

/** Reads `url` twice, so the second answer comes from the cache, and checks it is cached. */
const readCached = (url: string) =>
  Effect.gen(function*() {
    const first = yield* json(yield* get(url))
    yield* get(url)
    assert.isDefined((yield* ResponseCache).lookup("GET", url, false, undefined), `${url} cached`)
    return first
  })

describe("a post whose slug changed, over HTTP", () => {
  it.scoped("an HTTP import moves it: the old URL is a 301 to the new one, the same post one version later", () =>
    Effect.gen(function*() {
      const first = yield* importNdjson([{ source: "export/a", slug: "first-title", title: "First Title", body: "Hello" }])
      assert.strictEqual(first.imported, 1)
      const before = yield* readCached("/posts/first-title")
      assert.strictEqual((yield* json(yield* get("/posts?limit=10"))).items.length, 1)

      const summary = yield* importNdjson([{ source: "export/a", slug: "second-title", title: "Second Title", body: "Hello again" }])
      assert.deepStrictEqual([summary.imported, summary.updated, summary.moves], [0, 1, [{
        source: "request:1",
        from: "first-title",
        to: "second-title"
      }]])
      yield* assertMovedUncached("/posts/first-title", "/posts/second-title")
      const after = yield* json(yield* get("/posts/second-title"))
      assert.deepStrictEqual([after.id, after.version, after.title, after.createdAt], [before.id, 2, "Second Title", before.createdAt])
      const listed = yield* json(yield* get("/posts?limit=10"))
      assert.deepStrictEqual(listed.items.map((p: { slug: string }) => p.slug), ["second-title"])

      const again = yield* importNdjson([{ source: "export/a", slug: "second-title", title: "Second Title", body: "Hello again" }])
      assert.deepStrictEqual([again.imported, again.updated, again.unchanged, again.moves], [0, 0, 1, []])
    }).pipe(Effect.provide(server)))

  it.scoped("an import from elsewhere (the repository, as `inkwell import`) drops the cached old URL through PostChanges", () =>
    Effect.gen(function*() {
      const repo = yield* PostRepository
      const cache = yield* ResponseCache
      yield* repo.upsertMany([makeNewPost({ slug: "first-title", title: "First Title", source: "/blog/a.md" })])
      const before = yield* readCached("/posts/first-title")
      yield* readCached("/posts?limit=10")

      const result = yield* repo.upsertMany([makeNewPost({ slug: "second-title", title: "Second Title", source: "/blog/a.md" })])
      assert.deepStrictEqual(result.outcomes.map((o) => [o.action, o.movedFrom]), [["updated", "first-title"]])
      yield* until(() => cache.lookup("GET", "/posts/first-title", false, undefined) === undefined, "still cached")
      assert.isUndefined(cache.lookup("GET", "/posts?limit=10", false, undefined))
      yield* assertMovedUncached("/posts/first-title", "/posts/second-title")
      const after = yield* json(yield* get("/posts/second-title"))
      assert.deepStrictEqual([after.id, after.version], [before.id, 2])
      const listed = yield* json(yield* get("/posts?limit=10"))
      assert.deepStrictEqual(listed.items.map((p: { slug: string }) => p.slug), ["second-title"])
    }).pipe(Effect.provide(server)))

  it.scoped("an import restoring an old slug of an unchanged post (`movedFrom`): it redirects at once, and the post stays cached", () =>
    Effect.gen(function*() {
      const repo = yield* PostRepository
      const cache = yield* ResponseCache
      const post = makeNewPost({ slug: "kept", title: "Kept", source: "/blog/kept.md" })
      yield* repo.upsertMany([post])
      yield* readCached("/posts/kept")
      yield* pageCached("/p/kept")
      assert.strictEqual((yield* fetchPage("/p/old-kept")).status, 404)

      const result = yield* repo.upsertMany([post], { redirects: [["old-kept"]] })
      assert.deepStrictEqual([result.outcomes.map((o) => o.action), result.redirectsAdded], [["unchanged"], ["old-kept"]])
      // Announced (a change of one slug drops every site page): the post itself did not change.
      yield* until(() => cache.lookup("GET", "/p/kept", false, undefined) === undefined, "site page still cached")
      assert.isTrue(yield* cached("/posts/kept"), "the unchanged post is still cached: no Reset")
      const moved = yield* fetchPage("/p/old-kept")
      assert.deepStrictEqual([moved.status, moved.headers["location"]], [301, "/p/kept"])

      // The same again (a re-import of the export): the redirect is in place, nothing to announce.
      yield* pageCached("/p/kept")
      const again = yield* repo.upsertMany([post], { redirects: [["old-kept"]] })
      assert.deepStrictEqual([again.outcomes.map((o) => o.action), again.redirectsAdded], [["unchanged"], undefined])
      // Whatever the re-import announced reached the cache before a change announced after it.
      yield* (yield* PostChanges).publish("marker")
      yield* until(() => cache.lookup("GET", "/p/kept", false, undefined) === undefined, "marker not heard")
      assert.isTrue(yield* cached("/posts/kept"), "still cached: the re-import announced no Reset")
      assert.strictEqual((yield* fetchPage("/p/old-kept")).status, 301)
    }).pipe(Effect.provide(server)))

  it.scoped("moved again by a PUT, or its old slug taken by a new post: no cached answer outlives the write", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* postJson("/posts", newPost({ slug: "first" }))).status, 201)
      assert.strictEqual((yield* putJson("/posts/first", newPost({ slug: "second", version: 1 }))).status, 200)
      yield* readCached("/posts/second")
      yield* assertMovedUncached("/posts/first", "/posts/second")

      assert.strictEqual((yield* putJson("/posts/second", newPost({ slug: "third", version: 2 }))).status, 200)
      yield* assertMovedUncached("/posts/second", "/posts/third")
      yield* assertMovedUncached("/posts/first", "/posts/third")

      assert.strictEqual((yield* postJson("/posts", newPost({ slug: "first", title: "Another" }))).status, 201)
      assert.strictEqual((yield* readCached("/posts/first")).title, "Another")
    }).pipe(Effect.provide(server)))
})
