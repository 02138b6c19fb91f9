/**
 * What every remote or foreign source yields: a post as `PostInput` with the `source` that names
 * it across re-imports, or a rejection naming what could not become a post. A bad item never
 * ends a source; only failing to read the source at all does (a `FeedError`).
 *
 * The import pipeline's `ImportItem` maps one to one: `Entry` → `Record` (identity = source,
 * `createdAt`, `id` and `internalLinks` kept), `Rejected` → `Rejected` (identity = source).
 */
import type { DateTime } from "effect"
import { codePointLength, PostInput, type PostId, tagKey } from "../Domain/Post.js"
import type { ExportedLinks } from "../Processing/records.js"
import { MAX_TAGS, SOURCE_MAX_BYTES, SOURCE_MAX_LENGTH, TAG_MAX_LENGTH, TITLE_MAX_LENGTH } from "../Processing/processPost.js"
import { sha256Hex, truncateText } from "../Processing/text.js"

export type SourceItem =
  | {
    readonly _tag: "Entry"
    /** `<feed or file>#<item id, link or slug>`. */
    readonly source: string
    readonly input: PostInput
    /**
     * When the post was created where it comes from, as an NDJSON record's `createdAt`: a post
     * the import creates takes it, so one without `publishedAt` (listed by its creation) keeps
     * its place in the listing instead of being listed at the import's time.
     */
    readonly createdAt?: DateTime.Utc | undefined
    /**
     * Sources an earlier version named the item by (`<URL it was fetched from>#<id>`, before
     * redirects and pages stopped mattering), or another way of reading the same post did
     * (another Inkwell's API item, the feeds its site's page declared: Sources/InkwellApi.ts
     * `remoteSource`): a
     * post stored under one is this item's (`UpsertOptions.formerSources`), and is known by
     * `source` once written.
     */
    readonly formerSources?: ReadonlyArray<string> | undefined
    /** Its id where it comes from (another Inkwell's): a post the import creates takes it while free. */
    readonly id?: PostId | undefined
    /**
     * The addresses another Inkwell gave the post's Zola internal links (`@/...`), from the page
     * it serves beside the body, as an export's line carries them (`withExportedLinks`).
     */
    readonly internalLinks?: ExportedLinks | undefined
  }
  | {
    readonly _tag: "Rejected"
    readonly source: string
    readonly reason: string
    /** Not an error: something that is not a post (a Ghost page, when pages are not wanted). */
    readonly skipped: boolean
  }

export const entry = (
  source: string,
  input: PostInput,
  createdAt?: DateTime.Utc,
  formerSources?: ReadonlyArray<string>,
  id?: PostId,
  internalLinks?: ExportedLinks
): SourceItem => ({
  _tag: "Entry",
  source,
  input,
  ...(createdAt === undefined ? {} : { createdAt }),
  ...(formerSources === undefined || formerSources.length === 0 ? {} : { formerSources }),
  ...(id === undefined ? {} : { id }),
  ...(internalLinks === undefined ? {} : { internalLinks })
})

/**
 * `<name>#<id>`, an item's `source`; an id too long for a source whole (`SOURCE_MAX_LENGTH`,
 * `SOURCE_MAX_BYTES`: a 20 KB guid) stands as its SHA-256, so such an item is imported, and named
 * in a report, by something short that is still its own (it failed on the limit, the whole id
 * printed as its name).
 */
export const itemSource = (name: string, id: string): string => {
  const source = `${name}#${id}`
  return codePointLength(source) <= SOURCE_MAX_LENGTH && Buffer.byteLength(source, "utf8") <= SOURCE_MAX_BYTES
    ? source
    : `${name}#sha256:${sha256Hex(id)}`
}

/**
 * How a document's items are named: by `name`, the URL the user named (the feed asked for, its
 * first page's for a paged feed), whatever it redirects to or which page an item is on. `read`
 * is where this document was fetched from, which named them before: a post stored under that
 * name is the item's (`formerSources`). Named by where they were read, a feed that began to
 * redirect (http to https, to a CDN) or a JSON Feed whose items moved to the next page when a
 * post was added had every item failed as "a post from another source" (or, with
 * `--on-conflict suffix`, stored twice). An item of a feed at an Inkwell's feed address
 * (`<dir>/feed.json`, `/rss.xml`, `/atom.xml`, a tag's under `<dir>/tags/`) named by its post's id
 * (`urn:uuid:<id>`) also carries the post's name through the API beside those feeds
 * (`<dir>/posts#<id>`, `apiNameOf`): read through the site's page, then its feed again, the post
 * was imported a second time beside itself. Only the API at that very directory: another
 * Inkwell on the same origin (`/bob/feed.json`, copies of `/alice/`'s posts by the same ids) has
 * an API of its own (`/bob/posts`), so it never takes over a post read through another's.
 */
export interface ItemNames {
  readonly source: (id: string) => string
  readonly former: (id: string) => ReadonlyArray<string> | undefined
}

export const itemNames = (read: string, name: string = read): ItemNames => ({
  source: (id) => itemSource(name, id),
  former: (id) => {
    const api = apiNameOf(name, id)
    const moved = name === read ? [] : [itemSource(read, id)]
    const former = api === undefined ? moved : [...moved, api]
    return former.length === 0 ? undefined : former
  }
})

