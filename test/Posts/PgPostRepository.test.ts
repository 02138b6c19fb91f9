/**
 * The SQL repository on PostgreSQL, through the real SqlLive, migrations and DatabasePool.
 * Every layer build gets its own fresh schema (dropped on release), so the unchanged contract
 * sees an empty store per test, and parallel test files never share tables.
 */
import { SqlClient } from "@effect/sql"
import { assert, it } from "@effect/vitest"
import { Context, DateTime, Effect, Either, Exit, Layer } from "effect"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import * as Migrations from "../../src/Database/Migrations.js"
import * as SqlLive from "../../src/Database/SqlLive.js"
import { searchTerms } from "../../src/Posts/internal/search.js"
import { PostInput } from "../../src/Domain/Post.js"
import { ALIAS_MAX_LENGTH, defaultProcessorConfig, processInputSync, SOURCE_MAX_LENGTH } from "../../src/Processing/processPost.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import * as SqlPostRepository from "../../src/Posts/SqlPostRepository.js"
import { describePg, freshSchema } from "../fixtures/pg.js"
import { makeNewPost } from "../fixtures/posts.js"
import { postRepositoryContract } from "./PostRepositoryContract.js"

const MAX_CONNECTIONS = 4

/** Repository, pool and migrated client on `url`; the SqlClient stays visible to tests. */
const stackOn = (url: string) => {
  const sql = Migrations.layer.pipe(Layer.provideMerge(SqlLive.layer(url, { maxConnections: MAX_CONNECTIONS })))
  return SqlPostRepository.layer.pipe(
    Layer.provideMerge(DatabasePool.layer({ maxConnections: MAX_CONNECTIONS, acquireTimeout: "5 seconds" })),
    Layer.provideMerge(sql)
  )
}

/** `stackOn` a fresh schema, dropped with the layer. */
const stack = Layer.unwrapScoped(Effect.map(freshSchema, ({ url }) => stackOn(url)))

