/**
 * Sources over real HTTP on 127.0.0.1: feeds and broken documents from a node:http server, and
 * another Inkwell (the real server, in-memory repository) as a paginated source.
 */
import { HttpServer } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import { FeedClient } from "../../src/Clients/FeedClient.js"
import { fromUrl } from "../../src/Sources/FeedSource.js"
import { inkwellApi } from "../../src/Sources/InkwellApi.js"
import { testServer as inkwellServer, newPost, postJson } from "../Http/harness.js"
import { testServer } from "../Clients/server.js"
import { collect, fixture } from "./harness.js"

const feedClient = FeedClient.layer({ retries: 2 }).pipe(Layer.provide(NodeHttpClient.layer))

const failure = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isFailure(exit) && exit.cause._tag === "Fail") return exit.cause.error
  throw new Error(`expected a typed failure, got ${Exit.isSuccess(exit) ? "success" : String(exit.cause)}`)
}

const serve = (type: string, body: string) =>
  testServer((_req, res) => {
    res.writeHead(200, { "content-type": type })
    res.end(body)
  })

describe("fromUrl over a real server", () => {
  it.scoped("reads an RSS feed; relative links resolve against the URL it was served from", () =>
    Effect.gen(function*() {
      const server = yield* serve("application/rss+xml", fixture("rss.xml"))
      const { entries } = yield* collect(fromUrl(`${server.url}/blog/feed.xml`)).pipe(Effect.provide(feedClient))
      assert.strictEqual(entries.length, 4)
      assert.strictEqual(entries[0]!.source, `${server.url}/blog/feed.xml#post-1`)
      assert.include(entries[0]!.input.body, `src="${server.url}/blog/images/cake.png"`)
    }))

  it.scoped("malformed JSON is a DecodeError with the position, not retried", () =>
    Effect.gen(function*() {
      const server = yield* serve("application/feed+json", "{\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": [{\"id\": 1,}]}")
      const error = failure(yield* collect(fromUrl(`${server.url}/feed.json`)).pipe(Effect.provide(feedClient), Effect.exit))
      assert.strictEqual(error._tag, "DecodeError")
      if (error._tag === "DecodeError") {
        assert.strictEqual(error.format, "json")
        assert.match(error.path, /^position \d+$/)
        assert.strictEqual(error.url, `${server.url}/feed.json`)
      }
      assert.strictEqual(server.count(), 1)
    }))

  it.scoped("malformed XML is a DecodeError with line and column, not retried", () =>
    Effect.gen(function*() {
      const server = yield* serve("application/rss+xml", "<?xml version=\"1.0\"?>\n<rss version=\"2.0\">\n<channel>\n<item><title>x</title>\n</channel>\n</rss>")
      const error = failure(yield* collect(fromUrl(`${server.url}/rss`)).pipe(Effect.provide(feedClient), Effect.exit))
      assert.strictEqual(error._tag, "DecodeError")
      if (error._tag === "DecodeError") {
        assert.match(error.path, /^line \d+, column \d+$/)
        assert.include(error.reason, "item")
      }
      assert.strictEqual(server.count(), 1)
    }))

  it.scoped("a JSON Feed whose structure is wrong names the schema path", () =>
    Effect.gen(function*() {
      const server = yield* serve("application/json", JSON.stringify({ version: "https://jsonfeed.org/version/1.1", title: "t", items: "nope" }))
      const error = failure(yield* collect(fromUrl(server.url)).pipe(Effect.provide(feedClient), Effect.exit))
      assert.strictEqual(error._tag, "DecodeError")
      if (error._tag === "DecodeError") {
        assert.strictEqual(error.format, "json-feed")
        assert.strictEqual(error.path, "items")
      }
    }))
})

describe("another Inkwell as a source", () => {
  it.effect("follows GET /posts pagination to the end and fetches every post's markdown", () =>
    Effect.gen(function*() {
      for (let i = 1; i <= 5; i++) {
        const response = yield* postJson("/posts", newPost({ title: `Remote post ${i}`, body: `# Post ${i}\n\nBody of *post* ${i}.`, tags: ["remote", `n${i}`] }))
        assert.strictEqual(response.status, 201)
      }
      const server = yield* HttpServer.HttpServer
      const address = server.address
      if (address._tag !== "TcpAddress") return assert.fail("expected a TCP server")
      const base = `http://127.0.0.1:${address.port}`

      const { entries, rejected } = yield* collect(inkwellApi(base, { pageSize: 2 })).pipe(Effect.provide(feedClient))
      assert.strictEqual(rejected.length, 0)
      assert.strictEqual(entries.length, 5)
      const bySlug = new Map(entries.map((e) => [e.input.slug, e]))
      const third = bySlug.get("remote-post-3")
      assert.isDefined(third)
      assert.strictEqual(third!.source, `${base}/posts/remote-post-3`)
      assert.strictEqual(third!.input.title, "Remote post 3")
      assert.strictEqual(third!.input.body, "# Post 3\n\nBody of *post* 3.")
      assert.deepStrictEqual(third!.input.tags, ["remote", "n3"])
      assert.strictEqual(third!.input.status, "published")

      // fromUrl recognises a /posts page and takes the same path
      const detected = yield* collect(fromUrl(`${base}/posts?limit=3`)).pipe(Effect.provide(feedClient))
      assert.strictEqual(detected.entries.length, 5)
    }).pipe(Effect.provide(inkwellServer())))
})
