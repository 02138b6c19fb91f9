import { assert, describe, it } from "@effect/vitest"
import { Cause, Clock, Effect, Exit, Fiber, Schema } from "effect"
import { NewPost, PostInput } from "../../src/Domain/Post.js"
import { PostProcessor } from "../../src/Processing/PostProcessor.js"
import { defaultProcessorConfig, processPostSync } from "../../src/Processing/processPost.js"
import * as RenderPool from "../../src/Workers/RenderPool.js"
import { CRASH_MARKER } from "../../src/Workers/RenderRequest.js"

// Read by the worker threads (they inherit the environment when spawned): arms CRASH_MARKER.
process.env["INKWELL_TEST_WORKER_CRASH"] = "1"

const markdown = (i: number) => `---
title: Post ${i}
tags: [effect]
---
# Heading ${i}

${"Some **bold** words and a [link](https://example.com). ".repeat(20)}
`

const pool = (size = 2) =>
  RenderPool.layer({ size, inlineBelowBytes: 0, inlineWhileStarting: false, settings: defaultProcessorConfig })
const encode = Schema.encodeSync(NewPost)

describe("RenderPool", () => {
  it.scoped("renders on worker threads exactly what the in-process processor renders", () =>
    Effect.gen(function* () {
      const processor = yield* PostProcessor
      const sources = Array.from({ length: 6 }, (_, i) => ({ source: `post-${i}.md`, raw: markdown(i) }))
      const posts = yield* Effect.forEach(sources, (s) => processor.process(s), { concurrency: 4 })
      for (const [i, post] of posts.entries()) {
        const expected = processPostSync(sources[i]!, defaultProcessorConfig)
        assert.isTrue(expected._tag === "Right")
        if (expected._tag === "Right") assert.deepStrictEqual(encode(post), encode(expected.right))
      }
      const fromInput = yield* processor.fromInput(new PostInput({ title: "JSON post", body: markdown(9) }), "api")
      assert.strictEqual(fromInput.title, "JSON post")
      assert.include(fromInput.html, "<strong>bold</strong>")
    }).pipe(Effect.provide(pool())), { timeout: 60_000 })

  it.scoped("reports an invalid post as InvalidPost, from the worker", () =>
    Effect.gen(function* () {
      const processor = yield* PostProcessor
      const error = yield* Effect.flip(processor.process({ source: "bad.md", raw: "---\ntitle: [unclosed\n---\nbody" }))
      assert.strictEqual(error._tag, "InvalidPost")
      assert.strictEqual(error.source.startsWith("bad.md"), true)
    }).pipe(Effect.provide(pool(1))), { timeout: 60_000 })

  it.scoped("a worker that dies fails only its own job, and the pool replaces it", () =>
    Effect.gen(function* () {
      const processor = yield* PostProcessor
      const crash = yield* Effect.exit(processor.process({ source: "crash.md", raw: `${CRASH_MARKER}\n# boom` }))
      assert.isTrue(Exit.isFailure(crash))
      if (Exit.isFailure(crash)) {
        const defect = Cause.squash(crash.cause)
        assert.instanceOf(defect, RenderPool.RenderWorkerFailed)
        assert.strictEqual((defect as RenderPool.RenderWorkerFailed).source, "crash.md")
      }
      // The pool (one thread) still renders afterwards: a replacement was started.
      const after = yield* processor.process({ source: "after.md", raw: markdown(1) })
      assert.strictEqual(after.title, "Post 1")
    }).pipe(Effect.provide(pool(1))), { timeout: 60_000 })

  it.scoped("interrupting a call interrupts it without breaking the pool", () =>
    Effect.gen(function* () {
      const processor = yield* PostProcessor
      const big = `# Big\n\n${"A paragraph with *emphasis* and `code`.\n\n".repeat(4000)}`
      const fiber = yield* Effect.fork(processor.process({ source: "big.md", raw: big }))
      yield* Effect.yieldNow()
      const exit = yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.isInterrupted(exit))
      const after = yield* processor.process({ source: "after.md", raw: markdown(2) })
      assert.strictEqual(after.title, "Post 2")
    }).pipe(Effect.provide(pool(1))), { timeout: 60_000 })
})

const withStats = (options: Partial<RenderPool.RenderPoolOptions> = {}) =>
  RenderPool.layerWithStats({
    size: 1,
    inlineBelowBytes: 0,
    inlineWhileStarting: false,
    settings: defaultProcessorConfig,
    ...options
  })

/** Lets the pool's dispatcher fibers run until `done` holds (bounded: no test waits forever). */
const until = (done: () => boolean) =>
  Effect.gen(function* () {
    for (let i = 0; i < 100_000 && !done(); i++) yield* Effect.sleep("1 millis")
    assert.isTrue(done())
  }).pipe(Effect.withClock(Clock.make()))

