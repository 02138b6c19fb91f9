import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import Sqlite from "better-sqlite3"
import { Cause, Effect, Exit, Fiber, Layer, Option, TestClock } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as App from "../../src/App.js"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import * as Migrations from "../../src/Database/Migrations.js"
import * as SqlLive from "../../src/Database/SqlLive.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import * as SqlPostRepository from "../../src/Posts/SqlPostRepository.js"
import { makeNewPost } from "../fixtures/posts.js"
import { migrateDecomposedAddresses } from "./oldAddresses.js"
import { migrateToOwnWords } from "./ownWords.js"
import { migrateSymbolsApart } from "./symbolsApart.js"
import { checkTagListing, storeOldTagRows } from "./tagRows.js"

const memory = SqlLive.layer("sqlite::memory:")

const tableNames = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
).pipe(Effect.map((rows) => rows.map((r) => r.name)))

describe("Migrations", () => {
  it.effect("a fresh database gets every migration; a second run is a no-op", () =>
    Effect.gen(function*() {
      const first = yield* Migrations.run()
      assert.deepStrictEqual(first, [[1, "create_posts"], [2, "post_aliases"], [3, "slug_redirects"], [4, "tag_keys"], [5, "post_search"], [6, "search_words"], [7, "search_unicode"], [8, "search_tags"], [9, "tag_listing"], [10, "nfc_old_addresses"], [11, "search_own_words"], [12, "search_symbols_apart"]])
      assert.includeMembers(yield* tableNames, ["inkwell_migrations", "post_aliases", "post_tags", "posts"])
      const second = yield* Migrations.run()
      assert.deepStrictEqual(second, [])
      const sql = yield* SqlClient.SqlClient
      const recorded = yield* sql<{ migration_id: number; name: string }>`
        SELECT migration_id, name FROM inkwell_migrations
      `
      assert.deepStrictEqual(recorded.map((r) => [r.migration_id, r.name]), [[1, "create_posts"], [2, "post_aliases"], [3, "slug_redirects"], [4, "tag_keys"], [5, "post_search"], [6, "search_words"], [7, "search_unicode"], [8, "search_tags"], [9, "tag_listing"], [10, "nfc_old_addresses"], [11, "search_own_words"], [12, "search_symbols_apart"]])
    }).pipe(Effect.provide(memory)))

  it.effect("every key of the record is picked up by the loader", () =>
    Effect.sync(() => {
      for (const key of Object.keys(Migrations.migrations)) {
        assert.match(key, /^\d{4}_[a-z0-9_]+$/, `migration key "${key}" would be skipped silently`)
      }
    }))

  it.effect("fails loudly when the migrator silently applies nothing (bookkeeping insert fails)", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      // The migrator reports a failed bookkeeping insert as "already running" and returns [].
      yield* sql`CREATE TABLE inkwell_migrations (
        migration_id integer PRIMARY KEY NOT NULL,
        created_at datetime NOT NULL DEFAULT current_timestamp,
        name VARCHAR(255) NOT NULL
      )`
      yield* sql`CREATE TRIGGER jam BEFORE INSERT ON inkwell_migrations BEGIN SELECT RAISE(ABORT, 'jammed'); END`
      const error = yield* Effect.flip(Migrations.run())
      assert(error._tag === "MigrationFailed", error._tag)
      assert.deepStrictEqual(error.missing, ["0001_create_posts", "0002_post_aliases", "0003_slug_redirects", "0004_tag_keys", "0005_post_search", "0006_search_words", "0007_search_unicode", "0008_search_tags", "0009_tag_listing", "0010_nfc_old_addresses", "0011_search_own_words", "0012_search_symbols_apart"])
      assert.notInclude(yield* tableNames, "posts")
    }).pipe(Effect.provide(memory)))

  it.scoped("on a SQLite file another process is writing to, waits for the write lock (without blocking), then applies what is pending", () =>
    Effect.gen(function*() {
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "inkwell-migrations-"))),
        (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
      )
      const file = join(dir, "inkwell.db")
      const context = yield* Layer.build(SqlLive.layer(`sqlite:${file}`))
      const { "0008_search_tags": _, "0009_tag_listing": _listing, "0010_nfc_old_addresses": _nfc, "0011_search_own_words": _own, "0012_search_symbols_apart": _apart, ...upTo7 } = Migrations.migrations
      yield* Effect.provide(Migrations.run(upTo7), context)
      const other = yield* Effect.acquireRelease(Effect.sync(() => new Sqlite(file)), (db) => Effect.sync(() => db.close()))
      other.exec("BEGIN IMMEDIATE")
      const fiber = yield* Effect.fork(Effect.exit(Effect.provide(Migrations.run(), context)))
      yield* TestClock.adjust("300 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "ended while the lock was held")
      other.exec("COMMIT")
      yield* TestClock.adjust("100 millis")
      const exit = yield* Fiber.join(fiber)
      assert.deepStrictEqual(exit, Exit.succeed([[8, "search_tags"] as const, [9, "tag_listing"] as const, [10, "nfc_old_addresses"] as const, [11, "search_own_words"] as const, [12, "search_symbols_apart"] as const]))
    }))

  it.effect("fails loudly when a newer migration id hides an unapplied one", () =>
    Effect.gen(function*() {
      yield* Migrations.run({})
      const sql = yield* SqlClient.SqlClient
      yield* sql`INSERT INTO inkwell_migrations (migration_id, name) VALUES (13, 'from_elsewhere')`
      const error = yield* Effect.flip(Migrations.run())
      assert(error._tag === "MigrationFailed", error._tag)
      assert.deepStrictEqual(error.missing, ["0001_create_posts", "0002_post_aliases", "0003_slug_redirects", "0004_tag_keys", "0005_post_search", "0006_search_words", "0007_search_unicode", "0008_search_tags", "0009_tag_listing", "0010_nfc_old_addresses", "0011_search_own_words", "0012_search_symbols_apart"])
      assert.include(error.message, "0001_create_posts")
    }).pipe(Effect.provide(memory)))

  it.effect("a failing migration is MigrationFailed and leaves nothing recorded", () =>
    Effect.gen(function*() {
      const broken = {
        ...Migrations.migrations,
        "0099_broken": Effect.flatMap(SqlClient.SqlClient, (sql) => sql`CREATE TABLE posts (id TEXT)`)
      }
      const error = yield* Effect.flip(Migrations.run(broken))
      assert.strictEqual(error._tag, "MigrationFailed")
      assert.notInclude(yield* tableNames, "posts")
      const sql = yield* SqlClient.SqlClient
      const recorded = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM inkwell_migrations`
      assert.strictEqual(recorded[0]!.n, 0)
    }).pipe(Effect.provide(memory)))

  it.effect("a migration the database refuses says why, and is not called 'database unavailable'", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      // A table of that name already there: the database answered, and refused.
      yield* sql`CREATE TABLE posts (x INTEGER)`
      const error = yield* Effect.flip(Migrations.run())
      assert.strictEqual(
        App.describeFailure(Cause.fail(error)),
        `database migrations failed: Migration "1_create_posts" failed: Failed to prepare statement: table posts already exists`
      )
    }).pipe(Effect.provide(memory)))

  it("a migration failure is 'database unavailable' when the database could not be reached", () => {
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" })
    const error = new Migrations.MigrationFailed({ reason: `Failed to execute statement: ${reset.message}`, missing: [], cause: reset })
    assert.strictEqual(App.describeFailure(Cause.fail(error)), "database unavailable: database migrations failed: Failed to execute statement: read ECONNRESET")
  })

  it.effect("verify passes once the migrations are recorded", () =>
    Effect.gen(function*() {
      // Only the bookkeeping table. (Querying a missing table would poison the client's
      // prepared-statement cache: better-sqlite3 prepare failures are cached for 10 minutes.)
      yield* Migrations.run({})
      const error = yield* Effect.flip(Migrations.verify())
      assert(error._tag === "MigrationFailed", error._tag)
      assert.deepStrictEqual(error.missing, ["0001_create_posts", "0002_post_aliases", "0003_slug_redirects", "0004_tag_keys", "0005_post_search", "0006_search_words", "0007_search_unicode", "0008_search_tags", "0009_tag_listing", "0010_nfc_old_addresses", "0011_search_own_words", "0012_search_symbols_apart"])
      yield* Migrations.run()
      yield* Migrations.verify()
    }).pipe(Effect.provide(memory)))

  it.effect("0002 backfills the alias index from the posts an older schema stored", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      // A database as the previous release left it: only 0001, posts carrying aliases in JSON.
      yield* Migrations.run({ "0001_create_posts": Migrations.migrations["0001_create_posts"] })
      const posts = yield* Effect.flatMap(MemoryPostRepository.make, (memory) =>
        Effect.forEach([
          makeNewPost({ slug: "rust-1-32", aliases: ["/2019/01/17/Rust-1.32.0.html", "releases/1.32.0/", "/releases/1.32.0"] }),
          makeNewPost({ slug: "plain" }),
          makeNewPost({ slug: "hidden", status: "draft", aliases: ["/drafts/hidden"] })
        ], memory.create))
      for (const post of posts) yield* sql`INSERT INTO posts ${sql.insert(SqlPostRepository.postToRow(post))}`
      assert.deepStrictEqual(yield* Migrations.run(), [[2, "post_aliases"], [3, "slug_redirects"], [4, "tag_keys"], [5, "post_search"], [6, "search_words"], [7, "search_unicode"], [8, "search_tags"], [9, "tag_listing"], [10, "nfc_old_addresses"], [11, "search_own_words"], [12, "search_symbols_apart"]])
      const keys = yield* sql<{ alias: string }>`SELECT alias FROM post_aliases ORDER BY alias`
      assert.deepStrictEqual(keys.map((row) => row.alias), ["2019/01/17/Rust-1.32.0.html", "drafts/hidden", "releases/1.32.0"])
      const found = yield* Effect.flatMap(PostRepository, (repo) =>
        Effect.forEach(["/2019/01/17/Rust-1.32.0.html", "/releases/1.32.0/", "/drafts/hidden"], (alias) =>
          Effect.map(repo.findByAlias!(alias), Option.getOrUndefined))).pipe(
          Effect.provide(SqlPostRepository.layer.pipe(
            Layer.provide(DatabasePool.layer({ maxConnections: 2, acquireTimeout: "5 seconds" }))
          ))
        )
      assert.deepStrictEqual(found, ["rust-1-32", "rust-1-32", undefined])
    }).pipe(Effect.provide(memory)))

  it.effect("0004 rewrites the tag rows an older schema stored, one per post and tag whatever its case", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      // A database as the previous release left it: tags matched as spelled, one row per spelling.
      const { "0004_tag_keys": _, "0005_post_search": _later, "0006_search_words": _latest, "0007_search_unicode": _last, "0008_search_tags": _tags, "0009_tag_listing": _listing, "0010_nfc_old_addresses": _nfc, "0011_search_own_words": _own, "0012_search_symbols_apart": _apart, ...before } = Migrations.migrations
      yield* Migrations.run(before)
      const posts = yield* Effect.flatMap(MemoryPostRepository.make, (memory) =>
        Effect.forEach([
          makeNewPost({ slug: "both", tags: ["Rust", "rust", "Web"] }),
          makeNewPost({ slug: "lower", tags: ["rust"] }),
          makeNewPost({ slug: "none", tags: [] })
        ], memory.create))
      for (const post of posts) {
        yield* sql`INSERT INTO posts ${sql.insert(SqlPostRepository.postToRow(post))}`
        for (const tag of new Set(post.tags)) yield* sql`INSERT INTO post_tags (post_id, tag) VALUES (${post.id}, ${tag})`
      }
      assert.deepStrictEqual(yield* Migrations.run(), [[4, "tag_keys"], [5, "post_search"], [6, "search_words"], [7, "search_unicode"], [8, "search_tags"], [9, "tag_listing"], [10, "nfc_old_addresses"], [11, "search_own_words"], [12, "search_symbols_apart"]])
      const rows = yield* sql<{ slug: string; tag: string; tag_key: string }>`
        SELECT p.slug AS slug, t.tag AS tag, t.tag_key AS tag_key FROM post_tags t JOIN posts p ON p.id = t.post_id
        ORDER BY p.slug, t.tag_key
      `
      assert.deepStrictEqual(rows.map((row) => [row.slug, row.tag, row.tag_key]), [
        ["both", "Rust", "rust"],
        ["both", "Web", "web"],
        ["lower", "rust", "rust"]
      ])
      const [listed, tags] = yield* Effect.flatMap(PostRepository, (repo) =>
        Effect.all([repo.list({ tag: "RUST" }), repo.tags()])).pipe(
          Effect.provide(SqlPostRepository.layer.pipe(
            Layer.provide(DatabasePool.layer({ maxConnections: 2, acquireTimeout: "5 seconds" }))
          ))
        )
      assert.deepStrictEqual(listed.items.map((post) => post.slug).sort(), ["both", "lower"])
      assert.deepStrictEqual(tags, [{ tag: "Rust", count: 2 }, { tag: "Web", count: 1 }])
    }).pipe(Effect.provide(memory)))
  it.effect("0005 indexes the posts stored before it for search, and the index follows later writes", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { "0005_post_search": _, "0006_search_words": _later, "0007_search_unicode": _last, "0008_search_tags": _tags, "0009_tag_listing": _listing, "0010_nfc_old_addresses": _nfc, "0011_search_own_words": _own, "0012_search_symbols_apart": _apart, ...before } = Migrations.migrations
      yield* Migrations.run(before)
      const posts = yield* Effect.flatMap(MemoryPostRepository.make, (memory) =>
        Effect.forEach([
          makeNewPost({ slug: "old-kites", title: "Kites", body: "Paper and string.", tags: ["Wind"] }),
          makeNewPost({ slug: "old-boats", title: "Boats", body: "Sails and wind." })
        ], memory.create))
      for (const post of posts) yield* sql`INSERT INTO posts ${sql.insert(SqlPostRepository.postToRow(post))}`
      assert.deepStrictEqual(yield* Migrations.run(), [[5, "post_search"], [6, "search_words"], [7, "search_unicode"], [8, "search_tags"], [9, "tag_listing"], [10, "nfc_old_addresses"], [11, "search_own_words"], [12, "search_symbols_apart"]])
      const found = yield* Effect.flatMap(PostRepository, (repo) =>
        Effect.gen(function*() {
          const words = (text: string) => Effect.map(repo.search!({ text }), (page) => page.items.map((post) => post.slug as string))
          const backfilled = [yield* words("kites"), yield* words("string"), yield* words("wind")]
          const kites = yield* repo.getBySlug("old-kites")
          yield* repo.update("old-kites", kites.version, makeNewPost({ slug: "new-kites", title: "Box kites", body: "Cedar." }))
          yield* repo.delete("old-boats")
          return [...backfilled, yield* words("string"), yield* words("cedar"), yield* words("boats")]
        })).pipe(
          Effect.provide(SqlPostRepository.layer.pipe(
            Layer.provide(DatabasePool.layer({ maxConnections: 2, acquireTimeout: "5 seconds" }))
          ))
        )
      assert.deepStrictEqual(found, [["old-kites"], ["old-kites"], ["old-kites", "old-boats"], [], ["new-kites"], []])
    }).pipe(Effect.provide(memory)))
  it.effect("0007 indexes again the posts stored before it, marks within words and İ as i, and the index follows later writes", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { "0007_search_unicode": _, "0008_search_tags": _tags, "0009_tag_listing": _listing, "0010_nfc_old_addresses": _nfc, "0011_search_own_words": _own, "0012_search_symbols_apart": _apart, ...before } = Migrations.migrations
      yield* Migrations.run(before)
      const post = yield* Effect.flatMap(MemoryPostRepository.make, (memory) =>
        memory.create(makeNewPost({ slug: "travel", title: "İstanbul", body: "Un cafe\u0301.", tags: ["हिन्दी"] })))
      yield* sql`INSERT INTO posts ${sql.insert(SqlPostRepository.postToRow(post))}`
      assert.deepStrictEqual(yield* Migrations.run(), [[7, "search_unicode"], [8, "search_tags"], [9, "tag_listing"], [10, "nfc_old_addresses"], [11, "search_own_words"], [12, "search_symbols_apart"]])
      const found = yield* Effect.flatMap(PostRepository, (repo) =>
        Effect.gen(function*() {
          const words = (text: string) => Effect.map(repo.search!({ text }), (page) => page.items.map((post) => post.slug as string))
          const backfilled = [yield* words("istanbul"), yield* words("café"), yield* words("हिन्दी")]
          const travel = yield* repo.getBySlug("travel")
          yield* repo.update("travel", travel.version, makeNewPost({ slug: "travel", title: "İzmir", body: "สวัสดีครับ" }))
          yield* repo.create(makeNewPost({ slug: "new", title: "Ölüdeniz", body: "İçmeler" }))
          return [...backfilled, yield* words("istanbul"), yield* words("izmir"), yield* words("สวัสดีครับ"), yield* words("içmeler")]
        })).pipe(
          Effect.provide(SqlPostRepository.layer.pipe(
            Layer.provide(DatabasePool.layer({ maxConnections: 2, acquireTimeout: "5 seconds" }))
          ))
        )
      assert.deepStrictEqual(found, [["travel"], ["travel"], ["travel"], [], ["travel"], ["travel"], ["new"]])
    }).pipe(Effect.provide(memory)))
  it.effect("0008 indexes again the posts stored before it whose tags pass MAX_INDEXED_TAG_CHARS, and later writes cut them too", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { "0008_search_tags": _, "0009_tag_listing": _listing, "0010_nfc_old_addresses": _nfc, "0011_search_own_words": _own, "0012_search_symbols_apart": _apart, ...before } = Migrations.migrations
      yield* Migrations.run(before)
      // 600 tags of 100 characters: 61,800 of JSON, the last ones past the cut.
      const tags = Array.from({ length: 600 }, (_, i) => `${String(i).padStart(3, "0")}${"x".repeat(97)}`)
      const post = yield* Effect.flatMap(MemoryPostRepository.make, (memory) =>
        memory.create(makeNewPost({ slug: "wide", title: "Wide", tags })))
      yield* sql`INSERT INTO posts ${sql.insert(SqlPostRepository.postToRow(post))}`
      const found = Effect.flatMap(PostRepository, (repo) =>
        Effect.forEach([tags[0]!, tags[599]!], (text) => Effect.map(repo.search!({ text: `${text} wide` }), (page) => page.items.length))).pipe(
        Effect.provide(SqlPostRepository.layer.pipe(Layer.provide(DatabasePool.layer({ maxConnections: 2, acquireTimeout: "5 seconds" }))))
      )
      assert.deepStrictEqual(yield* found, [1, 1], "0007 indexed every tag")
      const { "0011_search_own_words": _then, "0012_search_symbols_apart": _thenApart, ...upTo10 } = Migrations.migrations
      assert.deepStrictEqual(yield* Migrations.run(upTo10), [[8, "search_tags"], [9, "tag_listing"], [10, "nfc_old_addresses"]])
      assert.deepStrictEqual(yield* found, [1, 0])
      yield* sql`UPDATE posts SET title = 'Wide again' WHERE slug = 'wide'`
      assert.deepStrictEqual(yield* found, [1, 0])
      // 0011 writes every entry again from Inkwell's own words, with the same cut.
      assert.deepStrictEqual(yield* Migrations.run(), [[11, "search_own_words"], [12, "search_symbols_apart"]])
      assert.deepStrictEqual(yield* found, [1, 0])
    }).pipe(Effect.provide(memory)))
  it.effect("0009 gives the tag rows stored before it their post's status and date, and a tag's listing and counts read them", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { "0009_tag_listing": _, "0010_nfc_old_addresses": _nfc, "0011_search_own_words": _own, "0012_search_symbols_apart": _apart, ...before } = Migrations.migrations
      yield* Migrations.run(before)
      yield* storeOldTagRows
      assert.deepStrictEqual(yield* Migrations.run(), [[9, "tag_listing"], [10, "nfc_old_addresses"], [11, "search_own_words"], [12, "search_symbols_apart"]])
      yield* checkTagListing(sql)
    }).pipe(Effect.provide(memory)))
  it.effect("0010 keys in NFC the old addresses (aliases, old slugs) stored decomposed before it, warning of each that two spellings made one", () =>
    migrateDecomposedAddresses.pipe(Effect.provide(memory)))
  it.effect("0011 indexes every post again with Inkwell's own words (NFKC, case, Chinese pairs), which the repository writes from then on", () =>
    migrateToOwnWords.pipe(Effect.provide(memory)))
  it.effect("0012 indexes every post again with a symbol apart from the words beside it (reasons™ is reasons), long posts too", () =>
    migrateSymbolsApart.pipe(Effect.provide(memory)))
})

