/**
 * NDJSON records as posts, in bulk: a run of lines of one file in, one outcome per line out,
 * as plain synchronous functions (no Effect runtime), so a render worker thread runs them on a
 * whole batch per message and the import's main thread does not touch a line until its post is
 * ready to store.
 *
 * `encodeOutcomes` / `decodeOutcomes` carry a batch's outcomes between threads as one JSON
 * string: a string crosses `postMessage` as one copy, where a structured clone of ~30 posts
 * with their Schema encoding cost the main thread about what rendering them did (session 3,
 * notes/BENCHMARKS-session3-import.md). The format is internal and trusted: both sides are
 * this module, the posts were validated when they were built (`makeNewPost`), so decoding
 * rebuilds them without validating again.
 */
import { DateTime, Either, ParseResult, Schema } from "effect"
import type { ProcessorConfig } from "../Config.js"
import { briefly, fieldPath, issuesOf, plainIssues } from "../Domain/decodeIssues.js"
import { describeFailure } from "../Domain/describeFailure.js"
import { repeatedKeyOf } from "../Domain/jsonKeys.js"
import { codePointLength, NewPost, Post, PostId, PostInput, TocEntry } from "../Domain/Post.js"
import { parseDateString, takenUpdate } from "./dates.js"
import { parseFrontMatter } from "./frontMatter.js"
import { type CarriedLink, carryWithTargets, exportedHrefs, INTERNAL_LINK_PREFIX, internalLinks, type LinkReport } from "./internalLinks.js"
import { inputHash, processInputSync } from "./processPost.js"
import { NUL, sha256Hex, SLUG_MAX_LENGTH, toWellFormed } from "./text.js"

/** Something that could not become a post; `skipped` for what is not a post at all. */
export interface Rejected {
  readonly _tag: "Rejected"
  readonly identity: string
  readonly reason: string
  readonly skipped: boolean
  readonly bytes: number
}

/** One line of an NDJSON file, not yet parsed. `identity` is `<file>:<line>`. */
export interface RecordLine {
  readonly identity: string
  readonly number: number
  readonly text: string
  readonly bytes: number
}

/** A decoded record. `source` identifies the post across re-imports. */
export interface DecodedRecord {
  readonly _tag: "Record"
  readonly identity: string
  readonly source: string
  readonly input: PostInput
  readonly bytes: number
  /** The `contentHash` and `recordHash` a line of `inkwell export` carries (`exportRecord`). */
  readonly exported?: { readonly contentHash: string; readonly recordHash: string }
  /** Slugs the post once had (`movedFrom` of an exported line, in NFC): they redirect to it once stored. */
  readonly movedFrom?: ReadonlyArray<string>
  /** When the post was created where it was exported from: a post the import creates takes it. */
  readonly createdAt?: DateTime.Utc
  /**
   * Sources an earlier version named the post by (a feed item by the URL it was fetched from):
   * a stored post carrying one is this one (`UpsertOptions.formerSources`). Sources' only.
   */
  readonly formerSources?: ReadonlyArray<string>
  /** The post's id where it was exported from: a post the import creates takes it while free (`UpsertOptions.ids`). */
  readonly id?: PostId
  /** What an exported line carries of its post's page for its internal links (`exportRecord`). */
  readonly internalLinks?: ExportedLinks
}

/**
 * An exported line's `internalLinks`: the addresses its post's Zola internal links (`@/...`) were
 * given by the import of its directory, which an import of the line alone cannot resolve again.
 * `hrefs`: every `href` of the post's page, in order (`carryInternalLinks` matches them by place);
 * `body`: the sha256 (hex) of the line's `body`, the one they were resolved for.
 */
export interface ExportedLinks {
  readonly body: string
  readonly hrefs: ReadonlyArray<string>
}

/**
 * What became of one line. `titled`: the record carried neither `source` nor `slug`, so it is
 * known by the slug its title gave (`readyRecord`).
 */
