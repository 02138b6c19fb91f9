/**
 * `makeNewPost` / `makeValidPost`: the class constructors' validation with a parser compiled
 * once. Same verdicts as `new NewPost(...)` / `new Post(...)`, same error shape.
 */
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, ParseResult } from "effect"
import { makeNewPost, makeValidPost, NewPost, Post, type PostId, storedTag, tagKey } from "../../src/Domain/Post.js"
import { makeNewPost as fixture } from "../fixtures/posts.js"

const fields = (): ConstructorParameters<typeof NewPost>[0] => ({ ...fixture({ slug: "a-post", publishedAt: "2024-05-01T00:00:00Z" }) })

const thrown = (f: () => unknown): unknown => {
  try {
    f()
  } catch (e) {
    return e
  }
  return undefined
}

describe("makeNewPost", () => {
  it.effect("builds the same NewPost as the class constructor", () =>
    Effect.sync(() => {
      const made = makeNewPost(fields())
      assert.instanceOf(made, NewPost)
      assert.deepStrictEqual(made, new NewPost(fields()))
    }))

  it.effect("rejects what the constructor rejects, with a ParseError naming NewPost and the field", () =>
    Effect.sync(() => {
      for (const bad of [{ title: "" }, { slug: "Not A Slug" }, { wordCount: -1 }, { toc: [{ level: 9, text: "x", id: "x" }] }]) {
        const input = { ...fields(), ...bad } as ConstructorParameters<typeof NewPost>[0]
        assert.isDefined(thrown(() => new NewPost(input)), `constructor accepts ${JSON.stringify(bad)}`)
        const error = thrown(() => makeNewPost(input))
        assert.isTrue(ParseResult.isParseError(error), `makeNewPost accepts ${JSON.stringify(bad)}`)
        const message = ParseResult.TreeFormatter.formatErrorSync(error as ParseResult.ParseError)
        assert.match(message, /^NewPost/)
        assert.include(message, `["${Object.keys(bad)[0]}"]`)
      }
    }))
})

describe("makeValidPost", () => {
  it.effect("validates a stored post like `new Post`", () =>
    Effect.sync(() => {
      const now = DateTime.unsafeMake("2024-05-02T00:00:00Z")
      const stored = { ...fields(), id: "p1" as PostId, createdAt: now, updatedAt: now, version: 1 }
      assert.deepStrictEqual(makeValidPost(stored), new Post(stored))
      assert.isTrue(ParseResult.isParseError(thrown(() => makeValidPost({ ...stored, version: 0 }))))
    }))
})

describe("tagKey", () => {
  it("keys a tag as it is stored (`storedTag`: NFC, one line, trimmed), lowercased (was: only trimmed and lowercased)", () => {
    assert.strictEqual(storedTag(" cafe\u0301\t au\nlait "), "café au lait")
    for (const spelling of ["Café au lait", "cafe\u0301 au lait", "CAFE\u0301\tau lait", " café au\r\nlait "]) {
      assert.strictEqual(tagKey(spelling), "café au lait", JSON.stringify(spelling))
    }
    // Runs of spaces without a break are kept, as processing keeps them.
    assert.strictEqual(tagKey("a  b"), "a  b")
  })

  it("is idempotent, in NFC after lowercasing: a capital with no one code point may have a lowercase that has one", () => {
    for (const tag of ["\u03aa\u0301", "\u03ab\u0301", "\u1fbc\u0301", "İstanbul", "Rust"]) {
      const key = tagKey(tag)
      assert.strictEqual(tagKey(key), key, JSON.stringify(tag))
      assert.strictEqual(tagKey(storedTag(tag)), key, JSON.stringify(tag))
      assert.strictEqual(tagKey(tag.normalize("NFD")), key, JSON.stringify(tag))
    }
  })
})
