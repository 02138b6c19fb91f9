/**
 * FeedClient: GET a remote document with every safeguard a feed importer needs, on top of
 * @effect/platform's `HttpClient` (so any client layer works, and tests inject their own).
 *
 * One `get` is: [deadline [retry (transient only, bounded, backoff) [host permit [timeout [one
 * attempt: redirects followed by hand, status checked, body streamed up to the size limit]]]]].
 *
 * - The per-attempt timeout sits inside the retry, so a hung attempt is retried like any other
 *   transient failure; the deadline sits outside and bounds the whole thing, waits included.
 * - Redirects are followed here, not by the underlying client, so that every hop is checked
 *   (http/https only, loops and the hop limit). Node's `http` and undici clients do not follow
 *   redirects on their own; a `fetch`-based client does, bypassing these checks.
 * - Each attempt runs in its own scope with `HttpClient.withScope`: when the body is cut off
 *   (too large) or the attempt is interrupted (timeout), closing the scope aborts the request and
 *   the connection is dropped, rather than reading what is left.
 * - The host permit is taken outside the attempt's timeout: waiting for a busy host is not the
 *   host being slow.
 * - No trace context is sent: the spans stay ours, the hosts are arbitrary.
 * - A gzip, deflate or br body is decoded as it streams, and the size limit counts decoded
 *   bytes; any other `Content-Encoding` is a `DecodeError` naming it (its bytes are no text).
 * - A guarded client (the server's, `FeedClient.Server`) refuses every hop whose address is
 *   loopback, private, link-local and the like (Destination.ts) with `DestinationRefused`, never
 *   retried: a literal IP is checked here, a name by the agent's `lookup` at connect time.
 */
import { HttpClient, HttpClientRequest, type HttpClientResponse, type Headers } from "@effect/platform"
import { NodeHttpClient, NodeStream } from "@effect/platform-node"
import type { Duplex } from "node:stream"
import * as Zlib from "node:zlib"
import { Clock, Config, type ConfigError, Context, Duration, Effect, Either, Layer, Schedule, Stream } from "effect"
import { FairSemaphore } from "../Database/FairSemaphore.js"
import { runStepsWithTurns } from "../Domain/yieldToEventLoop.js"
import { deflateDecoder } from "./deflate.js"
import { guardedLookup, literalRefusal, RefusedAddressError, resolveRefusal } from "./Destination.js"
import { FeedAllowPrivateConfig, FeedClientConfig, type FeedClientInput, FeedClientOptions, type FeedClientSettings } from "./FeedClientOptions.js"
import {
  DecodeError,
  DestinationRefused,
  type FeedError,
  HttpStatusError,
  InvalidUrl,
  isTransient,
  NetworkError,
  RequestTimeout,
  ResponseTooLarge,
  TooManyRedirects
} from "./FeedErrors.js"

/** A fetched document: the whole body, known to be within the size limit. */
export interface FetchedResource {
  /** The URL asked for. */
  readonly url: string
  /** Where the body came from, after redirects: the base for relative links. */
  readonly finalUrl: string
  readonly status: number
  readonly headers: Headers.Headers
  /** The media type, lowercased, without parameters ("" when absent). */
  readonly contentType: string
  readonly bytes: Uint8Array
  /** Attempts it took (1 when the first one succeeded). */
  readonly attempts: number
}

export interface GetOptions {
  /**
   * Extra request headers (e.g. an API key), sent to the origin of the URL asked only: a redirect
   * to another host goes without them, as browsers drop credentials then.
   */
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly accept?: string | undefined
  /**
   * The most this fetch may take, attempts and waits included, when less than the deadline: what
   * its source has left of FEED_SOURCE_DEADLINE (FeedSource.ts). A `Retry-After` past it is not
   * waited for.
   */
  readonly timeLeft?: Duration.Duration | undefined
}

export interface FeedClientShape {
  readonly settings: FeedClientSettings
  /** GETs `url` with timeout, retries, deadline, redirect and size limits. */
  readonly get: (url: string, options?: GetOptions) => Effect.Effect<FetchedResource, FeedError>
  /**
   * Fails when a guarded client would refuse `url` as it resolves now (its literal IP, or the
   * addresses of its name); fetches nothing. Lets a caller refuse before doing anything else;
   * `get` checks again on every hop, at connect time. Always succeeds on an unguarded client.
   */
  readonly checkDestination: (url: string) => Effect.Effect<void, DestinationRefused | InvalidUrl>
}

