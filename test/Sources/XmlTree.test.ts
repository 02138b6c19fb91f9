/**
 * `readXmlTree` builds the tree fast-xml-parser built (XmlFeed.ts reads that shape), checked
 * against fast-xml-parser itself on documents with what feeds do: mixed content, CDATA, entities
 * of every kind, line ends, raw Atom content, namespaces, a DOCTYPE's entities. And what it says
 * of a document that is not well-formed.
 */
import { assert, describe, it } from "@effect/vitest"
import { XMLParser } from "fast-xml-parser"
import { Either } from "effect"
import { runSteps } from "../../src/Domain/yieldToEventLoop.js"
import { parseXmlFeed } from "../../src/Sources/XmlFeed.js"
import {
  LazyElement,
  MAX_ATTRIBUTES,
  MAX_EXPANSION,
  MAX_ITEM_NODES,
  MAX_NESTED_TAGS,
  readXmlTree,
  SLICE_CHARS,
  xmlValue,
  type XmlTreeOptions
} from "../../src/Sources/xmlTree.js"

const ARRAYS = new Set(["item", "entry", "link", "category", "author", "contributor", "dc:creator", "dc:subject"])
const RAW = ["feed.entry.title", "feed.entry.subtitle", "feed.entry.content", "feed.entry.summary", "feed.title", "feed.subtitle"]

/** XmlFeed.ts's options, as they were for fast-xml-parser. */
const fastXmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  htmlEntities: true,
  stopNodes: RAW,
  isArray: (name, _path, _leaf, isAttribute) => !isAttribute && ARRAYS.has(name)
})

const options: XmlTreeOptions = { arrays: ARRAYS, rawPaths: new Set(RAW), lazyPaths: new Set(["rss.channel.item", "rdf:RDF.item", "feed.entry"]) }

/** The tree as plain JSON: lazy items read, processing instructions (`?xml`) left out as XmlFeed ignores them. */
const plain = (tree: unknown): unknown => JSON.parse(JSON.stringify(tree, (key, value) => (key.startsWith("?") ? undefined : xmlValue(value))))

const read = (xml: string) => runSteps(readXmlTree(xml, options))

const documents: Record<string, string> = {
  rss: `<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
  <title>Mixed &amp; <![CDATA[cdata <b>title</b>]]> tail</title>
  <atom:link href="http://x/feed" rel="self" type="application/rss+xml"/>
  <item>
    <title>  Raw <b>xhtml</b> in title &copy; &nbsp; &euro; &hellip; &mdash; &unknown; &#169; &#xA9;  </title>
    <description><p>Unescaped <a href="/rel?a=1&amp;b=2">paragraph</a></p> trailing text</description>
    <guid isPermaLink="false">  g-1  </guid>
    <category domain="x">One</category><category>Two &amp; Three</category>
    <enclosure url="/media/a.mp3?x=1&amp;y=2" length="1" type="audio/mpeg"/>
  </item>
  <item>
    <title><![CDATA[A]]><![CDATA[B]]> C <![CDATA[]]></title>
    <description><![CDATA[<p>one</p>]]>
    <![CDATA[<p>two</p>]]></description>
    <content:encoded><![CDATA[<p>Full &amp; <em>content</em></p>]]></content:encoded>
    <dc:creator><![CDATA[Ada]]></dc:creator>
    <empty/><emptyattr a="1"/>
  </item>
  <item><title/><description/><link>http://x/3</link></item>
  <item><title>T4</title><description>&lt;p&gt;a&lt;/p&gt;&#13;&#10;b</description><guid>g4</guid><guid>g4b</guid></item>
  <!-- a comment <item><title>not an item</title></item> -->
  <item><?pi inside?><title>PI &apos;q&apos; &quot;x&quot;</title><description>5 &gt; 3 <!-- c --> and on</description></item>
</channel>
</rss>`,
  entities: `<rss><channel><title>Ents</title>
<item><title>&alpha; &rarr; &ndash; &lsquo;q&rsquo; &frac12; &hearts; &trade; &euro; &pound; &yen; &cent; &laquo;&raquo; &times; &deg;</title><guid>e1</guid>
<description a="&eacute;&amp;&lt;">&#0; &#xD800; &#1114112; &#65; &#x41; &#0065; &amp;#65;</description></item>
<item><title a="x"/><guid>  </guid><description><![CDATA[   ]]></description></item>
</channel></rss>`,
  lineEnds: "<?xml version=\"1.0\"?>\r\n<rss version=\"2.0\"><channel><title>CRLF</title>\r\n<item><title>Line\r\none</title><description a=\"x\r\ny\">a\r\nb\rc<![CDATA[d\r\ne]]></description></item></channel></rss>",
  atom: `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://a.example/base/">
  <title type="html">&lt;b&gt;Feed&lt;/b&gt; &amp;amp; co</title>
  <entry>
    <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">X <i>html</i> &amp; title</div></title>
    <id>urn:1</id>
    <link rel="alternate" href="one"/><link rel="enclosure" href="e.mp3"/>
    <summary type="html"><![CDATA[<p>sum &amp; mary</p>]]></summary>
    <content type="html">&lt;p&gt;Hello&lt;/p&gt; <![CDATA[<p>cd</p>]]></content>
    <author><name>A &amp; B</name></author>
    <category term="t1" label="Label &amp; 1"/><category term="t2"/>
  </entry>
  <entry xml:base="sub/"><title>Plain &lt;not a tag&gt;</title><id>urn:2</id>
    <content type="xhtml" xml:base="deeper/"><xhtml:div xmlns:xhtml="http://www.w3.org/1999/xhtml"><xhtml:p>hi</xhtml:p></xhtml:div></content></entry>
  <entry><id>n1</id><title>T</title><content type="xhtml"><content>inner <content>deeper</content></content> after</content></entry>
  <entry><id>n2</id><title type="text"></title><summary>  spaced  </summary><content/></entry>
  <author><name>Feed Author</name></author>
</feed>`,
  rdf: `<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="http://x/"><title>RDF</title></channel>
<item rdf:about="http://x/1"><title>R1</title><dc:date>2024-01-01T00:00:00Z</dc:date><dc:subject>S1</dc:subject></item>
<item rdf:about="http://x/2"><title>R2</title></item>
</rdf:RDF>`,
  doctype: `<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY site "My Site"><!-- a > in a comment --><!ENTITY lol0 "lol"><!ENTITY lol1 "&lol0;&lol0;">]>
<rss version="2.0"><channel><title>&site;</title><item><title>Entity &site; &lol1;</title><description a="&site;">from &site;</description></item></channel></rss>`,
  // Longer than a slice: text and attribute values cut between two of them.
  long: `<rss><channel><item><title a="${"a".repeat(SLICE_CHARS - 30)}">${"b".repeat(SLICE_CHARS)}</title></item></channel></rss>`
}