/** An Inkwell's feed address (Site/Urls.ts `routes.feed`): the site's directory (the shortest: a tag's feed is under it), then the file. */
const INKWELL_FEED = /^(https?:\/\/[^/?#]+\/(?:[^?#]*?\/)??)(?:tags\/[^/?#]+\/)?(?:rss\.xml|atom\.xml|feed\.json)$/

/** A feed item id as an Inkwell writes it (Sources/JsonFeed.ts `feedItemId`). */
const INKWELL_ITEM_ID = /^urn:uuid:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/

/** The name of the post that item `id` of `feed` is through the API beside the feed (`itemNames`); else undefined. */
const apiNameOf = (feed: string, id: string): string | undefined => {
  const dir = INKWELL_FEED.exec(feed)?.[1]
  const uuid = INKWELL_ITEM_ID.exec(id)?.[1]
  return dir === undefined || uuid === undefined ? undefined : itemSource(`${dir}posts`, uuid)
}

/**
 * The id of an item that has none (no guid, id or link), from the item itself: its own title,
 * else its text. It was its position (`item-0`), so a new item on top of the feed gave every
 * stored post its neighbour's content. Posts stored under a position are still found at their
 * slug (Posts/internal/repository.ts `sameSource`).
 */
export const derivedId = (ownTitle: string, text: string): string =>
  ownTitle.trim() !== "" ? `title:${ownTitle.trim()}` : `text:${sha256Hex(text).slice(0, 32)}`

export const rejected = (source: string, reason: string, skipped = false): SourceItem => ({
  _tag: "Rejected",
  source,
  reason,
  skipped
})

export interface EntryFields {
  readonly title?: string | undefined
  readonly slug?: string | undefined
  readonly body: string
  readonly tags?: ReadonlyArray<string> | undefined
  readonly status?: "draft" | "published" | undefined
  readonly publishedAt?: string | undefined
  readonly updatedAt?: string | undefined
  readonly authors?: ReadonlyArray<string> | undefined
  readonly summary?: string | undefined
  /** Old paths of the post, which the reader site redirects (`PostInput.aliases`). */
  readonly aliases?: ReadonlyArray<string> | undefined
  readonly metadata?: Readonly<Record<string, unknown>> | undefined
}

const cleanList = (values: ReadonlyArray<string> | undefined, maxLength: number): Array<string> | undefined => {
  if (values === undefined) return undefined
  const out = [...new Set(values.map((v) => v.trim()).filter((v) => v !== "" && codePointLength(v) <= maxLength))]
  return out.length === 0 ? undefined : out
}

/**
 * A feed's categories as tags: the first `MAX_TAGS` (one per `tagKey`, as the processor keys
 * them), so that an item of many categories is imported with its first ones, as a
 * too-long category is dropped, rather than failed whole.
 */
const firstTags = (tags: Array<string> | undefined): Array<string> | undefined => {
  if (tags === undefined) return undefined
  const keys = new Set<string>()
  const out: Array<string> = []
  for (const tag of tags) {
    const key = tagKey(tag)
    if (keys.has(key)) {
      out.push(tag)
    } else if (keys.size < MAX_TAGS) {
      keys.add(key)
      out.push(tag)
    }
  }
  return out
}

/**
 * A `PostInput` from mapped fields: undefined fields left out (so the processor's defaults
 * apply), tags, authors and aliases trimmed and deduplicated, tags longer than the domain
 * allows (`TAG_MAX_LENGTH`) or beyond its first `MAX_TAGS` dropped rather than failing the
 * whole post, empty strings treated as absent. A title longer than a post's
 * (`TITLE_MAX_LENGTH`) is cut at a word with an ellipsis: Tumblr's and Mastodon's feeds put a
 * post's whole text in it, and the item failed.
 */
export const toPostInput = (fields: EntryFields): PostInput => {
  const out: Record<string, unknown> = { body: fields.body }
  const text = (key: keyof EntryFields, value: string | undefined) => {
    if (value !== undefined && value.trim() !== "") out[key] = value.trim()
  }
  // Counted in UTF-16 units first: most titles are far shorter in any count.
  text("title", fields.title !== undefined && fields.title.length > TITLE_MAX_LENGTH ? truncateText(fields.title, TITLE_MAX_LENGTH) : fields.title)
  text("slug", fields.slug)
  text("status", fields.status)
  text("publishedAt", fields.publishedAt)
  text("updatedAt", fields.updatedAt)
  text("summary", fields.summary)
  const tags = firstTags(cleanList(fields.tags, TAG_MAX_LENGTH))
  if (tags !== undefined) out["tags"] = tags
  const authors = cleanList(fields.authors, 200)
  if (authors !== undefined) out["authors"] = authors
  const aliases = cleanList(fields.aliases, Number.POSITIVE_INFINITY)
  if (aliases !== undefined) out["aliases"] = aliases
  if (fields.metadata !== undefined) {
    const metadata = Object.fromEntries(Object.entries(fields.metadata).filter(([, v]) => v !== undefined && v !== null && v !== ""))
    if (Object.keys(metadata).length > 0) out["metadata"] = metadata
  }
  return new PostInput(out as ConstructorParameters<typeof PostInput>[0])
}

/** A feed document read whole: its items and, for paged feeds, where the next page is. */
export interface ParsedFeed {
  readonly format: "json-feed" | "rss" | "atom"
  readonly title: string | undefined
  /** Mapped as they are iterated (`itemsOf`): no feed's posts are all held at once. */
  readonly items: Iterable<SourceItem>
  /** JSON Feed `next_url`, resolved. */
  readonly nextUrl?: string | undefined
}

/**
 * `raw`'s items, each read (`read`) when iteration reaches it, again for each iteration: an
 * import holds the posts it is working on, never all of a feed's (90,000 of them, or one of
 * 6 MB, read into posts at once, passed the CLI's heap), and reads them between turns of the
 * event loop (FeedSource.ts).
 */
export const itemsOf = <A>(raw: ReadonlyArray<A>, read: (raw: A, index: number) => SourceItem): Iterable<SourceItem> => ({
  *[Symbol.iterator]() {
    for (let index = 0; index < raw.length; index++) yield read(raw[index]!, index)
  }
})
