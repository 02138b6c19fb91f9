/**
 * Log output that costs little per line: the production formats (logfmt, json) are formatted
 * as usual but appended to a buffer that is written with ONE write to standard output per turn of
 * the event loop (or as soon as it holds `maxBufferBytes`), and flushed when the layer closes
 * and when the process exits.
 *
 * Why: the stock loggers call `console.log` per entry, a synchronous write (file, terminal) or a
 * stream write (pipe) per request; measured on the read path that is ~0.2 ms of a ~0.4 ms request.
 * One line per request is kept; only the syscalls are batched. `pretty` (Effect's own text, for a
 * person at a terminal) goes through the same buffer: unbuffered, its `console.log` queued
 * without bound behind a reader that had stopped reading.
 *
 * Standard output that cannot be written (a full disk, a reader that went away or stopped
 * reading) does not stop the server and holds no more than `maxUnwrittenBytes` of log: the lines
 * it cannot take are dropped and counted, and stderr is told once when that starts, once when the
 * log is written again, and at the end how many were lost while it lasts. Node said nothing
 * (every write's failure let go: Cli/hangup.js), and queued without bound behind a reader that
 * had stopped reading.
 */
import { Console as NodeConsole } from "node:console"
import { fstatSync, writeSync } from "node:fs"
import { Writable } from "node:stream"
import { isatty } from "node:tty"
import { Console, Context, DefaultServices, Effect, FiberId, FiberRefs, HashSet, Layer, Logger, Option } from "effect"
import { wasTerminal } from "../Cli/hangup.js"
import * as HttpConfig from "./HttpConfig.js"

/**
 * Where the log's chunks go. `write` reports through `done` how the chunk went, at once (a file,
 * written synchronously) or once its reader took it (a pipe); a sink that never calls it back is
 * taken as writing everything.
 */
export interface LineSink {
  readonly write: (chunk: string, done: (error?: Error | null) => void) => unknown
  /** Characters handed over that the reader has not taken yet (a Node `Writable`'s). */
  readonly writableLength?: number
}

export interface BufferedWriterOptions {
  /** Written at once when the buffer reaches this many characters (default 64 KiB). */
  readonly maxBufferBytes?: number
  /**
   * Lines are dropped rather than handed to a sink whose reader has not taken this many
   * characters (default 8 MiB), until it has taken them all.
   */
  readonly maxUnwrittenBytes?: number
  /** Tells the operator that the log is being lost, and when it no longer is; unset: nobody to tell. */
  readonly notice?: ((line: string) => void) | undefined
}

const lineCount = (count: number) => (count === 1 ? "1 log line" : `${count} log lines`)

/** A failed write's error as a notice names it: a reader gone, or the system's own message (ENOSPC: ...). */
const describeWriteError = (error: Error & { readonly code?: unknown }): string =>
  error.code === "EPIPE"
    ? "EPIPE: its reader has gone"
    : typeof error.code === "string" && !error.message.includes(error.code)
    ? `${error.code}: ${error.message}`
    : error.message

/** Since when and why the log is not written: `since` numbers the first write issued after it began. */
interface Outage {
  readonly reason: string
  readonly since: number
  /** Dropped on a reader that is not keeping up (rather than a failed write): written again once it caught up. */
  readonly behind: boolean
  dropped: number
}

/**
 * Lines in, few writes out. `flush` writes whatever is buffered now; scheduled flushes run on
 * `setImmediate`, after the I/O of the current turn, so a burst of requests shares one write.
 * A chunk the sink fails to write is dropped, not kept: the next flush tries the next one, so the
 * log comes back by itself once the disk has room again.
 */
export class BufferedWriter {
  private lines: Array<string> = []
  private size = 0
  private scheduled = false
  private readonly max: number
  private readonly maxUnwritten: number
  private writes = 0
  private outage: Outage | undefined = undefined

