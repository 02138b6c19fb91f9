/**
 * What every PostRepository implementation shares, so that they agree by construction:
 * paging arithmetic, the cursor format, how a stored Post is built from a NewPost, and the
 * upsert algorithm (slug matching, content-hash skip, slug-conflict policies).
 */
import { DateTime, Effect, Encoding, Either, Option, Schema } from "effect"
import { realpathSync } from "node:fs"
import { isAbsolute, relative, resolve } from "node:path"
import { DatabaseError, InvalidCursor, StaleVersion } from "../../Domain/Errors.js"
import { keptAlike } from "../../Processing/text.js"
import { makeValidPost, type NewPost, Post, PostId } from "../../Domain/Post.js"
import {
  DEFAULT_PAGE_SIZE,
  hashTagOf,
  MAX_PAGE_SIZE,
  MAX_SEARCH_RESULTS,
  namesOnePost,
  type SlugPolicy,
  type TagCount,
  type UpsertOutcome,
  type UpsertResult
} from "../PostRepository.js"

/**
 * `StaleVersion` when `post` is not the one a conditional write expects: another version, or
 * (with `expectedHashTag`, from an ETag) another content, such as a new post at a reused slug.
 */
export const checkExpected = (
  post: Post,
  slug: string,
  expectedVersion: number | undefined,
  expectedHashTag: string | undefined
): Effect.Effect<void, StaleVersion> =>
  (expectedVersion === undefined || post.version === expectedVersion) &&
    (expectedHashTag === undefined || hashTagOf(post) === expectedHashTag)
    ? Effect.void
    : Effect.fail(new StaleVersion({ slug, expected: expectedVersion ?? post.version, actual: post.version }))

/** `limit` clamped to 1..MAX_PAGE_SIZE; missing or not a number gives DEFAULT_PAGE_SIZE. */
export const clampLimit = (limit: number | undefined): number =>
  limit === undefined || !Number.isFinite(limit)
    ? DEFAULT_PAGE_SIZE
    : Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(limit)))

/**
 * `offset` as a whole number from 0 to MAX_SAFE_INTEGER: beyond that no store has a post to skip
 * to, and the engines' 64-bit integers refuse a larger one (a failed statement, not an empty page).
 */
export const clampOffset = (offset: number | undefined): number =>
  offset === undefined || Number.isNaN(offset) ? 0 : Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Math.floor(offset)))

/**
 * The results a search page reads: `limit` from `offset`, cut at MAX_SEARCH_RESULTS; `undefined`
 * when the page starts past it (an empty page, nothing read). `more` of the page's results is
 * `hasMore(read)`: a row past `limit` was found, and the page does not end at the cap.
 */
export const searchWindow = (query: { readonly limit?: number | undefined; readonly offset?: number | undefined }) => {
  const offset = clampOffset(query.offset)
  const limit = Math.min(clampLimit(query.limit), MAX_SEARCH_RESULTS - offset)
  if (limit <= 0) return undefined
  return { offset, limit, hasMore: (found: number) => found > limit && offset + limit < MAX_SEARCH_RESULTS }
}

/** The listing sort key: publishedAt, falling back to createdAt, in epoch milliseconds. */
export const sortKey = (post: Post): number => DateTime.toEpochMillis(post.publishedAt ?? post.createdAt)

/** Newest first, then id descending: the order of every listing. */
export const newestFirst = (a: Post, b: Post): number => {
  const byTime = sortKey(b) - sortKey(a)
  if (byTime !== 0) return byTime
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0
}

/**
 * JavaScript's string order (by UTF-16 code unit), the same in every locale and store, where SQL
 * `ORDER BY` follows PostgreSQL's collation: "Rust" before "rust".
 */
const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The `tags` answer from per-spelling counts (each post counted once per `tagKey`, under the
 * spelling it stored): one entry per key, named by its most used spelling (ties: the first in
 * string order), most used first, then by key. Every store ends here, so they agree.
 */
