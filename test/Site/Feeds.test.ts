import { assert, describe, it } from "@effect/vitest"
import { XMLParser, XMLValidator } from "fast-xml-parser"
import { Effect, Either } from "effect"
import { parseDocument } from "htmlparser2"
import { renderMarkdown } from "../../src/Processing/markdown.js"
import { atomFeed, jsonFeed, rssFeed, sitemap } from "../../src/Site/Feeds.js"
import { defaults } from "../../src/Site/SiteConfig.js"
import { makeUrls } from "../../src/Site/Urls.js"
import { parseXmlFeed } from "../../src/Sources/XmlFeed.js"
import type { Post } from "../../src/Domain/Post.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { makeNewPost } from "../fixtures/posts.js"

const config = { ...defaults, title: "T & <T>", url: "https://x.test" }
const urls = makeUrls(config)

const stored = (overrides: Parameters<typeof makeNewPost>[0]) =>
  Effect.flatMap(PostRepository, (repository) => repository.create(makeNewPost(overrides))).pipe(
    Effect.provide(MemoryPostRepository.layer)
  )

describe("feed content", () => {
  it.effect("resolves relative links and images against the post's URL and leaves absolute ones", () =>
    Effect.gen(function* () {
      const post = yield* stored({
        slug: "post",
        html: `<p><a href="/a">a</a> <a href="#n">n</a> <a href="?v=2#n">q</a> <img src="i.png" alt="x"> <a href="https://o.test/z">z</a> <a href="mailto:a@b.c">m</a></p>`
      })
      const parser = new XMLParser({ ignoreAttributes: false })
      const contents: ReadonlyArray<string> = [
        parser.parse(rssFeed({ config, urls, posts: [post] })).rss.channel.item["content:encoded"],
        parser.parse(atomFeed({ config, urls, posts: [post] })).feed.entry.content["#text"],
        JSON.parse(jsonFeed({ config, urls, posts: [post] })).items[0].content_html
      ]
      for (const html of contents) {
        assert.include(html, `href="https://x.test/a"`)
        // In-page anchors too: a feed reader resolves a bare `#n` against the feed's URL, not the post's.
        assert.include(html, `href="https://x.test/p/post#n"`)
        assert.notInclude(html, `href="#n"`)
        assert.include(html, `href="https://x.test/p/post?v=2#n"`)
        assert.include(html, `src="https://x.test/p/i.png"`)
        assert.include(html, `href="https://o.test/z"`)
        assert.include(html, `href="mailto:a@b.c"`)
      }
    }))

  it.effect("only real URL attributes are rewritten: text in other attributes that reads like one stays text", () =>
    Effect.gen(function* () {
      const body = [
        "![x src=missing.png onerror=alert(document.domain) z](/missing.png)",
        "",
        `[hover me](https://example.com "t href=y onmouseover=alert(1) z")`,
        "",
        `<p title="a href=y onmouseover=alert(2) z">raw</p>`
      ].join("\n")
      const post = yield* stored({ slug: "p", body, html: renderMarkdown(body).html })
      const parser = new XMLParser({ ignoreAttributes: false })
      const contents: ReadonlyArray<string> = [
        parser.parse(rssFeed({ config, urls, posts: [post] })).rss.channel.item["content:encoded"],
        parser.parse(atomFeed({ config, urls, posts: [post] })).feed.entry.content["#text"],
        JSON.parse(jsonFeed({ config, urls, posts: [post] })).items[0].content_html
      ]
      for (const html of contents) {
        interface Element {
          readonly type: string
          readonly name: string
          readonly attribs: Record<string, string>
          readonly children?: ReadonlyArray<unknown>
        }
        const elements: Array<Element> = []
        const walk = (nodes: ReadonlyArray<unknown>): void => {
          for (const node of nodes as ReadonlyArray<Element>) {
            if (node.type === "tag") elements.push(node)
            if (Array.isArray(node.children)) walk(node.children)
          }
        }
        walk(parseDocument(html).children)
        for (const element of elements) {
          assert.deepStrictEqual(Object.keys(element.attribs).filter((name) => /^on/i.test(name)), [], html)
        }
        const img = elements.find((element) => element.name === "img")!
        assert.strictEqual(img.attribs["src"], "https://x.test/missing.png")
        assert.strictEqual(img.attribs["alt"], "x src=missing.png onerror=alert(document.domain) z")
        const link = elements.find((element) => element.name === "a")!
        assert.strictEqual(link.attribs["href"], "https://example.com")
        assert.strictEqual(link.attribs["title"], "t href=y onmouseover=alert(1) z")
        const raw = elements.find((element) => element.name === "p" && element.attribs["title"] !== undefined)!
        assert.strictEqual(raw.attribs["title"], "a href=y onmouseover=alert(2) z")
      }
    }))

  it.effect("a post's id in every feed is its stored id: a rename or a new SITE_URL keeps it, and the three agree", () =>
    Effect.gen(function* () {
      const repository = yield* PostRepository
      const before = yield* repository.create(makeNewPost({ slug: "helo-world", title: "Helo world" }))
      // Re-imported with its title fixed: the same post (same id), moved to a new slug.
      const after = yield* repository.update("helo-world", before.version, makeNewPost({ slug: "hello-world", title: "Hello world" }))
      assert.strictEqual(after.id, before.id)
      const xml = new XMLParser({ ignoreAttributes: false })
      const ids = (post: Post, at: ReturnType<typeof makeUrls>) => {
        const input = { config, urls: at, posts: [post] }
        const item = xml.parse(rssFeed(input)).rss.channel.item
        assert.strictEqual(item.guid["@_isPermaLink"], "false")
        assert.strictEqual(item.link, at.absolute(`/p/${post.slug}`), "the link is still the post's page")
        return [item.guid["#text"], xml.parse(atomFeed(input)).feed.entry.id, JSON.parse(jsonFeed(input)).items[0].id]
      }
      const id = `urn:uuid:${before.id}`
      assert.deepStrictEqual(ids(before, urls), [id, id, id])
      assert.deepStrictEqual(ids(after, urls), [id, id, id])
      assert.deepStrictEqual(ids(after, makeUrls({ ...config, url: "https://moved.test/blog" })), [id, id, id])
    }).pipe(Effect.provide(MemoryPostRepository.layer)))

  it.effect("the JSON Feed carries each post's slug, so another Inkwell can import it as it is", () =>
    Effect.gen(function* () {
      const post = yield* stored({ slug: "kept-slug" })
      const feed = JSON.parse(jsonFeed({ config, urls, posts: [post] }))
      assert.deepStrictEqual(feed.items[0]._inkwell, { slug: "kept-slug" })
      assert.deepStrictEqual(feed.authors, [{ name: config.author }])
    }))
})

