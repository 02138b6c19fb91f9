/**
 * A real Inkwell server on an ephemeral port (NodeHttpServer.layerTest) with the in-memory
 * repository unless a test supplies another, and an HttpClient pointed at it.
 */
import { assert } from "@effect/vitest"
import { HttpClient, HttpClientRequest, type HttpClientResponse, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { request as httpRequest } from "node:http"
import { ConfigProvider, Deferred, type Duration, Effect, Exit, Layer, Logger, type LogLevel, Scope } from "effect"
import { ImportFeedsLive, postsWith, PostsLive } from "../../src/App.js"
import type { FeedClient } from "../../src/Clients/FeedClient.js"
import { ApiKeys } from "../../src/Http/ApiKeys.js"
import { requestMiddleware } from "../../src/Http/Middleware.js"
import { ResponseCache, type ResponseCacheOptions } from "../../src/Http/ResponseCache.js"
import * as Server from "../../src/Http/Server.js"
import { atFixtureNow } from "../fixtures/clock.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import type { PostRepository } from "../../src/Posts/PostRepository.js"
import type { Posts } from "../../src/Posts/Posts.js"

export const KEY = "s3cret-key-for-tests-7f1c"
export const OTHER_KEY = "another-key-9a2b"

export interface ServerOptions {
  readonly keys?: ReadonlyArray<string>
  /** Replaces `keys`. */
  readonly apiKeys?: Layer.Layer<ApiKeys, unknown>
  readonly repository?: Layer.Layer<PostRepository>
  /** Replaces `repository`: `Posts` (and whatever else it provides) as given. */
  readonly posts?: Layer.Layer<Posts, unknown>
  readonly maxBodySize?: number
  readonly requestTimeout?: Duration.DurationInput
  /** What `POST /posts/import-url` fetches with; `ImportFeedsLive` (FEED_*, guarded) as `AppLive` has it. */
  readonly feeds?: Layer.Layer<FeedClient, unknown>
}

/** The server, with `beside` (a `ResponseCache`) built over the same `Posts` and provided to it, and kept in its output. */
export const testServerWith = <A, E>(options: ServerOptions, beside: Layer.Layer<A, E, Posts>) =>
  Server.serve(
    requestMiddleware({
      requestTimeout: options.requestTimeout ?? "30 seconds",
      maxBodySize: options.maxBodySize ?? 1024 * 1024,
      retryAfterSeconds: 1
    })
  ).pipe(
    Layer.provideMerge(beside),
    Layer.provide(options.posts ?? postsWith(options.repository ?? MemoryPostRepository.layer)),
    Layer.provide(options.apiKeys ?? ApiKeys.layer(options.keys ?? [KEY])),
    Layer.provide(options.feeds ?? ImportFeedsLive),
    Layer.provideMerge(NodeHttpServer.layerTest),
    Layer.provide(atFixtureNow)
  )

export const testServer = (options: ServerOptions = {}) => testServerWith(options, Layer.empty)

/** `testServer` answering public reads from a `ResponseCache` over its `Posts`; the cache stays reachable (its stats). */
export const cachedTestServer = (cache: ResponseCacheOptions, options: ServerOptions = {}) =>
  testServerWith(options, ResponseCache.layer(cache))

export interface LogLine {
  readonly level: LogLevel.LogLevel["label"]
  /** As Logger.logfmtLogger prints it: message, annotations, cause. */
  readonly text: string
  readonly annotations: Record<string, unknown>
}

/** A logger that records every line, in logfmt (what production prints), for assertions. */
export const captureLogs = (lines: Array<LogLine>) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make((options) => {
      const annotations: Record<string, unknown> = {}
      for (const [key, value] of options.annotations) annotations[key] = value
      lines.push({ level: options.logLevel.label, text: Logger.logfmtLogger.log(options), annotations })
    })
  )

/** A server whose logs land in `lines`. The logger is in place before the server starts. */
export const loggedServer = (lines: Array<LogLine>, options: ServerOptions = {}) =>
  testServer(options).pipe(Layer.provide(captureLogs(lines)))

export const send = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.flatMap(HttpClient.HttpClient, (client) => client.execute(request))

export const withKey = (key: string = KEY) => HttpClientRequest.setHeader("x-api-key", key)

export const get = (url: string, headers: Record<string, string> = {}) =>
  send(HttpClientRequest.get(url).pipe(HttpClientRequest.setHeaders(headers)))

export const postJson = (url: string, body: unknown, headers: Record<string, string> = { "x-api-key": KEY }) =>
  send(HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUnsafeJson(body), HttpClientRequest.setHeaders(headers)))

export const putJson = (url: string, body: unknown, headers: Record<string, string> = { "x-api-key": KEY }) =>
  send(HttpClientRequest.put(url).pipe(HttpClientRequest.bodyUnsafeJson(body), HttpClientRequest.setHeaders(headers)))

export const postMarkdown = (url: string, markdown: string, headers: Record<string, string> = { "x-api-key": KEY }) =>
  send(
    HttpClientRequest.post(url).pipe(
      HttpClientRequest.bodyText(markdown, "text/markdown"),
      HttpClientRequest.setHeaders(headers)
    )
  )

export const del = (url: string, headers: Record<string, string> = { "x-api-key": KEY }) =>
  send(HttpClientRequest.del(url).pipe(HttpClientRequest.setHeaders(headers)))

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const json = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<any, unknown> => response.json

