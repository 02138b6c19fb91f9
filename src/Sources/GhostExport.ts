/**
 * A Ghost JSON export (`{db: [{meta, data: {posts, tags, posts_tags, users, posts_authors, ...}}]}`)
 * as a Stream of `SourceItem`s, read with a streaming JSON parser so that memory stays flat
 * however large the export (Ghost's own importer parses it whole and runs out of memory).
 *
 * Joining without holding the posts: Ghost writes `posts` before `tags`, `users` and the join
 * tables, so the file is read twice. The first pass keeps only the small tables (tags, users,
 * posts_tags, posts_authors: a few short strings per row) and drops every post as soon as it is
 * parsed; the second pass maps each post as it is parsed and emits it. Rows of every table are
 * emitted and released one by one (`keepStack: false`), so big tables we do not use (revisions,
 * members, emails) never accumulate either. The price is reading the bytes twice, which is
 * cheap next to processing the posts.
 *
 * Bodies come from the `html` field (Ghost renders Mobiledoc and Lexical into it on export);
 * a post without `html` falls back to `plaintext`, and is rejected (not fatal) without either.
 *
 * A post is known by its Ghost `uuid` (`ghostIdentity`), which no edit in Ghost changes, and a
 * post the import creates takes it as its id, as another Inkwell's post takes its own.
 *
 * Bytes that are not UTF-8 fail only the posts they are in (`badBytes.ts`): in a post's row, or
 * in a tag's or an author's it is joined to (their id, name or visibility, or any key: a damaged
 * key hides which field it was), or in a join row naming it (its ids or keys). Their other
 * values (a tag's description, a user's bio) are not imported and fail nothing. One where no post
 * can be told (outside any string, in a tag's or a user's id, in a join row's `post_id`, or in a
 * key of a row whose id or `post_id` is then missing) refuses the export, naming the byte.
 */
import { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { JSONParser } from "@streamparser/json"
import { DateTime, Effect, Either, Schema, Stream } from "effect"
import { DecodeError } from "../Clients/FeedErrors.js"
import { type BadBytes, failIfBad, firstBadByte, firstBadKey, MAX_BAD_BYTES, utf8Marker } from "./badBytes.js"
import { type PostId, Slug } from "../Domain/Post.js"
import { postIdOf } from "../Processing/records.js"
import { htmlBody, readDates, resolveLinks, textBody } from "./html.js"
import { entry, itemSource, rejected, type SourceItem, toPostInput } from "./SourceItem.js"

export interface GhostExportOptions {
  /**
   * Names the export in every item's `source` (`<name>#<uuid>`, else `<name>#<slug>`) and error;
   * usually the file path.
   */
  readonly name: string
  /** Ghost pages (`type: "page"`) are skipped unless this is true. */
  readonly includePages?: boolean | undefined
  /**
   * The old site's URL: replaces the `__GHOST_URL__` placeholder of Ghost 4+ exports and makes
   * relative links absolute. Without it the placeholder is dropped, leaving site-relative links.
   */
  readonly siteUrl?: string | undefined
}

interface Row {
  readonly table: string
  readonly value: unknown
  /** Where the export's bad bytes are, as far as read: the same for every row. */
  readonly bad: BadBytes
}

interface Tables {
  readonly tags: Map<string, { readonly name: string; readonly internal: boolean }>
  readonly users: Map<string, string>
  readonly postsTags: Map<string, Array<{ readonly id: string; readonly order: number }>>
  readonly postsAuthors: Map<string, Array<{ readonly id: string; readonly order: number }>>
  /**
   * The first bad byte of what a post is joined to, by `tag:<id>`, `user:<id>` and `post:<id>`
   * (a join row naming the post with a bad byte in its other id).
   */
  readonly damage: Map<string, number>
  /** A bad byte where no post can be told whose it is: the export is refused. */
  unplaceable: DecodeError | undefined
  /** Whether anything looked like a Ghost export at all. */
  found: boolean
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === "string" && v.trim() !== "" ? v : typeof v === "number" ? String(v) : undefined)

/**
 * Rows of every `db[*].data.<table>` array, one at a time, plus a `meta` marker. Malformed JSON
 * fails the stream with the parser's position.
 */
const rows = <E, R>(bytes: Stream.Stream<Uint8Array, E, R>, name: string): Stream.Stream<Row, E | DecodeError, R> =>
  Stream.suspend(() => {
    const parser = new JSONParser({ paths: ["$.db.*.meta", "$.db.*.data.*.*"], keepStack: false })
    let out: Array<Row> = []
    let failure: DecodeError | undefined
    let offset = 0
    // Each bad byte marked before the parser sees the bytes: its decoder fails on them without
    // saying where, and the posts without one are to be read all the same.
    const utf8 = utf8Marker()
    const bad: BadBytes = { offsets: utf8.offsets }
    const notUtf8 = (at: number) => badByteError(name, at)
    parser.onValue = ({ stack, value }) => {
      const key = stack[stack.length - 1]?.key
      const table = stack.length === 3 ? "meta" : String(key)
      // A table's name is structure: one misread would pass over its rows without a word.
      const inName = firstBadByte(table, bad)
      if (inName !== undefined) failure ??= notUtf8(inName)
      out.push({ table, value, bad })
    }
    /** The first bad byte of a sequence cut off by the end of the bytes. */
    let cutOff: number | undefined
    /**
     * A position in the bytes the parser reads, where each bad byte is its marker's 4, as one in
     * the export's own; or the bad byte whose marker it is in (a marker outside any string).
     */
    const ownPosition = (position: number): { readonly at: number; readonly badByte: boolean } => {
      let passed = 0
      for (const [k, own] of utf8.offsets.entries()) {
        const marked = own + 3 * k
        if (marked > position) break
        if (position < marked + 4) return { at: own, badByte: true }
        passed = k + 1
      }
      return { at: position - 3 * passed, badByte: false }
    }
    parser.onError = (err) => {
      // The parser's words for "cut off" and its internal states are no help to a reader.
      const ended = /ended in mid-parsing|ended in the middle of a token/.test(err.message)
      const position = /absolute position "(\d+)"/.exec(err.message)?.[1]
      const own = position === undefined ? undefined : ownPosition(Number(position))
      if (own?.badByte === true || (ended && cutOff !== undefined)) {
        failure ??= notUtf8(own?.badByte === true ? own.at : cutOff!)
        return
      }
      failure ??= new DecodeError({
        url: name,
        format: "ghost",
        path: ended ? `byte ${offset}` : own !== undefined ? `byte ${own.at}` : `near byte ${offset}`,
        reason: ended
          ? "the JSON ends before it is complete (cut off?)"
          : err.message.replace(/ at chunk position "\d+" \(absolute position "\d+"\)/, "").replace(/ in state \w+$/, "")
      })
    }
    const take = (): Effect.Effect<Array<Row>, DecodeError> => {
      if (failure !== undefined) return Effect.fail(failure)
      const taken = out
      out = []
      return Effect.succeed(taken)
    }
    const body = bytes.pipe(
      Stream.mapEffect((chunk) =>
        Effect.suspend(() => {
          const marked = failure === undefined ? utf8.write(chunk) : chunk
          if (utf8.offsets.length > MAX_BAD_BYTES) failure ??= notUtf8(utf8.offsets[0]!)
          if (failure !== undefined) {
            // Nothing more to read.
          } else if (!parser.isEnded) parser.write(marked)
          else if (/\S/.test(new TextDecoder().decode(marked))) {
            failure = new DecodeError({ url: name, format: "ghost", path: `byte ${offset}`, reason: "data after the end of the JSON document" })
          }
          offset += chunk.length
          return take()
        })
      )
    )
    const end = Stream.fromEffect(Effect.suspend(() => {
      const before = utf8.offsets.length
      const rest = failure === undefined ? utf8.end() : new Uint8Array(0)
      if (rest.length > 0) {
        cutOff = utf8.offsets[before]
        if (parser.isEnded) failure ??= notUtf8(cutOff!)
        else parser.write(rest)
      }
      if (!parser.isEnded && failure === undefined) parser.end()
      return take()
    }))
    return Stream.concat(body, end).pipe(Stream.flattenIterables)
  })

const badByteError = (name: string, at: number) =>
  new DecodeError({ url: name, format: "ghost", path: `byte ${at}`, reason: "not valid UTF-8 (invalid or truncated sequence)" })

const collectTables = <E, R>(bytes: Stream.Stream<Uint8Array, E, R>, name: string) =>
  rows(bytes, name).pipe(
    Stream.runFold(
      { tags: new Map(), users: new Map(), postsTags: new Map(), postsAuthors: new Map(), damage: new Map(), unplaceable: undefined, found: false } as Tables,
      (t, row) => {
        t.found = true
        const v = row.value
        if (!isObj(v)) return t
        const badIn = (value: unknown) => firstBadByte(value, row.bad)
        const damaged = (key: string, at: number | undefined) => {
          if (at !== undefined && !(at >= (t.damage.get(key) ?? Infinity))) t.damage.set(key, at)
        }
        /** A bad byte in an id that says which posts a row is for: none can be told. */
        const unplaceable = (at: number | undefined) => {
          if (at !== undefined) t.unplaceable ??= badByteError(name, at)
        }
        /** A bad byte in a key or in one of `values`: a key's hides which field it was, and what it said is lost. */
        const badInRow = (...values: ReadonlyArray<unknown>) => {
          const found = [firstBadKey(v, row.bad), badIn(values)].filter((at) => at !== undefined)
          return found.length === 0 ? undefined : Math.min(...found)
        }
        /** A tag or user row: damage fails the posts joined to it; unless its id cannot be read (a bad byte in it, or in a key that may be `id`). */
        const named = (kind: string, ...values: ReadonlyArray<unknown>): string | undefined => {
          const id = str(v["id"])
          const at = badInRow(...values)
          if (id === undefined || badIn(v["id"]) !== undefined) unplaceable(badInRow(v["id"], ...values))
          else damaged(`${kind}:${id}`, at)
          return id
        }
        const push = (map: Tables["postsTags"], postId: unknown, id: unknown, order: unknown) => {
          const p = str(postId)
          const i = str(id)
          // One whose post cannot be told (a bad byte in its post_id, or in a key that may be it) fails no post in particular.
          if (p === undefined || badIn(postId) !== undefined) unplaceable(badInRow(postId, id))
          else damaged(`post:${p}`, badInRow(id))
          if (p === undefined || i === undefined) return
          const list = map.get(p) ?? []
          list.push({ id: i, order: typeof order === "number" ? order : list.length })
          map.set(p, list)
        }
        switch (row.table) {
          case "tags": {
            const id = named("tag", v["name"], v["visibility"])
            const tagName = str(v["name"])
            if (id !== undefined && tagName !== undefined) {
              t.tags.set(id, { name: tagName, internal: v["visibility"] === "internal" || tagName.startsWith("#") })
            }
            break
          }
          case "users": {
            const id = named("user", v["name"])
            const userName = str(v["name"])
            if (id !== undefined && userName !== undefined) t.users.set(id, userName)
            break
          }
          case "posts_tags":
            push(t.postsTags, v["post_id"], v["tag_id"], v["sort_order"])
            break
          case "posts_authors":
            push(t.postsAuthors, v["post_id"], v["author_id"], v["sort_order"])
            break
        }
        return t
      }
    )
  )

const isSlug = Schema.is(Slug)

const ordered = (list: ReadonlyArray<{ readonly id: string; readonly order: number }> | undefined) =>
  [...(list ?? [])].sort((a, b) => a.order - b.order).map((x) => x.id)

/**
 * Which post of the export named `name` a Ghost post is, and the id a post the import creates
 * takes. By its `uuid`, when it is one (`postIdOf`: lowercased, as Inkwell writes ids): Ghost
 * never changes it, so a post whose slug changed in Ghost is moved here on the next import (its
 * old slug redirecting) where, known by its slug, it was a new post beside the old copy; and its
 * feed items' id (`urn:uuid:<uuid>`) is the same in any database it is imported into. (It is not
 * Ghost's own feeds' `<guid>`, which is bare: older Ghosts' `uuid`, current ones' `id`.) Earlier
 * versions knew every post by its slug (`<name>#<slug>`), as a post whose `uuid` is missing or
 * no UUID still is (and takes a new id): such a stored post is found under that name
 * (`formerSources`) and keeps the id it has.
 */
const ghostIdentity = (
  name: string,
  uuid: unknown,
  bySlug: string
): { readonly source: string; readonly former?: ReadonlyArray<string>; readonly id?: PostId } => {
  const id = Either.getOrUndefined(postIdOf(typeof uuid === "string" ? uuid : undefined))
  return id === undefined ? { source: bySlug } : { source: itemSource(name, id), former: [bySlug], id }
}

/** One Ghost post row → an entry, or a rejection naming the post. Pure. */
export const mapGhostPost = (value: unknown, index: number, tables: Tables, options: GhostExportOptions): SourceItem => {
  if (!isObj(value)) return rejected(`${options.name}#posts.${index}`, "a post must be a JSON object")
  const id = str(value["id"]) ?? `posts.${index}`
  const slug = str(value["slug"])
  const source = `${options.name}#${slug ?? id}`
  const type = str(value["type"]) ?? "post"
  if (type === "page" && options.includePages !== true) return rejected(source, "a Ghost page, not a post", true)

  // Refused, not replaced by one made from the title: that silently moved the post to another
  // URL than the one it had. One edit in the export (or removing the slug) and a new run fixes it.
  if (slug !== undefined && !isSlug(slug)) {
    return rejected(source, `slug ${JSON.stringify(slug)} is not a valid slug (lowercase letters and digits joined by single dashes): correct it in the export, or remove it to have one made from the title`)
  }

  const siteUrl = options.siteUrl?.replace(/\/+$/, "")
  const unplaceholder = (s: string) => s.replace(/__GHOST_URL__/g, siteUrl ?? "")
  const html = str(value["html"])
  const plaintext = str(value["plaintext"])
  const base = siteUrl === undefined ? undefined : `${siteUrl}/`
  const body = html !== undefined
    ? htmlBody(resolveLinks(unplaceholder(html), base))
    : plaintext !== undefined
    ? textBody(plaintext)
    : undefined
  if (body === undefined) {
    return rejected(source, "no html or plaintext body (Mobiledoc/Lexical without rendered html are not converted)")
  }

  const tags = ordered(tables.postsTags.get(id)).flatMap((tagId) => {
    const tag = tables.tags.get(tagId)
    return tag === undefined || tag.internal ? [] : [tag.name]
  })
  const authorIds = ordered(tables.postsAuthors.get(id))
  const legacyAuthor = str(value["author_id"])
  const authors = (authorIds.length > 0 ? authorIds : legacyAuthor === undefined ? [] : [legacyAuthor]).flatMap((a) => {
    const authorName = tables.users.get(a)
    return authorName === undefined ? [] : [authorName]
  })
  const featureImage = str(value["feature_image"])
  const { dates, problems } = readDates(
    { published_at: value["published_at"], updated_at: value["updated_at"], created_at: value["created_at"] },
    (field) => `${field}:`
  )
  if (problems.length > 0) return rejected(source, problems.join("; "))
  const createdAt = dates.created_at
  // Scheduled in Ghost is published with a date to come here, hidden until then, as Inkwell's
  // own scheduled posts are; as a draft it was never published. Without a date it has no time.
  const scheduled = value["status"] === "scheduled"
  if (scheduled && dates.published_at === undefined) {
    return rejected(source, "status \"scheduled\" without a published_at: no time to publish it at")
  }
  const identity = ghostIdentity(options.name, value["uuid"], source)
  return entry(
    identity.source,
    toPostInput({
      title: str(value["title"]),
      slug,
      body,
      tags,
      status: value["status"] === "published" || scheduled ? "published" : "draft",
      publishedAt: dates.published_at,
      updatedAt: dates.updated_at,
      authors,
      summary: str(value["custom_excerpt"]),
      metadata: {
        ghostId: id,
        ghostStatus: str(value["status"]),
        ghostType: type === "post" ? undefined : type,
        visibility: value["visibility"] === "public" ? undefined : str(value["visibility"]),
        featureImage: featureImage === undefined ? undefined : unplaceholder(featureImage),
        canonicalUrl: str(value["canonical_url"])
      }
    }),
    // A draft is listed by when it was created (it has no publication date).
    createdAt === undefined ? undefined : DateTime.unsafeMake(createdAt),
    identity.former,
    identity.id
  )
}

/** The first bad byte of the tags, authors and join rows a post row is joined to, or undefined. */
const joinedDamage = (value: unknown, tables: Tables): number | undefined => {
  if (tables.damage.size === 0 || !isObj(value)) return undefined
  const id = str(value["id"])
  if (id === undefined) return undefined
  const keys = [
    `post:${id}`,
    ...(tables.postsTags.get(id) ?? []).map((t) => `tag:${t.id}`),
    ...(tables.postsAuthors.get(id) ?? []).map((a) => `user:${a.id}`),
    ...(str(value["author_id"]) === undefined ? [] : [`user:${str(value["author_id"])}`])
  ]
  const found = keys.flatMap((key) => tables.damage.get(key) ?? [])
  return found.length === 0 ? undefined : Math.min(...found)
}

/**
 * Posts of a Ghost export. `bytes` is run twice (see the module comment), so it must be
 * re-readable: a file stream is, a one-shot request body is not. A malformed document fails the
 * stream with a `DecodeError` naming the byte position; a bad post is a `Rejected` item.
 */
export const ghostExport = <E, R>(
  bytes: Stream.Stream<Uint8Array, E, R>,
  options: GhostExportOptions
): Stream.Stream<SourceItem, E | DecodeError, R> =>
  Stream.unwrap(
    Effect.map(collectTables(bytes, options.name), (tables) => {
      if (!tables.found) {
        return Stream.fail(
          new DecodeError({ url: options.name, format: "ghost", path: "db", reason: "not a Ghost export: expected {\"db\": [{\"meta\": ..., \"data\": {...}}]}" })
        )
      }
      if (tables.unplaceable !== undefined) return Stream.fail(tables.unplaceable)
      return rows(bytes, options.name).pipe(
        Stream.filter((row) => row.table === "posts"),
        Stream.zipWithIndex,
        Stream.map(([row, index]) =>
          failIfBad(mapGhostPost(row.value, index, tables, options), row.value, undefined, row.bad, joinedDamage(row.value, tables))
        )
      )
    })
  )

/** A Ghost export file, read as a stream (twice). */
export const ghostExportFile = (
  path: string,
  options: Omit<GhostExportOptions, "name"> & { readonly name?: string } = {}
): Stream.Stream<SourceItem, PlatformError | DecodeError, FileSystem.FileSystem> =>
  Stream.unwrap(
    Effect.map(FileSystem.FileSystem, (fs) => ghostExport(fs.stream(path, { chunkSize: 64 * 1024 }), { ...options, name: options.name ?? path }))
  )
