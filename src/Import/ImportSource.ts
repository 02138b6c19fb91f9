/**
 * Where an import reads from, as one Stream of `ImportItem`s: markdown files found by walking
 * directories, records of NDJSON files, NDJSON on standard input (`-`) or in a request body.
 * Sources never fail: an unreadable path, a bad line or a file the walker passed over becomes
 * a `Rejected` item naming it (failed, or skipped for what is no post), and the stream goes on.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect, Logger, LogLevel, Option, Stream } from "effect"
import { type DecodedRecord, type RecordLine, recordLine, type Rejected, rejected } from "../Processing/records.js"
import { readBytes, splitLinesUtf8, walkMarkdown } from "./FileSource.js"
import { maxLineBytes } from "./ImportConfig.js"

export type ImportItem =
  /** A markdown file, read and processed by the concurrent stage. */
  | {
    readonly _tag: "File"
    readonly identity: string
    readonly path: string
    readonly relativePath: string
    readonly bytes: number
  }
  /** One line of NDJSON file `name`, parsed by the concurrent stage (with its neighbours, in bulk). */
  | {
    readonly _tag: "Line"
    readonly identity: string
    readonly name: string
    readonly line: RecordLine
    readonly bytes: number
  }
  /** One decoded record (feeds, other sources). `source` identifies the post across re-imports. */
  | DecodedRecord
  | Rejected

export type { Rejected }

export interface SourceOptions {
  readonly chunkSize: number
  readonly maxPostBytes: number
}

export const isNdjsonPath = (path: string): boolean => /\.(?:ndjson|jsonl)$/i.test(path)

const lineItem = (name: string, number: number, text: string): ImportItem | undefined => {
  const line = recordLine(name, number, text)
  return line === undefined ? undefined : { _tag: "Line", identity: line.identity, name, line, bytes: line.bytes }
}

/**
 * NDJSON bytes as items: lines of at most `maxLineBytes(maxPostBytes)` bytes (the post's own
 * limit applies to its body once decoded: ImportPipeline), each strict UTF-8, one record per
 * line. A line too long or not UTF-8 is one rejected item naming its line (and the bad byte's
 * offset); the lines around it are read as usual. A read error ends the source with one
 * rejected item; everything before it stays imported.
 */
export const ndjson = <E, R>(
  name: string,
  bytes: Stream.Stream<Uint8Array, E, R>,
  options: Pick<SourceOptions, "maxPostBytes">
): Stream.Stream<ImportItem, never, R> => {
  const limit = maxLineBytes(options.maxPostBytes)
  return bytes.pipe(
    splitLinesUtf8(limit),
    Stream.filterMap((line) => {
      switch (line._tag) {
        case "LineTooLong":
          return Option.some(rejected(`${name}:${line.number}`, `line too long: ${line.length} bytes (limit ${limit})`, line.length))
        case "LineNotUtf8":
          return Option.some(rejected(`${name}:${line.number}`, `invalid UTF-8 at byte offset ${line.offset}`, 0))
        case "Line":
          return Option.fromNullable(lineItem(name, line.number, line.text))
      }
    }),
    Stream.catchAll((error) => Stream.make(rejected(name, describeSourceError(error))))
  )
}

const describeSourceError = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const e = error as { readonly _tag?: unknown; readonly offset?: unknown; readonly reason?: unknown; readonly message?: unknown; readonly cause?: unknown }
    if (e._tag === "InvalidUtf8") return `invalid UTF-8 at byte offset ${String(e.offset)}`
    if (e._tag === "FileReadError") return String(e.reason)
    // A request body (HttpImport) whose connection closed before its end: the platform's own
    // words were "Decode error (POST /posts/import)".
    if (e._tag === "RequestError" && e.cause instanceof Error && (e.cause.message === "aborted" || (e.cause as { code?: unknown }).code === "ECONNRESET")) {
      return "the upload was cut off: the connection closed before the end of the body (a line it cut is not imported)"
    }
    if (typeof e.message === "string") return e.message
  }
  return String(error)
}

/**
 * Items from command-line paths, in order: a directory is walked for markdown files, a
 * `.ndjson`/`.jsonl` file is read as records, a `.md`/`.markdown` file as one post (any other
 * file fails: it was named, so leaving it out silently would hide a mistake), and `-` is
 * NDJSON on `stdin` (given by the entrypoint; embedding code passes its own stream).
 *
 * Each path is taken at its real path (links resolved): a post's source is its identity, and
 * `path.resolve` alone kept a symbolic link's spelling, so the same tree imported through a link
 * failed every post as another source's. A path named twice (or by another spelling) is read
 * once, and a file named beside a directory that holds it too is read once: read twice, its
 * post was counted twice and its failures listed twice.
 */
