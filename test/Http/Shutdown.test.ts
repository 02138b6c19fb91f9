/**
 * Graceful shutdown of `Server.layer`: closing its scope stops accepting connections, lets the
 * in-flight request finish, and only then completes (so the database closes after it).
 */
import { createServer, request as httpRequest } from "node:http"
import { connect } from "node:net"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { NodeHttpServer } from "@effect/platform-node"
import { ConfigProvider, Deferred, Effect, Exit, Fiber, Layer, Logger, Option, Scope } from "effect"
import { ImportFeedsLive, postsWith } from "../../src/App.js"
import { ApiKeys } from "../../src/Http/ApiKeys.js"
import * as Server from "../../src/Http/Server.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { KEY } from "./harness.js"

/**
 * `Server.layer` on a free port over `repository`, configured by `settings`, its log lines handed
 * to `onLog`; the URL it listens on, and the scope whose closing shuts it down.
 */
const startServer = (
  repository: Layer.Layer<PostRepository>,
  settings: ReadonlyArray<readonly [string, string]>,
  onLog: (text: string) => void = () => {}
) =>
  Effect.gen(function* () {
    const listening = yield* Deferred.make<string>()
    const logger = Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ message }) => {
        const text = String(message)
        const url = /listening on (http:\/\/\S+)/.exec(text)
        if (url !== null) Deferred.unsafeDone(listening, Exit.succeed(url[1]!))
        onLog(text)
      })
    )
    const server = Server.layer.pipe(
      Layer.provide(postsWith(repository)),
      Layer.provide(repository),
      Layer.provide(ApiKeys.layer([KEY])),
      Layer.provide(ImportFeedsLive),
      Layer.provide(logger),
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["PORT", "0"], ...settings]))))
    )
    const scope = yield* Scope.make()
    yield* Layer.buildWithScope(server, scope)
    return { scope, url: yield* Deferred.await(listening) }
  })

