/**
 * JSON Feed 1.1 (and 1.0): reading a feed into `SourceItem`s, and writing Inkwell's own posts as
 * one (`toJsonFeed`, for `/feed.json`). Pure.
 *
 * Reading is lenient where real feeds are sloppy (null for absent fields, numeric ids, 1.0's
 * single `author`) and strict only about what makes it a JSON Feed at all (`version`, `items`).
 * One bad item becomes a `Rejected` item naming its index and the field at fault.
 */
import { createHash } from "node:crypto"
import { DateTime, Either, ParseResult, Schema } from "effect"
import { DecodeError } from "../Clients/FeedErrors.js"
import { issuesOf } from "../Domain/decodeIssues.js"
import { announcedUpdateOf, distinctTags, plainTitle, type Post } from "../Domain/Post.js"
import { htmlBody, itemSlug, plainText, readDates, resolveLinks, resolveUrl, shorten, textBody } from "./html.js"
import { type BadBytes, failIfBad, firstBadByte, firstBadKey } from "./badBytes.js"
import { derivedId, entry, type ItemNames, itemNames, itemsOf, type ParsedFeed, rejected, type SourceItem, toPostInput } from "./SourceItem.js"

export const JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"

const opt = <A, I>(schema: Schema.Schema<A, I>) => Schema.optional(Schema.NullOr(schema))

const Author = Schema.Struct({ name: opt(Schema.String), url: opt(Schema.String), avatar: opt(Schema.String) })

const Item = Schema.Struct({
  id: opt(Schema.Union(Schema.String, Schema.Number)),
  url: opt(Schema.String),
  external_url: opt(Schema.String),
  title: opt(Schema.String),
  content_html: opt(Schema.String),
  content_text: opt(Schema.String),
  summary: opt(Schema.String),
  image: opt(Schema.String),
  date_published: opt(Schema.String),
  date_modified: opt(Schema.String),
  author: opt(Author),
  authors: opt(Schema.Array(Author)),
  tags: opt(Schema.Array(Schema.String)),
  language: opt(Schema.String),
  /**
   * Written by `toJsonFeed`: lets one Inkwell keep another's slugs, and its titles as written
   * (`title` is plain text, without a title's `code` spans).
   */
  _inkwell: opt(Schema.Struct({ slug: opt(Schema.String), title: opt(Schema.String) }))
})

/**
 * A feed's `items`, checked to be an array and no more: each item is checked when it is read
 * (`readItem`, as the import takes it). `Schema.Array(Schema.Unknown)` went through every item,
 * copying the array, in one call: 53 to 105 ms on 19 MB of small items, the longest a server was
 * held reading a JSON Feed. Named as that schema is, for the same message ("Expected
 * ReadonlyArray<unknown>, actual 5").
 */
const Items = Schema.declare((input: unknown): input is ReadonlyArray<unknown> => Array.isArray(input), {
  identifier: "ReadonlyArray<unknown>"
})

const Document = Schema.Struct({
  version: Schema.String.pipe(Schema.startsWith("https://jsonfeed.org/version/")),
  title: opt(Schema.String),
  home_page_url: opt(Schema.String),
  feed_url: opt(Schema.String),
  next_url: opt(Schema.String),
  author: opt(Author),
  authors: opt(Schema.Array(Author)),
  items: Items
})

/** Whether a parsed JSON value claims to be a JSON Feed (for format detection). */
export const isJsonFeed = (json: unknown): boolean =>
  typeof json === "object" && json !== null && typeof (json as { version?: unknown }).version === "string" &&
  (json as { version: string }).version.startsWith("https://jsonfeed.org/version/")

/** The first issue of a parse error as a dotted path and a message. */
export const firstIssue = (error: ParseResult.ParseError): { path: string; message: string } => {
  const issue = issuesOf(error)[0]
  return issue === undefined
    ? { path: "(root)", message: error.message }
    : { path: issue.path.length === 0 ? "(root)" : issue.path.map(String).join("."), message: issue.message }
}

const decodeDocument = Schema.decodeUnknownEither(Document)
const decodeItem = Schema.decodeUnknownEither(Item)

type AuthorT = typeof Author.Type

const authorNames = (...lists: ReadonlyArray<ReadonlyArray<AuthorT | null> | null | undefined>): Array<string> | undefined => {
  for (const list of lists) {
    const names = (list ?? []).flatMap((a) => (a?.name ? [a.name] : []))
    if (names.length > 0) return names
  }
  return undefined
}

/**
 * Whether a bad byte outside the items would change what is imported without failing an item: in
 * a key of the feed's own object (`"author\x92s"` drops the authors every item takes, `"next_u\x92rl"`
 * the pages after this one) or of its authors (their names: an author's name with one fails the items
 * taking it, as any value an item has), or in `next_url` (the next page asked for at an altered URL).
 * Its other values (title, home_page_url, extensions) are not imported.
 */
