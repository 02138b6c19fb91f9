/**
 * The hook into the import pipeline, end to end: a real server on 127.0.0.1 serves a feed, the
 * pipeline processes and stores it (in-memory repository), failures land in the summary.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, Layer } from "effect"
import { makeNewPost } from "../fixtures/posts.js"
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

  /** An RSS document of `items` ([guid or undefined, title, body]). */
  const rssOf = (items: ReadonlyArray<readonly [string | undefined, string, string]>) =>
    `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>${
      items.map(([guid, title, body]) => `<item>${guid === undefined ? "" : `<guid>${guid}</guid>`}<title>${title}</title><description>${body}</description></item>`).join("")
    }</channel></rss>`
  const slugsAndSources = Effect.map(
    Effect.flatMap(PostRepository, (r) => r.list({ limit: 100 })),
    (page) => page.items.map((p): [string, string, number] => [p.slug, p.source, p.version]).sort()
  )

  it.scoped("a feed that starts redirecting (to https, a CDN, a tracking URL) keeps its items: they are known by the URL asked for (was: every item failed as another source's)", () =>
    Effect.gen(function*() {
      let redirect = false
      const server = yield* testServer((req, res) => {
        if (req.url === "/feed.xml" && redirect) {
          res.writeHead(302, { location: "/cdn/feed.xml?utm_source=x" })
          res.end()
          return
        }
        res.writeHead(200, { "content-type": "application/rss+xml" })
        res.end(rssOf([["g-1", "One", "1"], ["g-2", "Two", "2"]]))
      })
      const url = `${server.url}/feed.xml`
      assert.strictEqual((yield* importFromUrls([url])).imported, 2)
      redirect = true
      const again = yield* importFromUrls([url])
      assert.deepStrictEqual(again.failures, [])
      assert.strictEqual(again.unchanged, 2)
      assert.deepStrictEqual(yield* slugsAndSources, [["one", `${url}#g-1`, 1], ["two", `${url}#g-2`, 1]])
      // With "suffix" no copy either.
      const suffix = yield* importFromUrls([url], { onConflict: "suffix" })
      assert.deepStrictEqual([suffix.imported, suffix.unchanged], [0, 2])
    }).pipe(Effect.provide(services)))

  it.scoped("a paged JSON Feed: an item a new post pushed onto the next page is the same post (was: a post from another source)", () =>
    Effect.gen(function*() {
      let ids = ["a", "b"]
      const server = yield* testServer((req, res) => {
        const page = Number(new URL(req.url ?? "/", "http://x").searchParams.get("page") ?? 1)
        const id = ids[page - 1]!
        res.writeHead(200, { "content-type": "application/feed+json" })
        res.end(JSON.stringify({
          version: "https://jsonfeed.org/version/1.1",
          ...(page < ids.length ? { next_url: `/feed.json?page=${page + 1}` } : {}),
          items: [{ id: `urn:${id}`, title: `Post ${id}`, content_text: id }]
        }))
      })
      const url = `${server.url}/feed.json`
      assert.strictEqual((yield* importFromUrls([url])).imported, 2)
      ids = ["c", "a", "b"]
      const again = yield* importFromUrls([url])
      assert.deepStrictEqual(again.failures, [])
      assert.deepStrictEqual([again.imported, again.unchanged], [1, 2])
      assert.deepStrictEqual((yield* slugsAndSources).map(([slug, source]) => [slug, source]), [
        ["post-a", `${url}#urn:a`],
        ["post-b", `${url}#urn:b`],
        ["post-c", `${url}#urn:c`]
      ])
    }).pipe(Effect.provide(services)))

  it.scoped("items with neither guid nor link: a new one on top is a new post, the others stay as they are (was: each took its neighbour's content)", () =>
    Effect.gen(function*() {
      let items: Array<readonly [string | undefined, string, string]> = [[undefined, "A title", "body A"], [undefined, "B title", "body B"]]
      const server = yield* testServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/rss+xml" })
        res.end(rssOf(items))
      })
      const url = `${server.url}/feed.xml`
      assert.strictEqual((yield* importFromUrls([url])).imported, 2)
      const before = yield* Effect.flatMap(PostRepository, (r) => r.getBySlug("a-title"))
      items = [[undefined, "C title", "body C"], ...items]
      const again = yield* importFromUrls([url])
      assert.deepStrictEqual(again.moves, [])
      assert.deepStrictEqual([again.imported, again.updated, again.unchanged], [1, 0, 2])
      const after = yield* Effect.flatMap(PostRepository, (r) => r.getBySlug("a-title"))
      assert.deepStrictEqual([after.id, after.version, after.body], [before.id, 1, before.body])
    }).pipe(Effect.provide(services)))

  it.scoped("posts an earlier version stored by the URL fetched from, by their page, or by position are found again, and known by the new names from then on", () =>
    Effect.gen(function*() {
      const server = yield* testServer((req, res) => {
        if (req.url === "/old.xml") {
          res.writeHead(301, { location: "/new.xml" })
          res.end()
          return
        }
        if (req.url === "/new.xml") {
          res.writeHead(200, { "content-type": "application/rss+xml" })
          res.end(rssOf([["g-1", "One", "1"], [undefined, "Untitled two", "2"]]))
          return
        }
        const page = Number(new URL(req.url ?? "/", "http://x").searchParams.get("page") ?? 1)
        res.writeHead(200, { "content-type": "application/feed+json" })
        res.end(JSON.stringify({
          version: "https://jsonfeed.org/version/1.1",
          ...(page < 3 ? { next_url: `/feed.json?page=${page + 1}` } : {}),
          items: [{ id: `p${page}`, title: `Page item ${page}`, content_text: "x" }]
        }))
      })
      const repository = yield* PostRepository
      const rss = `${server.url}/old.xml`
      const json = `${server.url}/feed.json`
      // As the earlier version named them: the redirect's target, each page, the position; the
      // JSON Feed's items have since moved down a page (p2 was on the first, p3 on the second).
      const stored = yield* repository.upsertMany([
        makeNewPost({ slug: "one", title: "One", body: "1", source: `${server.url}/new.xml#g-1` }),
        makeNewPost({ slug: "untitled-two", title: "Untitled two", body: "2", source: `${server.url}/new.xml#item-1` }),
        makeNewPost({ slug: "page-item-2", title: "Page item 2", body: "x", source: `${json}#p2` }),
        makeNewPost({ slug: "page-item-3", title: "Page item 3", body: "x", source: `${json}?page=2#p3` })
      ])
      const before = new Map((yield* repository.list({ limit: 100 })).items.map((p) => [p.slug, p.id]))
      assert.deepStrictEqual(stored.outcomes.map((o) => o.action), ["inserted", "inserted", "inserted", "inserted"])
      const summary = yield* importFromUrls([rss, json])
      assert.deepStrictEqual(summary.failures, [])
      assert.deepStrictEqual([summary.imported, summary.renamed], [1, 0], "p1 only")
      assert.strictEqual(summary.updated + summary.unchanged, 4)
      assert.deepStrictEqual((yield* slugsAndSources).map(([slug, source]) => [slug, source]), [
        ["one", `${rss}#g-1`],
        ["page-item-1", `${json}#p1`],
        ["page-item-2", `${json}#p2`],
        ["page-item-3", `${json}#p3`],
        ["untitled-two", `${rss}#title:Untitled two`]
      ])
      for (const [slug, id] of before) assert.strictEqual((yield* repository.getBySlug(slug)).id, id, slug)
      const again = yield* importFromUrls([rss, json])
      assert.deepStrictEqual([again.imported, again.updated, again.unchanged, again.failed], [0, 0, 5, 0])
    }).pipe(Effect.provide(services)))

  it.scoped("two items with one guid: at one slug the second is a duplicate, as in NDJSON; at two, two posts never moved onto each other (was: the second overwrote the first, 'updated 2' on every run)", () =>
    Effect.gen(function*() {
      const server = yield* testServer((req, res) => {
        res.writeHead(200, { "content-type": "application/rss+xml" })
        res.end(
          req.url === "/same.xml"
            ? rssOf([["same", "Same", "first"], ["same", "Same", "second"]])
            : rssOf([["dup", "First title", "first"], ["dup", "Second title", "second"]])
        )
      })
      const same = `${server.url}/same.xml`
      for (const run of [1, 2]) {
        const summary = yield* importFromUrls([same])
        assert.deepStrictEqual([summary.imported, summary.updated, summary.unchanged], run === 1 ? [1, 0, 0] : [0, 0, 1])
        assert.deepStrictEqual(summary.failures, [{
          source: `${same}#same (again)`,
          reason: `duplicate slug "same" in this run (first used by ${same}#same)`
        }])
      }
      assert.include((yield* Effect.flatMap(PostRepository, (r) => r.getBySlug("same"))).body, "first")
      // One post per batch: the second is no rename of the first, written a batch before.
      const two = `${server.url}/two.xml`
      for (const run of [1, 2]) {
        const summary = yield* importFromUrls([two], { batchSize: 1 })
        assert.deepStrictEqual(summary.failures, [])
        assert.deepStrictEqual([summary.imported, summary.unchanged, summary.moves.length], run === 1 ? [2, 0, 0] : [0, 2, 0])
      }
      const posts = yield* slugsAndSources
      assert.deepStrictEqual(posts.map(([slug]) => slug), ["first-title", "same", "second-title"])
    }).pipe(Effect.provide(services)))
})
