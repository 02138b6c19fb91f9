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
 *
 * `makeBatched` is the same stage for work that is cheaper in bulk: each worker takes whatever
 * is queued, up to `maxBatch` items, without waiting for more (a trickling source is never held
 * back to fill a batch), and hands on every result.
 */
import { Chunk, Deferred, Effect, Fiber, Mailbox, Option, type Scope, Stream } from "effect"
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
  /**
   * Enqueues `items` in order, suspending while the input queue is full: `submit` for each,
   * without an Effect per item (a source's chunks go in as they come).
   */
  readonly submitAll: (items: Iterable<I>) => Effect.Effect<void, ProcessorShutdown>
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
  makeBatched((items: Chunk.Chunk<I>) => Effect.map(f(Chunk.unsafeHead(items)), Chunk.of), { ...options, maxBatch: 1 })

/**
 * At least one item (waiting for it), then whatever else is queued, up to `max` in all.
 * `Mailbox.takeN` would wait for all `max`.
 */
const takeUpTo = <I>(input: Mailbox.Mailbox<I>, max: number): Effect.Effect<Option.Option<Chunk.Chunk<I>>> =>
  Effect.flatMap(Effect.option(input.take), (first) => {
    if (Option.isNone(first) || max === 1) return Effect.succeed(Option.map(first, Chunk.of))
    const queued = Option.getOrElse(input.unsafeSize(), () => 0)
    if (queued === 0) return Effect.succeed(Option.some(Chunk.of(first.value)))
    // Copied out at once: a chunk from `takeN` shares structure with the mailbox's own buffer,
    // and read later (after more offers) it came out wrong here (Effect 3.22: of 60 items
    // offered through a capacity of 4, 24 arrived).
    return Effect.map(
      input.takeN(Math.min(queued, max - 1)),
      ([rest]) => Option.some(Chunk.unsafeFromArray([first.value, ...Chunk.toReadonlyArray(rest)]))
    )
  })

/** `make` for work done in bulk: `f` gets up to `maxBatch` queued items and returns their results. */
export const makeBatched = <I, O, R>(
  f: (items: Chunk.Chunk<I>) => Effect.Effect<Iterable<O>, never, R>,
  options: ProcessorOptions & { readonly maxBatch: number }
): Effect.Effect<Processor<I, O>, never, Scope.Scope | R> =>
  Effect.gen(function*() {
    const input = yield* Mailbox.make<I>({ capacity: Math.max(1, options.inputCapacity) })
    const output = yield* Mailbox.make<O>({ capacity: Math.max(1, options.outputCapacity) })
    const done = yield* Deferred.make<void>()
    let accepting = true

    const maxBatch = Math.max(1, options.maxBatch)
    const worker = Effect.gen(function*() {
      for (;;) {
        const next = yield* takeUpTo(input, maxBatch)
        if (Option.isNone(next)) return
        const results = yield* f(next.value)
        yield* output.offerAll(results)
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
    const submitAll = (items: Iterable<I>) =>
      Effect.flatMap(input.offerAll(items), (rest) => Chunk.isEmpty(rest) ? Effect.void : Effect.fail(new ProcessorShutdown()))
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
      submitAll,
      trySubmit,
      results: Mailbox.toStream(output),
      shutdown,
      awaitDone: Deferred.await(done),
      buffered: Effect.map(input.size, Option.getOrElse(() => 0))
    }
  })
