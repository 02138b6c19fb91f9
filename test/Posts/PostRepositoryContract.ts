/**
 * The PostRepository contract: one suite, run against every implementation
 * (memory, SQLite in memory and on disk, PostgreSQL). Each test builds a fresh layer, so the
 * layer must start from an empty store. Time comes from TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import { relative, resolve } from "node:path"
import { DateTime, Effect, Exit, type Layer, Option, Schema, TestClock } from "effect"
import { NewPost, Post, PostId } from "../../src/Domain/Post.js"
import {
  API_SOURCE,
  DEFAULT_PAGE_SIZE,
  hashTagOf,
  type ListQuery,
  type PostPage,
  MAX_PAGE_SIZE,
  PostRepository,
  type UpsertOutcome
} from "../../src/Posts/PostRepository.js"
import { makeNewPost } from "../fixtures/posts.js"
import { searchContract } from "./SearchContract.js"
import { sitemapContract } from "./SitemapContract.js"

const encodePost = Schema.encodeSync(Post)
const slugs = (posts: ReadonlyArray<Post>) => posts.map((p) => p.slug)
const actions = (outcomes: ReadonlyArray<UpsertOutcome>) => outcomes.map((o) => o.action)
const at = (iso: string) => TestClock.setTime(Date.parse(iso))

/** Every page of `query`, following `next`. */
const walk = (query: ListQuery) =>
  Effect.gen(function*() {
    const repo = yield* PostRepository
    const seen: Array<Post> = []
    let cursor: string | undefined = undefined
    for (let page = 0; page < 1000; page++) {
      const result: PostPage = yield* repo.list({ ...query, cursor })
      seen.push(...result.items)
      if (result.next === null) return seen
      cursor = result.next
    }
    return assert.fail("pagination did not end")
  })

/** `n` published posts `p-00`, `p-01`, ... published a day apart, a few sharing a date. */
const seed = (n: number, tag = "test") =>
  Effect.gen(function*() {
    const repo = yield* PostRepository
    const posts = Array.from({ length: n }, (_, i) =>
      makeNewPost({
        slug: `p-${String(i).padStart(2, "0")}`,
        tags: [tag, i % 2 === 0 ? "even" : "odd"],
        // Pairs share a timestamp so the id tie-break is exercised.
        publishedAt: new Date(Date.UTC(2020, 0, 1 + Math.floor(i / 2))).toISOString()
      }))
    yield* repo.upsertMany(posts)
  })

