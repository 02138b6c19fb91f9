/**
 * A reusable worker stage between two bounded queues (the seed's Processor with bounded
 * channels): producers `submit` items, `concurrency` fibers apply `f`, results come out as a
 * Stream. Memory is bounded by the two capacities plus the items in flight.
 *
 * - `submit` suspends the producer while the input queue is full (backpressure);
 * - `trySubmit` fails at once with `BufferFull` instead;
 * - `shutdown("drain")` stops accepting, lets every buffered item be processed, then ends
 *   `results`; `shutdown("discard")` drops what is buffered, interrupts the items in flight and
 *   ends `results` at once.
 *
 * Results arrive in completion order, not submission order. `f` cannot fail: isolate failures
 * inside it (e.g. with `Effect.exit`), so one bad item never stops a worker.
 */
import { Deferred, Effect, Fiber, Mailbox, Option, type Scope, Stream } from "effect"
import { BufferFull, ProcessorShutdown } from "./ImportErrors.js"

export interface ProcessorOptions {
  readonly concurrency: number
  readonly inputCapacity: number
  readonly outputCapacity: number
}

export type ShutdownMode = "drain" | "discard"

export interface Processor<in I, out O> {
  /** Enqueues `item`, suspending while the input queue is full. */
  readonly submit: (item: I) => Effect.Effect<void, ProcessorShutdown>
  /** Enqueues `item` or fails at once with `BufferFull`. */
  readonly trySubmit: (item: I) => Effect.Effect<void, BufferFull | ProcessorShutdown>
  /** Every result, ending after a shutdown once the workers are done. Consume it once. */
  readonly results: Stream.Stream<O>
  readonly shutdown: (mode: ShutdownMode) => Effect.Effect<void>
  /** Completes when every worker has stopped (after a shutdown). */
  readonly awaitDone: Effect.Effect<void>
  /** Items waiting in the input queue. */
  readonly buffered: Effect.Effect<number>
}

/** Starts the workers in the current scope; closing the scope interrupts them. */
export const make = <I, O, R>(
  f: (item: I) => Effect.Effect<O, never, R>,
  options: ProcessorOptions
): Effect.Effect<Processor<I, O>, never, Scope.Scope | R> =>
  Effect.gen(function*() {
    const input = yield* Mailbox.make<I>({ capacity: Math.max(1, options.inputCapacity) })
    const output = yield* Mailbox.make<O>({ capacity: Math.max(1, options.outputCapacity) })
    const done = yield* Deferred.make<void>()
    let accepting = true

    const worker = Effect.gen(function*() {
      for (;;) {
        const next = yield* Effect.option(input.take)
        if (Option.isNone(next)) return
        const result = yield* f(next.value)
        yield* output.offer(result)
      }
    })
    const workers = yield* Effect.replicateEffect(worker, Math.max(1, options.concurrency), {
      concurrency: "unbounded",
      discard: true
    }).pipe(
      Effect.ensuring(Effect.zipRight(output.end, Deferred.succeed(done, undefined))),
      Effect.forkScoped
    )

    const submit = (item: I) =>
      Effect.flatMap(input.offer(item), (accepted) => accepted ? Effect.void : Effect.fail(new ProcessorShutdown()))
    const trySubmit = (item: I) =>
      Effect.suspend((): Effect.Effect<void, BufferFull | ProcessorShutdown> => {
        if (!accepting) return Effect.fail(new ProcessorShutdown())
        return input.unsafeOffer(item)
          ? Effect.void
          : Effect.fail(new BufferFull({ capacity: options.inputCapacity }))
      })
    const shutdown = (mode: ShutdownMode) =>
      Effect.suspend(() => {
        accepting = false
        return mode === "drain"
          ? Effect.asVoid(input.end)
          : Effect.all([input.shutdown, Fiber.interrupt(workers), output.shutdown], { discard: true })
      })

    return {
      submit,
      trySubmit,
      results: Mailbox.toStream(output),
      shutdown,
      awaitDone: Deferred.await(done),
      buffered: Effect.map(input.size, Option.getOrElse(() => 0))
    }
  })
