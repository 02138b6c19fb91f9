/**
 * `fromUrl`: one URL in, posts out, whatever the URL serves. The body decides (the content type
 * is only a hint, since servers mislabel feeds as text/html or text/plain):
 *
 * - JSON: a JSON Feed (`version` https://jsonfeed.org/version/...), whose `next_url` pages are
 *   followed; a page of another Inkwell's `GET /posts` (`items` + `next`), whose cursor is
 *   followed; a Ghost export (`db`), read from the fetched bytes.
 * - XML: RSS 2.0 / RSS 1.0 (`<rss>`, `<rdf:RDF>`) or Atom (`<feed>`).
 * - HTML: the page's `<link rel="alternate">` feed is fetched instead (one level only); an Inkwell
 *   site's page (`<link rel="alternate" type="application/vnd.inkwell.posts+json">`), its API.
 */
import { Chunk, Clock, Duration, Effect, Either, Option, Stream } from "effect"
import { decodeHTMLAttribute } from "entities"
import { Tokenizer } from "htmlparser2"
import { FeedClient, type FeedClientShape, type FetchedResource } from "../Clients/FeedClient.js"
import { DecodeError, type FeedError, SourceDeadline } from "../Clients/FeedErrors.js"
import { runSteps, runStepsWithTurns, yieldWhenBusy } from "../Domain/yieldToEventLoop.js"
import { API_LINK_TYPE } from "../Site/Urls.js"
import { firstBadByte } from "./badBytes.js"
import { isJsonBody, lenientBodyHead, type MarkedBad, markedBodyPiecesInSteps } from "./body.js"
import { ghostExport, type GhostExportOptions } from "./GhostExport.js"
import { attributeSpans, attributeTokens, resolveUrl } from "./html.js"
import { inkwellApi, type InkwellApiOptions, isInkwellPage } from "./InkwellApi.js"
import { isJsonFeed, parseJsonFeed } from "./JsonFeed.js"
import { readJson } from "./readJson.js"
import { itemSource, type ParsedFeed, rejected, type SourceItem } from "./SourceItem.js"
import { TextPieces } from "./textPieces.js"
import { readXmlFeed, sniffXmlFeed } from "./XmlFeed.js"

export type Detected =
  | { readonly _tag: "Feed"; readonly feed: ParsedFeed }
  | { readonly _tag: "Inkwell"; readonly url: string }
  | { readonly _tag: "Ghost" }
  /**
   * An HTML page, the feeds it links to, best first, and the Inkwell API lists it links to
   * (`API_LINK_TYPE`: a page of an Inkwell site), in its order.
   */
  | { readonly _tag: "Html"; readonly alternates: ReadonlyArray<string>; readonly inkwellApis: ReadonlyArray<string> }

/**
 * Best first. `application/json` last: it is a JSON Feed only at times, and a WordPress page's
 * REST API link (`/wp-json/wp/v2/categories/5`) has that type.
 */
const FEED_TYPES = ["application/feed+json", "application/atom+xml", "application/rss+xml", "application/json"]

/** Characters of an HTML page the link scan (`pageLinksInSteps`) reads between two `yield`s. */
const LINK_SLICE_CHARS = 64 * 1024

/** What an HTML page links to as its alternates (`pageLinksInSteps`). */
export interface PageLinks {
  /** Its feeds, best type first (`FEED_TYPES`), each in the page's order, each once. */
  readonly feeds: Array<string>
  /** Another Inkwell's API posts lists (`API_LINK_TYPE`), in the page's order, each once. */
  readonly inkwellApis: Array<string>
}

/**
 * `<link rel="alternate" type="application/...+xml|json" href>` of an HTML page (`PageLinks`).
 * `keep`: whether a tag, as written from its `<` to its `>`, is read at all. In steps: the caller
 * may let others run at each `yield`.
 *
 * Read by htmlparser2's tokenizer, in one pass: a regex over `<link\b[^>]*>` read to the end of
 * the page again from each `<link` with no `>` after it (500 KB of them held a server for 22 s).
 * As a browser reads it: a `<link>` in a comment or a script is none, and its attributes'
 * entities are decoded (`&amp;` in an href).
 */
