/**
 * The ONE place the application's layers are composed, in dependency order:
 *
 *   config → SqlLive → migrations → DatabasePool ─┬→ SqlPostRepository ─→ announcing ─┬─→ reader site ─────┐
 *                                                 └→ PostChanges ───────────┘       │                   │
 *                                                                PostProcessor ─────┴─→ Posts → HTTP API ─┴→ HTTP server
 *                                                                    FeedClient (import-url) ─┘
 *
 * PostChanges and the pool also reach the HTTP server, whose response cache follows them.
 *
 * Each layer is a named constant built once; an embedding app replaces any of them
 * (see `postsWith` and `Server.handlersFor`). `AppLive` reads its configuration before building any
 * of them (`ServerSettings`).
 */
import { Cause, Config, ConfigError, Effect, Layer } from "effect"
import { FeedClient } from "./Clients/FeedClient.js"
import { FeedAllowPrivateConfig, FeedClientConfig } from "./Clients/FeedClientOptions.js"
import { DatabaseConfig, ProcessorConfig } from "./Config.js"
import { DatabasePool } from "./Database/DatabasePool.js"
import * as Migrations from "./Database/Migrations.js"
import * as PgRequirements from "./Database/PgRequirements.js"
import { PostChanges } from "./Database/PostChanges.js"
import * as SqlLive from "./Database/SqlLive.js"
import { describeFailure as causeWords } from "./Domain/describeFailure.js"
import { isUnreachable } from "./Database/Transient.js"
import { ApiKeys } from "./Http/ApiKeys.js"
import * as HttpConfig from "./Http/HttpConfig.js"
import * as Logging from "./Http/Logging.js"
import * as Server from "./Http/Server.js"
import { ImportConfig } from "./Import/ImportConfig.js"
import { PostProcessor } from "./Processing/PostProcessor.js"
import * as AnnouncingPostRepository from "./Posts/AnnouncingPostRepository.js"
import type { PostRepository } from "./Posts/PostRepository.js"
import { Posts } from "./Posts/Posts.js"
import * as SqlPostRepository from "./Posts/SqlPostRepository.js"
import * as SiteRoutes from "./Site/Routes.js"
import { SiteConfigFromEnv } from "./Site/SiteConfig.js"

/** LOG_FORMAT and LOG_LEVEL: json and logfmt one line per entry, pretty Effect's text for a terminal; all written in batches, bounded behind a stalled reader. */
export const LoggerLive = Logging.layerConfig

/** The SqlClient for DATABASE_URL, migrated before anything else may use it. */
export const SqlMigrated = Migrations.layer.pipe(
  Layer.provideMerge(PgRequirements.layer),
  Layer.provideMerge(SqlLive.layerConfig)
)

/** The pool over the migrated database (DB_MAX_CONNECTIONS, DB_ACQUIRE_TIMEOUT). */
export const DatabaseLive = DatabasePool.layerConfig.pipe(Layer.provide(SqlMigrated))

/**
 * The pool over a database someone else migrates (DB_MAX_CONNECTIONS, DB_ACQUIRE_TIMEOUT): its
 * migrations checked (`MigrationFailed` names those missing), never run. For a reader
 * (`inkwell export`, `reprocess --dry-run`): it may be pointed at a read-only database (an
 * SQLite file the user may only read is opened read-only) or a standby, and an old database is
 * not changed by being read.
 */
export const VerifiedDatabaseLive = DatabasePool.layerConfig.pipe(
  Layer.provide(Layer.effectDiscard(Migrations.verify()).pipe(Layer.provideMerge(SqlLive.layerConfigReadOnly)))
)

/**
 * `Posts` over any repository (the SQL one below, or one an embedding app supplies), and that
 * repository: the import endpoints write through the one `Posts` uses, and find it among the
 * server's layers. Provided privately, it left them answering 500 in the README's embedding.
 */
export const postsWith = <E, R>(repository: Layer.Layer<PostRepository, E, R>) =>
  Posts.Default.pipe(Layer.provideMerge(repository), Layer.provide(PostProcessor.layerConfig))

/** "This post changed", told to every process on the database (LISTEN/NOTIFY on PostgreSQL). */
export const ChangesLive = PostChanges.layerConfig.pipe(Layer.provide(DatabaseLive))

/**
 * The SQL repository over the pool, announcing its writes on PostChanges: one instance, shared
 * by `Posts`, the reader site and `inkwell import`.
 */
export const RepositoryLive = AnnouncingPostRepository.layer.pipe(
  Layer.provide(SqlPostRepository.layer),
  Layer.provide(Layer.merge(DatabaseLive, ChangesLive))
)

/**
 * The same repository for a process that only writes (`inkwell import`): it announces its writes
 * but opens no LISTEN connection of its own.
 */
