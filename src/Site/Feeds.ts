/**
 * Feeds and discovery files as pure functions of the posts they list: RSS 2.0, Atom 1.0,
 * JSON Feed 1.1, sitemap.xml and robots.txt.
 *
 * XML is built with fast-xml-parser's XMLBuilder, which escapes every text node and attribute;
 * nothing here concatenates user data into markup unescaped. The sitemap alone is written as
 * strings (`sitemapXml`, for speed), every text escaped as XMLBuilder escapes it. Post HTML goes in as escaped text (RSS
 * `content:encoded`, Atom `type="html"`), with relative links made absolute so a feed reader,
 * which has no page to resolve them against, can follow them. The JSON Feed is the importer's
 * own writer (`Sources/JsonFeed.ts`), so what one Inkwell serves another imports with its slugs.
 */
import { DateTime } from "effect"
import { XMLBuilder } from "fast-xml-parser"
import { distinctTags, plainTitle, type Post, tagKey } from "../Domain/Post.js"
import { escapeHtml, resolveLinks } from "../Sources/html.js"
import { feedItemId, toJsonFeed } from "../Sources/JsonFeed.js"
import { withoutForbiddenChars } from "./Characters.js"
import { descriptionOf, modifiedAtOf, publishedAtOf, updatedAtOf } from "./Pages.js"
import type { SiteConfigShape } from "./SiteConfig.js"
import { stringsFor } from "./Strings.js"
import { routes, type Urls } from "./Urls.js"

/** Items in every feed: the newest published posts. */
export const FEED_SIZE = 20

export interface FeedInput {
  readonly config: SiteConfigShape
  readonly urls: Urls
  /** Newest first, already limited to what the feed shows. */
  readonly posts: ReadonlyArray<Post>
  /** The feed of one tag, when set. */
  readonly tag?: string | undefined
  /**
   * When the site started serving: an empty Atom feed's `updated`, which Atom requires (the
   * epoch said "1970-01-01"). Fixed for the process, so the feed's bytes, and its ETag (made
   * over them), do not change from one request to the next. Absent: the epoch.
   */
  readonly startedAt?: DateTime.Utc | undefined
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  // `isPermaLink="false"` must stay an attribute with a value.
  suppressBooleanAttributes: false,
  suppressEmptyNode: true,
  format: true,
  indentBy: "  "
})

/**
 * Every string in the tree, each character XML cannot hold replaced (the pages' list:
 * `withoutForbiddenChars`); the value of a key in `kept` as it is.
 */
const cleanTree = (node: unknown, kept?: ReadonlySet<string>): unknown => {
  if (typeof node === "string") return withoutForbiddenChars(node)
  if (Array.isArray(node)) return node.map((item) => cleanTree(item, kept))
  if (typeof node === "object" && node !== null) {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, kept?.has(key) === true ? value : cleanTree(value, kept)]))
  }
  return node
}

/**
 * What the JSON Feed leaves as written: `_inkwell`, the post as stored for another Inkwell to
 * import (its title as written), not text shown to readers; JSON escapes what it must.
 */
const JSON_FEED_KEPT: ReadonlySet<string> = new Set(["_inkwell"])

const XML_DECLARATION = { "?xml": { "@_version": "1.0", "@_encoding": "UTF-8" } }

const buildXml = (root: Record<string, unknown>): string =>
  builder.build({ ...XML_DECLARATION, ...(cleanTree(root) as Record<string, unknown>) }) as string

/** The newest change among `posts`; the Unix epoch for none, so an empty feed is still stable. */
export const lastUpdated = (posts: ReadonlyArray<Post>): DateTime.Utc =>
  posts.reduce<DateTime.Utc>((latest, post) => DateTime.max(latest, modifiedAtOf(post)), DateTime.unsafeMake(0))

const feedTitle = ({ config, tag }: FeedInput) => (tag === undefined ? config.title : `${config.title}: ${tag}`)

const feedDescription = ({ config, tag }: FeedInput) =>
  tag === undefined ? config.description || config.title : stringsFor(config.language).strings.postsTaggedOn(tag, config.title)

const homeRoute = ({ tag }: FeedInput) => (tag === undefined ? routes.home() : routes.tag(tag))

const postUrl = (urls: Urls, post: Post) => urls.absolute(routes.post(post.slug))

/** In-page links too (`#note`): a reader would resolve them against the feed's URL. */
const contentOf = (urls: Urls, post: Post) => resolveLinks(post.html, postUrl(urls, post), { fragments: true })

/**
 * An item's categories: one per tag whatever its case ("Rust" and "rust" on one post were two
 * categories), each as the post's page links it (`distinctTags`: the post's first spelling),
 * and in a tag's feed that tag as its page names it (`FeedInput.tag`), so every item of the feed
 * agrees with its title. Other tags keep the post's spelling: naming each as its page does would
 * cost a count over every tag per feed, and feeds are the answers polled most.
 */
