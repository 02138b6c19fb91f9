/**
 * Import settings as typed on the command line: durations (zero is no deadline a user meant).
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Option } from "effect"
import { parseDuration } from "../../src/Import/ImportConfig.js"

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
