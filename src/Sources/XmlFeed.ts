/**
 * RSS 2.0 (and RSS 1.0/RDF) and Atom 1.0 feeds into `SourceItem`s, the document read a slice at
 * a time (`readXmlTree`, in the tree fast-xml-parser made) and each item mapped when it is asked
 * for. Pure.
 *
 * Real-world oddities handled: CDATA sections, HTML entities beyond XML's five (`&nbsp;`,
 * `&eacute;`) and numeric ones, titles escaped twice, missing dates (left to the processor's
 * defaults), relative links (made absolute against `xml:base` and the feed's URL), Atom
 * `type="xhtml"` content (kept as markup, not parsed into objects), items without a title
 * (the start of their text stands in, their link or id gives the slug). A date that is there
 * but unreadable fails its item.
 */
import { Either } from "effect"
import { DecodeError } from "../Clients/FeedErrors.js"
import { runSteps } from "../Domain/yieldToEventLoop.js"
import { lineColumn } from "./body.js"
import { cleanTitle, decodeEntities, escapeHtml, htmlBody, itemSlug, plainText, readDates, resolveLinks, resolveUrl, shorten, textBody } from "./html.js"
import { type BadBytes, failIfBad, firstBadByte } from "./badBytes.js"
import { derivedId, entry, type ItemNames, itemNames, itemsOf, type ParsedFeed, rejected, type SourceItem, toPostInput } from "./SourceItem.js"
import { readXmlTree, xmlValue, type XmlTreeOptions } from "./xmlTree.js"

const ARRAYS = new Set(["item", "entry", "link", "category", "author", "contributor", "dc:creator", "dc:subject"])

// Atom text constructs are read raw: `type="xhtml"` is markup that must not become objects,
// and `type="html"` / CDATA are decoded below with the same rules.
const ATOM_TEXT = ["title", "subtitle", "content", "summary"]

const tree: XmlTreeOptions = {
  arrays: ARRAYS,
  rawPaths: new Set([...ATOM_TEXT.map((t) => `feed.entry.${t}`), "feed.title", "feed.subtitle"]),
  // Each read when the import asks for it (`feedItems`).
  lazyPaths: new Set(["rss.channel.item", "rdf:RDF.item", "feed.entry"])
}

/** A feed's items (`lazyPaths`), each read into its node and mapped by `read` when asked for. */
const feedItems = (raw: unknown, read: (item: unknown, index: number) => SourceItem): Iterable<SourceItem> =>
  itemsOf(all(raw), (item, index) => read(xmlValue(item), index))

type Node = Record<string, unknown>

const isNode = (v: unknown): v is Node => typeof v === "object" && v !== null && !Array.isArray(v)

const first = (v: unknown): unknown => (Array.isArray(v) ? v[0] : v)

const all = (v: unknown): Array<unknown> => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v])

/** The text of an element parsed normally: a string, or `#text` beside attributes. */
const text = (v: unknown): string | undefined => {
  const x = first(v)
  if (typeof x === "string") return x.trim() === "" ? undefined : x.trim()
  if (isNode(x) && x["#text"] !== undefined) return text(String(x["#text"]))
  return undefined
}

const attr = (v: unknown, name: string): string | undefined => {
  const x = first(v)
  return isNode(x) && typeof x[`@_${name}`] === "string" ? (x[`@_${name}`] as string) : undefined
}

const CDATA_OPEN = "<![CDATA["
const COMMENT_OPEN = "<!--"

/**
 * Raw XML text (a stop node): CDATA sections verbatim, comments left out (a comment is no text:
 * `<title>Hello <!-- draft --> world</title>` was imported with "<!-- draft -->" in it),
 * entities decoded elsewhere. In one pass: a split on `<!\[CDATA\[[\s\S]*?\]\]>` read the text
 * to its end again from each `<![CDATA[` that nothing closes (in an attribute of markup left in
 * the text, which the reader takes leniently).
 */
