/**
 * An XML document read into the object tree fast-xml-parser made of it (the shape XmlFeed.ts
 * reads), a slice at a time, on htmlparser2's tokenizer.
 *
 * fast-xml-parser read a document whole, in one synchronous call, a character at a time into
 * strings grown by one character: ~1 MB a second, and ~35 bytes of heap for each byte of text
 * (a 6 MB item took 6 s and 226 MB, past the CLI's heap). The tokenizer reports where each piece
 * is, and the text is sliced from the document: ~10 MB a second, the heap a few times the text,
 * and between two slices the caller may let others run (each `yield` of `readXmlTree`).
 *
 * The tree, as fast-xml-parser's options `ignoreAttributes: false`, `attributeNamePrefix: "@_"`,
 * `parseTagValue: false`, `trimValues: true`, `htmlEntities: true` built it:
 * - an element's children by name, several of one name as an array (always an array for the
 *   names in `arrays`); attributes as `@_name`; its text (each run between two tags trimmed,
 *   entities decoded; CDATA as written; comments left out, the text around one joined) as
 *   `#text`, or as the element's value when it has neither children nor attributes; `""` for an
 *   element with nothing;
 * - an element at one of `rawPaths` (`feed.entry.content`) has its content as written, markup
 *   and all (fast-xml-parser's `stopNodes`);
 * - an element at one of `lazyPaths` (a feed's item) is a `LazyElement`, its value built when
 *   asked for (`xmlValue`);
 * - line ends (CRLF, CR) read as LF; entities decoded as fast-xml-parser decoded them (`NAMED`),
 *   and those a DOCTYPE declares (not those whose value holds markup or another entity); an
 *   external one refused.
 * Objects have no prototype: an element named `__proto__` is a key like any other.
 *
 * Well-formedness is checked as far as the tree depends on it: a closing tag that closes no
 * open element, elements left open at the end, and a tag or attribute name that is no XML name
 * (a byte that is not UTF-8 in it: `badBytes.ts`), are errors at their offset. What the
 * tokenizer reads leniently (a `&` or `<` that starts nothing, an unquoted attribute) is read
 * as text or as the attribute. A document made to exhaust the reader is refused as
 * fast-xml-parser refused it, the whole document and not some of its items: elements nested
 * past `MAX_NESTED_TAGS`, a DOCTYPE's entities expanding past `MAX_EXPANSION` characters; and
 * so is one that is read into more than fast-xml-parser ever met in a feed: an element with more
 * than `MAX_ATTRIBUTES` attributes, an item holding more than `MAX_ITEM_NODES` elements and
 * attributes. Each is counted as the tokenizer goes, on the first reading, nothing built for it.
 */
import { QuoteType, Tokenizer } from "htmlparser2"
import { lineColumn } from "./body.js"

export type XmlNode = Record<string, unknown>

export interface XmlTreeOptions {
  /** Element names whose values are always an array (fast-xml-parser's `isArray`). */
  readonly arrays: ReadonlySet<string>
  /** Paths from the root, dotted (`feed.entry.content`), of elements whose content is kept as written. */
  readonly rawPaths: ReadonlySet<string>
  /** Paths of elements kept as a `LazyElement`, read when asked for (`xmlValue`): a feed's items. */
  readonly lazyPaths: ReadonlySet<string>
}

/** Where and why a document is not one: `open`, the elements left open at its end, outermost first. */
export interface XmlProblem {
  readonly index: number
  readonly reason: string
  readonly open?: ReadonlyArray<string> | undefined
}

/** Characters the tokenizer is given between two `yield`s (~5 ms of reading). */
export const SLICE_CHARS = 64 * 1024

/**
 * Characters the DOCTYPE's entities may add to the document in all, as fast-xml-parser allowed
 * (`maxExpandedLength`): an entity of 10,000 characters named a million times would otherwise
 * make 10 GB of text. Counted over the whole document as it is first read, the items' content
 * too, so that past it the document is refused whichever items are read, in whatever order.
 */
export const MAX_EXPANSION = 100_000

/**
 * How many elements an element may be inside, as fast-xml-parser allowed (`maxNestedTags`). A
 * feed needs a few; each open element is held until it closes, and a body of `FEED_MAX_BYTES`
 * (20 MiB) is 7 million `<a>`. Counted everywhere, inside content kept as written too.
 */
export const MAX_NESTED_TAGS = 100

