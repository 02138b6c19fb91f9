/**
 * FeedClient against a real HTTP server on 127.0.0.1 (node:http, port 0), through Node's real
 * HTTP client: retries, backoff and timeouts are observed on the TestClock, everything on the
 * wire is real.
 */
import { assert, describe, it } from "@effect/vitest"
import type { ServerResponse } from "node:http"
import * as Zlib from "node:zlib"
import { vi } from "vitest"
import { NodeHttpClient } from "@effect/platform-node"
import { Deferred, Duration, Effect, Exit, Fiber, Layer, Queue, TestClock } from "effect"
import { CONCAT_STEP_BYTES, concatInSteps, FeedClient } from "../../src/Clients/FeedClient.js"
import { type FeedClientInput, FeedClientOptions } from "../../src/Clients/FeedClientOptions.js"
import type { FeedError } from "../../src/Clients/FeedErrors.js"
import { awaitBackoff, awaitSleeping, type Handler, nextSleepIn, testServer } from "./server.js"

const client = (options: FeedClientOptions | FeedClientInput) =>
  FeedClient.layer(options).pipe(Layer.provide(NodeHttpClient.layer))

const get = (url: string) => Effect.flatMap(FeedClient, (c) => c.get(url))

const failure = <A>(exit: Exit.Exit<A, FeedError>): FeedError => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  if (error === undefined) throw new Error(`expected a typed failure, got ${String(exit.cause)}`)
  return error
}

/** What `get(url)` through a client of `options` failed with. */
const getFails = (url: string, options: FeedClientOptions | FeedClientInput) =>
  get(url).pipe(Effect.provide(client(options)), Effect.exit, Effect.map(failure))