const xmlText = (raw: string): string => {
  const parts: Array<string> = []
  let at = 0
  let cdata = raw.indexOf(CDATA_OPEN)
  let comment = raw.indexOf(COMMENT_OPEN)
  while (cdata !== -1 || comment !== -1) {
    const isCdata = cdata !== -1 && (comment === -1 || cdata < comment)
    const start = isCdata ? cdata : comment
    const end = isCdata ? raw.indexOf("]]>", start + CDATA_OPEN.length) : raw.indexOf("-->", start + COMMENT_OPEN.length)
    if (end === -1) {
      // Nothing closes it, nor any after it of its kind: the rest of them is text.
      if (isCdata) cdata = -1
      else comment = -1
      continue
    }
    parts.push(decodeEntities(raw.slice(at, start)))
    if (isCdata) parts.push(raw.slice(start + CDATA_OPEN.length, end))
    at = end + 3
    if (cdata !== -1 && cdata < at) cdata = raw.indexOf(CDATA_OPEN, at)
    if (comment !== -1 && comment < at) comment = raw.indexOf(COMMENT_OPEN, at)
  }
  parts.push(decodeEntities(raw.slice(at)))
  return parts.join("").trim()
}

interface AtomText {
  readonly kind: "text" | "html"
  readonly value: string
}

/** An Atom text construct as text or HTML; xhtml loses its wrapping `<div>`. */
const atomText = (v: unknown): AtomText | undefined => {
  const x = first(v)
  const raw = typeof x === "string" ? x : isNode(x) && x["#text"] !== undefined ? String(x["#text"]) : undefined
  if (raw === undefined || raw.trim() === "") return undefined
  const type = (attr(x, "type") ?? "text").toLowerCase()
  if (type === "xhtml" || type === "application/xhtml+xml") {
    const inner = /^\s*<(?:[\w-]+:)?div\b[^>]*>([\s\S]*)<\/(?:[\w-]+:)?div>\s*$/.exec(raw)
    return { kind: "html", value: (inner?.[1] ?? raw).trim() }
  }
  return { kind: type === "html" || type === "text/html" ? "html" : "text", value: xmlText(raw) }
}

const atomTitle = (t: AtomText | undefined): string => (t === undefined ? "" : t.kind === "html" ? cleanTitle(t.value) : t.value.replace(/\s+/g, " ").trim())

/**
 * Reads the document a slice at a time (each `yield` a point where the caller may let others
 * run). A broken one names its line and column, and what the reader found there: only that.
 * fast-xml-parser's validator, run after it for its words, read the whole document again in one
 * call (seconds on 19 MB made to be refused), and said valid of a document refused for its depth.
 */
function* parseXml(xml: string, url: string): Generator<void, Either.Either<Node, DecodeError>> {
  const read = yield* readXmlTree(xml, tree)
  if ("tree" in read) return Either.right(read.tree)
  return Either.left(new DecodeError({ url, format: "xml", path: lineColumn(xml, read.problem.index), reason: read.problem.reason }))
}

/** A title for an item that has none: the start of its text. */
const titleFromText = (html: string | undefined): string => shorten(plainText(html ?? ""), 80)

/** `a@b.c (Name)` → `Name`; otherwise as given. */
const rssAuthor = (value: string): string => /\(([^)]+)\)\s*$/.exec(value)?.[1]?.trim() ?? value.trim()

