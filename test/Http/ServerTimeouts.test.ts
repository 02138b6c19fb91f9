/**
 * Time limits of `Server.layer`'s Node server against slow clients. Node's own `requestTimeout`
 * (300 s by default) cut any request whose body took longer to arrive, a bulk import's too: a bare
 * 408 after posts were committed. The server does not use it: REQUEST_TIMEOUT bounds the body of
 * every other request (and what arrives after a bulk import has answered) and a bulk import's
 * silence, IMPORT_TIMEOUT an import. Real time throughout: these are Node timers, on real connections.
 */
import { connect } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Deferred, Effect, Exit, Layer, Logger } from "effect"
import { ImportFeedsLive, postsWith } from "../../src/App.js"
import { ApiKeys } from "../../src/Http/ApiKeys.js"
import * as Server from "../../src/Http/Server.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { KEY } from "./harness.js"

/** `Server.layer` on a free port with REQUEST_TIMEOUT `requestTimeout`; its port. */
const startServer = (requestTimeout: string) =>
  Effect.gen(function* () {
    const listening = yield* Deferred.make<number>()
    const logger = Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ message }) => {
        const port = /listening on http:\/\/[^:]+:(\d+)/.exec(String(message))
        if (port !== null) Deferred.unsafeDone(listening, Exit.succeed(Number(port[1])))
      })
    )
    yield* Layer.build(
      Server.layer.pipe(
        Layer.provide(postsWith(MemoryPostRepository.layer)),
        Layer.provide(ImportFeedsLive),
        Layer.provide(MemoryPostRepository.layer),
        Layer.provide(ApiKeys.layer([KEY])),
        Layer.provide(logger),
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["PORT", "0"], ["REQUEST_TIMEOUT", requestTimeout]]))))
      )
    )
    return yield* Deferred.await(listening)
  })

/** How a slow upload went: what the server sent, and how many pieces of the body went out before the connection closed. */
interface Upload {
  readonly received: string
  readonly sent: number
}

const PIECES = 100

/**
 * Sends `head` (a request line and headers announcing a chunked body), then a one-byte chunk
 * every 50 ms, PIECES in all (5 s), until the server closes the connection; then the body's end.
 * A connection the server keeps open past that is closed here, half a second later.
 */
const slowUpload = (port: number, head: string) =>
  Effect.async<Upload>((resume) => {
    const socket = connect(port, "127.0.0.1")
    let received = ""
    let sent = 0
    socket.on("data", (data) => (received += data.toString("latin1")))
    socket.on("error", () => {})
    const ticking = setInterval(() => {
      if (socket.destroyed) return
      if (sent < PIECES) {
        socket.write("1\r\na\r\n")
        sent++
        return
      }
      clearInterval(ticking)
      socket.write("0\r\n\r\n")
      setTimeout(() => socket.destroy(), 500)
    }, 50)
    socket.on("close", () => {
      clearInterval(ticking)
      resume(Effect.succeed({ received, sent }))
    })
    socket.write(head)
  })

const request = (method: string, path: string, headers: Record<string, string> = {}) =>
  `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n${
    Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("")
  }\r\n`

/**
 * Sends `head`, then each of `pieces` (a chunk of a chunked body) `every` ms apart, then nothing
 * (`end`: false) or the body's end; what the server sent until it closed the connection, or until
 * `giveUpMs` (the client then leaves).
 */
