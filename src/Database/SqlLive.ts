/**
 * The SqlClient for `DATABASE_URL`: `sqlite:<path>` and `sqlite::memory:` open an embedded
 * SQLite database (better-sqlite3, WAL, busy timeout); `postgres://...` opens a PostgreSQL pool.
 */
import { tmpdir } from "node:os"
import { basename, dirname, join, resolve } from "node:path"
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { SqlClient, SqlError } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import pg from "pg"
import { Cause, type ConfigError, Context, Data, Duration, Effect, Either, Layer, Option, Redacted, type Scope } from "effect"
import { DatabaseConfig } from "../Config.js"
import type { Dialect } from "./DatabasePool.js"
import { describeFailure, hasCode } from "../Domain/describeFailure.js"
import { removeAtExit, removeLeftovers, removeNow } from "../Domain/removeAtExit.js"

/**
 * How long a SQLite write transaction waits for another process's write lock before failing with
 * SQLITE_BUSY (DatabasePool waits, asynchronously), and the read-only connection's busy timeout.
 */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000

/**
 * The busy timeout of the connection that writes: short, because SQLite's busy handler sleeps in
 * the calling thread, the event loop's. Write transactions wait longer without blocking it
 * (`SQLITE_BUSY_TIMEOUT_MS`, in DatabasePool). The connection's other statements are reads,
 * which in WAL mode wait for no writer, and migrations at startup.
 */
export const SQLITE_WRITER_BUSY_TIMEOUT_MS = 10

export type DatabaseTarget =
  | { readonly dialect: "sqlite"; readonly filename: string }
  /**
   * `url`: as the driver is to read it (`sslmode` as libpq means it, and libpq's TLS environment
   * variables the URL leaves to them: `withLibpqSslMode`). `environment`: those variables read,
   * as `PGSSLMODE=require`, for messages (the URL as written does not show them).
   */
  | { readonly dialect: "pg"; readonly url: Redacted.Redacted; readonly environment: ReadonlyArray<string> }

/** The process environment, or what stands for it (a test's): where libpq's `PG*` variables are read. */
export type PgEnvironment = { readonly [name: string]: string | undefined }

export class DatabaseUrlInvalid extends Data.TaggedError("DatabaseUrlInvalid")<{
  /** The scheme seen (never the whole URL: it may carry a password). */
  readonly scheme: string
  /**
   * What a URL of a known scheme lacks: `postgres://` alone was told it "must be ...
   * postgres://..." (it is one) when what it lacks is the host.
   */
  readonly missing?: "host" | "path" | "database"
  /**
   * What is wrong with a part that is there, said whole after "DATABASE_URL" and naming the
   * part (`port must be ...`, `sslmode must be ...`), never the password.
   */
  readonly problem?: string
  /**
   * The setting at fault when it is not DATABASE_URL itself but a libpq environment variable
   * read with it (`PGSSLMODE`): `problem` is then said whole, naming it.
   */
  readonly setting?: string
  /** An "@" after a "?": the host was looked for after it (`authority`), so the message says how to write one. */
  readonly atInQuery?: boolean
}> {
  override get message() {
    if (this.problem !== undefined) return this.setting === undefined ? `DATABASE_URL ${this.problem}` : this.problem
    if (this.missing === "host") {
      return `DATABASE_URL ${this.scheme}:// names no host: postgres://[user[:password]@]host[:port]/database`
    }
    if (this.missing === "database") {
      return `DATABASE_URL ${this.scheme}:// names no database: postgres://[user[:password]@]host[:port]/database` +
        (this.atInQuery === true ? ` (an "@" in a parameter is written %40: the last "@" ends the user and password)` : "")
    }
    if (this.missing === "path") return `DATABASE_URL ${this.scheme}: names no file: sqlite:<path> or sqlite::memory:`
    return `DATABASE_URL must be sqlite:<path>, sqlite::memory: or postgres://... (got a "${this.scheme}" URL)`
  }
}

export class DatabaseOpenFailed extends Data.TaggedError("DatabaseOpenFailed")<{
  readonly dialect: Dialect
  /** The SQLite file. */
  readonly filename?: string
  /**
   * The PostgreSQL URL with its password masked (`redactUrl`): which server, port, database and
   * user; followed by the libpq variables read with it (`with PGSSLMODE=require`), when any were.
   */
  readonly url?: string
  /**
   * What is wrong, said whole and naming the path (`/srv/blog.md is not an SQLite database`), in
   * place of the driver's words ("file is not a database", "unable to open database file"),
   * which name neither the file nor the permission missing.
   */
  readonly problem?: string
  readonly cause: unknown
}> {
  override get message() {
    if (this.problem !== undefined) return this.problem
    if (this.url !== undefined) return `cannot connect to the PostgreSQL database ${this.url}`
    return this.filename === undefined
      ? `cannot open the ${this.dialect} database named by DATABASE_URL`
      : `cannot open the ${this.dialect} database ${this.filename}`
  }
}

/**
 * A PostgreSQL URL fit for a message: the password (in the user info or as a `password`
 * parameter) becomes `***`; scheme, user, host, port, database and other parameters stay, so
 * an operator sees which server was tried. Works on URLs `new URL` rejects (an unencoded `@` in
 * the password, a bad port): everything before the last `@` of the authority but the user name
 * is masked.
 */
