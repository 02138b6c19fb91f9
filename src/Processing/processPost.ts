/**
 * The whole processing of one post as plain synchronous functions: front matter → fields with
 * every default applied → rendered, derived fields → `NewPost`. No Effect runtime needed, so a
 * worker thread can call these directly; the `PostProcessor` service is a thin wrapper.
 *
 * Decisions worth knowing:
 * - Section pages (`_index.md`, Zola/Hugo list pages) are not posts: `InvalidPost` field "file".
 * - An explicit `slug` must already be a valid slug (field "slug" otherwise): silently rewriting
 *   a slug the author chose would change their URL behind their back. Derived slugs come, in
 *   order, from Zola's `path`, the title, the file name (`x/index.md` → "x").
 * - Zola's `path` gives the WHOLE path as slug ("2025/06/26/Rust-1.88.0" → "2025-06-26-rust-1-88-0"),
 *   not just its last segment: the path is the post's unique URL, while its last segment is not
 *   (in the Rust blog 750 posts have only 666 distinct last segments: "leadership-council-update"
 *   twelve times, told apart by date). Imports are idempotent by slug, so colliding slugs would
 *   silently replace posts.
 * - `tags`, `categories` and `[taxonomies]` tags/categories are merged into `tags`, in that order.
 * - `status` wins over `draft`; without either a post is published.
 * - The excerpt is the author's summary (`summary` / `description` / `excerpt`) when given,
 *   otherwise the first paragraphs; both are cut to `excerptLength`.
 * - Zola's `path` is an alias too (`withPathAlias`): the site redirects the post's old address.
 * - Dates without an offset are UTC. Date sources in order: front matter, Zola `path`, a
 *   `YYYY-MM-DD-` file-name prefix, a `YYYY/MM/DD/` directory path.
 */
import { DateTime, Either, ParseResult, Schema } from "effect"
import { TomlDate } from "smol-toml"
import type { ProcessorConfig } from "../Config.js"
import { fieldPath, issuesOf, plainIssues } from "../Domain/decodeIssues.js"
import { InvalidPost } from "../Domain/Errors.js"
import { aliasKey, codePointLength, defineKey, distinctTags, makeNewPost, type NewPost, oneLineText, Slug, storedTag, TocEntry, PostInput, type PostSource, statusOf } from "../Domain/Post.js"
import { dateFromPath, parseDateValue } from "./dates.js"
import { type FrontMatter, lineOfKey, parseFrontMatter, textAfterKey } from "./frontMatter.js"
import { htmlToText, type Paragraph, renderMarkdown } from "./markdown.js"
import { contentHash, countWords, isWellFormed, normalizeForHash, NUL, readingTimeMinutes, sha256Hex, SLUG_MAX_LENGTH, slugify, toWellFormed, truncateText } from "./text.js"

export const defaultProcessorConfig: ProcessorConfig = { wordsPerMinute: 230, excerptLength: 280 }

/** `_index.md` (Zola, Hugo) is a section's list page, not a post. */
export const isSectionPage = (path: string): boolean => /(?:^|[/\\])_index\.(?:md|markdown)$/i.test(path)

const PUBLISHED_KEYS = ["date", "publishDate", "publishdate", "published_at", "publishedAt", "pubDate", "published"]
const UPDATED_KEYS = ["updated", "lastmod", "lastMod", "updated_at", "updatedAt", "modified"]
const SUMMARY_KEYS = ["summary", "description", "excerpt"]
/** Keys turned into post fields; every other key is kept in `metadata`. `path` is used and kept. */
const CONSUMED_KEYS = new Set([
  "title", "slug", "tags", "categories", "taxonomies", "draft", "status", "authors", "author", "aliases",
  ...PUBLISHED_KEYS, ...UPDATED_KEYS, ...SUMMARY_KEYS
])

/** Thrown only inside this module, caught in `run`: keeps the field resolution linear. */
class Reject {
  constructor(readonly field: string, readonly reason: string, readonly line?: number) {}
}

const typeName = (v: unknown): string => (v === null ? "null" : v instanceof Date ? "a date" : Array.isArray(v) ? "an array" : typeof v === "object" ? "a table" : typeof v === "bigint" ? "a number" : `a ${typeof v}`)

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date)

/**
 * Front matter values stored as metadata must survive JSON: dates become ISO strings (a TOML date
 * or time its TOML form, `dateText`), an integer past 2^53 (a bigint from the parser) its exact
 * digits as a string (a JSON number would round it), a safe one a number. YAML's own types become
 * what JSON says of them: a `!!set` the list of its members, an `!!omap` an object of its pairs in
 * their order, `!!binary` its base64 text. Taken as objects, a Set and a Map had no entries and
 * were stored as `{}`, their members lost, and a Buffer's entries were its bytes (`{"0":104,...}`).
 */
const toJsonSafe = (v: unknown): unknown => {
  if (v instanceof Date) return dateText(v)
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v)
  if (Array.isArray(v)) return v.map(toJsonSafe)
  if (v instanceof Set) return Array.from(v, toJsonSafe)
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64")
  if (v instanceof Map) return entriesAsObject(Array.from(v, ([k, x]) => [String(toJsonSafe(k)), x] as const))
  if (isRecord(v)) return entriesAsObject(Object.entries(v))
  return v
}

const entriesAsObject = (entries: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const [k, x] of entries) if (x !== undefined && typeof x !== "function") defineKey(out, k, toJsonSafe(x))
  return out
}

