/**
 * Zola internal links (`@/...`) resolved by a directory import, through `inkwell export` and an
 * import of the export into a fresh SQLite database: served resolved, without a warning, the
 * export back the same, the files finding the posts unchanged. A line whose body was edited, or
 * whose `internalLinks` do not match its body's links, has them as written with a warning saying
 * why, and the files' next import resolves them. A PUT of the original's post into the copy keeps
 * them, its body being the copy's. (SQLite to PostgreSQL: test/Pg/Export.test.ts.)
 */
import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as ExportOutput from "../../src/Export/ExportOutput.js"
import * as PostExport from "../../src/Export/PostExport.js"
import * as ImportPipeline from "../../src/Import/ImportPipeline.js"
import * as ImportSource from "../../src/Import/ImportSource.js"
import { PostInput } from "../../src/Domain/Post.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { Posts } from "../../src/Posts/Posts.js"
import { fetchPage, siteServer } from "../Site/harness.js"
import { markdownPost, ProcessorTest, sqliteStack, tempDir, writeFiles } from "../Import/harness.js"

const options = { concurrency: 2, batchSize: 100, buffer: 16, chunkSize: 64 * 1024, maxPostBytes: 5 * 1024 * 1024 }

/** A fresh migrated SQLite file with the real repository and processor, for the test's scope. */
const database = Effect.gen(function*() {
  const dir = yield* tempDir("inkwell-links-export-db-")
  return yield* Layer.build(Layer.mergeAll(sqliteStack(`sqlite:${join(dir, "blog.db")}`), ProcessorTest))
})

type Built = Effect.Effect.Success<typeof database>

const importPaths = (paths: ReadonlyArray<string>, context: Built) =>
  ImportPipeline.run(ImportSource.fromPaths(paths, options), options).pipe(Effect.provide(context))

const exportTo = (file: string, context: Built) =>
  Effect.scoped(Effect.flatMap(ExportOutput.file(file), (output) => PostExport.run({}, output))).pipe(Effect.provide(context))

const second = `+++\ntitle = "Second"\nslug = "the-second"\ndate = 2024-01-03\n+++\n\nIntro.\n\n## A heading\n\nText.\n`
const first = markdownPost("First post", "See [the second](@/notes/b.md#a-heading), [Rust](https://www.rust-lang.org/) and [once more](@/notes/b.md).\n")
const RESOLVED = [`<a href="./the-second#a-heading">the second</a>`, `<a href="./the-second">once more</a>`]
const AS_WRITTEN = [`<a href="@/notes/b.md#a-heading">the second</a>`, `<a href="@/notes/b.md">once more</a>`]

/** The two linked posts imported from their directory into a database, and its export. */
const exported = Effect.gen(function*() {
  const dir = yield* tempDir("inkwell-links-export-")
  yield* writeFiles(dir, { "a.md": first, "notes/b.md": second })
  const tree = yield* Effect.flatMap(FileSystem.FileSystem, (fs) => fs.realPath(dir))
  const source = yield* database
  const summary = yield* importPaths([tree], source)
  assert.strictEqual(summary.imported, 2, JSON.stringify(summary.failures))
  assert.deepStrictEqual(summary.warnings, [])
  const file = join(dir, "backup.ndjson")
  yield* exportTo(file, source)
  return { tree, source, file, text: readFileSync(file, "utf8") }
})

/** The post at `slug` as the reader site serves it from `context`'s database. */
const served = (slug: string, context: Built) =>
  fetchPage(`/p/${slug}`).pipe(Effect.provide(siteServer({}, Layer.succeedContext(context))))

const storedHtml = (slug: string, context: Built) =>
  Effect.map(Effect.flatMap(PostRepository, (repository) => repository.getBySlug(slug)), (post) => post.html).pipe(Effect.provide(context))

/** `text` (an export) with the line of `slug` changed by `edit`, written to a file of its own. */
const edited = (file: string, text: string, slug: string, edit: (record: Record<string, unknown>) => Record<string, unknown>) => {
  const out = file.replace(/\.ndjson$/, `-${Math.random().toString(36).slice(2, 8)}.ndjson`)
  writeFileSync(
    out,
    text.split("\n").map((line) => {
      if (line === "") return line
      const record = JSON.parse(line) as Record<string, unknown>
      return record["slug"] === slug ? JSON.stringify(edit(record)) : line
    }).join("\n")
  )
  return out
}

