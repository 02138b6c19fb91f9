/**
 * Compression: gzip or brotli bodies for clients that accept them (`Accept-Encoding`), on every
 * answer to a GET or HEAD (API, pages, feeds, sitemap, OpenAPI) and on the front door's cached
 * answers alike.
 *
 * Why in Inkwell and not only behind a proxy: the server is meant to be run as it is (the README's
 * first command), and pages, feeds and post JSON are text that shrinks 3-5×. A deployment whose
 * proxy compresses turns it off (HTTP_COMPRESSION=false).
 *
 * A compressed body is another representation, so it has its own strong ETag: the identity tag
 * with `+gzip` / `+br` inside the quotes (`"v3-ab12"` → `"v3-ab12+gzip"`). `+` is in none of
 * Inkwell's own tags (hex and base64url), so a tag sent back in `If-None-Match` or `If-Match` is
 * turned back into the tag it was made from before the handlers see the request: they only
 * ever compare identity tags. On a read, only the tags of the coding the answer would be sent
 * in (`selectedTags`): another coding's is no form this request is sent, and matches nothing.
 *
 * Compressing costs CPU (measured here: a 6 KB post 60 µs gzip, a 30 KB page ~0.5-0.7 ms), so an
 * answer with a strong ETag is compressed once per representation and the result kept (bounded
 * by bytes, oldest dropped first), and a body the caller keeps (a cached answer) has its
 * compressed forms beside it for as long as it lives; an answer without a strong ETag is
 * compressed on each request.
 */
import { Headers, HttpBody, HttpServerRequest, HttpServerResponse, type HttpApp } from "@effect/platform"
import { type ConfigError, Context, Effect, Layer } from "effect"
import * as zlib from "node:zlib"
import * as HttpConfig from "./HttpConfig.js"
import { isListEtag } from "./IfNoneMatch.js"

export type Coding = "gzip" | "br"

/** Below this, the saving is a few bytes and the CPU is not worth it. */
export const MIN_BYTES = 1024

const COMPRESSIBLE = /^(?:text\/|application\/(?:json|xml|javascript|[\w.-]+\+(?:json|xml))|image\/svg\+xml)/i

const compressibleTypes = new Map<string, boolean>()

/**
 * Whether a body of this type is ever compressed (and so whether its answer varies with
 * Accept-Encoding). Remembered by type: a server sends a handful, and the front door asks on
 * every cached answer.
 */
export const compressible = (contentType: string): boolean => {
  let known = compressibleTypes.get(contentType)
  if (known === undefined) {
    known = COMPRESSIBLE.test(contentType)
    if (compressibleTypes.size < 64) compressibleTypes.set(contentType, known)
  }
  return known
}

const QUALITY = /^\s*q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\s*$/i

/**
 * The coding to send for an `Accept-Encoding`, or `undefined` for the body as it is. Quality
 * values are honoured (`q=0` refuses, `*` stands for what is not listed). On a tie gzip wins:
 * at the levels used here brotli's output was no smaller (6 KB JSON: 3,076 vs 2,990 bytes; a
 * 30 KB page: 12,811 vs 12,535) and took longer.
 */
export const chooseCoding = (acceptEncoding: string | undefined): Coding | undefined => {
  if (acceptEncoding === undefined || acceptEncoding.length === 0) return undefined
  // Clients send a handful of distinct values, each thousands of times: parsed once each.
  const known = chosen.get(acceptEncoding)
  if (known !== undefined) return known === "identity" ? undefined : known
  const coding = parseAcceptEncoding(acceptEncoding)
  if (chosen.size >= 256) chosen.clear()
  chosen.set(acceptEncoding, coding ?? "identity")
  return coding
}

const chosen = new Map<string, Coding | "identity">()

const parseAcceptEncoding = (acceptEncoding: string): Coding | undefined => {
  let gzip = -1
  let br = -1
  let any = -1
  for (const part of acceptEncoding.split(",")) {
    const [name = "", ...parameters] = part.split(";")
    let q = 1
    for (const parameter of parameters) {
      if (!/^\s*q\s*=/i.test(parameter)) continue
      const match = QUALITY.exec(parameter)
      // A quality that cannot be read is not taken as consent.
      q = match === null ? 0 : Number(match[1])
    }
    switch (name.trim().toLowerCase()) {
      case "gzip":
      case "x-gzip":
        gzip = Math.max(gzip, q)
        break
      case "br":
        br = Math.max(br, q)
        break
      case "*":
        any = Math.max(any, q)
        break
    }
  }
  if (gzip < 0) gzip = any
  if (br < 0) br = any
  if (gzip <= 0 && br <= 0) return undefined
  return gzip >= br ? "gzip" : "br"
}

