/**
 * The HTTP server: InkwellApi's handlers, `/openapi.json`, `/docs`, the request middleware,
 * and a Node listener that drains in-flight requests on shutdown.
 */
import {
  HttpApi,
  HttpApiBuilder,
  type HttpApiGroup,
  HttpApiSwagger,
  type HttpApp,
  HttpMiddleware,
  HttpRouter,
  HttpServer,
  HttpServerResponse
} from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { type ConfigError, Deferred, Duration, Effect, Exit, FiberRef, FiberSet, Layer, Option, Ref, Scope } from "effect"
import { createServer, type Server } from "node:http"
import type { FeedClient } from "../Clients/FeedClient.js"
import { isLoginRefused, transience } from "../Database/Transient.js"
import { describeFailure } from "../Domain/describeFailure.js"
import type { RepositoryError } from "../Domain/Errors.js"
import * as PostsHttp from "../Posts/Http.js"
import { siteUrlGiven } from "../Site/SiteConfig.js"
import { Posts } from "../Posts/Posts.js"
import { InkwellApi } from "./Api.js"
import type { ExtraRoute } from "./AllowedMethods.js"
import { ApiKeys } from "./ApiKeys.js"
import { NotReady } from "./Errors.js"
import * as HttpConfig from "./HttpConfig.js"
import { type ApiKeyAuth, ApiKeyAuthLive, apiFailures, expectedOutage, requestMiddlewareConfig, routerConfig } from "./Middleware.js"
import { Compression } from "./Compression.js"
import * as FrontDoor from "./FrontDoor.js"
import { ResponseCache } from "./ResponseCache.js"
import { ServerFibers, ServerStopping } from "./ServerStopping.js"
import { SettlingResponse } from "./SettlingResponse.js"

/** For a host app's own `createServer({ ServerResponse: SettlingResponse })` (README "Embedding"). */
export { SettlingResponse }

/** What `apiFailuresLayerWith` takes: a route a host mounts beside the API. */
export type { ExtraRoute }

/**
 * How long `/ready` waits for the database. A database that does not answer at all (a host gone,
 * packets dropped) held the check until REQUEST_TIMEOUT (30 s), past a load balancer's own
 * deadline, and then answered `RequestTimedOut`: an answer it can act on, soon, is the point.
 */
export const READY_TIMEOUT = Duration.seconds(2)

/**
 * What `/ready` says of a failed check: the pool saturated (the database is fine: this process
 * has every connection busy), the database busy, unreachable, refusing the login, or refusing the check. Every one
 * was "the database is not reachable", which sent an operator after a database that was there.
 */
const notReadyMessage = (error: RepositoryError): string => {
  if (error._tag === "PoolTimeout") return `the connection pool is busy: ${error.message}`
  switch (transience(error)) {
    case "unreachable":
      return isLoginRefused(error.cause) ? "the database refused the login" : "the database is not reachable"
    case "busy":
      return "the database is too busy to answer"
    default:
      return "the database refused the check"
  }
}

const systemHandlers = (api: typeof InkwellApi) =>
  HttpApiBuilder.group(api, "system", (handlers) =>
    Effect.gen(function* () {
      const posts = yield* Posts
      /** Whether the last check failed: why is logged when it starts failing, not on every poll. */
      const wasNotReady = yield* Ref.make(false)
      return handlers
        .handle("health", () => Effect.succeed({ status: "ok" as const }))
        .handle("ready", () =>
          posts.ping.pipe(
            Effect.mapError((error) => ({ reason: describeFailure(error), message: notReadyMessage(error) })),
            // The answer does not wait for the check to wind down: a query on a connection that
            // stopped answering took 5 s more to interrupt.
            Effect.disconnect,
            Effect.timeoutFail({
              duration: READY_TIMEOUT,
              onTimeout: () => {
                const message = `the database did not answer within ${Duration.format(READY_TIMEOUT)}`
                return { reason: message, message }
              }
            }),
            Effect.matchEffect({
              onSuccess: () =>
                Effect.flatMap(Ref.getAndSet(wasNotReady, false), (was) =>
                  was ? Effect.logInfo("ready again") : Effect.void).pipe(Effect.as({ status: "ready" as const })),
              // Said once per outage, not on every poll of a load balancer; the request line says each.
              onFailure: ({ message, reason }) =>
                Effect.flatMap(Ref.getAndSet(wasNotReady, true), (was) =>
                  was ? Effect.void : Effect.logWarning(`not ready: ${reason}`)).pipe(
                  Effect.zipRight(FiberRef.set(expectedOutage, true)),
                  Effect.zipRight(Effect.fail(new NotReady({ message })))
                )
            })
          )
        )
    })
  )

