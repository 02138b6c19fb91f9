import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, Ref, TestClock } from "effect"
import { ItemTimeout, timeoutItem } from "../../src/Processing/processConcurrently.js"

const fiveSeconds = Duration.seconds(5)

describe("timeoutItem", () => {
  it.effect("synchronous work answers at once, its failures unchanged", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* timeoutItem(Effect.sync(() => 42), fiveSeconds), 42)
      const failed = yield* Effect.exit(timeoutItem(Effect.fail("bad input" as const), fiveSeconds))
      assert.deepStrictEqual(failed, Exit.fail("bad input"))
    }))

  it.effect("work that suspends and ends in time keeps its value", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(timeoutItem(Effect.as(Effect.sleep("4 seconds"), "done"), fiveSeconds))
      yield* TestClock.adjust("4 seconds")
      assert.strictEqual(yield* Fiber.join(fiber), "done")
    }))

  it.effect("work over the deadline fails with ItemTimeout and is interrupted", () =>
    Effect.gen(function*() {
      const interrupted = yield* Ref.make(false)
      const work = Effect.as(Effect.sleep("10 seconds"), "late").pipe(
        Effect.onInterrupt(() => Ref.set(interrupted, true))
      )
      const fiber = yield* Effect.fork(Effect.exit(timeoutItem(work, fiveSeconds)))
      yield* TestClock.adjust("5 seconds")
      const exit = yield* Fiber.join(fiber)
      assert.isTrue(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error instanceof ItemTimeout)
      assert.isTrue(yield* Ref.get(interrupted))
    }))

  it.effect("interrupting the caller interrupts the work it waits for", () =>
    Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const interrupted = yield* Ref.make(false)
      const work = Deferred.succeed(started, undefined).pipe(
        Effect.zipRight(Effect.never),
        Effect.onInterrupt(() => Ref.set(interrupted, true))
      )
      const fiber = yield* Effect.fork(timeoutItem(work, fiveSeconds))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      assert.isTrue(yield* Ref.get(interrupted))
    }))
})