export function* pageLinksInSteps(html: string, base: string, keep: (tag: string) => boolean = () => true): Generator<void, PageLinks> {
  const found: Array<{ type: string; href: string }> = []
  /** The `<link>` being read: where its `<` is, and its attributes' raw values by name. */
  let link: { readonly at: number; readonly attributes: Map<string, string> } | undefined
  const close = (end: number) => {
    const tag = link
    link = undefined
    if (tag === undefined || !keep(html.slice(tag.at, end + 1))) return
    const value = (attribute: string) => {
      const raw = tag.attributes.get(attribute)
      return raw === undefined ? undefined : decodeHTMLAttribute(raw).trim()
    }
    const rel = value("rel")?.toLowerCase().split(/\s+/) ?? []
    const type = value("type")?.toLowerCase() ?? ""
    const href = value("href")
    if (rel.includes("alternate") && (FEED_TYPES.includes(type) || type === API_LINK_TYPE) && href) found.push({ type, href: resolveUrl(href, base) })
  }
  const tokenizer = new Tokenizer({ decodeEntities: false }, attributeTokens({
    onopentagname: (start, end) => {
      link = html.slice(start, end).toLowerCase() === "link" ? { at: start - 1, attributes: new Map() } : undefined
    },
    ...attributeSpans(html, (name, valueStart, valueEnd) => {
      // The first of an attribute written twice, as a browser reads it.
      if (link !== undefined && !link.attributes.has(name)) link.attributes.set(name, valueStart === -1 ? "" : html.slice(valueStart, valueEnd))
    }),
    onopentagend: close,
    onselfclosingtag: close
  }))
  for (let slice = 0; slice < html.length; slice += LINK_SLICE_CHARS) {
    tokenizer.write(html.slice(slice, slice + LINK_SLICE_CHARS))
    if (slice + LINK_SLICE_CHARS < html.length) yield
  }
  tokenizer.end()
  const feeds = found.filter((f) => f.type !== API_LINK_TYPE).sort((a, b) => FEED_TYPES.indexOf(a.type) - FEED_TYPES.indexOf(b.type))
  const apis = found.filter((f) => f.type === API_LINK_TYPE)
  return { feeds: [...new Set(feeds.map((f) => f.href))], inkwellApis: [...new Set(apis.map((f) => f.href))] }
}

/** The feeds of `pageLinksInSteps`, at once. */
export const feedLinks = (html: string, base: string): Array<string> => runSteps(pageLinksInSteps(html, base)).feeds

const looksLikeHtml = (contentType: string, text: string) =>
  contentType === "text/html" || contentType === "application/xhtml+xml" || /^\s*(?:<!doctype html|<html[\s>])/i.test(text)

/**
 * What a fetched document is, and its items when it is a feed. A body with bytes that are not
 * UTF-8 is read with them marked (`markedBodyPiecesInSteps`): a feed's items with one fail, the
 * others are read; a body that cannot be read as a feed even so is refused with where its first
 * bad byte is.
 */
export const detect = (resource: Pick<FetchedResource, "url" | "finalUrl" | "headers" | "bytes" | "contentType">): Either.Either<Detected, DecodeError> =>
  runSteps(detectInSteps(resource))

/**
 * `detect` in steps: a large document is decoded and parsed a slice at a time, and the caller may
 * let others run at each `yield` (`runStepsWithTurns`).
 */
