import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Schema } from "effect"
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

const pool = (size = 2) => RenderPool.layer({ size, inlineBelowBytes: 0, settings: defaultProcessorConfig })
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
