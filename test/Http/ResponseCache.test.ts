import { assert, describe, it } from "@effect/vitest"
import { HttpClientRequest } from "@effect/platform"
import { Effect, Layer, TestClock } from "effect"
import { postsWith } from "../../src/App.js"
import { ALL_POSTS, ResponseCache } from "../../src/Http/ResponseCache.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { makeNewPost } from "../fixtures/posts.js"
import { cachedTestServer, del, get, json, KEY, newPost, postJson, putJson, send, testServer } from "./harness.js"

const CACHE = { maxEntries: 100, maxBytes: 1024 * 1024, ttl: "1 minute" } as const
const CacheLive = ResponseCache.layer(CACHE)
/** The test server with a response cache; the cache stays reachable for its stats. */
const server = cachedTestServer(CACHE)
const stats = Effect.flatMap(ResponseCache, (cache) => cache.stats)

describe("ResponseCache", () => {
  it.scoped("a second read is served from memory with the same bytes and ETag; If-None-Match gives 304", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost({ title: "Cached" }))
      const first = yield* get("/posts/cached")
      const firstBody = yield* first.text
      const second = yield* get("/posts/cached")
      assert.strictEqual(yield* second.text, firstBody)
      assert.strictEqual(second.headers["etag"], first.headers["etag"])
      assert.isDefined(second.headers["x-request-id"])
      const s = yield* stats
      assert.strictEqual(s.hits, 1)
      assert.strictEqual(s.entries, 1)
      const notModified = yield* get("/posts/cached", { "if-none-match": first.headers["etag"]! })
      assert.strictEqual(notModified.status, 304)
      assert.strictEqual((yield* stats).hits, 2)
    }).pipe(Effect.provide(server)))

  it.scoped("a list and the tag counts are kept with their ETag: a second read from memory, 304 for the ETag, both dropped by a write", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost({ title: "Counted", tags: ["kept"] }))
      const cache = yield* ResponseCache
      for (const url of ["/posts?limit=100", "/tags"]) {
        const first = yield* get(url)
        const etag = first.headers["etag"]!
        assert.match(etag, /^"l-/, url)
        const hits = (yield* stats).hits
        const second = yield* get(url)
        assert.strictEqual(second.headers["etag"], etag, url)
        assert.strictEqual(yield* second.text, yield* first.text, url)
        const notModified = yield* get(url, { "if-none-match": etag })
        assert.strictEqual(notModified.status, 304, url)
        assert.strictEqual((yield* stats).hits, hits + 2, `${url}: both from memory`)
        // The front door's lookup answers it too, 304 for its ETag.
        assert.strictEqual(cache.lookup("GET", url, false, undefined)?.status, 200, url)
        assert.strictEqual(cache.lookup("GET", url, false, etag)?.status, 304, url)
        assert.strictEqual(cache.lookup("HEAD", url, false, etag)?.status, 304, url)
        assert.isUndefined(cache.lookup("GET", url, true, undefined), `${url}: never for a key`)
      }
      assert.isUndefined(cache.lookup("GET", "/tags?x=1", false, undefined), "a made-up query is never kept")
      yield* postJson("/posts", newPost({ title: "Another", tags: ["kept", "new"] }))
      assert.isUndefined(cache.lookup("GET", "/tags", false, undefined), "dropped by the write")
      assert.deepStrictEqual((yield* json(yield* get("/tags"))).tags, [{ tag: "kept", count: 2 }, { tag: "new", count: 1 }])
    }).pipe(Effect.provide(server)))

  it.scoped("`*` inside an If-None-Match list is no tag: 200 on the full path and from memory, as the reader site reads it", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost({ title: "Starred" }))
      for (const header of [`"nope", *`, `*, "x"`, "W/*"]) {
        const full = yield* get("/posts/starred", { "if-none-match": header })
        assert.strictEqual(full.status, 200, header)
        const kept = yield* get("/posts/starred", { "if-none-match": header })
        assert.strictEqual(kept.status, 200, header)
        assert.strictEqual(yield* kept.text, yield* full.text, header)
        const cache = yield* ResponseCache
        assert.strictEqual(cache.lookup("GET", "/posts/starred", false, header)?.status, 200, header)
        yield* cache.invalidate(ALL_POSTS)
      }
      assert.strictEqual((yield* get("/posts/starred", { "if-none-match": "*" })).status, 304)
    }).pipe(Effect.provide(server)))

  it.scoped("lists are kept only with list parameters, each once: searches are made each time, made-up parameters refused (400) each time", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost({ title: "Listed" }))
      const cache = yield* ResponseCache
      for (const [url, status] of [["/posts?q=listed", 200], ["/posts?x=1", 400], ["/posts?x=2", 400], ["/posts?limit=5&q=listed", 200]] as const) {
        const first = yield* get(url)
        assert.strictEqual(first.status, status, url)
        yield* get(url)
        assert.isUndefined(cache.lookup("GET", url, false, undefined), url)
      }
      assert.strictEqual((yield* stats).entries, 0)
      for (const url of ["/posts", "/posts?limit=5&offset=0", "/posts?tag=rust&status=published"]) {
        assert.strictEqual((yield* get(url)).status, 200, url)
        assert.isDefined(cache.lookup("GET", url, false, undefined), url)
      }
      assert.strictEqual((yield* stats).entries, 3)
    }).pipe(Effect.provide(server)))

  it.scoped("a stream of distinct lists (offsets, made-up tags) pushes out older lists only, never the posts", () =>
    Effect.gen(function* () {
      for (const title of ["Kept one", "Kept two"]) yield* postJson("/posts", newPost({ title }))
      yield* get("/posts/kept-one")
      yield* get("/posts/kept-two")
      const cache = yield* ResponseCache
      for (let n = 0; n < 30; n++) {
        assert.strictEqual((yield* get(n % 2 === 0 ? `/posts?offset=${n}` : `/posts?tag=made-up-${n}`)).status, 200)
      }
      assert.isDefined(cache.lookup("GET", "/posts/kept-one", false, undefined))
      assert.isDefined(cache.lookup("GET", "/posts/kept-two", false, undefined))
      // A quarter of the 8 entries: the two newest lists.
      assert.strictEqual((yield* stats).entries, 4)
      assert.isDefined(cache.lookup("GET", "/posts?tag=made-up-29", false, undefined))
      assert.isUndefined(cache.lookup("GET", "/posts?offset=0", false, undefined))
    }).pipe(Effect.provide(cachedTestServer({ maxEntries: 8, maxBytes: 1024 * 1024, ttl: "1 minute" }))))

  it.scoped("an update through the API drops the cached post and the lists", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost({ title: "Changing" }))
      const before = yield* json(yield* get("/posts/changing"))
      yield* get("/posts/changing")
      const listed = yield* json(yield* get("/posts?limit=5"))
      assert.strictEqual(listed.items[0].title, "Changing")
      const updated = yield* putJson("/posts/changing", { ...newPost({ title: "Changed" }), version: before.version })
      assert.strictEqual(updated.status, 200)
      const after = yield* json(yield* get("/posts/changing"))
      assert.strictEqual(after.title, "Changed")
      assert.strictEqual(after.version, before.version + 1)
      const relisted = yield* json(yield* get("/posts?limit=5"))
      assert.strictEqual(relisted.items[0].title, "Changed")
    }).pipe(Effect.provide(server)))

  it.scoped("a post read by its percent-encoded URL (as browsers send a non-ASCII slug) is dropped by an update and a delete", () =>
    Effect.gen(function* () {
      const { slug } = yield* json(yield* postJson("/posts", newPost({ title: "Große Zwei" })))
      assert.match(slug, /ß/)
      const url = `/posts/${encodeURIComponent(slug)}`
      const before = yield* json(yield* get(url))
      assert.strictEqual((yield* json(yield* get(url))).version, before.version)
      assert.strictEqual((yield* stats).hits, 1)
      const cache = yield* ResponseCache
      assert.isDefined(cache.lookup("GET", url, false, undefined))
      // Written through another spelling of the same URL: the entry goes all the same.
      const updated = yield* putJson(url.toLowerCase(), { ...newPost({ title: "Große Zwei", body: "Edited." }), version: before.version })
      assert.strictEqual(updated.status, 200)
      assert.isUndefined(cache.lookup("GET", url, false, undefined))
      const after = yield* json(yield* get(url))
      assert.strictEqual(after.version, before.version + 1)
      assert.include(after.html, "Edited.")
      assert.strictEqual((yield* del(url, { "x-api-key": KEY, "if-match": `${after.version}` })).status, 204)
      assert.strictEqual((yield* get(url)).status, 404)
      assert.strictEqual((yield* get(url.toLowerCase())).status, 404)
    }).pipe(Effect.provide(server)))

  it.scoped("a post read at its slug in another Unicode spelling (NFD) is the NFC slug's entry, dropped by a write there", () =>
    Effect.gen(function* () {
      const { slug } = yield* json(yield* postJson("/posts", newPost({ slug: "café" })))
      const nfd = `/posts/${encodeURIComponent("cafe\u0301")}`
      const before = yield* json(yield* get(nfd))
      assert.strictEqual(before.slug, slug)
      const cache = yield* ResponseCache
      // One entry for both spellings: the NFC URL's read is a hit.
      assert.isDefined(cache.lookup("GET", `/posts/${encodeURIComponent(slug)}`, false, undefined))
      const updated = yield* putJson(`/posts/${encodeURIComponent(slug)}`, { ...newPost({ body: "Edited." }), version: before.version })
      assert.strictEqual(updated.status, 200)
      assert.isUndefined(cache.lookup("GET", nfd, false, undefined))
      assert.include((yield* json(yield* get(nfd))).html, "Edited.")
    }).pipe(Effect.provide(server)))

  describe("URLs the router reads as another post's (`;` parameters, trailing or doubled slashes)", () => {
    /** Every URL the router takes for post `unpub` (`routedPath`), besides `/posts/unpub` itself. */
    const spellings = ["/posts/unpub;", "/posts/unpub;v=1", "/posts/unpub/", "/posts//unpub", "/posts/%75npub;", "/posts/unpub?x=1"]

    const readAll = Effect.forEach(["/posts/unpub", ...spellings], (url) =>
      Effect.map(get(url), (response) => [url, response.status] as const))

    it.scoped("none keeps a post that is unpublished, or deleted, after it was read there", () =>
      Effect.gen(function* () {
        yield* postJson("/posts", newPost({ title: "Unpub", body: "secret soon" }))
        // Twice: a second read is the one a kept entry would answer.
        yield* readAll
        assert.deepStrictEqual(yield* readAll, [["/posts/unpub", 200], ...spellings.map((url) => [url, 200] as const)])
        const unpublished = yield* putJson("/posts/unpub", { ...newPost({ title: "Unpub", body: "secret soon" }), status: "draft" }, {
          "x-api-key": KEY,
          "if-match": "1"
        })
        assert.strictEqual(unpublished.status, 200)
        assert.deepStrictEqual(yield* readAll, [["/posts/unpub", 404], ...spellings.map((url) => [url, 404] as const)])

        yield* postJson("/posts", newPost({ title: "Unpub Two", slug: "unpub-two" }))
        const two = spellings.map((url) => url.replace(/(unpub|%75npub)/, "$1-two"))
        for (const url of two) assert.strictEqual((yield* get(url)).status, 200, url)
        assert.strictEqual((yield* del("/posts/unpub-two", { "x-api-key": KEY, "if-match": "1" })).status, 204)
        for (const url of two) assert.strictEqual((yield* get(url)).status, 404, url)
        const cache = yield* ResponseCache
        for (const url of spellings) assert.isUndefined(cache.lookup("GET", url, false, undefined), url)
      }).pipe(Effect.provide(server)))

    it.scoped("a write through any of them drops the post's entry", () =>
      Effect.gen(function* () {
        yield* postJson("/posts", newPost({ title: "Unpub" }))
        const cache = yield* ResponseCache
        let version = 1
        for (const url of spellings.filter((url) => !url.includes("?"))) {
          yield* get("/posts/unpub")
          assert.isDefined(cache.lookup("GET", "/posts/unpub", false, undefined))
          const updated = yield* putJson(url, newPost({ title: "Unpub", body: `Edit ${version}.` }), {
            "x-api-key": KEY,
            "if-match": `${version}`
          })
          assert.strictEqual(updated.status, 200, url)
          version++
          assert.isUndefined(cache.lookup("GET", "/posts/unpub", false, undefined), url)
          assert.include((yield* json(yield* get("/posts/unpub"))).html, `Edit ${version - 1}.`)
        }
      }).pipe(Effect.provide(server)))
  })

  it.scoped("an import's dry run (?dryRun=true) keeps the cache; a real import drops it", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost({ title: "Kept" }))
      yield* get("/posts/kept")
      const cache = yield* ResponseCache
      assert.isDefined(cache.lookup("GET", "/posts/kept", false, undefined))
      const upload = (query: string) =>
        send(
          HttpClientRequest.post(`/posts/import${query}`).pipe(
            HttpClientRequest.bodyText(`${JSON.stringify({ title: "Kept", slug: "kept", body: "Changed." })}\n`, "application/x-ndjson"),
            HttpClientRequest.setHeaders({ "x-api-key": KEY })
          )
        )
      const dry = yield* json(yield* upload("?dryRun=true"))
      assert.deepStrictEqual([dry.dryRun, dry.failed], [true, 1])
      assert.isDefined(cache.lookup("GET", "/posts/kept", false, undefined), "a dry run writes nothing: the entry stays")
      yield* upload("")
      assert.isUndefined(cache.lookup("GET", "/posts/kept", false, undefined))
    }).pipe(Effect.provide(server)))

  it.scoped("an import at another URL the router routes to it (/posts/import/, ;onConflict=fail) drops the cached posts too", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost({ title: "Kept" }))
      const cache = yield* ResponseCache
      // The router reads what follows a `;` as the query: a parameter the import takes.
      for (const url of ["/posts/import/", "/posts/import;onConflict=fail"]) {
        yield* get("/posts/kept")
        assert.isDefined(cache.lookup("GET", "/posts/kept", false, undefined))
        const imported = yield* send(
          HttpClientRequest.post(url).pipe(
            HttpClientRequest.bodyText(`${JSON.stringify({ title: "Kept", slug: "kept", body: `At ${url}.` })}\n`, "application/x-ndjson"),
            HttpClientRequest.setHeaders({ "x-api-key": KEY })
          )
        )
        assert.strictEqual(imported.status, 200, url)
        assert.isUndefined(cache.lookup("GET", "/posts/kept", false, undefined), url)
      }
    }).pipe(Effect.provide(server)))

  it.scoped("a write refused for its credentials (401) keeps the cache: anyone could empty it otherwise", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost({ title: "Kept" }))
      yield* get("/posts/kept")
      const cache = yield* ResponseCache
      const cached = () => cache.lookup("GET", "/posts/kept", false, undefined)
      assert.isDefined(cached())
      const bulk = (headers: Record<string, string>) =>
        send(
          HttpClientRequest.post("/posts/import").pipe(
            HttpClientRequest.bodyText(`${JSON.stringify({ title: "Kept", slug: "kept", body: "Changed." })}\n`, "application/x-ndjson"),
            HttpClientRequest.setHeaders(headers)
          )
        )
      assert.strictEqual((yield* bulk({})).status, 401)
      assert.strictEqual((yield* bulk({ "x-api-key": "wrong" })).status, 401)
      assert.strictEqual((yield* putJson("/posts/kept", { ...newPost({ title: "Kept" }), version: 1 }, {})).status, 401)
      assert.strictEqual((yield* del("/posts/kept", {})).status, 401)
      assert.isDefined(cached(), "nothing was written: the entry stays")
      // A write that is let in still drops it.
      assert.strictEqual((yield* bulk({ "x-api-key": KEY })).status, 200)
      assert.isUndefined(cached())
    }).pipe(Effect.provide(server)))

  it.scoped("a request with a key bypasses the cache: an editor sees a draft a reader does not", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost({ title: "Secret", status: "draft" }))
      assert.strictEqual((yield* get("/posts/secret")).status, 404)
      assert.strictEqual((yield* get("/posts/secret", { "x-api-key": KEY })).status, 200)
      assert.strictEqual((yield* get("/posts/secret")).status, 404)
      assert.strictEqual((yield* stats).entries, 0)
    }).pipe(Effect.provide(server)))

  it.scoped("RESPONSE_CACHE_SIZE=0 serves everything through the full path", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost({ title: "Uncached" }))
      yield* get("/posts/uncached")
      yield* get("/posts/uncached")
      const s = yield* stats
      assert.strictEqual(s.entries, 0)
      assert.strictEqual(s.hits, 0)
    }).pipe(Effect.provide(cachedTestServer({ maxEntries: 0, maxBytes: 1, ttl: "1 minute" }))))

  it.scoped("when full, an entry read since it was stored outlives one that was not (second chance)", () =>
    Effect.gen(function* () {
      for (const title of ["Alpha", "Beta", "Gamma"]) yield* postJson("/posts", newPost({ title }))
      yield* get("/posts/alpha")
      yield* get("/posts/beta")
      // A hit on alpha, then a third entry: beta (never read from the cache) goes, alpha stays.
      yield* get("/posts/alpha")
      yield* get("/posts/gamma")
      assert.strictEqual((yield* stats).entries, 2)
      const hits = (yield* stats).hits
      yield* get("/posts/alpha")
      assert.strictEqual((yield* stats).hits, hits + 1)
      const misses = (yield* stats).misses
      yield* get("/posts/beta")
      assert.strictEqual((yield* stats).misses, misses + 1)
      assert.strictEqual((yield* stats).entries, 2)
    }).pipe(Effect.provide(cachedTestServer({ maxEntries: 2, maxBytes: 1024 * 1024, ttl: "1 minute" }))))

  it.scoped("a hot entry read many times stays a hit, and the byte bound still holds", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost({ title: "Hot" }))
      const first = yield* get("/posts/hot")
      const body = yield* first.text
      for (let i = 0; i < 50; i++) yield* get("/posts/hot")
      const s = yield* stats
      assert.strictEqual(s.hits, 50)
      assert.strictEqual(s.entries, 1)
      assert.strictEqual(s.bytes, new TextEncoder().encode(body).byteLength)
    }).pipe(Effect.provide(server)))

  describe("scheduled posts", () => {
    // One repository for the server and the cache (the same layer value is built once).
    const posts = postsWith(MemoryPostRepository.layer)
    const scheduledServer = testServer({ posts }).pipe(
      Layer.provideMerge(CacheLive.pipe(Layer.provide(posts)))
    )
    const NOW = Date.parse("2024-06-01T12:00:00Z")
    // Within the TTL (1 minute): the schedule, not the TTL, must end the list.
    const DUE = "2024-06-01T12:00:30.000Z"
    const slugsOf = (url: string) => Effect.map(Effect.flatMap(get(url), json), (page) => page.items.map((p: { slug: string }) => p.slug))

    it.scoped("a cached list is answered until a scheduled post's time, then listed with it, with no write", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(NOW)
        yield* postJson("/posts", newPost({ title: "Out now", publishedAt: "2024-06-01T11:00:00Z" }))
        yield* postJson("/posts", newPost({ title: "Due", publishedAt: DUE }))
        const cache = yield* ResponseCache
        assert.deepStrictEqual(yield* slugsOf("/posts"), ["out-now"])
        assert.deepStrictEqual(yield* slugsOf("/posts?limit=5"), ["out-now"])
        assert.isDefined(cache.lookup("GET", "/posts", false, undefined), "the list is cached")
        yield* get("/posts/out-now")
        assert.isDefined(cache.lookup("GET", "/posts/out-now", false, undefined))
        const hits = (yield* stats).hits
        assert.deepStrictEqual(yield* slugsOf("/posts"), ["out-now"])
        assert.strictEqual((yield* stats).hits, hits + 1, "answered from memory before its time")

        yield* TestClock.setTime(Date.parse(DUE) - 1)
        assert.isDefined(cache.lookup("GET", "/posts", false, undefined), "one millisecond early the list stands")
        yield* TestClock.adjust("1 millis")
        // The front door's lookup and the middleware both see the list is over.
        assert.isUndefined(cache.lookup("GET", "/posts", false, undefined))
        assert.isUndefined(cache.lookup("GET", "/posts?limit=5", false, undefined))
        assert.deepStrictEqual(yield* slugsOf("/posts"), ["due", "out-now"])
        assert.deepStrictEqual(yield* slugsOf("/posts?limit=5"), ["due", "out-now"])
        // A post's own answer is not bound by the schedule: it stays public.
        assert.isDefined(cache.lookup("GET", "/posts/out-now", false, undefined))
        // The new lists are cached again, with no post left to wait for.
        assert.isDefined(cache.lookup("GET", "/posts", false, undefined))
        yield* TestClock.adjust("50 seconds")
        assert.isDefined(cache.lookup("GET", "/posts", false, undefined))
      }).pipe(Effect.provide(scheduledServer)))

    it.scoped("the cached tag counts are answered until a scheduled post's time, then count it, with no write", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(NOW)
        yield* postJson("/posts", newPost({ title: "Out now", tags: ["kites"], publishedAt: "2024-06-01T11:00:00Z" }))
        yield* postJson("/posts", newPost({ title: "Due", tags: ["kites", "soon"], publishedAt: DUE }))
        const cache = yield* ResponseCache
        const tags = Effect.map(Effect.flatMap(get("/tags"), json), (body) => body.tags)
        assert.deepStrictEqual(yield* tags, [{ tag: "kites", count: 1 }])
        assert.isDefined(cache.lookup("GET", "/tags", false, undefined), "kept")
        yield* TestClock.setTime(Date.parse(DUE))
        assert.isUndefined(cache.lookup("GET", "/tags", false, undefined), "over at the post's time")
        assert.deepStrictEqual(yield* tags, [{ tag: "kites", count: 2 }, { tag: "soon", count: 1 }])
      }).pipe(Effect.provide(scheduledServer)))

    it.scoped("a write that schedules a post earlier than the one the cached lists wait for bounds the lists stored after it", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(NOW)
        yield* postJson("/posts", newPost({ title: "Out now", publishedAt: "2024-06-01T11:00:00Z" }))
        yield* postJson("/posts", newPost({ title: "Much later", publishedAt: "2024-07-01T00:00:00Z" }))
        assert.deepStrictEqual(yield* slugsOf("/posts"), ["out-now"])
        yield* postJson("/posts", newPost({ title: "Sooner", publishedAt: "2024-06-01T12:00:10Z" }))
        assert.deepStrictEqual(yield* slugsOf("/posts"), ["out-now"])
        const cache = yield* ResponseCache
        assert.isDefined(cache.lookup("GET", "/posts", false, undefined))
        yield* TestClock.adjust("10 seconds")
        assert.isUndefined(cache.lookup("GET", "/posts", false, undefined))
        assert.deepStrictEqual(yield* slugsOf("/posts"), ["sooner", "out-now"])
      }).pipe(Effect.provide(scheduledServer)))

    it.scoped("an invalidation from another process (PostChanges, data_version) also bounds the lists stored after it", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(NOW)
        yield* postJson("/posts", newPost({ title: "Out now", publishedAt: "2024-06-01T11:00:00Z" }))
        assert.deepStrictEqual(yield* slugsOf("/posts"), ["out-now"])
        const cache = yield* ResponseCache
        // Written by another process: this one hears of it only through an invalidation.
        const repository = yield* PostRepository
        yield* repository.create(makeNewPost({ slug: "elsewhere", publishedAt: "2024-06-01T12:00:05Z" }))
        yield* cache.invalidate(ALL_POSTS)
        assert.deepStrictEqual(yield* slugsOf("/posts"), ["out-now"])
        assert.isDefined(cache.lookup("GET", "/posts", false, undefined))
        yield* TestClock.adjust("5 seconds")
        assert.isUndefined(cache.lookup("GET", "/posts", false, undefined))
        assert.deepStrictEqual(yield* slugsOf("/posts"), ["elsewhere", "out-now"])
      }).pipe(Effect.provide(testServer({ posts }).pipe(
        Layer.provideMerge(CacheLive.pipe(Layer.provide(posts))),
        Layer.provideMerge(posts)
      ))))
  })
})
