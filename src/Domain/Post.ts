/**
 * The post domain: what a post is, what a client sends, and what processing adds.
 * Schemas only, no I/O.
 */
import { DateTime, ParseResult, Schema } from "effect"
import { briefly } from "./decodeIssues.js"

/**
 * `text`'s length in code points (a surrogate pair is one, a lone surrogate one too), as JSON
 * Schema's `maxLength` counts (RFC 8259 characters), where `String.length` counts UTF-16 units.
 */
export const codePointLength = (text: string): number => {
  let length = text.length
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i)
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        length--
        i++
      }
    }
  }
  return length
}

/**
 * At most `max` characters, counted as the OpenAPI document's `maxLength` counts them (code
 * points). `Schema.maxLength` counts UTF-16 units: a tag of 60 emoji (120 units) was a 400 that
 * the document, allowing 100 characters, said it was not. Worded as `Schema.maxLength` is.
 */
export const maxCodePoints = (max: number) => <A extends string, I, R>(self: Schema.Schema<A, I, R>) =>
  self.pipe(
    Schema.filter((text: A) => text.length <= max || codePointLength(text) <= max, {
      title: `maxLength(${max})`,
      description: `a string at most ${max} character(s) long`,
      jsonSchema: { maxLength: max }
    })
  )

/** A URL-safe, Unicode-aware identifier: lowercase letters and digits of any script, joined by single dashes. */
export const Slug = Schema.String.pipe(
  Schema.pattern(/^[\p{Ll}\p{Lo}\p{Lm}\p{N}\p{M}]+(?:-[\p{Ll}\p{Lo}\p{Lm}\p{N}\p{M}]+)*$/u, {
    message: () => "a slug is lowercase letters and digits joined by single dashes"
  }),
  maxCodePoints(200),
  Schema.brand("Slug")
)
export type Slug = typeof Slug.Type

export const PostId = Schema.String.pipe(Schema.brand("PostId"))
export type PostId = typeof PostId.Type

export const Tag = Schema.String.pipe(Schema.minLength(1), maxCodePoints(100))
export type Tag = typeof Tag.Type

/** A run of spaces holding a line break (NEL, U+0085, among them), tab, vertical tab or form feed. */
const BREAKS = /[ \t\n\v\f\r\u0085\u2028\u2029]*[\t\n\v\f\r\u0085\u2028\u2029][ \t\n\v\f\r\u0085\u2028\u2029]*/g

/** `text` on one line: each run of spaces holding a line break or tab one space, trimmed. */
export const oneLineText = (text: string): string => text.replace(BREAKS, " ").trim()

/** Printable ASCII: already in NFC, with no line break or tab. */
const PLAIN = /^[\x20-\x7e]*$/

/**
 * A tag as a post stores it (processing, which refuses control characters first): in NFC (the
 * search index reads text so, and `café` typed with a combining accent looks the same), on one
 * line (a newline in a tag made a tag page nobody could type), trimmed.
 */
export const storedTag = (tag: string): string => PLAIN.test(tag) ? tag.trim() : oneLineText(tag.normalize("NFC"))

/**
 * A tag as it is matched: "Rust", "rust" and "RUST" are one tag to readers (tag pages, feeds,
 * the API's `?tag=` and tag counts), while each post keeps the spelling it was written with.
 * The tag as stored (`storedTag`), so any spelling that stores as a tag finds it: `?tag=%20rust%20`
 * found nothing when the key was not trimmed, nor `?tag=cafe%CC%81` (NFD) or a tab where the
 * stored tag has a space when it was only trimmed. Lowercased by JavaScript (`toLowerCase`, the
 * same in every locale) and stored beside the tag,
 * never computed by the database: SQLite's `lower()` folds ASCII only and PostgreSQL's follows
 * the database's locale, so "Ärger" would match "ärger" in one store and not in another. Also
 * the tag's URL segment on the reader site (`/tags/rust`), so the canonical address of a tag is
 * a function of the tag alone. Idempotent: the key of a key is itself (so in NFC after
 * lowercasing: "Ϊ́" has no one code point, its lowercase does).
 */
export const tagKey = (tag: string): string => storedTag(tag.toLowerCase())

/** A post's tags one per `tagKey`, each in the first spelling the post gives it, in order. */
export const distinctTags = (tags: ReadonlyArray<string>): ReadonlyArray<{ readonly tag: string; readonly key: string }> => {
  const seen = new Map<string, string>()
  for (const tag of tags) {
    const key = tagKey(tag)
    if (!seen.has(key)) seen.set(key, tag)
  }
  return Array.from(seen, ([key, tag]) => ({ tag, key }))
}

export const PostStatus = Schema.Literal("draft", "published")
export type PostStatus = typeof PostStatus.Type

/** One heading of a post's table of contents. `id` is the anchor, unique within the post. */
export class TocEntry extends Schema.Class<TocEntry>("TocEntry")({
  level: Schema.Int.pipe(Schema.between(1, 6)),
  text: Schema.String,
  id: Schema.String
}) {}