/**
 * The Inkwell handlers for `api`: `InkwellApi`, or an embedding app's own `HttpApi` that added
 * any of `SystemApi`, `PostsApi` and `PostsAdminApi` (with `.add`, `.addHttpApi(InkwellApi)`, or
 * under a prefix): a handler for each of those it has, none for those it has not (a read-only
 * mirror leaves out `PostsAdminApi`, a host with a `/health` of its own `SystemApi`). Needs `Posts`
 * (so a `PostRepository` and a `PostProcessor`), `ApiKeys`, and with `PostsAdminApi` the
 * `FeedClient` that `POST /posts/import-url` fetches with (`FeedClient.Server` as `AppLive` has it:
 * it refuses private and loopback addresses unless FEED_ALLOW_PRIVATE; a client built with
 * `FeedClient.layer` takes whatever URL a keyed request names, the host's own network included);
 * fails with a `ConfigError` on a bad IMPORT_* setting.
 * A post a write answers with (`Location`) is where `PostsApi` serves it, under its own prefix.
 */
export const handlersFor = <Id extends string, Groups extends HttpApiGroup.HttpApiGroup.Any, E, R>(
  api: HttpApi.HttpApi<Id, Groups, E, R>
): Layer.Layer<
  HttpApiGroup.HttpApiGroup.ToService<Id, HttpApiGroup.HttpApiGroup.WithName<Groups, "system" | PostsHttp.PostsGroupName>>,
  ConfigError.ConfigError,
  Exclude<PostsHttp.HandlersContext<Groups>, ApiKeyAuth>
> => {
  // The builder reads the groups from `api` at run time; the cast only re-labels the layer with
  // the embedding API's id. Built for an API without the group, it failed the host's layer at start-up.
  const system: Layer.Layer<never, never, Posts> = "system" in api.groups ? systemHandlers(api as unknown as typeof InkwellApi) : Layer.empty
  return Layer.merge(system, PostsHttp.layerFor(api)).pipe(Layer.provide(ApiKeyAuthLive)) as never
}

/** `InkwellApi` with every handler. */
export const ApiLive: Layer.Layer<HttpApi.Api, ConfigError.ConfigError, Posts | ApiKeys | FeedClient> = HttpApiBuilder.api(InkwellApi).pipe(
  Layer.provide(handlersFor(InkwellApi))
)

/** The router's settings (`Middleware.routerConfig`), for an embedding app that builds its own router. */
export { routerConfig }

/**
 * `apiFailures` for the served `HttpApi` (one-line 400 messages, 405 with `Allow`, 204 to
 * OPTIONS), as an API middleware, with `extra` routes mounted beside the API on its router.
 */
export const apiFailuresLayerWith = (extra: ReadonlyArray<ExtraRoute>) =>
  HttpApiBuilder.middleware(Effect.map(HttpApi.Api, ({ api }) => apiFailures(api, extra)))

/** `apiFailuresLayerWith` for the API's endpoints only. An embedding app serving with `HttpApiBuilder.serve` may provide it too. */
export const apiFailuresLayer = apiFailuresLayerWith([])

/** Where `serve` mounts the OpenAPI document and the docs UI. */
export const OPENAPI_PATH = "/openapi.json"
export const DOCS_PATH = "/docs"