/** Every coding the body is decoded from (`DECODERS`): feeds are text, and shrink a lot. */
const ACCEPT_ENCODING = "gzip, deflate, br"

const DEFAULT_ACCEPT =
  "application/feed+json, application/json;q=0.9, application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"

/** Parses an absolute http(s) URL, or a relative one against `base` (a redirect's `Location`). */
export const parseHttpUrl = (input: string, base?: string): Either.Either<URL, InvalidUrl> => {
  let url: URL
  try {
    url = base === undefined ? new URL(input) : new URL(input, base)
  } catch {
    return Either.left(new InvalidUrl({ url: input, reason: base === undefined ? "not an absolute URL" : "not a URL" }))
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return Either.left(new InvalidUrl({ url: input, reason: `only http: and https: URLs are accepted, not ${url.protocol}` }))
  }
  return Either.right(url)
}

/** `Retry-After`: delta seconds or an HTTP date; milliseconds from `now`, never negative. */
export const parseRetryAfter = (value: string | undefined, now: number): number | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/**
 * Exponential backoff from `backoffBase`, jittered, capped at `backoffCap`, at most `retries`
 * times, only for transient failures; a `Retry-After` replaces the computed delay. One longer
 * than `backoffCap` is not cut to it (a server asking for an hour was asked again three times
 * within seconds): `get` gives up at once, saying what the server asked (`notRetried`), and the
 * cap here only bounds a schedule used on its own.
 */
export const retrySchedule = (s: FeedClientSettings): Schedule.Schedule<FeedError, FeedError> =>
  Schedule.exponential(s.backoffBase).pipe(
    Schedule.jittered,
    Schedule.modifyDelay((_, delay) => Duration.min(delay, s.backoffCap)),
    Schedule.intersect(Schedule.recurs(s.retries)),
    Schedule.whileInput((error: FeedError) => isTransient(error)),
    Schedule.passthrough,
    Schedule.modifyDelay((error, delay) =>
      error._tag === "HttpStatusError" && error.retryAfterMs !== undefined
        ? Duration.min(Duration.millis(error.retryAfterMs), s.backoffCap)
        : delay
    )
  )

const REDIRECTS = new Set([301, 302, 303, 307, 308])

/** Content codings a body is decoded from (RFC 9110 8.4.1), `x-gzip` being `gzip`. */
const DECODERS: Readonly<Record<string, () => Duplex>> = {
  gzip: () => Zlib.createGunzip(),
  // zlib-wrapped or raw, as browsers take it (deflate.ts).
  deflate: deflateDecoder,
  br: () => Zlib.createBrotliDecompress()
}

/** The codings of a `Content-Encoding` header, in the order they were applied; `identity` left out. */
const contentCodings = (header: string | undefined): Array<string> =>
  (header ?? "")
    .split(",")
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== "" && coding !== "identity")
    .map((coding) => (coding === "x-gzip" ? "gzip" : coding))

/** Bytes of a body copied into one buffer between two `yield`s (`concatInSteps`, ~1 ms). */
export const CONCAT_STEP_BYTES = 1024 * 1024

/**
 * `chunks` copied into one buffer of `size` bytes (their total), `CONCAT_STEP_BYTES` at a time:
 * the caller may let others run at each `yield`. `Buffer.concat` of a 20 MB body, the most
 * FEED_MAX_BYTES lets in, held the thread 10 to 16 ms in one call, a fresh 20 MB written at once.
 */
export function* concatInSteps(chunks: ReadonlyArray<Uint8Array>, size: number): Generator<void, Uint8Array> {
  // Every byte is written below: the chunks add up to `size`.
  const whole = Buffer.allocUnsafe(size)
  let at = 0
  let copied = 0
  for (const chunk of chunks) {
    for (let from = 0; from < chunk.length;) {
      if (copied >= CONCAT_STEP_BYTES) {
        copied = 0
        yield
      }
      const to = Math.min(chunk.length, from + CONCAT_STEP_BYTES - copied)
      whole.set(chunk.subarray(from, to), at)
      at += to - from
      copied += to - from
      from = to
    }
  }
  return whole
}

