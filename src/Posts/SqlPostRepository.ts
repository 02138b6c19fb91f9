/**
 * PostRepository on SQL (SQLite and PostgreSQL). Every statement goes through DatabasePool.
 * Writes decode the rows they read with a Schema (`PostFromRow`); the reads (`getBySlug`, `list`)
 * use `rowToPost`, which checks each row's shape and leaves any row it cannot take to the same
 * Schema, so a malformed row is still an error, never a malformed value. (Field rules such as
 * the slug pattern were checked when the row was written.)
 *
 * Slug uniqueness is the database's job: writes catch the unique violation (race-safe) instead
 * of trusting a check made before the insert.
 *
 * Each write's last statement in its transaction is the caller's `BeforeCommit`, when it gave one
 * (`AnnouncingPostRepository`: NOTIFY on PostgreSQL).
 */
import type { SqlClient, SqlError, Statement } from "@effect/sql"
import { Array as Arr, Data, DateTime, Effect, Layer, Option, Schedule, Schema } from "effect"
import { DatabaseError, type PoolTimeout, PostNotFound, SlugConflict, StaleVersion } from "../Domain/Errors.js"
import { aliasKey, aliasKeysOf, distinctTags, type NewPost, Post, PostStatus, tagKey, TocEntry } from "../Domain/Post.js"
import { DatabasePool } from "../Database/DatabasePool.js"
import { isConflict, isDatabaseError } from "../Database/Transient.js"
import { NUL } from "../Processing/text.js"
import {
  buildNew,
  buildReplacement,
  checkExpected,
  clampLimit,
  clampOffset,
  cursorOf,
  type Cursor,
  cursorOfQuery,
  encodeCursor,
  mergeTagCounts,
  searchWindow,
  sortKey,
  upsertAll,
  type Redirect,
  type UpsertStore,
  slugsByPost
} from "./internal/repository.js"
import { type EncodedPost, type GetEncoded, type ListEncoded, withGetEncoded, withListEncoded } from "./internal/encodedReads.js"
import { clampSitemapLimit, modifiedMillis } from "./internal/sitemap.js"
import {
  findsNothing,
  ftsMatch,
  ftsPhrase,
  MAX_POSITION,
  MAX_POSITIONS,
  SEARCH_WEIGHTS,
  type SearchTerms,
  searchTerms,
  type TsPhrase,
  tsPhrases,
  tsQuery,
  tsWord
} from "./internal/search.js"
import { writeSearchEntries } from "./internal/searchIndex.js"
import {
  BeforeCommit,
  type ListQuery,
  type Neighbours,
  type PostPage,
  PostRepository,
  type PostRepositoryShape,
  type SearchPage,
  type SearchQuery,
  type SitemapPage,
  type SitemapPost,
  type SitemapQuery,
  type UpsertOptions,
  type UpsertResult,
  Written
} from "./PostRepository.js"

/** PostgreSQL returns BIGINT (and COUNT) as strings; SQLite as numbers. */
const IntColumn = Schema.Union(Schema.Number, Schema.NumberFromString)
// Generic over the encoded side `I` (not `S extends Schema.Any`, which infers `any` for it), so the
// exported `PostFromRow` says what each JSON column holds instead of `SchemaClass<any, any>`.
const JsonColumn = <A, I, R>(schema: Schema.Schema<A, I, R>) => Schema.parseJson(Schema.encodedSchema(schema))

/** A `posts` row as stored. Timestamps are epoch milliseconds; lists and maps are JSON text. */
const PostRow = Schema.Struct({
  id: Schema.String,
  slug: Schema.String,
  title: Schema.String,
  body: Schema.String,
  tags: JsonColumn(Post.fields.tags),
  status: PostStatus,
  authors: JsonColumn(Post.fields.authors),
  summary: Schema.NullOr(Schema.String),
  published_at: Schema.NullOr(IntColumn),
  updated_at_source: Schema.NullOr(IntColumn),
  aliases: JsonColumn(Post.fields.aliases),
  metadata: JsonColumn(Post.fields.metadata),
  source: Schema.String,
  html: Schema.String,
  excerpt: Schema.String,
  word_count: IntColumn,
  reading_time_minutes: IntColumn,
  toc: JsonColumn(Post.fields.toc),
  content_hash: Schema.String,
  created_at: IntColumn,
  updated_at: IntColumn,
  version: IntColumn
})

const toIso = (millis: number) => new Date(millis).toISOString()
const toMillis = (iso: string) => new Date(iso).getTime()

/** A `posts` row <-> a `Post`. */
export const PostFromRow = Schema.transform(PostRow, Post, {
  strict: true,
  decode: (row) => ({
    id: row.id,
    slug: row.slug,
    title: row.title,
    body: row.body,
    tags: row.tags,
    status: row.status,
    authors: row.authors,
    summary: row.summary,
    publishedAt: row.published_at === null ? null : toIso(row.published_at),
    updatedAtSource: row.updated_at_source === null ? null : toIso(row.updated_at_source),
    aliases: row.aliases,
    metadata: row.metadata,
    source: row.source,
    html: row.html,
    excerpt: row.excerpt,
    wordCount: row.word_count,
    readingTimeMinutes: row.reading_time_minutes,
    toc: row.toc,
    contentHash: row.content_hash,
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
    version: row.version
  }),
  encode: (post) => ({
    id: post.id,
    slug: post.slug,
    title: post.title,
    body: post.body,
    tags: post.tags,
    status: post.status,
    authors: post.authors,
    summary: post.summary,
    published_at: post.publishedAt === null ? null : toMillis(post.publishedAt),
    updated_at_source: post.updatedAtSource === null ? null : toMillis(post.updatedAtSource),
    aliases: post.aliases,
    metadata: post.metadata,
    source: post.source,
    html: post.html,
    excerpt: post.excerpt,
    word_count: post.wordCount,
    reading_time_minutes: post.readingTimeMinutes,
    toc: post.toc,
    content_hash: post.contentHash,
    created_at: toMillis(post.createdAt),
    updated_at: toMillis(post.updatedAt),
    version: post.version
  })
})

const millisOrNull = (dt: DateTime.Utc | null) => (dt === null ? null : DateTime.toEpochMillis(dt))

/**
 * The `posts` row for a Post: `PostFromRow`'s encoding, written out by hand because bulk imports
 * write hundreds of rows per batch and the Post was validated when it was built.
 */
export const postToRow = (post: Post) => ({
  id: post.id,
  slug: post.slug,
  title: post.title,
  body: post.body,
  tags: JSON.stringify(post.tags),
  status: post.status,
  authors: JSON.stringify(post.authors),
  summary: post.summary,
  published_at: millisOrNull(post.publishedAt),
  updated_at_source: millisOrNull(post.updatedAtSource),
  aliases: JSON.stringify(post.aliases),
  metadata: JSON.stringify(post.metadata),
  source: post.source,
  html: post.html,
  excerpt: post.excerpt,
  word_count: post.wordCount,
  reading_time_minutes: post.readingTimeMinutes,
  toc: JSON.stringify(post.toc.map(({ id, level, text }) => ({ level, text, id }))),
  content_hash: post.contentHash,
  created_at: DateTime.toEpochMillis(post.createdAt),
  updated_at: DateTime.toEpochMillis(post.updatedAt),
  version: post.version,
  sort_at: sortKey(post)
})

/** Rows per multi-row INSERT: 23 columns × 200 stays far below both engines' parameter limits. */
const INSERT_CHUNK = 200
/**
 * Rows per INSERT into the narrow child tables (post_tags, post_aliases: a few columns each), and
 * keys per `IN (...)` list: far below both engines' parameter limits.
 */
const ROW_CHUNK = 500
/** Sources per `SELECT slug, source ... WHERE source IN (...)`: far below both engines' parameter limits. */
const SOURCE_CHUNK = 1000

/**
 * The `post_tags` rows of `posts`: one per post and `tagKey`, in the post's first spelling, so a
 * post tagged "Rust" and "rust" counts once and the primary key (post_id, tag_key) holds. With
 * the post's status and sort key (migration 0009), which a tag's listing and counts read there:
 * every write of a post writes its tag rows again (insert, replace, upsert), so they follow it.
 */
