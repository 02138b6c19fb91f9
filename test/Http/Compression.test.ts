/**
 * Compression through the whole server (`Server.layer`): the full path and the front door send
 * the same compressed bytes, coded ETags and Vary; coded tags come back as conditions (304 on
 * If-None-Match, If-Match on a write); the reader site's pages too; nothing changes with
 * HTTP_COMPRESSION=false. Raw node:http requests, so Accept-Encoding is exactly the test's.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { request as httpRequest } from "node:http"
import { brotliDecompressSync, gunzipSync } from "node:zlib"
import { chooseCoding, compress, identityTags, make as makeCompression, selectedTags, taggedFor } from "../../src/Http/Compression.js"
import { ResponseCache } from "../../src/Http/ResponseCache.js"
import * as SiteRoutes from "../../src/Site/Routes.js"
import { KEY, withListeningServer } from "./harness.js"

interface Answer {
  readonly status: number
  readonly headers: Record<string, string | undefined>
  readonly body: Buffer
}

const send = (base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
  Effect.async<Answer, Error>((resume) => {
    const { hostname, port } = new URL(base)
    const req = httpRequest({ host: hostname, port, method, path, headers, agent: false }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.on("end", () =>
        resume(Effect.succeed({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body: Buffer.concat(chunks) }))
      )
    })
    req.on("error", (error) => resume(Effect.fail(error)))
    req.end(body)
  })

/** The server as `npm start` runs it, with the reader site, at a free port. */
const withServer = <A, E>(settings: ReadonlyArray<readonly [string, string]>, test: (base: string) => Effect.Effect<A, E, ResponseCache>) =>
  withListeningServer({ settings, site: SiteRoutes.layerConfig }, test)

const hitsOf = Effect.flatMap(ResponseCache, (cache) => Effect.map(cache.stats, (s) => s.hits))

/** A post whose JSON is well over the size worth compressing. */
const LONG = {
  title: "A long post",
  body: Array.from({ length: 60 }, (_, i) => `Paragraph ${i}: the quick brown fox jumps over the lazy dog.`).join("\n\n"),
  tags: ["effect"],
  status: "published",
  publishedAt: "2025-06-01T00:00:00Z"
}

const create = (base: string, post: Record<string, unknown>) =>
  send(base, "POST", "/posts", { "x-api-key": KEY, "content-type": "application/json" }, JSON.stringify(post))

describe("Accept-Encoding", () => {
  it("chooses by quality; gzip on a tie; q=0 and unknown codings refuse", () => {
    assert.strictEqual(chooseCoding(undefined), undefined)
    assert.strictEqual(chooseCoding(""), undefined)
    assert.strictEqual(chooseCoding("identity"), undefined)
    assert.strictEqual(chooseCoding("gzip, deflate, br, zstd"), "gzip")
    assert.strictEqual(chooseCoding("br"), "br")
    assert.strictEqual(chooseCoding("GZIP"), "gzip")
    assert.strictEqual(chooseCoding("gzip;q=0.5, br"), "br")
    assert.strictEqual(chooseCoding("gzip;q=0, br;q=0"), undefined)
    assert.strictEqual(chooseCoding("*"), "gzip")
    assert.strictEqual(chooseCoding("*;q=0.2, gzip;q=0"), "br")
    assert.strictEqual(chooseCoding("gzip;q=high"), undefined, "an unreadable quality is no consent")
    assert.strictEqual(chooseCoding("deflate"), undefined)
  })

  it("coded ETags read back as the tags they were made from", () => {
    assert.strictEqual(taggedFor("\"v3-ab12\"", "gzip"), "\"v3-ab12+gzip\"")
    assert.strictEqual(taggedFor("W/\"v3-ab12\"", "br"), "W/\"v3-ab12+br\"")
    assert.strictEqual(identityTags("\"v3-ab12+gzip\", W/\"x+br\", \"y\""), "\"v3-ab12\", W/\"x\", \"y\"")
    assert.strictEqual(selectedTags("\"v3-ab12+gzip\", W/\"x+br\", \"y\"", "br"), "\"v3-ab12+gzip\", W/\"x\", \"y\"")
    assert.strictEqual(selectedTags("\"v3-ab12+gzip\"", undefined), "\"v3-ab12+gzip\"")
    assert.strictEqual(gunzipSync(compress("gzip", Buffer.from("hello"))).toString(), "hello")
  })
})

