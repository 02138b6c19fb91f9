/**
 * `GET /posts/:slug` at a renamed post's old slug over HTTP on PostgreSQL: the same answers as on
 * SQLite and the memory store (test/Http/movedPosts.ts), redirects read from `slug_redirects`.
 */
import { it } from "@effect/vitest"
import { Effect } from "effect"
import { describePg } from "../fixtures/pg.js"
import { movedPostAnswers } from "../Http/movedPosts.js"
import { pgTestServer } from "./harness.js"

describePg("a renamed post's old slug over HTTP on PostgreSQL", () => {
  it.effect("301 to it (GET, HEAD, query kept) when the caller may read it there, else 404; writes there 404", () =>
    movedPostAnswers.pipe(Effect.provide(pgTestServer)), 30_000)
})
