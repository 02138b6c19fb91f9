/**
 * The real Rust blog corpus lands completely in SQLite in a temp directory: 750 posts, the
 * three `_index.md` section pages skipped, `releases/latest.md` (a title-less template page)
 * reported; a second run finds everything unchanged.
 */
import { NodeContext } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { resolve } from "node:path"
import * as ImportPipeline from "../../src/Import/ImportPipeline.js"
import * as ImportSource from "../../src/Import/ImportSource.js"
import { rustBlog } from "../fixtures/corpus.js"
import { ProcessorTest, sqliteStack, tempDir } from "./harness.js"

const CORPUS = rustBlog()
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

      const [second, secondRows] = yield* once
      assert.strictEqual(second.unchanged, 750)
      assert.strictEqual(second.imported + second.updated, 0)
      assert.strictEqual(secondRows[0]!.n, 750)
    }).pipe(Effect.provide(NodeContext.layer)), { timeout: 120_000 })
})
