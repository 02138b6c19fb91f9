/**
 * `npm run bench:import [-- --sizes 10000,100000 --concurrency 8 --batch-size 500 --max-old-space 128]`
 *
 * For each size: generates a deterministic NDJSON corpus, then imports it into a fresh SQLite
 * file twice, each in its own child process so peak RSS (`process.resourceUsage().maxRSS`) is
 * the import's alone:
 *   - effect:   the Inkwell pipeline (Stream reader → bounded queues → N processors → batch writer);
 *   - baseline: a plain sequential Promise-based loop (readline, the same parsing and rendering
 *               via `processInputSync`, batches of 500 inserted with better-sqlite3 directly).
 * Prints posts/s, MB/s, peak RSS and the effect/baseline throughput ratio.
 */
import { execFileSync } from "node:child_process"
import { randomUUID } from "node:crypto"
import { createReadStream, mkdtempSync, rmSync, statSync } from "node:fs"
import { cpus, tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { NodeContext } from "@effect/platform-node"
import Database from "better-sqlite3"
import { Effect, Layer, Logger, LogLevel, Option, Schema } from "effect"
import { DatabasePool } from "../src/Database/DatabasePool.js"
import * as Migrations from "../src/Database/Migrations.js"
import * as SqlLive from "../src/Database/SqlLive.js"
import { PostInput } from "../src/Domain/Post.js"
import * as ImportPipeline from "../src/Import/ImportPipeline.js"
import * as ImportSource from "../src/Import/ImportSource.js"
import { PostProcessor } from "../src/Processing/PostProcessor.js"
import { defaultProcessorConfig, processInputSync } from "../src/Processing/processPost.js"
import * as SqlPostRepository from "../src/Posts/SqlPostRepository.js"
import { writeNdjson } from "./generate-corpus.js"

interface Result {
  readonly mode: string
  readonly posts: number
  readonly failed: number
  readonly ms: number
  readonly bytes: number
  readonly maxRssMb: number
}

const arg = (argv: ReadonlyArray<string>, name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`)
  return i === -1 ? fallback : argv[i + 1]!
}

const migrate = (file: string) =>
  Effect.runPromise(Effect.provide(Effect.void, Migrations.layer.pipe(Layer.provide(SqlLive.layer(`sqlite:${file}`)))))

const report = (result: Omit<Result, "maxRssMb">) =>
  console.log(JSON.stringify({ ...result, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }))

/** The Inkwell pipeline, as `inkwell import file.ndjson` runs it. */
const runEffect = async (input: string, db: string, concurrency: number, batchSize: number) => {
  await migrate(db)
  const layer = Layer.mergeAll(
    SqlPostRepository.layer.pipe(
      Layer.provide(DatabasePool.layer({ maxConnections: 4, acquireTimeout: "30 seconds" })),
      Layer.provide(SqlLive.layer(`sqlite:${db}`))
    ),
    PostProcessor.layer(defaultProcessorConfig),
    NodeContext.layer
  )
  const options = { concurrency, batchSize, buffer: 256, chunkSize: 64 * 1024, maxPostBytes: 5 * 1024 * 1024, itemTimeout: Option.none() }
  const started = performance.now()
  const summary = await Effect.runPromise(
    ImportPipeline.run(ImportSource.fromPaths([input], options), options).pipe(
      Effect.provide(layer),
      Logger.withMinimumLogLevel(LogLevel.Error)
    )
  )
  report({
    mode: "effect",
    posts: summary.imported + summary.updated + summary.unchanged,
    failed: summary.failed,
    ms: performance.now() - started,
    bytes: summary.bytes
  })
}

/** The plain loop the pipeline must keep up with. */
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
  const insertTag = sqlite.prepare("INSERT OR IGNORE INTO post_tags (post_id, tag) VALUES (?, ?)")
  const decode = Schema.decodeUnknownSync(PostInput)
  type Row = Record<string, unknown> & { readonly tagList: ReadonlyArray<string> }
  const write = sqlite.transaction((rows: ReadonlyArray<Row>) => {
    for (const { tagList, ...row } of rows) {
      const existing = find.get(row.slug) as { content_hash: string } | undefined
      if (existing !== undefined) continue
      insert.run(row)
      for (const tag of tagList) insertTag.run(row.id, tag)
    }
  })
  const started = performance.now()
  let posts = 0
  let failed = 0
  let bytes = 0
  let line = 0
  let batch: Array<Row> = []
  for await (const text of createInterface({ input: createReadStream(input), crlfDelay: Infinity })) {
    line++
    bytes += text.length + 1
    if (text.trim() === "") continue
    const json = JSON.parse(text) as { slug?: string }
    const processed = processInputSync(decode(json), `${input}#${json.slug ?? line}`, defaultProcessorConfig)
    if (processed._tag === "Left") {
      failed++
      continue
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
  if (batch.length > 0) {
    write(batch)
    posts += batch.length
  }
  sqlite.close()
  report({ mode: "baseline", posts, failed, ms: performance.now() - started, bytes })
}

const self = fileURLToPath(import.meta.url)

const child = (mode: string, input: string, db: string, concurrency: number, batchSize: number, heapMb: string): Result => {
  const out = execFileSync(process.execPath, [
    ...(heapMb === "" ? [] : [`--max-old-space-size=${heapMb}`]),
    "--import",
    "tsx",
    self,
    "--child",
    mode,
    "--input",
    input,
    "--db",
    db,
    "--concurrency",
    String(concurrency),
    "--batch-size",
    String(batchSize)
  ], { encoding: "utf8", maxBuffer: 16 * 1024 * 1024, stdio: ["ignore", "pipe", "inherit"] })
  return JSON.parse(out.trim().split("\n").at(-1)!) as Result
}

const main = async (argv: ReadonlyArray<string>) => {
  const concurrency = Number(arg(argv, "concurrency", "8"))
  const batchSize = Number(arg(argv, "batch-size", "500"))
  const childMode = arg(argv, "child", "")
  if (childMode !== "") {
    const input = arg(argv, "input", "")
    const db = arg(argv, "db", "")
    return childMode === "effect" ? runEffect(input, db, concurrency, batchSize) : runBaseline(input, db, batchSize)
  }
  const sizes = arg(argv, "sizes", "10000,100000").split(",").map(Number)
  // Optional V8 old-space cap for both children: shows whether memory is bounded or merely lazily collected.
  const heapMb = arg(argv, "max-old-space", "")
  const dir = mkdtempSync(join(tmpdir(), "inkwell-bench-"))
  console.log(`bench:import  ${new Date().toISOString()}  node ${process.version}  ${cpus().length} CPUs  concurrency ${concurrency}  batch ${batchSize}${heapMb === "" ? "" : `  --max-old-space-size=${heapMb}`}`)
  try {
    for (const size of sizes) {
      const input = join(dir, `corpus-${size}.ndjson`)
      writeNdjson(input, size, 42)
      const mb = statSync(input).size / 1024 / 1024
      const results = [
        child("baseline", input, join(dir, `baseline-${size}.db`), concurrency, batchSize, heapMb),
        child("effect", input, join(dir, `effect-${size}.db`), concurrency, batchSize, heapMb)
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
      console.log(`  throughput ratio effect/baseline: ${((effect.posts / effect.ms) / (baseline.posts / baseline.ms)).toFixed(2)}`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await main(process.argv.slice(2))
