/**
 * The CLI as a user runs it: child processes through bin/inkwell.js (the bundled CLI), on SQLite files in
 * temp directories. Exit codes 0/1/2/129/130/143, the summary on stdout, the JSON report, and real
 * signals sent mid-import (after the import announced itself, never after a fixed sleep).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { connect, type Socket } from "node:net"
import { join } from "node:path"
import { Readable } from "node:stream"
import { afterAll, assert, describe, it } from "@effect/vitest"
import Sqlite from "better-sqlite3"
import { inkwell } from "../fixtures/cli.js"

const dirs: Array<string> = []
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), "inkwell-cli-"))
  dirs.push(dir)
  return dir
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

const post = (title: string) => `+++\ntitle = "${title}"\ndate = 2024-03-04\n+++\n\n# ${title}\n\nText.\n`
const record = (n: number) => `${JSON.stringify({ title: `Post ${n}`, slug: `post-${n}`, body: `Body ${n}` })}\n`

/** The CLI process that bin/inkwell.js (`pid`) runs: its child running `command` (not the bundler's). */
const childOf = (pid: number, command = "import"): number => {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter((p) => p !== "")
  const cli = children.filter((child) => readFileSync(`/proc/${child}/cmdline`, "utf8").split("\0").includes(command))
  assert.strictEqual(cli.length, 1, `children of ${pid}: ${children.join(" ")}`)
  return Number(cli[0])
}

const postsDir = () => {
  const dir = temp()
  writeFileSync(join(dir, "one.md"), post("One"))
  writeFileSync(join(dir, "two.md"), post("Two"))
  writeFileSync(join(dir, "bad.md"), "+++\ntitle = \n+++\n")
  return dir
}

