/**
 * The sitemap of a blog larger than one file: an index at /sitemap.xml naming files of at most
 * `sitemapSize` URLs, which together list every public post and tag page once; and the server
 * answering other requests while it reads the blog for one.
 */
import { NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Deferred, Effect, Fiber, FiberId, Layer, TestClock } from "effect"
import { XMLParser, XMLValidator } from "fast-xml-parser"
import { ImportFeedsLive, postsWith } from "../../src/App.js"
import { ApiKeys } from "../../src/Http/ApiKeys.js"
import { requestMiddleware } from "../../src/Http/Middleware.js"
import { ResponseCache } from "../../src/Http/ResponseCache.js"
import * as Server from "../../src/Http/Server.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository, type PostRepositoryShape } from "../../src/Posts/PostRepository.js"
import { sitemap, sitemapEntriesWithin, sitemapIndex, SITEMAP_MAX_BYTES } from "../../src/Site/Feeds.js"
import * as SiteRoutes from "../../src/Site/Routes.js"
import { Site } from "../../src/Site/Site.js"
import { SiteConfig, type SiteConfigShape } from "../../src/Site/SiteConfig.js"
import { fileSize, DEFAULT_FILE_SIZE } from "../../src/Site/Sitemaps.js"
import { makeUrls } from "../../src/Site/Urls.js"
import { atFixtureNow, setFixtureNow } from "../fixtures/clock.js"
import { makeNewPost } from "../fixtures/posts.js"
import { fetchRaw, KEY, seed, SITE_URL, siteServer } from "./harness.js"

const parser = new XMLParser({ isArray: (name) => name === "url" || name === "sitemap" })

interface Loc {
  readonly loc: string
  readonly lastmod?: string
}

const urlsetOf = (body: string): ReadonlyArray<Loc> => {
  assert.strictEqual(XMLValidator.validate(body), true)
  const parsed = parser.parse(body)
  assert.isDefined(parsed.urlset, body.slice(0, 200))
  return parsed.urlset.url
}

const indexOf = (body: string): ReadonlyArray<Loc> => {
  assert.strictEqual(XMLValidator.validate(body), true)
  const parsed = parser.parse(body)
  assert.isDefined(parsed.sitemapindex, body.slice(0, 200))
  return parsed.sitemapindex.sitemap
}

const pathOf = (loc: string) => loc.slice(SITE_URL.length)

/** Every URL the sitemap names, through its index and files: each file's URLs, by file. */
const crawl = Effect.gen(function* () {
  const files: Array<{ readonly path: string; readonly lastmod: string | undefined; readonly urls: ReadonlyArray<Loc> }> = []
  for (const entry of indexOf((yield* fetchRaw("/sitemap.xml")).body)) {
    const file = yield* fetchRaw(pathOf(entry.loc))
    assert.strictEqual(file.status, 200, entry.loc)
    assert.strictEqual(file.headers["content-type"], "application/xml; charset=utf-8")
    files.push({ path: pathOf(entry.loc), lastmod: entry.lastmod, urls: urlsetOf(file.body) })
  }
  return files
})

/** `n` published posts, `post-1` the oldest, a day apart, tagged in turn with `tags` (other cases too). */
const posts = (n: number, tags: ReadonlyArray<string>) =>
  Array.from({ length: n }, (_, i) => ({
    slug: `post-${i + 1}`,
    publishedAt: new Date(Date.UTC(2024, 0, 1 + i)).toISOString(),
    tags: [tags[i % tags.length]!, ...(i % 3 === 0 ? [tags[i % tags.length]!.toUpperCase()] : [])]
  }))

const newestOf = (urls: ReadonlyArray<Loc>) => urls.map((url) => url.lastmod!).sort().at(-1)

