import { assert, describe, it } from "@effect/vitest"
import { Cause, Context, DateTime, Duration, Effect, Either, Exit, Fiber, HashMap, Layer, Logger, Option, Schema, Scope, TestClock } from "effect"
import { mkdtempSync, readdirSync, rmSync, watch } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
// The pool as an embedding app builds it, from the package entry.
import * as Inkwell from "inkwell"
import { InvalidPost } from "../../src/Domain/Errors.js"
import { NewPost, PostInput, TocEntry } from "../../src/Domain/Post.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { Posts } from "../../src/Posts/Posts.js"
import { BatchNotProcessed, PostProcessor } from "../../src/Processing/PostProcessor.js"
import { defaultProcessorConfig, processPostSync } from "../../src/Processing/processPost.js"
import { processRecordsSync } from "../../src/Processing/records.js"
import * as RenderPool from "../../src/Workers/RenderPool.js"
import { CRASH_MARKER, STOP_WHEN_IDLE_MARKER } from "../../src/Workers/RenderRequest.js"
import { hangingStarts } from "../fixtures/hangingThreads.js"
import { sleepsAhead, until as untilEffect, withinRealTime } from "../fixtures/realTime.js"
import { setFlagsFromString } from "node:v8"
import { spawnSync } from "node:child_process"

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

  it.scoped("a post crosses back whole: dates, table of contents, metadata, as the classes they are", () =>
    Effect.gen(function* () {
      const processor = yield* PostProcessor
      const source = {
        source: "full.md",
        raw: `---
title: Everything
date: 2024-02-29T12:34:56.789Z
updated: 2024-03-01
summary: A summary.
aliases: [/old/everything]
series: { name: "Deep", part: 2 }
---
# One

${"Some **bold** words and a [link](https://example.com). ".repeat(20)}

## Two <em>raw</em>

Text.
`
      }
      const post = yield* processor.process(source)
      const expected = processPostSync(source, defaultProcessorConfig)
      assert.isTrue(expected._tag === "Right")
      if (expected._tag === "Right") assert.deepStrictEqual(encode(post), encode(expected.right))
      assert.instanceOf(post, NewPost)
      assert.instanceOf(post.toc[0], TocEntry)
      assert.deepStrictEqual(post.toc.map((entry) => entry.text), ["One", "Two raw"])
      assert.isTrue(post.publishedAt !== null && DateTime.isDateTime(post.publishedAt))
      assert.strictEqual(post.publishedAt === null ? null : DateTime.formatIso(post.publishedAt), "2024-02-29T12:34:56.789Z")
      assert.deepStrictEqual(post.metadata, { series: { name: "Deep", part: 2 } })
    }).pipe(Effect.provide(pool(1))), { timeout: 60_000 })

  it.scoped("reports an invalid post as InvalidPost, from the worker", () =>
    Effect.gen(function* () {
      const processor = yield* PostProcessor
      const error = yield* Effect.flip(processor.process({ source: "bad.md", raw: "---\ntitle: [unclosed\n---\nbody" }))
      assert.strictEqual(error._tag, "InvalidPost")
      assert.strictEqual(error.source.startsWith("bad.md"), true)
      // The same error, field and reason included, as rendering it here gives.
      assert.instanceOf(error, InvalidPost)
      const expected = processPostSync({ source: "bad.md", raw: "---\ntitle: [unclosed\n---\nbody" }, defaultProcessorConfig)
      assert.isTrue(expected._tag === "Left")
      if (expected._tag === "Left") assert.deepStrictEqual({ ...error }, { ...expected.left })
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

  it.scoped("a thread's heap cap is the pool's, whatever --max-old-space-size the process has (was: the process's, as under inkwell import)", () =>
    Effect.gen(function* () {
      // As bin/inkwell.js starts an import: the process's own cap, set before any thread starts.
      yield* Effect.acquireRelease(
        Effect.sync(() => setFlagsFromString("--max-old-space-size=24")),
        () => Effect.sync(() => setFlagsFromString("--max-old-space-size=0"))
      )
      // ~55 MB of heap to render: over a 24 MB cap, within the pool's 128 MB.
      const dense = `---\ntitle: Dense\n---\n|a|b|\n|-|-|\n${"|x|y|\n".repeat(15_000)}`
      const post = yield* Effect.flatMap(PostProcessor, (processor) => processor.process({ source: "dense.md", raw: dense })).pipe(
        Effect.provide(RenderPool.layer({ size: 1, inlineBelowBytes: 0, inlineWhileStarting: false, workerHeapMb: 128, settings: defaultProcessorConfig }))
      )
      assert.strictEqual(post.title, "Dense")
    }), { timeout: 60_000 })

  it("a host started with --max-old-space-size keeps it for its own workers once the pool ran, and the pool's threads keep the pool's cap (was: 4 GB for every worker the host started after)", () => {
    const root = join(import.meta.dirname, "..", "..")
    const child = spawnSync(process.execPath, ["--max-old-space-size=512", "--import", "tsx", join("test", "fixtures", "hostHeapFlags.ts")], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: "" },
      encoding: "utf8",
      timeout: 60_000
    })
    assert.strictEqual(child.status, 0, child.stderr)
    const lines = child.stdout.trim().split("\n")
    const { after, before, render } = JSON.parse(lines[lines.length - 1]!) as { before: number; after: number; render: string }
    assert.isBelow(before, 1024, "a host worker has the host's cap")
    assert.strictEqual(after, before, "a host worker started after the pool closed has the host's cap too")
    // ~55 MB of heap: over the pool's 32 MB cap, within the host's 512 MB. A thread that started
    // with the host's flag back in place too soon would have rendered it.
    assert.strictEqual(render, "RenderWorkerFailed", "the render thread had the pool's cap, not the host's")
  }, 60_000)

  it("reads a V8 flag as the command line gives it: = or a space, dashes or underscores, the last one winning", () => {
    const flag = (args: ReadonlyArray<string>) => RenderPool.commandLineFlag(args, ["--max-old-space-size"])
    assert.strictEqual(flag(["--max-old-space-size=512"]), "512")
    assert.strictEqual(flag(["--max_old_space_size=256", "--import", "tsx"]), "256")
    assert.strictEqual(flag(["--max-old-space-size", "128"]), "128")
    assert.strictEqual(flag(["--max-old-space-size=512", "--max-old-space-size=64"]), "64")
    assert.strictEqual(flag(["--max-semi-space-size=16", "--initial-old-space-size=64"]), undefined)
  })

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
const until = (done: () => boolean) => untilEffect(Effect.sync(done))

/** A pause between two starts has begun (`START_RETRIES`: 0.1 to 0.4 s; a start's timeout is further off). */
const pausing = Effect.map(sleepsAhead, (ahead) => ahead.some((ms) => ms <= 1000))

/** The start failure a post failed with (a defect: the pool's threads could not start). */
const startFailure = (exit: Exit.Exit<unknown, unknown>): RenderPool.RenderWorkerStartFailed => {
  assert.isTrue(Exit.isFailure(exit), "the post failed")
  const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
  assert.instanceOf(defect, RenderPool.RenderWorkerStartFailed)
  return defect as RenderPool.RenderWorkerStartFailed
}

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

  it.scoped("a worker that stops while idle is replaced for the next post", () =>
    Effect.gen(function* () {
      const processor = yield* PostProcessor
      const stats = yield* RenderPool.Stats
      const stopping = yield* processor.fromInput(new PostInput({ title: "Stopping", body: `${STOP_WHEN_IDLE_MARKER}\n${"Some words. ".repeat(50)}` }), "api")
      assert.strictEqual(stopping.title, "Stopping")
      // The pool starts its replacement as soon as the thread is gone.
      yield* until(() => stats().threadStarts === 2)
      const after = yield* processor.process({ source: "after.md", raw: markdown(2) })
      assert.strictEqual(after.title, "Post 2")
      assert.deepInclude(stats(), { threadStarts: 2, threads: 1 })
    }).pipe(Effect.provide(withStats()), withinRealTime("40 seconds")), { timeout: 60_000 })

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
      assert.deepStrictEqual(stats(), { batches: 0, posts: 0, inline: 1, abandoned: 0, threadStarts: 0, threads: 0 })
      // The first large post starts the threads and, not waiting for them, renders in-process.
      const first = yield* processor.process({ source: "first.md", raw: markdown(5) })
      assert.strictEqual(first.title, "Post 5")
      assert.strictEqual(stats().inline, 2)
    }).pipe(Effect.provide(withStats({ inlineBelowBytes: 100, inlineWhileStarting: true }))), { timeout: 60_000 })
})

