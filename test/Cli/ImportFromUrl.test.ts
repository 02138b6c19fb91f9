/**
 * `inkwell import --from-url` as a user runs it: a child process through bin/inkwell.js, a real
 * node:http server on 127.0.0.1 serving a JSON Feed fixture and another Inkwell's API (its drafts
 * listed only with its key), a SQLite file in a temp directory.
 */
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"

const root = join(import.meta.dirname, "..", "..")
const dir = mkdtempSync(join(tmpdir(), "inkwell-cli-url-"))
const feed = readFileSync(join(root, "test", "fixtures", "feeds", "feed.json"), "utf8")

/** An RSS feed of one item of `mb` MB of text (escaped HTML, as feeds write it) and one small item. */
const hugeItem = (mb: number) =>
  `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><guid>huge</guid><title>Huge</title><description>&lt;p&gt;${"word ".repeat(mb * 1024 * 1024 / 5)}&lt;/p&gt;</description></item>
<item><guid>small</guid><title>Small after huge</title><description>&lt;p&gt;Small.&lt;/p&gt;</description></item>
</channel></rss>`

/** The other Inkwell's key, and the keys its requests came with (none: `undefined`). */
const SOURCE_KEY = "s3cret-source-key"
const keysSeen: Array<string | undefined> = []

/** Another Inkwell under `/other`: its draft is listed and served only with its key, as the real API does. */
const otherInkwell = (url: URL, key: string | undefined, res: import("node:http").ServerResponse): boolean => {
  const posts = {
    public: { id: "00000000-0000-4000-8000-0000000000a1", slug: "public", title: "Public", body: "Out.", status: "published", publishedAt: "2024-01-01T00:00:00Z" },
    draft: { id: "00000000-0000-4000-8000-0000000000a2", slug: "draft", title: "Draft", body: "Not yet.", status: "draft", publishedAt: null }
  }
  const keyed = key === SOURCE_KEY
  const json = (status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" })
    res.end(JSON.stringify(body))
    return true
  }
  if (url.pathname === "/other/") {
    // Its reader site's page: feeds for readers, its API for an import.
    res.writeHead(200, { "content-type": "text/html" })
    res.end(`<html><head><link rel="alternate" type="application/rss+xml" href="/other/rss.xml"><link rel="alternate" type="application/vnd.inkwell.posts+json" href="/other/posts"></head></html>`)
    return true
  }
  if (url.pathname === "/other/posts") return json(200, { items: (keyed ? [posts.public, posts.draft] : [posts.public]).map(({ slug }) => ({ slug })), next: null })
  const slug = /^\/other\/posts\/([a-z]+)$/.exec(url.pathname)?.[1]
  const post = slug === "public" || (slug === "draft" && keyed) ? posts[slug] : undefined
  return post === undefined ? false : json(200, post)
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://x")
  if (url.pathname.startsWith("/other")) {
    const key = req.headers["x-api-key"]
    keysSeen.push(typeof key === "string" ? key : undefined)
    if (otherInkwell(url, typeof key === "string" ? key : undefined, res)) return
    res.writeHead(404)
    res.end()
  } else if (req.url === "/feed.json") {
    res.writeHead(200, { "content-type": "application/feed+json" })
    res.end(feed)
  } else if (req.url === "/huge.xml") {
    res.writeHead(200, { "content-type": "application/rss+xml" })
    res.end(hugeItem(6))
  } else {
    res.writeHead(404)
    res.end()
  }
})
let base = ""
beforeAll(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => {
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  resolve()
})))
afterAll(() =>
  new Promise<void>((resolve) => {
    rmSync(dir, { recursive: true, force: true })
    server.closeAllConnections()
    server.close(() => resolve())
  })
)

