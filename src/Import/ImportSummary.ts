/**
 * What an import did: counts, every failure with its source (file, "file:line") and reason,
 * timing. `ImportTally` accumulates while the run goes (the progress display reads it);
 * `ImportSummary` is the final, serializable record (CLI output, `--report`, HTTP answer).
 */
import { Schema } from "effect"

export const ImportIssue = Schema.Struct({
  /** File path, "file:line", "stdin:12", "request:3". */
  source: Schema.String,
  reason: Schema.String
})
export type ImportIssue = typeof ImportIssue.Type

/** A post whose title (or `slug:`) changed: stored post moved from its old slug to a new one. */
export const ImportMove = Schema.Struct({
  source: Schema.String,
  from: Schema.String,
  to: Schema.String
})
export type ImportMove = typeof ImportMove.Type

/**
 * How the run ended. "failed": the input could not be read to its end (its stream died: a bug
 * in a source, a defect of the body or the file system); what was read before is written, and
 * the failure is among `failures`, named `input`.
 */
export const ImportStatus = Schema.Literal("completed", "interrupted", "timed-out", "failed")
export type ImportStatus = typeof ImportStatus.Type

export const ImportSummary = Schema.Struct({
  status: ImportStatus,
  dryRun: Schema.Boolean,
  /**
   * Dry run: checked against the database (each batch upserted and rolled back), so the counts
   * below say what the import would do. False: processed and validated only, the database was
   * not read (there was none yet), and `valid` counts the posts that would be new.
   */
  databaseChecked: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  /** New posts stored (including renamed ones). */
  imported: Schema.Int,
  /** Of `imported`, those stored under a suffixed slug (`--on-conflict suffix`). */
  renamed: Schema.Int,
  updated: Schema.Int,
  /**
   * Of `imported` and `updated` (of `valid`, when no database was read), the posts published with
   * a date after the moment they were written: scheduled, hidden from readers until that time
   * (README: scheduled posts). Counted so that a date in the future given by mistake is noticed.
   */
  scheduled: Schema.optionalWith(Schema.Int, { default: () => 0 }),
  /** Of `updated`, the posts that moved to a new slug (the old one no longer answers). */
  moves: Schema.optionalWith(Schema.Array(ImportMove), { default: () => [] }),
  /** Already stored with the same content hash. */
  unchanged: Schema.Int,
  /** Not posts (section pages, passed-over files) or slug taken with `--on-conflict skip`. */
  skipped: Schema.Int,
  failed: Schema.Int,
  /**
   * Dry run: posts that would be written. Checked against the database: those counted as
   * imported or updated (a subset of them, not added to them); otherwise every post that
   * processed fine.
   */
  valid: Schema.Int,
  failures: Schema.Array(ImportIssue),
  skips: Schema.Array(ImportIssue),
  /**
   * Posts stored, but not all as their input said: a post created with a new id because the one
   * its record carried is another post's.
   */
  warnings: Schema.optionalWith(Schema.Array(ImportIssue), { default: () => [] }),
  /** Source bytes of the posts handled. */
  bytes: Schema.Number,
  elapsedMs: Schema.Number,
  postsPerSecond: Schema.Number
})
export type ImportSummary = typeof ImportSummary.Type

/** A point-in-time view for progress displays. */
export interface ImportProgress {
  readonly done: number
  readonly stored: number
  readonly failed: number
  readonly skipped: number
  readonly bytes: number
  readonly elapsedMs: number
}

/** What kind of run a tally counts; a real run (no dry run) by default. */
export interface TallyMode {
  readonly dryRun?: boolean | undefined
  /** A dry run checked against the database (see `ImportSummary`): its `valid` is part of the other counts. */
  readonly databaseChecked?: boolean | undefined
}

/**
 * The running count. Mutated only from the pipeline's writer stage, one outcome at a time;
 * reads are snapshots.
 */
export class ImportTally {
  imported = 0
  renamed = 0
  updated = 0
  scheduled = 0
  unchanged = 0
  skipped = 0
  failed = 0
  valid = 0
  bytes = 0
  readonly failures: Array<ImportIssue> = []
  readonly skips: Array<ImportIssue> = []
  readonly warnings: Array<ImportIssue> = []
  readonly moves: Array<ImportMove> = []

  readonly dryRun: boolean
  readonly databaseChecked: boolean

  constructor(readonly startedAt: number, mode: TallyMode = {}) {
    this.dryRun = mode.dryRun ?? false
    this.databaseChecked = mode.databaseChecked ?? false
  }

  /** Posts handled and not skipped or failed (`valid` is part of the others when checked). */
  private get handled(): number {
    return this.imported + this.updated + this.unchanged + (this.databaseChecked ? 0 : this.valid)
  }

  fail(source: string, reason: string, bytes = 0): void {
    this.failed++
    this.bytes += bytes
    this.failures.push({ source, reason })
  }

  skip(source: string, reason: string, bytes = 0): void {
    this.skipped++
    this.bytes += bytes
    this.skips.push({ source, reason })
  }

  /** The post of `source` was stored, but not all as it said, because of `reason` (counted by `stored`). */
  warn(source: string, reason: string): void {
    this.warnings.push({ source, reason })
  }

  /** The post of `source` moved from slug `from` to `to` (counted by `stored("updated")`). */
  moved(source: string, from: string, to: string): void {
    this.moves.push({ source, from, to })
  }

