/**
 * The posts HTTP API, declared once: routing, validation, the OpenAPI document and typed
 * clients all come from these groups.
 *
 * Two groups on purpose: reads are public (`PostsApi`), writes go through `ApiKeyAuth`
 * (`PostsAdminApi`). A middleware on a whole group cannot miss an endpoint the way
 * `middlewareEndpoints` misses endpoints added after it.
 */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Either, Option, ParseResult, Schema } from "effect"
import { briefly, valueOf } from "../Domain/decodeIssues.js"
import { InvalidPost, PoolTimeout, PostNotFound, SlugConflict, StaleVersion } from "../Domain/Errors.js"
import { codePointLength, Post, PostInput, PostStatus, Slug, storedTag } from "../Domain/Post.js"
import { ImportSummary } from "../Import/ImportSummary.js"
import { DATE_PATTERN, parseDateString } from "../Processing/dates.js"
import { TAG_MAX_LENGTH } from "../Processing/processPost.js"
import {
  BadRequest,
  UrlRefused,
  DatabaseUnavailable,
  InternalServerError,
  PayloadTooLarge,
  PostMoved,
  PreconditionFailed,
  RequestTimedOut,
  Unauthorized,
  UnsupportedMediaType,
  VersionRequired
} from "../Http/Errors.js"
import { ApiKeyAuth } from "../Http/Middleware.js"
import { decodeCursor } from "./internal/repository.js"
import { MAX_PAGE_SIZE, MAX_SEARCH_RESULTS } from "./PostRepository.js"
import { MAX_SEARCH_LENGTH, MAX_SEARCH_WORDS, searchLength, searchWords } from "./internal/search.js"

/** What a list shows of each post: enough for an index page, without the rendered html. */
export const PostSummary = Schema.Struct({
  slug: Post.fields.slug,
  title: Post.fields.title,
  excerpt: Post.fields.excerpt,
  summary: Post.fields.summary,
  tags: Post.fields.tags,
  authors: Post.fields.authors,
  status: Post.fields.status,
  publishedAt: Post.fields.publishedAt,
  createdAt: Post.fields.createdAt,
  updatedAt: Post.fields.updatedAt,
  readingTimeMinutes: Post.fields.readingTimeMinutes,
  wordCount: Post.fields.wordCount,
  version: Post.fields.version
}).annotations({ identifier: "PostSummary" })

export const PostPage = Schema.Struct({
  items: Schema.Array(PostSummary),
  /** Pass as `cursor` for the next page; null on the last page (and on a search's pages: see `nextOffset`). */
  next: Schema.NullOr(Schema.String),
  /** Only a search's (`q`): pass as `offset` for the next page of results; absent on the last page. */
  nextOffset: Schema.optionalWith(Schema.Int, { exact: true })
}).annotations({ identifier: "PostPage" })

export const TagCount = Schema.Struct({ tag: Schema.String, count: Schema.Int }).annotations({
  identifier: "TagCount"
})

/** `GET /tags`'s answer. */
export const TagList = Schema.Struct({ tags: Schema.Array(TagCount) })

/**
 * A page's `next`. Checked here, so a mistyped or truncated cursor is a 400 naming `cursor`
 * rather than an empty page that reads as the end of the list.
 */
export const Cursor = Schema.String.pipe(
  Schema.filter((cursor) => Option.isSome(decodeCursor(cursor)), {
    message: () => "not a cursor this API gave: pass a page's `next` as it is"
  })
).annotations({ description: "A previous page's `next`" })

/**
 * A parameter's 400 in one issue, at its name, saying what it takes and what came: the
 * schema's own issues were several per parameter (its `undefined` alternative among them), in
 * the library's terms ("Unable to decode \"abc\" into a number").
 */
const expecting = (expected: string) => ({
  message: (issue: ParseResult.ParseIssue) => ({ message: `expected ${expected}, got ${briefly(issue.actual)}`, override: true })
})

/**
 * A parameter that may be left out. Exact: a query has no `undefined` to send, and a union
 * with it doubled every issue ("Expected undefined, actual \"abc\"").
 */
const optionalParameter = <A, I, R>(schema: Schema.Schema<A, I, R>, expected: string) =>
  Schema.optionalWith(schema.annotations(expecting(expected)), { exact: true })

