/**
 * Migration 0009's test, shared by SQLite (Migrations.test.ts) and PostgreSQL (test/Pg): tag rows
 * as 0008 left them, and what they must read as afterwards.
 */
import type { SqlClient as Client } from "@effect/sql"
import { SqlClient } from "@effect/sql"
import { assert } from "@effect/vitest"
import { DateTime, Effect, Layer } from "effect"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import { distinctTags } from "../../src/Domain/Post.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import * as SqlPostRepository from "../../src/Posts/SqlPostRepository.js"
import { makeNewPost } from "../fixtures/posts.js"

/** Posts as 0008 stored them: tag rows of (post_id, tag, tag_key) only. */
export const storeOldTagRows = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const posts = yield* Effect.flatMap(MemoryPostRepository.make, (memory) =>
    Effect.forEach([
      makeNewPost({ slug: "pub", tags: ["Kites", "web"], publishedAt: "2024-05-01T00:00:00Z" }),
      makeNewPost({ slug: "old", tags: ["KITES"], publishedAt: "2024-01-01T00:00:00Z" }),
      makeNewPost({ slug: "draft", tags: ["kites"], status: "draft", publishedAt: "2024-04-01T00:00:00Z" }),
      makeNewPost({ slug: "later", tags: ["kites"], publishedAt: "2024-07-01T00:00:00Z" })
    ], memory.create))
  for (const post of posts) {
    yield* sql`INSERT INTO posts ${sql.insert(SqlPostRepository.postToRow(post))}`
    for (const { key, tag } of distinctTags(post.tags)) {
      yield* sql`INSERT INTO post_tags (post_id, tag, tag_key) VALUES (${post.id}, ${tag}, ${key})`
    }
  }
})

/** After 0009: every tag row carries its post's status and date; the public listing and counts of a tag agree. */
export const checkTagListing = (sql: Client.SqlClient) =>
  Effect.gen(function*() {
    const rows = yield* sql<{ slug: string; tag: string; status: string; sort_at: number | string }>`
      SELECT p.slug AS slug, t.tag AS tag, t.status AS status, t.sort_at AS sort_at FROM post_tags t JOIN posts p ON p.id = t.post_id
      ORDER BY p.slug, t.tag_key`
    assert.deepStrictEqual(rows.map((row) => [row.slug, row.tag, row.status, new Date(Number(row.sort_at)).toISOString()]), [
      ["draft", "kites", "draft", "2024-04-01T00:00:00.000Z"],
      ["later", "kites", "published", "2024-07-01T00:00:00.000Z"],
      ["old", "KITES", "published", "2024-01-01T00:00:00.000Z"],
      ["pub", "Kites", "published", "2024-05-01T00:00:00.000Z"],
      ["pub", "web", "published", "2024-05-01T00:00:00.000Z"]
    ])
    const asOf = DateTime.unsafeMake("2024-06-01T00:00:00Z")
    const read = Effect.flatMap(PostRepository, (repo) =>
      Effect.all([
        Effect.map(repo.list({ tag: "kites", status: "published", asOf }), (page) => page.items.map((post) => post.slug as string)),
        Effect.map(repo.list({ tag: "kites" }), (page) => page.items.map((post) => post.slug as string)),
        repo.tags("published", asOf),
        repo.tags("published", asOf, "kites")
      ])).pipe(
        Effect.provide(SqlPostRepository.layer.pipe(Layer.provide(DatabasePool.layer({ maxConnections: 2, acquireTimeout: "5 seconds" }))))
      )
    assert.deepStrictEqual(yield* read, [
      ["pub", "old"],
      ["later", "pub", "draft", "old"],
      [{ tag: "KITES", count: 2 }, { tag: "web", count: 1 }],
      [{ tag: "KITES", count: 2 }]
    ])
  })
