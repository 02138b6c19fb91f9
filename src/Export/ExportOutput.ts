/**
 * Where an export's bytes go: a file written whole or not at all, or a stream (standard output)
 * written chunk by chunk. Either way a chunk is written before the next is asked for, so an
 * export holds one chunk (one page of posts) whatever its size.
 */
import { lstat } from "node:fs/promises"
import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Exit, Option, Schema, Scope } from "effect"
import { forgetAtExit, removeAtExit, removeLeftovers } from "../Domain/removeAtExit.js"
import { describePlatformError } from "../Import/FileSource.js"

/** The output cannot be written at all: found out before anything is exported. */
export class OutputUnavailable extends Schema.TaggedError<OutputUnavailable>()("OutputUnavailable", {
  output: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `cannot write to ${this.output}: ${this.reason}`
  }
}

/** Writing the output failed part way (a full disk, a reader gone). Nothing is left of a file output. */
export class OutputFailed extends Schema.TaggedError<OutputFailed>()("OutputFailed", {
  output: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `writing ${this.output} failed: ${this.reason}`
  }
}

export interface ExportOutput {
  /** How the output is named to the user: the path as given, or "standard output". */
  readonly name: string
  /** Writes `bytes` whole before it succeeds. */
  readonly write: (bytes: Uint8Array) => Effect.Effect<void, OutputFailed>
  /** Everything is written: a file output takes its place now. */
  readonly commit: Effect.Effect<void, OutputFailed>
}

const randomSuffix = () => Math.random().toString(36).slice(2, 10)

/**
 * `target`, written through a temporary file beside the file it names (`.<name>.<pid>-<random>.tmp`,
 * created exclusively), synced and renamed over that file by `commit`. Until then `target` is as it
 * was (absent, or an earlier export): when the scope closes without a commit (interrupted by
 * Ctrl-C or SIGTERM, or failed) the temporary file is removed, and so it is when the process
 * exits with the scope still open (a second Ctrl-C: `removeAtExit`). A rename within one
 * directory is atomic, so a reader of `target` sees the old file or the whole new one, never part of one.
 *
 * A symbolic link is written through (`destinationOf`): the file it leads to is replaced and the
 * link stays. The new file keeps the permissions of the one it replaces (and its owner and group
 * where the process may set them): an export holds drafts and scheduled posts, and a backup kept
 * at `-rw-------` was left `-rw-r--r--`. A file that did not exist is created `-rw-------`
 * (`NEW_FILE_MODE`). In a sticky directory anyone may write to (/tmp), another user's link or
 * file under `target`'s name is refused, as the kernel would (see `destinationOf`).
 *
 * Creating the temporary file is the check that `target` can be written (its directory exists
 * and is writable): done here, before any post is read, as `OutputUnavailable`.
 */
