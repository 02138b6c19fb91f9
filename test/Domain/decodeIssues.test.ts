/**
 * A value a decode issue quotes is shown briefly (`briefly`): at most BRIEF_LENGTH characters,
 * written out without recursion. Schema's own formatter wrote out the whole value, recursively:
 * a 900 KB string in a list made a 1.8 MB 400, an array nested 8,000 deep overflowed the stack.
 */
import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { BRIEF_LENGTH, briefly, issuesOf, nearMissOf, plainIssues } from "../../src/Domain/decodeIssues.js"
import { PostInput } from "../../src/Domain/Post.js"

const nested = (depth: number): unknown => JSON.parse("[".repeat(depth) + "]".repeat(depth))

describe("briefly", () => {
  it("a short value as compact JSON, as Schema's formatter showed it", () => {
    assert.strictEqual(briefly(42), "42")
    assert.strictEqual(briefly("abc"), `"abc"`)
    assert.strictEqual(briefly({ a: 1, b: [1, "x", { c: null }] }), `{"a":1,"b":[1,"x",{"c":null}]}`)
    assert.strictEqual(briefly([]), "[]")
    assert.strictEqual(briefly(undefined), "undefined")
    assert.strictEqual(briefly(10n), "10n")
  })

  it("a long or deep one cut to BRIEF_LENGTH characters with an ellipsis, however large or deep", () => {
    const cases = [
      "x".repeat(900_000),
      ["x".repeat(900_000)],
      nested(100_000),
      Array.from({ length: 100_000 }, (_, i) => i),
      Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`key${i}`, i])),
      { ["k".repeat(500)]: 1 },
      '"'.repeat(500),
      "\u0001".repeat(500)
    ]
    for (const value of cases) {
      const shown = briefly(value)
      assert.isAtMost(shown.length, BRIEF_LENGTH)
      assert.isAbove(shown.length, BRIEF_LENGTH / 2)
      assert.include(shown, "…")
    }
    // A string keeps its closing quote; a cut JSON value reads as its start.
    assert.strictEqual(briefly("y".repeat(500)), JSON.stringify(`${"y".repeat(BRIEF_LENGTH - 3)}…`))
    assert.strictEqual(briefly(nested(5000)), `${"[".repeat(BRIEF_LENGTH - 1)}…`)
  })

  it("never cuts a character in two", () => {
    const shown = briefly(["😀".repeat(200)])
    assert.isFalse(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(shown), shown)
  })
})

describe("issuesOf", () => {
  const issues = (body: unknown) => {
    const decoded = Schema.decodeUnknownEither(Schema.Struct(PostInput.fields), { errors: "all" })(body)
    return Either.isLeft(decoded) ? plainIssues(issuesOf(decoded.left)) : assert.fail("decoded")
  }

  it("says what Schema's formatter says of a small value", () => {
    assert.deepStrictEqual(
      issues({ title: 42, body: "b", tags: ["x", 3], status: "gone" }).map((issue) => [issue.path, issue.message]),
      [[["title"], "expected a string, got 42"], [["tags", 1], "expected a string, got 3"], [["status"], `expected "draft" or "published", got "gone"`]]
    )
  })

  it("a value nested 100,000 deep, or 900 KB long, is named by its field and shown briefly (was: a stack overflow, or the whole value)", () => {
    const found = issues({ body: "b", tags: nested(100_000), metadata: nested(100_000), status: ["s".repeat(900_000)], title: ["t".repeat(900_000)] })
    assert.deepStrictEqual(found.map((issue) => issue.path), [["title"], ["tags", 0], ["status"], ["metadata"]])
    for (const issue of found) assert.isAtMost(issue.message.length, BRIEF_LENGTH + 40, issue.message.slice(0, 300))
    assert.strictEqual(found[1]!.message, `expected a string, got ${"[".repeat(BRIEF_LENGTH - 1)}…`)
  })
})

describe("nearMissOf", () => {
  const IMPORT = ["onConflict", "dryRun"]
  const LIST = ["tag", "status", "limit", "cursor", "offset", "q"]

  it("a name the same but for case, - and _ is the known one", () => {
    for (const name of ["dry-run", "dryrun", "dry_run", "DRYRUN", "Dry-Run"]) assert.strictEqual(nearMissOf(name, IMPORT), "dryRun", name)
    assert.strictEqual(nearMissOf("on_conflict", IMPORT), "onConflict")
    assert.strictEqual(nearMissOf("Limit", LIST), "limit")
  })

  it("one typo away, for names of three characters or more", () => {
    assert.strictEqual(nearMissOf("tags", LIST), "tag")
    assert.strictEqual(nearMissOf("limt", LIST), "limit")
    assert.strictEqual(nearMissOf("ofset", LIST), "offset")
    assert.strictEqual(nearMissOf("stauts", LIST), "status")
    // Too short to tell a typo from another name: `x` is not taken for `q`.
    assert.isUndefined(nearMissOf("x", LIST))
    assert.isUndefined(nearMissOf("search", LIST))
    assert.isUndefined(nearMissOf("force", IMPORT))
  })
})