export const mergeTagCounts = (
  spellings: Iterable<{ readonly key: string; readonly tag: string; readonly count: number }>
): Array<TagCount> => {
  const byKey = new Map<string, { tag: string; best: number; count: number }>()
  for (const { count, key, tag } of spellings) {
    const entry = byKey.get(key)
    if (entry === undefined) {
      byKey.set(key, { tag, best: count, count })
      continue
    }
    entry.count += count
    if (count > entry.best || (count === entry.best && byCodeUnit(tag, entry.tag) < 0)) {
      entry.tag = tag
      entry.best = count
    }
  }
  return Array.from(byKey, ([key, { count, tag }]) => ({ key, tag, count }))
    .sort((a, b) => b.count - a.count || byCodeUnit(a.key, b.key))
    .map(({ count, tag }) => ({ tag, count }))
}

/** Where a page ended: the sort key and id of its last post. Keyset paging resumes after it. */
export interface Cursor {
  readonly at: number
  readonly id: string
}

/**
 * No id holds a NUL or a lone surrogate: a cursor whose id does is no cursor this service gave
 * (and PostgreSQL refused the NUL with a 500 where SQLite compared it), so it is a bad cursor, 400.
 */
const CursorId = Schema.String.pipe(Schema.filter(keptAlike))

const CursorJson = Schema.parseJson(Schema.Tuple(Schema.Int, CursorId))

/**
 * `oldSlugs`' answer from (old slug, post id) pairs: each post's slugs, sorted here (a database's
 * collation need not be JavaScript's order).
 */
export const slugsByPost = (pairs: Iterable<readonly [slug: string, postId: string]>): ReadonlyMap<string, ReadonlyArray<string>> => {
  const found = new Map<string, Array<string>>()
  for (const [slug, postId] of pairs) {
    const slugs = found.get(postId)
    if (slugs === undefined) found.set(postId, [slug])
    else slugs.push(slug)
  }
  for (const slugs of found.values()) slugs.sort()
  return found
}

export const encodeCursor = (post: Post): string => cursorOf(sortKey(post), post.id)

/** The cursor after a post at sort key `at` (epoch milliseconds) with id `id`. */
export const cursorOf = (at: number, id: string): string => Encoding.encodeBase64Url(JSON.stringify([at, id]))

/** `None` for anything not produced by `encodeCursor`. */
export const decodeCursor = (cursor: string): Option.Option<Cursor> =>
  Either.getRight(Encoding.decodeBase64UrlString(cursor)).pipe(
    Option.flatMap(Schema.decodeUnknownOption(CursorJson)),
    Option.map(([at, id]) => ({ at, id }))
  )

/** The cursor `query.cursor` names (`undefined` when none), or `InvalidCursor`. */
export const cursorOfQuery = (cursor: string | undefined): Effect.Effect<Cursor | undefined, InvalidCursor> => {
  if (cursor === undefined) return Effect.succeed(undefined)
  const decoded = decodeCursor(cursor)
  return Option.isSome(decoded) ? Effect.succeed(decoded.value) : Effect.fail(new InvalidCursor({ cursor }))
}

/** True when `post` comes strictly after the cursor in listing order. */
export const isAfter = (cursor: Cursor) => (post: Post): boolean => {
  const at = sortKey(post)
  return at < cursor.at || (at === cursor.at && post.id < cursor.id)
}

const SLUG_MAX = 200

/** `slug-n`, trimming the base when needed so the result stays a valid slug. */
export const suffixedSlug = (slug: string, n: number): string => {
  const suffix = `-${n}`
  const chars = Array.from(slug)
  const base = chars.length + suffix.length <= SLUG_MAX
    ? slug
    : chars.slice(0, SLUG_MAX - suffix.length).join("").replace(/-+$/, "")
  return base + suffix
}

/** The n of `suffixedSlug(slug, n)` when `candidate` is one, n >= 2. */
export const suffixNumber = (slug: string, candidate: string): Option.Option<number> => {
  const match = /-(\d+)$/.exec(candidate)
  if (!match) return Option.none()
  const n = Number(match[1])
  return n >= 2 && suffixedSlug(slug, n) === candidate ? Option.some(n) : Option.none()
}

/**
 * A stored post built from input. Construction validates every field unless `validate` is false:
 * a store whose schema enforces the invariants itself (SQL constraints) may skip it on bulk writes,
 * where validating a whole Post again costs more than the INSERT.
 */
