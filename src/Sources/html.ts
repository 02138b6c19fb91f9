/**
 * Pure helpers for HTML that comes from feeds and exports: entity decoding, plain text, making
 * relative links absolute, and turning HTML or plain text into a post body that the markdown
 * pipeline passes through untouched (and sanitizes as a whole: see Processing/markdown.ts).
 */
import { decodeHTML } from "entities"
import { QuoteType, Tokenizer } from "htmlparser2"
import { attributeSpans, attributeTokens } from "../Processing/htmlAttributes.js"
import { isCalendarDate, outOfRange } from "../Processing/dates.js"
import { urlScheme } from "../Processing/sanitize.js"
import { slugify } from "../Processing/text.js"

export { attributeSpans, attributeTokens } from "../Processing/htmlAttributes.js"

/** Named and numeric HTML character references decoded once. */
export const decodeEntities = (text: string): string => (text.includes("&") ? decodeHTML(text) : text)

export const escapeHtml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

/** Text a reader would see: no tags, no scripts or styles, entities decoded, whitespace collapsed. */
export const plainText = (html: string): string => textOf(withoutHiddenParts(html).replace(/<[^>]*>/g, " "))

/** Scripts, styles and comments out: what a reader never sees, whatever else is markup. */
const withoutHiddenParts = (html: string): string =>
  html.replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, " ").replace(/<!--[\s\S]*?-->/g, " ")

/** Entities decoded, whitespace collapsed. */
const textOf = (text: string): string => decodeEntities(text).replace(/\s+/g, " ").trim()

/** Elements a title in the wild is marked up with. */
const TITLE_ELEMENTS = new Set([
  "a", "abbr", "b", "big", "br", "cite", "code", "del", "div", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6",
  "i", "img", "ins", "kbd", "mark", "p", "q", "s", "small", "span", "strike", "strong", "sub", "sup", "time",
  "tt", "u", "var", "wbr"
])
const VOID_ELEMENTS = new Set(["br", "img", "wbr"])
const TAG_LIKE = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)(\s[^<>]*)?\/?>/g

/**
 * A title as text. RSS leaves it open whether titles are text or HTML, so in the wild they are
 * both, often escaped twice ("Ben &amp;amp; Jerry"): after the XML layer, markup is dropped and
 * entities decoded once more. Only what is markup: an element a title carries, closed in the
 * title (`<b>bold</b>`), with attributes, or void (`<br>`). Any other `<...>` is text, as in a
 * plain-text title (`Vec<T>`, `Box<dyn Error>`, `Option<A>`: read as tags, they were dropped).
 */
export const cleanTitle = (title: string): string => {
  if (!title.includes("<")) return textOf(title)
  const lower = title.toLowerCase()
  const text = withoutHiddenParts(title).replace(TAG_LIKE, (tag, close: string, name: string, attributes: string | undefined) => {
    const element = name.toLowerCase()
    if (!TITLE_ELEMENTS.has(element)) return tag
    const markup = close !== "" || (attributes ?? "").trim() !== "" || VOID_ELEMENTS.has(element) || lower.includes(`</${element}>`)
    return markup ? " " : tag
  })
  return textOf(text)
}

/**
 * Cuts `text` at a word boundary to at most `max` characters, adding "…" when cut. For titles
 * derived from content (JSON Feed items may have none).
 */
