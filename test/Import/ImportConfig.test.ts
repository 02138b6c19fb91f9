/**
 * Import settings as typed on the command line: durations (zero is no deadline a user meant).
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Option } from "effect"
import { ImportConfig, parseDuration } from "../../src/Import/ImportConfig.js"

/** Milliseconds, or undefined for no duration (deepStrictEqual does not tell Options apart). */
const millis = (text: string) => Option.getOrUndefined(Option.map(parseDuration(text), Duration.toMillis))

describe("parseDuration", () => {
  it("reads short and long forms", () => {
    assert.strictEqual(millis("500ms"), 500)
    assert.strictEqual(millis("1.5s"), 1500)
    assert.strictEqual(millis("2m"), 120_000)
    assert.strictEqual(millis("30"), 30_000)
    assert.strictEqual(millis("10 seconds"), 10_000)
    assert.strictEqual(millis("soon"), undefined)
  })

  it("refuses zero in every spelling", () => {
    for (const zero of ["0", "0s", "0ms", "0.0m", "0h", "0 seconds", "0 millis"]) {
      assert.strictEqual(millis(zero), undefined, zero)
    }
  })
})

describe("ImportConfig durations", () => {
  const read = (env: Record<string, string>) =>
    Effect.withConfigProvider(ImportConfig, ConfigProvider.fromMap(new Map(Object.entries(env))))

  it.effect("IMPORT_TIMEOUT and IMPORT_ITEM_TIMEOUT take the flags' spellings (3s, 500ms) and Effect's", () =>
    Effect.gen(function* () {
      const short = yield* read({ IMPORT_TIMEOUT: "3s", IMPORT_ITEM_TIMEOUT: "500ms" })
      assert.strictEqual(Option.getOrUndefined(Option.map(short.timeout, Duration.toMillis)), 3000)
      assert.strictEqual(Option.getOrUndefined(Option.map(short.itemTimeout, Duration.toMillis)), 500)
      const long = yield* read({ IMPORT_TIMEOUT: "2 minutes" })
      assert.strictEqual(Option.getOrUndefined(Option.map(long.timeout, Duration.toMillis)), 120_000)
      const unset = yield* read({})
      assert.isTrue(Option.isNone(unset.timeout))
      assert.strictEqual(Option.getOrUndefined(Option.map(unset.itemTimeout, Duration.toMillis)), 30_000)
    }))

  it.effect("a word that is no duration is refused, naming the variable", () =>
    Effect.gen(function* () {
      const error = String(yield* Effect.flip(read({ IMPORT_TIMEOUT: "soon" })))
      assert.include(error, "IMPORT_TIMEOUT")
      assert.include(error, "positive duration")
    }))
})
