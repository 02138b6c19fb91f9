/**
 * A large fetched body is decoded a slice at a time, with turns of the event loop between:
 * decoded in one `TextDecoder` call it held a server's thread ~100 ms for 19 MB (~250 ms as
 * Windows-1252). What is read is what the whole-body reading read: each slice boundary case is
 * checked against it.
 */
import { Headers } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { afterEach, vi } from "vitest"
import { runSteps, runStepsWithTurns } from "../../src/Domain/yieldToEventLoop.js"
import { utf8Marker } from "../../src/Sources/badBytes.js"
import { bodyTextInSteps, DECODE_SLICE_BYTES, markedBodyTextInSteps } from "../../src/Sources/body.js"
import { detectInSteps, fromUrl } from "../../src/Sources/FeedSource.js"
import { WHOLE_CHARS } from "../../src/Sources/readJson.js"
import { TextPieces } from "../../src/Sources/textPieces.js"
import { collect, servedBy } from "./harness.js"

const URL_ = "https://big.example/feed"

const resource = (bytes: Uint8Array, type = "text/plain") => ({
  url: URL_,
  finalUrl: URL_,
  headers: Headers.fromInput({ "content-type": type }),
  bytes,
  contentType: type.replace(/;.*/, "")
})

/**
 * The body as it was read before slices, whole: strictly, else each bad byte marked over the
 * whole body and the marked bytes decoded at once.
 */
const readWhole = (bytes: Uint8Array): { readonly text: string; readonly offsets: ReadonlyArray<number> } => {
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), offsets: [] }
  } catch {
    const marker = utf8Marker()
    const marked = Buffer.concat([marker.write(bytes), marker.end()])
    return { text: new TextDecoder("utf-8").decode(marked), offsets: marker.offsets }
  }
}

const readSliced = (bytes: Uint8Array, type?: string) => {
  const read = runSteps(markedBodyTextInSteps(resource(bytes, type)))
  if (Either.isLeft(read)) return assert.fail(read.left.message)
  return { text: read.right.text, offsets: read.right.bad?.offsets ?? [] }
}

/** `size` bytes of ASCII with `bytes` written over them at `at`. */
const bodyWith = (size: number, at: number, bytes: ReadonlyArray<number>): Uint8Array => {
  const body = Buffer.alloc(size, "abcdefghij")
  body.set(bytes, at)
  return body
}

const B = DECODE_SLICE_BYTES

/** Sequences of one to four bytes: whole characters, bad bytes, broken and truncated sequences, a BOM's bytes. */
const SEQUENCES: Record<string, ReadonlyArray<number>> = {
  "é (2 bytes)": [0xc3, 0xa9],
  "€ (3 bytes)": [0xe2, 0x82, 0xac],
  "😀 (4 bytes)": [0xf0, 0x9f, 0x98, 0x80],
  "0x92, a Windows-1252 apostrophe": [0x92],
  "a lone continuation byte": [0x80],
  "€ cut after 2 bytes": [0xe2, 0x82],
  "😀 cut after 3 bytes": [0xf0, 0x9f, 0x98],
  "an overlong /": [0xc0, 0xaf],
  "a surrogate": [0xed, 0xa0, 0x80],
  "0xF5, never UTF-8": [0xf5, 0x80, 0x80, 0x80],
  "EF BB BF, a BOM's bytes mid-body": [0xef, 0xbb, 0xbf]
}

describe("a body decoded a slice at a time reads as it read whole", () => {
  for (const [name, sequence] of Object.entries(SEQUENCES)) {
    it(`${name}, at each offset across a slice boundary: same text, same bad bytes at the same absolute offsets`, () => {
      for (const boundary of [B, 2 * B]) {
        for (let at = boundary - 4; at <= boundary + 1; at++) {
          const bytes = bodyWith(2 * B + 64, at, sequence)
          const whole = readWhole(bytes)
          const sliced = readSliced(bytes)
          assert.deepStrictEqual(sliced.offsets, whole.offsets, `${name} at ${at}`)
          assert.isTrue(sliced.text === whole.text, `${name} at ${at}: the text differs`)
        }
      }
    })
  }

  it("a character split by a slice boundary is one character, no bad byte", () => {
    const bytes = bodyWith(B + 16, B - 2, [0xf0, 0x9f, 0x98, 0x80])
    const read = readSliced(bytes)
    assert.deepStrictEqual(read.offsets, [])
    assert.strictEqual(read.text.slice(B - 2, B), "😀")
  })

  it("a bad byte right at a slice boundary, read strictly, is refused naming its offset from the body's first byte", () => {
    for (const at of [B - 1, B, 2 * B]) {
      const read = runSteps(bodyTextInSteps(resource(bodyWith(2 * B + 8, at, [0x92]))))
      assert.isTrue(Either.isLeft(read))
      assert.strictEqual(
        Either.isLeft(read) ? read.left.message : "",
        `${URL_}: not valid UTF-8: invalid or truncated sequence at byte offset ${at} (no charset given: read as UTF-8)`
      )
    }
  })

  it("a UTF-8 byte order mark is dropped once, at the start; its bytes later are U+FEFF; offsets count it", () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bodyWith(2 * B, B - 4, [0xef, 0xbb, 0xbf, 0x92])])
    const read = readSliced(bytes)
    assert.strictEqual(read.text.charCodeAt(0), "a".charCodeAt(0))
    assert.strictEqual(read.text.charCodeAt(B - 4), 0xfeff)
    assert.deepStrictEqual(read.offsets, [B + 2])
    assert.deepStrictEqual(read, readWhole(bytes))
  })

  it("UTF-16 by its byte order mark, a surrogate pair across a slice boundary", () => {
    // The BOM's 2 bytes, then code units: the pair's second unit starts at the boundary.
    const text = `${"x".repeat(B / 2 - 2)}😀${"y".repeat(100)}`
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")])
    assert.isTrue(readSliced(le).text === text)
  })

  it("Windows-1252 by its label, in every slice: 0x80 to 0x9F are its characters (€, ’), not C1 controls (Node 20's one-call decode: nodejs/node#56542)", () => {
    const text = `${"é".repeat(B - 1)}’${"ü".repeat(B)}€“”`
    const bytes = Buffer.from(text, "latin1")
    bytes.set([0x92], B - 1)
    bytes.set([0x80, 0x93, 0x94], 2 * B)
    const read = readSliced(bytes, "text/plain; charset=windows-1252")
    assert.isTrue(read.text === text)
  })
})

