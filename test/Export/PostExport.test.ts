/**
 * `PostExport` in process on real SQLite files: an export imported into a fresh database gives
 * the same posts (drafts and scheduled ones included, created when they were, so listed where
 * they were), and again into either changes nothing; on SQLite and the memory store, a record's
 * `createdAt` is taken by a post the import creates only, and of two records of one batch with
 * one old slug in `movedFrom` the first keeps it; the filters; one page read at a time, each
 * written before the next; one snapshot while another connection writes
 * (test/Export/snapshot.ts); an interrupted or failed export leaves the destination as it was and
 * no temporary file (latches, never sleeps), nor does a process that exits mid-export.
 */
import { spawnSync } from "node:child_process"
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Context, DateTime, Deferred, Effect, Exit, Fiber, Layer, Option, Schema, Stream } from "effect"
import { DatabaseError, type RepositoryError } from "../../src/Domain/Errors.js"
import { NewPost, type Post } from "../../src/Domain/Post.js"
import * as ExportOutput from "../../src/Export/ExportOutput.js"
import * as PostExport from "../../src/Export/PostExport.js"
import { type ImportOptions, maxLineBytes } from "../../src/Import/ImportConfig.js"
import * as ImportPipeline from "../../src/Import/ImportPipeline.js"
import * as ImportSource from "../../src/Import/ImportSource.js"
import { PostProcessor } from "../../src/Processing/PostProcessor.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { type ListQuery, PostRepository, type PostRepositoryShape } from "../../src/Posts/PostRepository.js"
import { makeNewPost } from "../fixtures/posts.js"
import { ProcessorTest, sqliteStack, tempDir, writeFiles } from "../Import/harness.js"
import { siteServer } from "../Site/harness.js"
import { renamedAndLive } from "./snapshot.js"
import { exportWhileWriting } from "./snapshot.js"

const sourceOptions = { chunkSize: 64 * 1024, maxPostBytes: 5 * 1024 * 1024 }

/** A migrated SQLite file with the real repository and processor, open for the test's scope. */
const database = (file: string) => Layer.build(Layer.mergeAll(sqliteStack(`sqlite:${file}`), ProcessorTest))

const importPaths = (paths: ReadonlyArray<string>) =>
  ImportPipeline.run(ImportSource.fromPaths(paths, sourceOptions), { concurrency: 4, batchSize: 50, buffer: 16, ...sourceOptions })

/** 230 posts over three pages, 40 of them at one instant (ties across a page boundary), and every kind of post. */
const seed = (dir: string) =>
  Effect.gen(function*() {
    yield* writeFiles(dir, {
      "posts/full.md": [
        "---",
        "title: Full",
        "date: 2024-01-02T03:04:05.678+02:00",
        "updated: 2024-02-03",
        "tags: [rust, web]",
        "authors: [Ann]",
        "description: A summary.",
        "aliases: [\"/old/full\", \"2019/full.html\"]",
        "extra: {nested: [1, {deep: true}]}",
        "---",
        "---",
        "A body that starts with a rule.",
        ""
      ].join("\n"),
      "posts/draft.md": "---\ntitle: A draft\ndraft: true\ntags: [rust]\n---\nWork in progress.\n",
      "posts/scheduled.md": "+++\ntitle = \"Scheduled\"\ndate = 2999-01-01\ntags = [\"rust\"]\n+++\nNot yet.\n",
      "posts/undated.md": "---\ntitle: Undated\n---\nNo date.\n",
      "list.ndjson": Array.from({ length: 226 }, (_, n) =>
        JSON.stringify({
          title: `Record ${n}`,
          slug: `record-${n}`,
          body: `Body of record ${n}.\n\n## A heading\n`,
          tags: n % 3 === 0 ? ["three"] : [],
          status: n % 10 === 0 ? "draft" : "published",
          publishedAt: n < 40 ? "2023-06-01T12:00:00Z" : `2022-01-01T00:${String(n % 60).padStart(2, "0")}:00Z`,
          metadata: { n }
        })).join("\n") + "\n"
    })
    const summary = yield* importPaths([join(dir, "posts"), join(dir, "list.ndjson")])
    assert.strictEqual(summary.imported, 230, JSON.stringify(summary.failures))
  })

/** Every post of the repository in context (drafts and scheduled ones too), by slug. */
const everyPost = Effect.map(Stream.runCollect(PostExport.posts({})), (posts) =>
  new Map(Chunk.toReadonlyArray(posts).map((post) => [post.slug, post] as const)))

