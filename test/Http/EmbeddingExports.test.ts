/**
 * The types an embedding app writes down, from the package entry only: options of the layers it
 * builds, the errors `AppLive` can fail with, and what a `PostProcessor` of its own implements
 * (`fromLines`: `RecordLine` in, `RecordOutcome` out, `BatchNotProcessed` when a batch fails).
 * Type-checked with the rest of the tests (`tsc`), then run where it does something.
 */
import { HttpApiBuilder, HttpClientRequest } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import {
  ApiKeys,
  AppLive,
  BatchNotProcessed,
  Compression,
  type CompressionOptions,
  DatabasePool,
  type DatabasePoolOptions,
  defaultProcessorConfig,
  type Dialect,
  FeedClient,
  type FetchedResource,
  type GetOptions,
  InkwellApi,
  InkwellServer,
  ListenFailed,
  type ListenOptions,
  makePostProcessor,
  MemoryPostRepository,
  type MiddlewareOptions,
  PostChanges,
  PostProcessor,
  type PostProcessorShape,
  Posts,
  type RecordLine,
  type RecordOutcome,
  requestMiddleware
} from "inkwell"
import { json, send } from "./harness.js"

// Options as a host writes them down, passed to the layers that take them.
const poolOptions: DatabasePoolOptions = { maxConnections: 4, acquireTimeout: "5 seconds" }
const listenOptions: ListenOptions = { probeInterval: "30 seconds", probeTimeout: "10 seconds" }
const middlewareOptions: MiddlewareOptions = { requestTimeout: "30 seconds", maxBodySize: 1 << 20, retryAfterSeconds: 1 }
const compressionOptions: CompressionOptions = { enabled: true, maxBytes: 1 << 20 }
export const hostLayers = {
  pool: DatabasePool.layer(poolOptions),
  changes: PostChanges.layer("postgres://db.example/blog", listenOptions),
  middleware: requestMiddleware(middlewareOptions),
  compression: Compression.layer(compressionOptions)
}

/** What a host does with the dialect the pool reports. */
export const placeholder = (dialect: Dialect): string => (dialect === "pg" ? "$1" : "?")

/** A host's wrapper over the FeedClient's `get`, naming its options and result. */
export const fetchText = (url: string, options: GetOptions) =>
  Effect.flatMap(FeedClient, (client) =>
    Effect.map(client.get(url, options), (resource: FetchedResource) => new TextDecoder().decode(resource.bytes)))

/** `AppLive`'s failures a host tells apart: the PostgreSQL LISTEN connection among them. */
export const startFailure = (error: Layer.Layer.Error<typeof AppLive>): string =>
  error instanceof ListenFailed ? "changes are not heard" : error._tag

/** A host's processor: the in-process one, counting the lines it is given in bulk, or refusing them all. */
const countingProcessor = (refuse: boolean) => {
  const inner = makePostProcessor(defaultProcessorConfig)
  const seen: Array<RecordLine> = []
  const processor: PostProcessorShape = {
    process: inner.process,
    fromInput: inner.fromInput,
    fromLines: (name, lines, deadline) => {
      seen.push(...lines)
      if (refuse) return Effect.fail(new BatchNotProcessed({ reason: "the host's renderer is down" }))
      return Effect.map(inner.fromLines!(name, lines, deadline), (outcomes): ReadonlyArray<RecordOutcome> => outcomes)
    }
  }
  return { seen, processor }
}

const serverWith = (processor: PostProcessorShape) =>
  HttpApiBuilder.serve().pipe(
    Layer.provide(HttpApiBuilder.api(InkwellApi).pipe(
      Layer.provide(InkwellServer.handlersFor(InkwellApi)),
      Layer.provide(Posts.Default.pipe(
        Layer.provideMerge(MemoryPostRepository.layer),
        Layer.provide(Layer.succeed(PostProcessor, processor))
      )),
      Layer.provide(FeedClient.layerGuarded({})),
      Layer.provide(ApiKeys.layer(["k"]))
    )),
    Layer.provideMerge(NodeHttpServer.layerTest)
  )

const ndjson = [
  { title: "One", slug: "one", body: "First.", status: "published" },
  { title: "Two", slug: "two", body: "Second.", status: "published" }
].map((record) => JSON.stringify(record)).join("\n") + "\n"

const importBody = Effect.flatMap(
  send(HttpClientRequest.post("/posts/import").pipe(
    HttpClientRequest.setHeader("x-api-key", "k"),
    HttpClientRequest.bodyText(ndjson, "application/x-ndjson")
  )),
  json
)

describe("an embedder's own PostProcessor, written with the exported types", () => {
  it.effect("its fromLines renders the bulk import's lines", () => {
    const host = countingProcessor(false)
    return Effect.gen(function* () {
      const summary = yield* importBody
      assert.strictEqual(summary.imported, 2)
      assert.deepStrictEqual(host.seen.map((line) => line.number), [1, 2])
    }).pipe(Effect.provide(serverWith(host.processor)))
  })

  it.effect("a BatchNotProcessed from it: the lines are processed one by one instead", () => {
    const host = countingProcessor(true)
    return Effect.gen(function* () {
      const summary = yield* importBody
      assert.strictEqual(summary.imported, 2)
      assert.strictEqual(summary.failed, 0)
      assert.isAbove(host.seen.length, 0)
    }).pipe(Effect.provide(serverWith(host.processor)))
  })

  it("ListenFailed is the class AppLive fails with", () => {
    const error = new ListenFailed({ cause: new Error("refused") })
    assert.strictEqual(startFailure(error), "changes are not heard")
    assert.strictEqual(placeholder("sqlite"), "?")
  })
})
