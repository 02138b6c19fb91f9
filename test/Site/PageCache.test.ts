/**
 * Reader-site answers kept by the response cache: a page, feed or sitemap is made once and then
 * answered from memory with the same bytes and headers (304s too); every write drops them all;
 * 404s and redirects are never kept; a kept page ends when a scheduled post's time comes, and a
 * hit's max-age counts down to it. Time is TestClock's.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { type DateTime, Effect, Layer, TestClock } from "effect"
import { postsWith } from "../../src/App.js"
import { ApiKeys } from "../../src/Http/ApiKeys.js"
import { requestMiddleware } from "../../src/Http/Middleware.js"
import { ResponseCache } from "../../src/Http/ResponseCache.js"
import * as Server from "../../src/Http/Server.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import * as SiteRoutes from "../../src/Site/Routes.js"
import { SiteConfig } from "../../src/Site/SiteConfig.js"
import { atFixtureNow } from "../fixtures/clock.js"
import { fetchPage, KEY, seed, SITE_URL } from "./harness.js"

/** The site server with a response cache that knows the schedule (as `Server.layer` builds it). */
const siteOver = (repository: Layer.Layer<PostRepository>) =>
  Server.serve(requestMiddleware({ requestTimeout: "30 seconds", maxBodySize: 1024 * 1024, retryAfterSeconds: 1 })).pipe(
    Layer.provide(SiteRoutes.layer),
    Layer.provideMerge(ResponseCache.layer({ maxEntries: 100, maxBytes: 4 * 1024 * 1024, ttl: "1 hour" })),
    Layer.provideMerge(postsWith(repository)),
    Layer.provide(ApiKeys.layer([KEY])),
    Layer.provide(SiteConfig.layer({ title: "Test Blog", description: "Words", url: SITE_URL, maxAgeSeconds: 60 })),
    Layer.provideMerge(repository),
    Layer.provideMerge(NodeHttpServer.layerTest),
    Layer.provide(atFixtureNow)
  )

const cachedSite = siteOver(MemoryPostRepository.layer)

/** The in-memory repository, counting its `nextScheduled` queries. */
const scheduleQueries = { count: 0 }
const countingRepository = Layer.effect(
  PostRepository,
  Effect.map(PostRepository, (repository) => ({
    ...repository,
    nextScheduled: (after: DateTime.Utc) => {
      scheduleQueries.count++
      return repository.nextScheduled!(after)
    }
  }))
).pipe(Layer.provide(MemoryPostRepository.layer))

const hits = Effect.flatMap(ResponseCache, (cache) => Effect.map(cache.stats, (stats) => stats.hits))

/** The headers a kept answer must repeat (the request id and date are the request's own). */
const kept = (headers: Readonly<Record<string, string>>) => {
  const { "x-request-id": _id, date: _date, ...rest } = headers
  return rest
}

const write = (method: "POST" | "PUT", path: string, body: unknown) =>
  Effect.flatMap(HttpClient.HttpClient, (client) =>
    client.execute(HttpClientRequest.make(method)(path).pipe(HttpClientRequest.setHeader("x-api-key", KEY), HttpClientRequest.bodyUnsafeJson(body))))
    .pipe(Effect.flatMap((response) => Effect.map(response.json, (json) => ({ status: response.status, json: json as any }))), Effect.scoped)

