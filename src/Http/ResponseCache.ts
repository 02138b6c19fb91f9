/**
 * ResponseCache: the public read endpoints answered from memory.
 *
 * `GET /posts/:slug`, `GET /posts?...` and `GET /tags` without credentials are answered by the
 * full HttpApi path once; the 200 response it produced (encoded bytes, `ETag`: a post's version
 * and content hash, a list's hash of its JSON) is kept, and later requests for the same URL get
 * that very response, or `304` when their `If-None-Match` names its ETag. A request with a key
 * (which may see drafts) always takes the full path. The middleware sits inside the request
 * logger, so every request is still logged.
 * The reader site's answers are kept too, when they say they may be (a public Cache-Control and
 * an ETag: pages, feeds, sitemap; never a 404 or a redirect) and their URL is their path as the
 * router reads it (`isSitePage`: no query, so search results are made each time): a post page
 * made again cost ~44 times the CPU of one the front door answers from memory. They keep their
 * own headers (the front door sends them as they are), and their max-age is cut on a hit to the
 * seconds left until the next scheduled post, unless the answer said it does not change then
 * (`ScheduleFree`: robots.txt, the stylesheet).
 *
 * Invalidation:
 *   - a write through this server (any POST/PUT/PATCH/DELETE under /posts) drops the post it
 *     names (and every list and site page), or everything for bulk imports, unless its handler said it wrote
 *     nothing (a dry run: `NothingWritten`) or it was refused (401);
 *   - a write through `Posts` in this process (a handler's, or the host's own code's) drops the
 *     posts it names and every list and site page before it returns (`Posts.followWrites`),
 *     whatever the repository, the in-memory one included;
 *   - PostChanges notifications drop the named post, Reset drops all: every committed write, by
 *     any process on the database, is announced there by AnnouncingPostRepository (LISTEN/NOTIFY
 *     on PostgreSQL). While the LISTEN connection is down (`Lost` until `Reset`) other processes'
 *     writes go unheard: everything is dropped and nothing is kept until it is back;
 *   - on SQLite, `PRAGMA data_version` is polled each second when the DatabasePool is present:
 *     a commit by another process (e.g. `inkwell import` on the same file) drops everything;
 *   - RESPONSE_CACHE_TTL bounds whatever nothing announced;
 *   - a list changes without any write when a scheduled post's time comes: a list is stored
 *     with the earliest publication after its read began (`Posts.nextScheduled`, one indexed
 *     query per list stored, none per hit), and is not answered from that instant on. A post's
 *     own answer needs no such bound: only a public post's 200 is kept, and it stays public.
 *     A renamed post's old slug answers a 301, which is never kept (no 3xx is: `keepable`):
 *     where it leads changes with writes that name only the post's new slug.
 * A read that started before an invalidation never stores its (possibly stale) answer. Time is
 * Effect's `Clock` of the layer (`TestClock` in tests), read synchronously on a hit.
 *
 * Bounded by entries (RESPONSE_CACHE_SIZE) and bytes (RESPONSE_CACHE_MAX_BYTES). Eviction is
 * "second chance" (CLOCK), an approximation of least-recently-used: a hit only marks its entry;
 * when room is needed, the oldest entry goes unless it was read since it was last looked at,
 * in which case it is moved to the back, unmarked. A hit never changes the Map: moving the entry
 * to the back on every hit (delete + set) left a deleted slot in the key's hash chain each time,
 * so a hot key made every hit walk a chain of thousands of dead slots until V8 rehashed the table
 * (measured: 28% of the CPU of `GET /posts?limit=20` answered from the cache).
 */
import { HttpServerError, HttpServerRequest, HttpServerResponse, type HttpApp } from "@effect/platform"
import { Cause, Context, DateTime, Duration, Effect, type Exit, Layer, Option, Schedule, Stream } from "effect"
import { DatabasePool } from "../Database/DatabasePool.js"
import { ALL_POSTS, PostChanges } from "../Database/PostChanges.js"
import { Posts } from "../Posts/Posts.js"
import * as HttpConfig from "./HttpConfig.js"
import { matchesIfNoneMatch } from "./IfNoneMatch.js"
import { normalEscapes, percentDecoded, routedPath } from "./Middleware.js"
import { NothingWritten } from "./NothingWritten.js"
import { ScheduleFree } from "./ScheduleFree.js"

