/**
 * `inkwell export`: stored posts as NDJSON records that `inkwell import` reads back to the same
 * posts (Processing/records.ts `exportRecord`), for backups and for moving a blog from one
 * database to another.
 *
 * Posts are read page by page through `PostRepository.list`, following its keyset cursor, and
 * every page is written before the next is read: memory holds one page whatever the number of
 * posts. Each page's old slugs (those that redirect to its posts, `PostRepositoryShape.oldSlugs`)
 * are read in one query before it is written: a record carries them as `movedFrom`, and an import
 * makes them redirect again. A record carries the post's `createdAt` and `id` too, which a post
 * the import creates takes: one without `publishedAt`, listed by it, keeps its place, posts of one
 * date keep their order (by id), and feed items their ids. The listing is asked
 * without `asOf`, so drafts and scheduled posts (published with a date still to come, hidden from
 * readers) are exported like any other.
 *
 * `fromSnapshot` reads every page from one snapshot of the database (`DatabasePool.snapshot`):
 * one read transaction, so the export is the database as it was at its first read, while the
 * server goes on writing and is not held up. Without it, the pages would be separate reads: a
 * post written meanwhile could be in the export or not, and one whose date changed could move
 * past the cursor (missed, or exported twice).
 */
import { Chunk, Effect, Option, Stream } from "effect"
import { DatabasePool } from "../Database/DatabasePool.js"
import type { DatabaseError, PoolTimeout, RepositoryError } from "../Domain/Errors.js"
import type { Post, PostStatus } from "../Domain/Post.js"
import { exportRecord } from "../Processing/records.js"
import { MAX_PAGE_SIZE, PostRepository } from "../Posts/PostRepository.js"
import * as SqlPostRepository from "../Posts/SqlPostRepository.js"
import type { ExportOutput, OutputFailed } from "./ExportOutput.js"

/** Which posts an export takes; `undefined` takes every one. */
export interface ExportFilter {
  readonly status?: PostStatus | undefined
  readonly tag?: string | undefined
}

/** Posts per read: the repository's largest page. */
export const PAGE_SIZE = MAX_PAGE_SIZE

/** The posts `filter` takes, newest first (the listing's order), one chunk per page read. */
export const posts = (filter: ExportFilter): Stream.Stream<Post, RepositoryError, PostRepository> =>
  Stream.unwrap(Effect.map(PostRepository, (repository) =>
    Stream.paginateChunkEffect(undefined as string | undefined, (cursor) =>
      repository.list({ status: filter.status, tag: filter.tag, limit: PAGE_SIZE, cursor }).pipe(
        // The cursor is the repository's own, from the page before: refused, it is a bug.
        Effect.catchTag("InvalidCursor", (error) => Effect.die(error)),
        Effect.map((page) => [Chunk.unsafeFromArray(page.items), Option.fromNullable(page.next)] as const)
      ))))

/** What has been written so far: read when an export ends, however it ends. */
export class ExportTally {
  posts = 0
  /**
   * The output is complete: a file took its place. A stop (Ctrl-C) that comes while it is
   * committed waits for the commit, then interrupts what follows: it must not be reported as one
   * that left the destination as it was.
   */
  committed = false
}

const utf8 = new TextEncoder()

const none: ReadonlyMap<string, ReadonlyArray<string>> = new Map()

/**
 * A page of posts as NDJSON bytes: one line per post, each ending with a newline, carrying the
 * post's old slugs from `oldSlugs` (by post id).
 */
export const encodePage = (
  page: Chunk.Chunk<Post>,
  oldSlugs: ReadonlyMap<string, ReadonlyArray<string>> = none
): Uint8Array => {
  let text = ""
  for (const post of page) text += `${exportRecord(post, oldSlugs.get(post.id))}\n`
  return utf8.encode(text)
}

/**
 * The slugs that redirect to the posts of `page`: one read per page, so that an import restores
 * every old link (none from a store without `oldSlugs`).
 */
const oldSlugsOf = (page: Chunk.Chunk<Post>): Effect.Effect<ReadonlyMap<string, ReadonlyArray<string>>, RepositoryError, PostRepository> =>
  Effect.flatMap(PostRepository, (repository) =>
    repository.oldSlugs === undefined ? Effect.succeed(none) : repository.oldSlugs(Chunk.toReadonlyArray(page).map((post) => post.id)))

/**
 * Writes every post `filter` takes to `output`, one page at a time, then commits it (a file
 * takes its place). `tally` counts the posts whose page was written.
 */
export const run = (
  filter: ExportFilter,
  output: ExportOutput,
  tally: ExportTally = new ExportTally()
): Effect.Effect<ExportTally, RepositoryError | OutputFailed, PostRepository> =>
  posts(filter).pipe(
    Stream.chunks,
    // An empty database's one page: nothing to write (a file's `writeAll` refuses zero bytes).
    Stream.filter((page) => page.length > 0),
    // Written and counted as one step, which a stop (Ctrl-C) does not cut: standard output ends
    // with a whole record and the count is of the posts written. A reader that takes nothing
    // holds the stop until the second signal, which exits at once.
    // The page's old slugs are read first, so a stop while reading them cuts no write.
    Stream.runForEach((page) =>
      Effect.flatMap(oldSlugsOf(page), (oldSlugs) =>
        Effect.uninterruptible(Effect.zipRight(
          Effect.suspend(() => output.write(encodePage(page, oldSlugs))),
          Effect.sync(() => {
            tally.posts += page.length
          })
        )))
    ),
    // Committed and marked as one step, which a stop does not cut.
    Effect.zipRight(Effect.uninterruptible(Effect.zipRight(
      output.commit,
      Effect.sync(() => {
        tally.committed = true
      })
    ))),
    Effect.as(tally)
  )

/**
 * `effect` (an export) with the SQL repository over one snapshot of the pool's database: every
 * page it lists comes from the same read transaction, ended however `effect` ends.
 */
export const fromSnapshot = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E | DatabaseError | PoolTimeout, Exclude<R, PostRepository> | DatabasePool> =>
  Effect.flatMap(DatabasePool, (pool) =>
    pool.snapshot("PostExport.snapshot", (snapshot) =>
      Effect.flatMap(
        Effect.provideService(SqlPostRepository.make, DatabasePool, snapshot),
        (repository) => Effect.provideService(effect, PostRepository, repository)
      )))