describe("shutdown", () => {
  it.live("stops accepting, lets the in-flight request finish, then completes", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const stopping = yield* Deferred.make<void>()

      const repository = Layer.effect(
        PostRepository,
        Effect.map(MemoryPostRepository.make, (base) => ({
          ...base,
          getBySlug: (slug: string) =>
            Deferred.succeed(started, undefined).pipe(
              Effect.zipRight(Deferred.await(release)),
              Effect.zipRight(base.getBySlug(slug))
            )
        }))
      )
      const { scope, url } = yield* startServer(repository, [["SHUTDOWN_GRACE", "20 seconds"]], (text) => {
        if (text.includes("Inkwell stopping")) Deferred.unsafeDone(stopping, Exit.void)
      })
      const client = yield* HttpClient.HttpClient

      const inFlight = yield* Effect.fork(client.get(`${url}/posts/in-flight`))
      yield* Deferred.await(started)
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      yield* Deferred.await(stopping)

      const refused = yield* Effect.either(client.get(`${url}/health`))
      assert.isTrue(refused._tag === "Left", "a new connection is refused while draining")
      assert.isTrue(Option.isNone(yield* Fiber.poll(closing)), "shutdown waits for the in-flight request")

      yield* Deferred.succeed(release, undefined)
      const response = yield* Fiber.join(inFlight)
      assert.strictEqual(response.status, 404, "the in-flight request got its real answer")
      yield* Fiber.join(closing)
    }).pipe(Effect.provide(FetchHttpClient.layer))
  )

  it.live("a request still running after SHUTDOWN_GRACE is cut off and shutdown completes", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      const interrupted = yield* Deferred.make<void>()
      const cutOff = yield* Deferred.make<void>()

      // A read that never ends on its own: only interrupting its fiber stops it.
      const repository = Layer.effect(
        PostRepository,
        Effect.map(MemoryPostRepository.make, (base) => ({
          ...base,
          getBySlug: (_slug: string) =>
            Deferred.succeed(started, undefined).pipe(
              Effect.zipRight(Effect.never),
              Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))
            )
        }))
      )
      // REQUEST_TIMEOUT far beyond the grace: only the grace may end this shutdown.
      const settings = [["SHUTDOWN_GRACE", "100 millis"], ["REQUEST_TIMEOUT", "1 hour"]] as const
      const { scope, url } = yield* startServer(repository, settings, (text) => {
        if (text.includes("closing their connections")) Deferred.unsafeDone(cutOff, Exit.void)
      })
      const client = yield* HttpClient.HttpClient

      const inFlight = yield* Effect.fork(Effect.either(client.get(`${url}/posts/never-ends`)))
      yield* Deferred.await(started)
      // Before the fix the grace's timeout ran inside the (uninterruptible) finalizer and could
      // not fire: this close waited for the request, here forever.
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      yield* Fiber.join(closing).pipe(
        Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("shutdown did not finish after SHUTDOWN_GRACE") })
      )
      assert.isTrue(Option.isSome(yield* Deferred.poll(cutOff)), "the cut-off is logged")
      assert.isTrue(Option.isSome(yield* Deferred.poll(interrupted)), "the request's handler was interrupted")
      const answer = yield* Fiber.join(inFlight)
      assert.strictEqual(answer._tag, "Left", "the cut-off client gets no answer")
    }).pipe(Effect.provide(FetchHttpClient.layer))
  )

  it.live("a request that cannot be interrupted (a commit that never returns) holds the shutdown for one more grace, not forever", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      const goesOn = yield* Deferred.make<void>()
      // Uninterruptible and never ending, as a commit on a connection that stopped answering.
      const repository = Layer.effect(
        PostRepository,
        Effect.map(MemoryPostRepository.make, (base) => ({
          ...base,
          getBySlug: (_slug: string) => Effect.uninterruptible(Effect.zipRight(Deferred.succeed(started, undefined), Effect.never))
        }))
      )
      const settings = [["SHUTDOWN_GRACE", "100 millis"], ["REQUEST_TIMEOUT", "1 hour"]] as const
      const { scope, url } = yield* startServer(repository, settings, (text) => {
        if (text.includes("closing the database without it")) Deferred.unsafeDone(goesOn, Exit.void)
      })
      const client = yield* HttpClient.HttpClient
      yield* Effect.fork(Effect.either(client.get(`${url}/posts/stuck`)))
      yield* Deferred.await(started)
      // Before, this close waited for the handler: here forever.
      yield* Scope.close(scope, Exit.void).pipe(
        Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("shutdown waited for a handler that never ends") })
      )
      assert.isTrue(Option.isSome(yield* Deferred.poll(goesOn)), "the shutdown says it goes on without the request")
    }).pipe(Effect.provide(FetchHttpClient.layer))
  )

  it.live("requests whose client left before they ran end, and shutdown completes", () =>
    Effect.gen(function* () {
      // Requests that arrive together with their connection's reset: the front door queues them
      // for the full path (a slice on the next turn), and the reset closes their responses
      // before that turn (writes: the front door drops only reads whose client left). The platform's handler then starts after the close it listens for, so
      // nothing interrupts it, and it writes its answer to a response whose socket is gone. Node
      // never calls `end`'s callback for such a response, and the platform waited for that
      // callback: each such handler's fiber waited forever, and so did the drain (seen when a
      // load generator stopped with requests in flight).
      const { scope, url } = yield* startServer(Layer.effect(PostRepository, MemoryPostRepository.make), [
        ["SHUTDOWN_GRACE", "100 millis"]
      ])
      const port = Number(new URL(url).port)
      yield* Effect.forEach(
        Array.from({ length: 8 }, (_, i) => i),
        (i) =>
          Effect.async<void>((resume) => {
            const socket = connect(port, "127.0.0.1", () => {
              socket.write(`DELETE /posts/gone-${i} HTTP/1.1\r\nHost: inkwell\r\n\r\n`)
              socket.resetAndDestroy()
            })
            socket.on("error", () => {})
            socket.on("close", () => resume(Effect.void))
          }),
        { concurrency: "unbounded" }
      )
      // The requests have reached the server once it answers another connection's.
      const client = yield* HttpClient.HttpClient
      assert.strictEqual((yield* client.get(`${url}/health`)).status, 200)

      // A daemon: closing a scope cannot be interrupted, joining it can (the timeout then fails the test).
      const closing = yield* Effect.forkDaemon(Scope.close(scope, Exit.void))
      yield* Fiber.join(closing).pipe(
        Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("shutdown waited for handlers whose clients had left") })
      )
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.live("a bulk import in flight at shutdown stops after what it stored and answers its summary (interrupted)", () =>
    Effect.gen(function* () {
      const { repository, written } = yield* signallingWrites
      // Neither the grace nor the request timeout may end this import: only the shutdown itself.
      const { scope, url } = yield* startServer(repository, [["SHUTDOWN_GRACE", "1 hour"], ["REQUEST_TIMEOUT", "1 hour"]])
      const port = Number(new URL(url).port)

      // Two records, then a body that never ends: a client still uploading. Before, the import
      // went on reading until SHUTDOWN_GRACE cut its connection: no answer.
      const { closing, imported } = yield* uploadInterruptedByShutdown(port, scope, written, false)
      assert.strictEqual(imported, 2)
      yield* Fiber.join(closing).pipe(
        Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("shutdown did not finish") })
      )
    }))
})

