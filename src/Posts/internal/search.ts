/**
 * Full-text search as every store reads it: what the words of a query are, and how the memory
 * store ranks. Pure functions; the SQL stores turn the same words into their engine's query.
 *
 * A word is a run of letters and digits (any script), lowercased. Everything else separates
 * words and means nothing: a reader's `"`, `*`, `-`, `NEAR(`, `AND` or `OR` is never query
 * syntax, so no input is a syntax error or reaches an engine as an operator. That is the
 * tokenization of SQLite's unicode61 tokenizer (letters and digits are token characters, case
 * folded) and, for ordinary words, of PostgreSQL's parser with the 'simple' configuration.
 */
import type { Post } from "../../Domain/Post.js"

/**
 * Longest query the API and the reader site take (in UTF-16 code units, as `String.length`): a
 * reader's search is a few words; a longer one is a mistake, or an attempt to make the index work.
 */
export const MAX_SEARCH_LENGTH = 200

/** Words of a query beyond this are ignored: a reader's query is a few words, not a document. */
const MAX_SEARCH_TERMS = 32

const WORD = /[\p{L}\p{N}]+/gu

/** The words of `text`: lowercased (JavaScript's `toLowerCase`, the same in every locale), in NFC. */
const wordsOf = (text: string): Array<string> => text.normalize("NFC").toLowerCase().match(WORD) ?? []

/** The distinct words of a query, in order, at most MAX_SEARCH_TERMS. Empty: nothing to search for. */
export const searchTerms = (text: string): ReadonlyArray<string> => Array.from(new Set(wordsOf(text))).slice(0, MAX_SEARCH_TERMS)

/**
 * An FTS5 MATCH expression for `terms`: each a double-quoted string (an FTS5 string is a phrase,
 * never an operator or column filter; a `"` inside is doubled), joined by spaces, which FTS5
 * reads as AND. Terms from `searchTerms` hold letters and digits only; the quoting is what makes
 * that not matter.
 */
export const ftsMatch = (terms: ReadonlyArray<string>): string => terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(" ")

/**
 * How much a title, a tag and the body weigh in a match, in every store: a word in the title
 * says most about what a post is, a tag (chosen by its author) next, the body least. SQLite's
 * bm25 takes these as column weights; PostgreSQL's ts_rank reads them as the tsvector weights
 * A, B and D, whose defaults (1.0, 0.4, 0.1) keep the same order.
 */
export const SEARCH_WEIGHTS = { title: 10, tags: 5, body: 1 } as const

const count = (words: ReadonlyArray<string>, term: string): number => {
  let n = 0
  for (const word of words) if (word === term) n++
  return n
}

/**
 * The memory store's relevance of `post` for `terms`: 0 when a term is missing (every term must
 * be there, as in the SQL stores), else the sum over terms of their occurrences in the title,
 * tags and body, weighted by SEARCH_WEIGHTS. No length normalization or term rarity (bm25 and
 * ts_rank have some): the memory store is for tests and embedding, and agrees with the SQL
 * stores on which posts match and on title before tag before body.
 */
export const scoreOf = (post: Pick<Post, "title" | "body" | "tags">, terms: ReadonlyArray<string>): number => {
  const title = wordsOf(post.title)
  const tags = post.tags.flatMap(wordsOf)
  const body = wordsOf(post.body)
  let score = 0
  for (const term of terms) {
    const found = SEARCH_WEIGHTS.title * count(title, term) + SEARCH_WEIGHTS.tags * count(tags, term) +
      SEARCH_WEIGHTS.body * count(body, term)
    if (found === 0) return 0
    score += found
  }
  return score
}
