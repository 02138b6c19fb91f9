/**
 * The SQL repository on embedded SQLite, in memory and in a file under a scoped temp directory,
 * through the real DatabasePool and migrations.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, Exit, Layer } from "effect"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import * as Migrations from "../../src/Database/Migrations.js"
import * as SqlLive from "../../src/Database/SqlLive.js"
import { searchTerms } from "../../src/Posts/internal/search.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import * as SqlPostRepository from "../../src/Posts/SqlPostRepository.js"
import { makeNewPost } from "../fixtures/posts.js"
import { postRepositoryContract } from "./PostRepositoryContract.js"

/** Repository, pool and migrated client for a DATABASE_URL; the SqlClient stays visible to tests. */
const stack = (url: string) => {
  const sql = Migrations.layer.pipe(Layer.provideMerge(SqlLive.layer(url)))
  return SqlPostRepository.layer.pipe(
    Layer.provideMerge(DatabasePool.layer({ maxConnections: 4, acquireTimeout: "5 seconds" })),
    Layer.provideMerge(sql)
  )
}

/** A fresh database file in a temp directory removed with the layer (parent directory created on open). */
const tempFile = Layer.unwrapScoped(
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "inkwell-repo-" })
    return stack(`sqlite:${dir}/nested/inkwell.db`)
  })
).pipe(Layer.provide(NodeFileSystem.layer))

postRepositoryContract("sqlite in memory", stack("sqlite::memory:"))
postRepositoryContract("sqlite file", tempFile)

/** SQLite's plan for a statement, one detail line per step. */
const queryPlan = (sql: SqlClient.SqlClient) => (statement: { compile: () => readonly [string, ReadonlyArray<unknown>] }) => {
  const [text, params] = statement.compile()
  return Effect.map(sql.unsafe<{ detail: string }>(`EXPLAIN QUERY PLAN ${text}`, params), (plan) => plan.map((row) => row.detail))
}

