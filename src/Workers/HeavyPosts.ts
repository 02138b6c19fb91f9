/**
 * A `PostProcessor` for a process whose heap is kept small (`inkwell import`: V8's old space is
 * capped at 192 MB by bin/inkwell.js, which keeps its RSS flat): posts render in-process, as
 * before, except a post too dense to render beside the import. That one renders on a thread of
 * its own with its own heap cap, `heapMb` (`IMPORT_RENDER_HEAP_MB`, default 2048).
 *
 * Why: rendering takes ~20 to ~400 bytes of heap per character of markdown, the most for tables
 * and long lists of links (measured with --trace-gc, BENCHMARKS.md "Heavy posts": a 700 KB
 * table of 100,000 rows peaks at ~240 MB, a 4.8 MB changelog of 60,000 linked items at ~260 MB,
 * a 4.9 MB post of prose at ~90 MB). In-process, one such post within the size limit took the
 * whole import out of memory: no summary, nothing written, and the store refused to import back
 * what the (uncapped) server had stored.
 *
 * - Which posts: those whose rendering `estimateRenderHeap` puts over `IN_PROCESS_BUDGET`, from a
 *   scan of their characters (lines and markdown punctuation weigh most); a text too short to
 *   reach it is not scanned. The estimate is above every measured peak (1.3 to 8 times), and
 *   every post of the Rust blog corpus stays in-process (the largest, 173 KB, is estimated at
 *   22 MB), so a normal import neither starts a thread nor pays for one.
 * - One at a time, each on a thread started for it and stopped after it (a `RenderPool` of one
 *   thread, in a scope of its own): the thread's memory goes back when the post is done, and two
 *   such posts never hold twice the cap at once.
 * - A post that needs more than `heapMb` fails alone (`InvalidPost`, field `body`: "needs more
 *   than 2048 MB of memory to render"); its thread dies (Node stops a thread at its heap cap),
 *   the import goes on. Any other failure of the thread fails that post alone too.
 * - Deadlines (`--item-timeout`): the post's time on its thread counts whole, its wait for the
 *   thread not at all (`runsElsewhere`, `waitsItsTurn`); past it, the thread is stopped.
 * - A thread not ready within `startTimeout` (`RENDER_WORKER_START_TIMEOUT`, as a render pool
 *   reads it: a slow machine may need more than 20 s) is started again as the pool does
 *   (`START_RETRIES`); once none started, the post fails alone, naming why.
 */
import { Worker } from "@effect/platform"
import { NodeWorker } from "@effect/platform-node"
import { Cause, Config, type ConfigError, type Duration, Effect, Layer, Option } from "effect"
import { integer, ProcessorConfig } from "../Config.js"
import { describeFailure, hasCode } from "../Domain/describeFailure.js"
import { InvalidPost } from "../Domain/Errors.js"
import type { PostInput, PostSource } from "../Domain/Post.js"
import { itemTimeoutReason, runsElsewhere, waitsItsTurn } from "../Processing/processConcurrently.js"
import { makePostProcessor, PostProcessor, type PostProcessorShape } from "../Processing/PostProcessor.js"
import { rejected, type RecordLine, type RecordOutcome } from "../Processing/records.js"
import * as RenderPool from "./RenderPool.js"

export interface HeavyPostsOptions {
  readonly settings: ProcessorConfig
  /** Old-space cap, in MB, of the thread a heavy post renders on. */
  readonly heapMb: number
  /** Whether a text (a markdown source, a body, an NDJSON line) renders on a thread (default `isHeavy`). */
  readonly isHeavy?: (text: string) => boolean
  /** The render worker module (`RenderPool`'s `workerUrl`: a host's bundle). */
  readonly workerUrl?: URL | string | undefined
  /**
   * How long the thread may take to become ready (`RenderPool`'s `startTimeout`, default
   * `RenderPool.DEFAULT_START_TIMEOUT`); past it the thread is started again, as the pool does, and
   * the post fails once no start succeeded.
   */
  readonly startTimeout?: Duration.DurationInput | undefined
}