export { ALL_POSTS }

export interface ResponseCacheOptions {
  /** 0 turns caching off (the middleware then passes every request through). */
  readonly maxEntries: number
  readonly maxBytes: number
  readonly ttl: Duration.DurationInput
}

export interface CacheStats {
  readonly entries: number
  readonly bytes: number
  readonly hits: number
  readonly misses: number
}

interface Entry {
  readonly answer: CachedAnswer
  readonly notModifiedAnswer: CachedAnswer
  readonly ok: HttpServerResponse.HttpServerResponse
  readonly notModified: HttpServerResponse.HttpServerResponse | undefined
  readonly etag: string | undefined
  readonly bytes: number
  readonly storedAt: number
  /** Not answered from this instant on (epoch ms): a scheduled post appears in the list then. */
  readonly until: number
  /** A reader-site page's `max-age` as stored (site entries only): cut on a hit as `until` nears. */
  readonly maxAge: number | undefined
  /** Read since eviction last passed over it (second chance). */
  referenced: boolean
}

/** The cache proper: a bounded (second-chance) cache of responses, keyed by request URL. Synchronous, no Effects. */
export class ResponseStore {
  private readonly entries = new Map<string, Entry>()
  private bytes = 0
  /**
   * The kept lists, oldest first, and their bytes. Lists are the one kind of answer anyone can
   * multiply with real parameter values (`?offset=N`, `?tag=<anything>`: an empty page, a
   * cursor): they get a share of the cache (`LIST_SHARE`), and a stream of them pushes out older
   * lists only, never the posts and pages readers ask for.
   */
  private readonly lists = new Set<string>()
  private listBytes = 0
  /** Bumped by every invalidation: a miss stores its answer only if none happened meanwhile. */
  epoch = 0
  /** Nothing is kept while set: changes by other processes would go unheard (PostChanges `Lost`). */
  suspended = false
  hits = 0
  misses = 0

  constructor(readonly options: { readonly maxEntries: number; readonly maxBytes: number; readonly ttlMillis: number }) {}

  get(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) {
      this.misses++
      return undefined
    }
    if (now - entry.storedAt > this.options.ttlMillis || now >= entry.until) {
      this.remove(key)
      this.misses++
      return undefined
    }
    entry.referenced = true
    this.hits++
    return entry
  }

  set(key: string, entry: Entry): void {
    if (this.suspended || entry.bytes > this.options.maxBytes) return
    this.remove(key)
    entry.referenced = false
    this.entries.set(key, entry)
    this.bytes += entry.bytes
    if (key.startsWith(LIST_PREFIX)) {
      this.lists.add(key)
      this.listBytes += entry.bytes
      const maxLists = Math.max(1, Math.floor(this.options.maxEntries * LIST_SHARE))
      const maxListBytes = this.options.maxBytes * LIST_SHARE
      while (this.lists.size > maxLists || (this.listBytes > maxListBytes && this.lists.size > 1)) {
        this.remove(this.lists.values().next().value!)
      }
    }
    while (this.entries.size > this.options.maxEntries || this.bytes > this.options.maxBytes) {
      const oldest = this.entries.entries().next()
      if (oldest.done === true) break
      const [oldestKey, candidate] = oldest.value
      if (candidate.referenced) {
        candidate.referenced = false
        this.entries.delete(oldestKey)
        this.entries.set(oldestKey, candidate)
      } else {
        this.remove(oldestKey)
      }
    }
  }

  private remove(key: string): void {
    const entry = this.entries.get(key)
    if (entry === undefined) return
    this.entries.delete(key)
    this.bytes -= entry.bytes
    if (this.lists.delete(key)) this.listBytes -= entry.bytes
  }

  /**
   * Drops the post at `slug`, every list (any post may appear in a list) and every reader-site
   * page (each lists posts, or links a post's neighbours).
   */
  invalidate(slug: string): void {
    this.epoch++
    if (slug === ALL_POSTS) return this.clear()
    this.remove(postKey(slug))
    for (const key of Array.from(this.entries.keys())) if (isList(key) || key.startsWith(SITE_PREFIX)) this.remove(key)
  }

  clear(): void {
    this.epoch++
    this.entries.clear()
    this.bytes = 0
    this.lists.clear()
    this.listBytes = 0
  }

  get stats(): CacheStats {
    return { entries: this.entries.size, bytes: this.bytes, hits: this.hits, misses: this.misses }
  }
}

