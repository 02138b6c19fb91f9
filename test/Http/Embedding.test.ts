/**
 * Another Effect app mounts Inkwell in its own HttpApi (under /blog), next to an endpoint of
 * its own, with its own repository and keys.
 */
import { HttpApi, HttpApiBuilder, HttpApiClient, HttpApiEndpoint, HttpApiGroup, HttpClientRequest } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Clock, ConfigProvider, Effect, Layer, Schema, TestClock } from "effect"
// What the README's Embedding section names, from the package's entry (src/index.ts) as a host imports it.
import * as Inkwell from "inkwell"
import { postsWith } from "../../src/App.js"
import { FeedClient } from "../../src/Clients/FeedClient.js"
import { SystemApi } from "../../src/Http/Api.js"
import { ApiKeys } from "../../src/Http/ApiKeys.js"
import { requestMiddleware } from "../../src/Http/Middleware.js"
import * as Server from "../../src/Http/Server.js"
import { PostsAdminApi, PostsApi } from "../../src/Posts/Api.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { atFixtureNow } from "../fixtures/clock.js"
import { get, json, newPost, postJson, send } from "./harness.js"

class HostGroup extends HttpApiGroup.make("host").add(
  HttpApiEndpoint.get("hello", "/hello").addSuccess(Schema.Struct({ greeting: Schema.String }))
) {}

class HostApi extends HttpApi.make("host")
  .add(HostGroup)
  .add(SystemApi)
  .add(PostsApi.prefix("/blog"))
  .add(PostsAdminApi.prefix("/blog"))
{}

const HostGroupLive = HttpApiBuilder.group(HostApi, "host", (handlers) =>
  handlers.handle("hello", () => Effect.succeed({ greeting: "hello from the host" }))
)

const HOST_KEY = "host-app-key"

const HostServer = HttpApiBuilder.serve().pipe(
  Layer.provide(Server.apiFailuresLayer),
  Layer.provide(
    HttpApiBuilder.api(HostApi).pipe(
      Layer.provide(HostGroupLive),
      Layer.provide(Server.handlersFor(HostApi)),
      Layer.provide(postsWith(MemoryPostRepository.layer)),
      Layer.provide(ApiKeys.layer([HOST_KEY])),
      Layer.provide(FeedClient.Server)
    )
  ),
  Layer.provideMerge(NodeHttpServer.layerTest)
)

describe("embedding", () => {
  it.effect("a host app serves its own endpoint and Inkwell's under its prefix", () =>
    Effect.gen(function* () {
      const client = yield* HttpApiClient.make(HostApi)
      assert.deepStrictEqual(yield* client.host.hello(), { greeting: "hello from the host" })

      const created = yield* postJson("/blog/posts", newPost(), { "x-api-key": HOST_KEY })
      assert.strictEqual(created.status, 201)
      assert.strictEqual(created.headers["location"], "/blog/posts/first-post")
      assert.strictEqual((yield* postJson("/blog/posts", newPost({ title: "x" }), {})).status, 401)

      const page = yield* client.posts.list({ urlParams: {} })
      assert.deepStrictEqual(page.items.map((p) => p.slug), ["first-post"])
      const post = yield* json(yield* get("/blog/posts/first-post"))
      assert.strictEqual(post.title, "First post")
      assert.deepStrictEqual(yield* client.system.health(), { status: "ok" })
      assert.strictEqual((yield* get("/posts")).status, 404, "nothing outside the prefix")

      // With apiFailuresLayer: 405 with Allow under the prefix, one-line 400 messages.
      const wrongMethod = yield* send(HttpClientRequest.del("/blog/posts"))
      assert.strictEqual(wrongMethod.status, 405)
      assert.strictEqual(wrongMethod.headers["allow"], "GET, HEAD, POST, OPTIONS")
      assert.strictEqual((yield* json(yield* get("/blog/posts?limit=x"))).message.split("\n").length, 1)
    }).pipe(Effect.provide(HostServer))
  )

  it.effect("from the package entry: RenderPool.layerConfig (RENDER_*) as the PostProcessor of Posts", () =>
    Effect.gen(function* () {
      const posts = yield* Inkwell.Posts
      const post = yield* posts.create("---\ntitle: On a thread\n---\nRendered **there**.\n")
      assert.include(post.html, "<strong>there</strong>")
    }).pipe(
      Effect.provide(
        Inkwell.Posts.Default.pipe(
          Layer.provide(Inkwell.MemoryPostRepository.layer),
          Layer.provide(Inkwell.RenderPool.layerConfig),
          Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["RENDER_WORKERS", "1"], ["RENDER_INLINE_BELOW", "0"]]))))
        )
      )
    ), 30_000)

  it.effect("from the package entry: InkwellServer.serve with a ResponseCache, the reader site with a SiteConfig, searchTerms", () =>
    Effect.gen(function* () {
      const created = yield* postJson("/posts", newPost(), { "x-api-key": HOST_KEY })
      assert.strictEqual(created.status, 201)
      const first = yield* get("/posts/first-post")
      const second = yield* get("/posts/first-post")
      assert.strictEqual(yield* second.text, yield* first.text)
      const stats = yield* Effect.flatMap(Inkwell.ResponseCache, (cache) => cache.stats)
      assert.strictEqual(stats.hits, 1, "the second read came from the host's ResponseCache")

      const home = yield* get("/", { accept: "text/html" })
      assert.strictEqual(home.status, 200)
      assert.include(yield* home.text, "The host's blog", "the site reads the host's SiteConfig")

      assert.deepStrictEqual(Inkwell.searchTerms("Effect rus"), { words: ["effect"], phrases: [], prefix: "rus" })
    }).pipe(Effect.provide(
      Inkwell.InkwellServer.serve(
        Inkwell.requestMiddleware({ requestTimeout: "30 seconds", maxBodySize: 1024 * 1024, retryAfterSeconds: 1 })
      ).pipe(
        Layer.provide(Inkwell.SiteRoutes.layer),
        Layer.provide(Inkwell.SiteConfig.layer({ title: "The host's blog" })),
        // Over the server's Posts (README "Embedding"): the cache follows its writes and its schedule.
        Layer.provideMerge(Inkwell.ResponseCache.layer({ maxEntries: 100, maxBytes: 1024 * 1024, ttl: "1 minute" })),
        Layer.provide(Inkwell.postsWith(Inkwell.MemoryPostRepository.layer)),
        Layer.provide(Inkwell.ApiKeys.layer([HOST_KEY])),
        Layer.provide(Inkwell.FeedClient.Server),
        Layer.provideMerge(NodeHttpServer.layerTest)
      )
    ))
  )
})