/**
 * A date as metadata keeps it: a TOML date, time or date-time as TOML writes it (`1979-05-27`,
 * `07:32:00`, `1979-05-27T07:32:00-08:00`, its offset kept), to the millisecond, with a fraction
 * of a second only when it has one: `TomlDate`'s ISO form added `.000` to every time. Another
 * `Date` (a YAML `!!timestamp`) in UTC, as JavaScript writes it.
 */
const dateText = (v: Date): string | null => {
  if (Number.isNaN(v.getTime())) return null
  const iso = v.toISOString()
  return v instanceof TomlDate && v.getUTCMilliseconds() === 0 ? iso.replace(/\.000(?=$|Z|[+-]\d\d:\d\d$)/, "") : iso
}

/**
 * The number `value` as `after` (the text after its key, to the end of the line) writes it,
 * when that text reads as the same number: `1.50`, `1e3`, `0x1F`, `1_000` (TOML), `+5`. Else,
 * the text not recovered (a value on a later line, another key's text), `String(value)`.
 */
const writtenNumber = (value: number | bigint, after: string | undefined): string => {
  const written = after === undefined ? undefined : /^[ \t]*([-+]?[0-9A-Za-z_.+-]+)[ \t]*(?:[,}#]|$)/.exec(after)?.[1]
  if (written !== undefined) {
    const digits = written.replaceAll("_", "")
    try {
      if (typeof value === "bigint" ? BigInt(digits) === value : Number(digits) === value) return written
    } catch {
      // Not a BigInt's syntax (`1.0` for an integer): the parsed value's text then.
    }
  }
  return String(value)
}

/**
 * Reads typed values from front matter, rejecting with the key's line. A rejection names the key
 * as the author wrote it (`lastmod`, `categories`, `taxonomies.tags`), not the post field it
 * feeds (`updatedAt`, `tags`): that key is what they look for in their file.
 */
class Fields {
  constructor(readonly fm: FrontMatter) {}
  get data() {
    return this.fm.data
  }
  /** Refuses the post naming `field`, at the line of `key` (of its top-level key: `extra` for `extra.authors`). */
  reject(field: string, reason: string, key?: string): never {
    throw new Reject(field, reason, key === undefined ? undefined : lineOfKey(this.fm, key.split(".")[0]!))
  }
  string(key: string, field: string): string | undefined {
    const v = this.data[key]
    if (v === undefined || v === null) return undefined
    if (typeof v !== "string") this.reject(field, `front matter "${key}" must be a string, not ${typeName(v)}`, key)
    return v
  }
  /**
   * A string, or a number as text (`title: 1984`). As written when the key's line shows it
   * (`title: 1.50` is "1.50", not the parsed 1.5), else as the parsed value prints.
   */
  text(key: string, field: string): string | undefined {
    const v = this.data[key]
    if (typeof v === "number" || typeof v === "bigint") return writtenNumber(v, textAfterKey(this.fm, key))
    return this.string(key, field)
  }
  firstKey(keys: ReadonlyArray<string>): string | undefined {
    return keys.find((k) => this.data[k] !== undefined && this.data[k] !== null)
  }
  /**
   * A string or a list of strings. A string is a list separated by commas; with `words`, one
   * without a comma is a list of words (Jekyll's `tags` and `categories`). With `named`, a table
   * stands for its `name` (`author: {name: Ada, email: ...}`, as Hugo and Jekyll themes write
   * people), alone or in the list. With `numbers`, a number is its text (`tags: [2024, rust]`),
   * as the parser read it: `1.50` in a list is "1.5" (`text` recovers a top-level key's own).
   */
  strings(
    value: unknown,
    key: string,
    field: string,
    options: { readonly words?: boolean; readonly named?: boolean; readonly numbers?: boolean } = {}
  ): Array<string> {
    if (value === undefined || value === null) return []
    const isNumber = (x: unknown): x is number | bigint => options.numbers === true && (typeof x === "number" || typeof x === "bigint")
    const list = typeof value === "string"
      ? value.split(options.words === true && !value.includes(",") ? /\s+/ : ",")
      : (options.named === true && isRecord(value)) || isNumber(value) ? [value] : value
    const what = options.named === true ? "a string, a table with a \"name\", or a list of them" : "a string or a list of strings"
    if (!Array.isArray(list)) this.reject(field, `front matter "${key}" must be ${what}, not ${typeName(value)}`, key)
    return list.map((x) => {
      if (options.named === true && isRecord(x)) {
        if (typeof x["name"] !== "string") {
          const found = x["name"] === undefined || x["name"] === null ? "it has none" : `its "name" is ${typeName(x["name"])}`
          this.reject(field, `front matter "${key}": a table without a string "name" (${found})`, key)
        }
        return x["name"].trim()
      }
      if (isNumber(x)) return String(x)
      if (typeof x !== "string") this.reject(field, `front matter "${key}" must list ${options.named === true ? "strings or tables with a \"name\"" : "strings"}, found ${typeName(x)}`, key)
      return x.trim()
    }).filter((x) => x !== "")
  }
  /** The date under the first of `keys` given, or `undefined`; a bad one is refused naming that key. */
  date(keys: ReadonlyArray<string>): DateTime.Utc | undefined {
    const key = this.firstKey(keys)
    if (key === undefined) return undefined
    return Either.getOrElse(parseDateValue(this.data[key]), (reason) => this.reject(key, reason, key))
  }
}

// --- text every store keeps alike ---------------------------------------------------------

/**
 * Longest title, in characters (code points, as slugs and tags count): a heading, not a paragraph. Every store indexes it whole for
 * search, and PostgreSQL cannot index a title of much over a megabyte (the write failed there only).
 */
export const TITLE_MAX_LENGTH = 1000
/** Longest alias, in characters (code points), as `aliases` takes it. */
export const ALIAS_MAX_LENGTH = 500
/** Longest `source` (a file path, a record's `source`), in characters (code points). */
export const SOURCE_MAX_LENGTH = 800
/**
 * Longest `source` in UTF-8 bytes: 800 characters of four bytes each overran PostgreSQL's btree
 * row (~2,700 bytes), so the characters alone do not bound it; 800 of three bytes still fit.
 */
export const SOURCE_MAX_BYTES = 2400
/** Longest tag, in characters (code points). */
export const TAG_MAX_LENGTH = 100
/**
 * Most tags (distinct by `tagKey`) on one post: a taxonomy, not a word list. Uncapped, 11,000
 * tags overran SQLite's bound parameters and 22,000 PostgreSQL's protocol (a 503, as if the
 * database were down), so no store could take them; MAX_TAGS × TAG_MAX_LENGTH also bounds what
 * the search index is fed from tags.
 */
export const MAX_TAGS = 100


/**
 * The markdown body as stored: each U+0000 as U+FFFD, as CommonMark reads it ("for security
 * reasons"), and each lone surrogate as U+FFFD. PostgreSQL refuses a NUL in text ("invalid
 * byte sequence for encoding UTF8: 0x00", failing the whole batch) where SQLite stores it, and a
 * lone surrogate, which UTF-8 cannot encode, read back differently per store: stored the way
 * every store keeps it, a body is the same post everywhere, and the rendering does not change.
 */
const wellFormedBody = (body: string): string => {
  const noNul = body.includes(NUL) ? body.replaceAll(NUL, "\uFFFD") : body
  return isWellFormed(noNul) ? noNul : toWellFormed(noNul)
}

/**
 * `value` (a front matter or record value: a string, or lists and tables of them) with every
 * string and key well-formed, lone surrogates as U+FFFD (what any UTF-8 encoder writes for
 * them, so every store reads the same back). A NUL is refused, naming `field` (and `line`): in
 * a title, slug, tag, alias or metadata value it is no character anyone wrote but a damaged or
 * binary input, and replaced it would silently change a URL, a tag page or a value another
 * program reads back; PostgreSQL refuses it in text and JSON alike, so refused it is, in every
 * store. Copies only what changes; nesting is bounded by `checkNesting` first.
 */
const wellFormedValue = (value: unknown, field: string): unknown => {
  if (typeof value === "string") {
    // Its line, when it has one, is added by the caller (`withLine`).
    if (value.includes(NUL)) throw new Reject(field, "contains a NUL character (U+0000)")
    return isWellFormed(value) ? value : toWellFormed(value)
  }
  if (Array.isArray(value)) {
    let copy: Array<unknown> | undefined
    value.forEach((x, i) => {
      const y = wellFormedValue(x, `${field}[${i}]`)
      if (y !== x) (copy ??= [...value])[i] = y
    })
    return copy ?? value
  }
  if (isRecord(value)) {
    let changed = false
    const entries = Object.entries(value).map(([k, x]) => {
      const key = wellFormedValue(k, `${field}.${visibleNul(k)}`) as string
      const y = wellFormedValue(x, `${field}.${key}`)
      if (key !== k || y !== x) changed = true
      return [key, y] as const
    })
    if (!changed) return value
    const out: Record<string, unknown> = {}
    for (const [k, x] of entries) defineKey(out, k, x)
    return out
  }
  return value
}

/** A key as an error names it: a NUL in it written `\u0000`, not sent to the terminal. */
const visibleNul = (key: string): string => key.replaceAll(NUL, "\\u0000")

/** Front matter with its keys and values well-formed (`wellFormedValue`, each named by its key) and its body as stored. */
const wellFormedFrontMatter = (fm: FrontMatter): FrontMatter => {
  let changed = false
  const entries = Object.entries(fm.data).map(([k, v]) => {
    // Only a value that is refused needs its line: looked up then, not for every key.
    const line = () => lineOfKey(fm, k)
    const key = withLine(() => wellFormedValue(k, visibleNul(k)) as string, line)
    const value = withLine(() => wellFormedValue(v, key), line)
    if (key !== k || value !== v) changed = true
    return [key, value] as const
  })
  let data = fm.data
  if (changed) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of entries) defineKey(out, k, v)
    data = out
  }
  const body = wellFormedBody(fm.body)
  return data === fm.data && body === fm.body ? fm : { ...fm, data, body }
}

