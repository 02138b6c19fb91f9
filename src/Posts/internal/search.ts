/**
 * Full-text search as every store reads it: what the words of a post and of a query are, and how
 * the memory store ranks. Pure functions. The SQL stores index the words made here
 * (`indexedWords`: SQLite as space-separated text under FTS5's `ascii` tokenizer, PostgreSQL as a
 * tsvector written out, `tsvectorText`) and look them up as made here (`ftsMatch`, `tsQuery`):
 * neither engine's own tokenizer decides what a word is. Left to them they disagreed: PostgreSQL's
 * parser dropped "²" from "co₂" and searched the prefix "co" (every post), SQLite's Unicode tables
 * are older than JavaScript's and left Cherokee or Georgian capitals unfolded, and neither splits
 * Chinese, Japanese or Thai, written without spaces.
 *
 * A text is read in NFKC, lowercased (`fold`): "²" is "2", "①" is "1", "ﬁ" is "fi", a fullwidth
 * "Ａ" is "a", "Ꭰ" is "ꭰ". A word is then a run of letters, digits and combining marks (any
 * script): Hindi "हिन्दी" or vowelled Arabic is one word, not its letters apart. Everything else
 * separates words and means nothing: a reader's `"`, `*`, `-`, `NEAR(`, `AND` or `OR` is never
 * query syntax, so no input is a syntax error or reaches an engine as an operator.
 *
 * In scripts written without spaces between words (`SPACELESS`: Chinese, Japanese, Thai and their
 * neighbours), a word's run of such letters is indexed as each of its characters and each pair of
 * neighbours (`runTokens`), and a query's run as its pairs (or its one character): "编程" finds
 * "我们今天学习Rust编程语言", any part of a run finds it. A run of three or more characters is
 * also a phrase (`SearchTerms.phrases`): its pairs side by side, not only somewhere in the post
 * ("東京都" is not "東京" here and "京都" there). A dictionary's segmentation
 * (`Intl.Segmenter`) would cut a query and a sentence differently: it splits "编程" alone as
 * 编|程, and "我在" (I am at) as one word where a reader searches "在".
 *
 * The last word is also a prefix (`SearchTerms.prefix`): that is the stores' doing, never a `*`
 * or `:*` the reader typed.
 */
import { Buffer } from "node:buffer"
import { codePointLength, type Post } from "../../Domain/Post.js"

/**
 * Longest query the API and the reader site take, in code points (`codePointLength`), as the
 * OpenAPI document's `maxLength` counts: a reader's search is a few words; a longer one is a
 * mistake, or an attempt to make the index work.
 */
export const MAX_SEARCH_LENGTH = 200

/**
 * A query's length as MAX_SEARCH_LENGTH counts it: in code points, in NFC. Counted as typed, "é"
 * with a combining accent (NFD) was two characters: 150 of them a 400 that the same words in NFC
 * were not. (Not in NFKC: one "ﷺ" is 18 characters there.)
 */
export const searchLength = (query: string): number => codePointLength(query.normalize("NFC"))

/**
 * Most words (distinct, as `searchWords` counts them) a query the API and the reader site take
 * may have: every one is looked up in the index and must be in a match, so a reader's search is a
 * few; more is a pasted text or an attempt to make the index work. A query with more is refused
 * (400 naming `q`), never cut: a word ignored silently found posts without it.
 */
export const MAX_SEARCH_WORDS = 32

/**
 * Shortest last word (in code points) that also matches longer words beginning with it. 2, not
 * 3: a tech blog's short words ("go", "js", "ui", "ai", "db") are searched for, and the posts
 * with the word itself rank first, so the longer words only add results after them. A single
 * letter or digit would match most posts: it stays a whole word.
 */
export const MIN_PREFIX_LENGTH = 2

const WORD = /[\p{L}\p{N}\p{M}]+/gu

/**
 * Letters of the scripts written without spaces between words (and the marks, iteration and
 * length signs they share, by script extension): Han, kana, Bopomofo, Yi, Thai, Lao, Khmer,
 * Myanmar and the Tai scripts. Korean is written with spaces: its words are words.
 */