const makePost = (operation: string, fields: ConstructorParameters<typeof Post>[0], validate = true) =>
  Effect.try({
    try: () => (validate ? makeValidPost(fields) : new Post(fields, true)),
    catch: (cause) => new DatabaseError({ operation, cause })
  })

const newPostFields = (post: NewPost, now: DateTime.Utc, slug: string, createdAt: DateTime.Utc, id: PostId | undefined) => ({
  ...post,
  slug: slug as Post["slug"],
  id: id ?? PostId.make(crypto.randomUUID()),
  createdAt,
  updatedAt: now,
  version: 1
})

/** `buildNew` without validation, for stores whose schema enforces the invariants. */
const newPost = (post: NewPost, now: DateTime.Utc, createdAt: DateTime.Utc, id: PostId | undefined): Post =>
  new Post(newPostFields(post, now, post.slug, createdAt, id), true)

/**
 * A new post at version 1 with a fresh id, written at `now` and created then, unless it was
 * created before elsewhere (`createdAt`: an exported record's, `UpsertOptions.createdAt`) and
 * had an id there that it keeps (`id`, `UpsertOptions.ids`: free here, as the caller checked).
 */
export const buildNew = (
  operation: string,
  post: NewPost,
  now: DateTime.Utc,
  options: {
    /** Where it is stored (a suffixed slug), else its own. */
    readonly slug?: string
    readonly validate?: boolean
    readonly createdAt?: DateTime.Utc
    readonly id?: PostId | undefined
  } = {}
): Effect.Effect<Post, DatabaseError> =>
  makePost(operation, newPostFields(post, now, options.slug ?? post.slug, options.createdAt ?? now, options.id), options.validate ?? true)

/** `previous` with the content of `post`, one version later. */
export const buildReplacement = (
  operation: string,
  previous: Post,
  post: NewPost,
  now: DateTime.Utc,
  slug: string = post.slug,
  validate = true
): Effect.Effect<Post, DatabaseError> =>
  makePost(operation, {
    ...post,
    slug: slug as Post["slug"],
    id: previous.id,
    createdAt: previous.createdAt,
    updatedAt: now,
    version: previous.version + 1
  }, validate)

/** An old slug and the post it leads to. */
export interface Redirect {
  readonly slug: string
  readonly postId: string
}

/** The outcomes under which the post was stored, so its old slugs may lead to it. */
const STORED: ReadonlySet<UpsertOutcome["action"]> = new Set(["inserted", "updated", "unchanged", "renamed"])

/** The storage operations the upsert algorithm needs, run inside one transaction. */
export interface UpsertStore<E, R> {
  readonly findBySlug: (slug: string) => Effect.Effect<Option.Option<Post>, E, R>
  readonly findBySource: (source: string) => Effect.Effect<ReadonlyArray<Post>, E, R>
  /**
   * The slug and source of every stored post whose source is one of `sources`: read once per
   * batch, before any write, to find posts whose title (so slug) changed since they were stored.
   */
  readonly slugsOfSources: (
    sources: ReadonlyArray<string>
  ) => Effect.Effect<ReadonlyArray<{ readonly slug: string; readonly source: string }>, E, R>
  /**
   * The id and slug of every stored post whose id is one of `ids`: read once per batch, before
   * any write, so a post the batch creates takes the id it carries only while no post has it.
   */
  readonly slugsOfIds: (
    ids: ReadonlyArray<string>
  ) => Effect.Effect<ReadonlyArray<{ readonly id: string; readonly slug: string }>, E, R>
  readonly insert: (post: Post) => Effect.Effect<void, E, R>
  /** Stores `next` over `previous` (same id). */
  readonly replace: (previous: Post, next: Post) => Effect.Effect<void, E, R>
  /**
   * Makes each `slug` redirect to its `postId`, after every write of the batch: skipped when a
   * post holds the slug (live) or it already redirects (`UpsertOptions.redirects`). The first
   * of several entries for one slug wins. Answers the slugs it made redirect, in entry order.
   */
  readonly redirect: (entries: ReadonlyArray<Redirect>) => Effect.Effect<ReadonlyArray<string>, E, R>
  /**
   * The same store seen synchronously, for a store that has read the batch's slugs up front:
   * `find` answers from what it holds (`undefined`: ask `findBySlug`), `insert` queues a row.
   * With it, a post that is new or unchanged costs no Effect (most posts of an import). Used
   * only when the caller skips validation (`validate: false`), as building such a post cannot fail.
   */
  readonly unsafe?: {
    readonly find: (slug: string) => Option.Option<Post> | undefined
    readonly insert: (post: Post) => void
  }
}

