/**
 * Errors only the HTTP edge produces. Domain errors (PostNotFound, SlugConflict, ...) carry
 * their statuses in src/Domain/Errors.ts; these complete the set so every answer is typed.
 */
import { HttpApiError, HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { plainIssues } from "../Domain/decodeIssues.js"
import type { WithoutMessage } from "../Domain/Errors.js"

/** Missing or wrong API key, or writes disabled because no key is configured. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 401 })
) {}

/** A write without the version it expects to replace (body `version` or `If-Match`). */
export class VersionRequired extends Schema.TaggedError<VersionRequired>()(
  "VersionRequired",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 428 })
) {}

/** The request body is larger than MAX_BODY_SIZE. */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()(
  "PayloadTooLarge",
  { message: Schema.String, limit: Schema.Int },
  HttpApiSchema.annotations({ status: 413 })
) {}

/** The request ran longer than REQUEST_TIMEOUT; its handler was interrupted. */
export class RequestTimedOut extends Schema.TaggedError<RequestTimedOut>()(
  "RequestTimedOut",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {}

/** `/ready` when the database does not answer through the pool: `message` says why (`notReadyMessage`). */
export class NotReady extends Schema.TaggedError<NotReady>()(
  "NotReady",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {}

/**
 * The database cannot be reached (connection refused or reset, too many connections, the server
 * shutting down or refusing connections, no connection within the driver's connect timeout), or
 * is too busy to do it in time (a lock held past the statement timeout, a conflict with another
 * transaction that outlived its retries): worth retrying, as `PoolTimeout` is
 * (src/Database/Transient.ts tells them). The driver's reason goes to the log only. A statement
 * the database refused stays a 500.
 */
export class DatabaseUnavailable extends Schema.TaggedError<DatabaseUnavailable>()(
  "DatabaseUnavailable",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {}

/**
 * Anything unexpected (a database failure, a defect). The cause goes to the log under the
 * request id; the client gets only the id to quote.
 */
export class InternalServerError extends Schema.TaggedError<InternalServerError>()(
  "InternalServerError",
  { message: Schema.String, requestId: Schema.String },
  HttpApiSchema.annotations({ status: 500 })
) {}

/**
 * `POST /posts/import-url` named a URL the server does not fetch from: its host is, or resolves
 * to, an address of the server's own network (the feed client's `DestinationRefused`, whose
 * message this is). Nothing was imported.
 */
export class UrlRefused extends Schema.TaggedError<UrlRefused>()(
  "UrlRefused",
  { message: Schema.String, url: Schema.String },
  HttpApiSchema.annotations({ status: 422 })
) {}

/** The body is not what its Content-Type says (malformed JSON, bad encoding). */
export class BadRequest extends Schema.TaggedError<BadRequest>()(
  "BadRequest",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 400 })
) {}

/**
 * A post's body in a type the endpoint does not take. Only JSON fields (`application/json`) and
 * markdown (`text/markdown`, `text/x-markdown`) are, in UTF-8: anything else used to be read as
 * markdown, so JSON sent as `text/plain` (browser `fetch`'s default for a string) became a post
 * with an empty body and the JSON in its metadata.
 */
export class UnsupportedMediaType extends Schema.TaggedError<UnsupportedMediaType>()(
  "UnsupportedMediaType",
  { message: Schema.String, accepted: Schema.Array(Schema.String) },
  HttpApiSchema.annotations({ status: 415 })
) {}

/**
 * A method the path does not take (`DELETE /posts`); `Allow` lists those it does. A path no
 * endpoint serves stays 404 `RouteNotFound`.
 */
export class MethodNotAllowed extends Schema.TaggedError<MethodNotAllowed>()(
  "MethodNotAllowed",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 405 })
) {}

/**
 * A path no endpoint serves (nor `/openapi.json` or `/docs`): the request pipeline's answer
 * (`failureResponse`), to any method. Declared so the OpenAPI document can show it
 * (`PipelineDocument`); the platform's own `HttpServerError.RouteNotFound` is the failure it answers.
 */
export class RouteNotFound extends Schema.TaggedError<RouteNotFound>()(
  "RouteNotFound",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

/**
 * A conditional write whose precondition header does not hold (RFC 9110 §13.1): an `If-Match`
 * the post is not (another version or content, or only weak tags, which never match a write),
 * `If-None-Match: *` on a post that exists (create-only), or an `If-None-Match` tag that is the
 * post's ETag. Nothing was written. A stale body `version` is `StaleVersion` (409) instead: it is
 * part of the request's content, not a precondition.
 */
export class PreconditionFailed extends Schema.TaggedError<PreconditionFailed>()(
  "PreconditionFailed",
  {
    message: Schema.String,
    slug: Schema.String,
    /** The post's ETag when the precondition was checked, when there is a post to have one. */
    etag: Schema.optional(Schema.String)
  },
  HttpApiSchema.annotations({ status: 412 })
) {}

/**
 * `GET /posts/:slug` at a slug a post left (renamed, or its title changed on re-import), as
 * GitHub's API answers a renamed repository: 301 with `Location`, its body saying the same for a
 * client that reads bodies only (the typed client decodes it as this error when its HTTP client
 * does not follow redirects). An error, not a success, so `get` still succeeds with a post only.
 */
export class PostMoved extends Schema.TaggedError<PostMoved>()(
  "PostMoved",
  {
    /** The slug asked for, which the post left. */
    slug: Schema.String,
    /** The post's slug now. */
    movedTo: Schema.String,
    /** Its URL, as the `Location` header gives it. */
    location: Schema.String,
    message: Schema.String
  },
  HttpApiSchema.annotations({ status: 301 })
) {
  constructor(
    props: WithoutMessage<{ readonly slug: string; readonly movedTo: string; readonly location: string; readonly message: string }>,
    options?: Schema.MakeOptions
  ) {
    super({
      ...props,
      message: props.message ??
        `post ${JSON.stringify(props.slug)} moved to ${JSON.stringify(props.movedTo)}: read it at ${props.location}`
    }, options)
  }
}

/**
 * A 400 for bad input with the given issues, its `message` one line made of them
 * (`limit: expected ..., got "abc"`). The platform's own message draws the whole schema as a
 * tree; each issue already names its field, and says what is wrong with it. `isParameter`: which
 * unknown names are the query's (`plainIssues`).
 */
export const decodeError = (
  given: HttpApiError.HttpApiDecodeError["issues"],
  isParameter?: (name: PropertyKey) => boolean
): HttpApiError.HttpApiDecodeError => {
  const issues = plainIssues(given, isParameter)
  return new HttpApiError.HttpApiDecodeError({
    issues,
    message: issues.map((issue) => (issue.path.length === 0 ? issue.message : `${issue.path.map(String).join(".")}: ${issue.message}`)).join("; ")
  })
}