const SPACELESS = "\\p{scx=Han}\\p{scx=Hira}\\p{scx=Kana}\\p{scx=Bopo}\\p{scx=Yi}\\p{scx=Thai}\\p{scx=Laoo}" +
  "\\p{scx=Khmr}\\p{scx=Mymr}\\p{scx=Tale}\\p{scx=Talu}\\p{scx=Lana}\\p{scx=Tavt}"
const HAS_SPACELESS = new RegExp(`[${SPACELESS}]`, "u")
/** A word's parts: a run of spaceless letters (with the marks on them), or a run of anything else. */
const PART = new RegExp(`(?:[${SPACELESS}]\\p{M}*)+|[^${SPACELESS}]+`, "gu")
/** A run's characters: each with the marks on it (a Thai vowel or tone mark, a voicing mark). */
const CHARACTER = /\P{M}\p{M}*|\p{M}+/gu

/**
 * Longest word (UTF-8 bytes) a store indexes: PostgreSQL refuses a longer lexeme ("word is too
 * long"), and its parser skipped one, so every store leaves it out (a run of 2,047 bytes without
 * a separator is no word anyone searches for).
 */
const MAX_WORD_BYTES = 2046

/**
 * How many characters (code points, after NFC) of a post's body every store indexes: a body of
 * 200,000 characters is a book chapter; a word past it is not found. Migration 0007 wrote the
 * same number. (`MAX_INDEX_BYTES` bounds the words taken from it too.)
 */
export const MAX_INDEXED_CHARS = 200_000

/**
 * How many characters (code points, after NFC) of a post's tags, as stored (a JSON array), every
 * store indexes: whole tags, while the array up to them fits. Far above what processing lets
 * through (MAX_TAGS tags of TAG_MAX_LENGTH characters): it bounds what a repository's caller may
 * store beside it. Migration 0008 wrote the same number.
 */
export const MAX_INDEXED_TAG_CHARS = 50_000

/**
 * Most a post's index may hold, in bytes as PostgreSQL sizes a tsvector (each distinct word, 2-byte
 * aligned, with 2 bytes for its count of positions and 2 per position, at most 256 of them: its
 * `MAXSTRPOS`, 1 MB): it refuses a larger one ("string is too long for tsvector"), failing the
 * write, and a post's words are taken in order (title, tags, body) until the next would not fit,
 * in every store. Only a very long post reaches it: 200,000 characters of English take about a
 * sixth; of Chinese, each character and pair a word, about twice what fits.
 */
const MAX_INDEX_BYTES = 1_048_575
/** Most positions PostgreSQL keeps of one word in a tsvector (`tsvectorText` keeps its first ones). */
export const MAX_POSITIONS = 256

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
 * Characters that separate words (no letter, digit or mark) and have a compatibility form
 * (`fold`'s NFKC) with letters or digits in it: symbols ("™" is "TM", "№" is "No", "㎏" is "kg",
 * "℃" is "°C", "㍻" is "平成"). None is ASCII: every ASCII character is its own NFKC form.
 */
const SEPARATOR = /[^\p{L}\p{N}\p{M}\s\0-\x7f]/gu

/** A separator as its NFKC form with a space either side, so that it still separates. */
const apart = (separator: string): string => {
  const plain = separator.normalize("NFKC")
  return plain === separator ? separator : ` ${plain} `
}

/**
 * `text` as every store reads it: in NFKC (compatibility forms as their plain letters and digits),
 * lowercased. A separator's plain form stands apart from the words beside it (`apart`): NFKC alone
 * made "reasons™" the word "reasonstm" and "№5" "no5", found by neither "reasons" nor "5". A
 * letter's or digit's stays part of its word ("co₂" is "co2", "ﬁle" is "file"). JavaScript
 * lowercases "İ" (U+0130) to "i" and a combining dot: it is "i". It writes a Greek sigma ending a
 * word "ς", elsewhere "σ": "σ" wherever it is, so "ΟΔΟΣ" and "οδος" are one word. Lowercased by
 * JavaScript's (current) Unicode tables, in the index as in the query: SQLite's older ones left
 * "Ꭰ", Georgian "Ა" or Adlam "𞤀" as they were while the query had them lowercased.
 */