const OPERATION = "PostRepository.upsertMany"

/**
 * Whether a stored post came from `incoming`'s source. Imports name a file by its absolute path;
 * before, they named it as typed, relative to where `inkwell import` ran, so the same file had
 * as many identities as spellings (a re-run elsewhere failed every post, or with `suffix` stored
 * copies). A source stored that way still matches when it resolves, from this process's
 * directory, to the incoming one: a re-run from the same place keeps updating its posts.
 *
 * No rule here makes two URLs' names of a post one by what they share (an origin, a UUID): two
 * Inkwells may share an origin (`/alice/`, `/bob/`) and one keeps the ids of the posts it
 * imported from the other, so such a rule overwrote one site's post with the other's. Another
 * Inkwell's post read through its API is found under its feeds' names only as the item's
 * `formerSources`, from the feeds its own page declared (Sources/InkwellApi.ts `siteFeeds`).
 */
export const sameSource = (stored: string, incoming: string): boolean => {
  if (stored === incoming) return true
  const positional = POSITIONAL_ITEM.exec(stored)
  if (positional !== null && incoming.startsWith(`${positional[1]}#`)) return true
  const { file, record } = sourceParts(stored)
  // `file` spelled another way, with the same record after it (or, for a legacy line, any).
  const matches = (spelling: string) => record === undefined ? incoming.startsWith(`${spelling}#`) : incoming === spelling + record
  if (matches(file)) return true
  if (!isAbsolute(incoming)) return false
  if (!isAbsolute(file) && matches(resolve(file))) return true
  // Last, as it reads the file system: asked only for a slug held by another spelling (rare).
  const real = realFile(file)
  return (real !== undefined && matches(real)) || (record !== "" && realFile(stored) === incoming)
}

/**
 * A stored source as the file it names and which of its posts: `<file>#<slug>` (an NDJSON
 * record, `record` "#<slug>"), the legacy `<file>:<line>` (`record` undefined: any of that file's
 * records, see LEGACY_LINE), or a whole file (`record` ""). A file named with a `#` of its own
 * is also tried whole (`sameSource`).
 */
const sourceParts = (source: string): { readonly file: string; readonly record: string | undefined } => {
  const hash = source.lastIndexOf("#")
  if (hash > 0) return { file: source.slice(0, hash), record: source.slice(hash) }
  const line = LEGACY_LINE.exec(source)
  return line === null ? { file: source, record: "" } : { file: line[1]!, record: undefined }
}

/**
 * Imports name a file by its real path; before, by the path as given, so a tree imported through
 * a symbolic link (a linked home or synced folder) is stored under the link's spelling. Such a
 * post still belongs to the file its stored path leads to now: where `path` leads, resolved from
 * this process's directory; `undefined` when it leads nowhere.
 */
const realFile = (path: string): string | undefined => {
  try {
    return realpathSync.native(resolve(path))
  } catch {
    // Gone, unreadable, or not a path at all ("api", a URL): not the same file.
    return undefined
  }
}

/**
 * NDJSON records without `source` or `slug` were once known by their line (`posts.ndjson:3`,
 * `request:3`); they are now known by their slug (`<name>#<slug>`, Processing/records.ts
 * `readyRecord`). A post stored the old way still belongs to the same file's (or stream's) record
 * at its slug, so re-importing after the change updates its posts instead of conflicting with
 * them. The stored name may be spelled relative to where that import ran (see `sameSource`).
 */
const LEGACY_LINE = /^(.+):\d+$/

