/**
 * Several Inkwell servers on one PostgreSQL database: two real server processes (the `npm start`
 * entrypoint, ephemeral ports) and two CLI imports, all on one fresh database this file creates
 * and drops. Optimistic versions and unique slugs must hold across processes, not just fibers.
 */
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer, Schedule } from "effect"
import { spawn } from "node:child_process"
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { rustBlog } from "../fixtures/corpus.js"
import { adminQuery, createDatabase, describePg, terminateBackends } from "../fixtures/pg.js"

const ROOT = fileURLToPath(new URL("../..", import.meta.url))
/** Checked when the import test runs, so the other tests here do not need the corpus. */
const corpus = () => resolve(ROOT, rustBlog())
const KEY = "scale-out-test-key"
/** Posts per corpus folder; small batches below make the two imports interleave many times. */
const PER_FOLDER = 20

interface Response {
  readonly status: number
  readonly body: any
}

interface Server {
  readonly name: string
  /** With the API key (never answered from a response cache). */
  readonly request: (method: string, path: string, body?: unknown) => Effect.Effect<Response, Error>
  /** A public GET, as a reader sends it (answered from the response cache when cached). */
  readonly read: (path: string) => Effect.Effect<Response, Error>
}

interface Cluster {
  readonly databaseUrl: string
  readonly a: Server
  readonly b: Server
}

class Servers extends Context.Tag("test/Servers")<Servers, Cluster>() {}

const requester = (name: string, base: string): Server => {
  const send = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
    Effect.tryPromise({
      try: async () => {
        const response = await fetch(`${base}${path}`, {
          method,
          headers: { "content-type": "application/json", ...headers },
          ...(body === undefined ? {} : { body: JSON.stringify(body) })
        })
        const text = await response.text()
        return { status: response.status, body: text.length > 0 ? JSON.parse(text) : null }
      },
      catch: (cause) => new Error(`${name} ${method} ${path}: ${String(cause)}`)
    })
  return {
    name,
    request: (method, path, body) => send(method, path, { "x-api-key": KEY }, body),
    read: (path) => send("GET", path, {})
  }
}

/** A child process, ended with SIGTERM (then SIGKILL) when the scope closes. */
const processEnv = (databaseUrl: string) => ({
  ...process.env,
  DATABASE_URL: databaseUrl,
  INKWELL_API_KEYS: KEY,
  LOG_FORMAT: "json",
  DB_MAX_CONNECTIONS: "4",
  // Long enough that only an announced change can refresh a cached read during the test.
  RESPONSE_CACHE_TTL: "10 minutes"
})

/** Retries `request` until `done` holds for its answer, or fails after about 10 s. */
const eventually = (request: Effect.Effect<Response, Error>, done: (response: Response) => boolean, what: string) =>
  request.pipe(
    Effect.filterOrFail(done, (r) => new Error(`${what}: still ${r.status} ${JSON.stringify(r.body)}`)),
    Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 200 })
  )

/** `npm start` as a child process on a free port; resolves once it logged its URL. */
const startServer = (name: string, databaseUrl: string) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: Server; readonly stop: () => Promise<void> }, Error>((resume) => {
      const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
        cwd: ROOT,
        env: { ...processEnv(databaseUrl), PORT: "0", HOST: "127.0.0.1" },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let output = ""
      let started = false
      const exited = new Promise<void>((done) => child.once("exit", () => done()))
      const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000)
        await exited
        clearTimeout(timer)
      }
      const onData = (chunk: Buffer) => {
        output += chunk.toString()
        const match = /Inkwell listening on (http:\/\/[^\s"]+)/.exec(output)
        if (match && !started) {
          started = true
          resume(Effect.succeed({ server: requester(name, match[1]!), stop }))
        }
      }
      child.stdout.on("data", onData)
      child.stderr.on("data", onData)
      child.once("exit", (code) => {
        if (!started) resume(Effect.fail(new Error(`server ${name} exited with ${code} before listening:\n${output}`)))
      })
      return Effect.promise(stop)
    }).pipe(Effect.timeoutFail({ duration: "60 seconds", onTimeout: () => new Error(`server ${name} did not start`) })),
    ({ stop }) => Effect.promise(stop)
  ).pipe(Effect.map(({ server }) => server))

/** `inkwell import <paths>` as a child process; its exit code and output. */
const runImport = (databaseUrl: string, paths: ReadonlyArray<string>) =>
  Effect.async<{ readonly code: number | null; readonly output: string }>((resume) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/bin.ts", "import", ...paths, "--batch-size", "10"], {
      cwd: ROOT,
      env: processEnv(databaseUrl),
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()))
    child.once("exit", (code) => resume(Effect.succeed({ code, output })))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

const ServersLive = Layer.scoped(
  Servers,
  Effect.gen(function*() {
    const database = yield* Effect.acquireRelease(
      Effect.promise(() => createDatabase()),
      (database) => Effect.promise(() => database.drop())
    )
    // One after the other: the first one migrates (see the report on concurrent first starts).
    const a = yield* startServer("A", database.url)
    const b = yield* startServer("B", database.url)
    return { databaseUrl: database.url, a, b }
  })
)

