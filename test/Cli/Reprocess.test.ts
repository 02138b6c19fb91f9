/**
 * `inkwell reprocess` as a user runs it (bin/inkwell.js, a child process, an SQLite file in a
 * temp directory written by the repository as an earlier version would have): the summary line
 * on stdout, each post left as it was named on stderr, exit 1 while one is; `--dry-run` writes
 * nothing; bad usage is exit 2 and a missing database is not created; a stop (a signal, or the
 * death of bin/inkwell.js) ends it after the post in flight, however many posts are left. A
 * database that cannot be used is said alone, with no tally of a run that never began; one with
 * no Inkwell tables (SQLite, and PostgreSQL when the server is there) as that, and left without
 * any (a run migrates only a database at an older migration).
 */
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import Sqlite from "better-sqlite3"
import { Effect, Layer } from "effect"
import * as Migrations from "../../src/Database/Migrations.js"
import * as SqlLive from "../../src/Database/SqlLive.js"
import { makeNewPost, PostInput } from "../../src/Domain/Post.js"
import { PostProcessor } from "../../src/Processing/PostProcessor.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { inkwell, type Run } from "../fixtures/cli.js"
import { adminQuery, createDatabase, describePg } from "../fixtures/pg.js"
import { ProcessorTest, sqliteStack } from "../Import/harness.js"

const dirs: Array<string> = []
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), "inkwell-reprocess-cli-"))
  dirs.push(dir)
  return dir
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

const finished = async (run: Run) => ({ code: await run.exit, stdout: run.stdout(), stderr: run.stderr() })

/** A post with an older rendering, one as rendered now, and one processing now refuses (tag ".."). */
const seed = (file: string) =>
  Effect.gen(function*() {
    const repository = yield* PostRepository
    const processor = yield* PostProcessor
    const post = (title: string, body: string) => processor.fromInput(new PostInput({ title, body }), "api")
    yield* repository.create(makeNewPost({ ...(yield* post("Stale", "## Heading\n\nText.")), html: "<p>old</p>", toc: [] }))
    yield* repository.create(yield* post("Current", "Text."))
    yield* repository.create(makeNewPost({ ...(yield* post("Broken", "Text.")), tags: [".."] }))
  }).pipe(Effect.provide(Layer.merge(sqliteStack(`sqlite:${file}`), ProcessorTest)), Effect.runPromise)

const rows = (file: string) => {
  const db = new Sqlite(file, { readonly: true, fileMustExist: true })
  try {
    return db.prepare("SELECT slug, version, html, toc, updated_at FROM posts ORDER BY slug").all() as Array<
      { slug: string; version: number; html: string; toc: string; updated_at: unknown }
    >
  } finally {
    db.close()
  }
}