/** `f()`, its rejection named at `line()`. */
const withLine = <A>(f: () => A, line: () => number | undefined): A => {
  try {
    return f()
  } catch (e) {
    throw e instanceof Reject ? new Reject(e.field, e.reason, line()) : e
  }
}

/** Explicit fields, well-formed; each named as the client sent it (`tags[1]`, `metadata.origin`). */
const wellFormedOverrides = (overrides: Overrides): Overrides => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(overrides)) out[k] = wellFormedValue(v, k)
  return out as Overrides
}

/**
 * PostgreSQL indexes aliases and sources in btree rows of at most ~2,700 bytes: a longer one
 * failed the write there only ("index row size ... exceeds btree"), and the whole batch with it.
 * Refused here instead, the same in every store. Counted in characters (code points), as a
 * reader counts them; an alias's four UTF-8 bytes a character leave room beside the row's other
 * columns, a source's need `SOURCE_MAX_BYTES` too.
 */
const checkLengths = (aliases: ReadonlyArray<string>, source: string, aliasLine: () => number | undefined) => {
  for (const alias of aliases) {
    const length = codePointLength(alias)
    if (length > ALIAS_MAX_LENGTH) {
      throw new Reject("aliases", `alias ${quoted(alias)} is longer than ${ALIAS_MAX_LENGTH} characters (${length})`, aliasLine())
    }
  }
  const length = codePointLength(source)
  if (length > SOURCE_MAX_LENGTH) {
    throw new Reject("source", `${quoted(source)} is longer than ${SOURCE_MAX_LENGTH} characters (${length})`)
  }
  const bytes = Buffer.byteLength(source, "utf8")
  if (bytes > SOURCE_MAX_BYTES) {
    throw new Reject("source", `${quoted(source)} is longer than ${SOURCE_MAX_BYTES} bytes in UTF-8 (${bytes})`)
  }
}

