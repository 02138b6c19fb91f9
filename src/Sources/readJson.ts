/**
 * A fetched JSON document parsed in steps: `JSON.parse` holds the thread for as long as it takes
 * (a 20 MB feed of small items, the largest FEED_MAX_BYTES lets in: 0.6 to 1.2 s measured), and
 * a server answers nothing meanwhile. Up to `WHOLE_CHARS` it is `parseJsonBody` all the same (a
 * few milliseconds); above, @streamparser/json reads it `SLICE_CHARS` at a time, the caller
 * letting others run at each `yield`. It reads ~7 MB a second where `JSON.parse` reads 20 to 40,
 * all of it between turns of the event loop.
 */
import { JSONParser } from "@streamparser/json"
import { Either } from "effect"
import type { DecodeError } from "../Clients/FeedErrors.js"
import { parseJsonBody } from "./body.js"

/** Characters `JSON.parse` reads at once (~10 ms of it). */
export const WHOLE_CHARS = 1024 * 1024

/** Characters the streaming parser is given between two `yield`s (~5 ms of it). */
const SLICE_CHARS = 32 * 1024

/**
 * `parseJsonBody(text, url)`, in steps for a long text. A document the streaming parser cannot
 * read is handed to `parseJsonBody` whole, once: its error says where and what as it does for
 * any other (and, should the two parsers ever disagree, `JSON.parse` decides).
 */
export function* readJson(text: string, url: string): Generator<void, Either.Either<unknown, DecodeError>> {
  if (text.length <= WHOLE_CHARS) return parseJsonBody(text, url)
  const parser = new JSONParser()
  let value: unknown
  let read = false
  let failed = false
  parser.onValue = ({ stack, value: parsed }) => {
    if (stack.length === 0) {
      value = parsed
      read = true
    }
  }
  parser.onError = () => {
    failed = true
  }
  for (let from = 0; from < text.length && !failed; from += SLICE_CHARS) {
    parser.write(text.slice(from, from + SLICE_CHARS))
    if (!failed && from + SLICE_CHARS < text.length) yield
  }
  if (!failed && !parser.isEnded) parser.end()
  return failed || !read ? parseJsonBody(text, url) : Either.right(value)
}