const fold = (text: string): string =>
  text.replace(SEPARATOR, apart).normalize("NFKC").replaceAll("İ", "i").toLowerCase().replaceAll("ς", "σ")

/** Whether `word` is past MAX_WORD_BYTES (a UTF-16 unit is at most 3 bytes of UTF-8: most words need no count). */
const tooLong = (word: string): boolean => word.length * 3 > MAX_WORD_BYTES && Buffer.byteLength(word) > MAX_WORD_BYTES

/** A word of one or two UTF-16 units as a number (its units; never 0), else 0. */
const keyOf = (word: string): number =>
  word.length === 1 ? word.charCodeAt(0) : word.length === 2 ? word.charCodeAt(0) * 0x10000 + word.charCodeAt(1) : 0

/**
 * Each distinct word's slot: 0, 1, 2... in the order first added. A word of one or two UTF-16
 * units (a spaceless character, a pair of them, a short word) is keyed by its units in a table of
 * numbers, any other in a Map. A Map of strings was most of the time a post of Chinese took to
 * index: its hundred thousand characters and pairs are as many new strings to hash.
 */
class WordSlots {
  private bits = 10
  private keys = new Uint32Array(1 << this.bits)
  private slots = new Int32Array(1 << this.bits)
  private keyed = 0
  private readonly others = new Map<string, number>()
  /** Slots given. */
  size = 0

  /** `word`'s slot, or -1. */
  find(word: string): number {
    const key = keyOf(word)
    if (key === 0) return this.others.get(word) ?? -1
    const at = this.placeOf(key)
    return this.keys[at] === 0 ? -1 : this.slots[at]!
  }

  /** Gives `word` (not added yet) the next slot. */
  add(word: string): number {
    const key = keyOf(word)
    if (key === 0) {
      this.others.set(word, this.size)
    } else {
      if (++this.keyed * 2 > this.keys.length) this.grow()
      const at = this.placeOf(key)
      this.keys[at] = key
      this.slots[at] = this.size
    }
    return this.size++
  }

  /** Where `key` is in the table, or the empty place it goes (open addressing, probed in order). */
  private placeOf(key: number): number {
    const mask = this.keys.length - 1
    let at = Math.imul(key, 0x9e3779b1) >>> (32 - this.bits)
    while (this.keys[at] !== 0 && this.keys[at] !== key) at = (at + 1) & mask
    return at
  }

  private grow(): void {
    const keys = this.keys
    const slots = this.slots
    this.bits++
    this.keys = new Uint32Array(1 << this.bits)
    this.slots = new Int32Array(1 << this.bits)
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === 0) continue
      const at = this.placeOf(keys[i]!)
      this.keys[at] = keys[i]!
      this.slots[at] = slots[i]!
    }
  }
}

/**
 * The words a post's index takes, in order (title, tags, body), until the next would outgrow
 * MAX_INDEX_BYTES as PostgreSQL sizes a tsvector (each distinct word, 2-byte aligned, with 2 bytes
 * for its count of positions and 2 per position, at most MAX_POSITIONS of them): that word and
 * every later one are left out, in every store. The text past it is never split: 200,000
 * characters of Chinese make twice the words that fit, and splitting them all then cutting took
 * most of an import's time.
 *
 * Sized only once it could be full: until the words taken would take MAX_INDEX_BYTES at 3 bytes
 * a character and 5 more each (more than any word takes), none is counted; past that, the words
 * taken so far are counted once, then every next one.
 */
class IndexWords {
  readonly title: Array<string> = []
  readonly tags: Array<string> = []
  readonly body: Array<string> = []
  /** A word would not fit: nothing more is taken. */
  private full = false
  private bound = 0
  private size = 0
  /** Each word taken, once sized, and its positions (MAX_POSITIONS at most are sized) by slot. */
  private seen: WordSlots | undefined
  private readonly positions: Array<number> = []

  /** Takes `word` into `field` if it fits; false when it does not (and nothing more will). */
  take(field: Array<string>, word: string): boolean {
    if (this.full) return false
    if (this.seen === undefined) {
      this.bound += word.length * 3 + 5
      if (this.bound <= MAX_INDEX_BYTES) {
        field.push(word)
        return true
      }
      this.seen = new WordSlots()
      for (const taken of [this.title, this.tags, this.body]) for (const known of taken) this.add(known)
    }
    if (!this.add(word)) {
      this.full = true
      return false
    }
    field.push(word)
    return true
  }