/**
 * The listing (`PostExport.posts`, newest first) as its listing times (publishedAt, else
 * createdAt), each with the slugs listed then, in their order: posts at one instant are ordered
 * by id, which the import keeps.
 */
const listing = Effect.map(Stream.runCollect(PostExport.posts({})), (posts) => {
  const times: Array<{ readonly at: string; readonly slugs: Array<string> }> = []
  for (const post of posts) {
    const at = DateTime.formatIso(post.publishedAt ?? post.createdAt)
    const last = times[times.length - 1]
    if (last?.at === at) last.slugs.push(post.slug)
    else times.push({ at, slugs: [post.slug] })
  }
  return times
})

/** What an import sets and derives of a post: all but id, createdAt, updatedAt and version. */
const content = (post: Post) => {
  const { id: _i, createdAt: _c, updatedAt: _u, version: _v, ...rest } = post
  return Schema.encodeSync(NewPost)(new NewPost(rest, true))
}

/** Exports the repository in context to `file`. */
const exportTo = (file: string, filter: PostExport.ExportFilter = {}) =>
  Effect.scoped(Effect.flatMap(ExportOutput.file(file), (output) => PostExport.run(filter, output)))

const lines = (file: string) => readFileSync(file, "utf8").split("\n").filter((line) => line !== "")

/** The repository in context, with `list` preceded by `before` (given the call's number, from 1, and its query). */
const withListHook = (before: (call: number, query: ListQuery) => Effect.Effect<void, RepositoryError>) =>
  Effect.map(PostRepository, (repository): PostRepositoryShape => {
    let calls = 0
    const list: PostRepositoryShape["list"] = (query) =>
      Effect.zipRight(before(++calls, query), repository.list(query))
    return { ...repository, list }
  })

/** The stores an import writes to, each fresh per test: SQLite (in memory) and the memory store. */
const stores = [
  ["SQLite", sqliteStack("sqlite::memory:")],
  ["the memory store", MemoryPostRepository.layer]
] as const

/** `records` as an NDJSON file in a scoped temp directory, imported in one batch into the repository in context. */
const importRecords = (records: ReadonlyArray<object>, options: Partial<ImportOptions> = {}) =>
  Effect.gen(function*() {
    const dir = yield* tempDir("inkwell-export-")
    const file = join(dir, "records.ndjson")
    writeFileSync(file, records.map((record) => `${JSON.stringify(record)}\n`).join(""))
    const summary = yield* ImportPipeline.run(ImportSource.fromPaths([file], sourceOptions), { ...sourceOptions, ...options })
    assert.strictEqual(summary.failed, 0, JSON.stringify(summary.failures))
    return summary
  })

const storedAt = (slug: string) => Effect.flatMap(PostRepository, (repository) => repository.getBySlug(slug))

