/**
 * The read-path benchmark's data: `count` synthetic posts (scripts/generate-corpus.ts, seed 42)
 * processed by Inkwell and stored through `SqlPostRepository.upsertMany` in a SQLite file, plus
 * the exact response bytes Inkwell answers for each, which the bare node:http baseline serves
 * from a Map. Cached under the OS temp directory: seeding 10k posts renders 10k markdown files.
 */
import { Effect, Layer, Logger, LogLevel, Schema } from "effect"
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabasePool } from "../../../src/Database/DatabasePool.js"
import * as Migrations from "../../../src/Database/Migrations.js"
import * as SqlLive from "../../../src/Database/SqlLive.js"
import { type NewPost, Post, PostInput } from "../../../src/Domain/Post.js"
import { PostPage } from "../../../src/Posts/Api.js"
import { etagOf } from "../../../src/Posts/Http.js"
import { PostRepository } from "../../../src/Posts/PostRepository.js"
import * as SqlPostRepository from "../../../src/Posts/SqlPostRepository.js"
import { defaultProcessorConfig, processInputSync } from "../../../src/Processing/processPost.js"
import { makePost } from "../../generate-corpus.js"

export interface Seeded {
  readonly db: string
  /** JSON: `{ posts: [[path, body, etag], ...], list: [path, body] }`. */
  readonly responses: string
  readonly count: number
}

const SEED = 42

export const seed = async (count: number): Promise<Seeded> => {
  const dir = join(tmpdir(), "inkwell-bench")
  mkdirSync(dir, { recursive: true })
  const db = join(dir, `posts-${count}.db`)
  const responses = join(dir, `posts-${count}.responses.json`)
  if (existsSync(db) && existsSync(responses)) return { db, responses, count }
  for (const file of [db, `${db}-wal`, `${db}-shm`, responses]) rmSync(file, { force: true })

  const building = `${db}.building`
  const layer = SqlPostRepository.layer.pipe(
    Layer.provide(DatabasePool.layer({ maxConnections: 4, acquireTimeout: "60 seconds" })),
    Layer.provide(Migrations.layer.pipe(Layer.provideMerge(SqlLive.layer(`sqlite:${building}`))))
  )
  const encodePost = Schema.encodeSync(Post)
  const encodePage = Schema.encodeSync(PostPage)
  const program = Effect.gen(function*() {
    const repository = yield* PostRepository
    for (let start = 0; start < count; start += 500) {
      const batch: Array<NewPost> = []
      for (let i = start; i < Math.min(count, start + 500); i++) {
        const generated = makePost(SEED, i)
        const input = new PostInput({ ...generated, status: "published" })
        const processed = processInputSync(input, `bench#${i}`, defaultProcessorConfig)
        if (processed._tag === "Left") return yield* Effect.die(processed.left)
        batch.push(processed.right)
      }
      yield* repository.upsertMany(batch)
      if ((start / 500) % 4 === 0) console.error(`  seeded ${Math.min(count, start + 500)}/${count}`)
    }
    const posts: Array<[string, string, string]> = []
    let cursor: string | undefined
    for (;;) {
      const page = yield* repository.list({ status: "published", limit: 100, cursor })
      for (const post of page.items) {
        posts.push([`/posts/${post.slug}`, JSON.stringify(encodePost(post)), etagOf(post)])
      }
      if (page.next === null) break
      cursor = page.next
    }
    const first = yield* repository.list({ status: "published", limit: 20 })
    const list: [string, string] = ["/posts?limit=20", JSON.stringify(encodePage(first))]
    return { posts, list }
  })
  const data = await Effect.runPromise(
    program.pipe(Effect.provide(layer), Logger.withMinimumLogLevel(LogLevel.Warning))
  )
  for (const suffix of ["-wal", "-shm"]) rmSync(`${building}${suffix}`, { force: true })
  renameSync(building, db)
  writeFileSync(responses, JSON.stringify(data))
  return { db, responses, count }
}
