/**
 * `PostRepository.sitemapPosts`' contract, run by `postRepositoryContract` against every store
 * (memory, SQLite in memory and on disk, PostgreSQL): the public posts, each once, oldest first,
 * with the dates and tag keys the reader site would derive from the whole post.
 */
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, type Layer, TestClock } from "effect"
import { distinctTags, type Post } from "../../src/Domain/Post.js"
import {
  MAX_SITEMAP_PAGE_SIZE,
  PostRepository,
  type SitemapCursor,
  type SitemapPost,
  type SitemapQuery
} from "../../src/Posts/PostRepository.js"
import { modifiedAtOf } from "../../src/Site/Pages.js"
import { makeNewPost } from "../fixtures/posts.js"

const sitemapPosts = (query: SitemapQuery) =>
  Effect.flatMap(PostRepository, (repo) => {
    assert.isDefined(repo.sitemapPosts, "every store offers sitemapPosts")
    return repo.sitemapPosts!(query)
  })

/** Every page from `offset`, `limit` a page, following `next`; the pages' sizes too. */
const walk = (asOf: DateTime.Utc, limit: number, offset?: number) =>
  Effect.gen(function*() {
    const seen: Array<SitemapPost> = []
    const sizes: Array<number> = []
    let after: SitemapCursor | undefined
    for (let page = 0; page < 1000; page++) {
      const result = yield* sitemapPosts({ asOf, limit, ...(after === undefined ? { offset } : { after }) })
      seen.push(...result.items)
      sizes.push(result.items.length)
      if (result.next === null) return { seen, sizes }
      after = result.next
    }
    return assert.fail("the walk did not end")
  })

/** The public listing as the reader site reads it, whole posts, newest first. */
const listed = (asOf: DateTime.Utc) =>
  Effect.gen(function*() {
    const repo = yield* PostRepository
    const posts: Array<Post> = []
    let cursor: string | undefined
    for (;;) {
      const page = yield* repo.list({ status: "published", asOf, limit: 100, ...(cursor === undefined ? {} : { cursor }) })
      posts.push(...page.items)
      if (page.next === null) return posts
      cursor = page.next
    }
  })

/** What the sitemap would have made of the whole post. */
const expected = (post: Post): SitemapPost => ({
  slug: post.slug,
  modifiedAt: modifiedAtOf(post),
  tags: distinctTags(post.tags).map(({ key }) => key)
})

const plain = (post: SitemapPost) => ({ slug: post.slug, modifiedAt: DateTime.formatIso(post.modifiedAt), tags: post.tags })

