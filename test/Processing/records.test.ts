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
})
