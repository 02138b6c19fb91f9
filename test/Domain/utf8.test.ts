/** UTF-8 checks with byte offsets: whole, and a chunk at a time with sequences split between chunks. */
import { assert, describe, it } from "@effect/vitest"
import { findInvalidUtf8, utf8Carry, utf8Checker } from "../../src/Domain/utf8.js"

const bytes = (...parts: Array<string | Array<number>>) =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p))))

describe("utf8", () => {
  it("findInvalidUtf8 rejects overlongs, surrogates and stray continuation bytes", () => {
    assert.strictEqual(findInvalidUtf8(bytes("plain é 🎉")), -1)
    assert.strictEqual(findInvalidUtf8(bytes("a", [0xc0, 0xaf])), 1)
    assert.strictEqual(findInvalidUtf8(bytes("ab", [0xed, 0xa0, 0x80])), 2)
    assert.strictEqual(findInvalidUtf8(bytes([0x80])), 0)
    assert.strictEqual(findInvalidUtf8(bytes("x", [0xf4, 0x90, 0x80, 0x80])), 1)
  })

  it("utf8Checker accepts a sequence split between chunks and names a bad byte's offset from the start", () => {
    const emoji = bytes("🎉")
    const ok = utf8Checker()
    assert.strictEqual(ok.write(bytes("ab", [emoji[0]!, emoji[1]!])), -1)
    assert.strictEqual(ok.write(bytes([emoji[2]!, emoji[3]!], "c")), -1)
    assert.strictEqual(ok.end(), -1)
    const bad = utf8Checker()
    assert.strictEqual(bad.write(bytes("abc")), -1)
    assert.strictEqual(bad.write(bytes("d", [0x92], "e")), 4)
    const cut = utf8Checker()
    assert.strictEqual(cut.write(bytes("ab", [0xe2, 0x80])), -1)
    assert.strictEqual(cut.end(), 2)
  })

  it("utf8Carry hands on whole sequences, holding one split between chunks until it is complete or the end", () => {
    const emoji = bytes("🎉")
    const carry = utf8Carry()
    const chunk = bytes("ab", [emoji[0]!, emoji[1]!])
    const first = carry.write(chunk)
    assert.deepStrictEqual([...first], [...bytes("ab")])
    chunk.fill(0) // what it holds is its own, not a view of the chunk
    assert.deepStrictEqual([...carry.write(bytes([emoji[2]!, emoji[3]!], "c"))], [...bytes("🎉c")])
    assert.strictEqual(carry.end().length, 0)
    assert.strictEqual(carry.write(bytes("x", [0xe2, 0x80])).length, 1)
    assert.deepStrictEqual([...carry.end()], [0xe2, 0x80])
    assert.strictEqual(carry.end().length, 0, "given once")
  })
})
