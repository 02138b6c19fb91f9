/**
 * Where an export's bytes go: a file written whole or not at all, or a stream (standard output)
 * written chunk by chunk. Either way a chunk is written before the next is asked for, so an
 * export holds one chunk (one page of posts) whatever its size.
 */
import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Exit, Option, Schema, Scope } from "effect"
import { forgetAtExit, removeAtExit } from "../Domain/removeAtExit.js"
import { describePlatformError } from "../Import/FileSource.js"

/** The output cannot be written at all: found out before anything is exported. */
export class OutputUnavailable extends Schema.TaggedError<OutputUnavailable>()("OutputUnavailable", {
  output: Schema.String,
  reason: Schema.String
}) {
  get message() {
    return `cannot write to ${this.output}: ${this.reason}`
  }
}

/** Writing the output failed part way (a full disk, a reader gone). Nothing is left of a file output. */
export class OutputFailed extends Schema.TaggedError<OutputFailed>()("OutputFailed", {
  output: Schema.String,
  reason: Schema.String
}) {
  get message() {
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
 * `target`, written through a temporary file in its directory (`.<name>.<pid>-<random>.tmp`,
 * created exclusively), synced and renamed over `target` by `commit`. Until then `target` is as it
 * was (absent, or an earlier export): when the scope closes without a commit (interrupted by
 * Ctrl-C or SIGTERM, or failed) the temporary file is removed, and so it is when the process
 * exits with the scope still open (a second Ctrl-C: `removeAtExit`). A rename within one
 * directory is atomic, so a reader of `target` sees the old file or the whole new one, never part of one.
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
    const resolved = path.resolve(target)
    const directory = path.dirname(resolved)
    const unavailable = (reason: string) => new OutputUnavailable({ output: target, reason })
    // Found only by the final rename otherwise: after the whole export was written.
    const existing = yield* Effect.option(fs.stat(resolved))
    if (Option.isSome(existing) && existing.value.type !== "File") {
      return yield* unavailable(`it is a ${existing.value.type.toLowerCase()}, not a file`)
    }
    const temporary = path.join(directory, `.${path.basename(resolved)}.${process.pid}-${randomSuffix()}.tmp`)
    let committed = false
    const opened = yield* Effect.acquireRelease(
      Effect.gen(function*() {
        // The handle's own scope, closed by `commit` (before the rename) or on release.
        const scope = yield* Scope.make()
        const handle = yield* fs.open(temporary, { flag: "wx" }).pipe(
          Scope.extend(scope),
          Effect.onError(() => Scope.close(scope, Exit.void)),
          Effect.mapError((error) => unavailable(openFailure(error, directory)))
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
