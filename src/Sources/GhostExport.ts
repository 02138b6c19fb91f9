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
 */
import { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { JSONParser } from "@streamparser/json"
import { DateTime, Effect, Schema, Stream } from "effect"
import { DecodeError } from "../Clients/FeedErrors.js"
import { utf8Checker } from "../Domain/utf8.js"
import { Slug } from "../Domain/Post.js"
import { htmlBody, readDates, resolveLinks, textBody } from "./html.js"
import { entry, rejected, type SourceItem, toPostInput } from "./SourceItem.js"

export interface GhostExportOptions {
  /** Names the export in every item's `source` (`<name>#<slug>`) and error; usually the file path. */
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
}

interface Tables {
  readonly tags: Map<string, { readonly name: string; readonly internal: boolean }>
  readonly users: Map<string, string>
  readonly postsTags: Map<string, Array<{ readonly id: string; readonly order: number }>>
  readonly postsAuthors: Map<string, Array<{ readonly id: string; readonly order: number }>>
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
    // Checked before the parser sees the bytes: its decoder fails without saying where, and
    // `offset` is then only where the chunk began ("near byte 0" for a bad byte at 110).
    const utf8 = utf8Checker()
    const notUtf8 = (at: number) =>
      new DecodeError({ url: name, format: "ghost", path: `byte ${at}`, reason: "not valid UTF-8 (invalid or truncated sequence)" })
    parser.onValue = ({ stack, value }) => {
      const key = stack[stack.length - 1]?.key
      out.push({ table: stack.length === 3 ? "meta" : String(key), value })
    }
    parser.onError = (err) => {
      // The parser's words for "cut off" and its internal states are no help to a reader.
      const ended = /ended in mid-parsing|ended in the middle of a token/.test(err.message)
      const at = /absolute position "(\d+)"/.exec(err.message)?.[1]
      failure ??= new DecodeError({
        url: name,
        format: "ghost",
        path: ended ? `byte ${offset}` : at !== undefined ? `byte ${at}` : `near byte ${offset}`,
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
          const bad = failure === undefined ? utf8.write(chunk) : -1
          if (bad !== -1) failure = notUtf8(bad)
          else if (!parser.isEnded) parser.write(chunk)
          else if (failure === undefined && /\S/.test(new TextDecoder().decode(chunk))) {
            failure = new DecodeError({ url: name, format: "ghost", path: `byte ${offset}`, reason: "data after the end of the JSON document" })
          }
          offset += chunk.length
          return take()
        })
      )
    )
    const end = Stream.fromEffect(Effect.suspend(() => {
      const bad = failure === undefined ? utf8.end() : -1
      if (bad !== -1) failure = notUtf8(bad)
      else if (!parser.isEnded && failure === undefined) parser.end()
      return take()
    }))
    return Stream.concat(body, end).pipe(Stream.flattenIterables)
  })

const collectTables = <E, R>(bytes: Stream.Stream<Uint8Array, E, R>, name: string) =>
  rows(bytes, name).pipe(
    Stream.runFold(
      { tags: new Map(), users: new Map(), postsTags: new Map(), postsAuthors: new Map(), found: false } as Tables,
      (t, row) => {
        t.found = true
        const v = row.value
        if (!isObj(v)) return t
        const push = (map: Tables["postsTags"], postId: unknown, id: unknown, order: unknown) => {
          const p = str(postId)
          const i = str(id)
          if (p === undefined || i === undefined) return
          const list = map.get(p) ?? []
          list.push({ id: i, order: typeof order === "number" ? order : list.length })
          map.set(p, list)
        }
        switch (row.table) {
          case "tags": {
            const id = str(v.id)
            const tagName = str(v.name)
            if (id !== undefined && tagName !== undefined) {
              t.tags.set(id, { name: tagName, internal: v.visibility === "internal" || tagName.startsWith("#") })
            }
            break
          }
          case "users": {
            const id = str(v.id)
            const userName = str(v.name)
            if (id !== undefined && userName !== undefined) t.users.set(id, userName)
            break
          }
          case "posts_tags":
            push(t.postsTags, v.post_id, v.tag_id, v.sort_order)
            break
          case "posts_authors":
            push(t.postsAuthors, v.post_id, v.author_id, v.sort_order)
            break
        }
        return t
      }
    )
  )

