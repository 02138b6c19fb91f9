/**
 * A dry run says what the real run would do, on real SQLite files: every batch goes through the
 * repository's upsert and is rolled back. Each case runs the dry run, checks that the database
 * is exactly as it was, then runs the same import for real on the same database and compares.
 */
import { join } from "node:path"
import Sqlite from "better-sqlite3"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Queue, Stream } from "effect"
import { importNdjson } from "../../src/Import/HttpImport.js"
import type { ImportSummary } from "../../src/Import/ImportSummary.js"
import * as AnnouncingPostRepository from "../../src/Posts/AnnouncingPostRepository.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { makeNewPost } from "../fixtures/posts.js"
import { ProcessorTest, sqliteStack, tempDir } from "./harness.js"

const fast = { concurrency: 4, batchSize: 10, buffer: 8, chunkSize: 64 * 1024, maxPostBytes: 5 * 1024 * 1024 }

const ndjsonBytes = (records: ReadonlyArray<unknown>) =>
  Stream.fromIterable(records).pipe(
    Stream.map((r) => new TextEncoder().encode(`${JSON.stringify(r)}\n`)),
    Stream.rechunk(1)
  )

const record = (n: number, extra: Record<string, unknown> = {}) => ({
  title: `Post ${n}`,
  slug: `post-${n}`,
  body: `Body of post ${n}.`,
  ...extra
})

/** Every row of the database's posts and tags, read on a connection of its own. */
const snapshot = (file: string) => {
  const db = new Sqlite(file, { readonly: true, fileMustExist: true })
  try {
    return {
      posts: db.prepare("SELECT * FROM posts ORDER BY id").all(),
      tags: db.prepare("SELECT * FROM post_tags ORDER BY post_id, tag").all()
    }
  } finally {
    db.close()
  }
}

/** What a summary says was done (not when, nor whether it was a dry run). */
const outcome = (summary: ImportSummary) => ({
  imported: summary.imported,
  renamed: summary.renamed,
  updated: summary.updated,
  unchanged: summary.unchanged,
  skipped: summary.skipped,
  failed: summary.failed,
  moves: summary.moves,
  failures: summary.failures,
  skips: summary.skips
})

/**
 * A database holding: post-1 from another source; post-2 and post-4 from an earlier import;
 * the post of source "five" at old-five. The input: post-1 (conflict), post-2 (unchanged),
 * post-3 (new), post-4 edited (updated), "five" retitled to new-five (moved).
 */
const input = [
  record(1),
  record(2),
  record(3),
  record(4, { body: "Edited body of post 4." }),
  record(5, { slug: "new-five", source: "five" })
]

const prepared = (file: string) =>
  Effect.gen(function*() {
    const repository = yield* PostRepository
    yield* repository.create(makeNewPost({ slug: "post-1", source: "elsewhere.md" }))
    const first = yield* importNdjson(ndjsonBytes([record(2), record(4), record(5, { slug: "old-five", source: "five" })]), fast)
    assert.strictEqual(first.imported, 3)
    const before = snapshot(file)
    assert.strictEqual(before.posts.length, 4)
    return before
  })

