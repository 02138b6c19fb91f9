/**
 * The pipeline end to end on real SQLite (or the in-memory repository where TestClock drives
 * time): bad inputs reported while the rest lands, idempotent re-runs, interruption leaving
 * whole batches only, per-post and whole-run timeouts, slug policies, NDJSON bodies with
 * backpressure.
 */
import { readdirSync, readlinkSync, realpathSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { isAbsolute, join, relative } from "node:path"
import { FileSystem } from "@effect/platform"
import { SystemError } from "@effect/platform/Error"
import { NodeContext } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Cause, DateTime, Deferred, Duration, Effect, Either, Fiber, Layer, Option, Ref, Stream, TestClock } from "effect"
import { importNdjson } from "../../src/Import/HttpImport.js"
import { defaultImportOptions } from "../../src/Import/ImportConfig.js"
import * as ImportPipeline from "../../src/Import/ImportPipeline.js"
import * as ImportSource from "../../src/Import/ImportSource.js"
import { formatSummary, type ImportSummary, ImportTally } from "../../src/Import/ImportSummary.js"
import { PostInput } from "../../src/Domain/Post.js"
import { BatchNotProcessed, PostProcessor, type PostProcessorShape } from "../../src/Processing/PostProcessor.js"
import { rejected } from "../../src/Processing/records.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { FIXTURE_NOW } from "../fixtures/clock.js"
import { makeManualClock } from "../fixtures/manualClock.js"
import { makeNewPost } from "../fixtures/posts.js"
import { markdownPost, ProcessorTest, sqliteStack, tempDir, writeFiles } from "./harness.js"

const sourceOptions = { chunkSize: 64 * 1024, maxPostBytes: 5 * 1024 * 1024 }
const fast = { concurrency: 4, batchSize: 10, buffer: 8, ...sourceOptions }

const importDir = (dir: string, options: Partial<ImportPipeline.Processed> & Record<string, unknown> = {}) =>
  ImportPipeline.run(ImportSource.fromPaths([dir], { ...sourceOptions, ...options }), { ...fast, ...options })

const rows = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ slug: string; source: string; content_hash: string; version: number }>`
    SELECT slug, source, content_hash, version FROM posts ORDER BY slug`)

const withDb = (url: string) => Layer.mergeAll(sqliteStack(url), ProcessorTest)

const ndjsonBytes = (records: ReadonlyArray<unknown>) =>
  Stream.fromIterable(records).pipe(
    Stream.map((r) => new TextEncoder().encode(`${typeof r === "string" ? r : JSON.stringify(r)}\n`)),
    Stream.rechunk(1)
  )

const record = (n: number, extra: Record<string, unknown> = {}) => ({
  title: `Post ${n}`,
  slug: `post-${n}`,
  body: `Body of post ${n}.\n\n- one\n- two\n`,
  ...extra
})

/** The test processor, except that `…/a.md` waits until another post is processed (so it finishes last). */
const aWaitsForAnother = Effect.gen(function*() {
  const otherDone = yield* Deferred.make<void>()
  const real = yield* Effect.provide(PostProcessor, ProcessorTest)
  return Layer.succeed(PostProcessor, {
    ...real,
    process: (source) =>
      source.source.endsWith("/a.md")
        ? Effect.zipRight(Deferred.await(otherDone), real.process(source))
        : Effect.ensuring(real.process(source), Deferred.succeed(otherDone, undefined))
  })
})

describe("bad input is reported, the rest imported", () => {
  it.scoped("broken front matter, invalid UTF-8, binary, empty, duplicate slugs, a 10 MB post", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, {
        "good-1.md": markdownPost("Good one"),
        "good-2.md": markdownPost("Good two"),
        "nested/good-3/index.md": markdownPost("Good three"),
        "broken-front-matter.md": "+++\ntitle = \"unterminated\ndate = 2024-01-01\n+++\nbody\n",
        "invalid-utf8.md": Buffer.concat([Buffer.from("+++\ntitle = \"x\"\n+++\nabc"), Buffer.from([0xff, 0xfe]), Buffer.from("def")]),
        "binary.md": Buffer.from([0x00, 0x01, 0x02, 0x03, 0x41, 0x00]),
        "empty.md": "",
        "dup-a.md": markdownPost("Same title"),
        "dup-b.md": markdownPost("Same title"),
        "huge.md": markdownPost("Huge", "word ".repeat(2 * 1024 * 1024)),
        "_index.md": "+++\ntitle = \"Section\"\n+++\n"
      })
      const summary = yield* importDir(dir)
      const reasons = Object.fromEntries(summary.failures.map((f) => [f.source.slice(dir.length + 1), f.reason]))
      assert.strictEqual(summary.imported, 4, JSON.stringify(summary.failures))
      assert.strictEqual(summary.failed, 6)
      // Front matter errors name the file line the parser stopped at.
      assert.match(reasons["broken-front-matter.md:2"] ?? Object.keys(reasons).join(), /^frontMatter: /)
      // Named by its line too (was: the byte offset only).
      assert.strictEqual(reasons["invalid-utf8.md:4"], "invalid UTF-8 at byte offset 23")
      assert.match(reasons["binary.md"]!, /binary file/)
      assert.strictEqual(reasons["empty.md"], "empty file")
      assert.match(reasons["huge.md"]!, /too large: \d+ bytes \(limit 5242880\)/)
      const duplicate = summary.failures.find((f) => /duplicate slug "same-title" in this run/.test(f.reason))
      assert.isDefined(duplicate)
      assert.deepStrictEqual(summary.skips.map((s) => s.source), [`${dir}/_index.md`])
      const stored = yield* rows
      assert.deepStrictEqual(stored.map((r) => r.slug), ["good-one", "good-three", "good-two", "same-title"])
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))

  it.scoped("a 10 MB post imports when the size limit allows it", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const paragraph = "Some words in a long post with `code` and a [link](https://example.com).\n\n"
      yield* writeFiles(dir, { "huge.md": markdownPost("Huge", paragraph.repeat(Math.ceil((10 * 1024 * 1024) / paragraph.length))) })
      const summary = yield* importDir(dir, { maxPostBytes: 16 * 1024 * 1024, itemTimeout: Option.none() })
      assert.strictEqual(summary.imported, 1, JSON.stringify(summary.failures))
      assert.isAbove(summary.bytes, 10 * 1024 * 1024)
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))), { timeout: 180_000 })
})

/** Node's file system, except that listing `dir` or stat'ing `root` is refused (tests run as root, where chmod refuses nothing). */
const refusing = (paths: { readonly list?: string; readonly stat?: string }) =>
  Layer.effect(
    FileSystem.FileSystem,
    Effect.map(FileSystem.FileSystem, (fs): FileSystem.FileSystem => {
      const denied = (method: string, path: string) =>
        new SystemError({ reason: "PermissionDenied", module: "FileSystem", method, pathOrDescriptor: path })
      return {
        ...fs,
        readDirectory: (path, options) => path === paths.list ? Effect.fail(denied("readDirectory", path)) : fs.readDirectory(path, options),
        stat: (path) => path === paths.stat ? Effect.fail(denied("stat", path)) : fs.stat(path)
      }
    })
  ).pipe(Layer.provideMerge(NodeContext.layer))

describe("command-line paths that cannot be imported", () => {
  it.scoped("a missing path, an unreadable root or directory, a named non-post file fail by name; a symlink loop stays skipped", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, {
        "posts/good.md": markdownPost("Good"),
        "posts/locked/hidden.md": markdownPost("Hidden"),
        "a.txt": "not a post",
        "unreadable/x.md": markdownPost("X")
      })
      symlinkSync(`${dir}/posts`, `${dir}/posts/loop`)
      const paths = [`${dir}/nope`, `${dir}/posts`, `${dir}/a.txt`, `${dir}/unreadable`, `${dir}/missing.ndjson`]
      const summary = yield* ImportPipeline.run(ImportSource.fromPaths(paths, sourceOptions), fast).pipe(
        Effect.provide(refusing({ list: `${dir}/posts/locked`, stat: `${dir}/unreadable` }))
      )
      const reasons = Object.fromEntries(summary.failures.map((f) => [f.source.slice(dir.length + 1), f.reason]))
      assert.deepStrictEqual(reasons, {
        "nope": "no such file or directory",
        "posts/locked": "cannot list directory: permission denied",
        "a.txt": "not markdown (.md, .markdown) or NDJSON (.ndjson, .jsonl)",
        "unreadable": "permission denied",
        "missing.ndjson": "no such file or directory"
      })
      assert.deepStrictEqual(summary.skips.map((s) => `${s.source.slice(dir.length + 1)}: ${s.reason}`), ["posts/loop: symbolic link loop"])
      assert.strictEqual(summary.imported, 1)
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))
})

