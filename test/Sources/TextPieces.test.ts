/**
 * A decoded body kept in its pieces reads as the joined string would, wherever the pieces are
 * cut (between the halves of a surrogate pair too, which a streaming decoder never does).
 */
import { assert, describe, it } from "@effect/vitest"
import { lineColumn } from "../../src/Sources/body.js"
import { TextPieces } from "../../src/Sources/textPieces.js"

/** `text` cut at `cuts` (sorted, within it), empty pieces included where two cuts meet. */
const cutAt = (text: string, cuts: ReadonlyArray<number>): TextPieces => {
  const pieces: Array<string> = []
  let from = 0
  for (const cut of cuts) {
    pieces.push(text.slice(from, cut))
    from = cut
  }
  pieces.push(text.slice(from))
  return new TextPieces(pieces)
}

describe("TextPieces", () => {
  const text = " \n\t\ufeff {\"a\": \"Café 😀\",\n\"b\": [1,\n 2]}\n日本語😀\n"
  const cutsOf = (seed: number): Array<number> => {
    const cuts: Array<number> = []
    for (let k = 0; k < 6; k++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      cuts.push(seed % (text.length + 1))
    }
    return cuts.sort((a, b) => a - b)
  }

  it("slices, characters, code points, lines and columns as the joined string has them, wherever it is cut", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const pieces = cutAt(text, cutsOf(seed))
      assert.strictEqual(pieces.length, text.length)
      assert.strictEqual(pieces.joined(), text)
      for (let i = -1; i <= text.length + 1; i++) {
        assert.strictEqual(pieces.charAt(i), text.charAt(i), `charAt(${i})`)
        assert.strictEqual(pieces.codePointAt(i), text.codePointAt(i), `codePointAt(${i})`)
        assert.deepStrictEqual(pieces.charCodeAt(i), text.charCodeAt(i), `charCodeAt(${i})`)
        assert.strictEqual(pieces.lineColumn(i), lineColumn(text, i), `lineColumn(${i})`)
        for (let j = Math.max(0, i); j <= text.length + 1; j += 3) assert.strictEqual(pieces.slice(i, j), text.slice(Math.max(0, i), j), `slice(${i}, ${j})`)
      }
      assert.strictEqual(pieces.charAt(pieces.firstNonSpace()), text.trimStart()[0])
    }
  })

  it("no character but white space: none kept, as trimStart keeps none", () => {
    assert.strictEqual(cutAt(" \n\u2028\u3000 ", [2, 3]).firstNonSpace(), -1)
    assert.strictEqual(new TextPieces([]).firstNonSpace(), -1)
    assert.strictEqual(new TextPieces([]).length, 0)
  })
})
