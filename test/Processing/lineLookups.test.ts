/**
 * Where a front matter key is written is looked up for an error only: finding it scans the
 * front matter text, and it was looked up for every key, tag and author list of every post.
 * `lineOfKey` is wrapped here to count the look-ups; it still answers as it does.
 */
import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { vi } from "vitest"
import { processPostSync } from "../../src/Processing/processPost.js"

const lookups = vi.hoisted(() => ({ count: 0 }))
vi.mock("../../src/Processing/frontMatter.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../src/Processing/frontMatter.js")>()
  return {
    ...actual,
    lineOfKey: (...args: Parameters<typeof actual.lineOfKey>) => {
      lookups.count++
      return actual.lineOfKey(...args)
    }
  }
})

describe("front matter lines", () => {
  it("a post accepted looks up no key's line (was: one per key, per tag, per author list, for the title)", () => {
    const raw = [
      "---",
      "title: Hello",
      "tags: [a, b, c, d]",
      "categories: [e, f]",
      "authors: [Ada, Grace]",
      "aliases: [/old]",
      "custom: { nested: [1, 2] }",
      "---",
      "Text"
    ].join("\n")
    lookups.count = 0
    const result = processPostSync({ source: "a.md", raw })
    assert.isTrue(Either.isRight(result))
    assert.strictEqual(lookups.count, 0)
  })

  it("a refused tag still names its line", () => {
    lookups.count = 0
    const result = processPostSync({ source: "a.md", raw: "---\ntitle: T\ntags: [ok, \"x\\u0002\"]\n---\nText" })
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) assert.strictEqual(result.left.source, "a.md:3")
    assert.isAbove(lookups.count, 0)
  })
})
