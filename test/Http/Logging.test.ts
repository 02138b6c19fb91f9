/**
 * The request line written straight to the buffered logger's writer must be the line Effect's
 * own logfmt / json loggers print for the same entry (same keys and values), and must be used
 * by the request middleware when the buffered logger is the application's logger.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, FiberId, FiberRefs, HashMap, HashSet, Layer, List, Logger, LogLevel } from "effect"
import {
  BufferedWriter,
  bufferedLogger,
  directRequestLog,
  layerBuffered,
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