const LIST_PREFIX = "/posts?"
/**
 * The API's tag counts: a list (any write may change them), kept and dropped as the lists are;
 * one URL, so outside the lists' share.
 */
const TAGS_KEY = "/tags"
const isList = (key: string): boolean => key.startsWith(LIST_PREFIX) || key === TAGS_KEY
/** The most of the cache's entries, and of its bytes, that lists may hold (`ResponseStore.lists`). */
const LIST_SHARE = 1 / 4
/** Reader-site answers (pages, feeds, sitemap), keyed by this and their URL as sent. */
const SITE_PREFIX = "site:"

/**
 * A site URL whose answer may be kept: one that is the path the router matches, as it is
 * (`routedPath`): no query, nothing the router cuts off (`;…`, `#…`) or reads past (doubled
 * slashes, an absolute-form target's `http://host`), its escapes written one way
 * (`escapesNormal`). Anyone can make up queries (`/search?q=…`, `/?utm_source=…`) and such
 * spellings (`/p/x;1`, `/p/x;2`, …): kept, each would be an entry, and a stream of them would
 * push out the pages readers ask for. Such requests are made each time (and the site answers
 * most with a 301 to the page's one URL: `Routes.isCanonical`).
 * One trailing slash is let through: the home page of a site under SITE_URL's path, asked with
 * the path (`/blog/`), is there, and was made on every request. It is one more key a path at
 * most, and whether one is kept is the answer's to say (`keepable`): the site's other pages
 * answer it with a 301 (`/p/x/`), which is never kept. Every key is the URL as sent, so the
 * same page asked at `/p/x` and `/blog/p/x` is two entries of the same bytes: a page does not
 * depend on which of the two it was asked at (its links and canonical URL are SITE_URL's).
 */
const isSitePage = (url: string): boolean => {
  const routed = routedPath(url)
  return (routed === url || `${routed}/` === url) && (!url.includes("%") || escapesNormal(url))
}

/**
 * Whether every `%XX` in `url` is as a URL's one spelling writes it (`normalEscapes`): hex digits
 * in upper case, and only for a character that must be escaped, as the site writes its links.
 * The router decodes them all: `/p/%68ello`, `/p/h%65llo` and `/p/%68%65llo` are each
 * `/p/hello`'s page (now a 301 there), and were each an entry of their own.
 */
const escapesNormal = (url: string): boolean => normalEscapes(url) === url

const postKey = (slug: string) => `/posts/${slug}`

/**
 * The key of a public read of `url` (under `/posts`), `undefined` for one that is not kept.
 * A list is keyed by its URL as sent (every write drops every list), if it carries only list
 * parameters (`isKeptList`). A post by its decoded
 * slug, as the router reads it and as writes and PostChanges name it: keyed by the URL as sent,
 * `/posts/gro%C3%9Fe` was never reached by the invalidation of `größe`, and an edited or deleted
 * post was served for a whole TTL. Most URLs have nothing to decode and are their own key.
 * Only `/posts/<slug>` as written is a post's read: the router also takes `/posts/x;v=1`,
 * `/posts/x/` and `/posts//x` for post `x` (`Middleware.routedPath`), and `/posts/x?a=b`
 * carries a query; none of them is kept (kept, `/posts/x;` was an entry that no invalidation of
 * `x` reached: a post unpublished or deleted was still served there).
 */
