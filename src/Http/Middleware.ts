/**
 * The request pipeline, in ONE place (`requestMiddleware`), outermost first:
 *
 *   logRequests   one line per request (also for 401s, 404s, timeouts and defects); request id;
 *                 turns unexpected failures into a bare 500; Retry-After on every 503,
 *                 WWW-Authenticate on every 401; Vary (and Cache-Control: private with a key)
 *                 on reads that set no caching of their own
 *   limitBody     413 when the body is over MAX_BODY_SIZE (declared: when it is to be read, without
 *                 reading it, so a write without a key is 401 first; chunked: as read)
 *   strictUtf8    400 when a text body (JSON, text/*) is not valid UTF-8, naming the byte offset (as read)
 *   timeout       interrupts the request's fiber after REQUEST_TIMEOUT (logRequests answers 503);
 *                 closes the connection of a body still arriving then
 *   (router)      HttpApi routing, then per group: ApiKeyAuth (writes only), then the handler
 *
 * ApiKeyAuth is an HttpApiMiddleware declared on the write group in src/Posts/Api.ts, so it
 * runs after routing and before the handler, and appears in the OpenAPI document. Nothing may
 * answer a write before it: an endpoint's own HttpApiMiddleware would (the platform runs it
 * outside the group's), so checks of a write's body (its Content-Type, 415) are in the handler.
 */
import {
  type Headers,
  type HttpApi,
  HttpApiError,
  HttpApiMiddleware,
  HttpApiSecurity,
  HttpIncomingMessage,
  HttpServerError,
  HttpServerRequest,
  HttpServerResponse,
  OpenApi,
  type HttpApp
} from "@effect/platform"
import {
  Cause,
  Context,
  Data,
  Duration,
  Effect,
  type Fiber,
  FiberId,
  FiberRef,
  HashMap,
  HashSet,
  Layer,
  List,
  type Logger,
  LogLevel,
  Option,
  Schema,
  Stream,
  Tracer
} from "effect"
import { NodeStream } from "@effect/platform-node"
import { randomUUID } from "node:crypto"
import { IncomingMessage, ServerResponse } from "node:http"
import { Readable, Transform, type TransformCallback } from "node:stream"
import { ApiKeys, refusal } from "./ApiKeys.js"
import { allowedMethodsOf, type ExtraRoute } from "./AllowedMethods.js"
import {
  BadRequest,
  decodeError,
  InternalServerError,
  MethodNotAllowed,
  PayloadTooLarge,
  RequestTimedOut,
  RouteNotFound,
  Unauthorized
} from "./Errors.js"
import { briefly, unknownNameMessage } from "../Domain/decodeIssues.js"
import { utf8Checker } from "../Domain/utf8.js"
import { MAX_TIMER_DURATION } from "../Config.js"
import * as HttpConfig from "./HttpConfig.js"
import { directRequestLog, elapsedMs, type RequestLog } from "./Logging.js"

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
// HttpApi-level middleware (inside the API's error encoding)
// ---------------------------------------------------------------------------------------------

/**
 * Route misses and 400s answered better than the platform does, registered with
 * `HttpApiBuilder.middleware` (Server.serve), so it runs inside the API's error encoding:
 *
 *   - a 400 `HttpApiDecodeError` gets a one-line `message` made of its issues
 *     (`limit: expected ..., got "abc"`) instead of the whole schema drawn as a tree;
 *   - `OPTIONS` on a path the API serves (RFC 9110 §9.3.7) is 204 with `Allow`, and
 *     `OPTIONS *` (the server as a whole) lists every method some path takes;
 *   - a route miss on a path the API serves with other methods (`DELETE /posts`) is 405
 *     `MethodNotAllowed` with `Allow`; any other miss stays 404.
 *
 * `Allow` is read off `api`'s endpoints, and `extra`: routes mounted beside the API on the same
 * router (`/openapi.json`, `/docs`), which its endpoints do not list.
 *
 * All are failures: on a request that succeeds this is one catch frame, and the path is
 * matched against the endpoints only after the router found no route. Neither answer reaches a
 * handler, so neither writes anything (the response cache keeps its entries: ResponseCache).
 */
export const apiFailures = (api: HttpApi.HttpApi.Any, extra: ReadonlyArray<ExtraRoute> = []) => {
  const allowedAt = allowedMethodsOf(api, extra)
  return <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
    Effect.catchIf(
      app,
      (error): error is E => error instanceof HttpApiError.HttpApiDecodeError || error instanceof HttpServerError.RouteNotFound,
      (error: unknown) => {
        if (error instanceof HttpApiError.HttpApiDecodeError) {
          return Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
            const query = queryNamesOf(request.url)
            // An unknown name the query carries is a parameter (`?dry-run=`), not a body's field.
            const isParameter = (name: PropertyKey | undefined) => typeof name === "string" && query.has(name)
            // A query's 400 names every parameter at fault at once, those that do not
            // percent-decode too (the handler names them when nothing else is wrong).
            const issues = error.issues.some((issue) => isParameter(issue.path[0])) ? withQueryEscapes(request.url, error.issues) : error.issues
            return decodeError(issues, isParameter)
          }).pipe(Effect.flatMap((refusal) => Effect.fail(refusal as E)))
        }
        const request = (error as HttpServerError.RouteNotFound).request
        const path = pathOf(request.url)
        // `*` is a target for OPTIONS only (RFC 9112 §3.2.4): any other method there stays a miss.
        // Allowed by the path as the router read it (`/posts;v=1` is `/posts`), named as sent.
        const allowed = path === "*" && request.method !== "OPTIONS" ? [] : allowedAt(routedPath(request.url))
        return Option.match(methodAnswer(request.method, path, allowed), {
          onNone: () => Effect.fail(error as E),
          onSome: Effect.succeed
        })
      }
    )
}

