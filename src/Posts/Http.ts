/**
 * Handlers for the posts groups: HTTP concerns only (keys, ETags, status codes, headers);
 * everything else is `Posts`.
 */
import {
  type HttpApi,
  HttpApiBuilder,
  HttpApiError,
  type HttpApiGroup,
  HttpServerError,
  type HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { Cause, type ConfigError, DateTime, Deferred, Effect, Either, FiberSet, Layer, Option, Schema } from "effect"
import { createHash } from "node:crypto"
import { FeedClient, parseHttpUrl } from "../Clients/FeedClient.js"
import { type DatabaseError, PostNotFound, type RepositoryError, StaleVersion } from "../Domain/Errors.js"
import { isReadOnly, transienceLogged, transienceOf } from "../Database/Transient.js"
import { issuesOf } from "../Domain/decodeIssues.js"
import { repeatedKeyOf } from "../Domain/jsonKeys.js"
import { Post, PostInput } from "../Domain/Post.js"
import { ApiKeys, type ApiKeysShape, refusal } from "../Http/ApiKeys.js"
import { InkwellApi } from "../Http/Api.js"
import { BadRequest, DatabaseUnavailable, decodeError, PostMoved, PreconditionFailed, Unauthorized, UnsupportedMediaType, UrlRefused, VersionRequired } from "../Http/Errors.js"
import { LIST_ETAG_START, matchesIfNoneMatch } from "../Http/IfNoneMatch.js"
import { sayNothingWritten } from "../Http/NothingWritten.js"
import { ServerFibers, ServerStopping } from "../Http/ServerStopping.js"
import {
  type ApiKeyAuth,
  carriesCredentials,
  CREDENTIAL_HEADERS,
  encodeJson,
  parameterlessQueryIssues,
  queryEscapeIssues,
  routedPath,
  uploadStream
} from "../Http/Middleware.js"
import { importNdjson, type LeftImport, outlivingClient } from "../Import/HttpImport.js"
import { ImportConfig } from "../Import/ImportConfig.js"
import { PostProcessor } from "../Processing/PostProcessor.js"
import { importFromUrls } from "../Sources/ImportFromUrl.js"
import type { EncodedPost } from "./internal/encodedReads.js"
import { ImportUrlPayload, NDJSON_TYPES, PostInputPayload, PostPage, TagList, UpdateInput } from "./Api.js"
import { orPostJson } from "./internal/postJson.js"
import { hashTagOf, MAX_PAGE_SIZE, MAX_SEARCH_RESULTS, PostRepository } from "./PostRepository.js"
import { Posts } from "./Posts.js"

/** What a post's ETag is made of: a Post, or its encoded read (`EncodedPost`). */
type Tagged = { readonly version: number; readonly contentHash: string; readonly id: string }

/**
 * Changes whenever the post does (version), and between two posts that reused a slug (content
 * hash and id: `hashTagOf`), even when the second was created with the first one's content.
 */
export const etagOf = (post: Tagged): string => `"v${post.version}-${hashTagOf(post)}"`

/** What an `If-Match` asks the stored post to be. */
export interface IfMatchCondition {
  readonly version: number
  /** From one of our ETags: the post's `hashTagOf` must be this too. Absent for a bare version. */
  readonly hashTag?: string
}

/**
 * The condition an `If-Match` entry states: one of our ETags (version, content hash and id, all
 * compared: a post re-created at a reused slug has the same version, and may have the same
 * content), or a bare version number.
 * `undefined` for anything else, weak tags included (`isWeakTag` tells those apart: they are
 * well-formed, and never match).
 */
export const ifMatchCondition = (header: string): IfMatchCondition | undefined => {
  const value = header.trim()
  // The id part optional: a tag from before it was added (`"v3-<hash>"`) is one of ours, that no post is now (412).
  const etag = /^"v(\d+)-([0-9a-f]+(?:-[0-9a-f]+)?)"$/.exec(value)
  if (etag !== null) {
    const version = asVersion(etag[1]!)
    return version === undefined ? undefined : { version, hashTag: etag[2]! }
  }
  const bare = /^"?v?(\d+)"?$/.exec(value)
  const version = bare === null ? undefined : asVersion(bare[1]!)
  return version === undefined ? undefined : { version }
}

/**
 * A version as a body's `version` may be: an integer from 1 up, exactly representable. Digits
 * beyond that (`If-Match: 99999999999999999999`) are no version this API gave: left to the
 * repository they failed building its `StaleVersion` and answered 500.
 */
const asVersion = (digits: string): number | undefined => {
  const version = Number(digits)
  return Number.isSafeInteger(version) && version >= 1 ? version : undefined
}

const isoOrNull = (dt: DateTime.Utc | null): string | null => (dt === null ? null : DateTime.formatIso(dt))

/**
 * `Schema.encodeSync(Post)` written out by hand: the same fields in the same order, so the same
 * JSON (test/Posts/RowCodec.test.ts checks both). A Post is validated when it is built, so its
 * encoding cannot fail; the Schema's encoder cost ~30 µs of every read.
 */
export const encodePost = (post: Post): typeof Post.Encoded => ({
  id: post.id,
  slug: post.slug,
  title: post.title,
  body: post.body,
  tags: post.tags,
  status: post.status,
  authors: post.authors,
  summary: post.summary,
  publishedAt: isoOrNull(post.publishedAt),
  updatedAtSource: isoOrNull(post.updatedAtSource),
  aliases: post.aliases,
  metadata: post.metadata,
  source: post.source,
  html: post.html,
  excerpt: post.excerpt,
  wordCount: post.wordCount,
  readingTimeMinutes: post.readingTimeMinutes,
  toc: post.toc.map((entry) => ({ level: entry.level, text: entry.text, id: entry.id })),
  contentHash: post.contentHash,
  createdAt: DateTime.formatIso(post.createdAt),
  updatedAt: DateTime.formatIso(post.updatedAt),
  version: post.version
})

const postResponse = (post: Post, status = 200, headers: Record<string, string> = {}) =>
  HttpServerResponse.unsafeJson(encodePost(post), { status, headers: { etag: etagOf(post), ...headers } })

/**
 * What a client is told of a failure of the moment (`DatabaseUnavailable`'s message). A write
 * refused as read-only is unreachable to writes only: "cannot be reached" was said while reads
 * and /ready answered.
 */
const UNAVAILABLE = {
  unreachable: "the database cannot be reached right now; try again shortly",
  readOnly: "the database refused the write as read-only (a standby or a demoted primary); try again shortly",
  busy: "the database is too busy to answer right now; try again shortly"
} as const

/**
 * A `DatabaseError`'s cause is for the log only. A failure of the moment (`transienceOf`: a
 * database that cannot be reached, or one too busy to do it in time: a lock held past the
 * statement timeout, a conflict that outlived its retries) is a 503 `DatabaseUnavailable` (the
 * client may retry, as after `PoolTimeout`), its reason logged here at WARN, as the site does;
 * any other failure becomes a defect, which the request logger answers with a bare 500.
 */
const databaseErrorsAsDefects = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.catchIf(
    effect,
    (error): error is Extract<E, DatabaseError> =>
      typeof error === "object" && error !== null && (error as { _tag?: unknown })._tag === "DatabaseError",
    (error) => {
      const kind = transienceOf(error.cause)
      return kind === undefined
        ? Effect.die(error)
        : Effect.zipRight(
          Effect.logWarning(`${error.message}: ${transienceLogged(kind, error.cause)}`, Cause.fail(error)),
          Effect.fail(new DatabaseUnavailable({ message: UNAVAILABLE[kind === "unreachable" && isReadOnly(error.cause) ? "readOnly" : kind] }))
        )
    }
  ) as Effect.Effect<A, Exclude<E, { readonly _tag: "DatabaseError" }> | DatabaseUnavailable, R>

/** Reads are public; a key, when presented, must be right, and then shows drafts too. */
const isEditor = (keys: ApiKeysShape, request: HttpServerRequest.HttpServerRequest) => {
  const verdict = keys.fromHeaders(request.headers)
  return verdict === "invalid"
    ? Effect.fail(new Unauthorized({ message: refusal(verdict) }))
    : Effect.succeed(verdict === "valid")
}

/**
 * The request's path, which the URLs this API answers with are built on, as the router reads
 * it (`routedPath`): up to the first `?`, `;` or `#` (`/posts/old;x` is routed as `/posts/old`,
 * and a `Location` of `/posts/old;new` would be routed there again: a loop), without a trailing
 * slash or a scheme and host the client put in its request line, and with repeated slashes as
 * one (`//posts/old` is routed, and a `Location` of `//posts/new` would name a host, "posts").
 * The root is "": a Location is built by appending `/<slug>`.
 */
const requestPath = (request: HttpServerRequest.HttpServerRequest): string => {
  const path = routedPath(request.url)
  return path === "/" ? "" : path
}

/**
 * A weak entity tag (`W/"..."`). RFC 9110 §13.1.1 compares If-Match strongly: a weak tag does not
 * promise the same bytes, so it never matches, and an If-Match of weak tags only always fails
 * (412), as any other tag the post is not. Not a malformed header (400): the client sent a valid
 * precondition, one that cannot hold.
 */
const isWeakTag = (entry: string): boolean => /^W\/"[^"]*"$/.test(entry)

