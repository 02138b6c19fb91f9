/**
 * File readers as Streams: byte chunks (the handle is owned by the stream's scope, so it is
 * closed on completion, failure and interruption), strict UTF-8 decoding with byte offsets,
 * bounded line splitting, whole-file text with a size cap, and a recursive markdown walker.
 */
import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Option, Stream } from "effect"
import { readdir } from "node:fs/promises"
import { findInvalidUtf8 } from "../Domain/utf8.js"
import { FileReadError, InvalidUtf8 } from "./ImportErrors.js"

/** A file system error as a short reason: "no such file or directory", "permission denied". */
export const describePlatformError = (error: PlatformError): string => {
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

/** One line of input, numbered from 1, without its line terminator. */
export type Line =
  | { readonly _tag: "Line"; readonly number: number; readonly text: string }
  /** A line longer than the limit: dropped without being buffered, so memory stays bounded. */
  | { readonly _tag: "LineTooLong"; readonly number: number; readonly length: number }
  /** A line that is not UTF-8: `offset` is its first bad byte's, counted from the input's start. */
  | { readonly _tag: "LineNotUtf8"; readonly number: number; readonly offset: number }

const NEWLINE = 0x0a
const BOM = [0xef, 0xbb, 0xbf] as const

/**
 * Bytes into lines (`\n` or `\r\n`), each decoded as strict UTF-8 on its own, never holding more
 * than `maxBytes` of one line. Split before decoding, since the newline byte never occurs inside
 * a multi-byte sequence: a bad byte costs its own line only (`LineNotUtf8`), and every line
 * before and after it is read as usual. (Decoding the stream first lost the whole chunk around
 * a bad byte, valid lines included, and ended the input there; `Stream.decodeText` would
 * silently substitute U+FFFD.) A BOM at the very start is dropped.
 */
export const splitLinesUtf8 =
  (maxBytes: number) =>
  <E, R>(self: Stream.Stream<Uint8Array, E, R>): Stream.Stream<Line, E, R> =>
    Stream.suspend(() => {
      const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
      let parts: Array<Uint8Array> = []
      let partBytes = 0
      /** Bytes of the current line dropped as too long, or -1. */
      let overflow = -1
      let number = 1
      /** Input offset of the current line's first byte. */
      let lineStart = 0

      const decodeLine = (bytes: Uint8Array): Line => {
        let body = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, bytes.length - 1) : bytes
        let skipped = 0
        if (number === 1 && body.length >= 3 && body[0] === BOM[0] && body[1] === BOM[1] && body[2] === BOM[2]) {
          body = body.subarray(3)
          skipped = 3
        }
        try {
          return { _tag: "Line", number, text: decoder.decode(body) }
        } catch {
          const at = findInvalidUtf8(body)
          return { _tag: "LineNotUtf8", number, offset: lineStart + skipped + (at < 0 ? body.length : at) }
        }
      }
      const finish = (tail: Uint8Array): Line => {
        let line: Line
        if (overflow >= 0) line = { _tag: "LineTooLong", number, length: overflow + tail.length }
        else if (partBytes + tail.length > maxBytes) line = { _tag: "LineTooLong", number, length: partBytes + tail.length }
        else line = decodeLine(parts.length === 0 ? tail : concatAll([...parts, tail], partBytes + tail.length))
        lineStart += (overflow >= 0 ? overflow : partBytes) + tail.length + 1
        parts = []
        partBytes = 0
        overflow = -1
        number++
        return line
      }
      const onChunk = (chunk: Uint8Array): Array<Line> => {
        const out: Array<Line> = []
        let start = 0
        for (;;) {
          const newline = chunk.indexOf(NEWLINE, start)
          if (newline === -1) {
            const rest = chunk.subarray(start)
            if (overflow >= 0) overflow += rest.length
            else if (partBytes + rest.length > maxBytes) {
              overflow = partBytes + rest.length
              parts = []
              partBytes = 0
            } else if (rest.length > 0) {
              // A copy: the source may reuse its buffer for the next chunk.
              parts.push(rest.slice())
              partBytes += rest.length
            }
            return out
          }
          out.push(finish(chunk.subarray(start, newline)))
          start = newline + 1
        }
      }
      const flush = (): Array<Line> => (overflow >= 0 || partBytes > 0 ? [finish(new Uint8Array(0))] : [])
      return self.pipe(
        Stream.mapConcat(onChunk),
        Stream.concat(Stream.suspend(() => Stream.fromIterable(flush())))
      )
    })

