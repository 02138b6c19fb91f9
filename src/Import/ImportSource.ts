/**
 * Where an import reads from, as one Stream of `ImportItem`s: markdown files found by walking
 * directories, records of NDJSON files, NDJSON on standard input (`-`) or in a request body.
 * Sources never fail: an unreadable path, a bad line or a file the walker passed over becomes
 * a `Rejected` item naming it, and the stream goes on.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect, Either, Logger, LogLevel, Option, ParseResult, Schema, Stream } from "effect"
import { PostInput } from "../Domain/Post.js"
import { decodeUtf8, readBytes, splitLines, walkMarkdown } from "./FileSource.js"

export type ImportItem =
  /** A markdown file, read and processed by the concurrent stage. */
  | {
    readonly _tag: "File"
    readonly identity: string
    readonly path: string
    readonly relativePath: string
    readonly bytes: number
  }
  /** One decoded NDJSON record. `source` identifies the post across re-imports. */
  | {
    readonly _tag: "Record"
    readonly identity: string
    readonly source: string
    readonly input: PostInput
    readonly bytes: number
  }
  | Rejected

/** Something that could not become a post; `skipped` for what is not a post at all. */
export interface Rejected {
  readonly _tag: "Rejected"
  readonly identity: string
  readonly reason: string
  readonly skipped: boolean
  readonly bytes: number
}

export interface SourceOptions {
  readonly chunkSize: number
  readonly maxPostBytes: number
}

export const isNdjsonPath = (path: string): boolean => /\.(?:ndjson|jsonl)$/i.test(path)

const decodeInput = Schema.decodeUnknownEither(PostInput)

const rejected = (identity: string, reason: string, bytes = 0): ImportItem => ({
  _tag: "Rejected",
  identity,
  reason,
  skipped: false,
  bytes
})

/** Decodes one NDJSON line. Blank lines are not records. */
export const decodeRecord = (name: string, number: number, text: string): ImportItem | undefined => {
  if (text.trim() === "") return undefined
  const identity = `${name}:${number}`
  const bytes = text.length + 1
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return rejected(identity, `invalid JSON: ${e instanceof Error ? e.message : String(e)}`, bytes)
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return rejected(identity, "a record must be a JSON object", bytes)
  }
  const decoded = decodeInput(json)
  if (Either.isLeft(decoded)) {
    return rejected(identity, oneLine(ParseResult.TreeFormatter.formatErrorSync(decoded.left)), bytes)
  }
  // Line numbers shift when an export is edited; an explicit source or the slug does not.
  const raw = json as { readonly source?: unknown; readonly slug?: unknown }
  const source = typeof raw.source === "string" && raw.source.trim() !== ""
    ? raw.source
    : typeof raw.slug === "string" && raw.slug !== ""
    ? `${name}#${raw.slug}`
    : identity
  return { _tag: "Record", identity, source, input: decoded.right, bytes }
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, "; ").trim()

/**
 * NDJSON bytes as items: strict UTF-8, lines of at most `maxPostBytes` characters, one record
 * per line. Invalid UTF-8 ends the source with one rejected item naming the byte offset; a read
 * error likewise. Everything before it stays imported.
 */
export const ndjson = <E, R>(
  name: string,
  bytes: Stream.Stream<Uint8Array, E, R>,
  options: Pick<SourceOptions, "maxPostBytes">
): Stream.Stream<ImportItem, never, R> =>
  bytes.pipe(
    decodeUtf8(name),
    splitLines(options.maxPostBytes),
    Stream.filterMap((line) =>
      line._tag === "LineTooLong"
        ? Option.some(
          rejected(`${name}:${line.number}`, `line too long: ${line.length} characters (limit ${options.maxPostBytes})`, line.length)
        )
        : Option.fromNullable(decodeRecord(name, line.number, line.text))
    ),
    Stream.catchAll((error) => Stream.make(rejected(name, describeSourceError(error))))
  )

const describeSourceError = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const e = error as { readonly _tag?: unknown; readonly offset?: unknown; readonly reason?: unknown; readonly message?: unknown }
    if (e._tag === "InvalidUtf8") return `invalid UTF-8 at byte offset ${String(e.offset)}`
    if (e._tag === "FileReadError") return String(e.reason)
    if (typeof e.message === "string") return e.message
  }
  return String(error)
}

/**
 * Items from command-line paths, in order: a directory is walked for markdown files, a
 * `.ndjson`/`.jsonl` file is read as records, any other file as one markdown post, and `-` is
 * NDJSON on `stdin` (given by the entrypoint; embedding code passes its own stream).
 */
export const fromPaths = (
  paths: ReadonlyArray<string>,
  options: SourceOptions & { readonly stdin?: Stream.Stream<Uint8Array, unknown> | undefined }
): Stream.Stream<ImportItem, never, FileSystem.FileSystem | Path.Path> =>
  Stream.fromIterable(paths).pipe(
    Stream.flatMap((input) => {
      if (input === "-") {
        return options.stdin === undefined ? Stream.make(rejected("stdin", "standard input is not available")) : ndjson("stdin", options.stdin, options)
      }
      if (isNdjsonPath(input)) return ndjson(input, readBytes(input, options), options)
      return Stream.unwrap(Effect.map(Path.Path, (path) =>
        walkMarkdown(input).pipe(
          Stream.map((entry): ImportItem =>
            entry._tag === "Passed"
              ? { _tag: "Rejected", identity: entry.passed.path, reason: entry.passed.reason, skipped: true, bytes: 0 }
              : {
                _tag: "File",
                identity: path.normalize(entry.file.path),
                path: entry.file.path,
                relativePath: entry.file.relativePath,
                bytes: entry.file.bytes
              }
          )
        )
      ))
    })
  )

/**
 * Total bytes the paths hold, for a progress bar's ETA: a second, listing-only walk. Unknown
 * (undefined) for standard input.
 */
export const estimateBytes = (
  paths: ReadonlyArray<string>
): Effect.Effect<number | undefined, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    if (paths.includes("-")) return undefined
    let total = 0
    for (const input of paths) {
      total += yield* walkAll(input)
    }
    return total
  })

const walkAll = (input: string) =>
  isNdjsonPath(input)
    ? Effect.flatMap(FileSystem.FileSystem, (fs) => fs.stat(input)).pipe(
      Effect.map((info) => Number(info.size)),
      Effect.orElseSucceed(() => 0)
    )
    : walkMarkdown(input).pipe(
      Stream.runFold(0, (sum, entry) => entry._tag === "File" ? sum + entry.file.bytes : sum),
      // The real walk warns about what it passes over; this one stays quiet.
      Logger.withMinimumLogLevel(LogLevel.None)
    )
