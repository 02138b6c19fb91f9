import { Headers, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Deferred, Effect, Fiber, Layer, Redacted } from "effect"
import { DatabaseError, PoolTimeout } from "../../src/Domain/Errors.js"
import { ApiKeys, make as makeKeys } from "../../src/Http/ApiKeys.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository, type PostRepositoryShape } from "../../src/Posts/PostRepository.js"
import {
  get,
  json,
  KEY,
  type LogLine,
  loggedServer,
  newPost,
  OTHER_KEY,
  postJson,
  send,
  testServer
} from "./harness.js"

/** The in-memory repository with some methods replaced. */
const repositoryWith = (
  overrides: (base: PostRepositoryShape) => Effect.Effect<Partial<PostRepositoryShape>>
): Layer.Layer<PostRepository> =>
  Layer.effect(
    PostRepository,
    Effect.gen(function* () {
      const base = yield* MemoryPostRepository.make
      return { ...base, ...(yield* overrides(base)) }
    })
  )

const requestLines = (lines: ReadonlyArray<LogLine>) => lines.filter((line) => line.annotations["requestId"] !== undefined)

describe("API keys", () => {
  it("checks keys: valid, invalid, missing (an empty key), disabled", () => {
    const keys = makeKeys([KEY, OTHER_KEY].map((key) => Redacted.make(key)))
    const fromHeaders = (headers: Record<string, string>) => keys.fromHeaders(Headers.fromInput(headers))
    assert.strictEqual(fromHeaders({ "x-api-key": KEY }), "valid")
    assert.strictEqual(fromHeaders({ "x-api-key": OTHER_KEY }), "valid")
    assert.strictEqual(fromHeaders({ authorization: `Bearer ${KEY}` }), "valid")
    assert.strictEqual(fromHeaders({ authorization: `bearer ${KEY}` }), "valid")
    assert.strictEqual(fromHeaders({ "x-api-key": KEY + "x" }), "invalid")
    assert.strictEqual(fromHeaders({ "x-api-key": KEY.slice(0, -1) }), "invalid")
    assert.strictEqual(fromHeaders({ authorization: `Basic ${KEY}` }), "missing")
    assert.strictEqual(fromHeaders({ "x-api-key": "" }), "missing")
    assert.strictEqual(fromHeaders({}), "missing")
    assert.strictEqual(makeKeys([]).fromHeaders(Headers.fromInput({ "x-api-key": KEY })), "disabled")
    assert.strictEqual(keys.check(Redacted.make("")), "missing")
  })
})


describe("auth", () => {
  it.effect("writes: 401 without a key, with a wrong key; 201 with X-API-Key or Bearer", () =>
    Effect.gen(function* () {
      const none = yield* postJson("/posts", newPost(), {})
      assert.strictEqual(none.status, 401)
      const noneBody = yield* json(none)
      assert.strictEqual(noneBody._tag, "Unauthorized")
      assert.include(noneBody.message, "API key is required")

      const empty = yield* postJson("/posts", newPost(), { "x-api-key": "" })
      assert.strictEqual(empty.status, 401)

      const wrong = yield* postJson("/posts", newPost(), { "x-api-key": "wrong" })
      assert.strictEqual(wrong.status, 401)
      const wrongBody = yield* json(wrong)
      assert.include(wrongBody.message, "not valid")
      assert.notInclude(JSON.stringify(wrongBody), "wrong")

      const wrongBearer = yield* postJson("/posts", newPost(), { authorization: "Bearer wrong" })
      assert.strictEqual(wrongBearer.status, 401)

      assert.strictEqual((yield* postJson("/posts", newPost({ title: "A" }), { "x-api-key": KEY })).status, 201)
      assert.strictEqual((yield* postJson("/posts", newPost({ title: "B" }), { authorization: `Bearer ${KEY}` })).status, 201)
      assert.strictEqual((yield* postJson("/posts", newPost({ title: "C" }), { "x-api-key": OTHER_KEY })).status, 201)
      // Reads stay public.
      assert.strictEqual((yield* json(yield* get("/posts"))).items.length, 3)
    }).pipe(Effect.provide(testServer({ keys: [KEY, OTHER_KEY] })))
  )

  it.effect("every write endpoint is behind the key", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost())
      const put = yield* send(
        HttpClientRequest.put("/posts/first-post").pipe(HttpClientRequest.bodyUnsafeJson(newPost({ version: 1 })))
      )
      assert.strictEqual(put.status, 401)
      const del = yield* send(HttpClientRequest.del("/posts/first-post"))
      assert.strictEqual(del.status, 401)
      assert.strictEqual((yield* get("/posts/first-post")).status, 200)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("with no key configured: reads work, every write is refused with a clear 401, one warning", () =>
    Effect.gen(function* () {
      const response = yield* postJson("/posts", newPost(), { "x-api-key": "anything" })
      assert.strictEqual(response.status, 401)
      assert.include((yield* json(response)).message, "INKWELL_API_KEYS")
      assert.strictEqual((yield* get("/posts")).status, 200)
    }).pipe(Effect.provide(testServer({ keys: [] })))
  )
})

