/**
 * Writes of one post racing another writer, on the real engines: a DELETE against a PUT or an
 * import batch on PostgreSQL (row locks), and every write against another process holding
 * SQLite's write lock (`inkwell import` beside the server).
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import Sqlite from "better-sqlite3"
import { Cause, Context, Deferred, Effect, Exit, Fiber, Layer, Option, Schedule, TestClock } from "effect"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import * as Migrations from "../../src/Database/Migrations.js"
import * as SqlLive from "../../src/Database/SqlLive.js"
import { PostRepository, type PostRepositoryShape } from "../../src/Posts/PostRepository.js"
import * as SqlPostRepository from "../../src/Posts/SqlPostRepository.js"
import { describePg, freshSchema } from "../fixtures/pg.js"
import { makeNewPost } from "../fixtures/posts.js"

const MAX_CONNECTIONS = 4

/** Repository, pool and migrated client on `url`. */
const stackOn = (url: string) => {
  const sql = Migrations.layer.pipe(Layer.provideMerge(SqlLive.layer(url, { maxConnections: MAX_CONNECTIONS })))
  return SqlPostRepository.layer.pipe(
    Layer.provideMerge(DatabasePool.layer({ maxConnections: MAX_CONNECTIONS, acquireTimeout: "5 seconds" })),
    Layer.provideMerge(sql)
  )
}

/** Why an exit failed: the error's tag, or "ok". */
const outcome = (exit: Exit.Exit<unknown, { readonly _tag: string }>) => {
  if (Exit.isSuccess(exit)) return "ok"
  const failure = Cause.failureOption(exit.cause)
  return Option.isSome(failure) ? failure.value._tag : Cause.pretty(exit.cause)
}

describePg("a DELETE racing a write of the same post on PostgreSQL", () => {
  /**
   * The DELETE is held (another session locks the post's alias rows, which it removes) once it
   * has taken what it takes first; then the write starts and runs until it waits for the DELETE;
   * then the DELETE is let go. DELETE used to remove the tag rows before the posts row, the write
   * to lock the posts row before its tag rows: each then waited for the other, and PostgreSQL
   * aborted one (40P01) with a 500.
   */
  const raceDelete = <A, E extends { readonly _tag: string }>(
    write: (repo: PostRepositoryShape) => Effect.Effect<A, E>
  ) =>
    Effect.gen(function*() {
      const { url } = yield* freshSchema
      const context = yield* Layer.build(stackOn(url))
      const repo = Context.get(context, PostRepository)
      const sql = Context.get(context, SqlClient.SqlClient)
      const post = yield* repo.create(makeNewPost({ slug: "p", tags: ["a", "b"], aliases: ["/old/p"] }))

      /** The session `pid` waits for, once one does. */
      const waitingFor = (pid: number) =>
        sql<{ readonly pid: number }>`SELECT pid FROM pg_stat_activity WHERE ${pid} = ANY(pg_blocking_pids(pid))`.pipe(
          Effect.flatMap((rows) => rows.length > 0 ? Effect.succeed(rows[0]!.pid) : Effect.fail("none yet" as const)),
          Effect.retry({ schedule: Schedule.spaced("5 millis"), times: 2_000 })
        )

      const locked = yield* Deferred.make<number>()
      const release = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(sql.withTransaction(Effect.gen(function*() {
        const [me] = yield* sql<{ readonly pid: number }>`SELECT pg_backend_pid() AS pid`
        yield* sql`SELECT 1 FROM post_aliases WHERE post_id = ${post.id} FOR UPDATE`
        yield* Deferred.succeed(locked, me!.pid)
        yield* Deferred.await(release)
      })))
      const holderPid = yield* Deferred.await(locked)

      const deleting = yield* Effect.fork(Effect.exit(repo.delete("p")))
      const deleterPid = yield* waitingFor(holderPid)
      const writing = yield* Effect.fork(Effect.exit(write(repo)))
      yield* waitingFor(deleterPid)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)

      const deleted = yield* Fiber.join(deleting)
      const written = yield* Fiber.join(writing)
      const left = yield* sql<{ readonly n: string }>`
        SELECT (SELECT COUNT(*) FROM post_tags WHERE post_id = ${post.id})
          + (SELECT COUNT(*) FROM post_aliases WHERE post_id = ${post.id})
          + (SELECT COUNT(*) FROM post_search WHERE post_id = ${post.id}) AS n`
      return { deleted: outcome(deleted), written, left: Number(left[0]!.n) }
    }).pipe(Effect.scoped)

  it.live("a PUT waiting for the DELETE answers PostNotFound (404), not a deadlock's 500", () =>
    Effect.gen(function*() {
      const { deleted, left, written } = yield* raceDelete((repo) =>
        repo.update("p", 1, makeNewPost({ slug: "p", body: "edited", tags: ["a", "c"], aliases: ["/new/p"] })))
      assert.deepStrictEqual([deleted, outcome(written)], ["ok", "PostNotFound"])
      assert.strictEqual(left, 0, "the post's tag, alias and search rows went with it")
    }), 30_000)

  it.live("an import batch waiting for the DELETE writes the post anew", () =>
    Effect.gen(function*() {
      const { deleted, written } = yield* raceDelete((repo) =>
        repo.upsertMany([makeNewPost({ slug: "p", body: "edited", tags: ["a", "c"] })]))
      assert.strictEqual(deleted, "ok")
      assert.isTrue(Exit.isSuccess(written), String(written))
      if (Exit.isSuccess(written)) assert.deepStrictEqual(written.value.outcomes.map((o) => o.action), ["inserted"])
    }), 30_000)
})

