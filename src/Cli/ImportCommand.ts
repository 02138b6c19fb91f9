/**
 * `inkwell import [path...] [--from-url URL...]`: directories of markdown, NDJSON files, `-`
 * (NDJSON on stdin), and remote sources (feeds, another Inkwell, a Ghost export) into the
 * database of DATABASE_URL. Progress on stderr, the summary on stdout, every failure
 * in `--report FILE` as JSON. Failing posts make the exit code 1 only with `--fail-on-error`.
 */
import { Args, Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import { FileSystem, Path } from "@effect/platform"
import { NodeHttpClient, NodeStream } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { Clock, Config, Console, Context, Duration, Effect, Either, Layer, Logger, LogLevel, Option, Redacted, Stream } from "effect"
import * as App from "../App.js"
import { DatabaseConfig } from "../Config.js"
import * as Migrations from "../Database/Migrations.js"
import * as SqlLive from "../Database/SqlLive.js"
import { FeedClient, parseHttpUrl } from "../Clients/FeedClient.js"
import { defaultSettings, FeedClientConfig } from "../Clients/FeedClientOptions.js"
import { describePlatformError } from "../Import/FileSource.js"
import { ImportConfig, importLimits, type ImportOptions, parseDuration } from "../Import/ImportConfig.js"
import * as ImportPipeline from "../Import/ImportPipeline.js"
import * as ImportSource from "../Import/ImportSource.js"
import { formatSummary, type ImportSummary, ImportTally } from "../Import/ImportSummary.js"
import { fromUrl } from "../Sources/FeedSource.js"
import type { ImportItem } from "../Import/ImportSource.js"
import { keylessSources, toImportItems } from "../Sources/ImportFromUrl.js"
import * as HeavyPosts from "../Workers/HeavyPosts.js"
import { RequestedLogLevel } from "./CliLogging.js"
import { cannotStart, CliExit, exitOnFailure } from "./Exit.js"
import * as Progress from "./Progress.js"


/** What a dry run's summary counts and lists (`formatSummary`), as the README says it too. */
export const DRY_RUN_COUNTS = "imported, updated, moved, unchanged, skipped, failed"

/** An integer from 1 to `max`, the bound of the matching IMPORT_* variable. */
const positiveInteger = (name: string, max: number, description: string) =>
  Options.integer(name).pipe(
    Options.mapEffect((n) =>
      n >= 1 && n <= max
        ? Effect.succeed(n)
        : Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--${name} must be between 1 and ${max} (got ${n})`)))
    ),
    Options.withDescription(description),
    Options.optional
  )

/** A duration greater than zero (`parseDuration`), optional. */
export const duration = (name: string, description: string) =>
  Options.text(name).pipe(
    Options.mapEffect((text) =>
      Option.match(parseDuration(text), {
        onNone: () =>
          Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--${name}: "${text}" is not a duration greater than zero (e.g. 500ms, 30s, 2m, "10 seconds")`))),
        onSome: Effect.succeed
      })
    ),
    Options.withDescription(description),
    Options.optional
  )

