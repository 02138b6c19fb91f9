// Counts the Effect fiber operations a server runs (every op passes the scheduler's yield check),
// printed to stderr as `OPS <total>` on SIGUSR2: send it before and after N requests, and the
// difference over N is the ops per request. Preload it into a server (run from the repository, so
// `effect` resolves to the server's own copy):
//   node --import tsx --import ./scripts/experiments/count-ops.mjs scripts/bench/lib/inkwell-server.ts
// Used in session 15 (BENCHMARKS.md): Inkwell's cache-off `GET /posts/:slug` and the stock
// `HttpApi` from a Map run about the same number of ops per request.
import * as Scheduler from "effect/Scheduler"

let ops = 0
const scheduler = Scheduler.defaultScheduler
const shouldYield = scheduler.shouldYield.bind(scheduler)
scheduler.shouldYield = (fiber) => {
  ops++
  return shouldYield(fiber)
}
process.on("SIGUSR2", () => process.stderr.write(`OPS ${ops}\n`))
