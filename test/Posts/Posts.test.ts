import { assert, describe, it } from "@effect/vitest"
import { Context, DateTime, Deferred, Effect, Exit, Fiber, Layer, Scope, TestClock } from "effect"
import { PostInput } from "../../src/Domain/Post.js"
import { defaultProcessorConfig } from "../../src/Processing/processPost.js"
import { PostProcessor } from "../../src/Processing/PostProcessor.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { Posts } from "../../src/Posts/Posts.js"
import { makeNewPost } from "../fixtures/posts.js"

const PostsTest = Posts.Default.pipe(
  Layer.provideMerge(MemoryPostRepository.layer),
  Layer.provide(PostProcessor.layer(defaultProcessorConfig))
)

describe("Posts", () => {
  it.effect("a plain object of a PostInput's fields (which type-checks as one) is taken as one by create, createAt and update; a bad field is InvalidPost naming it (was: a defect, or \"text.replace is not a function\")", () =>
    Effect.gen(function*() {
      const posts = yield* Posts
      const plain = (fields: Record<string, unknown>) => fields as unknown as PostInput
      const created = yield* posts.create(plain({ title: "Plain", body: "Text.", summary: null }))
      assert.deepStrictEqual([created.slug, created.summary], ["plain", null])
      assert.strictEqual((yield* posts.createAt("at-slug", plain({ title: "At", body: "Text." }))).slug, "at-slug")
      assert.strictEqual((yield* posts.update("plain", 1, plain({ title: "Plain, edited", body: "Text." }))).title, "Plain, edited")
      for (const write of [
        posts.create(plain({ title: 5, body: "Text." })),
        posts.createAt("other", plain({ title: 5, body: "Text." })),
        posts.update("plain", 2, plain({ title: 5, body: "Text." }))
      ]) {
        const error = yield* Effect.flip(write)
        assert.deepInclude(error, { _tag: "InvalidPost", source: "api", field: "title", reason: "expected a string, got 5" })
      }
    }).pipe(Effect.provide(PostsTest)))

  it.effect("stamps a published post without a date with the time of first publication", () =>
    Effect.gen(function*() {
      const posts = yield* Posts
      yield* TestClock.setTime(Date.parse("2026-01-02T03:04:05Z"))
      const created = yield* posts.create(new PostInput({ title: "Hello", body: "Hi." }))
      assert.strictEqual(created.publishedAt && DateTime.formatIso(created.publishedAt), "2026-01-02T03:04:05.000Z")
      yield* TestClock.adjust("1 day")
      const updated = yield* posts.update("hello", 1, new PostInput({ title: "Hello again", body: "Hi!" }))
      assert.strictEqual(updated.publishedAt && DateTime.formatIso(updated.publishedAt), "2026-01-02T03:04:05.000Z")
      const draft = yield* posts.create(new PostInput({ title: "Later", body: "Soon.", status: "draft" }))
      assert.isNull(draft.publishedAt)
    }).pipe(Effect.provide(PostsTest)))

  it.effect("an update of a published post without a date keeps it where it was listed, by its creation", () =>
    Effect.gen(function*() {
      const posts = yield* Posts
      const repository = yield* PostRepository
      yield* TestClock.setTime(Date.parse("2020-01-01T00:00:00Z"))
      // Imported undated: listed by its creation.
      yield* repository.upsertMany([makeNewPost({ slug: "old", title: "Old" })])
      yield* posts.create(new PostInput({ title: "Newer", body: "Hi.", publishedAt: "2021-01-01T00:00:00Z" }))
      yield* TestClock.setTime(Date.parse("2026-01-01T00:00:00Z"))
      const updated = yield* posts.update("old", 1, new PostInput({ title: "Old", body: "Edited." }))
      // Still undated (listed by its creation), so an unchanged edit is no change of date.
      assert.isNull(updated.publishedAt)
      assert.deepStrictEqual((yield* posts.list({})).items.map((post) => post.slug), ["newer", "old"])
      // A draft published by an update is published now.
      yield* posts.create(new PostInput({ title: "Draft", body: "Soon.", status: "draft" }))
      yield* TestClock.adjust("1 day")
      const published = yield* posts.update("draft", 1, new PostInput({ title: "Draft", body: "Out.", status: "published" }))
      assert.strictEqual(published.publishedAt && DateTime.formatIso(published.publishedAt), "2026-01-02T00:00:00.000Z")
    }).pipe(Effect.provide(PostsTest)))

  it.effect("keeps an explicit publication date", () =>
    Effect.gen(function*() {
      const posts = yield* Posts
      const created = yield* posts.create(
        new PostInput({ title: "Dated", body: "Text.", publishedAt: "2020-05-06T07:08:09+02:00" })
      )
      assert.strictEqual(created.publishedAt && DateTime.formatIso(created.publishedAt), "2020-05-06T05:08:09.000Z")
    }).pipe(Effect.provide(PostsTest)))

  it.effect("an update that leaves out the status keeps the stored one: editing a draft never publishes it", () =>
    Effect.gen(function*() {
      const posts = yield* Posts
      yield* posts.create(new PostInput({ title: "Draft", body: "Typo.", status: "draft" }))
      const fields = yield* posts.update("draft", 1, new PostInput({ title: "Draft", body: "Fixed." }))
      assert.strictEqual(fields.status, "draft")
      assert.isNull(fields.publishedAt)
      const markdown = yield* posts.update("draft", 2, "---\ntitle: Draft\n---\nFixed again.\n")
      assert.deepStrictEqual([markdown.status, markdown.body], ["draft", "Fixed again.\n"])
      // Said, in the fields or the front matter, it is what counts, either way.
      const published = yield* posts.update("draft", 3, "---\ntitle: Draft\ndraft: false\n---\nOut.\n")
      assert.strictEqual(published.status, "published")
      const kept = yield* posts.update("draft", 4, new PostInput({ title: "Draft", body: "Still out." }))
      assert.strictEqual(kept.status, "published")
      const unpublished = yield* posts.update("draft", 5, new PostInput({ title: "Draft", body: "---\nstatus: draft\n---\nBack in." }))
      assert.strictEqual(unpublished.status, "draft")
      const field = yield* posts.update("draft", 6, new PostInput({ title: "Draft", body: "Out again.", status: "published" }))
      assert.strictEqual(field.status, "published")
      // Creation keeps its default.
      assert.strictEqual((yield* posts.create(new PostInput({ title: "New", body: "Hi." }))).status, "published")
    }).pipe(Effect.provide(PostsTest)))

  it.effect("a post taken down as a draft and put back keeps its date: its place in the blog, and its schedule", () =>
    Effect.gen(function*() {
      const posts = yield* Posts
      yield* TestClock.setTime(Date.parse("2026-03-01T00:00:00Z"))
      const iso = (post: { readonly publishedAt: DateTime.Utc | null }) => post.publishedAt && DateTime.formatIso(post.publishedAt)
      // An old post, unpublished by markdown and published again a day later.
      yield* posts.create("---\ntitle: Old\ndate: 2024-03-01\n---\nText.\n")
      const down = yield* posts.update("old", 1, "---\ntitle: Old\ndraft: true\n---\nText.\n")
      assert.strictEqual(down.status, "draft")
      yield* TestClock.adjust("1 day")
      const back = yield* posts.update("old", 2, "---\ntitle: Old\ndraft: false\n---\nText.\n")
      assert.deepStrictEqual([back.status, iso(back)], ["published", "2024-03-01T00:00:00.000Z"])
      // A scheduled post made a draft and published again by fields that leave the date out.
      yield* posts.create(new PostInput({ title: "Soon", body: "Later.", publishedAt: "2026-03-09T00:00:00Z" }))
      yield* posts.update("soon", 1, new PostInput({ title: "Soon", body: "Later.", status: "draft" }))
      const again = yield* posts.update("soon", 2, new PostInput({ title: "Soon", body: "Later.", status: "published" }))
      assert.strictEqual(iso(again), "2026-03-09T00:00:00.000Z")
      assert.deepStrictEqual((yield* posts.list({ status: "published", asOf: yield* DateTime.now })).items.map((p) => p.slug), ["old"])
    }).pipe(Effect.provide(PostsTest)))
})