/**
 * A query's parameters and no others: one the endpoint does not take is a 400 naming it, and the
 * parameter it is a near miss of (`plainIssues`), as a JSON body's unknown field is. Ignored,
 * `?dry-run=true` (the CLI flag's spelling) ran a real import, `?onconflict=skip` fell back to
 * `fail`, and `?Limit=5` or `?tags=x` answered the default page. Every bad parameter is named at
 * once (`errors: "all"`), as a body's bad fields are: the first alone took a round trip each.
 */
const exactParameters = { parseOptions: { onExcessProperty: "error", errors: "all" } } as const

/**
 * An integer of `min` or more in plain decimal digits. Not `NumberFromString`, which takes
 * whatever `Number` does: `1e2`, `+5`, ` 5`, `0x10`, `5.0` were all taken for numbers.
 * With a `cap`, any digits worth more are taken as the cap, however many: as more than the cap,
 * `99999999999999999999` is no less a number than `101` (it was a 400 for being past 2^53).
 * Without one, at most 2^53 - 1 (the largest integer JSON numbers hold exactly), which the
 * document declares as the maximum (and `description` should say, as the 400 quotes it).
 */
const DigitsFrom = (min: number, description: string, cap?: number) =>
  Schema.transformOrFail(Schema.String, Schema.Int, {
    strict: true,
    decode: (text, _, ast) => {
      if (!/^[0-9]+$/.test(text)) return ParseResult.fail(new ParseResult.Type(ast, text))
      const value = Number(text)
      if (cap !== undefined && value > cap) return ParseResult.succeed(cap)
      return Number.isSafeInteger(value) && value >= min
        ? ParseResult.succeed(value)
        : ParseResult.fail(new ParseResult.Type(ast, text))
    },
    encode: (value) => ParseResult.succeed(String(value))
  }).annotations({
    description,
    // As a query carries it: digits, read as an integer (the transformation alone documents "a string").
    jsonSchema: { type: "integer", minimum: min, ...(cap === undefined && { maximum: Number.MAX_SAFE_INTEGER }), description }
  })

const SEARCH_DESCRIPTION = "Words to find in titles, bodies and tags (the last, from 2 characters, also as the start of " +
  "longer words; posts with it whole first), most relevant first; pages by offset " +
  `(the answer's nextOffset) through the first ${MAX_SEARCH_RESULTS} results (a deeper offset is 400), not with cursor; ` +
  `at most ${MAX_SEARCH_LENGTH} characters and ${MAX_SEARCH_WORDS} different words`
const SEARCH = `search words: 1 to ${MAX_SEARCH_LENGTH} characters, not only spaces, at most ${MAX_SEARCH_WORDS} different words`

/**
 * `q`: what a reader typed. Any text is taken (its words are searched, anything else ignored:
 * see `searchTerms`); blank is refused rather than read as "everything", and so are more than
 * MAX_SEARCH_WORDS words, rather than searched without those past it (posts lacking them found).
 */
const SearchText = Schema.String.pipe(
  // Counted in code points, as the document's maxLength is, in NFC (`searchLength`).
  Schema.filter((text) =>
    text.trim().length > 0 && searchLength(text) <= MAX_SEARCH_LENGTH && searchWords(text) <= MAX_SEARCH_WORDS
  )
).annotations({
  description: SEARCH_DESCRIPTION,
  // As a query carries it (the filter alone documented a bare string).
  jsonSchema: { type: "string", minLength: 1, maxLength: MAX_SEARCH_LENGTH, description: SEARCH_DESCRIPTION }
})

const LIMIT = `an integer from 1, in digits (more than ${MAX_PAGE_SIZE} is taken as ${MAX_PAGE_SIZE})`
const OFFSET = `an integer from 0 to ${Number.MAX_SAFE_INTEGER}, in digits (posts to skip; not with cursor)`

const TAG_DESCRIPTION = `A tag, whatever its case, read as tags are stored: in NFC, on one line, trimmed; ` +
  `1 to ${TAG_MAX_LENGTH} characters so read`

/**
 * `?tag=`: matched as tags are stored (`tagKey`), so counted as they are (`storedTag`: in NFC, on
 * one line, trimmed), as processing counts a post's tags. Counted as sent, a tag of 60 "é" with
 * combining accents (NFD, 120 code points) was a 400 that the same tag in NFC was not, though
 * both find it. Only spaces (line breaks too) would match nothing, and is refused.
 */
