/**
 * A key given twice in a JSON text: `repeatedKeyOf`, the import's check of every NDJSON line,
 * scans a line in full (`duplicateKeyOf`) only when its key ends outnumber its parsed keys, and
 * must find every duplicate the full scan finds: spaced keys (`"a" :`), escaped spellings
 * (`"\u0061"`), strings that quote JSON (`"\":"`), at any depth.
 */
import { assert, describe, it } from "@effect/vitest"
import { duplicateKeyOf, repeatedKeyOf } from "../../src/Domain/jsonKeys.js"

const check = (text: string) => repeatedKeyOf(text, JSON.parse(text))

describe("repeatedKeyOf", () => {
  it("finds a key twice however it is written, and at any depth", () => {
    assert.deepStrictEqual(check(`{"status":"draft","status":"published"}`), ["status"])
    assert.deepStrictEqual(check(`{"status":"draft","status" :"published"}`), ["status"])
    assert.deepStrictEqual(check(`{"status":"draft",\t"st\\u0061tus"\n:\r"published"}`), ["status"])
    assert.deepStrictEqual(check(`{"body":"say \\"hi\\": ok","status":"draft","status" : "x"}`), ["status"])
    assert.deepStrictEqual(check(`{"m":{"a":[{"k":1},{"k":1,"k":2}]}}`), ["m", "a", 1, "k"])
    assert.deepStrictEqual(check(`{"__proto__":1,"__proto__":2}`), ["__proto__"])
  })

  it("no key twice: the same key in other objects, key-like strings", () => {
    assert.isUndefined(check(`{"a":{"a":1},"b":[{"a":2},{"a":3}],"c":"\\"a\\":1,\\"a\\":2","\\":":0}`))
    assert.isUndefined(check(`{}`))
  })

  it("finds exactly what the full scan finds (random objects with repeated, spaced and escaped keys)", () => {
    let seed = 11
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff
    const pick = <A>(items: ReadonlyArray<A>): A => items[Math.floor(rand() * items.length)]!
    const space = () => pick(["", "", "", " ", "\t", "\n", " \r\n "])
    const key = () => pick([`"a"`, `"b"`, `"\\u0061"`, `"a\\""`, `"\\":"`, `"c:"`])
    const scalar = () => pick([`1`, `"x"`, `"\\"a\\":"`, `"\\": \\""`, `null`, `"say \\"hi\\""`])
    const value = (depth: number): string => {
      const roll = rand()
      if (depth > 3 || roll < 0.4) return scalar()
      if (roll < 0.6) return `[${Array.from({ length: Math.floor(rand() * 3) }, () => space() + value(depth + 1) + space()).join(",")}]`
      return object(depth + 1)
    }
    const object = (depth: number): string =>
      `{${Array.from({ length: Math.floor(rand() * 4) }, () => `${space()}${key()}${space()}:${space()}${value(depth)}${space()}`).join(",")}}`
    let twice = 0
    for (let k = 0; k < 20_000; k++) {
      const text = object(0)
      const full = duplicateKeyOf(text)
      if (full !== undefined) twice++
      assert.deepStrictEqual(check(text), full, text)
    }
    assert.isAbove(twice, 2000)
  })
})
