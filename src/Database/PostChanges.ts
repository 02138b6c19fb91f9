/**
 * PostChanges: "the post at this slug changed", told to every Inkwell process on one database,
 * so a per-process cache can drop what it holds.
 *
 * On PostgreSQL a change is a `NOTIFY` on the channel `inkwell_post_changes`; every process keeps
 * one dedicated connection (outside the pool) that `LISTEN`s. Notifications sent while that
 * connection is down are lost: when it is lost subscribers get `Lost` (whatever they hold may go
 * stale unannounced from now on), and after a reconnect `Reset` (drop everything, trust again).
 * On SQLite there is one process per database file, so an in-process PubSub does the same job.
 *
 * Delivery is at most once per subscriber and asynchronous (the publisher's own process hears
 * its change too, via the database). On PostgreSQL a write announces its changes inside its own
 * transaction (`publishInTransaction`): PostgreSQL delivers them exactly when it commits, and
 * they cannot be lost between the commit and a NOTIFY of their own (which took a pool permit
 * that a busy pool did not give within DB_ACQUIRE_TIMEOUT, or met a connection a failover had
 * closed, or never came when the process died). `publish` is for after a commit, never inside
 * `DatabasePool.transaction`: it takes a pool permit of its own.
 */
import type { SqlClient, SqlError } from "@effect/sql"
import { Context, Data, Deferred, Duration, Effect, Either, Layer, Option, PubSub, Queue, Redacted, Ref, Schedule, type Scope, Stream } from "effect"
import pg from "pg"
import { DatabaseConfig } from "../Config.js"
import type { RepositoryError } from "../Domain/Errors.js"
import { DatabasePool, type DatabasePoolShape } from "./DatabasePool.js"
import { type DatabaseUrlInvalid, parseDatabaseUrl } from "./SqlLive.js"
import { describeFailure } from "../Domain/describeFailure.js"

/** Published for bulk writes (imports): every post may have changed. */
export const ALL_POSTS = "*"

/** The PostgreSQL channel every process listens on. */
export const CHANNEL = "inkwell_post_changes"

/** How long the first LISTEN connection may take before the layer fails. */
export const LISTEN_CONNECT_TIMEOUT = Duration.seconds(5)

/**
 * How the LISTEN connection is checked while it is idle: a `SELECT 1` every `probeInterval`, and
 * a connection that does not answer within `probeTimeout` is dropped and opened again (and
 * subscribers get `Reset`). A connection dropped without a word (a NAT or firewall forgetting it,
 * a failover) otherwise went unnoticed for the kernel's keepalive probes, ~12 minutes on Linux,
 * while every change other processes announced was lost.
 */
export interface ListenOptions {
  readonly probeInterval?: Duration.DurationInput
  readonly probeTimeout?: Duration.DurationInput
}
export const DEFAULT_PROBE_INTERVAL = Duration.seconds(30)
export const DEFAULT_PROBE_TIMEOUT = Duration.seconds(10)

/** Reconnecting the listener: 100 ms doubling, at most every 5 seconds, forever. */
export const RECONNECT_SCHEDULE = Schedule.exponential("100 millis").pipe(
  Schedule.union(Schedule.spaced("5 seconds"))
)

export type PostChange = Data.TaggedEnum<{
  /**
   * The post at `slug` was created, updated, deleted, or renamed from or to it; or an import
   * made `slug`, where no post was, redirect to one. Where an existing redirect leads (its post
   * moved on) is not announced: no cache keeps a redirect.
   */
  Changed: { readonly slug: string }
  /**
   * The LISTEN connection is lost: changes are not heard until the next `Reset`, which may never
   * come while the database cannot be reached. Keep nothing that depends on hearing them.
   */
  Lost: {}
  /** Changes may have been missed (the listener reconnected): treat every post as changed. */
  Reset: {}
}>
export const PostChange = Data.taggedEnum<PostChange>()

export class ListenFailed extends Data.TaggedError("ListenFailed")<{ readonly cause: unknown }> {
  override get message() {
    return `cannot LISTEN on ${CHANNEL}`
  }
}

