/**
 * Schema's decode issues as a client reads them, for the API's 400s and the import's rejected
 * records alike: one issue per bad field, `expected a string, got 42`.
 *
 * An optional field is a union with `undefined` (and `null`, which a client may send for it), so
 * Schema reports every wrong value more than once, once per member ("Expected string, actual 42",
 * "Expected undefined, actual 42", "Expected null, actual 42"): the others only say the field may be
 * left out, and read as more problems they mislead.
 */
import type { ParseResult } from "effect"

type Issue = ParseResult.ArrayFormatterIssue

/** Schema's names for the input fields' types, as the markdown errors word them. */
const expectedType = (ast: string): string =>
  ast === "string" ? "a string" : ast === "ReadonlyArray<string>" ? "a list of strings" : ast.startsWith("{") ? "an object" : ast

/** An optional or nullable field's `undefined` or `null` member, which any other value fails too. */
const isAbsenceMember = (message: string): boolean => message.startsWith("Expected undefined,") || message.startsWith("Expected null,")

/**
 * `issues` without the optional fields' `undefined` and `null` members, each worded `expected …, got …`, an
 * unknown field as such with the known ones.
 */
export const plainIssues = (issues: ReadonlyArray<Issue>): ReadonlyArray<Issue> => {
  const relevant = issues.filter((issue) => !isAbsenceMember(issue.message))
  return (relevant.length > 0 ? relevant : issues).map((issue) => {
    if (issue._tag === "Missing") return { ...issue, message: "missing" }
    // Schema lists the known keys as a union of literals: `expected: "title" | "slug" | ...`.
    const known = /^is unexpected, expected: (.*)$/s.exec(issue.message)
    if (issue._tag === "Unexpected" && known !== null) {
      return { ...issue, message: `unknown field (the fields are ${known[1]!.split(" | ").map((name) => name.replace(/^"(.*)"$/s, "$1")).join(", ")})` }
    }
    const type = /^Expected (.*), actual (.*)$/s.exec(issue.message)
    return type === null ? issue : { ...issue, message: `expected ${expectedType(type[1]!)}, got ${type[2]!}` }
  })
}
