/**
 * `POST /posts/import` (NDJSON body, streamed) and `POST /posts/import-url` on a real server,
 * composed like App.AppLive: the repository `Posts` writes to is also among the server's layers
 * (the import endpoints use it directly).
 */
import { HttpBody, HttpClientRequest } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { mkdtempSync, rmSync } from "node:fs"
import { connect } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import Sqlite from "better-sqlite3"
import { ConfigProvider, Deferred, type Duration, Effect, Exit, Fiber, Layer, Logger, Option, Queue, Stream } from "effect"
import { ImportFeedsLive, postsWith } from "../../src/App.js"
import { ApiKeys } from "../../src/Http/ApiKeys.js"
import { ResponseCache } from "../../src/Http/ResponseCache.js"
import { requestMiddleware } from "../../src/Http/Middleware.js"
import * as Server from "../../src/Http/Server.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { Posts } from "../../src/Posts/Posts.js"
import { PostProcessor } from "../../src/Processing/PostProcessor.js"
import { testServer as feedServer } from "../Clients/server.js"
import { rssAtFeedXml } from "../Sources/harness.js"
import { get, json, KEY, newPost, portOf, postJson, send, testServer } from "./harness.js"
import { sqliteStack } from "../Import/harness.js"

/**
 * A server over `repository`, which is also provided directly (one instance: layers are memoized
 * by reference). The feeds are served on 127.0.0.1: FEED_ALLOW_PRIVATE unless `env` says otherwise.
 */
const importServer = <A = never, E = never>(
  repository: Layer.Layer<PostRepository> = MemoryPostRepository.layer,
  env: Record<string, string> = {},
  maxBodySize = 1024 * 1024,
  requestTimeout: Duration.DurationInput = "30 seconds",
  /** Provided to the server over its `Posts`, and kept in its output: a `ResponseCache`. */
  beside: Layer.Layer<A, E, Posts> = Layer.empty as unknown as Layer.Layer<A, E, Posts>
) =>
  Server.serve(requestMiddleware({ requestTimeout, maxBodySize, retryAfterSeconds: 1 })).pipe(
    Layer.provideMerge(beside),
    Layer.provide(postsWith(repository)),
    Layer.provide(repository),
    Layer.provide(ApiKeys.layer([KEY])),
    Layer.provide(ImportFeedsLive),
    Layer.provideMerge(NodeHttpServer.layerTest),
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries({ FEED_RETRIES: "0", FEED_ALLOW_PRIVATE: "true", ...env })))))
  )

const line = (n: number, extra: Record<string, unknown> = {}) =>
  `${JSON.stringify({ title: `Post ${n}`, slug: `post-${n}`, body: `# Post ${n}\n\nBody ${n}.`, status: "published", ...extra })}\n`

const ndjson = (body: string | Stream.Stream<Uint8Array>, query = "", headers: Record<string, string> = { "x-api-key": KEY }) =>
  send(
    HttpClientRequest.post(`/posts/import${query}`).pipe(
      typeof body === "string"
        ? HttpClientRequest.bodyText(body, "application/x-ndjson")
        : HttpClientRequest.bodyStream(body, { contentType: "application/x-ndjson" }),
      HttpClientRequest.setHeaders(headers)
    )
  )

const encoder = new TextEncoder()

/** Every post and tag row of a SQLite file, read on a connection of its own. */
const rowsOf = (file: string) => {
  const db = new Sqlite(file, { readonly: true, fileMustExist: true })
  try {
    return [db.prepare("SELECT * FROM posts ORDER BY id").all(), db.prepare("SELECT * FROM post_tags ORDER BY post_id, tag").all()]
  } finally {
    db.close()
  }
}

describe("POST /posts/import?dryRun=true on SQLite", () => {
  it.scoped("answers what the import would do (a slug stored by another source included) and writes nothing", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "inkwell-dry-http-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const file = join(dir, "blog.db")
      const context = yield* Layer.build(importServer(Layer.orDie(sqliteStack(`sqlite:${file}`))))
      yield* Effect.gen(function* () {
        assert.strictEqual((yield* json(yield* ndjson(line(1, { source: "elsewhere" }) + line(2)))).imported, 2)
        const before = rowsOf(file)
        const body = line(1) + line(2) + line(3)
        const counts = (s: any) => [s.imported, s.unchanged, s.skipped, s.failed]
        const dry = yield* json(yield* ndjson(body, "?dryRun=true"))
        assert.deepStrictEqual([dry.dryRun, dry.databaseChecked, dry.valid], [true, true, 1])
        assert.deepStrictEqual(counts(dry), [1, 1, 0, 1])
        assert.deepStrictEqual(dry.failures, [{
          source: "request:1",
          reason: `slug "post-1" belongs to a post from another source, "elsewhere" (?onConflict=fail)`
        }])
        const skipping = yield* json(yield* ndjson(body, "?dryRun=true&onConflict=skip"))
        assert.deepStrictEqual(counts(skipping), [1, 1, 1, 0])
        assert.deepStrictEqual(rowsOf(file), before, "nothing written")
        assert.strictEqual((yield* get("/posts/post-3")).status, 404)

        const real = yield* json(yield* ndjson(body))
        assert.deepStrictEqual([real.dryRun, ...counts(real)], [false, ...counts(dry)])
        assert.deepStrictEqual(real.failures, dry.failures)
        assert.strictEqual((yield* get("/posts/post-3")).status, 200)
      }).pipe(Effect.provide(context))
    })
  )
})

