/**
 * Turning fetched bytes into text and JSON: the charset from `Content-Type`, else from the XML
 * declaration, else UTF-8 (read strictly, or with each bad byte marked for a feed to fail only the
 * items it is in; a BOM is dropped); JSON errors with the parser's position.
 */
import { Either } from "effect"
import type { FetchedResource } from "../Clients/FeedClient.js"
import { DecodeError } from "../Clients/FeedErrors.js"
import { type BadBytes, MAX_BAD_BYTES, utf8Marker } from "./badBytes.js"

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

const strictUtf8 = new TextDecoder("utf-8", { fatal: true })
const lenientUtf8 = new TextDecoder("utf-8")

/** Why a body was read as UTF-8, for a message about its bytes that are not. */
const whyUtf8 = (charset: ReturnType<typeof charsetOf>, encoding: string | undefined): string =>
  charset === undefined
    ? "no charset given: read as UTF-8"
    : encoding === undefined
    // An unknown label: UTF-8 is the best guess on the web.
    ? `charset "${charset.label}" is unknown: read as UTF-8`
    : `${charset.from} says UTF-8`

const notUtf8 = (url: string, offset: number, why: string) =>
  new DecodeError({
    url,
    format: "http",
    path: `byte ${offset}`,
    reason: `not valid UTF-8: invalid or truncated sequence at byte offset ${offset} (${why})`
  })

/**
 * The body as text, in the charset it says (`Content-Type`, else its XML declaration), else
 * UTF-8; a BOM is dropped. UTF-8 is read strictly: a body that is not UTF-8 is a `DecodeError`
 * naming the URL and the first bad byte's offset, as a file's or a request's body is refused,
 * never a post with U+FFFD in place of what the source wrote (a Latin-1 feed labelled UTF-8).
 * Other charsets are read as the WHATWG decoder reads them.
 */
export const bodyText = (resource: Pick<FetchedResource, "finalUrl" | "headers" | "bytes">): Either.Either<string, DecodeError> =>
  Either.flatMap(markedBodyText(resource), (body) => body.bad === undefined ? Either.right(body.text) : Either.left(body.bad.error))

/** A body read as text, and when it is not all UTF-8, where its bad bytes are (`badBytes.ts`). */
export interface MarkedBody {
  readonly text: string
  readonly bad?: (BadBytes & { readonly why: string; readonly error: DecodeError }) | undefined
}

/**
 * The body as `bodyText` reads it, except that a body read as UTF-8 with bytes that are not is
 * read with a marker in place of each (`utf8Marker`), for a feed to fail only the items they are
 * in. `bad.error` is what refusing the body whole says (the URL and the first bad byte), for a
 * body that cannot be read even so (a bad byte in its markup). Past `MAX_BAD_BYTES` bad bytes, it
 * is that error.
 */
export const markedBodyText = (resource: Pick<FetchedResource, "finalUrl" | "headers" | "bytes">): Either.Either<MarkedBody, DecodeError> => {
  const charset = charsetOf(resource)
  const encoding = charset === undefined ? "utf-8" : encodingOf(charset.label)
  if (encoding !== undefined && encoding !== "utf-8") return Either.right({ text: new TextDecoder(encoding).decode(resource.bytes) })
  try {
    return Either.right({ text: strictUtf8.decode(resource.bytes) })
  } catch {
    const why = whyUtf8(charset, encoding)
    const marker = utf8Marker()
    const marked = Buffer.concat([marker.write(resource.bytes), marker.end()])
    // Not thrown by a strict decoder, yet no bad byte found: nothing to mark, said at byte 0.
    const first = marker.offsets[0] ?? 0
    const error = notUtf8(resource.finalUrl, first, why)
    if (marker.offsets.length === 0 || marker.offsets.length > MAX_BAD_BYTES) return Either.left(error)
    return Either.right({ text: lenientUtf8.decode(marked), bad: { offsets: marker.offsets, why, error } })
  }
}

/** The body as `bodyText` reads it, bytes that are not text replaced by U+FFFD: to tell what an unreadable body is. */
export const lenientBodyText = (resource: Pick<FetchedResource, "headers" | "bytes">): string => {
  const charset = charsetOf(resource)
  return new TextDecoder((charset === undefined ? undefined : encodingOf(charset.label)) ?? "utf-8").decode(resource.bytes)
}

/** "line L, column C" (both from 1) of the character at `index` of `text`. */
export const lineColumn = (text: string, index: number): string => {
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

/** V8's context around an unexpected token: 10 characters either side (`JsonParser::ReportUnexpectedToken`). */
const CONTEXT = 10

/**
 * Where V8's "Unexpected token 'x', "…"… is not valid JSON" is, which gives no offset, only up to
 * 10 characters either side of it: `..."` before them when there is text before, `"...` after
 * when there is text after, the whole text when under 21 characters. Undefined when the message
 * is not of that kind.
 */
const unexpectedTokenAt = (message: string, text: string): number | undefined => {
  const m = /^Unexpected token '([\s\S]{1,2})', (\.\.\.)?"([\s\S]*)"(\.\.\.)? is not valid JSON$/.exec(message)
  if (m === null) return undefined
  const [, token, before, context, after] = m as unknown as [string, string, string | undefined, string, string | undefined]
  if (before === undefined && after === undefined) {
    // The whole text, under 21 characters: the token's first occurrence (it may be a later one).
    const at = text.indexOf(token)
    return at === -1 ? undefined : at
  }
  if (before === undefined) return context.length - CONTEXT
  if (after === undefined) return text.length - context.length + CONTEXT
  const start = text.indexOf(context)
  return start === -1 ? undefined : start + CONTEXT
}

/**
 * JSON.parse with an error that says where, as a line and column (V8 gives a character offset,
 * or for an unexpected token the text around it, or nothing at all when the text ends too
 * early: then it is the end), and what, without V8's "in JSON at position n" repeating it. An
 * unexpected token was placed at the end too: an RSS body where JSON was due was "line 6".
 */
export const parseJsonBody = (text: string, url: string): Either.Either<unknown, DecodeError> => {
  try {
    return Either.right(JSON.parse(text) as unknown)
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    const position = /at position (\d+)/.exec(message)?.[1] ?? unexpectedTokenAt(message, text)
    const reason = /Unexpected end of JSON input/.test(message)
      ? "the JSON ends before it is complete (cut off?)"
      : message.replace(/\s*in JSON at position \d+(?:\s*\(line \d+ column \d+\))?/, "").replace(/ after JSON at position \d+/, " after the JSON")
    return Either.left(
      new DecodeError({ url, format: "json", path: lineColumn(text, position === undefined ? text.length : Number(position)), reason })
    )
  }
}
