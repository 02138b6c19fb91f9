/**
 * Zola's internal links, `[text](@/blog/post.md#anchor)`: a link to another file of the site's
 * content directory, by its path there, which Zola turns into that page's URL. Processing renders
 * them as written (`href="@/blog/post.md#anchor"`): a post alone cannot know the slug of the file
 * it names. An import of the directory knows the file, and resolves them once the post is rendered
 * (Import/InternalLinks.ts), with these pure functions over the sanitized HTML.
 *
 * A resolved link is relative, `./<slug>#anchor`: the post's page is `/p/<slug>` wherever the
 * site is (`SITE_URL`'s path, or behind a proxy that strips it), so `./<other-slug>` is the other
 * post's page from there, whatever `SITE_URL` says now or later; feeds make it absolute against
 * the post's URL, as they do every relative link.
 */
import { decodeHTML } from "entities"
import { QuoteType, Tokenizer } from "htmlparser2"
import { attributeSpans, attributeTokens } from "./htmlAttributes.js"
import { linkSources } from "./markdown.js"
import { storedBody } from "./processPost.js"
import { sha256Hex } from "./text.js"

/** What starts a Zola internal link. */
export const INTERNAL_LINK_PREFIX = "@/"

/** One internal link of a post's HTML, in document order. */
export interface InternalLink {
  /** The `href` as written, entities decoded: `@/blog/post.md#anchor`. */
  readonly href: string
  /** The file it names, relative to the content directory, percent-decoded: `blog/post.md`. */
  readonly path: string
  /** `#anchor` as written (percent-encoded as the renderer wrote it), or "". */
  readonly fragment: string
}

/** Where an `href` value sits in the HTML: `[start, end)`, without its quotes. */
interface HrefSpan {
  readonly start: number
  readonly end: number
  readonly quoted: boolean
  /** The value, entities decoded. */
  readonly value: string
}

const decode = (text: string): string => (text.includes("&") ? decodeHTML(text) : text)

const escapeAttribute = (text: string): string => text.replace(/&/g, "&amp;").replace(/"/g, "&quot;")

/** Every `href` value of `html`, as htmlparser2 reads start tags (never text that only looks like one). */
const hrefSpans = (html: string): ReadonlyArray<HrefSpan> => {
  const spans: Array<HrefSpan> = []
  const tokenizer = new Tokenizer({ decodeEntities: false }, attributeTokens(attributeSpans(html, (name, valueStart, valueEnd, quote) => {
    if (name === "href" && quote !== QuoteType.NoValue && valueStart !== -1) {
      spans.push({ start: valueStart, end: valueEnd, quoted: quote !== QuoteType.Unquoted, value: decode(html.slice(valueStart, valueEnd)) })
    }
  })))
  tokenizer.write(html)
  tokenizer.end()
  return spans
}

export const isInternalHref = (href: string): boolean => href.startsWith(INTERNAL_LINK_PREFIX)

/** `href` (an internal one) read as a path and a fragment. */
const internalLink = (href: string): InternalLink => {
  const hash = href.indexOf("#")
  const written = href.slice(INTERNAL_LINK_PREFIX.length, hash === -1 ? undefined : hash)
  let path: string
  try {
    path = decodeURIComponent(written)
  } catch {
    // Not percent-encoding after all (`100%.md`): the name as written.
    path = written
  }
  return { href, path, fragment: hash === -1 ? "" : href.slice(hash) }
}

/** The internal links of `html`, in document order (a link given twice is there twice). */
export const internalLinks = (html: string): ReadonlyArray<InternalLink> =>
  html.includes(INTERNAL_LINK_PREFIX)
    ? hrefSpans(html).filter((span) => isInternalHref(span.value)).map((span) => internalLink(span.value))
    : []

/** `html` with each `href` replaced by what `replace` gives for it (`undefined`: kept), every other character as written. */
const replaceHrefs = (html: string, spans: ReadonlyArray<HrefSpan>, replace: (span: HrefSpan, index: number) => string | undefined): string => {
  const out: Array<string> = []
  let at = 0
  spans.forEach((span, index) => {
    const value = replace(span, index)
    if (value === undefined) return
    const escaped = escapeAttribute(value)
    out.push(html.slice(at, span.start), span.quoted ? escaped : `"${escaped}"`)
    at = span.end
  })
  if (at === 0) return html
  out.push(html.slice(at))
  return out.join("")
}

/**
 * `html` with each internal link's `href` made what `resolve` gives for it (`postHref`), and
 * left as written where it gives `undefined`.
 */
export const rewriteInternalLinks = (html: string, resolve: (link: InternalLink) => string | undefined): string =>
  html.includes(INTERNAL_LINK_PREFIX)
    ? replaceHrefs(html, hrefSpans(html), (span) => isInternalHref(span.value) ? resolve(internalLink(span.value)) : undefined)
    : html

/** The address of post `slug` from another post's page (`/p/<slug>` beside `/p/<other>`), `fragment` kept. */
export const postHref = (slug: string, fragment: string): string => `./${encodeURIComponent(slug)}${fragment}`

/**
 * A post's content hash with the slugs its internal links were resolved to (`[href, slug]`):
 * the stored HTML depends on them as much as on the file, so the post is written again when one
 * changes (its target renamed, a target that was missing found), where the file's hash alone
 * left it "unchanged" with the old address. Unchanged when none was resolved: a post without
 * internal links keeps the hash it always had.
 */
export const hashWithLinks = (hash: string, resolved: ReadonlyArray<readonly [string, string]>): string => {
  if (resolved.length === 0) return hash
  const pairs = [...new Map(resolved.map(([href, slug]) => [href, slug] as const))].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return sha256Hex(`${hash}\n${JSON.stringify(pairs)}`)
}

/** Line breaks as CommonMark counts them (LF, CRLF, a bare CR), up to `end`. */
const lineBreaks = (text: string, end = text.length): number => {
  let n = 0
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) n++
  }
  return n
}