describe("a large body gives the event loop turns while it is decoded", () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it("a turn between slices: a setImmediate chain runs again and again before the decoded body is refused", async () => {
    // Plain text, no feed: all `detect` does is decode it, then refuse it.
    const slices = 12
    const bytes = Buffer.alloc(slices * B, "plain text, no feed. ")
    // Each step offered takes 11 ms by the clock `yieldWhenBusy` reads: it gives the loop a turn
    // at each, whatever the machine's speed. A decode in one call offers none.
    let now = performance.now()
    vi.spyOn(performance, "now").mockImplementation(() => now)
    function* elevenMillisAStep<A>(steps: Generator<void, A>): Generator<void, A> {
      for (;;) {
        const step = steps.next()
        if (step.done === true) return step.value
        now += 11
        yield
      }
    }
    let turns = 0
    let done = false
    const tick = () => {
      if (done) return
      turns++
      setImmediate(tick)
    }
    setImmediate(tick)
    const read = await Effect.runPromise(runStepsWithTurns(elevenMillisAStep(detectInSteps(resource(bytes)))))
    done = true
    assert.isTrue(Either.isLeft(read) && read.left.message.includes("neither JSON nor XML"))
    assert.isAtLeast(turns, slices - 1, `${turns} turns while ${slices} slices were decoded`)
  })
})

describe("a large JSON body is read from the pieces it was decoded in", () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  /** A JSON Feed page over `WHOLE_CHARS` and several decode slices, its next page at `next`. */
  const page = (from: number, next?: string) => {
    const items: Array<string> = []
    for (let size = 0, i = from; size <= WHOLE_CHARS + 3 * B; i++) {
      const item = JSON.stringify({ id: `i-${i}`, title: `Item ${i} café 😀`, content_text: `Text of item ${i}` })
      items.push(item)
      size += item.length + 1
    }
    return { count: items.length, body: `{"version":"https://jsonfeed.org/version/1.1",${next === undefined ? "" : `"next_url":"${next}",`}"items":[${items.join(",")}]}` }
  }

  it.effect("never joined: a JSON Feed and its next page, a Ghost export (joined, 19 MB held the thread 11 to 14 ms in one copy)", () =>
    Effect.gen(function*() {
      const joined = vi.spyOn(TextPieces.prototype, "joined")
      const first = page(0, "/feed.json?page=2")
      const second = page(first.count)
      const layer = servedBy({
        "/feed.json": { body: first.body, type: "application/feed+json" },
        "/feed.json?page=2": { body: second.body, type: "application/feed+json" }
      })
      const { entries, rejected } = yield* collect(fromUrl("https://big.example/feed.json")).pipe(Effect.provide(layer))
      assert.deepStrictEqual([entries.length, rejected], [first.count + second.count, []])
      assert.strictEqual(entries[first.count]!.input.title, `Item ${first.count} café 😀`)

      const ghost = `{"db":[{"meta":{"version":"5.0.0"},"data":{"posts":[${`{"id":"p","title":"T","slug":"t","html":"<p>x</p>","type":"post"},`.repeat(20_000)}{}]}}]}`
      assert.isAbove(ghost.length, WHOLE_CHARS)
      const read = runSteps(detectInSteps(resource(new TextEncoder().encode(ghost), "application/json")))
      assert.strictEqual(Either.isRight(read) ? read.right._tag : read.left.message, "Ghost")
      assert.strictEqual(joined.mock.calls.length, 0, "the decoded pieces were joined")
    }))
})

