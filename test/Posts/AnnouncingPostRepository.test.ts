import { SqlError } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Exit, Fiber, Layer, Queue, Ref, TestClock } from "effect"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import * as Migrations from "../../src/Database/Migrations.js"
import * as SqlLive from "../../src/Database/SqlLive.js"
import { ALL_POSTS, PostChange, PostChanges, type PostChangesShape } from "../../src/Database/PostChanges.js"
import { DatabaseError } from "../../src/Domain/Errors.js"
import * as AnnouncingPostRepository from "../../src/Posts/AnnouncingPostRepository.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import * as SqlPostRepository from "../../src/Posts/SqlPostRepository.js"
import { makeNewPost } from "../fixtures/posts.js"

/** PostChanges as the app builds it on SQLite (an in-process PubSub). */
const inProcessChanges = PostChanges.layer("sqlite::memory:").pipe(
  Layer.provide(DatabasePool.layer({ maxConnections: 1, acquireTimeout: "5 seconds" })),
  Layer.provide(SqlLive.layer("sqlite::memory:", { maxConnections: 1 })),
  Layer.orDie
)

/** PostChanges that records what was published, in order. */
const recording = Effect.gen(function*() {
  const published = yield* Queue.unbounded<string>()
  const changes: PostChangesShape = {
    backend: "memory",
    publish: (slug) => Queue.offer(published, slug).pipe(Effect.asVoid),
    subscribe: Effect.die("not used"),
    changes: Effect.die("not used") as never
  }
  return { changes, published }
})

const drain = (queue: Queue.Queue<string>) => Effect.map(Queue.takeAll(queue), Chunk.toReadonlyArray)

/** The SQL repository on an in-memory SQLite database, migrated. */
const sqliteStore = SqlPostRepository.layer.pipe(
  Layer.provide(DatabasePool.layer({ maxConnections: 1, acquireTimeout: "5 seconds" })),
  Layer.provide(Migrations.layer.pipe(Layer.provideMerge(SqlLive.layer("sqlite::memory:", { maxConnections: 1 })))),
  Layer.orDie
)

const setup = Effect.gen(function*() {
  const { changes, published } = yield* recording
  const inner = yield* MemoryPostRepository.make
  return { repository: AnnouncingPostRepository.announcing(inner, changes), published }
})

/**
 * The exit of `call` interrupted while it commits: `call` wraps its store's write in `commit`,
 * which cannot be interrupted (as a transaction's COMMIT), so the write lands all the same.
 */
const interruptedWhileCommitting = <A, E>(
  call: (commit: <X, Y>(write: Effect.Effect<X, Y>) => Effect.Effect<X, Y>) => Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    const committing = yield* Deferred.make<void>()
    const committed = yield* Deferred.make<void>()
    const fiber = yield* Effect.fork(call((write) =>
      Effect.uninterruptible(
        Deferred.succeed(committing, undefined).pipe(Effect.zipRight(Deferred.await(committed)), Effect.zipRight(write))
      )
    ))
    yield* Deferred.await(committing)
    yield* Fiber.interruptFork(fiber)
    yield* Deferred.succeed(committed, undefined)
    return yield* Fiber.await(fiber)
  })