const feedDamaged = (json: unknown, bad: BadBytes): boolean => {
  if (typeof json !== "object" || json === null) return false
  const feed = json as Record<string, unknown>
  return Object.keys(feed).some((key) => firstBadByte(key, bad) !== undefined) ||
    firstBadKey([feed["author"], feed["authors"]], bad) !== undefined ||
    firstBadByte(feed["next_url"], bad) !== undefined
}

/**
 * Reads a JSON Feed document; `feedUrl` is where it was fetched from (the base for relative
 * links), `name` the URL its items are named by (`itemNames`: the one asked for, the first page's
 * for every page). `bad`: where the markers of bytes that are not UTF-8 are
 * (`markedBodyTextInSteps`); an item with one fails (`failIfBad`), and a feed with one where no
 * item would fail for it (`feedDamaged`) is refused (`bad.error`).
 */
export const parseJsonFeed = (
  json: unknown,
  feedUrl: string,
  bad?: BadBytes & { readonly error: DecodeError },
  name: string = feedUrl
): Either.Either<ParsedFeed, DecodeError> => {
  const names = itemNames(feedUrl, name)
  // Before decoding: a damaged `items` or `version` key would be reported as missing.
  if (bad !== undefined && feedDamaged(json, bad)) return Either.left(bad.error)
  const decoded = decodeDocument(json)
  if (Either.isLeft(decoded)) {
    const { message, path } = firstIssue(decoded.left)
    return Either.left(new DecodeError({ url: feedUrl, format: "json-feed", path, reason: message }))
  }
  const feed = decoded.right
  const feedAuthors = [feed.authors, feed.author === undefined || feed.author === null ? undefined : [feed.author]] as const
  const readItem = (raw: unknown, index: number): SourceItem => {
    const item = decodeItem(raw)
    const fallbackId = typeof raw === "object" && raw !== null && "id" in raw ? String((raw as { id: unknown }).id) : `item-${index}`
    if (Either.isLeft(item)) {
      const { message, path } = firstIssue(item.left)
      return rejected(names.source(fallbackId), `items.${index}.${path}: ${message}`)
    }
    return mapItem(item.right, index, feedUrl, names, feedAuthors)
  }
  const items = itemsOf(feed.items, (raw, index) => failIfBad(readItem(raw, index), raw, `items.${index}`, bad))
  return Either.right({
    format: "json-feed",
    title: feed.title ?? undefined,
    items,
    nextUrl: feed.next_url ? resolveUrl(feed.next_url, feedUrl) : undefined
  })
}

/** Plain text on one line: JSON strings need no decoding, only whitespace collapsed. */
const textLine = (text: string): string => text.replace(/\s+/g, " ").trim()

