/**
 * `npm run bench:import [-- --sizes 10000,100000 --batch-size 500 --concurrency N]`
 *
 * For each size: generates a deterministic NDJSON corpus, then imports it into a fresh SQLite
 * file twice, each in its own process so peak RSS is the import's alone:
 *   - effect:   `inkwell import <file>` exactly as a user runs it: `bin/inkwell.js` (the launcher
 *               and its Node flags), the CLI's own defaults (IMPORT_*, RENDER_* unset: render
 *               worker threads, concurrency, batch size), DATABASE_URL=sqlite:<file>. Throughput
 *               comes from the CLI's `--report` (from the command's start: pool start-up and
 *               database layer included); peak RSS from `/usr/bin/time` (the largest process of
 *               the tree, worker threads included), else from polling /proc.
 *   - baseline: a plain sequential Promise-based loop (readline, the same parsing and rendering
 *               via `processInputSync`, batches of 500 inserted with better-sqlite3 directly),
 *               with Node's default heap settings.
 * Both databases are migrated before timing. Prints posts/s, MB/s, peak RSS and the
 * effect/baseline throughput ratio. `--concurrency` / `--batch-size` are passed to the CLI only
 * when given.
 */
import { execFileSync, spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { cpus, loadavg, tmpdir } from "node:os"
import { join, relative } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import Database from "better-sqlite3"
import { type Either, Effect, Layer, Schema } from "effect"
import * as Migrations from "../src/Database/Migrations.js"
import * as SqlLive from "../src/Database/SqlLive.js"
import { type NewPost, PostInput, tagKey } from "../src/Domain/Post.js"
import type { ImportSummary } from "../src/Import/ImportSummary.js"
import { defaultProcessorConfig, processInputSync, processPostSync } from "../src/Processing/processPost.js"
import { markdownFiles } from "./bench/lib/markdownFiles.js"
import { writeNdjson } from "./generate-corpus.js"

interface Result {
  readonly mode: string
  readonly posts: number
  readonly failed: number
  readonly ms: number
  readonly bytes: number
  readonly maxRssMb: number
  /** The CLI's whole process, start-up (tsx, module loading) included. */
  readonly wallMs?: number
}

const arg = (argv: ReadonlyArray<string>, name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`)
  return i === -1 ? fallback : argv[i + 1]!
}

const migrate = (file: string) =>
  Effect.runPromise(Effect.provide(Effect.void, Migrations.layer.pipe(Layer.provide(SqlLive.layer(`sqlite:${file}`)))))

const report = (result: Omit<Result, "maxRssMb">) =>
  console.log(JSON.stringify({ ...result, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }))

const root = fileURLToPath(new URL("..", import.meta.url))
const TIME = "/usr/bin/time"

/** Peak RSS of `pid` so far (VmHWM), for machines without /usr/bin/time. */
const highWaterMb = (pid: number) => {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmHWM:"))
    return line === undefined ? 0 : Math.round(Number(line.replace(/\D+/g, "")) / 1024)
  } catch {
    return 0
  }
}

/** `inkwell import <input>` as a user runs it (see the header). */
const runEffect = async (input: string, db: string, flags: ReadonlyArray<string>) => {
  await migrate(db)
  const dir = mkdtempSync(join(tmpdir(), "inkwell-bench-cli-"))
  const reportFile = join(dir, "report.json")
  const rssFile = join(dir, "rss")
  const cli = [join(root, "bin", "inkwell.js"), "import", input, "--report", reportFile, ...flags]
  const withTime = existsSync(TIME)
  const started = performance.now()
  const child = spawn(withTime ? TIME : process.execPath, withTime ? ["-f", "%M", "-o", rssFile, process.execPath, ...cli] : cli, {
    env: { ...process.env, DATABASE_URL: `sqlite:${db}` },
    stdio: ["ignore", "ignore", "inherit"]
  })
  // Without /usr/bin/time: the launcher's child (the CLI process) is polled for its high-water mark.
  let polled = 0
  const poll = setInterval(() => {
    for (const pid of childPids(child.pid!)) polled = Math.max(polled, highWaterMb(pid))
  }, 100)
  const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 1)))
  clearInterval(poll)
  const wallMs = performance.now() - started
  if (code !== 0) throw new Error(`inkwell import exited with ${code}`)
  const summary = JSON.parse(readFileSync(reportFile, "utf8")) as ImportSummary
  const maxRssMb = withTime ? Math.round(Number(readFileSync(rssFile, "utf8").trim().split("\n").at(-1)) / 1024) : polled
  rmSync(dir, { recursive: true, force: true })
  console.log(JSON.stringify({
    mode: "effect",
    posts: summary.imported + summary.updated + summary.unchanged,
    failed: summary.failed,
    ms: summary.elapsedMs,
    wallMs,
    bytes: summary.bytes,
    maxRssMb
  }))
}

/** Every descendant of `pid` (the launcher, the CLI it starts). */
const childPids = (pid: number): Array<number> => {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter((x) => x !== "").map(Number)
    return [pid, ...children.flatMap(childPids)]
  } catch {
    return [pid]
  }
}

/** The plain loop the pipeline must keep up with: NDJSON lines, or a directory of markdown files. */
const runBaseline = async (input: string, db: string, batchSize: number) => {
  await migrate(db)
  const sqlite = new Database(db)
  sqlite.pragma("journal_mode = WAL")
  sqlite.pragma("synchronous = NORMAL")
  const find = sqlite.prepare("SELECT id, content_hash FROM posts WHERE slug = ?")
  const insert = sqlite.prepare(`INSERT INTO posts (id, slug, title, body, tags, status, authors, summary, published_at,
    updated_at_source, aliases, metadata, source, html, excerpt, word_count, reading_time_minutes, toc, content_hash,
    created_at, updated_at, version, sort_at) VALUES (@id, @slug, @title, @body, @tags, @status, @authors, @summary,
    @published_at, @updated_at_source, @aliases, @metadata, @source, @html, @excerpt, @word_count,
    @reading_time_minutes, @toc, @content_hash, @created_at, @updated_at, 1, @sort_at)`)
  const insertTag = sqlite.prepare("INSERT OR IGNORE INTO post_tags (post_id, tag, tag_key, status, sort_at) VALUES (?, ?, ?, ?, ?)")
  const decode = Schema.decodeUnknownSync(PostInput)
  type Row = Record<string, unknown> & { readonly tagList: ReadonlyArray<string> }
  const write = sqlite.transaction((rows: ReadonlyArray<Row>) => {
    for (const { tagList, ...row } of rows) {
      const existing = find.get(row["slug"]) as { content_hash: string } | undefined
      if (existing !== undefined) continue
      insert.run(row)
      for (const tag of tagList) insertTag.run(row["id"], tag, tagKey(tag), row["status"], row["sort_at"])
    }
  })
  const started = performance.now()
  let posts = 0
  let failed = 0
  let bytes = 0
  let batch: Array<Row> = []
  const add = async (processed: Either.Either<NewPost, unknown>) => {
    if (processed._tag === "Left") {
      failed++
      return
    }
    const post = processed.right
    const now = Date.now()
    const published = post.publishedAt === null ? null : post.publishedAt.epochMillis
    batch.push({
      id: randomUUID(),
      slug: post.slug,
      title: post.title,
      body: post.body,
      tags: JSON.stringify(post.tags),
      status: post.status,
      authors: JSON.stringify(post.authors),
      summary: post.summary,
      published_at: published,
      updated_at_source: post.updatedAtSource === null ? null : post.updatedAtSource.epochMillis,
      aliases: JSON.stringify(post.aliases),
      metadata: JSON.stringify(post.metadata),
      source: post.source,
      html: post.html,
      excerpt: post.excerpt,
      word_count: post.wordCount,
      reading_time_minutes: post.readingTimeMinutes,
      toc: JSON.stringify(post.toc),
      content_hash: post.contentHash,
      created_at: now,
      updated_at: now,
      sort_at: published ?? now,
      tagList: post.tags
    })
    if (batch.length === batchSize) {
      write(batch)
      posts += batch.length
      batch = []
      // Yield like any Promise-based loop between batches.
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
  }
  if (statSync(input).isDirectory()) {
    // A markdown directory (the real corpus): each file read and processed in turn.
    for (const file of markdownFiles(input)) {
      const raw = await readFile(file, "utf8")
      bytes += Buffer.byteLength(raw)
      await add(processPostSync({ source: file, raw, relativePath: relative(input, file) }, defaultProcessorConfig))
    }
  } else {
    let line = 0
    for await (const text of createInterface({ input: createReadStream(input), crlfDelay: Infinity })) {
      line++
      bytes += text.length + 1
      if (text.trim() === "") continue
      const json = JSON.parse(text) as { slug?: string }
      await add(processInputSync(decode(json), `${input}#${json.slug ?? line}`, defaultProcessorConfig))
    }
  }
  if (batch.length > 0) {
    write(batch)
    posts += batch.length
  }
  sqlite.close()
  report({ mode: "baseline", posts, failed, ms: performance.now() - started, bytes })
}

