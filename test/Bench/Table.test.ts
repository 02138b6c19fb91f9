import { describe, expect, it } from "@effect/vitest"
import { byRepetition, ratiosBy, verdict } from "../../scripts/bench/lib/table.js"

describe("the benchmark table's verdicts", () => {
  it("is unsure when a throttled baseline makes the repetitions disagree", () => {
    // Session 18's run to discard: the baseline at 72k, then 24k and 23k req/s.
    const base = [72_000, 24_000, 23_000]
    const ratios = ratiosBy([8_640, 7_200, 7_130], base)
    expect(ratios.map((r) => Number(r.toFixed(2)))).toEqual([0.12, 0.3, 0.31])
    expect(verdict(ratios, base, 0.3)).toBe("unsure (baseline unsteady: 23,000–72,000)")
    expect(byRepetition(ratios)).toBe("by repetition 0.12× / 0.30× / 0.31×")
  })

  it("gives a plain verdict when the baseline held steady, or every repetition agrees", () => {
    expect(verdict([0.28, 0.31, 0.32], [70_000, 72_000, 75_000], 0.3)).toBe(true)
    expect(verdict([0.1, 0.11, 0.12], [72_000, 24_000, 23_000], 0.3)).toBe(false)
    expect(verdict([40, 47, 52], [2, 2, 2], 25, true)).toBe(false)
  })
})
