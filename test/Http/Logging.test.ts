/**
 * The request line written straight to the buffered logger's writer must be the line Effect's
 * own logfmt / json loggers print for the same entry (same keys and values), and must be used
 * by the request middleware when the buffered logger is the application's logger. Standard
 * output that cannot be written (a full disk, a reader gone or stalled) costs log lines, said once
 * on stderr, and neither the server nor memory.
 */
import { spawn } from "node:child_process"
import { closeSync, existsSync, mkdtempSync, openSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Writable } from "node:stream"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Deferred, Effect, FiberId, FiberRefs, HashMap, HashSet, Layer, List, Logger, LogLevel, Schedule } from "effect"
import {
  BufferedWriter,
  bufferedLogger,
  descriptorSink,
  directRequestLog,
  layerBuffered,
  type LineSink,
  type RequestLineFields,
  requestLine
} from "../../src/Http/Logging.js"
import { get, testServer } from "./harness.js"

const fields: RequestLineFields = {
  level: "INFO",
  fiber: "#42",
  method: "GET",
  path: "/posts/a path=with \"odd\" chars",
  status: 200,
  durationMs: 0.37,
  requestId: "req-1"
}

/** What Effect's logger is given for the same entry. */
const options = (date: Date, entry: RequestLineFields = fields): Logger.Logger.Options<unknown> => ({
  fiberId: FiberId.make(42, 0),
  logLevel: LogLevel.Info,
  message: `${entry.method} ${entry.path} ${entry.status}`,
  cause: Cause.empty,
  context: FiberRefs.empty(),
  spans: List.empty(),
  annotations: HashMap.make(
    ["method", entry.method] as const,
    ["path", entry.path] as const,
    ["status", entry.status] as const,
    ["durationMs", entry.durationMs] as const,
    ["requestId", entry.requestId] as const
  ) as HashMap.HashMap<string, unknown>,
  date
})

/** logfmt `key=value` pairs exactly as written (quotes and escapes kept), in any order. */
const rawPairs = (line: string): Record<string, string> => {
  const pairs: Record<string, string> = {}
  for (const match of line.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S*)/g)) pairs[match[1]!] = match[2]!
  return pairs
}

/** logfmt `key=value` pairs, quoted values unquoted. */
const logfmtPairs = (line: string): Record<string, string> => {
  const pairs: Record<string, string> = {}
  for (const match of line.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    pairs[match[1]!] = match[2]!.startsWith("\"") ? JSON.parse(match[2]!) : match[2]!
  }
  return pairs
}

/**
 * A sink whose reader takes nothing until told: each write's text in `taken`, its callback (the
 * reader catching up with it) in `waiting`.
 */
const stalledSink = () => {
  const waiting: Array<() => void> = []
  const taken: Array<string> = []
  const stalled = new Writable({
    decodeStrings: false,
    write: (chunk: string, _encoding, callback) => {
      taken.push(chunk)
      waiting.push(callback)
    }
  })
  return { stalled, taken, waiting }
}

