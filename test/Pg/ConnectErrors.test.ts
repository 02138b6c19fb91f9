/**
 * A DATABASE_URL that names a PostgreSQL server, database or user that cannot be reached: the
 * layer fails with one error naming the URL it tried (password masked) and the driver's reason,
 * and `describeFailure` (what `npm start` and `inkwell import` print) says the same in one line.
 * Touches no database: the database named below does not exist.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it, onTestFinished } from "@effect/vitest"
import { Cause, Effect, Either, Exit, Layer, Redacted } from "effect"
import pg from "pg"
import { describeFailure } from "../../src/App.js"
import * as SqlLive from "../../src/Database/SqlLive.js"
import { describePg, PG_TEST_URL, temporaryRole, withDatabase } from "../fixtures/pg.js"

const PASSWORD = "pa55-w0rd-never-shown"

/** `url` with a user and password set (trust auth ignores the password). */
const withPassword = (url: string): string => {
  const parsed = new URL(url)
  if (parsed.username === "") parsed.username = "root"
  parsed.password = PASSWORD
  return parsed.toString()
}

const failure = (url: string) =>
  Effect.map(Effect.exit(Layer.build(SqlLive.layer(url)).pipe(Effect.scoped)), (exit) => {
    assert.isTrue(Exit.isFailure(exit), "the layer fails")
    return Exit.isFailure(exit) ? exit.cause : Cause.empty
  })

describe("redactUrl", () => {
  it("masks the password and keeps where it points", () => {
    assert.strictEqual(
      SqlLive.redactUrl("postgres://inkwell:secret@db.internal:5432/inkwell"),
      "postgres://inkwell:***@db.internal:5432/inkwell"
    )
    assert.strictEqual(SqlLive.redactUrl("postgresql://db.internal/inkwell"), "postgresql://db.internal/inkwell")
    assert.strictEqual(SqlLive.redactUrl("postgres://root@127.0.0.1:5432/test"), "postgres://root@127.0.0.1:5432/test")
    // Unencoded "@" and "/" in the password, and a password parameter.
    assert.strictEqual(SqlLive.redactUrl("postgres://u:p@ss/w@h:5432/db?sslmode=require"), "postgres://u:***@h:5432/db?sslmode=require")
    assert.strictEqual(
      SqlLive.redactUrl("postgres://h/db?user=u&password=hunter2&sslmode=require"),
      "postgres://h/db?user=u&password=***&sslmode=require"
    )
    // Generated passwords hold "?", "#", "/" and "@" unencoded: a "?" in one left it whole.
    assert.strictEqual(SqlLive.redactUrl("postgres://inkwell:Xy7?kP2#mQ@127.0.0.1:5432/db"), "postgres://inkwell:***@127.0.0.1:5432/db")
    assert.strictEqual(SqlLive.redactUrl("postgres://u:Secr3t@Pass?x=1@h:5432/db"), "postgres://u:***@h:5432/db")
  })

  it("the driver's words lose every piece of the password (what it took for a host)", () => {
    const url = "postgres://postgres:Secr3t@Pass/2024@127.0.0.1:5432/db"
    assert.strictEqual(SqlLive.withoutPassword(url, "getaddrinfo ENOTFOUND Pass"), "getaddrinfo ENOTFOUND ***")
    assert.strictEqual(SqlLive.withoutPassword(url, "no Secr3t@Pass/2024 here"), "no *** here")
    assert.strictEqual(SqlLive.withoutPassword("postgres://h/db?password=hunter2", "bad hunter2"), "bad ***")
    assert.strictEqual(SqlLive.withoutPassword("postgres://root@h/db", "getaddrinfo ENOTFOUND h"), "getaddrinfo ENOTFOUND h")
  })
})

