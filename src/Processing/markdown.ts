/**
 * Markdown → HTML (markdown-it, CommonMark + GFM tables/strikethrough + footnotes), with heading
 * anchors (Zola's `{#id}` taken), a table of contents, plain text for excerpts and word counts,
 * and sanitizing. Pure. Rendering is synchronous, so a body that costs the square of its length
 * freezes whatever renders it: every step of our own, and the footnote rules, are linear.
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
import MarkdownIt, { type PluginSimple, type StateCore, type StateInline, type Token } from "markdown-it"
import footnote from "markdown-it-footnote"
import { Parser } from "htmlparser2"
import { decodedFragment, EXTERNAL_REL, isExternalUrl, isSafeImageUrl, isSafeLinkUrl, NON_TEXT_TAGS, PAGE_IDS, sanitizeHtml } from "./sanitize.js"
import { SLUG_MAX_LENGTH, slugify } from "./text.js"

export interface TocItem {
  readonly level: number
  readonly text: string
  readonly id: string
}

/** A paragraph as the excerpt reads it: its text, and where it stands in a list. */
export interface Paragraph {
  readonly text: string
  /**
   * The outermost list it is in, numbered from 1 in document order (a nested list is part of
   * the list around it); 0 outside any list. markdown-it makes each item's text a paragraph.
   */
  readonly list: number
  /** Whether it is the first paragraph of a list item (an item's next paragraphs go on with it). */
  readonly item: boolean
}

export interface RenderedMarkdown {
  readonly html: string
  readonly toc: ReadonlyArray<TocItem>
  /** The body's paragraphs, in order, for the excerpt (no headings, code, tables, footnotes, raw HTML). */
  readonly paragraphs: ReadonlyArray<Paragraph>
  /** Plain text that is read: everything but code blocks (fenced and indented); raw HTML with its tags stripped. */
  readonly readableText: string
  /** Whether raw HTML was present and the output went through the sanitizer. */
  readonly sanitized: boolean
}

/** What markdown-it-footnote keeps in `env.footnotes`. */
interface FootnoteEnv {
  refs?: Record<string, number>
  list?: Array<{ label?: string; count?: number; content?: string; tokens?: Array<Token> }>
}

/** Where the last scan for a footnote label's end stopped, in one inline text. */
export interface LabelScan {
  from: number
  stop: number
  max: number
  /** Characters looked at, for tests: the scans of one text stay linear in its length. */
  scanned: number
}

/**
 * The first space, newline or "]" in `src` from `from` (before `max`), or `max`. A reference
 * `[^label]` ends there. markdown-it-footnote scanned anew from every "[^", so a line of
 * "[^a[^a[^a..." (60 KB, in a post with any footnote) took 8.6 s. The first stop found from an
 * earlier start is the first from every start up to it, so `scan` keeps it.
 */
export const labelStop = (src: string, from: number, max: number, scan: LabelScan): number => {
  if (from >= scan.from && from <= scan.stop && (scan.stop < scan.max ? scan.stop < max : scan.max === max)) return scan.stop
  let pos = from
  for (; pos < max; pos++) {
    const ch = src.charCodeAt(pos)
    if (ch === 0x20 || ch === 0x0a || ch === 0x5d) break
  }
  scan.scanned += pos - from + 1
  scan.from = from
  scan.stop = pos
  scan.max = max
  return pos
}

const labelScans = new WeakMap<StateInline, LabelScan>()

/** Definitions are all read (block phase) before any reference (inline phase): the keys are final by then. */
const longestLabels = new WeakMap<Record<string, number>, number>()
const longestLabel = (refs: Record<string, number>): number => {
  let longest = longestLabels.get(refs)
  if (longest === undefined) {
    longest = 0
    for (const key of Object.keys(refs)) longest = Math.max(longest, key.length - 1) // keys are ":" + label
    longestLabels.set(refs, longest)
  }
  return longest
}

