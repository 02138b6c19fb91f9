/**
 * The pure side of Zola's internal links: found in the sanitized HTML only where they are links
 * (not in text or code), rewritten in place with every other character kept, found again on
 * their lines in the file, folded into the hash, and carried over from a stored page or an
 * export's list of its addresses, which may give a link only an address it could have.
 */
import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import {
  carryInternalLinks,
  exportedHrefs,
  hashWithLinks,
  internalLinks,
  linkLines,
  postHref,
  rewriteInternalLinks
} from "../../src/Processing/internalLinks.js"
import { processPostSync, slugOfSourceSync } from "../../src/Processing/processPost.js"

const render = (body: string) => Either.getOrThrow(processPostSync({ source: "a.md", raw: `---\ntitle: A\n---\n${body}` })).html

describe("internal links", () => {
  it("are the hrefs starting @/, not text or code that looks like one", () => {
    const html = render("[one](@/blog/caf%C3%A9.md#x&y) `[two](@/code.md)` @/text.md [three](<@/a b.md>)\n\n    [four](@/block.md)\n")
    assert.deepStrictEqual(internalLinks(html).map((l) => [l.href, l.path, l.fragment]), [
      ["@/blog/caf%C3%A9.md#x&y", "blog/café.md", "#x&y"],
      ["@/a%20b.md", "a b.md", ""]
    ])
  })

  it("are rewritten in place, the rest as written, a link not resolved kept", () => {
    const html = `<p title="@/x.md"><a href="@/b.md#h&amp;i" title="t">b</a> <a href="@/gone.md">g</a> <a href="https://x/@/b.md">ext</a></p>`
    const out = rewriteInternalLinks(html, (link) => (link.path === "b.md" ? postHref("the-b", link.fragment) : undefined))
    assert.strictEqual(out, `<p title="@/x.md"><a href="./the-b#h&amp;i" title="t">b</a> <a href="@/gone.md">g</a> <a href="https://x/@/b.md">ext</a></p>`)
    assert.strictEqual(postHref("café", ""), "./caf%C3%A9")
  })

  it("are found on their lines, the k-th link to one target on its k-th occurrence", () => {
    const raw = "---\ntitle: A\n---\n[a](@/b.md)\n\ntext [a](@/b.md) [c](<@/c d.md>)\n"
    const html = render(raw.slice("---\ntitle: A\n---\n".length))
    assert.deepStrictEqual(linkLines(raw, internalLinks(html)), [4, 6, 6])
  })

  it("are placed by the parser that rendered them: not on a code block or span that shows one, a reference link where it is used (was: the first occurrence of the text)", () => {
    const raw = [
      "+++", "title = \"Links\"", "+++", // 1-3
      "```", "[x](@/missing.md)", "```", // 4-6
      "Inline `[y](@/missing.md)` and `a", "[z](@/a.md)` span.", // 7-8
      "", "    [indented](@/a.md)", "", // 9-11
      "1. [ref][ra] \\[not](@/a.md)", // 12
      "2. [gone](@/missing.md)", // 13
      "", "> [quoted](@/a.md)", "", // 14-16
      "| t |", "|---|", "| [cell](@/a.md) |", "", // 17-20
      "<div>", "", "<a", "href=\"@/missing.md\">raw</a>", "</div>", "", // 21-26
      "Note[^1].", "", "[^1]: [noted](@/a.md)", "", // 27-30
      "[ra]: @/a.md", "" // 31
    ].join("\r\n")
    const links = internalLinks(Either.getOrThrow(processPostSync({ source: "links.md", raw })).html)
    assert.deepStrictEqual(links.map((link) => link.href), ["@/a.md", "@/missing.md", "@/a.md", "@/a.md", "@/missing.md", "@/a.md"])
    assert.deepStrictEqual(linkLines(raw, links), [12, 13, 15, 19, 24, 29])
  })

  it("change the hash only when one is resolved, and with the slug it is resolved to", () => {
    assert.strictEqual(hashWithLinks("h", []), "h")
    const one = hashWithLinks("h", [["@/b.md", "b"]])
    assert.notStrictEqual(one, "h")
    assert.strictEqual(hashWithLinks("h", [["@/b.md", "b"], ["@/b.md", "b"]]), one)
    assert.notStrictEqual(hashWithLinks("h", [["@/b.md", "renamed"]]), one)
  })

  it("are carried over from the stored page when the links are otherwise the same, and not otherwise", () => {
    const fresh = `<p><a href="https://x">x</a> <a href="@/b.md#h">b</a></p><p>new rendering</p>`
    const stored = `<p><a href="https://x">x</a> <a href="./the-b#h">b</a></p>`
    assert.strictEqual(carryInternalLinks(fresh, stored), `<p><a href="https://x">x</a> <a href="./the-b#h">b</a></p><p>new rendering</p>`)
    assert.strictEqual(carryInternalLinks(fresh, `<p><a href="https://y">x</a> <a href="./the-b#h">b</a></p>`), undefined)
    assert.strictEqual(carryInternalLinks(fresh, `<p><a href="./the-b#h">b</a></p>`), undefined)
    assert.strictEqual(carryInternalLinks("<p>none</p>", stored), "<p>none</p>")
  })

  it("are carried over from an export's addresses only where each is one a link may have: as written, or a post's page with the link's anchor", () => {
    const fresh = `<p><a href="https://x">x</a> <a href="@/b.md#h">b</a> <a href="@/gone.md">g</a></p>`
    assert.strictEqual(
      carryInternalLinks(fresh, ["https://x", "./caf%C3%A9#h", "@/gone.md"]),
      `<p><a href="https://x">x</a> <a href="./caf%C3%A9#h">b</a> <a href="@/gone.md">g</a></p>`
    )
    // Anything else in a record (anyone can write one) goes nowhere near the sanitized page.
    for (const address of ["javascript:alert(1)", "https://elsewhere.example/p#h", "./a/b#h", "./the-b#other", "./the-b", "./#h", "./..#h", "./%E0%A4%A#h", "@/c.md#h"]) {
      assert.strictEqual(carryInternalLinks(fresh, ["https://x", address, "@/gone.md"]), undefined, address)
    }
    assert.strictEqual(carryInternalLinks(fresh, ["https://x", "./the-b#h"]), undefined, "one link fewer")
  })

  it("are exported as every address of a page with one that may be internal, in order; a page without gives none", () => {
    assert.deepStrictEqual(exportedHrefs(`<a href="https://x">x</a> <a href="./the-b#h">b</a> <a href="@/gone.md">g</a>`), ["https://x", "./the-b#h", "@/gone.md"])
    assert.strictEqual(exportedHrefs(`<a href="https://x/./a">x</a> <p>./not-a-link and @/text</p>`), undefined)
  })

  it("name a target whose slug is read from its front matter alone, as processing gives it", () => {
    const slug = (raw: string, relativePath: string) => Either.map(slugOfSourceSync({ source: relativePath, raw, relativePath }), String)
    assert.deepStrictEqual(slug("+++\ntitle = \"T\"\nslug = \"mine\"\n+++\n", "x.md"), Either.right("mine"))
    assert.deepStrictEqual(slug("+++\ntitle = \"T\"\npath = \"2024/01/02/Hello\"\n+++\n", "x.md"), Either.right("2024-01-02-hello"))
    assert.deepStrictEqual(slug("---\ntitle: Hello There\n---\n", "x/index.md"), Either.right("hello-there"))
    assert.isTrue(Either.isLeft(slug("+++\ntitle = \"S\"\n+++\n", "blog/_index.md")))
  })
})