describe("inkwell reprocess", () => {
  it("--dry-run counts and writes nothing; then writes the stale post only; the broken one is named and left; exit 1 while it is", async () => {
    const dir = temp()
    const file = join(dir, "blog.db")
    await seed(file)
    const before = rows(file)
    const env = { DATABASE_URL: `sqlite:${file}` }

    const dry = await finished(inkwell(["reprocess", "--dry-run"], env))
    assert.strictEqual(dry.code, 1, dry.stderr)
    assert.strictEqual(dry.stdout, "reprocessed 1, unchanged 1, failed 1 (dry run: nothing written)\n")
    assert.match(dry.stderr, /^inkwell: broken: tags: .*\(left as it was\)$/m)
    assert.deepStrictEqual(rows(file), before)

    const real = await finished(inkwell(["reprocess"], env))
    assert.strictEqual(real.code, 1, real.stderr)
    assert.strictEqual(real.stdout, "reprocessed 1, unchanged 1, failed 1\n")
    assert.include(real.stderr, "inkwell: 1 post(s) could not be reprocessed, and were left as they were\n")
    const after = rows(file)
    const [broken, current, stale] = after
    assert.deepStrictEqual([broken, current], before.slice(0, 2), "the broken and the current post untouched")
    assert.strictEqual(stale!.version, 2)
    assert.include(stale!.html, `<h2 id="heading">`)
    assert.include(stale!.toc, `"id":"heading"`)
  }, 180_000)

  it("bad usage is exit 2; a missing database is exit 1 and not created", async () => {
    const dir = temp()
    const missing = join(dir, "none.db")
    const env = { DATABASE_URL: `sqlite:${missing}` }
    const argument = await finished(inkwell(["reprocess", "posts"], env))
    assert.strictEqual(argument.code, 2)
    assert.strictEqual(argument.stderr, `inkwell: reprocess takes no arguments (got "posts")\n`)
    const typo = await finished(inkwell(["reprocess", "--dryrun"], env))
    assert.strictEqual(typo.code, 2)
    assert.strictEqual(typo.stderr, "inkwell: unknown option --dryrun (did you mean --dry-run?)\n")
    const deadline = await finished(inkwell(["reprocess", "--item-timeout", "0s"], env))
    assert.strictEqual(deadline.code, 2)
    assert.strictEqual(deadline.stderr, `inkwell: --item-timeout: "0s" is not a duration greater than zero (e.g. 500ms, 30s, 2m, "10 seconds")\n`)
    const help = await finished(inkwell(["reprocess", "--help"], env))
    assert.strictEqual(help.code, 0)
    assert.include(help.stdout.replace(/\u001b\[[0-9;]*m/g, "").replace(/\s+/g, " "), "(default IMPORT_ITEM_TIMEOUT or 30s)")
    const none = await finished(inkwell(["reprocess"], env))
    assert.strictEqual(none.code, 1)
    assert.strictEqual(none.stderr, `inkwell: database unavailable: no database at ${missing} (set DATABASE_URL to the blog's)\n`)
    assert.isFalse(existsSync(missing))
  }, 180_000)

  it("a stop mid-run (SIGINT, SIGTERM, SIGHUP, bin/inkwell.js killed, the terminal closed) ends it after the post in flight: 'reprocess interrupted', 128 + the signal (was: every post first)", async () => {
    const file = join(temp(), "many.db")
    const env = { DATABASE_URL: `sqlite:${file}` }
    const total = 2000
    const seed = inkwell(["import", "-"], env)
    seed.child.stdin!.end(
      Array.from({ length: total }, (_, n) => `${JSON.stringify({ title: `Post ${n}`, slug: `post-${n}`, body: `Words of post ${n}.` })}\n`)
        .join("") +
        // Met first (the newest): the run names it as it fails, which tells the test the run is under way.
        `${JSON.stringify({ title: "First", slug: "first", body: "Text.", publishedAt: "2999-01-01T00:00:00Z" })}\n`
    )
    assert.strictEqual(await seed.exit, 0, seed.stderr())
    const sql = (statement: string) => {
      const db = new Sqlite(file, { fileMustExist: true })
      try {
        return db.prepare(statement).run()
      } finally {
        db.close()
      }
    }
    sql(`UPDATE posts SET tags = '[".."]' WHERE slug = 'first'`)
    const stale = () => {
      const db = new Sqlite(file, { readonly: true, fileMustExist: true })
      try {
        return db.prepare("SELECT count(*) FROM posts WHERE excerpt LIKE '% (stale)' AND slug <> 'first'").pluck().get() as number
      } finally {
        db.close()
      }
    }
    const cliOf = (pid: number) => {
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/)
      const cli = children.filter((child) => readFileSync(`/proc/${child}/cmdline`, "utf8").split("\0").includes("reprocess"))
      assert.strictEqual(cli.length, 1, `children of ${pid}: ${children.join(" ")}`)
      return Number(cli[0])
    }
    const stops = [
      ["SIGINT to bin/inkwell.js", 130, (run: Run) => run.child.kill("SIGINT")],
      ["SIGTERM to the CLI", 143, (run: Run) => process.kill(cliOf(run.child.pid!), "SIGTERM")],
      ["SIGHUP to both (a terminal closed)", 129, (run: Run) => {
        process.kill(cliOf(run.child.pid!), "SIGHUP")
        run.child.kill("SIGHUP")
      }],
      ["kill -9 of bin/inkwell.js", null, (run: Run) => run.child.kill("SIGKILL")]
    ] as const
    for (const [label, code, stop] of stops) {
      // Every post's stored output differs from what processing makes of it now.
      sql(`UPDATE posts SET excerpt = excerpt || ' (stale)'`)
      const run = inkwell(["reprocess"], env)
      await run.waitFor("inkwell: first: tags:")
      stop(run)
      // For kill -9: the CLI writes to the wrapper's standard output and error, closed once it has exited.
      const exit = await run.exit
      if (code !== null) assert.strictEqual(exit, code, `${label}: ${run.stderr()}`)
      const done = /inkwell: reprocess interrupted: reprocessed (\d+), unchanged 0, failed 1\n/.exec(run.stderr())
      assert.isNotNull(done, `${label}: ${run.stderr()}`)
      assert.strictEqual(run.stdout(), "", label)
      const left = stale()
      assert.isAbove(left, 0, `${label}: stopped before the last post`)
      assert.strictEqual(Number(done![1]), total - left, `${label}: the posts it says it wrote, each written whole`)
    }

    // A terminal that closes (a window closed, an ssh connection dropped): `script` gives the run
    // one of its own, and killing script hangs it up; then SIGHUP to the job, as the shell of the
    // closed terminal sends it. From the hangup on, writes to the terminal fail (EIO: an uncaught
    // exception, exit 1), and Node's own exit aborts restoring the terminal's settings (SIGABRT).
    sql(`UPDATE posts SET excerpt = excerpt || ' (stale)'`)
    const rc = join(temp(), "rc")
    const terminal = spawn("script", ["-qfec", `trap '' HUP; ${JSON.stringify(process.execPath)} bin/inkwell.js reprocess; echo $? > ${rc}`, "/dev/null"], {
      cwd: join(import.meta.dirname, "..", ".."),
      env: { ...process.env, ...env, SHELL: "/bin/sh" },
      stdio: ["pipe", "pipe", "ignore"]
    })
    let shown = ""
    await new Promise<void>((resolve, reject) => {
      terminal.stdout!.on("data", (chunk) => {
        shown += chunk
        if (shown.includes("inkwell: first: tags:")) resolve()
      })
      terminal.on("exit", () => reject(new Error(`script exited first: ${shown}`)))
    })
    // The shell script runs (`sh -c`): the leader of the terminal's session and of the job's process group.
    const shell = Number(readFileSync(`/proc/${terminal.pid}/task/${terminal.pid}/children`, "utf8").trim().split(/\s+/)[0])
    terminal.kill("SIGKILL")
    await new Promise((resolve) => terminal.once("close", resolve))
    process.kill(-shell, "SIGHUP")
    while (!existsSync(rc) || readFileSync(rc, "utf8") === "") await new Promise((resolve) => setTimeout(resolve, 50))
    assert.strictEqual(readFileSync(rc, "utf8"), "129\n", "ended by SIGHUP, as a shell reports it")
    assert.isAbove(stale(), 0, "stopped before the last post")
  }, 300_000)
})

