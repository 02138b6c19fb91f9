/**
 * Schema's decode issues as a client reads them, for the API's 400s and the import's rejected
 * records alike: one issue per bad field, `expected a string, got 42`.
 *
 * An optional field is a union with `undefined` (and `null`, which a client may send for it), so
 * Schema reports every wrong value more than once, once per member ("Expected string, actual 42",
 * "Expected undefined, actual 42", "Expected null, actual 42"): the others only say the field may be
 * left out, and read as more problems they mislead.
 */
import { ParseResult } from "effect"

type Issue = ParseResult.ArrayFormatterIssue

/** How many characters of a value an issue shows at most (`briefly`). */
export const BRIEF_LENGTH = 100

/**
 * A value already written out shortened: `briefly` and Schema's formatter show its text as it is.
 * It keeps the value, for a message that says what is wrong with it (`valueOf`).
 */
class Shortened {
  constructor(readonly text: string, readonly value: unknown) {}
  toString(): string {
    return this.text
  }
}

/** An issue's `actual` as it was sent: a message annotation meets it shortened (`issuesOf`). */
export const valueOf = (actual: unknown): unknown => actual instanceof Shortened ? actual.value : actual

/** `text` cut to at most `max` UTF-16 units, never between a surrogate pair. */
const cutAt = (text: string, max: number): string => {
  const cut = text.slice(0, max)
  const last = cut.charCodeAt(cut.length - 1)
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut
}

const scalar = (value: unknown, room: number): string => {
  if (typeof value === "string") return JSON.stringify(value.length > room ? cutAt(value, Math.max(0, room) + 1) : value)
  if (typeof value === "bigint") return `${value}n`
  return String(value)
}

/** `text` quoted, at most `max` characters: cut, it keeps its closing quote, the ellipsis inside it (as processing quotes values). */
const quotedString = (text: string, max: number): string => {
  let quoted = JSON.stringify(text.length > max ? cutAt(text, max) : text)
  if (quoted.length <= max && text.length <= max) return quoted
  // Escapes (`\n`, `\"`) make the quoted text longer than its characters: cut by as many more.
  for (let keep = max - 3; keep > 0; keep = Math.min(keep - 1, Math.floor((keep * max) / quoted.length))) {
    quoted = JSON.stringify(`${cutAt(text, keep)}…`)
    if (quoted.length <= max) return quoted
  }
  return JSON.stringify("…")
}

/**
 * `value` as an issue shows it: compact JSON (`["a",1]`, `{"k":null}`), at most `max` characters,
 * cut with "…". Written out only as far as shown, without recursion: Schema's own formatter
 * wrote out the whole value recursively, so a 900 KB string in a list made a 1.8 MB 400 (the
 * message and its issue each quoting it), and an array nested 8,000 deep overflowed the stack
 * (a 500 on the API; on the import, one such line stopped the whole run).
 */
export const briefly = (value: unknown, max = BRIEF_LENGTH): string => {
  if (value instanceof Shortened) return value.text
  if (typeof value === "string") return quotedString(value, max)
  let out = ""
  // The containers being written out, innermost last: their members so far.
  const open: Array<{ readonly container: object; readonly keys: ReadonlyArray<string> | undefined; next: number }> = []
  let pending: { readonly value: unknown } | undefined = { value }
  while (out.length <= max) {
    if (pending !== undefined) {
      const v = pending.value
      pending = undefined
      if (v instanceof Shortened) out += v.text
      else if (typeof v === "object" && v !== null) {
        if (open.some((frame) => frame.container === v)) out += "[Circular]"
        else {
          const isArray = Array.isArray(v)
          out += isArray ? "[" : "{"
          open.push({ container: v, keys: isArray ? undefined : Object.keys(v), next: 0 })
        }
      } else out += scalar(v, max - out.length)
      continue
    }
    const frame = open[open.length - 1]
    if (frame === undefined) break
    const size = frame.keys === undefined ? (frame.container as ReadonlyArray<unknown>).length : frame.keys.length
    if (frame.next >= size) {
      out += frame.keys === undefined ? "]" : "}"
      open.pop()
      continue
    }
    const i = frame.next++
    if (i > 0) out += ","
    if (frame.keys === undefined) pending = { value: (frame.container as ReadonlyArray<unknown>)[i] }
    else {
      const key = frame.keys[i]!
      out += `${scalar(key, max - out.length)}:`
      pending = { value: (frame.container as Record<string, unknown>)[key] }
    }
  }
  return out.length <= max ? out : `${cutAt(out, max - 1)}…`
}

/**
 * `issue` with every value it carries shortened (`briefly`): Schema's formatter, and our message
 * annotations (`issue.actual`), then show at most BRIEF_LENGTH characters of each.
 */
