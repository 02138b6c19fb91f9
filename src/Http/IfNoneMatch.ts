/**
 * `If-None-Match` on a read, as every part of the server decides it: the API's handlers, the
 * reader site's pages and the response cache (Effect path and front door). Two readings of the
 * same header made the cache answer 304 where the page it had kept answered 200.
 */

const opaque = (tag: string): string => {
  const trimmed = tag.trim()
  return trimmed.startsWith("W/") ? trimmed.slice(2) : trimmed
}

/**
 * Whether `header` names `etag` (a strong tag, as this server makes them), compared weakly
 * (RFC 9110 §13.1.2: `W/` is ignored), or is `*` (any current representation).
 *
 * The field is `*` or a list of entity tags (RFC 9110 §13.1.2); `*` inside a list (`"x", *`,
 * `*, "x"`, or `W/*`) is neither. Such a `*` matches nothing; the list's tags are still compared.
 * A 304 tells the client to show the copy it holds; one that named no tag of ours may hold none,
 * while a 200 is always usable (nginx reads the header so; Go and Apache take any `*` as `*`).
 * Repeated headers arrive joined with ", ": two `*` are such a list too.
 */
/**
 * How a list's ETag starts (API lists and searches, `/tags`, the site's search pages): anyone can
 * ask for new ones (`?q=…`), so what is kept per ETag (compressed bodies) skips them.
 */
export const LIST_ETAG_START = "\"l-"

/** `tag` is a list's (`LIST_ETAG_START`). */
export const isListEtag = (tag: string): boolean => tag.startsWith(LIST_ETAG_START)

export const matchesIfNoneMatch = (header: string | undefined, etag: string): boolean => {
  if (header === undefined) return false
  if (header.trim() === "*") return true
  return header.split(",").some((candidate) => opaque(candidate) === etag)
}