describe("request logging", () => {
  it.effect("one line per request with method, path, status, durationMs, request id; key never logged", () => {
    const lines: Array<LogLine> = []
    return Effect.gen(function* () {
      yield* postJson("/posts?api_key=" + KEY, newPost(), { "x-api-key": KEY })
      yield* postJson("/posts", newPost({ title: "Other" }), { "x-api-key": KEY + "-wrong" })
      yield* postJson("/posts", newPost({ title: "Bearer" }), { authorization: `Bearer ${KEY}` })
      yield* get("/posts/first-post")
      const logged = requestLines(lines)
      assert.strictEqual(logged.length, 4, lines.map((l) => l.text).join("\n"))
      const [created, refused] = logged
      assert.deepInclude(created!.annotations, { method: "POST", path: "/posts", status: 201 })
      assert.isNumber(created!.annotations["durationMs"])
      assert.strictEqual(created!.level, "INFO")
      // Logging wraps auth: the 401 is logged too.
      assert.deepInclude(refused!.annotations, { method: "POST", path: "/posts", status: 401 })
      for (const line of lines) {
        assert.notInclude(line.text, KEY)
      }
    }).pipe(Effect.provide(loggedServer(lines)))
  })

  it.effect("echoes X-Request-Id, or generates one", () => {
    const lines: Array<LogLine> = []
    return Effect.gen(function* () {
      const given = yield* get("/health", { "x-request-id": "req-123" })
      assert.strictEqual(given.headers["x-request-id"], "req-123")
      const generated = yield* get("/health")
      assert.match(generated.headers["x-request-id"]!, /^[0-9a-f-]{36}$/)
      // A request id that would garble a log line is replaced.
      const hostile = yield* get("/health", { "x-request-id": "a b\" level=ERROR" })
      assert.notStrictEqual(hostile.headers["x-request-id"], "a b\" level=ERROR")
      assert.deepStrictEqual(
        requestLines(lines).map((l) => l.annotations["requestId"]),
        ["req-123", generated.headers["x-request-id"], hostile.headers["x-request-id"]]
      )
    }).pipe(Effect.provide(loggedServer(lines)))
  })

  it.effect("logs a configured-without-keys warning once at start", () => {
    const lines: Array<LogLine> = []
    return Effect.gen(function* () {
      yield* get("/health")
      yield* get("/health")
      const warnings = lines.filter((l) => l.level === "WARN" && l.text.includes("INKWELL_API_KEYS"))
      assert.strictEqual(warnings.length, 1)
    }).pipe(
      Effect.provide(
        loggedServer(lines, {
          apiKeys: ApiKeys.layerConfig.pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map()))))
        })
      )
    )
  })
})

describe("failures", () => {
  it.effect("503 with Retry-After when the pool times out", () =>
    Effect.gen(function* () {
      const response = yield* get("/posts")
      assert.strictEqual(response.status, 503)
      assert.strictEqual(response.headers["retry-after"], "1")
      assert.deepStrictEqual(yield* json(response), {
        _tag: "PoolTimeout",
        waitedMs: 5000,
        maxConnections: 8,
        message: "no database connection free after 5000 ms (max 8)"
      })
      const ready = yield* get("/ready")
      assert.strictEqual(ready.status, 503)
      assert.strictEqual((yield* json(ready))._tag, "NotReady")
    }).pipe(
      Effect.provide(
        testServer({
          repository: repositoryWith(() =>
            Effect.succeed({
              list: () => Effect.fail(new PoolTimeout({ waitedMs: 5000, maxConnections: 8 })),
              ping: Effect.fail(new PoolTimeout({ waitedMs: 5000, maxConnections: 8 }))
            })
          )
        })
      )
    )
  )

  it.effect("500 for a database error: no SQL or stack in the response, the cause logged at ERROR", () => {
    const lines: Array<LogLine> = []
    const sqlFailure = new Error("SQLITE_CORRUPT: database disk image is malformed in SELECT * FROM posts")
    return Effect.gen(function* () {
      const response = yield* get("/posts/anything", { "x-request-id": "trace-me" })
      assert.strictEqual(response.status, 500)
      const text = yield* response.text
      assert.deepStrictEqual(JSON.parse(text), {
        _tag: "InternalServerError",
        message: "internal server error",
        requestId: "trace-me"
      })
      assert.notInclude(text, "SQLITE")
      assert.notInclude(text, "SELECT")
      const line = requestLines(lines).find((l) => l.annotations["status"] === 500)!
      assert.strictEqual(line.level, "ERROR")
      assert.include(line.text, "SQLITE_CORRUPT")
      assert.strictEqual(line.annotations["requestId"], "trace-me")

      const ready = yield* get("/ready")
      assert.strictEqual(ready.status, 503)
      assert.notInclude(yield* ready.text, "SQLITE")
    }).pipe(
      Effect.provide(
        loggedServer(lines, {
          repository: repositoryWith(() =>
            Effect.succeed({
              getBySlug: () => Effect.fail(new DatabaseError({ operation: "getBySlug", cause: sqlFailure })),
              ping: Effect.fail(new DatabaseError({ operation: "ping", cause: sqlFailure }))
            })
          )
        })
      )
    )
  })

  it.effect("413 for a body over MAX_BODY_SIZE, before the handler runs", () =>
    Effect.gen(function* () {
      const big = newPost({ body: "x".repeat(2048) })
      const response = yield* postJson("/posts", big)
      assert.strictEqual(response.status, 413)
      assert.deepStrictEqual(yield* json(response), {
        _tag: "PayloadTooLarge",
        message: "the request body is larger than the limit of 1024 bytes",
        limit: 1024
      })
      assert.strictEqual((yield* json(yield* get("/posts"))).items.length, 0)
      // Under the limit is fine.
      assert.strictEqual((yield* postJson("/posts", newPost())).status, 201)
    }).pipe(Effect.provide(testServer({ maxBodySize: 1024 })))
  )
})

