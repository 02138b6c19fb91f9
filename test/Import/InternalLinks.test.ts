/**
 * Zola's internal links (`[text](@/path/to/file.md#anchor)`) in a markdown directory imported
 * through the real pipeline into an SQLite file: stored as the target post's address beside the
 * post's own (`./<slug>#anchor`), served so on the reader site under a SITE_URL path, absolute in
 * feeds; a link to a file the import has no post of is kept as written and reported with its file,
 * line and target; the target's slug is part of the linking post's hash; `inkwell reprocess` and
 * a PUT of the post's own body keep the links resolved; a record (NDJSON) or a post sent through the
 * API has no directory to resolve them in: kept as written, with a warning.
 */
import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { join } from "node:path"
import { PostInput } from "../../src/Domain/Post.js"
import * as ImportPipeline from "../../src/Import/ImportPipeline.js"
import * as ImportSource from "../../src/Import/ImportSource.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { Posts } from "../../src/Posts/Posts.js"
import * as Reprocess from "../../src/Posts/Reprocess.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { captureWarnings } from "../Database/oldAddresses.js"
import { setFixtureNow } from "../fixtures/clock.js"
import { fetchPage, fetchRaw, siteServer } from "../Site/harness.js"
import { markdownPost, ProcessorTest, sqliteStack, tempDir, writeFiles } from "./harness.js"

const options = { concurrency: 2, batchSize: 100, buffer: 16, chunkSize: 64 * 1024, maxPostBytes: 5 * 1024 * 1024 }

/** A migrated SQLite file with the real repository and processor, in a temp directory of its own (not the imported one). */
const database = Effect.gen(function*() {
  const dir = yield* tempDir("inkwell-links-db-")
  return yield* Layer.build(Layer.mergeAll(sqliteStack(`sqlite:${join(dir, "blog.db")}`), ProcessorTest))
})

/** A temp directory of markdown files, at its real path (as the import names its files). */
const tree = (files: Record<string, string>) =>
  Effect.gen(function*() {
    const dir = yield* tempDir("inkwell-links-")
    yield* writeFiles(dir, files)
    return yield* Effect.flatMap(FileSystem.FileSystem, (fs) => fs.realPath(dir))
  })

type Built = Effect.Effect.Success<typeof database>

const importPaths = (paths: ReadonlyArray<string>, context: Built) =>
  ImportPipeline.run(ImportSource.fromPaths(paths, options), options).pipe(Effect.provide(context))

const second = `+++\ntitle = "Second"\nslug = "the-second"\ndate = 2024-01-03\n+++\n\nIntro.\n\n## A heading\n\nText.\n`
// First in the walk's order: its link is to a post the run has not read yet.
const first = markdownPost("First post", "See [the second](@/notes/b.md#a-heading), and [once more](@/notes/b.md).\n")

