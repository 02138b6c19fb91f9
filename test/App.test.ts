/**
 * `AppLive` with a bad setting: it fails naming the variable, before a database is created.
 * Each layer reads its own settings when built, after the layers it needs; PORT, read last,
 * was reported only once the SQLite file had been created and migrated.
 */
import { assert, describe, it } from "@effect/vitest"
import { SqlError } from "@effect/sql"
import { Cause, ConfigProvider, Effect, Layer } from "effect"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { AppLive, describeFailure } from "../src/App.js"
import { DatabaseError } from "../src/Domain/Errors.js"

/** Every variable a layer of AppLive reads that can be invalid, with a value it refuses. */
const badSettings: ReadonlyArray<readonly [string, string]> = [
  ["PORT", "x"],
  ["PORT", "99999"],
  // Effect's Config.integer took an empty value for 0 (a random port) and 0x50 for 80.
  ["PORT", ""],
  ["PORT", "0x50"],
  ["SHUTDOWN_GRACE", "soon"],
  ["SHUTDOWN_GRACE", "-5 seconds"],
  ["RESPONSE_CACHE_TTL", "-5 seconds"],
  ["REQUEST_TIMEOUT", "soon"],
  ["MAX_BODY_SIZE", "0"],
  ["RETRY_AFTER", "-1"],
  ["RESPONSE_CACHE_SIZE", "-1"],
  ["RESPONSE_CACHE_MAX_BYTES", "0"],
  ["RESPONSE_CACHE_TTL", "soon"],
  ["HTTP_REQUEST_SPANS", "perhaps"],
  ["HTTP_COMPRESSION", "perhaps"],
  ["HTTP_COMPRESSION_MAX_BYTES", "0"],
  ["DB_MAX_CONNECTIONS", "0"],
  ["DB_ACQUIRE_TIMEOUT", "soon"],
  ["WORDS_PER_MINUTE", "0"],
  ["EXCERPT_LENGTH", "-5"],
  ["HOST", "not a host"],
  ["HOST", "999.1.1.1"],
  ["SITE_URL", "ftp://example.com"],
  ["SITE_PAGE_SIZE", "101"],
  ["SITE_CACHE_MAX_AGE", "-1"],
  ["SITE_TIME_ZONE", "Mars/Olympus"],
  ["IMPORT_CONCURRENCY", "0"],
  ["IMPORT_TIMEOUT", "0 seconds"],
  ["IMPORT_ON_CONFLICT", "overwrite"],
  ["FEED_RETRIES", "lots"],
  ["FEED_RETRIES", ""],
  ["RESPONSE_CACHE_SIZE", ""],
  ["FEED_TIMEOUT", "soon"],
  ["FEED_USER_AGENT", "Inkwell\r\nX-Injected: 1"]
]

describe("AppLive with a bad setting", () => {
  for (const [name, value] of badSettings) {
    it.live(`${name}=${value} fails naming ${name}, and creates no database`, () =>
      Effect.gen(function* () {
        const dir = mkdtempSync(join(tmpdir(), "inkwell-app-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
        const database = join(dir, "data", "x.db")
        const env = { DATABASE_URL: `sqlite:${database}`, PORT: "0", HOST: "127.0.0.1", [name]: value }
        const exit = yield* Layer.build(AppLive).pipe(
          Effect.scoped,
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
          Effect.exit
        )
        assert.isTrue(exit._tag === "Failure", "the server started")
        if (exit._tag === "Failure") assert.match(describeFailure(exit.cause), new RegExp(`^invalid configuration: .*${name}`))
        assert.isFalse(existsSync(join(dir, "data")), "no database (nor its directory) was created")
      }).pipe(Effect.scoped))
  }
})

describe("AppLive with a DATABASE_URL of a known scheme that names nothing", () => {
  for (const [url, said] of [
    ["postgres://", "DATABASE_URL postgres:// names no host: postgres://[user[:password]@]host[:port]/database"],
    ["postgresql://", "DATABASE_URL postgresql:// names no host: postgres://[user[:password]@]host[:port]/database"],
    ["sqlite://", "DATABASE_URL sqlite: names no file: sqlite:<path> or sqlite::memory:"]
  ] as const) {
    it.live(`${url} is invalid configuration saying what it lacks`, () =>
      Effect.gen(function* () {
        const env = { DATABASE_URL: url, PORT: "0", HOST: "127.0.0.1" }
        const exit = yield* Layer.build(AppLive).pipe(
          Effect.scoped,
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
          Effect.exit
        )
        assert.isTrue(exit._tag === "Failure", "the server started")
        if (exit._tag === "Failure") assert.strictEqual(describeFailure(exit.cause), `invalid configuration: ${said}`)
      }))
  }
})

describe("describeFailure of a statement that failed", () => {
  it("names the operation and the database's reason (an export stopped by DB_STATEMENT_TIMEOUT said only which operation)", () => {
    const timedOut = Object.assign(new Error("canceling statement due to statement timeout"), { code: "57014" })
    const error = new DatabaseError({ operation: "PostRepository.list", cause: new SqlError.SqlError({ cause: timedOut, message: "Failed to execute statement" }) })
    const line = describeFailure(Cause.fail(error))
    assert.include(line, "PostRepository.list")
    assert.include(line, "canceling statement due to statement timeout")
  })
})
