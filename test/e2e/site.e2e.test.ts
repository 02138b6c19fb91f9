/**
 * The reader site in a real browser: Debian's Chromium (headless, fresh profile) against the
 * real server on an ephemeral port with a temporary SQLite database. Posts are created through
 * the HTTP API with an API key, exactly as an author would.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { existsSync } from "node:fs"
import type { BrowserContext, Page } from "playwright-core"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { setFixtureNow } from "../fixtures/clock.js"
import { makeNewPost } from "../fixtures/posts.js"
import { baseUrl, browser, CHROMIUM, createPost, pw, serverAt, tempDir } from "./harness.js"

class Browser extends Context.Tag("e2e/Browser")<Browser, BrowserContext>() {}
class Base extends Context.Tag("e2e/Base")<Base, string>() {}

const INTRO = `---
title: "Typed effects, explained"
tags: [effect, typescript]
authors: [Ada Lovelace]
publishedAt: 2024-03-10T09:00:00Z
---
A short tour of typed effects.

## Why effects

Errors belong in types.

\`\`\`ts
const program = Effect.succeed(42)
\`\`\`

## Tables

| Name | Value |
| ---- | ----- |
| one  | 1     |

### A detail

Fine print.
`

/** A word no line of a phone holds (a crate path, a hash, a URL), and a tag as long. */
const LONG_WORD = "Supercalifragilisticexpialidocious".repeat(3)
const LONG_TAG = "extraordinarilylongtagnamewithoutanyplacetobreak"

/** Every way a post body could try to run code. Any of them running sets `window.__pwned`. */
const PAYLOADS: ReadonlyArray<{ readonly slug: string; readonly body: string }> = [
  { slug: "payload-script", body: `Inline script.\n\n<script>window.__pwned = "inline script"</script>\n\n<p>after</p>` },
  { slug: "payload-onerror", body: `Broken image.\n\n<img src="/nope.png" onerror="window.__pwned = 'onerror'">\n\n<p onmouseover="window.__pwned = 'mouseover'">hover me</p>` },
  {
    slug: "payload-javascript-link",
    body: `[markdown link](javascript:window.__pwned='md-link')\n\n<a href="javascript:window.__pwned='html-link'" id="jslink">html link</a>\n\n<a href="JaVaScRiPt&colon;window.__pwned='entity-link'">entity link</a>`
  },
  {
    slug: "payload-svg",
    body: `<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned='svg-onload'"><script>window.__pwned='svg-script'</script><a href="javascript:window.__pwned='svg-link'"><text y="20">svg link</text></a></svg>\n\n<img src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' onload='parent.__pwned=1'/%3E">`
  },
  {
    slug: "payload-frames",
    body: `<iframe srcdoc="<script>parent.__pwned='srcdoc'</script>"></iframe>\n\n<object data="javascript:window.__pwned='object'"></object>\n\n<form action="javascript:window.__pwned='form'"><button id="submit">go</button></form>\n\n<math><mtext><table><mglyph><style><img src=x onerror="window.__pwned='mxss'">`
  }
]

const SITE = Layer.scopedContext(
  Effect.gen(function* () {
    // The server runs on this layer's TestClock: after the posts' dates, or they are scheduled.
    yield* setFixtureNow
    const dir = yield* tempDir("inkwell-e2e-")
    const context = yield* Layer.build(serverAt(dir))
    const base = yield* baseUrl.pipe(Effect.provide(context))
    yield* createPost(base, INTRO)
    yield* createPost(base, {
      title: "Second post <script>window.__pwned='title'</script>",
      body: "Hello from the **second** post.\n\n## Only heading\n\nText.",
      tags: ["effect"],
      status: "published",
      publishedAt: "2024-03-12T09:00:00Z"
    })
    yield* createPost(base, { title: "Unfinished thoughts", body: "Draft body.", status: "draft" })
    yield* createPost(base, {
      title: "Long words",
      slug: "long-words",
      body: `${LONG_WORD} starts the excerpt.\n\n## ${LONG_WORD}\n\nText.\n\n## Short\n\nMore.`,
      tags: [LONG_TAG],
      status: "published",
      publishedAt: "2023-06-01T00:00:00Z"
    })
    for (const payload of PAYLOADS) {
      yield* createPost(base, {
        title: `Payload ${payload.slug}`,
        slug: payload.slug,
        body: payload.body,
        tags: ["payloads"],
        status: "published",
        publishedAt: "2023-01-01T00:00:00Z"
      })
    }
    // Defence in depth: HTML that never went through the sanitizer (written straight to the
    // store), so only the Content-Security-Policy stands between it and the browser.
    const repository = Context.get(context, PostRepository)
    yield* repository.create(
      makeNewPost({
        slug: "unsanitized",
        title: "Unsanitized HTML",
        publishedAt: "2022-01-01T00:00:00Z",
        tags: ["payloads"],
        html: `<p>raw</p><script>window.__pwned='csp-script'</script><img src="/x.png" onerror="window.__pwned='csp-onerror'"><a id="rawjs" href="javascript:window.__pwned='csp-link'">raw link</a>`
      })
    )
    const browserContext = yield* browser
    return Context.make(Base, base).pipe(Context.add(Browser, browserContext))
  })
)

