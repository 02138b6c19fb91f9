/**
 * Rendering on every core: a `PostProcessor` whose work runs on a pool of worker threads
 * (RenderWorker.ts), with the same `PostProcessorShape` as the in-process one, so it is provided
 * in its place (`RenderPool.layer` / `layerConfig`, or `PostProcessor` consumers unchanged).
 *
 * - Callers stay per post; a micro-batcher groups them: requests queue while the workers are
 *   busy, and each worker's next message takes everything queued (up to `maxBatch`). One message
 *   per post cost as much CPU as the render itself (RenderRequest.ts); one per batch does not.
 * - Small jobs stay in-process: a source under `inlineBelowBytes` renders faster than a thread
 *   hop, and the threads start only on the first post that needs them; until they are up, posts
 *   render in-process (`inlineWhileStarting`), so a run of a few posts never waits for threads.
 * - Interrupting a call drops its post from the batch; when every caller of a batch in a worker
 *   is gone, the batch is interrupted there too (after the post being rendered).
 * - A worker that dies fails only the posts of the batch it held, each as a `RenderWorkerFailed`
 *   defect naming its own source; the pool starts a replacement for the next batch.
 * - A thread that dies while starting (its module fails to load, it throws, its heap cap is too
 *   small for it to load), or is not ready within `startTimeout` (its module's import hangs, it
 *   blocks in a loop before its runner is up; it is terminated), is started again after a pause
 *   (`START_RETRIES`), a few times in a row at most, with a warning each time; then the pool gives
 *   up on threads. With `inlineWhileStarting` (the default) it renders in-process from then on,
 *   with one warning more. Without it, the posts waiting for a thread and every later one fail (a
 *   `RenderWorkerStartFailed` defect saying what the thread died of): a host that turned it off
 *   asked that these posts wait for a thread, not render in-process (HeavyPosts: a post too heavy
 *   for the import's capped heap). The platform alone restarted a thread that died every second,
 *   for ever, while the posts waited; one that never became ready held them for ever.
 * - NDJSON lines in bulk (`fromLines`, the import's chunks): one message per chunk of at most
 *   `MAX_MESSAGE_CHARS`, straight to a free thread, outcomes back as one JSON string; a batch
 *   that fails as a whole is the caller's to retry post by post (`BatchNotProcessed`).
 */
