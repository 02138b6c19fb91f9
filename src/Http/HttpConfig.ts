/**
 * The HTTP server's environment variables, with their defaults. Read inside layers so an
 * embedding app can supply its own ConfigProvider.
 */
import { Config, ConfigError, Duration, Either, LogLevel, Option, Redacted } from "effect"
import { isIP } from "node:net"
import { byteSize, integer, timerDuration } from "../Config.js"

/** `PORT` (default 3000; 0 picks a free port). */
export const port = integer("PORT", { min: 0, max: 65535 }).pipe(
  Config.withDefault(3000)
)

/**
 * An IP address, or a host name as RFC 1123 spells one (labels of letters, digits and hyphens,
 * neither first nor last a hyphen), underscores allowed too: Docker Compose names services and
 * containers with them (`my_app`), and resolvers answer for such names. A name of digits only is a mistyped address (999.1.1.1),
 * not a name. Checked here so a typo stops the start before a database is opened, where
 * listening would only fail after the migrations.
 */
export const isHost = (text: string): boolean => {
  if (isIP(text) !== 0) return true
  const name = text.endsWith(".") ? text.slice(0, -1) : text
  if (name.length === 0 || name.length > 253) return false
  const labels = name.split(".")
  return labels.every((label) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i.test(label)) &&
    !labels.every((label) => /^\d+$/.test(label))
}

/** `HOST` (default 127.0.0.1: only this machine; set 0.0.0.0 to listen on every interface). */
export const host = Config.string("HOST").pipe(
  Config.validate({ message: "must be an IP address or a host name (letters, digits, hyphens, underscores and dots)", validation: isHost }),
  Config.withDefault("127.0.0.1")
)

/**
 * `INKWELL_API_KEYS`: comma-separated keys allowed to write. Kept redacted from the moment it
 * is read, so a key can never be printed by accident. Empty or unset means every write is refused.
 */
export const apiKeys: Config.Config<ReadonlyArray<Redacted.Redacted>> = Config.redacted("INKWELL_API_KEYS").pipe(
  Config.option,
  Config.map(
    Option.match({
      onNone: () => [],
      onSome: (value) =>
        Redacted.value(value)
          .split(",")
          .map((key) => key.trim())
          .filter((key) => key.length > 0)
          .map((key) => Redacted.make(key))
    })
  )
)

/**
 * `REQUEST_TIMEOUT`: how long a handler may run before the request is answered 503 (default 30
 * seconds), and its body may take to arrive (then its connection is closed).
 */
export const requestTimeout = timerDuration("REQUEST_TIMEOUT").pipe(Config.withDefault(Duration.seconds(30)))

/** `MAX_BODY_SIZE`: largest accepted request body in bytes (default 1 MiB). */
export const maxBodySize = byteSize("MAX_BODY_SIZE").pipe(
  Config.validate({ message: "must be a positive number of bytes", validation: (n) => n > 0 }),
  Config.withDefault(1024 * 1024)
)

/** `RETRY_AFTER`: seconds a client is told to wait after a 503 (default 1). */
export const retryAfterSeconds = integer("RETRY_AFTER", { min: 0 }).pipe(
  Config.withDefault(1)
)

/** `SHUTDOWN_GRACE`: how long in-flight requests may finish after SIGTERM before their connections are cut (default 10 seconds). */
export const shutdownGrace = timerDuration("SHUTDOWN_GRACE", { zero: true }).pipe(Config.withDefault(Duration.seconds(10)))

export type LogFormat = "pretty" | "json" | "logfmt"

/** `LOG_FORMAT` as given, if it is: pretty | json | logfmt. */
export const logFormatGiven: Config.Config<Option.Option<LogFormat>> = Config.literal("pretty", "json", "logfmt")("LOG_FORMAT").pipe(
  Config.option
)

/** `LOG_FORMAT`: pretty | json | logfmt (default: pretty on a terminal, logfmt otherwise). */
export const logFormat: Config.Config<LogFormat> = logFormatGiven.pipe(
  // Decided when read, not at import: the same module serves a terminal and a log collector.
  Config.map(Option.getOrElse((): LogFormat => (process.stdout.isTTY ? "pretty" : "logfmt")))
)