  /** Counts `word` in the size if it fits. */
  private add(word: string): boolean {
    const slot = this.seen!.find(word)
    const n = slot === -1 ? 0 : this.positions[slot]!
    const cost = slot === -1 ? ((Buffer.byteLength(word) + 1) & ~1) + 4 : n < MAX_POSITIONS ? 2 : 0
    if (this.size + cost > MAX_INDEX_BYTES) return false
    this.size += cost
    if (slot === -1) this.positions[this.seen!.add(word)] = 1
    else this.positions[slot] = n + 1
    return true
  }
}

/** Where a post's words go (`IndexWords.take`): false once it takes no more. */
type Into = (word: string) => boolean

/** A run's index entries: each character, and each pair of neighbours, in reading order. */
const runTokens = (run: string, into: Into): boolean => {
  const characters = run.match(CHARACTER)!
  for (let i = 0; i < characters.length; i++) {
    if (!tooLong(characters[i]!) && !into(characters[i]!)) return false
    if (i + 1 < characters.length) {
      const pair = characters[i]! + characters[i + 1]!
      if (!tooLong(pair) && !into(pair)) return false
    }
  }
  return true
}

/** A run as a query looks it up: its pairs, all of which a match has (or its one character). */
const runTerms = (characters: ReadonlyArray<string>): ReadonlyArray<string> =>
  characters.length === 1 ? characters : characters.slice(1).map((character, i) => characters[i]! + character)

/**
 * A run of three or more characters as `runTokens` wrote it where it stands: its pairs with the
 * characters between them (東京都: 東京 京 京都), consecutive words of one field. Where its pairs
 * lie apart, something else lies between them: a run's first word is a character, never a pair,
 * so neither a separator nor the end of a field can join two pairs into it.
 */
const runPhrase = (characters: ReadonlyArray<string>): ReadonlyArray<string> =>
  characters.slice(1).flatMap((character, i) =>
    i === 0 ? [characters[0]! + character] : [characters[i]!, characters[i]! + character]
  )

/** A word's parts: itself, or its runs of spaceless letters and what lies between them. */
const partsOf = (word: string): ReadonlyArray<string> => (HAS_SPACELESS.test(word) ? word.match(PART)! : [word])
const isRun = (part: string): boolean => HAS_SPACELESS.test(part)

/**
 * The words of `text` as the index holds them, in reading order (repeated as often as they occur),
 * each given to `into` until it takes no more: false then.
 */
const tokensOf = (text: string, into: Into): boolean => {
  const folded = fold(text)
  const words = folded.match(WORD) ?? []
  // Most texts have no spaceless letter: asked once of the text, not of each word.
  if (!HAS_SPACELESS.test(folded)) {
    for (const word of words) if (!tooLong(word) && !into(word)) return false
    return true
  }
  for (const word of words) {
    for (const part of partsOf(word)) {
      if (isRun(part) ? !runTokens(part, into) : !tooLong(part) && !into(part)) return false
    }
  }
  return true
}

/** What the stores index of a post: its words, field by field, in reading order. */
export interface IndexedWords {
  readonly title: ReadonlyArray<string>
  readonly tags: ReadonlyArray<string>
  readonly body: ReadonlyArray<string>
}

/** The tags every store indexes: whole ones, in order, while the stored JSON array up to them holds MAX_INDEXED_TAG_CHARS. */
const indexedTags = (tags: ReadonlyArray<string>): ReadonlyArray<string> => {
  let length = 1 // "["
  for (let i = 0; i < tags.length; i++) {
    // The tag quoted, and the comma or "]" after it.
    length += codePointLength(JSON.stringify(tags[i]!).normalize("NFC")) + 1
    if (length > MAX_INDEXED_TAG_CHARS) return tags.slice(0, i)
  }
  return tags
}

/**
 * The words every store indexes for a post: its title's, its tags' (`indexedTags`) and its body's
 * first MAX_INDEXED_CHARS characters', within MAX_INDEX_BYTES (`IndexWords`). The SQL stores write
 * them with the post (SqlPostRepository), the memory store counts them (`scoreOf`).
 */