/** What a write expects of the stored post, and which part of the request said so. */
interface Expected {
  readonly version: number | undefined
  readonly hashTag: string | undefined
  /**
   * The `If-Match` the expectation is from, when it is its: a post that is not it fails a
   * precondition header (412 PreconditionFailed, RFC 9110 §13.1.1), where a stale body `version`
   * is part of the content the client sent (409 StaleVersion).
   */
  readonly ifMatch: string | undefined
}

/** The 412 for an `If-Match` that `post` is not: names the slug, what was asked and what the post is. */
const ifMatchFailed = (slug: string, ifMatch: string, post: Tagged, why = "") => {
  const etag = etagOf(post)
  return new PreconditionFailed({
    slug,
    etag,
    message: `post ${JSON.stringify(slug)} is at ${etag} (version ${post.version}), not what If-Match: ${ifMatch.trim()} asks for${why}: ` +
      "nothing was written; reload it and retry"
  })
}

const WEAK_ONLY = " (weak W/ tags never match: If-Match compares strongly, so send the ETag as it was given)"

/**
 * A write whose expectation came from `ifMatch`, with the repository's `StaleVersion` answered as
 * the failed precondition it is (412, naming the post's ETag as it is now: one more read, on
 * that failure only). A post gone meanwhile is 404.
 */
const ifMatchPrecondition = <E2, R2>(
  slug: string,
  ifMatch: string,
  current: Effect.Effect<Tagged, E2, R2>
) =>
<A, E, R>(write: Effect.Effect<A, E | StaleVersion, R>) =>
  Effect.catchIf(
    write,
    (error): error is StaleVersion => error instanceof StaleVersion,
    () => Effect.flatMap(current, (post) => Effect.fail(ifMatchFailed(slug, ifMatch, post)))
  ) as Effect.Effect<A, Exclude<E, StaleVersion> | PreconditionFailed | E2, R | R2>

/**
 * The conditions of an `If-Match` other than `*`, weak tags passed over (they never match: an
 * empty list then); `undefined` when an entry is neither an ETag nor a version (malformed: 400).
 */
const strongConditionsOf = (ifMatch: string): ReadonlyArray<IfMatchCondition> | undefined => {
  const listed = ifMatch.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "")
  const conditions = listed.filter((entry) => !isWeakTag(entry)).map(ifMatchCondition)
  return listed.length === 0 || conditions.some((condition) => condition === undefined)
    ? undefined
    : conditions as ReadonlyArray<IfMatchCondition>
}

const isMatchedBy = (condition: IfMatchCondition, post: Tagged): boolean =>
  condition.version === post.version && (condition.hashTag === undefined || condition.hashTag === hashTagOf(post))

/** The 412 for an `If-None-Match` that names `post`'s ETag. */
const ifNoneMatchFailed = (slug: string, post: Tagged) => {
  const etag = etagOf(post)
  return new PreconditionFailed({
    slug,
    etag,
    message: `post ${JSON.stringify(slug)} is at ${etag}, which If-None-Match names: nothing was written`
  })
}

/**
 * The 412 for `If-None-Match: *` where `post` is: with its ETag, as every 412 with a post has
 * (README), so a client can go on to update it; without one when the post is gone again.
 */
const createOnlyFailed = (slug: string, post: Tagged | undefined) =>
  new PreconditionFailed({
    slug,
    ...(post === undefined ? {} : { etag: etagOf(post) }),
    message: `a post with slug ${JSON.stringify(slug)} already exists, and If-None-Match: * creates one only if there is none: nothing was written`
  })

/** What the checks before the body decided: the post they read, and If-Match's conditions (parsed once). */
interface BeforeBody<P> {
  readonly post: P | undefined
  readonly conditions: ReadonlyArray<IfMatchCondition> | undefined
}

/** An If-Match's strong conditions; `undefined` for none, `*`, or a malformed one (told apart by `ifMatch`). */
const conditionsOf = (ifMatch: string | undefined): ReadonlyArray<IfMatchCondition> | undefined =>
  ifMatch === undefined || ifMatch.trim() === "*" ? undefined : strongConditionsOf(ifMatch)

