/**
 * The storage port for posts. One contract (test/Posts/PostRepositoryContract.ts),
 * many implementations: in-memory (tests), SQL on SQLite (default) and PostgreSQL.
 */
import type { SqlClient, SqlError } from "@effect/sql"
import { Context, Data, DateTime, type Effect, Option } from "effect"
import type { InvalidCursor, PostNotFound, RepositoryError, SlugConflict, StaleVersion } from "../Domain/Errors.js"
import type { NewPost, Post, PostId, PostStatus } from "../Domain/Post.js"

/** Hard cap on a page, whatever the caller asks for. */
export const MAX_PAGE_SIZE = 100
export const DEFAULT_PAGE_SIZE = 20

/**
 * How deep a search pages: results beyond the first MAX_SEARCH_RESULTS are never paged to, in
 * any store (`SearchQuery.offset` at or past it is an empty page, and the page that reaches it
 * says no more follow). Relevance has no index to walk: every page ranks the matches before it
 * too, so a deep page cost as much as reading that many posts (`q=the&offset=60000` took 15 s on
 * SQLite at 100,000 posts, holding the server). Readers refine a search rather than read its
 * fiftieth page, as with GitHub's or Google's 1,000.
 */
export const MAX_SEARCH_RESULTS = 1000

/** How many hex digits of `contentHash` a post's ETag carries (`"v<version>-<hash tag>"`). */
export const HASH_TAG_LENGTH = 16

/**
 * The part of a post's ETag after its version: which post, with which content. A conditional
 * write that names it must find the same value on the stored post: the version alone cannot tell
 * a post from one that reused its slug after a delete (both are at version 1), and neither can
 * the content hash when the new post was created with the same content: its JSON differs all the
 * same (`id`, `createdAt`), and an `If-Match` with its predecessor's tag went ahead. So the first
 * HASH_TAG_LENGTH hex digits of `contentHash`, a dash, and `idTagOf` the post's id.
 */
export const hashTagOf = (post: { readonly contentHash: string; readonly id: string }): string =>
  `${post.contentHash.slice(0, HASH_TAG_LENGTH)}-${idTagOf(post.id)}`

/**
 * 8 hex digits from a post id (32-bit FNV-1a): enough to tell apart the few posts one slug ever
 * holds at one version and content, short, and hex (as the ETag's other parts; `+` is kept for
 * the compressed representations' tags). Ids are UUIDs, but any string gives a tag.
 */
export const idTagOf = (id: string): string => {
  let hash = 0x811c9dc5
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0).toString(16).padStart(8, "0")
}

export interface ListQuery {
  /** Posts carrying this tag in any case: compared by `tagKey` ("Rust" finds "rust" and "RUST"). */
  readonly tag?: string | undefined
  /** `undefined` lists every status. */
  readonly status?: PostStatus | undefined
  /** Clamped to 1..MAX_PAGE_SIZE; default DEFAULT_PAGE_SIZE. */
  readonly limit?: number | undefined
  /**
   * Opaque cursor from a previous page's `next`. Takes precedence over `offset`. Anything else
   * is `InvalidCursor`.
   */
  readonly cursor?: string | undefined
  readonly offset?: number | undefined
  /**
   * Only posts whose listing time (publishedAt, else createdAt) is at or before this instant:
   * public reads pass now, so a post dated later stays out until then (scheduled, see
   * `isPublicAt`). `undefined`: whatever the date.
   */
  readonly asOf?: DateTime.Utc | undefined
}

/**
 * A full-text search (`PostRepositoryShape.search`): posts carrying every word of `text` in their
 * title, body (markdown source) or tags, most relevant first, then newest first (as a listing).
 */
export interface SearchQuery {
  /**
   * What the reader typed. Only its words count (`searchTerms`: runs of letters and digits,
   * lowercased; the last, from two characters, also matches longer words beginning with it): quotes,
   * `*`, `-`, `AND`-like operators mean nothing, so no input is a syntax error. Without any word
   * the answer is an empty page, never a full listing.
   */
  readonly text: string
  /** As `ListQuery.tag`. */
  readonly tag?: string | undefined
  /** As `ListQuery.status`. */
  readonly status?: PostStatus | undefined
  /** As `ListQuery.asOf`: a public search passes now, so scheduled posts stay out. */
  readonly asOf?: DateTime.Utc | undefined
  /** Clamped to 1..MAX_PAGE_SIZE; default DEFAULT_PAGE_SIZE. */
  readonly limit?: number | undefined
  /**
   * Results to skip. No cursor: relevance has no stable key to resume after. Only the first
   * MAX_SEARCH_RESULTS results are paged: from there on, an empty page.
   */
  readonly offset?: number | undefined
}

