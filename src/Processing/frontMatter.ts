/**
 * Front matter splitting and parsing: YAML (`---`), TOML (`+++`) and JSON (`{ ... }`).
 * Pure; never throws: library exceptions become a `FrontMatterError` with a file line when known.
 */
import { Either } from "effect"
import { parse as parseToml, TomlError } from "smol-toml"
import { parse as parseYaml, YAMLParseError } from "yaml"

export type FrontMatterFormat = "yaml" | "toml" | "json" | "none"

export interface FrontMatter {
  readonly format: FrontMatterFormat
  readonly data: Readonly<Record<string, unknown>>
  /** The front matter text, without fences. */
  readonly text: string
  /** File line (1-based) of the first front matter line, to turn parser lines into file lines. */
  readonly firstLine: number
  /** Markdown after the front matter. */
  readonly body: string
}

export interface FrontMatterError {
  readonly reason: string
  /** File line (1-based), when the parser reports one. */
  readonly line?: number
}

const fail = (reason: string, line?: number): Either.Either<never, FrontMatterError> =>
  Either.left(line === undefined ? { reason } : { reason, line })

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** First line of a multi-line parser message: the rest is a code excerpt we already point to by line. */
const firstLineOf = (s: string): string => s.split("\n", 1)[0]!.trim()

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date)

/** Finds the closing fence line; returns the offsets of the fence line's start and of the body. */
const findFence = (raw: string, from: number, fence: RegExp): { start: number; end: number } | undefined => {
  fence.lastIndex = from
  const m = fence.exec(raw)
  return m === null ? undefined : { start: m.index, end: m.index + m[0].length }
}

const lineAt = (raw: string, offset: number): number => {
  let line = 1
  for (let i = raw.indexOf("\n"); i !== -1 && i < offset; i = raw.indexOf("\n", i + 1)) line++
  return line
}

/** End offset of a JSON object starting at `start`, tracking strings so braces inside them don't count. */
const jsonObjectEnd = (raw: string, start: number): number | undefined => {
  let depth = 0
  let inString = false
  for (let i = start; i < raw.length; i++) {
    const c = raw.charCodeAt(i)
    if (inString) {
      if (c === 92 /* \ */) i++
      else if (c === 34 /* " */) inString = false
    } else if (c === 34) inString = true
    else if (c === 123 /* { */) depth++
    else if (c === 125 /* } */ && --depth === 0) return i + 1
  }
  return undefined
}

/**
 * A line ends as CommonMark ends it: LF, CRLF or a bare CR (old Mac files). A file of bare CRs
 * lost its front matter, read as none, and the post failed for want of a title.
 */
const LINE_END = /^(?:\r\n?|\n)/

const stripBody = (raw: string, offset: number): string => raw.slice(offset).replace(LINE_END, "")

/**
 * Front matter text as its parser reads it: a bare CR as LF, one line break for another, so that
 * the parsers' lines (and `lineAt`'s) are the file's. The YAML parser takes a bare CR for no line
 * break at all, and TOML allows none; CRLF stays as written, as the parsers always read it.
 */
const bareCrAsLf = (text: string): string => (text.includes("\r") ? text.replace(/\r(?!\n)/g, "\n") : text)

/**
 * Closing fence lines: a line of its own between line ends of `LINE_END`'s kinds, or the end of
 * the file. Not JavaScript's multiline `^`/`$`, which also break lines at U+2028 and U+2029: a
 * YAML or TOML value holding one (YAML 1.2 and TOML read them as text, as CommonMark does) ended
 * the front matter there, and the rest of it became the body.
 */
const YAML_CLOSE = /(?<=[\r\n])(?:---|\.\.\.)[ \t]*(?=[\r\n]|$)/g
const TOML_CLOSE = /(?<=[\r\n])\+\+\+[ \t]*(?=[\r\n]|$)/g

/** Where the front matter of `raw` (no byte-order mark) is, found without parsing it. */
type Located =
  | { readonly format: "yaml" | "toml" | "json"; readonly textStart: number; readonly textEnd: number; readonly end: number }
  | { readonly format: "none" }
  | { readonly format: "unterminated"; readonly fence: "---" | "+++" | "{" }

