/**
 * `inkwell export` as a user runs it (bin/inkwell.js, child processes, SQLite files in temp
 * directories): records only on standard output, what it says on stderr; an export imported
 * into a fresh database gives the same rows (creation times included), and again into either
 * changes nothing; bad usage and outputs that cannot be written are one `inkwell:` line and leave
 * nothing behind; a stop mid-export to standard output ends it with a whole record; a stop while
 * the file is renamed into place says it was exported.
 */
import { spawn, spawnSync } from "node:child_process"
import { chmodSync, existsSync, lchownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import Sqlite from "better-sqlite3"
import { ConfigProvider, Console, Deferred, Effect, Exit, Fiber } from "effect"
import * as Cli from "../../src/Cli/Cli.js"
import * as Migrations from "../../src/Database/Migrations.js"
import * as SqlLive from "../../src/Database/SqlLive.js"
import { exportInProcess, inkwell, type Run } from "../fixtures/cli.js"
import { writeEveryKindOfPost } from "../fixtures/everyKindOfPost.js"

const dirs: Array<string> = []
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), "inkwell-export-cli-"))
  dirs.push(dir)
  return dir
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

const finished = async (run: Run) => ({ code: await run.exit, stdout: run.stdout(), stderr: run.stderr() })

/** A blog of every kind of post: dated with aliases and metadata, a draft, a scheduled one, an undated one. */
const blog = () => {
  const dir = temp()
  const posts = join(dir, "posts")
  mkdirSync(posts)
  writeEveryKindOfPost(posts)
  return { dir, posts }
}

/** Every column an import sets or derives, and when each post was created (so its listing time), by slug. */
const rows = (file: string) => {
  const db = new Sqlite(file, { readonly: true, fileMustExist: true })
  try {
    return db.prepare(
      `SELECT slug, source, title, body, tags, status, authors, summary, published_at, updated_at_source, aliases, metadata,
         html, excerpt, word_count, reading_time_minutes, toc, content_hash, created_at, sort_at FROM posts ORDER BY slug`
    ).all()
  } finally {
    db.close()
  }
}

const counts = (stdout: string) =>
  Object.fromEntries(["imported", "updated", "unchanged", "failed"].map((name) => [name, Number(stdout.match(new RegExp(`^  ${name}\\s*(\\d+)`, "m"))?.[1])]))