describe("writes while another process holds SQLite's write lock", () => {
  /** A migrated database file with posts "a" and "b", and a second connection to it (another process's). */
  const withLockedFile = <A, E>(
    body: (repo: PostRepositoryShape, other: Sqlite.Database) => Effect.Effect<A, E>
  ) =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "inkwell-races-" })
      const file = `${dir}/inkwell.db`
      const context = yield* Layer.build(stackOn(`sqlite:${file}`))
      const repo = Context.get(context, PostRepository)
      yield* repo.create(makeNewPost({ slug: "a" }))
      yield* repo.create(makeNewPost({ slug: "b" }))
      const other = yield* Effect.acquireRelease(Effect.sync(() => new Sqlite(file)), (db) => Effect.sync(() => db.close()))
      return yield* body(repo, other)
    }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer))

  const update = (repo: PostRepositoryShape) => repo.update("a", 1, makeNewPost({ slug: "a", body: "edited" }))
  const writes: Record<string, (repo: PostRepositoryShape) => Effect.Effect<unknown, { readonly _tag: string }>> = {
    create: (repo) => repo.create(makeNewPost({ slug: "c" })),
    update,
    delete: (repo) => repo.delete("b"),
    upsertMany: (repo) =>
      repo.upsertMany([makeNewPost({ slug: "a", body: "imported" }), makeNewPost({ slug: "d" })])
  }

  for (const [name, write] of Object.entries(writes)) {
    it.effect(`${name} waits for the lock without blocking the process (reads are answered meanwhile), then succeeds`, () =>
      withLockedFile((repo, other) =>
        Effect.gen(function*() {
          other.exec("BEGIN IMMEDIATE")
          const fiber = yield* Effect.fork(Effect.exit(write(repo)))
          yield* TestClock.adjust("2 seconds")
          const meanwhile = yield* Fiber.poll(fiber)
          assert.isTrue(Option.isNone(meanwhile), `ended while the lock was held: ${String(meanwhile)}`)
          assert.strictEqual((yield* repo.getBySlug("a")).slug, "a")
          other.exec("COMMIT")
          yield* TestClock.adjust("100 millis")
          const exit = yield* Fiber.join(fiber)
          assert.isTrue(Exit.isSuccess(exit), String(exit))
        })))
  }

  it.effect("a write gives up with DatabaseError once the lock has been held for SQLITE_BUSY_TIMEOUT_MS", () =>
    withLockedFile((repo, other) =>
      Effect.gen(function*() {
        other.exec("BEGIN IMMEDIATE")
        const fiber = yield* Effect.fork(Effect.exit(update(repo)))
        yield* TestClock.adjust(SqlLive.SQLITE_BUSY_TIMEOUT_MS - 200)
        assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
        yield* TestClock.adjust(400)
        const exit = yield* Fiber.join(fiber)
        other.exec("ROLLBACK")
        assert.strictEqual(outcome(exit), "DatabaseError")
        assert.strictEqual((yield* repo.getBySlug("a")).body.includes("edited"), false)
      })))
})