/**
 * A PUT's preconditions against the post as it is, before the body is read: RFC 9110 §13.2.1
 * evaluates them before the method, and checked only by the write, after processing, a stale
 * If-Match with a body processing refuses was a 400 (or the 400 of a missing title for
 * `If-None-Match: *` on a post that exists), not the 412 that says to reload. The write's own
 * atomic check (the repository's version compare, the unique insert) stays the final word for
 * a write that lands between this read and it.
 *
 * The post read, for the write to go on rather than read again (Posts.update's `known`), with
 * If-Match's conditions; the post is `undefined` when nothing
 * needed reading, there is no post (404 or a create: as without this check) or a header is
 * malformed or contradicts another (400 then, as without it).
 */
const preconditionsBeforeBody = <P extends Tagged, E, R>(
  slug: string,
  ifMatch: string | undefined,
  ifNoneMatch: string | undefined,
  current: Effect.Effect<P, PostNotFound | E, R>
): Effect.Effect<BeforeBody<P>, PreconditionFailed | E, R> => {
  const createOnly = ifNoneMatch !== undefined && isCreateOnly(ifNoneMatch)
  const conditions = conditionsOf(ifMatch)
  const malformed = ifMatch !== undefined && ifMatch.trim() !== "*" && conditions === undefined
  if (malformed || (createOnly && ifMatch !== undefined) || (conditions === undefined && ifNoneMatch === undefined)) {
    return Effect.succeed({ post: undefined, conditions })
  }
  const read = Effect.flatMap(
    Effect.catchIf(current, (error): error is PostNotFound => error instanceof PostNotFound, () => Effect.succeed(undefined)),
    (post): Effect.Effect<P | undefined, PreconditionFailed> => {
      if (post === undefined) return Effect.succeed(undefined)
      if (createOnly) return Effect.fail(createOnlyFailed(slug, post))
      if (conditions !== undefined && !conditions.some((condition) => isMatchedBy(condition, post))) {
        return Effect.fail(ifMatchFailed(slug, ifMatch!, post, conditions.length === 0 ? WEAK_ONLY : ""))
      }
      if (ifNoneMatch !== undefined && matchesIfNoneMatch(ifNoneMatch, etagOf(post))) return Effect.fail(ifNoneMatchFailed(slug, post))
      return Effect.succeed(post)
    }
  )
  return Effect.map(read, (post) => ({ post, conditions }))
}

/**
 * What a write expects of the stored post: body `version` and/or `If-Match`, which must agree
 * on the version when both are sent (400 otherwise: the request contradicts itself).
 *
 * `If-Match: *` (RFC 9110: "if the post exists") names no version: a DELETE is then
 * unconditional, a PUT still needs body `version` (428). On a post that does not exist, every
 * If-Match here is answered 404, not 412: RFC 9110 §13.2.1 has a server ignore preconditions when
 * the request without them would have failed otherwise, and a write to a missing post is 404
 * (these writes never create, but for `If-None-Match: *`). 404 also says what is wrong.
 *
 * `If-Match` may list several ETags (RFC 9110: the write goes ahead when the post is any of
 * them); weak ones never match and are passed over. The repository checks one, atomically; so
 * for a list the post is read first and the entry it matches is the one checked (none matching:
 * 412 there and then). `current` is that read, made only for a list or weak tags only.
 */
const expectedVersion = <E, R>(
  slug: string,
  fromBody: number | undefined,
  ifMatch: string | undefined,
  current: Effect.Effect<Tagged, E, R>,
  parsed: ReadonlyArray<IfMatchCondition> | undefined = conditionsOf(ifMatch)
): Effect.Effect<Expected, BadRequest | PreconditionFailed | E, R> =>
  Effect.gen(function* () {
    if (ifMatch === undefined || ifMatch.trim() === "*") return { version: fromBody, hashTag: undefined, ifMatch: undefined }
    const conditions = parsed
    if (conditions === undefined) {
      return yield* new BadRequest({
        message: `If-Match must be * or ETags from this API or version numbers, not ${JSON.stringify(ifMatch)}`
      })
    }
    let candidates = conditions
    if (candidates.length === 0) return yield* Effect.flatMap(current, (post) => Effect.fail(ifMatchFailed(slug, ifMatch, post, WEAK_ONLY)))
    if (fromBody !== undefined) {
      candidates = candidates.filter((condition) => condition.version === fromBody)
      if (candidates.length === 0) {
        return yield* new BadRequest({
          message: `version ${fromBody} in the body and ${conditions.map((condition) => condition.version).join(", ")} in If-Match disagree`
        })
      }
    }
    let chosen = candidates[0]!
    if (candidates.length > 1) {
      const post = yield* current
      const matching = candidates.find((condition) => isMatchedBy(condition, post))
      if (matching === undefined) return yield* ifMatchFailed(slug, ifMatch, post)
      chosen = matching
    }
    return { version: chosen.version, hashTag: chosen.hashTag, ifMatch }
  })

/** What create and update take: JSON fields, or markdown (`text/x-markdown` is its older name). */
export const POST_BODY_TYPES = ["application/json", "text/markdown", "text/x-markdown"] as const

/** A post body's media type, lowercased, without parameters. */
const mediaTypeOf = (contentType: string): string => (contentType.split(";")[0] ?? "").trim().toLowerCase()

/**
 * Why a Content-Type is refused, or `undefined` when it is one of POST_BODY_TYPES, with no
 * charset or UTF-8 (bodies are read as UTF-8 only). A missing Content-Type is refused too: the
 * platform would read the body as JSON, and a client that did not say what it sends is as likely
 * to send markdown.
 */
export const postBodyTypeProblem = (
  contentType: string | undefined,
  accepted: ReadonlyArray<string> = POST_BODY_TYPES
): string | undefined => {
  if (contentType === undefined || contentType.trim() === "") return "the request has no Content-Type"
  const mediaType = mediaTypeOf(contentType)
  if (!accepted.includes(mediaType)) return `Content-Type ${mediaType} is not accepted`
  for (const parameter of contentType.split(";").slice(1)) {
    const [name = "", value = ""] = parameter.split("=")
    if (name.trim().toLowerCase() !== "charset") continue
    const charset = value.trim().replace(/^"(.*)"$/, "$1").toLowerCase()
    if (charset !== "utf-8" && charset !== "utf8") return `charset ${charset} is not accepted (UTF-8 only)`
  }
  return undefined
}

/** The content codings a request's body is in, `identity` left out: none for a body as it is. */
export const contentCodingsOf = (contentEncoding: string | undefined): ReadonlyArray<string> =>
  contentEncoding === undefined
    ? []
    : contentEncoding.split(",").map((coding) => coding.trim().toLowerCase()).filter((coding) => coding !== "" && coding !== "identity")

