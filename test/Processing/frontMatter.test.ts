import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { jsonProblem, lineOfKey, parseFrontMatter, textAfterKey } from "../../src/Processing/frontMatter.js"
import { duplicateKeyOf, repeatedKeyOf } from "../../src/Domain/jsonKeys.js"

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
    assert.strictEqual(fm.data["title"], "Hi")
    assert.deepStrictEqual(fm.data["taxonomies"], { tags: ["x"] })
    assert.strictEqual(fm.body, "Body")
  })

  it("reads front matter of bare CR line endings (old Mac files), as CommonMark reads a bare CR: a line end", () => {
    const yaml = ok("---\rtitle: CR only\rtags: [a, b]\r---\r# Heading\rBody.\r")
    assert.strictEqual(yaml.format, "yaml")
    assert.deepStrictEqual(yaml.data, { title: "CR only", tags: ["a", "b"] })
    // The parsers' text in LF, one line end for one (so its lines are the file's); the body as written.
    assert.strictEqual(yaml.text, "title: CR only\ntags: [a, b]\n")
    assert.strictEqual(yaml.body, "# Heading\rBody.\r")
    const toml = ok('+++\rtitle = "Hi"\r[taxonomies]\rtags = ["x"]\r+++\rBody')
    assert.deepStrictEqual(toml.data, { title: "Hi", taxonomies: { tags: ["x"] } })
    assert.strictEqual(toml.body, "Body")
    const json = ok('{\r  "title": "J"\r}\rBody')
    assert.deepStrictEqual(json.data, { title: "J" })
    assert.strictEqual(json.body, "Body")
    // Errors name the file's line, as with LF.
    assert.strictEqual(err("---\rtitle: ok\r\rtags: [a, b\r---\rbody").line, err("---\ntitle: ok\n\ntags: [a, b\n---\nbody").line)
    assert.strictEqual(err('+++\rtitle = "x"\r\rbad = \r+++\r').line, 4)
    assert.strictEqual(err('{\r"title": "J",\r\r"x": tru\r}\r').line, 4)
    assert.strictEqual(err("---\rtitle: never closed\r\rbody").line, 1)
  })

  it("takes a U+2028 or U+2029 inside the front matter for text, not a line end (was: a `---` after one closed the front matter)", () => {
    // YAML 1.2, TOML and CommonMark end lines at LF, CRLF and CR only; JavaScript's multiline `$` also at these two.
    const yaml = ok("---\nsummary: a\u2028---\nlang: en\n---\nBody")
    assert.deepStrictEqual(yaml.data, { summary: "a\u2028---", lang: "en" })
    assert.strictEqual(yaml.body, "Body")
    const yaml2029 = ok("---\nsummary: a\u2029...\n---\nBody")
    assert.deepStrictEqual(yaml2029.data, { summary: "a\u2029..." })
    assert.strictEqual(yaml2029.body, "Body")
    const toml = ok('+++\nsummary = "a\u2028+++\u2028b"\n+++\nBody')
    assert.deepStrictEqual(toml.data, { summary: "a\u2028+++\u2028b" })
    assert.strictEqual(toml.body, "Body")
    // A fence line that only a U+2028 would end is no fence: the block is unterminated, on line 1.
    assert.deepStrictEqual(err("---\ntitle: T\n---\u2028Body"), err("---\ntitle: T\n---x\nBody"))
    // Errors name the file's line: a U+2028 starts no line (TOML refuses one outside a string).
    assert.strictEqual(err("---\nsummary: a\u2028b\ntags: [a\nlang: en\n---\nBody").line, 4)
    assert.strictEqual(err('+++\nsummary = "a"\u2028lang = "en"\nx = 1\n+++\nBody').line, 2)
  })

  it("finds a key's line by LF line starts, not after a U+2028 or U+2029 in an earlier value", () => {
    const yaml = ok("---\nsummary: \"a\u2028date: 1\"\ndate: later\n---\nBody")
    assert.strictEqual(lineOfKey(yaml, "date"), 3)
    assert.strictEqual(textAfterKey(yaml, "date"), " later")
    const toml = ok('+++\nsummary = "a\u2029date = 1"\ndate = "later"\n+++\nBody')
    assert.strictEqual(lineOfKey(toml, "date"), 3)
    assert.strictEqual(textAfterKey(toml, "date"), ' "later"')
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

  it("refuses a JSON key given twice, naming it and its line, as YAML and TOML do (was: the last one won, a draft published)", () => {
    const flat = err('{"title":"T","draft":true,"draft":false}\nbody')
    assert.deepStrictEqual(flat, { reason: 'invalid JSON: duplicate key "draft" at column 27', line: 1 })
    const nested = err('{\n  "title": "T",\n  "extra": {\n    "a": 1,\n    "\\u0061": 2\n  }\n}\nbody')
    assert.deepStrictEqual(nested, { reason: 'invalid JSON: duplicate key "a" at column 5', line: 5 })
    // One key in each of several objects is no duplicate.
    assert.deepStrictEqual(ok('{"a": {"x": 1}, "b": {"x": 2}, "c": [{"x": 1}, {"x": 2}]}\n').data["c"], [{ x: 1 }, { x: 2 }])
  })

  it("gives every JSON error its line and a whole reason (was: none for some on Node 20, cut at a line break in the quoted excerpt)", () => {
    const cases: Array<[string, number, string]> = [
      ['{\n"title": "x",\n"draft": tru\n}', 3, "unexpected 't' at column 10"],
      ['{\n"title": x\n}', 2, "unexpected 'x' at column 10"],
      ['{\n"tags": [1,\n]\n}', 3, "unexpected ']' at column 1"],
      ['{"title": "x",\n "a": "b"\n "c": 1}', 3, "expected ',' or '}' after a property value at column 2"],
      ['{"title": "two\nlines"}', 1, "bad control character U+000A in string literal at column 15"],
      ['{"title": "x",\n\n"n": 01}', 3, "a number may not start with a leading zero at column 6"],
      ['{"title": "\\q"}', 1, "bad escaped character at column 12"],
      ['{\n  "title": "x",\n}', 3, "expected a double-quoted property name at column 1"],
      ['{"a": 1,\n\'b\': 2}', 2, "expected a double-quoted property name at column 1"],
      ['{"extra": {1: 2}}', 1, "expected a double-quoted property name or '}' at column 12"],
      ['{"a" 1}', 1, "expected ':' after a property name at column 6"],
      ['{"a": -}', 1, "no number after minus sign at column 7"],
      ['{"a": 1.}', 1, "unterminated fractional number at column 7"],
      ['{"a": 1e}', 1, "exponent part is missing a number at column 7"],
      ['{"a": "\\u12x4"}', 1, "bad Unicode escape at column 8"],
      ['{"a":\u00a01}', 1, "unexpected U+00A0 at column 6"]
    ]
    for (const [raw, line, reason] of cases) {
      assert.deepStrictEqual(err(`${raw}\nbody`), { reason: `invalid JSON: ${reason}`, line }, raw)
    }
  })

  it("reads JSON as JSON.parse does, and finds the duplicates the API finds (mutations of one object)", () => {
    let seed = 7
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff
    const base = '{"title": "H\\u00e9 \\"q\\"\\n", "n": -12.5e+3, "z": 0, "arr": [1, 2.0, true, false, null, {"a": [], "b": {}}], "extra": {"draft": true, "a": "\\ud83d\\ude00"}, "e": 1E-2}'
    const alphabet = ' \t\n\r{}[]:,"\\0123456789-+.eEtrufalsn\u00a0\u0001ax/'
    let valid = 0
    for (let k = 0; k < 20_000; k++) {
      let t = base
      for (let e = 0; e < 1 + Math.floor(rand() * 3); e++) {
        const at = Math.floor(rand() * t.length)
        const ch = alphabet[Math.floor(rand() * alphabet.length)]!
        const op = rand()
        t = t.slice(0, at) + (op < 0.33 ? "" : ch) + t.slice(op < 0.66 && op >= 0.33 ? at : at + 1)
      }
      let parses = true
      try {
        JSON.parse(t)
      } catch {
        parses = false
      }
      const problem = jsonProblem(t)
      if (parses) {
        valid++
        assert.isTrue(problem === undefined || problem.duplicate, t)
        assert.strictEqual(problem !== undefined, duplicateKeyOf(t) !== undefined, t)
        // The import's cheap check finds what the full scan finds.
        assert.deepStrictEqual(repeatedKeyOf(t, JSON.parse(t)), duplicateKeyOf(t), t)
      } else {
        assert.isDefined(problem, t)
        assert.isAtMost(problem!.offset, t.length, t)
      }
    }
    assert.isAbove(valid, 1000)
  })
})