/**
 * The document and the UI as the router has them: mounted by `HttpApiBuilder` outside the API
 * definition, so its endpoints cannot say that these paths take GET (and HEAD): a POST there was
 * 404 as if nothing were there.
 */
const DOCUMENTATION_ROUTES: ReadonlyArray<ExtraRoute> = [
  { method: "GET", path: OPENAPI_PATH },
  { method: "GET", path: DOCS_PATH }
]

export interface ServeOptions {
  /**
   * One tracing span per request (the platform's default). Off unless asked for: nothing in
   * Inkwell exports spans, and on the read path a span costs a measurable share of a request.
   */
  readonly requestSpans?: boolean
  /**
   * Every request's fiber is added here while it runs. The Node server runs handlers on fibers
   * of their own and interrupts them without waiting (a cut connection): a shutdown awaits this
   * set, so nothing closes under a handler that is still finishing (an import's last batch).
   * Handlers find it as `ServerFibers`, for work that outlives its request (an import whose
   * client left).
   */
  readonly handlers?: FiberSet.FiberSet<unknown, unknown>
  /**
   * Completed when the server starts shutting down: handlers find it as `ServerStopping` (a bulk
   * import stops and answers), and every answer from then on says `Connection: close`, so no
   * connection lingers, kept alive, past the drain. Needs `handlers`.
   */
  readonly stopping?: Deferred.Deferred<void>
}

/**
 * Adds each request's fiber to `handlers`; once `isStopping()`, answers say `Connection: close`.
 * Both run on every request, so neither is more than a call: `ServerStopping` reaches handlers
 * through the serving layer's context, not one provided per request, and the stopping flag is a
 * boolean, not an Effect (the two as per-request Effects cost ~8% of a full-path request,
 * measured side by side with pair-servers.mjs).
 */
const trackedIn =
  (handlers: FiberSet.FiberSet<unknown, unknown>, isStopping: () => boolean) =>
  <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
    Effect.withFiberRuntime((fiber) => {
      FiberSet.unsafeAdd(handlers, fiber)
      return Effect.map(app, (response) => (isStopping() ? HttpServerResponse.setHeader(response, "connection", "close") : response))
    })

/**
 * Serves `InkwellApi`, `/openapi.json` and `/docs` on whatever `HttpServer` is provided
 * (`NodeHttpServer.layer`, or `NodeHttpServer.layerTest` in tests), through `middleware`.
 * When a `ResponseCache` is in context, public reads are answered from it (inside `middleware`,
 * so they are logged like any request). When a `Compression` is, answers are compressed for
 * clients that accept it (inside `middleware` too: the log line and request id are the same,
 * and outside the cache, which keeps bodies as the handlers made them).
 *
 * Not `HttpApiBuilder.serve(middleware)`: the server writes the response before a middleware
 * passed there sees it, so it could not add headers (request id, Retry-After) or replace a
 * failure's body. Here `middleware` wraps the app itself. The platform's `HttpMiddleware.logger`
 * is deliberately not used: `middleware` logs.
 */
export const serve = (
  middleware: <E, R>(app: HttpApp.Default<E, R>) => HttpApp.Default<never, R>,
  options: ServeOptions = {}
) =>
  Effect.gen(function* () {
    const app = yield* HttpRouter.withRouterConfig(HttpApiBuilder.httpApp, routerConfig)
    const cache = yield* Effect.serviceOption(ResponseCache)
    const compression = yield* Effect.serviceOption(Compression)
    const cached = Option.isSome(cache) ? cache.value.middleware(app) : app
    const handled = middleware(Option.isSome(compression) ? compression.value.middleware(cached) : cached)
    let stopping = false
    if (options.stopping !== undefined) {
      yield* Effect.forkScoped(Effect.andThen(Deferred.await(options.stopping), () => (stopping = true)))
    }
    const tracked = options.handlers === undefined ? handled : trackedIn(options.handlers, () => stopping)(handled)
    // The server runs each request with the context it was started in: handlers find these there.
    const served = HttpServer.serve(tracked).pipe(Layer.provide(Layer.mergeAll(
      options.stopping === undefined ? Layer.empty : Layer.succeed(ServerStopping, options.stopping),
      options.handlers === undefined ? Layer.empty : Layer.succeed(ServerFibers, options.handlers)
    )))
    return options.requestSpans === true ? served : HttpMiddleware.withTracerDisabledWhen(served, () => true)
  }).pipe(
    Layer.unwrapScoped,
    Layer.provide([HttpApiBuilder.Router.Live, HttpApiBuilder.Middleware.layer]),
    Layer.provide(apiFailuresLayerWith(DOCUMENTATION_ROUTES)),
    Layer.provide(HttpApiSwagger.layer({ path: DOCS_PATH })),
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: OPENAPI_PATH })),
    Layer.provide(ApiLive)
  )

