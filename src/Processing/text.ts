/**
 * Plain-text helpers: slugs, excerpts, word counts, reading time, content hash. Pure.
 */
import { createHash } from "node:crypto"
import { frontMatterEnd } from "./frontMatter.js"

/** Characters allowed inside a slug segment (see `Slug` in Domain/Post.ts). */
const NOT_SLUG_CHAR = /[^\p{Ll}\p{Lo}\p{Lm}\p{N}\p{M}]+/gu
/** Combining marks on a Latin letter: "é" → "e" after NFKD. Marks on other scripts carry meaning (Devanagari vowel signs), so they stay. */
const LATIN_MARKS = /(\p{Script=Latin})\p{M}+/gu

export const SLUG_MAX_LENGTH = 200

/**
 * A URL slug from free text: lowercase, Latin diacritics stripped ("Ünïcödé" → "unicode"),
 * letters and digits of every script kept ("Straße" → "straße", "你好世界" → "你好世界"),
 * everything else collapsed to single dashes, at most 200 UTF-16 units cut at a dash when possible.
 * Deterministic: the same text always gives the same slug. Returns "" when nothing is left.
 */
export const slugify = (text: string): string => {
  // Lowercased again after NFKD: a compatibility letter has no lowercase of its own, and its
  // decomposition is a capital ("ℍ" → "H", "𝐁" → "B", "ϒ" → "Υ"), which the slug then dropped
  // ("ℝust" was "ust", a title "ℍ" gave no slug). The first pass keeps every other text's slug.
  const folded = text.toLowerCase().normalize("NFKD").toLowerCase().replace(LATIN_MARKS, "$1").normalize("NFC")
  const slug = folded.replace(NOT_SLUG_CHAR, "-").replace(/^-+|-+$/g, "")
  return truncateSlug(slug)
}

const truncateSlug = (slug: string): string => {
  if (slug.length <= SLUG_MAX_LENGTH) return slug
  let cut = slug.slice(0, SLUG_MAX_LENGTH)
  // Never leave half a surrogate pair.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1)
  const dash = cut.lastIndexOf("-")
  if (dash >= SLUG_MAX_LENGTH / 2) cut = cut.slice(0, dash)
  return cut.replace(/-+$/, "")
}

/**
 * Chinese and Japanese are written without spaces between words: each Han, Hiragana or Katakana
 * character counts as one word. Korean is not: Hangul words are separated by spaces
 * ("한국어는 띄어쓰기를 합니다", three words), so they are counted as Latin words are (counted by
 * syllable, that sentence was 12 words and its reading time four times too long).
 */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/gu
/** Cheap pre-check (BMP blocks holding those scripts, plus the supplementary Han planes' high surrogates): most text has none. */
const MAYBE_CJK = /[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\ud840-\ud88f]/
/**
 * Thai, Lao, Khmer and Myanmar are written without spaces between words too (a space ends a
 * phrase or a sentence), but their characters are letters, not words: counted by spaces, a Thai
 * post was a handful of words and its reading time a tenth of what it is. Their runs are split
 * into words by ICU's dictionaries for these scripts (`Intl.Segmenter`, as a browser selects a
 * word). Only those runs: the rest is counted as it always was, and text without these scripts
 * never reaches the segmenter. Given all text, it splits "well-known" and `foo::bar`, which
 * changed the count of 719 of the Rust blog's 754 posts (3.6% more words), at 15 times the cost
 * of the space count in windows and 400 times read whole. The locale is fixed so that the count
 * does not depend on the machine's; the dictionaries do not depend on it.
 */
const SPACELESS = /[\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]+/gu
/** Cheap pre-check: Thai and Lao, Myanmar, Khmer (and its symbols), Myanmar Extended-B and -A, and the high surrogate of Myanmar Extended-C. */
const MAYBE_SPACELESS = /[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u19e0-\u19ff\ua9e0-\ua9ff\uaa60-\uaa7f\ud805]/
const WORDS = new Intl.Segmenter("th", { granularity: "word" })
/**
 * V8 gives every segment it yields a copy of the whole string segmented (its `input`), so time
 * and memory grow with the square of the length: 22,000 Thai characters took 24 ms at once (5 ms
 * in windows of this size), and 280,000 ran out of memory with their segments kept. A post may
 * hold a million: the text is read a window at a time.
 */
const SEGMENT_WINDOW = 500
const SEGMENTS_READ_AGAIN = 6
const TOKEN = /\S+/g
const WORDISH = /[\p{L}\p{N}]/u
const ASCII_WORDISH = /[A-Za-z0-9]/

