/**
 * Markdown → HTML (markdown-it, CommonMark + GFM tables/strikethrough + footnotes), with heading
 * anchors, a table of contents, plain text for excerpts and word counts, and sanitizing. Pure.
 *
 * Safety model:
 * - Markdown syntax can only produce safe HTML (markdown-it escapes text and attributes), except
 *   for URLs: every link and image URL is checked in `secureLinks` below. An unsafe link keeps its
 *   text and loses the `<a>`; an unsafe image becomes its alt text. (markdown-it's own
 *   `validateLink` would leave `[x](javascript:...)` as literal text and lets `data:` through for
 *   links, so we check ourselves with the same rules as for raw HTML.)
 * - Raw HTML is allowed, and then the WHOLE rendered document goes through sanitize-html. We do not
 *   sanitize raw fragments one by one: markdown-it hands over `html_inline` tokens as lone tags
 *   (`<a href=...>` ... `</a>`) and `html_block`s that open an element closed in a later block
 *   (`<details>` ... markdown ... `</details>`). A per-fragment sanitizer has to balance each
 *   fragment, which either breaks the structure or, if it does not balance, lets a fragment
 *   combine with its neighbours into markup it never saw. Sanitizing the assembled document is
 *   the only variant that sees what the browser will see. Posts without raw HTML (most of them)
 *   skip the sanitizer entirely, which is where the speed comes from.
 */
import { decodeHTML } from "entities"
import MarkdownIt, { type PluginSimple, type Token } from "markdown-it"
import footnote from "markdown-it-footnote"
import { EXTERNAL_REL, isExternalUrl, isSafeImageUrl, isSafeLinkUrl, sanitizeHtml } from "./sanitize.js"
import { slugify } from "./text.js"

export interface TocItem {
  readonly level: number
  readonly text: string
  readonly id: string
}

export interface RenderedMarkdown {
  readonly html: string
  readonly toc: ReadonlyArray<TocItem>
  /** Plain text of the body's paragraphs, in order, for the excerpt (no headings, code, tables, footnotes, raw HTML). */
  readonly paragraphs: ReadonlyArray<string>
  /** Plain text that is read: everything but code blocks (fenced and indented); raw HTML with its tags stripped. */
  readonly readableText: string
  /** Whether raw HTML was present and the output went through the sanitizer. */
  readonly sanitized: boolean
}

const md: MarkdownIt = new MarkdownIt("default", { html: true, linkify: false, typographer: false })
// The plugin's typings are written against the CommonJS build of markdown-it; the runtime is the same.
md.use(footnote as unknown as PluginSimple)
// URLs are checked after parsing (see `secureLinks`) so that rejected ones disappear instead of
// being printed as literal `[x](javascript:...)` text.
md.validateLink = () => true

/** Plain text of an inline token: what a reader reads (no raw HTML tags, no footnote markers, no image alt). */
/**
 * Raw HTML elements whose content is no text a reader sees (the sanitizer drops it whole). Inline,
 * markdown-it hands over their tags one by one with the content between as text: without this,
 * `<script>alert(1)</script>` in a paragraph became a post's excerpt and counted as its words.
 */
const HIDDEN_OPEN = /^<(script|style|textarea|noscript|template|option)\b/i
const HIDDEN_CLOSE = /^<\/(script|style|textarea|noscript|template|option)\s*>/i

const inlineText = (token: Token): string => {
  const children = token.children
  if (children === null) return token.content
  let text = ""
  let hidden = 0
  for (const child of children) {
    switch (child.type) {
      case "html_inline":
        if (HIDDEN_OPEN.test(child.content)) hidden++
        else if (hidden > 0 && HIDDEN_CLOSE.test(child.content)) hidden--
        break
      case "text":
      case "code_inline":
        if (hidden === 0) text += child.content
        break
      case "softbreak":
      case "hardbreak":
        if (hidden === 0) text += " "
        break
    }
  }
  return text
}

/** Alt text of an image token, as markdown-it's renderer computes it. */
const altText = (token: Token): string => {
  let alt = ""
  for (const child of token.children ?? []) {
    if (child.type === "text" || child.type === "code_inline") alt += child.content
    else if (child.type === "image") alt += altText(child)
  }
  return alt
}

/** Drops unsafe link/image URLs and marks external links. Mutates the fresh token list. */
const secureLinks = (children: Array<Token>): void => {
  const hiddenLinks: Array<boolean> = []
  for (let i = 0; i < children.length; i++) {
    const t = children[i]!
    if (t.type === "link_open") {
      const href = t.attrGet("href") ?? ""
      const unsafe = !isSafeLinkUrl(href)
      hiddenLinks.push(unsafe)
      if (unsafe) t.hidden = true
      else if (isExternalUrl(href)) t.attrSet("rel", EXTERNAL_REL)
    } else if (t.type === "link_close") {
      if (hiddenLinks.pop() === true) t.hidden = true
    } else if (t.type === "image" && !isSafeImageUrl(t.attrGet("src") ?? "")) {
      t.type = "text"
      t.content = altText(t)
      t.children = null
    }
  }
}