export type RecordOutcome =
  | {
    readonly _tag: "Ready"
    readonly identity: string
    readonly post: NewPost
    readonly bytes: number
    readonly titled?: true
    /** As `DecodedRecord.movedFrom`: left out of the post (and of its hashes), stored beside it. */
    readonly movedFrom?: ReadonlyArray<string>
    /** As `DecodedRecord.createdAt`: no post field, so no part of its hashes (`UpsertOptions.createdAt`). */
    readonly createdAt?: DateTime.Utc
    /** As `DecodedRecord.formerSources` (`UpsertOptions.formerSources`); never on a line's outcome, so not on the wire. */
    readonly formerSources?: ReadonlyArray<string>
    /** As `DecodedRecord.id`: no part of its hashes either (`UpsertOptions.ids`). */
    readonly id?: PostId
    /** A markdown file's internal links (`@/...`), as its import resolved them; never on a line's outcome, so not on the wire. */
    readonly links?: LinkReport
    /** Why a record's `internalLinks` were not taken (`withExportedLinks`): its links, as written, are reported with it. */
    readonly linksKept?: string
    /** The links a record's `internalLinks` gave a post's page, checked once the import has stored its posts. */
    readonly linksCarried?: ReadonlyArray<CarriedLink>
  }
  | Rejected

export const rejected = (identity: string, reason: string, bytes = 0, skipped = false): Rejected => ({
  _tag: "Rejected",
  identity,
  reason,
  skipped,
  bytes
})

// Every field's problem, not only the first: one pass over a bad export tells all that is wrong.
const decodeInput = Schema.decodeUnknownEither(PostInput, { errors: "all" })

/**
 * One line per bad field, `title: expected a string, got 42`, instead of Schema's tree (which
 * names the class's encoded side and every union member); each value shortened (`issuesOf`).
 */
const describeDecodeError = (error: ParseResult.ParseError): string =>
  plainIssues(issuesOf(error))
    .map((issue) => (issue.path.length === 0 ? issue.message : `${fieldPath(issue.path)}: ${issue.message}`))
    .join("; ")

/**
 * What a record may carry: `PostInput`'s fields, the `source` it is known by, the post's `id`,
 * when it was created (`createdAt`) and the slugs it was once at (`movedFrom`).
 */
const RECORD_FIELDS = [...Object.keys(PostInput.fields), "source", "id", "createdAt", "movedFrom"]
/**
 * Also read: the fields of Inkwell's own post JSON (`GET /posts/:slug`), so a record taken from
 * that output imports; those derived from the input or kept by the store are ignored, but for
 * `contentHash` with the `recordHash` an export writes beside it, and `internalLinks`
 * (`exportRecord`).
 */
const READ_FIELDS: ReadonlySet<string> = new Set([...RECORD_FIELDS, ...Object.keys(Post.fields), "recordHash", "internalLinks"])

/**
 * Fields no record has. Ignored, a misspelled or foreign field (`publishedat`, `date`) dropped
 * its data without a word: the post was stored without its date, as if none was given.
 */
const unknownFields = (json: object): Array<string> => Object.keys(json).filter((key) => !READ_FIELDS.has(key))

/** `null` is "not given" for a record's optional fields, as exports write it (`"summary": null`). */
const withoutNulls = (json: object): object => {
  if (!Object.values(json).includes(null)) return json
  return Object.fromEntries(Object.entries(json).filter(([key, value]) => value !== null || key === "body"))
}

const unknownFieldsReason = (fields: ReadonlyArray<string>) =>
  `unknown field${fields.length === 1 ? "" : "s"} ${fields.map((field) => JSON.stringify(field)).join(", ")} ` +
  `(a record has ${RECORD_FIELDS.join(", ")}; anything else goes under metadata)`