describe("compressed bodies kept for reuse", () => {
  it("are a post's or a page's, never a list's (`\"l-…\"`: searches anyone can multiply)", () => {
    const compression = makeCompression({ enabled: true, maxBytes: 1024 * 1024 })
    const text = JSON.stringify({ items: Array.from({ length: 200 }, (_, i) => ({ slug: `post-${i}`, title: `Post ${i}` })) })
    const fresh = () => new TextEncoder().encode(text)
    const twice = (url: string, etag: string) =>
      [compression.encode("gzip", url, "application/json", fresh(), etag)!, compression.encode("gzip", url, "application/json", fresh(), etag)!]
    const [post, postAgain] = twice("/posts/x", `"v1-abc"`)
    assert.strictEqual(postAgain.body, post.body, "a post's coded body is kept and found again")
    const [list, listAgain] = twice("/posts?q=x", `"l-0123456789abcdef"`)
    assert.notStrictEqual(listAgain.body, list.body, "a list's is made each time")
    assert.deepStrictEqual(gunzipSync(listAgain.body), Buffer.from(text))
  })
})

describe("compression", () => {
  it.live("a post: the full path and the front door send the same gzip and brotli answers, with coded ETags", () =>
    withServer([], (base) =>
      Effect.gen(function* () {
        assert.strictEqual((yield* create(base, { ...LONG, slug: "long" })).status, 201)
        const plain = yield* send(base, "GET", "/posts/long")
        assert.strictEqual(plain.headers["content-encoding"], undefined)
        assert.isAbove(plain.body.byteLength, 2048)
        const etag = plain.headers["etag"]!
        assert.strictEqual(plain.headers["vary"], "accept-encoding, x-api-key, authorization")

        // With a key: the full path, never the cache.
        const full = yield* send(base, "GET", "/posts/long", { "accept-encoding": "gzip, deflate, br", "x-api-key": KEY })
        assert.strictEqual(full.headers["content-encoding"], "gzip")
        assert.isBelow(full.body.byteLength, plain.body.byteLength / 2)
        assert.deepStrictEqual(gunzipSync(full.body), plain.body)
        assert.strictEqual(full.headers["etag"], taggedFor(etag, "gzip"))
        assert.strictEqual(full.headers["content-length"], String(full.body.byteLength))

        const hits = yield* hitsOf
        const door = yield* send(base, "GET", "/posts/long", { "accept-encoding": "gzip, deflate, br" })
        assert.strictEqual(yield* hitsOf, hits + 1, "answered by the front door")
        assert.deepStrictEqual(door.body, full.body)
        assert.strictEqual(door.headers["etag"], full.headers["etag"])
        assert.strictEqual(door.headers["content-encoding"], "gzip")
        assert.strictEqual(door.headers["content-length"], String(door.body.byteLength))
        assert.strictEqual(door.headers["vary"], "accept-encoding, x-api-key, authorization")

        const br = yield* send(base, "GET", "/posts/long", { "accept-encoding": "br" })
        assert.strictEqual(br.headers["content-encoding"], "br")
        assert.deepStrictEqual(brotliDecompressSync(br.body), plain.body)
        assert.strictEqual(br.headers["etag"], taggedFor(etag, "br"))

        const refused = yield* send(base, "GET", "/posts/long", { "accept-encoding": "gzip;q=0" })
        assert.strictEqual(refused.headers["content-encoding"], undefined)
        assert.deepStrictEqual(refused.body, plain.body)
        assert.strictEqual(refused.headers["etag"], etag)

        // HEAD: the GET's headers, the compressed length.
        const head = yield* send(base, "HEAD", "/posts/long", { "accept-encoding": "gzip" })
        assert.strictEqual(head.headers["content-encoding"], "gzip")
        assert.strictEqual(head.headers["content-length"], String(door.body.byteLength))
        assert.strictEqual(head.body.byteLength, 0)
      })
    ))

  it.live("a coded ETag revalidates (304, on both paths) and is a write's If-Match", () =>
    withServer([], (base) =>
      Effect.gen(function* () {
        yield* create(base, { ...LONG, slug: "cond" })
        const coded = (yield* send(base, "GET", "/posts/cond", { "accept-encoding": "gzip" })).headers["etag"]!
        assert.match(coded, /\+gzip"$/)

        const door = yield* send(base, "GET", "/posts/cond", { "accept-encoding": "gzip", "if-none-match": coded })
        assert.strictEqual(door.status, 304)
        assert.strictEqual(door.headers["etag"], coded)
        assert.strictEqual(door.headers["vary"], "accept-encoding, x-api-key, authorization")
        const full = yield* send(base, "GET", "/posts/cond", { "accept-encoding": "gzip", "if-none-match": coded, "x-api-key": KEY })
        assert.strictEqual(full.status, 304)
        assert.strictEqual(full.headers["etag"], coded)
        assert.strictEqual(full.headers["vary"], door.headers["vary"])

        // A write conditioned on the coded tag: the post is the one the client read.
        const updated = yield* send(
          base,
          "PUT",
          "/posts/cond",
          { "x-api-key": KEY, "content-type": "application/json", "if-match": coded },
          JSON.stringify({ ...LONG, title: "Edited" })
        )
        assert.strictEqual(updated.status, 200, updated.body.toString())
        assert.strictEqual(JSON.parse(updated.body.toString()).version, 2)
        // The coded tag of version 1 no longer revalidates.
        const stale = yield* send(base, "GET", "/posts/cond", { "accept-encoding": "gzip", "if-none-match": coded })
        assert.strictEqual(stale.status, 200)
        assert.strictEqual(JSON.parse(gunzipSync(stale.body).toString()).title, "Edited")
      })
    ))

  it.live("another coding's tag is no match on a read: 200 with the form this request gets and its ETag, on both paths", () =>
    withServer([], (base) =>
      Effect.gen(function* () {
        yield* create(base, { ...LONG, slug: "other" })
        for (const path of ["/posts/other", "/p/other"]) {
          const plain = yield* send(base, "GET", path)
          const identity = plain.headers["etag"]!
          const gzipTag = taggedFor(identity, "gzip")
          const brTag = taggedFor(identity, "br")
          // The client holds the gzip form, and now takes br, or no coding: it gets that form.
          for (const [acceptEncoding, expected] of [["br", brTag], [undefined, identity]] as const) {
            const headers: Record<string, string> = acceptEncoding === undefined ? {} : { "accept-encoding": acceptEncoding }
            for (const key of [{}, { "x-api-key": KEY }]) {
              // Twice without a key: the second from the front door's cache.
              for (let i = 0; i < (Object.keys(key).length === 0 ? 2 : 1); i++) {
                const answer = yield* send(base, "GET", path, { ...headers, ...key, "if-none-match": gzipTag })
                const what = `${path} ${acceptEncoding} ${JSON.stringify(key)} ${i}`
                assert.strictEqual(answer.status, 200, what)
                assert.strictEqual(answer.headers["etag"], expected, what)
                assert.strictEqual(answer.headers["content-encoding"], acceptEncoding, what)
                const body = acceptEncoding === "br" ? brotliDecompressSync(answer.body) : answer.body
                assert.deepStrictEqual(body, plain.body, what)
              }
            }
          }
          // Its own coding's tag among others: 304 with that tag; an identity tag, whatever the coding.
          for (const key of [{}, { "x-api-key": KEY }]) {
            const listed = yield* send(base, "GET", path, { ...key, "accept-encoding": "br", "if-none-match": `${gzipTag}, ${brTag}` })
            assert.strictEqual(listed.status, 304, path)
            assert.strictEqual(listed.headers["etag"], brTag, path)
            const held = yield* send(base, "GET", path, { ...key, "accept-encoding": "br", "if-none-match": identity })
            assert.strictEqual(held.status, 304, path)
          }
        }
        // A write still reads any coding's tag as the post's version.
        const identity = (yield* send(base, "GET", "/posts/other")).headers["etag"]!
        const gzipTag = taggedFor(identity, "gzip")
        const brTag = taggedFor(identity, "br")
        const updated = yield* send(
          base,
          "PUT",
          "/posts/other",
          { "x-api-key": KEY, "content-type": "application/json", "if-match": brTag, "if-none-match": gzipTag },
          JSON.stringify({ ...LONG, title: "Edited" })
        )
        assert.strictEqual(updated.status, 412, updated.body.toString())
      })
    ))

  it.live("reader pages and feeds are compressed; small answers are not", () =>
    withServer([], (base) =>
      Effect.gen(function* () {
        yield* create(base, { ...LONG, slug: "site" })
        for (const path of ["/", "/p/site", "/rss.xml", "/atom.xml", "/feed.json"]) {
          const plain = yield* send(base, "GET", path)
          const gzip = yield* send(base, "GET", path, { "accept-encoding": "gzip" })
          assert.strictEqual(gzip.status, 200, path)
          assert.deepStrictEqual(gunzipSync(gzip.body), plain.body, path)
          assert.strictEqual(gzip.headers["etag"], taggedFor(plain.headers["etag"]!, "gzip"), path)
          assert.strictEqual(gzip.headers["vary"], "accept-encoding", path)
          assert.strictEqual(plain.headers["vary"], "accept-encoding", path)
          const again = yield* send(base, "GET", path, { "accept-encoding": "gzip", "if-none-match": gzip.headers["etag"]! })
          assert.strictEqual(again.status, 304, path)
        }
        // A sitemap of one post is under MIN_BYTES: sent as it is, but it would be coded if larger.
        const sitemap = yield* send(base, "GET", "/sitemap.xml", { "accept-encoding": "gzip" })
        assert.isBelow(sitemap.body.byteLength, 1024)
        assert.strictEqual(sitemap.headers["content-encoding"], undefined)
        assert.strictEqual(sitemap.headers["vary"], "accept-encoding")
        assert.match(sitemap.body.toString(), /<urlset/)
        const health = yield* send(base, "GET", "/health", { "accept-encoding": "gzip" })
        assert.strictEqual(health.headers["content-encoding"], undefined)
        assert.deepStrictEqual(JSON.parse(health.body.toString()), { status: "ok" })
      })
    ))

  it.live("a kept reader page from the front door has the full path's headers and bytes, coded or not, 200 or 304", () =>
    withServer([], (base) =>
      Effect.gen(function* () {
        yield* create(base, { ...LONG, slug: "door" })
        // Per request (date, id) or per connection: not the answer's.
        const comparable = (answer: Answer) => {
          const { date: _date, "x-request-id": _id, connection: _connection, "keep-alive": _alive, ...rest } = answer.headers
          return rest
        }
        for (const path of ["/", "/p/door", "/rss.xml", "/robots.txt"]) {
          for (const headers of [{}, { "accept-encoding": "gzip" }, { "accept-encoding": "br" }]) {
            // With a key: made by the full path every time (the site shows no drafts: the same answer).
            const full = yield* send(base, "GET", path, { ...headers, "x-api-key": KEY })
            yield* send(base, "GET", path, headers)
            const hits = yield* hitsOf
            const door = yield* send(base, "GET", path, headers)
            assert.strictEqual(yield* hitsOf, hits + 1, `${path} ${JSON.stringify(headers)}: answered from the cache`)
            assert.strictEqual(door.status, 200)
            assert.deepStrictEqual(comparable(door), comparable(full), `${path} ${JSON.stringify(headers)}`)
            assert.deepStrictEqual(door.body, full.body, path)

            const revalidated = yield* send(base, "GET", path, { ...headers, "if-none-match": door.headers["etag"]! })
            const fullRevalidated = yield* send(base, "GET", path, { ...headers, "if-none-match": door.headers["etag"]!, "x-api-key": KEY })
            assert.strictEqual(revalidated.status, 304, path)
            assert.deepStrictEqual(comparable(revalidated), comparable(fullRevalidated), `${path} 304 ${JSON.stringify(headers)}`)
          }
        }
      })
    ))

  it.live("HTTP_COMPRESSION=false: bodies as they are, headers as before", () =>
    withServer([["HTTP_COMPRESSION", "false"]], (base) =>
      Effect.gen(function* () {
        yield* create(base, { ...LONG, slug: "off" })
        for (let i = 0; i < 2; i++) {
          const answer = yield* send(base, "GET", "/posts/off", { "accept-encoding": "gzip, br" })
          assert.strictEqual(answer.headers["content-encoding"], undefined)
          assert.strictEqual(answer.headers["vary"], "x-api-key, authorization")
          assert.strictEqual(JSON.parse(answer.body.toString()).slug, "off")
        }
        const page = yield* send(base, "GET", "/", { "accept-encoding": "gzip" })
        assert.strictEqual(page.headers["content-encoding"], undefined)
        assert.strictEqual(page.headers["vary"], undefined)
      })
    ))
})
