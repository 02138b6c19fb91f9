/**
 * The OpenAPI document's `PostJson` and the server's reading of a post's JSON (`orPostJson`) are
 * one schema: a body the document allows is taken, and one it refuses is refused. They were two,
 * and differed: the document refused tags the server took (`""`, a tag with spaces around),
 * `null` for the input's optional fields, and took any text for `updatedAtSource`, where the
 * server read only dates (400).
 */
import { HttpApiClient, HttpClient, HttpClientRequest, OpenApi, OpenApiJsonSchema } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, SchemaAST } from "effect"
import { codePointLength } from "../../src/Domain/Post.js"
import { InkwellApi } from "../../src/Http/Api.js"
import { PostJsonFields } from "../../src/Posts/internal/postJson.js"
import { get, json, KEY, postJson, testServer } from "./harness.js"

type JsonSchema = Record<string, any>

/** Keywords that say nothing about which values are valid. */
const ANNOTATIONS = new Set(["title", "description", "examples", "default", "$comment", "deprecated"])

/**
 * Whether `value` is valid by `schema`, for the JSON Schema keywords the document uses; any other
 * keyword fails the test, so a keyword the document comes to use is never silently passed.
 */
const conforms = (spec: JsonSchema, schema: JsonSchema, value: unknown): boolean => {
  const check = (schema: JsonSchema, value: unknown): boolean =>
    Object.entries(schema).every(([keyword, expected]) => {
      switch (keyword) {
        case "$ref":
          return check(spec["components"].schemas[String(expected).replace("#/components/schemas/", "")], value)
        case "anyOf":
          return (expected as Array<JsonSchema>).some((member) => check(member, value))
        case "allOf":
          return (expected as Array<JsonSchema>).every((member) => check(member, value))
        case "type":
          return (Array.isArray(expected) ? expected : [expected]).some((type: string) =>
            type === "null" ? value === null
            : type === "array" ? Array.isArray(value)
            : type === "object" ? typeof value === "object" && value !== null && !Array.isArray(value)
            : type === "integer" ? Number.isInteger(value)
            : typeof value === type
          )
        case "enum":
          return (expected as Array<unknown>).includes(value)
        case "pattern":
          return typeof value !== "string" || new RegExp(expected, "u").test(value)
        case "minLength":
          return typeof value !== "string" || codePointLength(value) >= expected
        case "maxLength":
          return typeof value !== "string" || codePointLength(value) <= expected
        case "minimum":
          return typeof value !== "number" || value >= expected
        case "items":
          return !Array.isArray(value) || value.every((item) => check(expected, item))
        case "required":
          return !isObject(value) || (expected as Array<string>).every((key) => key in value)
        case "properties":
          return !isObject(value) ||
            Object.entries(expected as Record<string, JsonSchema>).every(([key, property]) => !(key in value) || check(property, value[key]))
        case "additionalProperties":
          return !isObject(value) || expected === true ||
            Object.keys(value).every((key) => key in (schema["properties"] ?? {}) || (expected !== false && check(expected, value[key])))
        default:
          if (ANNOTATIONS.has(keyword)) return true
          throw new Error(`conforms: no check for the keyword ${keyword}`)
      }
    })
  return check(schema, value)
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** A post's JSON as GET answers it, of a post created for `name`. */
const postJsonOf = (name: string) =>
  Effect.gen(function* () {
    const created = yield* postJson("/posts", { title: name, body: "Text.", tags: ["Rust"], summary: "A summary.", updatedAt: "2024-05-01" })
    assert.strictEqual(created.status, 201)
    return yield* json(created)
  })

describe("PostJson: the document's and the server's", () => {
  it.effect("a post's JSON the document allows is taken, and one it refuses is refused: tags, nulls, updatedAtSource", () =>
    Effect.gen(function* () {
      const spec = yield* json(yield* get("/openapi.json"))
      const schema = spec.components.schemas.PostJson
      const read = yield* postJsonOf("Read")
      const { slug: _slug, ...readWithoutSlug } = read
      const samples: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
        ["as GET gave it", read],
        // Tags as processing reads them: trimmed, blank ones dropped.
        ["tags blank or with spaces around", { ...read, tags: ["", "  Rust  "] }],
        // `null` is "left out", as for the input's fields.
        ["null for the input's optional fields", {
          ...readWithoutSlug,
          title: "Nulls",
          slug: null,
          tags: null,
          status: null,
          authors: null,
          summary: null,
          publishedAt: null,
          aliases: null,
          metadata: null
        }],
        // updatedAtSource as processing reads a date (YYYY-MM-DD or RFC 3339, spaces around), and nothing else.
        ["updatedAtSource a day", { ...read, updatedAtSource: "2024-05-01" }],
        ["updatedAtSource with an offset and spaces", { ...read, updatedAtSource: " 2024-05-01T10:00:00+0200 " }],
        ["updatedAtSource at UTC", { ...read, updatedAtSource: "2024-05-01 10:00 UTC" }],
        ["updatedAtSource null", { ...read, updatedAtSource: null }],
        ["updatedAtSource in words", { ...read, updatedAtSource: "yesterday" }],
        ["updatedAtSource in an HTTP date", { ...read, updatedAtSource: "Wed, 01 May 2024 00:00:00 GMT" }],
        ["updatedAtSource in English", { ...read, updatedAtSource: "May 1, 2024" }],
        ["updatedAtSource a number", { ...read, updatedAtSource: 1714521600000 }],
        ["tags not a list", { ...read, tags: "Rust" }],
        // The fields the server derives or keeps are ignored, whatever they hold; `version` is read.
        ["derived fields holding anything", { ...read, id: null, toc: "x", createdAt: "garbage", wordCount: -1, source: 42, html: [] }],
        ["version not a version", { ...read, version: "two" }],
        ["an unknown field", { ...read, Summary: "x" }]
      ]
      const disagreements: Array<string> = []
      for (const [index, [name, sample]] of samples.entries()) {
        const documented = conforms(spec, schema, sample)
        // Each a new post (POST takes a post's JSON too), at a slug of its own.
        const body = typeof sample["slug"] === "string" ? { ...sample, slug: `sample-${index}` } : sample
        const answer = yield* postJson("/posts", body)
        assert.include([201, 400], answer.status, name)
        if ((answer.status === 201) !== documented) {
          disagreements.push(`${name}: the document ${documented ? "allows" : "refuses"} it, the server answered ${answer.status}`)
        }
      }
      assert.deepStrictEqual(disagreements, [])
      const tagged = yield* json(yield* get("/posts/sample-1"))
      assert.deepStrictEqual(tagged.tags, ["Rust"])
    }).pipe(Effect.provide(testServer())))

  it.effect("status: the document shows PostInput's (null, and other case or spaces read as the same status); the server takes them", () =>
    Effect.gen(function* () {
      const spec = yield* json(yield* get("/openapi.json"))
      const { PostInput, PostJson } = spec.components.schemas
      assert.deepStrictEqual(PostJson.properties.status, PostInput.properties.status)
      assert.deepInclude(PostJson.properties.status.anyOf, { type: "null" })
      assert.match(PostJson.properties.status.description, /another case/)
      const read = yield* postJsonOf("Status")
      for (const [index, status] of [" Draft ", "PUBLISHED", null].entries()) {
        const answer = yield* postJson("/posts", { ...read, slug: `status-${index}`, status })
        assert.strictEqual(answer.status, 201, JSON.stringify(yield* json(answer)))
        assert.strictEqual((yield* json(answer)).status, status === null ? "published" : status.trim().toLowerCase())
      }
    }).pipe(Effect.provide(testServer())))

  it.effect("the typed client sends what the document allows as a post's JSON, not only a Post", () =>
    Effect.gen(function* () {
      const client = yield* HttpApiClient.make(InkwellApi, {
        transformClient: HttpClient.mapRequest(HttpClientRequest.setHeader("x-api-key", KEY))
      })
      const created = yield* client.postsAdmin.create({
        // Not a Post: a tag blank and one with spaces around, a date as text.
        payload: { title: "Typed", body: "Text.", tags: ["", " Rust "], status: "draft", updatedAtSource: "2024-05-01" }
      })
      assert.deepStrictEqual([created.slug, created.tags, created.status], ["typed", ["Rust"], "draft"])
      assert.strictEqual(created.updatedAtSource && DateTime.formatIso(created.updatedAtSource), "2024-05-01T00:00:00.000Z")
    }).pipe(Effect.provide(testServer())))

  it("the document's PostJson has exactly the fields the server reads a post's JSON with, each as the server reads it", () => {
    const spec: JsonSchema = OpenApi.fromApi(InkwellApi)
    const documented = spec["components"].schemas.PostJson
    const read = SchemaAST.encodedAST(PostJsonFields.ast)
    assert.isTrue(SchemaAST.isTypeLiteral(read))
    const fields = (read as SchemaAST.TypeLiteral).propertySignatures
    assert.sameMembers(Object.keys(documented.properties), fields.map((field) => String(field.name)))
    assert.sameMembers(documented.required, fields.filter((field) => !field.isOptional).map((field) => String(field.name)))
    assert.strictEqual(documented.additionalProperties, false)
    // Each field's schema as the document would write it for the server's reading of it.
    const defs: Record<string, any> = {}
    const generated = OpenApiJsonSchema.makeWithDefs(PostJsonFields, { defs }) as JsonSchema
    assert.deepStrictEqual(documented.properties, generated["properties"])
  })
})
