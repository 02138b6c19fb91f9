/**
 * `inkwell reprocess [--dry-run]`: every post of the database of DATABASE_URL rendered again from
 * its stored input with this version's processing (Posts/Reprocess.ts), and written back where
 * the output changed. Progress and each post left as it was on stderr; the summary on stdout.
 * Exit codes: 0, 1 when a post could not be reprocessed (or the run failed), 2 bad usage.
 */
import { Command, Options } from "@effect/cli"
import { Cause, Config, Console, Duration, Effect, Layer, Schedule } from "effect"
import * as App from "../App.js"
import { DatabaseConfig, ProcessorConfig } from "../Config.js"
import * as SqlLive from "../Database/SqlLive.js"
import { PostProcessor } from "../Processing/PostProcessor.js"
import * as Reprocess from "../Posts/Reprocess.js"
import * as SqlPostRepository from "../Posts/SqlPostRepository.js"
import { checkDatabase } from "./ExportCommand.js"
import { CliExit } from "./ImportCommand.js"

/** The options of `inkwell reprocess` (Cli.ts checks a command line against their names). */
export const reprocessOptions = {
  dryRun: Options.boolean("dry-run").pipe(
    Options.withDescription("count the posts whose output would change, write nothing (the database is neither migrated nor written)")
  )
}

type Flags = { readonly [K in keyof typeof reprocessOptions]: (typeof reprocessOptions)[K] extends Options.Options<infer A> ? A : never }

/** The summary line: `reprocessed 3, unchanged 120, failed 1`. */
export const summaryLine = (tally: Reprocess.ReprocessTally, dryRun: boolean): string =>
  `reprocessed ${tally.reprocessed}, unchanged ${tally.unchanged}, failed ${tally.failed}${dryRun ? " (dry run: nothing written)" : ""}`

/** Every setting the run reads, read before it starts: bad ones are one `invalid configuration` line, exit 1. */
const settings = Config.all({ database: DatabaseConfig, processor: ProcessorConfig }).pipe(
  Effect.tap(({ database }) => SqlLive.parseDatabaseUrl(database.url)),
  Effect.mapError((error) => new CliExit({ code: 1, reason: App.describeFailure(Cause.fail(error)) }))
)

/**
 * Writing: the repository `inkwell import` writes through, migrated as the server migrates and
 * announcing each write (PostChanges). A dry run reads a database someone else migrates, and
 * writes (so announces) nothing.
 */
const repositoryFor = (dryRun: boolean) =>
  dryRun ? SqlPostRepository.layer.pipe(Layer.provide(App.VerifiedDatabaseLive)) : App.WritingRepositoryLive

/** Between progress lines on stderr. */
const PROGRESS_INTERVAL = Duration.seconds(3)

const handler = (f: Flags) =>
  Effect.gen(function*() {
    const { processor } = yield* settings
    yield* checkDatabase
    const tally = new Reprocess.ReprocessTally()
    yield* Console.error(`inkwell: reprocessing every post${f.dryRun ? " (dry run)" : ""}`)
    const progress = Effect.suspend(() =>
      Console.error(
        `reprocess progress: ${tally.read} read (${tally.reprocessed} reprocessed, ${tally.unchanged} unchanged, ${tally.failed} failed)`
      )
    ).pipe(Effect.schedule(Schedule.spaced(PROGRESS_INTERVAL)), Effect.forkScoped)
    const options: Reprocess.ReprocessOptions = {
      dryRun: f.dryRun,
      onFailure: ({ reason, slug }) => Console.error(`inkwell: ${slug}: ${reason} (left as it was)`)
    }
    yield* Effect.zipRight(progress, Reprocess.run(options, tally)).pipe(
      Effect.scoped,
      Effect.provide(Layer.merge(repositoryFor(f.dryRun), PostProcessor.layer(processor))),
      Effect.onInterrupt(() => Console.error(`inkwell: reprocess interrupted: ${summaryLine(tally, f.dryRun)}`)),
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.failCause(Cause.stripFailures(cause))
          : Effect.fail(new CliExit({ code: 1, reason: `${App.describeFailure(cause)} (after ${summaryLine(tally, f.dryRun)})` }))
      )
    )
    yield* Console.log(summaryLine(tally, f.dryRun))
    if (tally.failed > 0) {
      return yield* new CliExit({ code: 1, reason: `${tally.failed} post(s) could not be reprocessed, and were left as they were` })
    }
    // Standard output carries the summary only: log lines (a warning of the pool) go to stderr (CliLogging).
  })

export const reprocessCommand = Command.make("reprocess", reprocessOptions, handler).pipe(
  Command.withDescription(
    "Render every stored post (drafts and scheduled ones included) again with this version's processing, and write back those whose output changed"
  )
)
