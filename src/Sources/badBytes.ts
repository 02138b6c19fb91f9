/**
 * Bytes that are not UTF-8 in a feed or a Ghost export, failing only the items they are in.
 *
 * One stray Windows-1252 byte (0x92, a curly apostrophe) in one item of a legacy WordPress feed
 * is common. A decoder's U+FFFD in its place would alter the item's text without a word;
 * refusing the whole document would fail every good item with it. So each bad byte is read as a
 * marker of its own instead, a code point of the supplementary private use planes (U+F0000 on,
 * the k-th bad byte's marker `U+F0000 + k`) that names its offset, and an item with a marker in
 * any of its values is failed, naming the offset of its first bad byte; the others are imported
 * as the source wrote them. A marker in the document's structure (a tag or key name, outside
 * any string) makes it unreadable, and the document is refused as before.
 *
 * A literal U+FFFD in the source is valid UTF-8 and no marker: it is imported as written. A source
 * that also writes one of the first few markers' code points itself (private use planes 15 and 16,
 * which no text needs) has that item failed as if a bad byte were there: failed, never altered.
 */
import { isUtf8 } from "node:buffer"
import { findInvalidUtf8, utf8Carry } from "../Domain/utf8.js"
import { rejected, type SourceItem } from "./SourceItem.js"

const FIRST_MARKER = 0xf0000
/** Planes 15 and 16: past this many bad bytes, a document is not text in UTF-8 at all. */
export const MAX_BAD_BYTES = 0x110000 - FIRST_MARKER

const markerBytes = (k: number): Uint8Array => Buffer.from(String.fromCodePoint(FIRST_MARKER + Math.min(k, MAX_BAD_BYTES - 1)), "utf8")

/**
 * Replaces each byte that is not UTF-8 with its marker as bytes come, a chunk at a time (a
 * sequence split between chunks is judged once complete). `offsets[k]` is the offset (from the
 * first byte written) of the byte that marker k stands for. Run twice over the same bytes, it
 * marks them the same.
 */
export const utf8Marker = () => {
  const offsets: Array<number> = []
  const carry = utf8Carry()
  let checked = 0
  const mark = (bytes: Uint8Array): Uint8Array => {
    const base = checked
    checked += bytes.length
    if (isUtf8(bytes)) return bytes
    const parts: Array<Uint8Array> = []
    let from = 0
    for (;;) {
      const at = findInvalidUtf8(bytes.subarray(from))
      if (at === -1) break
      parts.push(bytes.subarray(from, from + at), markerBytes(offsets.length))
      offsets.push(base + from + at)
      // One byte at a time: the rest of a broken sequence is judged on its own.
      from += at + 1
    }
    parts.push(bytes.subarray(from))
    return Buffer.concat(parts)
  }
  return {
    offsets: offsets as ReadonlyArray<number>,
    write: (chunk: Uint8Array): Uint8Array => mark(carry.write(chunk)),
    /** A sequence still open at the end is cut off: its bytes are bad. */
    end: (): Uint8Array => {
      const rest = carry.end()
      return rest.length === 0 ? rest : mark(rest)
    }
  }
}

/** The markers of a marked document: where each bad byte was, and why the bytes were read as UTF-8. */
export interface BadBytes {
  readonly offsets: ReadonlyArray<number>
  /** "its Content-Type says UTF-8", "no charset given: read as UTF-8"; or undefined. */
  readonly why?: string | undefined
}

const MARKERS = /[\u{F0000}-\u{10FFFF}]/gu

const firstInString = (s: string, bad: BadBytes): number | undefined => {
  let first: number | undefined
  for (const [m] of s.matchAll(MARKERS)) {
    const offset = bad.offsets[m.codePointAt(0)! - FIRST_MARKER]
    if (offset !== undefined && (first === undefined || offset < first)) first = offset
  }
  return first
}

const firstIn = (value: unknown, bad: BadBytes, keysOnly: boolean): number | undefined => {
  if (bad.offsets.length === 0) return undefined
  let first: number | undefined
  const visit = (v: unknown, depth: number): void => {
    let found: number | undefined
    if (typeof v === "string") found = keysOnly ? undefined : firstInString(v, bad)
    else if (typeof v === "object" && v !== null && depth < 64) {
      for (const [key, inner] of Object.entries(v)) {
        const inKey = firstInString(key, bad)
        if (inKey !== undefined && (first === undefined || inKey < first)) first = inKey
        visit(inner, depth + 1)
      }
    }
    if (found !== undefined && (first === undefined || found < first)) first = found
  }
  visit(value, 0)
  return first
}

/** The offset of the first bad byte whose marker is in `value` (its strings and keys, however deep), or undefined. */
export const firstBadByte = (value: unknown, bad: BadBytes): number | undefined => firstIn(value, bad, false)

/**
 * The offset of the first bad byte whose marker is in a key of `value` (however deep), or
 * undefined. A damaged key hides which field it was: what the field said is lost without a word.
 */
export const firstBadKey = (value: unknown, bad: BadBytes): number | undefined => firstIn(value, bad, true)

/** `s` with each marker as U+FFFD: for naming a failed item, never for what is imported. */
const shownWithoutMarkers = (s: string, bad: BadBytes): string =>
  bad.offsets.length === 0 ? s : s.replace(MARKERS, (m) => (bad.offsets[m.codePointAt(0)! - FIRST_MARKER] === undefined ? m : "\ufffd"))

/** What a failed item's reason says: where its first bad byte is, and why it is not imported. */
const badBytesReason = (offset: number, bad: BadBytes): string =>
  `not valid UTF-8: invalid or truncated sequence at byte offset ${offset}${bad.why === undefined ? "" : ` (${bad.why})`}; ` +
  "not imported rather than imported with U+FFFD in place of what the source wrote"

/**
 * `item` as mapped from `raw`, or, when a bad byte's marker is in either (an item takes values
 * from outside its own, an Atom feed's authors) or `joined` says one is in what it is joined
 * to, its failure: named as the item is (`source`, its markers shown as U+FFFD) and `label`
 * ("item 3"), with the offset of its first bad byte.
 */
export const failIfBad = (
  item: SourceItem,
  raw: unknown,
  label: string | undefined,
  bad: BadBytes | undefined,
  joined?: number | undefined
): SourceItem => {
  // Not on `bad.offsets` alone: a Ghost post parsed before the first bad byte is read may be joined to one after it.
  if (bad === undefined || (bad.offsets.length === 0 && joined === undefined)) return item
  const found = [firstBadByte(raw, bad), firstBadByte(item, bad), joined].filter((at) => at !== undefined)
  if (found.length === 0) return item
  const reason = badBytesReason(Math.min(...found), bad)
  return rejected(shownWithoutMarkers(item.source, bad), label === undefined ? reason : `${label}: ${reason}`)
}
