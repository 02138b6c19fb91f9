/**
 * Sources over real HTTP on 127.0.0.1: feeds and broken documents from a node:http server, and
 * another Inkwell (the real server, in-memory repository) as a paginated source.
 */
import { HttpClientRequest, HttpServer } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, Exit, Layer, Option, Redacted, TestClock } from "effect"
import { makeNewPost } from "../fixtures/posts.js"
import { FeedClient } from "../../src/Clients/FeedClient.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { fromUrl, type InkwellRead } from "../../src/Sources/FeedSource.js"
import { importFromUrls } from "../../src/Sources/ImportFromUrl.js"
import { inkwellApi } from "../../src/Sources/InkwellApi.js"
import { get, testServer as inkwellServer, json, newPost, portOf, postJson, putJson, send, withKey } from "../Http/harness.js"
import { ProcessorTest, sqliteStack } from "../Import/harness.js"
import { testServer } from "../Clients/server.js"
import { KEY as SITE_KEY, siteServer } from "../Site/harness.js"
import { collect, fixture, rssAtFeedXml, servedBy } from "./harness.js"

const feedClient = FeedClient.layer({ retries: 2 }).pipe(Layer.provide(NodeHttpClient.layer))

const failure = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isFailure(exit) && exit.cause._tag === "Fail") return exit.cause.error
  throw new Error(`expected a typed failure, got ${Exit.isSuccess(exit) ? "success" : String(exit.cause)}`)
}

const serve = (type: string, body: string) =>
  testServer((_req, res) => {
    res.writeHead(200, { "content-type": type })
    res.end(body)
  })

