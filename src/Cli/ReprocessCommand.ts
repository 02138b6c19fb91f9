/**
 * `inkwell reprocess [--dry-run] [--item-timeout DURATION]`: every post of the database of DATABASE_URL rendered again from
 * its stored input with this version's processing (Posts/Reprocess.ts), and written back where
 * the output changed. Progress and each post left as it was on stderr; the summary on stdout.
 * Exit codes: 0, 1 when a post could not be reprocessed (or the run failed), 2 bad usage, 128 + the
 * signal's number after a stop by SIGINT, SIGTERM or SIGHUP (src/bin.ts).
 */
import { Command, Options } from "@effect/cli"
import { Cause, Config, Console, Duration, Effect, identity, Layer, Option, Schedule } from "effect"
import * as App from "../App.js"
import { DatabaseConfig } from "../Config.js"
import * as Migrations from "../Database/Migrations.js"
import * as SqlLive from "../Database/SqlLive.js"
import { ItemTimeoutConfig } from "../Import/ImportConfig.js"
import * as Reprocess from "../Posts/Reprocess.js"
import * as SqlPostRepository from "../Posts/SqlPostRepository.js"
import * as HeavyPosts from "../Workers/HeavyPosts.js"
import { checkDatabase, holdsNoInkwellTables, notMigrated } from "./ExportCommand.js"
import { CliExit, exitOnFailure } from "./Exit.js"
import { duration } from "./ImportCommand.js"

/** The options of `inkwell reprocess` (Cli.ts checks a command line against their names). */
export const reprocessOptions = {
  dryRun: Options.boolean("dry-run").pipe(
    Options.withDescription("count the posts whose output would change, write nothing (the database is neither migrated nor written)")
  ),
  // As the import's: a post that renders for ever held the whole run, which no stop but a second signal ended.
  itemTimeout: duration("item-timeout", "fail a post whose rendering takes longer than this, and leave it as stored (default IMPORT_ITEM_TIMEOUT or 30s)")
}

type Flags = { readonly [K in keyof typeof reprocessOptions]: (typeof reprocessOptions)[K] extends Options.Options<infer A> ? A : never }

/** The summary line: `reprocessed 3, unchanged 120, failed 1`. */
export const summaryLine = (tally: Reprocess.ReprocessTally, dryRun: boolean): string =>
  `reprocessed ${tally.reprocessed}, unchanged ${tally.unchanged}, failed ${tally.failed}${dryRun ? " (dry run: nothing written)" : ""}`

/** Every setting the run reads, read before it starts: bad ones are one `invalid configuration` line, exit 1. */
const settings = Config.all({ database: DatabaseConfig, rendering: HeavyPosts.HeavyPostsConfig, itemTimeout: ItemTimeoutConfig }).pipe(
  Effect.tap(({ database }) => SqlLive.parseDatabaseUrl(database.url)),
  Effect.mapError((error) => new CliExit({ code: 1, reason: App.describeFailure(Cause.fail(error)) }))
)

/**
 * A database with no Inkwell tables (an empty one, another application's) is refused before
 * anything is made in it: migrated, it had Inkwell's tables made in what was most likely the
 * wrong database, and the run said "reprocessed 0" (exit 0). The check reads through the
 * SqlClient the migrations then use (one layer, built once). Any other failure to read the
 * bookkeeping is left to the migrations, which migrate a database at an older migration, and
 * say what else is wrong.
 */
const inkwellTablesRequired = Layer.effectDiscard(
  Effect.catchAll(Migrations.verify(), (error) =>
    holdsNoInkwellTables(error)
      ? new CliExit({
        code: 1,
        reason:
          "nothing to reprocess: the database holds no Inkwell tables (not the blog's database, or never migrated: the server and inkwell import create them, reprocess does not)"
      })
      : Effect.void)
).pipe(Layer.provide(SqlLive.layerConfig))

/**
 * Writing: the repository `inkwell import` writes through, migrated as the server migrates and
 * announcing each write (PostChanges), on a database that holds Inkwell's tables already. A dry
 * run reads a database someone else migrates, and writes (so announces) nothing.
 */
const repositoryFor = (dryRun: boolean) =>
  dryRun
    ? SqlPostRepository.layer.pipe(Layer.provide(App.VerifiedDatabaseLive))
    : App.WritingRepositoryLive.pipe(Layer.provide(inkwellTablesRequired))

/** A dry run's database not (fully) migrated: said as that, not as a migration that failed (none ran). */
const dryRunNotMigrated = notMigrated(
  "a dry run never migrates (inkwell reprocess without --dry-run does)",
  () => "nothing to reprocess: the database holds no Inkwell tables (not the blog's database, or never migrated; a dry run never migrates)"
)

/** Between progress lines on stderr. */
const PROGRESS_INTERVAL = Duration.seconds(3)

const handler = (f: Flags) =>
  Effect.gen(function*() {
    const { itemTimeout, rendering } = yield* settings
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
      itemTimeout: Option.orElse(f.itemTimeout, () => itemTimeout),
      onFailure: ({ reason, slug }) => Console.error(`inkwell: ${slug}: ${reason} (left as it was)`)
    }
    yield* Effect.gen(function*() {
      // Opened (migrated, or checked by a dry run) before the run begins: a database that cannot
      // be used is said alone, where a tally of the run that never began followed it
      // ("... (after reprocessed 0, unchanged 0, failed 0)"). A post too dense to render beside
      // the others renders on a thread of its own, as in an import (IMPORT_RENDER_HEAP_MB): there
      // its deadline stops it, where in-process it could only fail once rendered.
      const services = yield* Layer.build(Layer.merge(repositoryFor(f.dryRun), HeavyPosts.layer(rendering))).pipe(
        Effect.mapError(f.dryRun ? dryRunNotMigrated : identity),
        exitOnFailure()
      )
      yield* Effect.zipRight(progress, Reprocess.run(options, tally)).pipe(
        Effect.scoped,
        Effect.provide(services),
        Effect.onInterrupt(() => Console.error(`inkwell: reprocess interrupted: ${summaryLine(tally, f.dryRun)}`)),
        exitOnFailure({ after: () => ` (after ${summaryLine(tally, f.dryRun)})` })
      )
    }).pipe(Effect.scoped)
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
