/**
 * Every environment variable Inkwell reads, with its default. Read inside layers (never at
 * module top level) so an embedding app can supply its own ConfigProvider.
 */
import { Config, ConfigError, Duration, Either, Option } from "effect"

const byteUnits: Record<string, number> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3
}

/**
 * A size in bytes as people write one: `1048576`, `512 KiB`, `20MiB`, `1.5 GB` (units B, KB, MB,
 * GB in powers of 1000, KiB, MiB, GiB in powers of 1024, any case). The README shows defaults
 * such as `20 MiB`, and a value copied from there must be taken. What comes out is a whole
 * number of bytes; the caller checks its range. Refused, why (the value is quoted after it).
 */
export const parseByteSize = (text: string): Either.Either<number, string> => {
  const match = /^(\d+)(?:\.(\d+))?\s*([a-z]+)?$/i.exec(text.trim())
  const unit = match === null ? undefined : match[3] === undefined ? 1 : byteUnits[match[3].toLowerCase()]
  if (match === null || unit === undefined) return Either.left("must be a number of bytes, such as 1048576, 512 KiB or 20 MiB")
  const [, whole, fraction = ""] = match
  // In integers, so "1.1 KB" is 1100 and not 1100.0000000000002; a fraction of a byte is refused.
  const scaled = BigInt(whole! + fraction) * BigInt(unit)
  const divisor = 10n ** BigInt(fraction.length)
  if (scaled % divisor !== 0n) return Either.left("must be a whole number of bytes")
  const bytes = Number(scaled / divisor)
  // Digits past what a number holds exactly were told they were no number of bytes.
  return Number.isSafeInteger(bytes) ? Either.right(bytes) : Either.left(`out of range: must be at most ${Number.MAX_SAFE_INTEGER} bytes`)
}

/**
 * The variable `name` read by `parse` (`undefined`: refused with `expected`, the value quoted).
 * Parsed inside the nesting: a `Config.validate` on the result then still names the variable in
 * its error (a check on a mapped Config is reported at the path it was mapped at).
 */
const parsed = <A>(name: string, parse: (text: string) => A | undefined, expected: string): Config.Config<A> =>
  parsedOrRefused(name, (text) => {
    const value = parse(text)
    return value === undefined ? Either.left(expected) : Either.right(value)
  })

/** As `parsed`, `parse` saying why it refuses a value (the value is quoted after it). */
const parsedOrRefused = <A>(name: string, parse: (text: string) => Either.Either<A, string>): Config.Config<A> =>
  Config.nested(
    Config.string().pipe(
      Config.mapOrFail((text) => Either.mapLeft(parse(text), (why) => ConfigError.InvalidData([], `${why} (got "${text}")`)))
    ),
    name
  )

/** The variable `name` as a byte size (`parseByteSize`): every `*_MAX_BYTES`-like setting reads through this one. */
export const byteSize = (name: string): Config.Config<number> =>
  parsedOrRefused(name, parseByteSize)

/** The integers a setting takes: `min` and above, up to `max` when there is one. */
export interface IntegerRange {
  readonly min: number
  readonly max?: number
}

/**
 * The variable `name` as an integer written in decimal digits, within `range` (without one, any
 * integer a number holds exactly). Effect's `Config.integer` reads with `Number(text)`: an empty
 * value was 0 (`PORT=` served on a random port, `FEED_RETRIES=` never retried), and `0x50`,
 * `1e3`, `+80` and ` 80` were numbers. Digits out of the range, however many, are said to be
 * out of it, with the range: `DB_MAX_CONNECTIONS=99999999999999999999` was told it "must be an
 * integer in decimal digits", which it is. Every integer setting reads through this one.
 */
export const integer = (name: string, range?: IntegerRange): Config.Config<number> => {
  const min = range?.min ?? -Number.MAX_SAFE_INTEGER
  const max = range?.max ?? Number.MAX_SAFE_INTEGER
  const example = Math.min(Math.max(8, min), max)
  return parsedOrRefused(name, (text) => {
    if (!/^-?\d+$/.test(text)) return Either.left(`must be an integer in decimal digits, such as ${example}`)
    // Compared whole: past 2^53 a number holds only a neighbour of the value written. "-0" is 0.
    const value = BigInt(text)
    if (value >= BigInt(min) && value <= BigInt(max)) return Either.right(Number(value))
    // A setting without a most: a value below its least is told the least alone.
    const within = range?.max === undefined && value < BigInt(min) ? `of ${min} or more` : `between ${min} and ${max}`
    return Either.left(`out of range: must be an integer ${within}`)
  })
}

