import { SqliteClient } from "@effect/sql-sqlite-node"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, type Duration, Effect, Exit, Fiber, Layer, Ref, TestClock } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import { DatabaseError, PoolTimeout } from "../../src/Domain/Errors.js"

const poolLayer = (maxConnections: number, acquireTimeout: Duration.DurationInput = "5 seconds") =>
  DatabasePool.layer({ maxConnections, acquireTimeout }).pipe(
    Layer.provide(SqliteClient.layer({ filename: ":memory:" }))
  )

const settle = Effect.repeatN(Effect.yieldNow(), 20)

/** A pool over a SQLite file in a fresh temp directory (removed with the scope): `read` has its own connection. */
const filePoolLayer = (maxConnections: number) =>
  Layer.unwrapScoped(
    Effect.map(
      Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "inkwell-pool-"))),
        (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
      ),
      (dir) =>
        DatabasePool.layer({ maxConnections, acquireTimeout: "5 seconds" }).pipe(
          Layer.provide(SqliteClient.layer({ filename: join(dir, "pool.db") }))
        )
    )
  )

const readSuite = (name: string, layer: (maxConnections: number) => Layer.Layer<DatabasePool, unknown>) =>
  describe(`DatabasePool.read (${name})`, () => {
    it.scoped("sees what was committed before it, and holds a permit while it runs", () =>
      Effect.gen(function*() {
        const pool = yield* DatabasePool
        yield* pool.use("setup", (sql) => sql`create table t (x integer primary key, label text not null)`)
        yield* pool.transaction("insert", (sql) => sql`insert into t (x, label) values (1, 'one'), (2, 'two')`)
        const before = (yield* pool.stats).totalAcquired
        const rows = yield* pool.read("t.byX", (sql) => sql<{ x: number; label: string }>`select x, label from t where x = ${2}`)
        assert.deepStrictEqual(rows, [{ x: 2, label: "two" }])
        yield* pool.use("update", (sql) => sql`update t set label = 'deux' where x = 2`)
        const again = yield* pool.read("t.byX", (sql) => sql<{ label: string }>`select label from t where x = ${2}`)
        assert.deepStrictEqual(again, [{ label: "deux" }])
        const stats = yield* pool.stats
        assert.strictEqual(stats.totalAcquired, before + 3)
        assert.strictEqual(stats.inUse, 0)
      }).pipe(Effect.provide(layer(2))))

    it.scoped("waits in line for a permit when none is free", () =>
      Effect.gen(function*() {
        const pool = yield* DatabasePool
        yield* pool.use("setup", (sql) => sql`create table t (x integer primary key)`)
        const gate = yield* Deferred.make<void>()
        const holder = yield* Effect.fork(pool.use("hold", () => Deferred.await(gate)))
        yield* settle
        const reader = yield* Effect.fork(pool.read("t.all", (sql) => sql<{ x: number }>`select x from t`))
        yield* settle
        assert.strictEqual((yield* pool.stats).waiting, 1)
        assert.isNull(reader.unsafePoll())
        yield* Deferred.succeed(gate, undefined)
        yield* Fiber.join(holder)
        assert.deepStrictEqual(yield* Fiber.join(reader), [])
        assert.strictEqual((yield* pool.stats).inUse, 0)
      }).pipe(Effect.provide(layer(1))))

    it.scoped("turns a failing statement into DatabaseError naming the operation", () =>
      Effect.gen(function*() {
        const pool = yield* DatabasePool
        const error = yield* pool.read("t.missing", (sql) => sql`select * from no_such_table`).pipe(Effect.flip)
        assert.instanceOf(error, DatabaseError)
        assert.strictEqual(error.operation, "t.missing")
        assert.strictEqual((yield* pool.stats).inUse, 0)
      }).pipe(Effect.provide(layer(2))))
  })

readSuite("SQLite file: its own read-only connection", filePoolLayer)
readSuite("in-memory SQLite: through the client", poolLayer)

describe("DatabasePool.read on a SQLite file", () => {
  it.scoped("refuses a statement that writes", () =>
    Effect.gen(function*() {
      const pool = yield* DatabasePool
      yield* pool.use("setup", (sql) => sql`create table t (x integer primary key)`)
      yield* pool.use("insert", (sql) => sql`insert into t (x) values (1)`)
      const error = yield* pool.read("t.delete", (sql) => sql`delete from t`).pipe(Effect.flip)
      assert.instanceOf(error, DatabaseError)
      const rows = yield* pool.use("count", (sql) => sql<{ n: number }>`select count(*) as n from t`)
      assert.strictEqual(rows[0]!.n, 1)
    }).pipe(Effect.provide(filePoolLayer(1))))
})

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