describe("requestLine", () => {
  it("logfmt: the fields Effect's logfmtLogger prints for the same entry", () => {
    const mine = logfmtPairs(requestLine("logfmt", fields))
    const effects = logfmtPairs(Logger.logfmtLogger.log(options(new Date(mine["timestamp"]!))))
    assert.deepStrictEqual(mine, effects)
    assert.strictEqual(mine["path"], fields.path)
  })

  it("logfmt: every field written byte for byte as Effect's logfmtLogger writes it, on the common line and off it", () => {
    const paths = [
      "/posts/hello-world",
      "/posts/caf\u00e9",
      "/posts/a b",
      "/posts/quote\"d",
      "/posts/back\\slash",
      "/posts/key=value",
      "/posts/tab\there",
      "/posts/ctl\u0001",
      "/posts/emoji-\ud83d\ude00",
      "/posts/lone-\ud800"
    ]
    const durations = [0, 0.01, 0.05, 0.1, 0.37, 1, 1.1, 10.05, 123.45, 99999.99, 1e-7, 0.125, 21474836.47, 3e9, -1]
    for (const method of ["GET", "DELETE", "M-SEARCH"]) {
      for (const path of paths) {
        for (const durationMs of durations) {
          const entry: RequestLineFields = { ...fields, method, path, durationMs, requestId: durationMs > 1 ? "req=1" : "req-1" }
          const line = requestLine("logfmt", entry)
          const effects = Logger.logfmtLogger.log(options(new Date(logfmtPairs(line)["timestamp"]!), entry))
          assert.deepStrictEqual(rawPairs(line), rawPairs(effects), line)
        }
      }
    }
  })

  it("json: the object Effect's jsonLogger prints for the same entry", () => {
    const mine = JSON.parse(requestLine("json", fields))
    const effects = JSON.parse(Logger.jsonLogger.log(options(new Date(mine.timestamp))))
    assert.deepStrictEqual(mine, effects)
  })

  it("is used only when the buffered logger is the only one (besides the tracer logger)", () => {
    const writer = new BufferedWriter({ write: () => undefined })
    const buffered = bufferedLogger(Logger.logfmtLogger, writer, "logfmt")
    assert.isDefined(directRequestLog(HashSet.make(buffered, Logger.tracerLogger)))
    assert.isUndefined(directRequestLog(HashSet.make(buffered, Logger.defaultLogger)))
    assert.isUndefined(directRequestLog(HashSet.make(bufferedLogger(Logger.logfmtLogger, writer))))
    assert.isUndefined(directRequestLog(HashSet.make(Logger.defaultLogger)))
  })
})

