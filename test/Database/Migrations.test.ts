import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Migrations from "../../src/Database/Migrations.js"
import * as SqlLive from "../../src/Database/SqlLive.js"

const memory = SqlLive.layer("sqlite::memory:")

const tableNames = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
).pipe(Effect.map((rows) => rows.map((r) => r.name)))

describe("Migrations", () => {
  it.effect("a fresh database gets every migration; a second run is a no-op", () =>
    Effect.gen(function*() {
      const first = yield* Migrations.run()
      assert.deepStrictEqual(first, [[1, "create_posts"]])
      assert.includeMembers(yield* tableNames, ["inkwell_migrations", "post_tags", "posts"])
      const second = yield* Migrations.run()
      assert.deepStrictEqual(second, [])
      const sql = yield* SqlClient.SqlClient
      const recorded = yield* sql<{ migration_id: number; name: string }>`
        SELECT migration_id, name FROM inkwell_migrations
      `
      assert.deepStrictEqual(recorded.map((r) => [r.migration_id, r.name]), [[1, "create_posts"]])
    }).pipe(Effect.provide(memory)))

  it.effect("every key of the record is picked up by the loader", () =>
    Effect.sync(() => {
      for (const key of Object.keys(Migrations.migrations)) {
        assert.match(key, /^\d{4}_[a-z0-9_]+$/, `migration key "${key}" would be skipped silently`)
      }
    }))

  it.effect("fails loudly when the migrator silently applies nothing (bookkeeping insert fails)", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      // The migrator reports a failed bookkeeping insert as "already running" and returns [].
      yield* sql`CREATE TABLE inkwell_migrations (
        migration_id integer PRIMARY KEY NOT NULL,
        created_at datetime NOT NULL DEFAULT current_timestamp,
        name VARCHAR(255) NOT NULL
      )`
      yield* sql`CREATE TRIGGER jam BEFORE INSERT ON inkwell_migrations BEGIN SELECT RAISE(ABORT, 'jammed'); END`
      const error = yield* Effect.flip(Migrations.run())
      assert.strictEqual(error._tag, "MigrationFailed")
      assert.deepStrictEqual(error.missing, ["0001_create_posts"])
      assert.notInclude(yield* tableNames, "posts")
    }).pipe(Effect.provide(memory)))

  it.effect("fails loudly when a newer migration id hides an unapplied one", () =>
    Effect.gen(function*() {
      yield* Migrations.run({})
      const sql = yield* SqlClient.SqlClient
      yield* sql`INSERT INTO inkwell_migrations (migration_id, name) VALUES (7, 'from_elsewhere')`
      const error = yield* Effect.flip(Migrations.run())
      assert.strictEqual(error._tag, "MigrationFailed")
      assert.deepStrictEqual(error.missing, ["0001_create_posts"])
      assert.include(error.message, "0001_create_posts")
    }).pipe(Effect.provide(memory)))

  it.effect("a failing migration is MigrationFailed and leaves nothing recorded", () =>
    Effect.gen(function*() {
      const broken = {
        ...Migrations.migrations,
        "0002_broken": Effect.flatMap(SqlClient.SqlClient, (sql) => sql`CREATE TABLE posts (id TEXT)`)
      }
      const error = yield* Effect.flip(Migrations.run(broken))
      assert.strictEqual(error._tag, "MigrationFailed")
      assert.notInclude(yield* tableNames, "posts")
      const sql = yield* SqlClient.SqlClient
      const recorded = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM inkwell_migrations`
      assert.strictEqual(recorded[0]!.n, 0)
    }).pipe(Effect.provide(memory)))

  it.effect("verify passes once the migrations are recorded", () =>
    Effect.gen(function*() {
      // Only the bookkeeping table. (Querying a missing table would poison the client's
      // prepared-statement cache: better-sqlite3 prepare failures are cached for 10 minutes.)
      yield* Migrations.run({})
      const error = yield* Effect.flip(Migrations.verify())
      assert.deepStrictEqual(error.missing, ["0001_create_posts"])
      yield* Migrations.run()
      yield* Migrations.verify()
    }).pipe(Effect.provide(memory)))
})
