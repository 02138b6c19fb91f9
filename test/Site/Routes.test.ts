/**
 * The reader site through the real request pipeline (API, middleware and site routes in one
 * server), with posts written straight to the in-memory repository the server reads.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Layer, Ref, TestClock } from "effect"
import { SqlClient } from "@effect/sql"
import { DatabaseError, PoolTimeout, type RepositoryError } from "../../src/Domain/Errors.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { XMLParser } from "fast-xml-parser"
import { renderMarkdown } from "../../src/Processing/markdown.js"
import { processPostSync } from "../../src/Processing/processPost.js"
import { urlScheme } from "../../src/Processing/sanitize.js"
import { canonicalPath, isCanonical, CONTENT_SECURITY_POLICY, prefixSegments, withoutPrefix } from "../../src/Site/Routes.js"
import { stylesheetVersion } from "../../src/Site/Theme.js"
import { assertMoved, fetchPage, fetchRaw, KEY, seed, SITE_URL, siteServer } from "./harness.js"
import { captureLogs, type LogLine } from "../Http/harness.js"
import { sqliteStack } from "../Import/harness.js"
import { makeNewPost } from "../fixtures/posts.js"

/** Lists stay lists even with one element. */
const ARRAYS = new Set(["rss.channel.item", "rss.channel.item.category", "feed.entry", "feed.link", "feed.entry.link", "feed.entry.category", "urlset.url", "rss.channel.atom:link"])
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  isArray: (_name, jpath) => ARRAYS.has(String(jpath))
})

/** `n` published posts, post-1 the oldest, one day apart. */
const dated = (n: number, extra: Record<string, unknown> = {}) =>
  Array.from({ length: n }, (_, i) => ({
    slug: `post-${i + 1}`,
    title: `Post number ${i + 1}`,
    publishedAt: new Date(Date.UTC(2024, 0, 1 + i)).toISOString(),
    ...extra
  }))

const hrefs = (html: string) => Array.from(html.matchAll(/href="([^"]*)"/g), (m) => m[1]!)

