/**
 * What a client reads in an error: every typed error body has a human `message` beside its
 * structured fields (and the typed client decodes it); a bad parameter's 400 says in one line
 * what it takes; a method a path does not take is 405 with `Allow`.
 */
import { HttpApi, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { InvalidPost, PostNotFound, SlugConflict, StaleVersion } from "../../src/Domain/Errors.js"
import { allowedMethodsOf } from "../../src/Http/AllowedMethods.js"
import { InkwellApi, PostsApi, SystemApi } from "../../src/Http/Api.js"
import { ResponseCache } from "../../src/Http/ResponseCache.js"
import { Slug } from "../../src/Domain/Post.js"
import { request as httpRequest } from "node:http"
import { siteServer } from "../Site/harness.js"
import { cachedTestServer, get, json, KEY, newPost, portOf, postJson, putJson, send, testServer } from "./harness.js"

const slug = (text: string) => Slug.make(text)

describe("error bodies", () => {
  it.effect("PostNotFound, SlugConflict, StaleVersion and InvalidPost carry a message beside their fields", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* json(yield* get("/posts/no-such-post")), {
        _tag: "PostNotFound",
        slug: "no-such-post",
        message: 'no post with slug "no-such-post"'
      })
      assert.strictEqual((yield* postJson("/posts", newPost())).status, 201)
      assert.deepStrictEqual(yield* json(yield* postJson("/posts", newPost())), {
        _tag: "SlugConflict",
        slug: "first-post",
        message: 'a post with slug "first-post" already exists'
      })
      assert.deepStrictEqual(yield* json(yield* putJson("/posts/first-post", newPost({ version: 7 }))), {
        _tag: "StaleVersion",
        slug: "first-post",
        expected: 7,
        actual: 1,
        message: 'post "first-post" is at version 1, not 7: reload and retry'
      })
      const invalid = yield* json(yield* postJson("/posts", { body: "no title anywhere" }))
      assert.strictEqual(invalid._tag, "InvalidPost")
      assert.strictEqual(invalid.field, "title")
      assert.isString(invalid.reason)
      assert.strictEqual(invalid.message, `api: title: ${invalid.reason}`)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("the typed client decodes each of them, message included", () =>
    Effect.gen(function* () {
      const client = yield* HttpApiClient.make(InkwellApi, {
        transformClient: HttpClient.mapRequest(HttpClientRequest.setHeader("x-api-key", KEY))
      })
      const notFound = yield* Effect.flip(client.posts.get({ path: { slug: slug("nope") }, headers: {} }))
      assert.instanceOf(notFound, PostNotFound)
      assert.strictEqual(notFound.message, 'no post with slug "nope"')

      const post = { title: "First post", body: "Hello.", tags: [], status: "published" as const }
      yield* client.postsAdmin.create({ payload: post })
      const conflict = yield* Effect.flip(client.postsAdmin.create({ payload: post }))
      assert.instanceOf(conflict, SlugConflict)
      assert.strictEqual(conflict.message, 'a post with slug "first-post" already exists')

      const stale = yield* Effect.flip(
        client.postsAdmin.update({ path: { slug: slug("first-post") }, headers: {}, payload: { ...post, version: 3 } })
      )
      assert.instanceOf(stale, StaleVersion)
      assert.strictEqual(stale.actual, 1)
      assert.strictEqual(stale.message, 'post "first-post" is at version 1, not 3: reload and retry')

      const { title: _title, ...untitled } = post
      const invalid = yield* Effect.flip(client.postsAdmin.create({ payload: untitled }))
      assert.instanceOf(invalid, InvalidPost)
      assert.strictEqual(invalid.field, "title")
      assert.strictEqual(invalid.message, `api: title: ${invalid.reason}`)
    }).pipe(Effect.provide(testServer()))
  )
})

describe("a bad parameter's 400", () => {
  const LIMIT = "an integer from 1, in digits (more than 100 is taken as 100)"
  // Its maximum said (was: "an integer from 0", a 400 for 2^53 as if it were not one).
  const OFFSET = "an integer from 0 to 9007199254740991, in digits (posts to skip; not with cursor)"

  it.effect("names the parameter, what it takes and what came, in one line and one issue", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [string, string, string]> = [
        ["limit=abc", "limit", `expected ${LIMIT}, got "abc"`],
        ["limit=0", "limit", `expected ${LIMIT}, got "0"`],
        ["offset=-1", "offset", `expected ${OFFSET}, got "-1"`],
        ["status=foo", "status", 'expected "draft" or "published", got "foo"'],
        ["tag=", "tag", 'expected a tag of 1 to 100 characters, not only spaces, got ""'],
        ["tag=%20%20", "tag", 'expected a tag of 1 to 100 characters, not only spaces, got "  "'],
        ["cursor=garbage", "cursor", "expected a previous page's `next`, as it was given, got \"garbage\""],
        // Only plain decimal digits: `Number` took all of these for numbers.
        ["limit=1e2", "limit", `expected ${LIMIT}, got "1e2"`],
        ["offset=1e2", "offset", `expected ${OFFSET}, got "1e2"`],
        ["limit=%2B5", "limit", `expected ${LIMIT}, got "+5"`],
        ["limit=%205", "limit", `expected ${LIMIT}, got " 5"`],
        ["limit=0x10", "limit", `expected ${LIMIT}, got "0x10"`],
        ["limit=5.0", "limit", `expected ${LIMIT}, got "5.0"`],
        ["offset=99999999999999999999", "offset", `expected ${OFFSET}, got "99999999999999999999"`],
        ["offset=9007199254740992", "offset", `expected ${OFFSET}, got "9007199254740992"`]
      ]
      for (const [query, name, expected] of cases) {
        const response = yield* get(`/posts?${query}`)
        assert.strictEqual(response.status, 400, query)
        const body = yield* json(response)
        assert.strictEqual(body._tag, "HttpApiDecodeError", query)
        assert.strictEqual(body.message, `${name}: ${expected}`, query)
        assert.deepStrictEqual(body.issues.map((issue: { path: Array<string>; message: string }) => [issue.path, issue.message]), [[[name], expected]], query)
      }
      const slug = yield* json(yield* get("/posts/Not_A_Slug"))
      assert.strictEqual(slug.message, 'slug: expected a slug: lowercase letters and digits joined by single dashes, at most 200 characters, got "Not_A_Slug"')
      assert.deepStrictEqual(slug.issues.map((issue: { path: Array<string> }) => issue.path), [["slug"]])
      const dryRun = yield* json(yield* send(HttpClientRequest.post("/posts/import?dryRun=maybe").pipe(HttpClientRequest.setHeader("x-api-key", KEY))))
      assert.strictEqual(dryRun.message, 'dryRun: expected true or false, got "maybe"')
      // A body's issues are summed up the same way, each at its field.
      const body = yield* json(yield* postJson("/posts", { title: "x", body: 42 }))
      assert.strictEqual(body.message, "body: expected a string, got 42")
      // An optional field's wrong value is one issue, not a second "Expected undefined" beside it;
      // every bad field is named at once.
      const tags = yield* json(yield* postJson("/posts", { title: "x", body: "b", tags: "rust" }))
      assert.strictEqual(tags.message, 'tags: expected a list of strings, got "rust"')
      assert.deepStrictEqual(tags.issues.map((issue: { path: Array<string> }) => issue.path), [["tags"]])
      const authors = yield* json(yield* postJson("/posts", { title: "x", body: "b", authors: ["Ann", 1], metadata: [], bogus: true }))
      assert.strictEqual(
        authors.message,
        'bogus: unknown field (the fields are title, slug, body, tags, status, publishedAt, updatedAt, authors, summary, aliases, metadata); authors.1: expected a string, got 1; metadata: expected an object, got []'
      )
      // Plain digits still work, and a limit over 100 is still taken as 100 (documented).
      assert.strictEqual((yield* get("/posts?limit=05&offset=0")).status, 200)
      assert.strictEqual((yield* get("/posts?limit=1000")).status, 200)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("the OpenAPI document shows limit and offset as integers with their bounds", () =>
    Effect.gen(function* () {
      const document = yield* json(yield* get("/openapi.json"))
      const parameters: Array<{ name: string; schema: Record<string, unknown> }> = document.paths["/posts"].get.parameters
      const schemaOf = (name: string) => parameters.find((parameter) => parameter.name === name)!.schema
      assert.deepInclude(schemaOf("limit"), { type: "integer", minimum: 1 })
      assert.deepInclude(schemaOf("offset"), { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
      assert.deepStrictEqual(schemaOf("status")["enum"], ["draft", "published"])
    }).pipe(Effect.provide(testServer()))
  )
})

describe("405 Method Not Allowed", () => {
  const answer = (method: string, path: string, headers: Record<string, string> = {}) =>
    send(HttpClientRequest.make(method as "GET")(path).pipe(HttpClientRequest.setHeaders(headers)))

  it.effect("a method the path does not take is 405 with Allow from the API's endpoints; an unknown path stays 404", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [string, string, string]> = [
        ["DELETE", "/posts", "GET, HEAD, POST, OPTIONS"],
        ["PUT", "/posts/", "GET, HEAD, POST, OPTIONS"],
        ["PATCH", "/posts/some-slug", "GET, HEAD, PUT, DELETE, OPTIONS"],
        ["POST", "/posts/some-slug", "GET, HEAD, PUT, DELETE, OPTIONS"],
        ["POST", "/health", "GET, HEAD, OPTIONS"],
        ["DELETE", "/tags", "GET, HEAD, OPTIONS"],
        // What follows a `;` the router reads as a query: these are `/posts` and a post.
        ["DELETE", "/posts;v=1", "GET, HEAD, POST, OPTIONS"],
        ["PATCH", "/posts/some-slug;v=1", "GET, HEAD, PUT, DELETE, OPTIONS"]
      ]
      for (const [method, path, allow] of cases) {
        for (const headers of [{}, { "x-api-key": KEY }]) {
          const response = yield* answer(method, path, headers)
          assert.strictEqual(response.status, 405, `${method} ${path}`)
          assert.strictEqual(response.headers["allow"], allow, `${method} ${path}`)
          assert.deepStrictEqual(yield* json(response), {
            _tag: "MethodNotAllowed",
            message: `${method} is not a method of ${path}: it takes ${allow}`
          })
        }
      }
      for (const [method, path] of [["DELETE", "/nothing"], ["POST", "/posts/a/b"], ["GET", "/nope"]] as const) {
        const response = yield* answer(method, path)
        assert.strictEqual(response.status, 404, `${method} ${path}`)
        assert.strictEqual((yield* json(response))._tag, "RouteNotFound")
        assert.isUndefined(response.headers["allow"])
      }
      // Served methods are untouched.
      assert.strictEqual((yield* answer("HEAD", "/health")).status, 200)
      assert.strictEqual((yield* answer("DELETE", "/posts/some-slug", { "x-api-key": KEY })).status, 404)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("a 405, an OPTIONS or a route miss is not cached and invalidates nothing, with or without a key", () =>
    Effect.gen(function* () {
      const cache = yield* ResponseCache
      assert.strictEqual((yield* postJson("/posts", newPost())).status, 201)
      assert.strictEqual((yield* get("/posts/first-post")).status, 200)
      assert.strictEqual((yield* get("/posts")).status, 200)
      const before = yield* cache.stats
      assert.strictEqual(before.entries, 2)
      for (const headers of [{}, { "x-api-key": KEY }]) {
        assert.strictEqual((yield* answer("DELETE", "/posts", headers)).status, 405)
        assert.strictEqual((yield* answer("PATCH", "/posts/first-post", headers)).status, 405)
        assert.strictEqual((yield* answer("POST", "/posts/first-post/x", headers)).status, 404)
        assert.strictEqual((yield* answer("OPTIONS", "/posts/first-post", headers)).status, 204)
        assert.strictEqual((yield* answer("OPTIONS", "/posts", headers)).status, 204)
        assert.strictEqual((yield* answer("POST", "/openapi.json", headers)).status, 405)
        assert.strictEqual((yield* answer("DELETE", "/docs", headers)).status, 405)
      }
      assert.strictEqual((yield* cache.stats).entries, 2)
      assert.isDefined(cache.lookup("GET", "/posts/first-post", false, undefined))
      assert.isDefined(cache.lookup("GET", "/posts", false, undefined))
    }).pipe(Effect.provide(cachedTestServer({ maxEntries: 100, maxBytes: 1024 * 1024, ttl: "1 minute" })))
  )

  it.effect("/openapi.json and /docs take GET and HEAD: another method is 405 with Allow, not 404", () =>
    Effect.gen(function* () {
      for (const path of ["/openapi.json", "/docs"]) {
        for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
          const response = yield* answer(method, path)
          assert.strictEqual(response.status, 405, `${method} ${path}`)
          assert.strictEqual(response.headers["allow"], "GET, HEAD, OPTIONS", `${method} ${path}`)
          assert.deepStrictEqual(yield* json(response), {
            _tag: "MethodNotAllowed",
            message: `${method} is not a method of ${path}: it takes GET, HEAD, OPTIONS`
          })
        }
        assert.strictEqual((yield* answer("GET", path)).status, 200, path)
        assert.strictEqual((yield* answer("HEAD", path)).status, 200, path)
      }
    }).pipe(Effect.provide(testServer()))
  )

  it("Allow is derived from the endpoints, as the router reads paths (case, slashes, prefixes, encoded slashes)", () => {
    const allowed = allowedMethodsOf(InkwellApi)
    assert.deepStrictEqual(allowed("/posts"), ["GET", "HEAD", "POST", "OPTIONS"])
    assert.deepStrictEqual(allowed("/posts//"), ["GET", "HEAD", "POST", "OPTIONS"])
    // Case counts, as for the router (Server.routerConfig): `/Posts` is another path, served by nothing.
    assert.deepStrictEqual(allowed("/Posts"), [])
    assert.deepStrictEqual(allowed("/posts/import"), ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"])
    assert.deepStrictEqual(allowed("/posts/a%2Fb"), ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])
    assert.deepStrictEqual(allowed("/posts/a/b"), [])
    assert.deepStrictEqual(allowed("/posts/%ZZ"), [])
    assert.deepStrictEqual(allowed("/"), [])
    assert.deepStrictEqual(allowed("/openapi.json"), [], "the documentation is not among the API's endpoints")
    assert.deepStrictEqual(allowed("*"), ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"])
    class Host extends HttpApi.make("host").add(PostsApi.prefix("/blog")).add(SystemApi) {}
    const hosted = allowedMethodsOf(Host, [{ method: "GET", path: "/blog/openapi.json" }])
    assert.deepStrictEqual(hosted("/blog/posts"), ["GET", "HEAD", "OPTIONS"])
    assert.deepStrictEqual(hosted("/posts"), [])
    assert.deepStrictEqual(hosted("/ready"), ["GET", "HEAD", "OPTIONS"])
    assert.deepStrictEqual(hosted("/blog/openapi.json/"), ["GET", "HEAD", "OPTIONS"])
    assert.deepStrictEqual(hosted("/blog/OpenAPI.json"), [])
    assert.deepStrictEqual(hosted("*"), ["GET", "HEAD", "OPTIONS"])
  })
})

describe("OPTIONS", () => {
  const options = (path: string, headers: Record<string, string> = {}) =>
    send(HttpClientRequest.options(path).pipe(HttpClientRequest.setHeaders(headers)))

  it.effect("on every path the API serves: 204 with Allow (its methods, HEAD where GET, OPTIONS), no body, key or none", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["/posts/some-slug", "GET, HEAD, PUT, DELETE, OPTIONS"],
        ["/posts", "GET, HEAD, POST, OPTIONS"],
        ["/posts/", "GET, HEAD, POST, OPTIONS"],
        ["/posts?limit=5", "GET, HEAD, POST, OPTIONS"],
        ["/posts/import", "GET, HEAD, POST, PUT, DELETE, OPTIONS"],
        ["/posts/import-url", "GET, HEAD, POST, PUT, DELETE, OPTIONS"],
        ["/tags", "GET, HEAD, OPTIONS"],
        ["/health", "GET, HEAD, OPTIONS"],
        ["/ready", "GET, HEAD, OPTIONS"],
        ["/openapi.json", "GET, HEAD, OPTIONS"],
        ["/docs", "GET, HEAD, OPTIONS"]
      ]
      for (const [path, allow] of cases) {
        // A wrong key changes nothing: OPTIONS reaches no handler, so no credential is checked.
        for (const headers of [{}, { "x-api-key": KEY }, { "x-api-key": "wrong" }]) {
          const response = yield* options(path, headers)
          assert.strictEqual(response.status, 204, path)
          assert.strictEqual(response.headers["allow"], allow, path)
          assert.strictEqual(yield* response.text, "", path)
        }
      }
      for (const path of ["/nothing", "/posts/a/b", "/"]) {
        const response = yield* options(path)
        assert.strictEqual(response.status, 404, path)
        assert.strictEqual((yield* json(response))._tag, "RouteNotFound")
        assert.isUndefined(response.headers["allow"])
      }
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("OPTIONS * (the server as a whole) lists every method some path takes; any other method at * is no route", () =>
    Effect.gen(function* () {
      const port = yield* portOf
      const star = yield* optionsRaw(port, "OPTIONS", "*")
      assert.strictEqual(star.status, 204)
      assert.strictEqual(star.allow, "GET, HEAD, POST, PUT, DELETE, OPTIONS")
      const get = yield* optionsRaw(port, "GET", "*")
      assert.strictEqual(get.status, 404)
      assert.isUndefined(get.allow)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("with the reader site mounted beside the API (its catch-all routes): the same answers", () =>
    Effect.gen(function* () {
      const post = yield* options("/posts/some-slug")
      assert.strictEqual(post.status, 204)
      assert.strictEqual(post.headers["allow"], "GET, HEAD, PUT, DELETE, OPTIONS")
      const spec = yield* answerTo("POST", "/openapi.json")
      assert.strictEqual(spec.status, 405)
      assert.strictEqual(spec.headers["allow"], "GET, HEAD, OPTIONS")
      assert.strictEqual((yield* options("/nothing")).status, 404)
      // The site's paths answer for themselves; `*` stays the server's whole list.
      assert.strictEqual((yield* options("/")).headers["allow"], "GET, HEAD, OPTIONS")
      const star = yield* optionsRaw(yield* portOf, "OPTIONS", "*")
      assert.strictEqual(star.status, 204)
      assert.strictEqual(star.allow, "GET, HEAD, POST, PUT, DELETE, OPTIONS")
    }).pipe(Effect.provide(siteServer()))
  )
})

const answerTo = (method: string, path: string) => send(HttpClientRequest.make(method as "GET")(path))

/** A request whose target is `target` as written (`*` is no URL the HttpClient can send). */
const optionsRaw = (port: number, method: string, target: string) =>
  Effect.async<{ readonly status: number; readonly allow: string | undefined }, Error>((resume) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path: target, agent: false }, (res) => {
      res.resume()
      res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, allow: res.headers["allow"] })))
    })
    req.on("error", (error) => resume(Effect.fail(error)))
    req.end()
    return Effect.sync(() => req.destroy())
  })