/**
 * The answer to a route miss for `method` at `path`, where `allowed` are the methods served
 * there (`allowedMethodsOf`): 204 with `Allow` to OPTIONS, 405 `MethodNotAllowed` with `Allow`
 * to a method not among them; none when nothing is served there, or the method is (a miss all
 * the same: 404). Shared by the API's `apiFailures` and the reader site's catch-all, so their
 * answers agree.
 */
export const methodAnswer = (
  method: string,
  path: string,
  allowed: ReadonlyArray<string>
): Option.Option<HttpServerResponse.HttpServerResponse> => {
  if (allowed.length === 0) return Option.none()
  const allow = allowed.join(", ")
  if (method === "OPTIONS") return Option.some(HttpServerResponse.empty({ status: 204, headers: { allow } }))
  if (allowed.includes(method)) return Option.none()
  const message = methodNotAllowedMessage(method, path, allowed)
  return Option.some(HttpServerResponse.setHeader(encodeJson(MethodNotAllowed, new MethodNotAllowed({ message }), 405), "allow", allow))
}

/** What a 405 says in JSON (the reader site's page says it in the site's language: `Strings.notAMethodOf`). */
export const methodNotAllowedMessage = (method: string, path: string, allowed: ReadonlyArray<string>): string =>
  `${method} is not a method of ${path}: it takes ${allowed.join(", ")}`

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
    logRequests(options)(limitBody(options)(strictUtf8(timeout(options)(app))))

/** `requestMiddleware` with options from the environment (REQUEST_TIMEOUT, MAX_BODY_SIZE, RETRY_AFTER). */
export const requestMiddlewareConfig = Effect.map(HttpConfig.MiddlewareConfig, requestMiddleware)

/** `value` as `schema` encodes it, a JSON answer with `status`. */
export const encodeJson = <A, I>(schema: Schema.Schema<A, I>, value: A, status: number) =>
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

/**
 * The router's settings. Its default caps a path parameter at 100 characters (404 beyond),
 * while a slug may have 200 (`Slug`): a post with a long title was stored and then unreachable.
 * Case-sensitive, as URLs are (RFC 3986 §6.2.2.1): by default the router ignored case, so every
 * page had duplicate URLs (`/POSTS`, `/P/race`, `/RSS.XML`), and the path checks outside it (the
 * body limit's bulk-import exemption, the response cache's keys) compare as written, so
 * `POST /POSTS/IMPORT` was an import under MAX_BODY_SIZE and REQUEST_TIMEOUT. `AllowedMethods`
 * matches paths the same way.
 * An embedding app that builds its own router applies the same (`HttpRouter.withRouterConfig`), as
 * the reader site does for the router it answers SITE_URL's path with (Site/Routes.ts).
 */
export const routerConfig = { maxParamLength: 1024, caseSensitive: true } as const

/** What the router reduces an absolute-form request target (`GET http://host/posts HTTP/1.1`) to. */
const ABSOLUTE_FORM = /^https?:\/\/.*?\//

/**
 * The path of `url` as the router matches it (find-my-way, as `HttpRouter` runs it with
 * `routerConfig`): an absolute-form target reduced to its path, repeated slashes
 * collapsed, cut at the first `?`, `;` or `#` (the router reads what follows a `;` as the query:
 * `/posts/x;v=1` is post `x`), and a trailing slash dropped. Still percent-encoded. Checks made
 * outside the router that go by the path read it through this: read as sent, `POST
 * /posts/import/` and `/posts/import;v=1` were the import, yet under MAX_BODY_SIZE and
 * REQUEST_TIMEOUT, and `PUT /posts/x;` wrote post `x` while the response cache dropped `x;`.
 */