/** Completed by a delete that `hangingDeletes` let commit (the caller's own, provided per call). */
class Committed extends Context.Tag("test/Committed")<Committed, Deferred.Deferred<void>>() {}

/** The memory repository, whose deletes commit and then never return (a connection that went silent after COMMIT). */
const hangingDeletes = Layer.effect(
  PostRepository,
  Effect.map(PostRepository, (repository) => ({
    ...repository,
    delete: (slug: string, expectedVersion?: number, expectedHashTag?: string) =>
      repository.delete(slug, expectedVersion, expectedHashTag).pipe(
        Effect.zipRight(Effect.serviceOption(Committed)),
        Effect.flatMap((committed) => committed._tag === "Some" ? Deferred.succeed(committed.value, undefined) : Effect.void),
        Effect.zipRight(Effect.never)
      )
  }))
).pipe(Layer.provide(MemoryPostRepository.layer))

describe("Posts.followWrites", () => {
  it.scoped("tells a listener the slugs each write changed, before the write returns; nothing for a write that failed; nothing once its scope closed", () =>
    Effect.gen(function*() {
      const posts = yield* Posts
      const heard: Array<ReadonlyArray<string>> = []
      const scope = yield* Scope.make()
      yield* posts.followWrites((slugs) => Effect.sync(() => void heard.push(slugs))).pipe(Scope.extend(scope))
      const hello = yield* posts.create(new PostInput({ title: "Hello", body: "Hi." }))
      assert.deepStrictEqual(heard, [["hello"]])
      yield* posts.update("hello", hello.version, new PostInput({ title: "Hello", body: "Hi!", slug: "hello-again" }))
      assert.deepStrictEqual(heard[1], ["hello", "hello-again"], "a rename: both slugs")
      const stale = yield* Effect.flip(posts.update("hello-again", 1, new PostInput({ title: "Hello", body: "Hi?" })))
      assert.strictEqual(stale._tag, "StaleVersion")
      yield* posts.createAt("at-its-url", new PostInput({ title: "At its URL", body: "Here." }))
      yield* posts.remove("hello-again")
      assert.deepStrictEqual(heard.slice(2), [["at-its-url"], ["hello-again"]], "the failed update told nothing")
      yield* Scope.close(scope, Exit.void)
      yield* posts.remove("at-its-url")
      assert.lengthOf(heard, 4)
    }).pipe(Effect.provide(PostsTest)))

  it.scoped("a write interrupted after the store may have committed it is told too", () =>
    Effect.gen(function*() {
      const posts = yield* Posts
      const heard: Array<ReadonlyArray<string>> = []
      yield* posts.followWrites((slugs) => Effect.sync(() => void heard.push(slugs)))
      yield* posts.create(new PostInput({ title: "Doomed", body: "x" }))
      const committed = yield* Deferred.make<void>()
      const removing = yield* Effect.fork(posts.remove("doomed").pipe(Effect.provideService(Committed, committed)))
      yield* Deferred.await(committed)
      yield* Fiber.interrupt(removing)
      assert.deepStrictEqual(heard, [["doomed"], ["doomed"]])
    }).pipe(Effect.provide(Posts.Default.pipe(
      Layer.provide(hangingDeletes),
      Layer.provide(PostProcessor.layer(defaultProcessorConfig))
    ))))
})
