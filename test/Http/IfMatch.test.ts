/**
 * `If-Match` on writes (RFC 9110 §13.1.1): a post that is not what it names fails the
 * precondition, 412 PreconditionFailed, nothing written; a weak tag never matches (strong
 * comparison). A stale `version` in the body is not a precondition header: 409 StaleVersion.
 */
import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Slug } from "../../src/Domain/Post.js"
import { InkwellApi } from "../../src/Http/Api.js"
import { PreconditionFailed } from "../../src/Http/Errors.js"
import { del, get, json, KEY, newPost, postJson, putJson, send, sqliteTestServer, testServer } from "./harness.js"

const ifMatch = (value: string) => ({ "x-api-key": KEY, "if-match": value })

describe("If-Match", () => {
  it.effect("a stale ETag or version is 412 PreconditionFailed naming the slug, what was asked and the post's ETag; nothing is written", () =>
    Effect.gen(function* () {
      const v1 = (yield* postJson("/posts", newPost())).headers["etag"]!
      const v2 = (yield* putJson("/posts/first-post", newPost({ body: "v2", version: 1 }))).headers["etag"]!
      for (const asked of [v1, "1", '"v1"']) {
        for (const [method, answer] of [
          ["PUT", yield* putJson("/posts/first-post", newPost({ body: "lost" }), ifMatch(asked))],
          ["DELETE", yield* del("/posts/first-post", ifMatch(asked))]
        ] as const) {
          assert.strictEqual(answer.status, 412, `${method} If-Match: ${asked}`)
          assert.deepStrictEqual(yield* json(answer), {
            _tag: "PreconditionFailed",
            slug: "first-post",
            etag: v2,
            message: `post "first-post" is at ${v2} (version 2), not what If-Match: ${asked} asks for: nothing was written; reload it and retry`
          })
        }
      }
      const stored = yield* json(yield* get("/posts/first-post"))
      assert.deepStrictEqual([stored.version, stored.body], [2, "v2"])
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("a weak tag never matches, even the post's own ETag: 412 saying so, not 400", () =>
    Effect.gen(function* () {
      const etag = (yield* postJson("/posts", newPost())).headers["etag"]!
      for (const weak of [`W/${etag}`, `W/${etag}, W/"v9-0123456789abcdef"`]) {
        const put = yield* putJson("/posts/first-post", newPost({ body: "weak" }), ifMatch(weak))
        assert.strictEqual(put.status, 412, weak)
        const body = yield* json(put)
        assert.strictEqual(body._tag, "PreconditionFailed")
        assert.strictEqual(body.etag, etag)
        assert.include(body.message, "weak W/ tags never match")
        // DELETE (no body: decided in expectedVersion) answers as PUT (decided before its body).
        const deleted = yield* del("/posts/first-post", ifMatch(weak))
        assert.strictEqual(deleted.status, 412, weak)
        assert.deepStrictEqual(yield* json(deleted), body, weak)
        // No post: 404 for both, as without the precondition (RFC 9110 §13.2.1).
        assert.strictEqual((yield* putJson("/posts/no-such-post", newPost({ body: "weak" }), ifMatch(weak))).status, 404, weak)
        assert.strictEqual((yield* del("/posts/no-such-post", ifMatch(weak))).status, 404, weak)
      }
      // With the body's version too: the precondition still cannot hold.
      assert.strictEqual((yield* putJson("/posts/first-post", newPost({ version: 1 }), ifMatch(`W/${etag}`))).status, 412)
      // Beside a strong tag the post is, a weak one is passed over: the write goes ahead.
      const mixed = yield* putJson("/posts/first-post", newPost({ body: "mixed" }), ifMatch(`W/${etag}, ${etag}`))
      assert.strictEqual(mixed.status, 200)
      // Something that is no entity tag at all is still a malformed header.
      assert.strictEqual((yield* del("/posts/first-post", ifMatch("W/2"))).status, 400)
      assert.strictEqual((yield* del("/posts/first-post", ifMatch("*, 2"))).status, 400)
      assert.strictEqual((yield* json(yield* get("/posts/first-post"))).version, 2)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("a stale body version is 409 StaleVersion; with an agreeing If-Match the header's 412 decides; disagreeing, 400", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost())
      yield* putJson("/posts/first-post", newPost({ body: "v2", version: 1 }))
      const bodyOnly = yield* putJson("/posts/first-post", newPost({ version: 1 }))
      assert.strictEqual(bodyOnly.status, 409)
      assert.deepInclude(yield* json(bodyOnly), { _tag: "StaleVersion", expected: 1, actual: 2 })
      // `*` holds (the post exists): the body's version is what is stale.
      const star = yield* putJson("/posts/first-post", newPost({ version: 1 }), ifMatch("*"))
      assert.strictEqual(star.status, 409)
      assert.strictEqual((yield* json(star))._tag, "StaleVersion")
      // RFC 9110 §13.2.2: the precondition is evaluated before the method.
      const both = yield* putJson("/posts/first-post", newPost({ version: 1 }), ifMatch("1"))
      assert.strictEqual(both.status, 412)
      assert.strictEqual((yield* json(both))._tag, "PreconditionFailed")
      // The post is what If-Match says: the body's version disagreeing with it is the request contradicting itself.
      const disagree = yield* putJson("/posts/first-post", newPost({ version: 1 }), ifMatch("2"))
      assert.strictEqual(disagree.status, 400)
      assert.strictEqual((yield* json(disagree))._tag, "BadRequest")
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("the precondition is evaluated before the body: a stale If-Match is 412 whatever the body (RFC 9110 §13.2.1)", () =>
    Effect.gen(function* () {
      for (const [name, server] of [["memory", testServer()], ["SQLite (encoded reads)", sqliteTestServer]] as const) {
        yield* Effect.gen(function* () {
          const etag = (yield* postJson("/posts", newPost({ title: "Tie 5", slug: "tie-5" }))).headers["etag"]!
          for (const [body, asked] of [
            [{ title: "Tie 5", body: "x", status: "bogus" }, '"v9-aaaa-bbbb"'],
            [{ body: "x", tags: [42] }, "7"],
            [{ title: "Tie 5", body: "x", version: 3 }, `W/${etag}`]
          ] as const) {
            const put = yield* putJson("/posts/tie-5", body, ifMatch(asked))
            assert.strictEqual(put.status, 412, `${name}: ${JSON.stringify(body)} If-Match: ${asked}`)
            assert.deepInclude(yield* json(put), { _tag: "PreconditionFailed", slug: "tie-5", etag })
          }
          // Not even JSON: the body is never read.
          const unread = yield* send(HttpClientRequest.put("/posts/tie-5").pipe(
            HttpClientRequest.bodyText("{not json", "application/json"),
            HttpClientRequest.setHeaders(ifMatch('"v9-aaaa-bbbb"'))
          ))
          assert.strictEqual(unread.status, 412, name)
          // If-None-Match naming the post: 412 before the body too.
          const named = yield* putJson("/posts/tie-5", { body: "x", status: "bogus" }, { "x-api-key": KEY, "if-none-match": etag })
          assert.strictEqual(named.status, 412, name)
          // The post as If-Match says: the body is then what is wrong.
          const fresh = yield* putJson("/posts/tie-5", { title: "Tie 5", body: "x", status: "bogus" }, ifMatch(etag))
          assert.strictEqual(fresh.status, 400, name)
          assert.strictEqual((yield* json(yield* get("/posts/tie-5"))).version, 1, name)
        }).pipe(Effect.provide(server))
      }
    })
  )

  it.effect("with If-None-Match too, a post that is not the If-Match is 412 (and still 409 for a stale body version)", () =>
    Effect.gen(function* () {
      const v1 = (yield* postJson("/posts", newPost())).headers["etag"]!
      const v2 = (yield* putJson("/posts/first-post", newPost({ body: "v2", version: 1 }))).headers["etag"]!
      const conditional = yield* putJson("/posts/first-post", newPost({ body: "x" }), {
        ...ifMatch(v1),
        "if-none-match": '"v9-0123456789abcdef"'
      })
      assert.strictEqual(conditional.status, 412)
      assert.deepInclude(yield* json(conditional), { _tag: "PreconditionFailed", etag: v2 })
      const bodyVersion = yield* putJson("/posts/first-post", newPost({ body: "x", version: 1 }), {
        "x-api-key": KEY,
        "if-none-match": '"v9-0123456789abcdef"'
      })
      assert.strictEqual(bodyVersion.status, 409)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("a missing post is 404 whatever If-Match says (RFC 9110 §13.2.1: the request fails without it)", () =>
    Effect.gen(function* () {
      for (const asked of ["*", "1", '"v1-0123456789abcdef"', 'W/"v1-0123456789abcdef"', '"v1-0123456789abcdef", "v2-0123456789abcdef"']) {
        const remove = yield* del("/posts/nope", ifMatch(asked))
        assert.strictEqual(remove.status, 404, `DELETE If-Match: ${asked}`)
        assert.strictEqual((yield* json(remove))._tag, "PostNotFound")
        assert.strictEqual((yield* putJson("/posts/nope", newPost({ slug: "nope", version: 1 }), ifMatch(asked))).status, 404, `PUT If-Match: ${asked}`)
      }
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("the typed client decodes the 412 of an update and of a delete", () =>
    Effect.gen(function* () {
      const client = yield* HttpApiClient.make(InkwellApi, {
        transformClient: HttpClient.mapRequest(HttpClientRequest.setHeader("x-api-key", KEY))
      })
      const post = { title: "First post", body: "Hello.", tags: [], status: "published" as const }
      const created = yield* client.postsAdmin.create({ payload: post })
      yield* client.postsAdmin.update({ path: { slug: Slug.make("first-post") }, headers: {}, payload: { ...post, version: created.version } })
      const update = yield* Effect.flip(
        client.postsAdmin.update({ path: { slug: Slug.make("first-post") }, headers: { "if-match": "1" }, payload: post })
      )
      assert.instanceOf(update, PreconditionFailed)
      assert.strictEqual(update.slug, "first-post")
      const remove = yield* Effect.flip(client.postsAdmin.delete({ path: { slug: Slug.make("first-post") }, headers: { "if-match": "1" } }))
      assert.instanceOf(remove, PreconditionFailed)
      assert.match(remove.etag ?? "", /^"v2-/)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("the OpenAPI document: PUT and DELETE declare 412 and say what If-Match does; 409 only where a body version is", () =>
    Effect.gen(function* () {
      const path = (yield* json(yield* get("/openapi.json"))).paths["/posts/{slug}"]
      for (const operation of [path.put, path.delete]) {
        assert.include(JSON.stringify(operation.responses["412"]), "PreconditionFailed")
        const header = operation.parameters.find((parameter: { name: string }) => parameter.name === "if-match")
        assert.include(header.description, "412 PreconditionFailed")
        assert.include(header.description, "weak")
      }
      assert.include(JSON.stringify(path.put.responses["409"]), "StaleVersion")
      assert.isUndefined(path.delete.responses["409"])
    }).pipe(Effect.provide(testServer()))
  )
})