/** The options of `inkwell import` (Cli.ts checks a command line against their names). */
export const importOptions = {
  fromUrl: Options.text("from-url").pipe(
    // A URL that can never be fetched is a mistake on the command line, said before anything
    // runs (and no database is created); one that fails when fetched is a failure in the summary.
    // (Checked after `repeated`: @effect/cli repeats only a plain option.)
    Options.repeated,
    Options.mapEffect((urls) =>
      Effect.forEach(urls, (url) =>
        Either.match(parseHttpUrl(url), {
          onLeft: (invalid) =>
            Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--from-url ${JSON.stringify(url)} is not an http(s) URL (${invalid.reason})`))),
          onRight: () => Effect.succeed(url)
        }))
    ),
    Options.withDescription(
      "a feed (RSS, Atom, JSON Feed), another Inkwell, or a Ghost export URL (repeatable); another Inkwell gives its public posts only, unless INKWELL_SOURCE_API_KEY holds a key of it"
    )
  ),
  concurrency: positiveInteger("concurrency", importLimits.concurrency, "files, or chunks of up to IMPORT_RECORD_BATCH (32) NDJSON lines, processed at once (default IMPORT_CONCURRENCY or 8)"),
  batchSize: positiveInteger("batch-size", importLimits.batchSize, "posts per database transaction (default IMPORT_BATCH_SIZE or 500)"),
  buffer: positiveInteger("buffer", importLimits.buffer, "capacity of each queue between the stages (default IMPORT_BUFFER or 256)"),
  timeout: duration("timeout", "stop the whole import after this long, e.g. 10m (default IMPORT_TIMEOUT, or no limit)"),
  itemTimeout: duration("item-timeout", "fail a post whose own reading and rendering take longer than this, other posts' time not counted (default IMPORT_ITEM_TIMEOUT or 30s)"),
  dryRun: Options.boolean("dry-run").pipe(Options.withDescription(`say what the import would do (${DRY_RUN_COUNTS}), checked against the database as it is, write nothing; without a database yet (SQLite file missing), only validate and create none`)),
  // Text, not `Options.file`: that check dies on a path under a regular file (ENOTDIR);
  // checkReportTarget says what is wrong with the path instead.
  report: Options.text("report").pipe(
    Options.withPseudoName("file"),
    Options.withDescription("write the summary with every failure as JSON to this file"),
    Options.optional
  ),
  failOnError: Options.boolean("fail-on-error").pipe(Options.withDescription("exit with code 1 when any post failed")),
  onConflict: Options.choice("on-conflict", ["fail", "skip", "suffix"]).pipe(
    Options.withDescription("a slug taken by a post from another source: fail it, skip it, or store it as slug-2 (default IMPORT_ON_CONFLICT or fail)"),
    Options.optional
  )
}

const flags = {
  paths: Args.text({ name: "path" }).pipe(
    Args.withDescription("a directory of markdown posts, an .ndjson file, or - for NDJSON on stdin"),
    // Optional so that `--from-url` alone is enough; the handler asks for at least one source.
    Args.repeated
  ),
  ...importOptions
}

type Flags = {
  readonly [K in keyof typeof flags]: (typeof flags)[K] extends Options.Options<infer A> ? A
    : (typeof flags)[K] extends Args.Args<infer A> ? A
    : never
}

const resolveOptions = (defaults: ImportOptions, f: Flags): ImportOptions => ({
  ...defaults,
  concurrency: Option.getOrElse(f.concurrency, () => defaults.concurrency),
  batchSize: Option.getOrElse(f.batchSize, () => defaults.batchSize),
  buffer: Option.getOrElse(f.buffer, () => defaults.buffer),
  timeout: Option.orElse(f.timeout, () => defaults.timeout),
  itemTimeout: Option.orElse(f.itemTimeout, () => defaults.itemTimeout),
  onConflict: Option.getOrElse(f.onConflict, () => defaults.onConflict),
  dryRun: f.dryRun
})

/**
 * Every setting the import reads, read together before it announces itself: bad ones are one
 * `invalid configuration` failure naming each, exit 1 as for `serve`, and no database is opened
 * (read as their layers were built, some failed only after "importing ..." was printed). FEED_*
 * are read only when a URL is given.
 */
const settings = (urls: ReadonlyArray<string>) =>
  Config.all({
    defaults: ImportConfig,
    feeds: urls.length === 0 ? Config.succeed(defaultSettings) : FeedClientConfig,
    database: DatabaseConfig,
    rendering: HeavyPosts.HeavyPostsConfig,
    sourceKey: urls.length === 0 ? Config.succeed(Option.none()) : SourceApiKey
  }).pipe(
    Effect.tap(({ database }) => SqlLive.parseDatabaseUrl(database.url)),
    Effect.mapError(cannotStart)
  )

/**
 * `INKWELL_SOURCE_API_KEY`: a key of the Inkwell `--from-url` reads, so its drafts and scheduled
 * posts come too (its API lists only public posts to a reader without one). Redacted: no log,
 * error or summary shows it. Empty is none.
 */
const SourceApiKey = Config.option(Config.redacted("INKWELL_SOURCE_API_KEY")).pipe(
  Config.map(Option.filter((key) => Redacted.value(key).trim() !== ""))
)

/**
 * The key goes to one server, the one the user named: among URLs of several origins, one that
 * answered as an Inkwell would be handed the key of another.
 */
const checkKeyedOrigins = (urls: ReadonlyArray<string>) => {
  const origins = Array.from(new Set(urls.map((url) => new URL(url).origin)))
  return origins.length <= 1 ? Effect.void : Effect.fail(
    new CliExit({
      code: 2,
      reason: `INKWELL_SOURCE_API_KEY is the key of one server: give --from-url URLs of one origin with it (got ${origins.join(", ")}), and import the others in another run`
    })
  )
}

/**
 * The report is written once the whole import is done: a directory that is missing or not
 * writable is found out here, before anything is imported, rather than after a long run.
 */
const checkReportTarget = (file: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = path.dirname(path.resolve(file))
    const unusable = (reason: string) => new CliExit({ code: 2, reason: `cannot write the report to ${file}: ${reason}` })
    const info = yield* fs.stat(dir).pipe(
      Effect.mapError((e) =>
        unusable(e._tag === "SystemError" && e.reason === "NotFound" ? `directory ${dir} does not exist` : `${dir}: ${describePlatformError(e)}`)
      )
    )
    if (info.type !== "Directory") return yield* unusable(`${dir} is not a directory`)
    // An existing report is overwritten: then the file itself must be writable.
    const existing = yield* Effect.option(fs.stat(file))
    if (Option.isSome(existing) && existing.value.type !== "File") return yield* unusable(`not a regular file (${existing.value.type})`)
    const target = Option.isSome(existing) ? file : dir
    yield* fs.access(target, { writable: true }).pipe(
      Effect.mapError((e) => unusable(`${target} is not writable (${describePlatformError(e)})`))
    )
  })

/** Writes the report; false (after saying why) when it could not be written. */
const writeReport = (file: string, summary: ImportSummary) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.writeFileString(file, `${JSON.stringify(summary, null, 2)}\n`)).pipe(
    Effect.as(true),
    Effect.catchAll((e) => Effect.as(Console.error(`inkwell: cannot write the report to ${file}: ${describePlatformError(e)}`), false))
  )

/** Prints the summary and writes the report; false when the report was asked for and not written. */
const finish = (f: Flags, summary: ImportSummary) =>
  Effect.gen(function*() {
    yield* Console.log(formatSummary(summary))
    return Option.isSome(f.report) ? yield* writeReport(f.report.value, summary) : true
  })

/**
 * Where the posts go: into the database, or (a dry run) through it, each batch checked by the
 * same upsert and rolled back, so the summary says what the import would do. A database that
 * does not exist yet (an SQLite file that is missing, `sqlite::memory:`) is not created by a dry
 * run: the posts are only validated, as every valid one would be new. Nor is one migrated: one
 * that is not (yet) is not read either.
 */
type Target =
  | { readonly _tag: "Write" }
  | { readonly _tag: "DryRun"; readonly sql: Context.Context<SqlClient.SqlClient> }
  | { readonly _tag: "ValidateOnly"; readonly why: string }

/**
 * Whether the database takes no writes: PostgreSQL's `transaction_read_only`, on in every session
 * of a standby (a primary a failover demoted) and of a database set read-only. The import fails
 * there at its migrations (which write even with nothing to migrate), before any post; a dry run,
 * writing each batch and rolling it back, failed every post instead and exited 0. Asked as the
 * dry run starts, where the import fails and before any input is read, rather than read from a
 * first batch's refusal: that comes once posts were read and rendered, and the import itself
 * reports a server demoted mid-run post by post. SQLite: a file that cannot be written is refused
 * as it opens (SqlLive).
 */
const takesNoWrites = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql.onDialectOrElse({
    pg: () => Effect.map(sql<{ readonly setting: string }>`SELECT current_setting('transaction_read_only') AS setting`, ([row]) => row?.setting === "on"),
    orElse: () => Effect.succeed(false)
  }))

/** The run's target; a dry run's database, once found usable, stays open in the scope for its batches. */
const importTarget = (options: ImportOptions) =>
  Effect.gen(function*() {
    if (!options.dryRun) return { _tag: "Write" } satisfies Target
    const validateOnly = (why: string): Target => ({ _tag: "ValidateOnly", why })
    const state = yield* SqlLive.sqliteFileState((yield* DatabaseConfig).url)
    if (state?._tag === "InMemory") return validateOnly("an in-memory database starts empty, so every valid post would be new")
    if (state?._tag === "Missing") {
      return validateOnly(`no database at ${state.filename} yet (a dry run creates none), so every valid post would be new`)
    }
    const sql = yield* Layer.build(SqlLive.layerConfig)
    if (yield* Effect.provide(takesNoWrites, sql)) {
      return yield* new CliExit({
        code: 1,
        reason: "database unavailable: the database takes no writes (read-only: a standby or a demoted primary); the import would fail before writing any post"
      })
    }
    const migrated = yield* Effect.either(Effect.provide(Migrations.verify(), sql))
    // Not "not migrated yet": the import would refuse it too, so the dry run says so.
    if (Either.isLeft(migrated) && migrated.left._tag === "MigratedByNewerVersion") return yield* migrated.left
    return Either.isLeft(migrated)
      ? validateOnly(`the database is not migrated yet (the import would migrate it first), so it was not read`)
      : { _tag: "DryRun", sql } satisfies Target
  })

const importInto = <R>(target: Target, source: Stream.Stream<ImportItem, never, R>, options: ImportOptions, tally: ImportTally) => {
  switch (target._tag) {
    case "Write":
      return ImportPipeline.run(source, options, { tally }).pipe(Effect.provide(App.WritingRepositoryLive))
    case "DryRun":
      return ImportPipeline.run(source, options, { tally }).pipe(Effect.provide(App.DryRunRepositoryLive), Effect.provide(target.sql))
    case "ValidateOnly":
      return Effect.zipRight(
        Console.error(`inkwell: dry run: ${target.why}; the posts are only validated`),
        ImportPipeline.validate(source, options, { tally })
      )
  }
}

const handler = (f: Flags) =>
  Effect.gen(function*() {
    if (f.paths.length === 0 && f.fromUrl.length === 0) {
      return yield* new CliExit({ code: 2, reason: "nothing to import: give a path, - for standard input, or --from-url URL" })
    }
    if (Option.isSome(f.report)) yield* checkReportTarget(f.report.value)
    const { defaults, feeds: feedSettings, rendering, sourceKey } = yield* settings(f.fromUrl)
    if (Option.isSome(sourceKey)) yield* checkKeyedOrigins(f.fromUrl)
    // Inkwell sources read without a key (none given, or not for that origin), said in the summary.
    const keyless = keylessSources({ apiKey: Option.getOrUndefined(sourceKey) })
    const feeds = FeedClient.layer(feedSettings).pipe(Layer.provide(NodeHttpClient.layer))
    const options = resolveOptions(defaults, f)
    const startedAt = yield* Clock.currentTimeMillis
    const tty = process.stderr.isTTY === true
    // The size of a remote source is unknown until it is fetched: no ETA then, counts only.
    const totalBytes = tty && f.fromUrl.length === 0 ? yield* ImportSource.estimateBytes(f.paths) : undefined
    yield* Console.error(
      `inkwell: importing ${[...f.paths, ...f.fromUrl].join(" ")} (concurrency ${options.concurrency}, batch ${options.batchSize}, buffer ${options.buffer}${options.dryRun ? ", dry run" : ""})`
    )
    // A URL that cannot be fetched or read is one failure named by the URL, like an unreadable file.
    const source = Stream.concat(
      ImportSource.fromPaths(f.paths, { ...options, stdin: NodeStream.stdin }),
      Stream.fromIterable(f.fromUrl).pipe(Stream.flatMap((url) => toImportItems(url, fromUrl(url, keyless.options))))
    )
    // On SIGINT/SIGTERM the run is interrupted after the batch in flight: summarize what landed.
    const finishInterrupted = (tally: ImportTally) =>
      Effect.onInterrupt(() => Effect.flatMap(Clock.currentTimeMillis, (now) => finish(f, tally.summary("interrupted", now))))

    const imported = yield* Effect.gen(function*() {
      const target = yield* importTarget(options).pipe(
        // Stopped before anything was read (a database slow to open): the summary says so too.
        finishInterrupted(new ImportTally(startedAt, { dryRun: options.dryRun }))
      )
      // Built once the target is known: how a dry run's counts read depends on it.
      const tally = new ImportTally(startedAt, { dryRun: options.dryRun, databaseChecked: target._tag === "DryRun" })
      return yield* importInto(target, source, options, tally).pipe(
        // In-process rendering: measured faster and ~100 MB smaller than the worker pool for
        // imports, whose main thread (parsing, batching, writing) is the bottleneck; switch to
        // `RenderPool.layerConfig` when it is not (notes/BENCHMARKS-session2-import.md). Except
        // a post too dense to render under this process's heap cap: that one renders on a thread
        // of its own, and fails alone if it needs more than IMPORT_RENDER_HEAP_MB (HeavyPosts.ts).
        Effect.provide(HeavyPosts.layer(rendering)),
        Effect.provide(feeds),
        (effect) => Effect.scoped(Effect.zipRight(Progress.track(tally, { tty, totalBytes, write: (l) => process.stderr.write(`${l}\n`) }), effect)),
        finishInterrupted(tally)
      )
    }).pipe(
      // The dry run's database, open from its check to its last batch.
      Effect.scoped,
      // Defects too (a library that throws while opening the database): one line, not a stack trace.
      exitOnFailure(),
      // The summary lists every skipped or failed post; warnings would break the progress bar:
      // errors only, unless a level was asked for (--log-level, LOG_LEVEL).
      (effect) => Effect.flatMap(RequestedLogLevel, (level) => Logger.withMinimumLogLevel(effect, Option.getOrElse(level, () => LogLevel.Error)))
    )
    const summary = keyless.warn("set INKWELL_SOURCE_API_KEY to a key of that server to bring them")(imported)
    const reported = yield* finish(f, summary)
    if (summary.status === "timed-out") {
      return yield* new CliExit({ code: 1, reason: `timed out after ${Option.match(options.timeout, { onNone: () => "?", onSome: Duration.format })}` })
    }
    // Whatever `--fail-on-error` says: the import did not do what it was asked (its failure,
    // `input`, says why), as when it timed out.
    if (summary.status === "failed") {
      return yield* new CliExit({ code: 1, reason: "the input could not be read to its end" })
    }
    if (f.failOnError && summary.failed > 0) {
      return yield* new CliExit({ code: 1, reason: `${summary.failed} post(s) failed` })
    }
    // Whoever asked for the report relies on it: its loss is a failure (the reason is printed).
    if (!reported) return yield* new CliExit({ code: 1, reason: "" })
  })

export const importCommand = Command.make("import", flags, handler).pipe(
  Command.withDescription(
    "Import markdown directories, NDJSON files, NDJSON on stdin (-) or remote feeds (--from-url) into the database"
  )
)