describe("RenderPool lines in bulk (fromLines)", () => {
  const line = (i: number) => JSON.stringify({ title: `Line post ${i}`, body: markdown(i).split("---\n")[2]!, tags: ["bulk"] })
  const lines = (texts: ReadonlyArray<string>) =>
    texts.map((text, i) => ({ identity: `in.ndjson:${i + 1}`, number: i + 1, text, bytes: text.length + 1 }))

  it.scoped("one message per batch; the same outcomes as in-process, bad lines named by line", () =>
    Effect.gen(function* () {
      const processor = yield* PostProcessor
      const stats = yield* RenderPool.Stats
      const batch = lines([line(1), "{not json", line(3), JSON.stringify({ title: "no body" }), line(5)])
      const outcomes = yield* processor.fromLines!("in.ndjson", batch, Option.none())
      assert.deepStrictEqual(stats(), { batches: 1, posts: 5, inline: 0, abandoned: 0, threadStarts: 1, threads: 1 })
      const expected = processRecordsSync("in.ndjson", batch, defaultProcessorConfig)
      assert.deepStrictEqual(outcomes.map((o) => o._tag), ["Ready", "Rejected", "Ready", "Rejected", "Ready"])
      outcomes.forEach((outcome, i) => {
        const want = expected[i]!
        if (outcome._tag === "Ready" && want._tag === "Ready") {
          // Across the thread boundary and back: the same post, DateTimes and TocEntry classes included.
          assert.deepStrictEqual(encode(outcome.post), encode(want.post))
          assert.instanceOf(outcome.post, NewPost)
        } else assert.deepStrictEqual(outcome, want)
      })
      const rejected = outcomes[1]!
      assert.isTrue(rejected._tag === "Rejected" && rejected.identity === "in.ndjson:2" && /invalid JSON/.test(rejected.reason))
    }).pipe(Effect.provide(withStats())), { timeout: 60_000 })

  it.scoped("a line with a value nested 100,000 deep fails alone on its thread, named; the batch's other lines keep their posts", () =>
    Effect.gen(function* () {
      const processor = yield* PostProcessor
      const stats = yield* RenderPool.Stats
      const deep = `{"title":"Deep","body":"x","tags":${"[".repeat(100_000)}${"]".repeat(100_000)}}`
      const outcomes = yield* processor.fromLines!("in.ndjson", lines([line(1), deep, line(3)]), Option.none())
      assert.deepStrictEqual(stats(), { batches: 1, posts: 3, inline: 0, abandoned: 0, threadStarts: 1, threads: 1 })
      assert.deepStrictEqual(outcomes.map((o) => o._tag), ["Ready", "Rejected", "Ready"])
      const rejected = outcomes[1]!
      assert.deepStrictEqual(
        rejected._tag === "Rejected" && [rejected.identity, rejected.reason],
        ["in.ndjson:2", `tags[0]: expected a string, got ${"[".repeat(99)}…`]
      )
    }).pipe(Effect.provide(withStats())), { timeout: 60_000 })

  it.scoped("a worker that dies fails the batch as a whole (BatchNotProcessed); the pool replaces it", () =>
    Effect.gen(function* () {
      const processor = yield* PostProcessor
      const crash = JSON.stringify({ title: "Crash", body: `${CRASH_MARKER}\n# boom` })
      const error = yield* Effect.flip(processor.fromLines!("in.ndjson", lines([line(1), crash]), Option.none()))
      assert.instanceOf(error, BatchNotProcessed)
      assert.strictEqual(error.reason, "the render worker failed")
      const after = yield* processor.fromLines!("in.ndjson", lines([line(2)]), Option.none())
      assert.strictEqual(after[0]!._tag, "Ready")
    }).pipe(Effect.provide(withStats())), { timeout: 60_000 })

  it.scoped("a batch past its deadline fails as a whole and its thread is replaced", () =>
    Effect.gen(function* () {
      const processor = yield* PostProcessor
      // ~340 KB each: three to a message (MAX_MESSAGE_CHARS).
      const big = JSON.stringify({ title: "Big", body: "A paragraph with *emphasis* and `code`.\n\n".repeat(8000) })
      const stats = yield* RenderPool.Stats
      yield* processor.fromLines!("in.ndjson", lines([line(1)]), Option.none()) // threads up
      const before = stats().batches
      const call = yield* Effect.fork(Effect.either(processor.fromLines!("in.ndjson", lines([big, big, big, big]), Option.some(Duration.seconds(1)))))
      // The deadline runs on the test's clock: once armed, it passes while the thread is still rendering.
      // (The threads' start timeouts are sleeps too, 20 s off.)
      let armed = false
      yield* until(() => armed).pipe(
        Effect.race(Effect.repeat(Effect.map(sleepsAhead, (ahead) => { armed = ahead.includes(1000) }), { until: () => armed }))
      )
      yield* TestClock.adjust("1 second")
      const result = yield* Fiber.join(call)
      assert.isTrue(Either.isLeft(result), "the batch ran past its deadline")
      const error = Either.getLeft(result).pipe(Option.getOrThrow)
      assert.instanceOf(error, BatchNotProcessed)
      assert.match(error.reason, /not processed within 1s/)
      // The first message ran out of time; the rest of the batch was never sent.
      assert.strictEqual(stats().batches, before)
      const after = yield* processor.fromLines!("in.ndjson", lines([big, big, big, big, line(3)]), Option.none())
      assert.deepStrictEqual(after.map((o) => o._tag), ["Ready", "Ready", "Ready", "Ready", "Ready"])
      // At most 1 MB per message: three big lines, then the fourth with the small one.
      assert.strictEqual(stats().batches, before + 2)
    }).pipe(Effect.provide(withStats())), { timeout: 60_000 })

  it.scoped("a few short lines render in-process", () =>
    Effect.gen(function* () {
      const processor = yield* PostProcessor
      const stats = yield* RenderPool.Stats
      const outcomes = yield* processor.fromLines!("in.ndjson", lines([JSON.stringify({ title: "Tiny", body: "short" })]), Option.none())
      assert.strictEqual(outcomes[0]!._tag, "Ready")
      assert.deepStrictEqual(stats(), { batches: 0, posts: 0, inline: 1, abandoned: 0, threadStarts: 0, threads: 0 })
    }).pipe(Effect.provide(withStats({ inlineBelowBytes: 1024 }))), { timeout: 60_000 })
})