export const TagParameter = Schema.String.pipe(
  Schema.filter((tag) => {
    const stored = storedTag(tag)
    return stored.length > 0 && codePointLength(stored) <= TAG_MAX_LENGTH
  })
).annotations({
  description: TAG_DESCRIPTION,
  // As a query carries it (the filter alone documented a bare string).
  jsonSchema: { type: "string", minLength: 1, maxLength: TAG_MAX_LENGTH, description: TAG_DESCRIPTION }
})

export const ListParams = Schema.Struct({
  tag: optionalParameter(TagParameter, "a tag of 1 to 100 characters, not only spaces"),
  /** `draft` (or every status) needs an API key. */
  status: optionalParameter(PostStatus, '"draft" or "published"'),
  /** 1 or more; capped at 100. */
  limit: optionalParameter(DigitsFrom(1, LIMIT, MAX_PAGE_SIZE), LIMIT),
  /** A previous page's `next`, as it was given. */
  cursor: optionalParameter(Cursor, "a previous page's `next`, as it was given"),
  /** Posts to skip; not with `cursor` (400 naming `offset`). */
  offset: optionalParameter(DigitsFrom(0, OFFSET), OFFSET),
  /**
   * Full-text search: posts carrying every word (the last, from two characters, also as the
   * start of a longer word; posts with it whole first), most relevant first (a title counts most,
   * then a tag, then the body), then newest first. Pages by `offset` (`nextOffset`) through the
   * first MAX_SEARCH_RESULTS results (a deeper `offset` is 400 naming it); not with `cursor` (400
   * naming `cursor`).
   */
  q: optionalParameter(SearchText, SEARCH)
}).annotations(exactParameters)

const SlugParameter = Slug.annotations(expecting("a slug: lowercase letters and digits joined by single dashes, at most 200 characters"))

/**
 * A URL's slug read in NFC, as every slug is stored (`explicitSlug`): `café` typed with a
 * combining accent (NFD) looks the same and is another string, so `/posts/cafe%CC%81` was a 404
 * to GET and DELETE where the post `café` is, while a create-only PUT there found it (412).
 * Checked as sent too, which the OpenAPI document describes (NFC keeps a slug's characters a slug's).
 */
export const SlugPath = Schema.Struct({
  slug: Schema.transform(SlugParameter, SlugParameter, {
    strict: true,
    decode: (slug) => slug.normalize("NFC"),
    encode: (slug) => slug as Slug
  })
})

/** Markdown, optionally with YAML or TOML front matter. */
export const Markdown = HttpApiSchema.Text({ contentType: "text/markdown" }).annotations({
  description: "Markdown, optionally with front matter (--- YAML --- or +++ TOML +++)"
})

/**
 * A field the schema does not know is refused (400 naming it), as the OpenAPI document's
 * `additionalProperties: false` says: dropped silently, a typo (`Status`, `tag`) stored a post
 * other than the one meant, a draft published. Only the API's JSON payloads: NDJSON import
 * records are decoded by their own rules (src/Processing/records.ts).
 */
const exactFields = { parseOptions: { onExcessProperty: "error" } } as const

/**
 * `PostInput` as a JSON payload: its fields and no others. A struct named "PostInput", not the
 * class: the class's encoded side, which the document shows, is an anonymous object, and
 * generators named the create body after the operation.
 */
export const PostInputPayload = Schema.Struct(PostInput.fields).annotations({ identifier: "PostInput", ...exactFields })

/** Each of `fields` optional (left out, not null). */
const optionalFields = <const F extends Record<string, Schema.Schema.Any>>(
  fields: F
): { readonly [K in keyof F]: Schema.optionalWith<F[K], { exact: true }> } =>
  Object.fromEntries(Object.entries(fields).map(([key, schema]) => [key, Schema.optionalWith(schema, { exact: true })])) as any

/**
 * A post's fields that are no input: the fields the server derives or keeps, ignored in a post's
 * JSON (but `version` on a PUT). `updatedAt` is one: there it is the store's last write.
 */
type StoreKey = Exclude<keyof typeof Post.fields, keyof typeof PostInput.fields | "updatedAtSource"> | "updatedAt"

