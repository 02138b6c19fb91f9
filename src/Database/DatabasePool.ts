/**
 * DatabasePool: the one way to reach the database. Holds the SqlClient and a FIFO-fair
 * guard with `maxConnections` permits, so at most that many operations run at once and a
 * caller waiting longer than `acquireTimeout` fails with `PoolTimeout`.
 *
 * The guard is a `FairSemaphore` (FIFO, O(1) per acquire and release), not `Effect.makeSemaphore`,
 * whose every release wakes every waiter: under HTTP load each waiting request is such a waiter.
 * Because at most `maxConnections` operations are admitted, the driver's own internal lock (the
 * SQLite client guards its single connection with one) never sees a long line either.
 *
 * Reads that stand alone (`read`) have a fast path on a SQLite file: the pool opens one more,
 * read-only connection to the same file and runs them there as prepared statements, called
 * synchronously. Through the client, a point read paid for a tracing span, a scope, the
 * client's own semaphore and its statement cache (Effect-level, with a TTL) on every call:
 * ~20 µs of a ~180 µs `GET /posts/:slug`. In WAL mode a reader sees every committed write and
 * never waits for the writer.
 *
 * A `snapshot` (a reading that must be consistent across statements: `inkwell export`) is the
 * other way round: one read transaction on the client's connection, which every statement of
 * the pool it hands out runs in, reads included; the reader and its fast path are left as they are.
 */
import { SqlClient, SqlError, type Statement } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import Sqlite from "better-sqlite3"
import { Context, Duration, Effect, Exit, Layer, Schedule, Scope } from "effect"
import { DatabaseConfig } from "../Config.js"
import { DatabaseError, PoolTimeout } from "../Domain/Errors.js"
import { isSqlError, keepTransactionFailure, SQLITE_BUSY_TIMEOUT_MS } from "./SqlLive.js"
import { AcquireTimeout, FairSemaphore } from "./FairSemaphore.js"
import { isBusy } from "./Transient.js"

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
  /**
   * One read-only statement on its own (never inside a `transaction`: on SQLite it may run on
   * another connection, which does not see a transaction's uncommitted writes), holding a permit
   * like `use`. Rows come as the driver returns them (the pool's SqlClient has no row transforms).
   */
  readonly read: <A extends object>(
    operation: string,
    f: (sql: SqlClient.SqlClient) => Statement.Statement<A>
  ) => Effect.Effect<ReadonlyArray<A>, DatabaseError | PoolTimeout>
  /**
   * Like `use`, inside one transaction (committed on success, rolled back on failure or
   * interruption). On SQLite it holds the write lock from its start, waiting for it as long as
   * another process holds it, up to `SQLITE_BUSY_TIMEOUT_MS`, holding no permit between attempts.
   */
  readonly transaction: <A, E, R>(
    operation: string,
    f: (sql: SqlClient.SqlClient) => Effect.Effect<A, E | SqlError.SqlError, R>
  ) => Effect.Effect<A, Exclude<E, SqlError.SqlError> | DatabaseError | PoolTimeout, R>
  /**
   * Runs `f` on one snapshot of the database: one transaction on one connection (holding one
   * permit throughout), every statement of the pool `f` is given running in it, `read` included.
   * It sees the database as it was at its first statement, whatever is committed meanwhile, and
   * writers are not held up: SQLite in WAL mode fixes a reader's snapshot at its first read
   * (a deferred `BEGIN`), and PostgreSQL's is `REPEATABLE READ, READ ONLY`. For reads only
   * (PostgreSQL refuses a write; SQLite would take the write lock), and only within `f` (its
   * statements find the transaction in the fiber's context). Ended on every exit: committed on
   * success, rolled back on failure or interruption. SQLite's client has one connection, which
   * the snapshot holds: the client's other statements in this process wait for its end (another
   * process's, the server's beside `inkwell export`, do not).
   */
  readonly snapshot: <A, E, R>(
    operation: string,
    f: (pool: DatabasePoolShape) => Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | DatabaseError | PoolTimeout, R>
  readonly stats: Effect.Effect<PoolStats>
}

export interface DatabasePoolOptions {
  readonly maxConnections: number
  readonly acquireTimeout: Duration.DurationInput
}

/** Another connection holds SQLite's write lock: `BEGIN IMMEDIATE` failed with SQLITE_BUSY. */
class WriteLockBusy extends SqlError.SqlError {}

/**
 * Between attempts at SQLite's write lock: from 2 ms, doubling up to 50 ms, jittered (two
 * processes waiting do not try in step), for `SQLITE_BUSY_TIMEOUT_MS` in all.
 */
