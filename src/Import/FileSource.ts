/**
 * File readers as Streams: byte chunks (the handle is owned by the stream's scope, so it is
 * closed on completion, failure and interruption), strict UTF-8 decoding with byte offsets,
 * bounded line splitting, whole-file text with a size cap, and a recursive markdown walker.
 */
import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Option, Stream } from "effect"
import { FileReadError, InvalidUtf8 } from "./ImportErrors.js"

const describePlatformError = (error: PlatformError): string => {
  if (error._tag === "SystemError") {
    switch (error.reason) {
      case "NotFound":
        return "no such file or directory"
      case "PermissionDenied":
        return "permission denied"
      default:
        return `${error.reason}: ${error.description ?? error.message}`
    }
  }
  return error.description ?? error.message
}

const toReadError = (path: string) => (error: PlatformError) =>
  new FileReadError({ path, reason: describePlatformError(error) })

/** A file as byte chunks of at most `chunkSize` bytes. */
export const readBytes = (
  path: string,
  options: { readonly chunkSize?: number | undefined } = {}
): Stream.Stream<Uint8Array, FileReadError, FileSystem.FileSystem> =>
  Stream.unwrap(
    Effect.map(FileSystem.FileSystem, (fs) =>
      fs.stream(path, { chunkSize: FileSystem.Size(options.chunkSize ?? 64 * 1024) }).pipe(
        Stream.mapError(toReadError(path))
      )
    )
  )

/**
 * Offset of the first byte of the first invalid or truncated UTF-8 sequence in `bytes`, or -1.
 * Follows the WHATWG decoder: no overlongs, no surrogates, nothing above U+10FFFF.
 */
export const findInvalidUtf8 = (bytes: Uint8Array): number => {
  const n = bytes.length
  let i = 0
  while (i < n) {
    const b = bytes[i]!
    if (b < 0x80) {
      i++
      continue
    }
    let need: number
    let lo = 0x80
    let hi = 0xbf
    if (b >= 0xc2 && b <= 0xdf) need = 1
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2
      if (b === 0xe0) lo = 0xa0
      if (b === 0xed) hi = 0x9f
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3
      if (b === 0xf0) lo = 0x90
      if (b === 0xf4) hi = 0x8f
    } else return i
    if (i + need >= n) return i
    const second = bytes[i + 1]!
    if (second < lo || second > hi) return i
    for (let k = 2; k <= need; k++) {
      const c = bytes[i + k]!
      if (c < 0x80 || c > 0xbf) return i
    }
    i += need + 1
  }
  return -1
}

/** How many bytes at the end of `bytes` start a sequence that continues in the next chunk. */
const incompleteTail = (bytes: Uint8Array): number => {
  const n = bytes.length
  for (let back = 1; back <= Math.min(3, n); back++) {
    const b = bytes[n - back]!
    if (b >= 0x80 && b < 0xc0) continue
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1
    return length > back ? back : 0
  }
  return 0
}

const concatBytes = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  if (a.length === 0) return b
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

/**
 * Decodes UTF-8 strictly: the first invalid byte fails the stream with `InvalidUtf8` naming
 * `path` and the byte offset. (`Stream.decodeText` would silently substitute U+FFFD.) A leading
 * BOM is dropped. Decoding itself is the native fatal `TextDecoder`; the offset is only
 * searched for once it has thrown.
 */
export const decodeUtf8 =
  (path: string) =>
  <E, R>(self: Stream.Stream<Uint8Array, E, R>): Stream.Stream<string, E | InvalidUtf8, R> =>
    Stream.suspend(() => {
      const decoder = new TextDecoder("utf-8", { fatal: true })
      let consumed = 0
      let tail: Uint8Array = new Uint8Array(0)
      const invalidAt = (bytes: Uint8Array) => {
        const at = findInvalidUtf8(bytes)
        return new InvalidUtf8({ path, offset: consumed - tail.length + (at < 0 ? bytes.length - incompleteTail(bytes) : at) })
      }
      const decodeChunk = (chunk: Uint8Array) =>
        Effect.suspend(() => {
          try {
            const text = decoder.decode(chunk, { stream: true })
            const keep = incompleteTail(chunk)
            tail = keep === 0 ? new Uint8Array(0) : keep === chunk.length ? concatBytes(tail, chunk) : chunk.slice(chunk.length - keep)
            consumed += chunk.length
            return Effect.succeed(text)
          } catch {
            return Effect.fail(invalidAt(concatBytes(tail, chunk)))
          }
        })
      const flush = Effect.suspend(() => {
        try {
          return Effect.succeed(decoder.decode())
        } catch {
          return Effect.fail(new InvalidUtf8({ path, offset: consumed - tail.length }))
        }
      })
      return self.pipe(
        Stream.mapEffect(decodeChunk),
        Stream.concat(Stream.fromEffect(flush)),
        Stream.filter((text) => text.length > 0)
      )
    })

