import { assert, describe, it } from "@effect/vitest"
import { type Colour, palette, stylesheet } from "../../src/Site/Theme.js"

/** WCAG 2.2's relative luminance of an sRGB `#rrggbb`. */
const luminance = (hex: string): number => {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const v = parseInt(hex.slice(i, i + 2), 16) / 255
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4
  }) as [number, number, number]
  return 0.2126 * r + 0.7152 * g + 0.0722 * b
}

/** WCAG's contrast ratio, from 1 to 21. */
const contrast = (a: string, b: string): number => {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number]
  return (light + 0.05) / (dark + 0.05)
}

/** Text on what the stylesheet sets it on: 4.5:1 (WCAG 1.4.3, AA, small text). */
const TEXT: ReadonlyArray<readonly [Colour, Colour, string]> = [
  ["text", "bg", "body text"],
  ["text", "surface", "search field, table of contents, post links"],
  ["muted", "bg", "dates, tagline, footer, blockquotes"],
  ["muted", "surface", "post links' labels"],
  ["accent", "bg", "links"],
  ["accent", "surface", "table of contents links, hovered"],
  ["accent", "accent-soft", "tags, the search button"],
  ["bg", "accent", "a hovered tag"],
  ["code-text", "code-bg", "inline code"],
  ["pre-text", "pre-bg", "code blocks"]
]

/** What marks out a control: 3:1 against what is next to it (WCAG 1.4.11). */
const BOUNDARIES: ReadonlyArray<readonly [Colour, Colour, string]> = [
  ["field-border", "surface", "the search field's border, against the field"],
  ["field-border", "bg", "the search field's border, against the page"],
  ["accent", "bg", "the focus ring"]
]

describe("theme", () => {
  for (const scheme of ["light", "dark"] as const) {
    it(`${scheme}: text has 4.5:1 against its background, a control's boundary 3:1`, () => {
      const colours = palette[scheme]
      for (const [minimum, pairs] of [[4.5, TEXT], [3, BOUNDARIES]] as const) {
        for (const [fg, bg, where] of pairs) {
          const ratio = contrast(colours[fg], colours[bg])
          assert.isAtLeast(ratio, minimum, `${scheme} ${fg} on ${bg} (${where}): ${ratio.toFixed(2)}:1`)
        }
      }
    })
  }

  it("the stylesheet's custom properties are the palette's, and the search field's edge is the field border", () => {
    for (const scheme of ["light", "dark"] as const) {
      for (const [name, value] of Object.entries(palette[scheme])) assert.include(stylesheet, `--${name}: ${value};`, `${scheme} ${name}`)
    }
    assert.match(stylesheet, /\.search-form input \{[^}]*border: 1px solid var\(--field-border\)/)
  })

  it("titles, excerpts, tags and table of contents entries break a word too long for the line rather than run off a narrow screen", () => {
    const rules = Array.from(stylesheet.replace(/\/\*[\s\S]*?\*\//g, "").matchAll(/([^{}]+)\{([^}]*)\}/g), (m) => ({
      selectors: m[1]!.split(",").map((s) => s.trim()),
      declarations: m[2]!
    }))
    // Checked in Chromium at 390px too (test/e2e).
    for (const title of [".post-header h1", ".page-title", ".post-card h2", ".post-nav .title", ".not-found h1", ".post-card p.excerpt", ".tags a", ".toc a"]) {
      assert.isTrue(
        rules.some((rule) => rule.selectors.includes(title) && /overflow-wrap:\s*anywhere/.test(rule.declarations)),
        title
      )
    }
  })

  it("computes WCAG's ratios", () => {
    assert.strictEqual(contrast("#000000", "#ffffff"), 21)
    assert.strictEqual(contrast("#777777", "#777777"), 1)
    assert.strictEqual(contrast("#b4451f", "#f6e4dc").toFixed(2), "4.47")
  })
})
