/**
 * Load generation against 127.0.0.1 only: wrk when installed (one thread, pinned to its own core
 * when `taskset` exists), else autocannon in a child process. Either way: req/s, p50/p99 in ms,
 * socket errors and timeouts.
 */
import { execFile, execFileSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

export interface LoadResult {
  readonly rps: number
  readonly p50: number
  readonly p99: number
  readonly max: number
  /** Mean latency (ms). In a closed loop, mean × req/s cannot exceed the connections (Little's law). */
  readonly mean: number
  readonly errors: number
  readonly timeouts: number
  readonly non2xx: number
}

const has = (command: string) => {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

export const tools = { wrk: has("wrk"), taskset: has("taskset") }

/** Runs `command` on CPU `cpu` when pinning is possible. */
export const pinned = (cpu: number | undefined, command: string, args: ReadonlyArray<string>): [string, Array<string>] =>
  cpu !== undefined && tools.taskset ? ["taskset", ["-c", String(cpu), command, ...args]] : [command, [...args]]

const here = fileURLToPath(new URL(".", import.meta.url))

/** A wrk script picking a random path per request and printing one JSON line at the end. */
const wrkScript = (paths: ReadonlyArray<string>) => `
local paths = { ${paths.map((p) => JSON.stringify(p)).join(", ")} }
math.randomseed(os.time())
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
done = function(s, latency, requests)
  io.write(string.format('\\nRESULT {"requests":%d,"duration":%d,"p50":%d,"p99":%d,"max":%d,"mean":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    s.requests, s.duration, latency:percentile(50), latency:percentile(99), latency.max, math.floor(latency.mean),
    s.errors.connect, s.errors.read, s.errors.write, s.errors.status, s.errors.timeout))
end
`

const run = (command: string, args: Array<string>, timeoutMs: number) =>
  new Promise<string>((resolve, reject) => {
    execFile(command, args, { encoding: "utf8", maxBuffer: 16 * 1024 * 1024, timeout: timeoutMs }, (error, stdout, stderr) =>
      error ? reject(new Error(`${command} failed: ${error.message}\n${stderr}`)) : resolve(stdout))
  })

export interface LoadOptions {
  readonly url: string
  readonly paths: ReadonlyArray<string>
  readonly connections: number
  readonly durationSeconds: number
  readonly tool: "wrk" | "autocannon"
  readonly cpu?: number | undefined
  readonly workDir: string
}

export const load = async (options: LoadOptions): Promise<LoadResult> => {
  const budget = (options.durationSeconds + 30) * 1000
  if (options.tool === "wrk") {
    const script = join(options.workDir, `paths-${options.paths.length}-${options.paths[0]!.length}.lua`)
    writeFileSync(script, wrkScript(options.paths))
    const [command, args] = pinned(options.cpu, "wrk", [
      "-t1", `-c${options.connections}`, `-d${options.durationSeconds}s`, "--timeout", "5s", "-s", script, options.url
    ])
    const out = await run(command, args, budget)
    const line = out.split("\n").find((l) => l.startsWith("RESULT "))
    if (line === undefined) throw new Error(`wrk printed no result:\n${out}`)
    const r = JSON.parse(line.slice(7)) as Record<string, number>
    return {
      rps: r["requests"]! / (r["duration"]! / 1e6),
      p50: r["p50"]! / 1000,
      p99: r["p99"]! / 1000,
      max: r["max"]! / 1000,
      mean: r["mean"]! / 1000,
      errors: r["connect"]! + r["read"]! + r["write"]!,
      timeouts: r["timeout"]!,
      non2xx: r["status"]!
    }
  }
  const pathsFile = join(options.workDir, "paths.json")
  writeFileSync(pathsFile, JSON.stringify(options.paths))
  const [command, args] = pinned(options.cpu, process.execPath, [
    join(here, "autocannon-run.mjs"),
    JSON.stringify({ url: options.url, connections: options.connections, duration: options.durationSeconds, pathsFile })
  ])
  const out = await run(command, args, budget)
  return JSON.parse(out.trim().split("\n").at(-1)!) as LoadResult
}