/**
 * The line (from 1) of `raw` (the whole file) each of `links` (its post's internal links, in
 * order) is written on; `undefined` where it is not known. Read by the parser that rendered the
 * body (`linkSources`), not searched for as text: `@/a.md` in a code block or span, or escaped,
 * is no link and named the wrong line, and a reference link (`[a][r]`) is where it is used, not
 * where `[r]: @/a.md` is. Each link is the next link of the body with its `href`, so one the
 * rendering left out (raw HTML the sanitizer dropped) shifts no other.
 */
export const linkLines = (raw: string, links: ReadonlyArray<InternalLink>): ReadonlyArray<number | undefined> => {
  if (links.length === 0) return []
  const body = storedBody(raw)
  if (body === undefined) return links.map(() => undefined)
  // The body is the end of the file: its first line is the file's after the front matter's.
  const first = 1 + lineBreaks(raw) - lineBreaks(body)
  const written = new Map<string, { readonly lines: Array<number | undefined>; readonly at: Array<number>; next: number }>()
  let n = 0
  const note = (href: string, line: number | undefined) => {
    const index = n++
    if (!isInternalHref(href)) return
    const known = written.get(href)
    if (known === undefined) {
      written.set(href, { lines: [line], at: [index], next: 0 })
    } else {
      known.lines.push(line)
      known.at.push(index)
    }
  }
  for (const source of linkSources(body)) {
    if (source._tag === "Link") note(source.href, source.line)
    else for (const span of hrefSpans(source.html)) note(span.value, source.line === undefined ? undefined : source.line + lineBreaks(source.html, span.start))
  }
  let after = -1
  return links.map((link) => {
    const known = written.get(link.href)
    if (known === undefined) return undefined
    while (known.next < known.at.length && known.at[known.next]! <= after) known.next++
    if (known.next === known.at.length) return undefined
    after = known.at[known.next]!
    const line = known.lines[known.next++]
    return line === undefined ? undefined : first + line
  })
}

/** Every `href` of `html`, entities decoded, in document order (an export's `internalLinks`). */
export const hrefsOf = (html: string): ReadonlyArray<string> => hrefSpans(html).map((span) => span.value)

/**
 * Whether `address` may stand for internal link `link` on a page: as written, or the page of a
 * post beside this one, with the link's fragment (`postHref`). Nothing else: the addresses
 * `carryInternalLinks` takes may come from a record anyone can write, and are put into HTML
 * already sanitized (a `javascript:` URL, another site's, would go out as a link of the post).
 */
