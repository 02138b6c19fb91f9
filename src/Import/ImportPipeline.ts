/**
 * The import pipeline:
 *
 *   source Stream ─► Processor (bounded input queue, N fibers, each taking up to `recordBatch`
 *   queued items: NDJSON lines of one file parsed and rendered together by
 *   `PostProcessor.fromLines`, anything else read + processed one by one with a per-post timeout;
 *   failures isolated per post) ─► bounded output queue ─► back into input order (a reorder
 *   buffer of at most `reorderWindow` items) ─► duplicate-slug check ─► batches ─►
 *   `PostRepository.upsertMany` (one transaction per batch, through the DatabasePool) ─► once the
 *   input is read to its end, the internal links (`@/...`) resolved to a post not stored yet, checked
 *
 * Memory is bounded by the queue capacities, the batch size and the posts in flight (N chunks),
 * never by the input's size: the slugs and sources the run has met, to find duplicates, are
 * kept on disk (`ImportLedger`).
 *
 * Stopping: interrupting the run (a signal, `timeout`) stops the reader and the workers; a batch
 * being written is uninterruptible, so it commits as a whole and is counted, or has not started.
 */
import { FileSystem } from "@effect/platform"
import { Cause, Chunk, Clock, DateTime, Deferred, Duration, Effect, Either, Exit, Option, Stream } from "effect"
import { isDatabaseError, transienceOf } from "../Database/Transient.js"
import { describeFailure } from "../Domain/describeFailure.js"
import { yieldWhenBusy } from "../Domain/yieldToEventLoop.js"
import { InvalidPost } from "../Domain/Errors.js"
import { NewPost, type PostId } from "../Domain/Post.js"
import { PostProcessor, type PostProcessorShape } from "../Processing/PostProcessor.js"
import { futureUpdate } from "../Processing/dates.js"
import { internalLinks } from "../Processing/internalLinks.js"
import { storedBody, updatedDateKey } from "../Processing/processPost.js"
import { countedAsWork, describeCause, timeoutItem } from "../Processing/processConcurrently.js"
import { isPublicAt, PostRepository, type UpsertOutcome } from "../Posts/PostRepository.js"
import { readText } from "./FileSource.js"
import { FileReadError, InvalidUtf8, type ProcessorShutdown } from "./ImportErrors.js"
import { defaultImportOptions, type ImportOptions } from "./ImportConfig.js"
import {
  type DecodedRecord,
  decodeRecord,
  readyRecord,
  type RecordOutcome,
  rejected,
  rejectedPost,
  withCarried,
  withExportedLinks
} from "../Processing/records.js"
import * as ImportLedger from "./ImportLedger.js"
import * as InternalLinks from "./InternalLinks.js"
import type { ImportItem } from "./ImportSource.js"
import { type ImportStatus, type ImportSummary, ImportTally } from "./ImportSummary.js"
import * as Processor from "./Processor.js"

/** What the concurrent stage hands to the writer. */
export type Processed = RecordOutcome

type LineItem = Extract<ImportItem, { _tag: "Line" }>

/**
 * Writes one batch in one transaction (a dry run's writer rolls it back and still answers the
 * outcomes); `undefined` for a dry run without a database, which only validates. `redirects`,
 * `createdAt`, `formerSources` and `ids` are per post, as `UpsertOptions` takes them.
 */
type Writer =
  | ((
    posts: ReadonlyArray<NewPost>,
    pinnedSources: ReadonlySet<string>,
    redirects: ReadonlyArray<ReadonlyArray<string> | undefined>,
    createdAt: ReadonlyArray<DateTime.Utc | undefined>,
    formerSources: ReadonlyArray<ReadonlyArray<string> | undefined>,
    ids: ReadonlyArray<PostId | undefined>
  ) => Effect.Effect<ReadonlyArray<UpsertOutcome>, unknown>)
  | undefined

/**
 * The source of the post stored at a slug (`undefined`: none), for the links a run resolved to a
 * post it did not store itself; `undefined` for a run without a database.
 */
type StoredSource = ((slug: string) => Effect.Effect<string | undefined, unknown>) | undefined

const firstNul = (text: string) => text.indexOf("\u0000")

/**
 * Reads a markdown file and processes it, its internal links (`@/...`) resolved against the
 * directory it was walked from (`InternalLinks`). Typed errors only; the caller isolates them.
 */
const processFile = (item: Extract<ImportItem, { _tag: "File" }>, options: ImportOptions, links: InternalLinks.Resolver) =>
  Effect.gen(function*() {
    const { text, bytes } = yield* readText(item.path, { chunkSize: options.chunkSize, maxBytes: options.maxPostBytes })
    if (text.trim() === "") return reject(item, bytes === 0 ? "empty file" : "empty file (only whitespace)")
    const nul = firstNul(text)
    if (nul >= 0) return reject(item, `binary file (NUL character at offset ${nul})`)
    const processor = yield* PostProcessor
    const processed = yield* processor.process({ source: item.identity, raw: text, relativePath: item.relativePath })
    const { links: report, post } = yield* links.resolve(item, text, processed, options)
    return { _tag: "Ready", identity: item.identity, post, bytes: item.bytes, ...(report === undefined ? {} : { links: report }) } satisfies Processed
  })

const reject = (item: ImportItem, reason: string, skipped = false): Processed => rejected(item.identity, reason, item.bytes, skipped)

