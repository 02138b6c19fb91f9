/**
 * A fetched JSON document parsed in steps: `JSON.parse` holds the thread for as long as it takes
 * (a 20 MB feed of small items, the largest FEED_MAX_BYTES lets in: 0.6 to 1.2 s measured), and
 * a server answers nothing meanwhile. Up to `WHOLE_CHARS` it is `parseJsonBody` all the same (a
 * few milliseconds); above, @streamparser/json reads it `SLICE_CHARS` at a time, the caller
 * letting others run at each `yield`. It reads ~7 MB a second where `JSON.parse` reads 20 to 40,
 * all of it between turns of the event loop; a document it refuses is refused where it stopped,
 * in `JSON.parse`'s words, never parsed again whole.
 */
import { JSONParser, TokenizerError, TokenType } from "@streamparser/json"
import { Either } from "effect"
import { DecodeError } from "../Clients/FeedErrors.js"
import { lineColumn, parseJsonBody } from "./body.js"

/** Characters `JSON.parse` reads at once (~10 ms of it). */
export const WHOLE_CHARS = 1024 * 1024

/** Characters the streaming parser is given between two `yield`s (~5 ms of it). */
const SLICE_CHARS = 32 * 1024

/**
 * `parseJsonBody(text, url)`, in steps for a long text. A document the streaming parser cannot
 * read is refused where it stopped (`readJsonInSlices`), never handed to `JSON.parse` whole: that
 * read it all again in one call to the same fault, 1 s for 20 MB of small objects broken at the
 * end, 2.4 to 3 s for one object of a million keys.
 */
export function* readJson(text: string, url: string): Generator<void, Either.Either<unknown, DecodeError>> {
  if (text.length <= WHOLE_CHARS) return parseJsonBody(text, url)
  return yield* readJsonInSlices(text, url, SLICE_CHARS)
}

/**
 * Where the streaming parser stands between two tokens, told from the tokens read so far: before
 * a value, the first key of an object or a later one, the colon after either, after a value (a
 * `,` or the container's end), or after the document. What a fault there is, in V8's words, is
 * told by it (`refusedHere`).
 */
type Expecting = "value" | "firstKey" | "key" | "firstColon" | "colon" | "next" | "end"

/** The kind of token the tokenizer was inside of, by the state its message names. */
const tokenOfState = (state: string): "string" | "number" | "literal" | undefined =>
  state.startsWith("STRING") ? "string" : state.startsWith("NUMBER") ? "number" : /^(TRUE|FALSE|NULL)\d$/.test(state) ? "literal" : undefined

/** V8's words (`MessageTemplate::kJsonParse...`) for a fault inside a token it takes there, by the tokenizer's state. */
const faultInToken = (state: string, char: string): string | undefined => {
  if (state === "STRING_DEFAULT" && char < " ") return "Bad control character in string literal"
  // Past Latin-1, V8 says only what it found.
  if (state === "STRING_AFTER_BACKSLASH" && char <= "\xff") return "Bad escaped character"
  if (state.startsWith("STRING_UNICODE_DIGIT")) return "Bad Unicode escape"
  if (state === "NUMBER_AFTER_INITIAL_MINUS") return "No number after minus sign"
  if (state === "NUMBER_AFTER_FULL_STOP") return "Unterminated fractional number"
  if (state === "NUMBER_AFTER_E" || state === "NUMBER_AFTER_E_AND_SIGN") return "Exponent part is missing a number"
  return undefined
}

/**
 * Where the token the tokenizer stopped inside of, at `at`, begins, past `after` (where the token
 * before it begins): a literal's state counts the characters read (TRUE2: "tr"), a number is read
 * back over its characters to its sign or its first digit, a string back to its opening quote
 * (one not escaped).
 */
