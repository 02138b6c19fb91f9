import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, FastCheck as fc, Ref, Supervisor, TestClock } from "effect"
import { AcquireTimeout, FairSemaphore } from "../../src/Database/FairSemaphore.js"

/** Lets every forked fiber run until it blocks. */
const settle = Effect.repeatN(Effect.yieldNow(), 20)

describe("FairSemaphore", () => {
  it.effect("tryTake takes a free permit at once, never one a waiter is owed, and releaseTaken hands it on", () =>
    Effect.gen(function*() {
      const sem = new FairSemaphore(1)
      assert.isTrue(sem.tryTake())
      assert.isFalse(sem.tryTake())
      assert.strictEqual(sem.stats.inUse, 1)
      const ran = yield* Ref.make(false)
      const gate = yield* Deferred.make<void>()
      const waiter = yield* Effect.fork(sem.withPermit(Effect.zipRight(Ref.set(ran, true), Deferred.await(gate))))
      yield* settle
      assert.strictEqual(sem.stats.waiting, 1)
      sem.releaseTaken()
      yield* settle
      // The permit went to the waiter: a newcomer does not overtake it.
      assert.isTrue(yield* Ref.get(ran))
      assert.isFalse(sem.tryTake())
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(waiter)
      assert.deepStrictEqual(sem.stats, { permits: 1, available: 1, inUse: 0, waiting: 0, totalAcquired: 2, timeouts: 0 })
    }))

  it.effect("serves waiters in FIFO order", () =>
    Effect.gen(function*() {
      const sem = new FairSemaphore(1)
      const gate = yield* Deferred.make<void>()
      const order = yield* Ref.make<ReadonlyArray<number>>([])
      const holder = yield* Effect.fork(sem.withPermit(Deferred.await(gate)))
      yield* settle
      const waiters = []
      for (let i = 0; i < 20; i++) {
        waiters.push(yield* Effect.fork(sem.withPermit(Ref.update(order, (o) => [...o, i]))))
        yield* settle
      }
      assert.strictEqual(sem.stats.waiting, 20)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holder)
      yield* Effect.forEach(waiters, Fiber.join)
      assert.deepStrictEqual(yield* Ref.get(order), Array.from({ length: 20 }, (_, i) => i))
      assert.deepStrictEqual(sem.stats, { permits: 1, available: 1, inUse: 0, waiting: 0, totalAcquired: 21, timeouts: 0 })
    }))

  it.effect("never runs more than `permits` at once, and reaches it", () =>
    Effect.gen(function*() {
      const sem = new FairSemaphore(3)
      const current = yield* Ref.make(0)
      const max = yield* Ref.make(0)
      const work = Effect.gen(function*() {
        const now = yield* Ref.updateAndGet(current, (n) => n + 1)
        yield* Ref.update(max, (m) => Math.max(m, now))
        yield* Effect.yieldNow()
        yield* Effect.yieldNow()
        yield* Ref.update(current, (n) => n - 1)
      })
      yield* Effect.forEach(Array.from({ length: 200 }), () => sem.withPermit(work), { concurrency: "unbounded" })
      assert.strictEqual(yield* Ref.get(max), 3)
      assert.strictEqual(sem.stats.available, 3)
    }))

  it.effect("an interrupted waiter leaves the line and the next one is served", () =>
    Effect.gen(function*() {
      const sem = new FairSemaphore(1)
      const gate = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(sem.withPermit(Deferred.await(gate)))
      yield* settle
      const first = yield* Effect.fork(sem.withPermit(Effect.succeed("first")))
      yield* settle
      const second = yield* Effect.fork(sem.withPermit(Effect.succeed("second")))
      yield* settle
      yield* Fiber.interrupt(first)
      assert.strictEqual(sem.stats.waiting, 1)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holder)
      assert.strictEqual(yield* Fiber.join(second), "second")
      assert.strictEqual(sem.stats.available, 1)
    }))

  it.effect("a waiter times out with AcquireTimeout (TestClock) and leaves no trace", () =>
    Effect.gen(function*() {
      const sem = new FairSemaphore(1, { acquireTimeout: "5 seconds" })
      const gate = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(sem.withPermit(Deferred.await(gate)))
      yield* settle
      const waiter = yield* Effect.fork(sem.withPermit(Effect.succeed(1)))
      yield* settle
      yield* TestClock.adjust("4999 millis")
      assert.isUndefined((yield* Fiber.poll(waiter))._tag === "Some" ? "done" : undefined)
      yield* TestClock.adjust("1 millis")
      const exit = yield* Fiber.await(waiter)
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
        assert.instanceOf(error, AcquireTimeout)
        assert.strictEqual((error as AcquireTimeout).waitedMs, 5000)
      }
      assert.strictEqual(sem.stats.waiting, 0)
      assert.strictEqual(sem.stats.timeouts, 1)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holder)
      assert.strictEqual(sem.stats.available, 1)
    }))

  it.effect("the timer fiber ends once nobody waits, long before the acquire timeout", () =>
    Effect.gen(function*() {
      const sem = new FairSemaphore(1, { acquireTimeout: "20 seconds" })
      const gate = yield* Deferred.make<void>()
      // Every fiber forked below, the semaphore's timer (a daemon) included.
      const supervisor = yield* Supervisor.track
      const work = Effect.gen(function*() {
        const holder = yield* Effect.fork(sem.withPermit(Deferred.await(gate)))
        yield* settle
        // A waiter: the line is not empty, so the timer sleeps until its deadline.
        const waiter = yield* Effect.fork(sem.withPermit(Effect.void))
        yield* settle
        assert.strictEqual(sem.stats.waiting, 1)
        yield* Deferred.succeed(gate, undefined)
        yield* Fiber.join(holder)
        yield* Fiber.join(waiter)
      })
      yield* Effect.supervised(work, supervisor)
      yield* settle
      // A sleeping timer kept a CLI run alive until the acquire timeout (sem.mts: 20 s after the work).
      assert.deepStrictEqual(yield* supervisor.value, [])
    }))

  it.effect("the fast path takes no timer when a permit is free", () =>
    Effect.gen(function*() {
      const sem = new FairSemaphore(2, { acquireTimeout: "1 second" })
      // Under TestClock, a timer would hang this forever: the permit must be taken at once.
      assert.strictEqual(yield* sem.withPermit(Effect.succeed("ok")), "ok")
    }))

  // Property: whatever the interleaving of holders finishing, waiters and holders being
  // interrupted or timing out (including in the same tick as a release hands them a permit), the permit
  // count is never exceeded and every permit comes back.
  it.effect("never leaks or duplicates a permit under interruption at any point", () =>
    Effect.gen(function*() {
      type Op = { readonly kind: "finish" | "interrupt" | "tick"; readonly target: number; readonly yieldAfter: boolean }
      const scenario = fc.record({
        permits: fc.integer({ min: 1, max: 3 }),
        fibers: fc.integer({ min: 1, max: 8 }),
        ops: fc.array(
          fc.record({
            kind: fc.constantFrom("finish" as const, "interrupt" as const, "tick" as const),
            target: fc.nat({ max: 7 }),
            yieldAfter: fc.boolean()
          }),
          { maxLength: 24 }
        )
      })
      const samples = fc.sample(scenario, { numRuns: 300, seed: 4242 })
      for (const { fibers, ops, permits } of samples) {
        // Waiters time out after 10 ms; each "tick" moves the TestClock by 4 ms.
        const sem = new FairSemaphore(permits, { acquireTimeout: "10 millis" })
        const running = yield* Ref.make(0)
        let maxSeen = 0
        const gates = yield* Effect.forEach(Array.from({ length: fibers }), () => Deferred.make<void>())
        const handles = yield* Effect.forEach(gates, (gate) =>
          Effect.fork(
            sem.withPermit(
              Effect.acquireUseRelease(
                Ref.updateAndGet(running, (n) => n + 1).pipe(Effect.tap((n) => Effect.sync(() => (maxSeen = Math.max(maxSeen, n))))),
                () => Deferred.await(gate),
                () => Ref.update(running, (n) => n - 1)
              )
            )
          ))
        yield* settle
        for (const op of ops as ReadonlyArray<Op>) {
          const target = op.target % fibers
          if (op.kind === "finish") yield* Deferred.succeed(gates[target]!, undefined)
          else if (op.kind === "interrupt") yield* Fiber.interruptFork(handles[target]!)
          else yield* TestClock.adjust("4 millis")
          if (op.yieldAfter) yield* Effect.yieldNow()
          assert.isAtMost(sem.stats.inUse, permits)
        }
        yield* Effect.forEach(gates, (gate) => Deferred.succeed(gate, undefined))
        yield* Effect.forEach(handles, Fiber.await)
        assert.isAtMost(maxSeen, permits)
        assert.strictEqual(yield* Ref.get(running), 0)
        assert.deepStrictEqual(
          { available: sem.stats.available, waiting: sem.stats.waiting, inUse: sem.stats.inUse },
          { available: permits, waiting: 0, inUse: 0 }
        )
      }
    }))
})
