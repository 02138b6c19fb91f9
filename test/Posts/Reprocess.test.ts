/**
 * `Reprocess.run` on a real SQLite file: posts stored with an older rendering (as a store written
 * by an earlier version holds them) are rendered again and written through the repository's
 * update (a new version, announced); a post already as processing makes it is not written; a dry
 * run writes nothing; a post that no longer processes is reported and left as it was; what the
 * post is (slug, status, dates, source, hash, creation) never changes; many pages are all read;
 * a post whose rendering outlasts the deadline is reported and left as stored (TestClock).
 */
import { join } from "node:path"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Context, DateTime, Deferred, Duration, Effect, Fiber, Layer, Option, Queue, TestClock } from "effect"
import type { PostChangesShape } from "../../src/Database/PostChanges.js"
import { makeNewPost, type NewPost, type Post, PostInput } from "../../src/Domain/Post.js"
import { PostProcessor } from "../../src/Processing/PostProcessor.js"
import * as AnnouncingPostRepository from "../../src/Posts/AnnouncingPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import * as Reprocess from "../../src/Posts/Reprocess.js"
import { ProcessorTest, sqliteStack, tempDir } from "../Import/harness.js"

/** A migrated SQLite file under a scoped temp directory, with the real repository and processor. */
const database = Effect.gen(function*() {
  const dir = yield* tempDir("inkwell-reprocess-")
  return yield* Layer.build(Layer.mergeAll(sqliteStack(`sqlite:${join(dir, "blog.db")}`), ProcessorTest))
})

/** What an earlier version rendered: another HTML, excerpt, table of contents and counts. */
const oldRendering = (post: NewPost): NewPost =>
  makeNewPost({ ...post, html: "<p>old rendering</p>", excerpt: "old excerpt", toc: [], wordCount: 2, readingTimeMinutes: 1 })

/** Every column but those a write moves (version, updatedAt). */
const identity = (post: Post) => ({
  id: post.id,
  slug: post.slug,
  status: post.status,
  publishedAt: post.publishedAt,
  updatedAtSource: post.updatedAtSource,
  createdAt: post.createdAt,
  source: post.source,
  contentHash: post.contentHash,
  title: post.title,
  body: post.body,
  tags: post.tags
})

/** PostChanges that records what was published. */
const recording = Effect.map(Queue.unbounded<string>(), (published) => ({
  published,
  changes: {
    backend: "memory",
    publish: (slug: string) => Queue.offer(published, slug).pipe(Effect.asVoid),
    subscribe: Effect.die("not used"),
    changes: Effect.die("not used") as never
  } satisfies PostChangesShape
}))

