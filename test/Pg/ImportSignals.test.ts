/**
 * A second signal during `inkwell import` exits at once, and the batch it cut off is not half
 * written. PostgreSQL makes this deterministic: a lock held by the test keeps the import's batch
 * transaction waiting inside its INSERT, so the first signal's graceful stop (which lets the batch
 * in flight finish) cannot complete; only the second signal can end the process.
 */
import { afterAll, assert, beforeAll, it } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import pg from "pg"
import { inkwell } from "../fixtures/cli.js"
import { adminQuery, createDatabase, describePg } from "../fixtures/pg.js"

const record = (n: number) => `${JSON.stringify({ title: `Post ${n}`, slug: `post-${n}`, body: `Body ${n}`, tags: ["signal"] })}\n`

const query = (sql: string, url: string) => Effect.promise(() => adminQuery(sql, url)).pipe(Effect.map((r) => r.rows))

/** A session holding `LOCK TABLE posts IN SHARE MODE` (reads go on, inserts wait) until the scope closes. */
const lockPosts = (url: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const holder = new pg.Client({ connectionString: url })
      holder.on("error", () => {})
      await holder.connect()
      await holder.query("BEGIN")
      await holder.query("LOCK TABLE posts IN SHARE MODE")
      return holder
    }),
    (holder) => Effect.promise(() => holder.query("ROLLBACK").catch(() => undefined).then(() => holder.end()))
  )

describePg("inkwell import and signals on PostgreSQL", () => {
  let database: Awaited<ReturnType<typeof createDatabase>>
  beforeAll(async () => {
    database = await createDatabase()
  })
  afterAll(async () => {
    await database?.drop()
  })

  it.live("a second SIGINT exits 130 at once while the batch in flight waits; that batch is rolled back whole", () =>
    Effect.gen(function*() {
      const env = { DATABASE_URL: database.url }
      // A first run migrates the database and stores post-0.
      const first = inkwell(["import", "-"], env)
      first.child.stdin!.end(record(0))
      assert.strictEqual(yield* Effect.promise(() => first.exit), 0, first.stderr())

      yield* Effect.scoped(Effect.gen(function*() {
        yield* lockPosts(database.url)
        const run = inkwell(["import", "-", "--batch-size", "2"], env)
        run.child.stdin!.write(record(1) + record(2))
        yield* query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE 'insert%'`,
          database.url
        ).pipe(
          Effect.filterOrFail((rows) => rows[0].n > 0, () => new Error("the import's batch is not waiting on the lock")),
          Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 400 })
        )

        // The first signal starts the graceful stop, which waits for the locked batch (for ever,
        // here); the second must end the process by itself. Signals of one kind sent back to back
        // may be merged into one: send the second once the first was taken.
        run.child.kill("SIGINT")
        yield* Effect.promise(() => run.waitFor("SIGINT received, stopping"))
        run.child.kill("SIGINT")
        assert.strictEqual(yield* Effect.promise(() => run.exit), 130, run.stderr())
        assert.notMatch(run.stdout(), /Import (interrupted|completed)/, "exited at once, without the graceful summary")
      }))

      // The connection that held the open batch transaction is gone: nothing of it was committed.
      const rows = yield* query("SELECT slug FROM posts ORDER BY slug", database.url)
      assert.deepStrictEqual(rows.map((r) => r.slug), ["post-0"])
      const tags = yield* query("SELECT count(*)::int AS n FROM post_tags", database.url)
      assert.strictEqual(tags[0].n, 1, "post-0's tag only")
    }), 120_000)
})