export const indexedWords = (post: { readonly title: string; readonly tags: ReadonlyArray<string>; readonly body: string }): IndexedWords => {
  const words = new IndexWords()
  const into = (field: Array<string>): Into => (word) => words.take(field, word)
  // NFC before the cut (as migration 0007 cut it), then `fold`'s NFKC.
  void (tokensOf(post.title, into(words.title)) &&
    indexedTags(post.tags).every((tag) => tokensOf(tag, into(words.tags))) &&
    tokensOf(leading(post.body.normalize("NFC"), MAX_INDEXED_CHARS), into(words.body)))
  return { title: words.title, tags: words.tags, body: words.body }
}

/** What a query asks every store to find: a match has all of `words`, each of `phrases` and, if any, `prefix`. */
export interface SearchTerms {
  /** Words a match must have whole: distinct, in the query's order (a spaceless run's pairs among them). */
  readonly words: ReadonlyArray<string>
  /**
   * The query's spaceless runs of three or more characters, distinct, each as the words the index
   * holds for it (`indexedWords`) one after the other in a field: its pairs and the characters
   * between them ("東京都" is 東京, 京, 京都). A match has each in a row: its pairs apart (東京 in
   * one place, 京都 in another) are no match. The pairs are in `words` too.
   */
  readonly phrases: ReadonlyArray<ReadonlyArray<string>>
  /**
   * The query's last word, when it has at least MIN_PREFIX_LENGTH characters and is no spaceless
   * run: a match has it or a longer word beginning with it, as a reader still typing it expects
   * ("rus" finds "rust"). Posts with the word itself rank first. A shorter last word is in `words`.
   */
  readonly prefix: string | undefined
}

const distinct = (words: ReadonlyArray<string>): Array<string> => Array.from(new Set(words))

/** The words of a query as a reader counts them: each run of spaceless letters one word. */
const queryWords = (text: string): Array<string> => (fold(text).match(WORD) ?? []).flatMap(partsOf)

/** How many different words `text` has, as MAX_SEARCH_WORDS counts them. */
export const searchWords = (text: string): number => new Set(queryWords(text)).size

/**
 * The words of a query, every one of them (the API and the site take at most MAX_SEARCH_WORDS),
 * the last one a prefix when long enough.
 */
export const searchTerms = (text: string): SearchTerms => {
  const words = queryWords(text)
  const last = words.at(-1)
  const prefix = last !== undefined && !isRun(last) && codePointLength(last) >= MIN_PREFIX_LENGTH ? last : undefined
  const whole = prefix === undefined ? words : words.slice(0, -1)
  const runs = whole.filter(isRun).map((run) => run.match(CHARACTER)!)
  const phrases = new Map(runs.filter((run) => run.length >= 3).map(runPhrase).map((phrase) => [phrase.join(" "), phrase]))
  return {
    words: distinct(whole.flatMap((word) => (isRun(word) ? runTerms(word.match(CHARACTER)!) : [word]))),
    phrases: Array.from(phrases.values()),
    prefix
  }
}

/**
 * The words of `terms` a store looks up alone: those of no phrase (a phrase found has its words),
 * so a run is asked for once, as its phrase.
 */
const wordsAlone = (terms: SearchTerms): ReadonlyArray<string> => {
  if (terms.phrases.length === 0) return terms.words
  const inPhrases = new Set(terms.phrases.flat())
  return terms.words.filter((word) => !inPhrases.has(word))
}

/** Whether `terms` has no word at all: nothing to search for (never "everything"). */
export const isEmpty = (terms: SearchTerms): boolean => terms.words.length === 0 && terms.prefix === undefined

/**
 * Whether no post can match `terms`: no word at all, or a word too long for any index
 * (MAX_WORD_BYTES; only a repository's caller can send one, past MAX_SEARCH_LENGTH).
 */
export const findsNothing = (terms: SearchTerms): boolean =>
  isEmpty(terms) || [...terms.words, ...(terms.prefix === undefined ? [] : [terms.prefix])].some(tooLong)

/**
 * An engine's query for `terms`: each word as `operand` makes it (the prefix told it is), each
 * phrase as `phrase` makes it, all ANDed.
 */