const isStoreKey = (key: string): boolean => key === "updatedAt" || (key !== "updatedAtSource" && !(key in PostInput.fields))

/** Read off `Post`, so a field added there is in a post's JSON too. */
const STORE_KEYS: ReadonlyArray<StoreKey> = Object.keys(Post.fields).filter(isStoreKey) as Array<StoreKey>

const postFields = optionalFields(Post.fields)

const IGNORED = "Ignored, whatever its value: the server derives or keeps this field (as GET /posts/{slug} answers it)"

/**
 * A field of a post's JSON that the server derives or keeps: ignored, as README and the document
 * say, so never decoded, and any value is taken. Decoded as `Post`'s, a value no write reads was a
 * 400 in the schema's own terms (`id: expected string & Brand<"PostId">, got null`, `toc: expected
 * ReadonlyArray<(TocEntry (Encoded side) <-> TocEntry)>, got "x"`, `createdAt: Unable to decode
 * "garbage" into a DateTime.Utc`). The document shows it as any JSON value, saying it is ignored.
 */
const Ignored = Schema.Unknown.annotations({
  jsonSchema: { type: ["null", "boolean", "object", "array", "number", "string"], description: IGNORED }
})

/**
 * `version` where a write reads it (a PUT's body: the version being replaced), checked and said
 * plainly (was: `expected Int`, `expected a number greater than or equal to 1`).
 */
const Version = Post.fields.version.annotations(expecting("the version being replaced (an integer from 1)"))

type IgnoredKey = Exclude<StoreKey, "version">

/** Each optional: `version` as a PUT reads it, the others ignored. */
const storeFields = Object.fromEntries(
  STORE_KEYS.map((key) => [key, Schema.optionalWith(key === "version" ? Version : Ignored, { exact: true })])
) as
  & { readonly [K in IgnoredKey]: Schema.optionalWith<typeof Ignored, { exact: true }> }
  & { readonly version: Schema.optionalWith<typeof Version, { exact: true }> }

/** PostInput's fields but `updatedAt`, which a post's JSON calls `updatedAtSource`. */
const { updatedAt: _updatedAt, ...postJsonInputFields } = PostInput.fields

/** `fields` in the order a GET answers them (the document lists them so), any others after. */
const inPostOrder = <F extends Record<string, unknown>>(fields: F): F =>
  Object.fromEntries(
    [...new Set([...Object.keys(Post.fields), ...Object.keys(fields)])].filter((key) => key in fields).map((key) => [key, fields[key]])
  ) as F

const AUTHOR_DATE = "The author's updated date (PostInput's `updatedAt`): YYYY-MM-DD or RFC 3339 (2024-05-01T10:00:00+02:00; " +
  "no offset is UTC), a date of the calendar (not 2024-02-30) in years 0000-9999; null for none"

/**
 * The author's "updated" date, as processing reads PostInput's `updatedAt`, checked here: a bad
 * one is a 400 naming `updatedAtSource`. The document says which dates (`DATE_PATTERN`): as a
 * `DateTimeUtc` it promised any string would do.
 */
const AuthorDate = Schema.String.pipe(
  Schema.filter((text) => Either.match(parseDateString(text), { onLeft: (reason) => reason, onRight: () => true }), {
    jsonSchema: { pattern: DATE_PATTERN }
  })
).annotations({ description: AUTHOR_DATE })

/**
 * A post's JSON as the server reads it, and as the OpenAPI document shows it (`PostJson`): one
 * schema for both, so they cannot differ. Its input fields are PostInput's, as PostInput takes
 * them (`null` for left out, `status` in another case, tags processing trims); the server checks
 * them again as a PostInput's (`orPostJson`). Its store fields are optional and ignored, any
 * value (`Ignored`), but `version`, checked as a PUT reads it; no other field is taken.
 */
const PostJsonFields = Schema.Struct(inPostOrder({
  ...storeFields,
  ...postJsonInputFields,
  updatedAtSource: Schema.NullOr(AuthorDate)
})).annotations(exactFields)

/** What a typed client holds of a post: a `Post` (a GET's answer), each field optional but these two. */
const PostShaped = Schema.Struct({
  ...postFields,
  body: Post.fields.body,
  updatedAtSource: Post.fields.updatedAtSource
})