describe("RenderPool's worker bundle (from the sources)", () => {
  /** Runs `body` with the temporary directory (TMPDIR) a fresh one of its own, removed afterwards. */
  const inOwnTmpdir = <A, E, R>(body: (dir: string) => Effect.Effect<A, E, R>) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        const previous = process.env["TMPDIR"]
        const dir = mkdtempSync(join(tmpdir(), "inkwell-test-tmpdir-"))
        process.env["TMPDIR"] = dir
        return { dir, previous }
      }),
      ({ dir }) => body(dir),
      ({ dir, previous }) =>
        Effect.sync(() => {
          if (previous === undefined) delete process.env["TMPDIR"]
          else process.env["TMPDIR"] = previous
          rmSync(dir, { recursive: true, force: true })
        })
    )

  it.live("a pool closed while its bundle is being built leaves nothing in the temporary directory", () =>
    inOwnTmpdir((dir) =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const context = yield* Layer.buildWithScope(
          Inkwell.RenderPool.layer({ size: 1, inlineBelowBytes: 10, settings: Inkwell.defaultProcessorConfig }),
          scope
        )
        // Rendered in-process while the threads start: the first call starts bundling.
        yield* Context.get(context, Inkwell.PostProcessor).process({ source: "a.md", raw: markdown(1) })
        // The bundle's directory exists once the start has begun; esbuild then runs for a while.
        for (let i = 0; i < 10_000 && readdirSync(dir).length === 0; i++) yield* Effect.yieldNow()
        assert.lengthOf(readdirSync(dir), 1, "bundling began")
        yield* Scope.close(scope, Exit.void)
        assert.deepStrictEqual(readdirSync(dir), [])
        // esbuild cannot be stopped: were the directory removed before it finished, its output
        // would land there again (within a second or so). Nothing may appear.
        const appeared = yield* Effect.async<string>((resume) => {
          const watcher = watch(dir, (_, name) => {
            watcher.close()
            resume(Effect.succeed(String(name)))
          })
          return Effect.sync(() => watcher.close())
        }).pipe(Effect.timeoutOption("3 seconds"))
        assert.isTrue(Option.isNone(appeared), `appeared: ${Option.getOrElse(appeared, () => "")}`)
        assert.deepStrictEqual(readdirSync(dir), [])
      })
    ), { timeout: 30_000 })
})

