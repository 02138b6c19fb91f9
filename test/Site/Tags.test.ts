/**
 * Tags are one tag whatever their case on the reader site and in the JSON API: "Rust", "rust"
 * and "RUST" share one page at the tag's key (`/tags/rust`), other spellings of the address are
 * a 301 there, and the tag is named as most of its public posts spell it. Run on the in-memory
 * store and on SQLite (whose own `lower()` would not fold "Ä").
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { XMLParser } from "fast-xml-parser"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { sqliteStack } from "../Import/harness.js"
import { assertMoved, fetchPage, fetchRaw, seed, SITE_URL, siteServer } from "./harness.js"

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@_" })

/**
 * Three public posts on "rust" in two spellings ("Rust" twice), two drafts spelling it "RUST"
 * (which must not decide its name: counted with them, "RUST" would tie "Rust" and win), and
 * "Ärger" / "ärger" on one public post each.
 */
const seedTags = seed(
  { slug: "one", title: "One", publishedAt: "2024-01-04T00:00:00Z", tags: ["Rust", "Ärger"] },
  { slug: "two", title: "Two", publishedAt: "2024-01-03T00:00:00Z", tags: ["rust", "Web"] },
  { slug: "three", title: "Three", publishedAt: "2024-01-02T00:00:00Z", tags: ["Rust", "rust", "ärger"] },
  { slug: "draft-a", title: "Draft A", status: "draft", tags: ["RUST"] },
  { slug: "draft-b", title: "Draft B", status: "draft", tags: ["RUST"] }
)

const stores = [
  ["memory", undefined],
  ["SQLite", Layer.effect(PostRepository, PostRepository).pipe(Layer.provide(sqliteStack("sqlite::memory:")), Layer.orDie)]
] as const

