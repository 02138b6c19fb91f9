/**
 * A second signal during `inkwell import` exits at once, and the batch it cut off is not half
 * written. PostgreSQL makes this deterministic: a lock held by the test keeps the import's batch
 * transaction waiting inside its INSERT, so the first signal's graceful stop (which lets the batch
 * in flight finish) cannot complete; only the second signal can end the process.
 */
import { afterAll, assert, beforeAll, it } from "@effect/vitest"
import pg from "pg"
import { inkwell } from "../fixtures/cli.js"
import { adminQuery, createDatabase, describePg } from "../fixtures/pg.js"

const record = (n: number) => `${JSON.stringify({ title: `Post ${n}`, slug: `post-${n}`, body: `Body ${n}`, tags: ["signal"] })}\n`

/** Polls `check` every 50 ms until it holds; fails after 20 s. */
const until = async (what: string, check: () => Promise<boolean>) => {
  for (let i = 0; i < 400; i++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describePg("inkwell import and signals on PostgreSQL", () => {
  let database: Awaited<ReturnType<typeof createDatabase>>
  beforeAll(async () => {
    database = await createDatabase()
  })
  afterAll(async () => {
    await database?.drop()
  })

  it("a second SIGINT exits 130 at once while the batch in flight waits; that batch is rolled back whole", async () => {
    const env = { DATABASE_URL: database.url }
    // A first run migrates the database and stores post-0.
    const first = inkwell(["import", "-"], env)
    first.child.stdin!.end(record(0))
    assert.strictEqual(await first.exit, 0, first.stderr())

    // Reads go on; inserts into posts wait for this lock.
    const holder = new pg.Client({ connectionString: database.url })
    holder.on("error", () => {})
    await holder.connect()
    try {
      await holder.query("BEGIN")
      await holder.query("LOCK TABLE posts IN SHARE MODE")

      const run = inkwell(["import", "-", "--batch-size", "2"], env)
      run.child.stdin!.write(record(1) + record(2))
      const waiting = async () => {
        const result = await adminQuery(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE 'insert%'`,
          database.url
        )
        return result.rows[0].n > 0
      }
      await until("the import's batch to wait on the lock", waiting)

      // The first signal starts the graceful stop, which waits for the locked batch (for ever,
      // here); the second must end the process by itself.
      run.child.kill("SIGINT")
      // Signals of one kind sent back to back may be merged into one: send the second once the
      // first was taken.
      await run.waitFor("SIGINT received, stopping")
      run.child.kill("SIGINT")
      assert.strictEqual(await run.exit, 130, run.stderr())
      assert.notMatch(run.stdout(), /Import (interrupted|completed)/, "exited at once, without the graceful summary")
    } finally {
      await holder.query("ROLLBACK").catch(() => undefined)
      await holder.end()
    }

    // The connection that held the open batch transaction is gone: nothing of it was committed.
    const rows = await adminQuery("SELECT slug FROM posts ORDER BY slug", database.url)
    assert.deepStrictEqual(rows.rows.map((r) => r.slug), ["post-0"])
    const tags = await adminQuery("SELECT count(*)::int AS n FROM post_tags", database.url)
    assert.strictEqual(tags.rows[0].n, 1, "post-0's tag only")
  }, 120_000)
})
