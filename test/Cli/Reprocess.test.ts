/**
 * `inkwell reprocess` as a user runs it (bin/inkwell.js, a child process, an SQLite file in a
 * temp directory written by the repository as an earlier version would have): the summary line
 * on stdout, each post left as it was named on stderr, exit 1 while one is; `--dry-run` writes
 * nothing; bad usage is exit 2 and a missing database is not created.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import Sqlite from "better-sqlite3"
import { Effect, Layer } from "effect"
import { makeNewPost, PostInput } from "../../src/Domain/Post.js"
import { PostProcessor } from "../../src/Processing/PostProcessor.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { inkwell, type Run } from "../fixtures/cli.js"
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
    const none = await finished(inkwell(["reprocess"], env))
    assert.strictEqual(none.code, 1)
    assert.strictEqual(none.stderr, `inkwell: database unavailable: no database at ${missing} (set DATABASE_URL to the blog's)\n`)
    assert.isFalse(existsSync(missing))
  }, 180_000)
})
