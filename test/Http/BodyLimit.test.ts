/**
 * MAX_BODY_SIZE for uploads that do not declare their length (Transfer-Encoding: chunked): the
 * client gets a 413 with the typed body, not a connection reset. Sent with node:http, which
 * streams a body written without Content-Length as chunks.
 */
import { HttpServer } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { request as httpRequest } from "node:http"
import { get, json, KEY, newPost, testServer } from "./harness.js"

interface Answer {
  readonly status: number
  readonly body: string
}

/** POSTs `chunks` one by one (chunked encoding), reads the whole answer. */
const postChunked = (port: number, path: string, chunks: ReadonlyArray<string>) =>
  Effect.async<Answer, Error>((resume) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path,
        headers: { "content-type": "application/json", "x-api-key": KEY },
        agent: false
      },
      (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => (body += chunk))
        res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, body })))
        res.on("error", (error) => resume(Effect.fail(error)))
      }
    )
    // The server may answer before the last chunk is sent; writes after that are its business.
    req.on("error", (error) => resume(Effect.fail(error)))
    const send = (i: number): void => {
      if (i === chunks.length) {
        req.end()
        return
      }
      if (req.write(chunks[i]!)) setImmediate(() => send(i + 1))
      else req.once("drain", () => send(i + 1))
    }
    send(0)
    return Effect.sync(() => req.destroy())
  })

const portOf = Effect.map(HttpServer.HttpServer, (server) =>
  server.address._tag === "TcpAddress" ? server.address.port : 0
)

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