const mediaType = (headers: Headers.Headers): string => (headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase()

/**
 * Milliseconds as seconds to the tenth, rounded `up` or down: a wait asked for rounded up beside
 * a limit rounded down never reads as the same number when it is longer ("wait 1 s, past the
 * deadline (1 s left)" was 1000 ms against 950).
 */
const seconds = (ms: number, up: boolean): string => `${(up ? Math.ceil(ms / 100) : Math.floor(ms / 100)) / 10} s`

/**
 * `error` marked never to be retried (`notRetried`) when its `Retry-After` asks for a longer wait
 * than the client makes (`capMs`) or than its deadline leaves (`leftMs` of `deadline`, the
 * setting), saying which.
 */
const waitAsked = (error: HttpStatusError, capMs: number, leftMs: number, deadline: string): HttpStatusError => {
  const asked = error.retryAfterMs
  if (asked === undefined || !isTransient(error) || (asked <= capMs && asked < leftMs)) return error
  const asking = `the server asked to wait ${seconds(asked, true)} before another attempt (Retry-After)`
  const notRetried = asked > capMs
    ? `${asking}, more than the ${seconds(capMs, false)} the client waits at most (FEED_BACKOFF_CAP): not retried`
    : `${asking}, past the deadline (${seconds(Math.max(0, leftMs), false)} left of ${deadline}): not retried`
  return new HttpStatusError({ ...error, notRetried })
}

const describe = (e: unknown): string => {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause
    return cause instanceof Error && cause.message !== e.message ? `${e.message}: ${cause.message}` : e.message
  }
  return String(e)
}

/**
 * Builds the service over whatever `HttpClient` is in context. `guarded`: refuse addresses of the server's own network (Destination.ts). The literal IPs are
 * checked here; names only when the `HttpClient` connects through `guardedLookup`, as
 * `FeedClient.layerGuarded`'s does.
 */
