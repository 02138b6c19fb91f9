/**
 * Does the warm-cache server get slower the longer it serves? One Inkwell server (cache on), its
 * cache warmed, then N back-to-back wrk runs: req/s, CPU per request, RSS after each.
 *   npx tsx scripts/experiments/warm-drift.ts [runs] [seconds] [extra env K=V,...]
 */
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { load, pinned } from "../bench/lib/load.js"
import { seed } from "../bench/lib/seed.js"
import { freePort, start } from "../bench/lib/servers.js"
import { readdirSync } from "node:fs"

/** CPU ms by thread name (comm) of `pid`, from /proc. */
const threads = (pid: number): Map<string, number> => {
  const out = new Map<string, number>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8")
      const comm = tid === String(pid) ? "main" : stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      out.set(comm, (out.get(comm) ?? 0) + (Number(f[11]) + Number(f[12])) * 10)
    } catch {}
  }
  return out
}

const here = fileURLToPath(new URL("../bench/", import.meta.url))
const runs = Number(process.argv[2] ?? 6)
const seconds = Number(process.argv[3] ?? 5)
const extra = Object.fromEntries((process.argv[4] ?? "").split(",").filter(Boolean).map((kv) => kv.split("=") as [string, string]))
const seeded = await seed(10_000)
const data = JSON.parse(readFileSync(seeded.responses, "utf8")) as { posts: Array<[string, string, string]> }
const paths = data.posts.map(([p]) => p)
const work = mkdtempSync(join(tmpdir(), "warm-drift-"))
const port = await freePort()
const [command, args] = pinned(0, process.execPath, [...(process.env["NODE_ARGS"] ?? "").split(" ").filter(Boolean), "--import", "tsx", join(here, "lib/inkwell-server.ts")])
const server = await start({
  name: "cache", command, args, port, probe: "/health", logFile: join(work, "cache.log"),
  env: { DATABASE_URL: `sqlite:${seeded.db}`, PORT: String(port), HOST: "127.0.0.1", LOG_FORMAT: "logfmt", NODE_ENV: "production", RESPONSE_CACHE_TTL: "10 minutes", ...extra }
})
for (const p of paths) await (await fetch(`${server.url}${p}`)).arrayBuffer()
console.log(`warmed; rss ${server.rss().now} MB; log ${work}/cache.log`)
for (let i = 0; i < runs; i++) {
  const before = server.cpuMs()
  const tBefore = threads(server.child.pid!)
  const r = await load({ url: server.url, paths, connections: 64, durationSeconds: seconds, tool: "wrk", cpu: 1, workDir: work })
  const us = ((server.cpuMs() - before) * 1000) / (r.rps * seconds)
  const tAfter = threads(server.child.pid!)
  const per = [...tAfter].map(([k, v]) => [k, ((v - (tBefore.get(k) ?? 0)) * 1000) / (r.rps * seconds)] as const).filter(([, v]) => v > 0.05)
  console.log(`run ${i + 1}: ${Math.round(r.rps)} req/s  CPU ${us.toFixed(1)} µs/req  p99 ${r.p99.toFixed(2)} ms  rss ${server.rss().now} MB  by thread µs/req: ${per.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ")}`)
}
await server.stop()