/**
 * The word segments of `text` (not its spaces, punctuation or symbols), one window at a time. A
 * window that does not end the text ends before its last few segments, which the next one reads
 * again: the last may be cut, and ICU's dictionaries choose a word looking up to three words
 * ahead (two segments kept back, a long Khmer run came to 1.3% more words than read whole; four
 * or more, to the same count on every sample tried).
 */
const segmentedWords = (text: string): number => {
  let words = 0
  let start = 0
  while (start < text.length) {
    const end = Math.min(text.length, start + SEGMENT_WINDOW)
    const segments = Array.from(WORDS.segment(text.slice(start, end)))
    // At least one segment is taken, so the window moves on (a "word" longer than the window).
    const taken = end === text.length ? segments.length : Math.max(1, segments.length - SEGMENTS_READ_AGAIN)
    for (let i = 0; i < taken; i++) if (segments[i]!.isWordLike === true) words++
    start = taken < segments.length ? start + segments[taken]!.index : end
  }
  return words
}

/**
 * Words in plain text: one per Han, Hiragana or Katakana character, the words the segmenter
 * finds in the runs of Thai, Lao, Khmer or Myanmar, plus one per whitespace-separated run of
 * other text (Hangul included) that holds a letter or digit (so "—" or "|" don't count).
 */
export const countWords = (text: string): number => {
  let cjk = 0
  let rest = text
  // Each character or run counted is replaced by a space, so that "Rust语言" or "Rustภาษา" still counts "Rust".
  if (MAYBE_CJK.test(rest)) {
    rest = rest.replace(CJK, () => {
      cjk++
      return " "
    })
  }
  let spaceless = 0
  if (MAYBE_SPACELESS.test(rest)) {
    // Segmented together: one call per run cost more than the runs' text (a few µs each).
    const runs: Array<string> = []
    rest = rest.replace(SPACELESS, (run) => {
      runs.push(run)
      return " "
    })
    spaceless = segmentedWords(runs.join(" "))
  }
  let words = 0
  TOKEN.lastIndex = 0
  for (let m = TOKEN.exec(rest); m !== null; m = TOKEN.exec(rest)) {
    if (ASCII_WORDISH.test(m[0]) || WORDISH.test(m[0])) words++
  }
  return cjk + spaceless + words
}

/** Whole minutes, at least one: even an empty post takes a moment to open. */
export const readingTimeMinutes = (words: number, wordsPerMinute: number): number =>
  Math.max(1, Math.ceil(words / wordsPerMinute))

const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: "grapheme" })

/**
 * `end` (a code point boundary of `text`) moved back to the start of the grapheme cluster it falls
 * in, so that cutting there splits no family emoji (five code points joined by ZWJs), flag (two
 * regional indicators) or letter with its combining marks. Whether a cluster breaks before `end`
 * depends only on the text before it and the code point at it: just that head is segmented.
 * A cluster that starts the text (one longer than the excerpt) is cut at `end` after all.
 */
const graphemeStart = (text: string, end: number): number => {
  if (end <= 0 || end >= text.length) return end
  const start = GRAPHEMES.segment(text.slice(0, end + 2)).containing(end)?.index ?? end
  return start > 0 ? start : end
}

/**
 * At most `maxLength` characters (code points) of `text`, cut on a word boundary with "…".
 * Text without spaces (CJK) is cut at the character limit, never inside a grapheme cluster.
 * Whitespace is collapsed first.
 */