const rssItem = (item: unknown, index: number, feedUrl: string, names: ItemNames): SourceItem => {
  const guid = text(isNode(item) ? item["guid"] : undefined)
  const permaLink = attr(isNode(item) ? item["guid"] : undefined, "isPermaLink") !== "false"
  const node = isNode(item) ? item : {}
  const linkText = text(node["link"]) ?? (guid !== undefined && permaLink && /^https?:/i.test(guid) ? guid : undefined)
  const link = linkText === undefined ? undefined : resolveUrl(linkText, feedUrl)

  const encoded = text(node["content:encoded"])
  const description = text(node["description"])
  const html = encoded ?? description
  const ownTitle = cleanTitle(text(node["title"]) ?? "")
  const id = guid ?? link ?? derivedId(ownTitle, html ?? "")
  const source = names.source(id)
  const title = ownTitle || titleFromText(html)
  if (html === undefined && title === "") return rejected(source, `item ${index + 1}: neither title nor content`)
  if (title === "") return rejected(source, `item ${index + 1}: no <title>, and no text in its content to make one from`)
  const slug = itemSlug(ownTitle, link, guid)
  const publishedElement = text(node["pubDate"]) !== undefined ? "pubDate" : "dc:date"
  const { dates, problems } = readDates(
    { published: text(node["pubDate"]) ?? text(node["dc:date"]), updated: text(node["atom:updated"]) },
    (field) => `<${field === "published" ? publishedElement : "atom:updated"}>`
  )
  if (problems.length > 0) return rejected(source, `item ${index + 1}: ${problems.join("; ")}`)

  const authors = [...all(node["dc:creator"]), ...all(node["author"])].flatMap((a) => {
    const t = text(a)
    return t === undefined ? [] : [rssAuthor(t)]
  })
  const tags = [...all(node["category"]), ...all(node["dc:subject"])].flatMap((c) => {
    const t = text(c)
    return t === undefined ? [] : [decodeEntities(t)]
  })
  return entry(
    source,
    toPostInput({
      title,
      slug,
      body: html === undefined ? htmlBody(`<p>${escapeHtml(title)}</p>`) : htmlBody(resolveLinks(html, feedUrl)),
      tags,
      publishedAt: dates.published,
      updatedAt: dates.updated,
      authors,
      summary: encoded !== undefined && description !== undefined ? plainText(description) : undefined,
      metadata: {
        url: link,
        feedItemId: guid ?? link,
        enclosure: attr(node["enclosure"], "url") === undefined ? undefined : resolveUrl(attr(node["enclosure"], "url")!, feedUrl)
      }
    }),
    undefined,
    names.former(id)
  )
}

const baseOf = (node: unknown, parent: string): string => {
  const base = attr(node, "xml:base")
  return base === undefined ? parent : resolveUrl(base, parent)
}

const atomLink = (links: unknown, base: string): string | undefined => {
  const list = all(links)
  const alternate = list.find((l) => (attr(l, "rel") ?? "alternate") === "alternate" && attr(l, "href") !== undefined)
  const href = attr(alternate, "href")
  return href === undefined ? undefined : resolveUrl(href, base)
}

const atomNames = (authors: unknown): Array<string> =>
  all(authors).flatMap((a) => {
    const name = isNode(a) ? text(a["name"]) : undefined
    return name === undefined ? [] : [decodeEntities(name)]
  })

const atomEntry = (entryNode: unknown, index: number, feedBase: string, names: ItemNames, feedAuthors: Array<string>): SourceItem => {
  const node = isNode(entryNode) ? entryNode : {}
  const base = baseOf(node, feedBase)
  const link = atomLink(node["link"], base)

  const content = atomText(node["content"])
  const summary = atomText(node["summary"])
  const contentBase = baseOf(first(node["content"]), base)
  const body = content ?? summary
  const bodyBase = content !== undefined ? contentBase : baseOf(first(node["summary"]), base)
  const ownTitle = atomTitle(atomText(node["title"]))
  const id = text(node["id"]) ?? link ?? derivedId(ownTitle, body?.value ?? "")
  const source = names.source(id)
  const title = ownTitle ||
    titleFromText(body === undefined ? undefined : body.kind === "html" ? body.value : body.value.replace(/</g, "&lt;"))
  if (body === undefined && title === "") return rejected(source, `entry ${index + 1}: neither title nor content`)
  if (title === "") return rejected(source, `entry ${index + 1}: no <title>, and no text in its content to make one from`)
  const slug = itemSlug(ownTitle, link, text(node["id"]))
  const published = text(node["published"]) ?? text(node["issued"])
  const updated = text(node["updated"]) ?? text(node["modified"])
  const elements = {
    published: text(node["published"]) !== undefined ? "published" : "issued",
    updated: text(node["updated"]) !== undefined ? "updated" : "modified"
  }
  const { dates, problems } = readDates({ published, updated }, (field) => `<${elements[field]}>`)
  if (problems.length > 0) return rejected(source, `entry ${index + 1}: ${problems.join("; ")}`)

  const authors = atomNames(node["author"])
  const tags = all(node["category"]).flatMap((c) => {
    const t = attr(c, "label") ?? attr(c, "term")
    return t === undefined ? [] : [t]
  })
  return entry(
    source,
    toPostInput({
      title,
      slug,
      body: body === undefined
        ? htmlBody(`<p>${escapeHtml(title)}</p>`)
        : body.kind === "html"
        ? htmlBody(resolveLinks(body.value, bodyBase))
        : textBody(body.value),
      tags,
      publishedAt: dates.published ?? dates.updated,
      updatedAt: dates.updated,
      authors: authors.length > 0 ? authors : feedAuthors,
      summary: content !== undefined && summary !== undefined
        ? summary.kind === "html" ? plainText(summary.value) : summary.value
        : undefined,
      metadata: { url: link, feedItemId: text(node["id"]) ?? link }
    }),
    undefined,
    names.former(id)
  )
}