const mapItem = (
  item: typeof Item.Type,
  index: number,
  feedUrl: string,
  names: ItemNames,
  feedAuthors: readonly [ReadonlyArray<AuthorT> | null | undefined, ReadonlyArray<AuthorT> | undefined]
): SourceItem => {
  const link = item.url ? resolveUrl(item.url, feedUrl) : undefined
  const ownId = item.id !== undefined && item.id !== null && String(item.id).trim() !== "" ? String(item.id) : undefined
  const id = ownId ?? link ?? derivedId(item.title ?? "", item.content_html ?? item.content_text ?? item.summary ?? "")
  const source = names.source(id)
  const body = item.content_html
    ? htmlBody(resolveLinks(item.content_html, feedUrl))
    : item.content_text
    ? textBody(item.content_text)
    : item.summary
    ? textBody(item.summary)
    : undefined
  if (body === undefined) return rejected(source, `items.${index}: neither content_html, content_text nor summary`)
  const { dates, problems } = readDates(
    { date_published: item.date_published, date_modified: item.date_modified },
    (field) => `items.${index}.${field}:`
  )
  if (problems.length > 0) return rejected(source, problems.join("; "))
  // JSON Feed says `title` and `summary` are plain text, but feeds in the wild put HTML and
  // entities in them, so they are read as HTML. Not when `toJsonFeed` wrote them (`_inkwell`):
  // those are exact, and read as HTML "Vec<T> & friends" lost its `<T>` on the way between two
  // Inkwells.
  const plain = item._inkwell !== undefined && item._inkwell !== null ? textLine : plainText
  const summary = item.summary ? plain(item.summary) || undefined : undefined
  // Microblog items often have no title; the post needs one, so the text's start stands in.
  // Another Inkwell's own title, `code` spans and all, when it wrote one: its `title` is the plain text.
  const ownTitle = item._inkwell?.title ? textLine(item._inkwell.title) : item.title ? plain(item.title) : ""
  const title = ownTitle || shorten(item.content_text?.trim() || plainText(item.content_html ?? "") || summary || "", 80)
  if (title === "") return rejected(source, `items.${index}: no title, and no text in its content to make one from`)
  // Its link or id gives an untitled item's slug: made from its text's start, two alike collided.
  const slug = item._inkwell?.slug ?? itemSlug(ownTitle, link, ownId)
  return entry(
    source,
    toPostInput({
      title,
      slug,
      body,
      tags: item.tags ?? undefined,
      // As Atom's <updated> stands in for a missing <published>: left out, the post was dated at the import's time.
      publishedAt: dates.date_published ?? dates.date_modified,
      updatedAt: dates.date_modified,
      authors: authorNames(item.authors, item.author ? [item.author] : undefined, ...feedAuthors),
      summary,
      metadata: {
        url: link,
        externalUrl: item.external_url ? resolveUrl(item.external_url, feedUrl) : undefined,
        image: item.image ? resolveUrl(item.image, feedUrl) : undefined,
        feedItemId: ownId ?? link
      }
    }),
    undefined,
    names.former(id)
  )
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The namespace of the name-based ids below (RFC 9562 §5.5): Inkwell's own, fixed for good. */
const POST_ID_NAMESPACE = Buffer.from("6f1c0a52d8e34b9f9a3e5c7b2d41e08a", "hex")

/** A version 5 UUID for `name`: the same name gives the same UUID, anywhere, for good. */
const nameBasedUuid = (name: string): string => {
  const bytes = createHash("sha1").update(POST_ID_NAMESPACE).update(name, "utf8").digest().subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x50
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString("hex")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/**
 * A post's id in every feed (RSS `guid`, Atom `id`, JSON Feed `id`): `urn:uuid:` and the post's
 * stored id, which no edit changes. Its URL was its id, and it is not for life: a renamed post
 * (a fixed title, re-imported, moves to a new slug) or a new `SITE_URL` gave every reader a new
 * item, while RFC 4287 (§4.2.6) says an entry's id never changes. Stored ids are UUIDs; any other
 * stands in as the name of a name-based one, stable as well.
 */
export const feedItemId = (post: Pick<Post, "id">): string =>
  `urn:uuid:${UUID.test(post.id) ? post.id.toLowerCase() : nameBasedUuid(post.id)}`

export interface JsonFeedSite {
  readonly title: string
  /** The site's home page, absolute. */
  readonly url: string
  /** Where this feed is served, absolute (e.g. `https://blog.example/feed.json`). */
  readonly feedUrl: string
  readonly description?: string | undefined
  readonly language?: string | undefined
  /** A post's public URL; default `<url>/posts/<slug>`. */
  readonly postUrl?: ((post: Post) => string) | undefined
  /** The next page of this feed, when paged. */
  readonly nextUrl?: string | undefined
  /**
   * A post's tags as an item lists them; default each once whatever its case, in the post's
   * first spelling (`distinctTags`). The site's feeds name a tag's feed's tag as its RSS and Atom do.
   */
  readonly tagsOf?: ((post: Post) => ReadonlyArray<string>) | undefined
}

/**
 * Published posts as a JSON Feed 1.1 document (drafts are left out), each item's `id` its
 * `feedItemId`, its `url` its page, its `title` plain text as JSON Feed says it is
 * (`plainTitle`, as RSS and Atom write it: "Announcing `async fn`" kept its backticks here
 * alone). Links in the rendered HTML are made absolute against each post's URL, in-page `#note`
 * links too, since feed readers show it away from the site.
 * `_inkwell.slug` lets another Inkwell importing this feed keep the slugs, and `_inkwell.title`
 * (when it is not the plain one) the title as written.
 */
export const toJsonFeed = (posts: ReadonlyArray<Post>, site: JsonFeedSite): Record<string, unknown> => {
  const home = site.url.replace(/\/+$/, "")
  const postUrl = site.postUrl ?? ((post: Post) => `${home}/posts/${encodeURIComponent(post.slug)}`)
  const tagsOf = site.tagsOf ?? ((post: Post) => distinctTags(post.tags).map(({ tag }) => tag))
  const items = posts.filter((post) => post.status === "published").map((post) => {
    const url = postUrl(post)
    const published = post.publishedAt ?? post.createdAt
    const title = plainTitle(post.title)
    const item: Record<string, unknown> = {
      id: feedItemId(post),
      url,
      title,
      content_html: resolveLinks(post.html, url, { fragments: true }),
      summary: post.summary ?? post.excerpt,
      date_published: DateTime.formatIso(published),
      _inkwell: title === post.title ? { slug: post.slug } : { slug: post.slug, title: post.title }
    }
    // Only an update the author announced, as in the Atom feed, and never one later than the
    // post's last write (`announcedUpdateOf`). Storage time (when this server imported or last
    // saved the post) is no news to readers, and an Inkwell importing this feed showed every
    // post as "updated" on the day the source had been imported.
    const updated = announcedUpdateOf(post)
    if (updated !== null) item["date_modified"] = DateTime.formatIso(DateTime.max(updated, published))
    const tags = tagsOf(post)
    if (tags.length > 0) item["tags"] = [...tags]
    if (post.authors.length > 0) item["authors"] = post.authors.map((name) => ({ name }))
    return item
  })
  const feed: Record<string, unknown> = {
    version: JSON_FEED_VERSION,
    title: site.title,
    home_page_url: site.url,
    feed_url: site.feedUrl
  }
  if (site.description !== undefined) feed["description"] = site.description
  if (site.language !== undefined) feed["language"] = site.language
  if (site.nextUrl !== undefined) feed["next_url"] = site.nextUrl
  feed["items"] = items
  return feed
}