describe("RenderPool batches", () => {
  it.scoped("many callers share few messages, and one bad post fails only itself", () =>
    Effect.gen(function* () {
      const processor = yield* PostProcessor
      const stats = yield* RenderPool.Stats
      const sources = Array.from({ length: 60 }, (_, i) =>
        i === 17 ? { source: "bad.md", raw: "---\ntitle: [unclosed\n---\nbody" } : { source: `post-${i}.md`, raw: markdown(i) })
      const results = yield* Effect.forEach(sources, (s) => Effect.either(processor.process(s)), { concurrency: "unbounded" })
      for (const [i, result] of results.entries()) {
        if (i === 17) {
          assert.isTrue(result._tag === "Left" && result.left.source.startsWith("bad.md"))
          continue
        }
        const expected = processPostSync(sources[i]!, defaultProcessorConfig)
        assert.isTrue(result._tag === "Right" && expected._tag === "Right")
        if (result._tag === "Right" && expected._tag === "Right") assert.deepStrictEqual(encode(result.right), encode(expected.right))
      }
      const s = stats()
      assert.strictEqual(s.posts, 60)
      // 60 posts, at most 8 per message: at least 8 messages, and fewer than one per post.
      assert.isAtLeast(s.batches, 8)
      assert.isBelow(s.batches, 60)
    }).pipe(Effect.provide(withStats({ maxBatch: 8 }))), { timeout: 60_000 })

  it.scoped("a worker crash fails only the posts of its batch, each under its own source", () =>
    Effect.gen(function* () {
      const processor = yield* PostProcessor
      const sources = Array.from({ length: 24 }, (_, i) =>
        i === 9 ? { source: "crash.md", raw: `${CRASH_MARKER}\n# boom` } : { source: `post-${i}.md`, raw: markdown(i) })
      const exits = yield* Effect.forEach(sources, (s) => Effect.exit(processor.process(s)), { concurrency: "unbounded" })
      const failed = exits.flatMap((exit, i) => (Exit.isFailure(exit) ? [[i, Cause.squash(exit.cause)] as const] : []))
      assert.isTrue(failed.some(([i]) => i === 9))
      for (const [i, defect] of failed) {
        assert.instanceOf(defect, RenderPool.RenderWorkerFailed)
        assert.strictEqual((defect as RenderPool.RenderWorkerFailed).source, sources[i]!.source)
      }
      // Only the crashed batch (at most 4 posts) failed; the replacement thread rendered the rest.
      assert.isAtMost(failed.length, 4)
      const after = yield* processor.process({ source: "after.md", raw: markdown(3) })
      assert.strictEqual(after.title, "Post 3")
    }).pipe(Effect.provide(withStats({ maxBatch: 4 }))), { timeout: 60_000 })

  it.scoped("when every caller of a batch is interrupted, the batch is interrupted in the worker", () =>
    Effect.gen(function* () {
      const processor = yield* PostProcessor
      const stats = yield* RenderPool.Stats
      const big = (i: number) => `# Big ${i}\n\n${"A paragraph with *emphasis* and `code`.\n\n".repeat(3000)}`
      const run = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 8 }, (_, i) => ({ source: `big-${i}.md`, raw: big(i) })), (s) => processor.process(s), {
          concurrency: "unbounded"
        })
      )
      yield* until(() => stats().batches >= 1)
      yield* Fiber.interrupt(run)
      yield* until(() => stats().abandoned >= 1)
      const after = yield* processor.process({ source: "after.md", raw: markdown(4) })
      assert.strictEqual(after.title, "Post 4")
    }).pipe(Effect.provide(withStats({ maxBatch: 8 }))), { timeout: 60_000 })

  it.scoped("small posts, and posts sent while the threads start, render in-process", () =>
    Effect.gen(function* () {
      const processor = yield* PostProcessor
      const stats = yield* RenderPool.Stats
      const small = yield* processor.process({ source: "small.md", raw: "---\ntitle: Small\n---\nshort" })
      assert.strictEqual(small.title, "Small")
      assert.deepStrictEqual(stats(), { batches: 0, posts: 0, inline: 1, abandoned: 0 })
      // The first large post starts the threads and, not waiting for them, renders in-process.
      const first = yield* processor.process({ source: "first.md", raw: markdown(5) })
      assert.strictEqual(first.title, "Post 5")
      assert.strictEqual(stats().inline, 2)
    }).pipe(Effect.provide(withStats({ inlineBelowBytes: 100, inlineWhileStarting: true }))), { timeout: 60_000 })
})