/**
 * Feed items without a guid, id or link were once known by their position (`<feed>#item-0`,
 * Atom's `#entry-0`), now by their title or text (Sources/SourceItem.ts `derivedId`). A post
 * stored the old way still belongs to the same feed's item at its slug, as a legacy line does
 * to its file's record (`sameSource` is asked only of the post holding the incoming one's slug).
 */
const POSITIONAL_ITEM = /^(https?:\/\/.+)#(?:item|entry)-\d+$/

/** The spelling an earlier import may have stored for an absolute `source` (see `sameSource`). */
const legacySource = (source: string): string | undefined => (isAbsolute(source) ? relative(process.cwd(), source) : undefined)

/**
 * Applies `posts` in order through `store` (which must hold one transaction), so later posts see
 * earlier ones. A post whose slug belongs to another source is resolved by `policy`.
 *
 * A post whose slug is free while the one post stored from its source sits at another slug (its
 * title or `slug:` changed) moves that post: same id, next version, the new slug. Only when the
 * source is unambiguous: one post of the batch and one stored post carry it, it is not in
 * `pinnedSources`, and it names one post (`namesOnePost`: not "api"); otherwise (suffixed copies,
 * records sharing a `source`, API posts) it is stored anew.
 *
 * A post it creates (inserted, or renamed to a suffix) is created at its `createdAt`, when given,
 * and takes its carried id (`ids`) unless a stored post or one created before it in the batch
 * has that id: then it gets a fresh one and its outcome names the holder (`idTakenBy`). One it
 * updates or moves keeps the creation time and id it has (`buildReplacement`).
 */