describe("reader pages in the response cache", () => {
  it.effect("a page, a feed and the sitemap are made once: the same bytes and headers after, and 304s with the page's headers", () =>
    Effect.gen(function* () {
      yield* seed({ slug: "one", title: "One", publishedAt: "2025-05-01T00:00:00Z", tags: ["news"] })
      for (const path of ["/", "/p/one", "/tags/news", "/rss.xml", "/sitemap.xml"]) {
        const first = yield* fetchPage(path)
        assert.strictEqual(first.status, 200, path)
        const before = yield* hits
        const second = yield* fetchPage(path)
        assert.strictEqual(yield* hits, before + 1, `${path} answered from memory`)
        assert.strictEqual(second.body, first.body, path)
        assert.deepStrictEqual(kept(second.headers), kept(first.headers), path)

        const notModified = yield* fetchPage(path, { "if-none-match": first.headers["etag"]! })
        assert.strictEqual(notModified.status, 304, path)
        assert.strictEqual(yield* hits, before + 2, path)
        for (const header of ["etag", "cache-control", "content-security-policy", "last-modified"]) {
          assert.strictEqual(notModified.headers[header], first.headers[header], `${path}: ${header}`)
        }
      }
    }).pipe(Effect.provide(cachedSite)))

  it.effect("a write through the API drops every kept page", () =>
    Effect.gen(function* () {
      const created = yield* write("POST", "/posts", { title: "Draft One", body: "Words.", status: "published", tags: ["news"] })
      assert.strictEqual(created.status, 201)
      for (const path of ["/", "/p/draft-one", "/tags/news", "/rss.xml"]) {
        yield* fetchPage(path)
        assert.include((yield* fetchPage(path)).body, "Draft One", path)
      }
      const updated = yield* write("PUT", "/posts/draft-one", {
        title: "Final One",
        body: "Words.",
        status: "published",
        tags: ["news"],
        version: created.json.version
      })
      assert.strictEqual(updated.status, 200)
      for (const path of ["/", "/p/draft-one", "/tags/news", "/rss.xml"]) {
        const page = yield* fetchPage(path)
        assert.include(page.body, "Final One", path)
        assert.notInclude(page.body, "Draft One", path)
      }
    }).pipe(Effect.provide(cachedSite)))

  it.effect("a page kept at a URL the router reads as another's (`/p/x;`) is dropped with it", () =>
    Effect.gen(function* () {
      const created = yield* write("POST", "/posts", { title: "Draft One", body: "Words.", status: "published", tags: ["news"] })
      assert.strictEqual(created.status, 201)
      // Doubled and trailing slashes are redirected to the page's own URL (never kept); these are answered.
      const paths = ["/p/draft-one;", "/p/draft-one;v=1", "/tags/news;"]
      for (const path of paths) {
        yield* fetchPage(path)
        const page = yield* fetchPage(path)
        assert.strictEqual(page.status, 200, path)
        assert.include(page.body, "Draft One", path)
      }
      const unpublished = yield* write("PUT", "/posts/draft-one;", {
        title: "Draft One",
        body: "Words.",
        status: "draft",
        tags: ["news"],
        version: created.json.version
      })
      assert.strictEqual(unpublished.status, 200)
      for (const path of paths) assert.notInclude((yield* fetchPage(path)).body, "Draft One", path)
    }).pipe(Effect.provide(cachedSite)))

  it.effect("404s, redirects and URLs with a query are made every time, never kept", () =>
    Effect.gen(function* () {
      yield* seed({ slug: "one", title: "One", publishedAt: "2025-05-01T00:00:00Z", tags: ["news"] })
      const before = yield* hits
      for (let i = 0; i < 2; i++) {
        // A query makes a page anyone can vary at will (search results, tracking parameters).
        assert.strictEqual((yield* fetchPage("/?utm_source=feed")).status, 200)
        assert.strictEqual((yield* fetchPage("/search?q=one")).status, 200)
        assert.strictEqual((yield* fetchPage("/p/missing")).status, 404)
        assert.strictEqual((yield* fetchPage("/tags/NEWS")).status, 301)
        assert.strictEqual((yield* fetchPage("/page/1")).status, 301)
      }
      assert.strictEqual(yield* hits, before)
      const stats = yield* Effect.flatMap(ResponseCache, (cache) => cache.stats)
      assert.strictEqual(stats.entries, 0)
    }).pipe(Effect.provide(cachedSite)))

  it.effect("a kept page ends when a scheduled post's time comes; until then a hit's max-age counts down to it", () =>
    Effect.gen(function* () {
      const due = Date.parse("2026-03-01T12:00:00Z")
      yield* TestClock.setTime(due - 45_000)
      yield* seed(
        { slug: "now", title: "Now", publishedAt: "2026-02-01T00:00:00Z", tags: ["news"] },
        { slug: "later", title: "Later", publishedAt: new Date(due).toISOString(), tags: ["news"] }
      )
      const first = yield* fetchPage("/")
      assert.notInclude(first.body, "/p/later")
      assert.strictEqual(first.headers["cache-control"], "public, max-age=45")

      yield* TestClock.adjust("20 seconds")
      const before = yield* hits
      const kept = yield* fetchPage("/")
      assert.strictEqual(yield* hits, before + 1)
      assert.strictEqual(kept.headers["cache-control"], "public, max-age=25")
      assert.strictEqual(kept.body, first.body)
      // The front door's answer counts down alike.
      const cache = yield* ResponseCache
      const door = cache.lookup("GET", "/", false, undefined)!
      const cacheControl = door.headers!.indexOf("cache-control")
      assert.strictEqual(door.headers![cacheControl + 1], "public, max-age=25")

      yield* TestClock.setTime(due)
      const after = yield* fetchPage("/")
      assert.include(after.body, "/p/later")
      assert.strictEqual(yield* hits, before + 2, "not answered from the kept page (the lookup above was one hit)")
      assert.strictEqual(after.headers["cache-control"], "public, max-age=60")
    }).pipe(Effect.provide(cachedSite)))

  it.effect("a GET whose answer is not kept (health checks, the document) costs no schedule query", () =>
    Effect.gen(function* () {
      yield* seed({ slug: "one", title: "One", publishedAt: "2025-05-01T00:00:00Z", tags: ["news"] })
      const before = scheduleQueries.count
      for (const path of ["/health", "/ready", "/openapi.json"]) {
        assert.strictEqual((yield* fetchPage(path)).status, 200, path)
      }
      assert.strictEqual(scheduleQueries.count, before)
      // A kept answer (a page, the API's tag counts) asks once, when it is stored.
      yield* fetchPage("/")
      const page = scheduleQueries.count
      assert.isAbove(page, before)
      yield* fetchPage("/tags")
      assert.strictEqual(scheduleQueries.count, page + 1)
      yield* fetchPage("/tags")
      assert.strictEqual(scheduleQueries.count, page + 1, "then answered from memory")
    }).pipe(Effect.provide(siteOver(countingRepository))))
})
