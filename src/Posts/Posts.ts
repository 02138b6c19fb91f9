/**
 * Posts: what the API does with posts, independent of HTTP. Processing happens here, on
 * write (reads are lookups); a post the API creates has the source "api", and an update keeps
 * the source the post has.
 */
import { Cause, DateTime, Effect, Either, Exit, Option, type Scope } from "effect"
import { type InvalidCursor, InvalidPost, PostNotFound, type RepositoryError, StaleVersion } from "../Domain/Errors.js"
import { makeNewPost, NewPost, type Post, PostInput, type PostStatus } from "../Domain/Post.js"
import { futureUpdate } from "../Processing/dates.js"
import { carryInternalLinks, internalLinks } from "../Processing/internalLinks.js"
import { parseFrontMatter } from "../Processing/frontMatter.js"
import { PostProcessor } from "../Processing/PostProcessor.js"
import { postInputOf, updatedDateKey } from "../Processing/processPost.js"
import { type EncodedPost, getEncodedOf, type ListEncoded, listEncodedOf } from "./internal/encodedReads.js"
import { sameContent } from "./internal/sortedJson.js"
import {
  API_SOURCE,
  isPublicAt,
  type ListQuery,
  movedVisible,
  type PostPage,
  PostRepository,
  type SearchPage,
  type SearchQuery
} from "./PostRepository.js"

/** A client's post: JSON fields, or markdown with optional front matter. */
export type PostContent = PostInput | string

/**
 * A published post needs a publication date for feeds and ordering: when it has none (the client
 * gave none, and an update found none stored), now.
 */
const stampPublication = (post: NewPost) =>
  post.status !== "published" || post.publishedAt !== null
    ? Effect.succeed(post)
    : Effect.map(DateTime.now, (publishedAt) => makeNewPost({ ...post, publishedAt }))

/**
 * `post`, made of `content`, unless its `updated` date is still to come at the time of the write
 * (`futureUpdate`): a 400 naming the date and where it was given as the client wrote it (the
 * `updatedAt` field, or the front matter key, `lastmod`, with its line: `api:3`). Taken, a typo
 * (2031 for 2021) was the date readers were sent in the post's page, every feed, the sitemap and
 * Last-Modified.
 */
const updatedByNow = (post: NewPost, content: PostContent) =>
  Effect.flatMap(DateTime.now, (now) => {
    const reason = futureUpdate(post.updatedAtSource, post.publishedAt, now)
    if (reason === undefined) return Effect.succeed(post)
    const { field, line } = updatedDateKey(typeof content === "string" ? { body: content } : content)
    return Effect.fail(new InvalidPost({ source: line === undefined ? API_SOURCE : `${API_SOURCE}:${line}`, field, reason }))
  })

/**
 * Whether `input` says what its status is: the `status` field, or the body's front matter
 * `status` or `draft` (read as processing reads them: a null is not given). A front matter that
 * does not parse counts as saying: processing refuses the post anyway.
 */
const namesStatus = (input: PostInput): boolean => {
  if (input.status !== undefined) return true
  return Either.match(parseFrontMatter(input.body), {
    onLeft: () => true,
    onRight: ({ data }) => (data["status"] !== undefined && data["status"] !== null) || (data["draft"] !== undefined && data["draft"] !== null)
  })
}

/**
 * An update keeps the post's source: where it came from (a file, a feed, an upload), by which
 * imports find it again. Written as "api", a post imported from a file and then edited with a PUT
 * belonged to another source, and the next import of that file refused it. Processed as "api"
 * all the same, so a refusal names the request, not the file.
 */
const keepSource = (post: NewPost, stored: Post): NewPost =>
  post.source === stored.source ? post : makeNewPost({ ...post, source: stored.source })

/**
 * An update whose body is the stored one keeps the addresses its Zola internal links
 * (`@/blog/post.md`) were given by the import of its directory, which alone can resolve them:
 * processed again they are as written, and a PUT of the post's own JSON (a tag added, a
 * draft published) broke them. A new body's are as written (`warnInternalLinks`); the next
 * import of the file, which replaces the edit, resolves them again.
 */
const keepLinks = (post: NewPost, stored: Post): NewPost => {
  if (post.body !== stored.body) return post
  const html = carryInternalLinks(post.html, stored.html)
  return html === undefined || html === post.html ? post : makeNewPost({ ...post, html })
}

