/**
 * A fetched JSON document parsed in steps: `JSON.parse` holds the thread for as long as it takes
 * (a 20 MB feed of small items, the largest FEED_MAX_BYTES lets in: 0.6 to 1.2 s measured), and
 * a server answers nothing meanwhile. Up to `WHOLE_CHARS` it is `JSON.parse` all the same (a few
 * milliseconds); above, @streamparser/json reads it `SLICE_CHARS` at a time, the caller letting
 * others run at each `yield`. It reads ~7 MB a second where `JSON.parse` reads 20 to 40, all of it
 * between turns of the event loop. A document either refuses is refused in one wording of our
 * own, whatever its size: where it breaks, and the character there. A long text is taken in the
 * pieces it was decoded in (`TextPieces`), never joined.
 */
import { JSONParser, TokenizerError, TokenType } from "@streamparser/json"
import { Either } from "effect"
import { DecodeError } from "../Clients/FeedErrors.js"
import { lineColumn } from "./body.js"
import { TextPieces } from "./textPieces.js"

/** Characters `JSON.parse` reads at once (~10 ms of it). */
export const WHOLE_CHARS = 1024 * 1024

/** Characters the streaming parser is given between two `yield`s (~5 ms of it). */
const SLICE_CHARS = 32 * 1024

/**
 * `text` read as JSON, in steps for a long text. A long document the streaming parser refuses is
 * never handed to `JSON.parse` whole: that read it all again in one call to the same fault, 1 s
 * for 20 MB of small objects broken at the end, 2.4 to 3 s for one object of a million keys. A
 * short one `JSON.parse` refuses is told by the streaming parser too (in steps, up to where it
 * breaks), so that an error reads the same at any size: V8 gave a position for some of its errors
 * only, and quoted the text around the others. `text` in pieces (`TextPieces`) is joined only
 * when short.
 */
export function* readJson(text: string | TextPieces, url: string): Generator<void, Either.Either<unknown, DecodeError>> {
  if (text.length > WHOLE_CHARS) return yield* readJsonInSlices(text, url, SLICE_CHARS)
  const whole = typeof text === "string" ? text : text.joined()
  try {
    return Either.right(JSON.parse(whole) as unknown)
  } catch {
    // Told below, as a long document's error is.
  }
  return yield* readJsonInSlices(whole, url, SLICE_CHARS)
}

const CUT_OFF = "the JSON ends before it is complete (cut off?)"

/** The character at `at` as an error names it: itself, or its code point where it would not show. */
const shown = (text: TextPieces, at: number): string => {
  const code = text.codePointAt(at)!
  const char = String.fromCodePoint(code)
  return /[\p{L}\p{N}\p{P}\p{S}]/u.test(char) ? `'${char}'` : `U+${code.toString(16).toUpperCase().padStart(4, "0")}`
}

/** The kind of token the tokenizer was inside of, by the state its message names. */
const tokenOfState = (state: string): "string" | "number" | "literal" | undefined =>
  state.startsWith("STRING") ? "string" : state.startsWith("NUMBER") ? "number" : /^(TRUE|FALSE|NULL)\d$/.test(state) ? "literal" : undefined

/**
 * Where the token the tokenizer stopped inside of, at `at`, begins, past `after` (where the token
 * before it begins): a literal's state counts the characters read (TRUE2: "tr"), a number is read
 * back over its characters to its sign or its first digit, a string back to its opening quote
 * (one not escaped).
 */
const tokenStart = (text: TextPieces, at: number, state: string, after: number): number => {
  const token = tokenOfState(state)
  if (token === "literal") return at - Number(state.slice(-1))
  let i = at
  if (token === "number") {
    while (i > after + 1 && /[0-9.eE+]/.test(text.charAt(i - 1))) i--
    // A minus sign not after an exponent's "e" is where the number begins.
    if (i > after + 1 && text.charAt(i - 1) === "-") i--
    while (i < at && !/[0-9-]/.test(text.charAt(i))) i++
    return i
  }
  for (i = at - 1; i > after + 1; i--) {
    if (text.charAt(i) !== "\"") continue
    let backslashes = 0
    while (text.charAt(i - 1 - backslashes) === "\\") backslashes++
    if (backslashes % 2 === 0) return i
  }
  return i
}

