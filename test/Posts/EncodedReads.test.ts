/**
 * The SQL repository's encoded read (SQLite builds a post's response JSON with json_object) must
 * answer the very bytes the general path answers: `JSON.stringify(encodePost(getBySlug(slug)))`.
 * Both SQLite set-ups: a file (the pool's read-only connection) and memory (through the client).
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import * as Migrations from "../../src/Database/Migrations.js"
import * as SqlLive from "../../src/Database/SqlLive.js"
import { DatabaseError, PostNotFound } from "../../src/Domain/Errors.js"
import { encodePost } from "../../src/Posts/Http.js"
import { type EncodedPost, type GetEncoded, getEncodedOf, listEncodedOf } from "../../src/Posts/internal/encodedReads.js"
import { type ListQuery, PostRepository } from "../../src/Posts/PostRepository.js"
import { PostPage } from "../../src/Posts/Api.js"
import * as SqlPostRepository from "../../src/Posts/SqlPostRepository.js"
import { makeNewPost } from "../fixtures/posts.js"

const stack = (url: string) =>
  SqlPostRepository.layer.pipe(
    Layer.provideMerge(DatabasePool.layer({ maxConnections: 4, acquireTimeout: "5 seconds" })),
    Layer.provideMerge(Migrations.layer.pipe(Layer.provideMerge(SqlLive.layer(url))))
  )

const tempFile = Layer.unwrapScoped(
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "inkwell-encoded-" })
    return stack(`sqlite:${dir}/inkwell.db`)
  })
).pipe(Layer.provide(NodeFileSystem.layer))

/** Everything JSON text escapes differently somewhere: quotes, backslashes, controls, DEL, U+2028, astral, lone surrogates. */
const awkward = "q\"uote \\ back / slash \u0000\u0001\u0008\t\n\u000b\f\r\u001f \u007f é ü 中文 \u2028\u2029 😀 \ud800 </script>"

const posts = [
  makeNewPost({ slug: "plain" }),
  makeNewPost({
    slug: "awkward",
    title: `Title ${awkward}`,
    body: `# Body\n\n${awkward}`,
    html: `<p data-x="${awkward}">${awkward}</p>`,
    excerpt: awkward,
    summary: awkward,
    tags: ["rust", `tag ${awkward}`],
    authors: [awkward, "Ann"],
    aliases: ["/old/", awkward],
    metadata: { "10": "integer-like key", b: 0.1, c: 1e21, d: -5, e: [true, null, { x: awkward }], "2": 2, a: "" },
    toc: [{ level: 1, text: awkward, id: "a" }, { level: 6, text: "", id: awkward }],
    publishedAt: "2024-03-01T10:20:30.999Z",
    updatedAtSource: "1970-01-01T00:00:00.000Z"
  }),
  makeNewPost({ slug: "millis", publishedAt: "2001-09-09T01:46:40.001Z", updatedAtSource: "9999-12-31T23:59:59.999Z" }),
  makeNewPost({ slug: "draft", status: "draft" })
]