/** C0 and C1 control characters but the white space ones and NEL (`oneLine` makes those a space). */
const CONTROL = /[\u0001-\u0008\u000E-\u001F\u007F-\u0084\u0086-\u009F]/

/**
 * A title, tag or author name as the one line it is shown on (a heading, a tag list, a feed's
 * `<title>`, the sitemap): a line break (NEL too) or tab in it becomes one space (a YAML `|`
 * title, a feed title spread over lines), so a tag page is not one nobody can type. Any other
 * control character (U+0001–U+001F, U+007F–U+009F) is no text anyone meant: refused, naming the
 * field. `line` is asked only then: finding a key's line scans the front matter.
 * Other spacing (a no-break space before "!") is kept as written.
 */
const oneLine = (text: string, field: string, line: () => number | undefined): string => {
  const control = CONTROL.exec(text)
  if (control !== null) {
    throw new Reject(field, `contains a control character (U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")})`, line())
  }
  return oneLineText(text)
}

const dedupe = (xs: ReadonlyArray<string>): Array<string> => [...new Set(xs)]

/**
 * `aliases` and Zola's `path`: the post's address on the blog it came from, which links between
 * its posts use (`/2019/09/30/Async-await-hits-beta/`), while Zola lists only older addresses
 * (the `.html` ones) as `aliases`; without it those links were a 404 on the site where the
 * `.html` ones redirect. Added as written (in NFC), like the aliases beside it, unless it is no other
 * address than one already there: empty, the post's own page (`/p/<slug>`) or one of `aliases`,
 * compared as aliases are looked up (`aliasKey`). A path too long for an alias (ALIAS_MAX_LENGTH)
 * is left out rather than refusing the post, which it never did.
 */
const withPathAlias = (aliases: Array<string>, path: string | undefined, slug: Slug): Array<string> => {
  if (path === undefined) return aliases
  // In NFC, as the aliases beside it.
  const alias = path.normalize("NFC").trim()
  const key = aliasKey(alias)
  if (key === "" || key === `p/${slug}` || codePointLength(alias) > ALIAS_MAX_LENGTH) return aliases
  return aliases.some((given) => aliasKey(given) === key) ? aliases : [...aliases, alias]
}

/** A list given as it is (an API or record field): trimmed, empty entries dropped, each once. */
const cleanList = (xs: ReadonlyArray<string>): Array<string> => dedupe(xs.map((x) => x.trim()).filter((x) => x !== ""))

const parseStatus = (value: string, where: string): "draft" | "published" => {
  const status = statusOf(value)
  if (status === undefined) throw new Reject("status", `${where} must be "draft" or "published", not "${value}"`)
  return status
}

const validSlug = Schema.decodeUnknownEither(Slug)

/**
 * `draft:` words read as booleans, in any case: YAML 1.1's, which Jekyll's Ruby YAML (Psych)
 * reads as true and false, while YAML 1.2 (the parser here) leaves `yes`, `on` and `off` strings.
 * Exactly these words, as Psych takes them (not `y` or `n`).
 */
const YAML11_BOOLEANS: ReadonlyMap<string, boolean> = new Map([
  ["true", true], ["yes", true], ["on", true],
  ["false", false], ["no", false], ["off", false]
])

/** A value quoted in an error: at most 60 characters of it, so a long one does not drown the message. */
const quoted = (value: string): string => {
  const chars = Array.from(value)
  return JSON.stringify(chars.length > 60 ? `${chars.slice(0, 60).join("")}…` : value)
}

/**
 * In NFC: `café` typed with a combining accent (NFD) looks the same and is another string; kept
 * as given, the two spellings were two posts at two URLs that read alike. Derived slugs are NFC
 * already (`slugify`). Errors say what is wrong in plain words, the value once: Schema's
 * messages carried its tree's drawing characters, and the length check repeated the value.
 */
const explicitSlug = (value: string, line?: number): Slug => {
  const slug = value.normalize("NFC")
  const fail = (why: string): never => {
    throw new Reject("slug", `${quoted(value)} is not a valid slug: ${why}`, line)
  }
  const length = codePointLength(slug)
  if (length > SLUG_MAX_LENGTH) fail(`longer than ${SLUG_MAX_LENGTH} characters (${length})`)
  return Either.getOrElse(validSlug(slug), (e) =>
    fail(ParseResult.ArrayFormatter.formatErrorSync(e)[0]?.message ?? "a slug is lowercase letters and digits joined by single dashes"))
}

const slugFromFile = (path: string | undefined): string => {
  if (path === undefined) return ""
  const parts = path.replace(/\\/g, "/").split("/").filter((p) => p !== "")
  let name = parts.pop() ?? ""
  if (/^index\.(?:md|markdown)$/i.test(name)) name = parts.pop() ?? ""
  return slugify(name.replace(/\.(?:md|markdown)$/i, "").replace(/^\d{4}-\d{2}-\d{2}-/, ""))
}

