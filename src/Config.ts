/**
 * Every environment variable Inkwell reads, with its default. Read inside layers (never at
 * module top level) so an embedding app can supply its own ConfigProvider.
 */
import { Config, Duration } from "effect"

/** `DATABASE_URL`: `sqlite:<path>` (default `sqlite:./data/inkwell.db`), `sqlite::memory:`, or `postgres://...`. */
export const databaseUrl = Config.string("DATABASE_URL").pipe(
  Config.validate({
    message: "must be sqlite:<path>, sqlite::memory: or postgres://...",
    validation: (url) => /^sqlite:.+/.test(url) || /^postgres(ql)?:\/\//.test(url)
  }),
  Config.withDefault("sqlite:./data/inkwell.db")
)

/** `DB_MAX_CONNECTIONS`: operations allowed to run at once (default 8). */
export const dbMaxConnections = Config.integer("DB_MAX_CONNECTIONS").pipe(
  Config.validate({ message: "must be an integer between 1 and 1000", validation: (n) => n >= 1 && n <= 1000 }),
  Config.withDefault(8)
)

/** `DB_ACQUIRE_TIMEOUT`: how long a caller waits for a connection (default 5 seconds; "500 millis", "5 seconds"). */
export const dbAcquireTimeout = Config.duration("DB_ACQUIRE_TIMEOUT").pipe(
  Config.withDefault(Duration.seconds(5))
)

export const DatabaseConfig = Config.all({
  url: databaseUrl,
  maxConnections: dbMaxConnections,
  acquireTimeout: dbAcquireTimeout
})
export type DatabaseConfig = Config.Config.Success<typeof DatabaseConfig>

/** `WORDS_PER_MINUTE`: reading speed for reading time (default 230). */
export const ProcessorConfig = Config.all({
  wordsPerMinute: Config.integer("WORDS_PER_MINUTE").pipe(
    Config.validate({ message: "must be a positive integer", validation: (n) => n > 0 }),
    Config.withDefault(230)
  ),
  excerptLength: Config.integer("EXCERPT_LENGTH").pipe(
    Config.validate({ message: "must be a positive integer", validation: (n) => n > 0 }),
    Config.withDefault(280)
  )
})
export type ProcessorConfig = Config.Config.Success<typeof ProcessorConfig>