import { Worker } from "@effect/platform"
import { NodeWorker } from "@effect/platform-node"
import {
  Cause,
  Chunk,
  Config,
  type ConfigError,
  Context,
  Data,
  Deferred,
  Duration,
  Effect,
  Either,
  ExecutionStrategy,
  Exit,
  FiberId,
  FiberRef,
  HashSet,
  Layer,
  Logger,
  Option,
  Pool,
  Queue,
  Schedule,
  Scope
} from "effect"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { availableParallelism, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { setFlagsFromString } from "node:v8"
import { Worker as NodeThread } from "node:worker_threads"
import { integer, ProcessorConfig, timerDuration } from "../Config.js"
import { describeFailure } from "../Domain/describeFailure.js"
import { yieldToEventLoop } from "../Domain/yieldToEventLoop.js"
import type { InvalidPost } from "../Domain/Errors.js"
import type { NewPost, PostInput, PostSource } from "../Domain/Post.js"
import { BatchNotProcessed, makePostProcessor, PostProcessor, type PostProcessorShape } from "../Processing/PostProcessor.js"
import { postInputOf, processInputSync, processPostSync } from "../Processing/processPost.js"
import { decodeOutcomes, processRecordsSync, type RecordLine, type RecordOutcome } from "../Processing/records.js"
import { type BatchItem, type BatchResult, ProcessBatch, ProcessLines, type RenderRequest } from "./RenderRequest.js"

/** A worker stopped (crashed, was killed) or answered something unreadable while holding this post. */
export class RenderWorkerFailed extends Data.TaggedError("RenderWorkerFailed")<{
  readonly source: string
  readonly cause: unknown
}> {
  override get message() {
    return `the render worker processing ${this.source} failed`
  }
}

/**
 * The render threads could not start: each died while starting or was not ready within the
 * pool's `startTimeout`, `attempts` times in a row (one slot of the pool), the last for what
 * `reason` says (its start error: a module that failed to load, an exception, a heap cap too
 * small to load in; or "not ready within 20s"). `attempts` 0: none was started, its module not
 * being there (`missingWorker`).
 */
export class RenderWorkerStartFailed extends Data.TaggedError("RenderWorkerStartFailed")<{
  readonly reason: string
  readonly attempts: number
}> {
  override get message() {
    if (this.attempts === 0) return `the render worker threads could not start: ${this.reason}`
    return `the render worker threads could not start (${this.attempts} ${this.attempts === 1 ? "attempt" : "attempts"}): ${this.reason}`
  }
}

/**
 * One thread died before its runner was up (its first message), saying `reason`, or was not up
 * within `startTimeout` (and was terminated).
 */
class DiedStarting extends Data.TaggedError("DiedStarting")<{ readonly reason: string }> {}

/**
 * Between the starts of a thread that died starting: 4 starts in all, 0.1, 0.2 then 0.4 s apart.
 * A thread that fails to load dies the same way each time; a pause lets one that died of a
 * passing cause (the process short of memory a moment) start.
 */
export const START_RETRIES = Schedule.exponential("100 millis").pipe(Schedule.intersect(Schedule.recurs(3)))

/**
 * How long a thread may take to become ready (its runner's first message) before it counts as
 * a start that failed. Measured on a 2-core machine already at a load of ~5: 0.6 s for one
 * thread, 1.3–1.5 s for four at once; beside six more busy processes, 3.2 s for one and 5–6 s
 * for eight at once; loading the sources through tsx (the bundle failed), 2.5–3 s alone and
 * 6.4 s two at once. 20 s is three times the slowest: a slow start cut short is started again
 * as slow, and after `START_RETRIES` the pool gives up on threads, worse than a hang found late.
 * A hang costs `START_RETRIES`' four timeouts (~80 s) before the posts waiting fail, or render on
 * a thread that did start; with `inlineWhileStarting` they render in-process meanwhile.
 */
export const DEFAULT_START_TIMEOUT = Duration.seconds(20)

export interface RenderPoolOptions {
  /** Worker threads (default: os.availableParallelism()). */
  readonly size: number
  /** Sources shorter than this (in characters) are rendered in-process (default 1024). */
  readonly inlineBelowBytes: number
  readonly settings: ProcessorConfig
  /** Most posts in one message to a worker (default `DEFAULT_MAX_BATCH`). */
  readonly maxBatch?: number
  /**
   * Render in-process while the threads start (default true), and for good should they not
   * start. Off, posts wait for the threads, and fail (`RenderWorkerStartFailed`) should they not start.
   */
  readonly inlineWhileStarting?: boolean
  /** V8 old-generation cap of each worker thread in MB (default `DEFAULT_WORKER_HEAP_MB`). */
  readonly workerHeapMb?: number
  /** Initial old generation of each worker thread in MB (default `DEFAULT_WORKER_INITIAL_HEAP_MB`; 0: V8's). */
  readonly workerInitialHeapMb?: number
  /**
   * How long a thread may take to become ready (default `DEFAULT_START_TIMEOUT`). One that is
   * not ready by then is terminated and counts as a start that failed (`START_RETRIES`).
   */
  readonly startTimeout?: Duration.DurationInput
  /**
   * The module a render thread starts (a URL, or a file path): for a host that bundles Inkwell,
   * the entry it emits for src/Workers/RenderWorker.ts (README "Embedding"). Default: from the
   * sources, a bundle the pool makes; built, RenderWorker.js beside the module the pool is in,
   * which a host's own bundle does not have unless it emits it there.
   */
  readonly workerUrl?: URL | string | undefined
}

/**
 * Posts per message. 32 corpus posts are ~60 ms of rendering: the per-message cost (~2 ms of
 * CPU) drops to a few percent, and an interrupted batch stops within one post anyway.
 */
export const DEFAULT_MAX_BATCH = 32

/**
 * A thread renders one post at a time and keeps no state between posts: its live heap is ~20 MB
 * of code and one post. Without a cap V8 grows each thread's heap lazily to hundreds of MB
 * under markdown-it's churn (every thread's heap counts in the process's RSS).
 *
 * Too tight a cap costs CPU: a thread near its cap runs a major collection every few MB, and
 * after each one V8 compiles again what it dropped (optimized code that no live closure holds
 * does not survive one: sanitize-html makes its parser callbacks afresh per call). Measured on
 * the corpus (`scripts/bench/lib/render-cpu.ts`, BENCHMARKS.md session 7), per post over all
 * threads and per pass of 754 posts:
 * - 64 MB: 1.74–1.99 ms, ~5.4 major collections, 40–50 functions compiled again;
 * - 256 MB: 1.41–1.63 ms, ~3.3 major collections, and the same peak RSS as 64 MB (22k posts:
 *   685 against 724 MB for the whole process);
 * - 2 GB: 1.34–1.39 ms, ~0.6 major collections, 60–100 MB more peak RSS.
 * `RENDER_WORKER_HEAP_MB` moves along that line.
 */
export const DEFAULT_WORKER_HEAP_MB = 256

/**
 * The cap is not what a thread's heap starts at: V8 starts a thread's old generation small and
 * grows it only as collections show it must, so a render thread ran a major collection every
 * 20–40 MB (32 in 6 passes over the corpus for two threads, against 5 for one thread in a
 * process with V8's default sizing), and compiled again what each one dropped. Starting at
 * 64 MB cut CPU per post by ~12% (1.80–1.83 ms → 1.57–1.61, `render-cpu.ts`, interleaved) for
 * ~20 MB more peak RSS; 128 MB saved ~16% for ~100 MB more.
 */
export const DEFAULT_WORKER_INITIAL_HEAP_MB = 64

/**
 * Most characters of NDJSON lines in one message (a single longer line goes alone). A thread's
 * heap holds a message's lines and everything rendered from them at once: three 800 KB posts in
 * one message took a 64 MB thread out of memory.
 */
export const MAX_MESSAGE_CHARS = 1024 * 1024

/** Lines cut into messages of at most `MAX_MESSAGE_CHARS` characters, in order. */
const byMessage = (lines: ReadonlyArray<RecordLine>): Array<ReadonlyArray<RecordLine>> => {
  const parts: Array<Array<RecordLine>> = []
  let current: Array<RecordLine> = []
  let chars = 0
  for (const line of lines) {
    if (current.length > 0 && chars + line.text.length > MAX_MESSAGE_CHARS) {
      parts.push(current)
      current = []
      chars = 0
    }
    current.push(line)
    chars += line.text.length
  }
  if (current.length > 0) parts.push(current)
  return parts
}

/** In flight per worker thread that keeps every thread busy: one batch rendering, one queued. */
export const inFlightFor = (options: Pick<RenderPoolOptions, "size" | "maxBatch">): number =>
  options.size * (options.maxBatch ?? DEFAULT_MAX_BATCH) * 2

const FROM_SOURCES = import.meta.url.endsWith(".ts")

/** Node 20 ignores `--import tsx` in a worker's execArgv: this bootstrap registers tsx in the thread. */
const BOOTSTRAP_URL = new URL("./renderWorkerBootstrap.mjs", import.meta.url)

/** Gives the bundle the `require` that CommonJS dependencies (sanitize-html, postcss) call. */
const REQUIRE_SHIM = "import { createRequire as __inkwellRequire } from 'node:module'; const require = __inkwellRequire(import.meta.url);"

/**
 * The module a render thread starts. Built (JavaScript): RenderWorker.js itself. From the
 * TypeScript sources (tsx, vitest), a thread that registers tsx and loads the sources costs
 * ~180 MB of RSS (its own loader thread, every module transformed with its source map, the
 * whole of `effect` and `@effect/platform`); the same worker bundled by esbuild (what tsx runs
 * on) costs ~40 MB. So the pool bundles it once into a temporary directory, removed when the pool
 * closes (~0.7 s, while the first posts render in-process). Should bundling fail, threads
 * register tsx instead. `workerUrl`, when given, is the module instead (a host's bundle).
 */
const defaultWorkerEntry: Effect.Effect<URL, never, Scope.Scope> = FROM_SOURCES
  ? Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "inkwell-render-"))
      const outfile = join(dir, "render-worker.mjs")
      return { dir, outfile, built: bundleWorker(outfile) }
    }),
    // After the build settled: esbuild cannot be stopped, and a pool closed while it ran (its
    // first post rendered in-process) removed the directory before esbuild wrote the bundle into
    // it again, leaving ~2 MB in the temporary directory for good.
    ({ built, dir }) =>
      Effect.promise(() => built.then(() => undefined, () => undefined)).pipe(
        Effect.zipRight(Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      )
  ).pipe(
    Effect.flatMap(({ built, outfile }) => Effect.tryPromise(() => built.then(() => pathToFileURL(outfile)))),
    Effect.catchAllCause((cause) =>
      Effect.as(Effect.logWarning("could not bundle the render worker; its threads load the sources through tsx", cause), BOOTSTRAP_URL)
    )
  )
  : Effect.succeed(new URL("./RenderWorker.js", import.meta.url))