export const redactUrl = (url: string): string => {
  const masked = url.trim().replace(/([?&]password=)[^&#]*/gi, "$1***")
  const password = passwordSpan(masked)
  return password === undefined ? masked : `${masked.slice(0, password.start)}***${masked.slice(password.end)}`
}

/**
 * Where the authority of `url` starts (after the scheme's "//"), and where its host does: after
 * the last "@" of the whole URL, which ends the user info. An unencoded password may hold "@",
 * "/", "?" or "#" (generated ones often do), so nothing before that last "@" can be told apart
 * from it; a parameter holding an "@" puts more in the user info than is there, never less: the
 * password is masked whole, and no piece of it is read for a host, a port or a database.
 */
const authority = (url: string): { readonly start: number; readonly host: number } | undefined => {
  const scheme = url.indexOf("://")
  if (scheme === -1) return undefined
  const start = scheme + 3
  return { start, host: Math.max(start, url.lastIndexOf("@") + 1) }
}

/** Where the password of the user info is in `url`: after the user name's ":", up to the "@" before the host. */
const passwordSpan = (url: string): { readonly start: number; readonly end: number } | undefined => {
  const parts = authority(url)
  if (parts === undefined || parts.host === parts.start) return undefined
  const at = parts.host - 1
  const colon = url.indexOf(":", parts.start)
  return colon === -1 || colon > at ? undefined : { start: colon + 1, end: at }
}

/**
 * The driver's words about a URL it could not read name what it took for the host, a piece of an
 * unencoded password (`postgres://u:Secr3t@Pass/2024@db/x`: "getaddrinfo ENOTFOUND Pass"): every
 * piece of the password (between the characters a URL splits on) is masked in `text`.
 */
export const withoutPassword = (url: string, text: string): string => {
  const trimmed = url.trim()
  const span = passwordSpan(trimmed)
  const parameter = /[?&]password=([^&#]*)/i.exec(trimmed)?.[1]
  const secrets = [span === undefined ? undefined : trimmed.slice(span.start, span.end), parameter]
    .filter((secret): secret is string => secret !== undefined && secret.length > 0)
  const pieces = secrets.flatMap((secret) => [secret, ...secret.split(/[@/?#:&=]/)]).filter((piece) => piece.length >= 3)
  // Longest first, so that a piece inside another does not leave the rest of it.
  return pieces.sort((a, b) => b.length - a.length).reduce((masked, piece) => masked.split(piece).join("***"), text)
}

/**
 * A PostgreSQL URL names its database (the path after the host: node-postgres reads no
 * parameter for it, `dbname` as libpq's is ignored and `database` overridden by the path).
 * Without one the driver takes the user's name for it: `postgres://postgres@host` is the
 * server's shared `postgres` database, where Inkwell would have made its tables. The path starts
 * at the first "/" after the host's start (`authority`: a password may hold "/").
 */
const namesDatabase = (url: string): boolean => {
  const host = authority(url)?.host ?? 0
  const slash = url.indexOf("/", host)
  const query = url.indexOf("?", host)
  if (slash === -1 || (query !== -1 && query < slash)) return false
  return url.slice(slash + 1, query === -1 ? undefined : query).replace(/#.*$/, "").length > 0
}

/** The port written after the host (`h:5432`, `[::1]:5432`), `undefined` when there is none. */
const portOf = (url: string): string | undefined => {
  const rest = url.slice(authority(url)?.host ?? 0)
  const end = rest.search(/[/?#]/)
  const hostAndPort = end === -1 ? rest : rest.slice(0, end)
  const afterHost = hostAndPort.startsWith("[") ? hostAndPort.slice(hostAndPort.indexOf("]") + 1) : hostAndPort
  const colon = afterHost.indexOf(":")
  return colon === -1 ? undefined : afterHost.slice(colon + 1)
}

/** A port the driver can connect to; none written (or `h:/db`) is the default, 5432. */
const portProblem = (url: string): string | undefined => {
  const port = portOf(url)
  if (port === undefined || port === "") return undefined
  return /^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535
    ? undefined
    : `port must be a number from 1 to 65535 (got ${JSON.stringify(port)}): postgres://[user[:password]@]host[:port]/database`
}

/** The SSL modes Inkwell takes: libpq's (`allow` aside) and node-postgres's `no-verify`. README "TLS". */
const PG_SSL_MODES = ["disable", "prefer", "require", "verify-ca", "verify-full", "no-verify"] as const

const SSL_MODES_TAKEN = `${PG_SSL_MODES.slice(0, -1).join(", ")} or ${PG_SSL_MODES.at(-1)}`

/** The modes node-postgres 8 reads as `verify-full` (with a SECURITY WARNING), and libpq as weaker ones. */
const LIBPQ_ONLY_MODES: ReadonlySet<string> = new Set(["prefer", "require", "verify-ca"])

/**
 * libpq's variables for the files TLS uses, each read when the URL does not give its parameter
 * and the connection uses TLS. node-postgres reads none of them; with `PGSSLMODE` read as libpq
 * means it, `PGSSLROOTCERT` left unread would make `PGSSLMODE=require` check nothing, where
 * libpq checks the CA it names (as `verify-ca`).
 */
const PG_TLS_FILES = [["PGSSLROOTCERT", "sslrootcert"], ["PGSSLCERT", "sslcert"], ["PGSSLKEY", "sslkey"]] as const

/** A variable's value; set to nothing (`PGSSLMODE=`, as a template may leave it) is not set. */
const variable = (environment: PgEnvironment, name: string): string | undefined => {
  const value = environment[name]
  return value === undefined || value === "" ? undefined : value
}

/** Why a URL is refused: `problem` said after "DATABASE_URL", or whole when a variable (`setting`) is at fault. */
type Refusal = { readonly problem: string; readonly setting?: string }

/**
 * The URL as node-postgres is to read it, `sslmode` meaning what it means to libpq (psql,
 * pg_dump: the same URL means the same there). node-postgres 8 reads `prefer`, `require` and
 * `verify-ca` as `verify-full`, and prints a multi-line SECURITY WARNING at every start that
 * its next major version will read them as libpq does; `uselibpqcompat=true` asks for that now,
 * and is added for those three modes only: under it, pg reads its own `no-verify` as
 * `verify-full`. So `require` encrypts without checking the certificate (with `sslrootcert`,
 * checks it as `verify-ca`), and `verify-full` is what checks both certificate and host name.
 * libpq's `allow` is refused: the driver never falls back, and `prefer` does not either (a
 * server without TLS refuses it). The other parameters are passed on as written.
 *
 * A URL without `sslmode` (nor node-postgres's `ssl`) takes `PGSSLMODE`, as libpq does, read and
 * checked as `sslmode` is, and written into the URL: left to node-postgres, `require`, `prefer`
 * and `verify-ca` there were `verify-full` against Node's CAs (`PGSSLROOTCERT` unread), and any
 * other value (`allow`, a typo) no TLS at all, silently. With TLS, each of `PGSSLROOTCERT`,
 * `PGSSLCERT` and `PGSSLKEY` the URL leaves out is added too (`PG_TLS_FILES`). A URL's own
 * parameter wins over its variable, as in libpq.
 */
const withLibpqSslMode = (
  url: string,
  environment: PgEnvironment
): Either.Either<{ readonly url: string; readonly environment: ReadonlyArray<string> }, Refusal> => {
  const host = authority(url)?.host ?? 0
  const hash = url.indexOf("#", host)
  const withoutFragment = hash === -1 ? url : url.slice(0, hash)
  const question = withoutFragment.indexOf("?", host)
  const query = question === -1 ? "" : withoutFragment.slice(question + 1)
  const params = new URLSearchParams(query)
  const modes = params.getAll("sslmode")
  const unknown = modes.find((mode) => !(PG_SSL_MODES as ReadonlyArray<string>).includes(mode))
  if (unknown !== undefined) return Either.left({ problem: `sslmode must be ${SSL_MODES_TAKEN} (got ${JSON.stringify(unknown)})` })
  const compat = params.getAll("uselibpqcompat").find((value) => value !== "true")
  if (compat !== undefined) {
    return Either.left({
      problem: `uselibpqcompat must be true (got ${JSON.stringify(compat)}): Inkwell reads sslmode as libpq does; sslmode=verify-full checks the server's certificate`
    })
  }
  // The driver reads the last one.
  const urlMode = modes.at(-1)
  const envMode = urlMode === undefined && !params.has("ssl") ? variable(environment, "PGSSLMODE") : undefined
  if (envMode !== undefined && !(PG_SSL_MODES as ReadonlyArray<string>).includes(envMode)) {
    return Either.left({ setting: "PGSSLMODE", problem: `PGSSLMODE must be ${SSL_MODES_TAKEN} (got ${JSON.stringify(envMode)})` })
  }
  const mode = urlMode ?? envMode
  // Each as [parameter, value, the variable it was read from].
  const read: Array<readonly [string, string, string]> = envMode === undefined ? [] : [["sslmode", envMode, "PGSSLMODE"]]
  if (mode !== undefined && mode !== "disable") {
    for (const [name, param] of PG_TLS_FILES) {
      const value = params.has(param) ? undefined : variable(environment, name)
      if (value !== undefined) read.push([param, value, name])
    }
  }
  const rootCert = params.getAll("sslrootcert").at(-1) ?? read.find(([param]) => param === "sslrootcert")?.[1] ?? ""
  if (mode === "verify-ca" && rootCert === "") {
    const why = "the CA the server's certificate is checked against"
    return Either.left(
      envMode === undefined
        ? { problem: `sslmode=verify-ca needs sslrootcert=<file> (or PGSSLROOTCERT=<file>), ${why} (or use sslmode=verify-full)` }
        : { setting: "PGSSLMODE", problem: `PGSSLMODE=verify-ca needs PGSSLROOTCERT=<file> (or sslrootcert=<file> in DATABASE_URL), ${why} (or use verify-full)` }
    )
  }
  const kept = query.split("&").filter((param) => !/^uselibpqcompat(=|$)/.test(param))
  for (const [param, value] of read) kept.push(`${param}=${encodeURIComponent(value)}`)
  if (mode !== undefined && LIBPQ_ONLY_MODES.has(mode)) kept.push("uselibpqcompat=true")
  const rewritten = kept.filter((param) => param !== "").join("&")
  return Either.right({
    url: `${question === -1 ? withoutFragment : withoutFragment.slice(0, question)}${rewritten === "" ? "" : `?${rewritten}`}${hash === -1 ? "" : url.slice(hash)}`,
    environment: read.map(([, value, name]) => `${name}=${value}`)
  })
}

/**
 * Reads a `DATABASE_URL` value. `sqlite://<path>` is accepted as a spelling of `sqlite:<path>`.
 * A PostgreSQL target's `url` is the one the driver is given (`withLibpqSslMode`), with libpq's
 * TLS variables from `environment` (the process's, which node-postgres and libpq read too).
 */
export const parseDatabaseUrl = (
  url: string,
  environment: PgEnvironment = process.env
): Either.Either<DatabaseTarget, DatabaseUrlInvalid> => {
  const trimmed = url.trim()
  if (/^postgres(ql)?:\/\/.+/.test(trimmed)) {
    const scheme = trimmed.slice(0, trimmed.indexOf(":"))
    const port = portProblem(trimmed)
    if (port !== undefined) return Either.left(new DatabaseUrlInvalid({ scheme, problem: port }))
    if (!namesDatabase(trimmed)) {
      const question = trimmed.indexOf("?")
      return Either.left(new DatabaseUrlInvalid({ scheme, missing: "database", atInQuery: question !== -1 && trimmed.indexOf("@", question) !== -1 }))
    }
    return Either.match(withLibpqSslMode(trimmed, environment), {
      onLeft: (refusal) => Either.left(new DatabaseUrlInvalid({ scheme, ...refusal })),
      onRight: (driver) => Either.right({ dialect: "pg" as const, url: Redacted.make(driver.url), environment: driver.environment })
    })
  }
  if (trimmed.startsWith("sqlite:")) {
    const rest = trimmed.slice("sqlite:".length)
    const filename = rest.startsWith("//") ? rest.slice(2) : rest
    if (filename.length > 0) return Either.right({ dialect: "sqlite", filename })
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed)?.[1] ?? (trimmed === "" ? "empty" : "unknown")
  if (/^postgres(ql)?$/i.test(scheme) && /^[a-z]+:\/\/$/i.test(trimmed)) {
    return Either.left(new DatabaseUrlInvalid({ scheme, missing: "host" }))
  }
  if (scheme === "sqlite") return Either.left(new DatabaseUrlInvalid({ scheme, missing: "path" }))
  return Either.left(new DatabaseUrlInvalid({ scheme }))
}

/** `:memory:` and `file::memory:...`: a SQLite database that lives and dies with its connection. */
export const isInMemory = (filename: string) => filename === ":memory:" || filename.startsWith("file::memory:")

/**
 * Where a `DATABASE_URL` that names a SQLite database stands before anything opens it: in memory,
 * or a file not there yet (the SQL layer would create it); `undefined` for a file that is there,
 * another dialect, or a URL that does not parse (opening it says what is wrong). For commands
 * that must not create a database (`inkwell export`, a dry run).
 */
export const sqliteFileState = (url: string) =>
  Effect.gen(function*() {
    const target = parseDatabaseUrl(url)
    if (Either.isLeft(target) || target.right.dialect !== "sqlite") return undefined
    const { filename } = target.right
    if (isInMemory(filename)) return { _tag: "InMemory" } as const
    const fs = yield* FileSystem.FileSystem
    return (yield* Effect.orElseSucceed(fs.exists(filename), () => false)) ? undefined : { _tag: "Missing", filename } as const
  })

/**
 * Creates the database file's directory, so the default `./data/inkwell.db` works on a fresh
 * clone: each missing directory in turn, from the deepest that exists. Node's recursive mkdir
 * never returns under a directory that refuses new entries with ENOENT (procfs: `sqlite:/proc/x/y.db`
 * hung `serve` and `import` at start); one at a time, the refusal is an error naming the directory.
 */
const ensureParentDirectory = (filename: string) =>
  Effect.gen(function*() {
    if (isInMemory(filename)) return
    const fs = yield* FileSystem.FileSystem
    const slash = Math.max(filename.lastIndexOf("/"), filename.lastIndexOf("\\"))
    if (slash <= 0) return
    const missing: Array<string> = []
    for (let dir = resolve(filename.slice(0, slash)); !(yield* fs.exists(dir)); dir = dirname(dir)) {
      missing.unshift(dir)
      if (dirname(dir) === dir) break
    }
    for (const dir of missing) {
      // Another process (a second instance starting) may create it meanwhile.
      yield* fs.makeDirectory(dir).pipe(
        Effect.catchIf((e) => e._tag === "SystemError" && e.reason === "AlreadyExists", () => Effect.void),
        Effect.catchIf(
          (e) => e._tag === "SystemError" && e.reason === "PermissionDenied",
          (cause) =>
            new DatabaseOpenFailed({
              dialect: "sqlite",
              filename,
              problem: `cannot create the directory ${dir} for the SQLite database ${filename}: no write permission on ${dirname(dir)}`,
              cause
            })
        )
      )
    }
  }).pipe(
    Effect.mapError((cause) => cause instanceof DatabaseOpenFailed ? cause : new DatabaseOpenFailed({ dialect: "sqlite", filename, cause })),
    Effect.provide(NodeFileSystem.layer)
  )

/**
 * Why `path` (`what` in the words: "the directory /srv/blog") may not be written, when the file
 * system says so: no permission, or a read-only file system (a read-only mount: EROFS, which
 * stops root too). Any other failure to check is left for SQLite to name.
 */
const writeRefused = (fs: FileSystem.FileSystem, path: string, what: string): Effect.Effect<Option.Option<string>> =>
  fs.access(path, { writable: true }).pipe(
    Effect.as(Option.none<string>()),
    Effect.catchAll((e) =>
      Effect.succeed(
        e._tag === "SystemError" && e.reason === "PermissionDenied"
          ? Option.some(`no write permission on ${what}`)
          : hasCode(e, (code) => code === "EROFS")
          ? Option.some(`${what} is on a read-only file system`)
          : Option.none()
      )
    )
  )

/** Whether `path` may not be read, as the file system says (another failure to check is SQLite's to name). */
const readRefused = (fs: FileSystem.FileSystem, path: string): Effect.Effect<boolean> =>
  fs.access(path, { readable: true }).pipe(
    Effect.as(false),
    Effect.catchAll((e) => Effect.succeed(e._tag === "SystemError" && e.reason === "PermissionDenied"))
  )

/** The database's `-wal` and `-shm` files that are there. */
const sideFilesOf = (fs: FileSystem.FileSystem, path: string) =>
  Effect.filter([`${path}-wal`, `${path}-shm`], (file) => Effect.orElseSucceed(fs.exists(file), () => false))

/**
 * What keeps SQLite from opening `filename` to read and write, as far as the file system tells
 * before it tries, said naming the path and the permission missing: SQLite's own words are
 * "unable to open database file" or "attempt to write a readonly database". It reads and writes
 * the file, and creates it, and its `-wal` and `-shm` files beside it, in its directory. Only a
 * refusal is reported (another failure to check is left for SQLite to name); a directory given
 * for the file too.
 */
export const sqliteAccessProblem = (filename: string): Effect.Effect<Option.Option<string>, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    if (isInMemory(filename)) return Option.none()
    const fs = yield* FileSystem.FileSystem
    const path = resolve(filename)
    const directory = dirname(path)
    const info = yield* Effect.option(fs.stat(path))
    if (Option.isSome(info) && info.value.type === "Directory") {
      return Option.some(`${filename} is a directory, not an SQLite database`)
    }
    if (Option.isNone(info)) {
      return Option.map(
        yield* writeRefused(fs, directory, `the directory ${directory}`),
        (why) => `cannot create the SQLite database ${filename}: ${why}`
      )
    }
    const sideFiles = yield* sideFilesOf(fs, path)
    for (const file of [path, ...sideFiles]) {
      if (yield* readRefused(fs, file)) return Option.some(`cannot open the SQLite database ${filename}: no read permission on ${file}`)
      const why = yield* writeRefused(fs, file, file)
      if (Option.isSome(why)) return Option.some(`cannot open the SQLite database ${filename}: ${why.value}`)
    }
    if (sideFiles.length < 2) {
      return Option.map(
        yield* writeRefused(fs, directory, `the directory ${directory}`),
        (why) => `cannot open the SQLite database ${filename}: ${why}, where SQLite creates its -wal and -shm files`
      )
    }
    return Option.none()
  })

/**
 * What keeps a run that only reads from reading `filename` (SQLite's `readonly`), as
 * `sqliteAccessProblem` says it: the file, and its `-wal` and `-shm` files where they are, must be
 * readable. Where they are not both there and the directory cannot take them, it is read from a
 * copy (`sqliteSideFilesRefused`), not refused.
 */
export const sqliteReadProblem = (filename: string): Effect.Effect<Option.Option<string>, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = resolve(filename)
    for (const file of [path, ...(yield* sideFilesOf(fs, path))]) {
      if (yield* readRefused(fs, file)) return Option.some(`cannot read the SQLite database ${filename}: no read permission on ${file}`)
    }
    return Option.none()
  })

/**
 * Why SQLite's reader cannot open `filename` where it is, said as the directory's refusal (`no
 * write permission on the directory /srv/blog`, `the directory /mnt/backup is on a read-only file
 * system`): a reader of a database in WAL mode (Inkwell's always are) needs its `-shm` file, and
 * its `-wal` file, and makes them where they are not, in the directory. They are there while the
 * database is open to write (the server running), and removed by the last writer to close it.
 * None when they are both there, or the directory can take them.
 */
export const sqliteSideFilesRefused = (filename: string): Effect.Effect<Option.Option<string>, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = resolve(filename)
    if ((yield* sideFilesOf(fs, path)).length === 2) return Option.none()
    const directory = dirname(path)
    return yield* writeRefused(fs, directory, `the directory ${directory}`)
  })

/**
 * How the file is opened: to read and write; read-only; or, for a reader where SQLite cannot make
 * its `-wal` and `-shm` files, read-only from a copy (`readableCopy`), `why` being the directory's
 * refusal.
 */
type SqliteAccess =
  | { readonly _tag: "ReadWrite" }
  | { readonly _tag: "ReadOnly" }
  | { readonly _tag: "Copy"; readonly why: string }

/**
 * `sqliteAccessProblem` as the failure it is; or, for a run that only reads (`readOnly`), where
 * the problem is one of writing and the file can be read, read-only (from a copy where the
 * directory cannot take the `-wal` and `-shm` files). A file this user may write is opened to read
 * and write all the same: that connection, the last to close, removes the `-wal` and `-shm`
 * files, which a read-only one cannot.
 */
const checkSqliteAccess = (filename: string, readOnly: boolean): Effect.Effect<SqliteAccess, DatabaseOpenFailed> =>
  Effect.gen(function*() {
    const failed = (problem: string) => new DatabaseOpenFailed({ dialect: "sqlite", filename, problem, cause: undefined })
    const problem = yield* sqliteAccessProblem(filename)
    if (Option.isNone(problem)) return { _tag: "ReadWrite" } as const
    // A file not there is not created by a reader, nor is a directory one.
    const info = yield* Effect.option(Effect.flatMap(FileSystem.FileSystem, (fs) => fs.stat(filename)))
    if (!readOnly || Option.isNone(info) || info.value.type !== "File") return yield* failed(problem.value)
    const readProblem = yield* sqliteReadProblem(filename)
    if (Option.isSome(readProblem)) return yield* failed(readProblem.value)
    return Option.match(yield* sqliteSideFilesRefused(filename), {
      onNone: () => ({ _tag: "ReadOnly" }) as const,
      onSome: (why) => ({ _tag: "Copy", why }) as const
    })
  }).pipe(Effect.provide(NodeFileSystem.layer))

/** How the copies `readableCopy` makes are named in the temporary directory, before the pid of the process that made them. */
const COPY_PREFIX = "inkwell-sqlite-copy-"

/**
 * A copy of `filename` (and of its `-wal`, if there is one: commits not yet in the file) in a
 * directory of its own in the system's temporary directory, removed when the scope closes, and
 * at exit should the process end first. For a reader where SQLite cannot make the `-wal` and
 * `-shm` files a reader needs (`why`: a read-only mount, a directory this user may not write;
 * a backup kept read-only). SQLite's `immutable` would open the file as it is, but
 * better-sqlite3 opens no URI filenames (built with SQLITE_USE_URI=0, opened without
 * SQLITE_OPEN_URI), and `immutable` trusts that no one writes meanwhile: here a writer is not
 * trusted but checked, as the file must be as it was once copied (else `DatabaseOpenFailed`
 * saying so). A copy that a process killed outright (SIGKILL) left is removed by a later one,
 * once an hour old (`removeLeftovers`).
 */
const readableCopy = (filename: string, why: string): Effect.Effect<string, DatabaseOpenFailed, Scope.Scope> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const source = resolve(filename)
    const changed = (problem: string) => new DatabaseOpenFailed({ dialect: "sqlite", filename, problem, cause: undefined })
    yield* Effect.sync(() =>
      removeLeftovers(tmpdir(), (name) => name.startsWith(COPY_PREFIX) ? Number(/^(\d+)-/.exec(name.slice(COPY_PREFIX.length))?.[1]) : undefined)
    )
    /** What the files to copy are: which of them are there, their sizes, times and inodes. */
    const state = Effect.gen(function*() {
      const wal = (yield* sideFilesOf(fs, source)).filter((file) => file.endsWith("-wal"))
      const files = [source, ...wal]
      const stamps = yield* Effect.forEach(files, (file) =>
        Effect.map(fs.stat(file), (info) => `${file}:${info.size}:${Option.getOrUndefined(info.mtime)?.getTime()}:${Option.getOrUndefined(info.ino)}`))
      return { files, stamp: stamps.join("\n") }
    })
    const directory = yield* Effect.acquireRelease(
      Effect.tap(fs.makeTempDirectory({ prefix: `${COPY_PREFIX}${process.pid}-` }), (made) => Effect.sync(() => removeAtExit(made))),
      (made) => Effect.sync(() => removeNow(made))
    )
    const before = yield* state
    for (const file of before.files) yield* fs.copyFile(file, join(directory, basename(file)))
    if ((yield* state).stamp !== before.stamp) {
      return yield* changed(
        `cannot read the SQLite database ${filename}: it was written while it was copied (${why}, where SQLite creates the -wal and -shm files a reader needs, so it is read from a copy); run again once it is not written`
      )
    }
    const copy = join(directory, basename(source))
    yield* Effect.logInfo(`reading a copy of the SQLite database ${filename}, made in ${directory}: ${why}, where SQLite creates the -wal and -shm files a reader needs`)
    return copy
  }).pipe(
    Effect.mapError((cause) =>
      cause instanceof DatabaseOpenFailed
        ? cause
        : new DatabaseOpenFailed({
          dialect: "sqlite",
          filename,
          problem: `cannot read the SQLite database ${filename}: ${why}, where SQLite creates the -wal and -shm files a reader needs, and copying it to read it failed: ${describeFailure(cause)}`,
          cause
        })
    ),
    Effect.provide(NodeFileSystem.layer)
  )

/** SQLite's code for a file whose header is not a database's (`file is not a database`). */
const notADatabase = (cause: unknown) => hasCode(cause, (code) => code === "SQLITE_NOTADB")

/** A failure to open `filename`, said as what it is when SQLite's code tells. */
const sqliteOpenFailed = (filename: string, cause: unknown) =>
  new DatabaseOpenFailed({
    dialect: "sqlite",
    filename,
    cause,
    ...(notADatabase(cause) ? { problem: `${filename} is not an SQLite database` } : {})
  })

/**
 * Per-connection settings. The SQLite client keeps one connection for its lifetime, so setting
 * them once here holds for every later statement. WAL is the client's default (`disableWAL`).
 */
const sqlitePragmas = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`PRAGMA busy_timeout = ${SQLITE_WRITER_BUSY_TIMEOUT_MS}`)
  yield* sql`PRAGMA foreign_keys = ON`
  yield* sql`PRAGMA synchronous = NORMAL`
})

