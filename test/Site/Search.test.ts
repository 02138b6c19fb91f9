/**
 * The reader site's search page (`/search?q=`) and the header's search form, through the real
 * request pipeline, on the in-memory store, on SQLite and on PostgreSQL.
 */
import { isListEtag } from "../../src/Http/IfNoneMatch.js"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { MAX_SEARCH_WORDS } from "../../src/Posts/internal/search.js"
import { MAX_SEARCH_RESULTS, PostRepository } from "../../src/Posts/PostRepository.js"
import { makeNewPost } from "../fixtures/posts.js"
import { CONTENT_SECURITY_POLICY } from "../../src/Site/Routes.js"
import type { SiteConfigShape } from "../../src/Site/SiteConfig.js"
import { sqliteStack } from "../Import/harness.js"
import { describePg, freshSchema } from "../fixtures/pg.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { fetchPage, fetchRaw, seed, siteServer } from "./harness.js"

/** A store of its own, which offers no search (`search` is optional). */
const withoutSearch = Layer.effect(PostRepository, Effect.map(MemoryPostRepository.make, ({ search: _, ...rest }) => rest))

const posts = [
  { slug: "titled", title: "Compilers for fun", body: "Parsers and more.", excerpt: "All about parsers.", publishedAt: "2025-01-01T00:00:00Z" },
  { slug: "mentioned", title: "A diary", body: "Today I read about compilers.", excerpt: "A day.", publishedAt: "2025-01-02T00:00:00Z" },
  { slug: "hidden", title: "Compilers, unfinished", status: "draft" as const, publishedAt: "2025-01-03T00:00:00Z" },
  // After FIXTURE_NOW (2026-01-01): scheduled.
  { slug: "later", title: "Compilers next year", publishedAt: "2027-01-01T00:00:00Z" },
  { slug: "other", title: "Gardening", body: "Tomatoes.", publishedAt: "2025-01-04T00:00:00Z" }
]

/** The post links of a results page, in order. */
const results = (html: string) => Array.from(html.matchAll(/<li class="post-card"><article><h2><a href="\/p\/([^"]+)"/g), (m) => m[1]!)

const sqliteServer = (config: Partial<SiteConfigShape> = {}) =>
  siteServer(config, Layer.effect(PostRepository, PostRepository).pipe(Layer.provide(sqliteStack("sqlite::memory:")), Layer.orDie))

/** The site on PostgreSQL: a fresh schema per server, dropped with it. */
const pgServer = (config: Partial<SiteConfigShape> = {}) =>
  siteServer(
    config,
    Layer.unwrapScoped(Effect.map(freshSchema, ({ url }) => Layer.effect(PostRepository, PostRepository).pipe(Layer.provide(sqliteStack(url))))).pipe(Layer.orDie)
  )