/** One NDJSON line on its own: decoded here, processed through `fromInput` unless its body is too large. */
const processLine = (item: LineItem, options: ImportOptions) => {
  const record = decodeRecord(item.name, item.line)
  if (record._tag === "Rejected") return Effect.succeed(record)
  const refused = refusedOversized(record, options.maxPostBytes)
  return refused !== undefined
    ? Effect.succeed(refused)
    : Effect.map(processInput(record), (post): Processed => readyRecord(item.name, record, post))
}

const processInput = (item: DecodedRecord) => Effect.flatMap(PostProcessor, (p) => p.fromInput(item.input, item.source))

/** A record a source decoded itself (a feed, another Inkwell): its post, and what it carries. */
const processRecord = (item: DecodedRecord, options: ImportOptions) => {
  const refused = refusedOversized(item, options.maxPostBytes)
  return refused !== undefined
    ? Effect.succeed(refused)
    : Effect.map(processInput(item), (processed): Processed => {
      const { carried, kept, post } = withExportedLinks(item, processed)
      return withCarried(item, {
        _tag: "Ready",
        identity: item.identity,
        post,
        bytes: item.bytes,
        ...(kept === undefined ? {} : { linksKept: kept }),
        ...(carried === undefined ? {} : { linksCarried: carried })
      })
    })
}

/**
 * The concurrent stage for one item: never fails. An `InvalidPost` names its own source (with
 * the front matter line for files); `field: "file"` means "not a post" and counts as skipped.
 * `links` resolves a file's internal links (one per run: it remembers the targets it read).
 */
export const processItem = (
  item: ImportItem,
  options: ImportOptions,
  links: InternalLinks.Resolver = InternalLinks.makeResolver()
): Effect.Effect<Processed, never, PostProcessor | FileSystem.FileSystem> => {
  // Suspended: a line is decoded as its work is built, and what that throws (a stack overflow
  // in a message about a deeply nested value did) is then this item's failure, not its chunk's:
  // thrown out of here, it stopped the processing stage, and with it the whole import.
  const work: Effect.Effect<Processed, unknown, PostProcessor | FileSystem.FileSystem> = Effect.suspend(() =>
    item._tag === "Rejected"
      ? Effect.succeed(reject(item, item.reason, item.skipped))
      : item._tag === "File"
      ? processFile(item, options, links)
      : item._tag === "Line"
      ? processLine(item, options)
      : processRecord(item, options)
  )
  const timed = Option.match(options.itemTimeout, {
    onNone: () => work,
    onSome: (duration) => timeoutItem(work, duration)
  })
  return Effect.map(Effect.exit(timed), (exit): Processed => {
    if (Exit.isSuccess(exit)) return exit.value
    const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
    if (failure instanceof InvalidPost) {
      return rejectedPost(item._tag === "File" ? failure.source : item.identity, failure, item.bytes)
    }
    // These already name the path, which is the item's identity: report what went wrong.
    if (failure instanceof FileReadError) return reject(item, failure.reason)
    // Named `file:line`, as a post's other errors are (and an NDJSON line's bad bytes).
    if (failure instanceof InvalidUtf8) {
      return rejected(failure.line === undefined ? item.identity : `${item.identity}:${failure.line}`, `invalid UTF-8 at byte offset ${failure.offset}`, item.bytes)
    }
    return reject(item, describeCause(exit.cause).reason)
  })
}

/**
 * Lines of one file processed together by `fromLines` (one message to a render worker, no
 * fiber, queue hop or deadline timer per post; each line held to the per-post deadline by the
 * processor). A batch that fails as a whole (its worker died, it ran past the deadline) is
 * processed again line by line through `processItem`, each line with its own deadline, so only
 * the posts at fault are reported. With a deadline, the batch's time on this thread is counted
 * as items' work (`countedAsWork`): other posts' deadlines are not charged with it.
 */
const processLines = (
  fromLines: NonNullable<PostProcessorShape["fromLines"]>,
  items: ReadonlyArray<LineItem>,
  options: ImportOptions,
  links: InternalLinks.Resolver
) => {
  const work = fromLines(items[0]!.name, items.map((item) => item.line), options.itemTimeout)
  return (Option.isSome(options.itemTimeout) ? countedAsWork(work) : work).pipe(
    Effect.catchAllCause((cause) =>
      Effect.zipRight(
        Effect.logWarning(
          `${items.length} lines of ${items[0]!.name} (from line ${items[0]!.line.number}) could not be processed together; processing them one by one`,
          cause
        ),
        Effect.forEach(items, (item) => processItem(item, options, links))
      )
    )
  )
}

/**
 * Why `processed`'s post is refused at `now`, when its `updated` date is still to come then
 * (`futureUpdate`): that post alone fails, saying so, as a 400 does through the API. Taken, a
 * typo (2031 for 2021) was the date readers were sent in the post's page, every feed, the
 * sitemap and Last-Modified.
 */
const updatedLater = (processed: Processed, now: DateTime.Utc): string | undefined =>
  processed._tag === "Ready" ? futureUpdate(processed.post.updatedAtSource, processed.post.publishedAt, now) : undefined

/** The post's field, for an `updated` date whose key cannot be found again. */
const updatedAtField: { readonly field: string; readonly line: number | undefined } = { field: "updatedAt", line: undefined }

/**
 * The refusal of `processed`, made of `item`, for `reason` (`updatedLater`), naming the key its
 * `updated` date was given under as written (`lastmod: 2031-05-05` is `lastmod`, at its line
 * for a file: `updatedDateKey`), as processing names a bad date. A file is read again for it:
 * its text is not kept past processing, for the rare post refused here. What cannot be read
 * again is named `updatedAt`, the post's field.
 */
