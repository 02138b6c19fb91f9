/**
 * README "Embedding", done as a user would: everything from the package's public entry
 * (src/index.ts), the host API and the layer exactly as the README shows them, served with the
 * platform's own `HttpApiBuilder.serve()`. Then every Inkwell endpoint under the prefix.
 */
import { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiGroup, HttpClient, HttpClientRequest, HttpRouter } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Schema } from "effect"
import {
  ApiKeys,
  FeedClient,
  FeedClientOptions,
  InkwellServer,
  MemoryPostRepository,
  type PostRepository,
  type Posts,
  postsWith,
  PostsAdminApi,
  PostsApi,
  PostsLive,
  SystemApi
} from "inkwell"

class MyGroup extends HttpApiGroup.make("mine").add(
  HttpApiEndpoint.get("hello", "/hello").addSuccess(Schema.Struct({ greeting: Schema.String }))
) {}

// As in the README.
class HostApi extends HttpApi.make("host")
  .add(MyGroup)
  .add(SystemApi)
  .add(PostsApi.prefix("/blog"))
  .add(PostsAdminApi.prefix("/blog")) {}

const MyGroupLive = HttpApiBuilder.group(HostApi, "mine", (handlers) =>
  handlers.handle("hello", () => Effect.succeed({ greeting: "hello" }))
)

const MyPostRepositoryLayer = MemoryPostRepository.layer

/** The README's layer, with `posts` for its `postsWith(MyPostRepositoryLayer)` or the `PostsLive` it names instead. */
const hostApiLive = (posts: Layer.Layer<Posts | PostRepository, unknown>) =>
  HttpApiBuilder.api(HostApi).pipe(
    Layer.provide(MyGroupLive),
    Layer.provide(InkwellServer.handlersFor(HostApi)),
    Layer.provide(posts),
    Layer.provide(ApiKeys.layer(["my-key"]))
  )

// As in the README (which listens with NodeHttpServer.layer; a test listens on an ephemeral port).
const hostServer = (posts: Layer.Layer<Posts | PostRepository, unknown>) =>
  HttpApiBuilder.serve().pipe(
    Layer.provide(hostApiLive(posts)),
    Layer.provide(HttpRouter.setRouterConfig(InkwellServer.routerConfig)),
    Layer.provideMerge(NodeHttpServer.layerTest)
  )

const send = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.flatMap(HttpClient.HttpClient, (client) => client.execute(request))
const key = HttpClientRequest.setHeader("x-api-key", "my-key")

describe("README Embedding, as written", () => {
  const everyEndpoint = () =>
    Effect.gen(function* () {
      const hello = yield* send(HttpClientRequest.get("/hello"))
      assert.deepStrictEqual(yield* hello.json, { greeting: "hello" })
      assert.strictEqual((yield* send(HttpClientRequest.get("/health"))).status, 200)
      assert.strictEqual((yield* send(HttpClientRequest.get("/ready"))).status, 200)

      const created = yield* send(HttpClientRequest.post("/blog/posts").pipe(
        HttpClientRequest.bodyUnsafeJson({ title: "Hello", body: "Hi **there**.", status: "published" }),
        key
      ))
      assert.strictEqual(created.status, 201)
      assert.strictEqual(created.headers["location"], "/blog/posts/hello")
      const markdown = yield* send(HttpClientRequest.post("/blog/posts").pipe(
        HttpClientRequest.bodyText("---\ntitle: Second\n---\nText.\n", "text/markdown"),
        key
      ))
      assert.strictEqual(markdown.status, 201)
      const unauthorized = yield* send(HttpClientRequest.post("/blog/posts").pipe(HttpClientRequest.bodyText("x", "text/plain")))
      assert.strictEqual(unauthorized.status, 401)
      const unsupported = yield* send(HttpClientRequest.post("/blog/posts").pipe(HttpClientRequest.bodyText("x", "text/plain"), key))
      assert.strictEqual(unsupported.status, 415)

      const read = yield* send(HttpClientRequest.get("/blog/posts/hello"))
      assert.strictEqual(read.status, 200)
      const page: any = yield* (yield* send(HttpClientRequest.get("/blog/posts"))).json
      assert.deepStrictEqual(page.items.map((p: { slug: string }) => p.slug).sort(), ["hello", "second"])
      const tags = yield* send(HttpClientRequest.get("/blog/tags"))
      assert.strictEqual(tags.status, 200)

      const updated = yield* send(HttpClientRequest.put("/blog/posts/hello").pipe(
        HttpClientRequest.bodyUnsafeJson({ title: "Hello", body: "Edited.", status: "published", version: 1 }),
        key
      ))
      assert.strictEqual(updated.status, 200)

      const imported = yield* send(HttpClientRequest.post("/blog/posts/import").pipe(
        HttpClientRequest.bodyText(`${JSON.stringify({ title: "Bulk", slug: "bulk", body: "From NDJSON." })}\n`, "application/x-ndjson"),
        key
      ))
      assert.strictEqual(imported.status, 200, yield* imported.text)
      assert.strictEqual((yield* send(HttpClientRequest.get("/blog/posts/bulk").pipe(key))).status, 200)

      const longSlug = `long-${"x".repeat(150)}`
      const long = yield* send(HttpClientRequest.post("/blog/posts").pipe(
        HttpClientRequest.bodyUnsafeJson({ title: "Long", slug: longSlug, body: "Long slug.", status: "published" }),
        key
      ))
      assert.strictEqual(long.status, 201)
      assert.strictEqual((yield* send(HttpClientRequest.get(`/blog/posts/${longSlug}`))).status, 200, "a slug over 100 characters")

      const deleted = yield* send(HttpClientRequest.del("/blog/posts/hello").pipe(key))
      assert.strictEqual(deleted.status, 204)
    })

  it.effect("postsWith(MyPostRepositoryLayer): every Inkwell endpoint works under the host's prefix", () =>
    everyEndpoint().pipe(Effect.provide(hostServer(postsWith(MyPostRepositoryLayer))))
  )

  it.effect("PostsLive (SQL, DATABASE_URL) instead: every Inkwell endpoint works under the host's prefix", () =>
    everyEndpoint().pipe(
      Effect.provide(hostServer(PostsLive)),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_URL", "sqlite::memory:"]])))
    )
  )
})

describe("README Remote sources, as written", () => {
  it.effect("an embedder configures the FeedClient in code with FeedClientOptions", () =>
    Effect.gen(function* () {
      const options = FeedClientOptions.make().timeout("5 seconds").retries(2)
      assert.strictEqual(options.settings.retries, 2)
      const client = yield* FeedClient
      const refused = yield* Effect.flip(client.get("ftp://example.invalid/feed"))
      assert.strictEqual(refused._tag, "InvalidUrl")
    }).pipe(
      Effect.provide(FeedClient.layer(FeedClientOptions.make().timeout("5 seconds").retries(2)).pipe(Layer.provide(NodeHttpClient.layer)))
    )
  )
})