export const WritingRepositoryLive = AnnouncingPostRepository.layer.pipe(
  Layer.provide(SqlPostRepository.layer),
  Layer.provide(Layer.merge(DatabaseLive, PostChanges.publisherConfig.pipe(Layer.provide(DatabaseLive))))
)

/**
 * The repository for `inkwell import --dry-run` over the SqlClient in context: the database as
 * it is, never migrated (a dry run writes nothing; the caller checks the migrations first), and
 * announcing nothing (its batches are rolled back).
 */
export const DryRunRepositoryLive = SqlPostRepository.layer.pipe(Layer.provide(DatabasePool.layerConfig))

/** `Posts` over SQL, through the pool. */
export const PostsLive = postsWith(RepositoryLive)

/**
 * Every setting the layers of `AppLive` read (LOG_* aside: `LoggerLive` is built before it).
 * Each layer reads its own when it is built, and a layer is built after what it needs: PORT,
 * read by the server, came last, once the SQLite file had been created and migrated. Read all
 * together first, a bad value stops the start before anything is opened, and every bad value
 * is named at once. A variable a layer of `AppLive` reads belongs here too (test/App.test.ts).
 */
export const ServerSettings = Config.all([
  HttpConfig.ServerConfig,
  HttpConfig.MiddlewareConfig,
  HttpConfig.ResponseCacheConfig,
  HttpConfig.CompressionConfig,
  HttpConfig.requestSpans,
  HttpConfig.apiKeys,
  DatabaseConfig,
  ProcessorConfig,
  SiteConfigFromEnv,
  ImportConfig,
  FeedClientConfig,
  FeedAllowPrivateConfig
])

/**
 * What `POST /posts/import-url` fetches with: FEED_* settings, refusing the server's own network
 * unless FEED_ALLOW_PRIVATE (the URLs are the caller's choice). An embedding app provides its own.
 */
export const ImportFeedsLive = FeedClient.Server

/** The HTTP server (API, docs and reader site) with everything it needs. */
export const AppLive = Layer.unwrapEffect(
  Effect.as(
    ServerSettings,
    Server.layer.pipe(
      Layer.provide(SiteRoutes.layerConfig),
      Layer.provide(PostsLive),
      Layer.provide(ImportFeedsLive),
      Layer.provide(RepositoryLive),
      Layer.provide(ApiKeys.layerConfig),
      // The response cache drops what PostChanges announces and (SQLite) follows other processes' commits.
      Layer.provide(Layer.merge(ChangesLive, DatabaseLive))
    )
  )
)

/** One line saying why start-up failed: the port, the configuration, or the database. */
export const describeFailure = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  if (ConfigError.isConfigError(error)) return `invalid configuration: ${oneLine(String(error))}`
  if (typeof error === "object" && error !== null && "_tag" in error) {
    const tagged = error as { readonly _tag: string; readonly message?: string; readonly cause?: unknown }
    const detail = (value: unknown) => oneLine(value instanceof Error ? value.message : String(value))
    switch (tagged._tag) {
      case "ServeError":
        return `cannot listen: ${detail(tagged.cause)}`
      // Its message names DATABASE_URL and what it lacks: the setting is wrong, not the database.
      case "DatabaseUrlInvalid":
        return `invalid configuration: ${oneLine(tagged.message ?? "")}`
      // Reached, but set up so that Inkwell would serve it wrongly: the message says what to change.
      case "DatabaseUnsupported":
        return `unsupported database: ${oneLine(tagged.message ?? "")}`
      // Its message carries the database's own reason; "unavailable" only when it could not be
      // reached (a database that answered "relation already exists" is there, and refused).
      case "MigrationFailed":
        return isUnreachable(tagged.cause) ? `database unavailable: ${oneLine(tagged.message ?? "")}` : oneLine(tagged.message ?? "")
      // A statement that failed once the database was open (an export's or a reprocess's read
      // stopped by DB_STATEMENT_TIMEOUT, its connection killed): the operation, then why.
      case "DatabaseError":
        return tagged.cause === undefined
          ? oneLine(tagged.message ?? "")
          : `${oneLine(tagged.message ?? "")}: ${oneLine(causeWords(tagged.cause))}`
      case "DatabaseOpenFailed":
      case "ListenFailed":
      case "SqlError":
        // A problem is said whole, naming the path (a permission missing, a file that is not a
        // database): the driver's words after it would only repeat it less clearly.
        return ("problem" in tagged && tagged.problem !== undefined) || tagged.cause === undefined
          ? `database unavailable: ${oneLine(tagged.message ?? "")}`
          : `database unavailable: ${oneLine(tagged.message ?? "")} (${detail(tagged.cause)})`
    }
  }
  return oneLine(error instanceof Error ? error.message : String(error))
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, " ").trim()
