/**
 * An export that must be one snapshot, for the SQLite and PostgreSQL suites alike: it is paused
 * (a latch) after writing its first page while another connection inserts a post, deletes one of
 * a later page and moves one of the first page past the cursor; released, it must have written
 * the database as it was when it began, and those writes must have gone through meanwhile.
 */
import { readFileSync } from "node:fs"
import { assert } from "@effect/vitest"
import { Chunk, type Context, Deferred, Effect, Exit, Fiber, Stream } from "effect"
import type { DatabasePool } from "../../src/Database/DatabasePool.js"
import * as ExportOutput from "../../src/Export/ExportOutput.js"
import * as PostExport from "../../src/Export/PostExport.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { makeNewPost } from "../fixtures/posts.js"
import { fetchPage } from "../Site/harness.js"

/** 230 posts over three pages: 60 at one instant (ties across the first page's end), the rest a minute apart. */
const seedPosts = Array.from({ length: 230 }, (_, n) =>
  makeNewPost({
    slug: `post-${n}`,
    status: n % 10 === 0 ? "draft" : "published",
    publishedAt: n < 60 ? "2023-06-01T12:00:00Z" : new Date(Date.UTC(2022, 0, 1) - n * 60_000).toISOString()
  }))

const everyPost = (repository: PostRepository["Type"]) =>
  Effect.map(Stream.runCollect(PostExport.posts({})), Chunk.toReadonlyArray).pipe(
    Effect.provideService(PostRepository, repository)
  )

/**
 * Seeds the database through `writing`, then exports it to `file` through `exporting` (its own
 * connection) with `PostExport.fromSnapshot`, writing through `writing` while the export is paused.
 */
export const exportWhileWriting = (
  exporting: Context.Context<DatabasePool>,
  writing: PostRepository["Type"],
  file: string
) =>
  Effect.gen(function*() {
    const seeded = yield* writing.upsertMany(seedPosts)
    assert.strictEqual(seeded.outcomes.filter((outcome) => outcome.action === "inserted").length, 230)
    const before = yield* everyPost(writing)
    const moved = before[1]!
    const deleted = before[before.length - 1]!
    assert.isTrue(before.indexOf(deleted) >= 2 * PostExport.PAGE_SIZE, "the deleted post is on the last page")

    const firstWrite = yield* Deferred.make<void>()
    const release = yield* Deferred.make<void>()
    let writes = 0
    const held = (output: ExportOutput.ExportOutput): ExportOutput.ExportOutput => ({
      ...output,
      write: (bytes) =>
        Effect.zipRight(
          output.write(bytes),
          ++writes === 1 ? Effect.zipRight(Deferred.succeed(firstWrite, undefined), Deferred.await(release)) : Effect.void
        )
    })
    const fiber = yield* Effect.scoped(
      Effect.flatMap(ExportOutput.file(file), (output) => PostExport.fromSnapshot(PostExport.run({}, held(output))))
    ).pipe(Effect.provide(exporting), Effect.fork)
    // Or the export's own end, should it fail before: then the test fails instead of waiting.
    yield* Effect.raceFirst(Deferred.await(firstWrite), Effect.zipRight(Fiber.await(fiber), Effect.die("the export ended")))

    // Asserted once the export is released: failing here would leave it held for ever. A write
    // the export held up would wait (PostgreSQL) or fail busy (SQLite): the timeout says which.
    const meanwhile = yield* Effect.exit(
      Effect.gen(function*() {
        yield* writing.create(makeNewPost({ slug: "written-meanwhile", publishedAt: "1990-01-01T00:00:00Z" }))
        yield* writing.delete(deleted.slug)
        // From the first page (written already) to the last, past the cursor.
        yield* writing.update(moved.slug, moved.version, makeNewPost({ slug: moved.slug, publishedAt: "1991-01-01T00:00:00Z" }))
        return yield* everyPost(writing)
      }).pipe(Effect.timeout("10 seconds"))
    )
    const pagesWritten = writes
    yield* Deferred.succeed(release, undefined)
    const tally = yield* Fiber.join(fiber)

    assert.isTrue(Exit.isSuccess(meanwhile), `the writes while the export was paused: ${String(meanwhile)}`)
    assert.strictEqual(pagesWritten, 1, "the writes were made while the export was paused after its first page")
    const after = Exit.isSuccess(meanwhile) ? meanwhile.value.map((post) => post.slug) : []
    assert.deepStrictEqual(after.slice(-2), [moved.slug, "written-meanwhile"], "the writes went through")
    assert.notInclude(after, deleted.slug)

    // The database as it was when the export began: the deleted post in it, the new one not,
    // the moved one once, with its old date, where it was.
    assert.strictEqual(tally.posts, 230)
    assert.strictEqual(readFileSync(file, "utf8"), new TextDecoder().decode(PostExport.encodePage(Chunk.unsafeFromArray(before))))
  })

/**
 * The reader site after an export with a renamed post ("renamed", once at "first") was imported
 * beside a live post at "second", one of its old slugs: the old slug is a 301 to the post, and the
 * live post keeps its own page (the live post wins).
 */
export const renamedAndLive = Effect.gen(function*() {
  const moved = yield* fetchPage("/p/first")
  assert.strictEqual(moved.status, 301)
  assert.strictEqual(moved.headers["location"], "/p/renamed")
  const live = yield* fetchPage("/p/second")
  assert.strictEqual(live.status, 200)
  assert.include(live.body, "Post second")
})
