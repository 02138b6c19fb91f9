/**
 * DatabasePool over PostgreSQL, in a fresh database this file creates and drops:
 * the driver never opens more connections than the pool has permits, and a connection killed
 * by the server fails what ran on it with DatabaseError while later operations reconnect; a
 * snapshot is one REPEATABLE READ, READ ONLY transaction, ended however it ends.
 */
import { PgClient } from "@effect/sql-pg"
import { assert, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Cause, ConfigProvider, Context, Data, Deferred, Effect, Exit, Fiber, Layer, Option, Schedule } from "effect"
import type pg from "pg"
import { afterAll, beforeAll } from "vitest"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import * as Migrations from "../../src/Database/Migrations.js"
import * as SqlLive from "../../src/Database/SqlLive.js"
import { isUnreachable } from "../../src/Database/Transient.js"
import { describeFailure } from "../../src/Domain/describeFailure.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import * as SqlPostRepository from "../../src/Posts/SqlPostRepository.js"
import { adminQuery, createDatabase, describePg, terminateBackends } from "../fixtures/pg.js"
import { makeNewPost } from "../fixtures/posts.js"

/** The database stack exactly as the app composes it, configured only through config. */
const configured = SqlPostRepository.layer.pipe(
  Layer.provideMerge(DatabasePool.layerConfig),
  Layer.provideMerge(Migrations.layer.pipe(Layer.provideMerge(SqlLive.layerConfig)))
)

const withConfig = (entries: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(entries))))

/** Our sessions on the database (SqlLive names them "inkwell"), by state. */
const sessions = (url: string, state?: string) =>
  Effect.promise(() =>
    adminQuery(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = 'inkwell'
       ${state === undefined ? "" : `AND state = '${state}'`}`,
      url
    )
  ).pipe(Effect.map((result) => Number(result.rows[0]?.n ?? 0)))

/** Waits (polling the server) until `n` of our queries are running `pg_sleep`. */
const sleepersRunning = (url: string, n: number) =>
  Effect.promise(() =>
    adminQuery(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND state = 'active' AND query LIKE '%pg_sleep%'
       AND pid <> pg_backend_pid()`,
      url
    )
  ).pipe(
    Effect.map((result) => Number(result.rows[0]?.n ?? 0)),
    Effect.repeat({ until: (running) => running >= n, schedule: Schedule.spaced("20 millis") }),
    Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error(`${n} sleepers never started`) })
  )