describe("a PostgreSQL DATABASE_URL with an unencoded password", () => {
  it.live("the start-up line shows none of it, not even the piece the driver took for the host", () =>
    Effect.gen(function*() {
      for (const url of ["postgres://inkwell:Xy7?kP2#mQ@127.0.0.1:5432/db", "postgres://postgres:Secr3t@Pass/2024@127.0.0.1:5432/db"]) {
        const line = describeFailure(yield* failure(url))
        assert.include(line, "database unavailable", url)
        for (const secret of ["Xy7", "kP2", "mQ@", "Secr3t", "Pass", "2024"]) assert.notInclude(line, secret, `${url}: ${line}`)
      }
    }), 30_000)
})

describePg("A PostgreSQL DATABASE_URL that cannot be opened", () => {
  it.live("a missing database: DatabaseOpenFailed naming the URL without its password, and the reason", () =>
    Effect.gen(function*() {
      const missing = `inkwell_missing_${Date.now().toString(36)}`
      const url = withPassword(withDatabase(PG_TEST_URL, missing))
      const cause = yield* failure(url)
      const error = Cause.squash(cause) as SqlLive.DatabaseOpenFailed
      assert.strictEqual(error._tag, "DatabaseOpenFailed")
      const parsed = new URL(url)
      assert.include(error.message, `${parsed.username}:***@${parsed.host}/${missing}`)
      assert.notInclude(error.message, PASSWORD)
      const line = describeFailure(cause)
      assert.include(line, `database unavailable: cannot connect to the PostgreSQL database postgres://`)
      assert.include(line, `${parsed.host}/${missing}`)
      assert.include(line, `database "${missing}" does not exist`)
      assert.notInclude(line, PASSWORD)
    }))

  it.live("a login refused (a role that may not log in, 28000, as a wrong password's 28P01): the line names user and host, not the password", () =>
    Effect.gen(function*() {
      const role = yield* temporaryRole("NOLOGIN")
      const parsed = new URL(withPassword(PG_TEST_URL))
      parsed.username = role
      const line = describeFailure(yield* failure(parsed.toString()))
      assert.include(line, `database unavailable: cannot connect to the PostgreSQL database postgres://${role}:***@${parsed.host}/`)
      assert.include(line, `role "${role}" is not permitted to log in`)
      assert.notInclude(line, PASSWORD)
    }).pipe(Effect.scoped))

  it.live("a port nothing listens on: the line names host and port", () =>
    Effect.gen(function*() {
      const parsed = new URL(withPassword(PG_TEST_URL))
      parsed.port = "1"
      const cause = yield* failure(parsed.toString())
      const line = describeFailure(cause)
      assert.include(line, `cannot connect to the PostgreSQL database postgres://${parsed.username}:***@${parsed.hostname}:1/`)
      assert.notInclude(line, PASSWORD)
    }))
})

/** The warnings Node emits (`process.emitWarning`) while `body` runs, and a turn after: they are emitted on the next tick. */
const warningsDuring = async (body: () => Promise<void> | void): Promise<Array<string>> => {
  const seen: Array<string> = []
  const listener = (warning: Error) => seen.push(warning.message)
  process.on("warning", listener)
  try {
    await body()
    await new Promise((resolve) => setImmediate(resolve))
  } finally {
    process.off("warning", listener)
  }
  return seen
}

/** What node-postgres makes of the URL Inkwell gives it for `url`, with `environment` for the process's: its `ssl` setting. */
const driverSsl = (url: string, environment: SqlLive.PgEnvironment = {}): unknown => {
  const target = SqlLive.parseDatabaseUrl(url, environment)
  if (Either.isLeft(target) || target.right.dialect !== "pg") return assert.fail(`${url} refused`)
  return (new pg.Client({ connectionString: Redacted.value(target.right.url) }) as unknown as { readonly ssl: unknown }).ssl
}

const refusal = (url: string, environment: SqlLive.PgEnvironment = {}): string => {
  const target = SqlLive.parseDatabaseUrl(url, environment)
  return Either.isLeft(target) ? target.left.message : assert.fail(`${url} taken`)
}

