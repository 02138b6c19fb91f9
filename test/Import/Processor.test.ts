/**
 * The bounded Processor: backpressure on `submit`, `BufferFull` from `trySubmit`, and the two
 * shutdown modes. Blocking is shown with latches and Deferreds, never with sleeps.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Exit, Fiber, Option, Ref, Stream } from "effect"
import * as Processor from "../../src/Import/Processor.js"

/** Lets every runnable fiber run until it blocks. */
const settle = Effect.repeatN(Effect.yieldNow(), 50)

/** A processor whose single worker signals `started` and then waits for `gate`. */
const gated = (capacity: number) =>
  Effect.gen(function*() {
    const gate = yield* Effect.makeLatch(false)
    const started = yield* Deferred.make<number>()
    const processor = yield* Processor.make(
      (n: number) => Effect.zipRight(Deferred.succeed(started, n), gate.whenOpen(Effect.succeed(n * 10))),
      { concurrency: 1, inputCapacity: capacity, outputCapacity: 16 }
    )
    return { gate, started, processor }
  })

/** Opens the gate, waits for the producer (which shuts the processor down) and collects every result. */
const releaseAndCollect = <A, E>(
  gate: Effect.Latch,
  producer: Fiber.Fiber<A, E>,
  processor: Processor.Processor<number, number>
) =>
  Effect.gen(function*() {
    yield* gate.open
    yield* Fiber.join(producer)
    return Chunk.toReadonlyArray(yield* Stream.runCollect(processor.results))
  })

