/**
 * Migration 0012's test, shared by SQLite (Migrations.test.ts) and PostgreSQL (test/Pg): posts
 * indexed before it, a symbol glued to the word before it ("reasons™" the word "reasonstm", as
 * 0011's words had it), then every entry written again with the symbol apart. Some posts are
 * long, so that the migration reads them in several runs (`rewriteSearchIndex`).
 */
import { SqlClient } from "@effect/sql"
import { assert } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import * as Migrations from "../../src/Database/Migrations.js"
import type { Post } from "../../src/Domain/Post.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository, type SearchQuery } from "../../src/Posts/PostRepository.js"
import * as SqlPostRepository from "../../src/Posts/SqlPostRepository.js"
import { makeNewPost } from "../fixtures/posts.js"

const repository = SqlPostRepository.layer.pipe(Layer.provide(DatabasePool.layer({ maxConnections: 2, acquireTimeout: "5 seconds" })))

const slugs = (query: SearchQuery) =>
  Effect.flatMap(PostRepository, (repo) => Effect.map(repo.search!(query), (page) => page.items.map((post) => post.slug as string).sort()))
    .pipe(Effect.provide(repository))

/** `post`'s row, and its entry as the words before 0012 were: `words` in the body, nothing else. */
const storeWithOldWords = (post: Post, words: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`INSERT INTO posts ${sql.insert(SqlPostRepository.postToRow(post))}`
    yield* sql.onDialectOrElse({
      pg: () =>
        sql`INSERT INTO post_search (post_id, document)
            VALUES (${post.id}, ${words.map((word, i) => `'${word}':${i + 1}`).join(" ")}::tsvector)`,
      orElse: () =>
        sql`INSERT INTO post_search (rowid, title, tags, body)
            SELECT doc, '', '', ${words.join(" ")} FROM post_search_ids WHERE post_id = ${post.id}`
    })
  })

/** Long posts (about 280,000 characters each, past what is indexed): several of the migration's runs. */
const LONG = 8

export const migrateSymbolsApart = Effect.gen(function*() {
  const { "0012_search_symbols_apart": _, ...before } = Migrations.migrations
  yield* Migrations.run(before)
  const [traits, perfume, ...long] = yield* Effect.flatMap(MemoryPostRepository.make, (memory) =>
    Effect.forEach([
      makeNewPost({ slug: "traits", title: "Traits", body: "For subtle reasons™." }),
      makeNewPost({ slug: "perfume", title: "Perfume", body: "Chanel №5." }),
      ...Array.from({ length: LONG }, (_, i) =>
        makeNewPost({ slug: `long-${i}`, title: `Long ${i}`, body: `Opening${i} line. ${"filler ".repeat(40_000)}` }))
    ], memory.create))
  yield* storeWithOldWords(traits!, ["for", "subtle", "reasonstm"])
  yield* storeWithOldWords(perfume!, ["chanel", "no5"])
  for (const [i, post] of long.entries()) yield* storeWithOldWords(post, [`opening${i}`, "line"])
  assert.deepStrictEqual(yield* slugs({ text: "reasons subtle" }), [], "the words before 0012: reasonstm")
  assert.deepStrictEqual(yield* slugs({ text: "reasonstm" }), ["traits"])

  assert.deepStrictEqual(yield* Migrations.run(), [[12, "search_symbols_apart"]])
  assert.deepStrictEqual(yield* slugs({ text: "reasons subtle" }), ["traits"])
  assert.deepStrictEqual(yield* slugs({ text: "reasonstm" }), [], "the old words are gone")
  assert.deepStrictEqual(yield* slugs({ text: "chanel 5" }), ["perfume"])
  assert.deepStrictEqual(yield* slugs({ text: "no5" }), [])
  for (let i = 0; i < LONG; i++) {
    assert.deepStrictEqual(yield* slugs({ text: `opening${i} filler` }), [`long-${i}`], "every long post indexed again, with its words")
  }
})