/**
 * Inkwell's own post JSON (`GET /posts/:slug`, told by its `updatedAtSource`) read as a record:
 * its `updatedAt` is the last write to that store, and read as the record's `updatedAt` it
 * became the post's "updated" date as if its author had given it; `updatedAtSource` is that
 * date. `sourceUpdated` is `updatedAtSource` when it is a date (or null), else `undefined`: its
 * problem is reported under its own name, not as `updatedAt`'s.
 * Its `body` is the body as stored, after any front matter, shielded as an export shields it
 * (`recordBody`): one that begins with a `---` section of its own (a rule, then a line that reads
 * as a key) lost that section to the metadata.
 */
const postJsonAsRecord = (json: object, sourceUpdated: unknown): object => {
  const { updatedAtSource: _, updatedAt: __, ...rest } = json as {
    readonly updatedAtSource: unknown
    readonly updatedAt?: unknown
    readonly body?: unknown
  }
  const shielded = typeof rest.body === "string" ? { ...rest, body: recordBody(rest.body) } : rest
  return sourceUpdated === undefined ? shielded : { ...shielded, updatedAt: sourceUpdated }
}

/** The line as an `RecordLine` of file `name`; `undefined` for a blank line, which is no record. */
export const recordLine = (name: string, number: number, text: string): RecordLine | undefined =>
  text.trim() === "" ? undefined : { identity: `${name}:${number}`, number, text, bytes: text.length + 1 }

/** Parses and decodes one line of file `name`. */
export const decodeRecord = (name: string, line: RecordLine): DecodedRecord | Rejected => {
  const { identity, bytes } = line
  let json: unknown
  try {
    json = JSON.parse(line.text)
  } catch (e) {
    return rejected(identity, `invalid JSON: ${e instanceof Error ? e.message : String(e)}`, bytes)
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return rejected(identity, "a record must be a JSON object", bytes)
  }
  // A key given twice was the last one silently (`"status":"draft", ..., "status":"published"`
  // published a draft), where the API refuses the same JSON naming the key.
  const repeated = repeatedKeyOf(line.text, json)
  if (repeated !== undefined) {
    return rejected(identity, `${fieldPath(repeated)}: this key is in the record more than once; give each field once`, bytes)
  }
  const unknown = unknownFields(json)
  if (unknown.length > 0) return rejected(identity, unknownFieldsReason(unknown), bytes)
  const raw = json as {
    readonly source?: unknown
    readonly slug?: unknown
    readonly contentHash?: unknown
    readonly recordHash?: unknown
    readonly movedFrom?: unknown
    readonly createdAt?: unknown
    readonly updatedAtSource?: unknown
    readonly id?: unknown
    readonly internalLinks?: unknown
  }
  const fromApi = "updatedAtSource" in json
  const sourceUpdated = fromApi ? dateOf(raw.updatedAtSource) : undefined
  const decoded = decodeInput(
    withoutNulls(fromApi ? postJsonAsRecord(json, typeof sourceUpdated === "string" ? undefined : raw.updatedAtSource) : json)
  )
  const movedFrom = oldSlugsOf(raw.movedFrom)
  const createdAt = dateOf(raw.createdAt)
  const id = postIdOf(raw.id)
  const links = exportedLinksOf(raw.internalLinks)
  // Every bad field of the line at once: one pass over a bad export tells all that is wrong.
  if (
    Either.isLeft(decoded) || typeof movedFrom === "string" || typeof createdAt === "string" ||
    typeof sourceUpdated === "string" || Either.isLeft(id) || typeof links === "string"
  ) {
    const problems = [
      ...(Either.isLeft(decoded) ? [describeDecodeError(decoded.left)] : []),
      ...(Either.isLeft(id) ? [`id: ${id.left}`] : []),
      ...(typeof movedFrom === "string" ? [`movedFrom: ${movedFrom}`] : []),
      ...(typeof links === "string" ? [`internalLinks: ${links}`] : []),
      ...(typeof createdAt === "string" ? [`createdAt: ${createdAt}`] : []),
      ...(typeof sourceUpdated === "string" ? [`updatedAtSource: ${sourceUpdated}`] : [])
    ]
    return rejected(identity, problems.join("; "), bytes)
  }
  // Line numbers shift when an export is edited; an explicit source or the slug does not.
  const source = typeof raw.source === "string" && raw.source.trim() !== ""
    ? raw.source
    : typeof raw.slug === "string" && raw.slug !== ""
    ? `${name}#${raw.slug}`
    : identity
  const record: DecodedRecord = {
    _tag: "Record",
    identity,
    source,
    input: decoded.right,
    bytes,
    ...(movedFrom.length === 0 ? {} : { movedFrom }),
    ...(createdAt === undefined ? {} : { createdAt }),
    ...(id.right === undefined ? {} : { id: id.right }),
    ...(links === undefined ? {} : { internalLinks: links })
  }
  return typeof raw.contentHash === "string" && typeof raw.recordHash === "string"
    ? { ...record, exported: { contentHash: raw.contentHash, recordHash: raw.recordHash } }
    : record
}

