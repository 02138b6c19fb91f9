/**
 * MAX_BODY_SIZE for uploads that do not declare their length (Transfer-Encoding: chunked): the
 * client gets a 413 with the typed body, not a connection reset. Sent with node:http, which
 * streams a body written without Content-Length as chunks.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { get, json, newPost, portOf, sendRaw, testServer } from "./harness.js"

/** POSTs `chunks` one by one (chunked encoding), reads the whole answer. */
const postChunked = (port: number, path: string, chunks: ReadonlyArray<string>) =>
  sendRaw(port, { path, contentType: "application/json" }, chunks.map((chunk) => Buffer.from(chunk)))

/** `text` as chunks of `size` characters. */
const chunksOf = (text: string, size: number) => {
  const chunks: Array<string> = []
  for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size))
  return chunks
}

describe("body limit for chunked uploads", () => {
  it.effect("413 with the typed error over MAX_BODY_SIZE; under it the post is created", () =>
    Effect.gen(function* () {
      const port = yield* portOf
      // 64 KiB against a 1 KiB limit, in 512-byte chunks: the client is still sending when refused.
      const big = JSON.stringify(newPost({ body: "x".repeat(64 * 1024) }))
      const refused = yield* postChunked(port, "/posts", chunksOf(big, 512))
      assert.strictEqual(refused.status, 413)
      assert.deepStrictEqual(JSON.parse(refused.body), {
        _tag: "PayloadTooLarge",
        message: "the request body is larger than the limit of 1024 bytes",
        limit: 1024
      })
      assert.strictEqual((yield* json(yield* get("/posts"))).items.length, 0)

      const small = JSON.stringify(newPost())
      assert.isBelow(small.length, 1024)
      const created = yield* postChunked(port, "/posts", chunksOf(small, 64))
      assert.strictEqual(created.status, 201, created.body)
      assert.strictEqual(JSON.parse(created.body).slug, "first-post")
      assert.strictEqual((yield* json(yield* get("/posts"))).items.length, 1)
    }).pipe(Effect.provide(testServer({ maxBodySize: 1024 })))
  )

  it.effect("a chunked upload far over the limit: never accepted, and the server keeps answering", () =>
    Effect.gen(function* () {
      const port = yield* portOf
      // 1 MiB against a 1 KiB limit: more than the server discards after answering.
      const huge = JSON.stringify(newPost({ body: "y".repeat(1024 * 1024) }))
      const exit = yield* Effect.exit(postChunked(port, "/posts", chunksOf(huge, 16 * 1024)))
      // Either the answer arrived before the server closed the connection, or the client saw the
      // close while writing; never a 2xx, and the server keeps answering.
      if (exit._tag === "Success") assert.strictEqual(exit.value.status, 413)
      assert.strictEqual((yield* get("/health")).status, 200)
    }).pipe(Effect.provide(testServer({ maxBodySize: 1024 })))
  )
})
