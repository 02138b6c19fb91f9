/**
 * End to end on the real stack: SQLite (in memory) → migrations → DatabasePool →
 * SqlPostRepository → PostProcessor → Posts → HTTP, composed by src/App.ts.
 */
import { HttpClientRequest } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, TestClock } from "effect"
import { ImportFeedsLive, PostsLive, RepositoryLive } from "../../src/App.js"
import { ApiKeys } from "../../src/Http/ApiKeys.js"
import { requestMiddleware } from "../../src/Http/Middleware.js"
import * as Server from "../../src/Http/Server.js"
import { getEncodedOf, listEncodedOf } from "../../src/Posts/internal/encodedReads.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { del, get, json, KEY, MARKDOWN, newPost, postJson, postMarkdown, putJson, send, sqliteTestServer, withKey } from "./harness.js"
import { movedPostAnswers } from "./movedPosts.js"

const SqliteServer = sqliteTestServer

describe("HTTP on SQLite", () => {
  it.effect("create, read, list, update, delete, tags, ready", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* json(yield* get("/posts")), { items: [], next: null })
      assert.strictEqual((yield* get("/ready")).status, 200)

      const created = yield* postJson("/posts", newPost({ tags: ["effect", "sql"] }))
      assert.strictEqual(created.status, 201)
      assert.strictEqual(created.headers["location"], "/posts/first-post")
      const fromMarkdown = yield* postMarkdown("/posts", MARKDOWN)
      assert.strictEqual(fromMarkdown.status, 201)
      assert.strictEqual((yield* postJson("/posts", newPost())).status, 409)

      const read = yield* get("/posts/first-post")
      assert.strictEqual(read.status, 200)
      const post = yield* json(read)
      assert.include(post.html, "<strong>world</strong>")
      assert.strictEqual((yield* get("/posts/first-post", { "if-none-match": read.headers["etag"]! })).status, 304)

      const list = yield* json(yield* get("/posts?limit=1"))
      assert.strictEqual(list.items.length, 1)
      assert.isString(list.next)
      const rest = yield* json(yield* get(`/posts?limit=1&cursor=${encodeURIComponent(list.next)}`))
      assert.strictEqual(rest.items.length, 1)
      assert.notStrictEqual(rest.items[0].slug, list.items[0].slug)
      const garbage = yield* get("/posts?cursor=garbage")
      assert.strictEqual(garbage.status, 400)
      assert.deepStrictEqual((yield* json(garbage)).issues[0].path, ["cursor"])

      const updated = yield* putJson("/posts/first-post", newPost({ body: "Rewritten.", version: 1 }))
      assert.strictEqual(updated.status, 200)
      assert.strictEqual((yield* json(updated)).version, 2)
      assert.strictEqual((yield* putJson("/posts/first-post", newPost({ version: 1 }))).status, 409)

      assert.deepInclude((yield* json(yield* get("/tags"))).tags, { tag: "effect", count: 2 })

      assert.strictEqual((yield* del("/posts/first-post", { "x-api-key": KEY, "if-match": updated.headers["etag"]! })).status, 204)
      assert.strictEqual((yield* get("/posts/first-post")).status, 404)
    }).pipe(Effect.provide(SqliteServer))
  )

  it.effect("a renamed post's old slug: 301 to it (GET, HEAD, query kept) when the caller may read it there, else 404; writes there 404", () =>
    movedPostAnswers.pipe(Effect.provide(SqliteServer)))
})

/** Markdown sent with `PUT` (with the key and `headers`). */
const putMarkdown = (url: string, markdown: string, headers: Record<string, string>) =>
  send(
    HttpClientRequest.put(url).pipe(
      HttpClientRequest.bodyText(markdown, "text/markdown"),
      HttpClientRequest.setHeaders({ "x-api-key": KEY, ...headers })
    )
  )

