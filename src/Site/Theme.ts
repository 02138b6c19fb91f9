/**
 * The default theme: one stylesheet, light and dark by `prefers-color-scheme`, readable without
 * any JavaScript. Served at `/assets/site.css?v=<hash>` so it can be cached forever and still
 * change with a release.
 */
import { createHash } from "node:crypto"

/**
 * The theme's colours, light and dark, each the stylesheet's custom property of its name
 * (`--accent-soft`). Exported so a test holds them to WCAG's contrast ratios: 4.5:1 for text,
 * 3:1 for what marks out a control (the search field's border, against the field and the page).
 */
export const palette = {
  light: {
    bg: "#fdfcfa",
    surface: "#f4f1ec",
    text: "#24211d",
    muted: "#6b645b",
    /** Rules between parts, not a control's edge: quiet on purpose. */
    border: "#e3ddd3",
    /** The search field's edge: its background is barely darker than the page's. */
    "field-border": "#8f877b",
    accent: "#b4451f",
    /** Behind accent text (tags, the search button): at #f6e4dc that was 4.47:1. */
    "accent-soft": "#f7e6de",
    "code-bg": "#f2eee7",
    "code-text": "#3a2f28",
    "pre-bg": "#23211f",
    "pre-text": "#f1ebe2"
  },
  dark: {
    bg: "#171614",
    surface: "#201f1c",
    text: "#e9e4dc",
    muted: "#a39b90",
    border: "#35322d",
    "field-border": "#756e64",
    accent: "#f08a5d",
    "accent-soft": "#3a271e",
    "code-bg": "#2a2825",
    "code-text": "#f3d9c8",
    "pre-bg": "#0f0e0d",
    "pre-text": "#ebe4da"
  }
} as const

export type Colour = keyof typeof palette.light

const colours = (scheme: Readonly<Record<Colour, string>>, indent: string): string =>
  Object.entries(scheme).map(([name, value]) => `${indent}--${name}: ${value};`).join("\n")

