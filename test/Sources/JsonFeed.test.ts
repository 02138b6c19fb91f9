import { assert, describe, it } from "@effect/vitest"
import { DateTime, Either } from "effect"
import { Post, PostId, PostInput } from "../../src/Domain/Post.js"
import { processInputSync } from "../../src/Processing/processPost.js"
import { feedItemId, JSON_FEED_VERSION, parseJsonFeed, toJsonFeed } from "../../src/Sources/JsonFeed.js"

const post = (input: ConstructorParameters<typeof PostInput>[0], version = 1): Post => {
  const processed = Either.getOrThrow(processInputSync(new PostInput(input), "test"))
  const at = DateTime.unsafeMake("2024-03-01T12:00:00Z")
  return new Post({ ...processed, id: PostId.make(`id-${processed.slug}`), createdAt: at, updatedAt: at, version })
}

const site = { title: "My Inkwell", url: "https://ink.example/", feedUrl: "https://ink.example/feed.json" }

describe("toJsonFeed", () => {
  const posts = [
    post({ title: "First", body: "Hello [link](/posts/other) and ![img](pics/a.png).", tags: ["x"], authors: ["Ann"], publishedAt: "2024-02-01T00:00:00Z" }),
    post({ title: "Secret", body: "draft", status: "draft" }),
    post({ title: "Second", body: "Plain.", summary: "Short summary" })
  ]

  it("writes published posts as JSON Feed 1.1 with absolute links", () => {
    const feed = toJsonFeed(posts, site)
    assert.strictEqual(feed["version"], JSON_FEED_VERSION)
    assert.strictEqual(feed["feed_url"], site.feedUrl)
    const items = feed["items"] as Array<Record<string, unknown>>
    assert.deepStrictEqual(items.map((i) => i["title"]), ["First", "Second"])
    const first = items[0]!
    // Not its URL: an id for the post's life, a version 5 UUID when the stored id is none.
    assert.match(first["id"] as string, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.notStrictEqual(first["id"], items[1]!["id"])
    assert.strictEqual(feedItemId(posts[0]!), first["id"])
    assert.strictEqual(first["url"], "https://ink.example/posts/first")
    assert.include(first["content_html"] as string, "href=\"https://ink.example/posts/other\"")
    assert.include(first["content_html"] as string, "src=\"https://ink.example/posts/pics/a.png\"")
    assert.strictEqual(first["date_published"], "2024-02-01T00:00:00.000Z")
    assert.deepStrictEqual(first["tags"], ["x"])
    assert.deepStrictEqual(first["authors"], [{ name: "Ann" }])
    assert.deepStrictEqual(first["_inkwell"], { slug: "first" })
    assert.strictEqual(items[1]!["summary"], "Short summary")
    assert.strictEqual(items[1]!["date_published"], "2024-03-01T12:00:00.000Z", "createdAt when never published")
    assert.isUndefined(items[1]!["tags"])
  })

  it("round-trips through the reader, keeping slugs", () => {
    const json = JSON.parse(JSON.stringify(toJsonFeed(posts, site))) as unknown
    const parsed = Either.getOrThrow(parseJsonFeed(json, site.feedUrl))
    const entries = [...parsed.items].flatMap((i) => (i._tag === "Entry" ? [i] : []))
    assert.deepStrictEqual(entries.map((e) => e.input.slug), ["first", "second"])
    assert.deepStrictEqual(entries.map((e) => e.source), [`${site.feedUrl}#${feedItemId(posts[0]!)}`, `${site.feedUrl}#${feedItemId(posts[2]!)}`])
    assert.deepStrictEqual(entries[0]!.input.authors, ["Ann"])
    assert.strictEqual(entries[0]!.input.publishedAt, "2024-02-01T00:00:00.000Z")
  })

  it("keeps another Inkwell's titles and summaries exactly as written", () => {
    const feed = toJsonFeed([post({ title: "Vec<T> & <b>bold</b> AT&amp;T", body: "x", summary: "Box<dyn Fn> &lt;3" })], site)
    const parsed = Either.getOrThrow(parseJsonFeed(JSON.parse(JSON.stringify(feed)), site.feedUrl))
    const entry = [...parsed.items][0]!
    assert.strictEqual(entry._tag, "Entry")
    if (entry._tag === "Entry") {
      assert.strictEqual(entry.input.title, "Vec<T> & <b>bold</b> AT&amp;T")
      assert.strictEqual(entry.input.summary, "Box<dyn Fn> &lt;3")
    }
  })

  it("date_modified is the author's update, never the time the post was stored", () => {
    const stored = (input: ConstructorParameters<typeof PostInput>[0]) => {
      const p = post(input)
      return new Post({ ...p, updatedAt: DateTime.unsafeMake("2026-11-26T18:00:00Z") })
    }
    const feed = toJsonFeed([
      stored({ title: "Never updated", body: "x", publishedAt: "2024-02-01T00:00:00Z" }),
      stored({ title: "Updated", body: "x", publishedAt: "2024-02-01T00:00:00Z", updatedAt: "2024-05-01T00:00:00Z" })
    ], site)
    const items = JSON.parse(JSON.stringify(feed)).items as Array<Record<string, unknown>>
    assert.isUndefined(items[0]!["date_modified"])
    assert.strictEqual(items[1]!["date_modified"], "2024-05-01T00:00:00.000Z")
    const parsed = Either.getOrThrow(parseJsonFeed(JSON.parse(JSON.stringify(feed)), site.feedUrl))
    const inputs = [...parsed.items].flatMap((i) => (i._tag === "Entry" ? [i.input] : []))
    assert.deepStrictEqual(inputs.map((i) => i.updatedAt), [undefined, "2024-05-01T00:00:00.000Z"])
  })

  it("an item's title is plain text, as RSS and Atom write it; an Inkwell importing it keeps the title as written (was: backticks in `title`)", () => {
    const coded = post({ title: "Announcing `async fn`", body: "x", publishedAt: "2024-02-01T00:00:00Z" })
    const plain = post({ title: "Plain `lone", body: "x", publishedAt: "2024-02-01T00:00:00Z" })
    const feed = JSON.parse(JSON.stringify(toJsonFeed([coded, plain], site)))
    const items = feed.items as Array<Record<string, unknown>>
    assert.deepStrictEqual(items.map((i) => i["title"]), ["Announcing async fn", "Plain `lone"])
    // The title as written only where it is not the plain one.
    assert.deepStrictEqual(items.map((i) => i["_inkwell"]), [{ slug: "announcing-async-fn", title: "Announcing `async fn`" }, { slug: "plain-lone" }])
    const parsed = Either.getOrThrow(parseJsonFeed(feed, site.feedUrl))
    const inputs = [...parsed.items].flatMap((i) => (i._tag === "Entry" ? [i.input] : []))
    assert.deepStrictEqual(inputs.map((i) => [i.title, i.slug]), [["Announcing `async fn`", "announcing-async-fn"], ["Plain `lone", "plain-lone"]])
    // Another feed's item is read by its `title` as before.
    const foreign = Either.getOrThrow(parseJsonFeed({ ...feed, items: [{ ...items[0], _inkwell: undefined }] }, site.feedUrl))
    const [entry] = [...foreign.items]
    assert.strictEqual(entry?._tag === "Entry" ? entry.input.title : undefined, "Announcing async fn")
  })

  it("a Zola internal link a directory import resolved reaches an Inkwell importing the feed as the target's page on this site, absolute: no internal link left", () => {
    const linking = post({ title: "First", body: "See [the second](@/notes/b.md#a-heading).", publishedAt: "2024-02-01T00:00:00Z" })
    const stored = new Post({ ...linking, html: linking.html.replace(`href="@/notes/b.md#a-heading"`, `href="./the-second#a-heading"`) })
    const feed = JSON.parse(JSON.stringify(toJsonFeed([stored], { ...site, postUrl: (p) => `https://ink.example/p/${p.slug}` })))
    const [entry] = [...Either.getOrThrow(parseJsonFeed(feed, site.feedUrl)).items]
    if (entry?._tag !== "Entry") return assert.fail("no entry")
    const html = Either.getOrThrow(processInputSync(entry.input, entry.source)).html
    assert.include(html, `href="https://ink.example/p/the-second#a-heading"`)
    assert.notInclude(html, "@/")
  })

  it("date_modified is never later than the post's last write (was: a stored `updated` of 2031 as it was)", () => {
    const typo = post({ title: "Typo", body: "x", publishedAt: "2021-05-01T00:00:00Z", updatedAt: "2031-05-05T00:00:00Z" })
    const items = toJsonFeed([typo], site)["items"] as Array<Record<string, unknown>>
    // `post` stores it at 2024-03-01T12:00:00Z.
    assert.strictEqual(items[0]!["date_modified"], "2024-03-01T12:00:00.000Z")
  })

  it("lists each of a post's tags once whatever its case, or as `tagsOf` names them", () => {
    const tagged = new Post({ ...post({ title: "Tagged", body: "x" }), tags: ["Rust", "rust", "Web"] })
    const items = (options: Partial<Parameters<typeof toJsonFeed>[1]>) =>
      toJsonFeed([tagged], { ...site, ...options })["items"] as Array<Record<string, unknown>>
    assert.deepStrictEqual(items({})[0]!["tags"], ["Rust", "Web"])
    assert.deepStrictEqual(items({ tagsOf: () => ["RUST"] })[0]!["tags"], ["RUST"])
  })

  it("an item with date_modified and no date_published is published then, as an Atom entry with <updated> alone (was: no date, the import's time)", () => {
    const feed = parseJsonFeed({
      version: JSON_FEED_VERSION,
      items: [
        { id: "a", title: "A", content_text: "x", date_modified: "2024-05-01T10:00:00Z" },
        { id: "b", title: "B", content_text: "x", date_published: "2024-04-01T10:00:00Z", date_modified: "2024-05-01T10:00:00Z" }
      ]
    }, "https://x.example/f.json")
    if (Either.isLeft(feed)) return assert.fail(feed.left.message)
    const dates = Array.from(feed.right.items, (item) => (item._tag === "Entry" ? [item.input.publishedAt, item.input.updatedAt] : item.reason))
    assert.deepStrictEqual(dates, [
      ["2024-05-01T10:00:00.000Z", "2024-05-01T10:00:00.000Z"],
      ["2024-04-01T10:00:00.000Z", "2024-05-01T10:00:00.000Z"]
    ])
  })

  it("rejects a document that is not a JSON Feed with the failing path", () => {
    const result = parseJsonFeed({ version: "1.0", items: [] }, "https://x.example/f.json")
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) {
      assert.strictEqual(result.left.path, "version")
      assert.strictEqual(result.left.format, "json-feed")
    }
  })
})