/** The strong ETag of the `coding` representation of the answer tagged `etag`. */
export const taggedFor = (etag: string, coding: Coding): string =>
  etag.endsWith("\"") ? `${etag.slice(0, -1)}+${coding}"` : etag

const CODED_TAG = /\+(?:gzip|br)"/g

/** A list of ETags as the handlers know them: each `"…+gzip"` / `"…+br"` back to `"…"`. */
export const identityTags = (header: string): string => header.replace(CODED_TAG, "\"")

/**
 * A read's `If-None-Match` as the handlers compare it: the tags of `coding`, the one its answer
 * would be sent in, back to the tags they were made from; another coding's left as they are, so
 * they match nothing (`+` is in none of Inkwell's own tags). RFC 9110 §13.1.2 compares the
 * tags with the selected representation's: a client holding the gzip form that now accepts br
 * only (or no coding) holds no form it would be sent, and gets the one it would (200, with its
 * ETag). Read as the post's version, that was a 304 telling it to use a gzip body it no longer
 * takes, with the identity ETag, which no 200 to it would carry (§15.4.5).
 * An identity tag still matches whatever the coding: identity is a form every client takes.
 */
export const selectedTags = (header: string, coding: Coding | undefined): string =>
  coding === undefined || !header.includes("+") ? header : header.replaceAll(`+${coding}"`, "\"")

/**
 * The ETag a 304 sends for the answer tagged `etag`: it confirms the representation the client
 * holds, so the `coding` one's when the client's `If-None-Match` named that.
 */
export const confirmedTag = (etag: string, coding: Coding | undefined, ifNoneMatch: string | undefined): string =>
  coding !== undefined && ifNoneMatch !== undefined && ifNoneMatch.includes(`+${coding}"`) ? taggedFor(etag, coding) : etag

export const compress = (coding: Coding, body: Uint8Array): Buffer =>
  coding === "gzip"
    ? zlib.gzipSync(body, { level: 6 })
    : zlib.brotliCompressSync(body, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 4,
        [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength
      }
    })

/** Compressed bodies by representation (coding, URL, strong ETag), bounded by bytes; oldest out first. */
class CompressedBodies {
  private readonly bodies = new Map<string, Uint8Array>()
  private bytes = 0

  constructor(readonly maxBytes: number) {}

  get(key: string): Uint8Array | undefined {
    return this.bodies.get(key)
  }

  set(key: string, body: Uint8Array): void {
    if (body.byteLength > this.maxBytes || this.bodies.has(key)) return
    this.bodies.set(key, body)
    this.bytes += body.byteLength
    while (this.bytes > this.maxBytes) {
      const oldest = this.bodies.entries().next()
      if (oldest.done === true) break
      this.bodies.delete(oldest.value[0])
      this.bytes -= oldest.value[1].byteLength
    }
  }

}

/** A compressed body, or `undefined` when compressing did not make it smaller. */
export interface Encoded {
  readonly coding: Coding
  readonly body: Uint8Array
  /** The representation's ETag (`undefined` when the answer had none). */
  readonly etag: string | undefined
}

const isStrong = (etag: string | undefined): etag is string => etag !== undefined && etag.startsWith("\"")

export interface CompressionShape {
  readonly enabled: boolean
  /** Wraps the app: compresses answers to GET and HEAD, reads coded ETags back on every request. */
  readonly middleware: <E, R>(app: HttpApp.Default<E, R>) => HttpApp.Default<E, R>
  /**
   * For a caller outside Effect (the front door): the `coding` form of a 200 answer's body, or
   * `undefined` when it is sent as it is (too small, not text, no smaller compressed).
   */
  readonly encode: (coding: Coding, url: string, contentType: string, body: Uint8Array, etag: string | undefined) => Encoded | undefined
}

export interface CompressionOptions {
  /** Off: every body is sent as it is, and nothing else changes. */
  readonly enabled: boolean
  /** Bound on the kept compressed bodies' total size, in bytes. */
  readonly maxBytes: number
}

const ACCEPT_ENCODING = "accept-encoding"

/** `vary` with Accept-Encoding added (before whatever the answer already varies on). */
export const varyOnEncoding = (vary: string | undefined): string =>
  vary === undefined || vary.trim() === "" ? ACCEPT_ENCODING : `${ACCEPT_ENCODING}, ${vary}`

