/**
 * npm run bench:pool — N fibers started at once, each doing an async no-op (one setImmediate)
 * while holding one of 10 permits: through DatabasePool (FairSemaphore), through Effect 3's
 * `Effect.makeSemaphore(10)`, and through `Effect.forEach({ concurrency: 10 })` (no waiters at
 * all: the floor). Same process, same run. `--quick` skips makeSemaphore at 2,000 (≈ 70 s).
 */
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Effect, Layer } from "effect"
import { DatabasePool } from "../src/Database/DatabasePool.js"

const PERMITS = 10
const quick = process.argv.includes("--quick")
const asyncNoop = Effect.async<void>((resume) => {
  setImmediate(() => resume(Effect.void))
})

const time = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const start = performance.now()
    yield* effect
    return performance.now() - start
  })

const program = Effect.gen(function*() {
  const pool = yield* DatabasePool
  const rows: Array<{ n: number; pool: number; semaphore: number | undefined; forEach: number }> = []
  for (const n of [1_000, 2_000, 10_000]) {
    const all = Array.from({ length: n })
    const poolMs = yield* time(Effect.forEach(all, () => pool.use("noop", () => asyncNoop), { concurrency: "unbounded", discard: true }))
    const forEachMs = yield* time(Effect.forEach(all, () => asyncNoop, { concurrency: PERMITS, discard: true }))
    let semaphoreMs: number | undefined
    if (n === 1_000 || (n === 2_000 && !quick)) {
      const sem = yield* Effect.makeSemaphore(PERMITS)
      semaphoreMs = yield* time(Effect.forEach(all, () => sem.withPermits(1)(asyncNoop), { concurrency: "unbounded", discard: true }))
    }
    rows.push({ n, pool: poolMs, semaphore: semaphoreMs, forEach: forEachMs })
    console.error(`  measured ${n}`)
  }
  const fmt = (ms: number | undefined) => (ms === undefined ? "skipped" : `${ms.toFixed(1)} ms`)
  console.log(`\nbench:pool  node ${process.version}, ${PERMITS} permits, async no-op (setImmediate)\n`)
  console.log("| waiters | DatabasePool | Effect.makeSemaphore | Effect.forEach(c=10) | makeSemaphore / pool | pool / forEach |")
  console.log("|---:|---:|---:|---:|---:|---:|")
  for (const r of rows) {
    const vsSem = r.semaphore === undefined ? "—" : `${(r.semaphore / r.pool).toFixed(1)}×`
    console.log(`| ${r.n} | ${fmt(r.pool)} | ${fmt(r.semaphore)} | ${fmt(r.forEach)} | ${vsSem} | ${(r.pool / r.forEach).toFixed(2)}× |`)
  }
  const linear = rows[2]!.pool / rows[0]!.pool
  console.log(`\nlinearity: 10,000 / 1,000 through DatabasePool = ${linear.toFixed(1)}× (target ≤ 12×) ${linear <= 12 ? "MET" : "NOT MET"}`)
  const r2 = rows[1]!
  if (r2.semaphore !== undefined) {
    const speedup = r2.semaphore / r2.pool
    console.log(`2,000 waiters: DatabasePool is ${speedup.toFixed(0)}× faster than Effect.makeSemaphore(10) (target ≥ 50×) ${speedup >= 50 ? "MET" : "NOT MET"}`)
  }
})

program.pipe(
  Effect.provide(DatabasePool.layer({ maxConnections: PERMITS, acquireTimeout: "10 minutes" }).pipe(
    Layer.provide(SqliteClient.layer({ filename: ":memory:" }))
  )),
  Effect.runPromise
).catch((e) => {
  console.error(e)
  process.exit(1)
})
