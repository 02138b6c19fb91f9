/**
 * A tag's posts are paged off `post_tags` itself: each row gains its post's `status` and
 * `sort_at` (the listing's sort key, `coalesce(published_at, created_at)`), kept current by every
 * write (the repository writes a post's tag rows with the post, `tagRows`), and an index orders a
 * tag's rows as the listing does. Before, a tag's listing walked every post of the status in
 * order and probed post_tags for each: a rare tag, or one no post has (`/tags/nosuchtag`, which
 * anyone can ask for), read the whole blog (55-280 ms at 100,000 posts), and a deep page of a
 * common tag every post above it (`/tags/rust/page/1500`: 254-340 ms). Off this index: 0.03 ms
 * for an unknown tag, a few ms for the deep page. The public tag counts (`GET /tags`, a tag
 * page's name) are read from it too, never from the posts.
 *
 * post_tags_listing_idx (tag_key, status, sort_at DESC, post_id DESC, tag): a tag's posts of a
 * status in the listing's order (its `asOf` a range on sort_at), and, holding the spelling, one
 * tag's public count per spelling without a row. post_tags_key_idx becomes (tag_key, tag, status,
 * sort_at): every tag's count, public (status and date read in the index) or not, grouped in the
 * index's order with no sort.
 *
 * SQLite rebuilds the table (it adds a NOT NULL column only with a default, which would let a
 * row written without the columns pass for a draft of 1970); PostgreSQL adds the columns, fills
 * them and then makes them NOT NULL. Both fill them from the posts.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

const indexes = (sql: SqlClient.SqlClient) =>
  Effect.zipRight(
    sql`CREATE INDEX post_tags_key_idx ON post_tags (tag_key, tag, status, sort_at)`,
    sql`CREATE INDEX post_tags_listing_idx ON post_tags (tag_key, status, sort_at DESC, post_id DESC, tag)`
  )

const postgres = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE post_tags ADD COLUMN status TEXT, ADD COLUMN sort_at BIGINT`
  yield* sql`UPDATE post_tags t SET status = p.status, sort_at = p.sort_at FROM posts p WHERE p.id = t.post_id`
  yield* sql`ALTER TABLE post_tags ALTER COLUMN status SET NOT NULL, ALTER COLUMN sort_at SET NOT NULL`
  yield* sql`DROP INDEX post_tags_key_idx`
  yield* indexes(sql)
})

const sqlite = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  // As 0004 made it (WITHOUT ROWID: the rows live in the primary key's b-tree), with the two columns.
  yield* sql`
    CREATE TABLE post_tags_listed (
      post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
      tag TEXT NOT NULL,
      tag_key TEXT NOT NULL,
      status TEXT NOT NULL,
      sort_at BIGINT NOT NULL,
      PRIMARY KEY (post_id, tag_key)
    ) WITHOUT ROWID
  `
  // Each post's status and date off posts_id_status_sort_idx (covering), not its row.
  yield* sql`
    INSERT INTO post_tags_listed (post_id, tag, tag_key, status, sort_at)
    SELECT t.post_id, t.tag, t.tag_key, p.status, p.sort_at FROM post_tags t CROSS JOIN posts p WHERE p.id = t.post_id
  `
  yield* sql`DROP TABLE post_tags`
  yield* sql`ALTER TABLE post_tags_listed RENAME TO post_tags`
  yield* indexes(sql)
})

export default Effect.flatMap(SqlClient.SqlClient, (sql) => sql.onDialectOrElse({ pg: () => postgres, orElse: () => sqlite }))
