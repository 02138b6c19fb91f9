/**
 * An API update keeps the post's source: a post imported from a file and edited with a PUT is
 * still that file's to the next import of it, not another source's (a conflict, the import refused).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Layer } from "effect"
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

const FILE = "/blog/posts/from-a-file.md"
const fromFile = (raw: string) => Either.getOrThrow(processPostSync({ source: FILE, raw }, defaultProcessorConfig))

describe("Posts.update", () => {
  it.effect("keeps the stored source: the file's next import updates the post rather than refusing it as another source's", () =>
    Effect.gen(function*() {
      const posts = yield* Posts
      const repository = yield* PostRepository
      const file = fromFile("---\ntitle: From a file\n---\nAs written.\n")
      assert.strictEqual((yield* repository.upsertMany([file])).outcomes[0]!.action, "inserted")

      const edited = yield* posts.update("from-a-file", 1, new PostInput({ title: "From a file", body: "Edited by the API." }))
      assert.deepStrictEqual([edited.source, edited.body], [FILE, "Edited by the API."])
      assert.strictEqual((yield* repository.getBySlug("from-a-file")).source, FILE)

      const reimport = yield* repository.upsertMany([file])
      assert.deepStrictEqual(reimport.outcomes.map((outcome) => [outcome.action, outcome.source]), [["updated", FILE]])
      assert.strictEqual((yield* repository.getBySlug("from-a-file")).body, "As written.\n")

      // A post the API creates is the API's, as before.
      assert.strictEqual((yield* posts.create(new PostInput({ title: "By the API", body: "Hi." }))).source, "api")
    }).pipe(Effect.provide(PostsTest)))

  it.effect("an update giving an undated published post its own fields back changes nothing: no date stamped, its hash kept, the file's import unchanged", () =>
    Effect.gen(function*() {
      const posts = yield* Posts
      const repository = yield* PostRepository
      const file = fromFile("---\ntitle: Undated\n---\nBody.\n")
      yield* repository.upsertMany([file])
      const stored = yield* repository.getBySlug("undated")
      const same = yield* posts.update("undated", 1, new PostInput({ title: stored.title, body: stored.body }))
      assert.isNull(same.publishedAt)
      assert.strictEqual(same.contentHash, stored.contentHash)
      assert.deepStrictEqual((yield* repository.upsertMany([file])).outcomes.map((outcome) => outcome.action), ["unchanged"])
    }).pipe(Effect.provide(PostsTest)))
})