const categoriesOf = (post: Post, feedTag?: string): ReadonlyArray<string> => {
  const named = feedTag === undefined ? undefined : { key: tagKey(feedTag), tag: feedTag }
  return distinctTags(post.tags).map(({ key, tag }) => (named?.key === key ? named.tag : tag))
}

/**
 * The first instant RSS can date. RFC 822 (with RSS's four-digit years) spells "01 Jan 0000",
 * but readers take any year under 100 for a two-digit one: `Date.parse` (and so our own
 * importer), Python's `email.utils` (and so feedparser) read it as 2000, "0099" as 1999. A
 * post that old is written with no `pubDate` (optional in RSS 2.0) rather than with one every
 * reader misdates by centuries; years 0100-9999 read as written. Atom's and JSON Feed's RFC
 * 3339 and OpenGraph's ISO 8601 write year 0000 as it is (dates are kept within 0000-9999).
 */
const FIRST_RSS_INSTANT = Date.parse("0100-01-01T00:00:00Z")

/** `date` as RSS writes it (RFC 822, four-digit year, GMT); undefined before `FIRST_RSS_INSTANT`. */
const rssDate = (date: DateTime.Utc): string | undefined =>
  DateTime.toEpochMillis(date) < FIRST_RSS_INSTANT ? undefined : DateTime.toDateUtc(date).toUTCString()

/** RSS 2.0 with `content:encoded` for the full post and `atom:link rel="self"`. */
export const rssFeed = (input: FeedInput): string => {
  const { config, urls, posts, tag } = input
  return buildXml({
    rss: {
      "@_version": "2.0",
      "@_xmlns:atom": "http://www.w3.org/2005/Atom",
      "@_xmlns:content": "http://purl.org/rss/1.0/modules/content/",
      "@_xmlns:dc": "http://purl.org/dc/elements/1.1/",
      channel: {
        title: feedTitle(input),
        link: urls.absolute(homeRoute(input)),
        description: feedDescription(input),
        language: config.language,
        // Optional: an empty blog has no build date to claim (the epoch read "1 January 1970").
        lastBuildDate: posts.length === 0 ? undefined : rssDate(lastUpdated(posts)),
        generator: "Inkwell",
        "atom:link": {
          "@_href": urls.absolute(routes.feed("rss", tag)),
          "@_rel": "self",
          "@_type": "application/rss+xml"
        },
        item: posts.map((post) => ({
          // Plain text to readers, as the page's <title>: no markdown backticks.
          title: plainTitle(post.title),
          link: postUrl(urls, post),
          // Not the link: an id for the post's life (`feedItemId`), the same as Atom's and JSON Feed's.
          guid: { "#text": feedItemId(post), "@_isPermaLink": "false" },
          pubDate: rssDate(publishedAtOf(post)),
          // An item's description is HTML to feed readers (RSS Best Practices Profile); the
          // summary is plain text, so "cargo update --precise <yanked>" lost its "<yanked>".
          description: escapeHtml(descriptionOf(post)),
          "content:encoded": contentOf(urls, post),
          "dc:creator": post.authors.length > 0 ? post.authors.join(", ") : undefined,
          category: categoriesOf(post, tag)
        }))
      }
    }
  })
}

/** Atom 1.0 (RFC 4287): entries carry the full HTML as `content type="html"`. */
export const atomFeed = (input: FeedInput): string => {
  const { config, urls, posts, tag } = input
  const self = urls.absolute(routes.feed("atom", tag))
  return buildXml({
    feed: {
      "@_xmlns": "http://www.w3.org/2005/Atom",
      "@_xml:lang": config.language,
      id: self,
      title: feedTitle(input),
      subtitle: feedDescription(input),
      updated: DateTime.formatIso(posts.length === 0 && input.startedAt !== undefined ? input.startedAt : lastUpdated(posts)),
      link: [
        { "@_rel": "self", "@_type": "application/atom+xml", "@_href": self },
        { "@_rel": "alternate", "@_type": "text/html", "@_href": urls.absolute(homeRoute(input)) }
      ],
      // Required at feed level when an entry names no author.
      author: { name: config.author },
      generator: "Inkwell",
      entry: posts.map((post) => ({
        id: feedItemId(post),
        title: { "@_type": "text", "#text": plainTitle(post.title) },
        updated: DateTime.formatIso(updatedAtOf(post)),
        published: DateTime.formatIso(publishedAtOf(post)),
        link: { "@_rel": "alternate", "@_type": "text/html", "@_href": postUrl(urls, post) },
        author: post.authors.length > 0 ? post.authors.map((name) => ({ name })) : undefined,
        category: categoriesOf(post, tag).map((term) => ({ "@_term": term })),
        summary: { "@_type": "text", "#text": descriptionOf(post) },
        content: { "@_type": "html", "#text": contentOf(urls, post) }
      }))
    }
  })
}

