/**
 * Turning fetched bytes into text and JSON: the charset from `Content-Type`, else from the XML
 * declaration, else UTF-8 (a BOM is dropped); JSON errors with the parser's position.
 */
import { Either } from "effect"
import type { FetchedResource } from "../Clients/FeedClient.js"
import { DecodeError } from "../Clients/FeedErrors.js"

const charsetOf = (resource: Pick<FetchedResource, "headers" | "bytes">): string | undefined => {
  const header = /charset\s*=\s*"?([^";\s]+)/i.exec(resource.headers["content-type"] ?? "")?.[1]
  if (header !== undefined) return header
  const head = new TextDecoder("latin1").decode(resource.bytes.subarray(0, 200))
  return /^\s*<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/i.exec(head)?.[1]
}

export const bodyText = (resource: Pick<FetchedResource, "headers" | "bytes">): string => {
  const charset = charsetOf(resource)
  try {
    return new TextDecoder(charset ?? "utf-8").decode(resource.bytes)
  } catch {
    // An unknown label: UTF-8 is the best guess on the web.
    return new TextDecoder("utf-8").decode(resource.bytes)
  }
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
