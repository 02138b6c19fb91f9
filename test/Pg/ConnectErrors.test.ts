/**
 * A DATABASE_URL that names a PostgreSQL server, database or user that cannot be reached: the
 * layer fails with one error naming the URL it tried (password masked) and the driver's reason,
 * and `describeFailure` (what `npm start` and `inkwell import` print) says the same in one line.
 * Touches no database: the database named below does not exist.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer } from "effect"
import { describeFailure } from "../../src/App.js"
import * as SqlLive from "../../src/Database/SqlLive.js"
import { describePg, PG_TEST_URL, withDatabase } from "../fixtures/pg.js"

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