/** One line of text input, numbered from 1, without its line terminator. */
export type Line =
  | { readonly _tag: "Line"; readonly number: number; readonly text: string }
  /** A line longer than the limit: dropped without being buffered, so memory stays bounded. */
  | { readonly _tag: "LineTooLong"; readonly number: number; readonly length: number }

/** Splits text into lines (`\n` or `\r\n`), never holding more than `maxLength` characters of one line. */
export const splitLines =
  (maxLength: number) =>
  <E, R>(self: Stream.Stream<string, E, R>): Stream.Stream<Line, E, R> =>
    Stream.suspend(() => {
      let partial = ""
      let number = 1
      let overflow = -1
      const finish = (text: string): Line => {
        const line: Line =
          overflow >= 0
            ? { _tag: "LineTooLong", number, length: overflow + text.length }
            : text.length > maxLength
              ? { _tag: "LineTooLong", number, length: text.length }
              : { _tag: "Line", number, text: text.endsWith("\r") ? text.slice(0, -1) : text }
        overflow = -1
        number++
        return line
      }
      const onChunk = (chunk: string): Array<Line> => {
        const out: Array<Line> = []
        let start = 0
        for (;;) {
          const newline = chunk.indexOf("\n", start)
          if (newline === -1) {
            const rest = chunk.slice(start)
            if (overflow >= 0) overflow += rest.length
            else if (partial.length + rest.length > maxLength) {
              overflow = partial.length + rest.length
              partial = ""
            } else partial += rest
            return out
          }
          const segment = chunk.slice(start, newline)
          out.push(finish(overflow >= 0 ? segment : partial + segment))
          partial = ""
          start = newline + 1
        }
      }
      const flush = (): Array<Line> => (overflow >= 0 || partial.length > 0 ? [finish(partial)] : [])
      return self.pipe(
        Stream.mapConcat(onChunk),
        Stream.concat(Stream.suspend(() => Stream.fromIterable(flush())))
      )
    })

/**
 * A whole text file, refusing (before reading) one larger than `maxBytes`, and one that grew
 * past it while being read. Read with one handle and a few reads, not as a Stream: a Stream per
 * file (its own fiber, buffer and channel) cost ~2 ms of CPU per file here, 10× the read itself,
 * and a markdown import reads thousands of small files. The handle is closed by the scope on
 * success, failure and interruption; decoding is strict, as `decodeUtf8`.
 */
export const readText = (
  path: string,
  options: { readonly chunkSize?: number | undefined; readonly maxBytes: number }
): Effect.Effect<{ readonly text: string; readonly bytes: number }, FileReadError | InvalidUtf8, FileSystem.FileSystem> =>
  Effect.scoped(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const info = yield* Effect.mapError(fs.stat(path), toReadError(path))
    if (info.type !== "File") return yield* new FileReadError({ path, reason: `not a regular file (${info.type})` })
    const size = Number(info.size)
    const tooLarge = (bytes: number | string) =>
      new FileReadError({ path, reason: `too large: ${bytes} bytes (limit ${options.maxBytes})` })
    if (size > options.maxBytes) return yield* tooLarge(size)
    const file = yield* Effect.mapError(fs.open(path, { flag: "r" }), toReadError(path))
    const chunks: Array<Uint8Array> = []
    let read = 0
    // The stat's size plus one byte first (one read for a file that did not change), then
    // chunks, never more than one byte past the limit. A short read of a regular file is its end.
    for (let want = size + 1; ; want = options.chunkSize ?? 64 * 1024) {
      const asked = Math.min(want, options.maxBytes + 1 - read)
      const next = yield* Effect.mapError(file.readAlloc(FileSystem.Size(asked)), toReadError(path))
      if (Option.isNone(next)) break
      chunks.push(next.value)
      read += next.value.length
      if (read > options.maxBytes) return yield* tooLarge(`more than ${options.maxBytes}`)
      if (next.value.length < asked) break
    }
    const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, read)
    return yield* Effect.try({
      try: () => ({ text: strictUtf8.decode(bytes), bytes: read }),
      catch: () => new InvalidUtf8({ path, offset: Math.max(0, findInvalidUtf8(bytes)) })
    })
  }))

/** Whole-buffer decoding only (never `stream: true`), so one decoder serves every file. */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

