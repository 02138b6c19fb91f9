/**
 * What the commands write, and where: help without colour codes off a terminal (and under
 * NO_COLOR), `--dry-run`'s help saying what the summary counts, as the README does, LOG_LEVEL and
 * LOG_FORMAT read and checked for `import`, `export` and `reprocess` as for `serve`, and a reader
 * that goes away before `--help` is written ending it quietly, and standard output that cannot be
 * written (a full disk) ending a run that would have succeeded with one line and exit 1.
 */
import { spawn } from "node:child_process"
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeContext } from "@effect/platform-node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Console, Effect, Either } from "effect"
import * as Cli from "../../src/Cli/Cli.js"
import { DRY_RUN_COUNTS } from "../../src/Cli/ImportCommand.js"
import { formatSummary, ImportTally } from "../../src/Import/ImportSummary.js"
import { inkwell as inkwellProcess } from "../fixtures/cli.js"

const root = join(import.meta.dirname, "..", "..")
const dirs: Array<string> = []
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), "inkwell-output-"))
  dirs.push(dir)
  return dir
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

/** A temp directory with `posts/hello.md` in it, one post to import. */
const onePost = () => {
  const dir = temp()
  const posts = join(dir, "posts")
  mkdirSync(posts)
  writeFileSync(join(posts, "hello.md"), "---\ntitle: Hello\n---\n\nText.\n")
  return { dir, posts }
}

// eslint-disable-next-line no-control-regex
const ESCAPE = /\u001b\[/

/** `inkwell ...args` in this process under `env`: what it wrote (log lines included), and how it ended. */
const inkwell = (env: Record<string, string>, ...args: Array<string>) =>
  Effect.gen(function*() {
    const stdout: Array<string> = []
    const stderr: Array<string> = []
    const result = yield* Console.consoleWith((console) =>
      Cli.run(["node", "inkwell", ...args]).pipe(
        Effect.withConsole({
          ...console,
          log: (...line) => Effect.sync(() => void stdout.push(line.join(" "))),
          error: (...line) => Effect.sync(() => void stderr.push(line.join(" "))),
          // What the loggers write to (Logger.withConsoleError).
          unsafe: { ...console.unsafe, error: (...line: ReadonlyArray<unknown>) => void stderr.push(line.join(" ")) }
        }),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
        Effect.provide(NodeContext.layer),
        Effect.either
      )
    )
    return { result, stdout: stdout.join("\n"), stderr: stderr.join("\n") }
  })

/** Runs `f` as if `stream` (standard output unless said) were a terminal (or not), as it was afterwards. */
const withTerminal = <A, E, R>(tty: boolean, effect: Effect.Effect<A, E, R>, stream: NodeJS.WriteStream = process.stdout) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const was = stream.isTTY
      stream.isTTY = tty
      return was
    }),
    () => effect,
    (was) => Effect.sync(() => void (stream.isTTY = was))
  )

