/**
 * Another Inkwell server as a source: `GET /posts?limit=N` pages followed through their `next`
 * cursor until it is null, then `GET /posts/:slug` for each post, since lists carry summaries
 * only and an import needs the markdown body.
 *
 * A page that cannot be fetched or read ends the source (`FeedError`), and so does a listing that
 * looks endless (`MAX_IDLE_PAGES`, `maxPosts`); a single post that cannot be fetched or read is
 * a `Rejected` item and the rest go on, unless the source's deadline has passed
 * (`SourceDeadline`), which ends the source. A post listed twice is fetched once.
 */
import { Chunk, DateTime, Effect, Either, Option, ParseResult, Redacted, Schema, Stream } from "effect"
import { FeedClient, type FetchedResource } from "../Clients/FeedClient.js"
import { DecodeError, type FeedError, type SourceDeadline } from "../Clients/FeedErrors.js"
import { Metadata, PostId, PostInput } from "../Domain/Post.js"
import { runStepsWithTurns } from "../Domain/yieldToEventLoop.js"
import { exportedHrefs } from "../Processing/internalLinks.js"
import { type ExportedLinks, postIdOf, recordBody } from "../Processing/records.js"
import { sha256Hex } from "../Processing/text.js"
import { parseDateString, takenUpdate } from "../Processing/dates.js"
import { firstIssue } from "./JsonFeed.js"
import { bodyPiecesInSteps } from "./body.js"
import { readJson } from "./readJson.js"
import { entry, itemSource, rejected, type SourceItem, toPostInput } from "./SourceItem.js"

export interface InkwellApiOptions {
  /** Posts per page, 1–100 (default 50). */
  readonly pageSize?: number | undefined
  /** Posts fetched at once (default 4; the client's per-host limit applies as well). */
  readonly concurrency?: number | undefined
  /**
   * Sent as `X-API-Key`: drafts and scheduled posts are listed only with a key (without one, only
   * the public posts come). Never in a log, an error or a post: give it `Redacted`.
   */
  readonly apiKey?: string | Redacted.Redacted<string> | undefined
  /**
   * Posts listed at most (default `MAX_LISTED_POSTS`): past them the source fails, naming the
   * page, and the posts listed before are imported.
   */
  readonly maxPosts?: number | undefined
}

/**
 * Pages in a row listing no post that was not listed before, each with a `next` cursor, after
 * which a source is taken for one that pages for ever. An Inkwell never gives one: its `next` is
 * null on a page that is not full. A source answering empty pages with ever-new cursors was
 * fetched for ever, after the client of an import-url had left too.
 */
export const MAX_IDLE_PAGES = 3

/**
 * Posts a source lists at most, by default: five times the largest blog the project benchmarks
 * (100,000 posts), for a source that pages for ever with a new post on each page.
 */
export const MAX_LISTED_POSTS = 500_000

const Page = Schema.Struct({
  items: Schema.Array(Schema.Struct({ slug: Schema.String })),
  next: Schema.NullOr(Schema.String)
})

/** A date as an NDJSON record's `createdAt` takes it (RFC 3339, or `YYYY-MM-DD` as UTC). */
const RemoteDate = Schema.transformOrFail(Schema.String, Schema.DateTimeUtcFromSelf, {
  strict: true,
  decode: (text, _, ast) =>
    Either.match(parseDateString(text), {
      onLeft: (reason) => ParseResult.fail(new ParseResult.Type(ast, text, reason)),
      onRight: ParseResult.succeed
    }),
  encode: (date) => ParseResult.succeed(DateTime.formatIso(date))
})

/**
 * A post's id as an NDJSON record's `id` takes it (a UUID, lowercased); blank as none, as a
 * post without one is known by its URL (`remoteSource`).
 */
const RemoteId = Schema.transformOrFail(Schema.String, Schema.String, {
  strict: true,
  decode: (text, _, ast) =>
    text.trim() === "" ? ParseResult.succeed("") : Either.match(postIdOf(text), {
      onLeft: (reason) => ParseResult.fail(new ParseResult.Type(ast, text, reason)),
      onRight: (id) => ParseResult.succeed(id ?? text)
    }),
  encode: ParseResult.succeed
})

