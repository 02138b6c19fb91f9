import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, DateTime, Effect, Either, Layer, Option } from "effect"
// SiteConfig.layer as an embedding app uses it, from the package entry.
import * as Inkwell from "inkwell"
import { formatDate } from "../../src/Site/Pages.js"
import { isNotModified } from "../../src/Site/Routes.js"
import { normalizeBaseUrl, SiteConfig } from "../../src/Site/SiteConfig.js"

const fromEnv = (env: Record<string, string>) =>
  Effect.flatMap(SiteConfig, Effect.succeed).pipe(
    Effect.provide(SiteConfig.layerConfig.pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))))
  )

describe("SiteConfig", () => {
  it.effect("reads SITE_* with defaults; the author defaults to the title", () =>
    Effect.gen(function* () {
      const config = yield* fromEnv({ SITE_TITLE: "Mine", SITE_URL: "https://example.com/blog/" })
      assert.strictEqual(config.title, "Mine")
      assert.strictEqual(config.url, "https://example.com/blog")
      assert.strictEqual(config.author, "Mine")
      assert.strictEqual(config.pageSize, 10)
      assert.strictEqual(config.language, "en")
      const other = yield* fromEnv({ SITE_AUTHOR: "Ada", SITE_PAGE_SIZE: "3", SITE_CACHE_MAX_AGE: "0" })
      assert.strictEqual(other.author, "Ada")
      assert.strictEqual(other.pageSize, 3)
      assert.strictEqual(other.maxAgeSeconds, 0)
      assert.strictEqual(other.url, "http://localhost:3000")
    }))

  it.effect("refuses a SITE_URL that is not an absolute http(s) URL, and bad page sizes", () =>
    Effect.gen(function* () {
      for (const env of [{ SITE_URL: "example.com" }, { SITE_URL: "ftp://example.com" }, { SITE_URL: "https://x.test/?a=1" }, { SITE_PAGE_SIZE: "0" }, { SITE_PAGE_SIZE: "500" }]) {
        const result = yield* Effect.either(fromEnv(env))
        assert.isTrue(Either.isLeft(result), JSON.stringify(env))
      }
    }))

  it.effect("refuses a SITE_LANGUAGE that Intl cannot format dates in", () =>
    Effect.gen(function* () {
      for (const language of ["en-x", "en-US-u", "en-a", "e"]) {
        const result = yield* Effect.either(fromEnv({ SITE_LANGUAGE: language }))
        assert.isTrue(Either.isLeft(result), language)
      }
      for (const language of ["en", "pt-BR", "zh-Hant-TW", "de-CH-1996"]) {
        const config = yield* fromEnv({ SITE_LANGUAGE: language })
        assert.strictEqual(formatDate(DateTime.unsafeMake("2024-03-05T00:00:00Z"), config.language, config.timeZone).includes("2024"), true, language)
      }
    }))

  it.effect("reads SITE_TIME_ZONE (default UTC) and refuses a zone Intl does not know, naming the variable", () =>
    Effect.gen(function* () {
      assert.strictEqual((yield* fromEnv({})).timeZone, "UTC")
      for (const zone of ["Europe/Berlin", "Asia/Tokyo", "America/Argentina/Buenos_Aires", "UTC"]) {
        assert.strictEqual((yield* fromEnv({ SITE_TIME_ZONE: zone })).timeZone, zone)
      }
      for (const zone of ["Mars/Olympus", "", "Europe/Berlin ", "+25:00"]) {
        const result = yield* Effect.either(fromEnv({ SITE_TIME_ZONE: zone }))
        assert.isTrue(Either.isLeft(result), JSON.stringify(zone))
        if (Either.isLeft(result)) assert.include(String(result.left), "SITE_TIME_ZONE", JSON.stringify(zone))
      }
    }))

  it.effect("SiteConfig.layer checks what SITE_* would: each setting refused is named, as a typed failure of the layer", () =>
    Effect.gen(function* () {
      const build = (config: Partial<Inkwell.SiteConfigShape>) =>
        Effect.flip(Effect.flatMap(Inkwell.SiteConfig, Effect.succeed).pipe(Effect.provide(Inkwell.SiteConfig.layer(config))))
      // "en-x": every page failed on formatting its dates (500); 150: the posts past the
      // repository's cap of 100 were on no page; 0: one post per page, whatever was asked.
      for (
        const [config, field] of [
          [{ language: "en-x" }, "language"],
          [{ pageSize: 150 }, "pageSize"],
          [{ pageSize: 0 }, "pageSize"],
          [{ pageSize: 2.5 }, "pageSize"],
          [{ maxAgeSeconds: -1 }, "maxAgeSeconds"],
          [{ timeZone: "Mars/Olympus" }, "timeZone"],
          [{ url: "example.com" }, "url"],
          // A sitemap file holds 1 to 50,000 URLs (sitemaps.org).
          [{ sitemapSize: 0 }, "sitemapSize"],
          [{ sitemapSize: 50_001 }, "sitemapSize"],
          [{ sitemapSize: 1.5 }, "sitemapSize"]
        ] as const
      ) {
        const error = yield* build(config)
        assert.instanceOf(error, Inkwell.SiteConfigInvalid)
        assert.deepStrictEqual(error.problems.map((p) => p.field), [field], JSON.stringify(config))
        assert.include(error.message, field)
      }
      const both = yield* build({ language: "e", pageSize: 101 })
      assert.deepStrictEqual(both.problems.map((p) => p.field), ["language", "pageSize"])
      const fine = yield* Effect.flatMap(Inkwell.SiteConfig, Effect.succeed).pipe(
        Effect.provide(Inkwell.SiteConfig.layer({ url: "https://a.test/blog/", language: "pt-BR", pageSize: 100, title: "T" }))
      )
      assert.strictEqual(fine.url, "https://a.test/blog")
      assert.strictEqual(fine.author, "T")
    }))

  it("normalizeBaseUrl strips trailing slashes and keeps a path", () => {
    // Plain values: chai's deep equality takes Option.some(x) and Option.none() for equal.
    assert.strictEqual(Option.getOrUndefined(normalizeBaseUrl("https://a.test///")), "https://a.test")
    assert.strictEqual(Option.getOrUndefined(normalizeBaseUrl("http://a.test:8080/x/")), "http://a.test:8080/x")
    assert.isTrue(Option.isNone(normalizeBaseUrl("https://a.test/#x")))
  })
})

describe("isNotModified", () => {
  it("matches ETags weakly, in lists and with *", () => {
    assert.isTrue(isNotModified({ "if-none-match": `"abc"` }, `"abc"`))
    assert.isTrue(isNotModified({ "if-none-match": `W/"abc"` }, `"abc"`))
    assert.isTrue(isNotModified({ "if-none-match": `"x", "abc"` }, `"abc"`))
    assert.isTrue(isNotModified({ "if-none-match": `*` }, `"abc"`))
    assert.isFalse(isNotModified({ "if-none-match": `"abcd"` }, `"abc"`))
    // `*` stands alone (RFC 9110 §13.1.2): in a list it is no tag (Http/IfNoneMatch).
    assert.isFalse(isNotModified({ "if-none-match": `"nope", *` }, `"abc"`))
  })
  it("never answers 304 from If-Modified-Since alone", () => {
    assert.isFalse(isNotModified({ "if-modified-since": "Tue, 05 Mar 2099 12:30:00 GMT" }, `"e"`))
    assert.isFalse(isNotModified({}, `"e"`))
  })
})