const locate = (raw: string): Located => {
  const open = /^(---|\+\+\+)[ \t]*(?:\r\n?|\n)/.exec(raw)
  if (open !== null) {
    const isToml = open[1] === "+++"
    const fence = isToml ? TOML_CLOSE : YAML_CLOSE
    const close = findFence(raw, open[0].length, fence)
    if (close === undefined) return { format: "unterminated", fence: isToml ? "+++" : "---" }
    return { format: isToml ? "toml" : "yaml", textStart: open[0].length, textEnd: close.start, end: close.end }
  }
  if (/^\{\s*"/.test(raw) || /^\{\s*\}/.test(raw)) {
    const end = jsonObjectEnd(raw, 0)
    return end === undefined ? { format: "unterminated", fence: "{" } : { format: "json", textStart: 0, textEnd: end, end }
  }
  return { format: "none" }
}

/**
 * Offset in `raw` (no byte-order mark) just past its front matter (the closing `---`/`+++` line
 * without its line break, or the JSON object's `}`); 0 without front matter or when it is not
 * terminated. Found as `parseFrontMatter` finds it, without parsing: for the content hash.
 */
export const frontMatterEnd = (raw: string): number => {
  const at = locate(raw)
  return at.format === "yaml" || at.format === "toml" || at.format === "json" ? at.end : 0
}

/**
 * Splits `raw` into front matter and body and parses the front matter.
 * No front matter at all is fine (empty data); an opened but unterminated block is an error.
 */
export const parseFrontMatter = (input: string): Either.Either<FrontMatter, FrontMatterError> => {
  const raw = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input
  const at = locate(raw)
  switch (at.format) {
    case "none":
      return Either.right({ format: "none", data: {}, text: "", firstLine: 1, body: raw })
    case "unterminated":
      return at.fence === "{"
        ? fail("unterminated JSON front matter (no closing })", 1)
        : fail(`unterminated ${at.fence} front matter (opened on line 1, no closing ${at.fence} line)`, 1)
    case "json":
      return parseJsonText(bareCrAsLf(raw.slice(0, at.end)), stripBody(raw, at.end))
    default: {
      const text = bareCrAsLf(raw.slice(at.textStart, at.textEnd))
      const body = stripBody(raw, at.end)
      return at.format === "toml" ? parseTomlText(text, body) : parseYamlText(text, body)
    }
  }
}

const parseTomlText = (text: string, body: string): Either.Either<FrontMatter, FrontMatterError> => {
  try {
    // Integers past 2^53 as bigints (kept exact in metadata as strings, `toJsonSafe`): without
    // it smol-toml refused the whole post ("cannot be represented losslessly").
    const data: unknown = parseToml(text, { integersAsBigInt: "asNeeded" })
    return Either.right({ format: "toml", data: data as Record<string, unknown>, text, firstLine: 2, body })
  } catch (e) {
    if (e instanceof TomlError) return fail(`invalid TOML: ${firstLineOf(e.message)}`, e.line + 1)
    return fail(`invalid TOML: ${firstLineOf(errorMessage(e))}`)
  }
}

const parseYamlText = (text: string, body: string): Either.Either<FrontMatter, FrontMatterError> => {
  let data: unknown
  try {
    // `uniqueKeys` (default) makes a duplicated key an error instead of a silent overwrite.
    // `intAsBigInt`: every integer a bigint, so one past 2^53 is not silently rounded; safe ones
    // are numbers again in `toJsonSafe`, as smol-toml's "asNeeded" gives them.
    data = parseYaml(text, { prettyErrors: true, maxAliasCount: 100, logLevel: "error", intAsBigInt: true })
  } catch (e) {
    if (e instanceof YAMLParseError) {
      const line = e.linePos?.[0]?.line
      // The library's "at line N, column M:" counts from the first front matter line and ends
      // where its code excerpt (cut off here) began; the error already carries the file line.
      const reason = firstLineOf(e.message).replace(/\s+at line \d+, column (\d+):$/, " at column $1")
      return fail(`invalid YAML: ${reason}`, line === undefined ? undefined : line + 1)
    }
    return fail(`invalid YAML: ${firstLineOf(errorMessage(e))}`)
  }
  if (data === null || data === undefined) return Either.right({ format: "yaml", data: {}, text, firstLine: 2, body })
  if (!isPlainObject(data)) return fail("YAML front matter must be a mapping of keys to values", 2)
  return Either.right({ format: "yaml", data, text, firstLine: 2, body })
}

const parseJsonText = (text: string, body: string): Either.Either<FrontMatter, FrontMatterError> => {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (e) {
    // Node 20's messages name no position for some errors (`Unexpected token 'x', "<excerpt>" is
    // not valid JSON`), and quote an excerpt that may hold a line break: our own reading says
    // where and what, for every error.
    const problem = jsonProblem(text)
    if (problem !== undefined) return failAt(text, problem)
    const message = errorMessage(e)
    const pos = /position (\d+)/.exec(message)
    return fail(`invalid JSON: ${message.replace(/\s+/g, " ").trim()}`, pos === null ? 1 : lineAt(text, Number(pos[1])))
  }
  // `JSON.parse` keeps the last of a key given twice: `"draft": true, ..., "draft": false`
  // published a draft. YAML and TOML refuse it, as the API refuses it in a JSON body.
  const duplicate = jsonProblem(text)
  if (duplicate?.duplicate === true) return failAt(text, duplicate)
  if (!isPlainObject(data)) return fail("JSON front matter must be an object", 1)
  return Either.right({ format: "json", data, text, firstLine: 1, body })
}

const failAt = (text: string, problem: JsonProblem): Either.Either<never, FrontMatterError> => {
  const column = problem.offset - text.lastIndexOf("\n", problem.offset - 1)
  return fail(`invalid JSON: ${problem.reason} at column ${column}`, lineAt(text, problem.offset))
}

export interface JsonProblem {
  /** Where it is, in UTF-16 units. */
  readonly offset: number
  readonly reason: string
  /** A key its object has twice (the text is JSON otherwise, as far as it was read). */
  readonly duplicate: boolean
}

const isJsonSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)

