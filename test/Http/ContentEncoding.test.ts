/**
 * A request body in a content coding (`Content-Encoding: gzip`) is 415 naming it, with
 * `Accept-Encoding: identity` (RFC 9110 §12.5.3), on every endpoint that reads a body, and after
 * the key check; nothing is written. Read as sent, a gzip body was a 400 about UTF-8, and a plain
 * body labelled `br` was taken.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { gzipSync } from "node:zlib"
import { get, json, KEY, MARKDOWN, portOf, sendRaw, testServer } from "./harness.js"

const POST = JSON.stringify({ title: "Coded", body: "Some text.", status: "published" })

describe("Content-Encoding of a request body", () => {
  it.effect("gzip, br or any other coding is 415 naming it, with Accept-Encoding: identity, on every body-reading write", () =>
    Effect.gen(function* () {
      const port = yield* portOf
      const gzipped = gzipSync(Buffer.from(POST))
      const cases = [
        { contentType: "application/json", coding: "gzip", body: gzipped },
        // A plain body labelled as coded is not taken either: the label is what a server must honour.
        { contentType: "application/json", coding: "br", body: Buffer.from(POST) },
        { contentType: "text/markdown", coding: "GZIP", body: gzipSync(Buffer.from(MARKDOWN)) },
        { contentType: "text/markdown", coding: "identity, deflate", body: Buffer.from(MARKDOWN), method: "PUT", path: "/posts/coded" },
        { contentType: "application/x-ndjson", coding: "gzip", body: gzipSync(Buffer.from(POST + "\n")), path: "/posts/import" },
        { contentType: "application/json", coding: "zstd", body: Buffer.from(JSON.stringify({ url: "https://x.test/feed" })), path: "/posts/import-url" }
      ]
      for (const { body, coding, ...options } of cases) {
        for (const declared of [true, false]) {
          const answer = yield* sendRaw(port, { ...options, declared, headers: { "content-encoding": coding } }, [body])
          const what = `${options.path ?? "/posts"} ${coding} ${declared ? "declared" : "chunked"}`
          assert.strictEqual(answer.status, 415, `${what}: ${answer.body}`)
          assert.strictEqual(answer.headers["accept-encoding"], "identity", what)
          const error = JSON.parse(answer.body)
          assert.strictEqual(error._tag, "UnsupportedMediaType", what)
          assert.include(error.message, `Content-Encoding ${coding.toLowerCase().replace("identity, ", "")} is not accepted`, what)
        }
      }
      assert.deepStrictEqual((yield* json(yield* get("/posts", { "x-api-key": KEY }))).items, [])
      assert.strictEqual((yield* get("/health")).status, 200)
    }).pipe(Effect.provide(testServer())))

  it.effect("credentials first: without a key it is 401; identity is a body as it is", () =>
    Effect.gen(function* () {
      const port = yield* portOf
      const anonymous = yield* sendRaw(
        port,
        { contentType: "application/json", declared: true, headers: { "content-encoding": "gzip", "x-api-key": "" } },
        [gzipSync(Buffer.from(POST))]
      )
      assert.strictEqual(anonymous.status, 401, anonymous.body)
      const identity = yield* sendRaw(port, { contentType: "application/json", declared: true, headers: { "content-encoding": "identity" } }, [
        Buffer.from(POST)
      ])
      assert.strictEqual(identity.status, 201, identity.body)
      assert.strictEqual(JSON.parse(identity.body).title, "Coded")
    }).pipe(Effect.provide(testServer())))
})
