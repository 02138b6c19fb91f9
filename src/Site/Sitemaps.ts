/**
 * The sitemap of a blog of any size (sitemaps.org 0.9): what goes in which file, and reading the
 * blog for it without holding the server.
 *
 * A blog whose every URL (the home page, each public post, each tag's page) fits in one file of
 * `fileSize` URLs keeps one `/sitemap.xml`, a `urlset`: one fetch for a crawler, and most blogs
 * never see the rest. A larger one has a sitemap index at `/sitemap.xml` naming
 *   - `/sitemap-posts-1.xml`, `-2.xml`, ...: the public posts oldest first, `fileSize` a file. A
 *     new post goes at the end of the last file (or starts the next), so the files before it keep
 *     their contents and their ETags, and a crawler's copies of them stay good;
 *   - `/sitemap-pages-1.xml`, ...: the home page, then every tag's page, by key.
 * Each file's `lastmod` in the index is its newest entry's. The posts' files are read by offset
 * (skipped in an index) and then by keyset, never more than the file; the index and the pages'
 * files read every public post, for their tags and dates.
 *
 * Reading is `PostRepository.sitemapPosts` (a few columns a post), or, for a store without it,
 * the listing of whole posts. Between two pages the walk gives Node a turn of its event loop
 * (`yieldToEventLoop`): a SQLite read does not wait for anything, and Effect's scheduler hands
 * over to other fibers through microtasks, which run before Node reads a socket, so every other
 * request waited for the whole sitemap (3 to 12 seconds at 100,000 posts).
 */
import { DateTime, Effect } from "effect"
import type { RepositoryError } from "../Domain/Errors.js"
import { sitemapPostOf } from "../Posts/internal/sitemap.js"
import {
  MAX_PAGE_SIZE,
  MAX_SITEMAP_PAGE_SIZE,
  type PostRepositoryShape,
  type SitemapCursor,
  type SitemapPost
} from "../Posts/PostRepository.js"
import { SITEMAP_MAX_URLS, type SitemapEntry, sitemapEntriesWithin } from "./Feeds.js"
import { routes, type Urls } from "./Urls.js"
import { yieldToEventLoop } from "../Domain/yieldToEventLoop.js"

/**
 * URLs per file unless `SiteConfig.sitemapSize` says otherwise. Below sitemaps.org's 50,000, as
 * WordPress (2,000) and Yoast (1,000) are: a file is made in one request and kept by the response
 * cache (10,000 posts: 1.4 MB), and 50 MB holds 10,000 of the longest URLs a post or tag can
 * have under any SITE_URL up to 2,500 characters.
 */
export const DEFAULT_FILE_SIZE = 10_000

/**
 * URLs per file: `configured` (DEFAULT_FILE_SIZE when unset), never more than sitemaps.org's
 * 50,000, nor than 50 MB holds of the longest URLs the site may have (`sitemapEntriesWithin`).
 */
export const fileSize = (configured: number | undefined, urls: Urls): number =>
  Math.max(1, Math.min(configured ?? DEFAULT_FILE_SIZE, SITEMAP_MAX_URLS, sitemapEntriesWithin(urls)))

/**
 * Posts a read, between two turns of Node's event loop: on SQLite without an index holding the
 * columns (the posts' rows are read), 500 took a median 6 ms at 100,000 posts (1,000: 16 ms) in
 * the same 2 s for the whole blog; that is how long a request arriving meanwhile may wait.
 */
export const READ_SIZE = 500

/** Posts a read for files of `size`: READ_SIZE, or one read a file when files are smaller. */
export const readSize = (size: number): number => Math.min(size, READ_SIZE, MAX_SITEMAP_PAGE_SIZE)


export interface WalkQuery {
  /** Public as of this instant. */
  readonly asOf: DateTime.Utc
  /** Posts skipped first, in the sitemap's order (oldest first). */
  readonly offset: number
  /** Posts to read at most (Infinity: all). */
  readonly count: number
  /** Posts a read, at most MAX_SITEMAP_PAGE_SIZE. */
  readonly pageSize: number
}

/** The public posts of `query`, oldest first, handed to `onPage` a page at a time. */
export type Walk = (
  query: WalkQuery,
  onPage: (posts: ReadonlyArray<SitemapPost>) => void
) => Effect.Effect<void, RepositoryError>

/** `repository`'s walk: `sitemapPosts` by keyset, or, without it, the whole listing read and turned around. */
export const walkOf = (repository: PostRepositoryShape): Walk => {
  if (repository.sitemapPosts === undefined) return listingWalk(repository)
  const read = repository.sitemapPosts.bind(repository)
  return (query, onPage) =>
    Effect.gen(function*() {
      let after: SitemapCursor | undefined
      for (let left = query.count; left > 0;) {
        const limit = Math.min(query.pageSize, left)
        const page = yield* read({ asOf: query.asOf, limit, ...(after === undefined ? { offset: query.offset } : { after }) })
        onPage(page.items)
        left -= page.items.length
        if (page.next === null || page.items.length === 0 || left <= 0) return
        after = page.next
        yield* yieldToEventLoop
      }
    })
}

