/**
 * Tags match whatever their case: `post_tags` gains `tag_key` (the tag's `tagKey`, computed in
 * JavaScript so SQLite and PostgreSQL, whose `lower()` functions differ, agree with each other and
 * with the in-memory store), one row per post and key, and the index that lists a tag's posts is
 * on the key. Portable DDL (SQLite and PostgreSQL) but for SQLite's WITHOUT ROWID.
 *
 * The table is rebuilt rather than altered: SQLite adds a NOT NULL column only with a default,
 * and cannot change a primary key. Its rows are derived data (as `post_aliases`'), so they are
 * written again from the posts' `tags` JSON column, by the function every write uses.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { distinctTags } from "../../Domain/Post.js"

/** Rows per multi-row INSERT: 3 parameters each, far below both engines' limits. */
const BACKFILL_CHUNK = 500

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`DROP TABLE post_tags`
  // On SQLite the rows live in the primary key's b-tree (WITHOUT ROWID), so the public tag counts
  // (posts off the status index, each joined to its rows by post_id) read the spelling there. As
  // a rowid table each row cost a second lookup: `GET /tags` took 1.3 times as long as before
  // this migration (3,000 and 20,000 posts of 3 tags); WITHOUT ROWID, the same time.
  const withoutRowid = sql.onDialectOrElse({ sqlite: () => sql.literal(" WITHOUT ROWID"), orElse: () => sql.literal("") })
  yield* sql`
    CREATE TABLE post_tags (
      post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
      tag TEXT NOT NULL,
      tag_key TEXT NOT NULL,
      PRIMARY KEY (post_id, tag_key)
    )${withoutRowid}
  `
  // A tag's posts (list by tag) and, holding the spelling too, the tag counts without the table.
  yield* sql`CREATE INDEX post_tags_key_idx ON post_tags (tag_key, tag, post_id)`
  // One tag's public count (a tag page's name): from the tag's entries above, each post's status
  // and date read here instead of from its row, where they lie past the body in overflow pages.
  // Without it, that count walked every published post: a tag page at 10,000 posts went from
  // 2.0 to 6.0 ms (median of 30 over curl), growing with the blog; with it, 2.6 ms.
  yield* sql`CREATE INDEX posts_id_status_sort_idx ON posts (id, status, sort_at)`
  // `tags` is written by JSON.stringify, so a post without any is exactly '[]'.
  const posts = yield* sql<{ readonly id: string; readonly tags: string }>`
    SELECT id, tags FROM posts WHERE tags <> '[]'
  `.withoutTransform
  const rows: Array<{ readonly post_id: string; readonly tag: string; readonly tag_key: string }> = []
  for (const post of posts) {
    let tags: unknown
    try {
      tags = JSON.parse(post.tags)
    } catch {
      continue // A malformed row is reported when it is read, not here.
    }
    if (!Array.isArray(tags)) continue
    const strings = tags.filter((tag): tag is string => typeof tag === "string")
    for (const { key, tag } of distinctTags(strings)) rows.push({ post_id: post.id, tag, tag_key: key })
  }
  for (let i = 0; i < rows.length; i += BACKFILL_CHUNK) {
    yield* sql`INSERT INTO post_tags ${sql.insert(rows.slice(i, i + BACKFILL_CHUNK))}`.withoutTransform
  }
})