/** Said when a dry run finds no Inkwell tables (an empty database, or another application's). */
const NO_TABLES = "inkwell: nothing to reprocess: the database holds no Inkwell tables (not the blog's database, or never migrated; a dry run never migrates)\n"

/** Said when a run finds no Inkwell tables: it creates none. */
const NO_TABLES_TO_MIGRATE =
  "inkwell: nothing to reprocess: the database holds no Inkwell tables (not the blog's database, or never migrated: the server and inkwell import create them, reprocess does not)\n"

/** The tables of an SQLite file. */
const sqliteTables = (file: string) => {
  const db = new Sqlite(file, { readonly: true, fileMustExist: true })
  try {
    return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as Array<string>
  } finally {
    db.close()
  }
}

describe("inkwell reprocess that cannot start", () => {
  it("says why alone: no tally of a run that never began (was 'reprocessed 0, unchanged 0, failed 0' after the error); a dry run on an empty SQLite file says it holds no Inkwell tables (was 'database migrations failed')", async () => {
    const empty = join(temp(), "empty.db")
    new Sqlite(empty).close()
    const dry = await finished(inkwell(["reprocess", "--dry-run"], { DATABASE_URL: `sqlite:${empty}` }))
    assert.deepStrictEqual(dry, { code: 1, stdout: "", stderr: `inkwell: reprocessing every post (dry run)\n${NO_TABLES}` })

    // Not a dry run either: Inkwell's tables were made in it, and "reprocessed 0" said (exit 0).
    const real = await finished(inkwell(["reprocess"], { DATABASE_URL: `sqlite:${empty}` }))
    assert.deepStrictEqual(real, { code: 1, stdout: "", stderr: `inkwell: reprocessing every post\n${NO_TABLES_TO_MIGRATE}` })
    assert.deepStrictEqual(sqliteTables(empty), [], "no table created")

    // Nothing listens on port 1. sslmode=require: node-postgres printed its SECURITY WARNING first.
    const unreachable = await finished(inkwell(["reprocess"], { DATABASE_URL: "postgres://u:s3cret-pw@127.0.0.1:1/db?sslmode=require" }))
    assert.deepStrictEqual(unreachable, {
      code: 1,
      stdout: "",
      stderr: "inkwell: reprocessing every post\n" +
        "inkwell: database unavailable: cannot connect to the PostgreSQL database postgres://u:***@127.0.0.1:1/db?sslmode=require (connect ECONNREFUSED 127.0.0.1:1)\n"
    })

    // PGSSLMODE, as libpq reads it, named where the URL as written does not say it.
    const withEnvironment = await finished(inkwell(["reprocess"], { DATABASE_URL: "postgres://u:s3cret-pw@127.0.0.1:1/db", PGSSLMODE: "require" }))
    assert.strictEqual(
      withEnvironment.stderr,
      "inkwell: reprocessing every post\n" +
        "inkwell: database unavailable: cannot connect to the PostgreSQL database postgres://u:***@127.0.0.1:1/db with PGSSLMODE=require (connect ECONNREFUSED 127.0.0.1:1)\n"
    )

    // Refused before anything is opened.
    for (
      const [url, said, environment] of [
        ["postgres://u:s3cret-pw@127.0.0.1:abc/db", `DATABASE_URL port must be a number from 1 to 65535 (got "abc")`, {}],
        ["postgres://u:s3cret-pw@127.0.0.1/db?sslmode=bogus", `DATABASE_URL sslmode must be disable, prefer, require, verify-ca, verify-full or no-verify (got "bogus")`, {}],
        // Was: no TLS at all, silently (node-postgres's reading of a value it does not know).
        ["postgres://u:s3cret-pw@127.0.0.1/db", `PGSSLMODE must be disable, prefer, require, verify-ca, verify-full or no-verify (got "verify_full")`, { PGSSLMODE: "verify_full" }]
      ] as const
    ) {
      const refused = await finished(inkwell(["reprocess", "--dry-run"], { DATABASE_URL: url, ...environment }))
      assert.strictEqual(refused.code, 1, url)
      assert.strictEqual(refused.stdout, "", url)
      assert.match(refused.stderr, new RegExp(`^inkwell: invalid configuration: ${said.replace(/[()]/g, "\\$&")}[^\n]*\n$`), url)
    }
  }, 180_000)
})

