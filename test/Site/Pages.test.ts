import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, Either } from "effect"
import { PostInput, TocEntry } from "../../src/Domain/Post.js"
import { processInputSync } from "../../src/Processing/processPost.js"
import { PAGE_IDS } from "../../src/Processing/sanitize.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { formatDate, listingPage, notFoundPage, postPage, searchPage, tocTree, updatedAtOf } from "../../src/Site/Pages.js"
import { ogLocale, type Strings, stringsFor } from "../../src/Site/Strings.js"
import { atomFeed, rssFeed } from "../../src/Site/Feeds.js"
import { defaults } from "../../src/Site/SiteConfig.js"
import { feedLinks } from "../../src/Sources/FeedSource.js"
import { makeUrls } from "../../src/Site/Urls.js"
import { setFixtureNow } from "../fixtures/clock.js"
import { makeNewPost } from "../fixtures/posts.js"

const site = { config: { ...defaults, title: `Blog "<x>"` }, urls: makeUrls(defaults) }

/** Stored at FIXTURE_NOW, after every date the fixtures give: an update is never read as later than its write. */
const stored = (overrides: Parameters<typeof makeNewPost>[0]) =>
  Effect.zipRight(setFixtureNow, Effect.flatMap(PostRepository, (repository) => repository.create(makeNewPost(overrides)))).pipe(
    Effect.provide(MemoryPostRepository.layer)
  )

describe("tocTree", () => {
  const entry = (level: number, id: string) => new TocEntry({ level, text: id, id })

  it("nests deeper headings under the previous shallower one", () => {
    const tree = tocTree([entry(2, "a"), entry(3, "b"), entry(4, "c"), entry(2, "d"), entry(3, "e")])
    assert.deepStrictEqual(
      tree.map((n) => [n.entry.id, n.children.map((c) => [c.entry.id, c.children.map((g) => g.entry.id)])]),
      [["a", [["b", ["c"]]]], ["d", [["e", []]]]]
    )
  })

  it("treats a first heading deeper than later ones as a sibling, not a parent", () => {
    const tree = tocTree([entry(3, "a"), entry(2, "b")])
    assert.deepStrictEqual(tree.map((n) => n.entry.id), ["a", "b"])
  })
})