export const shorten = (text: string, max: number): string => {
  if (text.length <= max) return text
  const cut = text.slice(0, max - 1)
  const space = cut.lastIndexOf(" ")
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`
}

/**
 * A slug for an item that has no title, from its link, else its id: its title is made from the
 * start of its text, and made into a slug, that collided for every two items that start alike
 * (two "Photo of the day" posts: `duplicate slug`, the cause out of sight). A link's path and
 * query ("https://m.example/@ada/1112" → "ada-1112"), an id that is no URL as it is; undefined
 * when neither gives one (the title's slug then).
 */
const untitledSlug = (link: string | undefined, id: string | undefined): string | undefined => {
  for (const value of [link, id]) {
    if (value === undefined || value.trim() === "") continue
    let text = value.trim()
    try {
      const url = new URL(text)
      if (url.protocol === "http:" || url.protocol === "https:") text = `${url.pathname.replace(/\.(?:html?|php|aspx?)$/i, "")}${url.search}`
    } catch {
      // Not a URL: the id as it is ("tag:blog.example,2024:17" and the like too).
    }
    const slug = slugify(text)
    if (slug !== "") return slug
  }
  return undefined
}

/**
 * The slug of an item whose title gives none, from its link or id; undefined when its title
 * gives one (the processor makes it). An untitled item's is `untitledSlug`'s. A title of no
 * letter or digit ("🎉🎉", "¿?") failed the item with advice to set "slug", which a feed cannot:
 * its link's last path segment gives it ("/2024/01/party" → "party"), else as an untitled item's.
 */
export const itemSlug = (ownTitle: string, link: string | undefined, id: string | undefined): string | undefined => {
  if (ownTitle.trim() === "") return untitledSlug(link, id)
  if (slugify(ownTitle) !== "") return undefined
  return lastSegmentSlug(link) ?? untitledSlug(link, id)
}

const lastSegmentSlug = (link: string | undefined): string | undefined => {
  if (link === undefined) return undefined
  try {
    const url = new URL(link.trim())
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined
    const segment = url.pathname.split("/").filter((part) => part !== "").pop()
    const slug = segment === undefined ? "" : slugify(decodeURIComponent(segment).replace(/\.(?:html?|php|aspx?)$/i, ""))
    return slug === "" ? undefined : slug
  } catch {
    // No URL, or a segment that is no percent-encoding: no segment to take.
    return undefined
  }
}

/**
 * `value` made absolute against `base`; absolute URLs and unparsable values unchanged, and
 * fragments (`#note`) too unless `fragments` is set (see `resolveLinks`).
 */
export const resolveUrl = (value: string, base: string | undefined, fragments = false): string => {
  const trimmed = value.trim()
  if (base === undefined || trimmed === "" || (!fragments && trimmed.startsWith("#")) || urlScheme(trimmed) !== undefined) return trimmed
  try {
    return new URL(trimmed, base).href
  } catch {
    return trimmed
  }
}

const URL_ATTRIBUTES = new Set(["href", "src", "poster", "cite", "srcset"])

/** Where one URL attribute's value sits in the HTML: `[start, end)`, its quotes included. */
interface ValueSpan {
  readonly name: string
  readonly start: number
  readonly end: number
  readonly raw: string
}

/**
 * The values of the URL attributes of every start tag in `html`, as htmlparser2's tokenizer
 * reads them: comments, `<script>`, `<textarea>` and the like are text to it, and an attribute
 * value that reads `x href=y` is one value, not an attribute. A regex over start tags found
 * ` href=` inside another attribute's value (an image's alt, a link's title), and wrote a quoted
 * URL there, which closed that value and made the rest of its text attributes (`onerror=...`).
 */
const urlAttributeValues = (html: string): ReadonlyArray<ValueSpan> => {
  const spans: Array<ValueSpan> = []
  const tokenizer = new Tokenizer({ decodeEntities: false }, attributeTokens(attributeSpans(html, (name, valueStart, valueEnd, quote, end) => {
    if (URL_ATTRIBUTES.has(name) && quote !== QuoteType.NoValue && valueStart !== -1) {
      // Quoted, `end` is past the closing quote (an unclosed one ends no attribute at all).
      const start = quote === QuoteType.Unquoted ? valueStart : valueStart - 1
      spans.push({ name, start, end, raw: html.slice(valueStart, valueEnd) })
    }
  })))
  tokenizer.write(html)
  tokenizer.end()
  return spans
}

const resolveSrcset = (value: string, base: string, fragments: boolean): string =>
  value
    .split(",")
    .map((candidate) => {
      const [url = "", ...descriptor] = candidate.trim().split(/\s+/)
      return [resolveUrl(url, base, fragments), ...descriptor].join(" ")
    })
    .join(", ")

/**
 * Makes `href`, `src`, `srcset`, `poster` and `cite` URLs in `html` absolute against `base`:
 * feed content is shown away from the site it was written for, where relative links break.
 *
 * In-page links (`#note`) are left as they are unless `fragments` is set. Left, for content
 * being imported: it becomes a page of its own, where they still find their anchors. Resolved,
 * for content a feed serves: a reader resolves `#note` against the feed's URL (or its own page,
 * whose sanitizer may have dropped the ids), not the post's, so only `<post URL>#note` reaches it.
 */
export const resolveLinks = (html: string, base: string | undefined, options: { readonly fragments?: boolean } = {}): string => {
  if (base === undefined || !html.includes("<")) return html
  const fragments = options.fragments === true
  const spans = urlAttributeValues(html)
  if (spans.length === 0) return html
  // Everything but those values is kept as written, character for character.
  const out: Array<string> = []
  let at = 0
  for (const { end, name, raw, start } of spans) {
    const value = decodeEntities(raw)
    const resolved = name === "srcset" ? resolveSrcset(value, base, fragments) : resolveUrl(value, base, fragments)
    out.push(html.slice(at, start), `"${escapeHtml(resolved)}"`)
    at = end
  }
  out.push(html.slice(at))
  return out.join("")
}

/**
 * HTML as a post body. The body is markdown, so the HTML must stay one raw HTML block: a blank
 * line would end the block (CommonMark) and what follows would be read as markdown, turning
 * indented lines into code blocks. So the HTML is wrapped in a `<div>` and every blank line
 * becomes a `&#10;` on the next line: the same newline inside `<pre>`, plain whitespace elsewhere.
 * The markdown renderer then passes the block through and sanitizes the whole document.
 */
export const htmlBody = (html: string): string => {
  const lines = html.replace(/\r\n?/g, "\n").trim().split("\n")
  const out: Array<string> = []
  let pendingNewlines = 0
  for (const line of lines) {
    if (line.trim() === "") {
      pendingNewlines++
      continue
    }
    out.push("&#10;".repeat(pendingNewlines) + line)
    pendingNewlines = 0
  }
  return `<div>\n${out.join("\n")}\n</div>`
}

/** Plain text as a post body: escaped, paragraphs at blank lines, kept out of markdown's reach. */
export const textBody = (text: string): string =>
  htmlBody(
    text
      .replace(/\r\n?/g, "\n")
      .split(/\n[ \t]*\n/)
      .map((p) => p.trim())
      .filter((p) => p !== "")
      .map((p) => `<p>${escapeHtml(p).replace(/\n/g, "<br>\n")}</p>`)
      .join("\n")
  )

const MONTHS: Readonly<Record<string, number>> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12
}

