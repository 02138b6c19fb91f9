import { SqliteClient } from "@effect/sql-sqlite-node"
import { assert, describe, it } from "@effect/vitest"
import Sqlite from "better-sqlite3"
import { Cause, Context, Deferred, type Duration, Effect, Exit, Fiber, Layer, Option, Ref, TestClock } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import * as SqlLive from "../../src/Database/SqlLive.js"
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

describe("DatabasePool.snapshot on a SQLite file", () => {
  /** A pool over a fresh file with a table `t`, and another connection to the file, as another process's. */
  const withFile = <A, E>(body: (pool: DatabasePool["Type"], other: Sqlite.Database) => Effect.Effect<A, E>) =>
    Effect.gen(function*() {
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "inkwell-pool-"))),
        (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
      )
      const file = join(dir, "pool.db")
      const context = yield* Layer.build(
        DatabasePool.layer({ maxConnections: 2, acquireTimeout: "5 seconds" }).pipe(Layer.provide(SqliteClient.layer({ filename: file })))
      )
      const pool = Context.get(context, DatabasePool)
      yield* pool.use("setup", (sql) => sql`create table t (x integer primary key)`)
      yield* pool.use("insert", (sql) => sql`insert into t (x) values (1)`)
      const other = yield* Effect.acquireRelease(Effect.sync(() => new Sqlite(file)), (db) => Effect.sync(() => db.close()))
      return yield* body(pool, other)
    })

  const xs = (pool: DatabasePool["Type"]) =>
    Effect.map(pool.read("t.all", (sql) => sql<{ x: number }>`select x from t order by x`), (rows) => rows.map((row) => row.x))

  it.scoped("every read in it sees the database as at its first, while another connection commits; reads outside see the commit", () =>
    withFile((pool, other) =>
      Effect.gen(function*() {
        const seen = yield* pool.snapshot("snapshot", (snapshot) =>
          Effect.gen(function*() {
            const first = yield* xs(snapshot)
            // Not held up by the open snapshot (it would fail SQLITE_BUSY, not wait for ever).
            other.prepare("insert into t (x) values (2)").run()
            const outside = yield* xs(pool)
            const second = yield* xs(snapshot)
            const inUse = (yield* pool.stats).inUse
            return { first, outside, second, inUse }
          }))
        assert.deepStrictEqual(seen, { first: [1], outside: [1, 2], second: [1], inUse: 1 })
        assert.strictEqual((yield* pool.stats).inUse, 0)
      })))

  it.scoped("ended however it ends: the next snapshot sees what was committed after the failed or interrupted one", () =>
    withFile((pool, other) =>
      Effect.gen(function*() {
        const failed = yield* Effect.exit(pool.snapshot("snapshot", (snapshot) => Effect.zipRight(xs(snapshot), Effect.fail("stop"))))
        assert.deepStrictEqual(failed, Exit.fail("stop"))
        other.prepare("insert into t (x) values (2)").run()

        const reading = yield* Deferred.make<void>()
        const fiber = yield* Effect.fork(
          pool.snapshot("snapshot", (snapshot) => Effect.zipRight(Effect.zipRight(xs(snapshot), Deferred.succeed(reading, undefined)), Effect.never))
        )
        // Or the snapshot's own end, should it fail before: then the test fails instead of waiting.
        yield* Effect.raceFirst(Deferred.await(reading), Effect.zipRight(Fiber.await(fiber), Effect.die("the snapshot ended")))
        yield* Fiber.interrupt(fiber)
        other.prepare("insert into t (x) values (3)").run()

        assert.deepStrictEqual(yield* pool.snapshot("snapshot", xs), [1, 2, 3])
        yield* pool.transaction("insert", (sql) => sql`insert into t (x) values (4)`)
        assert.deepStrictEqual(yield* xs(pool), [1, 2, 3, 4])
        assert.strictEqual((yield* pool.stats).inUse, 0)
      })))
})

describe("DatabasePool.transaction on a SQLite file another process writes to", () => {
  /** A pool (SqlLive's client) over a fresh file with a table `t`, and another connection to the file. */
  const withFile = <A, E>(
    maxConnections: number,
    body: (pool: DatabasePool["Type"], other: Sqlite.Database) => Effect.Effect<A, E>
  ) =>
    Effect.gen(function*() {
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "inkwell-pool-"))),
        (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
      )
      const file = join(dir, "pool.db")
      const context = yield* Layer.build(
        DatabasePool.layer({ maxConnections, acquireTimeout: "1 second" }).pipe(Layer.provide(SqlLive.layer(`sqlite:${file}`)))
      )
      const pool = Context.get(context, DatabasePool)
      yield* pool.use("setup", (sql) => sql`create table t (x integer primary key)`)
      yield* pool.use("insert", (sql) => sql`insert into t (x) values (1)`)
      const other = yield* Effect.acquireRelease(Effect.sync(() => new Sqlite(file)), (db) => Effect.sync(() => db.close()))
      return yield* body(pool, other)
    })

  it.scoped("writers waiting for the write lock hold no permit between attempts: reads are answered meanwhile", () =>
    withFile(2, (pool, other) =>
      Effect.gen(function*() {
        other.exec("BEGIN IMMEDIATE")
        const writers = yield* Effect.forEach([2, 3], (x) =>
          Effect.fork(Effect.exit(pool.transaction("insert", (sql) => sql`insert into t (x) values (${x})`))))
        yield* settle
        yield* TestClock.adjust("300 millis")
        const read = yield* Effect.fork(Effect.exit(pool.read("t.all", (sql) => sql<{ x: number }>`select x from t order by x`)))
        yield* TestClock.adjust("1500 millis")
        const exit = yield* Fiber.join(read)
        assert.deepStrictEqual(Exit.map(exit, (rows) => rows.map((row) => row.x)), Exit.succeed([1]))
        other.exec("COMMIT")
        yield* TestClock.adjust("200 millis")
        for (const writer of writers) {
          const written = yield* Fiber.join(writer)
          assert.isTrue(Exit.isSuccess(written), String(written))
        }
        assert.strictEqual((yield* pool.stats).inUse, 0)
      })))

  it.scoped("a transaction SQLite rolled back by itself fails with its own error, not the ROLLBACK's", () =>
    withFile(2, (pool) =>
      Effect.gen(function*() {
        yield* pool.use("trigger", (sql) =>
          sql.unsafe(`create trigger refuse before insert on t begin select raise(rollback, 'the real reason'); end`))
        const exit = yield* Effect.exit(pool.transaction("insert", (sql) => sql`insert into t (x) values (2)`))
        assert.isTrue(Exit.isFailure(exit))
        const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
        assert.isTrue(Option.isSome(error) && error.value._tag === "DatabaseError", String(exit))
        const text = Option.isSome(error) ? String(((error.value as DatabaseError).cause as { readonly cause?: unknown }).cause) : ""
        assert.include(text, "the real reason")
        assert.notInclude(text, "no transaction is active")
        const rows = yield* pool.read("t.all", (sql) => sql<{ x: number }>`select x from t`)
        assert.deepStrictEqual(rows.map((row) => row.x), [1])
      })))
})
