/**
 * An update reads the post once before its write: the post a PUT's preconditions read is the one
 * processing and the write go on, and a stale version fails before any processing.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Layer, Ref } from "effect"
import { PostInput } from "../../src/Domain/Post.js"
import { defaultProcessorConfig, processPostSync } from "../../src/Processing/processPost.js"
import { PostProcessor } from "../../src/Processing/PostProcessor.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { Posts } from "../../src/Posts/Posts.js"

const PostsTest = Posts.Default.pipe(
  Layer.provideMerge(MemoryPostRepository.layer),
  Layer.provide(PostProcessor.layer(defaultProcessorConfig))
)

const stored = Either.getOrThrow(processPostSync({ source: "/blog/kites.md", raw: "---\ntitle: Kites\n---\nBox kites.\n" }, defaultProcessorConfig))

describe("Posts.update", () => {
  it.effect("a stale version is StaleVersion before processing: a body processing refuses is not the answer", () =>
    Effect.gen(function*() {
      const posts = yield* Posts
      const repository = yield* PostRepository
      yield* repository.upsertMany([stored])
      const error = yield* Effect.flip(posts.update("kites", 7, "no front matter, no title"))
      assert.strictEqual(error._tag, "StaleVersion")
      assert.deepStrictEqual(error._tag === "StaleVersion" ? [error.expected, error.actual] : [], [7, 1])
    }).pipe(Effect.provide(PostsTest)))

  it.effect("given the post its caller read, it does not read it again", () =>
    Effect.gen(function*() {
      const repository = yield* PostRepository
      yield* repository.upsertMany([stored])
      const post = yield* repository.getBySlug("kites")
      const reads = yield* Ref.make(0)
      const counting = PostRepository.of({
        ...repository,
        getBySlug: (slug) => Effect.zipRight(Ref.update(reads, (n) => n + 1), repository.getBySlug(slug))
      })
      const posts = yield* Effect.provide(Posts, Posts.Default.pipe(
        Layer.provide(Layer.succeed(PostRepository, counting)),
        Layer.provide(PostProcessor.layer(defaultProcessorConfig))
      ))
      const updated = yield* posts.update("kites", 1, new PostInput({ title: "Kites", body: "Cedar kites." }), undefined, post)
      assert.deepStrictEqual([updated.version, updated.body], [2, "Cedar kites."])
      assert.strictEqual(yield* Ref.get(reads), 0)
    }).pipe(Effect.provide(PostsTest)))
})