describe("inkwell's output", () => {
  it.effect("help is in colour on a terminal only, and never under NO_COLOR", () =>
    Effect.gen(function*() {
      const help = (tty: boolean, env: Record<string, string>) =>
        withTerminal(tty, inkwell(env, "import", "--help")).pipe(Effect.map(({ stdout }) => stdout))
      assert.match(yield* help(true, {}), ESCAPE, "on a terminal, @effect/cli's colours")
      for (const [tty, env] of [[false, {}], [true, { NO_COLOR: "1" }], [false, { NO_COLOR: "1" }]] as const) {
        const text = yield* help(tty, env)
        assert.include(text, "--dry-run", `tty ${tty}, ${JSON.stringify(env)}`)
        assert.notMatch(text, ESCAPE, `tty ${tty}, ${JSON.stringify(env)}`)
      }
      // NO_COLOR set to nothing is not set (no-color.org).
      assert.match(yield* help(true, { NO_COLOR: "" }), ESCAPE)
    }))

  it.effect("--dry-run's help names what the summary counts, as the README does", () =>
    Effect.gen(function*() {
      const { stdout } = yield* inkwell({}, "import", "--help")
      assert.include(stdout.replace(/\s+/g, " "), `say what the import would do (${DRY_RUN_COUNTS}), checked against the database as it is`)
      const readme = readFileSync(join(root, "README.md"), "utf8")
      assert.include(readme, `npx inkwell import ./posts --dry-run               # say what the import would do (${DRY_RUN_COUNTS}), write nothing`)
      const tally = new ImportTally(0, { dryRun: true, databaseChecked: true })
      tally.stored("inserted", 1)
      tally.stored("unchanged", 1)
      tally.stored("updated", 1)
      tally.moved("a.md", "old", "new")
      tally.skip("b.md", "a draft", 1)
      tally.fail("c.md", "no title", 1)
      const summary = formatSummary(tally.summary("completed", 1000))
      for (const count of DRY_RUN_COUNTS.split(", ")) assert.include(summary, count, `the summary shows ${count}`)
    }))

  it.effect("a bad LOG_LEVEL or LOG_FORMAT stops import, export and reprocess as it stops serve: exit 1 naming it, no database opened", () =>
    Effect.gen(function*() {
      const dir = temp()
      const env = { DATABASE_URL: `sqlite:${join(dir, "data", "blog.db")}` }
      for (const args of [["import", dir], ["export"], ["reprocess"]]) {
        for (const [name, value] of [["LOG_LEVEL", "loud"], ["LOG_FORMAT", "xml"]]) {
          const { result } = yield* inkwell({ ...env, [name]: value }, ...args)
          const label = `${args[0]} ${name}=${value}`
          if (Either.isRight(result)) return assert.fail(`${label}: ran`)
          assert(result.left._tag === "CliExit", `${label}: ${result.left._tag}`)
          assert.strictEqual(result.left.code, 1, label)
          assert.match(result.left.reason, new RegExp(`^invalid configuration: .*${name}`), label)
        }
      }
      assert.deepStrictEqual(readdirSync(dir), [], "no database opened")
      // `--help` still answers.
      const { result } = yield* inkwell({ ...env, LOG_LEVEL: "loud" }, "import", "--help")
      assert.isTrue(Either.isRight(result))
    }))

  it.effect("import logs at LOG_LEVEL (or --log-level) in LOG_FORMAT, on standard error; errors only when neither asks", () =>
    Effect.gen(function*() {
      const { dir, posts } = onePost()
      const env = { DATABASE_URL: `sqlite:${join(dir, "blog.db")}` }
      const debugLines = (stderr: string) => stderr.split("\n").filter((line) => line.includes("batch of 1 written"))

      const json = yield* inkwell({ ...env, LOG_LEVEL: "debug", LOG_FORMAT: "json" }, "import", posts)
      assert.isTrue(Either.isRight(json.result), json.stderr)
      const [line] = debugLines(json.stderr)
      assert.isDefined(line, json.stderr)
      assert.strictEqual(JSON.parse(line!).logLevel, "DEBUG")
      assert.notInclude(json.stdout, "batch of 1 written", "log lines on standard error, not with the summary")

      const flag = yield* inkwell(env, "import", posts, "--log-level", "debug")
      assert.match(debugLines(flag.stderr)[0] ?? "", /^timestamp=.* level=DEBUG .*message="batch of 1 written"/, flag.stderr)

      // --log-level wins over LOG_LEVEL.
      const quiet = yield* inkwell({ ...env, LOG_LEVEL: "debug" }, "import", posts, "--log-level", "error")
      assert.deepStrictEqual(debugLines(quiet.stderr), [])
      const plain = yield* inkwell(env, "import", posts)
      assert.deepStrictEqual(debugLines(plain.stderr), [])
    }))

  it.effect("pretty log lines are in colour when standard error is a terminal, never under NO_COLOR", () =>
    Effect.gen(function*() {
      const { dir, posts } = onePost()
      const env = { DATABASE_URL: `sqlite:${join(dir, "blog.db")}`, LOG_FORMAT: "pretty", LOG_LEVEL: "debug" }
      const logged = (tty: boolean, extra: Record<string, string>) =>
        withTerminal(tty, inkwell({ ...env, ...extra }, "import", posts), process.stderr).pipe(
          Effect.map(({ stderr }) => stderr.split("\n").filter((line) => line.includes("batch of 1 written")).join("\n"))
        )
      // Effect chose by standard output, which is not a terminal here.
      assert.match(yield* logged(true, {}), ESCAPE)
      assert.notMatch(yield* logged(true, { NO_COLOR: "1" }), ESCAPE)
      const plain = yield* logged(false, {})
      assert.include(plain, "batch of 1 written")
      assert.notMatch(plain, ESCAPE)
    }))

  it.live("a reader of standard error that goes away (`2>&1 | head -1`) loses the lines, not the run: the summary, exit 0", () =>
    Effect.gen(function*() {
      const { dir, posts } = onePost()
      const ended = yield* Effect.async<{ code: number | null; stdout: string }>((resume) => {
        const child = spawn(process.execPath, ["--import", "tsx", "src/bin.ts", "import", posts, "--log-level", "debug"], {
          cwd: root,
          env: { ...process.env, DATABASE_URL: `sqlite:${join(dir, "blog.db")}` },
          stdio: ["ignore", "pipe", "pipe"]
        })
        child.stderr.destroy()
        let stdout = ""
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
        child.on("close", (code) => resume(Effect.succeed({ code, stdout })))
      }).pipe(Effect.timeout("60 seconds"))
      assert.include(ended.stdout, "imported", ended.stdout)
      assert.strictEqual(ended.code, 0)
    }), 120_000)

  it.live("--help to a reader that is gone (`| head -3` after npm's three lines) ends quietly, exit 0, for npm start and inkwell", () =>
    Effect.gen(function*() {
      for (const entry of ["src/main.ts", "src/bin.ts"]) {
        const ended = yield* Effect.async<{ code: number | null; stderr: string }>((resume) => {
          const child = spawn(process.execPath, ["--import", "tsx", entry, "--help"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
          // Closed before the child has started: its write meets no reader (EPIPE).
          child.stdout.destroy()
          let stderr = ""
          child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
          child.on("close", (code) => resume(Effect.succeed({ code, stderr })))
        }).pipe(Effect.timeout("60 seconds"))
        assert.strictEqual(ended.stderr, "", entry)
        assert.strictEqual(ended.code, 0, entry)
      }
    }), 120_000)

  // /dev/full refuses every write with ENOSPC, as a full disk does (Linux).
  it.live.skipIf(!existsSync("/dev/full"))(
    "standard output on a full disk (`> /dev/full`): one line naming it, exit 1, no stack trace, for export, import, reprocess and --help, and the server's --help (was: an uncaught exception's stack trace; import's and reprocess's summary lost with exit 0 before that)",
    () =>
      Effect.gen(function*() {
        const { dir, posts } = onePost()
        const env = { DATABASE_URL: `sqlite:${join(dir, "blog.db")}` }
        const seeded = inkwellProcess(["import", posts], env)
        assert.strictEqual(yield* Effect.promise(() => seeded.exit), 0, seeded.stderr())
        const full = yield* Effect.acquireRelease(Effect.sync(() => openSync("/dev/full", "w")), (fd) => Effect.sync(() => closeSync(fd)))
        const runs = [["export"], ["import", posts], ["reprocess"], ["--help"]].map((args) => {
          const run = inkwellProcess(args, env, { stdout: full })
          return Effect.promise(() => run.exit.then((code) => ({ args: args.join(" "), code, stderr: run.stderr() })))
        })
        // The server's entrypoint as `npm start` runs it.
        const server = Effect.async<{ args: string; code: number | null; stderr: string }>((resume) => {
          const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "--help"], { cwd: root, stdio: ["ignore", full, "pipe"] })
          let stderr = ""
          child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
          child.on("close", (code) => resume(Effect.succeed({ args: "npm start -- --help", code, stderr })))
        })
        for (const { args, code, stderr } of yield* Effect.all([...runs, server], { concurrency: "unbounded" })) {
          assert.strictEqual(code, 1, `${args}: ${stderr}`)
          assert.include(stderr, "inkwell: writing standard output failed: ENOSPC: no space left on device, write\n", args)
          assert.strictEqual(stderr.split("\n").filter((line) => line.includes("standard output failed")).length, 1, `${args}: said once`)
          assert.notMatch(stderr, /^\s+at |node:events|Unhandled/m, `${args}: no stack trace`)
        }
      }).pipe(Effect.scoped),
    120_000
  )
})