/**
 * markdown-it-footnote's `footnote_ref` rule (4.0.0), with the label's end found by `labelStop`
 * above instead of a scan per "[^"; otherwise the plugin's, line for line.
 */
const footnoteRef = (state: StateInline, silent: boolean): boolean => {
  const max = state.posMax
  const start = state.pos
  if (start + 3 > max) return false
  const footnotes = (state.env as { footnotes?: FootnoteEnv }).footnotes
  if (footnotes?.refs === undefined) return false
  if (state.src.charCodeAt(start) !== 0x5b /* [ */) return false
  if (state.src.charCodeAt(start + 1) !== 0x5e /* ^ */) return false

  let scan = labelScans.get(state)
  if (scan === undefined) {
    scan = { from: -1, stop: -2, max: -1, scanned: 0 }
    labelScans.set(state, scan)
  }
  let pos = labelStop(state.src, start + 2, max, scan)
  if (pos >= max || state.src.charCodeAt(pos) !== 0x5d /* ] */) return false // a space or newline first, or no "]"
  if (pos === start + 2) return false // no empty footnote labels
  const refs = footnotes.refs
  // Looking a label up reads all of it: "[^a[^a...[^a]" would read the rest of the line per "[^".
  // No label longer than the longest defined one can be defined.
  if (pos - start - 2 > longestLabel(refs)) return false
  pos++

  const label = state.src.slice(start + 2, pos - 1)
  if (refs[`:${label}`] === undefined) return false

  if (!silent) {
    const list = (footnotes.list ??= [])
    let footnoteId: number
    if (refs[`:${label}`]! < 0) {
      footnoteId = list.length
      list[footnoteId] = { label, count: 0 }
      refs[`:${label}`] = footnoteId
    } else {
      footnoteId = refs[`:${label}`]!
    }
    const note = list[footnoteId]!
    const footnoteSubId = note.count!
    note.count = footnoteSubId + 1
    const token = state.push("footnote_ref", "", 0)
    token.meta = { id: footnoteId, subId: footnoteSubId, label }
  }

  state.pos = pos
  state.posMax = max
  return true
}

/**
 * markdown-it-footnote's `footnote_tail` rule (4.0.0, its latest release), with one change: it
 * appended each footnote with `state.tokens = state.tokens.concat(...)`, a copy of the whole
 * document's tokens per footnote, so 10,000 footnotes took 8.7 s and 20,000 32 s of a
 * synchronous render. Pushing makes the same tokens in one pass. Rewritten rather than capped:
 * a limit on footnotes would refuse real posts (long reports have hundreds) to work around what
 * is only a slow append. The rest (moving the definitions to the end, the numbering, the
 * backlinks) is the plugin's, kept line for line, quirks included.
 */
const footnoteTail = (state: StateCore): void => {
  const footnotes = (state.env as { footnotes?: FootnoteEnv }).footnotes
  if (footnotes === undefined) return
  let current: Array<Token> = []
  let currentLabel = ""
  let insideRef = false
  const refTokens = new Map<string, Array<Token>>()

  state.tokens = state.tokens.filter((tok) => {
    if (tok.type === "footnote_reference_open") {
      insideRef = true
      current = []
      currentLabel = (tok.meta as { label: string }).label
      return false
    }
    if (tok.type === "footnote_reference_close") {
      insideRef = false
      refTokens.set(currentLabel, current)
      return false
    }
    if (insideRef) current.push(tok)
    return !insideRef
  })

  const list = footnotes.list
  if (list === undefined) return
  const out = state.tokens
  out.push(new state.Token("footnote_block_open", "", 1))
  // Like the plugin's, carried over from one footnote to the next when one has no tokens of its own.
  let tokens: Array<Token> | undefined
  for (let i = 0; i < list.length; i++) {
    const note = list[i]!
    const open = new state.Token("footnote_open", "", 1)
    open.meta = { id: i, label: note.label }
    out.push(open)

    if (note.tokens !== undefined) {
      const po = new state.Token("paragraph_open", "p", 1)
      po.block = true
      const inline = new state.Token("inline", "", 0)
      inline.children = note.tokens
      inline.content = note.content ?? ""
      const pc = new state.Token("paragraph_close", "p", -1)
      pc.block = true
      tokens = [po, inline, pc]
    } else if (note.label) {
      tokens = refTokens.get(note.label)
    }
    if (tokens !== undefined) for (const t of tokens) out.push(t)

    const lastParagraph = out[out.length - 1]!.type === "paragraph_close" ? out.pop() : undefined
    const anchors = note.count !== undefined && note.count > 0 ? note.count : 1
    for (let j = 0; j < anchors; j++) {
      const anchor = new state.Token("footnote_anchor", "", 0)
      anchor.meta = { id: i, subId: j, label: note.label }
      out.push(anchor)
    }
    if (lastParagraph !== undefined) out.push(lastParagraph)
    out.push(new state.Token("footnote_close", "", -1))
  }
  out.push(new state.Token("footnote_block_close", "", -1))
}

