/**
 * DatabasePool: the one way to reach the database. Holds the SqlClient and a FIFO-fair
 * guard with `maxConnections` permits, so at most that many operations run at once and a
 * caller waiting longer than `acquireTimeout` fails with `PoolTimeout`.
 *
 * The guard is a `FairSemaphore` (FIFO, O(1) per acquire and release), not `Effect.makeSemaphore`,
 * whose every release wakes every waiter: under HTTP load each waiting request is such a waiter.
 * Because at most `maxConnections` operations are admitted, the driver's own internal lock (the
 * SQLite client guards its single connection with one) never sees a long line either.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Context, type Duration, Effect, Layer } from "effect"
import { DatabaseConfig } from "../Config.js"
import { DatabaseError, PoolTimeout } from "../Domain/Errors.js"
import { AcquireTimeout, FairSemaphore } from "./FairSemaphore.js"

export type Dialect = "sqlite" | "pg"

export interface PoolStats {
  /** Operations holding a permit now. */
  readonly inUse: number
  /** Callers waiting for a permit now. */
  readonly waiting: number
  /** Permits handed out since start. */
  readonly totalAcquired: number
  /** Callers that gave up with PoolTimeout since start. */
  readonly timeouts: number
  readonly maxConnections: number
}

export interface DatabasePoolShape {
  readonly dialect: Dialect
  readonly maxConnections: number
  /**
   * Runs `f(sql)` holding one permit. Waiting longer than the acquire timeout fails with
   * `PoolTimeout`; an `SqlError` becomes `DatabaseError { operation }`.
   */
  readonly use: <A, E, R>(
    operation: string,
    f: (sql: SqlClient.SqlClient) => Effect.Effect<A, E | SqlError.SqlError, R>
  ) => Effect.Effect<A, Exclude<E, SqlError.SqlError> | DatabaseError | PoolTimeout, R>
  /** Like `use`, inside one transaction (committed on success, rolled back on failure or interruption). */
  readonly transaction: <A, E, R>(
    operation: string,
    f: (sql: SqlClient.SqlClient) => Effect.Effect<A, E | SqlError.SqlError, R>
  ) => Effect.Effect<A, Exclude<E, SqlError.SqlError> | DatabaseError | PoolTimeout, R>
  readonly stats: Effect.Effect<PoolStats>
}

export interface DatabasePoolOptions {
  readonly maxConnections: number
  readonly acquireTimeout: Duration.DurationInput
}

const isSqlError = (u: unknown): u is SqlError.SqlError =>
  typeof u === "object" && u !== null && (u as { readonly _tag?: unknown })._tag === "SqlError"

/** Builds a pool around an existing SqlClient. */
export const make = (sql: SqlClient.SqlClient, options: DatabasePoolOptions): DatabasePoolShape => {
  // Never admit more operations than the driver has connections, however the two were configured.
  const driverMax = sql.onDialectOrElse({
    pg: () => (sql as unknown as { readonly config?: { readonly maxConnections?: number } }).config?.maxConnections,
    orElse: () => undefined
  })
  const maxConnections = Math.min(options.maxConnections, driverMax ?? options.maxConnections)
  const guard = new FairSemaphore(maxConnections, { acquireTimeout: options.acquireTimeout })
  const dialect: Dialect = sql.onDialectOrElse({ pg: () => "pg" as const, orElse: () => "sqlite" as const })

  const guarded = <A, E, R>(
    operation: string,
    effect: Effect.Effect<A, E | SqlError.SqlError, R>
  ): Effect.Effect<A, Exclude<E, SqlError.SqlError> | DatabaseError | PoolTimeout, R> =>
    guard.withPermit(effect).pipe(
      Effect.catchIf(
        (e): e is AcquireTimeout | SqlError.SqlError => e instanceof AcquireTimeout || isSqlError(e),
        (e): Effect.Effect<never, PoolTimeout | DatabaseError> =>
          e instanceof AcquireTimeout
            ? Effect.fail(new PoolTimeout({ waitedMs: e.waitedMs, maxConnections }))
            : Effect.fail(new DatabaseError({ operation, cause: e }))
      )
    ) as Effect.Effect<A, Exclude<E, SqlError.SqlError> | DatabaseError | PoolTimeout, R>

  return {
    dialect,
    maxConnections,
    use: (operation, f) => guarded(operation, Effect.suspend(() => f(sql))),
    transaction: (operation, f) => guarded(operation, sql.withTransaction(Effect.suspend(() => f(sql)))),
    stats: Effect.sync(() => {
      const s = guard.stats
      return {
        inUse: s.inUse,
        waiting: s.waiting,
        totalAcquired: s.totalAcquired,
        timeouts: s.timeouts,
        maxConnections: s.permits
      }
    })
  }
}

export class DatabasePool extends Context.Tag("Inkwell/DatabasePool")<DatabasePool, DatabasePoolShape>() {
  /** A pool over the SqlClient in context; the client's own layer owns the connection's lifetime. */
  static readonly layer = (options: DatabasePoolOptions): Layer.Layer<DatabasePool, never, SqlClient.SqlClient> =>
    Layer.effect(DatabasePool, Effect.map(SqlClient.SqlClient, (sql) => make(sql, options)))

  /** As `layer`, with `DB_MAX_CONNECTIONS` and `DB_ACQUIRE_TIMEOUT` from config. */
  static readonly layerConfig = Layer.unwrapEffect(
    Effect.map(DatabaseConfig, (config) =>
      DatabasePool.layer({ maxConnections: config.maxConnections, acquireTimeout: config.acquireTimeout }))
  )
}