const SQLITE_WRITE_LOCK_RETRIES = Schedule.exponential("2 millis").pipe(
  Schedule.union(Schedule.spaced("50 millis")),
  Schedule.jittered,
  Schedule.upTo(Duration.millis(SQLITE_BUSY_TIMEOUT_MS))
)

/**
 * SQLite's write transactions: `BEGIN IMMEDIATE`, the write lock taken before the first read.
 * Under the client's deferred `BEGIN`, a transaction that read, then wrote while another process
 * (`inkwell import` beside the server) held the lock failed at once with SQLITE_BUSY: SQLite
 * calls no busy handler for a reader that would become a writer, so no busy timeout applied.
 *
 * One attempt: fails with `WriteLockBusy` when another connection holds the lock; the body runs
 * only once BEGIN succeeded. COMMIT and ROLLBACK errors are failures, not defects, and a ROLLBACK
 * failing after the body failed (SQLite rolled back by itself) keeps the body's failure, as for
 * the client's own transactions (`keepTransactionFailure`).
 */
const sqliteWriteAttempt = (sql: SqlClient.SqlClient) => {
  const run = (conn: Connection, text: string) => conn.executeUnprepared(text, [], undefined)
  return keepTransactionFailure(SqlClient.makeWithTransaction({
    transactionTag: SqlClient.TransactionConnection,
    spanAttributes: [["db.system.name", "sqlite"]],
    // BEGIN here rather than in `begin`: a failed `begin` is followed by a ROLLBACK, which fails
    // (no transaction is active) and would hide the SQLITE_BUSY.
    acquireConnection: Effect.flatMap(Scope.make(), (scope) =>
      Scope.extend(sql.reserve, scope).pipe(
        Effect.tap((conn) =>
          Effect.mapError(run(conn, "BEGIN IMMEDIATE"), (error) =>
            isBusy(error) ? new WriteLockBusy({ cause: error.cause, message: "another connection holds the write lock" }) : error)
        ),
        Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause))),
        Effect.map((conn) => [scope, conn] as const)
      )),
    begin: () => Effect.void,
    savepoint: (conn, id) => run(conn, `SAVEPOINT effect_sql_${id}`),
    commit: (conn) => run(conn, "COMMIT"),
    rollback: (conn) => run(conn, "ROLLBACK"),
    rollbackSavepoint: (conn, id) => run(conn, `ROLLBACK TO SAVEPOINT effect_sql_${id}`)
  }))
}

/**
 * Tries `attempt` again while another connection holds the write lock. The lock is waited for
 * here, on a schedule (`SQLITE_WRITE_LOCK_RETRIES`), not in the driver's busy handler, which
 * sleeps in the event loop's thread: the process goes on answering meanwhile.
 */