/** A server handler that answers every request alike. */
const answers = (status: number, headers: Record<string, string> = {}, body?: string): Handler => (_req, res) => {
  res.writeHead(status, headers)
  res.end(body)
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

describe("FeedClient (real server)", () => {
  it.scoped("fetches a body in one attempt, with the user agent", () =>
    Effect.gen(function*() {
      const server = yield* testServer(answers(200, { "content-type": "application/feed+json; charset=utf-8" }, "{\"ok\":true}"))
      const resource = yield* get(`${server.url}/feed.json`).pipe(Effect.provide(client(FeedClientOptions.make().userAgent("inkwell-test/1"))))
      assert.strictEqual(text(resource.bytes), "{\"ok\":true}")
      assert.strictEqual(resource.contentType, "application/feed+json")
      assert.strictEqual(resource.attempts, 1)
      assert.strictEqual(resource.finalUrl, `${server.url}/feed.json`)
      const seen = yield* Queue.take(server.requests)
      assert.strictEqual(seen.headers["user-agent"], "inkwell-test/1")
    }))

  it.scoped("sends no trace headers: a remote source is someone else's host, not part of our trace", () =>
    Effect.gen(function*() {
      const server = yield* testServer(answers(200, { "content-type": "application/rss+xml" }, "<rss/>"))
      // Inside a span, as every import runs: that is when the client would propagate it.
      yield* get(`${server.url}/feed.xml`).pipe(Effect.withSpan("import"), Effect.provide(client({})))
      const seen = yield* Queue.take(server.requests)
      assert.strictEqual(seen.path, "/feed.xml")
      for (const header of ["traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-sampled"]) {
        assert.notProperty(seen.headers, header, `${header}: ${String(seen.headers[header])}`)
      }
    }))

  it.scoped("decodes a gzip, deflate or br body, asked for or not", () =>
    Effect.gen(function*() {
      const rss = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Café</title></channel></rss>"
      const encoded: Record<string, Uint8Array> = {
        gzip: Zlib.gzipSync(rss),
        "x-gzip": Zlib.gzipSync(rss),
        deflate: Zlib.deflateSync(rss),
        br: Zlib.brotliCompressSync(rss),
        "gzip, br": Zlib.brotliCompressSync(Zlib.gzipSync(rss))
      }
      const server = yield* testServer((req, res) => {
        const coding = decodeURIComponent(req.url!.slice(1))
        res.writeHead(200, { "content-type": "application/rss+xml", "content-encoding": coding })
        res.end(encoded[coding])
      })
      for (const coding of Object.keys(encoded)) {
        const resource = yield* get(`${server.url}/${encodeURIComponent(coding)}`).pipe(Effect.provide(client({})))
        assert.strictEqual(text(resource.bytes), rss, coding)
      }
      const seen = yield* Queue.take(server.requests)
      assert.strictEqual(seen.headers["accept-encoding"], "gzip, deflate, br")
    }))

  it.scoped("a deflate body is read zlib-wrapped or raw, as browsers read it, whatever its chunks (raw was refused as undecodable)", () =>
    Effect.gen(function*() {
      const rss = `<?xml version="1.0"?><rss version="2.0"><channel><title>Café</title>${"<item><title>x</title></item>".repeat(5000)}</channel></rss>`
      const bodies: Record<string, Uint8Array> = {
        "/zlib": Zlib.deflateSync(rss),
        "/raw": Zlib.deflateRawSync(rss),
        "/raw-bomb": Zlib.deflateRawSync(Buffer.alloc(8 * 1024 * 1024)),
        "/broken": Buffer.from("<rss>not deflate at all</rss>")
      }
      const server = yield* testServer((req, res) => {
        const body = bodies[req.url!]!
        res.writeHead(200, { "content-type": "application/rss+xml", "content-encoding": "deflate" })
        // One byte first: the header that tells the two apart comes in two chunks.
        res.write(body.subarray(0, 1))
        setTimeout(() => res.end(body.subarray(1)), 5)
      })
      for (const path of ["/zlib", "/raw"]) {
        const resource = yield* get(`${server.url}${path}`).pipe(Effect.provide(client({})))
        assert.strictEqual(text(resource.bytes), rss, path)
      }
      const bomb = yield* getFails(`${server.url}/raw-bomb`, { maxBytes: 1024 * 1024 })
      assert.strictEqual(bomb._tag, "ResponseTooLarge")
      const broken = yield* getFails(`${server.url}/broken`, {})
      assert.strictEqual(broken._tag, "DecodeError")
      assert.match(broken.message, /^http:\/\/127\.0\.0\.1:\d+\/broken: the deflate-encoded body \(Content-Encoding\) cannot be decoded: /)
    }))

  it.scoped("the size limit counts decoded bytes: a small gzip body that inflates past it is cut off", () =>
    Effect.gen(function*() {
      const bomb = Zlib.gzipSync(Buffer.alloc(8 * 1024 * 1024))
      const server = yield* testServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/rss+xml", "content-encoding": "gzip", "content-length": bomb.length })
        res.end(bomb)
      })
      assert.isBelow(bomb.length, 64 * 1024)
      const error = yield* getFails(server.url, { maxBytes: 1024 * 1024 })
      assert.strictEqual(error._tag, "ResponseTooLarge")
      if (error._tag === "ResponseTooLarge") assert.isAbove(error.receivedBytes, 1024 * 1024)
    }))

  it.scoped("an encoding that cannot be decoded, or a body that is not what its encoding says, is a DecodeError naming it", () =>
    Effect.gen(function*() {
      const server = yield* testServer((req, res) => {
        const coding = req.url === "/zstd" ? "zstd" : "gzip"
        res.writeHead(200, { "content-type": "application/rss+xml", "content-encoding": coding })
        res.end(req.url === "/zstd" ? Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0xff]) : "<rss>not gzip at all</rss>")
      })
      const zstd = yield* getFails(`${server.url}/zstd`, {})
      assert.strictEqual(zstd._tag, "DecodeError")
      assert.strictEqual(
        zstd.message,
        `${server.url}/zstd: the body is "zstd"-encoded (Content-Encoding), which cannot be decoded here (only gzip, deflate, br)`
      )
      const bad = yield* getFails(`${server.url}/bad`, { retries: 2 })
      assert.strictEqual(bad._tag, "DecodeError")
      assert.match(bad.message, /^http:\/\/127\.0\.0\.1:\d+\/bad: the gzip-encoded body \(Content-Encoding\) cannot be decoded: [\x20-\x7e]+$/)
      assert.strictEqual(server.count(), 2, "not retried: the same bytes would come again")
    }))

  it.scoped("503, 503, 200 succeeds on the third attempt after exponential backoff", () =>
    Effect.gen(function*() {
      const server = yield* testServer((_req, res, seen) => {
        if (seen.n < 3) {
          res.writeHead(503)
          res.end("busy")
        } else {
          res.writeHead(200)
          res.end("finally")
        }
      })
      const options = FeedClientOptions.make().retries(3).backoff("1 second", "30 seconds")
      const fiber = yield* get(server.url).pipe(Effect.provide(client(options)), Effect.fork)

      yield* Queue.take(server.requests)
      const first = yield* awaitBackoff((ms) => ms < 5000)
      // 1 s base, jittered ×0.8–1.2
      assert.isTrue(first >= 800 && first <= 1200, `first backoff ${first} ms`)
      yield* TestClock.adjust(first - 1)
      assert.strictEqual(server.count(), 1, "no retry before the backoff has passed")
      yield* TestClock.adjust(1)

      yield* Queue.take(server.requests)
      const second = yield* awaitBackoff((ms) => ms < 5000)
      assert.isTrue(second >= 1600 && second <= 2400, `second backoff ${second} ms (doubled)`)
      yield* TestClock.adjust(second)

      yield* Queue.take(server.requests)
      const resource = yield* Fiber.join(fiber)
      assert.strictEqual(text(resource.bytes), "finally")
      assert.strictEqual(resource.attempts, 3)
      assert.strictEqual(server.count(), 3)
    }))

  it.scoped("waits a 429's Retry-After; one without it after the backoff; one asking longer than the backoff cap fails at once, saying what was asked (was: cut to the cap and asked again)", () =>
    Effect.gen(function*() {
      const server = yield* testServer((_req, res, seen) => {
        res.writeHead(429, seen.n === 1 ? { "retry-after": "7" } : seen.n === 2 ? {} : { "retry-after": "3600" })
        res.end()
      })
      const fiber = yield* get(server.url).pipe(
        Effect.provide(client({ retries: 5, backoffBase: "100 millis", backoffCap: "20 seconds", timeout: "1 minute", deadline: "10 minutes" })),
        Effect.fork
      )
      yield* Queue.take(server.requests)
      assert.strictEqual(yield* awaitBackoff((ms) => ms <= 20_000), 7000)
      yield* TestClock.adjust("7 seconds")
      yield* Queue.take(server.requests)
      // No Retry-After: the second backoff step (100 ms doubled, jittered by ±20%).
      const backoff = yield* awaitBackoff((ms) => ms <= 20_000)
      assert.isTrue(backoff >= 160 && backoff <= 240, `${backoff}`)
      yield* TestClock.adjust(Duration.millis(backoff))
      yield* Queue.take(server.requests)
      const error = failure(yield* Fiber.await(fiber))
      assert.strictEqual(error._tag, "HttpStatusError")
      assert.strictEqual(
        error.message,
        `${server.url}/: HTTP 429 (after 3 attempt(s)): the server asked to wait 3600 s before another attempt (Retry-After), more than the 20 s the client waits at most (FEED_BACKOFF_CAP): not retried`
      )
      assert.strictEqual(server.count(), 3)
    }))

  it.scoped("a Retry-After past the deadline fails at once (was: waited for until the deadline cut it)", () =>
    Effect.gen(function*() {
      const server = yield* testServer(answers(503, { "retry-after": "30" }))
      const error = yield* getFails(server.url, { retries: 5, backoffCap: "1 minute", timeout: "5 seconds", deadline: "20 seconds" })
      assert.strictEqual(error._tag, "HttpStatusError")
      assert.match(error.message, /: HTTP 503 \(after 1 attempt\(s\)\): the server asked to wait 30 s before another attempt \(Retry-After\), past the deadline \((19\.\d|20) s left of FEED_DEADLINE\): not retried$/)
      assert.strictEqual(server.count(), 1)
    }))

  it.scoped("a Retry-After past what the source has left names FEED_SOURCE_DEADLINE", () =>
    Effect.gen(function*() {
      const server = yield* testServer(answers(503, { "retry-after": "30" }))
      const error = failure(yield* Effect.flatMap(FeedClient, (c) => c.get(server.url, { timeLeft: Duration.seconds(20) })).pipe(
        Effect.provide(client({ retries: 5, backoffCap: "1 minute", timeout: "5 seconds", deadline: "2 minutes" })),
        Effect.exit
      ))
      assert.match(error.message, /: the server asked to wait 30 s before another attempt \(Retry-After\), past the deadline \((19\.\d|20) s left of FEED_SOURCE_DEADLINE\): not retried$/)
    }))

  it.scoped("a Retry-After just past what the deadline leaves never reads as the same number of seconds (was: \"wait 1 s ... (1 s left of FEED_DEADLINE)\")", () =>
    Effect.gen(function*() {
      const held: Array<ServerResponse> = []
      const server = yield* testServer((_req, res) => {
        held.push(res)
      })
      const fiber = yield* get(server.url).pipe(
        Effect.provide(client({ retries: 5, backoffCap: "1 minute", timeout: "5 seconds", deadline: "1 second" })),
        Effect.fork
      )
      yield* Queue.take(server.requests)
      yield* awaitSleeping
      // 50 ms pass before the answer: 950 of the deadline's 1000 left, and 1000 asked.
      yield* TestClock.adjust("50 millis")
      held[0]!.writeHead(503, { "retry-after": "1" })
      held[0]!.end()
      const error = failure(yield* Fiber.await(fiber))
      assert.strictEqual(
        error.message,
        `${server.url}/: HTTP 503 (after 1 attempt(s)): the server asked to wait 1 s before another attempt (Retry-After), past the deadline (0.9 s left of FEED_DEADLINE): not retried`
      )
    }))

  it.scoped("404 fails at once with one attempt", () =>
    Effect.gen(function*() {
      const server = yield* testServer(answers(404, {}, "nope"))
      const error = yield* getFails(`${server.url}/missing`, { retries: 5 })
      assert.strictEqual(error._tag, "HttpStatusError")
      if (error._tag === "HttpStatusError") {
        assert.strictEqual(error.status, 404)
        assert.strictEqual(error.attempts, 1)
        assert.strictEqual(error.url, `${server.url}/missing`)
      }
      assert.strictEqual(server.count(), 1)
    }))

  it.scoped("a server that never answers hits the per-attempt timeout, which is retried", () =>
    Effect.gen(function*() {
      const server = yield* testServer(() => {
        // never respond
      })
      const options = FeedClientOptions.make().timeout("5 seconds").retries(1).backoff("1 second", "1 second")
      const fiber = yield* get(server.url).pipe(Effect.provide(client(options)), Effect.fork)

      yield* Queue.take(server.requests)
      assert.strictEqual(yield* nextSleepIn, 5000)
      yield* TestClock.adjust("5 seconds")
      // The timed-out attempt is retried after the backoff.
      yield* awaitSleeping
      yield* TestClock.adjust("1 second")
      yield* Queue.take(server.requests)
      yield* awaitSleeping
      yield* TestClock.adjust("5 seconds")

      const error = failure(yield* Fiber.await(fiber))
      assert.strictEqual(error._tag, "RequestTimeout")
      if (error._tag === "RequestTimeout") {
        assert.strictEqual(error.attempts, 2)
        assert.isFalse(error.deadline)
        assert.strictEqual(error.timeoutMs, 5000)
      }
      assert.strictEqual(server.count(), 2)
    }))

  it.scoped("the total deadline bounds all attempts together", () =>
    Effect.gen(function*() {
      const server = yield* testServer(() => {})
      const options = FeedClientOptions.make().timeout("10 seconds").retries(10).deadline("3 seconds")
      const fiber = yield* get(server.url).pipe(Effect.provide(client(options)), Effect.fork)
      yield* Queue.take(server.requests)
      yield* awaitSleeping
      yield* TestClock.adjust("3 seconds")
      const error = failure(yield* Fiber.await(fiber))
      assert.strictEqual(error._tag, "RequestTimeout")
      if (error._tag === "RequestTimeout") {
        assert.isTrue(error.deadline)
        assert.strictEqual(error.attempts, 1)
      }
    }))

  it.scoped("a body over the size limit is cut off while streaming and the connection closed", () =>
    Effect.gen(function*() {
      const total = 64 * 1024 * 1024
      const chunk = Buffer.alloc(64 * 1024, 97)
      let written = 0
      let finished = false
      const closed = yield* Deferred.make<void>()
      const server = yield* testServer((_req, res) => {
        // No Content-Length: only counting the stream can catch it.
        res.writeHead(200, { "content-type": "text/plain" })
        res.on("close", () => Deferred.unsafeDone(closed, Exit.void))
        const pump = () => {
          while (written < total) {
            written += chunk.length
            if (!res.write(chunk)) return void res.once("drain", pump)
          }
          finished = true
          res.end()
        }
        pump()
      })
      const error = yield* getFails(server.url, { maxBytes: 256 * 1024, retries: 3 })
      assert.strictEqual(error._tag, "ResponseTooLarge")
      if (error._tag === "ResponseTooLarge") {
        assert.strictEqual(error.limitBytes, 256 * 1024)
        assert.isTrue(error.receivedBytes > 256 * 1024 && error.receivedBytes < 1024 * 1024, `read ${error.receivedBytes}`)
        assert.strictEqual(error.attempts, 1, "too large is not retried")
      }
      yield* Deferred.await(closed)
      assert.isFalse(finished, "the server could not send the whole body")
      assert.isTrue(written < total, `server wrote ${written} of ${total} bytes`)
      assert.strictEqual(server.count(), 1)
    }))

  it.scoped("an announced Content-Length over the limit fails before reading", () =>
    Effect.gen(function*() {
      const server = yield* testServer((_req, res) => {
        res.writeHead(200, { "content-length": String(50 * 1024 * 1024) })
        res.write("x".repeat(1024))
      })
      const error = yield* getFails(server.url, { maxBytes: 1024 * 1024 })
      assert.strictEqual(error._tag, "ResponseTooLarge")
      if (error._tag === "ResponseTooLarge") assert.strictEqual(error.receivedBytes, 50 * 1024 * 1024)
    }))

  it.scoped("a connection reset mid-body is a NetworkError", () =>
    Effect.gen(function*() {
      const server = yield* testServer((req, res) => {
        res.writeHead(200, { "content-length": "100000" })
        res.write("x".repeat(1000), () => req.socket.destroy())
      })
      const error = yield* getFails(server.url, { retries: 0 })
      assert.strictEqual(error._tag, "NetworkError")
      if (error._tag === "NetworkError") assert.strictEqual(error.attempts, 1)
    }))

  it.scoped("connection refused is a NetworkError, retried", () =>
    Effect.gen(function*() {
      // A port that was just free: bind, note it, close.
      const server = yield* Effect.scoped(testServer(() => {}))
      const fiber = yield* get(server.url).pipe(Effect.provide(client({ retries: 1, backoffBase: "1 second" })), Effect.fork)
      yield* awaitSleeping
      yield* TestClock.adjust("2 seconds")
      const error = failure(yield* Fiber.await(fiber))
      assert.strictEqual(error._tag, "NetworkError")
      if (error._tag === "NetworkError") assert.strictEqual(error.attempts, 2)
    }))

  it.scoped("follows redirects and reports the final URL", () =>
    Effect.gen(function*() {
      const server = yield* testServer((req, res) => {
        if (req.url === "/old") {
          res.writeHead(301, { location: "/middle" })
          res.end()
        } else if (req.url === "/middle") {
          res.writeHead(307, { location: "new?x=1" })
          res.end()
        } else {
          res.writeHead(200)
          res.end(req.url)
        }
      })
      const resource = yield* get(`${server.url}/old`).pipe(Effect.provide(client({})))
      assert.strictEqual(resource.finalUrl, `${server.url}/new?x=1`)
      assert.strictEqual(resource.url, `${server.url}/old`)
      assert.strictEqual(text(resource.bytes), "/new?x=1")
    }))

  it.scoped("extra headers (an API key) go to the origin asked, and through its own redirects, never to another host's", () =>
    Effect.gen(function*() {
      const keys: Array<[string, unknown]> = []
      const elsewhere = yield* testServer((req, res) => {
        keys.push([`elsewhere${req.url}`, req.headers["x-api-key"]])
        res.writeHead(200)
        res.end("there")
      })
      const server = yield* testServer((req, res) => {
        keys.push([req.url ?? "", req.headers["x-api-key"]])
        if (req.url === "/start") res.writeHead(302, { location: "/same" })
        else if (req.url === "/same") res.writeHead(302, { location: `${elsewhere.url}/away` })
        else res.writeHead(404)
        res.end()
      })
      const resource = yield* Effect.flatMap(FeedClient, (c) => c.get(`${server.url}/start`, { headers: { "x-api-key": "k" } })).pipe(
        Effect.provide(client({}))
      )
      assert.strictEqual(text(resource.bytes), "there")
      assert.deepStrictEqual(keys, [["/start", "k"], ["/same", "k"], ["elsewhere/away", undefined]])
    }))

  it.scoped("a redirect loop fails with the chain, without retrying", () =>
    Effect.gen(function*() {
      const server = yield* testServer((req, res) => {
        res.writeHead(302, { location: req.url === "/a" ? "/b" : "/a" })
        res.end()
      })
      const error = yield* getFails(`${server.url}/a`, { retries: 3 })
      assert.strictEqual(error._tag, "TooManyRedirects")
      if (error._tag === "TooManyRedirects") {
        assert.strictEqual(error.reason, "loop")
        assert.deepStrictEqual(error.chain, [`${server.url}/a`, `${server.url}/b`, `${server.url}/a`])
        assert.include(error.message, "redirect loop")
      }
      assert.strictEqual(server.count(), 2)
    }))

  it.scoped("an endless chain of redirects stops at the limit", () =>
    Effect.gen(function*() {
      const server = yield* testServer((req, res) => {
        const n = Number(req.url?.slice(1) ?? 0)
        res.writeHead(302, { location: `/${n + 1}` })
        res.end()
      })
      const error = yield* getFails(`${server.url}/0`, { maxRedirects: 3 })
      assert.strictEqual(error._tag, "TooManyRedirects")
      if (error._tag === "TooManyRedirects") {
        assert.strictEqual(error.reason, "limit")
        assert.strictEqual(error.chain.length, 5)
      }
      assert.strictEqual(server.count(), 4)
    }))

  it.scoped("only http: and https: URLs, also as redirect targets", () =>
    Effect.gen(function*() {
      const server = yield* testServer((_req, res) => {
        res.writeHead(302, { location: "file:///etc/passwd" })
        res.end()
      })
      const layer = client({})
      for (const url of ["ftp://example.com/feed.xml", "file:///etc/passwd", "javascript:alert(1)", "not a url", "/relative"]) {
        const error = failure(yield* get(url).pipe(Effect.provide(layer), Effect.exit))
        assert.strictEqual(error._tag, "InvalidUrl", url)
        if (error._tag === "InvalidUrl") assert.strictEqual(error.url, url)
      }
      const redirected = failure(yield* get(server.url).pipe(Effect.provide(layer), Effect.exit))
      assert.strictEqual(redirected._tag, "InvalidUrl")
      if (redirected._tag === "InvalidUrl") assert.include(redirected.reason, "file:")
    }))

  it.scoped("limits concurrent requests per host", () =>
    Effect.gen(function*() {
      let inFlight = 0
      let peak = 0
      const server = yield* testServer((_req, res) => {
        inFlight++
        peak = Math.max(peak, inFlight)
        // The server answers on its own (real) time; the client decides how many wait.
        setTimeout(() => {
          inFlight--
          res.end("ok")
        }, 20)
      })
      const results = yield* Effect.forEach(
        Array.from({ length: 6 }, (_, i) => `${server.url}/${i}`),
        get,
        { concurrency: "unbounded" }
      ).pipe(Effect.provide(client({ hostConcurrency: 2 })))
      assert.strictEqual(results.length, 6)
      assert.strictEqual(server.count(), 6)
      assert.strictEqual(peak, 2)
    }))
})