/** JSON Feed 1.1 (https://jsonfeed.org/version/1.1), with the site as the feed's author. */
export const jsonFeed = (input: FeedInput): string => {
  const { config, urls, posts, tag } = input
  const feed = toJsonFeed(posts, {
    title: feedTitle(input),
    url: urls.absolute(homeRoute(input)),
    feedUrl: urls.absolute(routes.feed("json", tag)),
    description: feedDescription(input),
    language: config.language,
    postUrl: (post) => postUrl(urls, post),
    // As RSS's and Atom's categories: in a tag's feed, every item names that tag one way.
    tagsOf: (post) => categoriesOf(post, tag)
  })
  // Cleaned as the pages, RSS and Atom are: content_html, summary and titles kept U+0001,
  // U+0085 or U+FFFE, which readers then showed (or parsed into a link's scheme) as they were.
  return JSON.stringify(cleanTree({ ...feed, authors: [{ name: config.author }] }, JSON_FEED_KEPT), null, 2)
}

export interface SitemapEntry {
  /** Site-relative route. */
  readonly route: string
  readonly lastModified?: DateTime.Utc | undefined
}

/** `&`, `<`, `>`, `'` and `"` as XMLBuilder writes them in text, for `sitemapXml`. */
const XML_ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&apos;", "\"": "&quot;" }

/** Text as `buildXml` writes it: cleaned as `cleanTree` cleans it (`withoutForbiddenChars`), then escaped as XMLBuilder escapes it. */
const escapeXml = (value: string): string => withoutForbiddenChars(value).replace(/[&<>'"]/g, (c) => XML_ESCAPES[c]!)

const SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"

/**
 * A sitemaps.org 0.9 document of `element` entries (`url` or `sitemap`) under `root`, written as
 * strings, byte for byte what XMLBuilder wrote for it: the sitemap is the one document that lists
 * the whole blog, and XMLBuilder took 0.6 s of one event-loop turn for 50,000 entries (0.14 s for
 * 10,000), where this takes a tenth of it.
 */
const sitemapXml = (root: string, element: string, urls: Urls, entries: ReadonlyArray<SitemapEntry>): string => {
  const parts = [`<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${SITEMAP_NS}">\n`]
  for (const entry of entries) {
    parts.push(`  <${element}>\n    <loc>${escapeXml(urls.absolute(entry.route))}</loc>\n`)
    if (entry.lastModified !== undefined) parts.push(`    <lastmod>${DateTime.formatIso(entry.lastModified)}</lastmod>\n`)
    parts.push(`  </${element}>\n`)
  }
  parts.push(`</${root}>\n`)
  return parts.join("")
}

/**
 * sitemaps.org 0.9. A sitemap holds at most 50,000 URLs and 50 MB; callers list fewer
 * (`Sitemaps.fileSize`).
 */
export const sitemap = (urls: Urls, entries: ReadonlyArray<SitemapEntry>): string => sitemapXml("urlset", "url", urls, entries)

/** What sitemaps.org allows one sitemap file (and a sitemap index): 50,000 URLs, 50 MB (52,428,800 bytes). */
export const SITEMAP_MAX_URLS = 50_000
export const SITEMAP_MAX_BYTES = 52_428_800

const utf8 = new TextEncoder()

/**
 * The longest route a sitemap may list, as written in it: a post's, whose slug has up to 200 code
 * points, or a tag's, whose key has up to 200 (a tag's 100, each lowercased to at most 2: "İ" is
 * "i̇"); each code point is at most 4 UTF-8 bytes, each written `%XX` (or a `'` as `&apos;`).
 */
const LONGEST_ROUTE = Math.max(routes.post("").length + 200 * 12, routes.tag("").length + 200 * 12)

/**
 * How many entries `sitemap(urls, ...)` may hold and stay within SITEMAP_MAX_BYTES whatever its
 * routes: every one as long as LONGEST_ROUTE allows, each with a date as long as any.
 */
export const sitemapEntriesWithin = (urls: Urls): number => {
  const empty = utf8.encode(sitemap(urls, [])).length
  const longest = utf8.encode(sitemap(urls, [{ route: "", lastModified: DateTime.unsafeMake(-8.64e15) }])).length - empty + LONGEST_ROUTE
  return Math.floor((SITEMAP_MAX_BYTES - empty) / longest)
}

/** A sitemap index (sitemaps.org 0.9): the sitemaps at `entries`' routes, each with its newest `lastmod`. */
export const sitemapIndex = (urls: Urls, entries: ReadonlyArray<SitemapEntry>): string =>
  sitemapXml("sitemapindex", "sitemap", urls, entries)

export const robots = (urls: Urls): string =>
  ["User-agent: *", "Allow: /", "", `Sitemap: ${urls.absolute(routes.sitemap())}`, ""].join("\n")