/** `IMPORT_RENDER_HEAP_MB`'s default: most posts of up to 5 MiB (`IMPORT_MAX_POST_BYTES`) render within it. */
export const DEFAULT_HEAP_MB = 2048

/**
 * Most heap a post may be estimated to need and still render in-process: a quarter of the
 * import's 192 MB, whose live set stays near 50 MB (a 10k-post import, --trace-gc).
 */
export const IN_PROCESS_BUDGET = 48 * 1024 * 1024

const PER_CHAR = 24
/** A line break (in a JSON line, `\n` as written): a block, a list item, a table row. */
const PER_LINE = 1024
/** A character that may open markup (a table cell, emphasis, a link, a tag, an entity). */
const PER_MARK = 1024
const MARKS = new Uint8Array(128)
for (const c of "|*_-+>#[]<`!&\\") MARKS[c.charCodeAt(0)] = 1

/** A text shorter than this cannot be estimated over the budget: it is not scanned. */
const SCANNED_FROM = Math.floor(IN_PROCESS_BUDGET / (PER_CHAR + PER_MARK))

/**
 * The heap rendering `text` may take at its peak, in bytes: an upper bound fitted to measured
 * peaks (tables, lists, nested lists, headings, emphasis, links, raw HTML, prose; BENCHMARKS.md "Heavy posts"),
 * which it exceeds 1.3 to 8 times. Linear: ~1 ms per MB of text.
 */
export const estimateRenderHeap = (text: string): number => {
  let lines = 0
  let marks = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 10) lines++
    else if (c === 92 && text.charCodeAt(i + 1) === 110) {
      // `\n` in JSON: an NDJSON line's line break.
      lines++
      i++
    } else if (c < 128 && MARKS[c] === 1) marks++
  }
  return text.length * PER_CHAR + lines * PER_LINE + marks * PER_MARK
}

/** Whether `text` renders on a thread of its own: estimated over `IN_PROCESS_BUDGET`. */
export const isHeavy = (text: string): boolean => text.length >= SCANNED_FROM && estimateRenderHeap(text) > IN_PROCESS_BUDGET

/**
 * Whether the thread died at its heap cap (Node's ERR_WORKER_OUT_OF_MEMORY). By its text too: the
 * worker protocol hands the thread's death on as a ParseError that quotes it (its request fails
 * with `Schema.Never`).
 */
const outOfMemory = (cause: unknown): boolean =>
  hasCode(cause, (code) => code === OUT_OF_MEMORY) ||
  describeFailure(cause).includes(OUT_OF_MEMORY)

const OUT_OF_MEMORY = "ERR_WORKER_OUT_OF_MEMORY"