/**
 * What an import takes of `GET /posts/:slug` (`Post`): the fields an NDJSON record carries
 * (`exportRecord`), its `id` included: the post is known by it here (`remoteSource`), and a post
 * the import creates takes it. The server's `source` is not one. Its old slugs (`movedFrom` of an
 * export) are in no API answer, so slugs a post had there before it was imported do not redirect
 * here. The rest is derived (html, excerpt, ...) or assigned by the store (version, `updatedAt`),
 * and the import derives or assigns it again, but for the addresses its page gives its Zola
 * internal links (`remoteLinks`).
 */
const RemotePost = Schema.Struct({
  id: Schema.optional(Schema.NullOr(RemoteId)),
  slug: Schema.String,
  title: Schema.String,
  body: Schema.String,
  tags: Schema.optional(Schema.Array(Schema.String)),
  status: Schema.optional(Schema.String),
  authors: Schema.optional(Schema.Array(Schema.String)),
  summary: Schema.optional(Schema.NullOr(Schema.String)),
  publishedAt: Schema.optional(Schema.NullOr(Schema.String)),
  updatedAtSource: Schema.optional(Schema.NullOr(Schema.String)),
  aliases: Schema.optional(Schema.Array(Schema.String)),
  // The domain's own: `Schema.Record` rebuilds the object by assignment, and a front matter key
  // `__proto__` set the copy's prototype instead, gone without a word.
  metadata: Schema.optional(Metadata),
  createdAt: Schema.optional(Schema.NullOr(RemoteDate)),
  // When it last stored the post: bounds the `updated` it may carry (`remoteUpdate`).
  updatedAt: Schema.optional(Schema.NullOr(RemoteDate)),
  // Read for its links' addresses only (`remoteLinks`): whatever else it is, the post imports.
  html: Schema.optional(Schema.Unknown)
})

/** Whether a JSON document looks like a page of `GET /posts`. */
export const isInkwellPage = (json: unknown): boolean =>
  typeof json === "object" && json !== null && Array.isArray((json as { items?: unknown }).items) &&
  "next" in json && !("version" in json)

/** The `/posts` list URL for a server base or list URL (query parameters such as `tag` kept). */
export const listUrlOf = (url: string): URL => {
  const list = new URL(url)
  list.hash = ""
  if (!/\/posts\/?$/.test(list.pathname)) list.pathname = `${list.pathname.replace(/\/+$/, "")}/posts`
  list.pathname = list.pathname.replace(/\/+$/, "")
  list.searchParams.delete("cursor")
  list.searchParams.delete("offset")
  return list
}

/** A fetched body as JSON, decoded and parsed in steps as a feed's is (a page of long posts is megabytes). */
function* jsonOf(resource: FetchedResource): Generator<void, Either.Either<unknown, DecodeError>> {
  const text = yield* bodyPiecesInSteps(resource, { json: true })
  return Either.isLeft(text) ? text : yield* readJson(text.right, resource.finalUrl)
}

const decodeJson = <A, I>(schema: Schema.Schema<A, I>, resource: FetchedResource): Effect.Effect<A, DecodeError> =>
  runStepsWithTurns(jsonOf(resource)).pipe(
    Effect.flatMap((json) => json),
    Effect.flatMap((json) =>
      Either.mapLeft(Schema.decodeUnknownEither(schema)(json), (e) => {
        const { message, path } = firstIssue(e)
        return new DecodeError({ url: resource.finalUrl, format: "inkwell", path, reason: message })
      })
    )
  )

/**
 * A remote post's `updated` as this import takes it: as the other Inkwell stores it, unless it
 * is later than any write takes (`takenUpdate`; a row stored there before such dates were
 * refused), as its export would write it. Its readers were shown no later (`announcedUpdateOf`);
 * taken as stored, the post failed this import ("is in the future") and stayed behind. One that
 * is no date at all goes as it is, for the import to refuse by name.
 */
const remoteUpdate = (p: typeof RemotePost.Type): string | undefined => {
  if (p.updatedAtSource == null) return undefined
  const updated = parseDateString(p.updatedAtSource)
  if (p.updatedAt == null || Either.isLeft(updated)) return p.updatedAtSource
  const published = p.publishedAt == null ? null : Either.getOrNull(parseDateString(p.publishedAt))
  const taken = takenUpdate(updated.right, published, p.updatedAt)
  return taken === updated.right ? p.updatedAtSource : DateTime.formatIso(taken)
}

