/** Child-process servers for the read-path benchmark: started on a free port, measured, always killed. */
import { type ChildProcess, spawn } from "node:child_process"
import { openSync, readFileSync } from "node:fs"
import { createServer } from "node:net"

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

export interface Running {
  readonly name: string
  readonly url: string
  readonly child: ChildProcess
  /** Resident set size now, and its peak (VmHWM), in MB; from /proc (Linux). */
  readonly rss: () => { readonly now: number; readonly peak: number }
  /** CPU time (user + system) the process has used, in ms; from /proc (Linux), NaN elsewhere. */
  readonly cpuMs: () => number
  readonly stop: () => Promise<void>
}

const live = new Set<ChildProcess>()
const killAll = () => {
  for (const child of live) child.kill("SIGKILL")
}
process.once("exit", killAll)
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killAll()
    process.exit(130)
  })
}

const procStatus = (pid: number, key: string) => {
  try {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"))
    return match ? Math.round(Number(match[1]) / 1024) : NaN
  } catch {
    return NaN
  }
}

/** utime + stime of `pid` in ms (fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 10 ms). */
const cpuMsOf = (pid: number): number => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return NaN
  }
}

/** Spawns `command` (stdout to `logFile`), waits until GET `probe` answers. */
export const start = async (options: {
  readonly name: string
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly env?: Record<string, string>
  readonly port: number
  readonly probe: string
  readonly logFile: string
}): Promise<Running> => {
  const log = openSync(options.logFile, "w")
  const child = spawn(options.command, options.args, {
    env: { ...process.env, ...options.env },
    stdio: ["ignore", log, log]
  })
  live.add(child)
  child.once("exit", () => live.delete(child))
  const url = `http://127.0.0.1:${options.port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${options.name} exited with ${child.exitCode}; see ${options.logFile}`)
    try {
      const response = await fetch(`${url}${options.probe}`)
      await response.arrayBuffer()
      if (response.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL")
      throw new Error(`${options.name} did not start; see ${options.logFile}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    name: options.name,
    url,
    child,
    rss: () => ({ now: procStatus(child.pid!, "VmRSS"), peak: procStatus(child.pid!, "VmHWM") }),
    cpuMs: () => cpuMsOf(child.pid!),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000)
        child.once("exit", () => {
          clearTimeout(timer)
          resolve()
        })
        child.kill("SIGTERM")
      })
  }
}
