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

export const parseJsonBody = (text: string, url: string): Either.Either<unknown, DecodeError> => {
  try {
    return Either.right(JSON.parse(text) as unknown)
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    const position = /position (\d+)/.exec(message)?.[1]
    return Either.left(
      new DecodeError({ url, format: "json", path: position === undefined ? "(unknown)" : `position ${position}`, reason: message })
    )
  }
}
