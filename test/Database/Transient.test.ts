/**
 * The one reading of database failures: which are the database unreachable, which busy (retry
 * later), which a conflict (run the transaction again), and which none of these (a 500). The
 * errors are shaped as the drivers raise them (pg's `code` and `severity`, better-sqlite3's
 * `code`), under an SqlError as the pool passes them on.
 */
import { SqlError } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { isBusy, isConflict, isLoginRefused, isReadOnly, isUnreachable, transience, transienceLogged, transienceOf } from "../../src/Database/Transient.js"
import { DatabaseError, PoolTimeout } from "../../src/Domain/Errors.js"

const pgError = (code: string, severity = "ERROR") =>
  new SqlError.SqlError({ cause: Object.assign(new Error(`pg ${code}`), { code, severity }), message: "Failed to execute statement" })

describe("Transient", () => {
  it("PostgreSQL's statement timeout, lock timeout and conflicts are busy; only the conflicts are run again at once", () => {
    for (const code of ["57014", "55P03", "40001", "40P01"]) {
      assert.isTrue(isBusy(pgError(code)), code)
      assert.strictEqual(transienceOf(pgError(code)), "busy", code)
      assert.isFalse(isUnreachable(pgError(code)), code)
    }
    assert.deepStrictEqual(["57014", "55P03", "40001", "40P01"].map((code) => isConflict(pgError(code))), [false, false, true, true])
  })

  it("SQLite's BUSY and LOCKED codes (and their extended ones) are busy", () => {
    for (const code of ["SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_LOCKED", "SQLITE_LOCKED_SHAREDCACHE"]) {
      assert.strictEqual(transienceOf(pgError(code)), "busy", code)
      assert.isFalse(isConflict(pgError(code)), code)
    }
  })

  it("a database refusing connections (55000 as it ends the session) is unreachable; 55000 said of a statement is not", () => {
    assert.strictEqual(transienceOf(pgError("55000", "FATAL")), "unreachable")
    assert.strictEqual(transienceOf(pgError("55000")), undefined)
  })

  it("refused and reset connections, a server shutting down, too many connections are unreachable", () => {
    for (const code of ["ECONNREFUSED", "ECONNRESET", "57P01", "57P03", "53300", "08006"]) {
      assert.strictEqual(transienceOf(pgError(code, "FATAL")), "unreachable", code)
    }
    // A write sent to a server in recovery (a demoted primary, a standby) is refused as a statement.
    assert.strictEqual(transienceOf(pgError("25006")), "unreachable")
    const closed = new SqlError.SqlError({ cause: new Error("Connection terminated unexpectedly"), message: "Failed to execute statement" })
    assert.strictEqual(transienceOf(closed), "unreachable")
  })

  it("a login refused (28P01 a wrong password, 28000 a role that may not log in) is unreachable, said as a login refused: it was a 500", () => {
    for (const code of ["28P01", "28000"]) {
      assert.strictEqual(transienceOf(pgError(code, "FATAL")), "unreachable", code)
      assert.isTrue(isLoginRefused(pgError(code, "FATAL")), code)
      assert.strictEqual(transience(new DatabaseError({ operation: "list", cause: pgError(code, "FATAL") })), "unreachable", code)
      assert.include(transienceLogged("unreachable", pgError(code, "FATAL")), "the database refused the login", code)
    }
    assert.isFalse(isLoginRefused(pgError("57P01", "FATAL")))
    assert.strictEqual(transienceLogged("unreachable", pgError("57P01", "FATAL")), "the database cannot be reached")
  })

  it("a write refused as read-only (25006) is unreachable, said as that: 'cannot be reached' was logged while reads answered", () => {
    assert.isTrue(isReadOnly(pgError("25006")))
    assert.isFalse(isReadOnly(pgError("57P01", "FATAL")))
    assert.strictEqual(
      transienceLogged("unreachable", pgError("25006")),
      "the database refused the write as read-only (a standby or a demoted primary)"
    )
  })

  it("a statement the database refused is neither", () => {
    for (const code of ["23505", "42P01", "22001", "SQLITE_CONSTRAINT_UNIQUE"]) {
      assert.strictEqual(transienceOf(pgError(code)), undefined, code)
    }
  })

  it("a repository's failures: PoolTimeout is busy, a DatabaseError is what its cause says", () => {
    assert.strictEqual(transience(new PoolTimeout({ waitedMs: 300, maxConnections: 1 })), "busy")
    assert.strictEqual(transience(new DatabaseError({ operation: "list", cause: pgError("57014") })), "busy")
    assert.strictEqual(transience(new DatabaseError({ operation: "list", cause: pgError("57P01", "FATAL") })), "unreachable")
    assert.strictEqual(transience(new DatabaseError({ operation: "list", cause: pgError("42P01") })), undefined)
  })
})