for (const [name, repository] of stores) {
  describe(`tags whatever their case (${name})`, () => {
    it.effect("a tag's page lists every spelling's public posts under the name most of them use", () =>
      Effect.gen(function* () {
        yield* seedTags
        const page = yield* fetchPage("/tags/rust")
        assert.strictEqual(page.status, 200)
        assert.include(page.body, "Posts tagged “Rust”")
        assert.include(page.body, `<link rel="canonical" href="${SITE_URL}/tags/rust"/>`)
        assert.include(page.body, `title="Test Blog: Rust (RSS)" href="${SITE_URL}/tags/rust/rss.xml"`)
        assert.include(page.body, `<a href="/tags/rust/page/2" rel="next">`)
        for (const title of ["One", "Two"]) assert.include(page.body, `>${title}</a>`)
        assert.notInclude(page.body, "Draft")
        const second = yield* fetchPage("/tags/rust/page/2")
        assert.include(second.body, ">Three</a>")
        assert.include(second.body, `<a href="/tags/rust" rel="prev">`)
        // Beyond ASCII: one tag, and a tie ("Ärger" and "ärger" once each) goes to the first in string order.
        const umlaut = yield* fetchPage("/tags/%C3%A4rger")
        assert.strictEqual(umlaut.status, 200)
        assert.include(umlaut.body, "Posts tagged “Ärger”")
        assert.include(umlaut.body, ">One</a>")
      }).pipe(Effect.provide(siteServer({ pageSize: 2 }, repository))))

    it.effect("another spelling of a tag's address is a 301 to its one URL (pages, feeds), its query kept", () =>
      Effect.gen(function* () {
        yield* seedTags
        for (const [path, location] of [
          ["/tags/Rust", "/tags/rust"],
          ["/tags/RUST?utm=x", "/tags/rust?utm=x"],
          ["/tags/Rust/", "/tags/rust"],
          ["/tags/RuSt/page/2", "/tags/rust/page/2"],
          ["/tags/Rust/page/1", "/tags/rust"],
          ["/tags/Rust/rss.xml", "/tags/rust/rss.xml"],
          ["/tags/RUST/atom.xml", "/tags/rust/atom.xml"],
          ["/tags/Rust/feed.json", "/tags/rust/feed.json"],
          ["/tags/%C3%84RGER", "/tags/%C3%A4rger"],
          ["/tags/Nothing", "/tags/nothing"],
          // Stored tags are trimmed: so is the address.
          ["/tags/%20rust%20", "/tags/rust"],
          ["/tags/%20Rust/rss.xml", "/tags/rust/rss.xml"]
        ] as const) {
          yield* assertMoved(path, location)
        }
        // The one URL is served, never redirected; a tag nobody uses is still a 404 there.
        assert.strictEqual((yield* fetchPage("/tags/rust")).status, 200)
        assert.strictEqual((yield* fetchPage("/tags/nothing")).status, 404)
        // Blank is no tag: nothing to move to.
        for (const path of ["/tags/%20", "/tags/%20/rss.xml", "/tags/%20/page/2"]) assert.strictEqual((yield* fetchPage(path)).status, 404, path)
      }).pipe(Effect.provide(siteServer({ pageSize: 2 }, repository))))

    it.effect("posts link each tag once, as they spell it, to its one URL; the sitemap has one entry per tag", () =>
      Effect.gen(function* () {
        yield* seedTags
        const three = yield* fetchPage("/p/three")
        assert.include(three.body, `<a href="/tags/rust" rel="tag">Rust</a>`)
        assert.notInclude(three.body, `rel="tag">rust</a>`, "one link for Rust and rust")
        assert.include(three.body, `<a href="/tags/%C3%A4rger" rel="tag">ärger</a>`)
        const two = yield* fetchPage("/p/two")
        assert.include(two.body, `<a href="/tags/rust" rel="tag">rust</a>`)
        assert.include(two.body, `<a href="/tags/web" rel="tag">Web</a>`)
        const urls: Array<{ loc: string }> = parser.parse((yield* fetchRaw("/sitemap.xml")).body).urlset.url
        assert.deepStrictEqual(urls.map((url) => url.loc).filter((loc) => loc.includes("/tags/")).sort(), [
          `${SITE_URL}/tags/%C3%A4rger`,
          `${SITE_URL}/tags/rust`,
          `${SITE_URL}/tags/web`
        ])
      }).pipe(Effect.provide(siteServer({}, repository))))

    it.effect("a tag's feeds hold every spelling's posts and name the tag as its posts do", () =>
      Effect.gen(function* () {
        yield* seedTags
        const rss = parser.parse((yield* fetchRaw("/tags/rust/rss.xml")).body).rss.channel
        assert.strictEqual(rss.title, "Test Blog: Rust")
        assert.strictEqual(rss.link, `${SITE_URL}/tags/rust`)
        assert.deepStrictEqual(rss.item.map((item: { title: string }) => item.title), ["One", "Two", "Three"])
        const json = JSON.parse((yield* fetchRaw("/tags/rust/feed.json")).body)
        assert.strictEqual(json.feed_url, `${SITE_URL}/tags/rust/feed.json`)
        assert.strictEqual(json.items.length, 3)
        // Every item's category for the tag is the name in the feed's title, once per item.
        const categories = (item: { category: string | Array<string> }) => [item.category].flat()
        assert.deepStrictEqual(rss.item.map(categories), [["Rust", "Ärger"], ["Rust", "Web"], ["Rust", "ärger"]])
        // The JSON Feed's tags as RSS's categories (was: each post's own spelling, "rust" on one).
        assert.deepStrictEqual(json.items.map((item: { tags: Array<string> }) => item.tags), rss.item.map(categories))
        assert.deepStrictEqual(JSON.parse((yield* fetchRaw("/feed.json")).body).items.map((item: { tags: Array<string> }) => item.tags), [
          ["Rust", "Ärger"],
          ["rust", "Web"],
          ["Rust", "ärger"]
        ])
        const atom = parser.parse((yield* fetchRaw("/tags/rust/atom.xml")).body).feed
        assert.deepStrictEqual(
          atom.entry.map((entry: { category: Array<{ "@_term": string }> }) => entry.category.map((c) => c["@_term"])),
          [["Rust", "Ärger"], ["Rust", "Web"], ["Rust", "ärger"]]
        )
        // The site's feed: each post's tags once, as its page links them.
        const all = parser.parse((yield* fetchRaw("/rss.xml")).body).rss.channel
        assert.deepStrictEqual(all.item.map(categories), [["Rust", "Ärger"], ["rust", "Web"], ["Rust", "ärger"]])
      }).pipe(Effect.provide(siteServer({}, repository))))

    it.effect("a tag is found by any spelling that stores as it: NFD, a tab for its space (API, pages, feeds; was: as sent, only trimmed)", () =>
      Effect.gen(function* () {
        // Tags as processing stores them: in NFC, on one line.
        yield* seed({ slug: "accent", title: "Accent", tags: ["Café", "tab sep"] }, { slug: "plain", title: "Plain", tags: ["cafe", "tabsep"] })
        const json = (path: string) => Effect.map(fetchRaw(path, { accept: "application/json" }), (response) => JSON.parse(response.body))
        for (const tag of ["cafe%CC%81", "CAFE%CC%81", "caf%C3%A9", "tab%09sep", "tab%0A%20sep"]) {
          const listed = yield* json(`/posts?tag=${tag}`)
          assert.deepStrictEqual(listed.items.map((post: { slug: string }) => post.slug), ["accent"], tag)
        }
        // A line break alone (NEL, which trim keeps) stores as no tag: refused as only spaces are.
        const blank = yield* json("/posts?tag=%C2%85")
        assert.deepStrictEqual([blank._tag, blank.issues[0].path], ["HttpApiDecodeError", ["tag"]])
        for (const [path, location] of [
          ["/tags/cafe%CC%81", "/tags/caf%C3%A9"],
          ["/tags/Cafe%CC%81/rss.xml", "/tags/caf%C3%A9/rss.xml"],
          ["/tags/tab%09sep", "/tags/tab%20sep"],
          ["/tags/tab%09sep/feed.json", "/tags/tab%20sep/feed.json"]
        ] as const) {
          yield* assertMoved(path, location)
        }
        for (const path of ["/tags/caf%C3%A9", "/tags/tab%20sep", "/tags/caf%C3%A9/atom.xml"]) {
          const page = yield* fetchPage(path)
          assert.strictEqual(page.status, 200, path)
          assert.include(page.body, "Accent", path)
          assert.notInclude(page.body, "Plain", path)
        }
      }).pipe(Effect.provide(siteServer({}, repository))))

    it.effect("the JSON API filters and counts tags the same way", () =>
      Effect.gen(function* () {
        yield* seedTags
        const json = (path: string) => Effect.map(fetchRaw(path, { accept: "application/json" }), (response) => JSON.parse(response.body))
        for (const tag of ["rust", "RUST", "Rust", "%20rust%20", "Rust%20"]) {
          const listed = yield* json(`/posts?tag=${tag}`)
          assert.deepStrictEqual(listed.items.map((post: { slug: string }) => post.slug), ["one", "two", "three"], tag)
        }
        assert.deepStrictEqual((yield* json("/posts?tag=%C3%84RGER")).items.map((post: { slug: string }) => post.slug), ["one", "three"])
        const blank = yield* json("/posts?tag=%20%20")
        assert.deepStrictEqual([blank._tag, blank.issues[0].path], ["HttpApiDecodeError", ["tag"]])
        assert.deepStrictEqual((yield* json("/tags")).tags, [
          { tag: "Rust", count: 3 },
          { tag: "Ärger", count: 2 },
          { tag: "Web", count: 1 }
        ])
      }).pipe(Effect.provide(siteServer({}, repository))))
  })
}
