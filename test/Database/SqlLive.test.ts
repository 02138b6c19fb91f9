import { Error as PlatformError, FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Cause, ConfigProvider, Effect, Either, Layer, Option, Redacted } from "effect"
import * as App from "../../src/App.js"
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
    // No database named: the driver took the user's (`postgres`, the server's shared one).
    for (const url of ["postgres://postgres@127.0.0.1:5432", "postgres://u:p/w@h:5432/", "postgresql://h?sslmode=require"]) {
      const parsed = SqlLive.parseDatabaseUrl(url)
      assert.isTrue(Either.isLeft(parsed) && parsed.left.message.includes("names no database"), url)
    }
    // node-postgres reads the database from the path only: `dbname` (libpq's) connected to the user's.
    for (const url of ["postgres://postgres@127.0.0.1:5432?dbname=blog", "postgres://postgres@h?database=blog"]) {
      const parsed = SqlLive.parseDatabaseUrl(url)
      assert.isTrue(Either.isLeft(parsed) && parsed.left.message.includes("names no database"), url)
    }
    // An "@" in a parameter reads as the end of a password (which may hold "?"): said how to write it.
    const atInQuery = SqlLive.parseDatabaseUrl("postgres://u@h/blog?application_name=web@1")
    assert.isTrue(Either.isLeft(atInQuery) && atInQuery.left.message.includes(`an "@" in a parameter is written %40`))
    assert.isTrue(Either.isRight(SqlLive.parseDatabaseUrl("postgres://u@h/blog?application_name=web%401")))
    for (const url of ["postgres://h/db?sslmode=require", "postgres://u:p/w@h:5432/db", "postgres:///db"]) {
      assert.isTrue(Either.isRight(SqlLive.parseDatabaseUrl(url)), url)
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

  it.effect("a file that is not a database fails the layer with DatabaseOpenFailed saying so, naming it (the driver throws: a defect)", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "inkwell-sqllive-" })
      const filename = `${dir}/post.md`
      yield* fs.writeFileString(filename, "+++\ntitle = \"Not a database\"\n+++\n\nJust markdown, long enough to be read as a header.\n".repeat(8))
      const error = yield* Effect.flip(Layer.build(SqlLive.layer(`sqlite:${filename}`)).pipe(Effect.scoped))
      assert.strictEqual(error._tag, "DatabaseOpenFailed")
      // SQLite's words were "file is not a database", after a message that only said it could not be opened.
      assert.strictEqual(App.describeFailure(Cause.fail(error)), `database unavailable: ${filename} is not an SQLite database`)
      assert.match(String((error as SqlLive.DatabaseOpenFailed).cause), /file is not a database/)
    }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer)))

  it.effect("a directory given for the database file fails the layer saying so (SQLite said 'unable to open database file')", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "inkwell-sqllive-" })
      const error = yield* Effect.flip(Layer.build(SqlLive.layer(`sqlite:${dir}`)).pipe(Effect.scoped))
      assert.strictEqual(App.describeFailure(Cause.fail(error)), `database unavailable: ${dir} is a directory, not an SQLite database`)
    }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer)))

  /**
   * The real file system, but `access` refuses what `refused` names, as it does for a user other
   * than the owner (these tests may run as root, whom no permission stops).
   */
  const denying = (refused: (path: string, options: FileSystem.AccessFileOptions) => boolean) =>
    Layer.effect(
      FileSystem.FileSystem,
      Effect.map(FileSystem.FileSystem, (fs): FileSystem.FileSystem => ({
        ...fs,
        access: (path, options = {}) =>
          refused(path, options)
            ? Effect.fail(new PlatformError.SystemError({ reason: "PermissionDenied", module: "FileSystem", method: "access", pathOrDescriptor: path }))
            : fs.access(path, options)
      }))
    ).pipe(Layer.provide(NodeFileSystem.layer))

  it.effect("what the file system refuses SQLite is said naming the path and the permission missing", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "inkwell-sqllive-" })
      const file = `${dir}/blog.db`
      const problem = (refused: (path: string, options: FileSystem.AccessFileOptions) => boolean) =>
        SqlLive.sqliteAccessProblem(file).pipe(Effect.provide(denying(refused)), Effect.map(Option.getOrUndefined))
      const readOnlyDir = (path: string, options: FileSystem.AccessFileOptions) => path === dir && options.writable === true
      // No file yet: SQLite creates it in the directory ("unable to open database file").
      assert.strictEqual(yield* problem(readOnlyDir), `cannot create the SQLite database ${file}: no write permission on the directory ${dir}`)
      assert.isUndefined(yield* problem(() => false))
      yield* fs.writeFileString(file, "")
      // The file read-only, or unreadable ("attempt to write a readonly database").
      assert.strictEqual(
        yield* problem((path, options) => path === file && options.writable === true),
        `cannot open the SQLite database ${file}: no write permission on ${file}`
      )
      assert.strictEqual(
        yield* problem((path, options) => path === file && options.readable === true),
        `cannot open the SQLite database ${file}: no read permission on ${file}`
      )
      // The file writable in a read-only directory: SQLite cannot create its -wal and -shm there.
      assert.strictEqual(
        yield* problem(readOnlyDir),
        `cannot open the SQLite database ${file}: no write permission on the directory ${dir}, where SQLite creates its -wal and -shm files`
      )
      yield* fs.writeFileString(`${file}-wal`, "")
      yield* fs.writeFileString(`${file}-shm`, "")
      assert.isUndefined(yield* problem(readOnlyDir), "with -wal and -shm there, the directory is not written")
      assert.strictEqual(
        yield* problem((path, options) => path === `${file}-shm` && options.writable === true),
        `cannot open the SQLite database ${file}: no write permission on ${file}-shm`
      )
      assert.isUndefined(yield* problem(() => false))
    }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer)))

  it.effect("a run that only reads needs the file (and its -wal and -shm) readable; where they are not both there and the directory cannot take them, it reads a copy", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "inkwell-sqllive-" })
      const file = `${dir}/blog.db`
      yield* fs.writeFileString(file, "")
      const problem = (refused: (path: string, options: FileSystem.AccessFileOptions) => boolean) =>
        SqlLive.sqliteReadProblem(file).pipe(Effect.provide(denying(refused)), Effect.map(Option.getOrUndefined))
      const copied = (refused: (path: string, options: FileSystem.AccessFileOptions) => boolean) =>
        SqlLive.sqliteSideFilesRefused(file).pipe(Effect.provide(denying(refused)), Effect.map(Option.getOrUndefined))
      const noWrites = (_: string, options: FileSystem.AccessFileOptions) => options.writable === true
      const readOnlyDir = (path: string, options: FileSystem.AccessFileOptions) => path === dir && options.writable === true
      assert.isUndefined(yield* problem((path, options) => path === file && options.writable === true), "the file read-only: read so")
      assert.strictEqual(
        yield* problem((path, options) => path === file && options.readable === true),
        `cannot read the SQLite database ${file}: no read permission on ${file}`
      )
      const noDirectory = `no write permission on the directory ${dir}`
      assert.isUndefined(yield* problem(readOnlyDir), "no -wal, no -shm, a directory that cannot take them: no refusal")
      assert.strictEqual(yield* copied(readOnlyDir), noDirectory, "read from a copy")
      assert.isUndefined(yield* copied(() => false), "a directory that can take them: read where it is")
      yield* fs.writeFileString(`${file}-wal`, "")
      assert.strictEqual(yield* copied(noWrites), noDirectory, "-wal without -shm")
      yield* fs.writeFileString(`${file}-shm`, "")
      assert.isUndefined(yield* problem(noWrites), "the server's -wal and -shm there: nothing written")
      assert.isUndefined(yield* copied(noWrites), "the server's -wal and -shm there: read where it is")
      assert.strictEqual(
        yield* problem((path, options) => path === `${file}-shm` && options.readable === true),
        `cannot read the SQLite database ${file}: no read permission on ${file}-shm`
      )
    }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer)))

  it.effect("a read-only file system (EROFS, a read-only mount: root too is refused) is said as that, for the directory and for the file", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "inkwell-sqllive-" })
      const file = `${dir}/blog.db`
      // What Node's access(W_OK) fails with there: reason "Unknown" in the platform's terms, EROFS in Node's.
      const readOnlyMount = Layer.effect(
        FileSystem.FileSystem,
        Effect.map(FileSystem.FileSystem, (fs): FileSystem.FileSystem => ({
          ...fs,
          access: (path, options = {}) =>
            options.writable === true
              ? Effect.fail(new PlatformError.SystemError({
                reason: "Unknown",
                module: "FileSystem",
                method: "access",
                pathOrDescriptor: path,
                cause: Object.assign(new Error(`EROFS: read-only file system, access '${path}'`), { code: "EROFS" })
              }))
              : fs.access(path, options)
        }))
      ).pipe(Layer.provide(NodeFileSystem.layer))
      const run = <A>(effect: Effect.Effect<Option.Option<A>, never, FileSystem.FileSystem>) =>
        effect.pipe(Effect.provide(readOnlyMount), Effect.map(Option.getOrUndefined))
      assert.strictEqual(
        yield* run(SqlLive.sqliteAccessProblem(file)),
        `cannot create the SQLite database ${file}: the directory ${dir} is on a read-only file system`
      )
      yield* fs.writeFileString(file, "")
      assert.strictEqual(
        yield* run(SqlLive.sqliteAccessProblem(file)),
        `cannot open the SQLite database ${file}: ${file} is on a read-only file system`
      )
      assert.strictEqual(yield* run(SqlLive.sqliteSideFilesRefused(file)), `the directory ${dir} is on a read-only file system`)
    }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer)))
})
