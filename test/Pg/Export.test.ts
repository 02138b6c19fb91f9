/**
 * `inkwell export` with PostgreSQL: a blog moved from SQLite to PostgreSQL by an export and an
 * import (as a file, or piped) has the same rows (creation times, so listing times, included: an
 * undated post is listed where it was), imports as unchanged again, and exports the same records,
 * a renamed post's old slugs still redirecting to it; a stop while the export waits on the database (a lock held by the test, so the
 * stop lands mid-export every time) leaves nothing at the destination; an export is one snapshot
 * while another connection writes (test/Export/snapshot.ts); Zola internal links a directory
 * import resolved in SQLite are served resolved from PostgreSQL, without a warning.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { afterAll, assert, it } from "@effect/vitest"
import Sqlite from "better-sqlite3"
import { Context, Effect, Fiber, Layer, Schedule } from "effect"
import pg from "pg"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import * as Migrations from "../../src/Database/Migrations.js"
import * as SqlLive from "../../src/Database/SqlLive.js"
import * as ExportOutput from "../../src/Export/ExportOutput.js"
import * as PostExport from "../../src/Export/PostExport.js"
import * as ImportPipeline from "../../src/Import/ImportPipeline.js"
import * as ImportSource from "../../src/Import/ImportSource.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import * as SqlPostRepository from "../../src/Posts/SqlPostRepository.js"
import { exportWhileWriting } from "../Export/snapshot.js"
import { makeNewPost } from "../fixtures/posts.js"
import { fetchPage, siteServer } from "../Site/harness.js"
import { markdownPost, ProcessorTest, sqliteStack, tempDir, writeFiles } from "../Import/harness.js"
import { renamedAndLive } from "../Export/snapshot.js"
import { exportInProcess, inkwell, type Run } from "../fixtures/cli.js"
import { adminQuery, createDatabase, describePg, freshSchema } from "../fixtures/pg.js"
import { writeEveryKindOfPost } from "../fixtures/everyKindOfPost.js"

/** The SQL repository over its own pool of `connections` on the database of `url`, migrated. */
const stack = (url: string, connections: number) =>
  SqlPostRepository.layer.pipe(
    Layer.provideMerge(DatabasePool.layer({ maxConnections: connections, acquireTimeout: "10 seconds" })),
    Layer.provideMerge(Migrations.layer.pipe(Layer.provideMerge(SqlLive.layer(url, { maxConnections: connections }))))
  )

const dirs: Array<string> = []
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), "inkwell-export-pg-"))
  dirs.push(dir)
  return dir
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

const finished = (run: Run) => Effect.promise(async () => ({ code: await run.exit, stdout: run.stdout(), stderr: run.stderr() }))

const COLUMNS = `id, slug, source, title, body, tags, status, authors, summary, published_at, updated_at_source, aliases, metadata,
  html, excerpt, word_count, reading_time_minutes, toc, content_hash, created_at, sort_at`

/** PostgreSQL hands BIGINT back as text: as numbers, rows compare with SQLite's. */
const numeric = (row: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(row).map(([key, value]) =>
    [
      key,
      ["published_at", "updated_at_source", "word_count", "reading_time_minutes", "created_at", "sort_at"].includes(key) && value !== null
        ? Number(value)
        : value
    ]
  ))

const sqliteRows = (file: string) => {
  const db = new Sqlite(file, { readonly: true, fileMustExist: true })
  try {
    return db.prepare(`SELECT ${COLUMNS} FROM posts ORDER BY slug`).all() as Array<Record<string, unknown>>
  } finally {
    db.close()
  }
}

const pgRows = (schema: string) =>
  Effect.promise(() => adminQuery(`SELECT ${COLUMNS} FROM ${schema}.posts ORDER BY slug COLLATE "C"`)).pipe(
    Effect.map((result) => result.rows.map(numeric))
  )

