/**
 * The API on PostgreSQL when the database cannot be reached, or is too busy to answer in time:
 * 503 `DatabaseUnavailable` with Retry-After, as for `PoolTimeout`; a statement the database
 * refuses stays a 500.
 */
import { assert, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import pg from "pg"
import { PostsLive } from "../../src/App.js"
import { adminQuery, createDatabase, describePg, freshSchema, silenceableRelay, temporaryRole } from "../fixtures/pg.js"
import { get, json, KEY, type LogLine, loggedServer, newPost, postJson, testServer } from "../Http/harness.js"

const postsAt = (url: string, settings: Record<string, string> = {}) =>
  PostsLive.pipe(
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries({ DATABASE_URL: url, DB_MAX_CONNECTIONS: "2", ...settings })))))
  )

const serverAt = (url: string) => testServer({ posts: postsAt(url) })

const withKey = { "x-api-key": KEY }

/** A database of the test's own (closed, made read-only, given away below), dropped at its end. */
const ownDatabase = Effect.acquireRelease(Effect.promise(() => createDatabase()), (db) => Effect.promise(() => db.drop()))

/** The server closes the sessions `where` names, as a restart or a failover does. */
const terminateSessions = (where: string) =>
  Effect.promise(() => adminQuery(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE ${where}`))

/** Each request, run in turn, is 503 `DatabaseUnavailable` saying `message`, with Retry-After. */
const assertUnavailable = (requests: ReadonlyArray<readonly [string, ReturnType<typeof get>]>, message: string) =>
  Effect.gen(function*() {
    for (const [what, request] of requests) {
      const response = yield* request
      assert.deepStrictEqual([response.status, yield* json(response)], [503, { _tag: "DatabaseUnavailable", message }], what)
      assert.strictEqual(response.headers["retry-after"], "1", what)
    }
  })

describePg("The API with the database unreachable", () => {
  it.live("connections refused: reads and writes are 503 DatabaseUnavailable with Retry-After", () =>
    Effect.gen(function*() {
      const { url } = yield* freshSchema
      const relay = yield* silenceableRelay(new URL(url))
      const server = yield* Layer.build(serverAt(relay.url(url)))
      yield* Effect.gen(function*() {
        assert.strictEqual((yield* postJson("/posts", newPost({ title: "Here" }))).status, 201)
        assert.strictEqual((yield* get("/posts/here", withKey)).status, 200)

        relay.refuse()
        // With a key: never answered from the response cache.
        yield* assertUnavailable([
          ["a read", get("/posts/here", withKey)],
          ["a list", get("/posts?limit=5", withKey)],
          ["a write", postJson("/posts", newPost({ title: "Not stored" }))]

        ], "the database cannot be reached right now; try again shortly")
      }).pipe(Effect.provide(server))
    }).pipe(Effect.scoped), 60_000)

  it.live("a statement stopped by DB_STATEMENT_TIMEOUT (posts locked by another session, 57014) is 503 DatabaseUnavailable, logged at WARN", () =>
    Effect.gen(function*() {
      const { schema, url } = yield* freshSchema
      const lines: Array<LogLine> = []
      const server = yield* Layer.build(loggedServer(lines, { posts: postsAt(url, { DB_STATEMENT_TIMEOUT: "300 millis" }) }))
      yield* Effect.gen(function*() {
        assert.strictEqual((yield* postJson("/posts", newPost({ title: "Here" }))).status, 201)
        yield* Effect.acquireRelease(
          Effect.promise(async () => {
            const client = new pg.Client({ connectionString: url })
            client.on("error", () => {})
            await client.connect()
            await client.query(`BEGIN; LOCK TABLE ${schema}.posts IN ACCESS EXCLUSIVE MODE`)
            return client
          }),
          (client) => Effect.promise(() => client.query("ROLLBACK").finally(() => client.end()).catch(() => undefined))
        )
        yield* assertUnavailable([
          ["a read", get("/posts/here", withKey)],
          ["a write", postJson("/posts", newPost({ title: "Not stored" }))]

        ], "the database is too busy to answer right now; try again shortly")
      }).pipe(Effect.provide(server), Effect.scoped)
      assert.include(lines.find((line) => line.text.includes("the database is busy"))?.text ?? "", "statement timeout")
      // Each 503's request line is at ERROR (as every 5xx's); its cause is not.
      assert.deepStrictEqual(lines.filter((line) => line.level === "ERROR" && line.annotations["status"] !== 503).map((line) => line.text), [])
    }).pipe(Effect.scoped), 60_000)

  it.live("a database refusing connections (ALLOW_CONNECTIONS false, 55000) is 503 DatabaseUnavailable, and /ready says it is not reachable", () =>
    Effect.gen(function*() {
      // A database of its own: it is closed to new connections below.
      const own = yield* ownDatabase
      const server = yield* Layer.build(serverAt(own.url))
      yield* Effect.gen(function*() {
        assert.strictEqual((yield* postJson("/posts", newPost({ title: "Here" }))).status, 201)
        yield* Effect.acquireRelease(
          Effect.promise(() => adminQuery(`ALTER DATABASE ${own.name} ALLOW_CONNECTIONS false`)),
          () => Effect.promise(() => adminQuery(`ALTER DATABASE ${own.name} ALLOW_CONNECTIONS true`))
        )
        // Its open connections go: each request must open one, and is refused.
        yield* terminateSessions(`datname = '${own.name}'`)
        yield* assertUnavailable([
          ["a read", get("/posts/here", withKey)],
          ["a read again", get("/posts/here", withKey)],
          ["a list", get("/posts?limit=5", withKey)],
          ["a write", postJson("/posts", newPost({ title: "Not stored" }))]

        ], "the database cannot be reached right now; try again shortly")
        const ready = yield* get("/ready")
        assert.deepStrictEqual([ready.status, yield* json(ready)], [503, { _tag: "NotReady", message: "the database is not reachable" }])
      }).pipe(Effect.provide(server), Effect.scoped)
    }).pipe(Effect.scoped), 60_000)

  it.live("a database that takes no writes (a demoted primary, 25006) answers reads; a write is 503 said as refused read-only, and its connection is not reused: once the database takes writes, the next write is stored (was 503 until the pool's idle timeout)", () =>
    Effect.gen(function*() {
      const own = yield* ownDatabase
      const lines: Array<LogLine> = []
      const server = yield* Layer.build(loggedServer(lines, { posts: postsAt(own.url) }))
      yield* Effect.gen(function*() {
        assert.strictEqual((yield* postJson("/posts", newPost({ title: "Here" }))).status, 201)
        // As a server in recovery refuses writes: every new session read-only, the open ones gone.
        yield* Effect.promise(() => adminQuery(`ALTER DATABASE ${own.name} SET default_transaction_read_only = on`))
        yield* terminateSessions(`datname = '${own.name}'`)
        // The first request may meet a connection killed above (unreachable too): the second is the read-only one's.
        yield* get("/posts/here", withKey)
        assert.strictEqual((yield* get("/posts/here", withKey)).status, 200)
        assert.strictEqual((yield* get("/ready")).status, 200)
        const refused = yield* postJson("/posts", newPost({ title: "Not stored" }))
        assert.deepStrictEqual([refused.status, yield* json(refused)], [503, {
          _tag: "DatabaseUnavailable",
          message: "the database refused the write as read-only (a standby or a demoted primary); try again shortly"
        }])
        assert.strictEqual(refused.headers["retry-after"], "1")

        // Writable again (the address moved to the new primary): a session opened read-only
        // stays so, and must not serve the next write.
        yield* Effect.promise(() => adminQuery(`ALTER DATABASE ${own.name} SET default_transaction_read_only = off`))
        assert.strictEqual((yield* postJson("/posts", newPost({ title: "Stored" }))).status, 201)
      }).pipe(Effect.provide(server), Effect.scoped)
      const warned = lines.filter((line) => line.level === "WARN" && line.text.includes("read-only"))
      assert.lengthOf(warned, 1, lines.map((line) => `${line.level} ${line.text}`).join("\n"))
      assert.include(warned[0]!.text, "the database refused the write as read-only (a standby or a demoted primary)")
      assert.notInclude(warned[0]!.text, "cannot be reached")
    }).pipe(Effect.scoped), 60_000)

  it.live("a login refused under a running server (its role no longer allowed to log in: 28000, as a changed password's 28P01) is 503 DatabaseUnavailable, logged as the login refused; /ready says so (was 500)", () =>
    Effect.gen(function*() {
      const role = yield* temporaryRole("LOGIN")
      // Its own database, which the role owns (PostgreSQL 15: the owner may create in public).
      const own = yield* ownDatabase
      yield* Effect.promise(() => adminQuery(`ALTER DATABASE ${own.name} OWNER TO ${role}`))
      const url = new URL(own.url)
      url.username = role
      const lines: Array<LogLine> = []
      const server = yield* Layer.build(loggedServer(lines, { posts: postsAt(url.toString()) }))
      yield* Effect.gen(function*() {
        assert.strictEqual((yield* postJson("/posts", newPost({ title: "Here" }))).status, 201)
        yield* Effect.promise(() => adminQuery(`ALTER ROLE ${role} NOLOGIN`))
        yield* terminateSessions(`usename = '${role}'`)
        // The first request may meet a connection killed above (unreachable too): the next ones open theirs, and are refused.
        yield* get("/posts/here", withKey)
        yield* assertUnavailable([
          ["a read", get("/posts/here", withKey)],
          ["a write", postJson("/posts", newPost({ title: "Not stored" }))]

        ], "the database cannot be reached right now; try again shortly")
        const ready = yield* get("/ready")
        assert.deepStrictEqual([ready.status, yield* json(ready)], [503, { _tag: "NotReady", message: "the database refused the login" }])
      }).pipe(Effect.provide(server), Effect.scoped)
      const refused = lines.find((line) => line.level === "WARN" && line.text.includes("the database refused the login"))
      assert.isDefined(refused, lines.map((line) => `${line.level} ${line.text}`).join("\n"))
      assert.include(refused!.text, "DATABASE_URL")
    }).pipe(Effect.scoped), 60_000)

  it.live("a statement the database refuses (a table gone) stays 500 InternalServerError", () =>
    Effect.gen(function*() {
      const { schema, url } = yield* freshSchema
      const server = yield* Layer.build(serverAt(url))
      yield* Effect.gen(function*() {
        assert.strictEqual((yield* postJson("/posts", newPost({ title: "Here" }))).status, 201)
        yield* Effect.promise(() => adminQuery(`DROP TABLE ${schema}.posts CASCADE`))
        const response = yield* get("/posts/here", withKey)
        assert.strictEqual(response.status, 500)
        assert.strictEqual((yield* json(response))._tag, "InternalServerError")
      }).pipe(Effect.provide(server))
    }).pipe(Effect.scoped), 60_000)
})