/**
 * `answer`, unless the request's body is in a content coding (`Content-Encoding: gzip`): then
 * 415 UnsupportedMediaType naming it, with `Accept-Encoding: identity` (RFC 9110 §12.5.3,
 * §15.5.16: the codings a request may use), before the body is read. Bodies are read as sent:
 * a gzip JSON body was a 400 "not valid UTF-8 at byte offset 1", and a plain one labelled `br`
 * was taken. A response, not the typed error: the platform's error answers carry no headers.
 * `accepted` is the endpoint's media types, as its other 415 lists them. In the handlers, after
 * `ApiKeyAuth`: a caller without a valid key is 401 whatever it sends.
 */
const identityBodyOnly = (request: HttpServerRequest.HttpServerRequest, accepted: ReadonlyArray<string>) =>
<A, E, R>(answer: Effect.Effect<A, E, R>): Effect.Effect<A | HttpServerResponse.HttpServerResponse, E, R> => {
  const codings = contentCodingsOf(request.headers["content-encoding"])
  if (codings.length === 0) return answer
  const refusal = new UnsupportedMediaType({
    message: `Content-Encoding ${codings.join(", ")} is not accepted: send the body as it is, uncompressed (identity)`,
    accepted
  })
  return Effect.succeed(HttpServerResponse.setHeader(encodeJson(UnsupportedMediaType, refusal, 415), "accept-encoding", "identity"))
}

/**
 * A create or update body, read as its Content-Type says: JSON is post fields (decoded with
 * `fields`), markdown is text; any other type is 415, before the body is read.
 *
 * Here rather than in an endpoint middleware: the platform runs an endpoint's middleware outside
 * its group's, so the 415 answered callers without credentials before `ApiKeyAuth` could.
 * A handler runs after every middleware. Unreadable bodies (malformed JSON, not UTF-8, over
 * MAX_BODY_SIZE) die as they do in the platform's own payload reader, and the request logger
 * answers them 400 or 413.
 */
const readPostBody = <A, I>(
  request: HttpServerRequest.HttpServerRequest,
  fields: Schema.Schema<A, I>
): Effect.Effect<A | string, UnsupportedMediaType | HttpApiError.HttpApiDecodeError> => {
  const contentType = request.headers["content-type"]
  const problem = postBodyTypeProblem(contentType)
  if (problem !== undefined) {
    return Effect.fail(
      new UnsupportedMediaType({
        message: `${problem}: send application/json (post fields) or text/markdown, in UTF-8`,
        accepted: POST_BODY_TYPES
      })
    )
  }
  if (mediaTypeOf(contentType!) !== "application/json") return Effect.orDie(request.text)
  return readJsonFields(request, fields)
}

/** A create's and an update's JSON: their fields, or a post's JSON as GET answers it (`orPostJson`). */
const CreateFields = orPostJson(PostInputPayload, false)
const UpdateFields = orPostJson(UpdateInput, true)

/** How long `POST /posts/import-url` looks its URLs' hosts up before starting (see `refuse`). */
const DESTINATION_CHECK_DEADLINE = "5 seconds"

/**
 * `POST /posts/import-url`'s body: JSON only, checked as a post's (415 for another type or none,
 * unknown and repeated fields 400). Read here rather than by the platform, which took a form or
 * text body for fields it could not find (`url: missing` for a URL sent as a form field).
 */
const readImportUrlBody = (
  request: HttpServerRequest.HttpServerRequest
): Effect.Effect<typeof ImportUrlPayload.Type, UnsupportedMediaType | HttpApiError.HttpApiDecodeError> => {
  const problem = postBodyTypeProblem(request.headers["content-type"], JSON_ONLY)
  return problem === undefined
    ? readJsonFields(request, ImportUrlPayload, { expected: "import fields (`url`, `onConflict`, `dryRun`)", hint: "" })
    : Effect.fail(new UnsupportedMediaType({ message: `${problem}: send application/json, in UTF-8`, accepted: JSON_ONLY }))
}

const JSON_ONLY = ["application/json"] as const

/**
 * The bulk import's Content-Type, checked: any other type is a 415 before the body is read (a
 * JSON array or a markdown post was read as NDJSON, and answered 200 with a failure per line).
 * None is taken, as NDJSON: a client that streams a file may send no type. In the handler, after
 * `ApiKeyAuth`, as create's is (`readPostBody`).
 */
const ndjsonBody = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<void, UnsupportedMediaType> => {
  const contentType = request.headers["content-type"]
  if (contentType === undefined || contentType.trim() === "") return Effect.void
  const problem = postBodyTypeProblem(contentType, NDJSON_TYPES)
  if (problem === undefined) return Effect.void
  // What `curl --data-binary @posts.ndjson` sends unless told otherwise.
  const curl = mediaTypeOf(contentType) === "application/x-www-form-urlencoded"
    ? " (curl --data-binary sends this type unless told: add -H 'Content-Type: application/x-ndjson')"
    : ""
  return Effect.fail(new UnsupportedMediaType({
    message: `${problem}: send NDJSON, one JSON object per line, as application/x-ndjson, in UTF-8${curl}`,
    accepted: NDJSON_TYPES
  }))
}

/**
 * A JSON body's text and value, without one leading byte order mark (RFC 8259 §8.1 lets a parser
 * ignore it; some Windows tools write one): `JSON.parse` took it for the first token, a 400
 * quoting an invisible character, where a markdown body with one was taken. Empty is `null`, as
 * the platform's own `json` reads it. Malformed JSON dies as it does there (the request logger
 * answers 400 saying where).
 */
const readJson = (
  request: HttpServerRequest.HttpServerRequest
): Effect.Effect<{ readonly text: string; readonly body: unknown }> =>
  Effect.flatMap(Effect.orDie(request.text), (read) => {
    const text = read.charCodeAt(0) === 0xfeff ? read.slice(1) : read
    if (text === "") return Effect.succeed({ text, body: null })
    return Effect.try({
      try: () => ({ text, body: JSON.parse(text) as unknown }),
      catch: (cause) => new HttpServerError.RequestError({ request, reason: "Decode", cause })
    }).pipe(Effect.orDie)
  })

/** A JSON body that must be an object, decoded with `fields` (every bad field at once); a key twice is 400. */
const readJsonFields = <A, I>(
  request: HttpServerRequest.HttpServerRequest,
  fields: Schema.Schema<A, I>,
  what: { readonly expected: string; readonly hint: string } = POST_FIELDS
): Effect.Effect<A, HttpApiError.HttpApiDecodeError> =>
  Effect.flatMap(readJson(request), ({ body, text }) => {
    const kind = jsonKindOf(body)
    if (kind !== "an object") {
      // An empty body reads as `null`: say what was sent, not a `null` nobody wrote.
      return Effect.fail(notFields(what.expected, (body === null && text === "" ? "an empty body" : kind) + what.hint))
    }
    // A key sent twice was the last one silently.
    const duplicate = repeatedKeyOf(text, body)
    return duplicate === undefined
      // Every bad field at once, as an import's record is reported: one round trip tells all.
      // Not the platform's `refailParseError`: its formatter wrote out every bad value whole,
      // recursively (`issuesOf`).
      ? Effect.catchTag(Schema.decodeUnknown(fields, { errors: "all" })(body), "ParseError", (error) => Effect.fail(decodeError(issuesOf(error))))
      : Effect.fail(duplicateField(duplicate))
  })

