/**
 * A SQLite database migrated by a newer Inkwell (a migration recorded past the newest this
 * version knows): the server and every command that opens it refuse it, naming both migrations,
 * and leave it as it was. It was served and written as if it were of this version's schema.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeContext } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { afterAll, assert, describe, it } from "@effect/vitest"
import Sqlite from "better-sqlite3"
import { Cause, ConfigProvider, Console, Effect, Either, Layer } from "effect"
import * as App from "../../src/App.js"
import * as Cli from "../../src/Cli/Cli.js"
import * as Migrations from "../../src/Database/Migrations.js"
import * as SqlLive from "../../src/Database/SqlLive.js"

const dirs: Array<string> = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

const refusal =
  "the database was migrated by a newer Inkwell (migration 13 from_the_future); this version knows up to 12: upgrade Inkwell, or restore a backup"

/** A migrated SQLite file with one post, and migration 13 recorded as a newer Inkwell would. */
const newerDatabase = Effect.gen(function*() {
  const dir = mkdtempSync(join(tmpdir(), "inkwell-newer-"))
  dirs.push(dir)
  const file = join(dir, "blog.db")
  yield* Migrations.run().pipe(Effect.provide(SqlLive.layer(`sqlite:${file}`)), Effect.scoped)
  const db = new Sqlite(file)
  try {
    db.exec("INSERT INTO inkwell_migrations (migration_id, name) VALUES (13, 'from_the_future')")
  } finally {
    db.close()
  }
  const posts = join(dir, "posts")
  mkdirSync(posts)
  writeFileSync(join(posts, "hello.md"), "---\ntitle: Hello\n---\n\nText.\n")
  return { dir, file, posts }
})

/** What the database holds: its migrations and its posts, to see that nothing was written. */
const contents = (file: string) => {
  const db = new Sqlite(file, { readonly: true })
  try {
    return {
      migrations: db.prepare("SELECT migration_id FROM inkwell_migrations ORDER BY migration_id").pluck().all(),
      posts: db.prepare("SELECT COUNT(*) FROM posts").pluck().get()
    }
  } finally {
    db.close()
  }
}

const env = (file: string) => ConfigProvider.fromMap(new Map([["DATABASE_URL", `sqlite:${file}`], ["PORT", "0"], ["HOST", "127.0.0.1"]]))

describe("a database migrated by a newer Inkwell", () => {
  it.effect("Migrations.run and Migrations.verify refuse it, naming its newest migration and this version's", () =>
    Effect.gen(function*() {
      const { file } = yield* newerDatabase
      for (const check of [Migrations.run(), Migrations.verify()]) {
        const error = yield* Effect.flip(check.pipe(Effect.provide(SqlLive.layer(`sqlite:${file}`)), Effect.scoped))
        assert(error._tag === "MigratedByNewerVersion", error._tag)
        assert.deepStrictEqual(error.recorded, { id: 13, name: "from_the_future" })
        assert.strictEqual(error.known, 12)
        assert.strictEqual(App.describeFailure(Cause.fail(error)), refusal)
      }
    }))

  it.effect("one that records only what this version knows is accepted; a record older than the database is not", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* Migrations.run()
      yield* Migrations.verify()
      // An embedding app's record that is older than the database: the same refusal.
      const { "0012_search_symbols_apart": _, ...upTo11 } = Migrations.migrations
      const error = yield* Effect.flip(Migrations.verify(upTo11))
      assert(error._tag === "MigratedByNewerVersion", error._tag)
      assert.deepStrictEqual(error.recorded, { id: 12, name: "search_symbols_apart" })
      assert.strictEqual(error.known, 11)
      assert.lengthOf(yield* sql`SELECT 1 FROM inkwell_migrations`, 12)
    }).pipe(Effect.provide(SqlLive.layer("sqlite::memory:"))))

  it.live("the server does not start on it", () =>
    Effect.gen(function*() {
      const { file } = yield* newerDatabase
      const exit = yield* Layer.build(App.AppLive).pipe(Effect.scoped, Effect.withConfigProvider(env(file)), Effect.exit)
      assert(exit._tag === "Failure", "the server started")
      assert.strictEqual(App.describeFailure(exit.cause), refusal)
    }))

  it.live("inkwell import, import --dry-run, export, reprocess and reprocess --dry-run exit 1 saying so, and write nothing", () =>
    Effect.gen(function*() {
      const { dir, file, posts } = yield* newerDatabase
      const before = contents(file)
      const commands = [
        ["import", posts],
        ["import", "--dry-run", posts],
        ["export", "--output", join(dir, "backup.ndjson")],
        ["reprocess"],
        ["reprocess", "--dry-run"]
      ]
      for (const args of commands) {
        const result = yield* Console.consoleWith((console) =>
          Cli.run(["node", "inkwell", ...args]).pipe(
            // What the commands announce on stderr would only clutter the test's output.
            Effect.withConsole({ ...console, error: () => Effect.void, log: () => Effect.void }),
            Effect.withConfigProvider(env(file)),
            Effect.provide(NodeContext.layer),
            Effect.either
          )
        )
        const label = args.join(" ")
        if (Either.isRight(result)) return assert.fail(`${label}: succeeded`)
        assert(result.left._tag === "CliExit", `${label}: ${result.left._tag}`)
        assert.strictEqual(result.left.code, 1, label)
        assert.include(result.left.reason, refusal, label)
        assert.deepStrictEqual(contents(file), before, `${label} wrote`)
      }
    }))
})
