/**
 * Feed formats → PostInput, through `fromUrl` with a test HttpClient (no network), and then
 * through the real PostProcessor to check that feed HTML ends up sanitized like markdown's.
 */
import { gzipSync } from "node:zlib"
import { Headers } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Exit } from "effect"
import type { PostInput } from "../../src/Domain/Post.js"
import { PostProcessor } from "../../src/Processing/PostProcessor.js"
import { detectInSteps, feedLinks, fromUrl } from "../../src/Sources/FeedSource.js"
import { htmlBody, isoDate, resolveLinks, textBody } from "../../src/Sources/html.js"
import { parseXmlFeed } from "../../src/Sources/XmlFeed.js"
import { collect, fixture, servedBy } from "./harness.js"

const processor = PostProcessor.layer({ wordsPerMinute: 230, excerptLength: 280 })
const process = (input: PostInput, source: string) =>
  Effect.flatMap(PostProcessor, (p) => p.fromInput(input, source)).pipe(Effect.provide(processor))

/** Reads one of the three feeds, as served at https://m.example/rss, /atom and /json. */
const threeFormats = (feeds: { readonly rss: string; readonly atom: string; readonly json: string }) => {
  const layer = servedBy({
    "/rss": { body: feeds.rss, type: "application/rss+xml" },
    "/atom": { body: feeds.atom, type: "application/atom+xml" },
    "/json": { body: feeds.json, type: "application/feed+json" }
  })
  return (path: "/rss" | "/atom" | "/json") => collect(fromUrl(`https://m.example${path}`)).pipe(Effect.provide(layer))
}