describe("request lines through the buffered logger", () => {
  it.scoped("one line per request with method, path, status, durationMs, requestId", () => {
    const chunks: Array<string> = []
    const logger = layerBuffered("logfmt", { sink: { write: (chunk) => chunks.push(chunk) } })
    return Effect.gen(function* () {
      const ok = yield* get("/health", { "x-request-id": "given-id" })
      assert.strictEqual(ok.status, 200)
      const missing = yield* get("/posts/nothing-here")
      assert.strictEqual(missing.status, 404)
      // Flushed on the next turn of the event loop.
      yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
      const lines = chunks.join("").split("\n").filter((line) => line.includes("requestId="))
      assert.strictEqual(lines.length, 2, chunks.join(""))
      // Written by `requestLine` (fields in its order), not by the generic logger (HashMap order).
      assert.include(lines[0], " method=GET path=/health status=200 durationMs=")
      const [first, second] = lines.map(logfmtPairs)
      assert.deepInclude(first, { level: "INFO", method: "GET", path: "/health", status: "200", requestId: "given-id" })
      assert.match(first!["durationMs"]!, /^\d+(\.\d+)?$/)
      assert.match(first!["fiber"]!, /^#\d+$/)
      assert.deepInclude(second, { level: "INFO", path: "/posts/nothing-here", status: "404", requestId: missing.headers["x-request-id"] })
    }).pipe(Effect.provide(testServer().pipe(Layer.provide(logger))))
  })
})

/** `count` numbered lines through `writer`, a flush after every `every` (a turn's worth). */
const feed = (writer: BufferedWriter, from: number, count: number, every = 10) => {
  for (let i = from; i < from + count; i++) {
    writer.line(`line ${i}`)
    if ((i - from + 1) % every === 0) writer.flush()
  }
  writer.flush()
}

const ENOSPC = "ENOSPC: no space left on device, write"

describe("the log when standard output cannot be written", () => {
  // /dev/full refuses every write with ENOSPC, as a full disk does (Linux).
  it.skipIf(!existsSync("/dev/full"))("a full disk (`> /dev/full`): nothing kept, one line naming ENOSPC, every line dropped counted at the end", () => {
    const fd = openSync("/dev/full", "w")
    try {
      const notices: Array<string> = []
      const writer = new BufferedWriter(descriptorSink(fd), { notice: (line) => notices.push(line) })
      feed(writer, 0, 1000)
      assert.strictEqual(writer.pending, 0, "nothing kept")
      assert.strictEqual(writer.dropping, 1000)
      assert.deepStrictEqual(notices, [
        `inkwell: writing standard output failed (${ENOSPC}): log lines are dropped until it can be written again`
      ])
      writer.close()
      assert.strictEqual(notices[1], `inkwell: writing standard output failed (${ENOSPC}): 1000 log lines dropped`)
    } finally {
      closeSync(fd)
    }
  })

  it("written again once the disk has room, said with the count; a line the disk took in part is ended before the next", () => {
    const written: Array<string> = []
    /** What the disk takes: all, `n` bytes then full, or nothing. */
    let room: "all" | number = "all"
    const disk = (_fd: number, data: string | Uint8Array) => {
      const bytes = Buffer.from(data)
      if (room === "all") {
        written.push(bytes.toString())
        return bytes.length
      }
      if (room > 0) {
        const taken = Math.min(room, bytes.length)
        written.push(bytes.subarray(0, taken).toString())
        room -= taken
        return taken
      }
      throw Object.assign(new Error(ENOSPC), { code: "ENOSPC" })
    }
    const notices: Array<string> = []
    const writer = new BufferedWriter(descriptorSink(99, disk), { notice: (line) => notices.push(line) })
    feed(writer, 0, 20)
    room = 4 // "line" of "line 20"
    feed(writer, 20, 30)
    assert.strictEqual(writer.dropping, 30)
    room = "all"
    feed(writer, 50, 10)
    assert.deepStrictEqual(notices, [
      `inkwell: writing standard output failed (${ENOSPC}): log lines are dropped until it can be written again`,
      "inkwell: the log is written to standard output again (30 log lines dropped)"
    ])
    const lines = written.join("").split("\n")
    assert.deepStrictEqual(lines, [
      ...Array.from({ length: 20 }, (_, i) => `line ${i}`),
      "line",
      ...Array.from({ length: 10 }, (_, i) => `line ${50 + i}`),
      ""
    ])
    writer.close()
    assert.strictEqual(notices.length, 2, "nothing more to say at the end")
  })

  it.live("a pipe whose reader went away (EPIPE): one line naming it, every chunk tried, dropped and counted; written again should a reader come (a named pipe)", () =>
    Effect.gen(function* () {
      // Told after the write, as a pipe's failure is (process.stdout, which stays usable after
      // one: what `npm start | head -1` does is the test below).
      let reader = false
      let tried = 0
      const pipe: LineSink = {
        write: (_chunk, done) => {
          tried++
          process.nextTick(() => done(reader ? null : Object.assign(new Error("write EPIPE"), { code: "EPIPE", errno: -32, syscall: "write" })))
        },
        writableLength: 0
      }
      const notices: Array<string> = []
      const told = yield* Deferred.make<void>()
      const writer = new BufferedWriter(pipe, {
        notice: (line) => {
          notices.push(line)
          if (notices.length === 2) Deferred.unsafeDone(told, Effect.void)
        }
      })
      /** Feeds `count` lines and waits until the pipe called back every chunk written. */
      const fed = (from: number, count: number) =>
        Effect.async<void>((resume) => {
          feed(writer, from, count)
          process.nextTick(() => resume(Effect.void))
        })
      yield* fed(0, 100)
      assert.strictEqual(tried, 10, "each chunk tried")
      assert.strictEqual(writer.dropping, 100)
      assert.deepStrictEqual(notices, [
        "inkwell: writing standard output failed (EPIPE: its reader has gone): log lines are dropped until it can be written again"
      ])
      reader = true
      yield* fed(100, 10)
      yield* Deferred.await(told)
      assert.strictEqual(notices[1], "inkwell: the log is written to standard output again (100 log lines dropped)")
    }))

  it("a reader that stopped reading: no more than maxUnwrittenBytes queued, the rest dropped and said once; written again once it caught up", () => {
    const { stalled, taken, waiting } = stalledSink()
    const notices: Array<string> = []
    const writer = new BufferedWriter(stalled, { maxUnwrittenBytes: 1000, notice: (line) => notices.push(line) })
    // "line 100\n" and on: 9 characters a line, 90 a chunk of ten.
    feed(writer, 100, 500)
    assert.isAtMost(stalled.writableLength, 1000 + 90, "bounded: one chunk past the limit at most")
    assert.strictEqual(writer.dropping, 500 - 120)
    assert.deepStrictEqual(notices, [
      "inkwell: standard output's reader is not keeping up (1080 characters of log unwritten): log lines are dropped until it can be written again"
    ])
    // The reader takes some, not all: still behind, lines still dropped, nothing more said.
    waiting.splice(0, 2).forEach((done) => done())
    feed(writer, 600, 10)
    assert.strictEqual(writer.dropping, 500 - 120 + 10)
    // It takes the rest (and what is written meanwhile as it comes).
    while (waiting.length > 0) waiting.shift()!()
    assert.strictEqual(stalled.writableLength, 0)
    feed(writer, 700, 10)
    while (waiting.length > 0) waiting.shift()!()
    assert.deepStrictEqual(notices.slice(1), ["inkwell: the log is written to standard output again (390 log lines dropped)"])
    const lines = taken.join("").split("\n")
    assert.strictEqual(lines.length, 120 + 10 + 1)
    assert.strictEqual(lines.at(-2), "line 709")
  })
})

describe("LOG_FORMAT=pretty", () => {
  /** Effect's pretty text without its colors (a terminal's, where the tests run on one). */
  const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "")

  it.scoped("Effect's pretty text, through the same bounded writer: a reader that stopped reading holds no more than maxUnwrittenBytes, the rest dropped and said once; written again once it caught up (was: console.log, queued without bound)", () => {
    const { stalled, taken, waiting } = stalledSink()
    const notices: Array<string> = []
    // Each line flushed as it comes (`maxBufferBytes: 1`): no turn of the event loop to wait for.
    const logger = layerBuffered("pretty", { sink: stalled, maxUnwrittenBytes: 1000, maxBufferBytes: 1, notice: (line) => notices.push(line) })
    return Effect.gen(function* () {
      yield* Effect.logWarning("GET /posts 200").pipe(Effect.annotateLogs({ status: 200, path: "/posts" }))
      // The reader takes those, and then stops.
      while (waiting.length > 0) waiting.shift()!()
      // As Logger.pretty prints it: the first line, then each annotation indented (console.group), in the HashMap's order.
      const [first, ...annotations] = plain(taken.join("")).split("\n")
      assert.match(first!, /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN \(#\d+\): GET \/posts 200$/)
      assert.deepStrictEqual(annotations.sort(), ["", "  path: /posts", "  status: 200"])
      for (let i = 0; i < 500; i++) yield* Effect.logInfo(`request ${i}`)
      assert.isAtMost(stalled.writableLength, 1000 + 100, "bounded: one line past the limit at most")
      assert.strictEqual(notices.length, 1, notices.join("\n"))
      assert.match(notices[0]!, /^inkwell: standard output's reader is not keeping up \(\d+ characters of log unwritten\): log lines are dropped until it can be written again$/)
      // The reader takes it all: the next line is written, and that is said with the count.
      while (waiting.length > 0) waiting.shift()!()
      yield* Effect.logInfo("caught up")
      while (waiting.length > 0) waiting.shift()!()
      assert.match(notices[1] ?? "", /^inkwell: the log is written to standard output again \(\d+ log lines dropped\)$/)
      assert.match(plain(taken.at(-1)!), /^\[[^\]]+\] INFO \(#\d+\): caught up\n$/)
    }).pipe(Effect.provide(logger))
  })
})

/** A port nothing listens on now. */
const freePort = Effect.async<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as { port: number }
    server.close(() => resume(Effect.succeed(port)))
  })
})

