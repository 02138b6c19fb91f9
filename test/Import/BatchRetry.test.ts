/**
 * A batch the database refuses is written again one post at a time (ImportPipeline `writtenAlone`)
 * when a post's data was at fault, so only that post fails; not when the database was busy or
 * slow (`isBusyOrSlow`): each post alone would wait as long again. Real engines: a SQLite trigger
 * refusing one post, another connection holding SQLite's write lock, and a PostgreSQL table
 * locked past the statement timeout.
 */
import { NodeContext } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import Sqlite from "better-sqlite3"
import pg from "pg"
import { Effect, Fiber, Layer, Option, Stream, TestClock } from "effect"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import * as Migrations from "../../src/Database/Migrations.js"
import * as SqlLive from "../../src/Database/SqlLive.js"
import * as ImportPipeline from "../../src/Import/ImportPipeline.js"
import * as ImportSource from "../../src/Import/ImportSource.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import * as SqlPostRepository from "../../src/Posts/SqlPostRepository.js"
import { describePg, freshSchema } from "../fixtures/pg.js"
import { ProcessorTest, sqliteStack, tempDir } from "./harness.js"

const maxPostBytes = 5 * 1024 * 1024
// One batch of the three records, written as soon as it is full; no per-post deadline (TestClock).
const options = { concurrency: 1, batchSize: 3, buffer: 8, chunkSize: 64 * 1024, maxPostBytes, itemTimeout: Option.none() }

const records = [1, 2, 3].map((n) => `${JSON.stringify({ title: `Post ${n}`, slug: `post-${n}`, body: `Body of post ${n}.` })}\n`)

/**
 * Imports the three records; `batches` is the size of every `upsertMany` the run made, in order:
 * `[3]` is the batch alone, `[3, 1, 1, 1]` the batch and then each post again on its own.
 */
const importThree = Effect.gen(function*() {
  const repository = yield* PostRepository
  const batches: Array<number> = []
  const counted = {
    ...repository,
    upsertMany: ((posts, upsertOptions) =>
      Effect.zipRight(Effect.sync(() => batches.push(posts.length)), repository.upsertMany(posts, upsertOptions))) satisfies typeof repository.upsertMany
  }
  const source = ImportSource.ndjson("in.ndjson", Stream.fromIterable(records.map((line) => new TextEncoder().encode(line))), { maxPostBytes })
  const summary = yield* ImportPipeline.run(source, options).pipe(Effect.provideService(PostRepository, counted))
  return { summary, batches }
})

const reasons = (summary: { readonly failures: ReadonlyArray<{ readonly source: string; readonly reason: string }> }) =>
  summary.failures.map((failure) => [failure.source, failure.reason] as const)

describe("a refused batch is written again one post at a time, unless the database was busy or slow", () => {
  it.scoped("one post's data refused (a SQLite trigger): the others land, that one alone fails", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql.unsafe(
        `CREATE TRIGGER refuse_post_2 BEFORE INSERT ON posts WHEN NEW.slug = 'post-2'
         BEGIN SELECT RAISE(ABORT, 'post-2 refused by the test'); END`
      )
      const { batches, summary } = yield* importThree
      assert.deepStrictEqual(batches, [3, 1, 1, 1], "the batch, then each post on its own")
      assert.strictEqual(summary.imported, 2, JSON.stringify(summary.failures))
      const [failure, ...others] = reasons(summary)
      assert.deepStrictEqual(others, [])
      assert.strictEqual(failure?.[0], "in.ndjson:2")
      assert.match(failure?.[1] ?? "", /^not written: .*post-2 refused by the test/)
      const stored = yield* sql<{ slug: string }>`SELECT slug FROM posts ORDER BY slug`
      assert.deepStrictEqual(stored.map((row) => row.slug), ["post-1", "post-3"])
    }).pipe(Effect.provide(Layer.mergeAll(sqliteStack("sqlite::memory:"), ProcessorTest, NodeContext.layer))))

  it.scoped("SQLite busy (another connection holds the write lock): the batch fails once, each post named with that reason, none retried", () =>
    Effect.gen(function*() {
      const file = `${yield* tempDir("inkwell-busy-")}/inkwell.db`
      const context = yield* Layer.build(Layer.mergeAll(sqliteStack(`sqlite:${file}`), ProcessorTest))
      const other = yield* Effect.acquireRelease(Effect.sync(() => new Sqlite(file)), (db) => Effect.sync(() => db.close()))
      other.exec("BEGIN IMMEDIATE")
      const run = yield* Effect.fork(importThree.pipe(Effect.provide(context)))
      // The pool waits SQLITE_BUSY_TIMEOUT_MS for the lock on TestClock; each post alone would wait as long again.
      for (let second = 0; second < 60 && Option.isNone(yield* Fiber.poll(run)); second++) yield* TestClock.adjust("1 second")
      const { batches, summary } = yield* Fiber.join(run)
      other.exec("ROLLBACK")
      assert.deepStrictEqual(batches, [3], "written once, as a batch")
      assert.strictEqual(summary.imported, 0)
      const failed = reasons(summary)
      assert.deepStrictEqual(failed.map(([source]) => source), ["in.ndjson:1", "in.ndjson:2", "in.ndjson:3"])
      for (const [source, reason] of failed) {
        assert.match(reason, /^batch not written \(rolled back\): .*another connection holds the write lock/, source)
      }
    }).pipe(Effect.provide(NodeContext.layer)))
})

describePg("a batch past PostgreSQL's statement timeout is not written again post by post", () => {
  it.live("a table locked by another session: the batch fails once with the timeout (57014), each post named with it", () =>
    Effect.gen(function*() {
      const { schema, url } = yield* freshSchema
      const stack = SqlPostRepository.layer.pipe(
        Layer.provideMerge(DatabasePool.layer({ maxConnections: 2, acquireTimeout: "10 seconds" })),
        Layer.provideMerge(Migrations.layer.pipe(Layer.provideMerge(SqlLive.layer(url, { maxConnections: 2, statementTimeout: "300 millis" }))))
      )
      const context = yield* Layer.build(Layer.mergeAll(stack, ProcessorTest))
      // Another session takes the table for itself (reads still pass): every write waits until its statement times out.
      const other = yield* Effect.acquireRelease(
        Effect.promise(async () => {
          const client = new pg.Client({ connectionString: url })
          client.on("error", () => {})
          await client.connect()
          await client.query(`BEGIN; LOCK TABLE ${schema}.posts IN EXCLUSIVE MODE`)
          return client
        }),
        (client) => Effect.promise(() => client.query("ROLLBACK").finally(() => client.end()).catch(() => undefined))
      )
      const { batches, summary } = yield* importThree.pipe(Effect.provide(context))
      yield* Effect.promise(() => other.query("ROLLBACK"))
      assert.deepStrictEqual(batches, [3], "written once, as a batch")
      assert.strictEqual(summary.imported, 0)
      const failed = reasons(summary)
      assert.deepStrictEqual(failed.map(([source]) => source), ["in.ndjson:1", "in.ndjson:2", "in.ndjson:3"])
      for (const [source, reason] of failed) {
        assert.match(reason, /^batch not written \(rolled back\): .*statement timeout/, source)
      }
    }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)), 30_000)
})
