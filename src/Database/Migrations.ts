/**
 * Schema migrations, run with @effect/sql's Migrator on SQLite and PostgreSQL alike.
 *
 * The v3 migrator turns a failed bookkeeping insert into "Migrations already running", logs it
 * at debug level and returns `[]`, so a run that applied nothing looks like success. After every
 * run we therefore read the bookkeeping table back and fail with `MigrationFailed` unless every
 * known migration is recorded.
 */
import { Migrator, SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql"
import { Data, Effect, Layer } from "effect"
import createPosts from "./migrations/0001_create_posts.js"
import postAliases from "./migrations/0002_post_aliases.js"
import slugRedirects from "./migrations/0003_slug_redirects.js"
import tagKeys from "./migrations/0004_tag_keys.js"
import postSearch from "./migrations/0005_post_search.js"
import searchWords from "./migrations/0006_search_words.js"
import searchUnicode from "./migrations/0007_search_unicode.js"
import searchTags from "./migrations/0008_search_tags.js"
import tagListing from "./migrations/0009_tag_listing.js"
import nfcOldAddresses from "./migrations/0010_nfc_old_addresses.js"
import searchOwnWords from "./migrations/0011_search_own_words.js"
import searchSymbolsApart from "./migrations/0012_search_symbols_apart.js"
import { ensureBookkeeping } from "./migrations/bookkeeping.js"
import { sqliteWriteTransaction } from "./DatabasePool.js"
import { describeFailure } from "../Domain/describeFailure.js"

/**
 * Every migration, keyed `NNNN_name` (the loader silently skips keys without the numeric prefix).
 * Append only: the migrator skips ids at or below the newest one recorded.
 */
export const migrations = {
  "0001_create_posts": createPosts,
  "0002_post_aliases": postAliases,
  "0003_slug_redirects": slugRedirects,
  "0004_tag_keys": tagKeys,
  "0005_post_search": postSearch,
  "0006_search_words": searchWords,
  "0007_search_unicode": searchUnicode,
  "0008_search_tags": searchTags,
  "0009_tag_listing": tagListing,
  "0010_nfc_old_addresses": nfcOldAddresses,
  "0011_search_own_words": searchOwnWords,
  "0012_search_symbols_apart": searchSymbolsApart
} satisfies Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>>

/** Own bookkeeping table, so an embedding app's `effect_sql_migrations` never hides ours. */
export const MIGRATIONS_TABLE = "inkwell_migrations"

export class MigrationFailed extends Data.TaggedError("MigrationFailed")<{
  readonly reason: string
  /** Migrations (`NNNN_name`) not recorded after the run. */
  readonly missing: ReadonlyArray<string>
  readonly cause?: unknown
}> {
  override get message() {
    return this.missing.length > 0
      ? `database migrations not applied: ${this.missing.join(", ")} (${this.reason})`
      : `database migrations failed: ${this.reason}`
  }
}

/**
 * The database records a migration this version does not know, past its newest: a newer Inkwell
 * migrated it. Served as it is, the newer schema's rows were read and written by code that does
 * not know what the newer migrations changed (a column, an index the newer writes rely on).
 */
export class MigratedByNewerVersion extends Data.TaggedError("MigratedByNewerVersion")<{
  /** The newest migration recorded in the database. */
  readonly recorded: { readonly id: number; readonly name: string }
  /** The newest migration this version knows. */
  readonly known: number
}> {
  override get message() {
    return `the database was migrated by a newer Inkwell (migration ${this.recorded.id} ${this.recorded.name}); ` +
      `this version knows up to ${this.known}: upgrade Inkwell, or restore a backup`
  }
}

const expectedIds = (record: Record<string, unknown>): ReadonlyArray<readonly [number, string]> =>
  Object.keys(record).flatMap((key) => {
    const match = /^(\d+)_(.+)$/.exec(key)
    return match ? [[Number(match[1]), key] as const] : []
  })

/**
 * Fails unless every migration of `record` is recorded in `table`, and none past the newest of
 * `record` (`MigratedByNewerVersion`): the server, `inkwell import` and `inkwell reprocess` run
 * this after migrating, `inkwell export` instead of it.
 */
export const verify = (
  record: Record<string, unknown> = migrations,
  table: string = MIGRATIONS_TABLE
): Effect.Effect<void, MigrationFailed | MigratedByNewerVersion, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ readonly migration_id: number | string; readonly name: string }>`
      SELECT migration_id, name FROM ${sql(table)}
    `.withoutTransform
    const recorded = new Set(rows.map((row) => Number(row.migration_id)))
    const expected = expectedIds(record)
    const missing = expected.filter(([id]) => !recorded.has(id)).map(([, key]) => key)
    if (missing.length > 0) {
      return yield* new MigrationFailed({
        reason: "the migrator applied nothing (bookkeeping locked, or a newer id already recorded)",
        missing
      })
    }
    // The migrator applies only ids above the newest recorded, so on such a database it ran
    // nothing, and every known migration is there: only this says the schema is ahead of the code.
    const known = Math.max(0, ...expected.map(([id]) => id))
    const newest = rows.reduce<{ readonly id: number; readonly name: string } | undefined>(
      (max, row) => (max === undefined || Number(row.migration_id) > max.id ? { id: Number(row.migration_id), name: row.name } : max),
      undefined
    )
    if (newest !== undefined && newest.id > known) {
      return yield* new MigratedByNewerVersion({ recorded: newest, known })
    }
  }).pipe(
    Effect.catchTag("SqlError", (cause: SqlError.SqlError) =>
      Effect.fail(new MigrationFailed({ reason: `cannot read ${table}: ${describeFailure(cause)}`, missing: [], cause }))
    )
  )