export const makeFeedClient = (
  settings: FeedClientSettings,
  guarded = false
): Effect.Effect<FeedClientShape, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    // No trace headers (`traceparent`, `b3`): a feed's host is a stranger, and they would tell it
    // our trace and span ids and invite it into a trace it is no part of.
    const client = HttpClient.withScope(HttpClient.withTracerPropagation(yield* HttpClient.HttpClient, false))
    // Grows with the number of distinct hosts seen, which an import keeps small.
    const hosts = new Map<string, FairSemaphore>()
    const hostPermit = (host: string): FairSemaphore => {
      let semaphore = hosts.get(host)
      if (semaphore === undefined) {
        semaphore = new FairSemaphore(settings.hostConcurrency)
        hosts.set(host, semaphore)
      }
      return semaphore
    }
    const schedule = retrySchedule(settings)
    const timeoutMs = Duration.toMillis(settings.timeout)
    const deadlineMs = Duration.toMillis(settings.deadline)
    const backoffCapMs = Duration.toMillis(settings.backoffCap)

    const readBody = (response: HttpClientResponse.HttpClientResponse, url: string, attempts: number) => {
      const declared = Number(response.headers["content-length"])
      if (Number.isFinite(declared) && declared > settings.maxBytes) {
        return Effect.fail(new ResponseTooLarge({ url, attempts, limitBytes: settings.maxBytes, receivedBytes: declared }))
      }
      const codings = contentCodings(response.headers["content-encoding"])
      const unsupported = codings.find((coding) => !(coding in DECODERS))
      if (unsupported !== undefined) {
        return Effect.fail(
          new DecodeError({
            url,
            format: "http",
            path: "Content-Encoding",
            reason: `the body is ${JSON.stringify(unsupported)}-encoded (Content-Encoding), which cannot be decoded here (only ${Object.keys(DECODERS).join(", ")})`
          })
        )
      }
      const raw = response.stream.pipe(
        Stream.mapError((cause) => new NetworkError({ url, attempts, reason: `body cut off: ${describe(cause)}`, cause }))
      )
      // Decoded as it streams, the last coding applied first; the size limit below counts the
      // decoded bytes, so a small compressed body that inflates past it stops there too.
      const decoded = codings.reduceRight<Stream.Stream<Uint8Array, FeedError>>(
        (stream, coding) =>
          NodeStream.pipeThroughDuplex(stream, DECODERS[coding]!, (cause) =>
            new DecodeError({
              url,
              format: "http",
              path: "Content-Encoding",
              reason: `the ${coding}-encoded body (Content-Encoding) cannot be decoded: ${describe(cause)}`
            })),
        raw
      )
      const chunks: Array<Uint8Array> = []
      let size = 0
      return decoded.pipe(
        Stream.runForEach((chunk) => {
          size += chunk.length
          // Failing here ends the pull at once; the attempt's scope then aborts the request.
          if (size > settings.maxBytes) {
            return Effect.fail(new ResponseTooLarge({ url, attempts, limitBytes: settings.maxBytes, receivedBytes: size }))
          }
          chunks.push(chunk)
          return Effect.void
        }),
        Effect.zipRight(Effect.suspend(() => runStepsWithTurns(concatInSteps(chunks, size))))
      )
    }

    /** One attempt: follows redirects, checks the status, reads the body. */
    const attempt = (start: URL, attempts: number, options: GetOptions) =>
      Effect.scoped(Effect.gen(function*() {
        let current = start
        const chain = [start.href]
        for (;;) {
          if (guarded) {
            const refused = literalRefusal(current)
            if (refused !== undefined) {
              return yield* new DestinationRefused({ url: current.href, host: refused.address, address: refused.address, kind: refused.kind })
            }
          }
          const request = HttpClientRequest.get(current, {
            headers: {
              "user-agent": settings.userAgent,
              "accept-encoding": ACCEPT_ENCODING,
              // A key for the server asked is no one else's: a redirect elsewhere would hand it on.
              ...(current.origin === start.origin ? options.headers : undefined)
            },
            accept: options.accept ?? DEFAULT_ACCEPT
          })
          const response = yield* client.execute(request).pipe(
            Effect.mapError((e) =>
              e._tag === "RequestError" && e.reason === "InvalidUrl"
                ? new InvalidUrl({ url: current.href, reason: describe(e) })
                : e.cause instanceof RefusedAddressError
                ? new DestinationRefused({ url: current.href, host: e.cause.hostname, address: e.cause.address, kind: e.cause.kind })
                : new NetworkError({ url: current.href, attempts, reason: describe(e), cause: e })
            )
          )
          if (REDIRECTS.has(response.status)) {
            const location = response.headers["location"]
            if (location === undefined || location.trim() === "") {
              return yield* new HttpStatusError({ url: current.href, attempts, status: response.status })
            }
            const next = yield* parseHttpUrl(location, current.href)
            const seen = chain.includes(next.href)
            chain.push(next.href)
            if (seen) return yield* new TooManyRedirects({ url: start.href, chain, reason: "loop" })
            if (chain.length - 1 > settings.maxRedirects) {
              return yield* new TooManyRedirects({ url: start.href, chain, reason: "limit" })
            }
            current = next
            continue
          }
          if (response.status < 200 || response.status >= 300) {
            const now = yield* Clock.currentTimeMillis
            const retryAfterMs = parseRetryAfter(response.headers["retry-after"], now)
            return yield* new HttpStatusError({
              url: current.href,
              attempts,
              status: response.status,
              ...(retryAfterMs === undefined ? {} : { retryAfterMs })
            })
          }
          const bytes = yield* readBody(response, current.href, attempts)
          return {
            url: start.href,
            finalUrl: current.href,
            status: response.status,
            headers: response.headers,
            contentType: mediaType(response.headers),
            bytes,
            attempts
          } satisfies FetchedResource
        }
      }))

    const get = Effect.fn("FeedClient.get")(function*(url: string, options: GetOptions = {}) {
      yield* Effect.annotateCurrentSpan("url", url)
      const start = yield* parseHttpUrl(url)
      const permits = hostPermit(start.host)
      const sourceLeftMs = options.timeLeft === undefined ? Infinity : Duration.toMillis(options.timeLeft)
      const limitMs = Math.min(deadlineMs, sourceLeftMs)
      const limitedBy = sourceLeftMs < deadlineMs ? "FEED_SOURCE_DEADLINE" : "FEED_DEADLINE"
      const began = yield* Clock.currentTimeMillis
      let attempts = 0
      const once = Effect.suspend(() => {
        const n = ++attempts
        return attempt(start, n, options).pipe(
          Effect.timeoutFail({
            duration: settings.timeout,
            onTimeout: () => new RequestTimeout({ url: start.href, attempts: n, timeoutMs, deadline: false })
          }),
          Effect.catchTag("HttpStatusError", (error) =>
            Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.fail(waitAsked(error, backoffCapMs, limitMs - (now - began), limitedBy))))
        )
      })
      return yield* permits.withPermit(once).pipe(
        // No acquire timeout is configured, so the semaphore never fails on its own.
        Effect.catchTag("AcquireTimeout", (e) => Effect.die(e)),
        Effect.retry(schedule),
        Effect.timeoutFail({
          duration: Duration.millis(limitMs),
          onTimeout: () => new RequestTimeout({ url: start.href, attempts, timeoutMs: limitMs, deadline: true })
        })
      )
    })

    const checkDestination = (url: string): Effect.Effect<void, DestinationRefused | InvalidUrl> =>
      Effect.flatMap(parseHttpUrl(url), (parsed) =>
        guarded
          ? Effect.flatMap(resolveRefusal(parsed), (refused) =>
            refused === undefined
              ? Effect.void
              : Effect.fail(
                new DestinationRefused({
                  url: parsed.href,
                  host: literalRefusal(parsed) === undefined ? parsed.hostname : refused.address,
                  address: refused.address,
                  kind: refused.kind
                })
              ))
          : Effect.void)

    return { settings, get, checkDestination }
  })