describe("timeouts and cancellation", () => {
  const blockingRepository = (started: Deferred.Deferred<void>, interrupted: Deferred.Deferred<void>) =>
    repositoryWith(() =>
      Effect.succeed({
        getBySlug: () =>
          Deferred.succeed(started, undefined).pipe(
            Effect.zipRight(Effect.never),
            Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))
          )
      })
    )

  // Live clock: the timeout is a Node timer per request (see Middleware.timeout). The handler
  // blocks on a Deferred, so only the timeout can end the request.
  it.live("a handler running past REQUEST_TIMEOUT is interrupted and answered 503", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      const interrupted = yield* Deferred.make<void>()
      const lines: Array<LogLine> = []
      yield* Effect.gen(function* () {
        const response = yield* get("/posts/slow")
        assert.isTrue(yield* Deferred.isDone(started))
        assert.strictEqual(response.status, 503)
        assert.strictEqual(response.headers["retry-after"], "1")
        assert.deepStrictEqual(yield* json(response), {
          _tag: "RequestTimedOut",
          message: "the request took longer than 200ms and was cancelled"
        })
        yield* Deferred.await(interrupted)
        assert.deepInclude(requestLines(lines)[0]!.annotations, { status: 503 })
        assert.strictEqual(requestLines(lines)[0]!.level, "ERROR")
        // The server still answers.
        assert.strictEqual((yield* get("/health")).status, 200)
      }).pipe(
        Effect.provide(
          loggedServer(lines, { requestTimeout: "200 millis", repository: blockingRepository(started, interrupted) })
        )
      )
    })
  )

  // Given in code (the environment refuses it): past Node's longest timer, setTimeout fired at once.
  it.live("a REQUEST_TIMEOUT longer than Node's longest timer is no deadline, not one of a millisecond", () =>
    Effect.gen(function* () {
      const response = yield* get("/posts/slow")
      assert.strictEqual(response.status, 404)
    }).pipe(
      Effect.provide(testServer({
        requestTimeout: "30 days",
        // Waits on I/O (a live timer) as a slow database would: long enough for a 1 ms timer to fire first.
        repository: repositoryWith((base) => Effect.succeed({ getBySlug: (slug) => Effect.zipRight(Effect.sleep("50 millis"), base.getBySlug(slug)) }))
      }))
    )
  )

  it.effect("a client that disconnects interrupts its handler", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      const interrupted = yield* Deferred.make<void>()
      yield* Effect.gen(function* () {
        const request = yield* Effect.fork(get("/posts/slow"))
        yield* Deferred.await(started)
        yield* Fiber.interrupt(request)
        yield* Deferred.await(interrupted)
        assert.isTrue(yield* Deferred.isDone(interrupted))
      }).pipe(Effect.provide(testServer({ repository: blockingRepository(started, interrupted) })))
    })
  )

  it.effect("order: auth runs before the handler (a refused write never reaches the repository)", () =>
    Effect.gen(function* () {
      let creates = 0
      yield* Effect.gen(function* () {
        assert.strictEqual((yield* postJson("/posts", newPost(), { "x-api-key": "wrong" })).status, 401)
        assert.strictEqual(creates, 0)
        assert.strictEqual((yield* postJson("/posts", newPost())).status, 201)
        assert.strictEqual(creates, 1)
      }).pipe(
        Effect.provide(
          testServer({
            repository: repositoryWith((base) =>
              Effect.succeed({
                create: (post) => Effect.suspend(() => {
                  creates++
                  return base.create(post)
                })
              })
            )
          })
        )
      )
    })
  )
})
