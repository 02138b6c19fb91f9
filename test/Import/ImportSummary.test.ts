/**
 * The summary as printed: an import that stopped early says what became of the rest of its input.
 */
import { assert, describe, it } from "@effect/vitest"
import { formatSummary, ImportTally } from "../../src/Import/ImportSummary.js"

const summaryOf = (status: "completed" | "interrupted" | "timed-out", dryRun = false) => {
  const tally = new ImportTally(0, dryRun)
  tally.stored(dryRun ? "valid" : "inserted", 100)
  return formatSummary(tally.summary(status, 1000))
}

describe("formatSummary", () => {
  for (const status of ["interrupted", "timed-out"] as const) {
    it(`an import that ${status === "interrupted" ? "was interrupted" : "timed out"} says the rest was not written and how to finish`, () => {
      const text = summaryOf(status)
      assert.match(text, /the rest was not written/)
      assert.match(text, /Run the same import again to finish it/)
    })
  }

  it("a completed import, or a stopped dry run, says nothing of the kind", () => {
    assert.notMatch(summaryOf("completed"), /Stopped before the end/)
    assert.match(summaryOf("interrupted", true), /the rest was not validated/)
  })
})