const concatAll = (parts: ReadonlyArray<Uint8Array>, length: number): Uint8Array => {
  const out = new Uint8Array(length)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/**
 * A whole text file, refusing (before reading) one larger than `maxBytes`, and one that grew
 * past it while being read. Read with one handle and a few reads, not as a Stream: a Stream per
 * file (its own fiber, buffer and channel) cost ~2 ms of CPU per file here, 10× the read itself,
 * and a markdown import reads thousands of small files. The handle is closed by the scope on
 * success, failure and interruption; decoding is strict: the first bad byte is an `InvalidUtf8` naming its offset.
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
      catch: () => {
        const offset = Math.max(0, findInvalidUtf8(bytes))
        return new InvalidUtf8({ path, offset, line: lineOfByte(bytes, offset) })
      }
    })
  }))

/** The line (1-based) byte `offset` of `bytes` is on: one more than the newlines before it. */
const lineOfByte = (bytes: Uint8Array, offset: number): number => {
  let line = 1
  for (let i = bytes.indexOf(0x0a); i !== -1 && i < offset; i = bytes.indexOf(0x0a, i + 1)) line++
  return line
}

/** Whole-buffer decoding only (never `stream: true`), so one decoder serves every file. */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

/**
 * The names of the symbolic links in `dir`, from one listing with entry types (Node's readdir:
 * FileSystem has no lstat, and its `readLink` on every file, failing on each plain one with an
 * error and its stack, cost ~0.2 ms per file: a walk of 10k files went from 0.35 s to 2.5 s).
 * Node lstats an entry whose type the file system does not give. `undefined` if it cannot be
 * listed (the walk's own listing reports why): then which entries are links is not known.
 */
const symbolicLinksIn = (dir: string): Effect.Effect<ReadonlySet<string> | undefined> =>
  Effect.tryPromise(() => readdir(dir, { withFileTypes: true })).pipe(
    Effect.map((entries): ReadonlySet<string> => new Set(entries.filter((entry) => entry.isSymbolicLink()).map((entry) => entry.name))),
    Effect.orElseSucceed(() => undefined)
  )

/** Following the links at a path came round to a link again (ELOOP): it leads to no file. */
const isLinkLoop = (error: PlatformError): boolean =>
  error._tag === "SystemError" && (error.cause as { readonly code?: unknown } | undefined)?.code === "ELOOP"

/** A file's identity however it is reached: its device and inode. */
const idOf = (info: FileSystem.File.Info): string => `${info.dev}:${Option.getOrElse(info.ino, () => 0)}`

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
  /**
   * What may hold posts that are now left out (a named path that is missing or unreadable or is
   * no post, a directory that cannot be listed), as opposed to what is no post (a symlink loop,
   * a FIFO named .md, a broken link) or a second path to a post read at another (a symbolic link):
   * an import counts the first as a failure, the others as skipped.
   */
  readonly failed: boolean
}

export type WalkEntry =
  | { readonly _tag: "File"; readonly file: FoundFile }
  | { readonly _tag: "Passed"; readonly passed: Passed }

export const isMarkdownPath = (path: string): boolean => /\.(?:md|markdown)$/i.test(path)

