/**
 * What the request pipeline answers outside the API's endpoints (405 with Allow, OPTIONS, 404
 * RouteNotFound, WWW-Authenticate, Retry-After, a read's Vary and Cache-Control) is in the
 * OpenAPI document, and the server answers as the document says. The document left it all out.
 */
import { HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { PoolTimeout } from "../../src/Domain/Errors.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { get, json, KEY, newPost, postJson, putJson, send, testServer } from "./harness.js"

type Json = Record<string, any>

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const

/** `value` resolved if it is a `$ref` into the document. */
const resolve = (spec: Json, value: Json): Json =>
  typeof value?.["$ref"] === "string"
    ? resolve(spec, value["$ref"].replace(/^#\//, "").split("/").reduce((at: Json, key: string) => at[key], spec))
    : value

/** Whether `body` is an object the (flat, string-valued) error schema `schema` describes. */
const conforms = (schema: Json, body: unknown): boolean => {
  if (typeof body !== "object" || body === null) return false
  const record = body as Record<string, unknown>
  const properties: Json = schema["properties"]
  return (schema["required"] as Array<string>).every((key) => key in record) &&
    Object.entries(record).every(([key, value]) => {
      const property = properties[key]
      if (property === undefined) return schema["additionalProperties"] !== false
      return typeof value === property["type"] && (property["enum"] === undefined || property["enum"].includes(value))
    })
}

/** The headers the document declares on `response`, each as the real answer must carry it. */
const declaredHeaders = (spec: Json, response: Json): Record<string, Json> =>
  Object.fromEntries(Object.entries(resolve(spec, response)["headers"] ?? {}).map(([name, header]) => [name, resolve(spec, header as Json)]))

const answer = (method: string, path: string, headers: Record<string, string> = {}) =>
  send(HttpClientRequest.make(method as "GET")(path).pipe(HttpClientRequest.setHeaders(headers)))

const header = (response: HttpClientResponse.HttpClientResponse, name: string) => response.headers[name.toLowerCase()]

describe("the OpenAPI document, on what every path answers", () => {
  it.effect("OPTIONS is 204 with Allow, any other method 405 MethodNotAllowed with the same Allow, an unknown path 404 RouteNotFound: as documented", () =>
    Effect.gen(function* () {
      const spec = yield* json(yield* get("/openapi.json"))
      assert.deepStrictEqual(resolve(spec, spec.components.responses.MethodNotAllowed.content["application/json"].schema), spec.components.schemas.MethodNotAllowed)
      assert.property(spec.components.responses.MethodNotAllowed.headers, "Allow")
      const notAllowed = spec.components.schemas.MethodNotAllowed
      for (const [template, item] of Object.entries<Json>(spec.paths)) {
        const path = template.replace(/\{[^}]+\}/g, "some-post")
        const options = item["options"]
        assert.isDefined(options, `${template} documents OPTIONS`)
        const allow: string = options.responses["204"].headers.Allow.schema.const
        assert.include(item["description"], `Allow: ${allow}`)
        const preflight = yield* answer("OPTIONS", path)
        assert.strictEqual(preflight.status, 204, template)
        assert.strictEqual(header(preflight, "Allow"), allow, template)
        for (const name of Object.keys(declaredHeaders(spec, options.responses["204"]))) assert.isDefined(header(preflight, name), `${template} ${name}`)
        const refused = METHODS.find((method) => !allow.split(", ").includes(method))!
        for (const headers of [{}, { "x-api-key": KEY }]) {
          const response = yield* answer(refused, path, headers)
          assert.strictEqual(response.status, 405, `${refused} ${template}`)
          for (const name of Object.keys(declaredHeaders(spec, spec.components.responses.MethodNotAllowed))) {
            assert.isDefined(header(response, name), `${refused} ${template} ${name}`)
          }
          assert.strictEqual(header(response, "Allow"), allow, `${refused} ${template}`)
          const body = yield* json(response)
          assert.isTrue(conforms(notAllowed, body), JSON.stringify(body))
        }
      }
      const missing = yield* get("/nothing-here")
      assert.strictEqual(missing.status, 404)
      assert.isTrue(conforms(spec.components.schemas.RouteNotFound, yield* json(missing)))
      for (const name of Object.keys(declaredHeaders(spec, spec.components.responses.RouteNotFound))) {
        assert.isDefined(header(missing, name), name)
      }
      assert.include(spec.info.description, "405 MethodNotAllowed")
    }).pipe(Effect.provide(testServer())))

  it.effect("every 401 says WWW-Authenticate, as documented on each 401", () =>
    Effect.gen(function* () {
      const spec = yield* json(yield* get("/openapi.json"))
      const unauthorized: ReadonlyArray<readonly [string, string, string]> = [
        ["post", "/posts", "/posts"],
        ["put", "/posts/{slug}", "/posts/some-post"],
        ["delete", "/posts/{slug}", "/posts/some-post"],
        ["post", "/posts/import", "/posts/import"],
        ["post", "/posts/import-url", "/posts/import-url"],
        ["get", "/posts", "/posts"]
      ]
      for (const [method, template, path] of unauthorized) {
        const declared = declaredHeaders(spec, spec.paths[template][method].responses["401"])
        assert.property(declared, "WWW-Authenticate", `${method} ${template}`)
        const response = yield* answer(method.toUpperCase(), path, method === "get" ? { "x-api-key": "wrong" } : {})
        assert.strictEqual(response.status, 401, `${method} ${template}`)
        assert.strictEqual(header(response, "WWW-Authenticate"), declared["WWW-Authenticate"]!["schema"].const, `${method} ${template}`)
        assert.isDefined(header(response, "X-Request-Id"))
      }
    }).pipe(Effect.provide(testServer())))

  it.effect("every 503 says Retry-After, as documented on each 503", () =>
    Effect.gen(function* () {
      const spec = yield* json(yield* get("/openapi.json"))
      for (const [template, item] of Object.entries<Json>(spec.paths)) {
        for (const [method, operation] of Object.entries<Json>(item)) {
          const unavailable = operation?.["responses"]?.["503"]
          if (unavailable !== undefined) assert.property(declaredHeaders(spec, unavailable), "Retry-After", `${method} ${template}`)
        }
      }
      const declared = declaredHeaders(spec, spec.paths["/posts"].get.responses["503"])["Retry-After"]!
      const response = yield* get("/posts")
      assert.strictEqual(response.status, 503)
      const retryAfter = header(response, "Retry-After")!
      assert.match(retryAfter, /^[0-9]+$/)
      assert.strictEqual(declared["schema"].type, "integer")
      assert.isAtLeast(Number(retryAfter), declared["schema"].minimum)
    }).pipe(Effect.provide(testServer({
      repository: Layer.effect(
        PostRepository,
        Effect.map(MemoryPostRepository.make, (base) => ({
          ...base,
          list: () => Effect.fail(new PoolTimeout({ waitedMs: 5000, maxConnections: 8 }))
        }))
      )
    }))))

  it.effect("a read's Vary and Cache-Control (private with a key; a 301's no-cache) are documented and answered", () =>
    Effect.gen(function* () {
      const spec = yield* json(yield* get("/openapi.json"))
      for (const [template, status] of [["/posts", "200"], ["/posts/{slug}", "200"], ["/posts/{slug}", "301"], ["/tags", "200"], ["/posts/{slug}", "404"]] as const) {
        const declared = declaredHeaders(spec, spec.paths[template].get.responses[status])
        for (const name of ["Vary", "Cache-Control", "X-Request-Id"]) assert.property(declared, name, `${template} ${status}`)
      }
      assert.strictEqual((yield* postJson("/posts", newPost({ title: "Before" }))).status, 201)
      assert.strictEqual((yield* putJson("/posts/before", newPost({ title: "After", slug: "after", version: 1 }))).status, 200)
      for (const path of ["/posts", "/posts/after", "/tags"]) {
        const anonymous = yield* get(path)
        assert.include(header(anonymous, "Vary"), "x-api-key, authorization", path)
        assert.isUndefined(header(anonymous, "Cache-Control"), path)
        const keyed = yield* get(path, { "x-api-key": KEY })
        assert.strictEqual(header(keyed, "Cache-Control"), "private", path)
      }
      const moved = declaredHeaders(spec, spec.paths["/posts/{slug}"].get.responses["301"])["Cache-Control"]!
      for (const headers of [{}, { "x-api-key": KEY }]) {
        const response = yield* get("/posts/before", headers)
        assert.strictEqual(response.status, 301)
        assert.include(moved["schema"].enum, header(response, "Cache-Control"))
      }
    }).pipe(Effect.provide(testServer())))
})
