/**
 * An in-memory PostRepository for tests and embedding: the same contract as the SQL one
 * (test/Posts/PostRepositoryContract.ts, `movedFrom` included), state in a SynchronizedRef so
 * every write, including a whole `upsertMany` batch, is applied atomically or not at all.
 */
import { DateTime, Effect, Layer, Option, SynchronizedRef } from "effect"
import { PostNotFound, SlugConflict } from "../Domain/Errors.js"
import { aliasKey, aliasKeysOf, distinctTags, type NewPost, type Post, type PostStatus, tagKey } from "../Domain/Post.js"
import {
  buildNew,
  buildReplacement,
  checkExpected,
  clampLimit,
  clampOffset,
  cursorOfQuery,
  encodeCursor,
  isAfter,
  mergeTagCounts,
  newestFirst,
  searchWindow,
  sortKey,
  upsertAll,
  type Redirect,
  type UpsertStore,
  slugsByPost
} from "./internal/repository.js"
import { byRelevance, findsNothing, type Relevance, scoreOf, searchTerms } from "./internal/search.js"
import { clampSitemapLimit, isPast, oldestFirst, sitemapPostOf } from "./internal/sitemap.js"
import {
  type ListQuery,
  type PostPage,
  PostRepository,
  type PostRepositoryShape,
  type SearchPage,
  type SearchQuery,
  type SitemapPage,
  type SitemapQuery,
  type UpsertOptions
} from "./PostRepository.js"

interface State {
  /** Posts by id. */
  readonly posts: ReadonlyMap<string, Post>
  /** The post id each slug a post left leads to (slug_redirects in the SQL stores). */
  readonly redirects: ReadonlyMap<string, string>
}

const empty: State = { posts: new Map(), redirects: new Map() }

const findBySlug = (state: State, slug: string): Option.Option<Post> => {
  for (const post of state.posts.values()) if (post.slug === slug) return Option.some(post)
  return Option.none()
}

const getOrFail = (state: State, slug: string) =>
  Option.match(findBySlug(state, slug), {
    onNone: () => Effect.fail(new PostNotFound({ slug })),
    onSome: Effect.succeed
  })

/** A mutable copy, written by one operation and kept only when all of it succeeded. */
const draftOf = (state: State) => ({ posts: new Map(state.posts), redirects: new Map(state.redirects) })
type Draft = ReturnType<typeof draftOf>

/** A slug a post takes is live: no longer a moved post's old address. */
const insertInto = (draft: Draft, post: Post) => {
  draft.posts.set(post.id, post)
  draft.redirects.delete(post.slug)
}

/** `next` took over from `previous`: the slug it left leads to it (whichever post that slug led to before). */
const replaceIn = (draft: Draft, previous: Post, next: Post) => {
  draft.posts.set(next.id, next)
  if (previous.slug === next.slug) return
  draft.redirects.delete(next.slug)
  draft.redirects.set(previous.slug, previous.id)
}

/** Old slugs that lead nowhere yet: a live slug stays live, a redirect keeps its post. Answers those added. */
const redirectIn = (draft: Draft, entries: ReadonlyArray<Redirect>): ReadonlyArray<string> => {
  const added: Array<string> = []
  for (const { postId, slug } of entries) {
    if (draft.redirects.has(slug) || Option.isSome(findBySlug(draft, slug))) continue
    draft.redirects.set(slug, postId)
    added.push(slug)
  }
  return added
}

/** A deleted post takes its old addresses with it. */
const deleteFrom = (draft: Draft, post: Post) => {
  draft.posts.delete(post.id)
  for (const [slug, id] of draft.redirects) if (id === post.id) draft.redirects.delete(slug)
}

const applied = <A>(state: State, write: (draft: Draft) => A): [A, State] => {
  const draft = draftOf(state)
  return [write(draft), draft]
}

/** Listed at or before `asOf` (every post when there is none), as `ListQuery.asOf`. */
const dueBy = (asOf: DateTime.Utc | undefined) => {
  const limit = asOf === undefined ? Infinity : DateTime.toEpochMillis(asOf)
  return (post: Post): boolean => sortKey(post) <= limit
}

