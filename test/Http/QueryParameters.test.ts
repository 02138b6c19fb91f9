/**
 * The query parameters of `GET /posts`, `POST /posts/import` and `GET /tags` (which takes none)
 * are exact, as the JSON bodies' fields are: a parameter the endpoint does not take is a 400
 * naming it (and the parameter it is a near miss of), never a default silently used in its place.
 */
import { HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { get, json, KEY, newPost, postJson, send, testServer } from "./harness.js"

const LINE = `${JSON.stringify({ title: "Imported", slug: "imported", body: "Body.", status: "published" })}\n`

const importWith = (query: string) =>
  send(
    HttpClientRequest.post(`/posts/import${query}`).pipe(
      HttpClientRequest.bodyText(LINE, "application/x-ndjson"),
      HttpClientRequest.setHeader("x-api-key", KEY)
    )
  )

/** A 400's issues as [path, message] pairs. */
const issuesOf = (body: { issues: Array<{ path: Array<string>; message: string }> }) =>
  body.issues.map((issue) => [issue.path, issue.message])

describe("unknown query parameters", () => {
  it.effect("POST /posts/import refuses a misspelt dryRun or onConflict (was: a real import, or the default policy), naming the one meant", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [string, string, string]> = [
        ["?dry-run=true", "dry-run", "dryRun"],
        ["?dryrun=true", "dryrun", "dryRun"],
        ["?dry_run=true", "dry_run", "dryRun"],
        ["?DryRun=true", "DryRun", "dryRun"],
        ["?onconflict=skip", "onconflict", "onConflict"],
        ["?on-conflict=skip", "on-conflict", "onConflict"]
      ]
      for (const [query, name, meant] of cases) {
        const response = yield* importWith(query)
        assert.strictEqual(response.status, 400, query)
        const body = yield* json(response)
        assert.strictEqual(body._tag, "HttpApiDecodeError", query)
        const message = `unknown parameter, did you mean ${meant}? (the parameters are onConflict, dryRun)`
        assert.deepStrictEqual(issuesOf(body), [[[name], message]], query)
        assert.strictEqual(body.message, `${name}: ${message}`, query)
      }
      const unrelated = yield* json(yield* importWith("?force=1"))
      assert.strictEqual(unrelated.message, "force: unknown parameter (the parameters are onConflict, dryRun)")
      // Nothing was imported by any of them.
      assert.strictEqual((yield* get("/posts/imported", { "x-api-key": KEY })).status, 404)

      // The documented parameters still work.
      const dry = yield* importWith("?dryRun=true&onConflict=skip")
      assert.strictEqual(dry.status, 200)
      assert.isTrue((yield* json(dry)).dryRun)
      assert.strictEqual((yield* get("/posts/imported", { "x-api-key": KEY })).status, 404)
      assert.strictEqual((yield* importWith("?onConflict=fail&dryRun=false")).status, 200)
      assert.strictEqual((yield* get("/posts/imported", { "x-api-key": KEY })).status, 200)
    }).pipe(Effect.provide(testServer())))

  it.effect("an unknown parameter of an import without a valid key is 401 first: nothing answers a write before ApiKeyAuth", () =>
    Effect.gen(function* () {
      const response = yield* send(HttpClientRequest.post("/posts/import?dry-run=true").pipe(
        HttpClientRequest.bodyText(LINE, "application/x-ndjson")
      ))
      assert.strictEqual(response.status, 401)
    }).pipe(Effect.provide(testServer())))

  it.effect("GET /posts refuses ?Limit=5 or ?tags=x (was: the default page), naming the parameter meant", () =>
    Effect.gen(function* () {
      assert.strictEqual((yield* postJson("/posts", newPost())).status, 201)
      const PARAMETERS = "(the parameters are tag, status, limit, cursor, offset, q)"
      const cases: ReadonlyArray<readonly [string, string, string]> = [
        ["Limit=5", "Limit", `unknown parameter, did you mean limit? ${PARAMETERS}`],
        ["tags=x", "tags", `unknown parameter, did you mean tag? ${PARAMETERS}`],
        ["Status=draft", "Status", `unknown parameter, did you mean status? ${PARAMETERS}`],
        ["search=rust", "search", `unknown parameter ${PARAMETERS}`],
        ["x=1", "x", `unknown parameter ${PARAMETERS}`]
      ]
      for (const [query, name, message] of cases) {
        for (const headers of [{}, { "x-api-key": KEY }]) {
          const response = yield* get(`/posts?${query}`, headers)
          assert.strictEqual(response.status, 400, query)
          const body = yield* json(response)
          assert.strictEqual(body._tag, "HttpApiDecodeError", query)
          assert.deepStrictEqual(issuesOf(body), [[[name], message]], query)
        }
      }
      // Every documented parameter is still taken.
      for (const query of ["tag=effect&status=published&limit=5&offset=0", "q=post&limit=1&offset=0", "limit=1"]) {
        assert.strictEqual((yield* get(`/posts?${query}`, { "x-api-key": KEY })).status, 200, query)
      }
      const page = yield* json(yield* get("/posts?limit=1"))
      assert.strictEqual(page.items.length, 1)
    }).pipe(Effect.provide(testServer())))
})

