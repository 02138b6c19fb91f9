/**
 * The summary as printed: an import that stopped early says what became of the rest of its input.
 */
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { formatSummary, ImportSummary, ImportTally } from "../../src/Import/ImportSummary.js"

const summaryOf = (status: "completed" | "interrupted" | "timed-out", dryRun = false) => {
  const tally = new ImportTally(0, { dryRun })
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

  it("a dry run checked against the database shows the real run's counts; valid is part of them, not added", () => {
    const tally = new ImportTally(0, { dryRun: true, databaseChecked: true })
    tally.stored("inserted", 10)
    tally.stored("updated", 10)
    tally.stored("unchanged", 10)
    tally.fail("a.md", "slug taken", 10)
    const summary = tally.summary("completed", 1000)
    assert.deepStrictEqual(
      [summary.dryRun, summary.databaseChecked, summary.imported, summary.updated, summary.unchanged, summary.failed, summary.valid],
      [true, true, 1, 1, 1, 1, 2]
    )
    assert.strictEqual(tally.progress(1000).done, 4)
    const text = formatSummary(summary)
    assert.match(text, /^Dry run completed/)
    assert.match(text, /imported\s+1\n {2}updated\s+1\n {2}unchanged\s+1\n/)
    assert.match(text, /Dry run: nothing was written/)
    assert.notMatch(text, /valid/)
  })

  it("a dry run without a database says it read none", () => {
    const text = summaryOf("completed", true)
    assert.match(text, /valid\s+1 +\(dry run: nothing written; no database was read/)
    assert.notMatch(text, /imported/)
  })

  it("scheduled posts are counted among those written (not the unchanged), and shown only when there are some", () => {
    const tally = new ImportTally(0)
    tally.stored("inserted", 1, { scheduled: true })
    tally.stored("renamed", 1, { scheduled: true })
    tally.stored("updated", 1, { scheduled: true })
    // Stored as it was before this import: not news.
    tally.stored("unchanged", 1, { scheduled: true })
    tally.stored("inserted", 1)
    const summary = tally.summary("completed", 1000)
    assert.deepStrictEqual([summary.imported, summary.updated, summary.unchanged, summary.scheduled], [3, 1, 1, 3])
    assert.strictEqual(tally.progress(1000).done, 5, "part of the other counts, not added to them")
    assert.match(
      formatSummary(summary),
      /\n {2}failed +0\n {2}scheduled {7}3 {2}\(of those imported or updated: published in the future, hidden until their time\)$/
    )
    assert.notMatch(summaryOf("completed"), /scheduled/)
  })

  it("warnings are listed after failures and skips, and a report written before they existed reads as none", () => {
    const tally = new ImportTally(0)
    tally.stored("inserted", 1)
    tally.warn("a.ndjson:3", "id 0b6f0d5e-0000-4000-8000-000000000001 is another post's (\"one\"): created with a new id")
    const summary = tally.summary("completed", 1000)
    assert.deepStrictEqual([summary.imported, summary.warnings.length, tally.progress(1000).done], [1, 1, 1])
    assert.match(
      formatSummary(summary),
      /\nWarnings:\n {2}a\.ndjson:3: id 0b6f0d5e-0000-4000-8000-000000000001 is another post's \("one"\): created with a new id$/
    )
    assert.notMatch(summaryOf("completed"), /Warnings/)
    const { warnings: _, ...older } = Schema.encodeSync(ImportSummary)(summary)
    assert.deepStrictEqual(Schema.decodeUnknownSync(ImportSummary)(older).warnings, [])
  })

  it("the JSON summary carries the count; a report written before it existed reads as none", () => {
    const tally = new ImportTally(0)
    tally.stored("inserted", 1, { scheduled: true })
    const encoded = Schema.encodeSync(ImportSummary)(tally.summary("completed", 1000))
    assert.strictEqual(encoded.scheduled, 1)
    const { scheduled: _, ...older } = encoded
    assert.strictEqual(Schema.decodeUnknownSync(ImportSummary)(older).scheduled, 0)
  })
})
