/**
 * `POST /posts/import` memory: a large NDJSON upload streamed into a running server must raise
 * its memory by the pipeline's queues and batch, not by the body's size.
 *
 * For each repetition, two fresh servers (`src/main.ts`, own temp SQLite file, as `npm start`
 * runs it) each get one chunked upload, generated on the fly (scripts/generate-corpus.ts, seed
 * 42): the small one (--small MB, default 5) is the baseline, the large one (--large MB, default
 * 50) the figure. Peak RSS growth = VmHWM after the upload − VmRSS before it (after a warm-up
 * import, with the peak reset through /proc/<pid>/clear_refs). Flat memory means the large
 * upload's growth is about the small one's (ratio ≈ 1), far below the body's size. Linux only.
 *
 * Twice: with Node's default heap (as `npm start` runs), where V8 grows its heap lazily under
 * the allocation churn of rendering, and with the old space capped (--heap-cap MB, default 128),
 * which shows the live set: an upload that kept the body would not complete there.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { request } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { makePost, toNdjsonLine } from "../generate-corpus.js"
import { freePort, type Running, start } from "./lib/servers.js"
import { median, type Row, spreadOf } from "./lib/table.js"

export interface UploadOptions {
  readonly smallMb: number
  readonly largeMb: number
  readonly repetitions: number
  readonly heapCapMb: number
}

const KEY = "bench-upload-key"

const arg = (argv: ReadonlyArray<string>, name: string) => {
  const i = argv.indexOf(`--${name}`)
  return i === -1 ? undefined : argv[i + 1]
}

export const defaults = (argv: ReadonlyArray<string>): UploadOptions => ({
  smallMb: Number(arg(argv, "small") ?? 5),
  largeMb: Number(arg(argv, "large") ?? 50),
  repetitions: Number(arg(argv, "reps") ?? 3),
  heapCapMb: Number(arg(argv, "heap-cap") ?? 128)
})

interface Upload {
  readonly posts: number
  readonly bytes: number
  readonly seconds: number
  readonly summary: { readonly imported: number; readonly failed: number }
}

/** Streams generated posts until `megabytes` were sent, honouring the socket's backpressure. */
const upload = (url: string, megabytes: number, firstIndex: number): Promise<Upload> =>
  new Promise((resolve, reject) => {
    const started = performance.now()
    const limit = megabytes * 1024 * 1024
    let bytes = 0
    let posts = 0
    const req = request(`${url}/posts/import`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson", "x-api-key": KEY, "transfer-encoding": "chunked" }
    })
    req.on("error", reject)
    req.on("response", (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (chunk) => (text += chunk))
      res.on("end", () => {
        if (res.statusCode !== 200) return reject(new Error(`upload answered ${res.statusCode}: ${text.slice(0, 300)}`))
        resolve({ posts, bytes, seconds: (performance.now() - started) / 1000, summary: JSON.parse(text) })
      })
    })
    const pump = () => {
      while (bytes < limit) {
        const line = toNdjsonLine(makePost(42, firstIndex + posts))
        bytes += Buffer.byteLength(line)
        posts++
        if (!req.write(line)) return void req.once("drain", pump)
      }
      req.end()
    }
    pump()
  })

const resetPeak = (pid: number) => writeFileSync(`/proc/${pid}/clear_refs`, "5")

const measure = async (megabytes: number, label: string, heapCapMb?: number) => {
  const dir = mkdtempSync(join(tmpdir(), "inkwell-bench-upload-"))
  const port = await freePort()
  let server: Running | undefined
  try {
    server = await start({
      name: `inkwell (${label})`,
      command: process.execPath,
      args: ["--import", "tsx", "src/main.ts"],
      env: {
        PORT: String(port),
        HOST: "127.0.0.1",
        DATABASE_URL: `sqlite:${join(dir, "inkwell.db")}`,
        INKWELL_API_KEYS: KEY,
        LOG_FORMAT: "json",
        NODE_OPTIONS: heapCapMb === undefined ? "" : `--max-old-space-size=${heapCapMb}`
      },
      port,
      probe: "/health",
      logFile: join(dir, "server.log")
    })
    // Loads the import code paths (markdown stack, SQL statements) before measuring.
    await upload(server.url, 0.5, 10_000_000)
    const before = server.rss().now
    resetPeak(server.child.pid!)
    const result = await upload(server.url, megabytes, 0)
    const peak = server.rss().peak
    if (result.summary.imported !== result.posts) {
      throw new Error(`${label}: sent ${result.posts} posts, ${result.summary.imported} imported`)
    }
    console.error(
      `  ${label}: ${result.posts} posts, ${(result.bytes / 1048576).toFixed(1)} MB in ${result.seconds.toFixed(1)} s; RSS ${before} → peak ${peak} MB (+${peak - before})`
    )
    return { growth: peak - before, before, peak, ...result }
  } catch (error) {
    console.error(readFileSync(join(dir, "server.log"), "utf8").split("\n").slice(-20).join("\n"))
    try {
      console.error(execFileSync("ss", ["-ltnp"], { encoding: "utf8" }).split("\n").filter((l) => l.includes(`:${port}`)).join("\n"))
    } catch {}
    throw error
  } finally {
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

const series = async (options: UploadOptions, heapCapMb: number | undefined): Promise<ReadonlyArray<Row>> => {
  const heap = heapCapMb === undefined ? "default heap" : `old space capped at ${heapCapMb} MB`
  const small: Array<number> = []
  const large: Array<number> = []
  const ratios: Array<number> = []
  const peaks: Array<number> = []
  for (let rep = 0; rep < options.repetitions; rep++) {
    const s = await measure(options.smallMb, `${options.smallMb} MB, ${heap}`, heapCapMb)
    const l = await measure(options.largeMb, `${options.largeMb} MB, ${heap}`, heapCapMb)
    small.push(s.growth)
    large.push(l.growth)
    peaks.push(l.peak)
    ratios.push(l.growth / Math.max(1, s.growth))
  }
  return [
    {
      figure: `POST /posts/import ${options.largeMb} MB NDJSON, ${heap}: server peak RSS growth (baseline: ${options.smallMb} MB upload)`,
      unit: "MB",
      inkwell: median(large),
      baseline: median(small),
      ratio: median(ratios),
      target: "≤ 1.5× (flat)",
      met: median(ratios) <= 1.5,
      spread: spreadOf(large)
    },
    { figure: `server peak RSS during the ${options.largeMb} MB upload, ${heap}`, unit: "MB", inkwell: median(peaks), spread: spreadOf(peaks) }
  ]
}

export const run = async (options: UploadOptions): Promise<ReadonlyArray<Row>> => [
  ...(await series(options, undefined)),
  ...(await series(options, options.heapCapMb))
]