const readKey = (url: string): string | undefined => {
  if (url === "/posts") return LIST_PREFIX
  if (url.startsWith(LIST_PREFIX)) return isKeptList(url) ? url : undefined
  if (url.charCodeAt(6) !== 47 /* "/" */ || !url.startsWith("/posts/")) return undefined
  const slug = url.slice("/posts/".length)
  if (slug.length === 0 || /[/?#;]/.test(slug)) return undefined
  return slug.includes("%") ? postKey(decodeSlug(slug)) : url
}

/** The list parameters a kept list may carry (`ListParams` but `q`), each at most once. */
const LIST_PARAMETERS = new Set(["tag", "status", "limit", "cursor", "offset"])

/**
 * A list URL whose answer may be kept: its query names only `LIST_PARAMETERS`, each once, and
 * nothing the router cuts (`#`). Search results (`q`) are made each time, as the reader site's
 * are: anyone can send a new query, and each was an entry, a stream of them pushing out the posts
 * and pages readers ask for; so was any made-up parameter when the API ignored it (`/posts?x=1`,
 * `/posts?x=2`, ...: now refused, 400, by `ListParams`).
 */
const isKeptList = (url: string): boolean => {
  if (url.includes("#")) return false
  const seen = new Set<string>()
  for (const pair of url.slice(LIST_PREFIX.length).split("&")) {
    const at = pair.indexOf("=")
    const name = at === -1 ? pair : pair.slice(0, at)
    if (!LIST_PARAMETERS.has(name) || seen.has(name)) return false
    seen.add(name)
  }
  return true
}

/** What a request is, for the cache: a cacheable read (its key), a write (what it touches), or neither. */
type Kind =
  | { readonly _tag: "Read"; readonly key: string }
  | { readonly _tag: "Write"; readonly slug: string | undefined; readonly bulk: boolean }
  | { readonly _tag: "Other" }

const OTHER: Kind = { _tag: "Other" }
const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"])
const BULK_PATHS = new Set(["/posts/import", "/posts/import-url"])

/**
 * The key a public read of `url` is kept under; `undefined` for a URL never kept. A URL outside
 * /posts may be a reader-site page: whether it is kept is the answer's to say (`toEntry`: a
 * public Cache-Control and an ETag).
 */
const keyOf = (url: string): string | undefined =>
  url === TAGS_KEY ? TAGS_KEY : !url.startsWith("/posts") ? (isSitePage(url) ? SITE_PREFIX + url : undefined) : readKey(url)

const kindOf = (request: HttpServerRequest.HttpServerRequest): Kind => {
  const url = request.url
  if (request.method !== "GET") return writeOf(request.method, url)
  // Credentials may unlock drafts: such reads always take the full path. The site shows no
  // drafts, but a keyed request takes the full path as the API's do.
  if (request.headers["x-api-key"] !== undefined || request.headers["authorization"] !== undefined) return OTHER
  const key = keyOf(url)
  return key === undefined ? OTHER : { _tag: "Read", key }
}

/**
 * A write, by the path the router routes it by (`routedPath`): `PUT /posts/x;` and
 * `DELETE /posts/x/` write post `x`, and must drop it. Any other method is no write.
 */
const writeOf = (method: string, url: string): Kind => {
  if (!WRITE_METHODS.has(method)) return OTHER
  const path = routedPath(url)
  // A dry run of either is a write that says it wrote nothing (NothingWritten).
  if (BULK_PATHS.has(path)) return { _tag: "Write", slug: ALL_POSTS, bulk: true }
  if (path === "/posts") return { _tag: "Write", slug: undefined, bulk: false }
  if (!path.startsWith("/posts/")) return OTHER
  const slug = path.slice("/posts/".length)
  // No endpoint writes at a deeper path: what one would touch is not known, so everything goes.
  return { _tag: "Write", slug: slug.includes("/") ? ALL_POSTS : decodeSlug(slug), bulk: false }
}

/**
 * A slug of a URL as the API reads it (`SlugPath`): decoded, in NFC. `/posts/cafe%CC%81` answers
 * post `café`, so it is that post's entry, which a write of `café` drops.
 */
const decodeSlug = (raw: string): string => (percentDecoded(raw) ?? raw).normalize("NFC")

/** Refused for its credentials (401), or routed nowhere (405, or the router's miss): nothing was written. */
const reachedNoEndpoint = (exit: Exit.Exit<HttpServerResponse.HttpServerResponse, unknown>): boolean =>
  exit._tag === "Success"
    ? exit.value.status === 401 || exit.value.status === 405
    : Cause.squash(exit.cause) instanceof HttpServerError.RouteNotFound

/** The slug a `201 Created` names in its Location header (`.../posts/<slug>`). */
const createdSlug = (response: HttpServerResponse.HttpServerResponse): string | undefined => {
  const location = response.headers["location"]
  if (location === undefined) return undefined
  const slash = location.lastIndexOf("/")
  return slash === -1 ? undefined : decodeSlug(location.slice(slash + 1))
}

const MAX_AGE = /max-age=(\d+)/

/** Whether `toEntry` keeps `response` (as a site answer when `site`). */
const keepable = (response: HttpServerResponse.HttpServerResponse, site: boolean): boolean => {
  if (response.status !== 200 || response.body._tag !== "Uint8Array") return false
  if (!site) return true
  const cacheControl = response.headers["cache-control"]
  return response.headers["etag"] !== undefined && cacheControl !== undefined && cacheControl.startsWith("public") &&
    MAX_AGE.test(cacheControl)
}

/**
 * What is kept of a 200: an API read's encoded body, or a reader-site answer that says it may be
 * kept (a strong ETag and a public Cache-Control: pages, feeds, sitemap, robots, stylesheet;
 * never a 404, a redirect or the health checks). `site`: the key is a site key.
 */
const toEntry = (response: HttpServerResponse.HttpServerResponse, now: number, until: number, site: boolean): Entry | undefined => {
  if (!keepable(response, site) || response.body._tag !== "Uint8Array") return undefined
  const etag = response.headers["etag"]
  const maxAge = site ? Number(MAX_AGE.exec(response.headers["cache-control"]!)![1]) : undefined
  const bytes = response.body.body
  // A Buffer view of the same bytes (no copy): Node's socket writes take a plain Uint8Array
  // only after wrapping it in a Buffer, on every response.
  const body = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  // The answer's own headers: not the body's type and length, which each answer states for the
  // body it sends (the coded one's length differs; a 304 has none).
  const own = site ? Object.entries(response.headers).filter(([name]) => name !== "content-type" && name !== "content-length") : undefined
  const headers = own === undefined ? undefined : own.flat()
  const answer: CachedAnswer = { status: 200, etag, contentType: response.body.contentType, body, ...(headers && { headers }) }
  return {
    answer,
    notModifiedAnswer: { status: 304, etag, contentType: response.body.contentType, body: EMPTY, ...(headers && { headers }) },
    ok: response,
    // A site page's 304 carries its headers (Cache-Control, security headers, Last-Modified), as
    // the site's own 304 does; an API read's, its ETag.
    notModified: etag === undefined
      ? undefined
      : HttpServerResponse.empty({ status: 304, headers: own !== undefined ? Object.fromEntries(own) : { etag } }),
    etag,
    bytes: response.body.body.byteLength,
    storedAt: now,
    until,
    maxAge,
    referenced: false
  }
}

/**
 * A kept site answer as of `now`: its max-age cut to the seconds left until `until` (a scheduled
 * post's time), so no browser keeps it past the moment the site changes; as stored otherwise.
 */
const siteAnswer = (response: HttpServerResponse.HttpServerResponse, entry: Entry, now: number): HttpServerResponse.HttpServerResponse => {
  const left = maxAgeLeft(entry, now)
  if (left === undefined) return response
  const cacheControl = response.headers["cache-control"]!
  return HttpServerResponse.setHeader(response, "cache-control", cacheControl.replace(MAX_AGE, `max-age=${left}`))
}

/** A kept site answer's max-age as of `now`, when it must be less than as stored. */
const maxAgeLeft = (entry: Entry, now: number): number | undefined => {
  if (entry.until === Infinity || entry.maxAge === undefined) return undefined
  const left = Math.max(0, Math.floor((entry.until - now) / 1000))
  return left >= entry.maxAge ? undefined : left
}

/** `answer` (a site answer for the front door) with its max-age as `left`. */
const withMaxAge = (answer: CachedAnswer, left: number): CachedAnswer => {
  const headers = [...answer.headers!]
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === "cache-control") headers[i + 1] = headers[i + 1]!.replace(MAX_AGE, `max-age=${left}`)
  }
  return { ...answer, headers }
}

