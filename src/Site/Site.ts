/**
 * Site: what a reader can ask for, as documents. Each method looks posts up (published only:
 * a draft does not exist for readers, nor a scheduled post before its time, `isPublicAt`) and
 * renders them; HTTP concerns (headers, 304s) are in Routes.ts.
 */
import { Data, DateTime, Effect, Option } from "effect"
import { percentDecoded } from "../Http/Middleware.js"
import type { transience } from "../Database/Transient.js"
import type { RepositoryError } from "../Domain/Errors.js"
import type { Post } from "../Domain/Post.js"
import { isEmpty, MAX_SEARCH_LENGTH, MAX_SEARCH_WORDS, searchLength, searchTerms, searchWords } from "../Posts/internal/search.js"
import { isPublicAt, MAX_PAGE_SIZE, MAX_SEARCH_RESULTS, movedVisible, PostRepository } from "../Posts/PostRepository.js"
import * as Feeds from "./Feeds.js"
import * as Pages from "./Pages.js"
import * as Sitemaps from "./Sitemaps.js"
import { SiteConfig } from "./SiteConfig.js"
import { stylesheet } from "./Theme.js"
import { stringsFor } from "./Strings.js"
import { type FeedFormat, makeUrls, routes } from "./Urls.js"

/** Whether a failed read is one of the moment, and which (`transience`). */
type Transience = ReturnType<typeof transience>

/** A rendered document and what conditional GET needs to know about it. */
export interface Document {
  readonly contentType: string
  readonly body: string
  /** The newest change to what the document shows, for Last-Modified. */
  readonly lastModified?: DateTime.Utc | undefined
  /** A list anyone can ask new ones of (search results): its ETag says so (`isListEtag`). */
  readonly list?: true
}

/** Nothing for readers at this address: an unknown or draft slug, an empty tag, a page past the end. */
export class PageNotFound extends Data.TaggedError("PageNotFound")<{ readonly message: string }> {}

/** The page lives at `location` now (a post that moved to another slug): a permanent redirect. */
export class PageMoved extends Data.TaggedError("PageMoved")<{ readonly location: string }> {}

const HTML = "text/html; charset=utf-8"

const FEED_CONTENT_TYPES: Record<FeedFormat, string> = {
  rss: "application/rss+xml; charset=utf-8",
  atom: "application/atom+xml; charset=utf-8",
  json: "application/feed+json; charset=utf-8"
}

const FEED_RENDERERS: Record<FeedFormat, (input: Feeds.FeedInput) => string> = {
  rss: Feeds.rssFeed,
  atom: Feeds.atomFeed,
  json: Feeds.jsonFeed
}

const XML = "application/xml; charset=utf-8"