describe("Zola internal links", () => {
  it.scoped("a link to another file of the directory is stored and served as that post's address, the anchor kept", () =>
    Effect.gen(function*() {
      yield* setFixtureNow
      const dir = yield* tree({ "a.md": first, "notes/b.md": second })
      const context = yield* database
      const summary = yield* importPaths([dir], context)
      assert.strictEqual(summary.status, "completed")
      assert.strictEqual(summary.imported, 2, JSON.stringify(summary.failures))
      assert.deepStrictEqual(summary.warnings, [])

      const repository = Context.get(context, PostRepository)
      const stored = yield* repository.getBySlug("first-post")
      assert.include(stored.html, `<a href="./the-second#a-heading">the second</a>`)
      assert.include(stored.html, `<a href="./the-second">once more</a>`)
      assert.notInclude(stored.html, "@/")

      // Served under a SITE_URL path: the link, resolved against the page, is the second post's page.
      const site = siteServer({ url: "https://blog.example.com/blog" }, Layer.succeedContext(context))
      const [page, target, feed] = yield* Effect.gen(function*() {
        const page = yield* fetchPage("/blog/p/first-post")
        const href = /<a href="([^"]*)">the second<\/a>/.exec(page.body)?.[1]
        assert.strictEqual(href, "./the-second#a-heading")
        const url = new URL(href!, "https://blog.example.com/blog/p/first-post")
        assert.deepStrictEqual([url.pathname, url.hash], ["/blog/p/the-second", "#a-heading"])
        return [page, yield* fetchPage(url.pathname), yield* fetchRaw("/blog/feed.json")] as const
      }).pipe(Effect.provide(site))
      assert.strictEqual(page.status, 200)
      assert.strictEqual(target.status, 200)
      assert.include(target.body, "<h1")
      assert.include(target.body, "Second")
      assert.include(target.body, `id="a-heading"`, "the anchor is the target's heading")
      // A feed reader has no page to resolve it against: absolute there.
      assert.include(feed.body, "https://blog.example.com/blog/p/the-second#a-heading")

      // Rendered again from their bodies, the links are as written: reprocessing keeps them resolved.
      const tally = yield* Reprocess.run({ dryRun: false, onFailure: () => Effect.void }).pipe(Effect.provide(context))
      assert.deepInclude(tally, { reprocessed: 0, unchanged: 2, failed: 0 })
      assert.strictEqual((yield* repository.getBySlug("first-post")).html, stored.html)

      // So does a PUT of the post's own body (a tag added); a new body's links are as written.
      const posts = yield* Effect.provide(Posts, Posts.Default.pipe(Layer.provide(Layer.succeedContext(context))))
      const tagged = yield* posts.update("first-post", stored.version, new PostInput({ title: stored.title, body: stored.body, tags: ["series"] }))
      assert.strictEqual(tagged.html, stored.html)
      const edited = yield* posts.update("first-post", tagged.version, new PostInput({ title: stored.title, body: `${stored.body}\nMore.\n` }))
      assert.include(edited.html, `href="@/notes/b.md#a-heading"`)
    }).pipe(Effect.provide(NodeContext.layer)), { timeout: 60_000 })

  it.scoped("the target's slug is part of the linking post's hash: unchanged files stay unchanged, a renamed target updates the link", () =>
    Effect.gen(function*() {
      yield* setFixtureNow
      const dir = yield* tree({ "a.md": first, "notes/b.md": second })
      const context = yield* database
      const repository = Context.get(context, PostRepository)
      assert.strictEqual((yield* importPaths([dir], context)).imported, 2)
      const again = yield* importPaths([dir], context)
      assert.deepInclude(again, { imported: 0, updated: 0, unchanged: 2 })

      yield* writeFiles(dir, { "notes/b.md": second.replace(`slug = "the-second"`, `slug = "renamed"`) })
      const renamed = yield* importPaths([dir], context)
      assert.deepInclude(renamed, { updated: 2, unchanged: 0 })
      assert.deepStrictEqual(renamed.warnings, [])
      assert.include((yield* repository.getBySlug("first-post")).html, `<a href="./renamed#a-heading">the second</a>`)
    }).pipe(Effect.provide(NodeContext.layer)), { timeout: 60_000 })

  it.scoped("a link to no post of the import is kept as written and reported with its file, line and target", () =>
    Effect.gen(function*() {
      yield* setFixtureNow
      const dir = yield* tree({
        "_index.md": `+++\ntitle = "The section"\n+++\n`,
        "a.md": markdownPost(
          "Linker",
          "Intro.\n\nA [gone](@/gone.md#x) link.\n\nA [bad](@/bad.md) one.\n\n[Up](@/_index.md) and [out](@/../out.md).\n"
        ),
        // Its slug can be read, but its post fails: the link leads to no post.
        "bad.md": `+++\ntitle = "Bad"\ndate = "soon"\n+++\n\nText.\n`
      })
      const context = yield* database
      const summary = yield* importPaths([dir], context)
      assert.strictEqual(summary.status, "completed")
      assert.deepInclude(summary, { imported: 1, failed: 1 })
      const warnings = summary.warnings.map((w) => `${w.source}: ${w.reason}`)
      assert.strictEqual(warnings.length, 4, warnings.join("\n"))
      // markdownPost's front matter is lines 1 to 4, its body from line 6.
      assert.strictEqual(warnings[0], `${dir}/a.md:8: link "@/gone.md#x" kept as written: no file gone.md in ${dir}`)
      assert.match(warnings[1]!, new RegExp(`^${dir}/a\\.md:12: link "@/_index\\.md" kept as written: _index\\.md gives no post \\(file: section index page`))
      assert.strictEqual(warnings[2], `${dir}/a.md:12: link "@/../out.md" kept as written: ../out.md is outside the import's directory ${dir}`)
      assert.strictEqual(
        warnings[3],
        `${dir}/a.md:10: link "@/bad.md" leads to /p/bad, but the post of ${dir}/bad.md is not stored there (it failed, was skipped or took another slug: see its own entry)`
      )
      const html = (yield* Context.get(context, PostRepository).getBySlug("linker")).html
      assert.include(html, `<a href="@/gone.md#x">gone</a>`)
      assert.include(html, `<a href="@/_index.md">Up</a>`)
    }).pipe(Effect.provide(NodeContext.layer)), { timeout: 60_000 })

  it.scoped("a single file named on its own resolves against its directory, to a post an earlier import stored", () =>
    Effect.gen(function*() {
      yield* setFixtureNow
      const dir = yield* tree({ "a.md": first, "notes/b.md": second })
      const context = yield* database
      assert.strictEqual((yield* importPaths([join(dir, "notes")], context)).imported, 1)
      const alone = yield* importPaths([join(dir, "a.md")], context)
      assert.strictEqual(alone.imported, 1)
      assert.deepStrictEqual(alone.warnings, [])
      assert.include((yield* Context.get(context, PostRepository).getBySlug("first-post")).html, `href="./the-second#a-heading"`)
    }).pipe(Effect.provide(NodeContext.layer)), { timeout: 60_000 })

  it.scoped("a record (NDJSON, an upload) has no directory: its links are kept as written, with a warning naming it", () =>
    Effect.gen(function*() {
      yield* setFixtureNow
      const dir = yield* tree({
        "posts.ndjson": `${JSON.stringify({ title: "From a record", body: "See [it](@/notes/b.md#a-heading) and [it](@/notes/b.md#a-heading)." })}\n`
      })
      const context = yield* database
      const summary = yield* importPaths([join(dir, "posts.ndjson")], context)
      assert.strictEqual(summary.imported, 1)
      assert.strictEqual(summary.warnings.length, 1)
      assert.strictEqual(summary.warnings[0]!.source, `${dir}/posts.ndjson:1`)
      assert.include(summary.warnings[0]!.reason, `link "@/notes/b.md#a-heading" kept as written`)
      assert.include((yield* Context.get(context, PostRepository).getBySlug("from-a-record")).html, `href="@/notes/b.md#a-heading"`)
    }).pipe(Effect.provide(NodeContext.layer)), { timeout: 60_000 })

  it.effect("a post sent alone through the API keeps them as written, and the log says so", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const posts = yield* Posts
      const created = yield* posts.create(new PostInput({ title: "Alone", body: "See [it](@/notes/b.md#a-heading)." })).pipe(
        Effect.provide(captureWarnings(lines))
      )
      assert.include(created.html, `href="@/notes/b.md#a-heading"`)
      assert.deepStrictEqual(lines, [
        `post "alone": Zola internal links kept as written ("@/notes/b.md#a-heading"): only an import of the post's markdown file, in its directory, resolves them`
      ])
    }).pipe(Effect.provide(Posts.Default.pipe(Layer.provide(Layer.merge(MemoryPostRepository.layer, ProcessorTest))))))
})
