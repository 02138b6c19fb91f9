import { assert, describe, it } from "@effect/vitest"
import { type Config, ConfigProvider, Duration, Effect, LogLevel, Option } from "effect"
import { FeedClientConfig } from "../src/Clients/FeedClientOptions.js"
import { DatabaseConfig, ProcessorConfig } from "../src/Config.js"
import * as HttpConfig from "../src/Http/HttpConfig.js"
import { ImportConfig } from "../src/Import/ImportConfig.js"
import { SiteConfigFromEnv } from "../src/Site/SiteConfig.js"
import { HeavyPostsConfig } from "../src/Workers/HeavyPosts.js"
import { RenderPoolConfig } from "../src/Workers/RenderPool.js"

const read = <A>(config: Config.Config<A>, env: Record<string, string>) =>
  Effect.withConfigProvider(config, ConfigProvider.fromMap(new Map(Object.entries(env))))

// Every variable whose value is range-checked, with a value out of range and what the error says.
const outOfRange: ReadonlyArray<readonly [Config.Config<unknown>, string, string, string]> = [
  [HttpConfig.ServerConfig, "PORT", "70000", "between 0 and 65535"],
  [HttpConfig.ServerConfig, "HOST", "not a host", "IP address or a host name"],
  [HttpConfig.ServerConfig, "HOST", "999.1.1.1", "IP address or a host name"],
  [HttpConfig.ServerConfig, "HOST", "-bad.example", "IP address or a host name"],
  [HttpConfig.MiddlewareConfig, "MAX_BODY_SIZE", "0", "positive number of bytes"],
  [HttpConfig.MiddlewareConfig, "RETRY_AFTER", "-1", `out of range: must be an integer of 0 or more (got "-1")`],
  [HttpConfig.ResponseCacheConfig, "RESPONSE_CACHE_SIZE", "-1", `out of range: must be an integer of 0 or more (got "-1")`],
  [HttpConfig.ResponseCacheConfig, "RESPONSE_CACHE_MAX_BYTES", "0", "positive number of bytes"],
  [DatabaseConfig, "DATABASE_URL", "mysql://db", "sqlite:<path>"],
  [DatabaseConfig, "DB_MAX_CONNECTIONS", "0", `out of range: must be an integer between 1 and 1000 (got "0")`],
  [ProcessorConfig, "WORDS_PER_MINUTE", "0", "out of range: must be an integer of 1 or more"],
  [ProcessorConfig, "EXCERPT_LENGTH", "-5", "out of range: must be an integer of 1 or more"],
  [SiteConfigFromEnv, "SITE_PAGE_SIZE", "101", "between 1 and 100"],
  [SiteConfigFromEnv, "SITE_CACHE_MAX_AGE", "-1", "out of range: must be an integer of 0 or more"],
  [SiteConfigFromEnv, "SITE_LANGUAGE", "not a tag", "language tag"],
  [SiteConfigFromEnv, "SITE_URL", "ftp://example.com", "absolute http(s) URL"],
  [ImportConfig, "IMPORT_CONCURRENCY", "0", "between 1 and 1024"],
  [ImportConfig, "IMPORT_TIMEOUT", "0 seconds", "positive duration"],
  [ImportConfig, "IMPORT_ITEM_TIMEOUT", "0 millis", "positive duration"],
  [FeedClientConfig, "FEED_HOST_CONCURRENCY", "0", "out of range: must be an integer of 1 or more"],
  // Node refuses such a header when the request is made: every remote import failed as a defect.
  [FeedClientConfig, "FEED_USER_AGENT", "Inkwell\r\nX-Injected: 1", "printable ASCII"],
  [FeedClientConfig, "FEED_USER_AGENT", "Inkwell\u0000", "printable ASCII"],
  [FeedClientConfig, "FEED_USER_AGENT", "Inkwell ✒", "printable ASCII"],
  [FeedClientConfig, "FEED_USER_AGENT", "", "printable ASCII"],
  // Node fires a timer of more than 2^31-1 ms (24.8 days) after 1 ms: every slow request was a 503.
  [HttpConfig.MiddlewareConfig, "REQUEST_TIMEOUT", "30 days", "from above 0 to 24 days"],
  [HttpConfig.MiddlewareConfig, "REQUEST_TIMEOUT", "0 seconds", "from above 0 to 24 days"],
  [HttpConfig.ServerConfig, "SHUTDOWN_GRACE", "25 days", "from 0 seconds to 24 days"],
  [DatabaseConfig, "DB_ACQUIRE_TIMEOUT", "30 days", "from above 0 to 24 days"],
  [DatabaseConfig, "DB_ACQUIRE_TIMEOUT", "0 millis", "from above 0 to 24 days"],
  [DatabaseConfig, "DB_STATEMENT_TIMEOUT", "30 days", "from above 0 to 24 days"],
  [FeedClientConfig, "FEED_TIMEOUT", "30 days", "from above 0 to 24 days"],
  [FeedClientConfig, "FEED_DEADLINE", "0 seconds", "from above 0 to 24 days"],
  [FeedClientConfig, "FEED_SOURCE_DEADLINE", "0 seconds", "from above 0 to 24 days"],
  [FeedClientConfig, "FEED_BACKOFF_BASE", "4 weeks", "from 0 seconds to 24 days"],
  [FeedClientConfig, "FEED_BACKOFF_CAP", "25 days", "from 0 seconds to 24 days"],
  // Effect's Config.duration takes a negative for zero: a TTL of -5 seconds turned the cache off.
  [HttpConfig.ServerConfig, "SHUTDOWN_GRACE", "-5 seconds", "from 0 seconds to 24 days"],
  [DatabaseConfig, "DB_ACQUIRE_TIMEOUT", "-5 seconds", "from above 0 to 24 days"],
  [FeedClientConfig, "FEED_BACKOFF_BASE", "-1 millis", "from 0 seconds to 24 days"],
  [HttpConfig.ResponseCacheConfig, "RESPONSE_CACHE_TTL", "-5 seconds", "from above 0 to 24 days"],
  [HttpConfig.ResponseCacheConfig, "RESPONSE_CACHE_TTL", "0 seconds", "from above 0 to 24 days"],
  [HttpConfig.ResponseCacheConfig, "RESPONSE_CACHE_TTL", "1000 weeks", "from above 0 to 24 days"],
  [RenderPoolConfig, "RENDER_WORKERS", "300", "between 0 and 256"],
  [RenderPoolConfig, "RENDER_WORKER_HEAP_MB", "8", "between 16 and 65536"],
  [RenderPoolConfig, "RENDER_WORKER_INITIAL_HEAP_MB", "-1", "between 0 and 65536"],
  [RenderPoolConfig, "RENDER_WORKER_START_TIMEOUT", "0 seconds", "from above 0 to 24 days"],
  [RenderPoolConfig, "RENDER_WORKER_START_TIMEOUT", "-5 seconds", "from above 0 to 24 days"],
  [RenderPoolConfig, "RENDER_WORKER_START_TIMEOUT", "soon", "from above 0 to 24 days"],
  [HeavyPostsConfig, "IMPORT_RENDER_HEAP_MB", "8", "between 16 and 65536"],
  [HeavyPostsConfig, "RENDER_WORKER_START_TIMEOUT", "0 seconds", "from above 0 to 24 days"]
]

