/**
 * The API's length limits, counted as its OpenAPI document's `maxLength` counts (JSON Schema:
 * code points), not in UTF-16 units: what the document allows is taken, one more is refused.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { codePointLength, Slug, Tag } from "../../src/Domain/Post.js"
import { ListParams } from "../../src/Posts/Api.js"
import { get, json, newPost, postJson, testServer } from "./harness.js"

/** A character outside the BMP: two UTF-16 units, one code point. */
const EMOJI = "😀"
/** A letter outside the BMP (CJK Extension B), which a slug may hold. */
const ASTRAL_LETTER = "𠀀"

describe("length limits in code points", () => {
  it("codePointLength counts a surrogate pair once, a lone surrogate as one", () => {
    assert.strictEqual(codePointLength(""), 0)
    assert.strictEqual(codePointLength("abc"), 3)
    assert.strictEqual(codePointLength(EMOJI.repeat(3)), 3)
    assert.strictEqual(codePointLength(`a${EMOJI}\uD83Db\uDE00`), 5)
  })

  it("Slug, Tag and q take up to their maxLength in code points, and say so in the JSON Schema", () => {
    assert.isTrue(Schema.is(Tag)(EMOJI.repeat(100)))
    assert.isFalse(Schema.is(Tag)(EMOJI.repeat(101)))
    assert.isTrue(Schema.is(Slug)(ASTRAL_LETTER.repeat(200)))
    assert.isFalse(Schema.is(Slug)(ASTRAL_LETTER.repeat(201)))
    const params = Schema.decodeUnknownEither(ListParams)
    assert.isTrue(params({ q: EMOJI.repeat(200), tag: EMOJI.repeat(100) })._tag === "Right")
    assert.isTrue(params({ q: EMOJI.repeat(201) })._tag === "Left")
  })

  it.effect("?tag= with 60 emoji is a query (the document allows 100 characters); a post may carry that tag", () =>
    Effect.gen(function* () {
      const tag = EMOJI.repeat(60)
      const created = yield* postJson("/posts", newPost({ tags: [tag] }))
      assert.strictEqual(created.status, 201)
      const listed = yield* get(`/posts?tag=${encodeURIComponent(tag)}`)
      assert.strictEqual(listed.status, 200)
      assert.deepStrictEqual((yield* json(listed)).items.map((item: { slug: string }) => item.slug), ["first-post"])
      assert.strictEqual((yield* get(`/posts?tag=${encodeURIComponent(EMOJI.repeat(101))}`)).status, 400)
      assert.strictEqual((yield* postJson("/posts", newPost({ slug: "too-long", tags: [EMOJI.repeat(101)] }))).status, 400)
      const spec = yield* json(yield* get("/openapi.json"))
      const tagParameter = spec.paths["/posts"].get.parameters.find((parameter: { name: string }) => parameter.name === "tag")
      assert.strictEqual(tagParameter.schema.maxLength, 100)
    }).pipe(Effect.provide(testServer())))

  it.effect("?tag= and ?q= are counted in NFC, as they are looked up: a decomposed (NFD) tag or query is as long as its NFC form (was: 400)", () =>
    Effect.gen(function* () {
      const nfc = "\u00e9".repeat(60)
      const nfd = nfc.normalize("NFD")
      assert.strictEqual(codePointLength(nfd), 120)
      assert.strictEqual((yield* postJson("/posts", newPost({ title: "Accents", tags: [nfc], body: `${nfc} here.` }))).status, 201)
      for (const [name, value] of [["NFC", nfc], ["NFD", nfd], ["NFD, spaces around", ` ${nfd} `]] as const) {
        for (const query of [`tag=${encodeURIComponent(value)}`, `q=${encodeURIComponent(value)}`]) {
          const listed = yield* get(`/posts?${query}`)
          assert.strictEqual(listed.status, 200, `${name} ${query.slice(0, 4)}`)
          assert.deepStrictEqual((yield* json(listed)).items.map((item: { slug: string }) => item.slug), ["accents"], `${name} ${query.slice(0, 4)}`)
        }
      }
      // Still at most 100 (a tag) and 200 (a query) characters, in NFC.
      const tooLong = yield* json(yield* get(`/posts?tag=${encodeURIComponent("\u00e9".repeat(101).normalize("NFD"))}`))
      assert.deepStrictEqual(tooLong.issues.map((issue: { path: Array<string> }) => issue.path), [["tag"]])
      assert.strictEqual((yield* get(`/posts?q=${encodeURIComponent("\u00e9".repeat(200).normalize("NFD"))}`)).status, 200)
      assert.strictEqual((yield* get(`/posts?q=${encodeURIComponent("\u00e9".repeat(201).normalize("NFD"))}`)).status, 400)
      const params = Schema.decodeUnknownEither(ListParams)
      assert.strictEqual(params({ tag: nfd, q: "\u00e9".repeat(200).normalize("NFD") })._tag, "Right")
    }).pipe(Effect.provide(testServer())))

  it.effect("a slug of 200 letters outside the BMP is a slug (the document's maxLength is 200); 201 are not", () =>
    Effect.gen(function* () {
      const slug = ASTRAL_LETTER.repeat(200)
      const created = yield* postJson("/posts", newPost({ slug }))
      assert.strictEqual(created.status, 201)
      const read = yield* get(`/posts/${encodeURIComponent(slug)}`)
      assert.strictEqual(read.status, 200)
      assert.strictEqual((yield* json(read)).slug, slug)
      assert.strictEqual((yield* get(`/posts/${encodeURIComponent(ASTRAL_LETTER.repeat(201))}`)).status, 400)
      assert.strictEqual((yield* postJson("/posts", newPost({ slug: ASTRAL_LETTER.repeat(201) }))).status, 400)
    }).pipe(Effect.provide(testServer())))
})
