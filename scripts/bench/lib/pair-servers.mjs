// Ad-hoc A/B of two Inkwell builds (not used by `npm run bench`), measured AT THE SAME TIME:
//   node pair-servers.mjs <seconds> <rounds> <connections> <nameA>=<checkout>[,KEY=value...] <nameB>=<checkout>[,KEY=value...]
// Both servers run on CPU 0 (sharing it), each under its own wrk on CPU 1, over the bench's
// seeded 10k posts (/tmp/inkwell-bench/posts-10000.*; `npm run bench -- http` seeds them), cache
// off unless RESPONSE_CACHE_SIZE is given (every post is requested once before measuring). Prints each round's server CPU per request and the
// per-round ratio B/A. Why: on these machines the CPU cost of the same request moves by up to 2×
// within minutes, so two builds measured one after the other differ by more than most changes
// do; measured side by side, both see the same machine. The servers swap start order every
// round (an A/A run showed the second one 0–5% cheaper). Run it under `flock /tmp/bench.lock`.
// A setting WRK_ACCEPT_ENCODING=gzip makes that server's wrk send `Accept-Encoding: gzip` (the
// same build twice, with and without it, measures what compressed answers cost).
import { execFile, execFileSync, spawn } from "node:child_process"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cpuTicks, requestEach, seededPaths, sleep, waitFor, writeRandomPathScript } from "./wrk-tools.mjs"

const [seconds = "6", rounds = "5", connections = "32", ...specs] = process.argv.slice(2)
if (specs.length !== 2) throw new Error("usage: pair-servers.mjs <seconds> <rounds> <connections> A=<checkout>[,K=V] B=<checkout>[,K=V]")
// PAIR_PATHS=site: the same posts' reader pages (`/p/<slug>`) instead of their JSON.
const paths = process.env.PAIR_PATHS === "site" ? seededPaths().map((path) => path.replace(/^\/posts\//, "/p/")) : seededPaths()
const script = join(tmpdir(), "pair-servers.lua")
writeRandomPathScript(script, paths)

const servers = specs.map((spec, i) => {
  const name = spec.slice(0, spec.indexOf("="))
  const [checkout, ...settings] = spec.slice(name.length + 1).split(",")
  const port = 31000 + i * 1000 + Math.floor(Math.random() * 1000)
  const db = join(tmpdir(), `pair-servers-${i}.db`)
  execFileSync("cp", ["/tmp/inkwell-bench/posts-10000.db", db])
  const env = {
    ...process.env,
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: `sqlite:${db}`,
    LOG_FORMAT: "logfmt",
    NODE_ENV: "production",
    RESPONSE_CACHE_SIZE: "0",
    RESPONSE_CACHE_TTL: "10 minutes"
  }
  for (const setting of settings) {
    // At the first "=" only: a value may hold one (NODE_OPTIONS=--max-semi-space-size=32).
    const at = setting.indexOf("=")
    env[setting.slice(0, at)] = setting.slice(at + 1)
  }
  const child = spawn("taskset", ["-c", "0", process.execPath, "--import", "tsx", "scripts/bench/lib/inkwell-server.ts"], {
    cwd: checkout,
    env,
    stdio: ["ignore", "ignore", "inherit"]
  })
  const headers = env.WRK_ACCEPT_ENCODING === undefined ? [] : ["-H", `Accept-Encoding: ${env.WRK_ACCEPT_ENCODING}`]
  return { name, child, url: `http://127.0.0.1:${port}`, headers, perRequest: [] }
})

try {
  for (const server of servers) await waitFor(`${server.url}/health`, server.name)
  const wrk = (server, secs) =>
    new Promise((resolve, reject) =>
      execFile("taskset", ["-c", "1", "wrk", "--latency", "-t1", `-c${connections}`, `-d${secs}s`, "-s", script, ...server.headers, server.url], { encoding: "utf8" }, (error, out) =>
        error === null ? resolve(out) : reject(error)))
  // Every post requested once (a response cache, when on, then answers every measured request),
  // then an unrecorded warm-up (JIT) for both, side by side as measured.
  for (const server of servers) await requestEach(server.url, paths)
  await Promise.all(servers.map((server) => wrk(server, 3)))
  for (let round = 0; round < Number(rounds); round++) {
    const order = round % 2 === 0 ? servers : [...servers].reverse()
    const before = order.map((server) => cpuTicks(server.child.pid))
    const outs = await Promise.all(order.map((server) => wrk(server, seconds)))
    const after = order.map((server) => cpuTicks(server.child.pid))
    order.forEach((server, i) => {
      const requests = Number(/(\d+) requests in/.exec(outs[i])?.[1])
      server.perRequest.push(((after[i] - before[i]) * 10_000) / requests)
      server.transfer = /Transfer\/sec:\s+(\S+)/.exec(outs[i])?.[1]
      server.p99 = /\s99%\s+(\S+)/.exec(outs[i])?.[1]
    })
    const [a, b] = servers
    console.log(
      `round ${round + 1}: ${a.name} ${a.perRequest.at(-1).toFixed(0)} µs/req (p99 ${a.p99}), ${b.name} ${b.perRequest.at(-1).toFixed(0)} µs/req (p99 ${b.p99}), ${b.name}/${a.name} ${(b.perRequest.at(-1) / a.perRequest.at(-1)).toFixed(2)}`
    )
  }
  const median = (xs) => {
    const s = [...xs].sort((x, y) => x - y)
    return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
  }
  const [a, b] = servers
  console.log(`median ratio ${b.name}/${a.name}: ${median(b.perRequest.map((x, i) => x / a.perRequest[i])).toFixed(2)}`)
  console.log(`last round's transfer/s: ${a.name} ${a.transfer}, ${b.name} ${b.transfer}`)
} finally {
  for (const server of servers) server.child.kill("SIGTERM")
  await sleep(1000)
}