/**
 * A post's JSON as `GET /posts/:slug` answers it (`Post`), sent back edited or as it is, so a
 * client sends the type it read. Told by its `updatedAtSource` key, the author's updated date;
 * the fields the server derives or keeps (`id`, `html`, `createdAt`, `updatedAt`, the last
 * write...) are ignored, but `version` on a PUT: the version being replaced. Read by `orPostJson`
 * (internal/postJson.ts) with `PostJson.from`, which is also what the document shows.
 *
 * A typed client may send either a `Post` or the fields as the server reads them: a `Post` is
 * sent as its JSON, read as the server reads it (its nulls as left out).
 */
export const PostJson = Schema.transformOrFail(
  PostJsonFields,
  Schema.Union(Schema.typeSchema(PostJsonFields), Schema.typeSchema(PostShaped)),
  {
    strict: true,
    decode: ParseResult.succeed,
    encode: (value, options) =>
      ParseResult.flatMap(
        // A `Post` first, as its JSON: read as the fields the server reads, its ignored ones
        // (taken as they are) would be sent as the objects they hold (a DateTime, TocEntry instances).
        ParseResult.encodeUnknown(Schema.Union(PostShaped, PostJsonFields))(value, options),
        (json) => ParseResult.decodeUnknown(PostJsonFields)(json, options)
      )
  }
).annotations({
  identifier: "PostJson",
  description: "A post as GET /posts/{slug} answers it, edited or not (told by `updatedAtSource`, the author's updated date): " +
    "the fields the server derives or keeps (id, html, excerpt, toc, createdAt, updatedAt, source...) are ignored; " +
    "`version`, on a PUT, is the version being replaced; the others are PostInput's"
})

export const CreatePayload = Schema.Union(PostInputPayload, PostJson, Markdown)

/** Post fields plus the version being replaced (or send it as `If-Match`). */
export const UpdateInput = Schema.Struct({
  ...PostInput.fields,
  version: Schema.optional(Version)
}).annotations({ identifier: "UpdateInput", ...exactFields })

export const UpdatePayload = Schema.Union(UpdateInput, PostJson, Markdown)

export const OnConflict = Schema.Literal("fail", "skip", "suffix")

const ON_CONFLICT = '"fail", "skip" or "suffix"'

export const ImportParams = Schema.Struct({
  /** A slug taken by a post from another source: fail that post, skip it, or store it as slug-2 (absent: IMPORT_ON_CONFLICT, fail unless set). */
  onConflict: optionalParameter(OnConflict, ON_CONFLICT),
  /** `true`: say what the import would do (checked against the stored posts), write nothing. */
  dryRun: optionalParameter(Schema.BooleanFromString, "true or false")
}).annotations(exactParameters)

/** Most URLs one `POST /posts/import-url` takes. */
export const MAX_IMPORT_URLS = 100

const URLS = `a URL or a list of 1 to ${MAX_IMPORT_URLS} URLs`

/**
 * What a bad `url` is, in one issue at `url`: the union's own were one per member, in the schema's
 * terms (`url: expected a string, got 5; url: expected readonly [string, ...string[]], got 5`;
 * `url: expected a string, got []; url.0: missing`), and a list of 101 was first "expected a
 * string". Names what is wrong with a list: empty, too long, or the first item that is no string.
 */
const urlsMessage = (issue: ParseResult.ParseIssue) => {
  const actual = valueOf(issue.actual)
  let got: string
  if (!Array.isArray(actual)) got = briefly(actual)
  else if (actual.length === 0) got = "an empty list"
  else if (actual.length > MAX_IMPORT_URLS) got = `a list of ${actual.length}`
  else {
    const at = actual.findIndex((url) => typeof url !== "string")
    got = at === -1 ? briefly(actual) : `a list with ${briefly(actual[at], 60)} at ${at}`
  }
  return { message: `expected ${URLS}, got ${got}`, override: true }
}

