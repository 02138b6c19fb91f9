/**
 * Ad-hoc (not used by `npm run bench`): where the render pool's CPU goes, thread by thread.
 *   node --import tsx scripts/bench/lib/render-cpu.ts [--passes 10] [--worker-heap 64] [--worker-initial-heap 0] [--size 2] [--single]
 * Renders the corpus (../shared/corpus/rust-blog or INKWELL_CORPUS) --passes times through
 * `RenderPool` (--size threads, default 2, the bench's settings), or with `processPostSync` in a loop (--single),
 * and prints per pass: posts/s and the CPU ticks (1/100 s) each thread of this process used,
 * read from /proc/self/task/<tid>/stat. The main thread is this process's pid; the pool's render
 * threads are the two busiest others; the rest are V8's platform threads (background compiler,
 * GC helpers) and libuv's. At the end: CPU per post over the passes from the 5th on (warmed up).
 * Run it under `flock /tmp/bench.lock`, with --trace-gc / --trace-opt for what V8 does per pass.
 */
import { Console, Effect } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { relative } from "node:path"
import { PostProcessor } from "../../../src/Processing/PostProcessor.js"
import { defaultProcessorConfig, processPostSync } from "../../../src/Processing/processPost.js"
import * as RenderPool from "../../../src/Workers/RenderPool.js"
import { markdownFiles } from "./markdownFiles.js"

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : process.argv[i + 1]!
}
const corpus = process.env["INKWELL_CORPUS"] ?? "../shared/corpus/rust-blog"
const passes = Number(arg("passes", "10"))
const single = process.argv.includes("--single")
const size = Number(arg("size", "2"))
const sources = markdownFiles(corpus).map((file) => ({ source: file, raw: readFileSync(file, "utf8"), relativePath: relative(corpus, file) }))
if (sources.length === 0) throw new Error(`no markdown under ${corpus}`)

/** CPU ticks (user + system) of every thread of this process, by thread id. */
const threadTicks = (): Map<string, number> =>
  new Map(readdirSync("/proc/self/task").map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return [tid, Number(fields[11]) + Number(fields[12])]
  }))

let warmTicks = 0
let warmPosts = 0
/** One pass over the corpus by `run`, timed, with each thread's CPU ticks during it. */
const pass = <E, R>(index: number, run: Effect.Effect<void, E, R>) =>
  Effect.gen(function* () {
    const before = threadTicks()
    const started = performance.now()
    yield* run
    const rate = sources.length / ((performance.now() - started) / 1000)
    const used = [...threadTicks()].map(([tid, ticks]) => [tid, ticks - (before.get(tid) ?? 0)] as const).filter(([, t]) => t > 0)
    const main = used.find(([tid]) => tid === String(process.pid))?.[1] ?? 0
    const others = used.filter(([tid]) => tid !== String(process.pid)).map(([, t]) => t).sort((a, b) => b - a)
    const renderThreads = single ? [] : others.slice(0, size)
    const rest = (single ? others : others.slice(size)).reduce((a, b) => a + b, 0)
    if (index >= 4) {
      warmTicks += main + renderThreads.reduce((a, b) => a + b, 0) + rest
      warmPosts += sources.length
    }
    yield* Console.log(`pass ${index}: ${rate.toFixed(0)} posts/s; ticks: main ${main}, render threads ${renderThreads.join(" + ") || "-"}, other threads ${rest}`)
  })

/** The process's peak RSS so far (VmHWM), MB: the render threads' heaps count in it. */
const peakRssMb = () => Math.round(Number(readFileSync("/proc/self/status", "utf8").match(/VmHWM:\s+(\d+)/)![1]) / 1024)

const summary = Effect.suspend(() =>
  Console.log(
    warmPosts === 0
      ? "(fewer than 5 passes)"
      : `CPU per post from pass 4 on, all threads: ${((warmTicks * 10) / warmPosts).toFixed(3)} ms; peak RSS ${peakRssMb()} MB`
  )
)

/** One thread: `processPostSync` in a loop. The pool: every post through it, as the render bench does. */
const program = single
  ? Effect.zipRight(
    Effect.forEach(Array.from({ length: passes }, (_, i) => i), (i) =>
      pass(i, Effect.sync(() => sources.forEach((s) => processPostSync(s, defaultProcessorConfig)))), { discard: true }),
    summary
  )
  : Effect.gen(function* () {
    const processor = yield* PostProcessor
    const inFlight = RenderPool.inFlightFor({ size })
    for (let i = 0; i < passes; i++) {
      yield* pass(i, Effect.forEach(sources, (s) => Effect.either(processor.process(s)), { concurrency: inFlight, discard: true }))
    }
    yield* summary
  }).pipe(
    Effect.provide(RenderPool.layer({
      size,
      inlineBelowBytes: 0,
      inlineWhileStarting: false,
      settings: defaultProcessorConfig,
      ...(process.argv.includes("--worker-heap") ? { workerHeapMb: Number(arg("worker-heap", "")) } : {}),
      ...(process.argv.includes("--worker-initial-heap") ? { workerInitialHeapMb: Number(arg("worker-initial-heap", "")) } : {})
    }))
  )

await Effect.runPromise(program)