/**
 * `text` read by the streaming parser `sliceChars` at a time, yielding between two. A document it
 * cannot read is refused at the line and column where it breaks: the first character no JSON
 * document could go on with (a token begun where none of its kind may be, `[1 tru`, breaks where
 * it begins, not where the tokenizer gave up on it), named; or its end, where it ends too early.
 * Positions: the parser counts UTF-8 bytes of what it was given, turned back into characters of
 * the slice they are in (a slice never ends between the two halves of a surrogate pair, which the
 * parser would hold back for the next). Slices are cut from `text`'s pieces as from the whole
 * string: the same slices, the same positions.
 */
export function* readJsonInSlices(input: string | TextPieces, url: string, sliceChars: number): Generator<void, Either.Either<unknown, DecodeError>> {
  const text = typeof input === "string" ? TextPieces.of(input) : input
  const parser = new JSONParser()
  let value: unknown
  let read = false
  let fault: Error | undefined
  parser.onValue = ({ stack, value: parsed }) => {
    if (stack.length === 0) {
      value = parsed
      read = true
    }
  }
  parser.onError = (error) => {
    fault ??= error
  }
  /** Whether each open container is an object, innermost last. */
  const inObject: Array<boolean> = []
  // What may begin after the last token: a value, a key (a string), or neither.
  let due: "value" | "key" | "neither" = "value"
  let lastOffset = -1
  parser.onToken = ({ offset, token }) => {
    lastOffset = offset
    if (token === TokenType.LEFT_BRACE || token === TokenType.LEFT_BRACKET) inObject.push(token === TokenType.LEFT_BRACE)
    if (token === TokenType.RIGHT_BRACE || token === TokenType.RIGHT_BRACKET) inObject.pop()
    const objectOpen = inObject[inObject.length - 1] === true
    due = token === TokenType.LEFT_BRACE || (token === TokenType.COMMA && objectOpen)
      ? "key"
      : token === TokenType.LEFT_BRACKET || token === TokenType.COLON || token === TokenType.COMMA
      ? "value"
      : "neither"
  }
  /** Where each slice given to the parser starts, in UTF-8 bytes and in characters. */
  const starts: Array<{ readonly byte: number; readonly char: number }> = []
  let bytes = 0
  for (let from = 0; from < text.length && fault === undefined;) {
    let to = Math.min(text.length, from + sliceChars)
    const last = text.charCodeAt(to - 1)
    if (to < text.length && last >= 0xd800 && last <= 0xdbff) to++
    const slice = text.slice(from, to)
    starts.push({ byte: bytes, char: from })
    bytes += Buffer.byteLength(slice, "utf8")
    parser.write(slice)
    from = to
    if (fault === undefined && from < text.length) yield
  }
  if (fault === undefined && !parser.isEnded) parser.end()
  if (fault === undefined && read) return Either.right(value)
  /** The character at UTF-8 byte `byte` of what the parser was given. */
  const charAt = (byte: number): number => {
    let i = starts.length - 1
    while (i > 0 && starts[i]!.byte > byte) i--
    const start = starts[i] ?? { byte: 0, char: 0 }
    const slice = text.slice(start.char, i + 1 < starts.length ? starts[i + 1]!.char : text.length)
    return start.char + Buffer.from(slice, "utf8").subarray(0, byte - start.byte).toString("utf8").length
  }
  const refused = (at: number, reason = at < text.length ? `unexpected ${shown(text, at)}` : CUT_OFF) =>
    Either.left(new DecodeError({ url, format: "json", path: lineColumn(text, at), reason }))
  // Nothing at all, or no more after the last token where more was due ("[1, 2").
  if (fault === undefined || fault.message.startsWith("Parser ended")) return refused(text.length)
  // A whole token where the parser refuses one of its kind (`Unexpected STRING ("b") in state COMMA`).
  if (!(fault instanceof TokenizerError)) return refused(charAt(Math.max(0, lastOffset)))
  // `Unexpected "x" at chunk position "i" (absolute position "n") in state S`, or `ended in the middle of a token (state: S)`.
  const m = /\(absolute position "(\d+)"\) in state (\w+)$/.exec(fault.message) ?? /ended in the middle of a token \(state: (\w+)\)/.exec(fault.message)
  if (m === null) return refused(text.length, fault.message)
  const [state, at] = m.length === 3 ? [m[2]!, charAt(Number(m[1]))] : [m[1]!, text.length]
  const token = tokenOfState(state)
  const mayBegin = token === undefined || due === "value" || (token === "string" && due === "key")
  return refused(mayBegin ? at : tokenStart(text, at, state, lastOffset === -1 ? -1 : charAt(lastOffset)))
}