export const ImportUrlPayload = Schema.Struct({
  /**
   * One URL or several (at most MAX_IMPORT_URLS), imported one after the other: each is fetched
   * and checked against the server's own network before the import starts, so a request is a bounded amount of work.
   */
  url: Schema.Union(Schema.String, Schema.NonEmptyArray(Schema.String).pipe(Schema.maxItems(MAX_IMPORT_URLS))).annotations({
    message: urlsMessage
  }),
  // One issue, as the query parameter's: the union's own were one per literal ("expected \"fail\"", "expected \"skip\"", ...).
  onConflict: Schema.optional(OnConflict.annotations(expecting(ON_CONFLICT))),
  /** Say what the import would do (checked against the stored posts), write nothing. */
  dryRun: Schema.optional(Schema.Boolean)
}).annotations({ identifier: "ImportUrlPayload", ...exactFields })

/** The response headers a post's answers carry, for the OpenAPI document (the platform declares bodies only). */
const ETAG_HEADER = {
  ETag: {
    description: "The post's version, content hash and id (a post re-created at its slug has another); " +
      "send it back as If-Match or If-None-Match",
    schema: { type: "string" }
  }
}
const LOCATION_HEADER = {
  Location: { description: "The new post's URL (its slug percent-encoded)", schema: { type: "string" } }
}

const MOVED_HEADER = {
  Location: {
    description: "Where the post that left this slug is now (its new slug percent-encoded), with the request's query",
    schema: { type: "string" }
  }
}

const CONTENT_LOCATION_HEADER = {
  "Content-Location": {
    description: "Only when the update renamed the post (a new `slug`): its new URL, percent-encoded",
    schema: { type: "string" }
  }
}

/** `op` with `headers` documented on its `status` response. */
const withResponseHeaders = (status: number, headers: Record<string, unknown>) => (op: Record<string, any>) => {
  const response = op["responses"]?.[status]
  if (response !== undefined) response.headers = { ...response.headers, ...headers }
  return op
}

/**
 * A list's ETag and its 304 (`listEtagOf` in Http.ts), documented: the success schemas stay the
 * page's, so the typed client's answer is the page (it sends no If-None-Match).
 */
const LIST_REVALIDATION = (op: Record<string, any>) => {
  const etag = {
    ETag: {
      description: "A hash of this answer; send it back as If-None-Match to get 304 while it is the same",
      schema: { type: "string" }
    }
  }
  const withEtag = withResponseHeaders(200, etag)(op)
  withEtag["parameters"] = [
    ...(withEtag["parameters"] ?? []),
    {
      name: "If-None-Match",
      in: "header",
      required: false,
      description: "The ETag of an earlier answer: 304 Not Modified (no body) while the answer is the same",
      schema: { type: "string" }
    }
  ]
  withEtag["responses"] = { ...withEtag["responses"], 304: { description: "Not Modified: the answer is the one the If-None-Match ETag names", headers: etag } }
  return withEtag
}

/** `ops` applied in order: an endpoint has one `OpenApi.Transform`. */
const transforms = (...ops: ReadonlyArray<(op: Record<string, any>) => Record<string, any>>) => (op: Record<string, any>) =>
  ops.reduce((acc, transform) => transform(acc), op)

/** `text/x-markdown`, which create and update take as markdown (POST_BODY_TYPES), beside `text/markdown`. */
const withOlderMarkdownType = (op: Record<string, any>) => {
  const content = op["requestBody"]?.content
  if (content?.["text/markdown"] !== undefined) content["text/x-markdown"] = content["text/markdown"]
  return op
}

/**
 * What the bulk import takes (`ndjsonBody` in Http.ts; any other type is 415): NDJSON under its
 * common names (`application/x-ndjson`, ndjson.org's; `application/jsonl`, JSON Lines', as the
 * OpenAPI media type registry lists them; `application/x-jsonlines` and `application/jsonlines`,
 * as some tools send JSON Lines), in UTF-8, or no Content-Type.
 */
export const NDJSON_TYPES = ["application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines"] as const

const NDJSON_BODY = {
  schema: {
    type: "string",
    description: "One JSON object per line: the fields of PostInput, plus an optional `source` naming where the post came from " +
      "(UTF-8; sent with no Content-Type it is read as NDJSON too)"
  }
}

/**
 * The bulk import as it is: an NDJSON body, which the handler streams (a payload schema would make
 * the platform buffer and parse it whole), and no 413, since MAX_BODY_SIZE does not apply to it.
 */
