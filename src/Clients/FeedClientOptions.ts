/**
 * Settings of the feed client: from code (a builder for embedders) or from the environment
 * (`FEED_*`, read inside the layer).
 *
 * The seed's `AsyncClientBuilder` had `timeout`, `retry_count` and `buffer_size`; they map onto
 * `timeout`, `retries` and `maxBytes` here.
 */
import { Config, Duration, Option } from "effect"
import { byteSize, integer, timerDuration } from "../Config.js"

export interface FeedClientSettings {
  /** Per attempt, redirects and body included. */
  readonly timeout: Duration.Duration
  /** Retries after the first attempt, for transient failures only. */
  readonly retries: number
  /** First backoff delay; doubles each retry, jittered (×0.8–1.2), never above `backoffCap`. */
  readonly backoffBase: Duration.Duration
  /**
   * Longest wait between attempts: a `Retry-After` asking for longer is not waited for, the
   * fetch fails at once saying what was asked.
   */
  readonly backoffCap: Duration.Duration
  /** All attempts and waits of one fetch together (a paged source has one per page, another Inkwell one per post). */
  readonly deadline: Duration.Duration
  /**
   * All the fetches of one source read by `fromUrl` together (the pages of a paged feed, the
   * posts of another Inkwell: FeedSource.ts), waits included; none by default. Another Inkwell
   * is fetched a request per post, so such a bound is a cap on how many posts a source may have:
   * with one by default, a source past it could never be imported whole, each run stopping where
   * the first did. `IMPORT_TIMEOUT` bounds a run.
   */
  readonly sourceDeadline?: Duration.Duration | undefined
  /** Largest body accepted, counted while it streams in. */
  readonly maxBytes: number
  readonly userAgent: string
  /** Requests in flight to one host at a time. */
  readonly hostConcurrency: number
  readonly maxRedirects: number
}

/** Settings as an embedder writes them: durations as `"5 seconds"`, millis or `Duration`. */
export type FeedClientInput = {
  readonly [K in keyof FeedClientSettings]?: NonNullable<FeedClientSettings[K]> extends Duration.Duration
    ? Duration.DurationInput | Extract<FeedClientSettings[K], undefined>
    : FeedClientSettings[K]
}

export const defaultSettings: FeedClientSettings = {
  timeout: Duration.seconds(10),
  retries: 3,
  backoffBase: Duration.millis(500),
  backoffCap: Duration.seconds(30),
  deadline: Duration.minutes(2),
  maxBytes: 20 * 1024 * 1024,
  userAgent: "Inkwell/0.1 (feed import)",
  hostConcurrency: 4,
  maxRedirects: 5
}

/**
 * An immutable builder: `FeedClientOptions.make().timeout("5 seconds").retries(2)`. Every
 * method returns a new value, so a shared base can be specialised safely.
 */
export class FeedClientOptions {
  private constructor(readonly settings: FeedClientSettings) {}

  /** The defaults, with `overrides` merged over them. */
  static make(overrides: FeedClientInput = {}): FeedClientOptions {
    const durations = (["timeout", "backoffBase", "backoffCap", "deadline", "sourceDeadline"] as const).flatMap((key) => {
      const value = overrides[key]
      return value === undefined ? [] : [[key, Duration.decode(value)] as const]
    })
    return new FeedClientOptions(validate({ ...defaultSettings, ...overrides, ...Object.fromEntries(durations) } as FeedClientSettings))
  }

  private with(patch: Partial<FeedClientSettings>): FeedClientOptions {
    return new FeedClientOptions(validate({ ...this.settings, ...patch }))
  }

  timeout(d: Duration.DurationInput) {
    return this.with({ timeout: Duration.decode(d) })
  }
  retries(n: number) {
    return this.with({ retries: n })
  }
  /** The seed's name for `retries`. */
  retryCount(n: number) {
    return this.retries(n)
  }
  backoff(base: Duration.DurationInput, cap?: Duration.DurationInput) {
    return this.with(cap === undefined ? { backoffBase: Duration.decode(base) } : { backoffBase: Duration.decode(base), backoffCap: Duration.decode(cap) })
  }
  deadline(d: Duration.DurationInput) {
    return this.with({ deadline: Duration.decode(d) })
  }
  sourceDeadline(d: Duration.DurationInput) {
    return this.with({ sourceDeadline: Duration.decode(d) })
  }
  maxBytes(n: number) {
    return this.with({ maxBytes: n })
  }
  /** The seed's name for `maxBytes`. */
  bufferSize(n: number) {
    return this.maxBytes(n)
  }
  userAgent(ua: string) {
    return this.with({ userAgent: ua })
  }
  hostConcurrency(n: number) {
    return this.with({ hostConcurrency: n })
  }
  maxRedirects(n: number) {
    return this.with({ maxRedirects: n })
  }
}

