/**
 * NDJSON records: a record that does not match PostInput is reported field by field, in the
 * words markdown errors use, never as Schema's tree.
 */
import { assert, describe, it } from "@effect/vitest"
import { decodeRecord, recordLine } from "../../src/Processing/records.js"

const reasonFor = (record: unknown) => {
  const line = recordLine("export.ndjson", 4, JSON.stringify(record))!
  const decoded = decodeRecord("export.ndjson", line)
  if (decoded._tag !== "Rejected") return assert.fail(`accepted ${JSON.stringify(record)}`)
  assert.strictEqual(decoded.identity, "export.ndjson:4")
  return decoded.reason
}

describe("decodeRecord", () => {
  it("names the field, what it should be and what it was", () => {
    assert.strictEqual(reasonFor({ title: 42, body: "b" }), "title: expected a string, got 42")
    assert.strictEqual(reasonFor({ body: "b", tags: ["x", 3] }), "tags[1]: expected a string, got 3")
    assert.strictEqual(reasonFor({ body: "b", tags: "x" }), `tags: expected a list of strings, got "x"`)
    assert.strictEqual(reasonFor({ body: "b", metadata: [1] }), "metadata: expected an object, got [1]")
    assert.strictEqual(reasonFor({ title: "no body" }), "body: missing")
  })

  it("lists every bad field, on one line", () => {
    assert.strictEqual(reasonFor({ title: false, body: 5 }), "title: expected a string, got false; body: expected a string, got 5")
  })

  it("a field no record has is named, not dropped with its data (a misspelled date left the post undated)", () => {
    assert.strictEqual(
      reasonFor({ title: "T", body: "b", publishedat: "2024-01-01", date: "2024-01-01" }),
      `unknown fields "publishedat", "date" (a record has title, slug, body, tags, status, publishedAt, updatedAt, authors, summary, metadata, source; anything else goes under metadata)`
    )
    assert.match(reasonFor({ title: "T", body: "b", draft: true }), /^unknown field "draft" \(/)
  })

  it("reads a post as Inkwell's API gives it: derived fields ignored, nulls not given, the rest is the record", () => {
    const post = {
      id: "0b6f0d5e-0000-4000-8000-000000000000", slug: "hello", title: "Hello", body: "Hi.", tags: ["a"], status: "published",
      authors: ["Ann"], summary: null, publishedAt: "2024-01-01T00:00:00.000Z", updatedAtSource: null, aliases: [], metadata: {},
      source: "api", html: "<p>Hi.</p>", excerpt: "Hi.", wordCount: 1, readingTimeMinutes: 1, toc: [], contentHash: "x",
      createdAt: "2024-01-01T00:00:00.000Z", updatedAt: "2024-01-02T00:00:00.000Z", version: 3
    }
    const decoded = decodeRecord("export.ndjson", recordLine("export.ndjson", 1, JSON.stringify(post))!)
    assert.strictEqual(decoded._tag, "Record", JSON.stringify(decoded))
    if (decoded._tag === "Record") {
      assert.deepStrictEqual([decoded.source, decoded.input.title, decoded.input.publishedAt, decoded.input.summary], ["api", "Hello", "2024-01-01T00:00:00.000Z", undefined])
    }
    // `null` is "not given" for every field but the body.
    assert.strictEqual(reasonFor({ title: "T", body: null }), "body: expected a string, got null")
  })
})