const refusedUpdate = (
  processed: Processed,
  item: ImportItem | undefined,
  reason: string,
  options: ImportOptions
): Effect.Effect<Processed, never, FileSystem.FileSystem> => {
  const given: Effect.Effect<typeof updatedAtField, never, FileSystem.FileSystem> =
    item === undefined || item.identity !== processed.identity
      ? Effect.succeed(updatedAtField)
      : item._tag === "File"
      ? readText(item.path, { chunkSize: options.chunkSize, maxBytes: options.maxPostBytes }).pipe(
        Effect.map(({ text }) => updatedDateKey({ body: text })),
        Effect.orElseSucceed(() => updatedAtField)
      )
      : item._tag === "Line"
      ? Effect.sync(() => {
        const record = decodeRecord(item.name, item.line)
        return record._tag === "Record" ? updatedDateKey(record.input) : updatedAtField
      })
      : item._tag === "Record"
      ? Effect.sync(() => updatedDateKey(item.input))
      : Effect.succeed(updatedAtField)
  // A record is named by its line of the NDJSON, as its other refusals are; a file by the key's line.
  return Effect.map(given, ({ field, line }) =>
    rejectedPost(
      item?._tag === "File" && line !== undefined ? `${processed.identity}:${line}` : processed.identity,
      { field, reason },
      processed.bytes
    ))
}

/**
 * The concurrent stage for one chunk of the source: runs of lines of the same file in bulk
 * when the processor can (`fromLines`), everything else item by item. A line long enough to hold
 * a body over `maxPostBytes` goes item by item too (`processLine`): decoded here, its body is
 * checked before any processor renders it. Each post is then held to the clock once the chunk
 * is processed (`updatedLater`): processing is pure, and whichever processor rendered it. Never
 * fails.
 */
export const processChunk = (
  chunk: Chunk.Chunk<ImportItem>,
  options: ImportOptions,
  links: InternalLinks.Resolver = InternalLinks.makeResolver()
): Effect.Effect<ReadonlyArray<Processed>, never, PostProcessor | FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const items = Chunk.toReadonlyArray(chunk)
    const { fromLines } = yield* PostProcessor
    const out: Array<Processed> = []
    let i = 0
    while (i < items.length) {
      // Rendering in-process is synchronous: between two posts (or runs of lines), other
      // requests get their turn of the event loop (they waited for the whole import).
      yield* yieldWhenBusy
      const item = items[i]!
      if (item._tag !== "Line" || fromLines === undefined || mayHoldOversized(item, options)) {
        out.push(yield* processItem(item, options, links))
        i++
        continue
      }
      let end = i + 1
      while (
        end < items.length && items[end]!._tag === "Line" && (items[end] as LineItem).name === item.name &&
        !mayHoldOversized(items[end] as LineItem, options)
      ) end++
      for (const processed of yield* processLines(fromLines, items.slice(i, end) as Array<LineItem>, options, links)) out.push(processed)
      i = end
    }
    const now = yield* DateTime.now
    // One outcome per item, in their order (`processItem`, `fromLines`).
    for (let j = 0; j < out.length; j++) {
      const reason = updatedLater(out[j]!, now)
      if (reason !== undefined) out[j] = yield* refusedUpdate(out[j]!, items[j], reason, options)
    }
    return out
  })

/** Names the stored post's source: after a file is renamed or a tree moved, that is the old post to see to. */
const conflictReason = (outcome: UpsertOutcome, options: ImportOptions) => {
  const policy = outcome.action === "skipped" ? "skip" : "fail"
  return `slug "${outcome.slug}" belongs to a post from another source${outcome.heldBy === undefined ? "" : `, ${JSON.stringify(outcome.heldBy)}`} ` +
    `(${options.onConflictNamed === undefined ? `--on-conflict ${policy}` : options.onConflictNamed(policy)})`
}

const duplicateReason = (slug: string, first: string) => `duplicate slug "${slug}" in this run (first used by ${first})`

/**
 * The bytes of a post's `body` when more than `maxPostBytes` (`ImportOptions.maxPostBytes`), else
 * `undefined`. A markdown file was held to it by its own bytes; a record only by its line, which
 * its export writes longer (JSON escapes): held to it as stored, every post an import takes
 * exports to a line it takes back (`maxLineBytes`).
 */
const oversizedBody = (body: string, maxPostBytes: number): number | undefined => {
  // A UTF-16 unit is at most three UTF-8 bytes: most bodies need no count.
  if (body.length * 3 <= maxPostBytes) return undefined
  const bytes = Buffer.byteLength(body, "utf8")
  return bytes > maxPostBytes ? bytes : undefined
}

const tooLarge = (bytes: number, maxPostBytes: number) => `too large: a body of ${bytes} bytes (limit ${maxPostBytes})`

/**
 * A record whose body, as it would be stored (`storedBody`: after any front matter), is over
 * `maxPostBytes`, refused before it is processed: rendering is the work, and a body refused
 * after it cost that work all the same. `undefined` for any other record. NFC may lengthen a
 * body (rarely): a post that outgrew the limit so is refused once processed (`admit`).
 */
const refusedOversized = (record: DecodedRecord, maxPostBytes: number): Processed | undefined => {
  // The stored body is no longer than the input's (NFC aside): most records need no more.
  if (record.input.body.length * 3 <= maxPostBytes) return undefined
  const body = storedBody(record.input.body)
  const bytes = body === undefined ? undefined : oversizedBody(body, maxPostBytes)
  return bytes === undefined ? undefined : rejected(record.identity, tooLarge(bytes, maxPostBytes), record.bytes)
}

