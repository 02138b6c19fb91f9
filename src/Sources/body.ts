/**
 * Turning fetched bytes into text and JSON: the charset from `Content-Type`, else from the XML
 * declaration, else UTF-8 (read strictly, or with each bad byte marked for a feed to fail only the
 * items it is in; a BOM is dropped), a slice at a time; JSON as UTF-8 whatever its label; JSON
 * errors with the parser's position.
 */
import { Either } from "effect"
import type { FetchedResource } from "../Clients/FeedClient.js"
import { DecodeError } from "../Clients/FeedErrors.js"
import { type BadBytes, MAX_BAD_BYTES, utf8Marker } from "./badBytes.js"
import { TextPieces } from "./textPieces.js"

/**
 * A byte order mark's encoding: it wins over any label, as XML (Appendix F) and WHATWG's decode
 * have it. Refused were a UTF-16 feed (as binary) and a UTF-8 one labelled Latin-1 (its BOM
 * read as "ï»¿" before the `<`).
 */
const bomOf = (bytes: Uint8Array): string | undefined =>
  bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf
    ? "utf-8"
    : bytes[0] === 0xff && bytes[1] === 0xfe
    ? "utf-16le"
    : bytes[0] === 0xfe && bytes[1] === 0xff
    ? "utf-16be"
    : undefined

/** How a body is read: `json`, as JSON (UTF-8, whatever its label says: `decodingOf`). */
export interface ReadAs {
  readonly json?: boolean | undefined
}

/** The charset the body says it is in, and where it says so. */
const charsetOf = (resource: Pick<FetchedResource, "headers" | "bytes">): { readonly label: string; readonly from: string } | undefined => {
  const bom = bomOf(resource.bytes)
  if (bom !== undefined) return { label: bom, from: "its byte order mark" }
  const header = /charset\s*=\s*"?([^";\s]+)/i.exec(resource.headers["content-type"] ?? "")?.[1]
  if (header !== undefined) return { label: header, from: "its Content-Type" }
  const head = new TextDecoder("latin1").decode(resource.bytes.subarray(0, 200))
  const declared = /^\s*<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/i.exec(head)?.[1]
  return declared === undefined ? undefined : { label: declared, from: "its XML declaration" }
}

/** The encoding a WHATWG decoder gives `label` ("utf-8", "windows-1252"), or undefined for a label it does not know. */
const encodingOf = (label: string): string | undefined => {
  try {
    return new TextDecoder(label).encoding
  } catch {
    return undefined
  }
}

/** `<?xml` in ASCII's bytes: in UTF-16 without a byte order mark, each would have a zero byte beside it. */
const startsXmlDeclaration = (bytes: Uint8Array): boolean =>
  bytes[0] === 0x3c && bytes[1] === 0x3f && bytes[2] === 0x78 && bytes[3] === 0x6d && bytes[4] === 0x6c

/**
 * The encoding a body is read in, and when that is UTF-8, why (for a message about its bytes
 * that are not). JSON is UTF-8 (RFC 8259, 8.1), its byte order mark aside: a JSON Feed served as
 * UTF-8 labelled ISO-8859-1 was imported as mojibake, another Inkwell's answers too. A body whose
 * bytes begin `<?xml` is no UTF-16 whatever it says (its declaration copied from a UTF-16 file):
 * read as UTF-16, it was mojibake, quoted so in the error.
 */
const decodingOf = (resource: Pick<FetchedResource, "headers" | "bytes">, as: ReadAs): { readonly encoding: string; readonly why: string } => {
  const charset = charsetOf(resource)
  if (charset === undefined) return { encoding: "utf-8", why: "no charset given: read as UTF-8" }
  const encoding = encodingOf(charset.label)
  if ((encoding === "utf-16le" || encoding === "utf-16be") && charset.from !== "its byte order mark" && startsXmlDeclaration(resource.bytes)) {
    return { encoding: "utf-8", why: `read as UTF-8: its bytes begin "<?xml" as no UTF-16 does, though ${charset.from} says "${charset.label}"` }
  }
  if (as.json === true && charset.from !== "its byte order mark" && encoding !== "utf-8") {
    return { encoding: "utf-8", why: `read as UTF-8, as JSON is, though ${charset.from} says "${charset.label}"` }
  }
  // An unknown label: UTF-8 is the best guess on the web.
  if (encoding === undefined) return { encoding: "utf-8", why: `charset "${charset.label}" is unknown: read as UTF-8` }
  return { encoding, why: `${charset.from} says UTF-8` }
}