export const sitemapContract = (name: string, layer: Layer.Layer<PostRepository, unknown>) => {
  const test = <A, E>(title: string, body: Effect.Effect<A, E, PostRepository>) =>
    it.effect(title, () => Effect.provide(body, layer))

  describe(`PostRepository.sitemapPosts contract: ${name}`, () => {
    test("every public post once, oldest first, with the listing's dates and tag keys; no draft, no scheduled post", Effect.gen(function*() {
      const repo = yield* PostRepository
      // Stored before any of their dates: their dates, not the write, are their modification times.
      yield* TestClock.setTime(Date.parse("2024-01-01T00:00:00Z"))
      // Pairs share a date, so the id breaks ties; created in an order unlike the dates'.
      const posts = Array.from({ length: 11 }, (_, i) => {
        const n = (i * 7) % 11
        return makeNewPost({
          slug: `p-${n}`,
          tags: n % 3 === 0 ? ["Rust", "rust", "Web Dev"] : n % 3 === 1 ? [" ärger "] : [],
          publishedAt: new Date(Date.UTC(2024, 0, 1 + Math.floor(n / 2))).toISOString(),
          // Announced for after its write (a date still to come, stored before writes refused
          // it): read as the write, never later (`announcedUpdateOf`), where it was that date.
          updatedAtSource: n === 4 ? "2024-03-01T00:00:00Z" : null
        })
      })
      yield* repo.upsertMany(posts)
      // Never published, or published later than `asOf`: neither is public.
      yield* repo.create(makeNewPost({ slug: "draft", status: "draft", publishedAt: "2024-01-02T00:00:00Z" }))
      yield* repo.create(makeNewPost({ slug: "scheduled", publishedAt: "2024-06-01T00:00:00.001Z" }))
      // Without publishedAt a post is listed by its creation.
      yield* repo.create(makeNewPost({ slug: "undated", tags: ["Misc"] }))
      // Stored again later than its dates: when it was stored counts.
      yield* TestClock.setTime(Date.parse("2024-06-01T00:00:00Z"))
      const p7 = yield* repo.getBySlug("p-7")
      yield* TestClock.adjust("1 hour")
      yield* repo.update("p-7", p7.version, makeNewPost({ slug: "p-7", title: "Edited", publishedAt: "2024-01-04T00:00:00Z" }))
      const asOf = DateTime.unsafeMake(Date.parse("2024-06-01T00:00:00Z"))

      const want = (yield* listed(asOf)).reverse().map(expected)
      assert.strictEqual(want.length, 12)
      const { seen, sizes } = yield* walk(asOf, 5)
      assert.deepStrictEqual(seen.map(plain), want.map(plain))
      assert.deepStrictEqual(sizes, [5, 5, 2])
      const byPost = new Map(seen.map((post) => [post.slug, post]))
      assert.deepStrictEqual(byPost.get("p-0")!.tags, ["rust", "web dev"])
      assert.deepStrictEqual(byPost.get("p-1")!.tags, ["ärger"])
      // Its publication, later than its write, is its last change.
      assert.strictEqual(DateTime.formatIso(byPost.get("p-4")!.modifiedAt), "2024-01-03T00:00:00.000Z")
      assert.strictEqual(DateTime.formatIso(byPost.get("p-7")!.modifiedAt), "2024-06-01T01:00:00.000Z")
      // The scheduled post is public from its time on, and then last (it is the newest).
      const later = (yield* walk(DateTime.unsafeMake(Date.parse("2024-06-02T00:00:00Z")), 100)).seen
      assert.deepStrictEqual(later.map((post) => post.slug), [...want.map((post) => post.slug), "scheduled"])
    }))

    test("an offset skips that many posts; a cursor goes on from where a page ended, whatever was written meanwhile", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* TestClock.setTime(Date.parse("2024-06-01T00:00:00Z"))
      const asOf = yield* DateTime.now
      yield* repo.upsertMany(Array.from({ length: 9 }, (_, i) =>
        makeNewPost({ slug: `q-${i}`, publishedAt: new Date(Date.UTC(2024, 0, 1 + Math.floor(i / 3))).toISOString() })))
      const all = (yield* walk(asOf, 100)).seen.map((post) => post.slug)
      assert.strictEqual(all.length, 9)
      for (const offset of [0, 1, 3, 4, 8]) {
        const page = yield* sitemapPosts({ asOf, offset, limit: 3 })
        assert.deepStrictEqual(page.items.map((post) => post.slug), all.slice(offset, offset + 3), `offset ${offset}`)
        assert.strictEqual(page.next === null, offset + 3 >= 9, `offset ${offset}`)
      }
      assert.deepStrictEqual((yield* sitemapPosts({ asOf, offset: 9, limit: 3 })).items, [])
      assert.deepStrictEqual((yield* walk(asOf, 2, 4)).seen.map((post) => post.slug), all.slice(4))

      // An older post written between two pages does not move the walk: it goes on after the page.
      const first = yield* sitemapPosts({ asOf, limit: 4 })
      yield* repo.create(makeNewPost({ slug: "older", publishedAt: "2023-01-01T00:00:00Z" }))
      const rest = yield* sitemapPosts({ asOf, after: first.next!, limit: 100 })
      assert.deepStrictEqual([...first.items, ...rest.items].map((post) => post.slug), all)
      // A cursor wins over an offset.
      const both = yield* sitemapPosts({ asOf, after: first.next!, offset: 0, limit: 100 })
      assert.deepStrictEqual(both.items.map((post) => post.slug), all.slice(4))
    }))

    test("a page holds at most MAX_SITEMAP_PAGE_SIZE posts", Effect.gen(function*() {
      const repo = yield* PostRepository
      yield* TestClock.setTime(Date.parse("2024-06-01T00:00:00Z"))
      const asOf = yield* DateTime.now
      yield* repo.upsertMany(Array.from({ length: MAX_SITEMAP_PAGE_SIZE + 1 }, (_, i) =>
        makeNewPost({ slug: `r-${i}`, tags: [], publishedAt: new Date(Date.UTC(2020, 0, 1) + i * 60_000).toISOString() })))
      const page = yield* sitemapPosts({ asOf, limit: MAX_SITEMAP_PAGE_SIZE * 10 })
      assert.strictEqual(page.items.length, MAX_SITEMAP_PAGE_SIZE)
      assert.isNotNull(page.next)
      const last = yield* sitemapPosts({ asOf, after: page.next!, limit: MAX_SITEMAP_PAGE_SIZE })
      assert.deepStrictEqual(last.items.map((post) => post.slug), [`r-${MAX_SITEMAP_PAGE_SIZE}`])
      assert.isNull(last.next)
    }))
  })
}
