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
import { ImportFeedsLive, postsWith } from "../../src/App.js"
import { ApiKeys } from "../../src/Http/ApiKeys.js"
import { requestMiddleware } from "../../src/Http/Middleware.js"
import { ALL_POSTS, ResponseCache } from "../../src/Http/ResponseCache.js"
import * as Server from "../../src/Http/Server.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import * as SiteRoutes from "../../src/Site/Routes.js"
import { SiteConfig } from "../../src/Site/SiteConfig.js"
import { atFixtureNow } from "../fixtures/clock.js"
import { assertMoved, fetchPage, KEY, seed, SITE_URL } from "./harness.js"

/** The site server with a response cache that knows the schedule (as `Server.layer` builds it). */
const siteOver = (repository: Layer.Layer<PostRepository>, url = SITE_URL) =>
  Server.serve(requestMiddleware({ requestTimeout: "30 seconds", maxBodySize: 1024 * 1024, retryAfterSeconds: 1 })).pipe(
    Layer.provide(SiteRoutes.layer),
    Layer.provideMerge(ResponseCache.layer({ maxEntries: 100, maxBytes: 4 * 1024 * 1024, ttl: "1 hour" })),
    Layer.provideMerge(postsWith(repository)),
    Layer.provide(ApiKeys.layer([KEY])),
    Layer.provide(ImportFeedsLive),
    Layer.provide(SiteConfig.layer({ title: "Test Blog", description: "Words", url, maxAgeSeconds: 60 })),
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

/**
 * `path` asked twice: made (a 200), then answered from memory with the same bytes. Both answers,
 * and the hits before the second.
 */
const madeOnceThenKept = (path: string) =>
  Effect.gen(function* () {
    const first = yield* fetchPage(path)
    assert.strictEqual(first.status, 200, path)
    const before = yield* hits
    const second = yield* fetchPage(path)
    assert.strictEqual(yield* hits, before + 1, `${path} answered from memory`)
    assert.strictEqual(second.body, first.body, path)
    return { before, first, second }
  })

const write = (method: "POST" | "PUT", path: string, body: unknown) =>
  Effect.flatMap(HttpClient.HttpClient, (client) =>
    client.execute(HttpClientRequest.make(method)(path).pipe(HttpClientRequest.setHeader("x-api-key", KEY), HttpClientRequest.bodyUnsafeJson(body))))
    .pipe(Effect.flatMap((response) => Effect.map(response.json, (json) => ({ status: response.status, json: json as any }))), Effect.scoped)

describe("reader pages in the response cache", () => {
  it.effect("a page, a feed and the sitemap are made once: the same bytes and headers after, and 304s with the page's headers", () =>
    Effect.gen(function* () {
      yield* seed({ slug: "one", title: "One", publishedAt: "2025-05-01T00:00:00Z", tags: ["news"] })
      for (const path of ["/", "/p/one", "/tags/news", "/rss.xml", "/sitemap.xml"]) {
        const { before, first, second } = yield* madeOnceThenKept(path)
        assert.deepStrictEqual(kept(second.headers), kept(first.headers), path)

        const notModified = yield* fetchPage(path, { "if-none-match": first.headers["etag"]! })
        assert.strictEqual(notModified.status, 304, path)
        assert.strictEqual(yield* hits, before + 2, path)
        for (const header of ["etag", "cache-control", "content-security-policy", "last-modified"]) {
          assert.strictEqual(notModified.headers[header], first.headers[header], `${path}: ${header}`)
        }
      }
    }).pipe(Effect.provide(cachedSite)))

  it.effect("an If-None-Match with `*` in a list (no entity tag there) is the page's 200 on the full path, from memory and at the front door", () =>
    Effect.gen(function* () {
      yield* seed({ slug: "one", title: "One", publishedAt: "2025-05-01T00:00:00Z", tags: ["news"] })
      const cache = yield* ResponseCache
      for (const header of [`"nope", *`, `*, "x"`, "W/*"]) {
        yield* cache.invalidate(ALL_POSTS)
        const full = yield* fetchPage("/p/one", { "if-none-match": header })
        assert.strictEqual(full.status, 200, `${header}: the full path`)
        const before = yield* hits
        const kept = yield* fetchPage("/p/one", { "if-none-match": header })
        assert.strictEqual(yield* hits, before + 1, `${header}: answered from memory`)
        assert.strictEqual(kept.status, 200, `${header}: from memory`)
        assert.strictEqual(kept.body, full.body, header)
        assert.strictEqual(cache.lookup("GET", "/p/one", false, header)?.status, 200, `${header}: at the front door`)
        // `*` alone is any page there is, whichever way it is answered.
        assert.strictEqual(cache.lookup("GET", "/p/one", false, "*")?.status, 304)
        assert.strictEqual((yield* fetchPage("/p/one", { "if-none-match": "*" })).status, 304)
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

  it.effect("a page asked at another spelling the router reads as it (`/p/x;N`) moves to its URL, never kept: a stream of them pushes no page out", () =>
    Effect.gen(function* () {
      yield* seed({ slug: "one", title: "One", publishedAt: "2025-05-01T00:00:00Z", tags: ["news"] })
      const cache = yield* ResponseCache
      const page = yield* fetchPage("/p/one")
      assert.strictEqual(page.status, 200)
      // More spellings than the cache has entries (100), each asked once, as a flood would.
      for (let i = 0; i < 120; i++) {
        const path = i % 3 === 0 ? `/p/one;${i}` : i % 3 === 1 ? `/;${i}` : `/rss.xml;${i}?x=1`
        yield* assertMoved(path, i % 3 === 0 ? "/p/one" : i % 3 === 1 ? "/" : "/rss.xml?x=1")
      }
      assert.strictEqual((yield* cache.stats).entries, 1)
      for (const url of ["/p/one;1", "/p/one#1", "/p/one/", "//p/one", "http://any.host/p/one"]) {
        assert.isUndefined(cache.lookup("GET", url, false, undefined), url)
      }
      const before = yield* hits
      assert.strictEqual((yield* fetchPage("/p/one")).body, page.body)
      assert.strictEqual(yield* hits, before + 1, "the page is still kept")
    }).pipe(Effect.provide(cachedSite)))

  it.effect("a page's path with its escapes written another way (`/p/%6Fne`, lower-case hex) is a 301 to its page, never kept (was: the page, made each time)", () =>
    Effect.gen(function* () {
      yield* seed(
        { slug: "one", title: "One", publishedAt: "2025-05-01T00:00:00Z", tags: ["ärger"] },
        { slug: "two", title: "Two", publishedAt: "2025-05-02T00:00:00Z", tags: ["ärger"] }
      )
      const cache = yield* ResponseCache
      const page = yield* fetchPage("/p/one")
      const tag = yield* fetchPage("/tags/%C3%A4rger")
      assert.strictEqual(tag.status, 200)
      const stored = yield* cache.stats
      assert.strictEqual(stored.entries, 2, "the page and the tag's page, as the site links them")
      for (const [path, location] of [["/p/%6Fne", "/p/one"], ["/p/on%65", "/p/one"], ["/p/%6f%6E%65", "/p/one"], ["/tags/%c3%a4rger", "/tags/%C3%A4rger"], ["/tags/%C3%a4rger", "/tags/%C3%A4rger"]] as const) {
        for (let i = 0; i < 2; i++) {
          yield* assertMoved(path, location)
        }
        assert.isUndefined(cache.lookup("GET", path, false, undefined), path)
      }
      const after = yield* cache.stats
      assert.strictEqual(after.entries, stored.entries, "none kept")
      assert.strictEqual(after.hits, stored.hits, "none answered from memory")
      // The page at its one URL is still answered from memory, the same bytes.
      const again = yield* fetchPage("/p/one")
      assert.strictEqual(again.body, page.body)
      assert.strictEqual((yield* cache.stats).hits, stored.hits + 1)
    }).pipe(Effect.provide(cachedSite)))

  it.effect("under SITE_URL's path, each page is kept at the URL it was asked at, its home page `/blog/` too, with the same bytes as at the root", () =>
    Effect.gen(function* () {
      yield* seed({ slug: "one", title: "One", publishedAt: "2025-05-01T00:00:00Z", tags: ["news"] })
      const cache = yield* ResponseCache
      for (const [path, root] of [["/blog/", "/"], ["/blog/p/one", "/p/one"], ["/blog/rss.xml", "/rss.xml"]] as const) {
        const { first } = yield* madeOnceThenKept(path)
        // The front door keys it alike.
        assert.strictEqual(Buffer.from(cache.lookup("GET", path, false, undefined)!.body).toString(), first.body, `${path} at the front door`)
        // At the root (a proxy that strips the path): an entry of its own, the same bytes.
        const atRoot = yield* fetchPage(root)
        assert.strictEqual(atRoot.body, first.body, root)
        assert.strictEqual(atRoot.headers["etag"], first.headers["etag"], root)
      }
      // The path alone moves to `/blog/`, and is never kept.
      for (let i = 0; i < 2; i++) assert.strictEqual((yield* fetchPage("/blog")).status, 301)
      assert.isUndefined(cache.lookup("GET", "/blog", false, undefined))
      assert.strictEqual((yield* cache.stats).entries, 6)
    }).pipe(Effect.provide(siteOver(MemoryPostRepository.layer, "https://example.com/blog"))))

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

  it.effect("robots.txt and the stylesheet list no posts: kept as the site sends them, max-age uncut, past a scheduled post's time", () =>
    Effect.gen(function* () {
      const due = Date.parse("2026-03-01T12:00:00Z")
      yield* TestClock.setTime(due - 45_000)
      yield* seed(
        { slug: "now", title: "Now", publishedAt: "2026-02-01T00:00:00Z", tags: ["news"] },
        { slug: "later", title: "Later", publishedAt: new Date(due).toISOString(), tags: ["news"] }
      )
      const paths = ["/robots.txt", "/assets/site.css"]
      const queries = scheduleQueries.count
      const first = yield* Effect.forEach(paths, (path) => fetchPage(path))
      for (const [i, path] of paths.entries()) {
        assert.strictEqual(first[i]!.status, 200, path)
        assert.strictEqual(first[i]!.headers["cache-control"], "public, max-age=60", path)
      }
      assert.strictEqual(scheduleQueries.count, queries, "no schedule query")

      const cache = yield* ResponseCache
      const before = yield* hits
      yield* TestClock.adjust("20 seconds")
      for (const [i, path] of paths.entries()) {
        const again = yield* fetchPage(path)
        assert.deepStrictEqual(kept(again.headers), kept(first[i]!.headers), path)
        const door = cache.lookup("GET", path, false, undefined)!
        assert.strictEqual(door.headers![door.headers!.indexOf("cache-control") + 1], "public, max-age=60", `${path}: at the front door`)
      }
      assert.strictEqual(yield* hits, before + 4, "answered from memory")

      // The scheduled post is public now: the pages change, these do not, and stay kept.
      yield* TestClock.setTime(due)
      assert.include((yield* fetchPage("/")).body, "/p/later")
      for (const [i, path] of paths.entries()) {
        const after = yield* fetchPage(path)
        assert.strictEqual(after.body, first[i]!.body, path)
        assert.strictEqual(after.headers["cache-control"], "public, max-age=60", path)
      }
      assert.strictEqual(yield* hits, before + 6, "still answered from memory")
    }).pipe(Effect.provide(siteOver(countingRepository))))

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
