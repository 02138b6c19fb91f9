/**
 * HTML safety: URL checks for markdown links and images, and an allowlist sanitizer for raw HTML.
 * Pure; the sanitizer options are built once.
 */
import { Parser } from "htmlparser2"
import sanitize from "sanitize-html"

/** Browsers drop tabs and newlines anywhere in a URL and C0 controls/spaces around it: so do we before reading the scheme. */
const URL_NOISE = /[\u0000-\u0020\u007f-\u009f]/g
const HAS_URL_NOISE = /[\u0000-\u0020\u007f-\u009f]/
const clean = (url: string): string => (HAS_URL_NOISE.test(url) ? url.replace(URL_NOISE, "") : url)

/**
 * The scheme of `url` as a browser would read it, lowercased; `undefined` for relative URLs.
 * Conservative: any ":" before the first "/", "?" or "#" counts as a scheme, valid or not.
 */
export const urlScheme = (url: string): string | undefined => {
  const m = /^([^/?#]*?):/.exec(clean(url))
  return m === null ? undefined : m[1]!.toLowerCase()
}

const LINK_SCHEMES = new Set(["http", "https", "mailto", "tel"])
const DATA_IMAGE = /^data:image\/(?:png|gif|jpe?g|webp|avif)[;,]/i

/** Links: relative, http(s), mailto, tel. Never javascript:, vbscript:, data: or anything unknown. */
export const isSafeLinkUrl = (url: string): boolean => {
  const scheme = urlScheme(url)
  return scheme === undefined || LINK_SCHEMES.has(scheme)
}

/**
 * The schemes an image may have besides a relative URL. The site's Content-Security-Policy allows
 * exactly these in `img-src`, so every image a post keeps is one the browser may load.
 */
export const IMAGE_SCHEMES: ReadonlyArray<string> = ["http", "https", "data"]

/** Images: relative, http(s), or a raster `data:image/...` (SVG excluded: it is a document, not a picture). */
export const isSafeImageUrl = (url: string): boolean => {
  const scheme = urlScheme(url)
  if (scheme === undefined) return true
  return IMAGE_SCHEMES.includes(scheme) && (scheme !== "data" || DATA_IMAGE.test(clean(url)))
}

/** Absolute web URLs leave the site: they get `rel="noopener noreferrer"`. */
export const isExternalUrl = (url: string): boolean => {
  const c = clean(url)
  return /^https?:/i.test(c) || /^[/\\]{2}/.test(c)
}

export const EXTERNAL_REL = "noopener noreferrer"
/** rel tokens an author may set; anything else (e.g. "opener") is dropped. */
const AUTHOR_REL = new Set(["nofollow", "ugc", "sponsored", "noopener", "noreferrer", "external", "me", "tag", "license"])

/**
 * Inline styles are common in real posts (tables, cards), but CSS can load URLs and overlay the
 * page: keep only layout/typography properties whose values cannot fetch anything, and nothing
 * that lifts a block out of the post's box. A post is laid out after the site's header, so a
 * negative margin moves it up over the header, a viewport unit sizes it to cover the window
 * whatever the column's width, and `opacity` below 1 makes it a stacking context, painted above
 * the header's in-flow content: together they drew a fake "session expired" box over the site.
 */
const STYLE_PROPERTIES = new Set([
  "color", "background-color", "background", "text-align", "vertical-align", "font-weight", "font-style",
  "font-size", "font-family", "text-decoration", "white-space", "line-height", "width", "min-width", "max-width",
  "height", "display", "flex", "flex-direction", "flex-wrap", "gap", "align-items", "justify-content",
  "border", "border-top", "border-bottom", "border-left", "border-right", "border-collapse", "border-radius",
  "border-color", "border-width", "border-style", "padding", "padding-top", "padding-bottom", "padding-left",
  "padding-right", "margin", "margin-top", "margin-bottom", "margin-left", "margin-right", "list-style-type",
  "overflow-x", "cursor"
])
const SAFE_STYLE_VALUE = /^[\w\s#.,%()+\-/'"!]*$/
const UNSAFE_STYLE_VALUE = /url\s*\(|expression\s*\(|image-set|@import|\\/i
/** Viewport units (`vw`, `dvh`, `vmax`...) and container units, which fall back to the viewport outside a container. */
const VIEWPORT_UNIT = /\d(?:[sld]?v(?:w|h|i|b|min|max)|cq(?:w|h|i|b|min|max))(?![a-z])/i
/**
 * Margins: `auto` or plain non-negative lengths only. No math functions either: without a minus
 * sign `calc(600px / cos(180deg))` is -600px all the same.
 */
const SAFE_MARGIN = /^(?:auto|\d*\.?\d+(?:px|r?em|ex|ch|pt|pc|cm|mm|in|q|%)?)(?:\s+(?:auto|\d*\.?\d+(?:px|r?em|ex|ch|pt|pc|cm|mm|in|q|%)?)){0,3}(?:\s*!important)?$/i

const isSafeDeclaration = (prop: string, value: string): boolean =>
  STYLE_PROPERTIES.has(prop) &&
  SAFE_STYLE_VALUE.test(value) &&
  !UNSAFE_STYLE_VALUE.test(value) &&
  !VIEWPORT_UNIT.test(value) &&
  (!prop.startsWith("margin") || SAFE_MARGIN.test(value))

const filterStyle = (style: string): string =>
  style
    .split(";")
    .map((decl) => {
      const colon = decl.indexOf(":")
      if (colon === -1) return ""
      const prop = decl.slice(0, colon).trim().toLowerCase()
      const value = decl.slice(colon + 1).trim()
      return isSafeDeclaration(prop, value) ? `${prop}: ${value}` : ""
    })
    .filter((d) => d !== "")
    .join("; ")

/**
 * The classes a post may carry: the ones markdown itself writes (a fence's `language-*`, the
 * footnotes'). The site's own stylesheet is the only one a page loads, so any other class could
 * only ever pick up one of the theme's rules: `class="brand"` dressed a post's text as the site's
 * title. An allowlist rather than the theme's names left out, since stored posts are not
 * sanitized again when a theme adds a class.
 */
const POST_CLASSES = ["language-*", "footnote-ref", "footnote-item", "footnote-backref", "footnotes", "footnotes-sep", "footnotes-list"]

const transformAttributes = (tagName: string, attribs: sanitize.Attributes): sanitize.Tag => {
  const out: sanitize.Attributes = { ...attribs }
  if (out["style"] !== undefined) {
    const style = filterStyle(out["style"])
    if (style === "") delete out["style"]
    else out["style"] = style
  }
  if (tagName === "progress") {
    for (const name of ["value", "max"]) {
      const value = out[name]?.trim()
      if (value === undefined || !PROGRESS_NUMBER.test(value)) delete out[name]
      else out[name] = value
    }
  }
  if (tagName === "a") {
    const rel = new Set((out["rel"] ?? "").toLowerCase().split(/\s+/).filter((t) => AUTHOR_REL.has(t)))
    if (out["target"] !== undefined && out["target"] !== "_blank") delete out["target"]
    if (out["target"] !== undefined || (out["href"] !== undefined && isExternalUrl(out["href"]))) {
      rel.add("noopener")
      rel.add("noreferrer")
    }
    if (rel.size > 0) out["rel"] = [...rel].join(" ")
    else delete out["rel"]
  }
  return { tagName, attribs: out }
}

/** The id of the element around every page's content (the skip link's target). */
export const MAIN_ID = "main"

/**
 * The ids the site's pages give their own elements (Site/Pages.tsx), around and before a post's
 * content: a link to one goes to the first element that has it, the page's, so a post's element
 * with one of them was never reached by its links, and the page had two elements with one id.
 * A post's ids avoid them (`renderMarkdown`, `PostIds`). An id added to the pages goes here.
 */
export const PAGE_IDS: ReadonlySet<string> = new Set([MAIN_ID])

/**
 * What `renderMarkdown` decided of the ids in a post's raw HTML, for the sanitizer to write:
 * each `id` (and `<a name>`) the raw HTML sets keeps it, unless the page (`PAGE_IDS`), or an
 * element before it in the post, already has it, in which case it is made unique as heading ids
 * are (`main-1`), and heading and footnote ids avoid them all.
 */
export interface PostIds {
  /** For each id the raw HTML sets, the id each element setting it gets, in document order. */
  readonly raw: ReadonlyMap<string, ReadonlyArray<string>>
  /**
   * A fragment of the page's (`#main`) that an element of the post asked for, and the id it got:
   * the post's own links to it (`href="#main"`) are to that element, and go there.
   */
  readonly links: ReadonlyMap<string, string>
}

/**
 * `transformAttributes` writing the ids `ids` planned: the `n`th element of the post setting an
 * id gets the `n`th id planned for it, in the order the planner read them (`renderMarkdown`'s
 * raw HTML reader: the same parser over the same tags). Only for the tags that stay: one dropped
 * or unwrapped (a `<form>`) uses none of the ids, and a plan that runs short (a parser reading
 * the tags otherwise) drops the id rather than give a second element one. An id nobody planned
 * is markdown's own (a heading's, a footnote's), which avoid every planned one.
 */
const transformWithIds = (ids: PostIds): ((tagName: string, attribs: sanitize.Attributes) => sanitize.Tag) => {
  const used = new Map<string, number>()
  const next = (id: string): string | undefined => {
    const planned = ids.raw.get(id)
    if (planned === undefined) return id
    const n = used.get(id) ?? 0
    used.set(id, n + 1)
    return planned[n]
  }
  return (tagName, attribs) => {
    const tag = transformAttributes(tagName, attribs)
    if (!ALLOWED_TAGS.has(tagName)) return tag
    const out = tag.attribs
    const id = out["id"]
    if (id !== undefined) {
      const final = next(id)
      if (final === undefined) delete out["id"]
      else out["id"] = final
    }
    if (tagName === "a") {
      if (out["name"] !== undefined) {
        const final = out["name"] === id ? out["id"] : next(out["name"])
        if (final === undefined) delete out["name"]
        else out["name"] = final
      }
      const href = out["href"]
      if (href !== undefined && href.startsWith("#") && ids.links.size > 0) {
        const to = ids.links.get(decodedFragment(href.slice(1)))
        if (to !== undefined) out["href"] = `#${to}`
      }
    }
    return tag
  }
}

/** A link's fragment as the id it names (`#caf%C3%A9` names `café`). */
export const decodedFragment = (fragment: string): string => {
  try {
    return decodeURIComponent(fragment)
  } catch {
    return fragment
  }
}

/**
 * Elements dropped with their content: code or a foreign document, never text to show. The
 * excerpt and word count read raw HTML with this same list (markdown.ts), so they count no word
 * the page does not show. Not `<noscript>`: no script of a post ever runs (dropped here, and the
 * site's CSP allows none), so its content is exactly what readers should see (the Rust survey
 * posts' 68 charts are images in `<noscript>`). It is unwrapped like any tag not allowed: its
 * children are sanitized as they were parsed, and the page has no `<noscript>` left for a
 * browser to parse as raw text differently. Except a lazy image's fallback copy: `lazyImageCopies`.
 */
export const NON_TEXT_TAGS: ReadonlyArray<string> = [
  "script", "style", "textarea", "option", "iframe", "object", "embed", "svg", "math", "template", "title",
  "xmp", "noembed", "noframes", "select"
]

/** A `<progress>`'s value and max: plain non-negative numbers. */
const PROGRESS_NUMBER = /^(?:\d+(?:\.\d+)?|\.\d+)$/

const ALLOWED_TAG_LIST = [
  "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del",
  "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
  "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "progress", "q", "rp", "rt", "ruby", "s", "samp", "section", "small",
  "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u",
  "ul", "var", "wbr"
]
const ALLOWED_TAGS: ReadonlySet<string> = new Set(ALLOWED_TAG_LIST)

const OPTIONS: sanitize.IOptions = {
  allowedTags: ALLOWED_TAG_LIST,
  allowedAttributes: {
    "*": ["id", "class", "title", "lang", "dir", "style"],
    a: ["href", "name", "rel", "target", "hreflang"],
    img: ["src", "alt", "width", "height", "loading"],
    td: ["colspan", "rowspan", "align"],
    th: ["colspan", "rowspan", "align", "scope"],
    ol: ["start", "reversed", "type"],
    li: ["value"],
    details: ["open"],
    time: ["datetime"],
    col: ["span"],
    colgroup: ["span"],
    blockquote: ["cite"],
    q: ["cite"],
    del: ["cite", "datetime"],
    ins: ["cite", "datetime"],
    // Project Goals updates draw 423 progress bars.
    progress: ["value", "max"]
  },
  allowedClasses: { "*": POST_CLASSES },
  allowedSchemes: ["http", "https", "mailto", "tel"],
  allowedSchemesByTag: { img: [...IMAGE_SCHEMES] },
  allowedSchemesAppliedToAttributes: ["href", "src", "cite"],
  allowProtocolRelative: true,
  nonTextTags: [...NON_TEXT_TAGS],
  transformTags: { "*": transformAttributes },
  // A data: URL passed the scheme check for img; only raster images may stay.
  exclusiveFilter: (frame) =>
    frame.tag === "img" && frame.attribs["src"] !== undefined && !isSafeImageUrl(frame.attribs["src"]),
  parseStyleAttributes: false
}

/** An `<img>` a lazy-loading script fills in: its address in a data attribute (lazysizes' `data-src`, WP Rocket's `data-lazy-src`...). */
const LAZY_SOURCE = /^data-(?:lazy-)?src(?:set)?$/

interface ImgTag {
  readonly start: number
  readonly end: number
  readonly attribs: Readonly<Record<string, string>>
}

/**
 * The `<img>` tags of `html` that show a lazy-loaded image a second time once `<noscript>` is
 * unwrapped (see NON_TEXT_TAGS), as [start, end) ranges. The common pattern puts the fallback
 * right after the image, `<img loading=lazy src=X><noscript><img src=X></noscript>`, or after a
 * placeholder a script was to fill in, `<img src="data:..." data-src=X><noscript><img src=X></noscript>`.
 * With an `<img>` of the same src just before the `<noscript>` (whitespace and comments between
 * them aside), the copy inside goes; before a placeholder with a lazy data attribute, the
 * placeholder goes, since no script will ever load its image. Any other `<noscript>` (the survey
 * charts: an image in a `<noscript>` of its own) is unwrapped whole. Read with the sanitizer's
 * parser, so both see the same elements.
 */
export const lazyImageCopies = (html: string): Array<readonly [number, number]> => {
  const drop: Array<readonly [number, number]> = []
  /** The open `<noscript>`s, innermost last: the `<img>` just before each and the ones inside it. */
  const noscripts: Array<{ readonly before: ImgTag | undefined; readonly images: Array<ImgTag> }> = []
  /** The element that just ended, when it is the previous sibling of what comes next. */
  let previous: ImgTag | "element" | undefined
  let img: ImgTag | undefined
  const parser: Parser = new Parser(
    {
      onopentag: (name, attribs) => {
        if (name === "noscript") noscripts.push({ before: typeof previous === "object" ? previous : undefined, images: [] })
        img = name === "img" ? { start: parser.startIndex, end: parser.endIndex + 1, attribs } : undefined
        if (img !== undefined) noscripts[noscripts.length - 1]?.images.push(img)
        previous = undefined
      },
      onclosetag: (name) => {
        previous = name === "img" ? img : "element"
        if (name !== "noscript") return
        const { before, images } = noscripts.pop()!
        if (before === undefined || images.length === 0) return
        const src = before.attribs["src"]?.trim()
        const copies = images.filter((i) => src !== undefined && src !== "" && i.attribs["src"]?.trim() === src)
        if (copies.length > 0) for (const c of copies) drop.push([c.start, c.end])
        else if (Object.keys(before.attribs).some((a) => LAZY_SOURCE.test(a))) drop.push([before.start, before.end])
      },
      ontext: (text) => {
        if (text.trim() !== "") previous = undefined
      }
    },
    { decodeEntities: true }
  )
  parser.end(html)
  return drop
}

/**
 * `html` with the ranges `drop` (tags, disjoint or equal) each replaced by an empty comment, which
 * the sanitizer drops: an empty string could join the text around a tag into a new tag ("<" and "svg>").
 */
const without = (html: string, drop: ReadonlyArray<readonly [number, number]>): string => {
  let out = ""
  let at = 0
  for (const [start, end] of [...drop].sort((a, b) => a[0] - b[0])) {
    if (start < at) continue
    out += html.slice(at, start) + "<!---->"
    at = end
  }
  return out + html.slice(at)
}

/**
 * Sanitizes an HTML document fragment against the allowlist above; with `ids`, the ids of its raw
 * HTML as `renderMarkdown` planned them (`PostIds`), else as written.
 */
export const sanitizeHtml = (html: string, ids?: PostIds): string =>
  sanitize(
    /<noscript/i.test(html) ? without(html, lazyImageCopies(html)) : html,
    ids === undefined ? OPTIONS : { ...OPTIONS, transformTags: { "*": transformWithIds(ids) } }
  )