/**
 * A line whose body may be over `maxPostBytes`: JSON writes a body's characters in as many
 * UTF-8 bytes or more, so a line of at most that many bytes holds no such body.
 */
const mayHoldOversized = (item: LineItem, options: ImportOptions): boolean =>
  oversizedBody(item.line.text, options.maxPostBytes) !== undefined

/**
 * Published with a date after `now`: readers do not see the post until then (`isPublicAt`).
 * One without `publishedAt` is listed by its creation, which is never after its write.
 */
const scheduledAt = (post: NewPost, now: DateTime.Utc): boolean =>
  post.status === "published" && !isPublicAt({ status: post.status, publishedAt: post.publishedAt, createdAt: now }, now)

/**
 * What a stored post's internal links need: its links kept as written, as warnings; the ones
 * resolved to a post this run has not stored (yet) at that slug, to check at the end
 * (`checkLinks`). A post from a record (NDJSON, a feed) has no directory to resolve them in: each
 * one left as written (not given an address by its export's `internalLinks`) is a warning; each
 * one given the page of the post its export had at a slug, to check at the end as well, unless
 * that post of this run is stored there already. Once the post is recorded as stored (a link to
 * itself is then found).
 */
const noteLinks = (tally: ImportTally, ledger: ImportLedger.ImportLedger, item: Extract<Processed, { _tag: "Ready" }>) => {
  for (const link of item.linksCarried ?? []) {
    const claim = ledger.claimOf(link.slug)
    if (claim === undefined || ledger.storedEntry(link.slug)?.identity !== claim.identity) {
      ledger.checkCarriedLater({ at: item.identity, href: link.href, slug: link.slug })
    }
  }
  if (item.links === undefined) {
    const hrefs = new Set(internalLinks(item.post.html).map((link) => link.href))
    const why = item.linksKept === undefined ? "" : `${item.linksKept}; `
    for (const href of hrefs) {
      tally.warn(
        item.identity,
        `link ${JSON.stringify(href)} kept as written: ${why}a Zola internal link is resolved only when its post is imported from its markdown file, in its directory`
      )
    }
    return
  }
  for (const issue of item.links.unresolved) tally.warn(issue.source, issue.reason)
  for (const link of item.links.resolved) {
    if (ledger.storedEntry(link.slug)?.identity !== link.target) ledger.checkLater(link)
  }
}

/** Links checked at most this many at a time (`checkLinks`). */
const LINK_CHECK_PAGE = 500

/**
 * The internal links `noteLinks` kept, now that the run has stored its posts: each leads where
 * its target's post is (stored by this run at that slug, or by an earlier one, `storedSource`),
 * or is reported: its target failed, was skipped, or was stored under another slug (`suffix`).
 * Its post was written with the link resolved all the same; the warning names the file and line.
 * Then the links an export gave a post's page (`checkCarried`).
 */
const checkLinks = (
  tally: ImportTally,
  ledger: ImportLedger.ImportLedger,
  storedSource: StoredSource
): Effect.Effect<void> =>
  Effect.zipRight(checkResolved(tally, ledger, storedSource), checkCarried(tally, ledger, storedSource))

const checkResolved = (
  tally: ImportTally,
  ledger: ImportLedger.ImportLedger,
  storedSource: StoredSource
): Effect.Effect<void> =>
  eachKept(ledger.linksToCheck, (link) =>
    Effect.gen(function*() {
      if (ledger.storedEntry(link.slug)?.identity === link.target) return
      const there = storedSource === undefined ? Either.right(undefined) : yield* Effect.either(storedSource(link.slug))
      if (Either.isRight(there) && there.right === link.target) return
      tally.warn(
        link.at,
        Either.isLeft(there)
          ? `link ${JSON.stringify(link.href)} leads to /p/${link.slug}, which could not be checked: ${describeFailure(there.left)}`
          : `link ${JSON.stringify(link.href)} leads to /p/${link.slug}, but the post of ${link.target} is not stored there ` +
            "(it failed, was skipped or took another slug: see its own entry)"
      )
    })
  )

/** `check` on each link the ledger kept (`page`), in order, a page of LINK_CHECK_PAGE at a time. */
const eachKept = <L extends { readonly n: number }>(
  page: (after: number, limit: number) => ReadonlyArray<L>,
  check: (link: L) => Effect.Effect<void>
): Effect.Effect<void> =>
  Effect.gen(function*() {
    let after = 0
    for (;;) {
      const links = page(after, LINK_CHECK_PAGE)
      if (links.length === 0) return
      for (const link of links) {
        after = link.n
        yield* check(link)
      }
    }
  })

/**
 * The links an export (a line's `internalLinks`, another Inkwell's page) gave a post's page,
 * `./<slug>`: the post its export had at that slug. Where this run had that post (the first of
 * it to ask for the slug), the link leads to it only if it was stored there: one stored under a
 * suffix (`--on-conflict suffix`, another post holding the slug here) left the link on that other
 * post, without a word. Reported, naming the post, the link and where its target went; the link
 * stays as carried (see README: rewriting it would need a second write of the post, and its
 * hash would no longer say what an import of the same line stores). Where this run had no post
 * at that slug, its target was not exported with it: reported when no post is stored there.
 */