describePg("DatabasePool on PostgreSQL", () => {
  let database: Awaited<ReturnType<typeof createDatabase>>
  beforeAll(async () => {
    database = await createDatabase()
  })
  afterAll(async () => {
    await database?.drop()
  })

  it.live("DB_MAX_CONNECTIONS sizes both the permits and the driver's pool: never more sessions than permits", () =>
    Effect.gen(function*() {
      const pool = yield* DatabasePool
      const client = yield* PgClient.PgClient
      assert.strictEqual(pool.maxConnections, 3)
      assert.strictEqual(client.config.maxConnections, 3)

      const work = yield* Effect.forEach(
        Array.from({ length: 12 }, (_, i) => i),
        (i) => pool.use(`sleep-${i}`, (sql) => sql`SELECT pg_sleep(0.15)`),
        { concurrency: "unbounded", discard: true }
      ).pipe(Effect.fork)
      yield* sleepersRunning(database.url, 3)
      let most = 0
      while (work.unsafePoll() === null) {
        most = Math.max(most, yield* sessions(database.url))
        yield* Effect.sleep("25 millis")
      }
      yield* Fiber.join(work)
      assert.strictEqual(most, 3, "sessions open at the busiest moment")
    }).pipe(
      Effect.provide(configured),
      withConfig({ DATABASE_URL: database.url, DB_MAX_CONNECTIONS: "3" })
    ))

  it.live("without an explicit size the driver's pool matches DB_MAX_CONNECTIONS' default", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(SqlLive.layer(database.url))
      const client = Context.unsafeGet(context, PgClient.PgClient)
      assert.strictEqual(client.config.maxConnections, SqlLive.DEFAULT_PG_MAX_CONNECTIONS)
      const pool = yield* Layer.build(configured).pipe(withConfig({ DATABASE_URL: database.url }))
      assert.strictEqual(Context.get(pool, DatabasePool).maxConnections, SqlLive.DEFAULT_PG_MAX_CONNECTIONS)
    }).pipe(Effect.scoped))

  it.live("killed connections fail the running operations with DatabaseError; later operations reconnect", () =>
    Effect.gen(function*() {
      const pool = yield* DatabasePool
      const repo = yield* PostRepository
      yield* repo.create(makeNewPost({ slug: "survivor", tags: ["kept"] }))

      const running = yield* Effect.all([
        Effect.fork(pool.use("sleep-a", (sql) => sql`SELECT pg_sleep(30)`)),
        Effect.fork(pool.use("sleep-b", (sql) => sql`SELECT pg_sleep(30)`)),
        Effect.fork(pool.transaction("sleep-in-transaction", (sql) => sql`SELECT pg_sleep(30)`))
      ])
      yield* sleepersRunning(database.url, 3)
      const killed = yield* Effect.promise(() => terminateBackends(database.url))
      assert.isAtLeast(killed, 3)

      for (const fiber of running) {
        const exit = yield* Fiber.await(fiber)
        assert.isTrue(Exit.isFailure(exit), "a killed operation fails")
        if (Exit.isFailure(exit)) {
          const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
          assert.strictEqual(error?._tag, "DatabaseError", Cause.pretty(exit.cause))
        }
      }
      const stats = yield* pool.stats
      assert.strictEqual(stats.inUse, 0, "every permit came back")

      // An idle connection killed with the others is dropped by the driver when its socket
      // reports the kill, which may come just after the fibers above failed: an operation that
      // lands on it in that window fails like them. Within moments every later one reconnects.
      yield* repo.ping.pipe(Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 40 }))
      assert.strictEqual((yield* repo.getBySlug("survivor")).slug, "survivor")
      const created = yield* repo.create(makeNewPost({ slug: "after-the-outage" }))
      assert.strictEqual(created.version, 1)
      assert.deepStrictEqual(yield* repo.tags(), [{ tag: "kept", count: 1 }, { tag: "test", count: 1 }])
      assert.isAtLeast(yield* sessions(database.url), 1)
    }).pipe(
      Effect.provide(configured),
      withConfig({ DATABASE_URL: database.url, DB_MAX_CONNECTIONS: "4" })
    ))

  /**
   * Inside a transaction: kills our sessions and waits until the driver has seen its own
   * connection break (its "error" event), so the next statement is sent on a broken connection.
   */
  const killTransactionConnection = Effect.gen(function*() {
    const [connection] = Option.getOrThrow(yield* Effect.serviceOption(SqlClient.TransactionConnection))
    const client = (connection as unknown as { readonly pg: pg.PoolClient }).pg
    const broken = Effect.async<void>((resume) => {
      client.once("error", () => resume(Effect.void))
    })
    const waiting = yield* Effect.fork(broken)
    assert.isAtLeast(yield* Effect.promise(() => terminateBackends(database.url)), 1)
    yield* Fiber.join(waiting)
  })

  it.live("a transaction whose connection is killed between two statements is DatabaseError read as unreachable (503)", () =>
    Effect.gen(function*() {
      const pool = yield* DatabasePool
      const exit = yield* Effect.exit(pool.transaction("between", (sql) =>
        Effect.gen(function*() {
          yield* sql`SELECT 1`
          yield* killTransactionConnection
          yield* sql`SELECT 2`
        })))
      const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
      assert.strictEqual(error?._tag, "DatabaseError", String(exit))
      assert.include(describeFailure(error), "not queryable")
      assert.isTrue(isUnreachable(error?.cause), describeFailure(error))
    }).pipe(
      Effect.provide(DatabasePool.layer({ maxConnections: 2, acquireTimeout: "5 seconds" }).pipe(Layer.provide(SqlLive.layer(database.url))))
    ))

  it.live("a transaction failing for its own reason keeps it when its ROLLBACK fails too (connection killed)", () =>
    Effect.gen(function*() {
      class Refused extends Data.TaggedError("Refused") {}
      const pool = yield* DatabasePool
      const exit = yield* Effect.exit(pool.transaction("refused", (sql) =>
        Effect.gen(function*() {
          yield* sql`SELECT 1`
          yield* killTransactionConnection
          return yield* new Refused()
        })))
      const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
      assert.instanceOf(error, Refused, String(exit))
    }).pipe(
      Effect.provide(DatabasePool.layer({ maxConnections: 2, acquireTimeout: "5 seconds" }).pipe(Layer.provide(SqlLive.layer(database.url))))
    ))

  it.live("snapshot: one REPEATABLE READ, READ ONLY transaction, ended however it ends (interrupted too)", () =>
    Effect.gen(function*() {
      const pool = yield* DatabasePool
      const settings = (on: DatabasePool["Type"]) =>
        on.use("settings", (sql) =>
          sql<{ isolation: string; read_only: string }>`
            SELECT current_setting('transaction_isolation') AS isolation, current_setting('transaction_read_only') AS read_only`)
      assert.deepStrictEqual(yield* pool.snapshot("snapshot", settings), [{ isolation: "repeatable read", read_only: "on" }])

      const write = yield* Effect.exit(pool.snapshot("snapshot", (snapshot) => snapshot.use("write", (sql) => sql`CREATE TABLE written (x int)`)))
      const refused = Exit.isFailure(write) && write.cause._tag === "Fail" ? write.cause.error : undefined
      assert.strictEqual(refused?._tag === "DatabaseError" ? refused.operation : undefined, "write", String(write))
      const reason = (refused?.cause as { readonly cause?: unknown } | undefined)?.cause
      assert.include(reason instanceof Error ? reason.message : "", "read-only transaction")

      const reading = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        pool.snapshot("snapshot", (snapshot) => Effect.zipRight(Effect.zipRight(settings(snapshot), Deferred.succeed(reading, undefined)), Effect.never))
      )
      // Or the snapshot's own end, should it fail before: then the test fails instead of waiting.
      yield* Effect.raceFirst(Deferred.await(reading), Effect.zipRight(Fiber.await(fiber), Effect.die("the snapshot ended")))
      assert.strictEqual(yield* sessions(database.url, "idle in transaction"), 1)
      yield* Fiber.interrupt(fiber)
      // One connection: the next statement runs where the snapshot did, in no transaction.
      assert.deepStrictEqual(yield* settings(pool), [{ isolation: "read committed", read_only: "off" }])
      assert.strictEqual(yield* sessions(database.url, "idle in transaction"), 0)
      assert.strictEqual((yield* pool.stats).inUse, 0)
    }).pipe(
      Effect.provide(configured),
      withConfig({ DATABASE_URL: database.url, DB_MAX_CONNECTIONS: "1" })
    ))
})