export function* detectInSteps(
  resource: Pick<FetchedResource, "url" | "finalUrl" | "headers" | "bytes" | "contentType">
): Generator<void, Either.Either<Detected, DecodeError>> {
  // JSON is UTF-8, whatever the label says: told by its bytes, before they are decoded.
  const as = { json: isJsonBody(resource) }
  const decoded = yield* markedBodyPiecesInSteps(resource, as)
  const bad = Either.isRight(decoded) ? decoded.right.bad : undefined
  if (Either.isLeft(decoded) || bad !== undefined) {
    // Compressed or binary data is no UTF-8 either: said as what it is, not by its first bad byte.
    const head = lenientBodyHead(resource, as)
    if (isBinary(head)) return Either.left(notAFeed(resource, TextPieces.of(head), true))
    if (Either.isLeft(decoded)) return Either.left(decoded.left)
  }
  const text = Either.getOrThrow(decoded).text
  const read = yield* readDocument(resource, text, bad)
  // With a bad byte in its markup, what the parser says is that byte's doing.
  return bad !== undefined && Either.isLeft(read) ? Either.left(bad.error) : read
}

/**
 * A feed's items are named by the URL asked for (`itemNames`), read against the one answering.
 * JSON is read from the text's pieces (`readJson`); XML and HTML from the text joined, which
 * their readers slice anywhere, an item's when it is read.
 */
function* readDocument(
  resource: Pick<FetchedResource, "url" | "finalUrl" | "contentType" | "bytes">,
  text: TextPieces,
  bad: MarkedBad | undefined
): Generator<void, Either.Either<Detected, DecodeError>> {
  const url = resource.finalUrl
  const start = text.charAt(text.firstNonSpace())
  const jsonType = resource.contentType.endsWith("json")
  // Before any parser sees it: their messages would quote the bytes.
  if (isBinary(text.slice(0, 512))) return Either.left(notAFeed(resource, text, true))
  if (start === "{" || start === "[" || (jsonType && start !== "<")) {
    return Either.flatMap(yield* readJson(text, url), (json): Either.Either<Detected, DecodeError> => {
      if (isJsonFeed(json)) return Either.map(parseJsonFeed(json, url, bad, resource.url), (feed) => ({ _tag: "Feed", feed }))
      if (isInkwellPage(json)) return Either.right({ _tag: "Inkwell", url })
      if (typeof json === "object" && json !== null && Array.isArray((json as { db?: unknown }).db)) return Either.right({ _tag: "Ghost" })
      return Either.left(
        new DecodeError({
          url,
          format: "unknown",
          path: "(root)",
          reason: "JSON, but neither a JSON Feed (no \"version\": \"https://jsonfeed.org/version/...\"), an Inkwell /posts page (no \"items\" and \"next\") nor a Ghost export (no \"db\")"
        })
      )
    })
  }
  if (start === "<") {
    const whole = text.joined()
    if (sniffXmlFeed(whole) !== undefined || !looksLikeHtml(resource.contentType, whole)) {
      return Either.map(yield* readXmlFeed(whole, url, bad, resource.url), (feed): Detected => ({ _tag: "Feed", feed }))
    }
    // A link with a bad byte in it is not followed to an altered URL.
    const links = yield* pageLinksInSteps(whole, url, (tag) => bad === undefined || firstBadByte(tag, bad) === undefined)
    return Either.right({ _tag: "Html", alternates: links.feeds, inkwellApis: links.inkwellApis })
  }
  return Either.left(notAFeed(resource, text, false))
}

/** `binary`: what `isBinary` said of `text`, which `detect` asks before anything else. */
const notAFeed = (resource: Pick<FetchedResource, "finalUrl" | "bytes" | "contentType">, text: TextPieces, binary: boolean): DecodeError =>
  new DecodeError({
    url: resource.finalUrl,
    format: "unknown",
    path: "(root)",
    reason: `neither JSON nor XML (content type "${resource.contentType || "none"}", ${describeStart(text, resource.bytes, binary)})`
  })

/**
 * Control characters other than whitespace near the start, or mostly U+FFFD (bytes that are no
 * UTF-8, as `lenientBodyHead` reads them) there. A few U+FFFD are text in another encoding than
 * its label says (a stray Windows-1252 byte in a feed served as UTF-8), whose items are failed
 * naming the byte (`markedBodyTextInSteps`); compressed or binary data is mostly them.
 */
