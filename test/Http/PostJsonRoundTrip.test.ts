/**
 * The README's round trip: a post read with GET, edited or not, sent back with PUT (or POST) as it
 * is. Told by its `updatedAtSource`, the store's fields are ignored and `updatedAtSource` is the
 * author's updated date; any other body is input fields as before, unknown fields refused.
 */
import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect } from "effect"
import { Post, Slug } from "../../src/Domain/Post.js"
import { InkwellApi } from "../../src/Http/Api.js"
import { get, json, KEY, postJson, postMarkdown, putJson, sqliteTestServer, testServer } from "./harness.js"

/** What a post is, as opposed to what the store keeps of it (id, version, write times, hash). */
const CONTENT = [
  "title", "slug", "body", "tags", "status", "authors", "summary", "publishedAt", "updatedAtSource", "aliases",
  "metadata", "source", "html", "excerpt", "wordCount", "readingTimeMinutes", "toc"
] as const
const contentOf = (post: Record<string, unknown>) => Object.fromEntries(CONTENT.map((key) => [key, post[key]]))

const unknownField = (body: any, field: string) =>
  assert.isTrue(body.issues.some((issue: { path: Array<string> }) => issue.path.join(".") === field), JSON.stringify(body.issues))

describe("a post's JSON sent back", () => {
  const roundTrip = (server: typeof sqliteTestServer, name: string) =>
    it.effect(`PUT of a GET's JSON, unchanged, is 200 and changes no content; its version is the one replaced (${name})`, () =>
    Effect.gen(function* () {
      const created = yield* postJson("/posts", {
        title: "Round trip",
        body: "# Heading\n\nSome text.",
        tags: ["Rust", "web"],
        authors: ["Ada"],
        summary: "A summary.",
        publishedAt: "2024-04-01",
        updatedAt: "2024-05-01",
        aliases: ["/old/round-trip"],
        metadata: { series: "one" }
      })
      assert.strictEqual(created.status, 201)
      const read = yield* json(yield* get("/posts/round-trip"))
      assert.strictEqual(read.updatedAtSource, "2024-05-01T00:00:00.000Z")

      const put = yield* putJson("/posts/round-trip", read)
      assert.strictEqual(put.status, 200, JSON.stringify(yield* json(put)))
      const after = yield* json(put)
      assert.deepStrictEqual(contentOf(after), contentOf(read))
      assert.deepStrictEqual([after.id, after.createdAt, after.version], [read.id, read.createdAt, 2])
      // The same post: the same content hash, though its JSON gives every field, and in other words
      // than the post was created with (`2024-05-01T00:00:00.000Z`, `"aliases"`...).
      assert.strictEqual(after.contentHash, read.contentHash)

      // Edited, it is another post, and sent back as it is again, that post.
      const edited = yield* json(yield* putJson("/posts/round-trip", { ...after, summary: "Another summary." }))
      assert.notStrictEqual(edited.contentHash, read.contentHash)
      const again = yield* json(yield* putJson("/posts/round-trip", yield* json(yield* get("/posts/round-trip"))))
      assert.deepStrictEqual([again.contentHash, again.summary, again.version], [edited.contentHash, "Another summary.", 4])

      // Its `version` is the version it replaces: the first read is stale now.
      const stale = yield* putJson("/posts/round-trip", read)
      assert.strictEqual(stale.status, 409)
      assert.strictEqual((yield* json(stale))._tag, "StaleVersion")
    }).pipe(Effect.provide(server))
  )
  roundTrip(testServer(), "memory")
  roundTrip(sqliteTestServer, "SQLite")

  it.effect("edited, and with the store's fields dropped or not, it is the post it says", () =>
    Effect.gen(function* () {
      assert.strictEqual((yield* postJson("/posts", { title: "Edited", body: "Text.", summary: "Old.", updatedAt: "2024-05-01" })).status, 201)
      const read = yield* json(yield* get("/posts/edited"))
      const edited = yield* json(yield* putJson("/posts/edited", { ...read, summary: "New.", updatedAtSource: "2024-06-02" }))
      assert.deepStrictEqual([edited.summary, edited.updatedAtSource, edited.version], ["New.", "2024-06-02T00:00:00.000Z", 2])

      // What the README once said to drop, dropped: `updatedAt` (the last write) is still not the author's date.
      const { id: _id, html: _html, excerpt: _excerpt, toc: _toc, createdAt: _createdAt, source: _source, ...rest } = edited
      const trimmed = yield* putJson("/posts/edited", { ...rest, body: "Text, edited." })
      assert.strictEqual(trimmed.status, 200, JSON.stringify(yield* json(trimmed)))
      const after = yield* json(trimmed)
      assert.deepStrictEqual([after.body, after.updatedAtSource, after.summary], ["Text, edited.", "2024-06-02T00:00:00.000Z", "New."])

      // A PUT replaces the post: what the JSON no longer has (or has as null) is gone.
      const cleared = yield* json(yield* putJson("/posts/edited", { ...after, summary: null, updatedAtSource: null }))
      assert.deepStrictEqual([cleared.summary, cleared.updatedAtSource], [null, null])
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("a typo is still refused, in input fields and in a post's JSON alike; a bad updatedAtSource is named", () =>
    Effect.gen(function* () {
      assert.strictEqual((yield* postJson("/posts", { title: "Typo", body: "Text." })).status, 201)
      const read = yield* json(yield* get("/posts/typo"))
      const typo = yield* putJson("/posts/typo", { ...read, Summary: "x" })
      assert.strictEqual(typo.status, 400)
      unknownField(yield* json(typo), "Summary")
      const inputTypo = yield* putJson("/posts/typo", { title: "Typo", body: "Text.", version: 1, tag: ["a"] })
      assert.strictEqual(inputTypo.status, 400)
      unknownField(yield* json(inputTypo), "tag")
      // Without `updatedAtSource`, the store's fields are unknown input fields, as before.
      const { updatedAtSource: _, ...noMarker } = read
      const store = yield* putJson("/posts/typo", noMarker)
      assert.strictEqual(store.status, 400)
      unknownField(yield* json(store), "html")
      const badDate = yield* putJson("/posts/typo", { ...read, updatedAtSource: "yesterday" })
      assert.strictEqual(badDate.status, 400)
      const problem = yield* json(badDate)
      assert.include(problem.message, "updatedAtSource")
      assert.strictEqual((yield* json(yield* get("/posts/typo"))).version, 1)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("the fields the server derives or keeps are ignored, whatever their values (was: 400 in the schema's own terms, Brand<\"PostId\">, TocEntry (Encoded side))", () =>
    Effect.gen(function* () {
      assert.strictEqual((yield* postJson("/posts", { title: "Derived", body: "# Heading\n\nText." })).status, 201)
      const read = yield* json(yield* get("/posts/derived"))
      const garbage = {
        id: null,
        toc: "x",
        createdAt: "garbage",
        updatedAt: 5,
        html: ["not", "html"],
        excerpt: {},
        wordCount: -1,
        readingTimeMinutes: "long",
        contentHash: false,
        source: 42
      }
      const updated = yield* putJson("/posts/derived", { ...read, ...garbage, summary: "Edited." })
      assert.strictEqual(updated.status, 200, JSON.stringify(yield* json(updated)))
      const after = yield* json(updated)
      assert.deepStrictEqual(
        [after.id, after.toc, after.createdAt, after.source, after.summary, after.version],
        [read.id, read.toc, read.createdAt, read.source, "Edited.", 2]
      )
      // POST takes them as ignored too (a copy is a new post).
      const copy = yield* postJson("/posts", { ...after, ...garbage, slug: "derived-copy" })
      assert.strictEqual(copy.status, 201, JSON.stringify(yield* json(copy)))
      // `version`, which a PUT reads, is checked, and said plainly.
      const badVersion = yield* json(yield* putJson("/posts/derived", { ...after, version: "two" }))
      assert.strictEqual(badVersion.message, 'version: expected the version being replaced (an integer from 1), got "two"')
      const inputVersion = yield* json(yield* putJson("/posts/derived", { title: "Derived", body: "Text.", version: 0 }))
      assert.strictEqual(inputVersion.message, "version: expected the version being replaced (an integer from 1), got 0")
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("a body that begins with a --- section of its own keeps it, as the post had it", () =>
    Effect.gen(function* () {
      const created = yield* postMarkdown("/posts", "---\ntitle: Ruled\n---\n---\nnot: front matter\n---\nText.\n")
      assert.strictEqual(created.status, 201)
      const read = yield* json(yield* get("/posts/ruled"))
      assert.isTrue(read.body.startsWith("---\nnot: front matter"), read.body)
      const after = yield* json(yield* putJson("/posts/ruled", read))
      assert.deepStrictEqual([after.body, after.metadata, after.html], [read.body, read.metadata, read.html])
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("POST /posts takes a post's JSON too: a new post of the API, its store fields ignored", () =>
    Effect.gen(function* () {
      assert.strictEqual((yield* postJson("/posts", { title: "Original", body: "Text.", updatedAt: "2024-05-01" })).status, 201)
      const read = yield* json(yield* get("/posts/original"))
      const copy = yield* postJson("/posts", { ...read, slug: "copy" })
      assert.strictEqual(copy.status, 201, JSON.stringify(yield* json(copy)))
      const body = yield* json(copy)
      assert.deepStrictEqual([body.slug, body.version, body.updatedAtSource, body.source], ["copy", 1, read.updatedAtSource, "api"])
      assert.notStrictEqual(body.id, read.id)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("the OpenAPI document takes the GET type as the PUT and POST body; the typed client sends a Post back", () =>
    Effect.gen(function* () {
      const spec = yield* json(yield* get("/openapi.json"))
      for (const operation of [spec.paths["/posts/{slug}"].put, spec.paths["/posts"].post]) {
        assert.include(JSON.stringify(operation.requestBody.content["application/json"].schema), "#/components/schemas/PostJson")
      }
      const postJsonSchema = spec.components.schemas.PostJson
      assert.sameMembers(postJsonSchema.required, ["body", "updatedAtSource"])
      assert.sameMembers(Object.keys(postJsonSchema.properties), Object.keys(spec.components.schemas.Post.properties))
      assert.isFalse(postJsonSchema.additionalProperties)

      const client = yield* HttpApiClient.make(InkwellApi, {
        transformClient: HttpClient.mapRequest(HttpClientRequest.setHeader("x-api-key", KEY))
      })
      assert.strictEqual((yield* postJson("/posts", { title: "Typed", body: "Text.", updatedAt: "2024-05-01" })).status, 201)
      const slug = Slug.make("typed")
      const answer = yield* client.posts.get({ path: { slug }, headers: {} })
      assert.instanceOf(answer, Post)
      const read = answer as Post
      const updated = yield* client.postsAdmin.update({ path: { slug }, headers: {}, payload: read })
      assert.strictEqual(updated.version, 2)
      assert.strictEqual(updated.updatedAtSource && DateTime.formatIso(updated.updatedAtSource), "2024-05-01T00:00:00.000Z")
      assert.strictEqual(updated.body, read.body)
    }).pipe(Effect.provide(testServer()))
  )
})
