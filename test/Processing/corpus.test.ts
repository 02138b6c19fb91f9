/**
 * The real corpus: every file of the Rust blog through the processor.
 */
import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import { aliasKey, aliasKeysOf } from "../../src/Domain/Post.js"
import { processPostSync } from "../../src/Processing/processPost.js"
import { rustBlog } from "../fixtures/corpus.js"

const root = rustBlog()

const markdownFiles = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return markdownFiles(path)
    return name.endsWith(".md") ? [path] : []
  })

describe("Rust blog corpus", () => {
  const files = markdownFiles(root)
  const results = files.map((path) => ({
    path: relative(root, path),
    result: processPostSync({ source: path, relativePath: relative(root, path), raw: readFileSync(path, "utf8") })
  }))
  const posts = results.flatMap((r) => (Either.isRight(r.result) ? [r.result.right] : []))
  const failures = results.flatMap((r) => (Either.isLeft(r.result) ? [{ path: r.path, error: r.result.left }] : []))

  it("processes 750 of the 754 files", () => {
    assert.strictEqual(files.length, 754)
    assert.strictEqual(posts.length, 750, failures.map((f) => f.error.message).join("\n"))
  })

  it("rejects exactly the three section pages and the release template, with clear reasons", () => {
    const byPath = Object.fromEntries(failures.map((f) => [f.path, f.error]))
    assert.deepStrictEqual(Object.keys(byPath).sort(), ["_index.md", "inside-rust/_index.md", "releases/_index.md", "releases/latest.md"])
    for (const p of ["_index.md", "inside-rust/_index.md", "releases/_index.md"]) {
      assert.strictEqual(byPath[p]!.field, "file")
      assert.match(byPath[p]!.reason, /section index page/)
    }
    assert.strictEqual(byPath["releases/latest.md"]!.field, "title")
    assert.match(byPath["releases/latest.md"]!.source, /releases\/latest\.md$/)
  })

  it("gives every post a unique slug, a date, authors and a hash", () => {
    assert.strictEqual(new Set(posts.map((p) => p.slug)).size, posts.length)
    assert.strictEqual(new Set(posts.map((p) => p.contentHash)).size, posts.length)
    for (const p of posts) {
      assert.isNotNull(p.publishedAt, p.source)
      assert.isAbove(p.authors.length, 0, p.source)
      assert.isAbove(p.wordCount, 0, p.source)
      assert.isAtMost(Array.from(p.excerpt).length, 280)
    }
  })

  it("produces safe HTML with anchors matching the toc", () => {
    for (const p of posts) {
      assert.notMatch(p.html, /<script|\son[a-z]+\s*=|javascript:/i, p.source)
      for (const t of p.toc) assert.include(p.html, ` id="${t.id}"`, p.source)
      assert.strictEqual(new Set(p.toc.map((t) => t.id)).size, p.toc.length, p.source)
    }
  })

  it("keeps the corpus' footnotes and Zola metadata", () => {
    const withFootnotes = posts.filter((p) => p.html.includes('class="footnote-ref"'))
    assert.isAbove(withFootnotes.length, 20)
    const release = posts.find((p) => p.slug === "2025-06-26-rust-1-88-0")
    assert.isDefined(release)
    assert.strictEqual(release!.title, "Announcing Rust 1.88.0")
    // Its Zola path (its address on blog.rust-lang.org) is an alias beside the ones it lists.
    assert.deepStrictEqual(release!.aliases, ["releases/1.88.0", "2025/06/26/Rust-1.88.0"])
    assert.deepStrictEqual(release!.metadata["extra"], { release: true })
  })

  it("leads every link between its posts by their old address (/2019/09/30/Async-await-hits-beta/) to a post", () => {
    const aliases = new Set(posts.flatMap((p) => aliasKeysOf(p)))
    const links = posts.flatMap((p) =>
      Array.from(p.html.matchAll(/href="(\/(?:inside-rust\/)?\d{4}\/[^"#?]*)/g), (m) => ({ from: p.source, href: m[1]! })))
    assert.isAtLeast(links.length, 11)
    assert.deepStrictEqual(links.filter((l) => !aliases.has(aliasKey(l.href))), [])
  })
})
