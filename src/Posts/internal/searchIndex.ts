/**
 * Writing a post's search index entry, as the repository does with every write and migration 0011
 * did for the posts stored before it: the words `indexedWords` makes, the same in every store,
 * never an engine's own tokenizer's (Posts/internal/search.ts says why).
 */
import type { SqlClient, SqlError, Statement } from "@effect/sql"
import { Effect } from "effect"
import { yieldWhenBusy } from "../../Domain/yieldToEventLoop.js"
import { ftsColumns, indexedWords, tsvectorText } from "./search.js"

/** What a post's entry is made of: its id, and the fields searched. */
export interface Searchable {
  readonly id: string
  readonly title: string
  readonly tags: ReadonlyArray<string>
  readonly body: string
}

/**
 * Most posts per INSERT into the search index: an entry is about as long as its post's body (a
 * few KB, up to a megabyte), so fewer than the posts table's rows per INSERT.
 */
const SEARCH_CHUNK = 50

/**
 * About the most characters of entries per INSERT (the last post's may take it past, by at most
 * one entry: about 1 MB, MAX_INDEX_BYTES). Fifty posts of 200,000 characters of Chinese were one
 * INSERT of 50 MB of text, their words all held at once for it: past `inkwell import`'s heap. On
 * SQLite the INSERT holds the thread while FTS5 indexes it, about 0.1 s per 100,000 characters of
 * words measured here: three such posts together held it for a second.
 */
const SEARCH_SLICE_CHARS = 200_000

/** A post's entry as a row of the INSERT, and its length in characters. */
interface Entry {
  readonly row: Statement.Fragment
  readonly chars: number
}

/** `post`'s entry: its words made (`indexedWords`) and written out, then let go. */
const entryOf = (sql: SqlClient.SqlClient, dialect: "sqlite" | "pg", post: Searchable): Entry => {
  const words = indexedWords(post)
  if (dialect === "pg") {
    const document = tsvectorText(words)
    return { row: sql`(${post.id}, ${document}::tsvector)`, chars: document.length }
  }
  const { body, tags, title } = ftsColumns(words)
  return { row: sql`(${post.id}, ${title}, ${tags}, ${body})`, chars: title.length + tags.length + body.length }
}

/**
 * The INSERT of `entries`, after a turn of the event loop if the thread has been busy: SQLite's
 * (synchronous) takes about as long as making the words did.
 */
const insert = (sql: SqlClient.SqlClient, dialect: "sqlite" | "pg", entries: ReadonlyArray<Entry>) => {
  const rows = sql.join(", ", false)(entries.map((entry) => entry.row))
  return Effect.zipRight(yieldWhenBusy, dialect === "pg"
    ? sql`
        INSERT INTO post_search (post_id, document)
        VALUES ${rows}
        ON CONFLICT (post_id) DO UPDATE SET document = EXCLUDED.document`
    : sql`
        INSERT INTO post_search (rowid, title, tags, body)
        SELECT m.doc, v.column2, v.column3, v.column4 FROM (VALUES ${rows}) v
        CROSS JOIN post_search_ids m WHERE m.post_id = v.column1`)
}

/**
 * The entries of `posts`, whose rows are in `posts` already, written over any they had: a post's
 * words made and written out one post at a time, the event loop given its turn between two when
 * the thread has been busy (`yieldWhenBusy`: a post of 200,000 characters of Chinese takes a few
 * hundred milliseconds), and INSERTed SEARCH_CHUNK posts or about SEARCH_SLICE_CHARS at a time,
 * so only those entries are held. Made fifty at a time in one go, they held the server for 15 s
 * and took `inkwell import` past its heap.
 *
 * PostgreSQL: `post_search.document`, the tsvector written out (`tsvectorText`) and cast, never
 * `to_tsvector`: its parser dropped "²" and split or dropped what it did not take for a letter.
 * SQLite: the FTS5 row under the post's `post_search_ids.doc` (its insert trigger made one), each
 * field its words with a space between, which the `ascii` tokenizer splits at and nowhere else (a
 * non-ASCII character is always part of a word to it; an ASCII letter is already lowercase). The
 * entry is not replaced: an update's trigger dropped it (migration 0011).
 */
export const writeSearchEntries = (sql: SqlClient.SqlClient, dialect: "sqlite" | "pg", posts: ReadonlyArray<Searchable>) =>
  Effect.gen(function*() {
    let slice: Array<Entry> = []
    let chars = 0
    for (const post of posts) {
      yield* yieldWhenBusy
      const entry = entryOf(sql, dialect, post)
      slice.push(entry)
      chars += entry.chars
      if (slice.length >= SEARCH_CHUNK || chars >= SEARCH_SLICE_CHARS) {
        yield* insert(sql, dialect, slice)
        slice = []
        chars = 0
      }
    }
    if (slice.length > 0) yield* insert(sql, dialect, slice)
  })

/** Posts whose sizes are read at a time, in id order. */
const REINDEX_PAGE = 200

/**
 * About the most characters of posts (title, tags and body) read at a time (more only for one
 * longer post): their entries are written before the next are read. A page of two hundred posts
 * of 600 KB was 120 MB at once.
 */
const REINDEX_READ_CHARS = 1_000_000

interface StoredRow {
  readonly id: string
  readonly title: string
  readonly tags: string
  readonly body: string
}

/** The stored tags (a JSON array); a text that is none (written by hand) is indexed as one tag. */
const tagsOf = (stored: string): ReadonlyArray<string> => {
  try {
    const parsed: unknown = JSON.parse(stored)
    return Array.isArray(parsed) && parsed.every((tag) => typeof tag === "string") ? parsed : [stored]
  } catch {
    return [stored]
  }
}

/** `sized` in runs of consecutive posts of about REINDEX_READ_CHARS at most (one post however long). */
const readRuns = (sized: ReadonlyArray<{ readonly id: string; readonly chars: number }>): Array<Array<string>> => {
  const runs: Array<Array<string>> = []
  let chars = Infinity
  for (const { chars: n, id } of sized) {
    if (chars + Number(n) > REINDEX_READ_CHARS) {
      runs.push([])
      chars = 0
    }
    runs.at(-1)!.push(id)
    chars += Number(n)
  }
  return runs
}

/**
 * Every stored post's entry written again (`writeSearchEntries`), a migration's work when the
 * words change: posts read in id order, a page of their sizes at a time, then the posts of the
 * page in runs of about REINDEX_READ_CHARS.
 */
export const rewriteSearchIndex = (sql: SqlClient.SqlClient, dialect: "sqlite" | "pg") =>
  Effect.iterate<string | undefined, string, never, SqlError.SqlError>("", {
    while: (after): after is string => after !== undefined,
    body: (after) =>
      Effect.gen(function*() {
        const sized = yield* sql<{ readonly id: string; readonly chars: number }>`
          SELECT id, length(title) + length(tags) + length(body) AS chars
          FROM posts WHERE id > ${after} ORDER BY id LIMIT ${REINDEX_PAGE}`
        for (const ids of readRuns(sized)) {
          const rows = yield* sql<StoredRow>`SELECT id, title, tags, body FROM posts WHERE ${sql.in("id", ids)}`
          const posts = rows.map((row): Searchable => ({ id: row.id, title: row.title, tags: tagsOf(row.tags), body: row.body }))
          yield* writeSearchEntries(sql, dialect, posts)
        }
        return sized.length < REINDEX_PAGE ? undefined : sized[sized.length - 1]!.id
      })
  }).pipe(Effect.asVoid)