  constructor(
    private readonly sink: LineSink,
    private readonly options: BufferedWriterOptions = {}
  ) {
    this.max = options.maxBufferBytes ?? 64 * 1024
    this.maxUnwritten = options.maxUnwrittenBytes ?? 8 * 1024 * 1024
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
    const count = this.lines.length
    if (count === 0) return
    const chunk = this.lines.join("\n") + "\n"
    this.lines = []
    this.size = 0
    const unwritten = this.sink.writableLength ?? 0
    // Once behind, not until the reader took all: one notice per stall, not one per chunk it lets through.
    if (unwritten > this.maxUnwritten || (unwritten > 0 && this.outage?.behind === true)) {
      this.dropped(count, `standard output's reader is not keeping up (${unwritten} characters of log unwritten)`, true)
      return
    }
    const write = ++this.writes
    this.sink.write(chunk, (error) => {
      if (error !== null && error !== undefined) {
        this.dropped(count, `writing standard output failed (${describeWriteError(error)})`, false)
      } else if (this.outage !== undefined && write >= this.outage.since) {
        this.options.notice?.(`inkwell: the log is written to standard output again (${lineCount(this.outage.dropped)} dropped)`)
        this.outage = undefined
      }
    })
  }

  private dropped(count: number, reason: string, behind: boolean): void {
    if (this.outage !== undefined) {
      this.outage.dropped += count
      return
    }
    this.outage = { reason, since: this.writes + 1, behind, dropped: count }
    this.options.notice?.(`inkwell: ${reason}: log lines are dropped until it can be written again`)
  }

  /**
   * Flushes, and says how many lines were lost if the log cannot be written now (the layer's end).
   * A pipe tells a write's failure after it: the lines of this last flush are in the count only
   * where that is a file's (written at once).
   */
  readonly close = (): void => {
    this.flush()
    if (this.outage === undefined) return
    this.options.notice?.(`inkwell: ${this.outage.reason}: ${lineCount(this.outage.dropped)} dropped`)
  }

  get pending(): number {
    return this.lines.length
  }

  /** Lines dropped since the log last could be written (0 while it is written). */
  get dropping(): number {
    return this.outage?.dropped ?? 0
  }
}

/**
 * A file descriptor opened on a file or a device, written with `writeSync` as Node's
 * `process.stdout` writes one, but with each write's failure known at once (ENOSPC, EFBIG, EIO)
 * and not fed to the stream's 'error' event. A write the disk took in part (it filled up
 * meanwhile; Node's stream lost the rest, gluing the next chunk to the torn line) is finished, or
 * leaves a torn line that the next write to land ends first, so that the lines after it are whole.
 * `write` is `fs.writeSync` but for a test's.
 */
export const descriptorSink = (
  fd: number,
  write: (fd: number, data: string | Uint8Array) => number = (fd, data) =>
    typeof data === "string" ? writeSync(fd, data) : writeSync(fd, data)
): LineSink => {
  let torn = false
  return {
    write: (chunk, done) => {
      const text = torn ? "\n" + chunk : chunk
      let written = 0
      try {
        // The text as it is (no Buffer made, as Node's stream writes it); bytes only for what is left.
        written = write(fd, text)
        if (written < Buffer.byteLength(text)) {
          const data = Buffer.from(text)
          while (written < data.length) written += write(fd, data.subarray(written))
        }
      } catch (error) {
        if (written > 0) torn = true
        return done(error as Error)
      }
      torn = false
      done()
    }
  }
}

/**
 * Standard output as the log's sink: a file or a device (`> file`, `> /dev/full`) written to
 * directly (`descriptorSink`); anything else (a pipe, a socket, a terminal) through
 * `process.stdout`, whose queue for a slow reader is what `maxUnwrittenBytes` bounds.
 */
export const standardOutput = (): LineSink => {
  try {
    const stats = fstatSync(1)
    if (stats.isFile() || (stats.isCharacterDevice() && !isatty(1))) return descriptorSink(1)
  } catch {
    // Not known: as Node writes it.
  }
  return process.stdout
}

/**
 * Notices go to stderr, but not where standard output is the terminal the server started on:
 * writes fail there once it hung up (EIO), stderr with them, and the SIGHUP that comes stops the
 * server (Cli/hangup.js). A reader gone (EPIPE) is told, unlike a command's: a server's log is
 * its record for hours, and a log shipper that died takes every later request line with it.
 */
