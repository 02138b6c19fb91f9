/**
 * A JSON document that cannot be read is refused where it breaks, in words of our own, whatever
 * its size: over `WHOLE_CHARS` without `JSON.parse` reading it whole (that took 1 s for 19 MB of
 * small objects broken at the end, 2.4 s for one object of a million keys), below it as the same
 * document over it would be.
 */
import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { afterEach, vi } from "vitest"
import { runSteps } from "../../src/Domain/yieldToEventLoop.js"
import { lineColumn } from "../../src/Sources/body.js"
import { readJson, readJsonInSlices, WHOLE_CHARS } from "../../src/Sources/readJson.js"
import { TextPieces } from "../../src/Sources/textPieces.js"

const URL_ = "https://big.example/feed"

/** A JSON Feed over `WHOLE_CHARS`, of small items. */
const largeFeed = (() => {
  const items: Array<string> = []
  for (let size = 0, i = 0; size <= WHOLE_CHARS + 64 * 1024; i++) {
    const item = JSON.stringify({ id: `i-${i}`, title: `Item ${i} café 😀`, content_text: `Text\n"${i}"\\` })
    items.push(item)
    size += item.length + 1
  }
  return `{"version":"https://jsonfeed.org/version/1.1",\n"items":[\n${items.join(",\n")}\n]}`
})()

/**
 * `text` in pieces of about `size` characters, as a body is decoded (`markedBodyPiecesInSteps`),
 * each cut `shift` characters off the even size: anywhere, between a surrogate pair's halves too.
 */
const inPieces = (text: string, size: number, shift = 0): TextPieces => {
  const pieces: Array<string> = []
  for (let from = 0, k = 0; from < text.length; k++) {
    const to = Math.min(text.length, from + Math.max(1, size + (k % 2 === 0 ? shift : -shift)))
    pieces.push(text.slice(from, to))
    from = to
  }
  return new TextPieces(pieces)
}

const messageOf = (read: Either.Either<unknown, { readonly message: string }>) => (Either.isLeft(read) ? read.left.message : "read")

