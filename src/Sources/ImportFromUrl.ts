/**
 * The hook between remote sources and the import pipeline: `SourceItem`s become the pipeline's
 * `ImportItem`s, and a source that fails outright (unreachable, not a feed) becomes one failure
 * in the summary, so `inkwell import --from-url` and `POST /posts/import-url` report it like a
 * bad file rather than crashing.
 */
import { FileSystem } from "@effect/platform"
import { Effect, Stream } from "effect"
import type { FeedClient } from "../Clients/FeedClient.js"
import type { ImportOptions } from "../Import/ImportConfig.js"
import * as ImportPipeline from "../Import/ImportPipeline.js"
import type { ImportItem } from "../Import/ImportSource.js"
import type { ImportSummary } from "../Import/ImportSummary.js"
import type { PostProcessor } from "../Processing/PostProcessor.js"
import type { PostRepository } from "../Posts/PostRepository.js"
import { type FeedRead, fromUrl, type FromUrlOptions, type InkwellRead } from "./FeedSource.js"
import type { SourceItem } from "./SourceItem.js"

/**
 * A source's item as the pipeline's: `Entry` → `Record` (with its `createdAt`, `id`, former
 * sources and `internalLinks`), `Rejected` → `Rejected`.
 */
const toImportItem = (item: SourceItem): ImportItem => {
  if (item._tag === "Rejected") return { _tag: "Rejected", identity: item.source, reason: item.reason, skipped: item.skipped, bytes: 0 }
  return {
    _tag: "Record",
    identity: item.source,
    source: item.source,
    input: item.input,
    bytes: item.input.body.length,
    ...(item.createdAt === undefined ? {} : { createdAt: item.createdAt }),
    ...(item.formerSources === undefined ? {} : { formerSources: item.formerSources }),
    ...(item.id === undefined ? {} : { id: item.id }),
    ...(item.internalLinks === undefined ? {} : { internalLinks: item.internalLinks })
  }
}

/** Each item as the pipeline's (`toImportItem`); a failure of the whole source → one `Rejected` named `name`. */
export const toImportItems = <E extends { readonly message: string }, R>(
  name: string,
  items: Stream.Stream<SourceItem, E, R>
): Stream.Stream<ImportItem, never, R> =>
  items.pipe(
    Stream.map(toImportItem),
    Stream.catchAll((error) =>
      Stream.succeed<ImportItem>({
        _tag: "Rejected",
        identity: name,
        // The errors start with the URL they are about; when that is `name`, the report already says it.
        reason: error.message.startsWith(`${name}: `) ? error.message.slice(name.length + 2) : error.message,
        skipped: false,
        bytes: 0
      })
    )
  )

/**
 * Imports everything `urls` serve (feeds, another Inkwell, a Ghost export over HTTP), one after
 * the other, through the same pipeline as file imports. Never fails: every problem is in the
 * summary. No file system is touched.
 */
export const importFromUrls = (
  urls: ReadonlyArray<string>,
  options: Partial<ImportOptions> & { readonly source?: FromUrlOptions | undefined } = {},
  runOptions: ImportPipeline.RunOptions = {}
): Effect.Effect<ImportSummary, never, FeedClient | PostProcessor | PostRepository> => {
  const { source, ...importOptions } = options
  const keyless = keylessSources(source)
  const items = Stream.fromIterable(urls).pipe(Stream.flatMap((url) => toImportItems(url, fromUrl(url, keyless.options))))
  // A dry run too: it checks each batch against the repository and writes nothing.
  const run = Effect.map(
    ImportPipeline.run(items, importOptions, runOptions),
    keyless.warn("POST /posts/import-url sends none: move them with inkwell import --from-url and INKWELL_SOURCE_API_KEY, or with inkwell export and import")
  )
  return Effect.provide(run, FileSystem.layerNoop({})).pipe(Effect.withSpan("ImportFromUrl.importFromUrls"))
}

/**
 * `options` that note each source read as another Inkwell without a key (only its public posts
 * come: no drafts, no scheduled posts), and `warn`, which adds a warning for each to a summary,
 * ending with `remedy`: an import that says nothing looks like the whole blog. So is an Inkwell
 * site read through its feed (its API did not answer: the newest public posts only), and, when
 * `apiKey` was given and no source was read with it, each URL read otherwise (a feed): the key
 * was given for drafts that did not come.
 */
export const keylessSources = (options: FromUrlOptions = {}) => {
  const keyless: Array<string> = []
  let keyUsed = false
  const feeds: Array<FeedRead> = []
  const warnings = (remedy: string): Array<{ readonly source: string; readonly reason: string }> => [
    ...keyless.map((url) => ({
      source: url,
      reason: `read without a key: only its public posts were imported (no drafts or scheduled posts); ${remedy}`
    })),
    ...feeds.flatMap((feed) => {
      const reason = feed.inkwellApi !== undefined
        ? apiNotRead(feed, feed.inkwellApi.failure)
        : options.apiKey !== undefined && !keyUsed
        ? keyUnused(feed)
        : undefined
      return reason === undefined ? [] : [{ source: feed.given, reason }]
    })
  ]
  return {
    options: {
      ...options,
      onInkwell: (source: InkwellRead) =>
        Effect.zipRight(
          Effect.sync(() => {
            if (source.keyed) keyUsed = true
            else keyless.push(source.url)
          }),
          options.onInkwell?.(source) ?? Effect.void
        ),
      onFeed: (source: FeedRead) =>
        Effect.zipRight(
          Effect.sync(() => {
            feeds.push(source)
          }),
          options.onFeed?.(source) ?? Effect.void
        )
    } satisfies FromUrlOptions,
    warn: (remedy: string) => (summary: ImportSummary): ImportSummary => {
      const added = warnings(remedy)
      return added.length === 0 ? summary : { ...summary, warnings: [...summary.warnings, ...added] }
    }
  }
}

const FORMATS: Record<FeedRead["format"], string> = { rss: "an RSS feed", atom: "an Atom feed", "json-feed": "a JSON Feed", ghost: "a Ghost export" }

/** An Inkwell site whose page names its API, which did not answer as one: its feed was read. */
const apiNotRead = (feed: FeedRead, failure: string): string =>
  `an Inkwell site, read through ${FORMATS[feed.format]} (${feed.url}), which lists its newest public posts only: ` +
  `the API its page names did not answer as one (${failure}); give --from-url the URL its API answers at`

/**
 * A key given was of no use for `feed` (a feed, or the page of an Inkwell that names no API,
 * as earlier versions' pages did): said with where an Inkwell serves its API.
 */
const keyUnused = (feed: FeedRead): string =>
  `INKWELL_SOURCE_API_KEY was not used: read as ${FORMATS[feed.format]} (${feed.url}), not through another Inkwell's API, ` +
  `so only what it lists was imported (no drafts or scheduled posts); for another Inkwell, give --from-url its API's posts list ` +
  `(${new URL("/posts", feed.given).href} for a server at the root of its origin)`