const duplicateField = (path: ReadonlyArray<string | number>) =>
  decodeError([{ _tag: "Type", path: [...path], message: "this key is in the JSON body more than once; send each field once" }])

const jsonKindOf = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "an array" : typeof value === "object" ? "an object" : `a ${typeof value}`

/**
 * A JSON body that is not an object: a bare string is not markdown (that is `text/markdown`), and
 * the schema's own wording ("Expected PostInput (Encoded side)") would not say what to send.
 */
const notFields = (expected: string, kind: string) =>
  decodeError([{ _tag: "Type", path: [], message: `the request body: expected an object of ${expected}, got ${kind}` }])

/** What create and update expect of a JSON body, and where markdown goes instead. */
const POST_FIELDS = { expected: "post fields", hint: " (send markdown as text/markdown)" }

/**
 * A page is either where a `cursor` says or `offset` posts in, not both: the repository followed
 * the cursor and dropped the offset without a word, so the client got another page than it asked for.
 */
const cursorWithOffset = decodeError([{ _tag: "Type", path: ["offset"], message: "give either cursor (a page's `next`) or offset, not both" }])

/** Relevance has no key to resume after: a search pages by offset (its `nextOffset`). */
const cursorWithSearch = decodeError([{
  _tag: "Type",
  path: ["cursor"],
  message: "a search (q) pages by offset: pass its `nextOffset` as offset, not a cursor"
}])

/**
 * A search pages through its first MAX_SEARCH_RESULTS results only (see there): a deeper page is
 * refused, naming the limit, rather than answered empty as if the results had ended.
 */
const searchTooDeep = decodeError([{
  _tag: "Type",
  path: ["offset"],
  message: `a search (q) pages through its first ${MAX_SEARCH_RESULTS} results: offset must be below ${MAX_SEARCH_RESULTS} (add words to narrow the search)`
}])

/** A query's 400 for `issues`, when there are any. */
const queryRefused = (issues: HttpApiError.HttpApiDecodeError["issues"]): Effect.Effect<void, HttpApiError.HttpApiDecodeError> =>
  issues.length === 0 ? Effect.void : Effect.fail(decodeError(issues))

/**
 * A 400 naming each parameter of the query that does not percent-decode (`?tag=%ZZ`), for the
 * endpoints that read their query: the router reads such text as sent, and a tag `%ZZ` found an
 * empty page. When the schema refused a parameter too, `apiFailures` names them all at once.
 */
const wellEncodedQuery = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<void, HttpApiError.HttpApiDecodeError> =>
  queryRefused(queryEscapeIssues(request.url))

/**
 * A 400 naming each parameter of the query, for a list that takes none (`GET /tags`): ignored,
 * `?status=draft` or `?limit=5` answered every tag as if the list had been filtered, as `?Limit=5`
 * answered `GET /posts`' default page before its parameters were exact (`ListParams`).
 */
const noParameters = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<void, HttpApiError.HttpApiDecodeError> =>
  queryRefused(parameterlessQueryIssues(request.url))

/** What a long import waits on to stop early: the server's shutdown, when it runs under one. */
const serverStop = Effect.map(
  Effect.serviceOption(ServerStopping),
  Option.match({ onNone: () => undefined, onSome: (stopping) => Deferred.await(stopping) })
)

/** What the log says of a `POST /posts/import-url` whose client left. */
const FROM_URLS: LeftImport = {
  name: "an import from URLs",
  goesOn: "the import goes on to the end of its sources",
  ended: "the import went on to the end of its sources",
  end: "the end of its sources",
  unwritten: "the items it read after them"
}

/** Where an import that outlives its client runs: the server's fibers, else `fallback` (the handlers' own). */
const serverFibers = (fallback: FiberSet.FiberSet<unknown, unknown>) =>
  Effect.map(Effect.serviceOption(ServerFibers), Option.getOrElse(() => fallback))

/** `effect`, which for a dry run first says that it writes nothing: the response cache then keeps its entries. */
const writesNothingIf = (dryRun: boolean) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  dryRun ? Effect.zipRight(sayNothingWritten, effect) : effect

/** An `If-None-Match` with `*` in it matches any post there is: on a PUT, "create, never overwrite". */
const isCreateOnly = (ifNoneMatch: string): boolean => ifNoneMatch.split(",").some((entry) => entry.trim() === "*")

/** The URL of the post at `slug` beside the request's own (`/posts/<slug>`, under any prefix). */
const siblingUrl = (request: HttpServerRequest.HttpServerRequest, slug: string): string => {
  const here = requestPath(request)
  return `${here.slice(0, here.lastIndexOf("/"))}/${encodeURIComponent(slug)}`
}

/**
 * `PUT /posts/:slug` with `If-None-Match: *` (RFC 9110 §13.1.2: only if no current
 * representation exists): the post is created at the URL's slug, 201, or nothing is written
 * and the answer is 412. The insert is the check (`Posts.createAt`): two such PUTs cannot both
 * succeed. A version, an If-Match or another slug in the body contradict it: 400.
 */
const createOnly = <E, R>(
  posts: Posts,
  slug: string,
  content: string | PostInput,
  fromBody: number | undefined,
  ifMatch: string | undefined,
  /** Where the post will be read (`Location`). */
  location: string,
  current: Effect.Effect<Tagged, PostNotFound | E, R>
) => {
  if (fromBody !== undefined || ifMatch !== undefined) {
    return Effect.fail(new BadRequest({
      message: "If-None-Match: * creates the post only if there is none: send no `version` and no If-Match with it"
    }))
  }
  // In NFC, as the URL's slug is read (`SlugPath`) and the body's stored.
  if (typeof content !== "string" && content.slug !== undefined && content.slug.normalize("NFC") !== slug) {
    return Effect.fail(new BadRequest({
      message: `slug ${JSON.stringify(content.slug)} in the body is not the URL's ${JSON.stringify(slug)}: If-None-Match: * creates the post at its URL`
    }))
  }
  return posts.createAt(slug, content).pipe(
    Effect.map((post) => postResponse(post, 201, { location })),
    // Created meanwhile (the insert is the check): its ETag takes one more read, on this failure only.
    Effect.catchTag("SlugConflict", () =>
      Effect.flatMap(
        Effect.catchIf(current, (error): error is PostNotFound => error instanceof PostNotFound, () => Effect.succeed(undefined)),
        (post) => Effect.fail(createOnlyFailed(slug, post))
      ))
  )
}

