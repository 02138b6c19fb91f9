/**
 * Rendering alone: the real corpus (../shared/corpus/rust-blog, or --corpus) processed
 * (front matter, markdown, sanitizing, excerpt, hash) single-threaded with `processPostSync` in a
 * plain loop (the baseline), and through `RenderPool` (worker threads, RENDER_WORKERS or
 * os.availableParallelism(), with the pool's default batch size and worker heap cap), called per
 * post by as many fibers as the pool needs in flight (`RenderPool.inFlightFor`), interleaved,
 * --reps times (default 3). Files are read once, before timing. Target: ≥ 1.7× on 2 cores.
 */
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { relative } from "node:path"
import { PostProcessor } from "../../src/Processing/PostProcessor.js"
import { defaultProcessorConfig, processPostSync } from "../../src/Processing/processPost.js"
import * as RenderPool from "../../src/Workers/RenderPool.js"
import { markdownFiles } from "./lib/markdownFiles.js"
import { byRepetition, median, ratiosBy, type Row, spreadOf, verdict } from "./lib/table.js"


export interface RenderOptions {
  readonly corpus: string
  readonly repetitions: number
  readonly workers: number
  /** Passes over the corpus per measurement (more posts per figure, less noise). */
  readonly passes: number
  /** Each thread's old-space cap in MB (default: the pool's own). */
  readonly workerHeapMb?: number
  /** Each thread's initial old space in MB (default: the pool's own). */
  readonly workerInitialHeapMb?: number
}

export const run = async (options: RenderOptions): Promise<ReadonlyArray<Row>> => {
  const files = markdownFiles(options.corpus)
  if (files.length === 0) throw new Error(`no markdown under ${options.corpus}`)
  const sources = files.map((file) => ({ source: file, raw: readFileSync(file, "utf8"), relativePath: relative(options.corpus, file) }))
  const bytes = sources.reduce((n, s) => n + Buffer.byteLength(s.raw), 0)
  const total = sources.length * options.passes
  console.error(`  ${sources.length} files, ${(bytes / 1024 / 1024).toFixed(1)} MB, ${options.passes} pass(es), ${options.workers} workers`)

  const single = () => {
    const started = performance.now()
    for (let pass = 0; pass < options.passes; pass++) for (const source of sources) processPostSync(source, defaultProcessorConfig)
    return total / ((performance.now() - started) / 1000)
  }
  const pooled = Effect.gen(function* () {
    const processor = yield* PostProcessor
    const stats = yield* RenderPool.Stats
    const inFlight = RenderPool.inFlightFor({ size: options.workers })
    // Warm the threads (spawn, module load, JIT) as the loop is warmed below: one whole pass per
    // thread, so that each of them has rendered the corpus once, as the loop's thread has (with one
    // pass in all, each thread saw half of it and was still compiling during the first repetitions).
    for (let pass = 0; pass < options.workers; pass++) {
      yield* Effect.forEach(sources, (s) => Effect.either(processor.process(s)), { concurrency: inFlight, discard: true })
    }
    const measure = Effect.gen(function* () {
      const started = performance.now()
      for (let pass = 0; pass < options.passes; pass++) {
        yield* Effect.forEach(sources, (s) => Effect.either(processor.process(s)), { concurrency: inFlight, discard: true })
      }
      return total / ((performance.now() - started) / 1000)
    })
    const base: Array<number> = []
    const mine: Array<number> = []
    single() // JIT warm-up for the baseline
    for (let rep = 0; rep < options.repetitions; rep++) {
      base.push(single())
      mine.push(yield* measure)
      console.error(`  rep ${rep + 1}: single thread ${base.at(-1)!.toFixed(0)} posts/s, pool ${mine.at(-1)!.toFixed(0)} posts/s`)
    }
    const s = stats()
    console.error(`  pool: ${s.posts} posts in ${s.batches} messages (${(s.posts / Math.max(1, s.batches)).toFixed(1)} per message), ${s.inline} in-process`)
    return { base, mine }
  }).pipe(
    // Every post on the threads (none inline, not even while they start): the figure is the pool's.
    Effect.provide(
      RenderPool.layerWithStats({
        size: options.workers,
        inlineBelowBytes: 0,
        inlineWhileStarting: false,
        settings: defaultProcessorConfig,
        ...(options.workerHeapMb === undefined ? {} : { workerHeapMb: options.workerHeapMb }),
        ...(options.workerInitialHeapMb === undefined ? {} : { workerInitialHeapMb: options.workerInitialHeapMb })
      })
    ),
    Effect.scoped
  )
  const { base, mine } = await Effect.runPromise(pooled)
  const heap = (options.workerHeapMb === undefined ? "" : `, ${options.workerHeapMb} MB heap cap`) +
    (options.workerInitialHeapMb === undefined ? "" : `, ${options.workerInitialHeapMb} MB initial heap`)
  const ratios = ratiosBy(mine, base)
  const ratio = median(ratios)
  return [
    {
      figure: `render ${sources.length} corpus posts, ${options.workers} workers${heap} vs one thread`,
      unit: "posts/s",
      inkwell: median(mine),
      baseline: median(base),
      ratio,
      target: "≥ 1.7×",
      met: verdict(ratios, base, 1.7),
      spread: `${spreadOf(mine)}; ${byRepetition(ratios)}`
    }
  ]
}

export const defaults = (argv: ReadonlyArray<string>): RenderOptions => {
  const arg = (name: string, fallback: string) => {
    const i = argv.indexOf(`--${name}`)
    return i === -1 ? fallback : argv[i + 1]!
  }
  return {
    corpus: arg("corpus", "../shared/corpus/rust-blog"),
    repetitions: Number(arg("reps", "3")),
    workers: Number(arg("workers", process.env["RENDER_WORKERS"] ?? String(availableParallelism()))),
    passes: Number(arg("passes", "1")),
    ...(argv.includes("--worker-heap") ? { workerHeapMb: Number(arg("worker-heap", "")) } : {}),
    ...(argv.includes("--worker-initial-heap") ? { workerInitialHeapMb: Number(arg("worker-initial-heap", "")) } : {})
  }
}