export const postRepositoryContract = (name: string, layer: Layer.Layer<PostRepository, unknown>) => {
  searchContract(name, layer)
  sitemapContract(name, layer)
  const test = <A, E>(title: string, body: Effect.Effect<A, E, PostRepository>) =>
    it.effect(title, () => Effect.provide(body, layer))

  describe(`PostRepository contract: ${name}`, () => {
    test("create stores every field at version 1 and getBySlug returns it", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* at("2024-05-01T10:00:00Z")
      const input = makeNewPost({
        slug: "rich-post",
        tags: ["rust", "async", "rust"],
        status: "draft",
        authors: ["Ana", "Bo"],
        summary: "A summary",
        publishedAt: "2023-03-04T05:06:07.089Z",
        updatedAtSource: "2023-04-01T00:00:00Z",
        aliases: ["/old/path/"],
        metadata: { extra: { nested: [1, "two", null] }, flag: true },
        toc: [{ level: 2, text: "Intro", id: "intro" }, { level: 3, text: "Détails", id: "details" }],
        body: "# Heading\n\nUnicode: héllo wörld 🦀"
      })
      const created = yield* repo.create(input)
      assert.strictEqual(created.version, 1)
      assert.isTrue(created.id.length > 0)
      assert.strictEqual(DateTime.formatIso(created.createdAt), "2024-05-01T10:00:00.000Z")
      assert.strictEqual(DateTime.formatIso(created.updatedAt), "2024-05-01T10:00:00.000Z")
      const fetched = yield* repo.getBySlug("rich-post")
      assert.deepStrictEqual(encodePost(fetched), encodePost(created))
      const { createdAt: _c, id: _i, updatedAt: _u, version: _v, ...content } = encodePost(fetched)
      assert.deepStrictEqual(content, Schema.encodeSync(NewPost)(input))
    }))

    test("create with a taken slug is SlugConflict and keeps the first post", Effect.gen(function*() {
      const repo = yield* PostRepository
      const first = yield* repo.create(makeNewPost({ slug: "taken", title: "First" }))
      const error = yield* Effect.flip(repo.create(makeNewPost({ slug: "taken", title: "Second" })))
      assert.strictEqual(error._tag, "SlugConflict")
      assert.strictEqual(error._tag === "SlugConflict" && error.slug, "taken")
      const stored = yield* repo.getBySlug("taken")
      assert.strictEqual(stored.title, "First")
      assert.strictEqual(stored.id, first.id)
    }))

    test("concurrent creates of one slug: exactly one wins, the rest are SlugConflict", Effect.gen(function*() {
      const repo = yield* PostRepository
      const results = yield* Effect.all(
        Array.from({ length: 6 }, (_, i) => Effect.either(repo.create(makeNewPost({ slug: "race", title: `T${i}` })))),
        { concurrency: "unbounded" }
      )
      const won = results.filter((r) => r._tag === "Right")
      const lost = results.filter((r) => r._tag === "Left").map((r) => r._tag === "Left" ? r.left._tag : "")
      assert.strictEqual(won.length, 1)
      assert.deepStrictEqual(lost, Array(5).fill("SlugConflict"))
      assert.strictEqual((yield* repo.list({})).items.length, 1)
    }))

    test("getBySlug of a missing post is PostNotFound", Effect.gen(function*() {
      const repo = yield* PostRepository
      const error = yield* Effect.flip(repo.getBySlug("nope"))
      assert.strictEqual(error._tag, "PostNotFound")
      assert.strictEqual(error._tag === "PostNotFound" && error.slug, "nope")
    }))

    test("list is newest first: publishedAt, falling back to createdAt, then id", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* at("2021-01-01T00:00:00Z")
      yield* repo.create(makeNewPost({ slug: "old", publishedAt: "2019-01-01T00:00:00Z" }))
      yield* repo.create(makeNewPost({ slug: "undated-2021" }))
      yield* repo.create(makeNewPost({ slug: "future", publishedAt: "2030-01-01T00:00:00Z" }))
      yield* at("2022-06-01T00:00:00Z")
      yield* repo.create(makeNewPost({ slug: "undated-2022", status: "draft" }))
      const tieA = yield* repo.create(makeNewPost({ slug: "tie-a", publishedAt: "2020-01-01T00:00:00Z" }))
      const tieB = yield* repo.create(makeNewPost({ slug: "tie-b", publishedAt: "2020-01-01T00:00:00Z" }))
      const ties = [tieA, tieB].sort((x, y) => (x.id < y.id ? 1 : -1)).map((p) => p.slug)
      const page = yield* repo.list({})
      assert.deepStrictEqual(slugs(page.items), ["future", "undated-2022", "undated-2021", ...ties, "old"])
      assert.isNull(page.next)
    }))

    test("list filters by tag and by status", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* repo.create(makeNewPost({ slug: "a", tags: ["rust"], publishedAt: "2020-01-03T00:00:00Z" }))
      yield* repo.create(makeNewPost({ slug: "b", tags: ["web"], publishedAt: "2020-01-02T00:00:00Z" }))
      yield* repo.create(makeNewPost({ slug: "c", tags: ["rust", "web"], status: "draft", publishedAt: "2020-01-01T00:00:00Z" }))
      assert.deepStrictEqual(slugs((yield* repo.list({ tag: "rust" })).items), ["a", "c"])
      assert.deepStrictEqual(slugs((yield* repo.list({ status: "draft" })).items), ["c"])
      assert.deepStrictEqual(slugs((yield* repo.list({ status: "published" })).items), ["a", "b"])
      assert.deepStrictEqual(slugs((yield* repo.list({ tag: "web", status: "published" })).items), ["b"])
      assert.deepStrictEqual(slugs((yield* repo.list({ tag: "Rust" })).items), ["a", "c"], "tags match whatever their case")
      assert.deepStrictEqual(slugs((yield* repo.list({ tag: "missing" })).items), [])
    }))

    test("a tag is one tag whatever its case: list, paging and tags (created and upserted alike)", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* repo.create(makeNewPost({ slug: "a", tags: ["Rust", "web"], publishedAt: "2020-01-06T00:00:00Z" }))
      yield* repo.upsertMany([
        makeNewPost({ slug: "b", tags: ["rust"], publishedAt: "2020-01-05T00:00:00Z" }),
        // Both spellings on one post: listed once, counted once, stored in its first spelling.
        makeNewPost({ slug: "c", tags: ["RUST", "rust"], publishedAt: "2020-01-04T00:00:00Z" }),
        makeNewPost({ slug: "d", tags: ["rust"], status: "draft", publishedAt: "2020-01-03T00:00:00Z" }),
        // Beyond ASCII (SQLite's lower() would not fold it): one key for both.
        makeNewPost({ slug: "e", tags: ["Ärger"], publishedAt: "2020-01-02T00:00:00Z" }),
        makeNewPost({ slug: "f", tags: ["ärger"], status: "draft", publishedAt: "2020-01-01T00:00:00Z" })
      ])
      assert.deepStrictEqual(slugs((yield* repo.list({ tag: "rust" })).items), ["a", "b", "c", "d"])
      assert.deepStrictEqual(slugs((yield* repo.list({ tag: "RuSt", status: "published" })).items), ["a", "b", "c"])
      assert.deepStrictEqual(slugs(yield* walk({ tag: "RUST", limit: 1 })), ["a", "b", "c", "d"])
      assert.deepStrictEqual(slugs((yield* repo.list({ tag: "ÄRGER" })).items), ["e", "f"])
      assert.deepStrictEqual(slugs((yield* repo.list({ tag: "arger" })).items), [], "case only, not accents")
      // Named by the spelling most posts use; "Ärger" and "ärger" tie: the first in string order.
      assert.deepStrictEqual(yield* repo.tags(), [
        { tag: "rust", count: 4 },
        { tag: "Ärger", count: 2 },
        { tag: "web", count: 1 }
      ])
      // "RUST", "Rust" and "rust" once each among the published: the first in string order.
      assert.deepStrictEqual(yield* repo.tags("published"), [
        { tag: "RUST", count: 3 },
        { tag: "web", count: 1 },
        { tag: "Ärger", count: 1 }
      ])
      // One tag's entry, asked in any case.
      assert.deepStrictEqual(yield* repo.tags("published", undefined, "rUsT"), [{ tag: "RUST", count: 3 }])
      assert.deepStrictEqual(yield* repo.tags(undefined, undefined, "ÄRGER"), [{ tag: "Ärger", count: 2 }])
      assert.deepStrictEqual(yield* repo.tags("draft", undefined, "web"), [])
      assert.deepStrictEqual(yield* repo.tags("published", DateTime.unsafeMake("2020-01-05T00:00:00Z"), "RUST"), [{ tag: "RUST", count: 2 }])
      // An update rewrites the post's tags: its old spelling no longer counts.
      const b = yield* repo.getBySlug("b")
      yield* repo.update("b", b.version, makeNewPost({ slug: "b", tags: ["Rust"], publishedAt: "2020-01-05T00:00:00Z" }))
      assert.deepStrictEqual(yield* repo.tags("published", undefined, "rust"), [{ tag: "Rust", count: 3 }])
      yield* repo.delete("a")
      assert.deepStrictEqual(yield* repo.tags("published", undefined, "rust"), [{ tag: "RUST", count: 2 }])
      assert.deepStrictEqual(slugs((yield* repo.list({ tag: "rust", status: "published" })).items), ["b", "c"])
    }))

    test("limit defaults, is clamped to 1.., and never exceeds MAX_PAGE_SIZE", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* seed(MAX_PAGE_SIZE + 5)
      assert.strictEqual((yield* repo.list({})).items.length, DEFAULT_PAGE_SIZE)
      assert.strictEqual((yield* repo.list({ limit: 0 })).items.length, 1)
      assert.strictEqual((yield* repo.list({ limit: -7 })).items.length, 1)
      assert.strictEqual((yield* repo.list({ limit: 3 })).items.length, 3)
      const max = yield* repo.list({ limit: 10_000 })
      assert.strictEqual(max.items.length, MAX_PAGE_SIZE)
      assert.isNotNull(max.next)
    }))

    test("cursor pagination visits every post exactly once, in order", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* seed(25)
      const all = (yield* repo.list({ limit: MAX_PAGE_SIZE })).items
      assert.strictEqual(all.length, 25)
      const walked = yield* walk({ limit: 7 })
      assert.deepStrictEqual(slugs(walked), slugs(all))
      const odd = yield* walk({ limit: 4, tag: "odd" })
      assert.strictEqual(odd.length, 12)
      assert.deepStrictEqual(slugs(odd), slugs(all.filter((p) => p.tags.includes("odd"))))
      const exact = yield* repo.list({ limit: 25 })
      assert.strictEqual(exact.items.length, 25)
      assert.isNull(exact.next)
    }))

    test("neighbours: the posts of a status just newer and just older than a post, in the listing's order", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* seed(12)
      // Drafts in between are passed over, whatever their dates.
      yield* repo.upsertMany([
        makeNewPost({ slug: "draft-mid", status: "draft", publishedAt: "2020-01-03T12:00:00.000Z" }),
        makeNewPost({ slug: "draft-tie", status: "draft", publishedAt: "2020-01-04T00:00:00.000Z" })
      ])
      const published = (yield* repo.list({ status: "published", limit: MAX_PAGE_SIZE })).items
      assert.strictEqual(published.length, 12)
      assert.isDefined(repo.neighbours, "the repository answers neighbour queries")
      for (const [i, post] of published.entries()) {
        const { newer, older } = yield* repo.neighbours!(post, "published")
        assert.deepStrictEqual([newer?.slug, older?.slug], [published[i - 1]?.slug, published[i + 1]?.slug], post.slug)
      }
      // A draft's neighbours among the published posts (where it would stand if published).
      const draft = yield* repo.getBySlug("draft-mid")
      const { newer, older } = yield* repo.neighbours!(draft, "published")
      const place = published.findIndex((p) => DateTime.lessThan(p.publishedAt!, draft.publishedAt!))
      assert.deepStrictEqual([newer?.slug, older?.slug], [published[place - 1]?.slug, published[place]?.slug])
    }))

    test("offset skips posts; a cursor takes precedence; an unreadable cursor is InvalidCursor", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* seed(10)
      const all = slugs((yield* repo.list({})).items)
      assert.deepStrictEqual(slugs((yield* repo.list({ offset: 3, limit: 2 })).items), all.slice(3, 5))
      const past = yield* repo.list({ offset: 50 })
      assert.deepStrictEqual(past.items, [])
      assert.isNull(past.next)
      // Beyond what an engine's integer holds (SQLite's and PostgreSQL's are 64-bit): still an empty page.
      for (const offset of [1e20, Number.MAX_VALUE]) assert.deepStrictEqual((yield* repo.list({ offset })).items, [], String(offset))
      const first = yield* repo.list({ limit: 2 })
      assert.isNotNull(first.next)
      const second = yield* repo.list({ limit: 2, cursor: first.next!, offset: 5 })
      assert.deepStrictEqual(slugs(second.items), all.slice(2, 4))
      for (const cursor of ["not-a-cursor", "", first.next!.slice(0, -3)]) {
        const garbage = yield* Effect.flip(repo.list({ cursor }))
        assert.strictEqual(garbage._tag, "InvalidCursor", cursor)
        if (garbage._tag === "InvalidCursor") assert.strictEqual(garbage.cursor, cursor)
      }
    }))

    test("movedFrom: a slug a post left leads to it, through later moves, until a post takes the slug again", Effect.gen(function*() {
      const repo = yield* PostRepository
      // Optional in the port (a store without it serves old URLs as 404s), but every store here offers it.
      assert.isDefined(repo.movedFrom)
      // Plain values: chai's deep equality takes Option.none() and Option.some(x) for equal.
      const movedFrom = (slug: string) => Effect.map(repo.movedFrom!(slug), (moved) => Option.getOrUndefined(Option.map(moved, (post) => post.slug)))
      const created = yield* repo.create(makeNewPost({ slug: "first", source: "a.md" }))
      assert.deepStrictEqual(yield* movedFrom("first"), undefined, "a live slug is no redirect")
      const second = yield* repo.update("first", 1, makeNewPost({ slug: "second", source: "a.md" }))
      assert.deepStrictEqual(yield* movedFrom("first"), "second")
      yield* repo.update("second", second.version, makeNewPost({ slug: "third", source: "a.md" }))
      assert.deepStrictEqual([yield* movedFrom("first"), yield* movedFrom("second")], ["third", "third"])
      assert.strictEqual(Option.getOrThrow(yield* repo.movedFrom(("first"))).id, created.id)
      // Taken again by another post: live, no longer a redirect.
      yield* repo.create(makeNewPost({ slug: "second", source: "b.md" }))
      assert.deepStrictEqual(yield* movedFrom("second"), undefined)
      // An import that moves a post (same source, new slug) leaves a redirect; a dry run does not.
      yield* repo.upsertMany([makeNewPost({ slug: "imported", source: "c.md" })])
      yield* repo.upsertMany([makeNewPost({ slug: "imported-dry", source: "c.md", body: "Edited." })], { dryRun: true })
      assert.deepStrictEqual(yield* movedFrom("imported"), undefined)
      const moved = yield* repo.upsertMany([makeNewPost({ slug: "imported-renamed", source: "c.md", body: "Edited." })])
      assert.strictEqual(moved.outcomes[0]!.movedFrom, "imported")
      assert.deepStrictEqual(yield* movedFrom("imported"), "imported-renamed")
      // Deleted, its old addresses lead nowhere.
      const third = yield* repo.getBySlug("third")
      yield* repo.delete("third", third.version)
      assert.deepStrictEqual([yield* movedFrom("first"), yield* movedFrom("third")], [undefined, undefined])
    }))

    test("oldSlugs: the slugs leading to each post, in one read for many posts", Effect.gen(function*() {
      const repo = yield* PostRepository
      assert.isDefined(repo.oldSlugs)
      const moved = yield* repo.create(makeNewPost({ slug: "b-first", source: "a.md" }))
      const still = yield* repo.create(makeNewPost({ slug: "still", source: "s.md" }))
      const second = yield* repo.update("b-first", 1, makeNewPost({ slug: "a-second", source: "a.md" }))
      yield* repo.update("a-second", second.version, makeNewPost({ slug: "third", source: "a.md" }))
      const found = yield* repo.oldSlugs!([moved.id, still.id, "no-such-id"])
      assert.deepStrictEqual([...found.entries()], [[moved.id, ["a-second", "b-first"]]])
      assert.strictEqual((yield* repo.oldSlugs!([])).size, 0)
    }))

    test("upsertMany redirects: old slugs lead to the stored post unless live or already leading elsewhere", Effect.gen(function*() {
      const repo = yield* PostRepository
      // Plain values: chai's deep equality takes Option.none() and Option.some(x) for equal.
      const movedFrom = (slug: string) => Effect.map(repo.movedFrom!(slug), (moved) => Option.getOrUndefined(Option.map(moved, (post) => post.slug)))
      yield* repo.create(makeNewPost({ slug: "live", source: "live.md" }))
      const other = yield* repo.create(makeNewPost({ slug: "elsewhere-old", source: "o.md" }))
      yield* repo.update("elsewhere-old", other.version, makeNewPost({ slug: "elsewhere", source: "o.md" }))
      const post = makeNewPost({ slug: "new", source: "n.md" })
      const redirects = [["gone", "live", "elsewhere-old", "new", "later"]]
      // A dry run writes none (and says which it would).
      const dry = yield* repo.upsertMany([post], { redirects, dryRun: true })
      assert.deepStrictEqual(dry.redirectsAdded, ["gone", "later"])
      assert.deepStrictEqual(yield* movedFrom("gone"), undefined)
      // A later post of the batch takes "later": live, so no redirect.
      const first = yield* repo.upsertMany([post, makeNewPost({ slug: "later", source: "l.md" })], { redirects })
      assert.deepStrictEqual(actions(first.outcomes), ["inserted", "inserted"])
      assert.deepStrictEqual(first.redirectsAdded, ["gone"], "the result names the redirects made, only those")
      assert.deepStrictEqual(yield* movedFrom("gone"), "new")
      assert.deepStrictEqual(
        [yield* movedFrom("live"), yield* movedFrom("elsewhere-old"), yield* movedFrom("new"), yield* movedFrom("later")],
        [undefined, "elsewhere", undefined, undefined]
      )
      const stored = yield* repo.getBySlug("new")
      assert.deepStrictEqual((yield* repo.oldSlugs!([stored.id])).get(stored.id), ["gone"])
      // Again: unchanged (redirects are no content), and nothing doubled.
      const again = yield* repo.upsertMany([post], { redirects })
      assert.deepStrictEqual(actions(again.outcomes), ["unchanged"])
      assert.isUndefined(again.redirectsAdded, "every redirect was in place")
      assert.strictEqual((yield* repo.getBySlug("new")).version, 1)
      assert.deepStrictEqual((yield* repo.oldSlugs!([stored.id])).get(stored.id), ["gone"])
      // A post not stored (a conflict) leaves its old slugs alone.
      const conflict = yield* repo.upsertMany([makeNewPost({ slug: "new", source: "x.md" })], { redirects: [["from-conflict"]] })
      assert.deepStrictEqual(actions(conflict.outcomes), ["conflict"])
      assert.isUndefined(conflict.redirectsAdded)
      assert.deepStrictEqual(yield* movedFrom("from-conflict"), undefined)
      // An unchanged post gaining an old slug: only the store can tell it did.
      const gained = yield* repo.upsertMany([post], { redirects: [["gone", "older"]] })
      assert.deepStrictEqual([actions(gained.outcomes), gained.redirectsAdded], [["unchanged"], ["older"]])
    }))

    test("update replaces the content and bumps the version", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* at("2024-01-01T00:00:00Z")
      const created = yield* repo.create(makeNewPost({ slug: "doc", tags: ["a"] }))
      yield* at("2024-02-01T00:00:00Z")
      const updated = yield* repo.update("doc", 1, makeNewPost({ slug: "doc", title: "New title", tags: ["b"] }))
      assert.strictEqual(updated.version, 2)
      assert.strictEqual(updated.id, created.id)
      assert.strictEqual(updated.title, "New title")
      assert.strictEqual(DateTime.formatIso(updated.createdAt), "2024-01-01T00:00:00.000Z")
      assert.strictEqual(DateTime.formatIso(updated.updatedAt), "2024-02-01T00:00:00.000Z")
      assert.deepStrictEqual(encodePost(yield* repo.getBySlug("doc")), encodePost(updated))
      assert.deepStrictEqual(slugs((yield* repo.list({ tag: "b" })).items), ["doc"])
      assert.deepStrictEqual(slugs((yield* repo.list({ tag: "a" })).items), [])
      const again = yield* repo.update("doc", 2, makeNewPost({ slug: "doc", title: "New title", tags: ["b"] }))
      assert.strictEqual(again.version, 3)
    }))

    test("update at a stale version is StaleVersion with expected and actual", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* repo.create(makeNewPost({ slug: "doc" }))
      yield* repo.update("doc", 1, makeNewPost({ slug: "doc", title: "Second" }))
      const error = yield* Effect.flip(repo.update("doc", 1, makeNewPost({ slug: "doc", title: "Lost" })))
      assert.strictEqual(error._tag, "StaleVersion")
      if (error._tag === "StaleVersion") {
        assert.deepStrictEqual([error.slug, error.expected, error.actual], ["doc", 1, 2])
      }
      const stored = yield* repo.getBySlug("doc")
      assert.deepStrictEqual([stored.title, stored.version], ["Second", 2])
      const missing = yield* Effect.flip(repo.update("ghost", 1, makeNewPost({ slug: "ghost" })))
      assert.strictEqual(missing._tag, "PostNotFound")
    }))

    test("update may rename; a taken slug is SlugConflict and changes nothing", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* repo.create(makeNewPost({ slug: "before" }))
      yield* repo.create(makeNewPost({ slug: "other" }))
      const renamed = yield* repo.update("before", 1, makeNewPost({ slug: "after" }))
      assert.deepStrictEqual([renamed.slug, renamed.version], ["after", 2])
      assert.strictEqual((yield* Effect.flip(repo.getBySlug("before")))._tag, "PostNotFound")
      assert.strictEqual((yield* repo.getBySlug("after")).id, renamed.id)
      const error = yield* Effect.flip(repo.update("after", 2, makeNewPost({ slug: "other", title: "Clash" })))
      assert.strictEqual(error._tag, "SlugConflict")
      assert.strictEqual(error._tag === "SlugConflict" && error.slug, "other")
      const after = yield* repo.getBySlug("after")
      assert.deepStrictEqual([after.version, after.title], [2, "Post after"])
      assert.strictEqual((yield* repo.getBySlug("other")).title, "Post other")
    }))

    test("delete removes the post, honouring expectedVersion", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* repo.create(makeNewPost({ slug: "gone", tags: ["x"] }))
      yield* repo.create(makeNewPost({ slug: "kept" }))
      yield* repo.update("kept", 1, makeNewPost({ slug: "kept", title: "v2" }))
      yield* repo.delete("gone")
      assert.strictEqual((yield* Effect.flip(repo.getBySlug("gone")))._tag, "PostNotFound")
      assert.strictEqual((yield* Effect.flip(repo.delete("gone")))._tag, "PostNotFound")
      assert.deepStrictEqual(yield* repo.tags(), [{ tag: "test", count: 1 }])
      const stale = yield* Effect.flip(repo.delete("kept", 1))
      assert.strictEqual(stale._tag, "StaleVersion")
      if (stale._tag === "StaleVersion") assert.deepStrictEqual([stale.expected, stale.actual], [1, 2])
      assert.strictEqual((yield* repo.getBySlug("kept")).version, 2)
      yield* repo.delete("kept", 2)
      assert.deepStrictEqual((yield* repo.list({})).items, [])
    }))

    test("a conditional write naming another post's content hash is StaleVersion (a slug deleted and reused)", Effect.gen(function*() {
      const repo = yield* PostRepository
      const old = yield* repo.create(makeNewPost({ slug: "reused", title: "Old" }))
      yield* repo.delete("reused")
      const current = yield* repo.create(makeNewPost({ slug: "reused", title: "New" }))
      assert.strictEqual(current.version, old.version)
      assert.notStrictEqual(hashTagOf(current), hashTagOf(old))

      const update = yield* Effect.flip(repo.update("reused", 1, makeNewPost({ slug: "reused", title: "Lost" }), hashTagOf(old)))
      assert.strictEqual(update._tag, "StaleVersion")
      if (update._tag === "StaleVersion") assert.deepStrictEqual([update.expected, update.actual], [1, 1])
      const remove = yield* Effect.flip(repo.delete("reused", 1, hashTagOf(old)))
      assert.strictEqual(remove._tag, "StaleVersion")
      assert.strictEqual((yield* repo.getBySlug("reused")).title, "New")

      const updated = yield* repo.update("reused", 1, makeNewPost({ slug: "reused", title: "Edited" }), hashTagOf(current))
      assert.strictEqual(updated.version, 2)
      yield* repo.delete("reused", 2, hashTagOf(updated))
      assert.strictEqual((yield* Effect.flip(repo.getBySlug("reused")))._tag, "PostNotFound")
    }))

    test("upsertMany inserts, updates changed posts and leaves unchanged ones alone", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* at("2024-01-01T00:00:00Z")
      const first = yield* repo.upsertMany([makeNewPost({ slug: "a" }), makeNewPost({ slug: "b" })])
      assert.deepStrictEqual(first.outcomes, [
        { slug: "a", source: "fixtures/a.md", action: "inserted" },
        { slug: "b", source: "fixtures/b.md", action: "inserted" }
      ])
      yield* at("2024-02-01T00:00:00Z")
      const second = yield* repo.upsertMany([
        makeNewPost({ slug: "a" }),
        makeNewPost({ slug: "b", body: "changed" }),
        makeNewPost({ slug: "c" })
      ])
      assert.deepStrictEqual(actions(second.outcomes), ["unchanged", "updated", "inserted"])
      const a = yield* repo.getBySlug("a")
      const b = yield* repo.getBySlug("b")
      assert.deepStrictEqual([a.version, DateTime.formatIso(a.updatedAt)], [1, "2024-01-01T00:00:00.000Z"])
      assert.deepStrictEqual([b.version, b.body, DateTime.formatIso(b.updatedAt)], [2, "changed", "2024-02-01T00:00:00.000Z"])
      assert.strictEqual(DateTime.formatIso(b.createdAt), "2024-01-01T00:00:00.000Z")
      assert.strictEqual((yield* repo.getBySlug("c")).version, 1)
      assert.deepStrictEqual((yield* repo.upsertMany([])).outcomes, [])
    }))

    test("re-running the same batch changes nothing", Effect.gen(function*() {
      const repo = yield* PostRepository
      const batch = Array.from({ length: 5 }, (_, i) => makeNewPost({ slug: `post-${i}` }))
      yield* repo.upsertMany(batch)
      const before = (yield* repo.list({})).items.map((p) => encodePost(p))
      yield* TestClock.adjust("1 hour")
      const again = yield* repo.upsertMany(batch)
      assert.deepStrictEqual(actions(again.outcomes), Array(5).fill("unchanged"))
      assert.deepStrictEqual((yield* repo.list({})).items.map((p) => encodePost(p)), before)
    }))

    test("a later post in a batch sees the earlier one", Effect.gen(function*() {
      const repo = yield* PostRepository
      const result = yield* repo.upsertMany([
        makeNewPost({ slug: "twice" }),
        makeNewPost({ slug: "twice", body: "second body" })
      ])
      assert.deepStrictEqual(actions(result.outcomes), ["inserted", "updated"])
      const stored = yield* repo.getBySlug("twice")
      assert.deepStrictEqual([stored.body, stored.version], ["second body", 2])
    }))

    test("a slug taken by another source: fail reports a conflict, skip skips", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* repo.create(makeNewPost({ slug: "shared", source: "blog-a/shared.md", title: "A" }))
      const intruder = makeNewPost({ slug: "shared", source: "blog-b/shared.md", title: "B" })
      const failed = yield* repo.upsertMany([intruder, makeNewPost({ slug: "fine" })])
      assert.deepStrictEqual(failed.outcomes, [
        // `heldBy`: the stored post's source, for the report to name (was: not said).
        { slug: "shared", source: "blog-b/shared.md", action: "conflict", heldBy: "blog-a/shared.md" },
        { slug: "fine", source: "fixtures/fine.md", action: "inserted" }
      ])
      const skipped = yield* repo.upsertMany([intruder], { onSlugConflict: "skip" })
      assert.deepStrictEqual(skipped.outcomes, [{ slug: "shared", source: "blog-b/shared.md", action: "skipped", heldBy: "blog-a/shared.md" }])
      const stored = yield* repo.getBySlug("shared")
      assert.deepStrictEqual([stored.title, stored.source, stored.version], ["A", "blog-a/shared.md", 1])
      assert.strictEqual((yield* repo.list({})).items.length, 2)
    }))

    test("suffix stores the post under slug-2, slug-3 ... and a re-run finds it again", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* repo.create(makeNewPost({ slug: "shared", source: "blog-a/shared.md" }))
      const fromB = makeNewPost({ slug: "shared", source: "blog-b/shared.md", title: "B" })
      const first = yield* repo.upsertMany([fromB], { onSlugConflict: "suffix" })
      assert.deepStrictEqual(first.outcomes, [
        { slug: "shared", source: "blog-b/shared.md", action: "renamed", storedSlug: "shared-2" }
      ])
      const stored = yield* repo.getBySlug("shared-2")
      assert.deepStrictEqual([stored.source, stored.title, stored.version], ["blog-b/shared.md", "B", 1])

      const rerun = yield* repo.upsertMany([fromB], { onSlugConflict: "suffix" })
      assert.deepStrictEqual(rerun.outcomes, [
        { slug: "shared", source: "blog-b/shared.md", action: "unchanged", storedSlug: "shared-2" }
      ])
      const changed = yield* repo.upsertMany(
        [makeNewPost({ slug: "shared", source: "blog-b/shared.md", title: "B2" })],
        { onSlugConflict: "suffix" }
      )
      assert.deepStrictEqual(actions(changed.outcomes), ["updated"])
      assert.deepStrictEqual(
        [(yield* repo.getBySlug("shared-2")).title, (yield* repo.getBySlug("shared-2")).version],
        ["B2", 2]
      )

      const fromC = makeNewPost({ slug: "shared", source: "blog-c/shared.md" })
      const third = yield* repo.upsertMany([fromC], { onSlugConflict: "suffix" })
      assert.deepStrictEqual(third.outcomes.map((o) => o.storedSlug), ["shared-3"])
      assert.strictEqual((yield* repo.list({})).items.length, 3)
      assert.strictEqual((yield* repo.getBySlug("shared")).source, "blog-a/shared.md")
    }))

    test("a post whose slug changed (title or slug: edited) moves: one row, same id, next version, old slug gone", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* at("2024-01-01T00:00:00Z")
      yield* repo.upsertMany([
        makeNewPost({ slug: "first-title", title: "First Title", source: "/blog/a.md" }),
        makeNewPost({ slug: "other", source: "/blog/other.md" })
      ])
      const before = yield* repo.getBySlug("first-title")
      yield* at("2024-02-01T00:00:00Z")
      const edited = makeNewPost({ slug: "second-title", title: "Second Title", body: "Hello again", source: "/blog/a.md" })
      const moved = yield* repo.upsertMany([edited, makeNewPost({ slug: "other", source: "/blog/other.md" })])
      assert.deepStrictEqual(moved.outcomes, [
        { slug: "second-title", source: "/blog/a.md", action: "updated", movedFrom: "first-title" },
        { slug: "other", source: "/blog/other.md", action: "unchanged" }
      ])
      const after = yield* repo.getBySlug("second-title")
      assert.deepStrictEqual(
        [after.id, after.version, after.title, after.body, after.source, DateTime.formatIso(after.createdAt), DateTime.formatIso(after.updatedAt)],
        [before.id, 2, "Second Title", "Hello again", "/blog/a.md", "2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z"]
      )
      assert.strictEqual((yield* Effect.flip(repo.getBySlug("first-title")))._tag, "PostNotFound")
      assert.deepStrictEqual(slugs((yield* repo.list({})).items).sort(), ["other", "second-title"])

      // A re-run is unchanged and idempotent; moving again (a second edit) keeps the same post.
      yield* TestClock.adjust("1 hour")
      const again = yield* repo.upsertMany([edited])
      assert.deepStrictEqual(again.outcomes, [{ slug: "second-title", source: "/blog/a.md", action: "unchanged" }])
      assert.strictEqual((yield* repo.getBySlug("second-title")).version, 2)
      const third = yield* repo.upsertMany([makeNewPost({ slug: "pinned-by-slug", title: "Second Title", source: "/blog/a.md" })])
      assert.deepStrictEqual(third.outcomes.map((o) => [o.action, o.movedFrom]), [["updated", "second-title"]])
      const pinned = yield* repo.getBySlug("pinned-by-slug")
      assert.deepStrictEqual([pinned.id, pinned.version], [before.id, 3])
      assert.strictEqual((yield* repo.list({})).items.length, 2)
    }))

    test("a moved post's new slug owned by another source: the policy applies and the old post stays", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* repo.upsertMany([
        makeNewPost({ slug: "mine", source: "/blog/a.md", title: "Mine" }),
        makeNewPost({ slug: "theirs", source: "/blog/b.md", title: "Theirs" })
      ])
      const renamed = makeNewPost({ slug: "theirs", source: "/blog/a.md", title: "Theirs too" })
      assert.deepStrictEqual(actions((yield* repo.upsertMany([renamed])).outcomes), ["conflict"])
      assert.deepStrictEqual(actions((yield* repo.upsertMany([renamed], { onSlugConflict: "skip" })).outcomes), ["skipped"])
      for (const [slug, title, source] of [["mine", "Mine", "/blog/a.md"], ["theirs", "Theirs", "/blog/b.md"]] as const) {
        const stored = yield* repo.getBySlug(slug)
        assert.deepStrictEqual([stored.title, stored.source, stored.version], [title, source, 1])
      }
      // The post left where it was still moves once its new slug is free of the other source.
      const free = yield* repo.upsertMany([makeNewPost({ slug: "mine-again", source: "/blog/a.md", title: "Mine again" })])
      assert.deepStrictEqual(free.outcomes, [{ slug: "mine-again", source: "/blog/a.md", action: "updated", movedFrom: "mine" }])
      assert.deepStrictEqual(slugs((yield* repo.list({})).items).sort(), ["mine-again", "theirs"])
      const suffixed = yield* repo.upsertMany([renamed], { onSlugConflict: "suffix" })
      assert.deepStrictEqual(suffixed.outcomes, [{ slug: "theirs", source: "/blog/a.md", action: "renamed", storedSlug: "theirs-2" }])
      const kept = yield* repo.getBySlug("mine-again")
      assert.deepStrictEqual([kept.title, kept.version], ["Mine again", 2])
      assert.strictEqual((yield* repo.list({})).items.length, 3)
    }))

    test("no move when the source is ambiguous: several stored posts, several in the batch, or pinned", Effect.gen(function*() {
      const repo = yield* PostRepository
      // Two stored posts share a source (a suffixed copy and its original): which one moves is a guess.
      yield* repo.upsertMany([
        makeNewPost({ slug: "twin", source: "/blog/twin.md" }),
        makeNewPost({ slug: "twin-2", source: "/blog/twin.md", title: "Copy" }),
        makeNewPost({ slug: "solo", source: "/blog/solo.md" }),
        makeNewPost({ slug: "single", source: "/blog/single.md" })
      ])
      // Decided post by post: in the same batch, the unambiguous one moves.
      const twin = yield* repo.upsertMany([
        makeNewPost({ slug: "twin-new", source: "/blog/twin.md" }),
        makeNewPost({ slug: "single-new", source: "/blog/single.md" })
      ])
      assert.deepStrictEqual(twin.outcomes, [
        { slug: "twin-new", source: "/blog/twin.md", action: "inserted" },
        { slug: "single-new", source: "/blog/single.md", action: "updated", movedFrom: "single" }
      ])
      // Two posts of the batch carry one source (records sharing a `source`): both are stored.
      const shared = yield* repo.upsertMany([
        makeNewPost({ slug: "solo-a", source: "/blog/solo.md" }),
        makeNewPost({ slug: "solo-b", source: "/blog/solo.md" })
      ])
      assert.deepStrictEqual(actions(shared.outcomes), ["inserted", "inserted"])
      yield* repo.upsertMany([makeNewPost({ slug: "kept", source: "/blog/kept.md" })])
      const pinned = yield* repo.upsertMany(
        [makeNewPost({ slug: "kept-new", source: "/blog/kept.md" })],
        { pinnedSources: new Set(["/blog/kept.md"]) }
      )
      assert.deepStrictEqual(actions(pinned.outcomes), ["inserted"])
      assert.deepStrictEqual(
        slugs((yield* repo.list({})).items).sort(),
        ["kept", "kept-new", "single-new", "solo", "solo-a", "solo-b", "twin", "twin-2", "twin-new"]
      )
    }))

    test("no move from a source that names no one post: API posts, an upload's line", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* at("2024-01-01T00:00:00Z")
      yield* repo.create(makeNewPost({ slug: "about", title: "About", body: "About me.", source: API_SOURCE }))
      yield* repo.upsertMany([makeNewPost({ slug: "one", source: "request:1" })])
      // A backup's API post restored, and line 1 of another upload: each the one stored post of
      // its source, but no other post's rename.
      yield* at("2024-02-01T00:00:00Z")
      const restored = yield* repo.upsertMany([
        makeNewPost({ slug: "contact", title: "Contact", body: "Write to me.", source: API_SOURCE }),
        makeNewPost({ slug: "two", source: "request:1" })
      ])
      assert.deepStrictEqual(restored.outcomes, [
        { slug: "contact", source: API_SOURCE, action: "inserted" },
        { slug: "two", source: "request:1", action: "inserted" }
      ])
      const about = yield* repo.getBySlug("about")
      assert.deepStrictEqual([about.title, about.body, about.version], ["About", "About me.", 1])
      assert.deepStrictEqual(slugs((yield* repo.list({})).items).sort(), ["about", "contact", "one", "two"])
      assert.isTrue(Option.isNone(yield* repo.movedFrom!("about")), "about is no old slug")
      // With "suffix", an API post at the suffixed slug is another post, not an earlier copy.
      yield* repo.upsertMany([makeNewPost({ slug: "taken", source: "/blog/taken.md" })])
      yield* repo.create(makeNewPost({ slug: "taken-2", title: "Taken 2", body: "Mine.", source: API_SOURCE }))
      const suffixed = yield* repo.upsertMany(
        [makeNewPost({ slug: "taken", title: "Taken", body: "Restored.", source: API_SOURCE })],
        { onSlugConflict: "suffix" }
      )
      assert.deepStrictEqual(suffixed.outcomes, [{ slug: "taken", source: API_SOURCE, action: "renamed", storedSlug: "taken-3" }])
      const mine = yield* repo.getBySlug("taken-2")
      assert.deepStrictEqual([mine.body, mine.version], ["Mine.", 1])
      // The same content again is the copy stored before: a re-run stores no third one.
      const again = yield* repo.upsertMany(
        [makeNewPost({ slug: "taken", title: "Taken", body: "Restored.", source: API_SOURCE })],
        { onSlugConflict: "suffix" }
      )
      assert.deepStrictEqual(again.outcomes, [{ slug: "taken", source: API_SOURCE, action: "unchanged", storedSlug: "taken-3" }])
    }))

    test("a post stored under a relative source by an older version moves too", Effect.gen(function*() {
      const repo = yield* PostRepository
      const absolute = resolve("legacy/old.md")
      yield* repo.upsertMany([makeNewPost({ slug: "old-title", source: relative(process.cwd(), absolute) })])
      const before = yield* repo.getBySlug("old-title")
      const moved = yield* repo.upsertMany([makeNewPost({ slug: "new-title", source: absolute })])
      assert.deepStrictEqual(moved.outcomes, [{ slug: "new-title", source: absolute, action: "updated", movedFrom: "old-title" }])
      const after = yield* repo.getBySlug("new-title")
      assert.deepStrictEqual([after.id, after.version, after.source], [before.id, 2, absolute])
      assert.strictEqual((yield* repo.list({})).items.length, 1)
    }))

    test("a post stored under a former source (formerSources) is the incoming post's: refreshed, moved, its suffixed copy found; a feed's positional item at its slug too", Effect.gen(function*() {
      const repo = yield* PostRepository
      const feed = "http://blog.example/feed.xml"
      const cdn = "https://cdn.example/feed.xml?utm=1"
      // As an earlier version stored them: by where the items were fetched from, by position.
      yield* repo.upsertMany([
        makeNewPost({ slug: "kept", body: "Kept.", source: `${cdn}#g-1` }),
        makeNewPost({ slug: "old-title", source: `${cdn}#g-2` }),
        makeNewPost({ slug: "edited", body: "Before.", source: `${cdn}#g-3` }),
        makeNewPost({ slug: "untitled-a", body: "A.", source: `${feed}#item-0` })
      ])
      const ids = new Map<string, string>((yield* repo.list({})).items.map((p) => [p.slug, p.id]))
      const result = yield* repo.upsertMany([
        makeNewPost({ slug: "kept", body: "Kept.", source: `${feed}#g-1` }),
        makeNewPost({ slug: "new-title", source: `${feed}#g-2` }),
        makeNewPost({ slug: "edited", body: "After.", source: `${feed}#g-3` }),
        makeNewPost({ slug: "untitled-a", body: "A.", source: `${feed}#title:A` }),
        makeNewPost({ slug: "untitled-c", body: "C.", source: `${feed}#title:C` })
      ], { formerSources: [[`${cdn}#g-1`], [`${cdn}#g-2`], [`${cdn}#g-3`], undefined, undefined] })
      assert.deepStrictEqual(result.outcomes.map((o) => [o.slug, o.action, o.movedFrom ?? null]), [
        ["kept", "unchanged", null],
        ["new-title", "updated", "old-title"],
        ["edited", "updated", null],
        ["untitled-a", "unchanged", null],
        ["untitled-c", "inserted", null]
      ])
      const stored = (yield* repo.list({})).items
      assert.deepStrictEqual(
        stored.map((p) => [p.slug, p.source]).sort(),
        [
          ["edited", `${feed}#g-3`],
          ["kept", `${feed}#g-1`],
          ["new-title", `${feed}#g-2`],
          ["untitled-a", `${feed}#title:A`],
          ["untitled-c", `${feed}#title:C`]
        ],
        "known by the new sources from then on"
      )
      for (const [slug, was] of [["kept", "kept"], ["new-title", "old-title"], ["edited", "edited"], ["untitled-a", "untitled-a"]] as const) {
        assert.strictEqual(stored.find((p) => p.slug === slug)!.id, ids.get(was), slug)
      }
      // A positional source is the feed's item only at its own slug, never moved to another's.
      yield* repo.upsertMany([makeNewPost({ slug: "untitled-b", body: "B.", source: `${feed}#item-1` })])
      const other = yield* repo.upsertMany([makeNewPost({ slug: "untitled-d", body: "D.", source: `${feed}#title:D` })])
      assert.deepStrictEqual(actions(other.outcomes), ["inserted"])
      assert.strictEqual((yield* repo.getBySlug("untitled-b")).body, "B.")
      // With "suffix": a copy stored under a former source is found again, not copied once more.
      yield* repo.upsertMany([makeNewPost({ slug: "taken", source: "/blog/taken.md" })])
      yield* repo.upsertMany([makeNewPost({ slug: "taken", body: "Copy.", source: `${cdn}#g-9` })], { onSlugConflict: "suffix" })
      const copy = yield* repo.upsertMany(
        [makeNewPost({ slug: "taken", body: "Copy.", source: `${feed}#g-9` })],
        { onSlugConflict: "suffix", formerSources: [[`${cdn}#g-9`]] }
      )
      assert.deepStrictEqual(copy.outcomes, [{ slug: "taken", source: `${feed}#g-9`, action: "unchanged", storedSlug: "taken-2" }])
      assert.strictEqual((yield* repo.list({})).items.filter((p) => p.slug.startsWith("taken")).length, 2)
    }))

    test("two names of a post by one UUID on one origin are two sources (a slug conflict, nothing replaced) unless the incoming post names the stored one (formerSources)", Effect.gen(function*() {
      const repo = yield* PostRepository
      const id = "0f8fad5b-d9cb-469f-a165-70867728950e"
      const other = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
      const alice = `https://a.example/alice/feed.json#urn:uuid:${id}`
      const api = `https://a.example/posts#${other}`
      const feed = `https://a.example/feed.json#urn:uuid:${id}`
      yield* repo.upsertMany([
        makeNewPost({ slug: "alices", body: "Alice's.", source: alice }),
        makeNewPost({ slug: "by-api", body: "From the API.", source: api }),
        makeNewPost({ slug: "by-feed", body: "From the feed.", source: feed })
      ])
      const result = yield* repo.upsertMany([
        // Two Inkwells on one origin, one keeping the ids of the posts it imported from the other
        // (was: "updated", Alice's post replaced by Bob's).
        makeNewPost({ slug: "alices", body: "Bob's.", source: `https://a.example/bob/feed.json#urn:uuid:${id}` }),
        // Any feed of the origin naming a post read through the API (was: "updated").
        makeNewPost({ slug: "by-api", body: "Bob's.", source: `https://a.example/bob/feed.json#urn:uuid:${other}` }),
        // The API naming, as its item's former source, the feed its site's page declared.
        makeNewPost({ slug: "by-feed", body: "From the API.", source: `https://a.example/posts#${id}` })
      ], { formerSources: [undefined, undefined, [feed]] })
      assert.deepStrictEqual(result.outcomes.map((o) => [o.slug, o.action]), [
        ["alices", "conflict"],
        ["by-api", "conflict"],
        ["by-feed", "updated"]
      ])
      assert.deepStrictEqual(
        (yield* repo.list({})).items.map((p) => [p.slug, p.body, p.source]).sort(),
        [
          ["alices", "Alice's.", alice],
          ["by-api", "From the API.", api],
          ["by-feed", "From the API.", `https://a.example/posts#${id}`]
        ]
      )
    }))

    test("upsertMany is all or nothing: a failing post rolls back the whole batch", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* repo.create(makeNewPost({ slug: "existing", tags: ["old"] }))
      // A post that skipped validation: the store must reject it after the earlier writes.
      const broken = new NewPost({ ...makeNewPost({ slug: "broken" }), title: "" }, true)
      const exit = yield* Effect.exit(repo.upsertMany([
        makeNewPost({ slug: "existing", body: "rewritten", tags: ["new"] }),
        makeNewPost({ slug: "fresh" }),
        broken
      ]))
      assert.isTrue(Exit.isFailure(exit))
      const existing = yield* repo.getBySlug("existing")
      assert.deepStrictEqual([existing.version, existing.tags], [1, ["old"]])
      assert.strictEqual((yield* Effect.flip(repo.getBySlug("fresh")))._tag, "PostNotFound")
      assert.strictEqual((yield* Effect.flip(repo.getBySlug("broken")))._tag, "PostNotFound")
      assert.deepStrictEqual(yield* repo.tags(), [{ tag: "old", count: 1 }])
    }))

    test("upsertMany ids: a post it creates takes its carried id unless a post has it; a post it finds keeps its own", Effect.gen(function*() {
      const repo = yield* PostRepository
      const id = (n: number) => PostId.make(`00000000-0000-4000-8000-${String(n).padStart(12, "0")}`)
      yield* repo.create(makeNewPost({ slug: "taken", source: "other.md" }))
      const holder = yield* repo.create(makeNewPost({ slug: "holder", source: "holder.md" }))
      const first = yield* repo.upsertMany([
        makeNewPost({ slug: "one", source: "one.md", publishedAt: "2020-01-01T00:00:00Z" }),
        makeNewPost({ slug: "two", source: "two.md", publishedAt: "2020-01-01T00:00:00Z" }),
        // The stored post's id, then one an earlier post of the batch took: fresh ids both.
        makeNewPost({ slug: "three", source: "three.md" }),
        makeNewPost({ slug: "four", source: "four.md" }),
        // Created under a suffix: it takes its id too.
        makeNewPost({ slug: "taken", source: "mine.md" }),
        makeNewPost({ slug: "plain", source: "plain.md" })
      ], { onSlugConflict: "suffix", ids: [id(1), id(2), holder.id, id(1), id(5), undefined] })
      assert.deepStrictEqual(first.outcomes.map((o) => [o.action, o.idTakenBy ?? null]), [
        ["inserted", null],
        ["inserted", null],
        ["inserted", "holder"],
        ["inserted", "one"],
        ["renamed", null],
        ["inserted", null]
      ])
      const idOf = (slug: string) => Effect.map(repo.getBySlug(slug), (post) => post.id as string)
      assert.deepStrictEqual([yield* idOf("one"), yield* idOf("two"), yield* idOf("taken-2")], [id(1), id(2), id(5)])
      for (const slug of ["three", "four", "plain"]) assert.notInclude([id(1), id(2), id(5), holder.id], yield* idOf(slug), slug)
      // Posts of one date, listed by id: as the ids say.
      const listed: ReadonlyArray<string> = slugs((yield* repo.list({ limit: 100 })).items)
      assert.isBelow(listed.indexOf("two"), listed.indexOf("one"), "newest first, then id descending")
      // Found again (unchanged, updated, moved), a post keeps its id whatever it carries.
      const again = yield* repo.upsertMany([
        makeNewPost({ slug: "one", source: "one.md", publishedAt: "2020-01-01T00:00:00Z" }),
        makeNewPost({ slug: "two", source: "two.md", body: "edited", publishedAt: "2020-01-01T00:00:00Z" }),
        makeNewPost({ slug: "three-moved", source: "three.md" })
      ], { ids: [id(7), id(8), id(9)] })
      assert.deepStrictEqual(again.outcomes.map((o) => [o.action, o.idTakenBy ?? null]), [["unchanged", null], ["updated", null], ["updated", null]])
      assert.deepStrictEqual([yield* idOf("one"), yield* idOf("two")], [id(1), id(2)])
      assert.notStrictEqual(yield* idOf("three-moved"), id(9))
      // A dry run says the same, and takes nothing.
      const dry = yield* repo.upsertMany([makeNewPost({ slug: "five", source: "five.md" })], { ids: [id(1)], dryRun: true })
      assert.deepStrictEqual(dry.outcomes.map((o) => [o.action, o.idTakenBy ?? null]), [["inserted", "one"]])
    }))

    test("upsertMany with dryRun answers the real outcomes and writes nothing", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* repo.create(makeNewPost({ slug: "taken", source: "other.md" }))
      yield* repo.upsertMany([
        makeNewPost({ slug: "same", tags: ["old"] }),
        makeNewPost({ slug: "edited", tags: ["old"] }),
        makeNewPost({ slug: "old-title", source: "/blog/moving.md" })
      ])
      const state = Effect.map(repo.list({ limit: 100 }), (page) =>
        page.items.map((p) => [p.slug, p.id, p.version, p.contentHash, p.tags.join(",")]).sort())
      const before = yield* state
      const tagsBefore = yield* repo.tags()
      for (const onSlugConflict of ["fail", "skip", "suffix"] as const) {
        const batch = [
          makeNewPost({ slug: "taken" }),
          makeNewPost({ slug: "same", tags: ["old"] }),
          makeNewPost({ slug: "edited", body: "rewritten", tags: ["new"] }),
          makeNewPost({ slug: "new-title", source: "/blog/moving.md" }),
          makeNewPost({ slug: "fresh" })
        ]
        const dry = yield* repo.upsertMany(batch, { onSlugConflict, dryRun: true })
        assert.deepStrictEqual(
          dry.outcomes.map((o) => [o.action, o.storedSlug ?? null, o.movedFrom ?? null]),
          [
            onSlugConflict === "fail" ? ["conflict", null, null] : onSlugConflict === "skip" ? ["skipped", null, null] : ["renamed", "taken-2", null],
            ["unchanged", null, null],
            ["updated", null, null],
            ["updated", null, "old-title"],
            ["inserted", null, null]
          ],
          onSlugConflict
        )
        assert.deepStrictEqual(yield* state, before, onSlugConflict)
        assert.deepStrictEqual(yield* repo.tags(), tagsBefore, onSlugConflict)
      }
      const real = yield* repo.upsertMany([makeNewPost({ slug: "taken" }), makeNewPost({ slug: "fresh" })], { onSlugConflict: "suffix" })
      assert.deepStrictEqual(real.outcomes.map((o) => o.action), ["renamed", "inserted"])
    }))

    test("tags counts posts per tag, most used first, optionally by status", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* repo.upsertMany([
        makeNewPost({ slug: "one", tags: ["rust", "web"] }),
        makeNewPost({ slug: "two", tags: ["rust"] }),
        makeNewPost({ slug: "three", tags: ["web", "rust", "rust"] }),
        makeNewPost({ slug: "four", tags: ["rust", "wip"], status: "draft" }),
        makeNewPost({ slug: "five", tags: [] })
      ])
      assert.deepStrictEqual(yield* repo.tags(), [
        { tag: "rust", count: 4 },
        { tag: "web", count: 2 },
        { tag: "wip", count: 1 }
      ])
      assert.deepStrictEqual(yield* repo.tags("published"), [{ tag: "rust", count: 3 }, { tag: "web", count: 2 }])
      assert.deepStrictEqual(yield* repo.tags("draft"), [{ tag: "rust", count: 1 }, { tag: "wip", count: 1 }])
      yield* repo.delete("one")
      assert.deepStrictEqual(yield* repo.tags("published"), [{ tag: "rust", count: 2 }, { tag: "web", count: 1 }])
    }))

    test("a tag's listing and counts follow every write of a post's status and date: create, update, upsertMany (changed, moved), delete", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* at("2024-06-01T00:00:00Z")
      const asOf = DateTime.unsafeMake("2024-06-01T00:00:00Z")
      const names = (posts: ReadonlyArray<Post>) => posts.map((post): string => post.slug)
      const listed = (query: ListQuery) => Effect.map(repo.list({ tag: "KITES", ...query }), (page) => names(page.items))
      const publicly = Effect.all([
        listed({ status: "published", asOf }),
        Effect.map(walk({ tag: "kites", status: "published", asOf, limit: 1 }), names),
        repo.tags("published", asOf, "kites"),
        Effect.map(repo.tags("published", asOf), (tags) => tags.filter((entry) => entry.tag.toLowerCase() === "kites"))
      ])
      const kite = yield* repo.create(makeNewPost({ slug: "kite", tags: ["Kites"], status: "draft", publishedAt: "2024-05-01T00:00:00Z" }))
      assert.deepStrictEqual(yield* publicly, [[], [], [], []], "a draft")
      assert.deepStrictEqual(yield* listed({ status: "draft" }), ["kite"])
      // Published by an update: listed and counted under the tag from then on.
      const published = yield* repo.update("kite", kite.version, makeNewPost({ slug: "kite", tags: ["Kites"], status: "published", publishedAt: "2024-05-01T00:00:00Z" }))
      assert.deepStrictEqual(yield* publicly, [["kite"], ["kite"], [{ tag: "Kites", count: 1 }], [{ tag: "Kites", count: 1 }]])
      assert.deepStrictEqual(yield* listed({ status: "draft" }), [])
      // Dated later: scheduled, out of the public listing and counts until then; a key still sees it.
      yield* repo.update("kite", published.version, makeNewPost({ slug: "kite", tags: ["Kites"], status: "published", publishedAt: "2024-07-01T00:00:00Z" }))
      assert.deepStrictEqual(yield* publicly, [[], [], [], []], "scheduled")
      assert.deepStrictEqual(yield* listed({ status: "published" }), ["kite"])
      assert.deepStrictEqual(yield* repo.tags("published", undefined, "kites"), [{ tag: "Kites", count: 1 }])
      // Written by an import: inserted, then changed (unpublished, then dated), then moved to a new slug.
      yield* repo.upsertMany([makeNewPost({ slug: "box", title: "Box", tags: ["kites"], source: "box.md", publishedAt: "2024-04-01T00:00:00Z" })])
      assert.deepStrictEqual((yield* publicly).slice(0, 3), [["box"], ["box"], [{ tag: "kites", count: 1 }]])
      yield* repo.upsertMany([makeNewPost({ slug: "box", title: "Box", tags: ["kites"], source: "box.md", status: "draft", publishedAt: "2024-04-01T00:00:00Z" })])
      assert.deepStrictEqual(yield* publicly, [[], [], [], []], "unpublished by an import")
      yield* repo.upsertMany([makeNewPost({ slug: "box", title: "Box", tags: ["kites"], source: "box.md", publishedAt: "2024-05-15T00:00:00Z" })])
      yield* repo.upsertMany([makeNewPost({ slug: "delta", title: "Delta", tags: ["Kites"], source: "delta.md", publishedAt: "2024-03-01T00:00:00Z" })])
      assert.deepStrictEqual((yield* publicly).slice(0, 2), [["box", "delta"], ["box", "delta"]])
      yield* repo.upsertMany([makeNewPost({ slug: "box-kite", title: "Box kite", tags: ["kites"], source: "box.md", publishedAt: "2024-02-01T00:00:00Z" })])
      assert.deepStrictEqual((yield* publicly).slice(0, 2), [["delta", "box-kite"], ["delta", "box-kite"]], "moved, and dated earlier")
      assert.deepStrictEqual(yield* listed({ status: "published", asOf, offset: 1 }), ["box-kite"])
      assert.deepStrictEqual(yield* listed({}), ["kite", "delta", "box-kite"], "every status and date")
      // Both spellings counted, named by the first in string order on a tie.
      assert.deepStrictEqual((yield* publicly).slice(2), [[{ tag: "Kites", count: 2 }], [{ tag: "Kites", count: 2 }]])
      // Retagged: gone from the old tag.
      const delta = yield* repo.getBySlug("delta")
      yield* repo.update("delta", delta.version, makeNewPost({ slug: "delta", title: "Delta", tags: ["gliders"], source: "delta.md", publishedAt: "2024-03-01T00:00:00Z" }))
      yield* repo.delete("box-kite")
      assert.deepStrictEqual(yield* publicly, [[], [], [], []])
      assert.deepStrictEqual(yield* listed({}), ["kite"])
      assert.deepStrictEqual(names((yield* repo.list({ tag: "gliders", status: "published", asOf })).items), ["delta"])
    }))

    /** The slug `findByAlias` answers for each alias, `undefined` for none. */
    const aliased = (...aliases: ReadonlyArray<string>) =>
      Effect.flatMap(PostRepository, (repo) => {
        assert.isDefined(repo.findByAlias, "the repository looks aliases up")
        return Effect.forEach(aliases, (alias) => Effect.map(repo.findByAlias!(alias), Option.getOrUndefined))
      })

    test("findByAlias: a created post by every spelling of its aliases; drafts never", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* repo.create(makeNewPost({ slug: "rust-1-32", aliases: ["/2019/01/17/Rust-1.32.0.html", "releases/1.88.0", "/dup/", "dup"] }))
      yield* repo.create(makeNewPost({ slug: "secret", status: "draft", aliases: ["/drafts/old"] }))
      assert.deepStrictEqual(
        yield* aliased("2019/01/17/Rust-1.32.0.html", "/2019/01/17/Rust-1.32.0.html", "/releases/1.88.0/", "releases/1.88.0", "//releases/1.88.0//", "dup"),
        ["rust-1-32", "rust-1-32", "rust-1-32", "rust-1-32", "rust-1-32", "rust-1-32"]
      )
      // Compared as written otherwise: case, other paths, the root and a draft's alias name nothing.
      assert.deepStrictEqual(
        yield* aliased("/2019/01/17/rust-1.32.0.html", "/releases", "releases/1.88", "/", "", "/drafts/old", "drafts/old"),
        [undefined, undefined, undefined, undefined, undefined, undefined, undefined]
      )
    }))

    test("findByAlias: an alias written decomposed (NFD, a macOS file name's) is found by its composed spelling, what browsers send, and the reverse", Effect.gen(function*() {
      const repo = yield* PostRepository
      // As a store is given them by a processor that kept them as written: the key is the store's.
      yield* repo.create(makeNewPost({ slug: "menu", aliases: ["/cafe\u0301/menu.html"] }))
      yield* repo.upsertMany([makeNewPost({ slug: "imported", aliases: ["na\u00efve/"] })])
      assert.deepStrictEqual(
        yield* aliased("/caf\u00e9/menu.html", "/cafe\u0301/menu.html", "/nai\u0308ve", "na\u00efve"),
        ["menu", "menu", "imported", "imported"]
      )
      const menu = yield* repo.getBySlug("menu")
      yield* repo.update("menu", menu.version, makeNewPost({ slug: "menu", aliases: ["/cafe\u0301/carte.html"] }))
      assert.deepStrictEqual(yield* aliased("/caf\u00e9/carte.html", "/caf\u00e9/menu.html"), ["menu", undefined])
    }))

    test("findByAlias follows upsertMany: inserted, updated, moved; a dry run writes none", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* repo.upsertMany([
        makeNewPost({ slug: "one", aliases: ["/old/one.html"] }),
        makeNewPost({ slug: "two", aliases: ["old/two.html", "/also/two/"] }),
        makeNewPost({ slug: "three" })
      ])
      assert.deepStrictEqual(yield* aliased("/old/one.html", "/old/two.html", "also/two"), ["one", "two", "two"])
      // The same source with other aliases: the old ones are gone.
      yield* repo.upsertMany([makeNewPost({ slug: "two", aliases: ["/new/two.html"] })])
      assert.deepStrictEqual(yield* aliased("/old/two.html", "/also/two", "/new/two.html"), [undefined, undefined, "two"])
      // The source's post moved to another slug: its aliases follow it.
      yield* repo.upsertMany([makeNewPost({ slug: "one-renamed", source: "fixtures/one.md", aliases: ["/old/one.html"] })])
      assert.deepStrictEqual(yield* aliased("/old/one.html"), ["one-renamed"])
      const dry = yield* repo.upsertMany([makeNewPost({ slug: "four", aliases: ["/old/four.html"] })], { dryRun: true })
      assert.deepStrictEqual(actions(dry.outcomes), ["inserted"])
      assert.deepStrictEqual(yield* aliased("/old/four.html"), [undefined])
    }))

    test("findByAlias follows update (publish, change, rename, unpublish) and delete", Effect.gen(function*() {
      const repo = yield* PostRepository
      const draft = yield* repo.create(makeNewPost({ slug: "post", status: "draft", aliases: ["/a"] }))
      assert.deepStrictEqual(yield* aliased("/a"), [undefined])
      const published = yield* repo.update("post", draft.version, makeNewPost({ slug: "post", aliases: ["/a"] }))
      assert.deepStrictEqual(yield* aliased("/a"), ["post"])
      const changed = yield* repo.update("post", published.version, makeNewPost({ slug: "post", aliases: ["/b/"] }))
      assert.deepStrictEqual(yield* aliased("/a", "b"), [undefined, "post"])
      const renamed = yield* repo.update("post", changed.version, makeNewPost({ slug: "moved", aliases: ["/b/"] }))
      assert.deepStrictEqual(yield* aliased("/b"), ["moved"])
      const unpublished = yield* repo.update("moved", renamed.version, makeNewPost({ slug: "moved", status: "draft", aliases: ["/b/"] }))
      assert.deepStrictEqual(yield* aliased("/b"), [undefined])
      yield* repo.update("moved", unpublished.version, makeNewPost({ slug: "moved", aliases: ["/b/"] }))
      assert.deepStrictEqual(yield* aliased("/b"), ["moved"])
      yield* repo.delete("moved")
      assert.deepStrictEqual(yield* aliased("/b"), [undefined])
    }))

    test("findByAlias: of several published posts claiming one alias, the newest wins, whatever the write order", Effect.gen(function*() {
      const repo = yield* PostRepository
      const newer = yield* repo.create(makeNewPost({ slug: "newer", publishedAt: "2021-01-01T00:00:00Z", aliases: ["/shared"] }))
      yield* repo.create(makeNewPost({ slug: "older", publishedAt: "2020-01-01T00:00:00Z", aliases: ["shared/"] }))
      yield* repo.create(makeNewPost({ slug: "newest-draft", status: "draft", publishedAt: "2022-01-01T00:00:00Z", aliases: ["/shared"] }))
      assert.deepStrictEqual(yield* aliased("/shared"), ["newer"])
      yield* repo.update("newer", newer.version, makeNewPost({ slug: "newer", status: "draft", publishedAt: "2021-01-01T00:00:00Z", aliases: ["/shared"] }))
      assert.deepStrictEqual(yield* aliased("/shared"), ["older"])
    }))

    test("asOf: a published post dated after it is left out of list, tags, neighbours and findByAlias; nextScheduled names its time", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* at("2024-06-01T00:00:00Z")
      const asOf = DateTime.unsafeMake("2024-06-01T00:00:00Z")
      yield* repo.upsertMany([
        makeNewPost({ slug: "old", publishedAt: "2024-05-01T00:00:00Z", tags: ["a"], aliases: ["/shared"] }),
        makeNewPost({ slug: "now", publishedAt: "2024-06-01T00:00:00Z", tags: ["a"] }),
        makeNewPost({ slug: "soon", publishedAt: "2024-06-01T00:00:00.001Z", tags: ["a", "b"], aliases: ["/shared", "/soon"] }),
        makeNewPost({ slug: "later", publishedAt: "2024-07-01T00:00:00Z", tags: ["b"] }),
        makeNewPost({ slug: "draft", status: "draft", publishedAt: "2024-06-01T00:00:00.000Z", tags: ["c"] }),
        makeNewPost({ slug: "future-draft", status: "draft", publishedAt: "2024-06-15T00:00:00Z", tags: ["c"] })
      ])
      // The instant itself is public; one millisecond later is not yet.
      assert.deepStrictEqual(slugs((yield* repo.list({ status: "published", asOf })).items), ["now", "old"])
      assert.deepStrictEqual(slugs(yield* walk({ status: "published", asOf, limit: 1 })), ["now", "old"])
      assert.deepStrictEqual(slugs((yield* repo.list({ status: "published", tag: "b", asOf })).items), [])
      // Without asOf (a key's view) every published post, whatever its date.
      assert.deepStrictEqual(slugs((yield* repo.list({ status: "published" })).items), ["later", "soon", "now", "old"])
      assert.deepStrictEqual(yield* repo.tags("published", asOf), [{ tag: "a", count: 2 }])
      assert.deepStrictEqual(yield* repo.tags("published"), [{ tag: "a", count: 3 }, { tag: "b", count: 2 }])
      assert.deepStrictEqual(
        Option.getOrUndefined(Option.map(yield* repo.nextScheduled!(asOf), DateTime.formatIso)),
        "2024-06-01T00:00:00.001Z"
      )
      assert.deepStrictEqual(
        Option.getOrUndefined(Option.map(yield* repo.nextScheduled!(DateTime.unsafeMake("2024-06-01T00:00:00.001Z")), DateTime.formatIso)),
        "2024-07-01T00:00:00.000Z"
      )
      assert.isTrue(Option.isNone(yield* repo.nextScheduled!(DateTime.unsafeMake("2024-07-01T00:00:00Z"))), "drafts are never due")
      const now = yield* repo.getBySlug("now")
      const { newer } = yield* repo.neighbours!(now, "published", asOf)
      assert.isUndefined(newer, "a scheduled post is no neighbour yet")
      assert.strictEqual((yield* repo.neighbours!(now, "published")).newer?.slug, "soon")
      assert.deepStrictEqual(
        yield* Effect.forEach(["/shared", "/soon"], (alias) => Effect.map(repo.findByAlias!(alias, asOf), Option.getOrUndefined)),
        ["old", undefined]
      )
      assert.deepStrictEqual(Option.getOrUndefined(yield* repo.findByAlias!("/shared")), "soon")
    }))

    test("a NUL in a looked-up slug, tag or alias matches nothing (no stored one holds it) and is no error", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* repo.create(makeNewPost({ slug: "kept", tags: ["a"], aliases: ["/old/path"], status: "published" }))
      yield* repo.update("kept", 1, makeNewPost({ slug: "moved", tags: ["a"], aliases: ["/old/path"], status: "published" }))
      for (const tag of ["\u0000", "a\u0000", "a\u0000b"]) {
        assert.deepStrictEqual((yield* repo.list({ tag })).items, [], `list tag ${JSON.stringify(tag)}`)
        assert.deepStrictEqual((yield* repo.list({ tag, status: "published", limit: 1 })).next, null)
        assert.deepStrictEqual((yield* repo.search!({ text: "words", tag })).items, [], `search tag ${JSON.stringify(tag)}`)
        assert.deepStrictEqual(yield* repo.tags(undefined, undefined, tag), [])
        assert.deepStrictEqual(yield* repo.tags("published", DateTime.unsafeMake("2100-01-01T00:00:00Z"), tag), [])
      }
      assert.deepStrictEqual((yield* repo.search!({ text: "\u0000words\u0000" })).items.map((p) => p.slug), ["moved"])
      for (const slug of ["\u0000", "moved\u0000", "kept\u0000"]) {
        const missing = (exit: Exit.Exit<unknown, { readonly _tag: string }>) =>
          Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error._tag === "PostNotFound"
        assert.isTrue(missing(yield* Effect.exit(repo.getBySlug(slug))), `getBySlug ${JSON.stringify(slug)}`)
        assert.isTrue(missing(yield* Effect.exit(repo.update(slug, 2, makeNewPost({ slug: "x" })))), `update ${JSON.stringify(slug)}`)
        assert.isTrue(missing(yield* Effect.exit(repo.delete(slug))), `delete ${JSON.stringify(slug)}`)
        if (repo.movedFrom) assert.isTrue(Option.isNone(yield* repo.movedFrom(slug)), `movedFrom ${JSON.stringify(slug)}`)
      }
      if (repo.findByAlias) {
        for (const alias of ["/old\u0000path", "\u0000", "/old/path\u0000"]) {
          assert.isTrue(Option.isNone(yield* repo.findByAlias(alias)), `findByAlias ${JSON.stringify(alias)}`)
        }
      }
      assert.strictEqual((yield* repo.getBySlug("moved")).version, 2)
    }))

    test("a post with more tags and aliases than one statement takes is created and rewritten (was: too many SQL variables, PostgreSQL's 08P01)", Effect.gen(function*() {
      const repo = yield* PostRepository
      const tags = Array.from({ length: 22000 }, (_, i) => `t${i}`)
      const aliases = Array.from({ length: 33000 }, (_, i) => `/a${i}`)
      yield* repo.create(makeNewPost({ slug: "wide", tags, aliases, status: "published" }))
      assert.strictEqual((yield* repo.tags()).length, 22000)
      yield* repo.update("wide", 1, makeNewPost({ slug: "wide", tags: tags.slice(1), aliases: aliases.slice(1), status: "published" }))
      assert.strictEqual((yield* repo.tags()).length, 21999)
      assert.deepStrictEqual(slugs((yield* repo.list({ tag: "t21999" })).items), ["wide"])
      if (repo.findByAlias) assert.strictEqual(Option.getOrUndefined(yield* repo.findByAlias("/a32999")), "wide")
    }))

    test("ping succeeds on a live store", Effect.gen(function*() {
      const repo = yield* PostRepository
      const exit = yield* Effect.exit(repo.ping)
      assert.isTrue(Exit.isSuccess(exit))
    }))
  })
}