const scriptedUpload = (port: number, head: string, pieces: ReadonlyArray<string>, options: { readonly every: number; readonly end: boolean; readonly giveUpMs: number }) =>
  Effect.async<string>((resume) => {
    const socket = connect(port, "127.0.0.1")
    let received = ""
    socket.on("data", (data) => (received += data.toString("utf8")))
    socket.on("error", () => {})
    const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`
    let next = 0
    const ticking = setInterval(() => {
      if (socket.destroyed) return
      if (next < pieces.length) {
        socket.write(chunk(pieces[next++]!))
        return
      }
      clearInterval(ticking)
      if (options.end) socket.write("0\r\n\r\n")
    }, options.every)
    const giveUp = setTimeout(() => socket.destroy(), options.giveUpMs)
    socket.on("close", () => {
      clearInterval(ticking)
      clearTimeout(giveUp)
      resume(Effect.succeed(received))
    })
    socket.write(head)
  })

/** The JSON body of a raw HTTP/1.1 response with a chunked or Content-Length body. */
const jsonOf = (raw: string): { readonly imported: number; readonly failed: number; readonly failures: ReadonlyArray<{ source: string; reason: string }> } => {
  const [head, ...rest] = raw.split("\r\n\r\n")
  const body = rest.join("\r\n\r\n")
  const text = /transfer-encoding: chunked/i.test(head!)
    ? body.split("\r\n").filter((_, i) => i % 2 === 1).join("")
    : body
  return JSON.parse(text)
}

const line = (n: number) => `${JSON.stringify({ title: `Post ${n}`, body: `Text ${n}.` })}\n`

describe("Server.layer against slow clients", () => {
  it("its Node server never cuts a request by time itself (requestTimeout 0: a bulk import runs past 5 minutes); headers are still bounded", () => {
    const server = Server.createNodeServer()
    assert.strictEqual(server.requestTimeout, 0)
    // Node's default: a client that never finishes its headers is still cut (408) after a minute.
    assert.strictEqual(server.headersTimeout, 60_000)
  })

  it.live("REQUEST_TIMEOUT bounds a slow body: the handler is answered 503 and the connection closed while the client still sends", () =>
    Effect.gen(function* () {
      const port = yield* startServer("300 millis")
      const upload = yield* slowUpload(port, request("PUT", "/posts/slow", { "x-api-key": KEY, "content-type": "application/json" }))
      assert.match(upload.received, /^HTTP\/1\.1 503 /)
      assert.match(upload.received, /connection: close/i)
      assert.isBelow(upload.sent, PIECES, "closed before the client had sent its whole body")
    }).pipe(Effect.scoped), { timeout: 20_000 })

  it.live("a request answered before its body (401, a bulk import without a key, a read) does not keep a slow body's connection past REQUEST_TIMEOUT", () =>
    Effect.gen(function* () {
      const port = yield* startServer("300 millis")
      // Read once, `/posts` is answered from the response cache, before any middleware (FrontDoor).
      const warm = yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/posts`))
      assert.strictEqual(warm.status, 200)
      for (const [method, path, status] of [["PUT", "/posts/slow", 401], ["POST", "/posts/import", 401], ["GET", "/health", 200], ["GET", "/posts", 200]] as const) {
        const upload = yield* slowUpload(port, request(method, path))
        assert.match(upload.received, new RegExp(`^HTTP/1\\.1 ${status} `), `${method} ${path}`)
        assert.isBelow(upload.sent, PIECES, `${method} ${path}: closed before the client had sent its whole body`)
      }
    }).pipe(Effect.scoped), { timeout: 40_000 })

  it.live("a bulk import's body that goes silent for REQUEST_TIMEOUT ends the import there: what was read is imported, the stall is a failure (was: held forever)", () =>
    Effect.gen(function* () {
      const port = yield* startServer("300 millis")
      const head = request("POST", "/posts/import", { "x-api-key": KEY, "content-type": "application/x-ndjson" })
      // One line, then nothing: the client neither sends more nor leaves (until 3 s, past which it gives up).
      const received = yield* scriptedUpload(port, head, [line(1)], { every: 20, end: false, giveUpMs: 3_000 })
      assert.match(received, /^HTTP\/1\.1 200 /)
      const summary = jsonOf(received)
      assert.strictEqual(summary.imported, 1)
      assert.deepStrictEqual(summary.failures, [{ source: "request", reason: "the upload stalled: no data for 300ms" }])
    }).pipe(Effect.scoped), { timeout: 20_000 })

  it.live("a slow bulk upload that keeps sending is not cut, however long it takes past REQUEST_TIMEOUT", () =>
    Effect.gen(function* () {
      const port = yield* startServer("300 millis")
      const head = request("POST", "/posts/import", { "x-api-key": KEY, "content-type": "application/x-ndjson", connection: "close" })
      // A line every 100 ms, 800 ms in all: past REQUEST_TIMEOUT, never silent for it.
      const lines = Array.from({ length: 8 }, (_, i) => line(i + 1))
      const received = yield* scriptedUpload(port, head, lines, { every: 100, end: true, giveUpMs: 5_000 })
      assert.match(received, /^HTTP\/1\.1 200 /)
      const summary = jsonOf(received)
      assert.strictEqual(summary.imported, 8)
      assert.deepStrictEqual(summary.failures, [])
    }).pipe(Effect.scoped), { timeout: 20_000 })

  it.live("POST /posts/import-url runs past REQUEST_TIMEOUT, but its body (a few fields) must arrive within it", () =>
    Effect.gen(function* () {
      const port = yield* startServer("300 millis")
      const upload = yield* slowUpload(port, request("POST", "/posts/import-url", { "x-api-key": KEY, "content-type": "application/json" }))
      // Answered as any request whose body is late: a 503 (it was a closed connection, no answer).
      assert.match(upload.received, /^HTTP\/1\.1 503 /)
      assert.match(upload.received, /connection: close/i)
      assert.isBelow(upload.sent, PIECES, "closed before the client had sent its whole body")
    }).pipe(Effect.scoped), { timeout: 20_000 })
})