describe("sslmode in a PostgreSQL DATABASE_URL", () => {
  it("is read as libpq reads it, with no SECURITY WARNING from the driver (prefer, require and verify-ca were verify-full, and warned)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "inkwell-ca-"))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const ca = join(dir, "ca.pem")
    writeFileSync(ca, "not checked until a connection is made\n")
    const url = (query: string) => `postgres://u:${PASSWORD}@db.internal:5432/blog?${query}`
    const unverified = { rejectUnauthorized: false }
    const warnings = await warningsDuring(() => {
      assert.deepStrictEqual(driverSsl(url("sslmode=require")), unverified)
      assert.deepStrictEqual(driverSsl(url("sslmode=prefer")), unverified)
      assert.deepStrictEqual(driverSsl(url("sslmode=no-verify")), unverified)
      // pg's libpq reading took no-verify for verify-full.
      assert.deepStrictEqual(driverSsl(url("uselibpqcompat=true&sslmode=no-verify")), unverified)
      assert.deepStrictEqual(driverSsl(url("sslmode=verify-full")), {})
      assert.strictEqual(driverSsl(url("sslmode=disable")), false)
      assert.strictEqual(driverSsl(url("application_name=x")), false)
      // The CA checked, the host name not.
      const verifyCa = driverSsl(url(`sslmode=verify-ca&sslrootcert=${ca}`)) as { readonly ca?: unknown; readonly checkServerIdentity?: unknown }
      assert.strictEqual(verifyCa.ca, "not checked until a connection is made\n")
      assert.strictEqual(typeof verifyCa.checkServerIdentity, "function")
      // With a root certificate, require checks it as verify-ca does.
      assert.strictEqual(typeof (driverSsl(url(`sslmode=require&sslrootcert=${ca}`)) as { readonly checkServerIdentity?: unknown }).checkServerIdentity, "function")
    })
    assert.deepStrictEqual(warnings, [])
  })

  it("an unknown value is refused, naming sslmode and the values taken; so are verify-ca without its CA and uselibpqcompat other than true", () => {
    for (const mode of ["bogus", "allow", "REQUIRE", ""]) {
      const message = refusal(`postgres://u:${PASSWORD}@db.internal/blog?sslmode=${mode}`)
      assert.strictEqual(
        message,
        `DATABASE_URL sslmode must be disable, prefer, require, verify-ca, verify-full or no-verify (got "${mode}")`
      )
    }
    assert.include(refusal(`postgres://u:${PASSWORD}@h/blog?sslmode=verify-ca`), "sslmode=verify-ca needs sslrootcert=")
    assert.include(refusal(`postgres://u:${PASSWORD}@h/blog?sslmode=require&uselibpqcompat=false`), `uselibpqcompat must be true (got "false")`)
    // What the command line says before it opens anything.
    const line = describeFailure(Cause.fail(Either.flip(SqlLive.parseDatabaseUrl(`postgres://u:${PASSWORD}@h/blog?sslmode=bogus`)).pipe(Either.getOrThrow)))
    assert.match(line, /^invalid configuration: DATABASE_URL sslmode must be /)
    assert.notInclude(line, PASSWORD)
  })
})