const post = (slug: string, title: string) => ({ slug, title, body: `# ${title}\n\nWritten through ${title}.`, tags: ["scale"] })

const query = (url: string, sql: string) => Effect.promise(() => adminQuery(sql, url)).pipe(Effect.map((r) => r.rows))

describePg("Several Inkwell servers on one PostgreSQL database", () => {
  layer(ServersLive, { excludeTestServices: true, timeout: "120 seconds" })((it) => {
    it.effect("both servers are ready on the shared database", () =>
      Effect.gen(function*() {
        const { a, b } = yield* Servers
        for (const server of [a, b]) {
          const ready = yield* server.request("GET", "/ready")
          assert.deepStrictEqual([ready.status, ready.body], [200, { status: "ready" }], server.name)
        }
      }))

    it.effect("concurrent creates of one slug through both servers: one 201, one 409", () =>
      Effect.gen(function*() {
        const { a, b } = yield* Servers
        for (let round = 0; round < 5; round++) {
          const slug = `race-${round}`
          const [atA, atB] = yield* Effect.all(
            [a.request("POST", "/posts", post(slug, "A")), b.request("POST", "/posts", post(slug, "B"))],
            { concurrency: 2 }
          )
          const statuses = [atA.status, atB.status].sort()
          assert.deepStrictEqual(statuses, [201, 409], `round ${round}: ${JSON.stringify([atA.body, atB.body])}`)
          const loser = atA.status === 409 ? atA : atB
          const winner = atA.status === 201 ? atA : atB
          assert.strictEqual(loser.body._tag, "SlugConflict")
          // Both servers now serve the winner's post.
          for (const server of [a, b]) {
            const stored = yield* server.request("GET", `/posts/${slug}`)
            assert.deepStrictEqual([stored.status, stored.body.title, stored.body.id], [200, winner.body.title, winner.body.id])
          }
        }
      }))

    it.effect("concurrent updates of one post through both servers: one succeeds, one is 409 StaleVersion", () =>
      Effect.gen(function*() {
        const { a, b } = yield* Servers
        const created = yield* a.request("POST", "/posts", post("contended", "Original"))
        assert.strictEqual(created.status, 201)
        for (let version = 1; version <= 5; version++) {
          const [atA, atB] = yield* Effect.all(
            [
              a.request("PUT", "/posts/contended", { ...post("contended", `A${version}`), version }),
              b.request("PUT", "/posts/contended", { ...post("contended", `B${version}`), version })
            ],
            { concurrency: 2 }
          )
          const statuses = [atA.status, atB.status].sort()
          assert.deepStrictEqual(statuses, [200, 409], `version ${version}: ${JSON.stringify([atA.body, atB.body])}`)
          const loser = atA.status === 409 ? atA : atB
          const winner = atA.status === 200 ? atA : atB
          assert.deepStrictEqual(
            [loser.body._tag, loser.body.expected, loser.body.actual],
            ["StaleVersion", version, version + 1]
          )
          const stored = yield* b.request("GET", "/posts/contended")
          assert.deepStrictEqual([stored.body.version, stored.body.title], [version + 1, winner.body.title])
        }
      }))

    it.effect("imports running on both at once for overlapping corpora store each post exactly once", () =>
      Effect.gen(function*() {
        const { databaseUrl } = yield* Servers
        // 60 posts of the real corpus in three folders; the imports share the middle one.
        const CORPUS = corpus()
        const files = (yield* Effect.promise(() => readdir(CORPUS)))
          .filter((f) => f.endsWith(".md") && !f.startsWith("_"))
          .sort()
          .slice(0, PER_FOLDER * 3)
        assert.strictEqual(files.length, PER_FOLDER * 3)
        const dir = yield* Effect.acquireRelease(
          Effect.promise(() => mkdtemp(join(tmpdir(), "inkwell-scale-"))),
          (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
        )
        const parts = ["x", "y", "z"].map((name) => join(dir, name))
        yield* Effect.promise(() =>
          Promise.all(parts.map(async (part, i) => {
            await mkdir(part)
            await Promise.all(files.slice(i * PER_FOLDER, (i + 1) * PER_FOLDER).map((f) => cp(join(CORPUS, f), join(part, f))))
          }))
        )
        const [first, second] = yield* Effect.all(
          [runImport(databaseUrl, [parts[0]!, parts[1]!]), runImport(databaseUrl, [parts[1]!, parts[2]!])],
          { concurrency: 2 }
        )
        assert.strictEqual(first.code, 0, first.output)
        assert.strictEqual(second.code, 0, second.output)

        const rows = yield* query(databaseUrl, `SELECT source, slug, version FROM posts WHERE source LIKE '${dir}/%'`)
        const sources = rows.map((r) => String(r.source).slice(dir.length + 1)).sort()
        const expected = parts.flatMap((_, i) => files.slice(i * PER_FOLDER, (i + 1) * PER_FOLDER).map((f) => `${"xyz"[i]}/${f}`)).sort()
        assert.deepStrictEqual(sources, expected, "every file stored once, nothing lost or doubled")
        assert.strictEqual(new Set(rows.map((r) => r.slug)).size, PER_FOLDER * 3, "no suffixed duplicates")
        assert.deepStrictEqual(rows.filter((r) => r.version !== 1).map((r) => r.slug), [], "the second writer found them unchanged")
        const tagRows = yield* query(
          databaseUrl,
          `SELECT count(*)::int AS n FROM post_tags t JOIN posts p ON p.id = t.post_id
           GROUP BY t.post_id, t.tag HAVING count(*) > 1`
        )
        assert.deepStrictEqual(tagRows, [])
      }).pipe(Effect.scoped), 120_000)

    it.effect("a read cached by one server is dropped when the other writes (LISTEN/NOTIFY)", () =>
      Effect.gen(function*() {
        const { a, b, databaseUrl } = yield* Servers
        const created = yield* a.request("POST", "/posts", post("cached", "First"))
        assert.strictEqual(created.status, 201)
        assert.strictEqual((yield* b.read("/posts/cached")).body.title, "First")
        // Proof that B answers from its cache: a change made behind every server's back (no
        // announcement) is not seen there.
        yield* query(databaseUrl, `UPDATE posts SET title = 'Behind their back' WHERE slug = 'cached'`)
        assert.strictEqual((yield* b.read("/posts/cached")).body.title, "First", "B serves its cached copy")
        assert.strictEqual((yield* b.request("GET", "/posts/cached")).body.title, "Behind their back", "the database has the new title")

        const updated = yield* a.request("PUT", "/posts/cached", { ...post("cached", "Second"), version: 1 })
        assert.strictEqual(updated.status, 200, JSON.stringify(updated.body))
        const seen = yield* eventually(b.read("/posts/cached"), (r) => r.body?.title === "Second", "B after A's update")
        assert.strictEqual(seen.body.version, 2)

        const deleted = yield* a.request("DELETE", "/posts/cached")
        assert.strictEqual(deleted.status, 204)
        const gone = yield* eventually(b.read("/posts/cached"), (r) => r.status === 404, "B after A's delete")
        assert.strictEqual(gone.body._tag, "PostNotFound")
      }))

    it.effect("an `inkwell import` process drops the servers' cached lists", () =>
      Effect.gen(function*() {
        const { a, b, databaseUrl } = yield* Servers
        for (const server of [a, b]) {
          const empty = yield* server.read("/posts?tag=cache-import")
          assert.deepStrictEqual(empty.body.items, [], server.name)
        }
        const dir = yield* Effect.acquireRelease(
          Effect.promise(() => mkdtemp(join(tmpdir(), "inkwell-cache-"))),
          (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
        )
        const slugs = ["cache-import-1", "cache-import-2", "cache-import-3"]
        yield* Effect.promise(() =>
          Promise.all(slugs.map((slug) =>
            writeFile(join(dir, `${slug}.md`), `---\ntitle: ${slug}\ntags: [cache-import]\n---\n\nImported by the CLI.\n`)
          ))
        )
        const run = yield* runImport(databaseUrl, [dir])
        assert.strictEqual(run.code, 0, run.output)
        for (const server of [a, b]) {
          const listed = yield* eventually(
            server.read("/posts?tag=cache-import"),
            (r) => r.body?.items?.length === slugs.length,
            `${server.name} after the import`
          )
          assert.deepStrictEqual(listed.body.items.map((p: { slug: string }) => p.slug).sort(), slugs)
        }
      }).pipe(Effect.scoped))

    it.effect("/ready follows the database: back after killed connections, 503 once it is gone", () =>
      Effect.gen(function*() {
        const { a, b, databaseUrl } = yield* Servers
        yield* Effect.promise(() => terminateBackends(databaseUrl))
        for (const server of [a, b]) {
          // The first check may land on a connection the server has not yet seen die.
          const ready = yield* server.request("GET", "/ready").pipe(
            Effect.filterOrFail((r) => r.status === 200, (r) => new Error(`${server.name} not ready: ${r.status}`)),
            Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 100 })
          )
          assert.strictEqual(ready.status, 200)
          const list = yield* server.request("GET", "/posts?limit=1")
          assert.strictEqual(list.status, 200)
        }
        const name = new URL(databaseUrl).pathname.slice(1)
        yield* Effect.promise(() => adminQuery(`DROP DATABASE ${name} WITH (FORCE)`))
        for (const server of [a, b]) {
          const gone = yield* server.request("GET", "/ready")
          assert.deepStrictEqual([gone.status, gone.body?._tag], [503, "NotReady"], server.name)
        }
      }))
  })
})