describe("Processor", () => {
  it.scoped("submit suspends the producer while the queue is full and resumes when it drains", () =>
    Effect.gen(function*() {
      const { gate, processor, started } = yield* gated(2)
      const submitted = yield* Ref.make(0)
      const producer = yield* Effect.forEach([1, 2, 3, 4, 5], (n) =>
        Effect.zipRight(processor.submit(n), Ref.update(submitted, (k) => k + 1))).pipe(
          Effect.zipRight(processor.shutdown("drain")),
          Effect.fork
        )
      assert.strictEqual(yield* Deferred.await(started), 1)
      yield* settle
      // One item held by the worker, two in the queue; the fourth submit is waiting.
      assert.strictEqual(yield* Ref.get(submitted), 3)
      assert.strictEqual(yield* processor.buffered, 2)
      assert.isTrue(Option.isNone(yield* Fiber.poll(producer)))

      assert.deepStrictEqual(yield* releaseAndCollect(gate, producer, processor), [10, 20, 30, 40, 50])
      assert.strictEqual(yield* Ref.get(submitted), 5)
    }))

  it.scoped("submitAll enqueues what fits, suspends for the rest and keeps the order", () =>
    Effect.gen(function*() {
      const { gate, processor, started } = yield* gated(2)
      yield* processor.submit(1)
      assert.strictEqual(yield* Deferred.await(started), 1)
      const producer = yield* processor.submitAll([2, 3, 4, 5]).pipe(
        Effect.zipRight(processor.shutdown("drain")),
        Effect.fork
      )
      yield* settle
      // The worker holds 1; 2 and 3 fill the queue; 4 and 5 wait with the producer.
      assert.strictEqual(yield* processor.buffered, 2)
      assert.isTrue(Option.isNone(yield* Fiber.poll(producer)))

      assert.deepStrictEqual(yield* releaseAndCollect(gate, producer, processor), [10, 20, 30, 40, 50])
      const late = yield* Effect.flip(processor.submitAll([6]))
      assert.strictEqual(late._tag, "ProcessorShutdown")
    }))

  it.scoped("trySubmit fails with BufferFull instead of waiting", () =>
    Effect.gen(function*() {
      const { processor, started } = yield* gated(2)
      yield* processor.trySubmit(1)
      yield* Deferred.await(started)
      yield* processor.trySubmit(2)
      yield* processor.trySubmit(3)
      const full = yield* Effect.flip(processor.trySubmit(4))
      assert.strictEqual(full._tag, "BufferFull")
      assert.strictEqual(full._tag === "BufferFull" ? full.capacity : -1, 2)
    }))

  it.scoped("shutdown drain processes what is buffered, then ends the results", () =>
    Effect.gen(function*() {
      const { gate, processor, started } = yield* gated(4)
      yield* Effect.forEach([1, 2, 3], processor.submit)
      yield* Deferred.await(started)
      yield* processor.shutdown("drain")
      const late = yield* Effect.flip(processor.submit(9))
      assert.strictEqual(late._tag, "ProcessorShutdown")
      yield* gate.open
      const results = yield* Stream.runCollect(processor.results)
      assert.deepStrictEqual(Chunk.toReadonlyArray(results), [10, 20, 30])
    }))

  it.scoped("shutdown discard drops the buffer, interrupts the item in flight and ends the results", () =>
    Effect.gen(function*() {
      const interrupted = yield* Deferred.make<void>()
      const started = yield* Deferred.make<void>()
      const processor = yield* Processor.make(
        (n: number) =>
          n === 1
            ? Effect.zipRight(Deferred.succeed(started, undefined), Effect.never).pipe(
              Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))
            )
            : Effect.succeed(n),
        { concurrency: 1, inputCapacity: 4, outputCapacity: 4 }
      )
      yield* Effect.forEach([1, 2, 3], processor.submit)
      yield* Deferred.await(started)
      yield* processor.shutdown("discard")
      yield* Deferred.await(interrupted)
      const results = yield* Stream.runCollect(processor.results)
      assert.strictEqual(Chunk.size(results), 0)
      yield* processor.awaitDone
      const exit = yield* Effect.exit(processor.trySubmit(4))
      assert.isTrue(Exit.isFailure(exit))
    }))

  it.scoped("a bounded output queue stops the workers until results are read", () =>
    Effect.gen(function*() {
      const processed = yield* Ref.make(0)
      const processor = yield* Processor.make(
        (n: number) => Effect.as(Ref.update(processed, (k) => k + 1), n),
        { concurrency: 2, inputCapacity: 10, outputCapacity: 2 }
      )
      yield* Effect.forEach([1, 2, 3, 4, 5, 6, 7, 8], processor.submit)
      yield* settle
      // Two results in the output queue plus one finished item blocked in `offer` per worker.
      assert.strictEqual(yield* Ref.get(processed), 4)
      yield* processor.shutdown("drain")
      const results = yield* Stream.runCollect(processor.results)
      assert.deepStrictEqual([...Chunk.toReadonlyArray(results)].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8])
    }))

  it.scoped("makeBatched: every item arrives once through small queues, in batches of what was queued", () =>
    Effect.gen(function*() {
      const batches: Array<ReadonlyArray<number>> = []
      const processor = yield* Processor.makeBatched(
        (items: Chunk.Chunk<number>) =>
          Effect.sync(() => {
            batches.push(Chunk.toReadonlyArray(items))
            return Chunk.toReadonlyArray(items).map((n) => n * 10)
          }),
        { concurrency: 2, inputCapacity: 4, outputCapacity: 4, maxBatch: 32 }
      )
      yield* Stream.range(1, 60).pipe(Stream.runForEach(processor.submit), Effect.ensuring(processor.shutdown("drain")), Effect.forkScoped)
      const results = Chunk.toReadonlyArray(yield* Stream.runCollect(processor.results))
      // Effect 3.22's Mailbox.takeN chunks, read late, lost 24 of these 60 (Processor.ts copies them out).
      assert.deepStrictEqual([...results].sort((a, b) => a - b), Array.from({ length: 60 }, (_, i) => (i + 1) * 10))
      assert.deepStrictEqual(batches.flat().sort((a, b) => a - b), Array.from({ length: 60 }, (_, i) => i + 1))
      assert.isTrue(batches.every((batch) => batch.length >= 1 && batch.length <= 5))
      assert.isTrue(batches.some((batch) => batch.length > 1), "queued items are taken together")
    }))

  it.scoped("makeBatched never waits to fill a batch: one item alone is processed", () =>
    Effect.gen(function*() {
      const processor = yield* Processor.makeBatched(
        (items: Chunk.Chunk<string>) => Effect.succeed(Chunk.toReadonlyArray(items)),
        { concurrency: 1, inputCapacity: 8, outputCapacity: 8, maxBatch: 32 }
      )
      yield* processor.submit("alone")
      // The input stays open: a batch that waited for more would never come out.
      const first = yield* Stream.runHead(processor.results)
      // A plain value: chai's deep equality takes Option.some(x) and Option.none() for equal.
      assert.strictEqual(Option.getOrUndefined(first), "alone")
    }))
})
