/**
 * Migration 0011's test, shared by SQLite (Migrations.test.ts) and PostgreSQL (test/Pg): posts
 * indexed by the engines' own tokenizers (0005 to 0008's triggers), then every entry written
 * again from Inkwell's own words, and the repository writing them from then on.
 */
import { SqlClient } from "@effect/sql"
import { assert } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import * as Migrations from "../../src/Database/Migrations.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository, type SearchQuery } from "../../src/Posts/PostRepository.js"
import * as SqlPostRepository from "../../src/Posts/SqlPostRepository.js"
import { makeNewPost } from "../fixtures/posts.js"

/** More than the migration reads at a time, so that its pages are tested too. */
const FILLERS = 205

const repository = SqlPostRepository.layer.pipe(Layer.provide(DatabasePool.layer({ maxConnections: 2, acquireTimeout: "5 seconds" })))

const slugs = (query: SearchQuery) =>
  Effect.flatMap(PostRepository, (repo) => Effect.map(repo.search!(query), (page) => page.items.map((post) => post.slug as string).sort()))
    .pipe(Effect.provide(repository))

export const migrateToOwnWords = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const { "0011_search_own_words": _, "0012_search_symbols_apart": _apart, ...before } = Migrations.migrations
  yield* Migrations.run(before)
  const posts = yield* Effect.flatMap(MemoryPostRepository.make, (memory) =>
    Effect.forEach([
      makeNewPost({ slug: "co2", title: "CO₂ emissions", body: "Measured per m²." }),
      makeNewPost({ slug: "cobalt", title: "Cobalt and copper", body: "Collected notes." }),
      makeNewPost({ slug: "cherokee", title: "ᏣᎳᎩ", body: "Tsalagi." }),
      makeNewPost({ slug: "zh", title: "学习笔记", body: "我们今天学习Rust编程语言。" }),
      ...Array.from({ length: FILLERS }, (_, i) => makeNewPost({ slug: `filler-${i}`, title: `Filler ${i}`, body: "Padding." }))
    ], memory.create))
  for (const post of posts) yield* sql`INSERT INTO posts ${sql.insert(SqlPostRepository.postToRow(post))}`
  assert.deepStrictEqual(yield* slugs({ text: "编程" }), [], "the engines' own words: the sentence is one word")

  assert.deepStrictEqual(yield* Migrations.run(), [[11, "search_own_words"], [12, "search_symbols_apart"]])
  assert.deepStrictEqual(yield* slugs({ text: "co₂" }), ["co2"], "not the post with \"cobalt\"")
  assert.deepStrictEqual(yield* slugs({ text: "m²" }), ["co2"])
  assert.deepStrictEqual(yield* slugs({ text: "ᏣᎳᎩ" }), ["cherokee"])
  assert.deepStrictEqual(yield* slugs({ text: "ꮳꮃꭹ" }), ["cherokee"])
  assert.deepStrictEqual(yield* slugs({ text: "编程" }), ["zh"])
  assert.deepStrictEqual(yield* slugs({ text: "rust" }), ["zh"])
  const padded = yield* Effect.flatMap(PostRepository, (repo) => repo.search!({ text: "padding", limit: 100, offset: 200 }))
    .pipe(Effect.provide(repository))
  assert.strictEqual(padded.items.length, FILLERS - 200, "every page of posts indexed again")

  // From now on the repository writes the entries: an update's new words replace the old ones.
  yield* Effect.flatMap(PostRepository, (repo) =>
    Effect.gen(function*() {
      const zh = yield* repo.getBySlug("zh")
      yield* repo.update("zh", zh.version, makeNewPost({ slug: "zh", title: "学习笔记", body: "东京大学的CO₂研究" }))
      yield* repo.create(makeNewPost({ slug: "new", title: "ᎠᏂᏴᏫᏯ", body: "新しい投稿です" }))
    })).pipe(Effect.provide(repository))
  assert.deepStrictEqual(yield* slugs({ text: "编程" }), [])
  assert.deepStrictEqual(yield* slugs({ text: "大学" }), ["zh"])
  assert.deepStrictEqual(yield* slugs({ text: "co₂" }), ["co2", "zh"])
  assert.deepStrictEqual(yield* slugs({ text: "ꭰꮒᏼꮻꮿ" }), ["new"])
  assert.deepStrictEqual(yield* slugs({ text: "投稿" }), ["new"])

  // A row changed by hand leaves no words it no longer has in the index (nor its new ones, until
  // Inkwell writes it).
  yield* sql`UPDATE posts SET body = 'Different words.' WHERE slug = 'cobalt'`
  assert.deepStrictEqual(yield* slugs({ text: "collected" }), [])
  assert.deepStrictEqual(yield* slugs({ text: "cobalt" }), [])
  assert.deepStrictEqual(yield* slugs({ text: "ᏣᎳᎩ" }), ["cherokee"], "the others stay")
})
