/**
 * A post stored with an `updated` date still to come (a typo, 2031 for 2021, taken before writes
 * refused it): no date the site sends is later than the time of the response. Read as the time
 * the post was stored, so answers stay the same from one request to the next. Through the real
 * request pipeline, on the in-memory store and on SQLite (whose sitemap reads three columns).
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Layer, TestClock } from "effect"
import { XMLParser } from "fast-xml-parser"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { FIXTURE_NOW } from "../fixtures/clock.js"
import { sqliteStack } from "../Import/harness.js"
import { type Fetched, fetchPage, fetchRaw, seed, SITE_URL, siteServer } from "./harness.js"

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@_" })

const DAY = 24 * 60 * 60 * 1000

/** When the posts are stored (FIXTURE_NOW): what the typo is read as. */
const STORED = "2026-01-01T00:00:00.000Z"
const STORED_HTTP = "Thu, 01 Jan 2026 00:00:00 GMT"

const PATHS = ["/p/typo", "/", "/tags/news", "/tags/news/rss.xml", "/rss.xml", "/atom.xml", "/feed.json", "/tags/news/feed.json", "/sitemap.xml"]

const stores = [
  ["memory", undefined],
  ["SQLite", Layer.effect(PostRepository, PostRepository).pipe(Layer.provide(sqliteStack("sqlite::memory:")), Layer.orDie)]
] as const

/** An answer with no date after `now` (the server's clock): its Last-Modified, and no 2031 anywhere in it. */
const noDateToCome = (path: string, answer: Fetched, now: number) => {
  assert.strictEqual(answer.status, 200, path)
  assert.notInclude(answer.body, "2031", path)
  assert.isAtMost(Date.parse(answer.headers["last-modified"]!), now, path)
}

for (const [name, repository] of stores) {
  describe(`a stored \`updated\` date still to come (${name})`, () => {
    it.effect("is read as the time the post was stored: headers, page, feeds and sitemap (was: 2031 everywhere)", () =>
      Effect.gen(function* () {
        yield* seed({ slug: "typo", title: "Typo", publishedAt: "2021-05-01T00:00:00Z", updatedAtSource: "2031-05-05T00:00:00Z", tags: ["news"] })
        // A day on: the time of the response is not what the typo is read as.
        yield* TestClock.adjust(DAY)
        const answers = new Map<string, Fetched>()
        for (const path of PATHS) {
          const answer = yield* fetchPage(path)
          noDateToCome(path, answer, yield* Clock.currentTimeMillis)
          assert.strictEqual(answer.headers["last-modified"], STORED_HTTP, path)
          answers.set(path, answer)
        }
        const page = answers.get("/p/typo")!.body
        assert.include(page, `<meta property="article:modified_time" content="${STORED}"/>`)
        assert.include(page, `updated <time datetime="${STORED}">January 1, 2026</time>`)

        const rss = parser.parse(answers.get("/rss.xml")!.body).rss.channel
        assert.strictEqual(rss.lastBuildDate, STORED_HTTP)
        const atom = parser.parse(answers.get("/atom.xml")!.body).feed
        assert.deepStrictEqual([atom.updated, atom.entry.updated], [STORED, STORED])
        assert.strictEqual(JSON.parse(answers.get("/feed.json")!.body).items[0].date_modified, STORED)
        const urls: Array<{ loc: string; lastmod: string }> = parser.parse(answers.get("/sitemap.xml")!.body).urlset.url
        assert.deepStrictEqual(urls.map((url) => [url.loc, url.lastmod]), [
          [`${SITE_URL}/`, STORED],
          [`${SITE_URL}/p/typo`, STORED],
          [`${SITE_URL}/tags/news`, STORED]
        ])

        // Not the time of each response: a day later every answer is the same bytes, its ETag too.
        yield* TestClock.adjust(DAY)
        for (const path of PATHS) {
          const again = yield* fetchPage(path)
          assert.strictEqual(again.headers["etag"], answers.get(path)!.headers["etag"], path)
          assert.strictEqual(again.headers["last-modified"], STORED_HTTP, path)
        }

        // A new post moves the feeds' dates on (they were held at 2031).
        yield* seed({ slug: "fresh", title: "Fresh", publishedAt: new Date(FIXTURE_NOW + DAY).toISOString(), tags: ["news"] })
        const fresh = "2026-01-03T00:00:00.000Z"
        const atomAfter = parser.parse((yield* fetchRaw("/atom.xml")).body).feed
        assert.strictEqual(atomAfter.updated, fresh)
        const rssAfter = yield* fetchRaw("/tags/news/rss.xml")
        assert.strictEqual(parser.parse(rssAfter.body).rss.channel.lastBuildDate, "Sat, 03 Jan 2026 00:00:00 GMT")
        assert.strictEqual(rssAfter.headers["last-modified"], "Sat, 03 Jan 2026 00:00:00 GMT")
      }).pipe(Effect.provide(siteServer({}, repository))))

    it.effect("a post stored by a clock ahead of this server's (another instance): Last-Modified is the time of the response (RFC 9110 §8.8.2.1)", () =>
      Effect.gen(function* () {
        yield* seed({ slug: "typo", title: "Typo", publishedAt: "2021-05-01T00:00:00Z", tags: ["news"] })
        yield* TestClock.setTime(FIXTURE_NOW - 60_000)
        for (const path of PATHS) {
          const answer = yield* fetchPage(path)
          assert.strictEqual(answer.headers["last-modified"], "Wed, 31 Dec 2025 23:59:00 GMT", path)
        }
      }).pipe(Effect.provide(siteServer({}, repository))))
  })
}