describe("readXmlTree", () => {
  for (const [name, xml] of Object.entries(documents)) {
    it(`builds fast-xml-parser's tree: ${name}`, () => {
      const result = read(xml)
      assert.isTrue("tree" in result, JSON.stringify(result))
      if ("tree" in result) assert.deepStrictEqual(plain(result.tree), plain(fastXmlParser.parse(xml)))
    })
  }

  it("keeps each item to be read when asked for, and reads it as often as asked", () => {
    const result = read(documents["rss"]!)
    assert.isTrue("tree" in result)
    if (!("tree" in result)) return
    const items = ((result.tree["rss"] as any).channel.item) as Array<unknown>
    assert.strictEqual(items.length, 5)
    assert.isTrue(items.every((item) => item instanceof LazyElement))
    assert.deepStrictEqual(xmlValue(items[3]), xmlValue(items[3]))
    assert.strictEqual((xmlValue(items[3]) as any).title, "T4")
  })

  it("an element named __proto__ is a key like any other, never the object's prototype", () => {
    const result = read("<rss><channel><item><__proto__><polluted>yes</polluted></__proto__><title>x</title></item></channel></rss>")
    assert.isTrue("tree" in result)
    if (!("tree" in result)) return
    const item = xmlValue(((result.tree["rss"] as any).channel.item as Array<unknown>)[0]) as Record<string, unknown>
    assert.deepStrictEqual(Object.keys(item), ["__proto__", "title"])
    assert.isUndefined((item as any).polluted)
    assert.isUndefined(({} as any).polluted)
  })

  it("says where a document is not well-formed: a tag closing another, one closing nothing, elements left open, an external entity", () => {
    const problem = (xml: string) => {
      const result = read(xml)
      return "problem" in result ? result.problem : undefined
    }
    const mismatched = "<rss><channel><item><title>x</title></channel></rss>"
    assert.deepInclude(problem(mismatched), { index: mismatched.indexOf("</channel>") })
    const extra = "<rss><channel></channel></rss></rss>"
    assert.deepInclude(problem(extra), { index: extra.lastIndexOf("</rss>") })
    assert.deepInclude(problem("<rss>\n<channel>\n<item><title>x"), {
      reason: "the document ends inside <rss>, <channel>, <item>, <title>, never closed (cut off?)",
      open: ["rss", "channel", "item", "title"]
    })
    assert.deepInclude(problem(`<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><rss/>`), {
      reason: "External entities are not supported"
    })
    // Read leniently, as feeds in the wild are written: a bare & and a lone < are text.
    const lenient = read("<rss><channel><title>AT&T 1 < 2</title></channel></rss>")
    assert.deepStrictEqual("tree" in lenient ? plain(lenient.tree) : lenient, { rss: { channel: { title: "AT&T 1 < 2" } } })
  })
})