const root = join(import.meta.dirname, "..", "..")

/**
 * `node --import tsx src/main.ts` (what `npm start` runs) with standard output `stdout`; its
 * stderr, its exit, and a way to read its standard output's lines when that is a pipe.
 */
const serve = (stdout: number | "pipe", env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "inkwell-log-"))
      const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
        cwd: root,
        env: { ...process.env, HOST: "127.0.0.1", LOG_FORMAT: "logfmt", DATABASE_URL: `sqlite:${join(dir, "blog.db")}`, ...env },
        stdio: ["ignore", stdout, "pipe"]
      })
      let stderr = ""
      child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
      const exit = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
      return { child, dir, stderr: () => stderr, exit }
    }),
    ({ child, dir }) =>
      Effect.sync(() => {
        if (child.exitCode === null) child.kill("SIGKILL")
        rmSync(dir, { recursive: true, force: true })
      })
  )

/** `count` requests to `/health` (each answered, or the test fails), one after the other. */
const requests = (base: string, count: number) =>
  Effect.forEach(Array.from({ length: count }), () =>
    Effect.promise(() => fetch(`${base}/health`).then(async (response) => {
      await response.arrayBuffer()
      return response.status
    })))

/** The lines on `stderr` about the log on standard output. */
const logNotices = (stderr: string) => stderr.split("\n").filter((line) => line.includes("standard output"))