describe("SqlPostRepository on SQLite", () => {
  it.effect("a failure raised by the database mid-batch rolls back every earlier write", () =>
    Effect.gen(function*() {
      const repo = yield* PostRepository
      const sql = yield* SqlClient.SqlClient
      yield* repo.create(makeNewPost({ slug: "existing" }))
      yield* sql`
        CREATE TRIGGER explode BEFORE INSERT ON posts WHEN NEW.slug = 'boom'
        BEGIN SELECT RAISE(ABORT, 'boom'); END
      `
      const exit = yield* Effect.exit(repo.upsertMany([
        makeNewPost({ slug: "existing", body: "rewritten" }),
        makeNewPost({ slug: "first" }),
        makeNewPost({ slug: "boom" }),
        makeNewPost({ slug: "last" })
      ]))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
        assert.strictEqual(error?._tag, "DatabaseError")
      }
      const rows = yield* sql<{ slug: string; version: number }>`SELECT slug, version FROM posts ORDER BY slug`
      assert.deepStrictEqual(rows.map((r) => [r.slug, r.version]), [["existing", 1]])
      const tags = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM post_tags`
      assert.strictEqual(tags[0]!.n, 1)
    }).pipe(Effect.provide(stack("sqlite::memory:"))))

  it.effect("posts survive closing and reopening the database file", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "inkwell-reopen-" })
      const url = `sqlite:${dir}/inkwell.db`
      const written = yield* Effect.flatMap(PostRepository, (repo) =>
        repo.create(makeNewPost({ slug: "durable", tags: ["kept"] }))).pipe(Effect.provide(stack(url)))
      const read = yield* Effect.flatMap(PostRepository, (repo) =>
        Effect.all([repo.getBySlug("durable"), repo.tags()])).pipe(Effect.provide(stack(url)))
      assert.strictEqual(read[0].id, written.id)
      assert.deepStrictEqual(read[1], [{ tag: "kept", count: 1 }])
    }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer)))

  it.effect("update and delete leave no alias rows behind", () =>
    Effect.gen(function*() {
      const repo = yield* PostRepository
      const sql = yield* SqlClient.SqlClient
      const aliasRows = Effect.map(
        sql<{ post_id: string; alias: string }>`SELECT post_id, alias FROM post_aliases ORDER BY alias`,
        (rows) => rows.map((row) => row.alias)
      )
      const created = yield* repo.create(makeNewPost({ slug: "aliased", aliases: ["/a/", "/b", "b/"] }))
      assert.deepStrictEqual(yield* aliasRows, ["a", "b"])
      yield* repo.update("aliased", created.version, makeNewPost({ slug: "aliased", aliases: ["/c"] }))
      assert.deepStrictEqual(yield* aliasRows, ["c"])
      yield* repo.delete("aliased")
      assert.deepStrictEqual(yield* aliasRows, [])
    }).pipe(Effect.provide(stack("sqlite::memory:"))))

  it.effect("the alias lookup is one probe of the alias index, not a scan of the posts", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const [text, params] = SqlPostRepository.findByAliasStatement(sql, "releases/1.88.0").compile()
      const plan = yield* sql.unsafe<{ detail: string }>(`EXPLAIN QUERY PLAN ${text}`, params)
      const details = plan.map((row) => row.detail)
      assert.isTrue(details.some((detail) => detail.includes("post_aliases_alias_idx")), JSON.stringify(plan))
      assert.isFalse(details.some((detail) => /^SCAN (p|posts)\b/.test(detail)), JSON.stringify(plan))
    }).pipe(Effect.provide(stack("sqlite::memory:"))))

  it.effect("the public listing (published, as of now) and the next scheduled post are read off the status index, not sorted or scanned", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const asOf = DateTime.unsafeMake("2024-06-01T00:00:00Z")
      const planOf = queryPlan(sql)
      for (const [name, statement] of [
        ["first page", SqlPostRepository.pageStatement(sql, "*", { status: "published", asOf }, undefined, 20, 0)],
        ["by cursor", SqlPostRepository.pageStatement(sql, "*", { status: "published", asOf }, { at: 1, id: "x" }, 20, 0)],
        ["next scheduled", SqlPostRepository.nextScheduledStatement(sql, asOf)]
      ] as const) {
        const details = yield* planOf(statement)
        assert.isTrue(details.some((detail) => /SEARCH posts USING (COVERING )?INDEX posts_status_sort_idx \(status=\? AND sort_at[<>]\?\)/.test(detail)), `${name}: ${JSON.stringify(details)}`)
        assert.isFalse(details.some((detail) => detail.includes("TEMP B-TREE")), `${name}: ${JSON.stringify(details)}`)
      }
    }).pipe(Effect.provide(stack("sqlite::memory:"))))

  it.effect("a tag's listing pages the tag's ids off post_tags_listing_idx, then reads the page's rows; the tag counts read post_tags' covering indexes alone: never a scan of the posts or a sort of them", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const asOf = DateTime.unsafeMake("2024-06-01T00:00:00Z")
      const planOf = queryPlan(sql)
      const public_ = { status: "published", asOf, tag: "Rust" } as const
      for (const [name, statement] of [
        ["first page", SqlPostRepository.pageStatement(sql, "*", public_, undefined, 20, 0)],
        ["deep page", SqlPostRepository.pageStatement(sql, "*", public_, undefined, 20, 30_000)],
        ["by cursor", SqlPostRepository.pageStatement(sql, "*", public_, { at: 1, id: "x" }, 20, 0)],
        ["encoded", SqlPostRepository.pageStatement(sql, SqlPostRepository.ENCODED_SUMMARY_COLUMNS, public_, undefined, 20, 0)]
      ] as const) {
        // The tag's entries of the status, from asOf down, in order (no sort); then each of the page's posts by id.
        assert.deepStrictEqual(yield* planOf(statement), [
          "CO-ROUTINE tagged",
          "SEARCH t USING COVERING INDEX post_tags_listing_idx (tag_key=? AND status=? AND sort_at<?)",
          "SCAN tagged",
          "SEARCH posts USING INDEX sqlite_autoindex_posts_1 (id=?)"
        ], name)
      }
      // A key's listing of every status sorts the tag's index entries, never the posts.
      assert.deepStrictEqual(yield* planOf(SqlPostRepository.pageStatement(sql, "*", { tag: "Rust" }, undefined, 20, 0)), [
        "CO-ROUTINE tagged",
        "SEARCH t USING COVERING INDEX post_tags_listing_idx (tag_key=?)",
        "USE TEMP B-TREE FOR ORDER BY",
        "SCAN tagged",
        "SEARCH posts USING INDEX sqlite_autoindex_posts_1 (id=?)"
      ])
      // Every tag's count, public or a key's: the key index in its order, status and date read there.
      for (const statement of [SqlPostRepository.tagsStatement(sql, "published", asOf), SqlPostRepository.tagsStatement(sql)]) {
        assert.deepStrictEqual(yield* planOf(statement), ["SCAN post_tags USING COVERING INDEX post_tags_key_idx"])
      }
      // One tag's public count (a tag page's name): that tag's public entries, never a post.
      assert.deepStrictEqual(yield* planOf(SqlPostRepository.tagsStatement(sql, "published", asOf, "Rust")), [
        "SEARCH post_tags USING COVERING INDEX post_tags_listing_idx (tag_key=? AND status=? AND sort_at<?)",
        "USE TEMP B-TREE FOR GROUP BY"
      ])
      assert.deepStrictEqual(yield* planOf(SqlPostRepository.tagsStatement(sql, undefined, undefined, "Rust")), [
        "SEARCH post_tags USING COVERING INDEX post_tags_key_idx (tag_key=?)"
      ])
    }).pipe(Effect.provide(stack("sqlite::memory:"))))

  it.effect("a search ranks the matches from the FTS5 index and a covering index, then reads only the page's rows: never a scan of the posts, never a row through the sort", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const asOf = DateTime.unsafeMake("2024-06-01T00:00:00Z")
      const queries = [{}, { status: "published", asOf }, { status: "published", asOf, tag: "Rust" }] as const
      // With a prefix ("streams" last) and without one (a one-letter last word is whole).
      for (const [query, terms] of queries.flatMap((query) => [[query, searchTerms("effect streams")], [query, searchTerms("effect streams x")]] as const)) {
        const [text, params] = SqlPostRepository.searchStatement(sql, "sqlite", query, terms, 20, 0).compile()
        const plan = yield* sql.unsafe<{ id: number; parent: number; detail: string }>(`EXPLAIN QUERY PLAN ${text}`, params)
        const shown = JSON.stringify(plan.map((row) => row.detail))
        // The ranking: a subquery (`r`) whose steps are its children in the plan.
        const ranking = plan.find((row) => row.detail === "CO-ROUTINE r" || row.detail === "MATERIALIZE r")
        assert.isDefined(ranking, shown)
        const inside = (row: { parent: number }): boolean =>
          row.parent === ranking!.id || plan.some((up) => up.id === row.parent && inside(up))
        const ranked = plan.filter(inside).map((row) => row.detail)
        const outer = plan.filter((row) => row !== ranking && !inside(row)).map((row) => row.detail)
        // `INDEX 0:M...`: FTS5's plan for a full-text MATCH (a plain scan of the index is `INDEX 0:`).
        assert.match(ranked[0]!, /^SCAN s VIRTUAL TABLE INDEX 0:M/, shown)
        assert.include(ranked, "SEARCH m USING INTEGER PRIMARY KEY (rowid=?)", shown)
        // Each match's status and date from the covering index, not its row (which the sort carried).
        assert.isTrue(ranked.some((detail) => /^SEARCH p USING COVERING INDEX posts_id_status_sort_idx \(id=\?/.test(detail)), shown)
        assert.isFalse(ranked.some((detail) => /^SCAN (p|m|posts)\b|sqlite_autoindex_posts_1/.test(detail)), shown)
        // Then the page's rows only, by primary key.
        assert.deepStrictEqual(outer.filter((detail) => !detail.startsWith("USE TEMP B-TREE")), ["SCAN r", "SEARCH posts USING INDEX sqlite_autoindex_posts_1 (id=?)"], shown)
        // "Has the prefix word whole": one list made once per search, not a subquery run per match.
        const whole = ranked.findIndex((detail) => /^SCAN post_search\b/.test(detail))
        if (terms.prefix !== undefined) assert.match(ranked[whole - 1] ?? "", /^LIST SUBQUERY/, shown)
      }
    }).pipe(Effect.provide(stack("sqlite::memory:"))))

  it.effect("the search index follows every write without leaving entries behind", () =>
    Effect.gen(function*() {
      const repo = yield* PostRepository
      const sql = yield* SqlClient.SqlClient
      const counts = Effect.map(
        sql<{ ids: number; docs: number; posts: number }>`
          SELECT (SELECT COUNT(*) FROM post_search_ids) AS ids,
            (SELECT COUNT(*) FROM post_search_ids m WHERE EXISTS (SELECT 1 FROM posts p WHERE p.id = m.post_id)) AS docs,
            (SELECT COUNT(*) FROM posts) AS posts`,
        (rows) => [rows[0]!.ids, rows[0]!.docs, rows[0]!.posts]
      )
      const created = yield* repo.create(makeNewPost({ slug: "one", title: "Alpha" }))
      yield* repo.upsertMany([makeNewPost({ slug: "two", title: "Beta" }), makeNewPost({ slug: "three", title: "Gamma" })])
      assert.deepStrictEqual(yield* counts, [3, 3, 3])
      yield* repo.update("one", created.version, makeNewPost({ slug: "uno", title: "Delta" }))
      yield* repo.delete("two")
      assert.deepStrictEqual(yield* counts, [2, 2, 2])
      // The FTS5 index itself is consistent (`integrity-check` fails the statement otherwise).
      yield* sql`INSERT INTO post_search (post_search) VALUES ('integrity-check')`
      const matches = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM post_search WHERE post_search MATCH '"alpha" OR "beta"'`
      assert.strictEqual(matches[0]!.n, 0)
    }).pipe(Effect.provide(stack("sqlite::memory:"))))

  it.effect("the listing query uses the sort index", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const plan = yield* sql<{ detail: string }>`
        EXPLAIN QUERY PLAN SELECT * FROM posts ORDER BY sort_at DESC, id DESC LIMIT 21
      `
      assert.isTrue(plan.some((row) => row.detail.includes("posts_sort_idx")), JSON.stringify(plan))
    }).pipe(Effect.provide(stack("sqlite::memory:"))))
})

