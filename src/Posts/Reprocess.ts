/**
 * Reprocessing: every stored post rendered again from its stored input by the current processor,
 * so that an upgrade's rendering fixes reach posts written before it (`inkwell reprocess`).
 * Posts are rendered once, on write (reads never render), and neither an import (the input's
 * hash is unchanged: "unchanged") nor the API ever renders a stored post again by itself.
 *
 * A post's input is what its export carries (Processing/records.ts `exportRecord`): title, slug,
 * body (shielded as `recordBody` shields it), tags, status, dates, authors, summary, aliases and
 * metadata, processed under the post's own `source`. What the post is (slug, status,
 * `publishedAt`, `updatedAtSource`, `source`, `contentHash`) is kept as stored whatever the
 * processing gives: only what processing derives may change (html, excerpt, toc, word count,
 * reading time, and the fields it normalizes, aliases in NFC among them). Aliases are the stored ones: a post cannot tell
 * whether its client sent them (a Zola `path` becomes an alias only when none were sent), and
 * a path alias restored here would bring back an old address its owner removed. The content hash is the
 * input's, and the input did not change: kept, the next import of the post's file still finds it
 * unchanged, now with the current rendering.
 *
 * A post whose output differs is written through `PostRepository.update` at the version read
 * (and its `hashTagOf`): a new version and `updatedAt`, announced as any write (PostChanges), so
 * response caches drop it; a post written meanwhile is not overwritten (`StaleVersion`, reported).
 * A post that no longer processes (a rule grew stricter) is reported by slug and left as it is,
 * and so is one whose rendering takes longer than `itemTimeout` (`timeoutItem`, as the import
 * bounds a post: its own time only; one rendered in-process cannot be stopped midway and fails
 * once rendered, one on a thread of its own, HeavyPosts, is stopped at its deadline).
 */
import { Cause, DateTime, type Duration, Effect, Either, Option, Schema, Stream } from "effect"
import type { InvalidPost, RepositoryError } from "../Domain/Errors.js"
import { makeNewPost, NewPost, type Post, PostInput } from "../Domain/Post.js"
import { yieldWhenBusy } from "../Domain/yieldToEventLoop.js"
import { posts } from "../Export/PostExport.js"
import { describeCause, timeoutItem } from "../Processing/processConcurrently.js"
import { carryInternalLinks } from "../Processing/internalLinks.js"
import { PostProcessor, type PostProcessorShape } from "../Processing/PostProcessor.js"
import { recordBody } from "../Processing/records.js"
import { hashTagOf, PostRepository } from "./PostRepository.js"
import { sameContent } from "./internal/sortedJson.js"

/** A post that could not be reprocessed, and why; it was left as it was. */
export interface ReprocessFailure {
  readonly slug: string
  readonly reason: string
}

/** What a run has done so far: read when it ends, however it ends. */
export class ReprocessTally {
  /** Written again (by a dry run: would be). */
  reprocessed = 0
  unchanged = 0
  failed = 0
  get read(): number {
    return this.reprocessed + this.unchanged + this.failed
  }
}

const decodeInput = Schema.decodeUnknownEither(PostInput)

const iso = (date: DateTime.Utc | null): string | null => (date === null ? null : DateTime.formatIso(date))

/** `post`'s input as its export carries it (`exportRecord`): what processing made it from. */
export const storedInput = (post: Post): Either.Either<PostInput, string> =>
  Either.mapLeft(
    decodeInput({
      title: post.title,
      slug: post.slug,
      body: recordBody(post.body),
      tags: post.tags,
      status: post.status,
      publishedAt: iso(post.publishedAt),
      updatedAt: iso(post.updatedAtSource),
      authors: post.authors,
      summary: post.summary,
      aliases: post.aliases,
      metadata: post.metadata
    }),
    (error) => `makes no input: ${error.message}`
  )

/**
 * What the current processor makes of `post`: `None` when it is what is stored, else the post
 * to store (slug, status, dates, source and content hash as stored). Fails with why the post
 * no longer processes.
 */
