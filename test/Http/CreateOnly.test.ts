/**
 * `PUT /posts/:slug` with `If-None-Match` (RFC 9110 §13.1.2): `*` creates the post only if
 * there is none, atomically; a tag list refuses the write when the post is one of them.
 */
import { HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Deferred, Effect, Layer, Ref } from "effect"
import { postsWith, RepositoryLive } from "../../src/App.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { get, json, KEY, MARKDOWN, newPost, putJson, send, testServer } from "./harness.js"

const createOnly = (slug: string, body: unknown, headers: Record<string, string> = {}) =>
  putJson(`/posts/${slug}`, body, { "x-api-key": KEY, "if-none-match": "*", ...headers })

/**
 * The SQLite repository, whose `create` waits until `writers` calls have arrived: every
 * create-only PUT has passed whatever it checks before any of them writes.
 */
const racingSqlite = (writers: number) =>
  Layer.effect(
    PostRepository,
    Effect.gen(function* () {
      const repository = yield* PostRepository
      const arrived = yield* Ref.make(0)
      const all = yield* Deferred.make<void>()
      return {
        ...repository,
        create: (post) =>
          Ref.updateAndGet(arrived, (n) => n + 1).pipe(
            Effect.flatMap((n) => (n === writers ? Deferred.succeed(all, undefined) : Effect.void)),
            Effect.zipRight(Deferred.await(all)),
            Effect.zipRight(repository.create(post))
          )
      }
    })
  ).pipe(
    Layer.provide(RepositoryLive),
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_URL", "sqlite::memory:"]]))))
  )

