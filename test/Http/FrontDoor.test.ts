/**
 * The front door (`Server.layer`): cached public reads answered before any fiber starts, with
 * the full path's visible behaviour: same bytes and ETag, 304 on If-None-Match (any case, any
 * repetition), X-Request-Id echoed or made, credentials always taking the full path, one log
 * line per request. Raw node:http requests, so header names' case and repetition are the test's.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { connect } from "node:net"
import * as Logging from "../../src/Http/Logging.js"
import { ResponseCache } from "../../src/Http/ResponseCache.js"
import * as SiteRoutes from "../../src/Site/Routes.js"
import { KEY, newPost, withListeningServer } from "./harness.js"

interface Answer {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

/**
 * One request written by hand on a new connection (Connection: close), so header names' case
 * and repetition are exactly `headers` (a flat [name, value, ...] list).
 */
const send = (base: string, method: string, path: string, headers: ReadonlyArray<string> = [], body = "") =>
  Effect.async<Answer, Error>((resume) => {
    const { hostname, port } = new URL(base)
    const socket = connect(Number(port), hostname)
    const lines = [`${method} ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, "Connection: close"]
    for (let i = 0; i < headers.length; i += 2) lines.push(`${headers[i]}: ${headers[i + 1]}`)
    if (body.length > 0) lines.push(`Content-Length: ${Buffer.byteLength(body)}`)
    socket.write(`${lines.join("\r\n")}\r\n\r\n${body}`)
    const chunks: Array<Buffer> = []
    socket.on("data", (chunk: Buffer) => chunks.push(chunk))
    socket.on("error", (error) => resume(Effect.fail(error)))
    socket.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8")
      const split = text.indexOf("\r\n\r\n")
      const [statusLine, ...headerLines] = text.slice(0, split).split("\r\n")
      const parsed: Record<string, string> = {}
      for (const line of headerLines) {
        const colon = line.indexOf(":")
        parsed[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
      }
      resume(Effect.succeed({ status: Number(statusLine!.split(" ")[1]), headers: parsed, body: text.slice(split + 4) }))
    })
  })

/**
 * The server on an in-memory repository, its log lines collected. `buffered`: through the
 * production logfmt logger (`Logging.layerBuffered`), whose request lines the front door writes
 * itself; otherwise a plain logger, which takes the generic path.
 */
const withServer = <A, E>(test: (base: string, lines: Array<string>) => Effect.Effect<A, E, ResponseCache>, buffered = false) => {
  const lines: Array<string> = []
  return withListeningServer({
    onLine: (line) => lines.push(line),
    ...(buffered
      ? {
        logger: (collect) =>
          Logging.layerBuffered("logfmt", {
            sink: { write: (chunk) => chunk.split("\n").filter((line) => line !== "").forEach(collect) },
            // Every line written at once: the test reads them as soon as its requests are answered.
            maxBufferBytes: 1
          })
      }
      : {})
  }, (base) => test(base, lines))
}

const hitsOf = Effect.flatMap(ResponseCache, (cache) => Effect.map(cache.stats, (s) => s.hits))

describe("front door", () => {
  it.live("a queued read whose client reset its connection is not run: its line says 499", () =>
    withServer((base, lines) =>
      Effect.gen(function* () {
        const { hostname, port } = new URL(base)
        // Each request arrives with its connection's reset: both are read in one turn, before
        // the front door's next slice runs the queued requests.
        yield* Effect.forEach(
          Array.from({ length: 4 }, (_, i) => i),
          (i) =>
            Effect.async<void>((resume) => {
              const socket = connect(Number(port), hostname, () => {
                socket.write(`GET /posts/left-${i} HTTP/1.1\r\nHost: inkwell\r\nX-Request-Id: left-${i}\r\n\r\n`)
                socket.resetAndDestroy()
              })
              socket.on("error", () => {})
              socket.on("close", () => resume(Effect.void))
            }),
          { concurrency: "unbounded" }
        )
        // Answered after the reset requests were taken off the queue.
        assert.strictEqual((yield* send(base, "GET", "/health")).status, 200)
        const left = lines.filter((line) => line.includes("/posts/left-"))
        assert.strictEqual(left.length, 4, left.join("\n"))
        // Run, each would have been a 404 (no such post).
        for (const line of left) {
          assert.include(line, "status=499")
          assert.match(line, /requestId=left-\d/)
        }
      })
    ))

  it.live("HEAD answers as GET without the body, from the cache and through the full path", () =>
    withServer((base) =>
      Effect.gen(function* () {
        const created = yield* send(base, "POST", "/posts", ["Content-Type", "application/json", "X-API-Key", KEY], JSON.stringify(newPost({ title: "Head" })))
        assert.strictEqual(created.status, 201, created.body)
        const sameAsGet = (head: Answer, got: Answer) => {
          assert.strictEqual(head.status, got.status)
          assert.strictEqual(head.body, "")
          for (const name of ["content-type", "content-length", "etag"]) assert.strictEqual(head.headers[name], got.headers[name], name)
        }
        // Full path first (nothing cached yet), then from the cache.
        const fullPath = yield* send(base, "HEAD", "/posts/head")
        const got = yield* send(base, "GET", "/posts/head")
        assert.strictEqual(got.status, 200)
        assert.isAbove(Number(got.headers["content-length"]), 0)
        sameAsGet(fullPath, got)
        const hits = yield* hitsOf
        const cached = yield* send(base, "HEAD", "/posts/head", ["X-Request-Id", "head-1"])
        assert.strictEqual(yield* hitsOf, hits + 1, "answered from the cache")
        sameAsGet(cached, got)
        assert.strictEqual(cached.headers["x-request-id"], "head-1")
        const notModified = yield* send(base, "HEAD", "/posts/head", ["If-None-Match", got.headers["etag"]!])
        assert.strictEqual(notModified.status, 304)
        const missing = yield* send(base, "HEAD", "/posts/nope")
        assert.strictEqual(missing.status, 404)
        assert.strictEqual(missing.body, "")
        sameAsGet(yield* send(base, "HEAD", "/posts"), yield* send(base, "GET", "/posts"))
      })
    ))

  it.live("OPTIONS and a wrong method on the documentation take the full path (204 / 405 with Allow) and leave the cache as it was", () =>
    withServer((base) =>
      Effect.gen(function* () {
        const created = yield* send(base, "POST", "/posts", ["Content-Type", "application/json", "X-API-Key", KEY], JSON.stringify(newPost({ title: "Options" })))
        assert.strictEqual(created.status, 201, created.body)
        assert.strictEqual((yield* send(base, "GET", "/posts/options")).status, 200)
        assert.strictEqual((yield* send(base, "GET", "/posts")).status, 200)
        const cache = yield* ResponseCache
        const before = yield* cache.stats
        assert.strictEqual(before.entries, 2)
        // The cached post's own URL: the front door has its GET, and must not answer an OPTIONS with it.
        for (const headers of [[], ["X-API-Key", KEY]]) {
          const post = yield* send(base, "OPTIONS", "/posts/options", headers)
          assert.strictEqual(post.status, 204)
          assert.strictEqual(post.headers["allow"], "GET, HEAD, PUT, DELETE, OPTIONS")
          assert.strictEqual(post.body, "")
          assert.strictEqual((yield* send(base, "OPTIONS", "/posts", headers)).headers["allow"], "GET, HEAD, POST, OPTIONS")
          const spec = yield* send(base, "POST", "/openapi.json", headers)
          assert.strictEqual(spec.status, 405)
          assert.strictEqual(spec.headers["allow"], "GET, HEAD, OPTIONS")
          assert.strictEqual((yield* send(base, "OPTIONS", "*", headers)).status, 204)
        }
        const after = yield* cache.stats
        assert.strictEqual(after.entries, 2, "nothing invalidated")
        assert.strictEqual(after.hits, before.hits, "none answered from the cache")
        assert.strictEqual((yield* send(base, "GET", "/posts/options")).status, 200)
        assert.strictEqual(yield* hitsOf, before.hits + 1, "the post is still cached")
      })
    ))

  it.live("a cached read has the full path's bytes, ETag, 304 and request id; credentials bypass it", () =>
    withServer((base, lines) =>
      Effect.gen(function* () {
        const created = yield* send(base, "POST", "/posts", ["Content-Type", "application/json", "X-API-Key", KEY], JSON.stringify(newPost({ title: "Door" })))
        assert.strictEqual(created.status, 201, created.body)
        const first = yield* send(base, "GET", "/posts/door")
        assert.strictEqual(first.status, 200)
        const etag = first.headers["etag"] as string
        const hits = yield* hitsOf

        // Mixed-case names, as clients send them.
        const second = yield* send(base, "GET", "/posts/door", ["X-Request-Id", "trace-42"])
        assert.strictEqual(yield* hitsOf, hits + 1, "answered from the cache")
        assert.strictEqual(second.body, first.body)
        assert.strictEqual(second.headers["etag"], etag)
        assert.strictEqual(second.headers["content-type"], first.headers["content-type"])
        assert.strictEqual(second.headers["x-request-id"], "trace-42")
        // What a shared cache keys on: a key's answer (drafts) is not the public one.
        assert.strictEqual(second.headers["vary"], first.headers["vary"])
        assert.strictEqual(second.headers["vary"], "accept-encoding, x-api-key, authorization")

        const notModified = yield* send(base, "GET", "/posts/door", ["If-None-Match", etag])
        assert.strictEqual(notModified.status, 304)
        assert.strictEqual(notModified.body, "")
        assert.strictEqual(notModified.headers["vary"], "accept-encoding, x-api-key, authorization")
        // Repeated If-None-Match headers are one list, as Node joins them for the full path.
        const repeated = yield* send(base, "GET", "/posts/door", ["if-none-match", '"v0-nope"', "IF-NONE-MATCH", etag])
        assert.strictEqual(repeated.status, 304)
        const other = yield* send(base, "GET", "/posts/door", ["If-None-Match", '"v0-nope"'])
        assert.strictEqual(other.status, 200)

        // A repeated or unusable X-Request-Id is replaced, as the full path does.
        const twice = yield* send(base, "GET", "/posts/door", ["X-Request-Id", "a", "x-request-id", "b"])
        assert.match(twice.headers["x-request-id"] as string, /^[0-9a-f-]{36}$/)
        const bad = yield* send(base, "GET", "/posts/door", ["X-Request-Id", "has space"])
        assert.match(bad.headers["x-request-id"] as string, /^[0-9a-f-]{36}$/)
        assert.strictEqual(yield* hitsOf, hits + 6)

        // A key, in any case and either header, takes the full path (it may see drafts).
        yield* send(base, "GET", "/posts/door", ["X-Api-Key", KEY])
        yield* send(base, "GET", "/posts/door", ["Authorization", `Bearer ${KEY}`])
        assert.strictEqual(yield* hitsOf, hits + 6, "neither was answered from the cache")

        // One line per request, with the same fields whichever way it was answered.
        const doorLines = lines.filter((line) => line.includes("path=/posts/door"))
        assert.strictEqual(doorLines.length, 9)
        for (const line of doorLines) {
          // Field order is the logger's own (a HashMap of annotations in the generic path).
          for (const field of [/message="GET \/posts\/door (200|304)"/, / method=GET/, / status=(200|304)/, / durationMs=[\d.]+/, / requestId=\S+/]) {
            assert.match(line, field)
          }
        }
        assert.isTrue(doorLines.some((line) => line.includes("requestId=trace-42")))
      })
    ))

  it.live("with the production logger, a cached read's line is the full path's line, byte for byte but time, duration and id", () =>
    withServer((base, lines) =>
      Effect.gen(function* () {
        const created = yield* send(base, "POST", "/posts", ["Content-Type", "application/json", "X-API-Key", KEY], JSON.stringify(newPost({ title: "Logged" })))
        assert.strictEqual(created.status, 201, created.body)
        const hits = yield* hitsOf
        const full = yield* send(base, "GET", "/posts/logged")
        const etag = full.headers["etag"] as string
        // The same answer twice, a 304 between them,
        // and a list with a query string (the line names the path without it).
        yield* send(base, "GET", "/posts/logged", ["X-Request-Id", "first"])
        yield* send(base, "GET", "/posts/logged", ["If-None-Match", etag, "X-Request-Id", "not-modified"])
        yield* send(base, "GET", "/posts/logged", ["X-Request-Id", "second"])
        yield* send(base, "GET", "/posts?limit=5")
        yield* send(base, "GET", "/posts?limit=5", ["X-Request-Id", "list"])
        assert.strictEqual(yield* hitsOf, hits + 4, "answered from the cache")

        const withoutVarying = (line: string) =>
          line.replace(/^timestamp=\S+ /, "").replace(/ fiber=\S*/, " fiber=").replace(/ durationMs=\S+/, "").replace(/ requestId=\S+$/, "")
        const logged = lines.filter((line) => line.includes("path=/posts"))
        assert.strictEqual(logged.length, 7, logged.join("\n"))
        const [, fullLine, first, notModified, second, fullList, list] = logged
        // The full path's lines (fiber ids aside) are what the cached ones must equal.
        assert.strictEqual(withoutVarying(first!), withoutVarying(fullLine!))
        assert.strictEqual(withoutVarying(second!), withoutVarying(fullLine!))
        assert.strictEqual(withoutVarying(list!), withoutVarying(fullList!))
        assert.strictEqual(
          withoutVarying(notModified!),
          withoutVarying(fullLine!).replaceAll("/posts/logged 200", "/posts/logged 304").replace("status=200", "status=304")
        )
        assert.match(first!, /^timestamp=\S+ level=INFO fiber= message="GET \/posts\/logged 200" method=GET path=\/posts\/logged status=200 durationMs=[\d.]+ requestId=first$/)
        assert.match(notModified!, / status=304 durationMs=[\d.]+ requestId=not-modified$/)
        assert.match(second!, / status=200 durationMs=[\d.]+ requestId=second$/)
        assert.match(list!, / message="GET \/posts 200" method=GET path=\/posts status=200 durationMs=[\d.]+ requestId=list$/)
      }), true))

  it.live("a site page asked at a spelling the router cuts (`;…`, `#…`) is the full path's 301, and an absolute-form target its 200: none is kept", () =>
    withListeningServer({ site: SiteRoutes.layerConfig }, (base) =>
      Effect.gen(function* () {
        const created = yield* send(base, "POST", "/posts", ["Content-Type", "application/json", "X-API-Key", KEY], JSON.stringify(newPost({ title: "Spelled" })))
        assert.strictEqual(created.status, 201, created.body)
        const page = yield* send(base, "GET", "/p/spelled")
        assert.strictEqual(page.status, 200)
        const cache = yield* ResponseCache
        const stored = yield* cache.stats
        assert.strictEqual(stored.entries, 1)
        // Twice each: the second would be the front door's, had the first been kept.
        for (
          const [target, location] of [
            ["/p/spelled#1", "/p/spelled"],
            ["/p/spelled;1", "/p/spelled"],
            ["/p/spelled#a?x=1", "/p/spelled?x=1"],
            ["/#a", "/"],
            ["/rss.xml;x", "/rss.xml"],
            ["http://any.host/p/spelled;1", "/p/spelled"]
          ] as const
        ) {
          for (let i = 0; i < 2; i++) {
            const moved = yield* send(base, "GET", target)
            assert.strictEqual(moved.status, 301, target)
            assert.strictEqual(moved.headers["location"], location, target)
          }
        }
        // The same resource as `/p/spelled` (RFC 9112 §3.2.2): its page, made each time.
        for (const target of ["http://any.host/p/spelled", "http://other.host/p/spelled"]) {
          for (let i = 0; i < 2; i++) {
            const same = yield* send(base, "GET", target)
            assert.strictEqual(same.status, 200, target)
            assert.strictEqual(same.body, page.body, target)
          }
        }
        const after = yield* cache.stats
        assert.strictEqual(after.entries, stored.entries, "nothing kept at another spelling")
        assert.strictEqual(after.hits, stored.hits, "nothing answered from memory")
      })
    ))

  it.live("full-path requests that queue behind each other (slices) are each answered with their own response", () =>
    withServer((base) =>
      Effect.gen(function* () {
        // Distinct posts, then a burst of concurrent reads of all of them with the cache
        // bypassed (a key), each carrying its own request id: any mix-up of the queued
        // request/response pairs shows as a wrong body or id.
        const slugs = Array.from({ length: 20 }, (_, i) => `burst-${i}`)
        for (const slug of slugs) {
          const created = yield* send(base, "POST", "/posts", ["Content-Type", "application/json", "X-API-Key", KEY], JSON.stringify(newPost({ title: slug })))
          assert.strictEqual(created.status, 201, created.body)
        }
        const requests = Array.from({ length: 200 }, (_, i) => ({ slug: slugs[i % slugs.length]!, id: `burst-request-${i}` }))
        const answers = yield* Effect.forEach(
          requests,
          ({ id, slug }) => send(base, "GET", `/posts/${slug}`, ["X-API-Key", KEY, "X-Request-Id", id]),
          { concurrency: "unbounded" }
        )
        answers.forEach((answer, i) => {
          assert.strictEqual(answer.status, 200)
          assert.strictEqual(answer.headers["x-request-id"], requests[i]!.id)
          assert.strictEqual((JSON.parse(answer.body) as { slug: string }).slug, requests[i]!.slug)
        })
      })
    ))
})
