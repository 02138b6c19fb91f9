/**
 * The alias index: one row per (post, alias key), so the reader site answers an old URL with
 * one indexed lookup instead of reading every post's `aliases`. Portable DDL (SQLite and
 * PostgreSQL), kept by every write path as `post_tags` is. Backfilled here from the posts'
 * `aliases` JSON column, parsed in JavaScript (SQLite's `json_each` and PostgreSQL's
 * `json_array_elements_text` differ) and keyed by the same `aliasKey` the writes use.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { aliasKeysOf } from "../../Domain/Post.js"

/** Rows per multi-row INSERT: 2 parameters each, far below both engines' limits. */
const BACKFILL_CHUNK = 500

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE post_aliases (
      post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
      alias TEXT NOT NULL,
      PRIMARY KEY (post_id, alias)
    )
  `
  yield* sql`CREATE INDEX post_aliases_alias_idx ON post_aliases (alias, post_id)`
  // Only posts that have any: `aliases` is written by JSON.stringify, so none is exactly '[]'.
  const posts = yield* sql<{ readonly id: string; readonly aliases: string }>`
    SELECT id, aliases FROM posts WHERE aliases <> '[]'
  `.withoutTransform
  const rows: Array<{ readonly post_id: string; readonly alias: string }> = []
  for (const post of posts) {
    let aliases: unknown
    try {
      aliases = JSON.parse(post.aliases)
    } catch {
      continue // A malformed row is reported when it is read, not here.
    }
    if (!Array.isArray(aliases)) continue
    const strings = aliases.filter((alias): alias is string => typeof alias === "string")
    for (const alias of aliasKeysOf({ aliases: strings })) rows.push({ post_id: post.id, alias })
  }
  for (let i = 0; i < rows.length; i += BACKFILL_CHUNK) {
    yield* sql`INSERT INTO post_aliases ${sql.insert(rows.slice(i, i + BACKFILL_CHUNK))}`.withoutTransform
  }
})