const isBinary = (text: string): boolean => {
  const head = text.slice(0, 512)
  if (/[\u0000-\u0008\u000e-\u001f\u007f]/.test(head)) return true
  const replaced = head.length - head.replaceAll("\ufffd", "").length
  return replaced > 0 && replaced * 4 >= head.length
}

/**
 * How a body that is no feed begins, for a message: its first characters when they are text;
 * when they are not (compressed or binary data), its size, as bytes that are no text only
 * garble a message.
 */
const describeStart = (text: TextPieces, bytes: Uint8Array, binary: boolean): string => {
  const start = text.firstNonSpace()
  const head = start === -1 ? "" : text.slice(start, start + 20)
  if (head === "") return "empty"
  if (binary) {
    return bytes[0] === 0x1f && bytes[1] === 0x8b ? `gzip-compressed data (${bytes.length} bytes) without a Content-Encoding header saying so` : `binary data (${bytes.length} bytes), not text`
  }
  return `starts with ${JSON.stringify(head)}`
}

/** A source read as another Inkwell's API (`FromUrlOptions.onInkwell`). */
export interface InkwellRead {
  /** Its posts list. */
  readonly url: string
  /** Whether `apiKey` was sent to it: without it only public posts come. */
  readonly keyed: boolean
  /** The URL the import was given, which led there. */
  readonly given: string
}

/** A source read as a feed or a Ghost export (`FromUrlOptions.onFeed`). */
export interface FeedRead {
  readonly url: string
  readonly format: ParsedFeed["format"] | "ghost"
  /** The URL the import was given, which led there. */
  readonly given: string
  /**
   * When it was reached from the page of an Inkwell site (`API_LINK_TYPE`): the API lists that
   * page names, none of which answered as one (`failure` says what each did).
   */
  readonly inkwellApi?: { readonly urls: ReadonlyArray<string>; readonly failure: string }
}

export interface FromUrlOptions extends InkwellApiOptions {
  /**
   * Told of each source read as another Inkwell's API, and whether `apiKey` was sent to it:
   * without it only public posts come, which the caller may want to say.
   */
  readonly onInkwell?: ((source: InkwellRead) => Effect.Effect<void>) | undefined
  /**
   * Told of each source read as a feed or a Ghost export: an `apiKey` given is not used there,
   * which the caller may want to say.
   */
  readonly onFeed?: ((source: FeedRead) => Effect.Effect<void>) | undefined
  /** JSON Feed `next_url` pages followed at most (default 50, the first page included). */
  readonly maxPages?: number | undefined
  /** For a Ghost export served over HTTP. */
  readonly ghost?: Omit<GhostExportOptions, "name"> | undefined
}

/**
 * `item` of a later page of a feed named `name`, with `<page>#<id>` of each page read so far as
 * a former source: an earlier version named an item by the page it was on, and as posts are
 * added items move to later pages, so a post stored then is under one read before it or its
 * own. A failed item's reason says its page (`pages`' last), where its path and offset are.
 */
const withFormerPages = (item: SourceItem, name: string, pages: ReadonlyArray<string>): SourceItem => {
  if (item._tag === "Rejected") return item.skipped ? item : { ...item, reason: `page ${pages[pages.length - 1]}, ${item.reason}` }
  if (!item.source.startsWith(`${name}#`)) return item
  const id = item.source.slice(name.length + 1)
  // After the names the item has already (`itemNames`: where it was read, if not its name).
  const former = [...new Set([...(item.formerSources ?? []), ...pages.filter((page) => page !== name).map((page) => itemSource(page, id))])]
  return former.length === 0 ? item : { ...item, formerSources: former }
}

/**
 * A feed's items, as they are read (`ParsedFeed.items`): `ITEMS_AT_ONCE` at a time, with a turn
 * of the event loop between two when the thread has been busy (`yieldWhenBusy`). Mapping an item
 * is synchronous work (links resolved, HTML read for its title and text) on a document already in
 * memory: 3,000 items held a server for a second.
 */
