/**
 * Log output that costs little per line: the production formats (logfmt, json) are formatted
 * as usual but appended to a buffer that is written with ONE `process.stdout.write` per turn of
 * the event loop (or as soon as it holds `maxBufferBytes`), and flushed when the layer closes
 * and when the process exits.
 *
 * Why: the stock loggers call `console.log` per entry, a synchronous write (file, terminal) or a
 * stream write (pipe) per request; measured on the read path that is ~0.2 ms of a ~0.4 ms request.
 * One line per request is kept; only the syscalls are batched. `pretty` stays unbuffered: it is
 * for a person at a terminal.
 */
import { Effect, HashSet, Layer, Logger, Option } from "effect"
import * as HttpConfig from "./HttpConfig.js"

export interface LineSink {
  readonly write: (chunk: string) => unknown
}

export interface BufferedWriterOptions {
  /** Written at once when the buffer reaches this many characters (default 64 KiB). */
  readonly maxBufferBytes?: number
}

/**
 * Lines in, few writes out. `flush` writes whatever is buffered now; scheduled flushes run on
 * `setImmediate`, after the I/O of the current turn, so a burst of requests shares one write.
 */
export class BufferedWriter {
  private lines: Array<string> = []
  private size = 0
  private scheduled = false
  private readonly max: number

  constructor(
    private readonly sink: LineSink,
    options: BufferedWriterOptions = {}
  ) {
    this.max = options.maxBufferBytes ?? 64 * 1024
  }

  readonly line = (text: string): void => {
    this.lines.push(text)
    this.size += text.length + 1
    if (this.size >= this.max) {
      this.flush()
    } else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.flushScheduled)
    }
  }

  private readonly flushScheduled = () => {
    this.scheduled = false
    this.flush()
  }

  readonly flush = (): void => {
    if (this.lines.length === 0) return
    const chunk = this.lines.join("\n") + "\n"
    this.lines = []
    this.size = 0
    this.sink.write(chunk)
  }

  get pending(): number {
    return this.lines.length
  }
}

/** The formats a buffered logger can print; `requestLine` writes the same two. */
export type LineFormat = "logfmt" | "json"

/** Where a buffered logger keeps its writer, so request lines can skip the generic logger. */
const DirectSink = Symbol.for("inkwell/Http/Logging/DirectSink")

interface DirectSinkInfo {
  readonly format: LineFormat
  readonly writer: BufferedWriter
}

/**
 * A logger printing `format`'s lines through `writer`. With `kind` (which `format` is), the
 * request logger may write its one line per request straight to `writer` (`directRequestLog`).
 */
export const bufferedLogger = (
  format: Logger.Logger<unknown, string>,
  writer: BufferedWriter,
  kind?: LineFormat
): Logger.Logger<unknown, void> => {
  const logger = Logger.make((options) => writer.line(format.log(options)))
  return kind === undefined ? logger : Object.assign(logger, { [DirectSink]: { format: kind, writer } satisfies DirectSinkInfo })
}

/** The fields of a request's log line (message `METHOD path status`). */
export interface RequestLineFields {
  readonly level: "INFO" | "WARN" | "ERROR"
  /** As Effect prints a fiber id (`#12`); empty outside a fiber. */
  readonly fiber: string
  readonly method: string
  readonly path: string
  readonly status: number
  readonly durationMs: number
  readonly requestId: string
}

export type RequestLog = (fields: RequestLineFields) => void

// `Date#toISOString` costs ~1 µs. Under load many lines share a millisecond, and all of a
// second's lines share everything up to the milliseconds: only those are formatted per line.
let isoMillis = -1
let isoText = ""
let isoSecond = NaN
let isoPrefix = ""
const isoNow = (): string => {
  const now = Date.now()
  if (now === isoMillis) return isoText
  const millis = now % 1000
  const second = now - millis
  if (second !== isoSecond) {
    isoSecond = second
    // Everything before "sssZ" (always the last four characters, whatever the year's width).
    isoPrefix = new Date(second).toISOString().slice(0, -4)
  }
  isoMillis = now
  isoText = `${isoPrefix}${millis < 10 ? "00" : millis < 100 ? "0" : ""}${millis}Z`
  return isoText
}

/** As Effect's logfmt logger: bare when the value has no whitespace, `"` or `=`, else JSON-quoted. */
const TEXT_ONLY = /^[^\s"=]*$/
const logfmtValue = (value: string): string => (TEXT_ONLY.test(value) ? value : JSON.stringify(value))

/**
 * A path that logfmt prints bare and JSON.stringify copies as it is (no whitespace, `"`, `=`,
 * `\`, control character or lone surrogate): inside the quoted message it needs no escaping.
 */
const PLAIN_PATH = /^[^\s"=\\\u0000-\u001f\ud800-\udfff]*$/
/** Methods (HTTP tokens: nothing to quote or escape) whose text is used as it is. */
const PLAIN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])