describe("XML feeds", () => {
  it.effect("stay well-formed with markup, entities and control characters in user data", () =>
    Effect.gen(function* () {
      const post: Post = yield* stored({
        slug: "nasty",
        title: "A <b>&amp; ]]> \u0001\u0008 \"q\"",
        tags: ["<t>", "a&b"],
        html: `<p>x ]]&gt; <a href="/y">y</a>\u000b</p>`,
        excerpt: "e\u0000"
      })
      for (const xml of [rssFeed({ config, urls, posts: [post] }), atomFeed({ config, urls, posts: [post] }), sitemap(urls, [{ route: "/p/nasty" }])]) {
        assert.strictEqual(XMLValidator.validate(xml), true)
        assert.notMatch(xml, /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/)
      }
      const parsed = new XMLParser().parse(rssFeed({ config, urls, posts: [post] }))
      assert.strictEqual(parsed.rss.channel.title, "T & <T>")
      assert.strictEqual(parsed.rss.channel.item.title, "A <b>&amp; ]]> \uFFFD\uFFFD \"q\"")
      assert.deepStrictEqual(parsed.rss.channel.item.category, ["<t>", "a&b"])
    }))

  it.effect("carry none of the characters the pages drop either: C1 controls (U+0085) and noncharacters, discouraged in XML", () =>
    Effect.gen(function* () {
      const post: Post = yield* stored({ slug: "c1", title: "Ti\u0085tle\uFDD0", html: `<p>a\u009Fb\u{1FFFE}c</p>` })
      for (const xml of [rssFeed({ config, urls, posts: [post] }), atomFeed({ config, urls, posts: [post] })]) {
        assert.notMatch(xml, /[\u007F-\u009F\uFDD0-\uFDEF\u{1FFFE}]/u)
        assert.match(xml, /<title( type="text")?>Ti\uFFFDtle\uFFFD<\/title>/)
        assert.include(xml, "&lt;p&gt;a\uFFFDb\uFFFDc&lt;/p&gt;")
      }
    }))

  it.effect("the JSON Feed carries none of them either, in content_html, summary or titles; `_inkwell` keeps the title as written (was: kept as they were)", () =>
    Effect.gen(function* () {
      const post: Post = yield* stored({
        slug: "c1",
        title: "Ti\u0001tle\u001B `x\u0085`",
        tags: ["t\uFDD0"],
        authors: ["A\uFFFE"],
        html: `<p>a\u0001b\u001Bc\u0085d\uFDD0e\uFFFEf <a href="java\uFDD0script:x">l</a></p>`,
        excerpt: "s\u0001u\u0085m\uFFFE"
      })
      const text = jsonFeed({ config: { ...config, title: "Feed\u0085" }, urls, posts: [post] })
      const feed = JSON.parse(text)
      const item = feed.items[0]
      assert.strictEqual(item.content_html, `<p>a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf <a href="java\uFFFDscript:x">l</a></p>`)
      assert.strictEqual(item.summary, "s\uFFFDu\uFFFDm\uFFFD")
      assert.strictEqual(item.title, "Ti\uFFFDtle\uFFFD x\uFFFD")
      assert.deepStrictEqual(item.tags, ["t\uFFFD"])
      assert.deepStrictEqual(item.authors, [{ name: "A\uFFFD" }])
      assert.strictEqual(feed.title, "Feed\uFFFD")
      assert.strictEqual(item._inkwell.title, "Ti\u0001tle\u001B `x\u0085`")
      const { _inkwell, ...shown } = item
      assert.notMatch(JSON.stringify({ ...feed, items: [shown] }), /[\u007F-\u009F\uFDD0-\uFDEF\uFFFE]|\\u00(?:0[0-8bcef]|1[0-9a-f])/iu)
    }))

  it.effect("title an item in plain text, as the page's <title>: its code spans without backticks", () =>
    Effect.gen(function* () {
      const post: Post = yield* stored({ slug: "rustc", title: "Using `rustc` and ``x``" })
      const rss = new XMLParser().parse(rssFeed({ config, urls, posts: [post] }))
      assert.strictEqual(rss.rss.channel.item.title, "Using rustc and `x`")
      const atom = new XMLParser({ ignoreAttributes: false }).parse(atomFeed({ config, urls, posts: [post] }))
      assert.strictEqual(atom.feed.entry.title["#text"], "Using rustc and `x`")
    }))

  it.effect("an RSS item's description is the summary as HTML, so readers show its text as written", () =>
    Effect.gen(function* () {
      const summary = `Use cargo update --precise <yanked> & Vec<T> "now"`
      const post = yield* stored({ slug: "angles", summary, html: "<p>Body</p>" })
      const xml = rssFeed({ config, urls, posts: [post] })
      const item = new XMLParser().parse(xml).rss.channel.item
      assert.strictEqual(item.description, `Use cargo update --precise &lt;yanked&gt; &amp; Vec&lt;T&gt; &quot;now&quot;`)
      // Inkwell's own RSS reader takes the description as HTML, like every feed reader.
      const read = [...Either.getOrThrow(parseXmlFeed(xml, "https://x.test/rss.xml")).items][0]
      assert.strictEqual(read?._tag === "Entry" ? read.input.summary : read, summary)
    }))

  it.effect("RSS and Atom list a tag once per item whatever its case, in a tag's feed under the feed's name for it", () =>
    Effect.gen(function* () {
      const post = yield* stored({ slug: "cased", tags: ["Rust", "rust", "Web", "RUST", "web", "Ärger", "ärger"] })
      const xml = new XMLParser({ ignoreAttributes: false })
      const rssCategories = (tag?: string) => xml.parse(rssFeed({ config, urls, posts: [post], tag })).rss.channel.item.category
      const atomCategories = (tag?: string) =>
        xml.parse(atomFeed({ config, urls, posts: [post], tag })).feed.entry.category.map((c: { "@_term": string }) => c["@_term"])
      for (const categories of [rssCategories, atomCategories]) {
        // As the post's page links them: its first spelling of each.
        assert.deepStrictEqual(categories(), ["Rust", "Web", "Ärger"])
        // The tag's feed calls it what the tag's page does (its posts' usual spelling).
        assert.deepStrictEqual(categories("rust"), ["rust", "Web", "Ärger"])
        assert.deepStrictEqual(categories("ÄRGER"), ["Rust", "Web", "ÄRGER"])
      }
    }))

  it.effect("SITE_TIME_ZONE changes no feed's or sitemap's dates: they stay exact instants", () =>
    Effect.gen(function* () {
      const post = yield* stored({ slug: "late", publishedAt: "2026-01-01T23:30:00Z" })
      const render = (timeZone: string) => {
        const zoned = { ...config, timeZone }
        return [rssFeed({ config: zoned, urls, posts: [post] }), atomFeed({ config: zoned, urls, posts: [post] }), jsonFeed({ config: zoned, urls, posts: [post] })]
      }
      const [rss, atom, json] = render("Asia/Tokyo")
      assert.deepStrictEqual([rss, atom, json], render("UTC"))
      assert.include(rss, "<pubDate>Thu, 01 Jan 2026 23:30:00 GMT</pubDate>")
      assert.include(atom, "<published>2026-01-01T23:30:00.000Z</published>")
      assert.strictEqual(JSON.parse(json!).items[0].date_published, "2026-01-01T23:30:00.000Z")
    }))

  it.effect("RSS dates a post of years 0000-0099 with no pubDate, which readers read as 19xx/20xx; Atom and JSON Feed write year 0000 as RFC 3339 does", () =>
    Effect.gen(function* () {
      const year0 = yield* stored({ slug: "y0", publishedAt: "0000-01-01T00:00:00Z", updatedAtSource: null })
      const year99 = yield* stored({ slug: "y99", publishedAt: "0099-12-31T23:59:59Z", updatedAtSource: null })
      const year100 = yield* stored({ slug: "y100", publishedAt: "0100-01-01T00:00:00Z", updatedAtSource: null })
      const items = new XMLParser().parse(rssFeed({ config, urls, posts: [year100, year99, year0] })).rss.channel.item
      // `Date.parse` read "Sat, 01 Jan 0000" as 2000-01-01 and "Thu, 31 Dec 0099" as 1999-12-31.
      assert.deepStrictEqual(items.map((item: { pubDate?: string }) => item.pubDate), ["Fri, 01 Jan 0100 00:00:00 GMT", undefined, undefined])
      assert.strictEqual(new Date(items[0].pubDate).toISOString(), "0100-01-01T00:00:00.000Z")
      // Inkwell's own importer reads the one date written as written, and leaves the others undated by the feed.
      const read = [...Either.getOrThrow(parseXmlFeed(rssFeed({ config, urls, posts: [year100, year0] }), "https://x.test/rss.xml")).items]
      assert.deepStrictEqual(read.map((item) => item._tag === "Entry" ? item.input.publishedAt : item), ["0100-01-01T00:00:00.000Z", undefined])
      const atom = atomFeed({ config, urls, posts: [year0] })
      assert.include(atom, "<published>0000-01-01T00:00:00.000Z</published>")
      assert.include(atom, "<updated>0000-01-01T00:00:00.000Z</updated>")
      assert.strictEqual(JSON.parse(jsonFeed({ config, urls, posts: [year0] })).items[0].date_published, "0000-01-01T00:00:00.000Z")
    }))

  it.effect("a tag's feed names the tag and points at its own URLs", () =>
    Effect.gen(function* () {
      const post = yield* stored({ slug: "one", tags: ["a b"] })
      const atom = new XMLParser({ ignoreAttributes: false }).parse(atomFeed({ config, urls, posts: [post], tag: "a b" })).feed
      assert.strictEqual(atom.title, "T & <T>: a b")
      assert.strictEqual(atom.id, "https://x.test/tags/a%20b/atom.xml")
      const json = JSON.parse(jsonFeed({ config, urls, posts: [post], tag: "a b" }))
      assert.strictEqual(json.home_page_url, "https://x.test/tags/a%20b")
      assert.strictEqual(json.items[0].url, "https://x.test/p/one")
    }))
})