describe("HTTP on SQLite, an `updated` date still to come (a mistyped year)", () => {
  it.effect("is a 400 naming the date and `updatedAt`, or the front matter key as written and its line (POST, PUT, markdown), nothing written; up to a day ahead, or a scheduled post's at its publication, is taken", () =>
    Effect.gen(function* () {
      // The server runs at FIXTURE_NOW, 2026-01-01T00:00:00Z.
      const refused = (
        response: { readonly status: number },
        body: { source: string; field: string; reason: string },
        field = "updatedAt",
        source = "api"
      ) => {
        assert.strictEqual(response.status, 400)
        assert.deepStrictEqual([body.source, body.field], [source, field])
        assert.include(body.reason, "2031-05-05T00:00:00.000Z is in the future: after the time of this write, 2026-01-01T00:00:00.000Z")
      }
      const created = yield* postJson("/posts", newPost({ publishedAt: "2021-05-01", updatedAt: "2031-05-05" }))
      refused(created, yield* json(created))
      // Named as the author wrote it (was: `updatedAt`, a key their file does not have, and no line).
      const markdown = yield* postMarkdown("/posts", "---\ntitle: First post\ndate: 2021-05-01\nupdated: 2031-05-05\n---\nText.\n")
      refused(markdown, yield* json(markdown), "updated", "api:4")
      const lastmod = yield* postMarkdown("/posts", "---\ntitle: First post\nlastmod: 2031-05-05\n---\nText.\n")
      refused(lastmod, yield* json(lastmod), "lastmod", "api:3")
      const inBody = yield* postJson("/posts", newPost({ publishedAt: "2021-05-01", body: "+++\nmodified = 2031-05-05\n+++\nText." }))
      refused(inBody, yield* json(inBody), "modified", "api:2")
      const createdAt = yield* putMarkdown("/posts/first-post", "---\ntitle: First post\nlastMod: 2031-05-05\n---\nText.\n", { "if-none-match": "*" })
      refused(createdAt, yield* json(createdAt), "lastMod", "api:3")
      assert.strictEqual((yield* get("/posts/first-post")).status, 404, "nothing stored")

      assert.strictEqual((yield* postJson("/posts", newPost({ publishedAt: "2021-05-01", updatedAt: "2021-05-05" }))).status, 201)
      const put = yield* putJson("/posts/first-post", newPost({ version: 1, publishedAt: "2021-05-01", updatedAt: "2031-05-05" }))
      refused(put, yield* json(put))
      const putInMarkdown = yield* putMarkdown("/posts/first-post", "---\ntitle: First post\nupdated_at: 2031-05-05\n---\nText.\n", { "if-match": "1" })
      refused(putInMarkdown, yield* json(putInMarkdown), "updated_at", "api:3")
      // The post's own JSON (GET's answer) sent back with its date mistyped.
      const own = yield* json(yield* get("/posts/first-post"))
      const putOwn = yield* putJson("/posts/first-post", { ...own, updatedAtSource: "2031-05-05T00:00:00Z" })
      refused(putOwn, yield* json(putOwn))
      const stored = yield* json(yield* get("/posts/first-post"))
      assert.deepStrictEqual([stored.version, stored.updatedAtSource], [1, "2021-05-05T00:00:00.000Z"])

      // Tomorrow's date is today east of UTC.
      const skewed = yield* postJson("/posts", newPost({ title: "Skewed", updatedAt: "2026-01-02" }))
      assert.strictEqual(skewed.status, 201)
      const scheduled = yield* postJson("/posts", newPost({ title: "Later", publishedAt: "2027-01-01", updatedAt: "2027-01-01" }))
      assert.strictEqual(scheduled.status, 201)

      // Written once its day has come, the same date is an update like any other.
      yield* TestClock.setTime(Date.parse("2031-05-05T00:00:00Z"))
      assert.strictEqual((yield* putJson("/posts/first-post", newPost({ version: 1, publishedAt: "2021-05-01", updatedAt: "2031-05-05" }))).status, 200)
    }).pipe(Effect.provide(SqliteServer)))
})

/** As App.AppLive composes it: the repository `Posts` uses is in the server's context too. */
const SqliteServerWithRepository = Server.serve(
  requestMiddleware({ requestTimeout: "30 seconds", maxBodySize: 1024 * 1024, retryAfterSeconds: 1 })
).pipe(
  Layer.provide(PostsLive),
  Layer.provideMerge(RepositoryLive),
  Layer.provide(ApiKeys.layer([KEY])),
  Layer.provide(ImportFeedsLive),
  Layer.provideMerge(NodeHttpServer.layerTest),
  Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_URL", "sqlite::memory:"]]))))
)