describe("a dry run checks against the database", () => {
  for (const [policy, expected] of [
    ["fail", { imported: 1, renamed: 0, updated: 2, unchanged: 1, skipped: 0, failed: 1 }],
    ["skip", { imported: 1, renamed: 0, updated: 2, unchanged: 1, skipped: 1, failed: 0 }],
    ["suffix", { imported: 2, renamed: 1, updated: 2, unchanged: 1, skipped: 0, failed: 0 }]
  ] as const) {
    it.scoped(`--on-conflict ${policy}: the real run's outcomes, nothing written`, () =>
      Effect.gen(function*() {
        const dir = yield* tempDir()
        const file = join(dir, "blog.db")
        yield* Effect.gen(function*() {
          const before = yield* prepared(file)
          const dry = yield* importNdjson(ndjsonBytes(input), { ...fast, onConflict: policy, dryRun: true })
          assert.deepStrictEqual(snapshot(file), before, "the dry run wrote nothing")
          assert.isTrue(dry.dryRun)
          assert.isTrue(dry.databaseChecked)
          const { moves: _, failures: __, skips: ___, ...counts } = outcome(dry)
          assert.deepStrictEqual(counts, expected)
          assert.strictEqual(dry.valid, expected.imported + expected.updated, "valid: the posts that would be written")
          assert.deepStrictEqual(dry.moves, [{ source: "request:5", from: "old-five", to: "new-five" }])
          if (policy === "fail") {
            assert.deepStrictEqual(dry.failures, [{
              source: "request:1",
              reason: `slug "post-1" belongs to a post from another source, "elsewhere.md" (--on-conflict fail)`
            }])
          }
          if (policy === "skip") assert.deepStrictEqual(dry.skips.map((s) => s.source), ["request:1"])

          const real = yield* importNdjson(ndjsonBytes(input), { ...fast, onConflict: policy })
          assert.isFalse(real.dryRun)
          assert.deepStrictEqual(outcome(dry), outcome(real))
          assert.notDeepEqual(snapshot(file), before, "the real run wrote")
        }).pipe(Effect.provide(Layer.mergeAll(sqliteStack(`sqlite:${file}`), ProcessorTest)))
      }).pipe(Effect.provide(NodeContext.layer)))
  }

  it.scoped("a slug an earlier batch would take for another source: reported as the real run reports it", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const file = join(dir, "blog.db")
      // One post per batch: the second meets the first only through the database.
      const shared = [record(1, { slug: "shared", source: "a" }), record(2, { slug: "shared", source: "b" })]
      yield* Effect.gen(function*() {
        const repository = yield* PostRepository
        yield* repository.create(makeNewPost({ slug: "unrelated" }))
        const before = snapshot(file)
        for (const onConflict of ["fail", "skip"] as const) {
          const dry = yield* importNdjson(ndjsonBytes(shared), { ...fast, batchSize: 1, onConflict, dryRun: true })
          assert.deepStrictEqual(snapshot(file), before)
          const reported = onConflict === "fail" ? dry.failures : dry.skips
          assert.deepStrictEqual([dry.imported, reported], [1, [{
            source: "request:2",
            reason: `duplicate slug "shared" in this run (first used by request:1)`
          }]], onConflict)
        }
        const real = yield* importNdjson(ndjsonBytes(shared), { ...fast, batchSize: 1, onConflict: "skip" })
        const dry = yield* importNdjson(ndjsonBytes(shared), { ...fast, batchSize: 1, onConflict: "skip", dryRun: true })
        assert.deepStrictEqual([real.imported, real.skips], [1, [{
          source: "request:2",
          reason: `duplicate slug "shared" in this run (first used by request:1)`
        }]])
        // Once stored, the post of "a" is unchanged and "b" meets it in the database.
        assert.deepStrictEqual([dry.unchanged, dry.skipped, dry.skips[0]!.reason], [
          1,
          1,
          `duplicate slug "shared" in this run (first used by request:1)`
        ])
      }).pipe(Effect.provide(Layer.mergeAll(sqliteStack(`sqlite:${file}`), ProcessorTest)))
    }).pipe(Effect.provide(NodeContext.layer)))
})

describe("the repositories' dry run", () => {
  it.effect("MemoryPostRepository answers the outcomes and keeps its posts as they were", () =>
    Effect.gen(function*() {
      const repository = yield* MemoryPostRepository.make
      yield* repository.create(makeNewPost({ slug: "taken", source: "other.md" }))
      const result = yield* repository.upsertMany(
        [makeNewPost({ slug: "taken" }), makeNewPost({ slug: "fresh" })],
        { onSlugConflict: "suffix", dryRun: true }
      )
      assert.deepStrictEqual(result.outcomes.map((o) => [o.action, o.storedSlug]), [["renamed", "taken-2"], ["inserted", undefined]])
      const stored = yield* repository.list({})
      assert.deepStrictEqual(stored.items.map((p) => p.slug), ["taken"])
    }))

  it.effect("AnnouncingPostRepository announces nothing for a dry run", () =>
    Effect.gen(function*() {
      const published = yield* Queue.unbounded<string>()
      const repository = AnnouncingPostRepository.announcing(yield* MemoryPostRepository.make, {
        backend: "memory",
        publish: (slug) => Queue.offer(published, slug).pipe(Effect.asVoid),
        subscribe: Effect.die("not used"),
        changes: Effect.die("not used") as never
      })
      const result = yield* repository.upsertMany([makeNewPost({ slug: "fresh" })], { dryRun: true })
      assert.strictEqual(result.outcomes[0]!.action, "inserted")
      assert.deepStrictEqual(Chunk.toReadonlyArray(yield* Queue.takeAll(published)), [])
      yield* repository.upsertMany([makeNewPost({ slug: "fresh" })])
      assert.isNotEmpty(Chunk.toReadonlyArray(yield* Queue.takeAll(published)), "a real write is announced")
    }))
})