const importOperation = (op: Record<string, any>) => {
  op["requestBody"] = {
    required: true,
    content: Object.fromEntries(NDJSON_TYPES.map((type) => [type, NDJSON_BODY]))
  }
  if (op["responses"] !== undefined) delete op["responses"][413]
  return op
}

/** What `If-Match` means on every write (RFC 9110 §13.1.1). */
const IF_MATCH = Schema.String.annotations({
  description: "The post's ETag(s) or version: the write goes ahead only if the post is still one of them " +
    "(412 PreconditionFailed otherwise, naming the post's current ETag; weak W/ tags never match). " +
    "`*`: the post exists. A missing post is 404 whatever If-Match says"
})

export const IfMatch = Schema.Struct({ "if-match": Schema.optional(IF_MATCH) })
export const IfNoneMatch = Schema.Struct({ "if-none-match": Schema.optional(Schema.String) })

/** A PUT's preconditions (RFC 9110 §13.1). */
export const UpdateConditions = Schema.Struct({
  "if-match": Schema.optional(IF_MATCH),
  "if-none-match": Schema.optional(Schema.String.annotations({
    description: "`*`: create the post at this URL only if there is none (201, else 412 PreconditionFailed, nothing written). " +
      "ETags: 412 when the post is any of them"
  }))
})

/**
 * A read's security: anonymous (`{}`), or ApiKeyAuth's schemes (declared by the write group),
 * either of which shows drafts and scheduled posts. The platform wrote `security: []` (no
 * middleware on the group): Swagger's "Try it out" at /docs then never sent the key, and could
 * not list drafts (`status=draft` without one is 401). The schemes are declared in the OpenAPI
 * document only by a group with ApiKeyAuth: an API serving these reads without `PostsAdminApi`
 * must declare them itself (README, Embedding). Not a security middleware on this group: it would
 * run on every read, and the handlers already read the key where it matters.
 */
const OPTIONAL_KEY = [{}, { apiKey: [] }, { bearer: [] }]

/** Public reads: published posts for everyone, drafts too with an API key. */
export class PostsApi extends HttpApiGroup.make("posts")
  .add(
    HttpApiEndpoint.get("list", "/posts")
      .setUrlParams(ListParams)
      .addSuccess(PostPage)
      .annotate(OpenApi.Summary, "List posts, newest first; with `q`, search them, most relevant first")
      .annotate(OpenApi.Transform, LIST_REVALIDATION)
  )
  .add(
    HttpApiEndpoint.get("get", "/posts/:slug")
      .setPath(SlugPath)
      .setHeaders(IfNoneMatch)
      .addSuccess(Post)
      .addSuccess(HttpApiSchema.Empty(304))
      .addError(PostNotFound)
      // A renamed post's old slug; a draft or scheduled post's only with a key (404 otherwise).
      .addError(PostMoved)
      // A path that is not percent-encoded UTF-8 (`/posts/%ZZ`): the request pipeline's answer (Middleware), before any routing.
      .addError(BadRequest)
      .annotate(
        OpenApi.Summary,
        "One processed post (html, excerpt, reading time, toc), with an ETag; at a slug the post left (renamed), 301 to where it is"
      )
      .annotate(
        OpenApi.Transform,
        transforms(withResponseHeaders(200, ETAG_HEADER), withResponseHeaders(304, ETAG_HEADER), withResponseHeaders(301, MOVED_HEADER))
      )
  )
  .add(
    HttpApiEndpoint.get("tags", "/tags")
      .addSuccess(TagList)
      .annotate(OpenApi.Summary, "Every tag with its number of posts, most used first")
      // No parameters to list: the platform lists a query's from `setUrlParams`, which this has none of (Http.ts refuses any).
      .annotate(OpenApi.Description, "Takes no query parameters: any is a 400 HttpApiDecodeError naming it")
      .annotate(OpenApi.Transform, LIST_REVALIDATION)
  )
  .annotateEndpoints(OpenApi.Override, { security: OPTIONAL_KEY })
  // Only when a key is presented and wrong, or drafts are asked for without one.
  .addError(Unauthorized)
  .addError(InternalServerError)
  .addError(PoolTimeout)
  .addError(DatabaseUnavailable)
  .addError(RequestTimedOut)
  .annotate(OpenApi.Description, "Reading posts")
{}