describe("RenderPool threads that die while starting", () => {
  /** Threads capped at 1 MB of heap: each runs out of memory loading its module, before it is ready. */
  const dyingAtStart = (options: Partial<RenderPool.RenderPoolOptions> = {}) => withStats({ workerHeapMb: 1, ...options })

  /**
   * Moves the TestClock past each pause between two starts (`START_RETRIES`) until `done`: each
   * time, waits for a thread to die (real time) and the next pause to begin. Twenty rounds at most.
   */
  const throughRetries = (done: () => boolean) =>
    Effect.gen(function* () {
      for (let round = 0; round < 20 && !done(); round++) {
        yield* untilEffect(Effect.map(pausing, (paused) => done() || paused))
        if (!done()) yield* TestClock.adjust("1 second")
      }
      assert.isTrue(done(), "the pool gave up on its threads")
    })

  it.scoped("are started again a few times, paused between; then the post waiting, and later ones, fail saying why (was: restarted for ever, the post waiting for ever)", () =>
    Effect.gen(function* () {
      const processor = yield* PostProcessor
      const stats = yield* RenderPool.Stats
      const waiting = yield* Effect.fork(processor.process({ source: "first.md", raw: markdown(1) }))
      yield* throughRetries(() => waiting.unsafePoll() !== null)
      const failure = startFailure(yield* Fiber.await(waiting))
      assert.strictEqual(failure.attempts, 4)
      // The thread's own words.
      assert.match(failure.reason, /memory limit/)
      assert.match(failure.message, /^the render worker threads could not start \(4 attempts\): .*memory limit/)
      assert.deepInclude(stats(), { threadStarts: 4, threads: 0, batches: 0 })
      // Later posts fail at once, the same way; lines in bulk fail as a batch, for the caller to go post by post.
      assert.strictEqual(startFailure(yield* Effect.exit(processor.process({ source: "later.md", raw: markdown(2) }))), failure)
      assert.strictEqual(startFailure(yield* Effect.exit(processor.fromInput(new PostInput({ title: "Later", body: markdown(3) }), "api"))), failure)
      const text = JSON.stringify({ title: "Line", body: markdown(4) })
      const batch = yield* Effect.flip(processor.fromLines!("in.ndjson", [{ identity: "in.ndjson:1", number: 1, text, bytes: text.length + 1 }], Option.none()))
      assert.instanceOf(batch, BatchNotProcessed)
      assert.strictEqual(batch.reason, failure.message)
      // No thread is started again, however long the pool lives.
      yield* TestClock.adjust("1 hour")
      assert.deepInclude(stats(), { threadStarts: 4, threads: 0 })
    }).pipe(Effect.provide(dyingAtStart()), withinRealTime("40 seconds")), { timeout: 60_000 })

  it.scoped("with inlineWhileStarting, the pool renders in-process once it gave up on them, with one warning (was: restarted for ever)", () =>
    Effect.gen(function* () {
      const logged: Array<string> = []
      const logger = Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ logLevel, message }) => {
          logged.push(`${logLevel.label} ${String(message)}`)
        })
      )
      const warnings = () => logged.filter((text) => text.includes("render worker threads could not start"))
      yield* Effect.gen(function* () {
        const processor = yield* PostProcessor
        const stats = yield* RenderPool.Stats
        // Rendered in-process while the threads start, as ever.
        assert.strictEqual((yield* processor.process({ source: "first.md", raw: markdown(1) })).title, "Post 1")
        yield* throughRetries(() => warnings().length > 0)
        assert.deepStrictEqual(warnings(), ["WARN render worker threads could not start; rendering in-process"])
        assert.deepInclude(stats(), { threadStarts: 4, threads: 0 })
        const later = yield* processor.process({ source: "later.md", raw: markdown(2) })
        const expected = processPostSync({ source: "later.md", raw: markdown(2) }, defaultProcessorConfig)
        assert.isTrue(expected._tag === "Right")
        if (expected._tag === "Right") assert.deepStrictEqual(encode(later), encode(expected.right))
        const text = JSON.stringify({ title: "Line", body: markdown(4) })
        const outcomes = yield* processor.fromLines!("in.ndjson", [{ identity: "in.ndjson:1", number: 1, text, bytes: text.length + 1 }], Option.none())
        assert.deepStrictEqual(outcomes.map((o) => o._tag), ["Ready"])
        yield* TestClock.adjust("1 hour")
        assert.deepInclude(stats(), { threadStarts: 4, threads: 0, batches: 0, inline: 3 })
        assert.lengthOf(warnings(), 1)
      }).pipe(Effect.provide(Layer.merge(dyingAtStart({ inlineWhileStarting: true }), logger)))
    }).pipe(withinRealTime("40 seconds")), { timeout: 60_000 })

  it.scoped("a caller interrupted meanwhile, the pool closed: no thread is left, and none starts again", () =>
    Effect.gen(function* () {
      for (const options of [{ workerHeapMb: 1 }, {}]) {
        const scope = yield* Scope.make()
        const context = yield* Layer.buildWithScope(withStats(options), scope)
        const processor = Context.get(context, PostProcessor)
        const stats = Context.get(context, RenderPool.Stats)
        const waiting = yield* Effect.fork(processor.process({ source: "first.md", raw: markdown(1) }))
        if (options.workerHeapMb !== undefined) {
          // A thread died starting; the pool waits to start the next.
          yield* untilEffect(Effect.map(pausing, (paused) => paused && stats().threadStarts >= 1))
          assert.isTrue(Exit.isInterrupted(yield* Fiber.interrupt(waiting)))
        } else {
          // A thread is starting (loading its module), or has just started: the post may be rendered already.
          yield* untilEffect(Effect.sync(() => stats().threads === 1))
          yield* Fiber.interrupt(waiting)
        }
        yield* Scope.close(scope, Exit.void)
        assert.strictEqual(stats().threads, 0, "no thread is left running")
        const starts = stats().threadStarts
        yield* TestClock.adjust("1 hour")
        assert.strictEqual(stats().threadStarts, starts, "no thread was started after the pool closed")
      }
    }).pipe(withinRealTime("40 seconds")), { timeout: 60_000 })
})

