import { HttpApiClient, HttpBody, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { request as httpRequest } from "node:http"
import { Slug } from "../../src/Domain/Post.js"
import { InkwellApi } from "../../src/Http/Api.js"
import { idTagOf } from "../../src/Posts/PostRepository.js"
import { PostMoved } from "../../src/Http/Errors.js"
import { movedPostAnswers } from "./movedPosts.js"
import { get, json, KEY, MARKDOWN, newPost, portOf, postJson, postMarkdown, putJson, del, send, sendRaw, sqliteTestServer, testServer } from "./harness.js"

describe("posts API", () => {
  it.effect("creates a post from JSON fields: 201, Location, ETag, processed fields", () =>
    Effect.gen(function* () {
      const response = yield* postJson("/posts", newPost())
      assert.strictEqual(response.status, 201)
      assert.strictEqual(response.headers["location"], "/posts/first-post")
      const body = yield* json(response)
      assert.strictEqual(body.slug, "first-post")
      assert.strictEqual(body.version, 1)
      assert.include(body.html, "<strong>world</strong>")
      assert.isAtLeast(body.readingTimeMinutes, 1)
      assert.isTrue(body.toc.some((entry: { text: string }) => entry.text === "Second"))
      assert.strictEqual(response.headers["etag"], `"v1-${body.contentHash.slice(0, 16)}-${idTagOf(body.id)}"`)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("creates a post from markdown with front matter", () =>
    Effect.gen(function* () {
      const response = yield* postMarkdown("/posts", MARKDOWN)
      assert.strictEqual(response.status, 201)
      const body = yield* json(response)
      assert.strictEqual(body.title, "Hello from Markdown")
      assert.deepStrictEqual(body.tags, ["effect", "typescript"])
      const read = yield* get(`/posts/${body.slug}`)
      assert.strictEqual(read.status, 200)
      assert.strictEqual((yield* json(read)).title, "Hello from Markdown")
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("reads a post with an ETag and answers 304 to If-None-Match", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost())
      const first = yield* get("/posts/first-post")
      assert.strictEqual(first.status, 200)
      const etag = first.headers["etag"]!
      assert.match(etag, /^"v1-[0-9a-f]{16}-[0-9a-f]{8}"$/)
      const cached = yield* get("/posts/first-post", { "if-none-match": etag })
      assert.strictEqual(cached.status, 304)
      assert.strictEqual(cached.headers["etag"], etag)
      const weak = yield* get("/posts/first-post", { "if-none-match": `"other", W/${etag}` })
      assert.strictEqual(weak.status, 304)
      const stale = yield* get("/posts/first-post", { "if-none-match": '"v0-0000000000000000"' })
      assert.strictEqual(stale.status, 200)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("404 for a missing post, 400 with the field path for a malformed slug", () =>
    Effect.gen(function* () {
      const missing = yield* get("/posts/no-such-post")
      assert.strictEqual(missing.status, 404)
      assert.deepStrictEqual(yield* json(missing), { _tag: "PostNotFound", slug: "no-such-post", message: 'no post with slug "no-such-post"' })
      const malformed = yield* get("/posts/Not_A_Slug")
      assert.strictEqual(malformed.status, 400)
      const body = yield* json(malformed)
      assert.strictEqual(body._tag, "HttpApiDecodeError")
      assert.deepStrictEqual(body.issues[0].path, ["slug"])
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("400 with the failing field path for an invalid JSON payload", () =>
    Effect.gen(function* () {
      const response = yield* postJson("/posts", { title: "x", body: 42 })
      assert.strictEqual(response.status, 400)
      const body = yield* json(response)
      assert.strictEqual(body._tag, "HttpApiDecodeError")
      assert.isTrue(
        body.issues.some((issue: { path: Array<string> }) => issue.path.join(".") === "body"),
        JSON.stringify(body.issues)
      )
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("400 naming an unknown JSON field, on create and update: a typo never stores another post than meant", () =>
    Effect.gen(function* () {
      const unknownField = (response: { readonly status: number }, body: any, field: string) => {
        assert.strictEqual(response.status, 400)
        assert.strictEqual(body._tag, "HttpApiDecodeError")
        assert.isTrue(
          body.issues.some((issue: { path: Array<string> }) => issue.path.join(".") === field),
          JSON.stringify(body.issues)
        )
      }
      const typo = yield* postJson("/posts", { title: "x", body: "y", Status: "draft", tag: ["a"] })
      unknownField(typo, yield* json(typo), "Status")
      assert.strictEqual((yield* get("/posts/x", { "x-api-key": KEY })).status, 404)

      assert.strictEqual((yield* postJson("/posts", newPost())).status, 201)
      const update = yield* putJson("/posts/first-post", newPost({ version: 1, tag: ["a"] }))
      unknownField(update, yield* json(update), "tag")
      assert.strictEqual((yield* json(yield* get("/posts/first-post"))).version, 1)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("400 naming a JSON key sent twice, on create and update: the last one never silently wins", () =>
    Effect.gen(function* () {
      const raw = (method: "POST" | "PUT", url: string, body: string, headers: Record<string, string> = {}) =>
        send(HttpClientRequest.make(method)(url).pipe(
          HttpClientRequest.bodyText(body, "application/json"),
          HttpClientRequest.setHeaders({ "x-api-key": KEY, ...headers })
        ))
      const cases: ReadonlyArray<readonly [string, ReadonlyArray<string | number>]> = [
        ['{"title":"T","body":"b","status":"draft","status":"published"}', ["status"]],
        ['{"title":"T","body":"b","st\\u0061tus":"draft", "status" : "published"}', ["status"]],
        ['{"title":"T","body":"b","metadata":{"a":[{"x":1},{"x":2,"x":3}]}}', ["metadata", "a", 1, "x"]]
      ]
      for (const [body, path] of cases) {
        const created = yield* raw("POST", "/posts", body)
        assert.strictEqual(created.status, 400, body)
        const error = yield* json(created)
        assert.strictEqual(error._tag, "HttpApiDecodeError", body)
        assert.deepStrictEqual(error.issues[0].path, path, body)
      }
      // The same key in different objects, and a key-like string as a value, are fine.
      const fine = yield* raw("POST", "/posts", '{"title":"T","body":"\\"status\\": x","metadata":{"title":"m","n":{"title":1}},"status":"draft"}')
      assert.strictEqual(fine.status, 201)
      assert.strictEqual((yield* json(fine)).status, "draft")
      const update = yield* raw("PUT", "/posts/t", '{"title":"T","body":"b","version":1,"version":2}')
      assert.strictEqual(update.status, 400)
      assert.deepStrictEqual((yield* json(update)).issues[0].path, ["version"])
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("400 naming the field for a value nested 8,000 deep or 900 KB long, shown briefly (was: 500, or the whole value twice in the answer)", () =>
    Effect.gen(function* () {
      const raw = (method: "POST" | "PUT", url: string, body: string) =>
        send(HttpClientRequest.make(method)(url).pipe(
          HttpClientRequest.bodyText(body, "application/json"),
          HttpClientRequest.setHeaders({ "x-api-key": KEY })
        ))
      const deep = "[".repeat(8000) + "]".repeat(8000)
      const cases: ReadonlyArray<readonly [string, string, string, ReadonlyArray<string | number>]> = [
        ["POST", "/posts", `{"title":"t","body":"x","status":${deep}}`, ["status"]],
        ["POST", "/posts", `{"title":"t","body":"x","metadata":${deep}}`, ["metadata"]],
        ["POST", "/posts", `{"title":"t","body":"x","tags":${deep}}`, ["tags", 0]],
        // A post's JSON (its `toc`, derived, is ignored whatever it holds: PostJsonRoundTrip.test.ts).
        ["PUT", "/posts/any", `{"title":"t","body":"x","updatedAtSource":null,"authors":${deep}}`, ["authors", 0]],
        ["POST", "/posts/import-url", `{"url":${deep}}`, ["url"]],
        ["POST", "/posts", JSON.stringify({ title: ["x".repeat(900_000)], body: "x" }), ["title"]]
      ]
      for (const [method, url, body, path] of cases) {
        const response = yield* raw(method as "POST" | "PUT", url, body)
        const text = yield* response.text
        assert.strictEqual(response.status, 400, `${method} ${url} ${path.join(".")}: ${text.slice(0, 300)}`)
        const error = JSON.parse(text)
        assert.strictEqual(error._tag, "HttpApiDecodeError")
        assert.deepStrictEqual(error.issues[0].path, path)
        for (const issue of error.issues) assert.isAtMost(issue.message.length, 160, issue.message)
        assert.include(error.message, "…")
        assert.isBelow(text.length, 1000)
      }
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("415 UnsupportedMediaType for a post body that is neither JSON nor markdown; charset UTF-8 and text/x-markdown are fine", () =>
    Effect.gen(function* () {
      const body = JSON.stringify(newPost({ title: "Sent as text" }))
      const sendAs = (method: "POST" | "PUT", url: string, text: string, contentType: string | undefined, headers: Record<string, string> = {}) => {
        const bytes = new TextEncoder().encode(text)
        return send(HttpClientRequest.make(method)(url).pipe(
          // Raw without a content type: the client then sends no Content-Type header.
          HttpClientRequest.setBody(HttpBody.raw(bytes, contentType === undefined ? { contentLength: bytes.length } : { contentType, contentLength: bytes.length })),
          HttpClientRequest.setHeaders({ "x-api-key": KEY, ...headers })
        ))
      }
      for (const contentType of ["text/plain", "text/plain;charset=UTF-8", "application/octet-stream", "application/xml", undefined, "application/json; charset=iso-8859-1"]) {
        const response = yield* sendAs("POST", "/posts", body, contentType)
        assert.strictEqual(response.status, 415, String(contentType))
        const error = yield* json(response)
        assert.strictEqual(error._tag, "UnsupportedMediaType")
        assert.deepStrictEqual(error.accepted, ["application/json", "text/markdown", "text/x-markdown"])
      }
      assert.deepStrictEqual((yield* json(yield* get("/posts", { "x-api-key": KEY }))).items, [])

      const created = yield* sendAs("POST", "/posts", body, "Application/JSON; charset=utf-8")
      assert.strictEqual(created.status, 201)
      assert.strictEqual((yield* json(created)).title, "Sent as text")
      const asText = yield* sendAs("PUT", "/posts/sent-as-text", "# Changed\n", "text/plain", { "if-match": "1" })
      assert.strictEqual(asText.status, 415)
      const legacy = yield* sendAs("PUT", "/posts/sent-as-text", "---\ntitle: Changed\n---\nNew body.\n", "text/x-markdown; charset=utf-8", { "if-match": "1" })
      assert.strictEqual(legacy.status, 200)
      assert.strictEqual((yield* json(legacy)).title, "Changed")
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("credentials come first: every write without a valid key is 401 whatever its Content-Type; 415 only for a valid key", () =>
    Effect.gen(function* () {
      assert.strictEqual((yield* postJson("/posts", newPost())).status, 201)
      const writes: ReadonlyArray<readonly ["POST" | "PUT" | "DELETE", string]> = [
        ["POST", "/posts"],
        ["PUT", "/posts/first-post"],
        ["DELETE", "/posts/first-post"],
        ["POST", "/posts/import"],
        ["POST", "/posts/import-url"]
      ]
      const write = (method: "POST" | "PUT" | "DELETE", url: string, contentType: string, headers: Record<string, string>) =>
        send(HttpClientRequest.make(method)(url).pipe(
          HttpClientRequest.bodyText("title = 'not sent as JSON'", contentType),
          HttpClientRequest.setHeaders({ "if-match": "1", ...headers })
        ))
      for (const [method, url] of writes) {
        for (const headers of [{}, { "x-api-key": "wrong" }, { authorization: "Bearer wrong" }]) {
          for (const contentType of ["text/plain", "application/xml", "application/json"]) {
            const response = yield* write(method, url, contentType, headers)
            const label = `${method} ${url} ${contentType} ${JSON.stringify(headers)}`
            assert.strictEqual(response.status, 401, label)
            assert.strictEqual((yield* json(response))._tag, "Unauthorized", label)
            // RFC 9110 §11.6.1: a 401 says how to authenticate.
            assert.strictEqual(response.headers["www-authenticate"], 'Bearer realm="inkwell"', label)
          }
        }
      }
      for (const [url, headers] of [["/posts/first-post", { "x-api-key": "wrong" }], ["/posts?status=draft", {}]] as const) {
        const read = yield* get(url, headers)
        assert.strictEqual(read.status, 401, url)
        assert.strictEqual(read.headers["www-authenticate"], 'Bearer realm="inkwell"', url)
      }
      for (const [method, url] of writes.slice(0, 2)) {
        for (const headers of [{ "x-api-key": KEY }, { authorization: `Bearer ${KEY}` }]) {
          const response = yield* write(method, url, "text/plain", headers)
          assert.strictEqual(response.status, 415, `${method} ${url}`)
          assert.strictEqual((yield* json(response))._tag, "UnsupportedMediaType")
        }
      }
      assert.strictEqual((yield* json(yield* get("/posts/first-post"))).version, 1)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("a write without a key is answered 401 before its body is read (the upload is never finished), over MAX_BODY_SIZE too", () =>
    Effect.gen(function* () {
      const port = yield* portOf
      // Declares `declared` bytes, sends 16 and waits: only an answer that needs no body can arrive.
      const answerTo = (method: string, path: string, contentType: string, declared: number, headers: Record<string, string> = {}) =>
        Effect.async<{ readonly status: number; readonly connection: string | undefined }, Error>((resume) => {
          const req = httpRequest(
            { host: "127.0.0.1", port, method, path, agent: false, headers: { "content-type": contentType, "content-length": String(declared), ...headers } },
            (res) => {
              res.resume()
              resume(Effect.succeed({ status: res.statusCode ?? 0, connection: res.headers["connection"] }))
              req.destroy()
            }
          )
          req.on("error", (error) => resume(Effect.fail(error)))
          req.write("{\"title\": \"unfin")
          return Effect.sync(() => req.destroy())
        })
      const statusOf = (method: string, path: string, contentType: string, declared: number, headers: Record<string, string> = {}) =>
        Effect.map(answerTo(method, path, contentType, declared, headers), (answer) => answer.status)
      const writes = [
        ["POST", "/posts", "text/plain"],
        ["POST", "/posts", "application/json"],
        ["PUT", "/posts/some-post", "application/octet-stream"],
        ["POST", "/posts/import", "application/x-ndjson"],
        ["POST", "/posts/import-url", "application/json"]
      ] as const
      // MAX_BODY_SIZE is 1 MiB here: at it, and over it (a 413 once the key is right, never before).
      for (const declared of [1 << 20, (1 << 20) + 1, 1 << 30]) {
        for (const [method, path, contentType] of writes) {
          for (const headers of [{}, { "x-api-key": "wrong" }]) {
            const label = `${method} ${path} ${contentType} ${declared} ${JSON.stringify(headers)}`
            assert.strictEqual(yield* statusOf(method, path, contentType, declared, headers), 401, label)
          }
        }
      }
      for (const [method, path] of [["POST", "/posts"], ["PUT", "/posts/some-post"], ["POST", "/posts/import-url"]] as const) {
        const answer = yield* answerTo(method, path, "application/json", (1 << 20) + 1, { "x-api-key": KEY })
        // Answered before the rest of the body (which never comes); this client asked to close
        // (node:http without an agent sends Connection: close). One that keeps the connection
        // may finish its upload: BodyLimit.test.ts.
        assert.deepStrictEqual(answer, { status: 413, connection: "close" }, `${method} ${path}`)
        const refused = yield* answerTo(method, path, "application/json", (1 << 20) + 1)
        assert.deepStrictEqual(refused, { status: 401, connection: "close" }, `${method} ${path} without a key`)
      }
      // A write that reads no body is refused too, before it runs: the post is still there.
      assert.strictEqual((yield* postJson("/posts", newPost({ title: "Kept" }))).status, 201)
      assert.deepStrictEqual(
        yield* answerTo("DELETE", "/posts/kept", "application/json", (1 << 20) + 1, { "x-api-key": KEY }),
        { status: 413, connection: "close" }
      )
      assert.strictEqual((yield* send(HttpClientRequest.get("/posts/kept"))).status, 200)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("a JSON body must be an object of post fields: a bare JSON string is 400 naming the body, never taken as markdown", () =>
    Effect.gen(function* () {
      const sendJson = (method: "POST" | "PUT", url: string, text: string) =>
        send(HttpClientRequest.make(method)(url).pipe(
          HttpClientRequest.bodyText(text, "application/json"),
          HttpClientRequest.setHeaders({ "x-api-key": KEY, "if-match": "1" })
        ))
      assert.strictEqual((yield* postJson("/posts", newPost())).status, 201)
      for (const [method, url] of [["POST", "/posts"], ["PUT", "/posts/first-post"]] as const) {
        for (const [text, got] of [['"hello"', "a string"], ['"---\\ntitle: Hello\\n---\\nhello"', "a string"], ["[]", "an array"], ["42", "a number"], ["null", "null"], ["", "an empty body"]] as const) {
          const response = yield* sendJson(method, url, text)
          assert.strictEqual(response.status, 400, `${method} ${text}`)
          const body = yield* json(response)
          assert.strictEqual(body._tag, "HttpApiDecodeError", JSON.stringify(body))
          assert.include(body.message, "the request body")
          assert.include(body.message, "expected an object")
          assert.include(body.message, got)
          assert.include(body.message, "text/markdown")
          assert.deepStrictEqual(body.issues.map((issue: { path: Array<string> }) => issue.path), [[]])
        }
      }
      const page = yield* json(yield* get("/posts", { "x-api-key": KEY }))
      assert.deepStrictEqual(page.items.map((p: { slug: string; version: number }) => [p.slug, p.version]), [["first-post", 1]])
      // The same text as markdown is a post.
      const markdown = yield* postMarkdown("/posts", "---\ntitle: Hello\n---\nhello")
      assert.strictEqual(markdown.status, 201)
      assert.strictEqual((yield* json(markdown)).title, "Hello")
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("400 for a body that is not JSON at all", () =>
    Effect.gen(function* () {
      const response = yield* send(
        HttpClientRequest.post("/posts").pipe(
          HttpClientRequest.bodyText("{not json", "application/json"),
          HttpClientRequest.setHeader("x-api-key", KEY)
        )
      )
      assert.strictEqual(response.status, 400)
      const body = yield* json(response)
      assert.strictEqual(body._tag, "BadRequest")
      // Says what is wrong and where, so the client can fix it.
      assert.match(body.message, /not valid JSON: .*position 1/)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("400 InvalidPost with the field when processing rejects the post", () =>
    Effect.gen(function* () {
      // No title anywhere: neither a field nor front matter.
      const response = yield* postJson("/posts", { body: "just text, no heading" })
      assert.strictEqual(response.status, 400)
      const body = yield* json(response)
      assert.strictEqual(body._tag, "InvalidPost")
      assert.strictEqual(body.field, "title")
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("409 SlugConflict when the slug is taken", () =>
    Effect.gen(function* () {
      assert.strictEqual((yield* postJson("/posts", newPost())).status, 201)
      const again = yield* postJson("/posts", newPost())
      assert.strictEqual(again.status, 409)
      assert.deepStrictEqual(yield* json(again), { _tag: "SlugConflict", slug: "first-post", message: 'a post with slug "first-post" already exists' })
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("PUT needs the current version: body version, If-Match, 409 when stale, 428 when absent", () =>
    Effect.gen(function* () {
      const created = yield* json(yield* postJson("/posts", newPost()))
      const updated = yield* putJson("/posts/first-post", newPost({ body: "changed", version: 1 }))
      assert.strictEqual(updated.status, 200)
      const v2 = yield* json(updated)
      assert.strictEqual(v2.version, 2)
      assert.strictEqual(v2.slug, "first-post")
      assert.notStrictEqual(v2.contentHash, created.contentHash)

      const stale = yield* putJson("/posts/first-post", newPost({ body: "again", version: 1 }))
      assert.strictEqual(stale.status, 409)
      assert.deepInclude(yield* json(stale), { _tag: "StaleVersion", expected: 1, actual: 2 })

      const viaEtag = yield* putJson("/posts/first-post", newPost({ body: "via etag" }), {
        "x-api-key": KEY,
        "if-match": updated.headers["etag"]!
      })
      assert.strictEqual(viaEtag.status, 200)
      assert.strictEqual((yield* json(viaEtag)).version, 3)

      const missing = yield* putJson("/posts/first-post", newPost({ body: "no version" }))
      assert.strictEqual(missing.status, 428)
      assert.strictEqual((yield* json(missing))._tag, "VersionRequired")

      // If-Match holds (the post is at 3): the body's version contradicting it is the 400.
      const disagree = yield* putJson("/posts/first-post", newPost({ version: 4 }), { "x-api-key": KEY, "if-match": "3" })
      assert.strictEqual(disagree.status, 400)

      const notFound = yield* putJson("/posts/nope", newPost({ version: 1 }))
      assert.strictEqual(notFound.status, 404)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("null is a field left out: a post read (GET), edited and sent back (PUT) is taken, its nulls included", () =>
    Effect.gen(function* () {
      const created = yield* postJson("/posts", newPost({ summary: null, publishedAt: null, tags: null, authors: null, slug: null }))
      assert.strictEqual(created.status, 201)
      const read = yield* json(yield* get("/posts/first-post"))
      assert.deepStrictEqual([read.summary, read.tags, read.updatedAtSource], [null, [], null])
      // What the post's JSON has of the input's fields, as it came, one of them edited.
      const { title, slug, body, tags, status, authors, summary, publishedAt, aliases, metadata, version } = read
      const edited = { title, slug, body: `${body}\n\nEdited.`, tags, status, authors, summary, publishedAt, aliases, metadata, version }
      const updated = yield* putJson("/posts/first-post", { ...edited, updatedAt: null })
      assert.strictEqual(updated.status, 200)
      const after = yield* json(updated)
      assert.deepStrictEqual([after.version, after.summary, after.publishedAt], [2, null, read.publishedAt])
      // Documented so: the OpenAPI document allows null for every optional field, not for `body`.
      const spec = yield* json(yield* get("/openapi.json"))
      const update = spec.components.schemas.UpdateInput.properties
      assert.deepInclude(update.summary.anyOf, { type: "null" })
      assert.deepInclude(update.publishedAt.anyOf, { type: "null" })
      assert.deepStrictEqual(update.body, { type: "string" })
      const nullBody = yield* postJson("/posts", newPost({ title: "No body", body: null }))
      assert.strictEqual(nullBody.status, 400)
      // A wrong value is one problem, not also "expected null".
      const wrong = yield* postJson("/posts", newPost({ title: "Wrong", summary: 42 }))
      assert.strictEqual((yield* json(wrong)).message, "summary: expected a string, got 42")
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("PUT that renames the post says where it went (Content-Location); one that keeps the slug does not", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost())
      const kept = yield* putJson("/posts/first-post", newPost({ body: "same slug", version: 1 }))
      assert.strictEqual(kept.status, 200)
      assert.isUndefined(kept.headers["content-location"])
      const renamed = yield* putJson("/posts/first-post", newPost({ slug: "日本語-ポスト", version: 2 }))
      assert.strictEqual(renamed.status, 200)
      const location = renamed.headers["content-location"]!
      assert.strictEqual(location, `/posts/${encodeURIComponent("日本語-ポスト")}`)
      assert.strictEqual((yield* get(location)).status, 200)
      const old = yield* get("/posts/first-post")
      assert.deepStrictEqual([old.status, old.headers["location"]], [301, location])
      const spec = yield* json(yield* get("/openapi.json"))
      assert.property(spec.paths["/posts/{slug}"].put.responses["200"].headers, "Content-Location")
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("a renamed post's old slug: 301 to it (GET, HEAD, query kept) when the caller may read it there, else 404; writes there 404", () =>
    movedPostAnswers.pipe(Effect.provide(testServer())))

  it.effect("the OpenAPI document names the create body PostInput, and both bodies' status is the enum the server holds to", () =>
    Effect.gen(function* () {
      const spec = yield* json(yield* get("/openapi.json"))
      // A named PostInput, beside a post's own JSON as GET gives it (PostJson).
      assert.deepStrictEqual(spec.paths["/posts"].post.requestBody.content["application/json"].schema, {
        anyOf: [{ $ref: "#/components/schemas/PostInput" }, { $ref: "#/components/schemas/PostJson" }]
      })
      const { PostInput, UpdateInput } = spec.components.schemas
      assert.strictEqual(PostInput.additionalProperties, false)
      for (const schema of [PostInput, UpdateInput]) {
        assert.deepInclude(schema.properties.status.anyOf, { type: "null" })
        const text = schema.properties.status.anyOf.find((member: { type: string }) => member.type === "string")
        assert.deepStrictEqual(text.enum, ["draft", "published"])
      }
      // Another status is a 400 naming the field, on create and on update; the two as processing reads them are taken.
      yield* postJson("/posts", newPost())
      for (const answer of [
        yield* postJson("/posts", newPost({ slug: "other", status: "bogus" })),
        yield* putJson("/posts/first-post", newPost({ status: "bogus", version: 1 }))
      ]) {
        assert.strictEqual(answer.status, 400)
        const body = yield* json(answer)
        assert.strictEqual(body._tag, "HttpApiDecodeError")
        assert.deepStrictEqual(body.issues.map((issue: { path: Array<string> }) => issue.path), [["status"]])
        assert.strictEqual(body.message, 'status: expected "draft" or "published", got "bogus"')
      }
      const spaced = yield* postJson("/posts", newPost({ slug: "spaced", status: " Draft " }))
      assert.strictEqual(spaced.status, 201)
      assert.strictEqual((yield* json(spaced)).status, "draft")
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("a read's 400s are the OpenAPI document's: a path that is not percent-encoded UTF-8 is a declared BadRequest", () =>
    Effect.gen(function* () {
      const spec = yield* json(yield* get("/openapi.json"))
      const declared = (operation: any, status: number): Array<string> => {
        const schema = operation.responses[String(status)]?.content?.["application/json"]?.schema ?? {}
        return (schema.anyOf ?? [schema]).map((member: { $ref?: string }) => member.$ref?.replace("#/components/schemas/", ""))
      }
      for (const [url, tag] of [["/posts/%ZZ", "BadRequest"], ["/posts/%C3", "BadRequest"], ["/posts/Not-A-Slug", "HttpApiDecodeError"]]) {
        const answer = yield* get(url!)
        assert.strictEqual(answer.status, 400, url)
        assert.strictEqual((yield* json(answer))._tag, tag, url)
        assert.include(declared(spec.paths["/posts/{slug}"].get, 400), tag, url)
      }
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("the old slug's 301 is in the OpenAPI document (with Location), and the typed client reads it as PostMoved", () =>
    Effect.gen(function* () {
      const spec = yield* json(yield* get("/openapi.json"))
      const answer = spec.paths["/posts/{slug}"].get.responses["301"]
      assert.property(answer.headers, "Location")
      assert.deepStrictEqual(answer.content["application/json"].schema, { $ref: "#/components/schemas/PostMoved" })
      assert.strictEqual((yield* postJson("/posts", newPost())).status, 201)
      assert.strictEqual((yield* putJson("/posts/first-post", newPost({ slug: "second-post", version: 1 }))).status, 200)
      const client = yield* HttpApiClient.make(InkwellApi)
      const moved = yield* Effect.flip(client.posts.get({ path: { slug: Slug.make("first-post") }, headers: {} }))
      assert.instanceOf(moved, PostMoved)
      assert.deepStrictEqual([moved.movedTo, moved.location], ["second-post", "/posts/second-post"])
      // A request line naming a host (as sent to a proxy) gets a path on this server, not that host.
      const absolute = yield* sendRaw(yield* portOf, { method: "GET", path: "http://elsewhere.example/posts/first-post", contentType: "text/plain", declared: true }, [])
      assert.deepStrictEqual([absolute.status, JSON.parse(absolute.body).location], [301, "/posts/second-post"])
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("PUT accepts markdown with If-Match and keeps the slug", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost())
      const response = yield* send(
        HttpClientRequest.put("/posts/first-post").pipe(
          HttpClientRequest.bodyText(MARKDOWN, "text/markdown"),
          HttpClientRequest.setHeaders({ "x-api-key": KEY, "if-match": "1" })
        )
      )
      assert.strictEqual(response.status, 200)
      const body = yield* json(response)
      assert.strictEqual(body.slug, "first-post")
      assert.strictEqual(body.title, "Hello from Markdown")
      assert.strictEqual(body.version, 2)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("DELETE: 204, then 404; 412 with a stale If-Match", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost())
      yield* putJson("/posts/first-post", newPost({ body: "v2", version: 1 }))
      const stale = yield* del("/posts/first-post", { "x-api-key": KEY, "if-match": '"v1-abc"' })
      assert.strictEqual(stale.status, 412)
      assert.strictEqual((yield* json(stale))._tag, "PreconditionFailed")
      const deleted = yield* del("/posts/first-post")
      assert.strictEqual(deleted.status, 204)
      assert.strictEqual((yield* get("/posts/first-post")).status, 404)
      assert.strictEqual((yield* del("/posts/first-post")).status, 404)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("If-Match with an ETag of a deleted post is 412 for the post re-created at its slug; so is a weak tag (never matches)", () =>
    Effect.gen(function* () {
      const old = yield* postJson("/posts", newPost({ slug: "reused", body: "the first post" }))
      const oldEtag = old.headers["etag"]!
      assert.strictEqual((yield* del("/posts/reused", { "x-api-key": KEY, "if-match": oldEtag })).status, 204)
      const fresh = yield* postJson("/posts", newPost({ slug: "reused", body: "the second post" }))
      const freshEtag = fresh.headers["etag"]!
      assert.match(oldEtag, /^"v1-/)
      assert.match(freshEtag, /^"v1-/)

      const overwrite = yield* putJson("/posts/reused", newPost({ slug: "reused", body: "lost" }), { "x-api-key": KEY, "if-match": oldEtag })
      assert.strictEqual(overwrite.status, 412)
      assert.deepInclude(yield* json(overwrite), { _tag: "PreconditionFailed", slug: "reused", etag: freshEtag })
      const remove = yield* del("/posts/reused", { "x-api-key": KEY, "if-match": oldEtag })
      assert.strictEqual(remove.status, 412)
      assert.strictEqual((yield* json(yield* get("/posts/reused"))).body, "the second post")

      const weak = yield* putJson("/posts/reused", newPost({ slug: "reused", body: "weak" }), { "x-api-key": KEY, "if-match": `W/${freshEtag}` })
      assert.strictEqual(weak.status, 412)
      assert.strictEqual((yield* json(weak))._tag, "PreconditionFailed")
      assert.strictEqual((yield* del("/posts/reused", { "x-api-key": KEY, "if-match": `W/${freshEtag}` })).status, 412)

      const edited = yield* putJson("/posts/reused", newPost({ slug: "reused", body: "edited" }), { "x-api-key": KEY, "if-match": freshEtag })
      assert.strictEqual(edited.status, 200)
      const bare = yield* del("/posts/reused", { "x-api-key": KEY, "if-match": "2" })
      assert.strictEqual(bare.status, 204)
    }).pipe(Effect.provide(testServer()))
  )

  for (const [name, server] of [["memory", testServer()], ["SQLite, encoded reads", sqliteTestServer]] as const) it.effect(`a post deleted and re-created with the same content has another ETag: its JSON differs (id, createdAt) (${name})`, () =>
    Effect.gen(function* () {
      const first = yield* postJson("/posts", newPost({ slug: "again" }))
      const firstEtag = first.headers["etag"]!
      const firstId = (yield* json(first)).id
      assert.strictEqual((yield* del("/posts/again")).status, 204)
      const second = yield* postJson("/posts", newPost({ slug: "again" }))
      const secondEtag = second.headers["etag"]!
      const secondPost = yield* json(second)
      assert.notStrictEqual(secondPost.id, firstId)
      assert.notStrictEqual(secondEtag, firstEtag)
      for (const { path, headers } of [{ path: "/posts/again", headers: {} }, { path: "/posts/again", headers: { "x-api-key": KEY } }]) {
        // A client holding the dead post's JSON is sent the new post's.
        const revalidated = yield* get(path, { ...headers, "if-none-match": firstEtag })
        assert.strictEqual(revalidated.status, 200)
        assert.strictEqual((yield* json(revalidated)).id, secondPost.id)
        assert.strictEqual(revalidated.headers["etag"], secondEtag)
        assert.strictEqual((yield* get(path, { ...headers, "if-none-match": secondEtag })).status, 304)
      }
      const overwrite = yield* putJson("/posts/again", newPost({ slug: "again", body: "lost" }), { "x-api-key": KEY, "if-match": firstEtag })
      assert.strictEqual(overwrite.status, 412)
      assert.deepInclude(yield* json(overwrite), { _tag: "PreconditionFailed", etag: secondEtag })
      assert.strictEqual((yield* del("/posts/again", { "x-api-key": KEY, "if-match": firstEtag })).status, 412)
      // A tag from before ETags named the post (no id part) is no post's now: 412, not 400.
      const older = firstEtag.replace(/-[0-9a-f]{8}"$/, "\"")
      assert.strictEqual((yield* del("/posts/again", { "x-api-key": KEY, "if-match": older })).status, 412)
      assert.strictEqual((yield* del("/posts/again", { "x-api-key": KEY, "if-match": secondEtag })).status, 204)
    }).pipe(Effect.provide(server))
  )

  it.effect("GET /posts: published only without a key, drafts with one, filters by tag", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost({ title: "Public one", tags: ["a"] }))
      yield* postJson("/posts", newPost({ title: "Public two", tags: ["b"] }))
      yield* postJson("/posts", newPost({ title: "Secret draft", status: "draft", tags: ["a"] }))

      const anonymous = yield* json(yield* get("/posts"))
      assert.deepStrictEqual(anonymous.items.map((p: { slug: string }) => p.slug).sort(), ["public-one", "public-two"])
      assert.isUndefined(anonymous.items[0].html, "a list shows summaries, not rendered html")

      const editor = yield* json(yield* get("/posts", { "x-api-key": KEY }))
      assert.strictEqual(editor.items.length, 3)
      const drafts = yield* json(yield* get("/posts?status=draft", { authorization: `Bearer ${KEY}` }))
      assert.deepStrictEqual(drafts.items.map((p: { slug: string }) => p.slug), ["secret-draft"])

      assert.strictEqual((yield* get("/posts?status=draft")).status, 401)
      assert.strictEqual((yield* get("/posts", { "x-api-key": "wrong" })).status, 401)
      assert.strictEqual((yield* get("/posts/secret-draft")).status, 404)
      assert.strictEqual((yield* get("/posts/secret-draft", { "x-api-key": KEY })).status, 200)

      const tagged = yield* json(yield* get("/posts?tag=a"))
      assert.deepStrictEqual(tagged.items.map((p: { slug: string }) => p.slug), ["public-one"])

      // A shared cache must neither hand a key's answer (a draft) to anyone else nor the public
      // answer to an editor: X-API-Key is not a header caches keep apart by themselves.
      for (const url of ["/posts", "/posts/public-one", "/posts/secret-draft", "/tags"]) {
        for (const headers of [{ "x-api-key": KEY }, { authorization: `Bearer ${KEY}` }]) {
          const keyed = yield* get(url, headers)
          assert.strictEqual(keyed.headers["cache-control"], "private", url)
          assert.include(keyed.headers["vary"], "x-api-key", url)
          assert.include(keyed.headers["vary"], "authorization", url)
        }
        const anonymousAnswer = yield* get(url)
        assert.include(anonymousAnswer.headers["vary"] ?? "", "x-api-key", url)
        assert.isUndefined(anonymousAnswer.headers["cache-control"], url)
      }
      const etag = (yield* get("/posts/public-one")).headers["etag"]!
      const notModified = yield* get("/posts/public-one", { "if-none-match": etag })
      assert.strictEqual(notModified.status, 304)
      assert.include(notModified.headers["vary"] ?? "", "authorization")
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("GET /posts on an empty store is an empty page", () =>
    Effect.gen(function* () {
      const response = yield* get("/posts")
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual(yield* json(response), { items: [], next: null })
      assert.deepStrictEqual(yield* json(yield* get("/tags")), { tags: [] })
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("If-Match with a version no post can have (0, beyond 2^53) is 400 BadRequest, not 500", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost())
      for (const ifMatch of ["99999999999999999999999", '"v99999999999999999999999-0123456789abcdef"', "0", '"v0-0123456789abcdef"']) {
        const put = yield* putJson("/posts/first-post", newPost({ body: "x" }), { "x-api-key": KEY, "if-match": ifMatch })
        assert.strictEqual(put.status, 400, `PUT If-Match: ${ifMatch}`)
        assert.strictEqual((yield* json(put))._tag, "BadRequest")
        const remove = yield* del("/posts/first-post", { "x-api-key": KEY, "if-match": ifMatch })
        assert.strictEqual(remove.status, 400, `DELETE If-Match: ${ifMatch}`)
      }
      assert.strictEqual((yield* json(yield* get("/posts/first-post"))).version, 1)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("If-Match: * (RFC 9110: the post exists): DELETE goes ahead, 404 when missing; PUT still needs a version (428)", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost())
      const star = { "x-api-key": KEY, "if-match": "*" }
      const noVersion = yield* putJson("/posts/first-post", newPost({ body: "star" }), star)
      assert.strictEqual(noVersion.status, 428)
      assert.strictEqual((yield* json(noVersion))._tag, "VersionRequired")
      const withVersion = yield* putJson("/posts/first-post", newPost({ body: "star", version: 1 }), star)
      assert.strictEqual(withVersion.status, 200)
      assert.strictEqual((yield* json(withVersion)).version, 2)
      assert.strictEqual((yield* del("/posts/first-post", star)).status, 204)
      assert.strictEqual((yield* del("/posts/first-post", star)).status, 404)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("If-Match lists several ETags (RFC 9110): the write goes ahead when the post is any of them, 412 when none", () =>
    Effect.gen(function* () {
      const v1 = (yield* postJson("/posts", newPost())).headers["etag"]!
      const v2 = (yield* putJson("/posts/first-post", newPost({ body: "v2", version: 1 }))).headers["etag"]!
      const withKey = (ifMatch: string) => ({ "x-api-key": KEY, "if-match": ifMatch })

      const stale = yield* putJson("/posts/first-post", newPost({ body: "stale" }), withKey(`${v1}, "v9-0123456789abcdef"`))
      assert.strictEqual(stale.status, 412)
      assert.strictEqual((yield* json(stale))._tag, "PreconditionFailed")

      const listed = yield* putJson("/posts/first-post", newPost({ body: "v3" }), withKey(`${v1}, ${v2}`))
      assert.strictEqual(listed.status, 200)
      const v3 = listed.headers["etag"]!
      assert.strictEqual((yield* json(listed)).version, 3)

      const disagree = yield* putJson("/posts/first-post", newPost({ body: "x", version: 5 }), withKey(`${v1}, ${v3}`))
      assert.strictEqual(disagree.status, 400)
      // A weak tag is passed over (it never matches); the strong ones decide.
      assert.strictEqual((yield* del("/posts/first-post", withKey(`W/${v3}, ${v1}`))).status, 412)

      assert.strictEqual((yield* del("/posts/first-post", withKey(`"2", ${v1}`))).status, 412)
      assert.strictEqual((yield* del("/posts/first-post", withKey(`W/${v3}, ${v1},${v3}`))).status, 204)
      assert.strictEqual((yield* del("/posts/first-post", withKey(`${v1}, ${v3}`))).status, 404)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("pagination: limit and cursor walk every post once; limit is capped at 100; bad bounds are 400", () =>
    Effect.gen(function* () {
      yield* Effect.forEach(
        Array.from({ length: 105 }, (_, i) => i),
        (i) => postJson("/posts", newPost({ title: `Post ${i}`, publishedAt: new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString() })),
        { concurrency: 8 }
      )
      const capped = yield* json(yield* get("/posts?limit=1000"))
      assert.strictEqual(capped.items.length, 100)
      assert.isString(capped.next)
      // However many digits: past 2^53 is more than 100 all the same.
      for (const limit of ["99999999999999999999", "9".repeat(400), "000101"]) {
        const huge = yield* get(`/posts?limit=${limit}`)
        assert.strictEqual(huge.status, 200, limit)
        assert.strictEqual((yield* json(huge)).items.length, 100, limit)
      }

      const seen: Array<string> = []
      let url: string | null = "/posts?limit=40"
      while (url !== null) {
        const page: { items: Array<{ slug: string }>; next: string | null } = yield* json(yield* get(url))
        seen.push(...page.items.map((p) => p.slug))
        url = page.next === null ? null : `/posts?limit=40&cursor=${encodeURIComponent(page.next)}`
      }
      assert.strictEqual(seen.length, 105)
      assert.strictEqual(new Set(seen).size, 105)
      assert.strictEqual(seen[0], "post-104", "newest first")

      const offset = yield* json(yield* get("/posts?limit=2&offset=1"))
      assert.deepStrictEqual(offset.items.map((p: { slug: string }) => p.slug), ["post-103", "post-102"])

      for (const bad of ["limit=0", "limit=-1", "limit=abc", "offset=-1", "status=archived"]) {
        const response = yield* get(`/posts?${bad}`)
        assert.strictEqual(response.status, 400, bad)
      }
      // Both a cursor and an offset: neither may be dropped silently.
      const both = yield* get(`/posts?limit=2&cursor=${encodeURIComponent(capped.next)}&offset=1`)
      assert.strictEqual(both.status, 400)
      const bothBody = yield* json(both)
      assert.strictEqual(bothBody._tag, "HttpApiDecodeError")
      assert.deepStrictEqual(bothBody.issues[0].path, ["offset"])
      // Not an empty last page: that would read as the end of the list.
      // An id with a NUL is no id (was: 200 on SQLite, a 500 from PostgreSQL), nor one with a lone surrogate.
      const withId = (id: string) => Buffer.from(JSON.stringify([0, id])).toString("base64url")
      for (const cursor of ["garbage", "", capped.next.slice(0, -3), withId("a\u0000b"), withId("a\uD800")]) {
        for (const headers of [{}, { "x-api-key": KEY }]) {
          const response = yield* get(`/posts?cursor=${encodeURIComponent(cursor)}`, headers)
          assert.strictEqual(response.status, 400, cursor)
          const body = yield* json(response)
          assert.strictEqual(body._tag, "HttpApiDecodeError")
          assert.deepStrictEqual(body.issues[0].path, ["cursor"])
        }
      }
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("GET /tags counts published posts, every post with a key", () =>
    Effect.gen(function* () {
      yield* postJson("/posts", newPost({ title: "One", tags: ["effect", "rust"] }))
      yield* postJson("/posts", newPost({ title: "Two", tags: ["effect"] }))
      yield* postJson("/posts", newPost({ title: "Three", tags: ["rust"], status: "draft" }))
      const response = yield* get("/tags")
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual(yield* json(response), {
        tags: [
          { tag: "effect", count: 2 },
          { tag: "rust", count: 1 }
        ]
      })
      const editor = yield* json(yield* get("/tags", { "x-api-key": KEY }))
      assert.deepInclude(editor.tags, { tag: "rust", count: 2 })
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("/health, /ready, unknown routes", () =>
    Effect.gen(function* () {
      const health = yield* get("/health")
      assert.strictEqual(health.status, 200)
      assert.deepStrictEqual(yield* json(health), { status: "ok" })
      const ready = yield* get("/ready")
      assert.strictEqual(ready.status, 200)
      assert.deepStrictEqual(yield* json(ready), { status: "ready" })
      const unknown = yield* get("/nope")
      assert.strictEqual(unknown.status, 404)
      assert.strictEqual((yield* json(unknown))._tag, "RouteNotFound")
      // A path that does not decode is the request's fault: 400, not a route that does not exist.
      for (const path of ["/posts/%ZZ", "/posts/%E6%97", "/posts/caf%"]) {
        const malformed = yield* get(path)
        assert.strictEqual(malformed.status, 400, path)
        assert.strictEqual((yield* json(malformed))._tag, "BadRequest", path)
      }
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("/openapi.json documents every endpoint and the API-key security schemes; /docs serves the UI", () =>
    Effect.gen(function* () {
      const spec = yield* json(yield* get("/openapi.json"))
      assert.strictEqual(spec.info.title, "Inkwell")
      for (const path of ["/posts", "/posts/{slug}", "/tags", "/health", "/ready"]) {
        assert.property(spec.paths, path)
      }
      assert.deepInclude(Object.values(spec.components.securitySchemes), { type: "apiKey", name: "x-api-key", in: "header", description: "An API key from INKWELL_API_KEYS" })
      assert.isTrue(Object.values(spec.components.securitySchemes).some((s: any) => s.type === "http" && s.scheme === "bearer"))
      assert.isNotEmpty(spec.paths["/posts"].post.security)
      // Reads: anonymous, or a key (which shows drafts), so Swagger's "Try it out" can send one.
      for (const read of [spec.paths["/posts"].get, spec.paths["/posts/{slug}"].get, spec.paths["/tags"].get]) {
        assert.deepStrictEqual(read.security, [{}, { apiKey: [] }, { bearer: [] }], read.summary)
        for (const scheme of ["apiKey", "bearer"]) assert.property(spec.components.securitySchemes, scheme)
      }
      assert.isEmpty(spec.paths["/health"].get.security)
      assert.property(spec.paths["/posts"].post.requestBody.content, "text/markdown")
      assert.property(spec.paths["/posts"].post.requestBody.content, "application/json")
      assert.property(spec.paths["/posts"].post.responses, "413")
      assert.property(spec.paths["/posts"].post.responses, "415")
      assert.property(spec.paths["/posts/{slug}"].put.responses, "415")
      const writes = [spec.paths["/posts"].post, spec.paths["/posts/{slug}"].put, spec.paths["/posts/{slug}"].delete, spec.paths["/posts/import"].post, spec.paths["/posts/import-url"].post]
      for (const write of writes) {
        assert.property(write.responses, "401", write.summary)
        assert.isNotEmpty(write.security, write.summary)
      }
      assert.hasAllKeys(spec.paths["/posts"].post.responses["201"].headers, ["Location", "ETag", "X-Request-Id"])
      assert.property(spec.paths["/posts/{slug}"].get.responses["200"].headers, "ETag")
      assert.property(spec.paths["/posts/{slug}"].put.responses["200"].headers, "ETag")
      // What the server does, documented: a 304 carries the ETag; text/x-markdown is taken as markdown;
      // limit and offset are integers with bounds, not any "string to be decoded into a number".
      assert.property(spec.paths["/posts/{slug}"].get.responses["304"].headers, "ETag")
      assert.property(spec.paths["/posts"].post.requestBody.content, "text/x-markdown")
      assert.property(spec.paths["/posts/{slug}"].put.requestBody.content, "text/x-markdown")
      const listParams = spec.paths["/posts"].get.parameters
      assert.include(listParams.find((p: any) => p.name === "limit").schema.description, "from 1")
      assert.include(listParams.find((p: any) => p.name === "offset").schema.description, "from 0")
      const bulk = spec.paths["/posts/import"].post
      assert.property(bulk.requestBody.content, "application/x-ndjson")
      assert.notProperty(bulk.responses, "413", "MAX_BODY_SIZE does not apply to the import")
      assert.property(spec.paths["/posts/import-url"].post.responses, "413")
      // A URL on the server's own network (FEED_ALLOW_PRIVATE unset).
      assert.include(JSON.stringify(spec.paths["/posts/import-url"].post.responses["422"]), "UrlRefused")
      const docs = yield* get("/docs")
      assert.strictEqual(docs.status, 200)
      assert.include(yield* docs.text, "swagger-ui")
    }).pipe(Effect.provide(testServer()))
  )
  it.effect("a post with the longest slug allowed (200 characters) can be read, updated and deleted", () =>
    Effect.gen(function* () {
      const slug = `long-${"x".repeat(195)}`
      const created = yield* postJson("/posts", newPost({ slug }))
      assert.strictEqual(created.status, 201)
      const read = yield* get(`/posts/${slug}`)
      assert.strictEqual(read.status, 200)
      assert.strictEqual((yield* json(read)).slug, slug)
      const updated = yield* putJson(`/posts/${slug}`, { ...newPost({ slug, title: "Edited" }), version: 1 })
      assert.strictEqual(updated.status, 200)
      assert.strictEqual((yield* del(`/posts/${slug}`, { "x-api-key": KEY, "if-match": updated.headers["etag"]! })).status, 204)
      assert.strictEqual((yield* get(`/posts/${slug}`)).status, 404)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("a post with a non-Latin slug: 201 with a percent-encoded Location that reads it back", () =>
    Effect.gen(function* () {
      const created = yield* postJson("/posts", newPost({ title: "日本語のテスト", slug: undefined }))
      assert.strictEqual(created.status, 201)
      const body = yield* json(created)
      const location = created.headers["location"]!
      assert.strictEqual(location, `/posts/${encodeURIComponent(body.slug)}`)
      assert.match(location, /^[\x21-\x7e]+$/)
      const read = yield* get(location)
      assert.strictEqual(read.status, 200)
      assert.strictEqual((yield* json(read)).title, "日本語のテスト")
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("a slug in the URL is read in NFC, as slugs are stored: a combining accent is the same post to every method (was: GET and DELETE 404, create-only PUT 412)", () =>
    Effect.gen(function* () {
      const nfd = `/posts/${encodeURIComponent("cafe\u0301-au-lait")}`
      const created = yield* postJson("/posts", newPost({ slug: "café-au-lait" }))
      assert.strictEqual(created.status, 201)
      const read = yield* get(nfd)
      assert.strictEqual(read.status, 200)
      assert.strictEqual((yield* json(read)).slug, "café-au-lait")
      assert.strictEqual(read.headers["etag"], created.headers["etag"])
      const updated = yield* putJson(nfd, newPost({ body: "Edited.", version: 1 }))
      assert.strictEqual(updated.status, 200)
      assert.strictEqual((yield* json(updated)).slug, "café-au-lait")
      assert.isUndefined(updated.headers["content-location"], "not a rename")
      assert.strictEqual((yield* del(nfd)).status, 204)
      assert.strictEqual((yield* get("/posts/café-au-lait")).status, 404)
      // Created at the slug's NFC, its body's slug as the URL's in another spelling.
      const again = yield* putJson(nfd, newPost({ slug: "cafe\u0301-au-lait" }), { "x-api-key": KEY, "if-none-match": "*" })
      assert.strictEqual(again.status, 201)
      assert.strictEqual(again.headers["location"], `/posts/${encodeURIComponent("café-au-lait")}`)
      assert.strictEqual((yield* get("/posts/café-au-lait")).status, 200)
    }).pipe(Effect.provide(testServer()))
  )
})
