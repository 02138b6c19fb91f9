import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { parseFrontMatter } from "../../src/Processing/frontMatter.js"

const ok = (raw: string) => {
  const r = parseFrontMatter(raw)
  if (Either.isLeft(r)) assert.fail(`expected front matter to parse: ${r.left.reason}`)
  return r.right
}
const err = (raw: string) => {
  const r = parseFrontMatter(raw)
  if (Either.isRight(r)) assert.fail("expected a front matter error")
  return r.left
}

describe("parseFrontMatter", () => {
  it("reads YAML between --- fences", () => {
    const fm = ok("---\ntitle: Hello\ntags: [a, b]\n---\n# Body\n")
    assert.strictEqual(fm.format, "yaml")
    assert.deepStrictEqual(fm.data, { title: "Hello", tags: ["a", "b"] })
    assert.strictEqual(fm.body, "# Body\n")
  })

  it("reads TOML between +++ fences, with CRLF line endings and a BOM", () => {
    const fm = ok("\uFEFF+++\r\ntitle = \"Hi\"\r\n[taxonomies]\r\ntags = [\"x\"]\r\n+++\r\nBody")
    assert.strictEqual(fm.format, "toml")
    assert.strictEqual(fm.data.title, "Hi")
    assert.deepStrictEqual(fm.data.taxonomies, { tags: ["x"] })
    assert.strictEqual(fm.body, "Body")
  })

  it("reads a JSON object at the start, braces inside strings included", () => {
    const fm = ok('{\n  "title": "A {braced} title",\n  "draft": true\n}\nBody text')
    assert.strictEqual(fm.format, "json")
    assert.deepStrictEqual(fm.data, { title: "A {braced} title", draft: true })
    assert.strictEqual(fm.body, "Body text")
  })

  it("treats a file without front matter as all body", () => {
    const fm = ok("# Just markdown\n")
    assert.strictEqual(fm.format, "none")
    assert.deepStrictEqual(fm.data, {})
  })

  it("accepts an empty YAML block", () => {
    assert.deepStrictEqual(ok("---\n---\nbody").data, {})
  })

  it("reports an unterminated --- block on line 1", () => {
    const e = err("---\ntitle: x\n\nno closing fence")
    assert.strictEqual(e.line, 1)
    assert.match(e.reason, /unterminated/)
  })

  it("reports an unterminated +++ block", () => {
    assert.match(err("+++\ntitle = \"x\"\n").reason, /unterminated \+\+\+/)
  })

  it("reports broken YAML with the file line", () => {
    const e = err("---\ntitle: ok\ntags: [a, b\nother: 1\n---\nbody")
    assert.match(e.reason, /invalid YAML/)
    assert.isDefined(e.line)
    assert.isAtLeast(e.line!, 3)
  })

  it("reports broken TOML with the file line", () => {
    const e = err('+++\ntitle = "ok"\ndate = = 3\n+++\nbody')
    assert.match(e.reason, /invalid TOML/)
    assert.strictEqual(e.line, 3)
  })

  it("reports duplicate YAML keys", () => {
    assert.match(err("---\ntitle: a\ntitle: b\n---\n").reason, /invalid YAML/)
  })

  it("a YAML error names only the file line, with the column, and is not cut off", () => {
    const duplicate = err("---\ntitle: a\ntitle: b\n---\n")
    assert.strictEqual(duplicate.line, 3)
    assert.strictEqual(duplicate.reason, "invalid YAML: Map keys must be unique at column 1")
    const compact = err("---\ntitle: a\n  bad: indent\n---\n")
    assert.strictEqual(compact.line, 2)
    assert.strictEqual(compact.reason, "invalid YAML: Nested mappings are not allowed in compact mappings at column 8")
    const quote = err('---\ntitle: ok\nsummary: "unterminated\ndate: 2024-01-01\n---\n')
    assert.notMatch(quote.reason, /line|:$/)
  })

  it("rejects YAML that is not a mapping", () => {
    assert.match(err("---\n- a\n- b\n---\n").reason, /mapping/)
  })

  it("reports broken JSON", () => {
    assert.match(err('{ "title": "x", }\nbody').reason, /invalid JSON/)
    assert.match(err('{ "title": "x"\nbody').reason, /unterminated JSON/)
  })
})