describe("symbolic links in a markdown directory", () => {
  it.scoped("a directory reached twice through a link is imported once, the link skipped (was: each of its files a failed duplicate)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, {
        "posts/a/one.md": markdownPost("One"),
        "posts/a/two.md": markdownPost("Two"),
        "elsewhere/three.md": markdownPost("Three")
      })
      symlinkSync(`${dir}/posts/a`, `${dir}/posts/b`)
      symlinkSync(`${dir}/elsewhere/three.md`, `${dir}/posts/three.md`)
      const summary = yield* importDir(`${dir}/posts`)
      assert.deepStrictEqual([summary.imported, summary.failed], [3, 0], JSON.stringify(summary.failures))
      assert.deepStrictEqual(summary.skips.map((s) => `${s.source.slice(dir.length + 1)}: ${s.reason}`), [
        "posts/b: symbolic link to a/, a directory of the tree walked on its own: its posts are read there"
      ])
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))
  it.scoped("a link to a file of the tree (a \"latest\" alias) is skipped naming its target; two links to one outside file make one post", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, {
        "posts/2024/real.md": markdownPost("Real"),
        "elsewhere/shared.md": markdownPost("Shared")
      })
      symlinkSync("2024/real.md", `${dir}/posts/latest.md`)
      symlinkSync(`${dir}/elsewhere/shared.md`, `${dir}/posts/s1.md`)
      symlinkSync("../elsewhere/shared.md", `${dir}/posts/s2.md`)
      const summary = yield* importDir(`${dir}/posts`)
      assert.deepStrictEqual([summary.imported, summary.failed, summary.skipped], [2, 0, 2], JSON.stringify(summary.failures))
      assert.deepStrictEqual(summary.skips.map((s) => `${s.source.slice(dir.length + 1)}: ${s.reason}`), [
        "posts/latest.md: symbolic link to 2024/real.md, a file of the tree read on its own",
        `posts/s2.md: symbolic link to ${dir}/elsewhere/shared.md, the same file as ${dir}/posts/s1.md, already read`
      ])
      assert.deepStrictEqual((yield* rows).map((r) => r.source.slice(dir.length + 1)), ["posts/2024/real.md", "posts/s1.md"])
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))
})