/**
 * On SQLite, `effect` sees a client whose transactions begin with `BEGIN IMMEDIATE` and wait for
 * the write lock asynchronously, as DatabasePool's writes do. The migrator reads its bookkeeping,
 * then inserts: under the client's deferred `BEGIN`, another process holding the write lock
 * (`inkwell import`) made that insert fail at once with SQLITE_BUSY, which the migrator takes for
 * "already running" and applies nothing, and `verify` then failed the start.
 */
const withWriteLockOnSqlite = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.onDialectOrElse({
      sqlite: () => {
        // A copy, as the client's own `withoutTransforms` makes one: the client is shared.
        const client: SqlClient.SqlClient = Object.assign(
          (...args: Parameters<SqlClient.SqlClient>) => sql(...args),
          sql,
          { withTransaction: sqliteWriteTransaction(sql) }
        )
        return Effect.provideService(effect, SqlClient.SqlClient, client)
      },
      orElse: () => effect
    }))

/**
 * Applies pending migrations, then verifies the bookkeeping. Returns what was applied now.
 * Uses the dialect-neutral `Migrator.make`: SqliteMigrator and PgMigrator only add a schema dump
 * (which needs a shell and is unused here).
 */
export const run = (
  record: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = migrations,
  table: string = MIGRATIONS_TABLE
): Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, MigrationFailed | MigratedByNewerVersion, SqlClient.SqlClient> =>
  // The migrator creates its bookkeeping table without a lock: several servers starting at once
  // on a fresh PostgreSQL database would collide there, so it is created first, race-safely.
  ensureBookkeeping(table).pipe(
    Effect.zipRight(withWriteLockOnSqlite(Migrator.make({})({ loader: Migrator.fromRecord(record), table }))),
    // The database's own words ("relation \"posts\" already exists", "no schema has been selected
    // to create in") are down the cause chain: the top message alone was "Failed to execute statement".
    Effect.catchAll((cause) => Effect.fail(new MigrationFailed({ reason: describeFailure(cause), missing: [], cause }))),
    Effect.catchAllDefect((cause) =>
      Effect.fail(new MigrationFailed({ reason: describeFailure(cause), missing: [], cause }))
    ),
    Effect.tap(verify(record, table)),
    Effect.withSpan("Migrations.run")
  )

/** Runs the migrations when built; fails the layer with `MigrationFailed` or `MigratedByNewerVersion`. */
export const layer: Layer.Layer<never, MigrationFailed | MigratedByNewerVersion, SqlClient.SqlClient> = Layer.effectDiscard(run())
