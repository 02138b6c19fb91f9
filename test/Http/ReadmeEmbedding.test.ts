/**
 * README "Embedding", done as a user would: everything from the package's public entry
 * (src/index.ts), the README's code block itself (between the markers below, checked against
 * README.md line by line, so editing either breaks this test), served as it says with the
 * platform's own `HttpApiBuilder.serve()`. Then every Inkwell endpoint under the prefix,
 * `POST /blog/posts/import-url` of a feed served here included.
 */
import { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiGroup, HttpClient, HttpClientRequest, HttpRouter, HttpServer } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Schema } from "effect"
import { readFileSync } from "node:fs"
import { createServer } from "node:http"
import { fileURLToPath } from "node:url"
import {
  ApiKeys,
  FeedClient,
  FeedClientOptions,
  InkwellServer,
  type PostRepository,
  MemoryPostRepository,
  postsWith,
  PostsAdminApi,
  PostsApi,
  RepositoryLive,
  SystemApi
} from "inkwell"
import { testServer as feedServer } from "../Clients/server.js"
import { rssAtFeedXml } from "../Sources/harness.js"

/**
 * The README's block from its first line after the imports; `MyPostRepositoryLayer` is the
 * reader's own, a parameter here. Only the lines of `serverSwap` differ from README.md.
 */
const readmeServer = <E>(MyPostRepositoryLayer: Layer.Layer<PostRepository, E>) => {
  // README Embedding: begin
  // The host's own endpoints, beside Inkwell's.
  class MyGroup extends HttpApiGroup.make("mine").add(
    HttpApiEndpoint.get("hello", "/hello").addSuccess(Schema.Struct({ greeting: Schema.String }))
  ) {}

  class HostApi extends HttpApi.make("host")
    .add(MyGroup)
    .add(SystemApi)
    .add(PostsApi.prefix("/blog"))
    .add(PostsAdminApi.prefix("/blog")) {}

  const MyGroupLive = HttpApiBuilder.group(HostApi, "mine", (handlers) =>
    handlers.handle("hello", () => Effect.succeed({ greeting: "hello" }))
  )

  const HostApiLive = HttpApiBuilder.api(HostApi).pipe(
    Layer.provide(MyGroupLive),
    Layer.provide(InkwellServer.handlersFor(HostApi)),
    Layer.provide(postsWith(MyPostRepositoryLayer)),   // or PostsLive / a SqlPostRepository over your DatabasePool
    Layer.provide(ApiKeys.layer(["my-key"])),
    // What POST /blog/posts/import-url fetches with: FEED_* settings, refusing private addresses
    // (or FeedClient.layerGuarded(FeedClientOptions.make().timeout("5 seconds")) in code)
    Layer.provide(FeedClient.Server)
  )

  return HttpApiBuilder.serve().pipe(
    Layer.provide(HostApiLive),
    // A slug has up to 200 characters; the router's default caps a path parameter at 100.
    Layer.provide(HttpRouter.setRouterConfig(InkwellServer.routerConfig)),
    // SettlingResponse: without it, a request whose client left before the answer holds its fiber forever.
    Layer.provideMerge(NodeHttpServer.layer(() => createServer({ ServerResponse: InkwellServer.SettlingResponse }), { port: 0 }))
  )
  // README Embedding: end
}

/**
 * The README's lines that the test has otherwise, and nothing else: the server listens on a
 * free port and stays in the context for the test's client (provideMerge), the layer is
 * returned instead of launched.
 */
const serverSwap: ReadonlyMap<string, string | undefined> = new Map([
  ["HttpApiBuilder.serve().pipe(", "return HttpApiBuilder.serve().pipe("],
  [
    "Layer.provide(NodeHttpServer.layer(() => createServer({ ServerResponse: InkwellServer.SettlingResponse }), { port: 3000 })),",
    "Layer.provideMerge(NodeHttpServer.layer(() => createServer({ ServerResponse: InkwellServer.SettlingResponse }), { port: 0 }))"
  ],
  ["Layer.launch,", undefined],
  ["NodeRuntime.runMain", undefined]
])

const readmeBlock = (): string => {
  const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8")
  const section = readme.slice(readme.indexOf("\n## Embedding\n"))
  const block = /```ts\n([\s\S]*?)\n```/.exec(section)
  assert.isNotNull(block, "README.md has a ts block under ## Embedding")
  return block![1]!
}

