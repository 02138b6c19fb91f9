/**
 * What every store's `sitemapPosts` shares: its order, its page bounds and what it answers of a
 * post, so that the stores agree with each other and with the reader site's dates.
 */
import { DateTime } from "effect"
import { distinctTags, type Post } from "../../Domain/Post.js"
import { MAX_SITEMAP_PAGE_SIZE, type SitemapCursor, type SitemapPost } from "../PostRepository.js"
import { newestFirst, sortKey } from "./repository.js"

/** `limit` clamped to 1..MAX_SITEMAP_PAGE_SIZE; not a number gives the most. */
export const clampSitemapLimit = (limit: number): number =>
  Number.isNaN(limit) ? MAX_SITEMAP_PAGE_SIZE : Math.min(MAX_SITEMAP_PAGE_SIZE, Math.max(1, Math.floor(limit)))

/**
 * When what readers see of a post last changed, from its stored times (epoch milliseconds): its
 * listing time, the `updated` date it announces (no later than its last write, as
 * `announcedUpdateOf` reads it) and when it was last stored, whichever is last.
 * `Pages.modifiedAtOf` of the post, without the post (the SQL stores read three columns).
 */
export const modifiedMillis = (listedAt: number, updatedAtSource: number | null, updatedAt: number): number =>
  Math.max(listedAt, Math.min(updatedAtSource ?? listedAt, updatedAt), updatedAt)

/** A post as `sitemapPosts` answers it. */
export const sitemapPostOf = (post: Post): SitemapPost => ({
  slug: post.slug,
  modifiedAt: DateTime.unsafeMake(
    modifiedMillis(
      sortKey(post),
      post.updatedAtSource === null ? null : DateTime.toEpochMillis(post.updatedAtSource),
      DateTime.toEpochMillis(post.updatedAt)
    )
  ),
  tags: distinctTags(post.tags).map(({ key }) => key)
})

/** Oldest first, then id ascending: the listing's order reversed, `sitemapPosts`'s. */
export const oldestFirst = (a: Post, b: Post): number => newestFirst(b, a)

/** Whether `post` comes after `cursor` in `oldestFirst`'s order. */
export const isPast = (cursor: SitemapCursor) => (post: Post): boolean => {
  const at = sortKey(post)
  return at > cursor.at || (at === cursor.at && post.id > cursor.id)
}