const withBriefValues = (issue: ParseResult.ParseIssue): ParseResult.ParseIssue => {
  const brief = (actual: unknown) => (actual === undefined || actual instanceof Shortened ? actual : new Shortened(briefly(actual), actual))
  switch (issue._tag) {
    case "Type":
      return new ParseResult.Type(issue.ast, brief(issue.actual), issue.message)
    case "Forbidden":
      return new ParseResult.Forbidden(issue.ast, brief(issue.actual), issue.message)
    case "Unexpected":
      return new ParseResult.Unexpected(brief(issue.actual), issue.message)
    case "Missing":
      return issue
    case "Pointer":
      return new ParseResult.Pointer(issue.path, brief(issue.actual), withBriefValues(issue.issue))
    case "Refinement":
      return new ParseResult.Refinement(issue.ast, brief(issue.actual), issue.kind, withBriefValues(issue.issue))
    case "Transformation":
      return new ParseResult.Transformation(issue.ast, brief(issue.actual), issue.kind, withBriefValues(issue.issue))
    case "Composite":
      return new ParseResult.Composite(
        issue.ast,
        brief(issue.actual),
        Array.isArray(issue.issues) ? issue.issues.map(withBriefValues) as [ParseResult.ParseIssue, ...Array<ParseResult.ParseIssue>] : withBriefValues(issue.issues as ParseResult.ParseIssue),
        issue.output
      )
  }
}

/**
 * `error`'s issues, each value in them shortened (`briefly`), as Schema's `ArrayFormatter` lists
 * them; what every decode error a client or an import reads is made from (then `plainIssues`).
 */
export const issuesOf = (error: ParseResult.ParseError): ReadonlyArray<Issue> =>
  ParseResult.ArrayFormatter.formatIssueSync(withBriefValues(error.issue))

/** A field path as written in JSON access: `title`, `tags[1]`, `metadata.source`. */
export const fieldPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`)).join("")

/** Schema's names for the input fields' types, as the markdown errors word them. */
const expectedType = (ast: string): string =>
  ast === "string" ? "a string" : ast === "ReadonlyArray<string>" ? "a list of strings" : ast.startsWith("{") ? "an object" : ast

/** An optional or nullable field's `undefined` or `null` member, which any other value fails too. */
const isAbsenceMember = (message: string): boolean => message.startsWith("Expected undefined,") || message.startsWith("Expected null,")

/** A name as a near miss compares it: without case, `-` and `_` (`dry-run`, `dry_run` and `DryRun` are `dryRun`). */
const looseName = (name: string): string => name.toLowerCase().replace(/[-_]/g, "")

/** Whether `a` becomes `b` by one character added, dropped, changed, or two neighbours swapped. */
const oneEditApart = (a: string, b: string): boolean => {
  if (Math.abs(a.length - b.length) > 1 || a === b) return false
  let start = 0
  while (start < a.length && a[start] === b[start]) start++
  let endA = a.length
  let endB = b.length
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--
    endB--
  }
  const restA = a.slice(start, endA)
  const restB = b.slice(start, endB)
  if (restA.length <= 1 && restB.length <= 1) return true
  return restA.length === 2 && restB.length === 2 && restA[0] === restB[1] && restA[1] === restB[0]
}

/**
 * The one of `known` that `name` is a near miss of: the same but for case, `-` and `_`, or (both
 * three characters or more, so `x` is not taken for `q`) one typo away (`tags` for `tag`, `limt`).
 */
export const nearMissOf = (name: string, known: ReadonlyArray<string>): string | undefined => {
  const loose = looseName(name)
  return known.find((candidate) => looseName(candidate) === loose) ??
    known.find((candidate) => {
      const other = looseName(candidate)
      return loose.length >= 3 && other.length >= 3 && oneEditApart(loose, other)
    })
}

/**
 * An unknown field or query parameter, with the known ones and, when it is a near miss of one,
 * that one: `unknown parameter, did you mean dryRun? (the parameters are onConflict, dryRun)`.
 * Where there are none (`GET /tags` takes no parameters), it says so.
 */
export const unknownNameMessage = (kind: "field" | "parameter", name: string, known: ReadonlyArray<string>): string => {
  if (known.length === 0) return `unknown ${kind} (this endpoint takes no ${kind}s)`
  const meant = nearMissOf(name, known)
  return `unknown ${kind}${meant === undefined ? "" : `, did you mean ${meant}?`} (the ${kind}s are ${known.join(", ")})`
}

/**
 * `issues` without the optional fields' `undefined` and `null` members, each worded `expected …, got …`, an
 * unknown field as such with the known ones. `isParameter` tells which unknown names are query
 * parameters rather than fields of a body, to word them so.
 */
export const plainIssues = (
  issues: ReadonlyArray<Issue>,
  isParameter: (name: PropertyKey) => boolean = () => false
): ReadonlyArray<Issue> => {
  const relevant = issues.filter((issue) => !isAbsenceMember(issue.message))
  return (relevant.length > 0 ? relevant : issues).map((issue) => {
    if (issue._tag === "Missing") return { ...issue, message: "missing" }
    // Schema lists the known keys as a union of literals: `expected: "title" | "slug" | ...`.
    const known = /^is unexpected, expected: (.*)$/s.exec(issue.message)
    if (issue._tag === "Unexpected" && known !== null) {
      const names = known[1]!.split(" | ").map((name) => name.replace(/^"(.*)"$/s, "$1"))
      const name = issue.path[issue.path.length - 1]
      const kind = issue.path.length === 1 && isParameter(name!) ? "parameter" : "field"
      return { ...issue, message: unknownNameMessage(kind, String(name ?? ""), names) }
    }
    const type = /^Expected (.*), actual (.*)$/s.exec(issue.message)
    return type === null ? issue : { ...issue, message: `expected ${expectedType(type[1]!)}, got ${type[2]!}` }
  })
}
