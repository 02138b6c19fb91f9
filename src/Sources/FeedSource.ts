/**
 * `fromUrl`: one URL in, posts out, whatever the URL serves. The body decides (the content type
 * is only a hint, since servers mislabel feeds as text/html or text/plain):
 *
 * - JSON: a JSON Feed (`version` https://jsonfeed.org/version/...), whose `next_url` pages are
 *   followed; a page of another Inkwell's `GET /posts` (`items` + `next`), whose cursor is
 *   followed; a Ghost export (`db`), read from the fetched bytes.
 * - XML: RSS 2.0 / RSS 1.0 (`<rss>`, `<rdf:RDF>`) or Atom (`<feed>`).
 * - HTML: the page's `<link rel="alternate">` feed is fetched instead (one level only).
 */
import { Chunk, Effect, Either, Option, Stream } from "effect"
import { FeedClient, type FetchedResource } from "../Clients/FeedClient.js"
import { DecodeError, type FeedError } from "../Clients/FeedErrors.js"
import { firstBadByte } from "./badBytes.js"
import { lenientBodyText, type MarkedBody, markedBodyText, parseJsonBody } from "./body.js"
import { ghostExport, type GhostExportOptions } from "./GhostExport.js"
import { resolveUrl } from "./html.js"
import { inkwellApi, type InkwellApiOptions, isInkwellPage } from "./InkwellApi.js"
import { isJsonFeed, parseJsonFeed } from "./JsonFeed.js"
import { itemSource, type ParsedFeed, type SourceItem } from "./SourceItem.js"
import { parseXmlFeed, sniffXmlFeed } from "./XmlFeed.js"

export type Detected =
  | { readonly _tag: "Feed"; readonly feed: ParsedFeed }
  | { readonly _tag: "Inkwell"; readonly url: string }
  | { readonly _tag: "Ghost" }
  /** An HTML page and the feeds it links to, best first. */
  | { readonly _tag: "Html"; readonly alternates: ReadonlyArray<string> }

/**
 * Best first. `application/json` last: it is a JSON Feed only at times, and a WordPress page's
 * REST API link (`/wp-json/wp/v2/categories/5`) has that type.
 */
const FEED_TYPES = ["application/feed+json", "application/atom+xml", "application/rss+xml", "application/json"]

/** `<link rel="alternate" type="application/...+xml|json" href>` of an HTML page, best type first (`FEED_TYPES`), each in the page's order. */
export const feedLinks = (html: string, base: string): Array<string> => {
  const found: Array<{ type: string; href: string }> = []
  for (const [tag] of html.matchAll(/<link\b[^>]*>/gi)) {
    const attribute = (name: string) => new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, "i").exec(tag)
    const value = (name: string) => {
      const m = attribute(name)
      return m === null ? undefined : (m[1] ?? m[2] ?? m[3] ?? "").trim()
    }
    const rel = value("rel")?.toLowerCase().split(/\s+/) ?? []
    const type = value("type")?.toLowerCase() ?? ""
    const href = value("href")
    if (rel.includes("alternate") && FEED_TYPES.includes(type) && href) found.push({ type, href: resolveUrl(href, base) })
  }
  return found.sort((a, b) => FEED_TYPES.indexOf(a.type) - FEED_TYPES.indexOf(b.type)).map((f) => f.href)
}

const looksLikeHtml = (contentType: string, text: string) =>
  contentType === "text/html" || contentType === "application/xhtml+xml" || /^\s*(?:<!doctype html|<html[\s>])/i.test(text)

/**
 * What a fetched document is, and its items when it is a feed. A body with bytes that are not
 * UTF-8 is read with them marked (`markedBodyText`): a feed's items with one fail, the others are
 * read; a body that cannot be read as a feed even so is refused with where its first bad byte is.
 */
export const detect = (resource: Pick<FetchedResource, "url" | "finalUrl" | "headers" | "bytes" | "contentType">): Either.Either<Detected, DecodeError> => {
  const decoded = markedBodyText(resource)
  const bad = Either.isRight(decoded) ? decoded.right.bad : undefined
  if (Either.isLeft(decoded) || bad !== undefined) {
    // Compressed or binary data is no UTF-8 either: said as what it is, not by its first bad byte.
    const lenient = lenientBodyText(resource)
    if (isBinary(lenient)) return Either.left(notAFeed(resource, lenient, true))
    if (Either.isLeft(decoded)) return Either.left(decoded.left)
  }
  const text = Either.getOrThrow(decoded).text
  const read = readDocument(resource, text, bad)
  // With a bad byte in its markup, what the parser says is that byte's doing.
  return bad !== undefined && Either.isLeft(read) ? Either.left(bad.error) : read
}