describe("PGSSLMODE (and PGSSLROOTCERT, PGSSLCERT, PGSSLKEY) with a PostgreSQL DATABASE_URL", () => {
  const url = (query = "") => `postgres://u:${PASSWORD}@db.internal:5432/blog${query === "" ? "" : `?${query}`}`
  const unverified = { rejectUnauthorized: false }
  const files = () => {
    const dir = mkdtempSync(join(tmpdir(), "inkwell-ca-"))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const file = (name: string) => {
      const path = join(dir, name)
      writeFileSync(path, `${name}: not checked until a connection is made\n`)
      return path
    }
    return { ca: file("ca.pem"), cert: file("client.crt"), key: file("client.key") }
  }

  it("is read as libpq reads it, as a URL's sslmode is, when the URL has none (was: node-postgres's reading: require, prefer and verify-ca were verify-full against Node's CAs, PGSSLROOTCERT unread)", async () => {
    const { ca, cert, key } = files()
    const warnings = await warningsDuring(() => {
      assert.deepStrictEqual(driverSsl(url(), { PGSSLMODE: "require" }), unverified)
      assert.deepStrictEqual(driverSsl(url(), { PGSSLMODE: "prefer" }), unverified)
      assert.deepStrictEqual(driverSsl(url("application_name=x"), { PGSSLMODE: "no-verify" }), unverified)
      assert.deepStrictEqual(driverSsl(url(), { PGSSLMODE: "verify-full" }), {})
      assert.strictEqual(driverSsl(url(), { PGSSLMODE: "disable" }), false)
      // Set to nothing, as a template may leave it: not set.
      assert.strictEqual(driverSsl(url(), { PGSSLMODE: "" }), false)
      // The CA of PGSSLROOTCERT checked, the host name not.
      const verifyCa = driverSsl(url(), { PGSSLMODE: "verify-ca", PGSSLROOTCERT: ca }) as { readonly ca?: unknown; readonly checkServerIdentity?: unknown }
      assert.strictEqual(verifyCa.ca, "ca.pem: not checked until a connection is made\n")
      assert.strictEqual(typeof verifyCa.checkServerIdentity, "function")
      // With a root certificate, require checks it as verify-ca does; verify-full checks it and the host.
      const required = driverSsl(url(), { PGSSLMODE: "require", PGSSLROOTCERT: ca }) as { readonly ca?: unknown; readonly checkServerIdentity?: unknown }
      assert.deepStrictEqual([required.ca, typeof required.checkServerIdentity], ["ca.pem: not checked until a connection is made\n", "function"])
      assert.deepStrictEqual(driverSsl(url(), { PGSSLMODE: "verify-full", PGSSLROOTCERT: ca }), { ca: "ca.pem: not checked until a connection is made\n" })
      // A client certificate, with a mode from the URL or the environment.
      for (const [query, environment] of [["sslmode=verify-full", {}], ["", { PGSSLMODE: "verify-full" }]] as const) {
        // The driver hides the key from enumeration (and logs): read by name.
        const ssl = driverSsl(url(query), { ...environment, PGSSLCERT: cert, PGSSLKEY: key }) as { readonly cert?: unknown; readonly key?: unknown }
        assert.deepStrictEqual([ssl.cert, ssl.key], ["client.crt: not checked until a connection is made\n", "client.key: not checked until a connection is made\n"])
      }
    })
    assert.deepStrictEqual(warnings, [])
  })

  it("a URL's own parameter wins over its variable, as in libpq; without TLS the files are not read", () => {
    const { ca } = files()
    assert.deepStrictEqual(driverSsl(url("sslmode=verify-full"), { PGSSLMODE: "disable" }), {})
    assert.strictEqual(driverSsl(url("sslmode=disable"), { PGSSLMODE: "require" }), false)
    // node-postgres's own `ssl` says it too.
    assert.strictEqual(driverSsl(url("ssl=true"), { PGSSLMODE: "disable" }), true)
    // Not read when the URL has an sslmode: libpq does not read it then.
    assert.deepStrictEqual(driverSsl(url("sslmode=require"), { PGSSLMODE: "bogus" }), unverified)
    // The URL's CA, not the variable's (a file that is not there: read, it would fail).
    const verifyCa = driverSsl(url(`sslmode=verify-ca&sslrootcert=${ca}`), { PGSSLROOTCERT: "/nonexistent/ca.pem" }) as { readonly ca?: unknown }
    assert.strictEqual(verifyCa.ca, "ca.pem: not checked until a connection is made\n")
    // A URL's verify-ca takes PGSSLROOTCERT's CA.
    assert.strictEqual((driverSsl(url("sslmode=verify-ca"), { PGSSLROOTCERT: ca }) as { readonly ca?: unknown }).ca, "ca.pem: not checked until a connection is made\n")
    // No mode anywhere (no TLS, as without sslmode), or disable: no file is read.
    assert.strictEqual(driverSsl(url(), { PGSSLROOTCERT: "/nonexistent/ca.pem", PGSSLCERT: "/nonexistent/c.crt" }), false)
    assert.strictEqual(driverSsl(url(), { PGSSLMODE: "disable", PGSSLROOTCERT: "/nonexistent/ca.pem" }), false)
    // What was read is named for messages (the URL as written does not show it).
    const target = SqlLive.parseDatabaseUrl(url("application_name=x"), { PGSSLMODE: "verify-ca", PGSSLROOTCERT: ca, PGSSLKEY: "" })
    assert.deepStrictEqual(Either.map(target, (t) => t.dialect === "pg" ? t.environment : []), Either.right(["PGSSLMODE=verify-ca", `PGSSLROOTCERT=${ca}`]))
  })

  it("an unknown value stops the start naming PGSSLMODE and the values taken (was: no TLS at all, silently); so does verify-ca without a CA", () => {
    for (const mode of ["bogus", "allow", "REQUIRE", "verify_full"]) {
      assert.strictEqual(
        refusal(url(), { PGSSLMODE: mode }),
        `PGSSLMODE must be disable, prefer, require, verify-ca, verify-full or no-verify (got "${mode}")`
      )
    }
    assert.strictEqual(
      refusal(url(), { PGSSLMODE: "verify-ca" }),
      "PGSSLMODE=verify-ca needs PGSSLROOTCERT=<file> (or sslrootcert=<file> in DATABASE_URL), the CA the server's certificate is checked against (or use verify-full)"
    )
    assert.include(refusal(url("sslmode=verify-ca"), {}), "sslmode=verify-ca needs sslrootcert=<file> (or PGSSLROOTCERT=<file>)")
    // What the command line says before it opens anything.
    const line = describeFailure(Cause.fail(Either.flip(SqlLive.parseDatabaseUrl(url(), { PGSSLMODE: "bogus" })).pipe(Either.getOrThrow)))
    assert.strictEqual(line, `invalid configuration: PGSSLMODE must be disable, prefer, require, verify-ca, verify-full or no-verify (got "bogus")`)
  })
})