export const stylesheet = `
:root {
  color-scheme: light dark;
${colours(palette.light, "  ")}
  --shadow: 0 1px 2px rgba(36, 33, 29, .06), 0 2px 8px rgba(36, 33, 29, .04);
  --radius: 10px;
  --measure: 44rem;
  --sans: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Liberation Sans", Arial, sans-serif;
  --serif: "Iowan Old Style", "Charter", "Source Serif Pro", Georgia, "DejaVu Serif", serif;
  --mono: ui-monospace, "SFMono-Regular", "JetBrains Mono", Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
${colours(palette.dark, "    ")}
    --shadow: 0 1px 2px rgba(0, 0, 0, .4);
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0;
  background: var(--bg);
  color: var(--text);
  font: 1.0625rem/1.7 var(--sans);
  text-rendering: optimizeLegibility;
}
a { color: var(--accent); text-decoration-thickness: 1px; text-underline-offset: .18em; }
a:hover { text-decoration-thickness: 2px; }
a:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; border-radius: 3px; }
.skip { position: absolute; inset-inline-start: -999px; }
.skip:focus { inset-inline-start: 1rem; top: 1rem; background: var(--bg); padding: .5rem 1rem; z-index: 1; }
.wrap { max-width: var(--measure); margin: 0 auto; padding: 0 1.25rem; }

/* Header and footer */
.site-header { border-bottom: 1px solid var(--border); margin-bottom: 2.5rem; }
.site-header .wrap { display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; gap: .25rem 1.5rem; padding-top: 1.4rem; padding-bottom: 1.1rem; }
.brand { font: 700 1.35rem/1.2 var(--serif); color: var(--text); text-decoration: none; letter-spacing: -.01em; }
.brand::before { content: ""; display: inline-block; width: .55em; height: .55em; margin-inline-end: .45em; border-radius: 50%; background: var(--accent); vertical-align: .08em; }
.tagline { margin: .2rem 0 0; color: var(--muted); font-size: .95rem; }
.site-nav { display: flex; gap: 1.1rem; font-size: .95rem; }
.site-nav a { color: var(--muted); text-decoration: none; }
.site-nav a:hover { color: var(--accent); }
.search-form { display: flex; gap: .4rem; flex: 1 1 100%; margin-top: .4rem; }
.search-form input { flex: 1; min-width: 0; font: inherit; font-size: .95rem; padding: .35rem .6rem; color: var(--text); background: var(--surface); border: 1px solid var(--field-border); border-radius: var(--radius); }
.search-form input:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
.search-form button { font: inherit; font-size: .9rem; padding: .35rem .8rem; color: var(--accent); background: var(--accent-soft); border: 1px solid transparent; border-radius: var(--radius); cursor: pointer; }
.search-form button:hover { border-color: var(--accent); }
.site-footer { margin-top: 4rem; border-top: 1px solid var(--border); color: var(--muted); font-size: .9rem; }
.site-footer .wrap { display: flex; flex-wrap: wrap; justify-content: space-between; gap: .5rem 1.5rem; padding-top: 1.5rem; padding-bottom: 2.5rem; }
.site-footer a { color: var(--muted); }

/* Lists of posts */
.page-title { font: 700 1.9rem/1.25 var(--serif); margin: 0 0 .35rem; letter-spacing: -.015em; }
.page-intro { color: var(--muted); margin: 0 0 2rem; }
.post-list { list-style: none; margin: 0; padding: 0; }
.post-card { padding: 1.4rem 0 1.5rem; border-bottom: 1px solid var(--border); }
.post-card:first-child { padding-top: 0; }
.post-card h2 { font: 700 1.45rem/1.3 var(--serif); margin: 0 0 .3rem; letter-spacing: -.01em; }
.post-card h2 a { color: var(--text); text-decoration: none; }
.post-card h2 a:hover { color: var(--accent); }
.post-card p.excerpt { margin: .5rem 0 .75rem; }
.meta { color: var(--muted); font-size: .9rem; }
.meta > * + *::before { content: "·"; margin: 0 .5em; color: var(--border); }
.tags { list-style: none; display: flex; flex-wrap: wrap; gap: .4rem; margin: 0; padding: 0; }
.tags a { display: inline-block; padding: .05rem .6rem; border-radius: 999px; background: var(--accent-soft); color: var(--accent); font-size: .8rem; font-weight: 600; text-decoration: none; }
.tags a:hover { background: var(--accent); color: var(--bg); }
.pager { display: flex; justify-content: space-between; align-items: center; gap: 1rem; margin: 2rem 0 0; font-size: .95rem; }
.pager .current { color: var(--muted); }
.pager a { font-weight: 600; text-decoration: none; }
.empty { color: var(--muted); font-style: italic; }

/* A post */
.post-header { margin-bottom: 2rem; }
.post-header h1 { font: 700 clamp(1.9rem, 4.5vw, 2.6rem)/1.2 var(--serif); margin: 0 0 .8rem; letter-spacing: -.02em; }
/* Titles are large, and a long word in one (a crate path, a URL, a query) ran off a phone's
   screen; anywhere, not break-word, so a grid column (the post links) narrows to fit it too.
   So did one in an excerpt, a tag or a table of contents entry (the heading's words). */
.post-header h1, .page-title, .post-card h2, .post-nav .title, .not-found h1,
.post-card p.excerpt, .tags a, .toc a { overflow-wrap: anywhere; }
.post-header .meta { margin-bottom: .9rem; }
.toc { background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); padding: .9rem 1.2rem; margin: 0 0 2.2rem; font-size: .95rem; }
.toc summary { font-weight: 700; cursor: pointer; color: var(--text); }
.toc ol { margin: .5rem 0 .1rem; padding-inline-start: 1.2rem; }
.toc ol ol { margin: .1rem 0; }
.toc li { margin: .15rem 0; }
.toc a { color: var(--text); text-decoration: none; }
.toc a:hover { color: var(--accent); text-decoration: underline; }

/* Behind the sanitizer: nothing of a post paints above or below its own box, over the header or
   the links after it (a line-height of 0 lets a large glyph's background out, with no margin).
   Sideways stays visible for the full-width code blocks on small screens; clip, unlike hidden,
   makes no scroll container and no new formatting context, so margins collapse as before. */
.prose { overflow-wrap: break-word; overflow-x: visible; overflow-y: clip; }
.prose > :first-child { margin-top: 0; }
.prose h1, .prose h2, .prose h3, .prose h4, .prose h5, .prose h6 { font-family: var(--serif); line-height: 1.3; margin: 2.2rem 0 .8rem; letter-spacing: -.01em; scroll-margin-top: 1rem; }
.prose h1 { font-size: 1.8rem; }
.prose h2 { font-size: 1.5rem; padding-bottom: .3rem; border-bottom: 1px solid var(--border); }
.prose h3 { font-size: 1.25rem; }
.prose h4, .prose h5, .prose h6 { font-size: 1.05rem; }
.prose p, .prose ul, .prose ol, .prose dl, .prose blockquote, .prose pre, .prose table, .prose figure { margin: 0 0 1.25rem; }
.prose li + li { margin-top: .3rem; }
.prose img, .prose video { max-width: 100%; height: auto; border-radius: 6px; }
.prose hr { border: 0; border-top: 1px solid var(--border); margin: 2.5rem 0; }
.prose blockquote { margin-inline-start: 0; padding-block: .2rem; padding-inline: 1.1rem 0; border-inline-start: 3px solid var(--accent); color: var(--muted); font-style: italic; }
.prose code { font-family: var(--mono); font-size: .88em; background: var(--code-bg); color: var(--code-text); padding: .1em .35em; border-radius: 4px; }
.prose pre { background: var(--pre-bg); color: var(--pre-text); padding: 1rem 1.2rem; border-radius: var(--radius); overflow-x: auto; line-height: 1.55; font-size: .9rem; box-shadow: var(--shadow); }
.prose pre code { background: none; color: inherit; padding: 0; font-size: inherit; border-radius: 0; }
.prose table { display: block; max-width: 100%; overflow-x: auto; border-collapse: collapse; font-size: .95rem; }
.prose th, .prose td { border: 1px solid var(--border); padding: .45rem .8rem; text-align: start; vertical-align: top; }
.prose thead th { background: var(--surface); font-weight: 700; }
.prose tbody tr:nth-child(even) { background: color-mix(in srgb, var(--surface) 55%, transparent); }
.prose kbd { font-family: var(--mono); font-size: .85em; border: 1px solid var(--border); border-bottom-width: 2px; border-radius: 4px; padding: .05em .35em; }
.prose .footnotes { font-size: .9rem; color: var(--muted); }

.post-nav { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; margin-top: 3rem; padding-top: 1.5rem; border-top: 1px solid var(--border); }
.post-nav a { display: block; padding: .8rem 1rem; border: 1px solid var(--border); border-radius: var(--radius); text-decoration: none; color: var(--text); background: var(--surface); }
.post-nav a:hover { border-color: var(--accent); }
.post-nav .label { display: block; color: var(--muted); font-size: .8rem; text-transform: uppercase; letter-spacing: .06em; }
.post-nav .title { font-family: var(--serif); font-weight: 700; }
.post-nav .next { grid-column: 2; text-align: end; }

.post-header h1 code, .post-card h2 code, .post-nav .title code { font-family: var(--mono); font-size: .84em; font-weight: 600; letter-spacing: -.02em; background: var(--code-bg); color: var(--code-text); padding: 0 .22em; border-radius: 5px; }

.not-found { text-align: center; padding: 3rem 0; }
.not-found .code { font: 700 4.5rem/1 var(--serif); color: var(--accent); margin: 0; }
.not-found h1 { font: 700 1.6rem/1.3 var(--serif); margin: .8rem 0; }

@media (max-width: 36rem) {
  body { font-size: 1rem; }
  .site-header { margin-bottom: 1.75rem; }
  .post-nav { grid-template-columns: 1fr; }
  .post-nav .next { grid-column: 1; }
  .prose pre { margin-inline: -1.25rem; border-radius: 0; }
}
@media print {
  .site-header nav, .site-footer, .post-nav, .pager { display: none; }
  .prose pre { white-space: pre-wrap; }
}
`.trim()

/** Changes whenever the stylesheet does: part of its URL. */
export const stylesheetVersion = createHash("sha256").update(stylesheet).digest("hex").slice(0, 12)