/**
 * For a store without `sitemapPosts`: every public post through `list` (newest first, whole
 * posts, MAX_PAGE_SIZE a page), kept as `sitemapPosts` would answer it, then turned around. Reads
 * the whole blog for each file; a store that has many posts offers `sitemapPosts`.
 */
const listingWalk = (repository: PostRepositoryShape): Walk => (query, onPage) =>
  Effect.gen(function*() {
    const all: Array<SitemapPost> = []
    let cursor: string | undefined
    for (;;) {
      const page = yield* repository.list({
        status: "published",
        asOf: query.asOf,
        limit: MAX_PAGE_SIZE,
        ...(cursor === undefined ? {} : { cursor })
      }).pipe(Effect.catchTag("InvalidCursor", Effect.die)) // Only its own cursors are followed.
      for (const post of page.items) all.push(sitemapPostOf(post))
      if (page.next === null) break
      cursor = page.next
      yield* yieldToEventLoop
    }
    const wanted = all.reverse().slice(query.offset, query.offset + query.count)
    for (let i = 0; i < wanted.length; i += query.pageSize) onPage(wanted.slice(i, i + query.pageSize))
  })

/** What the index and the pages' files need to know of the whole blog. */
export interface Survey {
  /** Public posts. */
  readonly posts: number
  /** The newest modification of any (the home page's); undefined for none. */
  readonly newest: DateTime.Utc | undefined
  /** The newest modification in each posts' file, from the first. */
  readonly postFiles: ReadonlyArray<DateTime.Utc>
  /** Every tag key with a public post, in JavaScript's string order, with its newest post's modification. */
  readonly tags: ReadonlyArray<readonly [key: string, modified: DateTime.Utc]>
  /** The first `keep` posts (`survey`). */
  readonly first: ReadonlyArray<SitemapPost>
}

/**
 * Every public post read once, `size` to a file: counts and dates per file and per tag, keeping
 * the first `keep` posts (those of a one-file sitemap).
 */
export const survey = (walk: Walk, query: { readonly asOf: DateTime.Utc; readonly size: number; readonly keep: number }) =>
  Effect.gen(function*() {
    let posts = 0
    let newest = -Infinity
    const postFiles: Array<number> = []
    const tags = new Map<string, number>()
    const first: Array<SitemapPost> = []
    yield* walk({ asOf: query.asOf, offset: 0, count: Infinity, pageSize: readSize(query.size) }, (page) => {
      for (const post of page) {
        const modified = DateTime.toEpochMillis(post.modifiedAt)
        const file = Math.floor(posts / query.size)
        postFiles[file] = Math.max(postFiles[file] ?? -Infinity, modified)
        newest = Math.max(newest, modified)
        for (const key of post.tags) tags.set(key, Math.max(tags.get(key) ?? -Infinity, modified))
        if (posts < query.keep) first.push(post)
        posts++
      }
    })
    return {
      posts,
      newest: posts === 0 ? undefined : DateTime.unsafeMake(newest),
      postFiles: postFiles.map((at) => DateTime.unsafeMake(at)),
      tags: Array.from(tags.keys()).sort().map((key) => [key, DateTime.unsafeMake(tags.get(key)!)] as const),
      first
    } satisfies Survey
  })

export const postEntry = (post: SitemapPost): SitemapEntry => ({ route: routes.post(post.slug), lastModified: post.modifiedAt })

/** The listing pages a sitemap names: the home page (dated by the newest post), then each tag's. */
export const pageEntries = (found: Survey): ReadonlyArray<SitemapEntry> => [
  // No posts, no date: the epoch told crawlers the home page had not changed since 1970.
  { route: routes.home(), lastModified: found.newest },
  ...found.tags.map(([key, modified]) => ({ route: routes.tag(key), lastModified: modified }))
]

/** The newest `lastModified` of `entries`; undefined when none has one. */
export const newestOf = (entries: ReadonlyArray<SitemapEntry>): DateTime.Utc | undefined =>
  entries.reduce<DateTime.Utc | undefined>(
    (newest, entry) =>
      entry.lastModified === undefined ? newest : newest === undefined ? entry.lastModified : DateTime.max(newest, entry.lastModified),
    undefined
  )

/** `entries` in files of `size`. */
export const filesOf = <A>(entries: ReadonlyArray<A>, size: number): ReadonlyArray<ReadonlyArray<A>> => {
  const files: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < entries.length; i += size) files.push(entries.slice(i, i + size))
  return files
}