/** The processor. Needs a worker manager (`NodeWorker.layerManager`). */
export const make = (options: HeavyPostsOptions): Effect.Effect<PostProcessorShape, never, Worker.WorkerManager> =>
  Effect.gen(function*() {
    const manager = yield* Worker.WorkerManager
    const inProcess = makePostProcessor(options.settings)
    const heavy = options.isHeavy ?? isHeavy
    const turn = yield* Effect.makeSemaphore(1)
    const needsMore = `needs more than ${options.heapMb} MB of memory to render (IMPORT_RENDER_HEAP_MB)`

    /** `use` on a thread started for it and stopped after it, once it is this post's turn. */
    const onThread = <A, E>(use: (pool: RenderPool.RenderPool) => Effect.Effect<A, E>): Effect.Effect<A, E> =>
      waitsItsTurn(turn.withPermits(1)(runsElsewhere(
        Effect.scoped(Effect.flatMap(
          RenderPool.make({
            size: 1,
            inlineBelowBytes: 0,
            inlineWhileStarting: false,
            maxBatch: 1,
            workerHeapMb: options.heapMb,
            workerUrl: options.workerUrl,
            startTimeout: options.startTimeout ?? RenderPool.DEFAULT_START_TIMEOUT,
            settings: options.settings
          }),
          use
        )).pipe(Effect.provideService(Worker.WorkerManager, manager))
      )))

    /**
     * A post the thread could not render: over its memory, or no thread could start (its module
     * missing, as in a host's bundle without the worker), `InvalidPost`: that post fails, reported
     * with the others, as a heavy NDJSON line does (`heavyLine`), not the whole import as a
     * defect. Else the defect as it was.
     */
    const failedOnThread = (source: string) => (cause: Cause.Cause<InvalidPost>): Effect.Effect<never, InvalidPost> =>
      Option.match(Cause.dieOption(cause), {
        onNone: () => Effect.failCause(cause),
        onSome: (defect) =>
          outOfMemory(defect)
            ? Effect.fail(new InvalidPost({ source, field: "body", reason: needsMore }))
            : defect instanceof RenderPool.RenderWorkerStartFailed
            ? Effect.fail(new InvalidPost({ source, field: "body", reason: `could not be rendered: ${defect.message}` }))
            : Effect.failCause(cause)
      })

    const process = (source: PostSource) =>
      heavy(source.raw)
        ? onThread((pool) => pool.process(source)).pipe(Effect.catchAllCause(failedOnThread(source.source)))
        : inProcess.process(source)

    const fromInput = (input: PostInput, source: string) =>
      heavy(input.body)
        ? onThread((pool) => pool.fromInput(input, source)).pipe(Effect.catchAllCause(failedOnThread(source)))
        : inProcess.fromInput(input, source)

    /** A heavy line, alone on its thread: whatever becomes of it is its own outcome. */
    const heavyLine = (name: string, line: RecordLine, deadline: Option.Option<Duration.Duration>) =>
      onThread((pool) => pool.fromLines!(name, [line], deadline)).pipe(
        Effect.map((outcomes): RecordOutcome => outcomes[0] ?? rejected(line.identity, "the render thread returned no outcome", line.bytes)),
        Effect.catchAll((failure) =>
          Effect.succeed(rejected(
            line.identity,
            Cause.isTimeoutException(failure.cause) && Option.isSome(deadline)
              ? itemTimeoutReason(deadline.value)
              : outOfMemory(failure.cause)
              ? `body: ${needsMore}`
              : `the render thread failed: ${describeFailure(failure.cause)}`,
            line.bytes
          ))
        )
      )

    const fromLines: NonNullable<PostProcessorShape["fromLines"]> = (name, lines, deadline) =>
      Effect.suspend(() => {
        const heavyAt = new Set<number>()
        lines.forEach((line, i) => {
          if (heavy(line.text)) heavyAt.add(i)
        })
        if (heavyAt.size === 0) return inProcess.fromLines!(name, lines, deadline)
        return Effect.gen(function*() {
          const light = yield* inProcess.fromLines!(name, lines.filter((_, i) => !heavyAt.has(i)), deadline)
          const out: Array<RecordOutcome> = []
          let next = 0
          for (let i = 0; i < lines.length; i++) {
            out.push(heavyAt.has(i) ? yield* heavyLine(name, lines[i]!, deadline) : light[next++]!)
          }
          return out
        })
      })

    return { process, fromInput, fromLines } satisfies PostProcessorShape
  })

/**
 * `IMPORT_RENDER_HEAP_MB` (default 2048, from 16 to 65536), `RENDER_WORKER_START_TIMEOUT` and
 * `RENDER_WORKER_URL` (as a render pool reads them) and the processor's settings.
 */
export const HeavyPostsConfig = Config.all({
  heapMb: integer("IMPORT_RENDER_HEAP_MB", { min: 16, max: 65536 }).pipe(
    Config.withDefault(DEFAULT_HEAP_MB)
  ),
  settings: ProcessorConfig,
  startTimeout: RenderPool.RenderWorkerStartTimeoutConfig,
  workerUrl: RenderPool.RenderWorkerUrlConfig
})

export const layer = (options: HeavyPostsOptions): Layer.Layer<PostProcessor> =>
  Layer.effect(PostProcessor, make(options)).pipe(Layer.provide(NodeWorker.layerManager))

/** `layer` configured from IMPORT_RENDER_HEAP_MB, RENDER_WORKER_START_TIMEOUT, RENDER_WORKER_URL, WORDS_PER_MINUTE, EXCERPT_LENGTH. */
export const layerConfig: Layer.Layer<PostProcessor, ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(HeavyPostsConfig, layer)
)