/** Throws on nonsense; only code (not the environment, validated by Config) reaches this. */
const validate = (s: FeedClientSettings): FeedClientSettings => {
  const positiveInt = (n: number, name: string, min: number) => {
    if (!Number.isInteger(n) || n < min) throw new RangeError(`FeedClientOptions.${name} must be an integer >= ${min}, got ${n}`)
  }
  positiveInt(s.retries, "retries", 0)
  positiveInt(s.maxBytes, "maxBytes", 1)
  positiveInt(s.hostConcurrency, "hostConcurrency", 1)
  positiveInt(s.maxRedirects, "maxRedirects", 0)
  return s
}

const intAtLeast = (name: string, fallback: number, min: number) =>
  integer(name, { min }).pipe(
    Config.withDefault(fallback)
  )

/**
 * `FEED_TIMEOUT` (10 seconds), `FEED_RETRIES` (3), `FEED_BACKOFF_BASE` (500 millis),
 * `FEED_BACKOFF_CAP` (30 seconds), `FEED_DEADLINE` (2 minutes), `FEED_SOURCE_DEADLINE` (none), `FEED_MAX_BYTES` (20 MiB),
 * `FEED_USER_AGENT`, `FEED_HOST_CONCURRENCY` (4), `FEED_MAX_REDIRECTS` (5).
 */
export const FeedClientConfig: Config.Config<FeedClientSettings> = Config.all({
  timeout: timerDuration("FEED_TIMEOUT").pipe(Config.withDefault(defaultSettings.timeout)),
  retries: intAtLeast("FEED_RETRIES", defaultSettings.retries, 0),
  backoffBase: timerDuration("FEED_BACKOFF_BASE", { zero: true }).pipe(Config.withDefault(defaultSettings.backoffBase)),
  backoffCap: timerDuration("FEED_BACKOFF_CAP", { zero: true }).pipe(Config.withDefault(defaultSettings.backoffCap)),
  deadline: timerDuration("FEED_DEADLINE").pipe(Config.withDefault(defaultSettings.deadline)),
  sourceDeadline: Config.option(timerDuration("FEED_SOURCE_DEADLINE")).pipe(Config.map(Option.getOrUndefined)),
  maxBytes: byteSize("FEED_MAX_BYTES").pipe(
    Config.validate({ message: "must be a positive number of bytes", validation: (n) => n >= 1 }),
    Config.withDefault(defaultSettings.maxBytes)
  ),
  // Checked here: Node refuses a header with a line break or a control character when the
  // request is made, and every remote import then failed as a defect.
  userAgent: Config.string("FEED_USER_AGENT").pipe(
    Config.validate({
      message: "must be printable ASCII (letters, digits, punctuation, spaces between), such as Inkwell/0.1 (feed import)",
      validation: (text) => /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(text)
    }),
    Config.withDefault(defaultSettings.userAgent)
  ),
  hostConcurrency: intAtLeast("FEED_HOST_CONCURRENCY", defaultSettings.hostConcurrency, 1),
  maxRedirects: intAtLeast("FEED_MAX_REDIRECTS", defaultSettings.maxRedirects, 0)
})

/**
 * `FEED_ALLOW_PRIVATE` (false): whether the server (`POST /posts/import-url`) may fetch from
 * loopback, private, link-local and similar addresses (Destination.ts). Only for a server whose
 * API keys are all trusted with its network, or for tests. The CLI fetches from anywhere
 * regardless: its operator already has the network.
 */
export const FeedAllowPrivateConfig: Config.Config<boolean> = Config.boolean("FEED_ALLOW_PRIVATE").pipe(Config.withDefault(false))