const line = (n: number) => `${JSON.stringify({ title: `Post ${n}`, slug: `post-${n}`, body: `Body ${n}.` })}\n`

/**
 * POSTs `first` to /posts/import and leaves the body open (with `trickle`, sending one more line
 * every 200 ms until the answer); the answer, whenever it comes.
 */
const openUpload = (port: number, first: string, trickle = false) =>
  Effect.async<{ readonly status: number; readonly body: string; readonly connection: string | undefined }, Error>((resume) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/posts/import",
        headers: { "content-type": "application/x-ndjson", "x-api-key": KEY },
        agent: false
      },
      (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => (body += chunk))
        res.on("end", () => {
          resume(Effect.succeed({ status: res.statusCode ?? 0, body, connection: res.headers.connection }))
          req.destroy()
        })
      }
    )
    req.on("error", (error) => resume(Effect.fail(error)))
    req.write(first)
    let n = 100
    const timer = trickle ? setInterval(() => req.write(line(n++)), 200) : undefined
    req.on("close", () => clearInterval(timer))
    return Effect.sync(() => {
      clearInterval(timer)
      req.destroy()
    })
  })

/** A memory repository that completes `written` once it has stored a batch. */
const signallingWrites = Effect.gen(function* () {
  const written = yield* Deferred.make<void>()
  const repository = Layer.effect(
    PostRepository,
    Effect.map(MemoryPostRepository.make, (base) => ({
      ...base,
      upsertMany: (...args: Parameters<typeof base.upsertMany>) =>
        Effect.tap(base.upsertMany(...args), () => Deferred.succeed(written, undefined))
    }))
  )
  return { repository, written }
})

/**
 * Two records uploaded to the import on `port`, the body left open (`trickle`: more lines as it
 * goes), and `scope` closed once `written`: the import must answer its summary (interrupted) with
 * Connection: close. How many it imported, and the closing still under way.
 */
const uploadInterruptedByShutdown = (port: number, scope: Scope.CloseableScope, written: Deferred.Deferred<void>, trickle: boolean) =>
  Effect.gen(function* () {
    const upload = yield* Effect.fork(openUpload(port, line(1) + line(2), trickle))
    yield* Deferred.await(written)
    const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
    const answer = yield* Fiber.join(upload).pipe(
      Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("the import did not answer at shutdown") })
    )
    assert.strictEqual(answer.status, 200, answer.body)
    const summary = JSON.parse(answer.body)
    assert.strictEqual(summary.status, "interrupted")
    assert.strictEqual(answer.connection, "close", "no connection is kept alive past the drain")
    return { closing, imported: summary.imported as number }
  })