/**
 * The 301 for a read at `slug`, which the post left for `movedTo`: `Location` is its URL beside
 * the request's, with the request's query as sent (the same request at the post's new address;
 * the endpoint reads no query, so it is the client's own, a cache-buster say, and it keeps it).
 * `no-cache`: without a freshness of its own a 301 is kept by browsers for good, and this one ends
 * when a post takes the slug again, the post moves on or becomes a draft. Setting Cache-Control,
 * it states the Vary (and `private` with credentials) the request pipeline gives reads that set none.
 */
const movedResponse = (request: HttpServerRequest.HttpServerRequest, slug: string, movedTo: string) => {
  const query = request.url.indexOf("?")
  const location = siblingUrl(request, movedTo) + (query === -1 ? "" : request.url.slice(query))
  return HttpServerResponse.unsafeJson(Schema.encodeSync(PostMoved)(new PostMoved({ slug, movedTo, location })), {
    status: 301,
    headers: { location, "cache-control": carriesCredentials(request.headers) ? "private, no-cache" : "no-cache", vary: CREDENTIAL_HEADERS }
  })
}

type InkwellApiType = typeof InkwellApi

/**
 * A list's ETag (a page of posts, a search's page, the tag counts): its JSON's bytes hashed (64
 * bits of SHA-1), so a poller sends it back as If-None-Match and gets 304 while the page is the
 * same, as for a post. `"l-…"`, never a post's `"v…"`: as an If-Match it names no post (400).
 */
export const listEtagOf = (body: Uint8Array): string => `${LIST_ETAG_START}${createHash("sha1").update(body).digest("hex").slice(0, 16)}"`

/** A list's answer from its JSON: 200 with its ETag, or 304 when `ifNoneMatch` names it. */
const listResponse = (body: Uint8Array, ifNoneMatch: string | undefined) => {
  const etag = listEtagOf(body)
  return matchesIfNoneMatch(ifNoneMatch, etag)
    ? HttpServerResponse.empty({ status: 304, headers: { etag } })
    : HttpServerResponse.uint8Array(body, { contentType: "application/json", headers: { etag } })
}

const utf8 = new TextEncoder()
const encodePage = Schema.encodeSync(PostPage)
const encodeTags = Schema.encodeSync(TagList)
/** The JSON the endpoint's schema gives `value` (as HttpApi would write it), as bytes. */
const jsonBytes = <A>(encode: (value: A) => unknown, value: A): Uint8Array => utf8.encode(JSON.stringify(encode(value)))

/** The answer to a GET of `post` (200 with its JSON, or 304), from its encoded form. */
const encodedResponse = (post: EncodedPost, ifNoneMatch: string | undefined) => {
  const etag = etagOf(post)
  return matchesIfNoneMatch(ifNoneMatch, etag)
    ? HttpServerResponse.empty({ status: 304, headers: { etag } })
    : HttpServerResponse.uint8Array(post.json, { contentType: "application/json", headers: { etag } })
}

const publicHandlers = (api: InkwellApiType) =>
  HttpApiBuilder.group(api, "posts", (handlers) =>
    Effect.gen(function* () {
      const posts = yield* Posts
      const keys = yield* ApiKeys
      const getDecoded = (slug: string, editor: boolean, ifNoneMatch: string | undefined) =>
        Effect.map(posts.get(slug, { includeDrafts: editor }), (post) => {
          const etag = etagOf(post)
          return matchesIfNoneMatch(ifNoneMatch, etag)
            ? HttpServerResponse.empty({ status: 304, headers: { etag } })
            : postResponse(post)
        })
      // The post's JSON as the repository encoded it, when it can (no decoding and re-encoding).
      const getEncoded = posts.getEncoded
      const get = getEncoded === undefined
        ? getDecoded
        : (slug: string, editor: boolean, ifNoneMatch: string | undefined) =>
          Effect.flatMap(getEncoded(slug, { includeDrafts: editor }), (encoded) =>
            encoded === undefined ? getDecoded(slug, editor, ifNoneMatch) : Effect.succeed(encodedResponse(encoded, ifNoneMatch)))
      /** A read's 404 at a slug a post left: 301 to it, when the caller may read it there (`Posts.movedFrom`). */
      const movedOrMissing = (notFound: PostNotFound, request: HttpServerRequest.HttpServerRequest, editor: boolean) =>
        Effect.flatMap(posts.movedFrom(notFound.slug, { includeDrafts: editor }), (moved) =>
          Option.isNone(moved)
            ? Effect.fail(notFound)
            : Effect.succeed(movedResponse(request, notFound.slug, moved.value.slug)))
      const listEncoded = posts.listEncoded
      return handlers
        .handle("list", ({ request, urlParams }) =>
          Effect.gen(function* () {
            yield* wellEncodedQuery(request)
            const editor = yield* isEditor(keys, request)
            if (!editor && urlParams.status === "draft") {
              return yield* new Unauthorized({ message: "listing drafts requires an API key" })
            }
            if (urlParams.cursor !== undefined && urlParams.offset !== undefined) return yield* cursorWithOffset
            const ifNoneMatch = request.headers["if-none-match"]
            const filters = {
              tag: urlParams.tag,
              status: editor ? urlParams.status : "published",
              // Readers see a scheduled post from its time on; a key sees it as it sees drafts.
              asOf: editor ? undefined : yield* DateTime.now,
              limit: Math.min(urlParams.limit ?? 20, MAX_PAGE_SIZE)
            }
            if (urlParams.q !== undefined) {
              if (urlParams.cursor !== undefined) return yield* cursorWithSearch
              const offset = urlParams.offset ?? 0
              if (offset >= MAX_SEARCH_RESULTS) return yield* searchTooDeep
              const found = yield* posts.search({ ...filters, text: urlParams.q, offset })
              const page = found.more
                ? { items: found.items, next: null, nextOffset: offset + found.items.length }
                : { items: found.items, next: null }
              return listResponse(jsonBytes(encodePage, page), ifNoneMatch)
            }
            const query = { ...filters, cursor: urlParams.cursor, offset: urlParams.offset }
            // The page's JSON as the repository built it, when it can (no row decoded, no body read).
            const encoded = listEncoded === undefined ? undefined : yield* listEncoded(query)
            return listResponse(encoded ?? jsonBytes(encodePage, yield* posts.list(query)), ifNoneMatch)
          }).pipe(
            // ListParams refused such a cursor already, with the same decoder (400 naming `cursor`).
            Effect.catchTag("InvalidCursor", Effect.die),
            databaseErrorsAsDefects
          )
        )
        // The hot read: no generator, one flatMap per step.
        .handle("get", ({ headers, path, request }) =>
          Effect.flatMap(isEditor(keys, request), (editor) =>
            Effect.catchTag(get(path.slug, editor, headers["if-none-match"]), "PostNotFound", (notFound) =>
              movedOrMissing(notFound, request, editor))).pipe(databaseErrorsAsDefects)
        )
        .handle("tags", ({ request }) =>
          Effect.gen(function* () {
            yield* noParameters(request)
            const editor = yield* isEditor(keys, request)
            const tags = yield* (editor ? posts.tags() : Effect.flatMap(DateTime.now, (now) => posts.tags("published", now)))
            return listResponse(jsonBytes(encodeTags, { tags }), request.headers["if-none-match"])
          }).pipe(databaseErrorsAsDefects)
        )
    })
  )