const isSlug = Schema.is(Slug)

const ordered = (list: ReadonlyArray<{ readonly id: string; readonly order: number }> | undefined) =>
  [...(list ?? [])].sort((a, b) => a.order - b.order).map((x) => x.id)

/** One Ghost post row → an entry, or a rejection naming the post. Pure. */
export const mapGhostPost = (value: unknown, index: number, tables: Tables, options: GhostExportOptions): SourceItem => {
  if (!isObj(value)) return rejected(`${options.name}#posts.${index}`, "a post must be a JSON object")
  const id = str(value.id) ?? `posts.${index}`
  const slug = str(value.slug)
  const source = `${options.name}#${slug ?? id}`
  const type = str(value.type) ?? "post"
  if (type === "page" && options.includePages !== true) return rejected(source, "a Ghost page, not a post", true)

  // Refused, not replaced by one made from the title: that silently moved the post to another
  // URL than the one it had. One edit in the export (or removing the slug) and a new run fixes it.
  if (slug !== undefined && !isSlug(slug)) {
    return rejected(source, `slug ${JSON.stringify(slug)} is not a valid slug (lowercase letters and digits joined by single dashes): correct it in the export, or remove it to have one made from the title`)
  }

  const siteUrl = options.siteUrl?.replace(/\/+$/, "")
  const unplaceholder = (s: string) => s.replace(/__GHOST_URL__/g, siteUrl ?? "")
  const html = str(value.html)
  const plaintext = str(value.plaintext)
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
  const legacyAuthor = str(value.author_id)
  const authors = (authorIds.length > 0 ? authorIds : legacyAuthor === undefined ? [] : [legacyAuthor]).flatMap((a) => {
    const authorName = tables.users.get(a)
    return authorName === undefined ? [] : [authorName]
  })
  const featureImage = str(value.feature_image)
  const { dates, problems } = readDates(
    { published_at: value.published_at, updated_at: value.updated_at, created_at: value.created_at },
    (field) => `${field}:`
  )
  if (problems.length > 0) return rejected(source, problems.join("; "))
  const createdAt = dates.created_at
  // Scheduled in Ghost is published with a date to come here, hidden until then, as Inkwell's
  // own scheduled posts are; as a draft it was never published. Without a date it has no time.
  const scheduled = value.status === "scheduled"
  if (scheduled && dates.published_at === undefined) {
    return rejected(source, "status \"scheduled\" without a published_at: no time to publish it at")
  }
  return entry(
    source,
    toPostInput({
      title: str(value.title),
      slug,
      body,
      tags,
      status: value.status === "published" || scheduled ? "published" : "draft",
      publishedAt: dates.published_at,
      updatedAt: dates.updated_at,
      authors,
      summary: str(value.custom_excerpt),
      metadata: {
        ghostId: id,
        ghostStatus: str(value.status),
        ghostType: type === "post" ? undefined : type,
        visibility: value.visibility === "public" ? undefined : str(value.visibility),
        featureImage: featureImage === undefined ? undefined : unplaceholder(featureImage),
        canonicalUrl: str(value.canonical_url)
      }
    }),
    // A draft is listed by when it was created (it has no publication date).
    createdAt === undefined ? undefined : DateTime.unsafeMake(createdAt)
  )
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
      return rows(bytes, options.name).pipe(
        Stream.filter((row) => row.table === "posts"),
        Stream.zipWithIndex,
        Stream.map(([row, index]) => mapGhostPost(row.value, index, tables, options))
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
