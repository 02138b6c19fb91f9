/**
 * Import: the import helper's benchmark (scripts/bench-import.ts), called, not copied: for each
 * size, the synthetic corpus from scripts/generate-corpus.ts (seed 42), then its `--child
 * baseline` (plain sequential Promise loop, batched better-sqlite3 inserts) and `--child effect`
 * (ImportPipeline) processes, interleaved, each on a fresh SQLite file; posts/s, MB/s, peak RSS.
 * --sizes 10000,100000 (default 10000: 100k takes minutes per run on this machine).
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { writeNdjson } from "../generate-corpus.js"
import { median, type Row, spreadOf } from "./lib/table.js"

export interface ImportOptions {
  readonly sizes: ReadonlyArray<number>
  readonly repetitions: number
}

interface ChildResult {
  readonly posts: number
  readonly ms: number
  readonly maxRssMb: number
}

const script = fileURLToPath(new URL("../bench-import.ts", import.meta.url))

const child = (mode: "baseline" | "effect", input: string, db: string): ChildResult => {
  const out = execFileSync(process.execPath, ["--import", "tsx", script, "--child", mode, "--input", input, "--db", db], {
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
    stdio: ["ignore", "pipe", "inherit"]
  })
  return JSON.parse(out.trim().split("\n").at(-1)!) as ChildResult
}

export const run = async (options: ImportOptions): Promise<ReadonlyArray<Row>> => {
  const dir = mkdtempSync(join(tmpdir(), "inkwell-bench-import-"))
  const rows: Array<Row> = []
  try {
    for (const size of options.sizes) {
      const input = join(dir, `corpus-${size}.ndjson`)
      writeNdjson(input, size, 42)
      const mb = statSync(input).size / 1024 / 1024
      const base: Array<ChildResult> = []
      const mine: Array<ChildResult> = []
      for (let rep = 0; rep < options.repetitions; rep++) {
        base.push(child("baseline", input, join(dir, `b-${size}-${rep}.db`)))
        mine.push(child("effect", input, join(dir, `e-${size}-${rep}.db`)))
        const rate = (r: ChildResult) => (r.posts / (r.ms / 1000)).toFixed(0)
        console.error(`  ${size} rep ${rep + 1}: baseline ${rate(base.at(-1)!)} posts/s, Inkwell ${rate(mine.at(-1)!)} posts/s`)
      }
      const rate = (r: ChildResult) => r.posts / (r.ms / 1000)
      const ratio = median(mine.map((m, i) => rate(m) / rate(base[i]!)))
      rows.push({
        figure: `import ${size.toLocaleString("en-US")} synthetic posts`,
        unit: "posts/s",
        inkwell: median(mine.map(rate)),
        baseline: median(base.map(rate)),
        ratio,
        target: size >= 100_000 ? "≥ 1.6×" : undefined,
        met: size >= 100_000 ? ratio >= 1.6 : undefined,
        spread: spreadOf(mine.map(rate))
      })
      rows.push({
        figure: `import ${size.toLocaleString("en-US")} MB/s`,
        inkwell: median(mine.map((r) => mb / (r.ms / 1000))),
        baseline: median(base.map((r) => mb / (r.ms / 1000)))
      })
      const peak = median(mine.map((r) => r.maxRssMb))
      rows.push({
        figure: `import ${size.toLocaleString("en-US")} peak RSS`,
        unit: "MB",
        inkwell: peak,
        baseline: median(base.map((r) => r.maxRssMb)),
        target: "≤ 300 MB",
        met: peak <= 300,
        spread: spreadOf(mine.map((r) => r.maxRssMb))
      })
    }
    return rows
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export const defaults = (argv: ReadonlyArray<string>): ImportOptions => {
  const arg = (name: string, fallback: string) => {
    const i = argv.indexOf(`--${name}`)
    return i === -1 ? fallback : argv[i + 1]!
  }
  return { sizes: arg("sizes", "10000").split(",").map(Number), repetitions: Number(arg("reps", "3")) }
}