describe("AnnouncingPostRepository", () => {
  it.effect("announces each committed write: create, update (old and new slug), delete", () =>
    Effect.gen(function*() {
      const { repository, published } = yield* setup
      const created = yield* repository.create(makeNewPost({ slug: "first" }))
      assert.deepStrictEqual(yield* drain(published), ["first"])
      yield* repository.update("first", created.version, makeNewPost({ slug: "renamed", title: "Renamed" }))
      assert.deepStrictEqual(yield* drain(published), ["first", "renamed"])
      yield* repository.update("renamed", created.version + 1, makeNewPost({ slug: "renamed", title: "Again" }))
      assert.deepStrictEqual(yield* drain(published), ["renamed"], "one announcement when the slug stays")
      yield* repository.delete("renamed")
      assert.deepStrictEqual(yield* drain(published), ["renamed"])
    }))

  it.effect("announces nothing for a write that failed, nor for reads", () =>
    Effect.gen(function*() {
      const { repository, published } = yield* setup
      yield* repository.create(makeNewPost({ slug: "taken" }))
      yield* drain(published)
      const conflict = yield* Effect.flip(repository.create(makeNewPost({ slug: "taken", source: "other.md" })))
      assert.strictEqual(conflict._tag, "SlugConflict")
      const stale = yield* Effect.flip(repository.update("taken", 99, makeNewPost({ slug: "taken" })))
      assert.strictEqual(stale._tag, "StaleVersion")
      yield* repository.getBySlug("taken")
      yield* repository.list({})
      assert.deepStrictEqual(yield* drain(published), [])
    }))

  it.effect("a bulk write is one announcement of every post, and none when nothing changed", () =>
    Effect.gen(function*() {
      const { repository, published } = yield* setup
      const batch = [makeNewPost({ slug: "a" }), makeNewPost({ slug: "b" }), makeNewPost({ slug: "c" })]
      const first = yield* repository.upsertMany(batch)
      assert.deepStrictEqual(first.outcomes.map((o) => o.action), ["inserted", "inserted", "inserted"])
      assert.deepStrictEqual(yield* drain(published), [ALL_POSTS])
      const again = yield* repository.upsertMany(batch)
      assert.deepStrictEqual(again.outcomes.map((o) => o.action), ["unchanged", "unchanged", "unchanged"])
      assert.deepStrictEqual(yield* drain(published), [])
    }))

  it.effect("a re-import naming the same old slugs announces nothing: the redirects are in place", () =>
    Effect.gen(function*() {
      const { repository, published } = yield* setup
      const batch = [makeNewPost({ slug: "a" }), makeNewPost({ slug: "b" })]
      const redirects = [undefined, ["old-b"]]
      yield* repository.upsertMany(batch, { redirects })
      assert.deepStrictEqual(yield* drain(published), [ALL_POSTS])
      const again = yield* repository.upsertMany(batch, { redirects })
      assert.deepStrictEqual(again.outcomes.map((o) => o.action), ["unchanged", "unchanged"])
      assert.deepStrictEqual(yield* drain(published), [])
    }))

  it.effect("unchanged posts gaining old slugs announce those slugs, not every post", () =>
    Effect.gen(function*() {
      const { repository, published } = yield* setup
      const batch = [makeNewPost({ slug: "a" }), makeNewPost({ slug: "b" })]
      yield* repository.upsertMany(batch)
      yield* drain(published)
      // "a" is live (no redirect), "old-a" given twice is one redirect.
      const again = yield* repository.upsertMany(batch, { redirects: [["old-a"], ["old-b", "a", "old-a"]] })
      assert.deepStrictEqual(again.outcomes.map((o) => o.action), ["unchanged", "unchanged"])
      assert.deepStrictEqual(yield* drain(published), ["old-a", "old-b"])
    }))

  it.effect(`more than ${AnnouncingPostRepository.MAX_REDIRECT_ANNOUNCEMENTS} old slugs gained are one announcement of every post`, () =>
    Effect.gen(function*() {
      const { repository, published } = yield* setup
      const batch = [makeNewPost({ slug: "a" })]
      yield* repository.upsertMany(batch)
      yield* drain(published)
      const many = Array.from({ length: AnnouncingPostRepository.MAX_REDIRECT_ANNOUNCEMENTS + 1 }, (_, i) => `old-${i}`)
      yield* repository.upsertMany(batch, { redirects: [many] })
      assert.deepStrictEqual(yield* drain(published), [ALL_POSTS])
    }))

  it.effect("a failed announcement is tried again (ANNOUNCE_RETRIES), then logged, never the write's failure", () =>
    Effect.gen(function*() {
      const attempts = yield* Ref.make(0)
      const broken: PostChangesShape = {
        backend: "memory",
        publish: () =>
          Effect.zipRight(Ref.update(attempts, (n) => n + 1), Effect.fail(new DatabaseError({ operation: "PostChanges.publish", cause: "connection lost" }))),
        subscribe: Effect.die("not used"),
        changes: Effect.die("not used") as never
      }
      const repository = AnnouncingPostRepository.announcing(yield* MemoryPostRepository.make, broken)
      const write = yield* Effect.fork(repository.create(makeNewPost({ slug: "stored-anyway" })))
      yield* TestClock.adjust("1 second")
      const created = yield* Fiber.join(write)
      assert.strictEqual(created.slug, "stored-anyway")
      assert.strictEqual((yield* repository.getBySlug("stored-anyway")).version, 1)
      assert.strictEqual(yield* Ref.get(attempts), 4, "the first attempt and three more")
    }))

  it.effect("an announcement that fails once is made by the next attempt", () =>
    Effect.gen(function*() {
      const { changes, published } = yield* recording
      const failures = yield* Ref.make(1)
      const flaky: PostChangesShape = {
        ...changes,
        publish: (slug) =>
          Effect.flatMap(Ref.getAndUpdate(failures, (n) => n - 1), (left) =>
            left > 0 ? Effect.fail(new DatabaseError({ operation: "PostChanges.publish", cause: "connection lost" })) : changes.publish(slug))
      }
      const repository = AnnouncingPostRepository.announcing(yield* MemoryPostRepository.make, flaky)
      const write = yield* Effect.fork(repository.create(makeNewPost({ slug: "second-time" })))
      yield* TestClock.adjust("100 millis")
      yield* Fiber.join(write)
      assert.deepStrictEqual(yield* drain(published), ["second-time"])
    }))

  it.effect("over a store that runs no BeforeCommit, a PostChanges that can announce in the transaction is told after the write", () =>
    Effect.gen(function*() {
      const { changes, published } = yield* recording
      const withTransactions: PostChangesShape = { ...changes, publishInTransaction: () => Effect.die("never run by this store") }
      const repository = AnnouncingPostRepository.announcing(yield* MemoryPostRepository.make, withTransactions)
      yield* repository.create(makeNewPost({ slug: "after" }))
      assert.deepStrictEqual(yield* drain(published), ["after"])
    }))

  it.effect("a write interrupted while it commits (client gone, request timed out) is still announced", () =>
    Effect.gen(function*() {
      const { changes, published } = yield* recording
      const inner = yield* MemoryPostRepository.make
      const created = yield* inner.create(makeNewPost({ slug: "edited" }))
      const exit = yield* interruptedWhileCommitting((commit) =>
        AnnouncingPostRepository.announcing({ ...inner, update: (...args) => commit(inner.update(...args)) }, changes)
          .update("edited", created.version, makeNewPost({ slug: "edited", title: "Edited" }))
      )
      assert.isTrue(Exit.isInterrupted(exit), "the caller saw an interruption")
      assert.strictEqual((yield* inner.getBySlug("edited")).version, created.version + 1, "the write committed")
      assert.deepStrictEqual(yield* drain(published), ["edited"])
    }))

  it.effect("an import batch interrupted while it commits is announced as a change of every post", () =>
    Effect.gen(function*() {
      const { changes, published } = yield* recording
      const inner = yield* MemoryPostRepository.make
      // Stored already: the batch's own outcome ("unchanged") would announce nothing.
      const post = makeNewPost({ slug: "landed" })
      yield* inner.upsertMany([post])
      const exit = yield* interruptedWhileCommitting((commit) =>
        AnnouncingPostRepository.announcing({ ...inner, upsertMany: (...args) => commit(inner.upsertMany(...args)) }, changes)
          .upsertMany([post])
      )
      assert.isTrue(Exit.isInterrupted(exit), "the caller saw an interruption")
      assert.deepStrictEqual(yield* drain(published), [ALL_POSTS])
    }))

  it.scoped("over the SQL store, each write is announced inside its transaction (where the row is already written), and not again after it", () =>
    Effect.gen(function*() {
      const { changes, published } = yield* recording
      const inTransaction = yield* Queue.unbounded<string>()
      const transactional: PostChangesShape = {
        ...changes,
        publishInTransaction: (sql, slugs) =>
          Effect.forEach(slugs, (slug) =>
            Effect.flatMap(sql<{ readonly n: number }>`SELECT count(*) AS n FROM posts WHERE slug = ${slug}`, (rows) =>
              Queue.offer(inTransaction, `${slug}:${rows[0]!.n}`)), { discard: true })
      }
      const repository = AnnouncingPostRepository.announcing(yield* PostRepository, transactional)
      const created = yield* repository.create(makeNewPost({ slug: "first" }))
      assert.deepStrictEqual(yield* drain(inTransaction), ["first:1"])
      yield* repository.update("first", created.version, makeNewPost({ slug: "renamed" }))
      assert.deepStrictEqual(yield* drain(inTransaction), ["first:0", "renamed:1"])
      yield* repository.upsertMany([makeNewPost({ slug: "a" }), makeNewPost({ slug: "b" })])
      assert.deepStrictEqual(yield* drain(inTransaction), [`${ALL_POSTS}:0`])
      yield* repository.upsertMany([makeNewPost({ slug: "c" })], { dryRun: true })
      yield* repository.delete("renamed")
      assert.deepStrictEqual(yield* drain(inTransaction), ["renamed:0"])
      assert.deepStrictEqual(yield* drain(published), [], "nothing announced after the commit")
    }).pipe(Effect.provide(sqliteStore)))

  it.scoped("over the SQL store, an announcement that fails in the transaction fails the write and rolls it back", () =>
    Effect.gen(function*() {
      const { changes } = yield* recording
      const failing: PostChangesShape = {
        ...changes,
        publishInTransaction: () => Effect.fail(new SqlError.SqlError({ cause: "notification queue full", message: "NOTIFY failed" }))
      }
      const repository = AnnouncingPostRepository.announcing(yield* PostRepository, failing)
      const error = yield* Effect.flip(repository.create(makeNewPost({ slug: "unannounced" })))
      assert.strictEqual(error._tag, "DatabaseError")
      assert.strictEqual((yield* Effect.flip(repository.getBySlug("unannounced")))._tag, "PostNotFound")
    }).pipe(Effect.provide(sqliteStore)))

  it.scoped("as a layer over the in-process PostChanges: subscribers hear the write", () =>
    Effect.gen(function*() {
      const changes = yield* PostChanges
      const heard = yield* changes.subscribe
      const repository = yield* PostRepository
      yield* repository.create(makeNewPost({ slug: "heard" }))
      assert.deepStrictEqual(yield* Queue.take(heard), PostChange.Changed({ slug: "heard" }))
    }).pipe(
      Effect.provide(
        AnnouncingPostRepository.layer.pipe(
          Layer.provideMerge(Layer.merge(MemoryPostRepository.layer, inProcessChanges))
        )
      )
    ))
})