/**
 * The SQLite client opens the file (`new Database`, the WAL pragma) inside an Effect without a
 * `try`, so a file that is not a database, or cannot be opened, is a defect there: it becomes
 * `DatabaseOpenFailed` here, which callers report in one line. An interruption stays one.
 */
const sqliteClient = (opened: string, filename: string, readOnly: boolean) =>
  // Read-only: WAL is the database's mode already, and setting it is a write.
  SqliteClient.layer({ filename: opened, readonly: readOnly, disableWAL: readOnly }).pipe(
    Layer.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause)
        ? Layer.failCause(Cause.stripFailures(cause))
        : Layer.fail(sqliteOpenFailed(filename, Cause.squash(cause)))
    )
  )

/** The client for `filename`, opened as `checkSqliteAccess` says (a copy closed before it is removed). */
const sqliteLayer = (filename: string, readOnly: boolean) =>
  Layer.unwrapScoped(
    Effect.gen(function*() {
      yield* ensureParentDirectory(filename)
      const access = yield* checkSqliteAccess(filename, readOnly)
      return access._tag === "Copy"
        ? sqliteClient(yield* readableCopy(filename, access.why), filename, true)
        : sqliteClient(filename, filename, access._tag === "ReadOnly")
    })
  ).pipe(
    Layer.tap((context) =>
      sqlitePragmas.pipe(
        Effect.provide(context),
        Effect.mapError((cause) => sqliteOpenFailed(filename, cause))
      )
    )
  )