const checkCarried = (
  tally: ImportTally,
  ledger: ImportLedger.ImportLedger,
  storedSource: StoredSource
): Effect.Effect<void> =>
  eachKept(ledger.carriedToCheck, (link) =>
    Effect.gen(function*() {
      const claim = ledger.claimOf(link.slug)
      const leads = `link ${JSON.stringify(link.href)} leads to /p/${link.slug}, as it did where its post came from`
      if (claim !== undefined) {
        if (ledger.storedEntry(link.slug)?.identity === claim.identity) return
        const instead = ledger.storedInstead(link.slug)
        const target = `the post that was at /p/${link.slug} there (${claim.identity})`
        tally.warn(
          link.at,
          instead !== undefined
            ? `${leads}, but ${target} was stored at /p/${instead} here, as another post holds /p/${link.slug}: ` +
              "the link leads to that other post"
            : `${leads}, but ${target} is not stored there (it failed or was skipped: see its own entry)`
        )
        return
      }
      if (storedSource === undefined || ledger.storedEntry(link.slug) !== undefined) return
      const there = yield* Effect.either(storedSource(link.slug))
      if (Either.isRight(there) && there.right !== undefined) return
      tally.warn(
        link.at,
        Either.isLeft(there)
          ? `${leads}, which could not be checked: ${describeFailure(there.left)}`
          : `${leads}, but no post is stored there (the post it led to was not imported with it)`
      )
    })
  )

const record = (
  tally: ImportTally,
  ledger: ImportLedger.ImportLedger,
  item: Extract<Processed, { _tag: "Ready" }>,
  outcome: UpsertOutcome,
  now: DateTime.Utc,
  options: ImportOptions
) => {
  const post = { scheduled: scheduledAt(item.post, now) }
  // A conflict over a slug this run stored is worded as a duplicate in the input.
  const reason = () => {
    const first = ledger.storedBy(outcome.slug)
    return first !== undefined && first !== item.identity ? duplicateReason(outcome.slug, first) : conflictReason(outcome, options)
  }
  if (outcome.idTakenBy !== undefined && item.id !== undefined) {
    tally.warn(item.identity, idTakenReason(item.id, outcome.idTakenBy))
  }
  switch (outcome.action) {
    case "inserted":
    case "updated":
    case "unchanged":
    case "renamed":
      // Where it is: a copy an earlier run suffixed is found again there ("unchanged", "updated").
      ledger.stored(outcome.storedSlug ?? outcome.slug, item.identity, item.post.source)
      if (outcome.storedSlug !== undefined) ledger.storedElsewhere(outcome.slug, item.identity, outcome.storedSlug)
      noteLinks(tally, ledger, item)
      if (outcome.movedFrom !== undefined) tally.moved(item.identity, outcome.movedFrom, outcome.slug)
      return tally.stored(outcome.action, item.bytes, post)
    case "skipped":
      return tally.skip(item.identity, reason(), item.bytes)
    case "conflict":
      return tally.fail(item.identity, reason(), item.bytes)
  }
}

/** Why a post the import created did not take the id its record carried. */
const idTakenReason = (id: string, holder: string) =>
  `id ${id} is another post's ("${holder}"): created with a new id, so its feed items are new to readers`

/**
 * A dry run's batch is rolled back, so the next one does not see it in the database. A post
 * whose slug an earlier batch of this run would have stored for another source meets that post
 * in a real run: with `fail` or `skip` it is reported here as the real run reports it (a
 * duplicate in the input) instead of being checked against the database as it is. With `suffix`
 * the repository decides, against the database as it is (see README: dry runs).
 */
const takenByEarlierBatch = (
  ledger: ImportLedger.ImportLedger,
  item: Extract<Processed, { _tag: "Ready" }>
): string | undefined => {
  const first = ledger.storedEntry(item.post.slug)
  return first !== undefined && first.identity !== item.identity && first.source !== item.post.source
    ? first.identity
    : undefined
}

const writeBatch = (
  tally: ImportTally,
  writer: Writer,
  ledger: ImportLedger.ImportLedger,
  batch: Chunk.Chunk<Extract<Processed, { _tag: "Ready" }>>,
  options: ImportOptions
): Effect.Effect<void> => {
  const all = Chunk.toReadonlyArray(batch)
  if (writer === undefined) {
    return Effect.map(DateTime.now, (now) =>
      ledger.transaction(() => {
        for (const item of all) {
          // Where each post would be, for its links: the first one with a slug keeps it.
          if (ledger.storedEntry(item.post.slug) === undefined) ledger.stored(item.post.slug, item.identity, item.post.source)
          noteLinks(tally, ledger, item)
          tally.stored("valid", item.bytes, { scheduled: scheduledAt(item.post, now) })
        }
      }))
  }
  const items = options.dryRun && options.onConflict !== "suffix"
    ? ledger.transaction(() =>
      all.filter((item) => {
        const first = takenByEarlierBatch(ledger, item)
        if (first === undefined) return true
        const reason = duplicateReason(item.post.slug, first)
        if (options.onConflict === "skip") tally.skip(item.identity, reason, item.bytes)
        else tally.fail(item.identity, reason, item.bytes)
        return false
      })
    )
    : all
  return writeItems(tally, writer, ledger, items, options)
}

/**
 * A statement that failed on one post's data (not a lost or busy database) fails its whole
 * transaction: the batch is written again one post at a time, so only that post is reported.
 * SQLite took posts that PostgreSQL refused (a search index too large, a row too wide), and one
 * such post took its 99 neighbours down with it. A failure of the moment (`transienceOf`: a lock
 * not had in time, a statement timeout, a database gone) is not: written a post at a time, each
 * post would wait as long again, uninterruptibly.
 */