describe("Zola internal links through an export", () => {
  it.scoped("imported into a fresh database: served resolved, no warning; the export back the same, the files finding it unchanged", () =>
    Effect.gen(function*() {
      const { file, source, text, tree } = yield* exported
      const line = text.split("\n").find((l) => l.includes(`"slug":"first-post"`))!
      assert.deepStrictEqual(JSON.parse(line).internalLinks.hrefs, ["./the-second#a-heading", "https://www.rust-lang.org/", "./the-second"])

      const copy = yield* database
      const summary = yield* importPaths([file], copy)
      assert.deepStrictEqual([summary.imported, summary.failed], [2, 0], JSON.stringify(summary.failures))
      assert.deepStrictEqual(summary.warnings, [])
      const page = yield* served("first-post", copy)
      assert.strictEqual(page.status, 200)
      for (const link of RESOLVED) assert.include(page.body, link)
      assert.notInclude(page.body, "@/")
      assert.strictEqual(yield* storedHtml("first-post", copy), yield* storedHtml("first-post", source))

      const again = yield* importPaths([file], copy)
      assert.deepStrictEqual([again.unchanged, again.updated, again.imported], [2, 0, 0])
      const back = join(tree, "back.ndjson")
      yield* exportTo(back, copy)
      assert.strictEqual(readFileSync(back, "utf8"), text)
      const files = yield* importPaths([tree], copy)
      assert.deepStrictEqual([files.unchanged, files.updated], [2, 0])

      // The original's post, as its GET gives it, a tag added, PUT into the copy: the copy's body, so its addresses kept.
      const original = yield* Effect.flatMap(PostRepository, (repository) => repository.getBySlug("first-post")).pipe(Effect.provide(source))
      const posts = yield* Effect.provide(Posts, Posts.Default.pipe(Layer.provide(Layer.succeedContext(copy))))
      const current = yield* Effect.flatMap(PostRepository, (repository) => repository.getBySlug("first-post")).pipe(Effect.provide(copy))
      const put = yield* posts.update("first-post", current.version, new PostInput({ title: original.title, body: original.body, tags: ["series"] }))
      assert.strictEqual(put.html, original.html)
    }).pipe(Effect.provide(NodeContext.layer)), 60_000)

  it.scoped("imported with --on-conflict suffix where another post holds its target's slug: each link reported with the post, the link and where its target went (was: silent, leading to the other post)", () =>
    Effect.gen(function*() {
      const { file, text } = yield* exported
      const copy = yield* database
      const other = yield* tempDir("inkwell-links-other-")
      yield* writeFiles(other, { "other.md": `+++\ntitle = "Unrelated"\nslug = "the-second"\n+++\n\nNot the one.\n` })
      assert.strictEqual((yield* importPaths([other], copy)).imported, 1)

      const summary = yield* ImportPipeline.run(ImportSource.fromPaths([file], options), { ...options, onConflict: "suffix" }).pipe(Effect.provide(copy))
      assert.deepStrictEqual([summary.imported, summary.renamed, summary.failed], [2, 1, 0], JSON.stringify(summary.failures))
      const lines = text.split("\n")
      const at = `${file}:${lines.findIndex((l) => l.includes(`"slug":"first-post"`)) + 1}`
      const target = `${file}:${lines.findIndex((l) => l.includes(`"slug":"the-second"`)) + 1}`
      const went = `as it did where its post came from, but the post that was at /p/the-second there (${target}) was stored at /p/the-second-2 here, as another post holds /p/the-second: the link leads to that other post`
      const expected = [
        [at, `link "@/notes/b.md#a-heading" leads to /p/the-second, ${went}`],
        [at, `link "@/notes/b.md" leads to /p/the-second, ${went}`]
      ]
      assert.deepStrictEqual(summary.warnings.map((w) => [w.source, w.reason]), expected)
      // A re-run finds the copy again where it was suffixed, and says so again.
      const again = yield* ImportPipeline.run(ImportSource.fromPaths([file], options), { ...options, onConflict: "suffix" }).pipe(Effect.provide(copy))
      assert.deepStrictEqual([again.unchanged, again.imported], [2, 0])
      assert.deepStrictEqual(again.warnings.map((w) => [w.source, w.reason]), expected)
    }).pipe(Effect.provide(NodeContext.layer)), 60_000)

  it.scoped("a line whose links lead to a post not imported with it, where none is stored: reported (was: silent)", () =>
    Effect.gen(function*() {
      const { file, text } = yield* exported
      const copy = yield* database
      const alone = edited(file, text, "the-second", () => ({ slug: "not-a-post" }))
      const summary = yield* importPaths([alone], copy)
      const at = `${alone}:${text.split("\n").findIndex((l) => l.includes(`"slug":"first-post"`)) + 1}`
      assert.deepStrictEqual(
        summary.warnings.filter((w) => w.source === at).map((w) => w.reason),
        [
          `link "@/notes/b.md#a-heading" leads to /p/the-second, as it did where its post came from, but no post is stored there (the post it led to was not imported with it)`,
          `link "@/notes/b.md" leads to /p/the-second, as it did where its post came from, but no post is stored there (the post it led to was not imported with it)`
        ]
      )
    }).pipe(Effect.provide(NodeContext.layer)), 60_000)

  it.scoped("a line whose body was edited: its links as written, with a warning saying why; the files' next import resolves them", () =>
    Effect.gen(function*() {
      const { file, text, tree } = yield* exported
      const handEdited = edited(file, text, "first-post", (record) => ({ ...record, body: String(record["body"]).replace("See", "Look at") }))
      const copy = yield* database
      const summary = yield* importPaths([handEdited], copy)
      assert.deepStrictEqual([summary.imported, summary.failed], [2, 0])
      const at = `${handEdited}:${text.split("\n").findIndex((l) => l.includes(`"slug":"first-post"`)) + 1}`
      assert.deepStrictEqual(summary.warnings.map((w) => [w.source, w.reason.match(/^link "([^"]*)" kept as written: the record's body is not the one its internalLinks were exported for/)?.[1]]), [
        [at, "@/notes/b.md#a-heading"],
        [at, "@/notes/b.md"]
      ], JSON.stringify(summary.warnings))
      const page = yield* served("first-post", copy)
      for (const link of AS_WRITTEN) assert.include(page.body, link)
      assert.include(page.body, "Look at")

      const files = yield* importPaths([tree], copy)
      assert.deepStrictEqual([files.updated, files.unchanged], [1, 1])
      const html = yield* storedHtml("first-post", copy)
      for (const link of RESOLVED) assert.include(html, link)
    }).pipe(Effect.provide(NodeContext.layer)), 60_000)

  it.scoped("internalLinks that do not match the body's links by place, or give one an address it is never given: not taken", () =>
    Effect.gen(function*() {
      const { file, text } = yield* exported
      for (
        const hrefs of [
          ["./the-second#a-heading", "https://www.rust-lang.org/"],
          ["./the-second", "https://www.rust-lang.org/", "./the-second#a-heading"],
          ["./the-second#a-heading", "https://elsewhere.example/", "./the-second"],
          ["javascript:alert(1)", "https://www.rust-lang.org/", "./the-second"]
        ]
      ) {
        const tampered = edited(file, text, "first-post", (record) => ({ ...record, internalLinks: { ...(record["internalLinks"] as object), hrefs } }))
        const copy = yield* database
        const summary = yield* importPaths([tampered], copy)
        assert.strictEqual(summary.imported, 2, JSON.stringify(summary.failures))
        assert.deepStrictEqual(
          summary.warnings.map((w) => /kept as written: the record's internalLinks do not match the links of its body/.test(w.reason)),
          [true, true],
          JSON.stringify(summary.warnings)
        )
        const html = yield* storedHtml("first-post", copy)
        for (const link of AS_WRITTEN) assert.include(html, link, JSON.stringify(hrefs))
        assert.notInclude(html, "javascript:")
        assert.notInclude(html, "elsewhere.example")
      }
    }).pipe(Effect.provide(NodeContext.layer)), 60_000)

  it.scoped("a line exported before lines carried internalLinks: its links as written with a warning, and its files' import resolves them (was: unchanged)", () =>
    Effect.gen(function*() {
      const { file, text, tree } = yield* exported
      const older = edited(file, text, "first-post", ({ internalLinks: _, ...record }) => record)
      const copy = yield* database
      const summary = yield* importPaths([older], copy)
      assert.deepStrictEqual(summary.warnings.map((w) => w.reason.startsWith(`link "@/notes/b.md`)), [true, true])
      const files = yield* importPaths([tree], copy)
      assert.deepStrictEqual([files.updated, files.unchanged], [1, 1])
      const html = yield* storedHtml("first-post", copy)
      for (const link of RESOLVED) assert.include(html, link)
    }).pipe(Effect.provide(NodeContext.layer)), 60_000)
})