const itemStream = (items: Iterable<SourceItem>): Stream.Stream<SourceItem> =>
  Stream.suspend(() => {
    const iterator = items[Symbol.iterator]()
    return Stream.repeatEffectChunkOption(
      Effect.zipRight(
        yieldWhenBusy,
        Effect.suspend(() => {
          const chunk: Array<SourceItem> = []
          while (chunk.length < ITEMS_AT_ONCE) {
            const next = iterator.next()
            if (next.done === true) break
            chunk.push(next.value)
          }
          return chunk.length === 0 ? Effect.fail(Option.none()) : Effect.succeed(Chunk.unsafeFromArray(chunk))
        })
      )
    )
  })

/** Items mapped between two checks of `yieldWhenBusy` (~0.1 to 1 ms each). */
const ITEMS_AT_ONCE = 16

/** Bytes the Ghost export's streaming parser reads between two checks of `yieldWhenBusy` (~5 ms). */
const GHOST_SLICE_BYTES = 32 * 1024

/**
 * A fetched body as a stream of slices, with a turn of the event loop between two when the thread
 * has been busy: a Ghost export of 20 MB given whole was parsed in one synchronous call.
 */
const inSlices = (bytes: Uint8Array): Stream.Stream<Uint8Array> =>
  Stream.range(0, Math.max(0, Math.ceil(bytes.length / GHOST_SLICE_BYTES) - 1)).pipe(
    Stream.rechunk(1),
    Stream.mapEffect((i) => Effect.as(yieldWhenBusy, bytes.subarray(i * GHOST_SLICE_BYTES, (i + 1) * GHOST_SLICE_BYTES)))
  )

/** Where a JSON Feed's pages stop being read (`maxPages`), as a failure in the summary. */
const pagesLeft = (next: string, maxPages: number): SourceItem =>
  rejected(next, `not read, nor any page after it: a JSON Feed is read for its first ${maxPages} pages at most`)

/** `items`, each passed through `f` when it is read: a feed's items stay unread until pulled (`ParsedFeed.items`). */
const mapItems = (items: Iterable<SourceItem>, f: (item: SourceItem) => SourceItem): Iterable<SourceItem> => ({
  *[Symbol.iterator]() {
    for (const item of items) yield f(item)
  }
})

interface Next {
  readonly url: string
  readonly page: number
}

/**
 * Items of a JSON Feed, then of its `next_url` pages (bounded, loops stopped). `firstUrls` are
 * where the first page was asked for and found: a `next_url` back to it is a loop too, which
 * read the first page twice and counted its posts again in the import summary. Every page's
 * items are named by `name`, the first page's URL as asked for: by their page's, an item was
 * another post once a new one pushed it onto the next page. A feed with pages past `maxPages`
 * ends with one failure naming the first page left (`pagesLeft`): those posts are missing, and
 * the summary said the feed was imported whole.
 */
const jsonFeedPages = (first: ParsedFeed, firstUrls: ReadonlyArray<string>, maxPages: number, name: string): Stream.Stream<SourceItem, FeedError, FeedClient> => {
  const seen = new Set<string>(firstUrls)
  const pagesRead = [...new Set(firstUrls)]
  /** The page after page `page`, when there is one to read; `left`, when the limit stops there. */
  const follow = (next: string | undefined, page: number): { readonly next?: Next; readonly left?: string } => {
    if (next === undefined || seen.has(next)) return {}
    if (page >= maxPages) return { left: next }
    seen.add(next)
    return { next: { url: next, page: page + 1 } }
  }
  const readPage = (url: string) =>
    Effect.gen(function*() {
      const resource = yield* (yield* FeedClient).get(url)
      const { bad, text } = yield* yield* runStepsWithTurns(markedBodyPiecesInSteps(resource, { json: true }))
      const json = yield* runStepsWithTurns(readJson(text, resource.finalUrl))
      const feed = yield* Either.flatMap(json, (json) => parseJsonFeed(json, resource.finalUrl, bad, name)).pipe(
        Either.mapLeft((error) => bad?.error ?? error)
      )
      pagesRead.push(resource.finalUrl)
      // The pages read up to this one, whenever its items are mapped (as the import takes them).
      const pages = [...pagesRead]
      return { ...feed, items: mapItems(feed.items, (item) => withFormerPages(item, name, pages)) }
    })
  const itemsThen = (feed: ParsedFeed, after: ReturnType<typeof follow>): Stream.Stream<SourceItem> =>
    after.left === undefined ? itemStream(feed.items) : Stream.concat(itemStream(feed.items), Stream.succeed(pagesLeft(after.left, maxPages)))
  const afterFirst = follow(first.nextUrl, 1)
  const rest = afterFirst.next === undefined ? Stream.empty : Stream.paginateEffect(afterFirst.next, (next) =>
    Effect.map(readPage(next.url), (feed) => {
      const after = follow(feed.nextUrl, next.page)
      return [{ feed, after }, Option.fromNullable(after.next)] as const
    })).pipe(Stream.flatMap(({ after, feed }) => itemsThen(feed, after)))
  return Stream.concat(itemsThen(first, afterFirst), rest)
}