/** What processing derives from a post's markdown; stored at write time so reads never render. */
export const ProcessedFields = {
  html: Schema.String,
  excerpt: Schema.String,
  wordCount: Schema.NonNegativeInt,
  readingTimeMinutes: Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)),
  toc: Schema.Array(TocEntry),
  /** sha256 (hex) over the normalized input: equal hashes mean an unchanged post. */
  contentHash: Schema.String
}
export class ProcessedPost extends Schema.Class<ProcessedPost>("ProcessedPost")(ProcessedFields) {}

const isMetadataObject = (u: unknown): u is { readonly [x: string]: unknown } =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * Free-form front matter keys the domain does not model, kept rather than rejected. Any object
 * of JSON values, passed through as it is: `Schema.Record` rebuilds its object by assignment, so
 * a key `__proto__` (from `JSON.parse`, YAML, TOML: an own key there) set the copy's prototype
 * instead and was gone without a word. Whatever copies metadata must define keys, not assign them.
 */
export const Metadata = Schema.declare(isMetadataObject, {
  // Said as Schema.Record said it: decode errors ("Expected { ... }, actual 1") read as before.
  title: "{ readonly [x: string]: unknown }",
  jsonSchema: { type: "object", required: [], properties: {}, additionalProperties: true }
})
export type Metadata = typeof Metadata.Type

/** `target[key] = value` as a data property: for a key `__proto__` too, which assignment would take as the prototype. */
export const defineKey = (target: Record<string, unknown>, key: string, value: unknown): void => {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true })
}

/** The editable content of a post, fully resolved (every default applied). */
export const ContentFields = {
  slug: Slug,
  title: Schema.String.pipe(Schema.minLength(1)),
  /** Markdown source, front matter removed. */
  body: Schema.String,
  tags: Schema.Array(Tag),
  status: PostStatus,
  authors: Schema.Array(Schema.String),
  /** An author-written summary (front matter `description` / `summary`), when given. */
  summary: Schema.NullOr(Schema.String),
  publishedAt: Schema.NullOr(Schema.DateTimeUtc),
  /** Explicit `updated` / `lastmod` from the source, when given. */
  updatedAtSource: Schema.NullOr(Schema.DateTimeUtc),
  /** Zola-style alternative paths the post was reachable under. */
  aliases: Schema.Array(Schema.String),
  metadata: Metadata,
  /** Where the post came from (file path, URL, "api"): identifies it across re-imports. */
  source: Schema.String
}

/**
 * A processed post ready to be stored: content plus derived fields.
 * What `PostProcessor` produces and what `PostRepository` accepts.
 */
export class NewPost extends Schema.Class<NewPost>("NewPost")({
  ...ContentFields,
  ...ProcessedFields
}) {}

/**
 * `new C(fields)` with the same validation, compiled once. Why: Effect 3.22's class constructor
 * derives the type-side schema of its fields and compiles a new parser for it on every call when
 * a field is a transformation (`DateTimeUtc` here): ~110 µs per NewPost, two thirds of it that
 * compilation (profile of a 10k import). Throws a `ParseError` naming the class.
 */
const compiledConstructor = <
  C extends {
    readonly identifier: string
    readonly fields: Schema.Struct.Fields
    new(fields: any, options: true): InstanceType<C>
  }
>(Class: C): (fields: ConstructorParameters<C>[0]) => InstanceType<C> => {
  const validate = ParseResult.validateSync(Schema.Struct(Class.fields).annotations({ identifier: Class.identifier }))
  return (fields) => new Class(validate(fields), true)
}

/** `new NewPost(fields)`, validated by a parser compiled once. */
export const makeNewPost = compiledConstructor(NewPost)

/** A stored post. `version` starts at 1 and increases by one on each change (optimistic concurrency). */
export class Post extends Schema.Class<Post>("Post")({
  id: PostId,
  ...ContentFields,
  ...ProcessedFields,
  createdAt: Schema.DateTimeUtc,
  updatedAt: Schema.DateTimeUtc,
  version: Schema.Int.pipe(Schema.greaterThanOrEqualTo(1))
}) {}

/** `new Post(fields)`, validated by a parser compiled once. */
export const makeValidPost = compiledConstructor(Post)

/**
 * The `updated` date `post` announces, as readers are told it (pages, feeds, sitemaps and the
 * site's Last-Modified all read it here): never later than when the post was last stored
 * (`updatedAt`, this server's clock at that write). A later one is a date that had not come
 * when it was written (a typo: 2031 for 2021), which writes refuse (`Processing/dates.ts`
 * `futureUpdate`) but a row stored before they did, or by another program, may hold: shown as it
 * is, it put 2031 in Last-Modified, in every feed's date and in the sitemap, and kept a feed's
 * date from moving with new posts. Read as the time of that write, the latest the change can
 * have been made, rather than as the time of each response: that moved with every request, so
 * no answer kept (the response cache, a browser's, a CDN's) would be the one made again, and
 * each feed's ETag changed every second. One within the writes' leeway (`UPDATED_LEEWAY`: "today"
 * east of UTC) reads so too.
 */
