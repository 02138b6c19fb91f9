/**
 * PostChanges across two independent stacks (two pools, two LISTEN connections) on one fresh
 * PostgreSQL database, as two server processes would have; and the in-process SQLite variant.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Fiber, Layer, Option, Queue, Schedule } from "effect"
import pg from "pg"
import { afterAll, beforeAll } from "vitest"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import * as Migrations from "../../src/Database/Migrations.js"
import { ALL_POSTS, type ListenOptions, PostChange, PostChanges } from "../../src/Database/PostChanges.js"
import * as SqlLive from "../../src/Database/SqlLive.js"
import { ResponseCache } from "../../src/Http/ResponseCache.js"
import * as AnnouncingPostRepository from "../../src/Posts/AnnouncingPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import * as SqlPostRepository from "../../src/Posts/SqlPostRepository.js"
import { get, postJson, newPost, testServerWith } from "../Http/harness.js"
import { adminQuery, createDatabase, describePg, silenceableRelay, terminateBackends } from "../fixtures/pg.js"
import { makeNewPost } from "../fixtures/posts.js"

/** What one process builds: its own pool and its own listener. */
const processStack = (url: string, options: ListenOptions = {}) =>
  PostChanges.layer(url, options).pipe(
    Layer.provideMerge(DatabasePool.layer({ maxConnections: 2, acquireTimeout: "5 seconds" })),
    Layer.provide(SqlLive.layer(url, { maxConnections: 2 }))
  )

/**
 * A writing process as the app builds one (migrations, pool, PostChanges, the SQL repository
 * announcing its writes), on a pool of one connection that waits at most 300 ms for it.
 */
const writerStack = (url: string) =>
  AnnouncingPostRepository.layer.pipe(
    Layer.provideMerge(SqlPostRepository.layer),
    Layer.provideMerge(PostChanges.layer(url)),
    Layer.provideMerge(DatabasePool.layer({ maxConnections: 1, acquireTimeout: "300 millis" })),
    Layer.provide(Migrations.layer.pipe(Layer.provideMerge(SqlLive.layer(url, { maxConnections: 1 }))))
  )

/** Polls `check` every 20 ms until it holds, failing after 10 s. */
const until = (check: Effect.Effect<boolean>, what: string) =>
  check.pipe(
    Effect.filterOrFail((holds) => holds, () => new Error(`never ${what}`)),
    Effect.retry({ schedule: Schedule.spaced("20 millis"), times: 500 })
  )

/** Builds a stack in the current scope and hands back its service. */
const build = (url: string, options: ListenOptions = {}) =>
  Effect.map(Layer.build(processStack(url, options)), Context.get(PostChanges))

/** The next change, failing the test instead of hanging when none arrives. */
const next = (queue: Queue.Dequeue<PostChange>) =>
  Queue.take(queue).pipe(
    Effect.timeoutFail({ duration: Duration.seconds(10), onTimeout: () => new Error("no change arrived within 10 s") })
  )

/**
 * After a lost connection: `Lost` first (once per failed attempt to reconnect), then the next
 * other change, returned.
 */
const nextAfterLost = (queue: Queue.Dequeue<PostChange>) =>
  Effect.gen(function*() {
    assert.deepStrictEqual(yield* next(queue), PostChange.Lost(), "Lost is told first")
    let change = yield* next(queue)
    while (change._tag === "Lost") change = yield* next(queue)
    return change
  })

describe("PostChanges in memory (SQLite)", () => {
  it.scoped("a published slug reaches every subscriber", () =>
    Effect.gen(function*() {
      const changes = yield* PostChanges
      assert.strictEqual(changes.backend, "memory")
      const first = yield* changes.subscribe
      const second = yield* changes.subscribe
      yield* changes.publish("hello-world")
      assert.deepStrictEqual(yield* Queue.take(first), PostChange.Changed({ slug: "hello-world" }))
      assert.deepStrictEqual(yield* Queue.take(second), PostChange.Changed({ slug: "hello-world" }))
    }).pipe(Effect.provide(processStack("sqlite::memory:"))))
})