  /**
   * A post stored (or, in a dry run, that would be), or found unchanged. `scheduled`: published
   * with a date still to come, counted for the posts written (not for unchanged ones).
   */
  stored(
    action: "inserted" | "renamed" | "updated" | "unchanged" | "valid",
    bytes = 0,
    post: { readonly scheduled?: boolean } = {}
  ): void {
    this.bytes += bytes
    if (post.scheduled === true && action !== "unchanged") this.scheduled++
    // A dry run's outcomes: what would be written is also `valid`.
    if (this.dryRun && (action === "inserted" || action === "renamed" || action === "updated")) this.valid++
    switch (action) {
      case "inserted":
        this.imported++
        break
      case "renamed":
        this.imported++
        this.renamed++
        break
      case "updated":
        this.updated++
        break
      case "unchanged":
        this.unchanged++
        break
      case "valid":
        this.valid++
    }
  }

  progress(now: number): ImportProgress {
    const stored = this.handled
    return {
      done: stored + this.failed + this.skipped,
      stored,
      failed: this.failed,
      skipped: this.skipped,
      bytes: this.bytes,
      elapsedMs: Math.max(0, now - this.startedAt)
    }
  }

  summary(status: ImportStatus, now: number): ImportSummary {
    const elapsedMs = Math.max(0, now - this.startedAt)
    const posts = this.handled + this.failed + this.skipped
    return {
      status,
      dryRun: this.dryRun,
      databaseChecked: this.databaseChecked,
      imported: this.imported,
      renamed: this.renamed,
      updated: this.updated,
      scheduled: this.scheduled,
      moves: [...this.moves],
      unchanged: this.unchanged,
      skipped: this.skipped,
      failed: this.failed,
      valid: this.valid,
      failures: [...this.failures],
      skips: [...this.skips],
      warnings: [...this.warnings],
      bytes: this.bytes,
      elapsedMs,
      postsPerSecond: elapsedMs === 0 ? 0 : Math.round((posts / elapsedMs) * 1000 * 10) / 10
    }
  }
}

const pad = (n: number) => String(n).padStart(8)

/** The summary as a terminal shows it; at most `maxIssues` failures and skips are listed. */
export const formatSummary = (summary: ImportSummary, options: { readonly maxIssues?: number } = {}): string => {
  const max = options.maxIssues ?? 50
  const seconds = (summary.elapsedMs / 1000).toFixed(1)
  const mb = summary.bytes / (1024 * 1024)
  const rate = summary.elapsedMs === 0 ? 0 : mb / (summary.elapsedMs / 1000)
  const heading = summary.status === "completed"
    ? summary.dryRun ? "Dry run completed" : "Import completed"
    : summary.status === "interrupted"
    ? "Import interrupted"
    : summary.status === "failed"
    ? summary.dryRun ? "Dry run failed" : "Import failed"
    : "Import timed out"
  const lines = [
    `${heading} in ${seconds} s (${summary.postsPerSecond} posts/s, ${rate.toFixed(2)} MB/s)`,
    ...(summary.dryRun && !summary.databaseChecked
      ? [`  valid    ${pad(summary.valid)}  (dry run: nothing written; no database was read, so every valid post would be new)`]
      : [
        `  imported ${pad(summary.imported)}${summary.renamed > 0 ? `  (${summary.renamed} under a suffixed slug)` : ""}`,
        `  updated  ${pad(summary.updated)}${summary.moves.length > 0 ? `  (${summary.moves.length} moved to a new slug)` : ""}`,
        `  unchanged${pad(summary.unchanged)}`
      ]),
    `  skipped  ${pad(summary.skipped)}`,
    `  failed   ${pad(summary.failed)}`,
    // Part of the counts above, not added to them: said apart so that a date in the future
    // given by mistake is seen (a post that readers do not find looks lost otherwise).
    ...(summary.scheduled > 0
      ? [`  scheduled${pad(summary.scheduled)}  (of those ${summary.dryRun && !summary.databaseChecked ? "valid" : "imported or updated"}: published in the future, hidden until their time)`]
      : []),
    ...(summary.dryRun && summary.databaseChecked
      ? ["Dry run: nothing was written. The counts are what the import would do to the database as it is now."]
      : [])
  ]
  const list = (title: string, issues: ReadonlyArray<ImportIssue>) => {
    if (issues.length === 0) return
    lines.push(`${title}:`)
    for (const issue of issues.slice(0, max)) lines.push(`  ${issue.source}: ${issue.reason}`)
    if (issues.length > max) lines.push(`  ... and ${issues.length - max} more`)
  }
  if (summary.status !== "completed") {
    // The counts alone read like a finished import: say what the rest of the input became.
    const stopped = summary.status === "failed"
      ? "The input could not be read to its end (see the failure of input below)"
      : "Stopped before the end of the input"
    lines.push(
      summary.dryRun
        ? `${stopped}: the rest was not validated.`
        : `${stopped}: only the posts counted above as imported, updated or unchanged are in the database (whole batches); the rest was not written. Run the same import again to finish it (unchanged posts are skipped).`
    )
  }
  if (summary.moves.length > 0) {
    lines.push("Moved:")
    for (const move of summary.moves.slice(0, max)) lines.push(`  ${move.source}: moved from ${move.from} to ${move.to}`)
    if (summary.moves.length > max) lines.push(`  ... and ${summary.moves.length - max} more`)
  }
  list("Failures", summary.failures)
  list("Skipped", summary.skips)
  list("Warnings", summary.warnings)
  return lines.join("\n")
}