const tagRows = (posts: ReadonlyArray<Post>) =>
  posts.flatMap((post) => {
    const status = post.status
    const sort_at = sortKey(post)
    return distinctTags(post.tags).map(({ key, tag }) => ({ post_id: post.id, tag, tag_key: key, status, sort_at }))
  })

/** Built once: constructing a decoder per query cost 100-150 µs of every read. */
const decodePostRows = Schema.decodeUnknown(Schema.Array(PostFromRow))

const STATUSES: ReadonlySet<unknown> = new Set(PostStatus.literals)

/** An integer column: a number (SQLite), or a numeric string (PostgreSQL BIGINT). */
const intOf = (value: unknown): number => {
  const n = typeof value === "number" ? value : typeof value === "string" && value.length > 0 ? Number(value) : NaN
  if (!Number.isSafeInteger(n)) throw new Error("not an integer")
  return n
}
const intOrNull = (value: unknown): number | null => (value === null ? null : intOf(value))
const textOf = (value: unknown): string => {
  if (typeof value !== "string") throw new Error("not text")
  return value
}
const textOrNull = (value: unknown): string | null => (value === null ? null : textOf(value))
const jsonArrayOf = (value: unknown): Array<unknown> => {
  const parsed: unknown = JSON.parse(textOf(value))
  if (!Array.isArray(parsed)) throw new Error("not a JSON array")
  return parsed
}
const stringsOf = (value: unknown): Array<string> => {
  const parsed = jsonArrayOf(value)
  for (const item of parsed) if (typeof item !== "string") throw new Error("not a string array")
  return parsed as Array<string>
}
const utcOrNull = (millis: number | null) => (millis === null ? null : DateTime.unsafeMake(millis))

/**
 * `PostFromRow`'s decoding written out by hand, for the read path: rows were validated when they
 * were written (`postToRow` encodes a validated Post), so reads check only the shape (types,
 * parseable JSON) and skip the Schema parser, which cost ~70 µs of every read. A row that fails
 * a check returns `undefined` and is decoded by the Schema instead, which reports what is wrong.
 */
export const rowToPost = (input: unknown): Post | undefined => {
  try {
    const row = input as Record<string, unknown>
    const status = row["status"]
    if (!STATUSES.has(status)) return undefined
    const toc = jsonArrayOf(row["toc"]).map((entry) => {
      const { id, level, text } = entry as { readonly id: unknown; readonly level: unknown; readonly text: unknown }
      if (typeof level !== "number" || typeof text !== "string" || typeof id !== "string") throw new Error("bad toc entry")
      return new TocEntry({ level, text, id }, true)
    })
    const metadata: unknown = JSON.parse(textOf(row["metadata"]))
    if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) return undefined
    return new Post(
      {
        id: textOf(row["id"]) as Post["id"],
        slug: textOf(row["slug"]) as Post["slug"],
        title: textOf(row["title"]),
        body: textOf(row["body"]),
        tags: stringsOf(row["tags"]),
        status: status as PostStatus,
        authors: stringsOf(row["authors"]),
        summary: textOrNull(row["summary"]),
        publishedAt: utcOrNull(intOrNull(row["published_at"])),
        updatedAtSource: utcOrNull(intOrNull(row["updated_at_source"])),
        aliases: stringsOf(row["aliases"]),
        metadata: metadata as Post["metadata"],
        source: textOf(row["source"]),
        html: textOf(row["html"]),
        excerpt: textOf(row["excerpt"]),
        wordCount: intOf(row["word_count"]),
        readingTimeMinutes: intOf(row["reading_time_minutes"]),
        toc,
        contentHash: textOf(row["content_hash"]),
        createdAt: DateTime.unsafeMake(intOf(row["created_at"])),
        updatedAt: DateTime.unsafeMake(intOf(row["updated_at"])),
        version: intOf(row["version"])
      },
      true
    )
  } catch {
    return undefined
  }
}

// ---------------------------------------------------------------------------------------------
// The encoded read (SQLite): a post's response JSON built by SQLite's json_object
// ---------------------------------------------------------------------------------------------

/** Epoch milliseconds SQLite formats here as `toISOString` does: 1970 to 9999 (else: the general path). */
const MAX_ISO_MILLIS = 253402300799999
const isoRange = (column: string) => `(typeof(${column}) = 'integer' AND ${column} BETWEEN 0 AND ${MAX_ISO_MILLIS})`
/** `new Date(ms).toISOString()` in SQLite, with integer arithmetic only (no rounding of fractional seconds). */
const isoOf = (column: string) =>
  `strftime('%Y-%m-%dT%H:%M:%S', ${column} / 1000, 'unixepoch') || '.' || printf('%03d', ${column} % 1000) || 'Z'`
const isoOrNull = (column: string) => `CASE WHEN ${column} IS NULL THEN NULL ELSE ${isoOf(column)} END`

/**
 * `JSON.stringify(encodePost(rowToPost(row)))`, built by SQLite: the same keys in the same order
 * (encodePost's), the stored JSON columns embedded as they are (postToRow wrote them with
 * JSON.stringify, in encodePost's key order), text quoted by SQLite (the same escapes as
 * JSON.stringify for what a UTF-8 column can hold), dates formatted as `toISOString`.
 * test/Posts/EncodedReads.test.ts holds the two byte for byte equal.
 *
 * NULL when a column is not of the type a Post needs or a date is out of `isoOf`'s range: the
 * caller then takes the general path, which reports a malformed row. A JSON column that does
 * not parse fails the statement (`json()`: "malformed JSON"), a `DatabaseError` as on the
 * general path; their shapes are checked in JavaScript (`encodedRowChecked`), as `rowToPost`
 * checks them.
 */
export const ENCODED_BY_SLUG = `
SELECT id, status, version, content_hash, sort_at, tags, authors, aliases, toc, metadata,
  CASE WHEN typeof(id) = 'text' AND typeof(slug) = 'text' AND typeof(title) = 'text' AND typeof(body) = 'text'
    AND typeof(summary) IN ('text', 'null') AND typeof(source) = 'text' AND typeof(html) = 'text'
    AND typeof(excerpt) = 'text' AND typeof(content_hash) = 'text' AND typeof(word_count) = 'integer'
    AND typeof(reading_time_minutes) = 'integer' AND typeof(version) = 'integer'
    AND (published_at IS NULL OR ${isoRange("published_at")})
    AND (updated_at_source IS NULL OR ${isoRange("updated_at_source")})
    AND ${isoRange("created_at")} AND ${isoRange("updated_at")}
  THEN CAST(json_object(
    'id', id, 'slug', slug, 'title', title, 'body', body, 'tags', json(tags), 'status', status,
    'authors', json(authors), 'summary', summary, 'publishedAt', ${isoOrNull("published_at")},
    'updatedAtSource', ${isoOrNull("updated_at_source")}, 'aliases', json(aliases), 'metadata', json(metadata),
    'source', source, 'html', html, 'excerpt', excerpt, 'wordCount', word_count,
    'readingTimeMinutes', reading_time_minutes, 'toc', json(toc), 'contentHash', content_hash,
    'createdAt', ${isoOf("created_at")}, 'updatedAt', ${isoOf("updated_at")}, 'version', version
  ) AS BLOB) END AS json
FROM posts WHERE slug = ?`

interface EncodedRow {
  readonly id: unknown
  readonly status: unknown
  readonly version: unknown
  readonly content_hash: unknown
  readonly sort_at: unknown
  readonly tags: unknown
  readonly authors: unknown
  readonly aliases: unknown
  readonly toc: unknown
  readonly metadata: unknown
  readonly json: unknown
}

/**
 * An `ENCODED_BY_SLUG` row as an `EncodedPost`, after the checks `rowToPost` makes of the JSON
 * columns (SQLite checked the scalar columns and parsed the JSON ones); `undefined` when a check
 * fails or SQLite left `json` NULL.
 */