export const make = (options: CompressionOptions): CompressionShape => {
  const kept = new CompressedBodies(options.maxBytes)

  // Beside the bodies a caller keeps (the response cache's answers): found by identity, no key
  // to build and hash, and gone with the answer. Measured on the front door, a keyed lookup per
  // hit cost ~10% of a cached answer's CPU.
  const besideBody = new WeakMap<Uint8Array, { gzip?: Uint8Array; br?: Uint8Array }>()

  const encode: CompressionShape["encode"] = (coding, url, contentType, body, etag) => {
    if (body.byteLength < MIN_BYTES || !compressible(contentType)) return undefined
    let variants = besideBody.get(body)
    let compressed = variants?.[coding]
    if (compressed === undefined) {
      // Not a list's (`isListEtag`): anyone can ask for new ones (`?q=…`), and each kept would
      // push out the coded posts and pages; a list the response cache keeps has its coded forms
      // beside its body.
      const key = isStrong(etag) && !isListEtag(etag) ? `${coding} ${etag} ${url}` : undefined
      compressed = key === undefined ? undefined : kept.get(key)
      if (compressed === undefined) {
        compressed = compress(coding, body)
        // Remembered even when no smaller, so such a body is not compressed again.
        if (key !== undefined) kept.set(key, compressed)
      }
      if (variants === undefined) besideBody.set(body, variants = {})
      variants[coding] = compressed
    }
    if (compressed.byteLength >= body.byteLength) return undefined
    return { coding, body: compressed, etag: etag === undefined ? undefined : taggedFor(etag, coding) }
  }

  const answer = (
    response: HttpServerResponse.HttpServerResponse,
    coding: Coding | undefined,
    ifNoneMatch: string | undefined,
    url: string
  ): HttpServerResponse.HttpServerResponse => {
    if (response.status === 304) {
      const etag = response.headers["etag"]
      const varied = HttpServerResponse.setHeader(response, "vary", varyOnEncoding(response.headers["vary"]))
      return etag === undefined ? varied : HttpServerResponse.setHeader(varied, "etag", confirmedTag(etag, coding, ifNoneMatch))
    }
    const body = response.body
    if (
      body._tag !== "Uint8Array" || response.status === 204 || response.status === 206 ||
      response.headers["content-encoding"] !== undefined || !compressible(body.contentType)
    ) return response
    // Every answer of a compressible type says so, whatever its size: a cache then keeps one
    // answer per coding for the URL, which is what it needs once any answer there is coded.
    const varied = HttpServerResponse.setHeader(response, "vary", varyOnEncoding(response.headers["vary"]))
    if (coding === undefined) return varied
    const etag = response.headers["etag"]
    const encoded = encode(coding, url, body.contentType, body.body, etag)
    if (encoded === undefined) return varied
    return HttpServerResponse.setHeaders(
      HttpServerResponse.setBody(varied, HttpBody.uint8Array(encoded.body, body.contentType)),
      encoded.etag === undefined ? { "content-encoding": coding } : { "content-encoding": coding, etag: encoded.etag }
    )
  }

  const middleware = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
    Effect.withFiberRuntime((fiber) => {
      const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
      const ifNoneMatch = request.headers["if-none-match"]
      const ifMatch = request.headers["if-match"]
      const read = request.method === "GET" || request.method === "HEAD"
      const coding = read ? chooseCoding(request.headers[ACCEPT_ENCODING]) : undefined
      // Only requests that carry a coded tag are rebuilt; the rest pass as they came. A read
      // compares with the form it would be sent (`selectedTags`); a write, with the post's version.
      let inner = app
      if ((ifNoneMatch !== undefined && ifNoneMatch.includes("+")) || (ifMatch !== undefined && ifMatch.includes("+"))) {
        let headers = request.headers
        if (ifNoneMatch !== undefined) headers = Headers.set(headers, "if-none-match", read ? selectedTags(ifNoneMatch, coding) : identityTags(ifNoneMatch))
        if (ifMatch !== undefined) headers = Headers.set(headers, "if-match", identityTags(ifMatch))
        inner = Effect.provideService(app, HttpServerRequest.HttpServerRequest, request.modify({ headers }))
      }
      if (!read) return inner
      return Effect.map(inner, (response) => answer(response, coding, ifNoneMatch, request.url))
    })

  return options.enabled
    ? { enabled: true, middleware, encode }
    : { enabled: false, middleware: (app) => app, encode: () => undefined }
}

export class Compression extends Context.Tag("Inkwell/Compression")<Compression, CompressionShape>() {
  static readonly layer = (options: CompressionOptions): Layer.Layer<Compression> => Layer.sync(Compression, () => make(options))

  /** HTTP_COMPRESSION, HTTP_COMPRESSION_MAX_BYTES. */
  static readonly layerConfig: Layer.Layer<Compression, ConfigError.ConfigError> = Layer.unwrapEffect(
    Effect.map(HttpConfig.CompressionConfig, Compression.layer)
  )
}