/** markdown-it-footnote with its two rules whose work grows with the square of the input replaced by the above. */
export const footnotes: PluginSimple = (md) => {
  // The plugin's typings are written against the CommonJS build of markdown-it; the runtime is the same.
  md.use(footnote as unknown as PluginSimple)
  md.core.ruler.at("footnote_tail", footnoteTail)
  md.inline.ruler.at("footnote_ref", footnoteRef)
}

/**
 * Zola's (pulldown-cmark's, pandoc's) `{#id}` at the end of a heading: the anchor its author
 * gave it and links to (`# Motivation {#motivation}`). Only an id of letters, digits, "-", "_",
 * "." and ":" (still made unique); any other attribute (`{.class}`, `{key=value}`) is not
 * supported and stays text, since a post may not choose its classes (see sanitize.ts).
 * Only after a space or tab, the form Zola's documentation writes (pulldown-cmark also takes
 * `Title{#id}`, kramdown does not): `{#` right after a word, or alone in a heading, is more
 * likely text than an attribute. And never a Svelte block (`## Looping with {#each}`), which a
 * post about Svelte names in its headings: taking it would erase the heading's last word.
 */
const EXPLICIT_ID = /[ \t]\{#([\p{L}\p{N}_-][\p{L}\p{N}_.:-]*)\}$/u
const SVELTE_BLOCKS: ReadonlySet<string> = new Set(["each", "if", "await", "key", "snippet"])

/**
 * The most of a heading's text the `{#id}` rule looks at: " {#", the longest id, "}". A regex
 * run on the whole text starts a match at every character of a run of spaces and reads it to
 * its end ("# a" + 80,000 spaces + "b" took 8.4 s); a fixed window keeps the rule's work the
 * same whatever the heading's length.
 */
export const EXPLICIT_ID_WINDOW = SLUG_MAX_LENGTH + 4

/** Characters the `{#id}` rule matched against, for tests: at most the window per heading. */
export interface IdScan {
  inspected: number
}

/** The heading text before a trailing `{#id}` (trailing whitespace dropped) and the id, if it ends with one. */
export const explicitHeadingId = (
  text: string,
  scan?: IdScan
): { readonly text: string; readonly id: string } | undefined => {
  if (!text.endsWith("}")) return undefined
  const from = Math.max(0, text.length - EXPLICIT_ID_WINDOW)
  const window = text.slice(from)
  if (scan !== undefined) scan.inspected += window.length
  const m = EXPLICIT_ID.exec(window)
  if (m === null || SVELTE_BLOCKS.has(m[1]!)) return undefined
  return { text: text.slice(0, from + m.index).trimEnd(), id: m[1]! }
}

/**
 * Moves a heading's trailing `{#id}` from its text to `meta.explicitId`. Runs before text_join,
 * so an escaped brace (`\{#id}`, a text_special token) stays text.
 */
const headingIdAttribute = (state: StateCore): void => {
  const tokens = state.tokens
  for (let i = 1; i < tokens.length; i++) {
    const inline = tokens[i]!
    const open = tokens[i - 1]!
    if (inline.type !== "inline" || open.type !== "heading_open") continue
    const children = inline.children ?? []
    const last = children[children.length - 1]
    if (last?.type !== "text") continue
    const found = explicitHeadingId(last.content)
    if (found === undefined) continue
    last.content = found.text
    // The source ends with the same characters (no escape or entity in them, or they would not be one text token).
    inline.content = explicitHeadingId(inline.content)?.text ?? inline.content
    open.meta = { ...(open.meta as object | null), explicitId: found.id }
  }
}

/** The parser posts are rendered with (a second one, `located`, reads the same tokens with their lines). */
const configured = (): MarkdownIt => {
  const parser = new MarkdownIt("default", { html: true, linkify: false, typographer: false })
  parser.use(footnotes)
  parser.core.ruler.after("inline", "heading_id_attribute", headingIdAttribute)
  // URLs are checked after parsing (see `secureLinks`) so that rejected ones disappear instead of
  // being printed as literal `[x](javascript:...)` text.
  parser.validateLink = () => true
  return parser
}

const md: MarkdownIt = configured()

const NON_TEXT: ReadonlySet<string> = new Set(NON_TEXT_TAGS)

/** The footnotes' block tags, which markdown-it-footnote's tokens carry in their renderers, not in `tag`. */
const FOOTNOTE_TAGS: Readonly<Record<string, string>> = {
  footnote_block_open: "<hr><section><ol>",
  footnote_block_close: "</ol></section>",
  footnote_open: "<li>",
  footnote_close: "</li>"
}

/**
 * The tags the renderer writes for a markdown token, bare: what can close an element raw HTML
 * left open. Every pair (`<p>`, `</p>`, `<em>`, `</em>`...), and `<hr>` and `<pre>`, which end
 * an open `<p>`; the other single tokens are void (`<img>`, `<br>`) or close what they open
 * (`<code>...</code>`) and change nothing around them.
 */
const markdownTags = (token: Token): string => {
  if (token.hidden) return "" // a tight list's paragraphs, an unsafe link: not rendered
  if (token.nesting === 1) return token.tag === "" ? (FOOTNOTE_TAGS[token.type] ?? "") : `<${token.tag}>`
  if (token.nesting === -1) return token.tag === "" ? (FOOTNOTE_TAGS[token.type] ?? "") : `</${token.tag}>`
  if (token.type === "hr") return "<hr>"
  if (token.type === "fence" || token.type === "code_block") return "<pre></pre>"
  return ""
}

/**
 * The text a reader sees of raw HTML, read the way the sanitizer reads it: htmlparser2's parser
 * (which sanitize-html runs on) and the sanitizer's list of elements dropped with their content.
 * A render feeds one reader every raw fragment in document order, so an element opened in one
 * block or inline tag hides what follows it, markdown included, until it closes, as in the
 * sanitized page. It is fed markdown's own tags too (`markdown`): the sanitizer reads the whole
 * page, where markdown's `</p>` closes a `<svg>` or `<select>` its paragraph left open; without
 * them "a <svg> b" hid the rest of the post from the excerpt, word count and table of contents.
 * A state machine, so linear: the regexes this replaced rescanned to the end of
 * the block for every opener without a closer ("<!--" 40,000 times took 4.6 s). Entities come
 * out decoded: "&mdash;" is a dash, not a word.
 */
class RawHtmlText {
  /** Depth inside an element the sanitizer drops with its content; 0 when text is shown. */
  hidden = 0
  /**
   * Fragment targets the raw HTML sets (`id`, `<a name>` unless it repeats the `id`), in document
   * order, as the sanitizer meets them (`PostIds`): heading ids avoid them.
   */
  readonly ids: Array<string> = []
  private text = ""
  /** Made at the first fragment: most posts have no raw HTML. */
  private parser: Parser | undefined
  /** The tags of the markdown elements open before there was a parser, for it to start inside them. */
  private readonly open: Array<string> = []

  /** Whether any raw HTML was read (and the output must go through the sanitizer). */
  get used(): boolean {
    return this.parser !== undefined
  }

  /** Reads the next fragment; returns the text it shows, a space for each tag. */
  read(fragment: string): string {
    if (this.parser === undefined) {
      this.parser = new Parser(
        {
          onopentag: (name, attribs) => {
            if (this.hidden > 0 || NON_TEXT.has(name)) {
              this.hidden++
              return
            }
            this.text += " "
            if (attribs["id"] !== undefined) this.ids.push(attribs["id"])
            if (name === "a" && attribs["name"] !== undefined && attribs["name"] !== attribs["id"]) this.ids.push(attribs["name"])
          },
          onclosetag: () => {
            if (this.hidden > 0) this.hidden--
            else this.text += " "
          },
          ontext: (data) => {
            if (this.hidden === 0) this.text += data
          }
        },
        { decodeEntities: true }
      )
      this.parser.write(this.open.join(""))
    }
    this.text = ""
    this.parser.write(fragment)
    return this.text
  }

  /** Reads the tags markdown writes for `token` (their text is markdown's to read). */
  markdown(token: Token): void {
    const tags = markdownTags(token)
    if (tags === "") return
    if (this.parser !== undefined) this.parser.write(tags)
    else if (token.nesting === 1) this.open.push(tags)
    else if (token.nesting === -1) this.open.pop()
  }
}

/** Plain text of an inline token: what a reader reads (no raw HTML tags, no footnote markers, no image alt). */
const inlineText = (token: Token, raw: RawHtmlText): string => {
  const children = token.children
  if (children === null) return token.content
  let text = ""
  for (const child of children) {
    switch (child.type) {
      case "html_inline":
        raw.read(child.content)
        break
      case "text":
      case "code_inline":
        if (raw.hidden === 0) text += child.content
        break
      case "softbreak":
      case "hardbreak":
        if (raw.hidden === 0) text += " "
        break
      default:
        raw.markdown(child)
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

/** The alt text of the images of an inline token, for a heading that has no other text. */
const imageAlts = (token: Token): string =>
  (token.children ?? []).flatMap((child) => (child.type === "image" ? [altText(child)] : [])).join(" ")

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
export const htmlToText = (html: string): string => new RawHtmlText().read(html).replace(/\s+/g, " ").trim()

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

/** Points markdown links to a fragment of `fragments` (`#main`) at the id it maps to. */
const toPageFragments = (tokens: ReadonlyArray<Token>, fragments: ReadonlyMap<string, string>): void => {
  for (const token of tokens) {
    for (const child of token.children ?? []) {
      if (child.type !== "link_open") continue
      const href = child.attrGet("href")
      const to = href?.startsWith("#") === true ? fragments.get(decodedFragment(href.slice(1))) : undefined
      if (to !== undefined) child.attrSet("href", `#${to}`)
    }
  }
}

/**
 * The docId markdown-it-footnote prefixes its ids with (`fn-<docId>-1`, `fnref-<docId>-1`), so
 * none is one of `ids`: none at all (`fn1`) unless one of them looks like a footnote's; then
 * "note", unless one of them is `fn-note-<digit>...`; then the first "note-<n>" none has. One
 * pass over the ids, whatever they are.
 */
const footnoteDocId = (ids: ReadonlySet<string>): string | undefined => {
  let plain = false
  let note = false
  const numbered = new Set<string>()
  for (const id of ids) {
    if (!id.startsWith("fn")) continue
    if (/^fn(?:ref)?\d/.test(id)) plain = true
    if (/^fn(?:ref)?-note-\d/.test(id)) note = true
    const k = /^fn(?:ref)?-note-(\d+)-\d/.exec(id)?.[1]
    if (k !== undefined) numbered.add(k)
  }
  if (!plain) return undefined
  if (!note) return "note"
  let n = 1
  while (numbered.has(String(n))) n++
  return `note-${n}`
}

/** Renders a post body. Never throws on any input string. */
export const renderMarkdown = (body: string): RenderedMarkdown => {
  const env: Record<string, unknown> = {}
  const tokens = md.parse(body, env)
  const toc: Array<TocItem> = []
  // The page's own ids come first on every post's page (`PAGE_IDS`).
  const usedIds = new Set<string>(PAGE_IDS)
  const nextSuffix = new Map<string, number>()
  const headings: Array<{ readonly open: Token; readonly text: string; readonly explicitId: string | undefined; readonly listed: boolean }> = []
  const paragraphs: Array<Paragraph> = []
  const readable: Array<string> = []
  const raw = new RawHtmlText()
  let inFootnotes = 0
  // Lists open around the current token, the outermost one's number, and whether an item was
  // opened since the last paragraph.
  let listDepth = 0
  let lists = 0
  let itemOpen = false

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    raw.markdown(t)
    switch (t.type) {
      case "footnote_block_open":
        inFootnotes++
        break
      case "footnote_block_close":
        inFootnotes--
        break
      case "bullet_list_open":
      case "ordered_list_open":
        if (listDepth++ === 0) lists++
        break
      case "bullet_list_close":
      case "ordered_list_close":
        listDepth--
        break
      case "list_item_open":
        itemOpen = true
        break
      case "html_block":
        readable.push(raw.read(t.content))
        break
      case "inline": {
        secureLinks(t.children ?? [])
        const shown = raw.hidden === 0
        const text = inlineText(t, raw)
        readable.push(text)
        const before = tokens[i - 1]
        if (before?.type === "heading_open") {
          const explicitId = (before.meta as { explicitId?: string } | null)?.explicitId
          let heading = text.replace(/\s+/g, " ").trim()
          // A heading that is only a picture (a logo) is named by its alt text.
          if (heading === "" && shown) heading = imageAlts(t).replace(/\s+/g, " ").trim()
          // The table of contents lists the post's own sections: not the footnotes' headings,
          // not the ones raw HTML hides (the sanitizer drops them), not an empty one.
          headings.push({ open: before, text: heading, explicitId, listed: inFootnotes === 0 && shown && heading !== "" })
        } else if (inFootnotes === 0 && before?.type === "paragraph_open") {
          paragraphs.push({ text, list: listDepth > 0 ? lists : 0, item: listDepth > 0 && itemOpen })
          itemOpen = false
        }
        break
      }
    }
  }
  // Two elements with one id: a link goes to the first, and the other is never reached. The page's
  // own ids come first (`PAGE_IDS`: `<main id="main">` is around the post). Raw HTML's ids are
  // the author's, so they keep them, and headings avoid them, unless the page or an element
  // before has it: that one is made unique as headings are (`main-1`), and the sanitizer writes
  // it (`PostIds`). Kept as written rather than all prefixed (GitHub's `user-content-`): links to
  // them from elsewhere (a migrated post's old `page.html#section`) keep working, and no script
  // (the CSP runs none) is needed to map a fragment to a prefixed id. Then the ids the author
  // chose for headings (they link to them); then the rest in document order.
  const rawIds = new Map<string, Array<string>>()
  /** A page's id (`main`) an element of the post asked for: the first one's id, for its links. */
  const pageFragments = new Map<string, string>()
  const claim = (wanted: string): string => {
    const id = claimId(wanted, usedIds, nextSuffix)
    if (PAGE_IDS.has(wanted) && !pageFragments.has(wanted)) pageFragments.set(wanted, id)
    return id
  }
  for (const wanted of raw.ids) {
    const id = claim(wanted)
    const planned = rawIds.get(wanted)
    if (planned === undefined) rawIds.set(wanted, [id])
    else planned.push(id)
  }
  for (const h of headings) if (h.explicitId !== undefined) h.open.attrSet("id", claim(h.explicitId))
  for (const h of headings) {
    const id = h.open.attrGet("id") ?? claim(slugify(h.text) || "section")
    h.open.attrSet("id", id)
    if (h.listed) toc.push({ level: Number(h.open.tag.slice(1)), text: h.text, id })
  }
  // The post's own links to such a fragment (`[back to the top](#main)`, a heading "Main") are to
  // its element: they go there (raw HTML's `<a href>` in the sanitizer).
  if (pageFragments.size > 0) toPageFragments(tokens, pageFragments)
  // Footnote ids ("fn1", "fnref1") come from the plugin; any id above could be the same.
  // Prefixing the footnotes with a docId ("fn-note-1") only when needed keeps the common case's
  // URLs stable; a docId no id above has either ("note-1", ...).
  const docId = footnoteDocId(usedIds)
  if (docId !== undefined) env["docId"] = docId

  const rendered = md.renderer.render(tokens, md.options, env)
  const rawHtml = raw.used
  return {
    html: flat(rawHtml ? sanitizeHtml(rendered, { raw: rawIds, links: pageFragments }) : rendered),
    toc,
    paragraphs,
    readableText: readable.join("\n"),
    sanitized: rawHtml
  }
}

/**
 * Where a link of a body is written: a markdown link's `href` (as rendered), or raw HTML, which
 * may hold any number of them, with the line (from 0, in the body) the link or the HTML starts
 * on; `undefined` where it is not known (a link in an inline footnote, `^[...]`).
 */
export type LinkSource =
  | { readonly _tag: "Link"; readonly href: string; readonly line: number | undefined }
  | { readonly _tag: "Html"; readonly html: string; readonly line: number | undefined }

/** Where in its inline text a link or a raw HTML tag starts (`LocatedState`). */
interface Located {
  readonly src: string
  readonly at: number
}

/**
 * The rendering parser, its inline state noting where each link and raw HTML tag starts: markdown-it
 * gives blocks their lines but inline tokens no position. Pushed with the state at `[` (a link)
 * or `<` (a tag), so their line is the block's first plus the line breaks of its text before.
 */
const located: MarkdownIt = (() => {
  const parser = configured()
  const Base = parser.inline.State
  parser.inline.State = class LocatedState extends Base {
    override push(type: string, tag: string, nesting: Token["nesting"]): Token {
      const token = super.push(type, tag, nesting)
      if (type === "link_open" || type === "html_inline") token.meta = { src: this.src, at: this.pos } satisfies Located
      return token
    }
  }
  return parser
})()

const breaksBefore = (text: string, end: number): number => {
  let n = 0
  for (let i = text.indexOf("\n"); i !== -1 && i < end; i = text.indexOf("\n", i + 1)) n++
  return n
}

/**
 * The links of `body` in the order its rendering writes them (footnotes last, as rendered), read
 * by the parser that renders it: a link in code, escaped or in text is none, and a reference
 * link is where it is used. What `linkLines` places a post's internal links with.
 */
export const linkSources = (body: string): ReadonlyArray<LinkSource> => {
  const out: Array<LinkSource> = []
  // The line of the innermost block opened, for an inline token given none (a table's cell is
  // on its row's); none inside a block without one (a footnote's, made after parsing).
  let opened: number | undefined
  for (const token of located.parse(body, {})) {
    if (token.nesting === 1) opened = token.map?.[0] ?? (token.type === "td_open" || token.type === "th_open" ? opened : undefined)
    if (token.type === "html_block") out.push({ _tag: "Html", html: token.content, line: token.map?.[0] })
    if (token.type !== "inline" || token.children === null) continue
    const first = token.map?.[0] ?? opened
    for (const child of token.children) {
      if (child.type !== "link_open" && child.type !== "html_inline") continue
      const where = child.meta as Located | null
      // Positions are in the text the inline parser read: the token's own, or not this one's
      // (an inline footnote's, parsed apart and given no line).
      const line = first !== undefined && where !== null && where.src === token.content ? first + breaksBefore(token.content, where.at) : undefined
      out.push(child.type === "link_open" ? { _tag: "Link", href: child.attrGet("href") ?? "", line } : { _tag: "Html", html: child.content, line })
    }
  }
  return out
}
