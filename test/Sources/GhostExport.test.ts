import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, Exit, Layer, Option, Stream, TestClock } from "effect"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { ghostExport, ghostExportFile } from "../../src/Sources/GhostExport.js"
import { importFromUrls } from "../../src/Sources/ImportFromUrl.js"
import { feedItemId } from "../../src/Sources/JsonFeed.js"
import { makeNewPost } from "../fixtures/posts.js"
import { ProcessorTest, sqliteStack } from "../Import/harness.js"
import { collect, fixture, servedBy } from "./harness.js"

/** The bytes in small chunks, so tokens and UTF-8 sequences straddle chunk boundaries. */
const chunked = (text: string, size: number): Stream.Stream<Uint8Array> => {
  const bytes = new TextEncoder().encode(text)
  const chunks: Array<Uint8Array> = []
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size))
  return Stream.fromIterable(chunks)
}

const failureTag = <A, E extends { readonly _tag: string }>(exit: Exit.Exit<A, E>) =>
  Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined

describe("Ghost export", () => {
  it.effect("joins tags and authors that come after the posts, reading in small chunks", () =>
    Effect.gen(function*() {
      const { entries, rejected } = yield* collect(
        ghostExport(chunked(fixture("ghost-export.json"), 7), { name: "export.json", siteUrl: "https://old.example.com/" })
      )
      assert.deepStrictEqual(entries.map((e) => e.source), ["export.json#hello-ghost", "export.json#draft-post", "export.json#legacy"])

      const [hello, draft, legacy] = entries.map((e) => e.input)
      assert.strictEqual(hello!.title, "Hello Ghost — Café")
      assert.strictEqual(hello!.slug, "hello-ghost")
      assert.strictEqual(hello!.status, "published")
      // ordered by sort_order; the internal "#" tag is left out
      assert.deepStrictEqual(hello!.tags, ["Getting Started", "News"])
      assert.deepStrictEqual(hello!.authors, ["Second Author", "Ghost Writer"])
      assert.strictEqual(hello!.publishedAt, "2023-11-01T10:00:00.000Z")
      assert.strictEqual(hello!.updatedAt, "2023-11-02T10:00:00.000Z")
      assert.strictEqual(hello!.summary, "An excerpt")
      assert.include(hello!.body, "<a href=\"https://old.example.com/about/\">about</a>")
      assert.include(hello!.body, "<img src=\"https://old.example.com/content/images/a.png\">")
      assert.strictEqual(hello!.metadata?.["featureImage"], "https://old.example.com/content/images/feature.png")
      assert.strictEqual(hello!.metadata?.["ghostId"], "p1")

      assert.strictEqual(draft!.status, "draft")
      assert.deepStrictEqual(draft!.tags, ["News"])
      assert.isUndefined(draft!.publishedAt)
      // Created then (Ghost's space-separated form; its reading as UTC on any host is isoDate's
      // test), as an export's record would say: a draft keeps its place among drafts. Without
      // `created_at` (the others) the import's time.
      const created = entries.map((e) => (e.createdAt === undefined ? undefined : DateTime.formatIso(e.createdAt)))
      assert.deepStrictEqual(created, [undefined, "2023-10-20T08:30:00.000Z", undefined])

      // Ghost 1.x exports: epoch milliseconds and a single author_id
      assert.strictEqual(legacy!.publishedAt, "2014-05-13T16:53:20.000Z")
      assert.deepStrictEqual(legacy!.authors, ["Second Author"])
      assert.strictEqual(legacy!.metadata?.["visibility"], "members")

      assert.deepStrictEqual(
        rejected.map((r) => [r.source, r.skipped]),
        [["export.json#about", true], ["export.json#lexical-only", false], ["export.json#posts.5", false]]
      )
      assert.include(rejected[1]!.reason, "no html")
    }))

  it.effect("a date that is there but unreadable fails its post, naming the field and the value", () =>
    Effect.gen(function*() {
      const post = (slug: string, dates: Record<string, unknown>) => ({ id: slug, title: slug, slug, html: "<p>x</p>", status: "published", ...dates })
      const ghost = JSON.stringify({
        db: [{
          meta: { version: "5.0.0" },
          data: {
            posts: [
              post("bad-published", { published_at: "garbage" }),
              post("bad-updated", { published_at: "2024-01-02T10:00:00.000Z", updated_at: "2024-13-01 10:00:00" }),
              post("bad-created", { created_at: true }),
              post("out-of-range", { published_at: 1e20 }),
              post("good", { published_at: "2024-01-02T10:00:00.000Z", updated_at: null })
            ]
          }
        }]
      })
      const { entries, rejected } = yield* collect(ghostExport(chunked(ghost, 64), { name: "g.json" }))
      assert.deepStrictEqual(entries.map((e) => e.source), ["g.json#good"])
      assert.deepStrictEqual(rejected.map((r) => [r.source, r.reason.split(" (")[0]]), [
        ["g.json#bad-published", "published_at: \"garbage\" is not a date"],
        ["g.json#bad-updated", "updated_at: \"2024-13-01 10:00:00\" is not a date"],
        ["g.json#bad-created", "created_at: expected a date, got boolean"],
        ["g.json#out-of-range", "published_at: 100000000000000000000 is not a date"]
      ])
    }))

  it.effect("a slug that is no valid slug fails its post, naming it, rather than the post moving to a URL made from its title", () =>
    Effect.gen(function*() {
      const ghost = JSON.stringify({
        db: [{
          meta: { version: "5.0.0" },
          data: {
            posts: [
              { id: "p1", title: "Bad Slug", slug: "Bad Slug", html: "<p>x</p>", status: "published" },
              { id: "p2", title: "Good", slug: "good", html: "<p>y</p>", status: "published" }
            ]
          }
        }]
      })
      const { entries, rejected } = yield* collect(ghostExport(chunked(ghost, 64), { name: "g.json" }))
      assert.deepStrictEqual(entries.map((e) => e.input.slug), ["good"])
      assert.deepStrictEqual(rejected.map((r) => r.source), ["g.json#Bad Slug"])
      assert.match(rejected[0]!.reason, /^slug "Bad Slug" is not a valid slug/)
    }))

  it.effect("a scheduled post stays scheduled: published, dated when Ghost would have published it", () =>
    Effect.gen(function*() {
      const ghost = JSON.stringify({
        db: [{
          meta: { version: "5.0.0" },
          data: {
            posts: [
              { id: "p1", title: "Later", slug: "later", html: "<p>x</p>", status: "scheduled", published_at: "2099-01-02T10:00:00.000Z" },
              { id: "p2", title: "Undated", slug: "undated", html: "<p>y</p>", status: "scheduled", published_at: null },
              { id: "p3", title: "Draft", slug: "draft", html: "<p>z</p>", status: "draft" }
            ]
          }
        }]
      })
      const { entries, rejected } = yield* collect(ghostExport(chunked(ghost, 64), { name: "g.json" }))
      assert.deepStrictEqual(entries.map((e) => [e.input.slug, e.input.status, e.input.publishedAt]), [
        ["later", "published", "2099-01-02T10:00:00.000Z"],
        ["draft", "draft", undefined]
      ])
      assert.strictEqual(entries[0]!.input.metadata?.["ghostStatus"], "scheduled")
      assert.deepStrictEqual(rejected.map((r) => [r.source, r.reason]), [
        ["g.json#undated", "status \"scheduled\" without a published_at: no time to publish it at"]
      ])
    }))

  it.effect("pages are included on request; without a site URL the placeholder is dropped", () =>
    Effect.gen(function*() {
      const { entries } = yield* collect(ghostExport(chunked(fixture("ghost-export.json"), 4096), { name: "g", includePages: true }))
      assert.include(entries.map((e) => e.source), "g#about")
      assert.include(entries[0]!.input.body, "<a href=\"/about/\">about</a>")
    }))

  it.effect("reads a file from disk twice, as a stream", () =>
    Effect.gen(function*() {
      const path = new URL("../fixtures/feeds/ghost-export.json", import.meta.url).pathname
      const { entries } = yield* collect(ghostExportFile(path)).pipe(Effect.provide(NodeFileSystem.layer))
      assert.strictEqual(entries.length, 3)
      assert.strictEqual(entries[0]!.source, `${path}#hello-ghost`)
    }))

  it.effect("malformed JSON fails with a DecodeError naming the position", () =>
    Effect.gen(function*() {
      const broken = fixture("ghost-export.json").replace("\"title\":\"Draft post\"", "\"title\" \"Draft post\"")
      const exit = yield* collect(ghostExport(chunked(broken, 64), { name: "broken.json" })).pipe(Effect.exit)
      const error = failureTag(exit)
      assert.strictEqual(error?._tag, "DecodeError")
      if (error?._tag === "DecodeError") {
        assert.strictEqual(error.url, "broken.json")
        assert.match(error.path, /byte \d+/)
      }
      const truncated = yield* collect(ghostExport(chunked(fixture("ghost-export.json").slice(0, 500), 64), { name: "t" })).pipe(Effect.exit)
      assert.strictEqual(failureTag(truncated)?._tag, "DecodeError")
      // Said plainly, without the parser's internal states.
      assert.match(failureTag(truncated)?.message ?? "", /^t: cannot read as a Ghost export at byte \d+: the JSON ends before it is complete \(cut off\?\)$/)
      assert.notInclude(failureTag(exit)?.message ?? "", "in state")
    }))

  /** `parts` as bytes: strings as UTF-8, arrays as the bytes they are (0x92: Windows-1252's ’, never UTF-8 alone). */
  const bytesOf = (...parts: ReadonlyArray<string | ReadonlyArray<number> | Uint8Array>): Uint8Array =>
    Uint8Array.from(Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p)))))
  const inChunks = (bytes: Uint8Array, size: number) => {
    const chunks: Array<Uint8Array> = []
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size))
    return Stream.fromIterable(chunks)
  }
  const notUtf8 = (offset: number) =>
    `not valid UTF-8: invalid or truncated sequence at byte offset ${offset}; not imported rather than imported with U+FFFD in place of what the source wrote`

  it.effect("bytes that are not UTF-8 fail only the posts they are in or joined to, naming each one's first, wherever the chunks split (was: the whole export was refused)", () =>
    Effect.gen(function*() {
      const post = (id: string, title: string) => `{"id":"${id}","slug":"${id}","title":"${title}","html":"<p>x</p>","status":"published"}`
      const parts = [
        `{"db":[{"meta":{"version":"5.0.0"},"data":{"posts":[`,
        `{"id":"p1","slug":"p1","title":"Caf`, [0xe2, 0x78], `s","html":"<p>It`, [0x92], `s</p>"},`,
        post("p2", "Kept \ufffd as written"), ",", post("p3", "Tagged"), ",", post("p4", "Authored"),
        `],"tags":[{"id":"t1","name":"Fine"},{"id":"t2","name":"Bad`, [0x92], `"}],`,
        `"users":[{"id":"u1","name":"Ann"},{"id":"u2","name":"Jos`, [0x92], `"}],`,
        `"posts_tags":[{"post_id":"p2","tag_id":"t1"},{"post_id":"p3","tag_id":"t2"}],`,
        `"posts_authors":[{"post_id":"p2","author_id":"u1"},{"post_id":"p4","author_id":"u2"}],`,
        // Not imported: a bad byte there fails nothing.
        `"post_revisions":[{"id":"r1","lexical":"old `, [0x92], `"}]}}]}`
      ] as const
      const offset = (index: number) => bytesOf(...parts.slice(0, index)).length
      const bytes = bytesOf(...parts)
      for (const size of [7, 64, 1 << 16]) {
        const { entries, rejected } = yield* collect(ghostExport(inChunks(bytes, size), { name: "export.json" }))
        assert.deepStrictEqual(entries.map((e) => [e.input.title, e.input.tags, e.input.authors]), [["Kept \ufffd as written", ["Fine"], ["Ann"]]], `chunks of ${size}`)
        assert.deepStrictEqual(rejected.map((r) => [r.source, r.reason]), [
          ["export.json#p1", notUtf8(offset(2))],
          ["export.json#p3", notUtf8(offset(12))],
          ["export.json#p4", notUtf8(offset(15))]
        ], `chunks of ${size}`)
      }
    }))

  it.effect("a bad byte in a key of a tag, user or join row fails the posts joined to it; one in a value not imported fails nothing (was: an internal tag published, or a tag or author dropped, without a word)", () =>
    Effect.gen(function*() {
      const post = (id: string) => `{"id":"${id}","slug":"${id}","title":"${id}","html":"<p>x</p>","status":"published"},`
      const parts = [
        `{"db":[{"meta":{"version":"5.0.0"},"data":{"posts":[`,
        post("p1"), post("p2"), post("p3"), post("p4"), post("p5"), `{"id":"p6","slug":"p6","title":"p6","html":"<p>x</p>"}`,
        `],"tags":[{"id":"t1","name":"Secret","visibil`, [0x92], `ity":"internal"},{"id":"t2","na`, [0x92], `me":"Gone"},`,
        `{"id":"t3","name":"Fine","description":"Caf`, [0x92], `"}],`,
        `"users":[{"id":"u1","na`, [0x92], `me":"Ann"},{"id":"u2","name":"Bob","bio":"It`, [0x92], `s me"}],`,
        `"posts_tags":[{"post_id":"p1","tag_id":"t1"},{"post_id":"p2","tag_id":"t2"},{"post_id":"p3","tag_i`, [0x92], `d":"t3"},`,
        `{"post_id":"p5","tag_id":"t3"},{"post_id":"p6","tag_id":"t3","sort_ord`, [0x92], `er":0}],`,
        `"posts_authors":[{"post_id":"p4","author_id":"u1"},{"post_id":"p5","author_id":"u2"}]}}]}`
      ] as const
      const offset = (index: number) => bytesOf(...parts.slice(0, index)).length
      const { entries, rejected } = yield* collect(ghostExport(inChunks(bytesOf(...parts), 64), { name: "export.json" }))
      assert.deepStrictEqual(entries.map((e) => [e.input.title, e.input.tags, e.input.authors]), [["p5", ["Fine"], ["Bob"]]])
      assert.deepStrictEqual(rejected.map((r) => [r.source, r.reason]), [
        ["export.json#p1", notUtf8(offset(8))],
        ["export.json#p2", notUtf8(offset(10))],
        ["export.json#p3", notUtf8(offset(21))],
        ["export.json#p4", notUtf8(offset(16))],
        ["export.json#p6", notUtf8(offset(24))]
      ])
      // A join row whose post_id's key is damaged names no post that can be told.
      const join = `{"db":[{"meta":{"version":"5.0.0"},"data":{"posts":[],"posts_tags":[{"tag_id":"t1","post_i`
      const error = yield* collect(ghostExport(inChunks(bytesOf(join, [0x92], `d":"p1"}]}}]}`), 64), { name: "export.json" })).pipe(Effect.flip)
      assert.strictEqual(error.message, `export.json: cannot read as a Ghost export at byte ${join.length}: not valid UTF-8 (invalid or truncated sequence)`)
    }))

  it.effect("a bad byte where no post can be told whose it is refuses the export, naming it; positions after one are the file's own", () =>
    Effect.gen(function*() {
      const head = `{"db":[{"meta":{"version":"5.0.0"},"data":{"posts":[{"id":"p1","slug":"p1","title":"Caf`
      const message = (bytes: Uint8Array, size = 64) =>
        collect(ghostExport(inChunks(bytes, size), { name: "export.json" })).pipe(Effect.flip, Effect.map((e) => e.message))
      const refused = (offset: number) => `export.json: cannot read as a Ghost export at byte ${offset}: not valid UTF-8 (invalid or truncated sequence)`
      // In the structure, outside any string.
      const structure = `{"db":[{"meta":{"version":"5.0.0"},"data":{"posts":[`
      assert.strictEqual(yield* message(bytesOf(structure, [0x92], `]}}]}`)), refused(structure.length))
      // In a table's name: its rows would be passed over.
      const table = `{"db":[{"meta":{"version":"5.0.0"},"data":{"pos`
      assert.strictEqual(yield* message(bytesOf(table, [0x92], `ts":[{"id":"p1","slug":"p1","html":"x"}]}}]}`)), refused(table.length))
      // In a tag's id, or a join row's post_id: which posts it is for cannot be told.
      const tags = `{"db":[{"meta":{"version":"5.0.0"},"data":{"posts":[],"tags":[{"id":"t`
      assert.strictEqual(yield* message(bytesOf(tags, [0x92], `","name":"x"}]}}]}`)), refused(tags.length))
      const join = `{"db":[{"meta":{"version":"5.0.0"},"data":{"posts":[],"posts_tags":[{"tag_id":"t1","post_id":"p`
      assert.strictEqual(yield* message(bytesOf(join, [0x92], `"}]}}]}`)), refused(join.length))
      // Cut off inside a sequence at the very end, in chunks of any size.
      for (const size of [7, 1 << 16]) assert.strictEqual(yield* message(bytesOf(head, [0xc3]), size), refused(head.length))
      // A JSON error after a bad byte is where the file has it, not where the parser saw it.
      const before = bytesOf(head, [0x92], `","html":"x"} `)
      assert.strictEqual(
        yield* message(bytesOf(before, `x]}}]}`)),
        `export.json: cannot read as a Ghost export at byte ${before.length}: Unexpected "x"`
      )
    }))

  it.effect("a post is known by its Ghost uuid, which a post the import creates takes as its id (lowercased); without a UUID, by its slug, as before", () =>
    Effect.gen(function*() {
      const ghost = JSON.stringify({
        db: [{
          meta: { version: "5.0.0" },
          data: {
            posts: [
              { id: "p1", uuid: "5E4B0C6A-1D2E-4F30-8A4B-5C6D7E8F9A0B", title: "Upper", slug: "upper", html: "<p>x</p>", status: "published" },
              { id: "p2", uuid: "8d2c6f3e", title: "Short", slug: "short", html: "<p>y</p>", status: "published" },
              { id: "p3", title: "None", slug: "none", html: "<p>z</p>", status: "published" },
              { id: "p4", uuid: 7, title: "Number", slug: "number", html: "<p>w</p>", status: "published" }
            ]
          }
        }]
      })
      const { items, rejected } = yield* collect(ghostExport(chunked(ghost, 64), { name: "g.json" }))
      assert.deepStrictEqual(rejected, [])
      assert.deepStrictEqual(
        items.map((i) => i._tag === "Entry" ? [i.source, i.id, i.formerSources] : undefined),
        [
          ["g.json#5e4b0c6a-1d2e-4f30-8a4b-5c6d7e8f9a0b", "5e4b0c6a-1d2e-4f30-8a4b-5c6d7e8f9a0b", ["g.json#upper"]],
          ["g.json#short", undefined, undefined],
          ["g.json#none", undefined, undefined],
          ["g.json#number", undefined, undefined]
        ]
      )
    }))

  describe("imported into SQLite", () => {
    const URL = "https://ghost.example/export.json"
    const UUID = "0B6F0D5E-7C1A-4E2B-9D3C-4A5B6C7D8E9F"
    const OTHER = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
    const LEGACY = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"
    const post = (uuid: string | undefined, slug: string, title: string) => ({
      id: `ghost-${slug}`,
      ...(uuid === undefined ? {} : { uuid }),
      title,
      slug,
      html: `<p>${title}.</p>`,
      status: "published",
      published_at: "2024-01-02T10:00:00.000Z"
    })
    const exportOf = (...posts: ReadonlyArray<ReturnType<typeof post>>) =>
      JSON.stringify({ db: [{ meta: { version: "5.0.0" }, data: { posts } }] })

    it.effect("the stored id is the uuid lowercased (its feed items urn:uuid:<uuid>); a slug changed in Ghost moves the post on re-import instead of a second copy", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(Date.parse("2026-01-01T00:00:00Z"))
        let served = exportOf(post(UUID, "first-slug", "First"), post(OTHER, "other", "Other"), post(LEGACY, "legacy", "Legacy"))
        const repository = yield* PostRepository
        // As an earlier version stored it: known by its slug in the export, with an id of its own.
        yield* repository.upsertMany([makeNewPost({ slug: "legacy", title: "Legacy", source: `${URL}#legacy` })])
        const legacy = yield* repository.getBySlug("legacy")

        const first = yield* importFromUrls([URL]).pipe(Effect.provide(servedBy(() => ({ body: served, type: "application/json" }))))
        assert.deepStrictEqual(first.failures, [])
        assert.deepStrictEqual([first.imported, first.updated + first.unchanged], [2, 1])
        const stored = yield* repository.getBySlug("first-slug")
        assert.deepStrictEqual([stored.id, stored.source], [UUID.toLowerCase(), `${URL}#${UUID.toLowerCase()}`])
        assert.strictEqual(feedItemId(stored), `urn:uuid:${UUID.toLowerCase()}`)
        assert.strictEqual((yield* repository.getBySlug("other")).id, OTHER)
        // Found under the name it had; it keeps the id it was created with.
        const found = yield* repository.getBySlug("legacy")
        assert.deepStrictEqual([found.id, found.source], [legacy.id, `${URL}#${LEGACY}`])
        assert.notStrictEqual(found.id, LEGACY)

        served = exportOf(post(UUID, "second-slug", "First, renamed"), post(OTHER, "other", "Other"), post(LEGACY, "legacy", "Legacy"))
        const again = yield* importFromUrls([URL]).pipe(Effect.provide(servedBy(() => ({ body: served, type: "application/json" }))))
        assert.deepStrictEqual(again.failures, [])
        assert.deepStrictEqual([again.imported, again.updated, again.unchanged], [0, 1, 2])
        assert.deepStrictEqual(again.moves, [{ source: `${URL}#${UUID.toLowerCase()}`, from: "first-slug", to: "second-slug" }])
        const moved = yield* repository.getBySlug("second-slug")
        assert.deepStrictEqual([moved.id, moved.title], [UUID.toLowerCase(), "First, renamed"])
        assert.deepStrictEqual(Option.map(yield* repository.movedFrom!("first-slug"), (p) => p.slug), Option.some("second-slug"))
        assert.strictEqual((yield* repository.list({})).items.length, 3)
      }).pipe(Effect.provide(Layer.mergeAll(sqliteStack("sqlite::memory:"), ProcessorTest))))

    it.effect("a slug another source's post holds is a conflict as for any source (that post keeps its id); suffixed, the post takes its uuid; a uuid another post has gives a new id", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(Date.parse("2026-01-01T00:00:00Z"))
        const repository = yield* PostRepository
        yield* repository.upsertMany([makeNewPost({ slug: "taken", title: "Mine", source: "api" })])
        const mine = yield* repository.getBySlug("taken")
        const served = exportOf(post(UUID, "taken", "Theirs"), post(mine.id.toUpperCase(), "same-id", "Same id"))
        const routes = servedBy(() => ({ body: served, type: "application/json" }))

        const failed = yield* importFromUrls([URL]).pipe(Effect.provide(routes))
        assert.deepStrictEqual(failed.failures.map((f) => f.source), [`${URL}#${UUID.toLowerCase()}`])
        assert.match(failed.failures[0]!.reason, /^slug "taken" belongs to a post from another source, "api"/)
        assert.deepStrictEqual(failed.warnings.map((w) => w.source), [`${URL}#${mine.id}`])
        assert.match(failed.warnings[0]!.reason, /^id .* is another post's \("taken"\): created with a new id/)
        assert.notStrictEqual((yield* repository.getBySlug("same-id")).id, mine.id)
        assert.deepStrictEqual([(yield* repository.getBySlug("taken")).id, (yield* repository.getBySlug("taken")).title], [mine.id, "Mine"])

        const suffixed = yield* importFromUrls([URL], { onConflict: "suffix" }).pipe(Effect.provide(routes))
        assert.deepStrictEqual(suffixed.failures, [])
        assert.strictEqual((yield* repository.getBySlug("taken-2")).id, UUID.toLowerCase())
      }).pipe(Effect.provide(Layer.mergeAll(sqliteStack("sqlite::memory:"), ProcessorTest))))
  })

  it.effect("a JSON file that is not a Ghost export is a DecodeError", () =>
    Effect.gen(function*() {
      const exit = yield* collect(ghostExport(chunked("{\"posts\": []}", 64), { name: "x.json" })).pipe(Effect.exit)
      const error = failureTag(exit)
      assert.strictEqual(error?._tag, "DecodeError")
      if (error?._tag === "DecodeError") assert.include(error.reason, "not a Ghost export")
    }))

  it.effect("a large generated export streams through with flat memory", () =>
    Effect.gen(function*() {
      const posts = 5000
      const html = `<p>${"Lorem ipsum dolor sit amet. ".repeat(200)}</p>`
      // Generated lazily: the export never exists in memory whole, so what the reader keeps is what shows.
      const encoder = new TextEncoder()
      const exportBytes = Stream.make(encoder.encode("{\"db\":[{\"meta\":{\"version\":\"5.0.0\"},\"data\":{\"posts\":[")).pipe(
        Stream.concat(Stream.range(0, posts - 1).pipe(
          Stream.map((i) =>
            encoder.encode(
              `${i === 0 ? "" : ","}${JSON.stringify({ id: `p${i}`, title: `Post ${i}`, slug: `post-${i}`, html, mobiledoc: html, status: "published", type: "post" })}`
            )
          )
        )),
        Stream.concat(Stream.make(encoder.encode("],\"posts_tags\":[{\"post_id\":\"p7\",\"tag_id\":\"t\"}],\"tags\":[{\"id\":\"t\",\"name\":\"Seven\"}]}}]}")))
      )
      const total = posts * html.length * 2
      let peak = 0
      const before = globalThis.process.memoryUsage().heapUsed
      const count = yield* ghostExport(exportBytes, { name: "big" }).pipe(
        Stream.tap((item) =>
          Effect.sync(() => {
            peak = Math.max(peak, globalThis.process.memoryUsage().heapUsed - before)
            if (item._tag === "Entry" && item.input.slug === "post-7") assert.deepStrictEqual(item.input.tags, ["Seven"])
          })
        ),
        Stream.runCount
      )
      assert.strictEqual(count, posts)
      // Parsing it whole would hold `total` bytes (as UTF-16 strings, twice that) at once.
      assert.isBelow(peak, total, `heap grew by ${Math.round(peak / 1e6)} MB for a ${Math.round(total / 1e6)} MB export`)
    }), 60_000)
})
