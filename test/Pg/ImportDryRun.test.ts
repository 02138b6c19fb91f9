/**
 * `inkwell import --dry-run` on PostgreSQL: a database that is not migrated yet is not touched
 * (no table created), and a migrated one is checked (each batch upserted, then rolled back); one
 * that takes no writes is refused, as the import is. Each test works in a schema or a database of
 * its own.
 */
import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import { inkwell } from "../fixtures/cli.js"
import { adminQuery, createDatabase, describePg, freshSchema } from "../fixtures/pg.js"

const record = (n: number, extra: Record<string, unknown> = {}) =>
  `${JSON.stringify({ title: `Post ${n}`, slug: `post-${n}`, body: `Body ${n}`, ...extra })}\n`

const run = (args: ReadonlyArray<string>, url: string, stdin: string) =>
  Effect.promise(async () => {
    const child = inkwell(args, { DATABASE_URL: url })
    child.child.stdin!.end(stdin)
    const code = await child.exit
    return { code, stdout: child.stdout(), stderr: child.stderr() }
  })

const query = (sql: string) => Effect.promise(() => adminQuery(sql)).pipe(Effect.map((r) => r.rows))

describePg("inkwell import --dry-run on PostgreSQL", () => {
  it.live("creates nothing in a database not migrated yet; on a migrated one reports the real run's outcomes and writes nothing", () =>
    Effect.scoped(Effect.gen(function*() {
      const { schema, url } = yield* freshSchema
      const tables = query(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema}' ORDER BY table_name`)

      const empty = yield* run(["import", "-", "--dry-run"], url, record(1))
      assert.strictEqual(empty.code, 0, empty.stderr)
      assert.include(empty.stderr, "the database is not migrated yet")
      assert.match(empty.stdout, /valid\s+1/)
      assert.deepStrictEqual(yield* tables, [], "the dry run created no table")

      const first = yield* run(["import", "-"], url, record(1, { source: "elsewhere" }) + record(2))
      assert.strictEqual(first.code, 0, first.stderr)
      const rows = query(`SELECT slug, source, version, content_hash FROM ${schema}.posts ORDER BY slug`)
      const before = yield* rows

      const input = record(1) + record(2) + record(3)
      const dry = yield* run(["import", "-", "--dry-run"], url, input)
      assert.strictEqual(dry.code, 0, dry.stderr)
      assert.match(dry.stdout, /imported\s+1\n/)
      assert.match(dry.stdout, /unchanged\s+1\n/)
      assert.match(dry.stdout, /failed\s+1\n/)
      assert.include(dry.stdout, `stdin:1: slug "post-1" belongs to a post from another source, "elsewhere" (--on-conflict fail)`)
      assert.deepStrictEqual(yield* rows, before, "nothing written")

      const real = yield* run(["import", "-"], url, input)
      assert.strictEqual(real.code, 0, real.stderr)
      const counts = (stdout: string) => stdout.split("\n").filter((l) => /^ {2}(imported|updated|unchanged|skipped|failed)/.test(l))
      assert.deepStrictEqual(counts(real.stdout), counts(dry.stdout))
      assert.strictEqual((yield* rows).length, 3)
    })), 120_000)

  it.live("a database that takes no writes (read-only: a standby, a demoted primary) is one line and exit 1, as the import's refusal (was: every post failed, 'cannot execute INSERT in a read-only transaction', exit 0)", () =>
    Effect.gen(function*() {
      const own = yield* Effect.acquireRelease(Effect.promise(() => createDatabase()), (db) => Effect.promise(() => db.drop()))
      const empty = yield* Effect.acquireRelease(Effect.promise(() => createDatabase()), (db) => Effect.promise(() => db.drop()))
      const first = yield* run(["import", "-"], own.url, record(1))
      assert.strictEqual(first.code, 0, first.stderr)
      for (const db of [own, empty]) {
        yield* Effect.promise(() => adminQuery(`ALTER DATABASE ${db.name} SET default_transaction_read_only = on`))
      }

      const input = record(1, { body: "Changed" }) + record(2) + record(3)
      const refused = "inkwell: database unavailable: the database takes no writes (read-only: a standby or a demoted primary); the import would fail before writing any post\n"
      // Migrated, and not yet (the import would migrate it first): refused alike.
      for (const db of [own, empty]) {
        const dry = yield* run(["import", "-", "--dry-run"], db.url, input)
        assert.deepStrictEqual([dry.code, dry.stdout], [1, ""], db.name)
        assert.match(dry.stderr, /^inkwell: importing - \([^\n]*, dry run\)\n/, db.name)
        assert.strictEqual(dry.stderr.replace(/^[^\n]*\n/, ""), refused, db.name)
        const real = yield* run(["import", "-"], db.url, input)
        assert.strictEqual(real.code, 1, db.name)
        assert.include(real.stderr, "read-only transaction", db.name)
      }
    }).pipe(Effect.scoped), 120_000)
})