export interface SearchPage {
  /** Most relevant first; equally relevant posts newest first (publishedAt, else createdAt), then by id. */
  readonly items: ReadonlyArray<Post>
  /** Whether results follow this page (at `offset + limit`), within the first MAX_SEARCH_RESULTS. */
  readonly more: boolean
}

export interface PostPage {
  /** Newest first: by publishedAt (falling back to createdAt) descending, then id. */
  readonly items: ReadonlyArray<Post>
  /** Cursor for the next page, or null on the last page. */
  readonly next: string | null
}

/** Hard cap on a page of `PostRepositoryShape.sitemapPosts`: its rows are a few short columns. */
export const MAX_SITEMAP_PAGE_SIZE = 1000

/**
 * A page of the public posts as a sitemap lists them (`PostRepositoryShape.sitemapPosts`):
 * oldest first, so a new post goes at the end and the posts before it keep their places.
 */
export interface SitemapQuery {
  /** Published posts listed at or before this instant (as `ListQuery.asOf`: public reads pass now). */
  readonly asOf: DateTime.Utc
  /** Where to go on: the previous page's `next`. Takes precedence over `offset`. */
  readonly after?: SitemapCursor | undefined
  /** Posts to skip first (an offset into the whole list), without `after`. */
  readonly offset?: number | undefined
  /** Clamped to 1..MAX_SITEMAP_PAGE_SIZE. */
  readonly limit: number
}

/** The last post of a page of `sitemapPosts`: its listing time (epoch milliseconds) and id. */
export interface SitemapCursor {
  readonly at: number
  readonly id: string
}

/** What a sitemap needs of a post: not its body nor its HTML, which are most of its row. */
export interface SitemapPost {
  readonly slug: string
  /** When what readers see of it last changed (`Pages.modifiedAtOf`): its sitemap `lastmod`. */
  readonly modifiedAt: DateTime.Utc
  /** Its tags' keys (`tagKey`), each once, in the order of the post's first spelling of each. */
  readonly tags: ReadonlyArray<string>
}

export interface SitemapPage {
  /** Oldest first: by listing time (publishedAt, else createdAt), then id, both ascending. */
  readonly items: ReadonlyArray<SitemapPost>
  /** Where the next page starts, or null on the last page. */
  readonly next: SitemapCursor | null
}

export interface TagCount {
  /**
   * The tag as most of its posts spell it (tags are one tag whatever their case, `tagKey`); of
   * spellings equally used, the first in JavaScript's string order ("Rust" before "rust").
   */
  readonly tag: string
  /** Posts carrying the tag in any spelling (a post counts once). */
  readonly count: number
}

/** What to do when an imported post's slug is taken by a post from another source. */
export type SlugPolicy = "fail" | "skip" | "suffix"

/**
 * The source of every post written through the API (`POST /posts`, `PUT /posts/:slug`). It names
 * where a post came from, not which post it is: every API post carries it (`namesOnePost`).
 */
export const API_SOURCE = "api"

/**
 * Lines of an upload or of standard input, as imports once named records (`request:3`): line 3 of
 * one upload is line 3 of the next, unrelated one. A file's lines (`posts.ndjson:3`) are the
 * file's records, and still matched as such (Posts/internal/repository.ts `sameSource`).
 */
const STREAM_LINE = /^(?:request|stdin):\d+$/

/**
 * Whether `source` names one post, so that the one stored post carrying it, found at another slug,
 * is that post renamed (`upsertMany` moves it): a file, a record of a file, feed or export
 * (`<name>#<slug>`, `<feed>#<item id>`), another Inkwell's post URL, a record's own `source`. Not
 * `API_SOURCE`, nor an upload's or standard input's line: the only stored post carrying one
 * is any post written that way, and moving it over the incoming one's slug replaced an
 * unrelated post (restoring one API post from a backup overwrote the blog's other one).
 */
export const namesOnePost = (source: string): boolean => source !== API_SOURCE && !STREAM_LINE.test(source)