describe("one path by several spellings", () => {
  it.scoped("a tree imported again through a symbolic link to it finds the same posts (was: each failed as another source's)", () =>
    Effect.gen(function*() {
      const dir = realpathSync(yield* tempDir())
      yield* writeFiles(dir, { "t4/one.md": markdownPost("One"), "t4/sub/two.md": markdownPost("Two") })
      symlinkSync(`${dir}/t4`, `${dir}/t4link`)
      const first = yield* importDir(`${dir}/t4`)
      assert.strictEqual(first.imported, 2, JSON.stringify(first.failures))
      const again = yield* importDir(`${dir}/t4link`)
      assert.deepStrictEqual([again.unchanged, again.failed], [2, 0], JSON.stringify(again.failures))
      assert.deepStrictEqual((yield* rows).map((r) => r.source.slice(dir.length + 1)), ["t4/one.md", "t4/sub/two.md"])
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))

  it.scoped("posts stored under a link's spelling (before real paths) are found again through the real path", () =>
    Effect.gen(function*() {
      const dir = realpathSync(yield* tempDir())
      yield* writeFiles(dir, { "t4/one.md": markdownPost("One"), "t4/sub/two.md": markdownPost("Two") })
      symlinkSync(`${dir}/t4`, `${dir}/t4link`)
      assert.strictEqual((yield* importDir(`${dir}/t4`)).imported, 2)
      // As an earlier version stored an import of `t4link`.
      yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`UPDATE posts SET source = replace(source, '/t4/', '/t4link/')`)
      const again = yield* importDir(`${dir}/t4link`)
      assert.deepStrictEqual([again.unchanged, again.failed], [2, 0], JSON.stringify(again.failures))
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))

  it.scoped("NDJSON records stored under a link's spelling (`<file>#<slug>`, `<file>:<line>`) are found again through the real path", () =>
    Effect.gen(function*() {
      const dir = realpathSync(yield* tempDir())
      const lines = [{ title: "Alpha", body: "A." }, { title: "Beta", body: "B." }].map((r) => JSON.stringify(r)).join("\n")
      yield* writeFiles(dir, { "t6/posts.ndjson": `${lines}\n` })
      symlinkSync(`${dir}/t6`, `${dir}/t6link`)
      assert.strictEqual((yield* importDir(`${dir}/t6/posts.ndjson`)).imported, 2)
      // As an earlier version stored an import of `t6link/posts.ndjson`: by slug, and before that by line.
      yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql`UPDATE posts SET source = CASE slug WHEN 'alpha' THEN ${`${dir}/t6link/posts.ndjson#alpha`} ELSE ${`${dir}/t6link/posts.ndjson:2`} END`)
      const again = yield* importDir(`${dir}/t6link/posts.ndjson`)
      assert.deepStrictEqual([again.unchanged, again.failed], [2, 0], JSON.stringify(again.failures))
      // Stored under the real path from now on, at the same version.
      assert.deepStrictEqual((yield* rows).map((r) => [r.source.slice(dir.length + 1), r.version]), [
        ["t6/posts.ndjson#alpha", 1],
        ["t6/posts.ndjson#beta", 1]
      ])
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))

  it.scoped("a post found through a link's spelling is stored under the real path: retitled later, it moves (was: a second copy)", () =>
    Effect.gen(function*() {
      const dir = realpathSync(yield* tempDir())
      yield* writeFiles(dir, { "t7/one.md": markdownPost("One"), "t7/two.md": markdownPost("Two") })
      symlinkSync(`${dir}/t7`, `${dir}/t7link`)
      assert.strictEqual((yield* importDir(`${dir}/t7`)).imported, 2)
      yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`UPDATE posts SET source = replace(source, '/t7/', '/t7link/')`)
      const again = yield* importDir(`${dir}/t7`)
      assert.deepStrictEqual([again.unchanged, again.failed], [2, 0], JSON.stringify(again.failures))
      assert.deepStrictEqual((yield* rows).map((r) => [r.source.slice(dir.length + 1), r.version]), [["t7/one.md", 1], ["t7/two.md", 1]])
      yield* writeFiles(dir, { "t7/one.md": markdownPost("One renamed") })
      const retitled = yield* importDir(`${dir}/t7`)
      assert.deepStrictEqual([retitled.imported, retitled.updated, retitled.unchanged], [0, 1, 1])
      assert.deepStrictEqual((yield* rows).map((r) => [r.slug, r.source.slice(dir.length + 1)]), [["one-renamed", "t7/one.md"], ["two", "t7/two.md"]])
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))

  it.scoped("a path named twice, and a file named beside its directory, are read once (was: counted and failed twice)", () =>
    Effect.gen(function*() {
      const dir = realpathSync(yield* tempDir())
      yield* writeFiles(dir, { "t2/a.md": markdownPost("A"), "t2/b.md": "no front matter, no title\n" })
      const paths = [`${dir}/t2`, `${dir}/t2`, `${dir}/t2/a.md`, `${dir}/t2/./b.md`, `${dir}/t2/../t2/b.md`]
      const summary = yield* ImportPipeline.run(ImportSource.fromPaths(paths, sourceOptions), fast)
      assert.deepStrictEqual([summary.imported, summary.failed], [1, 1], JSON.stringify(summary.failures))
      assert.deepStrictEqual(summary.failures.map((f) => f.source.slice(dir.length + 1)), ["t2/b.md"])
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))

  it.scoped("the progress bar's byte estimate counts each file once, as the import reads it (was: once per path naming it)", () =>
    Effect.gen(function*() {
      const dir = realpathSync(yield* tempDir())
      const a = markdownPost("A")
      const b = "no front matter, no title\n"
      yield* writeFiles(dir, { "t3/a.md": a, "t3/sub/b.md": b, "list.ndjson": "{}\n" })
      symlinkSync(`${dir}/t3`, `${dir}/t3link`)
      const bytes = new TextEncoder().encode(a).length + new TextEncoder().encode(b).length
      assert.strictEqual(yield* ImportSource.estimateBytes([`${dir}/t3`]), bytes)
      const paths = [`${dir}/t3`, `${dir}/t3`, `${dir}/t3link`, `${dir}/t3/a.md`, `${dir}/t3/sub/../sub/b.md`, `${dir}/t3/sub`]
      assert.strictEqual(yield* ImportSource.estimateBytes(paths), bytes)
      assert.strictEqual(yield* ImportSource.estimateBytes([...paths, `${dir}/list.ndjson`, `${dir}/./list.ndjson`]), bytes + 3)
      assert.isUndefined(yield* ImportSource.estimateBytes([`${dir}/t3`, "-"]))
    }).pipe(Effect.provide(NodeContext.layer)))
})

describe("re-runs", () => {
  // Records with neither `source` nor `slug`, as an export from elsewhere writes them.
  const titled = (title: string, body = `About ${title}.`) => ({ title, body, status: "published" })
  const ids = Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ slug: string; id: string; version: number }>`SELECT slug, id, version FROM posts ORDER BY slug`)

  it.scoped("NDJSON without source or slug: a record inserted above or deleted between the others moves and fails none of them", () =>
    Effect.gen(function*() {
      const run = (titles: ReadonlyArray<string>) => importNdjson(ndjsonBytes(titles.map((t) => titled(t))), { ...fast, name: "/blog/export.ndjson" })
      assert.strictEqual((yield* run(["Alpha", "Beta", "Gamma"])).imported, 3)
      const before = yield* ids
      // Exports list the newest first: a new post is a new first line.
      const inserted = yield* run(["New", "Alpha", "Beta", "Gamma"])
      assert.deepStrictEqual([inserted.imported, inserted.updated, inserted.unchanged, inserted.failed, inserted.moves], [1, 0, 3, 0, []])
      const deleted = yield* run(["New", "Alpha", "Gamma"])
      assert.deepStrictEqual([deleted.unchanged, deleted.failed], [3, 0], JSON.stringify(deleted.failures))
      // Every post kept its id and version; nothing was rewritten.
      assert.deepStrictEqual((yield* ids).filter((r) => r.slug !== "new"), before)
    }).pipe(Effect.provide(withDb("sqlite::memory:"))))

  it.scoped("NDJSON without source or slug: posts an earlier version stored under `<file>:<line>` are still their records'", () =>
    Effect.gen(function*() {
      const file = join(tmpdir(), "inkwell-legacy", "export.ndjson")
      const repository = yield* PostRepository
      // As stored before: by line, the file named absolutely, or relative to where the import ran.
      yield* repository.upsertMany([
        makeNewPost({ slug: "alpha", title: "Alpha", source: `${file}:1` }),
        makeNewPost({ slug: "beta", title: "Beta", source: `${relative(process.cwd(), file)}:2` })
      ])
      const summary = yield* importNdjson(ndjsonBytes([titled("New"), titled("Alpha", "Edited."), titled("Beta", "Edited.")]), { ...fast, name: file })
      assert.deepStrictEqual([summary.imported, summary.updated, summary.failed], [1, 2, 0], JSON.stringify(summary.failures))
      assert.deepStrictEqual((yield* ids).map((r) => [r.slug, r.version]), [["alpha", 2], ["beta", 2], ["new", 1]])
    }).pipe(Effect.provide(withDb("sqlite::memory:"))))

  it.effect("records that only share a title are two posts: suffix stores both, and finds both again; fail reports the second", () =>
    Effect.forEach(["/blog/same.ndjson", "request", "stdin"], (name) =>
      Effect.gen(function*() {
        const lines = [titled("Same", "First."), titled("Same", "Second."), titled("Other")]
        const first = yield* importNdjson(ndjsonBytes(lines), { ...fast, onConflict: "suffix", name })
        assert.deepStrictEqual([first.imported, first.renamed, first.failed], [3, 1, 0], `${name}: ${JSON.stringify(first.failures)}`)
        const again = yield* importNdjson(ndjsonBytes(lines), { ...fast, onConflict: "suffix", name })
        assert.deepStrictEqual([again.unchanged, again.imported, again.failed], [3, 0, 0], name)
        const failed = yield* importNdjson(ndjsonBytes([titled("Twice"), titled("Twice", "Again.")]), { ...fast, name })
        assert.deepStrictEqual(failed.failures, [{ source: `${name}:2`, reason: `duplicate slug "twice" in this run (first used by ${name}:1)` }])
        assert.deepStrictEqual((yield* rows).map((r) => [r.slug, r.source]), [
          ["other", `${name}#other`],
          ["same", `${name}#same`],
          ["same-2", `${name}#same~2`],
          ["twice", `${name}#twice`]
        ])
      }).pipe(Effect.provide(withDb("sqlite::memory:")))))

  it.scoped("a second run changes nothing; an edited file is updated", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`p${i}.md`, markdownPost(`Post ${i}`)])))
      const first = yield* importDir(dir)
      assert.strictEqual(first.imported, 12)
      const second = yield* importDir(dir)
      assert.deepStrictEqual([second.imported, second.updated, second.unchanged], [0, 0, 12])
      yield* writeFiles(dir, { "p3.md": markdownPost("Post 3", "Rewritten body.\n") })
      const third = yield* importDir(dir)
      assert.deepStrictEqual([third.imported, third.updated, third.unchanged], [0, 1, 11])
      const stored = yield* rows
      assert.strictEqual(stored.find((r) => r.slug === "post-3")?.version, 2)
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))

  it.scoped("removing a hard line break's trailing spaces is an edit: updated, the <br> gone (was: unchanged, the <br> kept)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const html = Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ html: string }>`SELECT html FROM posts`)
      yield* writeFiles(dir, { "p.md": markdownPost("Breaks", "line one  \nline two\n") })
      assert.strictEqual((yield* importDir(dir)).imported, 1)
      assert.include((yield* html)[0]!.html, "<br>")
      yield* writeFiles(dir, { "p.md": markdownPost("Breaks", "line one\nline two\n") })
      const edited = yield* importDir(dir)
      assert.deepStrictEqual([edited.updated, edited.unchanged], [1, 0])
      assert.notInclude((yield* html)[0]!.html, "<br>")
      // Trailing whitespace that renders nothing is still no edit.
      yield* writeFiles(dir, { "p.md": markdownPost("Breaks", "line one \t\nline two   \n\n") })
      assert.deepStrictEqual([(yield* importDir(dir)).unchanged], [1])
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))

  it.scoped("the same files under another spelling of their paths are the same posts: a re-run changes nothing, stores no copy", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, { "a.md": markdownPost("Alpha"), "sub/b.md": markdownPost("Beta"), "list.ndjson": `${JSON.stringify(record(1))}\n` })
      const run = (base: string) =>
        ImportPipeline.run(
          ImportSource.fromPaths([base, join(base, "list.ndjson")], sourceOptions),
          { ...fast, onConflict: "suffix" as const }
        )
      const first = yield* run(relative(process.cwd(), dir))
      assert.strictEqual(first.imported, 3)
      for (const spelling of [dir, `${dir}/sub/..`]) {
        const again = yield* run(spelling)
        assert.deepStrictEqual([again.imported, again.renamed, again.failed, again.unchanged], [0, 0, 0, 3], spelling)
      }
      const stored = yield* rows
      assert.strictEqual(stored.length, 3)
      for (const row of stored) assert.isTrue(isAbsolute(row.source), row.source)
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))

  it.scoped("two files with one slug: a re-run updates the file that owns it, whichever finishes first", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, { "a.md": markdownPost("Same"), "zz.md": markdownPost("Same", "Another body.\n") })
      const first = yield* importDir(dir, { concurrency: 1 })
      assert.deepStrictEqual([first.imported, first.failed], [1, 1])
      assert.strictEqual(first.failures[0]!.reason, `duplicate slug "same" in this run (first used by ${join(dir, "a.md")})`)
      yield* writeFiles(dir, { "a.md": markdownPost("Same", "Edited body.\n") })
      // zz.md finishes first: a.md's processing waits for it.
      const zzFirst = yield* aWaitsForAnother
      const second = yield* importDir(dir, { concurrency: 2, recordBatch: 1 }).pipe(Effect.provide(zzFirst))
      assert.deepStrictEqual([second.updated, second.failed], [1, 1])
      assert.strictEqual(second.failures[0]!.source, join(dir, "zz.md"))
      // Handed to the writer in input order: a.md's update lands first, so zz.md is a duplicate in this run.
      assert.strictEqual(second.failures[0]!.reason, `duplicate slug "same" in this run (first used by ${join(dir, "a.md")})`)
      const stored = yield* rows
      assert.deepStrictEqual(stored.map((r) => [r.slug, r.source, r.version]), [["same", join(dir, "a.md"), 2]])
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))

  it.scoped("first import: two files with one slug, the later one finishing first: the one first in walk order keeps it", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, { "a.md": markdownPost("Same"), "zz.md": markdownPost("Same", "Another body.\n") })
      // a.md's processing waits until zz.md is done, so zz.md reaches the writer first.
      const zzFirst = yield* aWaitsForAnother
      const dry = yield* ImportPipeline.validate(ImportSource.fromPaths([dir], sourceOptions), { ...fast, concurrency: 2, recordBatch: 1 })
        .pipe(Effect.provide(zzFirst))
      assert.deepStrictEqual([dry.valid, dry.failed], [1, 1])
      assert.strictEqual(dry.failures[0]!.source, join(dir, "zz.md"))
      const first = yield* importDir(dir, { concurrency: 2, recordBatch: 1 }).pipe(Effect.provide(zzFirst))
      assert.deepStrictEqual([first.imported, first.failed], [1, 1])
      assert.deepStrictEqual(first.failures, [{
        source: join(dir, "zz.md"),
        reason: `duplicate slug "same" in this run (first used by ${join(dir, "a.md")})`
      }])
      const stored = yield* rows
      assert.deepStrictEqual(stored.map((r) => [r.slug, r.source]), [["same", join(dir, "a.md")]])
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))

  it.scoped("first import: two NDJSON lines with one slug, the later one finishing first: the first line keeps it", () =>
    Effect.gen(function*() {
      const secondDone = yield* Deferred.make<void>()
      const real = yield* Effect.provide(PostProcessor, ProcessorTest)
      // One line at a time (no bulk path), line 1 held until line 2 is processed.
      const { fromLines: _, ...oneByOne } = real
      const secondFirst = Layer.succeed(PostProcessor, {
        ...oneByOne,
        fromInput: (input, source) =>
          source === "posts.ndjson:1"
            ? Effect.zipRight(Deferred.await(secondDone), real.fromInput(input, source))
            : Effect.ensuring(real.fromInput(input, source), Deferred.succeed(secondDone, undefined))
      })
      const source = ImportSource.ndjson(
        "posts.ndjson",
        ndjsonBytes([record(1, { title: "Same", slug: undefined }), record(2, { title: "Same", slug: undefined })]),
        sourceOptions
      )
      const summary = yield* ImportPipeline.run(source, { ...fast, concurrency: 2, recordBatch: 1 }).pipe(Effect.provide(secondFirst))
      assert.deepStrictEqual([summary.imported, summary.failed], [1, 1])
      assert.deepStrictEqual(summary.failures, [{
        source: "posts.ndjson:2",
        reason: `duplicate slug "same" in this run (first used by posts.ndjson:1)`
      }])
      const stored = yield* rows
      assert.deepStrictEqual(stored.map((r) => [r.slug, r.source]), [["same", "posts.ndjson#same"]])
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))

  it.scoped("a post stored by an earlier version under a path relative to the working directory is still this file's", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, { "a.md": markdownPost("Alpha") })
      const legacySource = relative(process.cwd(), join(dir, "a.md"))
      const repository = yield* PostRepository
      yield* repository.upsertMany([makeNewPost({ slug: "alpha", title: "Alpha", source: legacySource })])
      const run = yield* importDir(dir)
      assert.deepStrictEqual([run.imported, run.updated, run.failed], [0, 1, 0])
      const stored = yield* rows
      assert.deepStrictEqual(stored.map((r) => [r.slug, r.source, r.version]), [["alpha", join(dir, "a.md"), 2]])
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))

  it.scoped("a batch that the database refuses for one post's data is written again a post at a time: only that post fails", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, {
        "a.md": markdownPost("Alpha"),
        "b.md": markdownPost("Boom"),
        "c.md": markdownPost("Gamma"),
        "d.md": markdownPost("Delta")
      })
      const sql = yield* SqlClient.SqlClient
      // What PostgreSQL did to a post SQLite took (its search index too large): the whole transaction failed.
      yield* sql`CREATE TRIGGER boom BEFORE INSERT ON posts WHEN NEW.slug = 'boom' BEGIN SELECT RAISE(ABORT, 'boom refused'); END`
      const summary = yield* importDir(dir)
      assert.deepStrictEqual([summary.imported, summary.failed], [3, 1], JSON.stringify(summary.failures))
      assert.deepStrictEqual(summary.failures.map((f) => f.source.slice(dir.length + 1)), ["b.md"])
      assert.match(summary.failures[0]!.reason, /boom refused/, summary.failures[0]!.reason)
      assert.deepStrictEqual((yield* rows).map((r) => r.slug), ["alpha", "delta", "gamma"])
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))

  it.scoped("a dry run's refused batch, written again a post at a time, reports a later post taking an earlier one's slug as the real run does (was: inserted)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, {
        "a.md": markdownPost("Same"),
        "b.md": markdownPost("Boom"),
        "c.md": markdownPost("Same", "Another body.\n")
      })
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TRIGGER boom BEFORE INSERT ON posts WHEN NEW.slug = 'boom' BEGIN SELECT RAISE(ABORT, 'boom refused'); END`
      const outcome = (summary: ImportSummary) =>
        summary.failures.map((f) => [relative(dir, f.source), f.reason.replaceAll(dir, "")])
      const options = { concurrency: 1 }
      const dry = yield* importDir(dir, { ...options, dryRun: true })
      assert.deepStrictEqual((yield* rows).length, 0)
      const real = yield* importDir(dir, options)
      assert.deepStrictEqual(outcome(real), [
        ["b.md", "not written: database operation \"PostRepository.upsertMany\" failed: Failed to execute statement: boom refused"],
        ["c.md", `duplicate slug "same" in this run (first used by /a.md)`]
      ])
      assert.deepStrictEqual(outcome(dry), outcome(real))
      assert.deepStrictEqual([dry.valid, dry.failed], [1, 2])
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))

  it.scoped("interrupted mid-import: whole batches only, handles closed; a re-run equals one uninterrupted run", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const dbDir = yield* tempDir("inkwell-import-db-")
      yield* writeFiles(dir, Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`p${String(i).padStart(2, "0")}.md`, markdownPost(`Post ${i}`)])))
      const options = { ...fast, concurrency: 2, batchSize: 10, buffer: 4 }

      const interrupted = withDb(`sqlite:${dbDir}/interrupted.db`)
      yield* Effect.gen(function*() {
        const inner = yield* PostRepository
        const secondBatch = yield* Deferred.make<void>()
        const calls = yield* Ref.make(0)
        const watched = {
          ...inner,
          upsertMany: (posts: Parameters<typeof inner.upsertMany>[0], o?: Parameters<typeof inner.upsertMany>[1]) =>
            Effect.flatMap(Ref.updateAndGet(calls, (n) => n + 1), (n) =>
              n === 2
                // Interrupted while this batch is being written: it must commit as a whole.
                ? Effect.zipRight(Deferred.succeed(secondBatch, undefined), Effect.zipRight(Effect.yieldNow(), inner.upsertMany(posts, o)))
                : inner.upsertMany(posts, o))
        }
        const tally = new ImportTally(0)
        const run = yield* ImportPipeline.run(ImportSource.fromPaths([dir], options), options, { tally }).pipe(
          Effect.provideService(PostRepository, watched),
          Effect.fork
        )
        yield* Deferred.await(secondBatch)
        yield* Fiber.interrupt(run)
        const stored = yield* rows
        assert.strictEqual(stored.length, 20)
        assert.strictEqual(tally.imported, 20)
        const open = readdirSync("/proc/self/fd").filter((fd) => {
          try {
            return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)
          } catch {
            return false
          }
        })
        assert.strictEqual(open.length, 0)
        // The run's ledger (its scratch file) went with it.
        assert.deepStrictEqual(readdirSync(tmpdir()).filter((name) => name.startsWith(`inkwell-import-${process.pid}-`)), [])
        const rerun = yield* ImportPipeline.run(ImportSource.fromPaths([dir], options), options)
        assert.deepStrictEqual([rerun.imported, rerun.unchanged], [40, 20])
      }).pipe(Effect.provide(interrupted))

      const after = yield* Effect.provide(rows, interrupted)
      const once = yield* ImportPipeline.run(ImportSource.fromPaths([dir], options), options).pipe(
        Effect.zipRight(rows),
        Effect.provide(withDb(`sqlite:${dbDir}/once.db`))
      )
      const strip = (rs: typeof after) => rs.map((r) => [r.slug, r.source, r.content_hash, r.version])
      assert.strictEqual(after.length, 60)
      assert.deepStrictEqual(strip(after), strip(once))
    }).pipe(Effect.provide(NodeContext.layer)))
})

/** The real processor, except that a post titled "slow" never finishes. */
const slowInput = (real: PostProcessorShape) => (input: PostInput, source: string) =>
  input.title === "slow" ? Effect.never : real.fromInput(input, source)

/** One post at a time, one of them never done. */
const SlowProcessor = Layer.effect(
  PostProcessor,
  Effect.map(PostProcessor, ({ fromLines: _, ...real }) => ({ ...real, fromInput: slowInput(real) }))
).pipe(Layer.provide(ProcessorTest))

/**
 * Lines in bulk, as the worker pool runs them: a batch holding the slow post runs to its
 * deadline and fails as a whole; one by one, the slow post is stuck again.
 */
const SlowBulkProcessor = Layer.effect(
  PostProcessor,
  Effect.map(PostProcessor, (real): PostProcessorShape => ({
    ...real,
    fromInput: slowInput(real),
    fromLines: (name, lines, deadline) =>
      lines.some((line) => line.text.includes(`"slow"`))
        ? Effect.zipRight(
          Effect.sleep(Option.getOrElse(deadline, () => Duration.infinity)),
          Effect.fail(new BatchNotProcessed({ reason: "timed out" }))
        )
        : real.fromLines!(name, lines, deadline)
  }))
).pipe(Layer.provide(ProcessorTest))

describe("a changed title or slug moves the post", () => {
  const withFront = (front: string, body: string) => `---\n${front}\n---\n${body}\n`

  it.scoped("markdown: a new title moves the post to its new slug (one row, next version); a re-run is unchanged", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, { "a.md": withFront("title: First Title", "Hello"), "b.md": markdownPost("Beta") })
      assert.strictEqual((yield* importDir(dir)).imported, 2)
      const [before] = (yield* rows).filter((r) => r.slug === "first-title")
      yield* writeFiles(dir, { "a.md": withFront("title: Second Title", "Hello again") })
      const moved = yield* importDir(dir)
      assert.deepStrictEqual([moved.imported, moved.updated, moved.unchanged, moved.failed], [0, 1, 1, 0])
      assert.deepStrictEqual(moved.moves, [{ source: join(dir, "a.md"), from: "first-title", to: "second-title" }])
      const after = yield* rows
      assert.deepStrictEqual(after.map((r) => [r.slug, r.source, r.version]), [
        ["beta", join(dir, "b.md"), 1],
        ["second-title", join(dir, "a.md"), 2]
      ])
      const repo = yield* PostRepository
      assert.strictEqual((yield* Effect.flip(repo.getBySlug("first-title")))._tag, "PostNotFound")
      assert.notStrictEqual(after[1]!.content_hash, before!.content_hash)
      for (let run = 0; run < 2; run++) {
        const again = yield* importDir(dir)
        assert.deepStrictEqual([again.imported, again.updated, again.unchanged, again.moves], [0, 0, 2, []])
      }
      assert.deepStrictEqual((yield* rows).map((r) => [r.slug, r.version]), [["beta", 1], ["second-title", 2]])
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))

  it.scoped("markdown: a changed `slug:` moves it; with `slug:` kept, a new title leaves the URL alone", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, { "a.md": withFront("title: Title\nslug: pinned", "Hello") })
      yield* importDir(dir)
      yield* writeFiles(dir, { "a.md": withFront("title: Another Title\nslug: pinned", "Hello") })
      const retitled = yield* importDir(dir)
      assert.deepStrictEqual([retitled.updated, retitled.moves], [1, []])
      yield* writeFiles(dir, { "a.md": withFront("title: Another Title\nslug: repinned", "Hello") })
      const moved = yield* importDir(dir)
      assert.deepStrictEqual([moved.imported, moved.updated, moved.moves], [0, 1, [{ source: join(dir, "a.md"), from: "pinned", to: "repinned" }]])
      assert.deepStrictEqual((yield* rows).map((r) => [r.slug, r.version]), [["repinned", 3]])
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))

  it.scoped("markdown: a new title whose slug another file owns: the policy applies, the old post stays", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, { "a.md": withFront("title: Mine", "Hello"), "b.md": withFront("title: Theirs", "Other") })
      yield* importDir(dir)
      yield* writeFiles(dir, { "a.md": withFront("title: Theirs", "Hello") })
      const failed = yield* importDir(dir)
      assert.deepStrictEqual([failed.failed, failed.unchanged, failed.moves], [1, 1, []])
      // Naming the stored post's source: the file a user renamed or moved from (was: not said).
      const owner = JSON.stringify(join(dir, "b.md"))
      assert.deepStrictEqual(failed.failures, [{
        source: join(dir, "a.md"),
        reason: `slug "theirs" belongs to a post from another source, ${owner} (--on-conflict fail)`
      }])
      const skipped = yield* importDir(dir, { onConflict: "skip" })
      assert.deepStrictEqual([skipped.skipped, skipped.unchanged], [1, 1])
      assert.deepStrictEqual(skipped.skips.map((s) => s.reason), [`slug "theirs" belongs to a post from another source, ${owner} (--on-conflict skip)`])
      assert.deepStrictEqual((yield* rows).map((r) => [r.slug, r.source, r.version]), [
        ["mine", join(dir, "a.md"), 1],
        ["theirs", join(dir, "b.md"), 1]
      ])
      const suffixed = yield* importDir(dir, { onConflict: "suffix" })
      assert.deepStrictEqual([suffixed.renamed, suffixed.moves], [1, []])
      assert.deepStrictEqual((yield* rows).map((r) => [r.slug, r.version]), [["mine", 1], ["theirs", 1], ["theirs-2", 1]])
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))

  it.effect("NDJSON: a record with a `source` whose slug changed moves; records sharing one `source` never move each other", () =>
    Effect.gen(function*() {
      const run = (lines: ReadonlyArray<unknown>) => importNdjson(ndjsonBytes(lines), { ...fast, batchSize: 1, name: "e.ndjson" })
      yield* run([record(1, { source: "cms/1" }), record(2, { source: "cms/2" })])
      const moved = yield* run([record(1, { source: "cms/1", slug: "renamed-1" }), record(2, { source: "cms/2" })])
      assert.deepStrictEqual([moved.updated, moved.unchanged, moved.moves], [1, 1, [{ source: "e.ndjson:1", from: "post-1", to: "renamed-1" }]])
      // One batch per record: the second record of "shared" is written after the first, in its own transaction.
      const shared = yield* run([record(3, { source: "shared" }), record(4, { source: "shared" })])
      assert.deepStrictEqual([shared.imported, shared.moves], [2, []])
      const repo = yield* PostRepository
      const page = yield* repo.list({ limit: 100 })
      assert.deepStrictEqual(page.items.map((p) => p.slug).sort(), ["post-2", "post-3", "post-4", "renamed-1"])
      assert.strictEqual((yield* repo.getBySlug("renamed-1")).version, 2)
    }).pipe(Effect.provide(Layer.mergeAll(ProcessorTest, MemoryPostRepository.layer))))
})

describe("records a source decoded itself (feeds, another Inkwell)", () => {
  it.effect("keep their createdAt and old slugs on the way to the writer, as NDJSON lines do", () =>
    Effect.gen(function*() {
      // A creation time is capped at the batch's, and TestClock starts at 1970.
      yield* TestClock.setTime(FIXTURE_NOW)
      const created = DateTime.unsafeMake("2022-03-01T09:00:00Z")
      const item: ImportSource.ImportItem = {
        _tag: "Record",
        identity: "https://remote.example/posts/undated",
        source: "https://remote.example/posts/undated",
        input: new PostInput({ title: "Undated", body: "Text.", status: "published" }),
        bytes: 5,
        createdAt: created,
        movedFrom: ["older-name"]
      }
      const summary = yield* ImportPipeline.run(Stream.make(item), fast)
      assert.deepStrictEqual([summary.imported, summary.failed], [1, 0], JSON.stringify(summary.failures))
      const repo = yield* PostRepository
      const post = yield* repo.getBySlug("undated")
      assert.isNull(post.publishedAt)
      assert.strictEqual(DateTime.formatIso(post.createdAt), "2022-03-01T09:00:00.000Z")
      // Not `deepStrictEqual` on Options: chai finds `none()` equal to `some(x)`.
      assert.strictEqual(Option.getOrUndefined(yield* repo.movedFrom!("older-name"))?.slug, "undated", "the old slug redirects")
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), FileSystem.layerNoop({})))))
})

describe("a source that dies (a defect: a bug in a decoder, a body or file system defect)", () => {
  const decoded = (n: number): ImportSource.ImportItem => ({
    _tag: "Record",
    identity: `feed:${n}`,
    source: `feed/${n}`,
    input: new PostInput({ title: `Post ${n}`, body: `Body ${n}.`, status: "published" }),
    bytes: 8
  })
  const layer = Layer.mergeAll(ProcessorTest, MemoryPostRepository.layer, FileSystem.layerNoop({}))

  it.effect("what it read is imported; the run is \"failed\", its end one failure naming the defect (was: \"completed\", 0 failed)", () =>
    Effect.gen(function*() {
      const source = Stream.concat(Stream.make(decoded(1), decoded(2), decoded(3)), Stream.die(new Error("decoder bug")))
      const summary = yield* ImportPipeline.run(source, fast)
      assert.strictEqual(summary.status, "failed")
      assert.deepStrictEqual([summary.imported, summary.failed], [3, 1], JSON.stringify(summary.failures))
      assert.deepStrictEqual(summary.failures, [{ source: "input", reason: "the input could not be read to its end (after feed:3): defect: decoder bug" }])
      const page = yield* Effect.flatMap(PostRepository, (repo) => repo.list({ limit: 10 }))
      assert.deepStrictEqual(page.items.map((p) => p.slug).sort(), ["post-1", "post-2", "post-3"])
      const text = formatSummary(summary)
      assert.include(text, "Import failed")
      assert.include(text, "The input could not be read to its end")
    }).pipe(Effect.provide(layer)))

  it.effect("interrupted from within (not by the run): reported the same way", () =>
    Effect.gen(function*() {
      const summary = yield* ImportPipeline.run(Stream.concat(Stream.make(decoded(1)), Stream.fromEffect(Effect.interrupt)), fast)
      assert.strictEqual(summary.status, "failed")
      assert.deepStrictEqual([summary.imported, summary.failures], [1, [{ source: "input", reason: "the input could not be read to its end (after feed:1): interrupted" }]])
    }).pipe(Effect.provide(layer)))

  it.effect("a request body that dies (POST /posts/import): its complete lines imported, the answer \"failed\" naming the defect", () =>
    Effect.gen(function*() {
      const body = Stream.concat(ndjsonBytes([record(1), record(2)]), Stream.die(new Error("socket defect")))
      const summary = yield* importNdjson(body, fast)
      assert.strictEqual(summary.status, "failed")
      assert.strictEqual(summary.imported, 2)
      assert.deepStrictEqual(summary.failures, [{ source: "input", reason: "the input could not be read to its end (after request:2): defect: socket defect" }])
    }).pipe(Effect.provide(Layer.mergeAll(ProcessorTest, MemoryPostRepository.layer))))

  it.effect("a dry run without a database (validate) says so too", () =>
    Effect.gen(function*() {
      const summary = yield* ImportPipeline.validate(Stream.concat(Stream.make(decoded(1)), Stream.die("boom")), fast)
      assert.deepStrictEqual([summary.status, summary.valid, summary.failed], ["failed", 1, 1])
      assert.include(formatSummary(summary), "Dry run failed")
    }).pipe(Effect.provide(layer)))
})

describe("timeouts (TestClock)", () => {
  it.effect("a post over the per-post deadline fails; the others land", () =>
    Effect.gen(function*() {
      const source = ImportSource.ndjson("posts.ndjson", ndjsonBytes([record(1), record(2, { title: "slow" }), record(3)]), sourceOptions)
      const fiber = yield* Effect.fork(ImportPipeline.run(source, { ...fast, itemTimeout: Option.some(Duration.seconds(5)) }))
      yield* TestClock.adjust("5 seconds")
      const summary = yield* Fiber.join(fiber)
      assert.strictEqual(summary.status, "completed")
      assert.strictEqual(summary.imported, 2)
      assert.deepStrictEqual(summary.failures, [{ source: "posts.ndjson:2", reason: "timed out after 5s" }])
    }).pipe(Effect.provide(Layer.mergeAll(SlowProcessor, MemoryPostRepository.layer, NodeContext.layer))))

  it.effect("in bulk: a batch past the deadline is processed again post by post; only the slow post fails", () =>
    Effect.gen(function*() {
      const source = ImportSource.ndjson("posts.ndjson", ndjsonBytes([record(1), record(2, { title: "slow" }), record(3)]), sourceOptions)
      const fiber = yield* Effect.fork(ImportPipeline.run(source, { ...fast, itemTimeout: Option.some(Duration.seconds(5)) }))
      yield* TestClock.adjust("5 seconds")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "the posts of the failed batch get deadlines of their own")
      yield* TestClock.adjust("5 seconds")
      const summary = yield* Fiber.join(fiber)
      assert.strictEqual(summary.status, "completed")
      assert.strictEqual(summary.imported, 2)
      assert.deepStrictEqual(summary.failures, [{ source: "posts.ndjson:2", reason: "timed out after 5s" }])
    }).pipe(Effect.provide(Layer.mergeAll(SlowBulkProcessor, MemoryPostRepository.layer, NodeContext.layer))))

  /**
   * In-process rendering is synchronous: `slow.md` holds the thread for 5 seconds of the
   * `ManualClock` while the other posts wait (for their files, as in a real run), and their
   * deadline timers expire meanwhile. Was: those two failed with ItemTimeout, and slow.md, which
   * no timer can interrupt, was stored.
   */
  it.scoped("markdown files: the post whose rendering outlasts the deadline fails, named; the posts that waited meanwhile are stored", () => {
    const { advance, clock } = makeManualClock(FIXTURE_NOW)
    return Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, { "a.md": markdownPost("A"), "b.md": markdownPost("B"), "slow.md": markdownPost("Slow") })
      const real = yield* Effect.provide(PostProcessor, ProcessorTest)
      const waiting = yield* Deferred.make<void>()
      const slowDone = yield* Deferred.make<void>()
      let others = 0
      const processor = Layer.succeed(PostProcessor, {
        ...real,
        process: (source) =>
          source.source.endsWith("/slow.md")
            ? Deferred.await(waiting).pipe(
              Effect.zipRight(Effect.sync(() => advance("5 seconds"))),
              Effect.zipRight(real.process(source)),
              Effect.ensuring(Deferred.succeed(slowDone, undefined))
            )
            : Effect.suspend(() => (++others === 2 ? Deferred.succeed(waiting, undefined) : Effect.void)).pipe(
              Effect.zipRight(Deferred.await(slowDone)),
              Effect.zipRight(real.process(source))
            )
      })
      const summary = yield* ImportPipeline.run(ImportSource.fromPaths([dir], sourceOptions), {
        ...fast,
        // One file per fiber: the three are in flight at once, as files of different chunks are.
        recordBatch: 1,
        itemTimeout: Option.some(Duration.seconds(1))
      }).pipe(Effect.provide(processor))
      assert.deepStrictEqual(summary.failures, [{ source: `${dir}/slow.md`, reason: "timed out after 1s" }])
      assert.strictEqual(summary.imported, 2)
    }).pipe(Effect.withClock(clock), Effect.provide(Layer.mergeAll(MemoryPostRepository.layer, NodeContext.layer)))
  })

  it.scoped("NDJSON lines in bulk held the thread: a file waiting meanwhile is not charged with it", () => {
    const { advance, clock } = makeManualClock(FIXTURE_NOW)
    return Effect.gen(function*() {
      const dir = yield* tempDir()
      yield* writeFiles(dir, { "md/a.md": markdownPost("A"), "posts.ndjson": [record(1), record(2)].map((r) => JSON.stringify(r)).join("\n") })
      const real = yield* Effect.provide(PostProcessor, ProcessorTest)
      const waiting = yield* Deferred.make<void>()
      const linesDone = yield* Deferred.make<void>()
      const processor = Layer.succeed(PostProcessor, {
        ...real,
        process: (source) =>
          Deferred.succeed(waiting, undefined).pipe(Effect.zipRight(Deferred.await(linesDone)), Effect.zipRight(real.process(source))),
        // The lines take 2 seconds, each chunk of them (each line in time: they time themselves).
        fromLines: (name, lines) =>
          Deferred.await(waiting).pipe(
            Effect.zipRight(Effect.sync(() => advance("2 seconds"))),
            Effect.zipRight(real.fromLines!(name, lines, Option.none())),
            Effect.ensuring(Deferred.succeed(linesDone, undefined))
          )
      })
      const summary = yield* ImportPipeline.run(ImportSource.fromPaths([`${dir}/md`, `${dir}/posts.ndjson`], sourceOptions), {
        ...fast,
        recordBatch: 1,
        itemTimeout: Option.some(Duration.seconds(1))
      }).pipe(Effect.provide(processor))
      assert.deepStrictEqual(summary.failures, [])
      assert.strictEqual(summary.imported, 3)
    }).pipe(Effect.withClock(clock), Effect.provide(Layer.mergeAll(MemoryPostRepository.layer, NodeContext.layer)))
  })

  it.effect("the whole-run deadline stops an endless source; what was written is kept", () =>
    Effect.gen(function*() {
      const endless = ImportSource.ndjson(
        "stdin",
        Stream.concat(ndjsonBytes([record(1), record(2), record(3)]), Stream.never),
        sourceOptions
      )
      const fiber = yield* Effect.fork(
        ImportPipeline.run(endless, { ...fast, itemTimeout: Option.none(), timeout: Option.some(Duration.minutes(1)) })
      )
      yield* TestClock.adjust("1 minute")
      const summary = yield* Fiber.join(fiber)
      assert.strictEqual(summary.status, "timed-out")
      assert.strictEqual(summary.imported, 3)
      const repo = yield* PostRepository
      assert.strictEqual((yield* repo.list({})).items.length, 3)
    }).pipe(Effect.provide(Layer.mergeAll(ProcessorTest, MemoryPostRepository.layer, NodeContext.layer))))
})

describe("slug policies", () => {
  const taken = Effect.flatMap(PostRepository, (repo) =>
    repo.create(makeNewPost({ slug: "post-1", source: "elsewhere.md" })))
  const once = (onConflict: "fail" | "skip" | "suffix") =>
    importNdjson(ndjsonBytes([record(1), record(2)]), { ...fast, onConflict, name: "in.ndjson" })

  it.effect("a source chunk larger than the reorder window goes through whole (taken in pieces, no deadlock)", () =>
    Effect.gen(function*() {
      // One chunk of 40 lines; with one of everything the reader may run 3 items ahead.
      const text = Array.from({ length: 40 }, (_, i) => JSON.stringify(record(i + 1))).join("\n")
      const source = ImportSource.ndjson("many.ndjson", Stream.make(new TextEncoder().encode(text)), sourceOptions)
      const summary = yield* ImportPipeline.run(source, { ...fast, concurrency: 1, recordBatch: 1, buffer: 1, batchSize: 7 })
      assert.deepStrictEqual([summary.imported, summary.failed], [40, 0])
      const repository = yield* PostRepository
      const page = yield* repository.list({ limit: 100 })
      assert.strictEqual(page.items.length, 40)
    }).pipe(Effect.provide(Layer.mergeAll(ProcessorTest, MemoryPostRepository.layer, NodeContext.layer))))

  it.effect("two lines of one file with one slug: the second is a duplicate, never an update of the first", () =>
    Effect.gen(function*() {
      // Without a `source`, a record's source is `<file>#<slug>`: both lines name the same one.
      for (const onConflict of ["fail", "skip", "suffix"] as const) {
        const slug = `same-${onConflict}`
        const lines = [record(1, { slug }), record(2, { slug }), record(3, { slug: `other-${onConflict}` })]
        const summary = yield* importNdjson(ndjsonBytes(lines), { ...fast, onConflict, name: `${onConflict}.ndjson` })
        assert.deepStrictEqual([summary.imported + summary.renamed, summary.updated], [2, 0], onConflict)
        const reported = onConflict === "skip" ? summary.skips : summary.failures
        assert.deepStrictEqual(reported, [{
          source: `${onConflict}.ndjson:2`,
          reason: `duplicate slug "${slug}" in this run (first used by ${onConflict}.ndjson:1)`
        }], onConflict)
        const stored = yield* Effect.flatMap(PostRepository, (repository) => repository.getBySlug(slug))
        assert.deepStrictEqual([stored.title, stored.version], ["Post 1", 1], onConflict)
      }
    }).pipe(Effect.provide(Layer.mergeAll(ProcessorTest, MemoryPostRepository.layer))))

  it.effect("fail reports the post, skip skips it, suffix stores it under slug-2", () =>
    Effect.gen(function*() {
      yield* taken
      const failed = yield* once("fail")
      assert.deepStrictEqual([failed.imported, failed.failed], [1, 1])
      assert.match(failed.failures[0]!.reason, /slug "post-1" belongs to a post from another source/)
      const skipped = yield* once("skip")
      assert.deepStrictEqual([skipped.skipped, skipped.unchanged], [1, 1])
      const suffixed = yield* once("suffix")
      assert.deepStrictEqual([suffixed.imported, suffixed.renamed, suffixed.unchanged], [1, 1, 1])
      const repo = yield* PostRepository
      assert.strictEqual((yield* repo.getBySlug("post-1-2")).source, "in.ndjson#post-1")
    }).pipe(Effect.provide(Layer.mergeAll(ProcessorTest, MemoryPostRepository.layer))))
})