/**
 * The longest delay a Node timer takes: `setTimeout` fires a longer one (2^31-1 ms, about 24.8
 * days) after 1 ms, with a TimeoutOverflowWarning, so a large REQUEST_TIMEOUT answered every
 * slow request 503 at once. Effect's clock runs such a delay never. A setting is held to whole
 * days below either.
 */
export const MAX_TIMER_DURATION = Duration.days(24)

/**
 * The variable `name` as a duration that becomes a timer, or bounds an age: Effect's format
 * (`500 millis`, `30 seconds`), at most `MAX_TIMER_DURATION`, and above zero unless `zero` means
 * something there (a grace of none). A negative one is refused, not taken for zero as
 * `Config.duration` takes it (a grace of `-5 seconds` was none). Every such setting reads
 * through this one.
 */
export const timerDuration = (name: string, options: { readonly zero?: boolean } = {}): Config.Config<Duration.Duration> =>
  parsed(
    name,
    (text) => {
      const duration = text.startsWith("-") ? Option.none() : Duration.decodeUnknown(text)
      return Option.isSome(duration) &&
          Duration.lessThanOrEqualTo(duration.value, MAX_TIMER_DURATION) &&
          (options.zero === true || Duration.greaterThan(duration.value, Duration.zero))
        ? duration.value
        : undefined
    },
    `must be a duration from ${options.zero === true ? "0 seconds" : "above 0"} to 24 days, such as 500 millis or 30 seconds`
  )

/** `DATABASE_URL`: `sqlite:<path>` (default `sqlite:./data/inkwell.db`), `sqlite::memory:`, or `postgres://...`. */
export const databaseUrl = Config.string("DATABASE_URL").pipe(
  Config.validate({
    message: "must be sqlite:<path>, sqlite::memory: or postgres://...",
    validation: (url) => /^sqlite:.+/.test(url) || /^postgres(ql)?:\/\//.test(url)
  }),
  Config.withDefault("sqlite:./data/inkwell.db")
)

/** `DB_MAX_CONNECTIONS`: operations allowed to run at once (default 8). */
export const dbMaxConnections = integer("DB_MAX_CONNECTIONS", { min: 1, max: 1000 }).pipe(
  Config.withDefault(8)
)

/** `DB_ACQUIRE_TIMEOUT`: how long a caller waits for a connection (default 5 seconds; "500 millis", "5 seconds"). */
export const dbAcquireTimeout = timerDuration("DB_ACQUIRE_TIMEOUT").pipe(
  Config.withDefault(Duration.seconds(5))
)

/**
 * `DB_STATEMENT_TIMEOUT`: how long one PostgreSQL statement may run (default 30 seconds, as
 * REQUEST_TIMEOUT's). The server stops a statement that runs longer; a connection that stays
 * silent a few seconds past it (a NAT or failover dropping its packets) is given up and closed.
 */
export const dbStatementTimeout = timerDuration("DB_STATEMENT_TIMEOUT").pipe(Config.withDefault(Duration.seconds(30)))

export const DatabaseConfig = Config.all({
  url: databaseUrl,
  maxConnections: dbMaxConnections,
  acquireTimeout: dbAcquireTimeout,
  statementTimeout: dbStatementTimeout
})
export type DatabaseConfig = Config.Config.Success<typeof DatabaseConfig>

/** `WORDS_PER_MINUTE`: reading speed for reading time (default 230). */
export const ProcessorConfig = Config.all({
  wordsPerMinute: integer("WORDS_PER_MINUTE", { min: 1 }).pipe(
    Config.withDefault(230)
  ),
  excerptLength: integer("EXCERPT_LENGTH", { min: 1 }).pipe(
    Config.withDefault(280)
  )
})
export type ProcessorConfig = Config.Config.Success<typeof ProcessorConfig>