describe("pages", () => {
  it.effect("HEAD answers pages, feeds and the API like GET, without a body", () =>
    Effect.gen(function* () {
      yield* seed({ slug: "hello", title: "Hello" })
      const head = (path: string) =>
        Effect.flatMap(HttpClient.HttpClient, (client) => client.execute(HttpClientRequest.head(path))).pipe(
          Effect.flatMap((response) => Effect.map(response.text, (body) => ({ status: response.status, headers: response.headers, body }))),
          Effect.scoped
        )
      for (const path of ["/", "/p/hello", "/rss.xml", "/atom.xml", "/feed.json", "/sitemap.xml", "/posts/hello", "/posts", "/health"]) {
        const got = yield* fetchRaw(path)
        const answer = yield* head(path)
        assert.strictEqual(answer.status, got.status, path)
        assert.strictEqual(got.status, 200, path)
        assert.strictEqual(answer.body, "", path)
        for (const name of ["content-type", "content-length", "etag", "cache-control", "content-security-policy"]) {
          assert.strictEqual(answer.headers[name], got.headers[name], `${path} ${name}`)
        }
      }
      assert.strictEqual((yield* head("/p/nope")).status, 404)
      assert.strictEqual((yield* head("/no/such/page")).status, 404)
    }).pipe(Effect.provide(siteServer()))
  )

  it.effect("paths are case-sensitive, as URLs are: one URL per page, and no import at POST /POSTS/IMPORT", () =>
    Effect.gen(function* () {
      yield* seed({ slug: "hello", title: "Hello", tags: ["rust"] })
      for (const path of ["/p/hello", "/rss.xml", "/tags/rust", "/posts", "/posts/hello", "/health"]) {
        assert.strictEqual((yield* fetchRaw(path)).status, 200, path)
        for (const other of [path.toUpperCase(), path.replace(/^\/(.)/, (_, first: string) => `/${first.toUpperCase()}`)]) {
          const answer = yield* fetchRaw(other)
          assert.strictEqual(answer.status, 404, other)
          // Nothing there takes any method either: no Allow, no 405.
          const options = yield* Effect.scoped(Effect.flatMap(HttpClient.HttpClient, (client) => client.execute(HttpClientRequest.options(other))))
          assert.strictEqual(options.status, 404, `OPTIONS ${other}`)
        }
      }
      const upload = (path: string) =>
        Effect.scoped(Effect.flatMap(HttpClient.HttpClient, (client) =>
          client.execute(HttpClientRequest.post(path).pipe(
            HttpClientRequest.bodyText(`${JSON.stringify({ title: "Imported", body: "x" })}\n`, "application/x-ndjson"),
            HttpClientRequest.setHeaders({ "x-api-key": KEY })
          ))))
      assert.strictEqual((yield* upload("/POSTS/IMPORT")).status, 404)
      assert.strictEqual((yield* fetchRaw("/posts/imported", { "x-api-key": KEY })).status, 404)
      assert.strictEqual((yield* upload("/posts/import")).status, 200)
      assert.strictEqual((yield* fetchRaw("/posts/imported", { "x-api-key": KEY })).status, 200)
    }).pipe(Effect.provide(siteServer()))
  )

  it.effect("the home page lists published posts newest first, never drafts", () =>
    Effect.gen(function* () {
      yield* seed(...dated(3), { slug: "secret-draft", title: "Secret draft", status: "draft" })
      const page = yield* fetchPage("/")
      assert.strictEqual(page.status, 200)
      assert.strictEqual(page.headers["content-type"], "text/html; charset=utf-8")
      const order = ["Post number 3", "Post number 2", "Post number 1"].map((title) => page.body.indexOf(title))
      assert.isTrue(order.every((at) => at > 0))
      assert.deepStrictEqual([...order].sort((a, b) => a - b), order)
      assert.notInclude(page.body, "Secret draft")
      assert.include(page.body, `<time datetime="2024-01-03T00:00:00.000Z">January 3, 2024</time>`)
      assert.include(page.body, "1 min read")
      assert.include(page.body, `<a href="/tags/test" rel="tag">test</a>`)
    }).pipe(Effect.provide(siteServer())))

  it.effect("user data is escaped in titles, tags, excerpts and meta tags", () =>
    Effect.gen(function* () {
      yield* seed({
        slug: "evil",
        title: `<script>window.__pwned=1</script>"quoted" & <b>bold</b>`,
        tags: [`<img src=x onerror=alert(1)>`, `a"b`],
        excerpt: `<iframe src="javascript:alert(1)">`,
        authors: [`<svg onload=alert(1)>`],
        publishedAt: "2024-05-01T00:00:00Z"
      })
      for (const path of ["/", "/p/evil"]) {
        const { body } = yield* fetchPage(path)
        assert.notInclude(body, "<script>window.__pwned")
        assert.notInclude(body, "<img src=x")
        assert.notInclude(body, "<iframe")
        assert.notInclude(body, "<svg onload")
        assert.notInclude(body, "<b>bold</b>")
        assert.include(body, "&lt;script>window.__pwned=1&lt;/script>")
        // Inside attributes quotes are escaped, so no attribute can be closed early.
        assert.notInclude(body, `content="<script>window.__pwned=1</script>"quoted"`)
      }
      const { body } = yield* fetchPage("/p/evil")
      assert.include(body, `<meta property="og:title" content="&lt;script>window.__pwned=1&lt;/script>&quot;quoted&quot; &amp; &lt;b>bold&lt;/b>"/>`)
      assert.include(body, `href="/tags/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"`)
    }).pipe(Effect.provide(siteServer())))

  it.effect("the post page shows title, date, authors, tags, reading time, TOC, body and neighbours", () =>
    Effect.gen(function* () {
      yield* seed(
        ...dated(3).map((post, i) =>
          i === 1
            ? {
                ...post,
                authors: ["Ada Lovelace", "Alan Turing"],
                tags: ["rust", "async io"],
                readingTimeMinutes: 7,
                html: `<h2 id="intro">Intro</h2><p>Body <em>text</em>.</p><h3 id="deeper">Deeper</h3><h2 id="end">End</h2>`,
                toc: [
                  { level: 2, text: "Intro", id: "intro" },
                  { level: 3, text: "Deeper", id: "deeper" },
                  { level: 2, text: "End", id: "end" }
                ]
              }
            : post
        )
      )
      const page = yield* fetchPage("/p/post-2")
      assert.strictEqual(page.status, 200)
      assert.include(page.body, "<h1>Post number 2</h1>")
      assert.include(page.body, `<time datetime="2024-01-02T00:00:00.000Z">January 2, 2024</time>`)
      assert.include(page.body, "by Ada Lovelace, Alan Turing")
      assert.include(page.body, "7 min read")
      assert.include(page.body, `<a href="/tags/async%20io" rel="tag">async io</a>`)
      // Nested: Deeper sits inside Intro's item.
      assert.include(
        page.body,
        `<ol><li><a href="#intro">Intro</a><ol><li><a href="#deeper">Deeper</a></li></ol></li><li><a href="#end">End</a></li></ol>`
      )
      assert.include(page.body, `<div class="prose"><h2 id="intro">Intro</h2><p>Body <em>text</em>.</p>`)
      assert.include(page.body, `<a class="previous" href="/p/post-1" rel="prev">`)
      assert.include(page.body, `<a class="next" href="/p/post-3" rel="next">`)
      assert.include(page.body, `<link rel="canonical" href="${SITE_URL}/p/post-2"/>`)
      assert.include(page.body, `<meta property="og:type" content="article"/>`)
      assert.include(page.body, `<meta property="og:url" content="${SITE_URL}/p/post-2"/>`)
      assert.include(page.body, `<meta property="article:author" content="Ada Lovelace"/>`)
      assert.include(page.body, `<meta name="twitter:card" content="summary"/>`)

      const newest = yield* fetchPage("/p/post-3")
      assert.notInclude(newest.body, `rel="next"`)
      assert.include(newest.body, `href="/p/post-2" rel="prev"`)
    }).pipe(Effect.provide(siteServer())))

  for (const withQuery of [true, false]) {
    it.effect(`neighbours are found beyond the first page of the listing (${withQuery ? "neighbour query: the listing is not read" : "a repository without one: read down to the post"})`, () =>
      Effect.gen(function* () {
        const listed = yield* Ref.make(0)
        const counted = Layer.effect(
          PostRepository,
          Effect.map(Effect.zip(MemoryPostRepository.make, Effect.succeed(listed)), ([repository, calls]) => {
            const { neighbours, ...rest } = repository
            const list: typeof repository.list = (query) => Effect.zipRight(Ref.update(calls, (n) => n + 1), repository.list(query))
            return withQuery && neighbours !== undefined ? { ...rest, list, neighbours } : { ...rest, list }
          })
        )
        yield* Effect.gen(function* () {
          yield* seed(...dated(230))
          const page = yield* fetchPage("/p/post-5")
          assert.include(page.body, `href="/p/post-4" rel="prev"`)
          assert.include(page.body, `href="/p/post-6" rel="next"`)
          const oldest = yield* fetchPage("/p/post-1")
          assert.notInclude(oldest.body, `rel="prev"`)
          assert.include(oldest.body, `href="/p/post-2" rel="next"`)
          // 230 posts are three pages of the listing: the old posts' pages read them all, or none.
          assert.strictEqual(yield* Ref.get(listed), withQuery ? 0 : 6)
        }).pipe(Effect.provide(siteServer({}, counted)))
      }))
  }

  it.effect("a post's old URL, after it moved (renamed, title changed), is a 301 to where it is now (SQLite)", () =>
    Effect.gen(function* () {
      const repository = yield* PostRepository
      const created = yield* repository.create(makeNewPost({ slug: "old-name", title: "Old name", source: "a.md" }))
      const renamed = yield* repository.update("old-name", created.version, makeNewPost({ slug: "new-name", title: "New name", source: "a.md" }))
      const moved = yield* assertMoved("/p/old-name", "/p/new-name")
      // Revalidated on every use, as the API's 301 (was: max-age, like the pages): renamed back
      // within it, the two cached 301s pointed at each other.
      assert.strictEqual(moved.headers["cache-control"], "no-cache")
      assert.strictEqual((yield* fetchPage("/p/new-name")).status, 200)
      const back = yield* repository.update("new-name", renamed.version, makeNewPost({ slug: "old-name", title: "Old name", source: "a.md" }))
      const movedBack = yield* fetchPage("/p/new-name")
      assert.deepStrictEqual([movedBack.status, movedBack.headers["location"], movedBack.headers["cache-control"]], [301, "/p/old-name", "no-cache"])
      assert.strictEqual((yield* fetchPage("/p/old-name")).status, 200)
      const again = yield* repository.update("old-name", back.version, makeNewPost({ slug: "new-name", title: "New name", source: "a.md" }))
      // Unpublished, it has no address to be sent to.
      yield* repository.update("new-name", again.version, makeNewPost({ slug: "new-name", title: "New name", source: "a.md", status: "draft" }))
      assert.strictEqual((yield* fetchPage("/p/old-name")).status, 404)
      assert.strictEqual((yield* fetchPage("/p/never-was")).status, 404)
    }).pipe(
      Effect.provide(
        siteServer({}, Layer.effect(PostRepository, PostRepository).pipe(Layer.provide(sqliteStack("sqlite::memory:")), Layer.orDie))
      )
    ))

  it.effect("a post or tag page asked with a trailing slash moves to its one URL (301), its query kept", () =>
    Effect.gen(function* () {
      yield* seed(...dated(2, { tags: ["a b"] }))
      for (const [path, location] of [
        ["/p/post-1/", "/p/post-1"],
        ["/p/post-1//", "/p/post-1"],
        ["/p/post-1/?utm=x", "/p/post-1?utm=x"],
        ["/tags/a%20b/", "/tags/a%20b"]
      ] as const) {
        yield* assertMoved(path, location)
      }
      assert.strictEqual((yield* fetchPage("/p/post-1")).status, 200)
      assert.strictEqual((yield* fetchPage("/tags/a%20b")).status, 200)
    }).pipe(Effect.provide(siteServer())))

  it.effect("a post's page asked at its slug in another Unicode spelling (NFD) moves to its one URL, the NFC one (301), query kept", () =>
    Effect.gen(function* () {
      yield* seed({ slug: "café-au-lait", title: "Café" })
      const nfc = `/p/${encodeURIComponent("café-au-lait")}`
      const nfd = `/p/${encodeURIComponent("cafe\u0301-au-lait")}`
      for (const [path, location] of [
        [nfd, nfc],
        [`${nfd}?utm=x`, `${nfc}?utm=x`],
        [`/p/${nfd.slice(3)}/`, nfc]
      ] as const) {
        const moved = yield* assertMoved(path, location)
        // A function of the slug alone: as a tag's other spellings, no Cache-Control.
        assert.isUndefined(moved.headers["cache-control"], path)
      }
      assert.strictEqual((yield* fetchPage(nfc)).status, 200)
    }).pipe(Effect.provide(siteServer())))

  it.effect("every route's page asked with a trailing slash or doubled slashes moves to its one URL (301), query kept", () =>
    Effect.gen(function* () {
      yield* seed(...dated(2, { tags: ["paging"] }).map((post, i) => ({ ...post, slug: `paging-post-${i + 1}` })))
      const moves = [
        ["/page/2/", "/page/2"],
        ["/page//2", "/page/2"],
        ["/tags/paging/page/2/", "/tags/paging/page/2"],
        ["/tags//paging", "/tags/paging"],
        ["/tags//paging/", "/tags/paging"],
        ["/p//paging-post-2", "/p/paging-post-2"],
        ["///p///paging-post-2//?utm=x", "/p/paging-post-2?utm=x"],
        ["/rss.xml/", "/rss.xml"],
        ["/atom.xml/", "/atom.xml"],
        ["/feed.json//", "/feed.json"],
        ["/tags/paging//rss.xml", "/tags/paging/rss.xml"],
        ["/sitemap.xml/", "/sitemap.xml"],
        ["/robots.txt/", "/robots.txt"],
        ["/search/?q=paging", "/search?q=paging"],
        ["/assets/site.css/?v=1", "/assets/site.css?v=1"]
      ] as const
      for (const [path, location] of moves) {
        yield* assertMoved(path, location)
        assert.strictEqual((yield* fetchPage(location)).status, 200, location)
      }
    }).pipe(Effect.provide(siteServer({ pageSize: 1 }))))

  it.effect("every route's page asked with `;` parameters (which the router cuts off) moves to its one URL (301), query kept", () =>
    Effect.gen(function* () {
      yield* seed(...dated(2, { tags: ["paging"] }).map((post, i) => ({ ...post, slug: `paging-post-${i + 1}` })))
      const moves = [
        ["/;a", "/"],
        ["/p/paging-post-1;", "/p/paging-post-1"],
        ["/p/paging-post-1;7", "/p/paging-post-1"],
        ["/p/paging-post-1;jsessionid=1?utm=x", "/p/paging-post-1?utm=x"],
        ["/p//paging-post-1/;x", "/p/paging-post-1"],
        ["/page/2;x", "/page/2"],
        ["/tags/paging;x", "/tags/paging"],
        ["/tags/PAGING;x", "/tags/paging"],
        ["/tags/paging/page/2;x", "/tags/paging/page/2"],
        ["/rss.xml;x", "/rss.xml"],
        ["/tags/paging/atom.xml;", "/tags/paging/atom.xml"],
        ["/sitemap.xml;x", "/sitemap.xml"],
        ["/robots.txt;x", "/robots.txt"],
        ["/search;q=paging", "/search"],
        [`/assets/site.css;v=${stylesheetVersion}`, "/assets/site.css"]
      ] as const
      for (const [path, location] of moves) {
        yield* assertMoved(path, location)
        assert.strictEqual((yield* fetchPage(location)).status, 200, location)
      }
    }).pipe(Effect.provide(siteServer({ pageSize: 1 }))))

  it.effect("with a SITE_URL path, the move to a page's one URL carries it", () =>
    Effect.gen(function* () {
      yield* seed(...dated(2, { tags: ["paging"] }))
      for (const [path, location] of [["/page/2/", "/blog/page/2"], ["/p//post-1", "/blog/p/post-1"], ["/rss.xml/?x=1", "/blog/rss.xml?x=1"]] as const) {
        yield* assertMoved(path, location)
      }
    }).pipe(Effect.provide(siteServer({ pageSize: 1, url: "https://example.com/blog/" }))))

  it.effect("a path with an unreserved character escaped (`/p/%6Fne`) or lower-case hex (`%c3%a9`) moves to its one URL (301), query kept (was: an uncached 200 with the page)", () =>
    Effect.gen(function* () {
      yield* seed(
        { slug: "one", title: "One", publishedAt: "2025-05-01T00:00:00Z", tags: ["rust", "café", "c++", "a/b", "v1.0_x~y"] },
        ...dated(2)
      )
      const moves = [
        ["/p/%6Fne", "/p/one"],
        ["/p/on%65?utm_source=x&fbclid=y", "/p/one?utm_source=x&fbclid=y"],
        ["/p/%6f%6E%65", "/p/one"],
        ["/%70/one", "/p/one"],
        ["/p/%6Fne/", "/p/one"],
        ["/p/%6Fne;v=1", "/p/one"],
        ["/p/post%2D1", "/p/post-1"],
        ["/tags/%72ust", "/tags/rust"],
        // Straight to the tag's key, not one move per fix.
        ["/tags/R%75st", "/tags/rust"],
        ["/tags/%72ust/rss.xml?x=1", "/tags/rust/rss.xml?x=1"],
        ["/tags/caf%c3%a9", "/tags/caf%C3%A9"],
        ["/tags/v1%2E0%5Fx%7Ey", "/tags/v1.0_x~y"],
        ["/r%73s.xml", "/rss.xml"],
        ["/%73earch?q=one", "/search?q=one"],
        ["/page/%32", "/page/2"],
        ["/sitemap-posts-%31.xml", "/sitemap-posts-1.xml"],
        ["/assets/site%2Ecss?v=1", "/assets/site.css?v=1"]
      ] as const
      for (const [path, location] of moves) {
        const moved = yield* assertMoved(path, location)
        assert.strictEqual(moved.headers["content-security-policy"], CONTENT_SECURITY_POLICY, path)
        assert.strictEqual((yield* fetchPage(location)).status, 200, location)
      }
      // What must stay escaped does: reserved characters, spaces, non-ASCII (the site's own links).
      for (const path of ["/tags/c%2B%2B", "/tags/a%2Fb", "/tags/caf%C3%A9", "/p/one"]) {
        assert.strictEqual((yield* fetchPage(path)).status, 200, path)
      }
      // A page's query is the reader's (a shared link's utm_source, fbclid): never refused, never moved.
      for (const path of ["/?utm_source=x&utm_medium=social", "/p/one?fbclid=y", "/tags/rust?utm_source=x", "/search?q=one&utm_source=x", "/rss.xml?utm_source=feed"]) {
        assert.strictEqual((yield* fetchPage(path)).status, 200, path)
      }
    }).pipe(Effect.provide(siteServer({ pageSize: 1, sitemapSize: 1 }))))

  it.effect("with a SITE_URL path, an escape in it or after it moves to the one URL, path kept (was: the page, at every spelling)", () =>
    Effect.gen(function* () {
      yield* seed({ slug: "one", title: "One", tags: ["rust"] }, { slug: "old-one", aliases: ["/releases/1.0"] })
      for (const [path, location] of [
        ["/blog/p/%6Fne", "/blog/p/one"],
        ["/bl%6Fg/p/one?x=1", "/blog/p/one?x=1"],
        ["/bl%6fg/p/%6Fne/", "/blog/p/one"],
        ["//blog/p/one", "/blog/p/one"],
        ["/b%6Cog/rss.xml", "/blog/rss.xml"],
        ["/p/%6Fne", "/blog/p/one"]
      ] as const) {
        yield* assertMoved(path, location)
      }
      for (const path of ["/blog/p/one", "/p/one", "/blog/tags/rust"]) assert.strictEqual((yield* fetchPage(path)).status, 200, path)
      // Nothing of the site's there: as it was (an alias straight to its post, a 404).
      const alias = yield* fetchPage("/bl%6Fg/releases/1.0")
      assert.deepStrictEqual([alias.status, alias.headers["location"]], [301, "/blog/p/old-one"])
      assert.strictEqual((yield* fetchPage("/bl%6Fg/no/such/page")).status, 404)
    }).pipe(Effect.provide(siteServer({ url: "https://example.com/blog/" }))))

  it("a page's one URL never leaves the site, whatever the request's path", () => {
    for (const [url, path] of [
      ["/", "/"],
      ["", "/"],
      ["//", "/"],
      ["/p/x/", "/p/x"],
      ["//evil.example//", "/evil.example"],
      ["///evil.example/p/x", "/evil.example/p/x"],
      ["/\\evil.example/", "/%5Cevil.example"],
      ["http://evil.example/p/x/", "/p/x"],
      ["https://evil.example", "/"],
      ["/p/x?next=//evil.example/", "/p/x"],
      ["/p/x;v=1", "/p/x"],
      ["/p/x#v", "/p/x"],
      ["/;//evil.example", "/"],
      ["/#//evil.example", "/"],
      ["http://evil.example/p/x;a/b", "/p/x"],
      ["/p/x#a?b=c", "/p/x"],
      // Only unreserved characters are unescaped: never a slash or a backslash, nor a dot segment
      // (`/p/..`, which a client resolves to `/`; WHATWG URL parsers, the test client's too, read
      // `%2E%2E` so already, so only a raw client sends it).
      ["/%2F%2Fevil.example", "/%2F%2Fevil.example"],
      ["/%2f%2fevil.example", "/%2F%2Fevil.example"],
      ["/%5cevil.example", "/%5Cevil.example"],
      ["/%65vil.example/%2E%2E", "/evil.example/%2E%2E"],
      ["/p/%2e", "/p/%2E"]
    ] as const) {
      const one = canonicalPath(url)
      assert.strictEqual(one, path, url)
      assert.match(one, /^\/(?![/\\])/, url)
    }
  })

  it("an absolute-form target at a page's one URL is that page, not a move (which the client would follow forever)", () => {
    for (const url of ["http://127.0.0.1/p/x", "https://example.com/", "http://example.com", "/p/x", "/"]) assert.isTrue(isCanonical(url), url)
    for (const url of ["http://127.0.0.1/p/x/", "http://127.0.0.1//p/x", "/p/x/", "//p/x"]) assert.isFalse(isCanonical(url), url)
  })

  it("a path the router cuts at `;` or `#` is not its page's one URL", () => {
    for (const url of ["/p/x;", "/p/x;v=1", "/p/x#v", "/;a", "/#", "/rss.xml;x", "http://any.host/p/x;", "http://any.host/p/x#v"]) {
      assert.isFalse(isCanonical(url), url)
    }
  })

  it.effect("a draft, an unknown slug and an unknown path are the site's 404 page", () =>
    Effect.gen(function* () {
      yield* seed({ slug: "not-yet", title: "Not yet", status: "draft" })
      for (const path of ["/p/not-yet", "/p/nobody-here", "/no/such/page", "/tags/nothing", "/page/abc"]) {
        const page = yield* fetchPage(path)
        assert.strictEqual(page.status, 404, path)
        assert.strictEqual(page.headers["content-type"], "text/html; charset=utf-8", path)
        assert.include(page.body, `<a class="brand" href="/">Test Blog</a>`, path)
        assert.include(page.body, "Page not found", path)
        assert.include(page.body, `<meta name="robots" content="noindex"/>`, path)
        assert.notInclude(page.body, "Not yet", path)
      }
    }).pipe(Effect.provide(siteServer())))

  it.effect("a 404 or 405 page says why in the site's language (SITE_LANGUAGE), the API's JSON in English", () =>
    Effect.gen(function* () {
      const says = (language: string, sentences: ReadonlyArray<readonly [string, string]>, method?: readonly [string, string]) =>
        Effect.gen(function* () {
          yield* seed({ slug: "here", title: "Here", tags: ["rust"] })
          for (const [path, sentence] of sentences) {
            const page = yield* fetchPage(path)
            assert.strictEqual(page.status, 404, `${language} ${path}`)
            assert.include(page.body, sentence, `${language} ${path}`)
            assert.notInclude(page.body, "There is", `${language} ${path}`)
            assert.notInclude(page.body, "Nothing is published", `${language} ${path}`)
          }
          if (method !== undefined) {
            const [path, sentence] = method
            const answer = yield* Effect.scoped(Effect.flatMap(HttpClient.HttpClient, (client) =>
              client.execute(HttpClientRequest.post(path).pipe(HttpClientRequest.setHeaders({ accept: "text/html" }))))
              .pipe(Effect.flatMap((response) => Effect.map(response.text, (body) => ({ status: response.status, body })))))
            assert.strictEqual(answer.status, 405, language)
            assert.include(answer.body, sentence, language)
          }
          const api = yield* fetchRaw("/posts/no-such-post", { accept: "application/json" })
          assert.deepStrictEqual([api.status, JSON.parse(api.body).message], [404, `no post with slug "no-such-post"`], language)
        }).pipe(Effect.provide(siteServer({ language })))
      yield* says("de", [
        ["/p/no-such-post", "Unter „no-such-post“ gibt es keinen Beitrag."],
        ["/tags/nothing", "Mit dem Schlagwort „nothing“ ist nichts veröffentlicht."],
        ["/tags/rust/page/2", "Mit dem Schlagwort „rust“ ist auf Seite 2 nichts veröffentlicht."],
        ["/tags/nothing/rss.xml", "Mit dem Schlagwort „nothing“ ist nichts veröffentlicht."],
        ["/page/2", "Es gibt keine Seite 2."],
        ["/page/abc", "Diese Seite gibt es nicht."],
        ["/tags/%20", "Dieses Schlagwort gibt es nicht."],
        ["/sitemap-posts-2.xml", "Es gibt keine Sitemap-Datei 2 der Beiträge."],
        ["/sitemap-pages-x.xml", "Diese Sitemap gibt es nicht."],
        ["/search?q=here&page=2", "Es gibt keine Ergebnisseite 2."],
        ["/search?q=here&page=999", "Es gibt keine Ergebnisseite 999: Eine Suche zeigt nur ihre ersten 1.000 Ergebnisse."],
        ["/no/such/page", "Unter dieser Adresse gibt es nichts."],
        ["/p/%FF", "Unter dieser Adresse gibt es nichts."]
      ], ["/p/here", "/p/here nimmt die Methode POST nicht an, nur GET, HEAD, OPTIONS."])
      yield* says("fr-CA", [
        ["/p/no-such-post", "Il n’y a aucun article à l’adresse « no-such-post »."],
        ["/no/such/page", "Il n’y a rien à cette adresse."]
      ], ["/", "/ n’accepte pas la méthode POST, seulement GET, HEAD, OPTIONS."])
      yield* says("zh-Hans", [["/p/no-such-post", "地址“no-such-post”没有文章。"]])
      yield* says("zh-TW", [["/p/no-such-post", "網址「no-such-post」沒有文章。"], ["/page/2", "第 2 頁不存在。"]])
    }))

  it.effect("a site in zh-TW (or zh-HK, zh-MO, zh-Hant) reads Traditional Chinese, not the Simplified catalog", () =>
    Effect.gen(function* () {
      yield* seed({ slug: "hello", title: "Hello", tags: ["rust"] })
      const home = yield* fetchPage("/")
      const post = yield* fetchPage("/p/hello")
      const tag = yield* fetchPage("/tags/rust")
      for (const [name, page] of [["home", home], ["post", post], ["tag", tag]] as const) {
        assert.strictEqual(page.status, 200, name)
        assert.include(page.body, `<html lang="zh-TW" dir="ltr">`, name)
        assert.include(page.body, "跳到主要內容", name)
        assert.include(page.body, "搜尋文章", name)
        assert.notInclude(page.body, "搜索", name)
        assert.notInclude(page.body, "跳到正文", name)
      }
      assert.include(home.body, "閱讀時間約 1 分鐘")
      assert.include(tag.body, "標籤為「rust」的文章")
      assert.notInclude(tag.body, "标签")
    }).pipe(Effect.provide(siteServer({ language: "zh-TW" }))))

  it.effect("an address that does not percent-decode (/p/%FF, /tags/%FF) is the site's 404 page in a browser, the API's 400 elsewhere", () =>
    Effect.gen(function* () {
      yield* seed(...dated(1))
      for (const path of ["/p/%FF", "/tags/%FF", "/tags/%FF/rss.xml", "/tags/%E6%97/page/2", "/p/caf%"]) {
        const page = yield* fetchPage(path)
        assert.strictEqual(page.status, 404, path)
        assert.strictEqual(page.headers["content-type"], "text/html; charset=utf-8", path)
        assert.strictEqual(page.headers["content-security-policy"], CONTENT_SECURITY_POLICY, path)
        assert.include(page.body, "Page not found", path)
        const api = yield* fetchRaw(path, { accept: "application/json" })
        assert.strictEqual(api.status, 400, path)
        assert.strictEqual(JSON.parse(api.body)._tag, "BadRequest", path)
      }
      // The pages around them are unchanged.
      assert.strictEqual((yield* fetchPage("/p/post-1")).status, 200)
    }).pipe(Effect.provide(siteServer())))

  it.effect("an answer chosen by Accept (the site's page or the API's JSON, at one address) says Vary: Accept, and the JSON one no-cache too", () =>
    Effect.gen(function* () {
      yield* seed(...dated(1))
      const varies = (vary: string | undefined) => (vary ?? "").split(",").map((name) => name.trim()).includes("accept")
      for (const [path, apiStatus] of [["/nope", 404], ["/p/post-1/more", 404], ["/p/%FF", 400], ["/tags/%E6%97/page/2", 400]] as const) {
        const page = yield* fetchPage(path)
        assert.strictEqual(page.status, 404, path)
        assert.isTrue(varies(page.headers["vary"]), `${path} page: vary ${page.headers["vary"]}`)
        assert.strictEqual(page.headers["cache-control"], "no-cache", path)
        const api = yield* fetchRaw(path, { accept: "application/json" })
        assert.strictEqual(api.status, apiStatus, path)
        assert.isTrue(varies(api.headers["vary"]), `${path} JSON: vary ${api.headers["vary"]}`)
        // Still apart by key, as every answer that set no caching of its own is.
        assert.include(api.headers["vary"], "x-api-key", path)
        assert.strictEqual(api.headers["cache-control"], "no-cache", path)
        const keyed = yield* fetchRaw(path, { "x-api-key": KEY })
        assert.strictEqual(keyed.headers["cache-control"], "private", path)
        assert.isTrue(varies(keyed.headers["vary"]), path)
      }
      // A 405 on the site's paths is a page or JSON by Accept too.
      const post = (accept: string) =>
        Effect.flatMap(HttpClient.HttpClient, (client) =>
          client.execute(HttpClientRequest.post("/p/post-1").pipe(HttpClientRequest.setHeaders({ accept }))))
          .pipe(Effect.map((response) => response.headers), Effect.scoped)
      assert.isTrue(varies((yield* post("text/html"))["vary"]))
      assert.isTrue(varies((yield* post("application/json"))["vary"]))
      // Pages that are HTML whatever Accept says do not vary on it.
      const unknown = yield* fetchRaw("/p/nope", { accept: "application/json" })
      assert.strictEqual(unknown.status, 404)
      assert.isFalse(varies(unknown.headers["vary"]))
      assert.isFalse(varies((yield* fetchPage("/p/post-1")).headers["vary"]))
      // The API's own answers are as they were.
      assert.isFalse(varies((yield* fetchRaw("/posts", { accept: "application/json" })).headers["vary"]))
    }).pipe(Effect.provide(siteServer())))

  it.effect("API clients still get JSON 404s and the API still answers", () =>
    Effect.gen(function* () {
      yield* seed(...dated(1))
      const missing = yield* fetchRaw("/no/such/route", { accept: "application/json" })
      assert.strictEqual(missing.status, 404)
      assert.strictEqual(JSON.parse(missing.body)._tag, "RouteNotFound")
      const api = yield* fetchRaw("/posts", { accept: "application/json" })
      assert.strictEqual(api.status, 200)
      assert.strictEqual(JSON.parse(api.body).items[0].slug, "post-1")
      const tags = yield* fetchRaw("/tags", { "x-api-key": KEY })
      assert.deepStrictEqual(JSON.parse(tags.body), { tags: [{ tag: "test", count: 1 }] })
    }).pipe(Effect.provide(siteServer())))

  it.effect("pages are numbered with stable links; /page/1 is the home page", () =>
    Effect.gen(function* () {
      yield* seed(...dated(5))
      const first = yield* fetchPage("/")
      assert.include(first.body, "Post number 5")
      assert.include(first.body, "Post number 4")
      assert.notInclude(first.body, "Post number 3")
      assert.include(first.body, `<a href="/page/2" rel="next">Older posts →</a>`)
      assert.notInclude(first.body, `rel="prev"`)

      const second = yield* fetchPage("/page/2")
      assert.include(second.body, "Post number 3")
      assert.include(second.body, `<a href="/" rel="prev">← Newer posts</a>`)
      assert.include(second.body, `<a href="/page/3" rel="next">`)
      assert.include(second.body, `<link rel="canonical" href="${SITE_URL}/page/2"/>`)

      const last = yield* fetchPage("/page/3")
      assert.include(last.body, "Post number 1")
      assert.notInclude(last.body, "Older posts")

      assert.strictEqual((yield* fetchPage("/page/4")).status, 404)
      yield* assertMoved("/page/1", "/")
    }).pipe(Effect.provide(siteServer({ pageSize: 2 }))))

  it.effect("/page/1 moves to the home page with its query, as every other move does; a page number written with an escape (`/page/%32`) moves to its one URL, `02` is none (was: the query dropped, and a copy of /page/2)", () =>
    Effect.gen(function* () {
      yield* seed(...dated(5, { tags: ["paging"] }))
      for (const [path, location] of [
        ["/page/1?utm_source=x", "/?utm_source=x"],
        ["/tags/paging/page/1?utm_source=x", "/tags/paging?utm_source=x"],
        ["/tags/PAGING/page/1?x=1", "/tags/paging?x=1"]
      ] as const) {
        yield* assertMoved(path, location)
      }
      for (const path of ["/page/2", "/tags/paging/page/2", "/sitemap-posts-1.xml", "/sitemap-pages-1.xml"]) {
        assert.strictEqual((yield* fetchPage(path)).status, 200, path)
      }
      // An escaped digit is the digit (RFC 3986 §6.2.2.2), as any escaped unreserved character: a move, never a copy.
      for (const [path, location] of [
        ["/page/%32", "/page/2"],
        ["/p%61ge/2", "/page/2"],
        ["/page/%31", "/page/1"],
        ["/tags/paging/page/%32", "/tags/paging/page/2"],
        ["/sitemap-posts-%31.xml", "/sitemap-posts-1.xml"],
        ["/sitemap-pages-%31.xml", "/sitemap-pages-1.xml"]
      ] as const) {
        yield* assertMoved(path, location)
      }
      for (const path of ["/page/02", "/page/+2", "/sitemap-posts-01.xml"]) {
        const page = yield* fetchPage(path)
        assert.strictEqual(page.status, 404, path)
        assert.include(page.body, "Page not found", path)
      }
    }).pipe(Effect.provide(siteServer({ pageSize: 2, sitemapSize: 3 }))))

  it.effect("a tag's page lists its published posts, with its own feeds and pages", () =>
    Effect.gen(function* () {
      yield* seed(
        ...dated(3, { tags: ["c++", "systems programming"] }),
        { slug: "other", title: "Other topic", tags: ["cooking"] },
        { slug: "hidden", title: "Hidden c++ draft", tags: ["c++"], status: "draft" }
      )
      const page = yield* fetchPage("/tags/c%2B%2B")
      assert.strictEqual(page.status, 200)
      assert.include(page.body, "Posts tagged “c++”")
      assert.include(page.body, "Post number 3")
      assert.include(page.body, "Post number 2")
      assert.notInclude(page.body, "Other topic")
      assert.notInclude(page.body, "Hidden c++ draft")
      assert.include(page.body, `<a href="/tags/c%2B%2B/page/2" rel="next">`)
      assert.include(page.body, `<link rel="alternate" type="application/rss+xml" title="Test Blog: c++ (RSS)" href="${SITE_URL}/tags/c%2B%2B/rss.xml"/>`)

      const second = yield* fetchPage("/tags/c%2B%2B/page/2")
      assert.include(second.body, "Post number 1")
      assert.include(second.body, `<a href="/tags/c%2B%2B" rel="prev">`)
      const spaced = yield* fetchPage("/tags/systems%20programming")
      assert.include(spaced.body, "Post number 3")
    }).pipe(Effect.provide(siteServer({ pageSize: 2 }))))

  it.effect("every page links its feeds and carries the security and cache headers", () =>
    Effect.gen(function* () {
      yield* seed(...dated(1))
      for (const path of ["/", "/p/post-1", "/tags/test", "/missing"]) {
        const page = yield* fetchPage(path)
        assert.strictEqual(page.headers["content-security-policy"], CONTENT_SECURITY_POLICY)
        assert.include(page.headers["content-security-policy"]!, "script-src 'none'")
        assert.strictEqual(page.headers["x-content-type-options"], "nosniff")
        assert.isDefined(page.headers["cache-control"])
        for (const [type, file] of [["application/rss+xml", "rss.xml"], ["application/atom+xml", "atom.xml"], ["application/feed+json", "feed.json"]]) {
          assert.include(page.body, `<link rel="alternate" type="${type}" title="Test Blog`, path)
          assert.include(page.body, `href="${SITE_URL}/${file}"/>`, path)
        }
        // And the API's list of the same posts, for `inkwell import --from-url` given the page.
        const list = path === "/tags/test" ? `${SITE_URL}/posts?tag=test` : `${SITE_URL}/posts`
        assert.include(page.body, `<link rel="alternate" type="application/vnd.inkwell.posts+json" title="Test Blog${path === "/tags/test" ? ": test" : ""} (Inkwell API)" href="${list}"/>`, path)
        // No script anywhere, and nothing loaded from another origin.
        assert.notInclude(page.body, "<script")
        assert.isTrue(hrefs(page.body).filter((h) => h.startsWith("http")).every((h) => h.startsWith(SITE_URL)))
      }
      const home = yield* fetchPage("/")
      assert.strictEqual(home.headers["cache-control"], "public, max-age=60")
    }).pipe(Effect.provide(siteServer())))

  it.effect("the Content-Security-Policy lets the browser load every image a post keeps", () =>
    Effect.gen(function* () {
      const sources = [
        "http://img.example/a.png", "https://img.example/a.png", "//img.example/a.png", "/a.png", "a.png",
        "data:image/png;base64,iVBORw0KGgo=", "ftp://img.example/a.png", "blob:https://img.example/1", "file:///a.png",
        "filesystem:https://img.example/a.png", "ws://img.example/a.png", "data:image/svg+xml,%3Csvg/%3E"
      ]
      const body = sources.map((src) => `![m](${src})\n\n<img src="${src}" alt="r">`).join("\n\n")
      yield* seed({ slug: "pictures", body, html: renderMarkdown(body).html })
      const page = yield* fetchPage("/p/pictures")
      const imgSrc = (page.headers["content-security-policy"] ?? "").split(";").map((d) => d.trim().split(/\s+/)).find(([name]) => name === "img-src")
      assert.isDefined(imgSrc)
      const kept = Array.from(page.body.matchAll(/<img src="([^"]*)"/g), (m) => m[1]!.replaceAll("&amp;", "&"))
      assert.includeMembers(kept, ["http://img.example/a.png", "https://img.example/a.png", "data:image/png;base64,iVBORw0KGgo="])
      for (const src of kept) {
        const scheme = urlScheme(src)
        // A relative or scheme-relative URL has the page's own scheme: 'self', or http:/https: above.
        if (scheme === undefined) continue
        assert.include(imgSrc!, `${scheme}:`, src)
      }
    }).pipe(Effect.provide(siteServer())))

  it.effect("the stylesheet is cacheable forever under its versioned URL", () =>
    Effect.gen(function* () {
      const home = yield* fetchPage("/")
      assert.include(home.body, `href="/assets/site.css?v=${stylesheetVersion}"`)
      const css = yield* fetchRaw(`/assets/site.css?v=${stylesheetVersion}`)
      assert.strictEqual(css.status, 200)
      assert.strictEqual(css.headers["content-type"], "text/css; charset=utf-8")
      assert.strictEqual(css.headers["cache-control"], "public, max-age=31536000, immutable")
      assert.include(css.body, "prefers-color-scheme: dark")
      // A post paints within its own box, never over the header: the line behind the sanitizer.
      assert.match(css.body, /\n\.prose \{[^}]*overflow-y: clip;/)
      const stale = yield* fetchRaw("/assets/site.css?v=old")
      assert.strictEqual(stale.headers["cache-control"], "public, max-age=60")
    }).pipe(Effect.provide(siteServer())))
})