/** A cached answer, for a caller outside Effect (the Node front door in Server.ts). */
export interface CachedAnswer {
  readonly status: 200 | 304
  readonly etag: string | undefined
  readonly contentType: string
  /** Empty for 304. */
  readonly body: Uint8Array
  /**
   * A reader-site answer's own headers, as `[name, value, ...]` (Cache-Control, the security
   * headers, ETag, Last-Modified), sent as they are; absent for the API's reads, whose headers
   * are the front door's fixed set.
   */
  readonly headers?: ReadonlyArray<string>
}

const EMPTY = new Uint8Array(0)

export interface ResponseCacheShape {
  /**
   * The cached answer to a request, or `undefined` when it must take the full path (not a
   * cacheable read, not cached, expired, or credentials sent); a HEAD gets the GET's answer.
   * Synchronous and allocation-free on a hit, so a Node request listener can answer before any
   * fiber starts (the front door reads the two headers it needs off `rawHeaders`).
   */
  readonly lookup: (
    method: string,
    url: string,
    /** X-API-Key or Authorization was sent (such a caller may see drafts: never cached). */
    credentials: boolean,
    /** If-None-Match, repeated headers joined with ", " as Node joins them. */
    ifNoneMatch: string | undefined
  ) => CachedAnswer | undefined
  /** Wraps the API app: answers cacheable reads from memory, invalidates on writes. */
  readonly middleware: <E, R>(app: HttpApp.Default<E, R>) => HttpApp.Default<E, R>
  /** Drops the post at `slug` (and every list); `ALL_POSTS` drops everything. */
  readonly invalidate: (slug: string) => Effect.Effect<void>
  /**
   * `true`: drops everything and keeps nothing until called with `false` (which drops everything
   * again): for while changes by other processes cannot be heard.
   */
  readonly suspend: (suspended: boolean) => Effect.Effect<void>
  readonly stats: Effect.Effect<CacheStats>
}