/**
 * PostgreSQL connections opened at most when no `maxConnections` is given: the default of
 * `DB_MAX_CONNECTIONS`, so the driver's pool and DatabasePool's permits agree by default
 * (pg's own default, 10, would not).
 */
export const DEFAULT_PG_MAX_CONNECTIONS = 8

/** How long opening a PostgreSQL connection (or waiting for a free one in the driver) may take. */
export const PG_CONNECT_TIMEOUT = Duration.seconds(5)

/** How long a PostgreSQL statement may run when no `statementTimeout` is given (DB_STATEMENT_TIMEOUT's default). */
export const DEFAULT_PG_STATEMENT_TIMEOUT = Duration.seconds(30)

/**
 * How long past the statement timeout the client waits for the server's answer (its own
 * "canceling statement due to statement timeout") before it gives the connection up as silent.
 */
export const PG_SILENCE_GRACE = Duration.seconds(5)

/**
 * When a connection idle this long is first probed by TCP keepalive: keeps a NAT's or firewall's
 * mapping alive, and lets the kernel notice a peer that vanished.
 */
export const PG_KEEPALIVE_DELAY = Duration.seconds(30)

export interface SqlLiveOptions {
  /**
   * PostgreSQL connections to open at most (SQLite has one connection). Give DatabasePool the
   * same number: `layerConfig` and `DatabasePool.layerConfig` both read `DB_MAX_CONNECTIONS`.
   */
  readonly maxConnections?: number | undefined
  /** PostgreSQL: how long one statement may run (`DB_STATEMENT_TIMEOUT`). */
  readonly statementTimeout?: Duration.DurationInput | undefined
  /**
   * Nothing is written through this client (`inkwell export`, `reprocess --dry-run`): an SQLite
   * file this user may read but not write is opened read-only rather than refused. PostgreSQL:
   * no change (a read-only role or a standby refuses writes itself).
   */
  readonly readOnly?: boolean | undefined
}