describe("PostExport", () => {
  it.live("an export imported into a fresh database gives the same posts; imported again into either, every post is unchanged", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("inkwell-export-")
      const a = yield* database(join(dir, "a.db"))
      const b = yield* database(join(dir, "b.db"))
      const file = join(dir, "backup.ndjson")
      yield* seed(dir).pipe(Effect.provide(a))
      // A published post without a date, stored long before the seed: listed by its creation,
      // between the seed's dated posts (the seed's own undated post was stored just now).
      yield* Effect.gen(function*() {
        const post = yield* (yield* PostProcessor).process({ source: join(dir, "old.md"), raw: "---\ntitle: Stored in 2022\n---\nLong ago.\n" })
        yield* (yield* PostRepository).upsertMany([post], { createdAt: [DateTime.unsafeMake("2022-06-01T00:00:00Z")] })
      }).pipe(Effect.provide(a))
      const tally = yield* exportTo(file).pipe(Effect.provide(a))
      assert.strictEqual(tally.posts, 231)
      assert.strictEqual(lines(file).length, 231)

      const into = yield* importPaths([file]).pipe(Effect.provide(b))
      assert.deepStrictEqual([into.imported, into.failed], [231, 0], JSON.stringify(into.failures))
      const before = yield* everyPost.pipe(Effect.provide(a))
      const after = yield* everyPost.pipe(Effect.provide(b))
      assert.deepStrictEqual([...after.keys()].sort(), [...before.keys()].sort())
      for (const [slug, post] of before) {
        assert.deepStrictEqual(content(after.get(slug)!), content(post), slug)
        assert.strictEqual(after.get(slug)!.createdAt.toJSON(), post.createdAt.toJSON(), `${slug}: createdAt`)
        // So its feed items (urn:uuid:<id>) are the ones readers have seen.
        assert.strictEqual(after.get(slug)!.id, post.id, `${slug}: id`)
      }
      // So the undated posts are listed where they were, by the same times, and the 40 posts of
      // one instant in the same order (by id: a random one per copy reordered them).
      const listed = yield* listing.pipe(Effect.provide(a))
      assert.deepStrictEqual(yield* listing.pipe(Effect.provide(b)), listed)
      assert.strictEqual(listed.find(({ at }) => at === "2023-06-01T12:00:00.000Z")?.slugs.length, 40)
      const at2022 = listed.findIndex(({ slugs }) => slugs.includes("stored-in-2022"))
      assert.deepStrictEqual(listed[at2022]?.at, "2022-06-01T00:00:00.000Z")
      assert.isAbove(at2022, listed.findIndex(({ at }) => at === "2023-06-01T12:00:00.000Z"), "listed after the posts of 2023")
      assert.isBelow(at2022, listed.findIndex(({ at }) => at === "2022-01-01T00:59:00.000Z"), "and before older ones")
      assert.include(listed[1]?.slugs, "undated", "the seed's undated post: after the scheduled one only")
      // The kinds of post a public listing leaves out are there, as they were.
      const stored = (slug: string) => after.get(slug as Post["slug"])
      assert.strictEqual(stored("a-draft")?.status, "draft")
      assert.strictEqual(stored("scheduled")?.publishedAt?.toJSON(), "2999-01-01T00:00:00.000Z")
      assert.deepStrictEqual(stored("full")?.aliases, ["/old/full", "2019/full.html"])
      assert.strictEqual(stored("full")?.body, "---\nA body that starts with a rule.\n")

      for (const target of [a, b]) {
        const again = yield* importPaths([file]).pipe(Effect.provide(target))
        assert.deepStrictEqual([again.unchanged, again.imported, again.updated, again.failed], [231, 0, 0, 0])
      }
      // And the files the posts first came from find them unchanged in the new database.
      const originals = yield* importPaths([join(dir, "posts"), join(dir, "list.ndjson")]).pipe(Effect.provide(b))
      assert.deepStrictEqual([originals.unchanged, originals.updated], [230, 0])
    }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)), 60_000)

  it.live("a renamed post's old slugs come along: after the import they redirect to it on the reader site, unless live there", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("inkwell-export-")
      const a = yield* database(join(dir, "a.db"))
      const b = yield* database(join(dir, "b.db"))
      const file = join(dir, "backup.ndjson")
      const post = (slug: string, source: string) => makeNewPost({ slug, source, publishedAt: "2020-01-01T00:00:00Z" })
      yield* Effect.gen(function*() {
        const repository = yield* PostRepository
        const first = yield* repository.create(post("first", "a.md"))
        const second = yield* repository.update("first", first.version, post("second", "a.md"))
        yield* repository.update("second", second.version, post("renamed", "a.md"))
        yield* repository.create(post("other", "o.md"))
      }).pipe(Effect.provide(a))
      // In the database imported into, a post of its own already lives at one of the old slugs.
      yield* Effect.flatMap(PostRepository, (repository) => repository.create(post("second", "b.md"))).pipe(Effect.provide(b))

      yield* exportTo(file).pipe(Effect.provide(a))
      const records = lines(file).map((line) => JSON.parse(line) as { slug: string; movedFrom?: Array<string> })
      assert.deepStrictEqual(records.map((r) => [r.slug, r.movedFrom]).sort(), [["other", undefined], ["renamed", ["first", "second"]]])

      const into = yield* importPaths([file]).pipe(Effect.provide(b))
      assert.deepStrictEqual([into.imported, into.failed], [2, 0], JSON.stringify(into.failures))
      const site = siteServer({}, Layer.succeed(PostRepository, Context.get(b, PostRepository)))
      yield* renamedAndLive.pipe(Effect.provide(site))

      for (const target of [a, b]) {
        const again = yield* importPaths([file]).pipe(Effect.provide(target))
        assert.deepStrictEqual([again.unchanged, again.imported, again.updated, again.failed], [2, 0, 0, 0])
      }
    }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)), 60_000)

  for (const [name, store] of stores) {
    it.live(`${name}: a post the import creates takes its record's createdAt (never a later one than now); one it updates or moves keeps its own`, () =>
      Effect.gen(function*() {
        const record = (slug: string, createdAt?: string, body = "Text.") => ({ source: `src-${slug}`, slug, title: slug, body, createdAt })
        const before = yield* DateTime.now
        yield* importRecords([record("kept", "2020-01-01T00:00:00Z"), record("future", "2999-01-01T00:00:00Z"), record("plain")])
        const after = yield* DateTime.now
        assert.strictEqual((yield* storedAt("kept")).createdAt.toJSON(), "2020-01-01T00:00:00.000Z")
        for (const slug of ["future", "plain"]) {
          const { createdAt } = yield* storedAt(slug)
          assert.isTrue(DateTime.between(createdAt, { minimum: before, maximum: after }), `${slug}: ${createdAt.toJSON()}`)
        }
        // Not hidden as scheduled: an undated published post created later than its write would be.
        const listed = yield* Effect.flatMap(PostRepository, (repository) => repository.list({ status: "published", asOf: after }))
        assert.deepStrictEqual(listed.items.map((post) => post.slug).sort(), ["future", "kept", "plain"])

        // Imported again with another createdAt: unchanged, then updated, then moved to a new slug; created when it was.
        const again = yield* importRecords([record("kept", "2010-01-01T00:00:00Z")])
        assert.strictEqual(again.unchanged, 1)
        const updated = yield* importRecords([record("kept", "2010-01-01T00:00:00Z", "Edited.")])
        assert.strictEqual(updated.updated, 1)
        const moved = yield* importRecords([{ ...record("kept", "2010-01-01T00:00:00Z"), slug: "kept-moved" }])
        assert.deepStrictEqual([moved.updated, moved.imported], [1, 0])
        assert.strictEqual((yield* storedAt("kept-moved")).createdAt.toJSON(), "2020-01-01T00:00:00.000Z")

        // A post stored under a suffixed slug is created by the import too.
        const renamed = yield* importRecords([{ ...record("plain", "2021-01-01T00:00:00Z"), source: "elsewhere" }], { onConflict: "suffix" })
        assert.strictEqual(renamed.renamed, 1)
        assert.strictEqual((yield* storedAt("plain-2")).createdAt.toJSON(), "2021-01-01T00:00:00.000Z")
      }).pipe(Effect.scoped, Effect.provide(Layer.mergeAll(store, ProcessorTest, NodeContext.layer))), 60_000)

    it.live(`${name}: a post the import creates takes its record's id unless another post has it (then a new one, and a warning); one it finds keeps its own`, () =>
      Effect.gen(function*() {
        const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`
        const record = (slug: string, n: number, extra: object = {}) => ({ source: `src-${slug}`, slug, title: slug, body: "Text.", id: id(n), ...extra })
        const first = yield* importRecords([
          record("one", 1),
          // Written in capitals by hand: stored as Inkwell writes ids.
          record("two", 2, { id: id(2).toUpperCase().replace("0000-4000-8000", "ABCD-4000-8000") }),
          // One batch, one id twice: the first in the input keeps it.
          record("three", 1)
        ])
        assert.deepStrictEqual([first.imported, first.warnings.length], [3, 1])
        assert.strictEqual((yield* storedAt("one")).id, id(1))
        assert.strictEqual((yield* storedAt("two")).id, "00000000-abcd-4000-8000-000000000002")
        const three = (yield* storedAt("three")).id
        assert.notStrictEqual(three, id(1))
        assert.deepStrictEqual(first.warnings[0], {
          source: first.warnings[0]!.source,
          reason: `id ${id(1)} is another post's ("one"): created with a new id, so its feed items are new to readers`
        })
        assert.match(first.warnings[0]!.source, /records\.ndjson:3$/)

        // A stored post's id, carried by a new post of another source: not taken.
        const taken = yield* importRecords([record("four", 1)])
        assert.deepStrictEqual([taken.imported, taken.warnings.map((w) => w.reason)], [1, [
          `id ${id(1)} is another post's ("one"): created with a new id, so its feed items are new to readers`
        ]])
        assert.notStrictEqual((yield* storedAt("four")).id, id(1))

        // Found by its source, a post keeps its id whatever the record says: unchanged, updated, moved.
        const again = yield* importRecords([record("one", 9), record("three", 1)])
        assert.deepStrictEqual([again.unchanged, again.warnings.length], [2, 0])
        yield* importRecords([record("one", 9, { body: "Edited." })])
        yield* importRecords([record("one", 9, { slug: "one-moved", body: "Edited." })])
        assert.strictEqual((yield* storedAt("one-moved")).id, id(1))
        assert.strictEqual((yield* storedAt("three")).id, three)

        // A post stored under a suffixed slug is created by the import: it takes a free id.
        const renamed = yield* importRecords([{ ...record("four", 5), source: "elsewhere" }], { onConflict: "suffix" })
        assert.deepStrictEqual([renamed.renamed, renamed.warnings.length], [1, 0])
        assert.strictEqual((yield* storedAt("four-2")).id, id(5))
        // A dry run says what the import would do, and takes nothing.
        const dry = yield* importRecords([record("five", 1), record("six", 6)], { dryRun: true })
        assert.deepStrictEqual([dry.imported, dry.warnings.length], [2, 1])
        const fresh = yield* importRecords([record("six", 6)])
        assert.deepStrictEqual([fresh.imported, fresh.warnings.length], [1, 0])
        assert.strictEqual((yield* storedAt("six")).id, id(6))
      }).pipe(Effect.scoped, Effect.provide(Layer.mergeAll(store, ProcessorTest, NodeContext.layer))), 60_000)

    it.live(`${name}: two records of one batch claiming one old slug in movedFrom: the first in the input keeps it`, () =>
      Effect.gen(function*() {
        for (const [first, second] of [["one", "two"], ["two", "one"]] as const) {
          yield* Effect.gen(function*() {
            const record = (slug: string) => ({ source: `src-${slug}`, slug, title: slug, body: "Text.", movedFrom: ["old"] })
            const repository = yield* PostRepository
            const batches: Array<number> = []
            const counted: PostRepositoryShape = {
              ...repository,
              upsertMany: (posts, options) => Effect.zipRight(Effect.sync(() => batches.push(posts.length)), repository.upsertMany(posts, options))
            }
            const summary = yield* importRecords([record(first), record(second)]).pipe(Effect.provideService(PostRepository, counted))
            assert.deepStrictEqual([summary.imported, batches], [2, [2]], "both in one batch")
            const at = yield* repository.movedFrom!("old")
            assert.strictEqual(Option.map(at, (post) => post.slug as string).pipe(Option.getOrUndefined), first)
            // And only it: the export carries the old slug with it alone.
            const ids = [(yield* storedAt(first)).id, (yield* storedAt(second)).id]
            const oldSlugs = yield* repository.oldSlugs!(ids)
            assert.deepStrictEqual([oldSlugs.get(ids[0]!), oldSlugs.get(ids[1]!)], [["old"], undefined])
          }).pipe(Effect.provide(store))
        }
      }).pipe(Effect.scoped, Effect.provide(Layer.mergeAll(ProcessorTest, NodeContext.layer))), 60_000)
  }

  it.live("a post near the size limit exports to a longer line (JSON escapes) that its import takes back; a record's body over it is refused", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("inkwell-export-")
      const limit = { chunkSize: 64 * 1024, maxPostBytes: 64 * 1024 }
      const importWithin = (paths: ReadonlyArray<string>) =>
        ImportPipeline.run(ImportSource.fromPaths(paths, limit), { concurrency: 2, batchSize: 10, buffer: 4, ...limit })
      // A JSON code block: every quote is escaped, so the line is about 1.5 times the post.
      const json = `${JSON.stringify({ "key": "value", "list": ["a", "b", "c"] })}\n`
      const body = `\`\`\`json\n${json.repeat(Math.floor((limit.maxPostBytes - 200) / json.length))}\`\`\`\n`
      yield* writeFiles(dir, { "big.md": `---\ntitle: Big\n---\n${body}` })
      const a = yield* database(join(dir, "a.db"))
      const b = yield* database(join(dir, "b.db"))
      const first = yield* importWithin([join(dir, "big.md")]).pipe(Effect.provide(a))
      assert.deepStrictEqual([first.imported, first.failed], [1, 0], JSON.stringify(first.failures))
      const file = join(dir, "backup.ndjson")
      yield* exportTo(file).pipe(Effect.provide(a))
      assert.isAbove(Buffer.byteLength(lines(file)[0]!), limit.maxPostBytes)
      const back = yield* importWithin([file]).pipe(Effect.provide(b))
      assert.deepStrictEqual([back.imported, back.failed], [1, 0], JSON.stringify(back.failures))
      assert.strictEqual((yield* storedAt("big").pipe(Effect.provide(b))).body, body)

      // The limit is the post's: a record whose body is over it fails, named, its line within the line's limit.
      const over = join(dir, "over.ndjson")
      // A line is still bounded (`maxLineBytes`), before it is read whole.
      const long = JSON.stringify({ title: "Long", body: "x", metadata: { pad: "y".repeat(maxLineBytes(limit.maxPostBytes)) } })
      writeFileSync(over, `${JSON.stringify({ title: "Over", body: "é".repeat(limit.maxPostBytes / 2 + 1) })}\n${long}\n`)
      const refused = yield* importWithin([over]).pipe(Effect.provide(b))
      assert.deepStrictEqual(refused.failures.map((f) => [f.source, f.reason]), [
        [`${over}:1`, `too large: a body of ${limit.maxPostBytes + 2} bytes (limit ${limit.maxPostBytes})`],
        [`${over}:2`, `line too long: ${long.length} bytes (limit ${maxLineBytes(limit.maxPostBytes)})`]
      ])
    }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)), 60_000)

  it.live("--status and --tag take only their posts; published includes scheduled posts", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("inkwell-export-")
      yield* seed(dir)
      const slugs = (filter: PostExport.ExportFilter) =>
        Effect.gen(function*() {
          const file = join(dir, "filtered.ndjson")
          const tally = yield* exportTo(file, filter)
          const exported = lines(file).map((line) => JSON.parse(line) as { slug: string; status: string; tags: Array<string> })
          assert.strictEqual(tally.posts, exported.length)
          return exported
        })
      const drafts = yield* slugs({ status: "draft" })
      assert.strictEqual(drafts.length, 24)
      assert.isTrue(drafts.every((post) => post.status === "draft"))
      const published = yield* slugs({ status: "published" })
      assert.strictEqual(published.length, 206)
      assert.include(published.map((post) => post.slug), "scheduled")
      const rust = yield* slugs({ tag: "rust" })
      assert.deepStrictEqual(rust.map((post) => post.slug).sort(), ["a-draft", "full", "scheduled"])
      const rustDrafts = yield* slugs({ tag: "rust", status: "draft" })
      assert.deepStrictEqual(rustDrafts.map((post) => post.slug), ["a-draft"])
    }).pipe(Effect.scoped, Effect.provide(Layer.mergeAll(sqliteStack("sqlite::memory:"), ProcessorTest, NodeContext.layer))), 60_000)

  it.effect("--tag finds its posts by any spelling that stores as the tag: NFD, a tab or line break for its space (was: as sent, only trimmed)", () =>
    Effect.gen(function*() {
      const repository = yield* PostRepository
      // Tags as processing stores them: in NFC, on one line.
      yield* repository.create(makeNewPost({ slug: "accent", tags: ["Café", "tab sep"] }))
      yield* repository.create(makeNewPost({ slug: "plain", tags: ["cafe", "tabsep"] }))
      for (const tag of ["cafe\u0301", "CAFE\u0301", "tab\tsep", " Tab \n sep "]) {
        const posts = yield* Stream.runCollect(PostExport.posts({ tag }))
        assert.deepStrictEqual(Chunk.toReadonlyArray(posts).map((post) => post.slug), ["accent"], JSON.stringify(tag))
      }
    }).pipe(Effect.provide(Layer.orDie(sqliteStack("sqlite::memory:")))))

  it.live("reads one page at a time, and the next only once the last was written", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("inkwell-export-")
      yield* seed(dir)
      const limits: Array<number | undefined> = []
      const repository = yield* withListHook((_call, query) => Effect.sync(() => limits.push(query.limit)))
      const firstWrite = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      let writes = 0
      const output: ExportOutput.ExportOutput = {
        name: "held",
        write: () => ++writes === 1 ? Effect.zipRight(Deferred.succeed(firstWrite, undefined), Deferred.await(release)) : Effect.void,
        commit: Effect.void
      }
      const fiber = yield* PostExport.run({}, output).pipe(Effect.provideService(PostRepository, repository), Effect.fork)
      yield* Deferred.await(firstWrite)
      // Asserted once the export is done: failing here would leave it held for ever.
      const whileWriting = [...limits]
      yield* Deferred.succeed(release, undefined)
      const tally = yield* Fiber.join(fiber)
      assert.deepStrictEqual(whileWriting, [100], "while the first page is being written, no other was read")
      assert.strictEqual(tally.posts, 230)
      assert.deepStrictEqual(limits, [100, 100, 100])
      assert.strictEqual(writes, 3)
    }).pipe(Effect.scoped, Effect.provide(Layer.mergeAll(sqliteStack("sqlite::memory:"), ProcessorTest, NodeContext.layer))), 60_000)

  it.live("one snapshot: another connection's writes while the export is paused are not in it, and are not held up", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("inkwell-export-")
      const file = join(dir, "blog.db")
      // Two connections to one file, as `inkwell export` beside a running server.
      const exporting = yield* Layer.build(sqliteStack(`sqlite:${file}`))
      const writing = yield* Layer.build(sqliteStack(`sqlite:${file}`))
      yield* exportWhileWriting(exporting, Context.get(writing, PostRepository), join(dir, "backup.ndjson"))
    }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)), 60_000)

  it.live("interrupted mid-way: the destination is as it was (absent, or an earlier export) and no temporary file is left", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("inkwell-export-")
      yield* seed(dir)
      const out = join(dir, "out")
      mkdirSync(out)
      for (const earlier of [undefined, "an earlier export\n"]) {
        const file = join(out, "backup.ndjson")
        if (earlier !== undefined) writeFileSync(file, earlier)
        const secondPage = yield* Deferred.make<void>()
        const repository = yield* withListHook((call) =>
          call === 2 ? Effect.zipRight(Deferred.succeed(secondPage, undefined), Effect.never) : Effect.void)
        const fiber = yield* exportTo(file).pipe(Effect.provideService(PostRepository, repository), Effect.fork)
        // Or the export's own end, should it fail before: then the test fails instead of waiting.
        yield* Effect.raceFirst(Deferred.await(secondPage), Effect.zipRight(Fiber.await(fiber), Effect.die("the export ended")))
        // The first page is in the temporary file by now.
        const temporary = readdirSync(out).filter((name) => name.endsWith(".tmp"))
        assert.strictEqual(temporary.length, 1)
        assert.strictEqual(readFileSync(join(out, temporary[0]!), "utf8").split("\n").length - 1, 100)
        yield* Fiber.interrupt(fiber)
        assert.deepStrictEqual(readdirSync(out), earlier === undefined ? [] : ["backup.ndjson"])
        if (earlier !== undefined) assert.strictEqual(readFileSync(file, "utf8"), earlier)
      }
    }).pipe(Effect.scoped, Effect.provide(Layer.mergeAll(sqliteStack("sqlite::memory:"), ProcessorTest, NodeContext.layer))), 60_000)

  it.live("a process that exits with the export's scope open (a second Ctrl-C: process.exit) takes the temporary file with it", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("inkwell-export-exit-")
      const file = join(dir, "backup.ndjson")
      const module = pathToFileURL(join(import.meta.dirname, "..", "..", "src", "Export", "ExportOutput.ts")).href
      // What bin.ts does on a second signal: process.exit, no scope closed.
      const script = `
        import { NodeContext } from "@effect/platform-node"
        import { Effect } from "effect"
        import { readdirSync } from "node:fs"
        import * as ExportOutput from ${JSON.stringify(module)}
        await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
          const output = yield* ExportOutput.file(${JSON.stringify(file)})
          yield* output.write(new TextEncoder().encode("{}\\n"))
          console.log(readdirSync(${JSON.stringify(dir)}).join(" "))
          process.exit(130)
        })).pipe(Effect.provide(NodeContext.layer)))
      `
      const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
        cwd: join(import.meta.dirname, "..", ".."),
        encoding: "utf8"
      })
      assert.strictEqual(child.status, 130, child.stderr)
      assert.match(child.stdout.trim(), /^\.backup\.ndjson\.\d+-\w+\.tmp$/, "the temporary file existed while the export was open")
      assert.deepStrictEqual(readdirSync(dir), [])
    }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)), 60_000)

  it.live("a database failure part way leaves no file either, and is the export's error", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("inkwell-export-")
      yield* seed(dir)
      const file = join(dir, "out.ndjson")
      const repository = yield* withListHook((call) =>
        call === 3 ? Effect.fail(new DatabaseError({ operation: "PostRepository.list", cause: "connection lost" })) : Effect.void)
      const exit = yield* Effect.exit(exportTo(file).pipe(Effect.provideService(PostRepository, repository)))
      assert.isTrue(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error._tag === "DatabaseError", String(exit))
      assert.deepStrictEqual(readdirSync(dir).filter((name) => name.includes("out.ndjson")), [])
    }).pipe(Effect.scoped, Effect.provide(Layer.mergeAll(sqliteStack("sqlite::memory:"), ProcessorTest, NodeContext.layer))), 60_000)

  it.live("an empty database is an empty export", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("inkwell-export-")
      const file = join(dir, "empty.ndjson")
      const tally = yield* exportTo(file)
      assert.strictEqual(tally.posts, 0)
      assert.strictEqual(readFileSync(file, "utf8"), "")
    }).pipe(Effect.scoped, Effect.provide(Layer.mergeAll(sqliteStack("sqlite::memory:"), ProcessorTest, NodeContext.layer))))

  it.live("the destination keeps its permissions (a new one is its owner's alone), and a symbolic link is written through, the link kept", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("inkwell-export-")
      yield* seed(dir)
      const out = join(dir, "out")
      mkdirSync(join(out, "real"), { recursive: true })
      const mode = (file: string) => (statSync(file).mode & 0o777).toString(8)
      // An earlier backup kept private, and one a group may read: each stays as it was set.
      for (const [name, kept] of [["private.ndjson", 0o600], ["shared.ndjson", 0o640]] as const) {
        writeFileSync(join(out, name), "an earlier export\n")
        chmodSync(join(out, name), kept)
        yield* exportTo(join(out, name))
        assert.strictEqual(mode(join(out, name)), kept.toString(8), name)
        assert.strictEqual(lines(join(out, name)).length, 230, name)
      }
      // A new file, whatever the umask would give: an export holds drafts.
      yield* exportTo(join(out, "new.ndjson"))
      assert.strictEqual(mode(join(out, "new.ndjson")), "600")
      // Links, relative to where they are: to a backup (its mode kept), and to one not yet made.
      writeFileSync(join(out, "real", "target.ndjson"), "an earlier export\n")
      chmodSync(join(out, "real", "target.ndjson"), 0o640)
      symlinkSync("real/target.ndjson", join(out, "link.ndjson"))
      symlinkSync("real/later.ndjson", join(out, "dangling.ndjson"))
      for (const [link, target] of [["link.ndjson", "real/target.ndjson"], ["dangling.ndjson", "real/later.ndjson"]] as const) {
        yield* exportTo(join(out, link))
        assert.isTrue(lstatSync(join(out, link)).isSymbolicLink(), `${link} is still a link`)
        assert.strictEqual(readlinkSync(join(out, link)), target)
        assert.strictEqual(lines(join(out, target)).length, 230, target)
      }
      assert.strictEqual(mode(join(out, "real", "target.ndjson")), "640")
      assert.strictEqual(mode(join(out, "real", "later.ndjson")), "600")
      assert.deepStrictEqual(readdirSync(join(out, "real")).sort(), ["later.ndjson", "target.ndjson"], "no temporary file left")
    }).pipe(Effect.scoped, Effect.provide(Layer.mergeAll(sqliteStack("sqlite::memory:"), ProcessorTest, NodeContext.layer))), 60_000)

  it.live("an output that cannot be written is refused, named, before any post is read", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("inkwell-export-")
      yield* writeFiles(dir, { "taken.ndjson/inside": "" })
      let reads = 0
      const repository = yield* withListHook(() => Effect.sync(() => reads++))
      for (const [file, reason] of [
        [join(dir, "missing", "x.ndjson"), `cannot write to ${join(dir, "missing", "x.ndjson")}: directory ${join(dir, "missing")} does not exist`],
        [join(dir, "taken.ndjson"), `cannot write to ${join(dir, "taken.ndjson")}: it is a directory, not a file`]
      ] as const) {
        const exit = yield* Effect.exit(exportTo(file).pipe(Effect.provideService(PostRepository, repository)))
        assert.isTrue(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error.message === reason, String(exit))
      }
      assert.strictEqual(reads, 0)
      assert.deepStrictEqual(readdirSync(dir), ["taken.ndjson"])
    }).pipe(Effect.scoped, Effect.provide(Layer.mergeAll(sqliteStack("sqlite::memory:"), ProcessorTest, NodeContext.layer))), 60_000)
})
