/**
 * The request pipeline, in ONE place (`requestMiddleware`), outermost first:
 *
 *   logRequests   one line per request (also for 401s, 404s, timeouts and defects); request id;
 *                 turns unexpected failures into a bare 500; Retry-After on every 503
 *   limitBody     413 before the body is read when Content-Length is over MAX_BODY_SIZE
 *   timeout       interrupts the request's fiber after REQUEST_TIMEOUT (logRequests answers 503)
 *   (router)      HttpApi routing, then per group: ApiKeyAuth (writes only), then the handler
 *
 * ApiKeyAuth is an HttpApiMiddleware declared on the write group in src/Posts/Api.ts, so it
 * runs after routing and before the handler, and appears in the OpenAPI document.
 */
import {
  HttpApiMiddleware,
  HttpApiSecurity,
  HttpIncomingMessage,
  HttpServerError,
  HttpServerRequest,
  HttpServerResponse,
  OpenApi,
  type HttpApp
} from "@effect/platform"
import { Cause, Context, Duration, Effect, FiberId, HashSet, Layer, LogLevel, Option, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { ApiKeys, refusal } from "./ApiKeys.js"
import { BadRequest, InternalServerError, PayloadTooLarge, RequestTimedOut, Unauthorized } from "./Errors.js"
import * as HttpConfig from "./HttpConfig.js"

// ---------------------------------------------------------------------------------------------
// API-key authentication (an HttpApiMiddleware, so OpenAPI lists it as a security scheme)
// ---------------------------------------------------------------------------------------------

/** Header names are lowercase: the platform looks them up in Node's lowercased headers. */
export const apiKeyHeader = HttpApiSecurity.apiKey({ key: "x-api-key", in: "header" }).pipe(
  HttpApiSecurity.annotate(OpenApi.Description, "An API key from INKWELL_API_KEYS")
)
export const bearer = HttpApiSecurity.bearer.pipe(
  HttpApiSecurity.annotate(OpenApi.Description, "The same API key, as Authorization: Bearer <key>")
)

export class ApiKeyAuth extends HttpApiMiddleware.Tag<ApiKeyAuth>()("Inkwell/ApiKeyAuth", {
  failure: Unauthorized,
  security: { apiKey: apiKeyHeader, bearer }
}) {}

/**
 * The platform tries `apiKey`, then `bearer` when that fails; the answer is `bearer`'s. So the
 * bearer handler judges the whole request (both headers), and a wrong X-API-Key is reported as
 * wrong rather than as a missing bearer token.
 */
export const ApiKeyAuthLive: Layer.Layer<ApiKeyAuth, never, ApiKeys> = Layer.effect(
  ApiKeyAuth,
  Effect.map(ApiKeys, (keys) =>
    ApiKeyAuth.of({
      apiKey: (key) => {
        const verdict = keys.check(key)
        return verdict === "valid" ? Effect.void : Effect.fail(new Unauthorized({ message: refusal(verdict) }))
      },
      bearer: () =>
        Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
          const verdict = keys.fromHeaders(request.headers)
          return verdict === "valid" ? Effect.void : Effect.fail(new Unauthorized({ message: refusal(verdict) }))
        })
    })
  )
)

// ---------------------------------------------------------------------------------------------
// HttpApp middleware
// ---------------------------------------------------------------------------------------------

export interface MiddlewareOptions {
  readonly requestTimeout: Duration.DurationInput
  readonly maxBodySize: number
  readonly retryAfterSeconds: number
}

/** Every middleware, in order. The only place the order is decided. */
export const requestMiddleware =
  (options: MiddlewareOptions) =>
  <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<never, R> =>
    logRequests(options)(limitBody(options)(timeout(options)(app)))

/** `requestMiddleware` with options from the environment (REQUEST_TIMEOUT, MAX_BODY_SIZE, RETRY_AFTER). */
export const requestMiddlewareConfig = Effect.map(HttpConfig.MiddlewareConfig, requestMiddleware)