/** Whether a statement is still running (or queued) on a connection: pg's internals, read defensively. */
const hasStatementInFlight = (client: pg.PoolClient): boolean => {
  const internals = client as unknown as {
    readonly _getActiveQuery?: () => unknown
    readonly _queryQueue?: ReadonlyArray<unknown>
  }
  return internals._getActiveQuery?.() != null || (internals._queryQueue?.length ?? 0) > 0
}

/** Closing politely (what the pool does) waits for the server's goodbye, which a silent peer never sends. */
const destroySocket = (client: pg.PoolClient): void => {
  const internals = client as unknown as { readonly connection?: { readonly stream?: { readonly destroy?: () => void } } }
  internals.connection?.stream?.destroy?.()
}

type ConnectCallback = (err: Error | undefined, client: pg.PoolClient | undefined, release: (err?: Error | boolean) => void) => void

/** PostgreSQL's read_only_sql_transaction: a write refused by a server (or a session) that takes none. */
const READ_ONLY_SQL_TRANSACTION = "25006"

/**
 * Calls `refused` when `client` refuses a write as read-only: its connection's error messages,
 * which pg hands to the statement that failed and to no listener of its own.
 */
const onReadOnlyRefusal = (client: pg.PoolClient, refused: () => void): void => {
  const internals = client as unknown as {
    readonly connection?: { readonly on?: (event: "errorMessage", listener: (message: { readonly code?: unknown }) => void) => unknown }
  }
  internals.connection?.on?.("errorMessage", (message) => {
    if (message.code === READ_ONLY_SQL_TRANSACTION) refused()
  })
}