const notUtf8 = (url: string, offset: number, why: string) =>
  new DecodeError({
    url,
    format: "http",
    path: `byte ${offset}`,
    reason: `not valid UTF-8: invalid or truncated sequence at byte offset ${offset} (${why})`
  })

/**
 * Bytes decoded between two `yield`s, a few milliseconds of work. A 19 MB feed decoded in one
 * call held the thread 80 to 90 ms as UTF-8, 200 to 250 as Windows-1252.
 */
export const DECODE_SLICE_BYTES = 256 * 1024

/**
 * `bytes` decoded a slice at a time by `decoder`, each slice `mark`ed first, until `stop` says
 * so; the caller flushes the decoder. The parts are the text's pieces (`TextPieces`): joined,
 * they are one copy of the text in one call, the one step whose time grows with the body. Streaming (`stream: true`): a character split between two
 * slices is read whole, a BOM dropped only at the start; and Windows-1252 is read as WHATWG reads
 * it, where Node 20's decode in one call reads 0x80 to 0x9F as Latin-1's C1 controls (0x92, a
 * curly apostrophe, as U+0092: nodejs/node#56542).
 */
function* decodeInSlices(
  bytes: Uint8Array,
  decoder: TextDecoder,
  mark: (slice: Uint8Array) => Uint8Array,
  stop: () => boolean
): Generator<void, Array<string>> {
  const parts: Array<string> = []
  for (let from = 0; from < bytes.length && !stop(); from += DECODE_SLICE_BYTES) {
    if (from > 0) yield
    parts.push(decoder.decode(mark(bytes.subarray(from, from + DECODE_SLICE_BYTES)), { stream: true }))
  }
  return parts
}

/**
 * The body as text, in the charset it says (`Content-Type`, else its XML declaration), else
 * UTF-8; a BOM is dropped. UTF-8 is read strictly: a body that is not UTF-8 is a `DecodeError`
 * naming the URL and the first bad byte's offset, as a file's or a request's body is refused,
 * never a post with U+FFFD in place of what the source wrote (a Latin-1 feed labelled UTF-8).
 * Other charsets are read as the WHATWG decoder reads them. JSON (`as.json`) is read as UTF-8.
 * In steps, as `markedBodyTextInSteps`.
 */
export function* bodyTextInSteps(
  resource: Pick<FetchedResource, "finalUrl" | "headers" | "bytes">,
  as: ReadAs = {}
): Generator<void, Either.Either<string, DecodeError>> {
  return Either.map(yield* bodyPiecesInSteps(resource, as), (text) => text.joined())
}

/** `bodyTextInSteps`, the text left in the pieces it was decoded in (`TextPieces`): for a reader that takes them. */
export function* bodyPiecesInSteps(
  resource: Pick<FetchedResource, "finalUrl" | "headers" | "bytes">,
  as: ReadAs = {}
): Generator<void, Either.Either<TextPieces, DecodeError>> {
  const body = yield* markedBodyPiecesInSteps(resource, as)
  return Either.flatMap(body, ({ bad, text }) => bad === undefined ? Either.right(text) : Either.left(bad.error))
}

/** Where a marked body's bad bytes are (`badBytes.ts`), why it was read as UTF-8, and what refusing it whole says. */
export type MarkedBad = BadBytes & { readonly why: string; readonly error: DecodeError }

/** A body read as text, and when it is not all UTF-8, where its bad bytes are (`badBytes.ts`). */
export interface MarkedBody {
  readonly text: string
  readonly bad?: MarkedBad | undefined
}

/** `MarkedBody`, its text in the pieces it was decoded in. */
export interface MarkedPieces {
  readonly text: TextPieces
  readonly bad?: MarkedBad | undefined
}

/** `markedBodyPiecesInSteps`, its pieces joined into one string. */
export function* markedBodyTextInSteps(
  resource: Pick<FetchedResource, "finalUrl" | "headers" | "bytes">,
  as: ReadAs = {}
): Generator<void, Either.Either<MarkedBody, DecodeError>> {
  return Either.map(yield* markedBodyPiecesInSteps(resource, as), ({ bad, text }): MarkedBody => bad === undefined ? { text: text.joined() } : { text: text.joined(), bad })
}

