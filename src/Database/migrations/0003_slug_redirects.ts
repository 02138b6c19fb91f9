/**
 * Where a moved post's old URLs lead: one row per slug a post left (its title or `slug:` changed,
 * or an API client renamed it), pointing at the post, so the reader site answers the old address
 * with a redirect instead of a 404. A slug taken again by a post is live and its row goes; a
 * deleted post takes its rows with it. Portable DDL (SQLite and PostgreSQL).
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE slug_redirects (
      slug TEXT PRIMARY KEY,
      post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE
    )
  `
  yield* sql`CREATE INDEX slug_redirects_post_idx ON slug_redirects (post_id)`
})