/**
 * Connections unfit for another statement are dropped, never kept idle in the pool nor handed out.
 *
 * pg-pool takes back a released connection as idle even while a statement is still running on
 * it: one abandoned (its fiber interrupted, the request timed out; or past `query_timeout`)
 * leaves it pending, and the next statement on that connection queues behind it. On a
 * connection that went silent, that is for ever: every request got 503 and recovery waited
 * for ~60 s without traffic. Such a connection is destroyed here instead, so the pool opens a
 * fresh one. (@effect/sql-pg releases a connection without an error after interrupting its
 * statement, and only tries a `pg_cancel_backend` first.)
 *
 * A session that refused a write as read-only (25006) stays read-only: it was opened on a
 * standby, which it stays connected to when the address moves to the new primary, or on a
 * database whose sessions start read-only (`default_transaction_read_only`, read as a session
 * starts). Kept, it answered the writes it served 503 long after the database took writes
 * again: with one write every 3 s, for 36 s; only ~10 s without any request (the pool's idle
 * timeout) ended it. The pool's other connections opened by then went to the same server and
 * are no better: every one is closed as it is released or would be handed out, so the next
 * write opens a connection to the server the address names now. While the database stays
 * read-only, each refused write costs the reads that follow a reconnection.
 */
const discardUnfitConnections = (pool: pg.Pool): pg.Pool => {
  // Connections are numbered as they open; those up to `refusedUpTo` are closed.
  let opened = 0
  let refusedUpTo = 0
  const numbers = new WeakMap<pg.PoolClient, number>()
  pool.on("connect", (client) => {
    numbers.set(client, ++opened)
    onReadOnlyRefusal(client, () => refusedUpTo = opened)
  })
  const openedBeforeRefusal = (client: pg.PoolClient) => {
    const number = numbers.get(client)
    return number !== undefined && number <= refusedUpTo
  }
  const connect = pool.connect.bind(pool) as (callback: ConnectCallback) => void
  const guardedConnect = (callback: ConnectCallback): void =>
    connect((err, client, release) => {
      if (err !== undefined || client === undefined) return callback(err, client, release)
      // An idle connection from before a refused write: closed (a released error), and another taken.
      if (openedBeforeRefusal(client)) {
        release(new Error("connection opened before a write was refused as read-only"))
        return guardedConnect(callback)
      }
      const guarded = (releaseErr?: Error | boolean) => {
        if (releaseErr) return release(releaseErr)
        if (hasStatementInFlight(client)) {
          release(new Error("connection released with a statement in flight"))
          return destroySocket(client)
        }
        // The pool closes it politely: the server answers.
        if (openedBeforeRefusal(client)) return release(new Error("connection refused a write as read-only"))
        return release(releaseErr)
      }
      client.release = guarded
      callback(undefined, client, guarded)
    })
  return Object.assign(pool, {
    connect: (callback?: ConnectCallback) =>
      callback !== undefined ? guardedConnect(callback) : new Promise<pg.PoolClient>((resolve, reject) =>
        guardedConnect((err, client) => err !== undefined || client === undefined ? reject(err) : resolve(client))
      )
  })
}