/** Logs the Zola internal links (`@/...`) `post` was written with as written: nothing through the API resolves them. */
const warnInternalLinks = (post: Post): Effect.Effect<void> => {
  const hrefs = [...new Set(internalLinks(post.html).map((link) => link.href))]
  return hrefs.length === 0
    ? Effect.void
    : Effect.logWarning(
      `post "${post.slug}": Zola internal links kept as written (${hrefs.map((href) => JSON.stringify(href)).join(", ")}): ` +
        "only an import of the post's markdown file, in its directory, resolves them"
    )
}

/**
 * An update that makes the post it already is keeps its content hash. The hash is over the input
 * as given (the fields given, as written), and a post's JSON sent back as `GET` gave it gives
 * every field, in the store's words (`2024-05-01T00:00:00.000Z` for `2024-05-01`): the same post
 * hashed as another, so its ETag changed, and the next import of the file it came from found it
 * changed.
 */
const keepHashIfSame = (post: NewPost, stored: Post): NewPost =>
  post.contentHash === stored.contentHash || !sameContent(post, stored)
    ? post
    : makeNewPost({ ...post, contentHash: stored.contentHash })

/** Told the slugs of the posts a write through `Posts` changed (`Posts.followWrites`). */
export type WriteListener = (slugs: ReadonlyArray<string>) => Effect.Effect<void>