/** A host API's layer: `handlersFor` alone provides Inkwell's groups, whichever of them `api` has. */
const hostServer = <Id extends string, Groups extends HttpApiGroup.HttpApiGroup.Any, E, R>(
  api: HttpApi.HttpApi<Id, Groups, E, R>
) =>
  HttpApiBuilder.serve().pipe(
    Layer.provide(HttpApiBuilder.api(api)),
    Layer.provide(Server.handlersFor(api))
  )

describe("embedding: the groups a host API leaves out", () => {
  // One Posts for the handlers and the test: the host writes through it.
  const posts = postsWith(MemoryPostRepository.layer)

  it.effect("a read-only mirror (SystemApi and PostsApi, no PostsAdminApi) starts and serves the reads; it needs no FeedClient (was: TypeError reading 'endpoints' at start-up)", () => {
    class MirrorApi extends HttpApi.make("mirror").add(SystemApi).add(PostsApi.prefix("/blog")) {}
    return Effect.gen(function* () {
      yield* (yield* Inkwell.Posts).create(new Inkwell.PostInput({ title: "Mirrored", body: "Copied **here**." }))
      assert.deepStrictEqual((yield* json(yield* get("/blog/posts"))).items.map((p: { slug: string }) => p.slug), ["mirrored"])
      assert.include((yield* json(yield* get("/blog/posts/mirrored"))).html, "<strong>here</strong>")
      assert.deepStrictEqual(yield* json(yield* get("/health")), { status: "ok" })
      assert.strictEqual((yield* postJson("/blog/posts", newPost(), { "x-api-key": HOST_KEY })).status, 404, "no write endpoint")
    }).pipe(Effect.provide(hostServer(MirrorApi).pipe(
      Layer.provideMerge(posts),
      Layer.provide(ApiKeys.layer([HOST_KEY])),
      Layer.provideMerge(NodeHttpServer.layerTest)
    )))
  })

  it.effect("a host with a /health of its own (PostsApi and PostsAdminApi, no SystemApi) serves its own and Inkwell's posts (was: TypeError at start-up)", () => {
    class OwnHealth extends HttpApiGroup.make("own").add(
      HttpApiEndpoint.get("health", "/health").addSuccess(Schema.Struct({ host: Schema.String }))
    ) {}
    class OwnHealthApi extends HttpApi.make("own-health").add(OwnHealth).add(PostsApi).add(PostsAdminApi) {}
    const OwnHealthLive = HttpApiBuilder.group(OwnHealthApi, "own", (handlers) => handlers.handle("health", () => Effect.succeed({ host: "fine" })))
    return Effect.gen(function* () {
      assert.deepStrictEqual(yield* json(yield* get("/health")), { host: "fine" })
      assert.strictEqual((yield* get("/ready")).status, 404, "Inkwell's /ready is not mounted")
      const created = yield* postJson("/posts", newPost(), { "x-api-key": HOST_KEY })
      assert.strictEqual(created.status, 201)
      assert.strictEqual(created.headers["location"], "/posts/first-post")
      assert.strictEqual((yield* get("/posts/first-post")).status, 200)
    }).pipe(Effect.provide(hostServer(OwnHealthApi).pipe(
      Layer.provide(OwnHealthLive),
      Layer.provide(posts),
      Layer.provide(ApiKeys.layer([HOST_KEY])),
      Layer.provide(FeedClient.Server),
      Layer.provideMerge(NodeHttpServer.layerTest)
    )))
  })
})

