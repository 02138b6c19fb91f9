/**
 * PostgreSQL connections that go silent (a NAT or failover dropping their packets; nothing is
 * closed), through an in-process relay: a statement abandoned on one never leaves its
 * connection in the pool, a silent statement fails at the client's own deadline as unreachable,
 * and fresh connections take over within seconds.
 */
import { assert, it } from "@effect/vitest"
import { Duration, Effect, Exit, Layer } from "effect"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import * as SqlLive from "../../src/Database/SqlLive.js"
import { isUnreachable } from "../../src/Database/Transient.js"
import { describePg, freshSchema, silenceableRelay } from "../fixtures/pg.js"

const poolAt = (url: string, options: SqlLive.SqlLiveOptions = {}) =>
  DatabasePool.layer({ maxConnections: options.maxConnections ?? 2, acquireTimeout: "10 seconds" }).pipe(
    Layer.provide(SqlLive.layer(url, { maxConnections: 2, ...options }))
  )

/** Opens both of the pool's connections (two statements at once), idle afterwards. */
const openBoth = Effect.flatMap(DatabasePool, (pool) =>
  Effect.all([
    pool.use("warm-a", (sql) => sql`SELECT pg_sleep(0.05)`),
    pool.use("warm-b", (sql) => sql`SELECT pg_sleep(0.05)`)
  ], { concurrency: 2 }))

const took = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.timed(effect), ([duration, a]) => [Duration.toMillis(duration), a] as const)

describePg("Silent PostgreSQL connections", () => {
  it.live("a statement abandoned on a silent connection (its request timed out) does not leave it in the pool", () =>
    Effect.gen(function*() {
      const { url } = yield* freshSchema
      const relay = yield* silenceableRelay(new URL(url))
      const context = yield* Layer.build(poolAt(relay.url(url)))
      // Before the pool closes: its goodbyes on silent connections would never be answered.
      yield* Effect.addFinalizer(() => Effect.sync(() => relay.cut()))
      yield* Effect.gen(function*() {
        const pool = yield* DatabasePool
        yield* openBoth
        assert.strictEqual(relay.silenceAll(), 2)
        // REQUEST_TIMEOUT interrupting a request, once for each silent connection: the driver
        // cancels the statement (through the pool, that landed on the other silent connection and
        // gave up after 5 s), then releases the abandoned connection.
        for (const request of ["first", "second"]) {
          const [abandonedMs, abandoned] = yield* took(
            Effect.exit(pool.use(request, (sql) => sql`SELECT 1`).pipe(Effect.timeout("1 second")))
          )
          assert.isTrue(Exit.isFailure(abandoned), request)
          assert.isBelow(abandonedMs, 3_000, `the ${request} interruption waited for the cancel`)
        }
        // Both were handed back with their statements pending: the next statement queued behind
        // one, for as long as the connection stayed silent.
        const [ms, rows] = yield* took(pool.use("after", (sql) => sql<{ readonly n: number }>`SELECT 2 AS n`).pipe(Effect.timeout("5 seconds")))
        assert.deepStrictEqual(rows, [{ n: 2 }])
        assert.isBelow(ms, 3_000)
      }).pipe(Effect.provide(context))
    }).pipe(Effect.scoped), 60_000)

  it.live("a statement on a silent connection fails at the statement timeout plus a grace, as unreachable; the next one reconnects", () =>
    Effect.gen(function*() {
      const { url } = yield* freshSchema
      const relay = yield* silenceableRelay(new URL(url))
      // One connection: each silent one costs a statement its deadline.
      const context = yield* Layer.build(poolAt(relay.url(url), { maxConnections: 1, statementTimeout: "1 second" }))
      yield* Effect.addFinalizer(() => Effect.sync(() => relay.cut()))
      yield* Effect.gen(function*() {
        const pool = yield* DatabasePool
        yield* pool.use("warm", (sql) => sql`SELECT 1`)
        assert.strictEqual(relay.silenceAll(), 1)
        const [ms, exit] = yield* took(Effect.exit(pool.use("silent", (sql) => sql`SELECT 1`)))
        const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
        assert.strictEqual(error?._tag, "DatabaseError", String(exit))
        assert.isTrue(isUnreachable(error?.cause), String(exit))
        const deadline = Duration.toMillis(Duration.sum("1 second", SqlLive.PG_SILENCE_GRACE))
        assert.isAtLeast(ms, deadline - 100)
        assert.isBelow(ms, deadline + 2_000)
        const [again, rows] = yield* took(pool.use("after", (sql) => sql<{ readonly n: number }>`SELECT 2 AS n`).pipe(Effect.timeout("5 seconds")))
        assert.deepStrictEqual(rows, [{ n: 2 }])
        assert.isBelow(again, 3_000)
      }).pipe(Effect.provide(context))
    }).pipe(Effect.scoped), 60_000)

  it.live("DB_STATEMENT_TIMEOUT is the server's statement_timeout: a longer statement is stopped there", () =>
    Effect.gen(function*() {
      const { url } = yield* freshSchema
      yield* Effect.gen(function*() {
        const pool = yield* DatabasePool
        const [setting] = yield* pool.use("show", (sql) => sql<{ readonly statement_timeout: string }>`SHOW statement_timeout`)
        assert.strictEqual(setting?.statement_timeout, "500ms")
        const exit = yield* Effect.exit(pool.use("slow", (sql) => sql`SELECT pg_sleep(3)`))
        const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
        assert.strictEqual(((error?.cause as { readonly cause?: { readonly code?: unknown } } | undefined)?.cause)?.code, "57014", String(exit))
      }).pipe(Effect.provide(poolAt(url, { statementTimeout: "500 millis" })))
    }).pipe(Effect.scoped), 60_000)
})