export class Posts extends Effect.Service<Posts>()("Inkwell/Posts", {
  effect: Effect.gen(function* () {
    const repository = yield* PostRepository
    const processor = yield* PostProcessor

    const listeners = new Set<WriteListener>()

    /**
     * `write`, whose listeners are told `changed(result)` once it succeeded, or `touched` (every
     * slug it may have written) when it was interrupted, as it may have committed before that was
     * seen; a failure committed nothing. Before the write returns: a read after it is never
     * answered from what a listener (the response cache) held before.
     */
    const told = <A, E, R>(write: Effect.Effect<A, E, R>, changed: (result: A) => ReadonlyArray<string>, touched: ReadonlyArray<string>) =>
      Effect.onExit(write, (exit) => {
        if (listeners.size === 0) return Effect.void
        const slugs = Exit.isSuccess(exit) ? changed(exit.value) : Cause.isInterrupted(exit.cause) ? touched : []
        if (slugs.length === 0) return Effect.void
        const each = Array.from(new Set(slugs))
        // The write stands whatever a listener does: its failure is logged, never the write's.
        return Effect.forEach(listeners, (listener) =>
          Effect.catchAllCause(listener(each), (cause) => Effect.logError(`a listener of post writes failed (${each.join(", ")})`, cause)), { discard: true })
      })

    // The reads are plain functions rather than `Effect.fn`: on the read path a span and a
    // generator per call are a measurable share of a request.
    const list = (query: ListQuery): Effect.Effect<PostPage, InvalidCursor | RepositoryError> => repository.list(query)

    /**
     * Full-text search (`PostRepository.search`); `query.status` and `query.asOf` are the draft
     * and schedule rules, as for `list`. A repository without search is a defect: every store
     * of this codebase has it, and only a hand-built one can lack it.
     */
    const search = (query: SearchQuery): Effect.Effect<SearchPage, RepositoryError> =>
      repository.search === undefined
        ? Effect.dieMessage("this PostRepository offers no search (PostRepository.search)")
        : repository.search(query)

    /**
     * Drafts, and published posts whose time has not come (scheduled: `isPublicAt`), are
     * reported as missing to readers who may not see them, rather than as forbidden.
     */
    const visible = <P extends { readonly status: PostStatus; readonly listedAt: number }>(slug: string) =>
    (post: P): Effect.Effect<P, PostNotFound> =>
      post.status !== "published"
        ? Effect.fail(new PostNotFound({ slug }))
        : Effect.clockWith((clock) =>
          post.listedAt <= clock.unsafeCurrentTimeMillis() ? Effect.succeed(post) : Effect.fail(new PostNotFound({ slug }))
        )

    const get = (slug: string, options: { readonly includeDrafts: boolean }): Effect.Effect<Post, PostNotFound | RepositoryError> =>
      options.includeDrafts
        ? repository.getBySlug(slug)
        : Effect.flatMap(repository.getBySlug(slug), (post) =>
          Effect.flatMap(DateTime.now, (now) => isPublicAt(post, now) ? Effect.succeed(post) : Effect.fail(new PostNotFound({ slug }))))

    /**
     * The post that left `slug` (renamed, or its title changed on re-import), where it is now,
     * when the caller may read it there as `get` would: a reader without drafts is not told
     * where a draft or scheduled post went. `None` when no post left the slug, or the repository
     * keeps no old slugs (`PostRepository.movedFrom`).
     */
    const movedFrom = (slug: string, options: { readonly includeDrafts: boolean }): Effect.Effect<Option.Option<Post>, RepositoryError> =>
      repository.movedFrom === undefined
        ? Effect.succeedNone
        : Effect.flatMap(repository.movedFrom(slug), (moved) =>
          options.includeDrafts || Option.isNone(moved)
            ? Effect.succeed(movedVisible(moved, slug, undefined))
            : Effect.map(DateTime.now, (now) => movedVisible(moved, slug, now)))

    /**
     * `get` as the post's response JSON, when the repository can read it so (SQLite:
     * internal/encodedReads.ts); `undefined` from the effect when this row cannot be read so,
     * and no function at all when the repository never can: use `get` then.
     */
    const encoded = getEncodedOf(repository)
    const getEncoded = encoded === undefined
      ? undefined
      : (slug: string, options: { readonly includeDrafts: boolean }): Effect.Effect<EncodedPost | undefined, PostNotFound | RepositoryError> =>
        Effect.flatMap(encoded(slug), (post) =>
          post === undefined || options.includeDrafts ? Effect.succeed(post) : visible<EncodedPost>(slug)(post))

    /**
     * `list` as the API's answer (summaries, JSON bytes), when the repository can build it so;
     * `undefined` from the effect when a row on the page cannot be, and no function at all when
     * the repository never can: use `list` then. `query.status` and `query.asOf` are the draft
     * and schedule rules, as for `list`.
     */
    const listEncoded: ListEncoded | undefined = listEncodedOf(repository)

    const create = Effect.fn("Posts.create")(function* (content: PostContent) {
      const post =
        typeof content === "string"
          ? yield* processor.process({ source: API_SOURCE, raw: content })
          : yield* processor.fromInput(content, API_SOURCE)
      const stamped = yield* updatedByNow(yield* stampPublication(post), content)
      return yield* Effect.tap(told(repository.create(stamped), (stored) => [stored.slug], [stamped.slug]), warnInternalLinks)
    })

    /**
     * `content` for the post at `slug`: the slug stays unless the JSON fields name another
     * (front matter in a markdown body cannot rename: the URL is the explicit field). Fields given
     * as a plain object are read as an instance's (`postInputOf`): its constructor threw on a bad
     * one, a defect where the post was invalid.
     */
    const inputAt = (slug: string, content: PostContent): Either.Either<PostInput, InvalidPost> =>
      typeof content === "string"
        ? Either.right(new PostInput({ body: content, slug }))
        : Either.map(postInputOf(content, API_SOURCE), (input) => new PostInput({ ...input, slug: input.slug ?? slug }))

    /**
     * Creates the post at `slug` only if none is there (`PUT` with `If-None-Match: *`): the
     * insert itself is the check (the slug is unique), so of two such writes one is `SlugConflict`.
     */
    const createAt = Effect.fn("Posts.createAt")(function* (slug: string, content: PostContent) {
      const input = yield* inputAt(slug, content)
      const post = yield* processor.fromInput(input, API_SOURCE)
      const stamped = yield* updatedByNow(yield* stampPublication(post), input)
      return yield* Effect.tap(told(repository.create(stamped), (stored) => [stored.slug], [stamped.slug]), warnInternalLinks)
    })

    /**
     * Replaces the post at `slug`, renaming it when the JSON fields name another slug. A status
     * neither field nor front matter gives is the post's own (creation's default is "published"),
     * and so is its source (`keepSource`).
     * `expectedHashTag`: the content-hash part of the ETag the client sent (see PostRepository).
     * `known`: the post at `slug` as the caller just read it (a PUT's preconditions), used
     * instead of reading it again; the repository's check in the write's transaction stays the
     * final word on whether it is still the stored one.
     */
    const update = Effect.fn("Posts.update")(function* (
      slug: string,
      expectedVersion: number,
      content: PostContent,
      expectedHashTag?: string,
      known?: Post
    ) {
      const stored = known ?? (yield* repository.getBySlug(slug))
      // Stale already: no processing for a write the repository would refuse.
      if (stored.version !== expectedVersion) {
        return yield* new StaleVersion({ slug, expected: expectedVersion, actual: stored.version })
      }
      const given = yield* inputAt(slug, content)
      // A status left out keeps the stored one: "published", creation's default, made an edit of a
      // draft (a typo fixed, without `status` or front matter `draft: true`) public at once.
      const input = namesStatus(given) ? given : new PostInput({ ...given, status: stored.status })
      const processed = keepLinks(keepSource(yield* processor.fromInput(input, API_SOURCE), stored), stored)
      // A date left out keeps the stored one whatever the status: taken down as a draft and put
      // back, a post kept its place (a post of 2024 jumped to the top of the blog, dated anew) and
      // its schedule (a post scheduled for next week, made a draft and published again, went out
      // at once).
      const post = processed.publishedAt === null && stored.publishedAt !== null
        ? makeNewPost({ ...processed, publishedAt: stored.publishedAt })
        : processed
      // A post published undated stays undated: listings and feeds already go by its creation
      // (`sortKey`), and a date stamped here made an unchanged PUT a change (its hash, and the
      // file's next import "updated"). Only a post newly published is stamped.
      const undated = post.status === "published" && post.publishedAt === null && stored.status === "published" &&
        stored.publishedAt === null
      const next = keepHashIfSame(undated ? post : yield* stampPublication(post), stored)
      const written = yield* updatedByNow(next, input)
      return yield* Effect.tap(
        told(
          repository.update(slug, expectedVersion, written, expectedHashTag),
          (stored) => [slug, stored.slug],
          [slug, written.slug]
        ),
        warnInternalLinks
      )
    })

    const remove = Effect.fn("Posts.remove")(function* (slug: string, expectedVersion?: number, expectedHashTag?: string) {
      return yield* told(repository.delete(slug, expectedVersion, expectedHashTag), () => [slug], [slug])
    })

    /**
     * Calls `listener` after each write made here (`create`, `createAt`, `update`, `remove`),
     * before the write returns, with the slugs of the posts it changed (a rename's two), until
     * `scope` closes: how a `ResponseCache` in this process drops what a host's own write made
     * stale, whatever the repository. Writes to the repository that do not go through `Posts` (an
     * import, `Reprocess`) are not told here: `PostChanges` announces those
     * (`AnnouncingPostRepository`), and the HTTP imports drop the cache themselves.
     */
    const followWrites = (listener: WriteListener): Effect.Effect<void, never, Scope.Scope> =>
      Effect.acquireRelease(
        // Its own entry: the same function followed twice is called twice, and each scope ends its own.
        Effect.sync(() => {
          const entry: WriteListener = (slugs) => listener(slugs)
          listeners.add(entry)
          return entry
        }),
        (entry) => Effect.sync(() => void listeners.delete(entry))
      ).pipe(Effect.asVoid)

    const tags = Effect.fn("Posts.tags")(function* (status?: PostStatus, asOf?: DateTime.Utc) {
      return yield* repository.tags(status, asOf)
    })

    /** When the public listing next changes by itself (`PostRepository.nextScheduled`); absent when the repository cannot tell. */
    const nextScheduled: ((after: DateTime.Utc) => Effect.Effect<Option.Option<DateTime.Utc>, RepositoryError>) | undefined =
      repository.nextScheduled

    /** Succeeds when the database answers through the pool. */
    const ping: Effect.Effect<void, RepositoryError> = repository.ping

    return {
      list,
      search,
      listEncoded,
      get,
      getEncoded,
      movedFrom,
      create,
      createAt,
      update,
      remove,
      tags,
      nextScheduled,
      ping,
      followWrites,
      /**
       * What every write here renders with: the bulk imports of the API render with it too, so a
       * post imported is the post `create` would have made (an embedder's own processor, a RenderPool).
       */
      processor
    } as const
  })
}) {}