const joined = (
  terms: SearchTerms,
  operand: (term: string, prefix: boolean) => string,
  phrase: (words: ReadonlyArray<string>) => string,
  and: string
): string =>
  [
    ...wordsAlone(terms).map((word) => operand(word, false)),
    ...terms.phrases.map(phrase),
    ...(terms.prefix === undefined ? [] : [operand(terms.prefix, true)])
  ].join(and)

/** `term` as an FTS5 string: a phrase, never an operator or column filter (a `"` is doubled). */
export const ftsPhrase = (term: string): string => `"${term.replaceAll('"', '""')}"`

/**
 * An FTS5 MATCH expression for `terms` (not empty): each word a phrase, the prefix one followed by
 * `*` (a prefix query, outside the quotes, so the only `*` there is), each of `phrases` a phrase
 * of its words (FTS5 finds them at consecutive positions of one column), joined by AND. The
 * table's `ascii` tokenizer reads a phrase as our words, split at the spaces (migration 0011).
 */
export const ftsMatch = (terms: SearchTerms): string =>
  joined(terms, (term, prefix) => `${ftsPhrase(term)}${prefix ? "*" : ""}`, (words) => ftsPhrase(words.join(" ")), " AND ")

/** The FTS5 row of a post's words: each field its words, a space between (the `ascii` tokenizer splits there only). */
export const ftsColumns = (words: IndexedWords) => ({
  title: words.title.join(" "),
  tags: words.tags.join(" "),
  body: words.body.join(" ")
})

/** `term` as a quoted tsquery or tsvector lexeme: its `'` doubled and its `\` escaped, so no operator or weight. */
const lexeme = (term: string): string =>
  // Asked first: a post's index writes out a hundred thousand words, nearly none with either.
  term.includes("'") || term.includes("\\") ? `'${term.replaceAll("\\", "\\\\").replaceAll("'", "''")}'` : `'${term}'`

/**
 * The text of the tsquery for `terms` (not empty), cast (`::tsquery`), never parsed by
 * `to_tsquery`: each word a quoted lexeme (a phrase's pairs among them), the prefix one marked
 * `:*`, joined by `&`: the posts that may match, which the GIN index finds and `ts_rank` ranks;
 * those with a phrase must have it too (`tsPhrases`). Through PostgreSQL's parser, "co₂" became
 * `'co':*`, a prefix search for "co"; as a literal, the lexemes are the words the index holds
 * (`tsvectorText`).
 */
export const tsQuery = (terms: SearchTerms): string =>
  [...terms.words.map(lexeme), ...(terms.prefix === undefined ? [] : [`${lexeme(terms.prefix)}:*`])].join(" & ")

/** A phrase of `SearchTerms.phrases` as PostgreSQL looks it up (`tsPhrases`). */
export interface TsPhrase {
  /** The tsquery text of its pairs side by side, as `tsvectorText` placed them. */
  readonly query: string
  /** Its pairs: where one of them lost positions, a post with them all is taken to have it. */
  readonly pairs: ReadonlyArray<string>
}

/**
 * The phrases of `terms` for PostgreSQL: each its pairs (every other word, from the first) each
 * followed by the next two positions on (`<2>`), which `tsvectorText` gave the words in between;
 * not every word with `<->`, since a character, far more frequent than a pair, runs out of
 * positions sooner. A tsvector keeps no position past MAX_POSITION (every later word has that
 * one: about 8,000 characters of Chinese into a post) and at most MAX_POSITIONS of a word, so a
 * phrase there is not in the positions: a post where one of its pairs lost some (it has
 * MAX_POSITIONS of them, or MAX_POSITION) is taken to have it when it has its pairs
 * (SqlPostRepository's search). Such a post may be found with the pairs apart; any other is found
 * only with them side by side, and no post with the phrase is lost. SQLite and the memory store
 * find the phrase itself anywhere (README).
 */
export const tsPhrases = (terms: SearchTerms): ReadonlyArray<TsPhrase> =>
  terms.phrases.map((words) => {
    const pairs = words.filter((_, i) => i % 2 === 0)
    return { query: pairs.map(lexeme).join(" <2> "), pairs }
  })

