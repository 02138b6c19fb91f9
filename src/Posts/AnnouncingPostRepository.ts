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
import { PostRepository, type PostRepositoryShape, type UpsertOptions, type UpsertOutcome } from "./PostRepository.js"

const changed = (outcome: UpsertOutcome) =>
  outcome.action === "inserted" || outcome.action === "updated" || outcome.action === "renamed"

/**
 * Whether a bulk write may have added redirects (`UpsertOptions.redirects`) to a post it kept
 * unchanged: a cached 404 at an old slug must go as well. Told apart from a write that found
 * every redirect in place only by reading, so any old slug given counts.
 */
const redirected = (outcomes: ReadonlyArray<UpsertOutcome>, redirects: UpsertOptions["redirects"]) =>
  redirects !== undefined && outcomes.some((outcome, i) => outcome.action === "unchanged" && (redirects[i]?.length ?? 0) > 0)

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
    // One announcement per batch: a bulk write may touch hundreds of posts and every list.
    // A dry run rolled back: nothing changed, whatever its outcomes say would.
    upsertMany: (posts, options) =>
      options?.dryRun === true
        ? repository.upsertMany(posts, options)
        : Effect.tap(
          repository.upsertMany(posts, options),
          (result) =>
            result.outcomes.some(changed) || redirected(result.outcomes, options?.redirects) ? announce(ALL_POSTS) : Effect.void
        )
  }
}

/** Wraps the PostRepository in context; needs PostChanges. */
export const layer: Layer.Layer<PostRepository, never, PostRepository | PostChanges> = Layer.effect(
  PostRepository,
  Effect.zipWith(PostRepository, PostChanges, announcing)
)