export type XmlFeedKind = "rss" | "atom"

/** Which kind of XML feed `xml` looks like, from its root element, without parsing it whole. */
export const sniffXmlFeed = (xml: string): XmlFeedKind | undefined => {
  const head = xml.slice(0, 4096).replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>/g, "")
  const root = /<([\w:-]+)/.exec(head)?.[1]
  if (root === undefined) return undefined
  if (root === "rss" || root === "rdf:RDF") return "rss"
  if (root === "feed" || root.endsWith(":feed")) return "atom"
  return undefined
}

/**
 * Reads an RSS or Atom document; `feedUrl` is where it was fetched from (the base for relative
 * links), `name` the URL its items are named by (`itemNames`: the one asked for). `bad`: where the
 * markers of bytes that are not UTF-8 are (`markedBodyTextInSteps`); an item with one fails
 * (`failIfBad`), and a feed whose `xml:base` has one is refused (`bad.error`), as every link
 * would be resolved against an altered base. In steps: the caller may let others run at each `yield`
 * (`runStepsWithTurns`); `parseXmlFeed` reads it at once.
 */
export function* readXmlFeed(
  xml: string,
  feedUrl: string,
  bad?: BadBytes & { readonly error: DecodeError },
  name: string = feedUrl
): Generator<void, Either.Either<ParsedFeed, DecodeError>> {
  return Either.flatMap(yield* parseXml(xml, feedUrl), (doc): Either.Either<ParsedFeed, DecodeError> => {
    const names = itemNames(feedUrl, name)
    if (isNode(doc["rss"])) {
      const channel = isNode(doc["rss"]["channel"]) ? doc["rss"]["channel"] : {}
      return Either.right({
        format: "rss",
        title: text(channel["title"]) === undefined ? undefined : cleanTitle(text(channel["title"])!),
        items: feedItems(channel["item"], (item, i) => failIfBad(rssItem(item, i, feedUrl, names), item, `item ${i + 1}`, bad))
      })
    }
    const rdf = doc["rdf:RDF"]
    if (isNode(rdf)) {
      return Either.right({
        format: "rss",
        title: isNode(rdf["channel"]) && text(rdf["channel"]["title"]) !== undefined ? cleanTitle(text(rdf["channel"]["title"])!) : undefined,
        items: feedItems(rdf["item"], (item, i) => failIfBad(rssItem(item, i, feedUrl, names), item, `item ${i + 1}`, bad))
      })
    }
    if (isNode(doc["feed"])) {
      const feed = doc["feed"]
      if (bad !== undefined && firstBadByte(attr(feed, "xml:base"), bad) !== undefined) return Either.left(bad.error)
      const base = baseOf(feed, feedUrl)
      const feedAuthors = atomNames(feed["author"])
      return Either.right({
        format: "atom",
        title: atomTitle(atomText(feed["title"])) || undefined,
        items: feedItems(feed["entry"], (e, i) => failIfBad(atomEntry(e, i, base, names, feedAuthors), e, `entry ${i + 1}`, bad))
      })
    }
    const root = Object.keys(doc).find((k) => !k.startsWith("?") && !k.startsWith("#"))
    return Either.left(
      new DecodeError({ url: feedUrl, format: "xml", path: "(root)", reason: `<${root ?? "?"}> is neither an RSS nor an Atom document` })
    )
  })
}

/** `readXmlFeed` at once. */
export const parseXmlFeed = (
  xml: string,
  feedUrl: string,
  bad?: BadBytes & { readonly error: DecodeError },
  name: string = feedUrl
): Either.Either<ParsedFeed, DecodeError> => runSteps(readXmlFeed(xml, feedUrl, bad, name))
