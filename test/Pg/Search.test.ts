/**
 * `GET /posts?q=` over HTTP on PostgreSQL: the real stack (App.PostsLive, migrations, pool,
 * announcing repository) on a fresh schema per test, posts written through the API. The same
 * rules as on SQLite and the memory store (test/Http/Search.test.ts): relevance order, drafts
 * and scheduled posts only with a key, any text words or nothing (never a 500), 400 for a blank q.
 */
import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import { MAX_SEARCH_WORDS } from "../../src/Posts/internal/search.js"
import { describePg } from "../fixtures/pg.js"
import { assertSearchWordLimit, get, json, KEY, newPost, postJson } from "../Http/harness.js"
import { pgTestServer } from "./harness.js"

const slugsOf = (body: { readonly items: ReadonlyArray<{ readonly slug: string }> }) => body.items.map((item) => item.slug)

const search = (q: string, headers: Record<string, string> = {}) =>
  Effect.flatMap(get(`/posts?q=${encodeURIComponent(q)}`, headers), (response) => {
    assert.strictEqual(response.status, 200, q)
    return Effect.map(json(response), slugsOf)
  })

const seed = Effect.forEach([
  newPost({ slug: "in-title", title: "Compilers for fun", body: "Parsers and more.", tags: ["Craft"], publishedAt: "2025-01-01T00:00:00Z" }),
  newPost({ slug: "in-tag", title: "Weekend notes", body: "Nothing much.", tags: ["Compilers"], publishedAt: "2025-01-02T00:00:00Z" }),
  newPost({ slug: "in-body", title: "A diary", body: "Today I read about compilers.", tags: ["Life"], publishedAt: "2025-01-03T00:00:00Z" }),
  newPost({ slug: "draft", title: "Compilers, unfinished", status: "draft", publishedAt: "2025-01-04T00:00:00Z" }),
  // After FIXTURE_NOW (2026-01-01): scheduled.
  newPost({ slug: "scheduled", title: "Compilers next year", publishedAt: "2027-01-01T00:00:00Z" }),
  newPost({
    slug: "release",
    title: "Announcing Rust 1.88",
    body: "Mail me@example.com, see example.com/changelog or /usr/bin; pi is 3.14 and node.js runs x-1.",
    tags: ["Rust"],
    publishedAt: "2025-01-05T00:00:00Z"
  }),
  newPost({ slug: "umlaut", title: "Ärger im Büro", body: "Gardening helps.", tags: ["Deutsch"], publishedAt: "2025-01-06T00:00:00Z" })
], (post) => Effect.flatMap(postJson("/posts", post), (response) => {
  assert.strictEqual(response.status, 201, post.title)
  return Effect.void
}), { discard: true })