describe("inkwell export", () => {
  it("to a file or to standard output; imported into a fresh database, the same posts; imported again, every post unchanged", async () => {
    const { dir, posts } = blog()
    const a = join(dir, "a.db")
    const b = join(dir, "b.db")
    const seeded = await finished(inkwell(["import", posts], { DATABASE_URL: `sqlite:${a}` }))
    assert.strictEqual(seeded.code, 0, seeded.stderr)

    const file = join(dir, "backup.ndjson")
    const toFile = await finished(inkwell(["export", "--output", file], { DATABASE_URL: `sqlite:${a}` }))
    assert.strictEqual(toFile.code, 0, toFile.stderr)
    assert.strictEqual(toFile.stdout, "")
    assert.include(toFile.stderr, `inkwell: exported 4 posts to ${file}\n`)
    const records = readFileSync(file, "utf8")
    assert.strictEqual(records.split("\n").length, 5)

    const toStdout = await finished(inkwell(["export"], { DATABASE_URL: `sqlite:${a}` }))
    assert.strictEqual(toStdout.code, 0, toStdout.stderr)
    assert.strictEqual(toStdout.stdout, records, "standard output holds the records and nothing else")
    assert.include(toStdout.stderr, "inkwell: exported 4 posts to standard output")

    const into = await finished(inkwell(["import", file], { DATABASE_URL: `sqlite:${b}` }))
    assert.strictEqual(into.code, 0, into.stderr)
    assert.deepInclude(counts(into.stdout), { imported: 4, failed: 0 })
    assert.deepStrictEqual(rows(b), rows(a))

    for (const db of [a, b]) {
      const again = await finished(inkwell(["import", file], { DATABASE_URL: `sqlite:${db}` }))
      assert.deepStrictEqual(counts(again.stdout), { imported: 0, updated: 0, unchanged: 4, failed: 0 }, again.stdout)
    }
    // The markdown the posts came from finds them unchanged in the new database too.
    const originals = await finished(inkwell(["import", posts], { DATABASE_URL: `sqlite:${b}` }))
    assert.deepInclude(counts(originals.stdout), { unchanged: 4, updated: 0 })

    const filtered = await finished(inkwell(["export", "--status", "draft", "--tag", "rust"], { DATABASE_URL: `sqlite:${b}` }))
    assert.strictEqual(filtered.code, 0, filtered.stderr)
    assert.deepStrictEqual(filtered.stdout.trimEnd().split("\n").map((line) => JSON.parse(line).slug), ["a-draft"])
    assert.include(filtered.stderr, `inkwell: exporting draft posts tagged "rust" to standard output`)
  }, 180_000)

  it("a bad value, an argument, an output that cannot be written, a missing database: one inkwell: line, non-zero, nothing left behind", async () => {
    const { dir, posts } = blog()
    const db = join(dir, "blog.db")
    assert.strictEqual((await finished(inkwell(["import", posts], { DATABASE_URL: `sqlite:${db}` }))).code, 0)
    mkdirSync(join(dir, "taken.ndjson"))
    const before = readdirSync(dir).sort()
    const missingDb = join(dir, "missing", "blog.db")
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string, number, string]> = [
      [["export", "--status", "nope"], db, 2, `inkwell: --status: "nope" is not accepted (expected one of the following cases: all, published, draft)`],
      [["export", "--output", join(dir, "gone", "x.ndjson")], db, 2, `inkwell: cannot write to ${join(dir, "gone", "x.ndjson")}: directory ${join(dir, "gone")} does not exist`],
      [["export", "--output", join(dir, "taken.ndjson")], db, 2, `inkwell: cannot write to ${join(dir, "taken.ndjson")}: it is a directory, not a file`],
      [["export", "--output", join(dir, "backup.json")], db, 2, `inkwell: --output "${join(dir, "backup.json")}": name the file .ndjson or .jsonl (inkwell import reads those as records)`],
      [["export", "backup.ndjson"], db, 2, `inkwell: export takes no arguments (got "backup.ndjson")`],
      [["export", "--output", join(dir, "x.ndjson")], missingDb, 1, `inkwell: database unavailable: no database at ${missingDb} (set DATABASE_URL to the blog's)`],
      // The output is checked before the database is looked at: its failure wins.
      [["export", "--output", join(dir, "gone", "x.ndjson")], missingDb, 2, `inkwell: cannot write to ${join(dir, "gone", "x.ndjson")}: directory ${join(dir, "gone")} does not exist`]
    ]
    const runs = cases.map(([args, database]) => finished(inkwell(args, { DATABASE_URL: `sqlite:${database}` })))
    for (const [i, run] of (await Promise.all(runs)).entries()) {
      const [args, , code, line] = cases[i]!
      assert.strictEqual(run.code, code, `${args.join(" ")}: ${run.stderr}`)
      assert.strictEqual(run.stdout, "", args.join(" "))
      assert.strictEqual(run.stderr, `${line}\n`, args.join(" "))
    }
    assert.deepStrictEqual(readdirSync(dir).sort(), before, "no file, no temporary file, no database created")
  }, 180_000)

  // SIGHUP: the terminal closed, or an ssh connection dropped (was: Node's default, death on the spot).
  for (const [signal, code] of [["SIGINT", 130], ["SIGHUP", 129]] as const) {
    it(`${signal} mid-export to standard output: exit ${code}, and the output ends with a whole record`, async () => {
      const dir = temp()
      const db = `sqlite:${join(dir, "many.db")}`
      const text = "Words enough to fill a pipe quickly. ".repeat(100)
      const seed = inkwell(["import", "-"], { DATABASE_URL: db })
      seed.child.stdin!.end(
        Array.from({ length: 600 }, (_, n) => `${JSON.stringify({ title: `Post ${n}`, slug: `post-${n}`, body: text })}\n`).join("")
      )
      assert.strictEqual(await seed.exit, 0, seed.stderr())

      const run = inkwell(["export"], { DATABASE_URL: db })
      // Read the first chunk, then nothing: the pipe fills and the export waits on its write.
      await new Promise<void>((resolve) => run.child.stdout!.once("data", () => resolve()))
      run.child.stdout!.pause()
      run.child.kill(signal)
      await run.waitFor(`${signal} received`)
      run.child.stdout!.resume()
      assert.strictEqual(await run.exit, code, run.stderr())
      const lines = run.stdout().split("\n")
      assert.strictEqual(lines.pop(), "", "the last record is whole, newline included")
      assert.isBelow(lines.length, 600)
      for (const line of lines) assert.strictEqual(JSON.parse(line).body, text)
      assert.include(run.stderr(), `inkwell: export interrupted after ${lines.length} posts`)
    }, 180_000)
  }
})