/** What the cache reads besides requests; each has a default for a cache on its own. */
export interface ResponseCacheServices {
  /** Now, in epoch milliseconds (default `Date.now`; the layer passes its `Clock`'s). */
  readonly now?: () => number
  /**
   * The earliest instant after `after` (epoch ms) at which the public lists change without a
   * write (a scheduled post's time), `Infinity` for none. Without it lists last their TTL.
   */
  readonly nextScheduled?: (after: number) => Effect.Effect<number, unknown>
}

/** Builds the cache. */
export const make = (options: ResponseCacheOptions, services: ResponseCacheServices = {}): ResponseCacheShape => {
  const now = services.now ?? Date.now
  const nextScheduled = services.nextScheduled
  const store = new ResponseStore({
    maxEntries: options.maxEntries,
    maxBytes: options.maxBytes,
    ttlMillis: Duration.toMillis(Duration.decode(options.ttl))
  })

  const middleware = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
    options.maxEntries === 0
      ? app
      : Effect.withFiberRuntime((fiber) => {
          const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
          const kind = kindOf(request)
          if (kind._tag === "Other") return app
          if (kind._tag === "Read") {
            const started = now()
            const site = kind.key.startsWith(SITE_PREFIX)
            const entry = store.get(kind.key, started)
            if (entry !== undefined) {
              const answer = entry.notModified !== undefined && matchesIfNoneMatch(request.headers["if-none-match"], entry.etag!)
                ? entry.notModified
                : entry.ok
              return Effect.succeed(site ? siteAnswer(answer, entry, started) : answer)
            }
            const epoch = store.epoch
            const keep = (response: HttpServerResponse.HttpServerResponse, until: number) => {
              if (store.epoch !== epoch) return
              const fresh = toEntry(response, now(), until, site)
              if (fresh !== undefined) store.set(kind.key, fresh)
            }
            // A list, and every site page, changes when a scheduled post's time comes.
            if (nextScheduled === undefined || !(site || isList(kind.key))) {
              return Effect.map(app, (response) => {
                keep(response, Infinity)
                return response
              })
            }
            // Every site page but those that say they do not (ScheduleFree: robots.txt, the
            // stylesheet), which are kept as they are, for the TTL, their max-age never cut.
            let scheduleFree = false
            const read = site ? Effect.provideService(app, ScheduleFree, { say: () => void (scheduleFree = true) }) : app
            // The list was read at `started` or later: every post it left out for its date is
            // dated after `started`, so it is due no earlier than the answer. Not stored when
            // the answer cannot be had: the next read asks again.
            // Asked only for an answer that will be kept: every other GET (`/health`, `/ready`)
            // is a site key too, and must not cost a query.
            return Effect.flatMap(read, (response) =>
              store.epoch !== epoch || !keepable(response, site)
                ? Effect.succeed(response)
                : scheduleFree
                ? Effect.sync(() => {
                  keep(response, Infinity)
                  return response
                })
                : nextScheduled(started).pipe(
                  Effect.map((until) => keep(response, until)),
                  Effect.catchAllCause((cause) => Effect.logDebug("ResponseCache: next scheduled post unknown", cause)),
                  Effect.as(response)
                ))
          }
          // A write: whatever its outcome (a failed write may still have committed part of an
          // import), what it touches is dropped once it is done, unless its handler said it
          // wrote nothing, or it was refused for its credentials (401 is only ever answered
          // before any work: without this, anyone could empty the cache with a bare POST), or
          // it reached no endpoint (405 for a method the path does not take, 404 for a path
          // no route serves: `DELETE /posts` emptied the whole cache, without a key).
          let nothingWritten = false
          const said = { say: () => void (nothingWritten = true) }
          return Effect.onExit(Effect.provideService(app, NothingWritten, said), (exit) =>
            Effect.sync(() => {
              if (nothingWritten || reachedNoEndpoint(exit)) return
              const slug =
                kind.slug ?? (exit._tag === "Success" && exit.value.status === 201 ? createdSlug(exit.value) : undefined)
              store.invalidate(slug ?? ALL_POSTS)
            })
          )
        })

  const lookup: ResponseCacheShape["lookup"] = (method, url, credentials, ifNoneMatch) => {
    // A HEAD is a GET without the body: the same answer serves both.
    if (options.maxEntries === 0 || credentials || (method !== "GET" && method !== "HEAD")) return undefined
    const key = keyOf(url)
    if (key === undefined) return undefined
    const at = now()
    const entry = store.get(key, at)
    if (entry === undefined) return undefined
    const answer = entry.etag !== undefined && ifNoneMatch !== undefined && matchesIfNoneMatch(ifNoneMatch, entry.etag)
      ? entry.notModifiedAnswer
      : entry.answer
    if (!key.startsWith(SITE_PREFIX)) return answer // an API answer: its max-age as stored
    const left = maxAgeLeft(entry, at)
    return left === undefined ? answer : withMaxAge(answer, left)
  }

  return {
    lookup,
    middleware,
    invalidate: (slug) => Effect.sync(() => store.invalidate(slug)),
    suspend: (suspended) =>
      Effect.sync(() => {
        store.suspended = suspended
        store.invalidate(ALL_POSTS)
      }),
    stats: Effect.sync(() => store.stats)
  }
}

