/**
 * Read path: `GET /posts/:slug` (random slug of 10k stored posts) and `GET /posts?limit=20`, at
 * 64 and 256 connections, against three servers started side by side and measured interleaved
 * (baseline, Inkwell without cache, Inkwell with a warm cache; repeat):
 *   - baseline: a bare node:http server answering Inkwell's exact bytes from a Map;
 *   - Inkwell as `npm start` runs it, logging every request (logfmt to a file), RESPONSE_CACHE_SIZE=0
 *     (every request through the full HttpApi path and SQLite), and with the response cache on.
 * Servers run on CPU 0 and the load generator on CPU 1 when `taskset` exists. Before the
 * repetitions of each configuration, every server gets an unrecorded 2-second warm-up under it.
 * Each line also gives the server's own CPU time per request (/proc): on this shared machine
 * req/s moves with other load, CPU per request much less.
 *
 * For finding where the time goes (slug only, all measured interleaved with the others):
 *   --stock map,sql,raw,blob,log  stock Effect HttpApi servers (lib/stock-httpapi-server.ts)
 *   --before <dir>                Inkwell from another checkout (e.g. a copy taken before a change), cache off
 *   --extra "name:K=V,K2=V2;..."  more cache-off Inkwell servers with extra environment
 *   --no-cache                    leave out the cache-warm server (put it last on the command line)
 *   --calibrate <µs>              also the baseline spinning <µs> of CPU per request (slug only): a
 *                                 bare server at Inkwell's full-path cost, for what the load
 *                                 generator reports (p99) at that throughput whatever the framework
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { load, type LoadResult, pinned, tools } from "./lib/load.js"
import { seed } from "./lib/seed.js"
import { freePort, type Running, start } from "./lib/servers.js"
import { byRepetition, median, ratiosBy, type Row, spreadOf, verdict } from "./lib/table.js"

export interface HttpOptions {
  readonly posts: number
  readonly durationSeconds: number
  readonly repetitions: number
  readonly connections: ReadonlyArray<number>
  readonly tool: "wrk" | "autocannon"
  readonly endpoints: ReadonlyArray<"slug" | "list">
  /** Extra environment for the Inkwell servers (e.g. LOG_FORMAT=json). */
  readonly env?: Record<string, string>
  /**
   * Stock Effect `HttpApi` servers measured alongside (slug only; lib/stock-httpapi-server.ts):
   * `map` (bytes from a Map), `sql` (SQLite through @effect/sql), `raw` (SQLite, better-sqlite3
   * called directly), `blob` (the encoded response stored in SQLite; needs STOCK_JSON_DB in the
   * environment, see the server), `log` (Map + HttpMiddleware.logger).
   */
  readonly stock?: ReadonlyArray<StockKind>
  /** Leave out the cache-warm Inkwell server (when only the full path is of interest). */
  readonly noCache?: boolean
  /**
   * Another source tree (a copy of this repository, e.g. before a change) whose Inkwell is
   * measured cache-off alongside, as the variant `before`: before/after in the same run.
   */
  readonly before?: string | undefined
  /** More cache-off Inkwell servers, each with its own extra environment (`name` → env). */
  readonly extra?: ReadonlyArray<readonly [string, Record<string, string>]>
  /** Also measure the baseline spinning this many µs of CPU per request (variant `busy`, slug only). */
  readonly calibrateUs?: number | undefined
  readonly log?: (line: string) => void
}

const here = fileURLToPath(new URL(".", import.meta.url))

type StockKind = "map" | "sql" | "raw" | "blob" | "log"
type Variant = string

const WARMUP_SECONDS = 2