/** `workerUrl` as a URL (a path is a file's), else the default entry. */
const workerEntry = (workerUrl: URL | string | undefined): Effect.Effect<URL, never, Scope.Scope> =>
  workerUrl === undefined
    ? defaultWorkerEntry
    : Effect.succeed(typeof workerUrl === "string" && !/^[a-z][a-z0-9+.-]*:/i.test(workerUrl) ? pathToFileURL(workerUrl) : new URL(workerUrl))

/**
 * Why a thread cannot start from `entry` when its file is not there, else `undefined`. Said at
 * once rather than as Node's "Cannot find module" after `START_RETRIES`: the usual cause is a host
 * whose bundle has no worker entry, and the fix is the host's, so the message names it.
 */
export const missingWorker = (entry: URL, given: boolean): string | undefined => {
  if (entry.protocol !== "file:") return undefined
  const path = fileURLToPath(entry)
  if (existsSync(path)) return undefined
  return given
    ? `the render worker module ${path} (the pool's workerUrl, RENDER_WORKER_URL) does not exist`
    : `the render worker module ${path} does not exist: a host that bundles Inkwell emits src/Workers/RenderWorker.ts as an entry of its own and gives its path as the pool's workerUrl (or RENDER_WORKER_URL); README "Embedding"`
}

/** Bundles RenderWorker.ts into `outfile` (esbuild, as tsx runs on it). */
const bundleWorker = async (outfile: string): Promise<void> => {
  const esbuild = await import("esbuild")
  await esbuild.build({
    entryPoints: [fileURLToPath(new URL("./RenderWorker.ts", import.meta.url))],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    banner: { js: REQUIRE_SHIM },
    logLevel: "silent"
  })
}

/**
 * The value the command line gave a V8 flag (NODE_OPTIONS, then the process's own arguments,
 * which V8 reads after it: the last one wins), `undefined` when neither gave it. V8 takes
 * `--max-old-space-size=N`, `--max_old_space_size=N` and `--max-old-space-size N` alike.
 */
export const commandLineFlag = (args: ReadonlyArray<string>, names: ReadonlyArray<string>): string | undefined => {
  const wanted = new Set(names.map((name) => name.replaceAll("_", "-")))
  let value: string | undefined
  args.forEach((arg, i) => {
    const [flag, given] = arg.replaceAll("_", "-").split("=", 2)
    if (flag === undefined || !wanted.has(flag)) return
    // `arg.replaceAll` changed only the flag's name: the value is read from the argument as given.
    value = given !== undefined ? arg.slice(arg.indexOf("=") + 1) : args[i + 1]
  })
  return value
}

const COMMAND_LINE = [...(process.env["NODE_OPTIONS"] ?? "").split(/\s+/).filter((arg) => arg.length > 0), ...process.execArgv]

/** What the command line set `--max-old-space-size` to (NODE_OPTIONS included); V8's default is 0: sized by V8. */
const maxOldSpaceFromCommandLine = commandLineFlag(COMMAND_LINE, ["--max-old-space-size"]) ?? "0"

/** Whether V8's initial old space was chosen on the command line (NODE_OPTIONS included). */
const initialHeapFromCommandLine = commandLineFlag(COMMAND_LINE, ["--initial-old-space-size", "--initial-heap-size"]) !== undefined

/**
 * Render threads started and not yet running (their isolates not yet made): while there are
 * any, V8's process-wide heap flags are the pool's. Per process, not per pool: the flags are.
 */
let threadsStarting = 0

/**
 * The host's flags back, for the isolates created from now on (its own workers'): the command
 * line's `--max-old-space-size` (a value set at run time with `v8.setFlagsFromString` is not
 * known, and is not restored), and V8's default initial old space, which the pool set only when
 * the command line had not chosen one. Left cleared, an embedding app started with
 * `--max-old-space-size=512`, whose workers had a 560 MB heap, started workers of 4 GB once the
 * pool had run, for good.
 */
