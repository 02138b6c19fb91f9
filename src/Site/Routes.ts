/**
 * The reader site over HTTP: pages, feeds, sitemap, robots.txt and the stylesheet, as an
 * `HttpRouter` that sits beside the JSON API in the same server.
 *
 * Every answer carries a Content-Security-Policy that forbids scripts (defence in depth behind
 * the sanitizer), Cache-Control, and, for documents, a strong ETag over the exact bytes plus
 * Last-Modified from the posts shown; a matching If-None-Match is answered 304 without a body.
 *
 * Mount it next to an `HttpApi` with `layer` (see notes/site-integration.md), or serve
 * `SiteRouter` on its own.
 */
import {
  HttpApiBuilder,
  HttpApp,
  HttpRouter,
  HttpServerError,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { Cause, Chunk, DateTime, Effect, Layer, Option } from "effect"
import { createHash } from "node:crypto"
import { transience, transienceLogged } from "../Database/Transient.js"
import type { RepositoryError } from "../Domain/Errors.js"
import { tagKey } from "../Domain/Post.js"
import type { PostRepository } from "../Posts/PostRepository.js"
import { type Document, type PageMoved, PageNotFound, Site } from "./Site.js"
import { SiteConfig } from "./SiteConfig.js"
import { allowedMethodsAt } from "../Http/AllowedMethods.js"
import { LIST_ETAG_START, matchesIfNoneMatch } from "../Http/IfNoneMatch.js"
import { sayScheduleFree } from "../Http/ScheduleFree.js"
import { IMAGE_SCHEMES } from "../Processing/sanitize.js"
import { decodedPath, methodAnswer, normalEscapes, pathOf, percentDecoded, queryPairsOf, routedPath, routerConfig } from "../Http/Middleware.js"
import { stylesheetVersion } from "./Theme.js"
import { type FeedFormat, makeUrls, routes } from "./Urls.js"

/**
 * No script runs, whatever a post contains. Inline `style` attributes stay (the sanitizer keeps
 * a safe subset for tables and layout); `<style>` elements and every other source of code do not.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  // The header's search form (GET /search) is the site's only form: it may submit to the site itself.
  "form-action 'self'",
  "frame-ancestors 'none'",
  // Every image the sanitizer keeps: an `http:` one was blocked here while it stayed in the post.
  // On an https page the browser upgrades such a request to https or refuses it as mixed content.
  `img-src 'self' ${IMAGE_SCHEMES.map((scheme) => `${scheme}:`).join(" ")}`,
  "media-src 'self' https:",
  "style-src 'self'",
  "style-src-attr 'unsafe-inline'",
  "font-src 'self'"
].join("; ")

const SECURITY_HEADERS = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "strict-origin-when-cross-origin"
} as const

const IMMUTABLE = "public, max-age=31536000, immutable"

/** A strong validator over the exact bytes sent (a list's marked as one: `isListEtag`). */
export const etagOf = (body: string, list = false): string => {
  const hash = createHash("sha256").update(body).digest("base64url").slice(0, 27)
  return list ? `${LIST_ETAG_START}${hash}"` : `"${hash}"`
}

/**
 * If-None-Match alone decides, read as the API and the response cache read it
 * (`matchesIfNoneMatch`). If-Modified-Since is not evaluated: a document's
 * Last-Modified is the newest change among the posts it shows, so deleting or unpublishing the
 * newest post moves it back in time, and a reader polling with If-Modified-Since was told 304
 * while the feed or page still listed the removed post. The strong ETag covers every change.
 */
export const isNotModified = (headers: Readonly<Record<string, string | undefined>>, etag: string): boolean =>
  matchesIfNoneMatch(headers["if-none-match"], etag)

const httpDate = (date: DateTime.Utc) => DateTime.toDateUtc(date).toUTCString()

/**
 * The max-age of an answer sent at `now` that may change at `changesAt` with no write (a
 * scheduled post goes public): `maxAgeSeconds`, cut to the whole seconds left until then
 * (rounded down, so no cached copy outlives it; 0 once it is due).
 */
export const maxAgeUntil = (maxAgeSeconds: number, now: DateTime.Utc, changesAt: Option.Option<DateTime.Utc>): number =>
  Option.match(changesAt, {
    onNone: () => maxAgeSeconds,
    onSome: (at) =>
      Math.min(maxAgeSeconds, Math.max(0, Math.floor((DateTime.toEpochMillis(at) - DateTime.toEpochMillis(now)) / 1000)))
  })

/**
 * A document's Last-Modified as sent at `now`: never later (RFC 9110 §8.8.2.1: an origin server
 * must not send one after its Date, and sends the time of the response instead). The dates a
 * document is made of are never after the posts' last writes (`announcedUpdateOf`); this is for
 * a write stamped by another instance on the same database whose clock runs ahead of this one's. An answer
 * kept with it stays right: it is no later than when the answer was made.
 */
export const lastModifiedAt = (lastModified: DateTime.Utc, now: DateTime.Utc): DateTime.Utc => DateTime.min(lastModified, now)

/** 200 with validators, or 304 when the client's copy is current. */
const respond = (document: Document, cacheControl: string) =>
  Effect.zipWith(HttpServerRequest.HttpServerRequest, DateTime.now, (request, now) => {
    const etag = etagOf(document.body, document.list === true)
    const headers: Record<string, string> = { ...SECURITY_HEADERS, "cache-control": cacheControl, etag }
    // The epoch stands for "no posts": nothing worth claiming as a modification time.
    if (document.lastModified !== undefined && DateTime.toEpochMillis(document.lastModified) > 0) {
      headers["last-modified"] = httpDate(lastModifiedAt(document.lastModified, now))
    }
    if (isNotModified(request.headers, etag)) {
      return HttpServerResponse.empty({ status: 304, headers })
    }
    return HttpServerResponse.text(document.body, { contentType: document.contentType, headers })
  })

const plain = (document: Document, status: number, cacheControl: string) =>
  HttpServerResponse.text(document.body, {
    status,
    contentType: document.contentType,
    headers: { ...SECURITY_HEADERS, "cache-control": cacheControl }
  })

/** The site's 404 page. */
const notFoundAnswer = (site: Site, error: PageNotFound) => plain(site.notFound(error), 404, "no-cache")

/** The site's 400 page: `message` says what could not be read. */
const badRequestAnswer = (site: Site, message: string) => plain(site.badRequest(message), 400, "no-cache")

/**
 * Whether the `q` a search reads (the first) does not percent-decode (`%FF`, a cut UTF-8
 * sequence): the router keeps such text as sent, and "%FF" was searched as the word "ff", where
 * the API answers 400 naming q.
 */
const unreadableSearch = (url: string): boolean => {
  if (!url.includes("%")) return false
  const q = queryPairsOf(url).find(({ name }) => (percentDecoded(name) ?? name) === "q")
  return q !== undefined && percentDecoded(q.value) === undefined
}

/** The site's 405 page, with the `Allow` the JSON answer (`methodAnswer`) carries. */
const methodNotAllowedAnswer = (site: Site, method: string, path: string, allowed: ReadonlyArray<string>) =>
  HttpServerResponse.setHeader(
    plain(site.methodNotAllowed(method, path, allowed), 405, "no-cache"),
    "allow",
    allowed.join(", ")
  )

/**
 * Positive page numbers as written in a path: "2", never "02", "+2" or "2.0" (404). The router
 * decodes parameters, so `/page/%32` would read as "2": it never gets here, `oneUrl` moves it to
 * `/page/2` first, as every escape of an unreserved character (`canonicalPath`).
 */
const pageNumber = (value: string | undefined): number | undefined =>
  value !== undefined && /^[1-9]\d{0,8}$/.test(value) ? Number(value) : undefined

/** A request target in absolute form (`GET http://host/p/x`): its scheme and authority. */
const ABSOLUTE_FORM = /^[a-z][a-z\d+.-]*:\/\/[^/]*/i

/**
 * The one spelling of the path of `url`, the path the router matches (`Middleware.routedPath`):
 * an absolute-form target's scheme and authority dropped, cut at the first `?`, `;` or `#` (the
 * router reads what follows either of the last two as the query too: `/p/x;v=1` and `/p/x#v`
 * are post `x`'s page), each run of slashes one slash, none at the end, and its escapes as the
 * site's links write them (`normalEscapes`: `/p/%6Fne` is `/p/one`, `/p/caf%c3%a9` is
 * `/p/caf%C3%A9`; the router decodes them all). Always starts with "/" and never with "//" or
 * "/\" (a backslash is written `%5C`, which the router reads back as the same character), so,
 * with the site's own prefix in front, a Location made of it stays on the site whatever the
 * request was.
 */
export const canonicalPath = (url: string): string =>
  normalEscapes(routedPath(`/${url.replace(ABSOLUTE_FORM, "")}`)).replace(/\\/g, "%5C")

/**
 * Whether a request for `url` (its path, without the query) is at its one spelling
 * (`canonicalPath`): not when the router took it for another's (`/p/x;v=1`, `/p/x#v`, `/p//x`,
 * `/p/x/`, `/p/%78`), each of which was a page of its own, answered and kept by the response cache under
 * its own key (a stream of `/p/x;N` pushed the pages readers ask for out of it; escapes written
 * otherwise were never kept, and made each time).
 * An absolute-form target (`GET http://host/p/x`, which a server must take, RFC 9112 §3.2.2)
 * is read by its path: it names the same resource as `/p/x` with that Host, and a 301 to that
 * path was answered again and again to a client that always sends that form.
 */
export const isCanonical = (path: string): boolean =>
  canonicalPath(path) === (path.replace(ABSOLUTE_FORM, "") || "/")

/** A path segment as the router compares it: percent-decoded (where it decodes), in NFC. */
const decodedSegment = (segment: string): string => (percentDecoded(segment) ?? segment).normalize("NFC")

/** The segments of SITE_URL's path (`/blog` is `["blog"]`), each as `withoutPrefix` compares them. */
export const prefixSegments = (prefix: string): ReadonlyArray<string> =>
  prefix.split("/").filter((segment) => segment !== "").map(decodedSegment)

/**
 * `url` (a request target) with SITE_URL's path (`prefix`, its `prefixSegments`) taken off its
 * front, for a request that came with it (through a proxy that passes the path on, or straight
 * to SITE_URL): `/blog/p/x?v=1` is `/p/x?v=1`, and whatever else is off in the rest (`/blog/p/x/`)
 * is kept, for `oneUrl` to move. The prefix is matched as the router matches a path: repeated
 * slashes as one, an absolute-form target by its path, case as written, each segment
 * percent-decoded (`/bl%C3%B6g` is `/blög`). The prefix alone (`/blog`, `/blog?x=1`) is what
 * follows it, not starting with "/": its page is at `/blog/`. `undefined` when `url` is not under it.
 */
export const withoutPrefix = (url: string, prefix: ReadonlyArray<string>): string | undefined => {
  const target = url.replace(ABSOLUTE_FORM, "")
  let at = 0
  for (const segment of prefix) {
    if (target.charCodeAt(at) !== 47 /* "/" */) return undefined
    while (target.charCodeAt(at) === 47) at++
    let end = at
    while (end < target.length && !"/?;#".includes(target[end]!)) end++
    if (decodedSegment(target.slice(at, end)) !== segment) return undefined
    at = end
  }
  return target.slice(at)
}

/** The part of `url` that `withoutPrefix` took off its front (leaving `inside`), as sent: `/bl%6Fg` of `/bl%6Fg/p/x`. */
const prefixAsSent = (url: string, inside: string): string => {
  const target = url.replace(ABSOLUTE_FORM, "")
  return target.slice(0, target.length - inside.length)
}

const FEED_FILES: ReadonlyArray<readonly [string, FeedFormat]> = [
  ["rss.xml", "rss"],
  ["atom.xml", "atom"],
  ["feed.json", "json"]
]

const CATCH_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const

const isRead = (request: HttpServerRequest.HttpServerRequest) => request.method === "GET" || request.method === "HEAD"

/**
 * Whether a request would rather have the site's 404 page than the API's JSON answer:
 * a browser navigating, not a client of the API.
 */
const wantsHtml = (request: HttpServerRequest.HttpServerRequest) => isRead(request) && acceptsHtml(request)

/** A browser, whatever the method: a form it posted is answered with a page, not JSON. */
const acceptsHtml = (request: HttpServerRequest.HttpServerRequest) => (request.headers["accept"] ?? "").includes("text/html")

/** `response` saying it was chosen by the request's Accept: `accept` added to its Vary. */
const varyOnAccept = (response: HttpServerResponse.HttpServerResponse): HttpServerResponse.HttpServerResponse => {
  const vary = response.headers["vary"]
  if (vary === undefined || vary.trim() === "") return HttpServerResponse.setHeader(response, "vary", "accept")
  const named = vary.split(",").map((name) => name.trim().toLowerCase())
  return named.includes("accept") || named.includes("*") ? response : HttpServerResponse.setHeader(response, "vary", `accept, ${vary}`)
}

/**
 * For an address the site and the API answer by Accept (`wantsHtml`, `acceptsHtml`): the
 * site's page to a browser, the API's JSON to anyone else, at one URL. Both say `Vary: Accept`,
 * or a shared cache may keep one and hand it to the other (a 404 is cacheable by default,
 * RFC 9110 §15.1); and the JSON one, which set no caching, `no-cache` as the page does. The
 * JSON is made of the router's failure further out (`Middleware`), after the site's code ran:
 * so a pre-response handler, which sees the answer as it leaves, whatever made it.
 */
const chosenByAccept = HttpApp.appendPreResponseHandler((_request, response) =>
  Effect.succeed(
    varyOnAccept(
      response.headers["cache-control"] === undefined ? HttpServerResponse.setHeader(response, "cache-control", "no-cache") : response
    )
  ))

/**
 * The site's routes. Needs `Site`; the API's routes are untouched, and a path neither serves
 * gets the site's 404 page in a browser and the API's JSON 404 anywhere else.
 */
export const SiteRouter = Effect.gen(function* () {
  const site = yield* Site
  const config = yield* SiteConfig
  const cache = `public, max-age=${config.maxAgeSeconds}`
  const urls = makeUrls(config)
  const words = site.words

  /**
   * A failed read's page, never stored, as the API answers it (`Site.failure`). A failure of the
   * moment (`transience`: the database unreachable or busy) is the 503 page, logged at WARN as
   * the API logs it; any other (a statement the database refused: a table dropped) the 500 page,
   * logged at ERROR, with no Retry-After (the pipeline adds one to 503s only). Every failure was
   * a 503 saying the database could not be reached, even one that no wait would mend.
   */
  const failed = (error: RepositoryError) => {
    const kind = transience(error)
    const logged = kind === undefined
      ? Effect.logError("site: the repository failed", error)
      : Effect.logWarning(`site: ${transienceLogged(kind, error._tag === "PoolTimeout" ? undefined : error.cause)}`, error)
    const { document, status } = site.failure(kind)
    return Effect.as(logged, plain(document, status, "no-store"))
  }

  /**
   * `Cache-Control` for what readers were shown as of `readAt` (taken before the read): every
   * page, feed and the sitemap lists posts (a post's page its previous/next), and the public
   * list changes with no write when a scheduled post's time comes, so max-age stops there: a
   * browser or CDN that kept the index for SITE_CACHE_MAX_AGE showed it without the new post for
   * that long. Counted from now, when the answer leaves, so the time the read took is not added.
   */
  const cacheControlSince = (readAt: DateTime.Utc) =>
    Effect.flatMap(site.nextChange(readAt), (changesAt) =>
      Effect.map(DateTime.now, (now) => `public, max-age=${maxAgeUntil(config.maxAgeSeconds, now, changesAt)}`))

  /** A permanent move, as cacheable as `cacheControl` says. */
  const movedTo = (location: string, cacheControl: string) =>
    HttpServerResponse.redirect(location, { status: 301, headers: { ...SECURITY_HEADERS, "cache-control": cacheControl } })

  /** A document, its 404, or the page of a failed read (`failed`). */
  const serve = (document: Effect.Effect<Document, PageNotFound | PageMoved | RepositoryError>) =>
    Effect.flatMap(DateTime.now, (readAt) =>
      document.pipe(
        Effect.flatMap((doc) => Effect.flatMap(cacheControlSince(readAt), (cacheControl) => respond(doc, cacheControl))),
        Effect.catchTag("PageNotFound", (error) => Effect.succeed(notFoundAnswer(site, error))),
        // A post's old slug: revalidated on every use, as the API's 301 for it (`movedResponse`).
        // Where it leads changes with later writes: kept for max-age, a post renamed a → b and
        // back within it left two cached 301s pointing at each other, a loop until they expired.
        Effect.catchTag("PageMoved", ({ location }) => Effect.succeed(movedTo(location, "no-cache"))),
        // No Retry-After of its own: the request pipeline adds RETRY_AFTER's to every 503, and a
        // fixed "5" here told readers another wait than the operator had set for the API.
        Effect.catchAll(failed)
      ))

  const missing = (message: string) => Effect.succeed(notFoundAnswer(site, new PageNotFound({ message })))

  /**
   * One address per tag: its pages and feeds live at its `tagKey` (`/tags/rust`), and another
   * spelling (`/tags/Rust`, `/tags/RUST/rss.xml`) is a 301 to `route` there, query kept. A
   * redirect rather than the page served again with a canonical link: feed readers move a
   * subscription on a 301 and never see a page's `<link rel="canonical">`, bookmarks and
   * crawlers converge on one URL, and caches hold one copy of a tag's page instead of one per
   * spelling. No Cache-Control, as /page/1's: a browser may keep this 301 as long as it likes,
   * since the key is a function of the tag alone.
   */
  const canonicalTag = <E, R>(tag: string, route: string, page: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) => {
    const key = tagKey(tag)
    return tag === key
      ? page
      : key === ""
      // Only spaces (`/tags/%20`), which the key trims away: no tag has that page.
      ? missing(words.noSuchTag)
      : spelledAt(route)
  }

  /** A 301 to `route`, the one spelling of the address asked for, query kept. */
  const spelledAt = (route: string) =>
    Effect.map(HttpServerRequest.HttpServerRequest, (request) =>
      HttpServerResponse.redirect(urls.path(route) + request.url.slice(pathOf(request.url).length), { status: 301, headers: SECURITY_HEADERS }))

  /**
   * A post's page at its slug in NFC, as slugs are stored: another spelling of it (`café` typed
   * with a combining accent, `/p/cafe%CC%81`), which looks the same and found nothing, is a 301
   * there, as `/p/x/` is; with no Cache-Control, as a tag's other spellings, since NFC is a
   * function of the slug alone.
   */
  const postPage = (slug: string) => {
    const nfc = slug.normalize("NFC")
    // Whatever else is off in the path (`/p/cafe%CC%81/`), the 301 goes straight to the one URL.
    return nfc === slug ? oneUrl(serve(site.post(slug))) : spelledAt(routes.post(nfc))
  }

  const listingPage = (tag?: string) =>
    Effect.flatMap(HttpRouter.params, (params) => {
      const page = pageNumber(params["page"])
      if (page === undefined) return missing(words.noSuchPage)
      if (tag !== undefined && tagKey(tag) === "") return missing(words.noSuchTag)
      // One URL per page: /page/1 is the home page (its query kept, as every other move keeps it).
      if (page === 1) return spelledAt(tag === undefined ? routes.home() : routes.tag(tag))
      return tag === undefined ? serve(site.home(page)) : canonicalTag(tag, routes.tag(tag, page), serve(site.tag(tag, page)))
    })

  const tagParam = Effect.map(HttpRouter.params, (params) => params["tag"] ?? "")

  const sitemapFile = (file: (n: number) => Effect.Effect<Document, PageNotFound | RepositoryError>) =>
    Effect.flatMap(HttpRouter.params, (params) => {
      const n = pageNumber(params["n"])
      return n === undefined ? missing(words.noSuchSitemap) : serve(file(n))
    })

  /**
   * One URL per page: the router matches a path with its slashes doubled or one more at the end
   * too (`/p//slug`, `/page/2/`, `/rss.xml/`), and answered it as a second page with the same
   * content, where relative links resolve elsewhere; it moves to `canonicalPath` instead (or to
   * `canonical`, when the route knows a better one), its query kept.
   */
  const oneUrl = <E, R>(page: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>, canonical?: string) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      const path = pathOf(request.url)
      return isCanonical(path)
        ? page
        : Effect.succeed(
          HttpServerResponse.redirect((canonical ?? urls.path(canonicalPath(path))) + request.url.slice(path.length), { status: 301, headers: SECURITY_HEADERS })
        )
    })
  const get = <E, R>(path: HttpRouter.PathInput, page: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
    HttpRouter.get(path, oneUrl(page))

  let router = HttpRouter.empty.pipe(
    get("/", serve(site.home(1))),
    get("/page/:page", listingPage()),
    HttpRouter.get("/p/:slug", Effect.flatMap(HttpRouter.params, (params) => postPage(params["slug"] ?? ""))),
    // Straight to the tag's key (`/tags/Rust/` to `/tags/rust`), not one move per fix.
    HttpRouter.get(
      "/tags/:tag",
      Effect.flatMap(tagParam, (tag) =>
        oneUrl(canonicalTag(tag, routes.tag(tag), serve(site.tag(tag, 1))), tagKey(tag) === "" ? undefined : urls.path(routes.tag(tag))))
    ),
    get("/tags/:tag/page/:page", Effect.flatMap(tagParam, (tag) => listingPage(tag))),
    get("/sitemap.xml", serve(site.sitemap())),
    // The files a sitemap index names (Sitemaps.ts), numbered from 1 as page numbers are written.
    get("/sitemap-posts-:n.xml", sitemapFile(site.sitemapPosts)),
    get("/sitemap-pages-:n.xml", sitemapFile(site.sitemapPages)),
    get(
      "/search",
      Effect.zipWith(HttpServerRequest.HttpServerRequest, HttpServerRequest.ParsedSearchParams, (request, params) => {
        if (unreadableSearch(request.url)) return Effect.succeed(badRequestAnswer(site, words.searchUnreadable))
        // A repeated parameter (`?q=a&q=b`) counts once, as the first.
        const first = (value: string | ReadonlyArray<string> | undefined) => (typeof value === "string" ? value : value?.[0])
        const page = first(params["page"])
        const number = page === undefined ? 1 : pageNumber(page)
        return number === undefined ? missing(words.noSuchPage) : serve(site.search(first(params["q"]) ?? "", number))
      }).pipe(Effect.flatten)
    ),
    // Neither lists posts: their max-age is never cut, and a response cache keeps them so.
    get("/robots.txt", Effect.zipRight(sayScheduleFree, respond(site.robots, cache))),
    get(
      "/assets/site.css",
      Effect.flatMap(HttpServerRequest.ParsedSearchParams, (params) =>
        // Versioned URLs never change; an unversioned or stale one is revalidated.
        Effect.zipRight(sayScheduleFree, respond(site.css, params["v"] === stylesheetVersion ? IMMUTABLE : cache))
      )
    ),
    // Browsers ask for it whatever the page says; an empty answer keeps their consoles clean.
    get("/favicon.ico", Effect.succeed(HttpServerResponse.empty({ status: 204, headers: { "cache-control": IMMUTABLE } })))
  )
  for (const [file, format] of FEED_FILES) {
    router = router.pipe(
      get(`/${file}`, serve(site.feed(format))),
      get(
        `/tags/:tag/${file}`,
        Effect.flatMap(tagParam, (tag) => canonicalTag(tag, routes.feed(format, tag), serve(site.feed(format, tag))))
      )
    )
  }
  /**
   * What the site's routes take at a path, read off them (so a route added is in `Allow`):
   * GET, HEAD and OPTIONS on every one of its paths.
   */
  const allowedAt = allowedMethodsAt(Chunk.toReadonlyArray(router.routes).map(({ method, path }) => ({ method, path })))

  /**
   * A path no route serves for this method. On one of the site's paths, OPTIONS is 204 and
   * another method than GET or HEAD (`POST /`) is 405, both with `Allow`, as the API answers on
   * its paths (`methodAnswer`): both were 404, as if nothing were there. `*` (`OPTIONS *`) is the
   * API's to answer: it lists the methods of every path, the API's too.
   *
   * Otherwise, a GET or HEAD for one of a published post's aliases (its address on the blog it
   * was migrated from) is sent to the post, 301 to the same kind of root-relative link as
   * /page/1's, for every client (a 301 for a GET is fine for any of them); anything else is the
   * 404 it always was. Only reached when no route matched, so an alias never shadows one.
   *
   * A browser's 405 (a form posted to `/`) is the site's page, as its 404 is, not the API's JSON.
   */
  const missed = (request: HttpServerRequest.HttpServerRequest, inside: string | undefined) => {
    const requested = pathOf(request.url)
    const atRoot = requested === "*" ? [] : allowedAt(requested)
    // Under SITE_URL's path, what the site takes there (`POST /blog/` is 405, as `POST /` is).
    const allowed = atRoot.length === 0 && inside !== undefined ? allowedAt(inside.startsWith("/") ? pathOf(inside) : "/") : atRoot
    const methodMiss = methodAnswer(request.method, requested, allowed)
    if (Option.isSome(methodMiss)) {
      // A 405 is the site's page to a browser, JSON to others: both vary on Accept.
      return Effect.succeed(
        methodMiss.value.status !== 405
          ? methodMiss.value
          : varyOnAccept(acceptsHtml(request) ? methodNotAllowedAnswer(site, request.method, requested, allowed) : methodMiss.value)
      )
    }
    // To a GET or HEAD, the site's 404 page or the API's JSON 404, by Accept: both say so.
    const miss = Effect.fail(new HttpServerError.RouteNotFound({ request }))
    const notHere = wantsHtml(request)
      ? Effect.map(missing(words.nothingHere), varyOnAccept)
      : isRead(request)
      ? Effect.zipRight(chosenByAccept, miss)
      : miss
    const path = isRead(request) ? decodedPath(request.url) : undefined
    if (path === undefined) return notHere
    // Which post an alias leads to changes too when a scheduled post claiming it goes public.
    return Effect.flatMap(DateTime.now, (readAt) =>
      site.aliasTarget(path).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.succeed(Option.none<HttpServerResponse.HttpServerResponse>()),
          // Cacheable like the pages: an alias taken again is followed within max-age, and no
          // 301 leads back to an alias (one at a path the site serves, `/p/...`, never redirects).
          onSome: (location) => Effect.map(cacheControlSince(readAt), (cacheControl) => Option.some(movedTo(location, cacheControl)))
        })),
        Effect.matchEffect({
          onFailure: failed,
          onSuccess: Option.match({ onNone: () => notHere, onSome: Effect.succeed })
        })
      ))
  }

  /**
   * The site under SITE_URL's path as well as at the root: a request that kept the path
   * (`/blog/p/x`: a proxy that passes it on, or a reader at SITE_URL itself) is answered by the
   * site's routes as if a proxy had stripped it. Only where nothing else answered (this is the
   * catch-all): an API route, and the site's own at the root, keep their meaning whatever the
   * path (with SITE_URL at `/tags`, `/tags/rust` is still the tag's page, not the blog's
   * `/rust`), so serving at the root, behind a proxy that strips the path, is as it was. Every
   * link already carries the path (`Urls.path`); the routes' moves too (`oneUrl`, `spelledAt`),
   * read off the stripped request. The prefix alone (`/blog`) moves to its home page, `/blog/`.
   * A route miss there goes on as any other (an alias, the 405, the 404).
   */
  const prefix = prefixSegments(urls.prefix)
  const prefixed = prefix.length === 0 ? undefined : yield* HttpRouter.withRouterConfig(HttpRouter.toHttpApp(router), routerConfig)
  const homeAtPrefix = (rest: string) => {
    const query = rest.indexOf("?")
    return HttpServerResponse.redirect(urls.path(routes.home()) + (query === -1 ? "" : rest.slice(query)), { status: 301, headers: SECURITY_HEADERS })
  }
  const nothingHere = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const inside = prefixed === undefined ? undefined : withoutPrefix(request.url, prefix)
    if (inside === undefined) return missed(request, undefined)
    if (!inside.startsWith("/")) return isRead(request) ? Effect.succeed(homeAtPrefix(inside)) : missed(request, inside)
    // SITE_URL's path spelt otherwise (`/bl%6Fg/p/x`, `//blog/p/x`, `/blo%CC%88g/p/x` for `/blög`)
    // before one of the site's paths: a 301 to where the site's links lead, as `oneUrl` moves the
    // rest of a path (which sees only what follows the prefix). Anything else there goes on below.
    if (isRead(request) && prefixAsSent(request.url, inside) !== urls.prefix && allowedAt(pathOf(inside)).length > 0) {
      return spelledAt(canonicalPath(inside))
    }
    return prefixed!.pipe(
      Effect.provideService(HttpServerRequest.HttpServerRequest, request.modify({ url: inside })),
      Effect.catchIf((error) => error instanceof HttpServerError.RouteNotFound, () => missed(request, inside))
    )
  })
  // Every method but HEAD: the router answers a HEAD with the GET route of its path when no
  // HEAD route matches, and a catch-all for HEAD matched first, so every HEAD (site and API) was 404.
  return CATCH_ALL_METHODS.reduce(
    (routes: HttpRouter.HttpRouter<HttpServerError.RouteNotFound>, method) => HttpRouter.route(method)(routes, "*", nothingHere),
    router
  )
})