describe("RSS 2.0", () => {
  const feedUrl = "https://blog.example.com/feed.xml"
  const layer = servedBy({ "/feed.xml": { body: fixture("rss.xml"), type: "application/rss+xml; charset=utf-8" } })

  it.effect("maps items, with entities, CDATA, relative links and missing dates", () =>
    Effect.gen(function*() {
      const { entries, rejected } = yield* collect(fromUrl(feedUrl)).pipe(Effect.provide(layer))
      assert.strictEqual(rejected.length, 0)
      assert.strictEqual(entries.length, 4)
      const [first, noDate, untitled, guidLink] = entries.map((e) => e!)

      assert.strictEqual(first!.source, `${feedUrl}#post-1`)
      // &#233; decoded, "&amp;amp;" (escaped twice) decoded to "&", tags in the title dropped
      assert.strictEqual(first!.input.title, "Café & Crème: bold news")
      assert.strictEqual(first!.input.publishedAt, "2024-05-14T07:30:00.000Z")
      assert.deepStrictEqual(first!.input.authors, ["Ada Lovelace"])
      assert.deepStrictEqual(first!.input.tags, ["News", "Food & Drink"])
      assert.strictEqual(first!.input.summary, "A short teaser & more.")
      assert.strictEqual(first!.input.metadata?.["url"], "https://blog.example.com/2024/05/cafe-creme/")
      const body = first!.input.body
      assert.include(body, "href=\"https://blog.example.com/menu\"")
      assert.include(body, "src=\"https://blog.example.com/images/cake.png\"")
      assert.include(body, "srcset=\"https://blog.example.com/images/cake.png 1x, https://blog.example.com/images/cake@2x.png 2x\"")
      assert.include(body, "href=\"#footnote\"", "fragments stay local")
      assert.isFalse(/\n\s*\n/.test(body), "no blank line can end the raw HTML block")

      assert.strictEqual(noDate!.input.title, "No date here")
      assert.isUndefined(noDate!.input.publishedAt)
      assert.deepStrictEqual(noDate!.input.authors, ["Ed Itor"])
      // escaped HTML in <description> is HTML once the XML layer is gone
      assert.include(noDate!.input.body, "<a href=\"https://blog.example.com/relative.html\">HTML</a>")

      assert.strictEqual(untitled!.input.title, "Only a description, no title and no link: the text becomes the title.")
      // Neither guid nor link nor title: known by its text, not by its place in the feed.
      assert.match(untitled!.source, new RegExp(`^${feedUrl.replaceAll(".", "\\.")}#text:[0-9a-f]{32}$`))

      assert.strictEqual(guidLink!.input.metadata?.["url"], "https://blog.example.com/permalink-guid")
      assert.strictEqual(guidLink!.input.publishedAt, "2024-05-15T08:00:00.000Z", "no zone: UTC")
    }))

  it.effect("an item's categories beyond the first 100 are dropped, as a too-long one is: the item is imported with the rest (was: the whole post failed)", () =>
    Effect.gen(function*() {
      const categories = [
        `<category>${"c".repeat(101)}</category>`,
        ...Array.from({ length: 105 }, (_, i) => `<category>tag-${i}</category>`),
        "<category>TAG-0</category>"
      ].join("")
      const rss = `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><guid>many</guid><title>Many</title><description>x</description>${categories}</item>
</channel></rss>`
      const layer = servedBy({ "/rss": { body: rss, type: "application/rss+xml" } })
      const { entries, rejected } = yield* collect(fromUrl("https://d.example/rss")).pipe(Effect.provide(layer))
      assert.strictEqual(rejected.length, 0)
      const post = yield* process(entries[0]!.input, entries[0]!.source)
      assert.deepStrictEqual(post.tags, Array.from({ length: 100 }, (_, i) => `tag-${i}`))
    }))

  it.effect("a title longer than a post's is cut at a word with an ellipsis, and an id too long for a source stands as its hash (were: the item failed, the whole id printed as its name)", () =>
    Effect.gen(function*() {
      const words = Array.from({ length: 400 }, (_, i) => `word${i}`).join(" ")
      const guid = `urn:long:${"g".repeat(20_000)}`
      const rss = `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><guid>toot</guid><title>${words}</title><description>x</description></item>
<item><guid>${guid}</guid><title>Long guid</title><description>x</description></item>
</channel></rss>`
      const layer = servedBy({ "/rss": { body: rss, type: "application/rss+xml" } })
      const read = collect(fromUrl("https://d.example/rss")).pipe(Effect.provide(layer))
      const { entries, rejected } = yield* read
      assert.deepStrictEqual(rejected, [])
      const [long, hashed] = entries
      const title = long!.input.title!
      assert.isAtMost(title.length, 1000)
      assert.isTrue(title.endsWith("…") && words.startsWith(title.slice(0, -1)) && words[title.length - 1] === " ", "cut between words")
      const post = yield* process(long!.input, long!.source)
      assert.strictEqual(post.title, title)
      assert.match(hashed!.source, /^https:\/\/d\.example\/rss#sha256:[0-9a-f]{64}$/)
      assert.strictEqual((yield* read).entries[1]!.source, hashed!.source, "the same id, the same source")
      assert.strictEqual((yield* process(hashed!.input, hashed!.source)).source, hashed!.source)
    }))

  it.effect("a date that is there but unreadable fails its item, naming the element and the value; the rest is read", () =>
    Effect.gen(function*() {
      const rss = `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><guid>bad</guid><title>Bad date</title><pubDate>not a date</pubDate><description>x</description></item>
<item><guid>bad-updated</guid><title>Bad update</title><atom:updated>soon</atom:updated><description>x</description></item>
<item><guid>impossible</guid><title>No such day</title><dc:date>2024-02-30T10:00:00Z</dc:date><description>x</description></item>
<item><guid>good</guid><title>Good</title><pubDate>Tue, 14 May 2024 09:30:00 +0200</pubDate><description>x</description></item>
<item><guid>none</guid><title>No date</title><pubDate> </pubDate><description>x</description></item>
</channel></rss>`
      const atom = `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<entry><id>e1</id><title>Bad</title><updated>yesterday</updated><content>x</content></entry>
<entry><id>e2</id><title>Good</title><updated>2024-06-02T10:00:00Z</updated><content>x</content></entry>
</feed>`
      const layer = servedBy({ "/rss": { body: rss, type: "application/rss+xml" }, "/atom": { body: atom, type: "application/atom+xml" } })
      const fromRss = yield* collect(fromUrl("https://d.example/rss")).pipe(Effect.provide(layer))
      assert.deepStrictEqual(fromRss.entries.map((e) => [e.input.title, e.input.publishedAt]), [
        ["Good", "2024-05-14T07:30:00.000Z"],
        ["No date", undefined]
      ])
      assert.deepStrictEqual(fromRss.rejected.map((r) => r.source), ["https://d.example/rss#bad", "https://d.example/rss#bad-updated", "https://d.example/rss#impossible"])
      assert.match(fromRss.rejected[0]!.reason, /^item 1: <pubDate> "not a date" is not a date \(expected /)
      assert.match(fromRss.rejected[1]!.reason, /^item 2: <atom:updated> "soon" is not a date/)
      assert.match(fromRss.rejected[2]!.reason, /^item 3: <dc:date> "2024-02-30T10:00:00Z" is not a date/)

      const fromAtom = yield* collect(fromUrl("https://d.example/atom")).pipe(Effect.provide(layer))
      assert.deepStrictEqual(fromAtom.entries.map((e) => e.input.title), ["Good"])
      assert.deepStrictEqual(fromAtom.rejected.map((r) => r.source), ["https://d.example/atom#e1"])
      assert.match(fromAtom.rejected[0]!.reason, /^entry 1: <updated> "yesterday" is not a date/)
    }))

  it.effect("an item without a title takes its slug from its link or guid, so two that start alike do not collide", () =>
    Effect.gen(function*() {
      const rss = `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><link>https://m.example/@ada/1112.html</link><description>Photo of the day</description></item>
<item><link>https://m.example/@ada/1113.html</link><description>Photo of the day</description></item>
<item><guid isPermaLink="false">tag:m.example,2024:17</guid><description>Photo of the day</description></item>
<item><link>https://m.example/?p=18</link><description>Photo of the day</description></item>
<item><guid>img</guid><description>&lt;img src="/a.png"&gt;</description></item>
<item><title>Titled</title><link>https://m.example/titled</link><description>x</description></item>
</channel></rss>`
      const atom = `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<entry><id>urn:uuid:1</id><link href="https://a.example/notes/1"/><updated>2024-06-02T10:00:00Z</updated><content>Photo of the day</content></entry>
<entry><id>urn:uuid:2</id><updated>2024-06-02T10:00:00Z</updated><content>Photo of the day</content></entry>
</feed>`
      const json = JSON.stringify({
        version: "https://jsonfeed.org/version/1.1",
        items: [
          { id: "https://j.example/notes/1", content_text: "Photo of the day" },
          { id: 2, content_text: "Photo of the day" },
          { id: 3, content_html: "<img src=\"/a.png\">" }
        ]
      })
      const read = threeFormats({ rss, atom, json })
      const fromRss = yield* read("/rss")
      assert.deepStrictEqual(fromRss.entries.map((e) => [e.input.title, e.input.slug]), [
        ["Photo of the day", "ada-1112"],
        ["Photo of the day", "ada-1113"],
        ["Photo of the day", "tag-m-example-2024-17"],
        ["Photo of the day", "p-18"],
        ["Titled", undefined]
      ])
      assert.deepStrictEqual(fromRss.rejected.map((r) => [r.source, r.reason]), [
        ["https://m.example/rss#img", "item 5: no <title>, and no text in its content to make one from"]
      ])
      const fromAtom = yield* read("/atom")
      assert.deepStrictEqual(fromAtom.entries.map((e) => e.input.slug), ["notes-1", "urn-uuid-2"])
      const fromJson = yield* read("/json")
      assert.deepStrictEqual(fromJson.entries.map((e) => e.input.slug), ["notes-1", "2"])
      assert.deepStrictEqual(fromJson.rejected.map((r) => r.reason), ["items.2: no title, and no text in its content to make one from"])
    }))

  it.effect("a title of no letter or digit takes its slug from its link's last segment, else as an untitled item's (was: failed with advice to set \"slug\", which a feed cannot)", () =>
    Effect.gen(function*() {
      const rss = `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>🎉🎉</title><link>https://blog.example/2024/01/party/</link><description>x</description></item>
<item><title>¿?</title><link>https://blog.example/2024/01/question.html</link><description>x</description></item>
<item><title>!!!</title><link>https://blog.example/?p=18</link><description>x</description></item>
<item><title>***</title><guid isPermaLink="false">tag:blog.example,2024:19</guid><description>x</description></item>
</channel></rss>`
      const atom = `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<entry><id>urn:uuid:1</id><title>🎉</title><link href="https://a.example/notes/cake"/><content>x</content></entry>
</feed>`
      const json = JSON.stringify({
        version: "https://jsonfeed.org/version/1.1",
        items: [{ id: "1", title: "✨✨", url: "https://j.example/posts/sparkles", content_text: "x" }]
      })
      const read = threeFormats({ rss, atom, json })
      const fromRss = yield* read("/rss")
      assert.deepStrictEqual(fromRss.entries.map((e) => [e.input.title, e.input.slug]), [
        ["🎉🎉", "party"],
        ["¿?", "question"],
        ["!!!", "p-18"],
        ["***", "tag-blog-example-2024-19"]
      ])
      const [party] = fromRss.entries
      const post = yield* process(party!.input, party!.source)
      assert.deepStrictEqual([post.slug, post.title], ["party", "🎉🎉"])
      assert.deepStrictEqual((yield* read("/atom")).entries.map((e) => e.input.slug), ["cake"])
      assert.deepStrictEqual((yield* read("/json")).entries.map((e) => e.input.slug), ["sparkles"])
    }))

  it.effect("a title's markup is dropped, its other angle brackets are text (Vec<T>, as Inkwell's own RSS writes it)", () =>
    Effect.gen(function*() {
      const items = [
        "Vec&lt;T&gt; and Box&lt;dyn Error&gt;", // plain text, escaped once (Inkwell's RSS, most feeds)
        "Option&lt;A&gt; is &lt;b&gt;not&lt;/b&gt; a link", // a lone <A> is a type, <b>...</b> markup
        "Line&lt;br/&gt;break &lt;a href=\"/x\"&gt;linked&lt;/a&gt;",
        "&lt;T: Clone&gt; bounds &amp;amp; more" // escaped twice
      ]
      const rss = `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://t.example/</link>${
        items.map((title, i) => `<item><title>${title}</title><guid>g${i}</guid><description>x</description></item>`).join("")
      }</channel></rss>`
      const url = "https://t.example/feed.xml"
      const { entries } = yield* collect(fromUrl(url)).pipe(
        Effect.provide(servedBy({ "/feed.xml": { body: rss, type: "application/rss+xml" } }))
      )
      assert.deepStrictEqual(entries.map((e) => e!.input.title), [
        "Vec<T> and Box<dyn Error>",
        "Option<A> is not a link",
        "Line break linked",
        "<T: Clone> bounds & more"
      ])
    }))

  it.effect("feed HTML comes out of the PostProcessor sanitized, links absolute, <pre> intact", () =>
    Effect.gen(function*() {
      const { entries } = yield* collect(fromUrl(feedUrl)).pipe(Effect.provide(layer))
      const post = yield* process(entries[0]!.input, entries[0]!.source)
      assert.notInclude(post.html, "<script")
      assert.notInclude(post.html, "alert(\"xss\")")
      assert.notInclude(post.html, "onclick")
      assert.notInclude(post.html, "javascript:")
      assert.include(post.html, "<a href=\"https://blog.example.com/menu\" rel=\"noopener noreferrer\">the menu</a>")
      assert.include(post.html, "<img src=\"https://blog.example.com/images/cake.png\"")
      assert.include(post.html, "<p>Indented after a blank line: still HTML, not a code block.</p>")
      assert.notInclude(post.html, "<code>")
      assert.include(post.html, "<pre>line 1\n\nline 3</pre>")
      assert.include(post.html, "rel=\"noopener noreferrer\"")
      assert.strictEqual(post.title, "Café & Crème: bold news")
      assert.strictEqual(post.slug, "cafe-creme-bold-news")
      assert.strictEqual(post.status, "published")
      assert.isTrue(post.wordCount > 10, `counted ${post.wordCount} words`)
    }))
})

describe("Atom 1.0", () => {
  const feedUrl = "https://atom.example.org/blog/atom.xml"
  const layer = servedBy({ "/blog/atom.xml": { body: fixture("atom.xml"), type: "application/atom+xml" } })

  it.effect("maps entries: html, xhtml and text content, xml:base, categories, authors", () =>
    Effect.gen(function*() {
      const { entries } = yield* collect(fromUrl(feedUrl)).pipe(Effect.provide(layer))
      assert.strictEqual(entries.length, 3)
      const [html, xhtml, text] = entries

      assert.strictEqual(html!.source, `${feedUrl}#tag:atom.example.org,2024:1`)
      assert.strictEqual(html!.input.title, "Hello & welcome home")
      assert.strictEqual(html!.input.metadata?.["url"], "https://atom.example.org/blog/posts/hello", "rel=alternate, not rel=edit")
      assert.include(html!.input.body, "href=\"https://atom.example.org/about\"")
      assert.strictEqual(html!.input.summary, "A summary in plain text")
      assert.deepStrictEqual(html!.input.tags, ["Rust", "web"])
      assert.strictEqual(html!.input.publishedAt, "2024-06-01T10:00:00.000Z")
      assert.strictEqual(html!.input.updatedAt, "2024-06-02T10:00:00.000Z")
      assert.deepStrictEqual(html!.input.authors, ["Feed Author"], "the feed's author when the entry has none")

      assert.include(xhtml!.input.body, "<p>Inline <img src=\"https://other.example.net/x/pic.png\"/> and <b>bold</b></p>")
      assert.notInclude(xhtml!.input.body, "xmlns")
      assert.strictEqual(xhtml!.input.publishedAt, "2024-06-03T10:00:00.000Z", "updated stands in for a missing published")
      assert.deepStrictEqual(xhtml!.input.authors, ["Entry Author"])

      assert.strictEqual(text!.input.title, "Plain <text> body")
      assert.include(text!.input.body, "<p>Line one &amp; &lt;b&gt;not bold&lt;/b&gt;</p>")
      assert.include(text!.input.body, "<p>Second paragraph</p>")
    }))

  it("a comment in a title or content is no text of it; a CDATA section holding one keeps it (was: imported with \"<!-- draft -->\" in its title)", () => {
    const atom = `<feed xmlns="http://www.w3.org/2005/Atom"><title>T <!-- x --></title><entry><id>e</id><title>Hello <!-- draft --> world</title>` +
      `<content type="html">&lt;p&gt;One&lt;/p&gt;<!-- <p>gone</p> --><![CDATA[<p>Two <!-- kept --></p>]]></content></entry></feed>`
    const read = parseXmlFeed(atom, "https://x.example/atom")
    if (Either.isLeft(read)) return assert.fail(read.left.message)
    assert.strictEqual(read.right.title, "T")
    const [entry] = Array.from(read.right.items)
    if (entry?._tag !== "Entry") return assert.fail(JSON.stringify(entry))
    assert.strictEqual(entry.input.title, "Hello world")
    assert.notInclude(entry.input.body, "gone")
    assert.include(entry.input.body, "<p>One</p><p>Two <!-- kept --></p>")
  })

  it.effect("text content stays text through processing", () =>
    Effect.gen(function*() {
      const { entries } = yield* collect(fromUrl(feedUrl)).pipe(Effect.provide(layer))
      const post = yield* process(entries[2]!.input, entries[2]!.source)
      assert.include(post.html, "&lt;b&gt;not bold&lt;/b&gt;")
      assert.notInclude(post.html, "<b>")
    }))
})

describe("JSON Feed 1.1", () => {
  const feedUrl = "https://json.example.com/feed.json"
  const layer = servedBy({ "/feed.json": { body: fixture("feed.json"), type: "application/feed+json" } })

  it.effect("maps items, rejects bad ones by index and field, keeps going", () =>
    Effect.gen(function*() {
      const { entries, items, rejected } = yield* collect(fromUrl(feedUrl)).pipe(Effect.provide(layer))
      assert.strictEqual(items.length, 5)
      assert.deepStrictEqual(rejected.map((r) => r.source), [`${feedUrl}#3`, `${feedUrl}#4`])
      assert.include(rejected[0]!.reason, "neither content_html, content_text nor summary")
      assert.include(rejected[1]!.reason, "items.3.tags")

      const [one, micro, slugged] = entries
      assert.strictEqual(one!.input.title, "Tom & Jerry")
      assert.strictEqual(one!.input.metadata?.["url"], "https://json.example.com/posts/one")
      assert.include(one!.input.body, "href=\"https://json.example.com/two\"")
      assert.deepStrictEqual(one!.input.tags, ["a", "b"])
      assert.deepStrictEqual(one!.input.authors, ["Item Person"])
      assert.strictEqual(one!.input.summary, "First one")
      assert.strictEqual(one!.input.publishedAt, "2024-01-02T02:04:05.000Z")

      assert.strictEqual(micro!.source, `${feedUrl}#2`)
      assert.isTrue(micro!.input.title!.endsWith("…") && micro!.input.title!.length <= 80, micro!.input.title)
      assert.deepStrictEqual(micro!.input.authors, ["Feed Person"])
      assert.include(micro!.input.body, "&lt;angle&gt;")
      assert.isUndefined(micro!.input.updatedAt)

      assert.strictEqual(slugged!.input.slug, "kept-slug")

      const post = yield* process(one!.input, one!.source)
      assert.notInclude(post.html, "<script")
      assert.strictEqual(post.excerpt, "First one")
    }))

  it.effect("a date its offset moves outside years 0000-9999 fails its item, in every format, naming it", () =>
    Effect.gen(function*() {
      const rss = `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><guid>late</guid><title>Late</title><pubDate>Fri, 31 Dec 9999 23:00:00 -0500</pubDate><description>x</description></item>
<item><guid>early</guid><title>Early</title><dc:date>0000-01-01T00:30:00+01:00</dc:date><description>x</description></item>
<item><guid>edge</guid><title>Edge</title><pubDate>Fri, 31 Dec 9999 18:59:59 -0500</pubDate><description>x</description></item>
</channel></rss>`
      const atom = `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<entry><id>e1</id><title>Early</title><updated>0000-01-01T00:30:00+01:00</updated><content>x</content></entry>
<entry><id>e2</id><title>First</title><updated>0000-01-01T00:30:00+00:30</updated><content>x</content></entry>
</feed>`
      const json = JSON.stringify({
        version: "https://jsonfeed.org/version/1.1",
        items: [
          { id: "a", title: "A", content_text: "x", date_published: "2024-01-02T03:04:05Z", date_modified: "9999-12-31T23:00:00-05:00" },
          { id: "b", title: "B", content_text: "x", date_published: "0000-01-01T00:30:00+01:00" }
        ]
      })
      const layer = servedBy({
        "/rss": { body: rss, type: "application/rss+xml" },
        "/atom": { body: atom, type: "application/atom+xml" },
        "/feed.json": { body: json, type: "application/feed+json" }
      })
      const fromRss = yield* collect(fromUrl("https://d.example/rss")).pipe(Effect.provide(layer))
      assert.deepStrictEqual(fromRss.entries.map((e) => [e.input.title, e.input.publishedAt]), [["Edge", "9999-12-31T23:59:59.000Z"]])
      assert.deepStrictEqual(fromRss.rejected.map((r) => [r.source, r.reason]), [
        ["https://d.example/rss#late", `item 1: <pubDate> "Fri, 31 Dec 9999 23:00:00 -0500" is after 9999-12-31T23:59:59.999Z in UTC (dates are kept within years 0000-9999)`],
        ["https://d.example/rss#early", `item 2: <dc:date> "0000-01-01T00:30:00+01:00" is before 0000-01-01T00:00:00Z in UTC (dates are kept within years 0000-9999)`]
      ])
      const fromAtom = yield* collect(fromUrl("https://d.example/atom")).pipe(Effect.provide(layer))
      assert.deepStrictEqual(fromAtom.entries.map((e) => [e.input.title, e.input.updatedAt]), [["First", "0000-01-01T00:00:00.000Z"]])
      assert.deepStrictEqual(fromAtom.rejected.map((r) => r.source), ["https://d.example/atom#e1"])
      assert.match(fromAtom.rejected[0]!.reason, /^entry 1: <updated> "0000-01-01T00:30:00\+01:00" is before 0000-01-01T00:00:00Z in UTC/)
      const fromJson = yield* collect(fromUrl("https://d.example/feed.json")).pipe(Effect.provide(layer))
      assert.deepStrictEqual(fromJson.entries, [])
      assert.deepStrictEqual(fromJson.rejected.map((r) => [r.source, r.reason.split(" in UTC")[0]]), [
        ["https://d.example/feed.json#a", `items.0.date_modified: "9999-12-31T23:00:00-05:00" is after 9999-12-31T23:59:59.999Z`],
        ["https://d.example/feed.json#b", `items.1.date_published: "0000-01-01T00:30:00+01:00" is before 0000-01-01T00:00:00Z`]
      ])
    }))

  it.effect("a date that is there but unreadable fails its item, naming the field and the value", () =>
    Effect.gen(function*() {
      const body = JSON.stringify({
        version: "https://jsonfeed.org/version/1.1",
        items: [
          { id: "a", title: "A", content_text: "x", date_published: "yesterday" },
          { id: "b", title: "B", content_text: "x", date_published: "2024-01-02T03:04:05Z", date_modified: "later" },
          { id: "c", title: "C", content_text: "x", date_published: "2024-01-02T03:04:05Z", date_modified: null }
        ]
      })
      const layer = servedBy({ "/feed.json": { body, type: "application/feed+json" } })
      const { entries, rejected } = yield* collect(fromUrl("https://j.example/feed.json")).pipe(Effect.provide(layer))
      assert.deepStrictEqual(entries.map((e) => e.input.title), ["C"])
      assert.deepStrictEqual(rejected.map((r) => [r.source, r.reason.split(" (")[0]]), [
        ["https://j.example/feed.json#a", "items.0.date_published: \"yesterday\" is not a date"],
        ["https://j.example/feed.json#b", "items.1.date_modified: \"later\" is not a date"]
      ])
    }))

  it.effect("follows next_url pages, stopping at a loop", () =>
    Effect.gen(function*() {
      const page = (n: number, next?: string) => ({
        body: JSON.stringify({
          version: "https://jsonfeed.org/version/1.1",
          title: "paged",
          ...(next === undefined ? {} : { next_url: next }),
          items: [{ id: `p${n}`, title: `Post ${n}`, content_text: "x" }]
        }),
        type: "application/json"
      })
      const seen: Array<string> = []
      const layer = servedBy({ "/feed.json": page(1, "/feed.json?page=2"), "/feed.json?page=2": page(2, "?page=3"), "/feed.json?page=3": page(3, "/feed.json?page=2") }, seen)
      const { entries } = yield* collect(fromUrl("https://paged.example/feed.json")).pipe(Effect.provide(layer))
      assert.deepStrictEqual(entries.map((e) => e.input.title), ["Post 1", "Post 2", "Post 3"])
      assert.deepStrictEqual(seen, ["/feed.json", "/feed.json?page=2", "/feed.json?page=3"])
    }))

  it.effect("a next_url back to the first page is a loop: its items come once", () =>
    Effect.gen(function*() {
      const body = JSON.stringify({
        version: "https://jsonfeed.org/version/1.1",
        next_url: "https://self.example/feed.json",
        items: [{ id: "a", title: "A", content_text: "x" }, { id: "b", title: "B", content_text: "y" }]
      })
      const seen: Array<string> = []
      const layer = servedBy({ "/feed.json": { body, type: "application/feed+json" } }, seen)
      const { entries } = yield* collect(fromUrl("https://self.example/feed.json")).pipe(Effect.provide(layer))
      assert.deepStrictEqual(entries.map((e) => e.input.title), ["A", "B"])
      assert.deepStrictEqual(seen, ["/feed.json"])
    }))
})

describe("format detection", () => {
  it.effect("finds the feed an HTML page links to", () =>
    Effect.gen(function*() {
      const layer = servedBy({
        "/": {
          body: `<!doctype html><html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml"><link rel="stylesheet" href="/s.css"></head></html>`,
          type: "text/html"
        },
        "/feed.xml": { body: fixture("rss.xml"), type: "text/xml" }
      })
      const { entries } = yield* collect(fromUrl("https://blog.example.com/")).pipe(Effect.provide(layer))
      assert.strictEqual(entries.length, 4)
      assert.strictEqual(entries[0]!.source, "https://blog.example.com/feed.xml#post-1")
    }))

  it.effect("a page's feed links: feed types before application/json, and one that leads to no feed passed over for the next (was: a WordPress page's REST API link was tried alone)", () =>
    Effect.gen(function*() {
      const link = (type: string, href: string) => `<link rel="alternate" type="${type}" href="${href}" />`
      const page = (...links: ReadonlyArray<string>) => ({ body: `<!DOCTYPE html><html><head>${links.join("")}</head><body>posts</body></html>`, type: "text/html; charset=UTF-8" })
      const seen: Array<string> = []
      const layer = servedBy({
        // WordPress 5.5+: the REST API's alternate is application/json.
        "/category/rust/": page(
          link("application/json", "/wp-json/wp/v2/categories/5"),
          link("application/rss+xml", "/moved/"),
          link("application/rss+xml", "/feed/"),
          link("application/rss+xml", "/comments/feed/")
        ),
        "/wp-json/wp/v2/categories/5": { body: JSON.stringify({ id: 5, name: "Rust", slug: "rust", taxonomy: "category" }), type: "application/json" },
        "/moved/": page(),
        "/feed/": { body: fixture("rss.xml"), type: "application/rss+xml" },
        "/comments/feed/": { body: fixture("rss.xml"), type: "application/rss+xml" },
        "/none/": page(link("application/json", "/wp-json/wp/v2/categories/5"), link("application/rss+xml", "/moved/")),
        "/broken/": page(link("application/rss+xml", "/cut.xml"), link("application/rss+xml", "/comments/feed/")),
        "/cut.xml": { body: "<?xml version=\"1.0\"?><rss><channel><item><title>Cut", type: "application/rss+xml" }
      }, seen)
      const { entries } = yield* collect(fromUrl("https://blog.example/category/rust/")).pipe(Effect.provide(layer))
      assert.strictEqual(entries.length, 4)
      assert.strictEqual(entries[0]!.source, "https://blog.example/feed/#post-1")
      assert.deepStrictEqual(seen, ["/category/rust/", "/moved/", "/feed/"], "the feeds first, in the page's order; the JSON never needed")
      // None leads to a feed: each one tried is named, with why.
      const none = yield* Effect.flip(collect(fromUrl("https://blog.example/none/")).pipe(Effect.provide(layer)))
      assert.strictEqual(none._tag, "DecodeError")
      assert.include(none.message, "https://blog.example/none/: not a feed: an HTML page none of whose 2 <link rel=\"alternate\"> leads to a feed: ")
      assert.include(none.message, "https://blog.example/moved/: not a feed: an HTML page, though a page's <link rel=\"alternate\"> gave it as the feed")
      assert.include(none.message, "https://blog.example/wp-json/wp/v2/categories/5: not a feed: JSON, but neither a JSON Feed")
      // A feed that is there but broken fails: the next link is another feed (the comments').
      const broken = yield* Effect.flip(collect(fromUrl("https://blog.example/broken/")).pipe(Effect.provide(layer)))
      assert.match(broken.message, /^https:\/\/blog\.example\/cut\.xml: cannot read as RSS or Atom/)
    }))

  it("a page's feed links are read a slice at a time, in one pass: a page of 1 MB is read in steps, a <link with no > after it ending nothing (was: one regex call over the whole page, read again to its end from each such <link: 500 KB of them held a server 22 s)", () => {
    const head = `<!doctype html><html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body>`
    const html = `${head}${"<p>words and more words</p>\n".repeat(40_000)}${"<link ".repeat(1000)}`
    const resource = { url: "https://x.example/", finalUrl: "https://x.example/", headers: Headers.fromInput({ "content-type": "text/html" }), bytes: Buffer.from(html), contentType: "text/html" }
    const steps = detectInSteps(resource)
    let turns = 0
    let step = steps.next()
    for (; step.done !== true; step = steps.next()) turns++
    assert.deepStrictEqual(step.value, Either.right({ _tag: "Html" as const, alternates: ["https://x.example/feed.xml"], inkwellApis: [] }))
    assert.isAtLeast(turns, Math.floor(html.length / (64 * 1024)), "a turn for the event loop after each 64 KiB")
  })

  it("a page's feed links are read as a browser reads them: none in a comment or a script, entities decoded, each once", () => {
    const link = (href: string, type = "application/rss+xml") => `<link rel="alternate" type="${type}" href="${href}">`
    const html = `<!doctype html><html><head><!-- ${link("/old.xml")} --><script>document.write('${link("/script.xml")}')</script>` +
      `${link("/feed.json", "application/json")}${link("/feed?a=1&amp;b=2")}<LINK REL="Alternate" TYPE="application/atom+xml" HREF="/atom.xml"/>${link("/feed?a=1&b=2")}</head></html>`
    assert.deepStrictEqual(feedLinks(html, "https://x.example/"), ["https://x.example/atom.xml", "https://x.example/feed?a=1&b=2", "https://x.example/feed.json"])
  })

  it.effect("a page's feed links are tried once each, the first 5 at most, and a failure says the first 3 reasons and how many more (was: 3,000 links fetched 3,001 times, a failure of 455 KB)", () =>
    Effect.gen(function*() {
      const link = (href: string) => `<link rel="alternate" type="application/rss+xml" href="${href}">`
      const page = (links: ReadonlyArray<string>) => ({ body: `<!doctype html><html><head>${links.map(link).join("")}</head></html>`, type: "text/html" })
      const seen: Array<string> = []
      const layer = servedBy({
        "/many": page(Array.from({ length: 3000 }, (_, i) => `/page/${i}`)),
        "/twice": page(["/page/a", "/page/a", "/page/b", "/page/a"]),
        "/page/a": page([]),
        "/page/b": page([]),
        ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`/page/${i}`, page([])]))
      }, seen)
      const many = yield* Effect.flip(collect(fromUrl("https://x.example/many")).pipe(Effect.provide(layer)))
      assert.deepStrictEqual(seen, ["/many", "/page/0", "/page/1", "/page/2", "/page/3", "/page/4"])
      assert.isBelow(many.message.length, 1000)
      assert.match(
        many.message,
        /^https:\/\/x\.example\/many: not a feed: an HTML page none of whose first 5 <link rel="alternate"> \(of 3000, the rest not tried\) leads to a feed: https:\/\/x\.example\/page\/0: [^;]*; https:\/\/x\.example\/page\/1: [^;]*; https:\/\/x\.example\/page\/2: [^;]*; and 2 more$/
      )
      seen.length = 0
      const twice = yield* Effect.flip(collect(fromUrl("https://x.example/twice")).pipe(Effect.provide(layer)))
      assert.deepStrictEqual(seen, ["/twice", "/page/a", "/page/b"])
      assert.include(twice.message, "an HTML page none of whose 2 <link rel=\"alternate\"> leads to a feed: ")
    }))

  it.effect("a mislabelled feed is read by its body; a page with no feed is a DecodeError", () =>
    Effect.gen(function*() {
      const layer = servedBy({
        "/atom": { body: fixture("atom.xml"), type: "text/plain" },
        "/page": { body: "<!doctype html><html><body>hi</body></html>", type: "text/html" },
        "/plain": { body: "hello", type: "text/plain" }
      })
      const { entries } = yield* collect(fromUrl("https://x.example/atom")).pipe(Effect.provide(layer))
      assert.strictEqual(entries.length, 3)
      for (const path of ["/page", "/plain"]) {
        const exit = yield* collect(fromUrl(`https://x.example${path}`)).pipe(Effect.provide(layer), Effect.exit)
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit) && exit.cause._tag === "Fail") assert.strictEqual(exit.cause.error._tag, "DecodeError")
        else assert.fail(`expected DecodeError for ${path}`)
      }
    }))

  it.effect("a body that cannot be read says plainly what it was read as, where, and what is wrong", () =>
    Effect.gen(function*() {
      const layer = servedBy({
        "/broken.xml": { body: "<?xml version=\"1.0\"?>\n<rss version=\"2.0\">\n<channel>\n<item><title>x", type: "application/rss+xml" },
        "/mismatched.xml": { body: "<rss>\n<channel>\n<item>\n</channel>\n</rss>", type: "application/rss+xml" },
        "/notafeed.txt": { body: "hello, world", type: "text/plain" },
        "/broken.json": { body: "{\"version\": \"https://jsonfeed.org/version/1.1\",\n \"items\": [", type: "application/feed+json" },
        "/comma.json": { body: "{\n  \"a\": 1,\n}", type: "application/json" },
        "/other.json": { body: "{\"a\": 1}", type: "application/json" },
        "/page": { body: "<!doctype html><html><body>hi</body></html>", type: "text/html" },
        // A JSON Feed whose next page is an RSS document.
        "/1.json": { body: JSON.stringify({ version: "https://jsonfeed.org/version/1.1", next_url: "/rss.xml", items: [] }), type: "application/feed+json" },
        "/rss.xml": { body: "<?xml version=\"1.0\"?>\n<rss version=\"2.0\">\n<channel>\n</channel>\n</rss>\n", type: "application/json" },
        "/token.json": { body: "{\n  \"items\": [\n    {\"id\": 1, \"title\": \"One\", \"x\": x, \"content_text\": \"more text after it\"}\n  ]\n}", type: "application/json" },
        "/end.json": { body: "{\"version\": \"https://jsonfeed.org\",\n\"a\":x}", type: "application/json" }
      })
      const message = (path: string) =>
        collect(fromUrl(`https://x.example${path}`)).pipe(
          Effect.provide(layer),
          Effect.flip,
          Effect.map((e) => e.message)
        )
      assert.strictEqual(
        yield* message("/broken.xml"),
        "https://x.example/broken.xml: cannot read as RSS or Atom (XML) at line 4, column 15: the document ends inside <rss>, <channel>, <item>, <title>, never closed (cut off?)"
      )
      assert.strictEqual(
        yield* message("/mismatched.xml"),
        "https://x.example/mismatched.xml: cannot read as RSS or Atom (XML) at line 4, column 1: closing tag </channel> where <item> (line 3, column 1) is still open"
      )
      assert.strictEqual(
        yield* message("/notafeed.txt"),
        "https://x.example/notafeed.txt: not a feed: neither JSON nor XML (content type \"text/plain\", starts with \"hello, world\")"
      )
      assert.strictEqual(
        yield* message("/broken.json"),
        "https://x.example/broken.json: cannot read as JSON at line 2, column 12: the JSON ends before it is complete (cut off?)"
      )
      assert.strictEqual(
        yield* message("/comma.json"),
        "https://x.example/comma.json: cannot read as JSON at line 3, column 1: unexpected '}'"
      )
      assert.match(yield* message("/other.json"), /^https:\/\/x\.example\/other\.json: not a feed: JSON, but neither a JSON Feed /)
      // An unexpected token, of which V8 said no offset, only the text around it (was: placed at the end).
      assert.strictEqual(yield* message("/1.json"), "https://x.example/rss.xml: cannot read as JSON at line 1, column 1: unexpected '<'")
      assert.strictEqual(yield* message("/token.json"), "https://x.example/token.json: cannot read as JSON at line 3, column 36: unexpected 'x'")
      assert.strictEqual(yield* message("/end.json"), "https://x.example/end.json: cannot read as JSON at line 2, column 5: unexpected 'x'")
      assert.strictEqual(
        yield* message("/page"),
        "https://x.example/page: not a feed: an HTML page that links to no feed (no <link rel=\"alternate\"> of an RSS, Atom or JSON Feed type in it)"
      )
    }))

  it.effect("a compressed or binary body is described, never quoted into the message", () =>
    Effect.gen(function*() {
      const gzip = Uint8Array.from(gzipSync(fixture("rss.xml")))
      const layer = servedBy({
        "/feed.xml": { body: gzip, type: "application/rss+xml" },
        "/feed.json": { body: gzip, type: "application/feed+json" },
        "/image": { body: Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), type: "image/png" }
      })
      const message = (path: string) =>
        collect(fromUrl(`https://x.example${path}`)).pipe(Effect.provide(layer), Effect.flip, Effect.map((e) => e.message))
      for (const [path, type] of [["/feed.xml", "application/rss+xml"], ["/feed.json", "application/feed+json"]] as const) {
        assert.strictEqual(
          yield* message(path),
          `https://x.example${path}: not a feed: neither JSON nor XML (content type "${type}", gzip-compressed data (${gzip.length} bytes) without a Content-Encoding header saying so)`
        )
      }
      assert.strictEqual(
        yield* message("/image"),
        "https://x.example/image: not a feed: neither JSON nor XML (content type \"image/png\", binary data (12 bytes), not text)"
      )
    }))

  /** `parts` as bytes: strings as UTF-8, numbers as the bytes they are (0x92: Windows-1252's ’, never UTF-8 alone). */
  const bytesOf = (...parts: ReadonlyArray<string | number>): Uint8Array =>
    Uint8Array.from(Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from([p])))))
  const offsetOf = (...before: ReadonlyArray<string | number>) => bytesOf(...before).length
  const notUtf8 = (label: string, offset: number, why = "its Content-Type says UTF-8") =>
    `${label}: not valid UTF-8: invalid or truncated sequence at byte offset ${offset} (${why}); not imported rather than imported with U+FFFD in place of what the source wrote`

  it.effect("a stray Windows-1252 byte in a feed labelled UTF-8 fails only its item, naming it and the byte; the others are imported as written (was: the whole feed was refused)", () =>
    Effect.gen(function*() {
      const head = `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Caf`
      const one = `</title><item><guid>a</guid><title>One \ufffd kept</title><description>x</description></item>` +
        `<item><guid>b</guid><title>Two</title><description>y</description></item>` +
        `<item><guid>c</guid><title>Three</title><description>It`
      const layer = servedBy({
        "/rss": { body: bytesOf(head, 0xe9, one, 0x92, "s here</description></item></channel></rss>"), type: "application/rss+xml; charset=utf-8" }
      })
      const { entries, rejected } = yield* collect(fromUrl("https://x.example/rss")).pipe(Effect.provide(layer))
      // The channel's own title is no item's: its bad byte fails nothing.
      assert.deepStrictEqual(entries.map((e) => e.input.title), ["One \ufffd kept", "Two"])
      assert.deepStrictEqual(rejected.map((r) => [r.source, r.reason, r.skipped]), [
        ["https://x.example/rss#c", notUtf8("item 3", offsetOf(head, 0xe9, one)), false]
      ])
    }))

  it.effect("a bad byte in an item's guid or link fails it, named with U+FFFD in place of the byte", () =>
    Effect.gen(function*() {
      const head = `<rss version="2.0"><channel><title>t</title><item><guid>caf`
      const mid = `</guid><title>A</title><description>x</description></item><item><link>https://x.example/caf`
      const layer = servedBy({
        "/rss": { body: bytesOf(head, 0x92, mid, 0x92, "</link><description>y</description></item></channel></rss>"), type: "application/rss+xml" }
      })
      const { entries, rejected } = yield* collect(fromUrl("https://x.example/rss")).pipe(Effect.provide(layer))
      assert.strictEqual(entries.length, 0)
      assert.deepStrictEqual(rejected.map((r) => [r.source, r.reason]), [
        ["https://x.example/rss#caf\ufffd", notUtf8("item 1", offsetOf(head), "no charset given: read as UTF-8")],
        ["https://x.example/rss#https://x.example/caf\ufffd", notUtf8("item 2", offsetOf(head, 0x92, mid), "no charset given: read as UTF-8")]
      ])
    }))

  it.effect("Atom: an entry taking the feed's damaged author fails; a bad byte in the markup refuses the feed, naming it", () =>
    Effect.gen(function*() {
      const head = `<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><author><name>Jos`
      const rest = `</name></author><entry><id>e1</id><title>Own author</title><author><name>Ann</name></author><content>x</content></entry>` +
        `<entry><id>e2</id><title>Feed's author</title><content>y</content></entry></feed>`
      const markup = `<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>e1</id><titl`
      const layer = servedBy({
        "/atom": { body: bytesOf(head, 0x92, rest), type: "application/atom+xml; charset=utf-8" },
        "/broken": { body: bytesOf(markup, 0x92, `e>x</title></entry></feed>`), type: "application/atom+xml; charset=utf-8" }
      })
      const { entries, rejected } = yield* collect(fromUrl("https://x.example/atom")).pipe(Effect.provide(layer))
      assert.deepStrictEqual(entries.map((e) => e.input.title), ["Own author"])
      assert.deepStrictEqual(rejected.map((r) => [r.source, r.reason]), [["https://x.example/atom#e2", notUtf8("entry 2", offsetOf(head))]])
      const error = yield* Effect.flip(collect(fromUrl("https://x.example/broken")).pipe(Effect.provide(layer)))
      assert.strictEqual(
        error.message,
        `https://x.example/broken: not valid UTF-8: invalid or truncated sequence at byte offset ${offsetOf(markup)} (its Content-Type says UTF-8)`
      )
    }))

  it.effect("a bad byte in an element's or an attribute's name refuses the feed, naming it (was: the item it named vanished, the xml:base it named went unread, without a word)", () =>
    Effect.gen(function*() {
      const item = `<rss version="2.0"><channel><title>t</title><it`
      const itemRest = `em/><item><guid>b</guid><title>B</title><description>y</description></item></channel></rss>`
      const base = `<feed xmlns="http://www.w3.org/2005/Atom" xml:ba`
      const baseRest = `se="https://other.example/blog/"><title>t</title><entry><id>a</id><title>A</title><link href="post.html"/><content>x</content></entry></feed>`
      const layer = servedBy({
        "/item": { body: bytesOf(item, 0x92, itemRest), type: "application/rss+xml; charset=utf-8" },
        "/base": { body: bytesOf(base, 0x92, baseRest), type: "application/atom+xml; charset=utf-8" }
      })
      for (const [path, before] of [["/item", item], ["/base", base]] as const) {
        const error = yield* Effect.flip(collect(fromUrl(`https://x.example${path}`)).pipe(Effect.provide(layer)))
        assert.strictEqual(
          error.message,
          `https://x.example${path}: not valid UTF-8: invalid or truncated sequence at byte offset ${offsetOf(before)} (its Content-Type says UTF-8)`
        )
      }
    }))

  it.effect("JSON Feed: a bad byte in an item's string fails that item, on any page; one outside a string refuses the page", () =>
    Effect.gen(function*() {
      const first = JSON.stringify({ version: "https://jsonfeed.org/version/1.1", title: "t", next_url: "/2.json", items: [{ id: "1", title: "One", content_text: "x" }] })
      const head = `{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"2","title":"Two","content_text":"x"},{"id":"3","title":"Caf`
      const broken = `{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[`
      const layer = servedBy({
        "/1.json": { body: first, type: "application/feed+json" },
        "/2.json": { body: bytesOf(head, 0xe9, `","content_text":"y"}]}`), type: "application/feed+json" },
        "/broken.json": { body: bytesOf(broken, 0x92, `]}`), type: "application/feed+json" }
      })
      const { entries, rejected } = yield* collect(fromUrl("https://x.example/1.json")).pipe(Effect.provide(layer))
      assert.deepStrictEqual(entries.map((e) => e.input.title), ["One", "Two"])
      assert.deepStrictEqual(rejected.map((r) => [r.source, r.reason]), [
        // Named by the feed (its first page), as its items are; the reason says the page.
        ["https://x.example/1.json#3", `page https://x.example/2.json, ${notUtf8("items.1", offsetOf(head), "no charset given: read as UTF-8")}`]
      ])
      const error = yield* Effect.flip(collect(fromUrl("https://x.example/broken.json")).pipe(Effect.provide(layer)))
      assert.strictEqual(
        error.message,
        `https://x.example/broken.json: not valid UTF-8: invalid or truncated sequence at byte offset ${offsetOf(broken)} (no charset given: read as UTF-8)`
      )
    }))

  it.effect("JSON Feed: a bad byte in a key of the feed or of its authors, or in next_url, refuses the page; one in its title fails nothing (was: authors or next page dropped without a word)", () =>
    Effect.gen(function*() {
      const head = `{"version":"https://jsonfeed.org/version/1.1",`
      const items = `"items":[{"id":"1","title":"One","content_text":"x"}]}`
      const refused: ReadonlyArray<readonly [string, string, string]> = [
        ["/authors.json", `"author`, `s":[{"name":"Ann"}],`],
        ["/next.json", `"next_u`, `rl":"/2.json",`],
        ["/name.json", `"authors":[{"na`, `me":"Ann"}],`],
        ["/url.json", `"next_url":"/`, `.json",`]
      ]
      const layer = servedBy({
        ...Object.fromEntries(refused.map(([path, before, after]) => [path, { body: bytesOf(head, before, 0x92, after, items), type: "application/feed+json" }])),
        "/title.json": { body: bytesOf(head, `"title":"Caf`, 0x92, `",`, items), type: "application/feed+json" }
      })
      for (const [path, before] of refused) {
        const error = yield* Effect.flip(collect(fromUrl(`https://x.example${path}`)).pipe(Effect.provide(layer)))
        assert.strictEqual(
          error.message,
          `https://x.example${path}: not valid UTF-8: invalid or truncated sequence at byte offset ${offsetOf(head, before)} (no charset given: read as UTF-8)`
        )
      }
      const { entries, rejected } = yield* collect(fromUrl("https://x.example/title.json")).pipe(Effect.provide(layer))
      assert.deepStrictEqual([entries.map((e) => e.input.title), rejected], [["One"], []])
    }))

  it.effect("a byte order mark wins over the label, as XML and WHATWG have it: UTF-16, and UTF-8 labelled Latin-1 (were: refused as binary, or read as \"ï»¿\" before the document)", () =>
    Effect.gen(function*() {
      const xml = (encoding: string) =>
        `<?xml version="1.0" encoding="${encoding}"?><rss version="2.0"><channel><title>t</title><item><guid>1</guid><title>Caf\u00e9 \u{1F389}</title><description>x</description></item></channel></rss>`
      const utf16be = (text: string) => Buffer.from(text, "utf16le").swap16()
      const layer = servedBy({
        "/le": { body: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml("UTF-16"), "utf16le")]), type: "application/rss+xml" },
        "/be": { body: Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(xml("UTF-16"))]), type: "application/rss+xml; charset=utf-8" },
        "/latin1": { body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(xml("UTF-8"))]), type: "application/rss+xml; charset=iso-8859-1" }
      })
      for (const path of ["/le", "/be", "/latin1"]) {
        const { entries, rejected } = yield* collect(fromUrl(`https://x.example${path}`)).pipe(Effect.provide(layer))
        assert.deepStrictEqual([entries.map((e) => e.input.title), rejected], [["Café 🎉"], []], path)
      }
    }))

  it.effect("JSON is read as UTF-8 whatever its label says: a JSON Feed and its next page, another Inkwell's pages and posts (were: UTF-8 labelled ISO-8859-1 imported as \"CafÃ©\")", () =>
    Effect.gen(function*() {
      const latin1 = "application/json; charset=iso-8859-1"
      const feed = (items: ReadonlyArray<unknown>, next?: string) => JSON.stringify({ version: "https://jsonfeed.org/version/1.1", ...(next === undefined ? {} : { next_url: next }), items })
      const layer = servedBy({
        "/feed.json": { body: Buffer.from(feed([{ id: "1", title: "Café", content_text: "x" }], "/feed.json?page=2")), type: latin1 },
        "/feed.json?page=2": { body: Buffer.from(feed([{ id: "2", title: "Crème", content_text: "x" }])), type: "application/feed+json; charset=windows-1252" },
        "/posts": { body: Buffer.from(JSON.stringify({ items: [{ slug: "cafe" }], next: null })), type: latin1 },
        "/posts/cafe": { body: Buffer.from(JSON.stringify({ slug: "cafe", title: "Café", body: "Crème brûlée" })), type: latin1 },
        // Bytes that are not UTF-8 fail their item, as JSON is UTF-8: not read as the label's Latin-1.
        "/latin1.json": { body: Buffer.from(feed([{ id: "1", title: "Caf\u00e9", content_text: "x" }]), "latin1"), type: latin1 }
      })
      const at = feed([{ id: "1", title: "Caf\u00e9", content_text: "x" }]).indexOf("\u00e9")
      const read = (path: string) => collect(fromUrl(`https://x.example${path}`)).pipe(Effect.provide(layer))
      assert.deepStrictEqual((yield* read("/feed.json")).entries.map((e) => e.input.title), ["Café", "Crème"])
      const inkwell = yield* read("/posts")
      assert.deepStrictEqual(inkwell.entries.map((e) => [e.input.title, e.input.body]), [["Café", "Crème brûlée"]])
      const { entries, rejected } = yield* read("/latin1.json")
      assert.deepStrictEqual(entries, [])
      assert.deepStrictEqual(rejected.map((r) => r.reason), [
        `items.0: not valid UTF-8: invalid or truncated sequence at byte offset ${at} (read as UTF-8, as JSON is, though its Content-Type says "iso-8859-1"); not imported rather than imported with U+FFFD in place of what the source wrote`
      ])
    }))

  it.effect("bytes that begin \"<?xml\" are read as UTF-8 though the declaration or the label says UTF-16, which they cannot be without a byte order mark (were: read as UTF-16, mojibake quoted in the error)", () =>
    Effect.gen(function*() {
      const xml = (encoding: string) =>
        `<?xml version="1.0" encoding="${encoding}"?>\n<rss version="2.0"><channel><title>t</title><item><guid>1</guid><title>Caf\u00e9</title><description>x</description></item></channel></rss>`
      const layer = servedBy({
        "/declared": { body: Buffer.from(xml("UTF-16")), type: "application/rss+xml" },
        "/labelled": { body: Buffer.from(xml("UTF-8")), type: "application/rss+xml; charset=utf-16" },
        "/bad": { body: Buffer.concat([Buffer.from(xml("UTF-16").split("\u00e9")[0]!), Buffer.from([0xe9]), Buffer.from(xml("UTF-16").split("\u00e9")[1]!)]), type: "application/rss+xml" }
      })
      for (const path of ["/declared", "/labelled"]) {
        const { entries, rejected } = yield* collect(fromUrl(`https://x.example${path}`)).pipe(Effect.provide(layer))
        assert.deepStrictEqual([entries.map((e) => e.input.title), rejected], [["Café"], []], path)
      }
      const bad = yield* collect(fromUrl("https://x.example/bad")).pipe(Effect.provide(layer))
      assert.deepStrictEqual(bad.rejected.map((r) => r.reason), [
        `item 1: not valid UTF-8: invalid or truncated sequence at byte offset ${xml("UTF-16").indexOf("\u00e9")} (read as UTF-8: its bytes begin "<?xml" as no UTF-16 does, though its XML declaration says "UTF-16"); not imported rather than imported with U+FFFD in place of what the source wrote`
      ])
    }))

  it.effect("decodes ISO-8859-1 from the XML declaration", () =>
    Effect.gen(function*() {
      const xml = `<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>t</title><item><title>Caf\u00e9</title><description>x</description></item></channel></rss>`
      const latin1 = Uint8Array.from([...xml].map((c) => c.charCodeAt(0)))
      const layer = servedBy({ "/rss": { body: latin1, type: "application/rss+xml" } })
      const { entries } = yield* collect(fromUrl("https://x.example/rss")).pipe(Effect.provide(layer))
      assert.strictEqual(entries[0]!.input.title, "Café")
    }))
})