describe("RenderPool threads that are not ready in time", () => {
  /** Every line logged where `layer` is provided (forks included), with its annotations. */
  const logging = () => {
    const lines: Array<{ readonly level: string; readonly message: string; readonly annotations: Record<string, unknown> }> = []
    const layer = Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ annotations, logLevel, message }) => {
        const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
        lines.push({ level: logLevel.label, message: text, annotations: Object.fromEntries(HashMap.toEntries(annotations)) })
      })
    )
    return { lines, layer }
  }

  /** The platform's own lines (`@effect/platform`'s Worker annotates its logs so). */
  const fromPlatform = (lines: ReturnType<typeof logging>["lines"]) => lines.filter((line) => line.annotations["package"] === "@effect/platform")

  /** A thread was started and its timeout, `after` from now, runs: it is waiting for the thread. */
  const startWaiting = (stats: () => RenderPool.RenderPoolStats, starts: number, after: Duration.DurationInput) =>
    untilEffect(Effect.map(sleepsAhead, (ahead) => stats().threadStarts === starts && ahead.includes(Duration.toMillis(after))))

  it.scoped("one not ready within the start timeout is terminated and started again; the post waiting renders on the next (was: it waited for ever)", () =>
    Effect.gen(function* () {
      const { layer, lines } = logging()
      yield* Effect.gen(function* () {
        const processor = yield* PostProcessor
        const stats = yield* RenderPool.Stats
        const { disarm, hung } = yield* hangingStarts("import")
        const waiting = yield* Effect.fork(processor.process({ source: "first.md", raw: markdown(1) }))
        yield* startWaiting(stats, 1, RenderPool.DEFAULT_START_TIMEOUT)
        disarm()
        yield* until(() => hung() === 1)
        yield* TestClock.adjust(RenderPool.DEFAULT_START_TIMEOUT)
        // The pause before the next start: the hung thread is gone by then, not left running.
        yield* untilEffect(pausing)
        assert.deepInclude(stats(), { threadStarts: 1, threads: 0 })
        yield* TestClock.adjust("1 second")
        const post = yield* Fiber.join(waiting)
        const expected = processPostSync({ source: "first.md", raw: markdown(1) }, defaultProcessorConfig)
        assert.isTrue(expected._tag === "Right")
        if (expected._tag === "Right") assert.deepStrictEqual(encode(post), encode(expected.right))
        assert.deepInclude(stats(), { threadStarts: 2, threads: 1, batches: 1, inline: 0 })
        const warnings = lines.filter((line) => line.level === "WARN")
        assert.deepStrictEqual(
          warnings.map((line) => [line.message, line.annotations["attempt"], line.annotations["startTimeout"]]),
          [["a render thread was not ready within 20s; terminating it", 1, "20s"]]
        )
      }).pipe(Effect.provide(layer))
    }).pipe(Effect.provide(withStats()), withinRealTime("40 seconds")), { timeout: 60_000 })

  it.scoped("a pool's own start timeout; START_RETRIES of them, then the post waiting and later ones fail saying so, no thread left (was: waited for ever)", () =>
    Effect.gen(function* () {
      const { layer, lines } = logging()
      yield* Effect.gen(function* () {
        const processor = yield* PostProcessor
        const stats = yield* RenderPool.Stats
        const { hung } = yield* hangingStarts("loop")
        const waiting = yield* Effect.fork(processor.process({ source: "first.md", raw: markdown(1) }))
        const done = () => waiting.unsafePoll() !== null
        for (let start = 1; start <= 4; start++) {
          yield* startWaiting(stats, start, "5 seconds")
          yield* until(() => hung() === start)
          yield* TestClock.adjust("5 seconds")
          yield* untilEffect(Effect.map(pausing, (paused) => paused || done()))
          // Each thread is gone before the next starts (or the pool gives up).
          assert.strictEqual(stats().threads, 0)
          // To the end of the pause exactly: the next start's timeout then ends 5 s from now.
          if (!done()) yield* TestClock.adjust(Math.min(...(yield* sleepsAhead).filter((ms) => ms > 0)))
        }
        const failure = startFailure(yield* Fiber.await(waiting))
        assert.deepStrictEqual([failure.attempts, failure.reason], [4, "not ready within 5s"])
        assert.strictEqual(failure.message, "the render worker threads could not start (4 attempts): not ready within 5s")
        assert.deepInclude(stats(), { threadStarts: 4, threads: 0, batches: 0 })
        assert.strictEqual(startFailure(yield* Effect.exit(processor.process({ source: "later.md", raw: markdown(2) }))), failure)
        const warnings = lines.filter((line) => line.level === "WARN").map((line) => line.message)
        assert.deepStrictEqual(warnings, [
          ...Array.from({ length: 4 }, () => "a render thread was not ready within 5s; terminating it"),
          "render worker threads could not start; the posts sent to them fail"
        ])
        yield* TestClock.adjust("1 hour")
        assert.deepInclude(stats(), { threadStarts: 4, threads: 0 })
      }).pipe(Effect.provide(layer))
    }).pipe(Effect.provide(withStats({ startTimeout: "5 seconds" })), withinRealTime("40 seconds")), { timeout: 60_000 })

  it.live("a caller interrupted while its thread hangs, the pool closed: both end at once, the thread terminated (was: 5 s, the platform waiting for it to read a close message)", () =>
    Effect.gen(function* () {
      for (const mode of ["loop", "import"] as const) {
        const scope = yield* Scope.make()
        const context = yield* Layer.buildWithScope(withStats(), scope)
        const processor = Context.get(context, PostProcessor)
        const stats = Context.get(context, RenderPool.Stats)
        const { disarm, hung } = yield* Scope.extend(hangingStarts(mode), scope)
        const waiting = yield* Effect.fork(processor.process({ source: "first.md", raw: markdown(1) }))
        yield* until(() => stats().threadStarts === 1)
        disarm()
        yield* until(() => hung() === 1)
        const began = performance.now()
        assert.isTrue(Exit.isInterrupted(yield* Fiber.interrupt(waiting)))
        yield* Scope.close(scope, Exit.void)
        const took = performance.now() - began
        assert.strictEqual(stats().threads, 0, `${mode}: no thread is left running`)
        assert.isBelow(took, 2500, `${mode}: closed in ${took.toFixed(0)} ms`)
      }
    }).pipe(withinRealTime("40 seconds")), { timeout: 60_000 })

  it.scoped("each start that fails is one warning, the pool's, saying why (was: the platform's too, beside it, for a thread that died)", () =>
    Effect.gen(function* () {
      const { layer, lines } = logging()
      yield* Effect.gen(function* () {
        const processor = yield* PostProcessor
        const waiting = yield* Effect.fork(processor.process({ source: "first.md", raw: markdown(1) }))
        for (let round = 0; round < 20 && waiting.unsafePoll() === null; round++) {
          yield* untilEffect(Effect.map(pausing, (paused) => paused || waiting.unsafePoll() !== null))
          if (waiting.unsafePoll() === null) yield* TestClock.adjust("1 second")
        }
        startFailure(yield* Fiber.await(waiting))
        assert.deepStrictEqual(fromPlatform(lines), [])
        const warnings = lines.filter((line) => line.level === "WARN")
        assert.deepStrictEqual(warnings.map((line) => line.annotations["attempt"]), [1, 2, 3, 4, undefined])
        for (const line of warnings.slice(0, 4)) assert.match(line.message, /^a render thread died starting: .*memory limit/)
        assert.strictEqual(warnings[4]!.message, "render worker threads could not start; the posts sent to them fail")
      }).pipe(Effect.provide(layer))
    }).pipe(Effect.provide(withStats({ workerHeapMb: 1 })), withinRealTime("40 seconds")), { timeout: 60_000 })
})