describe("NDJSON bodies", () => {
  it.effect("bad lines are reported by line number; good records land", () =>
    Effect.gen(function*() {
      const summary = yield* importNdjson(
        ndjsonBytes([record(1), "{not json", "", JSON.stringify({ title: "no body" }), "[1,2]", record(2)]),
        fast
      )
      assert.strictEqual(summary.imported, 2)
      assert.deepStrictEqual(summary.failures.map((f) => f.source), ["request:2", "request:4", "request:5"])
      assert.match(summary.failures[0]!.reason, /invalid JSON/)
      assert.match(summary.failures[1]!.reason, /body/)
    }).pipe(Effect.provide(Layer.mergeAll(ProcessorTest, MemoryPostRepository.layer))))

  it.effect("a line with a value nested 10,000 deep fails alone, named; the lines around it land, in bulk and one by one (was: the run failed, nothing imported)", () =>
    Effect.gen(function*() {
      const real = yield* Effect.provide(PostProcessor, ProcessorTest)
      const { fromLines: _, ...oneByOne } = real
      const deep = "[".repeat(10_000) + "]".repeat(10_000)
      for (const [n, processor] of [[1, real], [2, oneByOne]] as const) {
        const lines = [record(n * 10 + 1), `{"title":"Deep ${n}","body":"x","tags":${deep}}`, record(n * 10 + 2)]
        const summary = yield* importNdjson(ndjsonBytes(lines), fast).pipe(Effect.provide(Layer.succeed(PostProcessor, processor)))
        assert.deepStrictEqual([summary.status, summary.imported, summary.failed], ["completed", 2, 1], JSON.stringify(summary.failures))
        assert.strictEqual(summary.failures[0]!.source, "request:2")
        assert.strictEqual(summary.failures[0]!.reason, `tags[0]: expected a string, got ${"[".repeat(99)}…`)
      }
    }).pipe(Effect.provide(MemoryPostRepository.layer)))

  it.effect("a line with a key given twice fails, naming the key, as the API refuses it (was: the last one stored, a draft published)", () =>
    Effect.gen(function*() {
      const summary = yield* importNdjson(
        ndjsonBytes([record(1), `{"title":"Twice","slug":"twice","body":"x","status":"draft","status":"published"}`, record(2)]),
        fast
      )
      assert.deepStrictEqual([summary.imported, summary.failed], [2, 1])
      assert.deepStrictEqual(summary.failures, [{ source: "request:2", reason: "status: this key is in the record more than once; give each field once" }])
      const repo = yield* PostRepository
      assert.isTrue(Either.isLeft(yield* Effect.either(repo.getBySlug("twice"))), "not stored")
    }).pipe(Effect.provide(Layer.mergeAll(ProcessorTest, MemoryPostRepository.layer))))

  it.scoped("an NDJSON file (inkwell import): the deep line and the key given twice fail as <file>:<line>, the others land", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir()
      const deep = "[".repeat(10_000) + "]".repeat(10_000)
      yield* writeFiles(dir, {
        "export.ndjson": [
          JSON.stringify(record(1)),
          `{"title":"Deep","body":"x","tags":${deep}}`,
          `{"title":"Twice","slug":"twice","body":"x","status":"draft","status":"published"}`,
          JSON.stringify(record(2))
        ].join("\n") + "\n"
      })
      const summary = yield* ImportPipeline.run(ImportSource.fromPaths([join(dir, "export.ndjson")], sourceOptions), fast)
      assert.deepStrictEqual([summary.status, summary.imported, summary.failed], ["completed", 2, 2], JSON.stringify(summary.failures))
      assert.deepStrictEqual(summary.failures.map((f) => [f.source.slice(dir.length + 1), f.reason]), [
        ["export.ndjson:2", `tags[0]: expected a string, got ${"[".repeat(99)}…`],
        ["export.ndjson:3", "status: this key is in the record more than once; give each field once"]
      ])
      assert.deepStrictEqual((yield* rows).map((r) => r.slug), ["post-1", "post-2"])
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))

  it.effect("what decoding a line throws is that line's failure, not the run's (processItem)", () =>
    Effect.gen(function*() {
      // Read once to be parsed, then thrown on, as the decoding of a deep value threw past the parse.
      let reads = 0
      const line = Object.defineProperty({ identity: "request:7", number: 7, bytes: 10 }, "text", {
        get: (): string => {
          if (reads++ === 0) return `{"body":"x"}`
          throw new RangeError("Maximum call stack size exceeded")
        }
      }) as { identity: string; number: number; bytes: number; text: string }
      const outcome = yield* ImportPipeline.processItem(
        { _tag: "Line", identity: line.identity, name: "request", line, bytes: line.bytes },
        { ...defaultImportOptions, ...fast, itemTimeout: Option.none() }
      )
      assert.deepStrictEqual(outcome, rejected("request:7", "defect: Maximum call stack size exceeded", 10))
    }).pipe(Effect.provide(Layer.mergeAll(ProcessorTest, NodeContext.layer))))

  it.effect("records without slug or source, processed one by one: a second, unrelated body never moves the first one's posts", () =>
    Effect.gen(function*() {
      const real = yield* Effect.provide(PostProcessor, ProcessorTest)
      const { fromLines: _, ...oneByOne } = real
      const untitled = (title: string) => ({ title, body: `About ${title}.`, status: "published" })
      const upload = (titles: ReadonlyArray<string>) =>
        importNdjson(ndjsonBytes(titles.map(untitled)), fast).pipe(Effect.provide(Layer.succeed(PostProcessor, oneByOne)))
      assert.strictEqual((yield* upload(["Alpha Upload"])).imported, 1)
      const second = yield* upload(["Beta Upload"])
      assert.deepStrictEqual([second.imported, second.updated, second.moves], [1, 0, []])
      const repo = yield* PostRepository
      assert.deepStrictEqual(
        [(yield* repo.getBySlug("alpha-upload")).source, (yield* repo.getBySlug("beta-upload")).source],
        ["request#alpha-upload", "request#beta-upload"]
      )
      assert.strictEqual((yield* upload(["Alpha Upload"])).unchanged, 1, "a re-upload is unchanged")
    }).pipe(Effect.provide(MemoryPostRepository.layer)))

  it.effect("a post an earlier version stored as request:<line> is still the record's at its slug: updated, not a conflict", () =>
    Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* repo.upsertMany([makeNewPost({ slug: "alpha-upload", title: "Alpha Upload", source: "request:1" })])
      const summary = yield* importNdjson(ndjsonBytes([{ title: "Alpha Upload", body: "Edited.", status: "published" }]), fast)
      assert.deepStrictEqual([summary.updated, summary.failed, summary.imported], [1, 0, 0], JSON.stringify(summary.failures))
      assert.strictEqual((yield* repo.getBySlug("alpha-upload")).version, 2)
    }).pipe(Effect.provide(Layer.mergeAll(ProcessorTest, MemoryPostRepository.layer))))

  it.effect("the body is pulled only as fast as the queues drain", () =>
    Effect.gen(function*() {
      const gate = yield* Effect.makeLatch(false)
      const pulled = yield* Ref.make(0)
      const real = yield* Effect.provide(PostProcessor, ProcessorTest)
      const gated = Layer.succeed(PostProcessor, {
        ...real,
        fromInput: (i, s) => gate.whenOpen(real.fromInput(i, s)),
        fromLines: (n, l, d) => gate.whenOpen(real.fromLines!(n, l, d))
      })
      const body = ndjsonBytes(Array.from({ length: 200 }, (_, i) => record(i))).pipe(
        Stream.tap(() => Ref.update(pulled, (n) => n + 1))
      )
      const fiber = yield* importNdjson(body, { ...fast, concurrency: 2, buffer: 4, recordBatch: 2 }).pipe(Effect.provide(gated), Effect.fork)
      yield* Effect.repeatN(Effect.yieldNow(), 200)
      // Two per worker (recordBatch), four in the input queue, one waiting in `submit`, a couple in the decoders.
      assert.isAtMost(yield* Ref.get(pulled), 12)
      yield* gate.open
      const summary = yield* Fiber.join(fiber)
      assert.strictEqual(summary.imported, 200)
      assert.strictEqual(yield* Ref.get(pulled), 200)
    }).pipe(Effect.provide(MemoryPostRepository.layer)))

  it.effect("a dry run processes and counts what it would import, and writes nothing", () =>
    Effect.gen(function*() {
      const summary = yield* importNdjson(ndjsonBytes([record(1), record(2), "oops"]), { ...fast, dryRun: true })
      assert.deepStrictEqual([summary.valid, summary.failed, summary.imported, summary.databaseChecked], [2, 1, 2, true])
      const repo = yield* PostRepository
      assert.strictEqual((yield* repo.list({})).items.length, 0)
    }).pipe(Effect.provide(Layer.mergeAll(ProcessorTest, MemoryPostRepository.layer))))
})

