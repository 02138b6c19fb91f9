/**
 * What a failure says, down its cause chain (an SqlError's driver error, a wrapped defect's
 * error), in one line for a log or a summary. Of no layer: processing, the database and the CLI
 * describe failures alike, and pure processing depends on no database module for it.
 */

/** `failure` and what caused it, down its `cause`s (SqlError -> pg error -> ...): five at most, never a cycle. */
export const causeChain = (failure: unknown): Array<unknown> => {
  const chain: Array<unknown> = []
  for (let current = failure, depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    chain.push(current)
    current = typeof current === "object" ? (current as { readonly cause?: unknown }).cause : undefined
  }
  return chain
}

/** `failure` or anything it was caused by carries a `code` that `matches` (a driver's, Node's). */
export const hasCode = (failure: unknown, matches: (code: string) => boolean): boolean =>
  causeChain(failure).some((link) => {
    const code = typeof link === "object" && link !== null ? (link as { readonly code?: unknown }).code : undefined
    return typeof code === "string" && matches(code)
  })

/** An error's own words: its message, or (an AggregateError's is often empty) its errors'. */
const wordsOf = (error: object): string | undefined => {
  const { message, errors } = error as { readonly message?: unknown; readonly errors?: unknown }
  if (typeof message === "string" && message.trim().length > 0) return message.trim()
  if (Array.isArray(errors) && errors.length > 0) {
    return errors.map((inner) => typeof inner === "object" && inner !== null ? wordsOf(inner) ?? String(inner) : String(inner)).join("; ")
  }
  return undefined
}

/**
 * A failure and what caused it, in one line: `database operation "PostRepository.ping" failed:
 * Failed to acquire connection: connect ECONNREFUSED 127.0.0.1:5432`. The top message alone
 * said only which operation failed, never why.
 */
export const describeFailure = (failure: unknown): string => {
  const said: Array<string> = []
  for (const current of causeChain(failure)) {
    const words = typeof current === "object" && current !== null ? wordsOf(current) : String(current)
    // A message that already quotes its cause's ("... failed: ECONNREFUSED") is not repeated.
    if (words !== undefined && !said.some((earlier) => earlier.includes(words))) said.push(words)
  }
  return said.length === 0 ? String(failure) : said.join(": ")
}