const warm = async (server: Running, paths: ReadonlyArray<string>) => {
  let next = 0
  const worker = async () => {
    while (next < paths.length) {
      const response = await fetch(`${server.url}${paths[next++]}`)
      await response.arrayBuffer()
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
}

export const run = async (options: HttpOptions): Promise<ReadonlyArray<Row>> => {
  const say = options.log ?? ((line: string) => console.error(line))
  const stock = options.stock ?? []
  const VARIANTS: ReadonlyArray<Variant> = [
    "baseline",
    "nocache",
    ...(options.noCache === true ? [] : ["cache" as const]),
    ...(options.before === undefined ? [] : ["before"]),
    ...(options.extra ?? []).map(([name]) => name),
    ...stock.map((kind) => `stock-${kind}` as const),
    ...(options.calibrateUs === undefined ? [] : ["busy"])
  ]
  const isStock = (variant: Variant) => variant.startsWith("stock-")
  /** Measured on `GET /posts/:slug` only. */
  const slugOnly = (variant: Variant) => isStock(variant) || variant === "busy"
  const seeded = await seed(options.posts)
  const data = JSON.parse(readFileSync(seeded.responses, "utf8")) as {
    posts: Array<[string, string, string]>
    list: [string, string]
  }
  const slugPaths = data.posts.map(([path]) => path)
  const work = mkdtempSync(join(tmpdir(), "inkwell-bench-http-"))
  const servers = new Map<Variant, Running>()
  try {
    const inkwell = async (variant: Variant, env: Record<string, string>, root?: string) => {
      const port = await freePort()
      const server = root === undefined ? join(here, "lib/inkwell-server.ts") : join(root, "scripts/bench/lib/inkwell-server.ts")
      const [command, args] = pinned(0, process.execPath, ["--import", "tsx", server])
      return start({
        name: variant,
        command,
        args,
        port,
        probe: "/health",
        logFile: join(work, `${variant}.log`),
        env: {
          DATABASE_URL: `sqlite:${seeded.db}`,
          PORT: String(port),
          HOST: "127.0.0.1",
          LOG_FORMAT: "logfmt",
          NODE_ENV: "production",
          // Nothing writes during the run: entries must not expire between the warm-up and the runs.
          RESPONSE_CACHE_TTL: "10 minutes",
          ...options.env,
          ...env
        }
      })
    }
    /** The bare node:http server (lib/baseline-server.mjs); `env` may make it spin (BUSY_US). */
    const bare = async (variant: Variant, env?: Record<string, string>) => {
      const port = await freePort()
      const [command, args] = pinned(0, process.execPath, [join(here, "lib/baseline-server.mjs"), seeded.responses, String(port)])
      return start({ name: variant, command, args, port, probe: data.list[0], logFile: join(work, `${variant}.log`), env: env ?? {} })
    }
    servers.set("baseline", await bare("baseline"))
    if (options.calibrateUs !== undefined) servers.set("busy", await bare("busy", { BUSY_US: String(options.calibrateUs) }))
    servers.set("nocache", await inkwell("nocache", { RESPONSE_CACHE_SIZE: "0" }))
    if (VARIANTS.includes("cache")) servers.set("cache", await inkwell("cache", {}))
    if (options.before !== undefined) servers.set("before", await inkwell("before", { RESPONSE_CACHE_SIZE: "0" }, options.before))
    for (const [name, env] of options.extra ?? []) servers.set(name, await inkwell(name, { RESPONSE_CACHE_SIZE: "0", ...env }))
    for (const kind of stock) {
      const port = await freePort()
      const [command, args] = pinned(0, process.execPath, [
        "--import", "tsx", join(here, "lib/stock-httpapi-server.ts"), seeded.responses, String(port),
        kind === "log" ? "map" : kind, kind === "log" ? "logger" : ""
      ])
      servers.set(`stock-${kind}`, await start({
        name: `stock-${kind}`, command, args, port, probe: slugPaths[0]!, logFile: join(work, `stock-${kind}.log`),
        env: { STOCK_DB: seeded.db, NODE_ENV: "production", ...(options.env ?? {}) }
      }))
    }

    // Same bytes: the baseline must answer exactly what Inkwell answers.
    for (const path of [slugPaths[0]!, data.list[0]]) {
      const answering = VARIANTS.filter((v) => path === slugPaths[0] || !slugOnly(v))
      const bodies = await Promise.all(answering.map(async (v) => (await fetch(`${servers.get(v)!.url}${path}`)).text()))
      if (new Set(bodies).size !== 1) throw new Error(`the servers answer ${path} differently`)
    }
    if (servers.has("cache")) {
      say(`  warming the cache (${slugPaths.length} posts)`)
      await warm(servers.get("cache")!, slugPaths)
      await warm(servers.get("cache")!, [data.list[0]])
    }

    const rows: Array<Row> = []
    for (const endpoint of options.endpoints) {
      const paths = endpoint === "slug" ? slugPaths : [data.list[0]]
      const label = endpoint === "slug" ? "GET /posts/:slug" : "GET /posts?limit=20"
      const measured = VARIANTS.filter((v) => endpoint === "slug" || !slugOnly(v))
      for (const connections of options.connections) {
        const results = new Map<Variant, Array<LoadResult>>(measured.map((v) => [v, []]))
        const cpu = new Map<Variant, Array<number>>(measured.map((v) => [v, []]))
        // Unrecorded warm-up under the same load: the first seconds of a new code path (JIT,
        // a heap that just took 10k cache entries) are not the steady state being compared.
        for (const variant of measured) {
          await load({
            url: servers.get(variant)!.url,
            paths,
            connections,
            durationSeconds: WARMUP_SECONDS,
            tool: options.tool,
            cpu: 1,
            workDir: work
          })
        }
        for (let rep = 0; rep < options.repetitions; rep++) {
          for (const variant of measured) {
            const cpuBefore = servers.get(variant)!.cpuMs()
            const result = await load({
              url: servers.get(variant)!.url,
              paths,
              connections,
              durationSeconds: options.durationSeconds,
              tool: options.tool,
              cpu: 1,
              workDir: work
            })
            results.get(variant)!.push(result)
            // The server's own CPU per request: unlike req/s, hardly moved by other load on the machine.
            const cpuUs = ((servers.get(variant)!.cpuMs() - cpuBefore) * 1000) / (result.rps * options.durationSeconds)
            cpu.get(variant)!.push(cpuUs)
            say(`  ${label} c${connections} ${variant.padEnd(8)} rep ${rep + 1}: ${Math.round(result.rps)} req/s  p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms  mean ${result.mean.toFixed(2)} ms (× req/s = ${Math.round((result.mean * result.rps) / 1000)} in flight of ${connections})  errors ${result.errors}  timeouts ${result.timeouts}  non-2xx ${result.non2xx}  server CPU ${cpuUs.toFixed(0)} µs/req`)
          }
        }
        const base = results.get("baseline")!
        for (const variant of measured.filter((v) => v !== "baseline")) {
          const mine = results.get(variant)!
          if (variant === "busy") {
            rows.push({
              figure: `${label} c${connections} calibration: bare node:http spinning ${options.calibrateUs} µs per request, req/s`,
              inkwell: median(mine.map((r) => r.rps)),
              baseline: median(base.map((r) => r.rps)),
              ratio: median(mine.map((r, i) => r.rps / base[i]!.rps)),
              spread: `${spreadOf(mine.map((r) => r.rps))}; p50 ${median(mine.map((r) => r.p50)).toFixed(2)} ms; p99 ${spreadOf(mine.map((r) => r.p99))} ms; CPU ${median(cpu.get(variant)!).toFixed(0)} µs/req`
            })
            continue
          }
          if (isStock(variant)) {
            rows.push({
              figure: `${label} c${connections} ${variant} (stock HttpApi) req/s`,
              inkwell: median(mine.map((r) => r.rps)),
              baseline: median(base.map((r) => r.rps)),
              ratio: median(mine.map((r, i) => r.rps / base[i]!.rps)),
              spread: `${spreadOf(mine.map((r) => r.rps))}; p99 ${median(mine.map((r) => r.p99)).toFixed(2)} ms; CPU ${median(cpu.get(variant)!).toFixed(0)} µs/req`
            })
            continue
          }
          const name = `${label} c${connections} ${variant === "nocache" ? "cache off" : variant === "cache" ? "cache warm" : `${variant} (cache off)`}`
          const ratios = ratiosBy(mine.map((r) => r.rps), base.map((r) => r.rps))
          const ratio = median(ratios)
          const targeted = variant === "nocache" || variant === "cache"
          const target = targeted && connections === 64 && endpoint === "slug" ? (variant === "nocache" ? 0.3 : 0.9) : undefined
          rows.push({
            figure: `${name} req/s`,
            inkwell: median(mine.map((r) => r.rps)),
            baseline: median(base.map((r) => r.rps)),
            ratio,
            target: target === undefined ? undefined : `≥ ${target}×`,
            met: target === undefined ? undefined : verdict(ratios, base.map((r) => r.rps), target),
            spread: `${spreadOf(mine.map((r) => r.rps))}; ${byRepetition(ratios)}`
          })
          const p99Limit = targeted && endpoint === "slug" ? (connections === 64 ? 25 : connections === 256 ? 500 : undefined) : undefined
          const p99 = median(mine.map((r) => r.p99))
          rows.push({
            figure: `${name} p50 / p99`,
            unit: "ms",
            inkwell: p99,
            baseline: median(base.map((r) => r.p99)),
            target: p99Limit === undefined ? undefined : `p99 ≤ ${p99Limit} ms`,
            met: p99Limit === undefined ? undefined : p99 <= p99Limit,
            spread: `p50 ${median(mine.map((r) => r.p50)).toFixed(2)}; p99 ${spreadOf(mine.map((r) => r.p99))}`
          })
          // The same comparison by CPU per request (baseline's over Inkwell's, so higher is better as
          // for req/s): hardly moved by a throttled load generator, it checks the req/s ratio.
          const cpuRatios = ratiosBy(cpu.get("baseline")!, cpu.get(variant)!)
          rows.push({
            figure: `${name} server CPU per request`,
            unit: "µs",
            inkwell: median(cpu.get(variant)!),
            baseline: median(cpu.get("baseline")!),
            ratio: median(cpuRatios),
            spread: `${spreadOf(cpu.get(variant)!)}; ${byRepetition(cpuRatios)}`
          })
          const timeouts = mine.reduce((n, r) => n + r.timeouts + r.errors, 0)
          if (connections >= 256 || timeouts > 0) {
            rows.push({
              figure: `${name} socket errors + timeouts`,
              inkwell: timeouts,
              baseline: base.reduce((n, r) => n + r.timeouts + r.errors, 0),
              target: connections >= 256 && endpoint === "slug" ? "0" : undefined,
              met: connections >= 256 && endpoint === "slug" ? timeouts === 0 : undefined
            })
          }
        }
      }
    }
    // Which tool measured: autocannon (the fallback without wrk) tops out near 15k req/s here
    // and so caps the baseline; ratios from the two are not comparable.
    rows.push({ figure: `load generator: ${options.tool}${options.tool === "wrk" ? " (1 thread, --timeout 5s)" : ""}`, inkwell: NaN })
    for (const variant of ["nocache", "cache"] as const) {
      if (!servers.has(variant)) continue
      const rss = servers.get(variant)!.rss()
      rows.push({
        figure: `server RSS, ${variant === "nocache" ? "cache off" : "cache on"} (now / peak)`,
        unit: "MB",
        inkwell: rss.peak,
        baseline: servers.get("baseline")!.rss().peak,
        spread: `${rss.now} / ${rss.peak}`
      })
    }
    return rows
  } finally {
    await Promise.all([...servers.values()].map((s) => s.stop()))
    rmSync(work, { recursive: true, force: true })
  }
}

const microseconds = (text: string): number => {
  const us = Number(text)
  if (!Number.isFinite(us) || us <= 0) throw new Error(`--calibrate takes microseconds of CPU per request (e.g. 180), not "${text}"`)
  return us
}

export const defaults = (argv: ReadonlyArray<string>): HttpOptions => {
  const arg = (name: string, fallback: string) => {
    const i = argv.indexOf(`--${name}`)
    return i === -1 ? fallback : argv[i + 1]!
  }
  return {
    posts: Number(arg("posts", "10000")),
    durationSeconds: Number(arg("duration", "10")),
    repetitions: Number(arg("reps", "3")),
    connections: arg("connections", "64,256").split(",").map(Number),
    tool: (arg("tool", tools.wrk ? "wrk" : "autocannon")) as "wrk" | "autocannon",
    endpoints: arg("endpoints", "slug,list").split(",") as Array<"slug" | "list">,
    stock: arg("stock", "").split(",").filter((s) => s.length > 0) as Array<StockKind>,
    noCache: argv.includes("--no-cache"),
    calibrateUs: argv.includes("--calibrate") ? microseconds(arg("calibrate", "")) : undefined,
    before: argv.includes("--before") ? arg("before", "") : undefined,
    // --extra "name:KEY=value,KEY2=value;name2:KEY=value"
    extra: arg("extra", "").split(";").filter((s) => s.length > 0).map((spec) => {
      const [name, env = ""] = spec.split(":")
      return [name!, Object.fromEntries(env.split(",").filter((kv) => kv.length > 0).map((kv) => kv.split("=") as [string, string]))] as const
    })
  }
}