/**
 * A post of another Inkwell as an import takes it: what an export's record carries (`exportRecord`),
 * read back the same way. Its body as stored, shielded as an export shields it (`recordBody`): a
 * body beginning with a `---` line was read as front matter again, cut or failed. Its metadata as
 * stored (a key without a value included), `origin` set to where it was read (replacing one an
 * earlier migration set); the feeds' cleaning (`toPostInput`) is for the rest.
 */
const remoteInput = (p: typeof RemotePost.Type, postUrl: string): PostInput => {
  const input = toPostInput({
    title: p.title,
    slug: p.slug,
    body: recordBody(p.body),
    tags: p.tags,
    status: p.status === "draft" || p.status === "published" ? p.status : undefined,
    publishedAt: p.publishedAt ?? undefined,
    updatedAt: remoteUpdate(p),
    authors: p.authors,
    summary: p.summary ?? undefined,
    aliases: p.aliases
  })
  return new PostInput({ ...input, metadata: { ...p.metadata, origin: postUrl } })
}

/**
 * The addresses the other Inkwell's page (`html`) gives the post's Zola internal links
 * (`@/...`), which only the import of the post's directory there could resolve: carried as an
 * export's line carries them (`ExportedLinks`), for `input`'s body, which the page was served
 * with. The import takes them only where they match the body's links by place, each an address
 * such a link may have (`carryInternalLinks`): another server's page is no more trusted than a file.
 */
const remoteLinks = (html: unknown, input: PostInput): ExportedLinks | undefined => {
  const hrefs = typeof html === "string" ? exportedHrefs(html) : undefined
  return hrefs === undefined ? undefined : { body: sha256Hex(input.body), hrefs }
}

/**
 * Which post of the server listing at `name` a remote post is: `<name's /posts>#<its id>`, the
 * id no rename changes, so a post renamed there is moved here (its old slug redirecting), where
 * by its URL it was a new post and the old copy stayed. A server whose answers carry no id (not
 * an Inkwell of this kind) has its posts known by their URL, `postUrl`, as before; so were all
 * posts by earlier versions, and a post stored under its URL is found by it (`formerSources`);
 * so is one stored under the name a feed of the site gives it (`<feed>#urn:uuid:<id>`, `feeds`),
 * as an import of the site through that feed named it.
 */
const remoteSource = (
  name: URL,
  id: string | undefined,
  postUrl: string,
  feeds: ReadonlyArray<string>
): { readonly source: string; readonly former?: ReadonlyArray<string> } =>
  id === undefined || id.trim() === ""
    ? { source: postUrl }
    : { source: itemSource(`${name.origin}${name.pathname}`, id), former: [postUrl, ...feeds.map((feed) => itemSource(feed, `urn:uuid:${id}`))] }

/**
 * Feeds of the site's page (`inkwellApi`'s `feeds`) whose names a post is looked up by: an
 * import reads the first 5 of a page's feed links at most (Sources/FeedSource.ts `MAX_FEED_LINKS`).
 */
const FEEDS_NAMED = 5

/**
 * Of the feeds the site's page declared, those of the site whose API is named `name` (its list,
 * `<base>/posts`): on its origin and under its base, as an Inkwell serves its feeds (Site/Urls.ts
 * `routes.feed`). A page declaring another's feed is not taken at its word: on one origin, one
 * Inkwell (`/alice/`) may hold copies, by the same ids, of another's (`/bob/`) posts, and bob's
 * post stored from bob's feed would be taken over by alice's. Without a page, none: a feed at the
 * root of the origin is a guess, not a name the site gave.
 */
const siteFeeds = (name: URL, feeds: ReadonlyArray<string>): ReadonlyArray<string> => {
  const base = `${name.origin}${name.pathname.replace(/posts$/, "")}`
  return feeds.filter((feed) => URL.canParse(feed) && new URL(feed).origin === name.origin && feed.startsWith(base)).slice(0, FEEDS_NAMED)
}

/**
 * Posts of the Inkwell server at `url` (its base URL or its `/posts` URL). `name` is the URL the
 * posts are named by (`remoteSource`), the one the import was given when `url` is where it led.
 * `feeds`: those of the site's page that led here, which an import of the page named its posts by
 * (`<feed>#urn:uuid:<id>`) before the page named its API (the site's own, `siteFeeds`). A post
 * stored so is this post's, found under that name whatever its slug (an RSS item's is made from
 * its title). A post stored from any other feed, even of the same origin and naming the same id,
 * is another source's (Posts/internal/repository.ts `sameSource`).
 */