/**
 * What the import endpoints run on: what `Posts` writes with, and the server's `FeedClient`.
 * The repository must be the one `Posts` writes to, which `Posts` does not expose: it is taken
 * from the server's layers when present (App.AppLive provides `RepositoryLive` there for the
 * reader site). Without it the import endpoints answer 500 with this in the log, and every other
 * endpoint works as before. The processor is `Posts`' own, so an import renders as `POST /posts`
 * does (the host's settings, its RenderPool); the FeedClient is whichever the server was given
 * (App.AppLive: `FeedClient.Server`, guarded, from FEED_*).
 */
const importServices = Effect.gen(function* () {
  const repository = yield* Effect.serviceOption(PostRepository)
  const processor = (yield* Posts).processor
  const feeds = yield* FeedClient
  // IMPORT_* as for the CLI; a bad value fails the layer, at start-up (describeFailure names it).
  const options = yield* ImportConfig
  const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Option.match(repository, {
      onNone: () =>
        Effect.dieMessage(
          "the import endpoints need the PostRepository that Posts uses among the server's layers (App.AppLive provides RepositoryLive)"
        ),
      onSome: (repository) =>
        effect.pipe(
          Effect.provideService(PostRepository, repository),
          Effect.provideService(PostProcessor, processor),
          Effect.provideService(FeedClient, feeds)
        )
    }) as Effect.Effect<A, E, Exclude<R, PostRepository | PostProcessor | FeedClient>>
  return { options, provide, feeds } as const
})

/**
 * The URL of the post at `slug` that a write answers with (`Location`, `Content-Location`): where
 * the API's read group serves it, `readPath` (`GET /posts/:slug` under the group's prefix, which
 * may not be the write group's: `PostsAdminApi.prefix("/admin")` beside `PostsApi.prefix("/blog")`
 * answered `Location: /admin/posts/hello`, a 404). Beside the request's own URL for an API that
 * has no read group: a host that serves its posts elsewhere, where Inkwell cannot know. There a
write to `/…/posts/:slug` names its sibling; one to the collection, `/…/posts` (`collection`),
the post under it (the sibling of `/admin/posts` was `/admin/hello`).
 */
const postUrlFor = (readPath: string | undefined) =>
(request: HttpServerRequest.HttpServerRequest, slug: string, collection = false): string => {
  if (readPath !== undefined) return readPath.replace(":slug", encodeURIComponent(slug))
  if (!collection) return siblingUrl(request, slug)
  const here = requestPath(request)
  return `${here.endsWith("/") ? here.slice(0, -1) : here}/${encodeURIComponent(slug)}`
}

/** `GET /posts/:slug` of `api` as mounted (its group's prefix and the API's included), if `api` has the read group. */
const readPathOf = (api: HttpApi.HttpApi.Any): string | undefined =>
  (api as HttpApi.HttpApi.AnyWithProps).groups["posts"]?.endpoints["get"]?.path