describe("sitemap index", () => {
  it.effect("with 3 URLs a file, 10 posts and 4 tags: an index of 4 files of posts and 2 of pages, every post and tag page once", () =>
    Effect.gen(function* () {
      // Stored before their dates, so that their dates are when they last changed.
      yield* TestClock.setTime(Date.UTC(2023, 0, 1))
      yield* seed(
        ...posts(10, ["rust", "Web", "ärger", "a b"]),
        { slug: "draft", status: "draft", tags: ["secret"] },
        { slug: "scheduled", publishedAt: "2030-01-01T00:00:00Z", tags: ["later"] }
      )
      yield* setFixtureNow
      const files = yield* crawl
      assert.deepStrictEqual(files.map((file) => file.path), [
        "/sitemap-posts-1.xml",
        "/sitemap-posts-2.xml",
        "/sitemap-posts-3.xml",
        "/sitemap-posts-4.xml",
        "/sitemap-pages-1.xml",
        "/sitemap-pages-2.xml"
      ])
      for (const file of files) {
        assert.isAtMost(file.urls.length, 3, file.path)
        assert.strictEqual(file.lastmod, newestOf(file.urls), `${file.path}: its newest entry's date`)
      }
      const all = files.flatMap((file) => file.urls.map((url) => pathOf(url.loc)))
      assert.deepStrictEqual(all, [
        // Oldest first, a file after another.
        ...Array.from({ length: 10 }, (_, i) => `/p/post-${i + 1}`),
        "/",
        // By key, each once whatever its spellings.
        "/tags/a%20b",
        "/tags/rust",
        "/tags/web",
        "/tags/%C3%A4rger"
      ])
      // The home page is dated by the newest post, a tag by its newest post.
      const dated = new Map(files.flatMap((file) => file.urls.map((url) => [pathOf(url.loc), url.lastmod] as const)))
      assert.strictEqual(dated.get("/"), dated.get("/p/post-10"))
      assert.strictEqual(dated.get("/tags/web"), dated.get("/p/post-10"))
      assert.strictEqual(dated.get("/tags/rust"), dated.get("/p/post-9"))

      // Crawlers find the index where they found the one sitemap.
      const robots = (yield* fetchRaw("/robots.txt")).body
      assert.deepStrictEqual(robots.split("\n").filter((line) => line.startsWith("Sitemap:")), [`Sitemap: ${SITE_URL}/sitemap.xml`])

      for (const path of ["/sitemap-posts-5.xml", "/sitemap-pages-3.xml", "/sitemap-posts-0.xml", "/sitemap-posts-01.xml", "/sitemap-posts-x.xml", "/sitemap-posts-.xml"]) {
        assert.strictEqual((yield* fetchRaw(path)).status, 404, path)
      }
    }).pipe(Effect.provide(siteServer({ sitemapSize: 3 }))))

  it.effect("a new post goes at the end: the files before the last one keep their bytes", () =>
    Effect.gen(function* () {
      yield* seed(...posts(7, ["one"]))
      const before = yield* crawl
      yield* seed({ slug: "newest", publishedAt: "2025-01-01T00:00:00Z", tags: ["one"] })
      const after = yield* crawl
      assert.deepStrictEqual(after.map((file) => file.path), before.map((file) => file.path))
      assert.deepStrictEqual(after[0]!.urls, before[0]!.urls)
      assert.deepStrictEqual(after[1]!.urls, before[1]!.urls)
      assert.deepStrictEqual(after[2]!.urls.map((url) => pathOf(url.loc)), ["/p/post-7", "/p/newest"])
      assert.strictEqual((yield* fetchRaw("/sitemap-posts-1.xml")).headers["etag"], (yield* fetchRaw("/sitemap-posts-1.xml")).headers["etag"])
    }).pipe(Effect.provide(siteServer({ sitemapSize: 3 }))))

  it.effect("one file while every URL fits in it: a urlset at /sitemap.xml; one more URL, an index", () =>
    Effect.gen(function* () {
      // The home page, a post and its tag: 3 URLs.
      yield* seed({ slug: "first", publishedAt: "2024-01-01T00:00:00Z", tags: ["t"] })
      assert.deepStrictEqual(urlsetOf((yield* fetchRaw("/sitemap.xml")).body).map((url) => pathOf(url.loc)), ["/", "/p/first", "/tags/t"])
      yield* seed({ slug: "second", publishedAt: "2024-01-02T00:00:00Z", tags: ["t"] })
      assert.deepStrictEqual(indexOf((yield* fetchRaw("/sitemap.xml")).body).map((entry) => pathOf(entry.loc)), [
        "/sitemap-posts-1.xml",
        "/sitemap-pages-1.xml"
      ])
    }).pipe(Effect.provide(siteServer({ sitemapSize: 3 }))))

  it.effect("a repository without sitemapPosts gives the same files, read from the listing", () =>
    Effect.gen(function* () {
      const withIt = yield* Effect.provide(Effect.zipRight(seed(...posts(12, ["x", "y", "z"])), Effect.all([fetchRaw("/sitemap.xml"), crawl])), siteServer({ sitemapSize: 4 }))
      const without = yield* Effect.provide(
        Effect.zipRight(seed(...posts(12, ["x", "y", "z"])), Effect.all([fetchRaw("/sitemap.xml"), crawl])),
        siteServer({ sitemapSize: 4 }, withoutSitemapPosts)
      )
      assert.strictEqual(without[0].body, withIt[0].body)
      assert.deepStrictEqual(without[1], withIt[1])
      assert.strictEqual(withIt[1].flatMap((file) => file.urls).length, 12 + 1 + 3)
    }))
})