describe("shutdown during POST /posts/import-url", () => {
  it.live("a remote import still fetching at shutdown stops and answers its summary (interrupted)", () =>
    Effect.gen(function* () {
      const fetching = yield* Deferred.make<void>()
      // A feed server that takes the request and never answers.
      const feedPort = yield* Effect.acquireRelease(
        Effect.async<{ readonly port: number; readonly close: () => void }>((resume) => {
          const feed = createServer(() => Deferred.unsafeDone(fetching, Exit.void))
          feed.listen(0, "127.0.0.1", () => {
            const address = feed.address()
            resume(Effect.succeed({
              port: typeof address === "object" && address !== null ? address.port : 0,
              close: () => {
                feed.closeAllConnections()
                feed.close()
              }
            }))
          })
        }),
        (feed) => Effect.sync(feed.close)
      ).pipe(Effect.map((feed) => feed.port))
      // Neither the grace, the request timeout nor the feed client's own limits may end it.
      const { scope, url } = yield* startServer(MemoryPostRepository.layer, [
        ["SHUTDOWN_GRACE", "1 hour"],
        ["REQUEST_TIMEOUT", "1 hour"],
        ["FEED_TIMEOUT", "1 hour"],
        ["FEED_DEADLINE", "1 hour"],
        ["FEED_RETRIES", "0"],
        // The feed is served on 127.0.0.1.
        ["FEED_ALLOW_PRIVATE", "true"]
      ])
      const client = yield* HttpClient.HttpClient
      const request = HttpClientRequest.post(`${url}/posts/import-url`).pipe(
        HttpClientRequest.setHeader("x-api-key", KEY),
        HttpClientRequest.bodyUnsafeJson({ url: `http://127.0.0.1:${feedPort}/feed.json` })
      )
      const answer = yield* Effect.fork(Effect.flatMap(client.execute(request), (response) => Effect.map(response.json, (body) => ({ status: response.status, body }))))
      yield* Deferred.await(fetching)
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))

      const { body, status } = yield* Fiber.join(answer).pipe(
        Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("the remote import did not answer at shutdown") })
      )
      assert.strictEqual(status, 200)
      assert.strictEqual((body as { status: string }).status, "interrupted")
      yield* Fiber.join(closing).pipe(
        Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("shutdown did not finish") })
      )
    }).pipe(Effect.provide(FetchHttpClient.layer), Effect.scoped))
})

describe("shutdown of an embedding host serving with InkwellServer.serveDraining", () => {
  it.live("a bulk import trickling in at shutdown stops, answers its summary (interrupted) with Connection: close, and the scope closes promptly (was: a bare 503, kept alive, and a shutdown held by the client)", () =>
    Effect.gen(function* () {
      const { repository, written } = yield* signallingWrites
      // The host's own Node server and serving, as README "Embedding" has it.
      const server = createServer({ ServerResponse: Server.SettlingResponse })
      const host = Server.serveDraining(server, { grace: "1 hour" }).pipe(
        Layer.provide(Server.ApiLive),
        Layer.provide(postsWith(repository)),
        Layer.provide(repository),
        Layer.provide(ApiKeys.layer([KEY])),
        Layer.provide(ImportFeedsLive),
        Layer.provide(NodeHttpServer.layer(() => server, { port: 0, host: "127.0.0.1" })),
        // Only the shutdown may end this import.
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["IMPORT_TIMEOUT", "1 hour"]]))))
      )
      const scope = yield* Scope.make()
      yield* Layer.buildWithScope(host, scope)
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0

      const { closing, imported } = yield* uploadInterruptedByShutdown(port, scope, written, true)
      assert.isAtLeast(imported, 2)
      yield* Fiber.join(closing).pipe(
        Effect.timeoutFail({ duration: "3 seconds", onTimeout: () => new Error("the host's shutdown did not finish") })
      )
      assert.isFalse(server.listening)
    }))
})
