/**
 * The import pipeline over a request body: `POST /posts/import` hands its NDJSON body here as a
 * Stream, so the body is pulled only as fast as the queues drain (backpressure reaches the
 * socket) and a large upload never sits in memory whole.
 */
import { FileSystem, HttpServerError } from "@effect/platform"
import { Cause, Effect, Exit, Fiber, FiberSet, HashSet, type Stream } from "effect"
import { describeFailure } from "../Domain/describeFailure.js"
import type { PostProcessor } from "../Processing/PostProcessor.js"
import type { PostRepository } from "../Posts/PostRepository.js"
import type { ImportOptions } from "./ImportConfig.js"
import * as ImportPipeline from "./ImportPipeline.js"
import { ndjson } from "./ImportSource.js"
import type { ImportSummary } from "./ImportSummary.js"

/**
 * Imports NDJSON records from `body`. Failures are reported as `"<name>:<line>"` in the summary;
 * a body that stops with an error (client gone, invalid UTF-8) ends the import after what was
 * read, with that error among the failures (see `outlivingClient` for a client gone); one that
 * dies (a defect) ends it the same way, but with status "failed" and the failure named `input`. When
 * `stop` completes (the server is shutting down) the import ends after the batch in flight and
 * answers its summary, status "interrupted". `fibers` is where the import runs, so that it can
 * outlive its client (`outlivingClient`): the server's (`ServerFibers`), whose shutdown ends it.
 */
export const importNdjson = <E, R>(
  body: Stream.Stream<Uint8Array, E, R>,
  options: Partial<ImportOptions> & {
    readonly name?: string
    readonly stop?: Effect.Effect<void> | undefined
    readonly fibers?: FiberSet.FiberSet<unknown, unknown> | undefined
  } = {}
): Effect.Effect<ImportSummary, never, R | PostProcessor | PostRepository> => {
  const { name = "request", stop, fibers, ...rest } = options
  const source = ndjson(name, body, { maxPostBytes: rest.maxPostBytes ?? 5 * 1024 * 1024 })
  // With `dryRun`, each batch is checked against the repository and rolled back: nothing is written.
  const run = ImportPipeline.run(source, rest, { stop })
  // A body holds records, never file paths: no file system is ever touched.
  return outlivingClient(Effect.provide(run, FileSystem.layerNoop({})), fibers, BULK).pipe(Effect.withSpan("HttpImport.importNdjson"))
}

/** What the log says of an import whose client left (`outlivingClient`). */
export interface LeftImport {
  /** "a bulk import". */
  readonly name: string
  /** What it does once its client has left: "the import goes on with what it has read". */
  readonly goesOn: string
  /** How the import ended once its client had left, when it ran to its end: "the import ended after what it had read". */
  readonly ended: string
  /** Where it would have ended, for one that stopped before (a shutdown, IMPORT_TIMEOUT): "the end of what it had read". */
  readonly end: string
  /** What it had read but not written when a shutdown interrupted it: "the lines it read after them". */
  readonly unwritten: string
}

const BULK: LeftImport = {
  name: "a bulk import",
  goesOn: "the import goes on with what it has read",
  ended: "the import ended after what it had read",
  end: "the end of what it had read",
  unwritten: "the lines it read after them"
}

/**
 * `run`, which goes on when the request's client leaves. The server interrupts a handler whose
 * connection closed: the import stopped wherever it was, the lines read but not yet written (a
 * batch window's worth) were dropped, what had been committed was never said, and the log had
 * only `POST /posts/import 499`. Left running, it reads the body to where it was cut (that error
 * is one of its failures), writes the complete lines it read, and says in one warning what it
 * committed, as nobody receives its summary; or, ending otherwise (a defect, or interrupted by a
 * shutdown that did not wait for it), says so at ERROR. Any other interruption (a host's own
 * timeout) stops it at once; a shutdown ends it through `stop`, after the batch in flight. An
 * import from URLs (`POST /posts/import-url`) goes on to the end of its sources the same way. The
 * warning says how it ended: a shutdown or IMPORT_TIMEOUT may stop it first.
 *
 * It runs in `fibers`, a scope the server owns, not as a daemon: a shutdown that closed the
 * database while an abandoned import still ran failed its batches against a closed pool. The
 * server's drain waits for it with the requests, then interrupts it. Without `fibers` (a caller
 * with no server), a daemon. `kind` says in the log which import it was.
 */
export const outlivingClient = <R>(
  run: Effect.Effect<ImportSummary, never, R>,
  fibers: FiberSet.FiberSet<unknown, unknown> | undefined,
  kind: LeftImport
): Effect.Effect<ImportSummary, never, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(fibers === undefined ? Effect.forkDaemon(restore(run)) : FiberSet.run(fibers, restore(run)), (fiber) =>
      restore(Fiber.join(fiber)).pipe(
        Effect.onInterrupt((interruptors) =>
          HashSet.has(interruptors, HttpServerError.clientAbortFiberId)
            ? Effect.zipRight(
              // Said when it happens: the import may run on for minutes, its 499 logged only then.
              Effect.logInfo(`the client of ${kind.name} left before the answer; ${kind.goesOn}`),
              Effect.flatMap(Fiber.await(fiber), (exit) =>
                Exit.isSuccess(exit) ? Effect.logWarning(clientLeft(exit.value, kind)) : Effect.logError(clientLeftUnfinished(exit.cause, kind), exit.cause))
            )
            : Fiber.interrupt(fiber)
        )
      ))
  )

/**
 * How an import whose client left ended, by its status: one that a shutdown or IMPORT_TIMEOUT
 * stopped was said to have gone on to the end of its sources.
 */
const howEnded = (summary: ImportSummary, kind: LeftImport): string => {
  switch (summary.status) {
    case "completed":
      return kind.ended
    case "interrupted":
      return `the server's shutdown stopped the import before ${kind.end}`
    case "timed-out":
      return `the import ran out of time (IMPORT_TIMEOUT) before ${kind.end}`
    case "failed":
      return `the import failed before ${kind.end}`
  }
}

/** What an import whose client left did, in one line. */
const clientLeft = (summary: ImportSummary, kind: LeftImport): string => {
  const written = summary.dryRun
    ? `${summary.valid} valid (a dry run: nothing written)`
    : `${summary.imported} imported, ${summary.updated} updated, ${summary.unchanged} unchanged`
  const last = summary.failures[summary.failures.length - 1]
  const failed = last === undefined ? "0 failed" : `${summary.failed} failed (last: ${last.source}: ${last.reason})`
  return `the client of ${kind.name} left before the answer; ${howEnded(summary, kind)}: ${written}, ${summary.skipped} skipped, ${failed}`
}

/** What an import whose client left said when it did not end with its summary. */
const clientLeftUnfinished = (cause: Cause.Cause<never>, kind: LeftImport): string =>
  Cause.isInterruptedOnly(cause)
    ? `the client of ${kind.name} left before the answer, and the import was interrupted before it ended (the server stopping): the batches it had committed stay, ${kind.unwritten} were not written`
    : `the client of ${kind.name} left before the answer, and the import failed: ${describeFailure(Cause.squash(cause))}; the batches it had committed stay`