describe("Reprocess", () => {
  it.scoped("re-renders posts stored with an older rendering, writes only those, keeps what each post is; a dry run writes nothing", () =>
    Effect.gen(function*() {
      const context = yield* database
      const store = Context.get(context, PostRepository)
      const processor = yield* Effect.provide(PostProcessor, context)
      const fromInput = (input: ConstructorParameters<typeof PostInput>[0], source: string) =>
        processor.fromInput(new PostInput(input), source)

      // A scheduled post and a draft, both with a heading whose id and TOC the old rendering lacked.
      const scheduled = yield* fromInput({
        title: "Scheduled",
        body: "## Later {#later}\n\nComing **soon**.",
        publishedAt: "2999-01-01T00:00:00Z",
        tags: ["rust"]
      }, "posts/scheduled.md")
      const draft = yield* fromInput({ title: "A draft", body: "Work in progress.", status: "draft" }, "api")
      // Imported from Zola before its `path` became an alias, or its alias removed by its owner
      // since (a PUT): a stored post cannot tell which, and its aliases are kept as they are.
      const zola = yield* processor.process({
        source: "content/zola.md",
        raw: "+++\ntitle = \"Zola\"\npath = \"2019/09/30/Async-await-hits-beta/\"\n+++\nBody.\n"
      })
      assert.include(zola.aliases, "2019/09/30/Async-await-hits-beta/", "processing makes the path an alias")
      const zolaOld = makeNewPost({ ...zola, aliases: [] })
      const current = yield* fromInput({ title: "Current", body: "As rendered now." }, "api")
      // A tag processing now refuses: stored by an earlier version, it cannot be processed again.
      const broken = makeNewPost({ ...(yield* fromInput({ title: "Broken", body: "Old." }, "api")), tags: [".."], html: "<p>kept</p>" })

      const stored = new Map<string, Post>()
      for (const post of [oldRendering(scheduled), oldRendering(draft), zolaOld, current, broken]) {
        const created = yield* store.create(post)
        stored.set(created.slug, created)
      }
      const read = (slug: string) => store.getBySlug(slug)

      const failures: Array<Reprocess.ReprocessFailure> = []
      const onFailure = (failure: Reprocess.ReprocessFailure) => Effect.sync(() => void failures.push(failure))

      const { changes, published } = yield* recording
      const announcing = AnnouncingPostRepository.announcing(store, changes)
      const run = (dryRun: boolean) =>
        Reprocess.run({ dryRun, onFailure }).pipe(
          Effect.provideService(PostRepository, announcing),
          Effect.provideService(PostProcessor, processor)
        )

      const dry = yield* run(true)
      assert.deepInclude(dry, { reprocessed: 2, unchanged: 2, failed: 1 })
      for (const [slug, before] of stored) assert.deepStrictEqual(yield* read(slug), before, `${slug}: a dry run writes nothing`)
      assert.deepStrictEqual(Chunk.toReadonlyArray(yield* Queue.takeAll(published)), [], "a dry run announces nothing")
      assert.deepStrictEqual(failures.map((f) => f.slug), ["broken"])
      assert.include(failures[0]!.reason, "tags")

      failures.length = 0
      const real = yield* run(false)
      assert.deepInclude(real, { reprocessed: 2, unchanged: 2, failed: 1 })
      assert.deepStrictEqual(failures.map((f) => f.slug), ["broken"])
      for (const [post, slug] of [[scheduled, "scheduled"], [draft, "a-draft"]] as const) {
        const after = yield* read(slug)
        const before = stored.get(slug)!
        assert.strictEqual(after.html, post.html, `${slug}: rendered as processing now renders it`)
        assert.strictEqual(after.excerpt, post.excerpt)
        assert.deepStrictEqual(after.toc, post.toc)
        assert.strictEqual(after.wordCount, post.wordCount)
        assert.strictEqual(after.version, before.version + 1, `${slug}: a write, at the next version`)
        assert.deepStrictEqual(identity(after), identity(before), `${slug}: the same post`)
      }
      assert.strictEqual((yield* read("scheduled")).toc[0]?.id, "later")
      assert.strictEqual((yield* read("scheduled")).status, "published")
      assert.strictEqual((yield* read("a-draft")).status, "draft")
      const zolaAfter = yield* read(zola.slug)
      assert.deepStrictEqual(zolaAfter, stored.get(zola.slug), "its aliases as stored: no path alias brought back, not written")
      assert.deepStrictEqual(yield* read("current"), stored.get("current"), "unchanged output: not written (version kept)")
      assert.deepStrictEqual(yield* read("broken"), stored.get("broken"), "a post that no longer processes is left as it was")
      assert.sameMembers([...Chunk.toReadonlyArray(yield* Queue.takeAll(published))], ["scheduled", "a-draft"])

      // Once done, nothing more to do.
      const again = yield* run(false)
      assert.deepInclude(again, { reprocessed: 0, unchanged: 4, failed: 1 })
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("stores in NFC the aliases an earlier version kept decomposed (NFD), the same ones, as a new write does", () =>
    Effect.gen(function*() {
      const context = yield* database
      const store = Context.get(context, PostRepository)
      const processor = yield* Effect.provide(PostProcessor, context)
      const processed = yield* processor.fromInput(new PostInput({ title: "Menu", body: "Text.", aliases: ["/caf\u00e9/menu.html"] }), "api")
      // As an earlier version stored it: processing kept the alias as written.
      const before = yield* store.create(makeNewPost({ ...processed, aliases: ["/cafe\u0301/menu.html", "/old/menu.html"] }))
      const tally = yield* Reprocess.run({ dryRun: false, onFailure: () => Effect.void }).pipe(
        Effect.provideService(PostRepository, store),
        Effect.provideService(PostProcessor, processor)
      )
      assert.deepInclude(tally, { reprocessed: 1, unchanged: 0, failed: 0 })
      const after = yield* store.getBySlug("menu")
      assert.deepStrictEqual(after.aliases, ["/caf\u00e9/menu.html", "/old/menu.html"])
      assert.deepStrictEqual([after.version, after.contentHash], [before.version + 1, before.contentHash])
      assert.strictEqual(Option.getOrUndefined(yield* store.findByAlias!("/caf\u00e9/menu.html")), "menu")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("reads every page: posts over several pages of the listing are all reprocessed, each once", () =>
    Effect.gen(function*() {
      const context = yield* database
      const store = Context.get(context, PostRepository)
      const processor = yield* Effect.provide(PostProcessor, context)
      // 230 posts, 60 of them at one instant (ties across a page boundary).
      const posts: Array<NewPost> = []
      for (let i = 0; i < 230; i++) {
        const at = i < 60 ? "2024-01-01T00:00:00Z" : DateTime.formatIso(DateTime.unsafeMake(Date.UTC(2023, 0, 1) + i * 60_000))
        posts.push(oldRendering(yield* processor.fromInput(new PostInput({ title: `Post ${i}`, body: `Words of post ${i}.`, publishedAt: at }), "api")))
      }
      yield* store.upsertMany(posts)
      const tally = yield* Reprocess.run({ dryRun: false, onFailure: () => Effect.void }).pipe(
        Effect.provideService(PostRepository, store),
        Effect.provideService(PostProcessor, processor)
      )
      assert.deepInclude(tally, { reprocessed: 230, unchanged: 0, failed: 0 })
      for (const i of [0, 59, 60, 229]) {
        const post = yield* store.getBySlug(`post-${i}`)
        assert.strictEqual(post.html, `<p>Words of post ${i}.</p>\n`)
        assert.strictEqual(post.version, 2)
      }
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a post whose rendering outlasts --item-timeout fails, named (as an import's: 'timed out after 30s', not 'ItemTimeout: ...'), and is left as stored; the others are reprocessed (was: it held the run for ever)", () =>
    Effect.gen(function*() {
      const context = yield* database
      const store = Context.get(context, PostRepository)
      const processor = yield* Effect.provide(PostProcessor, context)
      for (const title of ["Before", "Stuck", "After"]) {
        yield* store.create(oldRendering(yield* processor.fromInput(new PostInput({ title, body: `${title}'s words.` }), "api")))
      }
      const stuck = yield* store.getBySlug("stuck")
      // A rendering that never ends (as a render thread's post that never comes back): only its deadline stops it.
      const started = yield* Deferred.make<void>()
      const rendering = {
        ...processor,
        fromInput: (input: PostInput, source: string) =>
          input.title === "Stuck" ? Effect.zipRight(Deferred.succeed(started, undefined), Effect.never) : processor.fromInput(input, source)
      }
      const failures: Array<Reprocess.ReprocessFailure> = []
      const run = yield* Reprocess.run({
        dryRun: false,
        itemTimeout: Option.some(Duration.seconds(30)),
        onFailure: (failure) => Effect.sync(() => void failures.push(failure))
      }).pipe(
        Effect.provideService(PostRepository, store),
        Effect.provideService(PostProcessor, rendering),
        Effect.fork
      )
      yield* Deferred.await(started)
      yield* TestClock.adjust("29 seconds")
      assert.isNull(run.unsafePoll(), "still within its deadline")
      yield* TestClock.adjust("1 second")
      const tally = yield* Fiber.join(run)
      assert.deepInclude(tally, { reprocessed: 2, unchanged: 0, failed: 1 })
      assert.deepStrictEqual(failures, [{ slug: "stuck", reason: "timed out after 30s" }])
      assert.deepStrictEqual(yield* store.getBySlug("stuck"), stuck, "left as stored")
      for (const slug of ["before", "after"]) assert.strictEqual((yield* store.getBySlug(slug)).version, 2, slug)
    }).pipe(Effect.provide(NodeContext.layer)), 20_000)
})
