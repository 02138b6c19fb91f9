/**
 * Writing the search index (`writeSearchEntries`) on embedded SQLite: one post's words made at a
 * time, Node's event loop given its turn between a post that took long and the next. Fifty posts'
 * words made in one go held the server for seconds and took `inkwell import` past its heap.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Migrations from "../../src/Database/Migrations.js"
import * as SqlLive from "../../src/Database/SqlLive.js"
import { MAX_INDEXED_CHARS } from "../../src/Posts/internal/search.js"
import { type Searchable, writeSearchEntries } from "../../src/Posts/internal/searchIndex.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import * as SqlPostRepository from "../../src/Posts/SqlPostRepository.js"
import { makeNewPost } from "../fixtures/posts.js"

const sqlite = Migrations.layer.pipe(Layer.provideMerge(SqlLive.layer("sqlite::memory:")))

/** As many Han characters as a body indexes: each, and each pair, a word (a tenth of a second or more to make). */
const chinese = Array.from({ length: MAX_INDEXED_CHARS }, (_, i) => String.fromCodePoint(0x4e00 + ((i * 7919) % 20_000))).join("")

describe("writeSearchEntries", () => {
  it.effect("makes one post's words at a time, the event loop given a turn between a long one and the next", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const stored = yield* Effect.flatMap(MemoryPostRepository.make, (memory) =>
        Effect.forEach([makeNewPost({ slug: "long", title: "Long" }), makeNewPost({ slug: "next", title: "Next" })], memory.create))
      for (const post of stored) yield* sql`INSERT INTO posts ${sql.insert(SqlPostRepository.postToRow(post))}`

      // What another request waits for: a callback of the event loop's next turn, asked for when
      // the long post's words are begun, and whether it has run when the next post's are.
      let turned = false
      let turnedBeforeNext: boolean | undefined
      const long: Searchable = {
        id: stored[0]!.id,
        title: "Long",
        tags: [],
        get body() {
          setImmediate(() => {
            turned = true
          })
          return chinese
        }
      }
      const next: Searchable = {
        id: stored[1]!.id,
        title: "Next",
        tags: [],
        get body() {
          turnedBeforeNext = turned
          return "Short."
        }
      }
      yield* writeSearchEntries(sql, "sqlite", [long, next])
      assert.isTrue(turnedBeforeNext, "the event loop had a turn between the two posts")
      const entries = yield* sql<{ readonly n: number }>`SELECT count(*) AS n FROM post_search WHERE post_search MATCH ${"short"}`
      assert.strictEqual(entries[0]!.n, 1, "both written")
    }).pipe(Effect.provide(sqlite)))
})