const encodeJson = <A, I>(schema: Schema.Schema<A, I>, value: A, status: number) =>
  HttpServerResponse.unsafeJson(Schema.encodeSync(schema)(value), { status })

/** Accepted as given when it is short and harmless in a log line; otherwise replaced. */
const VALID_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/

/** The client's `X-Request-Id` when it is a plain token, else a fresh UUID. */
export const requestIdFrom = (given: string | undefined): string =>
  given !== undefined && VALID_REQUEST_ID.test(given) ? given : randomUUID()

const requestIdOf = (request: HttpServerRequest.HttpServerRequest): string => requestIdFrom(request.headers["x-request-id"])

/** The path without the query string: a query may carry things that do not belong in logs. */
export const pathOf = (url: string): string => {
  const query = url.indexOf("?")
  return query === -1 ? url : url.slice(0, query)
}

const isBodyTooLarge = (error: HttpServerError.RequestError): boolean =>
  error.cause instanceof Error && error.cause.message === "maxBytes exceeded"

/** A failure that no endpoint turned into a typed answer: routing misses, unreadable bodies, defects. */
const failureResponse = (
  cause: Cause.Cause<unknown>,
  request: HttpServerRequest.HttpServerRequest,
  requestId: string,
  maxBodySize: number
): HttpServerResponse.HttpServerResponse => {
  const error = Cause.squash(cause)
  if (error instanceof HttpServerError.RouteNotFound) {
    return HttpServerResponse.unsafeJson(
      { _tag: "RouteNotFound", message: `no route for ${request.method} ${pathOf(request.url)}` },
      { status: 404 }
    )
  }
  if (error instanceof HttpServerError.RequestError && error.reason === "Decode") {
    return isBodyTooLarge(error)
      ? encodeJson(PayloadTooLarge, tooLarge(maxBodySize), 413)
      : encodeJson(BadRequest, new BadRequest({ message: "the request body could not be read as its Content-Type says" }), 400)
  }
  const [response] = HttpServerError.causeResponseStripped(cause)
  return response.status >= 500
    ? encodeJson(
        InternalServerError,
        new InternalServerError({ message: "internal server error", requestId }),
        500
      )
    : response
}

/**
 * One log line per request: method, path, status, durationMs, requestId; ERROR for 5xx (with the
 * cause), INFO otherwise. Headers are never logged, so neither is a key.
 *
 * Kept cheap on purpose (it runs on every request): one `annotateLogs`, no spans, no extra fibers.
 */
export const logRequests =
  (options: MiddlewareOptions) =>
  <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<never, R> => {
    const retryAfter = String(options.retryAfterSeconds)
    const timedOut = `the request took longer than ${Duration.format(Duration.decode(options.requestTimeout))} and was cancelled`
    return Effect.withFiberRuntime((fiber) => {
      const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
      const started = performance.now()
      const requestId = requestIdOf(request)
      return Effect.flatMap(Effect.exit(app), (exit) => {
        let response: HttpServerResponse.HttpServerResponse
        let failure: Cause.Cause<unknown> | undefined
        if (exit._tag === "Success") {
          response = exit.value
        } else if (Cause.isInterruptedOnly(exit.cause) && HashSet.has(Cause.interruptors(exit.cause), timeoutFiberId)) {
          response = encodeJson(RequestTimedOut, new RequestTimedOut({ message: timedOut }), 503)
        } else if (Cause.isInterruptedOnly(exit.cause)) {
          // The client went away (or the server is stopping): nobody to answer; 499 as nginx logs it.
          // An interruption-only cause holds no `E`.
          const interrupted = Effect.failCause(exit.cause as Cause.Cause<never>)
          return Effect.zipRight(line(request, 499, started, requestId, LogLevel.Info), interrupted)
        } else {
          response = failureResponse(exit.cause, request, requestId, options.maxBodySize)
          failure = exit.cause
        }
        const status = response.status
        let headers: Record<string, string> = { "x-request-id": requestId }
        if (status === 503 && response.headers["retry-after"] === undefined) {
          headers = { ...headers, "retry-after": retryAfter }
        }
        response = HttpServerResponse.setHeaders(response, headers)
        const level = status >= 500 ? LogLevel.Error : LogLevel.Info
        return Effect.as(
          line(request, status, started, requestId, level, status >= 500 ? failure : undefined),
          response
        )
      })
    })
  }