/** A feed's items are named by the URL asked for (`itemNames`), read against the one answering. */
const readDocument = (
  resource: Pick<FetchedResource, "url" | "finalUrl" | "contentType" | "bytes">,
  text: string,
  bad: MarkedBody["bad"]
): Either.Either<Detected, DecodeError> => {
  const url = resource.finalUrl
  const start = text.trimStart()[0]
  const jsonType = resource.contentType.endsWith("json")
  // Before any parser sees it: their messages would quote the bytes.
  if (isBinary(text)) return Either.left(notAFeed(resource, text, true))
  if (start === "{" || start === "[" || (jsonType && start !== "<")) {
    return Either.flatMap(parseJsonBody(text, url), (json): Either.Either<Detected, DecodeError> => {
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
    if (sniffXmlFeed(text) !== undefined || !looksLikeHtml(resource.contentType, text)) {
      return Either.map(parseXmlFeed(text, url, bad, resource.url), (feed) => ({ _tag: "Feed", feed }))
    }
    // A link with a bad byte in it is not followed to an altered URL.
    const links = bad === undefined ? text : text.replace(/<link\b[^>]*>/gi, (tag) => (firstBadByte(tag, bad) === undefined ? tag : ""))
    return Either.right({ _tag: "Html", alternates: feedLinks(links, url) })
  }
  return Either.left(notAFeed(resource, text, false))
}

/** `binary`: what `isBinary` said of `text`, which `detect` asks before anything else. */
const notAFeed = (resource: Pick<FetchedResource, "finalUrl" | "bytes" | "contentType">, text: string, binary: boolean): DecodeError =>
  new DecodeError({
    url: resource.finalUrl,
    format: "unknown",
    path: "(root)",
    reason: `neither JSON nor XML (content type "${resource.contentType || "none"}", ${describeStart(text, resource.bytes, binary)})`
  })

/**
 * Control characters other than whitespace near the start, or mostly U+FFFD (bytes that are no
 * UTF-8, as `lenientBodyText` reads them) there. A few U+FFFD are text in another encoding than
 * its label says (a stray Windows-1252 byte in a feed served as UTF-8), whose items are failed
 * naming the byte (`markedBodyText`); compressed or binary data is mostly them.
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
const describeStart = (text: string, bytes: Uint8Array, binary: boolean): string => {
  const head = text.trimStart().slice(0, 20)
  if (head === "") return "empty"
  if (binary) {
    return bytes[0] === 0x1f && bytes[1] === 0x8b ? `gzip-compressed data (${bytes.length} bytes) without a Content-Encoding header saying so` : `binary data (${bytes.length} bytes), not text`
  }
  return `starts with ${JSON.stringify(head)}`
}

export interface FromUrlOptions extends InkwellApiOptions {
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
  const former = [...new Set(pages.filter((page) => page !== name).map((page) => itemSource(page, id)))]
  return former.length === 0 ? item : { ...item, formerSources: former }
}

/**
 * Items of a JSON Feed, then of its `next_url` pages (bounded, loops stopped). `firstUrls` are
 * where the first page was asked for and found: a `next_url` back to it is a loop too, which
 * read the first page twice and counted its posts again in the import summary. Every page's
 * items are named by `name`, the first page's URL as asked for: by their page's, an item was
 * another post once a new one pushed it onto the next page.
 */
const jsonFeedPages = (first: ParsedFeed, firstUrls: ReadonlyArray<string>, maxPages: number, name: string): Stream.Stream<SourceItem, FeedError, FeedClient> => {
  const seen = new Set<string>(firstUrls)
  const pagesRead = [...new Set(firstUrls)]
  const follow = (next: string | undefined, page: number): Option.Option<{ readonly url: string; readonly page: number }> => {
    if (next === undefined || page >= maxPages || seen.has(next)) return Option.none()
    seen.add(next)
    return Option.some({ url: next, page: page + 1 })
  }
  const rest = Option.match(follow(first.nextUrl, 1), {
    onNone: () => Stream.empty,
    onSome: (start) =>
      Stream.paginateChunkEffect(start, ({ page, url }) =>
        Effect.gen(function*() {
          const resource = yield* (yield* FeedClient).get(url)
          const { bad, text } = yield* markedBodyText(resource)
          const feed = yield* Either.flatMap(parseJsonBody(text, resource.finalUrl), (json) => parseJsonFeed(json, resource.finalUrl, bad, name)).pipe(
            Either.mapLeft((error) => bad?.error ?? error)
          )
          pagesRead.push(resource.finalUrl)
          return [Chunk.fromIterable(feed.items.map((item) => withFormerPages(item, name, pagesRead))), follow(feed.nextUrl, page)] as const
        })
      )
  })
  return Stream.concat(Stream.fromIterable(first.items), rest)
}

const fromUrlAt = (url: string, options: FromUrlOptions, htmlHops: number): Stream.Stream<SourceItem, FeedError, FeedClient> =>
  Stream.unwrap(openUrl(url, options, htmlHops))

/** What `url` serves, detected (`fromUrlAt`): failing before any item when it is no source at all. */
const openUrl = (url: string, options: FromUrlOptions, htmlHops: number): Effect.Effect<Stream.Stream<SourceItem, FeedError, FeedClient>, FeedError, FeedClient> =>
  Effect.gen(function*() {
    const client = yield* FeedClient
    const resource = yield* client.get(url)
    const detected = yield* detect(resource)
    switch (detected._tag) {
      case "Feed":
        return detected.feed.format === "json-feed"
          ? jsonFeedPages(detected.feed, [resource.url, resource.finalUrl], options.maxPages ?? 50, resource.url)
          : Stream.fromIterable(detected.feed.items)
      case "Inkwell":
        return inkwellApi(detected.url, options, resource.url)
      case "Ghost":
        return ghostExport(Stream.make(resource.bytes), { ...options.ghost, name: resource.finalUrl })
      case "Html": {
        if (detected.alternates.length === 0 || htmlHops > 0) {
          return yield* new DecodeError({
            url: resource.finalUrl,
            format: "html",
            path: "head",
            reason: htmlHops > 0
              ? "an HTML page, though a page's <link rel=\"alternate\"> gave it as the feed"
              : "an HTML page that links to no feed (no <link rel=\"alternate\"> of an RSS, Atom or JSON Feed type in it)"
          })
        }
        return yield* linkedFeed(resource.finalUrl, detected.alternates, options)
      }
    }
  })

/** A document that is no feed at all (HTML, JSON of another kind, neither JSON nor XML): not a broken feed. */
const isNoFeed = (error: FeedError): error is DecodeError =>
  error._tag === "DecodeError" && (error.format === "unknown" || error.format === "html")

/**
 * The first of a page's feed links (best first, `feedLinks`) that leads to a feed. One that leads
 * to no feed at all is passed over for the next: a WordPress page links to its REST API's JSON as
 * an alternate too, and only that one was tried when it came first. A feed that cannot be fetched
 * or read fails here, as it would given itself: the next link is another feed (the comments'),
 * not this one.
 */
const linkedFeed = (page: string, links: ReadonlyArray<string>, options: FromUrlOptions) =>
  Effect.gen(function*() {
    const passed: Array<DecodeError> = []
    for (const link of links) {
      const opened = yield* Effect.either(openUrl(link, options, 1))
      if (Either.isRight(opened)) return opened.right
      if (!isNoFeed(opened.left)) return yield* opened.left
      passed.push(opened.left)
    }
    if (passed.length === 1) return yield* passed[0]!
    return yield* new DecodeError({
      url: page,
      format: "html",
      path: "head",
      reason: `an HTML page none of whose ${passed.length} <link rel="alternate"> leads to a feed: ${passed.map((error) => error.message).join("; ")}`
    })
  })

/**
 * Posts from whatever `url` serves (see the module comment). Fails with a `FeedError` when the
 * source cannot be fetched or read at all; items that cannot become posts are `Rejected`.
 */
export const fromUrl = (url: string, options: FromUrlOptions = {}): Stream.Stream<SourceItem, FeedError, FeedClient> =>
  fromUrlAt(url, options, 0)