const counts = (stdout: string) =>
  Object.fromEntries(["imported", "updated", "unchanged", "failed"].map((name) => [name, Number(stdout.match(new RegExp(`^  ${name}\\s*(\\d+)`, "m"))?.[1])]))

const sorted = (text: string) => text.split("\n").filter((line) => line !== "").sort()

/**
 * A blog on SQLite: markdown of every kind (draft, scheduled, undated, aliases) and 150 records, so
 * more than one page, and one published post without a date created in 2022 (a record's
 * `createdAt`), so listed between the dated ones.
 */
const sqliteBlog = Effect.gen(function*() {
  const dir = temp()
  const posts = join(dir, "posts")
  mkdirSync(posts)
  writeEveryKindOfPost(posts)
  writeFileSync(
    join(dir, "list.ndjson"),
    Array.from({ length: 150 }, (_, n) =>
      `${JSON.stringify({ title: `Record ${n}`, slug: `record-${n}`, body: `Body ${n}.`, publishedAt: n < 100 ? "2023-06-01T12:00:00Z" : "2021-06-01T12:00:00Z", metadata: { n } })}\n`).join("") +
      `${JSON.stringify({ title: "Stored in 2022", slug: "stored-in-2022", body: "Long ago.", createdAt: "2022-06-01T00:00:00Z" })}\n`
  )
  const db = join(dir, "blog.db")
  const seeded = yield* finished(inkwell(["import", posts, join(dir, "list.ndjson")], { DATABASE_URL: `sqlite:${db}` }))
  assert.strictEqual(seeded.code, 0, seeded.stderr)
  assert.deepInclude(counts(seeded.stdout), { imported: 155, failed: 0 })
  return { dir, db }
})