describe("inkwell export into a sticky directory anyone may write to", () => {
  // Another user's link is made by lchown, which only root may do.
  it.live.skipIf(process.geteuid?.() !== 0)("another user's symbolic link there: exit 2, one line naming it, the file it leads to left as it was (was: overwritten, exit 0)", () =>
    Effect.gen(function*() {
      const dir = temp()
      const sticky = join(dir, "sticky")
      mkdirSync(sticky)
      chmodSync(sticky, 0o1777)
      const victim = join(dir, "victim.conf")
      writeFileSync(victim, "secret\n")
      const planted = join(sticky, "backup.ndjson")
      symlinkSync(victim, planted)
      lchownSync(planted, 65534, 65534)
      // The output is refused before the database is looked at: none is needed.
      const exit = yield* Effect.flip(exportInProcess(`sqlite:${join(dir, "blog.db")}`, planted))
      assert.deepStrictEqual(exit, new Cli.CliExit({
        code: 2,
        reason: `cannot write to ${planted}: ${planted} is another user's symbolic link (uid 65534) in ${sticky}, a sticky directory anyone may write to: not followed (as fs.protected_symlinks has it)`
      }))
      assert.strictEqual(readFileSync(victim, "utf8"), "secret\n")
    }))
})

/**
 * Another user than the test's runs the CLI (setpriv, as `nobody`): the only way here to be
 * refused a write to a file, as root is refused nothing. Skipped where that cannot be done.
 */
const canRunAsNobody = process.geteuid?.() === 0 && spawnSync("setpriv", ["--version"]).status === 0