describePg("GET /posts?q= on PostgreSQL", () => {
  it.effect("finds posts by title, tag and body words, title first, then tag, then body", () =>
    Effect.gen(function*() {
      yield* seed
      assert.deepStrictEqual(yield* search("compilers"), ["in-title", "in-tag", "in-body"])
      assert.deepStrictEqual(yield* search("COMPILERS Parsers"), ["in-title"], "every word, any case")
      assert.deepStrictEqual(yield* search("craft"), ["in-title"], "a tag's word")
      assert.deepStrictEqual(yield* search("diary"), ["in-body"])
      assert.deepStrictEqual(yield* search("ärger"), ["umlaut"], "case folded beyond ASCII")
      assert.deepStrictEqual(yield* search("boats"), [])
      assert.deepStrictEqual(yield* search("compilers&tag=life"), [], "q is one parameter: & is text here")
      const filtered = yield* json(yield* get("/posts?q=compilers&tag=LIFE"))
      assert.deepStrictEqual(slugsOf(filtered), ["in-body"])
      const first = yield* json(yield* get("/posts?q=compilers&limit=2"))
      assert.deepStrictEqual(slugsOf(first), ["in-title", "in-tag"])
      assert.strictEqual(first.nextOffset, 2)
      assert.deepStrictEqual(slugsOf(yield* json(yield* get("/posts?q=compilers&limit=2&offset=2"))), ["in-body"])
    }).pipe(Effect.provide(pgTestServer)), 30_000)

  it.effect("drafts and scheduled posts are hidden without a key and found with one", () =>
    Effect.gen(function*() {
      yield* seed
      const editor = yield* search("compilers", { "x-api-key": KEY })
      assert.sameMembers(editor.slice(0, 3), ["in-title", "draft", "scheduled"], "the titles first")
      assert.deepStrictEqual(editor.slice(3), ["in-tag", "in-body"])
      assert.deepStrictEqual(slugsOf(yield* json(yield* get("/posts?q=unfinished", { "x-api-key": KEY }))), ["draft"])
      assert.deepStrictEqual(yield* search("unfinished"), [])
      assert.deepStrictEqual(yield* search("next year"), [])
      assert.strictEqual((yield* get("/posts?q=compilers&status=draft")).status, 401)
    }).pipe(Effect.provide(pgTestServer)), 30_000)

  it.effect("words inside versions, numbers, addresses and paths are found, as on SQLite", () =>
    Effect.gen(function*() {
      yield* seed
      for (const q of ["rust 1.88", "1.88", "88", "me@example.com", "example com", "changelog", "/usr/bin", "usr", "3.14", "node.js", "js", "x-1"]) {
        assert.deepStrictEqual(yield* search(q), ["release"], q)
      }
    }).pipe(Effect.provide(pgTestServer)), 30_000)

  it.effect("the last word also finds longer words beginning with it, the word itself first; a prefix-like last word is no syntax", () =>
    Effect.gen(function*() {
      yield* seed
      assert.deepStrictEqual(yield* search("compil"), ["in-title", "in-tag", "in-body"], "by relevance, as the whole word")
      assert.deepStrictEqual(yield* search("ru"), ["release"])
      assert.deepStrictEqual(yield* search("rust 1.8"), [], "\"8\", one digit, is whole")
      assert.deepStrictEqual(yield* search("rust 1.88 announ"), ["release"])
      assert.deepStrictEqual(yield* search("announ 1.88 rust"), [], "\"announ\" is not last: whole")
      assert.deepStrictEqual(yield* search("ärg"), ["umlaut"], "beyond ASCII")
      for (const q of [`compil*`, `compil:*`, `'compil'`, `compil'`, `compil\\`, `"compil"*`, `compil:*A`, `compil | x`]) {
        const found = yield* search(q)
        assert.deepStrictEqual(found, q === `compil:*A` || q === `compil | x` ? [] : ["in-title", "in-tag", "in-body"], q)
      }
    }).pipe(Effect.provide(pgTestServer)), 30_000)

  it.effect("any other text is words or nothing, never an error; a blank q is 400 naming q", () =>
    Effect.gen(function*() {
      yield* seed
      for (const q of [`"`, `*`, `NEAR(`, `title:`, `(`, `'`, `\\`, `%`, `!`, `&`, `|`, `:*`, `<->`, `🦀`]) {
        assert.deepStrictEqual(yield* search(q), [], q)
      }
      // Words like any other: "and" is in two posts, "or" in one, "not" in none.
      assert.sameMembers(yield* search("AND"), ["in-title", "release"])
      assert.deepStrictEqual(yield* search("OR"), ["release"])
      assert.deepStrictEqual(yield* search("NOT"), ["in-tag"], "the last word: it begins \"notes\"")
      assert.deepStrictEqual(yield* search("NOT weekend"), [], "not last: whole, and no post has it")
      assert.deepStrictEqual(yield* search("-x"), ["release"], "not a negation: the word x (of x-1)")
      for (const q of [`"compilers`, `compilers*`, `-compilers`, `(compilers)`, `compilers:*`, `!compilers`, `compilers & | ! <->`]) {
        assert.deepStrictEqual(yield* search(q), ["in-title", "in-tag", "in-body"], q)
      }
      // Not a column filter: "title" is a word like any other, and no post has both.
      assert.deepStrictEqual(yield* search("title:compilers"), [])
      assert.deepStrictEqual(yield* search("title:"), [])
      for (const q of ["", "%20", "%20%20%09"]) {
        const response = yield* get(`/posts?q=${q}`)
        assert.strictEqual(response.status, 400, q)
        const body = yield* json(response)
        assert.deepStrictEqual(body.issues[0].path, ["q"], q)
      }
    }).pipe(Effect.provide(pgTestServer)), 30_000)

  it.effect("a q of more than MAX_SEARCH_WORDS different words is 400 naming q and the limit; Chinese (a run of three characters side by side only), capitals of newer scripts and ² are found as on SQLite", () =>
    Effect.gen(function*() {
      yield* seed
      yield* assertSearchWordLimit(MAX_SEARCH_WORDS)
      for (const post of [
        newPost({ slug: "co2", title: "CO₂ budget", body: "我们今天学习Rust编程语言。", publishedAt: "2025-02-01T00:00:00Z" }),
        newPost({ slug: "cherokee", title: "ᏣᎳᎩ", body: "Tsalagi.", publishedAt: "2025-02-02T00:00:00Z" }),
        newPost({ slug: "apart", title: "旅行記", body: "東京から京都へ。", publishedAt: "2025-02-03T00:00:00Z" }),
        newPost({ slug: "together", title: "公園", body: "東京都の公園。", publishedAt: "2025-02-04T00:00:00Z" })
      ]) assert.strictEqual((yield* postJson("/posts", post)).status, 201)
      assert.deepStrictEqual(yield* search("CO₂"), ["co2"], "not every post with a word beginning with \"co\"")
      assert.deepStrictEqual(yield* search("编程"), ["co2"])
      assert.deepStrictEqual(yield* search("東京都"), ["together"], "side by side, not 東京 and 京都 apart")
      assert.sameMembers(yield* search("京都"), ["apart", "together"])
      assert.deepStrictEqual(yield* search("ꮳꮃꭹ"), ["cherokee"])
    }).pipe(Effect.provide(pgTestServer)), 30_000)
})