/**
 * A record's `movedFrom`: absent or `null` is none; else a list of non-empty strings, or why not.
 * Each is stored as a slug that redirects (a btree key in PostgreSQL, as text there): no longer
 * than a slug may be, without a NUL (which PostgreSQL refuses, failing the whole batch),
 * well-formed (a lone surrogate as U+FFFD, as the post's own fields) and in NFC, as every slug
 * is stored and a URL's slug is read: kept decomposed, `/posts/caf%C3%A9` never found it.
 */
const oldSlugsOf = (value: unknown): ReadonlyArray<string> | string => {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) return `expected a list of strings, got ${briefly(value)}`
  const bad = value.findIndex((slug) => typeof slug !== "string" || slug.trim() === "")
  if (bad !== -1) return `[${bad}]: expected a non-empty string, got ${briefly(value[bad])}`
  const given = value as Array<string>
  const nul = given.findIndex((slug) => slug.includes(NUL))
  if (nul !== -1) return `[${nul}]: contains a NUL character (U+0000)`
  // Measured as stored.
  const slugs = given.map((slug) => toWellFormed(slug).normalize("NFC"))
  const long = slugs.findIndex((slug) => codePointLength(slug) > SLUG_MAX_LENGTH)
  if (long !== -1) return `[${long}]: longer than ${SLUG_MAX_LENGTH} characters (${codePointLength(slugs[long]!)})`
  return slugs
}