/** Non-empty lines, trimmed: indentation differs (the test's copy is inside a function). */
const lines = (text: string) => text.split("\n").map((line) => line.trim()).filter((line) => line.length > 0)

/** `import { a, b } from "m"` as m -> names. */
const importsOf = (text: string): Map<string, Set<string>> => {
  const found = new Map<string, Set<string>>()
  for (const [, names, from] of text.matchAll(/^import \{([^}]*)\} from "([^"]+)"/gm)) {
    const set = found.get(from!) ?? new Set<string>()
    for (const name of names!.split(",")) if (name.trim() !== "") set.add(name.trim().replace(/^type /, ""))
    found.set(from!, set)
  }
  return found
}

describe("README Embedding block", () => {
  it("is this file's copy, but for the server swap, and the two import alike what the code uses", () => {
    const block = readmeBlock()
    const own = readFileSync(fileURLToPath(import.meta.url), "utf8")
    const copy = own.slice(own.indexOf("// README Embedding: begin"), own.indexOf("// README Embedding: end"))
    const readmeLines = lines(block)
    const code = readmeLines.slice(readmeLines.findIndex((line) => !line.startsWith("import ")))
    const expected = code.flatMap((line) => (serverSwap.has(line) ? (serverSwap.get(line) === undefined ? [] : [serverSwap.get(line)!]) : [line]))
    assert.deepStrictEqual(lines(copy).slice(1), expected)
    assert.strictEqual(code.filter((line) => serverSwap.has(line)).length, serverSwap.size, "every swapped line is in the README")
    const ours = importsOf(own)
    for (const [from, names] of importsOf(block)) {
      for (const name of names) {
        // The swapped-out launch is the only README import the test does not need.
        if (from === "@effect/platform-node" && name === "NodeRuntime") continue
        assert.isTrue(ours.get(from)?.has(name) === true, `README imports ${name} from ${from}; the test does not`)
      }
    }
    // And the other way: what the README's code uses of the test's imports, it imports too.
    const theirs = importsOf(block)
    const used = code.map((line) => line.replace(/\/\/.*$/, "")).join("\n")
    for (const [from, names] of ours) {
      for (const name of names) {
        if (new RegExp(`\\b${name}\\b`).test(used)) {
          assert.isTrue(theirs.get(from)?.has(name) === true, `README's code uses ${name} without importing it from ${from}`)
        }
      }
    }
  })
})

/** The README's server with a client for it (the server's address, as NodeHttpServer.layerTest does). */
const hostServer = <E>(repository: Layer.Layer<PostRepository, E>) =>
  HttpServer.layerTestClient.pipe(
    Layer.provide(NodeHttpClient.layerWithoutAgent),
    Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: false })),
    Layer.provideMerge(readmeServer(repository))
  )

const send = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.flatMap(HttpClient.HttpClient, (client) => client.execute(request))
const key = HttpClientRequest.setHeader("x-api-key", "my-key")

describe("README Embedding, run", () => {
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

      const feeds = yield* feedServer(rssAtFeedXml)
      const fromFeed = yield* send(HttpClientRequest.post("/blog/posts/import-url").pipe(
        HttpClientRequest.bodyUnsafeJson({ url: `${feeds.url}/feed.xml` }),
        key
      ))
      assert.strictEqual(fromFeed.status, 200, yield* fromFeed.text)
      const fromFeedSummary: any = yield* fromFeed.json
      assert.strictEqual(fromFeedSummary.imported, 4)
      assert.strictEqual(fromFeedSummary.failed, 0)
      assert.strictEqual((yield* send(HttpClientRequest.get("/blog/posts/cafe-creme-bold-news").pipe(key))).status, 200)

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

  // The feed is served on 127.0.0.1, which the server refuses to fetch from without FEED_ALLOW_PRIVATE.
  const allowPrivate = new Map([["FEED_ALLOW_PRIVATE", "true"]])

  it.scoped("MemoryPostRepository.layer as MyPostRepositoryLayer: every Inkwell endpoint works under the host's prefix", () =>
    everyEndpoint().pipe(
      Effect.provide(hostServer(MemoryPostRepository.layer)),
      Effect.withConfigProvider(ConfigProvider.fromMap(allowPrivate))
    )
  )

  it.scoped("PostsLive's SQL repository (DATABASE_URL) instead: every Inkwell endpoint works under the host's prefix", () =>
    everyEndpoint().pipe(
      Effect.provide(hostServer(RepositoryLive)),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_URL", "sqlite::memory:"], ...allowPrivate])))
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
