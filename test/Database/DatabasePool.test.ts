import { SqliteClient } from "@effect/sql-sqlite-node"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, type Duration, Effect, Exit, Fiber, Layer, Ref, TestClock } from "effect"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import { DatabaseError, PoolTimeout } from "../../src/Domain/Errors.js"

const poolLayer = (maxConnections: number, acquireTimeout: Duration.DurationInput = "5 seconds") =>
  DatabasePool.layer({ maxConnections, acquireTimeout }).pipe(
    Layer.provide(SqliteClient.layer({ filename: ":memory:" }))
  )

const settle = Effect.repeatN(Effect.yieldNow(), 20)

describe("DatabasePool", () => {
  it.scoped("runs at most maxConnections operations at once (counted, not timed)", () =>
    Effect.gen(function*() {
      const pool = yield* DatabasePool
      const current = yield* Ref.make(0)
      const max = yield* Ref.make(0)
      const gate = yield* Deferred.make<void>()
      const op = pool.use("probe", (sql) =>
        Effect.gen(function*() {
          const now = yield* Ref.updateAndGet(current, (n) => n + 1)
          yield* Ref.update(max, (m) => Math.max(m, now))
          yield* Deferred.await(gate)
          yield* sql`select 1`
          yield* Ref.update(current, (n) => n - 1)
        }))
      const fiber = yield* Effect.fork(Effect.all(Array.from({ length: 12 }, () => op), { concurrency: "unbounded" }))
      yield* settle
      const stats = yield* pool.stats
      assert.strictEqual(stats.inUse, 3)
      assert.strictEqual(stats.waiting, 9)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(fiber)
      assert.strictEqual(yield* Ref.get(max), 3)
      const after = yield* pool.stats
      assert.deepStrictEqual(after, { inUse: 0, waiting: 0, totalAcquired: 12, timeouts: 0, maxConnections: 3 })
    }).pipe(Effect.provide(poolLayer(3))))

  it.scoped("fails with PoolTimeout when starved (TestClock)", () =>
    Effect.gen(function*() {
      const pool = yield* DatabasePool
      const gate = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(pool.use("hold", () => Deferred.await(gate)))
      yield* settle
      const starved = yield* Effect.fork(pool.use("starved", (sql) => sql`select 1`))
      yield* settle
      yield* TestClock.adjust("2 seconds")
      const exit = yield* Fiber.await(starved)
      assert.deepStrictEqual(exit, Exit.fail(new PoolTimeout({ waitedMs: 2000, maxConnections: 1 })))
      assert.strictEqual((yield* pool.stats).timeouts, 1)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holder)
      const rows = yield* pool.use("after", (sql) => sql<{ one: number }>`select 1 as one`)
      assert.strictEqual(rows[0]!.one, 1)
    }).pipe(Effect.provide(poolLayer(1, "2 seconds"))))

  it.scoped("turns SqlError into DatabaseError naming the operation", () =>
    Effect.gen(function*() {
      const pool = yield* DatabasePool
      const error = yield* pool.use("posts.broken", (sql) => sql`select * from no_such_table`).pipe(Effect.flip)
      assert.instanceOf(error, DatabaseError)
      assert.strictEqual(error.operation, "posts.broken")
      assert.strictEqual((yield* pool.stats).inUse, 0)
    }).pipe(Effect.provide(poolLayer(2))))

  it.scoped("a transaction rolls back as a whole on failure", () =>
    Effect.gen(function*() {
      const pool = yield* DatabasePool
      yield* pool.use("setup", (sql) => sql`create table t (x integer primary key)`)
      const result = yield* pool.transaction("batch", (sql) =>
        Effect.gen(function*() {
          yield* sql`insert into t (x) values (1)`
          yield* sql`insert into t (x) values (1)` // duplicate key
        })).pipe(Effect.flip)
      assert.instanceOf(result, DatabaseError)
      const rows = yield* pool.use("count", (sql) => sql<{ n: number }>`select count(*) as n from t`)
      assert.strictEqual(rows[0]!.n, 0)
      assert.strictEqual(pool.dialect, "sqlite")
    }).pipe(Effect.provide(poolLayer(2))))
})