/** bin/inkwell.js run by `through` (`setpriv ...`, `unshare ...`: a command that runs the rest), or as it is. */
const inkwellThrough = (through: ReadonlyArray<string>, args: ReadonlyArray<string>, env: Record<string, string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const command = [...through, process.execPath, join(import.meta.dirname, "..", "..", "bin", "inkwell.js"), ...args]
    const child = spawn(command[0]!, command.slice(1), { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

const NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
const asNobody = (args: ReadonlyArray<string>, env: Record<string, string>) => inkwellThrough(NOBODY, args, env)

describe("a SQLite database this user may read but not write", () => {
  it.skipIf(!canRunAsNobody)(
    "export and reprocess --dry-run read it, opened read-only; import, which writes, is refused naming the file; with no -wal and -shm there and a directory it cannot write, a reader reads a copy (was: export refused it, 'no write permission')",
    async () => {
      const { dir, posts } = blog()
      // Root's, as a server's database would be its user's: others may read it (0644 in 0755), not write it.
      chmodSync(dir, 0o755)
      const file = join(dir, "blog.db")
      const env = { DATABASE_URL: `sqlite:${file}` }
      const seeded = await finished(inkwell(["import", posts], env))
      assert.strictEqual(seeded.code, 0, seeded.stderr)

      // The server running: its -wal and -shm are there (SQLite makes them readable as the database is).
      const server = new Sqlite(file)
      try {
        server.prepare("SELECT count(*) FROM posts").get()
        assert.isTrue(existsSync(`${file}-wal`) && existsSync(`${file}-shm`))
        const exported = await asNobody(["export"], env)
        assert.strictEqual(exported.code, 0, exported.stderr)
        assert.strictEqual(exported.stdout.trimEnd().split("\n").length, 4)
        assert.include(exported.stderr, "inkwell: exported 4 posts to standard output")
        const dryRun = await asNobody(["reprocess", "--dry-run"], env)
        assert.strictEqual(dryRun.code, 0, dryRun.stderr)
        assert.include(dryRun.stdout, "unchanged 4, failed 0")
        const imported = await asNobody(["import", posts], env)
        assert.strictEqual(imported.code, 1, imported.stderr)
        assert.include(imported.stderr, `inkwell: database unavailable: cannot open the SQLite database ${file}: no write permission on ${file}\n`)
      } finally {
        server.close()
      }

      // Stopped: SQLite removed them, and a reader may not make them here: it reads a copy.
      assert.isFalse(existsSync(`${file}-shm`))
      const stopped = await asNobody(["export"], env)
      assert.strictEqual(stopped.code, 0, stopped.stderr)
      assert.strictEqual(stopped.stdout.trimEnd().split("\n").length, 4)
      assert.include(stopped.stderr, `no write permission on the directory ${dir}, where SQLite creates the -wal and -shm files a reader needs`)
    },
    180_000
  )
})

/**
 * A directory that cannot hold SQLite's -wal and -shm files: one this user may not write (as
 * `nobody` where the tests run as root, whom no permission stops), or a read-only mount (bound in
 * a mount namespace of the CLI's own, `unshare`, where that can be done: root's).
 */
describe("a SQLite database in a directory that cannot hold its -wal and -shm files (a backup kept read-only)", () => {
  const root = process.geteuid?.() === 0
  const unwritable = root ? NOBODY : []
  const canMountReadOnly = root && spawnSync("unshare", ["--mount", "true"]).status === 0

  /** A copy directory the stderr of a run names (`made in ...`). */
  const copyNamed = (stderr: string) => /made in ([^\s:]+):/.exec(stderr)?.[1]

  it.skipIf(root && !canRunAsNobody)(
    "export and reprocess --dry-run read every post from a copy, say so, and leave no copy and no -wal or -shm behind (was: refused, naming the directory)",
    async () => {
      const { dir, posts } = blog()
      chmodSync(dir, 0o755)
      const file = join(dir, "blog.db")
      const env = { DATABASE_URL: `sqlite:${file}` }
      assert.strictEqual((await finished(inkwell(["import", posts], env))).code, 0)
      const expected = await finished(inkwell(["export"], env))
      assert.strictEqual(expected.code, 0, expected.stderr)
      assert.deepStrictEqual(readdirSync(dir).filter((name) => name.startsWith("blog.db")), ["blog.db"], "closed: no -wal, no -shm")
      chmodSync(dir, 0o555)
      try {
        const exported = await inkwellThrough(unwritable, ["export"], env)
        assert.strictEqual(exported.code, 0, exported.stderr)
        assert.strictEqual(exported.stdout, expected.stdout, "every post, as the database has it")
        assert.include(exported.stderr, `reading a copy of the SQLite database ${file}, made in `)
        assert.include(exported.stderr, `: no write permission on the directory ${dir}, where SQLite creates the -wal and -shm files a reader needs`)
        const copy = copyNamed(exported.stderr)
        assert.isDefined(copy, exported.stderr)
        assert.isFalse(existsSync(copy!), "the copy removed")
        const dryRun = await inkwellThrough(unwritable, ["reprocess", "--dry-run"], env)
        assert.strictEqual(dryRun.code, 0, dryRun.stderr)
        assert.include(dryRun.stdout, "unchanged 4, failed 0")
        assert.deepStrictEqual(readdirSync(dir).filter((name) => name.startsWith("blog.db")), ["blog.db"])
      } finally {
        chmodSync(dir, 0o755)
      }
    },
    180_000
  )

  it.skipIf(!canMountReadOnly)(
    "a read-only mount (EROFS, which stops root too), its -wal holding a commit the file has not: read from a copy of both, that commit included (was: 'unable to open database file')",
    async () => {
      const { dir, posts } = blog()
      const file = join(dir, "blog.db")
      const env = { DATABASE_URL: `sqlite:${file}` }
      assert.strictEqual((await finished(inkwell(["import", posts], env))).code, 0)
      // A backup taken while the server wrote: the file and its -wal (a commit not checkpointed yet), no -shm.
      const backup = join(temp(), "backup")
      mkdirSync(backup)
      const server = new Sqlite(file)
      try {
        server.pragma("wal_autocheckpoint = 0")
        server.prepare("UPDATE posts SET title = 'Only in the -wal' WHERE slug = (SELECT min(slug) FROM posts)").run()
        for (const name of ["blog.db", "blog.db-wal"]) writeFileSync(join(backup, name), readFileSync(join(dir, name)))
      } finally {
        server.close()
      }
      const mounted = ["unshare", "--mount", "sh", "-c", `mount --bind -o ro "$0" "$0" && exec "$@"`, backup]
      const exported = await inkwellThrough(mounted, ["export"], { DATABASE_URL: `sqlite:${join(backup, "blog.db")}` })
      assert.strictEqual(exported.code, 0, exported.stderr)
      const records = exported.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as { readonly title: string })
      assert.strictEqual(records.length, 4)
      assert.include(records.map((record) => record.title), "Only in the -wal")
      assert.include(exported.stderr, `: the directory ${backup} is on a read-only file system, where SQLite creates the -wal and -shm files a reader needs`)
      assert.isFalse(existsSync(copyNamed(exported.stderr) ?? "/"), "the copy removed")
      assert.deepStrictEqual(readdirSync(backup).sort(), ["blog.db", "blog.db-wal"], "nothing written beside it")
    },
    180_000
  )
})

describe("inkwell export never migrates", () => {
  it.live("a database a migration is missing from: exit 1 naming it, and the database left as it was", () =>
    Effect.gen(function*() {
      const dir = temp()
      const file = join(dir, "blog.db")
      yield* Effect.provide(Migrations.run(), SqlLive.layer(`sqlite:${file}`))
      // As a database of an older Inkwell: its newest migration not applied yet.
      const old = new Sqlite(file)
      old.prepare("DELETE FROM inkwell_migrations WHERE name = 'search_unicode'").run()
      old.close()
      const output = join(dir, "backup.ndjson")
      const exit = yield* Effect.flip(exportInProcess(`sqlite:${file}`, output))
      assert.deepInclude(exit, { _tag: "CliExit", code: 1 })
      const reason = (exit as { readonly reason: string }).reason
      assert.include(reason, "not migrated: 0007_search_unicode missing")
      assert.include(reason, "inkwell export never migrates")
      const after = new Sqlite(file, { readonly: true })
      const recorded = after.prepare("SELECT name FROM inkwell_migrations ORDER BY migration_id").all()
      after.close()
      assert.notDeepInclude(recorded, { name: "search_unicode" })
      assert.deepStrictEqual(readdirSync(dir).filter((name) => name.endsWith(".ndjson")), [])
    }))

  it.live("a database that answers but cannot be read is named for what it said, not 'unavailable' or 'never migrated' (was: both, whatever the error)", () =>
    Effect.gen(function*() {
      const dir = temp()
      const reasonFor = (name: string, statements: ReadonlyArray<string>) =>
        Effect.gen(function*() {
          const file = join(dir, name)
          const db = new Sqlite(file)
          for (const statement of statements) db.prepare(statement).run()
          db.close()
          const exit = yield* Effect.flip(exportInProcess(`sqlite:${file}`, join(dir, `${name}.ndjson`)))
          assert.deepInclude(exit, { _tag: "CliExit", code: 1 })
          return (exit as { readonly reason: string }).reason
        })
      // A SQLite database of another application: no bookkeeping table.
      const other = yield* reasonFor("other.db", ["CREATE TABLE notes (id INTEGER)"])
      assert.match(other, /^database unavailable: cannot read inkwell_migrations: .*no such table: inkwell_migrations: not an Inkwell database, or never migrated; inkwell export never migrates/)
      // The table there, its read refused by the database (as permission denied or locked would be).
      const refused = yield* reasonFor("refused.db", ["CREATE VIEW inkwell_migrations AS SELECT abs(-9223372036854775807 - 1) AS migration_id, 'overflow' AS name"])
      assert.match(refused, /^cannot read inkwell_migrations: .*integer overflow$/)
    }))
})

describe("inkwell export stopped while its file takes its place", () => {
  it.live("the file, complete, replaced the old one: said so (was: 'left as it was'), and the stop's interruption stands", () =>
    Effect.gen(function*() {
      const { dir, posts } = blog()
      const db = join(dir, "blog.db")
      const seeded = yield* Effect.promise(() => finished(inkwell(["import", posts], { DATABASE_URL: `sqlite:${db}` })))
      assert.strictEqual(seeded.code, 0, seeded.stderr)
      const output = join(dir, "backup.ndjson")
      writeFileSync(output, "an earlier export\n")
      // The rename held until the stop has come: the stop waits for the commit, as it would for a slow fsync.
      const fs = yield* FileSystem.FileSystem
      const renaming = yield* Deferred.make<void>()
      const proceed = yield* Deferred.make<void>()
      const held: FileSystem.FileSystem = {
        ...fs,
        rename: (from, to) => Effect.zipRight(Effect.zipRight(Deferred.succeed(renaming, undefined), Deferred.await(proceed)), fs.rename(from, to))
      }
      const stderr: Array<string> = []
      const run = yield* Console.consoleWith((console) =>
        Cli.run(["node", "inkwell", "export", "--output", output]).pipe(
          Effect.withConsole({ ...console, error: (...line) => Effect.sync(() => void stderr.push(line.join(" "))) }),
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_URL", `sqlite:${db}`]]))),
          Effect.provideService(FileSystem.FileSystem, held),
          Effect.provide(NodeContext.layer)
        )
      ).pipe(Effect.fork)
      yield* Effect.raceFirst(Deferred.await(renaming), Effect.zipRight(Fiber.await(run), Effect.die(`the export ended: ${stderr.join("\n")}`)))
      yield* Fiber.interruptFork(run)
      yield* Deferred.succeed(proceed, undefined)
      const exit = yield* Fiber.await(run)
      assert.isTrue(Exit.isInterrupted(exit), String(exit))
      assert.strictEqual(readFileSync(output, "utf8").split("\n").length, 5, "the new export, whole, in place")
      assert.include(stderr, `inkwell: exported 4 posts to ${output} (complete: the stop came once it was written)`)
      assert.notInclude(stderr.join("\n"), "left as it was")
      assert.deepStrictEqual(readdirSync(dir).filter((name) => name.endsWith(".tmp")), [])
    }).pipe(Effect.provide(NodeContext.layer)), 180_000)
})
