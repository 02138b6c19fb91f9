import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, FiberRef, Ref, TestClock } from "effect"
import { countedAsWork, ItemTimeout, runsElsewhere, timeoutItem, waitsItsTurn } from "../../src/Processing/processConcurrently.js"
import { makeManualClock } from "../fixtures/manualClock.js"

const fiveSeconds = Duration.seconds(5)

describe("countedAsWork", () => {
  it.effect("leaves its caller's supervisor as it was, however often it suspends (a batch loop took one item clock per batch)", () =>
    Effect.gen(function*() {
      const before = yield* FiberRef.get(FiberRef.currentSupervisor)
      for (let i = 0; i < 3; i++) {
        const fiber = yield* Effect.fork(countedAsWork(Effect.as(Effect.sleep("1 second"), i)))
        yield* TestClock.adjust("1 second")
        assert.strictEqual(yield* Fiber.join(fiber), i)
        // In the caller itself, as the batch loop runs it:
        const inline = yield* Effect.fork(Effect.zipRight(countedAsWork(Effect.sleep("1 second")), FiberRef.get(FiberRef.currentSupervisor)))
        yield* TestClock.adjust("1 second")
        assert.strictEqual(yield* Fiber.join(inline), before)
      }
    }))
})

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

  it.effect("synchronous work over the deadline fails once done, its result dropped (was: kept, however long it took)", () => {
    const { advance, clock } = makeManualClock()
    return Effect.gen(function*() {
      // Rendering in-process: nothing can interrupt it, and it held the thread for 6 seconds.
      const slow = yield* Effect.exit(timeoutItem(Effect.sync(() => (advance("6 seconds"), "rendered")), fiveSeconds))
      assert.isTrue(isItemTimeout(slow), String(slow))
      assert.strictEqual(yield* timeoutItem(Effect.sync(() => (advance("4 seconds"), "rendered")), fiveSeconds), "rendered")
      // Work that failed on its own says why, not that it was slow.
      const failed = yield* Effect.exit(timeoutItem(Effect.suspend(() => (advance("6 seconds"), Effect.fail("bad input" as const))), fiveSeconds))
      assert.deepStrictEqual(failed, Exit.fail("bad input"))
    }).pipe(Effect.withClock(clock))
  })

  it.effect("an item is not charged with the time other items' work held the thread while it waited (was: it timed out, the slow one did not)", () => {
    const { advance, clock } = makeManualClock()
    return Effect.gen(function*() {
      const waiting = yield* Deferred.make<void>()
      const otherDone = yield* Deferred.make<void>()
      // Waits (for its file, say) while another post renders for 6 seconds: its deadline timer
      // expires meanwhile, yet its own work took no time.
      const innocent = yield* Effect.fork(Effect.exit(timeoutItem(
        Effect.zipRight(Deferred.succeed(waiting, undefined), Effect.as(Deferred.await(otherDone), "stored")),
        fiveSeconds
      )))
      const slow = yield* Effect.fork(Effect.exit(timeoutItem(
        Effect.zipRight(Deferred.await(waiting), Effect.sync(() => (advance("6 seconds"), "rendered"))).pipe(
          Effect.tap(() => Deferred.succeed(otherDone, undefined))
        ),
        fiveSeconds
      )))
      assert.deepStrictEqual(yield* Fiber.join(innocent), Exit.succeed("stored"))
      const slowExit = yield* Fiber.join(slow)
      assert.isTrue(isItemTimeout(slowExit), String(slowExit))
    }).pipe(Effect.withClock(clock))
  })

  it.effect("work on another thread counts whole, however busy this one is; a wait for its turn does not count", () => {
    const { advance, clock } = makeManualClock()
    return Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const released = yield* Deferred.make<void>()
      // 6 seconds rendering elsewhere, while other items' work holds this thread: over the deadline.
      const elsewhere = yield* Effect.fork(Effect.exit(timeoutItem(
        runsElsewhere(Effect.zipRight(Deferred.succeed(started, undefined), Effect.as(Deferred.await(released), "rendered"))),
        fiveSeconds
      )))
      yield* Deferred.await(started)
      yield* countedAsWork(Effect.sync(() => advance("6 seconds")))
      yield* Deferred.succeed(released, undefined)
      const exit = yield* Fiber.join(elsewhere)
      assert.isTrue(isItemTimeout(exit), String(exit))
      // 6 seconds waiting for the thread another post holds, then 1 rendering there: in time.
      const inLine = yield* Deferred.make<void>()
      const turn = yield* Deferred.make<void>()
      const queued = yield* Effect.fork(timeoutItem(
        Effect.zipRight(
          waitsItsTurn(Effect.zipRight(Deferred.succeed(inLine, undefined), Deferred.await(turn))),
          runsElsewhere(Effect.sync(() => (advance("1 second"), "rendered")))
        ),
        fiveSeconds
      ))
      yield* Deferred.await(inLine)
      advance("6 seconds")
      yield* Deferred.succeed(turn, undefined)
      assert.strictEqual(yield* Fiber.join(queued), "rendered")
    }).pipe(Effect.withClock(clock))
  })
})

const isItemTimeout = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error instanceof ItemTimeout