describe("html helpers", () => {
  it("resolveLinks leaves absolute, fragment and mailto links alone", () => {
    const html = `<a href="/a">a</a><a href='b'>b</a><a href=c>c</a><a href="#x">x</a><a href="mailto:m@x.org">m</a><a href="https://o.example/">o</a><img src="//cdn.example/i.png" alt="a > b">`
    assert.strictEqual(
      resolveLinks(html, "https://s.example/dir/feed"),
      `<a href="https://s.example/a">a</a><a href="https://s.example/dir/b">b</a><a href="https://s.example/dir/c">c</a><a href="#x">x</a><a href="mailto:m@x.org">m</a><a href="https://o.example/">o</a><img src="https://cdn.example/i.png" alt="a > b">`
    )
  })

  it("resolveLinks rewrites URL attributes only, never text inside another attribute, comments or raw text", () => {
    const base = "https://s.example/dir/feed"
    const hostile = [
      `<img src="/missing.png" alt="x src=missing.png onerror=alert(document.domain) z">`,
      `<a href='https://example.com' title='t href=y onmouseover=alert(1) z'>a</a>`,
      `<p title="a href=y onmouseover=alert(2) z" data-x=' cite=q onfocus=alert(3)'>p</p>`,
      `<!-- <a href="c"> -->`,
      `<textarea><a href="t"></textarea>`,
      `<script>"<img src=s>"</script>`
    ].join("")
    assert.strictEqual(
      resolveLinks(hostile, base),
      [
        `<img src="https://s.example/missing.png" alt="x src=missing.png onerror=alert(document.domain) z">`,
        `<a href="https://example.com" title='t href=y onmouseover=alert(1) z'>a</a>`,
        `<p title="a href=y onmouseover=alert(2) z" data-x=' cite=q onfocus=alert(3)'>p</p>`,
        `<!-- <a href="c"> -->`,
        `<textarea><a href="t"></textarea>`,
        `<script>"<img src=s>"</script>`
      ].join("")
    )
  })

  it("resolveLinks writes every value it rewrites escaped for an attribute", () => {
    assert.strictEqual(
      resolveLinks(`<a href=x&quot;y>a</a><img srcset='a.png 1x, b".png 2x'><a HREF="/q?a=1&amp;b=<2>">q</a>`, "https://s.example/d/"),
      `<a href="https://s.example/d/x%22y">a</a><img srcset="https://s.example/d/a.png 1x, https://s.example/d/b%22.png 2x"><a HREF="https://s.example/q?a=1&amp;b=%3C2%3E">q</a>`
    )
  })

  it("isoDate reads a date-time without an offset as UTC, whatever the host's time zone", () => {
    const zone = globalThis.process.env["TZ"]
    globalThis.process.env["TZ"] = "America/New_York"
    try {
      assert.strictEqual(isoDate("2024-05-14 10:00:00"), "2024-05-14T10:00:00.000Z")
      assert.strictEqual(isoDate("2024-05-14T10:00:00.5"), "2024-05-14T10:00:00.500Z")
      assert.strictEqual(isoDate("2024-05-14 10:00"), "2024-05-14T10:00:00.000Z")
      assert.strictEqual(isoDate("2024-05-14 10:00:00+02:00"), "2024-05-14T08:00:00.000Z")
      assert.strictEqual(isoDate("Tue, 14 May 2024 10:00:00 GMT"), "2024-05-14T10:00:00.000Z")
    } finally {
      if (zone === undefined) delete globalThis.process.env["TZ"]
      else globalThis.process.env["TZ"] = zone
    }
  })

  it("isoDate reads any date without a zone as UTC, not the host's time, and keeps a zone it is given", () => {
    // Node reads TZ again when it is set; Tokyo is a day ahead of UTC before 09:00 UTC, so a
    // reading in local time moves these dates to another instant, some to another day.
    const zone = globalThis.process.env["TZ"]
    globalThis.process.env["TZ"] = "Asia/Tokyo"
    try {
      assert.strictEqual(new Date(2024, 0, 2).getTimezoneOffset(), -540, "the zone took effect")
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["Tue, 02 Jan 2024 10:00:00", "2024-01-02T10:00:00.000Z"],
        ["2024/01/02 10:00", "2024-01-02T10:00:00.000Z"],
        ["January 2, 2024", "2024-01-02T00:00:00.000Z"],
        ["02 Jan 2024", "2024-01-02T00:00:00.000Z"],
        ["Tuesday, January 2, 2024 10:00 AM", "2024-01-02T10:00:00.000Z"],
        ["1/2/2024", "2024-01-02T00:00:00.000Z"],
        // With a zone, that zone, also where a comment follows it or a name stands for it.
        ["Tue, 02 Jan 2024 10:00:00 +0200", "2024-01-02T08:00:00.000Z"],
        ["Tue, 02 Jan 2024 10:00 +02:00 (CEST)", "2024-01-02T08:00:00.000Z"],
        ["Tue, 02 Jan 2024 10:00:00 EST", "2024-01-02T15:00:00.000Z"],
        ["Tue, 02 Jan 2024 10:00:00 UT", "2024-01-02T10:00:00.000Z"],
        ["Tue Jan 02 2024 10:00:00 GMT+0900 (Japan Standard Time)", "2024-01-02T01:00:00.000Z"],
        ["2024-01-02T10:00:00+0200", "2024-01-02T08:00:00.000Z"],
        ["2024-01-02 10:00:00 UTC", "2024-01-02T10:00:00.000Z"]
      ]
      for (const [text, expected] of cases) assert.strictEqual(isoDate(text), expected, text)
    } finally {
      if (zone === undefined) delete globalThis.process.env["TZ"]
      else globalThis.process.env["TZ"] = zone
    }
  })

  it("isoDate reads a four-digit year under 100 as written, a two-digit one as Date does (were: 0099 read as 1999)", () => {
    const cases: ReadonlyArray<readonly [string, string | undefined]> = [
      ["Thu, 01 Jan 0099 00:00:00 GMT", "0099-01-01T00:00:00.000Z"],
      ["01 Jan 0050 12:00:00 GMT", "0050-01-01T12:00:00.000Z"],
      ["Jan 1, 0049", "0049-01-01T00:00:00.000Z"],
      ["Tue, 29 Feb 0000 12:00:00 GMT", "0000-02-29T12:00:00.000Z"],
      ["01 Jan 0099 00:30:00 +0100", "0098-12-31T23:30:00.000Z"],
      // Before year 0000 in UTC: out of range, as a markdown file's date would be.
      ["01 Jan 0000 00:30:00 +0100", undefined],
      ["01 Jan 0100 00:00:00 GMT", "0100-01-01T00:00:00.000Z"],
      ["01 Jan 99 00:00:00 GMT", "1999-01-01T00:00:00.000Z"],
      ["01 Jan 24 00:00:00 GMT", "2024-01-01T00:00:00.000Z"]
    ]
    for (const [text, expected] of cases) assert.strictEqual(isoDate(text), expected, text)
  })

  it("isoDate reads hour-only and spaced ISO offsets and unambiguous zone names (were: the item failed)", () => {
    const zone = globalThis.process.env["TZ"]
    globalThis.process.env["TZ"] = "Asia/Tokyo"
    try {
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["2024-01-02T10:00:00+02", "2024-01-02T08:00:00.000Z"],
        ["2024-01-02T10:00:00-05", "2024-01-02T15:00:00.000Z"],
        ["2024-01-02 10:00:00 +02:00", "2024-01-02T08:00:00.000Z"],
        ["2024-01-02T10:00 +0200", "2024-01-02T08:00:00.000Z"],
        ["Tue, 02 Jan 2024 10:00:00 +02", "2024-01-02T08:00:00.000Z"],
        ["Tue, 02 Jan 2024 10:00:00 +02 (EET)", "2024-01-02T08:00:00.000Z"],
        ["Tue, 02 Jan 2024 10:00 -05", "2024-01-02T15:00:00.000Z"],
        ["Tue, 02 Jan 2024 10:00:00 CET", "2024-01-02T09:00:00.000Z"],
        ["Tue, 02 Jul 2024 10:00:00 CEST", "2024-07-02T08:00:00.000Z"],
        ["Tue, 02 Jul 2024 10:00:00 BST", "2024-07-02T09:00:00.000Z"],
        ["Tue, 02 Jan 2024 10:00:00 JST", "2024-01-02T01:00:00.000Z"],
        ["Tue, 02 Jul 2024 10:00:00 AEST", "2024-07-02T00:00:00.000Z"],
        ["Tue, 02 Jan 2024 10:00:00 ACST", "2024-01-02T00:30:00.000Z"],
        ["Tue, 02 Jan 2024 10:00:00 HST", "2024-01-02T20:00:00.000Z"],
        ["Tue Jul 02 10:00:00 CEST 2024", "2024-07-02T08:00:00.000Z"],
        ["2024-07-02 10:00:00 MSK", "2024-07-02T07:00:00.000Z"]
      ]
      for (const [text, expected] of cases) assert.strictEqual(isoDate(text), expected, text)
      // Names that stand for several offsets, and no zone at all, stay unread.
      for (const bad of ["Tue, 02 Jan 2024 10:00:00 IST", "Tue, 02 Jan 2024 10:00:00 XYZT", "2024-01-02T10:00:00+2"]) assert.isUndefined(isoDate(bad), bad)
    } finally {
      if (zone === undefined) delete globalThis.process.env["TZ"]
      else globalThis.process.env["TZ"] = zone
    }
  })

  it("isoDate reads epoch milliseconds, and leaves out a number no date can be (it threw)", () => {
    assert.strictEqual(isoDate(1400000000000), "2014-05-13T16:53:20.000Z")
    for (const bad of [1e20, -1e20, Number.NaN, Number.POSITIVE_INFINITY]) assert.isUndefined(isoDate(bad), String(bad))
  })

  it("isoDate refuses an impossible calendar date instead of rolling it into the next month", () => {
    // \`Date\` reads all of these, as days of the following month (2024-02-31 as 2024-03-02).
    for (const bad of ["Sat, 31 Feb 2024 10:00:00 GMT", "Thu, 29 Feb 2023 10:00:00 GMT", "31 Apr 2024 10:00 +0200", "Wed, 31 Sep 24 10:00:00 GMT", "2024-02-30T10:00:00Z", "2024-02-31 10:00:00", "2023-02-29", "February 30, 2024"]) {
      assert.isUndefined(isoDate(bad), bad)
    }
    assert.strictEqual(isoDate("Thu, 29 Feb 2024 10:00:00 GMT"), "2024-02-29T10:00:00.000Z")
    assert.strictEqual(isoDate("30 Apr 2024 23:30 -0200"), "2024-05-01T01:30:00.000Z")
    assert.strictEqual(isoDate("2024-02-29"), "2024-02-29T00:00:00.000Z")
    assert.isDefined(isoDate("February 29, 2024"))
  })

  it("htmlBody keeps blank lines as newlines without ending the HTML block", () => {
    assert.strictEqual(htmlBody("<p>a</p>\r\n\r\n\r\n<pre>x\n\ny</pre>"), "<div>\n<p>a</p>\n&#10;&#10;<pre>x\n&#10;y</pre>\n</div>")
    assert.strictEqual(textBody("a & b\nc\n\n  d  "), "<div>\n<p>a &amp; b<br>\nc</p>\n<p>d</p>\n</div>")
  })
})