export interface PostChangesShape {
  readonly backend: "pg" | "memory"
  /** Tells every process (this one included) that the post at `slug` changed. Call after commit. */
  readonly publish: (slug: string) => Effect.Effect<void, RepositoryError>
  /**
   * As `publish` for each of `slugs`, from inside the caller's transaction, on its client (the
   * `sql` that `DatabasePool.transaction` hands out): told when the transaction commits, never if
   * it rolls back, and needing no permit of its own. PostgreSQL only: in memory a publish after
   * commit cannot be lost.
   */
  readonly publishInTransaction?: (sql: SqlClient.SqlClient, slugs: ReadonlyArray<string>) => Effect.Effect<void, SqlError.SqlError>
  /** Changes from now on; subscribed once this returns, unsubscribed when the scope closes. */
  readonly subscribe: Effect.Effect<Queue.Dequeue<PostChange>, never, Scope.Scope>
  /** As `subscribe`, as a stream (subscribed when the stream starts running). */
  readonly changes: Stream.Stream<PostChange>
}

const fromHub = (hub: PubSub.PubSub<PostChange>) => ({
  subscribe: PubSub.subscribe(hub),
  changes: Stream.fromPubSub(hub)
})

/** One process, one database: an in-process PubSub. */
const makeMemory = Effect.gen(function*() {
  const hub = yield* Effect.acquireRelease(PubSub.unbounded<PostChange>(), PubSub.shutdown)
  return {
    backend: "memory",
    publish: (slug: string) => PubSub.publish(hub, PostChange.Changed({ slug })).pipe(Effect.asVoid),
    ...fromHub(hub)
  } satisfies PostChangesShape
})

/**
 * One LISTEN session on its own connection, as a stream of changes that fails when the
 * connection is lost. `onListening` runs once LISTEN is in effect.
 */
const listenSession = (
  url: Redacted.Redacted,
  options: ListenOptions,
  onListening: (emit: (change: PostChange) => void) => Effect.Effect<void>
) =>
  Stream.asyncPush<PostChange, ListenFailed>((emit) =>
    Effect.gen(function*() {
      const client = yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: async () => {
            const client = new pg.Client({
              connectionString: Redacted.value(url),
              application_name: "inkwell-listen",
              connectionTimeoutMillis: Duration.toMillis(LISTEN_CONNECT_TIMEOUT),
              // The kernel's probes alone notice a silently dropped connection after ~12 minutes
              // (Linux: 75 s x 9 after the first 30 s); the session's own probe (below) does sooner.
              keepAlive: true,
              keepAliveInitialDelayMillis: 30_000
            })
            client.on("error", (cause) => emit.fail(new ListenFailed({ cause })))
            client.on("end", () => emit.fail(new ListenFailed({ cause: "connection closed" })))
            await client.connect()
            return client
          },
          catch: (cause) => new ListenFailed({ cause })
        }),
        (client) =>
          Effect.promise(() => client.end().catch(() => undefined)).pipe(
            Effect.timeoutOption("1 second"),
            // A connection that stopped answering never acknowledges the goodbye: close the socket.
            Effect.tap((ended) => Option.isNone(ended) ? Effect.sync(() => destroySocket(client)) : Effect.void)
          )
      )
      client.on("notification", (message) => {
        if (message.channel === CHANNEL && message.payload !== undefined && message.payload.length > 0) {
          emit.single(PostChange.Changed({ slug: message.payload }))
        }
      })
      yield* Effect.tryPromise({
        try: () => client.query(`LISTEN ${CHANNEL}`),
        catch: (cause) => new ListenFailed({ cause })
      })
      yield* onListening((change) => emit.single(change))
      const timeout = Duration.decode(options.probeTimeout ?? DEFAULT_PROBE_TIMEOUT)
      const probe = Effect.tryPromise({ try: () => client.query("SELECT 1"), catch: (cause) => new ListenFailed({ cause }) }).pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => new ListenFailed({ cause: `no answer to a liveness probe within ${Duration.format(timeout)}` })
        })
      )
      yield* probe.pipe(
        Effect.delay(options.probeInterval ?? DEFAULT_PROBE_INTERVAL),
        Effect.forever,
        Effect.catchAll((error) => Effect.sync(() => emit.fail(error))),
        Effect.forkScoped
      )
    })
  )

/** The client's socket, destroyed (pg keeps it as `connection.stream`). */
const destroySocket = (client: pg.Client) =>
  (client as unknown as { readonly connection?: { readonly stream?: { destroy(): void } } }).connection?.stream?.destroy()

const notify = (pool: DatabasePoolShape) => (slug: string) =>
  pool.use("PostChanges.publish", (sql) => sql`SELECT pg_notify(${CHANNEL}, ${slug})`).pipe(Effect.asVoid)