const writtenAlone = (cause: Cause.Cause<unknown>, count: number): boolean => {
  if (count < 2) return false
  const failure = Cause.failureOption(cause)
  return Option.isSome(failure) && isDatabaseError(failure.value) && transienceOf(failure.value.cause) === undefined
}

const writeItems = (
  tally: ImportTally,
  writer: NonNullable<Writer>,
  ledger: ImportLedger.ImportLedger,
  items: ReadonlyArray<Extract<Processed, { _tag: "Ready" }>>,
  options: ImportOptions
): Effect.Effect<void> => {
  if (items.length === 0) return Effect.void
  return Effect.suspend(() => {
    const pinned = ledger.transaction(() => new Set(items.map((item) => item.post.source).filter(ledger.isPinned)))
    return writer(
      items.map((item) => item.post),
      pinned,
      items.map((item) => item.movedFrom),
      items.map((item) => item.createdAt),
      items.map((item) => item.formerSources),
      items.map((item) => item.id)
    )
  }).pipe(
    Effect.exit,
    // Scheduled as of when the batch landed.
    Effect.zip(DateTime.now),
    Effect.flatMap(([exit, now]) => {
      if (Exit.isFailure(exit) && writtenAlone(exit.cause, items.length)) {
        // Through `writeBatch`: a dry run's post is checked against what the earlier ones of this
        // batch would have stored, as the real run's is against what they stored.
        return Effect.forEach(items, (item) => writeBatch(tally, writer, ledger, Chunk.of(item), options), { discard: true })
      }
      return Effect.sync(() => {
        if (Exit.isSuccess(exit)) {
          ledger.transaction(() =>
            items.forEach((item, index) => {
              const outcome = exit.value[index]
              if (outcome === undefined) tally.fail(item.identity, "the repository returned no outcome", item.bytes)
              else record(tally, ledger, item, outcome, now, options)
            })
          )
          return
        }
        // A database's refusal says why (pg's message, beneath the SqlError), not only which operation.
        const failure = Cause.failureOption(exit.cause)
        const reason = Option.isSome(failure) && isDatabaseError(failure.value)
          ? describeFailure(failure.value)
          : describeCause(exit.cause).reason
        const written = items.length === 1 ? "not written" : "batch not written (rolled back)"
        for (const item of items) tally.fail(item.identity, `${written}: ${reason}`, item.bytes)
      })
    }),
    Effect.tap(() =>
      Effect.logDebug(`batch of ${items.length} written`).pipe(Effect.annotateLogs("posts", items.length))
    ),
    // A batch is one transaction: it commits and is counted, or never starts. Interrupting
    // the run waits for it instead of leaving a count that disagrees with the database.
    Effect.uninterruptible
  )
}

/** An item with its place in the source's order. */
interface Numbered<A> {
  readonly seq: number
  readonly value: A
}

/**
 * Most items between the oldest one not yet handed to the writer and the newest one read: the
 * reorder buffer's bound. Wide enough that the queues and every worker stay busy; only an item
 * slower than this many others holds the reader back (for at most its deadline).
 */
const reorderWindow = (options: ImportOptions) =>
  2 * Math.max(1, options.buffer) + Math.max(1, options.concurrency) * Math.max(1, options.recordBatch)

/**
 * The stages, without the whole-run deadline. Updates `tally` as batches land. "failed" when the
 * source did not end normally: what it read is written, and its end is one failure, `input`.
 */