export const file = (
  target: string
): Effect.Effect<ExportOutput, OutputUnavailable, FileSystem.FileSystem | Path.Path | Scope.Scope> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const unavailable = (reason: string) => new OutputUnavailable({ output: target, reason })
    const resolved = yield* destinationOf(fs, path, target, unavailable)
    const directory = path.dirname(resolved)
    // Found only by the final rename otherwise: after the whole export was written.
    const existing = yield* Effect.option(fs.stat(resolved))
    if (Option.isSome(existing) && existing.value.type !== "File") {
      return yield* unavailable(`it is a ${existing.value.type.toLowerCase()}, not a file`)
    }
    const name = path.basename(resolved)
    // An export killed outright (SIGKILL) before its rename left its temporary file beside this one.
    const prefix = `.${name}.`
    yield* Effect.sync(() =>
      removeLeftovers(directory, (entry) =>
        entry.startsWith(prefix) && entry.endsWith(".tmp") ? Number(/^(\d+)-[0-9a-z]+$/.exec(entry.slice(prefix.length, -4))?.[1]) : undefined)
    )
    const temporary = path.join(directory, `.${name}.${process.pid}-${randomSuffix()}.tmp`)
    // Set again once created: the umask may have taken bits off the mode asked for.
    const mode = Option.match(existing, { onNone: () => NEW_FILE_MODE, onSome: (info) => info.mode & 0o777 })
    const keepOwner = Option.match(existing, {
      onNone: () => Effect.void,
      onSome: (info) =>
        Option.isSome(info.uid) && Option.isSome(info.gid)
          // Only root may give a file away (and a group only to one the owner is in): otherwise the
          // export is its writer's, as any file it writes.
          ? Effect.ignore(fs.chown(temporary, info.uid.value, info.gid.value))
          : Effect.void
    })
    let committed = false
    const opened = yield* Effect.acquireRelease(
      Effect.gen(function*() {
        // The handle's own scope, closed by `commit` (before the rename) or on release.
        const scope = yield* Scope.make()
        const handle = yield* fs.open(temporary, { flag: "wx", mode }).pipe(
          Scope.extend(scope),
          Effect.mapError((error) => unavailable(openFailure(error, directory))),
          Effect.tap(() =>
            Effect.zipRight(keepOwner, fs.chmod(temporary, mode)).pipe(
              Effect.mapError((error) => unavailable(describePlatformError(error))),
              // Created, but not yet in the release's care.
              Effect.onError(() => Effect.ignore(fs.remove(temporary)))
            )
          ),
          Effect.onError(() => Scope.close(scope, Exit.void))
        )
        removeAtExit(temporary)
        return { handle, scope }
      }),
      ({ scope }) =>
        Effect.zipRight(
          Scope.close(scope, Exit.void),
          committed ? Effect.void : Effect.ignore(fs.remove(temporary)).pipe(Effect.zipRight(Effect.sync(() => forgetAtExit(temporary))))
        )
    )

    const failed = (error: PlatformError) => new OutputFailed({ output: target, reason: describePlatformError(error) })
    return {
      name: target,
      write: (bytes) => Effect.mapError(opened.handle.writeAll(bytes), failed),
      // Synced first: renamed over an earlier export, the new one must not be lost to a crash.
      commit: Effect.uninterruptible(
        Effect.gen(function*() {
          yield* opened.handle.sync
          yield* Scope.close(opened.scope, Exit.void)
          yield* fs.rename(temporary, resolved)
          committed = true
          forgetAtExit(temporary)
        }).pipe(Effect.mapError(failed))
      )
    } satisfies ExportOutput
  })

/** The mode of an export file that did not exist: its owner's alone, as it holds drafts. */
export const NEW_FILE_MODE = 0o600

/** Links followed before giving up, as the kernel's ELOOP (40 on Linux). */
const MAX_LINKS = 40

/** A directory anyone may create entries in, each user's only theirs to remove: sticky, written by others (/tmp). */
const STICKY_AND_WORLD_WRITABLE = 0o1002

/**
 * The file writing `target` replaces: `target` made absolute and, while it is a symbolic link, the
 * path it leads to (existing or not), each in its directory's real path, as the kernel resolves a
 * relative link (`..` from where the link is). Renamed over `target` itself, a link to a backup
 * became a file beside it, and the backup it led to was never written.
 *
 * Resolved here, a link is not the kernel's to guard: in a sticky directory anyone may write to,
 * anyone may plant a link (or a file) under the name another user is about to write, and a root
 * export overwrote the file the link led to. So each link on the way, and the file at its end,
 * is refused where the kernel's fs.protected_symlinks and fs.protected_regular refuse it: in such
 * a directory, one that is neither this process's user's nor the directory owner's.
 */