/**
 * Attributes an element may have: a feed's have a few. Each is built into its element's object
 * (its item's, when the item is read: one item of 1.5 million held a server 6 to 8 s). Counted
 * everywhere, inside content kept as written too.
 */
export const MAX_ATTRIBUTES = 1000

/**
 * Elements and attributes an item (`lazyPaths`) may hold where its reading builds them
 * (`LazyElement.read`, at once): a feed's item holds tens, an RSS description written as markup
 * rather than escaped a few thousand; one of 700,000 categories held a server for seconds.
 * Content kept as written (`rawPaths`) is not built, and not counted.
 */
export const MAX_ITEM_NODES = 20_000

/** DOCTYPE entities kept at most (fast-xml-parser's `maxEntityCount`), and the longest value (`maxEntitySize`). */
const MAX_ENTITIES = 1000
const MAX_ENTITY_SIZE = 10_000

/**
 * A place among the paths of `rawPaths` and `lazyPaths`: what an element there is read as, and
 * the places below it by name. An element knows its place from its parent's at once, where a
 * dotted path built from the root took time and memory in its depth for each element (an item
 * of 30,000 nested elements held the event loop for 15 s and took 1.1 GB).
 */
interface Place {
  raw: boolean
  lazy: boolean
  readonly below: Map<string, Place>
}

const newPlace = (): Place => ({ raw: false, lazy: false, below: new Map() })

/** The places of `options`' paths, from the root. */
const placesOf = (options: XmlTreeOptions): Place => {
  const root = newPlace()
  const add = (path: string, mark: (place: Place) => void) => {
    let place = root
    for (const name of path.split(".")) {
      let below = place.below.get(name)
      if (below === undefined) place.below.set(name, below = newPlace())
      place = below
    }
    mark(place)
  }
  for (const path of options.rawPaths) add(path, (place) => place.raw = true)
  for (const path of options.lazyPaths) add(path, (place) => place.lazy = true)
  return root
}

interface Open {
  readonly name: string
  /** Offset of its `<`. */
  readonly at: number
  /** Its place among the options' paths; undefined off them. */
  readonly place: Place | undefined
  /** Its children, text and attributes as they are built; undefined where nothing is built (inside a raw or a lazy element). */
  node: XmlNode | undefined
  readonly text: Array<string>
  readonly attributes: XmlNode | undefined
  /** Where its content starts, for a raw element (`rawPaths`) or a lazy one (`lazyPaths`); -1 for others. */
  rawFrom: number
  lazyFrom: number
  /**
   * Whether its text and its children's attributes are decoded later, when its item is read
   * (`LazyElement`): what the DOCTYPE's entities add to them is counted now (`MAX_EXPANSION`).
   */
  deferred: boolean
}

const newNode = (): XmlNode => Object.create(null) as XmlNode

const lf = (text: string): string => (text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text)

/** `name`'s value added to `node`, as fast-xml-parser adds a child. */
const addChild = (node: XmlNode, name: string, value: unknown, arrays: ReadonlySet<string>): void => {
  if (Object.prototype.hasOwnProperty.call(node, name)) {
    const present = node[name]
    if (Array.isArray(present)) present.push(value)
    else node[name] = [present, value]
  } else {
    node[name] = arrays.has(name) ? [value] : value
  }
}

/** An element's value once closed: its node, its text alone, or `""`. */
const valueOf = (node: XmlNode, text: string, attributes: XmlNode | undefined): unknown => {
  if (text.length > 0) node["#text"] = text
  if (attributes !== undefined) {
    for (const key of Object.keys(attributes)) node[key] = attributes[key]
    return node
  }
  const keys = Object.keys(node)
  if (keys.length === 0) return ""
  return keys.length === 1 && keys[0] === "#text" ? text : node
}

interface Doctype {
  /** Where the document goes on after it. */
  readonly end: number
  readonly entities: ReadonlyMap<string, string>
}

/**
 * The DOCTYPE before the root element, if any, and the entities its internal subset declares.
 * An external entity (`SYSTEM`, `PUBLIC`) or a parameter entity is refused, as fast-xml-parser
 * refused them: nothing is ever fetched for a feed's markup.
 */