const stages = <R>(
  source: Stream.Stream<ImportItem, never, R>,
  options: ImportOptions,
  tally: ImportTally,
  writer: Writer,
  storedSource: StoredSource
) =>
  Effect.scoped(
    Effect.gen(function*() {
      const links = InternalLinks.makeResolver()
      const processor = yield* Processor.makeBatched(
        (chunk: Chunk.Chunk<Numbered<ImportItem>>) =>
          Effect.map(
            processChunk(Chunk.map(chunk, (n) => n.value), options, links),
            (results) => results.map((value, i): Numbered<Processed> => ({ seq: Chunk.unsafeGet(chunk, i).seq, value }))
          ),
        {
          concurrency: options.concurrency,
          inputCapacity: options.buffer,
          outputCapacity: options.buffer,
          maxBatch: options.recordBatch
        }
      )
      // Results come out in completion order; the writer takes them in the source's order, so
      // of two new posts with one slug the first in the input keeps it (files in walk order,
      // lines in file order) however long each took to render. The reader may run at most
      // `window` items ahead of the oldest one not yet handed on, which bounds the buffer.
      const window = reorderWindow(options)
      const permits = yield* Effect.makeSemaphore(window)
      let read = 0
      // A chunk as it comes (never waiting to fill one), in pieces no larger than the window.
      const submit = (items: ReadonlyArray<ImportItem>, from: number): Effect.Effect<void, ProcessorShutdown> => {
        const to = Math.min(items.length, from + window)
        return from >= to ? Effect.void : Effect.zipRight(
          permits.take(to - from),
          Effect.suspend(() =>
            Effect.zipRight(
              processor.submitAll(items.slice(from, to).map((value) => ({ seq: read++, value }))),
              submit(items, to)
            )
          )
        )
      }
      // How the reading ended, known before the processor drains (so always once `results` has
      // ended normally). Sources never fail, but one may die (a bug in a decoder, a defect of a
      // body or the file system) or be interrupted from within: its exit was dropped, and the run
      // said "completed" with whatever had been read.
      const reading = yield* Deferred.make<Exit.Exit<void, ProcessorShutdown>>()
      let lastRead: string | undefined
      yield* source.pipe(
        Stream.runForEachChunk((chunk) =>
          Effect.zipRight(
            // A source read in memory (a feed's items) never waits for I/O between two chunks.
            Effect.zipRight(yieldWhenBusy, Effect.sync(() => {
              lastRead = Chunk.last(chunk).pipe(Option.map((item) => item.identity), Option.getOrElse(() => lastRead))
            })),
            submit(Chunk.toReadonlyArray(chunk), 0)
          )
        ),
        Effect.exit,
        Effect.flatMap((exit) => Deferred.succeed(reading, exit)),
        Effect.ensuring(processor.shutdown("drain")),
        Effect.forkScoped
      )
      const pending = new Map<number, Processed>()
      let next = 0
      const inOrder = (chunk: Chunk.Chunk<Numbered<Processed>>) =>
        Effect.suspend(() => {
          for (const { seq, value } of chunk) pending.set(seq, value)
          const ready: Array<Processed> = []
          for (let value = pending.get(next); value !== undefined; value = pending.get(next)) {
            pending.delete(next++)
            ready.push(value)
          }
          return Effect.as(permits.release(ready.length), Chunk.unsafeFromArray(ready))
        })
      const ledger = yield* ImportLedger.make()
      /** Titled records met again, by source: how many so far (only repeats are counted). */
      const repeats = new Map<string, number>()
      const titledRepeat = (source: string) => {
        const n = (repeats.get(source) ?? 1) + 1
        repeats.set(source, n)
        return `${source}~${n}`
      }
      /** Items named as an earlier one of this run, by name: how many so far (only repeats are counted). */
      const namedAgain = new Map<string, number>()
      const nameAgain = (identity: string) => {
        const n = (namedAgain.get(identity) ?? 1) + 1
        namedAgain.set(identity, n)
        return n === 2 ? `${identity} (again)` : `${identity} (again, ${n} in all)`
      }
      /** `processed` reported as a duplicate of `first` (skipped or failed, as `onConflict` says). */
      const duplicate = (processed: Extract<Processed, { _tag: "Ready" }>, first: string) => {
        const reason = duplicateReason(processed.post.slug, first)
        if (options.onConflict === "skip") tally.skip(processed.identity, reason, processed.bytes)
        else tally.fail(processed.identity, reason, processed.bytes)
        return Option.none()
      }
      /** The writer's side of the run's order: reports rejections and duplicates, passes the rest. */
      const admit = (processed: Processed): Option.Option<Extract<Processed, { _tag: "Ready" }>> => {
        if (processed._tag === "Rejected") {
          if (processed.skipped) tally.skip(processed.identity, processed.reason, processed.bytes)
          else tally.fail(processed.identity, processed.reason, processed.bytes)
          return Option.none()
        }
        // Records over the limit were refused before processing (`refusedOversized`); this is for
        // a body NFC lengthened past it, or a processor (an embedding app's) that stores another.
        const oversized = oversizedBody(processed.post.body, options.maxPostBytes)
        if (oversized !== undefined) {
          tally.fail(processed.identity, tooLarge(oversized, options.maxPostBytes), processed.bytes)
          return Option.none()
        }
        // A source's item named as an earlier one (a feed's two items with one guid, named by
        // it): named apart, so that it is a second post of that source (which pins it) or, at
        // the same slug, a duplicate; as one post twice, the later silently replaced the earlier,
        // and every re-import "updated" both.
        if (ledger.sourceOwner(processed.post.source) === processed.identity) {
          processed = { ...processed, identity: nameAgain(processed.identity) }
        }
        // Two posts of this run with one slug and one source (NDJSON lines without a
        // `source` are `<file>#<slug>`) would reach the repository as the same post twice:
        // the later silently replaced the earlier. The later one is the duplicate.
        const claim = ledger.claim(processed.post.slug, processed.identity, processed.post.source)
        if (claim !== undefined && claim.identity !== processed.identity && claim.source === processed.post.source) {
          if (processed.titled !== true || options.onConflict !== "suffix") return duplicate(processed, claim.identity)
          // Two records that only share a title are two posts: with "suffix" the later one is
          // stored under a suffixed slug, known as the n-th record of that title in its input
          // (`<file>#<slug>~<n>`), so a re-run finds it there again.
          processed = { ...processed, post: new NewPost({ ...processed.post, source: titledRepeat(processed.post.source) }, true) }
        }
        // Several items sharing one source (NDJSON records with one `source`): none of them
        // is "the post from this source", so the repository must not move a stored one.
        ledger.meetSource(processed.post.source, processed.identity)
        // Writing, the repository decides between two posts with one slug: it knows which
        // source owns the slug already (a re-run updates the owner, whatever the input
        // order); a slug new to the store goes to the first post in the input (see above).
        // With "suffix" it gives the later post its own slug.
        if (writer !== undefined || options.onConflict === "suffix") return Option.some(processed)
        // A dry run has no owner to ask: the first in the input (its claim) keeps the slug.
        return claim === undefined ? Option.some(processed) : duplicate(processed, claim.identity)
      }
      yield* processor.results.pipe(
        Stream.mapChunksEffect(inOrder),
        // Every item comes back (the stage never fails); should one ever be missing, what
        // waits behind it is still handed on, in order, rather than dropped.
        Stream.concat(Stream.suspend(() => Stream.fromIterable([...pending.entries()].sort(([a], [b]) => a - b).map(([, value]) => value)))),
        Stream.mapChunks((chunk) => ledger.transaction(() => Chunk.filterMap(chunk, admit))),
        Stream.groupedWithin(options.batchSize, options.batchWindow),
        // A batch's transaction on SQLite is synchronous too.
        Stream.runForEach((batch) => Effect.zipRight(yieldWhenBusy, writeBatch(tally, writer, ledger, batch, options)))
      )
      // Everything read is written: now say whether that was the whole input.
      const ended = yield* Deferred.poll(reading)
      const exit = Option.isSome(ended) ? yield* ended.value : undefined
      if (exit !== undefined && Exit.isSuccess(exit)) {
        // Only a whole input says where every post of it is: a stopped run checks no links.
        yield* checkLinks(tally, ledger, storedSource)
        return "completed" as const
      }
      const after = lastRead === undefined ? "" : ` (after ${lastRead})`
      const reason = exit === undefined
        // The workers stopped before the reader did: nothing of the input after that was processed.
        ? `the input was not read to its end${after}: the processing stage stopped first`
        : `the input could not be read to its end${after}: ${describeCause(exit.cause).reason}`
      tally.fail("input", reason)
      yield* Effect.logWarning(`import ${reason}`, ...(exit === undefined ? [] : [exit.cause]))
      return "failed" as const
    })
  )