/** The in-memory repository as a store without the optional narrow read. */
const withoutSitemapPosts = Layer.effect(
  PostRepository,
  Effect.map(PostRepository, ({ sitemapPosts: _, ...rest }): PostRepositoryShape => rest)
).pipe(Layer.provide(MemoryPostRepository.layer))

/** The site server with a response cache, as `Server.layer` builds it. */
const cachedSite = (config: Partial<SiteConfigShape>) =>
  Server.serve(requestMiddleware({ requestTimeout: "30 seconds", maxBodySize: 1024 * 1024, retryAfterSeconds: 1 })).pipe(
    Layer.provide(SiteRoutes.layer),
    Layer.provideMerge(ResponseCache.layer({ maxEntries: 100, maxBytes: 4 * 1024 * 1024, ttl: "1 hour" })),
    Layer.provideMerge(postsWith(MemoryPostRepository.layer)),
    Layer.provide(ApiKeys.layer([KEY])),
    Layer.provide(ImportFeedsLive),
    Layer.provide(SiteConfig.layer({ title: "Test Blog", url: SITE_URL, ...config })),
    Layer.provideMerge(MemoryPostRepository.layer),
    Layer.provideMerge(NodeHttpServer.layerTest),
    Layer.provide(atFixtureNow)
  )

describe("sitemap files over HTTP", () => {
  it.effect("each file is answered as the one sitemap is: ETag, 304, Cache-Control, kept by the response cache", () =>
    Effect.gen(function* () {
      yield* seed(...posts(5, ["a", "b"]))
      const hits = Effect.flatMap(ResponseCache, (cache) => Effect.map(cache.stats, (stats) => stats.hits))
      for (const path of ["/sitemap.xml", "/sitemap-posts-1.xml", "/sitemap-posts-3.xml", "/sitemap-pages-1.xml"]) {
        const first = yield* fetchRaw(path)
        assert.strictEqual(first.status, 200, path)
        assert.match(first.headers["etag"] ?? "", /^"[\w-]+"$/, path)
        assert.strictEqual(first.headers["cache-control"], "public, max-age=60", path)
        assert.isDefined(first.headers["last-modified"], path)
        const before = yield* hits
        const second = yield* fetchRaw(path)
        assert.strictEqual(yield* hits, before + 1, `${path} answered from memory`)
        assert.strictEqual(second.body, first.body, path)
        const notModified = yield* fetchRaw(path, { "if-none-match": first.headers["etag"]! })
        assert.strictEqual(notModified.status, 304, path)
        assert.strictEqual(notModified.body, "", path)
      }
    }).pipe(Effect.provide(cachedSite({ sitemapSize: 2 }))))

  /** Deferreds made outside any fiber, for a layer built by the test. */
  const gate = () => {
    const entered = Deferred.unsafeMake<void>(FiberId.none)
    const release = Deferred.unsafeMake<void>(FiberId.none)
    const layer = Layer.effect(
      PostRepository,
      Effect.map(PostRepository, (repository): PostRepositoryShape => ({
        ...repository,
        sitemapPosts: (query) =>
          Deferred.succeed(entered, undefined).pipe(
            Effect.zipRight(Deferred.await(release)),
            Effect.zipRight(repository.sitemapPosts!(query))
          )
      }))
    ).pipe(Layer.provide(MemoryPostRepository.layer))
    return { entered, release, layer }
  }

  const held = gate()
  it.effect("other requests are answered while a sitemap is being made", () =>
    Effect.gen(function* () {
      yield* seed(...posts(3, ["a"]))
      const making = yield* Effect.fork(fetchRaw("/sitemap.xml"))
      yield* Deferred.await(held.entered)
      const health = yield* fetchRaw("/health")
      assert.strictEqual(health.status, 200)
      assert.strictEqual(JSON.parse(health.body).status, "ok")
      const page = yield* fetchRaw("/p/post-1")
      assert.strictEqual(page.status, 200)
      assert.isNull(making.unsafePoll(), "the sitemap is still held")
      yield* Deferred.succeed(held.release, undefined)
      const made = yield* Fiber.join(making)
      assert.strictEqual(made.status, 200)
      assert.lengthOf(urlsetOf(made.body), 5)
    }).pipe(Effect.provide(siteServer({}, held.layer))))
})