/** Node's `http` client whose agents resolve names through `guardedLookup`. */
const guardedHttpClient: Layer.Layer<HttpClient.HttpClient> = NodeHttpClient.layerWithoutAgent.pipe(
  Layer.provide(NodeHttpClient.makeAgentLayer({ lookup: guardedLookup }))
)

const settingsOf = (options: FeedClientOptions | FeedClientInput): FeedClientSettings =>
  options instanceof FeedClientOptions ? options.settings : FeedClientOptions.make(options).settings

export class FeedClient extends Context.Tag("Inkwell/FeedClient")<FeedClient, FeedClientShape>() {
  /**
   * From code: `FeedClient.layer(FeedClientOptions.make().timeout("5 seconds").retries(2))` or a
   * partial settings object merged over the defaults. Needs an `HttpClient`.
   */
  static readonly layer = (
    options: FeedClientOptions | FeedClientInput = {}
  ): Layer.Layer<FeedClient, never, HttpClient.HttpClient> => Layer.effect(FeedClient, makeFeedClient(settingsOf(options)))

  /** Settings from `FEED_*` (see FeedClientOptions.ts). Needs an `HttpClient`. */
  static readonly layerConfig: Layer.Layer<FeedClient, ConfigError.ConfigError, HttpClient.HttpClient> = Layer.effect(
    FeedClient,
    Effect.flatMap(FeedClientConfig, makeFeedClient)
  )

  /**
   * On Node's `http` client, refusing addresses of the server's own network on every hop
   * (`DestinationRefused`): for fetching URLs that someone else chose. Brings its own client.
   */
  static readonly layerGuarded = (options: FeedClientOptions | FeedClientInput = {}): Layer.Layer<FeedClient> =>
    Layer.effect(FeedClient, makeFeedClient(settingsOf(options), true)).pipe(Layer.provide(guardedHttpClient))

  /** `layerConfig` on Node's `http` client, fetching from anywhere: what the operator's CLI uses. */
  static readonly Default: Layer.Layer<FeedClient, ConfigError.ConfigError> = FeedClient.layerConfig.pipe(
    Layer.provide(NodeHttpClient.layer)
  )

  /**
   * What `POST /posts/import-url` fetches with: `FEED_*` settings, guarded (`layerGuarded`)
   * unless `FEED_ALLOW_PRIVATE=true`.
   */
  static readonly Server: Layer.Layer<FeedClient, ConfigError.ConfigError> = Layer.unwrapEffect(
    Effect.map(Config.all([FeedClientConfig, FeedAllowPrivateConfig]), ([settings, allowPrivate]) =>
      allowPrivate ? FeedClient.layer(settings).pipe(Layer.provide(NodeHttpClient.layer)) : FeedClient.layerGuarded(settings))
  )
}