interface Visit {
  readonly page: Page
  readonly errors: Array<string>
  readonly dialogs: Array<string>
}

/** A fresh tab that records console errors, page errors and dialogs. */
const openPage = Effect.gen(function* () {
  const context = yield* Browser
  const page = yield* Effect.acquireRelease(pw(() => context.newPage()), (page) => Effect.promise(() => page.close()))
  const visit: Visit = { page, errors: [], dialogs: [] }
  page.on("console", (message) => {
    if (message.type() === "error") visit.errors.push(message.text())
  })
  page.on("pageerror", (error) => visit.errors.push(error.message))
  page.on("dialog", (dialog) => {
    visit.dialogs.push(dialog.message())
    void dialog.dismiss()
  })
  return visit
})

const pwned = (page: Page) => pw(() => page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned))

/** Skipped on a developer machine without Chromium; in CI (.ci/setup installs it) a missing browser fails. */
const skip = !existsSync(CHROMIUM) && process.env["CI"] === undefined

describe.skipIf(skip)("reader site in Chromium", () => {
  layer(SITE, { timeout: 120_000 })((it) => {
    it.scoped("a reader opens the blog, reads a post, follows a tag and finds the feeds", () =>
      Effect.gen(function* () {
        const base = yield* Base
        const { page, errors, dialogs } = yield* openPage
        const response = yield* pw(() => page.goto(`${base}/`))
        assert.strictEqual(response?.status(), 200)
        assert.strictEqual(yield* pw(() => page.title()), "The Inkwell Journal")

        const titles = yield* pw(() => page.locator(".post-card h2").allTextContents())
        assert.strictEqual(titles[0], "Second post <script>window.__pwned='title'</script>")
        assert.strictEqual(titles[1], "Typed effects, explained")
        assert.notInclude(titles, "Unfinished thoughts")

        // The theme is applied: the stylesheet loaded under the CSP.
        const font = yield* pw(() => page.locator(".brand").evaluate((el) => getComputedStyle(el).fontWeight))
        assert.strictEqual(font, "700")

        yield* pw(() => page.getByRole("link", { name: "Typed effects, explained" }).click())
        yield* pw(() => page.waitForURL(`${base}/p/typed-effects-explained`))
        assert.strictEqual(yield* pw(() => page.locator("h1").textContent()), "Typed effects, explained")
        const toc = yield* pw(() => page.locator("nav.toc a").allTextContents())
        assert.deepStrictEqual(toc, ["Why effects", "Tables", "A detail"])
        assert.include(yield* pw(() => page.locator(".prose pre code").textContent()) ?? "", "Effect.succeed(42)")
        assert.strictEqual(yield* pw(() => page.locator(".prose table td").first().textContent()), "one")
        assert.include(yield* pw(() => page.locator(".post-header .meta").textContent()) ?? "", "Ada Lovelace")

        // Following a TOC entry moves to the heading's anchor.
        yield* pw(() => page.locator("nav.toc a", { hasText: "Tables" }).click())
        assert.isTrue(page.url().endsWith("#tables"))

        yield* pw(() => page.locator(".post-header .tags a", { hasText: "typescript" }).click())
        yield* pw(() => page.waitForURL(`${base}/tags/typescript`))
        assert.strictEqual(yield* pw(() => page.locator("h1").textContent()), "Posts tagged “typescript”")
        assert.deepStrictEqual(yield* pw(() => page.locator(".post-card h2").allTextContents()), ["Typed effects, explained"])

        const feeds = yield* pw(() =>
          page.locator(`link[rel="alternate"]`).evaluateAll((links) =>
            links.map((link) => ({ type: link.getAttribute("type"), href: link.getAttribute("href") }))
          )
        )
        assert.deepStrictEqual(feeds, [
          // The tag's own feeds first: feed readers and `import --from-url` take the first one.
          { type: "application/rss+xml", href: `${base}/tags/typescript/rss.xml` },
          { type: "application/atom+xml", href: `${base}/tags/typescript/atom.xml` },
          { type: "application/feed+json", href: `${base}/tags/typescript/feed.json` },
          { type: "application/rss+xml", href: `${base}/rss.xml` },
          { type: "application/atom+xml", href: `${base}/atom.xml` },
          { type: "application/feed+json", href: `${base}/feed.json` },
          // The tag's list in the API, for `inkwell import --from-url` (JSON, its summaries).
          { type: "application/vnd.inkwell.posts+json", href: `${base}/posts?tag=typescript` }
        ])
        for (const feed of feeds) {
          const answer = yield* pw(() => page.request.get(feed.href!))
          assert.strictEqual(answer.status(), 200, feed.href!)
          const api = feed.type === "application/vnd.inkwell.posts+json"
          assert.include(answer.headers()["content-type"], api ? "application/json" : feed.type!, feed.href!)
          assert.include(yield* pw(() => answer.text()), api ? "typed-effects-explained" : "Typed effects, explained", feed.href!)
        }

        // A draft is not there for readers, and the 404 looks like the site.
        const draft = yield* pw(() => page.goto(`${base}/p/unfinished-thoughts`))
        assert.strictEqual(draft?.status(), 404)
        assert.strictEqual(yield* pw(() => page.locator(".brand").textContent()), "The Inkwell Journal")

        assert.isUndefined(yield* pwned(page))
        assert.deepStrictEqual(dialogs, [])
        // The 404 status itself is reported by Chromium as a failed resource; nothing else may be.
        assert.deepStrictEqual(errors.filter((e) => !e.includes("404")), [])
        assert.isAtMost(errors.length, 1)
      }))

    it.scoped("post bodies carrying script payloads execute nothing", () =>
      Effect.gen(function* () {
        const base = yield* Base
        const { page, dialogs, errors } = yield* openPage
        for (const { slug } of PAYLOADS) {
          const response = yield* pw(() => page.goto(`${base}/p/${slug}`, { waitUntil: "load" }))
          assert.strictEqual(response?.status(), 200, slug)
          // Give any handler a chance: hover and click everything in the post.
          const targets = yield* pw(() => page.locator(".prose a, .prose p, .prose img, .prose button, .prose svg").all())
          for (const target of targets) {
            yield* pw(() => target.hover({ timeout: 1_000 })).pipe(Effect.ignore)
            yield* pw(() => target.click({ timeout: 1_000, noWaitAfter: true })).pipe(Effect.ignore)
          }
          if (page.url().startsWith(`${base}/p/${slug}`) === false) {
            yield* pw(() => page.goto(`${base}/p/${slug}`))
          }
          assert.isUndefined(yield* pwned(page), slug)
          const html = yield* pw(() => page.locator(".prose").innerHTML())
          assert.notMatch(html, /<script|onerror=|onload=|javascript:/i, slug)
        }
        assert.deepStrictEqual(dialogs, [])
        // The sanitizer removed every payload: nothing was even left for the CSP to refuse.
        assert.deepStrictEqual(errors.filter((e) => /Content Security Policy/i.test(e)), [])
      }))

    it.scoped("the Content-Security-Policy stops script in HTML that skipped the sanitizer", () =>
      Effect.gen(function* () {
        const base = yield* Base
        const { page, dialogs, errors } = yield* openPage
        yield* pw(() => page.goto(`${base}/p/unsanitized`))
        assert.strictEqual(yield* pw(() => page.locator("#rawjs").count()), 1)
        yield* pw(() => page.locator("#rawjs").click({ noWaitAfter: true }))
        assert.isUndefined(yield* pwned(page))
        assert.deepStrictEqual(dialogs, [])
        // Chromium reports what it refused.
        assert.isTrue(errors.some((e) => /Content Security Policy/i.test(e)), errors.join("\n"))
      }))

    it.scoped("on a phone (390px), a long word in an excerpt, a tag or a table of contents entry wraps rather than runs off the screen", () =>
      Effect.gen(function* () {
        const base = yield* Base
        const { page } = yield* openPage
        yield* pw(() => page.setViewportSize({ width: 390, height: 844 }))
        for (const [path, selectors] of [["/", ["p.excerpt", ".tags a"]], ["/p/long-words", [".toc a", ".tags a"]]] as const) {
          yield* pw(() => page.goto(`${base}${path}`))
          for (const selector of selectors) {
            // The text's own extent: a block's box keeps the column's width while its text runs out of it.
            const rights = yield* pw(() =>
              page.locator(selector).evaluateAll((nodes) =>
                nodes.map((node) => {
                  const range = document.createRange()
                  range.selectNodeContents(node)
                  return range.getBoundingClientRect().right
                })
              )
            )
            assert.isNotEmpty(rights, `${path} ${selector}`)
            for (const right of rights) assert.isAtMost(right, 390, `${path} ${selector}`)
          }
          const width = yield* pw(() => page.evaluate(() => document.documentElement.scrollWidth))
          assert.isAtMost(width, 390, `${path}: the page scrolls sideways`)
        }
      }))

    it.scoped("dark mode follows the system preference", () =>
      Effect.gen(function* () {
        const base = yield* Base
        const { page } = yield* openPage
        yield* pw(() => page.emulateMedia({ colorScheme: "light" }))
        yield* pw(() => page.goto(`${base}/`))
        const light = yield* pw(() => page.evaluate(() => getComputedStyle(document.body).backgroundColor))
        yield* pw(() => page.emulateMedia({ colorScheme: "dark" }))
        const dark = yield* pw(() => page.evaluate(() => getComputedStyle(document.body).backgroundColor))
        assert.notStrictEqual(light, dark)
        assert.strictEqual(dark, "rgb(23, 22, 20)")
      }))
  })
})