/**
 * A path that does not percent-decode (`/p/%FF`) matches no route, not even the catch-all: the
 * router gives up before matching, so a browser got the API's JSON 400. It gets the site's 404
 * page instead, as for any other address with nothing there; an API client keeps the JSON.
 */
const undecodablePaths = HttpApiBuilder.middleware(Effect.map(Site, (site) => (app) =>
  Effect.catchAllCause(app, (cause) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      // The app's type says it never fails; the router's RouteNotFound is its failure all the same.
      const routeNotFound = Option.exists(Cause.failureOption(cause as Cause.Cause<unknown>), (error) => error instanceof HttpServerError.RouteNotFound)
      if (!routeNotFound || decodedPath(request.url) !== undefined) return Effect.failCause(cause)
      // To a GET or HEAD, this page or the API's JSON 400, by Accept: both say so (`chosenByAccept`).
      return wantsHtml(request)
        ? Effect.succeed(varyOnAccept(notFoundAnswer(site, new PageNotFound({ message: site.words.nothingHere }))))
        : isRead(request)
        ? Effect.zipRight(chosenByAccept, Effect.failCause(cause))
        : Effect.failCause(cause)
    }))
))

/**
 * Adds the site's routes to the router that `HttpApiBuilder` serves, so one server answers the
 * API, its docs and the site. Provide it to the server layer (it must be built before the
 * server reads the router), with `PostRepository` and `SiteConfig`.
 */
export const layer: Layer.Layer<never, never, PostRepository | SiteConfig> = Layer.merge(
  HttpApiBuilder.Router.use((router) => Effect.flatMap(SiteRouter, (site) => router.concat(site))),
  undecodablePaths
).pipe(Layer.provide(Site.Default))

/** `layer` with `SiteConfig` from the environment (SITE_TITLE, SITE_URL, ...). */
export const layerConfig = layer.pipe(Layer.provide(SiteConfig.layerConfig))

/** The site alone, as an app, for a server that serves nothing else. */
export const httpApp = Effect.flatMap(SiteRouter, HttpRouter.toHttpApp)

