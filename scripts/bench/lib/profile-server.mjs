// Ad-hoc profiling of one read-path server under wrk (not used by `npm run bench`):
//   node profile-server.mjs <out-prefix> <seconds> <connections> -- <server command...>
// Environment: PORT is set for the server; the paths are the bench's seeded slugs
// (/tmp/inkwell-bench/posts-10000.responses.json). The server runs on CPU 0 with
// server-probe.mjs preloaded, wrk on CPU 1: 2 s unrecorded warm-up, then the profile of the
// measured window only (SIGUSR2 start/stop). Prints req/s, p50/p99, the in-server histograms and
// self time by function and by file (top 40); with NO_PROFILE set, wrk's whole output instead of
// the profile; with WARM_ALL set, every path is requested once before the warm-up. Run it under
// `flock /tmp/bench.lock`.
import { execFileSync, spawn } from "node:child_process"
import { existsSync, openSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { cpuTicks, requestEach, seededPaths, sleep, waitFor, writeRandomPathScript } from "./wrk-tools.mjs"

const here = fileURLToPath(new URL(".", import.meta.url))
const sep = process.argv.indexOf("--")
const [prefix, seconds = "5", connections = "64"] = process.argv.slice(2, sep)
const [command, ...args] = process.argv.slice(sep + 1)
const port = 20000 + Math.floor(Math.random() * 20000)
const paths = seededPaths()
const script = `${prefix}.lua`
writeRandomPathScript(script, paths)
const [nodeBin, ...rest] = [command, ...args]
const child = spawn("taskset", ["-c", "0", nodeBin, "--import", join(here, "server-probe.mjs"), ...rest], {
  env: { ...process.env, PORT: String(port), PROBE_OUT: `${prefix}.cpuprofile` },
  // The server's stdout (its log, --trace-gc lines) goes to <out-prefix>.out.
  stdio: ["ignore", openSync(`${prefix}.out`, "w"), "inherit"]
})
const url = `http://127.0.0.1:${port}`
await waitFor(`${url}${paths[0]}`, "the server")
const wrk = (s) => execFileSync("taskset", ["-c", "1", "wrk", "-t1", `-c${connections}`, `-d${s}s`, "--latency", "-s", script, url], { encoding: "utf8" })
const profiling = process.env.NO_PROFILE === undefined
// WARM_ALL: every path requested once first (a response cache then answers all of the window).
if (process.env.WARM_ALL !== undefined) await requestEach(url, paths)
wrk(2)
child.kill("SIGUSR1")
if (profiling) child.kill("SIGUSR2")
await sleep(200)
const cpuBefore = cpuTicks(child.pid)
const out = wrk(seconds)
const cpuAfter = cpuTicks(child.pid)
child.kill("SIGUSR1")
if (profiling) child.kill("SIGUSR2")
await sleep(1500)
child.kill("SIGTERM")
const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]
const p50 = /50%\s+(\S+)/.exec(out)?.[1]
const p99 = /99%\s+(\S+)/.exec(out)?.[1]
const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN)
console.log(`req/s ${rps}  p50 ${p50}  p99 ${p99}  server CPU ${(((cpuAfter - cpuBefore) * 10_000) / requests).toFixed(0)} µs/req`)
if (existsSync(`${prefix}.cpuprofile.req`)) console.log(readFileSync(`${prefix}.cpuprofile.req`, "utf8"))
if (!profiling) {
  console.log(out)
  process.exit(0)
}
for (let i = 0; i < 50 && !existsSync(`${prefix}.cpuprofile`); i++) await sleep(100)
const profile = JSON.parse(readFileSync(`${prefix}.cpuprofile`, "utf8"))
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const counts = new Map()
for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1)
const total = profile.samples.length
const fn = new Map()
const file = new Map()
for (const [id, c] of counts) {
  const n = byId.get(id)
  const f = n.callFrame.url.replace(/^file:\/\/\/work\/main\//, "").replace(/^node_modules\//, "nm/")
  const key = `${n.callFrame.functionName || "(anon)"} ${f.split("/").slice(-2).join("/")}:${n.callFrame.lineNumber + 1}`
  fn.set(key, (fn.get(key) ?? 0) + c)
  const fk = f.includes("nm/") ? f.split("/").slice(0, f.includes("@") ? 3 : 2).join("/") + "/" + f.split("/").at(-1) : f || n.callFrame.functionName
  file.set(fk, (file.get(fk) ?? 0) + c)
}
const top = (m, k) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([n, c]) => `${((100 * c) / total).toFixed(1).padStart(5)}%  ${n}`).join("\n")
console.log(`samples ${total}\n-- self by function\n${top(fn, 45)}\n-- self by file\n${top(file, 30)}`)