const adminHandlers = (api: InkwellApiType, postUrl: ReturnType<typeof postUrlFor>) =>
  HttpApiBuilder.group(api, "postsAdmin", (handlers) =>
    Effect.gen(function* () {
      const posts = yield* Posts
      const imports = yield* importServices
      // Imports whose client left, under a server that does not own them: ended with these handlers.
      const ownFibers = yield* FiberSet.make<unknown, unknown>()
      const getEncoded = posts.getEncoded
      // A post's version and ETag, from its encoded read when the repository has one (no decoding).
      const tagged = (slug: string): Effect.Effect<Tagged, PostNotFound | RepositoryError> =>
        getEncoded === undefined
          ? posts.get(slug, { includeDrafts: true })
          : Effect.flatMap(getEncoded(slug, { includeDrafts: true }), (encoded): Effect.Effect<Tagged, PostNotFound | RepositoryError> =>
            encoded === undefined ? posts.get(slug, { includeDrafts: true }) : Effect.succeed(encoded))
      return handlers
        .handleRaw("create", ({ request }) =>
          Effect.gen(function* () {
            const post = yield* posts.create(yield* readPostBody(request, CreateFields))
            // Percent-encoded: a header carries bytes, and Node refuses a slug's non-Latin-1 characters in one.
            return postResponse(post, 201, { location: postUrl(request, post.slug, true) })
          }).pipe(databaseErrorsAsDefects, identityBodyOnly(request, POST_BODY_TYPES))
        )
        .handleRaw("update", ({ headers, path, request }) =>
          Effect.gen(function* () {
            const ifMatch = headers["if-match"]
            const ifNoneMatch = headers["if-none-match"]
            // The whole post: the write uses this read rather than reading it again (Posts.update `known`).
            const current = posts.get(path.slug, { includeDrafts: true })
            const { conditions, post: read } = yield* preconditionsBeforeBody(path.slug, ifMatch, ifNoneMatch, current)
            // What the checks below compare with: the post as just read, when it was.
            const known = read === undefined ? current : Effect.succeed(read)
            const payload = yield* readPostBody(request, UpdateFields)
            const fromBody = typeof payload === "string" ? undefined : payload.version
            let content: string | PostInput
            if (typeof payload === "string") {
              content = payload
            } else {
              const { version: _version, ...fields } = payload
              content = new PostInput(fields)
            }
            if (ifNoneMatch !== undefined && isCreateOnly(ifNoneMatch)) {
              return yield* createOnly(posts, path.slug, content, fromBody, ifMatch, postUrl(request, path.slug), current)
            }
            const expected = yield* expectedVersion(path.slug, fromBody, ifMatch, known, conditions)
            const version = expected.version
            let hashTag = expected.hashTag
            if (version === undefined) {
              return yield* new VersionRequired({
                message: "send the version you are replacing, as `version` in the body or as If-Match (the post's ETag)" +
                  (ifMatch === undefined ? "" : "; If-Match: * names no version") +
                  ", or If-None-Match: * to create the post only if there is none"
              })
            }
            // If-None-Match and If-Match were checked against `read` before the body; Posts.update
            // compares the body's version with it. The write replaces the post If-None-Match was
            // compared with, or none: the repository checks its content hash (its ETag) too, in
            // the same transaction as the write.
            if (ifNoneMatch !== undefined && read !== undefined) hashTag = hashTagOf(read)
            const write = posts.update(path.slug, version, content, hashTag, read)
            const post = yield* (expected.ifMatch !== undefined ? ifMatchPrecondition(path.slug, expected.ifMatch, current)(write) : write)
            // Renamed: the request's URL now answers a 301 to it; Content-Location says where the post is.
            if (post.slug === path.slug) return postResponse(post)
            return postResponse(post, 200, { "content-location": postUrl(request, post.slug) })
          }).pipe(databaseErrorsAsDefects, identityBodyOnly(request, POST_BODY_TYPES))
        )
        .handle("delete", ({ headers, path }) =>
          Effect.gen(function* () {
            const ifMatch = headers["if-match"]
            const current = tagged(path.slug)
            const expected = yield* expectedVersion(path.slug, undefined, ifMatch, current)
            // A DELETE has no body: whatever version it expects is If-Match's (none: no StaleVersion).
            // Without an If-Match version no StaleVersion can come; the wrapper still takes it out of the type.
            yield* posts.remove(path.slug, expected.version, expected.hashTag).pipe(
              ifMatchPrecondition(path.slug, ifMatch ?? "*", current)
            )
          }).pipe(databaseErrorsAsDefects)
        )
        // The body is pulled as the pipeline's queues drain: an upload never sits in memory whole.
        // Never fails: every bad line is in the summary as `request:<line>`.
        // A shutdown stops it early: it answers what it stored rather than being cut off.
        .handle("import", ({ request, urlParams }) =>
          Effect.flatMap(Effect.zipRight(Effect.zip(ndjsonBody(request), wellEncodedQuery(request)), Effect.zip(serverStop, serverFibers(ownFibers))), ([stop, fibers]) =>
            imports.provide(
              importNdjson(uploadStream(request), {
                fibers,
                ...imports.options,
                // IMPORT_ON_CONFLICT unless the request says; a conflict's reason names the parameter.
                onConflict: urlParams.onConflict ?? imports.options.onConflict,
                onConflictNamed: (policy) => `?onConflict=${policy}`,
                dryRun: urlParams.dryRun === true,
                stop
              })
            )).pipe(writesNothingIf(urlParams.dryRun === true), identityBodyOnly(request, NDJSON_TYPES))
        )
        // Never fails either: an unreachable URL or a document that is no feed is one failure, named by its URL.
        // A shutdown stops it like a bulk import, and it outlives its client like one.
        // Raw: the body is read as create's is (readImportUrlBody), after ApiKeyAuth.
        .handleRaw("importUrl", ({ request }) =>
          Effect.flatMap(readImportUrlBody(request), (payload) => {
            const urls = typeof payload.url === "string" ? [payload.url] : payload.url
            // A URL that can never be fetched is a mistake in the request (the CLI exits 2 on it),
            // answered before any URL is fetched; one that fails when fetched is in the summary.
            const malformed = urls.flatMap((url) => Either.match(parseHttpUrl(url), { onLeft: (invalid) => [invalid], onRight: () => [] }))
            if (malformed.length > 0) {
              return Effect.fail<BadRequest | UrlRefused>(new BadRequest({ message: malformed.map((invalid) => `url ${JSON.stringify(invalid.url)}: ${invalid.reason}`).join("; ") }))
            }
            // Refused before anything is imported: a URL on the server's own network (as it
            // resolves now). A redirect there, or a name that resolves there only later, is
            // refused by the client when it connects: that URL's failure in the summary.
            // Looked up a few at a time, within a deadline: a name that resolves slowly is still
            // checked when the client connects, so running out of time here lets the import go on.
            const refuse = Effect.forEach(urls, (url) => imports.feeds.checkDestination(url), { discard: true, concurrency: 8 }).pipe(
              Effect.timeoutOption(DESTINATION_CHECK_DEADLINE),
              Effect.catchTags({
                DestinationRefused: (refused) => Effect.fail(new UrlRefused({ message: refused.message, url: refused.url })),
                // parseHttpUrl accepted every URL above.
                InvalidUrl: Effect.die
              })
            )
            // Past the checks it goes on when its client leaves, as a bulk import does (`outlivingClient`):
            // the server interrupted it wherever it was, and the log said only 499.
            return Effect.zipRight(refuse, Effect.flatMap(Effect.zip(serverStop, serverFibers(ownFibers)), ([stop, fibers]) =>
              outlivingClient(
                imports.provide(
                  importFromUrls(urls, {
                    ...imports.options,
                    onConflict: payload.onConflict ?? imports.options.onConflict,
                    onConflictNamed: (policy) => `"onConflict": "${policy}"`,
                    dryRun: payload.dryRun === true
                  }, { stop })
                ),
                fibers,
                FROM_URLS
              ))).pipe(writesNothingIf(payload.dryRun === true))
          }).pipe(identityBodyOnly(request, JSON_ONLY)))
    })
  )

/** The posts groups, by the names `PostsApi` and `PostsAdminApi` have in an API. */
export type PostsGroupName = "posts" | "postsAdmin"

/**
 * What the handlers of `Groups` need: `Posts` and the keys, and the `FeedClient` that
 * `POST /posts/import-url` fetches with when `PostsAdminApi` is among them.
 */
export type HandlersContext<Groups extends HttpApiGroup.HttpApiGroup.Any> =
  | Posts
  | ApiKeys
  | ApiKeyAuth
  | ("postsAdmin" extends HttpApiGroup.HttpApiGroup.Name<Groups> ? FeedClient : never)

/**
 * The handlers of the posts groups `api` has: `InkwellApi`, or an embedding app's own `HttpApi`
 * that added `PostsApi`, `PostsAdminApi` or both (possibly under prefixes). A group the API does
 * not have gets none: built anyway, it failed the host's layer at start-up (`Cannot read
 * properties of undefined (reading 'endpoints')`), so a read-only mirror (`PostsApi` alone)
 * could not start.
 */
export const layerFor = <Id extends string, Groups extends HttpApiGroup.HttpApiGroup.Any, E, R>(
  api: HttpApi.HttpApi<Id, Groups, E, R>
): Layer.Layer<
  HttpApiGroup.HttpApiGroup.ToService<Id, HttpApiGroup.HttpApiGroup.WithName<Groups, PostsGroupName>>,
  ConfigError.ConfigError,
  HandlersContext<Groups>
> => {
  // The builder reads the groups from `api` at run time (prefixes included); the casts only
  // re-label the layers with the embedding API's id.
  const inkwell = api as unknown as InkwellApiType
  type Needs = Posts | ApiKeys | ApiKeyAuth | FeedClient
  const readers: Layer.Layer<never, ConfigError.ConfigError, Needs> = "posts" in api.groups ? publicHandlers(inkwell) : Layer.empty
  const writers: Layer.Layer<never, ConfigError.ConfigError, Needs> = "postsAdmin" in api.groups
    ? adminHandlers(inkwell, postUrlFor(readPathOf(api)))
    : Layer.empty
  return Layer.merge(readers, writers) as never
}

/** The posts handlers for `InkwellApi`. */
export const layer = layerFor(InkwellApi)