describe("inkwell reprocess on a database at an older migration", () => {
  it("migrates it first, as the server would, and reprocesses", async () => {
    const file = join(temp(), "older.db")
    const { "0010_nfc_old_addresses": _, "0011_search_own_words": _own, "0012_search_symbols_apart": _apart, ...upTo9 } = Migrations.migrations
    await Migrations.run(upTo9).pipe(Effect.provide(SqlLive.layer(`sqlite:${file}`)), Effect.scoped, Effect.runPromise)
    const real = await finished(inkwell(["reprocess"], { DATABASE_URL: `sqlite:${file}` }))
    assert.deepStrictEqual(real, { code: 0, stdout: "reprocessed 0, unchanged 0, failed 0\n", stderr: "inkwell: reprocessing every post\n" })
    const db = new Sqlite(file, { readonly: true })
    try {
      assert.strictEqual(db.prepare("SELECT max(migration_id) FROM inkwell_migrations").pluck().get(), 12)
    } finally {
      db.close()
    }
  }, 180_000)
})

describePg("inkwell reprocess on PostgreSQL", () => {
  it("an empty database: it holds no Inkwell tables, nothing to reprocess (was 'database migrations failed: cannot read inkwell_migrations', and a tally); without --dry-run too, and none is created (were: made, and 'reprocessed 0')", async () => {
    const db = await createDatabase()
    try {
      const dry = await finished(inkwell(["reprocess", "--dry-run"], { DATABASE_URL: db.url }))
      assert.deepStrictEqual(dry, { code: 1, stdout: "", stderr: `inkwell: reprocessing every post (dry run)\n${NO_TABLES}` })
      const real = await finished(inkwell(["reprocess"], { DATABASE_URL: db.url }))
      assert.deepStrictEqual(real, { code: 1, stdout: "", stderr: `inkwell: reprocessing every post\n${NO_TABLES_TO_MIGRATE}` })
      const tables = await adminQuery("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'", db.url)
      assert.deepStrictEqual(tables.rows, [], "no table created")
    } finally {
      await db.drop()
    }
  }, 180_000)
})