describe("HTTP on SQLite, GET /posts/:slug and GET /posts answered from the encoded reads", () => {
  it.effect("the same bytes and ETag as the write's answer, 304, and drafts only with a key", () =>
    Effect.gen(function* () {
      // App's repository (announcing, over SQL on SQLite) passes the encoded read on.
      assert.isDefined(getEncodedOf(yield* PostRepository))

      const created = yield* postJson("/posts", newPost({ title: "Quote \" and ünïcode", tags: ["effect"] }))
      assert.strictEqual(created.status, 201)
      const read = yield* get("/posts/quote-and-unicode")
      assert.strictEqual(read.status, 200)
      assert.strictEqual(read.headers["content-type"], "application/json")
      assert.strictEqual(read.headers["etag"], created.headers["etag"])
      assert.strictEqual(yield* read.text, yield* created.text)
      assert.strictEqual((yield* get("/posts/quote-and-unicode", { "if-none-match": read.headers["etag"]! })).status, 304)

      assert.strictEqual((yield* postJson("/posts", newPost({ title: "Hidden", status: "draft" }))).status, 201)
      assert.strictEqual((yield* get("/posts/hidden")).status, 404)
      const asEditor = yield* get("/posts/hidden", { "x-api-key": KEY })
      assert.strictEqual(asEditor.status, 200)
      assert.strictEqual((yield* json(asEditor)).status, "draft")
      assert.strictEqual((yield* get("/posts/hidden", { "x-api-key": "wrong-key" })).status, 401)
      assert.strictEqual((yield* get("/posts/nothing-here")).status, 404)

      // GET /posts from the encoded list: summaries in the schema's key order, drafts only with a key.
      assert.isDefined(listEncodedOf(yield* PostRepository))
      const listed = yield* get("/posts")
      assert.strictEqual(listed.headers["content-type"], "application/json")
      const page = yield* json(listed)
      assert.deepStrictEqual(page.items.map((item: { slug: string }) => item.slug), ["quote-and-unicode"])
      assert.deepStrictEqual(Object.keys(page.items[0]), [
        "slug", "title", "excerpt", "summary", "tags", "authors", "status", "publishedAt", "createdAt", "updatedAt",
        "readingTimeMinutes", "wordCount", "version"
      ])
      assert.strictEqual(page.items[0].title, "Quote \" and ünïcode")
      assert.isNull(page.next)
      const drafts = yield* json(yield* get("/posts?status=draft", { "x-api-key": KEY }))
      assert.deepStrictEqual(drafts.items.map((item: { slug: string }) => item.slug), ["hidden"])
      assert.strictEqual((yield* get("/posts?status=draft")).status, 401)
    }).pipe(Effect.provide(SqliteServerWithRepository))
  )
})

describe("HTTP on SQLite, a metadata key named __proto__", () => {
  /** The wire's text, so the key is in the JSON whatever the client library would do with it. */
  const postText = (text: string, contentType: string) =>
    send(HttpClientRequest.post("/posts").pipe(HttpClientRequest.bodyText(text, contentType), withKey()))
  const metadataOf = (text: string) => JSON.stringify((JSON.parse(text) as { readonly metadata?: unknown }).metadata)

  it.effect("is stored and answered as an ordinary key (JSON and markdown bodies), and pollutes nothing", () =>
    Effect.gen(function* () {
      const fromJson = yield* postText(
        '{"title":"From JSON","body":"Text.","status":"published","metadata":{"__proto__":{"polluted":true},"n":{"__proto__":[1]}}}',
        "application/json"
      )
      assert.strictEqual(fromJson.status, 201, yield* fromJson.text)
      const jsonMetadata = '{"__proto__":{"polluted":true},"n":{"__proto__":[1]}}'
      assert.strictEqual(metadataOf(yield* fromJson.text), jsonMetadata, "the write's answer")

      const fromMarkdown = yield* postText("---\ntitle: From Markdown\n__proto__:\n  polluted: true\n---\nText.\n", "text/markdown")
      assert.strictEqual(fromMarkdown.status, 201, yield* fromMarkdown.text)
      const markdownMetadata = '{"__proto__":{"polluted":true}}'

      for (const [slug, expected] of [["from-json", jsonMetadata], ["from-markdown", markdownMetadata]] as const) {
        assert.strictEqual(metadataOf(yield* (yield* get(`/posts/${slug}`)).text), expected, `GET /posts/${slug}`)
        const stored = yield* (yield* PostRepository).getBySlug(slug)
        assert.deepStrictEqual(Object.keys(stored.metadata), expected === jsonMetadata ? ["__proto__", "n"] : ["__proto__"])
        assert.strictEqual(Object.getPrototypeOf(stored.metadata), Object.prototype)
      }
      assert.isUndefined(({} as Record<string, unknown>)["polluted"], "Object.prototype was polluted")
    }).pipe(Effect.provide(SqliteServerWithRepository))
  )
})
