/**
 * Heavy posts on a thread of their own, under a cap small enough for a test: a table of 15,000
 * rows (90 KB of markdown) needs ~55 MB of heap to render, so a 32 MB thread runs out of memory
 * on it and a 128 MB one renders it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, ConfigProvider, Duration, Effect, Exit, Fiber, Layer, Option, Schema, TestClock } from "effect"
import { InvalidPost } from "../../src/Domain/Errors.js"
import { NewPost, PostInput } from "../../src/Domain/Post.js"
import { PostProcessor } from "../../src/Processing/PostProcessor.js"
import { ItemTimeout, timeoutItem } from "../../src/Processing/processConcurrently.js"
import { defaultProcessorConfig, processPostSync } from "../../src/Processing/processPost.js"
import * as HeavyPosts from "../../src/Workers/HeavyPosts.js"
import * as RenderPool from "../../src/Workers/RenderPool.js"
import { hangingStarts } from "../fixtures/hangingThreads.js"
import { sleepsAhead, until, withinRealTime } from "../fixtures/realTime.js"

const table = (rows: number) => `|a|b|\n|-|-|\n${"|x|y|\n".repeat(rows)}`
const dense = `---\ntitle: Dense\n---\n${table(15_000)}`
const post = (title: string) => `---\ntitle: ${title}\n---\n${"Some **bold** words and a [link](https://example.com).\n".repeat(20)}`
const line = (n: number, body: string) => {
  const text = JSON.stringify({ title: `Line ${n}`, body })
  return { identity: `in.ndjson:${n}`, number: n, text, bytes: text.length + 1 }
}
const encode = Schema.encodeSync(NewPost)

const capped = (heapMb: number, isHeavy?: (text: string) => boolean) =>
  HeavyPosts.layer({ settings: defaultProcessorConfig, heapMb, ...(isHeavy === undefined ? {} : { isHeavy }) })

describe("HeavyPosts: which posts", () => {
  it("a dense table is heavy; posts of the Rust blog's sizes and kinds, and short texts, are not", () => {
    assert.isTrue(HeavyPosts.isHeavy(dense))
    assert.isTrue(HeavyPosts.isHeavy(line(1, table(15_000)).text), "an NDJSON line, its line breaks escaped")
    // ~170 KB of prose with links and emphasis, as the corpus's largest post: in-process.
    const prose = "Some **bold** words, `code` and a [link](https://example.com/a/b).\n".repeat(2600)
    assert.isAbove(prose.length, 170_000)
    assert.isFalse(HeavyPosts.isHeavy(prose))
    assert.isFalse(HeavyPosts.isHeavy(post("Normal")))
    // Markup in every character: still too short to need the budget.
    assert.isFalse(HeavyPosts.isHeavy("|".repeat(40_000)))
    // Above every measured peak (~2.3 KB of heap per row of such a table).
    assert.isAbove(HeavyPosts.estimateRenderHeap(table(100_000)), 100_000 * 2300)
  })
})

describe("HeavyPosts: a post too large for the thread's memory", () => {
  it.scoped("fails alone, named, with the reason and the setting; the posts around it render (was: the import died of it)", () =>
    Effect.gen(function*() {
      const processor = yield* PostProcessor
      const before = yield* processor.process({ source: "before.md", raw: post("Before") })
      const exit = yield* Effect.exit(processor.process({ source: "dense.md", raw: dense }))
      const after = yield* processor.process({ source: "after.md", raw: post("After") })
      assert.deepStrictEqual([before.title, after.title], ["Before", "After"])
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
      assert.isTrue(Option.isSome(error) && error.value instanceof InvalidPost, String(exit))
      if (Option.isSome(error)) {
        assert.deepStrictEqual(
          { source: error.value.source, field: error.value.field, reason: error.value.reason },
          { source: "dense.md", field: "body", reason: "needs more than 32 MB of memory to render (IMPORT_RENDER_HEAP_MB)" }
        )
      }
      // Records alike, from the API or a feed.
      const input = yield* Effect.flip(processor.fromInput(new PostInput({ title: "Dense", body: table(15_000) }), "api"))
      assert.strictEqual(input.reason, "needs more than 32 MB of memory to render (IMPORT_RENDER_HEAP_MB)")
    }).pipe(Effect.provide(capped(32))), { timeout: 120_000 })

  it.scoped("NDJSON lines in bulk: the dense line is its own failure, the lines around it keep their posts", () =>
    Effect.gen(function*() {
      const processor = yield* PostProcessor
      const outcomes = yield* processor.fromLines!(
        "in.ndjson",
        [line(1, "First."), line(2, table(15_000)), line(3, "Third.")],
        Option.none()
      )
      assert.deepStrictEqual(outcomes.map((o) => o._tag), ["Ready", "Rejected", "Ready"])
      assert.deepStrictEqual(outcomes[1], {
        _tag: "Rejected",
        identity: "in.ndjson:2",
        reason: "body: needs more than 32 MB of memory to render (IMPORT_RENDER_HEAP_MB)",
        skipped: false,
        bytes: line(2, table(15_000)).bytes
      })
    }).pipe(Effect.provide(capped(32))), { timeout: 120_000 })
})

describe("HeavyPosts: a heavy post within the thread's memory", () => {
  it.scoped("renders there exactly as in-process, as a file and as a line", () =>
    Effect.gen(function*() {
      const processor = yield* PostProcessor
      const rendered = yield* processor.process({ source: "dense.md", raw: dense })
      const expected = processPostSync({ source: "dense.md", raw: dense }, defaultProcessorConfig)
      assert.isTrue(expected._tag === "Right")
      if (expected._tag === "Right") assert.deepStrictEqual(encode(rendered), encode(expected.right))
      const [outcome] = yield* processor.fromLines!("in.ndjson", [line(1, table(15_000))], Option.none())
      assert.strictEqual(outcome?._tag, "Ready")
      if (outcome?._tag === "Ready") assert.strictEqual(outcome.post.html, expected._tag === "Right" ? expected.right.html : "")
    }).pipe(Effect.provide(capped(128))), { timeout: 120_000 })
})

describe("HeavyPosts: deadlines", () => {
  // 4,000 headings of one text: ~2 s to render (each anchor is made unique by trying -1, -2, ...).
  // ~2 MB of one paragraph: linear, light, and still ~150 ms of rendering at best, far past 20 ms.
  const slow = "# a\n# a\n" + "word ".repeat(400_000)
  const slowOnes = (text: string) => text.includes("# a\\n# a") || text.includes("# a\n# a")

  it.live("a heavy post past its deadline fails as timed out, its thread stopped; the next one renders", () =>
    Effect.gen(function*() {
      const processor = yield* PostProcessor
      const [late] = yield* processor.fromLines!("in.ndjson", [line(1, slow)], Option.some(Duration.millis(20)))
      assert.deepStrictEqual(late, { _tag: "Rejected", identity: "in.ndjson:1", reason: "timed out after 20ms", skipped: false, bytes: line(1, slow).bytes })
      const timedOut = yield* Effect.exit(timeoutItem(processor.process({ source: "slow.md", raw: slow }), Duration.millis(20)))
      assert.isTrue(Exit.isFailure(timedOut) && Cause.failureOption(timedOut.cause).pipe(Option.exists((e) => e instanceof ItemTimeout)), String(timedOut))
      const next = yield* processor.process({ source: "next.md", raw: "---\ntitle: Next\n---\n# a\n# a\n" })
      assert.deepStrictEqual(next.toc.map((entry) => entry.id), ["a", "a-1"])
    }).pipe(Effect.provide(capped(256, slowOnes))), { timeout: 120_000 })
})

describe("HeavyPosts: a thread that never becomes ready", () => {
  /**
   * A heavy post rendered while every thread started hangs (4 starts, `START_RETRIES`), the
   * TestClock taken through each start's `timeout` (which must be the one running) and each pause:
   * how the post ended. The threads are disarmed after it.
   */
  const throughHungStarts = (timeout: Duration.Duration) =>
    Effect.gen(function*() {
      const processor = yield* PostProcessor
      const { disarm, hung } = yield* hangingStarts("loop")
      const waiting = yield* Effect.fork(processor.process({ source: "dense.md", raw: dense }))
      const done = Effect.sync(() => waiting.unsafePoll() !== null)
      const ms = Duration.toMillis(timeout)
      for (let start = 1; start <= 4; start++) {
        // The thread hangs, and its start's timeout runs.
        yield* until(Effect.map(sleepsAhead, (ahead) => hung() === start && ahead.includes(ms)))
        yield* TestClock.adjust(ms)
        // Then the pause before the next start, to its end (the next timeout is then `timeout` off).
        yield* until(Effect.zipWith(sleepsAhead, done, (ahead, over) => over || ahead.some((left) => left <= 1000)))
        if (!(yield* done)) yield* TestClock.adjust(Math.min(...(yield* sleepsAhead).filter((left) => left > 0)))
      }
      const exit = yield* Fiber.await(waiting)
      disarm()
      return exit
    })

  /** A failure of that post alone, typed, as any post that cannot be rendered, saying `reason`. */
  const assertInvalidPost = (exit: Exit.Exit<unknown, unknown>, reason: string) => {
    assert.isTrue(Exit.isFailure(exit))
    const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
    assert.isTrue(Option.isSome(failure) && failure.value instanceof InvalidPost, String(exit))
    if (Option.isSome(failure) && failure.value instanceof InvalidPost) {
      assert.strictEqual(failure.value.field, "body")
      assert.include(failure.value.reason, reason)
    }
  }

  it.scoped("the post fails, named, once its threads were not ready in time; the import goes on (was: it waited for ever)", () =>
    Effect.gen(function*() {
      const exit = yield* throughHungStarts(RenderPool.DEFAULT_START_TIMEOUT)
      assertInvalidPost(exit, "could not be rendered: the render worker threads could not start (4 attempts): not ready within 20s")
      const next = yield* (yield* PostProcessor).process({ source: "next.md", raw: dense })
      assert.strictEqual(next.title, "Dense")
    }).pipe(Effect.provide(capped(128)), withinRealTime("60 seconds")), { timeout: 120_000 })

  it.scoped("RENDER_WORKER_START_TIMEOUT is the thread's start timeout, as a render pool's (was: 20 s whatever it said)", () =>
    Effect.gen(function*() {
      const exit = yield* throughHungStarts(Duration.seconds(45))
      assertInvalidPost(exit, "could not be rendered: the render worker threads could not start (4 attempts): not ready within 45s")
    }).pipe(
      Effect.provide(HeavyPosts.layerConfig.pipe(
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["IMPORT_RENDER_HEAP_MB", "128"], ["RENDER_WORKER_START_TIMEOUT", "45 seconds"]]))))
      )),
      withinRealTime("60 seconds")
    ), { timeout: 120_000 })

  it.scoped("an import interrupted meanwhile ends at once (was: 5 s, the platform waiting for it to read a close message)", () =>
    Effect.gen(function*() {
      const processor = yield* PostProcessor
      const { hung } = yield* hangingStarts("loop")
      const waiting = yield* Effect.fork(processor.process({ source: "dense.md", raw: dense }))
      yield* until(Effect.sync(() => hung() === 1))
      const began = performance.now()
      assert.isTrue(Exit.isInterrupted(yield* Fiber.interrupt(waiting)))
      const took = performance.now() - began
      assert.isBelow(took, 2500, `ended in ${took.toFixed(0)} ms`)
    }).pipe(Effect.provide(capped(128)), withinRealTime("40 seconds")), { timeout: 120_000 })
})

