/**
 * Every way fetching or reading a remote source can fail. Each error names the URL (or file) at
 * fault and how many attempts were made, so a summary line alone tells what happened.
 *
 * Schema.TaggedError so that `POST /posts/import-url` can report them as they are; `cause`
 * (a library error) is for logs and never crosses the wire.
 */
import { Schema } from "effect"
import { anAddress } from "./Destination.js"

/** Not an absolute http: or https: URL (also for a redirect's `Location`). */
export class InvalidUrl extends Schema.TaggedError<InvalidUrl>()("InvalidUrl", {
  url: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `invalid URL "${this.url}": ${this.reason}`
  }
}

/** One attempt took longer than the per-request timeout, or all attempts together passed the deadline. */
export class RequestTimeout extends Schema.TaggedError<RequestTimeout>()("RequestTimeout", {
  url: Schema.String,
  attempts: Schema.Int,
  timeoutMs: Schema.Number,
  /** true when the deadline of the fetch (FEED_DEADLINE: all its attempts and waits) ran out, false for one attempt's timeout. */
  deadline: Schema.Boolean
}) {
  override get message() {
    return this.deadline
      ? `${this.url}: gave up after ${this.timeoutMs} ms in total (${this.attempts} attempt(s))`
      : `${this.url}: no answer within ${this.timeoutMs} ms (attempt ${this.attempts})`
  }
}

/** The server answered with a status that is not 2xx (after following redirects). */
export class HttpStatusError extends Schema.TaggedError<HttpStatusError>()("HttpStatusError", {
  url: Schema.String,
  attempts: Schema.Int,
  status: Schema.Int,
  /** From `Retry-After` (429, 503), already converted to milliseconds. */
  retryAfterMs: Schema.optional(Schema.Number),
  /**
   * Why a status worth another attempt was not retried: its `Retry-After` asks for a longer wait
   * than the client makes (FEED_BACKOFF_CAP) or than its deadline leaves. Never retried.
   */
  notRetried: Schema.optional(Schema.String)
}) {
  override get message() {
    return `${this.url}: HTTP ${this.status} (after ${this.attempts} attempt(s))${this.notRetried === undefined ? "" : `: ${this.notRetried}`}`
  }
}

/**
 * A source took longer than its deadline (FEED_SOURCE_DEADLINE, when set) to fetch: all its fetches together (the
 * pages of a paged feed, the posts of another Inkwell), waits between attempts included. Time the
 * import spends on what was fetched does not count. What the source gave before is imported.
 */
export class SourceDeadline extends Schema.TaggedError<SourceDeadline>()("SourceDeadline", {
  /** The source. */
  url: Schema.String,
  deadlineMs: Schema.Number,
  /** Documents of it fetched in time. */
  fetched: Schema.Int,
  /** What was being fetched (or about to be) when the time ran out. */
  fetching: Schema.String
}) {
  override get message() {
    const where = this.fetching === this.url ? "" : `, stopped at ${this.fetching}`
    return `${this.url}: not fetched within its deadline of ${this.deadlineMs / 1000} s (FEED_SOURCE_DEADLINE, all its pages and posts together): ${this.fetched} document(s) fetched${where}`
  }
}

/** The body passed the size limit; reading stopped (and the connection was closed) right there. */
export class ResponseTooLarge extends Schema.TaggedError<ResponseTooLarge>()("ResponseTooLarge", {
  url: Schema.String,
  attempts: Schema.Int,
  limitBytes: Schema.Number,
  /** Bytes read before giving up, or the announced Content-Length when that alone was too much. */
  receivedBytes: Schema.Number
}) {
  override get message() {
    return `${this.url}: response larger than ${this.limitBytes} bytes (stopped at ${this.receivedBytes})`
  }
}

/** What each `DecodeError.format` was read as, in a message. */
const FORMAT_NAMES: Readonly<Record<string, string>> = {
  json: "JSON",
  "json-feed": "a JSON Feed",
  xml: "RSS or Atom (XML)",
  ghost: "a Ghost export",
  inkwell: "an Inkwell /posts page"
}

/** Where nothing more precise than "somewhere in it" is known: left out of the message. */
const NOWHERE = new Set(["", "(root)", "(unknown)"])