const restoreHostFlags = () => {
  if (!initialHeapFromCommandLine) setFlagsFromString("--initial-old-space-size=0")
  setFlagsFromString(`--max-old-space-size=${maxOldSpaceFromCommandLine}`)
}

/** What a pool counts of its threads (`RenderPoolStats`), kept by the threads' spawners. */
interface ThreadCounts {
  threadStarts: number
  threads: number
}

/**
 * Starts one render thread from `entry` with the pool's heap cap and initial old space, and tells
 * `stopped` when it stops: with what it died of if that was before its runner was up (its first
 * message is the runner's "ready"), with `undefined` after. `terminate` stops one that is not up.
 * V8 sizes a thread's heap from its process-wide flags when the thread's isolate is made, on the
 * thread, after `new Worker` has returned (a flag restored at once, on the next tick or the next
 * turn of the event loop, was what the thread got): so the flags are set before each start and
 * the host's put back once the thread is `online` (it runs JavaScript: its isolate exists), or
 * failed to start, and no other render thread is starting.
 * - The initial size is V8's `--initial-old-space-size` (`resourceLimits` has none), left alone
 *   when the command line chose one.
 * - The cap is the thread's `resourceLimits`, which a process-wide --max-old-space-size overrides:
 *   under `inkwell import` (192 MB, bin/inkwell.js) every thread got the main thread's cap,
 *   whatever the pool asked. So that flag is cleared while a thread starts; the main thread
 *   keeps its own cap (its isolate is sized already), and so do workers the host starts later.
 * - One thread per spawner: the platform starts a stopped thread again a second later, for ever
 *   (a thread that dies starting, again and again). Whether it is started again is the pool's to
 *   say (`startThread`: its slot's next thread, `START_RETRIES` allowing), so a second call throws,
 *   which ends the platform's loop.
 */
const spawnOnce = (
  entry: URL,
  options: Pick<RenderPoolOptions, "workerHeapMb" | "workerInitialHeapMb">,
  counts: ThreadCounts,
  stopped: (diedStarting: string | undefined) => void
): OneThread => {
  const maxMb = options.workerHeapMb ?? DEFAULT_WORKER_HEAP_MB
  const initialMb = Math.min(options.workerInitialHeapMb ?? DEFAULT_WORKER_INITIAL_HEAP_MB, maxMb)
  let spawned = false
  let spawnedThread: NodeThread | undefined
  let up = false
  const spawn = () => {
    if (spawned) throw new Error("a render thread is not started again in place: the pool starts its replacement")
    spawned = true
    if (initialMb > 0 && !initialHeapFromCommandLine) setFlagsFromString(`--initial-old-space-size=${initialMb}`)
    setFlagsFromString("--max-old-space-size=0")
    threadsStarting++
    let started = false
    const running = () => {
      if (started) return
      started = true
      if (--threadsStarting === 0) restoreHostFlags()
    }
    try {
      const thread = new NodeThread(entry, { resourceLimits: { maxOldGenerationSizeMb: maxMb } })
      spawnedThread = thread
      counts.threadStarts++
      counts.threads++
      let error: unknown
      thread.once("online", running).once("error", running).once("exit", running)
      thread.once("message", () => {
        up = true
      })
      // Before `exit`, when the thread threw or ran out of memory: what it died of.
      thread.once("error", (cause) => {
        error = cause
      })
      thread.once("exit", (code) => {
        counts.threads--
        if (up) stopped(undefined)
        else stopped(error === undefined ? `the thread exited with code ${code} before it was ready` : describeFailure(error))
      })
      return thread
    } catch (error) {
      running()
      stopped(describeFailure(error))
      throw error
    }
  }
  return {
    spawn,
    answered: () => up,
    terminate: () => {
      // Nor started after: the platform may not have called `spawn` yet.
      spawned = true
      return spawnedThread?.terminate().then(() => undefined) ?? Promise.resolve()
    }
  }
}

/** One render thread, started by `spawn` (the platform's spawner, called once). */
interface OneThread {
  readonly spawn: Worker.SpawnerFn<NodeThread>
  /** Whether the thread has sent a message: its runner is up (its first is "ready"). */
  readonly answered: () => boolean
  /**
   * Stops the thread where it is, whatever it runs (a loop included), not waiting for it to read
   * a close message; settles once it has stopped (at once if it has stopped, or never started:
   * then it never will).
   */
  readonly terminate: () => Promise<void>
}

/** Counters, for tests and benchmarks. */
export interface RenderPoolStats {
  /** Messages (batches) sent to workers. */
  readonly batches: number
  /** Posts sent to workers. */
  readonly posts: number
  /** Posts rendered in-process (small, or while the threads started). */
  readonly inline: number
  /** Batches interrupted in a worker because all their callers went away. */
  readonly abandoned: number
  /** Threads started (replacements, and starts that died, included). */
  readonly threadStarts: number
  /** Threads running: started and not yet exited. */
  readonly threads: number
}

export interface RenderPool extends PostProcessorShape {
  readonly stats: () => RenderPoolStats
}

/** A batch in a worker: when its last caller leaves, `abandon` interrupts it there. */
interface InFlight {
  live: number
  readonly abandon: Deferred.Deferred<null>
}

interface Job {
  readonly item: BatchItem
  readonly source: string
  readonly result: Deferred.Deferred<NewPost, InvalidPost>
  cancelled: boolean
  batch: InFlight | undefined
}

const renderInline = (item: BatchItem, settings: ProcessorConfig): BatchResult =>
  item._tag === "Source"
    ? processPostSync(
      item.relativePath === undefined
        ? { source: item.source, raw: item.raw }
        : { source: item.source, raw: item.raw, relativePath: item.relativePath },
      settings
    )
    : processInputSync(item.input, item.source, settings)