/** The slices `readXmlTree` read (its `yield`s) before it answered, and what it answered. */
const readCounting = (xml: string) => {
  const steps = readXmlTree(xml, options)
  let slices = 0
  for (;;) {
    const step = steps.next()
    if (step.done === true) return { slices, result: step.value }
    slices++
  }
}

/** A feed's message for `xml`, or its items' titles (or reasons). */
const feedSays = (xml: string): string | ReadonlyArray<string> => {
  const read = parseXmlFeed(xml, "https://x.example/feed")
  return Either.isLeft(read) ? read.left.message : Array.from(read.right.items, (item) => (item._tag === "Entry" ? item.input.title ?? "" : item.reason))
}

describe("a document made to exhaust the reader is refused, as fast-xml-parser refused it", () => {
  /** An RSS feed with one item holding `<x>` and `<a>` nested `depth` deep in it: `<a>` innermost inside 4 + depth - 1 elements. */
  const nested = (depth: number) =>
    `<rss><channel><title>T</title><item><title>deep</title><x>${"<a>".repeat(depth)}${"</a>".repeat(depth)}</x></item></channel></rss>`
  // rss, channel, item, x: the innermost <a> of `nested(depth)` is inside 3 + depth elements.
  const atLimit = MAX_NESTED_TAGS - 3

  it("elements nested past the limit fail the feed at the first too deep, naming where, at once (was: 30,000 deep held the event loop 15 s and took 1.1 GB)", () => {
    assert.deepStrictEqual(feedSays(nested(atLimit)), ["deep"])
    const over = nested(atLimit + 1)
    assert.strictEqual(
      feedSays(over),
      `https://x.example/feed: cannot read as RSS or Atom (XML) at line 1, column ${over.lastIndexOf("<a>") + 1}: <a> is nested inside ${MAX_NESTED_TAGS + 1} elements, more than the ${MAX_NESTED_TAGS} a document may nest`
    )
    // 30,000 deep, 210 KB: refused in the first slice, where it passes the limit; nothing after it read.
    const deep = nested(30_000)
    assert.isAbove(deep.length, 3 * SLICE_CHARS)
    const { result, slices } = readCounting(deep)
    assert.deepStrictEqual("problem" in result ? result.problem.index : result, over.lastIndexOf("<a>"))
    assert.strictEqual(slices, 0)
  })

  it("a document refused is not read again: what is said is where the reader stopped, not a fault past it (was: fast-xml-parser's validator read the whole document again in one call, seconds on 19 MB, and said a later fault)", () => {
    const over = nested(atLimit + 1)
    // A fault fast-xml-parser's validator finds (an attribute written twice), lines past the refusal.
    const xml = over.replace("</channel>", `${"\n<item><title>t</title></item>".repeat(1000)}\n<item><title a="1" a="2">t</title></item></channel>`)
    assert.strictEqual(
      feedSays(xml),
      `https://x.example/feed: cannot read as RSS or Atom (XML) at line 1, column ${over.lastIndexOf("<a>") + 1}: <a> is nested inside ${MAX_NESTED_TAGS + 1} elements, more than the ${MAX_NESTED_TAGS} a document may nest`
    )
  })

  it("inside an item kept for later and inside content kept as written too", () => {
    const atom = (inner: string) =>
      `<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry><id>e</id><title>t</title><content type="xhtml">${inner}</content></entry></feed>`
    // feed, entry, content: the innermost <div> inside 3 + n - 1.
    const divs = (n: number) => `${"<div>".repeat(n)}${"</div>".repeat(n)}`
    assert.deepStrictEqual(feedSays(atom(divs(MAX_NESTED_TAGS - 2))), ["t"])
    assert.match(String(feedSays(atom(divs(MAX_NESTED_TAGS - 1)))), /: <div> is nested inside 101 elements, more than the 100 a document may nest$/)
  })

  it("an element with more attributes than the limit fails the feed at the first past it, naming the element, wherever it is (was: an item of 1.5 million was read in one call, 6 to 8 s)", () => {
    const attributes = (n: number) => Array.from({ length: n }, (_, i) => `a${i}="v"`).join(" ")
    const rss = (element: string) => `<rss><channel><title>t</title><item><title>one</title>${element}</item></channel></rss>`
    assert.deepStrictEqual(feedSays(rss(`<x ${attributes(MAX_ATTRIBUTES)}/>`)), ["one"])
    const over = rss(`<x ${attributes(MAX_ATTRIBUTES + 1)}/>`)
    assert.strictEqual(
      feedSays(over),
      `https://x.example/feed: cannot read as RSS or Atom (XML) at line 1, column ${over.indexOf(`a${MAX_ATTRIBUTES}=`) + 1}: <x> has more than the ${MAX_ATTRIBUTES} attributes an element may have`
    )
    // Outside an item, and inside content kept as written.
    assert.match(String(feedSays(`<rss ${attributes(MAX_ATTRIBUTES + 1)}><channel/></rss>`)), /: <rss> has more than the 1000 attributes an element may have$/)
    const atom = `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>e</id><title>t</title><content type="xhtml"><div><p ${attributes(MAX_ATTRIBUTES + 1)}/></div></content></entry></feed>`
    assert.match(String(feedSays(atom)), /: <p> has more than the 1000 attributes an element may have$/)
  })

  it("an item holding more elements and attributes than the limit fails the feed as the tokenizer passes it, naming the item, nothing after read (was: one of 700,000 categories was read in one call, seconds)", () => {
    const rss = (inner: string) => `<rss><channel><title>t</title>\n<item><title>one</title>${inner}</item><item><title>two</title></item></channel></rss>`
    // Its <title> is one: the categories fill it to the limit.
    const categories = (n: number) => "<category>c</category>".repeat(n)
    assert.deepStrictEqual(feedSays(rss(categories(MAX_ITEM_NODES - 1))), ["one", "two"])
    const over = rss(categories(MAX_ITEM_NODES))
    const past = over.indexOf("<category>") + MAX_ITEM_NODES * "<category>c</category>".length - "<category>c</category>".length
    assert.strictEqual(
      feedSays(over),
      `https://x.example/feed: cannot read as RSS or Atom (XML) at line 2, column ${past - over.indexOf("<item>") + 1}: <item> (line 2, column 1) holds more than the ${MAX_ITEM_NODES} elements and attributes an item may hold`
    )
    // Attributes count as well; content kept as written does not (an Atom entry's xhtml).
    assert.match(String(feedSays(rss(`<x a="1"/>${categories(MAX_ITEM_NODES - 2)}`))), /holds more than the 20000 elements and attributes an item may hold$/)
    const atom = (n: number) => `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>e</id><title>t</title><content type="xhtml"><div>${"<p>x</p>".repeat(n)}</div></content></entry></feed>`
    assert.deepStrictEqual(feedSays(atom(MAX_ITEM_NODES + 1)), ["t"])
    // 700,000 categories, 15 MB: refused in the slice where the limit passes, the rest never read.
    const huge = rss(categories(700_000))
    const { result, slices } = readCounting(huge)
    assert.deepStrictEqual("problem" in result ? result.problem.index : result, past)
    assert.strictEqual(slices, Math.floor(past / SLICE_CHARS))
  })

  /** An RSS feed whose DOCTYPE declares `&big;` (`size` characters) and `items` items that name it once each. */
  const expanding = (size: number, items: number) =>
    `<!DOCTYPE rss [<!ENTITY big "${"y".repeat(size)}">]><rss><channel><title>t</title>` +
    Array.from({ length: items }, (_, i) => `<item><title>n${i}</title><description>&big;</description></item>`).join("") +
    `</channel></rss>`

  it("a DOCTYPE's entities past the limit fail the feed, whichever items are read (was: left as \"&big;\" in the items read last, which depended on the order)", () => {
    // Each &big; adds 9,000 - 5 characters: 11 of them are within the limit, 12 past it.
    const within = Math.floor(MAX_EXPANSION / (9_000 - 5))
    const read = parseXmlFeed(expanding(9_000, within), "https://x.example/feed")
    assert.isTrue(Either.isRight(read))
    if (Either.isRight(read)) {
      const items = Array.from(read.right.items)
      assert.deepStrictEqual(items.map((item) => (item._tag === "Entry" && item.input.body.includes("y".repeat(9_000)))), Array(within).fill(true))
    }
    const past = expanding(9_000, within + 1)
    assert.strictEqual(
      feedSays(past),
      `https://x.example/feed: cannot read as RSS or Atom (XML) at line 1, column ${past.lastIndexOf("&big;") + 1}: the entities its DOCTYPE declares expand to more than ${MAX_EXPANSION} characters in all (an entity expansion attack?)`
    )
    // In the attributes of an item's elements too.
    const attributes = `<!DOCTYPE rss [<!ENTITY big "${"y".repeat(9_000)}">]><rss><channel><title>t</title>` +
      Array.from({ length: within + 1 }, (_, i) => `<item><title>n${i}</title><enclosure url="&big;"/></item>`).join("") +
      `</channel></rss>`
    assert.match(String(feedSays(attributes)), new RegExp(`column ${attributes.lastIndexOf("url=\"&big;\"") + 1}: the entities its DOCTYPE declares expand to more than 100000 characters in all`))
  })
})