/** One word as a tsquery literal (a prefix's whole word, for ranking it first). */
export const tsWord = (word: string): string => lexeme(word)

/** A tsvector holds no position past this (PostgreSQL sets a later one to it). */
export const MAX_POSITION = 16383

/**
 * A post's words as the text of its tsvector (cast, `::tsvector`, never `to_tsvector`): each
 * distinct word once, with its positions (counted through title, tags and body, as `to_tsvector`
 * of each joined by `||` counted them) weighted A in the title, B in a tag and D (unwritten) in the
 * body (SEARCH_WEIGHTS); at most 256 positions a word, as PostgreSQL keeps.
 */
export const tsvectorText = (words: IndexedWords): string => {
  // Per distinct word, by its slot: its positions written out, how many, the last.
  const seen = new WordSlots()
  const lexemes: Array<string> = []
  const positions: Array<string> = []
  const counts: Array<number> = []
  const lasts: Array<number> = []
  let position = 0
  const add = (field: ReadonlyArray<string>, weight: string) => {
    for (const word of field) {
      position = Math.min(position + 1, MAX_POSITION)
      const i = seen.find(word)
      if (i === -1) {
        seen.add(word)
        lexemes.push(word)
        positions.push(`${position}${weight}`)
        counts.push(1)
        lasts.push(position)
      } else if (counts[i]! < MAX_POSITIONS && lasts[i] !== position) {
        positions[i] += `,${position}${weight}`
        counts[i]!++
        lasts[i] = position
      }
    }
  }
  add(words.title, "A")
  add(words.tags, "B")
  add(words.body, "")
  return lexemes.map((word, i) => `${lexeme(word)}:${positions[i]}`).join(" ")
}

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

/** Occurrences of `phrase` in `words`: its words one after the other. */
const countPhrase = (words: ReadonlyArray<string>, phrase: ReadonlyArray<string>): number => {
  let n = 0
  for (let i = 0; i + phrase.length <= words.length; i++) {
    if (phrase.every((word, j) => words[i + j] === word)) n++
  }
  return n
}

/** How the memory store ranks a match: posts with the prefix word whole first, then by `score`. */
export interface Relevance {
  /** The post has the query's prefix word itself, not only longer words (true without a prefix). */
  readonly whole: boolean
  readonly score: number
}

type Searched = Pick<Post, "title" | "body" | "tags">

/**
 * Each post's words, split once per post object rather than on every search: a stored post is
 * never changed in place (a write stores a new object), so a post's words are its own for as long
 * as it is kept, and go with it.
 */
const splitPosts = new WeakMap<Searched, IndexedWords>()

const wordsOfPost = (post: Searched): IndexedWords => {
  const known = splitPosts.get(post)
  if (known !== undefined) return known
  const words = indexedWords(post)
  splitPosts.set(post, words)
  return words
}

/**
 * The memory store's relevance of `post` for `terms`: undefined when a term is missing (every
 * term must be there, as in the SQL stores), else the sum over terms of their occurrences in the
 * title, tags and body (for the prefix, of the words beginning with it; for a phrase, of its words
 * in a row, within a field as FTS5 finds them), weighted by
 * SEARCH_WEIGHTS. No length normalization or term rarity (bm25 and ts_rank have some): the
 * memory store is for tests and embedding, and agrees with the SQL stores on which posts match,
 * on whole prefix words first and on title before tag before body.
 */
export const scoreOf = (post: Searched, terms: SearchTerms): Relevance | undefined => {
  const { body, tags, title } = wordsOfPost(post)
  const weighedBy = (occurrences: (words: ReadonlyArray<string>) => number) =>
    SEARCH_WEIGHTS.title * occurrences(title) + SEARCH_WEIGHTS.tags * occurrences(tags) + SEARCH_WEIGHTS.body * occurrences(body)
  const weighed = (term: string, prefix: boolean) => weighedBy((words) => count(words, term, prefix))
  let score = 0
  for (const term of wordsAlone(terms)) {
    const found = weighed(term, false)
    if (found === 0) return undefined
    score += found
  }
  for (const phrase of terms.phrases) {
    const found = weighedBy((words) => countPhrase(words, phrase))
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