const suite = (name: string, layer: Layer.Layer<PostRepository | DatabasePool | SqlClient.SqlClient, unknown>) =>
  describe(`encoded reads (${name})`, () => {
    it.effect("answer the bytes of JSON.stringify(encodePost(getBySlug(slug))), with status, version and hash", () =>
      Effect.gen(function*() {
        const repository = yield* PostRepository
        const getEncoded: GetEncoded | undefined = getEncodedOf(repository)
        assert.isDefined(getEncoded)
        for (const post of posts) yield* repository.create(post)
        for (const post of posts) {
          const decoded = yield* repository.getBySlug(post.slug)
          const encoded: EncodedPost | undefined = yield* getEncoded!(post.slug)
          assert.isDefined(encoded)
          assert.strictEqual(Buffer.from(encoded!.json).toString("utf8"), JSON.stringify(encodePost(decoded)), post.slug)
          assert.deepStrictEqual(
            [encoded!.status, encoded!.version, encoded!.contentHash],
            [decoded.status, decoded.version, decoded.contentHash]
          )
        }
      }).pipe(Effect.provide(layer)))

    it.effect("a missing slug is PostNotFound", () =>
      Effect.gen(function*() {
        const getEncoded = getEncodedOf(yield* PostRepository)!
        const error = yield* Effect.flip(getEncoded("nothing-here"))
        assert.deepStrictEqual(error, new PostNotFound({ slug: "nothing-here" }))
      }).pipe(Effect.provide(layer)))

    it.effect("leaves a date it cannot format like toISOString (before 1970) to the general path", () =>
      Effect.gen(function*() {
        const repository = yield* PostRepository
        yield* repository.create(makeNewPost({ slug: "old", publishedAt: "1969-12-31T23:59:59.999Z" }))
        assert.isUndefined(yield* getEncodedOf(repository)!("old"))
        assert.strictEqual(encodePost(yield* repository.getBySlug("old")).publishedAt, "1969-12-31T23:59:59.999Z")
      }).pipe(Effect.provide(layer)))

    it.effect("a malformed row is never answered: a wrong type goes to the general path, broken JSON fails", () =>
      Effect.gen(function*() {
        const repository = yield* PostRepository
        const sql = yield* SqlClient.SqlClient
        const getEncoded = getEncodedOf(repository)!
        yield* repository.create(makeNewPost({ slug: "typed" }))
        yield* repository.create(makeNewPost({ slug: "broken" }))
        yield* repository.create(makeNewPost({ slug: "shaped" }))
        yield* sql`UPDATE posts SET word_count = 'many' WHERE slug = 'typed'`
        yield* sql`UPDATE posts SET tags = '["unclosed"' WHERE slug = 'broken'`
        yield* sql`UPDATE posts SET authors = '[1, 2]' WHERE slug = 'shaped'`
        assert.isUndefined(yield* getEncoded("typed"))
        assert.isUndefined(yield* getEncoded("shaped"))
        assert.instanceOf(yield* Effect.flip(getEncoded("broken")), DatabaseError)
        // The general path reports all three.
        for (const slug of ["typed", "broken", "shaped"]) {
          assert.instanceOf(yield* Effect.flip(repository.getBySlug(slug)), DatabaseError)
        }
      }).pipe(Effect.provide(layer)))

    it.effect("list pages answer the bytes of the API's PostPage, page after page, with every filter", () =>
      Effect.gen(function*() {
        const repository = yield* PostRepository
        const listEncoded = listEncodedOf(repository)
        assert.isDefined(listEncoded)
        for (const post of posts) yield* repository.create(post)
        for (let i = 0; i < 7; i++) {
          yield* repository.create(makeNewPost({
            slug: `more-${i}`,
            tags: i % 2 === 0 ? ["rust"] : ["go"],
            summary: i % 3 === 0 ? null : `summary ${i}`,
            // Two share a date: the id breaks the tie, in both orders and cursors.
            publishedAt: i < 2 ? "2020-05-05T05:05:05.005Z" : `2021-0${i}-01T00:00:00.000Z`
          }))
        }
        const encodePage = Schema.encodeSync(PostPage)
        const same = (query: ListQuery) =>
          Effect.gen(function*() {
            const bytes = yield* listEncoded!(query)
            assert.isDefined(bytes)
            const page = yield* repository.list(query)
            assert.strictEqual(new TextDecoder().decode(bytes), JSON.stringify(encodePage(page)), JSON.stringify(query))
            return page
          })
        for (const query of [{}, { status: "published" as const }, { status: "draft" as const }, { tag: "rust" }, { tag: "none" }, { offset: 3, limit: 2 }]) {
          yield* same(query)
        }
        // Both paths refuse an unreadable cursor alike.
        assert.strictEqual((yield* Effect.flip(listEncoded!({ cursor: "not a cursor" })))._tag, "InvalidCursor")
        assert.strictEqual((yield* Effect.flip(repository.list({ cursor: "not a cursor" })))._tag, "InvalidCursor")
        // Through every page, one post at a time: each cursor the encoded list hands out is the general path's.
        let cursor: string | undefined
        let seen = 0
        for (;;) {
          const page = yield* same({ limit: 1, status: "published", cursor })
          seen += page.items.length
          if (page.next === null) break
          cursor = page.next
        }
        assert.strictEqual(seen, posts.length - 1 + 7)
      }).pipe(Effect.provide(layer)))

    it.effect("a list page with a row it cannot encode goes to the general path", () =>
      Effect.gen(function*() {
        const repository = yield* PostRepository
        const sql = yield* SqlClient.SqlClient
        yield* repository.create(makeNewPost({ slug: "fine" }))
        yield* repository.create(makeNewPost({ slug: "shaped" }))
        assert.isDefined(yield* listEncodedOf(repository)!({}))
        yield* sql`UPDATE posts SET authors = '[1, 2]' WHERE slug = 'shaped'`
        assert.isUndefined(yield* listEncodedOf(repository)!({}))
        yield* sql`UPDATE posts SET authors = '[]', created_at = -1 WHERE slug = 'shaped'`
        assert.isUndefined(yield* listEncodedOf(repository)!({}))
        // A page without it is still encoded.
        assert.isDefined(yield* listEncodedOf(repository)!({ tag: "nothing" }))
      }).pipe(Effect.provide(layer)))
  })

suite("SQLite file: the pool's read-only connection", tempFile)
suite("SQLite in memory: through the client", stack("sqlite::memory:"))
