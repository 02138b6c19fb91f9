// A diagnostic preload for the read-path benchmark's servers (not used by `npm run bench`):
//   node --import ./scripts/bench/lib/server-probe.mjs [--import tsx] <server> ...
// measures, inside the server, what a load generator cannot tell apart:
//   server  `request` event → response `finish`, per request (time spent in the process);
//   gap     previous response's `finish` → next `request` event on the same connection (the
//           client's turnaround plus the time a request sat unread in the kernel);
//   turns   time between consecutive `setImmediate` callbacks (event-loop turn length; the
//           probe's immediate is unref'd, so an idle loop blocks in poll and an idle spell, such
//           as the pause before a wrk run, counts as one long turn: read `max` with that in mind);
// and, on demand, a CPU profile of just the measured window.
//   SIGUSR1  writes the three histograms to $PROBE_OUT.req and resets them;
//   SIGUSR2  starts the CPU profiler; the next SIGUSR2 writes $PROBE_OUT (.cpuprofile JSON).
import { writeFileSync } from "node:fs"
import http from "node:http"
import { Session } from "node:inspector"
import { createHistogram } from "node:perf_hooks"

const out = process.env.PROBE_OUT ?? `/tmp/server-probe-${process.pid}.cpuprofile`
const session = new Session()
session.connect()
let profiling = false
process.on("SIGUSR2", () => {
  if (!profiling) {
    profiling = true
    session.post("Profiler.enable", () =>
      session.post("Profiler.setSamplingInterval", { interval: 200 }, () => session.post("Profiler.start")))
    return
  }
  session.post("Profiler.stop", (error, result) => {
    if (error === null) writeFileSync(out, JSON.stringify(result.profile))
    profiling = false
  })
})

const server = createHistogram()
const gap = createHistogram()
const turns = createHistogram()
const micros = (ms) => Math.max(1, Math.round(ms * 1000))
const lastFinish = new WeakMap()
const emit = http.Server.prototype.emit
http.Server.prototype.emit = function (name, request, response) {
  if (name === "request") {
    const started = performance.now()
    const previous = lastFinish.get(request.socket)
    if (previous !== undefined) gap.record(micros(started - previous))
    response.once("finish", () => {
      const finished = performance.now()
      server.record(micros(finished - started))
      lastFinish.set(request.socket, finished)
    })
  }
  return emit.apply(this, arguments)
}
let lastTurn = performance.now()
const turn = () => {
  const now = performance.now()
  turns.record(micros(now - lastTurn))
  lastTurn = now
  setImmediate(turn).unref()
}
setImmediate(turn).unref()

const line = (h) =>
  `n=${h.count} mean=${(h.mean / 1000).toFixed(2)} p50=${(h.percentile(50) / 1000).toFixed(2)} p99=${(h.percentile(99) / 1000).toFixed(2)} max=${(h.max / 1000).toFixed(2)} ms`
process.on("SIGUSR1", () => {
  writeFileSync(`${out}.req`, `server ${line(server)}\ngap    ${line(gap)}\nturns  ${line(turns)}\n`)
  server.reset()
  gap.reset()
  turns.reset()
})