const stderrNotice = (): ((line: string) => void) | undefined =>
  wasTerminal(1) ? undefined : (line) => void process.stderr.write(`${line}\n`)

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

/**
 * Effect's pretty logger (`Logger.pretty`: the same text, indentation and colors) printing
 * through `writer`. It prints with the console of the fiber that logs (`console.log`,
 * `console.group`); here that console is a Node `Console` over a stream whose every write (one
 * per call, its indentation included) becomes one of `writer`'s lines. The stream says it is a
 * terminal when `terminal` is one, so values are colored as `console.log` colored them there.
 */
export const prettyLogger = (
  writer: BufferedWriter,
  terminal: { readonly isTTY?: boolean; readonly getColorDepth?: () => number } = process.stdout
): Logger.Logger<unknown, void> => {
  const lines = new Writable({
    decodeStrings: false,
    write: (chunk: string, _encoding, done) => {
      // The console ends each call's text with a newline; the writer adds its own.
      writer.line(chunk.endsWith("\n") ? chunk.slice(0, -1) : chunk)
      done()
    }
  })
  // What Node's colorMode "auto" reads of a stream.
  const colorDepth = terminal.getColorDepth
  Object.assign(lines, {
    isTTY: terminal.isTTY === true,
    ...(colorDepth === undefined ? {} : { getColorDepth: () => colorDepth.call(terminal) })
  })
  const console: Console.Console = {
    ...Context.get(DefaultServices.liveServices, Console.Console),
    unsafe: new NodeConsole({ stdout: lines, stderr: lines, colorMode: "auto" })
  }
  const pretty = Logger.prettyLogger()
  return Logger.make((options) => {
    const services = FiberRefs.getOrDefault(options.context, DefaultServices.currentServices)
    pretty.log({
      ...options,
      // For this call only: the fiber's own console (Effect.withConsole) is left as it is.
      context: FiberRefs.updateAs(options.context, {
        fiberId: FiberId.none,
        fiberRef: DefaultServices.currentServices,
        value: Context.add(services, Console.Console, console)
      })
    })
  })
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
 * Replaces the default logger with a buffered one writing to `sink` (`standardOutput()` by
 * default, its failures told on stderr). Flushes when the layer's scope closes (saying how many
 * lines were lost if the log cannot be written then) and, as a last resort, on process exit.
 */
export const layerBuffered = (
  format: HttpConfig.LogFormat,
  options: BufferedWriterOptions & { readonly sink?: LineSink } = {}
): Layer.Layer<never> =>
  Layer.unwrapScoped(
    Effect.gen(function* () {
      const writer = new BufferedWriter(options.sink ?? standardOutput(), { notice: stderrNotice(), ...options })
      const onExit = () => writer.flush()
      yield* Effect.acquireRelease(
        Effect.sync(() => process.on("exit", onExit)),
        () => Effect.sync(() => {
          writer.close()
          process.off("exit", onExit)
        })
      )
      return Logger.replace(
        Logger.defaultLogger,
        format === "pretty"
          ? prettyLogger(writer)
          : bufferedLogger(format === "json" ? Logger.jsonLogger : Logger.logfmtLogger, writer, format)
      )
    })
  )

/**
 * LOG_FORMAT and LOG_LEVEL, as `App.LoggerLive` reads them, every format buffered: `json` and
 * `logfmt` one line per entry, `pretty` Effect's text as it prints it, batched.
 */
export const layerConfig = Layer.unwrapEffect(
  Effect.gen(function* () {
    const format = yield* HttpConfig.logFormat
    const level = yield* HttpConfig.logLevel
    const logger = layerBuffered(format)
    return Option.match(level, {
      onNone: () => logger,
      onSome: (level) => Layer.merge(logger, Logger.minimumLogLevel(level))
    })
  })
)

/** Milliseconds since `started` (a `performance.now()`), to two decimals: the `durationMs` field. */
export const elapsedMs = (started: number): number => Math.round((performance.now() - started) * 100) / 100
