/**
 * Writing a post's search index entry, as the repository does with every write and migration 0011
 * did for the posts stored before it: the words `indexedWords` makes, the same in every store,
 * never an engine's own tokenizer's (Posts/internal/search.ts says why).
 */
import type { SqlClient } from "@effect/sql"
import { Array as Arr, Effect } from "effect"
import { ftsColumns, indexedWords, tsvectorText } from "./search.js"

/** What a post's entry is made of: its id, and the fields searched. */
export interface Searchable {
  readonly id: string
  readonly title: string
  readonly tags: ReadonlyArray<string>
  readonly body: string
}

/**
 * Posts per INSERT into the search index: an entry is about as long as its post's body (a few KB,
 * up to a megabyte), so fewer than the posts table's rows per INSERT.
 */
const SEARCH_CHUNK = 50

/**
 * The entries of `posts`, whose rows are in `posts` already, written over any they had.
 *
 * PostgreSQL: `post_search.document`, the tsvector written out (`tsvectorText`) and cast, never
 * `to_tsvector`: its parser dropped "²" and split or dropped what it did not take for a letter.
 * SQLite: the FTS5 row under the post's `post_search_ids.doc` (its insert trigger made one), each
 * field its words with a space between, which the `ascii` tokenizer splits at and nowhere else (a
 * non-ASCII character is always part of a word to it; an ASCII letter is already lowercase). The
 * entry is not replaced: an update's trigger dropped it (migration 0011).
 */
export const writeSearchEntries = (sql: SqlClient.SqlClient, dialect: "sqlite" | "pg", posts: ReadonlyArray<Searchable>) =>
  Effect.forEach(Arr.chunksOf(posts, SEARCH_CHUNK), (chunk) => {
    const rows = sql.join(", ", false)
    if (dialect === "pg") {
      return sql`
        INSERT INTO post_search (post_id, document)
        VALUES ${rows(chunk.map((post) => sql`(${post.id}, ${tsvectorText(indexedWords(post))}::tsvector)`))}
        ON CONFLICT (post_id) DO UPDATE SET document = EXCLUDED.document`
    }
    const values = chunk.map((post) => {
      const { body, tags, title } = ftsColumns(indexedWords(post))
      return sql`(${post.id}, ${title}, ${tags}, ${body})`
    })
    return sql`
      INSERT INTO post_search (rowid, title, tags, body)
      SELECT m.doc, v.column2, v.column3, v.column4 FROM (VALUES ${rows(values)}) v
      CROSS JOIN post_search_ids m WHERE m.post_id = v.column1`
  }, { discard: true })