/** `serve` with the request middleware configured from the environment (and HTTP_REQUEST_SPANS). */
export const serveConfigWith = (options: Pick<ServeOptions, "handlers" | "stopping"> = {}) =>
  Layer.unwrapEffect(
    Effect.zipWith(requestMiddlewareConfig, HttpConfig.requestSpans, (middleware, requestSpans) =>
      serve(middleware, { ...options, requestSpans }))
  )

/** `serveConfigWith` without tracking the handlers (an embedding app's server drains its own way: `serveDraining` for one serving its own API). */
export const serveConfig = serveConfigWith()

/**
 * Stops accepting, lets in-flight requests finish for up to `grace`, then cuts the remaining
 * connections (which interrupts their handlers) and waits for those handlers to end, for one
 * more grace at most (`handlersEnded`: false when some did not). Runs before the database layers close.
 */
const drain = (server: Server, grace: Duration.Duration, handlers: FiberSet.FiberSet<unknown, unknown>) =>
  Effect.gen(function* () {
    if (!server.listening) return yield* handlersEnded(handlers, grace)
    const closed = yield* Deferred.make<void>()
    server.close(() => Deferred.unsafeDone(closed, Effect.void))
    // Keep-alive connections with no request in flight would otherwise hold `close` open.
    server.closeIdleConnections()
    // A finalizer runs uninterruptibly, and `Effect.timeout` cannot interrupt an uninterruptible
    // effect: it waited for the last request, however long, and the grace never ended anything.
    yield* Deferred.await(closed).pipe(
      Effect.interruptible,
      Effect.timeout(grace),
      Effect.catchTag("TimeoutException", () =>
        Effect.logWarning(`requests still running after ${Duration.format(grace)}: closing their connections`).pipe(
          Effect.zipRight(Effect.sync(() => server.closeAllConnections())),
          Effect.zipRight(Deferred.await(closed))
        )
      )
    )
    // A cut connection only asks its handler to stop: one in an uninterruptible step (a batch
    // being committed) is still running. Closing the database under it would fail that batch.
    return yield* handlersEnded(handlers, grace)
  })

/**
 * Waits for the handlers to end, for at most `grace` more: a commit that never returns (a
 * database that stopped answering mid-statement) held the shutdown for as long as the driver
 * waited, minutes on a dead connection. Past it the shutdown goes on and closes the database:
 * a transaction not yet committed is then rolled back by the database, never half-written.
 */
const handlersEnded = (handlers: FiberSet.FiberSet<unknown, unknown>, grace: Duration.Duration): Effect.Effect<boolean> =>
  FiberSet.awaitEmpty(handlers).pipe(
    Effect.interruptible,
    Effect.timeout(grace),
    Effect.as(true),
    Effect.catchTag("TimeoutException", () =>
      Effect.as(
        Effect.logWarning(
          `a request was still running ${Duration.format(grace)} after its connection was closed (a batch being committed): ` +
            "closing the database without it (a transaction it had not committed is rolled back)"
        ),
        false
      ))
  )