/**
 * Every name `LOG_LEVEL` takes, in lower case: the `--log-level` flag's (@effect/cli's, from
 * the levels' tags: warning, none) and Effect's labels (warn, off), so a value that works as the
 * flag works in the environment too.
 */
const logLevelNames: ReadonlyMap<string, LogLevel.LogLevel> = new Map(
  LogLevel.allLevels.flatMap((level) => [[level._tag.toLowerCase(), level], [level.label.toLowerCase(), level]] as const)
)

/** `LOG_LEVEL`: minimum level logged, any case: all, trace, debug, info, warn(ing), error, fatal, none (or off); unset is info. */
export const logLevel: Config.Config<Option.Option<LogLevel.LogLevel>> = Config.nested(
  Config.string().pipe(
    Config.mapOrFail((text) => {
      const level = logLevelNames.get(text.trim().toLowerCase())
      return level === undefined
        ? Either.left(ConfigError.InvalidData(
          [],
          `must be one of all, trace, debug, info, warning (warn), error, fatal, none (off), got "${text}"`
        ))
        : Either.right(level)
    })
  ),
  "LOG_LEVEL"
).pipe(Config.option)

/** What the request middleware needs; see `Middleware.ts`. */
export const MiddlewareConfig = Config.all({
  requestTimeout,
  maxBodySize,
  retryAfterSeconds
})
export type MiddlewareConfig = Config.Config.Success<typeof MiddlewareConfig>

export const ServerConfig = Config.all({ port, host, shutdownGrace })
export type ServerConfig = Config.Config.Success<typeof ServerConfig>

/** `RESPONSE_CACHE_SIZE`: public answers kept in memory, API reads and site pages (default 10000; 0 turns the cache off). */
export const responseCacheSize = integer("RESPONSE_CACHE_SIZE", { min: 0 }).pipe(
  Config.withDefault(10_000)
)

/** `RESPONSE_CACHE_MAX_BYTES`: bound on the cached bodies' total size (default 64 MiB). */
export const responseCacheMaxBytes = byteSize("RESPONSE_CACHE_MAX_BYTES").pipe(
  Config.validate({ message: "must be a positive number of bytes", validation: (n) => n > 0 }),
  Config.withDefault(64 * 1024 * 1024)
)

/**
 * `RESPONSE_CACHE_TTL`: the longest a cached answer is served without being re-read (default 60
 * seconds). Writes through this server, PostChanges notifications and (on SQLite) other
 * processes' commits drop entries at once; this only bounds what nothing announced. Above 0
 * (`RESPONSE_CACHE_SIZE=0` turns the cache off) and at most 24 days, as the timers' settings.
 */
export const responseCacheTtl = timerDuration("RESPONSE_CACHE_TTL").pipe(Config.withDefault(Duration.seconds(60)))

export const ResponseCacheConfig = Config.all({
  maxEntries: responseCacheSize,
  maxBytes: responseCacheMaxBytes,
  ttl: responseCacheTtl
})
export type ResponseCacheConfig = Config.Config.Success<typeof ResponseCacheConfig>

/** `HTTP_REQUEST_SPANS`: one tracing span per request (default false: nothing exports spans, and each costs). */
export const requestSpans = Config.boolean("HTTP_REQUEST_SPANS").pipe(Config.withDefault(false))

/**
 * `HTTP_COMPRESSION`: gzip / brotli bodies for clients that accept them (default true; false
 * when a proxy in front compresses).
 */
export const compression = Config.boolean("HTTP_COMPRESSION").pipe(Config.withDefault(true))

/** `HTTP_COMPRESSION_MAX_BYTES`: bound on the compressed bodies kept for reuse (default 32 MiB). */
export const compressionMaxBytes = byteSize("HTTP_COMPRESSION_MAX_BYTES").pipe(
  Config.validate({ message: "must be a positive number of bytes", validation: (n) => n > 0 }),
  Config.withDefault(32 * 1024 * 1024)
)

export const CompressionConfig = Config.all({ enabled: compression, maxBytes: compressionMaxBytes })
export type CompressionConfig = Config.Config.Success<typeof CompressionConfig>