/** The cancellation @effect/sql-pg sends when a statement's fiber is interrupted. */
const CANCEL_STATEMENT = /^SELECT pg_cancel_backend\(\d+\)$/

/**
 * @effect/sql-pg cancels an interrupted statement through the pool it ran on, and waits up to
 * 5 s for it: when the pool's idle connections have gone silent (as the interrupted one
 * probably has), the cancel lands on one of them, holds it, and the request is answered 5 s
 * past REQUEST_TIMEOUT. Here it gets a connection of its own, opened for it and closed after.
 */
const cancelOnOwnConnection = (pool: pg.Pool, config: pg.ClientConfig): pg.Pool => {
  const query = pool.query.bind(pool) as (...args: Array<unknown>) => unknown
  return Object.assign(pool, {
    query: (...args: Array<unknown>): unknown => {
      const [text, callback] = args
      if (typeof text !== "string" || !CANCEL_STATEMENT.test(text) || typeof callback !== "function") return query(...args)
      const client = new pg.Client(config)
      client.on("error", () => {})
      client.connect()
        .then(() => client.query(text))
        .then((result) => callback(undefined, result), (err: unknown) => callback(err))
        .finally(() => client.end().catch(() => {}))
      return undefined
    }
  })
}

/**
 * The PostgreSQL pool. Connections killed by the server (restart, failover, pg_terminate_backend)
 * fail the statements running on them; the driver drops them and opens fresh ones on demand.
 * Connections that go silent instead (a NAT or failover dropping packets: nothing is closed) are
 * noticed by TCP keepalive, by the client's own deadline on every statement (`query_timeout`,
 * the statement timeout and a grace) and by the destruction of a connection whose statement was
 * abandoned: none goes back to the pool with a statement pending, nor one that refused a write
 * as read-only (`discardUnfitConnections`). `redacted` names the
 * database in messages: the URL as written, its password masked.
 */
const pgLayer = (url: Redacted.Redacted, redacted: string, maxConnections: number, statementTimeout: Duration.Duration) => {
  const failedToConnect = (cause: unknown) => new SqlError.SqlError({ cause: scrubbed(cause), message: "PgClient: Failed to connect" })
  // The driver's error keeps its code (read by Transient) and loses any piece of the password.
  const scrubbed = (cause: unknown) => {
    if (cause instanceof Error) {
      cause.message = withoutPassword(Redacted.value(url), cause.message)
      const { hostname } = cause as { hostname?: unknown }
      if (typeof hostname === "string") Object.assign(cause, { hostname: withoutPassword(Redacted.value(url), hostname) })
    }
    return cause
  }
  // As PgClient.make builds its pool, plus keepalive, the statement deadlines and the guard above.
  const acquire = Effect.gen(function*() {
    const pool = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const connection: pg.ClientConfig = {
          connectionString: Redacted.value(url),
          connectionTimeoutMillis: Duration.toMillis(PG_CONNECT_TIMEOUT),
          // Names our sessions in pg_stat_activity.
          application_name: "inkwell",
          keepAlive: true,
          keepAliveInitialDelayMillis: Duration.toMillis(PG_KEEPALIVE_DELAY),
          statement_timeout: Duration.toMillis(statementTimeout),
          query_timeout: Duration.toMillis(Duration.sum(statementTimeout, PG_SILENCE_GRACE))
        }
        const pool = cancelOnOwnConnection(
          discardUnfitConnections(new pg.Pool({ ...connection, max: maxConnections })),
          { ...connection, statement_timeout: Duration.toMillis(PG_CONNECT_TIMEOUT), query_timeout: Duration.toMillis(PG_CONNECT_TIMEOUT) }
        )
        // An idle connection's error (the server killed it) is handled by the pool, which drops it.
        pool.on("error", () => {})
        return pool
      }),
      (pool) => Effect.promise(() => pool.end()).pipe(Effect.interruptible, Effect.timeoutOption(1000))
    )
    yield* Effect.tryPromise({ try: () => pool.query("SELECT 1"), catch: failedToConnect }).pipe(
      Effect.timeoutFail({ duration: PG_CONNECT_TIMEOUT, onTimeout: () => failedToConnect(new Error("Connection timed out")) })
    )
    return pool
  })
  return Layer.map(
    PgClient.layerFromPool({ acquire, applicationName: "inkwell" }),
    // `fromPool` leaves the pool's size out of the client's config, where DatabasePool reads it.
    (context) => {
      const client = Context.get(context, PgClient.PgClient)
      Object.assign(client, { config: { ...client.config, maxConnections } })
      return context
    }
  ).pipe(
    // The client's first query failed ("PgClient: Failed to connect", or timed out): say which
    // server, database and user were tried (password masked) and why, in one line.
    Layer.mapError((error) =>
      isSqlError(error)
        ? new DatabaseOpenFailed({ dialect: "pg", url: redacted, cause: error.cause ?? error })
        : error
    )
  )
}