/**
 * False when `text` names a day its month does not have (2024-02-30, "31 Apr 2024"), which
 * `Date` silently rolls into the next month; true otherwise, including when no day is found.
 */
/** The day, month and year as written in "14 May 2024" (RFC 822) or "May 14, 2024"; undefined in other forms. */
const namedDate = (text: string): { readonly day: string; readonly month: string; readonly year: string } | undefined => {
  const dayFirst = /\b(\d{1,2})[\s-]+([A-Za-z]{3})[A-Za-z]*\.?[\s-]+(\d{4}|\d{2})\b/.exec(text)
  if (dayFirst !== null) return { day: dayFirst[1]!, month: dayFirst[2]!, year: dayFirst[3]! }
  const monthFirst = /\b([A-Za-z]{3})[A-Za-z]*\.?\s+(\d{1,2}),?\s+(\d{4})\b/.exec(text)
  return monthFirst === null ? undefined : { day: monthFirst[2]!, month: monthFirst[1]!, year: monthFirst[3]! }
}

/** The year `Date` reads for a year written with two digits: 00-49 in 2000-2049, 50-99 in 1950-1999. */
const twoDigitYear = (year: number): number => (year < 50 ? 2000 : 1900) + year

const isCalendarDay = (text: string): boolean => {
  const iso = /^(\d{4})-(\d{2})-(\d{2})/.exec(text)
  const named = namedDate(text)
  const namedMonth = named === undefined ? undefined : MONTHS[named.month.toLowerCase()]
  const parts = iso !== null
    ? [Number(iso[1]), Number(iso[2]), Number(iso[3])]
    : named !== undefined && namedMonth !== undefined
    ? [named.year.length === 2 ? twoDigitYear(Number(named.year)) : Number(named.year), namedMonth, Number(named.day)]
    : undefined
  if (parts === undefined) return true
  const [year, month, day] = parts as [number, number, number]
  return isCalendarDate(year, month, day)
}

