/**
 * Deterministic synthetic corpora for tests and benchmarks: the same seed and count always give
 * byte-identical output. Realistic posts: front matter, headings, paragraphs with links and
 * inline code, lists, fenced code, tables, the odd blockquote.
 *
 *   tsx scripts/generate-corpus.ts --format md|ndjson --count 10000 [--seed 42] --out <dir|file>
 *
 * Markdown goes to `<out>/YYYY/slug.md` with TOML front matter; NDJSON to one file, one record
 * (`title`, `slug`, `body`, `tags`, `authors`, `publishedAt`) per line. Written as it is
 * generated, so 100k posts never sit in memory.
 */
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs"
import { dirname, join } from "node:path"
import { pathToFileURL } from "node:url"

/** mulberry32: tiny, fast, good enough for text. */
export const rng = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const WORDS = (
  "effect stream fiber queue scope layer schema runtime compiler borrow checker trait async await " +
  "memory safety ownership lifetime closure iterator vector string slice module crate package release " +
  "version feature stable nightly toolchain cargo build test benchmark performance latency throughput " +
  "database index transaction batch import export markdown render html parser token grammar syntax " +
  "the a of and to in is that for on with as it by this be are from at or an was have not which"
).split(" ")
const TAGS = ["rust", "effect", "typescript", "release", "performance", "async", "databases", "tooling", "web", "community", "security", "compiler"]
const AUTHORS = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Barbara Liskov", "Edsger Dijkstra", "Donald Knuth"]
const LANGS = ["rust", "ts", "sh", "sql", "json"]

export interface GeneratedPost {
  readonly title: string
  readonly slug: string
  readonly body: string
  readonly tags: ReadonlyArray<string>
  readonly authors: ReadonlyArray<string>
  readonly publishedAt: string
}

/** Post number `index` of the corpus for `seed`: independent of the others, so generation streams. */
export const makePost = (seed: number, index: number): GeneratedPost => {
  const r = rng(seed * 1_000_003 + index)
  const pick = <A>(xs: ReadonlyArray<A>) => xs[Math.floor(r() * xs.length)]!
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1))
  const words = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join(" ")
  const sentence = () => {
    const s = words(int(6, 18))
    return `${s[0]!.toUpperCase()}${s.slice(1)}.`
  }
  const paragraph = () =>
    Array.from({ length: int(2, 5) }, (_, i) =>
      i === 1 && r() < 0.5
        ? `See [the ${pick(WORDS)} guide](https://example.com/${pick(WORDS)}/${int(1, 999)}) and \`${pick(WORDS)}()\`.`
        : sentence()).join(" ")
  const title = `${words(int(3, 7)).replace(/^./, (c) => c.toUpperCase())} ${index}`
  const blocks: Array<string> = [paragraph()]
  for (let section = 0, n = int(2, 4); section < n; section++) {
    blocks.push(`## ${words(int(2, 5)).replace(/^./, (c) => c.toUpperCase())}`, paragraph())
    const kind = r()
    if (kind < 0.3) blocks.push(Array.from({ length: int(3, 6) }, () => `- ${words(int(3, 9))}`).join("\n"))
    else if (kind < 0.55) {
      const lang = pick(LANGS)
      blocks.push(`\`\`\`${lang}\n${Array.from({ length: int(3, 10) }, () => `${words(int(2, 6))};`).join("\n")}\n\`\`\``)
    } else if (kind < 0.75) {
      const rows = Array.from({ length: int(2, 5) }, () => `| ${pick(WORDS)} | ${int(1, 1000)} | ${words(3)} |`)
      blocks.push(["| Name | Value | Notes |", "| --- | ---: | --- |", ...rows].join("\n"))
    } else if (kind < 0.85) blocks.push(`> ${sentence()}`)
    else blocks.push(Array.from({ length: int(2, 4) }, (_, i) => `${i + 1}. ${words(int(3, 8))}`).join("\n"))
    blocks.push(paragraph())
  }
  const year = 2015 + (index % 10)
  const month = String(1 + (index % 12)).padStart(2, "0")
  const day = String(1 + (index % 28)).padStart(2, "0")
  return {
    title,
    slug: `post-${seed}-${index}`,
    body: `${blocks.join("\n\n")}\n`,
    tags: Array.from(new Set(Array.from({ length: int(1, 3) }, () => pick(TAGS)))),
    authors: [pick(AUTHORS)],
    publishedAt: `${year}-${month}-${day}T12:00:00Z`
  }
}

export const toMarkdown = (post: GeneratedPost): string =>
  [
    "+++",
    `title = ${JSON.stringify(post.title)}`,
    `slug = ${JSON.stringify(post.slug)}`,
    `date = ${post.publishedAt}`,
    `authors = ${JSON.stringify(post.authors)}`,
    "",
    "[taxonomies]",
    `tags = ${JSON.stringify(post.tags)}`,
    "+++",
    "",
    post.body
  ].join("\n")

export const toNdjsonLine = (post: GeneratedPost): string => `${JSON.stringify(post)}\n`

/** Writes an NDJSON corpus; returns its size in bytes. */
export const writeNdjson = (file: string, count: number, seed: number): number => {
  mkdirSync(dirname(file), { recursive: true })
  const fd = openSync(file, "w")
  let bytes = 0
  try {
    let buffer = ""
    for (let i = 0; i < count; i++) {
      buffer += toNdjsonLine(makePost(seed, i))
      if (buffer.length > 1 << 20 || i === count - 1) {
        bytes += writeSync(fd, buffer)
        buffer = ""
      }
    }
  } finally {
    closeSync(fd)
  }
  return bytes
}

/** Writes a markdown directory (`<dir>/<year>/<slug>.md`); returns the bytes written. */
export const writeMarkdownDir = (dir: string, count: number, seed: number): number => {
  let bytes = 0
  for (let i = 0; i < count; i++) {
    const post = makePost(seed, i)
    const file = join(dir, post.publishedAt.slice(0, 4), `${post.slug}.md`)
    mkdirSync(dirname(file), { recursive: true })
    const fd = openSync(file, "w")
    bytes += writeSync(fd, toMarkdown(post))
    closeSync(fd)
  }
  return bytes
}

const main = (argv: ReadonlyArray<string>) => {
  const arg = (name: string) => {
    const i = argv.indexOf(`--${name}`)
    return i === -1 ? undefined : argv[i + 1]
  }
  const format = arg("format") ?? "ndjson"
  const count = Number(arg("count") ?? "1000")
  const seed = Number(arg("seed") ?? "42")
  const out = arg("out")
  if (out === undefined || !(format === "md" || format === "ndjson") || !Number.isInteger(count) || count < 1) {
    console.error("usage: tsx scripts/generate-corpus.ts --format md|ndjson --count N [--seed S] --out PATH")
    process.exit(2)
  }
  const bytes = format === "md" ? writeMarkdownDir(out, count, seed) : writeNdjson(out, count, seed)
  console.log(`${count} posts (${(bytes / 1024 / 1024).toFixed(1)} MB) written to ${out}`)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) main(process.argv.slice(2))
