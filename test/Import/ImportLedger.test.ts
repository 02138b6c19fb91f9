/**
 * The run's ledger: what it answers, and that it lives in a scratch file removed with the run.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Logger } from "effect"
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import * as ImportLedger from "../../src/Import/ImportLedger.js"

const scratchFiles = (directory: string) => readdirSync(directory).filter((name) => name.startsWith("inkwell-import-"))

const withDirectory = <A, E>(f: (directory: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "inkwell-ledger-test-"))),
    f,
    (directory) => Effect.sync(() => rmSync(directory, { recursive: true, force: true }))
  )

/** Runs `body` (an Effect generator's body, with `ImportLedger` and `readdirSync` in scope) in a node process of its own. */
const inChild = (body: string, options: { readonly noFileGrowth?: boolean; readonly fileLimitKb?: number } = {}) => {
  const ledger = pathToFileURL(join(import.meta.dirname, "..", "..", "src", "Import", "ImportLedger.ts")).href
  const script = `
    import { Effect } from "effect"
    import { readdirSync } from "node:fs"
    import * as ImportLedger from ${JSON.stringify(ledger)}
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() { ${body} })))
  `
  const node = [process.execPath, "--import", "tsx", "--input-type=module", "-e", script]
  // A file-size limit of 0 (SIGXFSZ ignored, so a write fails with EFBIG): files can be made,
  // not written to, as on a full disk.
  const limit = options.noFileGrowth === true ? 0 : options.fileLimitKb
  const [command, ...args] = limit !== undefined
    ? ["bash", "-c", `trap '' XFSZ; ulimit -f ${limit}; exec "$@"`, "bash", ...node]
    : node
  return spawnSync(command!, args, { cwd: join(import.meta.dirname, "..", ".."), encoding: "utf8" })
}