/**
 * `options` for the Inkwell at `listUrl`: its `apiKey` only when that is where the user pointed
 * (`given`, same origin): an HTML page's feed link, or a redirect, may lead to anyone's server.
 */
const keyedFor = (listUrl: string, given: string, options: FromUrlOptions): FromUrlOptions =>
  options.apiKey === undefined || new URL(listUrl).origin === new URL(given).origin ? options : { ...options, apiKey: undefined }

const fromUrlAt = (url: string, options: FromUrlOptions, htmlHops: number): Stream.Stream<SourceItem, FeedError, FeedClient> =>
  Stream.unwrap(openUrl(url, options, htmlHops))

/**
 * The posts of the Inkwell whose list is at `listUrl` (`resource`, as fetched), the caller told.
 * `feeds`: those of the site's page that led there, if one did (`inkwellApi`).
 */
const readInkwell = (listUrl: string, resource: FetchedResource, options: FromUrlOptions, given: string, feeds?: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const keyed = keyedFor(listUrl, given, options)
    if (options.onInkwell !== undefined) yield* options.onInkwell({ url: listUrl, keyed: keyed.apiKey !== undefined, given })
    return inkwellApi(listUrl, keyed, resource.url, feeds)
  })

/**
 * What `url` serves, detected (`fromUrlAt`): failing before any item when it is no source at all.
 * `given` is the URL the user named, which an Inkwell's key is for (`keyedFor`); `via`, what the
 * page that linked to `url` said of its Inkwell API, for `onFeed`.
 */
const openUrl = (
  url: string,
  options: FromUrlOptions,
  htmlHops: number,
  given: string = url,
  via?: FeedRead["inkwellApi"]
): Effect.Effect<Stream.Stream<SourceItem, FeedError, FeedClient>, FeedError, FeedClient> =>
  Effect.gen(function*() {
    const client = yield* FeedClient
    const resource = yield* client.get(url)
    const detected = yield* yield* runStepsWithTurns(detectInSteps(resource))
    const told = (format: FeedRead["format"]) =>
      options.onFeed === undefined ? Effect.void : options.onFeed({ url: resource.url, format, given, ...(via === undefined ? {} : { inkwellApi: via }) })
    switch (detected._tag) {
      case "Feed":
        yield* told(detected.feed.format)
        return detected.feed.format === "json-feed"
          ? jsonFeedPages(detected.feed, [resource.url, resource.finalUrl], options.maxPages ?? 50, resource.url)
          : itemStream(detected.feed.items)
      case "Inkwell":
        return yield* readInkwell(detected.url, resource, options, given)
      case "Ghost":
        yield* told("ghost")
        return ghostExport(inSlices(resource.bytes), { ...options.ghost, name: resource.finalUrl })
      case "Html": {
        // The page of an Inkwell site: its API, whose list has every public post (its feeds, the
        // newest 20) and, to a key, the drafts and scheduled posts; the key goes to the origin
        // given only (`keyedFor`).
        const apis = htmlHops > 0 ? [] : detected.inkwellApis
        const api = apis.length === 0 ? undefined : yield* linkedInkwell(apis, options, given, detected.alternates)
        if (api !== undefined && api._tag === "Read") return api.stream
        const note = api === undefined ? undefined : { urls: apis, failure: api.failure }
        if (detected.alternates.length === 0 || htmlHops > 0) {
          return yield* new DecodeError({
            url: resource.finalUrl,
            format: "html",
            path: "head",
            reason: htmlHops > 0
              ? "an HTML page, though a page's <link rel=\"alternate\"> gave it as the feed"
              : `an HTML page that links to no feed (no <link rel="alternate"> of an RSS, Atom or JSON Feed type in it)${note === undefined ? "" : `, nor to an Inkwell API that could be read (${note.failure})`}`
          })
        }
        return yield* linkedFeed(resource.finalUrl, detected.alternates, options, given, note)
      }
    }
  })

