/**
 * `/ready` on PostgreSQL when the database is unreachable: it answers within its own deadline,
 * not REQUEST_TIMEOUT's.
 */
import { assert, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Layer } from "effect"
import { PostsLive } from "../../src/App.js"
import { READY_TIMEOUT } from "../../src/Http/Server.js"
import { describePg, freshSchema, silenceableRelay } from "../fixtures/pg.js"
import { get, json, testServer } from "../Http/harness.js"

/** The test server on a fresh schema, reached through `url` (a relay's). */
const serverAt = (url: string) =>
  testServer({
    posts: PostsLive.pipe(
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_URL", url], ["DB_MAX_CONNECTIONS", "1"]]))))
    ),
    requestTimeout: "30 seconds"
  })

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
})