const tokenStart = (text: string, at: number, state: string, after: number): number => {
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

/** V8's context around an unexpected token: 10 characters either side (`JsonParser::ReportUnexpectedToken`). */
const CONTEXT = 10

/**
 * V8's words for a token where none of its kind may be, by its first character: a string, a
 * number, or any other ("Unexpected token 'x', …"…" is not valid JSON", its context as V8 cuts it).
 */
const unexpectedToken = (text: string, at: number): string => {
  const char = text.charAt(at)
  if (char === "\"") return "Unexpected string"
  if (char === "-" || (char >= "0" && char <= "9")) return "Unexpected number"
  if (text.length <= 2 * CONTEXT) return `Unexpected token '${char}', "${text}" is not valid JSON`
  const before = at >= CONTEXT ? "..." : ""
  const after = at < text.length - CONTEXT ? "..." : ""
  return `Unexpected token '${char}', ${before}"${text.slice(Math.max(0, at - CONTEXT), at + CONTEXT)}"${after} is not valid JSON`
}

/** V8's words for what it finds at `at` where the parser stood so (`expecting`, in an object or not). */
const refusedHere = (expecting: Expecting, inObject: boolean, text: string, at: number): string => {
  // A digit right after a number's leading zero ("01"): V8 refuses it as part of that number.
  if ((expecting === "next" || expecting === "end") && /[0-9]/.test(text.charAt(at)) && text.charAt(at - 1) === "0") return "Unexpected number"
  switch (expecting) {
    case "end":
      // As `parseJsonBody` words V8's "after JSON at position n".
      return "Unexpected non-whitespace character after the JSON"
    case "next":
      return inObject ? "Expected ',' or '}' after property value" : "Expected ',' or ']' after array element"
    case "firstColon":
      return "Expected ':' after property name"
    case "firstKey":
      return "Expected property name or '}'"
    case "key":
      return "Expected double-quoted property name"
    // Before a value, and after any key but the first, V8 says only what it found.
    case "colon":
    case "value":
      return unexpectedToken(text, at)
  }
}

/**
 * `text` read by the streaming parser `sliceChars` at a time, yielding between two. A document it
 * cannot read is refused at the line and column where `JSON.parse` would refuse it, in its words
 * (told from the tokens read so far and the tokenizer's state; a document that ends too early is
 * said to, as `parseJsonBody` says it). Positions: the parser counts UTF-8 bytes of what it was
 * given, turned back into characters of the slice they are in (a slice never ends between the
 * two halves of a surrogate pair, which the parser would hold back for the next).
 */
export function* readJsonInSlices(text: string, url: string, sliceChars: number): Generator<void, Either.Either<unknown, DecodeError>> {
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
  let expecting: Expecting = "value"
  // Where the parser stood before the last token: a token it refuses is refused from there.
  let lastOffset = -1
  let expectingBefore: Expecting = "value"
  let inObjectBefore = false
  const afterValue = (): Expecting => (inObject.length === 0 ? "end" : "next")
  parser.onToken = ({ offset, token }) => {
    lastOffset = offset
    expectingBefore = expecting
    inObjectBefore = inObject[inObject.length - 1] === true
    switch (token) {
      case TokenType.LEFT_BRACE:
        inObject.push(true)
        expecting = "firstKey"
        break
      case TokenType.LEFT_BRACKET:
        inObject.push(false)
        expecting = "value"
        break
      case TokenType.RIGHT_BRACE:
      case TokenType.RIGHT_BRACKET:
        inObject.pop()
        expecting = afterValue()
        break
      case TokenType.COLON:
        expecting = "value"
        break
      case TokenType.COMMA:
        expecting = inObject[inObject.length - 1] === true ? "key" : "value"
        break
      case TokenType.STRING:
        expecting = expecting === "firstKey" ? "firstColon" : expecting === "key" ? "colon" : afterValue()
        break
      default:
        expecting = afterValue()
    }
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
  const refused = (at: number, reason: string) => Either.left(new DecodeError({ url, format: "json", path: lineColumn(text, at), reason }))
  const cutOff = () => refused(text.length, "the JSON ends before it is complete (cut off?)")
  // Nothing at all, or no more after the last token where more was due ("[1, 2").
  if (fault === undefined || fault.message.startsWith("Parser ended")) return cutOff()
  if (!(fault instanceof TokenizerError)) {
    // A token where the parser refuses one of its kind (`Unexpected STRING ("b") in state COMMA`).
    const at = charAt(Math.max(0, lastOffset))
    return refused(at, refusedHere(expectingBefore, inObjectBefore, text, at))
  }
  // `Unexpected "x" at chunk position "i" (absolute position "n") in state S`, or `ended in the middle of a token (state: S)`.
  const m = /\(absolute position "(\d+)"\) in state (\w+)$/.exec(fault.message) ?? /ended in the middle of a token \(state: (\w+)\)/.exec(fault.message)
  if (m === null) return refused(text.length, fault.message)
  const [state, at] = m.length === 3 ? [m[2]!, charAt(Number(m[1]))] : [m[1]!, text.length]
  const token = tokenOfState(state)
  const inThisObject = inObject[inObject.length - 1] === true
  // Inside a token that may not be here at all: refused where it begins, as V8 does.
  const taken = token === undefined || expecting === "value" || (token === "string" && (expecting === "firstKey" || expecting === "key"))
  if (!taken) {
    const start = tokenStart(text, at, state, lastOffset === -1 ? -1 : charAt(lastOffset))
    return refused(start, refusedHere(expecting, inThisObject, text, start))
  }
  if (at === text.length) return cutOff()
  if (token === undefined) return refused(at, refusedHere(expecting, inThisObject, text, at))
  return refused(at, faultInToken(state, text.charAt(at)) ?? unexpectedToken(text, at))
}