describe("configuration errors", () => {
  for (const [config, name, value, expected] of outOfRange) {
    it.effect(`${name}=${value} is rejected, naming ${name}`, () =>
      Effect.gen(function* () {
        const error = String(yield* Effect.flip(read(config, { [name]: value })))
        assert.include(error, name)
        assert.include(error, expected)
      }))
  }

  it.effect("a timer's duration may be 24 days; a grace or a backoff may be none", () =>
    Effect.gen(function* () {
      const middleware = yield* read(HttpConfig.MiddlewareConfig, { REQUEST_TIMEOUT: "24 days" })
      assert.strictEqual(Duration.toMillis(middleware.requestTimeout), 24 * 24 * 60 * 60 * 1000)
      const server = yield* read(HttpConfig.ServerConfig, { SHUTDOWN_GRACE: "0 seconds" })
      assert.isTrue(Duration.isZero(server.shutdownGrace))
      const feeds = yield* read(FeedClientConfig, { FEED_BACKOFF_BASE: "0 millis", FEED_TIMEOUT: "24 days" })
      assert.isTrue(Duration.isZero(feeds.backoffBase))
    }))

  it.effect("an unset variable still takes its default", () =>
    Effect.gen(function* () {
      const server = yield* read(HttpConfig.ServerConfig, {})
      assert.strictEqual(server.port, 3000)
      const pool = yield* read(RenderPoolConfig, { RENDER_WORKERS: "2" })
      assert.strictEqual(pool.size, 2)
      assert.strictEqual(pool.workerInitialHeapMb, 64)
      assert.strictEqual(Duration.toMillis(pool.startTimeout), 20_000)
      assert.strictEqual(Duration.toMillis((yield* read(RenderPoolConfig, { RENDER_WORKER_START_TIMEOUT: "45 seconds" })).startTimeout), 45_000)
      // `inkwell import`'s thread for a heavy post reads it too.
      assert.strictEqual(Duration.toMillis((yield* read(HeavyPostsConfig, {})).startTimeout), 20_000)
      assert.strictEqual(Duration.toMillis((yield* read(HeavyPostsConfig, { RENDER_WORKER_START_TIMEOUT: "45 seconds" })).startTimeout), 45_000)
    }))

  it.effect("every byte-size variable takes a plain number of bytes or a size with a unit (B, KB, MB, GB, KiB, MiB, GiB)", () =>
    Effect.gen(function* () {
      const sizes: ReadonlyArray<readonly [Config.Config<any>, string, (value: any) => number]> = [
        [HttpConfig.MiddlewareConfig, "MAX_BODY_SIZE", (c) => c.maxBodySize],
        [HttpConfig.ResponseCacheConfig, "RESPONSE_CACHE_MAX_BYTES", (c) => c.maxBytes],
        [HttpConfig.CompressionConfig, "HTTP_COMPRESSION_MAX_BYTES", (c) => c.maxBytes],
        [FeedClientConfig, "FEED_MAX_BYTES", (c) => c.maxBytes],
        [ImportConfig, "IMPORT_CHUNK_SIZE", (c) => c.chunkSize],
        [ImportConfig, "IMPORT_MAX_POST_BYTES", (c) => c.maxPostBytes]
      ]
      const accepted: ReadonlyArray<readonly [string, number]> = [
        ["65536", 65536],
        ["20 MiB", 20 * 1024 * 1024],
        ["20MiB", 20 * 1024 * 1024],
        ["20 mib", 20 * 1024 * 1024],
        ["512 KiB", 512 * 1024],
        ["0.0625 GiB", 64 * 1024 * 1024],
        ["64 KB", 64_000],
        ["1.1 KB", 1100],
        ["2 mb", 2_000_000],
        ["0.05 GB", 50_000_000],
        ["1.5 KiB", 1536],
        ["4096 B", 4096]
      ]
      for (const [config, name, get] of sizes) {
        for (const [text, bytes] of accepted) {
          assert.strictEqual(get(yield* read(config, { [name]: text })), bytes, `${name}=${text}`)
        }
        for (const text of ["20 furlongs", "MiB", "1.5", "-1", "0.5 B", "20 MiB extra"]) {
          const error = String(yield* Effect.flip(read(config, { [name]: text })))
          assert.include(error, name, `${name}=${text}`)
        }
        // Said as what is wrong with it (was: "must be a number of bytes" for each).
        for (const [text, why] of [["99999999999999999999", "out of range: must be at most"], ["0.5 B", "must be a whole number of bytes"]] as const) {
          const error = String(yield* Effect.flip(read(config, { [name]: text })))
          assert.include(error, why, `${name}=${text}`)
          assert.notInclude(error, "must be a number of bytes", `${name}=${text}`)
        }
      }
    }))

  it.effect("every integer variable takes decimal digits only: an empty, blank, hex, exponent, signed or fractional value is refused", () =>
    Effect.gen(function* () {
      // Effect's Config.integer reads with Number(text): PORT= served on a random port, PORT=0x50 on 80.
      const integers: ReadonlyArray<readonly [Config.Config<any>, string, (value: any) => number]> = [
        [HttpConfig.ServerConfig, "PORT", (c) => c.port],
        [HttpConfig.MiddlewareConfig, "RETRY_AFTER", (c) => c.retryAfterSeconds],
        [HttpConfig.ResponseCacheConfig, "RESPONSE_CACHE_SIZE", (c) => c.maxEntries],
        [DatabaseConfig, "DB_MAX_CONNECTIONS", (c) => c.maxConnections],
        [ProcessorConfig, "WORDS_PER_MINUTE", (c) => c.wordsPerMinute],
        [ProcessorConfig, "EXCERPT_LENGTH", (c) => c.excerptLength],
        [SiteConfigFromEnv, "SITE_PAGE_SIZE", (c) => c.pageSize],
        [SiteConfigFromEnv, "SITE_CACHE_MAX_AGE", (c) => c.maxAgeSeconds],
        [ImportConfig, "IMPORT_CONCURRENCY", (c) => c.concurrency],
        [ImportConfig, "IMPORT_RECORD_BATCH", (c) => c.recordBatch],
        [ImportConfig, "IMPORT_BATCH_SIZE", (c) => c.batchSize],
        [ImportConfig, "IMPORT_BUFFER", (c) => c.buffer],
        [FeedClientConfig, "FEED_RETRIES", (c) => c.retries],
        [FeedClientConfig, "FEED_HOST_CONCURRENCY", (c) => c.hostConcurrency],
        [FeedClientConfig, "FEED_MAX_REDIRECTS", (c) => c.maxRedirects],
        [HeavyPostsConfig, "IMPORT_RENDER_HEAP_MB", (c) => c.heapMb],
        [RenderPoolConfig, "RENDER_WORKERS", (c) => c.size],
        [RenderPoolConfig, "RENDER_INLINE_BELOW", (c) => c.inlineBelowBytes],
        [RenderPoolConfig, "RENDER_BATCH", (c) => c.maxBatch],
        [RenderPoolConfig, "RENDER_WORKER_HEAP_MB", (c) => c.workerHeapMb],
        [RenderPoolConfig, "RENDER_WORKER_INITIAL_HEAP_MB", (c) => c.workerInitialHeapMb]
      ]
      for (const [config, name, get] of integers) {
        assert.strictEqual(get(yield* read(config, { [name]: "16" })), 16, name)
        assert.strictEqual(get(yield* read(config, { [name]: "0016" })), 16, name)
        for (const text of ["", " ", "0x10", "1e1", "+16", " 16", "16 ", "16.0", "16.5", "sixteen"]) {
          const error = String(yield* Effect.flip(read(config, { [name]: text })))
          assert.include(error, name, `${name}=${JSON.stringify(text)}`)
          assert.include(error, "decimal digits", `${name}=${JSON.stringify(text)}`)
        }
      }
      assert.isTrue(Object.is((yield* read(HttpConfig.ServerConfig, { PORT: "-0" })).port, 0), "-0 is 0")
    }))

  it.effect("an integer in decimal digits too large for any (99999999999999999999) is said out of range, with the setting's range (was: 'must be an integer in decimal digits')", () =>
    Effect.gen(function* () {
      const unbounded = (min: number) => `between ${min} and ${Number.MAX_SAFE_INTEGER}`
      const integers: ReadonlyArray<readonly [Config.Config<unknown>, string, string]> = [
        [HttpConfig.ServerConfig, "PORT", "between 0 and 65535"],
        [HttpConfig.MiddlewareConfig, "RETRY_AFTER", unbounded(0)],
        [HttpConfig.ResponseCacheConfig, "RESPONSE_CACHE_SIZE", unbounded(0)],
        [DatabaseConfig, "DB_MAX_CONNECTIONS", "between 1 and 1000"],
        [ProcessorConfig, "WORDS_PER_MINUTE", unbounded(1)],
        [ProcessorConfig, "EXCERPT_LENGTH", unbounded(1)],
        [SiteConfigFromEnv, "SITE_PAGE_SIZE", "between 1 and 100"],
        [SiteConfigFromEnv, "SITE_CACHE_MAX_AGE", unbounded(0)],
        [ImportConfig, "IMPORT_CONCURRENCY", "between 1 and 1024"],
        [ImportConfig, "IMPORT_RECORD_BATCH", "between 1 and 4096"],
        [ImportConfig, "IMPORT_BATCH_SIZE", "between 1 and 100000"],
        [ImportConfig, "IMPORT_BUFFER", "between 1 and 1000000"],
        [FeedClientConfig, "FEED_RETRIES", unbounded(0)],
        [FeedClientConfig, "FEED_HOST_CONCURRENCY", unbounded(1)],
        [FeedClientConfig, "FEED_MAX_REDIRECTS", unbounded(0)],
        [HeavyPostsConfig, "IMPORT_RENDER_HEAP_MB", "between 16 and 65536"],
        [RenderPoolConfig, "RENDER_WORKERS", "between 0 and 256"],
        [RenderPoolConfig, "RENDER_INLINE_BELOW", unbounded(0)],
        [RenderPoolConfig, "RENDER_BATCH", "between 1 and 1024"],
        [RenderPoolConfig, "RENDER_WORKER_HEAP_MB", "between 16 and 65536"],
        [RenderPoolConfig, "RENDER_WORKER_INITIAL_HEAP_MB", "between 0 and 65536"]
      ]
      for (const [config, name, range] of integers) {
        const error = String(yield* Effect.flip(read(config, { [name]: "99999999999999999999" })))
        assert.include(error, name)
        assert.include(error, `out of range: must be an integer ${range} (got "99999999999999999999")`, name)
        assert.notInclude(error, "decimal digits", name)
      }
      // A value not in decimal digits is told an example the setting takes.
      const heap = String(yield* Effect.flip(read(HeavyPostsConfig, { IMPORT_RENDER_HEAP_MB: "lots" })))
      assert.include(heap, `must be an integer in decimal digits, such as 16 (got "lots")`)
    }))

  it.effect("LOG_LEVEL takes every level the --log-level flag takes (warning, none too), in any case", () =>
    Effect.gen(function* () {
      const levels: ReadonlyArray<readonly [string, LogLevel.LogLevel]> = [
        ["all", LogLevel.All],
        ["trace", LogLevel.Trace],
        ["debug", LogLevel.Debug],
        ["Info", LogLevel.Info],
        ["warn", LogLevel.Warning],
        ["warning", LogLevel.Warning],
        ["Warning", LogLevel.Warning],
        ["error", LogLevel.Error],
        ["FATAL", LogLevel.Fatal],
        ["none", LogLevel.None],
        ["off", LogLevel.None]
      ]
      for (const [text, level] of levels) {
        assert.deepStrictEqual(yield* read(HttpConfig.logLevel, { LOG_LEVEL: text }), Option.some(level), text)
      }
      assert.deepStrictEqual(yield* read(HttpConfig.logLevel, {}), Option.none())
      const error = String(yield* Effect.flip(read(HttpConfig.logLevel, { LOG_LEVEL: "verbose" })))
      assert.include(error, "LOG_LEVEL")
      assert.include(error, "warning")
    }))

  it.effect("FEED_USER_AGENT takes any printable ASCII", () =>
    Effect.gen(function* () {
      for (const agent of ["Inkwell/0.1 (feed import)", "Mozilla/5.0 (compatible; MyBlog/2.1; +https://example.com/bot)", "x"]) {
        assert.strictEqual((yield* read(FeedClientConfig, { FEED_USER_AGENT: agent })).userAgent, agent)
      }
    }))

  it.effect("HOST takes IPv4 and IPv6 addresses and host names", () =>
    Effect.gen(function* () {
      for (const host of ["0.0.0.0", "127.0.0.1", "::", "::1", "fe80::1", "localhost", "db-1.internal", "example.com.", "a1", "my_app", "web_1.proxy_net"]) {
        assert.strictEqual((yield* read(HttpConfig.ServerConfig, { HOST: host })).host, host)
      }
    }))
})
