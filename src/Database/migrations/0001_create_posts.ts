/**
 * The posts table and its tag index. Portable DDL (SQLite and PostgreSQL):
 * timestamps are epoch milliseconds (BIGINT) so ordering is numeric on every engine, and
 * JSON columns are TEXT so both drivers hand back the same string.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE posts (
      id TEXT PRIMARY KEY,
      slug TEXT NOT NULL UNIQUE,
      title TEXT NOT NULL CHECK (length(title) > 0),
      body TEXT NOT NULL,
      tags TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
      authors TEXT NOT NULL,
      summary TEXT,
      published_at BIGINT,
      updated_at_source BIGINT,
      aliases TEXT NOT NULL,
      metadata TEXT NOT NULL,
      source TEXT NOT NULL,
      html TEXT NOT NULL,
      excerpt TEXT NOT NULL,
      word_count INTEGER NOT NULL,
      reading_time_minutes INTEGER NOT NULL,
      toc TEXT NOT NULL,
      content_hash TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      version INTEGER NOT NULL CHECK (version >= 1),
      sort_at BIGINT NOT NULL
    )
  `
  // sort_at = coalesce(published_at, created_at), stored so the listing order has an index.
  yield* sql`CREATE INDEX posts_sort_idx ON posts (sort_at DESC, id DESC)`
  yield* sql`CREATE INDEX posts_status_sort_idx ON posts (status, sort_at DESC, id DESC)`
  // Re-imports look up earlier suffixed copies by source.
  yield* sql`CREATE INDEX posts_source_idx ON posts (source)`
  yield* sql`
    CREATE TABLE post_tags (
      post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
      tag TEXT NOT NULL,
      PRIMARY KEY (post_id, tag)
    )
  `
  yield* sql`CREATE INDEX post_tags_tag_idx ON post_tags (tag, post_id)`
})