/** A store whose every read fails with `error`, as a database failure would. */
const failingWith = (error: RepositoryError) =>
  Layer.effect(
    PostRepository,
    Effect.map(MemoryPostRepository.make, (working) => ({
      ...working,
      list: () => Effect.fail(error),
      getBySlug: () => Effect.fail(error),
      findByAlias: () => Effect.fail(error)
    }))
  )

/** A database that refuses connections: pg's error as the driver's `SqlError` carries it. */
const unreachable = new DatabaseError({
  operation: "list",
  cause: { _tag: "SqlError", cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }) }
})

/** A store that answers nothing: every read fails as an unreachable database's would. */
const brokenRepository = failingWith(unreachable)

/** SQLite with its posts table dropped under it: every read a statement the database refuses. */
const tableDropped = Layer.effect(
  PostRepository,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`DROP TABLE posts`
    return yield* PostRepository
  })
).pipe(Layer.provide(sqliteStack("sqlite::memory:")), Layer.orDie)

describe("failures", () => {
  it.effect("a database that cannot be reached is a 503 page in the site's look, saying so, never cached, with Retry-After", () =>
    Effect.gen(function* () {
      for (const path of ["/", "/p/anything", "/rss.xml", "/old/alias.html"]) {
        const page = yield* fetchPage(path)
        assert.strictEqual(page.status, 503, path)
        assert.strictEqual(page.headers["cache-control"], "no-store", path)
        // RETRY_AFTER's value, as on the API's 503s (the harness's pipeline has 7).
        assert.strictEqual(page.headers["retry-after"], "7", path)
        assert.include(page.body, `<a class="brand" href="/">Test Blog</a>`, path)
        assert.include(page.body, "The blog cannot reach its database right now. Please try again in a moment.", path)
        assert.notInclude(page.body, "ECONNREFUSED", path)
      }
    }).pipe(Effect.provide(siteServer({}, brokenRepository, { retryAfterSeconds: 7 }))))

  it.effect("a database too busy to answer (PostgreSQL's statement timeout) is the 503 page saying so, logged at WARN as the API logs it", () => {
    const lines: Array<LogLine> = []
    const timedOut = new DatabaseError({
      operation: "list",
      cause: { _tag: "SqlError", cause: { code: "57014", severity: "ERROR", message: "canceling statement due to statement timeout" } }
    })
    const busy = Layer.effect(
      PostRepository,
      Effect.map(MemoryPostRepository.make, (working) => ({ ...working, list: () => Effect.fail(timedOut) }))
    )
    return Effect.gen(function* () {
      const page = yield* fetchPage("/")
      assert.strictEqual(page.status, 503)
      assert.include(page.body, "The blog is busy right now.")
      const site = lines.filter((line) => line.text.includes("site: "))
      assert.deepStrictEqual(site.map((line) => line.level), ["WARN"])
      assert.include(site[0]!.text, "site: the database is busy")
    }).pipe(Effect.provide(siteServer({}, busy).pipe(Layer.provide(captureLogs(lines)))))
  })

  it.effect("no connection free in time (PoolTimeout) is the busy 503 page, with Retry-After", () =>
    Effect.gen(function* () {
      for (const path of ["/", "/p/anything", "/old/alias.html"]) {
        const page = yield* fetchPage(path)
        assert.deepStrictEqual([page.status, page.headers["retry-after"], page.headers["cache-control"]], [503, "7", "no-store"], path)
        assert.include(page.body, "The blog is busy right now. Please try again in a moment.", path)
      }
    }).pipe(Effect.provide(siteServer({}, failingWith(new PoolTimeout({ waitedMs: 5000, maxConnections: 4 })), { retryAfterSeconds: 7 }))))

  it.effect("a statement the database refuses (its posts table dropped) is a 500 page, as the API's 500, never cached, with no Retry-After, logged at ERROR", () => {
    const lines: Array<LogLine> = []
    return Effect.gen(function* () {
      for (const path of ["/", "/p/anything", "/tags/rust", "/rss.xml", "/sitemap.xml", "/old/alias.html"]) {
        const page = yield* fetchPage(path)
        assert.strictEqual(page.status, 500, path)
        assert.strictEqual(page.headers["cache-control"], "no-store", path)
        assert.isUndefined(page.headers["retry-after"], path)
        assert.include(page.body, `<a class="brand" href="/">Test Blog</a>`, path)
        assert.include(page.body, `<p class="code">500</p>`, path)
        assert.include(page.body, "Something went wrong on our side, and this page could not be shown.", path)
        assert.notInclude(page.body, "cannot reach its database", path)
        assert.notInclude(page.body, "no such table", path)
      }
      // The API answers the same failure 500 too.
      const api = yield* fetchRaw("/posts/anything")
      assert.strictEqual(api.status, 500)
      assert.strictEqual(JSON.parse(api.body)._tag, "InternalServerError")
      const site = lines.filter((line) => line.text.includes("site: "))
      assert.isNotEmpty(site)
      assert.deepStrictEqual([...new Set(site.map((line) => line.level))], ["ERROR"])
      assert.include(site[0]!.text, "site: the repository failed")
    }).pipe(Effect.provide(siteServer({}, tableDropped, { retryAfterSeconds: 7 }).pipe(Layer.provide(captureLogs(lines)))))
  })

  it.effect("the failure pages speak the site's language", () =>
    Effect.gen(function* () {
      for (const [repository, status, sentence] of [
        [brokenRepository, 503, "Der Blog erreicht seine Datenbank gerade nicht. Bitte versuchen Sie es gleich noch einmal."],
        [failingWith(new PoolTimeout({ waitedMs: 5000, maxConnections: 4 })), 503, "Der Blog ist gerade ausgelastet."],
        [tableDropped, 500, "Bei uns ist etwas schiefgelaufen"]
      ] as const) {
        yield* Effect.gen(function* () {
          const page = yield* fetchPage("/p/anything")
          assert.strictEqual(page.status, status, sentence)
          assert.include(page.body, sentence)
          assert.notInclude(page.body, "Please try again", sentence)
          assert.notInclude(page.body, "on our side", sentence)
        }).pipe(Effect.provide(siteServer({ language: "de" }, repository)))
      }
      yield* Effect.gen(function* () {
        const page = yield* fetchPage("/")
        assert.strictEqual(page.status, 503)
        assert.include(page.body, "ただいまブログがデータベースに接続できません。")
      }).pipe(Effect.provide(siteServer({ language: "ja" }, brokenRepository)))
    }))
})