export const encodedRowChecked = (row: EncodedRow): EncodedPost | undefined => {
  try {
    if (!(row.json instanceof Uint8Array) || !STATUSES.has(row.status)) return undefined
    stringsOf(row.tags)
    stringsOf(row.authors)
    stringsOf(row.aliases)
    for (const entry of jsonArrayOf(row.toc)) {
      const { id, level, text } = entry as { readonly id: unknown; readonly level: unknown; readonly text: unknown }
      if (typeof level !== "number" || typeof text !== "string" || typeof id !== "string") return undefined
    }
    const metadata: unknown = JSON.parse(textOf(row.metadata))
    if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) return undefined
    return {
      json: row.json,
      id: textOf(row.id),
      status: row.status as PostStatus,
      version: intOf(row.version),
      contentHash: textOf(row.content_hash),
      listedAt: intOf(row.sort_at)
    }
  } catch {
    return undefined
  }
}

/**
 * One `PostSummary` per row as `JSON.stringify` of its schema encoding writes it (the schema's
 * key order), built by SQLite from the few columns a summary needs, as `ENCODED_BY_SLUG` builds
 * a post; NULL when a column is not of the type a Post needs. With the row's sort key (`sort_at`,
 * what the page is ordered by) and id for the next page's cursor.
 */
export const ENCODED_SUMMARY_COLUMNS = `status, tags, authors, id, sort_at,
  CASE WHEN typeof(id) = 'text' AND typeof(slug) = 'text' AND typeof(title) = 'text'
    AND typeof(excerpt) = 'text' AND typeof(summary) IN ('text', 'null')
    AND typeof(word_count) = 'integer' AND typeof(reading_time_minutes) = 'integer' AND typeof(version) = 'integer'
    AND (published_at IS NULL OR ${isoRange("published_at")})
    AND ${isoRange("created_at")} AND ${isoRange("updated_at")}
  THEN json_object(
    'slug', slug, 'title', title, 'excerpt', excerpt, 'summary', summary, 'tags', json(tags),
    'authors', json(authors), 'status', status, 'publishedAt', ${isoOrNull("published_at")},
    'createdAt', ${isoOf("created_at")}, 'updatedAt', ${isoOf("updated_at")},
    'readingTimeMinutes', reading_time_minutes, 'wordCount', word_count, 'version', version
  ) END AS json`

interface EncodedSummaryRow {
  readonly status: unknown
  readonly tags: unknown
  readonly authors: unknown
  readonly id: unknown
  readonly sort_at: unknown
  readonly json: unknown
}

const utf8 = new TextEncoder()

/**
 * The page's bytes from `limit + 1` rows (the extra one says whether there is a next page), or
 * `undefined` when a row fails the checks `rowToPost` would make: the general path reports it.
 */
export const encodedPage = (rows: ReadonlyArray<EncodedSummaryRow>, limit: number): Uint8Array | undefined => {
  const items = rows.slice(0, limit)
  try {
    for (const row of items) {
      if (typeof row.json !== "string" || !STATUSES.has(row.status)) return undefined
      stringsOf(row.tags)
      stringsOf(row.authors)
    }
  } catch {
    return undefined
  }
  const last = items[items.length - 1]
  const next = rows.length > limit && last !== undefined ? JSON.stringify(cursorOf(intOf(last.sort_at), textOf(last.id))) : "null"
  return utf8.encode(`{"items":[${items.map((row) => row.json as string).join(",")}],"next":${next}}`)
}

/**
 * `sitemapPosts`' query: `limit + 1` published posts listed by `asOf`, oldest first, after
 * `after` or from `offset`, with only the columns a sitemap needs (never the body or the HTML:
 * reading whole rows was 8 of the 9 seconds of a 50,000-post sitemap on SQLite). Both bounds of
 * the walk are ranges on posts_status_sort_idx, read backwards: the lower one written out
 * (`sort_at >= at`) besides the tie-break, which SQLite cannot seek by inside an OR (it then read
 * the index from the start for every page: 1.7 s for 100,000 posts against 0.25 s). An offset
 * is skipped in the index alone (SQLite reads a row only for a column it returns): 10 ms to the
 * 90,000th post.
 */
export const sitemapStatement = (sql: SqlClient.SqlClient, query: SitemapQuery, limit: number) => {
  const { after } = query
  const resume = after === undefined
    ? sql.literal("")
    : sql` AND sort_at >= ${after.at} AND (sort_at > ${after.at} OR id > ${after.id})`
  const offset = after === undefined ? clampOffset(query.offset) : 0
  return sql<SitemapRow>`
    SELECT id, slug, sort_at, updated_at, updated_at_source, tags FROM posts
    WHERE status = 'published' AND sort_at <= ${DateTime.toEpochMillis(query.asOf)}${resume}
    ORDER BY sort_at ASC, id ASC
    LIMIT ${limit + 1} OFFSET ${offset}`
}

interface SitemapRow {
  readonly id: unknown
  readonly slug: unknown
  readonly sort_at: unknown
  readonly updated_at: unknown
  readonly updated_at_source: unknown
  readonly tags: unknown
}

/** A `sitemapStatement` row as the port answers it, checked as `rowToPost` checks its columns; throws when one is not. */
const sitemapRowOf = (row: SitemapRow): SitemapPost => ({
  slug: textOf(row.slug),
  modifiedAt: DateTime.unsafeMake(modifiedMillis(intOf(row.sort_at), intOrNull(row.updated_at_source), intOf(row.updated_at))),
  tags: distinctTags(stringsOf(row.tags)).map(({ key }) => key)
})

/** A write hit a unique constraint, or a row changed under it: the batch is retried from scratch. */
class WriteRace extends Data.TaggedError("WriteRace")<{ readonly cause: unknown }> {}

/**
 * A dry run's batch, done: failing the transaction with it rolls the batch back (a failure is
 * what makes `withTransaction` roll back), and its outcomes are taken from it afterwards.
 */
class DryRunDone extends Data.TaggedError("DryRunDone")<{ readonly result: UpsertResult }> {}

const isSlugViolation = (error: SqlError.SqlError): boolean => {
  const cause = error.cause as
    | { readonly code?: unknown; readonly message?: unknown; readonly constraint?: unknown; readonly detail?: unknown }
    | undefined
  if (cause === undefined || cause === null) return false
  const code = String(cause.code ?? "")
  const unique = code === "SQLITE_CONSTRAINT_UNIQUE" || code === "23505"
  // "UNIQUE constraint failed: posts.slug" (SQLite); constraint "posts_slug_key" (PostgreSQL).
  return unique && `${String(cause.message ?? "")} ${String(cause.constraint ?? "")}`.includes("slug")
}

/**
 * A post's id taken by another writer between the batch's read of the ids it carries
 * (`slugsOfIds`) and its INSERT: "UNIQUE constraint failed: posts.id" (SQLite), constraint
 * "posts_pkey" (PostgreSQL, which checks the primary key before the slug, so two imports of one
 * export met here rather than at the slug).
 */
const isIdViolation = (error: SqlError.SqlError): boolean => {
  const cause = error.cause as { readonly code?: unknown; readonly message?: unknown; readonly constraint?: unknown } | undefined
  if (cause === undefined || cause === null) return false
  const code = String(cause.code ?? "")
  return (code === "SQLITE_CONSTRAINT_PRIMARYKEY" && String(cause.message ?? "").includes("posts.id")) ||
    (code === "23505" && cause.constraint === "posts_pkey")
}

const onSlugViolation = <A, E, R, E2>(
  effect: Effect.Effect<A, E | SqlError.SqlError, R>,
  onViolation: (error: SqlError.SqlError) => E2
): Effect.Effect<A, E | E2 | SqlError.SqlError, R> =>
  Effect.catchIf(
    effect,
    (e): e is SqlError.SqlError & E =>
      typeof e === "object" && e !== null && (e as { _tag?: unknown })._tag === "SqlError" &&
      isSlugViolation(e as SqlError.SqlError),
    (e) => Effect.fail(onViolation(e))
  )

const UPSERT_RETRIES = Schedule.recurs(2)

/**
 * The caller's `BeforeCommit`, if it gave one, run on the transaction's client `sql` as a
 * write's last statement: it commits with the write or not at all.
 */
const beforeCommit = (sql: SqlClient.SqlClient, written: Written) =>
  Effect.flatMap(Effect.serviceOption(BeforeCommit), Option.match({
    onNone: () => Effect.void,
    onSome: (hook) => hook.run(sql, written)
  }))