describe("fromUrl over a real server", () => {
  it.scoped("reads an RSS feed; relative links resolve against the URL it was served from", () =>
    Effect.gen(function*() {
      const server = yield* serve("application/rss+xml", fixture("rss.xml"))
      const { entries } = yield* collect(fromUrl(`${server.url}/blog/feed.xml`)).pipe(Effect.provide(feedClient))
      assert.strictEqual(entries.length, 4)
      assert.strictEqual(entries[0]!.source, `${server.url}/blog/feed.xml#post-1`)
      assert.include(entries[0]!.input.body, `src="${server.url}/blog/images/cake.png"`)
    }))

  it.scoped("malformed JSON is a DecodeError with the position, not retried", () =>
    Effect.gen(function*() {
      const server = yield* serve("application/feed+json", "{\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": [{\"id\": 1,}]}")
      const error = failure(yield* collect(fromUrl(`${server.url}/feed.json`)).pipe(Effect.provide(feedClient), Effect.exit))
      assert.strictEqual(error._tag, "DecodeError")
      if (error._tag === "DecodeError") {
        assert.strictEqual(error.format, "json")
        assert.match(error.path, /^line \d+, column \d+$/)
        assert.strictEqual(error.url, `${server.url}/feed.json`)
      }
      assert.strictEqual(server.count(), 1)
    }))

  it.scoped("malformed XML is a DecodeError with line and column, not retried", () =>
    Effect.gen(function*() {
      const server = yield* serve("application/rss+xml", "<?xml version=\"1.0\"?>\n<rss version=\"2.0\">\n<channel>\n<item><title>x</title>\n</channel>\n</rss>")
      const error = failure(yield* collect(fromUrl(`${server.url}/rss`)).pipe(Effect.provide(feedClient), Effect.exit))
      assert.strictEqual(error._tag, "DecodeError")
      if (error._tag === "DecodeError") {
        assert.match(error.path, /^line \d+, column \d+$/)
        assert.include(error.reason, "item")
      }
      assert.strictEqual(server.count(), 1)
    }))

  it.scoped("a JSON Feed whose structure is wrong names the schema path", () =>
    Effect.gen(function*() {
      const server = yield* serve("application/json", JSON.stringify({ version: "https://jsonfeed.org/version/1.1", title: "t", items: "nope" }))
      const error = failure(yield* collect(fromUrl(server.url)).pipe(Effect.provide(feedClient), Effect.exit))
      assert.strictEqual(error._tag, "DecodeError")
      if (error._tag === "DecodeError") {
        assert.strictEqual(error.format, "json-feed")
        assert.strictEqual(error.path, "items")
      }
    }))
})

describe("remote bodies that are not UTF-8", () => {
  /** `text` as bytes, with the Latin-1 byte of each `é` (0xE9, never UTF-8 on its own) in place of UTF-8's. */
  const latin1 = (text: string) => Uint8Array.from(Buffer.from(text, "latin1"))
  const decodeFailure = (error: unknown, url: string, offset: number, said: RegExp) => {
    assert.strictEqual((error as { _tag?: unknown })._tag, "DecodeError")
    const e = error as { url: string; format: string; path: string; message: string }
    assert.strictEqual(e.url, url)
    assert.strictEqual(e.format, "http")
    assert.strictEqual(e.path, `byte ${offset}`)
    assert.include(e.message, `${url}: `)
    assert.include(e.message, `not valid UTF-8: invalid or truncated sequence at byte offset ${offset}`)
    assert.match(e.message, said)
  }

  it.scoped("a feed's stray Windows-1252 byte fails only its item, naming the feed, the item and the byte; the others are imported (charset given, or none)", () =>
    Effect.gen(function*() {
      const item = (n: number, text: string) => `<item><guid>${n}</guid><title>Post ${n}</title><description>${text}</description></item>`
      const head = `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>${item(1, "a")}${item(2, "b")}<item><guid>3</guid><title>Post 3</title><description>It`
      // 0x92: Windows-1252's ’, as legacy WordPress feeds hold; never UTF-8 on its own.
      const body = Buffer.concat([Buffer.from(head), Buffer.from([0x92]), Buffer.from("s here</description></item></channel></rss>")])
      const server = yield* testServer((req, res) => {
        res.writeHead(200, { "content-type": req.url === "/labelled" ? "application/rss+xml; charset=utf-8" : "application/rss+xml" })
        res.end(body)
      })
      for (const [path, said] of [["/labelled", "its Content-Type says UTF-8"], ["/unlabelled", "no charset given: read as UTF-8"]] as const) {
        const summary = yield* importFromUrls([`${server.url}${path}`]).pipe(Effect.provide(Layer.mergeAll(sqliteStack("sqlite::memory:"), ProcessorTest, feedClient)))
        assert.strictEqual(summary.imported, 2, path)
        assert.deepStrictEqual(summary.failures, [{
          source: `${server.url}${path}#3`,
          reason: `item 3: not valid UTF-8: invalid or truncated sequence at byte offset ${head.length} (${said}); not imported rather than imported with U+FFFD in place of what the source wrote`
        }], path)
      }
      // Not retried: it would read the same bytes again.
      assert.strictEqual(server.count(), 2)
    }))

  it.scoped("a JSON Feed's next page fails only its item with the bad byte; another Inkwell's page and post are refused, naming their URL", () =>
    Effect.gen(function*() {
      const secondPage = `{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"2","title":"Caf\u00e9","content_text":"x"},{"id":"3","title":"Three","content_text":"y"}]}`
      const post = `{"slug":"cafe","title":"Caf\u00e9","body":"x"}`
      const server = yield* testServer((req, res) => {
        const url = req.url ?? "/"
        res.writeHead(200, { "content-type": url.startsWith("/feed") ? "application/feed+json" : "application/json" })
        if (url === "/feed.json") {
          res.end(JSON.stringify({ version: "https://jsonfeed.org/version/1.1", title: "t", next_url: "/feed-2.json", items: [{ id: "1", title: "One", content_text: "x" }] }))
        } else if (url === "/feed-2.json") res.end(latin1(secondPage))
        else if (url.startsWith("/posts?")) res.end(JSON.stringify({ items: [{ slug: "cafe" }], next: null }))
        else if (url === "/posts/cafe") res.end(latin1(post))
        else if (url.startsWith("/bad/posts?")) res.end(latin1(`{"items":[{"slug":"caf\u00e9"}],"next":null}`))
        else res.end("{}")
      })
      const feed = yield* collect(fromUrl(`${server.url}/feed.json`)).pipe(Effect.provide(feedClient))
      assert.deepStrictEqual(feed.entries.map((e) => e.input.title), ["One", "Three"])
      assert.deepStrictEqual(feed.rejected.map((r) => [r.source, r.reason]), [[
        `${server.url}/feed.json#2`,
        `page ${server.url}/feed-2.json, items.0: not valid UTF-8: invalid or truncated sequence at byte offset ${secondPage.indexOf("\u00e9")} (no charset given: read as UTF-8); not imported rather than imported with U+FFFD in place of what the source wrote`
      ]])
      // Another Inkwell writes UTF-8: its documents are read strictly. A post that cannot be read
      // is that post's failure; the others go on.
      const { entries, rejected } = yield* collect(inkwellApi(server.url)).pipe(Effect.provide(feedClient))
      assert.strictEqual(entries.length, 0)
      assert.deepStrictEqual(rejected.map((r) => r.source), [`${server.url}/posts/cafe`])
      assert.include(rejected[0]!.reason, `${server.url}/posts/cafe: not valid UTF-8: invalid or truncated sequence at byte offset ${post.indexOf("\u00e9")}`)
      const page = yield* collect(inkwellApi(`${server.url}/bad`)).pipe(Effect.provide(feedClient), Effect.exit)
      decodeFailure(failure(page), `${server.url}/bad/posts?limit=50`, `{"items":[{"slug":"caf`.length, /no charset given/)
    }))
})

describe("another Inkwell as a source", () => {
  it.scoped("its key goes to the origin given only: an HTML page's feed link to another server's /posts gets none, and the caller is told", () =>
    Effect.gen(function*() {
      const keys: Array<[string, unknown]> = []
      const page = (res: import("node:http").ServerResponse, body: unknown) => {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify(body))
      }
      const inkwellLike = (name: string) =>
        testServer((req, res) => {
          keys.push([`${name}${req.url}`, req.headers["x-api-key"]])
          if (req.url?.startsWith("/posts?")) page(res, { items: [{ slug: "one" }], next: null })
          else page(res, { slug: "one", title: "One", body: "Text.", status: "published" })
        })
      const other = yield* inkwellLike("other")
      const own = yield* inkwellLike("own")
      const html = yield* testServer((_req, res) => {
        res.writeHead(200, { "content-type": "text/html" })
        res.end(`<html><head><link rel="alternate" type="application/json" href="${other.url}/posts?limit=5"></head></html>`)
      })
      const told: Array<InkwellRead> = []
      const options = { apiKey: Redacted.make("k"), onInkwell: (source: InkwellRead) => Effect.sync(() => told.push(source)) }
      const linked = yield* collect(fromUrl(html.url, options)).pipe(Effect.provide(feedClient))
      assert.strictEqual(linked.entries.length, 1)
      const direct = yield* collect(fromUrl(`${own.url}/posts?limit=5`, options)).pipe(Effect.provide(feedClient))
      assert.strictEqual(direct.entries.length, 1)
      assert.deepStrictEqual(told, [
        { url: `${other.url}/posts?limit=5`, keyed: false, given: html.url },
        { url: `${own.url}/posts?limit=5`, keyed: true, given: `${own.url}/posts?limit=5` }
      ])
      // The page that tells an Inkwell is read without it, the API's reads of the origin given with it.
      assert.deepStrictEqual(keys, [
        ["other/posts?limit=5", undefined],
        ["other/posts?limit=5", undefined],
        ["other/posts/one", undefined],
        ["own/posts?limit=5", undefined],
        ["own/posts?limit=5", "k"],
        ["own/posts/one", "k"]
      ])
    }))

  it.effect("follows GET /posts pagination to the end and fetches every post's markdown", () =>
    Effect.gen(function*() {
      for (let i = 1; i <= 5; i++) {
        const response = yield* postJson("/posts", newPost({ title: `Remote post ${i}`, body: `# Post ${i}\n\nBody of *post* ${i}.`, tags: ["remote", `n${i}`] }))
        assert.strictEqual(response.status, 201)
      }
      const server = yield* HttpServer.HttpServer
      const address = server.address
      if (address._tag !== "TcpAddress") return assert.fail("expected a TCP server")
      const base = `http://127.0.0.1:${address.port}`

      const { entries, rejected } = yield* collect(inkwellApi(base, { pageSize: 2 })).pipe(Effect.provide(feedClient))
      assert.strictEqual(rejected.length, 0)
      assert.strictEqual(entries.length, 5)
      const bySlug = new Map(entries.map((e) => [e.input.slug, e]))
      const third = bySlug.get("remote-post-3")
      assert.isDefined(third)
      assert.match(third!.source, new RegExp(`^${base}/posts#[0-9a-f-]{36}$`), "known by its id there")
      // Not as feeds at the root of its origin would name it: given its /posts, no page declared them.
      assert.deepStrictEqual(third!.formerSources, [`${base}/posts/remote-post-3`], "as earlier versions knew it")
      assert.strictEqual(third!.input.title, "Remote post 3")
      assert.strictEqual(third!.input.body, "# Post 3\n\nBody of *post* 3.")
      assert.deepStrictEqual(third!.input.tags, ["remote", "n3"])
      assert.strictEqual(third!.input.status, "published")

      // fromUrl recognises a /posts page and takes the same path
      const detected = yield* collect(fromUrl(`${base}/posts?limit=3`)).pipe(Effect.provide(feedClient))
      assert.strictEqual(detected.entries.length, 5)
    }).pipe(Effect.provide(inkwellServer())))

  /** The importing side: its own SQLite database, the real processor, a real HTTP client. */
  const local = Layer.mergeAll(sqliteStack("sqlite::memory:"), ProcessorTest, feedClient)

  /**
   * Published posts without a date, as an import leaves them on the remote (`POST /posts`
   * stamps one), created there at the records' `createdAt`.
   */
  const importUndated = (records: ReadonlyArray<{ readonly title: string; readonly createdAt: string }>) =>
    Effect.gen(function*() {
      const body = records.map((r) => JSON.stringify({ ...r, body: `Text of ${r.title}.`, status: "published" })).join("\n")
      const response = yield* send(
        HttpClientRequest.post("/posts/import").pipe(HttpClientRequest.bodyText(body, "application/x-ndjson"), withKey())
      )
      assert.strictEqual((yield* json(response)).imported, records.length)
    })

  it.effect("a migration keeps each post's createdAt, id and aliases: an undated post is listed where it was, its feed items the same", () =>
    Effect.gen(function*() {
      yield* importUndated([
        { title: "Undated from 2022", createdAt: "2022-03-01T09:00:00Z" },
        { title: "Undated from 2024", createdAt: "2024-06-01T09:00:00Z" }
      ])
      const created = yield* postJson("/posts", newPost({
        title: "Moved around",
        publishedAt: "2023-05-01T00:00:00Z",
        aliases: ["/2019/01/moved-around/", "old/moved"],
        // Stored beginning with a `---` line (the `{}` front matter shields it here): read again as
        // front matter there, it cut the body or failed the post.
        body: "{}\n---\nnot: front matter\n---\nText.",
        // Front matter keys without a value are kept as they are, as an export keeps them.
        metadata: { subtitle: null, blank: "" }
      }))
      assert.strictEqual(created.status, 201)
      const base = `http://127.0.0.1:${yield* portOf}`
      const listed = (yield* json(yield* get("/posts"))).items as ReadonlyArray<{ slug: string }>
      assert.deepStrictEqual(listed.map((p) => p.slug), ["undated-from-2024", "moved-around", "undated-from-2022"])
      const remote: ReadonlyArray<{ id: string; slug: string; createdAt: string; aliases: Array<string>; publishedAt: string | null }> = yield* Effect.forEach(
        listed,
        (p) => Effect.flatMap(get(`/posts/${p.slug}`), json)
      )
      assert.isNull(remote[2]!.publishedAt, "the 2022 post is listed by its creation")

      yield* Effect.gen(function*() {
        const summary = yield* importFromUrls([`${base}/posts`])
        assert.strictEqual(summary.imported, 3)
        assert.strictEqual(summary.failed, 0)
        // Read without a key, as the server's import-url reads: said, as drafts would be missing.
        assert.deepStrictEqual(summary.warnings.map((w) => w.source), [`${base}/posts`])
        assert.match(summary.warnings[0]!.reason, /^read without a key: only its public posts were imported \(no drafts or scheduled posts\); POST \/posts\/import-url sends none/)
        const repository = yield* PostRepository
        const moved = yield* repository.getBySlug("moved-around")
        assert.strictEqual(moved.body, "---\nnot: front matter\n---\nText.")
        assert.deepStrictEqual(moved.metadata, { subtitle: null, blank: "", origin: `${base}/posts/moved-around` })
        const page = yield* repository.list({})
        assert.deepStrictEqual(page.items.map((p) => p.slug), remote.map((p) => p.slug), "listed in the remote's order")
        for (const theirs of remote) {
          const ours = yield* repository.getBySlug(theirs.slug)
          assert.strictEqual(DateTime.formatIso(ours.createdAt), theirs.createdAt, theirs.slug)
          assert.strictEqual(ours.id, theirs.id, theirs.slug)
          assert.deepStrictEqual(ours.aliases, theirs.aliases, theirs.slug)
        }
        assert.deepStrictEqual((yield* repository.getBySlug("moved-around")).aliases, ["/2019/01/moved-around/", "old/moved"])
        // The reader site redirects the old path to the imported post.
        assert.strictEqual(Option.getOrUndefined(yield* repository.findByAlias!("2019/01/moved-around")), "moved-around")
      }).pipe(Effect.provide(local))
    }).pipe(Effect.provide(inkwellServer())))

  it.effect("a post renamed there is renamed here, its old slug redirecting: it is known by its id there (was: a new post, the old copy kept); one stored under its URL by an earlier version is found", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* postJson("/posts", newPost({ title: "Before" }))).status, 201)
      assert.strictEqual((yield* postJson("/posts", newPost({ title: "Stored by URL" }))).status, 201)
      const base = `http://127.0.0.1:${yield* portOf}`
      const idOf = (slug: string) => Effect.map(Effect.flatMap(get(`/posts/${slug}`), json), (post) => post.id as string)
      const [beforeId, storedId] = [yield* idOf("before"), yield* idOf("stored-by-url")]
      yield* Effect.gen(function*() {
        const repository = yield* PostRepository
        // As an earlier version stored it: known by its URL there.
        yield* repository.upsertMany([makeNewPost({ slug: "stored-by-url", title: "Stored by URL", source: `${base}/posts/stored-by-url` })])
        const stored = yield* repository.getBySlug("stored-by-url")
        const first = yield* importFromUrls([`${base}/posts`])
        assert.deepStrictEqual(first.failures, [])
        assert.deepStrictEqual([first.imported, first.updated + first.unchanged], [1, 1])
        const found = yield* repository.getBySlug("stored-by-url")
        assert.deepStrictEqual([found.id, found.source], [stored.id, `${base}/posts#${storedId}`])
        const imported = yield* repository.getBySlug("before")
        assert.strictEqual(imported.source, `${base}/posts#${beforeId}`)

        assert.strictEqual((yield* putJson("/posts/before", newPost({ title: "After", slug: "after", version: 1 }))).status, 200)
        const again = yield* importFromUrls([`${base}/posts`])
        assert.deepStrictEqual(again.failures, [])
        assert.deepStrictEqual([again.imported, again.updated, again.unchanged], [0, 1, 1])
        assert.deepStrictEqual(again.moves, [{ source: `${base}/posts#${beforeId}`, from: "before", to: "after" }])
        const after = yield* repository.getBySlug("after")
        assert.deepStrictEqual([after.id, after.title], [imported.id, "After"])
        assert.deepStrictEqual(Option.map(yield* repository.movedFrom!("before"), (p) => p.slug), Option.some("after"))
        assert.strictEqual((yield* repository.list({})).items.length, 2)
      }).pipe(Effect.provide(local))
    }).pipe(Effect.provide(inkwellServer())))

  it.effect("a post whose createdAt, id or aliases are not what the API writes is rejected, naming its URL and the field", () =>
    Effect.gen(function*() {
      const post = (slug: string, extra: Record<string, unknown>) => ({
        type: "application/json",
        body: JSON.stringify({ slug, title: slug, body: "Text.", status: "published", ...extra })
      })
      const routes = {
        "/posts": { type: "application/json", body: JSON.stringify({ items: [{ slug: "bad-date" }, { slug: "bad-aliases" }, { slug: "bad-id" }, { slug: "good" }, { slug: "blank-id" }], next: null }) },
        "/posts/bad-date": post("bad-date", { createdAt: "last Tuesday" }),
        "/posts/bad-aliases": post("bad-aliases", { aliases: "/old" }),
        "/posts/bad-id": post("bad-id", { id: "7" }),
        // No id to know it by, as a server without ids: known by its URL, and given a new one here.
        "/posts/blank-id": post("blank-id", { id: " " }),
        "/posts/good": {
          type: "application/json",
          // Front matter may hold any key, `__proto__` too (JSON.parse makes it an own key).
          body: JSON.stringify({ id: "0B6F0D5E-0000-4000-8000-000000000001", slug: "good", title: "good", body: "Text.", status: "published", createdAt: "2022-03-01T09:00:00.000Z", aliases: ["/old/good"] })
            .replace(/}$/, ',"metadata":{"__proto__":{"kept":true},"series":"s"}}')
        }
      }
      const { entries, items, rejected } = yield* collect(inkwellApi("https://remote.example")).pipe(Effect.provide(servedBy(routes)))
      assert.deepStrictEqual(rejected.map((r) => r.source), ["https://remote.example/posts/bad-date", "https://remote.example/posts/bad-aliases", "https://remote.example/posts/bad-id"])
      assert.include(rejected[0]!.reason, "at createdAt:")
      assert.include(rejected[0]!.reason, "\"last Tuesday\" is not a date")
      assert.include(rejected[1]!.reason, "at aliases:")
      assert.include(rejected[2]!.reason, "at id:")
      assert.include(rejected[2]!.reason, `expected a UUID (8-4-4-4-12 hex digits), got "7"`)
      assert.deepStrictEqual(entries.map((e) => e.source), ["https://remote.example/posts#0b6f0d5e-0000-4000-8000-000000000001", "https://remote.example/posts/blank-id"])
      assert.deepStrictEqual(entries[0]!.input.aliases, ["/old/good"])
      const metadata = entries[0]!.input.metadata!
      assert.deepStrictEqual([Object.hasOwn(metadata, "__proto__"), metadata["series"]], [true, "s"])
      const good = items.find((i) => i._tag === "Entry")
      assert.strictEqual(good?._tag === "Entry" && good.createdAt !== undefined ? DateTime.formatIso(good.createdAt) : undefined, "2022-03-01T09:00:00.000Z")
      assert.strictEqual(good?._tag === "Entry" ? good.id : undefined, "0b6f0d5e-0000-4000-8000-000000000001")
      const blank = items.find((i) => i._tag === "Entry" && i.input.slug === "blank-id")
      assert.isTrue(blank?._tag === "Entry" && blank.id === undefined, "no id carried")
    }))

  it.effect("the addresses its pages give Zola internal links (@/...) come along, where they match the body's links; others are as written, with a warning", () =>
    Effect.gen(function*() {
      const body = "See [the second](@/notes/b.md#a-heading) and [Rust](https://www.rust-lang.org/)."
      const page = (first: string) => `<p>See <a href="${first}">the second</a> and <a href="https://www.rust-lang.org/">Rust</a>.</p>`
      const post = (slug: string, fields: Record<string, unknown>) => ({
        type: "application/json",
        body: JSON.stringify({ slug, title: slug, status: "published", publishedAt: "2021-05-01T00:00:00.000Z", ...fields })
      })
      const routes = {
        "/posts": { type: "application/json", body: JSON.stringify({ items: [{ slug: "linking" }, { slug: "tampered" }, { slug: "hostile" }, { slug: "the-second" }], next: null }) },
        "/posts/linking": post("linking", { body, html: page("./the-second#a-heading") }),
        // Another server's page is no more trusted than a file: addresses no such link is given.
        "/posts/tampered": post("tampered", { body, html: page("./the-second#another-heading") }),
        "/posts/hostile": post("hostile", { body, html: page("javascript:alert(1)") }),
        "/posts/the-second": post("the-second", { body: "## A heading\n\nText.", html: `<h2 id="a-heading">A heading</h2>\n<p>Text.</p>` })
      }
      const layer = Layer.mergeAll(sqliteStack("sqlite::memory:"), ProcessorTest, servedBy(routes))
      const [imported, linking, tampered, hostile] = yield* Effect.gen(function*() {
        const imported = yield* importFromUrls(["https://remote.example/posts"])
        const repository = yield* PostRepository
        return [imported, ...yield* Effect.forEach(["linking", "tampered", "hostile"], (slug) => repository.getBySlug(slug))] as const
      }).pipe(Effect.provide(layer))
      assert.strictEqual(imported.imported, 4, JSON.stringify(imported.failures))
      assert.include(linking!.html, `<a href="./the-second#a-heading">the second</a>`)
      for (const post of [tampered!, hostile!]) {
        assert.include(post.html, `<a href="@/notes/b.md#a-heading">the second</a>`, post.slug)
        assert.notInclude(post.html, "javascript:")
      }
      assert.deepStrictEqual(
        imported.warnings.filter((w) => w.reason.startsWith("link ")).map((w) => [w.source, w.reason.match(/kept as written: the record's internalLinks do not match/) !== null]),
        [["https://remote.example/posts/tampered", true], ["https://remote.example/posts/hostile", false]],
        JSON.stringify(imported.warnings)
      )
    }))

  it.effect("with --on-conflict suffix, a Zola link whose target took a suffixed slug here is reported, naming the post, the link and where the target went (was: silent, leading to the post holding the slug)", () =>
    Effect.gen(function*() {
      const post = (slug: string, fields: Record<string, unknown>) => ({
        type: "application/json",
        body: JSON.stringify({ slug, title: slug, status: "published", publishedAt: "2021-05-01T00:00:00.000Z", ...fields })
      })
      const routes = {
        "/posts": { type: "application/json", body: JSON.stringify({ items: [{ slug: "linking" }, { slug: "the-second" }], next: null }) },
        "/posts/linking": post("linking", { body: "See [the second](@/notes/b.md#a-heading).", html: `<p>See <a href="./the-second#a-heading">the second</a>.</p>` }),
        "/posts/the-second": post("the-second", { body: "## A heading\n\nText.", html: `<h2 id="a-heading">A heading</h2>\n<p>Text.</p>` })
      }
      const layer = Layer.mergeAll(sqliteStack("sqlite::memory:"), ProcessorTest, servedBy(routes))
      const [imported, linking] = yield* Effect.gen(function*() {
        const repository = yield* PostRepository
        yield* repository.upsertMany([makeNewPost({ slug: "the-second", title: "Unrelated", source: "elsewhere.md" })])
        const imported = yield* importFromUrls(["https://remote.example/posts"], { onConflict: "suffix" })
        return [imported, yield* repository.getBySlug("linking")] as const
      }).pipe(Effect.provide(layer))
      assert.deepStrictEqual([imported.imported, imported.renamed], [2, 1], JSON.stringify(imported.failures))
      assert.include(linking.html, `<a href="./the-second#a-heading">the second</a>`)
      assert.deepStrictEqual(imported.warnings.filter((w) => w.reason.startsWith("link ")).map((w) => [w.source, w.reason]), [[
        "https://remote.example/posts/linking",
        `link "@/notes/b.md#a-heading" leads to /p/the-second, as it did where its post came from, but the post that was at /p/the-second there ` +
        "(https://remote.example/posts/the-second) was stored at /p/the-second-2 here, as another post holds /p/the-second: the link leads to that other post"
      ]])
    }))

  it.effect("a post stored there with an `updated` in the future comes as late as a write takes, as its export writes it (was: refused, 'is in the future', and left behind)", () =>
    Effect.gen(function*() {
      const post = (slug: string, extra: Record<string, unknown>) => ({
        type: "application/json",
        body: JSON.stringify({ slug, title: slug, body: "Text.", status: "published", publishedAt: "2021-05-01T00:00:00.000Z", ...extra })
      })
      const routes = {
        "/posts": { type: "application/json", body: JSON.stringify({ items: [{ slug: "typo" }, { slug: "fine" }, { slug: "older-server" }], next: null }) },
        // Stored there before such dates were refused: its readers were shown 2026-01-01.
        "/posts/typo": post("typo", { updatedAtSource: "2031-05-05T00:00:00.000Z", updatedAt: "2026-01-01T00:00:00.000Z" }),
        "/posts/fine": post("fine", { updatedAtSource: "2025-12-31T00:00:00.000Z", updatedAt: "2026-01-01T00:00:00.000Z" }),
        // No storage time to bound it by: as it is, for the import to judge.
        "/posts/older-server": post("older-server", { updatedAtSource: "2031-05-05T00:00:00.000Z" })
      }
      yield* TestClock.setTime(Date.parse("2026-02-01T00:00:00Z"))
      const { entries, rejected } = yield* collect(inkwellApi("https://remote.example")).pipe(Effect.provide(servedBy(routes)))
      assert.deepStrictEqual(rejected, [])
      assert.deepStrictEqual(
        entries.map((e) => [e.input.slug, e.input.updatedAt]),
        [["typo", "2026-01-02T00:00:00.000Z"], ["fine", "2025-12-31T00:00:00.000Z"], ["older-server", "2031-05-05T00:00:00.000Z"]]
      )
      const imported = yield* importFromUrls(["https://remote.example/posts"]).pipe(
        Effect.provide(Layer.mergeAll(sqliteStack("sqlite::memory:"), ProcessorTest, servedBy(routes)))
      )
      assert.deepStrictEqual([imported.imported, imported.failures.map((f) => f.source)], [2, ["https://remote.example/posts/older-server"]])
      assert.match(imported.failures[0]!.reason, /updatedAt: 2031-05-05T00:00:00.000Z is in the future/)
    }))
})

describe("two Inkwells on one origin, one keeping the ids of the posts it imported from the other", () => {
  const id = "0f8fad5b-d9cb-469f-a165-70867728950e"
  const feedOf = (title: string, text: string) => ({
    type: "application/feed+json",
    body: JSON.stringify({ version: "https://jsonfeed.org/version/1.1", title: "t", items: [{ id: `urn:uuid:${id}`, title, content_text: text }] })
  })
  const routes = {
    "/alice/feed.json": feedOf("Shared", "Alice's."),
    "/bob/feed.json": feedOf("Shared", "Bob's."),
    "/carol/feed.json": feedOf("Carol's title", "Carol's."),
    "/posts": { type: "application/json", body: JSON.stringify({ items: [{ slug: "shared" }], next: null }) },
    "/posts/shared": { type: "application/json", body: JSON.stringify({ id, slug: "shared", title: "Shared", body: "The API's.", status: "published" }) }
  }
  const local = Layer.mergeAll(sqliteStack("sqlite::memory:"), ProcessorTest, servedBy(routes))
  const posts = Effect.map(Effect.flatMap(PostRepository, (repository) => repository.list({})), (page) =>
    page.items.map((p) => [p.slug, p.body.replace(/<[^>]+>/g, "").trim(), p.source]).sort())
  const CONFLICT = /^slug "shared" belongs to a post from another source/

  it.effect("an API item carries the names of the feeds its site's page declared, its own only: on its origin, under its base", () =>
    Effect.gen(function*() {
      const alice = {
        "/alice/posts": routes["/posts"],
        "/alice/posts/shared": routes["/posts/shared"]
      }
      const declared = ["https://x.example/alice/feed.json", "https://x.example/bob/feed.json", "https://y.example/alice/feed.json", "https://x.example/alice/tags/t/atom.xml"]
      const { entries } = yield* collect(inkwellApi("https://x.example/alice/posts", {}, "https://x.example/alice/posts", declared)).pipe(Effect.provide(servedBy(alice)))
      assert.deepStrictEqual(entries.map((e) => [e.source, e.formerSources]), [[
        `https://x.example/alice/posts#${id}`,
        ["https://x.example/alice/posts/shared", `https://x.example/alice/feed.json#urn:uuid:${id}`, `https://x.example/alice/tags/t/atom.xml#urn:uuid:${id}`]
      ]])
    }))

  it.effect("alice's feed, then bob's: bob's item is a slug conflict, alice's post kept (was: updated, replaced by bob's)", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* importFromUrls(["https://x.example/alice/feed.json"])).imported, 1)
      const summary = yield* importFromUrls(["https://x.example/bob/feed.json"])
      assert.deepStrictEqual([summary.updated, summary.failed], [0, 1])
      assert.match(summary.failures[0]!.reason, CONFLICT)
      assert.deepStrictEqual(yield* posts, [["shared", "Alice's.", `https://x.example/alice/feed.json#urn:uuid:${id}`]])
    }).pipe(Effect.provide(local)))

  it.effect("a post read through the API, then a feed of the origin naming its id: a conflict at its slug, a post of its own at another; the API's post unchanged (was: replaced, or moved to the feed's slug)", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* importFromUrls(["https://x.example/posts"])).imported, 1)
      const api = yield* posts
      assert.deepStrictEqual(api, [["shared", "The API's.", `https://x.example/posts#${id}`]])
      const bob = yield* importFromUrls(["https://x.example/bob/feed.json"])
      assert.deepStrictEqual([bob.updated, bob.failed], [0, 1])
      assert.match(bob.failures[0]!.reason, CONFLICT)
      const carol = yield* importFromUrls(["https://x.example/carol/feed.json"])
      assert.deepStrictEqual([carol.imported, carol.updated, carol.moves], [1, 0, []])
      assert.deepStrictEqual(yield* posts, [
        ["carol-s-title", "Carol's.", `https://x.example/carol/feed.json#urn:uuid:${id}`],
        ...api
      ])
    }).pipe(Effect.provide(local)))
})

