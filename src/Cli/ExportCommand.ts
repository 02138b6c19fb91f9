/**
 * `inkwell export [--output FILE|-] [--status all|published|draft] [--tag TAG]`: the posts of
 * the database of DATABASE_URL as NDJSON that `inkwell import` reads back (src/Export). Standard
 * output by default, and then nothing else goes there: what the export says goes to stderr. A
 * file is written whole or not at all: interrupted (Ctrl-C, SIGTERM, SIGHUP) or failed, it is left
 * as it was. Exit codes as for import: 1 a failure, 2 bad usage or an output that cannot be
 * written, 128 + the signal's number after a stop, also one that came once the file was in place
 * (then said so: the export is complete).
 */
import { Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import { Console, Effect, Option, Predicate, Schema } from "effect"
import * as App from "../App.js"
import { DatabaseConfig } from "../Config.js"
import * as Migrations from "../Database/Migrations.js"
import * as SqlLive from "../Database/SqlLive.js"
import { isUnreachable } from "../Database/Transient.js"
import { describeFailure } from "../Domain/describeFailure.js"
import { TagParameter } from "../Posts/Api.js"
import * as ExportOutput from "../Export/ExportOutput.js"
import { type ExportFilter, ExportTally, fromSnapshot, run } from "../Export/PostExport.js"
import { isNdjsonPath } from "../Import/ImportSource.js"
import { cannotStart, CliExit, exitOnFailure } from "./Exit.js"

/** The options of `inkwell export` (Cli.ts checks a command line against their names). */
export const exportOptions = {
  output: Options.text("output").pipe(
    Options.withDescription("the file to write (.ndjson or .jsonl; replaced only once the export is complete), or - for standard output (the default)"),
    Options.optional
  ),
  status: Options.choice("status", ["all", "published", "draft"]).pipe(
    Options.withDescription("only posts of this status; published includes scheduled posts (default all)"),
    Options.withDefault("all" as const)
  ),
  tag: Options.text("tag").pipe(
    // As the API's `?tag=`: a tag that no post can carry exported nothing, and said nothing of why.
    Options.mapEffect((tag) =>
      Schema.is(TagParameter)(tag)
        ? Effect.succeed(tag)
        : Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--tag ${JSON.stringify(tag)} is not a tag: 1 to 100 characters, not only spaces`)))
    ),
    Options.withDescription("only posts carrying this tag"),
    Options.optional
  )
}

type Flags = { readonly [K in keyof typeof exportOptions]: (typeof exportOptions)[K] extends Options.Options<infer A> ? A : never }

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

const describeFilter = (filter: ExportFilter): string =>
  `${filter.status === undefined ? "all posts" : `${filter.status} posts`}${filter.tag === undefined ? "" : ` tagged ${JSON.stringify(filter.tag)}`}`

/**
 * An SQLite file that does not exist is not created (the SQL layer would: for `serve` and
 * `import` a new blog starts so): exporting it would write an empty export and leave an empty
 * database behind, at a path that is most likely mistyped (`inkwell reprocess` checks it too).
 */
export const checkDatabase = Effect.gen(function*() {
  const config = yield* DatabaseConfig.pipe(Effect.mapError(cannotStart))
  const state = yield* SqlLive.sqliteFileState(config.url)
  if (state?._tag === "Missing") {
    return yield* new CliExit({ code: 1, reason: `database unavailable: no database at ${state.filename} (set DATABASE_URL to the blog's)` })
  }
})

/** A migrations table that is not there: SQLite's words, or PostgreSQL's (42P01). */
const NO_TABLE = /no such table|relation .* does not exist/

/**
 * `Migrations.verify` failed because the database holds no Inkwell tables: its bookkeeping table,
 * which every Inkwell database has had from its first migration, is not there (an empty
 * database, or another application's).
 */
export const holdsNoInkwellTables = (error: unknown): boolean =>
  error instanceof Migrations.MigrationFailed && error.missing.length === 0 && NO_TABLE.test(describeFailure(error.cause))

/**
 * Said for a command that reads a database it does not migrate (`inkwell export`, `inkwell
 * reprocess --dry-run`): the verifier's own reason is about a migration run, and this was none.
 * `never` says who migrates; `noTables` is said when the bookkeeping table is not there (given the
 * verifier's reason). "database unavailable" only for a database not reached or not migrated: one
 * that refused the read (permission denied, locked) answered, and is named for what it said.
 */
export const notMigrated = (never: string, noTables: (reason: string) => string) => <E>(error: E): E | CliExit => {
  if (!(error instanceof Migrations.MigrationFailed)) return error
  if (error.missing.length > 0) {
    return new CliExit({ code: 1, reason: `database unavailable: not migrated: ${error.missing.join(", ")} missing; ${never}` })
  }
  if (holdsNoInkwellTables(error)) return new CliExit({ code: 1, reason: noTables(error.reason) })
  return new CliExit({ code: 1, reason: isUnreachable(error.cause) ? `database unavailable: ${error.reason}` : error.reason })
}

const EXPORT_NEVER_MIGRATES = "inkwell export never migrates (inkwell import or the server does)"

const exportNotMigrated = notMigrated(
  EXPORT_NEVER_MIGRATES,
  (reason) => `database unavailable: ${reason}: not an Inkwell database, or never migrated; ${EXPORT_NEVER_MIGRATES}`
)

const summary = (tally: ExportTally, name: string) => `inkwell: exported ${plural(tally.posts, "post")} to ${name}`

const handler = (f: Flags) =>
  Effect.gen(function*() {
    const target = Option.getOrElse(f.output, () => "-")
    if (target !== "-" && !isNdjsonPath(target)) {
      return yield* new CliExit({
        code: 2,
        reason: `--output ${JSON.stringify(target)}: name the file .ndjson or .jsonl (inkwell import reads those as records)`
      })
    }
    const filter: ExportFilter = { status: f.status === "all" ? undefined : f.status, tag: Option.getOrUndefined(f.tag) }
    const tally = new ExportTally()
    const name = target === "-" ? "standard output" : target
    yield* Effect.gen(function*() {
      // Opened before the database is looked at: an output that cannot be written is found out
      // first (exit 2), even when the database is missing as well.
      const output = target === "-" ? yield* ExportOutput.stream(process.stdout, name) : yield* ExportOutput.file(target)
      yield* checkDatabase
      yield* Console.error(`inkwell: exporting ${describeFilter(filter)} to ${output.name}`)
      // One snapshot: the database as it was at the first read, however long the export takes.
      // Migrations verified, never run: an export reads, so a read-only database or a standby will do.
      yield* fromSnapshot(run(filter, output, tally)).pipe(Effect.provide(App.VerifiedDatabaseLive), Effect.mapError(exportNotMigrated))
    }).pipe(
      Effect.scoped,
      Effect.onInterrupt(() =>
        Console.error(
          tally.committed
            ? `${summary(tally, name)} (complete: the stop came once it was written)`
            : `inkwell: export interrupted after ${plural(tally.posts, "post")}` +
              (target === "-" ? `, each written whole to ${name}` : `; ${name} was left as it was`)
        )
      ),
      // Exit 2 for an output that cannot be written, as for bad usage (the header).
      exitOnFailure({ codeOf: (failure) => (Predicate.isTagged(failure, "OutputUnavailable") ? 2 : 1) })
    )
    // Standard output carries the records only: log lines (a warning of the pool) go to stderr (CliLogging).
    yield* Console.error(summary(tally, name))
  })

export const exportCommand = Command.make("export", exportOptions, handler).pipe(
  Command.withDescription(
    "Write the database's posts (drafts and scheduled ones included) as NDJSON that inkwell import reads back: a backup, or a move to another database"
  )
)