/**
 * Walks `root` depth-first in name order, yielding markdown files and the entries it passed
 * over (symlink loops, non-regular files, unreadable entries, hidden directories and files)
 * with a warning. Each post is read once, whatever links lead to it: read through two paths,
 * it was a second post with the same slug, and failed as a duplicate (or, its slug derived from
 * its path, was stored twice). So a symbolic link to a directory inside the tree is passed
 * over (its posts are read where the directory is), and so is a link to a file the walk reads
 * at its own path (a "latest.md" alias of a post in the tree), naming its target. A link to a
 * directory or a file outside the tree is read, once however many links lead there (the first
 * in walk order; a second is passed over naming the first). A file the user named is read
 * even if it is a link. All these are skipped, not failed: no post is left out.
 *
 * Only one directory listing (and its entries' stats) is held per level, so a huge tree
 * streams in bounded memory; what is remembered across the walk is the directories and files
 * reached through links, never the tree's own files. A directory's entries are stat'ed in one
 * Effect and its files emitted as one chunk: an inner Stream per entry cost ~0.3 ms of CPU per
 * file here, more than the stat.
 */
export const walkMarkdown = (
  root: string
): Stream.Stream<WalkEntry, never, FileSystem.FileSystem | Path.Path> =>
  Stream.unwrap(
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      /** Where a directory is, with its links resolved, and whether it was reached through a link. */
      interface Place {
        readonly real: string
        readonly linked: boolean
      }
      type Found = WalkEntry | {
        readonly _tag: "Directory"
        readonly path: string
        readonly relative: string
        readonly ancestors: ReadonlySet<string>
        readonly id: string
        readonly place: Place
      } | {
        /** A markdown file reached through a symbolic link: read or passed over in walk order (`linkedFile`). */
        readonly _tag: "LinkToFile"
        readonly file: FoundFile
        /** The target's device and inode. */
        readonly id: string
      }
      const passed = (p: string, reason: string, failed = false): Effect.Effect<Extract<WalkEntry, { _tag: "Passed" }>> =>
        Effect.as(
          Effect.logWarning(`${failed ? "cannot import" : "skipping"} ${p}: ${reason}`),
          { _tag: "Passed", passed: { path: p, reason, failed } } as const
        )
      // Directories are identified by device and inode: a link back to one already entered is a loop.
      // A hidden entry found by the walk (.git, .github's issue templates, an editor's .trash) is
      // no post, as static site generators treat it; one the user named is read.
      const entry = (
        full: string,
        rel: string,
        ancestors: ReadonlySet<string>,
        parent: Place,
        walked = true,
        /** Listed as a symbolic link (`symbolicLinksIn`); `undefined` when not known. */
        link: boolean | undefined = undefined
      ): Effect.Effect<Found | undefined> =>
        fs.stat(full).pipe(
          Effect.flatMap((info): Effect.Effect<Found | undefined, PlatformError> => {
            if (walked && path.basename(full).startsWith(".") && (info.type === "Directory" || isMarkdownPath(full))) {
              return passed(full, "hidden (name starts with a dot)")
            }
            if (info.type === "Directory") {
              const id = idOf(info)
              if (ancestors.has(id)) return passed(full, "symbolic link loop")
              // A directory that is no link is where its parent is: its real path follows from
              // the parent's. `realPath` on each (Node's resolves every component of the path)
              // made a walk's cost grow with the square of its depth: 800 levels took 23 s.
              const real = link === false && parent.real !== ""
                ? Effect.succeed(path.join(parent.real, path.basename(full)))
                : fs.realPath(full)
              return Effect.flatMap(real, (real): Effect.Effect<Found> => {
                const linked = real !== path.join(parent.real, path.basename(full))
                const inTree = linked ? walkedPathOf(real) : undefined
                if (inTree !== undefined) {
                  return passed(full, `symbolic link to ${inTree}/, a directory of the tree walked on its own: its posts are read there`)
                }
                return Effect.succeed({
                  _tag: "Directory",
                  path: full,
                  relative: rel,
                  ancestors: new Set([...ancestors, id]),
                  id,
                  place: { real, linked: linked || parent.linked }
                })
              })
            }
            if (!isMarkdownPath(full)) return Effect.succeed(undefined)
            if (info.type !== "File") return passed(full, `not a regular file (${info.type})`)
            const file: FoundFile = { path: full, relativePath: rel, bytes: Number(info.size) }
            if (!walked) return Effect.succeed({ _tag: "File", file })
            if (link === true) return Effect.succeed({ _tag: "LinkToFile", file, id: idOf(info) })
            // In a directory reached through a link, a link read earlier may have led here.
            const first = parent.linked ? linkedFiles.get(idOf(info)) : undefined
            return first === undefined ? Effect.succeed({ _tag: "File", file }) : passed(full, `the same file as ${first}, already read`)
          }),
          Effect.catchAll(unreadable(full))
        )
      /** Why `full`, listed a moment ago, cannot be stat'ed. */
      const unreadable = (full: string) => (e: PlatformError) =>
        // Node lists a name that is not UTF-8 with U+FFFD in place of the bad bytes, and no
        // file has that name: the entry is there, it cannot be opened by any name we have.
        e._tag === "SystemError" && e.reason === "NotFound" && full.includes("\uFFFD")
          ? isMarkdownPath(full)
            ? passed(full, "file name is not valid UTF-8 (shown with \uFFFD): rename the file to import it", true)
            : passed(full, "name is not valid UTF-8 (shown with \uFFFD): not read (if a directory, its posts are left out)")
          // Links that lead round to themselves (`selfloop.md -> selfloop.md`, `a -> b -> a`)
          // lead to nothing: no post, as a link back to an ancestor is.
          : isLinkLoop(e)
          ? passed(full, "symbolic link loop")
          : e._tag === "SystemError" && e.reason !== "NotFound"
          // Unreadable, it may be a post or a directory of them.
          ? passed(full, describePlatformError(e), true)
          : isMarkdownPath(full)
          ? passed(full, describePlatformError(e))
          : passed(full, `broken symbolic link or vanished entry: ${describePlatformError(e)}`)
      /**
       * A link to a markdown file, when the walk comes to it: passed over if the walk reads its
       * target at another path (in the tree, or in a directory walked through a link), or read
       * a first time through another link; else read, its target remembered.
       */
      const linkedFile = (link: Extract<Found, { _tag: "LinkToFile" }>): Effect.Effect<WalkEntry> => {
        const full = link.file.path
        const same = (real: string, first: string, when: string) =>
          passed(full, `symbolic link to ${real}, the same file as ${first}, ${when}`)
        return fs.realPath(full).pipe(
          Effect.flatMap((real): Effect.Effect<WalkEntry, PlatformError> => {
            const name = path.basename(real)
            const walkedName = isMarkdownPath(name) && !name.startsWith(".")
            const inTree = walkedName ? walkedPathOf(real) : undefined
            if (inTree !== undefined) return passed(full, `symbolic link to ${inTree}, a file of the tree read on its own`)
            const firstLink = linkedFiles.get(link.id)
            if (firstLink !== undefined) return same(real, firstLink, "already read")
            const inLinkedDirectory = walkedName
              ? Effect.map(fs.stat(path.dirname(real)), (dir) => walkedThroughLinks.get(idOf(dir)))
              : Effect.succeed(undefined)
            return Effect.flatMap(inLinkedDirectory, (directory): Effect.Effect<WalkEntry> => {
              if (directory !== undefined) return same(real, `${directory}/${name}`, "read there")
              linkedFiles.set(link.id, full)
              return Effect.succeed({ _tag: "File", file: link.file } as const)
            })
          }),
          Effect.catchAll(unreadable(full))
        )
      }
      // Set once the root is resolved, below.
      let rootReal = ""
      /**
       * `real` relative to the root when the walk reaches it by its own path (inside the root,
       * no hidden directory on the way), else `undefined`.
       */
      const walkedPathOf = (real: string): string | undefined => {
        const relative = path.relative(rootReal, real)
        if (relative === "" || path.isAbsolute(relative)) return undefined
        const segments = relative.split(path.sep)
        return segments.some((segment) => segment.startsWith(".")) ? undefined : segments.join("/")
      }
      /** Directories reached through a link (outside the tree), by device and inode: the first path each was walked at. */
      const walkedThroughLinks = new Map<string, string>()
      /**
       * Files the walk read only through a link (outside the tree, or not walked where they are:
       * hidden, not named .md), by device and inode: the link each was read at.
       */
      const linkedFiles = new Map<string, string>()
      /** Runs of found entries as chunks, each subdirectory walked in its place. */
      const emit = (found: ReadonlyArray<Found>): Stream.Stream<WalkEntry> => {
        const parts: Array<Stream.Stream<WalkEntry>> = []
        let run: Array<WalkEntry> = []
        for (const f of found) {
          if (f._tag === "File" || f._tag === "Passed") {
            run.push(f)
            continue
          }
          if (run.length > 0) parts.push(Stream.fromIterable(run))
          run = []
          if (f._tag === "LinkToFile") {
            parts.push(Stream.fromEffect(linkedFile(f)))
            continue
          }
          parts.push(Stream.suspend(() => {
            if (!f.place.linked) return visit(f.path, f.relative, f.ancestors, f.place)
            const first = walkedThroughLinks.get(f.id)
            if (first !== undefined) {
              return Stream.fromEffect(passed(f.path, `the same directory as ${first}, already walked`)) as Stream.Stream<WalkEntry>
            }
            walkedThroughLinks.set(f.id, f.path)
            return visit(f.path, f.relative, f.ancestors, f.place)
          }))
        }
        if (run.length > 0) parts.push(Stream.fromIterable(run))
        return parts.length === 1 ? parts[0]! : Stream.flatten(Stream.fromIterable(parts))
      }
      const visit = (dir: string, relative: string, ancestors: ReadonlySet<string>, place: Place): Stream.Stream<WalkEntry> =>
        Stream.unwrap(
          fs.readDirectory(dir).pipe(
            Effect.zip(symbolicLinksIn(dir)),
            Effect.flatMap(([names, links]) =>
              Effect.forEach(names.sort(), (name) =>
                entry(path.join(dir, name), relative === "" ? name : `${relative}/${name}`, ancestors, place, true, links?.has(name)))
            ),
            Effect.map((found) => emit(found.filter((f) => f !== undefined))),
            Effect.catchAll((e) => Effect.map(passed(dir, `cannot list directory: ${describePlatformError(e)}`, true), (f) => emit([f])))
          )
        )
      // The root was named by the user: whatever keeps it from being read is a failure.
      const rootInfo = yield* Effect.either(fs.stat(root))
      if (rootInfo._tag === "Left") return emit([yield* passed(root, describePlatformError(rootInfo.left), true)])
      if (rootInfo.right.type !== "Directory") {
        if (!isMarkdownPath(root) && rootInfo.right.type === "File") {
          return emit([yield* passed(root, "not markdown (.md, .markdown) or NDJSON (.ndjson, .jsonl)", true)])
        }
        const found = yield* entry(root, path.basename(root), new Set(), { real: "", linked: false }, false)
        return found === undefined
          ? emit([yield* passed(root, `not a regular file (${rootInfo.right.type})`, true)])
          : emit([found._tag === "Passed" ? { _tag: "Passed", passed: { ...found.passed, failed: true } } : found])
      }
      const id = idOf(rootInfo.right)
      const real = yield* Effect.either(fs.realPath(root))
      if (real._tag === "Left") return emit([yield* passed(root, describePlatformError(real.left), true)])
      rootReal = real.right
      return visit(root, "", new Set([id]), { real: rootReal, linked: false })
    })
  )
