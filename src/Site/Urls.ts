/**
 * Every URL the site links to, in one place, so pages, feeds and the sitemap agree.
 * `path` gives a link relative to the host (with SITE_URL's path prefix, for a site behind a
 * proxy at `/blog`); `absolute` resolves it against SITE_URL for feeds, canonical and OpenGraph.
 */
import { tagKey } from "../Domain/Post.js"
import type { SiteConfigShape } from "./SiteConfig.js"

export type FeedFormat = "rss" | "atom" | "json"

const FEED_FILES: Record<FeedFormat, string> = { rss: "rss.xml", atom: "atom.xml", json: "feed.json" }

export const FEED_TYPES: Record<FeedFormat, string> = {
  rss: "application/rss+xml",
  atom: "application/atom+xml",
  json: "application/feed+json"
}

/**
 * The `type` of the `<link rel="alternate">` by which every page names the API's posts list
 * (`routes.api`): `inkwell import --from-url` given the site's address reads that list, with
 * INKWELL_SOURCE_API_KEY, where a feed has only the public posts. A type of its own, not
 * `application/json`, which feed readers (and the import without a key) take for a JSON Feed.
 */
export const API_LINK_TYPE = "application/vnd.inkwell.posts+json"

/** A path segment: tags may hold spaces, slashes, `?` or `#`. */
const segment = (value: string): string => encodeURIComponent(value)

/**
 * A tag's path segment: its `tagKey`, so every spelling of a tag links to one address, which
 * depends on the tag alone (never on which spelling most posts use this week: a 301 to an address
 * that later moves back would loop in every browser that cached it).
 */
const tagSegment = (tag: string): string => segment(tagKey(tag))

/** Site-relative paths, without the base prefix. */
export const routes = {
  home: (page = 1): string => (page <= 1 ? "/" : `/page/${page}`),
  post: (slug: string): string => `/p/${segment(slug)}`,
  tag: (tag: string, page = 1): string => (page <= 1 ? `/tags/${tagSegment(tag)}` : `/tags/${tagSegment(tag)}/page/${page}`),
  feed: (format: FeedFormat, tag?: string): string =>
    tag === undefined ? `/${FEED_FILES[format]}` : `/tags/${tagSegment(tag)}/${FEED_FILES[format]}`,
  /** The site's sitemap: the one file, or the index of the files below when it needs several. */
  sitemap: (): string => "/sitemap.xml",
  /** The `n`th file of the posts' sitemap (from 1), oldest posts first. */
  sitemapPosts: (n: number): string => `/sitemap-posts-${n}.xml`,
  /** The `n`th file of the listing pages' sitemap (from 1): the home page, then each tag's page. */
  sitemapPages: (n: number): string => `/sitemap-pages-${n}.xml`,
  /** The search page; with `q`, its results (`page` from 2 on). */
  search: (q?: string, page = 1): string =>
    q === undefined ? "/search" : `/search?q=${encodeURIComponent(q)}${page > 1 ? `&page=${page}` : ""}`,
  stylesheet: (version: string): string => `/assets/site.css?v=${version}`,
  /** The API's posts list (`GET /posts`), served beside the site; a tag's, with `?tag=`. */
  api: (tag?: string): string => (tag === undefined ? "/posts" : `/posts?tag=${encodeURIComponent(tag)}`)
} as const

export interface Urls {
  /** SITE_URL's path (`/blog`), without a trailing slash; empty for a site at the root. */
  readonly prefix: string
  /** For links inside pages: the SITE_URL path prefix plus the route. */
  readonly path: (route: string) => string
  /** For feeds, canonical links and meta tags: SITE_URL plus the route. */
  readonly absolute: (route: string) => string
}

export const makeUrls = (config: Pick<SiteConfigShape, "url">): Urls => {
  const prefix = new URL(config.url).pathname.replace(/\/+$/, "")
  return {
    prefix,
    path: (route) => `${prefix}${route}`,
    absolute: (route) => `${config.url}${route}`
  }
}