describe("another Inkwell's site given by its address", () => {
  /** The importing side: its own SQLite database, the real processor, a real HTTP client. */
  const local = Layer.mergeAll(sqliteStack("sqlite::memory:"), ProcessorTest, feedClient)
  /** The other Inkwell, with its reader site at its own address (`path` under it), as deployed. */
  const site = (path = "") => siteServer((origin) => ({ url: `${origin}${path}` }))
  const origin = Effect.map(portOf, (port) => `http://127.0.0.1:${port}`)
  /** A published post, a draft and a scheduled post there, tagged `kept`. */
  const seedThree = Effect.forEach([
    { title: "Public one", tags: ["kept"] },
    { title: "Draft one", tags: ["kept"], status: "draft" },
    { title: "Scheduled one", tags: ["kept"], publishedAt: "2027-01-01T00:00:00Z" }
  ], (post) => Effect.map(postJson("/posts", newPost(post), { "x-api-key": SITE_KEY }), (answer) => assert.strictEqual(answer.status, 201)))
  const slugs = Effect.map(Effect.flatMap(PostRepository, (repository) => repository.list({})), (page) => page.items.map((p) => p.slug).sort())

  it.effect("with INKWELL_SOURCE_API_KEY, its page leads to its API, read with the key: its drafts and scheduled posts come (was: its feed, the public post only, nothing said)", () =>
    Effect.gen(function*() {
      yield* seedThree
      const base = yield* origin
      yield* Effect.gen(function*() {
        const summary = yield* importFromUrls([`${base}/`], { source: { apiKey: Redacted.make(SITE_KEY) } })
        assert.deepStrictEqual([summary.imported, summary.failed, summary.warnings], [3, 0, []])
        assert.deepStrictEqual(yield* slugs, ["draft-one", "public-one", "scheduled-one"])
        const draft = yield* (yield* PostRepository).getBySlug("draft-one")
        // Named as an import of its /posts names them: the same posts, whichever address is given.
        assert.match(draft.source, new RegExp(`^${base}/posts#[0-9a-f-]{36}$`))
      }).pipe(Effect.provide(local))
    }).pipe(Effect.provide(site())))

  it.effect("without a key, its page leads to its API too: every public post, not the feed's newest 20, and the summary says drafts were left", () =>
    Effect.gen(function*() {
      yield* seedThree
      for (let i = 1; i <= 21; i++) assert.strictEqual((yield* postJson("/posts", newPost({ title: `More ${i}` }), { "x-api-key": SITE_KEY })).status, 201)
      const base = yield* origin
      yield* Effect.gen(function*() {
        const summary = yield* importFromUrls([`${base}/tags/kept`])
        // A tag's page leads to that tag's list, as to its feeds.
        assert.strictEqual(summary.imported, 1)
        assert.deepStrictEqual(summary.warnings.map((w) => w.source), [`${base}/posts?tag=kept`])
        assert.match(summary.warnings[0]!.reason, /^read without a key: only its public posts were imported/)
        const all = yield* importFromUrls([`${base}/`])
        assert.deepStrictEqual([all.imported, all.unchanged, all.failed], [21, 1, 0])
      }).pipe(Effect.provide(local))
    }).pipe(Effect.provide(site())))

  it.effect("under a SITE_URL path the server also answers itself (no proxy), its page's second API link, at the root, is the one read", () =>
    Effect.gen(function*() {
      yield* seedThree
      const base = yield* origin
      yield* Effect.gen(function*() {
        const summary = yield* importFromUrls([`${base}/blog/`], { source: { apiKey: Redacted.make(SITE_KEY) } })
        assert.deepStrictEqual([summary.imported, summary.warnings], [3, []])
      }).pipe(Effect.provide(local))
    }).pipe(Effect.provide(site("/blog"))))

  it.effect("a key that no source used is said, naming what was read and where an Inkwell's API is (was: a feed read, nothing said)", () =>
    Effect.gen(function*() {
      yield* seedThree
      const base = yield* origin
      yield* Effect.gen(function*() {
        const summary = yield* importFromUrls([`${base}/rss.xml`], { source: { apiKey: Redacted.make(SITE_KEY) } })
        assert.strictEqual(summary.imported, 1)
        assert.deepStrictEqual(summary.warnings, [{
          source: `${base}/rss.xml`,
          reason: `INKWELL_SOURCE_API_KEY was not used: read as an RSS feed (${base}/rss.xml), not through another Inkwell's API, so only what it lists was imported (no drafts or scheduled posts); for another Inkwell, give --from-url its API's posts list (${base}/posts for a server at the root of its origin)`
        }])
      }).pipe(Effect.provide(local))
    }).pipe(Effect.provide(site())))

  /** Two public posts there, one whose slug is not its title's (as an RSS or Atom item's slug is made). */
  const seedOwnSlug = Effect.forEach([
    { title: "Public one" },
    { title: "Hello World", slug: "hw" }
  ], (post) => Effect.map(postJson("/posts", newPost(post), { "x-api-key": SITE_KEY }), (answer) => assert.strictEqual(answer.status, 201)))
  const stored = Effect.map(Effect.flatMap(PostRepository, (repository) => repository.list({})), (page) =>
    page.items.map((p) => [p.slug, p.source] as const).sort(([a], [b]) => a.localeCompare(b)))
  const FEEDS = ["feed.json", "rss.xml", "atom.xml"]

  it.effect("a site imported through a feed, then through its page (its API): the same posts, updated, whichever feed, its own slugs kept (was: each a slug conflict with the feed's)", () =>
    Effect.gen(function*() {
      yield* seedOwnSlug
      const base = yield* origin
      for (const feed of FEEDS) {
        yield* Effect.gen(function*() {
          const first = yield* importFromUrls([`${base}/${feed}`])
          assert.deepStrictEqual([first.imported, first.failed], [2, 0], feed)
          const summary = yield* importFromUrls([`${base}/`])
          assert.deepStrictEqual(summary.failures, [], feed)
          assert.deepStrictEqual([summary.imported, summary.updated + summary.unchanged], [0, 2], feed)
          // An RSS or Atom item's slug is its title's: the post moves to its own, found by the
          // name the feed its page declares gives it.
          assert.deepStrictEqual(summary.moves.map((m) => [m.from, m.to]), feed === "feed.json" ? [] : [["hello-world", "hw"]], feed)
          const posts = yield* stored
          assert.deepStrictEqual(posts.map(([slug]) => slug), ["hw", "public-one"], feed)
          for (const [, source] of posts) assert.match(source, new RegExp(`^${base}/posts#[0-9a-f-]{36}$`), feed)
          const again = yield* importFromUrls([`${base}/`])
          assert.deepStrictEqual([again.unchanged, again.failed], [2, 0], feed)
        }).pipe(Effect.provide(local))
      }
    }).pipe(Effect.provide(site())))

  it.effect("a site imported through a feed, then through its /posts (no page declaring the feed): a slug conflict, nothing replaced", () =>
    Effect.gen(function*() {
      yield* seedOwnSlug
      const base = yield* origin
      // Nothing proves a feed is that API's site's (another Inkwell on the origin names its copies
      // by the same ids), so neither takes the other's post; the conflict is reported.
      yield* Effect.gen(function*() {
        assert.deepStrictEqual((yield* importFromUrls([`${base}/feed.json`])).imported, 2)
        const before = yield* stored
        const summary = yield* importFromUrls([`${base}/posts`])
        assert.deepStrictEqual([summary.imported, summary.updated, summary.unchanged, summary.failed], [0, 0, 0, 2])
        for (const failure of summary.failures) assert.match(failure.reason, /belongs to a post from another source/)
        assert.deepStrictEqual(yield* stored, before)
      }).pipe(Effect.provide(local))
    }).pipe(Effect.provide(site())))

  it.effect("a site imported through its page, then through a feed of it, then its page again: the same posts, never a copy (was: each feed item imported beside its post)", () =>
    Effect.gen(function*() {
      yield* seedOwnSlug
      const base = yield* origin
      for (const feed of FEEDS) {
        yield* Effect.gen(function*() {
          assert.deepStrictEqual((yield* importFromUrls([`${base}/`])).imported, 2, feed)
          const ids = (yield* stored).map(([, source]) => source).sort()
          for (const url of [`${base}/${feed}`, `${base}/`]) {
            const summary = yield* importFromUrls([url])
            assert.deepStrictEqual([summary.imported, summary.failed], [0, 0], `${feed} ${url}`)
            const posts = yield* stored
            assert.strictEqual(posts.length, 2, `${feed} ${url}`)
            // Each is the post it was: known by its API name again once its page is read.
            if (url === `${base}/`) assert.deepStrictEqual(posts.map(([, source]) => source).sort(), ids, feed)
          }
        }).pipe(Effect.provide(local))
      }
    }).pipe(Effect.provide(site())))

  it.scoped("a post of another site at one of those slugs is still a conflict, even naming the same id", () =>
    Effect.gen(function*() {
      yield* seedOwnSlug
      const base = yield* origin
      yield* Effect.gen(function*() {
        assert.strictEqual((yield* importFromUrls([`${base}/`])).imported, 2)
        const ours = yield* (yield* PostRepository).getBySlug("public-one")
        const id = ours.source.slice(ours.source.indexOf("#") + 1)
        // Another origin: its feed names the same post id, at the same slug.
        const other = yield* serve(
          "application/rss+xml",
          `<?xml version="1.0"?><rss version="2.0"><channel><title>Other</title><item><guid isPermaLink="false">urn:uuid:${id}</guid><title>Public one</title><description>Not the same post</description></item></channel></rss>`
        )
        const summary = yield* importFromUrls([`${other.url}/rss.xml`])
        assert.deepStrictEqual([summary.imported, summary.updated, summary.failed], [0, 0, 1])
        assert.strictEqual(summary.failures[0]!.reason, `slug "public-one" belongs to a post from another source, "${ours.source}" (--on-conflict fail)`)
        assert.deepStrictEqual((yield* stored).map(([slug, source]) => [slug, source.startsWith(`${base}/posts#`)]), [["hw", true], ["public-one", true]])
      }).pipe(Effect.provide(local))
    }).pipe(Effect.provide(site())))

  it.scoped("a site's page whose API link leads to no API: its feed is read, and the summary says why (with a key or without)", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const server = yield* testServer((req, res) => {
        seen.push(`${req.url} ${req.headers["x-api-key"] ?? "-"}`)
        if (req.url === "/" || req.url === "/locked/") {
          const api = req.url === "/" ? "/posts" : "/locked/posts"
          res.writeHead(200, { "content-type": "text/html" })
          res.end(`<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml"><link rel="alternate" type="application/vnd.inkwell.posts+json" href="${api}"></head></html>`)
        } else if (req.url === "/locked/posts") {
          res.writeHead(401)
          res.end()
        } else rssAtFeedXml(req, res)
      })
      for (const apiKey of [Redacted.make("k"), undefined]) {
        const summary = yield* importFromUrls([`${server.url}/`], { source: { apiKey } }).pipe(Effect.provide(local))
        assert.strictEqual(summary.imported > 0 || summary.unchanged > 0, true)
        assert.deepStrictEqual(summary.warnings, [{
          source: `${server.url}/`,
          reason: `an Inkwell site, read through an RSS feed (${server.url}/feed.xml), which lists its newest public posts only: the API its page names did not answer as one (${server.url}/posts: HTTP 404 (after 1 attempt(s))); give --from-url the URL its API answers at`
        }])
      }
      // The key went nowhere: the API link is fetched without it, to tell what it is.
      assert.deepStrictEqual(seen.splice(0), ["/ -", "/posts -", "/feed.xml -", "/ -", "/posts -", "/feed.xml -"])
      // An API that is there but refuses (or fails, or times out) fails the source: its feed would
      // bring the newest public posts only, where a later run can read the API.
      const locked = yield* importFromUrls([`${server.url}/locked/`]).pipe(Effect.provide(local))
      assert.deepStrictEqual([locked.imported, locked.failures], [0, [{ source: `${server.url}/locked/`, reason: `${server.url}/locked/posts: HTTP 401 (after 1 attempt(s))` }]])
      assert.deepStrictEqual(seen, ["/locked/ -", "/locked/posts -"])
    }))
})