describe("SqlPostRepository over a SqliteClient with PRAGMA foreign_keys off", () => {
  // DatabasePool and SqlPostRepository are exported for any SqlClient. Off is SQLite's own default
  // (better-sqlite3 builds with it on; other drivers do not), so the client here turns it off.
  const bare = SqlPostRepository.layer.pipe(
    Layer.provideMerge(DatabasePool.layer({ maxConnections: 4, acquireTimeout: "5 seconds" })),
    Layer.provideMerge(Migrations.layer.pipe(Layer.provideMerge(SqliteClient.layer({ filename: ":memory:" }))))
  )

  it.effect("a delete takes the post's tags, aliases and redirects with it", () =>
    Effect.gen(function*() {
      const repo = yield* PostRepository
      const sql = yield* SqlClient.SqlClient
      yield* sql`PRAGMA foreign_keys = OFF`
      const created = yield* repo.create(makeNewPost({ slug: "a", tags: ["x", "y"], aliases: ["/old/a"] }))
      yield* repo.update("a", created.version, makeNewPost({ slug: "b", tags: ["x", "y"], aliases: ["/old/a"] }))
      const count = (table: string) =>
        Effect.map(sql<{ n: number }>`SELECT count(*) AS n FROM ${sql(table)}`, (rows) => rows[0]!.n)
      assert.strictEqual(yield* count("slug_redirects"), 1)
      yield* repo.delete("b")
      assert.deepStrictEqual(yield* repo.tags(), [])
      assert.deepStrictEqual(
        [yield* count("post_tags"), yield* count("post_aliases"), yield* count("slug_redirects")],
        [0, 0, 0]
      )
    }).pipe(Effect.provide(bare)))
})