/**
 * Writes, behind `ApiKeyAuth`.
 *
 * Create and update read their body themselves (`readPostBody` in Http.ts), as its Content-Type
 * says; `setPayload` is there for the OpenAPI document and typed clients. The Content-Type check
 * (415) is in the handler on purpose, not an endpoint middleware: the platform runs an endpoint's
 * middleware outside its group's, so a 415 would answer a caller without credentials before
 * `ApiKeyAuth` did.
 */
export class PostsAdminApi extends HttpApiGroup.make("postsAdmin")
  .add(
    HttpApiEndpoint.post("create", "/posts")
      .setPayload(CreatePayload)
      .addSuccess(Post, { status: 201 })
      .addError(UnsupportedMediaType)
      .addError(InvalidPost)
      .addError(SlugConflict)
      .annotate(OpenApi.Summary, "Create a post from JSON fields or markdown; 201 with Location")
      .annotate(OpenApi.Transform, transforms(withResponseHeaders(201, { ...LOCATION_HEADER, ...ETAG_HEADER }), withOlderMarkdownType))
  )
  .add(
    HttpApiEndpoint.put("update", "/posts/:slug")
      .setPath(SlugPath)
      .setHeaders(UpdateConditions)
      .setPayload(UpdatePayload)
      .addSuccess(Post)
      .addSuccess(Post, { status: 201 })
      .addError(UnsupportedMediaType)
      .addError(InvalidPost)
      .addError(PostNotFound)
      .addError(StaleVersion)
      .addError(SlugConflict)
      .addError(PreconditionFailed)
      .addError(VersionRequired)
      .annotate(
        OpenApi.Summary,
        "Replace a post; needs its current version: body `version` (409 StaleVersion when the post is at another) or If-Match " +
          "(412 PreconditionFailed when the post is not that). With If-None-Match: *, create it at this URL only if there is none (201, else 412)"
      )
      .annotate(
        OpenApi.Transform,
        transforms(
          withResponseHeaders(200, { ...CONTENT_LOCATION_HEADER, ...ETAG_HEADER }),
          withResponseHeaders(201, { ...LOCATION_HEADER, ...ETAG_HEADER }),
          withOlderMarkdownType
        )
      )
  )
  .add(
    HttpApiEndpoint.del("delete", "/posts/:slug")
      .setPath(SlugPath)
      .setHeaders(IfMatch)
      .addSuccess(HttpApiSchema.NoContent)
      .addError(PostNotFound)
      // Its only version is If-Match's: a post that is not it is a failed precondition, never a 409.
      .addError(PreconditionFailed)
      .annotate(OpenApi.Summary, "Delete a post (only at the If-Match version, when given: 412 PreconditionFailed otherwise)")
  )
  .add(
    // No payload schema on purpose: HttpApi would buffer and parse the whole body; the handler
    // streams it through the import pipeline instead.
    HttpApiEndpoint.post("import", "/posts/import")
      .setUrlParams(ImportParams)
      .addSuccess(ImportSummary)
      // A body that is not NDJSON by its Content-Type, or in a content coding (Content-Encoding: gzip):
      // read as sent, it would be lines of noise.
      .addError(UnsupportedMediaType)
      .annotate(OpenApi.Summary, "Bulk import: NDJSON body, one PostInput per line (optional `source`); bad lines are in the summary as request:<line>")
      .annotate(OpenApi.Transform, importOperation)
  )
  .add(
    HttpApiEndpoint.post("importUrl", "/posts/import-url")
      .setPayload(ImportUrlPayload)
      .addSuccess(ImportSummary)
      .addError(UnsupportedMediaType)
      // A URL whose host is or resolves to the server's own network (loopback, private, link-local...), unless FEED_ALLOW_PRIVATE.
      .addError(UrlRefused)
      .annotate(OpenApi.Summary, "Import a feed (RSS, Atom, JSON Feed), another Inkwell, or a Ghost export from URLs; every failure is in the summary, but a URL on the server's own network is refused (422 UrlRefused) before anything is imported")
  )
  .middleware(ApiKeyAuth)
  .addError(BadRequest)
  .addError(PayloadTooLarge)
  .addError(InternalServerError)
  .addError(PoolTimeout)
  .addError(DatabaseUnavailable)
  .addError(RequestTimedOut)
  .annotate(OpenApi.Description, "Writing posts (API key required)")
{}
