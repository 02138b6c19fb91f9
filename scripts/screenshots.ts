/**
 * Screenshots of the reader site for the README: the index and a post, light and dark, saved as
 * docs/{index,post}-{light,dark}.png. Runs the real server on a temporary SQLite database, posts
 * a few articles of the real corpus through the API, and photographs them in headless Chromium.
 *
 *   npm run screenshots
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { mkdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { baseUrl, browser, createPost, pw, serverAt, tempDir } from "../test/e2e/harness.js"

const CORPUS = "../shared/corpus/rust-blog"

/** Corpus articles with the tags a reader would file them under. The last is photographed. */
const ARTICLES: ReadonlyArray<{ readonly file: string; readonly tags: ReadonlyArray<string> }> = [
  { file: "cargo-pillars.md", tags: ["cargo", "tooling"] },
  { file: "gats-stabilization.md", tags: ["language", "generics"] },
  { file: "Rust-1.89.0.md", tags: ["release"] },
  { file: "updates-to-rusts-wasi-targets.md", tags: ["wasm", "targets"] },
  { file: "i128-layout-update.md", tags: ["abi", "ffi", "compiler"] }
]

/** Zola keeps the date in the front matter's `path = "YYYY/MM/DD/..."`. */
const dateOf = (raw: string): string | undefined => {
  const match = /^path\s*=\s*"(\d{4})\/(\d{2})\/(\d{2})\//m.exec(raw)
  return match === null ? undefined : `${match[1]}-${match[2]}-${match[3]}T12:00:00Z`
}

const program = Effect.gen(function* () {
  const dir = yield* tempDir("inkwell-screenshots-")
  const context = yield* Layer.build(
    serverAt(dir, {
      SITE_TITLE: "Inkwell",
      SITE_DESCRIPTION: "Posts from the Rust blog, served by Inkwell",
      SITE_AUTHOR: "The Rust Project",
      SITE_PAGE_SIZE: "5"
    })
  )
  const base = yield* Effect.provide(baseUrl, context)
  let slug = ""
  for (const article of ARTICLES) {
    const raw = readFileSync(join(CORPUS, article.file), "utf8")
    const publishedAt = dateOf(raw)
    const created = yield* createPost(base, {
      body: raw,
      tags: article.tags,
      status: "published",
      ...(publishedAt === undefined ? {} : { publishedAt })
    })
    slug = created.slug
  }

  const chromium = yield* browser
  const page = yield* pw(() => chromium.newPage())
  yield* pw(() => page.setViewportSize({ width: 1200, height: 1000 }))
  mkdirSync("docs", { recursive: true })
  for (const scheme of ["light", "dark"] as const) {
    yield* pw(() => page.emulateMedia({ colorScheme: scheme }))
    yield* pw(() => page.goto(`${base}/`))
    yield* pw(() => page.screenshot({ path: `docs/index-${scheme}.png` }))
    yield* pw(() => page.goto(`${base}/p/${slug}`))
    // Past the header to where the contents and the first code block are.
    yield* pw(() => page.screenshot({ path: `docs/post-${scheme}.png` }))
    yield* Effect.log(`docs/index-${scheme}.png, docs/post-${scheme}.png`)
  }
})

NodeRuntime.runMain(Effect.scoped(program))