describePg("SqlPostRepository on PostgreSQL", () => {
  postRepositoryContract("postgresql", stack)

  it.effect("a failure raised by the database mid-batch rolls back every earlier write", () =>
    Effect.gen(function*() {
      const repo = yield* PostRepository
      const sql = yield* SqlClient.SqlClient
      yield* repo.create(makeNewPost({ slug: "existing" }))
      yield* sql`
        CREATE FUNCTION explode() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.slug = 'boom' THEN RAISE EXCEPTION 'boom'; END IF;
          RETURN NEW;
        END $$
      `
      yield* sql`CREATE TRIGGER explode BEFORE INSERT ON posts FOR EACH ROW EXECUTE FUNCTION explode()`
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
      const tags = yield* sql<{ n: string }>`SELECT COUNT(*) AS n FROM post_tags`
      assert.strictEqual(Number(tags[0]!.n), 1)
    }).pipe(Effect.provide(stack)))

  it.live("two processes upserting overlapping batches in opposite orders both succeed (deadlock victims retry)", () =>
    Effect.gen(function*() {
      const { url } = yield* freshSchema
      const one = yield* Layer.build(stackOn(url))
      const two = yield* Layer.build(stackOn(url))
      const sql = Context.get(one, SqlClient.SqlClient)
      // Slow inserts so both transactions hold one row and wait for the other's: a deadlock.
      yield* sql`
        CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$
      `
      yield* sql`CREATE TRIGGER slow_insert BEFORE INSERT ON posts FOR EACH ROW EXECUTE FUNCTION slow_insert()`
      const x = makeNewPost({ slug: "x" })
      const y = makeNewPost({ slug: "y" })
      const upsert = (context: Context.Context<PostRepository>, posts: ReadonlyArray<typeof x>) =>
        Effect.flatMap(PostRepository, (repo) => repo.upsertMany(posts)).pipe(Effect.provide(context))
      const [first, second] = yield* Effect.all([upsert(one, [x, y]), upsert(two, [y, x])], { concurrency: 2 })
      const actions = [...first.outcomes, ...second.outcomes].map((o) => `${o.slug}:${o.action}`).sort()
      assert.deepStrictEqual(actions, ["x:inserted", "x:unchanged", "y:inserted", "y:unchanged"])
      const rows = yield* sql<{ slug: string; version: number }>`SELECT slug, version FROM posts ORDER BY slug`
      assert.deepStrictEqual(rows.map((r) => [r.slug, r.version]), [["x", 1], ["y", 1]])
    }).pipe(Effect.scoped), 30_000)

  it.effect("the tables live in the layer's own schema, which starts empty", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const [where] = yield* sql<{ schema: string }>`SELECT current_schema() AS schema`
      assert.match(where!.schema, /^inkwell_test_/)
      const tables = yield* sql<{ table_name: string }>`
        SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name
      `
      assert.deepStrictEqual(tables.map((t) => t.table_name), ["inkwell_migrations", "post_aliases", "post_search", "post_tags", "posts", "slug_redirects"])
      const [count] = yield* sql<{ n: string }>`SELECT COUNT(*) AS n FROM posts`
      assert.strictEqual(Number(count!.n), 0)
    }).pipe(Effect.provide(stack)))

  it.effect("the public listing (published, as of now) and the next scheduled post can use the status index", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`SET enable_seqscan = off`
      const asOf = DateTime.unsafeMake("2024-06-01T00:00:00Z")
      for (const statement of [
        SqlPostRepository.pageStatement(sql, "*", { status: "published", asOf }, undefined, 20, 0),
        SqlPostRepository.nextScheduledStatement(sql, asOf)
      ]) {
        const [text, params] = statement.compile()
        const plan = yield* sql.unsafe<{ "QUERY PLAN": string }>(`EXPLAIN ${text}`, params)
        const lines = plan.map((row) => row["QUERY PLAN"]).join("\n")
        assert.include(lines, "posts_status_sort_idx", text)
        assert.notInclude(lines, "Sort", text)
      }
    }).pipe(Effect.provide(stack)))

  it.effect("a tag's listing pages its ids off post_tags_listing_idx in order, then reads the page's posts; the tag counts read post_tags alone", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`SET enable_seqscan = off`
      const asOf = DateTime.unsafeMake("2024-06-01T00:00:00Z")
      const planOf = (statement: { compile: () => readonly [string, ReadonlyArray<unknown>] }) => {
        const [text, params] = statement.compile()
        return Effect.map(sql.unsafe<{ "QUERY PLAN": string }>(`EXPLAIN ${text}`, params), (plan) => plan.map((row) => row["QUERY PLAN"]).join("\n"))
      }
      for (const cursor of [undefined, { at: 1, id: "x" }]) {
        const lines = yield* planOf(SqlPostRepository.pageStatement(sql, "*", { status: "published", asOf, tag: "Rust" }, cursor, 20, 0))
        assert.include(lines, "post_tags_listing_idx", lines)
        assert.include(lines, "'rust'::text", "matched by key")
        assert.notMatch(lines, /\bSort\b/, lines)
        assert.notInclude(lines, "posts_status_sort_idx", lines)
      }
      for (const statement of [
        SqlPostRepository.tagsStatement(sql, "published", asOf),
        SqlPostRepository.tagsStatement(sql, "published", asOf, "Rust"),
        SqlPostRepository.tagsStatement(sql)
      ]) {
        const lines = yield* planOf(statement)
        assert.match(lines, /post_tags_(key|listing)_idx/, lines)
        assert.notMatch(lines, /\bon posts\b|posts_/, lines)
      }
    }).pipe(Effect.provide(stack)))

  it.effect("a run of three characters: a post where one of its pairs lost positions is found by its pairs apart, no other post", () =>
    Effect.gen(function*() {
      const repo = yield* PostRepository
      // 9,000 characters: past the positions a tsvector keeps, so 東京 and 京都 after them have one
      // position each, the last; before them, their own.
      const filler = "我们今天学习编程语言".repeat(900)
      yield* repo.create(makeNewPost({ slug: "tail-apart", title: "长文", body: `${filler}東京から京都へ。` }))
      yield* repo.create(makeNewPost({ slug: "head-apart", title: "长文", body: `東京から京都へ。${filler}` }))
      const page = yield* repo.search!({ text: "東京都" })
      assert.deepStrictEqual(page.items.map((post) => post.slug as string), ["tail-apart"], "SQLite finds neither (the contract)")
    }).pipe(Effect.provide(stack)))

  it.effect("a search can use the GIN index on the stored search documents", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      // One connection for the setting and the plans: SET LOCAL lasts the transaction.
      // With a prefix ("streams" last: GIN answers `:*` too), without one (a one-letter last word is
      // whole), and with a phrase (a run of three characters: GIN finds its pairs, the rows' positions decide).
      for (const query of ["effect streams", "effect streams x", "東京都 streams"]) {
        const lines = yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql`SET LOCAL enable_seqscan = off`
          const [text, params] = SqlPostRepository.searchStatement(sql, "pg", {}, searchTerms(query), 20, 0).compile()
          const plan = yield* sql.unsafe<{ "QUERY PLAN": string }>(`EXPLAIN ${text}`, params)
          return plan.map((row) => row["QUERY PLAN"]).join("\n")
        }))
        assert.include(lines, "post_search_document_idx", `${query}: ${lines}`)
      }
    }).pipe(Effect.provide(stack)))

  it.effect("a search ranks ids, rank and sort key only, then reads the page's rows: no post's row goes through the sort", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const asOf = DateTime.unsafeMake("2024-06-01T00:00:00Z")
      for (const [query, words] of [[{}, "effect streams"], [{ status: "published", asOf, tag: "Rust" }, "effect streams x"]] as const) {
        const [text, params] = SqlPostRepository.searchStatement(sql, "pg", query, searchTerms(words), 20, 0).compile()
        const plan = yield* sql.unsafe<{ "QUERY PLAN": string }>(`EXPLAIN (VERBOSE) ${text}`, params)
        const lines = plan.map((row) => row["QUERY PLAN"])
        const shown = lines.join("\n")
        // Each Sort's rows, as VERBOSE lists them on the line after it: never a post's columns.
        const sorted = lines.flatMap((line, i) => /^\s*(->\s+)?(Incremental )?Sort\s+\(/.test(line) ? [lines[i + 1] ?? ""] : [])
        assert.isAbove(sorted.length, 0, shown)
        for (const output of sorted) {
          assert.match(output, /Output:/, shown)
          assert.notMatch(output, /\bp\.(body|html|title|tags)\b|\bposts\.(body|html)\b/, shown)
        }
      }
    }).pipe(Effect.provide(stack)))

  it.effect("the listing query can use the sort index", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      // A table this small is scanned by default; forbid that to see whether the index applies.
      yield* sql`SET enable_seqscan = off`
      const plan = yield* sql<{ "QUERY PLAN": string }>`
        EXPLAIN SELECT * FROM posts ORDER BY sort_at DESC, id DESC LIMIT 21
      `
      const text = plan.map((row) => row["QUERY PLAN"]).join("\n")
      assert.include(text, "posts_sort_idx")
    }).pipe(Effect.provide(stack)))
})

