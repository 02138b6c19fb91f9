/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * The reader site's pages as preact components rendered to strings: every value is escaped by
 * the renderer, and the one exception is a post's stored `html`, which the processor sanitized
 * on write and is inserted as the body only (its headings moved under the title's: `pageHtml`).
 */
import { DateTime } from "effect"
import type { ComponentChildren, VNode } from "preact"
import { renderToString } from "preact-render-to-string"
import { announcedUpdateOf, CODE_SPAN, distinctTags, plainTitle, type Post, type TocEntry } from "../Domain/Post.js"
import { MAX_SEARCH_LENGTH } from "../Posts/internal/search.js"
import { MAIN_ID } from "../Processing/sanitize.js"
import { withoutForbiddenChars } from "./Characters.js"
import type { SiteConfigShape } from "./SiteConfig.js"
import { type SiteWords, type Strings, stringsFor } from "./Strings.js"
import { stylesheetVersion } from "./Theme.js"
import { API_LINK_TYPE, FEED_TYPES, type FeedFormat, routes, type Urls } from "./Urls.js"

export interface SiteContext {
  readonly config: SiteConfigShape
  readonly urls: Urls
}

/** A page of posts: the home page or a tag's page. */
export interface ListingView {
  readonly page: number
  readonly posts: ReadonlyArray<Post>
  /** True when a further (older) page exists. */
  readonly hasOlder: boolean
  /** Set on a tag's page: the tag as its posts spell it (`TagCount.tag`). */
  readonly tag?: string
}

export interface PostView {
  readonly post: Post
  /** The post published just before this one. */
  readonly previous: Post | undefined
  /** The post published just after this one. */
  readonly next: Post | undefined
}

/** When a post counts as published for readers: its publishedAt, else when it was stored. */
export const publishedAtOf = (post: Post): DateTime.Utc => post.publishedAt ?? post.createdAt

/**
 * The last change the author announced: an explicit `updated` date (never later than the post's
 * last write: `announcedUpdateOf`), else publication. Storage time is not it: a re-import
 * touches every post without changing a word.
 */
export const updatedAtOf = (post: Post): DateTime.Utc => {
  const announced = announcedUpdateOf(post)
  return announced === null ? publishedAtOf(post) : DateTime.max(announced, publishedAtOf(post))
}

/** When what readers see of `post` last changed, for HTTP validators and sitemaps: also storage time. */
export const modifiedAtOf = (post: Post): DateTime.Utc => DateTime.max(updatedAtOf(post), post.updatedAt)

/**
 * A title as inline content: `code` spans, common in technical titles, become <code>; the
 * rest stays text, escaped like everything else.
 */
export const InlineTitle = ({ title }: { title: string }) => (
  <>
    {title.split(CODE_SPAN).map((part, i) => (i % 2 === 1 ? <code>{part}</code> : part))}
  </>
)

const dateFormats = new Map<string, Intl.DateTimeFormat>()

const DAY_MS = 24 * 60 * 60 * 1000

/**
 * Whether `date` is what a calendar date without a time of day is stored as: that day's
 * midnight UTC (`date: 2019-09-30`, a `2019-09-30-` file name, `Processing/dates.ts`). The
 * store keeps no flag for it, and a re-import should not be needed to show it right.
 */
const isCalendarDay = (date: DateTime.Utc): boolean => DateTime.toEpochMillis(date) % DAY_MS === 0

/**
 * Dates are kept from year 0000 (`Processing/dates.ts`), which is 1 BC, and a zone west of UTC
 * moves its first hours into 2 BC; Intl writes a year without its era, so year 0 read "January
 * 1, 1", as year 1 does. A date whose era is not our own is written with it, in the site's
 * language and calendar ("January 1, 1 BC", "1. Januar 1 v. Chr.", "紀元前1年1月1日"). Only the
 * era as the calendar has it: a Thai site's Buddhist calendar counts that day as 543 BE, in its
 * one era, and a calendar that always names its era (Japanese) names it anyway. Dates after year
 * 100 are never looked at, so every other date reads as it did.
 */
const YEAR_100 = Date.parse("0100-01-01T00:00:00Z")
const A_DATE_OF_OUR_ERA = new Date(Date.parse("2000-01-01T00:00:00Z"))

const eraOf = (format: Intl.DateTimeFormat, date: Date): string | undefined =>
  format.formatToParts(date).find((part) => part.type === "era")?.value

const dateFormat = (language: string, zone: string, era: boolean): Intl.DateTimeFormat => {
  const key = `${language} ${zone} ${era}`
  let format = dateFormats.get(key)
  if (format === undefined) {
    format = new Intl.DateTimeFormat(language, {
      year: "numeric",
      month: "long",
      day: "numeric",
      timeZone: zone,
      ...(era ? { era: "short" } : {})
    })
    dateFormats.set(key, format)
  }
  return format
}

/**
 * `date` as readers read it: in `language`, on its day in `timeZone` (SITE_TIME_ZONE). A post
 * published at 23:30 UTC was dated the day before for a blog in Tokyo when shown in UTC.
 *
 * A calendar date (`isCalendarDay`) is that day wherever the site is, as Hugo and Jekyll read
 * a date-only front matter: shown in the site's zone, its UTC midnight was the day before west
 * of UTC ("2019-09-30" read "September 29, 2019" in New York). So an instant at exactly
 * 00:00:00.000 UTC is shown by its UTC date; the price is that the rare real timestamp at that
 * very millisecond is too. Only the text: a `datetime` attribute keeps the stored instant.
 */
export const formatDate = (date: DateTime.Utc, language: string, timeZone: string): string => {
  const zone = isCalendarDay(date) ? "UTC" : timeZone
  const instant = DateTime.toDateUtc(date)
  if (DateTime.toEpochMillis(date) < YEAR_100) {
    const withEra = dateFormat(language, zone, true)
    if (eraOf(withEra, instant) !== eraOf(withEra, A_DATE_OF_OUR_ERA)) return withEra.format(instant)
  }
  return dateFormat(language, zone, false).format(instant)
}

/**
 * The first instant a `<time datetime>` may name: HTML's dates have a year above 0, and
 * `0000-01-01T00:00:00.000Z`, which ISO 8601 reads as 1 BC, is no valid date there (nor is
 * "January 1, 1 BC" as the text of a `<time>` without the attribute).
 */
const FIRST_HTML_INSTANT = Date.parse("0001-01-01T00:00:00Z")

/** A heading's start or end tag in stored post HTML: `<h2 id="x">`, `</h2>`. */
const HEADING_TAG = /<(\/?)h([1-6])(?=[\s/>])/gi

/**
 * A post's stored HTML as its page shows it, under the title's `<h1>`: its headings moved so
 * the highest is an `<h2>` (`# Intro` is h2, `## Details` h3; `### Intro` first is h2 too), each
 * keeping its attributes (the `id`s the table of contents links to) and its distance to the
 * others; a move past h6 stays h6. Authors write either way: the title's `# Title` repeated or
 * several `#` sections (several `<h1>` on one page), or `###` sections (from h1 straight to h3).
 * Moving every post down one level would make the common `##` sections h3, the same jump. Feeds
 * carry the HTML as stored: there the entry's title is not an `<h1>`.
 *
 * A tag-level rewrite is safe here: the stored HTML is sanitized and well-formed, and a `<` of
 * text or of an attribute's value is escaped (`&lt;h1`), so `<hN` is always a tag.
 */
export const pageHtml = (html: string): string => {
  let top = 7
  for (const [, , level] of html.matchAll(HEADING_TAG)) top = Math.min(top, Number(level))
  const shift = top === 7 ? 0 : 2 - top
  return shift === 0
    ? html
    : html.replace(HEADING_TAG, (_, end: string, level: string) => `<${end}h${Math.min(6, Number(level) + shift)}`)
}

/** A post's one-paragraph description: the author's summary, else the excerpt. */
export const descriptionOf = (post: Post): string => post.summary ?? post.excerpt

// ---------------------------------------------------------------------------------------------
// Document shell
// ---------------------------------------------------------------------------------------------

interface Head {
  /** Shown before the site title in `<title>`; the site title alone when absent. */
  readonly title?: string
  readonly description: string
  /** Site-relative route of this page's canonical URL; none for error pages. */
  readonly canonical?: string
  readonly ogType: "website" | "article"
  /** Feeds of the current tag, offered next to the site's. */
  readonly tag?: string
  readonly article?: Post
  readonly noindex?: boolean
  /** What the header's search box shows: the query on the search page. */
  readonly query?: string
}

/** The site's words and direction (`Strings.ts`). */
const wordsOf = (config: Pick<SiteConfigShape, "language">): SiteWords => stringsFor(config.language)

/** Arrows that point back and on in the page's direction. */
const arrows = (direction: SiteWords["direction"]) => direction === "rtl" ? { back: "→", on: "←" } : { back: "←", on: "→" }

const FEED_LABELS: Record<FeedFormat, string> = { rss: "RSS", atom: "Atom", json: "JSON Feed" }
const FORMATS: ReadonlyArray<FeedFormat> = ["rss", "atom", "json"]

/** Round accent dot, so browsers do not ask for /favicon.ico. */
const FAVICON =
  "data:image/svg+xml," +
  encodeURIComponent(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#b4451f"/></svg>`
  )

/**
 * Where the API's posts list may be reached from outside: under SITE_URL's path behind a proxy
 * that strips it (`/blog/posts` reaching Inkwell as `/posts`), else at the root, where the API
 * stays. Both, best guess first, when SITE_URL has a path: the page cannot tell which proxy it
 * is behind, and the import passes over a link that leads to no API.
 */
const apiUrls = (urls: Urls, tag: string | undefined): ReadonlyArray<string> => {
  const underSite = urls.absolute(routes.api(tag))
  return urls.prefix === "" ? [underSite] : [underSite, new URL(routes.api(tag), underSite).href]
}

const Document = ({ site, head, children }: { site: SiteContext; head: Head; children: ComponentChildren }) => {
  const { config, urls } = site
  const fullTitle = head.title === undefined ? config.title : `${head.title} · ${config.title}`
  const canonical = head.canonical === undefined ? undefined : urls.absolute(head.canonical)
  const post = head.article
  const { strings: t, direction, ogLocale: locale } = wordsOf(config)
  return (
    <html lang={config.language} dir={direction}>
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{fullTitle}</title>
        <meta name="description" content={head.description} />
        <meta name="color-scheme" content="light dark" />
        {head.noindex === true && <meta name="robots" content="noindex" />}
        {canonical !== undefined && <link rel="canonical" href={canonical} />}
        <link rel="icon" href={FAVICON} />
        <link rel="stylesheet" href={urls.path(routes.stylesheet(stylesheetVersion))} />
        {/* The tag's feeds first: feed discovery (readers, `inkwell import --from-url`) takes the
            first link of a type, and on a tag page that found the whole site's feed. */}
        {head.tag !== undefined &&
          FORMATS.map((format) => (
            <link
              rel="alternate"
              type={FEED_TYPES[format]}
              title={`${config.title}: ${head.tag} (${FEED_LABELS[format]})`}
              href={urls.absolute(routes.feed(format, head.tag))}
            />
          ))}
        {FORMATS.map((format) => (
          <link
            rel="alternate"
            type={FEED_TYPES[format]}
            title={`${config.title} (${FEED_LABELS[format]})`}
            href={urls.absolute(routes.feed(format))}
          />
        ))}
        {/* After the feeds, which readers take; the tag's list on a tag page, as its feeds are. */}
        {apiUrls(urls, head.tag).map((href) => (
          <link
            rel="alternate"
            type={API_LINK_TYPE}
            title={`${config.title}${head.tag === undefined ? "" : `: ${head.tag}`} (Inkwell API)`}
            href={href}
          />
        ))}
        <meta property="og:site_name" content={config.title} />
        <meta property="og:type" content={head.ogType} />
        <meta property="og:title" content={head.title ?? config.title} />
        <meta property="og:description" content={head.description} />
        {locale !== undefined && <meta property="og:locale" content={locale} />}
        {canonical !== undefined && <meta property="og:url" content={canonical} />}
        {post !== undefined && (
          <>
            <meta property="article:published_time" content={DateTime.formatIso(publishedAtOf(post))} />
            <meta property="article:modified_time" content={DateTime.formatIso(updatedAtOf(post))} />
            {post.authors.map((author) => <meta property="article:author" content={author} />)}
            {distinctTags(post.tags).map(({ tag }) => <meta property="article:tag" content={tag} />)}
          </>
        )}
        <meta name="twitter:card" content="summary" />
        <meta name="twitter:title" content={head.title ?? config.title} />
        <meta name="twitter:description" content={head.description} />
      </head>
      <body>
        <a class="skip" href={`#${MAIN_ID}`}>{t.skipToContent}</a>
        <header class="site-header">
          <div class="wrap">
            <div>
              <a class="brand" href={urls.path(routes.home())}>{config.title}</a>
              {config.description !== "" && <p class="tagline">{config.description}</p>}
            </div>
            <nav class="site-nav" aria-label={t.siteNavigation}>
              <a href={urls.path(routes.home())}>{t.posts}</a>
              <a href={urls.path(routes.feed("rss"))}>RSS</a>
              <a href={urls.path(routes.feed("atom"))}>Atom</a>
              <a href={urls.path(routes.feed("json"))}>JSON Feed</a>
            </nav>
            {/* A plain GET form, no script: the CSP's form-action allows the site itself. */}
            <form class="search-form" role="search" action={urls.path(routes.search())} method="get">
              <input type="search" name="q" value={head.query ?? ""} placeholder={t.searchPosts} aria-label={t.searchPosts} maxLength={MAX_SEARCH_LENGTH} />
              <button type="submit">{t.search}</button>
            </form>
          </div>
        </header>
        <main id={MAIN_ID} class="wrap">{children}</main>
        <footer class="site-footer">
          <div class="wrap">
            <span>© {config.author}</span>
            <span>
              {t.subscribe} <a href={urls.path(routes.feed("rss", head.tag))}>RSS</a> ·{" "}
              <a href={urls.path(routes.feed("atom", head.tag))}>Atom</a> ·{" "}
              <a href={urls.path(routes.feed("json", head.tag))}>JSON Feed</a>
            </span>
          </div>
        </footer>
      </body>
    </html>
  )
}

// ---------------------------------------------------------------------------------------------
// Pieces
// ---------------------------------------------------------------------------------------------

/**
 * Shown in the site's language and time zone; `datetime` keeps the exact instant, in UTC. A date
 * in year 0000 (UTC), which HTML's `<time>` cannot hold, is the text alone.
 */
const Time = ({ date, config }: { date: DateTime.Utc; config: Pick<SiteConfigShape, "language" | "timeZone"> }) =>
  DateTime.toEpochMillis(date) < FIRST_HTML_INSTANT
    ? <span>{formatDate(date, config.language, config.timeZone)}</span>
    : <time dateTime={DateTime.formatIso(date)}>{formatDate(date, config.language, config.timeZone)}</time>

/** A post's tags as it spells them, one link per tag (its spellings differing in case are one tag). */
const Tags = ({ tags, urls, label }: { tags: ReadonlyArray<string>; urls: Urls; label: string }) =>
  tags.length === 0 ? null : (
    <ul class="tags" aria-label={label}>
      {distinctTags(tags).map(({ tag }) => (
        <li>
          <a href={urls.path(routes.tag(tag))} rel="tag">
            {tag}
          </a>
        </li>
      ))}
    </ul>
  )

const PostCard = ({ post, site }: { post: Post; site: SiteContext }) => {
  const t = wordsOf(site.config).strings
  return (
  <li class="post-card">
    <article>
      <h2>
        <a href={site.urls.path(routes.post(post.slug))}>
          <InlineTitle title={post.title} />
        </a>
      </h2>
      <div class="meta">
        <Time date={publishedAtOf(post)} config={site.config} />
        <span>{t.minutesToRead(post.readingTimeMinutes)}</span>
      </div>
      {descriptionOf(post) !== "" && <p class="excerpt">{descriptionOf(post)}</p>}
      <Tags tags={post.tags} urls={site.urls} label={t.tags} />
    </article>
  </li>
  )
}

/** Route of listing page `n`: the home page's, or the tag's. */
const pageRoute = (view: ListingView, page: number) =>
  view.tag === undefined ? routes.home(page) : routes.tag(view.tag, page)

/** Links to page `page - 1` and `page + 1` of a paged list (`route` of a page number), where there are such pages. */
const Pager = ({ page, hasNext, route, site, previous, next }: {
  page: number
  hasNext: boolean
  route: (page: number) => string
  site: SiteContext
  previous: string
  next: string
}) => {
  const { strings: t, direction } = wordsOf(site.config)
  const arrow = arrows(direction)
  return page <= 1 && !hasNext ? null : (
    <nav class="pager" aria-label={t.pages}>
      {page > 1 ? (
        <a href={site.urls.path(route(page - 1))} rel="prev">
          {arrow.back} {previous}
        </a>
      ) : (
        <span />
      )}
      <span class="current">{t.page(page)}</span>
      {hasNext ? (
        <a href={site.urls.path(route(page + 1))} rel="next">
          {next} {arrow.on}
        </a>
      ) : (
        <span />
      )}
    </nav>
  )
}

interface TocNode {
  readonly entry: TocEntry
  readonly children: Array<TocNode>
}

/** Nests a flat heading list by level; a jump of several levels nests one step. */
export const tocTree = (entries: ReadonlyArray<TocEntry>): Array<TocNode> => {
  const roots: Array<TocNode> = []
  const stack: Array<TocNode> = []
  for (const entry of entries) {
    const node: TocNode = { entry, children: [] }
    while (stack.length > 0 && stack[stack.length - 1]!.entry.level >= entry.level) stack.pop()
    const parent = stack[stack.length - 1]
    if (parent === undefined) roots.push(node)
    else parent.children.push(node)
    stack.push(node)
  }
  return roots
}

const TocList = ({ nodes }: { nodes: ReadonlyArray<TocNode> }): VNode => (
  <ol>
    {nodes.map((node) => (
      <li>
        <a href={`#${node.entry.id}`}>{node.entry.text}</a>
        {node.children.length > 0 && <TocList nodes={node.children} />}
      </li>
    ))}
  </ol>
)

const Toc = ({ entries, strings }: { entries: ReadonlyArray<TocEntry>; strings: Strings }) =>
  // One heading is not worth a table of contents.
  entries.length < 2 ? null : (
    <nav class="toc" aria-label={strings.tableOfContents}>
      <details open>
        <summary>{strings.contents}</summary>
        <TocList nodes={tocTree(entries)} />
      </details>
    </nav>
  )

const PostNav = ({ view, site }: { view: PostView; site: SiteContext }) => {
  const { strings: t, direction } = wordsOf(site.config)
  const arrow = arrows(direction)
  const urls = site.urls
  return view.previous === undefined && view.next === undefined ? null : (
    <nav class="post-nav" aria-label={t.morePosts}>
      {view.previous !== undefined && (
        <a class="previous" href={urls.path(routes.post(view.previous.slug))} rel="prev">
          <span class="label">{arrow.back} {t.previousPost}</span>
          <span class="title">
            <InlineTitle title={view.previous.title} />
          </span>
        </a>
      )}
      {view.next !== undefined && (
        <a class="next" href={urls.path(routes.post(view.next.slug))} rel="next">
          <span class="label">{t.nextPost} {arrow.on}</span>
          <span class="title">
            <InlineTitle title={view.next.title} />
          </span>
        </a>
      )}
    </nav>
  )
}

// ---------------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------------

/**
 * The page's markup, each character HTML forbids replaced (`withoutForbiddenChars`) wherever
 * they came from: a search query (`?q=%00%01` went into the title, the heading and the search
 * field), a post's title, summary or stored HTML. The renderer escapes markup, not these.
 */
const render = (page: VNode): string => withoutForbiddenChars(`<!doctype html>${renderToString(page)}`)

/** The home page (`tag` unset) or a tag's page. */
export const listingPage = (site: SiteContext, view: ListingView): string => {
  const { config, urls } = site
  const t = wordsOf(config).strings
  const onTag = view.tag !== undefined
  const heading = onTag ? t.postsTagged(view.tag) : undefined
  const title = onTag
    ? view.page > 1 ? t.titleOnPage(heading!, view.page) : heading
    : view.page > 1 ? t.page(view.page) : undefined
  return render(
    <Document
      site={site}
      head={{
        ...(title === undefined ? {} : { title }),
        description: onTag ? t.postsTaggedOn(view.tag, config.title) : config.description || config.title,
        canonical: pageRoute(view, view.page),
        ogType: "website",
        ...(view.tag === undefined ? {} : { tag: view.tag })
      }}
    >
      {onTag && (
        <>
          <h1 class="page-title">{heading}</h1>
          <p class="page-intro">
            <a href={urls.path(routes.feed("rss", view.tag))}>{t.followTag}</a> ·{" "}
            <a href={urls.path(routes.home())}>{t.allPosts}</a>
          </p>
        </>
      )}
      {!onTag && <h1 class="skip">{view.page > 1 ? t.titleOnPage(config.title, view.page) : config.title}</h1>}
      {view.posts.length === 0 ? (
        <p class="empty">{t.nothingPublished}</p>
      ) : (
        <ol class="post-list">
          {view.posts.map((post) => (
            <PostCard post={post} site={site} />
          ))}
        </ol>
      )}
      <Pager
        page={view.page}
        hasNext={view.hasOlder}
        route={(page) => pageRoute(view, page)}
        site={site}
        previous={t.newerPosts}
        next={t.olderPosts}
      />
    </Document>
  )
}

export const postPage = (site: SiteContext, view: PostView): string => {
  const { config, urls } = site
  const t = wordsOf(config).strings
  const post = view.post
  const published = publishedAtOf(post)
  const updated = updatedAtOf(post)
  // Updates within a day of publication are corrections, not news.
  const showUpdated = DateTime.toEpochMillis(updated) - DateTime.toEpochMillis(published) > DAY_MS
  return render(
    <Document
      site={site}
      head={{
        title: plainTitle(post.title),
        description: descriptionOf(post),
        canonical: routes.post(post.slug),
        ogType: "article",
        article: post
      }}
    >
      <article class="post">
        <header class="post-header">
          <h1>
            <InlineTitle title={post.title} />
          </h1>
          <div class="meta">
            <Time date={published} config={config} />
            {showUpdated && (
              <span>
                {t.updated} <Time date={updated} config={config} />
              </span>
            )}
            {post.authors.length > 0 && <span class="authors">{t.byAuthors(post.authors.join(", "))}</span>}
            <span>{t.minutesToRead(post.readingTimeMinutes)}</span>
          </div>
          <Tags tags={post.tags} urls={urls} label={t.tags} />
        </header>
        <Toc entries={post.toc} strings={t} />
        <div class="prose" dangerouslySetInnerHTML={{ __html: pageHtml(post.html) }} />
      </article>
      <PostNav view={view} site={site} />
    </Document>
  )
}

/** The search page: a query's results, or (`notice`) why there are none to show. */
export interface SearchView {
  /** What the reader typed, trimmed; empty when nothing was. */
  readonly query: string
  readonly page: number
  /** The page's results, most relevant first; absent when no search ran (see `notice`). */
  readonly posts?: ReadonlyArray<Post>
  /** True when a further page of results exists. */
  readonly hasMore?: boolean
  /** Why no search ran: nothing typed, too long, no search in this store. */
  readonly notice?: string
}

/** Results pages are not for search engines (noindex), and have no canonical address. */
export const searchPage = (site: SiteContext, view: SearchView): string => {
  const t = wordsOf(site.config).strings
  const searched = view.query !== "" && view.notice === undefined
  const heading = searched ? t.resultsFor(view.query) : t.search
  const posts = view.posts ?? []
  return render(
    <Document
      site={site}
      head={{
        title: searched && view.page > 1 ? t.titleOnPage(heading, view.page) : heading,
        description: t.searchThePostsOf(site.config.title),
        ogType: "website",
        noindex: true,
        query: view.query
      }}
    >
      <h1 class="page-title">{heading}</h1>
      {view.notice !== undefined ? (
        <p class="page-intro">{view.notice}</p>
      ) : posts.length === 0 ? (
        <p class="empty">{t.noPostsMatch(view.query)}</p>
      ) : (
        <>
          <p class="page-intro">{t.mostRelevantFirst}</p>
          <ol class="post-list">
            {posts.map((post) => (
              <PostCard post={post} site={site} />
            ))}
          </ol>
        </>
      )}
      <Pager
        page={view.page}
        hasNext={view.hasMore === true}
        route={(page) => routes.search(view.query, page)}
        site={site}
        previous={t.betterMatches}
        next={t.moreResults}
      />
    </Document>
  )
}

/** A page that is an answer's status: its code, what it means, why, and the way back home. */
const statusPage = (
  site: SiteContext,
  code: number,
  words: (t: Strings) => { readonly title: string; readonly heading: string },
  what: string
): string => {
  const { strings: t, direction } = wordsOf(site.config)
  const { title, heading } = words(t)
  return render(
    <Document site={site} head={{ title, description: what, ogType: "website", noindex: true }}>
      <section class="not-found">
        <p class="code">{code}</p>
        <h1>{heading}</h1>
        <p>{what}</p>
        <p>
          <a href={site.urls.path(routes.home())}>{arrows(direction).back} {t.backToAllPosts}</a>
        </p>
      </section>
    </Document>
  )
}

export const notFoundPage = (site: SiteContext, what: string): string =>
  statusPage(site, 404, (t) => ({ title: t.notFound, heading: t.pageNotFound }), what)

/** A request the site cannot read (a search whose `q` is no text): `what` says what is wrong. */
export const badRequestPage = (site: SiteContext, what: string): string =>
  statusPage(site, 400, (t) => ({ title: t.badRequest, heading: t.badRequest }), what)

/** A method the address does not take (a form posted to a page): `what` names it and those it takes. */
export const methodNotAllowedPage = (site: SiteContext, what: string): string =>
  statusPage(site, 405, (t) => ({ title: t.methodNotAllowed, heading: t.methodNotAllowed }), what)

/** A failed read: a 503 (`Unavailable`: try again soon) or a 500 (`message` says whose fault). */
export const errorPage = (site: SiteContext, status: 500 | 503, message: string): string => {
  const t = wordsOf(site.config).strings
  return render(
    <Document
      site={site}
      head={{ title: status === 503 ? t.unavailable : t.somethingWentWrong, description: message, ogType: "website", noindex: true }}
    >
      <section class="not-found">
        <p class="code">{status}</p>
        <h1>{t.somethingWentWrong}</h1>
        <p>{message}</p>
      </section>
    </Document>
  )
}