describe("scheduled posts (published with a date still to come)", () => {
  const future = "2030-01-01T00:00:00Z"
  const input = [
    record(1, { publishedAt: future }),
    // Not scheduled: a draft, a date gone by, no date (listed by its creation).
    record(2, { publishedAt: future, status: "draft" }),
    record(3, { publishedAt: "2024-01-01T00:00:00Z" }),
    record(4)
  ]

  it.effect("are counted among the imported and updated, as of the clock when their batch lands", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(FIXTURE_NOW)
      const first = yield* importNdjson(ndjsonBytes(input), fast)
      assert.deepStrictEqual([first.imported, first.scheduled], [4, 1], JSON.stringify(first.failures))
      assert.match(formatSummary(first), /\n {2}scheduled +1 {2}\(of those imported or updated: published in the future, hidden until their time\)/)

      // Unchanged: not written, not counted again.
      const again = yield* importNdjson(ndjsonBytes(input), fast)
      assert.deepStrictEqual([again.unchanged, again.scheduled], [4, 0])
      assert.notMatch(formatSummary(again), /scheduled/)

      const edited = [record(1, { publishedAt: future, body: "Edited." }), ...input.slice(1)]
      const updated = yield* importNdjson(ndjsonBytes(edited), fast)
      assert.deepStrictEqual([updated.updated, updated.scheduled], [1, 1])

      // Once its time has come the post is public: an update is no longer scheduled.
      yield* TestClock.setTime(Date.parse(future))
      const due = yield* importNdjson(ndjsonBytes([record(1, { publishedAt: future, body: "Edited again." })]), fast)
      assert.deepStrictEqual([due.updated, due.scheduled], [1, 0])
    }).pipe(Effect.provide(Layer.mergeAll(ProcessorTest, MemoryPostRepository.layer))))

  it.effect("a dry run counts those it would schedule, checked against the database or only validated", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(FIXTURE_NOW)
      const checked = yield* importNdjson(ndjsonBytes(input), { ...fast, dryRun: true })
      assert.deepStrictEqual([checked.databaseChecked, checked.imported, checked.valid, checked.scheduled], [true, 4, 4, 1])

      const source = ImportSource.ndjson("stdin", ndjsonBytes(input), { maxPostBytes: sourceOptions.maxPostBytes })
      const validated = yield* ImportPipeline.validate(source, fast).pipe(Effect.provide(FileSystem.layerNoop({})))
      assert.deepStrictEqual([validated.databaseChecked, validated.valid, validated.scheduled], [false, 4, 1])
      assert.match(formatSummary(validated), /\n {2}scheduled +1 {2}\(of those valid: /)

      const repo = yield* PostRepository
      assert.strictEqual((yield* repo.list({})).items.length, 0)
    }).pipe(Effect.provide(Layer.mergeAll(ProcessorTest, MemoryPostRepository.layer))))
})