describe("FeedClientOptions", () => {
  it("builds immutably and maps the seed's names", () => {
    const base = FeedClientOptions.make()
    const custom = base.timeout("5 seconds").retryCount(2).bufferSize(1024)
    assert.strictEqual(base.settings.retries, 3)
    assert.strictEqual(custom.settings.retries, 2)
    assert.strictEqual(custom.settings.maxBytes, 1024)
    assert.strictEqual(Duration.toMillis(custom.settings.timeout), 5000)
    assert.strictEqual(Duration.toMillis(FeedClientOptions.make({ deadline: "1 minute" }).settings.deadline), 60000)
    assert.throws(() => base.retries(-1))
  })
})

describe("a body's chunks put together", () => {
  it("in steps of CONCAT_STEP_BYTES, a yield between two (in one Buffer.concat, 20 MB held the thread 10 to 16 ms): the same bytes", () => {
    const sizes = [5, 64 * 1024, CONCAT_STEP_BYTES, 3 * CONCAT_STEP_BYTES + 17, 1, 0, 2 * CONCAT_STEP_BYTES - 5]
    const chunks = sizes.map((size, k) => Buffer.alloc(size, k + 1))
    const size = sizes.reduce((a, b) => a + b, 0)
    const steps = concatInSteps(chunks, size)
    let yields = 0
    let step = steps.next()
    for (; step.done !== true; step = steps.next()) yields++
    assert.strictEqual(yields, Math.ceil(size / CONCAT_STEP_BYTES) - 1)
    assert.isTrue(Buffer.from(step.value).equals(Buffer.concat(chunks)))
    assert.strictEqual(step.value.length, size)
  })

  it.scoped("a fetched body is put together so, never copied whole in one call", () =>
    Effect.gen(function*() {
      const body = Buffer.alloc(3 * CONCAT_STEP_BYTES + 5, "feed ")
      const server = yield* testServer((_req, res) => {
        res.writeHead(200, { "content-type": "text/plain" })
        res.end(body)
      })
      /** The size of each buffer `Buffer.concat` made while the body was fetched. */
      const made: Array<number> = []
      const concat = Buffer.concat
      const spy = vi.spyOn(Buffer, "concat").mockImplementation((list, length) => {
        const result = concat(list, length)
        made.push(result.length)
        return result
      })
      const resource = yield* get(`${server.url}/big`).pipe(
        Effect.provide(client({})),
        Effect.ensuring(Effect.sync(() => spy.mockRestore()))
      )
      assert.isTrue(Buffer.from(resource.bytes).equals(body))
      const whole = made.filter((length) => length >= CONCAT_STEP_BYTES)
      assert.strictEqual(whole.length, 0, "Buffer.concat copied the body whole")
    }))
})