/** A markdown file found by the walker. */
export interface FoundFile {
  readonly path: string
  /** Relative to the walked root, with `/` separators. */
  readonly relativePath: string
  readonly bytes: number
}

/** Something the walker passed over, and why. */
export interface Passed {
  readonly path: string
  readonly reason: string
}

export type WalkEntry =
  | { readonly _tag: "File"; readonly file: FoundFile }
  | { readonly _tag: "Passed"; readonly passed: Passed }

export const isMarkdownPath = (path: string): boolean => /\.(?:md|markdown)$/i.test(path)

/**
 * Walks `root` depth-first in name order, yielding markdown files and the entries it passed
 * over (symlink loops, non-regular files, unreadable entries) with a warning. Only one
 * directory listing (and its entries' stats) is held per level, so a huge tree streams in
 * bounded memory. A directory's entries are stat'ed in one Effect and its files emitted as one
 * chunk: an inner Stream per entry cost ~0.3 ms of CPU per file here, more than the stat.
 */
export const walkMarkdown = (
  root: string
): Stream.Stream<WalkEntry, never, FileSystem.FileSystem | Path.Path> =>
  Stream.unwrap(
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      type Found = WalkEntry | { readonly _tag: "Directory"; readonly path: string; readonly relative: string; readonly ancestors: ReadonlySet<string> }
      const passed = (p: string, reason: string): Effect.Effect<Found> =>
        Effect.as(Effect.logWarning(`skipping ${p}: ${reason}`), { _tag: "Passed", passed: { path: p, reason } } as const)
      // Directories are identified by device and inode: a link back to one already entered is a loop.
      const entry = (full: string, rel: string, ancestors: ReadonlySet<string>): Effect.Effect<Found | undefined> =>
        fs.stat(full).pipe(
          Effect.flatMap((info): Effect.Effect<Found | undefined> => {
            if (info.type === "Directory") {
              const id = `${info.dev}:${Option.getOrElse(info.ino, () => 0)}`
              if (ancestors.has(id)) return passed(full, "symbolic link loop")
              return Effect.succeed({ _tag: "Directory", path: full, relative: rel, ancestors: new Set([...ancestors, id]) })
            }
            if (!isMarkdownPath(full)) return Effect.succeed(undefined)
            if (info.type !== "File") return passed(full, `not a regular file (${info.type})`)
            return Effect.succeed({ _tag: "File", file: { path: full, relativePath: rel, bytes: Number(info.size) } })
          }),
          Effect.catchAll((e) =>
            isMarkdownPath(full) || (e._tag === "SystemError" && e.reason !== "NotFound")
              ? passed(full, describePlatformError(e))
              : passed(full, `broken symbolic link or vanished entry: ${describePlatformError(e)}`)
          )
        )
      /** Runs of found entries as chunks, each subdirectory walked in its place. */
      const emit = (found: ReadonlyArray<Found>): Stream.Stream<WalkEntry> => {
        const parts: Array<Stream.Stream<WalkEntry>> = []
        let run: Array<WalkEntry> = []
        for (const f of found) {
          if (f._tag !== "Directory") {
            run.push(f)
            continue
          }
          if (run.length > 0) parts.push(Stream.fromIterable(run))
          run = []
          parts.push(Stream.suspend(() => visit(f.path, f.relative, f.ancestors)))
        }
        if (run.length > 0) parts.push(Stream.fromIterable(run))
        return parts.length === 1 ? parts[0]! : Stream.flatten(Stream.fromIterable(parts))
      }
      const visit = (dir: string, relative: string, ancestors: ReadonlySet<string>): Stream.Stream<WalkEntry> =>
        Stream.unwrap(
          fs.readDirectory(dir).pipe(
            Effect.flatMap((names) =>
              Effect.forEach(names.sort(), (name) =>
                entry(path.join(dir, name), relative === "" ? name : `${relative}/${name}`, ancestors))
            ),
            Effect.map((found) => emit(found.filter((f) => f !== undefined))),
            Effect.catchAll((e) => Effect.map(passed(dir, `cannot list directory: ${describePlatformError(e)}`), (f) => emit([f])))
          )
        )
      const rootInfo = yield* Effect.either(fs.stat(root))
      if (rootInfo._tag === "Left") return emit([yield* passed(root, describePlatformError(rootInfo.left))])
      if (rootInfo.right.type !== "Directory") {
        const found = yield* entry(root, path.basename(root), new Set())
        return found === undefined ? Stream.empty : emit([found])
      }
      const id = `${rootInfo.right.dev}:${Option.getOrElse(rootInfo.right.ino, () => 0)}`
      return visit(root, "", new Set([id]))
    })
  )