export interface UpsertOutcome {
  /** The slug the post asked for. */
  readonly slug: string
  readonly source: string
  readonly action: "inserted" | "updated" | "unchanged" | "skipped" | "renamed" | "conflict"
  /** The slug actually stored, when it differs (action "renamed"). */
  readonly storedSlug?: string
  /**
   * The slug the post was stored at before this write, when it moved (action "updated"): its
   * source's post had another slug (the title or `slug:` changed). The old slug is gone.
   */
  readonly movedFrom?: string
  /**
   * The source of the stored post that holds `slug` (actions "conflict" and "skipped"), so that
   * whoever reports the conflict can say where that post came from (a file since renamed or
   * moved, another feed).
   */
  readonly heldBy?: string
  /**
   * The slug of the post that has the id this post carried (`UpsertOptions.ids`; actions
   * "inserted" and "renamed"): it was created with a fresh id instead.
   */
  readonly idTakenBy?: string
}

export interface UpsertOptions {
  readonly onSlugConflict?: SlugPolicy
  /**
   * Sources whose stored posts must never move to another slug: an import names the sources it
   * met on more than one post of the run (records sharing a `source`), where "the post from
   * this source" would be a guess.
   */
  readonly pinnedSources?: ReadonlySet<string>
  /**
   * Compute the outcomes and write nothing: the batch goes through the same algorithm in the
   * same kind of transaction, which is then rolled back (an import's dry run). Wrappers announce
   * nothing for it.
   */
  readonly dryRun?: boolean
  /**
   * Per input post (same index), slugs it was once at (an exported record's `movedFrom`): each
   * redirects to the post as stored, written in the batch's transaction. A slug a live post
   * holds is skipped (the live post wins), as is one already redirecting to another post (that
   * post keeps it) and the post's own slug; so is every slug of a post not stored (conflict,
   * skipped). Of several posts of the batch naming one slug, the first (in input order) keeps it.
   * Redirects change no outcome: a post otherwise unchanged stays "unchanged".
   */
  readonly redirects?: ReadonlyArray<ReadonlyArray<string> | undefined>
  /**
   * Per input post (same index), when it was created elsewhere (an exported record's
   * `createdAt`): a post the batch creates ("inserted", "renamed") takes it instead of the
   * batch's time, so a post without `publishedAt` keeps its place in the listing after a move to
   * another database. Never later than the batch's time (a post is not created after it is
   * written: it would list as scheduled until then). A post already stored keeps its own
   * creation time ("updated", "unchanged", a move to a new slug): an import never moves it.
   */
  readonly createdAt?: ReadonlyArray<DateTime.Utc | undefined>
  /**
   * Per input post (same index), sources an earlier version stored it under (a feed's item named
   * by the URL it was fetched from, before redirects and pages stopped mattering): a stored post
   * carrying one is this post, as one carrying its own source is (updated, moved to its new
   * slug, its suffixed copy found again), and carries `source` from then on. Before, such a post
   * was "another source's" on the first import after the change.
   */
  readonly formerSources?: ReadonlyArray<ReadonlyArray<string> | undefined>
  /**
   * Per input post (same index), its id where it was exported (an exported record's `id`): a post
   * the batch creates ("inserted", "renamed") takes it, so its feed items (`urn:uuid:<id>`), its
   * ETags and its place among posts of the same date (listings order them by id) stay as they
   * were after a move to another database. Unless a post already has it, stored or created
   * earlier in the batch: then a fresh id, and the outcome's `idTakenBy` names that post. A post
   * already stored keeps its own id, as its creation time.
   */
  readonly ids?: ReadonlyArray<PostId | undefined>
}

export interface UpsertResult {
  /** One outcome per input post, in input order. */
  readonly outcomes: ReadonlyArray<UpsertOutcome>
  /**
   * The old slugs (`UpsertOptions.redirects`) this write made redirect, in the order given;
   * absent when it made none (every one skipped, or already in place: a re-import). Only the
   * store can tell, and a wrapper announcing changes needs to know: a post kept "unchanged" may
   * still have gained redirects. A dry run reports those it would have made.
   */
  readonly redirectsAdded?: ReadonlyArray<string>
}

