import { assert, describe, it } from "@effect/vitest"
import MarkdownIt, { type PluginSimple } from "markdown-it"
import footnote from "markdown-it-footnote"
import {
  claimId, EXPLICIT_ID_WINDOW, explicitHeadingId, footnotes, htmlToText, labelStop, type LabelScan, type RenderedMarkdown, renderMarkdown
} from "../../src/Processing/markdown.js"
import { isSafeImageUrl, isSafeLinkUrl, NON_TEXT_TAGS, PAGE_IDS, sanitizeHtml, urlScheme } from "../../src/Processing/sanitize.js"
import { countWords } from "../../src/Processing/text.js"
import { stylesheet } from "../../src/Site/Theme.js"

const html = (md: string) => renderMarkdown(md).html
const texts = (r: RenderedMarkdown) => r.paragraphs.map((p) => p.text)

/** Properties every rendered output must have, whatever went in. */
const assertSafe = (out: string) => {
  assert.notMatch(out, /<script/i, out)
  assert.notMatch(out, /<(iframe|object|embed|svg|math|style|form|input|textarea|link|meta|base)\b/i, out)
  assert.notMatch(out, /\son[a-z]+\s*=/i, out)
  assert.notMatch(out, /(href|src|action|formaction|cite|xlink:href)\s*=\s*["']?\s*(javascript|vbscript|data:text)/i, out)
}

describe("renderMarkdown", () => {
  it("gives headings unique anchors and lists them in the toc", () => {
    const r = renderMarkdown("# Intro\n\n## Intro\n\n## Intro 1\n\n### `code` *and* text\n\n## !!!\n")
    assert.deepStrictEqual(
      r.toc.map((t) => [t.level, t.text, t.id]),
      [
        [1, "Intro", "intro"],
        [2, "Intro", "intro-1"],
        [2, "Intro 1", "intro-1-1"],
        [3, "code and text", "code-and-text"],
        [2, "!!!", "section"]
      ]
    )
    for (const t of r.toc) assert.include(r.html, ` id="${t.id}"`)
    assert.include(r.html, '<h2 id="intro-1">Intro</h2>')
  })

  it("keeps heading anchors when raw HTML sends the document through the sanitizer", () => {
    const r = renderMarkdown("## Ünïcödé Straße\n\n<div>raw</div>\n\n## 中文标题\n")
    assert.isTrue(r.sanitized)
    assert.include(r.html, '<h2 id="unicode-straße">')
    assert.include(r.html, '<h2 id="中文标题">')
  })

  it("a heading's id keeps letters whose compatibility form is a capital (was: \"ℝust\" gave #ust)", () => {
    const r = renderMarkdown("## ℝust ℍandbook\n\n## ℍ\n")
    assert.deepStrictEqual(r.toc.map((t) => t.id), ["rust-handbook", "h"])
  })

  it("renders footnotes", () => {
    const out = html("Text with a note.[^1]\n\n[^1]: The note.\n")
    assert.include(out, 'class="footnote-ref"')
    assert.include(out, '<section class="footnotes">')
    assert.include(out, "The note.")
  })

  it("renders GFM tables and strikethrough", () => {
    const out = html("| a | b |\n|---|--:|\n| 1 | 2 |\n\n~~gone~~")
    assert.include(out, "<table>")
    assert.include(out, '<td style="text-align:right">2</td>')
    assert.include(out, "<s>gone</s>")
  })

  it("renders fenced code with its language class, escaped", () => {
    const out = html("```rust\nfn main() { let x = a < b; }\n```")
    assert.include(out, '<code class="language-rust">fn main() { let x = a &lt; b; }')
  })

  it("excludes fenced and indented code from the readable text", () => {
    const r = renderMarkdown("one two three\n\n```\nalpha beta gamma delta\n```\n\n    indented code words here\n\nfour `five`")
    assert.notInclude(r.readableText, "alpha")
    assert.notInclude(r.readableText, "indented")
    assert.include(r.readableText, "five")
  })

  it("collects paragraphs for the excerpt, not headings, code, tables or footnotes", () => {
    const r = renderMarkdown("# Title\n\nFirst *para*.\n\n```\ncode\n```\n\n| t |\n|---|\n| cell |\n\n- item\n\nSecond.[^n]\n\n[^n]: Note text.\n")
    assert.deepStrictEqual(r.paragraphs, [
      { text: "First para.", list: 0, item: false },
      { text: "item", list: 1, item: true },
      { text: "Second.", list: 0, item: false }
    ])
  })

  it("tells the excerpt which list each paragraph is in and which opens an item", () => {
    const r = renderMarkdown("- a\n  - b\n\n    b again\n- c\n\nBetween.\n\n1. d\n\n> - e in a quote\n")
    assert.deepStrictEqual(r.paragraphs.map((p) => [p.text, p.list, p.item]), [
      // A nested list is part of the list around it; an item's second paragraph goes on with it.
      ["a", 1, true], ["b", 1, true], ["b again", 1, false], ["c", 1, true],
      ["Between.", 0, false],
      ["d", 2, true],
      ["e in a quote", 3, true]
    ])
  })

  it("leaves what raw HTML hides (script, style, template...) out of the excerpt's paragraphs and the readable text", () => {
    const out = renderMarkdown(
      "<svg><script>alert(1)</script></svg><style>body{display:none}</style>\n\nA <template>hidden part</template> paragraph.\n\n<div><script>var x = 1</script>Block text</div>\n"
    )
    assert.deepStrictEqual(texts(out), ["", "A  paragraph."])
    assert.notMatch(out.readableText, /alert|display|hidden|var x/)
    assert.include(out.readableText, "Block text")
    assert.notInclude(out.html, "alert(1)")
  })

  it("shows what <noscript> holds, unwrapped: no script of a post ever runs", () => {
    // As the Rust survey posts draw their charts.
    const out = renderMarkdown(
      '<div>\n    <div class="pie-chart" id="where-do-you-live" style="height:600px; width:100%;"><noscript>\n<img alt="where-do-you-live" height="600" src="where-do-you-live.png"/>\n</noscript></div>\n</div>\n\nA <noscript>fallback <b>text</b></noscript> here.\n'
    )
    assert.include(out.html, '<img alt="where-do-you-live" height="600" src="where-do-you-live.png" />')
    assert.include(out.html, "<p>A fallback <b>text</b> here.</p>")
    assert.notInclude(out.html, "noscript")
    assert.deepStrictEqual(texts(out), ["A fallback text here."])
    assert.strictEqual(countWords(out.readableText), 4)
    // What a browser running scripts reads as <noscript>'s raw text stays an attribute's text: the tag is gone.
    const trick = html('<noscript><p title="</noscript><img src=x onerror=alert(1)>"></p></noscript>')
    assert.notInclude(trick, "<img")
    assert.include(trick, 'title="&lt;/noscript&gt;&lt;img src=x onerror=alert(1)&gt;"')
  })

  it("shows a lazy-loaded image once: its <noscript> fallback is not a second copy (was: shown twice, or a placeholder beside it)", () => {
    const images = (md: string) => Array.from(html(md).matchAll(/<img [^>]*>/g), (m) => m[0])
    // The fallback right after the image (whitespace and a comment between them aside): the copy goes.
    assert.deepStrictEqual(images('<img loading="lazy" src="chart.png" alt="c">\n<!-- fallback -->\n<noscript><img src="chart.png" alt="c"></noscript>'), [
      '<img loading="lazy" src="chart.png" alt="c" />'
    ])
    assert.deepStrictEqual(images('![Chart](chart.png) <noscript><img src="chart.png"></noscript>'), ['<img src="chart.png" alt="Chart" />'])
    // A placeholder that a script was to fill in: the placeholder goes, the fallback shows the image.
    for (const lazy of ['data-src="chart.png"', 'data-srcset="chart.png 1x, chart@2x.png 2x"', 'data-lazy-src="chart.png"']) {
      assert.deepStrictEqual(images(`<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" ${lazy}><noscript><img src="chart.png"></noscript>`), [
        '<img src="chart.png" />'
      ], lazy)
    }
    // Anything else is unwrapped whole: different images, text between, no image in the fallback.
    assert.deepStrictEqual(images('<img src="a.png"><noscript><img src="b.png"></noscript>'), ['<img src="a.png" />', '<img src="b.png" />'])
    assert.deepStrictEqual(images('<img src="a.png"> and <noscript><img src="a.png"></noscript>'), ['<img src="a.png" />', '<img src="a.png" />'])
    assert.deepStrictEqual(images('<p><img src="a.png"></p><noscript><img src="a.png"></noscript>'), ['<img src="a.png" />', '<img src="a.png" />'])
    assert.deepStrictEqual(images('<img src="p.gif" data-src="a.png"><noscript>Enable images.</noscript>'), ['<img src="p.gif" />'])
  })

  it("keeps <progress> bars with numeric value and max only", () => {
    const out = html('<div style="flex: initial;"><progress value="21" max="40"></progress>\n</div>\n\n<progress value="x" max="1e9" onclick="alert(1)" title="t">30%</progress>')
    assert.include(out, '<progress value="21" max="40"></progress>')
    assert.include(out, '<progress title="t">30%</progress>')
  })

  it("adds rel=noopener to external markdown links only", () => {
    const out = html("[ext](https://example.com) [rel](/local) [proto](//cdn.example.com/x) [mail](mailto:a@b.c)")
    assert.include(out, '<a href="https://example.com" rel="noopener noreferrer">ext</a>')
    assert.include(out, '<a href="/local">rel</a>')
    assert.include(out, '<a href="//cdn.example.com/x" rel="noopener noreferrer">proto</a>')
    assert.include(out, '<a href="mailto:a@b.c">mail</a>')
  })

  it("does not sanitize posts without raw HTML (the fast path)", () => {
    assert.isFalse(renderMarkdown("# Plain\n\nText with [a link](https://x.y).").sanitized)
    assert.isTrue(renderMarkdown("Text with <b>raw</b>.").sanitized)
  })

  it("keeps harmless raw HTML and its structure around markdown", () => {
    const out = html('<details>\n<summary>More</summary>\n\n**bold** inside\n\n</details>\n\n<div class="card" style="color: red; padding: 8px">x</div>')
    assert.include(out, "<details>")
    assert.include(out, "<summary>More</summary>")
    assert.include(out, "<strong>bold</strong>")
    assert.include(out, "</details>")
    // The author's own class goes (see "keeps no class of the site's theme" below), the style stays.
    assert.include(out, '<div style="color: red; padding: 8px">x</div>')
  })

  it("keeps the classes markdown writes when raw HTML sends the document through the sanitizer", () => {
    const out = html("<b>raw</b> and a note[^1].\n\n```rust\nfn main() {}\n```\n\n[^1]: The note.")
    assert.include(out, '<code class="language-rust">')
    for (const name of ["footnote-ref", "footnotes-sep", "footnotes", "footnotes-list", "footnote-item", "footnote-backref"]) {
      assert.include(out, `class="${name}"`, name)
    }
  })
})

describe("text of raw HTML (excerpt, word count)", () => {
  const words = (md: string) => countWords(renderMarkdown(md).readableText)

  it("counts no word the sanitizer drops: the same list of elements hides their content in both", () => {
    for (const tag of NON_TEXT_TAGS) {
      for (const md of [`Text <${tag}>hidden words</${tag}> more`, `<div>\n<${tag}>hidden words</${tag}>\n</div>`]) {
        const r = renderMarkdown(md)
        // Void elements (embed) show what follows them: both must agree, whichever it is.
        assert.strictEqual(r.readableText.includes("hidden"), r.html.includes("hidden"), md)
      }
    }
    const r = renderMarkdown("Text <svg><text>hidden svg text</text></svg> more")
    assert.deepStrictEqual(texts(r), ["Text  more"])
    assert.strictEqual(countWords(r.readableText), 2)
    assert.strictEqual(r.html, "<p>Text  more</p>\n")
  })

  it("hides markdown between a hidden element's blocks, as the sanitized page does", () => {
    const r = renderMarkdown("<template>\n\nHidden *paragraph*\n\n## Hidden heading\n\n</template>\n\nShown.\n")
    assert.notInclude(r.html, "Hidden")
    assert.notInclude(r.readableText, "Hidden")
    assert.deepStrictEqual(texts(r).filter((p) => p !== ""), ["Shown."])
  })

  it("shows what follows an element that markdown's own tags close, as the sanitized page does (was: the rest of the post hidden)", () => {
    const r = renderMarkdown("a <svg> b\n\nSecond paragraph has words.\n\n## Heading two\n\nThird.")
    assert.strictEqual(r.html, '<p>a </p>\n<p>Second paragraph has words.</p>\n<h2 id="heading-two">Heading two</h2>\n<p>Third.</p>\n')
    assert.strictEqual(r.readableText.replace(/\s+/g, " "), "a Second paragraph has words. Heading two Third.")
    assert.deepStrictEqual(r.toc, [{ level: 2, text: "Heading two", id: "heading-two" }])
    assert.deepStrictEqual(texts(r), ["a ", "Second paragraph has words.", "Third."])
    // Whichever markdown element the raw tag is left open in: paragraph, emphasis, link, list item,
    // quote, table cell, heading, and opened before the first raw HTML (the reader starts inside them).
    for (const tag of ["svg", "select", "math", "template", "option", "object"]) {
      for (const md of [
        `a <${tag}> b\n\nAfter.`, `*a <${tag}> b* After.`, `[a <${tag}> b](https://x.org) After.`, `- a <${tag}> b\n- After.`,
        `> a <${tag}> b\n\nAfter.`, `| h | i |\n|---|---|\n| a <${tag}> b | After. |`, `## a <${tag}> b\n\nAfter.`,
        `1. x\n   > **y [a <${tag}> b](/z) c** After.`
      ]) {
        const out = renderMarkdown(md)
        const shown = htmlToText(out.html).split(" ").filter((w) => w !== "")
        assert.deepStrictEqual(out.readableText.split(/\s+/).filter((w) => w !== ""), shown, md)
        assert.include(shown, "After.", md)
      }
    }
  })

  it("decodes entities instead of counting each as a word", () => {
    assert.strictEqual(words("<p>Tom &amp; Jerry &mdash; friends &#8212; &hellip;</p>"), 3)
    assert.strictEqual(words("<div>\n<code>Box&lt;T&gt; -&gt; u8</code>&nbsp;ok\n</div>"), 3)
    assert.strictEqual(htmlToText("<p>Tom &amp; Jerry&nbsp;&mdash; <b>x</b></p>"), "Tom & Jerry — x")
  })

  it("reads a less-than sign that opens no tag as text", () => {
    assert.strictEqual(renderMarkdown("<table><tr><td><=6mo</td><td>a > b</td></tr></table>").readableText.trim().replace(/\s+/g, " "), "<=6mo a > b")
  })

  it("reads openers without a closer in one pass, showing nothing of what they swallow (was: a rescan per opener)", () => {
    assert.strictEqual(words("<!--".repeat(40_000) + " words"), 0)
    assert.strictEqual(words("<div>\n" + "<script ".repeat(40_000)), 0)
    assert.strictEqual(words("<div>\n" + "<style>".repeat(40_000) + "\n\n</div>"), 0)
    assert.strictEqual(htmlToText("<p>a</p>" + "<!--".repeat(40_000) + "b"), "a")
    assert.strictEqual(htmlToText("<p>a</p>" + "<script ".repeat(40_000)), "a")
  })
})

describe("footnotes", () => {
  const notes = (n: number): string => {
    let body = ""
    for (let i = 0; i < n; i++) body += `Point ${i}.[^${i}]\n\n`
    for (let i = 0; i < n; i++) body += `[^${i}]: Note ${i}.\n\n`
    return body
  }

  it("render as markdown-it-footnote renders them", () => {
    const plugin = new MarkdownIt("default", { html: true }).use(footnote as unknown as PluginSimple)
    const ours = new MarkdownIt("default", { html: true }).use(footnotes)
    const inputs = [
      notes(3),
      "A[^a] b[^a] c[^b] d^[inline *note*] e[^a[b] f[^ a] g[^] h[^missing]\n\n[^a]: First.\n\n    More of it.\n\n[^b]: - a list\n[^a[b]: Odd label.\n",
      "[link [^x]](/u) `[^x]` [^x]\n\n> [^x]: Quoted definition.\n",
      "[^o]: outer\n    [^i]: nested\n\nref [^o] [^i]\n",
      "[^u]: unused\n\nno refs\n",
      "x" + "[^a".repeat(200) + "[^a]\n\n[^a]: b\n"
    ]
    for (const input of inputs) assert.strictEqual(ours.render(input), plugin.render(input), input)
  })

  it("copy the document's tokens once, not once per footnote (was: quadratic)", () => {
    const md = new MarkdownIt().use(footnotes)
    let copies = 0
    md.core.ruler.before("footnote_tail", "count_copies", (state) => {
      let tokens = state.tokens
      Object.defineProperty(state, "tokens", {
        get: () => tokens,
        set: (next: typeof tokens) => {
          copies++
          tokens = next
        }
      })
    })
    const html = md.render(notes(1000))
    assert.strictEqual(html.match(/<li id="fn/g)?.length, 1000)
    assert.isAtMost(copies, 1)
  })

  it("find a reference's end once per run of text, however many \"[^\" it holds (was: a scan per \"[^\")", () => {
    const src = "x" + "[^a".repeat(5000)
    const scan: LabelScan = { from: -1, stop: -2, max: -1, scanned: 0 }
    for (let i = src.indexOf("[^"); i !== -1; i = src.indexOf("[^", i + 1)) assert.strictEqual(labelStop(src, i + 2, src.length, scan), src.length)
    assert.isAtMost(scan.scanned, 2 * src.length)
    const fresh: LabelScan = { from: -1, stop: -2, max: -1, scanned: 0 }
    assert.strictEqual(labelStop("[^ab] [^c", 2, 9, fresh), 4)
    assert.strictEqual(labelStop("[^ab] [^c", 3, 9, fresh), 4)
    assert.strictEqual(labelStop("[^ab] [^c", 3, 4, fresh), 4)
    assert.strictEqual(labelStop("[^ab] [^c", 8, 9, fresh), 9)
    assert.strictEqual(labelStop("[^a b]", 2, 6, fresh), 3)
  })

  it("look up no label longer than the longest defined one (was: the rest of the line per \"[^\")", () => {
    const md = new MarkdownIt().use(footnotes)
    let read = 0
    md.core.ruler.before("inline", "count_label_reads", (state) => {
      const notes = state.env.footnotes as { refs: Record<string, number> }
      notes.refs = new Proxy(notes.refs, {
        get: (target, key, receiver) => {
          if (typeof key === "string") read += key.length
          return Reflect.get(target, key, receiver) as unknown
        }
      })
    })
    const line = "x" + "[^a".repeat(5000) + "[^a]"
    assert.include(md.render(`${line}\n\n[^a]: b\n`), 'class="footnote-ref"')
    assert.isAtMost(read, 2 * line.length)
  })

  it("render 20,000 footnotes, and 40,000 references without a \"]\", whole", () => {
    const r = renderMarkdown(notes(20_000))
    assert.strictEqual(r.html.match(/<li id="fn\d+" class="footnote-item">/g)?.length, 20_000)
    assert.include(r.html, '<li id="fn20000" class="footnote-item"><p>Note 19999. <a href="#fnref20000" class="footnote-backref">')
    const refs = renderMarkdown("x" + "[^a".repeat(40_000) + "[^a]\n\n[^a]: b\n").html
    assert.include(refs, "[^a[^a")
    assert.strictEqual(refs.match(/class="footnote-ref"/g)?.length, 1)
  })
})

describe("heading ids", () => {
  /** The ids as they were first assigned (counting from 1 for every repeat): stored URLs depend on them. */
  const referenceIds = (bases: ReadonlyArray<string>): Array<string> => {
    const used = new Set<string>()
    return bases.map((base) => {
      let id = base
      for (let n = 1; used.has(id); n++) id = `${base}-${n}`
      used.add(id)
      return id
    })
  }
  /** A Set counting its lookups: probes, not wall time, show quadratic work. */
  class CountingSet extends Set<string> {
    lookups = 0
    override has(value: string): boolean {
      this.lookups++
      return super.has(value)
    }
  }

  const headingIds = (html: string): Array<string> => Array.from(html.matchAll(/<h[1-6] id="([^"]*)"/g), (m) => m[1]!)

  it("are the ids they always were: intro, intro-1, intro-2..., unique when a heading's own slug is intro-1", () => {
    const { html } = renderMarkdown("# Intro\n## Intro\n## Intro 1\n## Intro-1\n## Intro\n## Intro\n## Intro 2\n#\n## !!\n## Section\n## Section 1\n#\n## Intro 1 1\n")
    assert.deepStrictEqual(headingIds(html), [
      "intro", "intro-1", "intro-1-1", "intro-1-2", "intro-2", "intro-3", "intro-2-1", "section", "section-1", "section-2",
      "section-1-1", "section-3", "intro-1-1-1"
    ])
    const bases = ["a", "a", "a-1", "a-2", "a", "a", "a-1", "a-1", "a-1-1", "b", "a-3", "a", "a-4", "a", "a-1-2", "a-1"]
    const used = new Set<string>()
    const next = new Map<string, number>()
    assert.deepStrictEqual(bases.map((b) => claimId(b, used, next)), referenceIds(bases))
  })

  it("looks each taken id up about once, so a repeated heading costs the same every time (was: quadratic)", () => {
    const used = new CountingSet()
    const next = new Map<string, number>()
    for (let i = 0; i < 2000; i++) claimId("section", used, next)
    // Interleaved bases whose suffixes collide with each other's slugs.
    for (let i = 0; i < 1000; i++) for (const b of ["x", "x-1", "x-2"]) claimId(b, used, next)
    assert.strictEqual(used.size, 5000)
    assert.isAtMost(used.lookups, 3 * 5000, `${used.lookups} lookups for 5000 ids`)
  })

  it("takes a trailing {#id} (Zola's heading attribute) as the heading's id, not as its text", () => {
    const r = renderMarkdown("# Motivation {#motivation}\n\nSee [why](#motivation).\n\nSetext {#set.ext:1}\n---\n\n## `code` and text\t{#x_y-z}\n")
    assert.deepStrictEqual(r.toc.map((t) => [t.level, t.text, t.id]), [
      [1, "Motivation", "motivation"],
      [2, "Setext", "set.ext:1"],
      [2, "code and text", "x_y-z"]
    ])
    assert.include(r.html, '<h1 id="motivation">Motivation</h1>')
    assert.notInclude(r.readableText, "{#")
  })

  it("keeps an explicit id unique, and ahead of the ids made from text", () => {
    const r = renderMarkdown("## Intro\n\n## Again {#intro}\n\n## Twice {#intro}\n\n## Intro\n")
    assert.deepStrictEqual(r.toc.map((t) => [t.text, t.id]), [["Intro", "intro-2"], ["Again", "intro"], ["Twice", "intro-1"], ["Intro", "intro-3"]])
  })

  it("takes {#id} only after a space, and never a Svelte block: the heading keeps its text (was: {#each} taken as the id)", () => {
    const r = renderMarkdown(
      "## Looping with {#each}\n\n## The {#if} and {#await}\n\n## Snippets {#snippet}\n\n## {#key}\n\n## {#alone}\n\n## Word{#glued}\n\n## **Bold**{#after-bold}\n\n## Svelte's blocks {#each-block}\n"
    )
    assert.deepStrictEqual(r.toc.map((t) => [t.text, t.id]), [
      ["Looping with {#each}", "looping-with-each"],
      ["The {#if} and {#await}", "the-if-and-await"],
      ["Snippets {#snippet}", "snippets-snippet"],
      ["{#key}", "key"],
      ["{#alone}", "alone"],
      ["Word{#glued}", "word-glued"],
      ["Bold{#after-bold}", "bold-after-bold"],
      ["Svelte's blocks", "each-block"]
    ])
    assert.include(r.html, '<h2 id="looping-with-each">Looping with {#each}</h2>')
  })

  it("looks only at a heading's last few characters for {#id}, so a long heading renders in one pass (was: quadratic)", () => {
    // 100,000 spaces inside a heading: the old rule started a match at each and read to the end.
    const r = renderMarkdown("# a" + " ".repeat(100_000) + "b {#end}\n\n## c" + "\t ".repeat(50_000) + "d\n")
    assert.deepStrictEqual(r.toc.map((t) => [t.text, t.id]), [["a b", "end"], ["c d", "c-d"]])
    // The rule reads a fixed window at the end of the text: what lies before it cannot change the answer.
    const id = "i".repeat(EXPLICIT_ID_WINDOW - 4)
    const scan = { inspected: 0 }
    assert.deepStrictEqual(explicitHeadingId("x" + " ".repeat(100_000) + ` {#${id}}`, scan), { text: "x", id })
    assert.isUndefined(explicitHeadingId(`x {#${id}i}`, scan), "an id one character longer than the window allows")
    assert.isUndefined(explicitHeadingId(`x {#${"i".repeat(100_000)}}`, scan))
    assert.isUndefined(explicitHeadingId("x" + " ".repeat(100_000) + "}", scan))
    assert.isUndefined(explicitHeadingId("x" + " ".repeat(100_000) + "y", scan))
    assert.isAtMost(scan.inspected, 4 * EXPLICIT_ID_WINDOW, `${scan.inspected} characters matched for 4 headings of 100,000`)
  })

  it("leaves as text what is no plain {#id}: other attributes, spaces, escapes, code", () => {
    const texts = ["Title {.class}", "Title {#a b}", "Title {#}", "Title {#id .cls}", "Title {#id}", "Title {#<b>}", "Title {#id} more", "Title {#id}", "Title{#id}"]
    const r = renderMarkdown("# Title {.class}\n# Title {#a b}\n# Title {#}\n# Title {#id .cls}\n# Title \\{#id}\n# Title {#&lt;b&gt;}\n# Title {#id} more\n# Title `{#id}`\n# Title{#id}\n")
    assert.deepStrictEqual(r.toc.map((t) => t.text), texts)
    assert.notInclude(r.toc.map((t) => t.id), "id")
  })

  it("avoid the ids raw HTML sets", () => {
    const { html, toc } = renderMarkdown('<div id="intro">x</div>\n\n## Intro\n\nSee <a name="usage"></a>.\n\n## Usage\n\n## Chart\n\n<svg id="chart"></svg>\n')
    assert.deepStrictEqual(toc.map((t) => t.id), ["intro-1", "usage-1", "chart"])
    assert.strictEqual(html.match(/ id="intro"/g)?.length, 1)
  })

  /** Every element's `id` (or `<a name>`, when it comes first) in `html`, in document order. */
  const targets = (html: string): Array<string> => Array.from(html.matchAll(/<[a-z0-9]+\b[^>]*?\s(?:id|name)="([^"]*)"/g), (m) => m[1]!)

  it("a raw HTML id the page has (`main`), or an element before it has, is made unique as headings are; the post's links to it follow it (was: kept as written)", () => {
    const r = renderMarkdown(
      '<div id="main">Mine</div> <a href="#main">raw link</a>\n\n[markdown link](#main)\n\n' +
        '<p id="twice">1</p>\n\n<p id="twice">2</p> <a id="anchor" name="anchor">a</a> <a name="anchor">b</a>\n\n## Twice\n'
    )
    assert.include(r.html, '<div id="main-1">Mine</div> <a href="#main-1">raw link</a>')
    assert.include(r.html, '<a href="#main-1">markdown link</a>')
    assert.include(r.html, '<p id="twice">1</p>')
    assert.include(r.html, '<p id="twice-1">2</p>')
    // One element, one target: an `<a>` whose name repeats its id keeps both alike.
    assert.include(r.html, '<a id="anchor" name="anchor">a</a> <a name="anchor-1">b</a>')
    assert.deepStrictEqual(r.toc.map((t) => t.id), ["twice-2"])
  })

  it("a heading named as one of the page's ids (`# Main`) gets another, and links to it follow (was: id=\"main\", the page's <main>)", () => {
    const r = renderMarkdown("# Main\n\nBack to [the top](#main).\n\n## Main {#main}\n")
    assert.deepStrictEqual(r.toc.map((t) => t.id), ["main-2", "main-1"])
    // The explicit `{#main}` asked for it first (explicit ids are claimed first): links go there.
    assert.include(r.html, '<a href="#main-1">the top</a>')
    assert.isFalse(r.sanitized)
  })

  it("footnote ids avoid every id of the post, `fn-note-1` too (was: only fn1, fnref1)", () => {
    const r = renderMarkdown('Text[^1] <span id="fn1">a</span> <span id="fn-note-1">b</span> <span id="fnref-note-1-1">c</span>\n\n[^1]: The note.\n')
    assert.include(r.html, '<a href="#fn-note-2-1" id="fnref-note-2-1">')
    assert.include(r.html, '<li id="fn-note-2-1" class="footnote-item">')
    const ids = targets(r.html)
    assert.strictEqual(new Set(ids).size, ids.length, ids.join(" "))
  })

  it("no two elements of a post have one id, and none has one of the page's", () => {
    for (const body of [
      '<div id="main">x</div>\n\n# Main\n\n<span id="main-1">y</span>\n\n## Main 1\n',
      '<p id="a">1</p><p id="a">2</p><p id="a-1">3</p>\n\n# A\n\n# A 1\n\n<p id="a-2">4</p>',
      'x[^1][^2] <b id="fn1">f</b> <b id="fnref2">g</b> <i id="fn-note-2">h</i> <i id="fn-note-3-1">i</i>\n\n[^1]: one\n[^2]: two\n\n# Fn 1\n',
      '<form id="f"><div id="f">in a dropped form</div></form> <svg id="s"></svg> <p id="s">after</p> <img src="x.png" id="f">'
    ]) {
      const ids = targets(renderMarkdown(body).html)
      assert.deepStrictEqual(ids.filter((id) => PAGE_IDS.has(id)), [], body)
      assert.strictEqual(new Set(ids).size, ids.length, `${body}: ${ids.join(" ")}`)
    }
  })

  it("list in the table of contents only the post's own, non-empty sections", () => {
    const r = renderMarkdown(
      "Text.[^1]\n\n[^1]: A note.\n\n    ## Note heading\n\n#\n\n## ![Rust logo](logo.png)\n\n<template>\n\n## Template heading\n\n</template>\n\n## Real\n"
    )
    assert.deepStrictEqual(r.toc.map((t) => [t.text, t.id]), [["Rust logo", "rust-logo"], ["Real", "real"]])
    // Still anchors, each its own.
    assert.include(r.html, '<h2 id="note-heading">Note heading</h2>')
    assert.include(r.html, '<h1 id="section"></h1>')
  })

  it("renders 20,000 repeated headings with distinct ids", () => {
    const ids = headingIds(renderMarkdown("#\n".repeat(20_000)).html)
    assert.strictEqual(ids.length, 20_000)
    assert.strictEqual(new Set(ids).size, 20_000)
    assert.strictEqual(ids[19_999], "section-19999")
  })
})

describe("XSS vectors", () => {
  const vectors: ReadonlyArray<[string, string]> = [
    ["script block", "<script>alert(1)</script>\n\ntext"],
    ["inline script", "text <script>alert(1)</script> more"],
    ["script, case mixed", "<ScRiPt>alert(1)</sCrIpT>"],
    ["img onerror", '<img src="x" onerror="alert(1)">'],
    ["img onerror, unquoted inline", "hi <img src=x onerror=alert(1)> there"],
    ["svg onload", '<svg onload="alert(1)"><circle r="1"/></svg>'],
    ["svg with script", "<svg><script>alert(1)</script></svg>"],
    ["iframe", '<iframe src="https://evil.example"></iframe>'],
    ["iframe srcdoc", '<iframe srcdoc="<script>alert(1)</script>"></iframe>'],
    ["style element", "<style>body { background: url(javascript:alert(1)) }</style>"],
    ["form", '<form action="https://evil.example"><input name="pw" type="password"><button formaction="javascript:alert(1)">go</button></form>'],
    ["object/embed", '<object data="x.swf"></object><embed src="x.swf">'],
    ["meta refresh", '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">'],
    ["raw javascript: link", '<a href="javascript:alert(1)">x</a>'],
    ["case-obfuscated javascript:", '<a href="JaVaScRiPt:alert(1)">x</a>'],
    ["entity-obfuscated javascript:", '<a href="jav&#x61;script:alert(1)">x</a> <a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">y</a>'],
    ["whitespace-obfuscated javascript:", '<a href=" java\tscript:alert(1)">x</a> <a href="java&#10;script:alert(1)">y</a>'],
    ["vbscript", '<a href="vbscript:msgbox(1)">x</a>'],
    ["data: link in raw HTML", '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>'],
    ["markdown javascript: link", "[click](javascript:alert(1))"],
    ["markdown obfuscated link", "[click](jav&#x61;script:alert(1)) [b](JAVASCRIPT:alert(1))"],
    ["markdown reference link", "[click][r]\n\n[r]: javascript:alert(1)"],
    ["markdown image javascript:", "![pic](javascript:alert(1))"],
    ["markdown data: link", "[x](data:text/html;base64,PHNjcmlwdD4=)"],
    ["markdown data: image link", "[x](data:image/png;base64,iVBORw0KGgo=)"],
    ["markdown svg data image", "![x](data:image/svg+xml;base64,PHN2Zz4=)"],
    ["style attribute with url()", '<div style="background: url(javascript:alert(1)); color: red">x</div>'],
    ["on* in allowed tag", '<p onclick="alert(1)" onmouseover="x()">x</p>'],
    ["attribute breaking out", '<a href="https://x.y" title=\'"><script>alert(1)</script>\'>x</a>'],
    ["comment trick", "<!-- <script>alert(1)</script> -->"],
    ["noscript raw-text trick", '<noscript><p title="</noscript><script>alert(1)</script>"></p></noscript>'],
    ["noscript around a script", "<noscript><script>alert(1)</script><style>*{}</style></noscript>"],
    ["split tags across inline HTML", "a <b onclick=alert(1)>bold</b> and <a href=javascript:alert(1)>x</a>"],
    ["base / link tags", '<base href="https://evil/"><link rel="stylesheet" href="https://evil/x.css">']
  ]

  for (const [name, input] of vectors) {
    it(`neutralizes: ${name}`, () => assertSafe(html(input)))
  }

  it("drops javascript: entirely from links written in markdown or raw HTML", () => {
    for (const input of ["[click](javascript:alert(1))", '<a href="javascript:alert(1)">x</a>', "![pic](javascript:alert(1))"]) {
      assert.notInclude(html(input).toLowerCase(), "javascript:", input)
    }
  })

  it("keeps the text of an unsafe markdown link and the alt of an unsafe image", () => {
    assert.strictEqual(html("[click](javascript:alert(1))"), "<p>click</p>\n")
    assert.strictEqual(html("![pic](javascript:alert(1))"), "<p>pic</p>\n")
  })

  it("allows raster data: images but not data: links", () => {
    const md = html("![ok](data:image/png;base64,iVBORw0KGgo=) [no](data:image/png;base64,iVBORw0KGgo=)")
    assert.include(md, '<img src="data:image/png;base64,iVBORw0KGgo=" alt="ok">')
    assert.notInclude(md, 'href="data:')
    const raw = html('<img src="data:image/png;base64,iVBORw0KGgo="> <img src="data:image/svg+xml;base64,PHN2Zz4="> <a href="data:image/png;base64,AA">x</a>')
    assert.include(raw, 'src="data:image/png;base64,iVBORw0KGgo="')
    assert.notInclude(raw, "svg+xml")
    assert.notInclude(raw, 'href="data:')
  })

  it("gives raw external links rel=noopener and keeps only a sensible target", () => {
    const out = html('<a href="http://x.example">x</a> <a href="/in" target="_blank">y</a> <a href="/in" target="evil" rel="opener">z</a> <a href="https://e.example" rel="nofollow">n</a>')
    assert.include(out, '<a href="http://x.example" rel="noopener noreferrer">x</a>')
    assert.include(out, '<a href="/in" target="_blank" rel="noopener noreferrer">y</a>')
    assert.include(out, '<a href="/in">z</a>')
    assert.include(out, 'rel="nofollow noopener noreferrer"')
  })

  it("keeps only safe inline style declarations", () => {
    const out = sanitizeHtml('<span style="color: red; position: fixed; background-image: url(x); font-weight: bold">x</span>')
    assert.strictEqual(out, '<span style="color: red; font-weight: bold">x</span>')
  })

  it("keeps nothing that lays a post over the site's header: no opacity, negative margin or viewport unit", () => {
    const out = sanitizeHtml(
      '<div style="opacity: 0.99; background-color: white; margin-top: -600px; margin-left: -50vw; width: 200vw; height: 100vh">' +
        '<p class="brand">Session expired</p><a href="https://evil.example/login">Sign in again</a></div>'
    )
    assert.strictEqual(
      out,
      '<div style="background-color: white"><p>Session expired</p><a href="https://evil.example/login" rel="noopener noreferrer">Sign in again</a></div>'
    )
  })

  it("keeps non-negative margins and sizes in the column's units, and drops negative or computed margins and viewport or container units", () => {
    const kept = ["margin: 0 auto", "margin: 16px 0", "margin-top: 0", "margin-bottom: 1.5em", "margin: 1em 2% 0 auto", "width: 100%", "height: 300px", "max-width: 12em", "font-size: 0.9em"]
    for (const decl of kept) assert.strictEqual(sanitizeHtml(`<p style="${decl}">x</p>`), `<p style="${decl}">x</p>`, decl)
    const dropped = [
      "margin-top: -600px", "margin: 0 -1em", "margin-left: -.5rem", "margin-top: calc(0px - 600px)", "margin-top: calc(600px / cos(180deg))",
      "margin: var(--gap)", "margin-top: 1e-3px", "width: 200vw", "height: 100vh", "height: 50dvh", "width: 10svw", "width: 50vmax",
      "font-size: 10VMIN", "width: calc(100% + 10vw)", "width: 100cqw", "height: 1lvh", "opacity: 0.99"
    ]
    for (const decl of dropped) assert.strictEqual(sanitizeHtml(`<p style="${decl}">x</p>`), "<p>x</p>", decl)
  })

  it("keeps no class of the site's theme, so a post cannot dress up as the site", () => {
    const markdowns = new Set(["footnotes"])
    const themes = [...new Set(Array.from(stylesheet.matchAll(/\.([a-z][\w-]*)/gi), (m) => m[1]!))].filter((name) => !markdowns.has(name))
    assert.includeMembers(themes, ["brand", "site-header", "wrap", "skip", "post-nav", "prose"])
    const out = sanitizeHtml(`<p class="${themes.join(" ")} card">x</p><span class="brand">y</span>`)
    assert.strictEqual(out, "<p>x</p><span>y</span>")
  })
})

describe("URL checks", () => {
  it("reads schemes the way browsers do", () => {
    assert.strictEqual(urlScheme(" \tJava\nScript:alert(1)"), "javascript")
    assert.isUndefined(urlScheme("/path:with/colon"))
    assert.isUndefined(urlScheme("relative/page"))
    assert.isUndefined(urlScheme("#frag"))
  })

  it("allows only web, mail and relative links; raster data: only for images", () => {
    assert.isTrue(isSafeLinkUrl("https://x.y"))
    assert.isTrue(isSafeLinkUrl("../up"))
    assert.isFalse(isSafeLinkUrl("javascript:x"))
    assert.isFalse(isSafeLinkUrl("data:image/png;base64,AA"))
    assert.isFalse(isSafeLinkUrl("file:///etc/passwd"))
    assert.isTrue(isSafeImageUrl("data:image/jpeg;base64,AA"))
    assert.isFalse(isSafeImageUrl("data:image/svg+xml,<svg/>"))
    assert.isFalse(isSafeImageUrl("data:text/html,x"))
  })
})
