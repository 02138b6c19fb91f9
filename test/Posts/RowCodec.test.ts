/**
 * The read path's hand-written codecs must agree with the Schemas they stand in for:
 * `rowToPost` with `PostFromRow`'s decoding, `encodePost` with `Schema.encodeSync(Post)`
 * (byte for byte once stringified, since cached and baseline responses are compared as bytes).
 */
import { assert, describe, expectTypeOf, it } from "@effect/vitest"
import { DateTime, Schema } from "effect"
import { Post, Slug, TocEntry } from "../../src/Domain/Post.js"
import { encodePost } from "../../src/Posts/Http.js"
import { PostFromRow, postToRow, rowToPost } from "../../src/Posts/SqlPostRepository.js"

const post = (overrides: Partial<ConstructorParameters<typeof Post>[0]> = {}) =>
  new Post({
    id: "0192f0c8-aaaa-7bbb-8ccc-123456789abc" as Post["id"],
    slug: Slug.make("hello-world"),
    title: "Hello \"world\" — ünïcode",
    body: "# Hello\n\nSome *words*.",
    tags: ["rust", "effect"],
    status: "published",
    authors: ["Ann", "Bob"],
    summary: "A summary",
    publishedAt: DateTime.unsafeMake("2024-03-01T10:20:30.456Z"),
    updatedAtSource: null,
    aliases: ["/old/hello/"],
    metadata: { weight: 3, extra: { nested: [1, "two", null] }, draft: false },
    source: "posts/hello.md",
    html: "<h1 id=\"hello\">Hello</h1>\n<p>Some <em>words</em>.</p>",
    excerpt: "Some words.",
    wordCount: 3,
    readingTimeMinutes: 1,
    toc: [new TocEntry({ level: 1, text: "Hello", id: "hello" }), new TocEntry({ level: 2, text: "Más", id: "mas" })],
    contentHash: "ab".repeat(32),
    createdAt: DateTime.unsafeMake("2024-03-01T10:20:30.456Z"),
    updatedAt: DateTime.unsafeMake("2024-04-02T00:00:00.000Z"),
    version: 7,
    ...overrides
  })

const samples = [
  post(),
  post({ summary: null, publishedAt: null, updatedAtSource: DateTime.unsafeMake(0), toc: [], tags: [], metadata: {}, status: "draft" })
]

const decodeRow = Schema.decodeUnknownSync(PostFromRow)

describe("rowToPost", () => {
  it("decodes a stored row as PostFromRow does (SQLite numbers and PostgreSQL numeric strings)", () => {
    for (const sample of samples) {
      const { sort_at: _sortAt, ...row } = postToRow(sample)
      const viaSchema = decodeRow(row)
      assert.deepStrictEqual(rowToPost(row), viaSchema)
      assert.deepStrictEqual(rowToPost(row), sample)
      assert.instanceOf(rowToPost(row)!.toc[0] ?? new TocEntry({ level: 1, text: "", id: "" }), TocEntry)
      const pgRow = {
        ...row,
        created_at: String(row.created_at),
        updated_at: String(row.updated_at),
        version: String(row.version),
        published_at: row.published_at === null ? null : String(row.published_at)
      }
      assert.deepStrictEqual(rowToPost(pgRow), viaSchema)
    }
  })

  it("leaves a row it cannot read to the Schema (undefined)", () => {
    const { sort_at: _sortAt, ...row } = postToRow(samples[0]!)
    assert.isUndefined(rowToPost({ ...row, status: "archived" }))
    assert.isUndefined(rowToPost({ ...row, tags: "not json" }))
    assert.isUndefined(rowToPost({ ...row, tags: "[1, 2]" }))
    assert.isUndefined(rowToPost({ ...row, version: "seven" }))
    assert.isUndefined(rowToPost({ ...row, title: null }))
    assert.isUndefined(rowToPost({ ...row, toc: "[{\"level\":\"1\"}]" }))
    assert.isUndefined(rowToPost({ ...row, metadata: "[]" }))
    assert.isDefined(rowToPost(row))
  })
})

describe("encodePost", () => {
  it("is Schema.encodeSync(Post), down to the JSON bytes", () => {
    const encode = Schema.encodeSync(Post)
    for (const sample of samples) {
      assert.deepStrictEqual(encodePost(sample), encode(sample))
      assert.strictEqual(JSON.stringify(encodePost(sample)), JSON.stringify(encode(sample)))
    }
  })
})

describe("PostFromRow", () => {
  // The schema is exported (and so part of what a host sees); its JSON columns once decoded to
  // `any`, which a host could read and write unchecked. tsc checks these lines.
  it("types the JSON columns as the Post fields they hold, not as any", () => {
    type Row = Schema.Schema.Type<typeof PostFromRow.from>
    expectTypeOf<Row["tags"]>().toEqualTypeOf<ReadonlyArray<string>>()
    expectTypeOf<Row["authors"]>().toEqualTypeOf<ReadonlyArray<string>>()
    expectTypeOf<Row["aliases"]>().toEqualTypeOf<ReadonlyArray<string>>()
    expectTypeOf<Row["metadata"]>().toEqualTypeOf<Schema.Schema.Encoded<typeof Post.fields.metadata>>()
    expectTypeOf<Row["toc"]>().toEqualTypeOf<Schema.Schema.Encoded<typeof Post.fields.toc>>()
    expectTypeOf<Row["toc"]>().not.toBeAny()
    expectTypeOf<Row["metadata"]>().not.toBeAny()
    const row = Schema.encodeSync(PostFromRow)(samples[0]!)
    assert.deepStrictEqual(Schema.decodeUnknownSync(PostFromRow.from)(row).tags, ["rust", "effect"])
  })
})