/** Explicit values from an API client; they win over the body's front matter. */
type Overrides = Partial<{
  title: string
  slug: string
  tags: ReadonlyArray<string>
  status: string
  publishedAt: string
  updatedAt: string
  authors: ReadonlyArray<string>
  summary: string
  aliases: ReadonlyArray<string>
  metadata: Readonly<Record<string, unknown>>
}>

/**
 * The post's title and slug (and Zola's `path`, which may give the slug), as `build` gives them:
 * `slugOfSourceSync` reads no more of a file than this.
 */
const titleAndSlug = (
  fm: FrontMatter,
  f: Fields,
  overrides: Overrides,
  path: string | undefined
): { readonly title: string; readonly zolaPath: string | undefined; readonly slug: Slug } => {
  const rawTitle = overrides.title ?? f.text("title", "title")
  // Looked up only for an error (`oneLine`).
  const titleLine = () => overrides.title !== undefined ? undefined : lineOfKey(fm, "title")
  // Title, tags and body in NFC, as every store's search index reads them: SQLite has no NFC of
  // its own, so a decomposed "café" stored as given were another word there than in the others.
  const title = rawTitle === undefined
    ? ""
    : oneLine(rawTitle, "title", titleLine).normalize("NFC")
  const titleLength = codePointLength(title)
  if (titleLength > TITLE_MAX_LENGTH) {
    throw new Reject("title", `${quoted(title)} is longer than ${TITLE_MAX_LENGTH} characters (${titleLength})`, titleLine())
  }
  if (title === "") {
    throw new Reject("title", rawTitle === undefined ? "missing title (set \"title\" in the front matter, or as a field of a JSON post)" : "title is empty", rawTitle === undefined ? undefined : lineOfKey(fm, "title"))
  }

  const zolaPath = f.string("path", "path")

  let slug: Slug
  if (overrides.slug !== undefined) slug = explicitSlug(overrides.slug)
  else {
    const fmSlug = f.string("slug", "slug")
    if (fmSlug !== undefined) {
      slug = explicitSlug(fmSlug, lineOfKey(fm, "slug"))
    } else {
      const derived = (zolaPath === undefined ? "" : slugify(zolaPath)) || slugify(title) || slugFromFile(path)
      if (derived === "") throw new Reject("slug", `cannot derive a slug from title "${title}": set "slug"`)
      slug = derived as Slug
    }
  }
  return { title, zolaPath, slug }
}