const settle = (job: Job, result: BatchResult) =>
  Deferred.unsafeDone(job.result, result._tag === "Right" ? Exit.succeed(result.right) : Exit.fail(result.left))

/** A pool's threads: a worker per slot, or why its thread could not start. */
type Threads = Pool.Pool<Worker.SerializedWorker<RenderRequest>, RenderWorkerStartFailed>

/** The pool as a `PostProcessorShape`. Needs a worker manager (`NodeWorker.layerManager`) and a scope. */
export const make = (
  options: RenderPoolOptions
): Effect.Effect<RenderPool, never, Scope.Scope | Worker.WorkerManager> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const manager = yield* Worker.WorkerManager
    const maxBatch = Math.max(1, options.maxBatch ?? DEFAULT_MAX_BATCH)
    const inlineWhileStarting = options.inlineWhileStarting ?? true
    const startTimeout = Duration.decode(options.startTimeout ?? DEFAULT_START_TIMEOUT)
    const inline = makePostProcessor(options.settings)
    const queue = yield* Queue.unbounded<Job>()
    const stats = { batches: 0, posts: 0, inline: 0, abandoned: 0, threadStarts: 0, threads: 0 }
    /** Jobs not yet answered, to release their callers if the pool closes under them. */
    const pending = new Set<Job>()
    let state: "idle" | "starting" | "ready" | "unavailable" = "idle"
    /** Why the threads could not start, once the pool gave up on them (`unavailable`). */
    let failure: RenderWorkerStartFailed | undefined
    /** The threads once started (`None`: they could not start), for work sent in bulk. */
    const started = Deferred.unsafeMake<Option.Option<Threads>>(FiberId.none)

    yield* Scope.addFinalizer(
      scope,
      Effect.sync(() => {
        for (const job of pending) Deferred.unsafeDone(job.result, Exit.interrupt(FiberId.none))
        pending.clear()
      })
    )

    const finish = (job: Job, result: Effect.Effect<NewPost, InvalidPost>) => {
      pending.delete(job)
      Deferred.unsafeDone(job.result, result)
    }

    /** A post no thread will render, the pool having given up on them: in-process, or it fails. */
    const unserved = (job: Job) => {
      if (job.cancelled) return
      pending.delete(job)
      if (inlineWhileStarting || failure === undefined) {
        stats.inline++
        settle(job, renderInline(job.item, options.settings))
      } else Deferred.unsafeDone(job.result, Exit.die(failure))
    }

    /**
     * No thread could start (`START_RETRIES` spent on one slot of the pool): the pool renders
     * in-process from now on (`inlineWhileStarting`, like a pool of size 0), or fails the posts sent
     * to it, those waiting included. Said once. An interruption is the pool closing, not a failure.
     */
    const giveUp = (cause: Cause.Cause<unknown>) =>
      Effect.suspend(() => {
        if (state === "unavailable" || Cause.isInterruptedOnly(cause)) return Effect.void
        const error = Cause.squash(cause)
        failure = error instanceof RenderWorkerStartFailed
          ? error
          : new RenderWorkerStartFailed({ reason: describeFailure(error), attempts: 1 })
        state = "unavailable"
        Deferred.unsafeDone(started, Exit.succeed(Option.none()))
        return Effect.zipRight(
          Effect.logWarning(
            inlineWhileStarting
              ? "render worker threads could not start; rendering in-process"
              : "render worker threads could not start; the posts sent to them fail",
            cause
          ),
          Effect.map(Queue.takeAll(queue), (jobs) => {
            for (const job of Chunk.toReadonlyArray(jobs)) unserved(job)
          })
        )
      })

    /**
     * One batch on one worker. The platform fails the requests a dead worker held but keeps the
     * dead worker in the pool, so a worker that failed is invalidated here: the pool drops it
     * and starts another for the next batch. No worker to be had (its thread could not start)
     * is the pool giving up on threads; once it has, no thread is started again.
     */
    const execute = <A, E>(
      threads: Threads,
      run: (worker: Worker.SerializedWorker<RenderRequest>) => Effect.Effect<A, E>
    ): Effect.Effect<A, E | RenderWorkerStartFailed> =>
      Effect.suspend(() =>
        failure !== undefined ? Effect.fail(failure) : Effect.scoped(
          Effect.flatMap(Effect.tapErrorCause(Pool.get(threads), giveUp), (worker) =>
            run(worker).pipe(
              Effect.tapErrorCause((cause) => Cause.isInterruptedOnly(cause) ? Effect.void : Pool.invalidate(threads, worker))
            ))
        )
      )

    /**
     * Takes what is queued (at least one post), sends it as one message, answers every caller. A
     * defect on the way (a message that cannot be built: a post whose fields are not what its
     * type says) fails that batch's posts, as that defect, and the dispatcher goes on: it died
     * with it, and every post sent to the pool after waited for ever.
     */
    const dispatch = (threads: Threads) =>
      Effect.flatMap(Queue.takeBetween(queue, 1, maxBatch), (taken) => {
        const jobs = Chunk.toReadonlyArray(taken).filter((job) => !job.cancelled)
        if (jobs.length === 0) return Effect.void
        return Effect.catchAllDefect(sendBatch(threads, jobs), (defect) =>
          Effect.sync(() => {
            for (const job of jobs) finish(job, Effect.die(defect))
          }))
      })

    const sendBatch = (threads: Threads, jobs: ReadonlyArray<Job>) =>
      Effect.gen(function*() {
        const batch: InFlight = { live: jobs.length, abandon: Deferred.unsafeMake<null>(FiberId.none) }
        for (const job of jobs) job.batch = batch
        stats.batches++
        stats.posts += jobs.length
        const request = new ProcessBatch({ items: jobs.map((job) => job.item), settings: options.settings })
        const exit = yield* Effect.exit(Effect.raceFirst(execute(threads, (worker) => worker.executeEffect(request)), Deferred.await(batch.abandon)))
        if (Exit.isSuccess(exit)) {
          const results = exit.value
          if (results === null) {
            stats.abandoned++
            for (const job of jobs) pending.delete(job)
            return
          }
          jobs.forEach((job, index) => {
            const result = results[index]
            finish(
              job,
              result === undefined
                ? Effect.die(new RenderWorkerFailed({ source: job.source, cause: "the worker returned no result" }))
                : result._tag === "Right"
                ? Exit.succeed(result.right)
                : Exit.fail(result.left)
            )
          })
          return
        }
        const cause = Cause.squash(exit.cause)
        if (cause instanceof RenderWorkerStartFailed) {
          // This slot's thread could not be started again: the pool gave up on threads, and this
          // dispatcher takes no more posts (it stops with the layer).
          for (const job of jobs) unserved(job)
          return yield* Effect.never
        }
        for (const job of jobs) finish(job, Effect.die(new RenderWorkerFailed({ source: job.source, cause })))
      })

    /** The threads' pool, once made, for a thread that stops to be dropped from it. */
    const threadsMade = Deferred.unsafeMake<Threads>(FiberId.none)

    /**
     * What the platform runs for a thread (`self`), its log lines dropped until the thread is up.
     * The platform warns when a thread it runs stops, saying "exited with code 1" or the like:
     * for one that died starting, a second line beside the pool's, which says what it died of.
     * A thread that stops once up is the platform's to log, as ever.
     */
    const quietWhileStarting = <A, E, R>(thread: OneThread, self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.locallyWith(
        self,
        FiberRef.currentLoggers,
        HashSet.map((logger) =>
          Logger.make((entry) => {
            if (thread.answered()) logger.log(entry)
          })
        )
      )

    /**
     * A thread not ready after `startTimeout`: read once the messages that came meanwhile have
     * been, as a main thread busy that long (a post rendered in-process) read the timer first.
     */
    const notReady = (thread: OneThread, attempt: number): Effect.Effect<never, DiedStarting> =>
      Effect.sleep(startTimeout).pipe(
        Effect.zipRight(yieldToEventLoop),
        Effect.zipRight(Effect.suspend(() => {
          if (thread.answered()) return Effect.never
          const reason = `not ready within ${Duration.format(startTimeout)}`
          return Effect.zipRight(
            Effect.logWarning(`a render thread was ${reason}; terminating it`).pipe(
              Effect.annotateLogs({ attempt, startTimeout: Duration.format(startTimeout) })
            ),
            Effect.fail(new DiedStarting({ reason }))
          )
        }))
      )

    /**
     * One start of one thread, in a scope of its own that closes if the thread dies before it is
     * ready, is not ready in time, or the start is interrupted (the pool closing): closing it stops
     * what the platform runs for that thread. The thread is terminated first, where it is: the
     * platform's close asks it to stop and waits 5 s (on the Clock: for ever under a TestClock)
     * for an answer that a hung thread never gives; the start ends once it has stopped. A thread
     * that stops later, busy (a crash) or idle, is dropped from the pool, which starts its
     * replacement.
     */
    const startOnce = (entry: URL, attempt: number) =>
      Effect.gen(function*() {
        const own = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
        const died = Deferred.unsafeMake<never, DiedStarting>(FiberId.none)
        const stopped = Deferred.unsafeMake<void>(FiberId.none)
        const thread = spawnOnce(entry, options, stats, (diedStarting) => {
          if (diedStarting !== undefined) Deferred.unsafeDone(died, Exit.fail(new DiedStarting({ reason: diedStarting })))
          Deferred.unsafeDone(stopped, Exit.void)
        })
        const worker = yield* Effect.raceFirst(
          Effect.raceFirst(
            Effect.catchTag(
              quietWhileStarting(thread, Worker.makeSerialized<RenderRequest>({})),
              "WorkerError",
              (error) => Effect.fail(new DiedStarting({ reason: describeFailure(error) }))
            ),
            Deferred.await(died)
          ).pipe(
            Effect.tapError(({ reason }) =>
              Effect.logWarning(`a render thread died starting: ${reason}`).pipe(Effect.annotateLogs({ attempt }))
            )
          ),
          notReady(thread, attempt)
        ).pipe(
          Effect.provideService(Worker.Spawner, thread.spawn),
          Scope.extend(own),
          Effect.onError((cause) =>
            Effect.suspend(() => {
              const gone = thread.terminate()
              return Effect.zipRight(Scope.close(own, Exit.failCause(cause)), Effect.promise(() => gone))
            })
          )
        )
        yield* Effect.forkIn(
          Effect.zipRight(Deferred.await(stopped), Effect.flatMap(Deferred.await(threadsMade), (threads) => Pool.invalidate(threads, worker))),
          own
        )
        return worker
      })

    /** A thread for one slot of the pool, started again after each death at start, `START_RETRIES` allowing. */
    const startThread = (
      entry: URL
    ): Effect.Effect<Worker.SerializedWorker<RenderRequest>, RenderWorkerStartFailed, Scope.Scope | Worker.WorkerManager> =>
      Effect.suspend(() => {
        let attempts = 0
        return Effect.suspend(() => {
          attempts++
          return startOnce(entry, attempts)
        }).pipe(
          Effect.retry(START_RETRIES),
          Effect.mapError((died) => new RenderWorkerStartFailed({ reason: died.reason, attempts }))
        )
      })

    /**
     * The threads, in a scope of their own within the pool's: should none start, the slots still
     * being started stop at once (the layer closing stops the rest).
     */
    const start = Effect.gen(function*() {
      const entry = yield* Scope.extend(workerEntry(options.workerUrl), scope)
      const missing = missingWorker(entry, options.workerUrl !== undefined)
      if (missing !== undefined) return yield* giveUp(Cause.fail(new RenderWorkerStartFailed({ reason: missing, attempts: 0 })))
      const threadsScope = yield* Scope.fork(scope, ExecutionStrategy.sequential)
      const exit = yield* Effect.exit(Effect.gen(function*() {
        const threads = yield* Scope.extend(
          Pool.make({ acquire: startThread(entry), size: options.size, concurrency: 1 }),
          threadsScope
        )
        Deferred.unsafeDone(threadsMade, Exit.succeed(threads))
        // The first thread up, or why none could start.
        yield* execute(threads, () => Effect.void)
        yield* Effect.forkIn(
          Effect.replicateEffect(Effect.forever(dispatch(threads)), options.size, { concurrency: "unbounded", discard: true }),
          threadsScope
        )
        state = "ready"
        Deferred.unsafeDone(started, Exit.succeed(Option.some(threads)))
      }))
      if (Exit.isFailure(exit)) {
        yield* giveUp(exit.cause)
        yield* Scope.close(threadsScope, Exit.void)
      }
    }).pipe(Effect.provideService(Worker.WorkerManager, manager))

    const cancel = (job: Job) =>
      Effect.sync(() => {
        job.cancelled = true
        pending.delete(job)
        const batch = job.batch
        if (batch !== undefined && --batch.live === 0) Deferred.unsafeDone(batch.abandon, Exit.succeed(null))
      })

    /**
     * `onThreads()` once the threads serve calls, `inlined()` while they cannot (starting with
     * `inlineWhileStarting`, or given up on with it), `refused(failure)` once given up on without
     * it. The first call starts them, in the pool's scope: the threads outlive that caller and
     * close with the layer.
     */
    const routed = <A, E>(
      inlined: () => Effect.Effect<A, E>,
      onThreads: () => Effect.Effect<A, E>,
      refused: (failure: RenderWorkerStartFailed) => Effect.Effect<A, E>
    ): Effect.Effect<A, E> =>
      Effect.suspend(() => {
        if (state === "idle") {
          state = "starting"
          return Effect.zipRight(Effect.forkIn(start, scope), routed(inlined, onThreads, refused))
        }
        if (failure !== undefined) return inlineWhileStarting ? inlined() : refused(failure)
        return state === "starting" && inlineWhileStarting ? inlined() : onThreads()
      })

    const onWorker = (item: BatchItem, source: string): Effect.Effect<NewPost, InvalidPost> =>
      routed(
        () => {
          stats.inline++
          return renderInline(item, options.settings)
        },
        () => {
          const job: Job = { item, source, result: Deferred.unsafeMake(FiberId.none), cancelled: false, batch: undefined }
          pending.add(job)
          queue.unsafeOffer(job)
          return Effect.onInterrupt(Deferred.await(job.result), () => cancel(job))
        },
        Effect.die
      )

    const process = (source: PostSource): Effect.Effect<NewPost, InvalidPost> => {
      if (source.raw.length < options.inlineBelowBytes) {
        stats.inline++
        return inline.process(source)
      }
      const item: BatchItem = source.relativePath === undefined
        ? { _tag: "Source", source: source.source, raw: source.raw }
        : { _tag: "Source", source: source.source, raw: source.raw, relativePath: source.relativePath }
      return onWorker(item, source.source).pipe(
        Effect.withSpan("PostProcessor.process", { attributes: { source: source.source, worker: true }, captureStackTrace: false })
      )
    }

    const fromInput = (given: PostInput, source: string): Effect.Effect<NewPost, InvalidPost> =>
      Effect.suspend(() => {
        // A plain object of its fields as an instance, or refused naming the field: a message to a
        // thread carries instances only (`postInputOf`).
        const checked = postInputOf(given, source)
        if (Either.isLeft(checked)) return Effect.fail(checked.left)
        const input = checked.right
        if (input.body.length < options.inlineBelowBytes) {
          stats.inline++
          return inline.fromInput(input, source)
        }
        return onWorker({ _tag: "Input", input, source }, source).pipe(
          Effect.withSpan("PostProcessor.fromInput", { attributes: { source, worker: true }, captureStackTrace: false })
        )
      })

    const linesInline = (name: string, lines: ReadonlyArray<RecordLine>) =>
      Effect.sync(() => {
        stats.inline += lines.length
        return processRecordsSync(name, lines, options.settings)
      })

    /**
     * One message per batch, straight to a free thread (no micro-batching: the batch is one
     * already). A thread that dies or runs past the deadline is dropped from the pool (a thread
     * stuck in a post is stopped that way, the only way to interrupt synchronous work), and the
     * batch fails as a whole for the caller to retry post by post.
     */
    const onThreads = (
      threads: Threads,
      name: string,
      lines: ReadonlyArray<RecordLine>,
      deadline: Option.Option<Duration.Duration>
    ): Effect.Effect<ReadonlyArray<RecordOutcome>, BatchNotProcessed> =>
      Effect.map(
        Effect.forEach(byMessage(lines), (part) => oneMessage(threads, name, part, deadline)),
        (parts) => parts.flat()
      )

    const oneMessage = (
      threads: Threads,
      name: string,
      lines: ReadonlyArray<RecordLine>,
      deadline: Option.Option<Duration.Duration>
    ): Effect.Effect<ReadonlyArray<RecordOutcome>, BatchNotProcessed> => {
      const request = new ProcessLines({
        name,
        numbers: lines.map((line) => line.number),
        texts: lines.map((line) => line.text),
        settings: options.settings
      })
      const run = (worker: Worker.SerializedWorker<RenderRequest>) =>
        Option.match(deadline, {
          onNone: () => worker.executeEffect(request),
          onSome: (duration) => Effect.timeout(worker.executeEffect(request), duration)
        })
      return execute(threads, run).pipe(
        Effect.tap(() => {
          stats.batches++
          stats.posts += lines.length
        }),
        Effect.flatMap((text) => Effect.try(() => decodeOutcomes(text))),
        Effect.mapError((cause) =>
          new BatchNotProcessed({
            reason: Cause.isTimeoutException(cause)
              ? `not processed within ${Option.match(deadline, { onNone: () => "", onSome: Duration.format })}`
              : cause instanceof RenderWorkerStartFailed
              ? cause.message
              : "the render worker failed",
            cause
          })
        )
      )
    }

    const fromLines = (
      name: string,
      lines: ReadonlyArray<RecordLine>,
      deadline: Option.Option<Duration.Duration>
    ): Effect.Effect<ReadonlyArray<RecordOutcome>, BatchNotProcessed> =>
      Effect.suspend(() => {
        // A few short lines (an API upload) render faster than a thread hop.
        let chars = 0
        for (const line of lines) chars += line.text.length
        if (chars < options.inlineBelowBytes) return linesInline(name, lines)
        const refused = (failure: RenderWorkerStartFailed) => Effect.fail(new BatchNotProcessed({ reason: failure.message, cause: failure }))
        return routed(
          () => linesInline(name, lines),
          () =>
            Effect.flatMap(
              Deferred.await(started),
              Option.match({
                onNone: () => failure === undefined || inlineWhileStarting ? linesInline(name, lines) : refused(failure),
                onSome: (threads) => onThreads(threads, name, lines, deadline)
              })
            ),
          refused
        )
      })

    return { process, fromInput, fromLines, stats: () => ({ ...stats }) } satisfies RenderPool
  })

