/**
 * A post's old addresses keyed in NFC, as every write keys them from this version on: its alias
 * rows (`post_aliases`, keyed by `aliasKey`) and its old slugs (`slug_redirects`, read in NFC
 * from an import's `movedFrom`). One written decomposed (NFD: "cafe" and U+0301, from a macOS
 * file name or front matter typed there) was stored as written, and the composed path a browser
 * sends (`/caf%C3%A9/menu.html`, `/posts/caf%C3%A9`) never found it: a 404 where a 301 was due.
 *
 * Only the keys are rewritten. A post's `aliases` column is its content (hashed, versioned, in its
 * ETag and its export) and stays as written: `inkwell reprocess` stores it in NFC, as a new write
 * does, with a new version.
 *
 * When two keys become one, nothing is dropped without a warning in the log naming what went
 * where, and the upgrade never fails for it:
 * - An alias of two posts (one spelled decomposed, one composed): both rows stay, and the
 *   lookup's own rule for an alias several posts claim answers it (the newest published wins),
 *   so either post's address leads somewhere, and the other takes over if the winner goes. Warned.
 *   Two spellings on one post are one row: the address leads where it did.
 * - An old slug a live post holds once composed: the live post keeps it (as an import's redirect
 *   to a live slug is left out). Dropped, and warned unless the redirect led to that same post.
 * - An old slug leading to two posts once composed (the table holds one post per slug): the row
 *   already composed keeps it, as it answered every browser until now (as an import never takes
 *   a redirect from a post); of decomposed ones alone, the first in string order. The others are
 *   dropped, each warned unless it led to the same post.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { aliasKey } from "../../Domain/Post.js"

/** Rows per multi-row statement: a few parameters each, far below both engines' limits. */
const CHUNK = 500

const chunksOf = <A>(items: ReadonlyArray<A>): ReadonlyArray<ReadonlyArray<A>> =>
  Array.from({ length: Math.ceil(items.length / CHUNK) }, (_, i) => items.slice(i * CHUNK, (i + 1) * CHUNK))

const warn = (message: string) => Effect.logWarning(`migration 0010: ${message}`)

/** Each of `ids`' slug, to name the posts a warning is about. */
const slugsOf = (sql: SqlClient.SqlClient, ids: Iterable<string>) =>
  Effect.map(
    Effect.forEach(chunksOf(Array.from(new Set(ids))), (chunk) =>
      sql<{ readonly id: string; readonly slug: string }>`SELECT id, slug FROM posts WHERE ${sql.in("id", chunk)}`.withoutTransform),
    (chunks) => new Map(chunks.flat().map((row) => [row.id, row.slug] as const))
  )

const aliases = (sql: SqlClient.SqlClient) =>
  Effect.gen(function*() {
    const rows = yield* sql<{ readonly post_id: string; readonly alias: string }>`
      SELECT post_id, alias FROM post_aliases
    `.withoutTransform
    const rekeyed = rows.filter((row) => aliasKey(row.alias) !== row.alias)
    if (rekeyed.length === 0) return
    // Per key, the posts claiming it under each spelling stored.
    const spellings = new Map<string, Map<string, Set<string>>>()
    for (const row of rows) {
      const key = aliasKey(row.alias)
      const byKey = spellings.get(key) ?? new Map<string, Set<string>>()
      byKey.set(row.alias, (byKey.get(row.alias) ?? new Set<string>()).add(row.post_id))
      spellings.set(key, byKey)
    }
    const pair = (postId: string, key: string) => `${postId}\u0000${key}`
    const kept = new Set(rows.filter((row) => aliasKey(row.alias) === row.alias).map((row) => pair(row.post_id, row.alias)))
    const inserts: Array<{ readonly post_id: string; readonly alias: string }> = []
    for (const row of rekeyed) {
      yield* sql`DELETE FROM post_aliases WHERE post_id = ${row.post_id} AND alias = ${row.alias}`
      const key = aliasKey(row.alias)
      // Keys were stored trimmed and without slashes around: NFC alone makes none empty.
      if (key === "" || kept.has(pair(row.post_id, key))) continue
      kept.add(pair(row.post_id, key))
      inserts.push({ post_id: row.post_id, alias: key })
    }
    for (const chunk of chunksOf(inserts)) yield* sql`INSERT INTO post_aliases ${sql.insert(chunk)}`.withoutTransform
    // Keys that several posts now claim, spelled differently before: where one of them leads may change.
    const shared = Array.from(spellings)
      .map(([key, bySpelling]) => [key, new Set(Array.from(bySpelling.values()).flatMap((ids) => Array.from(ids)))] as const)
      .filter(([key, posts]) => spellings.get(key)!.size > 1 && posts.size > 1)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    if (shared.length === 0) return
    const slugs = yield* slugsOf(sql, shared.flatMap(([, posts]) => Array.from(posts)))
    for (const [key, posts] of shared) {
      const names = Array.from(posts, (id) => JSON.stringify(slugs.get(id) ?? id)).sort()
      yield* warn(
        `the alias ${JSON.stringify(`/${key}`)} was stored in more than one spelling (composed, decomposed) by posts ${names.join(", ")}; ` +
          "now one address, it leads to the newest published of them, as any alias several posts claim"
      )
    }
  })

const redirects = (sql: SqlClient.SqlClient) =>
  Effect.gen(function*() {
    const rows = yield* sql<{ readonly slug: string; readonly post_id: string }>`
      SELECT slug, post_id FROM slug_redirects
    `.withoutTransform
    // In string order: of decomposed spellings alone, the first keeps the slug.
    const rekeyed = rows.filter((row) => row.slug.normalize("NFC") !== row.slug).sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0))
    if (rekeyed.length === 0) return
    const leadsTo = new Map(rows.filter((row) => row.slug.normalize("NFC") === row.slug).map((row) => [row.slug, row.post_id] as const))
    const composed = Array.from(new Set(rekeyed.map((row) => row.slug.normalize("NFC"))))
    const live = new Map<string, string>()
    for (const chunk of chunksOf(composed)) {
      const posts = yield* sql<{ readonly id: string; readonly slug: string }>`
        SELECT id, slug FROM posts WHERE ${sql.in("slug", chunk)}
      `.withoutTransform
      for (const post of posts) live.set(post.slug, post.id)
    }
    const dropped: Array<{ readonly slug: string; readonly from: string; readonly keptBy: string; readonly live: boolean }> = []
    for (const row of rekeyed) {
      const slug = row.slug.normalize("NFC")
      const holder = live.get(slug) ?? leadsTo.get(slug)
      if (holder === undefined) {
        yield* sql`UPDATE slug_redirects SET slug = ${slug} WHERE slug = ${row.slug}`
        leadsTo.set(slug, row.post_id)
        continue
      }
      yield* sql`DELETE FROM slug_redirects WHERE slug = ${row.slug}`
      if (holder !== row.post_id) dropped.push({ slug, from: row.post_id, keptBy: holder, live: live.has(slug) })
    }
    if (dropped.length === 0) return
    const slugs = yield* slugsOf(sql, dropped.flatMap((drop) => [drop.from, drop.keptBy]))
    const named = (id: string) => JSON.stringify(slugs.get(id) ?? id)
    for (const drop of dropped) {
      yield* warn(
        `the old slug ${JSON.stringify(drop.slug)}, stored decomposed, led to post ${named(drop.from)}; ` +
          (drop.live
            ? `post ${named(drop.keptBy)} is at that slug, and keeps it`
            : `composed, it already leads to post ${named(drop.keptBy)}, and still does`)
      )
    }
  })

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* aliases(sql)
  yield* redirects(sql)
})