/**
 * The body as `bodyTextInSteps` reads it, except that a body read as UTF-8 with bytes that are
 * not is read with a marker in place of each (`utf8Marker`), for a feed to fail only the items
 * they are in. `bad.error` is what refusing the body whole says (the URL and the first bad
 * byte), for a body that cannot be read even so (a bad byte in its markup). Past
 * `MAX_BAD_BYTES` bad bytes, it is that error. The text is left in the pieces it was decoded in
 * (`TextPieces`): a reader that needs one string joins them.
 *
 * In steps, `DECODE_SLICE_BYTES` at a time: the caller may let others run at each `yield`
 * (`runStepsWithTurns`). Whether the bytes are UTF-8 is the marker's to say, as they come (a
 * sequence split between two slices judged whole, each offset counted from the body's first
 * byte), and the marked bytes are decoded: one pass, where a strict decode of the whole body came
 * first, then a second pass to mark it when that threw.
 */
export function* markedBodyPiecesInSteps(
  resource: Pick<FetchedResource, "finalUrl" | "headers" | "bytes">,
  as: ReadAs = {}
): Generator<void, Either.Either<MarkedPieces, DecodeError>> {
  const { encoding, why } = decodingOf(resource, as)
  if (encoding !== "utf-8") {
    const decoder = new TextDecoder(encoding)
    const parts = yield* decodeInSlices(resource.bytes, decoder, (slice) => slice, () => false)
    parts.push(decoder.decode())
    return Either.right({ text: new TextPieces(parts) })
  }
  const marker = utf8Marker()
  const decoder = new TextDecoder("utf-8")
  // Past `MAX_BAD_BYTES`, the body is refused: the rest is not read.
  const tooMany = () => marker.offsets.length > MAX_BAD_BYTES
  const parts = yield* decodeInSlices(resource.bytes, decoder, marker.write, tooMany)
  // A sequence still open at the end is cut off: its bytes are marked.
  if (!tooMany()) parts.push(decoder.decode(marker.end()))
  const first = marker.offsets[0]
  if (first === undefined) return Either.right({ text: new TextPieces(parts) })
  const error = notUtf8(resource.finalUrl, first, why)
  if (tooMany()) return Either.left(error)
  return Either.right({ text: new TextPieces(parts), bad: { offsets: marker.offsets, why, error } })
}

/**
 * Bytes `lenientBodyHead` decodes: at most 3 a character in UTF-8 (4 in GB18030), so more than
 * the 512 characters `isBinary` looks at.
 */
const HEAD_BYTES = 4 * 1024

/**
 * How the body begins, read as `bodyTextInSteps` reads it, bytes that are not text replaced by
 * U+FFFD: to tell what an unreadable body is by its first characters.
 */
export const lenientBodyHead = (resource: Pick<FetchedResource, "headers" | "bytes">, as: ReadAs = {}): string =>
  new TextDecoder(decodingOf(resource, as).encoding).decode(resource.bytes.subarray(0, HEAD_BYTES), { stream: true })

/**
 * Whether a body is JSON by its bytes, before any decoding: its first byte past a UTF-8 byte
 * order mark and whitespace is `{` or `[`, or its content type is JSON's and that byte is no
 * `<`. As `detect` tells JSON from the text: in an encoding that is not ASCII's (UTF-16) that
 * text is read by its byte order mark, which is read as it says either way.
 */
export const isJsonBody = (resource: Pick<FetchedResource, "bytes" | "contentType">): boolean => {
  const bytes = resource.bytes
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++
  const first = bytes[i]
  return first === 0x7b || first === 0x5b || (resource.contentType.endsWith("json") && first !== undefined && first !== 0x3c)
}

/** "line L, column C" (both from 1) of the character at `index` of `text`. */
export const lineColumn = (text: string | TextPieces, index: number): string => {
  if (typeof text !== "string") return text.lineColumn(index)
  const at = Math.max(0, Math.min(index, text.length))
  // Counted, not split: a document of millions of short lines made as many strings.
  let line = 1
  let lineStart = 0
  for (let nl = text.indexOf("\n"); nl !== -1 && nl < at; nl = text.indexOf("\n", nl + 1)) {
    line++
    lineStart = nl + 1
  }
  return `line ${line}, column ${at - lineStart + 1}`
}