describe("inkwell CLI", () => {
  it("--help exits 0; bad usage exits 2", async () => {
    const help = inkwell(["import", "--help"])
    assert.strictEqual(await help.exit, 0)
    assert.include(help.stdout(), "--fail-on-error")
    const missing = inkwell(["import"])
    assert.strictEqual(await missing.exit, 2)
    const badDuration = inkwell(["import", "x", "--timeout", "soon"])
    assert.strictEqual(await badDuration.exit, 2)
    assert.include(badDuration.stderr() + badDuration.stdout(), "is not a duration")
    // Unbounded, this one exhausted the heap before reading a file.
    const huge = inkwell(["import", "x", "--concurrency", "100000"])
    assert.strictEqual(await huge.exit, 2)
    assert.include(huge.stderr() + huge.stdout(), "--concurrency must be between 1 and 1024 (got 100000)")
    const zero = inkwell(["import", "x", "--item-timeout", "0s"])
    assert.strictEqual(await zero.exit, 2)
    assert.include(zero.stderr() + zero.stdout(), `--item-timeout: "0s" is not a duration greater than zero`)
  }, 180_000)

  it("--wizard without a terminal on standard input is bad usage (was: it waited for answers forever)", async () => {
    for (const args of [["--wizard"], ["import", "--wizard"]]) {
      const wizard = inkwell(args)
      wizard.child.stdin!.end()
      assert.strictEqual(await wizard.exit, 2, args.join(" "))
      assert.include(wizard.stderr(), "--wizard asks its questions in a terminal, and standard input is not one")
    }
    // After `--`, a path that only looks like the option.
    const path = inkwell(["import", "--dry-run", "--", "--wizard"])
    path.child.stdin!.end()
    assert.strictEqual(await path.exit, 0)
    assert.notInclude(path.stderr(), "--wizard asks")
  }, 60_000)

  it("import --help names the IMPORT_* variable behind each default it states", async () => {
    // A user with IMPORT_ON_CONFLICT=suffix was told "(default fail)".
    const help = inkwell(["import", "--help"])
    assert.strictEqual(await help.exit, 0)
    const text = help.stdout().replace(/\u001b\[[0-9;]*m/g, "").replace(/\s+/g, " ")
    assert.include(text, "(default IMPORT_CONCURRENCY or 8)")
    assert.include(text, "(default IMPORT_ITEM_TIMEOUT or 30s)")
    assert.include(text, "(default IMPORT_TIMEOUT, or no limit)")
    assert.include(text, "(default IMPORT_ON_CONFLICT or fail)")
  }, 60_000)

  it("a bad option value is one line starting inkwell:, naming the option and the value, exit 2, nothing on stdout", async () => {
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, ReadonlyArray<string>]> = [
      [["import", "--concurrency", "abc", "x"], ["--concurrency", "abc"]],
      [["import", "x", "--buffer=1.5"], ["--buffer", "1.5"]],
      [["import", "x", "--on-conflict", "nope"], ["--on-conflict", "nope", "fail, skip, suffix"]],
      [["import", "x", "--batch-size", "-3"], ["--batch-size", "-3"]],
      [["import", "x", "--item-timeout", "soon"], ["--item-timeout", "soon"]],
      [["imprt", "x"], ["imprt", "did you mean import?"]],
      [["--log-level", "loud", "import", "x"], ["--log-level", "loud"]],
      [["--log-level", "import", "x"], ["--log-level needs a value"]]
    ]
    const runs = cases.map(([args]) => inkwell(args))
    for (const [i, run] of runs.entries()) {
      const [args, named] = cases[i]!
      const label = args.join(" ")
      assert.strictEqual(await run.exit, 2, label)
      assert.strictEqual(run.stdout(), "", label)
      const lines = run.stderr().trimEnd().split("\n")
      assert.strictEqual(lines.length, 1, `${label}: ${run.stderr()}`)
      assert.match(lines[0]!, /^inkwell: /, label)
      assert.notMatch(lines[0]!, /\u001b/, `${label}: no terminal escapes`)
      for (const text of named) assert.include(lines[0], text, label)
    }
  }, 180_000)

  it("an option given twice is refused, and --from-url=URL repeats like --from-url URL: neither is ever taken for a path", async () => {
    const file = join(temp(), "twice.db")
    const twice = inkwell(["import", postsDir(), "--concurrency", "2", "--concurrency", "3"], { DATABASE_URL: `sqlite:${file}` })
    assert.strictEqual(await twice.exit, 2)
    assert.strictEqual(twice.stderr().trimEnd(), "inkwell: --concurrency is given more than once")
    assert.isFalse(existsSync(file), "no database opened")
    // A flag too (was: exit 0, the second --dry-run "no such file"; reprocess: @effect/cli's "Received unknown argument").
    for (const args of [["import", "--dry-run", "--dry-run", postsDir()], ["reprocess", "--dry-run", "--dry-run"]]) {
      const flag = inkwell(args, { DATABASE_URL: `sqlite:${file}` })
      assert.strictEqual(await flag.exit, 2, args.join(" "))
      assert.strictEqual(flag.stderr().trimEnd(), "inkwell: --dry-run is given more than once", args.join(" "))
      assert.strictEqual(flag.stdout(), "")
    }
    assert.isFalse(existsSync(file), "no database opened")

    // Well-formed URLs where nothing listens (a malformed one is refused before the run): each is one failure in the summary.
    const urls = inkwell(["import", "--from-url=http://127.0.0.1:1/a", "--from-url=http://127.0.0.1:1/b", "--dry-run"], {
      DATABASE_URL: `sqlite:${file}`,
      FEED_RETRIES: "0"
    })
    assert.strictEqual(await urls.exit, 0)
    assert.include(urls.stdout(), "Dry run completed")
    assert.include(urls.stdout(), "http://127.0.0.1:1/a: Transport error")
    assert.include(urls.stdout(), "http://127.0.0.1:1/b: Transport error")
    assert.notInclude(urls.stdout(), "no such file", "no option was read as a path")
  }, 180_000)

  it("an unknown or misspelt option, or one missing its value, exits 2 before anything is written", async () => {
    const dir = postsDir()
    const file = join(temp(), "typo.db")
    const typo = inkwell(["import", dir, "--dryrun"], { DATABASE_URL: `sqlite:${file}` })
    assert.strictEqual(await typo.exit, 2)
    assert.include(typo.stderr(), "inkwell: unknown option --dryrun (did you mean --dry-run?)")
    assert.notInclude(typo.stdout(), "Import completed")
    assert.isFalse(existsSync(file), "no database opened")
    const missing = inkwell(["import", dir, "--concurrency"], { DATABASE_URL: `sqlite:${file}` })
    assert.strictEqual(await missing.exit, 2)
    assert.include(missing.stderr(), "inkwell: --concurrency needs a value")
  }, 180_000)

  it("imports, prints the summary, writes the report; --fail-on-error turns failures into exit 1", async () => {
    const dir = postsDir()
    const db = `sqlite:${join(temp(), "cli.db")}`
    const report = join(temp(), "report.json")
    const first = inkwell(["import", dir, "--report", report, "--batch-size", "2"], { DATABASE_URL: db })
    assert.strictEqual(await first.exit, 0, first.stderr())
    assert.match(first.stdout(), /Import completed/)
    assert.match(first.stdout(), /imported\s+2\n/)
    assert.match(first.stdout(), /failed\s+1\n/)
    const json = JSON.parse(readFileSync(report, "utf8"))
    assert.strictEqual(json.failures.length, 1)
    assert.strictEqual(json.failures[0].source, `${dir}/bad.md:2`)

    const again = inkwell(["import", dir, "--fail-on-error"], { DATABASE_URL: db })
    assert.strictEqual(await again.exit, 1)
    assert.match(again.stdout(), /unchanged\s+2\n/)
  }, 180_000)

  it("@effect/cli's --log-level after one of ours is read as the option, not as paths (was: --log-level, its value and all after it failed as files)", async () => {
    const dir = postsDir()
    const db = `sqlite:${join(temp(), "cli.db")}`
    const report = join(temp(), "report.json")
    const run = inkwell(["import", "--batch-size", "2", "--log-level", "warning", "--report", report, dir], { DATABASE_URL: db })
    assert.strictEqual(await run.exit, 0, run.stderr())
    assert.match(run.stdout(), /imported\s+2\n/)
    assert.match(run.stdout(), /failed\s+1\n/)
    assert.deepStrictEqual(JSON.parse(readFileSync(report, "utf8")).failures.map((f: { source: string }) => f.source), [`${dir}/bad.md:2`])
    // A flag of @effect/cli's after ours: help, and nothing imported (was: an import of `--help` and the paths).
    const helpDb = join(temp(), "help.db")
    const help = inkwell(["import", dir, "--batch-size", "5", "--help"], { DATABASE_URL: `sqlite:${helpDb}` })
    assert.strictEqual(await help.exit, 0, help.stderr())
    assert.include(help.stdout(), "--fail-on-error")
    assert.isFalse(existsSync(helpDb))
  }, 180_000)

  it("a post dated in the future is counted as scheduled, in the summary and the report, by a dry run too", async () => {
    const dir = temp()
    writeFileSync(join(dir, "now.md"), post("Now"))
    writeFileSync(join(dir, "later.md"), post("Later").replace("date = 2024-03-04", "date = 2999-01-01"))
    const db = `sqlite:${join(temp(), "scheduled.db")}`
    const line = /\n {2}scheduled +1 {2}\(of those (valid|imported or updated): published in the future, hidden until their time\)\n/
    const dry = inkwell(["import", dir, "--dry-run"], { DATABASE_URL: db })
    assert.strictEqual(await dry.exit, 0, dry.stderr())
    assert.strictEqual(dry.stdout().match(line)?.[1], "valid", dry.stdout())
    const report = join(temp(), "report.json")
    const real = inkwell(["import", dir, "--report", report], { DATABASE_URL: db })
    assert.strictEqual(await real.exit, 0, real.stderr())
    assert.match(real.stdout(), /imported\s+2\n/)
    assert.strictEqual(real.stdout().match(line)?.[1], "imported or updated", real.stdout())
    assert.strictEqual(JSON.parse(readFileSync(report, "utf8")).scheduled, 1)
  }, 180_000)

  it("--report to a missing directory exits 2 before importing; a report that still cannot be written exits 1 after the summary", async () => {
    const dir = postsDir()
    const file = join(temp(), "report.db")
    const missing = join(temp(), "gone", "report.json")
    const early = inkwell(["import", dir, "--report", missing], { DATABASE_URL: `sqlite:${file}` })
    assert.strictEqual(await early.exit, 2)
    assert.include(early.stderr(), `inkwell: cannot write the report to ${missing}: directory ${join(missing, "..")} does not exist`)
    assert.notInclude(early.stdout(), "Import completed")
    assert.isFalse(existsSync(file), "no database opened")

    // The directory is there when the import starts and gone when it ends.
    const reportDir = join(temp(), "reports")
    mkdirSync(reportDir)
    const late = inkwell(["import", "-", "--report", join(reportDir, "report.json")], { DATABASE_URL: `sqlite:${file}` })
    await late.waitFor("inkwell: importing")
    rmSync(reportDir, { recursive: true })
    late.child.stdin!.end(record(1))
    assert.strictEqual(await late.exit, 1, late.stderr())
    assert.match(late.stdout(), /imported\s+1\n/)
    assert.include(late.stderr(), `inkwell: cannot write the report to ${join(reportDir, "report.json")}: no such file or directory`)
  }, 180_000)

  it("a DATABASE_URL file that is not a database is one 'database unavailable' line naming it, exit 1, for import and serve", async () => {
    const dir = postsDir()
    const notADatabase = join(dir, "one.md")
    for (const args of [["import", dir], ["serve"]]) {
      const run = inkwell(args, { DATABASE_URL: `sqlite:${notADatabase}`, PORT: "0" })
      assert.strictEqual(await run.exit, 1, run.stderr())
      assert.include(run.stderr(), `inkwell: database unavailable: ${notADatabase} is not an SQLite database`)
      assert.notInclude(run.stderr(), "level=ERROR")
      assert.notInclude(run.stderr(), "    at ")
    }
  }, 180_000)

  it("serve with a bad PORT (x, 99999) is one 'invalid configuration' line naming PORT, exit 1, and creates no database", async () => {
    const file = join(temp(), "x.db")
    for (const port of ["x", "99999"]) {
      const run = inkwell(["serve"], { DATABASE_URL: `sqlite:${file}`, PORT: port })
      assert.strictEqual(await run.exit, 1, run.stderr())
      const lines = run.stderr().trimEnd().split("\n")
      assert.strictEqual(lines.length, 1, run.stderr())
      assert.match(lines[0]!, /^inkwell: invalid configuration: .*PORT/)
      assert.isFalse(existsSync(file), `PORT=${port}: the database file was created`)
    }
  }, 180_000)

  it("an import runs with its heap cap also when @effect/cli's options come before the command", async () => {
    const db = `sqlite:${join(temp(), "heap.db")}`
    for (const args of [["import", "-"], ["--log-level", "debug", "import", "-"]]) {
      const run = inkwell(args, { DATABASE_URL: db, NODE_OPTIONS: "" })
      await run.waitFor("inkwell: importing")
      const cmdline = readFileSync(`/proc/${childOf(run.child.pid!)}/cmdline`, "utf8").split("\0")
      assert.include(cmdline, "--max-old-space-size=192", args.join(" "))
      run.child.stdin!.end(record(1))
      assert.strictEqual(await run.exit, 0, run.stderr())
    }
  }, 180_000)

  it("--dry-run validates without writing", async () => {
    const dir = postsDir()
    const db = `sqlite:${join(temp(), "dry.db")}`
    const dry = inkwell(["import", dir, "--dry-run"], { DATABASE_URL: db })
    assert.strictEqual(await dry.exit, 0, dry.stderr())
    assert.match(dry.stdout(), /valid\s+2/)
    const real = inkwell(["import", dir], { DATABASE_URL: db })
    assert.strictEqual(await real.exit, 0)
    assert.match(real.stdout(), /imported\s+2\n/)
  }, 180_000)

  it("--dry-run without a database yet only validates, and creates no file (nor its directory)", async () => {
    const file = join(temp(), "not-yet", "blog.db")
    const dry = inkwell(["import", postsDir(), "--dry-run"], { DATABASE_URL: `sqlite:${file}` })
    assert.strictEqual(await dry.exit, 0, dry.stderr())
    assert.match(dry.stdout(), /valid\s+2 .*no database was read/)
    assert.include(dry.stderr(), `inkwell: dry run: no database at ${file} yet`)
    assert.isFalse(existsSync(file))
    assert.isFalse(existsSync(join(file, "..")))
  }, 180_000)

  it("--dry-run against a database says what the import would do, and leaves the file as it was", async () => {
    const stored = postsDir()
    const file = join(temp(), "blog.db")
    const env = { DATABASE_URL: `sqlite:${file}` }
    const first = inkwell(["import", stored], env)
    assert.strictEqual(await first.exit, 0, first.stderr())
    // "One" from another file: its slug belongs to the post of stored/one.md.
    const other = temp()
    writeFileSync(join(other, "one.md"), post("One"))
    writeFileSync(join(other, "three.md"), post("Three"))
    const rows = () => {
      const db = new Sqlite(file, { readonly: true, fileMustExist: true })
      try {
        return db.prepare("SELECT slug, source, version, content_hash, updated_at FROM posts ORDER BY slug").all()
      } finally {
        db.close()
      }
    }
    const before = rows()
    const bytes = readFileSync(file)
    assert.strictEqual(before.length, 2)
    const counts = (stdout: string) =>
      ["imported", "updated", "unchanged", "skipped", "failed"].map((name) => stdout.match(new RegExp(`^  ${name}\\s*(\\d+)`, "m"))?.[1])

    const dry = inkwell(["import", other, stored, "--dry-run"], env)
    assert.strictEqual(await dry.exit, 0, dry.stderr())
    assert.deepStrictEqual(counts(dry.stdout()), ["1", "0", "2", "0", "2"], dry.stdout())
    assert.include(dry.stdout(), `${join(other, "one.md")}: slug "one" belongs to a post from another source, ${JSON.stringify(join(stored, "one.md"))} (--on-conflict fail)`)
    assert.include(dry.stdout(), "Dry run: nothing was written")
    const suffixed = inkwell(["import", other, "--dry-run", "--on-conflict", "suffix"], env)
    assert.strictEqual(await suffixed.exit, 0, suffixed.stderr())
    assert.match(suffixed.stdout(), /imported\s+2 +\(1 under a suffixed slug\)/)
    assert.deepStrictEqual(rows(), before)
    assert.isTrue(readFileSync(file).equals(bytes), "the database file is byte for byte as it was")

    const real = inkwell(["import", other, stored], env)
    assert.strictEqual(await real.exit, 0, real.stderr())
    assert.deepStrictEqual(counts(real.stdout()), counts(dry.stdout()), real.stdout())
    assert.strictEqual(rows().length, 3)
  }, 180_000)

  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
    it(`${signal} mid-import stops reading, prints the summary, removes its scratch file and exits ${code}`, async () => {
      const db = `sqlite:${join(temp(), "signal.db")}`
      const scratch = temp()
      // Standard input stays open: the import would wait for more records forever.
      const run = inkwell(["import", "-", "--batch-size", "2"], { DATABASE_URL: db, TMPDIR: scratch })
      await run.waitFor("inkwell: importing")
      run.child.stdin!.write(record(1) + record(2) + record(3))
      await run.waitFor("import progress: 3 done")
      assert.strictEqual(readdirSync(scratch).filter((name) => name.startsWith("inkwell-import-")).length, 1, "the run's ledger")
      // A terminal that closes (an ssh connection dropped) hangs up on every process of the job.
      // SIGHUP was Node's default, death on the spot: no summary, the ledger left in TMPDIR.
      if (signal === "SIGHUP") process.kill(childOf(run.child.pid!), signal)
      run.child.kill(signal)
      assert.strictEqual(await run.exit, code, run.stderr())
      assert.match(run.stdout(), /Import interrupted/)
      assert.match(run.stdout(), /imported\s+3\n/)
      assert.match(run.stdout(), /the rest was not written/)
      assert.deepStrictEqual(readdirSync(scratch).filter((name) => name.startsWith("inkwell-import-")), [])
    }, 180_000)
  }

  it("the CLI killed by a signal it cannot catch (SIGKILL: the OOM killer): bin/inkwell.js says so and exits 137 (was: 1, silently)", async () => {
    const run = inkwell(["import", "-"], { DATABASE_URL: `sqlite:${join(temp(), "killed.db")}` })
    await run.waitFor("inkwell: importing")
    process.kill(childOf(run.child.pid!), "SIGKILL")
    assert.strictEqual(await run.exit, 137, run.stderr())
    assert.include(run.stderr(), "inkwell: the command was killed by SIGKILL (out of memory? the kernel's OOM killer sends it)\n")
  }, 180_000)

  it("kill -9 of bin/inkwell.js stops the server it runs as SIGTERM does: it stops, closing the port and the database", async () => {
    const db = `sqlite:${join(temp(), "orphan.db")}`
    const run = inkwell(["serve"], { DATABASE_URL: db, PORT: "0", LOG_FORMAT: "logfmt" })
    const port = await new Promise<number>((resolve, reject) => {
      const listening = () => {
        const found = /Inkwell listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(run.stdout())
        if (found !== null) resolve(Number(found[1]))
      }
      run.child.stdout!.on("data", listening)
      void run.exit.then(() => reject(new Error(`exited before listening:\n${run.stderr()}\n${run.stdout()}`)))
    })
    const cli = childOf(run.child.pid!, "serve")
    run.child.kill("SIGKILL")
    // The CLI writes to the wrapper's standard output and error: they close once it has exited.
    // It used to run on, re-parented to init, holding the port and the database for nobody.
    let timer: NodeJS.Timeout | undefined
    const stopped = await Promise.race([
      run.exit.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(resolve, 30_000, false)))
    ])
    clearTimeout(timer)
    if (!stopped) process.kill(cli, "SIGKILL")
    assert.isTrue(stopped, `the CLI (pid ${cli}) still ran 30 s after bin/inkwell.js was killed`)
    assert.include(run.stderr(), "inkwell: bin/inkwell.js is gone, stopping")
    assert.include(run.stdout(), "Inkwell stopping")
    const refused = await new Promise<string>((resolve) =>
      connect(port, "127.0.0.1").once("connect", function(this: Socket) {
        this.destroy()
        resolve("connected")
      }).once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"))
    )
    assert.strictEqual(refused, "ECONNREFUSED", `port ${port}`)
  }, 180_000)

  it("Ctrl-C (one SIGINT reaching the wrapper and the CLI, as a terminal sends it) counts once: summary, exit 130", async () => {
    const db = `sqlite:${join(temp(), "ctrl-c.db")}`
    const run = inkwell(["import", "-", "--batch-size", "5000"], { DATABASE_URL: db })
    await run.waitFor("inkwell: importing")
    // Records for as long as the import reads them (backpressure paces the writing), long enough
    // that a batch of 5000 takes a while to commit: the import is still stopping when the
    // wrapper's copy of the signal arrives.
    const text = "Some words of a paragraph, long enough to give SQLite and the renderer work. ".repeat(40)
    const records = Readable.from((function*() {
      for (let n = 0; n < 1_000_000; n++) yield `${JSON.stringify({ title: `Post ${n}`, slug: `post-${n}`, body: text })}\n`
    })())
    records.pipe(run.child.stdin!)
    run.child.stdin!.on("error", () => {}) // EPIPE once the CLI is gone
    await run.waitFor("import progress:")
    // A terminal's Ctrl-C reaches every process of the foreground group: the CLI gets its copy,
    // and so does the wrapper, which used to forward it as a second signal, on which the CLI
    // exited at once (no summary, the batch in flight rolled back).
    const cli = childOf(run.child.pid!)
    process.kill(cli, "SIGINT")
    await run.waitFor("SIGINT received")
    run.child.kill("SIGINT")
    assert.strictEqual(await run.exit, 130, run.stderr())
    records.destroy()
    assert.match(run.stdout(), /Import interrupted/, run.stderr())
    assert.match(run.stdout(), /imported\s+\d+\n/)
    assert.strictEqual(run.stderr().match(/SIGINT received/g)?.length, 1, run.stderr())
  }, 180_000)

  it("a post too dense to render within the import's heap fails alone, named; the others are stored (was: the import died out of memory, nothing written)", async () => {
    const dir = temp()
    const posts = join(dir, "posts")
    mkdirSync(posts)
    writeFileSync(join(posts, "one.md"), post("One"))
    writeFileSync(join(posts, "two.md"), post("Two"))
    // 40,000 table rows: ~100 MB of heap to render, more than the import's heap (capped at 64 MB
    // here, as bin/inkwell.js caps it at 192) and than its own thread's (32 MB here).
    writeFileSync(join(posts, "dense.md"), `${post("Dense")}\n|a|b|\n|-|-|\n${"|x|y|\n".repeat(40_000)}`)
    const file = join(dir, "dense.db")
    const run = inkwell(["import", posts, "--report", join(dir, "report.json")], {
      DATABASE_URL: `sqlite:${file}`,
      NODE_OPTIONS: "--max-old-space-size=64",
      IMPORT_RENDER_HEAP_MB: "32"
    })
    assert.strictEqual(await run.exit, 0, run.stderr())
    assert.match(run.stdout(), /imported\s+2\n/)
    assert.include(run.stdout(), `${join(posts, "dense.md")}: body: needs more than 32 MB of memory to render (IMPORT_RENDER_HEAP_MB)`)
    const report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as { readonly failed: number }
    assert.strictEqual(report.failed, 1)
    const db = new Sqlite(file, { readonly: true, fileMustExist: true })
    try {
      assert.deepStrictEqual(db.prepare("SELECT slug FROM posts ORDER BY slug").pluck().all(), ["one", "two"])
    } finally {
      db.close()
    }
  }, 180_000)
})
