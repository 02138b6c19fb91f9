/**
 * The front door: a Node `request` listener that answers cached public reads (see
 * ResponseCache) before any fiber starts, and hands every other request to the Effect server.
 *
 * Why: on this stack a request through the platform's handler costs several hundred
 * microseconds before the handler runs (a fiber, the request wrapper, middleware, the router);
 * a cached post costs a Map lookup. Such answers keep every visible behaviour of the full path:
 * the same bytes, `Content-Type`, `ETag`, `304` for a matching `If-None-Match`, `X-Request-Id`,
 * the same compressed bodies and coded ETags (Compression),
 * and the same one log line per request, handed to the application's loggers (LOG_FORMAT,
 * LOG_LEVEL, and whatever logger an embedding app installed) with the same message and fields.
 */
import { Cause, Effect, FiberId, FiberRef, FiberRefs, HashMap, List, LogLevel } from "effect"
import type { IncomingMessage, Server, ServerResponse } from "node:http"
import { chooseCoding, type Coding, type CompressionShape, compressible, confirmedTag, selectedTags, varyOnEncoding } from "./Compression.js"
import { directRequestLog, elapsedMs } from "./Logging.js"
import { CREDENTIAL_HEADERS, pathOf, requestIdFrom } from "./Middleware.js"
import type { CachedAnswer, ResponseCacheShape } from "./ResponseCache.js"

type Listener = (request: IncomingMessage, response: ServerResponse) => void

/** Longest run of full-path requests in one turn of the event loop. */
const SLICE_MS = 5

/** `name` (as sent) is `lower`, ignoring case. */
const named = (name: string, lower: string): boolean => name === lower || name.toLowerCase() === lower

/**
 * Puts the front door before the listeners `server` has now (the Effect server's handler);
 * restores them when the scope closes. Logs through the loggers of the calling fiber.
 */