/**
 * Whether an Inkwell site's API link failed as one that leads to no API (no such path there: a
 * proxy that passes the site on, not the API; a page), for its feed to be read instead. Anything
 * else (a timeout, a server error, a refusal) fails the source: the feed would bring its newest
 * public posts only, where the API is there and will answer later.
 */
const notAnApi = (error: FeedError): boolean =>
  isNoFeed(error) || (error._tag === "HttpStatusError" && (error.status === 404 || error.status === 405 || error.status === 410))

/**
 * The first of an Inkwell site's API links (`links`) that answers as an Inkwell's posts list,
 * read (`Read`); else why none did (`failure`), for the page's feed to be read instead. The link
 * is fetched without the key first, as any URL given is (`keyedFor`). `feeds`: the page's feed
 * links, which named its posts before the page named its API (`inkwellApi`).
 */
const linkedInkwell = (links: ReadonlyArray<string>, options: FromUrlOptions, given: string, feeds: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const client = yield* FeedClient
    const failures: Array<string> = []
    for (const link of links.slice(0, MAX_FEED_LINKS)) {
      const fetched = yield* Effect.either(client.get(link))
      if (Either.isLeft(fetched)) {
        if (!notAnApi(fetched.left)) return yield* fetched.left
        failures.push(fetched.left.message)
        continue
      }
      const detected = yield* runStepsWithTurns(detectInSteps(fetched.right))
      if (Either.isRight(detected) && detected.right._tag === "Inkwell") {
        return { _tag: "Read" as const, stream: yield* readInkwell(detected.right.url, fetched.right, options, given, feeds) }
      }
      failures.push(Either.isLeft(detected) ? detected.left.message : `${link}: ${describeDetected(detected.right)}, not an Inkwell API's posts list`)
    }
    return { _tag: "Passed" as const, failure: failures.join("; ") }
  })

const describeDetected = (detected: Detected): string => {
  switch (detected._tag) {
    case "Feed":
      return `a feed (${detected.feed.format})`
    case "Ghost":
      return "a Ghost export"
    case "Html":
      return "an HTML page"
    case "Inkwell":
      return "an Inkwell API's posts list"
  }
}

/** A document that is no feed at all (HTML, JSON of another kind, neither JSON nor XML): not a broken feed. */
const isNoFeed = (error: FeedError): error is DecodeError =>
  error._tag === "DecodeError" && (error.format === "unknown" || error.format === "html")

/**
 * Feed links of a page tried at most (`linkedFeed`): a page links to its feed, its comments'
 * feed, a few of its categories' and its REST API's JSON; one of 3,000 links was fetched 3,001
 * times, and its failure said each.
 */
export const MAX_FEED_LINKS = 5

/** Why links were passed over, said in a failure: the first few, then how many more. */
const REASONS_SAID = 3

/**
 * The first of a page's feed links (best first, `feedLinks`) that leads to a feed, of its first
 * `MAX_FEED_LINKS`. One that leads to no feed at all is passed over for the next: a WordPress
 * page links to its REST API's JSON as an alternate too, and only that one was tried when it
 * came first. A feed that cannot be fetched or read fails here, as it would given itself: the
 * next link is another feed (the comments'), not this one.
 */