const readDoctype = (xml: string): Doctype | XmlProblem | undefined => {
  const prolog = /^(?:\uFEFF)?(?:\s+|<\?[\s\S]*?\?>|<!--[\s\S]*?-->)*/.exec(xml)![0].length
  if (!xml.startsWith("<!DOCTYPE", prolog)) return undefined
  const entities = new Map<string, string>()
  let i = prolog + 9
  let quote: string | undefined
  let subset = false
  for (; i < xml.length; i++) {
    const c = xml[i]!
    if (quote !== undefined) {
      if (c === quote) quote = undefined
    } else if (c === "\"" || c === "'") {
      quote = c
    } else if (c === "[" && !subset) {
      subset = true
    } else if (subset && c === "]") {
      subset = false
    } else if (subset && xml.startsWith("<!--", i)) {
      const end = xml.indexOf("-->", i + 4)
      if (end === -1) break
      i = end + 2
    } else if (subset && c === "<") {
      const declaration = /^<!(\w+)\s+(%\s+)?([^\s"'>]+)\s*((?:SYSTEM|PUBLIC)\b)?\s*(?:"([^"]*)"|'([^']*)')?[^>]*>/.exec(xml.slice(i, i + MAX_ENTITY_SIZE + 200))
      if (declaration === null) return { index: i, reason: "Invalid DOCTYPE" }
      if (declaration[1] === "ENTITY") {
        if (declaration[4] !== undefined) return { index: i, reason: "External entities are not supported" }
        if (declaration[2] !== undefined) return { index: i, reason: "Parameter entities are not supported" }
        const value = declaration[5] ?? declaration[6] ?? ""
        // Markup or another entity in a value is not expanded (no entity expands into more of them).
        if (!/[<&]/.test(value) && entities.size < MAX_ENTITIES) entities.set(declaration[3]!, value)
      }
      i += declaration[0].length - 1
    } else if (!subset && c === ">") {
      return { end: i + 1, entities }
    }
  }
  return { index: prolog, reason: "Unclosed DOCTYPE" }
}

/**
 * The named entities fast-xml-parser decoded (`htmlEntities: true`: XML's five, its "common
 * HTML" and currency ones). Others are left as written, as it left them: HTML's `&LT;` is no
 * XML entity, and decoded here it turned text into markup; the HTML read from a feed decodes
 * what it means later (`cleanTitle`, `plainText`, the sanitizer).
 */
const NAMED: Readonly<Record<string, string>> = {
  amp: "&", apos: "'", gt: ">", lt: "<", quot: "\"",
  nbsp: "\u00a0", copy: "\u00a9", reg: "\u00ae", trade: "\u2122", mdash: "\u2014", ndash: "\u2013", hellip: "\u2026",
  laquo: "\u00ab", raquo: "\u00bb", lsquo: "\u2018", rsquo: "\u2019", ldquo: "\u201c", rdquo: "\u201d", bull: "\u2022",
  para: "\u00b6", sect: "\u00a7", deg: "\u00b0", frac12: "\u00bd", frac14: "\u00bc", frac34: "\u00be",
  cent: "\u00a2", pound: "\u00a3", curren: "\u00a4", yen: "\u00a5", euro: "\u20ac", dollar: "$", fnof: "\u0192",
  inr: "\u20b9", af: "\u060b", birr: "\u1265\u122d", peso: "\u20b1", rub: "\u20bd", won: "\u20a9", yuan: "\u00a5",
  cedil: "\u00b8"
}

/**
 * A character reference as fast-xml-parser read it: out of range left as written; NUL,
 * surrogates and the C0 controls XML 1.0 forbids (all but tab, LF, CR) dropped.
 */
const characterReference = (token: string): string | undefined => {
  const hex = token[1] === "x" || token[1] === "X"
  const code = Number.parseInt(token.slice(hex ? 2 : 1), hex ? 16 : 10)
  if (Number.isNaN(code) || code < 0 || code > 0x10ffff) return undefined
  if (code === 0 || (code >= 0xd800 && code <= 0xdfff) || (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d)) return ""
  return String.fromCodePoint(code)
}

const REFERENCE = /&([^&;]{1,32});/g

/**
 * Decodes the entities of text or an attribute in one pass (`&amp;lt;` is `&lt;`): the DOCTYPE's,
 * then `NAMED`, and character references. What the DOCTYPE's add is bounded by the document's
 * first reading (`grownBy`, `MAX_EXPANSION`): a document past it is never read further.
 */
const entityDecoder = (entities: ReadonlyMap<string, string>) => (text: string): string => {
  if (!text.includes("&")) return text
  return text.replace(REFERENCE, (reference, token: string) => {
    if (token[0] === "#") return characterReference(token) ?? reference
    const declared = entities.get(token)
    if (declared !== undefined) return declared
    return Object.prototype.hasOwnProperty.call(NAMED, token) ? NAMED[token]! : reference
  })
}

/** The characters the DOCTYPE's entities add to `text` decoded (`entityDecoder`), which it does not build. */
const grownBy = (entities: ReadonlyMap<string, string>, text: string): number => {
  if (!text.includes("&")) return 0
  let grown = 0
  for (const [reference, token] of text.matchAll(REFERENCE)) {
    const declared = entities.get(token!)
    if (declared !== undefined) grown += Math.max(0, declared.length - reference.length)
  }
  return grown
}

/**
 * XML's name characters as fast-xml-parser's validator had them (it checked every document
 * first); the tokenizer takes any. A code point past the BMP is none: a byte that is not UTF-8
 * in a name (`badBytes.ts` marks one so) made an item vanish, or an `xml:base` go unread, without
 * a word.
 */
const NAME_START = ":A-Za-z_\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD"
const XML_NAME = new RegExp(`^[${NAME_START}][${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*$`)

/** What the reading of one document shares: the text, the options, its DOCTYPE's entities, and the names met. */
interface Document {
  readonly xml: string
  readonly options: XmlTreeOptions
  readonly places: Place
  readonly entities: ReadonlyMap<string, string>
  readonly decode: (text: string) => string
  /** One string per name, each checked once (`XML_NAME`): 100,000 items would otherwise hold 100,000 copies of each. */
  readonly names: Map<string, string>
  fail: (index: number, reason: string, open?: ReadonlyArray<string>) => void
}

/**
 * An element at one of `lazyPaths` (a feed's item), kept as where its content is and read into
 * its value when asked for (`xmlValue`): a feed's items are not all held built at once (585,000
 * one-line items, 20 MB, built whole passed the CLI's heap). Its content was checked for
 * well-formedness with the rest of the document.
 */
export class LazyElement {
  constructor(
    private readonly document: Document,
    private readonly place: Place | undefined,
    private readonly name: string,
    private readonly attributes: XmlNode | undefined,
    private readonly from: number,
    private readonly to: number
  ) {}

  /** The element's value as `readXmlTree` would have built it in place. */
  read(): unknown {
    const element: Open = {
      name: this.name,
      at: this.from,
      place: this.place,
      node: newNode(),
      text: [],
      attributes: this.attributes,
      rawFrom: -1,
      lazyFrom: -1,
      deferred: false
    }
    const root: Open = { ...element, name: "", place: undefined, node: newNode(), text: [], attributes: undefined }
    const stack = [root, element]
    // Read at once: one item, checked (its names, its depth, what its entities add) when the
    // document was first read.
    for (const _ of tokenize(this.document, stack, this.from, this.to, false)) {
      // One item.
    }
    return valueOf(element.node!, element.text.join(""), element.attributes)
  }
}

/** `value`, or the value of a `LazyElement` read now: what fast-xml-parser's tree had there. */
export const xmlValue = (value: unknown): unknown => (value instanceof LazyElement ? value.read() : value)

/**
 * Reads `document.xml` from `from` to `to` onto `stack` (its last element the one open there),
 * `SLICE_CHARS` at a time with a `yield` between two, stopping at the first problem. `lazy`:
 * whether elements at `lazyPaths` are kept for later (`LazyElement`) rather than built; then
 * this is the document's first reading, which checks what the items' reading relies on (their
 * names, depth, and what the DOCTYPE's entities add to them). The text gathered at the end goes
 * into the element open there.
 */
function* tokenize(document: Document, stack: Array<Open>, from: number, to: number, lazy: boolean): Generator<void, void> {
  const { decode, entities, names, options, xml } = document
  const root = stack[0]!
  /** Raw text pieces since the last tag (comments left out), as fast-xml-parser gathered them, and where they start. */
  let pending: Array<string> = []
  let pendingAt = 0
  /** The element being opened: its name and attributes, until its `>` or `/>`. */
  let opening: { name: string; at: number; attributes: XmlNode | undefined; count: number } | undefined
  let attribute: { name: string; at: number; value: string } | undefined
  /** What the DOCTYPE's entities add, counted on the first reading only: the items' readings add no more. */
  const counting = lazy && entities.size > 0
  let grown = 0
  /** The item being read for the first time (`lazyPaths`), and what its reading will build (`MAX_ITEM_NODES`). */
  let item: { readonly name: string; readonly at: number; nodes: number } | undefined
  let stopped = false
  const top = () => stack[stack.length - 1]!
  const building = () => top().node !== undefined && top().rawFrom < 0
  /** Whether text here is decoded: now (`building`), or when its item is read (counted now). */
  const gathering = () => building() || (counting && top().deferred)

  const fail = (index: number, reason: string) => {
    document.fail(index, reason)
    stopped = true
    tokenizer.pause()
  }

  /** Whether `text` (at `index`), decoded, keeps the document within `MAX_EXPANSION`. */
  const withinExpansion = (text: string, index: number): boolean => {
    if (!counting) return true
    grown += grownBy(entities, text)
    if (grown <= MAX_EXPANSION) return true
    fail(index, `the entities its DOCTYPE declares expand to more than ${MAX_EXPANSION} characters in all (an entity expansion attack?)`)
    return false
  }

  /**
   * Whether the element or attribute at `index`, opened where `top()` is open, keeps its item
   * within `MAX_ITEM_NODES`: counted on the first reading, where its item's reading builds it.
   */
  const withinItem = (index: number): boolean => {
    if (!lazy || item === undefined || !top().deferred) return true
    if (++item.nodes <= MAX_ITEM_NODES) return true
    fail(index, `<${item.name}> (${lineColumn(xml, item.at)}) holds more than the ${MAX_ITEM_NODES} elements and attributes an item may hold`)
    return false
  }

  /** The text gathered so far, trimmed and decoded, into the open element (text outside the root is dropped). */
  const flush = () => {
    if (pending.length === 0) return
    const raw = pending.length === 1 ? pending[0]! : pending.join("")
    pending = []
    if (top() === root || !gathering()) return
    const text = lf(raw).trim()
    if (text.length > 0 && withinExpansion(text, pendingAt) && building()) top().text.push(decode(text))
  }

  /** The name from `start` to `end`, one string for each (`names`); a document with one that is no XML name fails. */
  const nameAt = (start: number, end: number, kind: "Tag" | "Attribute"): string => {
    const name = xml.slice(start, end)
    const known = names.get(name)
    if (known !== undefined) return known
    // Quoted as fast-xml-parser's validator did.
    if (!XML_NAME.test(name)) fail(kind === "Tag" ? start - 1 : start, `${kind} '${name}' is an invalid name.`)
    names.set(name, name)
    return name
  }

  const open = (selfClosing: boolean) => {
    const { at, attributes, name } = opening!
    opening = undefined
    const parent = top()
    const built = building()
    // The pseudo-root aside: the elements this one is inside.
    if (stack.length - 1 > MAX_NESTED_TAGS) {
      return fail(at, `<${name}> is nested inside ${stack.length - 1} elements, more than the ${MAX_NESTED_TAGS} a document may nest`)
    }
    if (!withinItem(at)) return
    const place = parent.place?.below.get(name)
    const element: Open = {
      name,
      at,
      place,
      node: built ? newNode() : undefined,
      text: [],
      attributes: built ? attributes : undefined,
      rawFrom: -1,
      lazyFrom: -1,
      deferred: parent.deferred && place?.raw !== true
    }
    if (selfClosing) {
      if (built) addChild(parent.node!, name, valueOf(element.node!, "", element.attributes), options.arrays)
      return
    }
    stack.push(element)
  }

  // Offsets the tokenizer reports count from `from`.
  const at = (offset: number) => from + offset
  const tokenizer = new Tokenizer({ xmlMode: true, decodeEntities: false }, {
    ontext(start, end) {
      if (!gathering()) return
      if (pending.length === 0) pendingAt = at(start)
      pending.push(xml.slice(at(start), at(end)))
    },
    ontextentity() {},
    onattribentity() {},
    oncomment() {},
    ondeclaration() {},
    onopentagname(start, end) {
      flush()
      opening = { name: nameAt(at(start), at(end), "Tag"), at: at(start) - 1, attributes: undefined, count: 0 }
    },
    onattribname(start, end) {
      attribute = { name: nameAt(at(start), at(end), "Attribute"), at: at(start), value: "" }
    },
    onattribdata(start, end) {
      if (attribute !== undefined) attribute.value += xml.slice(at(start), at(end))
    },
    onattribend(quote) {
      const read = attribute
      attribute = undefined
      if (read === undefined || opening === undefined) return
      if (lazy && ++opening.count > MAX_ATTRIBUTES) {
        return fail(read.at, `<${opening.name}> has more than the ${MAX_ATTRIBUTES} attributes an element may have`)
      }
      if (!withinItem(read.at)) return
      if (quote === QuoteType.NoValue || read.name.length === 0 || !gathering()) return
      // The attributes of an element built now are decoded now; of one inside an item kept for later, counted.
      const value = lf(read.value).trim()
      if (!withinExpansion(value, read.at) || !building()) return
      opening.attributes ??= newNode()
      opening.attributes[`@_${read.name}`] = decode(value)
    },
    onopentagend(endIndex) {
      if (opening === undefined) return
      open(false)
      const element = top()
      if (element.node === undefined) return
      if (element.place?.raw === true) {
        element.rawFrom = at(endIndex) + 1
      } else if (lazy && element.place?.lazy === true) {
        item = { name: element.name, at: element.at, nodes: 0 }
        element.lazyFrom = at(endIndex) + 1
        element.node = undefined
        element.deferred = true
      }
    },
    onselfclosingtag() {
      if (opening !== undefined) open(true)
    },
    onclosetag(start, end) {
      const name = xml.slice(at(start), at(end))
      const closing = at(start) - 2
      const element = top()
      if (element === root) return fail(closing, `closing tag </${name}> closes no open element`)
      if (element.name !== name) {
        return fail(closing, `closing tag </${name}> where <${element.name}> (${lineColumn(xml, element.at)}) is still open`)
      }
      flush()
      pending = []
      stack.pop()
      const parent = top()
      if (element.lazyFrom >= 0) {
        addChild(parent.node!, name, new LazyElement(document, element.place, name, element.attributes, element.lazyFrom, closing), options.arrays)
      } else if (element.rawFrom >= 0) {
        addChild(parent.node!, name, valueOf(element.node!, lf(xml.slice(element.rawFrom, closing)), element.attributes), options.arrays)
      } else if (element.node !== undefined) {
        addChild(parent.node!, name, valueOf(element.node, element.text.join(""), element.attributes), options.arrays)
      }
    },
    // Each ends the text before it, counted as its item's reading will decode it.
    oncdata(start, end, offset) {
      flush()
      if (building() && top() !== root) top().text.push(lf(xml.slice(at(start), at(end - offset))))
    },
    onprocessinginstruction(start, end) {
      flush()
      if (!withinItem(at(start) - 2) || !building()) return
      // `start` is past the `<?`: `xml version="1.0"?`.
      const name = /^[^\s?]*/.exec(xml.slice(at(start), at(Math.min(end, start + 100))))![0]
      addChild(top().node!, `?${name}`, "", options.arrays)
    },
    onend() {
      flush()
    }
  })
  for (let slice = from; slice < to; slice += SLICE_CHARS) {
    tokenizer.write(xml.slice(slice, Math.min(to, slice + SLICE_CHARS)))
    if (stopped) return
    if (slice + SLICE_CHARS < to) yield
  }
  tokenizer.end()
}

/**
 * Reads `xml` into its tree (see the module comment), `SLICE_CHARS` at a time: the caller may
 * let others run at each `yield`. Returns the tree, or where the document is not well-formed
 * (or is past `MAX_NESTED_TAGS` or `MAX_EXPANSION`).
 */
export function* readXmlTree(xml: string, options: XmlTreeOptions): Generator<void, { tree: XmlNode } | { problem: XmlProblem }> {
  const doctype = readDoctype(xml)
  if (doctype !== undefined && "reason" in doctype) return { problem: doctype }
  const from = doctype?.end ?? 0
  const entities = doctype?.entities ?? new Map<string, string>()
  let problem: XmlProblem | undefined
  const document: Document = {
    xml,
    options,
    places: placesOf(options),
    entities,
    decode: entityDecoder(entities),
    names: new Map(),
    fail: (index, reason, open) => {
      problem ??= { index, reason, open }
    }
  }
  const root: Open = { name: "", at: 0, place: document.places, node: newNode(), text: [], attributes: undefined, rawFrom: -1, lazyFrom: -1, deferred: false }
  const stack: Array<Open> = [root]
  for (const _ of tokenize(document, stack, from, xml.length, true)) {
    if (problem !== undefined) return { problem }
    yield
  }
  if (problem === undefined && stack.length > 1) {
    const open = stack.slice(1).map((element) => element.name)
    document.fail(xml.trimEnd().length, `the document ends inside ${open.map((n) => `<${n}>`).join(", ")}, never closed (cut off?)`, open)
  }
  return problem === undefined ? { tree: root.node! } : { problem }
}