describe("PUT with If-None-Match", () => {
  it.effect("*: 201 with Location and ETag when there is no post; 412 PreconditionFailed, nothing written, when there is", () =>
    Effect.gen(function* () {
      const created = yield* createOnly("hello", newPost({ title: "Hello", body: "first" }))
      assert.strictEqual(created.status, 201)
      assert.strictEqual(created.headers["location"], "/posts/hello")
      const post = yield* json(created)
      assert.strictEqual(post.slug, "hello")
      assert.strictEqual(post.version, 1)
      assert.strictEqual(created.headers["etag"], (yield* get("/posts/hello")).headers["etag"])

      const again = yield* createOnly("hello", newPost({ title: "Hello", body: "second" }))
      assert.strictEqual(again.status, 412)
      // With the post's ETag, as every 412 where a post is (was: none).
      assert.deepStrictEqual(yield* json(again), {
        _tag: "PreconditionFailed",
        slug: "hello",
        etag: created.headers["etag"],
        message: 'a post with slug "hello" already exists, and If-None-Match: * creates one only if there is none: nothing was written'
      })
      const stored = yield* json(yield* get("/posts/hello"))
      assert.strictEqual(stored.body, "first")
      assert.strictEqual(stored.version, 1)

      // Markdown too, at the URL's slug whatever its title.
      const markdown = yield* send(HttpClientRequest.put("/posts/from-markdown").pipe(
        HttpClientRequest.bodyText(MARKDOWN, "text/markdown"),
        HttpClientRequest.setHeaders({ "x-api-key": KEY, "if-none-match": "*" })
      ))
      assert.strictEqual(markdown.status, 201)
      assert.strictEqual((yield* json(markdown)).title, "Hello from Markdown")
      assert.strictEqual((yield* get("/posts/from-markdown")).status, 200)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("*: on a post that exists, 412 before the body is read (a body processing would refuse, or no JSON at all)", () =>
    Effect.gen(function* () {
      const created = yield* createOnly("tie-5", newPost({ title: "Tie 5" }))
      assert.strictEqual(created.status, 201)
      for (const body of [{ body: "x" }, { title: "Tie 5", body: "x", status: "bogus" }, { title: "Tie 5", body: "x", version: 1 }]) {
        const response = yield* createOnly("tie-5", body)
        assert.strictEqual(response.status, 412, JSON.stringify(body))
        assert.deepStrictEqual(yield* json(response), {
          _tag: "PreconditionFailed",
          slug: "tie-5",
          etag: created.headers["etag"],
          message: 'a post with slug "tie-5" already exists, and If-None-Match: * creates one only if there is none: nothing was written'
        })
      }
      const unread = yield* send(HttpClientRequest.put("/posts/tie-5").pipe(
        HttpClientRequest.bodyText("{not json", "application/json"),
        HttpClientRequest.setHeaders({ "x-api-key": KEY, "if-none-match": "*" })
      ))
      assert.strictEqual(unread.status, 412)
      // No post there: the body is read, and what is wrong with it said.
      const missingTitle = yield* createOnly("tie-6", { body: "x" })
      assert.strictEqual(missingTitle.status, 400)
      assert.strictEqual((yield* get("/posts/tie-6")).status, 404)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("*: a version, an If-Match or another slug in the body contradict it (400); without a key it is 401", () =>
    Effect.gen(function* () {
      for (const [body, headers] of [
        [newPost({ version: 1 }), {}],
        [newPost(), { "if-match": "1" }],
        [newPost({ slug: "elsewhere" }), {}]
      ] as const) {
        const response = yield* createOnly("first-post", body, headers)
        assert.strictEqual(response.status, 400, JSON.stringify(body))
        assert.strictEqual((yield* json(response))._tag, "BadRequest")
      }
      assert.strictEqual((yield* get("/posts/first-post", { "x-api-key": KEY })).status, 404)
      assert.strictEqual((yield* putJson("/posts/first-post", newPost(), { "if-none-match": "*" })).status, 401)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("*: of two create-only PUTs racing for one slug, one creates and the other is 412 (SQLite)", () =>
    Effect.gen(function* () {
      const [a, b] = yield* Effect.all(
        [createOnly("contested", newPost({ title: "A", body: "from a" })), createOnly("contested", newPost({ title: "B", body: "from b" }))],
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual([a.status, b.status].sort(), [201, 412])
      const [winner, loser] = a.status === 201 ? [a, b] : [b, a]
      const stored = yield* json(yield* get("/posts/contested"))
      assert.strictEqual(stored.body, winner === a ? "from a" : "from b")
      assert.strictEqual(stored.version, 1)
      // The loser met the post at the insert: its 412 names the post's ETag all the same.
      assert.strictEqual((yield* json(loser)).etag, winner.headers["etag"])
    }).pipe(Effect.provide(testServer({ posts: postsWith(racingSqlite(2)) })))
  )

  it.effect("a tag list: 412 when the post is one of them (weak or strong), the update goes ahead otherwise", () =>
    Effect.gen(function* () {
      const created = yield* createOnly("first-post", newPost())
      const etag = created.headers["etag"]!
      for (const listed of [etag, `"v9-0000000000000000", ${etag}`, `W/${etag}`]) {
        const refused = yield* putJson("/posts/first-post", newPost({ body: "changed", version: 1 }), { "x-api-key": KEY, "if-none-match": listed })
        assert.strictEqual(refused.status, 412, listed)
        assert.deepStrictEqual(yield* json(refused), {
          _tag: "PreconditionFailed",
          slug: "first-post",
          etag,
          message: `post "first-post" is at ${etag}, which If-None-Match names: nothing was written`
        })
      }
      assert.strictEqual((yield* json(yield* get("/posts/first-post"))).version, 1)
      const updated = yield* putJson("/posts/first-post", newPost({ body: "changed" }), {
        "x-api-key": KEY,
        "if-match": etag,
        "if-none-match": '"v9-0000000000000000"'
      })
      assert.strictEqual(updated.status, 200)
      assert.strictEqual((yield* json(updated)).version, 2)
      // Still needs the version it replaces, and a stale one is still 409.
      assert.strictEqual((yield* putJson("/posts/first-post", newPost(), { "x-api-key": KEY, "if-none-match": etag })).status, 428)
      assert.strictEqual(
        (yield* putJson("/posts/first-post", newPost({ version: 1 }), { "x-api-key": KEY, "if-none-match": etag })).status,
        409
      )
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("the OpenAPI document states If-None-Match on PUT, its 201 and its 412", () =>
    Effect.gen(function* () {
      const put = (yield* json(yield* get("/openapi.json"))).paths["/posts/{slug}"].put
      const header = put.parameters.find((parameter: { name: string }) => parameter.name === "if-none-match")
      assert.isDefined(header)
      assert.include(header.description, "*")
      assert.isDefined(put.responses["201"])
      assert.isDefined(put.responses["201"].headers.Location)
      assert.include(JSON.stringify(put.responses["412"]), "PreconditionFailed")
    }).pipe(Effect.provide(testServer()))
  )
})
