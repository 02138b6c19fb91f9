/**
 * DatabasePool: the one way to reach the database. Holds the SqlClient and a FIFO-fair
 * guard with `maxConnections` permits, so at most that many operations run at once and a
 * caller waiting longer than `acquireTimeout` fails with `PoolTimeout`.
 *
 * TODO(core): implementation (guard, layer, layerConfig, stats).
 */
import type { SqlClient, SqlError } from "@effect/sql"
import { Context, type Effect } from "effect"
import type { DatabaseError, PoolTimeout } from "../Domain/Errors.js"

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

export class DatabasePool extends Context.Tag("Inkwell/DatabasePool")<DatabasePool, DatabasePoolShape>() {}