/** `testServer` over SQLite in memory, through `PostsLive`: the SQL repository as the app builds it. */
export const sqliteTestServer = testServer({
  posts: PostsLive.pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_URL", "sqlite::memory:"]])))))
})

export const MARKDOWN = `---
title: Hello from Markdown
tags: [effect, typescript]
status: published
---
# Intro

Some **bold** words.

## Details

More words here.
`

export const newPost = (overrides: Record<string, unknown> = {}) => ({
  title: "First post",
  body: "# Heading\n\nHello **world**.\n\n## Second\n\nMore text.",
  tags: ["effect"],
  status: "published",
  ...overrides
})

export interface RawAnswer {
  readonly status: number
  readonly body: string
  readonly headers: Record<string, string | Array<string> | undefined>
}

/**
 * Sends `chunks` with node:http, one write each (chunked encoding, so a test controls where the
 * body is cut), or with `declared` as one body with its Content-Length; reads the whole answer.
 * The server may answer before the last chunk is sent; writes after that are its business.
 */
export const sendRaw = (
  port: number,
  options: { readonly method?: string; readonly path?: string; readonly contentType: string; readonly declared?: boolean; readonly headers?: Record<string, string> },
  chunks: ReadonlyArray<Uint8Array>
) =>
  Effect.async<RawAnswer, Error>((resume) => {
    const whole = Buffer.concat(chunks)
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method: options.method ?? "POST",
        path: options.path ?? "/posts",
        headers: {
          "content-type": options.contentType,
          "x-api-key": KEY,
          ...(options.declared === true ? { "content-length": String(whole.length) } : {}),
          ...options.headers
        },
        agent: false
      },
      (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => (body += chunk))
        res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, body, headers: res.headers })))
        res.on("error", (error) => resume(Effect.fail(error)))
      }
    )
    req.on("error", (error) => resume(Effect.fail(error)))
    if (options.declared === true) {
      req.end(whole)
    } else {
      const send = (i: number): void => {
        if (i === chunks.length) return void req.end()
        if (req.write(chunks[i]!)) setImmediate(() => send(i + 1))
        else req.once("drain", () => send(i + 1))
      }
      send(0)
    }
    return Effect.sync(() => req.destroy())
  })

/** The test server's port. */
export const portOf = Effect.map(HttpServer.HttpServer, (server) =>
  server.address._tag === "TcpAddress" ? server.address.port : 0
)

/**
 * `Server.layer` as `npm start` runs it (front door, response cache, compression), on an
 * in-memory repository at a free port, configured by `settings` (PORT=0 and the test key set).
 * `logger` gets `collect`, to which it hands every line it writes: the line saying where the
 * server listens starts the test, every other one goes to `onLine`.
 */
export const withListeningServer = <A, E>(
  options: {
    readonly settings?: ReadonlyArray<readonly [string, string]>
    /** Also serves the reader site (`SiteRoutes.layerConfig`), as `AppLive` does. */
    readonly site?: Layer.Layer<never, unknown, PostRepository>
    readonly logger?: (collect: (text: string) => void) => Layer.Layer<never>
    readonly onLine?: (text: string) => void
  },
  test: (base: string) => Effect.Effect<A, E, ResponseCache>
) =>
  Effect.gen(function* () {
    const listening = yield* Deferred.make<string>()
    const collect = (text: string) => {
      const url = /listening on (http:\/\/[^\s"]+)/.exec(text)
      if (url !== null) Deferred.unsafeDone(listening, Exit.succeed(url[1]!))
      else options.onLine?.(text)
    }
    const logger = options.logger?.(collect) ??
      Logger.replace(Logger.defaultLogger, Logger.make((log) => collect(Logger.logfmtLogger.log(log))))
    const config = ConfigProvider.fromMap(new Map([["PORT", "0"], ["INKWELL_API_KEYS", KEY], ...(options.settings ?? [])]))
    const served = options.site === undefined ? Server.layer : Server.layer.pipe(Layer.provide(options.site))
    const server = Layer.merge(served, ResponseCache.layerConfig).pipe(
      Layer.provide(postsWith(MemoryPostRepository.layer)),
      Layer.provide(ApiKeys.layer([KEY])),
      Layer.provide(ImportFeedsLive),
      Layer.provide(logger),
      Layer.provide(Layer.setConfigProvider(config))
    )
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(server, scope)
    const base = yield* Deferred.await(listening)
    return yield* test(base).pipe(Effect.provide(context), Effect.ensuring(Scope.close(scope, Exit.void)))
  })

/**
 * `GET /posts?q=` with one word more than MAX_SEARCH_WORDS is a 400 naming `q` and the limit;
 * with MAX_SEARCH_WORDS words (none in any post, then "compilers") it is searched, and every word
 * must match: nothing found. Either store, through the server under test.
 */
export const assertSearchWordLimit = (maxWords: number) =>
  Effect.gen(function*() {
    const words = Array.from({ length: maxWords }, (_, i) => `w${i}`)
    const refused = yield* get(`/posts?q=${encodeURIComponent([...words, "compilers"].join(" "))}`)
    assert.strictEqual(refused.status, 400)
    const body = yield* json(refused)
    assert.deepStrictEqual(body.issues[0].path, ["q"])
    assert.include(body.message, `at most ${maxWords} different words`)
    const taken = yield* get(`/posts?q=${encodeURIComponent([...words.slice(1), "compilers"].join(" "))}`)
    assert.strictEqual(taken.status, 200, `${maxWords} words are taken`)
    assert.deepStrictEqual((yield* json(taken)).items, [], "and every one of them must match")
  })