export const fromPaths = (
  paths: ReadonlyArray<string>,
  options: SourceOptions & { readonly stdin?: Stream.Stream<Uint8Array, unknown> | undefined }
): Stream.Stream<ImportItem, never, FileSystem.FileSystem | Path.Path> =>
  Stream.unwrap(Effect.gen(function*() {
    const path = yield* Path.Path
    const inputs = yield* realInputs(paths)
    // Only items of inputs that overlap another are remembered: a single tree streams in
    // bounded memory, as the walk promises.
    const seen = new Set<string>()
    const once = (overlaps: boolean) => (item: ImportItem): boolean => {
      if (!overlaps) return true
      if (seen.has(item.identity)) return false
      seen.add(item.identity)
      return true
    }
    return Stream.fromIterable(inputs).pipe(
      Stream.flatMap(({ input, real, overlaps }) => {
        if (input === "-") {
          return options.stdin === undefined ? Stream.make(rejected("stdin", "standard input is not available")) : ndjson("stdin", options.stdin, options)
        }
        if (isNdjsonPath(real)) return ndjson(real, readBytes(real, options), options)
        return walkMarkdown(real).pipe(
          Stream.map((entry): ImportItem =>
            entry._tag === "Passed"
              ? { _tag: "Rejected", identity: entry.passed.path, reason: entry.passed.reason, skipped: !entry.passed.failed, bytes: 0 }
              : {
                _tag: "File",
                identity: path.normalize(entry.file.path),
                path: entry.file.path,
                relativePath: entry.file.relativePath,
                bytes: entry.file.bytes
              }
          ),
          Stream.filter(once(overlaps))
        )
      })
    )
  }))

interface RealInput {
  readonly input: string
  /** The input's real path; resolved only, when it has none (missing: the walk reports it). */
  readonly real: string
  /** Another input holds it, or is held by it: its items are checked against those read before. */
  readonly overlaps: boolean
}

/** `paths` at their real paths, each once (`-` once too: standard input can be read only once). */
const realInputs = (paths: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<RealInput>, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const reals: Array<{ readonly input: string; readonly real: string }> = []
    for (const input of paths) {
      const real = input === "-"
        ? "-"
        : yield* Effect.orElseSucceed(fs.realPath(path.resolve(input)), () => path.resolve(input))
      if (!reals.some((r) => r.real === real)) reals.push({ input, real })
    }
    const within = (inner: string, outer: string) => inner.startsWith(outer.endsWith(path.sep) ? outer : outer + path.sep)
    return reals.map(({ input, real }) => ({
      input,
      real,
      overlaps: real !== "-" && reals.some((other) => other.real !== real && other.real !== "-" && (within(real, other.real) || within(other.real, real)))
    }))
  })

/**
 * Total bytes the paths hold, for a progress bar's ETA: a second, listing-only walk. Unknown
 * (undefined) for standard input. Each file counted once, as `fromPaths` reads it once (a path
 * named twice, a file beside its directory, a link to a tree also named): counted each time, the
 * total never came and the ETA ended with work still shown to do.
 */
export const estimateBytes = (
  paths: ReadonlyArray<string>
): Effect.Effect<number | undefined, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    if (paths.includes("-")) return undefined
    const path = yield* Path.Path
    // As in `fromPaths`: only files of overlapping inputs are remembered.
    const seen = new Set<string>()
    const once = (file: string): boolean => {
      const identity = path.normalize(file)
      if (seen.has(identity)) return false
      seen.add(identity)
      return true
    }
    let total = 0
    for (const { real, overlaps } of yield* realInputs(paths)) {
      total += yield* walkAll(real, overlaps ? once : () => true)
    }
    return total
  })

const walkAll = (input: string, counts: (file: string) => boolean) =>
  isNdjsonPath(input)
    ? Effect.flatMap(FileSystem.FileSystem, (fs) => fs.stat(input)).pipe(
      Effect.map((info) => Number(info.size)),
      Effect.orElseSucceed(() => 0)
    )
    : walkMarkdown(input).pipe(
      Stream.runFold(0, (sum, entry) => entry._tag === "File" && counts(entry.file.path) ? sum + entry.file.bytes : sum),
      // The real walk warns about what it passes over; this one stays quiet.
      Logger.withMinimumLogLevel(LogLevel.None)
    )