const linkedFeed = (page: string, links: ReadonlyArray<string>, options: FromUrlOptions, given: string, via: FeedRead["inkwellApi"]) =>
  Effect.gen(function*() {
    const passed: Array<DecodeError> = []
    for (const link of links.slice(0, MAX_FEED_LINKS)) {
      const opened = yield* Effect.either(openUrl(link, options, 1, given, via))
      if (Either.isRight(opened)) return opened.right
      if (!isNoFeed(opened.left)) return yield* opened.left
      passed.push(opened.left)
    }
    if (passed.length === 1) return yield* passed[0]!
    const which = links.length > passed.length
      ? `none of whose first ${passed.length} <link rel="alternate"> (of ${links.length}, the rest not tried)`
      : `none of whose ${passed.length} <link rel="alternate">`
    const said = passed.slice(0, REASONS_SAID).map((error) => error.message)
    const more = passed.length > REASONS_SAID ? `; and ${passed.length - REASONS_SAID} more` : ""
    return yield* new DecodeError({
      url: page,
      format: "html",
      path: "head",
      reason: `an HTML page ${which} leads to a feed: ${said.join("; ")}${more}`
    })
  })

/**
 * `client`, its fetches for source `source` held to one deadline together when one is set
 * (`sourceDeadline`, FEED_SOURCE_DEADLINE): each is given what is left (`timeLeft`), and past it
 * the source fails (`SourceDeadline`). The time counted is the time some fetch of it is in
 * flight: a paged feed's next page is fetched when the import has taken the items before it, and
 * the import's own time is not the source's. Each fetch also has its own deadline
 * (FEED_DEADLINE); with that alone a feed of 30 slow pages ran 13 s on a deadline of 2, hence
 * this. It is off by default: FEED_DEADLINE's 2 minutes bounding a whole source made another
 * Inkwell with more posts than it fetched in that time impossible to import whole, each run
 * stopping where the first did.
 */
const withinDeadline = (client: FeedClientShape, source: string): FeedClientShape => {
  if (client.settings.sourceDeadline === undefined) return client
  const deadlineMs = Duration.toMillis(client.settings.sourceDeadline)
  const fetchDeadlineMs = Duration.toMillis(client.settings.deadline)
  let inFlight = 0
  let since = 0
  let spent = 0
  let fetched = 0
  const over = (fetching: string) => new SourceDeadline({ url: source, deadlineMs, fetched, fetching })
  const get: FeedClientShape["get"] = (url, options = {}) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const left = deadlineMs - spent - (inFlight > 0 ? now - since : 0)
      if (left <= 0) return Effect.fail(over(url))
      if (inFlight++ === 0) since = now
      return client.get(url, { ...options, timeLeft: Duration.millis(left) }).pipe(
        Effect.tap(() => {
          fetched++
        }),
        // Past what the source had left, not the fetch's own deadline.
        Effect.catchTag("RequestTimeout", (timeout) => Effect.fail(timeout.deadline && left < fetchDeadlineMs ? over(url) : timeout)),
        Effect.ensuring(Effect.flatMap(Clock.currentTimeMillis, (end) =>
          Effect.sync(() => {
            if (--inFlight === 0) spent += end - since
          })))
      )
    })
  return { ...client, get }
}

/**
 * Posts from whatever `url` serves (see the module comment). Fails with a `FeedError` when the
 * source cannot be fetched or read at all, or not within its deadline (`withinDeadline`; what it
 * gave before stays read); items that cannot become posts are `Rejected`.
 */
export const fromUrl = (url: string, options: FromUrlOptions = {}): Stream.Stream<SourceItem, FeedError, FeedClient> =>
  Stream.unwrap(Effect.map(FeedClient, (client) => fromUrlAt(url, options, 0).pipe(Stream.provideService(FeedClient, withinDeadline(client, url)))))