export const announcedUpdateOf = (post: Pick<Post, "updatedAtSource" | "updatedAt">): DateTime.Utc | null =>
  post.updatedAtSource === null ? null : DateTime.min(post.updatedAtSource, post.updatedAt)

/** A title's `code` spans: the text between a pair of backticks. */
export const CODE_SPAN = /`([^`]+)`/

const CODE_SPANS = new RegExp(CODE_SPAN, "g")

/**
 * A title as plain text, where no markup is shown (`<title>`, OpenGraph and Twitter cards,
 * every feed's titles): the code spans the site's pages show as <code> (`CODE_SPAN`) keep their
 * text without the backticks around it ("Using `rustc`" is "Using rustc", as the heading reads);
 * every other character stays, a lone backtick too.
 */
export const plainTitle = (title: string): string => title.replace(CODE_SPANS, "$1")

/**
 * A field a client may leave out, or send as `null`, which is read as left out: a post's JSON
 * (GET) has `null` for what it lacks (`summary`, `publishedAt`), and an edit of it sent back
 * (PUT) was refused for those nulls. The NDJSON import reads null the same way.
 */
const optionalField = <A, I, R>(schema: Schema.Schema<A, I, R>) => Schema.optionalWith(schema, { nullable: true })

/**
 * The status `text` names, as a client, front matter or a record writes it: another case and
 * spaces around are the same status (`" Draft "` is a draft); `undefined` for any other text.
 */
export const statusOf = (text: string): PostStatus | undefined => {
  const status = text.trim().toLowerCase()
  return status === "draft" || status === "published" ? status : undefined
}

/**
 * A client's `status`: "draft" or "published", as the document's enum says. Read as processing
 * reads it (another case, spaces around: `" Draft "` is a draft), so no request taken before is
 * refused now; a string processing would refuse is refused here, a 400 naming `status`, where the
 * document had promised any string would do.
 */
const StatusInput = Schema.String.pipe(
  Schema.filter((status) => statusOf(status) !== undefined, {
    message: (issue) => ({ message: `expected "draft" or "published", got ${briefly(issue.actual)}`, override: true }),
    jsonSchema: { enum: PostStatus.literals }
  })
)

/**
 * What a client sends as JSON fields. Everything but `title` and `body` is optional (absent or
 * `null`); `title` may also come from front matter inside `body`.
 */
export class PostInput extends Schema.Class<PostInput>("PostInput")({
  title: optionalField(Schema.String),
  slug: optionalField(Schema.String),
  body: Schema.String,
  tags: optionalField(Schema.Array(Schema.String)),
  /** Left out: "published" on create, the post's own status on update (Posts.update). */
  status: optionalField(StatusInput.annotations({
    description: '"draft" or "published" (read in another case or with spaces around as the same status: " Draft " is a draft). ' +
      'Left out (and not in front matter): "published" for a new post, the post\'s current status on an update'
  })),
  publishedAt: optionalField(Schema.String),
  updatedAt: optionalField(Schema.String),
  authors: optionalField(Schema.Array(Schema.String)),
  summary: optionalField(Schema.String),
  /** Old paths of the post, as front matter `aliases` gives them (the reader site redirects them); stored in NFC. */
  aliases: optionalField(Schema.Array(Schema.String)),
  metadata: optionalField(Metadata)
}) {}

/** Raw markdown (optionally with front matter) and where it came from. */
export interface PostSource {
  /** File path, URL, "api", "stdin:12": named in every error about this post. */
  readonly source: string
  readonly raw: string
  /** Path relative to the import root, used for `YYYY/MM/DD/` dates and `index.md` slugs. */
  readonly relativePath?: string
}

/**
 * An alias as stored and looked up: without leading or trailing slashes, so `releases/1.88.0`,
 * `/releases/1.88.0` and `/releases/1.88.0/` are one alias, and in NFC, as slugs and request
 * paths are read: `café` written with a combining accent (a macOS file name's, NFD) looks the
 * same as the `caf%C3%A9` a browser sends and was another key, so the old address was a 404.
 * Paths are compared as written otherwise (case and percent-escapes included: a request path is
 * decoded before it is keyed). Empty for `/` or a blank alias, which never names anything.
 */
export const aliasKey = (alias: string): string => alias.normalize("NFC").trim().replace(/^\/+|\/+$/g, "")

/** A post's distinct, non-empty alias keys. */
export const aliasKeysOf = (post: { readonly aliases: ReadonlyArray<string> }): ReadonlyArray<string> =>
  Array.from(new Set(post.aliases.map(aliasKey))).filter((key) => key.length > 0)