describe("conditional GET", () => {
  it.effect("If-None-Match with the ETag is answered 304 without a body; a change gives a new ETag", () =>
    Effect.gen(function* () {
      yield* seed(...dated(2))
      for (const path of ["/", "/p/post-1", "/tags/test", "/rss.xml", "/atom.xml", "/feed.json", "/sitemap.xml", "/robots.txt"]) {
        const first = yield* fetchPage(path)
        const etag = first.headers["etag"]
        assert.match(etag ?? "", /^"[\w-]{27}"$/, path)
        const again = yield* fetchPage(path, { "if-none-match": etag! })
        assert.strictEqual(again.status, 304, path)
        assert.strictEqual(again.body, "", path)
        assert.strictEqual(again.headers["etag"], etag, path)
        const weak = yield* fetchPage(path, { "if-none-match": `"other", W/${etag}` })
        assert.strictEqual(weak.status, 304, path)
        const other = yield* fetchPage(path, { "if-none-match": `"something-else"` })
        assert.strictEqual(other.status, 200, path)
      }
      const before = (yield* fetchPage("/")).headers["etag"]
      yield* seed({ slug: "fresh", title: "Fresh", publishedAt: "2024-06-01T00:00:00Z" })
      const after = yield* fetchPage("/", { "if-none-match": before! })
      assert.strictEqual(after.status, 200)
      assert.notStrictEqual(after.headers["etag"], before)
      assert.include(after.body, "Fresh")
    }).pipe(Effect.provide(siteServer())))

  it.effect("Last-Modified comes from the posts shown; If-Modified-Since never hides a removed post", () =>
    Effect.gen(function* () {
      // Each stored when its update was written: an update is never read as later than its write.
      yield* TestClock.setTime(Date.parse("2024-02-01T10:00:00Z"))
      yield* seed({ slug: "older", publishedAt: "2024-01-01T00:00:00Z", updatedAtSource: "2024-02-01T10:00:00Z" })
      yield* TestClock.setTime(Date.parse("2024-03-05T12:30:00Z"))
      yield* seed({ slug: "newer", publishedAt: "2024-03-01T00:00:00Z", updatedAtSource: "2024-03-05T12:30:00Z" })
      const page = yield* fetchPage("/p/older")
      // The neighbour's title is on the page, so its change counts too.
      assert.strictEqual(page.headers["last-modified"], "Tue, 05 Mar 2024 12:30:00 GMT")
      const feed = yield* fetchPage("/rss.xml")
      const lastModified = feed.headers["last-modified"]!
      assert.strictEqual(lastModified, "Tue, 05 Mar 2024 12:30:00 GMT")
      // Deleting the newest post moves Last-Modified back: a reader polling with the date it
      // saw must get the feed without that post, not 304.
      const repository = yield* PostRepository
      const newer = yield* repository.getBySlug("newer")
      yield* repository.delete("newer", newer.version)
      for (const path of ["/rss.xml", "/atom.xml", "/feed.json", "/sitemap.xml", "/", "/p/older"]) {
        const again = yield* fetchPage(path, { "if-modified-since": lastModified })
        assert.strictEqual(again.status, 200, path)
        assert.notInclude(again.body, "/p/newer", path)
      }
      // If-None-Match still decides.
      const current = yield* fetchPage("/rss.xml")
      assert.strictEqual((yield* fetchPage("/rss.xml", { "if-none-match": current.headers["etag"]! })).status, 304)
    }).pipe(Effect.provide(siteServer())))
})

