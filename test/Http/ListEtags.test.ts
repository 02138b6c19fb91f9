/**
 * The API's lists (`GET /posts`, a search's pages, `GET /tags`) carry an ETag, a hash of their
 * JSON, and answer 304 to an If-None-Match that names it, so a poller is not sent the same page
 * again; without a response cache, on the memory store and on SQLite (whose pages are encoded by
 * the database).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, type Layer } from "effect"
import { get, json, KEY, newPost, postJson, putJson, sqliteTestServer, testServer } from "./harness.js"

const seed = Effect.forEach(
  [
    newPost({ title: "Kites", tags: ["sky"], publishedAt: "2025-01-01T00:00:00Z" }),
    newPost({ title: "Boats", tags: ["sea", "sky"], publishedAt: "2025-01-02T00:00:00Z" })
  ],
  (post) => Effect.flatMap(postJson("/posts", post), (response) => Effect.sync(() => assert.strictEqual(response.status, 201))),
  { discard: true }
)

const LIST_ETAG = /^"l-[0-9a-f]{16}"$/

const suite = (name: string, server: Layer.Layer<any, any>) =>
  describe(`list ETags (${name})`, () => {
    it.effect("a list, a search's page and the tag counts carry an ETag; sent back it is 304 with no body, until a write changes the answer", () =>
      Effect.gen(function* () {
        yield* seed
        for (const url of ["/posts?limit=100", "/posts?tag=sky", "/posts?q=kites", "/tags"]) {
          const first = yield* get(url)
          assert.strictEqual(first.status, 200, url)
          const etag = first.headers["etag"]!
          assert.match(etag, LIST_ETAG, url)
          const body = yield* first.text
          const again = yield* get(url)
          assert.strictEqual(again.headers["etag"], etag, `${url}: the same answer, the same ETag`)
          assert.strictEqual(yield* again.text, body)
          const notModified = yield* get(url, { "if-none-match": etag })
          assert.strictEqual(notModified.status, 304, url)
          assert.strictEqual(notModified.headers["etag"], etag, url)
          assert.strictEqual(yield* notModified.text, "", url)
          assert.strictEqual((yield* get(url, { "if-none-match": `"l-0000000000000000", ${etag}` })).status, 304, `${url}: one of a list`)
          assert.strictEqual((yield* get(url, { "if-none-match": "\"l-0000000000000000\"" })).status, 200, url)
        }
        const before = yield* Effect.forEach(["/posts?limit=100", "/posts?q=kites", "/tags"], (url) =>
          Effect.map(get(url), (response) => [url, response.headers["etag"]!] as const))
        const kites = yield* json(yield* get("/posts/kites"))
        const updated = yield* putJson("/posts/kites", newPost({ title: "Kites", body: "Higher.", tags: ["sky", "wind"], version: kites.version }))
        assert.strictEqual(updated.status, 200)
        for (const [url, etag] of before) {
          const after = yield* get(url, { "if-none-match": etag })
          assert.strictEqual(after.status, 200, `${url}: changed by the write`)
          assert.notStrictEqual(after.headers["etag"], etag, url)
        }
      }).pipe(Effect.provide(server)))

    it.effect("a key's answer has its own ETag (drafts listed), and revalidates the same way", () =>
      Effect.gen(function* () {
        yield* seed
        yield* postJson("/posts", newPost({ title: "Draft kites", status: "draft", tags: ["sky"] }))
        const editor = yield* get("/posts?tag=sky", { "x-api-key": KEY })
        const reader = yield* get("/posts?tag=sky")
        assert.match(editor.headers["etag"]!, LIST_ETAG)
        assert.notStrictEqual(editor.headers["etag"], reader.headers["etag"], "another answer, another ETag")
        const notModified = yield* get("/posts?tag=sky", { "x-api-key": KEY, "if-none-match": editor.headers["etag"]! })
        assert.strictEqual(notModified.status, 304)
        assert.strictEqual(notModified.headers["cache-control"], "private")
      }).pipe(Effect.provide(server)))
  })

suite("memory", testServer())
suite("sqlite", sqliteTestServer)

describe("list ETags in the OpenAPI document", () => {
  it.effect("GET /posts and GET /tags document the ETag, If-None-Match and 304", () =>
    Effect.gen(function* () {
      const spec = yield* json(yield* get("/openapi.json"))
      for (const path of ["/posts", "/tags"]) {
        const operation = spec.paths[path].get
        assert.property(operation.responses["200"].headers, "ETag", path)
        assert.property(operation.responses, "304", path)
        assert.isTrue(operation.parameters.some((p: { name: string; in: string }) => p.name === "If-None-Match" && p.in === "header"), path)
      }
    }).pipe(Effect.provide(testServer())))
})
