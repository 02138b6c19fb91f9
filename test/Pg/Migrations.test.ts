/**
 * Migrations on PostgreSQL: the portable DDL applies, and several processes migrating one fresh
 * database at once (servers started together) all succeed with the work done exactly once.
 */
import { SqlClient } from "@effect/sql"
import { assert, it } from "@effect/vitest"
import { Cause, Effect, Layer } from "effect"
import * as App from "../../src/App.js"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import * as Migrations from "../../src/Database/Migrations.js"
import { ensureBookkeeping } from "../../src/Database/migrations/bookkeeping.js"
import * as SqlLive from "../../src/Database/SqlLive.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import * as SqlPostRepository from "../../src/Posts/SqlPostRepository.js"
import { adminQuery, createDatabase, describePg, withSearchPath } from "../fixtures/pg.js"
import { makeNewPost } from "../fixtures/posts.js"
import { migrateDecomposedAddresses } from "../Database/oldAddresses.js"
import { migrateToOwnWords } from "../Database/ownWords.js"
import { migrateSymbolsApart } from "../Database/symbolsApart.js"
import { checkTagListing, storeOldTagRows } from "../Database/tagRows.js"

/** What a starting server does, on its own pool. */
const migrate = (url: string) =>
  Effect.zipRight(ensureBookkeeping(Migrations.MIGRATIONS_TABLE), Migrations.run()).pipe(
    Effect.provide(SqlLive.layer(url, { maxConnections: 2 }))
  )

