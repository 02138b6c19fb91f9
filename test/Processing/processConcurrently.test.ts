import { assert, describe, it } from "@effect/vitest"
import { SqlError } from "@effect/sql"
import { Cause, Deferred, Effect, Fiber, Ref, TestClock } from "effect"
import { DatabaseError } from "../../src/Domain/Errors.js"
import { describeCause, processConcurrently } from "../../src/Processing/processConcurrently.js"

class Rejected {
  readonly _tag = "Rejected"
  constructor(readonly message: string) {}
}

describe("processConcurrently", () => {
  it("a failure's reason says what caused it, down to the database's own words", () => {
    const error = new DatabaseError({
      operation: "PostRepository.upsertMany",
      cause: new SqlError.SqlError({ message: "Failed to execute statement", cause: new Error("Connection terminated unexpectedly") })
    })
    assert.deepStrictEqual(describeCause(Cause.fail(error)), {
      reason: `DatabaseError: database operation "PostRepository.upsertMany" failed: Failed to execute statement: Connection terminated unexpectedly`,
      defect: false
    })
  })

  it.effect("returns every success in input order and every failure, typed or defect, without stopping the rest", () =>
    Effect.gen(function*() {
      const items = ["a", "bad", "c", "boom", "e"]
      const report = yield* processConcurrently(
        items,
        (item, index) =>
          item === "bad"
            ? Effect.fail(new Rejected(`cannot use ${item}`))
            : item === "boom"
            ? Effect.sync(() => {
              throw new Error("exploded")
            })
            // Later items finish first: order must still be the input's.
            : Effect.as(Effect.yieldNow().pipe(Effect.repeatN(10 - index * 2)), item.toUpperCase()),
        { concurrency: 3, identify: (item) => `posts/${item}.md` }
      )
      assert.deepStrictEqual(report.successes.map((s) => [s.index, s.value]), [[0, "A"], [2, "C"], [4, "E"]])
      assert.deepStrictEqual(
        report.failures.map((f) => [f.index, f.identity, f.defect, f.reason]),
        [
          [1, "posts/bad.md", false, "Rejected: cannot use bad"],
          [3, "posts/boom.md", true, "defect: exploded"]
        ]
      )
    }))

  it.effect("never runs more than `concurrency` items at once", () =>
    Effect.gen(function*() {
      const current = yield* Ref.make(0)
      const max = yield* Ref.make(0)
      yield* processConcurrently(
        Array.from({ length: 50 }, (_, i) => i),
        () =>
          Effect.gen(function*() {
            const now = yield* Ref.updateAndGet(current, (n) => n + 1)
            yield* Ref.update(max, (m) => Math.max(m, now))
            yield* Effect.yieldNow()
            yield* Ref.update(current, (n) => n - 1)
          }),
        { concurrency: 4, identify: String }
      )
      assert.strictEqual(yield* Ref.get(max), 4)
    }))

  it.effect("an item over its timeout fails alone (TestClock)", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(processConcurrently(
        ["quick", "slow"],
        (item) => item === "slow" ? Effect.as(Effect.sleep("10 seconds"), item) : Effect.succeed(item),
        { concurrency: 2, identify: String, itemTimeout: "5 seconds" }
      ))
      yield* TestClock.adjust("5 seconds")
      const report = yield* Fiber.join(fiber)
      assert.deepStrictEqual(report.successes.map((s) => s.value), ["quick"])
      assert.strictEqual(report.failures.length, 1)
      assert.match(report.failures[0]!.reason, /timed out after 5s/)
    }))

  it.effect("interrupting the caller interrupts every child: nothing keeps running", () =>
    Effect.gen(function*() {
      const started = yield* Ref.make(0)
      const finalized = yield* Ref.make(0)
      const allStarted = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(processConcurrently(
        [1, 2, 3],
        () =>
          Effect.gen(function*() {
            if ((yield* Ref.updateAndGet(started, (n) => n + 1)) === 3) yield* Deferred.succeed(allStarted, undefined)
            return yield* Effect.never
          }).pipe(Effect.onInterrupt(() => Ref.update(finalized, (n) => n + 1))),
        { concurrency: 3, identify: String }
      ))
      yield* Deferred.await(allStarted)
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(yield* Ref.get(finalized), 3)
    }))
})