export const isSqlError = (u: unknown): u is SqlError.SqlError =>
  typeof u === "object" && u !== null && (u as { readonly _tag?: unknown })._tag === "SqlError"

/**
 * @effect/sql runs COMMIT and ROLLBACK with `orDie`: on a connection the server killed, a
 * transaction therefore ends in a defect, which DatabasePool (it maps failures) would let crash
 * the request instead of answering `DatabaseError`. The type of `withTransaction` already
 * promises `SqlError` as a failure, so that is what it becomes here.
 *
 * A ROLLBACK that fails after the transaction failed says nothing new: its connection was killed
 * between two statements, or SQLite already rolled the transaction back itself (`RAISE(ROLLBACK)`
 * in a trigger, a full disk, an interrupt: "cannot rollback - no transaction is active"). The
 * transaction's own failure is what is returned, the ROLLBACK's is logged. Shared by the client's
 * `withTransaction` and DatabasePool's SQLite write transactions, which build their own.
 */
export const keepTransactionFailure = (withTransaction: WithTransaction): WithTransaction => {
  // Already kept (a client SqlLive built, then pooled): wrapping again would only cost.
  if (keptTransactions.has(withTransaction)) return withTransaction
  const kept: WithTransaction = (self) => keepFailure(withTransaction, self)
  keptTransactions.add(kept)
  return kept
}

/** A client's `withTransaction`. */
export type WithTransaction = <R, E, A>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | SqlError.SqlError, R>

const keptTransactions = new WeakSet<WithTransaction>()

const keepFailure = <R, E, A>(withTransaction: WithTransaction, self: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError.SqlError, R> =>
  Effect.suspend(() => {
    let failed: Cause.Cause<E> | undefined
    const observed = Effect.onError(self, (cause) => Effect.sync(() => failed = cause))
    return Effect.catchSomeDefect(
      withTransaction(observed),
      (defect) => {
        if (!isSqlError(defect)) return Option.none()
        if (failed === undefined) return Option.some(Effect.fail(defect))
        return Option.some(
          Effect.zipRight(
            Effect.logWarning(`ROLLBACK failed after the transaction failed (its own failure is kept): ${describeFailure(defect)}`),
            Effect.failCause(failed)
          )
        )
      }
    )
  })

/**
 * The client's `withTransaction` through `keepTransactionFailure`. The client object is patched
 * in place so the PgClient tag, `safe` and nested transactions all see the same method.
 */
export const failTransactionsOnSqlError = (sql: SqlClient.SqlClient): SqlClient.SqlClient =>
  Object.assign(sql, { withTransaction: keepTransactionFailure(sql.withTransaction) })

const patchTransactions = <E, R>(layer: Layer.Layer<SqlClient.SqlClient, E, R>) =>
  Layer.map(layer, (context) => Context.add(context, SqlClient.SqlClient, failTransactionsOnSqlError(Context.get(context, SqlClient.SqlClient))))

/** The SqlClient for a `DATABASE_URL` value. */
export const layer = (
  url: string,
  options: SqlLiveOptions = {}
): Layer.Layer<SqlClient.SqlClient, DatabaseUrlInvalid | DatabaseOpenFailed | ConfigError.ConfigError | SqlError.SqlError> =>
  Either.match(parseDatabaseUrl(url), {
    onLeft: (error) => Layer.fail(error),
    onRight: (target) =>
      patchTransactions<DatabaseOpenFailed | ConfigError.ConfigError | SqlError.SqlError, never>(
        target.dialect === "sqlite"
          ? sqliteLayer(target.filename, options.readOnly === true)
          : pgLayer(
            target.url,
            // As written: the parameters added for the driver (`withLibpqSslMode`) are not the
            // user's; those read from libpq's variables are named, as set.
            target.environment.length === 0 ? redactUrl(url) : `${redactUrl(url)} with ${target.environment.join(", ")}`,
            options.maxConnections ?? DEFAULT_PG_MAX_CONNECTIONS,
            Duration.decode(options.statementTimeout ?? DEFAULT_PG_STATEMENT_TIMEOUT)
          )
      )
  })

const configured = (readOnly: boolean): Layer.Layer<
  SqlClient.SqlClient,
  DatabaseUrlInvalid | DatabaseOpenFailed | ConfigError.ConfigError | SqlError.SqlError
> =>
  Layer.unwrapEffect(
    Effect.map(DatabaseConfig, (config) =>
      layer(config.url, { maxConnections: config.maxConnections, statementTimeout: config.statementTimeout, readOnly }))
  )

/** As `layer`, with `DATABASE_URL`, `DB_MAX_CONNECTIONS` and `DB_STATEMENT_TIMEOUT` from config. */
export const layerConfig = configured(false)

/** As `layerConfig`, for a run that writes nothing (`readOnly`: `inkwell export`, `reprocess --dry-run`). */
export const layerConfigReadOnly = configured(true)