export const routedPath = (url: string): string => {
  let path = url.charCodeAt(0) === 47 /* "/" */ ? url : url.replace(ABSOLUTE_FORM, "/")
  const cut = path.search(/[?;#]/)
  if (cut !== -1) path = path.slice(0, cut)
  if (path.includes("//")) path = path.replace(/\/\/+/g, "/")
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path
}

/** One parameter of a query, as sent: its name and value still percent-encoded (`+` a space). */
export interface QueryPair {
  readonly name: string
  readonly value: string
}

/**
 * `url`'s query as the router reads it (find-my-way's parser): what follows the first `?`, `;`
 * or `#` of the path (see `routedPath`), in `&`-separated pairs, a pair without `=` a name
 * without a value; empty pairs are none. Not percent-decoded: the router decodes what decodes and
 * keeps the rest as sent.
 */
export const queryPairsOf = (url: string): ReadonlyArray<QueryPair> => {
  const target = url.charCodeAt(0) === 47 /* "/" */ ? url : url.replace(ABSOLUTE_FORM, "/")
  const start = target.slice(1).search(/[?;#]/)
  if (start === -1) return []
  const pairs: Array<QueryPair> = []
  for (const pair of target.slice(start + 2).split("&")) {
    if (pair === "") continue
    const equals = pair.indexOf("=")
    const [name, value] = equals === -1 ? [pair, ""] : [pair.slice(0, equals), pair.slice(equals + 1)]
    pairs.push({ name: name.replace(/\+/g, " "), value: value.replace(/\+/g, " ") })
  }
  return pairs
}

/** `text` percent-decoded, or `undefined` when it does not decode (`%ZZ`, a cut UTF-8 sequence). */
export const percentDecoded = (text: string): string | undefined => {
  try {
    return decodeURIComponent(text)
  } catch {
    return undefined
  }
}

const ESCAPE = /%([\dA-Fa-f]{2})/g

const UNRESERVED = /^[A-Za-z\d\-._~]$/

/**
 * `path` (no query) with its escapes as a URL's one spelling writes them (RFC 3986 §6.2.2): an
 * unreserved character (letters, digits, `-._~`) as itself, any other in upper-case hex, as
 * `encodeURIComponent`, and so every link the site makes, writes it. `/p/%6Fne` is `/p/one`,
 * `/p/caf%c3%a9` is `/p/caf%C3%A9`; reserved characters (`%2F`, `%3F`) and non-ASCII stay
 * escaped, as they must. The router decodes every escape, so each spelling found the same page.
 * A segment that would become `.` or `..` keeps its escapes (in upper case): written plainly, a
 * client resolves it as a step up the path before asking, and it would name another page.
 */
export const normalEscapes = (path: string): string => {
  if (!path.includes("%")) return path
  return path.split("/").map((segment) => {
    if (!segment.includes("%")) return segment
    let decodedAny = false
    const normal = segment.replace(ESCAPE, (_, hex: string) => {
      const character = String.fromCharCode(Number.parseInt(hex, 16))
      if (!UNRESERVED.test(character)) return `%${hex.toUpperCase()}`
      decodedAny = true
      return character
    })
    return decodedAny && (normal === "." || normal === "..") ? segment.replace(ESCAPE, (_, hex: string) => `%${hex.toUpperCase()}`) : normal
  }).join("/")
}

/**
 * An issue for each parameter of `url`'s query whose name or value does not percent-decode
 * (`?tag=%ZZ`, a cut UTF-8 sequence), at its name. The router keeps such text as sent: `%ZZ` was
 * looked up as a tag (200, an empty page) where the same in the path is a 400. For the endpoints
 * that read their query (`Posts/Http.ts`); others ignore it, and so whatever it holds.
 */
export const queryEscapeIssues = (url: string): Array<HttpApiError.HttpApiDecodeError["issues"][number]> => {
  const issues: Array<HttpApiError.HttpApiDecodeError["issues"][number]> = []
  // Nothing to decode: no issue, at the cost of one scan.
  if (!url.includes("%")) return issues
  for (const { name, value } of queryPairsOf(url)) {
    const decoded = percentDecoded(name)
    const got = decoded === undefined ? `the name ${briefly(name)}` : percentDecoded(value) === undefined ? briefly(value) : undefined
    if (got !== undefined) issues.push({ _tag: "Type", path: [decoded ?? name], message: `expected percent-encoded UTF-8, got ${got}` })
  }
  return issues
}

/** The names of `url`'s query parameters, as the router decodes them (one that does not decode as sent). */
const queryNamesOf = (url: string): ReadonlySet<string> =>
  new Set(queryPairsOf(url).map(({ name }) => percentDecoded(name) ?? name))

/**
 * `issues` of `url`'s query with its parameters that do not percent-decode (`queryEscapeIssues`)
 * named first, in place of any other issue at the same name: a query's 400 names every parameter
 * at fault at once, each once.
 */
export const withQueryEscapes = (
  url: string,
  issues: ReadonlyArray<HttpApiError.HttpApiDecodeError["issues"][number]>
): Array<HttpApiError.HttpApiDecodeError["issues"][number]> => {
  const escapes = queryEscapeIssues(url)
  const undecodable = new Set(escapes.map((issue) => issue.path[0]))
  return [...escapes, ...issues.filter((issue) => !undecodable.has(issue.path[0]))]
}

/**
 * An issue at each parameter of `url`'s query, for an endpoint that takes none (`GET /tags`): as
 * a schema of parameters (`ListParams`) refuses one it does not take, worded by the same
 * `unknownNameMessage`, with those that do not percent-decode said so (`withQueryEscapes`). Not a
 * schema of no parameters: an empty `Schema.Struct` lets every key through, and the typed client
 * would then ask every call for `urlParams: {}`.
 */
export const parameterlessQueryIssues = (url: string): Array<HttpApiError.HttpApiDecodeError["issues"][number]> => {
  const names = queryNamesOf(url)
  if (names.size === 0) return []
  return withQueryEscapes(url, Array.from(names, (name) => ({ _tag: "Unexpected" as const, path: [name], message: unknownNameMessage("parameter", name, []) })))
}

const isBodyTooLarge = (error: HttpServerError.RequestError): boolean =>
  error.cause instanceof Error && error.cause.message === MAX_BYTES_EXCEEDED

/**
 * The path of `url`, percent-decoded as the router decodes its parameters; `undefined` when it
 * does not decode (`%ZZ`, a cut UTF-8 sequence).
 */
export const decodedPath = (url: string): string | undefined => percentDecoded(pathOf(url))

/** A failure that no endpoint turned into a typed answer: routing misses, unreadable bodies, defects. */
const failureResponse = (
  cause: Cause.Cause<unknown>,
  request: HttpServerRequest.HttpServerRequest,
  requestId: string,
  maxBodySize: number
): HttpServerResponse.HttpServerResponse => {
  const error = Cause.squash(cause)
  if (error instanceof HttpServerError.RouteNotFound) {
    // The router matches decoded paths: one that does not decode (`%ZZ`, a cut UTF-8 sequence)
    // matched nothing, but the request is at fault, not the URL's existence.
    if (decodedPath(request.url) === undefined) {
      return encodeJson(
        BadRequest,
        new BadRequest({ message: `the path ${pathOf(request.url)} is not percent-encoded UTF-8` }),
        400
      )
    }
    return encodeJson(RouteNotFound, new RouteNotFound({ message: `no route for ${request.method} ${pathOf(request.url)}` }), 404)
  }
  if (error instanceof HttpServerError.RequestError && error.reason === "Decode") {
    if (isBodyTooLarge(error)) return encodeJson(PayloadTooLarge, tooLarge(maxBodySize), 413)
    // JSON.parse says where the body stops being JSON ("... at position 26"): the client's
    // own bytes, and the one thing that makes the 400 fixable.
    const message = error.cause instanceof InvalidUtf8Body
      ? error.cause.message
      : error.cause instanceof SyntaxError
      ? `the request body is not valid JSON: ${error.cause.message}`
      : "the request body could not be read as its Content-Type says"
    return encodeJson(BadRequest, new BadRequest({ message }), 400)
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
 * Set by a handler whose 5xx answer reports a known state rather than a fault: `/ready` while the
 * database is away. A load balancer polls it every few seconds, and each poll's ERROR line
 * flooded the error log for as long as an outage lasted; its request line is a WARN instead.
 */
export const expectedOutage: FiberRef.FiberRef<boolean> = FiberRef.unsafeMake(false)

/**
 * One log line per request: method, path, status, durationMs, requestId; ERROR for 5xx (with the
 * cause; WARN when the handler said `expectedOutage`), INFO otherwise. Headers are never logged, so neither is a key.
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
          // A body still arriving at the deadline is not waited for: the connection closes after the answer.
          if (bodyArriving(request)) response = HttpServerResponse.setHeader(response, "connection", "close")
        } else if (Cause.isInterruptedOnly(exit.cause)) {
          // The client went away (or the server is stopping): nobody to answer; 499 as nginx logs it.
          // An interruption-only cause holds no `E`.
          const interrupted = Effect.failCause(exit.cause as Cause.Cause<never>)
          return Effect.zipRight(line(fiber, request, 499, started, requestId, LogLevel.Info), interrupted)
        } else {
          response = failureResponse(exit.cause, request, requestId, options.maxBodySize)
          failure = exit.cause
        }
        const status = response.status
        let headers: Record<string, string> = { "x-request-id": requestId }
        if (status === 503 && response.headers["retry-after"] === undefined) {
          headers = { ...headers, "retry-after": retryAfter }
        }
        // A read's answer depends on its key (drafts), and X-API-Key is not a header shared caches
        // know to keep apart (RFC 9111 §3.5 covers Authorization only): an answer that set no
        // caching of its own says so, and one made for a key is for that client only.
        if ((request.method === "GET" || request.method === "HEAD") && response.headers["cache-control"] === undefined) {
          headers = { ...headers, vary: varyOn(response.headers["vary"]) }
          if (carriesCredentials(request.headers)) {
            headers = { ...headers, "cache-control": "private" }
          }
        }
        // RFC 9110 §11.6.1: a 401 MUST say how to authenticate (ApiKeyAuth's bearer scheme).
        if (status === 401 && response.headers["www-authenticate"] === undefined) {
          headers = { ...headers, "www-authenticate": WWW_AUTHENTICATE }
        }
        response = HttpServerResponse.setHeaders(response, headers)
        const level = status < 500 ? LogLevel.Info : fiber.getFiberRef(expectedOutage) ? LogLevel.Warning : LogLevel.Error
        return Effect.as(
          line(fiber, request, status, started, requestId, level, status >= 500 ? failure : undefined),
          response
        )
      })
    })
  }

/** `vary` with the credential headers added. */
const varyOn = (vary: string | undefined): string =>
  vary === undefined || vary.trim() === "" ? CREDENTIAL_HEADERS : `${vary}, ${CREDENTIAL_HEADERS}`
/** What a public read's answer varies on; the front door sends it with its cached answers too. */
export const CREDENTIAL_HEADERS = "x-api-key, authorization"

/** Whether a request sent a key (valid or not): its answer is then for that client only (`private`). */
export const carriesCredentials = (headers: Headers.Headers): boolean =>
  headers["x-api-key"] !== undefined || headers["authorization"] !== undefined

/** The challenge every 401 carries: the API key as a bearer token (X-API-Key works too). */
const WWW_AUTHENTICATE = 'Bearer realm="inkwell"'

let lastLoggers: HashSet.HashSet<Logger.Logger<unknown, unknown>> | undefined
let lastDirect: RequestLog | undefined

/**
 * The buffered production logger's direct writer, when this fiber logs only through it, with no
 * annotations, log spans or tracing span of its own (what the generic path would add to the
 * line); else `undefined`.
 */
const directLogOf = (fiber: Fiber.RuntimeFiber<unknown, unknown>): RequestLog | undefined => {
  const loggers = fiber.getFiberRef(FiberRef.currentLoggers)
  if (loggers !== lastLoggers) {
    lastLoggers = loggers
    lastDirect = directRequestLog(loggers)
  }
  if (lastDirect === undefined) return undefined
  if (HashMap.size(fiber.getFiberRef(FiberRef.currentLogAnnotations)) !== 0) return undefined
  if (List.isCons(fiber.getFiberRef(FiberRef.currentLogSpan))) return undefined
  if (Context.getOption(fiber.currentContext, Tracer.ParentSpan)._tag === "Some") return undefined
  return lastDirect
}

const line = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  request: HttpServerRequest.HttpServerRequest,
  status: number,
  started: number,
  requestId: string,
  level: LogLevel.LogLevel,
  cause?: Cause.Cause<unknown>
): Effect.Effect<void> => {
  const path = pathOf(request.url)
  const durationMs = elapsedMs(started)
  if (cause === undefined) {
    const direct = directLogOf(fiber)
    if (direct !== undefined) {
      if (LogLevel.greaterThanEqual(level, fiber.getFiberRef(FiberRef.currentMinimumLogLevel))) {
        direct({
          level: level.label as "INFO" | "WARN" | "ERROR",
          fiber: FiberId.threadName(fiber.id()),
          method: request.method,
          path,
          status,
          durationMs,
          requestId
        })
      }
      return Effect.void
    }
  }
  const log =
    cause === undefined
      ? Effect.logWithLevel(level, `${request.method} ${path} ${status}`)
      : Effect.logWithLevel(level, `${request.method} ${path} ${status}`, cause)
  return Effect.annotateLogs(log, { method: request.method, path, status, durationMs, requestId })
}

const tooLarge = (limit: number) =>
  new PayloadTooLarge({ message: `the request body is larger than the limit of ${limit} bytes`, limit })

const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH", "DELETE"])

/**
 * Bulk imports stream their body through bounded queues (memory does not grow with it) and may
 * run for minutes; they have their own limits (IMPORT_MAX_POST_BYTES per post, its lines about
 * twice that, IMPORT_TIMEOUT for the run), so neither MAX_BODY_SIZE nor REQUEST_TIMEOUT applies to them. By the path as the
 * router matches it (`routedPath`: `/posts/import/` and `/posts/import;v=1` are the import too).
 * Suffix match, so a host app mounting the API under a prefix keeps the exemption.
 */
const isBulkImport = (request: HttpServerRequest.HttpServerRequest, includeUrlImport: boolean): boolean => {
  if (request.method !== "POST") return false
  const path = routedPath(request.url)
  return path.endsWith("/posts/import") || (includeUrlImport && path.endsWith("/posts/import-url"))
}

/**
 * Refuses an oversized body with 413 and the typed `PayloadTooLarge` body:
 *   - a declared one (Content-Length over the limit) without handing it to a handler: with a
 *     valid key at once, before any handler runs; otherwise the request is routed and
 *     authenticated as any (a write without a valid key is 401, never 413), and a handler's
 *     read of the body fails. The body is read and discarded meanwhile (`drain`), so a client
 *     still sending it reads the answer; one declared over `drainBudget` is not read, and the
 *     connection is closed after the answer;
 *   - an undeclared one (chunked upload) as soon as more than the limit has been read: the body
 *     is read through a byte counter (`cappedRequest`), the handler's read fails, and the rest
 *     of the upload is read and discarded, so the client (which may still be sending) gets the
 *     answer instead of a reset.
 *
 * Not the platform's own cap (`HttpIncomingMessage.withMaxBodySize`) for chunked bodies: when it
 * trips it destroys the request stream, which on Node destroys the socket, so the client sees a
 * connection reset instead of the answer.
 */
export const limitBody =
  (options: Pick<MiddlewareOptions, "maxBodySize">) =>
  <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> => {
    const limit = Option.some(options.maxBodySize)
    return Effect.withFiberRuntime((fiber) => {
      const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
      if (!METHODS_WITH_BODY.has(request.method) || isBulkImport(request, false)) return app
      const declared = request.headers["content-length"]
      if (declared !== undefined) {
        if (Number(declared) > options.maxBodySize) {
          // A write with a valid key: 413 here, before any handler runs (routed, a handler that
          // reads no body, a DELETE, did its work). Any other is routed as any request, with a
          // body that fails when read (413): a write without a valid key is 401 first (ApiKeyAuth
          // runs before the handler reads). Not a Node request: answered 413 here.
          const keys = Context.getOption(fiber.currentContext, ApiKeys)
          const keyed = Option.isSome(keys) && keys.value.fromHeaders(request.headers) === "valid"
          const refused = keyed ? undefined : refusedBodyRequest(request)
          const answer = refused === undefined
            ? Effect.succeed(encodeJson(PayloadTooLarge, tooLarge(options.maxBodySize), 413))
            : Effect.provideService(app, HttpServerRequest.HttpServerRequest, refused)
          // The body is still on the wire, whatever the answer. Within the budget it is read and
          // thrown away, so the client, still sending, reads the answer: closed at once, the
          // connection was reset under it (EPIPE). Beyond it, or not a Node request: closed.
          const incoming = (request as { readonly source?: unknown }).source
          if (incoming instanceof IncomingMessage && Number(declared) <= drainBudget(options.maxBodySize)) {
            drain(incoming, drainBudget(options.maxBodySize))
            return answer
          }
          return Effect.map(answer, (response) => HttpServerResponse.setHeader(response, "connection", "close"))
        }
        return HttpIncomingMessage.withMaxBodySize(app, limit)
      }
      // Neither Content-Length nor Transfer-Encoding: HTTP/1.1 says there is no body.
      if (request.headers["transfer-encoding"] === undefined) return app
      const capped = cappedRequest(request, options.maxBodySize)
      return capped === undefined
        ? HttpIncomingMessage.withMaxBodySize(app, limit)
        : Effect.provideService(app, HttpServerRequest.HttpServerRequest, capped)
    })
  }

/** What the platform's body readers fail with when over the limit; `failureResponse` answers 413. */
const MAX_BYTES_EXCEEDED = "maxBytes exceeded"

/**
 * `request` with a body whose every read fails with MAX_BYTES_EXCEEDED (answered 413), without
 * a byte read: for a body declared over the limit. `undefined` when the request is not a Node
 * one. The rest of the request is the original's, as in `cappedRequest`.
 */
const refusedBodyRequest = (request: HttpServerRequest.HttpServerRequest): HttpServerRequest.HttpServerRequest | undefined => {
  const incoming = (request as { readonly source?: unknown }).source
  if (!(incoming instanceof IncomingMessage)) return undefined
  const source = (): Readable => {
    const refused = new Readable({
      read() {
        this.destroy(new Error(MAX_BYTES_EXCEEDED))
      }
    })
    // The platform reads these off `source` too (method, url, headers, remote address).
    Object.assign(refused, { method: incoming.method, url: incoming.url, headers: incoming.headers, socket: incoming.socket })
    return refused
  }
  return Object.create(request, { source: { get: source, configurable: true } }) as HttpServerRequest.HttpServerRequest
}

/** Passes at most `limit` bytes, then fails with `MAX_BYTES_EXCEEDED`. */
class ByteCap extends Transform {
  private seen = 0
  constructor(private readonly limit: number) {
    super()
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length
    if (this.seen > this.limit) callback(new Error(MAX_BYTES_EXCEEDED))
    else callback(null, chunk)
  }
}

/**
 * The Node request, with its body read through a `ByteCap`. Everything the platform reads the
 * body with (`text`, `json`, `arrayBuffer`, `stream`, multipart) reads `source`, so replacing
 * `source` covers them all; the rest of the request is the original's.
 *
 * Past the limit the cap fails (that read answers 413) and the original stream is drained
 * (`drain`: what the client still sends is discarded, within `drainBudget` and DRAIN_TIME_MS).
 * `undefined` when the request is not a Node one (then the platform's cap applies).
 */
const cappedRequest = (
  request: HttpServerRequest.HttpServerRequest,
  limit: number
): HttpServerRequest.HttpServerRequest | undefined => {
  const incoming = (request as { readonly source?: unknown }).source
  if (!(incoming instanceof IncomingMessage)) return undefined
  let body: Readable | undefined
  const source = (): Readable => {
    if (body !== undefined) return body
    const cap = new ByteCap(limit)
    // The platform reads these off `source` too (method, url, headers, remote address).
    Object.assign(cap, {
      method: incoming.method,
      url: incoming.url,
      headers: incoming.headers,
      socket: incoming.socket
    })
    cap.once("error", (error) => {
      if (error.message === MAX_BYTES_EXCEEDED) drain(incoming, drainBudget(limit))
    })
    incoming.once("error", (error) => cap.destroy(error))
    incoming.pipe(cap)
    body = cap
    return cap
  }
  return Object.create(request, { source: { get: source, configurable: true } }) as HttpServerRequest.HttpServerRequest
}

/**
 * How long a bulk upload's body may send nothing while its import waits for it: `timeout` sets
 * it to REQUEST_TIMEOUT for the import endpoints; 30 seconds, REQUEST_TIMEOUT's default, where
 * the handlers are served without it.
 */
export class UploadIdleTimeout extends Context.Reference<UploadIdleTimeout>()("Inkwell/UploadIdleTimeout", {
  defaultValue: (): Duration.Duration => Duration.seconds(30)
}) {}

/** A bulk upload's body sent nothing for `UploadIdleTimeout` while the import waited for it. */
export class UploadStalled extends Data.TaggedError("UploadStalled")<{ readonly idle: Duration.Duration }> {
  override get message() {
    return `the upload stalled: no data for ${Duration.format(this.idle)}`
  }
}

/**
 * A bulk upload's body as a Stream that leaves the Node request open when the reader stops early
 * (an import's deadline, an interruption). The platform's `request.stream` destroys the request
 * then, which took the connection down before the import's summary could be sent; left open,
 * Node reads and discards the rest once the answer is written.
 *
 * It ends with `UploadStalled` when the import has waited `UploadIdleTimeout` for the next bytes
 * and none came: a client that sent a line and went silent held the import (and its handler)
 * forever, as neither REQUEST_TIMEOUT nor Node's own timeout cuts an import. Only the wait for
 * bytes counts, never the time the import takes over those it has (its queues full, the body not
 * read meanwhile), so a slow upload that keeps sending is not cut.
 */
export const uploadStream = (
  request: HttpServerRequest.HttpServerRequest
): Stream.Stream<Uint8Array, HttpServerError.RequestError | UploadStalled> =>
  Stream.unwrap(Effect.map(UploadIdleTimeout, (idle) => {
    const incoming = (request as { readonly source?: unknown }).source
    const body = incoming instanceof IncomingMessage
      ? NodeStream.fromReadable(
        () => incoming,
        (cause) => new HttpServerError.RequestError({ request, reason: "Decode", cause }),
        { closeOnDone: false }
      )
      : request.stream
    // Per pull: the timer runs only while the reader waits for the next chunk.
    return Duration.greaterThan(idle, MAX_TIMER_DURATION) ? body : Stream.timeoutFail(body, () => new UploadStalled({ idle }), idle)
  }))

/**
 * How much of a refused body is read and thrown away, so that the client reads the answer: what
 * it still sends is discarded up to DRAIN_FACTOR times the limit, and at least DRAIN_MIN_BYTES
 * (a client sends the whole body before it reads: Node's fetch, and the HttpApiClient on it,
 * reported EPIPE for an 8 MB post against the 1 MiB default), for at most DRAIN_TIME_MS. Past
 * either the connection is closed.
 */
const DRAIN_FACTOR = 4
const DRAIN_MIN_BYTES = 64 * 1024 * 1024
const DRAIN_TIME_MS = 10_000

const drainBudget = (limit: number): number => Math.max(limit * DRAIN_FACTOR, DRAIN_MIN_BYTES)

/** Reads and throws away the rest of `incoming`'s body; closes the connection past `budget` bytes or DRAIN_TIME_MS. */
const drain = (incoming: IncomingMessage, budget: number) => {
  let discarded = 0
  const close = () => incoming.socket?.destroy()
  const timer = setTimeout(close, DRAIN_TIME_MS)
  // Not what keeps the process alive at shutdown.
  timer.unref()
  const done = () => clearTimeout(timer)
  incoming.once("end", done)
  incoming.once("close", done)
  incoming.unpipe()
  incoming.on("data", (chunk: Buffer) => {
    discarded += chunk.length
    if (discarded > budget) {
      done()
      close()
    }
  })
  incoming.resume()
}

/** What a text body's read fails with at its first byte that is not UTF-8; answered 400 BadRequest. */
class InvalidUtf8Body extends Error {
  constructor(readonly offset: number) {
    super(`the request body is not valid UTF-8: invalid or truncated sequence at byte offset ${offset}`)
  }
}

/**
 * Passes the bytes on unchanged, and fails at the first invalid or truncated UTF-8 sequence
 * (`utf8Checker`: `findInvalidUtf8`, the import's strict rules). Checked as the body streams through, so the
 * body is not held twice; a sequence split between chunks is checked when it is complete.
 */
class Utf8Check extends Transform {
  private readonly check = utf8Checker()
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const at = this.check.write(chunk)
    if (at !== -1) return callback(new InvalidUtf8Body(at))
    callback(null, chunk)
  }
  override _flush(callback: TransformCallback): void {
    const at = this.check.end()
    callback(at === -1 ? null : new InvalidUtf8Body(at))
  }
}

/** Bodies the platform reads as text: JSON (also its default with no Content-Type) and text/*. */
const isTextBody = (contentType: string | undefined): boolean => {
  if (contentType === undefined) return true
  const type = contentType.toLowerCase()
  return type.includes("json") || type.trimStart().startsWith("text/")
}

/**
 * Text bodies must be UTF-8: the platform decodes them leniently, so a Latin-1 `é` was stored as
 * U+FFFD. The request's body is read through a `Utf8Check`, whose failure `failureResponse`
 * answers 400 BadRequest naming the byte offset. Bulk imports are left alone: their lines are
 * decoded by the import pipeline, which reports each bad line in the summary.
 */
export const strictUtf8 = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.withFiberRuntime((fiber) => {
    const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
    if (!METHODS_WITH_BODY.has(request.method) || isBulkImport(request, false)) return app
    if (request.headers["content-length"] === undefined && request.headers["transfer-encoding"] === undefined) return app
    if (!isTextBody(request.headers["content-type"])) return app
    return Effect.provideService(app, HttpServerRequest.HttpServerRequest, checkedRequest(request))
  })

/**
 * `request` with its body (whatever `source` is: the Node request, or `cappedRequest`'s cap) read
 * through a `Utf8Check`. `source` is read only when the body is, so a request answered before its
 * body is read (401, 415) starts no stream.
 */
const checkedRequest = (request: HttpServerRequest.HttpServerRequest): HttpServerRequest.HttpServerRequest => {
  let body: unknown
  const source = (): unknown => {
    if (body !== undefined) return body
    const upstream: unknown = Reflect.get(request, "source")
    // Not a Node request: the platform's own reader, unchecked.
    if (!(upstream instanceof Readable)) return (body = upstream)
    const incoming = upstream as Readable & Partial<Pick<IncomingMessage, "method" | "url" | "headers" | "socket">>
    const check = new Utf8Check()
    // The platform reads these off `source` too (method, url, headers, remote address).
    Object.assign(check, {
      method: incoming.method,
      url: incoming.url,
      headers: incoming.headers,
      socket: incoming.socket
    })
    // A failing upstream (the size cap) fails the read with its own error: 413 stays 413.
    incoming.once("error", (error) => check.destroy(error))
    check.once("error", (error) => {
      if (!(error instanceof InvalidUtf8Body)) return
      // The rest of the body (within MAX_BODY_SIZE) is read and dropped, so the answer is not cut off.
      incoming.unpipe(check)
      incoming.resume()
    })
    incoming.pipe(check)
    return (body = check)
  }
  return Object.create(request, { source: { get: source, configurable: true } }) as HttpServerRequest.HttpServerRequest
}

/** Interrupts a request whose time is up, so the request logger can tell it from a client abort. */
export const timeoutFiberId = FiberId.make(-408, 0)

/** Whether the request says it has a body (a Content-Length above 0, or chunked): HTTP/1.1 has none otherwise. */
const announcesBody = (headers: Headers.Headers): boolean => {
  const length = headers["content-length"]
  return (length !== undefined && length !== "0") || headers["transfer-encoding"] !== undefined
}

/**
 * The Node request under `request`, when it is one, read off its response: the body wrappers
 * above (`cappedRequest`, `checkedRequest`) make `source` a getter that starts reading the body.
 */
const nodeRequestOf = (request: HttpServerRequest.HttpServerRequest): IncomingMessage | undefined => {
  const response = (request as { readonly response?: unknown }).response
  return response instanceof ServerResponse ? response.req : undefined
}

/** Whether `request`'s body has not all arrived yet. */
const bodyArriving = (request: HttpServerRequest.HttpServerRequest): boolean =>
  announcesBody(request.headers) && nodeRequestOf(request)?.complete === false

/**
 * Closes `incoming`'s connection unless its body has all arrived within `millis`: a client that
 * sends it a byte now and then would hold the connection for as long as it liked.
 */
const closeUnlessArrived = (incoming: IncomingMessage, millis: number, timer?: ReturnType<typeof setTimeout>) => {
  if (incoming.complete) return clearTimeout(timer)
  const deadline = timer ?? setTimeout(() => {
    if (!incoming.complete) incoming.socket?.destroy()
  }, millis)
  // Not what keeps the process alive at shutdown.
  deadline.unref()
  const arrived = () => clearTimeout(deadline)
  incoming.once("end", arrived)
  incoming.once("close", arrived)
}

/**
 * Interrupts the request's fiber (and so the handler, and any database call it is waiting on)
 * after `requestTimeout`; `logRequests` answers such a request 503.
 *
 * It bounds the request's body too, which the Node server does not (`Server.createNodeServer`:
 * its `requestTimeout`, off, cut bulk imports): a body still arriving at the deadline is not
 * waited for (the 503 closes the connection), and one still arriving then after an earlier answer
 * (a 401 before the body is read) has its connection closed. A bulk import runs past it, bounded
 * by IMPORT_TIMEOUT, its body by `requestTimeout` of silence (`UploadIdleTimeout`, `uploadStream`);
 * what of its body has not arrived `requestTimeout` after its answer is not waited for either.
 * `/posts/import-url`'s import runs past it too, but not its body's arrival.
 *
 * One timer per request, no extra fibers: `Effect.timeout` would fork two fibers per request,
 * which costs a measurable share of throughput on a cheap endpoint. The interruption is the
 * same mechanism the Node server uses when a client disconnects.
 *
 * A `requestTimeout` longer than any setting takes (MAX_TIMER_DURATION), given in code (an
 * embedding app's `Duration.infinity`, say), is no deadline: Node fires a timer past its
 * longest at once, which answered every request 503.
 */
export const timeout =
  (options: Pick<MiddlewareOptions, "requestTimeout">) =>
  <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> => {
    const duration = Duration.decode(options.requestTimeout)
    const none = Duration.greaterThan(duration, MAX_TIMER_DURATION)
    const millis = Duration.toMillis(duration)
    return Effect.withFiberRuntime((fiber) => {
      const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
      if (none) return Effect.provideService(app, UploadIdleTimeout, Duration.infinity)
      // Read here, not when the handler ends: a bodiless request is not yet `complete` when it
      // starts (Node marks it so after the 'request' event), so only an announced body counts.
      const incoming = announcesBody(request.headers) ? nodeRequestOf(request) : undefined
      if (isBulkImport(request, false)) {
        if (incoming === undefined) return Effect.provideService(app, UploadIdleTimeout, duration)
        // Its body may take as long as the import, but not sit silent longer than any other body may.
        return Effect.ensuring(Effect.provideService(app, UploadIdleTimeout, duration), Effect.sync(() => closeUnlessArrived(incoming, millis)))
      }
      // `/posts/import-url`'s body is a few fields, which arrive as any request's: only its import
      // runs longer. So its deadline is its body's: a body still arriving then is answered 503
      // as any request's (it was closed with no answer, logged as the client's 499).
      const bodyOnly = isBulkImport(request, true)
      if (bodyOnly && (incoming === undefined || incoming.complete)) return app
      let running = true
      const timer = setTimeout(() => {
        if (bodyOnly && incoming!.complete) return
        if (running) fiber.unsafeInterruptAsFork(timeoutFiberId)
        else if (incoming !== undefined && !incoming.complete) incoming.socket?.destroy()
      }, millis)
      return Effect.ensuring(
        app,
        Effect.sync(() => {
          running = false
          // The same timer, from the request's start: the body's deadline is the request's.
          if (incoming === undefined) clearTimeout(timer)
          else closeUnlessArrived(incoming, millis, timer)
        })
      )
    })
  }