describe("the port of a PostgreSQL DATABASE_URL", () => {
  it("that is not a number is refused naming the port (was: 'Invalid URL'), never the password", () => {
    for (const [url, port] of [
      [`postgres://u:${PASSWORD}@127.0.0.1:abc/db`, "abc"],
      [`postgres://u:${PASSWORD}@127.0.0.1:99999/db`, "99999"],
      [`postgres://u:${PASSWORD}@[::1]:5x/db`, "5x"],
      // An unencoded "@" and ":" in the password: the port is read after the last "@".
      [`postgres://u:${PASSWORD}@x:y@db.internal:54 32/db`, "54 32"]
    ]) {
      const message = refusal(url!)
      assert.strictEqual(message, `DATABASE_URL port must be a number from 1 to 65535 (got "${port}"): postgres://[user[:password]@]host[:port]/database`)
      assert.notInclude(message, PASSWORD)
    }
    for (const url of ["postgres://u:p@127.0.0.1:5432/db", "postgres://u@[::1]:5432/db", "postgres://h/db", "postgres://u:p:q@h/db", "postgres:///db"]) {
      assert.isTrue(Either.isRight(SqlLive.parseDatabaseUrl(url)), url)
    }
  })
})

describePg("sslmode against a server without TLS", () => {
  it.live("require: the start is refused by the server's answer, and the driver printed no SECURITY WARNING", () =>
    Effect.gen(function*() {
      let line = ""
      const warnings = yield* Effect.promise(() =>
        warningsDuring(() =>
          Effect.runPromise(Effect.map(failure(`${withPassword(PG_TEST_URL)}?sslmode=require`), (cause) => {
            line = describeFailure(cause)
          }))
        )
      )
      assert.deepStrictEqual(warnings, [])
      assert.include(line, "The server does not support SSL connections")
      assert.include(line, "?sslmode=require")
      assert.notInclude(line, PASSWORD)
    }), 30_000)
})