/** A character as a message names it: itself, or its code point when it would not show. */
const shown = (text: string, at: number): string => {
  const cp = text.codePointAt(at)!
  return /[\p{L}\p{N}\p{P}\p{S}]/u.test(String.fromCodePoint(cp))
    ? `'${String.fromCodePoint(cp)}'`
    : `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`
}

/**
 * The first problem of `text` read as JSON, as `JSON.parse` reads it (ECMA-404: whitespace is
 * space, tab, CR, LF; no trailing commas, comments or single quotes), in text order: a syntax
 * error, or a key that its object already has (compared decoded: `"a"` and `"\u0061"` are one
 * key). Iterative, so any nesting depth is read without recursion.
 */
export const jsonProblem = (text: string): JsonProblem | undefined => {
  const problem = (offset: number, reason: string, duplicate = false): JsonProblem => ({ offset, reason, duplicate })
  const end = (at: number): JsonProblem => problem(at, "unexpected end of JSON input")
  /** Index just past the string starting at `at`, or its problem. */
  const string = (at: number): number | JsonProblem => {
    for (let i = at + 1; ; i++) {
      if (i >= text.length) return problem(at, "unterminated string")
      const c = text.charCodeAt(i)
      if (c === 0x22 /* " */) return i + 1
      if (c < 0x20) return problem(i, `bad control character ${shown(text, i)} in string literal`)
      if (c === 0x5c /* \ */) {
        const e = text.charCodeAt(i + 1)
        if (e === 0x75 /* u */) {
          for (let h = i + 2; h < i + 6; h++) if (!isHex(text.charCodeAt(h))) return problem(i, "bad Unicode escape")
          i += 5
        } else if (i + 1 < text.length && "\"\\/bfnrt".includes(text.charAt(i + 1))) i++
        else return i + 1 >= text.length ? problem(at, "unterminated string") : problem(i, "bad escaped character")
      }
    }
  }
  /** Index just past the number starting at `at`, or its problem. */
  const number = (at: number): number | JsonProblem => {
    let i = at
    if (text.charCodeAt(i) === 0x2d /* - */) {
      i++
      if (!isDigit(text.charCodeAt(i))) return problem(at, "no number after minus sign")
    }
    if (text.charCodeAt(i) === 0x30 /* 0 */) {
      i++
      if (isDigit(text.charCodeAt(i))) return problem(at, "a number may not start with a leading zero")
    } else while (isDigit(text.charCodeAt(i))) i++
    if (text.charCodeAt(i) === 0x2e /* . */) {
      i++
      if (!isDigit(text.charCodeAt(i))) return problem(at, "unterminated fractional number")
      while (isDigit(text.charCodeAt(i))) i++
    }
    if (text.charCodeAt(i) === 0x65 /* e */ || text.charCodeAt(i) === 0x45 /* E */) {
      i++
      if (text.charCodeAt(i) === 0x2b /* + */ || text.charCodeAt(i) === 0x2d /* - */) i++
      if (!isDigit(text.charCodeAt(i))) return problem(at, "exponent part is missing a number")
      while (isDigit(text.charCodeAt(i))) i++
    }
    return i
  }

  // One frame per open container: an object's keys so far, or `undefined` for an array.
  const frames: Array<Set<string> | undefined> = []
  let state: "value" | "valueOrClose" | "key" | "keyOrClose" | "after" = "value"
  let i = 0
  for (;;) {
    while (isJsonSpace(text.charCodeAt(i))) i++
    const c = text.charCodeAt(i)
    const frame = frames[frames.length - 1]
    if (state === "after") {
      if (frames.length === 0) return i < text.length ? problem(i, `unexpected ${shown(text, i)} after the JSON value`) : undefined
      if (i >= text.length) return end(i)
      if (c === 0x2c /* , */) {
        i++
        state = frame === undefined ? "value" : "key"
      } else if (c === (frame === undefined ? 0x5d /* ] */ : 0x7d /* } */)) {
        i++
        frames.pop()
      } else {
        return problem(i, frame === undefined ? "expected ',' or ']' after an array element" : "expected ',' or '}' after a property value")
      }
      continue
    }
    if (i >= text.length) return end(i)
    if (state === "key" || state === "keyOrClose") {
      if (state === "keyOrClose" && c === 0x7d /* } */) {
        i++
        frames.pop()
        state = "after"
        continue
      }
      if (c !== 0x22) return problem(i, state === "key" ? "expected a double-quoted property name" : "expected a double-quoted property name or '}'")
      const keyEnd = string(i)
      if (typeof keyEnd !== "number") return keyEnd
      const key = JSON.parse(text.slice(i, keyEnd)) as string
      if (frame!.has(key)) return problem(i, `duplicate key ${JSON.stringify(key)}`, true)
      frame!.add(key)
      i = keyEnd
      while (isJsonSpace(text.charCodeAt(i))) i++
      if (i >= text.length) return end(i)
      if (text.charCodeAt(i) !== 0x3a /* : */) return problem(i, "expected ':' after a property name")
      i++
      state = "value"
      continue
    }
    // A value.
    if (state === "valueOrClose" && c === 0x5d /* ] */) {
      i++
      frames.pop()
      state = "after"
      continue
    }
    if (c === 0x7b /* { */) {
      frames.push(new Set())
      i++
      state = "keyOrClose"
      continue
    }
    if (c === 0x5b /* [ */) {
      frames.push(undefined)
      i++
      state = "valueOrClose"
      continue
    }
    let next: number | JsonProblem
    if (c === 0x22) next = string(i)
    else if (c === 0x2d || isDigit(c)) next = number(i)
    else {
      const literal = ["true", "false", "null"].find((word) => text.startsWith(word, i))
      if (literal === undefined) return problem(i, `unexpected ${shown(text, i)}`)
      next = i + literal.length
    }
    if (typeof next !== "number") return next
    i = next
    state = "after"
  }
}

