/**
 * The real Rust blog corpus lands completely in SQLite in a temp directory: 750 posts (their
 * five Zola internal links, `@/...`, resolved to their targets' pages), the
 * three `_index.md` section pages skipped, `releases/latest.md` (a title-less template page)
 * reported; a second run finds everything unchanged. Exported and imported into a fresh database,
 * it is the same rows (its internal links still resolved, without a warning) and the same export.
 */
import { NodeContext } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import * as ExportOutput from "../../src/Export/ExportOutput.js"
import * as PostExport from "../../src/Export/PostExport.js"
import * as ImportPipeline from "../../src/Import/ImportPipeline.js"
import * as ImportSource from "../../src/Import/ImportSource.js"
import { rustBlog } from "../fixtures/corpus.js"
import { ProcessorTest, sqliteStack, tempDir } from "./harness.js"

const CORPUS = rustBlog()
/** All but what each store assigns on its own (version, updated_at: its last write). */
const COLUMNS = `id, slug, source, title, body, tags, status, authors, summary, published_at, updated_at_source, aliases, metadata,
  html, excerpt, word_count, reading_time_minutes, toc, content_hash, created_at, sort_at`
const options = { concurrency: 8, batchSize: 100, buffer: 64, chunkSize: 64 * 1024, maxPostBytes: 5 * 1024 * 1024 }

describe("importing the Rust blog", () => {
  it.scoped("750 posts land; section pages skipped, the template page reported; a re-run changes nothing", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const db = sqliteStack(`sqlite:${dir}/blog.db`)
      const once = ImportPipeline.run(ImportSource.fromPaths([CORPUS], options), options).pipe(
        Effect.provide(Layer.mergeAll(db, ProcessorTest)),
        Effect.zip(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ n: number }>`SELECT count(*) AS n FROM posts`).pipe(Effect.provide(db))),
      )
      const [first, firstRows] = yield* once
      assert.strictEqual(first.status, "completed")
      assert.strictEqual(first.imported, 750, JSON.stringify(first.failures))
      assert.strictEqual(firstRows[0]!.n, 750)
      assert.strictEqual(first.skipped, 3)
      assert.deepStrictEqual(first.skips.map((s) => s.source).sort(), [
        // Sources are absolute, whatever the spelling on the command line.
        `${resolve(CORPUS)}/_index.md`,
        `${resolve(CORPUS)}/inside-rust/_index.md`,
        `${resolve(CORPUS)}/releases/_index.md`
      ])
      assert.strictEqual(first.failed, 1)
      assert.strictEqual(first.failures[0]!.source, `${resolve(CORPUS)}/releases/latest.md`)
      assert.match(first.failures[0]!.reason, /title/)
      assert.strictEqual(first.imported + first.skipped + first.failed, 754)
      assert.deepStrictEqual(first.warnings, [], "every internal link (@/...) resolved")

      // Its five Zola internal links (`[here](@/inside-rust/....md)`), each to its target's page beside the post's.
      const rows = yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ slug: string; source: string; html: string }>`SELECT slug, source, html FROM posts`).pipe(Effect.provide(db))
      const at = (file: string) => rows.find((row) => row.source === `${resolve(CORPUS)}/${file}`)!
      const linksOf = (file: string) => Array.from(at(file).html.matchAll(/href="(@\/[^"]*|\.\/[^"]*)"/g), (m) => m[1]!)
      const q3 = "inside-rust/infrastructure-team-2025-q3-recap-and-q4-plan.md"
      const q4 = "inside-rust/infrastructure-team-2025-q4-recap-and-q1-2026-plan/index.md"
      const q1 = "inside-rust/infrastructure-team-2026-q1-recap-and-q2-plan/index.md"
      const q2 = "inside-rust/infrastructure-team-2026-q2-recap-and-q3-plan/index.md"
      assert.deepStrictEqual(linksOf(q4), [`./${at(q3).slug}`, `./${at(q3).slug}#q4-2025-plans`])
      assert.deepStrictEqual(linksOf(q1), [`./${at(q4).slug}`])
      assert.deepStrictEqual(linksOf(q2), [`./${at(q1).slug}`, `./${at("outreachy-2026-may.md").slug}`])
      assert.include(at(q3).html, `id="q4-2025-plans"`, "the anchor is a heading of the target")

      const [second, secondRows] = yield* once
      assert.strictEqual(second.unchanged, 750)
      assert.strictEqual(second.imported + second.updated, 0)
      assert.strictEqual(secondRows[0]!.n, 750)

      // `inkwell export`, then `inkwell import` of it into a fresh database.
      const exportTo = (file: string, layer: typeof db) =>
        Effect.scoped(Effect.flatMap(ExportOutput.file(file), (output) => PostExport.run({}, output))).pipe(Effect.provide(layer))
      yield* exportTo(join(dir, "blog.ndjson"), db)
      const copy = sqliteStack(`sqlite:${dir}/copy.db`)
      const imported = yield* ImportPipeline.run(ImportSource.fromPaths([join(dir, "blog.ndjson")], options), options).pipe(
        Effect.provide(Layer.mergeAll(copy, ProcessorTest))
      )
      assert.deepStrictEqual([imported.imported, imported.failed], [750, 0], JSON.stringify(imported.failures))
      assert.deepStrictEqual(imported.warnings, [], "the internal links come resolved")
      const everyRow = (layer: typeof db) =>
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`SELECT ${COLUMNS} FROM posts ORDER BY slug`)).pipe(Effect.provide(layer))
      assert.deepStrictEqual(yield* everyRow(copy), yield* everyRow(db))
      yield* exportTo(join(dir, "back.ndjson"), copy)
      assert.strictEqual(readFileSync(join(dir, "back.ndjson"), "utf8"), readFileSync(join(dir, "blog.ndjson"), "utf8"))
    }).pipe(Effect.provide(NodeContext.layer)), { timeout: 120_000 })
})