export const upsertAll = <E, R>(
  store: UpsertStore<E, R>,
  posts: ReadonlyArray<NewPost>,
  policy: SlugPolicy,
  now: DateTime.Utc,
  options: {
    readonly validate?: boolean
    readonly pinnedSources?: ReadonlySet<string> | undefined
    readonly redirects?: ReadonlyArray<ReadonlyArray<string> | undefined> | undefined
    readonly createdAt?: ReadonlyArray<DateTime.Utc | undefined> | undefined
    readonly formerSources?: ReadonlyArray<ReadonlyArray<string> | undefined> | undefined
    readonly ids?: ReadonlyArray<PostId | undefined> | undefined
  } = {}
): Effect.Effect<UpsertResult, E | DatabaseError, R> => {
  const validate = options.validate ?? true
  /** The sources the post at `index` may be stored under: its own, then an earlier version's (`UpsertOptions.formerSources`). */
  const spellingsOf = (post: NewPost, index: number): ReadonlyArray<string> => {
    const former = options.formerSources?.[index]
    return former === undefined || former.length === 0 ? [post.source] : [post.source, ...former]
  }
  /**
   * The sources to look the post at `index` up by: `spellingsOf`, then the spelling an earlier
   * import may have stored for its own (`legacySource`).
   */
  const lookupSpellings = (post: NewPost, index: number): ReadonlyArray<string> => {
    const legacy = legacySource(post.source)
    return legacy === undefined ? spellingsOf(post, index) : [...spellingsOf(post, index), legacy]
  }
  /** Whether a stored post of source `stored` is the one at `index` (`sameSource` of any of its spellings). */
  const isOwn = (stored: string, post: NewPost, index: number): boolean =>
    spellingsOf(post, index).some((spelling) => sameSource(stored, spelling))
  /**
   * When the post at `index` was created, should this batch create it (`UpsertOptions.createdAt`):
   * never after `now`, as a post is not created after it is first written (a later one would
   * also list an undated post as scheduled until then).
   */
  const createdAtOf = (index: number): DateTime.Utc => {
    const given = options.createdAt?.[index]
    return given === undefined ? now : DateTime.min(given, now)
  }
  /** Carried id -> the slug of the post holding it: stored ones (read by `load`), then this batch's. */
  const idHolders = new Map<string, string>()
  /** Index of a post created with a fresh id -> the slug of the post holding the id it carried. */
  const idTakenBy = new Map<number, string>()
  /**
   * The id the post at `index`, created at `slug`, takes: the one it carries while no post has it
   * (which it then holds), else `undefined`, a fresh one.
   */
  const idOf = (index: number, slug: string): PostId | undefined => {
    const given = options.ids?.[index]
    if (given === undefined) return undefined
    const holder = idHolders.get(given)
    if (holder !== undefined) {
      idTakenBy.set(index, holder)
      return undefined
    }
    idHolders.set(given, slug)
    return given
  }
  const outcome = (post: NewPost, action: UpsertOutcome["action"], storedSlug?: string): UpsertOutcome =>
    storedSlug !== undefined && storedSlug !== post.slug
      ? { slug: post.slug, source: post.source, action, storedSlug }
      : { slug: post.slug, source: post.source, action }

  /** Source -> how many posts of the batch carry it. */
  const inBatch = new Map<string, number>()
  /** Stored source (as spelled in the store) -> its stored slugs; filled by `load`. */
  const storedSlugs = new Map<string, Array<string>>()
  const load = Effect.suspend(() => {
    const spellings = new Set<string>()
    for (const [index, post] of posts.entries()) {
      inBatch.set(post.source, (inBatch.get(post.source) ?? 0) + 1)
      for (const spelling of lookupSpellings(post, index)) spellings.add(spelling)
    }
    const ids = new Set(options.ids?.filter((id) => id !== undefined))
    const bySource = spellings.size === 0 ? Effect.void : Effect.map(store.slugsOfSources(Array.from(spellings)), (rows) => {
      for (const { slug, source } of rows) {
        const slugs = storedSlugs.get(source)
        if (slugs === undefined) storedSlugs.set(source, [slug])
        else slugs.push(slug)
      }
    })
    const byId = ids.size === 0 ? Effect.void : Effect.map(store.slugsOfIds(Array.from(ids)), (rows) => {
      for (const { id, slug } of rows) idHolders.set(id, slug)
    })
    return Effect.zipRight(bySource, byId)
  })

  /**
   * The slug of the one stored post `post` should move from, if any. Read from the batch's
   * snapshot: only `post` itself writes to its source's posts (it is the only one carrying it).
   */
  const movedFrom = (post: NewPost, index: number): string | undefined => {
    if (storedSlugs.size === 0 || inBatch.get(post.source) !== 1 || options.pinnedSources?.has(post.source) === true) return undefined
    if (!namesOnePost(post.source)) return undefined
    const stored = lookupSpellings(post, index).flatMap((spelling) => storedSlugs.get(spelling) ?? [])
    return stored.length === 1 && stored[0] !== post.slug ? stored[0] : undefined
  }

  /** `post` stored over the post of its source at `from`; `undefined` when that is gone or not its own. */
  const move = (post: NewPost, index: number, from: string) =>
    Effect.gen(function*() {
      const previous = yield* store.findBySlug(from)
      if (Option.isNone(previous) || !isOwn(previous.value.source, post, index)) return undefined
      const next = yield* buildReplacement(OPERATION, previous.value, post, now, post.slug, validate)
      yield* store.replace(previous.value, next)
      return { slug: post.slug, source: post.source, action: "updated", movedFrom: from } satisfies UpsertOutcome
    })

  /**
   * Same source at `existing`: unchanged by content hash, else replaced one version later. An
   * unchanged post stored under another spelling of its source (relative, through a link) is
   * stored under the incoming one, at the same version: later runs then find it by that source
   * (`load`, `movedFrom`, the fast path) instead of resolving the old spelling every time.
   */
  const refresh = (post: NewPost, existing: Post) =>
    existing.contentHash === post.contentHash
      ? existing.source === post.source
        ? Effect.succeed(outcome(post, "unchanged", existing.slug))
        : Effect.as(
          store.replace(existing, new Post({ ...existing, source: post.source }, true)),
          outcome(post, "unchanged", existing.slug)
        )
      : buildReplacement(OPERATION, existing, post, now, existing.slug, validate).pipe(
        Effect.tap((next) => store.replace(existing, next)),
        Effect.as(outcome(post, "updated", existing.slug))
      )

  const withSuffix = (post: NewPost, index: number) =>
    Effect.gen(function*() {
      // A re-run finds the copy an earlier run stored under a suffix.
      const stored: Array<Post> = []
      for (const spelling of lookupSpellings(post, index)) stored.push(...(yield* store.findBySource(spelling)))
      // Of a source naming no one post ("api"), a suffixed post of it is another post unless it
      // holds this one's content: refreshed, an unrelated API post at `about-2` was overwritten.
      const ours = namesOnePost(post.source) ? stored : stored.filter((p) => p.contentHash === post.contentHash)
      const earlier = ours
        .flatMap((p) => Option.match(suffixNumber(post.slug, p.slug), { onNone: () => [], onSome: (n) => [[n, p] as const] }))
        .sort(([a], [b]) => a - b)
      if (earlier.length > 0) return yield* refresh(post, earlier[0]![1])
      for (let n = 2;; n++) {
        const candidate = suffixedSlug(post.slug, n)
        if (Option.isNone(yield* store.findBySlug(candidate))) {
          const created = yield* buildNew(OPERATION, post, now, {
            slug: candidate,
            validate,
            createdAt: createdAtOf(index),
            id: idOf(index, candidate)
          })
          yield* store.insert(created)
          return outcome(post, "renamed", candidate)
        }
      }
    })

  const one = (post: NewPost, index: number) =>
    Effect.gen(function*() {
      const existing = yield* store.findBySlug(post.slug)
      if (Option.isNone(existing)) {
        const from = movedFrom(post, index)
        const moved = from === undefined ? undefined : yield* move(post, index, from)
        if (moved !== undefined) return moved
        yield* store.insert(yield* buildNew(OPERATION, post, now, { validate, createdAt: createdAtOf(index), id: idOf(index, post.slug) }))
        return outcome(post, "inserted")
      }
      if (isOwn(existing.value.source, post, index)) return yield* refresh(post, existing.value)
      switch (policy) {
        case "fail":
          return { ...outcome(post, "conflict"), heldBy: existing.value.source }
        case "skip":
          return { ...outcome(post, "skipped"), heldBy: existing.value.source }
        case "suffix":
          return yield* withSuffix(post, index)
      }
    })

  /** New or unchanged, decided from what the store holds; `undefined` takes the general path. */
  const fast = (post: NewPost, index: number): UpsertOutcome | undefined => {
    const found = store.unsafe?.find(post.slug)
    if (found === undefined) return undefined
    if (Option.isNone(found)) {
      if (movedFrom(post, index) !== undefined) return undefined
      store.unsafe!.insert(newPost(post, now, createdAtOf(index), idOf(index, post.slug)))
      return outcome(post, "inserted")
    }
    const existing = found.value
    return existing.source === post.source && existing.contentHash === post.contentHash
      ? outcome(post, "unchanged", existing.slug)
      : undefined
  }

  /** Old slugs of the stored posts, found at the slug each outcome says it is stored at. */
  const redirectsOf = (outcomes: ReadonlyArray<UpsertOutcome>) =>
    Effect.gen(function*() {
      const entries: Array<Redirect> = []
      for (let i = 0; i < outcomes.length; i++) {
        const slugs = options.redirects?.[i]
        const outcome = outcomes[i]!
        if (slugs === undefined || slugs.length === 0 || !STORED.has(outcome.action)) continue
        const stored = yield* store.findBySlug(outcome.storedSlug ?? outcome.slug)
        if (Option.isNone(stored)) continue
        for (const slug of slugs) if (slug !== stored.value.slug) entries.push({ slug, postId: stored.value.id })
      }
      return entries.length > 0 ? yield* store.redirect(entries) : []
    })

  return Effect.gen(function*() {
    yield* load
    const outcomes: Array<UpsertOutcome> = []
    for (const [index, post] of posts.entries()) {
      const done = (validate ? undefined : fast(post, index)) ?? (yield* one(post, index))
      const holder = idTakenBy.get(index)
      outcomes.push(holder === undefined ? done : { ...done, idTakenBy: holder })
    }
    const redirectsAdded = yield* redirectsOf(outcomes)
    return redirectsAdded.length > 0 ? { outcomes, redirectsAdded } : { outcomes }
  })
}