const retryWhileWriteLockBusy = <A, E, R>(attempt: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.retry(attempt, { while: (error) => error instanceof WriteLockBusy, schedule: SQLITE_WRITE_LOCK_RETRIES })

/**
 * `withTransaction` for SQLite writes outside the pool (the migrator's): `BEGIN IMMEDIATE`,
 * waiting for the write lock asynchronously up to `SQLITE_BUSY_TIMEOUT_MS`.
 */
export const sqliteWriteTransaction = (sql: SqlClient.SqlClient) => {
  const attempt = sqliteWriteAttempt(sql)
  return <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError.SqlError, R> =>
    retryWhileWriteLockBusy(attempt(effect))
}

/** Runs a compiled read-only statement synchronously (throws what the driver throws). */
export interface SyncReader {
  readonly all: (sql: string, params: ReadonlyArray<unknown>) => ReadonlyArray<unknown>
  readonly close: () => void
}

/** Prepared statements kept by a reader; statements come from code, so this is never reached in practice. */
const READER_STATEMENTS = 200

/**
 * A read-only better-sqlite3 connection to `filename`, with its prepared statements. The busy
 * timeout is the writer's (SqlLive): a WAL reader only waits while a checkpoint truncates the log.
 */
export const sqliteReader = (filename: string, busyTimeoutMs: number): SyncReader => {
  const db = new Sqlite(filename, { readonly: true, fileMustExist: true })
  db.pragma(`busy_timeout = ${busyTimeoutMs}`)
  const statements = new Map<string, Sqlite.Statement>()
  return {
    all: (text, params) => {
      let statement = statements.get(text)
      if (statement === undefined) {
        if (statements.size >= READER_STATEMENTS) statements.clear()
        statement = db.prepare(text)
        if (!statement.reader) throw new Error(`not a read-only statement: ${text}`)
        statements.set(text, statement)
      }
      return statement.all(...params)
    },
    close: () => db.close()
  }
}

/** The file a SQLite client was opened on, when it is one (not `:memory:`, not another dialect). */
const sqliteFile = (sql: SqlClient.SqlClient): string | undefined => {
  const filename = sql.onDialectOrElse({
    sqlite: () => (sql as unknown as { readonly config?: { readonly filename?: unknown } }).config?.filename,
    orElse: () => undefined
  })
  if (typeof filename !== "string" || filename.length === 0) return undefined
  return filename === ":memory:" || filename.startsWith("file::memory:") || filename.includes("mode=memory") ? undefined : filename
}

/**
 * The pool's own copy of a client, which may be a host's (`DatabasePool.layer` over the
 * embedding app's `SqliteClient.layer` or `PgClient.layer`): without the client's name transforms,
 * since the repositories' row schemas read columns as the database names them (`created_at`; a
 * host's `transformResultNames: snakeToCamel` made every read fail to decode), and with COMMIT and
 * ROLLBACK failures as `SqlError`s (`keepTransactionFailure`), which SqlLive gives only the clients
 * it builds: through a host's client a failing COMMIT was a defect, not a `DatabaseError`. A copy,
 * as Migrations makes one: the host's client is shared and stays as it was.
 */
const poolClient = (client: SqlClient.SqlClient): SqlClient.SqlClient => {
  const plain = client.withoutTransforms()
  return Object.assign(
    (...args: Parameters<SqlClient.SqlClient>) => plain(...args),
    plain,
    { withTransaction: keepTransactionFailure(plain.withTransaction) }
  )
}

/**
 * Builds a pool around an existing SqlClient. With `reader` (a SQLite file's read-only
 * connection), `read` runs there; the caller owns its lifetime (`layer` closes it with the pool).
 */
export const make = (client: SqlClient.SqlClient, options: DatabasePoolOptions, reader?: SyncReader): DatabasePoolShape => {
  const sql = poolClient(client)
  // Never admit more operations than the driver has connections, however the two were configured.
  const driverMax = sql.onDialectOrElse({
    pg: () => (sql as unknown as { readonly config?: { readonly maxConnections?: number } }).config?.maxConnections,
    orElse: () => undefined
  })
  const maxConnections = Math.min(options.maxConnections, driverMax ?? options.maxConnections)
  const guard = new FairSemaphore(maxConnections, { acquireTimeout: options.acquireTimeout })
  const dialect: Dialect = sql.onDialectOrElse({ pg: () => "pg" as const, orElse: () => "sqlite" as const })

  /** The driver's `SqlError` as the `DatabaseError` of `operation`. */
  const asDatabaseError = <A, E, R>(
    operation: string,
    effect: Effect.Effect<A, E | SqlError.SqlError, R>
  ): Effect.Effect<A, Exclude<E, SqlError.SqlError> | DatabaseError, R> =>
    Effect.catchIf(effect, isSqlError, (cause) => Effect.fail(new DatabaseError({ operation, cause }))) as Effect.Effect<
      A,
      Exclude<E, SqlError.SqlError> | DatabaseError,
      R
    >

  /** `effect`, holding a permit, with its errors as the pool's. */
  const guarded = <A, E, R>(
    operation: string,
    effect: Effect.Effect<A, E | SqlError.SqlError, R>
  ): Effect.Effect<A, Exclude<E, SqlError.SqlError> | DatabaseError | PoolTimeout, R> =>
    asPoolErrors(operation, guard.withPermit(effect))

  /** The driver's errors and the guard's as the pool's: `DatabaseError` and `PoolTimeout`. */
  const asPoolErrors = <A, E, R>(
    operation: string,
    effect: Effect.Effect<A, E | SqlError.SqlError | AcquireTimeout, R>
  ): Effect.Effect<A, Exclude<E, SqlError.SqlError> | DatabaseError | PoolTimeout, R> =>
    asDatabaseError(operation, effect).pipe(
      Effect.catchIf(
        (e): e is AcquireTimeout => e instanceof AcquireTimeout,
        (e) => Effect.fail(new PoolTimeout({ waitedMs: e.waitedMs, maxConnections }))
      )
    ) as Effect.Effect<A, Exclude<E, SqlError.SqlError> | DatabaseError | PoolTimeout, R>

  const readSync = (operation: string, text: string, params: ReadonlyArray<unknown>, reader: SyncReader) => {
    try {
      return Effect.succeed(reader.all(text, params))
    } catch (cause) {
      return Effect.fail(new DatabaseError({ operation, cause: new SqlError.SqlError({ cause, message: "Failed to execute statement" }) }))
    }
  }

  const read = <A extends object>(
    operation: string,
    f: (sql: SqlClient.SqlClient) => Statement.Statement<A>
  ): Effect.Effect<ReadonlyArray<A>, DatabaseError | PoolTimeout> =>
    Effect.suspend(() => {
      const statement = f(sql)
      if (reader === undefined) return guarded(operation, statement)
      const [text, params] = statement.compile()
      // A free permit and nobody waiting: held only while the statement runs, in this turn.
      if (guard.tryTake()) {
        try {
          return readSync(operation, text, params, reader) as Effect.Effect<ReadonlyArray<A>, DatabaseError>
        } finally {
          guard.releaseTaken()
        }
      }
      return guarded(operation, Effect.suspend(() => readSync(operation, text, params, reader))) as Effect.Effect<
        ReadonlyArray<A>,
        DatabaseError | PoolTimeout
      >
    })

  const stats = Effect.sync(() => {
    const s = guard.stats
    return {
      inUse: s.inUse,
      waiting: s.waiting,
      totalAcquired: s.totalAcquired,
      timeouts: s.timeouts,
      maxConnections: s.permits
    }
  })

  /**
   * The pool inside a snapshot: statements run through the client, which finds the snapshot's
   * connection in the fiber's context (not on the reader, which would see later commits), and
   * take no permit of their own (the snapshot holds one for its connection: another could wait
   * for ever on a pool of one). A `transaction` in it is a savepoint.
   */
  const snapshotPool: DatabasePoolShape = {
    dialect,
    maxConnections,
    use: (operation, f) => asDatabaseError(operation, Effect.suspend(() => f(sql))),
    read: (operation, f) => asDatabaseError(operation, Effect.suspend(() => f(sql))),
    transaction: (operation, f) => asDatabaseError(operation, sql.withTransaction(Effect.suspend(() => f(sql)))),
    snapshot: (_operation, f) => Effect.suspend(() => f(snapshotPool)),
    stats
  }
  const sqliteAttempt = dialect === "sqlite" ? sqliteWriteAttempt(sql) : undefined
  /**
   * On SQLite each attempt at the write lock takes a permit and gives it back when the lock is
   * busy: a writer waiting up to `SQLITE_BUSY_TIMEOUT_MS` for another process held one throughout,
   * so a few of them starved every read (reads share the permits) into `PoolTimeout`.
   */
  const transaction: DatabasePoolShape["transaction"] = (operation, f) =>
    sqliteAttempt === undefined
      ? guarded(operation, sql.withTransaction(Effect.suspend(() => f(sql))))
      : asPoolErrors(operation, retryWhileWriteLockBusy(guard.withPermit(sqliteAttempt(Effect.suspend(() => f(sql))))))
  // Before any other statement of the transaction: PostgreSQL takes the snapshot at the first query.
  const beginSnapshot: Effect.Effect<unknown, SqlError.SqlError> = dialect === "pg"
    ? Effect.suspend(() => sql.unsafe("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
    : Effect.void

  return {
    dialect,
    maxConnections,
    use: (operation, f) => guarded(operation, Effect.suspend(() => f(sql))),
    read,
    transaction,
    snapshot: (operation, f) =>
      guarded(operation, sql.withTransaction(Effect.zipRight(beginSnapshot, Effect.suspend(() => f(snapshotPool))))),
    stats
  }
}

export class DatabasePool extends Context.Tag("Inkwell/DatabasePool")<DatabasePool, DatabasePoolShape>() {
  /** A pool over the SqlClient in context; the client's own layer owns the connection's lifetime. */
  static readonly layer = (options: DatabasePoolOptions): Layer.Layer<DatabasePool, never, SqlClient.SqlClient> =>
    Layer.scoped(
      DatabasePool,
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const file = sqliteFile(sql)
        // Without a reader (in-memory database, PostgreSQL, or it could not be opened) `read` uses the client.
        const reader = file === undefined
          ? undefined
          : yield* Effect.acquireRelease(
            Effect.try(() => sqliteReader(file, SQLITE_BUSY_TIMEOUT_MS)).pipe(
              Effect.tapError((cause) => Effect.logWarning("DatabasePool: no read-only SQLite connection; reads use the client", cause)),
              Effect.orElseSucceed(() => undefined)
            ),
            (reader) => Effect.sync(() => reader?.close())
          )
        return make(sql, options, reader)
      })
    )

  /** As `layer`, with `DB_MAX_CONNECTIONS` and `DB_ACQUIRE_TIMEOUT` from config. */
  static readonly layerConfig = Layer.unwrapEffect(
    Effect.map(DatabaseConfig, (config) =>
      DatabasePool.layer({ maxConnections: config.maxConnections, acquireTimeout: config.acquireTimeout }))
  )
}