describe("npm start with standard output that cannot be written", () => {
  it.live.skipIf(!existsSync("/dev/full"))(
    "a full disk (`> /dev/full`): it serves on, says so once on stderr naming ENOSPC, how many lines were lost at the stop, exit 143 as ever (was: not a word)",
    () =>
      Effect.gen(function* () {
        const full = yield* Effect.acquireRelease(Effect.sync(() => openSync("/dev/full", "w")), (fd) => Effect.sync(() => closeSync(fd)))
        const port = yield* freePort
        const server = yield* serve(full, { PORT: String(port) })
        const base = `http://127.0.0.1:${port}`
        // Up as soon as it answers: its "listening" line went to /dev/full.
        yield* Effect.tryPromise(() => fetch(`${base}/health`)).pipe(Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 600 }))
        const statuses = yield* requests(base, 30)
        assert.deepStrictEqual(new Set(statuses), new Set([200]), "served")
        server.child.kill("SIGTERM")
        assert.strictEqual(yield* Effect.promise(() => server.exit), 143, server.stderr())
        const [first, last, ...rest] = logNotices(server.stderr())
        assert.strictEqual(first, `inkwell: writing standard output failed (${ENOSPC}): log lines are dropped until it can be written again`)
        const dropped = /^inkwell: writing standard output failed \(ENOSPC: [^)]*\): (\d+) log lines dropped$/.exec(last ?? "")
        assert.isNotNull(dropped, server.stderr())
        assert.isAtLeast(Number(dropped![1]), 31, "every request's line and the start's")
        assert.deepStrictEqual(rest, [], server.stderr())
      }).pipe(Effect.scoped),
    60_000
  )

  /**
   * A server whose stdout reader goes once it has said where it listens (`listening` finds the
   * URL in its format): it serves on, says once naming EPIPE that log lines are dropped, and at
   * the stop how many, exit 143 as ever.
   */
  const readerGone = (env: Record<string, string>, listening: RegExp) =>
    Effect.gen(function* () {
      const server = yield* serve("pipe", { PORT: "0", ...env })
      const base = yield* Effect.async<string>((resume) => {
        let text = ""
        server.child.stdout!.on("data", (chunk: Buffer) => {
          text += chunk.toString("utf8")
          const url = listening.exec(text)
          if (url === null) return
          // The reader goes: what is written next meets no reader (EPIPE).
          server.child.stdout!.destroy()
          resume(Effect.succeed(url[1]!))
        })
      })
      const statuses = yield* requests(base, 30)
      assert.deepStrictEqual(new Set(statuses), new Set([200]), "served")
      server.child.kill("SIGTERM")
      assert.strictEqual(yield* Effect.promise(() => server.exit), 143, server.stderr())
      const notices = logNotices(server.stderr())
      assert.strictEqual(notices[0], "inkwell: writing standard output failed (EPIPE: its reader has gone): log lines are dropped until it can be written again")
      assert.match(notices[1] ?? "", /^inkwell: writing standard output failed \(EPIPE: its reader has gone\): \d+ log lines dropped$/)
      assert.strictEqual(notices.length, 2, server.stderr())
    }).pipe(Effect.scoped)

  it.live(
    "a reader that went away (`npm start | head -1`): it serves on, says so once naming EPIPE, exit 143 as ever (was: not a word)",
    () => readerGone({}, /Inkwell listening on (http:\/\/[^\s"]+)/),
    60_000
  )

  it.live(
    "LOG_FORMAT=pretty, a reader that went away: the same, its lines through the same writer (was: console.log, not a word)",
    // Effect's pretty text: "[12:00:00.000] INFO (#1): Inkwell listening on http://..."
    () => readerGone({ LOG_FORMAT: "pretty" }, /\] INFO \(#\d+\): Inkwell listening on (http:\/\/[^\s"]+)/),
    60_000
  )
})