/**
 * `transaction` again, from its first read, while PostgreSQL aborts it as a deadlock victim or a
 * serialization failure: it was rolled back, and a run that sees the other's commit answers
 * what the other did (the post gone, or at a newer version) instead of a 500.
 */
const retryTransientConflicts = <A, E, R>(transaction: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.retry(transaction, {
    while: (e) => isDatabaseError(e) && isConflict(e.cause),
    schedule: UPSERT_RETRIES
  })

/**
 * The conditions of a listing's or a search's filters on the posts table as `table` names it:
 * its status, its tag (by key: one probe of post_tags' primary key (post_id, tag_key) per post
 * the status index yields), and `asOf` (a range on the sort key, which the (status, sort_at, id)
 * index serves as it serves the order). A search's, and a listing's without a tag: a tag's
 * listing starts from the tag's rows (`tagPageStatement`).
 */
const postFilters = (sql: SqlClient.SqlClient, query: Pick<ListQuery, "status" | "tag" | "asOf">, table: "posts" | "p") => {
  const posts = sql.literal(table)
  return [
    ...(query.status === undefined ? [] : [sql`${posts}.status = ${query.status}`]),
    ...(query.tag === undefined
      ? []
      : [sql`EXISTS (SELECT 1 FROM post_tags t WHERE t.post_id = ${posts}.id AND t.tag_key = ${tagKey(query.tag)})`]),
    ...(query.asOf === undefined ? [] : [sql`${posts}.sort_at <= ${DateTime.toEpochMillis(query.asOf)}`])
  ]
}

/**
 * A page of the listing: `query`'s filters (the cursor already decoded), `limit + 1` rows of
 * `columns` (of `posts`) from `offset`, newest first. With `status` the (status, sort_at, id)
 * index gives the order, `asOf` a range on it; without, the (sort_at, id) one. A tag's listing
 * is `tagPageStatement`'s.
 */
export const pageStatement = (
  sql: SqlClient.SqlClient,
  columns: string,
  query: Pick<ListQuery, "status" | "tag" | "asOf">,
  cursor: Cursor | undefined,
  limit: number,
  offset: number
) => {
  if (query.tag !== undefined) return tagPageStatement(sql, columns, { ...query, tag: query.tag }, cursor, limit, offset)
  const conditions = [
    ...postFilters(sql, query, "posts"),
    ...(cursor === undefined
      ? []
      : [sql`(sort_at < ${cursor.at} OR (sort_at = ${cursor.at} AND id < ${cursor.id}))`])
  ]
  const where = conditions.length === 0 ? sql.literal("") : sql`WHERE ${sql.and(conditions)}`
  return sql`
    SELECT ${sql.literal(columns)} FROM posts ${where}
    ORDER BY sort_at DESC, id DESC
    LIMIT ${limit + 1} OFFSET ${offset}
  `
}

/**
 * A page of a tag's listing: the page's post ids off post_tags_listing_idx (tag_key, status,
 * sort_at DESC, post_id DESC), which holds each row's status and sort key (migration 0009), then
 * only those posts' rows, by primary key. A tag no post has is one probe of the index; a deep
 * page walks the index's entries, not the posts. Without `status` (a key's listing of every
 * status) the tag's entries are sorted, a tag's worth of index entries, not of posts.
 */
const tagPageStatement = (
  sql: SqlClient.SqlClient,
  columns: string,
  query: Pick<ListQuery, "status" | "asOf"> & { readonly tag: string },
  cursor: Cursor | undefined,
  limit: number,
  offset: number
) => {
  const conditions = [
    sql`t.tag_key = ${tagKey(query.tag)}`,
    ...(query.status === undefined ? [] : [sql`t.status = ${query.status}`]),
    ...(query.asOf === undefined ? [] : [sql`t.sort_at <= ${DateTime.toEpochMillis(query.asOf)}`]),
    ...(cursor === undefined
      ? []
      : [sql`(t.sort_at < ${cursor.at} OR (t.sort_at = ${cursor.at} AND t.post_id < ${cursor.id}))`])
  ]
  // The page's own order again over its rows (a LIMIT's order is not kept by a join).
  return sql`
    SELECT ${sql.literal(columns === "*" ? "posts.*" : columns)} FROM (
      SELECT t.post_id AS tagged_id, t.sort_at AS tagged_at FROM post_tags t WHERE ${sql.and(conditions)}
      ORDER BY t.sort_at DESC, t.post_id DESC
      LIMIT ${limit + 1} OFFSET ${offset}
    ) tagged CROSS JOIN posts WHERE posts.id = tagged.tagged_id
    ORDER BY tagged.tagged_at DESC, tagged.tagged_id DESC
  `
}

/** `nextScheduled`'s query: the first entry past `after` in posts_status_sort_idx. */
export const nextScheduledStatement = (sql: SqlClient.SqlClient, after: DateTime.Utc) =>
  sql<{ readonly sort_at: number | string }>`
    SELECT sort_at FROM posts WHERE status = 'published' AND sort_at > ${DateTime.toEpochMillis(after)}
    ORDER BY sort_at ASC LIMIT 1`

/**
 * `tags`' query: posts per spelling, merged by key in `mergeTagCounts` (a spelling has one key:
 * grouped by both, the groups are the spellings, in post_tags_key_idx's order), read off
 * post_tags alone, whose rows carry their post's status and sort key (migration 0009). Every
 * tag's count scans post_tags_key_idx (tag_key, tag, status, sort_at), covering, in its order (no
 * sort); one tag's count is a range of post_tags_listing_idx (tag_key, status, sort_at, ...,
 * tag), covering. Counting from the posts (each published post, probing its tag rows) took
 * 328-746 ms for `GET /tags` at 100,000 posts; from here, 30-45 ms.
 */
export const tagsStatement = (sql: SqlClient.SqlClient, status?: PostStatus, asOf?: DateTime.Utc, tag?: string) => {
  const conditions = [
    ...(tag === undefined ? [] : [sql`tag_key = ${tagKey(tag)}`]),
    ...(status === undefined ? [] : [sql`status = ${status}`]),
    ...(asOf === undefined ? [] : [sql`sort_at <= ${DateTime.toEpochMillis(asOf)}`])
  ]
  const where = conditions.length === 0 ? sql.literal("") : sql`WHERE ${sql.and(conditions)}`
  return sql<{ readonly tag: string; readonly n: number | string }>`
    SELECT tag, COUNT(*) AS n FROM post_tags ${where} GROUP BY tag_key, tag`
}

/**
 * ` AND sort_at <= asOf` (`ListQuery.asOf`), or nothing without `asOf`. A range on the sort key
 * that the (status, sort_at, id) index serves, as it serves the listing's order.
 */
const dueBy = (sql: SqlClient.SqlClient, asOf: DateTime.Utc | undefined, table = "") =>
  asOf === undefined ? sql.literal("") : sql` AND ${sql.literal(table)}sort_at <= ${DateTime.toEpochMillis(asOf)}`

/**
 * `findByAlias`'s query for an alias key: one probe of post_aliases_alias_idx, joined to its
 * posts by primary key. Of several published posts claiming the alias, the newest in the
 * listing's order (sort_at, then id) wins. CROSS JOIN fixes SQLite's join order (PostgreSQL
 * plans it as any inner join): left free, SQLite walked posts_status_sort_idx to skip the sort,
 * probing every published post.
 */
export const findByAliasStatement = (sql: SqlClient.SqlClient, key: string, asOf?: DateTime.Utc) =>
  sql<{ readonly slug: string }>`
    SELECT p.slug AS slug FROM post_aliases a CROSS JOIN posts p
    WHERE a.alias = ${key} AND p.id = a.post_id AND p.status = 'published'${dueBy(sql, asOf, "p.")}
    ORDER BY p.sort_at DESC, p.id DESC LIMIT 1`

/** bm25's column weights, in post_search's column order (title, tags, body). */
const BM25 = `bm25(post_search, ${SEARCH_WEIGHTS.title}.0, ${SEARCH_WEIGHTS.tags}.0, ${SEARCH_WEIGHTS.body}.0)`

/**
 * PostgreSQL: whether post_search `s` has `phrase` (`tsPhrases`): its pairs side by side, or one
 * of its pairs lost positions there (it has MAX_POSITIONS of them, or MAX_POSITION, which every
 * word past it has), where the phrase may be without them. The pairs' positions are read from the
 * row's tsvector: `setweight` marks theirs C, which `tsvectorText` never writes (A, B, D), and
 * `ts_filter` keeps those; no migration, and only for a row with the pairs but not side by side
 * (an OR's second operand runs only when the first is false). Measured on 3,320 posts of Chinese,
 * 320 of them of 30,000 characters: about 1 ms a long post, 20-40 µs one of 3,000 characters.
 */
const phraseFound = (sql: SqlClient.SqlClient, phrase: TsPhrase) => {
  const pairs = sql.join(", ", false)(phrase.pairs.map((pair) => sql`${pair}`))
  return sql`(s.document @@ ${phrase.query}::tsquery OR EXISTS (
    SELECT 1 FROM unnest(ts_filter(setweight(s.document, 'C', ARRAY[${pairs}]::text[]), '{c}')) u
    WHERE cardinality(u.positions) >= ${sql.literal(String(MAX_POSITIONS))}
      OR ${sql.literal(String(MAX_POSITION))} = ANY(u.positions)))`
}

/**
 * `search`'s query for `terms` (not empty): `limit + 1` matching posts from `offset`, most
 * relevant first, then in the listing's order. The filters are the listing's (`pageStatement`).
 * With a prefix (`SearchTerms.prefix`), the posts that have the word itself come before those
 * with only longer words: "rus" puts a post about the word "rus" before one about Rust.
 *
 * Ranked in two steps: a subquery orders the matches by their ids, rank and sort key alone, and
 * only the page's rows are then read by primary key. Ranking whole rows (`SELECT p.*` through the
 * sort, 5 KB a post) sorted every match's row, skipped ones included: at 100,000 posts,
 * `q=the&offset=27000` took 3.7-4.9 s against 0.26-0.32 s this way, and the first page 0.5 s
 * against 0.15 s. The outer ORDER BY repeats the inner one over the page's rows (a LIMIT's order
 * is not kept by a join), from the values the subquery carries out, so the two agree exactly.
 *
 * SQLite: the FTS5 index (migrations 0005, 0011) finds the matches, each joined to its post through
 * post_search_ids by primary keys (CROSS JOIN fixes that order), ranked by bm25 (lower is
 * better); the filters and the sort key come from posts_id_status_sort_idx (covering), never
 * from a post's row, where they lie past the body in overflow pages (INDEXED BY: without a filter
 * SQLite took the primary key's index and read every match's row, 0.6-1.1 s against 0.2-0.4 s for
 * `q=the` at 100,000 posts). The MATCH string is built by `ftsMatch`, every term quoted: user text is
 * never FTS5 syntax, and each term is a word as the index holds it (`indexedWords`). The prefix is an FTS5 prefix query, without a prefix index (`prefix = '2 3'`
 * would need a migration rebuilding the table): on 10,000 posts of a 60,000-word vocabulary, a
 * two-letter prefix (about 400 words, 9,000 posts) took 12 ms of index work against 6 ms with
 * one, whose index was 2.5 times as large and 60% slower to write; this whole query on the
 * benchmark's 10,000 posts took 25 ms against 20. Longer prefixes cover few words: no difference.
 * Whether a post has the word itself is one more lookup of it in the index (a list built once
 * per query, 1 to 4 ms there).
 *
 * PostgreSQL: each post's stored tsvector (post_search, GIN-indexed, which answers `:*` prefixes
 * too) against `tsQuery(terms)` cast to a tsquery: quoted words, never the reader's text, and never
 * through PostgreSQL's parser, which cut "co₂" to a prefix search for "co" (`tsQuery`); each of
 * its phrases then checked on the rows the index found (`phraseFound`); ranked by
 * ts_rank (higher is better) over the stored tsvectors, never parsing a body at query time.
 * Both take the query as a bound parameter.
 */
export const searchStatement = (
  sql: SqlClient.SqlClient,
  dialect: "sqlite" | "pg",
  query: Pick<SearchQuery, "status" | "tag" | "asOf">,
  terms: SearchTerms,
  limit: number,
  offset: number
) => {
  const filters = postFilters(sql, query, "p")
  const and = filters.length === 0 ? sql.literal("") : sql` AND ${sql.and(filters)}`
  const { prefix } = terms
  // The page's rows by primary key, in the subquery's order (`r`: ranked ids, rank, sort key).
  const page = (ranked: Statement.Fragment, whole: boolean, better: "ASC" | "DESC") => {
    const order = sql.literal(
      `${whole ? "r.whole DESC, " : ""}r.score ${better}, r.sort_at DESC, r.id DESC`
    )
    return sql`
      SELECT posts.* FROM (${ranked}) r CROSS JOIN posts WHERE posts.id = r.id
      ORDER BY ${order}
    `
  }
  const bounds = sql`LIMIT ${limit + 1} OFFSET ${offset}`
  if (dialect === "sqlite") {
    const whole = prefix === undefined
      ? sql.literal("")
      : sql`s.rowid IN (SELECT rowid FROM post_search WHERE post_search MATCH ${ftsPhrase(prefix)}) AS whole, `
    const order = sql.literal(`${prefix === undefined ? "" : "whole DESC, "}score, p.sort_at DESC, p.id DESC`)
    return page(
      sql`
        SELECT p.id AS id, p.sort_at AS sort_at, ${whole}${sql.literal(BM25)} AS score
        FROM post_search s CROSS JOIN post_search_ids m CROSS JOIN posts p INDEXED BY posts_id_status_sort_idx
        WHERE post_search MATCH ${ftsMatch(terms)} AND m.doc = s.rowid AND p.id = m.post_id${and}
        ORDER BY ${order}
        ${bounds}`,
      prefix !== undefined,
      "ASC"
    )
  }
  const text = tsQuery(terms)
  const phrases = tsPhrases(terms).map((phrase) => sql` AND ${phraseFound(sql, phrase)}`)
  const whole = prefix === undefined
    ? sql.literal("")
    : sql`(s.document @@ ${tsWord(prefix)}::tsquery) AS whole, `
  const order = sql.literal(`${prefix === undefined ? "" : "whole DESC, "}score DESC, p.sort_at DESC, p.id DESC`)
  return page(
    sql`
      SELECT p.id AS id, p.sort_at AS sort_at, ${whole}ts_rank(s.document, ${text}::tsquery) AS score
      FROM post_search s JOIN posts p ON p.id = s.post_id
      WHERE s.document @@ ${text}::tsquery${sql.join("", false)(phrases)}${and}
      ORDER BY ${order}
      ${bounds}`,
    prefix !== undefined,
    "DESC"
  )
}

/**
 * No stored slug, tag or alias holds a NUL (processing refuses one, PostgreSQL cannot store one),
 * so a lookup by one finds nothing: answered here, never sent, since PostgreSQL fails any
 * statement given a NUL in text (a 500, or a 503 as if unreachable) where SQLite matched nothing.
 */
const unstorable = (key: string | undefined): boolean => key !== undefined && key.includes(NUL)

export const make: Effect.Effect<PostRepositoryShape, never, DatabasePool> = Effect.gen(function*() {
  const pool = yield* DatabasePool

  const decodeRows = (operation: string) => (rows: ReadonlyArray<unknown>) =>
    Effect.mapError(
      decodePostRows(rows),
      (cause) => new DatabaseError({ operation, cause })
    )

  /** Reads: `rowToPost` per row; the Schema only for a row it could not take. */
  const readRows = (operation: string) => (rows: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<Post>, DatabaseError> => {
    const posts: Array<Post> = []
    for (const row of rows) {
      const post = rowToPost(row)
      if (post === undefined) return decodeRows(operation)(rows)
      posts.push(post)
    }
    return Effect.succeed(posts)
  }

  const toRow = (_operation: string, post: Post) => Effect.sync(() => postToRow(post))

  const selectBySlug = (sql: SqlClient.SqlClient, operation: string, slug: string) =>
    unstorable(slug) ? Effect.succeedNone : sql`SELECT * FROM posts WHERE slug = ${slug}`.pipe(
      Effect.flatMap(decodeRows(operation)),
      Effect.map((posts) => Option.fromNullable(posts[0]))
    )

  const getOrFail = (sql: SqlClient.SqlClient, operation: string, slug: string) =>
    Effect.flatMap(selectBySlug(sql, operation, slug), Option.match({
      onNone: () => Effect.fail(new PostNotFound({ slug })),
      onSome: Effect.succeed
    }))

  /** After a conditional write matched no row: was the post deleted or changed meanwhile? */
  const explainMiss = (sql: SqlClient.SqlClient, operation: string, slug: string, expected: number) =>
    Effect.flatMap(getOrFail(sql, operation, slug), (post) =>
      Effect.fail(new StaleVersion({ slug, expected, actual: post.version })))

  // In chunks, as an import writes them: one INSERT of a post's every row overran SQLite's bound
  // parameters (32,766) from 11,000 tags and PostgreSQL's protocol (65,535) from 22,000.
  const writeTags = (sql: SqlClient.SqlClient, post: Post) =>
    Effect.forEach(Arr.chunksOf(tagRows([post]), ROW_CHUNK), (chunk) => sql`INSERT INTO post_tags ${sql.insert(chunk)}`, { discard: true })

  /** The `post_aliases` rows of `posts`: their alias keys, kept beside the JSON column as tags are. */
  const aliasRows = (posts: ReadonlyArray<Post>) =>
    posts.flatMap((post) => aliasKeysOf(post).map((alias) => ({ post_id: post.id, alias })))

  const writeAliases = (sql: SqlClient.SqlClient, post: Post) =>
    Effect.forEach(Arr.chunksOf(aliasRows([post]), ROW_CHUNK), (chunk) => sql`INSERT INTO post_aliases ${sql.insert(chunk)}`, { discard: true })

  /**
   * The search index's entries for `posts`, whose rows were just written (inserted, or updated: the
   * update's trigger dropped the old entry, migration 0011). Written here, not by a trigger as
   * migration 0005's were: neither engine makes the words every store indexes (`writeSearchEntries`).
   */
  const writeSearch = (sql: SqlClient.SqlClient, posts: ReadonlyArray<Post>) => writeSearchEntries(sql, pool.dialect, posts)

  const insertPost = (sql: SqlClient.SqlClient, operation: string, post: Post) =>
    Effect.gen(function*() {
      const row = yield* toRow(operation, post)
      yield* sql`INSERT INTO posts ${sql.insert(row)}`
      yield* writeSearch(sql, [post])
      yield* writeTags(sql, post)
      yield* writeAliases(sql, post)
      yield* sql`DELETE FROM slug_redirects WHERE slug = ${post.slug}`
    })

  /**
   * `next` took over from `previous`: the slug it left leads to it from now on (a redirect of
   * that slug to another post is replaced), and the slug it took is live, no redirect's.
   */
  const writeRedirect = (sql: SqlClient.SqlClient, previous: Post, next: Post) =>
    previous.slug === next.slug ? Effect.void : Effect.zipRight(
      sql`DELETE FROM slug_redirects WHERE slug = ${next.slug} OR slug = ${previous.slug}`,
      sql`INSERT INTO slug_redirects (slug, post_id) VALUES (${previous.slug}, ${previous.id})`
    )

  /**
   * Old slugs that lead nowhere yet (`UpsertOptions.redirects`): one query for the live slugs and
   * one for the redirected ones per chunk, then one INSERT of the rest. Answers the slugs inserted.
   */
  const writeRedirects = (sql: SqlClient.SqlClient, entries: ReadonlyArray<Redirect>) =>
    Effect.gen(function*() {
      const first = new Map<string, string>()
      for (const { postId, slug } of entries) if (!first.has(slug)) first.set(slug, postId)
      const added: Array<string> = []
      for (const chunk of Arr.chunksOf(Array.from(first.keys()), ROW_CHUNK)) {
        const taken = yield* Effect.all([
          sql<{ readonly slug: string }>`SELECT slug FROM posts WHERE ${sql.in("slug", chunk)}`,
          sql<{ readonly slug: string }>`SELECT slug FROM slug_redirects WHERE ${sql.in("slug", chunk)}`
        ])
        const skip = new Set(taken.flat().map((row) => row.slug))
        const rows = chunk.filter((slug) => !skip.has(slug)).map((slug) => ({ slug, post_id: first.get(slug)! }))
        if (rows.length > 0) yield* sql`INSERT INTO slug_redirects ${sql.insert(rows)}`
        for (const row of rows) added.push(row.slug)
      }
      return added
    })

  /** Writes `next` over the row still at `previous.version`; `false` when it no longer is. */
  const replacePost = (sql: SqlClient.SqlClient, operation: string, previous: Post, next: Post) =>
    Effect.gen(function*() {
      const row = yield* toRow(operation, next)
      const written = yield* sql<{ readonly id: string }>`
        UPDATE posts SET ${sql.update(row, ["id"])}
        WHERE id = ${previous.id} AND version = ${previous.version}
        RETURNING id
      `
      if (written.length === 0) return false
      yield* writeSearch(sql, [next])
      yield* sql`DELETE FROM post_tags WHERE post_id = ${previous.id}`
      yield* writeTags(sql, next)
      yield* sql`DELETE FROM post_aliases WHERE post_id = ${previous.id}`
      yield* writeAliases(sql, next)
      yield* writeRedirect(sql, previous, next)
      return true
    })

  const create = Effect.fn("PostRepository.create")(function*(post: NewPost) {
    const operation = "PostRepository.create"
    const created = yield* buildNew(operation, post, yield* DateTime.now)
    yield* pool.transaction(operation, (sql) =>
      onSlugViolation(insertPost(sql, operation, created), () => new SlugConflict({ slug: post.slug })).pipe(
        Effect.zipRight(beforeCommit(sql, Written.Created({ post: created })))
      ))
    return created
  })

  // The hot read: a plain function rather than `Effect.fn` (whose span and stack frame cost a
  // measurable share of a request that takes ~100 µs), and rows decoded by `rowToPost`.
  const getBySlugOperation = "PostRepository.getBySlug"
  // `pool.read`: on a SQLite file, a prepared statement on the pool's read-only connection.
  const getBySlug = (slug: string): Effect.Effect<Post, PostNotFound | DatabaseError | PoolTimeout> =>
    unstorable(slug) ? Effect.fail(new PostNotFound({ slug })) : Effect.flatMap(
      pool.read(getBySlugOperation, (sql) => sql`SELECT * FROM posts WHERE slug = ${slug}`),
      (rows): Effect.Effect<Post, PostNotFound | DatabaseError> => {
        if (rows.length === 0) return Effect.fail(new PostNotFound({ slug }))
        const post = rowToPost(rows[0])
        return post === undefined
          ? Effect.map(decodeRows(getBySlugOperation)(rows.slice(0, 1)), (posts) => posts[0]!)
          : Effect.succeed(post)
      }
    )

  // The encoded read (SQLite only: `json_object` and its output are SQLite's).
  const getEncodedOperation = "PostRepository.getEncodedBySlug"
  const getEncoded: GetEncoded = (slug) =>
    unstorable(slug) ? Effect.fail(new PostNotFound({ slug })) : Effect.flatMap(
      pool.read(getEncodedOperation, (sql) => sql.unsafe<EncodedRow>(ENCODED_BY_SLUG, [slug])),
      (rows) => rows.length === 0 ? Effect.fail(new PostNotFound({ slug })) : Effect.succeed(encodedRowChecked(rows[0]!))
    )

  /** `list`'s filters, order and page bounds around `columns`. */
  const pageQuery = (query: ListQuery) => Effect.map(cursorOfQuery(query.cursor), (cursor) => {
    const limit = clampLimit(query.limit)
    const offset = cursor === undefined ? clampOffset(query.offset) : 0
    const statement = (sql: SqlClient.SqlClient, columns: string) => pageStatement(sql, columns, query, cursor, limit, offset)
    return { limit, statement }
  })

  const list = Effect.fn("PostRepository.list")(function*(query: ListQuery) {
    const operation = "PostRepository.list"
    const page = yield* pageQuery(query)
    if (unstorable(query.tag)) return { items: [], next: null } satisfies PostPage
    const rows = yield* Effect.flatMap(pool.read(operation, (sql) => page.statement(sql, "*")), readRows(operation))
    const items = rows.slice(0, page.limit)
    const last = items[items.length - 1]
    return { items, next: rows.length > page.limit && last ? encodeCursor(last) : null } satisfies PostPage
  })

  const neighbours = Effect.fn("PostRepository.neighbours")(function*(post: Post, status: PostStatus, asOf?: DateTime.Utc) {
    const operation = "PostRepository.neighbours"
    const at = sortKey(post)
    // One row off the (status, sort_at, id) index, against the listing's order or in it.
    const next = (newer: boolean) => {
      const [beyond, order] = newer ? [">", "ASC"] : ["<", "DESC"]
      return Effect.flatMap(
        pool.read(operation, (sql) => sql`
          SELECT * FROM posts WHERE status = ${status}
            AND (sort_at ${sql.literal(beyond)} ${at} OR (sort_at = ${at} AND id ${sql.literal(beyond)} ${post.id}))${dueBy(sql, asOf)}
          ORDER BY sort_at ${sql.literal(order)}, id ${sql.literal(order)} LIMIT 1`),
        readRows(operation)
      )
    }
    const [newer, older] = yield* Effect.all([next(true), next(false)])
    return { newer: newer[0], older: older[0] } satisfies Neighbours
  })

  // The encoded list (SQLite only, as the encoded read).
  const listEncodedOperation = "PostRepository.listEncoded"
  const listEncoded: ListEncoded = (query) =>
    Effect.flatMap(pageQuery(query), (page) =>
      unstorable(query.tag) ? Effect.succeed(encodedPage([], page.limit)) : Effect.map(
        pool.read(listEncodedOperation, (sql) => page.statement(sql, ENCODED_SUMMARY_COLUMNS)),
        (rows) => encodedPage(rows as unknown as ReadonlyArray<EncodedSummaryRow>, page.limit)
      ))

  const update = Effect.fn("PostRepository.update")(function*(
    slug: string,
    expectedVersion: number,
    post: NewPost,
    expectedHashTag?: string
  ) {
    const operation = "PostRepository.update"
    const now = yield* DateTime.now
    return yield* retryTransientConflicts(pool.transaction(operation, (sql) =>
      Effect.gen(function*() {
        const existing = yield* getOrFail(sql, operation, slug)
        // The write below is by id and version: a post re-created at this slug meanwhile is missed.
        yield* checkExpected(existing, slug, expectedVersion, expectedHashTag)
        const next = yield* buildReplacement(operation, existing, post, now)
        const written = yield* onSlugViolation(
          replacePost(sql, operation, existing, next),
          () => new SlugConflict({ slug: post.slug })
        )
        if (!written) return yield* explainMiss(sql, operation, slug, expectedVersion)
        yield* beforeCommit(sql, Written.Updated({ slug, post: next }))
        return next
      })))
  })

  const delete_ = Effect.fn("PostRepository.delete")(function*(slug: string, expectedVersion?: number, expectedHashTag?: string) {
    const operation = "PostRepository.delete"
    yield* retryTransientConflicts(pool.transaction(operation, (sql) =>
      Effect.gen(function*() {
        const existing = yield* getOrFail(sql, operation, slug)
        yield* checkExpected(existing, slug, expectedVersion, expectedHashTag)
        const versionMatches = expectedVersion === undefined ? sql.literal("1 = 1") : sql`version = ${expectedVersion}`
        // The posts row only: its tags, aliases, redirects and search row go by ON DELETE CASCADE,
        // after it. Every write locks a post's row before its child rows (replacePost updates it
        // first), so a DELETE and a PUT of one post wait for each other in turn, never in a cycle.
        const deleted = yield* sql<{ readonly id: string }>`
          DELETE FROM posts WHERE id = ${existing.id} AND ${versionMatches} RETURNING id
        `
        if (deleted.length === 0) {
          return yield* expectedVersion === undefined
            ? Effect.fail(new PostNotFound({ slug }))
            : explainMiss(sql, operation, slug, expectedVersion)
        }
        // SQLite cascades only under `PRAGMA foreign_keys = ON` (off is SQLite's default), which
        // SqlLive sets but a client built elsewhere (the repository is exported for any SqlClient)
        // need not: without it the post's tags stayed, and were still counted. One writer at a
        // time there, so the order of these deletes holds no lock against another write.
        if (pool.dialect === "sqlite") {
          yield* sql`DELETE FROM post_tags WHERE post_id = ${existing.id}`
          yield* sql`DELETE FROM post_aliases WHERE post_id = ${existing.id}`
          yield* sql`DELETE FROM slug_redirects WHERE post_id = ${existing.id}`
        }
        yield* beforeCommit(sql, Written.Deleted({ slug }))
      })))
  })

  const upsertMany = Effect.fn("PostRepository.upsertMany")(function*(
    posts: ReadonlyArray<NewPost>,
    options?: UpsertOptions
  ) {
    const operation = "PostRepository.upsertMany"
    const policy = options?.onSlugConflict ?? "fail"
    const now = yield* DateTime.now
    // One SELECT for the batch's slugs, new rows written by multi-row INSERTs at the end (or
    // before anything that must see them): per-post round trips cost more than the rows.
    const batch = pool.transaction(operation, (sql) =>
      Effect.gen(function*() {
        const known = new Map<string, Option.Option<Post>>()
        const slugs = Array.from(new Set(posts.map((post) => post.slug)))
        for (const chunk of Arr.chunksOf(slugs, ROW_CHUNK)) {
          const found = yield* sql`SELECT * FROM posts WHERE ${sql.in("slug", chunk)}`.pipe(
            Effect.flatMap(decodeRows(operation))
          )
          for (const post of found) known.set(post.slug, Option.some(post))
        }
        for (const slug of slugs) if (!known.has(slug)) known.set(slug, Option.none())

        let pending: Array<Post> = []
        const flush = Effect.suspend(() => {
          if (pending.length === 0) return Effect.void
          const rows = pending
          pending = []
          const tags = tagRows(rows)
          const aliases = aliasRows(rows)
          return Effect.gen(function*() {
            for (const chunk of Arr.chunksOf(rows, INSERT_CHUNK)) {
              yield* sql`INSERT INTO posts ${sql.insert(chunk.map(postToRow))}`
            }
            yield* writeSearch(sql, rows)
            for (const chunk of Arr.chunksOf(tags, ROW_CHUNK)) yield* sql`INSERT INTO post_tags ${sql.insert(chunk)}`
            for (const chunk of Arr.chunksOf(aliases, ROW_CHUNK)) yield* sql`INSERT INTO post_aliases ${sql.insert(chunk)}`
            // A slug a new post takes is live: no longer a moved post's old address.
            for (const chunk of Arr.chunksOf(rows.map((post) => post.slug), ROW_CHUNK)) {
              yield* sql`DELETE FROM slug_redirects WHERE ${sql.in("slug", chunk)}`
            }
          }).pipe(
            (write) => onSlugViolation(write, (cause) => new WriteRace({ cause })),
            Effect.catchIf(
              (e): e is SqlError.SqlError => e._tag === "SqlError" && isIdViolation(e),
              (cause) => Effect.fail(new WriteRace({ cause }))
            )
          )
        })

        const queue = (post: Post) => {
          pending.push(post)
          known.set(post.slug, Option.some(post))
        }
        const store: UpsertStore<SqlError.SqlError | DatabaseError | WriteRace, never> = {
          findBySlug: (slug) => {
            const cached = known.get(slug)
            return cached !== undefined
              ? Effect.succeed(cached)
              : Effect.tap(selectBySlug(sql, operation, slug), (found) => Effect.sync(() => known.set(slug, found)))
          },
          findBySource: (source) =>
            Effect.zipRight(flush, Effect.flatMap(sql`SELECT * FROM posts WHERE source = ${source}`, decodeRows(operation))),
          // One indexed query (posts_source_idx) per SOURCE_CHUNK spellings: a default batch of 500
          // file posts has 1000 (absolute and legacy relative), so one query per batch.
          slugsOfSources: (sources) =>
            Effect.zipRight(
              flush,
              Effect.map(
                Effect.forEach(Arr.chunksOf(sources, SOURCE_CHUNK), (chunk) =>
                  sql<{ readonly slug: string; readonly source: string }>`SELECT slug, source FROM posts WHERE ${sql.in("source", chunk)}`),
                (chunks) => chunks.flat()
              )
            ),
          slugsOfIds: (ids) =>
            Effect.zipRight(
              flush,
              Effect.map(
                Effect.forEach(Arr.chunksOf(ids, ROW_CHUNK), (chunk) =>
                  sql<{ readonly id: string; readonly slug: string }>`SELECT id, slug FROM posts WHERE ${sql.in("id", chunk)}`),
                (chunks) => chunks.flat()
              )
            ),
          insert: (post) => Effect.sync(() => queue(post)),
          replace: (previous, next) =>
            Effect.zipRight(
              flush,
              onSlugViolation(replacePost(sql, operation, previous, next), (cause) => new WriteRace({ cause }))
            ).pipe(
              Effect.filterOrFail((written) => written, () => new WriteRace({ cause: "row changed during the batch" })),
              Effect.tap(() =>
                Effect.sync(() => {
                  known.set(previous.slug, Option.none())
                  known.set(next.slug, Option.some(next))
                })
              ),
              Effect.asVoid
            ),
          // After a flush, so a post this batch inserts at an old slug is seen live.
          redirect: (entries) => Effect.zipRight(flush, writeRedirects(sql, entries)),
          unsafe: { find: (slug) => known.get(slug), insert: queue }
        }
        const result = yield* upsertAll(store, posts, policy, now, {
          validate: false,
          pinnedSources: options?.pinnedSources,
          redirects: options?.redirects,
          createdAt: options?.createdAt,
          formerSources: options?.formerSources,
          ids: options?.ids
        })
        // Written in a dry run too: the constraints see what the real batch would write.
        yield* flush
        if (options?.dryRun === true) return yield* new DryRunDone({ result })
        yield* beforeCommit(sql, Written.Upserted({ result }))
        return result
      }))
    // Another writer took a slug or changed a row after we read it, or PostgreSQL chose this
    // batch as a deadlock victim (two imports writing overlapping posts in different orders):
    // re-read and re-apply.
    return yield* batch.pipe(
      Effect.catchIf(
        (e): e is DatabaseError => e._tag === "DatabaseError" && isConflict(e.cause),
        (e) => Effect.fail(new WriteRace({ cause: e.cause }))
      ),
      Effect.retry({ while: (e) => e._tag === "WriteRace", schedule: UPSERT_RETRIES }),
      Effect.catchTag("WriteRace", (e) => Effect.fail(new DatabaseError({ operation, cause: e.cause }))),
      // The dry run's batch was rolled back: what it would have done is its answer.
      Effect.catchTag("DryRunDone", (done) => Effect.succeed(done.result))
    )
  })

  const tags = Effect.fn("PostRepository.tags")(function*(status?: PostStatus, asOf?: DateTime.Utc, tag?: string) {
    if (unstorable(tag)) return []
    const rows = yield* pool.read("PostRepository.tags", (sql) => tagsStatement(sql, status, asOf, tag))
    return mergeTagCounts(rows.map((row) => ({ key: tagKey(row.tag), tag: row.tag, count: Number(row.n) })))
  })

  const search = Effect.fn("PostRepository.search")(function*(query: SearchQuery) {
    const operation = "PostRepository.search"
    const terms = searchTerms(query.text)
    const window = searchWindow(query)
    if (findsNothing(terms) || unstorable(query.tag) || window === undefined) return { items: [], more: false } satisfies SearchPage
    const { limit, offset } = window
    const rows = yield* Effect.flatMap(
      pool.read(operation, (sql) => searchStatement(sql, pool.dialect, query, terms, limit, offset)),
      readRows(operation)
    )
    return { items: rows.slice(0, limit), more: window.hasMore(rows.length) } satisfies SearchPage
  })

  const movedFromOperation = "PostRepository.movedFrom"
  const movedFrom = (slug: string): Effect.Effect<Option.Option<Post>, DatabaseError | PoolTimeout> =>
    unstorable(slug) ? Effect.succeedNone : Effect.flatMap(
      pool.read(movedFromOperation, (sql) =>
        sql`SELECT p.* FROM slug_redirects r CROSS JOIN posts p WHERE r.slug = ${slug} AND p.id = r.post_id`),
      (rows) => Effect.map(readRows(movedFromOperation)(rows), (posts) => Option.fromNullable(posts[0]))
    )

  const oldSlugsOperation = "PostRepository.oldSlugs"
  const oldSlugs = (ids: ReadonlyArray<string>): Effect.Effect<ReadonlyMap<string, ReadonlyArray<string>>, DatabaseError | PoolTimeout> =>
    ids.length === 0 ? Effect.succeed(new Map()) : Effect.map(
      Effect.forEach(Arr.chunksOf(ids, ROW_CHUNK), (chunk) =>
        pool.read(oldSlugsOperation, (sql) =>
          sql<{ readonly slug: string; readonly post_id: string }>`
            SELECT slug, post_id FROM slug_redirects WHERE ${sql.in("post_id", chunk)}`)),
      (chunks) => slugsByPost(chunks.flat().map(({ post_id, slug }) => [slug, post_id] as const))
    )

  const findByAliasOperation = "PostRepository.findByAlias"
  const findByAlias = (alias: string, asOf?: DateTime.Utc): Effect.Effect<Option.Option<string>, DatabaseError | PoolTimeout> => {
    const key = aliasKey(alias)
    if (key.length === 0 || unstorable(key)) return Effect.succeed(Option.none())
    return Effect.map(
      pool.read(findByAliasOperation, (sql) => findByAliasStatement(sql, key, asOf)),
      (rows) => Option.map(Option.fromNullable(rows[0]), (row) => row.slug)
    )
  }

  const nextScheduledOperation = "PostRepository.nextScheduled"
  const nextScheduled = (after: DateTime.Utc): Effect.Effect<Option.Option<DateTime.Utc>, DatabaseError | PoolTimeout> =>
    Effect.map(
      pool.read(nextScheduledOperation, (sql) => nextScheduledStatement(sql, after)),
      (rows) => Option.map(Option.fromNullable(rows[0]), (row) => DateTime.unsafeMake(Number(row.sort_at)))
    )

  const sitemapPostsOperation = "PostRepository.sitemapPosts"
  const sitemapPosts = (query: SitemapQuery): Effect.Effect<SitemapPage, DatabaseError | PoolTimeout> => {
    const limit = clampSitemapLimit(query.limit)
    return Effect.flatMap(pool.read(sitemapPostsOperation, (sql) => sitemapStatement(sql, query, limit)), (rows) =>
      Effect.try({
        try: (): SitemapPage => {
          const items = rows.slice(0, limit)
          const last = items[items.length - 1]
          return {
            items: items.map(sitemapRowOf),
            next: rows.length > limit && last !== undefined ? { at: intOf(last.sort_at), id: textOf(last.id) } : null
          }
        },
        catch: (cause) => new DatabaseError({ operation: sitemapPostsOperation, cause })
      }))
  }

  const ping = pool.use("PostRepository.ping", (sql) => sql`SELECT 1`).pipe(
    Effect.asVoid,
    Effect.withSpan("PostRepository.ping")
  )

  const repository: PostRepositoryShape = {
    search,
    create,
    getBySlug,
    list,
    update,
    delete: delete_,
    upsertMany,
    tags,
    ping,
    neighbours,
    findByAlias,
    movedFrom,
    oldSlugs,
    nextScheduled,
    sitemapPosts
  }
  return pool.dialect === "sqlite" ? withListEncoded(withGetEncoded(repository, getEncoded), listEncoded) : repository
})

/** The SQL repository over the DatabasePool in context. Migrations must have run (Migrations.layer). */
export const layer: Layer.Layer<PostRepository, never, DatabasePool> = Layer.effect(PostRepository, make)