const inkwell = (args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const child = spawn(process.execPath, [join(root, "bin", "inkwell.js"), ...args], {
    cwd: root,
    env: { ...process.env, FEED_RETRIES: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout.on("data", (d) => (stdout += d))
  child.stderr.on("data", (d) => (stderr += d))
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  )
}

describe("inkwell import --from-url", () => {
  it("imports a JSON Feed, reports its bad items and an unreachable URL, and is idempotent", async () => {
    const db = `sqlite:${join(dir, "feed.db")}`
    const report = join(dir, "report.json")
    // From 127.0.0.1 with FEED_ALLOW_PRIVATE=false: the operator's CLI fetches from anywhere, the setting is the server's.
    const first = await inkwell(["import", "--from-url", `${base}/feed.json`, "--from-url", `${base}/gone.json`, "--report", report], {
      DATABASE_URL: db,
      FEED_ALLOW_PRIVATE: "false"
    })
    assert.strictEqual(first.code, 0, first.stderr)
    assert.include(first.stderr, `inkwell: importing ${base}/feed.json ${base}/gone.json`)
    assert.match(first.stdout, /Import completed/)
    assert.match(first.stdout, /imported\s+3\n/)
    const json = JSON.parse(readFileSync(report, "utf8"))
    const sources = json.failures.map((f: { source: string }) => f.source)
    assert.includeMembers(sources, [`${base}/feed.json#3`, `${base}/feed.json#4`, `${base}/gone.json`])

    const again = await inkwell(["import", "--from-url", `${base}/feed.json`, "--fail-on-error"], { DATABASE_URL: db })
    assert.strictEqual(again.code, 1)
    assert.match(again.stdout, /unchanged\s+3\n/)
  }, 180_000)

  it("a feed with one 6 MB item under FEED_MAX_BYTES: that item fails as too large, the other is imported, the summary prints (was: the CLI's heap ran out parsing it)", async () => {
    const run = await inkwell(["import", "--from-url", `${base}/huge.xml`], { DATABASE_URL: `sqlite:${join(dir, "huge.db")}` })
    assert.strictEqual(run.code, 0, run.stderr.slice(-2000))
    assert.notInclude(run.stderr, "heap out of memory")
    assert.match(run.stdout, /imported\s+1\n/)
    assert.match(run.stdout, /failed\s+1\n/)
    assert.include(run.stdout, `${base}/huge.xml#huge: too large: a body of `)
  }, 180_000)

  it("a malformed --from-url is one usage line naming it, exit 2, before anything runs; a well-formed unreachable one is a failure in the summary", async () => {
    const file = join(dir, "malformed.db")
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string, string]> = [
      [["--from-url", "not a url"], "not a url", "not an absolute URL"],
      [["--from-url", "ftp://x/feed.xml"], "ftp://x/feed.xml", "not ftp:"],
      [["--from-url=http//missing-colon"], "http//missing-colon", "not an absolute URL"],
      // Among good sources, it still stops everything before the good ones are read.
      [[dir, "--from-url", `${base}/feed.json`, "--from-url", "ftp://x"], "ftp://x", "not ftp:"]
    ]
    for (const [args, url, reason] of cases) {
      const run = await inkwell(["import", ...args], { DATABASE_URL: `sqlite:${file}` })
      assert.strictEqual(run.code, 2, run.stderr)
      const lines = run.stderr.trimEnd().split("\n")
      assert.strictEqual(lines.length, 1, run.stderr)
      assert.isTrue(lines[0]!.startsWith(`inkwell: --from-url ${JSON.stringify(url)} is not an http(s) URL (`), lines[0])
      assert.include(lines[0], reason)
      assert.strictEqual(run.stdout, "")
      assert.isFalse(existsSync(file), `${args.join(" ")}: a database was created`)
    }

    const refused = await inkwell(["import", "--from-url", "http://127.0.0.1:1/feed.xml"], { DATABASE_URL: `sqlite:${file}` })
    assert.strictEqual(refused.code, 0, refused.stderr)
    assert.match(refused.stdout, /failed\s+1\n/)
    assert.include(refused.stdout, "http://127.0.0.1:1/feed.xml")
  }, 180_000)

  it("another Inkwell: its public posts only without a key (said in the summary), its drafts too with INKWELL_SOURCE_API_KEY, which nothing shows", async () => {
    const db = `sqlite:${join(dir, "other.db")}`
    const keyless = await inkwell(["import", "--from-url", `${base}/other/posts`, "--report", join(dir, "keyless.json")], { DATABASE_URL: db })
    assert.strictEqual(keyless.code, 0, keyless.stderr)
    assert.match(keyless.stdout, /imported\s+1\n/)
    assert.include(
      keyless.stdout,
      `Warnings:\n  ${base}/other/posts: read without a key: only its public posts were imported (no drafts or scheduled posts); set INKWELL_SOURCE_API_KEY to a key of that server to bring them`
    )
    assert.strictEqual(JSON.parse(readFileSync(join(dir, "keyless.json"), "utf8")).warnings.length, 1)
    assert.deepStrictEqual(keysSeen.splice(0), [undefined, undefined, undefined])

    const report = join(dir, "keyed.json")
    const keyed = await inkwell(["import", "--from-url", `${base}/other/posts`, "--report", report], { DATABASE_URL: db, INKWELL_SOURCE_API_KEY: SOURCE_KEY })
    assert.strictEqual(keyed.code, 0, keyed.stderr)
    assert.match(keyed.stdout, /imported\s+1\n/)
    assert.match(keyed.stdout, /unchanged\s+1\n/)
    assert.notInclude(keyed.stdout, "Warnings")
    // The page that tells an Inkwell is read as any URL, without the key; the API's reads with it.
    assert.deepStrictEqual(keysSeen.splice(0), [undefined, SOURCE_KEY, SOURCE_KEY, SOURCE_KEY])
    const exported = await inkwell(["export"], { DATABASE_URL: db })
    const records = exported.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as { slug: string; status: string; id: string })
    assert.deepStrictEqual(records.map((r) => [r.slug, r.status, r.id]).sort(), [
      ["draft", "draft", "00000000-0000-4000-8000-0000000000a2"],
      ["public", "published", "00000000-0000-4000-8000-0000000000a1"]
    ])
    for (const text of [keyed.stdout, keyed.stderr, readFileSync(report, "utf8"), exported.stdout]) assert.notInclude(text, SOURCE_KEY)

    // One server's key, for one origin: with URLs of two, nothing runs.
    const other = `http://localhost:${new URL(base).port}/other/posts`
    const two = await inkwell(["import", "--from-url", `${base}/feed.json`, "--from-url", other], {
      DATABASE_URL: `sqlite:${join(dir, "two.db")}`,
      INKWELL_SOURCE_API_KEY: SOURCE_KEY
    })
    assert.strictEqual(two.code, 2, two.stderr)
    assert.include(two.stderr, `INKWELL_SOURCE_API_KEY is the key of one server: give --from-url URLs of one origin with it (got ${base}, http://localhost:`)
    assert.isFalse(existsSync(join(dir, "two.db")))
    assert.deepStrictEqual(keysSeen, [])
  }, 180_000)

  it("another Inkwell's site given by its address with INKWELL_SOURCE_API_KEY: its page leads to its API, drafts included (was: its feed, public posts only, nothing said); a key no source used is said", async () => {
    const site = await inkwell(["import", "--from-url", `${base}/other/`], { DATABASE_URL: `sqlite:${join(dir, "site.db")}`, INKWELL_SOURCE_API_KEY: SOURCE_KEY })
    assert.strictEqual(site.code, 0, site.stderr)
    assert.match(site.stdout, /imported\s+2\n/)
    assert.notInclude(site.stdout, "Warnings")
    // The page and the first read of the list tell what they are, without the key; the API's reads have it.
    assert.deepStrictEqual(keysSeen.splice(0), [undefined, undefined, SOURCE_KEY, SOURCE_KEY, SOURCE_KEY])

    const feedOnly = await inkwell(["import", "--from-url", `${base}/feed.json`], { DATABASE_URL: `sqlite:${join(dir, "feed-keyed.db")}`, INKWELL_SOURCE_API_KEY: SOURCE_KEY })
    assert.strictEqual(feedOnly.code, 0, feedOnly.stderr)
    assert.include(
      feedOnly.stdout,
      `Warnings:\n  ${base}/feed.json: INKWELL_SOURCE_API_KEY was not used: read as a JSON Feed (${base}/feed.json), not through another Inkwell's API, so only what it lists was imported (no drafts or scheduled posts); for another Inkwell, give --from-url its API's posts list (${base}/posts for a server at the root of its origin)`
    )
    assert.notInclude(feedOnly.stdout + feedOnly.stderr, SOURCE_KEY)
  }, 180_000)

  it("exits 2 without a path or --from-url, and 1 on a bad FEED_* setting (an invalid configuration, as for serve)", async () => {
    const none = await inkwell(["import"], { DATABASE_URL: `sqlite:${join(dir, "none.db")}` })
    assert.strictEqual(none.code, 2)
    assert.include(none.stderr, "nothing to import")
    const bad = await inkwell(["import", "--from-url", `${base}/feed.json`], {
      DATABASE_URL: `sqlite:${join(dir, "bad.db")}`,
      FEED_RETRIES: "lots"
    })
    assert.strictEqual(bad.code, 1)
    assert.match(bad.stderr, /^inkwell: invalid configuration: .*FEED_RETRIES/)
  }, 180_000)
})
