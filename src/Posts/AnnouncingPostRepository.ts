/**
 * A PostRepository that tells every Inkwell process on the same database about each write it
 * committed, through PostChanges (NOTIFY on PostgreSQL), so their response caches drop what
 * changed. Announcing from the repository rather than from the HTTP layer covers every writer:
 * API requests, `inkwell import` runs, and apps embedding the layers.
 *
 * On PostgreSQL the announcement is made inside the write's own transaction (`BeforeCommit`,
 * `PostChanges.publishInTransaction`): PostgreSQL delivers it at the commit, and a committed
 * write is always announced. Made after the commit, as a statement of its own, it waited for a
 * pool permit a busy pool did not give in time, or met the connection a failover had just
 * closed: the write answered 200 while the other processes served the old post until their
 * caches' TTL. A repository that runs no `BeforeCommit` (an embedding app's own), and the
 * in-process PostChanges of SQLite, are announced after the write returned, retried
 * (`ANNOUNCE_RETRIES`); that never fails the write: the data is stored whatever happens to the
 * notification, a lost one is bounded by the caches' TTL, and a listener that reconnects is
 * told to drop everything.
 */
import { Cause, Effect, Exit, Layer, Schedule } from "effect"
import { ALL_POSTS, PostChanges, type PostChangesShape } from "../Database/PostChanges.js"
import {
  BeforeCommit,
  PostRepository,
  type PostRepositoryShape,
  type UpsertOutcome,
  type UpsertResult,
  Written
} from "./PostRepository.js"

const changed = (outcome: UpsertOutcome) =>
  outcome.action === "inserted" || outcome.action === "updated" || outcome.action === "renamed"

/**
 * Beyond this many old slugs made to redirect, a bulk write announces every post instead: each
 * slug is a notification every listener handles, and each drops every list and site page anyway.
 */
export const MAX_REDIRECT_ANNOUNCEMENTS = 100

/**
 * An announcement made after the write, again: 100 ms, then 200 and 400 (a connection the
 * pool found dead is replaced by the next attempt). Bounded: the writer's answer waits for it.
 */
export const ANNOUNCE_RETRIES = Schedule.exponential("100 millis").pipe(Schedule.intersect(Schedule.recurs(3)))

/**
 * What a bulk write announces: every post when it changed any (it may touch hundreds, and every
 * list); else each old slug it made redirect (`UpsertResult.redirectsAdded`), whose answer went
 * from a 404 to a redirect; else nothing (a re-import, even one naming old slugs already in place).
 * A new redirect changes no answer the response cache keeps (it keeps no 404 nor redirect, and a
 * slug a live post holds never gains one): its slug is announced for what PostChanges promises
 * its subscribers, and it costs no Reset. One announcement per batch, as one transaction.
 */
const bulkAnnouncement = (result: UpsertResult): ReadonlyArray<string> => {
  if (result.outcomes.some(changed)) return [ALL_POSTS]
  const added = result.redirectsAdded ?? []
  return added.length > MAX_REDIRECT_ANNOUNCEMENTS ? [ALL_POSTS] : added
}

/** The slugs a write is announced as, each once. */
const announcement = (written: Written): ReadonlyArray<string> =>
  Array.from(
    new Set(Written.$match(written, {
      Created: ({ post }) => [post.slug],
      Updated: ({ post, slug }) => [slug, post.slug],
      Deleted: ({ slug }) => [slug],
      Upserted: ({ result }) => bulkAnnouncement(result)
    }))
  )

/** `repository` with every committed write announced on `changes`. Reads are untouched. */
export const announcing = (repository: PostRepositoryShape, changes: PostChangesShape): PostRepositoryShape => {
  const announceAfterCommit = (slugs: ReadonlyArray<string>) =>
    Effect.forEach(new Set(slugs), (slug) => Effect.retry(changes.publish(slug), ANNOUNCE_RETRIES), { discard: true }).pipe(
      Effect.catchAllCause((cause) =>
        Effect.logError(
          `could not announce a post change to other processes (${slugs.join(", ")}): they may answer from their caches until RESPONSE_CACHE_TTL`,
          cause
        )
      )
    )
  const inTransaction = changes.publishInTransaction
  /**
   * Runs `write`, announcing it in its transaction where the store and PostChanges can
   * (`BeforeCommit`), else after it: what it returned, on success. An interrupted write (its
   * client went away, its request timed out) may have committed before the interruption was
   * seen: unless it was announced in its transaction, `touched` (every slug it may have written)
   * is announced. Failures committed nothing.
   */
  const announced = <A, E, R>(
    write: Effect.Effect<A, E, R>,
    written: (value: A) => Written,
    touched: ReadonlyArray<string>
  ) =>
    Effect.suspend(() => {
      // Set once the announcement is part of the transaction: its commit is announced by PostgreSQL.
      let announcedInTransaction = false
      const run = inTransaction === undefined ? write : Effect.provideService(write, BeforeCommit, {
        run: (sql, change) =>
          Effect.tap(inTransaction(sql, announcement(change)), () => Effect.sync(() => (announcedInTransaction = true)))
      })
      return Effect.onExit(run, (exit) =>
        announcedInTransaction
          ? Effect.void
          : Exit.isSuccess(exit)
          ? announceAfterCommit(announcement(written(exit.value)))
          : Cause.isInterrupted(exit.cause)
          ? announceAfterCommit(touched)
          : Effect.void)
    })
  return {
    ...repository,
    create: (post) => announced(repository.create(post), (stored) => Written.Created({ post: stored }), [post.slug]),
    update: (slug, expectedVersion, post, expectedHashTag) =>
      announced(
        repository.update(slug, expectedVersion, post, expectedHashTag),
        (stored) => Written.Updated({ slug, post: stored }),
        [slug, post.slug]
      ),
    delete: (slug, expectedVersion, expectedHashTag) =>
      announced(repository.delete(slug, expectedVersion, expectedHashTag), () => Written.Deleted({ slug }), [slug]),
    // A dry run rolled back: nothing changed, whatever its outcomes say would. A batch
    // interrupted as it committed may have written any of its posts: every post is announced.
    upsertMany: (posts, options) =>
      options?.dryRun === true
        ? repository.upsertMany(posts, options)
        : announced(repository.upsertMany(posts, options), (result) => Written.Upserted({ result }), [ALL_POSTS])
  }
}

/** Wraps the PostRepository in context; needs PostChanges. */
export const layer: Layer.Layer<PostRepository, never, PostRepository | PostChanges> = Layer.effect(
  PostRepository,
  Effect.zipWith(PostRepository, PostChanges, announcing)
)