/**
 * One NOTIFY per slug, in one statement on the caller's transaction. The payloads are the
 * slugs (or ALL_POSTS) as `publish` sends them: a listener of any version hears the same.
 * PostgreSQL folds a payload sent twice in one transaction into one.
 */
const notifyInTransaction = (sql: SqlClient.SqlClient, slugs: ReadonlyArray<string>) =>
  slugs.length === 0
    ? Effect.void
    : Effect.asVoid(sql`SELECT pg_notify(${CHANNEL}, slug) FROM unnest(${slugs}::text[]) AS slug`)

/**
 * PostgreSQL, for a process that only writes (`inkwell import`): NOTIFY through the pool and no
 * LISTEN connection; it hears nothing, not even its own changes.
 */
const makePgPublisher = Effect.gen(function*() {
  const pool = yield* DatabasePool
  const hub = yield* Effect.acquireRelease(PubSub.unbounded<PostChange>(), PubSub.shutdown)
  return { backend: "pg", publish: notify(pool), publishInTransaction: notifyInTransaction, ...fromHub(hub) } satisfies PostChangesShape
})

/** PostgreSQL: NOTIFY through the pool, LISTEN on a dedicated connection that reconnects. */
const makePg = (url: Redacted.Redacted, options: ListenOptions) =>
  Effect.gen(function*() {
    const pool = yield* DatabasePool
    const hub = yield* Effect.acquireRelease(PubSub.unbounded<PostChange>(), PubSub.shutdown)
    const listening = yield* Deferred.make<void>()
    const connectedBefore = yield* Ref.make(false)

    const session = listenSession(url, options, (emit) =>
      Effect.gen(function*() {
        // Anything sent between losing the old connection and this LISTEN is gone.
        if (yield* Ref.getAndSet(connectedBefore, true)) emit(PostChange.Reset())
        yield* Deferred.succeed(listening, undefined)
      }))

    yield* session.pipe(
      Stream.tapError((error) =>
        Effect.logWarning(`PostChanges: LISTEN connection lost (${describeFailure(error.cause)}); reconnecting`).pipe(
          // Told at once, not at the reconnect: that may take as long as the database is away.
          Effect.zipRight(PubSub.publish(hub, PostChange.Lost()))
        )
      ),
      Stream.retry(RECONNECT_SCHEDULE),
      Stream.runForEach((change) => PubSub.publish(hub, change)),
      Effect.forkScoped
    )
    // Changes published after the layer is built must reach its subscribers: wait for LISTEN.
    yield* Deferred.await(listening).pipe(
      Effect.timeoutFail({
        duration: LISTEN_CONNECT_TIMEOUT,
        onTimeout: () => new ListenFailed({ cause: `no LISTEN connection after ${Duration.format(LISTEN_CONNECT_TIMEOUT)}` })
      })
    )

    return {
      backend: "pg",
      publish: notify(pool),
      publishInTransaction: notifyInTransaction,
      ...fromHub(hub)
    } satisfies PostChangesShape
  })

export class PostChanges extends Context.Tag("Inkwell/PostChanges")<PostChanges, PostChangesShape>() {
  /** Change notification for the database at `url` (a `DATABASE_URL` value). */
  static readonly layer = (
    url: string,
    options: ListenOptions = {}
  ): Layer.Layer<PostChanges, DatabaseUrlInvalid | ListenFailed, DatabasePool> =>
    Either.match(parseDatabaseUrl(url), {
      onLeft: (error) => Layer.fail(error),
      onRight: (target) => Layer.scoped(PostChanges, target.dialect === "pg" ? makePg(target.url, options) : makeMemory)
    })

  /** As `layer`, for `DATABASE_URL`. */
  static readonly layerConfig = Layer.unwrapEffect(Effect.map(DatabaseConfig, (config) => PostChanges.layer(config.url)))

  /** For a process that writes and does not cache: publishes like `layer`, opens no LISTEN connection. */
  static readonly publisher = (url: string): Layer.Layer<PostChanges, DatabaseUrlInvalid, DatabasePool> =>
    Either.match(parseDatabaseUrl(url), {
      onLeft: (error) => Layer.fail(error),
      onRight: (target) => Layer.scoped(PostChanges, target.dialect === "pg" ? makePgPublisher : makeMemory)
    })

  /** As `publisher`, for `DATABASE_URL`. */
  static readonly publisherConfig = Layer.unwrapEffect(
    Effect.map(DatabaseConfig, (config) => PostChanges.publisher(config.url))
  )
}
