/**
 * Settings of an import run. Defaults come from `IMPORT_*` environment variables (read inside
 * the CLI's layer, never at module top level); command-line flags override them per run.
 */
import { Config, ConfigError, Duration, Either, Option } from "effect"
import { byteSize, integer } from "../Config.js"
import type { SlugPolicy } from "../Posts/PostRepository.js"

export interface ImportOptions {
  /**
   * Fibers of the concurrent stage, each on one chunk of up to `recordBatch` queued items at a time:
   * markdown files one after another, a chunk's NDJSON lines together (`PostProcessor.fromLines`:
   * one message to a render worker). So this many files, or chunks of lines, are in flight; with
   * the worker pool, two chunks per thread keep every thread busy.
   */
  readonly concurrency: number
  /**
   * Most items a fiber of the concurrent stage takes from the input queue at once (whatever is
   * queued, never waiting for more). A chunk's NDJSON lines are parsed and rendered as one batch,
   * with no fiber, queue hop or timer per post: on the main thread that per-post machinery cost
   * about as much as SQLite did.
   */
  readonly recordBatch: number
  /** Posts per database transaction. */
  readonly batchSize: number
  /** Capacity of each bounded queue (reader → processors, processors → writer), in posts. */
  readonly buffer: number
  /** Deadline per post, covering reading and processing. */
  readonly itemTimeout: Option.Option<Duration.Duration>
  /** Deadline for the whole run. */
  readonly timeout: Option.Option<Duration.Duration>
  /** What to do when a slug belongs to a post from another source. */
  readonly onConflict: SlugPolicy
  /**
   * How a conflict's reason names the setting that decided it, so the caller knows what to
   * change: the CLI's `--on-conflict fail` when absent, a request's own parameter for the server.
   */
  readonly onConflictNamed?: ((policy: SlugPolicy) => string) | undefined
  /** Bytes per read from a file. */
  readonly chunkSize: number
  /**
   * Larger posts are reported and skipped: a markdown file by its bytes, never buffered whole; an
   * NDJSON record (or another source's post) by its body's UTF-8 bytes, as stored. An NDJSON line
   * may be `maxLineBytes` long.
   */
  readonly maxPostBytes: number
  /** Longest wait before a partly filled batch is written anyway (trickling input, stdin). */
  readonly batchWindow: Duration.Duration
  /** Process and validate, write nothing. */
  readonly dryRun: boolean
}

export const defaultImportOptions: ImportOptions = {
  concurrency: 8,
  recordBatch: 32,
  batchSize: 500,
  buffer: 256,
  itemTimeout: Option.some(Duration.seconds(30)),
  timeout: Option.none(),
  onConflict: "fail",
  chunkSize: 64 * 1024,
  maxPostBytes: 5 * 1024 * 1024,
  batchWindow: Duration.seconds(1),
  dryRun: false
}

/**
 * How long an NDJSON line may be, for posts of at most `maxPostBytes`: twice that, and
 * LINE_BYTES_OVER_POST more. A line is read whole before it is parsed, and up to IMPORT_BUFFER of
 * them wait at once, so the bound is also the import's memory. The post's limit on the line itself
 * refused exports of posts it had let in, as JSON writes a body's quotes, backslashes and line
 * breaks in two bytes (a 4.5 MB post of JSON code was a 6.75 MB line), and the line carries the
 * post's other fields beside it. A body of control characters (six bytes each, `\u0001`) can still
 * outgrow it: eight times the post, as that would need, let a few hundred waiting lines hold
 * gigabytes.
 */
const LINE_BYTES_OVER_POST = 1024 * 1024

export const maxLineBytes = (maxPostBytes: number): number => maxPostBytes * 2 + LINE_BYTES_OVER_POST

/**
 * Largest values of the sizes, for `IMPORT_*` and the command-line flags alike: each is
 * allocated up front or multiplied by the others (fibers, queue slots, rows per statement), and
 * far past these an import exhausts the heap before it reads a file.
 */
export const importLimits = {
  concurrency: 1024,
  recordBatch: 4096,
  batchSize: 100_000,
  buffer: 1_000_000
} as const