describe("a large JSON document the streaming parser refuses", () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  const last = largeFeed.lastIndexOf("Item")
  // The feed ends "}\n]}": a break put there is at `end` and after.
  const end = largeFeed.length - 3
  const at = (key: string, offset: number) => largeFeed.indexOf(key) + offset
  /** A broken document, where it breaks, and what is there. */
  const broken: Record<string, readonly [text: string, at: number, what: string]> = {
    "a bad token near the end": [largeFeed.replace(/\n\]\}$/, ",\n@]}"), end + 2, "'@'"],
    "a comma missing": [largeFeed.replace(/,\n(?=\{"id":"i-9000")/, "\n"), at("{\"id\":\"i-9000\"", -1), "'{'"],
    "a colon missing after a later key": [largeFeed.replace(/(\{"id":"i-7000","title"):/, "$1 "), at("{\"id\":\"i-7000\"", 23), "'\"'"],
    "a bad escape late in a string": [`${largeFeed.slice(0, last)}\\q${largeFeed.slice(last)}`, last + 1, "'q'"],
    "a raw control character in a string": [`${largeFeed.slice(0, last)}\u0001${largeFeed.slice(last)}`, last, "U+0001"],
    "text after the document": [`${largeFeed} {}`, largeFeed.length + 1, "'{'"],
    "a digit after a leading zero": [largeFeed.replace(/\n\]\}$/, ",01]}"), end + 2, "'1'"],
    "a literal where a key is due": [largeFeed.replace(/\{"id":"i-5000"/, "{true"), at("{\"id\":\"i-5000\"", 1), "'t'"],
    // Refused where it begins, not where the tokenizer gives up on it.
    "a literal cut short where a comma is due": [largeFeed.replace(/\n\]\}$/, " nul]}"), end + 1, "'n'"]
  }

  for (const [name, [text, where, what]] of Object.entries(broken)) {
    it(`${name}: refused where it breaks, naming what is there, without JSON.parse reading it whole`, () => {
      assert.isAbove(text.length, WHOLE_CHARS)
      const parse = vi.spyOn(JSON, "parse")
      const read = runSteps(readJson(text, URL_))
      assert.strictEqual(parse.mock.calls.length, 0, "JSON.parse was called on the document")
      assert.strictEqual(messageOf(read), `${URL_}: cannot read as JSON at ${lineColumn(text, where)}: unexpected ${what}`)
    })
  }

  it("in the pieces it was decoded in: read, or refused in the same words, the pieces never joined", () => {
    const joined = vi.spyOn(TextPieces.prototype, "joined")
    for (const [name, [text]] of Object.entries({ "a whole document": [largeFeed], ...broken, "cut off": [largeFeed.slice(0, -20)] })) {
      const whole = runSteps(readJson(text, URL_))
      // Cut in 256 KB pieces and in odd ones, a cut near each break too.
      for (const [size, shift] of [[256 * 1024, 0], [100_003, 37], [65_537, 1]] as const) {
        const read = runSteps(readJson(inPieces(text, size, shift), URL_))
        if (Either.isRight(whole)) assert.deepStrictEqual(Either.getOrThrow(read), Either.getOrThrow(whole), name)
        else assert.strictEqual(messageOf(read), messageOf(whole), `${name}, pieces of ${size}`)
      }
    }
    assert.strictEqual(joined.mock.calls.length, 0, "the pieces were joined")
  })

  it("cut off: refused at its end, as JSON.parse's end of input is said, without JSON.parse", () => {
    const parse = vi.spyOn(JSON, "parse")
    for (const cut of [largeFeed.length - 1, largeFeed.length - 20, largeFeed.lastIndexOf("\\") + 1]) {
      const text = largeFeed.slice(0, cut)
      const read = runSteps(readJson(text, URL_))
      const lines = text.split("\n")
      assert.strictEqual(
        messageOf(read),
        `${URL_}: cannot read as JSON at line ${lines.length}, column ${lines[lines.length - 1]!.length + 1}: the JSON ends before it is complete (cut off?)`
      )
    }
    assert.strictEqual(parse.mock.calls.length, 0)
  })

  it("a document the streaming parser reads is read as JSON.parse reads it", () => {
    const read = runSteps(readJson(largeFeed, URL_))
    assert.deepStrictEqual(Either.getOrThrow(read), JSON.parse(largeFeed))
  })

  it("small documents, broken at random (fixed seed): the same message whole as in slices of 1 to 16 characters, and in pieces, at the position V8 names", () => {
    let seed = 7
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed / 0x7fffffff
    }
    const pick = <A>(as: ReadonlyArray<A>): A => as[Math.floor(random() * as.length)]!
    const documents = [
      JSON.stringify({ version: "v", title: "Café ☕ 😀", items: [{ id: "1", n: -1.5e3, t: true, f: false, z: null, s: "a\"b\\c\n\u00e9" }, [], {}] }, null, 1),
      JSON.stringify([1, 0, -0.25, 12e-2, "x", { a: [null, true] }]),
      "{\"a\":\"\\u00e9\\ud83d\\ude00\\t\",\"b\":[1,2,{\"c\":\"日本語\"}],\"d\":0}"
    ]
    const characters = [..."ÿĀ\\u\u007fFb{}[]:,\"\\ -+.eE0123456789tfnulasx\n\u0001é😀"]
    let compared = 0
    let placed = 0
    while (compared < 3000) {
      let text = pick(documents)
      for (let edits = 1 + Math.floor(random() * 2); edits > 0; edits--) {
        const at = Math.floor(random() * (text.length + 1))
        const edit = random()
        text = edit < 0.3
          ? text.slice(0, at) + pick(characters) + text.slice(at)
          : edit < 0.6
          ? text.slice(0, at) + text.slice(at + 1)
          : edit < 0.9
          ? text.slice(0, at) + pick(characters) + text.slice(at + 1)
          : text.slice(0, at)
      }
      // Decoded text has no lone surrogate.
      if (/[\ud800-\udfff]/.test(text.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ""))) continue
      compared++
      let expected: unknown
      let v8 = ""
      try {
        expected = JSON.parse(text)
      } catch (e) {
        v8 = (e as Error).message
      }
      const whole = runSteps(readJson(text, URL_))
      const sliced = runSteps(readJsonInSlices(text, URL_, 1 + Math.floor(random() * 16)))
      // In pieces of 1 to 8 characters, read in slices of 1 to 16 (the slices cut across pieces),
      // by the count: the seeded sequence stays the documents'.
      const pieced = runSteps(readJsonInSlices(inPieces(text, 1 + (compared % 8)), URL_, 1 + ((compared * 7) % 16)))
      if (v8 === "") {
        assert.deepStrictEqual(Either.getOrThrow(whole), expected, text)
        assert.deepStrictEqual(Either.getOrThrow(sliced), expected, text)
        assert.deepStrictEqual(Either.getOrThrow(pieced), expected, text)
        continue
      }
      assert.isTrue(Either.isLeft(whole) && Either.isLeft(sliced) && Either.isLeft(pieced), JSON.stringify(text))
      assert.strictEqual(messageOf(sliced), messageOf(whole), JSON.stringify(text))
      assert.strictEqual(messageOf(pieced), messageOf(whole), JSON.stringify(text))
      // Where V8 names a position (not for an unexpected token, nor at the end of input), it is ours.
      const position = /at position (\d+)/.exec(v8)?.[1]
      if (position === undefined || !Either.isLeft(whole)) continue
      assert.strictEqual(whole.left.path, lineColumn(text, Number(position)), `${JSON.stringify(text)}: ${v8}`)
      placed++
    }
    assert.isAbove(placed, 1000)
  })
})