describe("pages", () => {
  it.effect("give their own elements only the ids a post's ids avoid (PAGE_IDS)", () =>
    Effect.gen(function* () {
      const post = yield* stored({ slug: "t", title: "T", tags: ["a"], html: "<p>No ids.</p>" })
      for (const html of [
        postPage(site, { post, previous: undefined, next: undefined }),
        listingPage(site, { page: 1, posts: [post], hasOlder: false }),
        notFoundPage(site, "Nothing")
      ]) {
        const ids = Array.from(html.matchAll(/\sid="([^"]*)"/g), (m) => m[1]!)
        assert.isNotEmpty(ids)
        for (const id of ids) assert.isTrue(PAGE_IDS.has(id), id)
      }
    }))

  it.effect("a post's element with the page's id (`<div id=\"main\">`, `# Main`) leaves the page one element with it, the page's own (was: two, the post's never reached)", () =>
    Effect.gen(function* () {
      const processed = processInputSync(
        new PostInput({ title: "Ids", body: `<div id="main">Mine</div>\n\n# Main\n\n<span id="fn1">x</span> <a href="#main">up</a>[^1]\n\n[^1]: Note.` }),
        "api"
      )
      const post = yield* Effect.flatMap(PostRepository, (repo) => repo.create(Either.getOrThrow(processed))).pipe(Effect.provide(MemoryPostRepository.layer))
      const page = postPage(site, { post, previous: undefined, next: undefined })
      assert.deepStrictEqual(Array.from(page.matchAll(/\sid="main"/g)).length, 1)
      assert.include(page, `<main id="main" class="wrap">`)
      const ids = Array.from(page.matchAll(/\sid="([^"]*)"/g), (m) => m[1]!)
      assert.strictEqual(new Set(ids).size, ids.length, ids.join(" "))
      assert.include(page, `<a href="#main-1">up</a>`)
    }))

  it.effect("escape the site title and render backticks in titles as code, escaped", () =>
    Effect.gen(function* () {
      const post = yield* stored({ slug: "t", title: "Use `<T>` & `Vec<u8>` <now>" })
      const html = listingPage(site, { page: 1, posts: [post], hasOlder: false })
      assert.include(html, `<title>Blog &quot;&lt;x>&quot;</title>`)
      assert.include(html, `<a href="/p/t">Use <code>&lt;T></code> &amp; <code>Vec&lt;u8></code> &lt;now></a>`)
      const page = postPage(site, { post, previous: undefined, next: undefined })
      assert.include(page, `<h1>Use <code>&lt;T></code> &amp; <code>Vec&lt;u8></code> &lt;now></h1>`)
      assert.include(page, `<meta property="og:site_name" content="Blog &quot;&lt;x>&quot;"/>`)
    }))

  it.effect("name a post in plain text where no markup shows (<title>, og:title, twitter:title): its code spans without backticks", () =>
    Effect.gen(function* () {
      const post = yield* stored({ slug: "rustc", title: "Using `rustc` & `Vec<u8>` (the ` key)" })
      const page = postPage(site, { post, previous: undefined, next: undefined })
      const plain = "Using rustc &amp; Vec&lt;u8> (the ` key)"
      assert.include(page, `<title>${plain} · Blog &quot;&lt;x>&quot;</title>`)
      assert.include(page, `<meta property="og:title" content="${plain}"/>`)
      assert.include(page, `<meta name="twitter:title" content="${plain}"/>`)
      assert.include(page, `<h1>Using <code>rustc</code> &amp; <code>Vec&lt;u8></code> (the \` key)</h1>`)
    }))

  it.effect("insert the stored post HTML as the body, unchanged", () =>
    Effect.gen(function* () {
      const post = yield* stored({ slug: "h", html: `<p>a <em>b</em> &amp; <a href="/x">c</a></p>` })
      const page = postPage(site, { post, previous: undefined, next: undefined })
      assert.include(page, `<div class="prose"><p>a <em>b</em> &amp; <a href="/x">c</a></p></div>`)
    }))

  it.effect("move the post's headings under the title's h1: the highest is an h2, ids and attributes kept", () =>
    Effect.gen(function* () {
      const page = (html: string) =>
        Effect.map(stored({ slug: "h", html }), (post) => postPage(site, { post, previous: undefined, next: undefined }))
      const prose = (html: string) => /<div class="prose">(.*)<\/div><\/article>/s.exec(html)![1]
      const headings = (html: string) => Array.from(html.matchAll(/<h([1-6])\b/g), (m) => Number(m[1]))
      // `#` sections: several h1 beside the title's.
      const h1s = yield* page(`<h1 id="a" class="x">A <code>&lt;h1 b></code></h1><p title="&lt;h2 c">p</p><h2 id="b">B</h2><h5>E</h5><h6 id="f">F</h6>`)
      assert.strictEqual(
        prose(h1s),
        `<h2 id="a" class="x">A <code>&lt;h1 b></code></h2><p title="&lt;h2 c">p</p><h3 id="b">B</h3><h6>E</h6><h6 id="f">F</h6>`
      )
      assert.deepStrictEqual(headings(h1s), [1, 2, 3, 6, 6])
      // `###` sections: from the title's h1 straight to h3.
      assert.strictEqual(prose(yield* page(`<h3 id="a">A</h3><p>x</p><h4 id="b">B</h4><h3>C</h3>`)), `<h2 id="a">A</h2><p>x</p><h3 id="b">B</h3><h2>C</h2>`)
      // `##` sections, and none at all, are as stored.
      assert.strictEqual(prose(yield* page(`<h2 id="a">A</h2><h3>B</h3>`)), `<h2 id="a">A</h2><h3>B</h3>`)
      assert.strictEqual(prose(yield* page(`<p>no <em>headings</em></p>`)), `<p>no <em>headings</em></p>`)
    }))

  it.effect("write none of the characters HTML forbids, from a search query or a stored post", () =>
    Effect.gen(function* () {
      // Controls (C0 but tab, LF, CR; C1, U+0085 among them), noncharacters, a lone surrogate.
      const forbidden = /[\0-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\uFDD0-\uFDEF\uFFFE\uFFFF\u{1FFFE}\u{10FFFF}]|[\uD800-\uDFFF]/u
      const search = searchPage(site, { query: "a\u0000b\u0001c", page: 1, posts: [], hasMore: false })
      assert.notMatch(search, forbidden)
      assert.include(search, `<title>Results for “a\uFFFDb\uFFFDc” · `)
      assert.include(search, `<h1 class="page-title">Results for “a\uFFFDb\uFFFDc”</h1>`)
      assert.include(search, `name="q" value="a\uFFFDb\uFFFDc"`)
      const post = yield* stored({
        slug: "c",
        title: "Ti\u0001tle \u{1FFFE}`x\u000B`",
        summary: "Sum\u0085mary\uFDD0 \uD800",
        tags: ["t\u0002ag"],
        html: `<p>x\uFFFEy\u0001 \u{10FFFF}z\u007F 😀\tok</p>`
      })
      const page = postPage(site, { post, previous: undefined, next: undefined })
      assert.notMatch(page, forbidden)
      assert.include(page, `<div class="prose"><p>x\uFFFDy\uFFFD \uFFFDz\uFFFD 😀\tok</p></div>`)
      assert.include(page, `<h1>Ti\uFFFDtle \uFFFD<code>x\uFFFD</code></h1>`)
      assert.include(page, `<meta name="description" content="Sum\uFFFDmary\uFFFD \uFFFD"/>`)
      const listing = listingPage(site, { page: 1, posts: [post], hasOlder: false })
      assert.notMatch(listing, forbidden)
      assert.include(listing, `<p class="excerpt">Sum\uFFFDmary\uFFFD \uFFFD</p>`)
    }))

  it.effect("a forbidden character inside a link's scheme or a style stays a character: no javascript: link or viewport unit appears, on the page or in a feed", () =>
    Effect.gen(function* () {
      const processed = processInputSync(
        new PostInput({
          title: "Links",
          body: `Click <a href="java\uFDD0script:alert(1)">here</a>, <a href="java&#x7f;script:alert(2)">there</a>, ` +
            `<span style="height: 100v\u000Bh">tall</span>.`
        }),
        "api"
      )
      assert.isTrue(Either.isRight(processed))
      const post = yield* Effect.flatMap(PostRepository, (repo) => repo.create(Either.getOrThrow(processed))).pipe(Effect.provide(MemoryPostRepository.layer))
      const page = postPage(site, { post, previous: undefined, next: undefined })
      for (const text of [page, atomFeed({ config: site.config, urls: site.urls, posts: [post] }), rssFeed({ config: site.config, urls: site.urls, posts: [post] })]) {
        assert.notMatch(text, /javascript:/i)
        assert.notMatch(text, /100vh/)
      }
      assert.include(page, ">here</a>")
    }))

  it.effect("show an update date only when the author's is a day or more after publication", () =>
    Effect.gen(function* () {
      const same = yield* stored({ slug: "a", publishedAt: "2024-01-01T00:00:00Z", updatedAtSource: "2024-01-01T05:00:00Z" })
      const later = yield* stored({ slug: "b", publishedAt: "2024-01-01T00:00:00Z", updatedAtSource: "2024-02-03T00:00:00Z" })
      assert.notInclude(postPage(site, { post: same, previous: undefined, next: undefined }), "updated")
      assert.include(postPage(site, { post: later, previous: undefined, next: undefined }), `updated <time datetime="2024-02-03T00:00:00.000Z">February 3, 2024</time>`)
      assert.strictEqual(DateTime.formatIso(updatedAtOf(later)), "2024-02-03T00:00:00.000Z")
    }))

  it.effect("a tag page offers the tag's feeds before the site's, so discovery finds the tag's", () =>
    Effect.gen(function* () {
      const post = yield* stored({ slug: "t", title: "T", tags: ["rust lang"] })
      const html = listingPage({ ...site, config: defaults }, { page: 1, posts: [post], hasOlder: false, tag: "rust lang" })
      const alternates = Array.from(html.matchAll(/<link rel="alternate" type="([^"]+)"[^>]*href="([^"]+)"/g), (m) => [m[1], m[2]])
      assert.deepStrictEqual(alternates.slice(0, 3), [
        ["application/rss+xml", "http://localhost:3000/tags/rust%20lang/rss.xml"],
        ["application/atom+xml", "http://localhost:3000/tags/rust%20lang/atom.xml"],
        ["application/feed+json", "http://localhost:3000/tags/rust%20lang/feed.json"]
      ])
      assert.strictEqual(feedLinks(html, "http://localhost:3000/tags/rust%20lang")[0], "http://localhost:3000/tags/rust%20lang/feed.json")
    }))

  it("the 404 page has the site's header, escapes its message and asks not to be indexed", () => {
    const html = notFoundPage(site, `no "<b>x</b>"`)
    assert.include(html, `<a class="brand" href="/">Blog &quot;&lt;x>&quot;</a>`)
    assert.include(html, `<p>no &quot;&lt;b>x&lt;/b>&quot;</p>`)
    assert.include(html, `<meta name="robots" content="noindex"/>`)
  })

  it("formats dates in the configured language and time zone", () => {
    const date = DateTime.unsafeMake("2024-03-31T23:30:00Z")
    assert.strictEqual(formatDate(date, "en", "UTC"), "March 31, 2024")
    assert.strictEqual(formatDate(date, "de", "UTC"), "31. März 2024")
    assert.strictEqual(formatDate(date, "de", "Europe/Berlin"), "1. April 2024")
    assert.strictEqual(formatDate(date, "en", "America/New_York"), "March 31, 2024")
  })

  it("name the era of a date in year 0000 (1 BC) or earlier in its zone, which read as year 1 (January 1, 1), in every catalog's language", () => {
    const yearZero = DateTime.unsafeMake("0000-01-01T00:00:00Z")
    const expected: ReadonlyArray<readonly [string, string]> = [
      ["en", "January 1, 1 BC"],
      ["de", "1. Januar 1 v. Chr."],
      ["es", "1 de enero de 1 a. C."],
      ["fr", "1 janvier 1 av. J.-C."],
      ["it", "1 gennaio 1 a.C."],
      ["ja", "紀元前1年1月1日"],
      ["nl", "1 januari 1 v.Chr."],
      ["pt-BR", "1 de janeiro de 1 a.C."],
      ["ru", "1 января 1 г. до н. э."],
      ["zh", "公元前1年1月1日"],
      ["zh-TW", "西元前1年1月1日"]
    ]
    for (const [language, text] of expected) assert.strictEqual(formatDate(yearZero, language, "Europe/Berlin"), text, language)
    // Year 1 (AD) reads as it did, without an era; so does every later date.
    assert.strictEqual(formatDate(DateTime.unsafeMake("0001-01-01T00:00:00Z"), "en", "UTC"), "January 1, 1")
    assert.strictEqual(formatDate(DateTime.unsafeMake("0099-12-31T12:00:00Z"), "de", "UTC"), "31. Dezember 99")
    // The era is the day's in the site's zone: the first hours of year 1 are 1 BC in New York, of year 0 2 BC.
    assert.strictEqual(formatDate(DateTime.unsafeMake("0001-01-01T03:00:00Z"), "en", "America/New_York"), "December 31, 1 BC")
    assert.strictEqual(formatDate(DateTime.unsafeMake("0000-01-01T03:00:00Z"), "en", "America/New_York"), "December 31, 2 BC")
    // A calendar of one era says none: a Thai site's Buddhist year 543.
    assert.notMatch(formatDate(yearZero, "th", "UTC"), /ก่อน/)
    assert.include(formatDate(yearZero, "th", "UTC"), "543")
  })

  it.effect("show a post of year 0000 as text with its era, not as a <time> HTML's dates (years above 0) cannot hold", () =>
    Effect.gen(function* () {
      const post = yield* stored({ slug: "year-zero", publishedAt: "0000-01-01T00:00:00Z", updatedAtSource: "0001-01-01T00:00:00Z" })
      const page = postPage(site, { post, previous: undefined, next: undefined })
      assert.include(page, "<span>January 1, 1 BC</span>")
      assert.notInclude(page, `datetime="0000`)
      assert.include(page, `updated <time datetime="0001-01-01T00:00:00.000Z">January 1, 1</time>`)
      // OpenGraph's ISO 8601, as RFC 3339, writes year 0000 as it is.
      assert.include(page, `<meta property="article:published_time" content="0000-01-01T00:00:00.000Z"`)
      const listing = listingPage(site, { page: 1, posts: [post], hasOlder: false })
      assert.include(listing, "<span>January 1, 1 BC</span>")
    }))

  it("give og:locale as language_TERRITORY, whatever other subtags SITE_LANGUAGE has, and a bare language with its likely territory", () => {
    for (const [language, locale] of [
      ["en-US", "en_US"],
      ["pt-br", "pt_BR"],
      ["zh-Hant-TW", "zh_TW"],
      ["de-CH-1996", "de_CH"],
      ["sr-Latn-RS", "sr_RS"],
      ["es-419", "es_419"],
      ["sr-Latn", "sr_RS"],
      ["en", "en_US"],
      ["fr", "fr_FR"],
      ["und", undefined]
    ] as const) {
      assert.strictEqual(ogLocale(language), locale, language)
      const page = listingPage({ ...site, config: { ...site.config, language } }, { page: 1, posts: [], hasOlder: false })
      const tags = Array.from(page.matchAll(/<meta property="og:locale" content="([^"]*)"/g), (m) => m[1])
      assert.deepStrictEqual(tags, locale === undefined ? [] : [locale], language)
      assert.include(page, `<html lang="${language}" dir="ltr">`, language)
    }
  })

  it.effect("speak the site's language around the posts, and lay out a right-to-left one right to left", () =>
    Effect.gen(function* () {
      const posts = [
        yield* stored({ slug: "a", title: "A", tags: ["rust"], authors: ["Ana"] }),
        yield* stored({ slug: "b", title: "B", toc: [new TocEntry({ level: 2, text: "One", id: "one" }), new TocEntry({ level: 2, text: "Two", id: "two" })] })
      ]
      const inLanguage = (language: string) => ({ ...site, config: { ...site.config, language } })
      const german = inLanguage("de-AT")
      const listing = listingPage(german, { page: 2, posts, hasOlder: true, tag: "rust" })
      assert.include(listing, `<html lang="de-AT" dir="ltr">`)
      assert.include(listing, "Zum Inhalt springen")
      assert.include(listing, "Beiträge mit dem Schlagwort „rust“ (Seite 2)")
      assert.include(listing, `<a href="/tags/rust/page/3" rel="next">Ältere Beiträge →</a>`)
      assert.include(listing, `<a href="/tags/rust" rel="prev">← Neuere Beiträge</a>`)
      assert.include(listing, "1 Min. Lesezeit")
      assert.notInclude(listing, "min read")
      const page = postPage(german, { post: posts[1]!, previous: posts[0], next: undefined })
      assert.include(page, "<summary>Inhalt</summary>")
      assert.include(page, `<span class="label">← Vorheriger</span>`)
      assert.include(searchPage(inLanguage("pt-BR"), { query: "", page: 1, notice: "x" }), "Pesquisar artigos")
      assert.include(notFoundPage(inLanguage("ja"), "no such post"), "ページが見つかりません")

      // Arabic has no catalog: English words, laid out right to left, arrows pointing the reader's way.
      const arabic = listingPage(inLanguage("ar-EG"), { page: 2, posts, hasOlder: true })
      assert.include(arabic, `<html lang="ar-EG" dir="rtl">`)
      assert.include(arabic, `<a href="/page/3" rel="next">Older posts ←</a>`)
      assert.include(arabic, `<a href="/" rel="prev">→ Newer posts</a>`)
      // A language without a catalog reads English.
      assert.include(listingPage(inLanguage("sw"), { page: 1, posts: [], hasOlder: false }), "Nothing published yet.")
    }))

  it("say what every error page says in each catalog's own words, with the slug, tag or number asked for", () => {
    const english = stringsFor("en").strings
    const said = (t: Strings) => ({
      noPostAt: t.noPostAt("my-slug"),
      noPage: t.noPage(7),
      noSuchPage: t.noSuchPage,
      nothingTagged: t.nothingTagged("my-tag"),
      nothingTaggedOnPage: t.nothingTaggedOnPage("my-tag", 7),
      noSuchTag: t.noSuchTag,
      noSuchSitemap: t.noSuchSitemap,
      noSitemapOfPosts: t.noSitemapOfPosts(7),
      noSitemapOfPages: t.noSitemapOfPages(7),
      noResultsPage: t.noResultsPage(7),
      resultsEndAt: t.resultsEndAt(7, 50),
      nothingHere: t.nothingHere,
      notAMethodOf: t.notAMethodOf("PATCH", "/p/my-slug", ["GET", "HEAD"]),
      databaseBusy: t.databaseBusy,
      databaseUnreachable: t.databaseUnreachable,
      ourFault: t.ourFault
    })
    const arguments_: Partial<Record<keyof ReturnType<typeof said>, ReadonlyArray<string>>> = {
      noPostAt: ["my-slug"],
      noPage: ["7"],
      nothingTagged: ["my-tag"],
      nothingTaggedOnPage: ["my-tag", "7"],
      noSitemapOfPosts: ["7"],
      noSitemapOfPages: ["7"],
      noResultsPage: ["7"],
      resultsEndAt: ["7", "50"],
      notAMethodOf: ["PATCH", "/p/my-slug", "GET, HEAD"]
    }
    const inEnglish = said(english)
    for (const language of ["de", "fr", "es", "it", "pt", "nl", "ru", "ja", "zh", "zh-Hant"]) {
      const t = stringsFor(language).strings
      assert.notStrictEqual(t, english, language)
      for (const [key, sentence] of Object.entries(said(t)) as ReadonlyArray<[keyof typeof inEnglish, string]>) {
        assert.notStrictEqual(sentence, inEnglish[key], `${language} ${key}: not translated`)
        for (const argument of arguments_[key] ?? []) assert.include(sentence, argument, `${language} ${key}`)
      }
      // The tag and the slug quoted as the catalog quotes a tag elsewhere.
      const quoted = t.postsTagged("my-tag").match(/(\S\s?)my-tag(\s?\S)/)!
      assert.include(t.nothingTagged("my-tag"), `${quoted[1]}my-tag${quoted[2]}`, language)
      assert.include(t.noPostAt("my-slug"), `${quoted[1]}my-slug${quoted[2]}`, language)
    }
  })

  it("read Chinese in the script the tag names, else the one its region writes: Traditional for zh-Hant, zh-TW, zh-HK, zh-MO", () => {
    const simplified = stringsFor("zh").strings
    const traditional = stringsFor("zh-Hant").strings
    assert.notStrictEqual(traditional, simplified)
    assert.strictEqual(traditional.search, "搜尋")
    assert.strictEqual(simplified.search, "搜索")
    for (const language of ["zh-Hant", "zh-hant", "zh-Hant-TW", "zh-Hant-CN", "zh-TW", "zh-tw", "zh-HK", "zh-MO", "zh-Hant-HK", "cmn-Hant"]) {
      assert.strictEqual(stringsFor(language).strings, traditional, language)
    }
    for (const language of ["zh", "zh-Hans", "zh-Hans-CN", "zh-Hans-HK", "zh-Hans-TW", "zh-CN", "zh-SG", "zh-MY", "cmn"]) {
      assert.strictEqual(stringsFor(language).strings, simplified, language)
    }
    // Only Chinese has a second catalog: Cantonese (Traditional too) has none, and reads English.
    assert.strictEqual(stringsFor("yue-HK").strings, stringsFor("en").strings)
  })

  it("write the Traditional catalog without one Simplified character the Simplified catalog uses", () => {
    // Every character of the Simplified catalog whose Traditional form differs (内 is 內, 网 is 網).
    const simplifiedOnly = "网订阅标签读约钟页录为关发内较于结没与输几个词来许请暂错该点图显条键缩范围仅当后试无连数据库们这边问题"
    const t = stringsFor("zh-TW").strings
    const everything = Object.values(t)
      .map((value) => typeof value === "string" ? value : String((value as (...args: ReadonlyArray<unknown>) => string)("x", 2, ["GET"])))
      .join("")
    assert.sameMembers(Object.keys(t), Object.keys(stringsFor("en").strings))
    assert.isAbove(everything.length, 400)
    for (const character of simplifiedOnly) assert.notInclude(everything, character, character)
  })

  it.effect("show a post's day in SITE_TIME_ZONE, its datetime attribute the same instant in UTC", () =>
    Effect.gen(function* () {
      const post = yield* stored({ slug: "late", publishedAt: "2026-01-01T23:30:00Z" })
      const datetime = `<time datetime="2026-01-01T23:30:00.000Z">`
      for (const [timeZone, day] of [["UTC", "January 1, 2026"], ["Asia/Tokyo", "January 2, 2026"]] as const) {
        const zoned = { ...site, config: { ...site.config, timeZone } }
        const pages = {
          post: postPage(zoned, { post, previous: undefined, next: undefined }),
          index: listingPage(zoned, { page: 1, posts: [post], hasOlder: false }),
          tag: listingPage(zoned, { page: 1, posts: [post], hasOlder: false, tag: "test" })
        }
        for (const [name, html] of Object.entries(pages)) {
          assert.include(html, `${datetime}${day}</time>`, `${name} in ${timeZone}`)
        }
        assert.include(pages.post, `<meta property="article:published_time" content="2026-01-01T23:30:00.000Z"/>`, timeZone)
      }
    }))

  it.effect("show a date-only post (stored as its UTC midnight) on its calendar day in every time zone", () =>
    Effect.gen(function* () {
      const post = yield* stored({ slug: "dated", publishedAt: "2019-09-30", updatedAtSource: "2019-10-05" })
      // A real time of day still moves with the zone: 03:00 UTC is the evening before in New York.
      const timed = yield* stored({ slug: "timed", publishedAt: "2019-09-30T03:00:00Z" })
      for (const timeZone of ["America/New_York", "Pacific/Honolulu", "UTC", "Asia/Tokyo", "Pacific/Kiritimati"]) {
        const zoned = { ...site, config: { ...site.config, timeZone } }
        const page = postPage(zoned, { post, previous: undefined, next: undefined })
        assert.include(page, `<time datetime="2019-09-30T00:00:00.000Z">September 30, 2019</time>`, timeZone)
        assert.include(page, `updated <time datetime="2019-10-05T00:00:00.000Z">October 5, 2019</time>`, timeZone)
        assert.include(page, `<meta property="article:published_time" content="2019-09-30T00:00:00.000Z"/>`, timeZone)
        const listing = listingPage(zoned, { page: 1, posts: [post], hasOlder: false })
        assert.include(listing, `<time datetime="2019-09-30T00:00:00.000Z">September 30, 2019</time>`, timeZone)
      }
      assert.strictEqual(formatDate(timed.publishedAt!, "en", "America/New_York"), "September 29, 2019")
      assert.strictEqual(formatDate(DateTime.unsafeMake("1969-07-20T00:00:00Z"), "en", "America/New_York"), "July 20, 1969")
    }))
})
