/**
 * Full-text search as every store reads it: what the words of a query are, and how the memory
 * store ranks. Pure functions; the SQL stores turn the same words into their engine's query.
 *
 * A word is a run of letters, digits and combining marks (any script), lowercased. Marks belong
 * to their word: Hindi "हिन्दी", Thai "สวัสดีครับ" or vowelled Arabic are one word each, not their
 * letters apart. Everything else separates words and means nothing: a reader's `"`, `*`, `-`,
 * `NEAR(`, `AND` or `OR` is never query syntax, so no input is a syntax error or reaches an
 * engine as an operator. That is the tokenization of SQLite's unicode61 tokenizer with marks made
 * token characters (migration 0007) and, for ordinary words, of PostgreSQL's parser with the
 * 'simple' configuration. Every store reads the text in NFC, with the two foldings where
 * JavaScript, SQLite and PostgreSQL lowercase differently made the same (`fold`).
 * The last word is also a prefix (`SearchTerms.prefix`): that is the stores' doing, never a `*`
 * or `:*` the reader typed.
 */
import { codePointLength, type Post } from "../../Domain/Post.js"

/**
 * Longest query the API and the reader site take, in code points (`codePointLength`), as the
 * OpenAPI document's `maxLength` counts: a reader's search is a few words; a longer one is a
 * mistake, or an attempt to make the index work.
 */
export const MAX_SEARCH_LENGTH = 200

/**
 * A query's length as MAX_SEARCH_LENGTH counts it: in code points, in NFC, as its words are read
 * (`fold`). Counted as typed, "é" with a combining accent (NFD) was two characters: 150 of them a
 * 400 that the same words in NFC were not.
 */
export const searchLength = (query: string): number => codePointLength(query.normalize("NFC"))

/** Words of a query beyond this are ignored: a reader's query is a few words, not a document. */
const MAX_SEARCH_TERMS = 32

/**
 * Shortest last word (in code points) that also matches longer words beginning with it. 2, not
 * 3: a tech blog's short words ("go", "js", "ui", "ai", "db") are searched for, and the posts
 * with the word itself rank first, so the longer words only add results after them. A single
 * letter or digit would match most posts: it stays a whole word.
 */
export const MIN_PREFIX_LENGTH = 2

const WORD = /[\p{L}\p{N}\p{M}]+/gu

/**
 * How many characters (code points, after NFC) of a post's body every store indexes: PostgreSQL
 * cannot store the tsvector of a body of much more (1 MB of distinct words; a longer one failed
 * the write), and the other stores stop there too, so they find the same words. A body of 200,000
 * characters is a book chapter; a word past it is not found. Migration 0007 writes the same number.
 */
export const MAX_INDEXED_CHARS = 200_000

/**
 * How many characters (code points, after NFC) of a post's tags, as stored (a JSON array), every
 * store indexes: uncapped, the tags of one post could overflow PostgreSQL's tsvector as a body
 * did. Far above what processing lets through (MAX_TAGS tags of TAG_MAX_LENGTH characters): it
 * bounds what a repository's caller may store beside it. Migration 0008 writes the same number.
 */
export const MAX_INDEXED_TAG_CHARS = 50_000

/** `text`'s first `n` code points (`left` in PostgreSQL, `substr` in SQLite). */
const leading = (text: string, n: number): string => {
  if (text.length <= n) return text
  let units = 0
  let points = 0
  while (points < n && units < text.length) {
    units += text.codePointAt(units)! > 0xffff ? 2 : 1
    points++
  }
  return text.slice(0, units)
}

/**
 * `text` in NFC, lowercased, as every store's index has it. JavaScript lowercases "İ" (U+0130)
 * to "i" and a combining dot, which SQLite's tokenizer leaves as it is and PostgreSQL makes "i":
 * it is "i" in all three (SQLite and PostgreSQL are fed the text with it replaced, migration 0007).
 * JavaScript writes a Greek sigma ending a word "ς", PostgreSQL's lower "σ", SQLite folds both to
 * "σ": "σ" in all three (PostgreSQL is fed "ς" as "σ").
 */
const fold = (text: string): string => text.normalize("NFC").replaceAll("İ", "i").toLowerCase().replaceAll("ς", "σ")

