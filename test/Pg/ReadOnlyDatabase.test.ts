/**
 * SqlLive's PostgreSQL pool on a database that takes no writes (25006: a standby, a primary a
 * failover demoted; here a database whose sessions start read-only): a session opened there
 * stays read-only, so once one refuses a write, no connection opened by then serves another
 * statement. Each test makes its own database.
 */
import { SqlClient } from "@effect/sql"
import { assert, it } from "@effect/vitest"
import { Context, Effect, Either, Layer } from "effect"
import * as SqlLive from "../../src/Database/SqlLive.js"
import { isReadOnly } from "../../src/Database/Transient.js"
import { adminQuery, createDatabase, describePg } from "../fixtures/pg.js"

/** Our sessions on the database of `url` (SqlLive names them "inkwell"). */
const sessions = (url: string) =>
  Effect.promise(() =>
    adminQuery(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'inkwell' ORDER BY pid`,
      url
    )
  ).pipe(Effect.map((result) => result.rows.map((row: { pid: number }) => row.pid)))

describePg("SqlLive on a PostgreSQL database that takes no writes", () => {
  it.live("a write refused as read-only closes every connection opened by then: once the database takes writes, the next write is stored (was refused until the pool's idle timeout)", () =>
    Effect.gen(function*() {
      const own = yield* Effect.acquireRelease(Effect.promise(() => createDatabase()), (db) => Effect.promise(() => db.drop()))
      const sql = Context.get(yield* Layer.build(SqlLive.layer(own.url, { maxConnections: 3 })), SqlClient.SqlClient)
      yield* sql`CREATE TABLE t (x integer)`
      yield* Effect.promise(() => adminQuery(`ALTER DATABASE ${own.name} SET default_transaction_read_only = on`))
      yield* Effect.promise(() => adminQuery(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${own.name}'`))
      // The killed connection may fail the first statement; then three sessions open at once,
      // each read-only, and wait idle in the pool.
      yield* Effect.either(sql`SELECT 1`)
      yield* Effect.all([sql`SELECT pg_sleep(0.1)`, sql`SELECT pg_sleep(0.1)`, sql`SELECT pg_sleep(0.1)`], { concurrency: "unbounded" })
      const readOnly = yield* sessions(own.url)
      assert.lengthOf(readOnly, 3)
      const refused = yield* Effect.either(sql.withTransaction(sql`INSERT INTO t VALUES (1)`))
      assert.isTrue(Either.isLeft(refused) && isReadOnly(refused.left), String(refused))

      // The database takes writes again (the address moved to the new primary): the refused
      // session and the two idle ones are read-only still.
      yield* Effect.promise(() => adminQuery(`ALTER DATABASE ${own.name} SET default_transaction_read_only = off`))
      yield* sql.withTransaction(sql`INSERT INTO t VALUES (2)`)
      assert.deepStrictEqual(yield* sql`SELECT x FROM t`, [{ x: 2 }])
      const now = yield* sessions(own.url)
      assert.deepStrictEqual(now.filter((pid) => readOnly.includes(pid)), [], "no session of the read-only ones left")
    }).pipe(Effect.scoped), 60_000)
})
