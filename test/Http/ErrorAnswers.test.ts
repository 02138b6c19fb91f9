/**
 * What a client reads in an error: every typed error body has a human `message` beside its
 * structured fields, and the typed client decodes it.
 */
import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { InvalidPost, PostNotFound, SlugConflict, StaleVersion } from "../../src/Domain/Errors.js"
import { InkwellApi } from "../../src/Http/Api.js"
import { Slug } from "../../src/Domain/Post.js"
import { get, json, KEY, newPost, postJson, putJson, testServer } from "./harness.js"

const slug = (text: string) => Slug.make(text)

describe("error bodies", () => {
  it.effect("PostNotFound, SlugConflict, StaleVersion and InvalidPost carry a message beside their fields", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* json(yield* get("/posts/no-such-post")), {
        _tag: "PostNotFound",
        slug: "no-such-post",
        message: 'no post with slug "no-such-post"'
      })
      assert.strictEqual((yield* postJson("/posts", newPost())).status, 201)
      assert.deepStrictEqual(yield* json(yield* postJson("/posts", newPost())), {
        _tag: "SlugConflict",
        slug: "first-post",
        message: 'a post with slug "first-post" already exists'
      })
      assert.deepStrictEqual(yield* json(yield* putJson("/posts/first-post", newPost({ version: 7 }))), {
        _tag: "StaleVersion",
        slug: "first-post",
        expected: 7,
        actual: 1,
        message: 'post "first-post" is at version 1, not 7: reload and retry'
      })
      const invalid = yield* json(yield* postJson("/posts", { body: "no title anywhere" }))
      assert.strictEqual(invalid._tag, "InvalidPost")
      assert.strictEqual(invalid.field, "title")
      assert.isString(invalid.reason)
      assert.strictEqual(invalid.message, `api: title: ${invalid.reason}`)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("the typed client decodes each of them, message included", () =>
    Effect.gen(function* () {
      const client = yield* HttpApiClient.make(InkwellApi, {
        transformClient: HttpClient.mapRequest(HttpClientRequest.setHeader("x-api-key", KEY))
      })
      const notFound = yield* Effect.flip(client.posts.get({ path: { slug: slug("nope") }, headers: {} }))
      assert.instanceOf(notFound, PostNotFound)
      assert.strictEqual(notFound.message, 'no post with slug "nope"')

      const post = { title: "First post", body: "Hello.", tags: [], status: "published" as const }
      yield* client.postsAdmin.create({ payload: post })
      const conflict = yield* Effect.flip(client.postsAdmin.create({ payload: post }))
      assert.instanceOf(conflict, SlugConflict)
      assert.strictEqual(conflict.message, 'a post with slug "first-post" already exists')

      const stale = yield* Effect.flip(
        client.postsAdmin.update({ path: { slug: slug("first-post") }, headers: {}, payload: { ...post, version: 3 } })
      )
      assert.instanceOf(stale, StaleVersion)
      assert.strictEqual(stale.actual, 1)
      assert.strictEqual(stale.message, 'post "first-post" is at version 1, not 3: reload and retry')

      const { title: _title, ...untitled } = post
      const invalid = yield* Effect.flip(client.postsAdmin.create({ payload: untitled }))
      assert.instanceOf(invalid, InvalidPost)
      assert.strictEqual(invalid.field, "title")
      assert.strictEqual(invalid.message, `api: title: ${invalid.reason}`)
    }).pipe(Effect.provide(testServer()))
  )
})
