/**
 * `/ready` on PostgreSQL when the database is unreachable: it answers within its own deadline,
 * not REQUEST_TIMEOUT's; and when the pool is merely busy, it says so.
 */
import { assert, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Fiber, Layer, Schedule } from "effect"
import pg from "pg"
import { PostsLive } from "../../src/App.js"
import { READY_TIMEOUT } from "../../src/Http/Server.js"
import { adminQuery, describePg, freshSchema, silenceableRelay } from "../fixtures/pg.js"
import { get, json, KEY, type LogLine, loggedServer, newPost, postJson, testServer } from "../Http/harness.js"

const postsAt = (url: string, settings: Record<string, string> = {}) =>
  PostsLive.pipe(
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries({ DATABASE_URL: url, DB_MAX_CONNECTIONS: "1", ...settings })))))
  )

/** The test server on a fresh schema, reached through `url` (a relay's). */
const serverAt = (url: string) => testServer({ posts: postsAt(url), requestTimeout: "30 seconds" })

describePg("/ready with the database unreachable", () => {
  it.live("a database that stops answering (packets dropped) is 503 NotReady after READY_TIMEOUT, not REQUEST_TIMEOUT", () =>
    Effect.gen(function*() {
      const { url } = yield* freshSchema
      const relay = yield* silenceableRelay(new URL(url))
      const server = yield* Layer.build(serverAt(relay.url(url)))
      // Before the server's layers close: their goodbyes on silent connections would never be answered.
      yield* Effect.addFinalizer(() => Effect.sync(() => relay.cut()))
      yield* Effect.gen(function*() {
        assert.strictEqual((yield* get("/ready")).status, 200)
        assert.isAtLeast(relay.silenceAll(), 1, "the pool's connection went silent")
        const started = Date.now()
        const ready = yield* get("/ready")
        const took = Date.now() - started
        assert.deepStrictEqual([ready.status, yield* json(ready)], [503, {
          _tag: "NotReady",
          message: `the database did not answer within ${Duration.format(READY_TIMEOUT)}`
        }])
        assert.isBelow(took, Duration.toMillis(READY_TIMEOUT) + 3_000, `answered after ${took} ms`)
      }).pipe(Effect.provide(server))
    }).pipe(Effect.scoped), 60_000)

  it.live("with the pool's only connection taken (a read waiting on a lock), /ready says the pool is busy, not that the database is unreachable", () =>
    Effect.gen(function*() {
      const { schema, url } = yield* freshSchema
      const server = yield* Layer.build(testServer({ posts: postsAt(url, { DB_ACQUIRE_TIMEOUT: "300 millis" }) }))
      yield* Effect.gen(function*() {
        assert.strictEqual((yield* postJson("/posts", newPost({ title: "Here" }))).status, 201)
        const other = yield* Effect.acquireRelease(
          Effect.promise(async () => {
            const client = new pg.Client({ connectionString: url })
            client.on("error", () => {})
            await client.connect()
            await client.query(`BEGIN; LOCK TABLE ${schema}.posts IN ACCESS EXCLUSIVE MODE`)
            return client
          }),
          (client) => Effect.promise(() => client.query("ROLLBACK").finally(() => client.end()).catch(() => undefined))
        )
        const read = yield* Effect.fork(get("/posts/here", { "x-api-key": KEY }))
        // Waiting on the lock, holding the pool's one connection.
        yield* Effect.promise(() =>
          adminQuery(
            `SELECT count(*)::int AS n FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM posts%'`
          ).then((result) => result.rows[0].n)
        ).pipe(
          Effect.filterOrFail((n) => n === 1, () => new Error("the read never waited on the lock")),
          Effect.retry({ schedule: Schedule.spaced("20 millis"), times: 250 })
        )
        const ready = yield* get("/ready")
        const body = yield* json(ready)
        assert.strictEqual(ready.status, 503)
        assert.strictEqual(body._tag, "NotReady")
        assert.match(body.message, /^the connection pool is busy: no database connection free after \d+ ms \(max 1\)$/)
        yield* Effect.promise(() => other.query("ROLLBACK"))
        assert.strictEqual((yield* Fiber.join(read)).status, 200)
        assert.strictEqual((yield* get("/ready")).status, 200)
      }).pipe(Effect.provide(server), Effect.scoped)
    }).pipe(Effect.scoped), 60_000)

  it.live("polled during an outage, /ready logs its 503s at WARN, why it is not ready once, and when it is ready again", () =>
    Effect.gen(function*() {
      const { url } = yield* freshSchema
      const relay = yield* silenceableRelay(new URL(url))
      const lines: Array<LogLine> = []
      const server = yield* Layer.build(loggedServer(lines, { posts: postsAt(relay.url(url)) }))
      yield* Effect.gen(function*() {
        assert.strictEqual((yield* get("/ready")).status, 200)
        relay.refuse()
        for (let poll = 0; poll < 3; poll++) assert.strictEqual((yield* get("/ready")).status, 503)
        yield* Effect.promise(() => relay.accept())
        assert.strictEqual((yield* get("/ready")).status, 200)
      }).pipe(Effect.provide(server))
      const requests = lines.filter((line) => line.annotations["path"] === "/ready" && line.annotations["status"] === 503)
      assert.deepStrictEqual(requests.map((line) => line.level), ["WARN", "WARN", "WARN"])
      const notReady = lines.filter((line) => line.text.includes("not ready:"))
      assert.strictEqual(notReady.length, 1, notReady.map((line) => line.text).join("\n"))
      assert.strictEqual(notReady[0]!.level, "WARN")
      assert.include(notReady[0]!.text, "ECONNREFUSED")
      assert.deepStrictEqual(lines.filter((line) => line.level === "ERROR").map((line) => line.text), [])
      assert.strictEqual(lines.filter((line) => line.text.includes("ready again")).length, 1)
    }).pipe(Effect.scoped), 60_000)
})