/** Where a top-level key is written in `fm.text` (best effort: YAML `key:`, TOML `key =`, JSON `"key":`). */
const keyMatch = (fm: FrontMatter, key: string): RegExpExecArray | null => {
  if (fm.format === "none") return null
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
  // A line starts after a LF only (`fm.text` has its bare CRs as LF), not after a U+2028 or
  // U+2029 inside a value, as the multiline flag would have it.
  const lineStart = "(?<![^\\n])"
  const re =
    fm.format === "json"
      ? new RegExp(`"${escaped}"\\s*:`)
      : fm.format === "toml"
        // `key = ...`, or a `[key]` table header (`[taxonomies]`).
        ? new RegExp(`${lineStart}[ \\t]*(?:["']?${escaped}["']?[ \\t]*=|\\[[ \\t]*["']?${escaped}["']?[ \\t]*\\])`)
        : new RegExp(`${lineStart}["']?${escaped}["']?[ \\t]*:`)
  return re.exec(fm.text)
}

/**
 * File line on which a top-level front matter key is written, for errors about its value.
 * Best effort: YAML `key:`, TOML `key =`, JSON `"key":`.
 */
export const lineOfKey = (fm: FrontMatter, key: string): number | undefined => {
  const m = keyMatch(fm, key)
  return m === null ? undefined : fm.firstLine + lineAt(fm.text, m.index) - 1
}

/**
 * The text written after a top-level key, up to the end of its line (`title: 1.50 # x` →
 * ` 1.50 # x`), for a value the parser changed in reading (the number `1.5`). Best effort, as
 * `lineOfKey`: whoever uses it checks the text against the parsed value.
 */
export const textAfterKey = (fm: FrontMatter, key: string): string | undefined => {
  const m = keyMatch(fm, key)
  if (m === null) return undefined
  const start = m.index + m[0].length
  const end = fm.text.indexOf("\n", start)
  return fm.text.slice(start, end === -1 ? undefined : end)
}
