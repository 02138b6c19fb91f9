/**
 * Turning fetched bytes into text and JSON: the charset from `Content-Type`, else from the XML
 * declaration, else UTF-8 (read strictly; a BOM is dropped); JSON errors with the parser's position.
 */
import { Either } from "effect"
import type { FetchedResource } from "../Clients/FeedClient.js"
import { DecodeError } from "../Clients/FeedErrors.js"
import { findInvalidUtf8 } from "../Domain/utf8.js"

/** The charset the body says it is in, and where it says so. */
const charsetOf = (resource: Pick<FetchedResource, "headers" | "bytes">): { readonly label: string; readonly from: string } | undefined => {
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

/**
 * The body as text, in the charset it says (`Content-Type`, else its XML declaration), else
 * UTF-8; a BOM is dropped. UTF-8 is read strictly: a body that is not UTF-8 is a `DecodeError`
 * naming the URL and the first bad byte's offset, as a file's or a request's body is refused,
 * never a post with U+FFFD in place of what the source wrote (a Latin-1 feed labelled UTF-8).
 * Other charsets are read as the WHATWG decoder reads them.
 */
export const bodyText = (resource: Pick<FetchedResource, "finalUrl" | "headers" | "bytes">): Either.Either<string, DecodeError> => {
  const charset = charsetOf(resource)
  const encoding = charset === undefined ? "utf-8" : encodingOf(charset.label)
  if (encoding !== undefined && encoding !== "utf-8") return Either.right(new TextDecoder(encoding).decode(resource.bytes))
  try {
    return Either.right(strictUtf8.decode(resource.bytes))
  } catch {
    const offset = Math.max(0, findInvalidUtf8(resource.bytes))
    const why = charset === undefined
      ? "no charset given: read as UTF-8"
      : encoding === undefined
      // An unknown label: UTF-8 is the best guess on the web.
      ? `charset "${charset.label}" is unknown: read as UTF-8`
      : `${charset.from} says UTF-8`
    return Either.left(
      new DecodeError({
        url: resource.finalUrl,
        format: "http",
        path: `byte ${offset}`,
        reason: `not valid UTF-8: invalid or truncated sequence at byte offset ${offset} (${why})`
      })
    )
  }
}

/** The body as `bodyText` reads it, bytes that are not text replaced by U+FFFD: to tell what an unreadable body is. */
export const lenientBodyText = (resource: Pick<FetchedResource, "headers" | "bytes">): string => {
  const charset = charsetOf(resource)
  return new TextDecoder((charset === undefined ? undefined : encodingOf(charset.label)) ?? "utf-8").decode(resource.bytes)
}

/** "line L, column C" (both from 1) of the character at `index` of `text`. */
export const lineColumn = (text: string, index: number): string => {
  const before = text.slice(0, Math.max(0, Math.min(index, text.length)))
  const lines = before.split("\n")
  return `line ${lines.length}, column ${lines[lines.length - 1]!.length + 1}`
}

/**
 * JSON.parse with an error that says where, as a line and column (V8 gives a character offset,
 * or nothing at all when the text ends too early: then it is the end), and what, without V8's
 * "in JSON at position n" repeating it.
 */
export const parseJsonBody = (text: string, url: string): Either.Either<unknown, DecodeError> => {
  try {
    return Either.right(JSON.parse(text) as unknown)
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    const position = /at position (\d+)/.exec(message)?.[1]
    const reason = /Unexpected end of JSON input/.test(message)
      ? "the JSON ends before it is complete (cut off?)"
      : message.replace(/\s*in JSON at position \d+(?:\s*\(line \d+ column \d+\))?/, "").replace(/ after JSON at position \d+/, " after the JSON")
    return Either.left(
      new DecodeError({ url, format: "json", path: lineColumn(text, position === undefined ? text.length : Number(position)), reason })
    )
  }
}