describe("feeds", () => {
  const contentPost = {
    slug: "with-links",
    title: `Links & <things>`,
    tags: ["web"],
    authors: ["Grace Hopper"],
    publishedAt: "2024-04-01T08:00:00Z",
    html: `<p>See <a href="/p/other">other</a>, <a href="#fn1">note</a> and <img src="img/cat.png" alt="cat"> or <a href="https://example.org/x">elsewhere</a>.</p>`
  }

  it.effect("RSS 2.0 has the channel and item fields, full content and absolute links", () =>
    Effect.gen(function* () {
      yield* seed(contentPost, ...dated(24), { slug: "draft-one", title: "Draft one", status: "draft" })
      const response = yield* fetchRaw("/rss.xml")
      assert.strictEqual(response.headers["content-type"], "application/rss+xml; charset=utf-8")
      const rss = parser.parse(response.body).rss
      assert.strictEqual(rss["@_version"], "2.0")
      const channel = rss.channel
      assert.strictEqual(channel.title, "Test Blog")
      assert.strictEqual(channel.link, `${SITE_URL}/`)
      assert.strictEqual(channel.description, "Words & things")
      assert.strictEqual(channel["atom:link"][0]["@_href"], `${SITE_URL}/rss.xml`)
      assert.strictEqual(channel.item.length, 20)
      for (const item of channel.item) {
        assert.isString(item.title)
        assert.match(item.link, /^https:\/\/blog\.example\.com\/p\//)
        assert.match(item.guid["#text"], /^urn:uuid:[0-9a-f-]{36}$/)
        assert.strictEqual(item.guid["@_isPermaLink"], "false")
        assert.isFalse(Number.isNaN(Date.parse(item.pubDate)))
        assert.match(item.pubDate, /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/)
      }
      assert.notInclude(response.body, "Draft one")
      // 25 published: the April post, then post-24 down to post-6; post-5 and older fell off.
      const links = channel.item.map((item: { link: string }) => item.link)
      assert.strictEqual(links[0], `${SITE_URL}/p/with-links`)
      assert.strictEqual(links[1], `${SITE_URL}/p/post-24`)
      assert.strictEqual(links[19], `${SITE_URL}/p/post-6`)
    }).pipe(Effect.provide(siteServer())))

  it.effect("feed content is the full sanitized HTML with links resolved against SITE_URL", () =>
    Effect.gen(function* () {
      yield* seed(contentPost)
      const rss = parser.parse((yield* fetchRaw("/rss.xml")).body).rss.channel.item[0]
      const html: string = rss["content:encoded"]
      assert.include(html, `href="${SITE_URL}/p/other"`)
      // In-page too: against the post's URL (a reader would take `#fn1` as the feed's).
      assert.include(html, `href="${SITE_URL}/p/with-links#fn1"`)
      assert.include(html, `src="${SITE_URL}/p/img/cat.png"`)
      assert.include(html, `href="https://example.org/x"`)
      assert.strictEqual(rss.title, "Links & <things>")
      assert.strictEqual(rss["dc:creator"], "Grace Hopper")
      assert.deepStrictEqual(rss.category, ["web"])

      const atom = parser.parse((yield* fetchRaw("/atom.xml")).body).feed.entry[0]
      assert.include(atom.content["#text"], `href="${SITE_URL}/p/other"`)
      assert.include(atom.content["#text"], `href="${SITE_URL}/p/with-links#fn1"`)
      const json = JSON.parse((yield* fetchRaw("/feed.json")).body)
      assert.include(json.items[0].content_html, `src="${SITE_URL}/p/img/cat.png"`)
      assert.include(json.items[0].content_html, `href="${SITE_URL}/p/with-links#fn1"`)
    }).pipe(Effect.provide(siteServer())))

  it.effect("Atom 1.0 has feed id/title/updated and entry id/title/updated/link", () =>
    Effect.gen(function* () {
      yield* seed(contentPost, ...dated(2))
      const response = yield* fetchRaw("/atom.xml")
      assert.strictEqual(response.headers["content-type"], "application/atom+xml; charset=utf-8")
      const feed = parser.parse(response.body).feed
      assert.strictEqual(feed["@_xmlns"], "http://www.w3.org/2005/Atom")
      assert.strictEqual(feed.id, `${SITE_URL}/atom.xml`)
      assert.strictEqual(feed.title, "Test Blog")
      assert.isFalse(Number.isNaN(Date.parse(feed.updated)))
      assert.strictEqual(feed.author.name, "Test Blog")
      const self = feed.link.find((link: Record<string, string>) => link["@_rel"] === "self")
      assert.strictEqual(self["@_href"], `${SITE_URL}/atom.xml`)
      assert.strictEqual(feed.entry.length, 3)
      for (const entry of feed.entry) {
        assert.match(entry.id, /^urn:uuid:[0-9a-f-]{36}$/)
        assert.isString(entry.title["#text"])
        assert.isFalse(Number.isNaN(Date.parse(entry.updated)))
        assert.match(entry.link[0]["@_href"], /^https:\/\/blog\.example\.com\/p\//)
        assert.strictEqual(entry.content["@_type"], "html")
      }
      assert.strictEqual(feed.entry[0].title["#text"], "Links & <things>")
      assert.strictEqual(feed.entry[0].author.name, "Grace Hopper")
    }).pipe(Effect.provide(siteServer())))

  it.effect("JSON Feed 1.1 has the required fields", () =>
    Effect.gen(function* () {
      yield* seed(contentPost, ...dated(2))
      const response = yield* fetchRaw("/feed.json")
      assert.strictEqual(response.headers["content-type"], "application/feed+json; charset=utf-8")
      const feed = JSON.parse(response.body)
      assert.strictEqual(feed.version, "https://jsonfeed.org/version/1.1")
      assert.strictEqual(feed.title, "Test Blog")
      assert.strictEqual(feed.home_page_url, `${SITE_URL}/`)
      assert.strictEqual(feed.feed_url, `${SITE_URL}/feed.json`)
      assert.isArray(feed.items)
      assert.strictEqual(feed.items.length, 3)
      for (const item of feed.items) {
        assert.isString(item.id)
        assert.isTrue(typeof item.content_html === "string" || typeof item.content_text === "string")
        assert.match(item.url, /^https:\/\/blog\.example\.com\/p\//)
        // RFC 3339.
        assert.match(item.date_published, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/)
      }
      assert.deepStrictEqual(feed.items[0].authors, [{ name: "Grace Hopper" }])
    }).pipe(Effect.provide(siteServer())))

  it.effect("each feed exists per tag, with only that tag's published posts; an unknown tag is 404", () =>
    Effect.gen(function* () {
      yield* seed(contentPost, ...dated(2), { slug: "web-draft", title: "Web draft", tags: ["web"], status: "draft" })
      const rss = parser.parse((yield* fetchRaw("/tags/web/rss.xml")).body).rss.channel
      assert.strictEqual(rss.title, "Test Blog: web")
      assert.strictEqual(rss.link, `${SITE_URL}/tags/web`)
      assert.strictEqual(rss.item.length, 1)
      const atom = parser.parse((yield* fetchRaw("/tags/web/atom.xml")).body).feed
      assert.strictEqual(atom.id, `${SITE_URL}/tags/web/atom.xml`)
      assert.strictEqual(atom.entry.length, 1)
      const json = JSON.parse((yield* fetchRaw("/tags/web/feed.json")).body)
      assert.strictEqual(json.feed_url, `${SITE_URL}/tags/web/feed.json`)
      assert.deepStrictEqual(json.items.map((item: { title: string }) => item.title), ["Links & <things>"])
      assert.strictEqual((yield* fetchRaw("/tags/nope/rss.xml")).status, 404)
    }).pipe(Effect.provide(siteServer())))

  it.effect("an empty blog still has valid feeds, and claims no dates in RSS or the sitemap", () =>
    Effect.gen(function* () {
      const rss = parser.parse((yield* fetchRaw("/rss.xml")).body).rss.channel
      assert.strictEqual(rss.title, "Test Blog")
      assert.isUndefined(rss.item)
      // Nothing was ever built: no date rather than 1 January 1970.
      assert.isUndefined(rss.lastBuildDate)
      const sitemap = parser.parse((yield* fetchRaw("/sitemap.xml")).body).urlset
      assert.deepStrictEqual(sitemap.url, [{ loc: `${SITE_URL}/` }])
      // Atom requires a date: the site's start (the server's now), not 1970, and the same
      // later on, so the feed's ETag holds.
      const atom = yield* fetchRaw("/atom.xml")
      assert.strictEqual(parser.parse(atom.body).feed.updated, "2026-01-01T00:00:00.000Z")
      yield* TestClock.adjust("3 hours")
      const later = yield* fetchRaw("/atom.xml")
      assert.strictEqual(later.body, atom.body)
      assert.strictEqual(later.headers["etag"], atom.headers["etag"])
      assert.deepStrictEqual(JSON.parse((yield* fetchRaw("/feed.json")).body).items, [])
      const home = yield* fetchPage("/")
      assert.strictEqual(home.status, 200)
      assert.include(home.body, "Nothing published yet.")
    }).pipe(Effect.provide(siteServer())))
})

describe("discovery", () => {
  it.effect("sitemap.xml lists the home page, every published post and every tag", () =>
    Effect.gen(function* () {
      yield* seed(...dated(3, { tags: ["a b"] }), { slug: "draft-x", status: "draft", tags: ["secret"] })
      const response = yield* fetchRaw("/sitemap.xml")
      assert.strictEqual(response.headers["content-type"], "application/xml; charset=utf-8")
      const urls = parser.parse(response.body).urlset.url.map((url: { loc: string }) => url.loc)
      // Posts oldest first, as the sitemap's files hold them (Sitemaps.ts).
      assert.deepStrictEqual(urls, [
        `${SITE_URL}/`,
        `${SITE_URL}/p/post-1`,
        `${SITE_URL}/p/post-2`,
        `${SITE_URL}/p/post-3`,
        `${SITE_URL}/tags/a%20b`
      ])
    }).pipe(Effect.provide(siteServer())))

  it.effect("sitemap.xml beyond one page of the listing: every post once, in order, each tag at its latest post", () =>
    Effect.gen(function* () {
      yield* seed(...dated(450).map((post, i) => ({ ...post, tags: [i % 2 === 0 ? "even" : "odd"] })))
      const entries: Array<{ loc: string; lastmod?: string }> = parser.parse((yield* fetchRaw("/sitemap.xml")).body).urlset.url
      const posts = entries.filter((entry) => entry.loc.includes("/p/"))
      assert.strictEqual(posts.length, 450)
      assert.deepStrictEqual(posts.slice(0, 2).map((entry) => entry.loc), [`${SITE_URL}/p/post-1`, `${SITE_URL}/p/post-2`])
      assert.strictEqual(posts.at(-1)!.loc, `${SITE_URL}/p/post-450`)
      assert.strictEqual(new Set(posts.map((entry) => entry.loc)).size, 450)
      // Tags by key; post-450 (the newest) is odd, post-449 even.
      const tags = entries.filter((entry) => entry.loc.includes("/tags/"))
      assert.deepStrictEqual(tags.map((entry) => [entry.loc, entry.lastmod]), [
        [`${SITE_URL}/tags/even`, posts.at(-2)!.lastmod],
        [`${SITE_URL}/tags/odd`, posts.at(-1)!.lastmod]
      ])
      assert.strictEqual(entries[0]!.lastmod, posts.at(-1)!.lastmod)
    }).pipe(Effect.provide(siteServer())))

  it.effect("robots.txt allows everything and names the sitemap", () =>
    Effect.gen(function* () {
      const robots = yield* fetchRaw("/robots.txt")
      assert.strictEqual(robots.headers["content-type"], "text/plain; charset=utf-8")
      assert.include(robots.body, "User-agent: *")
      assert.include(robots.body, `Sitemap: ${SITE_URL}/sitemap.xml`)
    }).pipe(Effect.provide(siteServer())))

  it.effect("a SITE_URL with a path prefixes links and absolute URLs", () =>
    Effect.gen(function* () {
      yield* seed(...dated(1))
      const home = yield* fetchPage("/")
      assert.include(home.body, `<a href="/blog/p/post-1">`)
      assert.include(home.body, `href="/blog/assets/site.css?v=`)
      assert.include(home.body, `<link rel="canonical" href="https://example.com/blog/"/>`)
      const rss = parser.parse((yield* fetchRaw("/rss.xml")).body).rss.channel
      assert.strictEqual(rss.item[0].link, "https://example.com/blog/p/post-1")
    }).pipe(Effect.provide(siteServer({ url: "https://example.com/blog/" }))))

  it.effect("a SITE_URL with a path is served under it too, as behind a proxy that passes it on (was: only at /, every link a 404 without a stripping proxy)", () =>
    Effect.gen(function* () {
      yield* seed(...dated(2, { tags: ["paging"] }), { slug: "rust-1-32", publishedAt: "2023-01-01T00:00:00Z", aliases: ["/2019/01/17/Rust-1.32.0.html"] })
      const home = yield* fetchPage("/blog/")
      assert.strictEqual(home.status, 200)
      // The same page as at the root (a proxy that strips the path), links and canonical alike.
      assert.strictEqual(home.body, (yield* fetchPage("/")).body)
      assert.include(home.body, `<link rel="canonical" href="https://example.com/blog/"/>`)
      // Every link the pages, feeds and sitemap give is answered as it is written.
      const links = [
        ...hrefs(home.body).filter((href) => href.startsWith("/blog/")),
        ...Array.from((yield* fetchRaw("/blog/sitemap.xml")).body.matchAll(/<loc>https:\/\/example\.com([^<]*)<\/loc>/g), (m) => m[1]!),
        "/blog/page/2", "/blog/atom.xml", "/blog/feed.json", "/blog/tags/paging/rss.xml", "/blog/search?q=number", "/blog/robots.txt"
      ]
      assert.include(links, "/blog/p/post-1")
      assert.include(links, "/blog/tags/paging")
      for (const link of links) {
        const page = yield* fetchPage(link.replaceAll("&amp;", "&"))
        assert.strictEqual(page.status, 200, link)
        assert.strictEqual(page.body, (yield* fetchPage(link.replaceAll("&amp;", "&").slice("/blog".length))).body, link)
      }
      const head = yield* Effect.scoped(Effect.flatMap(HttpClient.HttpClient, (client) => client.execute(HttpClientRequest.head("/blog/p/post-1"))))
      assert.strictEqual(head.status, 200)
      // Each other spelling moves to the one URL, under the path: the path alone to its home page.
      for (const [path, location] of [
        ["/blog", "/blog/"],
        ["/blog?utm_source=x", "/blog/?utm_source=x"],
        ["/blog;v=1", "/blog/"],
        ["//blog//p/post-1", "/blog/p/post-1"],
        ["/blog/p/post-1/", "/blog/p/post-1"],
        ["/blog/page/1", "/blog/"],
        ["/blog/tags/PAGING", "/blog/tags/paging"],
        ["/blog/rss.xml/?x=1", "/blog/rss.xml?x=1"],
        ["/blog/2019/01/17/Rust-1.32.0.html", "/blog/p/rust-1-32"]
      ] as const) {
        yield* assertMoved(path, location)
      }
      assert.strictEqual((yield* fetchPage("/blog/p/rust-1-32")).status, 200)
      // Routed as at the root (Middleware.routerConfig): a slug of 200 characters, and case as written.
      const long = "a".repeat(200)
      yield* seed({ slug: long, publishedAt: "2022-01-01T00:00:00Z" })
      assert.strictEqual((yield* fetchPage(`/blog/p/${long}`)).status, 200)
      assert.strictEqual((yield* fetchPage("/blog/P/post-1")).status, 404)
      // Misses under the path are the site's, as at the root: 404, 405 with Allow, 204 to OPTIONS.
      for (const path of ["/blog/p/nope", "/blog/nothing/here", "/blogs/p/post-1", "/blog/posts"]) {
        assert.strictEqual((yield* fetchPage(path)).status, 404, path)
      }
      const posted = yield* Effect.scoped(Effect.flatMap(HttpClient.HttpClient, (client) => client.execute(HttpClientRequest.post("/blog/"))))
      assert.strictEqual(posted.status, 405)
      assert.strictEqual(posted.headers["allow"], "GET, HEAD, OPTIONS")
      const options = yield* Effect.scoped(Effect.flatMap(HttpClient.HttpClient, (client) => client.execute(HttpClientRequest.options("/blog/p/post-1"))))
      assert.strictEqual(options.status, 204)
      // The API keeps its paths, at the root only.
      const api = yield* fetchRaw("/posts", { accept: "application/json" })
      assert.strictEqual(api.status, 200)
      assert.strictEqual(JSON.parse(api.body).items.length, 4)
    }).pipe(Effect.provide(siteServer({ pageSize: 1, url: "https://example.com/blog/" }))))

  it.effect("under a SITE_URL path, what the root serves keeps its meaning (SITE_URL at /tags: /tags/x is still the tag's page)", () =>
    Effect.gen(function* () {
      yield* seed(...dated(1, { tags: ["p"] }))
      const tag = yield* fetchPage("/tags/p")
      assert.strictEqual(tag.status, 200)
      assert.include(tag.body, `<link rel="canonical" href="https://example.com/tags/tags/p"/>`)
      // Under the path where the root has no route: the blog's.
      assert.strictEqual((yield* fetchPage("/tags/p/post-1")).status, 200)
      assert.strictEqual((yield* fetchRaw("/tags", { accept: "application/json" })).headers["content-type"], "application/json")
    }).pipe(Effect.provide(siteServer({ url: "https://example.com/tags" }))))

  it("a request's path under SITE_URL's path, as the router reads it", () => {
    const blog = prefixSegments("/blog")
    for (const [url, inside] of [
      ["/blog/p/x?v=1", "/p/x?v=1"],
      ["/blog/", "/"],
      ["/blog", ""],
      ["/blog?x=1", "?x=1"],
      ["/blog;v", ";v"],
      ["//blog//p/x", "//p/x"],
      ["http://any.host/blog/p/x", "/p/x"],
      ["/bl%6Fg/p/x", "/p/x"],
      ["/blogs/p/x", undefined],
      ["/Blog/p/x", undefined],
      ["/p/x", undefined],
      ["*", undefined]
    ] as const) {
      assert.strictEqual(withoutPrefix(url, blog), inside, url)
    }
    assert.strictEqual(withoutPrefix("/bl%C3%B6g/x", prefixSegments("/bl%C3%B6g")), "/x")
    assert.strictEqual(withoutPrefix("/a/b/x", prefixSegments("/a/b")), "/x")
    assert.strictEqual(withoutPrefix("/a/x", prefixSegments("/a/b")), undefined)
  })
})

describe("aliases", () => {
  const send = (method: "HEAD" | "POST", path: string) =>
    Effect.flatMap(HttpClient.HttpClient, (client) =>
      client.execute(method === "HEAD" ? HttpClientRequest.head(path) : HttpClientRequest.post(path))
    ).pipe(
      Effect.flatMap((response) => Effect.map(response.text, (body) => ({ status: response.status, headers: response.headers, body }))),
      Effect.scoped
    )

  it.effect("a published post's alias is a 301 to its page, however its slashes are written, for every client and HEAD", () =>
    Effect.gen(function* () {
      yield* seed({ slug: "rust-1-32", aliases: ["/2019/01/17/Rust-1.32.0.html", "releases/1.88.0", "/2019/hello world.html"] })
      for (const path of [
        "/2019/01/17/Rust-1.32.0.html",
        "/releases/1.88.0",
        "/releases/1.88.0/",
        "//releases/1.88.0",
        "/releases/1.88.0?utm_source=x",
        "/2019/hello%20world.html"
      ]) {
        const page = yield* assertMoved(path, "/p/rust-1-32")
        assert.strictEqual(page.headers["content-security-policy"], CONTENT_SECURITY_POLICY, path)
        assert.match(page.headers["cache-control"] ?? "", /^public, max-age=\d+$/, path)
      }
      const api = yield* fetchRaw("/releases/1.88.0", { accept: "application/json" })
      assert.strictEqual(api.status, 301)
      assert.strictEqual(api.headers["location"], "/p/rust-1-32")
      const head = yield* send("HEAD", "/releases/1.88.0/")
      assert.strictEqual(head.status, 301)
      assert.strictEqual(head.headers["location"], "/p/rust-1-32")
      assert.strictEqual(head.body, "")
      // Not a redirect for other methods, nor for a near miss.
      assert.notStrictEqual((yield* send("POST", "/releases/1.88.0")).status, 301)
      assert.strictEqual((yield* fetchPage("/releases/1.88")).status, 404)
      assert.strictEqual((yield* fetchPage("/2019/01/17/rust-1.32.0.html")).status, 404)
    }).pipe(Effect.provide(siteServer())))

  it.effect("a draft's alias and an unknown path stay the site's 404 page (and the API's JSON 404)", () =>
    Effect.gen(function* () {
      yield* seed({ slug: "not-yet", title: "Not yet", status: "draft", aliases: ["/old/not-yet.html"] })
      for (const path of ["/old/not-yet.html", "/old/not-yet.html/", "/no/such/page"]) {
        const page = yield* fetchPage(path)
        assert.strictEqual(page.status, 404, path)
        assert.include(page.body, "Page not found", path)
        assert.isUndefined(page.headers["location"], path)
        const api = yield* fetchRaw(path, { accept: "application/json" })
        assert.strictEqual(api.status, 404, path)
        assert.strictEqual(JSON.parse(api.body)._tag, "RouteNotFound", path)
      }
      assert.strictEqual((yield* send("HEAD", "/old/not-yet.html")).status, 404)
    }).pipe(Effect.provide(siteServer())))

  it.effect("an alias never shadows a route the site or the API serves", () =>
    Effect.gen(function* () {
      yield* seed(
        { slug: "other", title: "The other post" },
        { slug: "greedy", aliases: ["/p/other", "/rss.xml", "/", "/posts", "/health", "/tags/test"] }
      )
      const other = yield* fetchPage("/p/other")
      assert.strictEqual(other.status, 200)
      assert.include(other.body, "The other post")
      for (const path of ["/rss.xml", "/", "/posts", "/health", "/tags/test"]) {
        assert.strictEqual((yield* fetchPage(path)).status, 200, path)
      }
      // The post's own page is not an alias target of itself either.
      assert.strictEqual((yield* fetchPage("/p/greedy")).status, 200)
    }).pipe(Effect.provide(siteServer())))

  it.effect("with a SITE_URL path, Location carries it and the alias matches with or without it", () =>
    Effect.gen(function* () {
      yield* seed({ slug: "rust-1-88", aliases: ["releases/1.88.0"] })
      for (const path of ["/releases/1.88.0", "/blog/releases/1.88.0", "/blog/releases/1.88.0/"]) {
        yield* assertMoved(path, "/blog/p/rust-1-88")
      }
    }).pipe(Effect.provide(siteServer({ url: "https://example.com/blog/" }))))

  it.effect("with a SITE_URL path of non-ASCII characters, the alias matches without it too (was: the path kept percent-encoded never matched the decoded request)", () =>
    Effect.gen(function* () {
      yield* seed({ slug: "rust-1-88", aliases: ["releases/1.88.0"] })
      for (const path of ["/releases/1.88.0", "/bl%C3%B6g/releases/1.88.0", "/blo%CC%88g/releases/1.88.0"]) {
        yield* assertMoved(path, "/bl%C3%B6g/p/rust-1-88")
      }
    }).pipe(Effect.provide(siteServer({ url: "https://example.com/blög/" }))))

  it.effect("a Zola post's `path` (its old address, which links between its posts use) is a 301 to its page", () =>
    Effect.gen(function* () {
      const zola = (raw: string) => Either.getOrThrow(processPostSync({ source: "blog/post.md", relativePath: "post.md", raw }))
      const repository = yield* PostRepository
      yield* repository.create(zola(
        '+++\npath = "2019/09/30/Async-await-hits-beta"\ntitle = "Async-await hits beta!"\naliases = ["2019/09/30/Async-await-hits-beta.html"]\n+++\nBig news!\n'
      ))
      for (const path of [
        "/2019/09/30/Async-await-hits-beta/",
        "/2019/09/30/Async-await-hits-beta",
        "/2019/09/30/Async-await-hits-beta.html"
      ]) {
        yield* assertMoved(path, "/p/2019-09-30-async-await-hits-beta")
      }
      // As any alias: in the case written, and a newer post claiming it too wins.
      assert.strictEqual((yield* fetchPage("/2019/09/30/async-await-hits-beta/")).status, 404)
      yield* repository.create(zola(
        '+++\ntitle = "Moved"\ndate = 2020-01-01\naliases = ["/2019/09/30/Async-await-hits-beta/"]\n+++\nText.\n'
      ))
      assert.strictEqual((yield* fetchPage("/2019/09/30/Async-await-hits-beta")).headers["location"], "/p/moved")
    }).pipe(Effect.provide(siteServer())))

  it.effect("an old address written decomposed (NFD: a macOS file name's) through the API or an import is a 301 from the composed one browsers send, on SQLite", () =>
    Effect.gen(function* () {
      const send = (request: HttpClientRequest.HttpClientRequest) =>
        Effect.scoped(Effect.flatMap(HttpClient.HttpClient, (client) =>
          client.execute(HttpClientRequest.setHeaders(request, { "x-api-key": KEY }))).pipe(Effect.map((response) => response.status)))
      const created = yield* send(HttpClientRequest.post("/posts").pipe(
        HttpClientRequest.bodyUnsafeJson({ title: "Menu", slug: "menu", body: "Text.", aliases: ["/cafe\u0301/menu.html"] })
      ))
      const imported = yield* send(HttpClientRequest.post("/posts/import").pipe(
        HttpClientRequest.bodyText(
          `${JSON.stringify({ title: "Carte", slug: "carte", body: "---\naliases: [\"/cafe\u0301/carte.html\"]\n---\nText.", movedFrom: ["cafe\u0301-carte"] })}\n`,
          "application/x-ndjson"
        )
      ))
      assert.deepStrictEqual([created, imported], [201, 200])
      // Stored composed: the API answers the alias as the site looks it up.
      const menu = yield* fetchRaw("/posts/menu", { accept: "application/json" })
      assert.deepStrictEqual(JSON.parse(menu.body).aliases, ["/caf\u00e9/menu.html"])
      for (const [path, location] of [
        ["/caf%C3%A9/menu.html", "/p/menu"],
        ["/cafe%CC%81/menu.html", "/p/menu"],
        ["/caf%C3%A9/carte.html", "/p/carte"],
        // The old slug too, on the site (via its composed page) and in the API.
        ["/p/caf%C3%A9-carte", "/p/carte"],
        ["/posts/caf%C3%A9-carte", "/posts/carte"]
      ] as const) {
        const page = yield* fetchRaw(path)
        assert.deepStrictEqual([page.status, page.headers["location"]], [301, location], path)
      }
    }).pipe(
      Effect.provide(
        siteServer({}, Layer.effect(PostRepository, PostRepository).pipe(Layer.provide(sqliteStack("sqlite::memory:")), Layer.orDie))
      )
    ))

  it.effect("a repository without findByAlias redirects nothing", () =>
    Effect.gen(function* () {
      const without = Layer.effect(
        PostRepository,
        Effect.map(MemoryPostRepository.make, ({ findByAlias: _, ...rest }) => rest)
      )
      yield* Effect.gen(function* () {
        yield* seed({ slug: "kept", aliases: ["/old/kept.html"] })
        assert.strictEqual((yield* fetchPage("/old/kept.html")).status, 404)
      }).pipe(Effect.provide(siteServer({}, without)))
    }))

  it.effect("a failing alias lookup is the page of its failure (503 of the moment, 500 else), not a 404", () =>
    Effect.gen(function* () {
      for (const [cause, status] of [[unreachable.cause, 503], ["down", 500]] as const) {
        const failing = Layer.effect(
          PostRepository,
          Effect.map(MemoryPostRepository.make, (repository) => ({
            ...repository,
            findByAlias: () => Effect.fail(new DatabaseError({ operation: "PostRepository.findByAlias", cause }))
          }))
        )
        yield* Effect.gen(function* () {
          const page = yield* fetchPage("/old/anything.html")
          assert.strictEqual(page.status, status)
          assert.strictEqual(page.headers["cache-control"], "no-store")
        }).pipe(Effect.provide(siteServer({}, failing)))
      }
    }))
})

describe("methods", () => {
  const send = (method: string, path: string, headers: Record<string, string> = {}) =>
    Effect.flatMap(HttpClient.HttpClient, (client) =>
      client.execute(HttpClientRequest.make(method as "GET")(path).pipe(HttpClientRequest.setHeaders(headers)))
    ).pipe(
      Effect.flatMap((response) => Effect.map(response.text, (body) => ({ status: response.status, headers: response.headers, body }))),
      Effect.scoped
    )

  const SITE_PATHS = [
    "/",
    "/page/2",
    "/p/hello",
    "/p/no-such-post",
    "/tags/rust",
    "/tags/Rust/page/2",
    "/rss.xml",
    "/atom.xml",
    "/feed.json",
    "/tags/rust/rss.xml",
    "/tags/rust/atom.xml",
    "/tags/rust/feed.json",
    "/sitemap.xml",
    "/sitemap-posts-1.xml",
    "/sitemap-pages-2.xml",
    "/robots.txt",
    "/assets/site.css?v=1",
    "/favicon.ico"
  ]
  const BROWSER = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" }

  it.effect("OPTIONS on the site's paths is 204 with Allow: GET, HEAD, OPTIONS and no body", () =>
    Effect.gen(function* () {
      yield* seed({ slug: "hello", title: "Hello", tags: ["Rust"] })
      for (const path of SITE_PATHS) {
        for (const headers of [{}, BROWSER]) {
          const answer = yield* send("OPTIONS", path, headers)
          assert.strictEqual(answer.status, 204, path)
          assert.strictEqual(answer.headers["allow"], "GET, HEAD, OPTIONS", path)
          assert.strictEqual(answer.body, "", path)
        }
      }
    }).pipe(Effect.provide(siteServer())))

  it.effect("another method on the site's paths is 405 with Allow, the API's JSON answer to a client of the API", () =>
    Effect.gen(function* () {
      yield* seed({ slug: "hello", title: "Hello" })
      for (const path of SITE_PATHS) {
        for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
          for (const headers of [{}, { accept: "application/json" }, { accept: "*/*" }]) {
            const answer = yield* send(method, path, headers)
            const what = `${method} ${path} ${JSON.stringify(headers)}`
            assert.strictEqual(answer.status, 405, what)
            assert.strictEqual(answer.headers["allow"], "GET, HEAD, OPTIONS", what)
            const bare = path.split("?")[0]
            assert.deepStrictEqual(JSON.parse(answer.body), {
              _tag: "MethodNotAllowed",
              message: `${method} is not a method of ${bare}: it takes GET, HEAD, OPTIONS`
            }, what)
          }
        }
      }
    }).pipe(Effect.provide(siteServer())))

  it.effect("a browser's wrong method on the site's paths is the site's 405 page, with Allow, CSP and no-cache", () =>
    Effect.gen(function* () {
      yield* seed({ slug: "hello", title: "Hello" })
      const notFound = yield* fetchPage("/no/such/page")
      const themed = /<link rel="stylesheet" href="[^"]*"/.exec(notFound.body)?.[0]
      assert.isDefined(themed)
      for (const path of SITE_PATHS) {
        for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
          const what = `${method} ${path}`
          const answer = yield* send(method, path, BROWSER)
          assert.strictEqual(answer.status, 405, what)
          assert.strictEqual(answer.headers["allow"], "GET, HEAD, OPTIONS", what)
          assert.match(answer.headers["content-type"] ?? "", /^text\/html/, what)
          assert.strictEqual(answer.headers["content-security-policy"], CONTENT_SECURITY_POLICY, what)
          assert.strictEqual(answer.headers["x-content-type-options"], "nosniff", what)
          assert.strictEqual(answer.headers["cache-control"], "no-cache", what)
          assert.include(answer.body, "Method not allowed", what)
          assert.include(answer.body, `${method} is not a method of ${path.split("?")[0]}: it takes GET, HEAD, OPTIONS`, what)
          // The 404 page's look: the same stylesheet, a way back home, kept out of search engines.
          assert.include(answer.body, themed!, what)
          assert.include(answer.body, 'name="robots" content="noindex"', what)
        }
      }
      // A form posted to a post's page, as a browser sends it.
      const form = yield* send("POST", "/p/hello", { ...BROWSER, "content-type": "application/x-www-form-urlencoded" })
      assert.strictEqual(form.status, 405)
      assert.isTrue(form.body.startsWith("<!doctype html>"))
    }).pipe(Effect.provide(siteServer())))

  it.effect("a path nothing serves stays 404 for every method (the site's page in a browser); the API's answers are its own", () =>
    Effect.gen(function* () {
      for (const path of ["/nothing", "/p/a/b", "/tags/rust/other", "/assets/other.css"]) {
        const page = yield* fetchPage(path)
        assert.strictEqual(page.status, 404, path)
        assert.include(page.body, "Page not found", path)
        for (const method of ["OPTIONS", "POST", "DELETE"]) {
          const answer = yield* send(method, path, BROWSER)
          assert.strictEqual(answer.status, 404, `${method} ${path}`)
          assert.strictEqual(JSON.parse(answer.body)._tag, "RouteNotFound", `${method} ${path}`)
          assert.isUndefined(answer.headers["allow"], `${method} ${path}`)
        }
      }
      for (const [path, allow] of [["/posts", "GET, HEAD, POST, OPTIONS"], ["/tags", "GET, HEAD, OPTIONS"]] as const) {
        const options = yield* send("OPTIONS", path)
        assert.strictEqual(options.status, 204, path)
        assert.strictEqual(options.headers["allow"], allow, path)
        const deleted = yield* send("DELETE", path)
        assert.strictEqual(deleted.status, 405, path)
        assert.strictEqual(deleted.headers["allow"], allow, path)
      }
    }).pipe(Effect.provide(siteServer())))
})