/** A record's `internalLinks`: absent or `null` is none; else `{ body, hrefs }` as an export writes it, or why not. */
const exportedLinksOf = (value: unknown): ExportedLinks | undefined | string => {
  if (value === undefined || value === null) return undefined
  const given = value as { readonly body?: unknown; readonly hrefs?: unknown }
  if (
    typeof value !== "object" || Array.isArray(value) || typeof given.body !== "string" || !Array.isArray(given.hrefs) ||
    !given.hrefs.every((href) => typeof href === "string") || Object.keys(value).some((key) => key !== "body" && key !== "hrefs")
  ) {
    return `expected {"body": <sha256 of the body>, "hrefs": [<strings>]} as an export writes it, got ${briefly(value)}`
  }
  return { body: given.body, hrefs: given.hrefs as ReadonlyArray<string> }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * A record's `id` (or another Inkwell's post's): absent or `null` is not given; else a UUID, as
 * every id Inkwell gives is (a feed's item id is `urn:uuid:<id>`), in lowercase as it gives them,
 * or why not.
 */
export const postIdOf = (value: unknown): Either.Either<PostId | undefined, string> => {
  if (value === undefined || value === null) return Either.right(undefined)
  if (typeof value !== "string") return Either.left(`expected a UUID string, got ${JSON.stringify(value)}`)
  return UUID.test(value)
    ? Either.right(PostId.make(value.toLowerCase()))
    : Either.left(`expected a UUID (8-4-4-4-12 hex digits), got ${JSON.stringify(value)}`)
}

/**
 * A record's `createdAt` (or a post JSON's `updatedAtSource`): absent or `null` is not given;
 * else a date as `publishedAt` takes it (RFC 3339, or a bare `YYYY-MM-DD`; without an offset,
 * UTC), or why not.
 */
const dateOf = (value: unknown): DateTime.Utc | undefined | string => {
  if (value === undefined || value === null) return undefined
  if (typeof value !== "string") return `expected a string, got ${briefly(value)}`
  return Either.match(parseDateString(value), { onLeft: (reason) => reason, onRight: (date) => date })
}

/**
 * A rejected post, as the import reports it: the field and the reason; `field: "file"` means
 * "not a post" and counts as skipped.
 */
export const rejectedPost = (identity: string, failure: { readonly field: string; readonly reason: string }, bytes: number) =>
  rejected(identity, `${failure.field}: ${failure.reason}`, bytes, failure.field === "file")

/**
 * What `record`, a line of `name` processed into `post`, became, known by the source it keeps
 * across imports. A record with neither `source` nor `slug` is known as if it had carried the
 * slug its title gave: `<name>#<slug>`. Not by its line: lines move. Keyed by line, one record
 * inserted at the top of an export moved every stored post of the file to its neighbour's slug
 * (ids, versions and dates shuffled, "2 moved" for an unchanged file); one deleted in the middle
 * failed every later record on re-import ("slug belongs to a post from another source", its own
 * post under its old line); and line 1 of one upload was line 1 of the next, unrelated one.
 * Posts stored under `<name>:<line>` still match (Posts/internal/repository.ts `sameSource`).
 */
export const readyRecord = (name: string, record: DecodedRecord, processed: NewPost): Ready => {
  const linked = withExportedLinks(record, processed)
  const post = linked.asExported ? withExportedHash(record, linked.post) : linked.post
  const kept = {
    ...(linked.kept === undefined ? {} : { linksKept: linked.kept }),
    ...(linked.carried === undefined ? {} : { linksCarried: linked.carried })
  }
  return withCarried(
    record,
    record.source === record.identity
      ? { _tag: "Ready", identity: record.identity, post: new NewPost({ ...post, source: `${name}#${post.slug}` }, true), bytes: record.bytes, titled: true, ...kept }
      : { _tag: "Ready", identity: record.identity, post, bytes: record.bytes, ...kept }
  )
}

type Ready = Extract<RecordOutcome, { _tag: "Ready" }>

/**
 * `ready` with what `record` carries beside its post, for the writer: its old slugs
 * (`movedFrom`), when it was created (`createdAt`), its id and the sources it was once known by
 * (`formerSources`). Every path from a record to the writer goes through here: records a source
 * decoded itself (a feed, another Inkwell) skipped `readyRecord` and lost them, so a migrated
 * undated post was listed at the import's time.
 */
export const withCarried = (record: Pick<DecodedRecord, "movedFrom" | "createdAt" | "formerSources" | "id">, ready: Ready): Ready => {
  if (record.movedFrom === undefined && record.createdAt === undefined && record.formerSources === undefined && record.id === undefined) {
    return ready
  }
  return {
    ...ready,
    ...(record.movedFrom === undefined ? {} : { movedFrom: record.movedFrom }),
    ...(record.createdAt === undefined ? {} : { createdAt: record.createdAt }),
    ...(record.formerSources === undefined ? {} : { formerSources: record.formerSources }),
    ...(record.id === undefined ? {} : { id: record.id })
  }
}

const hasInternalLinks = (html: string): boolean => html.includes(INTERNAL_LINK_PREFIX) && internalLinks(html).length > 0

/**
 * `post`, processed from `record`, with the addresses its export gave its Zola internal links
 * (`internalLinks`, `carryInternalLinks`): rendered from the line they are as written, and only
 * the import of the post's directory resolves them. Taken only while the line's body is the one
 * they were resolved for (its hash) and they match the body's links by place, each an address
 * a link is given: a body edited since (a link changed, added, moved) keeps them as written, and
 * `kept` says why (the import's warning), never with another link's address.
 * `asExported`: the post's page is the exported one as far as its links go, so it may keep its
 * exported `contentHash` (`withExportedHash`); else that hash, which covers the slugs its links
 * were resolved to where it was exported, would make its file's next import here find it
 * unchanged, its links left as written. So for a line without `internalLinks` whose post has
 * internal links (exported before lines carried them).
 * `carried`: the links given a post's page, with its slug, for the import to check that the post
 * it had there is stored at that slug here (ImportPipeline `checkCarried`).
 */
export const withExportedLinks = (
  record: Pick<DecodedRecord, "input" | "internalLinks">,
  post: NewPost
): { readonly post: NewPost; readonly asExported: boolean; readonly kept?: string; readonly carried?: ReadonlyArray<CarriedLink> } => {
  const links = record.internalLinks
  if (links === undefined) return { post, asExported: !hasInternalLinks(post.html) }
  if (sha256Hex(record.input.body) !== links.body) {
    return {
      post,
      asExported: false,
      kept: "the record's body is not the one its internalLinks were exported for (edited since?)"
    }
  }
  const taken = carryWithTargets(post.html, links.hrefs)
  if (taken === undefined) {
    return { post, asExported: false, kept: "the record's internalLinks do not match the links of its body" }
  }
  const { carried, html } = taken
  return {
    post: html === post.html ? post : new NewPost({ ...post, html }, true),
    asExported: true,
    ...(carried.length === 0 ? {} : { carried })
  }
}

/**
 * `post` with the `contentHash` its exported line carries, when the line is as exported: its
 * `recordHash` is the hash its fields give (`post.contentHash`, from `inputHash`). Else `post`:
 * an edited line is new input, hashed as such, so a re-import updates the post instead of
 * keeping it as unchanged.
 */
const withExportedHash = (record: DecodedRecord, post: NewPost): NewPost =>
  record.exported !== undefined && record.exported.recordHash === post.contentHash
    ? new NewPost({ ...post, contentHash: record.exported.contentHash }, true)
    : post


/**
 * Parses, decodes and processes one line. Never throws: what a line's processing throws is that
 * line's failure, worded as the import's one-by-one path words it (`describeCause`). Thrown, it
 * failed every line of its batch, which was then processed again line by line.
 */
export const processRecordSync = (name: string, line: RecordLine, config: ProcessorConfig): RecordOutcome => {
  try {
    const record = decodeRecord(name, line)
    if (record._tag === "Rejected") return record
    const result = processInputSync(record.input, record.source, config)
    return Either.isRight(result) ? readyRecord(name, record, result.right) : rejectedPost(record.identity, result.left, record.bytes)
  } catch (e) {
    return rejected(line.identity, `defect: ${describeFailure(e)}`, line.bytes)
  }
}

/**
 * A deadline for each line of `processRecordsSync`: synchronous, a line's processing cannot be
 * interrupted, so it is timed, and one that took longer than `limit` is rejected with `reason`
 * once done (its post is dropped) while the others keep their outcomes.
 */
export interface LineDeadline {
  /** In nanoseconds. */
  readonly limit: number
  /** The time in nanoseconds (the Effect `Clock`'s: a test drives it). */
  readonly now: () => number
  readonly reason: string
}

/** Every line of a batch, in order; with `deadline`, each line timed against it. */
export const processRecordsSync = (
  name: string,
  lines: ReadonlyArray<RecordLine>,
  config: ProcessorConfig,
  deadline?: LineDeadline
): Array<RecordOutcome> => {
  if (deadline === undefined) return lines.map((line) => processRecordSync(name, line, config))
  let before = deadline.now()
  return lines.map((line) => {
    const outcome = processRecordSync(name, line, config)
    const after = deadline.now()
    const took = after - before
    before = after
    return took > deadline.limit ? rejected(line.identity, deadline.reason, line.bytes) : outcome
  })
}

// --- export: a stored post as the record that imports back to it -------------------------

/**
 * A post's body as its record carries it: as stored, unless the import would take something at
 * its start for front matter (a `---` or `+++` line, `{"`, a byte-order mark: a body stored
 * after its file's front matter may begin so), which an empty JSON front matter `{}` then
 * shields: the import reads `{}`, and the body after it as it was.
 */
export const recordBody = (body: string): string => {
  const read = parseFrontMatter(body)
  return Either.isRight(read) && read.right.format === "none" && read.right.body === body ? body : `{}\n${body}`
}

const isoOrNull = (dt: DateTime.Utc | null): string | null => (dt === null ? null : DateTime.formatIso(dt))

/**
 * `post` as one NDJSON line (without its newline) that the import reads back to the same post:
 * every field a record sets (`updatedAt` is `updatedAtSource`; `null` for what is not given), the
 * `source` the post is known by, the post's `contentHash`, and `recordHash`: the hash the import
 * gives the line's own fields, computed here from the line as written. While the two agree (the
 * line is as exported), the imported post keeps its `contentHash` (`readyRecord`), so importing
 * the export again, or the files the post first came from, finds it unchanged.
 * `createdAt`: when the post was first stored. A post the import creates takes it, so one without
 * `publishedAt` (listed by it) keeps its place in the listing; no post field, so no part of either
 * hash: a post created at another time is no other post.
 * `movedFrom` (only when there are any): the slugs the post was renamed from, which redirect to
 * it (`PostRepositoryShape.oldSlugs`); no post field, so no part of either hash: a post's old
 * addresses do not make it changed.
 * `id`: a post the import creates takes it unless another post has it, so the post's feed items
 * (`urn:uuid:<id>`) and its place among posts of its date (listed by id) are the same in the
 * copy; no part of either hash. Written only when it is a UUID, as the import takes no other (no
 * id Inkwell gives is another): a line must import back.
 * `internalLinks` (only for a page with a link that may be a Zola internal one, `./<slug>` or
 * `@/...`): the addresses the import of the post's directory gave those links, which the line's
 * import cannot resolve (no directory), with the hash of the body they are for (`ExportedLinks`,
 * `withExportedLinks`); no post field, so no part of either hash.
 * The other store-assigned fields (version, and `updatedAt`, the last write to this store, which
 * the record's `updatedAt` is not) and derived ones (html, excerpt...) are left out: the import
 * assigns and derives them again.
 */
/** The `updated` an export writes: as late as its import will take (`takenUpdate`), where readers were shown no later either (`announcedUpdateOf`). */
const exportedUpdate = (post: Post): DateTime.Utc | null =>
  post.updatedAtSource === null ? null : takenUpdate(post.updatedAtSource, post.publishedAt, post.updatedAt)

export const exportRecord = (post: Post, movedFrom: ReadonlyArray<string> = []): string => {
  const body = recordBody(post.body)
  const line = JSON.stringify({
    ...(UUID.test(post.id) ? { id: post.id } : {}),
    source: post.source,
    slug: post.slug,
    title: post.title,
    status: post.status,
    publishedAt: isoOrNull(post.publishedAt),
    updatedAt: isoOrNull(exportedUpdate(post)),
    createdAt: DateTime.formatIso(post.createdAt),
    tags: post.tags,
    authors: post.authors,
    summary: post.summary,
    aliases: post.aliases,
    metadata: post.metadata,
    body
  })
  const input = Either.getOrThrowWith(
    decodeInput(withoutNulls(JSON.parse(line) as object)),
    (error) => new Error(`post ${post.slug} makes no record: ${describeDecodeError(error)}`)
  )
  const moves = movedFrom.length === 0 ? "" : `,"movedFrom":${JSON.stringify(movedFrom)}`
  const hrefs = exportedHrefs(post.html)
  const links = hrefs === undefined ? "" : `,"internalLinks":${JSON.stringify({ body: sha256Hex(body), hrefs })}`
  return `${line.slice(0, -1)}${moves}${links},"contentHash":${JSON.stringify(post.contentHash)},"recordHash":${JSON.stringify(inputHash(input))}}`
}

// --- the wire format between a render thread and the main thread -------------------------

/** A post as plain JSON: DateTimes as epoch milliseconds. */
export type WirePost = Omit<NewPost, "publishedAt" | "updatedAtSource"> & {
  readonly publishedAt: number | null
  readonly updatedAtSource: number | null
}
type WireOutcome = {
  readonly i: string
  readonly b: number
  readonly p: WirePost
  readonly t?: 1
  readonly m?: ReadonlyArray<string>
  /** `createdAt`, in epoch milliseconds. */
  readonly c?: number
  /** `id`. */
  readonly d?: string
  /** `linksKept`. */
  readonly k?: string
  /** `linksCarried`. */
  readonly l?: ReadonlyArray<CarriedLink>
} | {
  readonly i: string
  readonly b: number
  readonly r: string
  readonly s: boolean
}

const millis = (dt: DateTime.Utc | null) => dt === null ? null : DateTime.toEpochMillis(dt)
const utc = (ms: number | null) => ms === null ? null : DateTime.unsafeMake(ms)

/** `post` as plain JSON values. */
export const toWirePost = (post: NewPost): WirePost => ({
  ...post,
  publishedAt: millis(post.publishedAt),
  updatedAtSource: millis(post.updatedAtSource)
})

/** Rebuilds what `toWirePost` wrote, without validating again (it was valid when built). */
export const fromWirePost = (p: WirePost): NewPost =>
  new NewPost({
    ...p,
    publishedAt: utc(p.publishedAt),
    updatedAtSource: utc(p.updatedAtSource),
    toc: p.toc.map((entry) => new TocEntry(entry, true))
  }, true)

/** The outcomes as one JSON string (`decodeOutcomes` reads it back). */
export const encodeOutcomes = (outcomes: ReadonlyArray<RecordOutcome>): string =>
  JSON.stringify(outcomes.map((o): WireOutcome =>
    o._tag === "Rejected"
      ? { i: o.identity, b: o.bytes, r: o.reason, s: o.skipped }
      : {
        i: o.identity,
        b: o.bytes,
        p: toWirePost(o.post),
        ...(o.titled === true ? { t: 1 as const } : {}),
        ...(o.movedFrom !== undefined ? { m: o.movedFrom } : {}),
        ...(o.createdAt !== undefined ? { c: DateTime.toEpochMillis(o.createdAt) } : {}),
        ...(o.id !== undefined ? { d: o.id } : {}),
        ...(o.linksKept !== undefined ? { k: o.linksKept } : {}),
        ...(o.linksCarried !== undefined ? { l: o.linksCarried } : {})
      }
  ))

/** Reads what `encodeOutcomes` wrote; the posts are rebuilt without validating them again. */
export const decodeOutcomes = (text: string): Array<RecordOutcome> =>
  (JSON.parse(text) as Array<WireOutcome>).map((o): RecordOutcome =>
    "r" in o
      ? rejected(o.i, o.r, o.b, o.s)
      : {
        _tag: "Ready",
        identity: o.i,
        post: fromWirePost(o.p),
        bytes: o.b,
        ...(o.t === 1 ? { titled: true as const } : {}),
        ...(o.m !== undefined ? { movedFrom: o.m } : {}),
        ...(o.c !== undefined ? { createdAt: DateTime.unsafeMake(o.c) } : {}),
        ...(o.d !== undefined ? { id: PostId.make(o.d) } : {}),
        ...(o.k !== undefined ? { linksKept: o.k } : {}),
        ...(o.l !== undefined ? { linksCarried: o.l } : {})
      }
  )