describe("embedding: the admin group under a prefix of its own", () => {
  class SplitApi extends HttpApi.make("split").add(PostsApi.prefix("/blog")).add(PostsAdminApi.prefix("/admin")) {}
  const split = hostServer(SplitApi).pipe(
    Layer.provide(postsWith(MemoryPostRepository.layer)),
    Layer.provide(ApiKeys.layer([HOST_KEY])),
    Layer.provide(FeedClient.Server),
    Layer.provideMerge(NodeHttpServer.layerTest)
  )
  const headers = { "x-api-key": HOST_KEY }

  it.effect("a write answers with the post's URL where PostsApi serves it (was: Location under the admin prefix, a 404)", () =>
    Effect.gen(function* () {
      const created = yield* postJson("/admin/posts", newPost({ title: "Hello" }), headers)
      assert.strictEqual(created.status, 201)
      assert.strictEqual(created.headers["location"], "/blog/posts/hello")
      assert.strictEqual((yield* get(created.headers["location"]!)).status, 200)

      // Created at its URL only if none is there (If-None-Match: *): the same.
      const createdAt = yield* send(HttpClientRequest.put("/admin/posts/caf%C3%A9").pipe(
        HttpClientRequest.bodyUnsafeJson(newPost({ title: "Café" })),
        HttpClientRequest.setHeaders({ ...headers, "if-none-match": "*" })
      ))
      assert.strictEqual(createdAt.status, 201)
      assert.strictEqual(createdAt.headers["location"], "/blog/posts/caf%C3%A9")
      assert.strictEqual((yield* get(createdAt.headers["location"]!)).status, 200)

      // Renamed: Content-Location is where the post now is.
      const renamed = yield* send(HttpClientRequest.put("/admin/posts/hello").pipe(
        HttpClientRequest.bodyUnsafeJson(newPost({ title: "Hello", slug: "hello-again", version: 1 })),
        HttpClientRequest.setHeaders(headers)
      ))
      assert.strictEqual(renamed.status, 200)
      assert.strictEqual(renamed.headers["content-location"], "/blog/posts/hello-again")
      assert.strictEqual((yield* get(renamed.headers["content-location"]!)).status, 200)
    }).pipe(Effect.provide(split)))
})

describe("embedding: the admin group alone", () => {
  class AdminOnlyApi extends HttpApi.make("admin-only").add(PostsAdminApi.prefix("/admin")) {}
  const adminOnly = hostServer(AdminOnlyApi).pipe(
    Layer.provide(postsWith(MemoryPostRepository.layer)),
    Layer.provide(ApiKeys.layer([HOST_KEY])),
    Layer.provide(FeedClient.Server),
    Layer.provideMerge(NodeHttpServer.layerTest)
  )
  const headers = { "x-api-key": HOST_KEY }

  it.effect("with no read group to point at, a write names the post's URL under the collection it wrote to (was: POST /admin/posts answered Location: /admin/hello)", () =>
    Effect.gen(function* () {
      const created = yield* postJson("/admin/posts", newPost({ title: "Hello" }), headers)
      assert.strictEqual(created.status, 201)
      assert.strictEqual(created.headers["location"], "/admin/posts/hello")
      const createdAt = yield* send(HttpClientRequest.put("/admin/posts/caf%C3%A9").pipe(
        HttpClientRequest.bodyUnsafeJson(newPost({ title: "Café" })),
        HttpClientRequest.setHeaders({ ...headers, "if-none-match": "*" })
      ))
      assert.strictEqual(createdAt.headers["location"], "/admin/posts/caf%C3%A9")
      const renamed = yield* send(HttpClientRequest.put("/admin/posts/hello").pipe(
        HttpClientRequest.bodyUnsafeJson(newPost({ title: "Hello", slug: "hello-again", version: 1 })),
        HttpClientRequest.setHeaders(headers)
      ))
      assert.strictEqual(renamed.headers["content-location"], "/admin/posts/hello-again")
    }).pipe(Effect.provide(adminOnly)))
})