export interface RunOptions {
  /**
   * Pass one to watch progress (the CLI's bar) or to summarize after an interruption. Built for
   * this kind of run: `dryRun` as the options say, `databaseChecked` for a dry run through `run`
   * (not `validate`); another is a defect.
   */
  readonly tally?: ImportTally | undefined
  /**
   * When this completes, the run stops as an interruption would (the batch in flight commits)
   * and returns its summary with status "interrupted": a server shutting down answers with it.
   */
  readonly stop?: Effect.Effect<void> | undefined
}

const runWith = <R>(
  source: Stream.Stream<ImportItem, never, R>,
  partial: Partial<ImportOptions>,
  run: RunOptions,
  writer: Writer,
  storedSource: StoredSource
): Effect.Effect<ImportSummary, never, R | PostProcessor | FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const options: ImportOptions = { ...defaultImportOptions, ...partial }
    // A dry run with a writer reports what the real run would do, checked against the database.
    const mode = { dryRun: options.dryRun, databaseChecked: options.dryRun && writer !== undefined }
    const tally = run.tally ?? new ImportTally(yield* Clock.currentTimeMillis, mode)
    if (tally.dryRun !== mode.dryRun || tally.databaseChecked !== mode.databaseChecked) {
      // Its counts would be read wrongly (`valid` counted twice, or not at all).
      return yield* Effect.dieMessage(
        `ImportPipeline: RunOptions.tally counts another kind of run (dryRun ${tally.dryRun}, databaseChecked ${tally.databaseChecked}; this run: dryRun ${mode.dryRun}, databaseChecked ${mode.databaseChecked})`
      )
    }
    const toEnd: Effect.Effect<ImportStatus, never, R | PostProcessor | FileSystem.FileSystem> = stages(source, options, tally, writer, storedSource)
    const work = run.stop === undefined ? toEnd : Effect.raceFirst(toEnd, Effect.as(run.stop, "interrupted" as ImportStatus))
    const status = yield* Option.match(options.timeout, {
      onNone: () => work,
      onSome: (duration) =>
        Effect.timeoutTo(work, {
          duration,
          onSuccess: (s): ImportStatus => s,
          onTimeout: (): ImportStatus => "timed-out"
        })
    })
    if (status === "timed-out") {
      yield* Effect.logWarning(`import stopped after the run timeout (${Option.match(options.timeout, { onNone: () => "", onSome: Duration.format })})`)
    }
    return tally.summary(status, yield* Clock.currentTimeMillis)
  })

/**
 * Imports every item of `source` into the `PostRepository`. Never fails: failures are in the summary.
 * With `dryRun`, each batch goes through the repository's upsert and is rolled back: the summary
 * says what the import would do (imported, updated, unchanged, skipped, failed) and nothing is written.
 */
export const run = <R>(
  source: Stream.Stream<ImportItem, never, R>,
  options: Partial<ImportOptions> = {},
  runOptions: RunOptions = {}
): Effect.Effect<ImportSummary, never, R | PostProcessor | PostRepository | FileSystem.FileSystem> =>
  Effect.flatMap(PostRepository, (repository) => {
    const onSlugConflict = options.onConflict ?? defaultImportOptions.onConflict
    const dryRun = options.dryRun === true
    const writer: Writer = (posts, pinnedSources, redirects, createdAt, formerSources, ids) =>
      Effect.map(
        repository.upsertMany(posts, { onSlugConflict, pinnedSources, dryRun, redirects, createdAt, formerSources, ids }),
        (result) => result.outcomes
      )
    const storedSource: StoredSource = (slug) =>
      repository.getBySlug(slug).pipe(
        Effect.map((post): string | undefined => post.source),
        Effect.catchTag("PostNotFound", () => Effect.succeed(undefined))
      )
    return runWith(source, options, runOptions, writer, storedSource)
  }).pipe(Effect.withSpan("ImportPipeline.run"))

/**
 * Reads and processes everything, writes nothing and reads no database: `valid` counts what
 * would be written to an empty database. With a database, `run` with `dryRun` says more.
 */
export const validate = <R>(
  source: Stream.Stream<ImportItem, never, R>,
  options: Partial<ImportOptions> = {},
  runOptions: RunOptions = {}
): Effect.Effect<ImportSummary, never, R | PostProcessor | FileSystem.FileSystem> =>
  runWith(source, { ...options, dryRun: true }, runOptions, undefined, undefined).pipe(Effect.withSpan("ImportPipeline.validate"))