/**
 * `html` as one flat string. markdown-it and sanitize-html build their output with `+=`, which V8
 * keeps as a rope: a tree of every piece (~36 KB of small objects per corpus post on top of its
 * ~20 KB of text). A post is kept for a while after rendering (a worker's batch, a batch of 500
 * for the database), and a rope kept that long is copied by every young-generation collection
 * and promoted whole: 754 rendered corpus posts kept 41.6 MB of heap as ropes, 14.5 MB flat.
 * Number conversion makes V8 flatten the string in place (pino's `flatstr` trick); the pieces
 * become garbage at once. The result of the conversion is not used.
 */
const flat = (html: string): string => {
  // eslint-disable-next-line @typescript-eslint/no-unused-expressions
  ;(html as unknown as number) | 0
  return html
}

/** Readable text of (sanitized) HTML, entities decoded, whitespace collapsed: for excerpts of HTML-only bodies. */
export const htmlToText = (html: string): string =>
  decodeHTML(
    html
      .replace(/<(script|style|textarea|noscript|template|option)\b[\s\S]*?<\/\1\s*>/gi, " ")
      .replace(/<!--[\s\S]*?-->/g, " ")
      .replace(/<[^>]*>/g, " ")
  ).replace(/\s+/g, " ").trim()

const stripTags = (html: string): string =>
  html
    .replace(/<(script|style|textarea|noscript|template|option)\b[\s\S]*?<\/\1\s*>/gi, " ")
    .replace(/<!--[\s\S]*?-->/g, " ")
    .replace(/<[^>]*>/g, " ")
    .replace(/&(?:nbsp|#160);/g, " ")
    .replace(/&[a-z#0-9]+;/gi, "x")

/**
 * `base`, or the first of `base-1`, `base-2`... not in `used`; claims it in `used`. `nextSuffix`
 * remembers, per base, the suffix to try next: the ids below it are taken for good (`used` only
 * grows), so the answer is the same as counting from 1, without rescanning them for every repeat
 * (10,000 empty headings, 20 KB of "#" lines, took 8.7 s of a synchronous render). A taken
 * `base-n` is probed once for its one base (the part before its last dash), so a document's
 * probes stay linear in its headings whatever their slugs.
 */
export const claimId = (base: string, used: Set<string>, nextSuffix: Map<string, number>): string => {
  let id = base
  if (used.has(id)) {
    let n = nextSuffix.get(base) ?? 1
    for (id = `${base}-${n}`; used.has(id); id = `${base}-${n}`) n++
    nextSuffix.set(base, n + 1)
  }
  used.add(id)
  return id
}

/** Renders a post body. Never throws on any input string. */
export const renderMarkdown = (body: string): RenderedMarkdown => {
  const env: Record<string, unknown> = {}
  const tokens = md.parse(body, env)
  const toc: Array<TocItem> = []
  const usedIds = new Set<string>()
  const nextSuffix = new Map<string, number>()
  const paragraphs: Array<string> = []
  const readable: Array<string> = []
  let rawHtml = false
  let inFootnotes = 0

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    switch (t.type) {
      case "footnote_block_open":
        inFootnotes++
        break
      case "footnote_block_close":
        inFootnotes--
        break
      case "html_block":
        rawHtml = true
        readable.push(stripTags(t.content))
        break
      case "heading_open": {
        const inline = tokens[i + 1]
        const text = inline === undefined ? "" : inlineText(inline).replace(/\s+/g, " ").trim()
        const base = slugify(text) || "section"
        const id = claimId(base, usedIds, nextSuffix)
        t.attrSet("id", id)
        toc.push({ level: Number(t.tag.slice(1)), text, id })
        break
      }
      case "inline": {
        const children = t.children ?? []
        for (const c of children) if (c.type === "html_inline") rawHtml = true
        secureLinks(children)
        const text = inlineText(t)
        readable.push(text)
        if (inFootnotes === 0 && tokens[i - 1]?.type === "paragraph_open") paragraphs.push(text)
        break
      }
    }
  }
  // Footnote ids ("fn1", "fnref1") come from the plugin; a heading could claim the same id.
  // Prefixing the footnotes with a docId only when needed keeps the common case's URLs stable.
  if ([...usedIds].some((id) => /^fn(?:ref)?\d/.test(id))) env.docId = "note"

  const rendered = md.renderer.render(tokens, md.options, env)
  return {
    html: flat(rawHtml ? sanitizeHtml(rendered) : rendered),
    toc,
    paragraphs,
    readableText: readable.join("\n"),
    sanitized: rawHtml
  }
}