/** The words of `text`: folded (`fold`: lowercased the same in every locale, in NFC). */
const wordsOf = (text: string): Array<string> => fold(text).match(WORD) ?? []

/** What a query asks every store to find: a match has all of `words` and, if any, `prefix`. */
export interface SearchTerms {
  /** Words a match must have whole: distinct, in the query's order. */
  readonly words: ReadonlyArray<string>
  /**
   * The query's last word, when it has at least MIN_PREFIX_LENGTH characters: a match has it or
   * a longer word beginning with it, as a reader still typing it expects ("rus" finds "rust").
   * Posts with the word itself rank first. A shorter last word is in `words`.
   */
  readonly prefix: string | undefined
}

const distinct = (words: ReadonlyArray<string>): Array<string> => Array.from(new Set(words))

/** The words of a query (at most MAX_SEARCH_TERMS, the last one a prefix when long enough). */
export const searchTerms = (text: string): SearchTerms => {
  const words = wordsOf(text)
  const last = words.at(-1)
  if (last === undefined || Array.from(last).length < MIN_PREFIX_LENGTH) {
    return { words: distinct(words).slice(0, MAX_SEARCH_TERMS), prefix: undefined }
  }
  return { words: distinct(words.slice(0, -1)).slice(0, MAX_SEARCH_TERMS - 1), prefix: last }
}

/** Whether `terms` has no word at all: nothing to search for (never "everything"). */
export const isEmpty = (terms: SearchTerms): boolean => terms.words.length === 0 && terms.prefix === undefined

/** An engine's query for `terms`: each word as `operand` makes it (the prefix told it is), all ANDed. */
const joined = (terms: SearchTerms, operand: (term: string, prefix: boolean) => string, and: string): string =>
  [...terms.words.map((word) => operand(word, false)), ...(terms.prefix === undefined ? [] : [operand(terms.prefix, true)])]
    .join(and)

/** `term` as an FTS5 string: a phrase, never an operator or column filter (a `"` is doubled). */
const ftsPhrase = (term: string): string => `"${term.replaceAll('"', '""')}"`

/**
 * An FTS5 MATCH expression for `terms` (not empty): each word an `ftsWord`, the prefix one
 * followed by `*` (a prefix query, outside the quotes, so the only `*` there is), joined by AND.
 * Terms from `searchTerms` hold letters, digits and marks only; the quoting is what makes that not matter.
 */
export const ftsMatch = (terms: SearchTerms): string =>
  joined(terms, (term, prefix) => ftsWord(term, prefix ? "*" : ""), " AND ")

/**
 * `word` (in NFC) as an FTS5 phrase, `mark` after it, or its NFD spelling so marked: SQLite has no
 * NFC to index a stored text with, and a row written decomposed by hand ("cafe" and U+0301) would
 * otherwise be found by neither "café" nor the other stores' way. Inkwell writes NFC (processing
 * normalizes title, body and tags), so this is for rows written around it.
 */
export const ftsWord = (word: string, mark: "" | "*"): string => {
  const decomposed = word.normalize("NFD")
  return decomposed === word
    ? `${ftsPhrase(word)}${mark}`
    : `(${ftsPhrase(word)}${mark} OR ${ftsPhrase(decomposed)}${mark})`
}

/** `term` as a quoted tsquery operand: its `'` doubled and its `\` escaped, so no operator or weight. */
const tsOperand = (term: string): string => `'${term.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`

/**
 * The text of PostgreSQL's `to_tsquery` for `terms` (not empty), built from the words, never from
 * what the reader typed: each word a quoted operand, the prefix one marked `:*`, joined by `&`.
 * to_tsquery is needed for the prefix (`plainto_tsquery` has no way to say it); the quoting keeps
 * it from reading anything else as syntax.
 */
export const tsQuery = (terms: SearchTerms): string =>
  joined(terms, (term, prefix) => `${tsOperand(term)}${prefix ? ":*" : ""}`, " & ")

/**
 * Each word of `terms` as a `to_tsquery` text of its own (`tsOperand`), for the statement to check
 * that PostgreSQL's parser keeps something of it. A word it drops ("½") would leave the others to
 * match alone, finding posts without it: such a query finds nothing on PostgreSQL instead. A word
 * it splits ("x²y", "8e88716f": 'x' <-> 'y', a number and a word) is kept: the index holds the
 * post's text split the same way, so the phrase of its parts finds the post with the word (and
 * one with those parts side by side, a rare extra, rather than nothing).
 */
