/**
 * The API on PostgreSQL when the database cannot be reached: 503 `DatabaseUnavailable` with
 * Retry-After, as for `PoolTimeout`; a statement the database refuses stays a 500.
 */
import { assert, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { PostsLive } from "../../src/App.js"
import { adminQuery, describePg, freshSchema, silenceableRelay } from "../fixtures/pg.js"
import { get, json, KEY, newPost, postJson, testServer } from "../Http/harness.js"

const serverAt = (url: string) =>
  testServer({
    posts: PostsLive.pipe(
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_URL", url], ["DB_MAX_CONNECTIONS", "2"]]))))
    )
  })

const withKey = { "x-api-key": KEY }

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
        for (const [what, request] of [
          ["a read", get("/posts/here", withKey)],
          ["a list", get("/posts?limit=5", withKey)],
          ["a write", postJson("/posts", newPost({ title: "Not stored" }))]
        ] as const) {
          const response = yield* request
          assert.deepStrictEqual([response.status, yield* json(response)], [503, {
            _tag: "DatabaseUnavailable",
            message: "the database cannot be reached right now; try again shortly"
          }], what)
          assert.strictEqual(response.headers["retry-after"], "1", what)
        }
      }).pipe(Effect.provide(server))
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