/** Drops entries as PostChanges reports changes (this process's own included: harmless). */
const followChanges = (cache: ResponseCacheShape) =>
  Effect.gen(function* () {
    const changes = yield* Effect.serviceOption(PostChanges)
    if (Option.isNone(changes)) return
    yield* changes.value.changes.pipe(
      Stream.runForEach((change) =>
        change._tag === "Changed"
          ? cache.invalidate(change.slug)
          // Lost: other processes' writes go unheard until Reset, which may take as long as the
          // database is away; answers kept meanwhile would be served stale for the whole TTL.
          : cache.suspend(change._tag === "Lost")
      ),
      Effect.forkScoped
    )
  })

/**
 * SQLite: another process committing to the same file (an import next to the server) changes
 * `PRAGMA data_version` for this connection; this connection's own commits do not.
 */
const followSqliteCommits = (cache: ResponseCacheShape) =>
  Effect.gen(function* () {
    const pool = yield* Effect.serviceOption(DatabasePool)
    if (Option.isNone(pool) || pool.value.dialect !== "sqlite") return
    let last: number | undefined
    const check = pool.value.use("ResponseCache.dataVersion", (sql) => sql<{ readonly data_version: number }>`PRAGMA data_version`).pipe(
      Effect.flatMap((rows) => {
        const version = Number(rows[0]?.data_version)
        const changed = last !== undefined && version !== last
        last = version
        return changed ? cache.invalidate(ALL_POSTS) : Effect.void
      }),
      Effect.catchAllCause((cause) => Effect.logDebug("ResponseCache: data_version check failed", cause))
    )
    yield* check.pipe(Effect.repeat(Schedule.spaced("1 second")), Effect.forkScoped)
  })