const build = (
  parsed: FrontMatter,
  givenOverrides: Overrides,
  givenSource: string,
  path: string | undefined,
  hash: string,
  config: ProcessorConfig
): NewPost => {
  for (const [key, value] of Object.entries(parsed.data)) checkNesting(value, "metadata", key, () => lineOfKey(parsed, key))
  const fm = wellFormedFrontMatter(parsed)
  const overrides = wellFormedOverrides(givenOverrides)
  const sourceName = wellFormedValue(givenSource, "source") as string
  const f = new Fields(fm)
  const d = fm.data

  const { title, zolaPath, slug } = titleAndSlug(fm, f, overrides, path)

  let status: "draft" | "published" = "published"
  if (overrides.status !== undefined) status = parseStatus(overrides.status, "status")
  else {
    const s = f.string("status", "status")
    if (s !== undefined) {
      status = withLine(() => parseStatus(s, "front matter \"status\""), () => lineOfKey(fm, "status"))
    } else if (d["draft"] !== undefined && d["draft"] !== null) {
      const draft = typeof d["draft"] === "string" ? YAML11_BOOLEANS.get(d["draft"].toLowerCase()) ?? d["draft"] : d["draft"]
      if (typeof draft !== "boolean") {
        const value = typeof d["draft"] === "string" ? quoted(d["draft"]) : typeName(d["draft"])
        f.reject("draft", `front matter "draft" must be true or false (or yes, no, on, off), not ${value}`, "draft")
      }
      if (draft) status = "draft"
    }
  }

  // Jekyll reads a string `tags:` or `categories:` as words (`categories: rust async` is two),
  // and Jekyll writes YAML only; Hugo (TOML, JSON, YAML too) takes a string as one term, and
  // Zola has lists only. So in YAML a string without a comma is words; any other string is
  // split at its commas ("machine learning, rust"), as before. A list's items are kept whole.
  const jekyllTerms = fm.format === "yaml"
  const taxonomiesValue = d["taxonomies"]
  if (taxonomiesValue !== undefined && taxonomiesValue !== null && !isRecord(taxonomiesValue)) {
    f.reject("taxonomies", `front matter "taxonomies" must be a table, not ${typeName(taxonomiesValue)}`, "taxonomies")
  }
  const taxonomies: Record<string, unknown> | undefined = isRecord(taxonomiesValue) ? taxonomiesValue : undefined
  // Each tag with the front matter key it came from (its path: `taxonomies.tags`), so that its
  // error names that key and its line; `undefined` for the `tags` field of an API client.
  const taggedBy: ReadonlyArray<readonly [string, string | undefined]> =
    overrides.tags !== undefined
      ? cleanList(overrides.tags).map((tag) => [tag, undefined] as const)
      : [
          ...f.strings(d["tags"], "tags", "tags", { words: jekyllTerms, numbers: true }).map((tag) => [tag, "tags"] as const),
          ...f.strings(d["categories"], "categories", "categories", { words: jekyllTerms, numbers: true }).map((tag) => [tag, "categories"] as const),
          ...f.strings(taxonomies?.["tags"], "taxonomies", "taxonomies.tags", { numbers: true }).map((tag) => [tag, "taxonomies.tags"] as const),
          ...f.strings(taxonomies?.["categories"], "taxonomies", "taxonomies.categories", { numbers: true }).map((tag) => [tag, "taxonomies.categories"] as const)
        ]
  // The line of the top-level key a key path starts with (`[taxonomies]` for `taxonomies.tags`).
  const lineOf = (key: string | undefined) => key === undefined ? undefined : lineOfKey(fm, key.split(".")[0]!)
  // Stored as looked up (`storedTag`, which `tagKey` keys): a spelling that finds the tag is one it stores as.
  const oneLineTags = taggedBy.map(([tag, key]) => [storedTag(oneLine(tag, key ?? "tags", () => lineOf(key))), key] as const).filter(([tag]) => tag !== "")
  for (const [tag, key] of oneLineTags) {
    if (codePointLength(tag) > TAG_MAX_LENGTH) throw new Reject(key ?? "tags", `tag ${quoted(tag)} is longer than ${TAG_MAX_LENGTH} characters`, lineOf(key))
    // A browser resolves /tags/. and /tags/.. (even percent-encoded) to another page: no link could reach it.
    if (tag === "." || tag === "..") throw new Reject(key ?? "tags", `tag "${tag}" cannot have a page of its own (its URL would be another page's)`, lineOf(key))
  }
  // One per `tagKey`, in its first spelling: readers see one tag "Rust" (tag pages, counts), so
  // `[Rust, rust]` stored both, a post listing the same tag twice.
  const tags = distinctTags(oneLineTags.map(([tag]) => tag)).map(({ tag }) => tag)
  if (tags.length > MAX_TAGS) {
    throw new Reject("tags", `${tags.length} tags: a post has at most ${MAX_TAGS}`, lineOf(oneLineTags[0]?.[1]))
  }

  const extra = isRecord(d["extra"]) ? d["extra"] : {}
  const named = { named: true }
  // Each name with its front matter key, as tags are.
  const authorsFrom = (value: unknown, key: string) => f.strings(value, key, key, named).map((author) => [author, key] as const)
  const givenAuthors: ReadonlyArray<readonly [string, string | undefined]> =
    overrides.authors !== undefined
      ? cleanList(overrides.authors).map((author) => [author, undefined] as const)
      : [
          ...authorsFrom(d["authors"], "authors"),
          ...authorsFrom(d["author"], "author"),
          ...(d["authors"] === undefined && d["author"] === undefined
            ? [...authorsFrom(extra["authors"], "extra.authors"), ...authorsFrom(extra["author"], "extra.author")]
            : [])
        ]
  const authors = dedupe(givenAuthors.map(([author, key]) => oneLine(author, key ?? "authors", () => lineOf(key))).filter((author) => author !== ""))

  const summaryKey = f.firstKey(SUMMARY_KEYS)
  const rawSummary = overrides.summary ?? (summaryKey === undefined ? undefined : f.string(summaryKey, summaryKey))
  const summary = rawSummary === undefined || rawSummary.trim() === "" ? null : rawSummary.trim()

  const parseExplicitDate = (value: string, field: string): DateTime.Utc =>
    Either.getOrElse(parseDateValue(value), (reason) => {
      throw new Reject(field, reason)
    })
  const publishedAt =
    (overrides.publishedAt !== undefined ? parseExplicitDate(overrides.publishedAt, "publishedAt") : undefined) ??
    f.date(PUBLISHED_KEYS) ??
    (zolaPath === undefined ? undefined : dateFromPath(zolaPath)) ??
    (path === undefined ? undefined : dateFromPath(path)) ??
    null
  const updatedAtSource =
    (overrides.updatedAt !== undefined ? parseExplicitDate(overrides.updatedAt, "updatedAt") : undefined) ??
    f.date(UPDATED_KEYS) ??
    null

  // In NFC, as slugs are and as the site reads a request's path (`aliasKey`): an alias from a
  // macOS file name or front matter typed there (NFD, "cafe" and U+0301) and the same one in NFC
  // are one alias, stored once.
  const givenAliases = dedupe(
    (overrides.aliases !== undefined ? cleanList(overrides.aliases) : f.strings(d["aliases"], "aliases", "aliases")).map((alias) => alias.normalize("NFC"))
  )
  checkLengths(givenAliases, sourceName, () => overrides.aliases !== undefined ? undefined : lineOfKey(fm, "aliases"))
  // Explicit aliases are the whole list a client wants: `path` is the body's front matter, which they win over.
  const aliases = overrides.aliases !== undefined ? givenAliases : withPathAlias(givenAliases, zolaPath, slug)

  const metadata: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(d)) if (!CONSUMED_KEYS.has(k)) defineKey(metadata, k, toJsonSafe(v))
  if (taxonomies !== undefined) {
    const { tags: _t, categories: _c, ...otherTaxonomies } = taxonomies
    if (Object.keys(otherTaxonomies).length > 0) metadata["taxonomies"] = toJsonSafe(otherTaxonomies)
  }
  if (overrides.metadata !== undefined) {
    for (const [k, v] of Object.entries(toJsonSafe(overrides.metadata) as Record<string, unknown>)) defineKey(metadata, k, v)
  }

  // As `storedBody` gives it (`fm.body` is well-formed already).
  const body = fm.body.normalize("NFC")
  const rendered = renderMarkdown(body)
  const wordCount = countWords(rendered.readableText)
  const excerpt =
    summary !== null
      ? truncateText(summary, config.excerptLength)
      : truncateText(
        // A body of raw HTML only (feeds, Ghost) has no markdown paragraphs: take its text.
        firstParagraphs(rendered.paragraphs, config.excerptLength) || htmlToText(rendered.html),
        config.excerptLength
      )

  return makeNewPost({
    slug,
    title,
    body,
    tags,
    status,
    authors,
    summary,
    publishedAt,
    updatedAtSource,
    aliases,
    metadata,
    source: sourceName,
    html: rendered.html,
    excerpt,
    wordCount,
    readingTimeMinutes: readingTimeMinutes(wordCount, config.wordsPerMinute),
    toc: rendered.toc.map((t) => new TocEntry(t)),
    contentHash: hash
  })
}