/** The pool's counters, next to the `PostProcessor` it provides (`layerWithStats`). */
export class Stats extends Context.Tag("Inkwell/RenderPool/Stats")<Stats, () => RenderPoolStats>() {}

/** `RENDER_WORKER_URL`: the module render threads start (`workerUrl`), unset for the default. */
export const RenderWorkerUrlConfig: Config.Config<string | undefined> = Config.string("RENDER_WORKER_URL").pipe(
  Config.option,
  Config.map(Option.getOrUndefined)
)

/** `RENDER_WORKER_START_TIMEOUT` (default 20 seconds): a render thread's `startTimeout`, wherever one is started. */
export const RenderWorkerStartTimeoutConfig: Config.Config<Duration.Duration> = timerDuration("RENDER_WORKER_START_TIMEOUT").pipe(
  Config.withDefault(DEFAULT_START_TIMEOUT)
)

/**
 * `RENDER_WORKERS` (default: os.availableParallelism()), `RENDER_INLINE_BELOW` (default 1024
 * characters), `RENDER_BATCH` (default 32 posts per message), `RENDER_WORKER_HEAP_MB` (default 256),
 * `RENDER_WORKER_INITIAL_HEAP_MB` (default 64; 0 leaves V8 to size it), `RENDER_WORKER_START_TIMEOUT`
 * (default 20 seconds), `RENDER_WORKER_URL` (the worker module, a path or a file URL: a host's
 * bundle; `workerUrl`).
 */