export class ResponseCache extends Context.Tag("Inkwell/ResponseCache")<ResponseCache, ResponseCacheShape>() {
  /**
   * With explicit settings, over the `Posts` the server writes and reads through: a write made
   * through it, by a handler or by the host's own code, drops what it made stale before it
   * returns (`Posts.followWrites`), and a cached list ends when a scheduled post's time comes
   * (`Posts.nextScheduled`). Required, so a cache composed where it cannot see `Posts` does not
   * compile: looked up when it was there, a cache built outside the posts layer kept a list
   * without its scheduled post for the whole TTL after the post's time, and served a post the
   * host had removed through `Posts` until the TTL.
   * Uses PostChanges and (SQLite) DatabasePool when the context has them: then writes by other
   * processes, and to the repository directly (an import), are heard too; without them the TTL
   * bounds those.
   */
  static readonly layer = (options: ResponseCacheOptions): Layer.Layer<ResponseCache, never, Posts> =>
    Layer.scoped(
      ResponseCache,
      Effect.gen(function* () {
        // Writes are announced to other processes by the repository (AnnouncingPostRepository).
        const clock = yield* Effect.clock
        const posts = yield* Posts
        const next = posts.nextScheduled
        const cache = make(options, {
          now: () => clock.unsafeCurrentTimeMillis(),
          ...(next === undefined ? {} : {
            nextScheduled: (after: number) =>
              Effect.map(next(DateTime.unsafeMake(after)), Option.match({ onNone: () => Infinity, onSome: DateTime.toEpochMillis }))
          })
        })
        if (options.maxEntries > 0) {
          yield* posts.followWrites((slugs) => Effect.forEach(slugs, cache.invalidate, { discard: true }))
          yield* followChanges(cache)
          yield* followSqliteCommits(cache)
        }
        return cache
      })
    )

  /** RESPONSE_CACHE_SIZE, RESPONSE_CACHE_MAX_BYTES, RESPONSE_CACHE_TTL. */
  static readonly layerConfig = Layer.unwrapEffect(Effect.map(HttpConfig.ResponseCacheConfig, ResponseCache.layer))
}