/**
 * `date` as `text` wrote its year: `Date` reads "01 Jan 0099" as 1999 and "0000" as 2000, as if
 * the year had two digits, where RFC 822 with four digits (and our own RSS) means year 99 and 0.
 * Moved by whole years, which keeps the day (0000 and 2000 are both leap years, and a year under
 * 100 is one exactly when its two-digit reading is).
 */
const asWrittenYear = (text: string, date: Date): Date => {
  const named = namedDate(text)
  if (named === undefined || named.year.length !== 4 || Number(named.year) >= 100) return date
  const year = Number(named.year)
  const moved = new Date(date.getTime())
  moved.setUTCFullYear(date.getUTCFullYear() - twoDigitYear(year) + year)
  return moved
}

/**
 * An ISO 8601 instant from RFC 822 (RSS), RFC 3339 (Atom, JSON Feed) and the like; undefined
 * when unreadable, when the day does not exist (read by `Date` as a day of the next month), or
 * when the instant is outside years 0000-9999 in UTC (`outOfRange`), as a markdown file's date.
 */
export const isoDate = (value: unknown): string | undefined => {
  const date = instantOf(value)
  return date === undefined || outOfRange(date.getTime()) !== undefined ? undefined : date.toISOString()
}

/** The instant `value` names, whatever its year; undefined when it names none (see `isoDate`). */
const instantOf = (value: unknown): Date | undefined => {
  if (typeof value === "number") {
    // Epoch milliseconds (Ghost 1.x); beyond Date's range (±8.64e15) `toISOString` throws, and a
    // throw here was a defect ending the whole import, not this one date left out.
    const date = new Date(value)
    return Number.isNaN(date.getTime()) ? undefined : date
  }
  if (typeof value !== "string" || value.trim() === "") return undefined
  const text = value.trim()
  // An ISO date-time without an offset is UTC here, as in Processing/dates.ts, not local time.
  // That includes the space-separated form of Ghost and SQL dumps ("2024-05-14 10:00:00"), which
  // `Date` would read in the host's zone: a CLI import on a laptop shifted every such date.
  const local = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/.exec(text)
  const date = local !== null ? new Date(`${local[1]}T${local[2]}Z`) : inUtcUnlessZoned(withReadableZone(text))
  return Number.isNaN(date.getTime()) || !isCalendarDay(text) ? undefined : local !== null ? date : asWrittenYear(text, date)
}

/**
 * Date fields of one item, each read with `isoDate`: the instants (undefined where a field is
 * absent: missing, null or blank), and for every field present but no date, why, naming it as
 * `label` says. A field that is there and unreadable fails its item, as a bad date does in a
 * markdown file: left out, the post was dated at the import's time without a word.
 */
export const readDates = <K extends string>(
  fields: Readonly<Record<K, unknown>>,
  label: (field: K) => string
): { readonly dates: Record<K, string | undefined>; readonly problems: ReadonlyArray<string> } => {
  const dates = {} as Record<K, string | undefined>
  const problems: Array<string> = []
  for (const field of Object.keys(fields) as Array<K>) {
    const value = fields[field]
    const absent = value === undefined || value === null || (typeof value === "string" && value.trim() === "")
    dates[field] = absent ? undefined : isoDate(value)
    if (!absent && dates[field] === undefined) problems.push(`${label(field)} ${describeBadDate(value)}`)
  }
  return { dates, problems }
}

const quoted = (value: string): string => JSON.stringify(value.length > 80 ? `${value.slice(0, 79)}…` : value)

