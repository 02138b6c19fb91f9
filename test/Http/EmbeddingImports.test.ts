/**
 * The bulk import endpoints of an embedding app, from the package entry as a host imports it:
 * they render with the processor the host gave `Posts` (as `POST /posts` does) and fetch with the
 * host's `FeedClient`, and a bad setting fails the handlers' layer with a typed `ConfigError`.
 */
import { type HttpApi, HttpApiBuilder, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Cause, type ConfigError, ConfigProvider, Effect, Exit, Layer, Option } from "effect"
import {
  ApiKeys,
  FeedClient,
  FeedClientOptions,
  InkwellApi,
  InkwellServer,
  MemoryPostRepository,
  PostProcessor,
  Posts,
  RenderPool
} from "inkwell"
import { testServer as feedServer } from "../Clients/server.js"
import { rssAtFeedXml } from "../Sources/harness.js"
import { json, postJson, send } from "./harness.js"

const KEY = "host-key"
const FIVE_WORDS = "one two three four five"

/** An embedder's API: `Posts` over `processor`, which only `Posts` is given, and its own FeedClient. */
const hostApi = <E>(processor: Layer.Layer<PostProcessor, E>, feeds: Layer.Layer<FeedClient>) =>
  HttpApiBuilder.api(InkwellApi).pipe(
    Layer.provide(InkwellServer.handlersFor(InkwellApi)),
    Layer.provide(Posts.Default.pipe(Layer.provideMerge(MemoryPostRepository.layer), Layer.provide(processor))),
    Layer.provide(feeds),
    Layer.provide(ApiKeys.layer([KEY]))
  )

const served = <E>(api: Layer.Layer<HttpApi.Api, E>) =>
  HttpApiBuilder.serve().pipe(Layer.provide(api), Layer.provideMerge(NodeHttpServer.layerTest))

/** A host's processor that reads one word a minute: five words are five minutes. */
const slowReader = PostProcessor.layer({ wordsPerMinute: 1, excerptLength: 280 })

/** What the environment would say, were it read: the host's layers must not be. */
const bogus = (...names: ReadonlyArray<string>) => ConfigProvider.fromMap(new Map(names.map((name) => [name, "bogus"])))

const readingTime = (slug: string) =>
  Effect.map(Effect.flatMap(send(HttpClientRequest.get(`/posts/${slug}`)), json), (post) => post.readingTimeMinutes)

const importLine = (record: Record<string, unknown>) =>
  send(HttpClientRequest.post("/posts/import").pipe(
    HttpClientRequest.setHeader("x-api-key", KEY),
    HttpClientRequest.bodyText(`${JSON.stringify(record)}\n`, "application/x-ndjson")
  ))

describe("an embedder's import endpoints", () => {
  it.effect("POST /posts/import renders with the processor the host gave Posts, as POST /posts does", () =>
    Effect.gen(function* () {
      const created = yield* postJson("/posts", { title: "Api", slug: "api", body: FIVE_WORDS, status: "published" }, { "x-api-key": KEY })
      assert.strictEqual(created.status, 201)
      const imported = yield* importLine({ title: "Bulk", slug: "bulk", body: FIVE_WORDS, status: "published" })
      assert.strictEqual(imported.status, 200)
      assert.strictEqual((yield* json(imported)).imported, 1)
      assert.strictEqual(yield* readingTime("api"), 5)
      assert.strictEqual(yield* readingTime("bulk"), 5)
    }).pipe(
      Effect.provide(served(hostApi(slowReader, FeedClient.layerGuarded({})))),
      // The host's processor is the one used: WORDS_PER_MINUTE is not read at all.
      Effect.withConfigProvider(bogus("WORDS_PER_MINUTE"))
    ))

  it.effect("with README's RenderPool.layer({ size, inlineBelowBytes, settings }), imports use its settings", () =>
    Effect.gen(function* () {
      const imported = yield* importLine({ title: "Pooled", slug: "pooled", body: FIVE_WORDS, status: "published" })
      assert.strictEqual(imported.status, 200)
      assert.strictEqual(yield* readingTime("pooled"), 5)
    }).pipe(Effect.provide(served(hostApi(
      // Every post below `inlineBelowBytes`: rendered in-process with `settings`, no thread started.
      RenderPool.layer({ size: 1, inlineBelowBytes: 1 << 20, settings: { wordsPerMinute: 1, excerptLength: 280 } }),
      FeedClient.layerGuarded({})
    )))))

  it.scoped("POST /posts/import-url fetches with the host's FeedClient (FEED_* not read)", () =>
    Effect.gen(function* () {
      const feed = yield* feedServer(rssAtFeedXml)
      // On 127.0.0.1, which FeedClient.Server refuses without FEED_ALLOW_PRIVATE; the host's client fetches anywhere.
      const answer = yield* postJson("/posts/import-url", { url: `${feed.url}/feed.xml` }, { "x-api-key": KEY })
      assert.strictEqual(answer.status, 200)
      const summary = yield* json(answer)
      assert.strictEqual(summary.failed, 0, JSON.stringify(summary.failures))
      assert.isAbove(summary.imported, 0)
      assert.strictEqual(feed.count(), 1)
    }).pipe(
      Effect.provide(served(hostApi(
        slowReader,
        FeedClient.layer(FeedClientOptions.make().timeout("5 seconds").retries(0)).pipe(Layer.provide(NodeHttpClient.layer))
      ))),
      Effect.withConfigProvider(bogus("FEED_TIMEOUT", "FEED_ALLOW_PRIVATE"))
    ))
})

describe("an embedder's handlers layer and bad settings", () => {
  // The type says what building it can fail with: a configuration error, nothing else.
  const api: Layer.Layer<HttpApi.Api, ConfigError.ConfigError> = hostApi(slowReader, FeedClient.layerGuarded({}))
  const build = (provider: ConfigProvider.ConfigProvider) =>
    Effect.exit(Effect.scoped(Layer.build(api))).pipe(Effect.withConfigProvider(provider))

  it.effect("a bad IMPORT_* setting is a ConfigError naming it, not a defect", () =>
    Effect.gen(function* () {
      const exit = yield* build(bogus("IMPORT_BATCH_SIZE"))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        assert.isFalse(Cause.isDie(exit.cause), String(exit.cause))
        const error = Option.getOrThrow(Cause.failureOption(exit.cause))
        assert.strictEqual(error._op, "InvalidData")
        assert.include(String(error), "IMPORT_BATCH_SIZE")
      }
    }))

  it.effect("settings of layers the host replaced are not read: WORDS_PER_MINUTE, FEED_TIMEOUT", () =>
    Effect.gen(function* () {
      const exit = yield* build(bogus("WORDS_PER_MINUTE", "FEED_TIMEOUT", "FEED_RETRIES"))
      assert.isTrue(Exit.isSuccess(exit), Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "")
    }))
})