/** `String(hundredths / 100)` for a non-negative integer `hundredths` below 2^31, from integers only. */
const hundredthsText = (hundredths: number): string => {
  const whole = (hundredths / 100) | 0
  const rest = hundredths - whole * 100
  if (rest === 0) return `${whole}`
  if (rest % 10 === 0) return `${whole}.${rest / 10}`
  return rest < 10 ? `${whole}.0${rest}` : `${whole}.${rest}`
}

/**
 * `durationMs` as `String` prints it. V8's float-to-text conversion was a measurable share of a
 * line, and `elapsedMs` always gives at most two decimals: only other values take it.
 */
const durationText = (ms: number): string => {
  const hundredths = Math.round(ms * 100)
  return hundredths >= 0 && hundredths < 2 ** 31 && hundredths / 100 === ms ? hundredthsText(hundredths) : `${ms}`
}

/**
 * The line Effect's `logfmtLogger` / `jsonLogger` print for `Effect.logInfo(message)` annotated
 * with method, path, status, durationMs and requestId (annotations in that order).
 */
export const requestLine = (format: LineFormat, fields: RequestLineFields): string => {
  const message = `${fields.method} ${fields.path} ${fields.status}`
  if (format === "json") {
    return JSON.stringify({
      message,
      logLevel: fields.level,
      timestamp: isoNow(),
      annotations: {
        method: fields.method,
        path: fields.path,
        status: fields.status,
        durationMs: fields.durationMs,
        requestId: fields.requestId
      },
      spans: {},
      fiberId: fields.fiber
    })
  }
  // The common line (a plain path, a known method) without JSON.stringify or a quoting test per field.
  if (PLAIN_METHODS.has(fields.method) && PLAIN_PATH.test(fields.path)) {
    return `timestamp=${isoNow()} level=${fields.level} fiber=${fields.fiber} message="${message}" method=${fields.method} path=${fields.path} status=${fields.status} durationMs=${durationText(fields.durationMs)} requestId=${logfmtValue(fields.requestId)}`
  }
  return `timestamp=${isoNow()} level=${fields.level} fiber=${fields.fiber} message=${JSON.stringify(message)} method=${logfmtValue(fields.method)} path=${logfmtValue(fields.path)} status=${fields.status} durationMs=${fields.durationMs} requestId=${logfmtValue(fields.requestId)}`
}

/**
 * A direct writer of request lines when `loggers` (a fiber's `currentLoggers`) is one buffered
 * logger (plus Effect's tracer logger, which only records into a current span): the line is
 * formatted by `requestLine` and appended to the buffer, skipping the generic logger (a HashMap
 * of annotations, the log-level and annotation fiber refs, generic value formatting), which
 * costs a measurable share of a cached read. `undefined` otherwise: the caller logs as usual.
 */
export const directRequestLog = (loggers: HashSet.HashSet<Logger.Logger<unknown, unknown>>): RequestLog | undefined => {
  let sink: DirectSinkInfo | undefined
  for (const logger of loggers) {
    if (logger === Logger.tracerLogger) continue
    const info = (logger as { readonly [DirectSink]?: DirectSinkInfo })[DirectSink]
    if (info === undefined || sink !== undefined) return undefined
    sink = info
  }
  if (sink === undefined || HashSet.size(loggers) > 2) return undefined
  const { format, writer } = sink
  return (fields) => writer.line(requestLine(format, fields))
}

/**
 * Replaces the default logger with a buffered one writing to `sink` (stdout by default).
 * Flushes when the layer's scope closes and, as a last resort, on process exit.
 */
export const layerBuffered = (
  format: "logfmt" | "json",
  options: BufferedWriterOptions & { readonly sink?: LineSink } = {}
): Layer.Layer<never> =>
  Layer.unwrapScoped(
    Effect.gen(function* () {
      const sink = options.sink ?? process.stdout
      const writer = new BufferedWriter(sink, options)
      const onExit = () => writer.flush()
      yield* Effect.acquireRelease(
        Effect.sync(() => process.on("exit", onExit)),
        () => Effect.sync(() => {
          writer.flush()
          process.off("exit", onExit)
        })
      )
      return Logger.replace(
        Logger.defaultLogger,
        bufferedLogger(format === "json" ? Logger.jsonLogger : Logger.logfmtLogger, writer, format)
      )
    })
  )

/**
 * LOG_FORMAT and LOG_LEVEL, as `App.LoggerLive` reads them, with the production formats
 * buffered: `json` and `logfmt` one line per entry, batched; `pretty` as before.
 */
export const layerConfig = Layer.unwrapEffect(
  Effect.gen(function* () {
    const format = yield* HttpConfig.logFormat
    const level = yield* HttpConfig.logLevel
    const logger = format === "pretty" ? Logger.pretty : layerBuffered(format)
    return Option.match(level, {
      onNone: () => logger,
      onSome: (level) => Layer.merge(logger, Logger.minimumLogLevel(level))
    })
  })
)

/** Milliseconds since `started` (a `performance.now()`), to two decimals: the `durationMs` field. */
export const elapsedMs = (started: number): number => Math.round((performance.now() - started) * 100) / 100