describe("HeavyPosts: no thread can start", () => {
  it.scoped("a heavy post fails alone as an InvalidPost naming the missing worker module (was: a RenderWorkerStartFailed defect)", () =>
    Effect.gen(function*() {
      const processor = yield* PostProcessor
      const exit = yield* Effect.exit(processor.process({ source: "dense.md", raw: dense }))
      const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
      assert.isTrue(Option.isSome(error) && error.value instanceof InvalidPost, String(exit))
      if (Option.isSome(error)) {
        assert.strictEqual(error.value.source, "dense.md")
        assert.strictEqual(error.value.field, "body")
        assert.include(error.value.reason, "could not be rendered: the render worker threads could not start: the render worker module /nonexistent/RenderWorker.js")
      }
      const input = yield* Effect.exit(processor.fromInput(new PostInput({ title: "Dense", body: table(15_000) }), "api"))
      assert.isTrue(Exit.isFailure(input) && Option.isSome(Cause.failureOption(input.cause)), String(input))
      // A light post is not affected.
      assert.strictEqual((yield* processor.process({ source: "light.md", raw: post("Light") })).title, "Light")
    }).pipe(Effect.provide(HeavyPosts.layer({ settings: defaultProcessorConfig, heapMb: 128, workerUrl: "/nonexistent/RenderWorker.js" }))))
})
