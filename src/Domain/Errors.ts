/**
 * Errors a user can act on. Each one names the thing at fault.
 * HTTP statuses are annotated here so that every API that declares them answers alike.
 */
// By subpath: the package index would load every platform module into each process and render thread.
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Schema } from "effect"

/**
 * The fields of an error that crosses the wire, without its `message`: the constructors take
 * these and write the message themselves (a caller may still pass one, as a decoded body does).
 */
export type WithoutMessage<Props> = Omit<Props, "message"> & { readonly message?: string }

/**
 * `message` is a declared field, not a getter, so that it is in the JSON body, the OpenAPI
 * document and what a typed client decodes: a client that only shows `message` has words to show.
 */
export class PostNotFound extends Schema.TaggedError<PostNotFound>()(
  "PostNotFound",
  { slug: Schema.String, message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {
  constructor(props: WithoutMessage<{ readonly slug: string; readonly message: string }>, options?: Schema.MakeOptions) {
    super({ ...props, message: props.message ?? `no post with slug ${JSON.stringify(props.slug)}` }, options)
  }
}

export class SlugConflict extends Schema.TaggedError<SlugConflict>()(
  "SlugConflict",
  { slug: Schema.String, message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {
  constructor(props: WithoutMessage<{ readonly slug: string; readonly message: string }>, options?: Schema.MakeOptions) {
    super({ ...props, message: props.message ?? `a post with slug ${JSON.stringify(props.slug)} already exists` }, options)
  }
}

/** Equal versions: the ETag sent was another post's at this slug (deleted and re-created). */
const staleMessage = (slug: string, expected: number, actual: number): string =>
  expected === actual
    ? `post ${JSON.stringify(slug)} is not the one your ETag names (it was replaced, now at version ${actual}): reload and retry`
    : `post ${JSON.stringify(slug)} is at version ${actual}, not ${expected}: reload and retry`

export class StaleVersion extends Schema.TaggedError<StaleVersion>()(
  "StaleVersion",
  { slug: Schema.String, expected: Schema.Int, actual: Schema.Int, message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {
  constructor(
    props: WithoutMessage<{ readonly slug: string; readonly expected: number; readonly actual: number; readonly message: string }>,
    options?: Schema.MakeOptions
  ) {
    super({ ...props, message: props.message ?? staleMessage(props.slug, props.expected, props.actual) }, options)
  }
}

export class InvalidPost extends Schema.TaggedError<InvalidPost>()(
  "InvalidPost",
  {
    /** File path, URL, "api", with ":line" when known. */
    source: Schema.String,
    /**
     * Field path at fault as the author wrote it: a field ("title", "publishedAt"), a front matter
     * key ("lastmod", "categories", "taxonomies.tags", not the post field it feeds), "frontMatter".
     */
    field: Schema.String,
    reason: Schema.String,
    message: Schema.String
  },
  HttpApiSchema.annotations({ status: 400 })
) {
  constructor(
    props: WithoutMessage<{ readonly source: string; readonly field: string; readonly reason: string; readonly message: string }>,
    options?: Schema.MakeOptions
  ) {
    super({ ...props, message: props.message ?? `${props.source}: ${props.field}: ${props.reason}` }, options)
  }
}

/**
 * A list `cursor` that no page's `next` produced (mistyped, truncated, from another API). It
 * cannot be resumed, and an empty page would read as the end of the list. The HTTP API refuses
 * such a cursor when it decodes the query (400 HttpApiDecodeError naming `cursor`).
 */
export class InvalidCursor extends Schema.TaggedError<InvalidCursor>()(
  "InvalidCursor",
  { cursor: Schema.String },
  HttpApiSchema.annotations({ status: 400 })
) {
  override get message() {
    return `cursor ${JSON.stringify(this.cursor)} is not one a page's \`next\` gave`
  }
}

/** A database operation failed. `cause` is for logs; it never crosses the wire. */
export class DatabaseError extends Schema.TaggedError<DatabaseError>()("DatabaseError", {
  operation: Schema.String,
  cause: Schema.Defect
}) {
  override get message() {
    return `database operation "${this.operation}" failed`
  }
}

export class PoolTimeout extends Schema.TaggedError<PoolTimeout>()(
  "PoolTimeout",
  { waitedMs: Schema.Number, maxConnections: Schema.Int, message: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {
  constructor(
    props: WithoutMessage<{ readonly waitedMs: number; readonly maxConnections: number; readonly message: string }>,
    options?: Schema.MakeOptions
  ) {
    super({
      ...props,
      message: props.message ?? `no database connection free after ${props.waitedMs} ms (max ${props.maxConnections})`
    }, options)
  }
}

/** Every failure a repository call can end in. */
export type RepositoryError = DatabaseError | PoolTimeout
