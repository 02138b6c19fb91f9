/**
 * Errors a user can act on. Each one names the thing at fault.
 * HTTP statuses are annotated here so that every API that declares them answers alike.
 */
// By subpath: the package index would load every platform module into each process and render thread.
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Schema } from "effect"

export class PostNotFound extends Schema.TaggedError<PostNotFound>()(
  "PostNotFound",
  { slug: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {
  get message() {
    return `no post with slug "${this.slug}"`
  }
}

export class SlugConflict extends Schema.TaggedError<SlugConflict>()(
  "SlugConflict",
  { slug: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {
  get message() {
    return `a post with slug "${this.slug}" already exists`
  }
}

export class StaleVersion extends Schema.TaggedError<StaleVersion>()(
  "StaleVersion",
  { slug: Schema.String, expected: Schema.Int, actual: Schema.Int },
  HttpApiSchema.annotations({ status: 409 })
) {
  get message() {
    // Equal versions: the ETag sent was another post's at this slug (deleted and re-created).
    return this.expected === this.actual
      ? `post "${this.slug}" is not the one your ETag names (it was replaced, now at version ${this.actual}): reload and retry`
      : `post "${this.slug}" is at version ${this.actual}, not ${this.expected}: reload and retry`
  }
}

export class InvalidPost extends Schema.TaggedError<InvalidPost>()(
  "InvalidPost",
  {
    /** File path, URL, "api", with ":line" when known. */
    source: Schema.String,
    /** Field path at fault, e.g. "title", "frontMatter", "publishedAt". */
    field: Schema.String,
    reason: Schema.String
  },
  HttpApiSchema.annotations({ status: 400 })
) {
  get message() {
    return `${this.source}: ${this.field}: ${this.reason}`
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
  get message() {
    return `cursor ${JSON.stringify(this.cursor)} is not one a page's \`next\` gave`
  }
}

/** A database operation failed. `cause` is for logs; it never crosses the wire. */
export class DatabaseError extends Schema.TaggedError<DatabaseError>()("DatabaseError", {
  operation: Schema.String,
  cause: Schema.Defect
}) {
  get message() {
    return `database operation "${this.operation}" failed`
  }
}

export class PoolTimeout extends Schema.TaggedError<PoolTimeout>()(
  "PoolTimeout",
  { waitedMs: Schema.Number, maxConnections: Schema.Int },
  HttpApiSchema.annotations({ status: 503 })
) {
  get message() {
    return `no database connection free after ${this.waitedMs} ms (max ${this.maxConnections})`
  }
}

/** Every failure a repository call can end in. */
export type RepositoryError = DatabaseError | PoolTimeout
