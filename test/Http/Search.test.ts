/**
 * `GET /posts?q=`: full-text search through the JSON API, on the memory store and on the real
 * SQLite stack (App.PostsLive), with the public rules of the listing (drafts and scheduled posts
 * need a key) and 400s naming the parameter at fault.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { MAX_SEARCH_WORDS } from "../../src/Posts/internal/search.js"
import { MAX_SEARCH_RESULTS } from "../../src/Posts/PostRepository.js"
import { assertSearchWordLimit, get, json, KEY, newPost, postJson, putJson, sqliteTestServer, testServer } from "./harness.js"

const SqliteServer = sqliteTestServer

const slugsOf = (body: { readonly items: ReadonlyArray<{ readonly slug: string }> }) => body.items.map((item) => item.slug)

const seed = Effect.forEach([
  newPost({ slug: "titled", title: "Compilers for fun", body: "Parsers and more.", publishedAt: "2025-01-01T00:00:00Z" }),
  newPost({ slug: "mentioned", title: "A diary", body: "Today I read about compilers.", publishedAt: "2025-01-02T00:00:00Z" }),
  newPost({ slug: "draft", title: "Compilers, unfinished", status: "draft", publishedAt: "2025-01-03T00:00:00Z" }),
  // After FIXTURE_NOW (2026-01-01): scheduled.
  newPost({ slug: "scheduled", title: "Compilers next year", publishedAt: "2027-01-01T00:00:00Z" }),
  newPost({ slug: "other", title: "Gardening", body: "Tomatoes.", publishedAt: "2025-01-04T00:00:00Z" })
], (post) => Effect.flatMap(postJson("/posts", post), (response) => {
  assert.strictEqual(response.status, 201)
  return Effect.void
}), { discard: true })

const suite = (name: string, server: Layer.Layer<any, any>) =>
  describe(`GET /posts?q= (${name})`, () => {
    it.effect("finds published, due posts by relevance; a key sees drafts and scheduled posts too", () =>
      Effect.gen(function* () {
        yield* seed
        const found = yield* get("/posts?q=compilers")
        assert.strictEqual(found.status, 200)
        const body = yield* json(found)
        assert.deepStrictEqual(slugsOf(body), ["titled", "mentioned"])
        assert.strictEqual(body.next, null)
        assert.notProperty(body, "nextOffset")
        assert.notProperty(body.items[0], "body", "summaries, as the listing")
        assert.deepStrictEqual(slugsOf(yield* json(yield* get("/posts?q=Compilers%20PARSERS"))), ["titled"])
        const editor = slugsOf(yield* json(yield* get("/posts?q=compilers", { "x-api-key": KEY })))
        // Three titles (in an order their lengths decide in bm25), then the body's mention.
        assert.sameMembers(editor.slice(0, 3), ["titled", "scheduled", "draft"])
        assert.strictEqual(editor[3], "mentioned")
        assert.deepStrictEqual(slugsOf(yield* json(yield* get("/posts?q=compilers&status=draft", { "x-api-key": KEY }))), ["draft"])
        assert.strictEqual((yield* get("/posts?q=compilers&status=draft")).status, 401, "drafts need a key, as in the listing")
        assert.deepStrictEqual(slugsOf(yield* json(yield* get("/posts?q=compilers&tag=nothing"))), [])
        assert.deepStrictEqual(slugsOf(yield* json(yield* get("/posts?q=compilers&tag=EFFECT"))), ["titled", "mentioned"])
      }).pipe(Effect.provide(server)))

    it.effect("pages by limit and offset: nextOffset until the last page; a cursor with q is 400 naming cursor", () =>
      Effect.gen(function* () {
        yield* seed
        const first = yield* json(yield* get("/posts?q=compilers&limit=1"))
        assert.deepStrictEqual(slugsOf(first), ["titled"])
        assert.strictEqual(first.nextOffset, 1)
        const second = yield* json(yield* get(`/posts?q=compilers&limit=1&offset=${first.nextOffset}`))
        assert.deepStrictEqual(slugsOf(second), ["mentioned"])
        assert.notProperty(second, "nextOffset")
        const cursor = (yield* json(yield* get("/posts?limit=1"))).next
        assert.isString(cursor)
        const withCursor = yield* get(`/posts?q=compilers&cursor=${encodeURIComponent(cursor)}`)
        assert.strictEqual(withCursor.status, 400)
        const error = yield* json(withCursor)
        assert.deepStrictEqual(error.issues[0].path, ["cursor"])
        assert.include(error.message, "offset")
      }).pipe(Effect.provide(server)))

    it.effect("a search pages through its first MAX_SEARCH_RESULTS results: a deeper offset is 400 naming offset and the limit; a listing's offset is not limited", () =>
      Effect.gen(function* () {
        yield* seed
        for (const offset of [MAX_SEARCH_RESULTS, MAX_SEARCH_RESULTS + 1, 99_980]) {
          const deep = yield* get(`/posts?q=compilers&offset=${offset}`)
          assert.strictEqual(deep.status, 400, String(offset))
          const error = yield* json(deep)
          assert.strictEqual(error._tag, "HttpApiDecodeError")
          assert.deepStrictEqual(error.issues[0].path, ["offset"])
          assert.include(error.message, `first ${MAX_SEARCH_RESULTS} results`)
        }
        const last = yield* get(`/posts?q=compilers&offset=${MAX_SEARCH_RESULTS - 1}`)
        assert.strictEqual(last.status, 200)
        assert.deepStrictEqual(slugsOf(yield* json(last)), [])
        assert.strictEqual((yield* get(`/posts?offset=${MAX_SEARCH_RESULTS}`)).status, 200, "a listing walks an index: any offset")
      }).pipe(Effect.provide(server)))

    it.effect("a blank or over-long q is 400 naming q; any other text is words or nothing, never an error", () =>
      Effect.gen(function* () {
        yield* seed
        for (const q of ["", "%20", "%20%20%09", "a".repeat(201)]) {
          const response = yield* get(`/posts?q=${q}`)
          assert.strictEqual(response.status, 400, q)
          const body = yield* json(response)
          assert.strictEqual(body._tag, "HttpApiDecodeError")
          assert.deepStrictEqual(body.issues[0].path, ["q"], q)
        }
        assert.strictEqual((yield* get(`/posts?q=${"a".repeat(200)}`)).status, 200, "200 characters are taken")
        // Characters as the document's maxLength counts them (code points), not UTF-16 units.
        assert.strictEqual((yield* get(`/posts?q=${encodeURIComponent("😀".repeat(200))}`)).status, 200, "200 emoji are taken")
        assert.strictEqual((yield* get(`/posts?q=${encodeURIComponent("😀".repeat(201))}`)).status, 400, "201 emoji are not")
        for (const q of [`"`, `*`, `AND`, `NEAR(`, `-`, `'`, `"compilers`, `compilers*`, `title:compilers`, `(`, `🦀`, `ärger`, `\\`, `%`]) {
          const response = yield* get(`/posts?q=${encodeURIComponent(q)}`)
          assert.strictEqual(response.status, 200, q)
          assert.isArray((yield* json(response)).items, q)
        }
        assert.deepStrictEqual(slugsOf(yield* json(yield* get(`/posts?q=${encodeURIComponent(`"compilers`)}`))), ["titled", "mentioned"])
        assert.deepStrictEqual(slugsOf(yield* json(yield* get(`/posts?q=${encodeURIComponent("*")}`))), [], "no words: nothing")
      }).pipe(Effect.provide(server)))

    it.effect("a q of more than MAX_SEARCH_WORDS different words is 400 naming q and the limit, never searched without the words past it", () =>
      Effect.gen(function* () {
        yield* seed
        yield* assertSearchWordLimit(MAX_SEARCH_WORDS)
        const repeated = yield* get(`/posts?q=${encodeURIComponent(`${Array(MAX_SEARCH_WORDS + 8).fill("a").join(" ")} compilers`)}`)
        assert.deepStrictEqual(slugsOf(yield* json(repeated)), ["mentioned"], "a word repeated counts once")
      }).pipe(Effect.provide(server)))

    it.effect("results follow writes: an updated post is found by its new words only", () =>
      Effect.gen(function* () {
        yield* seed
        const { version } = yield* json(yield* get("/posts/other"))
        const updated = yield* putJson("/posts/other", newPost({ title: "Gardening", body: "Cucumbers.", version }))
        assert.strictEqual(updated.status, 200)
        assert.deepStrictEqual(slugsOf(yield* json(yield* get("/posts?q=tomatoes"))), [])
        assert.deepStrictEqual(slugsOf(yield* json(yield* get("/posts?q=cucumbers"))), ["other"])
      }).pipe(Effect.provide(server)))
  })

describe("GET /posts?q= in the OpenAPI document", () => {
  it.effect("documents q and the answer's nextOffset", () =>
    Effect.gen(function* () {
      const spec = yield* json(yield* get("/openapi.json"))
      const q = spec.paths["/posts"].get.parameters.find((p: { name: string }) => p.name === "q")
      assert.isDefined(q)
      assert.isFalse(q.required)
      assert.include(q.schema.description, "200 characters")
      assert.property(spec.components.schemas.PostPage.properties, "nextOffset")
      assert.notInclude(spec.components.schemas.PostPage.required, "nextOffset")
    }).pipe(Effect.provide(testServer())))
})

suite("memory", testServer())
suite("sqlite", SqliteServer)