const describeBadDate = (value: unknown): string => {
  const instant = instantOf(value)
  const range = instant === undefined ? undefined : outOfRange(instant.getTime())
  if (range !== undefined) return `${typeof value === "string" ? quoted(value) : String(value)} ${range}`
  return typeof value === "string"
    ? `${quoted(value)} is not a date (expected RFC 822 like "Tue, 14 May 2024 09:30:00 +0200" or ISO 8601 like 2024-05-14T09:30:00Z)`
    : typeof value === "number"
    ? `${value} is not a date (epoch milliseconds out of range)`
    : `expected a date, got ${Array.isArray(value) ? "a list" : typeof value}`
}

/**
 * A zone `Date` reads in a date string: Z, UT, UTC, GMT (with or without an offset after it),
 * the US zone names of RFC 822, or a numeric offset at the end. Parenthesized comments
 * ("(CEST)") are left out first, as `Date` ignores them.
 */
const ZONE = /\b(?:UTC?|GMT|[ECMP][SD]T)\b|(?:\d|\s)Z\b|[+-]\d{2}:?\d{2}$/i

/**
 * Zone names feeds use that `Date` does not know (it knows UT, GMT and the North American
 * EST..PDT), as `GMT` offsets, which it reads anywhere in the text. Only names that stand for
 * one offset in feeds: IST (India, Ireland, Israel), CST (also China) and the like are left
 * unread. BST is British Summer Time here (Bangladesh writes +06 or BDT in practice).
 */
const NAMED_ZONES: Readonly<Record<string, string>> = {
  CET: "+0100", CEST: "+0200", EET: "+0200", EEST: "+0300", WET: "+0000", WEST: "+0100", BST: "+0100", MSK: "+0300",
  JST: "+0900", KST: "+0900", AEST: "+1000", AEDT: "+1100", ACST: "+0930", AWST: "+0800", NZST: "+1200", NZDT: "+1300",
  HST: "-1000", AKST: "-0900", AKDT: "-0800"
}
const NAMED_ZONE = new RegExp(`\\b(${Object.keys(NAMED_ZONES).join("|")})\\b`)

/**
 * `text` with its zone in a form `Date` reads: an ISO offset of hours only (`+02`) or after a
 * space (`10:00:00 +02:00`) written `+02:00` after the time, a zone name from `NAMED_ZONES` as
 * its offset. A name only in a comment ("+02:00 (CEST)") is not read, as `Date` skips comments.
 */
/** `text` without its comments ("(CEST)"), which `Date` skips. */
const withoutComments = (text: string): string => text.replace(/\([^)]*\)/g, " ")

const withReadableZone = (text: string): string => {
  const iso = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*([+-]\d{2})(?::?(\d{2}))?$/.exec(text)
  if (iso !== null) return `${iso[1]}T${iso[2]}${iso[3]}:${iso[4] ?? "00"}`
  // An RFC 822 date with an hour-only offset ("10:00:00 +02"), which `Date` passes over: "+0200".
  const outside = withoutComments(text)
  const hourOnly = /\d{2}:\d{2}(?::\d{2})?\s+[+-]\d{2}$/.exec(outside.trimEnd())
  if (hourOnly !== null) return `${outside.trimEnd()}00`
  const named = NAMED_ZONE.exec(outside)
  return named === null ? text : outside.replace(NAMED_ZONE, `GMT${NAMED_ZONES[named[1]!]}`)
}

/**
 * `text` read by `Date`, as UTC when it names no zone. `Date` reads such a string ("Tue, 02 Jan
 * 2024 10:00:00", "2024/01/02 10:00", "January 2, 2024") in the host's zone, so one feed gave
 * other instants, even other days, on other machines. A zone appended is read instead, but only
 * when there is none: `Date` takes the last zone it finds, and would override the feed's own.
 */
const inUtcUnlessZoned = (text: string): Date => {
  if (ZONE.test(withoutComments(text).trim())) return new Date(text)
  const date = new Date(`${text} GMT`)
  // ISO-like forms `Date` reads but not with a zone after a space ("2024-01-02T10").
  return Number.isNaN(date.getTime()) ? new Date(`${text}Z`) : date
}
