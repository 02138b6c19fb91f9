/**
 * Not a migration: what lets several servers start at once on one PostgreSQL database.
 *
 * The v3 migrator creates its bookkeeping table with "probe, then CREATE TABLE" outside any
 * lock, so two processes starting together both try to create it and one fails
 * (`duplicate key ... pg_type_typname_nsp_index`). Creating the table first, under a
 * transaction-scoped advisory lock, leaves the migrator's probe always succeeding; its own
 * `LOCK TABLE` then serializes the runs, and the later one finds nothing left to apply.
 * SQLite needs nothing: its writers are serialized by the database lock and the migrator uses
 * `CREATE TABLE IF NOT EXISTS`.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** Creates `table` (the migrator's PostgreSQL layout) if missing, one process at a time. */
export const ensureBookkeeping = (table: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.onDialectOrElse({
      pg: () =>
        sql.withTransaction(
          Effect.zipRight(
            sql`SELECT pg_advisory_xact_lock(hashtext(${table}))`,
            sql`
              CREATE TABLE IF NOT EXISTS ${sql(table)} (
                migration_id integer primary key,
                created_at timestamp with time zone not null default now(),
                name text not null
              )
            `
          )
        ).pipe(Effect.asVoid),
      orElse: () => Effect.void
    }))