describe("reading the blog for a sitemap", () => {
  /** The in-memory repository, counting its narrow reads; `readsAt` the count when Node last had a turn. */
  const counted = () => {
    const reads = { count: 0 }
    const layer = Layer.effect(
      PostRepository,
      Effect.map(PostRepository, (repository): PostRepositoryShape => ({
        ...repository,
        sitemapPosts: (query) => Effect.zipRight(Effect.sync(() => reads.count++), repository.sitemapPosts!(query))
      }))
    ).pipe(Layer.provide(MemoryPostRepository.layer))
    return { reads, layer }
  }

  const nodeTurn = Effect.async<void>((resume) => void setImmediate(() => resume(Effect.void)))

  const store = counted()
  it.effect("gives Node's event loop a turn between two reads: a callback queued meanwhile runs before the last read", () =>
    Effect.gen(function* () {
      yield* setFixtureNow
      const repository = yield* PostRepository
      yield* Effect.forEach(posts(20, ["a", "b"]), (post) => repository.create(makeNewPost(post)))
      const site = yield* Site
      const making = yield* Effect.fork(site.sitemap())
      yield* nodeTurn
      const readsAtTurn = store.reads.count
      yield* Fiber.join(making)
      // 20 posts, 2 a read: 10 reads and the end.
      assert.isAtLeast(store.reads.count, 10)
      assert.isBelow(readsAtTurn, store.reads.count, "Node had a turn before the sitemap had read the blog")
    }).pipe(Effect.provide(Site.Default.pipe(Layer.provideMerge(store.layer), Layer.provide(SiteConfig.layer({ url: SITE_URL, sitemapSize: 2 }))))))
})

describe("sitemap XML", () => {
  it("an index is sitemaps.org's sitemapindex, escaped as a urlset is", () => {
    const urls = makeUrls({ url: "https://example.com/a&b" })
    const xml = sitemapIndex(urls, [{ route: "/sitemap-posts-1.xml", lastModified: DateTime.unsafeMake(Date.UTC(2024, 0, 2)) }, { route: "/sitemap-pages-1.xml" }])
    assert.strictEqual(
      xml,
      `<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap>
    <loc>https://example.com/a&amp;b/sitemap-posts-1.xml</loc>
    <lastmod>2024-01-02T00:00:00.000Z</lastmod>
  </sitemap>
  <sitemap>
    <loc>https://example.com/a&amp;b/sitemap-pages-1.xml</loc>
  </sitemap>
</sitemapindex>
`
    )
    assert.strictEqual(XMLValidator.validate(xml), true)
  })

  it("a file of the most URLs allowed stays within 50 MB, whatever its slugs and tags", () => {
    for (const url of ["https://example.com", `https://example.com/${"a".repeat(3000)}`]) {
      const urls = makeUrls({ url })
      const most = sitemapEntriesWithin(urls)
      // The longest a slug can be written (200 code points of 4 UTF-8 bytes), and a tag (100 "İ", each "i̇" lowercased).
      const slug = "𝟘".repeat(200)
      const tag = "İ".repeat(100)
      const at = DateTime.unsafeMake(-8.64e15)
      const empty = Buffer.byteLength(sitemap(urls, []))
      for (const route of [`/p/${encodeURIComponent(slug)}`, `/tags/${encodeURIComponent(tag.toLowerCase())}`]) {
        const one = Buffer.byteLength(sitemap(urls, [{ route, lastModified: at }])) - empty
        assert.isAtMost(empty + most * one, SITEMAP_MAX_BYTES, `${url.length}: ${route.slice(0, 20)}`)
      }
      assert.strictEqual(fileSize(undefined, urls), Math.min(DEFAULT_FILE_SIZE, most))
      assert.strictEqual(fileSize(50_000, urls), Math.min(50_000, most))
    }
  })
})