describePg("processed text on PostgreSQL", () => {
  const processed = (input: PostInput, source: string) =>
    Either.getOrThrowWith(processInputSync(input, source, defaultProcessorConfig), (e) => new Error(`${e.field}: ${e.reason}`))

  it.effect("a body with a NUL and lone surrogates, the longest alias and source of 3-byte characters, are written (was: the batch refused)", () =>
    Effect.gen(function*() {
      const repo = yield* PostRepository
      // U+4E00.. take three UTF-8 bytes each: the most any UTF-16 unit takes.
      const wide = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(0x4e00 + (i * 7919) % 20000)).join("")
      const post = processed(
        new PostInput({ title: "x\uD800y", slug: "nul", body: "a\u0000b \uDC00", aliases: [`/${wide(ALIAS_MAX_LENGTH - 1)}`], metadata: { k: "v\uDBFF" } }),
        wide(SOURCE_MAX_LENGTH)
      )
      const result = yield* repo.upsertMany([post])
      assert.deepStrictEqual(result.outcomes.map((o) => o.action), ["inserted"])
      const stored = yield* repo.getBySlug("nul")
      assert.deepStrictEqual([stored.title, stored.body, stored.metadata], ["x\uFFFDy", "a\uFFFDb \uFFFD", { k: "v\uFFFD" }])
    }).pipe(Effect.provide(stack)))
})