const suite = (name: string, server: typeof sqliteServer) =>
  describe(`the search page (${name})`, () => {
    it.effect("lists the public posts matching the words, most relevant first, each with its title, excerpt and link", () =>
      Effect.gen(function* () {
        yield* seed(...posts)
        const page = yield* fetchPage("/search?q=compilers")
        assert.strictEqual(page.status, 200)
        assert.strictEqual(page.headers["content-type"], "text/html; charset=utf-8")
        assert.deepStrictEqual(results(page.body), ["titled", "mentioned"], "no draft, no scheduled post")
        assert.include(page.body, "Results for “compilers”")
        assert.include(page.body, "All about parsers.")
        assert.include(page.body, `<meta name="robots" content="noindex"/>`)
        assert.include(page.body, `value="compilers"`, "the header's box shows the query")
        assert.deepStrictEqual(results((yield* fetchPage("/search?q=COMPILERS+parsers")).body), ["titled"])
      }).pipe(Effect.provide(server())))

    it.effect("no match, no words, nothing typed and too long each say so; the query is escaped", () =>
      Effect.gen(function* () {
        yield* seed(...posts)
        const none = yield* fetchPage(`/search?q=${encodeURIComponent(`<script>alert("x")</script> & "quoted"`)}`)
        assert.strictEqual(none.status, 200)
        assert.deepStrictEqual(results(none.body), [])
        assert.include(none.body, "No posts match “&lt;script>alert(&quot;x&quot;)&lt;/script> &amp; &quot;quoted&quot;”.")
        assert.notInclude(none.body, "<script")
        const symbols = yield* fetchPage(`/search?q=${encodeURIComponent(`"*" NEAR( -`)}`)
        assert.strictEqual(symbols.status, 200)
        assert.include(symbols.body, "No posts match")
        for (const path of ["/search", "/search?q=", "/search?q=%20%20"]) {
          const empty = yield* fetchPage(path)
          assert.strictEqual(empty.status, 200, path)
          assert.include(empty.body, "Type a few words to search the posts.", path)
          assert.deepStrictEqual(results(empty.body), [], path)
        }
        const long = yield* fetchPage(`/search?q=${"a".repeat(201)}`)
        assert.strictEqual(long.status, 200)
        assert.include(long.body, "Search for at most 200 characters.")
        // Counted as the API counts them (code points): 200 emoji are a search, 201 are not.
        const emoji = yield* fetchPage(`/search?q=${encodeURIComponent("😀".repeat(200))}`)
        assert.notInclude(emoji.body, "Search for at most")
        assert.include((yield* fetchPage(`/search?q=${encodeURIComponent("😀".repeat(201))}`)).body, "Search for at most 200 characters.")
        // In NFC, as its words are read: 200 "é" typed with combining accents (400 code points) are a search.
        const decomposed = yield* fetchPage(`/search?q=${encodeURIComponent("\u00e9".repeat(200).normalize("NFD"))}`)
        assert.notInclude(decomposed.body, "Search for at most")
      }).pipe(Effect.provide(server())))

    it.effect("a query of more than MAX_SEARCH_WORDS different words says so, as the API refuses it, rather than searching the first ones", () =>
      Effect.gen(function* () {
        yield* seed(...posts)
        const words = Array.from({ length: MAX_SEARCH_WORDS }, (_, i) => `w${i}`)
        const many = yield* fetchPage(`/search?q=${encodeURIComponent(["compilers", ...words].join(" "))}`)
        assert.strictEqual(many.status, 200)
        assert.include(many.body, `Search for at most ${MAX_SEARCH_WORDS} different words.`)
        assert.deepStrictEqual(results(many.body), [])
        assert.strictEqual((yield* fetchPage(`/search?q=${encodeURIComponent(["compilers", ...words].join(" "))}&page=2`)).status, 404, "one page")
        const enough = yield* fetchPage(`/search?q=${encodeURIComponent(`${Array(40).fill("compilers").slice(0, 15).join(" ")}`)}`)
        assert.notInclude(enough.body, "different words", "a word repeated counts once")
        assert.deepStrictEqual(results(enough.body), ["titled", "mentioned"])
      }).pipe(Effect.provide(server())))

    it.effect("a q that does not percent-decode (%FF, a cut UTF-8 sequence) is a 400 page saying the search could not be read, in the site's language", () =>
      Effect.gen(function* () {
        yield* seed(...posts, { slug: "ff", title: "FF", body: "The ff ligature.", publishedAt: "2025-01-05T00:00:00Z" })
        for (const q of ["%FF", "%E2%82", "comp%ZZ", "%C3%28"]) {
          const page = yield* fetchPage(`/search?q=${q}`)
          assert.strictEqual(page.status, 400, q)
          assert.strictEqual(page.headers["content-type"], "text/html; charset=utf-8", q)
          assert.include(page.body, "The search could not be read", q)
          assert.include(page.body, "Bad request", q)
          assert.deepStrictEqual(results(page.body), [], q)
        }
        assert.strictEqual((yield* fetchPage("/search?q=%FF&page=2")).status, 400)
        // The first q is the one searched; one that decodes is searched as ever.
        assert.deepStrictEqual(results((yield* fetchPage("/search?q=compilers&q=%FF")).body), ["titled", "mentioned"])
        assert.deepStrictEqual(results((yield* fetchPage("/search?q=%66%66")).body), ["ff"])
        const german = yield* fetchPage("/search?q=%FF").pipe(Effect.provide(server({ language: "de" })))
        assert.strictEqual(german.status, 400)
        assert.include(german.body, "Die Suche konnte nicht gelesen werden")
        assert.include(german.body, `<html lang="de"`)
      }).pipe(Effect.provide(server())))

    it.effect("pages through the results with links that keep the query; past the last page is 404", () =>
      Effect.gen(function* () {
        yield* seed(...Array.from({ length: 3 }, (_, i) => ({ slug: `owl-${i}`, title: `Owls ${i}`, publishedAt: `2025-02-0${i + 1}T00:00:00Z` })))
        const first = yield* fetchPage("/search?q=owls")
        assert.deepStrictEqual(results(first.body), ["owl-2", "owl-1"])
        // A list's ETag: its compressed forms are not kept apart from it, as any new `q` is a new page.
        assert.isTrue(isListEtag(first.headers["etag"]!), first.headers["etag"])
        assert.isFalse(isListEtag((yield* fetchPage("/")).headers["etag"]!))
        assert.include(first.body, `href="/search?q=owls&amp;page=2" rel="next"`)
        const second = yield* fetchPage("/search?q=owls&page=2")
        assert.deepStrictEqual(results(second.body), ["owl-0"])
        assert.include(second.body, `href="/search?q=owls" rel="prev"`)
        assert.notInclude(second.body, `rel="next"`)
        assert.strictEqual((yield* fetchPage("/search?q=owls&page=3")).status, 404)
        assert.strictEqual((yield* fetchPage("/search?q=owls&page=x")).status, 404)
      }).pipe(Effect.provide(server({ pageSize: 2 }))))

    it.effect("a search that ran nothing (nothing typed, no words, too long) has one page: a later one is 404 (was: 200 with a pager back)", () =>
      Effect.gen(function* () {
        yield* seed(...posts)
        for (const query of ["", "q=&", "q=!!!&", `q=${"a".repeat(201)}&`]) {
          const first = yield* fetchPage(`/search?${query}page=1`)
          assert.strictEqual(first.status, 200, query)
          assert.notInclude(first.body, `rel="prev"`, query)
          for (const page of [2, 5]) {
            const later = yield* fetchPage(`/search?${query}page=${page}`)
            assert.strictEqual(later.status, 404, `${query}page=${page}`)
            assert.include(later.body, `There is no page ${page} of results.`, query)
            assert.notInclude(later.body, "Better matches", query)
          }
        }
      }).pipe(Effect.provide(server())))
  })

describe("the search page's depth", () => {
  it.effect("shows the first MAX_SEARCH_RESULTS results only: the page reaching them has no next link, a deeper one is 404 naming the limit", () =>
    Effect.gen(function* () {
      const repository = yield* PostRepository
      const at = (i: number) => new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString()
      yield* repository.upsertMany(Array.from({ length: MAX_SEARCH_RESULTS + 5 }, (_, i) =>
        makeNewPost({ slug: `moth-${i}`, title: "Moths", body: "Night.", publishedAt: at(i) })))
      const pages = MAX_SEARCH_RESULTS / 100
      const before = yield* fetchPage(`/search?q=moths&page=${pages - 1}`)
      assert.include(before.body, `rel="next"`)
      const last = yield* fetchPage(`/search?q=moths&page=${pages}`)
      assert.strictEqual(last.status, 200)
      assert.strictEqual(results(last.body).length, 100)
      assert.notInclude(last.body, `rel="next"`, "five more match, past the limit")
      const deeper = yield* fetchPage(`/search?q=moths&page=${pages + 1}`)
      assert.strictEqual(deeper.status, 404)
      assert.include(deeper.body, `first ${MAX_SEARCH_RESULTS.toLocaleString("en")} results`)
    }).pipe(Effect.provide(siteServer({ pageSize: 100 }))))
})

suite("memory", (config) => siteServer(config))
suite("sqlite", sqliteServer)
describePg("the search page on PostgreSQL", () => suite("postgresql", pgServer))

describe("the search form", () => {
  it.effect("every page's header has a GET form to /search, which the CSP's form-action now allows", () =>
    Effect.gen(function* () {
      yield* seed(posts[0]!)
      for (const path of ["/", "/p/titled", "/tags/test", "/missing", "/search?q=x"]) {
        const page = yield* fetchPage(path)
        assert.include(page.body, `<form class="search-form" role="search" action="/search" method="get"><input type="search" name="q"`, path)
        assert.strictEqual(page.headers["content-security-policy"], CONTENT_SECURITY_POLICY, path)
      }
      assert.include(CONTENT_SECURITY_POLICY, "form-action 'self'")
      assert.notInclude(CONTENT_SECURITY_POLICY, "form-action 'none'")
    }).pipe(Effect.provide(siteServer())))

  it.effect("behind a path prefix (SITE_URL https://example.com/blog) the form, results and pager links carry it", () =>
    Effect.gen(function* () {
      yield* seed(...Array.from({ length: 3 }, (_, i) => ({ slug: `owl-${i}`, title: `Owls ${i}`, publishedAt: `2025-02-0${i + 1}T00:00:00Z` })))
      const page = yield* fetchPage("/search?q=owls")
      assert.include(page.body, `action="/blog/search"`)
      assert.deepStrictEqual(results(page.body.replaceAll(`href="/blog/p/`, `href="/p/`)), ["owl-2", "owl-1"])
      assert.include(page.body, `href="/blog/search?q=owls&amp;page=2" rel="next"`)
      const second = yield* fetchPage("/search?q=owls&page=2")
      assert.deepStrictEqual(results(second.body.replaceAll(`href="/blog/p/`, `href="/p/`)), ["owl-0"])
      assert.include(second.body, `href="/blog/search?q=owls" rel="prev"`)
      assert.notInclude(second.body, `rel="next"`)
      assert.strictEqual((yield* fetchPage("/search?q=owls&page=3")).status, 404)
      assert.strictEqual((yield* fetchPage("/search?q=owls&page=0")).status, 404)
    }).pipe(Effect.provide(siteServer({ url: "https://example.com/blog", pageSize: 2 }))))

  it.effect("a repository without search: the page says so, the form stays; the JSON API answers 500", () =>
    Effect.gen(function* () {
      yield* seed(posts[0]!)
      const page = yield* fetchPage("/search?q=compilers")
      assert.strictEqual(page.status, 200)
      assert.include(page.body, "Search is not available on this blog.")
      assert.include(page.body, `action="/search"`)
      assert.strictEqual((yield* fetchRaw("/posts?q=compilers")).status, 500)
      assert.strictEqual((yield* fetchRaw("/posts")).status, 200, "the listing is unaffected")
      // Its one page, as any search that ran nothing.
      assert.strictEqual((yield* fetchPage("/search?q=compilers&page=2")).status, 404)
    }).pipe(Effect.provide(siteServer({}, withoutSearch))))
})