describePg("inkwell export and PostgreSQL", () => {
  it.live("SQLite to PostgreSQL by export and import: the same rows, unchanged when imported again, the same export back", () =>
    Effect.scoped(Effect.gen(function*() {
      const { db, dir } = yield* sqliteBlog
      const file = join(dir, "blog.ndjson")
      const exported = yield* finished(inkwell(["export", "--output", file], { DATABASE_URL: `sqlite:${db}` }))
      assert.strictEqual(exported.code, 0, exported.stderr)
      assert.include(exported.stderr, `inkwell: exported 155 posts to ${file}\n`)

      const { schema, url } = yield* freshSchema
      const imported = yield* finished(inkwell(["import", file], { DATABASE_URL: url }))
      assert.strictEqual(imported.code, 0, imported.stderr)
      assert.deepInclude(counts(imported.stdout), { imported: 155, failed: 0 })
      // createdAt included, so the listing times (sort_at) too, and the ids: the feeds' item ids.
      assert.deepStrictEqual(yield* pgRows(schema), sqliteRows(db))

      const again = yield* finished(inkwell(["import", file], { DATABASE_URL: url }))
      assert.deepStrictEqual(counts(again.stdout), { imported: 0, updated: 0, unchanged: 155, failed: 0 }, again.stdout)

      const back = yield* finished(inkwell(["export"], { DATABASE_URL: url }))
      assert.strictEqual(back.code, 0, back.stderr)
      // In the same order: the 100 records of one instant are listed by id, which they kept.
      assert.deepStrictEqual(back.stdout, readFileSync(file, "utf8"))
      // Listed where it was (an export is in the listing's order): after the 4 markdown posts
      // (the undated ones created just now) and the 100 records of 2023, before those of 2021.
      const position = (text: string) => text.split("\n").findIndex((line) => line.includes(`"slug":"stored-in-2022"`))
      assert.strictEqual(position(readFileSync(file, "utf8")), 4 + 100)
      assert.strictEqual(position(back.stdout), 4 + 100)

      // Piped, in one line: `inkwell export | DATABASE_URL=postgres://... inkwell import -`.
      const piped = yield* freshSchema
      const into = inkwell(["import", "-"], { DATABASE_URL: piped.url })
      const from = inkwell(["export"], { DATABASE_URL: `sqlite:${db}` })
      from.child.stdout!.pipe(into.child.stdin!)
      assert.strictEqual((yield* finished(from)).code, 0)
      const pipedImport = yield* finished(into)
      assert.strictEqual(pipedImport.code, 0, pipedImport.stderr)
      assert.deepStrictEqual(yield* pgRows(piped.schema), sqliteRows(db))
    })), 180_000)

  it.live("Zola internal links resolved by a directory import in SQLite: exported, imported into PostgreSQL, served resolved without a warning", () =>
    Effect.gen(function*() {
      const options = { concurrency: 2, batchSize: 100, buffer: 16, chunkSize: 64 * 1024, maxPostBytes: 5 * 1024 * 1024 }
      const dir = yield* tempDir("inkwell-links-pg-")
      yield* writeFiles(dir, {
        "a.md": markdownPost("First post", "See [the second](@/notes/b.md#a-heading) and [once more](@/notes/b.md).\n"),
        "notes/b.md": `+++\ntitle = "Second"\nslug = "the-second"\ndate = 2024-01-03\n+++\n\n## A heading\n\nText.\n`
      })
      const tree = yield* Effect.flatMap(FileSystem.FileSystem, (fs) => fs.realPath(dir))
      const importPaths = (paths: ReadonlyArray<string>) => ImportPipeline.run(ImportSource.fromPaths(paths, options), options)
      const source = yield* Layer.build(Layer.mergeAll(sqliteStack(`sqlite:${join(tree, "blog.db")}`), ProcessorTest))
      const first = yield* importPaths([tree]).pipe(Effect.provide(source))
      assert.deepStrictEqual([first.imported, first.warnings.length], [2, 0], JSON.stringify(first))
      const file = join(tree, "blog.ndjson")
      yield* Effect.scoped(Effect.flatMap(ExportOutput.file(file), (output) => PostExport.run({}, output))).pipe(Effect.provide(source))

      const { url } = yield* freshSchema
      const target = yield* Layer.build(Layer.mergeAll(stack(url, 2), ProcessorTest))
      const imported = yield* importPaths([file]).pipe(Effect.provide(target))
      assert.deepStrictEqual([imported.imported, imported.failed], [2, 0], JSON.stringify(imported.failures))
      assert.deepStrictEqual(imported.warnings, [])
      const page = yield* fetchPage("/p/first-post").pipe(Effect.provide(siteServer({}, Layer.succeed(PostRepository, Context.get(target, PostRepository)))))
      assert.strictEqual(page.status, 200)
      assert.include(page.body, `<a href="./the-second#a-heading">the second</a>`)
      assert.include(page.body, `<a href="./the-second">once more</a>`)
      assert.notInclude(page.body, "@/")
      // The same page and hash as in SQLite: the files' import finds it unchanged.
      const stored = (context: typeof source) =>
        Effect.map(Effect.flatMap(PostRepository, (repository) => repository.getBySlug("first-post")), (post) => [post.html, post.contentHash]).pipe(Effect.provide(context))
      assert.deepStrictEqual(yield* stored(target), yield* stored(source))
      const files = yield* importPaths([tree]).pipe(Effect.provide(target))
      assert.deepStrictEqual([files.unchanged, files.updated], [2, 0])
    }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)), 60_000)

  it.live("a renamed post's old slugs go from SQLite to PostgreSQL: the reader site redirects them, unless a post lives there", () =>
    Effect.gen(function*() {
      const dir = temp()
      const db = join(dir, "blog.db")
      const post = (slug: string, source: string) => makeNewPost({ slug, source, publishedAt: "2020-01-01T00:00:00Z" })
      yield* Effect.gen(function*() {
        const repository = Context.get(yield* Layer.build(stack(`sqlite:${db}`, 1)), PostRepository)
        const first = yield* repository.create(post("first", "a.md"))
        const second = yield* repository.update("first", first.version, post("second", "a.md"))
        yield* repository.update("second", second.version, post("renamed", "a.md"))
        yield* repository.create(post("other", "o.md"))
      }).pipe(Effect.scoped)
      const file = join(dir, "blog.ndjson")
      const exported = yield* finished(inkwell(["export", "--output", file], { DATABASE_URL: `sqlite:${db}` }))
      assert.strictEqual(exported.code, 0, exported.stderr)

      const { url } = yield* freshSchema
      const target = Context.get(yield* Layer.build(stack(url, 2)), PostRepository)
      // A post of PostgreSQL's own already lives at one of the old slugs: it stays there.
      yield* target.create(post("second", "b.md"))
      const imported = yield* finished(inkwell(["import", file], { DATABASE_URL: url }))
      assert.strictEqual(imported.code, 0, imported.stderr)
      assert.deepInclude(counts(imported.stdout), { imported: 2, failed: 0 })
      yield* renamedAndLive.pipe(Effect.provide(siteServer({}, Layer.succeed(PostRepository, target))))

      const again = yield* finished(inkwell(["import", file], { DATABASE_URL: url }))
      assert.deepStrictEqual(counts(again.stdout), { imported: 0, updated: 0, unchanged: 2, failed: 0 }, again.stdout)
      const back = yield* finished(inkwell(["export"], { DATABASE_URL: url }))
      assert.strictEqual(back.code, 0, back.stderr)
      const movedFrom = Object.fromEntries(sorted(back.stdout).map((line) => {
        const record = JSON.parse(line) as { slug: string; movedFrom?: Array<string> }
        return [record.slug, record.movedFrom ?? []]
      }))
      assert.deepStrictEqual(movedFrom, { other: [], renamed: ["first"], second: [] })
    }).pipe(Effect.scoped), 120_000)

  it.live("an id another import takes while this one writes (its INSERT waits on the other's): written again, the post under a new id", () =>
    Effect.gen(function*() {
      const database = yield* Effect.acquireRelease(Effect.promise(() => createDatabase()), (d) => Effect.promise(() => d.drop()))
      const repository = Context.get(yield* Layer.build(stack(database.url, 2)), PostRepository)
      yield* repository.create(makeNewPost({ slug: "seed", source: "seed.md" }))
      const id = "00000000-0000-4000-8000-00000000000a"
      // Another writer's post with that id, not yet committed: invisible to the import's read of
      // the ids it carries, and its INSERT waits on the primary key until the other commits.
      const holder = yield* Effect.acquireRelease(
        Effect.promise(async () => {
          const client = new pg.Client({ connectionString: database.url })
          client.on("error", () => {})
          await client.connect()
          await client.query("BEGIN")
          await client.query("CREATE TEMP TABLE held AS SELECT * FROM posts WHERE slug = 'seed'")
          await client.query(`UPDATE held SET id = '${id}', slug = 'holder', source = 'holder.md'`)
          await client.query("INSERT INTO posts SELECT * FROM held")
          return client
        }),
        (client) => Effect.promise(() => client.query("ROLLBACK").catch(() => undefined).then(() => client.end()))
      )
      const writing = yield* Effect.fork(
        repository.upsertMany([makeNewPost({ slug: "imported", source: "export.ndjson#imported" })], { ids: [id as never] })
      )
      yield* Effect.promise(() =>
        adminQuery(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE 'insert into%posts%'`,
          database.url
        )
      ).pipe(
        Effect.filterOrFail((result) => result.rows[0].n > 0, () => new Error("the import's INSERT is not waiting")),
        Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 400 })
      )
      yield* Effect.promise(() => holder.query("COMMIT"))
      const result = yield* Fiber.join(writing)
      assert.deepStrictEqual(result.outcomes.map((o) => [o.action, o.idTakenBy]), [["inserted", "holder"]])
      const stored = yield* repository.getBySlug("imported")
      assert.notStrictEqual(stored.id, id)
      assert.strictEqual((yield* repository.getBySlug("holder")).id, id)
    }).pipe(Effect.scoped), 60_000)

  it.live("a read-only database (a standby): exported, its migrations verified and not run", () =>
    Effect.gen(function*() {
      const { url } = yield* freshSchema
      const repository = Context.get(yield* Layer.build(stack(url, 1)), PostRepository)
      yield* repository.create(makeNewPost({ slug: "kept", source: "kept.md" }))
      const readOnly = new URL(url)
      readOnly.searchParams.set("options", `${readOnly.searchParams.get("options")} -c default_transaction_read_only=on`)
      const file = join(temp(), "backup.ndjson")
      yield* exportInProcess(readOnly.toString(), file)
      assert.deepStrictEqual(readFileSync(file, "utf8").split("\n").filter((line) => line !== "").map((line) => JSON.parse(line).slug), ["kept"])
    }).pipe(Effect.scoped), 60_000)

  it.live("one snapshot: another connection's writes while the export is paused are not in it, and are not held up", () =>
    Effect.gen(function*() {
      const { url } = yield* freshSchema
      // One connection for the export: its reads run on the snapshot's, taking no other permit.
      const exporting = yield* Layer.build(stack(url, 1))
      const writing = yield* Layer.build(stack(url, 2))
      yield* exportWhileWriting(exporting, Context.get(writing, PostRepository), join(temp(), "backup.ndjson"))
    }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)), 60_000)

  it.live("SIGTERM while the export waits on the database: exit 143, the destination as it was, no temporary file", () =>
    Effect.gen(function*() {
      const database = yield* Effect.acquireRelease(Effect.promise(() => createDatabase()), (d) => Effect.promise(() => d.drop()))
      const env = { DATABASE_URL: database.url }
      const seed = inkwell(["import", "-"], env)
      seed.child.stdin!.end(`${JSON.stringify({ title: "One", slug: "one", body: "Body." })}\n`)
      assert.strictEqual((yield* finished(seed)).code, 0)

      const dir = temp()
      const file = join(dir, "backup.ndjson")
      writeFileSync(file, "an earlier export\n")
      // A session holding an exclusive lock on posts: the export's first read waits for it.
      yield* Effect.acquireRelease(
        Effect.promise(async () => {
          const holder = new pg.Client({ connectionString: database.url })
          holder.on("error", () => {})
          await holder.connect()
          await holder.query("BEGIN")
          await holder.query("LOCK TABLE posts IN ACCESS EXCLUSIVE MODE")
          return holder
        }),
        (holder) => Effect.promise(() => holder.query("ROLLBACK").catch(() => undefined).then(() => holder.end()))
      ).pipe(Effect.flatMap(() =>
        Effect.gen(function*() {
          const run = inkwell(["export", "--output", file], env)
          yield* Effect.promise(() =>
            adminQuery(
              `SELECT count(*)::int AS n FROM pg_stat_activity
               WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%select * from posts%'`,
              database.url
            )
          ).pipe(
            Effect.filterOrFail((result) => result.rows[0].n > 0, () => new Error("the export is not waiting on the lock")),
            Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 400 })
          )
          assert.strictEqual(readdirSync(dir).filter((name) => name.endsWith(".tmp")).length, 1, "the export is under way")
          run.child.kill("SIGTERM")
          yield* Effect.promise(() => run.waitFor("SIGTERM received"))
          return run
        })
      ), Effect.scoped, Effect.flatMap(finished), Effect.map((result) => {
        // The lock is released (scope closed): the interrupted read returns, and the export ends.
        assert.strictEqual(result.code, 143, result.stderr)
        assert.strictEqual(result.stdout, "")
        assert.include(result.stderr, `inkwell: export interrupted after 0 posts; ${file} was left as it was`)
      }))
      assert.deepStrictEqual(readdirSync(dir), ["backup.ndjson"])
      assert.strictEqual(readFileSync(file, "utf8"), "an earlier export\n")
    }).pipe(Effect.scoped), 120_000)
})