export class Site extends Effect.Service<Site>()("Inkwell/Site", {
  effect: Effect.gen(function* () {
    const repository = yield* PostRepository
    const config = yield* SiteConfig
    const urls = makeUrls(config)
    const context: Pages.SiteContext = { config, urls }
    const words = stringsFor(config.language).strings
    /** An empty feed's date (`FeedInput.startedAt`). */
    const startedAt = yield* DateTime.now

    const published = (
      query: { readonly tag?: string; readonly limit: number; readonly offset?: number; readonly cursor?: string },
      asOf: DateTime.Utc
    ) =>
      repository.list({ ...query, status: "published", asOf }).pipe(
        // The site only follows the cursors its own pages' `next` gave.
        Effect.catchTag("InvalidCursor", Effect.die)
      )

    /**
     * Every published post, newest first, a page of MAX_PAGE_SIZE at a time, handed to `onPage`
     * until it says stop (`false`) or none is left. Keyset cursors, so a post written meanwhile
     * neither repeats nor skips one; public as of the walk's start, so every page agrees.
     */
    const eachPublishedPage = (onPage: (posts: ReadonlyArray<Post>) => boolean) =>
      Effect.gen(function* () {
        const asOf = yield* DateTime.now
        let cursor: string | undefined
        for (;;) {
          const page = yield* published({ limit: MAX_PAGE_SIZE, ...(cursor === undefined ? {} : { cursor }) }, asOf)
          if (!onPage(page.items) || page.next === null) return
          cursor = page.next
        }
      })

    /**
     * `tag` as readers see it named (tags match whatever their case): the spelling most of its
     * public posts use, as `GET /tags` names it. Asked only once the tag is known to have posts.
     */
    const tagName = (tag: string, asOf: DateTime.Utc) =>
      Effect.map(repository.tags("published", asOf, tag), (found) => found[0]?.tag ?? tag)

    const listing = Effect.fn("Site.listing")(function* (page: number, tag?: string) {
      const now = yield* DateTime.now
      const result = yield* published({
        limit: config.pageSize,
        offset: (page - 1) * config.pageSize,
        ...(tag === undefined ? {} : { tag })
      }, now)
      if (result.items.length === 0 && (page > 1 || tag !== undefined)) {
        return yield* new PageNotFound({
          message: tag === undefined ? words.noPage(page) : page > 1 ? words.nothingTaggedOnPage(tag, page) : words.nothingTagged(tag)
        })
      }
      const view: Pages.ListingView = {
        page,
        posts: result.items,
        hasOlder: result.next !== null,
        ...(tag === undefined ? {} : { tag: yield* tagName(tag, now) })
      }
      return {
        contentType: HTML,
        body: Pages.listingPage(context, view),
        lastModified: Feeds.lastUpdated(result.items)
      } satisfies Document
    })

    /**
     * For a repository without a neighbour query: the listing read until just past `post`.
     * Recent posts, the ones most read, are found on the first page; an old one reads the blog.
     */
    const scannedNeighbours = (post: Post) => {
      const scanned: Array<Post> = []
      const at = () => scanned.findIndex((p) => p.id === post.id)
      return Effect.map(
        eachPublishedPage((page) => {
          scanned.push(...page)
          return at() === -1 || at() + 1 === scanned.length
        }),
        () => {
          const i = at()
          return { newer: i > 0 ? scanned[i - 1] : undefined, older: i === -1 ? undefined : scanned[i + 1] }
        }
      )
    }

    /** The public post at `slug` with its neighbours in publication order. */
    const post = Effect.fn("Site.post")(function* (slug: string) {
      const now = yield* DateTime.now
      const found = yield* repository.getBySlug(slug).pipe(
        Effect.catchTag("PostNotFound", () => Effect.succeed(undefined))
      )
      if (found === undefined || !isPublicAt(found, now)) {
        // A post that left this slug (renamed, or its title changed) is sent for where it is now.
        const moved = found === undefined && repository.movedFrom !== undefined
          ? movedVisible(yield* repository.movedFrom(slug), slug, now)
          : Option.none()
        if (Option.isSome(moved)) {
          return yield* new PageMoved({ location: urls.path(routes.post(moved.value.slug)) })
        }
        return yield* new PageNotFound({ message: words.noPostAt(slug) })
      }
      const { newer, older } = repository.neighbours !== undefined
        ? yield* repository.neighbours(found, "published", now)
        : yield* scannedNeighbours(found)
      const view: Pages.PostView = { post: found, next: newer, previous: older }
      const neighbours = [found, view.next, view.previous].filter((p): p is Post => p !== undefined)
      return {
        contentType: HTML,
        body: Pages.postPage(context, view),
        // Titles of the neighbours are on the page too.
        lastModified: Feeds.lastUpdated(neighbours)
      } satisfies Document
    })

    const feed = Effect.fn("Site.feed")(function* (format: FeedFormat, tag?: string) {
      const now = yield* DateTime.now
      const result = yield* published({ limit: Feeds.FEED_SIZE, ...(tag === undefined ? {} : { tag }) }, now)
      if (tag !== undefined && result.items.length === 0) {
        return yield* new PageNotFound({ message: words.nothingTagged(tag) })
      }
      const name = tag === undefined ? undefined : yield* tagName(tag, now)
      return {
        contentType: FEED_CONTENT_TYPES[format],
        body: FEED_RENDERERS[format]({ config, urls, posts: result.items, tag: name, startedAt }),
        lastModified: Feeds.lastUpdated(result.items)
      } satisfies Document
    })

    /** URLs per sitemap file (`Sitemaps.fileSize`). */
    const sitemapSize = Sitemaps.fileSize(config.sitemapSize, urls)
    const walk = Sitemaps.walkOf(repository)

    /** A sitemap document, its Last-Modified the newest of its `lastmod`s (the epoch for none). */
    const xmlDocument = (body: string, lastModified: DateTime.Utc | undefined): Document => ({
      contentType: XML,
      body,
      lastModified: lastModified ?? DateTime.unsafeMake(0)
    })

    /**
     * `/sitemap.xml`: every public URL in one file when they fit (`sitemapSize`), else the index
     * of the files that hold them (`Sitemaps`). Reads every public post, a few columns each.
     */
    const sitemap = Effect.fn("Site.sitemap")(function* () {
      const asOf = yield* DateTime.now
      const found = yield* Sitemaps.survey(walk, { asOf, size: sitemapSize, keep: sitemapSize })
      const [home, ...tags] = Sitemaps.pageEntries(found)
      if (1 + found.posts + tags.length <= sitemapSize) {
        return xmlDocument(Feeds.sitemap(urls, [home!, ...found.first.map(Sitemaps.postEntry), ...tags]), found.newest)
      }
      const files: Array<Feeds.SitemapEntry> = [
        ...found.postFiles.map((modified, i) => ({ route: routes.sitemapPosts(i + 1), lastModified: modified })),
        ...Sitemaps.filesOf([home!, ...tags], sitemapSize).map((file, i) => ({
          route: routes.sitemapPages(i + 1),
          lastModified: Sitemaps.newestOf(file)
        }))
      ]
      return xmlDocument(Feeds.sitemapIndex(urls, files), found.newest)
    })

    /** The `n`th file of the posts' sitemap: `sitemapSize` public posts from the `n - 1`th times that, oldest first. */
    const sitemapPosts = Effect.fn("Site.sitemapPosts")(function* (n: number) {
      const asOf = yield* DateTime.now
      const entries: Array<Feeds.SitemapEntry> = []
      yield* walk(
        { asOf, offset: (n - 1) * sitemapSize, count: sitemapSize, pageSize: Sitemaps.readSize(sitemapSize) },
        (page) => {
          for (const post of page) entries.push(Sitemaps.postEntry(post))
        }
      )
      if (entries.length === 0) return yield* new PageNotFound({ message: words.noSitemapOfPosts(n) })
      return xmlDocument(Feeds.sitemap(urls, entries), Sitemaps.newestOf(entries))
    })

    /** The `n`th file of the listing pages' sitemap: the home page, then every tag's page by key. */
    const sitemapPages = Effect.fn("Site.sitemapPages")(function* (n: number) {
      const asOf = yield* DateTime.now
      const found = yield* Sitemaps.survey(walk, { asOf, size: sitemapSize, keep: 0 })
      const entries = Sitemaps.pageEntries(found).slice((n - 1) * sitemapSize, n * sitemapSize)
      if (entries.length === 0) return yield* new PageNotFound({ message: words.noSitemapOfPages(n) })
      return xmlDocument(Feeds.sitemap(urls, entries), Sitemaps.newestOf(entries))
    })

    /**
     * The search page for what a reader typed (`q`, as it came): the public posts carrying its
     * words, most relevant first (`PostRepository.search`), `config.pageSize` a page. A query
     * without words, too long, of too many words, or a repository without search shows the form and says why,
     * rather than an error page: the reader is one edit away from a search that works.
     */
    const search = Effect.fn("Site.search")(function* (q: string, page: number) {
      const query = q.trim()
      const view = (found: Omit<Pages.SearchView, "query" | "page">): Document => ({
        contentType: HTML,
        body: Pages.searchPage(context, { query, page, ...found }),
        list: true,
        lastModified: found.posts === undefined ? undefined : Feeds.lastUpdated(found.posts)
      })
      // A search that ran nothing has one page: past it is a 404, as past the end of one that
      // ran or of a listing. `/search?page=2` was a 200 whose pager led back ("← Better
      // matches") from a page of nothing.
      const onlyPage = (found: Omit<Pages.SearchView, "query" | "page">) =>
        page > 1 ? Effect.fail(new PageNotFound({ message: words.noResultsPage(page) })) : Effect.succeed(view(found))
      if (query === "") return yield* onlyPage({ notice: words.typeToSearch })
      if (searchLength(query) > MAX_SEARCH_LENGTH) return yield* onlyPage({ notice: words.searchAtMost(MAX_SEARCH_LENGTH) })
      // As the API refuses them (400 naming q): searched without the words past the limit, a query
      // found posts lacking them.
      if (searchWords(query) > MAX_SEARCH_WORDS) return yield* onlyPage({ notice: words.searchAtMostWords(MAX_SEARCH_WORDS) })
      if (isEmpty(searchTerms(query))) return yield* onlyPage({ posts: [], hasMore: false })
      if (repository.search === undefined) return yield* onlyPage({ notice: words.searchUnavailable })
      // As the API refuses a deeper offset: only the first MAX_SEARCH_RESULTS results have pages.
      if ((page - 1) * config.pageSize >= MAX_SEARCH_RESULTS) {
        return yield* new PageNotFound({ message: words.resultsEndAt(page, MAX_SEARCH_RESULTS) })
      }
      const found = yield* repository.search({
        text: query,
        status: "published",
        asOf: yield* DateTime.now,
        limit: config.pageSize,
        offset: (page - 1) * config.pageSize
      })
      if (found.items.length === 0 && page > 1) return yield* new PageNotFound({ message: words.noResultsPage(page) })
      return view({ posts: found.items, hasMore: found.more })
    })

    /**
     * Where an old address of a post lives now: the page of the public post listing the
     * (decoded) request `path` among its aliases, as a link (`Urls.path`, with the base path).
     * Aliases are relative to the site's root: the site is served with and without SITE_URL's
     * path (a proxy may strip it or pass it on: Routes, `withoutPrefix`), so `path` is looked up
     * as it came and, when it still starts with that path, without it too. None when the repository cannot look
     * aliases up (`findByAlias` is optional).
     */
    const decodedPrefix = (percentDecoded(urls.prefix) ?? urls.prefix).normalize("NFC")
    const aliasTarget = (path: string): Effect.Effect<Option.Option<string>, RepositoryError> => {
      const findByAlias = repository.findByAlias
      if (findByAlias === undefined) return Effect.succeed(Option.none())
      // `urls.prefix` is as links carry it, percent-encoded (`/bl%C3%B6g`); `path` came decoded.
      const base = decodedPrefix
      const composed = path.normalize("NFC")
      const stripped = base !== "" && (composed === base || composed.startsWith(`${base}/`))
        ? composed.slice(base.length)
        : undefined
      const found = Effect.flatMap(DateTime.now, (now) =>
        stripped === undefined
          ? findByAlias(path, now)
          : Effect.flatMap(findByAlias(path, now), (slug) => (Option.isSome(slug) ? Effect.succeed(slug) : findByAlias(stripped, now))))
      return Effect.map(found, Option.map((slug) => urls.path(routes.post(slug))))
    }

    /**
     * When what readers see next changes with no write: the time of the first scheduled post due
     * after `after` (`PostRepository.nextScheduled`, one indexed lookup). None when none is
     * scheduled, or when the repository cannot tell (the method is optional).
     */
    const nextChange = (after: DateTime.Utc): Effect.Effect<Option.Option<DateTime.Utc>, RepositoryError> =>
      repository.nextScheduled === undefined ? Effect.succeedNone : repository.nextScheduled(after)

    const robots: Document = { contentType: "text/plain; charset=utf-8", body: Feeds.robots(urls) }

    const css: Document = { contentType: "text/css; charset=utf-8", body: stylesheet }

    const notFound = (error: PageNotFound): Document => ({
      contentType: HTML,
      body: Pages.notFoundPage(context, error.message)
    })

    /** A request the site cannot read: `message` says why (a 400). */
    const badRequest = (message: string): Document => ({
      contentType: HTML,
      body: Pages.badRequestPage(context, message)
    })

    /** `method` at `path`, which takes only `allowed` (its `Allow`). */
    const methodNotAllowed = (method: string, path: string, allowed: ReadonlyArray<string>): Document => ({
      contentType: HTML,
      body: Pages.methodNotAllowedPage(context, words.notAMethodOf(method, path, allowed))
    })

    /**
     * What readers are told of a failed read, as the API answers it: a failure of the moment
     * (`transience`: the database busy or unreachable) is a 503, to be tried again soon; any
     * other (a statement the database refused) a 500, which trying again will not mend.
     */
    const failure = (kind: Transience): { readonly status: 500 | 503; readonly document: Document } => {
      const page = (status: 500 | 503, message: string) => ({
        status,
        document: { contentType: HTML, body: Pages.errorPage(context, status, message) }
      })
      switch (kind) {
        case "busy":
          return page(503, words.databaseBusy)
        case "unreachable":
          return page(503, words.databaseUnreachable)
        case undefined:
          return page(500, words.ourFault)
      }
    }

    return {
      home: (page: number) => listing(page),
      tag: (tag: string, page: number) => listing(page, tag),
      post,
      aliasTarget,
      search,
      nextChange,
      feed,
      sitemap,
      sitemapPosts,
      sitemapPages,
      robots,
      css,
      notFound,
      badRequest,
      methodNotAllowed,
      failure,
      /** The site's words, for what `Routes` says itself (a page number that is not one). */
      words
    } as const
  })
}) {}
