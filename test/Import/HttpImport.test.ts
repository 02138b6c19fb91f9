/**
 * `importNdjson` when its client leaves: the import goes on in the fibers the server owns (not a
 * daemon), so that the server's shutdown ends it, and an end other than its summary is said at
 * ERROR. The client leaving is the platform's interruption of the handler (`clientAbortFiberId`),
 * the server's shutdown the closing of the scope its fibers live in.
 */
import { HttpServerError } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, FiberSet, Layer, Logger, Option, Scope, Stream, TestClock } from "effect"
import { importNdjson } from "../../src/Import/HttpImport.js"
import { makePostProcessor, PostProcessor } from "../../src/Processing/PostProcessor.js"
import { defaultProcessorConfig } from "../../src/Processing/processPost.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"

const encoder = new TextEncoder()
const line = (title: string) => encoder.encode(`${JSON.stringify({ title, body: `Text of ${title}.` })}\n`)

/** The real processor, but a post titled "Stuck" is processed until it is interrupted, which `interrupted` says. */
const stuckProcessor = (stuck: Deferred.Deferred<void>, interrupted: Deferred.Deferred<void>) => {
  const base = makePostProcessor(defaultProcessorConfig)
  return Layer.succeed(PostProcessor, {
    process: base.process,
    fromInput: (input, source) =>
      input.title === "Stuck"
        ? Effect.zipRight(Deferred.succeed(stuck, undefined), Effect.never).pipe(Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined)))
        : base.fromInput(input, source)
  })
}

/** Log lines as `LEVEL message`. */
const capture = (lines: Array<string>) =>
  Logger.replace(Logger.defaultLogger, Logger.make(({ logLevel, message }) => lines.push(`${logLevel.label} ${String(message)}`)))

describe("importNdjson after its client left", () => {
  it.live("the server's shutdown ends it, and says so at ERROR (was: a daemon, running on past the shutdown)", () =>
    Effect.gen(function*() {
      const stuck = yield* Deferred.make<void>()
      const interrupted = yield* Deferred.make<void>()
      const logged: Array<string> = []
      const serverScope = yield* Scope.make()
      const fibers = yield* FiberSet.make<unknown, unknown>().pipe(Scope.extend(serverScope))
      // A fiber of its own, as the server runs a request: a test that fails does not wait for it.
      const handler = yield* Effect.forkDaemon(
        importNdjson(Stream.make(line("Stuck")), { fibers }).pipe(
          Effect.provide(Layer.mergeAll(MemoryPostRepository.layer, stuckProcessor(stuck, interrupted), capture(logged)))
        )
      )
      yield* Deferred.await(stuck)
      handler.unsafeInterruptAsFork(HttpServerError.clientAbortFiberId)
      yield* Scope.close(serverScope, Exit.void)
      yield* Deferred.await(interrupted).pipe(
        Effect.timeoutFail({ duration: "1 second", onTimeout: () => new Error("the import runs on past the shutdown") })
      )
      assert.isTrue(Exit.isInterrupted(yield* Fiber.await(handler)))
      assert.deepStrictEqual(logged.filter((l) => l.startsWith("ERROR")), [
        "ERROR the client of a bulk import left before the answer, and the import was interrupted before it ended (the server stopping): the batches it had committed stay, the lines it read after them were not written"
      ])
    }))

  it.effect("an end by a defect after the client left is said at ERROR, with what it was (was: nothing said at all)", () =>
    Effect.gen(function*() {
      const stuck = yield* Deferred.make<void>()
      const interrupted = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const logged: Array<string> = []
      // The pipeline turns its stages' defects into failures in the summary; what it is given to
      // watch is not one of them.
      const stop = Effect.zipRight(Deferred.await(release), Effect.dieMessage("the shutdown signal broke"))
      // A fiber of its own, as the server runs a request: a test that fails does not wait for it.
      const handler = yield* Effect.forkDaemon(
        Effect.scoped(Effect.flatMap(FiberSet.make<unknown, unknown>(), (fibers) => importNdjson(Stream.make(line("Stuck")), { fibers, stop }))).pipe(
          Effect.provide(Layer.mergeAll(MemoryPostRepository.layer, stuckProcessor(stuck, interrupted), capture(logged)))
        )
      )
      yield* Deferred.await(stuck)
      handler.unsafeInterruptAsFork(HttpServerError.clientAbortFiberId)
      yield* Deferred.succeed(release, undefined)
      assert.isTrue(Exit.isInterrupted(yield* Fiber.await(handler)))
      assert.deepStrictEqual(logged.filter((l) => l.startsWith("ERROR")), [
        "ERROR the client of a bulk import left before the answer, and the import failed: the shutdown signal broke; the batches it had committed stay"
      ])
    }))

  /**
   * A body of one line that then sends nothing, read by an import whose client leaves once it has
   * read the line; `end` then ends the import. Returns the warning said of its client leaving.
   */
  const leftThenEnded = (options: { readonly stop?: Effect.Effect<void>; readonly timeout?: Duration.Duration }, end: Effect.Effect<void>) =>
    Effect.gen(function*() {
      const waiting = yield* Deferred.make<void>()
      const warned = yield* Deferred.make<string>()
      const logger = Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ logLevel, message }) => {
          const text = String(message)
          if (logLevel.label === "WARN" && text.startsWith("the client of")) Deferred.unsafeDone(warned, Exit.succeed(text))
        })
      )
      // Past its line, the body waits for more that never comes.
      const body = Stream.concat(Stream.make(line("Kept")), Stream.fromEffect(Deferred.succeed(waiting, undefined)).pipe(Stream.drain, Stream.concat(Stream.never)))
      const handler = yield* Effect.forkDaemon(
        Effect.scoped(Effect.flatMap(FiberSet.make<unknown, unknown>(), (fibers) =>
          importNdjson(body, { fibers, stop: options.stop, timeout: Option.fromNullable(options.timeout) })
        )).pipe(Effect.provide(Layer.mergeAll(MemoryPostRepository.layer, PostProcessor.layer(defaultProcessorConfig), logger)))
      )
      yield* Deferred.await(waiting)
      handler.unsafeInterruptAsFork(HttpServerError.clientAbortFiberId)
      yield* end
      return yield* Deferred.await(warned)
    })

  it.effect("one that a shutdown stopped says so, not that it went on to its end (was: \"the import ended after what it had read\" whatever stopped it)", () =>
    Effect.gen(function*() {
      const shutdown = yield* Deferred.make<void>()
      const warning = yield* leftThenEnded({ stop: Deferred.await(shutdown) }, Deferred.succeed(shutdown, undefined))
      // How many of its lines were written depends on where the shutdown found them.
      assert.match(warning, /^the client of a bulk import left before the answer; the server's shutdown stopped the import before the end of what it had read: [01] imported, /)
    }))

  it.effect("one that IMPORT_TIMEOUT stopped says so", () =>
    Effect.gen(function*() {
      const warning = yield* leftThenEnded(
        { timeout: Duration.seconds(30) },
        TestClock.adjust("30 seconds")
      )
      assert.match(warning, /^the client of a bulk import left before the answer; the import ran out of time \(IMPORT_TIMEOUT\) before the end of what it had read: [01] imported, /)
    }))
})