export interface PostRepositoryShape {
  /** Inserts a new post at version 1. A taken slug is `SlugConflict`, never an overwrite. */
  readonly create: (post: NewPost) => Effect.Effect<Post, SlugConflict | RepositoryError>
  readonly getBySlug: (slug: string) => Effect.Effect<Post, PostNotFound | RepositoryError>
  readonly list: (query: ListQuery) => Effect.Effect<PostPage, InvalidCursor | RepositoryError>
  /**
   * Replaces the content of the post at `slug` if it is still at `expectedVersion`; the stored
   * version becomes `expectedVersion + 1`. `post.slug` may rename it (a taken slug is `SlugConflict`).
   * With `expectedHashTag`, the stored post's `hashTagOf` must be that too, else `StaleVersion`.
   */
  readonly update: (
    slug: string,
    expectedVersion: number,
    post: NewPost,
    expectedHashTag?: string
  ) => Effect.Effect<Post, PostNotFound | StaleVersion | SlugConflict | RepositoryError>
  /**
   * Deletes the post; with `expectedVersion`, only if it is still at that version (and, with
   * `expectedHashTag`, still has that `hashTagOf`).
   */
  readonly delete: (
    slug: string,
    expectedVersion?: number,
    expectedHashTag?: string
  ) => Effect.Effect<void, PostNotFound | StaleVersion | RepositoryError>
  /**
   * Inserts or updates many posts in ONE transaction (all or nothing), matching by slug.
   * Same slug and same source: unchanged when `contentHash` is equal (version kept), else updated.
   * Same slug, other source: resolved by `onSlugConflict` (default "fail", reported as "conflict").
   * With "suffix", `slug-2`, `slug-3`, ... are tried, and a re-run finds its earlier renamed post.
   * A post whose slug is free while the one stored post of its source has another slug moves
   * that post to the new slug (same id, next version; "updated" with `movedFrom`), unless its
   * source is in `pinnedSources`, carried by several posts of the batch or of the store, or names
   * no one post (`namesOnePost`: "api").
   * With `dryRun`, the same outcomes are returned and the transaction is rolled back.
   */
  readonly upsertMany: (
    posts: ReadonlyArray<NewPost>,
    options?: UpsertOptions
  ) => Effect.Effect<UpsertResult, RepositoryError>
  /**
   * Every tag with the number of posts carrying it, most used first, then by `tagKey` in
   * JavaScript's string order; spellings that differ only in case are one entry (`TagCount`).
   * Optionally only posts of one status, only those listed at or before `asOf` (as `ListQuery.asOf`), and
   * only the entry of `tag` (compared by `tagKey`, as `ListQuery.tag`: an indexed lookup, for a
   * tag's page to name its tag as its posts spell it; empty when no post carries it).
   */
  readonly tags: (
    status?: PostStatus,
    asOf?: DateTime.Utc,
    tag?: string
  ) => Effect.Effect<ReadonlyArray<TagCount>, RepositoryError>
  /** Succeeds when the store answers a trivial query. */
  readonly ping: Effect.Effect<void, RepositoryError>
  /**
   * The posts of `status` just newer and just older than `post` in the listing's order (the
   * reader site's previous/next links): two indexed lookups. Optional for other stores; without
   * it the site reads the listing down to the post, which for an old post is the whole blog.
   * With `asOf`, a post listed after it is no neighbour (as `ListQuery.asOf`).
   */
  readonly neighbours?: (post: Post, status: PostStatus, asOf?: DateTime.Utc) => Effect.Effect<Neighbours, RepositoryError>
  /**
   * Full-text search of titles, bodies and tags (`SearchQuery`). Every store offers it: SQLite
   * through an FTS5 index ranked by bm25, PostgreSQL through a GIN index over a 'simple' tsvector
   * ranked by ts_rank, the memory store by scanning (`scoreOf` in internal/search.ts). A title
   * counts most, then a tag, then the body; with a prefix (`SearchTerms.prefix`), posts with the
   * word itself come before those with only longer words. Optional so that a wrapper or test double need not
   * offer it: without it a search is a defect (500, the log says why).
   */
  readonly search?: (query: SearchQuery) => Effect.Effect<SearchPage, RepositoryError>
  /** Where the post once at `slug` is now (`MovedFrom`); optional. */
  readonly movedFrom?: MovedFrom
  /**
   * The slugs that redirect to each of the posts `ids` (the inverse of `movedFrom`), in
   * JavaScript's string order; a post without any is absent from the map. One query for all the
   * ids (an export asks once per page). Optional: without it an export carries no old slugs.
   */
  readonly oldSlugs?: (ids: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, ReadonlyArray<string>>, RepositoryError>
  /**
   * The slug of the published post that lists `alias` among its `aliases`, compared by
   * `aliasKey` (no leading or trailing slashes, in NFC); drafts never match, nor, with `asOf`, a post
   * listed after it (scheduled). When several published
   * posts claim one alias, the newest in the listing's order wins (publishedAt, else
   * createdAt, then id), so the answer does not depend on write order. An indexed lookup
   * (the reader site asks on every path it does not serve); optional for other stores, and
   * without it the site redirects no alias.
   */
  readonly findByAlias?: (alias: string, asOf?: DateTime.Utc) => Effect.Effect<Option.Option<string>, RepositoryError>
  /**
   * The earliest listing time after `after` of a published post: when the public listing
   * changes next without a write (a scheduled post's time comes). One indexed lookup; the
   * response cache asks it when it stores a list, which it then keeps no later than that, and
   * the reader site when it answers, whose `Cache-Control: max-age` then ends no later either.
   * Optional for other stores: without it cached lists last their TTL, so a scheduled post may
   * reach the API's cached lists up to RESPONSE_CACHE_TTL late, and browsers' copies of the
   * site's pages up to SITE_CACHE_MAX_AGE late.
   */
  readonly nextScheduled?: (after: DateTime.Utc) => Effect.Effect<Option.Option<DateTime.Utc>, RepositoryError>
  /**
   * A page of the public posts as the sitemap lists them (`SitemapQuery`): slug, modification
   * time and tag keys, oldest first, read by keyset. The sitemap reads the whole blog through it,
   * a few columns a post (the SQL stores never read the body or the HTML). Optional for other
   * stores: without it the site reads the listing (`list`, whole posts) instead, every post of it
   * for each sitemap file asked.
   */
  readonly sitemapPosts?: (query: SitemapQuery) => Effect.Effect<SitemapPage, RepositoryError>
}

/**
 * Whether readers without a key see `post` at `now`: published, and its listing time
 * (publishedAt, else createdAt) not after `now`. A published post dated later is scheduled: a
 * draft to readers until that instant, then public without any write.
 */
export const isPublicAt = (post: Pick<Post, "status" | "publishedAt" | "createdAt">, now: DateTime.Utc): boolean =>
  post.status === "published" && DateTime.toEpochMillis(post.publishedAt ?? post.createdAt) <= DateTime.toEpochMillis(now)

/**
 * Where the post that left `slug` (`MovedFrom`'s answer) may send a reader: public at `now`
 * (any post when `now` is undefined: a caller who may read drafts), and never `slug` itself,
 * whatever a store holds (a redirect to itself would loop). The API's 301 and the site's agree.
 */
export const movedVisible = (moved: Option.Option<Post>, slug: string, now: DateTime.Utc | undefined): Option.Option<Post> =>
  Option.filter(moved, (post) => post.slug !== slug && (now === undefined || isPublicAt(post, now)))

/**
 * The post that moved away from `slug` (renamed, or its title changed on re-import), as it is
 * now: the reader site sends the old URL there, and the API's `GET /posts/<old-slug>` (301).
 * `None` when no post left that slug or the slug is live again. Optional for other stores:
 * without it an old URL is a 404.
 */
export type MovedFrom = (slug: string) => Effect.Effect<Option.Option<Post>, RepositoryError>

export interface Neighbours {
  readonly newer: Post | undefined
  readonly older: Post | undefined
}

export class PostRepository extends Context.Tag("Inkwell/PostRepository")<PostRepository, PostRepositoryShape>() {}

/** What a write changed, as a repository tells `BeforeCommit`. */
export type Written = Data.TaggedEnum<{
  Created: { readonly post: Post }
  /** `slug` is the one the update named: `post.slug` differs when it renamed the post. */
  Updated: { readonly slug: string; readonly post: Post }
  Deleted: { readonly slug: string }
  /** An `upsertMany` batch (never a dry run's). */
  Upserted: { readonly result: UpsertResult }
}>
export const Written = Data.taggedEnum<Written>()

export interface BeforeCommitShape {
  readonly run: (sql: SqlClient.SqlClient, written: Written) => Effect.Effect<void, SqlError.SqlError>
}

/**
 * A step the caller of one write has run inside that write's own transaction, once the write is
 * done and before it commits, with the transaction's client and what the write changed: it
 * commits or rolls back with the write, and its failure fails the write. Provided around the
 * call (`Effect.provideService`), not at construction: `AnnouncingPostRepository` NOTIFYs there on
 * PostgreSQL, so that a committed write cannot go unannounced. A repository that writes in SQL
 * transactions (SqlPostRepository) runs it, on every attempt of a retried transaction; others
 * ignore it, and the caller tells by whether it ran.
 */
export class BeforeCommit extends Context.Tag("Inkwell/PostRepository/BeforeCommit")<BeforeCommit, BeforeCommitShape>() {}