describe("GET /tags takes no parameters", () => {
  const NONE = "unknown parameter (this endpoint takes no parameters)"

  it.effect("?status=draft, ?limit=5 or any other parameter is a 400 naming each (was: every tag, as if filtered)", () =>
    Effect.gen(function* () {
      assert.strictEqual((yield* postJson("/posts", newPost({ tags: ["kept"] }))).status, 201)
      const cases: ReadonlyArray<readonly [string, ReadonlyArray<readonly [ReadonlyArray<string>, string]>]> = [
        ["?status=draft", [[["status"], NONE]]],
        ["?limit=5", [[["limit"], NONE]]],
        ["?tag", [[["tag"], NONE]]],
        // Several at once, each once; a name as the router decodes it.
        ["?limit=5&q=x&limit=6&caf%C3%A9=1", [[["limit"], NONE], [["q"], NONE], [["café"], NONE]]],
        // What follows `;` the router reads as the query too.
        [";v=1", [[["v"], NONE]]],
        // One that does not percent-decode is said so, as on GET /posts.
        ["?x=%ZZ&y=1", [[["x"], 'expected percent-encoded UTF-8, got "%ZZ"'], [["y"], NONE]]],
        ["?%ZZ=1", [[["%ZZ"], 'expected percent-encoded UTF-8, got the name "%ZZ"']]]
      ]
      for (const [query, expected] of cases) {
        for (const headers of [{}, { "x-api-key": KEY }]) {
          const response = yield* get(`/tags${query}`, headers)
          assert.strictEqual(response.status, 400, query)
          const body = yield* json(response)
          assert.strictEqual(body._tag, "HttpApiDecodeError", query)
          assert.deepStrictEqual<unknown>(issuesOf(body), expected, query)
        }
      }
      const one = yield* json(yield* get("/tags?limit=5"))
      assert.strictEqual(one.message, `limit: ${NONE}`)
      // Before a wrong key's 401, as GET /posts' parameters are.
      assert.strictEqual((yield* get("/tags?limit=5", { "x-api-key": "wrong" })).status, 400)
      // Without a query (or an empty one), the tags as ever.
      for (const path of ["/tags", "/tags?", "/tags?&"]) {
        const response = yield* get(path)
        assert.strictEqual(response.status, 200, path)
        assert.deepStrictEqual((yield* json(response)).tags, [{ tag: "kept", count: 1 }], path)
      }
    }).pipe(Effect.provide(testServer())))

  it.effect("the OpenAPI document says GET /tags takes none, and declares its 400", () =>
    Effect.gen(function* () {
      const operation = (yield* json(yield* get("/openapi.json"))).paths["/tags"].get
      assert.deepStrictEqual(operation.parameters.filter((parameter: { in: string }) => parameter.in === "query"), [])
      assert.include(operation.description, "no query parameters")
      assert.strictEqual(operation.responses["400"].content["application/json"].schema.$ref, "#/components/schemas/HttpApiDecodeError")
    }).pipe(Effect.provide(testServer())))
})

