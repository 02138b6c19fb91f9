/**
 * The API on PostgreSQL for tests: `testServer` (test/Http/harness.ts) on a fresh schema, dropped
 * with the layer, through `PostsLive` as the app builds it (migrations, pool, announcing repository).
 */
import { ConfigProvider, Effect, Layer } from "effect"
import { PostsLive } from "../../src/App.js"
import { freshSchema } from "../fixtures/pg.js"
import { testServer } from "../Http/harness.js"

export const pgTestServer = Layer.unwrapScoped(Effect.map(freshSchema, ({ url }) =>
  testServer({
    posts: PostsLive.pipe(
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_URL", url], ["DB_MAX_CONNECTIONS", "2"]]))))
    )
  })))
