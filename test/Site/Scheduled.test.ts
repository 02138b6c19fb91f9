/**
 * Scheduled posts: a published post dated after now is hidden from every public read (reader
 * site and key-less API) until its time, then appears without any write. Time is TestClock's.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { makeNewPost } from "../fixtures/posts.js"
import { sqliteStack } from "../Import/harness.js"
import { fetchPage, fetchRaw, KEY, seed, siteServer } from "./harness.js"

const NOW = "2024-06-01T12:00:00Z"
const LATER = "2024-06-02T08:00:00Z"

/** Two public posts (one with an alias) and one scheduled for LATER, newest of all. */
const seedSchedule = Effect.gen(function* () {
  yield* TestClock.setTime(Date.parse(NOW))
  yield* seed(
    { slug: "first", title: "First", publishedAt: "2024-05-01T00:00:00Z", tags: ["news"], aliases: ["/old/shared.html"] },
    { slug: "second", title: "Second", publishedAt: "2024-05-15T00:00:00Z", tags: ["news"] },
    {
      slug: "upcoming",
      title: "Upcoming",
      publishedAt: LATER,
      updatedAtSource: LATER,
      tags: ["news", "soon"],
      aliases: ["/old/shared.html", "/old/upcoming.html"]
    }
  )
})

/** Every public document, fetched as a reader. */
const PUBLIC_PATHS = [
  "/",
  "/tags/news",
  "/rss.xml",
  "/atom.xml",
  "/feed.json",
  "/tags/news/rss.xml",
  "/tags/news/atom.xml",
  "/tags/news/feed.json",
  "/sitemap.xml",
  "/p/second"
]

describe("scheduled posts on the reader site", () => {
  it.effect("before its time: in no list, feed or sitemap, its page and tag are 404, no neighbour link, no alias; then all of it", () =>
    Effect.gen(function* () {
      yield* seedSchedule
      for (const path of PUBLIC_PATHS) {
        const page = yield* fetchPage(path)
        assert.strictEqual(page.status, 200, path)
        assert.notInclude(page.body, "upcoming", path)
        assert.notInclude(page.body, "Upcoming", path)
        // Last-Modified is no later than now: never the scheduled post's date.
        const lastModified = page.headers["last-modified"]
        if (lastModified !== undefined) assert.isAtMost(Date.parse(lastModified), Date.parse(NOW), path)
      }
      assert.include((yield* fetchPage("/p/second")).body, `href="/p/first" rel="prev"`)
      assert.notInclude((yield* fetchPage("/p/second")).body, `rel="next"`)
      for (const path of ["/p/upcoming", "/tags/soon", "/tags/soon/rss.xml", "/old/upcoming.html"]) {
        assert.strictEqual((yield* fetchPage(path)).status, 404, path)
      }
      // An alias the scheduled post shares with an older post leads to the older one meanwhile.
      assert.strictEqual((yield* fetchPage("/old/shared.html")).headers["location"], "/p/first")

      // Its time comes: no write, everything shows it.
      yield* TestClock.setTime(Date.parse(LATER))
      for (const path of PUBLIC_PATHS.filter((path) => path !== "/p/second")) {
        assert.include((yield* fetchPage(path)).body, "/p/upcoming", path)
      }
      assert.strictEqual((yield* fetchPage("/p/upcoming")).status, 200)
      assert.strictEqual((yield* fetchPage("/tags/soon")).status, 200)
      assert.include((yield* fetchPage("/p/second")).body, `href="/p/upcoming" rel="next"`)
      assert.strictEqual((yield* fetchPage("/old/upcoming.html")).headers["location"], "/p/upcoming")
      assert.strictEqual((yield* fetchPage("/old/shared.html")).headers["location"], "/p/upcoming")
      assert.strictEqual((yield* fetchPage("/")).headers["last-modified"], new Date(LATER).toUTCString())
    }).pipe(Effect.provide(siteServer())))

  it.effect("no browser or CDN may keep a list past the next scheduled post's time: max-age stops there", () =>
    Effect.gen(function* () {
      yield* seedSchedule
      const cacheControl = (path: string, headers?: Record<string, string>) =>
        Effect.map(fetchPage(path, headers), (page) => page.headers["cache-control"])
      // The alias a scheduled post will claim too: which post it leads to changes at that time.
      const everything = [...PUBLIC_PATHS, "/old/shared.html"]
      // Hours away: the full SITE_CACHE_MAX_AGE.
      for (const path of everything) assert.strictEqual(yield* cacheControl(path), "public, max-age=60", path)

      // 30.5 s away: 30 (rounded down, so no copy outlives it), on 200s, 301s and 304s alike.
      yield* TestClock.setTime(Date.parse(LATER) - 30_500)
      for (const path of everything) assert.strictEqual(yield* cacheControl(path), "public, max-age=30", path)
      const etag = (yield* fetchPage("/")).headers["etag"]!
      const revalidated = yield* fetchPage("/", { "if-none-match": etag })
      assert.strictEqual(revalidated.status, 304)
      assert.strictEqual(revalidated.headers["cache-control"], "public, max-age=30")
      // What no post lists keeps its max-age; a 404 is never cached.
      assert.strictEqual(yield* cacheControl("/robots.txt"), "public, max-age=60")
      assert.strictEqual(yield* cacheControl("/p/upcoming"), "no-cache")

      // Under a second away: nothing to keep.
      yield* TestClock.setTime(Date.parse(LATER) - 500)
      assert.strictEqual(yield* cacheControl("/"), "public, max-age=0")
      // Its time has come and nothing else is scheduled: the full max-age again.
      yield* TestClock.setTime(Date.parse(LATER))
      for (const path of everything) assert.strictEqual(yield* cacheControl(path), "public, max-age=60", path)
    }).pipe(Effect.provide(siteServer())))

  it.effect("max-age is SITE_CACHE_MAX_AGE when that is sooner", () =>
    Effect.gen(function* () {
      yield* seedSchedule
      yield* TestClock.setTime(Date.parse(LATER) - 30_000)
      assert.strictEqual((yield* fetchPage("/")).headers["cache-control"], "public, max-age=10")
    }).pipe(Effect.provide(siteServer({ maxAgeSeconds: 10 }))))

  it.effect("a repository without nextScheduled keeps the full max-age", () =>
    Effect.gen(function* () {
      yield* seedSchedule
      yield* TestClock.setTime(Date.parse(LATER) - 30_000)
      assert.strictEqual((yield* fetchPage("/")).headers["cache-control"], "public, max-age=60")
      assert.notInclude((yield* fetchPage("/")).body, "Upcoming")
    }).pipe(
      Effect.provide(siteServer({}, Layer.effect(PostRepository, Effect.map(MemoryPostRepository.make, ({ nextScheduled: _, ...rest }) => rest))))
    ))

  it.effect("a moved post's old page does not lead to it before its time (SQLite)", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.parse(NOW))
      const repository = yield* PostRepository
      const created = yield* repository.create(makeNewPost({ slug: "old-name", title: "Old name", source: "a.md" }))
      yield* repository.update(
        "old-name",
        created.version,
        makeNewPost({ slug: "new-name", title: "New name", source: "a.md", publishedAt: LATER })
      )
      assert.strictEqual((yield* fetchPage("/p/old-name")).status, 404)
      assert.strictEqual((yield* fetchPage("/p/new-name")).status, 404)
      yield* TestClock.setTime(Date.parse(LATER))
      const moved = yield* fetchPage("/p/old-name")
      assert.strictEqual(moved.status, 301)
      assert.strictEqual(moved.headers["location"], "/p/new-name")
      assert.strictEqual((yield* fetchPage("/p/new-name")).status, 200)
    }).pipe(
      Effect.provide(
        siteServer({}, Layer.effect(PostRepository, PostRepository).pipe(Layer.provide(sqliteStack("sqlite::memory:")), Layer.orDie))
      )
    ))
})