/**
 * A server's shutdown: tells the handlers (`stopping`), drains (`drain`), then closes the
 * handlers' scope, which interrupts what is left and waits for it: for a handler that cannot be
 * interrupted (the drain went on without it), in the background, not here.
 */
const stopServing = (
  server: Server,
  grace: Duration.Duration,
  handlers: FiberSet.FiberSet<unknown, unknown>,
  handlersScope: Scope.CloseableScope,
  stopping: Deferred.Deferred<void>
) =>
  // First, so that bulk imports stop and answer while their connections are still open.
  Deferred.succeed(stopping, undefined).pipe(
    Effect.zipRight(drain(server, grace, handlers)),
    Effect.flatMap((ended) =>
      ended ? Scope.close(handlersScope, Exit.void) : Effect.asVoid(Effect.forkDaemon(Scope.close(handlersScope, Exit.void)))
    )
  )

export interface ServeDrainingOptions {
  /** How long in-flight requests may finish once the layer closes (default: SHUTDOWN_GRACE, 10 seconds). */
  readonly grace?: Duration.DurationInput
  /** The host's middleware, as `HttpApiBuilder.serve(middleware)` takes it. */
  readonly middleware?: (app: HttpApp.Default) => HttpApp.Default
}

/**
 * `HttpApiBuilder.serve()` with the shutdown of Inkwell's own server, for a host that serves its
 * API (Inkwell's groups added) on its own Node `server` (the one its `NodeHttpServer.layer`
 * listens with). When the layer closes: a bulk import in flight stops after its batch and answers
 * its summary (`status: "interrupted"`), every answer says `Connection: close`, the listener stops
 * accepting, in-flight requests have `grace` to finish before their connections are cut, and
 * the handlers have one more grace to end; then the layers it was given (the database) close.
 * With `HttpApiBuilder.serve()` the platform instead interrupted every request at once: a
 * bulk import answered a bare 503 on a kept-alive connection, and while its client kept sending,
 * the shutdown waited for it (seconds, or for ever).
 * Fails with a `ConfigError` on a bad SHUTDOWN_GRACE when `grace` is not given.
 */
export const serveDraining = (
  server: Server,
  options: ServeDrainingOptions = {}
): Layer.Layer<never, ConfigError.ConfigError, HttpServer.HttpServer | HttpRouter.HttpRouter.DefaultServices | HttpApi.Api> =>
  Effect.gen(function* () {
    const grace = options.grace === undefined ? yield* HttpConfig.shutdownGrace : Duration.decode(options.grace)
    // Closed by the drain only, after every handler ended (as `layer`'s).
    const handlersScope = yield* Scope.make()
    const handlers = yield* FiberSet.make<unknown, unknown>().pipe(Effect.provideService(Scope.Scope, handlersScope))
    const stopping = yield* Deferred.make<void>()
    let isStopping = false
    // Inkwell's router settings (a slug's 200 characters), whether or not the host set them.
    const app = yield* HttpRouter.withRouterConfig(HttpApiBuilder.httpApp, routerConfig)
    // Typed as `HttpApiBuilder.serve` has it: the app's services are the server's (DefaultServices).
    const tracked = trackedIn(handlers, () => isStopping)(app) as unknown as HttpApp.Default
    const served = (options.middleware === undefined ? HttpServer.serve(tracked) : HttpServer.serve(tracked, options.middleware)).pipe(
      Layer.provide(Layer.merge(Layer.succeed(ServerStopping, stopping), Layer.succeed(ServerFibers, handlers)))
    )
    // Built after `served`: its finalizer runs first, while the platform still serves the requests it waits for.
    const draining = Layer.scopedDiscard(Effect.addFinalizer(() =>
      Effect.sync(() => {
        isStopping = true
      }).pipe(Effect.zipRight(stopServing(server, grace, handlers, handlersScope, stopping)))
    ))
    return Layer.provide(draining, served)
  }).pipe(
    Layer.unwrapEffect,
    Layer.provide([HttpApiBuilder.Router.Live, HttpApiBuilder.Middleware.layer])
  )