const line = (
  request: HttpServerRequest.HttpServerRequest,
  status: number,
  started: number,
  requestId: string,
  level: LogLevel.LogLevel,
  cause?: Cause.Cause<unknown>
) => {
  const path = pathOf(request.url)
  const log =
    cause === undefined
      ? Effect.logWithLevel(level, `${request.method} ${path} ${status}`)
      : Effect.logWithLevel(level, `${request.method} ${path} ${status}`, cause)
  return Effect.annotateLogs(log, {
    method: request.method,
    path,
    status,
    durationMs: Math.round((performance.now() - started) * 100) / 100,
    requestId
  })
}

const tooLarge = (limit: number) =>
  new PayloadTooLarge({ message: `the request body is larger than the limit of ${limit} bytes`, limit })

const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH", "DELETE"])

/**
 * Bulk imports stream their body through bounded queues (memory does not grow with it) and may
 * run for minutes; they have their own limits (IMPORT_MAX_POST_BYTES per line, IMPORT_TIMEOUT for
 * the run), so neither MAX_BODY_SIZE nor REQUEST_TIMEOUT applies to them. Suffix match, so a
 * host app mounting the API under a prefix keeps the exemption.
 */
const isBulkImport = (request: HttpServerRequest.HttpServerRequest, includeUrlImport: boolean): boolean => {
  if (request.method !== "POST") return false
  const path = pathOf(request.url)
  return path.endsWith("/posts/import") || (includeUrlImport && path.endsWith("/posts/import-url"))
}

/**
 * Refuses a declared oversized body with 413 before reading it, and caps what is read from any
 * other body (chunked uploads) at the same size.
 *
 * The platform's own cap (`HttpIncomingMessage.MaxBodySize`) destroys the request stream when it
 * trips, which resets the connection instead of answering; the Content-Length check is what
 * makes the common case a proper 413.
 */
export const limitBody =
  (options: Pick<MiddlewareOptions, "maxBodySize">) =>
  <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> => {
    const limit = Option.some(options.maxBodySize)
    return Effect.withFiberRuntime((fiber) => {
      const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
      if (!METHODS_WITH_BODY.has(request.method) || isBulkImport(request, false)) return app
      const declared = request.headers["content-length"]
      if (declared !== undefined && Number(declared) > options.maxBodySize) {
        return Effect.succeed(
          HttpServerResponse.setHeader(
            encodeJson(PayloadTooLarge, tooLarge(options.maxBodySize), 413),
            // The unread body is still on the wire: close rather than try to skip it.
            "connection",
            "close"
          )
        )
      }
      return HttpIncomingMessage.withMaxBodySize(app, limit)
    })
  }

/** Interrupts a request whose time is up, so the request logger can tell it from a client abort. */
export const timeoutFiberId = FiberId.make(-408, 0)

/**
 * Interrupts the request's fiber (and so the handler, and any database call it is waiting on)
 * after `requestTimeout`; `logRequests` answers such a request 503.
 *
 * One timer per request, no extra fibers: `Effect.timeout` would fork two fibers per request,
 * which costs a measurable share of throughput on a cheap endpoint. The interruption is the
 * same mechanism the Node server uses when a client disconnects.
 */
export const timeout =
  (options: Pick<MiddlewareOptions, "requestTimeout">) =>
  <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> => {
    const millis = Duration.toMillis(Duration.decode(options.requestTimeout))
    return Effect.withFiberRuntime((fiber) => {
      const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
      if (isBulkImport(request, true)) return app
      const timer = setTimeout(() => fiber.unsafeInterruptAsFork(timeoutFiberId), millis)
      return Effect.ensuring(app, Effect.sync(() => clearTimeout(timer)))
    })
  }