const destinationOf = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  target: string,
  unavailable: (reason: string) => OutputUnavailable
): Effect.Effect<string, OutputUnavailable> =>
  Effect.gen(function*() {
    let current = path.resolve(target)
    for (let links = 0; links <= MAX_LINKS; links++) {
      // A directory that does not exist is said so when the temporary file is created.
      const directory = yield* Effect.orElseSucceed(fs.realPath(path.dirname(current)), () => path.dirname(current))
      const here = path.join(directory, path.basename(current))
      // Not there, or not to be looked at: the temporary file's creation says what is wrong.
      const entry = yield* Effect.option(Effect.tryPromise(() => lstat(here)))
      if (Option.isNone(entry)) return here
      const kind = entry.value.isSymbolicLink() ? "symbolic link" : entry.value.isFile() ? "file" : undefined
      if (kind !== undefined && (yield* plantedIn(fs, directory, entry.value.uid, unavailable))) {
        return yield* unavailable(
          `${here} is another user's ${kind} (uid ${entry.value.uid}) in ${directory}, a sticky directory anyone may write to: ` +
            (kind === "file" ? "not replaced (as fs.protected_regular has it)" : "not followed (as fs.protected_symlinks has it)")
        )
      }
      const link = entry.value.isSymbolicLink() ? yield* Effect.option(fs.readLink(here)) : Option.none()
      if (Option.isNone(link)) return here
      current = path.resolve(directory, link.value)
    }
    return yield* unavailable(`more than ${MAX_LINKS} symbolic links lead from it`)
  })

/**
 * Whether `owner`'s entry in `directory` may have been planted for this process to write through:
 * `directory` is sticky and anyone may write to it, and `owner` is neither this process's user nor
 * the directory's owner (whose entries there are theirs to make). Never where there are no POSIX users.
 */
const plantedIn = (
  fs: FileSystem.FileSystem,
  directory: string,
  owner: number,
  unavailable: (reason: string) => OutputUnavailable
): Effect.Effect<boolean, OutputUnavailable> =>
  Effect.gen(function*() {
    const user = process.geteuid?.()
    if (user === undefined || owner === user) return false
    const info = yield* Effect.mapError(fs.stat(directory), (error) => unavailable(`cannot tell who may write to ${directory}: ${describePlatformError(error)}`))
    if ((info.mode & STICKY_AND_WORLD_WRITABLE) !== STICKY_AND_WORLD_WRITABLE) return false
    return Option.match(info.uid, { onNone: () => true, onSome: (uid) => uid !== owner })
  })

const openFailure = (error: PlatformError, directory: string): string =>
  error._tag === "SystemError" && error.reason === "NotFound"
    ? `directory ${directory} does not exist`
    : error._tag === "SystemError" && error.reason === "PermissionDenied"
    ? `directory ${directory} is not writable`
    : describePlatformError(error)

/**
 * A Node stream (standard output) as an output. A write succeeds once the stream has handed the
 * chunk on (its callback): the next is not made before, and nothing written is still in Node's
 * buffer when the process exits. An error of the stream (EPIPE: the reader is gone) fails the
 * write instead of the process.
 */
export const stream = (
  writable: NodeJS.WritableStream,
  name: string
): Effect.Effect<ExportOutput, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => {
        // Without a listener, an 'error' event is an uncaught exception; the write's callback reports it.
        const ignore = () => {}
        writable.on("error", ignore)
        return ignore
      }),
      (ignore) => Effect.sync(() => writable.removeListener("error", ignore))
    ),
    () => ({
      name,
      write: (bytes) =>
        Effect.async<void, OutputFailed>((resume) => {
          writable.write(bytes, (error) => {
            resume(
              error === null || error === undefined
                ? Effect.void
                : Effect.fail(new OutputFailed({ output: name, reason: describeStreamError(error) }))
            )
          })
        }),
      commit: Effect.void
    })
  )

const describeStreamError = (error: Error): string => {
  const code = (error as { readonly code?: unknown }).code
  return code === "EPIPE" || code === "ERR_STREAM_DESTROYED" ? "the reader closed it" : error.message
}