export const tsOperands = (terms: SearchTerms): Array<string> =>
  [...terms.words, ...(terms.prefix === undefined ? [] : [terms.prefix])].map(tsOperand)

/**
 * How much a title, a tag and the body weigh in a match, in every store: a word in the title
 * says most about what a post is, a tag (chosen by its author) next, the body least. SQLite's
 * bm25 takes these as column weights; PostgreSQL's ts_rank reads them as the tsvector weights
 * A, B and D, whose defaults (1.0, 0.4, 0.1) keep the same order.
 */
export const SEARCH_WEIGHTS = { title: 10, tags: 5, body: 1 } as const

/** Occurrences of `term` in `words`: whole, or (`prefix`) as the start of a word too. */
const count = (words: ReadonlyArray<string>, term: string, prefix: boolean): number => {
  let n = 0
  for (const word of words) if (prefix ? word.startsWith(term) : word === term) n++
  return n
}

/** How the memory store ranks a match: posts with the prefix word whole first, then by `score`. */
export interface Relevance {
  /** The post has the query's prefix word itself, not only longer words (true without a prefix). */
  readonly whole: boolean
  readonly score: number
}

type Searched = Pick<Post, "title" | "body" | "tags">

interface PostWords {
  readonly title: ReadonlyArray<string>
  readonly tags: ReadonlyArray<string>
  readonly body: ReadonlyArray<string>
}

/**
 * Each post's words, split once per post object rather than on every search: a stored post is
 * never changed in place (a write stores a new object), so a post's words are its own for as long
 * as it is kept, and go with it.
 */
const splitPosts = new WeakMap<Searched, PostWords>()

/** The words of a post's tags as every store indexes them: cut as the SQL stores cut their column, the JSON array (its quotes and commas are no words). */
const tagWordsOf = (tags: ReadonlyArray<string>): Array<string> => {
  const stored = JSON.stringify(tags)
  return stored.length <= MAX_INDEXED_TAG_CHARS ? tags.flatMap(wordsOf) : wordsOf(leading(stored.normalize("NFC"), MAX_INDEXED_TAG_CHARS))
}

const wordsOfPost = (post: Searched): PostWords => {
  const known = splitPosts.get(post)
  if (known !== undefined) return known
  const words: PostWords = {
    title: wordsOf(post.title),
    tags: tagWordsOf(post.tags),
    // NFC before the cut (as the SQL stores index it), then `wordsOf`'s fold, whose NFC of an NFC
    // text is a quick check, not a second copy of the body.
    body: wordsOf(leading(post.body.normalize("NFC"), MAX_INDEXED_CHARS))
  }
  splitPosts.set(post, words)
  return words
}

/**
 * The memory store's relevance of `post` for `terms`: undefined when a term is missing (every
 * term must be there, as in the SQL stores), else the sum over terms of their occurrences in the
 * title, tags and body (for the prefix, of the words beginning with it), weighted by
 * SEARCH_WEIGHTS. No length normalization or term rarity (bm25 and ts_rank have some): the
 * memory store is for tests and embedding, and agrees with the SQL stores on which posts match,
 * on whole prefix words first and on title before tag before body.
 */
export const scoreOf = (post: Searched, terms: SearchTerms): Relevance | undefined => {
  const { body, tags, title } = wordsOfPost(post)
  const weighed = (term: string, prefix: boolean) =>
    SEARCH_WEIGHTS.title * count(title, term, prefix) + SEARCH_WEIGHTS.tags * count(tags, term, prefix) +
    SEARCH_WEIGHTS.body * count(body, term, prefix)
  let score = 0
  for (const term of terms.words) {
    const found = weighed(term, false)
    if (found === 0) return undefined
    score += found
  }
  if (terms.prefix === undefined) return { whole: true, score }
  const found = weighed(terms.prefix, true)
  if (found === 0) return undefined
  return { whole: weighed(terms.prefix, false) > 0, score: score + found }
}

/** Most relevant first: whole prefix word before a longer one only, then the higher score. */
export const byRelevance = (a: Relevance, b: Relevance): number => Number(b.whole) - Number(a.whole) || b.score - a.score