const withDatabase = <A, E>(f: (url: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.promise(() => createDatabase()),
    (database) => f(database.url),
    (database) => Effect.promise(() => database.drop())
  )

describePg("Migrations on PostgreSQL", () => {
  it.live("create the schema once; running them again applies nothing", () =>
    withDatabase((url) =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* migrate(url), [[1, "create_posts"], [2, "post_aliases"], [3, "slug_redirects"], [4, "tag_keys"], [5, "post_search"], [6, "search_words"], [7, "search_unicode"], [8, "search_tags"], [9, "tag_listing"], [10, "nfc_old_addresses"], [11, "search_own_words"], [12, "search_symbols_apart"]])
        assert.deepStrictEqual(yield* migrate(url), [])
        const columns = yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
          sql<{ column_name: string; data_type: string }>`
            SELECT column_name, data_type FROM information_schema.columns
            WHERE table_name = 'posts' AND column_name IN ('created_at', 'sort_at', 'version', 'tags')
            ORDER BY column_name
          `).pipe(Effect.provide(SqlLive.layer(url)))
        assert.deepStrictEqual(columns.map((c) => [c.column_name, c.data_type]), [
          ["created_at", "bigint"],
          ["sort_at", "bigint"],
          ["tags", "text"],
          ["version", "integer"]
        ])
      })))

  it.live("migrations the database refuses say why (no schema to create in, a table already there), not 'database unavailable'", () =>
    withDatabase((url) =>
      Effect.gen(function*() {
        const said = (failing: string) =>
          Migrations.run().pipe(
            Effect.provide(SqlLive.layer(failing)),
            Effect.flip,
            Effect.map((error) => App.describeFailure(Cause.fail(error)))
          )
        assert.strictEqual(
          yield* said(withSearchPath(url, "missing")),
          "database migrations failed: Failed to execute statement: no schema has been selected to create in"
        )
        yield* Effect.promise(() => adminQuery("CREATE TABLE posts (x int)", url))
        assert.strictEqual(
          yield* said(url),
          `database migrations failed: Migration "1_create_posts" failed: Failed to execute statement: relation "posts" already exists`
        )
      })))

  it.live("a database a newer Inkwell migrated is refused, at start and by the commands' check, naming both migrations", () =>
    withDatabase((url) =>
      Effect.gen(function*() {
        yield* migrate(url)
        yield* Effect.promise(() => adminQuery("INSERT INTO inkwell_migrations (migration_id, name) VALUES (13, 'from_the_future')", url))
        for (const check of [migrate(url), Migrations.verify().pipe(Effect.provide(SqlLive.layer(url, { maxConnections: 2 })))]) {
          const error = yield* Effect.flip(check)
          assert.strictEqual(
            App.describeFailure(Cause.fail(error)),
            "the database was migrated by a newer Inkwell (migration 13 from_the_future); this version knows up to 12: upgrade Inkwell, or restore a backup"
          )
        }
      })))

  it.live("0004 rewrites the tag rows of posts stored before it, one per post and tag whatever its case", () =>
    withDatabase((url) =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { "0004_tag_keys": _, "0005_post_search": _later, "0006_search_words": _latest, "0007_search_unicode": _last, "0008_search_tags": _tags, "0009_tag_listing": _listing, "0010_nfc_old_addresses": _nfc, "0011_search_own_words": _own, "0012_search_symbols_apart": _apart, ...before } = Migrations.migrations
        yield* Migrations.run(before)
        const post = yield* Effect.flatMap(MemoryPostRepository.make, (memory) =>
          memory.create(makeNewPost({ slug: "both", tags: ["Rust", "rust", "Web"] })))
        yield* sql`INSERT INTO posts ${sql.insert(SqlPostRepository.postToRow(post))}`
        for (const tag of post.tags) yield* sql`INSERT INTO post_tags (post_id, tag) VALUES (${post.id}, ${tag})`
        assert.deepStrictEqual(yield* Migrations.run(), [[4, "tag_keys"], [5, "post_search"], [6, "search_words"], [7, "search_unicode"], [8, "search_tags"], [9, "tag_listing"], [10, "nfc_old_addresses"], [11, "search_own_words"], [12, "search_symbols_apart"]])
        const rows = yield* sql<{ tag: string; tag_key: string }>`SELECT tag, tag_key FROM post_tags ORDER BY tag_key`
        assert.deepStrictEqual(rows.map((row) => [row.tag, row.tag_key]), [["Rust", "rust"], ["Web", "web"]])
      }).pipe(Effect.provide(SqlLive.layer(url, { maxConnections: 2 })))))

  it.live("0005 indexes the posts stored before it for search", () =>
    withDatabase((url) =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { "0005_post_search": _, "0006_search_words": _later, "0007_search_unicode": _last, "0008_search_tags": _tags, "0009_tag_listing": _listing, "0010_nfc_old_addresses": _nfc, "0011_search_own_words": _own, "0012_search_symbols_apart": _apart, ...before } = Migrations.migrations
        yield* Migrations.run(before)
        const post = yield* Effect.flatMap(MemoryPostRepository.make, (memory) =>
          memory.create(makeNewPost({ slug: "old-kites", title: "Kites", body: "Paper and string.", tags: ["Wind"] })))
        yield* sql`INSERT INTO posts ${sql.insert(SqlPostRepository.postToRow(post))}`
        assert.deepStrictEqual(yield* Migrations.run(), [[5, "post_search"], [6, "search_words"], [7, "search_unicode"], [8, "search_tags"], [9, "tag_listing"], [10, "nfc_old_addresses"], [11, "search_own_words"], [12, "search_symbols_apart"]])
        const found = yield* Effect.flatMap(PostRepository, (repo) =>
          Effect.forEach(["kites", "string", "wind", "boats"], (text) =>
            Effect.map(repo.search!({ text }), (page) => page.items.map((post) => post.slug as string)))).pipe(
            Effect.provide(SqlPostRepository.layer.pipe(
              Layer.provide(DatabasePool.layer({ maxConnections: 2, acquireTimeout: "5 seconds" }))
            ))
          )
        assert.deepStrictEqual(found, [["old-kites"], ["old-kites"], ["old-kites"], []])
      }).pipe(Effect.provide(SqlLive.layer(url, { maxConnections: 2 })))))

  it.live("0006 indexes again the posts stored before it, by their words: a version's numbers are found", () =>
    withDatabase((url) =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { "0006_search_words": _, "0007_search_unicode": _later, "0008_search_tags": _tags, "0009_tag_listing": _listing, "0010_nfc_old_addresses": _nfc, "0011_search_own_words": _own, "0012_search_symbols_apart": _apart, ...before } = Migrations.migrations
        yield* Migrations.run(before)
        const post = yield* Effect.flatMap(MemoryPostRepository.make, (memory) =>
          memory.create(makeNewPost({ slug: "release", title: "Rust 1.88", body: "See example.com/notes.", tags: ["node.js"] })))
        yield* sql`INSERT INTO posts ${sql.insert(SqlPostRepository.postToRow(post))}`
        const searched = Effect.flatMap(PostRepository, (repo) =>
          // None a prefix of the whole tokens 0005 kept ("example" would begin "example.com"): the
          // last word of a search also matches the words it begins.
          Effect.forEach(["1.88", "88", "com", "notes", "js", "rust"], (text) =>
            Effect.map(repo.search!({ text }), (page) => page.items.length))).pipe(
            Effect.provide(SqlPostRepository.layer.pipe(
              Layer.provide(DatabasePool.layer({ maxConnections: 2, acquireTimeout: "5 seconds" }))
            ))
          )
        assert.deepStrictEqual(yield* searched, [0, 0, 0, 0, 0, 1], "0005's documents keep 1.88, example.com/notes and node.js whole")
        assert.deepStrictEqual(yield* Migrations.run(), [[6, "search_words"], [7, "search_unicode"], [8, "search_tags"], [9, "tag_listing"], [10, "nfc_old_addresses"], [11, "search_own_words"], [12, "search_symbols_apart"]])
        assert.deepStrictEqual(yield* searched, [1, 1, 1, 1, 1, 1])
      }).pipe(Effect.provide(SqlLive.layer(url, { maxConnections: 2 })))))

  it.live("0007 indexes again the posts stored before it: NFC, İ as i, a final ς as σ", () =>
    withDatabase((url) =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { "0007_search_unicode": _, "0008_search_tags": _tags, "0009_tag_listing": _listing, "0010_nfc_old_addresses": _nfc, "0011_search_own_words": _own, "0012_search_symbols_apart": _apart, ...before } = Migrations.migrations
        yield* Migrations.run(before)
        const post = yield* Effect.flatMap(MemoryPostRepository.make, (memory) =>
          memory.create(makeNewPost({ slug: "travel", title: "İstanbul", body: "Un cafe\u0301, η οδος.", tags: ["हिन्दी"] })))
        yield* sql`INSERT INTO posts ${sql.insert(SqlPostRepository.postToRow(post))}`
        const searched = Effect.flatMap(PostRepository, (repo) =>
          Effect.forEach(["istanbul", "café", "οδοσ", "हिन्दी"], (text) =>
            Effect.map(repo.search!({ text }), (page) => page.items.length))).pipe(
            Effect.provide(SqlPostRepository.layer.pipe(
              Layer.provide(DatabasePool.layer({ maxConnections: 2, acquireTimeout: "5 seconds" }))
            ))
          )
        assert.deepStrictEqual(yield* Migrations.run(), [[7, "search_unicode"], [8, "search_tags"], [9, "tag_listing"], [10, "nfc_old_addresses"], [11, "search_own_words"], [12, "search_symbols_apart"]])
        assert.deepStrictEqual(yield* searched, [1, 1, 1, 1])
      }).pipe(Effect.provide(SqlLive.layer(url, { maxConnections: 2 })))))

  it.live("0009 gives the tag rows stored before it their post's status and date, NOT NULL, and a tag's listing and counts read them", () =>
    withDatabase((url) =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { "0009_tag_listing": _, "0010_nfc_old_addresses": _nfc, "0011_search_own_words": _own, "0012_search_symbols_apart": _apart, ...before } = Migrations.migrations
        yield* Migrations.run(before)
        yield* storeOldTagRows
        assert.deepStrictEqual(yield* Migrations.run(), [[9, "tag_listing"], [10, "nfc_old_addresses"], [11, "search_own_words"], [12, "search_symbols_apart"]])
        yield* checkTagListing(sql)
        const nullable = yield* sql<{ column_name: string; is_nullable: string }>`
          SELECT column_name, is_nullable FROM information_schema.columns
          WHERE table_name = 'post_tags' AND column_name IN ('status', 'sort_at') ORDER BY column_name`
        assert.deepStrictEqual(nullable.map((c) => [c.column_name, c.is_nullable]), [["sort_at", "NO"], ["status", "NO"]])
      }).pipe(Effect.provide(SqlLive.layer(url, { maxConnections: 2 })))))

  it.live("0010 keys in NFC the old addresses (aliases, old slugs) stored decomposed before it, warning of each that two spellings made one", () =>
    withDatabase((url) =>
      migrateDecomposedAddresses.pipe(Effect.provide(SqlLive.layer(url, { maxConnections: 2 })))))

  it.live("0011 indexes every post again with Inkwell's own words (NFKC, case, Chinese pairs), which the repository writes from then on", () =>
    withDatabase((url) =>
      migrateToOwnWords.pipe(Effect.provide(SqlLive.layer(url, { maxConnections: 2 })))))

  it.live("0012 indexes every post again with a symbol apart from the words beside it (reasons™ is reasons), long posts too", () =>
    withDatabase((url) =>
      migrateSymbolsApart.pipe(Effect.provide(SqlLive.layer(url, { maxConnections: 2 })))))

  it.live("0008 indexes again the posts stored before it whose tags pass MAX_INDEXED_TAG_CHARS, and later writes cut them too", () =>
    withDatabase((url) =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { "0008_search_tags": _, "0009_tag_listing": _listing, "0010_nfc_old_addresses": _nfc, "0011_search_own_words": _own, "0012_search_symbols_apart": _apart, ...before } = Migrations.migrations
        yield* Migrations.run(before)
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
      }).pipe(Effect.provide(SqlLive.layer(url, { maxConnections: 2 })))))

  it.live("four processes migrating one fresh database at once all succeed; one of them applies", () =>
    Effect.gen(function*() {
      for (let round = 0; round < 5; round++) {
        const applied = yield* withDatabase((url) =>
          Effect.all(Array.from({ length: 4 }, () => migrate(url)), { concurrency: "unbounded" }))
        assert.deepStrictEqual(applied.flat(), [[1, "create_posts"], [2, "post_aliases"], [3, "slug_redirects"], [4, "tag_keys"], [5, "post_search"], [6, "search_words"], [7, "search_unicode"], [8, "search_tags"], [9, "tag_listing"], [10, "nfc_old_addresses"], [11, "search_own_words"], [12, "search_symbols_apart"]], `round ${round}`)
      }
    }), 60_000)
})