describe("RenderPool's worker module given by a host (workerUrl)", () => {
  /**
   * The worker as a host's bundle emits it (bin/build.js's entry), with a banner that notes each
   * load beside it: the threads ran this module, not one the pool bundled itself.
   */
  const hostWorker = Effect.acquireRelease(
    Effect.promise(async () => {
      const dir = mkdtempSync(join(tmpdir(), "inkwell-host-worker-"))
      const esbuild = await import("esbuild")
      await esbuild.build({
        entryPoints: [{ in: "src/Workers/RenderWorker.ts", out: "worker" }],
        outdir: dir,
        bundle: true,
        platform: "node",
        format: "esm",
        outExtension: { ".js": ".mjs" },
        banner: {
          js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" +
            "import { appendFileSync as __a } from 'node:fs'; __a(new URL('./loads.txt', import.meta.url), 'loaded\\n');"
        },
        logLevel: "silent"
      })
      return dir
    }),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

  it.scoped("a path to the host's worker module: the threads run it (was: no such option; a bundled host's threads never started)", () =>
    Effect.gen(function* () {
      const dir = yield* hostWorker
      const context = yield* Layer.build(withStats({ workerUrl: join(dir, "worker.mjs") }))
      const processor = Context.get(context, PostProcessor)
      const post = yield* processor.process({ source: "a.md", raw: markdown(1) })
      assert.strictEqual(post.title, "Post 1")
      assert.deepInclude(Context.get(context, RenderPool.Stats)(), { posts: 1, inline: 0, threadStarts: 1 })
      assert.deepStrictEqual(readdirSync(dir).sort(), ["loads.txt", "worker.mjs"])
    }), { timeout: 60_000 })

  it.scoped("a module that is not there: every post fails at once, naming the path and the option (was: Node's \"Cannot find module\" after four starts)", () =>
    Effect.gen(function* () {
      const missing = join(tmpdir(), "inkwell-no-such-dir", "RenderWorker.js")
      const context = yield* Layer.build(withStats({ workerUrl: pathToFileURL(missing) }))
      const processor = Context.get(context, PostProcessor)
      const exit = yield* Effect.exit(processor.process({ source: "a.md", raw: markdown(1) }))
      const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
      assert.instanceOf(defect, RenderPool.RenderWorkerStartFailed)
      assert.strictEqual(
        (defect as RenderPool.RenderWorkerStartFailed).message,
        `the render worker threads could not start: the render worker module ${missing} (the pool's workerUrl, RENDER_WORKER_URL) does not exist`
      )
      assert.deepInclude(Context.get(context, RenderPool.Stats)(), { threadStarts: 0 })
    }))

  it("the default module missing (a host's bundle without the worker entry): the message says what to emit and where to give it", () => {
    const missing = join(tmpdir(), "inkwell-no-such-dir", "RenderWorker.js")
    assert.strictEqual(
      RenderPool.missingWorker(pathToFileURL(missing), false),
      `the render worker module ${missing} does not exist: a host that bundles Inkwell emits src/Workers/RenderWorker.ts as an entry of its own and gives its path as the pool's workerUrl (or RENDER_WORKER_URL); README "Embedding"`
    )
  })
})

describe("RenderPool given what an embedder passes", () => {
  const longBody = (i: number) => `Words of post ${i}, long enough to be rendered on a thread.`
  /** `Posts` over the pool, as README "Embedding" builds it: `posts.create` type-checks a plain object as a `PostInput`. */
  const postsOnPool = Posts.Default.pipe(Layer.provideMerge(MemoryPostRepository.layer), Layer.provideMerge(withStats({ inlineBelowBytes: 10 })))

  it.scoped("a plain object of a PostInput's fields renders on the threads as an instance does, and the posts after it too (was: the pool's dispatcher died on it, and it and every later post waited for ever)", () =>
    Effect.gen(function* () {
      const posts = yield* Posts
      const stats = yield* RenderPool.Stats
      const first = yield* posts.create(new PostInput({ title: "Instance", body: longBody(1) }))
      const plain = yield* posts.create({ title: "Plain", body: longBody(2), tags: ["x"], status: null } as unknown as PostInput)
      const later = yield* Effect.forEach([3, 4], (i) => posts.create(new PostInput({ title: `Later ${i}`, body: longBody(i) })))
      assert.deepStrictEqual([first.title, plain.title, ...later.map((p) => p.title)], ["Instance", "Plain", "Later 3", "Later 4"])
      assert.deepStrictEqual([plain.tags, plain.status], [["x"], "published"])
      assert.deepStrictEqual([stats().posts, stats().inline], [4, 0])
      // One that is not a post's fields is refused as the API refuses it, naming the field.
      const bad = yield* Effect.flip(posts.create({ title: 5, body: longBody(5) } as unknown as PostInput))
      assert.deepInclude(bad, { _tag: "InvalidPost", source: "api", field: "title", reason: "expected a string, got 5" })
      const unknown = yield* Effect.flip(PostProcessor.pipe(Effect.flatMap((p) => p.fromInput({ body: longBody(6), Title: "x" } as unknown as PostInput, "api"))))
      assert.strictEqual(unknown.field, "Title")
      assert.match(unknown.reason, /^unknown field, did you mean title\?/)
      assert.strictEqual(stats().posts, 4)
    }).pipe(Effect.provide(postsOnPool), withinRealTime("40 seconds")), { timeout: 60_000 })

  it.scoped("a defect while a batch is sent fails that batch's posts alone, as defects; the pool goes on (was: its dispatcher died, and every later post waited for ever)", () =>
    Effect.gen(function* () {
      const processor = yield* PostProcessor
      const stats = yield* RenderPool.Stats
      // A source whose relativePath is no string (a JavaScript caller's): its batch's message cannot be built.
      const broken = { source: "broken.md", raw: markdown(1), relativePath: 7 as unknown as string }
      const [exit, ...others] = yield* Effect.forEach(
        [broken, { source: "a.md", raw: markdown(2) }, { source: "b.md", raw: markdown(3) }],
        (source) => Effect.exit(processor.process(source)),
        { concurrency: "unbounded" }
      )
      assert.isTrue(exit !== undefined && Exit.isFailure(exit) && Cause.isDie(exit.cause), "a defect")
      if (exit !== undefined && Exit.isFailure(exit)) assert.strictEqual((Cause.squash(exit.cause) as { _tag?: unknown })._tag, "ParseError")
      // One post per message: the others were batches of their own, rendered.
      assert.deepStrictEqual(others.map((other) => Exit.isSuccess(other) ? other.value.title : "failed"), ["Post 2", "Post 3"])
      const after = yield* processor.process({ source: "after.md", raw: markdown(4) })
      assert.strictEqual(after.title, "Post 4")
      assert.strictEqual(stats().batches, 4)
    }).pipe(Effect.provide(withStats({ maxBatch: 1 })), withinRealTime("40 seconds")), { timeout: 60_000 })
})
