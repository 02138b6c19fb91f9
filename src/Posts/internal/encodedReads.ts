/**
 * A read-path capability a repository may offer besides the `PostRepository` contract: a post
 * as the exact bytes of its JSON (`JSON.stringify(encodePost(post))`), with what the HTTP
 * handler needs beside them (status for the draft rule, version and content hash for the ETag).
 *
 * Why: on `GET /posts/:slug` with the response cache off, decoding the row into a `Post`,
 * encoding it back and serializing it (rowToPost, encodePost, JSON.stringify, TextEncoder) cost
 * ~45 µs per read in JavaScript; SQLite's `json_object` builds the same bytes in C in ~16 µs,
 * including the read. The SQL repository on SQLite offers it (`SqlPostRepository`); `Posts`
 * passes it on as `getEncoded` (with its draft rule), which the handler uses when present.
 *
 * Kept off the contract on purpose (additive, optional): a repository that does not offer it,
 * or a wrapper that does not pass it on, simply leaves `Posts` without `getEncoded`. The
 * capability travels as a symbol-keyed property, which object spread (`{ ...repository }`, as
 * AnnouncingPostRepository wraps reads) carries along.
 */
import type { Effect } from "effect"
import type { DatabaseError, InvalidCursor, PoolTimeout, PostNotFound } from "../../Domain/Errors.js"
import type { PostStatus } from "../../Domain/Post.js"
import type { ListQuery, PostRepositoryShape } from "../PostRepository.js"

export interface EncodedPost {
  /** `JSON.stringify(encodePost(post))`, UTF-8. */
  readonly json: Uint8Array
  /** The post's id, for its ETag (`hashTagOf`). */
  readonly id: string
  readonly status: PostStatus
  readonly version: number
  readonly contentHash: string
  /** The listing time (publishedAt, else createdAt) in epoch milliseconds: a scheduled post's is later than now. */
  readonly listedAt: number
}

/**
 * The post at `slug`, encoded; `undefined` when this row cannot be encoded this way (a value out
 * of the fast path's range): the caller then reads it through `getBySlug`, which decodes it
 * fully and reports a malformed row.
 */
export type GetEncoded = (slug: string) => Effect.Effect<EncodedPost | undefined, PostNotFound | DatabaseError | PoolTimeout>

const GetEncodedKey: unique symbol = Symbol.for("inkwell/Posts/getEncodedBySlug")

/** `repository` (the same object) offering `getEncoded`. */
export const withGetEncoded = <R extends PostRepositoryShape>(repository: R, getEncoded: GetEncoded): R =>
  Object.assign(repository, { [GetEncodedKey]: getEncoded })

/** What `repository` offers, if anything. */
export const getEncodedOf = (repository: PostRepositoryShape): GetEncoded | undefined =>
  (repository as { readonly [GetEncodedKey]?: GetEncoded })[GetEncodedKey]

/**
 * A page of `list` as the exact bytes of the API's answer (`JSON.stringify` of the `PostPage`
 * schema's encoding: summaries, without body or html); `undefined` when a row on it cannot be
 * encoded this way: the caller then lists through `list`.
 *
 * Why: the general path reads whole rows (body and html are most of a row's bytes), decodes them
 * into Posts and encodes the summaries back: ~1.2 ms for a page of 20 here, where SQLite builds
 * the summaries' JSON from the few columns they need.
 */
export type ListEncoded = (query: ListQuery) => Effect.Effect<Uint8Array | undefined, InvalidCursor | DatabaseError | PoolTimeout>

const ListEncodedKey: unique symbol = Symbol.for("inkwell/Posts/listEncoded")

/** `repository` (the same object) offering `listEncoded`. */
export const withListEncoded = <R extends PostRepositoryShape>(repository: R, listEncoded: ListEncoded): R =>
  Object.assign(repository, { [ListEncodedKey]: listEncoded })

/** What `repository` offers, if anything. */
export const listEncodedOf = (repository: PostRepositoryShape): ListEncoded | undefined =>
  (repository as { readonly [ListEncodedKey]?: ListEncoded })[ListEncodedKey]