export const RenderPoolConfig = Config.all({
  size: integer("RENDER_WORKERS", { min: 0, max: 256 }).pipe(
    Config.withDefault(availableParallelism())
  ),
  inlineBelowBytes: integer("RENDER_INLINE_BELOW", { min: 0 }).pipe(
    Config.withDefault(1024)
  ),
  maxBatch: integer("RENDER_BATCH", { min: 1, max: 1024 }).pipe(
    Config.withDefault(DEFAULT_MAX_BATCH)
  ),
  workerHeapMb: integer("RENDER_WORKER_HEAP_MB", { min: 16, max: 65536 }).pipe(
    Config.withDefault(DEFAULT_WORKER_HEAP_MB)
  ),
  workerInitialHeapMb: integer("RENDER_WORKER_INITIAL_HEAP_MB", { min: 0, max: 65536 }).pipe(
    Config.withDefault(DEFAULT_WORKER_INITIAL_HEAP_MB)
  ),
  startTimeout: RenderWorkerStartTimeoutConfig,
  workerUrl: RenderWorkerUrlConfig,
  settings: ProcessorConfig
})

/** A `PostProcessor` backed by the worker pool, and its counters (threads stopped when the layer closes). */
export const layerWithStats = (options: RenderPoolOptions): Layer.Layer<PostProcessor | Stats> =>
  Layer.scopedContext(
    Effect.map(make(options), (pool) => Context.make(PostProcessor, pool).pipe(Context.add(Stats, pool.stats)))
  ).pipe(Layer.provide(NodeWorker.layerManager))

/** A `PostProcessor` backed by the worker pool (threads stopped when the layer closes). */
export const layer = (options: RenderPoolOptions): Layer.Layer<PostProcessor> =>
  Layer.scoped(PostProcessor, make(options)).pipe(Layer.provide(NodeWorker.layerManager))

/**
 * `layer` configured from RENDER_WORKERS, RENDER_INLINE_BELOW, RENDER_BATCH, RENDER_WORKER_HEAP_MB,
 * RENDER_WORKER_INITIAL_HEAP_MB, RENDER_WORKER_START_TIMEOUT, RENDER_WORKER_URL, WORDS_PER_MINUTE, EXCERPT_LENGTH. RENDER_WORKERS=0 renders in-process (no threads at all).
 */
export const layerConfig: Layer.Layer<PostProcessor, ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(RenderPoolConfig, (options) => options.size === 0 ? PostProcessor.layer(options.settings) : layer(options))
)