export const make: Effect.Effect<PostRepositoryShape> = Effect.gen(function*() {
  const ref = yield* SynchronizedRef.make<State>(empty)

  const create = Effect.fn("PostRepository.create")(function*(post: NewPost) {
    const now = yield* DateTime.now
    return yield* SynchronizedRef.modifyEffect(ref, (state) =>
      Effect.gen(function*() {
        if (Option.isSome(findBySlug(state, post.slug))) return yield* new SlugConflict({ slug: post.slug })
        const created = yield* buildNew("PostRepository.create", post, now)
        return applied(state, (draft) => (insertInto(draft, created), created))
      }))
  })

  const getBySlug = Effect.fn("PostRepository.getBySlug")(function*(slug: string) {
    return yield* getOrFail(yield* SynchronizedRef.get(ref), slug)
  })

  /** The posts a listing or a search takes: its status, tag (whatever its case) and `asOf`. */
  const listedBy = (query: Pick<ListQuery, "status" | "tag" | "asOf">) => {
    const due = dueBy(query.asOf)
    const key = query.tag === undefined ? undefined : tagKey(query.tag)
    return (post: Post): boolean =>
      (query.status === undefined || post.status === query.status) &&
      (key === undefined || post.tags.some((tag) => tagKey(tag) === key)) &&
      due(post)
  }

  const list = Effect.fn("PostRepository.list")(function*(query: ListQuery) {
    const state = yield* SynchronizedRef.get(ref)
    const limit = clampLimit(query.limit)
    let posts = Array.from(state.posts.values()).filter(listedBy(query)).sort(newestFirst)
    const cursor = yield* cursorOfQuery(query.cursor)
    if (cursor !== undefined) {
      posts = posts.filter(isAfter(cursor))
    } else {
      posts = posts.slice(clampOffset(query.offset))
    }
    const items = posts.slice(0, limit)
    const last = items[items.length - 1]
    return { items, next: posts.length > limit && last ? encodeCursor(last) : null } satisfies PostPage
  })

  const update = Effect.fn("PostRepository.update")(function*(
    slug: string,
    expectedVersion: number,
    post: NewPost,
    expectedHashTag?: string
  ) {
    const now = yield* DateTime.now
    return yield* SynchronizedRef.modifyEffect(ref, (state) =>
      Effect.gen(function*() {
        const existing = yield* getOrFail(state, slug)
        yield* checkExpected(existing, slug, expectedVersion, expectedHashTag)
        const holder = findBySlug(state, post.slug)
        if (Option.isSome(holder) && holder.value.id !== existing.id) {
          return yield* new SlugConflict({ slug: post.slug })
        }
        const next = yield* buildReplacement("PostRepository.update", existing, post, now)
        return applied(state, (draft) => (replaceIn(draft, existing, next), next))
      }))
  })

  const delete_ = Effect.fn("PostRepository.delete")(function*(slug: string, expectedVersion?: number, expectedHashTag?: string) {
    yield* SynchronizedRef.updateEffect(ref, (state) =>
      Effect.gen(function*() {
        const existing = yield* getOrFail(state, slug)
        yield* checkExpected(existing, slug, expectedVersion, expectedHashTag)
        return applied(state, (draft) => deleteFrom(draft, existing))[1]
      }))
  })

  const upsertMany = Effect.fn("PostRepository.upsertMany")(function*(
    posts: ReadonlyArray<NewPost>,
    options?: UpsertOptions
  ) {
    const now = yield* DateTime.now
    return yield* SynchronizedRef.modifyEffect(ref, (state) => {
      // Writes go to a draft that replaces the state only when the whole batch succeeded.
      const draft = draftOf(state)
      const store: UpsertStore<never, never> = {
        findBySlug: (slug) => Effect.sync(() => findBySlug(draft, slug)),
        findBySource: (source) => Effect.sync(() => Array.from(draft.posts.values()).filter((p) => p.source === source)),
        slugsOfSources: (sources) =>
          Effect.sync(() => {
            const wanted = new Set(sources)
            return Array.from(draft.posts.values()).filter((p) => wanted.has(p.source))
          }),
        slugsOfIds: (ids) =>
          Effect.sync(() => ids.flatMap((id) => draft.posts.get(id as Post["id"]) ?? [])),
        insert: (post) => Effect.sync(() => insertInto(draft, post)),
        replace: (previous, next) => Effect.sync(() => replaceIn(draft, previous, next)),
        redirect: (entries) => Effect.sync(() => redirectIn(draft, entries))
      }
      return Effect.map(
        upsertAll(store, posts, options?.onSlugConflict ?? "fail", now, {
          pinnedSources: options?.pinnedSources,
          redirects: options?.redirects,
          createdAt: options?.createdAt,
          formerSources: options?.formerSources,
          ids: options?.ids
        }),
        // A dry run keeps the state as it was: the draft is dropped.
        (result) => [result, options?.dryRun === true ? state : draft as State] as const
      )
    })
  })

  const tags = Effect.fn("PostRepository.tags")(function*(status?: PostStatus, asOf?: DateTime.Utc, only?: string) {
    // Per spelling, as the SQL stores count their rows: a post once per key, in its first spelling.
    const counts = new Map<string, { readonly key: string; readonly tag: string; count: number }>()
    const due = dueBy(asOf)
    const wanted = only === undefined ? undefined : tagKey(only)
    for (const post of (yield* SynchronizedRef.get(ref)).posts.values()) {
      if ((status !== undefined && post.status !== status) || !due(post)) continue
      for (const { key, tag } of distinctTags(post.tags)) {
        if (wanted !== undefined && key !== wanted) continue
        const entry = counts.get(tag)
        if (entry === undefined) counts.set(tag, { key, tag, count: 1 })
        else entry.count++
      }
    }
    return mergeTagCounts(counts.values())
  })

  const neighbours = (post: Post, status: PostStatus, asOf?: DateTime.Utc) =>
    Effect.map(SynchronizedRef.get(ref), (state) => {
      const due = dueBy(asOf)
      const listed = Array.from(state.posts.values()).filter((p) => (p.status === status && due(p)) || p.id === post.id).sort(newestFirst)
      const at = listed.findIndex((p) => p.id === post.id)
      const others = (from: number, step: number) => {
        for (let i = from; i >= 0 && i < listed.length; i += step) if (listed[i]!.status === status) return listed[i]
        return undefined
      }
      return at === -1 ? { newer: undefined, older: undefined } : { newer: others(at - 1, -1), older: others(at + 1, 1) }
    })

  // A scan: the memory store is for tests and embedding, where the posts fit in a glance.
  const findByAlias = (alias: string, asOf?: DateTime.Utc) =>
    Effect.map(SynchronizedRef.get(ref), (state) => {
      const key = aliasKey(alias)
      const due = dueBy(asOf)
      // Newest first, so the newest of several published posts claiming the alias wins.
      const claimant = Array.from(state.posts.values())
        .filter((post) => post.status === "published" && due(post) && aliasKeysOf(post).includes(key))
        .sort(newestFirst)[0]
      return Option.map(Option.fromNullable(claimant), (post) => post.slug as string)
    })

  const movedFrom = (slug: string) =>
    Effect.map(SynchronizedRef.get(ref), (state) => {
      const id = state.redirects.get(slug)
      return Option.fromNullable(id === undefined ? undefined : state.posts.get(id))
    })

  const oldSlugs = (ids: ReadonlyArray<string>) =>
    Effect.map(SynchronizedRef.get(ref), (state) => {
      const wanted = new Set(ids)
      return slugsByPost(Array.from(state.redirects).filter(([, id]) => wanted.has(id)))
    })

  const nextScheduled = (after: DateTime.Utc) =>
    Effect.map(SynchronizedRef.get(ref), (state) => {
      const from = DateTime.toEpochMillis(after)
      let next = Infinity
      for (const post of state.posts.values()) {
        const at = sortKey(post)
        if (post.status === "published" && at > from && at < next) next = at
      }
      return next === Infinity ? Option.none() : Option.some(DateTime.unsafeMake(next))
    })

  // A scan scoring every post (`scoreOf`), as the rest of this store scans.
  const search = (query: SearchQuery) =>
    Effect.map(SynchronizedRef.get(ref), (state): SearchPage => {
      const terms = searchTerms(query.text)
      const window = searchWindow(query)
      if (findsNothing(terms) || window === undefined) return { items: [], more: false }
      const { limit, offset } = window
      const listed = listedBy(query)
      const found: Array<{ readonly post: Post; readonly relevance: Relevance }> = []
      for (const post of state.posts.values()) {
        if (!listed(post)) continue
        const relevance = scoreOf(post, terms)
        if (relevance !== undefined) found.push({ post, relevance })
      }
      found.sort((a, b) => byRelevance(a.relevance, b.relevance) || newestFirst(a.post, b.post))
      return { items: found.slice(offset, offset + limit).map(({ post }) => post), more: window.hasMore(found.length - offset) }
    })

  // A scan and a sort per page, as the rest of this store scans.
  const sitemapPosts = (query: SitemapQuery) =>
    Effect.map(SynchronizedRef.get(ref), (state): SitemapPage => {
      const due = dueBy(query.asOf)
      const listed = Array.from(state.posts.values()).filter((post) => post.status === "published" && due(post)).sort(oldestFirst)
      const from = query.after === undefined ? listed.slice(clampOffset(query.offset)) : listed.filter(isPast(query.after))
      const limit = clampSitemapLimit(query.limit)
      const page = from.slice(0, limit)
      const last = page[page.length - 1]
      return {
        items: page.map(sitemapPostOf),
        next: from.length > limit && last !== undefined ? { at: sortKey(last), id: last.id } : null
      }
    })

  return {
    search,
    sitemapPosts,
    neighbours,
    findByAlias,
    movedFrom,
    oldSlugs,
    nextScheduled,
    create,
    getBySlug,
    list,
    update,
    delete: delete_,
    upsertMany,
    tags,
    ping: Effect.void
  }
})

/** A fresh, empty repository per build. */
export const layer: Layer.Layer<PostRepository> = Layer.effect(PostRepository, make)