/** Text that ends a sentence or a clause: a paragraph after it reads on after a space. Closing quotes and brackets may follow. */
const ENDS_CLAUSE = /[.!?:;,…。！？：；、，．][)\]}"'”’»」』）]*\s*$/u

/**
 * Enough leading paragraphs to fill the excerpt, each after a space. The items of one list
 * (markdown-it makes each item's text a paragraph) are joined by ", " where an item does not end
 * a clause itself, and the list ends with "." where its last item does not: "... are: David
 * Wood, Jack Huey, Niko Matsakis. They will join ..." (joined by spaces, "Wood Jack Huey Niko
 * Matsakis They", a run of names). Other paragraphs are joined as written: a paragraph without
 * punctuation is no list item (a heading-like line, a caption), and a separator would be made up.
 */
const firstParagraphs = (paragraphs: ReadonlyArray<Paragraph>, length: number): string => {
  let text = ""
  // The list the last paragraph taken is in, 0 for none.
  let list = 0
  for (const p of paragraphs) {
    if (p.text.trim() === "") continue
    if (text === "") text = p.text
    else if (p.list !== 0 && p.list === list) text = `${p.item && !ENDS_CLAUSE.test(text) ? `${text.trimEnd()},` : text} ${p.text}`
    else text = `${endList(text, list)} ${p.text}`
    list = p.list
    // The excerpt is cut inside this text: how the list would end is not read.
    if (text.length > length) return text
  }
  return endList(text, list)
}

/** `text`, whose last paragraph is in `list` (0: in none), with a "." after a list that ends with no punctuation of its own. */
const endList = (text: string, list: number): string => (list !== 0 && !ENDS_CLAUSE.test(text) ? `${text.trimEnd()}.` : text)

/** Runs `f`, turning every rejection and every unexpected exception into `InvalidPost` naming `source`. */
const run = <A>(source: string, f: () => A): Either.Either<A, InvalidPost> => {
  try {
    return Either.right(f())
  } catch (e) {
    if (e instanceof Reject) {
      return Either.left(
        new InvalidPost({ source: e.line === undefined ? source : `${source}:${e.line}`, field: e.field, reason: e.reason })
      )
    }
    if (ParseResult.isParseError(e)) {
      return Either.left(new InvalidPost({ source, field: "post", reason: ParseResult.TreeFormatter.formatErrorSync(e) }))
    }
    const message = e instanceof Error ? e.message : String(e)
    return Either.left(new InvalidPost({ source, field: "body", reason: `could not be processed: ${message}` }))
  }
}

/**
 * The body a post from `raw` (markdown with any front matter, as `processPostSync` and
 * `processInputSync` take it) is stored with: after its front matter, well-formed, in NFC.
 * Without rendering it, so that a limit on the stored body is checked before the work (an
 * import's `maxPostBytes`). `undefined` when the front matter does not parse: processing says why.
 */
export const storedBody = (raw: string): string | undefined => {
  const parsed = parseFrontMatter(raw)
  return Either.isRight(parsed) ? wellFormedBody(parsed.right.body).normalize("NFC") : undefined
}

/**
 * Where the `updated` date of a post made of `input` was given, as its author wrote it: the
 * `updatedAt` field (an API client's, a record's), else the front matter key of its body (the
 * first of UPDATED_KEYS given, as `build` reads it: `lastmod`) and that key's line; `updatedAt`
 * when neither is found. For a refusal made after processing, which has the post alone: an update
 * dated in the future (`futureUpdate`), refused by the writers at the time of the write. Parses
 * the front matter again: asked only for a post refused.
 */
export const updatedDateKey = (
  input: { readonly body: string; readonly updatedAt?: string | undefined }
): { readonly field: string; readonly line: number | undefined } => {
  if (input.updatedAt === undefined) {
    const parsed = parseFrontMatter(input.body)
    if (Either.isRight(parsed)) {
      const key = new Fields(parsed.right).firstKey(UPDATED_KEYS)
      if (key !== undefined) return { field: key, line: lineOfKey(parsed.right, key) }
    }
  }
  return { field: "updatedAt", line: undefined }
}

const parseOrReject = (raw: string): FrontMatter =>
  Either.getOrElse(parseFrontMatter(raw), (e) => {
    throw new Reject("frontMatter", e.reason, e.line)
  })

/**
 * Processes raw markdown with front matter. Never throws: every problem is an `InvalidPost`
 * naming `source.source` (with ":line" when known) and the field at fault.
 */