const self = fileURLToPath(import.meta.url)

const child = (mode: string, input: string, db: string, passOn: ReadonlyArray<string>): Result => {
  const out = execFileSync(process.execPath, ["--import", "tsx", self, "--child", mode, "--input", input, "--db", db, ...passOn], {
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
    stdio: ["ignore", "pipe", "inherit"]
  })
  return JSON.parse(out.trim().split("\n").at(-1)!) as Result
}

const main = async (argv: ReadonlyArray<string>) => {
  const batchSize = Number(arg(argv, "batch-size", "500"))
  // Options for the CLI only when given: otherwise it runs on its own defaults.
  const passOn = ["concurrency", "batch-size"].flatMap((name) => (argv.includes(`--${name}`) ? [`--${name}`, arg(argv, name, "")] : []))
  const childMode = arg(argv, "child", "")
  if (childMode !== "") {
    const input = arg(argv, "input", "")
    const db = arg(argv, "db", "")
    return childMode === "effect" ? runEffect(input, db, passOn) : runBaseline(input, db, batchSize)
  }
  const sizes = arg(argv, "sizes", "10000,100000").split(",").map(Number)
  const dir = mkdtempSync(join(tmpdir(), "inkwell-bench-"))
  console.log(`bench:import  ${new Date().toISOString()}  node ${process.version}  ${cpus().length} CPUs  load ${loadavg().map((l) => l.toFixed(2)).join(" ")}  effect: inkwell import${passOn.length === 0 ? " (CLI defaults)" : ` ${passOn.join(" ")}`}  baseline batch ${batchSize}`)
  try {
    for (const size of sizes) {
      const input = join(dir, `corpus-${size}.ndjson`)
      writeNdjson(input, size, 42)
      const mb = statSync(input).size / 1024 / 1024
      const results = [
        child("baseline", input, join(dir, `baseline-${size}.db`), passOn),
        child("effect", input, join(dir, `effect-${size}.db`), passOn)
      ]
      console.log(`\n${size} posts, ${mb.toFixed(1)} MB NDJSON`)
      console.log("  mode      posts    failed  seconds  posts/s    MB/s   peak RSS")
      for (const r of results) {
        const s = r.ms / 1000
        console.log(
          `  ${r.mode.padEnd(8)} ${String(r.posts).padStart(7)} ${String(r.failed).padStart(8)} ${s.toFixed(1).padStart(8)} ${(r.posts / s).toFixed(0).padStart(8)} ${(mb / s).toFixed(2).padStart(7)} ${String(r.maxRssMb).padStart(7)} MB`
        )
      }
      const [baseline, effect] = results as [Result, Result]
      if (effect.wallMs !== undefined) console.log(`  effect process wall time (node start-up included): ${(effect.wallMs / 1000).toFixed(1)} s`)
      console.log(`  throughput ratio effect/baseline: ${((effect.posts / effect.ms) / (baseline.posts / baseline.ms)).toFixed(2)}`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await main(process.argv.slice(2))