const positive = (name: string, fallback: number, max = 1_000_000) =>
  integer(name, { min: 1, max }).pipe(
    Config.withDefault(fallback)
  )

const positiveBytes = (name: string, fallback: number, max: number) =>
  byteSize(name).pipe(
    Config.validate({ message: `must be a number of bytes between 1 and ${max}`, validation: (n) => n >= 1 && n <= max }),
    Config.withDefault(fallback)
  )

/**
 * A deadline of zero would time out every post (or the whole run) before it starts. Read with
 * `parseDuration`, like the `--timeout` / `--item-timeout` flags these variables stand in for:
 * `Config.duration` refused the "30s" that the flag takes.
 */
const positiveDuration = (name: string) =>
  Config.string(name).pipe(
    Config.mapOrFail((text) =>
      Option.match(parseDuration(text), {
        onNone: () =>
          Either.left(ConfigError.InvalidData([], `must be a positive duration, such as 30s or 30 seconds (got "${text}")`)),
        onSome: Either.right
      })
    )
  )

/** `IMPORT_ITEM_TIMEOUT` (30 s when unset): a post's deadline, for the import and `inkwell reprocess` alike. */
export const ItemTimeoutConfig: Config.Config<Option.Option<Duration.Duration>> = Config.option(positiveDuration("IMPORT_ITEM_TIMEOUT")).pipe(
  Config.map((o) => Option.orElse(o, () => defaultImportOptions.itemTimeout))
)

/** `IMPORT_CONCURRENCY`, `IMPORT_RECORD_BATCH`, `IMPORT_BATCH_SIZE`, `IMPORT_BUFFER`, `IMPORT_ITEM_TIMEOUT`, `IMPORT_TIMEOUT`, `IMPORT_ON_CONFLICT`, `IMPORT_CHUNK_SIZE`, `IMPORT_MAX_POST_BYTES`. */
export const ImportConfig: Config.Config<ImportOptions> = Config.all({
  concurrency: positive("IMPORT_CONCURRENCY", defaultImportOptions.concurrency, importLimits.concurrency),
  recordBatch: positive("IMPORT_RECORD_BATCH", defaultImportOptions.recordBatch, importLimits.recordBatch),
  batchSize: positive("IMPORT_BATCH_SIZE", defaultImportOptions.batchSize, importLimits.batchSize),
  buffer: positive("IMPORT_BUFFER", defaultImportOptions.buffer, importLimits.buffer),
  itemTimeout: ItemTimeoutConfig,
  timeout: Config.option(positiveDuration("IMPORT_TIMEOUT")),
  onConflict: Config.literal("fail", "skip", "suffix")("IMPORT_ON_CONFLICT").pipe(
    Config.withDefault(defaultImportOptions.onConflict)
  ),
  chunkSize: positiveBytes("IMPORT_CHUNK_SIZE", defaultImportOptions.chunkSize, 64 * 1024 * 1024),
  maxPostBytes: positiveBytes("IMPORT_MAX_POST_BYTES", defaultImportOptions.maxPostBytes, 1024 * 1024 * 1024),
  batchWindow: Config.succeed(defaultImportOptions.batchWindow),
  dryRun: Config.succeed(false)
})

/**
 * Durations as users type them: "500ms", "30s", "2m", "1h", "1.5s", or Effect's own
 * "30 seconds" / "500 millis". A bare number is seconds. Zero is none: as a deadline it would
 * fail every post (or the whole run) at once.
 */
export const parseDuration = (text: string): Option.Option<Duration.Duration> =>
  Option.filter(parseAnyDuration(text.trim()), (d) => Duration.toMillis(d) > 0)

const parseAnyDuration = (text: string): Option.Option<Duration.Duration> => {
  const short = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(text)
  if (short === null) return Duration.decodeUnknown(text)
  const value = Number(short[1])
  switch ((short[2] ?? "s").toLowerCase()) {
    case "ms":
      return Option.some(Duration.millis(value))
    case "s":
      return Option.some(Duration.millis(value * 1000))
    case "m":
      return Option.some(Duration.minutes(value))
    default:
      return Option.some(Duration.hours(value))
  }
}
