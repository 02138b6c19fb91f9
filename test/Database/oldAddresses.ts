/**
 * Migration 0010's test, shared by SQLite (Migrations.test.ts) and PostgreSQL (test/Pg): old
 * addresses as 0009's writes keyed them (aliases and old slugs as written, some decomposed), and
 * what they must read as afterwards, with the warnings for what two spellings made one.
 */
import type { SqlClient as Client } from "@effect/sql"
import { SqlClient } from "@effect/sql"
import { assert } from "@effect/vitest"
import { Effect, Layer, Logger, Option } from "effect"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import * as Migrations from "../../src/Database/Migrations.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import * as SqlPostRepository from "../../src/Posts/SqlPostRepository.js"
import { makeNewPost } from "../fixtures/posts.js"

/** A logger keeping the messages of warnings in `lines`, instead of printing anything. */
export const captureWarnings = (lines: Array<string>) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message }) => {
      if (logLevel._tag === "Warning") lines.push((Array.isArray(message) ? message : [message]).join(" "))
    })
  )

/** "café" as a macOS file name spells it: "e" and U+0301. */
const CAFE_NFD = "cafe\u0301"

/**
 * Posts as 0009 stored them: alias rows keyed without NFC (slashes around trimmed, as written
 * otherwise), old slugs as an import's `movedFrom` gave them.
 */
export const storeDecomposedAddresses = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const posts = yield* Effect.flatMap(MemoryPostRepository.make, (memory) =>
    Effect.forEach([
      // Both spellings on one post: one address.
      makeNewPost({ slug: "menu", publishedAt: "2024-01-01T00:00:00Z", aliases: [`/${CAFE_NFD}/menu.html`, "/caf\u00e9/menu.html"] }),
      // One alias, a spelling each: the newer post wins it once they are one.
      makeNewPost({ slug: "older", publishedAt: "2020-01-01T00:00:00Z", aliases: ["/caf\u00e9/carte.html"] }),
      makeNewPost({ slug: "newer", publishedAt: "2024-06-01T00:00:00Z", aliases: [`/${CAFE_NFD}/carte.html`] }),
      makeNewPost({ slug: "lone", publishedAt: "2023-01-01T00:00:00Z", aliases: ["/nai\u0308ve.html"] }),
      makeNewPost({ slug: "hidden", status: "draft", aliases: ["/nai\u0308ve"] }),
      makeNewPost({ slug: "cr\u00e8me", publishedAt: "2022-01-01T00:00:00Z" })
    ], memory.create))
  const id = (slug: string) => posts.find((post) => post.slug === slug)!.id
  for (const post of posts) {
    yield* sql`INSERT INTO posts ${sql.insert(SqlPostRepository.postToRow(post))}`
    for (const alias of new Set(post.aliases.map((alias) => alias.replace(/^\/+|\/+$/g, "")))) {
      yield* sql`INSERT INTO post_aliases (post_id, alias) VALUES (${post.id}, ${alias})`
    }
  }
  for (const [slug, to] of [
    [`${CAFE_NFD}-old`, "menu"],
    // A live post holds it once composed.
    ["cre\u0300me", "older"],
    // Composed, it already leads to another post.
    ["the\u0301", "older"],
    ["th\u00e9", "newer"],
    // Both spellings to one post.
    ["pa\u0302te", "lone"],
    ["p\u00e2te", "lone"]
  ] as const) {
    yield* sql`INSERT INTO slug_redirects (slug, post_id) VALUES (${slug}, ${id(to)})`
  }
})

/** After 0010: every key in NFC, each spelling found, and a warning for each address two spellings made one. */
export const checkOldAddresses = (sql: Client.SqlClient, warnings: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const aliases = yield* sql<{ slug: string; alias: string }>`
      SELECT p.slug AS slug, a.alias AS alias FROM post_aliases a JOIN posts p ON p.id = a.post_id ORDER BY p.slug, a.alias`
    assert.deepStrictEqual(aliases.map((row) => [row.slug, row.alias]), [
      ["hidden", "na\u00efve"],
      ["lone", "na\u00efve.html"],
      ["menu", "caf\u00e9/menu.html"],
      ["newer", "caf\u00e9/carte.html"],
      ["older", "caf\u00e9/carte.html"]
    ])
    const redirects = yield* sql<{ slug: string; target: string }>`
      SELECT r.slug AS slug, p.slug AS target FROM slug_redirects r JOIN posts p ON p.id = r.post_id ORDER BY r.slug`
    assert.deepStrictEqual(redirects.map((row) => [row.slug, row.target]), [
      ["caf\u00e9-old", "menu"],
      ["p\u00e2te", "lone"],
      ["th\u00e9", "newer"]
    ])
    const found = yield* Effect.flatMap(PostRepository, (repo) =>
      Effect.all([
        Effect.forEach(
          ["/caf\u00e9/menu.html", `/${CAFE_NFD}/menu.html`, "/caf\u00e9/carte.html", "/na\u00efve.html", "/na\u00efve"],
          (alias) => Effect.map(repo.findByAlias!(alias), Option.getOrUndefined)
        ),
        Effect.forEach(
          ["caf\u00e9-old", "cr\u00e8me", "th\u00e9", "p\u00e2te"],
          (slug) => Effect.map(repo.movedFrom!(slug), (moved) => Option.getOrUndefined(Option.map(moved, (post) => post.slug as string)))
        ),
        // The post's own `aliases` is its content: as written, until a write or `inkwell reprocess`.
        Effect.map(repo.getBySlug("newer"), (post) => post.aliases)
      ])).pipe(
        Effect.provide(SqlPostRepository.layer.pipe(Layer.provide(DatabasePool.layer({ maxConnections: 2, acquireTimeout: "5 seconds" }))))
      )
    assert.deepStrictEqual(found, [
      ["menu", "menu", "newer", "lone", undefined],
      ["menu", undefined, "newer", "lone"],
      [`/${CAFE_NFD}/carte.html`]
    ])
    assert.deepStrictEqual(warnings, [
      `migration 0010: the alias "/café/carte.html" was stored in more than one spelling (composed, decomposed) by posts "newer", "older"; now one address, it leads to the newest published of them, as any alias several posts claim`,
      `migration 0010: the old slug "crème", stored decomposed, led to post "older"; post "crème" is at that slug, and keeps it`,
      `migration 0010: the old slug "thé", stored decomposed, led to post "older"; composed, it already leads to post "newer", and still does`
    ])
  })

/** The whole test on a database of either kind: migrated to 0009, old addresses stored, then 0010 run and checked. */
export const migrateDecomposedAddresses = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const { "0010_nfc_old_addresses": _, "0011_search_own_words": _own, "0012_search_symbols_apart": _apart, ...before } = Migrations.migrations
  yield* Migrations.run(before)
  yield* storeDecomposedAddresses
  const warnings: Array<string> = []
  assert.deepStrictEqual(yield* Effect.provide(Migrations.run(), captureWarnings(warnings)), [[10, "nfc_old_addresses"], [11, "search_own_words"], [12, "search_symbols_apart"]])
  yield* checkOldAddresses(sql, warnings)
})