describe("scheduled posts in the JSON API", () => {
  const api = (path: string, headers: Record<string, string> = {}) =>
    Effect.map(fetchRaw(path, { accept: "application/json", ...headers }), (response) => ({
      status: response.status,
      body: response.body.length === 0 ? undefined : JSON.parse(response.body)
    }))
  const listed = (path: string, headers?: Record<string, string>) =>
    Effect.map(api(path, headers), (response) => response.body.items.map((post: { slug: string }) => post.slug))

  for (const [name, repository] of [
    ["memory", undefined],
    ["SQLite", Layer.effect(PostRepository, PostRepository).pipe(Layer.provide(sqliteStack("sqlite::memory:")), Layer.orDie)]
  ] as const) {
    it.effect(`without a key it is missing until its time; with a key it is there, status "published" (${name})`, () =>
      Effect.gen(function* () {
        yield* seedSchedule
        assert.deepStrictEqual(yield* listed("/posts"), ["second", "first"])
        assert.deepStrictEqual(yield* listed("/posts?tag=soon"), [])
        assert.deepStrictEqual(yield* listed("/posts?status=published&limit=1"), ["second"])
        assert.strictEqual((yield* api("/posts/upcoming")).status, 404)
        assert.deepStrictEqual((yield* api("/tags")).body, { tags: [{ tag: "news", count: 2 }] })

        const key = { "x-api-key": KEY }
        assert.deepStrictEqual(yield* listed("/posts", key), ["upcoming", "second", "first"])
        assert.deepStrictEqual(yield* listed("/posts?status=published", key), ["upcoming", "second", "first"])
        const early = yield* api("/posts/upcoming", key)
        assert.strictEqual(early.status, 200)
        assert.strictEqual(early.body.status, "published")
        assert.deepStrictEqual((yield* api("/tags", key)).body, { tags: [{ tag: "news", count: 3 }, { tag: "soon", count: 1 }] })

        // One millisecond early it is still hidden; at its time it is public.
        yield* TestClock.setTime(Date.parse(LATER) - 1)
        assert.strictEqual((yield* api("/posts/upcoming")).status, 404)
        yield* TestClock.adjust("1 millis")
        assert.deepStrictEqual(yield* listed("/posts"), ["upcoming", "second", "first"])
        assert.strictEqual((yield* api("/posts/upcoming")).body.slug, "upcoming")
        assert.deepStrictEqual((yield* api("/tags")).body, { tags: [{ tag: "news", count: 3 }, { tag: "soon", count: 1 }] })
      }).pipe(Effect.provide(siteServer({}, repository))))
  }
})