export const processPostSync = (
  source: PostSource,
  config: ProcessorConfig = defaultProcessorConfig
): Either.Either<NewPost, InvalidPost> =>
  run(source.source, () => {
    const path = source.relativePath ?? source.source
    if (isSectionPage(path)) throw new Reject("file", "section index page (_index.md), not a post")
    if (typeof source.raw !== "string") throw new Reject("body", "raw content is not text")
    return build(parseOrReject(source.raw), {}, source.source, path, contentHash(source.raw), config)
  })

/**
 * The slug `processPostSync` gives the post of `source`, reading only its front matter (no
 * rendering): the post an internal link (`@/blog/post.md`) names, for the import that resolves it
 * (Import/InternalLinks.ts). Fails as processing would fail on its title or slug, or on a section
 * page; the rest of the post is not checked.
 */
export const slugOfSourceSync = (source: PostSource): Either.Either<Slug, InvalidPost> =>
  run(source.source, () => {
    const path = source.relativePath ?? source.source
    if (isSectionPage(path)) throw new Reject("file", "section index page (_index.md), not a post")
    if (typeof source.raw !== "string") throw new Reject("body", "raw content is not text")
    const parsed = parseOrReject(source.raw)
    for (const [key, value] of Object.entries(parsed.data)) checkNesting(value, "metadata", key, () => lineOfKey(parsed, key))
    const fm = wellFormedFrontMatter(parsed)
    return titleAndSlug(fm, new Fields(fm), {}, path).slug
  })

/**
 * Processes fields sent by an API client. The body may carry front matter; explicit fields win.
 * The hash covers the normalized body and the explicit fields, so a body-only input hashes like
 * the same text imported from a file.
 */
export const processInputSync = (
  given: PostInput,
  source: string,
  config: ProcessorConfig = defaultProcessorConfig
): Either.Either<NewPost, InvalidPost> =>
  Either.flatMap(postInputOf(given, source), (input) => processCheckedInput(input, source, config))

const processCheckedInput = (input: PostInput, source: string, config: ProcessorConfig): Either.Either<NewPost, InvalidPost> =>
  run(source, () => {
    if (typeof input.body !== "string") throw new Reject("body", "body must be a string")
    // Its keys at the level of front matter keys, so as deep as front matter may nest them.
    if (input.metadata !== undefined) checkNesting(input.metadata, "metadata", undefined, undefined, -1)
    const overrides = overridesOf(input)
    return build(parseOrReject(input.body), overrides as Overrides, source, undefined, hashOf(input.body, overrides), config)
  })

const decodePlainInput = Schema.decodeUnknownEither(PostInput, { errors: "all", onExcessProperty: "error" })

/**
 * `input` as the `PostInput` it is typed as. The class has no members of its own, so TypeScript
 * takes a plain object of its fields for one (`Posts.create({ title, body })`): such an object,
 * which the render threads' messages refuse (it killed the pool's dispatcher) and processing read
 * unchecked (`{ title: 5 }` failed as "text.replace is not a function"), is decoded as the API
 * decodes a JSON body: `null` as left out, a field it does not know refused; the first field at
 * fault named (`title: expected a string, got 5`). An instance is taken as it is.
 */
export const postInputOf = (input: PostInput, source: string): Either.Either<PostInput, InvalidPost> => {
  if (input instanceof PostInput) return Either.right(input)
  return Either.mapLeft(decodePlainInput(input), (error) => {
    const issue = plainIssues(issuesOf(error))[0]
    return new InvalidPost({
      source,
      field: issue === undefined || issue.path.length === 0 ? "input" : fieldPath(issue.path),
      reason: issue?.message ?? error.message
    })
  })
}

const OVERRIDE_KEYS = ["title", "slug", "tags", "status", "publishedAt", "updatedAt", "authors", "summary", "aliases", "metadata"] as const

/** The explicit fields of `input`, those given. */
const overridesOf = (input: PostInput): Record<string, unknown> => {
  const overrides: Record<string, unknown> = {}
  for (const key of OVERRIDE_KEYS) if (input[key] !== undefined) overrides[key] = input[key]
  return overrides
}

/** A field left out is not hashed: posts stored before a field existed keep their hashes. */
const hashOf = (body: string, overrides: Record<string, unknown>): string =>
  Object.keys(overrides).length === 0
    ? contentHash(body)
    : sha256Hex(`${normalizeForHash(body)}\n${canonicalJson(overrides)}`)

/** The `contentHash` `processInputSync` gives `input`, without processing it. */
export const inputHash = (input: PostInput): string => hashOf(input.body, overridesOf(input))

/** Deepest nesting of objects and arrays a post's metadata may have. */
export const MAX_METADATA_DEPTH = 64

/**
 * Rejects `value` nested deeper than MAX_METADATA_DEPTH, found without recursion. Walked
 * recursively (hashing, copying), ~3,000 levels of `{"a":{"a":...}}` overflowed the stack: a
 * rejection naming "body" and "Maximum call stack size exceeded".
 */
const checkNesting = (value: unknown, field: string, key?: string, line?: () => number | undefined, depth = 0) => {
  const stack: Array<readonly [unknown, number]> = [[value, depth]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    if (v === null || typeof v !== "object") continue
    if (depth >= MAX_METADATA_DEPTH) {
      throw new Reject(field, `${key === undefined ? field : `front matter "${key}"`} is nested deeper than ${MAX_METADATA_DEPTH} levels`, line?.())
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === "object") stack.push([child, depth + 1])
  }
}

/** JSON with sorted keys, so equal inputs hash equally whatever order the client sent. */
const canonicalJson = (v: unknown): string => {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`
  if (isRecord(v)) {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(",")}}`
  }
  return JSON.stringify(typeof v === "string" ? v.normalize("NFC") : v) ?? "null"
}