describe("an `updated` date still to come (a mistyped year)", () => {
  const typo = "2031-05-05T00:00:00.000Z"
  /** The refusal naming `field`, the key the date was given under. */
  const refusal = (field: string) => `${field}: ${typo} is in the future: after the time of this write, 2026-01-01T00:00:00.000Z ` +
    "(by more than the 1d allowed for time zones and clocks); an update is dated when it is made (a mistyped year?)"
  const reason = refusal("updatedAt")
  const input = [
    record(1, { publishedAt: "2021-05-01T00:00:00Z", updatedAt: "2021-05-05T00:00:00Z" }),
    record(2, { publishedAt: "2021-05-01T00:00:00Z", updatedAt: typo }),
    // Within the day time zones and clocks may put it ahead by, and a scheduled post's update at its publication.
    record(3, { updatedAt: "2026-01-01T23:59:00Z" }),
    record(4, { publishedAt: "2030-01-01T00:00:00Z", updatedAt: "2030-01-01T00:00:00Z" })
  ]

  it.effect("NDJSON (POST /posts/import, in bulk and line by line): that post alone fails, naming the field and the date (was: stored)", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(FIXTURE_NOW)
      for (const recordBatch of [1, 8]) {
        const dryRun = yield* importNdjson(ndjsonBytes(input), { ...fast, recordBatch, dryRun: true })
        assert.deepStrictEqual([dryRun.imported, dryRun.failed], [3, 1], JSON.stringify(dryRun.failures))
        assert.deepStrictEqual(dryRun.failures.map((f) => [f.source, f.reason]), [["request:2", reason]])
      }
      const summary = yield* importNdjson(ndjsonBytes(input), fast)
      assert.deepStrictEqual([summary.imported, summary.failed], [3, 1], JSON.stringify(summary.failures))
      assert.deepStrictEqual(summary.failures.map((f) => [f.source, f.reason]), [["request:2", reason]])
      const repo = yield* PostRepository
      assert.deepStrictEqual((yield* repo.list({ limit: 10 })).items.map((p) => p.slug).sort(), ["post-1", "post-3", "post-4"])
      // Written once its day has come, the same record is taken: the clock decides, not the year.
      yield* TestClock.setTime(Date.parse(typo))
      const later = yield* importNdjson(ndjsonBytes([input[1]]), fast)
      assert.deepStrictEqual([later.imported, later.failed], [1, 0], JSON.stringify(later.failures))
    }).pipe(Effect.provide(Layer.mergeAll(ProcessorTest, MemoryPostRepository.layer))))

  it.scoped("markdown files (inkwell import): that file alone fails, named; the others land", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(FIXTURE_NOW)
      const dir = yield* tempDir()
      yield* writeFiles(dir, {
        "good.md": "---\ntitle: Good\ndate: 2021-05-01\nupdated: 2021-05-05\n---\nText.\n",
        "typo.md": "---\ntitle: Typo\ndate: 2021-05-01\nupdated: 2031-05-05\n---\nText.\n"
      })
      const summary = yield* importDir(dir)
      assert.deepStrictEqual([summary.status, summary.imported, summary.failed], ["completed", 1, 1], JSON.stringify(summary.failures))
      assert.deepStrictEqual(summary.failures.map((f) => [f.source.slice(dir.length + 1), f.reason]), [["typo.md:4", refusal("updated")]])
      assert.deepStrictEqual((yield* rows).map((r) => r.slug), ["good"])
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))

  it.scoped("named by the front matter key as the author wrote it, a file's at its line (was: `updatedAt`, no line)", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(FIXTURE_NOW)
      const dir = yield* tempDir()
      yield* writeFiles(dir, {
        "a-updated.md": "---\ntitle: A\ndate: 2021-05-01\nupdated: 2031-05-05\n---\nText.\n",
        "b-lastmod.md": "---\ntitle: B\n\ndate: 2021-05-01\nlastmod: 2031-05-05\n---\nText.\n",
        "c-lastMod.md": "+++\ntitle = \"C\"\nlastMod = 2031-05-05\n+++\nText.\n",
        "d-modified.md": "{\n  \"title\": \"D\",\n  \"modified\": \"2031-05-05\"\n}\nText.\n",
        "e-updated_at.md": "---\ntitle: E\nupdated_at: 2031-05-05\n---\nText.\n",
        // The first of the keys given is the one read, and named.
        "f-both.md": "---\ntitle: F\nmodified: 2021-05-05\nlastmod: 2031-05-05\n---\nText.\n"
      })
      const summary = yield* importDir(dir)
      assert.deepStrictEqual([summary.imported, summary.failed], [0, 6], JSON.stringify(summary.failures))
      assert.deepStrictEqual(summary.failures.map((f) => [f.source.slice(dir.length + 1), f.reason]), [
        ["a-updated.md:4", refusal("updated")],
        ["b-lastmod.md:5", refusal("lastmod")],
        ["c-lastMod.md:3", refusal("lastMod")],
        ["d-modified.md:3", refusal("modified")],
        ["e-updated_at.md:3", refusal("updated_at")],
        ["f-both.md:4", refusal("lastmod")]
      ])

      // NDJSON records (the HTTP import): the `updatedAt` field as sent, else their body's front matter key.
      const records = [
        record(1, { updatedAt: typo }),
        record(2, { body: "---\nlastmod: 2031-05-05\n---\nText." }),
        record(3, { body: "---\nupdated: 2031-05-05\n---\nText." })
      ]
      for (const recordBatch of [1, 8]) {
        const imported = yield* importNdjson(ndjsonBytes(records), { ...fast, recordBatch })
        assert.deepStrictEqual(imported.failures.map((f) => [f.source, f.reason]), [
          ["request:1", refusal("updatedAt")],
          ["request:2", refusal("lastmod")],
          ["request:3", refusal("updated")]
        ])
      }
    }).pipe(Effect.provide(Layer.mergeAll(withDb("sqlite::memory:"), NodeContext.layer))))
})