export const truncateText = (text: string, maxLength: number): string => {
  const clean = text.replace(/\s+/g, " ").trim()
  // Code points, not UTF-16 units; only the head is walked, however long the text.
  let head = ""
  let count = 0
  let last = 0
  for (const ch of clean) {
    if (count === maxLength) break
    // UTF-16 length of the head's first maxLength - 1 code points: where a cut leaves room for "…".
    if (count === maxLength - 1) last = head.length
    head += ch
    count++
  }
  if (head.length === clean.length) return clean
  // `head` holds maxLength code points; cutting at its last space leaves room for the ellipsis
  // (a word ending just before the limit is kept: `head` then ends with that space).
  const lastSpace = head.lastIndexOf(" ")
  const cut = clean.slice(0, graphemeStart(clean, lastSpace > head.length / 2 ? lastSpace : last))
  return cut.replace(/[\s,;:.!?\-–—(\[{"'“‘]+$/u, "") + "…"
}

/** A code fence's opening line, after any blockquote `>`s, list markers and indentation: its character run and the rest. */
const FENCE_OPEN = /^(?:[ \t]*>)*[ \t]*(?:(?:[-+*]|\d{1,9}[.)])[ \t]+)*(`{3,}|~{3,})(.*)$/
const FENCE_CLOSE = /^(?:[ \t]*>)*[ \t]*(`{3,}|~{3,})[ \t]*$/
/** Two spaces right before the line break: a CommonMark hard line break (`<br>`), when text precedes them on the line and follows on the next. */
const HARD_BREAK = / {2}$/
const BLANK = /^\s*$/

/**
 * The input as it should be compared across imports: BOM dropped, CRLF/CR → LF, trailing
 * whitespace trimmed on every line and at the end, Unicode NFC. Editors disagree on all of these;
 * none of them changes what the post says, except where trailing whitespace renders:
 * - A line of text ending in two or more spaces, followed by a non-blank line, is a hard line
 *   break: it keeps exactly two spaces (three or more render the same `<br>`). Trimmed, removing
 *   the spaces hashed like keeping them, so the import called the edit "unchanged" and kept the
 *   `<br>`.
 * - Inside a fenced code block, trailing whitespace after a line's code is kept as written: it is
 *   in the `<pre>`, and whoever copies the code gets it (a markdown sample's hard break, a diff).
 *   A line of whitespace only there is emptied: it shows and copies as an empty line, and it is
 *   what editors' auto-indent adds and their trim-on-save removes (19 posts of the Rust blog have
 *   such lines in code; hashing them would re-import those posts as "updated" for nothing).
 * - Indented code blocks (four spaces) are not told apart: that needs the whole parse (an
 *   indented line after a list item is the item's text), and the hash is computed before and
 *   without rendering (`inputHash`). Their lines are hashed as text: a hard-break-like ending
 *   keeps its two spaces, other trailing whitespace is trimmed.
 * - Front matter is data, not rendered text: its lines are trimmed whole.
 * Every other post, the great majority, hashes as it did before these rules, so an import after
 * them does not report every post "updated". The fence scan is a line scan: a fence inside a
 * list item or a blockquote is found; a line it takes for a fence that is not one (an indented
 * "```") only keeps more whitespace in the hash.
 */
export const normalizeForHash = (raw: string): string => {
  const text = raw.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n")
  const lines = text.split("\n")
  // Lines up to the one holding the end of the front matter.
  const end = frontMatterEnd(text)
  let frontMatterLines = 0
  if (end > 0) for (let i = text.indexOf("\n"); i !== -1 && i < end; i = text.indexOf("\n", i + 1)) frontMatterLines++
  let fence: { readonly char: string; readonly length: number } | undefined
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (end > 0 && i <= frontMatterLines) {
      lines[i] = line.trimEnd()
      continue
    }
    if (fence !== undefined) {
      const close = FENCE_CLOSE.exec(line)
      if (close !== null && close[1]![0] === fence.char && close[1]!.length >= fence.length) {
        fence = undefined
        lines[i] = line.trimEnd()
      } else if (BLANK.test(line)) lines[i] = ""
      continue
    }
    // Most lines hold no fence: the regex only where one may open.
    const open = line.includes("```") || line.includes("~~~") ? FENCE_OPEN.exec(line) : null
    // A backtick fence's info string holds no backtick (```` ```x``` ```` is inline code).
    if (open !== null && !(open[1]![0] === "`" && open[2]!.includes("`"))) {
      fence = { char: open[1]![0]!, length: open[1]!.length }
      lines[i] = line.trimEnd()
      continue
    }
    const trimmed = line.trimEnd()
    const next = lines[i + 1]
    lines[i] = trimmed !== "" && HARD_BREAK.test(line) && next !== undefined && !BLANK.test(next) ? `${trimmed}  ` : trimmed
  }
  return lines.join("\n").trimEnd().normalize("NFC")
}

export const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex")

/** sha256 hex of the normalized input. */
export const contentHash = (raw: string): string => sha256Hex(normalizeForHash(raw))

/** U+0000: PostgreSQL refuses it in text and JSON, where SQLite stores it. */
export const NUL = "\u0000"

/** String.prototype.isWellFormed (Node 20; not in the ES2022 lib this compiles against): no lone surrogate. */
export const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed()

/** String.prototype.toWellFormed: each lone surrogate as U+FFFD, as a UTF-8 encoder writes it. */
export const toWellFormed = (s: string): string => (s as unknown as { toWellFormed(): string }).toWellFormed()

/** Text every store keeps alike: no NUL, no lone surrogate. */
export const keptAlike = (s: string): boolean => !s.includes(NUL) && isWellFormed(s)
