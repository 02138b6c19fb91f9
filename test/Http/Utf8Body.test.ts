/**
 * A post's body must be UTF-8: an invalid byte is 400 BadRequest naming its offset, never a
 * U+FFFD in the stored post. Sent with node:http, as raw bytes (chunked, so a character can be
 * split between chunks, or with Content-Length).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { get, json, KEY, portOf, sendRaw, testServer } from "./harness.js"

const bytes = (...parts: ReadonlyArray<string | ReadonlyArray<number>>) =>
  Buffer.concat(parts.map((part) => (typeof part === "string" ? Buffer.from(part, "utf8") : Buffer.from(part))))

describe("UTF-8 request bodies", () => {
  it.effect("invalid UTF-8 in a JSON or markdown post is 400 BadRequest naming the byte offset; nothing is stored", () =>
    Effect.gen(function* () {
      const port = yield* portOf
      // {"title":"t","body":"caf\xe9"}: Latin-1 é, at byte 24.
      const latin1Json = bytes('{"title":"t","body":"caf', [0xe9], '"}')
      for (const declared of [true, false]) {
        const answer = yield* sendRaw(port, { contentType: "application/json", declared }, [latin1Json])
        assert.strictEqual(answer.status, 400, answer.body)
        const error = JSON.parse(answer.body)
        assert.strictEqual(error._tag, "BadRequest")
        assert.include(error.message, "UTF-8")
        assert.include(error.message, "offset 24")
      }
      const markdown = bytes("---\ntitle: Caf\n---\n", [0xc0, 0xaf], " overlong slash\n")
      const answer = yield* sendRaw(port, { contentType: "text/markdown", declared: true }, [markdown])
      assert.strictEqual(answer.status, 400, answer.body)
      assert.include(JSON.parse(answer.body).message, "offset 19")
      // Truncated at the end: the last character's first byte only.
      const truncated = yield* sendRaw(port, { contentType: "text/markdown" }, [bytes("---\ntitle: T\n---\nend ", [0xe2, 0x82])])
      assert.strictEqual(truncated.status, 400, truncated.body)
      assert.include(JSON.parse(truncated.body).message, "offset 21")
      assert.deepStrictEqual((yield* json(yield* get("/posts", { "x-api-key": KEY }))).items, [])
      // The connection was not left with an unread body: the server still answers.
      assert.strictEqual((yield* get("/health")).status, 200)
    }).pipe(Effect.provide(testServer())))

  it.effect("a character split between chunks is read whole; an update is checked too", () =>
    Effect.gen(function* () {
      const port = yield* portOf
      const json_ = bytes('{"title":"Café 🦀","body":"naïve')
      const euro = Buffer.from("€", "utf8")
      const chunks = [
        Buffer.concat([json_, euro.subarray(0, 1)]),
        euro.subarray(1, 2),
        Buffer.concat([euro.subarray(2), bytes('"}')])
      ]
      const created = yield* sendRaw(port, { contentType: "application/json; charset=utf-8" }, chunks)
      assert.strictEqual(created.status, 201, created.body)
      const post = JSON.parse(created.body)
      assert.strictEqual(post.title, "Café 🦀")
      assert.strictEqual(post.body, "naïve€")

      const update = yield* sendRaw(
        port,
        { method: "PUT", path: `/posts/${encodeURIComponent(post.slug)}`, contentType: "text/markdown", declared: true, headers: { "if-match": "1" } },
        [bytes("---\ntitle: x\n---\n", [0xff])]
      )
      assert.strictEqual(update.status, 400, update.body)
      assert.include(JSON.parse(update.body).message, "offset 17")
    }).pipe(Effect.provide(testServer())))

  it.effect("the body-size limit still answers 413 for a chunked text body", () =>
    Effect.gen(function* () {
      const port = yield* portOf
      const big = bytes(`{"title":"t","body":"${"é".repeat(600)}"}`)
      const answer = yield* sendRaw(port, { contentType: "application/json" }, [big.subarray(0, 700), big.subarray(700)])
      assert.strictEqual(answer.status, 413, answer.body)
      assert.strictEqual(JSON.parse(answer.body)._tag, "PayloadTooLarge")
    }).pipe(Effect.provide(testServer({ maxBodySize: 1000 }))))

  it.effect("one leading byte order mark is ignored in a JSON body, as in a markdown one; a second is still 400", () =>
    Effect.gen(function* () {
      const port = yield* portOf
      const bom = [0xef, 0xbb, 0xbf]
      const created = yield* sendRaw(port, { contentType: "application/json", declared: true }, [bytes(bom, '{"title":"With a BOM","body":"b"}')])
      assert.strictEqual(created.status, 201, created.body)
      const post = JSON.parse(created.body)
      assert.strictEqual(post.title, "With a BOM")
      // Split from the rest (chunked), on an update.
      const updated = yield* sendRaw(
        port,
        { method: "PUT", path: `/posts/${post.slug}`, contentType: "application/json; charset=utf-8" },
        [Buffer.from(bom), bytes('{"title":"Edited","body":"b","version":1}')]
      )
      assert.strictEqual(updated.status, 200, updated.body)
      assert.strictEqual(JSON.parse(updated.body).title, "Edited")
      // import-url reads its JSON the same way: past the BOM, its own 400 about the URL.
      const importUrl = yield* sendRaw(port, { path: "/posts/import-url", contentType: "application/json", declared: true }, [bytes(bom, '{"url":"ftp://x/feed"}')])
      assert.strictEqual(importUrl.status, 400, importUrl.body)
      assert.include(JSON.parse(importUrl.body).message, "ftp://x/feed")
      // A BOM alone is an empty body; two are one too many.
      const empty = yield* sendRaw(port, { contentType: "application/json", declared: true }, [Buffer.from(bom)])
      assert.include(JSON.parse(empty.body).message, "an empty body")
      const twice = yield* sendRaw(port, { contentType: "application/json", declared: true }, [bytes(bom, bom, '{"title":"t","body":"b"}')])
      assert.strictEqual(twice.status, 400, twice.body)
      assert.include(JSON.parse(twice.body).message, "not valid JSON")
    }).pipe(Effect.provide(testServer())))
})