export const install = (server: Server, cache: ResponseCacheShape, compression?: CompressionShape) =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<never>()
    const refs = runtime.fiberRefs
    const loggers = FiberRefs.getOrDefault(refs, FiberRef.currentLoggers)
    const logs = LogLevel.greaterThanEqual(LogLevel.Info, FiberRefs.getOrDefault(refs, FiberRef.currentMinimumLogLevel))
    // With the buffered production logger, the line is formatted here and appended to its buffer.
    const direct = directRequestLog(loggers)

    const log = (method: string, url: string, status: number, started: number, requestId: string) => {
      const path = pathOf(url)
      const durationMs = elapsedMs(started)
      if (direct !== undefined) {
        direct({ level: "INFO", fiber: "", method, path, status, durationMs, requestId })
        return
      }
      const options = {
        fiberId: FiberId.none,
        logLevel: LogLevel.Info,
        message: `${method} ${path} ${status}`,
        cause: Cause.empty,
        context: refs,
        spans: List.empty(),
        annotations: HashMap.make(
          ["method", method] as const,
          ["path", path] as const,
          ["status", status] as const,
          ["durationMs", durationMs] as const,
          ["requestId", requestId] as const
        ) as HashMap.HashMap<string, unknown>,
        date: new Date()
      }
      for (const logger of loggers) logger.log(options)
    }

    const compressing = compression !== undefined && compression.enabled
    // As the full path sends it: Compression's Accept-Encoding, then Middleware.logRequests' keys.
    const vary = compressing ? varyOnEncoding(CREDENTIAL_HEADERS) : CREDENTIAL_HEADERS

    /**
     * A cached answer with headers to assemble: a reader-site answer (its own headers as kept), or
     * any answer for a client that accepts a coding. Sent as the full path sends it: the body
     * coded when Compression would code it, and the ETag with it (for a 304, the representation
     * the client named), Vary as Compression and then `varyOn` (the API's keys) set it, the
     * request id.
     */
    const assembled = (
      response: ServerResponse,
      answer: CachedAnswer,
      own: ReadonlyArray<string>,
      varyOn: string | undefined,
      url: string,
      coding: Coding | undefined,
      ifNoneMatch: string | undefined,
      requestId: string
    ) => {
      const encoded = answer.status === 200 && coding !== undefined
        ? compression!.encode(coding, url, answer.contentType, answer.body, answer.etag)
        : undefined
      const etag = answer.etag === undefined
        ? undefined
        : encoded !== undefined
        ? encoded.etag
        : answer.status === 304
        ? confirmedTag(answer.etag, coding, ifNoneMatch)
        : answer.etag
      const body = encoded === undefined ? answer.body : encoded.body
      const headers: Array<string | number> = answer.status === 200
        ? ["content-type", answer.contentType, "content-length", body.byteLength]
        : []
      if (encoded !== undefined) headers.push("content-encoding", encoded.coding)
      for (let i = 0; i < own.length; i += 2) headers.push(own[i]!, own[i] === "etag" ? etag! : own[i + 1]!)
      // As Compression's middleware: every 304, and every 200 of a type it would compress.
      const varies = compressing && (answer.status === 304 || compressible(answer.contentType)) ? varyOnEncoding(varyOn) : varyOn
      if (varies !== undefined) headers.push("vary", varies)
      headers.push("x-request-id", requestId)
      response.writeHead(answer.status, headers)
      if (answer.status === 200) response.end(body)
      else response.end()
    }

    const downstream = server.listeners("request") as Array<Listener>
    const dispatch = (request: IncomingMessage, response: ServerResponse) => {
      for (const listener of downstream) listener.call(server, request, response)
    }

    // Requests for the full path wait here and are run in slices of at most SLICE_MS, each in
    // its own turn of the event loop. Run straight from the socket callbacks, one turn of the
    // loop ran every request that had arrived (~0.5 ms each on the full path): with 256 busy
    // connections a turn took ~150 ms, and Node accepts new connections once per turn, so
    // connections waited seconds in the kernel's accept queue (wrk timeouts at 256 connections,
    // with the baseline's queue empty). Slices bound the turn, whatever the load.
    const waiting: Array<readonly [IncomingMessage, ServerResponse, number] | undefined> = []
    let head = 0
    let sliceStarted = 0
    const pump = () => {
      const [request, response, started] = waiting[head]!
      waiting[head++] = undefined
      // A read whose client left while it waited (a reset, a timeout given up) has nobody to
      // answer: running it anyway spends the slice on nothing, most of all under overload, when
      // clients give up. Writes still run: their client may not know whether they were applied.
      if (request.socket.destroyed && (request.method === "GET" || request.method === "HEAD")) {
        if (logs) log(request.method, request.url ?? "", 499, started, requestIdFrom(request.headers["x-request-id"] as string | undefined))
      } else {
        dispatch(request, response)
      }
      if (head === waiting.length) {
        waiting.length = 0
        head = 0
        return
      }
      // A microtask queued after this request's own: it runs once the request has gone as far
      // as it can without I/O, so the slice measures the requests' work, not just their start.
      if (performance.now() - sliceStarted < SLICE_MS) queueMicrotask(pump)
      else setImmediate(slice)
    }
    const slice = () => {
      sliceStarted = performance.now()
      pump()
    }
    const enqueue = (request: IncomingMessage, response: ServerResponse, started: number) => {
      waiting.push([request, response, started])
      if (waiting.length - head === 1) setImmediate(slice)
    }

    const front: Listener = (request, response) => {
      const started = performance.now()
      const method = request.method ?? ""
      const url = request.url ?? ""
      // The few headers a cached answer depends on, read off `rawHeaders`: `request.headers` is
      // built on first access (every header lowercased and merged), which a hit does not need.
      let credentials = false
      let ifNoneMatch: string | undefined
      let givenId: string | undefined
      let acceptEncoding: string | undefined
      let ids = 0
      let body = false
      const raw = request.rawHeaders
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i]!
        // By length first: most names are passed over without comparing their text.
        switch (name.length) {
          case 9:
            if (named(name, "x-api-key")) credentials = true
            break
          case 12:
            if (named(name, "x-request-id")) {
              givenId = raw[i + 1]
              ids++
            }
            break
          case 13:
            if (named(name, "authorization")) credentials = true
            // Repeated, Node joins them with ", " (a list, as If-None-Match is read).
            else if (named(name, "if-none-match")) ifNoneMatch = ifNoneMatch === undefined ? raw[i + 1] : `${ifNoneMatch}, ${raw[i + 1]}`
            break
          case 14:
            if (named(name, "content-length") && raw[i + 1] !== "0") body = true
            break
          case 15:
            if (named(name, "accept-encoding")) acceptEncoding = acceptEncoding === undefined ? raw[i + 1] : `${acceptEncoding}, ${raw[i + 1]}`
            break
          case 17:
            if (named(name, "transfer-encoding")) body = true
            break
        }
      }
      // A read with a body (which it ignores) goes the full path, whose REQUEST_TIMEOUT bounds
      // the body (Middleware.timeout): answered here, a body sent a byte now and then held the
      // connection for as long as the client liked (the Node server's requestTimeout is off).
      if (body) {
        enqueue(request, response, started)
        return
      }
      // A HEAD gets the GET's answer: Node sends the headers (Content-Length included) and drops the body.
      // A tag of the coding the answer would be sent in (`"…+gzip"`) names the post as the cache
      // knows it; another coding's names no form this client is sent (Compression.selectedTags).
      const coding = compressing ? chooseCoding(acceptEncoding) : undefined
      const answer = cache.lookup(method, url, credentials, ifNoneMatch === undefined ? undefined : selectedTags(ifNoneMatch, coding))
      if (answer === undefined) {
        enqueue(request, response, started)
        return
      }
      // A repeated X-Request-Id reaches the full path joined with ", ", which is not a valid id.
      const requestId = requestIdFrom(ids === 1 ? givenId : undefined)
      // A flat [name, value, ...] array: Node writes it as is, no header object to build or walk.
      // `vary` as the full path sends it (Middleware.logRequests): the answer differs with a key.
      if (answer.headers !== undefined) {
        assembled(response, answer, answer.headers, undefined, url, coding, ifNoneMatch, requestId)
      } else if (coding !== undefined) {
        assembled(response, answer, answer.etag === undefined ? [] : ["etag", answer.etag], CREDENTIAL_HEADERS, url, coding, ifNoneMatch, requestId)
      } else if (answer.status === 200) {
        // The common answer, written out: no array to assemble on the hot path.
        const varies = compressing && compressible(answer.contentType) ? vary : CREDENTIAL_HEADERS
        response.writeHead(
          200,
          answer.etag === undefined
            ? ["content-type", answer.contentType, "content-length", answer.body.byteLength, "x-request-id", requestId, "vary", varies]
            : ["content-type", answer.contentType, "content-length", answer.body.byteLength, "etag", answer.etag, "x-request-id", requestId, "vary", varies]
        )
        response.end(answer.body)
      } else {
        response.writeHead(
          answer.status,
          answer.etag === undefined ? ["x-request-id", requestId, "vary", vary] : ["etag", answer.etag, "x-request-id", requestId, "vary", vary]
        )
        response.end()
      }
      if (logs) log(method, url, answer.status, started, requestId)
    }
    server.removeAllListeners("request")
    server.on("request", front)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        server.off("request", front)
        for (const listener of downstream) server.on("request", listener)
      })
    )
  })