describe("parseJsonFeed's items", () => {
  /**
   * `items` whose elements count how often they are read. The feed's `items` were checked by
   * `Schema.Array` when the feed was parsed, every item read in that one call (53 to 105 ms on
   * 19 MB of small items, nothing else running meanwhile): each is read when the import takes
   * it, as the stream of items gives turns of the event loop between them (FeedSource.ts).
   */
  const counted = (items: ReadonlyArray<unknown>) => {
    const reads: Array<number> = []
    const proxy = new Proxy(items, {
      get: (target, key, receiver) => {
        if (typeof key === "string" && /^\d+$/.test(key)) reads.push(Number(key))
        return Reflect.get(target, key, receiver)
      }
    })
    return { proxy, reads }
  }

  it("parsing a feed reads none of its items: each is read, and checked, when it is taken", () => {
    const { proxy, reads } = counted(Array.from({ length: 1000 }, (_, i) => i === 2 ? { id: 3, title: 5 } : { id: `i-${i}`, title: `T${i}`, content_text: "x" }))
    const feed = parseJsonFeed({ version: JSON_FEED_VERSION, items: proxy }, "https://x.example/f.json")
    if (Either.isLeft(feed)) return assert.fail(feed.left.message)
    assert.deepStrictEqual(reads, [], "items read when the feed was parsed")
    const iterator = feed.right.items[Symbol.iterator]()
    const taken = [iterator.next().value, iterator.next().value, iterator.next().value]
    assert.deepStrictEqual(reads, [0, 1, 2])
    // Each checked when taken, named by its index and field as before.
    assert.deepStrictEqual(taken.map((item) => item?._tag === "Rejected" ? item.reason : item?.source), [
      "https://x.example/f.json#i-0",
      "https://x.example/f.json#i-1",
      "items.2.title: Expected string, actual 5"
    ])
  })

  it("items that are no array: refused as before, naming the field", () => {
    for (const items of [{}, 5, "x", null, { length: 2 }]) {
      const result = parseJsonFeed({ version: JSON_FEED_VERSION, items }, "https://x.example/f.json")
      if (Either.isRight(result)) return assert.fail(`items ${JSON.stringify(items)} read`)
      assert.strictEqual(result.left.message, `https://x.example/f.json: cannot read as a JSON Feed at items: Expected ReadonlyArray<unknown>, actual ${JSON.stringify(items)}`)
    }
    const missing = parseJsonFeed({ version: JSON_FEED_VERSION }, "https://x.example/f.json")
    assert.isTrue(Either.isLeft(missing) && missing.left.message.endsWith("at items: is missing"))
  })
})