export const inkwellApi = (
  url: string,
  options: InkwellApiOptions = {},
  name: string = url,
  feeds: ReadonlyArray<string> = []
): Stream.Stream<SourceItem, FeedError, FeedClient> =>
  Stream.unwrap(Effect.gen(function*() {
    const client = yield* FeedClient
    const list = listUrlOf(url)
    const named = listUrlOf(name)
    const feedsNamed = siteFeeds(named, feeds)
    if (!list.searchParams.has("limit")) list.searchParams.set("limit", String(Math.min(100, Math.max(1, options.pageSize ?? 50))))
    const headers = options.apiKey === undefined
      ? undefined
      : { "x-api-key": Redacted.isRedacted(options.apiKey) ? Redacted.value(options.apiKey) : options.apiKey }
    const get = (u: string) => client.get(u, { headers, accept: "application/json" })
    const seen = new Set<string>()
    /** Slugs listed so far: a post listed again is not fetched again, and a page of none new is idle. */
    const listed = new Set<string>()
    const maxPosts = options.maxPosts ?? MAX_LISTED_POSTS
    let idle = 0
    /** The listing stopped at `url`, why, said as the source's failure. */
    const stop = (url: string, reason: string) =>
      new DecodeError({ url, format: "inkwell", path: "next", reason: `${reason}: stopped ${listed.size === 0 ? "before any post was listed" : `after the first ${listed.size} post(s)`}` })

    /** A cursor to read the page of, or the failure to end the listing with once the posts before it are taken. */
    type Next = { readonly cursor: string | undefined } | { readonly stop: DecodeError }

    const page = (at: Next) =>
      Effect.gen(function*() {
        if ("stop" in at) return yield* at.stop
        const pageUrl = new URL(list)
        if (at.cursor !== undefined) pageUrl.searchParams.set("cursor", at.cursor)
        const resource = yield* get(pageUrl.href)
        const decoded = yield* decodeJson(Page, resource)
        const next = decoded.next
        if (next !== null && seen.has(next)) {
          return yield* new DecodeError({ url: pageUrl.href, format: "inkwell", path: "next", reason: `cursor "${next}" was already followed: pagination loop` })
        }
        if (next !== null) seen.add(next)
        const fresh: Array<{ readonly slug: string }> = []
        for (const item of decoded.items) {
          if (listed.has(item.slug)) continue
          if (listed.size >= maxPosts) {
            const over = stop(pageUrl.href, `more than ${maxPosts} posts listed, the most a source is read for`)
            return [Chunk.unsafeFromArray(fresh), Option.some<Next>({ stop: over })] as const
          }
          listed.add(item.slug)
          fresh.push(item)
        }
        idle = fresh.length === 0 && next !== null ? idle + 1 : 0
        if (idle >= MAX_IDLE_PAGES) {
          return yield* stop(pageUrl.href, `${MAX_IDLE_PAGES} pages in a row listed no new post, yet each gave a "next" cursor (a listing without end?)`)
        }
        return [Chunk.unsafeFromArray(fresh), Option.map(Option.fromNullable(next), (cursor): Next => ({ cursor }))] as const
      })

    const post = (slug: string): Effect.Effect<SourceItem, SourceDeadline> => {
      const postUrl = `${list.origin}${list.pathname}/${encodeURIComponent(slug)}`
      return get(postUrl).pipe(
        Effect.flatMap((resource) => decodeJson(RemotePost, resource)),
        Effect.map((p) => {
          const id = p.id === undefined || p.id === null || p.id === "" ? undefined : PostId.make(p.id)
          const { former, source } = remoteSource(named, id, postUrl, feedsNamed)
          const input = remoteInput(p, postUrl)
          return entry(source, input, p.createdAt ?? undefined, former, id, remoteLinks(p.html, input))
        }),
        // The source's deadline ends the source, not this post alone (and then each post after it).
        Effect.catchIf(
          (error): error is Exclude<FeedError, SourceDeadline> => error._tag !== "SourceDeadline",
          (error) => Effect.succeed(rejected(postUrl, error.message))
        )
      )
    }

    return Stream.paginateChunkEffect<Next, { readonly slug: string }, FeedError, never>({ cursor: undefined }, page).pipe(
      Stream.mapEffect((summary) => post(summary.slug), { concurrency: options.concurrency ?? 4 })
    )
  }))