describePg("PostChanges on PostgreSQL (LISTEN/NOTIFY)", () => {
  let database: Awaited<ReturnType<typeof createDatabase>>
  beforeAll(async () => {
    database = await createDatabase()
  })
  afterAll(async () => {
    await database?.drop()
  })

  it.live("a change published by one process reaches the other, and the publisher itself", () =>
    Effect.gen(function*() {
      const a = yield* build(database.url)
      const b = yield* build(database.url)
      assert.deepStrictEqual([a.backend, b.backend], ["pg", "pg"])
      const atA = yield* a.subscribe
      const atB = yield* b.subscribe
      yield* a.publish("from-a")
      yield* b.publish("from-b")
      assert.deepStrictEqual(
        [yield* next(atB), yield* next(atB)],
        [PostChange.Changed({ slug: "from-a" }), PostChange.Changed({ slug: "from-b" })]
      )
      assert.deepStrictEqual(
        [yield* next(atA), yield* next(atA)],
        [PostChange.Changed({ slug: "from-a" }), PostChange.Changed({ slug: "from-b" })]
      )
      // Each change once: nothing else is waiting.
      assert.isTrue(Option.isNone(yield* Queue.poll(atB)))
    }).pipe(Effect.scoped))

  it.live("a publisher (an import process) reaches listeners without a LISTEN connection of its own", () =>
    Effect.gen(function*() {
      const listener = yield* build(database.url)
      const heard = yield* listener.subscribe
      const publisher = yield* Effect.map(
        Layer.build(
          PostChanges.publisher(database.url).pipe(
            Layer.provide(DatabasePool.layer({ maxConnections: 1, acquireTimeout: "5 seconds" })),
            Layer.provide(SqlLive.layer(database.url, { maxConnections: 1 }))
          )
        ),
        Context.get(PostChanges)
      )
      const listening = yield* Effect.promise(() =>
        adminQuery(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND application_name = 'inkwell-listen'`,
          database.url
        )
      )
      assert.strictEqual(listening.rows[0].n, 1, "only the listener's LISTEN connection")
      yield* publisher.publish("imported")
      assert.deepStrictEqual(yield* next(heard), PostChange.Changed({ slug: "imported" }))
    }).pipe(Effect.scoped))

  it.live("after the listener's connection is killed it says Lost, reconnects, says Reset, and hears later changes", () =>
    Effect.gen(function*() {
      const a = yield* build(database.url)
      const b = yield* build(database.url)
      const atB = yield* b.subscribe
      yield* a.publish("before")
      assert.deepStrictEqual(yield* next(atB), PostChange.Changed({ slug: "before" }))

      const killed = yield* Effect.promise(() => terminateBackends(database.url))
      assert.isAtLeast(killed, 2, "both LISTEN connections were terminated")
      assert.deepStrictEqual(yield* nextAfterLost(atB), PostChange.Reset())

      // The publisher's pool lost its connections too; a later publish opens a fresh one.
      yield* a.publish("after").pipe(Effect.retry({ times: 2 }))
      assert.deepStrictEqual(yield* next(atB), PostChange.Changed({ slug: "after" }))
    }).pipe(Effect.scoped))

  it.live("a LISTEN connection that goes silent (no reset, no close) is noticed by its probe: Lost, Reset, then later changes", () =>
    Effect.gen(function*() {
      const relay = yield* silenceableRelay(new URL(database.url))
      const a = yield* build(database.url)
      const b = yield* build(relay.url(database.url), { probeInterval: "200 millis", probeTimeout: "500 millis" })
      const atB = yield* b.subscribe
      yield* a.publish("before")
      assert.deepStrictEqual(yield* next(atB), PostChange.Changed({ slug: "before" }))

      assert.isAtLeast(relay.silenceAll(), 1, "b's connections went silent")
      // Lost on the silent connection: what Reset is for.
      yield* a.publish("unheard")
      assert.deepStrictEqual(yield* nextAfterLost(atB), PostChange.Reset())
      yield* a.publish("after")
      assert.deepStrictEqual(yield* next(atB), PostChange.Changed({ slug: "after" }))
    }).pipe(Effect.scoped))

  it.live("a write is announced in its own transaction: heard even when the writer's pool has no permit free once it committed", () =>
    Effect.gen(function*() {
      const listener = yield* build(database.url)
      const heard = yield* listener.subscribe
      const context = yield* Layer.build(writerStack(database.url))
      const repository = Context.get(context, PostRepository)
      const pool = Context.get(context, DatabasePool)

      const created = yield* repository.create(makeNewPost({ slug: "held" }))
      assert.deepStrictEqual(yield* next(heard), PostChange.Changed({ slug: "held" }))

      // Another session holds the post's row: the update waits on it, holding the writer's only permit.
      const other = yield* Effect.acquireRelease(
        Effect.promise(async () => {
          const client = new pg.Client({ connectionString: database.url })
          client.on("error", () => {})
          await client.connect()
          await client.query("BEGIN")
          await client.query("SELECT 1 FROM posts WHERE slug = 'held' FOR UPDATE")
          return client
        }),
        (client) => Effect.promise(() => client.query("ROLLBACK").finally(() => client.end()).catch(() => undefined))
      )
      const update = yield* Effect.fork(repository.update("held", created.version, makeNewPost({ slug: "held", title: "Edited" })))
      yield* until(
        Effect.promise(() =>
          adminQuery(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
            database.url
          ).then((r) => r.rows[0].n === 1)
        ),
        "the update waited for the row"
      )
      // A read queues for the permit behind it and, once given it, keeps it for a second: longer
      // than the 300 ms a statement after the commit would wait for a permit.
      const slowRead = yield* Effect.fork(pool.use("slow read", (sql) => sql`SELECT pg_sleep(1)`))
      yield* until(Effect.map(pool.stats, (stats) => stats.waiting === 1), "the read queued for the permit")
      yield* Effect.promise(() => other.query("COMMIT"))

      const updated = yield* Fiber.join(update)
      assert.strictEqual(updated.version, created.version + 1)
      assert.deepStrictEqual(yield* next(heard), PostChange.Changed({ slug: "held" }))
      yield* Fiber.join(slowRead)

      // A batch is one notification, of every post; a write that failed or a dry run, none.
      yield* repository.upsertMany([makeNewPost({ slug: "a" }), makeNewPost({ slug: "b" })])
      assert.deepStrictEqual(yield* next(heard), PostChange.Changed({ slug: ALL_POSTS }))
      assert.strictEqual((yield* Effect.flip(repository.update("held", created.version, makeNewPost({ slug: "held" }))))._tag, "StaleVersion")
      yield* repository.upsertMany([makeNewPost({ slug: "c" })], { dryRun: true })
      yield* repository.delete("a")
      assert.deepStrictEqual(yield* next(heard), PostChange.Changed({ slug: "a" }))
      // Each write once: an announcement after the commit would have been a second.
      assert.isTrue(Option.isNone(yield* Queue.poll(heard)))
    }).pipe(Effect.scoped), 30_000)

  it.live("while the LISTEN connection is down the response cache holds nothing and keeps nothing; after Reset it keeps again", () =>
    Effect.gen(function*() {
      // A database of its own: it is closed to new connections below.
      const own = yield* Effect.acquireRelease(Effect.promise(() => createDatabase()), (db) => Effect.promise(() => db.drop()))
      const setAllowConnections = (allow: boolean) =>
        Effect.promise(() => adminQuery(`ALTER DATABASE ${own.name} ALLOW_CONNECTIONS ${allow}`))
      yield* Effect.addFinalizer(() => setAllowConnections(true))
      const server = testServerWith(
        {},
        ResponseCache.layer({ maxEntries: 100, maxBytes: 1024 * 1024, ttl: "10 minutes" }).pipe(
          Layer.provide(processStack(own.url, { probeInterval: "200 millis", probeTimeout: "500 millis" }))
        )
      )
      yield* Effect.gen(function*() {
        const cache = yield* ResponseCache
        const cached = () => cache.lookup("GET", "/posts/kept", false, undefined) !== undefined
        /** Polls `condition` (the cache follows changes on a fiber of its own) for up to 10 s. */
        const eventually = (condition: () => boolean, what: string) =>
          Effect.suspend(() => condition() ? Effect.void : Effect.fail(new Error(what))).pipe(
            Effect.retry({ schedule: Schedule.spaced("20 millis"), times: 500 })
          )
        yield* postJson("/posts", newPost({ title: "Kept" }))
        assert.strictEqual((yield* get("/posts/kept")).status, 200)
        assert.isTrue(cached(), "kept while LISTEN is up")

        // The listener is cut off and cannot come back: no Reset will follow.
        yield* setAllowConnections(false)
        const killed = yield* Effect.promise(() =>
          adminQuery(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = '${own.name}' AND application_name = 'inkwell-listen'`
          )
        )
        assert.strictEqual(killed.rowCount, 1)
        yield* eventually(() => !cached(), "the cached answer was dropped when LISTEN was lost")
        assert.strictEqual((yield* get("/posts/kept")).status, 200)
        assert.isFalse(cached(), "nothing is kept while LISTEN is down")
        assert.strictEqual((yield* cache.stats).entries, 0)

        yield* setAllowConnections(true)
        // Once LISTEN is back (Reset), answers are kept again.
        yield* get("/posts/kept").pipe(
          Effect.filterOrFail(() => cached(), () => new Error("not kept after the reconnect")),
          Effect.retry({ schedule: Schedule.spaced("20 millis"), times: 500 })
        )
      }).pipe(Effect.provide(server))
    }).pipe(Effect.scoped), 30_000)
})
