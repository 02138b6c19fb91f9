/**
 * `GET /posts/:slug` at a slug a post left, as every store answers it over HTTP (memory:
 * Api.test.ts, SQLite: Sqlite.test.ts, PostgreSQL: test/Pg/MovedPost.test.ts): 301 to where the
 * post is now, for GET and HEAD, only when the caller may read it there; writes to the old slug
 * stay 404. Needs a server from the harness (the clock at FIXTURE_NOW, the key KEY).
 */
import { HttpClientRequest } from "@effect/platform"
import { assert } from "@effect/vitest"
import { Effect } from "effect"
import { del, get, json, KEY, newPost, postJson, putJson, send } from "./harness.js"

const keyed = { "x-api-key": KEY }

/** A 301 from `from` to `to`, its Location, and the body saying the same. */
const assertMoved = (from: string, to: string, headers: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const moved = yield* get(`/posts/${from}`, headers)
    assert.strictEqual(moved.status, 301, `${from} → ${to}`)
    assert.strictEqual(moved.headers["location"], `/posts/${to}`)
    assert.deepStrictEqual(yield* json(moved), {
      _tag: "PostMoved",
      slug: from,
      movedTo: to,
      location: `/posts/${to}`,
      message: `post "${from}" moved to "${to}": read it at /posts/${to}`
    })
    return moved
  })

const assertMissing = (slug: string) =>
  Effect.gen(function*() {
    const missing = yield* get(`/posts/${slug}`)
    assert.strictEqual(missing.status, 404, slug)
    assert.strictEqual((yield* json(missing))._tag, "PostNotFound")
  })

const put = (slug: string, fields: Record<string, unknown>) =>
  Effect.flatMap(putJson(`/posts/${slug}`, newPost(fields)), (response) => {
    assert.strictEqual(response.status, 200, `PUT /posts/${slug}`)
    return json(response)
  })

export const movedPostAnswers = Effect.gen(function*() {
  assert.strictEqual((yield* postJson("/posts", newPost())).status, 201)
  yield* put("first-post", { slug: "second-post", version: 1 })

  const moved = yield* assertMoved("first-post", "second-post")
  // Revalidated on every use: a 301 without a freshness of its own is kept by browsers for good.
  assert.strictEqual(moved.headers["cache-control"], "no-cache")
  assert.include(moved.headers["vary"], "x-api-key")
  const followed = yield* get(moved.headers["location"]!)
  assert.strictEqual(followed.status, 200)
  assert.strictEqual((yield* json(followed)).slug, "second-post")
  const withKey = yield* assertMoved("first-post", "second-post", keyed)
  assert.strictEqual(withKey.headers["cache-control"], "private, no-cache")
  // The query goes along: the same request, at the post's new address.
  assert.strictEqual((yield* get("/posts/first-post?utm_source=feed&x=%C3%A9")).headers["location"], "/posts/second-post?utm_source=feed&x=%C3%A9")
  // Repeated slashes are routed as one: a Location starting with two would name a host.
  assert.strictEqual((yield* get("//posts/first-post")).headers["location"], "/posts/second-post")
  // The router ends the path at ";": a Location keeping what follows would be routed back here.
  assert.strictEqual((yield* get("/posts/first-post;/x")).headers["location"], "/posts/second-post")
  // Credentials that are no key still make the answer the client's own, as every read's.
  assert.strictEqual((yield* get("/posts/first-post", { authorization: "Basic eDp5" })).headers["cache-control"], "private, no-cache")
  const head = yield* send(HttpClientRequest.head("/posts/first-post"))
  assert.deepStrictEqual([head.status, head.headers["location"]], [301, "/posts/second-post"])

  // Writes name the current slug: the old one is 404 to them, and nothing changes.
  const stale = yield* putJson("/posts/first-post", newPost({ body: "Rewritten.", version: 2 }))
  assert.deepStrictEqual([stale.status, (yield* json(stale))._tag], [404, "PostNotFound"])
  assert.strictEqual((yield* del("/posts/first-post")).status, 404)
  assert.strictEqual((yield* json(yield* get("/posts/second-post"))).version, 2)

  // Moved again: every slug it left leads to where it is now.
  yield* put("second-post", { slug: "third-post", version: 2 })
  yield* assertMoved("first-post", "third-post")
  yield* assertMoved("second-post", "third-post")

  // A draft or scheduled post's new slug is not told to readers who may not read it there.
  yield* put("third-post", { status: "draft", version: 3 })
  yield* assertMissing("first-post")
  yield* assertMoved("first-post", "third-post", keyed)
  yield* put("third-post", { publishedAt: "2027-01-01T00:00:00Z", version: 4 })
  yield* assertMissing("second-post")
  yield* assertMoved("second-post", "third-post", keyed)
  yield* put("third-post", { publishedAt: "2025-06-01T00:00:00Z", version: 5 })
  yield* assertMoved("second-post", "third-post")

  // A post that takes an old slug again is answered there; a deleted post leaves no redirect.
  assert.strictEqual((yield* postJson("/posts", newPost({ slug: "first-post", title: "Another" }))).status, 201)
  const taken = yield* get("/posts/first-post")
  assert.deepStrictEqual([taken.status, (yield* json(taken)).title], [200, "Another"])
  assert.strictEqual((yield* del("/posts/third-post")).status, 204)
  yield* assertMissing("second-post")
})