/** How long a client may take to send a request's headers; then Node answers 408 and closes (its default). */
export const HEADERS_TIMEOUT_MS = 60_000

/**
 * The Node server `layer` listens with. Node's `requestTimeout` (300 s by default) is off: it
 * cut any request whose body had not all arrived by then, a bulk import's too, which got a bare
 * 408 and no summary though its posts were committed (and the log said 499). What it bounded is
 * bounded by the app instead: REQUEST_TIMEOUT every other request's body (`Middleware.timeout`)
 * and a bulk import's silence (`Middleware.uploadStream`), IMPORT_TIMEOUT an import. `headersTimeout` is given: left out, Node takes the smaller of its
 * 60 s and `requestTimeout`, 0, which would let a client take forever over its headers.
 * `SettlingResponse` settles answers to clients that left.
 */
export const createNodeServer = (): Server =>
  createServer({ ServerResponse: SettlingResponse, requestTimeout: 0, headersTimeout: HEADERS_TIMEOUT_MS })

const urlOf = (host: string, port: number) => `http://${host.includes(":") ? `[${host}]` : host}:${port}`

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"])

/**
 * Why SITE_URL's default is wrong for a server listening at `host`:`port`, if it is: every
 * absolute link (feeds, sitemap, canonical and Open Graph links) points at http://localhost:3000,
 * which readers elsewhere, or on another port, never reach; nothing else would say so.
 */
export const siteUrlWarning = (siteUrlSet: boolean, host: string, port: number): string | undefined =>
  siteUrlSet || (LOOPBACK.has(host) && port === 3000)
    ? undefined
    : `SITE_URL is not set: feeds, the sitemap and canonical links point at http://localhost:3000, not at this server (${urlOf(host, port)}); set SITE_URL to the blog's public URL`

/**
 * The whole HTTP side on a Node server: listens on HOST:PORT, logs the URL, drains on shutdown,
 * answers public reads from a `ResponseCache` (RESPONSE_CACHE_*), compresses for clients that
 * accept it (HTTP_COMPRESSION*). Needs `Posts` and `ApiKeys`;
 * uses `PostChanges` and `DatabasePool` for cache invalidation when they are provided too.
 */
export const layer = Layer.unwrapEffect(
  Effect.gen(function* () {
    const config = yield* HttpConfig.ServerConfig
    const server = createNodeServer()
    const listening = NodeHttpServer.layer(() => server, { port: config.port, host: config.host })
    // Closed by the drain only, after every handler ended; never closed first, which would
    // interrupt the requests the drain is waiting for.
    const handlersScope = yield* Scope.make()
    const handlers = yield* FiberSet.make<unknown, unknown>().pipe(Effect.provideService(Scope.Scope, handlersScope))
    // The response cache lives as long as the server; it follows PostChanges / the pool when present.
    const stopping = yield* Deferred.make<void>()
    const serving = serveConfigWith({ handlers, stopping }).pipe(
      Layer.provide(listening),
      Layer.provideMerge(Layer.merge(ResponseCache.layerConfig, Compression.layerConfig))
    )
    // Built after `serving`, so its finalizer runs before the listener's and the database's.
    const announced = Layer.scopedDiscard(
      Effect.gen(function* () {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : config.port
        // After the Effect server registered its listener: cached reads are answered before it.
        yield* FrontDoor.install(server, yield* ResponseCache, yield* Compression)
        yield* Effect.log(`Inkwell listening on ${urlOf(config.host, port)} (API docs at /docs)`)
        const warning = siteUrlWarning(yield* Effect.orElseSucceed(siteUrlGiven, () => false), config.host, port)
        if (warning !== undefined) yield* Effect.logWarning(warning)
        yield* Effect.addFinalizer(() =>
          Effect.log("Inkwell stopping").pipe(Effect.zipRight(stopServing(server, config.shutdownGrace, handlers, handlersScope, stopping)))
        )
      })
    )
    return announced.pipe(Layer.provide(serving))
  })
)