describe("RunOptions.tally", () => {
  it.effect("one built for another kind of run is refused (its counts would be read wrongly)", () =>
    Effect.gen(function*() {
      const source = ImportSource.ndjson("stdin", ndjsonBytes([record(1)]), { maxPostBytes: sourceOptions.maxPostBytes })
      // `validate` reads no database: a tally of a dry run checked against one does not fit it.
      const exit = yield* ImportPipeline.validate(source, fast, { tally: new ImportTally(0, { dryRun: true, databaseChecked: true }) }).pipe(
        Effect.provide(FileSystem.layerNoop({})),
        Effect.exit
      )
      assert.isTrue(exit._tag === "Failure" && Cause.isDie(exit.cause))
      assert.include(String(exit._tag === "Failure" ? Cause.squash(exit.cause) : ""), "RunOptions.tally counts another kind of run")
      // One of the right kind counts the run.
      const tally = new ImportTally(0, { dryRun: true })
      const summary = yield* ImportPipeline.validate(ImportSource.ndjson("stdin", ndjsonBytes([record(1)]), { maxPostBytes: sourceOptions.maxPostBytes }), fast, { tally }).pipe(
        Effect.provide(FileSystem.layerNoop({}))
      )
      assert.deepStrictEqual([summary.valid, tally.valid], [1, 1])
    }).pipe(Effect.provide(ProcessorTest)))
})