describe("POST /posts/import", () => {
  it.effect("401 without an API key, and nothing is read into the store", () =>
    Effect.gen(function* () {
      const response = yield* ndjson(line(1), "", {})
      assert.strictEqual(response.status, 401)
      assert.strictEqual((yield* json(response))._tag, "Unauthorized")
      assert.strictEqual((yield* get("/posts/post-1")).status, 404)
    }).pipe(Effect.provide(importServer()))
  )

  it.effect("a body that is not NDJSON by its Content-Type is 415 naming the types taken (was: read as NDJSON, 200 with failures); NDJSON's names and none are taken", () =>
    Effect.gen(function* () {
      const upload = (body: string, contentType: string | undefined, headers: Record<string, string> = { "x-api-key": KEY }) =>
        send(HttpClientRequest.post("/posts/import").pipe(
          contentType === undefined
            ? HttpClientRequest.setBody(HttpBody.raw(encoder.encode(body), { contentLength: encoder.encode(body).length }))
            : HttpClientRequest.bodyText(body, contentType),
          HttpClientRequest.setHeaders(headers)
        ))
      const ACCEPTED = ["application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines"]
      for (const [body, contentType] of [
        [JSON.stringify([{ title: "Array", body: "x" }]), "application/json"],
        ["---\ntitle: Markdown\n---\nText.", "text/markdown"],
        [line(1), "application/x-www-form-urlencoded"],
        [line(1), "text/plain"],
        [line(1), "application/x-ndjson; charset=iso-8859-1"]
      ] as const) {
        const response = yield* upload(body, contentType)
        assert.strictEqual(response.status, 415, contentType)
        const refused = yield* json(response)
        assert.strictEqual(refused._tag, "UnsupportedMediaType", contentType)
        assert.deepStrictEqual(refused.accepted, ACCEPTED, contentType)
        assert.include(refused.message, contentType.includes("iso-8859-1") ? "charset iso-8859-1" : `Content-Type ${contentType}`)
      }
      // curl --data-binary's default type: the 415 says how to send NDJSON with it.
      const form = yield* json(yield* upload(line(1), "application/x-www-form-urlencoded"))
      assert.include(form.message, "-H 'Content-Type: application/x-ndjson'")
      // Without a key it is 401 whatever the type: nothing answers a write before ApiKeyAuth.
      assert.strictEqual((yield* upload(line(1), "application/json", {})).status, 401)
      assert.strictEqual((yield* get("/posts/post-1")).status, 404, "nothing was imported")
      // NDJSON under each of its names, in UTF-8, or with no Content-Type at all, is imported.
      const cases = [...ACCEPTED, "Application/X-NDJSON; charset=utf-8", undefined]
      for (const [i, contentType] of cases.entries()) {
        const response = yield* upload(line(i + 1), contentType)
        assert.strictEqual(response.status, 200, String(contentType))
        assert.strictEqual((yield* json(response)).imported, 1, String(contentType))
      }
      // The OpenAPI document lists the types the endpoint takes, and its 415.
      const operation = (yield* json(yield* get("/openapi.json"))).paths["/posts/import"].post
      assert.deepStrictEqual(Object.keys(operation.requestBody.content), ACCEPTED)
      assert.isDefined(operation.responses["415"])
    }).pipe(Effect.provide(importServer())))

  it.effect("a line nested 3,000 deep, or with a key twice, fails alone, named; the others are imported (was: the run failed; the key's last value stored)", () =>
    Effect.gen(function* () {
      const deep = "[".repeat(3000) + "]".repeat(3000)
      const body = line(1) + `{"title":"Deep","body":"x","tags":${deep}}\n` +
        `{"title":"Twice","slug":"twice","body":"x","status":"draft","status":"published"}\n` + line(4)
      const summary = yield* json(yield* ndjson(body))
      assert.deepStrictEqual([summary.status, summary.imported, summary.failed], ["completed", 2, 2], JSON.stringify(summary.failures))
      assert.deepStrictEqual(summary.failures, [
        { source: "request:2", reason: `tags[0]: expected a string, got ${"[".repeat(99)}…` },
        { source: "request:3", reason: "status: this key is in the record more than once; give each field once" }
      ])
      for (const n of [1, 4]) assert.strictEqual((yield* get(`/posts/post-${n}`)).status, 200)
      assert.strictEqual((yield* get("/posts/twice")).status, 404)
    }).pipe(Effect.provide(importServer()))
  )

  it.effect("imports the good lines, reports the bad one as request:<line>; a re-upload is unchanged", () =>
    Effect.gen(function* () {
      const body = line(1) + line(2) + "{not json\n" + line(4)
      const response = yield* ndjson(body)
      assert.strictEqual(response.status, 200)
      const summary = yield* json(response)
      assert.strictEqual(summary.status, "completed")
      assert.strictEqual(summary.imported, 3)
      assert.strictEqual(summary.failed, 1)
      assert.strictEqual(summary.failures[0].source, "request:3")
      assert.include(summary.failures[0].reason, "invalid JSON")
      for (const n of [1, 2, 4]) {
        const read = yield* get(`/posts/post-${n}`)
        assert.strictEqual(read.status, 200)
        assert.strictEqual((yield* json(read)).title, `Post ${n}`)
      }

      const again = yield* json(yield* ndjson(body))
      assert.strictEqual(again.unchanged, 3)
      assert.strictEqual(again.imported, 0)
      assert.strictEqual(again.failed, 1)
    }).pipe(Effect.provide(importServer()))
  )

  it.effect("posts without slug or source: a second, unrelated upload adds its posts and never moves the first one's", () =>
    Effect.gen(function* () {
      const untitled = (title: string) => `${JSON.stringify({ title, body: `About ${title}.`, status: "published" })}\n`
      const first = yield* json(yield* ndjson(untitled("Alpha Upload") + untitled("Gamma Upload")))
      assert.deepStrictEqual([first.imported, first.failed], [2, 0])
      const second = yield* json(yield* ndjson(untitled("Beta Upload") + untitled("Delta Upload")))
      assert.deepStrictEqual([second.imported, second.updated, second.moves], [2, 0, []])
      for (const slug of ["alpha-upload", "gamma-upload", "beta-upload", "delta-upload"]) {
        assert.strictEqual((yield* get(`/posts/${slug}`)).status, 200, slug)
      }
      // Still idempotent: uploading the first body again changes nothing.
      const again = yield* json(yield* ndjson(untitled("Alpha Upload") + untitled("Gamma Upload")))
      assert.deepStrictEqual([again.imported, again.updated, again.unchanged], [0, 0, 2])
    }).pipe(Effect.provide(importServer()))
  )

  it.effect("a line that is not UTF-8 is one failure naming it; the lines before and after it are imported", () =>
    Effect.gen(function* () {
      const bad = Buffer.from(line(150).replace("Body 150", "Body \u0000"), "utf8")
      bad[bad.indexOf(0)] = 0xff
      const body = Buffer.concat([
        Buffer.from(Array.from({ length: 149 }, (_, i) => line(i + 1)).join("")),
        bad,
        Buffer.from(Array.from({ length: 150 }, (_, i) => line(i + 151)).join(""))
      ])
      const response = yield* ndjson(Stream.make(new Uint8Array(body)))
      assert.strictEqual(response.status, 200)
      const summary = yield* json(response)
      assert.strictEqual(summary.imported, 299)
      assert.strictEqual(summary.failed, 1)
      assert.strictEqual(summary.failures[0].source, "request:150")
      assert.match(summary.failures[0].reason, /^invalid UTF-8 at byte offset \d+$/)
      for (const n of [1, 149, 151, 300]) assert.strictEqual((yield* get(`/posts/post-${n}`)).status, 200)
    }).pipe(Effect.provide(importServer()))
  )

  // Live clock: the scenario is a client slower than the deadline, on a real socket.
  it.live("an import past IMPORT_TIMEOUT still answers its summary (timed-out) on the open connection", () =>
    Effect.gen(function* () {
      const slowClient = Stream.concat(
        Stream.make(encoder.encode(line(1) + line(2))),
        Stream.fromEffect(Effect.as(Effect.sleep("1 second"), encoder.encode(line(3))))
      )
      const response = yield* ndjson(slowClient)
      assert.strictEqual(response.status, 200)
      assert.strictEqual((yield* json(response)).status, "timed-out")
    }).pipe(Effect.provide(importServer(MemoryPostRepository.layer, { IMPORT_TIMEOUT: "200 millis" }))), { timeout: 20_000 })

  it.effect("MAX_BODY_SIZE does not apply to a bulk import, which streams; it still does to a single post", () =>
    Effect.gen(function* () {
      const body = Array.from({ length: 40 }, (_, i) => line(i + 1)).join("")
      assert.isAbove(body.length, 2048)
      const summary = yield* json(yield* ndjson(body))
      assert.strictEqual(summary.imported, 40)
      const big = yield* postJson("/posts", { title: "Big", body: "x".repeat(4096) })
      assert.strictEqual(big.status, 413)
    }).pipe(Effect.provide(importServer(MemoryPostRepository.layer, {}, 2048)))
  )

  it.effect("MAX_BODY_SIZE does not apply at the other URLs the router routes to the import (/posts/import/, ;onConflict=fail, //)", () =>
    Effect.gen(function* () {
      const body = Array.from({ length: 40 }, (_, i) => line(i + 1)).join("")
      assert.isAbove(body.length, 2048)
      // The router reads what follows a `;` as the query: a parameter the import takes.
      for (const url of ["/posts/import/?dryRun=true", "//posts/import?dryRun=true", "/posts/import;onConflict=fail"]) {
        const response = yield* send(
          HttpClientRequest.post(url).pipe(
            HttpClientRequest.bodyText(body, "application/x-ndjson"),
            HttpClientRequest.setHeaders({ "x-api-key": KEY })
          )
        )
        assert.strictEqual(response.status, 200, url)
        assert.strictEqual((yield* json(response)).failed, 0, url)
      }
      assert.strictEqual((yield* get("/posts/post-40")).status, 200)
    }).pipe(Effect.provide(importServer(MemoryPostRepository.layer, {}, 2048)))
  )

  it.live("REQUEST_TIMEOUT does not apply at /posts/import/ either: an upload open past it, that keeps sending, is imported", () =>
    Effect.gen(function* () {
      // The timeout is a Node timer (Middleware.timeout), not the Clock's: real time it is. A
      // line every 100 ms, 600 ms in all: past REQUEST_TIMEOUT, never silent for it (that ends
      // the import: ServerTimeouts.test.ts).
      const slowClient = Stream.concat(
        Stream.make(encoder.encode(line(1) + line(2))),
        Stream.range(3, 8).pipe(Stream.mapEffect((n) => Effect.as(Effect.sleep("100 millis"), encoder.encode(line(n)))))
      )
      const response = yield* send(
        HttpClientRequest.post("/posts/import/").pipe(
          HttpClientRequest.bodyStream(slowClient, { contentType: "application/x-ndjson" }),
          HttpClientRequest.setHeaders({ "x-api-key": KEY })
        )
      )
      assert.strictEqual(response.status, 200)
      assert.strictEqual((yield* json(response)).imported, 8)
    }).pipe(Effect.provide(importServer(MemoryPostRepository.layer, {}, 1024 * 1024, "400 millis"))), { timeout: 20_000 })

  it.effect("?onConflict=suffix stores a post whose slug another source holds as slug-2; a bad value is 400", () =>
    Effect.gen(function* () {
      assert.strictEqual((yield* postJson("/posts", newPost({ slug: "post-1" }))).status, 201)
      const failing = yield* json(yield* ndjson(line(1)))
      assert.strictEqual(failing.failed, 1)
      assert.strictEqual(failing.imported, 0)
      const suffixed = yield* json(yield* ndjson(line(1), "?onConflict=suffix"))
      assert.strictEqual(suffixed.imported, 1)
      assert.strictEqual(suffixed.renamed, 1)
      assert.strictEqual((yield* json(yield* get("/posts/post-1-2"))).title, "Post 1")
      assert.strictEqual((yield* ndjson(line(1), "?onConflict=overwrite")).status, 400)
    }).pipe(Effect.provide(importServer()))
  )

  it.effect("IMPORT_ON_CONFLICT is the default of ?onConflict; a conflict's reason names the parameter, not the CLI's flag", () =>
    Effect.gen(function* () {
      assert.strictEqual((yield* postJson("/posts", newPost({ slug: "post-1" }))).status, 201)
      const failing = yield* json(yield* ndjson(line(1), "?onConflict=fail"))
      assert.strictEqual(failing.failed, 1)
      assert.include(failing.failures[0].reason, `slug "post-1" belongs to a post from another source`)
      assert.include(failing.failures[0].reason, "(?onConflict=fail)")
      assert.notInclude(failing.failures[0].reason, "--on-conflict")
      const suffixed = yield* json(yield* ndjson(line(1)))
      assert.strictEqual(suffixed.imported, 1)
      assert.strictEqual(suffixed.renamed, 1)
      assert.strictEqual((yield* json(yield* get("/posts/post-1-2"))).title, "Post 1")
    }).pipe(Effect.provide(importServer(MemoryPostRepository.layer, { IMPORT_ON_CONFLICT: "suffix" })))
  )

  it.scoped("streams the body: the first batch is stored while the upload is still open", () =>
    Effect.gen(function* () {
      const written = yield* Queue.unbounded<number>()
      // Announces every batch the pipeline writes.
      const announcing = Layer.effect(
        PostRepository,
        Effect.map(PostRepository, (repository) => ({
          ...repository,
          upsertMany: (posts, options) => Effect.tap(repository.upsertMany(posts, options), () => Queue.offer(written, posts.length))
        }))
      ).pipe(Layer.provide(MemoryPostRepository.layer))
      const context = yield* Layer.build(importServer(announcing, { IMPORT_BATCH_SIZE: "3" }))
      yield* Effect.gen(function* () {
        const release = yield* Deferred.make<void>()
        const body = Stream.concat(
          Stream.make(encoder.encode(line(1) + line(2) + line(3))),
          Stream.fromEffect(Deferred.await(release)).pipe(Stream.as(encoder.encode(line(4))))
        )
        const upload = yield* Effect.fork(Effect.flatMap(ndjson(body), json))
        assert.strictEqual(yield* Queue.take(written), 3)
        assert.strictEqual((yield* get("/posts/post-3")).status, 200)
        assert.isTrue(Option.isNone(yield* Fiber.poll(upload)), "the response came before the body ended")
        yield* Deferred.succeed(release, undefined)
        const summary = yield* Fiber.join(upload)
        assert.strictEqual(summary.imported, 4)
        assert.strictEqual((yield* get("/posts/post-4")).status, 200)
      }).pipe(Effect.provide(context))
    })
  )

  it.live("a client that leaves mid-upload: the complete lines it sent are written, and one warning says what the import committed", () =>
    Effect.gen(function* () {
      const written = yield* Queue.unbounded<number>()
      const announcing = Layer.effect(
        PostRepository,
        Effect.map(PostRepository, (repository) => ({
          ...repository,
          upsertMany: (posts, options) => Effect.tap(repository.upsertMany(posts, options), () => Queue.offer(written, posts.length))
        }))
      ).pipe(Layer.provide(MemoryPostRepository.layer))
      const warned = yield* Deferred.make<ReadonlyArray<string>>()
      const logged: Array<string> = []
      const logger = Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ logLevel, message }) => {
          const text = `${logLevel.label} ${String(message)}`
          logged.push(text)
          if (text.includes("POST /posts/import 499")) Deferred.unsafeDone(warned, Exit.succeed([...logged]))
        })
      )
      const context = yield* Layer.build(importServer(announcing, { IMPORT_BATCH_SIZE: "3" }).pipe(Layer.provide(logger)))
      yield* Effect.gen(function* () {
        const port = yield* portOf
        const socket = connect(port, "127.0.0.1")
        socket.on("error", () => {})
        const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`
        socket.write(`POST /posts/import HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${KEY}\r\ncontent-type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n`)
        socket.write(chunk(line(1) + line(2) + line(3)))
        // The first batch is committed while the upload is open.
        assert.strictEqual(yield* Queue.take(written), 3)
        // Two more lines, within the next batch's window, and half of a sixth; then the client is gone.
        yield* Effect.async<void>((resume) => {
          socket.write(chunk(line(4) + line(5) + line(6).slice(0, 20)), () => resume(Effect.void))
        })
        socket.destroy()
        const lines = yield* Deferred.await(warned).pipe(Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => "no 499 line" }))
        const warnings = lines.filter((text) => text.startsWith("WARN"))
        assert.strictEqual(warnings.length, 1, lines.join("\n"))
        assert.match(warnings[0]!, /^WARN the client of a bulk import left before the answer; the import ended after what it had read: 5 imported, 0 updated, 0 unchanged, 0 skipped, 1 failed \(last: request: the upload was cut off: the connection closed before the end of the body \(a line it cut is not imported\)\)$/)
        for (const n of [1, 2, 3, 4, 5]) assert.strictEqual((yield* get(`/posts/post-${n}`)).status, 200, `post-${n}`)
        assert.strictEqual((yield* get("/posts/post-6")).status, 404, "a line cut off is no post")
      }).pipe(Effect.provide(context))
    }).pipe(Effect.scoped), { timeout: 20_000 })

  it.effect("postsWith provides the repository the import endpoints need (the README's embedding provides nothing else)", () =>
    Effect.gen(function* () {
      const response = yield* ndjson(line(1))
      assert.strictEqual(response.status, 200)
      assert.strictEqual((yield* json(response)).imported, 1)
      assert.strictEqual((yield* get("/posts/post-1")).status, 200)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("without the repository among the server's layers the endpoint is a 500, and the rest still works", () =>
    Effect.gen(function* () {
      const response = yield* ndjson(line(1))
      assert.strictEqual(response.status, 500)
      assert.strictEqual((yield* postJson("/posts", newPost())).status, 201)
    }).pipe(
      Effect.provide(
        // `Posts` with its repository provided privately, so the server's layers do not hold it.
        testServer({ posts: Posts.Default.pipe(Layer.provide(MemoryPostRepository.layer), Layer.provide(PostProcessor.layerConfig)) })
      )
    )
  )
})

describe("POST /posts/import-url", () => {
  it.scoped("imports a feed from a real server; a 404 is one failure; 401 without a key", () =>
    Effect.gen(function* () {
      const feeds = yield* feedServer(rssAtFeedXml)
      const context = yield* Layer.build(importServer())
      yield* Effect.gen(function* () {
        const url = `${feeds.url}/feed.xml`
        const gone = `${feeds.url}/gone.xml`
        const unauthorized = yield* postJson("/posts/import-url", { url }, {})
        assert.strictEqual(unauthorized.status, 401)
        assert.strictEqual(feeds.count(), 0)

        const response = yield* postJson("/posts/import-url", { url: [url, gone] })
        assert.strictEqual(response.status, 200)
        const summary = yield* json(response)
        assert.strictEqual(summary.imported, 4)
        assert.strictEqual(summary.failed, 1)
        assert.strictEqual(summary.failures[0].source, gone)
        assert.include(summary.failures[0].reason, "HTTP 404")
        const post = yield* json(yield* get("/posts/cafe-creme-bold-news", { "x-api-key": KEY }))
        assert.strictEqual(post.source, `${url}#post-1`)

        const again = yield* json(yield* postJson("/posts/import-url", { url }))
        assert.strictEqual(again.unchanged, 4)
        assert.strictEqual(again.failed, 0)
      }).pipe(Effect.provide(context))
    })
  )

  it.live("a client that leaves mid-import: the import goes on to the end of its sources, and one warning says what it committed (was: stopped where it was, the log said 499)", () =>
    Effect.gen(function* () {
      // Two pages of a JSON Feed; the second is answered once the client has gone.
      const release = yield* Deferred.make<void>()
      const page = (n: number, next?: string) =>
        JSON.stringify({
          version: "https://jsonfeed.org/version/1.1",
          ...(next === undefined ? {} : { next_url: next }),
          items: [1, 2].map((i) => ({ id: `p${n}-${i}`, title: `Page ${n} item ${i}`, content_text: "text" }))
        })
      const feeds = yield* feedServer((req, res) => {
        const answer = () => {
          res.writeHead(200, { "content-type": "application/feed+json" })
          res.end(req.url === "/feed.json" ? page(1, "/feed.json?page=2") : page(2))
        }
        if (req.url === "/feed.json") answer()
        else Effect.runFork(Effect.andThen(Deferred.await(release), answer))
      })
      const logged: Array<string> = []
      const noticed = yield* Deferred.make<void>()
      const left = yield* Deferred.make<ReadonlyArray<string>>()
      const logger = Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ logLevel, message }) => {
          const text = `${logLevel.label} ${String(message)}`
          logged.push(text)
          if (text.startsWith("INFO the client of an import from URLs")) Deferred.unsafeDone(noticed, Exit.void)
          if (text.startsWith("WARN the client of an import from URLs")) Deferred.unsafeDone(left, Exit.succeed([...logged]))
        })
      )
      const context = yield* Layer.build(importServer().pipe(Layer.provide(logger)))
      yield* Effect.gen(function* () {
        const port = yield* portOf
        const socket = connect(port, "127.0.0.1")
        socket.on("error", () => {})
        const body = JSON.stringify({ url: `${feeds.url}/feed.json` })
        socket.write(
          `POST /posts/import-url HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${KEY}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
        )
        // The first page is read, the second asked for: then the client is gone.
        for (;;) if ((yield* Queue.take(feeds.requests)).path === "/feed.json?page=2") break
        socket.destroy()
        // The server has seen the client go: only then may the import end.
        yield* Deferred.await(noticed).pipe(Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => `not noticed: ${logged.join("\n")}` }))
        yield* Deferred.succeed(release, undefined)
        const lines = yield* Deferred.await(left).pipe(Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => `no warning: ${logged.join("\n")}` }))
        assert.deepStrictEqual(lines.filter((text) => text.includes("the client of")), [
          "INFO the client of an import from URLs left before the answer; the import goes on to the end of its sources",
          "WARN the client of an import from URLs left before the answer; the import went on to the end of its sources: 4 imported, 0 updated, 0 unchanged, 0 skipped, 0 failed"
        ])
        for (const slug of ["page-1-item-1", "page-1-item-2", "page-2-item-1", "page-2-item-2"]) {
          assert.strictEqual((yield* get(`/posts/${slug}`)).status, 200, slug)
        }
      }).pipe(Effect.provide(context))
    }).pipe(Effect.scoped), { timeout: 20_000 })

  it.scoped("IMPORT_ON_CONFLICT is the default of the body's onConflict; a conflict's reason names the field", () =>
    Effect.gen(function* () {
      const feeds = yield* feedServer(rssAtFeedXml)
      const context = yield* Layer.build(importServer(MemoryPostRepository.layer, { IMPORT_ON_CONFLICT: "skip" }))
      yield* Effect.gen(function* () {
        const url = `${feeds.url}/feed.xml`
        assert.strictEqual((yield* postJson("/posts", newPost({ slug: "cafe-creme-bold-news" }))).status, 201)
        const failing = yield* json(yield* postJson("/posts/import-url", { url, onConflict: "fail" }))
        assert.strictEqual(failing.failed, 1)
        assert.include(failing.failures[0].reason, `("onConflict": "fail")`)
        assert.notInclude(failing.failures[0].reason, "--on-conflict")
        const skipping = yield* json(yield* postJson("/posts/import-url", { url }))
        assert.strictEqual(skipping.failed, 0)
        assert.strictEqual(skipping.skipped, 1)
        assert.include(skipping.skips[0].reason, `("onConflict": "skip")`)
      }).pipe(Effect.provide(context))
    })
  )

  it.scoped("without FEED_ALLOW_PRIVATE, a URL on the server's own network is a 422 naming it and why; nothing is fetched or imported", () =>
    Effect.gen(function* () {
      const feeds = yield* feedServer(rssAtFeedXml)
      const port = new URL(feeds.url).port
      const context = yield* Layer.build(importServer(MemoryPostRepository.layer, { FEED_ALLOW_PRIVATE: "false" }))
      yield* Effect.gen(function* () {
        for (const [url, why] of [
          [`${feeds.url}/feed.xml`, "127.0.0.1 is a loopback address"],
          // A name's address is not said: a caller could map the server's network by it.
          [`http://localhost:${port}/feed.xml`, "localhost resolves to a loopback address"],
          ["http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"],
          ["http://10.0.0.1/feed.xml", "10.0.0.1 is a private address"],
          // Its article (was: "a unspecified address").
          ["http://0.0.0.0/feed.xml", "0.0.0.0 is an unspecified address"]
        ] as const) {
          const response = yield* postJson("/posts/import-url", { url: [url] })
          assert.strictEqual(response.status, 422, url)
          const body = yield* json(response)
          assert.strictEqual(body._tag, "UrlRefused")
          assert.strictEqual(body.url, url)
          assert.include(body.message, why)
          assert.include(body.message, "set FEED_ALLOW_PRIVATE=true to allow")
        }
        assert.strictEqual(feeds.count(), 0)
        const page = yield* json(yield* get("/posts", { "x-api-key": KEY }))
        assert.deepStrictEqual(page.items, [])
      }).pipe(Effect.provide(context))
    })
  )

  it.scoped("a URL that can never be fetched is a 400 naming it, before any URL of the request is fetched", () =>
    Effect.gen(function* () {
      const feeds = yield* feedServer(rssAtFeedXml)
      const context = yield* Layer.build(importServer())
      yield* Effect.gen(function* () {
        const good = `${feeds.url}/feed.xml`
        for (const [bad, reason] of [
          ["not a url", "not an absolute URL"],
          ["ftp://example.com/feed.xml", "only http: and https: URLs are accepted, not ftp:"]
        ] as const) {
          const response = yield* postJson("/posts/import-url", { url: [good, bad] })
          assert.strictEqual(response.status, 400)
          const body = yield* json(response)
          assert.strictEqual(body._tag, "BadRequest")
          assert.strictEqual(body.message, `url ${JSON.stringify(bad)}: ${reason}`)
        }
        // At most 100 URLs: each host is looked up before the import starts.
        const many = yield* postJson("/posts/import-url", { url: Array.from({ length: 101 }, () => good) })
        assert.strictEqual(many.status, 400)
        assert.strictEqual((yield* json(many))._tag, "HttpApiDecodeError")
        assert.strictEqual(feeds.count(), 0, "nothing was fetched")
        assert.strictEqual((yield* get("/posts/cafe-creme-bold-news", { "x-api-key": KEY })).status, 404)
      }).pipe(Effect.provide(context))
    })
  )

  it.scoped("an unknown field is 400 naming it (a mistyped dryrun never runs a real import); a body that is not JSON is 415", () =>
    Effect.gen(function* () {
      const feeds = yield* feedServer(rssAtFeedXml)
      const context = yield* Layer.build(importServer())
      yield* Effect.gen(function* () {
        const url = `${feeds.url}/feed.xml`
        const typo = yield* postJson("/posts/import-url", { url, dryrun: true })
        assert.strictEqual(typo.status, 400)
        const error = yield* json(typo)
        assert.strictEqual(error._tag, "HttpApiDecodeError")
        assert.deepStrictEqual(error.issues.map((issue: { path: Array<string> }) => issue.path), [["dryrun"]])
        // A bad onConflict is one issue saying what it takes, as the bulk import's parameter (was: one per value).
        const policy = yield* json(yield* postJson("/posts/import-url", { url, onConflict: "bogus" }))
        assert.deepStrictEqual(policy.issues.map((issue: { path: Array<string>; message: string }) => [issue.path, issue.message]), [
          [["onConflict"], 'expected "fail", "skip" or "suffix", got "bogus"']
        ])

        const sendAs = (body: string, contentType: string | undefined) =>
          send(HttpClientRequest.post("/posts/import-url").pipe(
            contentType === undefined
              ? HttpClientRequest.setBody(HttpBody.raw(new TextEncoder().encode(body), { contentLength: new TextEncoder().encode(body).length }))
              : HttpClientRequest.bodyText(body, contentType),
            HttpClientRequest.setHeaders({ "x-api-key": KEY })
          ))
        for (const [body, contentType] of [
          [`url=${encodeURIComponent(url)}`, "application/x-www-form-urlencoded"],
          [JSON.stringify({ url }), "text/plain"],
          [JSON.stringify({ url }), undefined],
          [JSON.stringify({ url }), "application/json; charset=iso-8859-1"]
        ] as const) {
          const response = yield* sendAs(body, contentType)
          assert.strictEqual(response.status, 415, String(contentType))
          const refused = yield* json(response)
          assert.strictEqual(refused._tag, "UnsupportedMediaType")
          assert.deepStrictEqual(refused.accepted, ["application/json"])
          assert.include(refused.message, contentType === undefined ? "no Content-Type" : contentType.split(";")[0])
        }
        const notObject = yield* sendAs(JSON.stringify([url]), "application/json")
        assert.strictEqual(notObject.status, 400)
        assert.include((yield* json(notObject)).message, "expected an object of import fields")
        assert.strictEqual(feeds.count(), 0, "nothing was fetched")
        assert.strictEqual((yield* get("/posts/cafe-creme-bold-news", { "x-api-key": KEY })).status, 404)

        const fine = yield* sendAs(JSON.stringify({ url, dryRun: true }), "Application/JSON; charset=utf-8")
        assert.strictEqual(fine.status, 200)
        assert.isTrue((yield* json(fine)).dryRun)
      }).pipe(Effect.provide(context))
    })
  )

  it.effect("a url that is neither a URL nor a list of 1 to 100 is one plain issue (was: the schema's terms, several issues, a string expected before 'at most 100')", () =>
    Effect.gen(function* () {
      const URLS = "url: expected a URL or a list of 1 to 100 URLs, got"
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [5, `${URLS} 5`],
        [null, `${URLS} null`],
        [[], `${URLS} an empty list`],
        [Array.from({ length: 101 }, (_, i) => `http://example.com/${i}.xml`), `${URLS} a list of 101`],
        [["http://example.com/feed.xml", 7], `${URLS} a list with 7 at 1`],
        [{ href: "http://example.com/feed.xml" }, `${URLS} {"href":"http://example.com/feed.xml"}`]
      ]
      for (const [url, message] of cases) {
        const response = yield* postJson("/posts/import-url", { url })
        assert.strictEqual(response.status, 400, JSON.stringify(url).slice(0, 40))
        const body = yield* json(response)
        assert.strictEqual(body.message, message)
        assert.deepStrictEqual(body.issues.map((issue: { path: Array<string> }) => issue.path), [["url"]])
      }
      const missing = yield* json(yield* postJson("/posts/import-url", { dryRun: true }))
      assert.strictEqual(missing.message, "url: missing")
    }).pipe(Effect.provide(importServer())))

  it.scoped("dryRun validates without writing; a single 404 URL is a 200 with one failure", () =>
    Effect.gen(function* () {
      const feeds = yield* feedServer(rssAtFeedXml)
      const context = yield* Layer.build(importServer())
      yield* Effect.gen(function* () {
        const dry = yield* json(yield* postJson("/posts/import-url", { url: `${feeds.url}/feed.xml`, dryRun: true }))
        assert.isTrue(dry.dryRun)
        assert.strictEqual(dry.valid, 4)
        assert.strictEqual((yield* get("/posts/cafe-creme-bold-news", { "x-api-key": KEY })).status, 404)

        const missing = yield* postJson("/posts/import-url", { url: `${feeds.url}/missing` })
        assert.strictEqual(missing.status, 200)
        const summary = yield* json(missing)
        assert.strictEqual(summary.failed, 1)
        assert.strictEqual(summary.imported, 0)
        assert.strictEqual((yield* postJson("/posts/import-url", { url: [] })).status, 400)
      }).pipe(Effect.provide(context))
    })
  )

  it.scoped("a dry run (dryRun in the JSON body) keeps the response cache; a real import drops it (SQLite file)", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "inkwell-cache-url-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const file = join(dir, "blog.db")
      const feeds = yield* feedServer(rssAtFeedXml)
      const cached = importServer(
        Layer.orDie(sqliteStack(`sqlite:${file}`)),
        {},
        undefined,
        undefined,
        ResponseCache.layer({ maxEntries: 100, maxBytes: 1024 * 1024, ttl: "1 hour" })
      )
      const context = yield* Layer.build(cached)
      yield* Effect.gen(function* () {
        const hits = Effect.map(Effect.flatMap(ResponseCache, (cache) => cache.stats), (stats) => stats.hits)
        assert.strictEqual((yield* postJson("/posts", newPost({ title: "Kept" }))).status, 201)
        assert.strictEqual((yield* json(yield* get("/posts/kept"))).title, "Kept")
        // Changed behind the cache's back: only a read that reaches the database sees it.
        const db = new Sqlite(file)
        db.prepare("UPDATE posts SET title = ? WHERE slug = ?").run("Changed Behind", "kept")
        db.close()
        const before = rowsOf(file)

        const dry = yield* json(yield* postJson("/posts/import-url", { url: `${feeds.url}/feed.xml`, dryRun: true }))
        assert.deepStrictEqual([dry.dryRun, dry.imported, dry.failed], [true, 4, 0])
        assert.deepStrictEqual(rowsOf(file), before, "nothing written")
        const hitsBefore = yield* hits
        assert.strictEqual((yield* json(yield* get("/posts/kept"))).title, "Kept", "still the cached answer")
        assert.strictEqual(yield* hits, hitsBefore + 1)

        const real = yield* json(yield* postJson("/posts/import-url", { url: `${feeds.url}/feed.xml` }))
        assert.deepStrictEqual([real.dryRun, real.imported], [false, 4])
        assert.strictEqual((yield* json(yield* get("/posts/kept"))).title, "Changed Behind", "the import dropped the cache")
      }).pipe(Effect.provide(context))
    })
  )
})