/** The body is not what it claims to be: bad JSON or XML, or a structure that does not match the format. */
export class DecodeError extends Schema.TaggedError<DecodeError>()("DecodeError", {
  url: Schema.String,
  /**
   * What it was read as: "json", "json-feed", "xml" (RSS/Atom), "ghost", "inkwell", "http" (the
   * body's encoding); "html" (a page that links to no feed) and "unknown" (none of them) are not feeds.
   */
  format: Schema.String,
  /** Where: a schema path ("items.3.id") or a parser position ("line 4, column 7", "byte 1234"); "(root)" or "(unknown)" when nowhere in particular. */
  path: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    if (this.format === "unknown" || this.format === "html") return `${this.url}: not a feed: ${this.reason}`
    if (this.format === "http") return `${this.url}: ${this.reason}`
    const where = NOWHERE.has(this.path) ? "" : this.path.startsWith("near ") ? ` ${this.path}` : ` at ${this.path}`
    return `${this.url}: cannot read as ${FORMAT_NAMES[this.format] ?? this.format}${where}: ${this.reason}`
  }
}

/** Connection refused or reset, DNS failure, a body cut off mid-way. */
export class NetworkError extends Schema.TaggedError<NetworkError>()("NetworkError", {
  url: Schema.String,
  attempts: Schema.Int,
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return `${this.url}: ${this.reason} (attempt ${this.attempts})`
  }
}

/** Redirects went round in a circle or past the limit, or a redirect had no usable `Location`. */
export class TooManyRedirects extends Schema.TaggedError<TooManyRedirects>()("TooManyRedirects", {
  url: Schema.String,
  /** Every URL visited, in order, ending with the one that was refused. */
  chain: Schema.Array(Schema.String),
  reason: Schema.Literal("loop", "limit")
}) {
  override get message() {
    return this.reason === "loop"
      ? `${this.url}: redirect loop: ${this.chain.join(" → ")}`
      : `${this.url}: more than ${this.chain.length - 2} redirects: ${this.chain.join(" → ")}`
  }
}

/**
 * The server may not fetch from there: the URL's host is, or resolves to, an address of its own
 * network (loopback, private, link-local, ...). Only the server's client refuses these (see
 * Destination.ts); `FEED_ALLOW_PRIVATE=true` turns the check off.
 */
export class DestinationRefused extends Schema.TaggedError<DestinationRefused>()("DestinationRefused", {
  url: Schema.String,
  /** The URL's host as written (a name, or the literal IP). */
  host: Schema.String,
  /** The address refused: the literal IP, or what `host` resolved to. */
  address: Schema.String,
  /** "loopback", "private", "link-local", "unspecified", "multicast", "shared (CGNAT)", "broadcast". */
  kind: Schema.String
}) {
  override get message() {
    // A name's address is not said: a caller could map the server's own network by it.
    const what = this.host === this.address ? `${this.address} is` : `${this.host} resolves to`
    return `${this.url}: ${what} ${anAddress(this.kind)}, which the server does not fetch from; set FEED_ALLOW_PRIVATE=true to allow`
  }
}

/** Every failure of the feed client and the sources built on it. */
export type FeedError =
  | InvalidUrl
  | RequestTimeout
  | HttpStatusError
  | ResponseTooLarge
  | DecodeError
  | NetworkError
  | TooManyRedirects
  | DestinationRefused
  | SourceDeadline

/**
 * Failures worth another attempt: the network, timeouts of one attempt, 408, 429 (with a
 * `Retry-After` or without: then after the backoff) and 5xx, but not one whose `Retry-After` asks
 * for a longer wait than the client makes (`notRetried`). Everything else (4xx, too large,
 * undecodable, redirect trouble, a deadline) would fail the same way again.
 */
export const isTransient = (error: FeedError): boolean => {
  switch (error._tag) {
    case "NetworkError":
      return true
    case "RequestTimeout":
      return !error.deadline
    case "HttpStatusError":
      return error.notRetried === undefined && (error.status === 408 || error.status === 429 || error.status >= 500)
    default:
      return false
  }
}
