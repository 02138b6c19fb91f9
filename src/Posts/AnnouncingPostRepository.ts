/**
 * A PostRepository that tells every Inkwell process on the same database about each write it
 * committed, through PostChanges (NOTIFY on PostgreSQL), so their response caches drop what
 * changed. Announcing from the repository rather than from the HTTP layer covers every writer:
 * API requests, `inkwell import` runs, and apps embedding the layers.
 *
 * An announcement is made after the write returned (so after commit) and never fails the write:
 * the data is stored whatever happens to the notification; a lost one is bounded by the caches'
 * TTL, and a listener that reconnects is told to drop everything.
 */
import { Cause, Effect, Exit, Layer } from "effect"
import { ALL_POSTS, PostChanges, type PostChangesShape } from "../Database/PostChanges.js"
import { PostRepository, type PostRepositoryShape, type UpsertOutcome, type UpsertResult } from "./PostRepository.js"

const changed = (outcome: UpsertOutcome) =>
  outcome.action === "inserted" || outcome.action === "updated" || outcome.action === "renamed"

/**
 * Beyond this many old slugs made to redirect, a bulk write announces every post instead: each
 * slug is a NOTIFY round trip of the writer's, and each drops every list and site page anyway.
 */
export const MAX_REDIRECT_ANNOUNCEMENTS = 100

/**
 * What a bulk write announces: every post when it changed any (it may touch hundreds, and every
 * list); else each old slug it made redirect (`UpsertResult.redirectsAdded`), whose answer went
 * from a 404 to a redirect; else nothing (a re-import, even one naming old slugs already in place).
 * A new redirect changes no answer the response cache keeps (it keeps no 404 nor redirect, and a
 * slug a live post holds never gains one): its slug is announced for what PostChanges promises
 * its subscribers, and it costs no Reset.
 */
const bulkAnnouncement = (result: UpsertResult): ReadonlyArray<string> => {
  if (result.outcomes.some(changed)) return [ALL_POSTS]
  const added = result.redirectsAdded ?? []
  return added.length > MAX_REDIRECT_ANNOUNCEMENTS ? [ALL_POSTS] : added
}

/** `repository` with every committed write announced on `changes`. Reads are untouched. */
export const announcing = (repository: PostRepositoryShape, changes: PostChangesShape): PostRepositoryShape => {
  const announce = (...slugs: ReadonlyArray<string>) =>
    Effect.forEach(new Set(slugs), changes.publish, { discard: true }).pipe(
      Effect.catchAllCause((cause) =>
        Effect.logWarning("could not announce a post change to other processes", cause)
      )
    )
  /**
   * Announces after `write`: what it returned, on success. An interrupted write (its client
   * went away, its request timed out) may have committed before the interruption was seen, and
   * announcing only on success left the other processes' caches stale for their whole TTL:
   * then `touched` (every slug it may have written) is announced. Failures committed nothing.
   */
  const announceAfter = <A, E, R>(
    write: Effect.Effect<A, E, R>,
    written: (value: A) => ReadonlyArray<string>,
    touched: ReadonlyArray<string>
  ) =>
    Effect.onExit(write, (exit) =>
      Exit.isSuccess(exit)
        ? announce(...written(exit.value))
        : Cause.isInterrupted(exit.cause)
        ? announce(...touched)
        : Effect.void)
  return {
    ...repository,
    create: (post) => announceAfter(repository.create(post), (stored) => [stored.slug], [post.slug]),
    update: (slug, expectedVersion, post, expectedHashTag) =>
      announceAfter(
        repository.update(slug, expectedVersion, post, expectedHashTag),
        (stored) => [slug, stored.slug],
        [slug, post.slug]
      ),
    delete: (slug, expectedVersion, expectedHashTag) =>
      announceAfter(repository.delete(slug, expectedVersion, expectedHashTag), () => [slug], [slug]),
    // A dry run rolled back: nothing changed, whatever its outcomes say would. A batch
    // interrupted as it committed may have written any of its posts: every post is announced.
    upsertMany: (posts, options) =>
      options?.dryRun === true
        ? repository.upsertMany(posts, options)
        : announceAfter(repository.upsertMany(posts, options), bulkAnnouncement, [ALL_POSTS])
  }
}

/** Wraps the PostRepository in context; needs PostChanges. */
export const layer: Layer.Layer<PostRepository, never, PostRepository | PostChanges> = Layer.effect(
  PostRepository,
  Effect.zipWith(PostRepository, PostChanges, announcing)
)