export const rerender = (post: Post, processor: PostProcessorShape): Effect.Effect<Option.Option<NewPost>, string> =>
  Either.match(storedInput(post), {
    onLeft: Effect.fail,
    onRight: (input) =>
      processor.fromInput(input, post.source).pipe(
        Effect.mapError((invalid: InvalidPost) => `${invalid.field}: ${invalid.reason}`),
        Effect.flatMap((processed) => {
          // Only an import of the post's directory resolves its internal links (`@/...`):
          // rendered again from the body they are as written, and are given the addresses the
          // stored page has. Written back as written, they were broken links, and the content
          // hash kept here made the file's next import find the post unchanged.
          const html = carryInternalLinks(processed.html, post.html)
          if (html === undefined) {
            return Effect.fail("its internal links (@/...) no longer match the stored page's links: import its file again to resolve them")
          }
          return Effect.try({
            try: () =>
              makeNewPost({
                ...processed,
                html,
                slug: post.slug,
                status: post.status,
                publishedAt: post.publishedAt,
                updatedAtSource: post.updatedAtSource,
                source: post.source,
                contentHash: post.contentHash
              }),
            catch: (error) => `not a valid post once processed: ${error instanceof Error ? error.message : String(error)}`
          })
        }),
        // `next` carries the stored hash: the same post is the same in every field.
        Effect.map((next) => sameContent(next, post) ? Option.none() : Option.some(next))
      )
  })

export interface ReprocessOptions {
  /** Count what would be written, write nothing. */
  readonly dryRun: boolean
  /** Told of each post left as it was, as it is met. */
  readonly onFailure: (failure: ReprocessFailure) => Effect.Effect<void>
  /** Longest a post's own rendering may take (`timeoutItem`); past it, the post fails and is left as stored. None when absent. */
  readonly itemTimeout?: Option.Option<Duration.Duration> | undefined
}

/**
 * `rerender` under `itemTimeout`. A defect (a render thread that died) fails the post alone,
 * as it fails one post of an import; an interruption (a stop) stays one.
 */
const rerenderWithin = (
  post: Post,
  processor: PostProcessorShape,
  itemTimeout: Option.Option<Duration.Duration>
): Effect.Effect<Option.Option<NewPost>, string> => {
  const work = rerender(post, processor)
  const timed = Option.match(itemTimeout, {
    onNone: () => work,
    onSome: (limit) => timeoutItem(work, limit)
  })
  // A reason as a failed import post's (`describeCause`: a string as it is, a timeout as `timed out after 30s`).
  return Effect.catchAllCause(timed, (cause) =>
    Cause.isInterruptedOnly(cause) ? Effect.failCause(cause as Cause.Cause<never>) : Effect.fail(describeCause(cause).reason))
}

/**
 * Reprocesses every stored post (drafts and scheduled ones too), read a page at a time through
 * `PostRepository.list` (`PostExport.posts`: memory holds one page), each written before the next
 * is rendered. The listing's keyset is the post's listing time and id, which a reprocess never
 * changes: no post is missed or met twice for being written.
 *
 * Before each post Node's event loop has a turn once the thread has worked a while
 * (`yieldWhenBusy`): on SQLite reading, rendering and writing never wait for anything, and without
 * it a signal (Ctrl-C, SIGTERM), the progress timer and bin/inkwell.js's death all waited for the
 * last post.
 */
export const run = (
  options: ReprocessOptions,
  tally: ReprocessTally = new ReprocessTally()
): Effect.Effect<ReprocessTally, RepositoryError, PostRepository | PostProcessor> =>
  Effect.gen(function*() {
    const repository = yield* PostRepository
    const processor = yield* PostProcessor
    const failed = (post: Post, reason: string) =>
      Effect.zipRight(
        Effect.sync(() => {
          tally.failed++
        }),
        options.onFailure({ slug: post.slug, reason })
      )
    const counted = (key: "reprocessed" | "unchanged") =>
      Effect.sync(() => {
        tally[key]++
      })
    const write = (post: Post, next: NewPost) =>
      // Written and counted as one step, which a stop (Ctrl-C) does not cut.
      Effect.uninterruptible(
        repository.update(post.slug, post.version, next, hashTagOf(post)).pipe(
          Effect.zipRight(counted("reprocessed")),
          Effect.catchTags({
            StaleVersion: () => failed(post, "written by another process meanwhile, as that write made it; run reprocess again"),
            PostNotFound: () => failed(post, "no longer at this slug (deleted or renamed meanwhile)"),
            SlugConflict: (conflict) => failed(post, conflict.message)
          })
        )
      )
    yield* posts({}).pipe(
      Stream.runForEach((post) =>
        Effect.zipRight(
          yieldWhenBusy,
          Effect.matchEffect(rerenderWithin(post, processor, options.itemTimeout ?? Option.none()), {
            onFailure: (reason) => failed(post, reason),
            onSuccess: Option.match({
              onNone: () => counted("unchanged"),
              onSome: (next) => (options.dryRun ? counted("reprocessed") : write(post, next))
            })
          })
        )
      )
    )
    return tally
  })