describe("ImportLedger", () => {
  it.effect("a slug's first claim is kept; later claims get it back", () =>
    withDirectory((directory) =>
      Effect.scoped(Effect.gen(function*() {
        const ledger = yield* ImportLedger.make(directory)
        assert.isUndefined(ledger.claim("hello", "a.md", "/blog/a.md"))
        assert.deepStrictEqual(ledger.claim("hello", "b.md", "/blog/b.md"), { identity: "a.md", source: "/blog/a.md" })
        assert.deepStrictEqual(ledger.claim("hello", "c.md", "/blog/c.md"), { identity: "a.md", source: "/blog/a.md" })
        assert.isUndefined(ledger.claim("other", "b.md", "/blog/b.md"))
      }))
    ))

  it.effect("a source met by two items is pinned; met twice by one item it is not", () =>
    withDirectory((directory) =>
      Effect.scoped(Effect.gen(function*() {
        const ledger = yield* ImportLedger.make(directory)
        ledger.meetSource("feed#1", "posts.ndjson:1")
        ledger.meetSource("feed#1", "posts.ndjson:1")
        assert.isFalse(ledger.isPinned("feed#1"))
        ledger.meetSource("feed#1", "posts.ndjson:7")
        assert.isTrue(ledger.isPinned("feed#1"))
        assert.isFalse(ledger.isPinned("never-met"))
      }))
    ))

  it.effect("who stored a slug: the last to store it, also for a slug never claimed (a suffixed copy)", () =>
    withDirectory((directory) =>
      Effect.scoped(Effect.gen(function*() {
        const ledger = yield* ImportLedger.make(directory)
        ledger.claim("hello", "a.md", "a.md")
        assert.isUndefined(ledger.storedBy("hello"))
        ledger.stored("hello", "a.md")
        assert.strictEqual(ledger.storedBy("hello"), "a.md")
        ledger.stored("hello", "b.md")
        assert.strictEqual(ledger.storedBy("hello"), "b.md")
        ledger.stored("hello-2", "c.md")
        assert.strictEqual(ledger.storedBy("hello-2"), "c.md")
        // A stored slug that was never claimed is not a claim by its storer's source.
        assert.deepStrictEqual(ledger.claim("hello-2", "d.md", "d.md"), { identity: "c.md", source: "" })
      }))
    ))

  it.effect("lives in a file of its own while the run lasts, removed when its scope closes", () =>
    withDirectory((directory) =>
      Effect.gen(function*() {
        const during = yield* Effect.scoped(Effect.gen(function*() {
          const ledger = yield* ImportLedger.make(directory)
          ledger.transaction(() => {
            for (let i = 0; i < 1000; i++) ledger.claim(`slug-${i}`, `post-${i}.md`, `post-${i}.md`)
          })
          return scratchFiles(directory)
        }))
        assert.strictEqual(during.length, 1)
        assert.deepStrictEqual(scratchFiles(directory), [])
      })
    ))

  it.effect("a process that exits mid-run without closing the run's scope (a second Ctrl-C) takes its file with it", () =>
    withDirectory((directory) =>
      Effect.sync(() => {
        // What bin.ts does on a second signal: process.exit while the import's scope is open.
        const child = inChild(`
          const ledger = yield* ImportLedger.make(${JSON.stringify(directory)})
          ledger.claim("hello", "a.md", "a.md")
          console.log(readdirSync(${JSON.stringify(directory)}).length)
          process.exit(130)
        `)
        assert.strictEqual(child.status, 130, child.stderr)
        assert.strictEqual(child.stdout.trim(), "1", "the file existed while the run was open")
        assert.deepStrictEqual(scratchFiles(directory), [])
      })
    ), 60_000)

  it.effect("a file it can make but not write to (a full disk): kept in memory, and no empty file left behind", () =>
    withDirectory((directory) =>
      Effect.sync(() => {
        const child = inChild(`
          const ledger = yield* ImportLedger.make(${JSON.stringify(directory)})
          ledger.claim("hello", "a.md", "a.md")
          console.log(JSON.stringify(ledger.claim("hello", "b.md", "a.md")))
        `, { noFileGrowth: true })
        assert.strictEqual(child.status, 0, child.stderr)
        assert.include(child.stdout, "keeping the run's slugs in memory")
        assert.include(child.stdout, `{"identity":"a.md","source":"a.md"}`)
        assert.deepStrictEqual(scratchFiles(directory), [])
      })
    ), 60_000)

  it.effect("a file that stops growing mid-run (TMPDIR full): the ledger moves into memory with all it held and goes on", () =>
    withDirectory((directory) =>
      Effect.sync(() => {
        // 20,000 slugs in transactions of 100 (as a run's chunks), with stores and shared
        // sources between them, against a file limit of 256 KB: the file fills up part way.
        const child = inChild(`
          const ledger = yield* ImportLedger.make(${JSON.stringify(directory)})
          const files = () => readdirSync(${JSON.stringify(directory)}).length
          let wrong = 0, fileSeen = 0
          for (let chunk = 0; chunk < 200; chunk++) {
            ledger.transaction(() => {
              for (let i = chunk * 100; i < chunk * 100 + 100; i++) {
                if (ledger.claim("slug-" + i, "line:" + i, "src-" + i) !== undefined) wrong++
                ledger.meetSource("shared-" + (i % 50), "line:" + i)
              }
            })
            ledger.transaction(() => ledger.stored("slug-" + chunk * 100, "line:" + chunk * 100, "src-" + chunk * 100))
            fileSeen = Math.max(fileSeen, files())
          }
          for (let i = 0; i < 20000; i++) {
            const claim = ledger.claim("slug-" + i, "other", "other")
            if (claim?.identity !== "line:" + i || claim.source !== "src-" + i) wrong++
          }
          for (let chunk = 0; chunk < 200; chunk++) if (ledger.storedBy("slug-" + chunk * 100) !== "line:" + chunk * 100) wrong++
          console.log(JSON.stringify({ wrong, pinned: ledger.isPinned("shared-7"), fileSeen, filesAtEnd: files() }))
        `, { fileLimitKb: 256 })
        assert.strictEqual(child.status, 0, child.stderr)
        assert.include(child.stdout, "cannot grow")
        assert.include(child.stdout, "keeping the run's slugs in memory from here on")
        const result = JSON.parse(child.stdout.trim().split("\n").at(-1)!)
        assert.deepStrictEqual(result, { wrong: 0, pinned: true, fileSeen: 1, filesAtEnd: 0 })
        assert.deepStrictEqual(scratchFiles(directory), [])
      })
    ), 60_000)

  it.effect("a directory it cannot write to: kept in memory, with a warning naming the directory", () =>
    Effect.gen(function*() {
      const missing = join(tmpdir(), "inkwell-ledger-test-no-such-dir", "deeper")
      const logs: Array<string> = []
      const logger = Logger.make(({ message }) => logs.push(String(message)))
      yield* Effect.scoped(Effect.gen(function*() {
        const ledger = yield* ImportLedger.make(missing)
        assert.isUndefined(ledger.claim("hello", "a.md", "a.md"))
        assert.strictEqual(ledger.claim("hello", "b.md", "b.md")?.identity, "a.md")
      })).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      assert.isFalse(existsSync(missing))
      assert.strictEqual(logs.length, 1)
      assert.include(logs[0], missing)
      assert.include(logs[0], "in memory")
    }))

  it.effect("a process killed outright (SIGKILL, the OOM killer) leaves its file: the next run there removes it once it has lain an hour, and no one else's", () =>
    withDirectory((directory) =>
      Effect.gen(function*() {
        const child = inChild(`
          yield* ImportLedger.make(${JSON.stringify(directory)})
          process.kill(process.pid, "SIGKILL")
        `)
        assert.strictEqual(child.signal, "SIGKILL", child.stderr)
        const [killed] = scratchFiles(directory)
        assert.isDefined(killed)
        const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000)
        // Beside it: a dead process's file from minutes ago (perhaps a live one's in another PID
        // namespace), a running process's (this one's parent), and a file of another name.
        const recent = `inkwell-import-${child.pid}-${"0".repeat(8)}-0000-0000-0000-${"0".repeat(12)}.sqlite`
        const running = `inkwell-import-${process.ppid}-${"1".repeat(8)}-1111-1111-1111-${"1".repeat(12)}.sqlite`
        for (const name of [recent, running, "inkwell-import-notes.txt"]) writeFileSync(join(directory, name), "")
        for (const name of [killed!, running, "inkwell-import-notes.txt"]) utimesSync(join(directory, name), hoursAgo(2), hoursAgo(2))
        yield* Effect.scoped(Effect.gen(function*() {
          yield* ImportLedger.make(directory)
          assert.sameMembers(scratchFiles(directory).filter((name) => name.endsWith(".sqlite") && !name.startsWith(`inkwell-import-${process.pid}-`)), [recent, running])
        }))
        assert.sameMembers(scratchFiles(directory), [recent, running, "inkwell-import-notes.txt"])
      })
    ), 60_000)
})