const isAddressOf = (link: InternalLink, address: string): boolean => {
  if (address === link.href) return true
  if (!address.startsWith("./") || !address.endsWith(link.fragment)) return false
  const slug = address.slice(2, address.length - link.fragment.length)
  if (slug === "" || slug === "." || slug === "..") return false
  try {
    return encodeURIComponent(decodeURIComponent(slug)) === slug
  } catch {
    return false
  }
}

/**
 * `fresh` (a post rendered again from its body: `inkwell reprocess`, a `PUT`, an exported record
 * imported elsewhere) with the addresses its internal links were given where it was stored
 * before: `stored`, that page's HTML, or its `href`s in order (`hrefsOf`). Only the import of its
 * directory can resolve them, and rendered again they are back as written.
 * Links are matched by their place: `fresh` and `stored` must have as many links, the same but
 * for the internal ones (the body's links did not change), and each internal one's address must
 * be one a link is given (`isAddressOf`: as written, or `./<slug>` with its anchor).
 * `undefined` when they differ, and `fresh` as it is when it has no internal link.
 */
export const carryInternalLinks = (fresh: string, stored: string | ReadonlyArray<string>): string | undefined =>
  carryWithTargets(fresh, stored)?.html

/** An internal link given a post's page (`./<slug>`) by `carryWithTargets`: as written, and that post's slug. */
export interface CarriedLink {
  readonly href: string
  readonly slug: string
}

/**
 * `carryInternalLinks`, with the links it gave a post's page and the slug of each: an import of
 * an export names the post each leads to by the slug it had where it was exported, which the
 * import may store it under or not (`--on-conflict suffix`: ImportPipeline `checkLinks`).
 */
export const carryWithTargets = (
  fresh: string,
  stored: string | ReadonlyArray<string>
): { readonly html: string; readonly carried: ReadonlyArray<CarriedLink> } | undefined => {
  if (!fresh.includes(INTERNAL_LINK_PREFIX)) return { html: fresh, carried: [] }
  const ours = hrefSpans(fresh)
  const theirs = typeof stored === "string" ? hrefsOf(stored) : stored
  if (ours.length !== theirs.length) return undefined
  for (let i = 0; i < ours.length; i++) {
    const value = ours[i]!.value
    if (isInternalHref(value) ? !isAddressOf(internalLink(value), theirs[i]!) : value !== theirs[i]) return undefined
  }
  const carried: Array<CarriedLink> = []
  const html = replaceHrefs(fresh, ours, (span, i) => {
    const address = theirs[i]!
    if (!isInternalHref(span.value) || address === span.value) return undefined
    // `isAddressOf` took it: `./<slug>` and the link's fragment, the slug percent-encoded.
    const fragment = internalLink(span.value).fragment
    carried.push({ href: span.value, slug: decodeURIComponent(address.slice(2, address.length - fragment.length)) })
    return address
  })
  return { html, carried }
}

/**
 * What an export carries of a stored page for its internal links (`exportRecord`): every `href`
 * of `html`, in order (`carryInternalLinks` matches them by place), when one of them may be an
 * internal link, resolved (`./<slug>`) or as written (`@/...`); `undefined` for a page without.
 */
export const exportedHrefs = (html: string): ReadonlyArray<string> | undefined => {
  if (!html.includes(INTERNAL_LINK_PREFIX) && !html.includes("./")) return undefined
  const hrefs = hrefsOf(html)
  return hrefs.some((href) => isInternalHref(href) || href.startsWith("./")) ? hrefs : undefined
}

/** An internal link resolved to the slug its target file gives, checked once the import has stored its posts. */
export interface ResolvedLink {
  /** Where it is written: `file:line` (the file alone when its line is not found). */
  readonly at: string
  readonly href: string
  /** The target file's identity in the import (its path, as the walk names it). */
  readonly target: string
  readonly slug: string
}

/** What resolving a post's internal links found: each link resolved, or kept as written and why. */
export interface LinkReport {
  readonly resolved: ReadonlyArray<ResolvedLink>
  /** Links kept as written: `source` is `file:line`, `reason` names the link and why. */
  readonly unresolved: ReadonlyArray<{ readonly source: string; readonly reason: string }>
}