describe("a query that does not percent-decode, and several bad parameters", () => {
  it.effect("?tag=%ZZ is a 400 naming tag, as %ZZ in the path is (was: read as sent, 200 and an empty page)", () =>
    Effect.gen(function* () {
      assert.strictEqual((yield* postJson("/posts", newPost())).status, 201)
      const cases: ReadonlyArray<readonly [string, ReadonlyArray<readonly [ReadonlyArray<string>, string]>]> = [
        ["tag=%ZZ", [[["tag"], 'expected percent-encoded UTF-8, got "%ZZ"']]],
        ["q=caf%C3", [[["q"], 'expected percent-encoded UTF-8, got "caf%C3"']]],
        ["cursor=%E0%A4%A", [[["cursor"], 'expected percent-encoded UTF-8, got "%E0%A4%A"']]],
        // With a parameter the schema refuses: both named, in one answer.
        ["tag=%ZZ&limit=abc", [
          [["tag"], 'expected percent-encoded UTF-8, got "%ZZ"'],
          [["limit"], 'expected an integer from 1, in digits (more than 100 is taken as 100), got "abc"']
        ]],
        // A name that does not decode is named as sent.
        ["%ZZ=1", [[["%ZZ"], 'expected percent-encoded UTF-8, got the name "%ZZ"']]]
      ]
      for (const [query, expected] of cases) {
        const response = yield* get(`/posts?${query}`)
        assert.strictEqual(response.status, 400, query)
        const body = yield* json(response)
        assert.strictEqual(body._tag, "HttpApiDecodeError", query)
        assert.deepStrictEqual<unknown>(issuesOf(body), expected, query)
      }
      // An import's too, from a caller with a key (nothing imported).
      const dry = yield* json(yield* importWith("?dryRun=tr%ZZue"))
      assert.deepStrictEqual(issuesOf(dry), [[["dryRun"], 'expected percent-encoded UTF-8, got "tr%ZZue"']])
      assert.strictEqual((yield* get("/posts/imported", { "x-api-key": KEY })).status, 404)
      // Well-encoded escapes are read as ever: %25 is a percent sign.
      assert.strictEqual((yield* get("/posts?tag=%25ZZ")).status, 200)
      assert.strictEqual((yield* get("/posts?tag=caf%C3%A9&q=caf%C3%A9")).status, 200)
      // A read of one post takes no parameters: its query is the client's own (a cache-buster), and is not read.
      assert.strictEqual((yield* get("/posts/first-post?v=%ZZ")).status, 200)
    }).pipe(Effect.provide(testServer())))

  it.effect("every bad parameter is named at once (was: the first only), each in one issue", () =>
    Effect.gen(function* () {
      const LIMIT = "an integer from 1, in digits (more than 100 is taken as 100)"
      const OFFSET = "an integer from 0 to 9007199254740991, in digits (posts to skip; not with cursor)"
      const response = yield* get("/posts?limit=abc&offset=-1&status=x")
      assert.strictEqual(response.status, 400)
      const body = yield* json(response)
      assert.deepStrictEqual(issuesOf(body), [
        [["status"], 'expected "draft" or "published", got "x"'],
        [["limit"], `expected ${LIMIT}, got "abc"`],
        [["offset"], `expected ${OFFSET}, got "-1"`]
      ])
      assert.strictEqual(
        body.message,
        `status: expected "draft" or "published", got "x"; limit: expected ${LIMIT}, got "abc"; offset: expected ${OFFSET}, got "-1"`
      )
      const withUnknown = yield* json(yield* get("/posts?Limit=5&tag=%20"))
      assert.deepStrictEqual(withUnknown.issues.map((issue: { path: Array<string> }) => issue.path), [["Limit"], ["tag"]])
      const imports = yield* json(yield* importWith("?onConflict=never&dryRun=maybe"))
      assert.deepStrictEqual(issuesOf(imports), [
        [["onConflict"], 'expected "fail", "skip" or "suffix", got "never"'],
        [["dryRun"], 'expected true or false, got "maybe"']
      ])
    }).pipe(Effect.provide(testServer())))
})