describe("embedding: a ResponseCache over the host's Posts", () => {
  const posts = postsWith(MemoryPostRepository.layer)
  /** The README's composition: the cache between the server and Posts, so it is built over them. */
  const cached = Server.serve(requestMiddleware({ requestTimeout: "30 seconds", maxBodySize: 1024 * 1024, retryAfterSeconds: 1 })).pipe(
    Layer.provideMerge(Inkwell.ResponseCache.layer({ maxEntries: 100, maxBytes: 1024 * 1024, ttl: "1 hour" })),
    Layer.provideMerge(posts),
    Layer.provide(ApiKeys.layer([HOST_KEY])),
    Layer.provide(FeedClient.Server),
    Layer.provideMerge(NodeHttpServer.layerTest),
    Layer.provide(atFixtureNow)
  )
  const slugs = Effect.map(Effect.flatMap(get("/posts"), json), (page) => page.items.map((p: { slug: string }) => p.slug))

  it("a cache composed where it cannot see Posts does not compile (was: it did, and lost the schedule and the host's writes)", () => {
    // As this file composed it before: the cache outside the layers that provide Posts.
    const outside = Server.serve(requestMiddleware({ requestTimeout: "30 seconds", maxBodySize: 1024 * 1024, retryAfterSeconds: 1 })).pipe(
      Layer.provide(posts),
      Layer.provide(ApiKeys.layer([HOST_KEY])),
      Layer.provide(FeedClient.Server),
      Layer.provideMerge(Inkwell.ResponseCache.layer({ maxEntries: 100, maxBytes: 1024 * 1024, ttl: "1 hour" })),
      Layer.provideMerge(NodeHttpServer.layerTest)
    )
    // @ts-expect-error: it still needs Posts, so it is no layer a host could launch (tsc checks this line)
    const launchable: Layer.Layer<never, unknown> = outside
    assert.isTrue(Layer.isLayer(launchable))
  })

  it.effect("a cached list takes in a post scheduled by the host at its time, not an hour later", () =>
    Effect.gen(function* () {
      const host = yield* Inkwell.Posts
      const cache = yield* Inkwell.ResponseCache
      const now = yield* Clock.currentTimeMillis
      yield* host.create(new Inkwell.PostInput({ title: "Out now", body: "x" }))
      yield* host.create(new Inkwell.PostInput({ title: "Scheduled", body: "x", publishedAt: new Date(now + 60_000).toISOString() }))
      assert.deepStrictEqual(yield* slugs, ["out-now"])
      assert.isDefined(cache.lookup("GET", "/posts", false, undefined), "kept")
      yield* TestClock.adjust("1 minute")
      assert.isUndefined(cache.lookup("GET", "/posts", false, undefined), "over at the post's time")
      assert.deepStrictEqual(yield* slugs, ["scheduled", "out-now"])
    }).pipe(Effect.provide(cached)))

  it.effect("a post the host writes through Posts is answered anew at once: removed, updated, created (was: the cached answer until the TTL)", () =>
    Effect.gen(function* () {
      const host = yield* Inkwell.Posts
      const cache = yield* Inkwell.ResponseCache
      const hello = yield* host.create(new Inkwell.PostInput({ title: "Hello", body: "v1" }))
      assert.strictEqual((yield* get("/posts/hello")).status, 200)
      assert.deepStrictEqual(yield* slugs, ["hello"])
      assert.isDefined(cache.lookup("GET", "/posts/hello", false, undefined), "kept")

      yield* host.update("hello", hello.version, new Inkwell.PostInput({ title: "Hello", body: "v2" }))
      assert.isUndefined(cache.lookup("GET", "/posts/hello", false, undefined), "dropped by the update, before it returned")
      assert.include((yield* json(yield* get("/posts/hello"))).body, "v2")

      yield* host.create(new Inkwell.PostInput({ title: "Second", body: "x" }))
      assert.isUndefined(cache.lookup("GET", "/posts", false, undefined), "the lists dropped by the create")
      assert.deepStrictEqual((yield* slugs).sort(), ["hello", "second"])

      yield* host.remove("hello")
      assert.strictEqual((yield* get("/posts/hello")).status, 404)
      assert.deepStrictEqual(yield* slugs, ["second"])
    }).pipe(Effect.provide(cached)))
})
