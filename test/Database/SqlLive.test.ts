import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer, Redacted } from "effect"
import * as SqlLive from "../../src/Database/SqlLive.js"

const pragma = (name: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<Record<string, unknown>>(`PRAGMA ${name}`)).pipe(
    Effect.map((rows) => Object.values(rows[0] ?? {})[0])
  )

describe("SqlLive", () => {
  it("parses every DATABASE_URL form", () => {
    assert.deepStrictEqual(SqlLive.parseDatabaseUrl("sqlite:./data/inkwell.db"), Either.right({
      dialect: "sqlite" as const,
      filename: "./data/inkwell.db"
    }))
    assert.deepStrictEqual(
      SqlLive.parseDatabaseUrl("sqlite::memory:"),
      Either.right({ dialect: "sqlite" as const, filename: ":memory:" })
    )
    assert.deepStrictEqual(
      SqlLive.parseDatabaseUrl("sqlite:///var/lib/inkwell.db"),
      Either.right({ dialect: "sqlite" as const, filename: "/var/lib/inkwell.db" })
    )
    const pg = SqlLive.parseDatabaseUrl("postgres://user:secret@localhost:5432/inkwell")
    assert.isTrue(Either.isRight(pg))
    if (Either.isRight(pg) && pg.right.dialect === "pg") {
      assert.strictEqual(Redacted.value(pg.right.url), "postgres://user:secret@localhost:5432/inkwell")
      assert.notInclude(String(pg.right.url), "secret")
    }
    for (const bad of ["mysql://localhost/db", "sqlite:", "", "./inkwell.db"]) {
      const parsed = SqlLive.parseDatabaseUrl(bad)
      assert.isTrue(Either.isLeft(parsed), bad)
      if (Either.isLeft(parsed)) assert.include(parsed.left.message, "DATABASE_URL")
    }
  })

  it.effect("a bad URL fails the layer with an error naming DATABASE_URL", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(SqlLive.layer("mysql://user:pw@host/db")).pipe(Effect.scoped))
      assert.strictEqual(error._tag, "DatabaseUrlInvalid")
      assert.include(error.message, "DATABASE_URL")
      assert.notInclude(error.message, "pw")
    }))

  it.effect("layerConfig reads DATABASE_URL", () =>
    Effect.gen(function*() {
      const rows = yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ one: number }>`SELECT 1 AS one`)
      assert.deepStrictEqual(rows, [{ one: 1 }])
    }).pipe(
      Effect.provide(SqlLive.layerConfig),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_URL", "sqlite::memory:"]])))
    ))

  it.effect("a file database gets its directory created, WAL, a busy timeout and foreign keys", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "inkwell-sqllive-" })
      const filename = `${dir}/a/b/inkwell.db`
      const settings = yield* Effect.all([
        pragma("journal_mode"),
        pragma("busy_timeout"),
        pragma("foreign_keys")
      ]).pipe(Effect.provide(SqlLive.layer(`sqlite:${filename}`)))
      assert.deepStrictEqual(settings, ["wal", SqlLive.SQLITE_WRITER_BUSY_TIMEOUT_MS, 1])
      assert.isTrue(yield* fs.exists(filename))
    }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer)))

  // `it.live`: the bound is real time, as the hang was (Node's recursive mkdir looping on procfs).
  it.live("a directory that cannot be made (procfs) fails the layer with DatabaseOpenFailed naming the file and the directory, at once", () =>
    Effect.gen(function*() {
      const dir = `/proc/inkwell-${process.pid}`
      const filename = `${dir}/blog.db`
      const error = yield* Effect.flip(Layer.build(SqlLive.layer(`sqlite:${filename}`)).pipe(
        Effect.scoped,
        Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => "still opening after 10 seconds" })
      ))
      if (!(error instanceof SqlLive.DatabaseOpenFailed)) return assert.fail(String(error))
      assert.include(error.message, filename)
      assert.include(String(error.cause), dir)
    }))

  it.effect("a file that is not a database fails the layer with DatabaseOpenFailed naming it (the driver throws: a defect)", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "inkwell-sqllive-" })
      const filename = `${dir}/post.md`
      yield* fs.writeFileString(filename, "+++\ntitle = \"Not a database\"\n+++\n\nJust markdown, long enough to be read as a header.\n".repeat(8))
      const error = yield* Effect.flip(Layer.build(SqlLive.layer(`sqlite:${filename}`)).pipe(Effect.scoped))
      assert.strictEqual(error._tag, "DatabaseOpenFailed")
      assert.include(error.message, filename)
      assert.match(String((error as SqlLive.DatabaseOpenFailed).cause), /file is not a database/)
    }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer)))
})
